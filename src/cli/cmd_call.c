/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sdconnect call WEBHOOK_FILE: one call as Dialogflow CX would make it,
 * with the response summary, the event and status Dialogflow would
 * produce, the retry taken, and with -v every layer: the endpoint dialed,
 * SNI and Host, TLS and the certificate chain, the headers sent (secrets
 * masked), the HTTP status and where the time went.
 * Exit 0 when the call succeeds, 3 when it fails as Dialogflow counts it,
 * 2 for a bad file or flag, 1 when something else went wrong.
 */
#include "cmds.h"
#include "names.h"

#include "msgs.h"
#include "opts.h"

#include <sdconnect/sdconnect.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CMD "call"

struct run {
  bool json, verbose, done, failed;
};

static void print_turn(const char *result_json, bool flexible)
{
  json_t *t = json_loads(result_json ? result_json : "{}", 0, NULL), *v, *m;
  const char *key;
  size_t i;

  if(!t)
    return;
  if(flexible) {
    json_object_foreach(json_object_get(t, "parameters"), key, v) {
      char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
      printf("  parameter %s = %s\n", key, s ? s : "?");
      free(s);
    }
    json_array_foreach(json_object_get(t, "missing"), i, v)
      printf("  parameter %s: not in the answer (left unset)\n", json_string_value(v));
    json_decref(t);
    return;
  }
  printf("  messages (%s):\n", json_string_value(json_object_get(t, "mergeBehavior")));
  json_array_foreach(json_object_get(t, "messages"), i, m) {
    json_t *text = json_object_get(json_object_get(m, "text"), "text");
    char *s = text ? NULL : json_dumps(m, JSON_COMPACT);
    if(text)
      printf("    - %s\n", json_string_value(json_array_get(text, 0)));
    else
      printf("    - %s\n", s ? s : "?");
    free(s);
  }
  json_array_foreach(json_object_get(t, "changedParameters"), i, v) {
    char *s = json_dumps(json_object_get(json_object_get(t, "parameters"),
                                         json_string_value(v)), JSON_ENCODE_ANY | JSON_COMPACT);
    printf("  parameter %s = %s\n", json_string_value(v), s ? s : "?");
    free(s);
  }
  json_array_foreach(json_object_get(t, "removedParameters"), i, v)
    printf("  parameter %s removed\n", json_string_value(v));
  json_array_foreach(json_object_get(t, "invalidParameters"), i, v)
    printf("  form parameter %s marked INVALID\n", json_string_value(v));
  if((v = json_object_get(t, "targetPage")))
    printf("  target page: %s\n", json_string_value(v));
  if((v = json_object_get(t, "targetFlow")))
    printf("  target flow: %s\n", json_string_value(v));
  if(json_object_size(json_object_get(t, "payload"))) {
    char *s = json_dumps(json_object_get(t, "payload"), JSON_COMPACT);
    printf("  payload: %s\n", s ? s : "?");
    free(s);
  }
  json_decref(t);
}

static void print_layers(const sdc_webhook_call_result *r)
{
  const sdc_http_response *h = r->response;

  printf("  %s %s\n", r->method, r->url);
  if(r->url && !strncmp(r->url, "https://", 8)) {
    const char *host = r->url + 8;
    printf("  SNI, certificate name and Host: %.*s\n", (int)strcspn(host, ":/?#"), host);
  }
  if(sdc_webhook_service(r->webhook))
    printf("  directory: %s\n", sdc_webhook_service(r->webhook));
  if(h) {
    printf("  dialed: %s (%s connection)\n", h->endpoint, h->reused ? "reused" : "new");
    printf("  TLS: %s %s, verify %s\n", h->tls.version, h->tls.cipher,
           h->tls.verify_result ? "FAILED" : "ok");
    for(size_t i = 0; i < h->tls.n_chain; i++)
      printf("    chain[%zu]: %s\n", i, h->tls.chain[i]);
  }
  printf("  headers sent:\n");
  for(size_t i = 0; r->headers_shown && r->headers_shown[i]; i++)
    printf("    %s\n", r->headers_shown[i]);
  if(r->request_body)
    printf("  body sent: %s\n", r->request_body);
  if(h) {
    printf("  answer: HTTP %ld, HTTP/%s, %zu bytes\n", h->status,
           h->http_version == 2 ? "2" : "1.1", h->body_len);
    printf("  time: connect %.1f ms, TLS %.1f ms, first byte %.1f ms, total %.1f ms\n",
           h->timings.connect_ms, h->timings.tls_ms, h->timings.first_byte_ms,
           h->timings.total_ms);
  }
}

static json_t *outcome_json(const sdc_webhook_outcome *o)
{
  return json_pack("{s:s s:s? s:i s:s s:I s:b}", "failure", sdc_webhook_failure_name(o->failure),
                   "event", o->event, "code", o->rpc_code, "status", o->rpc_name,
                   "webhookStatusCode", (json_int_t)o->http_status, "retryable", o->retryable);
}

static void print_json(const sdc_webhook_call_result *r)
{
  json_t *j = json_object(), *headers = json_array();
  char *s;

  json_object_set_new(j, "webhook", json_string(sdc_webhook_id(r->webhook)));
  json_object_set_new(j, "outcome", outcome_json(&r->outcome));
  json_object_set_new(j, "attempts", json_integer(r->attempts));
  if(r->attempts > 1)
    json_object_set_new(j, "firstAttempt", outcome_json(&r->first));
  json_object_set_new(j, "detail", json_string(r->detail ? r->detail : ""));
  json_object_set_new(j, "method", json_string(r->method ? r->method : ""));
  json_object_set_new(j, "url", json_string(r->url ? r->url : ""));
  for(size_t i = 0; r->headers_shown && r->headers_shown[i]; i++)
    json_array_append_new(headers, json_string(r->headers_shown[i]));
  json_object_set_new(j, "headers", headers);
  if(r->response) {
    const sdc_http_response *h = r->response;
    json_t *chain = json_array();
    for(size_t i = 0; i < h->tls.n_chain; i++)
      json_array_append_new(chain, json_string(h->tls.chain[i]));
    json_object_set_new(j, "endpoint", json_string(h->endpoint));
    json_object_set_new(j, "tls", json_pack("{s:s s:s s:b s:o}", "version", h->tls.version,
                                            "cipher", h->tls.cipher, "verified",
                                            h->tls.verify_result == 0, "chain", chain));
    json_object_set_new(j, "timingsMs", json_pack("{s:f s:f s:f s:f}", "connect",
                                                  h->timings.connect_ms, "tls",
                                                  h->timings.tls_ms, "firstByte",
                                                  h->timings.first_byte_ms, "total",
                                                  h->timings.total_ms));
  }
  if(r->result_json)
    json_object_set_new(j, "result", json_loads(r->result_json, 0, NULL));
  s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
  if(s)
    puts(s);
  free(s);
  json_decref(j);
}

static void on_result(const sdc_webhook_call_result *r, void *ud)
{
  struct run *run = ud;

  run->done = true;
  run->failed = r->outcome.failure != SDC_WEBHOOK_OK;
  if(run->json) {
    print_json(r);
    return;
  }
  printf("webhook %s (%s) %s %s\n", sdc_webhook_id(r->webhook),
         sdc_webhook_kind(r->webhook) == SDC_WEBHOOK_FLEXIBLE ? "flexible" : "standard",
         r->method ? r->method : "-", r->url ? r->url : "-");
  if(r->attempts > 1)
    printf("  attempt 1: %s (%s), retried once as Dialogflow does\n",
           sdc_webhook_failure_name(r->first.failure),
           r->first.event ? r->first.event : "-");
  if(run->verbose)
    print_layers(r);
  if(!run->failed) {
    printf("result: ok  status OK (0)  $request.webhook_status_code %ld\n",
           r->outcome.http_status);
    print_turn(r->result_json, sdc_webhook_kind(r->webhook) == SDC_WEBHOOK_FLEXIBLE);
  } else {
    printf("result: FAILED (%s)  event %s  status %s (%d)  $request.webhook_status_code %ld\n",
           sdc_webhook_failure_name(r->outcome.failure), r->outcome.event,
           r->outcome.rpc_name, r->outcome.rpc_code, r->outcome.http_status);
    printf("  detail: %s\n", r->detail && *r->detail ? r->detail : "-");
  }
}

/* --url (with --service): a Webhook resource made from flags. */
struct adhoc {
  struct name_flags nf;
  const char *url, *service, *ca, *timeout;
};

/* A YAML single-quoted scalar: quotes doubled (malloc'd). */
static char *yq(const char *s)
{
  size_t n = strlen(s), o = 0;
  char *out = malloc(2 * n + 3);

  if(!out)
    return NULL;
  out[o++] = '\'';
  for(; *s; s++) {
    if(*s == '\'')
      out[o++] = '\'';
    out[o++] = *s;
  }
  out[o++] = '\'';
  out[o] = '\0';
  return out;
}

/* The CA file as Dialogflow's allowedCaCerts entry: one DER certificate in
 * Base64 (a PEM file's first certificate is converted). */
static char *ca_entry(const char *path)
{
  size_t len = 0;
  char *data = cli_read_file(CMD, "--webhook-ca", path, 1u << 20, &len), *b64 = NULL;
  const unsigned char *der = (const unsigned char *)data;
  unsigned char *conv = NULL;
  int der_len = (int)len;

  if(!data)
    return NULL;
  if(strstr(data, "-----BEGIN CERTIFICATE-----")) {
    BIO *bio = BIO_new_mem_buf(data, (int)len);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    der_len = x ? i2d_X509(x, &conv) : -1;
    der = conv;
    X509_free(x);
    BIO_free(bio);
  } else { /* DER: must be one certificate */
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if(!x)
      der_len = -1;
    X509_free(x);
  }
  if(der_len > 0 && (b64 = malloc(4 * ((size_t)der_len + 2) / 3 + 1)))
    EVP_EncodeBlock((unsigned char *)b64, der, der_len);
  else
    cli_error(CMD, "--webhook-ca %s: %s", path,
              der_len <= 0 ? "no certificate in it (PEM or DER)" : "out of memory");
  OPENSSL_free(conv);
  free(data);
  return b64;
}

static int adhoc_webhook(struct adhoc *a, char **out)
{
  char name[NAME_MAX_LEN], *url = NULL, *svc = NULL, *ca = NULL, *yaml = NULL;
  uint64_t ms = 5000;
  int rc = 2;
  size_t cap;

  if(a->timeout && !svc_parse_duration_ms(a->timeout, &ms))
    return usage_error(CMD, "--webhook-timeout: '%s' is not a duration (e.g. 5s)", a->timeout);
  if((rc = cli_service_flag(CMD, a->service, &a->nf, name, sizeof(name))))
    return rc;
  rc = 1;
  if(!(url = yq(a->url)) || (a->service && !(svc = yq(name))))
    goto oom;
  if(a->ca && !(ca = ca_entry(a->ca))) { /* it said why */
    rc = 2;
    goto out;
  }
  cap = strlen(url) + (svc ? strlen(svc) : 0) + (ca ? strlen(ca) : 0) + 256;
  if(!(yaml = malloc(cap)))
    goto oom;
  /* the loader checks it as it checks a file: an https URL, a service name */
  snprintf(yaml, cap, "displayName: adhoc\ntimeout: %llu.%03llus\n%s%s%s"
           "%sgenericWebService:\n%s  uri: %s\n%s%s%s%s",
           (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000),
           svc ? "serviceDirectory:\n  service: " : "", svc ? svc : "", svc ? "\n" : "",
           svc ? "  " : "", svc ? "  " : "", url, ca ? (svc ? "    " : "  ") : "",
           ca ? "allowedCaCerts: ['" : "", ca ? ca : "", ca ? "']\n" : "");
  *out = yaml;
  yaml = NULL;
  rc = 0;
  goto out;
oom:
  cli_error(CMD, "out of memory");
out:
  free(url);
  free(svc);
  free(ca);
  free(yaml);
  return rc;
}

int cmd_call(int argc, char **argv)
{
  struct dir_flags sf = {0};
  struct adhoc adhoc = {0};
  const char *request = NULL, *text = NULL, *tag = NULL, *page = NULL, *language = NULL,
             *payload = NULL, *environment = NULL, *which = NULL, *values = NULL;
  const char *params[MAX_REPEAT];
  size_t n_params = 0;
  bool verbose = false;
  struct flag own[] = {
      {.name = "webhook", .value = &which, .help = "ID  which webhook of the file (its id, "
       "display name or name)"},
      {.name = "environment", .value = &environment, .help = "ENV  apply this environment's "
       "webhookOverrides (its Environment resource is in the file)"},
      {.name = "request", .value = &request, .help = "FILE  a WebhookRequest (JSON) to send"},
      {.name = "text", .value = &text, .help = "TEXT  the user's text"},
      {.name = "tag", .value = &tag, .help = "TAG  fulfillmentInfo.tag"},
      {.name = "param", .list = params, .n_list = &n_params,
       .help = "NAME=VALUE  a session parameter (VALUE as JSON when it is JSON); repeatable"},
      {.name = "page", .value = &page, .help = "PAGE  the current page"},
      {.name = "language", .value = &language, .help = "CODE  languageCode (default en)"},
      {.name = "payload", .value = &payload, .help = "@FILE|JSON  the request payload"},
      {.name = "values", .value = &values, .help = "@FILE|JSON  flexible: the values "
       "references take ({\"session\": {...}, \"page\": {...}, \"request\": {...}})"},
      {.name = "verbose", .set = &verbose, .short_name = 'v', .help = "show every layer"},
      {.name = "url", .value = &adhoc.url, .help = "URL  instead of a file: a standard "
       "webhook at this https URL (reached through --service when given)"},
      {.name = "service", .value = &adhoc.service, .help = "NAME  with --url: the Service "
       "Directory service to reach it through (a full name, or an id with --namespace, "
       "--location and --project)"},
      {.name = "webhook-ca", .value = &adhoc.ca, .help = "FILE  with --url: the CA (PEM or "
       "DER) the webhook's certificate chains to (allowedCaCerts)"},
      {.name = "webhook-timeout", .value = &adhoc.timeout, .help = "DURATION  with --url: "
       "the webhook's timeout (default 5s, Dialogflow's)"},
      {0}};
  const struct flag *tables[] = {own, name_flag_table(&adhoc.nf), dir_flag_table(&sf), NULL};
  struct parsed p;
  sdc_webhook_set *set = NULL;
  const sdc_webhook *w = NULL;
  sdc_webhook_request_opts *ro = NULL;
  sdc_resolver *r = NULL;
  sdc_pool_opts *po = NULL;
  sdc_pool *pool = NULL;
  sdc_webhook_caller *caller = NULL;
  struct run run = {0};
  char *input = NULL, *file_text = NULL, *adhoc_text = NULL, *errs = NULL, err[600];
  bool input_sdc = false; /* from the library (sdc_free), else malloc'd */
  time_t started;
  int rc = opts_parse(CMD, argc, argv, 1, tables, &p);
  sdc_status st;

  if(rc)
    return rc;
  if(p.help) {
    printf("Usage: sdconnect call WEBHOOK_FILE [OPTIONS]\n\n"
           "Call a Dialogflow CX webhook once as Dialogflow would: POST a WebhookRequest\n"
           "(standard) or the rendered URL and body (flexible), through the Service\n"
           "Directory endpoint with the URL's host for SNI and Host, with the\n"
           "webhook's timeout per attempt and Dialogflow's single retry. Prints the\n"
           "response, the event and status Dialogflow would produce; -v shows every\n"
           "layer. WEBHOOK_FILE holds Webhook resources (sdconnect-webhook.yaml(5)).\n"
           "\nOptions:\n");
    opts_help(tables, "the call failed as Dialogflow counts it (it would raise an event)");
    return 0;
  }
  if(adhoc.url || adhoc.service || adhoc.ca || adhoc.timeout) {
    if(p.n_pos)
      return usage_error(CMD, "give a webhook file or --url, not both");
    if(!adhoc.url)
      return usage_error(CMD, "--service, --webhook-ca and --webhook-timeout go with --url");
    if((rc = adhoc_webhook(&adhoc, &adhoc_text)))
      return rc;
  } else if(p.n_pos != 1) {
    return usage_error(CMD, "name one webhook file, or give --url");
  } else if((rc = cli_service_flag(CMD, NULL, &adhoc.nf, NULL, 0))) {
    return rc; /* name flags with a file: nothing to complete */
  }
  run.json = sf.json;
  run.verbose = verbose;
  st = adhoc_text ? sdc_webhooks_load_mem("the --url webhook", adhoc_text, strlen(adhoc_text),
                                          environment, &set, &errs)
                  : sdc_webhooks_load_file(p.pos[0], environment, &set, &errs);
  free(adhoc_text); /* parsed: the set holds what it needs */
  if(st) {
    fputs(errs ? errs : "", stderr);
    if(errs && *errs && errs[strlen(errs) - 1] != '\n')
      fputc('\n', stderr);
    if(!errs)
      cli_error(CMD, "%s: %s", p.pos[0], sdc_strerror(st));
    if(st == SDC_ECONFIG)
      cli_hint("fields use Dialogflow CX's REST names; settings the API lacks go under "
               "'sdconnect:' (see sdconnect-webhook.yaml(5))");
    sdc_free(errs);
    return st == SDC_ENOMEM ? 1 : 2;
  }
  rc = 2;
  w = which ? sdc_webhook_set_find(set, which)
            : sdc_webhook_set_count(set) == 1 ? sdc_webhook_set_get(set, 0) : NULL;
  if(!w) {
    if(which)
      cli_error(CMD, "%s holds no webhook '%s'", p.pos[0], which);
    else
      cli_error(CMD, "%s holds %zu webhooks; say which with --webhook", p.pos[0],
                sdc_webhook_set_count(set));
    for(size_t i = 0; i < sdc_webhook_set_count(set); i++)
      fprintf(stderr, "  --webhook %s\n", sdc_webhook_id(sdc_webhook_set_get(set, i)));
    goto out;
  }
  if(sdc_webhook_kind(w) == SDC_WEBHOOK_FLEXIBLE) {
    if(values) { /* the values as given */
      if(!(input = values[0] == '@' ? cli_read_file(CMD, "--values", values + 1, 1u << 20, NULL)
                                    : strdup(values)))
        goto out;
    } else { /* --param NAME=VALUE as session parameters */
      json_t *v = json_object(), *s = json_object();
      for(size_t i = 0; i < n_params; i++) {
        const char *eq = strchr(params[i], '=');
        json_t *val;
        if(!eq || eq == params[i]) {
          usage_error(CMD, "--param '%s' is not NAME=VALUE", params[i]);
          json_decref(v);
          json_decref(s);
          goto out;
        }
        if(!(val = json_loads(eq + 1, JSON_DECODE_ANY, NULL)))
          val = json_string(eq + 1);
        json_object_setn_new(s, params[i], (size_t)(eq - params[i]), val);
      }
      json_object_set_new(v, "session", s);
      input = json_dumps(v, JSON_COMPACT);
      json_decref(v);
    }
  } else {
    if(sdc_webhook_request_opts_new(&ro))
      goto oom;
    if(request && !(file_text = cli_read_file(CMD, "--request", request, 1u << 20, NULL)))
      goto out;
    if(payload && payload[0] == '@') {
      char *pl = cli_read_file(CMD, "--payload", payload + 1, 1u << 20, NULL);
      if(!pl)
        goto out;
      st = sdc_webhook_request_opts_set(ro, SDC_WEBHOOK_REQUEST_PAYLOAD, pl);
      free(pl);
    } else {
      st = sdc_webhook_request_opts_set(ro, SDC_WEBHOOK_REQUEST_PAYLOAD, payload);
    }
    if(st || sdc_webhook_request_opts_set(ro, SDC_WEBHOOK_REQUEST_JSON, file_text) ||
       sdc_webhook_request_opts_set(ro, SDC_WEBHOOK_REQUEST_TEXT, text) ||
       sdc_webhook_request_opts_set(ro, SDC_WEBHOOK_REQUEST_TAG, tag) ||
       sdc_webhook_request_opts_set(ro, SDC_WEBHOOK_REQUEST_PAGE, page) ||
       sdc_webhook_request_opts_set(ro, SDC_WEBHOOK_REQUEST_LANGUAGE, language))
      goto oom;
    for(size_t i = 0; i < n_params; i++)
      if(sdc_webhook_request_opts_set(ro, SDC_WEBHOOK_REQUEST_PARAM, params[i]))
        goto oom;
    input_sdc = true;
    if((st = sdc_webhook_request_build(w, ro, &input, err, sizeof(err)))) {
      if(st == SDC_ENOMEM)
        goto oom;
      rc = usage_error(CMD, "%s", err);
      goto out;
    }
  }
  if(!input)
    goto oom;
  if(sdc_webhook_service(w) && (rc = cli_resolver_new(&sf, CMD, &r)))
    goto out;
  rc = 1;
  if(sdc_pool_opts_new(&po) || sdc_pool_opts_set_max_body(po, 1u << 20) ||
     sdc_pool_new(&pool, po) || sdc_webhook_caller_new(&caller, pool, r) ||
     sdc_webhook_call(caller, w, input, on_result, &run))
    goto oom;
  started = time(NULL);
  while(!run.done && time(NULL) - started < (time_t)(2 * sdc_webhook_timeout_ms(w) / 1000 + 60))
    sdc_pool_perform(pool, 1000);
  if(!run.done) {
    cli_error(CMD, "the call did not end in time");
    goto out;
  }
  rc = run.failed ? 3 : 0;
  goto out;
oom:
  cli_error(CMD, "out of memory");
  rc = 1;
out:
  sdc_webhook_caller_free(caller);
  sdc_pool_free(pool);
  sdc_pool_opts_free(po);
  sdc_resolver_free(r);
  sdc_webhook_request_opts_free(ro);
  sdc_webhook_set_free(set);
  if(input_sdc)
    sdc_free(input);
  else
    free(input);
  free(file_text);
  return rc;
}
