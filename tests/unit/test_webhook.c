/* SPDX-License-Identifier: Apache-2.0 */
/* Webhook resources: pasted as the API returns them, validated as the API
 * validates them, environment overrides applied. */
#include "suites.h"

#include "webhook/webhook.h"

#include <sdconnect/sdconnect.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AGENT "projects/p/locations/us-central1/agents/a"
#define SVC "projects/p/locations/us-central1/namespaces/n/services/hook"

/* A self-signed certificate's DER, base64-encoded (malloc'd). */
static char *der_base64(void)
{
  EVP_PKEY *k = EVP_EC_gen("P-256");
  X509 *x = X509_new();
  unsigned char *der = NULL;
  char *b64;
  int len;

  X509_set_version(x, 2);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, k);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                             (const unsigned char *)"hook.internal", -1, -1, 0);
  X509_set_issuer_name(x, X509_get_subject_name(x));
  X509_sign(x, k, EVP_sha256());
  len = i2d_X509(x, &der);
  b64 = malloc((size_t)len * 2 + 4);
  EVP_EncodeBlock((unsigned char *)b64, der, len);
  OPENSSL_free(der);
  X509_free(x);
  EVP_PKEY_free(k);
  return b64;
}

static sdc_webhook_set *load_ok(const char *text, const char *env)
{
  sdc_webhook_set *s = NULL;
  char *errs = NULL;
  sdc_status st = sdc_webhooks_load_mem("hooks.yaml", text, strlen(text), env, &s, &errs);

  ck_assert_msg(st == SDC_OK, "%s: %s", sdc_strerror(st), errs ? errs : "");
  return s;
}

/* The problems of `text`, which must not load. */
static char *load_bad(const char *text, const char *env)
{
  sdc_webhook_set *s = NULL;
  char *errs = NULL;

  ck_assert_int_eq(sdc_webhooks_load_mem("hooks.yaml", text, strlen(text), env, &s, &errs),
                   SDC_ECONFIG);
  ck_assert_ptr_null(s);
  ck_assert_ptr_nonnull(errs);
  return errs;
}

#define HAS(errs, text) ck_assert_msg(strstr(errs, text) != NULL, "no '%s' in:\n%s", text, errs)

START_TEST(a_pasted_webhook_loads_with_every_field)
{
  char *ca = der_base64(), text[8192];
  sdc_webhook_set *s;
  const sdc_webhook *w, *sd;

  snprintf(text, sizeof(text),
           "[{\"name\": \"" AGENT "/webhooks/orders\", \"displayName\": \"Orders\",\n"
           "  \"genericWebService\": {\"uri\": \"https://orders.internal/v1/$session.params.id\",\n"
           "    \"requestHeaders\": {\"X-Team\": \"sre\"},\n"
           "    \"secretVersionsForRequestHeaders\": {\"X-Key\": {\"secretVersion\": "
           "\"projects/p/secrets/key/versions/3\"}},\n"
           "    \"allowedCaCerts\": [\"%s\"],\n"
           "    \"oauthConfig\": {\"clientId\": \"c\", \"secretVersionForClientSecret\": "
           "\"projects/p/secrets/cs/versions/latest\", \"tokenEndpoint\": "
           "\"https://auth.example/token\", \"scopes\": [\"a\", \"b\"]},\n"
           "    \"serviceAgentAuth\": \"NONE\", \"webhookType\": \"FLEXIBLE\", "
           "\"httpMethod\": \"PUT\",\n"
           "    \"requestBody\": \"{\\\"id\\\": \\\"$session.params.id\\\", \\\"n\\\": 1}\",\n"
           "    \"parameterMapping\": {\"status\": \"$.order.status\"}},\n"
           "  \"timeout\": \"7.5s\", \"disabled\": false},\n"
           " {\"displayName\": \"Private hook\", \"serviceDirectory\": {\"service\": \"" SVC "\",\n"
           "   \"genericWebService\": {\"uri\": \"https://hook.internal/cx\", \"serviceAgentAuth\": "
           "\"SERVICE_AGENT_AUTH_UNSPECIFIED\"}},\n"
           "  \"sdconnect\": {\"agent\": \"" AGENT "\", \"retryOn\": [503], "
           "\"secrets\": {\"projects/p/secrets/key/versions/3\": {\"env\": \"HOOK_KEY\"}}}}]\n",
           ca);
  s = load_ok(text, NULL);
  ck_assert_uint_eq(sdc_webhook_set_count(s), 2);
  w = sdc_webhook_set_find(s, "orders");
  ck_assert_ptr_nonnull(w);
  ck_assert_ptr_eq(sdc_webhook_set_find(s, "Orders"), w);
  ck_assert_ptr_eq(sdc_webhook_set_find(s, AGENT "/webhooks/orders"), w);
  ck_assert_int_eq(sdc_webhook_kind(w), SDC_WEBHOOK_FLEXIBLE);
  ck_assert_str_eq(sdc_webhook_method(w), "PUT");
  ck_assert_uint_eq(sdc_webhook_timeout_ms(w), 7500);
  ck_assert_ptr_null(sdc_webhook_service(w));
  ck_assert_str_eq(w->web.headers[0].key, "X-Team");
  ck_assert_str_eq(w->web.secret_headers[0].value, "projects/p/secrets/key/versions/3");
  ck_assert_uint_eq(w->web.n_ca, 1);
  ck_assert_str_eq(w->web.oauth.token_endpoint, "https://auth.example/token");
  ck_assert_uint_eq(w->web.oauth.n_scopes, 2);
  ck_assert_int_eq(w->web.agent_auth, SDC_WEBHOOK_AGENT_AUTH_NONE);
  ck_assert_str_eq(w->web.parameter_mapping[0].value, "$.order.status");
  sd = sdc_webhook_set_get(s, 1);
  ck_assert_str_eq(sdc_webhook_id(sd), "private-hook");
  ck_assert_str_eq(sdc_webhook_service(sd), SVC);
  ck_assert_str_eq(sdc_webhook_method(sd), "POST");
  ck_assert_uint_eq(sdc_webhook_timeout_ms(sd), 5000); /* the API's default */
  ck_assert_int_eq(sd->web.agent_auth, SDC_WEBHOOK_AGENT_AUTH_ID_TOKEN); /* UNSPECIFIED */
  ck_assert_int_eq(sd->ext.retry_statuses[0], 503);
  ck_assert_str_eq(sd->ext.secrets[0].env, "HOOK_KEY");
  sdc_webhook_set_free(s);
  free(ca);
}
END_TEST

START_TEST(what_the_api_rejects_is_rejected_with_the_place_and_the_fix)
{
  char *errs = load_bad(
      "- displayName: plain http\n"                                           /* 1 */
      "  genericWebService: {uri: 'http://hook.internal/'}\n"                 /* 2 */
      "  timeout: 31s\n"                                                      /* 3 */
      "- displayName: pem\n"                                                  /* 4 */
      "  genericWebService:\n"                                                /* 5 */
      "    uri: https://hook.internal/\n"                                     /* 6 */
      "    allowedCaCerts: ['-----BEGIN CERTIFICATE-----\\nMIIB']\n"          /* 7 */
      "- displayName: flexible\n"                                             /* 8 */
      "  genericWebService:\n"                                                /* 9 */
      "    uri: https://hook.internal/\n"                                     /* 10 */
      "    webhookType: FLEXIBLE\n"                                           /* 11 */
      "    requestBody: '{\"id\": $session.params.id}'\n"                     /* 12 */
      "    parameterMapping: {status: order.status}\n"                       /* 13 */
      "- name: projects/p/locations/europe-west1/agents/a/webhooks/far\n"     /* 14 */
      "  displayName: far\n"                                                  /* 15 */
      "  serviceDirectory:\n"                                                 /* 16 */
      "    service: " SVC "\n"                                                /* 17 */
      "    genericWebService: {uri: 'https://hook.internal/'}\n"              /* 18 */
      "- displayName: standard\n"                                             /* 19 */
      "  genericWebService: {uri: 'https://hook.internal/', requestBody: '{}',\n" /* 20 */
      "    requestHeaders: {'Bad Header': x}, oauthConfig: {clientId: c, tokenEndpoint: "
      "'http://auth/'},\n"                                                   /* 21 */
      "    secretVersionsForRequestHeaders: {X-K: {secretVersion: 'key/3'}}}\n" /* 22 */
      "- genericWebService: {uri: 'https://hook.internal/'}\n"               /* 23 */
      "  serviceDirectory: {service: " SVC "}\n",                             /* 24 */
      NULL);

  HAS(errs, "hooks.yaml:2:");
  HAS(errs, "genericWebService.uri: 'http://hook.internal/' is not an https URL");
  HAS(errs, "hooks.yaml:3:12: [0].timeout: 31s is out of range");
  HAS(errs, "hooks.yaml:7:22: [1].genericWebService.allowedCaCerts[0]: a PEM certificate; "
            "the API takes DER");
  HAS(errs, "hooks.yaml:12:18: [2].genericWebService.requestBody: not a JSON object at byte 7 "
            "(near '$session.params.id}')");
  HAS(errs, "parameterMapping.status: 'order.status' is not a path into the response");
  HAS(errs, "the service is in location 'us-central1' but the agent is in 'europe-west1'");
  HAS(errs, "[5].displayName: missing (required)");
  HAS(errs, "hooks.yaml:23:3: [5]: genericWebService and serviceDirectory are one of");
  HAS(errs, "hooks.yaml:21:");
  HAS(errs, "'Bad Header' is not an HTTP header name");
  HAS(errs, "tokenEndpoint: 'http://auth/' is not an https URL");
  HAS(errs, "'key/3' is not a secret version");
  HAS(errs, "set webhookType: FLEXIBLE");
  free(errs);
}
END_TEST

#define HOOK                                                                        \
  "- name: " AGENT "/webhooks/orders\n"                                             \
  "  displayName: orders\n"                                                          \
  "  genericWebService: {uri: 'https://orders.example/hook'}\n"
#define ENV                                                                         \
  "- name: " AGENT "/environments/staging\n"                                         \
  "  displayName: Staging\n"                                                         \
  "  webhookConfig:\n"                                                               \
  "    webhookOverrides:\n"                                                          \
  "      - name: " AGENT "/webhooks/orders\n"                                        \
  "        displayName: orders\n"                                                    \
  "        serviceDirectory:\n"                                                      \
  "          service: " SVC "\n"                                                     \
  "          genericWebService: {uri: 'https://orders.staging.internal/hook'}\n"

START_TEST(an_environment_s_overrides_replace_the_target)
{
  sdc_webhook_set *s;
  const sdc_webhook *w;
  char *errs;

  s = load_ok(ENV HOOK, NULL); /* without an environment: as configured */
  w = sdc_webhook_set_get(s, 0);
  ck_assert_str_eq(sdc_webhook_uri(w), "https://orders.example/hook");
  ck_assert_ptr_null(sdc_webhook_service(w));
  ck_assert_ptr_null(sdc_webhook_environment(w));
  sdc_webhook_set_free(s);
  for(int i = 0; i < 3; i++) { /* by id, display name or name */
    const char *keys[] = {"staging", "Staging", AGENT "/environments/staging"};
    s = load_ok(HOOK ENV, keys[i]);
    w = sdc_webhook_set_get(s, 0);
    ck_assert_str_eq(sdc_webhook_uri(w), "https://orders.staging.internal/hook");
    ck_assert_str_eq(sdc_webhook_service(w), SVC);
    ck_assert_str_eq(sdc_webhook_environment(w), keys[i]);
    sdc_webhook_set_free(s);
  }
  errs = load_bad(HOOK ENV, "prod");
  HAS(errs, "no environment 'prod' in the file");
  free(errs);
  errs = load_bad("- {displayName: other, genericWebService: {uri: 'https://o/'}}\n" ENV,
                  "staging");
  HAS(errs, "an override must name a webhook of the file");
  free(errs);
}
END_TEST

START_TEST(a_list_answer_and_several_documents_load)
{
  sdc_webhook_set *s;

  s = load_ok("{\"webhooks\": [{\"name\": \"" AGENT "/webhooks/w1\", \"displayName\": \"one\","
              " \"genericWebService\": {\"uri\": \"https://one/\"}}], \"nextPageToken\": \"\"}",
              NULL);
  ck_assert_str_eq(sdc_webhook_id(sdc_webhook_set_get(s, 0)), "w1");
  sdc_webhook_set_free(s);
  s = load_ok("displayName: a\ngenericWebService: {uri: 'https://a/'}\n---\n"
              "displayName: b\ngenericWebService: {uri: 'https://b/'}\ndisabled: true\n",
              NULL);
  ck_assert_uint_eq(sdc_webhook_set_count(s), 2);
  ck_assert(sdc_webhook_disabled(sdc_webhook_set_get(s, 1)));
  sdc_webhook_set_free(s);
  {
    char *errs = load_bad("displayName: a\ngenericWebService: {uri: 'https://a/'}\n---\n"
                          "displayName: a\ngenericWebService: {uri: 'https://b/'}\n", NULL);
    HAS(errs, "two webhooks have the id 'a'");
    free(errs);
  }
}
END_TEST

START_TEST(each_failure_has_dialogflow_s_event_status_and_retry)
{
  static const struct {
    sdc_webhook_failure f;
    long status;
    const char *event;
    int code;
    const char *name;
    int retry;
  } cases[] = {
      {SDC_WEBHOOK_OK, 200, NULL, 0, "OK", 0},
      {SDC_WEBHOOK_CONNECT, 0, "webhook.error.not-found", 14, "UNAVAILABLE", 1},
      {SDC_WEBHOOK_TLS, 0, "webhook.error.not-found", 14, "UNAVAILABLE", 0},
      {SDC_WEBHOOK_TIMEOUT, 0, "webhook.error.timeout", 4, "DEADLINE_EXCEEDED", 1},
      {SDC_WEBHOOK_HTTP_STATUS, 400, "webhook.error.bad-request", 3, "INVALID_ARGUMENT", 0},
      {SDC_WEBHOOK_HTTP_STATUS, 401, "webhook.error.rejected", 16, "UNAUTHENTICATED", 0},
      {SDC_WEBHOOK_HTTP_STATUS, 403, "webhook.error.rejected", 7, "PERMISSION_DENIED", 0},
      {SDC_WEBHOOK_HTTP_STATUS, 404, "webhook.error", 5, "NOT_FOUND", 0}, /* not not-found */
      {SDC_WEBHOOK_HTTP_STATUS, 429, "webhook.error", 8, "RESOURCE_EXHAUSTED", 0},
      {SDC_WEBHOOK_HTTP_STATUS, 500, "webhook.error", 13, "INTERNAL", 0},
      {SDC_WEBHOOK_HTTP_STATUS, 502, "webhook.error", 13, "INTERNAL", 1},
      {SDC_WEBHOOK_HTTP_STATUS, 503, "webhook.error.unavailable", 14, "UNAVAILABLE", 1},
      {SDC_WEBHOOK_HTTP_STATUS, 504, "webhook.error", 4, "DEADLINE_EXCEEDED", 1},
      {SDC_WEBHOOK_HTTP_STATUS, 302, "webhook.error", 2, "UNKNOWN", 0},
      {SDC_WEBHOOK_TOO_LARGE, 200, "webhook.error", 13, "INTERNAL", 0},
      {SDC_WEBHOOK_BAD_RESPONSE, 200, "webhook.error", 13, "INTERNAL", 0},
      {SDC_WEBHOOK_AUTH, 0, "webhook.error", 16, "UNAUTHENTICATED", 0},
      {SDC_WEBHOOK_DISABLED, 0, "webhook.error", 9, "FAILED_PRECONDITION", 0},
  };
  sdc_webhook_set *s;
  sdc_webhook_outcome o;

  for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    sdc_webhook_outcome_of(NULL, cases[i].f, cases[i].status, &o);
    ck_assert_msg(cases[i].event ? o.event && !strcmp(o.event, cases[i].event) : !o.event,
                  "case %zu: event %s", i, o.event ? o.event : "(none)");
    ck_assert_int_eq(o.rpc_code, cases[i].code);
    ck_assert_str_eq(o.rpc_name, cases[i].name);
    ck_assert_int_eq(o.retryable, cases[i].retry);
    ck_assert_int_eq(o.http_status, cases[i].status);
  }
  /* sdconnect.retryOn replaces the statuses retried */
  s = load_ok("displayName: a\ngenericWebService: {uri: 'https://a/'}\n"
              "sdconnect: {retryOn: [500]}\n", NULL);
  sdc_webhook_outcome_of(sdc_webhook_set_get(s, 0), SDC_WEBHOOK_HTTP_STATUS, 500, &o);
  ck_assert_int_eq(o.retryable, 1);
  sdc_webhook_outcome_of(sdc_webhook_set_get(s, 0), SDC_WEBHOOK_HTTP_STATUS, 503, &o);
  ck_assert_int_eq(o.retryable, 0);
  sdc_webhook_outcome_of(sdc_webhook_set_get(s, 0), SDC_WEBHOOK_TIMEOUT, 0, &o);
  ck_assert_int_eq(o.retryable, 1); /* timeouts always are */
  ck_assert_str_eq(sdc_webhook_failure_name(SDC_WEBHOOK_TOO_LARGE), "too_large");
  sdc_webhook_set_free(s);
}
END_TEST

static char *read_ok(const char *req, const char *body)
{
  char *out = NULL, err[512];
  sdc_status st = sdc_webhook_response_read(req, body, strlen(body), &out, err, sizeof(err));

  ck_assert_msg(st == SDC_OK, "%s: %s", sdc_strerror(st), err);
  return out;
}

static void read_bad(const char *body, sdc_status want, const char *says)
{
  char *out = NULL, err[512];

  ck_assert_int_eq(sdc_webhook_response_read(NULL, body, strlen(body), &out, err, sizeof(err)),
                   want);
  ck_assert_ptr_null(out);
  ck_assert_msg(strstr(err, says) != NULL, "no '%s' in '%s'", says, err);
}

#define REQ                                                                             \
  "{\"detectIntentResponseId\": \"r1\", \"messages\": [{\"text\": {\"text\": [\"queued\"]}}],"  \
  " \"sessionInfo\": {\"session\": \"s\", \"parameters\": {\"a\": 1, \"b\": 2}}}"

START_TEST(an_answer_is_applied_to_the_turn_as_dialogflow_applies_it)
{
  char *out;

  out = read_ok(REQ, "{\"fulfillmentResponse\": {\"messages\": [{\"text\": {\"text\": "
                     "[\"hi\"]}, \"extra\": 1}]},\n"
                     " \"sessionInfo\": {\"parameters\": {\"b\": null, \"c\": \"x\"}},\n"
                     " \"pageInfo\": {\"formInfo\": {\"parameterInfo\": [{\"displayName\": "
                     "\"p1\", \"state\": \"INVALID\"}, {\"displayName\": \"p2\", \"state\": 3}]}},\n"
                     " \"targetPage\": \"pages/next\", \"payload\": {\"k\": [1]},"
                     " \"undocumented\": {\"accepted\": true}}");
  ck_assert_str_eq(out, "{\"messages\":[{\"text\":{\"text\":[\"queued\"]}},{\"text\":"
                        "{\"text\":[\"hi\"]},\"extra\":1}],\"mergeBehavior\":\"APPEND\","
                        "\"parameters\":{\"a\":1,\"c\":\"x\"},\"changedParameters\":[\"c\"],"
                        "\"removedParameters\":[\"b\"],\"invalidParameters\":[\"p1\"],"
                        "\"targetPage\":\"pages/next\",\"payload\":{\"k\":[1]}}");
  sdc_free(out);
  out = read_ok(REQ, "{\"fulfillment_response\": {\"messages\": [{\"text\": {\"text\": "
                     "[\"only\"]}}], \"merge_behavior\": \"REPLACE\"}}");
  ck_assert_ptr_nonnull(strstr(out, "\"messages\":[{\"text\":{\"text\":[\"only\"]}}],"
                                    "\"mergeBehavior\":\"REPLACE\""));
  ck_assert_ptr_nonnull(strstr(out, "\"parameters\":{\"a\":1,\"b\":2}")); /* untouched */
  sdc_free(out);
  out = read_ok(NULL, "{}"); /* nothing to say is fine */
  ck_assert_ptr_nonnull(strstr(out, "\"messages\":[]"));
  sdc_free(out);
}
END_TEST

START_TEST(what_dialogflow_refuses_names_the_field_or_the_size)
{
  static char big[65536 + 2];
  char *out = NULL, err[256];

  memset(big, ' ', sizeof(big) - 1);
  big[0] = '{';
  big[65535] = '}'; /* exactly 64 KiB: accepted */
  ck_assert_int_eq(sdc_webhook_response_read(NULL, big, 65536, &out, err, sizeof(err)), SDC_OK);
  sdc_free(out);
  out = NULL;
  big[65535] = ' ';
  big[65536] = '}';
  ck_assert_int_eq(sdc_webhook_response_read(NULL, big, 65537, &out, err, sizeof(err)),
                   SDC_ETOOBIG);
  ck_assert_ptr_nonnull(strstr(err, "65537 bytes, over Dialogflow's limit of 64 KiB"));
  read_bad("{\"fulfillmentResponse\": ", SDC_EPROTO, "the answer is not JSON");
  read_bad("[]", SDC_EPROTO, "expected a JSON object (a WebhookResponse), got a list");
  read_bad("{\"fulfillmentResponse\": {\"messages\": [{\"text\": {\"text\": [\"a\"]}}, "
           "{\"text\": {\"text\": \"b\"}}]}}", SDC_EPROTO,
           "fulfillmentResponse.messages[1].text.text: expected a list, got a string");
  read_bad("{\"fulfillmentResponse\": {\"messages\": [{\"text\": {\"text\": [\"a\", 3]}}]}}",
           SDC_EPROTO, "fulfillmentResponse.messages[0].text.text[1]: expected a string, got a "
                       "number");
  read_bad("{\"fulfillmentResponse\": {\"messages\": [{\"text\": {}}]}}", SDC_EPROTO,
           "messages[0].text.text: missing");
  read_bad("{\"fulfillmentResponse\": {\"messages\": [{\"text\": {\"text\": []}, "
           "\"payload\": {}}]}}", SDC_EPROTO, "text and payload are one of");
  read_bad("{\"fulfillmentResponse\": {\"mergeBehavior\": \"MIX\"}}", SDC_EPROTO,
           "fulfillmentResponse.mergeBehavior: MIX is not one of the enum's values");
  read_bad("{\"sessionInfo\": {\"parameters\": [1]}}", SDC_EPROTO,
           "sessionInfo.parameters: expected an object, got a list");
  read_bad("{\"pageInfo\": {\"formInfo\": {\"parameterInfo\": [{\"displayName\": \"p\"}]}}}",
           SDC_EPROTO, "pageInfo.formInfo.parameterInfo[0].state: missing (required in an "
                       "answer)");
  read_bad("{\"targetPage\": \"p\", \"targetFlow\": \"f\"}", SDC_EPROTO,
           "targetPage and targetFlow are one of");
  read_bad("{\"payload\": \"text\"}", SDC_EPROTO, "payload: expected an object, got a string");
}
END_TEST

#define VALUES                                                                          \
  "{\"session\": {\"order_id\": \"A-1 \\\"quoted\\\" \\u00e9\\u20ac\", \"Count\": 12345,"       \
  " \"price\": 9.75, \"vip\": true, \"tags\": [\"a\", \"b\"], \"customer\": {\"name\": \"Zoë\","   \
  " \"id\": 7}, \"cleared\": null, \"order.ref\": \"dotted\"},"                                 \
  " \"page\": {\"step\": \"pay\"}, \"request\": {\"language\": \"en-US\"}}"

static char *render(bool body, const char *tmpl)
{
  char *out = NULL, err[256];
  sdc_status st = body ? sdc_webhook_render_body(tmpl, VALUES, &out, err, sizeof(err))
                       : sdc_webhook_render_uri(tmpl, VALUES, &out, err, sizeof(err));

  ck_assert_msg(st == SDC_OK, "%s: %s", sdc_strerror(st), err);
  return out;
}

START_TEST(flexible_templates_keep_json_types_and_escape_what_they_must)
{
  char *out;

  out = render(true, "{\"id\": \"$session.params.order_id\", \"n\": \"$session.params.count\","
                     " \"p\": \"$session.params.price\", \"vip\": \"$session.params.vip\","
                     " \"tags\": \"$session.params.tags\", \"c\": \"$session.params.customer\","
                     " \"who\": \"$session.params.customer.name\", \"none\": \"$session.params.nope\","
                     " \"gone\": \"$session.params.cleared\", \"ref\": \"$session.params.order.ref\","
                     " \"note\": \"order $session.params.order_id x$session.params.count for "
                     "$session.params.customer. On $page.params.step ($request.language)\","
                     " \"esc\": \"a\\\"b \\\\ $session.params.nope.\", \"k\": [1, {\"d\": null}]}");
  ck_assert_str_eq(out,
                   "{\"id\": \"A-1 \\\"quoted\\\" \u00e9\u20ac\", \"n\": 12345, \"p\": 9.75,"
                   " \"vip\": true, \"tags\": [\"a\",\"b\"], \"c\": {\"name\":\"Zo\u00eb\",\"id\":7},"
                   " \"who\": \"Zo\u00eb\", \"none\": null, \"gone\": null, \"ref\": \"dotted\","
                   " \"note\": \"order A-1 \\\"quoted\\\" \u00e9\u20ac x12345 for "
                   "{\\\"name\\\":\\\"Zo\u00eb\\\",\\\"id\\\":7}. On pay (en-US)\","
                   " \"esc\": \"a\\\"b \\\\ .\", \"k\": [1, {\"d\": null}]}");
  sdc_free(out);
  out = render(false, "https://orders.internal/v1/$session.params.order_id/items?c="
                      "$session.params.COUNT&t=$session.params.tags&x=$session.params.nope&l="
                      "$request.language");
  ck_assert_str_eq(out, "https://orders.internal/v1/A-1%20%22quoted%22%20%C3%A9%E2%82%AC/items"
                        "?c=12345&t=%5B%22a%22%2C%22b%22%5D&x=&l=en-US");
  sdc_free(out);
  {
    char err[256];
    out = NULL;
    ck_assert_int_eq(sdc_webhook_render_body("{\"a\": \"$session.params.count\" \"b\": 1}",
                                             VALUES, &out, err, sizeof(err)), SDC_EPROTO);
    ck_assert_ptr_nonnull(strstr(err, "not JSON once references are replaced"));
    ck_assert_int_eq(sdc_webhook_render_body("{}", "[1]", &out, err, sizeof(err)), SDC_EINVAL);
  }
}
END_TEST

START_TEST(parameter_mapping_takes_values_from_the_answer)
{
  sdc_webhook_set *s = load_ok(
      "displayName: flex\n"
      "genericWebService:\n"
      "  uri: https://a/\n"
      "  webhookType: FLEXIBLE\n"
      "  parameterMapping: {status: $.order.status, first: '$.items[0].sku', all: $.items,"
      " whole: $, gone: $.order.missing}\n", NULL);
  const char *answer = "{\"order\": {\"status\": \"shipped\"}, \"items\": [{\"sku\": 42}]}";
  char *out = NULL, err[256];

  ck_assert_int_eq(sdc_webhook_map_parameters(sdc_webhook_set_get(s, 0), answer, strlen(answer),
                                              &out, err, sizeof(err)), SDC_OK);
  ck_assert_str_eq(out, "{\"parameters\":{\"status\":\"shipped\",\"first\":42,"
                        "\"all\":[{\"sku\":42}],\"whole\":{\"order\":{\"status\":\"shipped\"},"
                        "\"items\":[{\"sku\":42}]}},\"missing\":[\"gone\"]}");
  sdc_free(out);
  out = NULL;
  ck_assert_int_eq(sdc_webhook_map_parameters(sdc_webhook_set_get(s, 0), "<html>", 6, &out, err,
                                              sizeof(err)), SDC_EPROTO);
  ck_assert_ptr_nonnull(strstr(err, "not JSON"));
  sdc_webhook_set_free(s);
}
END_TEST

START_TEST(a_request_is_built_as_dialogflow_fills_it)
{
  sdc_webhook_set *s = load_ok(HOOK ENV, "staging");
  sdc_webhook_request_opts *o = NULL;
  char *out = NULL, err[256];
  json_t *j;

  ck_assert_int_eq(sdc_webhook_request_opts_new(&o), SDC_OK);
  sdc_webhook_request_opts_set(o, SDC_WEBHOOK_REQUEST_TEXT, "where is my order?");
  sdc_webhook_request_opts_set(o, SDC_WEBHOOK_REQUEST_TAG, "order-status");
  sdc_webhook_request_opts_set(o, SDC_WEBHOOK_REQUEST_PAGE, "Order");
  sdc_webhook_request_opts_set(o, SDC_WEBHOOK_REQUEST_LANGUAGE, "fr");
  sdc_webhook_request_opts_set(o, SDC_WEBHOOK_REQUEST_PARAM, "order_id=A-17");
  sdc_webhook_request_opts_set(o, SDC_WEBHOOK_REQUEST_PARAM, "count=3");
  sdc_webhook_request_opts_set(o, SDC_WEBHOOK_REQUEST_PARAM, "o={\"k\": [true]}");
  sdc_webhook_request_opts_set(o, SDC_WEBHOOK_REQUEST_PAYLOAD, "{\"caller\": \"+15550100\"}");
  ck_assert_int_eq(sdc_webhook_request_build(sdc_webhook_set_get(s, 0), o, &out, err,
                                             sizeof(err)), SDC_OK);
  j = json_loads(out, 0, NULL);
  ck_assert_ptr_nonnull(j);
  ck_assert_int_eq(strlen(json_string_value(json_object_get(j, "detectIntentResponseId"))), 36);
  ck_assert_str_eq(json_string_value(json_object_get(j, "text")), "where is my order?");
  ck_assert_str_eq(json_string_value(json_object_get(j, "languageCode")), "fr");
  ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "fulfillmentInfo"),
                                                     "tag")), "order-status");
  ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "pageInfo"),
                                                     "displayName")), "Order");
  ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_object_get(j,
                               "sessionInfo"), "session")),
                               AGENT "/environments/staging/sessions/sdconnect-"));
  {
    json_t *p = json_object_get(json_object_get(j, "sessionInfo"), "parameters");
    ck_assert_str_eq(json_string_value(json_object_get(p, "order_id")), "A-17");
    ck_assert_int_eq(json_integer_value(json_object_get(p, "count")), 3);
    ck_assert(json_is_true(json_array_get(json_object_get(json_object_get(p, "o"), "k"), 0)));
  }
  ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "payload"), "caller")),
                   "+15550100");
  json_decref(j);
  sdc_free(out);
  /* a request file is completed, not replaced */
  sdc_webhook_request_opts_free(o);
  sdc_webhook_request_opts_new(&o);
  sdc_webhook_request_opts_set(o, SDC_WEBHOOK_REQUEST_JSON,
                               "{\"detectIntentResponseId\": \"mine\", \"triggerEvent\": \"e\"}");
  ck_assert_int_eq(sdc_webhook_request_build(sdc_webhook_set_get(s, 0), o, &out, err,
                                             sizeof(err)), SDC_OK);
  ck_assert_ptr_nonnull(strstr(out, "\"detectIntentResponseId\":\"mine\",\"triggerEvent\":\"e\""));
  ck_assert_ptr_nonnull(strstr(out, "\"fulfillmentInfo\":{\"tag\":\"\"}"));
  sdc_free(out);
  out = NULL;
  sdc_webhook_request_opts_set(o, SDC_WEBHOOK_REQUEST_PARAM, "=x");
  ck_assert_int_eq(sdc_webhook_request_build(sdc_webhook_set_get(s, 0), o, &out, err,
                                             sizeof(err)), SDC_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "'=x' is not NAME=VALUE"));
  sdc_webhook_request_opts_free(o);
  sdc_webhook_set_free(s);
}
END_TEST

START_TEST(a_url_gives_its_host_and_port)
{
  char host[64];
  int port;
  bool tls;

  ck_assert_int_eq(sdc__url_host("https://hook.internal/x?y=1", host, sizeof(host), &port, &tls),
                   0);
  ck_assert_str_eq(host, "hook.internal");
  ck_assert_int_eq(port, 443);
  ck_assert(tls);
  ck_assert_int_eq(sdc__url_host("http://10.0.0.5:8080", host, sizeof(host), &port, &tls), 0);
  ck_assert_str_eq(host, "10.0.0.5");
  ck_assert_int_eq(port, 8080);
  ck_assert(!tls);
  ck_assert_int_eq(sdc__url_host("https://[fd00::1]:9443/t", host, sizeof(host), &port, &tls),
                   0);
  ck_assert_str_eq(host, "[fd00::1]"); /* bracketed, as the pool takes it */
  ck_assert_int_eq(port, 9443);
  ck_assert_int_eq(sdc__url_host("https://[fd00::1/t", host, sizeof(host), &port, &tls), -1);
  ck_assert_int_eq(sdc__url_host("https://h:0/", host, sizeof(host), &port, &tls), -1);
  ck_assert_int_eq(sdc__url_host("https://h:70000/", host, sizeof(host), &port, &tls), -1);
  /* a port is digits, all of them: atoi would have read these as 80 and 8 */
  ck_assert_int_eq(sdc__url_host("https://h:80x/", host, sizeof(host), &port, &tls), -1);
  ck_assert_int_eq(sdc__url_host("https://h:+8/", host, sizeof(host), &port, &tls), -1);
  ck_assert_int_eq(sdc__url_host("https://h:/", host, sizeof(host), &port, &tls), -1);
  ck_assert_int_eq(sdc__url_host("https://[fd00::1]x/", host, sizeof(host), &port, &tls), -1);
  ck_assert_int_eq(sdc__url_host("https:///x", host, sizeof(host), &port, &tls), -1);
  ck_assert_int_eq(sdc__url_host("ftp://h/", host, sizeof(host), &port, &tls), -1);
  ck_assert_int_eq(sdc__url_host("https://a-host-name-longer-than-the-buffer-given-here-for-it"
                                 ".example/", host, 16, &port, &tls), -1);
}
END_TEST

Suite *webhook_suite(void)
{
  Suite *s = suite_create("webhook");
  TCase *tc = tcase_create("resource");

  tcase_add_test(tc, a_pasted_webhook_loads_with_every_field);
  tcase_add_test(tc, what_the_api_rejects_is_rejected_with_the_place_and_the_fix);
  tcase_add_test(tc, an_environment_s_overrides_replace_the_target);
  tcase_add_test(tc, a_list_answer_and_several_documents_load);
  suite_add_tcase(s, tc);
  tc = tcase_create("outcome");
  tcase_add_test(tc, each_failure_has_dialogflow_s_event_status_and_retry);
  suite_add_tcase(s, tc);
  tc = tcase_create("response");
  tcase_add_test(tc, a_request_is_built_as_dialogflow_fills_it);
  tcase_add_test(tc, an_answer_is_applied_to_the_turn_as_dialogflow_applies_it);
  tcase_add_test(tc, what_dialogflow_refuses_names_the_field_or_the_size);
  suite_add_tcase(s, tc);
  tc = tcase_create("flexible");
  tcase_add_test(tc, flexible_templates_keep_json_types_and_escape_what_they_must);
  tcase_add_test(tc, parameter_mapping_takes_values_from_the_answer);
  tcase_add_test(tc, a_url_gives_its_host_and_port);
  suite_add_tcase(s, tc);
  return s;
}
