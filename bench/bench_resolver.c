/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_resolver: the resolver library's speed.
 *   - cached resolves/s on one core (target >= 1,000,000/s), and on every
 *     core;
 *   - uncached resolves/s (every call an RPC to the local sd-server) with
 *     1, 4 and 16 callers sharing one resolver, beside the raw gRPC C-core
 *     echo ceiling called the same way (callers share one channel) in the
 *     same run, alternating in short slices.
 * Prints a table, then one JSON object on the last line.
 * Usage: bench_resolver [--sdconnect PATH] [--seconds S]
 */
#include "bench_common.h"

#include <sdconnect/sdconnect.h>

#include "google/cloud/servicedirectory/v1/lookup_service.pb-c.h"
#include "sd/sd.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROUNDS 5

static double seconds = 2.0;

struct job {
  sdc_resolver *r;    /* resolve through this... */
  grpc_channel *ch;   /* ...or call echo on this */
  const uint8_t *req;
  size_t len;
  int idx;
  double secs;
  unsigned long n, errors;
};

static void *resolve_loop(void *p)
{
  struct job *j = p;
  char filter[32];
  double end = now_s() + j->secs;

  /* a filter of its own per caller: the answer is the same, but callers
   * never share an in-flight call, so each call is one RPC */
  snprintf(filter, sizeof(filter), "port!=%d", 1 + j->idx);
  while(now_s() < end) {
    for(int k = 0; k < 16; k++) {
      const sdc_service *s = NULL;
      if(sdc_resolve(j->r, SVC, 0, filter, &s, NULL))
        j->errors++;
      sdc_service_release(s);
      j->n++;
    }
  }
  return NULL;
}

static void *echo_loop(void *p)
{
  struct job *j = p;
  double end = now_s() + j->secs;

  while(now_s() < end) {
    if(call(j->ch, "/bench.Echo/Echo", j->req, j->len))
      j->errors++;
    j->n++;
  }
  return NULL;
}

static double run(void *(*fn)(void *), struct job proto, int callers, double secs,
                  unsigned long *errs)
{
  pthread_t th[16];
  struct job jobs[16];
  unsigned long total = 0;
  double t0 = now_s();

  for(int i = 0; i < callers; i++) {
    jobs[i] = proto;
    jobs[i].idx = i;
    jobs[i].secs = secs;
    pthread_create(&th[i], NULL, fn, &jobs[i]);
  }
  for(int i = 0; i < callers; i++) {
    pthread_join(th[i], NULL);
    total += jobs[i].n;
    *errs += jobs[i].errors;
  }
  return (double)total / (now_s() - t0);
}

/* Cached resolves on `threads` threads: calls per second in total. */
struct cached_job {
  sdc_resolver *r;
  atomic_bool *stop;
  unsigned long n, errors;
};

static void *cached_loop(void *p)
{
  struct cached_job *j = p;

  while(!atomic_load_explicit(j->stop, memory_order_relaxed)) {
    for(int k = 0; k < 1024; k++) {
      const sdc_service *s = NULL;
      if(sdc_resolve(j->r, SVC, 0, NULL, &s, NULL))
        j->errors++;
      sdc_service_release(s);
    }
    j->n += 1024;
  }
  return NULL;
}

static double cached_rate(sdc_resolver *r, int threads, unsigned long *errs)
{
  pthread_t th[8];
  struct cached_job jobs[8];
  atomic_bool stop = false;
  unsigned long total = 0;
  double t0 = now_s(), t;

  for(int i = 0; i < threads; i++) {
    jobs[i] = (struct cached_job){r, &stop, 0, 0};
    pthread_create(&th[i], NULL, cached_loop, &jobs[i]);
  }
  sleep_ms((int)(seconds * 1000));
  atomic_store(&stop, true);
  for(int i = 0; i < threads; i++) {
    pthread_join(th[i], NULL);
    total += jobs[i].n;
    *errs += jobs[i].errors;
  }
  t = now_s() - t0;
  return (double)total / t;
}

static sdc_resolver *make_resolver(int port, uint64_t ttl)
{
  sdc_resolver_opts *o = NULL;
  sdc_resolver *r = NULL;
  char ep[64], err[256];

  snprintf(ep, sizeof(ep), "127.0.0.1:%d", port);
  sdc_resolver_opts_new(&o);
  sdc_resolver_opts_set_endpoint(o, ep);
  sdc_resolver_opts_set_plaintext(o, 1);
  sdc_resolver_opts_set_cache_ttl_ms(o, ttl);
  if(sdc_resolver_new(&r, o, err, sizeof(err)))
    fprintf(stderr, "bench_resolver: %s\n", err);
  sdc_resolver_opts_free(o);
  return r;
}

static int add_endpoints(int port)
{
  sdc_resolver *r = make_resolver(port, 0);
  static const char *const addrs[] = {"10.128.0.17", "10.128.0.18", "10.128.0.19"};
  int rc = 0;

  for(int i = 0; r && i < 3; i++) {
    char name[256];
    snprintf(name, sizeof(name), SVC "/endpoints/ep-%d", i);
    rc |= bench_sd_create(r, SDC_SD_ENDPOINT, name, addrs[i], 8443,
                          "projects/123456789012/locations/global/networks/default", "zone",
                          "us-central1-a");
  }
  sdc_resolver_free(r);
  return r ? rc : -1;
}

int main(int argc, char **argv)
{
  const char *bin = "./sdconnect";
  static const int callers[] = {1, 4, 16};
  struct server sd = {0};
  unsigned long errs = 0;
  int echo_port = 0, rc = 1;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  pid_t echo;
  sdc_resolver *cached = NULL, *uncached = NULL;
  grpc_channel *echo_ch = NULL;
  uint8_t req[256];
  size_t req_len;

  for(int i = 1; i < argc; i++) {
    if(!strcmp(argv[i], "--sdconnect") && i + 1 < argc)
      bin = argv[++i];
    else if(!strcmp(argv[i], "--seconds") && i + 1 < argc)
      seconds = atof(argv[++i]);
    else {
      fprintf(stderr, "usage: %s [--sdconnect PATH] [--seconds S]\n", argv[0]);
      return 2;
    }
  }
  if(access(bin, X_OK)) {
    fprintf(stderr, "bench_resolver: %s is not executable; give --sdconnect PATH\n", bin);
    return 2;
  }
  echo = start_echo(&echo_port); /* fork before gRPC starts */
  if(echo <= 0 || !echo_port || start_sd(&sd, bin, false)) {
    fprintf(stderr, "bench_resolver: could not start the servers\n");
    if(echo > 0)
      stop_proc(echo);
    return 1;
  }
  sdc_global_init(NULL);
  if(seed(sd.port) || add_endpoints(sd.port))
    goto out;
  cached = make_resolver(sd.port, 3600000);
  uncached = make_resolver(sd.port, 0);
  echo_ch = channel(echo_port);
  {
    Google__Cloud__Servicedirectory__V1__ResolveServiceRequest r =
        GOOGLE__CLOUD__SERVICEDIRECTORY__V1__RESOLVE_SERVICE_REQUEST__INIT;
    r.name = (char *)SVC;
    r.endpoint_filter = (char *)"port!=1";
    req_len = google__cloud__servicedirectory__v1__resolve_service_request__pack(&r, req);
  }
  if(!cached || !uncached)
    goto out;

  printf("resolver library, local sd-server on 127.0.0.1 (3 endpoints), %.1f s per row\n\n",
         seconds);
  printf("%-44s %8s %14s %10s\n", "workload", "threads", "resolves/s", "vs echo");
  {
    double c1 = cached_rate(cached, 1, &errs), cn = cached_rate(cached, (int)cores, &errs);
    printf("%-44s %8d %14.0f %10s\n", "cached (TTL 1 h)", 1, c1, "-");
    printf("%-44s %8ld %14.0f %10s\n", "cached (TTL 1 h)", cores, cn, "-");
    json_add("cached_resolves_per_s_1_thread", c1);
    json_add("cached_resolves_per_s_all_cores", cn);
  }
  for(size_t i = 0; i < 3; i++) {
    struct job je = {NULL, echo_ch, req, req_len, 0, 0, 0, 0};
    struct job jr = {uncached, NULL, NULL, 0, 0, 0, 0, 0};
    double e = 0, u = 0;
    char key[64];
    for(int k = 0; k < ROUNDS; k++) {
      e += run(echo_loop, je, callers[i], seconds / ROUNDS, &errs);
      u += run(resolve_loop, jr, callers[i], seconds / ROUNDS, &errs);
    }
    e /= ROUNDS;
    u /= ROUNDS;
    printf("%-44s %8d %14.0f %10s\n", "echo (raw gRPC C core, same channel use)", callers[i],
           e, "1.00x");
    printf("%-44s %8d %14.0f %9.2fx\n", "uncached (every call a ResolveService RPC)",
           callers[i], u, u / e);
    snprintf(key, sizeof(key), "echo_calls_per_s_c%d", callers[i]);
    json_add(key, e);
    snprintf(key, sizeof(key), "uncached_resolves_per_s_c%d", callers[i]);
    json_add(key, u);
    snprintf(key, sizeof(key), "uncached_vs_echo_c%d", callers[i]);
    json_add(key, u / e);
  }
  json_add("errors", (double)errs);
  printf("\ntarget: cached >= 1,000,000 resolves/s on one core\n");
  printf("%s}\n", bench_json);
  rc = errs ? 1 : 0;
out:
  if(rc)
    fprintf(stderr, "bench_resolver: a step failed (errors=%lu)\n", errs);
  sdc_resolver_free(cached);
  sdc_resolver_free(uncached);
  if(echo_ch)
    grpc_channel_destroy(echo_ch);
  stop_sd(&sd);
  sdc_global_cleanup();
  stop_proc(echo);
  return rc;
}
