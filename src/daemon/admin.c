/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin listener (listener.c serves it on the daemon's loop):
 * /metrics, /healthz, /readyz and the status page.
 *
 * /status.json is answered later (the daemon reads its history on another
 * thread): the connection is suspended, and resumed with the answer.
 */
#include "admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct admin_pending {
  struct admin_pending *next;
  struct admin *a;
  struct MHD_Connection *conn;
  bool answered;
  char *body; /* NULL: 503 */
  size_t len;
};

struct admin {
  struct listener l;
  struct admin_pending *pending; /* suspended /status.json requests */
  admin_status_fn status;
  void *status_ud;
  admin_diagnose_fn diagnose;
  void *diagnose_ud;
  sdc_metrics *metrics;
  admin_ready_fn ready;
  void *ud;
};

#define reply listener_reply

static enum MHD_Result answer_pending(struct admin *a, struct admin_pending *p)
{
  enum MHD_Result rc;

  for(struct admin_pending **pp = &a->pending; *pp; pp = &(*pp)->next)
    if(*pp == p) {
      *pp = p->next;
      break;
    }
  rc = p->body ? reply(p->conn, MHD_HTTP_OK, "application/json", p->body, p->len)
               : reply(p->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain",
                       "the status cannot be read right now\n", 36);
  free(p->body);
  free(p);
  return rc;
}

void admin_answer(struct admin_pending *p, const char *body, size_t len)
{
  if(p->answered)
    return;
  p->answered = true;
  if(body && (p->body = malloc(len ? len : 1))) {
    memcpy(p->body, body, len);
    p->len = len;
  }
  listener_resume(&p->a->l, p->conn); /* the handler runs again in MHD_run */
}

void admin_set_status(struct admin *a, admin_status_fn fn, void *userdata)
{
  a->status = fn;
  a->status_ud = userdata;
}

void admin_set_diagnose(struct admin *a, admin_diagnose_fn fn, void *userdata)
{
  a->diagnose = fn;
  a->diagnose_ud = userdata;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **state)
{
  struct admin *a = cls;
  static int first;

  (void)version;
  (void)upload;
  if(!*state) { /* the headers are in; the (empty) body comes next */
    *state = &first;
    return MHD_YES;
  }
  if(*state != &first) /* a /status.json request, resumed with its answer */
    return answer_pending(a, *state);
  if(*upload_size) { /* a body nobody asked for: read and dropped */
    *upload_size = 0;
    return MHD_YES;
  }
  if(strcmp(method, "GET") && strcmp(method, "HEAD"))
    return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "GET only\n", 9);
  {
    const char *why = "";
    unsigned refused = listener_check(&a->l, conn, &why);
    /* Health is answered to anyone: a kubelet or load balancer probing it
     * has no token or client certificate. Why it is not ready (check ids)
     * is told only to callers that may see the rest. */
    if(!strcmp(url, "/healthz"))
      return reply(conn, MHD_HTTP_OK, "text/plain", "ok\n", 3);
    if(!strcmp(url, "/readyz")) {
      char reason[300] = "", body[320];
      bool ready = !a->ready || a->ready(a->ud, reason, sizeof(reason));
      int n = snprintf(body, sizeof(body), "%s%s%s\n", ready ? "ready" : "not ready",
                       reason[0] && !refused ? ": " : "", refused ? "" : reason);
      return reply(conn, ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain",
                   body, (size_t)n);
    }
    if(refused) {
      char text[160];
      int n = snprintf(text, sizeof(text), "%s\n", why);
      return reply(conn, refused, "text/plain", text, (size_t)n);
    }
  }
  if(!strcmp(url, "/metrics")) {
    size_t len = 0;
    char *text = sdc_metrics_render(a->metrics, &len);
    enum MHD_Result rc;
    if(!text)
      return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", "out of memory\n", 14);
    rc = reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, len);
    sdc_free(text);
    return rc;
  }
  if(a->status && !strcmp(url, "/"))
    return reply(conn, MHD_HTTP_OK, "text/html; charset=utf-8",
                 (const char *)admin_status_page, admin_status_page_len);
  if(a->status && !strcmp(url, "/status.json")) {
    struct admin_pending *p = calloc(1, sizeof(*p));
    if(!p)
      return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", "out of memory\n", 14);
    p->a = a;
    p->conn = conn;
    p->next = a->pending;
    a->pending = p;
    *state = p;
    MHD_suspend_connection(conn);
    a->status(a->status_ud, p);
    return MHD_YES;
  }
  if(a->diagnose && !strcmp(url, "/diagnose.json")) {
    const char *id = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "id");
    unsigned status = 200;
    char *text = id && *id ? a->diagnose(a->diagnose_ud, id, &status) : NULL;
    enum MHD_Result rc;
    if(!id || !*id)
      return reply(conn, MHD_HTTP_BAD_REQUEST, "text/plain", "give ?id=CHECK_OR_WEBHOOK\n",
                   26);
    if(!text)
      return status == 404 ? reply(conn, MHD_HTTP_NOT_FOUND, "text/plain",
                                   "no check or webhook with that id\n", 33)
                           : reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain",
                                   "cannot start a diagnose now\n", 28);
    rc = reply(conn, MHD_HTTP_OK, "application/json", text, strlen(text));
    free(text);
    return rc;
  }
  return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n", 10);
}

int admin_start(struct admin **out, sdc_pool *loop, const struct listen_opts *o,
                sdc_metrics *metrics, admin_ready_fn ready, void *userdata,
                int *port, char *err, size_t errcap)
{
  struct admin *a = calloc(1, sizeof(*a));

  if(!a) {
    snprintf(err, errcap, "out of memory");
    return -1;
  }
  a->metrics = metrics;
  a->ready = ready;
  a->ud = userdata;
  if(listener_start(&a->l, loop, o, "admin listener", on_request, a, NULL, NULL, port, err,
                    errcap)) {
    free(a);
    return -1;
  }
  *out = a;
  return 0;
}

uint64_t admin_timeout_ms(struct admin *a) { return a ? listener_timeout_ms(&a->l) : UINT64_MAX; }

void admin_run(struct admin *a)
{
  if(a)
    listener_run(&a->l);
}

void admin_stop(struct admin *a)
{
  if(!a)
    return;
  for(struct admin_pending *p = a->pending; p; p = p->next)
    admin_answer(p, NULL, 0); /* 503, so none is left suspended */
  if(a->pending)
    listener_run(&a->l);
  while(a->pending) { /* not taken by MHD_run: closed with the daemon */
    struct admin_pending *p = a->pending;
    a->pending = p->next;
    free(p->body);
    free(p);
  }
  listener_stop(&a->l);
  free(a);
}
