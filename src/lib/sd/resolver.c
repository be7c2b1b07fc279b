/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IMPLEMENTATION NOTES
 * - Cache key: service name, max_endpoints and filter (different requests
 *   have different answers). Hash table with chaining behind one mutex; the
 *   critical section of a hit is a lookup and a reference increment.
 * - Answers are immutable reference-counted snapshots (codec.c): a hit hands
 *   out a reference, never a copy.
 * - Shared in-flight calls: the first caller of a key becomes its leader and
 *   calls the directory without holding the lock; later callers wait on the
 *   entry's condition variable (bounded by their own deadline) and take the
 *   leader's outcome, so N concurrent identical resolves make one RPC.
 * - Stale-if-error: when the directory is unavailable or times out, the last
 *   good answer is served for up to `stale_ms` past its TTL, marked stale,
 *   with the failure in sdc_resolver_errmsg().
 * - NOT_FOUND is remembered for `negative_ttl_ms`, and drops any old answer.
 * - Bound: MAX_ENTRIES keys; past it, expired entries are swept, and if none
 *   can go the call is made uncached.
 */
#include "resolver_int.h"

#include <sdconnect/version.h>

#include "auth/auth.h"
#include "codec.h"
#include "core/core.h"

#include <errno.h>
#include <grpc/grpc.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MAX_ENTRIES 4096
#define N_BUCKETS 1024

struct cache_entry {
  struct cache_entry *next;
  char *key;
  size_t key_len;
  const sdc_service *svc; /* last good answer (a reference) */
  uint64_t fetched_ms;
  uint64_t notfound_until_ms;
  char *notfound_msg;
  bool inflight;
  bool invalid; /* sdc_resolver_invalidate(): ask again next time */
  unsigned waiters;
  uint64_t round; /* bumped when a leader finishes */
  sdc_status last_st;
  int last_grpc;
  char last_msg[512];
  pthread_cond_t done;
};

/* ---- options ------------------------------------------------------------- */
sdc_status sdc_resolver_opts_new(sdc_resolver_opts **out)
{
  sdc_resolver_opts *o = sdc__calloc(1, sizeof(*o));

  if(!o)
    return SDC_ENOMEM;
  o->google = 1;
  o->timeout_ms = 15000;
  o->max_attempts = 4;
  o->backoff_initial_ms = 100;
  o->backoff_max_ms = 2000;
  o->ttl_ms = 30000;
  o->stale_ms = 300000;
  o->negative_ttl_ms = 5000;
  *out = o;
  return SDC_OK;
}

static void free_secret(char *s)
{
  if(s) {
    OPENSSL_cleanse(s, strlen(s));
    sdc_free(s);
  }
}

static void opts_cleanup(sdc_resolver_opts *o)
{
  sdc_free(o->endpoint);
  sdc_free(o->ca_pem);
  sdc_free(o->cert_pem);
  free_secret(o->key_pem);
  free_secret(o->token);
  sdc_free(o->creds_file);
}

void sdc_resolver_opts_free(sdc_resolver_opts *o)
{
  if(!o)
    return;
  opts_cleanup(o);
  sdc_free(o);
}

/* Replace *slot with a copy of s (NULL or "" clears it). */
static sdc_status set_str(char **slot, const char *s, int secret)
{
  char *copy = NULL;

  if(s && *s && !(copy = sdc__strdup(s)))
    return SDC_ENOMEM;
  if(secret)
    free_secret(*slot);
  else
    sdc_free(*slot);
  *slot = copy;
  return SDC_OK;
}

sdc_status sdc_resolver_opts_set_endpoint(sdc_resolver_opts *o, const char *hp)
{
  const char *colon;

  if(!hp || !*hp) {
    o->google = 1;
    return set_str(&o->endpoint, NULL, 0);
  }
  colon = strrchr(hp, ':');
  if(!colon || !colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
     colon == hp)
    return SDC_EINVAL;
  o->google = 0; /* another endpoint: credentials only when asked for */
  return set_str(&o->endpoint, hp, 0);
}

sdc_status sdc_resolver_opts_set_plaintext(sdc_resolver_opts *o, int plaintext)
{
  o->plaintext = !!plaintext;
  return SDC_OK;
}

sdc_status sdc_resolver_opts_set_ca_pem(sdc_resolver_opts *o, const char *pem)
{
  return set_str(&o->ca_pem, pem, 0);
}

sdc_status sdc_resolver_opts_set_client_cert_pem(sdc_resolver_opts *o,
                                                 const char *cert_pem,
                                                 const char *key_pem)
{
  sdc_status st;

  if(!cert_pem != !key_pem)
    return SDC_EINVAL;
  st = set_str(&o->cert_pem, cert_pem, 0);
  return st ? st : set_str(&o->key_pem, key_pem, 1);
}

sdc_status sdc_resolver_opts_set_bearer_token(sdc_resolver_opts *o,
                                              const char *token)
{
  if(token && (strlen(token) >= SDC_TOKEN_MAX || strpbrk(token, "\r\n")))
    return SDC_EINVAL;
  return set_str(&o->token, token, 1);
}

sdc_status sdc_resolver_opts_set_google_credentials(sdc_resolver_opts *o,
                                                    const char *file)
{
  o->google = 1;
  return set_str(&o->creds_file, file, 0);
}

sdc_status sdc_resolver_opts_set_timeout_ms(sdc_resolver_opts *o, uint64_t ms)
{
  if(ms < 1 || ms > 600000)
    return SDC_EINVAL;
  o->timeout_ms = ms;
  return SDC_OK;
}

sdc_status sdc_resolver_opts_set_max_attempts(sdc_resolver_opts *o, unsigned n)
{
  if(n < 1 || n > 10)
    return SDC_EINVAL;
  o->max_attempts = n;
  return SDC_OK;
}

sdc_status sdc_resolver_opts_set_backoff_ms(sdc_resolver_opts *o,
                                            uint64_t initial, uint64_t max)
{
  if(initial < 1 || max < initial || max > 60000)
    return SDC_EINVAL;
  o->backoff_initial_ms = initial;
  o->backoff_max_ms = max;
  return SDC_OK;
}

sdc_status sdc_resolver_opts_set_cache_ttl_ms(sdc_resolver_opts *o, uint64_t ms)
{
  o->ttl_ms = ms;
  return SDC_OK;
}

sdc_status sdc_resolver_opts_set_stale_ms(sdc_resolver_opts *o, uint64_t ms)
{
  o->stale_ms = ms;
  return SDC_OK;
}

sdc_status sdc_resolver_opts_set_negative_ttl_ms(sdc_resolver_opts *o,
                                                 uint64_t ms)
{
  o->negative_ttl_ms = ms;
  return SDC_OK;
}

/* ---- lifetime ------------------------------------------------------------ */
static sdc_status copy_opts(sdc_resolver_opts *dst, const sdc_resolver_opts *src)
{
  *dst = *src;
  dst->endpoint = dst->ca_pem = dst->cert_pem = dst->key_pem = NULL;
  dst->token = dst->creds_file = NULL;
  if(set_str(&dst->endpoint, src->endpoint ? src->endpoint : SDC_SD_GOOGLE_ENDPOINT, 0) ||
     set_str(&dst->ca_pem, src->ca_pem, 0) ||
     set_str(&dst->cert_pem, src->cert_pem, 0) ||
     set_str(&dst->key_pem, src->key_pem, 1) ||
     set_str(&dst->token, src->token, 1) ||
     set_str(&dst->creds_file, src->creds_file, 0))
    return SDC_ENOMEM;
  return SDC_OK;
}

sdc_status sdc_resolver_new(sdc_resolver **out, const sdc_resolver_opts *opts,
                            char *err, size_t errlen)
{
  sdc_resolver *r = sdc__calloc(1, sizeof(*r));
  struct sdc__chan_cfg cc;
  char tmp[1024];
  sdc_status st = SDC_ENOMEM;

  if(!err) {
    err = tmp;
    errlen = sizeof(tmp);
  }
  if(!r)
    return SDC_ENOMEM;
  pthread_mutex_init(&r->lock, NULL);
  pthread_cond_init(&r->work_cv, NULL);
  if(copy_opts(&r->o, opts))
    goto fail;
  r->n_buckets = N_BUCKETS;
  r->buckets = sdc__calloc(r->n_buckets, sizeof(*r->buckets));
  if(!r->buckets)
    goto fail;
  snprintf(r->api_client, sizeof(r->api_client), "gl-c/%ld gccl/%s grpc/%s",
           (long)__STDC_VERSION__ / 100 % 100, SDC_VERSION_STRING,
           grpc_version_string());
  if(r->o.token) {
    st = sdc__auth_static(&r->auth, r->o.token);
  } else if(r->o.google) {
    st = r->o.creds_file ? sdc__auth_from_file(&r->auth, r->o.creds_file,
                                               SDC_CLOUD_PLATFORM_SCOPE, err,
                                               errlen)
                         : sdc__auth_default(&r->auth, SDC_CLOUD_PLATFORM_SCOPE,
                                             err, errlen);
    if(st == SDC_OK && r->o.plaintext) {
      snprintf(err, errlen, "Google credentials need TLS; drop plaintext or "
               "use a bearer token");
      st = SDC_EINVAL;
    }
  } else {
    st = SDC_OK;
  }
  if(st)
    goto fail;
  if(r->auth && !r->o.plaintext) {
    r->call_creds = sdc__call_creds_new(r->auth); /* owns r->auth now */
    if(!r->call_creds) {
      st = SDC_ENOMEM;
      goto fail;
    }
  }
  cc.target = r->o.endpoint;
  cc.plaintext = r->o.plaintext;
  cc.ca_pem = r->o.ca_pem;
  cc.cert_pem = r->o.cert_pem;
  cc.key_pem = r->o.key_pem;
  r->chan = sdc__chan_get(&cc);
  if(!r->chan) {
    st = SDC_ENOMEM;
    goto fail;
  }
  *out = r;
  return SDC_OK;
fail:
  sdc_resolver_free(r);
  return st;
}

static void entry_free(struct cache_entry *e)
{
  sdc_service_release(e->svc);
  sdc_free(e->key);
  sdc_free(e->notfound_msg);
  pthread_cond_destroy(&e->done);
  sdc_free(e);
}

static void stop_worker(sdc_resolver *r);

void sdc_resolver_free(sdc_resolver *r)
{
  if(!r)
    return;
  stop_worker(r);
  for(size_t i = 0; r->buckets && i < r->n_buckets; i++)
    while(r->buckets[i]) {
      struct cache_entry *e = r->buckets[i];
      r->buckets[i] = e->next;
      entry_free(e);
    }
  sdc_free(r->buckets);
  if(r->call_creds)
    grpc_call_credentials_release(r->call_creds); /* frees r->auth */
  else
    sdc__auth_free(r->auth);
  sdc__chan_put(r->chan);
  opts_cleanup(&r->o);
  pthread_cond_destroy(&r->work_cv);
  pthread_mutex_destroy(&r->lock);
  sdc_free(r);
}

const char *sdc_resolver_endpoint(const sdc_resolver *r) { return r->o.endpoint; }

/* ---- one resolve RPC ----------------------------------------------------- */
static sdc_status resolve_rpc(sdc_resolver *r, const char *name, int max,
                              const char *filter, const sdc_service **out)
{
  size_t len = 0;
  uint8_t *req = sdc__encode_resolve(name, max, filter, &len);
  struct sdc__grpc_result res;
  sdc_status st;
  int oom = 0;

  if(!req) {
    sdc__resolver_fail(r, -1, "resolve %s: out of memory", name);
    return SDC_ENOMEM;
  }
  st = sdc__sd_rpc(r, "/google.cloud.servicedirectory.v1.LookupService/"
                   "ResolveService", "name", name, req, len, true, &res);
  sdc_free(req);
  if(st == SDC_ENOMEM) /* said the same way wherever it ran out */
    sdc__resolver_fail(r, -1, "resolve %s via %s: out of memory", name, r->o.endpoint);
  if(st)
    return st; /* message already recorded */
  if(res.code != GRPC_STATUS_OK) {
    sdc__resolver_fail(r, res.code, "resolve %s via %s: %s: %s", name,
                       r->o.endpoint, sdc__grpc_code_name(res.code),
                       res.details);
    st = sdc__status_from_grpc(res.code);
  } else if(!(*out = sdc__service_decode(res.body, res.body_len, &oom))) {
    st = oom ? SDC_ENOMEM : SDC_EPROTO;
    sdc__resolver_fail(r, GRPC_STATUS_OK, "resolve %s via %s: %s", name, r->o.endpoint,
                       oom ? "out of memory" : "the answer is not a ResolveServiceResponse");
  }
  sdc__grpc_result_cleanup(&res);
  return st;
}

/* ---- the cache ----------------------------------------------------------- */
static size_t hash(const char *k, size_t n)
{
  uint64_t h = 1469598103934665603ULL;

  for(size_t i = 0; i < n; i++) {
    h ^= (unsigned char)k[i];
    h *= 1099511628211ULL;
  }
  return (size_t)h;
}

/* Drop entries nobody waits on whose answers are past any use. */
static void sweep(sdc_resolver *r, uint64_t now)
{
  for(size_t i = 0; i < r->n_buckets; i++) {
    struct cache_entry **pp = &r->buckets[i], *e;
    while((e = *pp)) {
      bool dead = !e->inflight && !e->waiters &&
                  (!e->svc || now > e->fetched_ms + r->o.ttl_ms + r->o.stale_ms) &&
                  now >= e->notfound_until_ms;
      if(dead) {
        *pp = e->next;
        entry_free(e);
        r->n_entries--;
      } else {
        pp = &e->next;
      }
    }
  }
}

static struct cache_entry *lookup(sdc_resolver *r, const char *key, size_t n,
                                  bool create, uint64_t now)
{
  size_t b = hash(key, n) % r->n_buckets;
  struct cache_entry *e;

  for(e = r->buckets[b]; e; e = e->next)
    if(e->key_len == n && !memcmp(e->key, key, n))
      return e;
  if(!create)
    return NULL;
  if(r->n_entries >= MAX_ENTRIES) {
    sweep(r, now);
    if(r->n_entries >= MAX_ENTRIES)
      return NULL;
  }
  e = sdc__calloc(1, sizeof(*e));
  if(!e || !(e->key = sdc__malloc(n))) {
    sdc_free(e);
    return NULL;
  }
  memcpy(e->key, key, n);
  e->key_len = n;
  pthread_cond_init(&e->done, NULL);
  e->next = r->buckets[b];
  r->buckets[b] = e;
  r->n_entries++;
  return e;
}

static void set_info(sdc_resolve_info *info, int from_cache, int stale,
                     uint64_t age)
{
  if(info) {
    info->from_cache = from_cache;
    info->stale = stale;
    info->age_ms = age;
  }
}

/* Wait for the leader (bounded by `deadline`); false on timeout. */
static bool wait_round(sdc_resolver *r, struct cache_entry *e, uint64_t round,
                       uint64_t deadline)
{
  struct timespec ts;
  uint64_t left;

  while(e->round == round) {
    uint64_t now = sdc__now_ms();
    if(now >= deadline)
      return false;
    left = deadline - now;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(left / 1000);
    ts.tv_nsec += (long)(left % 1000) * 1000000L;
    if(ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&e->done, &r->lock, &ts);
  }
  return true;
}

/* The cache key of a request (name \0 max \0 filter); 0 when the request
 * is malformed (the failure is recorded). */
static size_t make_key(sdc_resolver *r, const char *name, int *max_endpoints,
                       const char *filter, char *key, size_t cap)
{
  if(!name || !*name || strlen(name) > 1024 ||
     (filter && strlen(filter) > 300)) {
    sdc__resolver_fail(r, -1, "resolve: a service name (at most 1024 "
                       "characters) is required");
    return 0;
  }
  if(*max_endpoints < 1)
    *max_endpoints = 25; /* the API's meaning of "unset" */
  return (size_t)snprintf(key, cap, "%s%c%d%c%s", name, 0, *max_endpoints, 0,
                          filter ? filter : "");
}

sdc_status sdc_resolve_cached(sdc_resolver *r, const char *name,
                              int max_endpoints, const char *filter,
                              const sdc_service **out, sdc_resolve_info *info)
{
  char key[1400];
  size_t klen = make_key(r, name, &max_endpoints, filter, key, sizeof(key));
  struct cache_entry *e;
  uint64_t now = sdc__now_ms();
  sdc_status st = SDC_EAGAIN;

  if(!klen)
    return SDC_EINVAL;
  pthread_mutex_lock(&r->lock);
  e = lookup(r, key, klen, false, now);
  if(e && e->svc && !e->invalid && r->o.ttl_ms &&
     now < e->fetched_ms + r->o.ttl_ms) {
    *out = sdc__service_ref(e->svc);
    set_info(info, 1, 0, now - e->fetched_ms);
    st = SDC_OK;
  } else if(e && e->notfound_msg && !e->invalid && now < e->notfound_until_ms) {
    sdc__resolver_fail(r, GRPC_STATUS_NOT_FOUND, "%s (remembered)",
                       e->notfound_msg);
    st = SDC_ENOTFOUND;
  }
  pthread_mutex_unlock(&r->lock);
  return st;
}

sdc_status sdc_resolve(sdc_resolver *r, const char *name, int max_endpoints,
                       const char *filter, const sdc_service **out,
                       sdc_resolve_info *info)
{
  char key[1400];
  size_t klen = make_key(r, name, &max_endpoints, filter, key, sizeof(key));
  struct cache_entry *e;
  uint64_t now = sdc__now_ms(), deadline = now + r->o.timeout_ms;
  const sdc_service *svc = NULL;
  sdc_status st;

  if(!klen)
    return SDC_EINVAL;
  pthread_mutex_lock(&r->lock);
  e = lookup(r, key, klen, true, now);
  if(!e) { /* cache full of live entries: go without it */
    pthread_mutex_unlock(&r->lock);
    st = resolve_rpc(r, name, max_endpoints, filter, &svc);
    if(!st)
      *out = svc;
    set_info(info, 0, 0, 0);
    return st;
  }
  for(;;) {
    now = sdc__now_ms();
    if(e->svc && !e->invalid && r->o.ttl_ms && now < e->fetched_ms + r->o.ttl_ms) {
      *out = sdc__service_ref(e->svc);
      set_info(info, 1, 0, now - e->fetched_ms);
      pthread_mutex_unlock(&r->lock);
      return SDC_OK;
    }
    if(e->notfound_msg && !e->invalid && now < e->notfound_until_ms) {
      sdc__resolver_fail(r, GRPC_STATUS_NOT_FOUND, "%s (remembered)",
                         e->notfound_msg);
      pthread_mutex_unlock(&r->lock);
      return SDC_ENOTFOUND;
    }
    if(!e->inflight)
      break;
    /* someone is already asking: share their answer */
    {
      uint64_t round = e->round;
      bool done;
      e->waiters++;
      done = wait_round(r, e, round, deadline);
      e->waiters--;
      if(!done) {
        sdc__resolver_fail(r, GRPC_STATUS_DEADLINE_EXCEEDED, "resolve %s via "
                           "%s: deadline exceeded after %llu ms waiting for a "
                           "call in flight", name, r->o.endpoint,
                           (unsigned long long)r->o.timeout_ms);
        pthread_mutex_unlock(&r->lock);
        return SDC_ETIMEDOUT;
      }
      if(e->last_st == SDC_OK && e->svc) {
        *out = sdc__service_ref(e->svc);
        set_info(info, 1, 0, sdc__now_ms() - e->fetched_ms);
        pthread_mutex_unlock(&r->lock);
        return SDC_OK;
      }
      now = sdc__now_ms();
      if((e->last_st == SDC_EUNAVAILABLE || e->last_st == SDC_ETIMEDOUT) &&
         e->svc && now <= e->fetched_ms + r->o.ttl_ms + r->o.stale_ms) {
        *out = sdc__service_ref(e->svc);
        set_info(info, 1, 1, now - e->fetched_ms);
        sdc__resolver_fail(r, e->last_grpc, "%s", e->last_msg);
        pthread_mutex_unlock(&r->lock);
        return SDC_OK;
      }
      if(e->last_st != SDC_OK) { /* the leader's failure is ours too */
        sdc__resolver_fail(r, e->last_grpc, "%s", e->last_msg);
        pthread_mutex_unlock(&r->lock);
        return e->last_st;
      }
    }
  }
  /* lead: call the directory without holding the lock */
  e->inflight = true;
  pthread_mutex_unlock(&r->lock);
  st = resolve_rpc(r, name, max_endpoints, filter, &svc);
  pthread_mutex_lock(&r->lock);
  now = sdc__now_ms();
  e->inflight = false;
  e->last_st = st;
  e->last_grpc = sdc_resolver_grpc_status(r);
  snprintf(e->last_msg, sizeof(e->last_msg), "%s", sdc_resolver_errmsg(r));
  e->invalid = false;
  if(st == SDC_OK) {
    sdc_service_release(e->svc);
    e->svc = svc;
    e->fetched_ms = now;
    sdc_free(e->notfound_msg);
    e->notfound_msg = NULL;
    *out = sdc__service_ref(svc);
    set_info(info, 0, 0, 0);
  } else if(st == SDC_ENOTFOUND) {
    sdc_service_release(e->svc); /* the service is gone */
    e->svc = NULL;
    if(r->o.negative_ttl_ms) {
      sdc_free(e->notfound_msg);
      e->notfound_msg = sdc__strdup(e->last_msg);
      e->notfound_until_ms = now + r->o.negative_ttl_ms;
    }
  } else if((st == SDC_EUNAVAILABLE || st == SDC_ETIMEDOUT) && e->svc &&
            now <= e->fetched_ms + r->o.ttl_ms + r->o.stale_ms) {
    *out = sdc__service_ref(e->svc);
    set_info(info, 1, 1, now - e->fetched_ms);
    st = SDC_OK; /* errmsg still says why the answer is stale */
  }
  e->round++;
  pthread_cond_broadcast(&e->done);
  pthread_mutex_unlock(&r->lock);
  return st;
}

void sdc_resolver_invalidate(sdc_resolver *r, const char *name)
{
  size_t n = strlen(name) + 1; /* keys are name \0 max \0 filter */

  pthread_mutex_lock(&r->lock);
  for(size_t i = 0; i < r->n_buckets; i++)
    for(struct cache_entry *e = r->buckets[i]; e; e = e->next)
      if(e->key_len >= n && !memcmp(e->key, name, n))
        e->invalid = true;
  pthread_mutex_unlock(&r->lock);
}

/* ---- async --------------------------------------------------------------- */
struct async_job {
  struct async_job *next;
  char *name, *filter;
  int max;
  sdc_resolve_cb cb;
  void *userdata;
};

static void *worker_main(void *arg)
{
  sdc_resolver *r = arg;

  pthread_mutex_lock(&r->lock);
  for(;;) {
    struct async_job *j = r->jobs_head;
    const sdc_service *svc = NULL;
    sdc_resolve_info info = {0};
    sdc_status st;
    if(!j) {
      if(r->stopping)
        break;
      pthread_cond_wait(&r->work_cv, &r->lock);
      continue;
    }
    r->jobs_head = j->next;
    if(!r->jobs_head)
      r->jobs_tail = NULL;
    pthread_mutex_unlock(&r->lock);
    st = sdc_resolve(r, j->name, j->max, j->filter, &svc, &info);
    j->cb(st, st ? NULL : svc, st ? NULL : &info,
          st || info.stale ? sdc_resolver_errmsg(r) : "", j->userdata);
    sdc_free(j->name);
    sdc_free(j->filter);
    sdc_free(j);
    pthread_mutex_lock(&r->lock);
  }
  pthread_mutex_unlock(&r->lock);
  return NULL;
}

sdc_status sdc_resolve_async(sdc_resolver *r, const char *name,
                             int max_endpoints, const char *filter,
                             sdc_resolve_cb cb, void *userdata)
{
  struct async_job *j;

  if(!name || !*name || !cb)
    return SDC_EINVAL;
  j = sdc__calloc(1, sizeof(*j));
  if(!j || !(j->name = sdc__strdup(name)) ||
     (filter && !(j->filter = sdc__strdup(filter)))) {
    if(j)
      sdc_free(j->name);
    sdc_free(j);
    return SDC_ENOMEM;
  }
  j->max = max_endpoints;
  j->cb = cb;
  j->userdata = userdata;
  pthread_mutex_lock(&r->lock);
  if(r->stopping) {
    pthread_mutex_unlock(&r->lock);
    sdc_free(j->name);
    sdc_free(j->filter);
    sdc_free(j);
    return SDC_EINVAL;
  }
  if(!r->worker_started) {
    if(pthread_create(&r->worker, NULL, worker_main, r)) {
      pthread_mutex_unlock(&r->lock);
      sdc_free(j->name);
      sdc_free(j->filter);
      sdc_free(j);
      return SDC_ENOMEM;
    }
    r->worker_started = true;
  }
  if(r->jobs_tail)
    r->jobs_tail->next = j;
  else
    r->jobs_head = j;
  r->jobs_tail = j;
  pthread_cond_signal(&r->work_cv);
  pthread_mutex_unlock(&r->lock);
  return SDC_OK;
}

/* Run the jobs already queued, then end the worker. */
static void stop_worker(sdc_resolver *r)
{
  bool started;

  pthread_mutex_lock(&r->lock);
  r->stopping = true;
  started = r->worker_started;
  pthread_cond_broadcast(&r->work_cv);
  pthread_mutex_unlock(&r->lock);
  if(started)
    pthread_join(r->worker, NULL);
}
