/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pooled HTTP(S) to private targets, the way Dialogflow CX reaches a
 * Service Directory webhook: the connection goes to an address the
 * directory returned, while TLS (SNI, certificate verification) and the
 * Host header use the URL's host name. HTTP/1.1 connections are dialed,
 * kept and spoken by the pool itself (OpenSSL, http_parser); HTTP/2 runs
 * over libcurl's multi interface.
 *
 * Threads: one pool per thread (an event loop owns its pool); a pool and
 * its targets are used by that thread only, except sdc_pool_waker_post()
 * and sdc_pool_waker_free(), which any thread may call. Options objects
 * are one thread at a time and copied by sdc_pool_new().
 * Blocking: only sdc_pool_request(), sdc_pool_perform() and
 * sdc_pool_turn() wait (for the network, at most their timeouts); every
 * other call returns at once, and callbacks run inside those three, on
 * the pool's thread, never inside the call that queued them.
 * Ownership: what a call returns through `out` is the caller's to free
 * with the matching _free(); strings passed in are copied unless a
 * comment says borrowed.
 */
#ifndef SDCONNECT_POOL_H
#define SDCONNECT_POOL_H

#include <sdconnect/resolver.h>

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sdc_pool sdc_pool;
typedef struct sdc_pool_opts sdc_pool_opts;
typedef struct sdc_target sdc_target;

/*! Options with the defaults: 16 connections per target, idle connections
 *  closed after 60 s, no age limit, connect timeout 5 s, response body cap
 *  64 KiB, header cap 16 KiB, HTTP/2 when the server offers it.
 *  \param[out] out  Set on SDC_OK only; free with sdc_pool_opts_free().
 *  \return SDC_OK or SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_pool_opts_new(sdc_pool_opts **out);
/*! NULL is a no-op. */
SDC_EXTERN void sdc_pool_opts_free(sdc_pool_opts *o);
/*! Connections a target may have open at once, 1 to 10000; requests past
 *  it wait for one. \return SDC_OK or SDC_EINVAL (out of range). */
SDC_EXTERN sdc_status sdc_pool_opts_set_max_conns_per_target(sdc_pool_opts *o,
                                                             unsigned n);
/*! Close a connection idle this long, 1 s or more.
 *  \return SDC_OK or SDC_EINVAL (under 1 s). */
SDC_EXTERN sdc_status sdc_pool_opts_set_idle_timeout_ms(sdc_pool_opts *o,
                                                        uint64_t ms);
/*! Close a connection once it is this old (0: no limit; else 1 s or
 *  more). \return SDC_OK or SDC_EINVAL. */
SDC_EXTERN sdc_status sdc_pool_opts_set_max_age_ms(sdc_pool_opts *o,
                                                   uint64_t ms);
/*! Close a connection after it has carried `n` requests (0: no limit).
 *  \return SDC_OK. */
SDC_EXTERN sdc_status sdc_pool_opts_set_max_requests_per_conn(sdc_pool_opts *o,
                                                              unsigned n);
/*! How long a TCP connect (and TLS handshake) may take, 1 ms to 10 min.
 *  \return SDC_OK or SDC_EINVAL. */
SDC_EXTERN sdc_status sdc_pool_opts_set_connect_timeout_ms(sdc_pool_opts *o,
                                                           uint64_t ms);
/*! Largest response body kept, 1 byte to 1 GiB; a larger one aborts the
 *  transfer while it is read (SDC_ETOOBIG), it is never buffered.
 *  \return SDC_OK or SDC_EINVAL. */
SDC_EXTERN sdc_status sdc_pool_opts_set_max_body(sdc_pool_opts *o, size_t n);
/*! Largest response header block, 256 bytes to 80 KiB.
 *  \return SDC_OK or SDC_EINVAL. */
SDC_EXTERN sdc_status sdc_pool_opts_set_max_header(sdc_pool_opts *o, size_t n);
/*! Offer HTTP/2 by ALPN (default on). The first request to a TLS target
 *  learns what the server speaks (requests arriving meanwhile wait for it);
 *  HTTP/1.1 servers are then reached over the pool's own connections
 *  (checked again every ten minutes). Off: HTTP/1.1 only, over the pool's
 *  own connections from the first request. \return SDC_OK. */
SDC_EXTERN sdc_status sdc_pool_opts_set_http2(sdc_pool_opts *o, int on);

/*! A pool owned by the calling thread.
 *  \param[out] out   Set on SDC_OK only; free with sdc_pool_free().
 *  \param[in]  opts  Copied; NULL for the defaults.
 *  \return SDC_OK, SDC_EINVAL (out is NULL) or SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_pool_new(sdc_pool **out, const sdc_pool_opts *opts);
/*! Free the pool: transfers in flight are cancelled (their callbacks run
 *  with SDC_EUNAVAILABLE). Targets must be freed after their pool, or
 *  forgotten by it first (sdc_pool_forget_target()). */
SDC_EXTERN void sdc_pool_free(sdc_pool *p);
/*! Detail of the pool's last failure ("GET https://host/x via
 *  10.0.0.5:443: ..."). Never NULL. */
SDC_EXTERN const char *sdc_pool_errmsg(const sdc_pool *p);

/*! A destination: the URL host (a name, an IPv4 literal or a bracketed
 *  IPv6 literal "[fd00::1]") and port with its TLS settings and client
 *  identity, and where to connect (addresses, or a Service Directory
 *  service). Connections are never shared between targets whose TLS
 *  settings or client identities differ.
 *  \param[out] out  Set on SDC_OK only; free with sdc_target_free() after
 *                   its pool, or after sdc_pool_forget_target().
 *  \return SDC_OK, SDC_EINVAL (no host, a host over 253 bytes or holding
 *  " /:@[]" outside a bracketed IPv6 literal, a port outside 1..65535) or
 *  SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_target_new(sdc_target **out, const char *host,
                                     int port, int tls);
/*! NULL is a no-op. */
SDC_EXTERN void sdc_target_free(sdc_target *t);
/*! Trust these CA certificates (PEM, one or more, or one DER) instead of
 *  the system store: Dialogflow's "custom CA certificates". Copied.
 *  \return SDC_OK, SDC_EINVAL (empty, or not PEM and not one DER
 *  certificate) or SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_target_set_ca(sdc_target *t, const void *data,
                                        size_t len);
/*! Client certificate chain and key (PEM) for mTLS; `passphrase` decrypts
 *  an encrypted key (NULL if none). Copied; secrets zeroed on free. The
 *  material is parsed when the first connection is made: unusable
 *  material fails that request (SDC_FAIL_CONFIG).
 *  \return SDC_OK, SDC_EINVAL (a part missing) or SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_target_set_client_cert(sdc_target *t,
                                                 const void *cert, size_t cert_len,
                                                 const void *key, size_t key_len,
                                                 const char *passphrase);
/*! Turn certificate verification off for this target only (default on).
 *  \return SDC_OK. */
SDC_EXTERN sdc_status sdc_target_set_verify(sdc_target *t, int verify);
/*! Connect to these addresses (IPv4/IPv6 literals) and ports, round-robin,
 *  instead of resolving the host name. Copied.
 *  \return SDC_OK, SDC_EINVAL (none, an address over 63 bytes, a port
 *  outside 1..65535) or SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_target_set_addresses(sdc_target *t,
                                               const char *const *addrs,
                                               const int *ports, size_t n);
/*! Connect to the endpoints of a Service Directory service, resolved
 *  through `r` (borrowed: must outlive the target). Copied name.
 *  \return SDC_OK, SDC_EINVAL (no resolver or name) or SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_target_set_service(sdc_target *t, sdc_resolver *r,
                                             const char *service);

/*! A request flag (sdc_http_request_set_flags()): a connection of its own, opened for this request
 *  and closed after it, never taken from or given to the pool (a probe,
 *  which measures connect and TLS). It still counts against the target's
 *  connection limit while it lives. The pool dials it itself (one TLS
 *  context per target, a full handshake each time, no session resumption)
 *  and speaks HTTP/1.1 on it, unless the target is known to speak HTTP/2,
 *  when libcurl makes a fresh HTTP/2 connection. */
#define SDC_HTTP_FRESH_CONN 0x1u
/*! A request flag: a body past the pool's body cap is cut there
 *  and the answer handed over (sdc_http_response.truncated), instead of
 *  failing with SDC_ETOOBIG: what uptime checks do with their scan window.
 *  The connection is then closed. */
#define SDC_HTTP_TRUNCATE 0x2u

/*! A request: opaque, made with sdc_http_request_new() and its setters
 *  (everything given is copied), so that new settings can be added without
 *  breaking programs built before them. Free with sdc_http_request_free()
 *  once sdc_pool_request() returns or sdc_pool_submit() did (the pool copies
 *  what it keeps). */
typedef struct sdc_http_request sdc_http_request;

/*! A GET of `url` (https://host[:port]/path, or http://; its host and port
 *  are the target's) with no header or body and a 30 s timeout.
 *  \param[out] out  Set on SDC_OK only.
 *  \return SDC_OK, SDC_EINVAL (no url or out) or SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_http_request_new(sdc_http_request **out, const char *url);
/*! NULL is a no-op. */
SDC_EXTERN void sdc_http_request_free(sdc_http_request *r);
/*! The method (an HTTP token, checked when submitted); NULL: GET, or POST
 *  with a body. \return SDC_OK or SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_http_request_set_method(sdc_http_request *r, const char *method);
/*! Add a "Name: value" header line (checked when submitted).
 *  \return SDC_OK, SDC_EINVAL (NULL) or SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_http_request_add_header(sdc_http_request *r, const char *line);
/*! The body (`len` bytes; NULL or 0: none). \return SDC_OK or SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_http_request_set_body(sdc_http_request *r, const void *body,
                                                size_t len);
/*! The whole request's deadline; 0: 30 s. \return SDC_OK. */
SDC_EXTERN sdc_status sdc_http_request_set_timeout_ms(sdc_http_request *r, uint64_t ms);
/*! SDC_HTTP_FRESH_CONN and SDC_HTTP_TRUNCATE, or'ed. \return SDC_OK, or
 *  SDC_EINVAL (an unknown flag). */
SDC_EXTERN sdc_status sdc_http_request_set_flags(sdc_http_request *r, unsigned flags);
/*! "ADDR:PORT" (as sdc_http_response.endpoint says) not to use while the
 *  target has another: a retry goes elsewhere (HTTP/1.1 connections); NULL:
 *  any. \return SDC_OK or SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_http_request_set_avoid_endpoint(sdc_http_request *r,
                                                          const char *endpoint);

/*! Frozen: embedded in sdc_http_response (new facts go at its end). */
typedef struct sdc_http_timings {
  double connect_ms;     /*!< TCP connected (0 on a reused connection) */
  double tls_ms;         /*!< TLS handshake done */
  double first_byte_ms;  /*!< first response byte */
  double total_ms;
} sdc_http_timings;

/*! Frozen: embedded in sdc_http_response (new facts go at its end). */
typedef struct sdc_tls_facts {
  const char *version;          /*!< "TLSv1.3", or "" for plaintext */
  long verify_result;           /*!< X509_V_OK (0) when verified */
  int64_t earliest_expiry;      /*!< soonest notAfter in the chain (Unix s) */
  size_t n_chain;
  const char *const *chain;     /*!< subject of each peer certificate */
  const char *cipher;           /*!< "TLS_AES_256_GCM_SHA384", or "" */
} sdc_tls_facts;

/*! An answer. Append-only: the library makes it, and fields are only ever
 *  added at the end. */
typedef struct sdc_http_response {
  long status;
  const char *headers;   /*!< raw header block */
  size_t headers_len;
  const char *body;      /*!< NUL-terminated */
  size_t body_len;
  const char *endpoint;  /*!< "ADDR:PORT" dialed */
  int reused;            /*!< went over a pooled connection */
  int http_version;      /*!< 11 or 2 */
  sdc_http_timings timings;
  sdc_tls_facts tls;
  int truncated;         /*!< the body was cut at the cap (SDC_HTTP_TRUNCATE) */
} sdc_http_response;

SDC_EXTERN void sdc_http_response_free(sdc_http_response *r); /* NULL ok */

/*! One request, blocking (drives sdc_pool_perform() until it is over; not
 *  for a thread that runs an event loop). On a connect failure the next
 *  endpoint is tried; when every endpoint has failed the service is
 *  resolved again once.
 *  \return SDC_OK (any HTTP status), SDC_ETLS (verification or handshake:
 *  the detail says which), SDC_EUNAVAILABLE, SDC_ETIMEDOUT, SDC_ETOOBIG,
 *  SDC_EINVAL, SDC_ENOMEM. Detail: sdc_pool_errmsg(). */
SDC_EXTERN sdc_status sdc_pool_request(sdc_pool *p, sdc_target *t,
                                       const sdc_http_request *req,
                                       sdc_http_response **out);

/*! Completion of sdc_pool_submit(): `resp` (owned by the callback) or NULL
 *  with `errmsg`. */
typedef void (*sdc_pool_cb)(sdc_status st, sdc_http_response *resp,
                            const char *errmsg, void *userdata);

/*! Queue a request; it progresses inside sdc_pool_perform(). On SDC_OK the
 *  callback runs exactly once, on the thread calling sdc_pool_perform(),
 *  never inside sdc_pool_submit(); it may submit further requests.
 *  Never blocks: for a Service Directory target it uses the resolver's
 *  cached answer (sdc_resolve_cached()) or asks with sdc_resolve_async()
 *  and keeps the request until the answer is in, its deadline counting
 *  all along; a directory failure then reaches the callback with the
 *  resolver's status (SDC_ENOTFOUND, SDC_EPERM, SDC_EUNAVAILABLE, ...).
 *  Every wait (the directory, a connection, a target's protocol) ends at
 *  the request's own deadline with SDC_ETIMEDOUT.
 *  Returns SDC_OK, SDC_EINVAL, SDC_ENOMEM, or SDC_ENOTFOUND when the
 *  resolver remembers the service as missing.
 *  Refused (SDC_EINVAL) before any traffic: a URL that is not the target's
 *  scheme, host and port or holds spaces or control characters, a method
 *  that is not an HTTP token, a header that is not "Name: value" or holds
 *  a line break, and Content-Length/Transfer-Encoding (set by the pool). */
SDC_EXTERN sdc_status sdc_pool_submit(sdc_pool *p, sdc_target *t,
                                      const sdc_http_request *req,
                                      sdc_pool_cb cb, void *userdata);
/*! Drive queued requests until none is left or `timeout_ms` passes.
 *  \return SDC_OK when all finished, SDC_ETIMEDOUT otherwise. */
SDC_EXTERN sdc_status sdc_pool_perform(sdc_pool *p, uint64_t timeout_ms);

/*! What went wrong with a failed request, more precisely than its status:
 *  for probes and diagnostics, which report it. Values are append-only. */
typedef enum sdc_fail_kind {
  SDC_FAIL_NONE = 0,
  SDC_FAIL_DIRECTORY = 1,       /*!< the directory refused or failed */
  SDC_FAIL_NO_ENDPOINT = 2,     /*!< nothing to connect to */
  SDC_FAIL_CONNECT_REFUSED = 3, /*!< the endpoint refused the connection */
  SDC_FAIL_CONNECT_TIMEOUT = 4, /*!< no TCP connection within the time */
  SDC_FAIL_CONNECT = 5,         /*!< another connect error (unreachable...) */
  SDC_FAIL_TLS_HANDSHAKE = 6,   /*!< the TLS handshake failed */
  SDC_FAIL_TLS_VERIFY = 7,      /*!< the chain is not trusted */
  SDC_FAIL_TLS_EXPIRED = 8,     /*!< a certificate expired or is not yet valid */
  SDC_FAIL_TLS_HOSTNAME = 9,    /*!< the certificate does not name the host */
  SDC_FAIL_TLS_VERSION = 10,    /*!< no TLS 1.2 or newer */
  SDC_FAIL_TLS_CLIENT_CERT = 11, /*!< the server wants or refused a client certificate */
  SDC_FAIL_TIMEOUT = 12,        /*!< no whole answer within the time */
  SDC_FAIL_TOO_BIG = 13,        /*!< the answer passed a size cap */
  SDC_FAIL_PROTOCOL = 14,       /*!< a broken answer, or closed without one */
  SDC_FAIL_CANCELLED = 15,      /*!< the pool was freed */
  SDC_FAIL_NOMEM = 16,
  SDC_FAIL_CONFIG = 17          /*!< unusable CA store or client key */
} sdc_fail_kind;

/*! Inside the callback of a failed request: what kind of failure it was.
 *  SDC_FAIL_NONE elsewhere. */
SDC_EXTERN sdc_fail_kind sdc_pool_fail_kind(const sdc_pool *p);

/*! Resolve `name` through `r` for a caller on the pool's loop: like
 *  sdc_resolve_async(), but `cb` runs on the thread calling
 *  sdc_pool_perform() (a cached answer too, on its next turn, never inside
 *  this call), and sdc_pool_perform() keeps going until it has. Never
 *  blocks. On a non-OK return `cb` never runs. If the pool is freed first,
 *  `cb` runs from sdc_pool_free() with SDC_EUNAVAILABLE.
 *  \return SDC_OK, SDC_EINVAL (no resolver, name or callback), SDC_ENOMEM,
 *  or what sdc_resolve_async() refuses with. */
SDC_EXTERN sdc_status sdc_pool_resolve(sdc_pool *p, sdc_resolver *r,
                                       const char *name, int max_endpoints,
                                       const char *filter, sdc_resolve_cb cb,
                                       void *userdata);

/*! Callbacks of sdc_pool_resolve() and sdc_pool_resolve_host() calls made
 *  with this `userdata` will not run (their answers are dropped). */
SDC_EXTERN void sdc_pool_cancel_lookups(sdc_pool *p, void *userdata);

/*! Completion of sdc_pool_resolve_host(): the host's addresses (IPv4 or
 *  IPv6 literals, borrowed for the call) or a failure. */
typedef void (*sdc_addr_cb)(sdc_status st, const char *const *addrs,
                            size_t n_addrs, const char *errmsg,
                            void *userdata);

/*! Look up a host name in DNS (getaddrinfo, on a thread of its own) and
 *  tell `cb` on the pool's loop, like sdc_pool_resolve(); an address
 *  literal is told as it is (an IPv6 one may be bracketed, as in a URL:
 *  "[fd00::1]" is told as "fd00::1"). At most 64 lookups per pool at once.
 *  \return SDC_OK, SDC_EINVAL, SDC_ENOMEM, SDC_EAGAIN (64 in flight). */
SDC_EXTERN sdc_status sdc_pool_resolve_host(sdc_pool *p, const char *host,
                                            sdc_addr_cb cb, void *userdata);

/*! Drop what the pool keeps for `t`: its connections are closed, a
 *  directory question about it is no longer waited for, and requests of
 *  `t` still in this pool fail with SDC_EUNAVAILABLE (SDC_FAIL_CANCELLED)
 *  before this returns. Afterwards `t` may be freed while the pool lives,
 *  also from inside the callback of one of its requests. */
SDC_EXTERN void sdc_pool_forget_target(sdc_pool *p, sdc_target *t);

/*! What a TCP connect found: borrowed for the callback's duration.
 *  Append-only: the library makes it. */
typedef struct sdc_tcp_result {
  const char *endpoint; /*!< "ADDR:PORT" dialed */
  double connect_ms;    /*!< until the TCP handshake completed */
  const char *data;     /*!< what the peer sent (NUL-terminated), or "" */
  size_t data_len;
} sdc_tcp_result;

/*! Completion of sdc_pool_tcp_connect(): `res` on success, else NULL and
 *  `errmsg`; sdc_pool_fail_kind() tells refused, timeout and the rest
 *  apart. */
typedef void (*sdc_tcp_cb)(sdc_status st, const sdc_tcp_result *res,
                           const char *errmsg, void *userdata);

/*! Connect to `addr` (an IPv4 or IPv6 literal) and `port` on the pool's
 *  loop, time it, then close; with `read_max` > 0, first read what the peer
 *  sends until it closes, `read_max` bytes, or the deadline. A TCP uptime
 *  check: no libcurl handle, no TLS. Never blocks; `cb` runs exactly once
 *  on the thread calling sdc_pool_perform(), never inside this call.
 *  \return SDC_OK, SDC_EINVAL (not an address literal, bad port),
 *  SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_pool_tcp_connect(sdc_pool *p, const char *addr,
                                           int port, uint64_t timeout_ms,
                                           size_t read_max, sdc_tcp_cb cb,
                                           void *userdata);

/*! A handle other threads use to hand work back to the pool's loop (like
 *  libuv's uv_async): blocking work (a token fetch) runs on a thread of
 *  its own and posts its completion here. */
typedef struct sdc_pool_waker sdc_pool_waker;
typedef void (*sdc_pool_fn)(void *userdata);

/*! Make a waker (on the loop thread). It may outlive the pool: posts then
 *  do nothing. SDC_OK, SDC_EINVAL, SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_pool_waker_new(sdc_pool *p, sdc_pool_waker **out);
/*! From any thread: run `fn(userdata)` on the loop thread in its next turn,
 *  waking its poll. 1 when queued; 0 when the pool is gone (or out of
 *  memory): then `fn` never runs. Thread-safe. */
SDC_EXTERN int sdc_pool_waker_post(sdc_pool_waker *w, sdc_pool_fn fn,
                                   void *userdata);
/*! From any thread; NULL is a no-op. */
SDC_EXTERN void sdc_pool_waker_free(sdc_pool_waker *w);
/*! On the loop thread: sdc_pool_perform() keeps going (waiting) until as
 *  many sdc_pool_release() calls, e.g. while a post is expected. */
SDC_EXTERN void sdc_pool_hold(sdc_pool *p);
/*! Undo one sdc_pool_hold(). */
SDC_EXTERN void sdc_pool_release(sdc_pool *p);

/*! A descriptor the loop's owner watches (a listener, a signalfd). */
typedef void (*sdc_fd_cb)(int fd, short revents, void *userdata);

/*! Watch `fd` (POLLIN and/or POLLOUT) in the pool's poll; `cb` runs on the
 *  loop thread, inside sdc_pool_turn() or sdc_pool_perform(), when it is
 *  ready. Watching a descriptor again replaces its events and callback.
 *  \return SDC_OK, SDC_EINVAL, SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_pool_watch(sdc_pool *p, int fd, short events,
                                     sdc_fd_cb cb, void *userdata);
/*! Stop watching `fd` (also from its own callback).
 *  \return SDC_OK, or SDC_ENOTFOUND if it was not watched. */
SDC_EXTERN sdc_status sdc_pool_unwatch(sdc_pool *p, int fd);
/*! One turn of a daemon's loop: wait at most `max_wait_ms` for anything
 *  (network, watched descriptors, posts, deadlines), then act on it.
 *  Unlike sdc_pool_perform() it waits even when no request is in flight. */
SDC_EXTERN void sdc_pool_turn(sdc_pool *p, uint64_t max_wait_ms);

/*! Connections opened so far (reuse shows as fewer opens than requests). */
SDC_EXTERN unsigned long sdc_pool_connections_opened(const sdc_pool *p);

#ifdef __cplusplus
}
#endif
#endif /* SDCONNECT_POOL_H */
