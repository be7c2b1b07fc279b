/* SPDX-License-Identifier: Apache-2.0 */
/* Command-line flags: a table per command, `--flag value` and
 * `--flag=value` forms, positional arguments collected in order. */
#ifndef SDC_CLI_OPTS_H
#define SDC_CLI_OPTS_H

#include <sdconnect/resolver.h>

#include <stdbool.h>
#include <stddef.h>

#define MAX_REPEAT 32

struct flag {
  const char *name;   /* without the dashes */
  const char **value; /* takes a value when non-NULL */
  bool *set;          /* a switch when value is NULL */
  const char *help;   /* "VALUE  what it does" for --help */
  bool hidden;        /* an alias, accepted but not listed */
  char short_name;    /* -X alias, or 0 */
  const char **list;  /* repeatable: values collected here (MAX_REPEAT) */
  size_t *n_list;
};

#define MAX_POSITIONAL 8

struct parsed {
  const char *pos[MAX_POSITIONAL];
  size_t n_pos;
  bool help;
};

/* Parse argv[first..] against the NULL-terminated tables (in order).
 * Returns 0, or 2 after printing a usage error naming `cmd`. */
int opts_parse(const char *cmd, int argc, char **argv, int first,
               const struct flag *const *tables, struct parsed *out);

/* Print the flags of the tables as a help block (each name once: a flag
 * an earlier table shadows, or a hidden alias, is not listed), then the
 * exit-status table with what 3 means for the command. */
void opts_help(const struct flag *const *tables, const char *what_3_means);

/* Flags every Service Directory command takes, with their environment
 * fallbacks (SDCONNECT_SD_ENDPOINT, SDCONNECT_SD_INSECURE, SDCONNECT_SD_CA,
 * SDCONNECT_SD_CERT, SDCONNECT_SD_KEY, SDCONNECT_SD_TOKEN_FILE,
 * SDCONNECT_SD_TIMEOUT, SDCONNECT_SD_CREDENTIALS). */
struct dir_flags {
  const char *endpoint, *ca, *cert, *key, *token_file, *timeout, *credentials;
  bool insecure, json;
};

extern const struct flag *dir_flag_table(struct dir_flags *f);

/* Build a resolver from the flags. Returns 0, or the exit code after
 * printing what is wrong and how to fix it. */
int cli_resolver_new(struct dir_flags *f, const char *cmd, sdc_resolver **out);

/* Read a whole file of at most `max` bytes (NUL-terminated; *len may be
 * NULL). NULL after printing what went wrong, naming `what` and the path. */
char *cli_read_file(const char *cmd, const char *what, const char *path,
                    size_t max, size_t *len);

/* Numbers: svc_parse_uint(), svc_parse_port(), svc_parse_duration_ms(). */
#include "exit.h"
#include "num.h"

#endif
