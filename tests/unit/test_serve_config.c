/* SPDX-License-Identifier: Apache-2.0 */
/* sdconnect.yaml: a whole file with inline checks and check files, and
 * every problem with its place. Files live in a temporary folder. */
#include "suites.h"

#include <sdconnect/sdconnect.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static const char *put(const char *name, const char *text)
{
  static char path[8][160];
  static int k;
  char *p = path[k++ % 8];
  FILE *f;

  snprintf(p, 160, "%s/%s", dir, name);
  f = fopen(p, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
  return p;
}

/* dir/name, for mkdir */
static const char *tproc_dir_or(const char *d, const char *name)
{
  static char p[160];

  snprintf(p, sizeof(p), "%s/%s", d, name);
  return p;
}

static void setup(void)
{
  snprintf(dir, sizeof(dir), "/tmp/sdc-serve-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
  char cmd[128];

  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  ck_assert_int_eq(system(cmd), 0);
}

#define CHECK(id, port)                                                        \
  "- {displayName: " id ", monitoredResource: {type: uptime_url, labels: "     \
  "{host: 127.0.0.1}}, tcpCheck: {port: " port "}, timeout: 1s}\n"

START_TEST(a_whole_file_with_inline_checks_and_check_files)
{
  sdc_serve_config *c = NULL;
  char *errs = NULL;
  const char *path;

  ck_assert_int_eq(mkdir(tproc_dir_or(dir, "checks.d"), 0700), 0);
  put("checks.d/a.yaml", CHECK("a", "1") CHECK("b", "2"));
  put("checks.d/c.json", "{\"displayName\": \"c\", \"monitoredResource\": {\"type\": "
                         "\"uptime_url\", \"labels\": {\"host\": \"::1\"}}, \"tcpCheck\": "
                         "{\"port\": 3}, \"timeout\": \"2s\"}");
  put("token", "t0ken\n");
  path = put("sdconnect.yaml",
             "local: {listen: '127.0.0.1:0', memory: true}\n"
             "directory: {cacheTtl: 5s}\n" /* no endpoint: still the local one */
             "checks:\n" CHECK("inline", "4")
             "checkFiles: [checks.d/*.yaml, 'checks.d/*.json']\n"
             "admin: {listen: '0.0.0.0:9464', tokenFile: token}\n"
             "probe: {maxRunning: 8}\n"
             "results: {file: '-', historyDays: 30}\n"
             "log: {level: debug}\n");
  ck_assert_msg(sdc_serve_config_load(path, &c, &errs) == SDC_OK, "%s", errs ? errs : "");
  ck_assert_uint_eq(sdc_check_set_count(c->checks), 4);
  ck_assert_str_eq(sdc_check_id(sdc_check_set_get(c->checks, 0)), "inline");
  ck_assert_uint_eq(c->n_check_files, 2);
  ck_assert(c->local && c->local_memory);
  ck_assert_str_eq(c->sd_endpoint, "127.0.0.1:0"); /* the local directory */
  ck_assert_int_eq(c->sd_insecure, 1);
  ck_assert_uint_eq(c->sd_cache_ttl_ms, 5000);
  ck_assert_ptr_nonnull(strstr(c->admin_token_file, "/token"));
  ck_assert_uint_eq(c->max_running, 8);
  ck_assert_uint_eq(c->history_days, 30);
  ck_assert_str_eq(c->log_level, "debug");
  ck_assert_str_eq(c->state_dir, "/var/lib/sdconnect"); /* defaults */
  ck_assert_uint_eq(c->sd_timeout_ms, 15000);
  sdc_serve_config_free(c);
}
END_TEST

START_TEST(every_problem_has_its_file_and_place)
{
  sdc_serve_config *c = NULL;
  char *errs = NULL;
  const char *path;

  ck_assert_int_eq(mkdir(tproc_dir_or(dir, "d"), 0700), 0);
  put("d/dup.yaml", CHECK("inline", "1") "- {displayName: broken}\n");
  path = put("bad.yaml",
             "directory: {endpoint: nope, insecure: maybe, caFile: no-such.pem}\n"
             "admin: {listen: '0.0.0.0:9464'}\n"
             "checks:\n" CHECK("inline", "4")
             "checkFiles: [d/*.yaml, none/*.yaml]\n"
             "logg: {}\n");
  ck_assert_int_eq(sdc_serve_config_load(path, &c, &errs), SDC_ECONFIG);
  ck_assert_ptr_null(c);
#define HAS(s) ck_assert_msg(strstr(errs, s), "'%s' not in:\n%s", s, errs)
  HAS("bad.yaml:1:23: directory.endpoint: 'nope' is not HOST:PORT");
  HAS("bad.yaml:1:39: directory.insecure: 'maybe' is not a boolean");
  HAS("directory.caFile: '");
  HAS("no-such.pem': No such file or directory");
  HAS("bad.yaml:2:17: admin.listen: '0.0.0.0:9464' is not loopback");
  HAS("none/*.yaml' matches no file");
  HAS("bad.yaml:6:1: unknown field 'logg'; did you mean 'log'?");
  HAS("dup.yaml: two checks have the id 'inline'"); /* across files */
  HAS("dup.yaml:2:3: [1]: no resource");
#undef HAS
  sdc_free(errs);
  ck_assert_int_eq(sdc_serve_config_load("/nonexistent.yaml", &c, &errs), SDC_EIO);
  ck_assert_ptr_nonnull(strstr(errs, "cannot open"));
  sdc_free(errs);
}
END_TEST

#define HOOK(id, uri) "- {displayName: " id ", genericWebService: {uri: '" uri "'}}\n"

START_TEST(webhooks_and_the_gateway)
{
  sdc_serve_config *c = NULL;
  char *errs = NULL;
  const char *path;

  ck_assert_int_eq(mkdir(tproc_dir_or(dir, "hooks"), 0700), 0);
  put("hooks/a.yaml", HOOK("orders", "https://orders.internal/hook")
                      HOOK("stock", "https://stock.internal/hook"));
  put("hooks/b.json", "{\"displayName\": \"lookup\", \"genericWebService\": {\"uri\": "
                      "\"https://lookup.internal/x\"}}");
  put("token", "t0ken\n");
  path = put("sdconnect.yaml",
             "webhooks: {files: ['hooks/*.yaml', hooks/b.json], probePeriod: 60s}\n"
             "gateway: {listen: '0.0.0.0:8443', tokenFile: token, maxConcurrent: 8}\n");
  ck_assert_msg(sdc_serve_config_load(path, &c, &errs) == SDC_OK, "%s", errs ? errs : "");
  ck_assert_uint_eq(sdc_webhook_set_count(c->webhooks), 3);
  ck_assert_uint_eq(c->n_webhook_files, 2);
  ck_assert_ptr_nonnull(sdc_webhook_set_find(c->webhooks, "lookup"));
  ck_assert_uint_eq(c->webhook_probe_ms, 60000);
  ck_assert_str_eq(c->gateway_listen, "0.0.0.0:8443");
  ck_assert_uint_eq(c->gateway_max_concurrent, 8);
  ck_assert_uint_eq(c->gateway_max_body, 1u << 20); /* the default */
  ck_assert_ptr_nonnull(strstr(c->gateway_token_file, "/token"));
  sdc_serve_config_free(c);

  /* what is wrong, where */
  put("hooks/dup.yaml", HOOK("orders", "https://elsewhere.internal/"));
  put("hooks/bad.yaml", "displayName: x\ngenericWebService: {uri: 'http://x/'}\n");
  path = put("bad.yaml",
             "webhooks: {files: ['hooks/a.yaml', hooks/dup.yaml, hooks/bad.yaml, 'no/*.y']}\n"
             "gateway: {listen: '0.0.0.0:8443', maxBodyBytes: 10}\n");
  ck_assert_int_eq(sdc_serve_config_load(path, &c, &errs), SDC_ECONFIG);
#define HAS(s) ck_assert_msg(strstr(errs, s), "'%s' not in:\n%s", s, errs)
  HAS("the webhook id 'orders' is also in an earlier file");
  HAS("bad.yaml:2:26: genericWebService.uri: 'http://x/' is not an https URL");
  HAS("no/*.y' matches no file");
  HAS("bad.yaml:2:19: gateway.listen: '0.0.0.0:8443' is not loopback");
  HAS("gateway.maxBodyBytes");
#undef HAS
  sdc_free(errs);
  path = put("none.yaml", "gateway: {listen: '127.0.0.1:8443'}\n");
  ck_assert_int_eq(sdc_serve_config_load(path, &c, &errs), SDC_ECONFIG);
  ck_assert_ptr_nonnull(strstr(errs, "no webhooks to forward to"));
  sdc_free(errs);
}
END_TEST

Suite *serve_config_suite(void)
{
  Suite *s = suite_create("serve_config");
  TCase *tc = tcase_create("load");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, a_whole_file_with_inline_checks_and_check_files);
  tcase_add_test(tc, every_problem_has_its_file_and_place);
  tcase_add_test(tc, webhooks_and_the_gateway);
  suite_add_tcase(s, tc);
  return s;
}
