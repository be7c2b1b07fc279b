/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pool's front (options, submit, the loop) and the requests libcurl
 * runs itself: HTTP/2, and the first request to a TLS target, which learns
 * the protocol. HTTP/1.1 requests go to h1conn.c. See
 * docs/internals/pool.md.
 *
 * IMPLEMENTATION NOTES (libcurl's requests)
 * - Connections live in `multi`'s cache; libcurl reuses one only for the
 *   same host, port, connect-to target and TLS configuration (CA, client
 *   certificate): never across targets with different TLS settings or
 *   identities.
 * - Pinning: CURLOPT_CONNECT_TO "HOST:PORT:ADDR:PORT" sends the socket to
 *   the endpoint while the URL's host stays the TLS SNI, the name checked in
 *   the certificate and the Host header; the host name is never looked up.
 * - Endpoint choice: round-robin over endpoints not marked down. A connect
 *   failure marks the endpoint down for DOWN_MS and moves the request to the
 *   next one; when every endpoint has failed, a Service Directory target is
 *   resolved again (bypassing the resolver's cache) once.
 * - Limits are enforced while reading: the body and header callbacks abort
 *   the transfer past their caps; nothing beyond a cap is buffered.
 * - Requests per connection: libcurl has no such limit. CURLOPT_PREREQFUNCTION
 *   names the connection a request is about to use (its local and remote
 *   address); the pool counts requests per connection and marks the request
 *   that reaches the limit FORBID_REUSE, which libcurl reads when the
 *   request is done, so that connection closes after it. A new connection
 *   that happens to get a closed one's local port inherits its count and
 *   closes early: harmless.
 * - TLS facts come from the live OpenSSL connection in the first header
 *   callback, so they are there for reused connections too.
 */
#include "pool_int.h"

#include "core/core.h"
#include "pool/h1.h"

#include <sdconnect/version.h>

#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct xfer {
  struct xfer *next;
  sdc_pool *pool;
  sdc_target *t;
  CURL *easy;
  struct curl_slist *headers, *connect_to;
  char *url, *method, *body_copy;
  size_t body_len;
  uint64_t deadline_ms;
  /* answer being read */
  char *body, *hdrs;
  size_t body_n, hdr_n;
  bool body_over, hdr_over, facts_taken;
  bool oom; /* a callback could not keep what libcurl handed it */
  char tls_version[32], tls_cipher[64];
  long verify;
  int64_t expiry;
  char **chain;
  size_t n_chain;
  /* endpoints */
  size_t ep, tried;
  bool re_resolved;
  bool fresh;       /* SDC_HTTP_FRESH_CONN */
  bool truncate;    /* SDC_HTTP_TRUNCATE */
  sdc_status parked_st; /* parked: the failure that made it ask again */
  sdc_fail_kind parked_kind;
  char *parked_msg;
  char endpoint[96];
  char errbuf[CURL_ERROR_SIZE];
  bool probe; /* learning the target's protocol */
  sdc_pool_cb cb;
  void *ud;
};

/* What a held request waits for. */
enum hold_for { HOLD_ENDPOINTS, HOLD_PROTOCOL };

/* Flags of an internal submit. */
#define SUB_HAVE_EPS 0x1u    /* the directory was just asked: do not again */
#define SUB_RE_RESOLVED 0x2u /* the forced re-resolve has been spent */

/* A request kept back while the directory is asked for its target's
 * endpoints, or while another request learns the target's protocol: a
 * copy of it, submitted again when the answer is in. Its deadline counts
 * all along (expire_waiting). */
struct held {
  struct held *next;
  enum hold_for why;
  unsigned how; /* SUB_* flags for the submit that follows */
  sdc_target *t;
  sdc_http_request req;
  char **hdrs;
  size_t n_hdrs;
  uint64_t deadline_ms;
  sdc_pool_cb cb;
  void *ud;
};

/* ---- options ------------------------------------------------------------- */
sdc_status sdc_pool_opts_new(sdc_pool_opts **out)
{
  sdc_pool_opts *o = sdc__calloc(1, sizeof(*o));

  if(!o)
    return SDC_ENOMEM;
  *o = (sdc_pool_opts){16, 0, 60000, 0, 5000, 64 * 1024, 16 * 1024, 1};
  *out = o;
  return SDC_OK;
}

void sdc_pool_opts_free(sdc_pool_opts *o) { sdc_free(o); }

sdc_status sdc_pool_opts_set_max_conns_per_target(sdc_pool_opts *o, unsigned n)
{
  if(n < 1 || n > 10000)
    return SDC_EINVAL;
  o->max_conns = n;
  return SDC_OK;
}

sdc_status sdc_pool_opts_set_max_requests_per_conn(sdc_pool_opts *o, unsigned n)
{
  o->max_requests = n;
  return SDC_OK;
}

sdc_status sdc_pool_opts_set_idle_timeout_ms(sdc_pool_opts *o, uint64_t ms)
{
  if(ms < 1000)
    return SDC_EINVAL; /* libcurl counts idle time in whole seconds */
  o->idle_ms = ms;
  return SDC_OK;
}

sdc_status sdc_pool_opts_set_max_age_ms(sdc_pool_opts *o, uint64_t ms)
{
  if(ms && ms < 1000)
    return SDC_EINVAL;
  o->max_age_ms = ms;
  return SDC_OK;
}

sdc_status sdc_pool_opts_set_connect_timeout_ms(sdc_pool_opts *o, uint64_t ms)
{
  if(ms < 1 || ms > 600000)
    return SDC_EINVAL;
  o->connect_ms = ms;
  return SDC_OK;
}

sdc_status sdc_pool_opts_set_max_body(sdc_pool_opts *o, size_t n)
{
  if(n < 1 || n > ((size_t)1 << 30))
    return SDC_EINVAL;
  o->max_body = n;
  return SDC_OK;
}

sdc_status sdc_pool_opts_set_max_header(sdc_pool_opts *o, size_t n)
{
  if(n < 256 || n > 80 * 1024) /* http_parser's own ceiling */
    return SDC_EINVAL;
  o->max_header = n;
  return SDC_OK;
}

sdc_status sdc_pool_opts_set_http2(sdc_pool_opts *o, int on)
{
  o->http2 = !!on;
  return SDC_OK;
}

/* ---- pool ---------------------------------------------------------------- */
sdc_status sdc_pool_new(sdc_pool **out, const sdc_pool_opts *opts)
{
  sdc_pool *p;
  sdc_pool_opts def;

  if(!out)
    return SDC_EINVAL;
  if(!(p = sdc__calloc(1, sizeof(*p))))
    return SDC_ENOMEM;
  if(!opts) {
    def = (sdc_pool_opts){16, 0, 60000, 0, 5000, 64 * 1024, 16 * 1024, 1};
    opts = &def;
  }
  p->o = *opts;
  {
    static _Atomic uint64_t next_id = 1;
    p->id = next_id++;
  }
  p->multi = curl_multi_init();
  if(!p->multi) {
    sdc_free(p);
    return SDC_ENOMEM;
  }
  curl_multi_setopt(p->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)p->o.max_conns);
  curl_multi_setopt(p->multi, CURLMOPT_MAXCONNECTS, (long)p->o.max_conns * 16);
  curl_multi_setopt(p->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
  if(sdc__resolve_init(p)) {
    curl_multi_cleanup(p->multi);
    sdc_free(p);
    return SDC_ENOMEM;
  }
  *out = p;
  return SDC_OK;
}

static void xfer_free(struct xfer *x);
static void held_free(struct held *h);

void sdc_pool_free(sdc_pool *p)
{
  if(!p)
    return;
  p->fail = SDC_FAIL_CANCELLED; /* every callback from here on */
  while(p->live) {
    struct xfer *x = p->live;
    p->live = x->next;
    curl_multi_remove_handle(p->multi, x->easy);
    if(x->cb)
      x->cb(SDC_EUNAVAILABLE, NULL, "the pool was freed", x->ud);
    xfer_free(x);
  }
  while(p->parked) {
    struct xfer *x = p->parked;
    p->parked = x->next;
    x->cb(SDC_EUNAVAILABLE, NULL, "the pool was freed", x->ud);
    xfer_free(x);
  }
  while(p->held) {
    struct held *h = p->held;
    p->held = h->next;
    h->cb(SDC_EUNAVAILABLE, NULL, "the pool was freed", h->ud);
    held_free(h);
  }
  sdc__h1_free_all(p);
  sdc__tcp_free_all(p);
  sdc_free(p->watches);
  sdc__dial_cleanup(p);
  sdc__resolve_fail_callers(p);
  sdc__resolve_cleanup(p);
  curl_multi_cleanup(p->multi);
  sdc_free(p);
}

const char *sdc_pool_errmsg(const sdc_pool *p) { return p->err; }
sdc_fail_kind sdc_pool_fail_kind(const sdc_pool *p) { return p->fail; }

/* Run a failed request's callback with its kind readable. */
static void fail_cb(sdc_pool *p, sdc_pool_cb cb, void *ud, sdc_status st,
                    sdc_fail_kind kind, const char *msg)
{
  p->fail = st == SDC_ENOMEM ? SDC_FAIL_NOMEM : kind;
  cb(st, NULL, msg, ud);
  p->fail = SDC_FAIL_NONE;
}
unsigned long sdc_pool_connections_opened(const sdc_pool *p) { return p->opened; }

/* ---- transfers ----------------------------------------------------------- */
static void xfer_free(struct xfer *x)
{
  if(!x)
    return;
  if(x->easy && x->t && x->t->idle_pool == x->pool->id && x->t->n_idle < IDLE_HANDLES)
    x->t->idle[x->t->n_idle++] = x->easy; /* configured: keep for reuse */
  else if(x->easy)
    curl_easy_cleanup(x->easy);
  curl_slist_free_all(x->headers);
  curl_slist_free_all(x->connect_to);
  sdc_free(x->url);
  sdc_free(x->method);
  sdc_free(x->body_copy);
  sdc_free(x->parked_msg);
  sdc_free(x->body);
  sdc_free(x->hdrs);
  for(size_t i = 0; i < x->n_chain; i++)
    sdc_free(x->chain[i]);
  sdc_free(x->chain);
  sdc_free(x);
}

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
  struct xfer *x = ud;
  size_t len = size * n;
  char *grown;

  if(x->body_n + len > x->pool->o.max_body) {
    x->body_over = true;
    len = x->truncate ? x->pool->o.max_body - x->body_n : 0;
    if(len && (grown = sdc__realloc(x->body, x->body_n + len + 1))) {
      x->body = grown; /* keep what fits (SDC_HTTP_TRUNCATE) */
      memcpy(x->body + x->body_n, data, len);
      x->body_n += len;
      x->body[x->body_n] = '\0';
    }
    return 0; /* abort now: the rest is never read */
  }
  grown = sdc__realloc(x->body, x->body_n + len + 1);
  if(!grown) {
    x->oom = true;
    return 0;
  }
  x->body = grown;
  memcpy(x->body + x->body_n, data, len);
  x->body_n += len;
  x->body[x->body_n] = '\0';
  return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
  struct xfer *x = ud;
  size_t len = size * n;
  char *grown;

  if(!x->facts_taken && x->t->tls) {
    long ver = 0;
    x->facts_taken = true;
    sdc__tls_facts_capture(x->easy, x->tls_version, sizeof(x->tls_version),
                           x->tls_cipher, sizeof(x->tls_cipher),
                           &x->verify, &x->expiry, &x->chain, &x->n_chain);
    curl_easy_getinfo(x->easy, CURLINFO_HTTP_VERSION, &ver);
    if(x->probe && ver != CURL_HTTP_VERSION_2_0) /* read when done: the */
      curl_easy_setopt(x->easy, CURLOPT_FORBID_REUSE, 1L); /* pool takes over */
  }
  if(!strncmp(data, "HTTP/", 5) && x->hdr_n) /* a new response (after 100) */
    x->hdr_n = 0;
  if(x->hdr_n + len > x->pool->o.max_header) {
    x->hdr_over = true;
    return 0;
  }
  grown = sdc__realloc(x->hdrs, x->hdr_n + len + 1);
  if(!grown) {
    x->oom = true;
    return 0;
  }
  x->hdrs = grown;
  memcpy(x->hdrs + x->hdr_n, data, len);
  x->hdr_n += len;
  x->hdrs[x->hdr_n] = '\0';
  return len;
}

static int on_prereq(void *ud, char *remote_ip, char *local_ip, int remote_port,
                     int local_port)
{
  struct xfer *x = ud;
  sdc_pool *p = x->pool;
  char key[128];
  uint64_t h = 1469598103934665603ULL;
  struct conn_use *u;

  snprintf(key, sizeof(key), "%s:%d>%s:%d", local_ip, local_port, remote_ip,
           remote_port);
  for(const char *c = key; *c; c++)
    h = (h ^ (unsigned char)*c) * 1099511628211ULL;
  u = &p->uses[h % CONN_SLOTS];
  if(strcmp(u->key, key)) { /* a new connection (or a slot collision) */
    snprintf(u->key, sizeof(u->key), "%s", key);
    u->n = 0;
  }
  if(++u->n >= p->o.max_requests) {
    curl_easy_setopt(x->easy, CURLOPT_FORBID_REUSE, 1L); /* read when done */
    u->key[0] = '\0';
  }
  return CURL_PREREQFUNC_OK;
}

/* Point the transfer at endpoint `i` and (re)arm its per-attempt state. */
static sdc_status aim(struct xfer *x, size_t i)
{
  char line[400];
  uint64_t now = sdc__now_ms();

  x->ep = i;
  sdc__target_endpoint(x->t, i, x->endpoint, sizeof(x->endpoint), line,
                       sizeof(line));
  curl_slist_free_all(x->connect_to);
  x->connect_to = curl_slist_append(NULL, line);
  if(!x->connect_to)
    return SDC_ENOMEM;
  curl_easy_setopt(x->easy, CURLOPT_CONNECT_TO, x->connect_to);
  curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS,
                   (long)(x->deadline_ms > now ? x->deadline_ms - now : 1));
  x->body_n = x->hdr_n = 0;
  x->body_over = x->hdr_over = x->facts_taken = x->oom = false;
  x->errbuf[0] = '\0';
  return SDC_OK;
}

/* An easy handle carrying everything that is the same for every request
 * of (pool, target): reused from the target's stack when there is one. */
static CURL *easy_get(sdc_pool *p, sdc_target *t)
{
  CURL *e;

  if(t->idle_pool != p->id) { /* configured by another pool: start over */
    sdc__target_flush_idle(t);
    t->idle_pool = p->id;
  }
  if(t->n_idle)
    return t->idle[--t->n_idle];
  e = curl_easy_init();
  if(!e)
    return NULL;
  /* the copied strings: a handle missing one (NOPROXY!) is not used */
  if(curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
     curl_easy_setopt(e, CURLOPT_NOPROXY, "*") != CURLE_OK ||
     curl_easy_setopt(e, CURLOPT_USERAGENT, SDC_USER_AGENT) != CURLE_OK ||
     (t->tls && !sdc__target_set_tls(e, t))) {
    curl_easy_cleanup(e);
    return NULL;
  }
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_SHARE, sdc__curl_share());
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)p->o.connect_ms);
  curl_easy_setopt(e, CURLOPT_MAXAGE_CONN, (long)(p->o.idle_ms / 1000));
  if(p->o.max_age_ms)
    curl_easy_setopt(e, CURLOPT_MAXLIFETIME_CONN, (long)(p->o.max_age_ms / 1000));
  if(p->o.max_requests)
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq);
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
                   p->o.http2 ? (long)CURL_HTTP_VERSION_2TLS : (long)CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L); /* prefer multiplexing */
  return e;
}

/* Does the parsed URL name the target's scheme, host and port? */
static bool url_names_target(const sdc_target *t, const struct h1_url *u,
                             char *why, size_t cap)
{
  const char *h = t->host;
  size_t hl = strlen(h);

  if(h[0] == '[') { /* an IPv6 literal: http_parser gives it without [] */
    h++;
    hl -= 2;
  }
  if(u->tls == !!t->tls && u->port == t->port && u->host_len == hl &&
     !strncasecmp(u->host, h, hl))
    return true;
  snprintf(why, cap, "the URL must be %s://%s:%d/... for this target",
           t->tls ? "https" : "http", t->host, t->port);
  return false;
}

/* Does `url`, as libcurl reads it, name the target's host and port?
 * SDC_OK, SDC_EINVAL (`why` says how not), or SDC_ENOMEM. */
static sdc_status url_matches(const sdc_target *t, const char *url, char *why,
                              size_t cap)
{
  CURLU *u = curl_url();
  char *scheme = NULL, *host = NULL, *port = NULL;
  sdc_status st = SDC_EINVAL;
  CURLUcode rc = u ? curl_url_set(u, CURLUPART_URL, url, 0) : CURLUE_OUT_OF_MEMORY;

  if(!rc && !(rc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0)) &&
     !(rc = curl_url_get(u, CURLUPART_HOST, &host, 0)) &&
     !(rc = curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT))) {
    if(!strcmp(scheme, t->tls ? "https" : "http") && !strcasecmp(host, t->host) &&
       strtol(port, NULL, 10) == t->port)
      st = SDC_OK;
    else
      snprintf(why, cap, "the URL must be %s://%s:%d/... for this target",
               t->tls ? "https" : "http", t->host, t->port);
  } else if(rc == CURLUE_OUT_OF_MEMORY) {
    st = SDC_ENOMEM;
    snprintf(why, cap, "out of memory");
  } else {
    snprintf(why, cap, "not a valid URL");
  }
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_url_cleanup(u);
  return st;
}

static void held_free(struct held *h)
{
  for(size_t i = 0; i < h->n_hdrs; i++)
    sdc_free(h->hdrs[i]);
  sdc_free(h->hdrs);
  sdc_free((void *)(uintptr_t)h->req.url);
  sdc_free((void *)(uintptr_t)h->req.method);
  sdc_free((void *)(uintptr_t)h->req.body);
  sdc_free(h);
}

static sdc_status hold_request(sdc_pool *p, sdc_target *t,
                               const sdc_http_request *req, const char *method,
                               enum hold_for why, unsigned how, sdc_pool_cb cb,
                               void *ud)
{
  struct held *h = sdc__calloc(1, sizeof(*h)), **tail;
  size_t n = 0;

  while(req->headers && req->headers[n])
    n++;
  if(!h || !(h->hdrs = sdc__calloc(n + 1, sizeof(char *))))
    goto oom;
  for(h->n_hdrs = 0; h->n_hdrs < n; h->n_hdrs++)
    if(!(h->hdrs[h->n_hdrs] = sdc__strdup(req->headers[h->n_hdrs])))
      goto oom;
  h->req.url = sdc__strdup(req->url);
  h->req.method = sdc__strdup(method);
  h->req.body = req->body_len ? sdc__copy_blob(req->body, req->body_len) : NULL;
  if(!h->req.url || !h->req.method || (req->body_len && !h->req.body))
    goto oom;
  h->req.headers = (const char *const *)h->hdrs;
  h->req.body_len = req->body_len;
  h->req.flags = req->flags;
  h->t = t;
  h->why = why;
  h->how = how;
  h->cb = cb;
  h->ud = ud;
  h->deadline_ms = sdc__now_ms() + (req->timeout_ms ? req->timeout_ms
                                                    : DEFAULT_TIMEOUT_MS);
  for(tail = &p->held; *tail; tail = &(*tail)->next)
    ; /* in order of arrival */
  *tail = h;
  return SDC_OK;
oom:
  if(h)
    held_free(h);
  snprintf(p->err, sizeof(p->err), "out of memory");
  return SDC_ENOMEM;
}

static sdc_status submit(sdc_pool *p, sdc_target *t,
                         const sdc_http_request *req, unsigned how,
                         sdc_pool_cb cb, void *userdata);

/* What `why`-held requests of `t` waited for is in: submit them again (they
 * take the path now known), or fail them with `st` and `msg`. */
static void release_held(sdc_pool *p, sdc_target *t, enum hold_for why,
                         sdc_status st, sdc_fail_kind kind, const char *msg)
{
  struct held *mine = NULL, **tail = &mine;
  unsigned long forgets = p->forgets;

  for(struct held **pp = &p->held; *pp;) {
    struct held *h = *pp;
    if(h->t != t || h->why != why) {
      pp = &h->next;
      continue;
    }
    *pp = h->next;
    h->next = NULL;
    *tail = h;
    tail = &h->next;
  }
  while(mine) {
    struct held *h = mine;
    uint64_t now = sdc__now_ms();
    sdc_status rst = st;
    sdc_fail_kind rkind = kind;
    mine = h->next;
    if(p->forgets != forgets) { /* a callback forgot (and maybe freed) t */
      rst = st = SDC_EUNAVAILABLE;
      rkind = kind = SDC_FAIL_CANCELLED;
      snprintf(p->err, sizeof(p->err), "%s %.300s: the pool was told to forget "
               "the target", h->req.method, h->req.url);
    } else if(rst) {
      snprintf(p->err, sizeof(p->err), "%s %.300s: %s", h->req.method,
               h->req.url, msg);
    } else if(now < h->deadline_ms) {
      h->req.timeout_ms = h->deadline_ms - now;
      rst = submit(p, t, &h->req, h->how | (why == HOLD_ENDPOINTS ? SUB_HAVE_EPS : 0),
                   h->cb, h->ud);
    } else {
      rst = SDC_ETIMEDOUT;
      rkind = SDC_FAIL_TIMEOUT;
      snprintf(p->err, sizeof(p->err), "%s %.300s: timed out while %s",
               h->req.method, h->req.url,
               why == HOLD_ENDPOINTS ? "the directory was asked for endpoints"
                                     : "the target's protocol was being learnt");
    }
    if(rst) /* a refused resubmit says so in p->err */
      fail_cb(p, h->cb, h->ud, rst,
              st ? rkind : rst == SDC_ENOMEM ? SDC_FAIL_NOMEM : SDC_FAIL_PROTOCOL, p->err);
    held_free(h);
  }
}

sdc_status sdc_pool_submit(sdc_pool *p, sdc_target *t,
                           const sdc_http_request *req, sdc_pool_cb cb,
                           void *userdata)
{
  return submit(p, t, req, 0, cb, userdata);
}

static sdc_status submit_one(sdc_pool *p, sdc_target *t, const sdc_http_request *req,
                             unsigned how, sdc_pool_cb cb, void *userdata);

/* Wherever a submission ran out of memory, its detail says so. */
static sdc_status submit(sdc_pool *p, sdc_target *t, const sdc_http_request *req,
                         unsigned how, sdc_pool_cb cb, void *userdata)
{
  sdc_status st = submit_one(p, t, req, how, cb, userdata);

  if(st == SDC_ENOMEM)
    snprintf(p->err, sizeof(p->err), "%.300s: out of memory", req && req->url ? req->url : "");
  return st;
}

static sdc_status submit_one(sdc_pool *p, sdc_target *t,
                         const sdc_http_request *req, unsigned how,
                         sdc_pool_cb cb, void *userdata)
{
  struct xfer *x;
  struct tstate *ts;
  struct h1_url u;
  char why[200];
  const char *method;
  long ep;
  bool probe, hold;
  sdc_status st = SDC_ENOMEM;

  if(!req || !req->url || !cb) {
    snprintf(p->err, sizeof(p->err), "a request needs a URL and a callback");
    return SDC_EINVAL;
  }
  method = req->method ? req->method : req->body ? "POST" : "GET";
  if(!h1_url_parse(req->url, &u, why, sizeof(why)) || !url_names_target(t, &u, why, sizeof(why))) {
    snprintf(p->err, sizeof(p->err), "%.300s: %s", req->url, why);
    return SDC_EINVAL;
  }
  if(!h1_method_ok(method)) {
    snprintf(p->err, sizeof(p->err), "%.300s: the method \"%.40s\" is not an HTTP "
             "token (letters, digits, !#$%%&'*+-.^_`|~)", req->url, method);
    return SDC_EINVAL;
  }
  for(size_t i = 0; req->headers && req->headers[i]; i++)
    if(!h1_header_ok(req->headers[i], why, sizeof(why))) {
      snprintf(p->err, sizeof(p->err), "header %zu (%.60s...): %s", i + 1,
               req->headers[i], why);
      return SDC_EINVAL;
    }
  if(t->resolver && !(how & SUB_HAVE_EPS)) {
    st = sdc__resolve_endpoints(p, t); /* never blocks */
    if(st == SDC_EAGAIN)
      return hold_request(p, t, req, method, HOLD_ENDPOINTS, how, cb, userdata);
    if(st)
      return st;
  }
  if(!t->n_eps) {
    snprintf(p->err, sizeof(p->err), "%s: no endpoint to connect to%s%s",
             req->url, t->service ? ": the directory lists no usable endpoint "
                                    "for " : "",
             t->service ? t->service : "");
    return SDC_EUNAVAILABLE;
  }
  if(!(ts = sdc__h1_state(p, t)))
    return SDC_ENOMEM;
  /* fresh connections are dialed by the pool and speak HTTP/1.1, unless
   * the target is known to speak HTTP/2 */
  if(sdc__h1_eligible(p, ts) ||
     ((req->flags & SDC_HTTP_FRESH_CONN) && !sdc__h1_known_h2(ts))) {
    return sdc__h1_submit(p, ts, req, &u, method, how & SUB_RE_RESOLVED, cb, userdata);
  }
  if((st = url_matches(t, req->url, why, sizeof(why)))) { /* as libcurl reads it */
    snprintf(p->err, sizeof(p->err), "%.300s: %s", req->url, why);
    return st;
  }
  probe = sdc__h1_probe(p, ts, &hold);
  if(hold)
    return hold_request(p, t, req, method, HOLD_PROTOCOL, how, cb, userdata);
  x = sdc__calloc(1, sizeof(*x));
  if(!x) {
    if(probe) /* others wait for what this one was to learn: let one of them */
      sdc__h1_probe_done(p, ts);
    return SDC_ENOMEM;
  }
  x->pool = p;
  x->t = t;
  x->probe = probe;
  x->re_resolved = how & SUB_RE_RESOLVED;
  x->fresh = req->flags & SDC_HTTP_FRESH_CONN;
  x->truncate = req->flags & SDC_HTTP_TRUNCATE;
  x->cb = cb;
  x->ud = userdata;
  x->deadline_ms = sdc__now_ms() + (req->timeout_ms ? req->timeout_ms
                                                    : DEFAULT_TIMEOUT_MS);
  x->easy = easy_get(p, t);
  x->url = sdc__strdup(req->url);
  x->method = sdc__strdup(method);
  if(req->body_len && !(x->body_copy = sdc__copy_blob(req->body, req->body_len)))
    goto fail;
  x->body_len = req->body_len;
  if(!x->easy || !x->url || !x->method)
    goto fail;
  for(size_t i = 0; req->headers && req->headers[i]; i++) {
    struct curl_slist *h = curl_slist_append(x->headers, req->headers[i]);
    if(!h)
      goto fail;
    x->headers = h;
  }
  if(curl_easy_setopt(x->easy, CURLOPT_URL, x->url) != CURLE_OK || /* copied by libcurl */
     curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, x->method) != CURLE_OK)
    goto fail;
  curl_easy_setopt(x->easy, CURLOPT_HTTPGET, 1L); /* undo a previous POST */
  curl_easy_setopt(x->easy, CURLOPT_NOBODY, !strcmp(x->method, "HEAD") ? 1L : 0L);
  if(x->body_len || !strcmp(x->method, "POST") || !strcmp(x->method, "PUT") ||
     !strcmp(x->method, "PATCH")) {
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->body_copy ? x->body_copy : "");
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body_len);
  }
  curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
  curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
  curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, x);
  curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
  curl_easy_setopt(x->easy, CURLOPT_PREREQDATA, x);
  curl_easy_setopt(x->easy, CURLOPT_FORBID_REUSE, x->fresh ? 1L : 0L);
  curl_easy_setopt(x->easy, CURLOPT_FRESH_CONNECT, x->fresh ? 1L : 0L);
  ep = sdc__target_pick(t, sdc__now_ms());
  if(ep < 0)
    ep = (long)(t->rr++ % t->n_eps); /* all down: try anyway, in turn */
  if(aim(x, (size_t)ep) ||
     curl_multi_add_handle(p->multi, x->easy) != CURLM_OK)
    goto fail;
  x->next = p->live;
  p->live = x;
  p->running++;
  return SDC_OK;
fail: /* what fails from here on is memory: a handle, a copy, a list
       (submit() says so) */
  st = SDC_ENOMEM;
  if(probe)
    sdc__h1_probe_done(p, ts);
  xfer_free(x);
  return st;
}

static void unlink_xfer(sdc_pool *p, struct xfer *x)
{
  for(struct xfer **pp = &p->live; *pp; pp = &(*pp)->next)
    if(*pp == x) {
      *pp = x->next;
      break;
    }
  p->running--;
}

sdc_http_response *sdc__response_new(const char *endpoint, const char *version,
                                     const char *cipher, char *const *chain,
                                     size_t n_chain)
{
  size_t el = strlen(endpoint) + 1, vl = strlen(version) + 1,
         cl = strlen(cipher) + 1, size;
  sdc_http_response *r;
  char **slots, *at;

  size = sizeof(*r) + n_chain * sizeof(char *) + el + vl + cl;
  for(size_t i = 0; i < n_chain; i++)
    size += strlen(chain[i]) + 1;
  if(!(r = sdc__calloc(1, size)))
    return NULL;
  slots = (char **)(r + 1);
  at = (char *)(slots + n_chain);
  r->endpoint = memcpy(at, endpoint, el);
  at += el;
  r->tls.version = memcpy(at, version, vl);
  at += vl;
  r->tls.cipher = memcpy(at, cipher, cl);
  at += cl;
  for(size_t i = 0; i < n_chain; i++) {
    size_t l = strlen(chain[i]) + 1;
    slots[i] = memcpy(at, chain[i], l);
    at += l;
  }
  r->tls.chain = (const char *const *)slots;
  r->tls.n_chain = n_chain;
  return r;
}

bool sdc__response_take(sdc_http_response *r, char **hdrs, size_t hdr_n,
                        char **body, size_t body_n)
{
  r->headers = *hdrs ? *hdrs : sdc__strdup("");
  r->headers_len = hdr_n;
  r->body = *body ? *body : sdc__strdup("");
  r->body_len = body_n;
  *hdrs = *body = NULL;
  if(r->headers && r->body)
    return true;
  sdc_http_response_free(r);
  return false;
}

static sdc_http_response *build_response(struct xfer *x)
{
  sdc_http_response *r = sdc__response_new(x->endpoint, x->tls_version,
                                            x->tls_cipher, x->chain,
                                            x->n_chain);
  curl_off_t t_conn = 0, t_tls = 0, t_first = 0, t_total = 0;
  long ver = 0, conns = 0;

  if(!r || !sdc__response_take(r, &x->hdrs, x->hdr_n, &x->body, x->body_n))
    return NULL;
  curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &r->status);
  curl_easy_getinfo(x->easy, CURLINFO_CONNECT_TIME_T, &t_conn);
  curl_easy_getinfo(x->easy, CURLINFO_APPCONNECT_TIME_T, &t_tls);
  curl_easy_getinfo(x->easy, CURLINFO_STARTTRANSFER_TIME_T, &t_first);
  curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME_T, &t_total);
  curl_easy_getinfo(x->easy, CURLINFO_HTTP_VERSION, &ver);
  curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &conns);
  r->timings = (sdc_http_timings){(double)t_conn / 1e3, (double)t_tls / 1e3,
                                  (double)t_first / 1e3, (double)t_total / 1e3};
  r->http_version = ver == CURL_HTTP_VERSION_2_0 ? 2 : 11;
  r->truncated = x->body_over;
  r->reused = conns == 0;
  r->tls.verify_result = x->verify;
  r->tls.earliest_expiry = x->expiry;
  return r;
}

void sdc_http_response_free(sdc_http_response *r)
{
  if(!r)
    return;
  sdc_free((void *)(uintptr_t)r->body);
  sdc_free((void *)(uintptr_t)r->headers);
  sdc_free(r); /* endpoint, TLS version and chain live in the same block */
}

enum failover { FO_NONE, FO_REQUEUED, FO_PARKED };

/* A connect failure moves the request to another endpoint. When every
 * endpoint has failed, a Service Directory target is asked again once,
 * bypassing the cache; the request is parked until the answer is in. */
static enum failover failover(sdc_pool *p, struct xfer *x, CURLcode rc)
{
  curl_off_t connected = 0;
  sdc_target *t = x->t;
  uint64_t now = sdc__now_ms();
  long next;

  curl_easy_getinfo(x->easy, CURLINFO_CONNECT_TIME_T, &connected);
  if(!(rc == CURLE_COULDNT_CONNECT ||
       (rc == CURLE_OPERATION_TIMEDOUT && connected == 0)) ||
     now >= x->deadline_ms)
    return FO_NONE;
  if(x->ep < t->n_eps)
    t->eps[x->ep].down_until_ms = now + DOWN_MS;
  x->tried++;
  next = x->tried < t->n_eps ? sdc__target_pick(t, now) : -1;
  if(next < 0 && t->resolver && !x->re_resolved) {
    if(sdc__resolve_again(p, t))
      return FO_NONE;
    x->re_resolved = true;
    x->tried = 0;
    return FO_PARKED;
  }
  if(next < 0)
    return FO_NONE;
  curl_multi_remove_handle(p->multi, x->easy);
  if(aim(x, (size_t)next) || curl_multi_add_handle(p->multi, x->easy) != CURLM_OK)
    return FO_NONE;
  return FO_REQUEUED;
}

/* Tell the caller: `r`, or failure `st` with `detail`. `x` is in no list. */
static void complete(sdc_pool *p, struct xfer *x, sdc_status st,
                     sdc_fail_kind kind, const char *detail,
                     sdc_http_response *r)
{
  unsigned long forgets = p->forgets;

  if(x->probe) {
    struct tstate *ts = sdc__h1_state(p, x->t);
    if(ts)
      sdc__h1_probe_done(p, ts);
  }
  if(st) {
    char msg[1024];
    snprintf(msg, sizeof(msg), "%s %.300s via %s: %s", x->method, x->url,
             x->endpoint, detail);
    snprintf(p->err, sizeof(p->err), "%s", msg);
    fail_cb(p, x->cb, x->ud, st, kind, msg);
  } else {
    x->cb(SDC_OK, r, "", x->ud);
  }
  if(p->forgets != forgets) /* the callback may have freed the target */
    x->t = NULL;
  else if(x->probe)
    release_held(p, x->t, HOLD_PROTOCOL, SDC_OK, SDC_FAIL_NONE, "");
  xfer_free(x);
}

static void finish(sdc_pool *p, struct xfer *x, CURLcode rc)
{
  sdc_http_response *r = NULL;
  sdc_status st = SDC_OK;
  char detail[600];
  long conns = 0;
  enum failover fo = FO_NONE;
  sdc_fail_kind kind = SDC_FAIL_NONE;

  curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &conns);
  p->opened += (unsigned long)conns;
  if(rc == CURLE_WRITE_ERROR && x->body_over && x->truncate)
    rc = CURLE_OK; /* cut at the cap, as asked: the answer is what we have */
  if(rc != CURLE_OK && !x->oom && (fo = failover(p, x, rc)) == FO_REQUEUED)
    return;
  if(rc == CURLE_WRITE_ERROR && x->oom) {
    st = SDC_ENOMEM;
    kind = SDC_FAIL_NOMEM;
    snprintf(detail, sizeof(detail), "out of memory");
  } else if(rc == CURLE_WRITE_ERROR && x->body_over) {
    st = SDC_ETOOBIG;
    kind = SDC_FAIL_TOO_BIG;
    snprintf(detail, sizeof(detail), "the response body passed %zu bytes; the "
             "transfer was stopped", p->o.max_body);
  } else if(rc == CURLE_WRITE_ERROR && x->hdr_over) {
    st = SDC_ETOOBIG;
    kind = SDC_FAIL_TOO_BIG;
    snprintf(detail, sizeof(detail), "the response headers passed %zu bytes",
             p->o.max_header);
  } else if(rc != CURLE_OK) {
    st = sdc__curl_explain(rc, x->easy, x->errbuf, x->t->host,
                           x->t->cert != NULL, detail, sizeof(detail), &kind);
  } else if(!(r = build_response(x))) {
    st = SDC_ENOMEM;
    snprintf(detail, sizeof(detail), "out of memory");
  } else {
    struct tstate *ts = sdc__h1_state(p, x->t);
    if(ts) /* HTTP/1.1 answers move the target to our own connections */
      sdc__h1_learn(p, ts, r->http_version);
  }
  unlink_xfer(p, x);
  curl_multi_remove_handle(p->multi, x->easy);
  if(fo == FO_PARKED) { /* kept with its failure, for if asking fails */
    x->parked_st = st;
    x->parked_kind = kind;
    x->parked_msg = sdc__strdup(detail);
    x->next = p->parked;
    p->parked = x;
    return;
  }
  complete(p, x, st, kind, detail, r);
}

/* The directory answered again for `t`: parked requests go to an endpoint
 * of the new list, or fail with the failure that made them ask. */
static void unpark(sdc_pool *p, sdc_target *t, sdc_status st)
{
  for(struct xfer **pp = &p->parked; *pp;) {
    struct xfer *x = *pp;
    long next = -1;
    if(x->t != t) {
      pp = &x->next;
      continue;
    }
    *pp = x->next;
    if(st == SDC_OK && t->n_eps) {
      next = sdc__target_pick(t, sdc__now_ms());
      if(next < 0) /* the directory still lists only downed endpoints */
        next = (long)(t->rr++ % t->n_eps);
    }
    if(next >= 0 && !aim(x, (size_t)next) &&
       curl_multi_add_handle(p->multi, x->easy) == CURLM_OK) {
      x->next = p->live;
      p->live = x;
      p->running++;
      continue;
    }
    complete(p, x, x->parked_st ? x->parked_st : SDC_EUNAVAILABLE,
             x->parked_msg ? x->parked_kind : SDC_FAIL_NOMEM,
             x->parked_msg ? x->parked_msg : "out of memory", NULL);
  }
}

/* Directory answers that arrived: requests waiting for them go on. */
static void deliver_answers(sdc_pool *p)
{
  struct sdc__resolved *list = sdc__resolve_take(p);

  for(struct sdc__resolved *a = list; a; a = a->next) {
    struct tstate *ts;
    if(a->pfn) { /* posted through a waker */
      a->pfn(a->ud);
      continue;
    }
    if(a->acb) {
      a->acb(a->st, a->st ? NULL : (const char *const *)a->addrs, a->n_addrs,
             a->st ? a->msg : "", a->ud);
      continue;
    }
    if(a->cb) { /* a caller's sdc_pool_resolve(): the reference is theirs */
      a->cb(a->st, a->st ? NULL : a->svc, a->st ? NULL : &a->info,
            a->st || a->info.stale ? a->msg : "", a->ud);
      a->svc = NULL;
      continue;
    }
    ts = sdc__h1_state(p, a->t);
    release_held(p, a->t, HOLD_ENDPOINTS, a->st, a->kind, a->msg);
    unpark(p, a->t, a->st);
    if(ts)
      sdc__h1_endpoints_known(p, ts, a->st);
  }
  sdc__resolved_free(list);
}

/* Held and parked requests whose deadline passed fail now, whatever they
 * wait for. Returns the earliest deadline still ahead (UINT64_MAX: none). */
static uint64_t expire_waiting(sdc_pool *p, uint64_t now)
{
  uint64_t next = UINT64_MAX;

  for(struct held **pp = &p->held; *pp;) {
    struct held *h = *pp;
    if(now < h->deadline_ms) {
      if(h->deadline_ms < next)
        next = h->deadline_ms;
      pp = &h->next;
      continue;
    }
    *pp = h->next;
    snprintf(p->err, sizeof(p->err), "%s %.300s: timed out while %s",
             h->req.method, h->req.url,
             h->why == HOLD_ENDPOINTS ? "the directory was asked for endpoints"
                                      : "the target's protocol was being learnt");
    fail_cb(p, h->cb, h->ud, SDC_ETIMEDOUT, SDC_FAIL_TIMEOUT, p->err);
    held_free(h);
  }
  for(struct xfer **pp = &p->parked; *pp;) {
    struct xfer *x = *pp;
    char detail[800];
    if(now < x->deadline_ms) {
      if(x->deadline_ms < next)
        next = x->deadline_ms;
      pp = &x->next;
      continue;
    }
    *pp = x->next;
    snprintf(detail, sizeof(detail), "timed out while the directory was "
             "asked again after: %.600s", x->parked_msg ? x->parked_msg : "");
    complete(p, x, SDC_ETIMEDOUT, SDC_FAIL_TIMEOUT, detail, NULL);
  }
  return next;
}

void sdc_pool_forget_target(sdc_pool *p, sdc_target *t)
{
  if(!p || !t)
    return;
  p->forgets++;
  for(struct xfer **pp = &p->live; *pp;) {
    struct xfer *x = *pp;
    if(x->t != t) {
      pp = &x->next;
      continue;
    }
    *pp = x->next;
    p->running--;
    curl_multi_remove_handle(p->multi, x->easy);
    complete(p, x, SDC_EUNAVAILABLE, SDC_FAIL_CANCELLED,
             "the pool was told to forget the target", NULL);
  }
  for(struct xfer **pp = &p->parked; *pp;) {
    struct xfer *x = *pp;
    if(x->t != t) {
      pp = &x->next;
      continue;
    }
    *pp = x->next;
    complete(p, x, SDC_EUNAVAILABLE, SDC_FAIL_CANCELLED,
             "the pool was told to forget the target", NULL);
  }
  for(struct held **pp = &p->held; *pp;) {
    struct held *h = *pp;
    if(h->t != t) {
      pp = &h->next;
      continue;
    }
    *pp = h->next;
    fail_cb(p, h->cb, h->ud, SDC_EUNAVAILABLE, SDC_FAIL_CANCELLED,
            "the pool was told to forget the target");
    held_free(h);
  }
  sdc__resolve_forget(p, t);
  sdc__h1_forget(p, t);
  if(t->idle_pool == p->id) /* handles configured by this pool */
    sdc__target_flush_idle(t);
}

static size_t watch_wait_set(sdc_pool *p, size_t n);
static void watch_handle(sdc_pool *p, size_t from, size_t to);

/* Work in progress, or expected. */
static bool busy(const sdc_pool *p)
{
  return p->running || p->h1_pending || p->held || p->parked || p->lookups ||
         p->tcp_pending || p->holds;
}

/* One turn of the loop: answers from other threads, deadlines, libcurl's
 * transfers, then one poll of at most `max_wait` ms for everything (our
 * connections, TCP connects, watched descriptors) and
 * what it found. With `only_if_busy`, stop before the poll when the
 * answers finished the last request. */
static void turn(sdc_pool *p, uint64_t now, uint64_t max_wait, bool only_if_busy)
{
  int still = 0, msgs = 0;
  CURLMsg *m;
  uint64_t wake, left, due;
  size_t n, nt, nw;

  deliver_answers(p);
  due = expire_waiting(p, now);
  if(only_if_busy && !busy(p))
    return; /* the answers finished the last requests */
  if(p->running) {
    curl_multi_perform(p->multi, &still);
    while((m = curl_multi_info_read(p->multi, &msgs))) {
      struct xfer *x = NULL;
      if(m->msg != CURLMSG_DONE)
        continue;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
      finish(p, x, m->data.result);
    }
  }
  n = sdc__h1_wait_set(p, 0, now, &wake);
  nt = sdc__tcp_wait_set(p, n, &wake);
  nw = watch_wait_set(p, nt);
  if(due < wake)
    wake = due > now ? due : now;
  if(wake < now)
    wake = now;
  left = max_wait;
  if(wake - now < left)
    left = wake - now;
  curl_multi_poll(p->multi, p->wfds, (unsigned)nw, (int)left, NULL);
  sdc__h1_handle(p, 0, n);
  sdc__tcp_handle(p, n, nt);
  watch_handle(p, nt, nw);
}

sdc_status sdc_pool_perform(sdc_pool *p, uint64_t timeout_ms)
{
  uint64_t end = sdc__now_ms() + timeout_ms;

  while(busy(p)) {
    uint64_t now = sdc__now_ms();
    if(now >= end)
      return SDC_ETIMEDOUT;
    turn(p, now, end - now < 100 ? end - now : 100, true);
  }
  return SDC_OK;
}

void sdc_pool_turn(sdc_pool *p, uint64_t max_wait_ms)
{
  turn(p, sdc__now_ms(), max_wait_ms > 3600000 ? 3600000 : max_wait_ms, false);
}

/* ---- watched descriptors ------------------------------------------------- */
sdc_status sdc_pool_watch(sdc_pool *p, int fd, short events, sdc_fd_cb cb,
                          void *userdata)
{
  struct watch *g;

  if(!p || fd < 0 || !cb || !(events & (POLLIN | POLLOUT)))
    return SDC_EINVAL;
  for(size_t i = 0; i < p->n_watches; i++)
    if(p->watches[i].fd == fd && !p->watches[i].gone) {
      p->watches[i].events = events;
      p->watches[i].cb = cb;
      p->watches[i].ud = userdata;
      return SDC_OK;
    }
  if(!(g = sdc__realloc(p->watches, (p->n_watches + 1) * sizeof(*g)))) {
    snprintf(p->err, sizeof(p->err), "out of memory");
    return SDC_ENOMEM;
  }
  p->watches = g;
  p->watches[p->n_watches++] = (struct watch){fd, events, cb, userdata, false};
  return SDC_OK;
}

sdc_status sdc_pool_unwatch(sdc_pool *p, int fd)
{
  for(size_t i = 0; p && i < p->n_watches; i++)
    if(p->watches[i].fd == fd && !p->watches[i].gone) {
      p->watches[i].gone = true; /* dropped at the end of the turn */
      return SDC_OK;
    }
  return SDC_ENOTFOUND;
}

static size_t watch_wait_set(sdc_pool *p, size_t n)
{
  size_t k = 0;

  for(size_t i = 0; i < p->n_watches; i++) /* drop the gone ones */
    if(!p->watches[i].gone)
      p->watches[k++] = p->watches[i];
  p->n_watches = k;
  for(size_t i = 0; i < p->n_watches && sdc__wait_room(p, n + 1); i++) {
    short ev = p->watches[i].events;
    p->wfds[n] = (struct curl_waitfd){p->watches[i].fd,
                                      (short)(((ev & POLLIN) ? CURL_WAIT_POLLIN : 0) |
                                              ((ev & POLLOUT) ? CURL_WAIT_POLLOUT : 0)), 0};
    p->wowner[n++] = (void *)(uintptr_t)i;
  }
  return n;
}

static void watch_handle(sdc_pool *p, size_t from, size_t to)
{
  for(size_t k = from; k < to; k++) {
    size_t i = (size_t)(uintptr_t)p->wowner[k];
    short re = p->wfds[k].revents, ev = 0;
    if(!re || i >= p->n_watches || p->watches[i].gone ||
       p->watches[i].fd != p->wfds[k].fd)
      continue;
    ev = (short)(((re & CURL_WAIT_POLLIN) ? POLLIN : 0) |
                 ((re & CURL_WAIT_POLLOUT) ? POLLOUT : 0));
    p->watches[i].cb(p->watches[i].fd, ev ? ev : POLLIN, p->watches[i].ud);
  }
}

/* The state of one blocking request. It lives on the heap: when the
 * backstop gives up, the request may still be held or running, and its
 * callback (at the latest from sdc_pool_free) frees it instead. */
struct one {
  sdc_status st;
  sdc_http_response *r;
  bool done, abandoned;
};

static void one_done(sdc_status st, sdc_http_response *r, const char *err,
                     void *ud)
{
  struct one *o = ud;

  (void)err;
  if(o->abandoned) {
    sdc_http_response_free(r);
    sdc_free(o);
    return;
  }
  o->st = st;
  o->r = r;
  o->done = true;
}

sdc_status sdc_pool_request(sdc_pool *p, sdc_target *t,
                            const sdc_http_request *req, sdc_http_response **out)
{
  struct one *o;
  sdc_status st;
  uint64_t limit;

  if(!req) {
    snprintf(p->err, sizeof(p->err), "a request needs a URL and a callback");
    return SDC_EINVAL;
  }
  limit = (req->timeout_ms ? req->timeout_ms : DEFAULT_TIMEOUT_MS) + 1000;
  if(!(o = sdc__calloc(1, sizeof(*o)))) {
    snprintf(p->err, sizeof(p->err), "out of memory");
    return SDC_ENOMEM;
  }
  st = sdc_pool_submit(p, t, req, one_done, o);
  if(st) {
    sdc_free(o);
    return st;
  }
  (void)sdc_pool_perform(p, limit);
  if(!o->done) {
    /* every wait has its own deadline; this is a backstop */
    o->abandoned = true;
    snprintf(p->err, sizeof(p->err), "%.300s: no answer in time", req->url);
    return SDC_ETIMEDOUT;
  }
  st = o->st;
  if(st == SDC_OK)
    *out = o->r;
  sdc_free(o);
  return st;
}
