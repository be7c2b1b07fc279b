/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The webhook gateway: other callers reach private webhooks through the
 * same path Dialogflow CX takes. `POST /v1/webhooks/{id}` with a
 * WebhookRequest (for a flexible webhook: the values its templates read;
 * its own method is taken too) is forwarded with sdc_webhook_call(): the
 * directory, the pooled TLS connection with the URL's host for SNI and
 * Host, the auth, the timeout and Dialogflow's single retry. The answer is
 * the webhook's own (status 200 and its body); a failure is a JSON error
 * with the event and webhookStatus Dialogflow would have produced.
 *
 * IMPLEMENTATION NOTES
 * - A request's body is read up to gateway.maxBodyBytes (a larger
 *   Content-Length is refused before any of it is read); then the
 *   connection is suspended while the call runs, and resumed with its
 *   answer, so the loop never waits.
 * - Past gateway.maxConcurrent calls a request is answered 503 with
 *   Retry-After at once, its call never made.
 * - A connection that goes away, or a gateway that stops, leaves its call
 *   running (it is reported as any other); the answer is then dropped.
 */
#include "gateway.h"

#include "daemon.h"

#include <jansson.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX "/v1/webhooks/"

struct request {
  struct request *next, *prev; /* in the gateway's list, while it lives */
  struct gateway *g;           /* NULL once the connection or gateway is gone */
  struct daemon *d;
  struct MHD_Connection *conn;
  char *body;
  size_t len;
  bool too_big, calling, called, answered;
  unsigned status;             /* the answer, once `answered` */
  char *answer;
  size_t answer_len;
  double started_s;
};

struct gateway {
  struct listener l;
  struct daemon *d;
  struct gateway_limits lim;
  struct request *reqs;
  unsigned in_flight;
};

static void unlink_req(struct request *q)
{
  if(!q->g)
    return;
  if(q->prev)
    q->prev->next = q->next;
  else
    q->g->reqs = q->next;
  if(q->next)
    q->next->prev = q->prev;
  q->next = q->prev = NULL;
}

static void req_free(struct request *q)
{
  free(q->body);
  free(q->answer);
  free(q);
}

/* {"error": {code, status, message}} as Google's APIs answer, plus what
 * Dialogflow would have made of the call when there was one. */
static char *error_json(unsigned http, const char *status, const char *message,
                        const sdc_webhook_call_result *r, size_t *len)
{
  json_t *j = json_pack("{s:{s:i s:s s:s}}", "error", "code", (int)http, "status", status,
                        "message", message);
  char *text;

  if(j && r) {
    json_object_set_new(j, "webhook", json_string(sdc_webhook_id(r->webhook)));
    json_object_set_new(j, "event", json_string(r->outcome.event));
    json_object_set_new(j, "webhookStatus", json_pack("{s:i s:s s:s}", "code",
                                                      r->outcome.rpc_code, "status",
                                                      r->outcome.rpc_name, "message",
                                                      message));
    json_object_set_new(j, "webhookStatusCode", json_integer(r->outcome.http_status));
    json_object_set_new(j, "attempts", json_integer(r->attempts));
  }
  text = j ? json_dumps(j, JSON_COMPACT) : NULL;
  json_decref(j);
  *len = text ? strlen(text) : 0;
  return text;
}

static enum MHD_Result refuse(struct request *q, unsigned http, const char *status,
                              const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Answer now with a JSON error, counted under `reason`. */
static enum MHD_Result refuse(struct request *q, unsigned http, const char *status,
                              const char *reason, const char *fmt, ...)
{
  char msg[600];
  size_t len;
  char *text;
  enum MHD_Result rc;
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  report_gateway_refused(q->d, reason);
  text = error_json(http, status, msg, NULL, &len);
  rc = listener_reply(q->conn, http, "application/json", text ? text : "{}", text ? len : 2);
  free(text);
  q->answered = true;
  return rc;
}

/* On the loop: the call is over. */
static void on_called(const sdc_webhook_call_result *r, void *ud)
{
  struct request *q = ud;
  double seconds = daemon_now_s() - q->started_s;
  unsigned http = 502;

  q->called = true;
  report_webhook(q->d, "gateway", r, seconds);
  if(!q->g) { /* nobody waits for the answer */
    req_free(q);
    return;
  }
  q->g->in_flight--;
  if(q->answered) /* the gateway stopping answered already */
    return;
  if(r->outcome.failure == SDC_WEBHOOK_OK && r->response) {
    q->status = 200;
    q->answer_len = r->response->body_len;
    if((q->answer = malloc(q->answer_len + 1)))
      memcpy(q->answer, r->response->body, q->answer_len);
  } else {
    const char *msg = r->detail && *r->detail ? r->detail
                                              : sdc_webhook_failure_name(r->outcome.failure);
    if(r->outcome.failure == SDC_WEBHOOK_TIMEOUT)
      http = 504;
    else if(r->outcome.failure == SDC_WEBHOOK_DISABLED)
      http = 503;
    else if(r->outcome.failure == SDC_WEBHOOK_BAD_REQUEST)
      http = 400;
    q->status = http;
    q->answer = error_json(http, r->outcome.rpc_name, msg, r, &q->answer_len);
  }
  q->answered = true;
  listener_resume(&q->g->l, q->conn); /* the handler runs again and sends it */
}

/* `{ ... }` around whatever is inside: the webhook reads the rest, as it
 * would Dialogflow's request (parsing it here cost the gateway a tenth of
 * its time). */
static bool looks_like_object(const char *b, size_t len)
{
  size_t i = 0;

  while(i < len && strchr(" \t\r\n", b[i]))
    i++;
  while(len > i && strchr(" \t\r\n", b[len - 1]))
    len--;
  return len - i >= 2 && b[i] == '{' && b[len - 1] == '}' && !memchr(b, '\0', len);
}

/* The body is in: find the webhook and call it. */
static enum MHD_Result forward(struct request *q, const char *url, const char *method)
{
  struct gateway *g = q->g;
  struct daemon *d = g->d;
  const char *id = url + strlen(PREFIX);
  const sdc_webhook *w;
  sdc_status st;

  if(strncmp(url, PREFIX, strlen(PREFIX)) || !*id || strchr(id, '/'))
    return refuse(q, 404, "NOT_FOUND", "not_found", "no such path: the gateway serves "
                  "POST " PREFIX "{id}");
  if(!(w = sdc_webhook_set_find(d->cfg->webhooks, id)))
    return refuse(q, 404, "NOT_FOUND", "not_found", "no webhook '%s' in the configuration",
                  id);
  if(strcmp(method, "POST") &&
     (sdc_webhook_kind(w) != SDC_WEBHOOK_FLEXIBLE || strcmp(method, sdc_webhook_method(w))))
    return refuse(q, 405, "INVALID_ARGUMENT", "method", "%s is not taken for webhook '%s' "
                  "(POST%s%s)", method, id, sdc_webhook_kind(w) == SDC_WEBHOOK_FLEXIBLE ?
                  " or " : "", sdc_webhook_kind(w) == SDC_WEBHOOK_FLEXIBLE ?
                  sdc_webhook_method(w) : "");
  if(q->len && !looks_like_object(q->body, q->len))
    return refuse(q, 400, "INVALID_ARGUMENT", "bad_json", "the body is not a JSON object "
                  "(a WebhookRequest)");
  if(g->in_flight >= g->lim.max_concurrent)
    return refuse(q, 503, "UNAVAILABLE", "busy", "%u calls are under way (gateway."
                  "maxConcurrent); try again", g->in_flight);
  q->started_s = daemon_now_s();
  st = sdc_webhook_call(d->run->caller, w, q->len ? q->body : "{}", on_called, q);
  if(st)
    return refuse(q, 503, "UNAVAILABLE", "busy", "the call cannot be made now: %s",
                  sdc_strerror(st));
  q->calling = true;
  g->in_flight++;
  MHD_suspend_connection(q->conn);
  return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **state)
{
  struct gateway *g = cls;
  struct request *q = *state;

  (void)version;
  if(!q) { /* the headers are in */
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    if(!(q = calloc(1, sizeof(*q))))
      return MHD_NO;
    q->g = g;
    q->d = g->d;
    q->conn = conn;
    q->next = g->reqs;
    if(g->reqs)
      g->reqs->prev = q;
    g->reqs = q;
    *state = q;
    /* refused before its body is read */
    {
      const char *why = "";
      unsigned refused = listener_check(&g->l, conn, &why);
      if(refused)
        return refuse(q, refused, refused == 401 ? "UNAUTHENTICATED" : "PERMISSION_DENIED",
                      "unauthorized", "%s", why);
    }
    if(cl && strtoull(cl, NULL, 10) > g->lim.max_body)
      return refuse(q, 413, "INVALID_ARGUMENT", "too_large", "the body is over %zu bytes "
                    "(gateway.maxBodyBytes)", g->lim.max_body);
    return MHD_YES;
  }
  if(q->answered && !q->status) /* refused: whatever else comes is dropped */
    return (*upload_size = 0), MHD_YES;
  if(q->answered) { /* resumed with the webhook's answer */
    enum MHD_Result rc = listener_reply(conn, q->status, "application/json",
                                        q->answer ? q->answer : "", q->answer ? q->answer_len : 0);
    q->status = 0;
    return rc;
  }
  if(*upload_size) {
    if(!q->too_big && q->len + *upload_size <= g->lim.max_body) {
      char *b = realloc(q->body, q->len + *upload_size + 1);
      if(!b)
        return MHD_NO;
      memcpy(b + q->len, upload, *upload_size);
      q->body = b;
      q->len += *upload_size;
      b[q->len] = '\0'; /* handed on as text */
    } else {
      q->too_big = true; /* chunked, without a Content-Length */
    }
    *upload_size = 0;
    return MHD_YES;
  }
  if(q->too_big)
    return refuse(q, 413, "INVALID_ARGUMENT", "too_large", "the body is over %zu bytes "
                  "(gateway.maxBodyBytes)", g->lim.max_body);
  return forward(q, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **state,
                         enum MHD_RequestTerminationCode why)
{
  struct request *q = *state;

  (void)cls;
  (void)conn;
  (void)why;
  if(!q)
    return;
  *state = NULL;
  unlink_req(q);
  if(q->calling && !q->called) { /* its call reports, then frees it */
    if(q->g)
      q->g->in_flight--;
    q->g = NULL;
    return;
  }
  req_free(q);
}

int gateway_start(struct gateway **out, struct daemon *d, const struct listen_opts *o,
                  const struct gateway_limits *lim, int *port, char *err, size_t errcap)
{
  struct gateway *g = calloc(1, sizeof(*g));

  if(!g) {
    snprintf(err, errcap, "out of memory");
    return -1;
  }
  g->d = d;
  g->lim = *lim;
  if(listener_start(&g->l, d->pool, o, "gateway", on_request, g, on_completed, g, port, err,
                    errcap)) {
    free(g);
    return -1;
  }
  *out = g;
  return 0;
}

void gateway_set_limits(struct gateway *g, const struct gateway_limits *lim)
{
  if(g)
    g->lim = *lim;
}

uint64_t gateway_timeout_ms(struct gateway *g)
{
  return g ? listener_timeout_ms(&g->l) : UINT64_MAX;
}

void gateway_run(struct gateway *g)
{
  if(g)
    listener_run(&g->l);
}

void gateway_stop(struct gateway *g)
{
  bool resumed = false;

  if(!g)
    return;
  for(struct request *q = g->reqs; q; q = q->next)
    if(q->calling && !q->called && !q->answered) {
      size_t len;
      q->status = 503;
      q->answer = error_json(503, "UNAVAILABLE", "the gateway is stopping", NULL, &len);
      q->answer_len = q->answer ? len : 0;
      q->answered = true;
      listener_resume(&g->l, q->conn);
      resumed = true;
    }
  if(resumed)
    listener_run(&g->l); /* the answers go out */
  listener_stop(&g->l);  /* every connection left completes (on_completed) */
  while(g->reqs) {       /* cannot happen: each was completed; not to leak */
    struct request *q = g->reqs;
    unlink_req(q);
    if(q->calling && !q->called)
      q->g = NULL; /* its call frees it */
    else
      req_free(q);
  }
  free(g);
}
