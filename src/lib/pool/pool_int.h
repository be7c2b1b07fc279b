/* SPDX-License-Identifier: Apache-2.0 */
/* Internal header of the pool module. */
#ifndef SDC_POOL_INT_H
#define SDC_POOL_INT_H

#include "request.h"
#include <sdconnect/pool.h>
#include <sdconnect/version.h>

#include <curl/curl.h>
#include <stdbool.h>

#define IDLE_HANDLES 64
#define DOWN_MS 5000 /* an endpoint that refused a connection is skipped */
#define DEFAULT_TIMEOUT_MS 30000
#define SDC_USER_AGENT "sdconnect/" SDC_VERSION_STRING
#define CONN_SLOTS 1024
#define DIAL_CTXS 16 /* TLS contexts a pool keeps for the connections it dials */

struct sdc_pool_opts {
  unsigned max_conns, max_requests;
  uint64_t idle_ms, max_age_ms, connect_ms;
  size_t max_body, max_header;
  int http2;
};

struct endpoint {
  char addr[64];
  int port;
  uint64_t down_until_ms;
};

struct sdc_target {
  char *host;
  int port, tls, verify;
  char *ca_pem;
  size_t ca_len;
  char *cert, *key, *pass;
  size_t cert_len, key_len;
  struct endpoint *eps;
  size_t n_eps, rr;
  sdc_resolver *resolver;
  char *service;
  const sdc_service *snapshot; /* what eps were built from */
  /* easy handles already configured for this target by pool `idle_pool` */
  CURL *idle[IDLE_HANDLES];
  size_t n_idle;
  uint64_t idle_pool;
};

/* Requests carried so far, per libcurl-run connection (local and remote
 * address). */
struct conn_use {
  char key[128];
  unsigned n;
};

/* A directory answer for a target, handed to the loop thread. */
struct sdc__resolved {
  struct sdc__resolved *next;
  uint64_t ask;       /* which question this answers */
  sdc_target *t;      /* for a target's endpoints, or NULL... */
  sdc_resolve_cb cb;  /* ...for a caller's sdc_pool_resolve() */
  sdc_addr_cb acb;    /* ...or sdc_pool_resolve_host() */
  sdc_pool_fn pfn;    /* ...or a function posted through a waker */
  char *host, **addrs;
  size_t n_addrs;
  void *ud;
  sdc_resolve_info info;
  sdc_status st;
  sdc_fail_kind kind; /* when st is not SDC_OK */
  const sdc_service *svc;
  char msg[512];
};

struct xfer;     /* a request libcurl runs (pool.c) */
struct held;     /* a request waiting for endpoints or a protocol (pool.c) */
struct asking;   /* a directory question in flight (resolve.c) */
struct lookup;   /* a caller's sdc_pool_resolve(_host) (resolve.c) */
struct sdc__inbox;
struct tcpop;    /* a TCP connect (tcp.c) */
struct tstate;   /* a target's HTTP/1.1 connections in a pool (h1conn.c) */
struct h1conn;
struct h1req;
struct h1_url;

struct sdc_pool {
  struct sdc_pool_opts o;
  uint64_t id; /* never reused, unlike the address */
  struct conn_use uses[CONN_SLOTS];
  CURLM *multi;    /* requests libcurl runs: HTTP/2, first contact */
  struct xfer *live;
  struct xfer *parked;   /* out of `multi` while the directory is asked again */
  struct held *held;     /* waiting for endpoints or a target's protocol */
  struct asking *asking; /* directory questions in flight */
  uint64_t next_ask;
  unsigned lookups;      /* sdc_pool_resolve(_host) calls not yet answered */
  struct lookup *callers; /* ...and whom to tell */
  unsigned dns_threads;
  unsigned holds;        /* sdc_pool_hold(): work expected from elsewhere */
  /* descriptors the owner of the loop watches (sdc_pool_watch) */
  struct watch { int fd; short events; sdc_fd_cb cb; void *ud; bool gone; } *watches;
  size_t n_watches;
  struct tcpop *tcp;     /* sdc_pool_tcp_connect() in progress */
  unsigned tcp_pending;
  struct sdc__inbox *inbox; /* their answers, from the resolver's thread */
  unsigned running;      /* requests in `multi` */
  unsigned h1_pending;   /* requests on our own HTTP/1.1 connections */
  struct tstate *targets;
  struct h1conn *closed; /* freed at the end of a loop turn */
  struct h1req *h1_done, *h1_done_tail; /* callbacks due this turn */
  uint64_t scan_due;  /* next look at deadlines and idle connections */
  struct curl_waitfd *wfds;
  void **wowner;
  size_t cap_wfds;
  /* TLS contexts of the connections the pool dials, by settings (dial.c) */
  struct dial_ctx { unsigned char key[32]; struct ssl_ctx_st *ctx; } ctxs[DIAL_CTXS];
  size_t n_ctxs;
  unsigned long opened;
  sdc_fail_kind fail; /* of the failed request whose callback runs */
  unsigned long forgets; /* sdc_pool_forget_target() calls: a callback that
                            forgot a target may have freed it */
  char err[1024];
};

/* ---- targets (target.c) ---- */
/* Rebuild the endpoint list from a directory answer (a reference this
 * takes over, even on failure). SDC_OK or SDC_ENOMEM. */
sdc_status sdc__target_apply(sdc_target *t, const sdc_service *s);
/* The next endpoint that is not down, round-robin; -1 if none. */
long sdc__target_pick(sdc_target *t, uint64_t now);
/* Easy-handle settings for the target's TLS (CA, client identity, verify). */
/* False when libcurl could not copy a setting (out of memory). */
bool sdc__target_set_tls(CURL *e, const sdc_target *t);
/* "ADDR:PORT" (IPv6 bracketed) and the CONNECT_TO line for endpoint i. */
void sdc__target_endpoint(const sdc_target *t, size_t i, char *ep, size_t epcap,
                          char *line, size_t linecap);
void sdc__target_flush_idle(sdc_target *t);
/* `len` bytes and a NUL after them, malloc'd. */
char *sdc__copy_blob(const void *data, size_t len);

/* ---- directory answers without blocking (resolve.c) ---- */
sdc_status sdc__resolve_init(sdc_pool *p);
void sdc__resolve_cleanup(sdc_pool *p);
/* Make `t`'s endpoints current: SDC_OK (given addresses, or a fresh cached
 * answer applied), SDC_EAGAIN (the directory is being asked; the answer
 * comes through sdc__resolve_take), or the cached failure (p->err). */
sdc_status sdc__resolve_endpoints(sdc_pool *p, sdc_target *t);
/* Ask again bypassing the cache (every endpoint failed): SDC_OK when the
 * question is out (or already was). */
sdc_status sdc__resolve_again(sdc_pool *p, sdc_target *t);
bool sdc__resolve_pending(const sdc_pool *p, const sdc_target *t);
/* Answers that arrived, already applied to their targets (st is
 * SDC_EUNAVAILABLE when one lists no usable endpoint; answers for targets
 * the pool forgot are dropped), callers' answers with `cb` set; free the
 * list. */
struct sdc__resolved *sdc__resolve_take(sdc_pool *p);
/* Tell every caller still waiting that the pool is gone. */
void sdc__resolve_fail_callers(sdc_pool *p);
/* Stop waiting for an answer about `t` (the pool forgets it). */
void sdc__resolve_forget(sdc_pool *p, const sdc_target *t);
void sdc__resolved_free(struct sdc__resolved *list);

/* ---- our own HTTP/1.1 connections (h1conn.c) ---- */
struct tstate *sdc__h1_state(sdc_pool *p, sdc_target *t);
/* Should this request go over our HTTP/1.1 connections? Known HTTP/1.1
 * servers, plaintext, or a pool without HTTP/2. */
bool sdc__h1_eligible(sdc_pool *p, struct tstate *ts);
/* The target is known to speak HTTP/2 (learnt through libcurl). */
bool sdc__h1_known_h2(const struct tstate *ts);
/* A request for libcurl while the protocol is not known: true when it is
 * to learn it (the first); *hold when another is already learning, so this
 * one waits for the answer (a burst of first requests must not each open
 * a connection). sdc__h1_probe_done() when the learning request is over. */
bool sdc__h1_probe(sdc_pool *p, struct tstate *ts, bool *hold);
void sdc__h1_probe_done(sdc_pool *p, struct tstate *ts);
/* What libcurl negotiated with the target (11 or 2): decides the path. */
void sdc__h1_learn(sdc_pool *p, struct tstate *ts, int http_version);
sdc_status sdc__h1_submit(sdc_pool *p, struct tstate *ts,
                          const sdc_http_request *req, const struct h1_url *u,
                          const char *method, bool re_resolved, sdc_pool_cb cb,
                          void *ud);
/* The directory answered for ts's target (st, msg: how): requests that
 * waited for it go on, or fail with what made them ask. */
void sdc__h1_endpoints_known(sdc_pool *p, struct tstate *ts, sdc_status st);
/* A response whose endpoint, TLS version and chain live in its own block
 * (one allocation); body and headers are handed over by the caller. */
sdc_http_response *sdc__response_new(const char *endpoint, const char *version,
                                     const char *cipher, char *const *chain,
                                     size_t n_chain);
/* Hand the answer's buffers (NULL: none) to `r`; on failure `r` is freed
 * and false returned. */
bool sdc__response_take(sdc_http_response *r, char **hdrs, size_t hdr_n,
                        char **body, size_t body_n);
/* Add our connections' sockets to p->wfds from index `n`; new count. */
size_t sdc__h1_wait_set(sdc_pool *p, size_t n, uint64_t now, uint64_t *wake_ms);
/* Act on what poll reported for entries [from, to) of p->wfds; enforce
 * deadlines and idle limits. */
void sdc__h1_handle(sdc_pool *p, size_t from, size_t to);
void sdc__h1_free_all(sdc_pool *p);
/* Room for n entries in p->wfds/p->wowner. */
bool sdc__wait_room(sdc_pool *p, size_t n);

/* ---- TCP connects (tcp.c) ---- */
/* Add their sockets to p->wfds from index n; new count; *wake_ms lowered
 * to the earliest deadline (or now, when one is ready to be told). */
size_t sdc__tcp_wait_set(sdc_pool *p, size_t n, uint64_t *wake_ms);
/* Act on poll's report for [from, to), deadlines, then the callbacks. */
void sdc__tcp_handle(sdc_pool *p, size_t from, size_t to);
void sdc__tcp_free_all(sdc_pool *p);
/* Fail what `t` has in our HTTP/1.1 path, close its connections, forget
 * its state. */
void sdc__h1_forget(sdc_pool *p, sdc_target *t);

/* ---- connections the pool dials itself (dial.c) ---- */
struct sdc__dial;
struct ssl_st;
struct sockaddr_storage;
/* addr (an IPv4 or IPv6 literal) and port as a socket address: its length,
 * 0 when addr is neither. */
unsigned sdc__sockaddr_of(const char *addr, int port, struct sockaddr_storage *ss);
/* What a failed connect's errno means: *kind set, the status returned. */
sdc_status sdc__connect_failure(int err, sdc_fail_kind *kind);
/* Start a non-blocking connect to addr:port (and, for a TLS target, the
 * handshake that follows). On failure *kind and why say what. */
sdc_status sdc__dial_start(sdc_pool *p, sdc_target *t, const char *addr, int port,
                           struct sdc__dial **out, sdc_fail_kind *kind,
                           char *why, size_t cap);
int sdc__dial_fd(const struct sdc__dial *d);
short sdc__dial_events(const struct sdc__dial *d); /* POLLIN/POLLOUT */
/* Go on after poll said `revents`: 1 up, 0 not yet, -1 failed (st, kind,
 * why set). */
int sdc__dial_step(struct sdc__dial *d, short revents, sdc_status *st,
                   sdc_fail_kind *kind, char *why, size_t cap);
double sdc__dial_connect_ms(const struct sdc__dial *d);
double sdc__dial_tls_ms(const struct sdc__dial *d);
struct ssl_st *sdc__dial_ssl(const struct sdc__dial *d);
/* curl_easy_send/recv's contract: CURLE_OK, CURLE_AGAIN, or an error. */
CURLcode sdc__dial_send(struct sdc__dial *d, const void *buf, size_t len, size_t *n);
CURLcode sdc__dial_recv(struct sdc__dial *d, void *buf, size_t cap, size_t *n);
/* Why an established connection broke (before_answer: no byte of an
 * answer came). */
sdc_status sdc__dial_explain(struct sdc__dial *d, CURLcode rc, bool before_answer,
                             sdc_fail_kind *kind, char *why, size_t cap);
void sdc__dial_free(struct sdc__dial *d);
void sdc__dial_cleanup(sdc_pool *p);

/* ---- libcurl glue (tls.c) ---- */
/* libcurl's process-wide share (TLS sessions, DNS), created on first use;
 * sdc_global_cleanup() releases it (through a core cleanup hook). */
CURLSH *sdc__curl_share(void);
void sdc__curl_share_cleanup(void);

/* TLS facts of the connection behind `easy` (call while the transfer is
 * running, e.g. from a header callback). Strings are malloc'd into *chain. */
void sdc__tls_facts_from_ssl(struct ssl_st *ssl, char *version, size_t vcap,
                             char *cipher, size_t ccap, long *verify,
                             int64_t *expiry, char ***chain, size_t *n_chain);
/* The words for a TLS failure of `kind` with `host` (vr: the verify
 * result; why: the library's text). Returns the status class. */
sdc_status sdc__tls_message(sdc_fail_kind kind, long vr, const char *host,
                            const char *why, bool has_client_cert, char *out,
                            size_t cap);
void sdc__tls_facts_capture(CURL *easy, char *version, size_t vcap,
                            char *cipher, size_t ccap,
                            long *verify, int64_t *expiry, char ***chain,
                            size_t *n_chain);

/* A clear account of a failed transfer: what went wrong with TLS or the
 * connection, for `host`. Returns the status class. */
sdc_status sdc__curl_explain(CURLcode rc, CURL *easy, const char *errbuf,
                             const char *host, bool has_client_cert, char *out,
                             size_t cap, sdc_fail_kind *kind);

#endif
