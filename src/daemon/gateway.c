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
 * - HTTP is h1server.c's: who may call and how large a body may be are
 *   checked there, before the body is read (a larger Content-Length is
 *   refused at once); a refusal is answered here, as a JSON error.
 * - A connection waits for its call's answer and reads nothing meanwhile,
 *   so the loop never waits.
 * - Past gateway.maxConcurrent calls a request is answered 503 with
 *   Retry-After at once, its call never made.
 * - A connection that goes away, or a gateway that stops, leaves its call
 *   running (it is reported as any other); the answer is then dropped.
 */
#include "gateway.h"

#include "daemon.h"
#include "h1server.h"

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
  struct h1client *c;
  double started_s;
};

struct gateway {
  struct h1server *srv;
  struct daemon *d;
  struct gateway_limits lim;
  struct request *reqs;
  unsigned in_flight;
  bool draining; /* the daemon stops: no new calls */
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

/* Answer with a JSON error (Google's status name for `http`). */
static void reply_error(struct h1client *c, unsigned http, const char *status,
                        const char *message, const sdc_webhook_call_result *r)
{
  size_t len;
  char *text = error_json(http, status, message, r, &len);

  h1server_reply(c, http, "application/json", text ? text : "{}", text ? len : 2);
  free(text);
}

static const char *status_name(unsigned http)
{
  switch(http) {
  case 401: return "UNAUTHENTICATED";
  case 403: return "PERMISSION_DENIED";
  case 404: return "NOT_FOUND";
  case 503: return "UNAVAILABLE";
  default: return "INVALID_ARGUMENT";
  }
}

static void refuse(struct gateway *g, struct h1client *c, unsigned http, const char *reason,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Answer now with a JSON error, counted under `reason`. */
static void refuse(struct gateway *g, struct h1client *c, unsigned http, const char *reason,
                   const char *fmt, ...)
{
  char msg[600];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  report_gateway_refused(g->d, reason);
  reply_error(c, http, status_name(http), msg, NULL);
}

/* On the loop: the call is over. */
static void on_called(const sdc_webhook_call_result *r, void *ud)
{
  struct request *q = ud;
  struct h1client *c = q->c;
  double seconds = daemon_now_s() - q->started_s;
  unsigned http = 502;

  report_webhook(q->d, "gateway", r, seconds);
  if(q->g) {
    q->g->in_flight--;
    unlink_req(q);
  }
  free(q);
  if(!c) /* nobody waits for the answer */
    return;
  h1client_set_data(c, NULL);
  if(r->outcome.failure == SDC_WEBHOOK_OK && r->response) {
    h1server_reply(c, 200, "application/json", r->response->body, r->response->body_len);
    return;
  }
  if(r->outcome.failure == SDC_WEBHOOK_TIMEOUT)
    http = 504;
  else if(r->outcome.failure == SDC_WEBHOOK_DISABLED)
    http = 503;
  else if(r->outcome.failure == SDC_WEBHOOK_BAD_REQUEST)
    http = 400;
  else if(r->outcome.failure == SDC_WEBHOOK_INTERNAL) /* ours, not the webhook's */
    http = 500;
  reply_error(c, http, r->outcome.rpc_name,
              r->detail && *r->detail ? r->detail : sdc_webhook_failure_name(r->outcome.failure),
              r);
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

/* A request is in: find the webhook and call it. */
static void on_request(struct h1client *c, void *ud)
{
  struct gateway *g = ud;
  struct daemon *d = g->d;
  const char *url = h1client_target(c), *method = h1client_method(c);
  const char *id = url + strlen(PREFIX), *body;
  const sdc_webhook *w;
  struct request *q;
  size_t len;
  sdc_status st;

  body = h1client_body(c, &len);
  if(strncmp(url, PREFIX, strlen(PREFIX)) || !*id || strchr(id, '/')) {
    refuse(g, c, 404, "not_found", "no such path: the gateway serves POST " PREFIX "{id}");
    return;
  }
  if(!(w = sdc_webhook_set_find(d->cfg->webhooks, id))) {
    refuse(g, c, 404, "not_found", "no webhook '%s' in the configuration", id);
    return;
  }
  if(strcmp(method, "POST") &&
     (sdc_webhook_kind(w) != SDC_WEBHOOK_FLEXIBLE || strcmp(method, sdc_webhook_method(w)))) {
    bool flex = sdc_webhook_kind(w) == SDC_WEBHOOK_FLEXIBLE;
    refuse(g, c, 405, "method", "%s is not taken for webhook '%s' (POST%s%s)", method, id,
           flex ? " or " : "", flex ? sdc_webhook_method(w) : "");
    return;
  }
  if(len && !looks_like_object(body, len)) {
    refuse(g, c, 400, "bad_json", "the body is not a JSON object (a WebhookRequest)");
    return;
  }
  if(g->draining) {
    refuse(g, c, 503, "stopping", "the gateway is stopping; try again (another replica)");
    return;
  }
  if(g->in_flight >= g->lim.max_concurrent) {
    refuse(g, c, 503, "busy", "%u calls are under way (gateway.maxConcurrent); try again",
           g->in_flight);
    return;
  }
  if(!(q = calloc(1, sizeof(*q)))) {
    refuse(g, c, 503, "busy", "the call cannot be made now: out of memory");
    return;
  }
  q->g = g;
  q->d = d;
  q->c = c;
  q->started_s = daemon_now_s();
  if((st = sdc_webhook_call(d->run->caller, w, len ? body : "{}", on_called, q))) {
    free(q);
    refuse(g, c, 503, "busy", "the call cannot be made now: %s", sdc_strerror(st));
    return;
  }
  q->next = g->reqs;
  if(g->reqs)
    g->reqs->prev = q;
  g->reqs = q;
  g->in_flight++;
  h1client_set_data(c, q);
}

static void on_refused(struct h1client *c, unsigned status, const char *reason,
                       const char *message, void *ud)
{
  refuse(ud, c, status, reason, "%s", message);
}

/* The caller left: its call goes on, its answer is dropped. */
static void on_gone(struct h1client *c, void *ud)
{
  struct request *q = h1client_data(c);

  (void)ud;
  if(q)
    q->c = NULL;
}

int gateway_start(struct gateway **out, struct daemon *d, const struct listen_opts *o,
                  const struct gateway_limits *lim, int *port, char *err, size_t errcap)
{
  static const struct h1server_hooks hooks = {on_request, on_refused, on_gone};
  struct gateway *g = calloc(1, sizeof(*g));

  if(!g) {
    snprintf(err, errcap, "out of memory");
    return -1;
  }
  g->d = d;
  g->lim = *lim;
  if(h1server_start(&g->srv, d->pool, o, "gateway", &hooks, g, lim->max_body, port, err,
                    errcap)) {
    free(g);
    return -1;
  }
  *out = g;
  return 0;
}

void gateway_set_limits(struct gateway *g, const struct gateway_limits *lim)
{
  if(!g)
    return;
  g->lim = *lim;
  h1server_set_max_body(g->srv, lim->max_body);
}

uint64_t gateway_timeout_ms(struct gateway *g)
{
  return g ? h1server_timeout_ms(g->srv) : UINT64_MAX;
}

void gateway_drain(struct gateway *g)
{
  if(g)
    g->draining = true;
}

void gateway_run(struct gateway *g)
{
  if(g)
    h1server_run(g->srv);
}

void gateway_stop(struct gateway *g)
{
  if(!g)
    return;
  for(struct request *q = g->reqs; q; q = q->next)
    if(q->c) {
      struct h1client *c = q->c;
      q->c = NULL;
      h1client_set_data(c, NULL);
      reply_error(c, 503, "UNAVAILABLE", "the gateway is stopping", NULL);
    }
  h1server_stop(g->srv); /* every connection closes */
  while(g->reqs) {       /* their calls report, then free them */
    struct request *q = g->reqs;
    unlink_req(q);
    q->g = NULL;
  }
  free(g);
}
