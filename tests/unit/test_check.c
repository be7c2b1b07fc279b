/* SPDX-License-Identifier: Apache-2.0 */
/* UptimeCheckConfig decoding: what the API returns loads as it is; what
 * the API rejects is rejected with line, column and field; matchers. */
#include "suites.h"

#include "core/core.h"
#include "probe/check.h"

#include <sdconnect/sdconnect.h>

#include <stdio.h>
#include <string.h>

/* What ListUptimeCheckConfigs returns for two checks (JSON, pasted). */
static const char api_list[] =
    "{\n"
    "  \"uptimeCheckConfigs\": [\n"
    "    {\n"
    "      \"name\": \"projects/sd-project/uptimeCheckConfigs/orders-private-x1Yz\",\n"
    "      \"displayName\": \"orders-webhook private\",\n"
    "      \"monitoredResource\": {\n"
    "        \"type\": \"servicedirectory_service\",\n"
    "        \"labels\": {\"project_id\": \"sd-project\", \"location\": \"us-central1\",\n"
    "                   \"namespace_name\": \"webhooks\", \"service_name\": \"orders\"}\n"
    "      },\n"
    "      \"httpCheck\": {\n"
    "        \"requestMethod\": \"POST\", \"useSsl\": true, \"path\": \"healthz\",\n"
    "        \"port\": 8443, \"headers\": {\"X-Env\": \"prod\"}, \"maskHeaders\": true,\n"
    "        \"contentType\": \"USER_PROVIDED\", \"customContentType\": \"application/json\",\n"
    "        \"body\": \"eyJwaW5nIjp0cnVlfQ==\",\n"
    "        \"acceptedResponseStatusCodes\": [{\"statusClass\": \"STATUS_CLASS_2XX\"},\n"
    "                                        {\"statusValue\": 404}],\n"
    "        \"serviceAgentAuthentication\": {\"type\": \"OIDC_TOKEN\"}\n"
    "      },\n"
    "      \"period\": \"60s\",\n"
    "      \"timeout\": \"10s\",\n"
    "      \"contentMatchers\": [{\"content\": \"ok\", \"matcher\": \"MATCHES_JSON_PATH\",\n"
    "        \"jsonPathMatcher\": {\"jsonPath\": \"$.status\", \"jsonMatcher\": \"EXACT_MATCH\"}}],\n"
    "      \"checkerType\": \"VPC_CHECKERS\",\n"
    "      \"userLabels\": {\"team\": \"payments\"}\n"
    "    },\n"
    "    {\n"
    "      \"name\": \"projects/sd-project/uptimeCheckConfigs/site\",\n"
    "      \"displayName\": \"site\",\n"
    "      \"monitoredResource\": {\"type\": \"uptime_url\",\n"
    "        \"labels\": {\"project_id\": \"sd-project\", \"host\": \"www.example.com\"}},\n"
    "      \"tcpCheck\": {\"port\": 443, \"pingConfig\": {\"pingsCount\": 1}},\n"
    "      \"timeout\": \"5s\",\n"
    "      \"period\": \"300s\",\n"
    "      \"selectedRegions\": [\"USA\"]\n"
    "    }\n"
    "  ],\n"
    "  \"totalSize\": 2\n"
    "}\n";

START_TEST(what_the_api_returns_loads_as_it_is)
{
  sdc_check_set *s = NULL;
  char *errs = NULL;
  const struct sdc_check *c;

  ck_assert_msg(sdc_checks_load_mem("api.json", api_list, strlen(api_list), &s, &errs) ==
                    SDC_OK, "%s", errs ? errs : "");
  ck_assert_uint_eq(sdc_check_set_count(s), 2);
  c = sdc_check_set_get(s, 0);
  ck_assert_str_eq(sdc_check_id(c), "orders-private-x1Yz");
  ck_assert_str_eq(sdc_check_service(c),
                   "projects/sd-project/locations/us-central1/namespaces/webhooks/services/orders");
  ck_assert(c->http && c->post && c->use_ssl && c->validate_ssl);
  ck_assert_str_eq(c->path, "/healthz"); /* the API adds the slash */
  ck_assert_int_eq(c->port, 8443);
  ck_assert_str_eq(c->content_type, "application/json");
  ck_assert_uint_eq(c->body_len, 13);
  ck_assert(!memcmp(c->body, "{\"ping\":true}", 13));
  ck_assert_uint_eq(c->n_accepted, 2);
  ck_assert(c->accepted[0].is_class && c->accepted[0].value == 200);
  ck_assert(!c->accepted[1].is_class && c->accepted[1].value == 404);
  ck_assert(c->service_agent_auth);
  ck_assert(c->has_matcher);
  ck_assert_int_eq(c->m.kind, MATCH_JSON_PATH);
  ck_assert_uint_eq(sdc_check_timeout_ms(c), 10000);
  ck_assert_uint_eq(sdc_check_period_ms(c), 60000);
  c = sdc_check_set_get(s, 1);
  ck_assert_ptr_null(sdc_check_service(c));
  ck_assert(!c->http);
  ck_assert_str_eq(c->host, "www.example.com");
  ck_assert_int_eq(c->pings, 1);
  ck_assert_uint_eq(sdc_check_period_ms(c), 300000);
  ck_assert_ptr_null(sdc_check_set_get(s, 2));
  sdc_check_set_free(s);
}
END_TEST

START_TEST(yaml_list_with_sdconnect_settings_and_proto_names)
{
  static const char y[] =
      "- displayName: Orders (TCP)\n"
      "  monitored_resource:\n"
      "    type: servicedirectory_service\n"
      "    labels: {project_id: p, location: l, namespace_name: n, service_name: s}\n"
      "  tcp_check: {port: 9000}\n"
      "  timeout: 2s\n"
      "  checkerType: 3\n"
      "  sdconnect:\n"
      "    period: 5s\n"
      "    host: orders.internal\n"
      "    pass: any\n"
      "    userAgent: probe/1\n";
  sdc_check_set *s = NULL;
  char *errs = NULL;
  const struct sdc_check *c;

  ck_assert_msg(sdc_checks_load_mem("l.yaml", y, strlen(y), &s, &errs) == SDC_OK, "%s",
                errs ? errs : "");
  c = sdc_check_set_get(s, 0);
  ck_assert_str_eq(sdc_check_id(c), "orders-tcp");
  ck_assert_uint_eq(sdc_check_period_ms(c), 5000);
  ck_assert_str_eq(c->host, "orders.internal");
  ck_assert(c->pass_any);
  ck_assert_str_eq(c->user_agent, "probe/1");
  sdc_check_set_free(s);
}
END_TEST

/* A check from a base that the API accepts, with one change: `body` is
 * spliced in after the resource. */
static char *rejected(const char *extra, const char *http)
{
  static char text[4096];
  sdc_check_set *s = NULL;
  char *errs = NULL;

  snprintf(text, sizeof(text),
           "displayName: x\n"
           "monitoredResource:\n"
           "  type: servicedirectory_service\n"
           "  labels: {project_id: p, location: l, namespace_name: n, service_name: s}\n"
           "checkerType: VPC_CHECKERS\n"
           "%s"
           "%s",
           http ? http : "httpCheck: {path: /}\n", extra);
  ck_assert_int_eq(sdc_checks_load_mem("c.yaml", text, strlen(text), &s, &errs), SDC_ECONFIG);
  ck_assert_ptr_null(s);
  snprintf(text, sizeof(text), "%s", errs);
  sdc_free(errs);
  return text;
}

#define REJECTS(extra, http, want)                                             \
  do {                                                                         \
    const char *e_ = rejected(extra, http);                                    \
    ck_assert_msg(strstr(e_, want), "expected '%s' in:\n%s", want, e_);        \
  } while(0)

START_TEST(what_the_api_rejects_is_rejected_with_its_place)
{
  REJECTS("timeout: 10s\nperiod: 30s\n", NULL,
          "c.yaml:8:9: period: '30s' is not allowed (expected 60s, 300s, 600s or 900s; "
          "for a shorter period set sdconnect.period");
  REJECTS("timeout: 61s\n", NULL, "c.yaml:7:10: timeout: '61s' is out of range");
  REJECTS("", NULL, "timeout: missing (required: 1s to 60s)");
  REJECTS("timeout: 10s\ntimout: 5s\n", NULL, "c.yaml:8:1: unknown field 'timout'; did you mean 'timeout'?");
  REJECTS("timeout: 10s\ntcpCheck: {port: 1}\n", NULL,
          "both httpCheck and tcpCheck (expected exactly one");
  REJECTS("timeout: 10s\n", "httpCheck: {requestMethod: GET, contentType: URL_ENCODED}\n",
          "contentType on a GET check");
  REJECTS("timeout: 10s\n", "httpCheck: {requestMethod: POST}\n",
          "a POST check without contentType");
  REJECTS("timeout: 10s\n",
          "httpCheck: {requestMethod: POST, contentType: URL_ENCODED, headers: {Content-Type: a/b}}\n",
          "a Content-Type header and contentType together");
  REJECTS("timeout: 10s\n",
          "httpCheck: {requestMethod: POST, contentType: URL_ENCODED, customContentType: a/b}\n",
          "customContentType with URL_ENCODED");
  REJECTS("timeout: 10s\n", "httpCheck: {requestMethod: POST, contentType: USER_PROVIDED}\n",
          "USER_PROVIDED without customContentType");
  REJECTS("timeout: 10s\n", "httpCheck: {body: eA==}\n", "a body on a GET check");
  REJECTS("timeout: 10s\n",
          "httpCheck: {authInfo: {username: u, password: p}, serviceAgentAuthentication: {}}\n",
          "given with authInfo");
  REJECTS("timeout: 10s\n", "httpCheck: {port: 70000}\n",
          "c.yaml:6:19: httpCheck.port: 70000 is out of range (expected 0 to 65535)");
  REJECTS("timeout: 10s\n", "httpCheck: {useSsl: yes}\n",
          "httpCheck.useSsl: 'yes' is not a boolean");
  REJECTS("timeout: 10s\n", "httpCheck: {use_sl: true}\n",
          "unknown field 'use_sl'; did you mean 'useSsl'?");
  REJECTS("timeout: 10s\ncontentMatchers: [{content: x, matcher: MATCHES_JSON_PATH}]\n", NULL,
          "a JSONPath matcher without jsonPathMatcher");
  REJECTS("timeout: 10s\ncontentMatchers: [{content: '(', matcher: MATCHES_REGEX}]\n", NULL,
          "is not a valid regex");
  REJECTS("timeout: 10s\ncontentMatchers: [{content: x, matcher: MATCHES_JSON_PATH, "
          "jsonPathMatcher: {jsonPath: '$.a'}}]\n", NULL,
          "jsonMatcher: missing (expected EXACT_MATCH or REGEX_MATCH)");
  REJECTS("timeout: 10s\ncontentMatchers: [{content: x, matcher: MATCHES_REGEX}]\n",
          "tcpCheck: {port: 1}\n", "work on HTTP(S) checks only");
  REJECTS("timeout: 10s\ncheckerType: STATIC_IP_CHECKERS\n", NULL,
          "'checkerType' is given twice");
  REJECTS("timeout: 10s\nselectedRegions: [EUROPE, ASIA_PACIFIC]\n", NULL,
          "2 checker locations (expected at least 3");
  REJECTS("timeout: 10s\nuserLabels: {Team: x}\n", NULL, "label key 'Team' is not allowed");
  REJECTS("timeout: 10s\nsdconnect: {period: 0.5s}\n", NULL,
          "sdconnect.period: out of range (expected 1s to 3600s)");
  REJECTS("timeout: 10s\nsdconnect: {clientCertFile: /nonexistent/c.pem}\n", NULL,
          "cannot open '/nonexistent/c.pem'");
  REJECTS("timeout: 10s\nsdconnect: {ca: 'not pem'}\n", NULL, "sdconnect.ca: not PEM");
  REJECTS("timeout: 10s\nsdconnect: {pass: some}\n", NULL,
          "'some' is not one of all, any");
  REJECTS("timeout: 10s\nname: {a: 1}\n", NULL, "name: a mapping here is wrong");
}
END_TEST

START_TEST(resource_and_checker_rules)
{
  static const char wrong_type[] =
      "displayName: x\nmonitoredResource: {type: gce_instance, labels: {}}\n"
      "httpCheck: {}\ntimeout: 10s\n";
  static const char typo[] =
      "displayName: x\nmonitoredResource: {type: uptime_rul, labels: {host: h}}\n"
      "httpCheck: {}\ntimeout: 10s\n";
  static const char vpc_url[] =
      "displayName: x\nmonitoredResource: {type: uptime_url, labels: {host: h}}\n"
      "httpCheck: {}\ntimeout: 10s\ncheckerType: VPC_CHECKERS\n";
  static const char sd_public[] =
      "displayName: x\nmonitoredResource: {type: servicedirectory_service, labels: "
      "{project_id: p, location: l, namespace_name: n}}\ntcpCheck: {port: 1}\ntimeout: 10s\n";
  static const char dup_ids[] =
      "- {displayName: a b, monitoredResource: {type: uptime_url, labels: {host: h}}, "
      "tcpCheck: {port: 1}, timeout: 1s}\n"
      "- {displayName: a-b, monitoredResource: {type: uptime_url, labels: {host: h}}, "
      "tcpCheck: {port: 1}, timeout: 1s}\n";
  struct { const char *text, *want; } cases[] = {
      {wrong_type, "'gce_instance' is valid for Google but sdconnect probes only"},
      {typo, "did you mean 'uptime_url'?"},
      {vpc_url, "VPC_CHECKERS needs a servicedirectory_service resource"},
      {sd_public, "labels.service_name: missing (required)"},
      {sd_public, "expected checkerType: VPC_CHECKERS"},
      {dup_ids, "two checks have the id 'a-b'"},
      {"[]", "holds no uptime check"},
      {"a: [", "not valid YAML or JSON"},
  };

  for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    sdc_check_set *s = NULL;
    char *errs = NULL;
    ck_assert_int_eq(sdc_checks_load_mem("r.yaml", cases[i].text, strlen(cases[i].text),
                                         &s, &errs), SDC_ECONFIG);
    ck_assert_msg(strstr(errs, cases[i].want), "case %zu: expected '%s' in:\n%s", i,
                  cases[i].want, errs);
    sdc_free(errs);
  }
}
END_TEST

static bool matches(enum matcher_kind k, enum json_matcher jk, const char *content,
                    const char *path, const char *body, char *why)
{
  struct content_matcher m = {k, NULL, 0, NULL, jk, NULL};
  bool r;

  m.content = sdc__strdup(content);
  m.content_len = strlen(content);
  m.json_path = path ? sdc__strdup(path) : NULL;
  ck_assert_msg(sdc__match_prepare(&m, why, 300), "%s", why);
  why[0] = '\0';
  r = sdc__match(&m, body, strlen(body), why, 300);
  sdc__match_cleanup(&m);
  return r;
}

START_TEST(all_six_matchers_and_json_paths)
{
  char why[300];
  const char *doc = "{\"status\":\"ok\",\"n\":3,\"items\":[{\"id\":\"a\"},{\"id\":\"b\"}],"
                    "\"a b\":true}";

  ck_assert(matches(MATCH_CONTAINS, 0, "ok", NULL, doc, why));
  ck_assert(!matches(MATCH_CONTAINS, 0, "nope", NULL, doc, why));
  ck_assert_ptr_nonnull(strstr(why, "does not contain 'nope'"));
  ck_assert(matches(MATCH_NOT_CONTAINS, 0, "error", NULL, doc, why));
  ck_assert(!matches(MATCH_NOT_CONTAINS, 0, "status", NULL, doc, why));
  ck_assert(matches(MATCH_REGEX, 0, "\"n\":[0-9]+", NULL, doc, why));
  ck_assert(!matches(MATCH_NOT_REGEX, 0, "items", NULL, doc, why));
  ck_assert(matches(MATCH_NOT_REGEX, 0, "^x", NULL, doc, why));
  ck_assert(matches(MATCH_JSON_PATH, JSON_EXACT, "ok", "$.status", doc, why));
  ck_assert(matches(MATCH_JSON_PATH, JSON_EXACT, "\"ok\"", "$['status']", doc, why));
  ck_assert(matches(MATCH_JSON_PATH, JSON_EXACT, "3", "$.n", doc, why));
  ck_assert(!matches(MATCH_JSON_PATH, JSON_EXACT, "4", "$.n", doc, why));
  ck_assert_ptr_nonnull(strstr(why, "(found 3)"));
  ck_assert(matches(MATCH_JSON_PATH, JSON_EXACT, "b", "$.items[-1].id", doc, why));
  ck_assert(matches(MATCH_JSON_PATH, JSON_EXACT, "b", "$.items[*].id", doc, why));
  ck_assert(matches(MATCH_JSON_PATH, JSON_EXACT, "true", "$[\"a b\"]", doc, why));
  ck_assert(matches(MATCH_JSON_PATH, JSON_REGEX, "^o.$", "$.status", doc, why));
  ck_assert(matches(MATCH_NOT_JSON_PATH, JSON_EXACT, "c", "$.items[*].id", doc, why));
  ck_assert(!matches(MATCH_NOT_JSON_PATH, JSON_EXACT, "a", "$.items[*].id", doc, why));
  ck_assert(!matches(MATCH_JSON_PATH, JSON_EXACT, "x", "$.missing", doc, why));
  ck_assert_ptr_nonnull(strstr(why, "reaches nothing"));
  ck_assert(!matches(MATCH_JSON_PATH, JSON_EXACT, "x", "$.a", "not json", why));
  ck_assert_ptr_nonnull(strstr(why, "the body is not JSON"));
  /* bodies need not be UTF-8 */
  ck_assert(matches(MATCH_REGEX, 0, "ok", NULL, "\xff\xfeok", why));
}
END_TEST

/* ---- sharding: which replica owns a check × endpoint pair ---- */
#define SHARD_KEYS 100000

static void shard_key(unsigned i, char *check, char *ep)
{
  sprintf(check, "check-%u", i % 97);
  sprintf(ep, "projects/p/locations/l/namespaces/n/services/s%u/endpoints/e%u", i % 13, i);
}

START_TEST(every_pair_has_one_owner_and_shares_are_even)
{
  static unsigned per[16];
  char check[32], ep[128];

  for(unsigned n = 1; n <= 10; n++) {
    memset(per, 0, sizeof(per));
    for(unsigned i = 0; i < SHARD_KEYS; i++) {
      unsigned o;
      shard_key(i, check, ep);
      o = sdc_shard_owner(check, ep, n);
      ck_assert_uint_lt(o, n);
      ck_assert_uint_eq(o, sdc_shard_owner(check, ep, n)); /* the same on every replica */
      per[o]++;
    }
    for(unsigned r = 0; r < n; r++) /* within 5% of 1/n of 100,000 */
      ck_assert_msg(per[r] * 20 * n >= 19u * SHARD_KEYS && per[r] * 20 * n <= 21u * SHARD_KEYS,
                    "%u replicas: replica %u owns %u", n, r, per[r]);
  }
  ck_assert_uint_eq(sdc_shard_owner("c", "e", 0), 0);
  ck_assert_uint_eq(sdc_shard_owner("c", "e", 1), 0);
  ck_assert_uint_eq(sdc_shard_owner(NULL, NULL, 3), sdc_shard_owner("", "", 3));
  /* the pair's parts are kept apart */
  {
    unsigned differ = 0;
    for(unsigned i = 0; i < 64; i++) {
      char a[16], b[16];
      sprintf(a, "ab%u", i);
      sprintf(b, "b%u", i);
      differ += sdc_shard_owner(a, "c", 64) != sdc_shard_owner("a", b, 64) ||
                sdc_shard_owner(a, "c", 64) == 0;
    }
    ck_assert_uint_gt(differ, 32);
  }
}
END_TEST

START_TEST(a_resize_moves_about_one_nth_and_only_to_the_new_replica)
{
  char check[32], ep[128];

  for(unsigned n = 1; n < 10; n++) {
    unsigned moved = 0;
    for(unsigned i = 0; i < SHARD_KEYS; i++) {
      unsigned before, after;
      shard_key(i, check, ep);
      before = sdc_shard_owner(check, ep, n);
      after = sdc_shard_owner(check, ep, n + 1);
      if(before != after) {
        ck_assert_uint_eq(after, n); /* growing: to the new replica only */
        moved++;
      }
    }
    /* about 1/(n+1) of them: within 10% of it */
    ck_assert_msg(moved * 10 * (n + 1) >= 9u * SHARD_KEYS &&
                  moved * 10 * (n + 1) <= 11u * SHARD_KEYS,
                  "%u -> %u replicas moved %u of %u", n, n + 1, moved, SHARD_KEYS);
  }
}
END_TEST

Suite *check_suite(void)
{
  Suite *s = suite_create("check");
  TCase *tc = tcase_create("load");

  tcase_add_test(tc, what_the_api_returns_loads_as_it_is);
  tcase_add_test(tc, yaml_list_with_sdconnect_settings_and_proto_names);
  tcase_add_test(tc, what_the_api_rejects_is_rejected_with_its_place);
  tcase_add_test(tc, resource_and_checker_rules);
  suite_add_tcase(s, tc);
  tc = tcase_create("match");
  tcase_add_test(tc, all_six_matchers_and_json_paths);
  suite_add_tcase(s, tc);
  tc = tcase_create("shard");
  tcase_set_timeout(tc, 120); /* 2 million owners: seconds under ASan */
  tcase_add_test(tc, every_pair_has_one_owner_and_shares_are_even);
  tcase_add_test(tc, a_resize_moves_about_one_nth_and_only_to_the_new_replica);
  suite_add_tcase(s, tc);
  return s;
}
