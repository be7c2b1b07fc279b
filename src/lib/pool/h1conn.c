/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/1.1 over connections the pool drives itself.
 *
 * libcurl's per-request machinery (URL parsing, connection matching, header
 * formatting through its own printf) costs several times what the bytes on
 * the wire do. For HTTP/1.1 the pool dials the pinned endpoint itself
 * (dial.c: a non-blocking connect and an OpenSSL handshake with the
 * target's TLS settings, SNI and verification), writes requests and reads
 * answers with http_parser.
 *
 * - libcurl connected the kept connections here before, with CONNECT_ONLY
 *   handles: its TLS layer read each record in two recv() and its
 *   send/recv wrappers cost a tenth of a gateway call. dial.c reads a
 *   record in one (read-ahead).
 * - Our sockets are waited on by curl_multi_poll() of the main multi, so
 *   one poll serves both paths; the pool applies the connect, idle, age
 *   and request limits itself.
 * - A request whose reused connection turns out dead before any byte of an
 *   answer is tried once more on a new connection, as libcurl does.
 * - Which servers speak HTTP/1.1 is learnt: when HTTP/2 is allowed, the
 *   first request to a TLS target goes through libcurl, which offers h2 by
 *   ALPN; an HTTP/1.1 answer moves the target here for PROTO_TTL_MS.
 * - Callbacks never run inside sdc_pool_submit(): a request that cannot
 *   start waits in its target's queue for sdc_pool_perform().
 * - Connections are freed at the end of a loop turn (`closed` list), so
 *   the poll set of that turn never points at freed memory.
 */
#include "pool_int.h"

#include "core/core.h"
#include "pool/h1.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROTO_TTL_MS (10 * 60 * 1000)
#define SCAN_EVERY_MS 1000

enum proto { PROTO_UNKNOWN, PROTO_H1, PROTO_H2 };

struct tstate {
  struct tstate *next;
  sdc_target *t;
  struct h1conn *conns;
  unsigned n_conns;
  struct h1req *wait_head, *wait_tail;
  enum proto proto;
  uint64_t proto_until;
  bool probing; /* a request through libcurl is learning the protocol */
};

struct h1req {
  struct h1req *next;
  char *out, *method, *url;
  size_t out_len, out_off;
  uint64_t start_us, first_byte_us, deadline_ms;
  struct h1_reader rd;
  size_t tried;
  bool re_resolved, retried;
  bool fresh;    /* SDC_HTTP_FRESH_CONN: a connection of its own, not kept */
  char avoid[96]; /* an endpoint not to use while there is another ("" none) */
  bool truncate; /* SDC_HTTP_TRUNCATE */
  bool awaiting; /* every endpoint failed; the directory is asked again */
  sdc_status wait_st; /* ...and this is the failure if that does not help */
  sdc_fail_kind wait_kind;
  char *wait_msg;
  sdc_pool_cb cb;
  void *ud;
  /* the outcome, told to the caller at the end of the loop turn */
  sdc_status st;
  sdc_fail_kind kind;
  sdc_http_response *resp;
  char *msg;
};

struct h1conn {
  struct h1conn *next; /* in ts->conns, then in p->closed */
  struct tstate *ts;
  struct sdc__dial *dial;
  curl_socket_t fd;
  size_t ep;
  char endpoint[96];
  uint64_t created_us, used_ms;
  unsigned served;
  bool connecting, closed;
  struct h1req *req;
  double connect_ms, tls_ms; /* of the connect, from its start */
  char tls_version[32], tls_cipher[64];
  long verify;
  int64_t expiry;
  char **chain;
  size_t n_chain;
};

static void dispatch(sdc_pool *p, struct tstate *ts, bool may_fail);

/* ---- targets' state ------------------------------------------------------ */
struct tstate *sdc__h1_state(sdc_pool *p, sdc_target *t)
{
  struct tstate *ts;

  for(ts = p->targets; ts; ts = ts->next)
    if(ts->t == t)
      return ts;
  ts = sdc__calloc(1, sizeof(*ts));
  if(!ts)
    return NULL;
  ts->t = t;
  ts->next = p->targets;
  p->targets = ts;
  return ts;
}

bool sdc__h1_eligible(sdc_pool *p, struct tstate *ts)
{
  return !p->o.http2 || !ts->t->tls ||
         (ts->proto == PROTO_H1 && sdc__now_ms() < ts->proto_until);
}

bool sdc__h1_known_h2(const struct tstate *ts)
{
  return ts->proto == PROTO_H2 && sdc__now_ms() < ts->proto_until;
}

bool sdc__h1_probe(sdc_pool *p, struct tstate *ts, bool *hold)
{
  bool known_h2 = ts->proto == PROTO_H2 && sdc__now_ms() < ts->proto_until;

  (void)p;
  *hold = false;
  if(known_h2)
    return false;
  if(ts->probing) {
    *hold = true;
    return false;
  }
  ts->probing = true;
  return true;
}

void sdc__h1_probe_done(sdc_pool *p, struct tstate *ts)
{
  (void)p;
  ts->probing = false;
}

void sdc__h1_learn(sdc_pool *p, struct tstate *ts, int http_version)
{
  (void)p;
  ts->proto = http_version == 2 ? PROTO_H2 : PROTO_H1;
  ts->proto_until = sdc__now_ms() + PROTO_TTL_MS;
}

/* ---- requests ---------------------------------------------------------------- */
static void req_free(struct h1req *r)
{
  if(!r)
    return;
  h1_reader_free(&r->rd);
  sdc_free(r->out);
  sdc_free(r->msg);
  sdc_free(r->wait_msg);
  sdc_free(r);
}

static void enqueue(struct tstate *ts, struct h1req *r, bool front)
{
  r->next = NULL;
  if(!ts->wait_head) {
    ts->wait_head = ts->wait_tail = r;
  } else if(front) {
    r->next = ts->wait_head;
    ts->wait_head = r;
  } else {
    ts->wait_tail->next = r;
    ts->wait_tail = r;
  }
}

static struct h1req *dequeue(struct tstate *ts)
{
  struct h1req *r = ts->wait_head;

  if(r) {
    ts->wait_head = r->next;
    if(!ts->wait_head)
      ts->wait_tail = NULL;
    r->next = NULL;
  }
  return r;
}

/* The request is over: `resp`, or an error. The caller hears of it at the
 * end of the loop turn (flush_done), never while lists are being walked. */
static void finish_req(sdc_pool *p, struct h1req *r, sdc_status st,
                       sdc_fail_kind kind, sdc_http_response *resp,
                       const char *endpoint, const char *detail)
{
  r->st = st;
  r->kind = st == SDC_ENOMEM ? SDC_FAIL_NOMEM : kind;
  r->resp = resp;
  if(st) {
    char msg[1024];
    snprintf(msg, sizeof(msg), "%s %.300s via %s: %s", r->method, r->url,
             endpoint && *endpoint ? endpoint : "(no connection)", detail);
    snprintf(p->err, sizeof(p->err), "%s", msg);
    r->msg = sdc__strdup(msg);
  }
  r->next = NULL;
  if(p->h1_done_tail)
    p->h1_done_tail->next = r;
  else
    p->h1_done = r;
  p->h1_done_tail = r;
}

static void flush_done(sdc_pool *p)
{
  struct h1req *r;

  while((r = p->h1_done)) {
    p->h1_done = r->next;
    if(!p->h1_done)
      p->h1_done_tail = NULL;
    p->h1_pending--;
    p->fail = r->st ? r->kind : SDC_FAIL_NONE;
    r->cb(r->st, r->resp, r->st ? (r->msg ? r->msg : "out of memory") : "", r->ud);
    p->fail = SDC_FAIL_NONE;
    req_free(r);
  }
}

/* ---- connections --------------------------------------------------------------- */
static void conn_close(sdc_pool *p, struct h1conn *c)
{
  struct tstate *ts = c->ts;

  if(c->closed)
    return;
  for(struct h1conn **pp = &ts->conns; *pp; pp = &(*pp)->next)
    if(*pp == c) {
      *pp = c->next;
      break;
    }
  ts->n_conns--;
  c->closed = true;
  c->next = p->closed;
  p->closed = c;
}

static void conn_free(sdc_pool *p, struct h1conn *c)
{
  (void)p;
  sdc__dial_free(c->dial);
  for(size_t i = 0; i < c->n_chain; i++)
    sdc_free(c->chain[i]);
  sdc_free(c->chain);
  sdc_free(c);
}

static void reap(sdc_pool *p)
{
  while(p->closed) {
    struct h1conn *c = p->closed;
    p->closed = c->next;
    conn_free(p, c);
  }
}

/* Start a connection for `r` to the next endpoint. A failure to start says
 * why in *kind and `why` when it is not plain memory. */
static sdc_status conn_open(sdc_pool *p, struct tstate *ts, struct h1req *r,
                            sdc_fail_kind *kind, char *why, size_t cap)
{
  sdc_target *t = ts->t;
  uint64_t now = sdc__now_ms();
  struct h1conn *c;
  char line[400];
  long ep;
  sdc_status st;

  why[0] = '\0';
  if(!t->n_eps)
    return SDC_EUNAVAILABLE;
  ep = sdc__target_pick(t, now);
  if(ep < 0)
    ep = (long)(t->rr++ % t->n_eps); /* all down: try anyway, in turn */
  if(r->avoid[0] && t->n_eps > 1) { /* a retry: the next endpoint instead */
    char here[96], unused[400];
    sdc__target_endpoint(t, (size_t)ep, here, sizeof(here), unused, sizeof(unused));
    if(!strcmp(here, r->avoid))
      ep = (ep + 1) % (long)t->n_eps;
  }
  if(!(c = sdc__calloc(1, sizeof(*c))))
    return SDC_ENOMEM;
  c->ts = ts;
  c->ep = (size_t)ep;
  c->fd = CURL_SOCKET_BAD;
  sdc__target_endpoint(t, c->ep, c->endpoint, sizeof(c->endpoint), line,
                       sizeof(line));
  st = sdc__dial_start(p, t, t->eps[ep].addr, t->eps[ep].port, &c->dial, kind, why, cap);
  if(st) {
    conn_free(p, c);
    return st;
  }
  c->fd = sdc__dial_fd(c->dial);
  c->connecting = true;
  c->created_us = sdc__now_us();
  c->used_ms = now;
  c->req = r;
  c->next = ts->conns;
  ts->conns = c;
  ts->n_conns++;
  return SDC_OK;
}

static bool conn_too_old(const sdc_pool *p, const struct h1conn *c, uint64_t now)
{
  return p->o.max_age_ms && now - c->created_us / 1000 >= p->o.max_age_ms;
}

static bool conn_expired(const sdc_pool *p, const struct h1conn *c, uint64_t now)
{
  return now - c->used_ms >= p->o.idle_ms || conn_too_old(p, c, now);
}

static bool sending(const struct h1conn *c)
{
  return c->req && c->req->out_off < c->req->out_len;
}

/* Write what the request still has to send. CURLE_OK also when the socket
 * is full (the rest goes when poll says it can). */
static CURLcode conn_send(struct h1conn *c)
{
  struct h1req *r = c->req;

  while(r->out_off < r->out_len) {
    size_t n = 0;
    CURLcode rc = sdc__dial_send(c->dial, r->out + r->out_off, r->out_len - r->out_off, &n);
    if(rc == CURLE_AGAIN)
      return CURLE_OK;
    if(rc)
      return rc;
    r->out_off += n;
  }
  return CURLE_OK;
}

static sdc_http_response *build_response(struct h1conn *c, struct h1req *r,
                                         bool reused)
{
  sdc_http_response *resp = sdc__response_new(c->endpoint, c->tls_version,
                                               c->tls_cipher,
                                               c->chain, c->n_chain);
  uint64_t now = sdc__now_us();
  double before_conn = (double)(c->created_us - r->start_us) / 1e3;

  if(!resp)
    return NULL;
  if(!sdc__response_take(resp, &r->rd.hdrs, r->rd.hdr_n, &r->rd.body, r->rd.body_n))
    return NULL;
  resp->status = r->rd.status;
  resp->truncated = r->rd.truncated;
  resp->reused = reused;
  resp->http_version = 11;
  if(!reused && c->created_us >= r->start_us)
    resp->timings = (sdc_http_timings){before_conn + c->connect_ms,
                                       c->tls_ms > 0 ? before_conn + c->tls_ms : 0, 0, 0};
  resp->timings.first_byte_ms = (double)(r->first_byte_us - r->start_us) / 1e3;
  resp->timings.total_ms = (double)(now - r->start_us) / 1e3;
  resp->tls.verify_result = c->verify;
  resp->tls.earliest_expiry = c->expiry;
  return resp;
}

/* The answer on `c` is whole: hand it over, keep or close the connection. */
static void conn_answered(sdc_pool *p, struct h1conn *c)
{
  struct h1req *r = c->req;
  bool reused = c->served > 0;
  uint64_t now = sdc__now_ms();
  sdc_http_response *resp = build_response(c, r, reused);

  c->req = NULL;
  c->served++;
  c->used_ms = now;
  if(r->fresh || !r->rd.keep_alive ||
     (p->o.max_requests && c->served >= p->o.max_requests) ||
     conn_too_old(p, c, now))
    conn_close(p, c); /* freed at the end of the turn: c->endpoint stays */
  if(resp)
    finish_req(p, r, SDC_OK, SDC_FAIL_NONE, resp, c->endpoint, "");
  else
    finish_req(p, r, SDC_ENOMEM, SDC_FAIL_NOMEM, NULL, c->endpoint, "out of memory");
}

/* The connection broke under its request: try once more on a new
 * connection when a reused one died before any answer, else fail. */
static void conn_broke(sdc_pool *p, struct h1conn *c, CURLcode rc,
                       const char *why)
{
  struct h1req *r = c->req;
  char detail[600];
  sdc_status st;
  sdc_fail_kind kind = SDC_FAIL_PROTOCOL;

  c->req = NULL;
  conn_close(p, c);
  if(!r)
    return;
  if(c->served > 0 && !r->rd.started && !r->retried) {
    r->retried = true;
    r->out_off = 0;
    enqueue(c->ts, r, true);
    return;
  }
  if(rc != CURLE_OK) {
    st = sdc__dial_explain(c->dial, rc, !r->rd.started, &kind, detail, sizeof(detail));
  } else {
    kind = r->rd.fail == H1_BODY_TOO_BIG || r->rd.fail == H1_HEADER_TOO_BIG
               ? SDC_FAIL_TOO_BIG : SDC_FAIL_PROTOCOL;
    st = r->rd.fail == H1_BODY_TOO_BIG || r->rd.fail == H1_HEADER_TOO_BIG
             ? SDC_ETOOBIG
         : r->rd.fail == H1_NOMEM ? SDC_ENOMEM
                                  : SDC_EUNAVAILABLE;
    snprintf(detail, sizeof(detail), "%s", why);
  }
  finish_req(p, r, st, kind, NULL, c->endpoint, detail);
}

static void conn_readable(sdc_pool *p, struct h1conn *c)
{
  char buf[16384];

  for(;;) {
    struct h1req *r = c->req;
    size_t n = 0;
    CURLcode rc = sdc__dial_recv(c->dial, buf, sizeof(buf), &n);

    if(rc == CURLE_AGAIN)
      return;
    if(rc) {
      conn_broke(p, c, rc, "");
      return;
    }
    if(!r) { /* an idle connection: closed by the server, or stray bytes */
      conn_close(p, c);
      return;
    }
    if(n == 0) {
      if(h1_reader_eof(&r->rd))
        conn_broke(p, c, CURLE_OK, r->rd.why);
      else
        conn_answered(p, c);
      return;
    }
    if(!r->first_byte_us)
      r->first_byte_us = sdc__now_us();
    if(h1_reader_feed(&r->rd, buf, n)) {
      conn_broke(p, c, CURLE_OK, r->rd.why);
      return;
    }
    if(r->rd.complete) {
      conn_answered(p, c);
      return;
    }
  }
}

/* Put `r` on connection `c` (up and idle) and start writing. */
static CURLcode conn_start(sdc_pool *p, struct h1conn *c, struct h1req *r)
{
  c->req = r;
  h1_reader_free(&r->rd);
  h1_reader_init(&r->rd, !strcmp(r->method, "HEAD"), p->o.max_body,
                 p->o.max_header);
  r->rd.truncate = r->truncate;
  r->out_off = 0;
  return conn_send(c);
}


/* Give waiting requests idle connections, or new ones within the limit.
 * With may_fail, a request that cannot get a connection at all fails;
 * without, it waits for the next turn of sdc_pool_perform(). */
/* `r` keeps away from `endpoint` while the target has another. */
static bool avoided(const struct tstate *ts, const struct h1req *r, const char *endpoint)
{
  return r->avoid[0] && ts->t->n_eps > 1 && !strcmp(r->avoid, endpoint);
}

static void dispatch(sdc_pool *p, struct tstate *ts, bool may_fail)
{
  uint64_t now = sdc__now_ms();
  /* no new connection to endpoints the directory is being asked about */
  bool asking = sdc__resolve_pending(p, ts->t);

  while(ts->wait_head) {
    struct h1conn *idle = NULL, *next;
    for(struct h1conn *c = ts->wait_head->fresh ? NULL : ts->conns; c; c = next) {
      next = c->next;
      if(c->connecting || c->req || avoided(ts, ts->wait_head, c->endpoint))
        continue;
      if(conn_expired(p, c, now)) {
        conn_close(p, c);
        continue;
      }
      idle = c;
      break;
    }
    if(idle) {
      CURLcode rc = conn_start(p, idle, dequeue(ts));
      if(rc)
        conn_broke(p, idle, rc, "");
    } else if(ts->n_conns < p->o.max_conns && !asking) {
      struct h1req *r = dequeue(ts);
      sdc_fail_kind kind = SDC_FAIL_NO_ENDPOINT;
      char why[600];
      sdc_status st = conn_open(p, ts, r, &kind, why, sizeof(why));
      if(st) {
        enqueue(ts, r, true);
        if(!may_fail)
          return;
        finish_req(p, dequeue(ts), st, kind, NULL, NULL,
                   why[0] ? why : st == SDC_ENOMEM ? "out of memory"
                                                  : "no endpoint to connect to");
      }
    } else {
      return;
    }
  }
}

sdc_status sdc__h1_submit(sdc_pool *p, struct tstate *ts,
                          const sdc_http_request *req, const struct h1_url *u,
                          const char *method, bool re_resolved, sdc_pool_cb cb,
                          void *ud)
{
  size_t ml = strlen(method) + 1, ul = strlen(req->url) + 1;
  struct h1req *r = sdc__calloc(1, sizeof(*r) + ml + ul); /* and its strings */

  if(!r)
    return SDC_ENOMEM;
  r->cb = cb;
  r->ud = ud;
  r->re_resolved = re_resolved;
  r->fresh = req->flags & SDC_HTTP_FRESH_CONN;
  r->truncate = req->flags & SDC_HTTP_TRUNCATE;
  if(req->avoid_endpoint)
    snprintf(r->avoid, sizeof(r->avoid), "%s", req->avoid_endpoint);
  r->method = memcpy((char *)(r + 1), method, ml);
  r->url = memcpy(r->method + ml, req->url, ul);
  r->out = h1_request(method, u, ts->t->host, ts->t->port, SDC_USER_AGENT,
                      req->headers, req->body, req->body_len, &r->out_len);
  if(!r->out) {
    req_free(r);
    return SDC_ENOMEM;
  }
  r->start_us = sdc__now_us();
  r->deadline_ms = r->start_us / 1000 +
                   (req->timeout_ms ? req->timeout_ms : DEFAULT_TIMEOUT_MS);
  if(r->deadline_ms < p->scan_due)
    p->scan_due = r->deadline_ms;
  h1_reader_init(&r->rd, false, p->o.max_body, p->o.max_header);
  p->h1_pending++;
  enqueue(ts, r, false);
  dispatch(p, ts, false);
  return SDC_OK;
}

/* ---- connect results --------------------------------------------------------- */
/* A connect failure (st, detail): the endpoint is marked down and the
 * request moves to the next one; when all have failed, the directory is
 * asked again once and the request waits for the answer. */
static bool connect_failover(sdc_pool *p, struct h1conn *c, struct h1req *r,
                             bool no_tcp, sdc_status st, sdc_fail_kind kind,
                             const char *detail)
{
  sdc_target *t = c->ts->t;
  uint64_t now = sdc__now_ms();

  if(!no_tcp || now >= r->deadline_ms) /* only a TCP failure moves on */
    return false;
  if(c->ep < t->n_eps)
    t->eps[c->ep].down_until_ms = now + DOWN_MS;
  if(++r->tried >= t->n_eps) {
    char buf[800], *msg;
    snprintf(buf, sizeof(buf), "%s (last tried %s; asking the directory "
             "again did not help)", detail, c->endpoint);
    if(!t->resolver || r->re_resolved || !(msg = sdc__strdup(buf)))
      return false;
    if(sdc__resolve_again(p, t)) {
      sdc_free(msg);
      return false;
    }
    r->re_resolved = true;
    r->awaiting = true;
    r->tried = 0;
    r->wait_st = st;
    r->wait_kind = kind;
    sdc_free(r->wait_msg);
    r->wait_msg = msg;
  }
  enqueue(c->ts, r, true);
  return true;
}

void sdc__h1_endpoints_known(sdc_pool *p, struct tstate *ts, sdc_status st)
{
  bool usable = st == SDC_OK && ts->t->n_eps;

  for(struct h1req **pp = &ts->wait_head; *pp;) {
    struct h1req *r = *pp;
    if(!r->awaiting || usable) {
      r->awaiting = false;
      ts->wait_tail = r;
      pp = &r->next;
      continue;
    }
    *pp = r->next;
    finish_req(p, r, r->wait_st, r->wait_kind, NULL, NULL, r->wait_msg);
  }
  if(!ts->wait_head)
    ts->wait_tail = NULL;
  dispatch(p, ts, true);
}

/* A connection the pool dials made progress (poll said `revents`). */
static void dial_progress(sdc_pool *p, struct h1conn *c, short revents)
{
  struct h1req *r = c->req;
  char why[600];
  sdc_fail_kind kind = SDC_FAIL_CONNECT;
  sdc_status st = SDC_EUNAVAILABLE;
  int rc = sdc__dial_step(c->dial, revents, &st, &kind, why, sizeof(why));
  CURLcode crc;

  if(rc == 0)
    return;
  if(rc > 0) {
    c->connecting = false;
    p->opened++;
    c->connect_ms = sdc__dial_connect_ms(c->dial);
    c->tls_ms = sdc__dial_tls_ms(c->dial);
    c->used_ms = sdc__now_ms();
    if(sdc__dial_ssl(c->dial))
      sdc__tls_facts_from_ssl(sdc__dial_ssl(c->dial), c->tls_version,
                              sizeof(c->tls_version), c->tls_cipher,
                              sizeof(c->tls_cipher), &c->verify, &c->expiry,
                              &c->chain, &c->n_chain);
    c->req = NULL;
    if(r && (crc = conn_start(p, c, r)))
      conn_broke(p, c, crc, "");
    return;
  }
  c->req = NULL;
  conn_close(p, c);
  if(r && !connect_failover(p, c, r, kind == SDC_FAIL_CONNECT_REFUSED ||
                                         kind == SDC_FAIL_CONNECT ||
                                         kind == SDC_FAIL_CONNECT_TIMEOUT,
                            st, kind, why))
    finish_req(p, r, st, kind, NULL, c->endpoint, why);
}

/* ---- the loop's share ------------------------------------------------------ */
bool sdc__wait_room(sdc_pool *p, size_t n)
{
  if(n < p->cap_wfds)
    return true;
  size_t cap = p->cap_wfds ? p->cap_wfds * 2 : 64;
  struct curl_waitfd *w = sdc__realloc(p->wfds, cap * sizeof(*w));
  if(w)
    p->wfds = w;
  void **o = w ? sdc__realloc(p->wowner, cap * sizeof(*o)) : NULL;
  if(!o)
    return false;
  p->wowner = o;
  p->cap_wfds = cap;
  return true;
}

size_t sdc__h1_wait_set(sdc_pool *p, size_t n, uint64_t now, uint64_t *wake_ms)
{
  uint64_t wake = p->scan_due;

  for(struct tstate *ts = p->targets; ts; ts = ts->next)
    for(struct h1conn *c = ts->conns; c; c = c->next) {
      if(!sdc__wait_room(p, n))
        continue;
      if(c->connecting) { /* dialed by the pool: as its state asks */
        short ev = sdc__dial_events(c->dial);
        p->wfds[n] = (struct curl_waitfd){c->fd, (short)(((ev & POLLIN) ? CURL_WAIT_POLLIN : 0) |
                                          ((ev & POLLOUT) ? CURL_WAIT_POLLOUT : 0)), 0};
        p->wowner[n++] = c;
        continue;
      }
      p->wfds[n] = (struct curl_waitfd){c->fd, (short)(CURL_WAIT_POLLIN |
                                        (sending(c) ? CURL_WAIT_POLLOUT : 0)), 0};
      p->wowner[n++] = c;
    }
  *wake_ms = wake > now ? wake : now;
  return n;
}

/* Deadlines of requests and the idle and age limits of connections. */
static void scan(sdc_pool *p, uint64_t now)
{
  uint64_t next = now + SCAN_EVERY_MS;

  for(struct tstate *ts = p->targets; ts; ts = ts->next) {
    struct h1conn *cn;
    for(struct h1conn *c = ts->conns; c; c = cn) {
      cn = c->next;
      if(c->connecting) { /* the connect and request limits */
        uint64_t limit = c->created_us / 1000 + p->o.connect_ms;
        struct h1req *r = c->req;
        bool tcp_up = sdc__dial_connect_ms(c->dial) > 0;
        if(r && r->deadline_ms < limit)
          limit = r->deadline_ms;
        if(now < limit) {
          if(limit < next)
            next = limit;
          continue;
        }
        c->req = NULL;
        conn_close(p, c);
        if(r) {
          char detail[160];
          snprintf(detail, sizeof(detail), "timed out: %s after %llu ms",
                   tcp_up ? "no TLS handshake" : "no connection",
                   (unsigned long long)(now - c->created_us / 1000));
          if(tcp_up || !connect_failover(p, c, r, true, SDC_ETIMEDOUT,
                                          SDC_FAIL_CONNECT_TIMEOUT, detail))
            finish_req(p, r, SDC_ETIMEDOUT,
                       tcp_up ? SDC_FAIL_TIMEOUT : SDC_FAIL_CONNECT_TIMEOUT, NULL,
                       c->endpoint, detail);
        }
        continue;
      }
      if(!c->req) {
        if(conn_expired(p, c, now))
          conn_close(p, c);
        continue;
      }
      if(now >= c->req->deadline_ms) {
        struct h1req *r = c->req;
        char detail[160];
        c->req = NULL;
        conn_close(p, c);
        snprintf(detail, sizeof(detail), "timed out: no whole answer within "
                 "%llu ms", (unsigned long long)(now - r->start_us / 1000));
        finish_req(p, r, SDC_ETIMEDOUT, SDC_FAIL_TIMEOUT, NULL, c->endpoint, detail);
      } else if(c->req->deadline_ms < next) {
        next = c->req->deadline_ms;
      }
    }
    for(struct h1req **pp = &ts->wait_head; *pp;) {
      struct h1req *r = *pp;
      if(now < r->deadline_ms) {
        if(r->deadline_ms < next)
          next = r->deadline_ms;
        ts->wait_tail = r;
        pp = &r->next;
        continue;
      }
      *pp = r->next;
      finish_req(p, r, SDC_ETIMEDOUT, SDC_FAIL_TIMEOUT, NULL, NULL,
                 "timed out waiting for a connection (every one allowed is busy)");
    }
    if(!ts->wait_head)
      ts->wait_tail = NULL;
  }
  p->scan_due = next;
}

void sdc__h1_handle(sdc_pool *p, size_t from, size_t to)
{
  uint64_t now;

  for(size_t i = from; i < to; i++) {
    struct curl_waitfd *w = &p->wfds[i];
    struct h1conn *c = p->wowner[i];
    if(!w->revents || c->closed)
      continue;
    if(c->connecting) {
      dial_progress(p, c, (short)(((w->revents & CURL_WAIT_POLLIN) ? POLLIN : 0) |
                                  ((w->revents & CURL_WAIT_POLLOUT) ? POLLOUT : 0) |
                                  ((w->revents & CURL_WAIT_POLLPRI) ? POLLERR : 0)));
      continue;
    }
    if((w->revents & CURL_WAIT_POLLOUT) && sending(c)) {
      CURLcode rc = conn_send(c);
      if(rc) {
        conn_broke(p, c, rc, "");
        continue;
      }
    }
    if(w->revents & CURL_WAIT_POLLIN)
      conn_readable(p, c);
  }
  now = sdc__now_ms();
  if(now >= p->scan_due)
    scan(p, now);
  for(struct tstate *ts = p->targets; ts; ts = ts->next)
    if(ts->wait_head)
      dispatch(p, ts, true);
  flush_done(p); /* callbacks may submit: new requests start right away */
  reap(p);
}

/* Every request of `ts` fails (told at flush_done), its connections close. */
static void cancel_all(sdc_pool *p, struct tstate *ts, const char *why)
{
  struct h1req *r;

  while((r = dequeue(ts)))
    finish_req(p, r, SDC_EUNAVAILABLE, SDC_FAIL_CANCELLED, NULL, NULL, why);
  while(ts->conns) {
    struct h1conn *c = ts->conns;
    r = c->req;
    c->req = NULL;
    conn_close(p, c);
    if(r)
      finish_req(p, r, SDC_EUNAVAILABLE, SDC_FAIL_CANCELLED, NULL, c->endpoint, why);
  }
}

void sdc__h1_forget(sdc_pool *p, sdc_target *t)
{
  for(struct tstate **pp = &p->targets; *pp; pp = &(*pp)->next) {
    struct tstate *ts = *pp;
    if(ts->t != t)
      continue;
    cancel_all(p, ts, "the pool was told to forget the target");
    *pp = ts->next;
    sdc_free(ts);
    break;
  }
  flush_done(p);
  reap(p); /* no poll set of this turn points at them: we are not in one */
}

void sdc__h1_free_all(sdc_pool *p)
{
  while(p->targets) {
    struct tstate *ts = p->targets;
    cancel_all(p, ts, "the pool was freed");
    p->targets = ts->next;
    sdc_free(ts);
  }
  flush_done(p);
  reap(p);
  sdc_free(p->wfds);
  sdc_free(p->wowner);
}
