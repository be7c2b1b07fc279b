/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sdconnect status [CHECK]: what the daemon's history says (the SQLite
 * file in its state directory, read-only, also while it runs): every check
 * or one, with the last result per endpoint, uptime over 1 h / 24 h / 7 d,
 * the last failure and its reason, and certificate expiry.
 * Exit 0 when every check shown is up, 3 when one is down.
 */
#include "cmds.h"

#include "history.h"
#include "msgs.h"
#include "opts.h"
#include "out.h"

#include <sdconnect/sdconnect.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#define CMD "status"

static void pct(char *buf, size_t cap, json_t *v)
{
  if(json_is_number(v))
    snprintf(buf, cap, "%.1f%%", json_number_value(v));
  else
    snprintf(buf, cap, "-");
}

static void failure(char *buf, size_t cap, json_t *f)
{
  if(!json_is_object(f))
    snprintf(buf, cap, "-");
  else
    snprintf(buf, cap, "%s %s: %s", json_string_value(json_object_get(f, "at")),
             json_string_value(json_object_get(f, "reason")),
             json_string_value(json_object_get(f, "detail")));
}

static const char *str(json_t *o, const char *k, const char *dflt)
{
  const char *s = json_string_value(json_object_get(o, k));
  return s && *s ? s : dflt;
}

static void print_check(json_t *c)
{
  json_t *up = json_object_get(c, "uptime"), *eps = json_object_get(c, "endpoints"), *e;
  char u1[16], u24[16], u7[16], fail[1200];
  size_t i;

  pct(u1, sizeof(u1), json_object_get(up, "1h"));
  pct(u24, sizeof(u24), json_object_get(up, "24h"));
  pct(u7, sizeof(u7), json_object_get(up, "7d"));
  printf("%s  %s  uptime 1h %s  24h %s  7d %s  last run %s%s\n", str(c, "check", "?"),
         json_is_true(json_object_get(c, "up")) ? "UP" : "DOWN", u1, u24, u7,
         str(c, "lastRun", "-"),
         json_is_true(json_object_get(c, "stale")) ? " (directory stale)" : "");
  printf("  %s\n", str(c, "service", "uptime_url"));
  failure(fail, sizeof(fail), json_object_get(c, "lastFailure"));
  printf("  last failure: %s\n", fail);
  printf("  %-24s %-22s %-5s %10s %7s %7s %7s  %-20s %s\n", "ENDPOINT", "ADDRESS", "STATE",
         "LATENCY", "1H", "24H", "7D", "CERT EXPIRES", "LAST FAILURE");
  json_array_foreach(eps, i, e) {
    const char *name = str(e, "endpoint", "?"), *short_name = strstr(name, "/endpoints/");
    char lat[32];
    up = json_object_get(e, "uptime");
    pct(u1, sizeof(u1), json_object_get(up, "1h"));
    pct(u24, sizeof(u24), json_object_get(up, "24h"));
    pct(u7, sizeof(u7), json_object_get(up, "7d"));
    snprintf(lat, sizeof(lat), "%.1f ms", json_number_value(json_object_get(e, "latencyMs")));
    failure(fail, sizeof(fail), json_object_get(e, "lastFailure"));
    printf("  %-24s %-22s %-5s %10s %7s %7s %7s  %-12.10s %s\n",
           short_name ? short_name + 11 : name, /* the service is named above */
           str(e, "address", "-"), json_is_true(json_object_get(e, "up")) ? "up" : "DOWN",
           lat, u1, u24, u7, str(e, "certExpiry", "-"), fail);
    if(!json_is_true(json_object_get(e, "up")))
      printf("  %-24s now: %s: %s\n", "", str(e, "reason", "?"), str(e, "detail", ""));
  }
}

int cmd_status(int argc, char **argv)
{
  const char *config = "/etc/sdconnect/sdconnect.yaml", *state = NULL;
  bool json = false;
  struct flag own[] = {
      {.name = "config", .value = &config,
       .help = "FILE  the daemon's sdconnect.yaml, for its stateDir"},
      {.name = "state-dir", .value = &state,
       .help = "DIR  the state directory itself (instead of --config)"},
      {.name = "json", .set = &json, .help = "print the summary as JSON"},
      {0}};
  const struct flag *tables[] = {own, NULL};
  struct parsed p;
  sdc_serve_config *cfg = NULL;
  sqlite3 *db = NULL;
  json_t *sum = NULL, *checks, *c;
  char path[1100], err[512];
  struct timespec ts;
  int rc = opts_parse(CMD, argc, argv, 1, tables, &p);
  size_t i, down = 0;

  if(rc)
    return rc;
  if(p.help) {
    printf("Usage: sdconnect status [CHECK] [--config FILE | --state-dir DIR] [--json]\n\n"
           "What the daemon's history says: every check (or CHECK) with the last\n"
           "result of each endpoint, uptime over 1 h, 24 h and 7 d, the last\n"
           "failure and its reason, and certificate expiry. Reads the history in\n"
           "the state directory; works while 'sdconnect serve' runs.\n\n");
    opts_help(tables, "a check shown is down (1: no history; 2: an unknown CHECK)");
    return 0;
  }
  if(p.n_pos > 1)
    return usage_error(CMD, "expected at most one CHECK");
  if(!state) {
    char *errs = NULL;
    sdc_status st = sdc_serve_config_load(config, &cfg, &errs);
    if(st) {
      fputs(errs ? errs : "", stderr);
      if(errs && errs[0] && errs[strlen(errs) - 1] != '\n')
        fputc('\n', stderr);
      sdc_free(errs);
      cli_error(CMD, "%s: %s", config, sdc_strerror(st));
      cli_hint("give the daemon's configuration with --config FILE, or its state "
               "directory with --state-dir DIR");
      return st == SDC_ENOMEM ? 1 : 2;
    }
    state = cfg->state_dir;
  }
  snprintf(path, sizeof(path), "%s/history.db", state);
  if(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    cli_error(CMD, "no history at %s: %s", path, sqlite3_errmsg(db));
    cli_hint("'sdconnect serve' writes it once its checks have run; is this its stateDir?");
    rc = 1;
    goto out;
  }
  sqlite3_busy_timeout(db, 2000);
  clock_gettime(CLOCK_REALTIME, &ts);
  sum = history_summary(db, p.n_pos ? &p.pos[0] : NULL, p.n_pos,
                        (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, err, sizeof(err));
  if(!sum) {
    cli_error(CMD, "cannot read the history at %s: %s", path, err);
    rc = 1;
    goto out;
  }
  checks = json_object_get(sum, "checks");
  if(p.n_pos && !json_array_size(checks)) {
    cli_error(CMD, "no check '%s' in the history at %s", p.pos[0], path);
    cli_hint("'sdconnect status' lists the checks it has");
    rc = 2;
    goto out;
  }
  json_array_foreach(checks, i, c) down += !json_is_true(json_object_get(c, "up"));
  if(json) {
    json_print(json_incref(sum));
  } else {
    if(!json_array_size(checks))
      printf("no checks have run yet (history %s)\n", path);
    json_array_foreach(checks, i, c) {
      if(i)
        putchar('\n');
      print_check(c);
    }
  }
  rc = down ? 3 : 0;
out:
  json_decref(sum);
  sqlite3_close(db);
  sdc_serve_config_free(cfg);
  return rc;
}
