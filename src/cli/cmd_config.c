/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sdconnect config check FILE: load the daemon's configuration as
 * `sdconnect serve` would, report every problem with its place, and say
 * what it would run. Exit 0 when it is valid, 2 when it is not.
 */
#include "cmds.h"

#include "msgs.h"
#include "opts.h"

#include <sdconnect/sdconnect.h>

#include <stdio.h>
#include <string.h>

#define CMD "config"

static int check(const char *path)
{
  sdc_serve_config *c = NULL;
  char *errs = NULL;
  sdc_status st = sdc_serve_config_load(path, &c, &errs);
  size_t n;

  if(st) {
    fputs(errs ? errs : "", stderr);
    if(errs && errs[0] && errs[strlen(errs) - 1] != '\n')
      fputc('\n', stderr);
    if(!errs)
      cli_error(CMD, "%s: %s", path, sdc_strerror(st));
    if(st == SDC_ECONFIG)
      cli_hint("see sdconnect.yaml(5); checks use Google's UptimeCheckConfig "
               "names (sdconnect-check.yaml(5))");
    sdc_free(errs);
    return st == SDC_ENOMEM ? 1 : 2;
  }
  n = sdc_check_set_count(c->checks);
  printf("%s: ok\n", path);
  printf("  directory: %s%s\n", c->sd_endpoint ? c->sd_endpoint
                                              : SDC_SD_GOOGLE_ENDPOINT " (Google's API)",
         c->sd_insecure ? " (plaintext)" : "");
  if(c->local)
    printf("  local directory: %s, %s\n", c->local_listen,
           c->local_memory ? "in memory" : c->local_db ? c->local_db : "default database");
  printf("  checks: %zu (%zu file%s matched by checkFiles)\n", n, c->n_check_files,
         c->n_check_files == 1 ? "" : "s");
  for(size_t i = 0; i < n; i++) {
    const sdc_check *k = sdc_check_set_get(c->checks, i);
    const char *svc = sdc_check_service(k);
    printf("    %s: every %llu s, %s\n", sdc_check_id(k),
           (unsigned long long)(sdc_check_period_ms(k) / 1000), svc ? svc : "uptime_url");
  }
  printf("  admin: %s%s%s\n", c->admin_listen, c->admin_cert_file ? " (TLS)" : "",
         c->admin_token_file ? " (token)" : "");
  printf("  state: %s; log level %s; at most %u runs at once\n", c->state_dir,
         c->log_level, c->max_running);
  sdc_serve_config_free(c);
  return 0;
}

int cmd_config(int argc, char **argv)
{
  struct flag own[] = {{0}};
  const struct flag *tables[] = {own, NULL};
  struct parsed p;
  int rc = opts_parse(CMD, argc, argv, 1, tables, &p);

  if(rc)
    return rc;
  if(p.help) {
    printf("Usage: sdconnect config check FILE\n\n"
           "Load the daemon's configuration (sdconnect.yaml) and the check files\n"
           "it names, as 'sdconnect serve' would, and report every problem with\n"
           "its file, line and column. Exit status: 0 valid, 2 not.\n");
    return 0;
  }
  if(p.n_pos != 2 || strcmp(p.pos[0], "check"))
    return usage_error(CMD, "expected 'config check FILE'");
  return check(p.pos[1]);
}
