/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IMPLEMENTATION NOTES
 * - N worker threads, each with its own completion queue registered with
 *   the server and PENDING_PER_THREAD outstanding grpc_server_request_call()s
 *   on it, so N calls progress at once without sharing a queue.
 * - A call is a small state machine driven by its tag:
 *     REQUESTED --(new call)--> READING --(message)--> SENDING --> freed
 *   An unknown method or a failed token check skips READING and answers
 *   the status at once. Each answer is one batch: initial metadata,
 *   message, status, and RECV_CLOSE_ON_SERVER.
 * - The token check compares in constant time and never logs the token.
 * - Shutdown: grpc_server_shutdown_and_notify, cancel every call in flight,
 *   wait for the notification (bounded), destroy the server, then shut the
 *   queues down; workers exit when their queue reports SHUTDOWN.
 */
#include "server.h"

#include "logfmt.h"
#include "iam.h"
#include "registry.h"

#include <arpa/inet.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PENDING_PER_THREAD 16
#define MAX_THREADS 64

struct worker {
  struct lsd_server *srv;
  grpc_completion_queue *cq;
  pthread_t thread;
  bool started;
};

struct lsd_server {
  grpc_server *server;
  struct lsd_registry *registry;
  char *token;
  size_t token_len;
  struct lsd_iam *iam;
  int n_workers;
  struct worker workers[MAX_THREADS];
  atomic_ulong calls;
  atomic_bool stopping;
};

enum call_state { C_REQUESTED, C_READING, C_SENDING };

struct call {
  struct worker *w;
  enum call_state state;
  grpc_call *call;
  grpc_call_details details;
  grpc_metadata_array md;
  grpc_byte_buffer *recv;
  grpc_byte_buffer *send;
  grpc_slice status_msg;
  int cancelled;
  int method;
  const char *member; /* with IAM: who calls (the policy's string) */
  struct timespec start;
  grpc_status_code code;
};

static void request_new(struct worker *w)
{
  struct call *c;

  if(atomic_load(&w->srv->stopping))
    return;
  c = calloc(1, sizeof(*c));
  if(!c) {
    lf_log(LF_ERROR, "out of memory; not accepting another call", NULL);
    return;
  }
  c->w = w;
  c->state = C_REQUESTED;
  grpc_call_details_init(&c->details);
  grpc_metadata_array_init(&c->md);
  if(grpc_server_request_call(w->srv->server, &c->call, &c->details, &c->md,
                              w->cq, w->cq, c) != GRPC_CALL_OK) {
    grpc_call_details_destroy(&c->details);
    grpc_metadata_array_destroy(&c->md);
    free(c);
  }
}

static void call_free(struct call *c)
{
  if(c->recv)
    grpc_byte_buffer_destroy(c->recv);
  if(c->send)
    grpc_byte_buffer_destroy(c->send);
  grpc_slice_unref(c->status_msg);
  grpc_call_details_destroy(&c->details);
  grpc_metadata_array_destroy(&c->md);
  if(c->call)
    grpc_call_unref(c->call);
  free(c);
}

static double elapsed_ms(const struct timespec *t0)
{
  struct timespec now;

  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - t0->tv_sec) * 1e3 +
         (double)(now.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Answer the call: one batch with the status (and message when OK). */
static void answer(struct call *c, grpc_status_code code, const char *msg,
                   const uint8_t *body, size_t len)
{
  grpc_op ops[4];
  size_t n = 0;

  memset(ops, 0, sizeof(ops));
  c->code = code;
  c->status_msg = grpc_slice_from_copied_string(msg ? msg : "");
  ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
  if(code == GRPC_STATUS_OK) {
    grpc_slice s = grpc_slice_from_copied_buffer((const char *)body, len);
    c->send = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    ops[n].op = GRPC_OP_SEND_MESSAGE;
    ops[n++].data.send_message.send_message = c->send;
  }
  ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
  ops[n].data.send_status_from_server.status = code;
  ops[n++].data.send_status_from_server.status_details = &c->status_msg;
  ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
  ops[n++].data.recv_close_on_server.cancelled = &c->cancelled;
  c->state = C_SENDING;
  if(grpc_call_start_batch(c->call, ops, n, c, NULL) != GRPC_CALL_OK) {
    lf_log(LF_ERROR, "cannot answer call", NULL);
    call_free(c);
  }
}

static bool has_prefix(grpc_slice s, const char *p)
{
  size_t n = strlen(p);
  return GRPC_SLICE_LENGTH(s) >= n && !memcmp(GRPC_SLICE_START_PTR(s), p, n);
}

/* NULL when the call may go on, else the status to answer with. */
/* With IAM: the member the call's bearer token stands for. */
static grpc_status_code check_member(struct call *c, const char **why)
{
  const struct lsd_server *srv = c->w->srv;

  for(size_t i = 0; i < c->md.count; i++) {
    const grpc_metadata *m = &c->md.metadata[i];
    grpc_slice v = m->value;
    if(!grpc_slice_str_cmp(m->key, "authorization") && has_prefix(v, "Bearer ")) {
      c->member = lsd_iam_member(srv->iam, (const char *)GRPC_SLICE_START_PTR(v) + 7,
                                 GRPC_SLICE_LENGTH(v) - 7);
      if(c->member)
        return GRPC_STATUS_OK;
      break;
    }
  }
  *why = "the caller is not known: send 'authorization: Bearer <token>' with a token "
         "the server's --iam-policy file lists under principals";
  return GRPC_STATUS_UNAUTHENTICATED;
}

static grpc_status_code check_token(struct call *c, const char **why)
{
  const struct lsd_server *srv = c->w->srv;

  if(srv->iam)
    return check_member(c, why);
  if(!srv->token)
    return GRPC_STATUS_OK;
  for(size_t i = 0; i < c->md.count; i++) {
    const grpc_metadata *m = &c->md.metadata[i];
    grpc_slice v = m->value;
    size_t vl = GRPC_SLICE_LENGTH(v);
    if(!grpc_slice_str_cmp(m->key, "authorization")) {
      if(has_prefix(v, "Bearer ") && vl - 7 == srv->token_len &&
         !CRYPTO_memcmp(GRPC_SLICE_START_PTR(v) + 7, srv->token,
                        srv->token_len))
        return GRPC_STATUS_OK;
      *why = "the bearer token in 'authorization' was not accepted by this "
             "server; check the token file given to --token-file";
      return GRPC_STATUS_PERMISSION_DENIED;
    }
  }
  *why = "this server requires 'authorization: Bearer <token>' metadata; "
         "give the client the token from the server's --token-file";
  return GRPC_STATUS_UNAUTHENTICATED;
}

static void on_new_call(struct call *c)
{
  const char *why = NULL;
  grpc_status_code code;
  grpc_op op;
  const char *path = (const char *)GRPC_SLICE_START_PTR(c->details.method);
  size_t plen = GRPC_SLICE_LENGTH(c->details.method);

  request_new(c->w); /* keep the pool of waiting requests full */
  clock_gettime(CLOCK_MONOTONIC, &c->start);
  c->method = lsd_method_lookup(path, plen);
  if(c->method < 0) {
    char msg[300];
    snprintf(msg, sizeof(msg), "unknown method %.*s: this server implements "
             "google.cloud.servicedirectory.v1 LookupService and "
             "RegistrationService", (int)(plen > 200 ? 200 : plen), path);
    answer(c, GRPC_STATUS_UNIMPLEMENTED, msg, NULL, 0);
    return;
  }
  code = check_token(c, &why);
  if(code) {
    answer(c, code, why, NULL, 0);
    return;
  }
  memset(&op, 0, sizeof(op));
  op.op = GRPC_OP_RECV_MESSAGE;
  op.data.recv_message.recv_message = &c->recv;
  c->state = C_READING;
  if(grpc_call_start_batch(c->call, &op, 1, c, NULL) != GRPC_CALL_OK)
    call_free(c);
}

static void on_message(struct call *c)
{
  grpc_byte_buffer_reader reader;
  grpc_slice all;
  struct lsd_reply r;

  if(!c->recv) { /* the client closed without a request message */
    answer(c, GRPC_STATUS_INVALID_ARGUMENT, "no request message", NULL, 0);
    return;
  }
  if(!grpc_byte_buffer_reader_init(&reader, c->recv)) {
    answer(c, GRPC_STATUS_INVALID_ARGUMENT, "request could not be read",
           NULL, 0);
    return;
  }
  all = grpc_byte_buffer_reader_readall(&reader);
  grpc_byte_buffer_reader_destroy(&reader);
  if(c->w->srv->iam) {
    enum lsd_method m = (enum lsd_method)c->method;
    memset(&r, 0, sizeof(r));
    r.code = lsd_iam_check(c->w->srv->iam, c->member, m, GRPC_SLICE_START_PTR(all),
                           GRPC_SLICE_LENGTH(all), &r.err);
    if(r.code == GRPC_STATUS_OK && (m == M_GET_IAM_POLICY || m == M_SET_IAM_POLICY ||
                                    m == M_TEST_IAM_PERMISSIONS))
      lsd_iam_call(c->w->srv->iam, c->member, m, GRPC_SLICE_START_PTR(all),
                   GRPC_SLICE_LENGTH(all), &r);
    else if(r.code == GRPC_STATUS_OK)
      lsd_registry_call(c->w->srv->registry, m, GRPC_SLICE_START_PTR(all),
                        GRPC_SLICE_LENGTH(all), &r);
  } else {
    lsd_registry_call(c->w->srv->registry, (enum lsd_method)c->method,
                      GRPC_SLICE_START_PTR(all), GRPC_SLICE_LENGTH(all), &r);
  }
  grpc_slice_unref(all);
  answer(c, r.code, r.code ? r.err.msg : NULL, r.body, r.len);
  lsd_reply_cleanup(&r);
}

static void on_done(struct call *c)
{
  enum lf_level l = c->code == GRPC_STATUS_OK ? LF_DEBUG : LF_INFO;

  atomic_fetch_add(&c->w->srv->calls, 1);
  if(lf_enabled(l)) {
    char peer_buf[128] = "", detail[400] = "";
    char *peer = grpc_call_get_peer(c->call);
    size_t dl = GRPC_SLICE_LENGTH(c->status_msg);
    if(peer) {
      snprintf(peer_buf, sizeof(peer_buf), "%s", peer);
      gpr_free(peer);
    }
    /* the status text is user-facing and never holds a secret */
    if(dl >= sizeof(detail))
      dl = sizeof(detail) - 1;
    memcpy(detail, GRPC_SLICE_START_PTR(c->status_msg), dl);
    detail[dl] = '\0';
    lf_log(l, "rpc", "rpc=%s code=%d peer=%s ms=%.3f%s%s%s",
           c->method >= 0 ? lsd_method_name((enum lsd_method)c->method)
                          : "unknown",
           (int)c->code, lf_q(peer_buf), elapsed_ms(&c->start),
           c->cancelled ? " cancelled=true" : "", c->code ? " detail=" : "",
           c->code ? lf_q(detail) : "");
  }
  call_free(c);
}

static void *worker_main(void *arg)
{
  struct worker *w = arg;

  for(int i = 0; i < PENDING_PER_THREAD; i++)
    request_new(w);
  for(;;) {
    grpc_event ev = grpc_completion_queue_next(
        w->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    struct call *c;
    if(ev.type == GRPC_QUEUE_SHUTDOWN)
      break;
    if(ev.type != GRPC_OP_COMPLETE || !ev.tag)
      continue;
    c = ev.tag;
    switch(c->state) {
    case C_REQUESTED:
      if(!ev.success) { /* the server is shutting down */
        call_free(c);
        break;
      }
      on_new_call(c);
      break;
    case C_READING:
      if(!ev.success) {
        call_free(c);
        break;
      }
      on_message(c);
      break;
    case C_SENDING:
      on_done(c);
      break;
    }
  }
  return NULL;
}

int lsd_server_start(struct lsd_server **out, struct lsd_registry *reg,
                    const struct lsd_server_opts *o, int *port, char *err,
                    size_t errlen)
{
  struct lsd_server *srv = calloc(1, sizeof(*srv));
  grpc_arg args[2];
  grpc_channel_args chargs = {.num_args = 2, .args = args};
  grpc_server_credentials *creds;
  int bound;

  if(!srv) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  srv->registry = reg;
  srv->n_workers = o->threads < 1 ? 1 : o->threads > MAX_THREADS ? MAX_THREADS
                                                                  : o->threads;
  srv->iam = o->iam;
  if(o->token) {
    srv->token = strdup(o->token);
    if(!srv->token) { /* fail closed: never a server that skips the check */
      snprintf(err, errlen, "out of memory copying the token");
      free(srv);
      return -1;
    }
    srv->token_len = strlen(o->token);
  }
  memset(args, 0, sizeof(args));
  args[0].type = GRPC_ARG_INTEGER;
  args[0].key = (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
  args[0].value.integer = o->max_message;
  args[1].type = GRPC_ARG_INTEGER;
  args[1].key = (char *)GRPC_ARG_ALLOW_REUSEPORT;
  args[1].value.integer = 0; /* a busy port must fail, not be shared */
  srv->server = grpc_server_create(&chargs, NULL);
  for(int i = 0; i < srv->n_workers; i++) {
    srv->workers[i].srv = srv;
    srv->workers[i].cq = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(srv->server, srv->workers[i].cq, NULL);
  }
  if(o->cert_pem) {
    grpc_ssl_pem_key_cert_pair pair = {o->key_pem, o->cert_pem};
    creds = grpc_ssl_server_credentials_create_ex(
        o->client_ca_pem, &pair, 1,
        o->client_ca_pem ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                         : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE,
        NULL);
  } else {
    creds = grpc_insecure_server_credentials_create();
  }
  bound = creds ? grpc_server_add_http2_port(srv->server, o->listen, creds) : 0;
  if(creds)
    grpc_server_credentials_release(creds);
  if(bound <= 0) {
    snprintf(err, errlen, "cannot listen on %s: the address is in use, not "
             "local, or malformed (expected HOST:PORT, [IPv6]:PORT)%s",
             o->listen, o->cert_pem ? ", or the TLS certificate/key is invalid" : "");
    goto fail;
  }
  grpc_server_start(srv->server);
  for(int i = 0; i < srv->n_workers; i++) {
    if(pthread_create(&srv->workers[i].thread, NULL, worker_main,
                      &srv->workers[i])) {
      snprintf(err, errlen, "cannot start worker threads");
      lsd_server_stop(srv, 0);
      return -1;
    }
    srv->workers[i].started = true;
  }
  *port = bound;
  *out = srv;
  return 0;
fail:
  grpc_server_destroy(srv->server);
  for(int i = 0; i < srv->n_workers; i++) {
    grpc_completion_queue_shutdown(srv->workers[i].cq);
    while(grpc_completion_queue_next(srv->workers[i].cq,
                                     gpr_inf_future(GPR_CLOCK_REALTIME), NULL)
              .type != GRPC_QUEUE_SHUTDOWN)
      ;
    grpc_completion_queue_destroy(srv->workers[i].cq);
  }
  free(srv->token);
  free(srv);
  return -1;
}

void lsd_server_stop(struct lsd_server *srv, int grace_ms)
{
  grpc_completion_queue *cq;
  grpc_event ev;

  if(!srv)
    return;
  atomic_store(&srv->stopping, true);
  cq = grpc_completion_queue_create_for_pluck(NULL);
  grpc_server_shutdown_and_notify(srv->server, cq, srv);
  grpc_server_cancel_all_calls(srv->server);
  ev = grpc_completion_queue_pluck(
      cq, srv,
      gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                   gpr_time_from_millis(grace_ms, GPR_TIMESPAN)),
      NULL);
  if(ev.type != GRPC_OP_COMPLETE) {
    /* still draining: wait without a bound, the cancel makes it quick */
    lf_log(LF_WARN, "calls still in flight at shutdown; waiting", NULL);
    grpc_completion_queue_pluck(cq, srv, gpr_inf_future(GPR_CLOCK_REALTIME),
                                NULL);
  }
  grpc_server_destroy(srv->server);
  grpc_completion_queue_shutdown(cq);
  grpc_completion_queue_pluck(cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
  grpc_completion_queue_destroy(cq);
  for(int i = 0; i < srv->n_workers; i++)
    grpc_completion_queue_shutdown(srv->workers[i].cq);
  for(int i = 0; i < srv->n_workers; i++) {
    if(srv->workers[i].started)
      pthread_join(srv->workers[i].thread, NULL);
    grpc_completion_queue_destroy(srv->workers[i].cq);
  }
  if(srv->token) {
    OPENSSL_cleanse(srv->token, srv->token_len);
    free(srv->token);
  }
  free(srv);
}

unsigned long lsd_server_calls(const struct lsd_server *srv)
{
  return atomic_load(&((struct lsd_server *)srv)->calls);
}
