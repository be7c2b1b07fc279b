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

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define CMD "config"

/* --json: what the file would run, or its problems, as one object. */
static int check_json(const char *path, sdc_status st, const sdc_serve_config *c,
                      const char *errs)
{
  json_t *j = json_pack("{s:s, s:b}", "file", path, "valid", st == SDC_OK);
  json_t *list = json_array();

  if(!j || !list) {
    json_decref(j);
    json_decref(list);
    cli_error(CMD, "out of memory");
    return 1;
  }
  if(st) { /* one problem a line: "FILE:LINE:COL: FIELD: what (fix)" */
    for(const char *l = errs ? errs : ""; *l;) {
      size_t n = strcspn(l, "\n");
      if(n)
        json_array_append_new(list, json_stringn(l, n));
      l += n + (l[n] == '\n');
    }
    if(!errs)
      json_array_append_new(list, json_string(sdc_strerror(st)));
    json_object_set_new(j, "problems", list);
  } else {
    json_t *hooks = json_array();
    for(size_t i = 0; i < sdc_check_set_count(c->checks); i++) {
      const sdc_check *k = sdc_check_set_get(c->checks, i);
      json_array_append_new(list, json_pack("{s:s, s:s?, s:I}", "id", sdc_check_id(k),
                                            "service", sdc_check_service(k), "periodSeconds",
                                            (json_int_t)(sdc_check_period_ms(k) / 1000)));
    }
    for(size_t i = 0; hooks && i < sdc_webhook_set_count(c->webhooks); i++) {
      const sdc_webhook *w = sdc_webhook_set_get(c->webhooks, i);
      json_array_append_new(hooks, json_pack("{s:s, s:s, s:s, s:s?}", "id", sdc_webhook_id(w),
                                             "method", sdc_webhook_method(w), "uri",
                                             sdc_webhook_uri(w), "service",
                                             sdc_webhook_service(w)));
    }
    json_object_set_new(j, "directory", json_string(c->sd_endpoint ? c->sd_endpoint
                                                                   : SDC_SD_GOOGLE_ENDPOINT));
    json_object_set_new(j, "checks", list);
    json_object_set_new(j, "webhooks", hooks ? hooks : json_array());
    json_object_set_new(j, "admin", json_string(c->admin_listen));
    json_object_set_new(j, "gateway", c->gateway_listen ? json_string(c->gateway_listen)
                                                        : json_null());
    json_object_set_new(j, "stateDir", json_string(c->state_dir));
    json_object_set_new(j, "logLevel", json_string(c->log_level));
  }
  json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  fputc('\n', stdout);
  json_decref(j);
  return st == SDC_OK ? 0 : st == SDC_ENOMEM ? 1 : 2;
}

static int check(const char *path, bool json)
{
  sdc_serve_config *c = NULL;
  char *errs = NULL;
  sdc_status st = sdc_serve_config_load(path, &c, &errs);
  size_t n;

  if(json) {
    int rc = check_json(path, st, c, errs);
    sdc_free(errs);
    sdc_serve_config_free(c);
    return rc;
  }
  if(st) {
    fputs(errs ? errs : "", stderr);
    if(errs && errs[0] && errs[strlen(errs) - 1] != '\n')
      fputc('\n', stderr);
    if(!errs)
      cli_error(CMD, "%s: %s", path, sdc_strerror(st));
    if(st == SDC_ECONFIG)
      cli_hint("see sdconnect.yaml(5); checks use Google's UptimeCheckConfig "
               "names (sdconnect-check.yaml(5)), webhooks Dialogflow CX's Webhook "
               "names (sdconnect-webhook.yaml(5))");
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
  printf("  webhooks: %zu (%zu file%s matched by webhooks.files)%s%s",
         sdc_webhook_set_count(c->webhooks), c->n_webhook_files,
         c->n_webhook_files == 1 ? "" : "s", c->webhook_environment ? ", environment " : "",
         c->webhook_environment ? c->webhook_environment : "");
  if(c->webhook_probe_ms)
    printf(", probed every %llu s", (unsigned long long)(c->webhook_probe_ms / 1000));
  printf("\n");
  for(size_t i = 0; i < sdc_webhook_set_count(c->webhooks); i++) {
    const sdc_webhook *w = sdc_webhook_set_get(c->webhooks, i);
    printf("    %s: %s %s%s%s\n", sdc_webhook_id(w), sdc_webhook_method(w), sdc_webhook_uri(w),
           sdc_webhook_service(w) ? " via " : "",
           sdc_webhook_service(w) ? sdc_webhook_service(w) : "");
  }
  if(c->gateway_listen)
    printf("  gateway: %s%s%s%s; at most %u calls and %zu-byte bodies\n", c->gateway_listen,
           c->gateway_cert_file ? " (TLS)" : "", c->gateway_client_ca_file ? " (mTLS)" : "",
           c->gateway_token_file ? " (token)" : "", c->gateway_max_concurrent,
           c->gateway_max_body);
  printf("  admin: %s%s%s\n", c->admin_listen, c->admin_cert_file ? " (TLS)" : "",
         c->admin_token_file ? " (token)" : "");
  printf("  state: %s; log level %s; at most %u runs at once\n", c->state_dir,
         c->log_level, c->max_running);
  sdc_serve_config_free(c);
  return 0;
}

int cmd_config(int argc, char **argv)
{
  bool json = false;
  struct flag own[] = {{.name = "json", .set = &json, .help = "print what the file would run, "
                        "or its problems, as one JSON object"},
                       {0}};
  const struct flag *tables[] = {own, NULL};
  struct parsed p;
  int rc = opts_parse(CMD, argc, argv, 1, tables, &p);

  if(rc)
    return rc;
  if(p.help) {
    printf("Usage: sdconnect config check FILE [--json]\n\n"
           "Load the daemon's configuration (sdconnect.yaml) and the check and\n"
           "webhook files it names, as 'sdconnect serve' would, and report every\n"
           "problem with its file, line and column.\n\nOptions:\n");
    opts_help(tables, "is not used: a file with a problem is a configuration error (2)");
    return 0;
  }
  if(p.n_pos != 2 || strcmp(p.pos[0], "check"))
    return usage_error(CMD, "expected 'config check FILE'");
  return check(p.pos[1], json);
}
