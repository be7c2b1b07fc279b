/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Step 6: a real, harmless call of the webhook as Dialogflow CX makes it
 * (sdc_webhook_call(): the directory, the pooled TLS connection, the
 * webhook's auth and timeout): a standard webhook gets a WebhookRequest
 * tagged "sdconnect-diagnose", a flexible one its templates rendered from
 * no values. The answer is judged as Dialogflow judges it, each failure
 * with the event and webhookStatus Dialogflow would produce, and then what
 * Dialogflow takes silently but should not be relied on: a JSON body
 * labelled otherwise.
 */
#include "diagnose/diag.h"

#include "core/core.h"
#include "webhook/webhook.h"

#include <sdconnect/pool.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define STEP "http"
#define TAG "sdconnect-diagnose"

struct wait {
  bool done;
  sdc_diag_report *r;
  const char *subject;
};

/* Valid UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
static bool utf8_ok(const unsigned char *s, size_t n)
{
  for(size_t i = 0; i < n; i++) {
    unsigned char c = s[i];
    unsigned cp;
    size_t k;
    if(c < 0x80)
      continue;
    if((c & 0xe0) == 0xc0)
      k = 1, cp = c & 0x1fu;
    else if((c & 0xf0) == 0xe0)
      k = 2, cp = c & 0x0fu;
    else if((c & 0xf8) == 0xf0)
      k = 3, cp = c & 0x07u;
    else
      return false;
    if(i + k >= n)
      return false;
    for(size_t j = 1; j <= k; j++) {
      if((s[i + j] & 0xc0) != 0x80)
        return false;
      cp = (cp << 6) | (s[i + j] & 0x3fu);
    }
    if((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
       cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += k;
  }
  return true;
}

/* The value of header `name` in a raw header block, or "". */
static void header(const sdc_http_response *resp, const char *name, char *out, size_t cap)
{
  size_t nl = strlen(name);
  const char *p = resp->headers, *end = p ? p + resp->headers_len : NULL;

  out[0] = '\0';
  while(p && p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    size_t len = eol ? (size_t)(eol - p) : (size_t)(end - p);
    if(len > nl && !strncasecmp(p, name, nl) && p[nl] == ':') {
      const char *v = p + nl + 1;
      while(*v == ' ')
        v++;
      snprintf(out, cap, "%.*s", (int)(len - (size_t)(v - p)), v);
      out[strcspn(out, "\r")] = '\0';
      return;
    }
    p = eol ? eol + 1 : end;
  }
}

static void judge(const sdc_webhook_call_result *res, struct wait *wt)
{
  sdc_diag_report *r = wt->r;
  const sdc_webhook_outcome *oc = &res->outcome;
  const sdc_http_response *resp = res->response;
  char said[300], fix[500], ctype[200] = "";
  long st = oc->http_status;

  snprintf(said, sizeof(said), "; Dialogflow raises %s (webhookStatus %s)",
           oc->event ? oc->event : "nothing", oc->rpc_name ? oc->rpc_name : "OK");
  switch(oc->failure) {
  case SDC_WEBHOOK_OK:
    break;
  case SDC_WEBHOOK_TIMEOUT:
    diag_addf(r, STEP, "HTTP_TIMEOUT", SDC_DIAG_FAIL, wt->subject,
              "answer within the webhook's timeout (the server's time and the network's), "
              "or raise `timeout` (at most 30s)",
              "no whole answer within the webhook's timeout%s", said);
    return;
  case SDC_WEBHOOK_HTTP_STATUS:
    if(st >= 300 && st < 400) {
      if(resp)
        header(resp, "Location", ctype, sizeof(ctype));
      snprintf(fix, sizeof(fix), "point the webhook's uri at where the server answers%s%s "
               "(Dialogflow does not follow redirects)", *ctype ? ": " : "", ctype);
      diag_addf(r, STEP, "HTTP_REDIRECT", SDC_DIAG_FAIL, wt->subject, fix,
                "HTTP %ld, a redirect%s", st, said);
    } else if(st == 401 || st == 403) {
      diag_addf(r, STEP, "HTTP_UNAUTHORIZED", SDC_DIAG_FAIL, wt->subject,
                "match the webhook's auth (requestHeaders, OAuth, service agent token) to "
                "what the server checks, and its audience or scopes",
                "HTTP %ld: the server refused the call's credentials%s", st, said);
    } else if(st == 404) {
      diag_addf(r, STEP, "HTTP_NOT_FOUND", SDC_DIAG_FAIL, wt->subject,
                "correct the path in the webhook's uri, or serve that path",
                "HTTP 404: the server has nothing at the URL's path%s", said);
    } else if(st >= 500) {
      diag_addf(r, STEP, "HTTP_SERVER_ERROR", SDC_DIAG_FAIL, wt->subject,
                "look at the server's own logs for this request (tag " TAG ")",
                "HTTP %ld from the server%s", st, said);
    } else {
      diag_addf(r, STEP, "HTTP_STATUS", SDC_DIAG_FAIL, wt->subject,
                "make the server answer 200 to a WebhookRequest (look at its logs for tag "
                TAG ")", "HTTP %ld%s", st, said);
    }
    return;
  case SDC_WEBHOOK_TOO_LARGE:
    diag_addf(r, STEP, "HTTP_TOO_LARGE", SDC_DIAG_FAIL, wt->subject,
              "keep the answer under 64 KiB: send less, or a reference to it",
              "the answer is over Dialogflow's 64 KiB%s", said);
    return;
  case SDC_WEBHOOK_BAD_RESPONSE:
    if(resp && !utf8_ok((const unsigned char *)resp->body, resp->body_len)) {
      diag_addf(r, STEP, "HTTP_NOT_UTF8", SDC_DIAG_FAIL, wt->subject,
                "encode the answer in UTF-8 (JSON text is UTF-8)",
                "the answer is not UTF-8%s", said);
      return;
    }
    diag_addf(r, STEP, "HTTP_BAD_RESPONSE", SDC_DIAG_FAIL, wt->subject,
              "answer a WebhookResponse: JSON with the fields and types Dialogflow reads "
              "(the one named)", "%s%s", res->detail && *res->detail ? res->detail
                                                                     : "not a WebhookResponse",
              said);
    return;
  case SDC_WEBHOOK_AUTH:
    diag_addf(r, STEP, "HTTP_AUTH_UNAVAILABLE", SDC_DIAG_FAIL, wt->subject,
              "make the webhook's credentials available: the secret version, the OAuth "
              "client, or the service agent's credentials",
              "the call's credentials could not be had: %s",
              res->detail && *res->detail ? res->detail : "no detail");
    return;
  case SDC_WEBHOOK_DISABLED:
    diag_add(r, STEP, "WEBHOOK_DISABLED", SDC_DIAG_FAIL, wt->subject,
             "the webhook is disabled: Dialogflow does not call it",
             "set disabled: false when it should be called");
    return;
  case SDC_WEBHOOK_BAD_REQUEST:
    diag_addf(r, STEP, "HTTP_BAD_REQUEST", SDC_DIAG_FAIL, wt->subject,
              "make the flexible webhook's requestBody JSON once its references are "
              "substituted", "the request cannot be made: %s",
              res->detail && *res->detail ? res->detail : "no detail");
    return;
  case SDC_WEBHOOK_INTERNAL:
    diag_addf(r, STEP, "HTTP_INTERNAL", SDC_DIAG_FAIL, wt->subject,
              "run diagnose again with more memory: nothing was learnt of the webhook",
              "sdconnect could not finish the call: %s",
              res->detail && *res->detail ? res->detail : "no detail");
    return;
  case SDC_WEBHOOK_CONNECT:
  case SDC_WEBHOOK_TLS:
    diag_addf(r, STEP, "HTTP_NO_CONNECTION", SDC_DIAG_FAIL, wt->subject,
              "see the endpoint and TLS findings above; they passed when checked, so the "
              "server may be unsteady", "the call could not connect: %s%s",
              res->detail && *res->detail ? res->detail : "no detail", said);
    return;
  }
  if(resp)
    header(resp, "Content-Type", ctype, sizeof(ctype));
  if(strncasecmp(ctype, "application/json", 16)) {
    diag_addf(r, STEP, "HTTP_CONTENT_TYPE", SDC_DIAG_WARN, wt->subject,
              "label the answer Content-Type: application/json",
              "the answer is JSON but labelled '%s'", *ctype ? ctype : "(nothing)");
    return;
  }
  diag_addf(r, STEP, "HTTP_OK", SDC_DIAG_OK, wt->subject, NULL,
            "HTTP %ld in %.0f ms from %s: a WebhookResponse Dialogflow takes", st,
            resp ? resp->timings.total_ms : 0.0, resp ? resp->endpoint : "?");
}

static void on_called(const sdc_webhook_call_result *res, void *ud)
{
  struct wait *wt = ud;

  judge(res, wt);
  wt->done = true;
}

void diag_http(sdc_resolver *res, const struct sdc_diag_opts *o, sdc_diag_report *r)
{
  const sdc_webhook *w = o->webhook;
  sdc_webhook_request_opts *ro = NULL;
  sdc_pool *pool = NULL;
  sdc_webhook_caller *caller = NULL;
  struct wait wt = {false, r, w->web.uri};
  char *input = NULL, err[300];
  uint64_t until = sdc__now_ms() + 2 * sdc_webhook_timeout_ms(w) + 10000;
  sdc_status st;

  if(sdc_webhook_request_opts_new(&ro) ||
     sdc_webhook_request_opts_set(ro, SDC_WEBHOOK_REQUEST_TAG, TAG) ||
     sdc_pool_new(&pool, NULL) || sdc_webhook_caller_new(&caller, pool, res)) {
    r->oom = true;
    goto out;
  }
  sdc_webhook_caller_set_turns(caller, 0); /* checked as Dialogflow checks, nothing kept */
  if(w->web.type == SDC_WEBHOOK_FLEXIBLE)
    input = sdc__strdup("{}"); /* no values: the templates' own text */
  else if((st = sdc_webhook_request_build(w, ro, &input, err, sizeof(err))))
    input = NULL;
  if(!input || sdc_webhook_call(caller, w, input, on_called, &wt)) {
    r->oom = true;
    goto out;
  }
  while(!wt.done && sdc__now_ms() < until) /* bounded: twice the timeout and then some */
    sdc_pool_perform(pool, 200);
  if(!wt.done)
    diag_add(r, STEP, "HTTP_TIMEOUT", SDC_DIAG_FAIL, wt.subject,
             "the call did not end within twice the webhook's timeout",
             "look at the server and the network; this should not happen");
out:
  sdc_webhook_caller_free(caller);
  sdc_pool_free(pool);
  sdc_webhook_request_opts_free(ro);
  sdc_free(input);
}
