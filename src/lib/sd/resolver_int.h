/* SPDX-License-Identifier: Apache-2.0 */
/* Internals shared by resolver.c (resolve, cache) and client.c (registry
 * calls): the resolver handle and its retrying RPC path (rpc.c). */
#ifndef SDC_SD_RESOLVER_INT_H
#define SDC_SD_RESOLVER_INT_H

#include <sdconnect/registry.h>
#include <sdconnect/resolver.h>

#include "channel.h"
#include "sd.h"

#include <pthread.h>
#include <stdbool.h>

struct sdc_resolver_opts {
  char *endpoint;
  int plaintext;
  char *ca_pem, *cert_pem, *key_pem;
  char *token;
  int google;        /* use Google credentials */
  char *creds_file;  /* NULL: default search */
  uint64_t timeout_ms, backoff_initial_ms, backoff_max_ms;
  unsigned max_attempts;
  uint64_t ttl_ms, stale_ms, negative_ttl_ms;
};

struct cache_entry;
struct async_job;

struct sdc_resolver {
  struct sdc_resolver_opts o; /* copy; strings owned */
  struct sdc__chan *chan;
  grpc_call_credentials *call_creds; /* TLS + auth: per-call plugin */
  struct sdc__auth *auth;            /* for prefetching (owned by the plugin
                                        when call_creds is set) */
  char api_client[128];
  /* cache */
  pthread_mutex_t lock;
  struct cache_entry **buckets;
  size_t n_buckets, n_entries;
  /* async worker */
  pthread_t worker;
  bool worker_started, stopping;
  pthread_cond_t work_cv;
  struct async_job *jobs_head, *jobs_tail;
};

/* Record the calling thread's last failure on `r` (printf-style). */
void sdc__resolver_fail(const sdc_resolver *r, int grpc_code, const char *fmt,
                        ...) __attribute__((format(printf, 3, 4)));

/* One RPC with the resolver's deadline, credentials, routing header and
 * (when `retry`) its retry policy. SDC_OK means a gRPC status arrived:
 * read out->code. */
SDC_WARN_UNUSED sdc_status sdc__sd_rpc(sdc_resolver *r, const char *method,
                                       const char *routing_key,
                                       const char *routing_value,
                                       const uint8_t *req, size_t len,
                                       bool retry,
                                       struct sdc__grpc_result *out);

/* Map a non-OK gRPC status to a library status. */
sdc_status sdc__status_from_grpc(grpc_status_code code);
const char *sdc__grpc_code_name(grpc_status_code code);

#endif
