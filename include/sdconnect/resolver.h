/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Service Directory client: resolve projects/P/locations/L/namespaces/N/
 * services/S to endpoints over gRPC, against Google's API or a local
 * `sdconnect sd-server`, with a cache in front.
 *
 * Threads: a resolver may be used from any number of threads at once
 * (sdc_resolve, sdc_resolve_async and the registry calls of registry.h are
 * thread-safe); options objects are one thread at a time.
 * Blocking: sdc_resolve() and the registry calls wait for the directory,
 * at most the options' timeout; sdc_resolve_cached() and
 * sdc_resolve_async() never block (an event loop uses them, or
 * sdc_pool_resolve()). sdc_resolver_free() waits for callbacks queued
 * before it.
 * Ownership: options are copied by sdc_resolver_new(); answers are
 * references released with sdc_service_release().
 */
#ifndef SDCONNECT_RESOLVER_H
#define SDCONNECT_RESOLVER_H

#include <sdconnect/common.h>

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sdc_resolver sdc_resolver;
typedef struct sdc_resolver_opts sdc_resolver_opts;

/*! Google's Service Directory API, the default endpoint. */
#define SDC_SD_GOOGLE_ENDPOINT "servicedirectory.googleapis.com:443"

/*! Create options with defaults: Google's endpoint over TLS with Google
 *  default credentials; 15 s per call; 4 attempts; cache TTL 30 s, stale
 *  answers for 5 min after, NOT_FOUND remembered 5 s.
 *  \return SDC_OK or SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_resolver_opts_new(sdc_resolver_opts **out);
SDC_EXTERN void sdc_resolver_opts_free(sdc_resolver_opts *o); /* NULL ok */

/*! "host:port" of the directory; NULL or "" restores Google's. Another
 *  endpoint gets no Google credentials unless asked for with
 *  sdc_resolver_opts_set_google_credentials().
 *  \return SDC_OK, SDC_EINVAL (no port, or not digits) or SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_resolver_opts_set_endpoint(sdc_resolver_opts *o,
                                                     const char *host_port);
/*! Plaintext HTTP/2 instead of TLS (a local server on loopback).
 *  \return SDC_OK. */
SDC_EXTERN sdc_status sdc_resolver_opts_set_plaintext(sdc_resolver_opts *o,
                                                      int plaintext);
/*! Trust these PEM CA certificates instead of the system's (copied; NULL
 *  clears). \return SDC_OK or SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_resolver_opts_set_ca_pem(sdc_resolver_opts *o,
                                                   const char *pem);
/*! Present this client certificate chain and key (PEM, copied; the key is
 *  zeroed when the options are freed; both NULL clear).
 *  \return SDC_OK, SDC_EINVAL (one without the other) or SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_resolver_opts_set_client_cert_pem(
    sdc_resolver_opts *o, const char *cert_pem, const char *key_pem);
/*! Send "authorization: Bearer <token>" (copied, zeroed on free, never
 *  logged; NULL clears).
 *  \return SDC_OK, SDC_EINVAL (a line break, or 4 KiB or more) or
 *  SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_resolver_opts_set_bearer_token(sdc_resolver_opts *o,
                                                         const char *token);
/*! Use Google credentials: from this key or authorized-user file, or with
 *  NULL the default search (GOOGLE_APPLICATION_CREDENTIALS, gcloud's
 *  application-default file, the metadata server at GCE_METADATA_HOST).
 *  The file is read by sdc_resolver_new(). \return SDC_OK or SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_resolver_opts_set_google_credentials(
    sdc_resolver_opts *o, const char *file);
/*! Overall deadline of one call, retries included (1..600000).
 *  \return SDC_OK or SDC_EINVAL (out of range). */
SDC_EXTERN sdc_status sdc_resolver_opts_set_timeout_ms(sdc_resolver_opts *o,
                                                       uint64_t ms);
/*! Attempts per call (1..10); retried on UNAVAILABLE and DEADLINE_EXCEEDED
 *  only, with exponential backoff and jitter.
 *  \return SDC_OK or SDC_EINVAL (out of range). */
SDC_EXTERN sdc_status sdc_resolver_opts_set_max_attempts(sdc_resolver_opts *o,
                                                         unsigned n);
/*! First backoff and its cap (doubling, jittered down by up to half).
 *  \return SDC_OK, or SDC_EINVAL (initial 0, max below initial or over
 *  60 s). */
SDC_EXTERN sdc_status sdc_resolver_opts_set_backoff_ms(sdc_resolver_opts *o,
                                                       uint64_t initial,
                                                       uint64_t max);
/*! How long an answer is served from the cache; 0 turns the cache off.
 *  \return SDC_OK. */
SDC_EXTERN sdc_status sdc_resolver_opts_set_cache_ttl_ms(sdc_resolver_opts *o,
                                                         uint64_t ms);
/*! After the TTL, how long the last good answer may still be served when
 *  the directory cannot be reached (the answer says it is stale).
 *  \return SDC_OK. */
SDC_EXTERN sdc_status sdc_resolver_opts_set_stale_ms(sdc_resolver_opts *o,
                                                     uint64_t ms);
/*! How long a NOT_FOUND answer is remembered; 0 never. \return SDC_OK. */
SDC_EXTERN sdc_status sdc_resolver_opts_set_negative_ttl_ms(
    sdc_resolver_opts *o, uint64_t ms);

/*! Create a resolver. Channels are shared by every resolver of the process
 *  with the same endpoint and TLS settings.
 *  \param[out] out  Set on success only.
 *  \param[in]  opts Copied.
 *  \return SDC_OK, SDC_ENOMEM, SDC_EINVAL, or SDC_ENOTFOUND when Google
 *  credentials were asked for and none were found (detail: the message
 *  written to `err`, which may be NULL). */
SDC_EXTERN sdc_status sdc_resolver_new(sdc_resolver **out,
                                       const sdc_resolver_opts *opts,
                                       char *err, size_t errlen);
SDC_EXTERN void sdc_resolver_free(sdc_resolver *r); /* NULL ok */

/*! Detail of the last failure of the calling thread on this resolver
 *  ("resolve NAME via HOST:PORT: ..."). Never NULL. */
SDC_EXTERN const char *sdc_resolver_errmsg(const sdc_resolver *r);
/*! gRPC status code of the calling thread's last call, or -1 when the last
 *  failure happened before any RPC. */
SDC_EXTERN int sdc_resolver_grpc_status(const sdc_resolver *r);
/*! "host:port" this resolver talks to. */
SDC_EXTERN const char *sdc_resolver_endpoint(const sdc_resolver *r);

/*! A key and its value. Frozen. */
typedef struct sdc_kv {
  const char *key;
  const char *value;
} sdc_kv;

/*! One endpoint of a resolved service. Append-only: read a service's
 *  through sdc_service_endpoint(). */
typedef struct sdc_endpoint {
  const char *name;    /*!< full endpoint resource name */
  const char *address; /*!< IPv4 or IPv6 literal, or "" */
  int port;            /*!< 0..65535; 0 means unset */
  const char *network; /*!< projects/NUMBER/locations/global/networks/N or "" */
  const char *uid;
  size_t n_annotations;
  const sdc_kv *annotations;
  int usable; /*!< address set and port != 0: can be dialed */
} sdc_endpoint;

/*! A resolved service: immutable, shared between callers. Append-only:
 *  the library makes it. */
typedef struct sdc_service {
  const char *name;
  const char *uid;
  size_t n_annotations;
  const sdc_kv *annotations;
  size_t n_endpoints;
  const sdc_endpoint *endpoints;
} sdc_service;

/*! Where an answer came from. Frozen: the program makes it; new facts
 *  come with a new function. */
typedef struct sdc_resolve_info {
  int from_cache; /*!< no RPC was made for this call */
  int stale;      /*!< the directory failed; this is the last good answer */
  uint64_t age_ms; /*!< how old the answer is */
} sdc_resolve_info;

/*! Resolve `name` (a full service name). `max_endpoints` < 1 means the
 *  API's default (25); `filter` may be NULL. Blocks at most the timeout.
 *  \param[out] out  A reference, released with sdc_service_release().
 *  \param[out] info May be NULL.
 *  \return SDC_OK (possibly stale: see info), SDC_ENOTFOUND, SDC_EINVAL
 *  (malformed name or filter), SDC_EPERM, SDC_EUNAVAILABLE, SDC_ETIMEDOUT,
 *  SDC_EPROTO, SDC_ENOMEM. Detail: sdc_resolver_errmsg(). */
SDC_EXTERN sdc_status sdc_resolve(sdc_resolver *r, const char *name,
                                  int max_endpoints, const char *filter,
                                  const sdc_service **out,
                                  sdc_resolve_info *info);

/*! The cached answer for this request, without blocking: no RPC is made
 *  and no in-flight call is waited for. For event loops, which must never
 *  wait on the directory: on SDC_EAGAIN, ask with sdc_resolve_async().
 *  \param[out] out  A reference (release it), set on SDC_OK only.
 *  \return SDC_OK (an answer within its TTL), SDC_ENOTFOUND (NOT_FOUND is
 *  remembered; detail in sdc_resolver_errmsg()), SDC_EAGAIN (nothing
 *  usable is cached, or the cache is off), SDC_EINVAL (bad name).
 *  Thread-safe. */
SDC_EXTERN sdc_status sdc_resolve_cached(sdc_resolver *r, const char *name,
                                         int max_endpoints, const char *filter,
                                         const sdc_service **out,
                                         sdc_resolve_info *info);

/*! Forget cached answers for `name` (every max_endpoints/filter variant):
 *  the next sdc_resolve() asks the directory. Thread-safe. */
SDC_EXTERN void sdc_resolver_invalidate(sdc_resolver *r, const char *name);

/*! Endpoint `i` of `s` (borrowed from it); NULL past the end. Read the
 *  endpoints through this rather than by indexing s->endpoints: fields are
 *  only ever appended to sdc_endpoint, and this keeps a program built
 *  against older headers correct when they are. Any thread. */
SDC_EXTERN const sdc_endpoint *sdc_service_endpoint(const sdc_service *s, size_t i);

/*! Release a reference from sdc_resolve(). NULL is a no-op. Thread-safe. */
SDC_EXTERN void sdc_service_release(const sdc_service *s);

/*! Completion of sdc_resolve_async(): `svc` is a reference the callback
 *  owns (release it) or NULL on failure; `errmsg` is borrowed for the call.
 */
typedef void (*sdc_resolve_cb)(sdc_status st, const sdc_service *svc,
                               const sdc_resolve_info *info,
                               const char *errmsg, void *userdata);

/*! Resolve without blocking. On SDC_OK `cb` runs exactly once, on the
 *  resolver's worker thread (a cached answer included); on any other
 *  return it never runs. sdc_resolver_free() waits for callbacks queued
 *  before it. Thread-safe.
 *  \return SDC_OK, SDC_EINVAL (no name or callback) or SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_resolve_async(sdc_resolver *r, const char *name,
                                        int max_endpoints, const char *filter,
                                        sdc_resolve_cb cb, void *userdata);

#ifdef __cplusplus
}
#endif
#endif /* SDCONNECT_RESOLVER_H */
