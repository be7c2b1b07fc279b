/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal header of the config module: YAML (JSON is YAML) read into a
 * tree whose every node knows its line and column, and typed getters that
 * report each problem as
 *
 *   FILE:LINE:COL: PATH: what is wrong (expected ...)
 *
 * with "did you mean" for misspelt keys. Decoders of Google resources
 * (uptime checks, webhooks) and of sdconnect's own files use it; a decoder
 * reads the fields it knows with sdc__cfg_field() and then calls
 * sdc__cfg_unknown() to report the rest. Every problem is collected, not
 * just the first, so one run shows the whole list.
 */
#ifndef SDC_CONFIG_H
#define SDC_CONFIG_H

#include <sdconnect/common.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SDC_CFG_MAX_FILE (4u << 20) /* bytes */
#define SDC_CFG_MAX_NODES 200000    /* after aliases are expanded */
#define SDC_CFG_MAX_DEPTH 64
#define SDC_CFG_MAX_ERRORS 50       /* kept; the rest are counted */

enum sdc__cfg_kind { SDC_CFG_SCALAR, SDC_CFG_MAP, SDC_CFG_SEQ };

struct sdc__cfg_node {
  enum sdc__cfg_kind kind;
  unsigned line, col;          /* 1-based, where the node starts */
  char *str;                   /* scalar text (NUL-terminated) */
  size_t len;
  bool plain;                  /* an unquoted scalar: may be a number, bool, null */
  size_t n;                    /* sequence items, or map pairs */
  struct sdc__cfg_node **kids; /* items; for a map key i at 2i, value at 2i+1 */
  bool *seen;                  /* map: pair i was read by a getter */
};

struct sdc__cfg {
  char *file;                  /* as shown in messages */
  struct sdc__cfg_node **docs; /* one per YAML document of the stream */
  size_t n_docs;
  char **errs;
  size_t n_errs, n_dropped;
  size_t nodes;                /* budget used */
  bool oom;                    /* an allocation failed: SDC_ENOMEM, not the file's fault */
};

/* Read a file / a buffer (named `name` in messages). SDC_OK: *out holds the
 * documents. SDC_ECONFIG: *out holds the syntax error(s) and no documents.
 * SDC_EIO (file unreadable; *err says why), SDC_ETOOBIG, SDC_ENOMEM: *out
 * untouched. */
SDC_WARN_UNUSED sdc_status sdc__cfg_load_file(const char *path,
                                              struct sdc__cfg **out,
                                              char *err, size_t errcap);
SDC_WARN_UNUSED sdc_status sdc__cfg_load_mem(const char *name, const void *data,
                                             size_t len, struct sdc__cfg **out);
void sdc__cfg_free(struct sdc__cfg *c);

/* Record a problem at `at` (NULL: the file itself) under `path`. */
void sdc__cfg_error(struct sdc__cfg *c, const struct sdc__cfg_node *at,
                    const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* An allocation failed while reading `at`: recorded, and the load ends
 * with SDC_ENOMEM rather than SDC_ECONFIG. */
void sdc__cfg_oom(struct sdc__cfg *c, const struct sdc__cfg_node *at, const char *path);
/* The same at an explicit line and column (0: none). */
void sdc__cfg_error_lc(struct sdc__cfg *c, unsigned line, unsigned col,
                       const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* All problems, one per line ("" when none), malloc'd (sdc_free). */
char *sdc__cfg_errors_text(const struct sdc__cfg *c);

/* `parent.key` or `parent[i]` into `out` (a path for messages). */
void sdc__cfg_path(char *out, size_t cap, const char *parent, const char *key);
void sdc__cfg_path_index(char *out, size_t cap, const char *parent, size_t i);

/* A null value: `null`, `~` or nothing at all. */
bool sdc__cfg_is_null(const struct sdc__cfg_node *n);

/* The value of `key` in `map` (NULL when absent), marking it read. The
 * proto field name is accepted too (`use_ssl` for `useSsl`), as proto3
 * JSON parsers do. */
const struct sdc__cfg_node *sdc__cfg_field(const struct sdc__cfg_node *map,
                                           const char *json_name);
/* Report every key of `map` no getter read, suggesting the nearest of
 * `known` (NULL-terminated), and keys given twice. */
void sdc__cfg_unknown(struct sdc__cfg *c, const struct sdc__cfg_node *map,
                      const char *path, const char *const *known);
/* The known name nearest to `word` (a likely misspelling), or NULL. */
const char *sdc__cfg_suggest(const char *word, const char *const *known);

/* Typed getters: false (and the problem recorded) when `n` is not of the
 * type. Out-params are written on success only. */
bool sdc__cfg_want(struct sdc__cfg *c, const struct sdc__cfg_node *n,
                   const char *path, enum sdc__cfg_kind kind);
bool sdc__cfg_str(struct sdc__cfg *c, const struct sdc__cfg_node *n,
                  const char *path, size_t max_len, char **out);
bool sdc__cfg_bool(struct sdc__cfg *c, const struct sdc__cfg_node *n,
                   const char *path, bool *out);
bool sdc__cfg_int(struct sdc__cfg *c, const struct sdc__cfg_node *n,
                  const char *path, long long min, long long max,
                  long long *out);
/* A google.protobuf.Duration in JSON ("60s", "1.5s"), in milliseconds. */
bool sdc__cfg_duration_ms(struct sdc__cfg *c, const struct sdc__cfg_node *n,
                          const char *path, uint64_t *out);
/* Base64 (standard or URL alphabet, padding optional), at most max bytes
 * decoded. */
bool sdc__cfg_base64(struct sdc__cfg *c, const struct sdc__cfg_node *n,
                     const char *path, size_t max, unsigned char **out,
                     size_t *out_len);

/* Field `key` of `map` as a string (at most max_len bytes), if given; a
 * required one says so when absent (or null). */
bool sdc__cfg_get_str(struct sdc__cfg *c, const struct sdc__cfg_node *map,
                      const char *parent, const char *key, size_t max_len,
                      bool required, char **out);
bool sdc__cfg_get_bool(struct sdc__cfg *c, const struct sdc__cfg_node *map,
                       const char *parent, const char *key, bool *out);
/* The folder of `file` with its '/', or "" (relative names in a file are
 * taken from its folder). */
void sdc__cfg_base_of(const char *file, char *out, size_t cap);
/* The file `n` names (relative to `base`), whole: a regular, non-empty
 * file under 1 MiB (certificates, keys, secrets), NUL-terminated. */
bool sdc__cfg_read_file(struct sdc__cfg *c, const struct sdc__cfg_node *n,
                        const char *path, const char *base, char **out,
                        size_t *len);

/* An enum by name or, as proto3 JSON allows, by number. */
struct sdc__cfg_enum {
  const char *name;
  int value;
};
bool sdc__cfg_enum(struct sdc__cfg *c, const struct sdc__cfg_node *n,
                   const char *path, const struct sdc__cfg_enum *table,
                   size_t n_table, int *out);

#endif
