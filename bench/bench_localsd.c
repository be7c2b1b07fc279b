/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_localsd: how fast the local Service Directory answers over gRPC,
 * beside a raw gRPC C-core echo server measured in the same run (this
 * machine is shared and noisy: only same-run ratios mean something).
 *
 *   ResolveService (repeated, as resolvers do, and with a distinct filter
 *   per call so the resolve cache never hits) and CreateEndpoint calls/s
 *   with 1, 4 and 16 concurrent callers; the echo server's calls/s with the same callers and request;
 *   resident memory of the server holding 10,000 and 100,000 endpoints,
 *   in memory (--memory) and on disk (--db).
 *
 * Prints a table, then one JSON object on the last line.
 * Usage: bench_localsd [--sdconnect PATH] [--seconds S] [--endpoints N]
 *                      [--server-threads N]
 * Everything runs on 127.0.0.1; every process started is stopped by PID.
 */
#include "bench_common.h"

#include "google/cloud/servicedirectory/v1/lookup_service.pb-c.h"
#include "google/cloud/servicedirectory/v1/registration_service.pb-c.h"
#include "sd/sd.h"

#include <fcntl.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


static double seconds = 2.0;

enum work { W_ECHO, W_RESOLVE, W_RESOLVE_UNCACHED, W_CREATE };

struct job {
  enum work work;
  int port;
  int idx;
  unsigned long limit; /* stop after this many creates (0: run for time) */
  unsigned long start_at;
  atomic_ulong *counter;
  atomic_bool *stop;
  unsigned long errors;
};

static uint8_t resolve_req[256];
static size_t resolve_len;

static size_t pack_create(uint8_t *buf, size_t cap, const char *id)
{
  Google__Cloud__Servicedirectory__V1__CreateEndpointRequest r =
      GOOGLE__CLOUD__SERVICEDIRECTORY__V1__CREATE_ENDPOINT_REQUEST__INIT;
  Google__Cloud__Servicedirectory__V1__Endpoint e =
      GOOGLE__CLOUD__SERVICEDIRECTORY__V1__ENDPOINT__INIT;
  Google__Cloud__Servicedirectory__V1__Endpoint__AnnotationsEntry a =
      GOOGLE__CLOUD__SERVICEDIRECTORY__V1__ENDPOINT__ANNOTATIONS_ENTRY__INIT;
  Google__Cloud__Servicedirectory__V1__Endpoint__AnnotationsEntry *as[1] = {&a};

  a.key = (char *)"zone";
  a.value = (char *)"us-central1-a";
  e.address = (char *)"10.128.0.17";
  e.port = 8443;
  e.network = (char *)"projects/123456789012/locations/global/networks/default";
  e.n_annotations = 1;
  e.annotations = as;
  r.parent = (char *)SVC;
  r.endpoint_id = (char *)id;
  r.endpoint = &e;
  if(google__cloud__servicedirectory__v1__create_endpoint_request__get_packed_size(&r) > cap)
    return 0;
  return google__cloud__servicedirectory__v1__create_endpoint_request__pack(&r, buf);
}

static void *caller(void *p)
{
  struct job *j = p;
  grpc_channel *ch = channel(j->port);
  uint8_t buf[512];
  char id[32];
  unsigned long i = j->start_at;

  while(!atomic_load(j->stop)) {
    int code;
    if(j->work == W_ECHO) {
      code = call(ch, "/bench.Echo/Echo", resolve_req, resolve_len);
    } else if(j->work == W_RESOLVE) {
      code = call(ch, PKG "LookupService/ResolveService", resolve_req, resolve_len);
    } else if(j->work == W_RESOLVE_UNCACHED) {
      /* a filter no other call sends: every call misses the resolve cache */
      Google__Cloud__Servicedirectory__V1__ResolveServiceRequest r =
          GOOGLE__CLOUD__SERVICEDIRECTORY__V1__RESOLVE_SERVICE_REQUEST__INIT;
      char filter[64];
      size_t n;
      snprintf(filter, sizeof(filter), "port!=%lu", 100000UL + i++);
      r.name = (char *)SVC;
      r.endpoint_filter = filter;
      n = google__cloud__servicedirectory__v1__resolve_service_request__pack(&r, buf);
      code = call(ch, PKG "LookupService/ResolveService", buf, n);
    } else {
      unsigned long n = atomic_fetch_add(j->counter, 1);
      if(j->limit && n >= j->limit) {
        atomic_fetch_sub(j->counter, 1);
        break;
      }
      snprintf(id, sizeof(id), "e%d-%lu", j->idx, i++);
      code = call(ch, PKG "RegistrationService/CreateEndpoint", buf,
                  pack_create(buf, sizeof(buf), id));
      if(code)
        j->errors++;
      continue;
    }
    if(code)
      j->errors++;
    atomic_fetch_add(j->counter, 1);
  }
  grpc_channel_destroy(ch);
  return NULL;
}

/* Run `callers` threads of `work` for `secs` (or until `limit` creates). */
static double run_for(enum work work, int port, int callers, unsigned long limit, double secs,
                      unsigned long *errs)
{
  pthread_t th[64];
  struct job jobs[64];
  atomic_ulong counter = 0;
  atomic_bool stop = false;
  static unsigned long serial;
  double t0 = now_s(), t;

  for(int i = 0; i < callers; i++) {
    jobs[i] = (struct job){work, port, i, limit, ++serial * 1000000UL, &counter, &stop, 0};
    pthread_create(&th[i], NULL, caller, &jobs[i]);
  }
  if(!limit) {
    while(now_s() - t0 < secs)
      sleep_ms(20);
    atomic_store(&stop, true);
  }
  for(int i = 0; i < callers; i++) {
    pthread_join(th[i], NULL);
    *errs += jobs[i].errors;
  }
  t = now_s() - t0;
  return (double)atomic_load(&counter) / t;
}

static double run(enum work work, int port, int callers, unsigned long limit, unsigned long *errs)
{
  return run_for(work, port, callers, limit, seconds, errs);
}

/* Echo and resolve alternate in ROUNDS short slices, so drift in the
 * machine's load hits both alike; rates are totals over all slices. */
#define ROUNDS 5
static void run_pair(int echo_port, int sd_port, int callers, double *echo, double *resolve,
                     double *uncached, unsigned long *errs)
{
  double e = 0, r = 0, u = 0;

  for(int i = 0; i < ROUNDS; i++) {
    e += run_for(W_ECHO, echo_port, callers, 0, seconds / ROUNDS, errs);
    r += run_for(W_RESOLVE, sd_port, callers, 0, seconds / ROUNDS, errs);
    u += run_for(W_RESOLVE_UNCACHED, sd_port, callers, 0, seconds / ROUNDS, errs);
  }
  *echo = e / ROUNDS;
  *resolve = r / ROUNDS;
  *uncached = u / ROUNDS;
}

static int create_n(int port, unsigned long n)
{
  unsigned long errs = 0;
  run(W_CREATE, port, 4, n, &errs);
  return errs ? -1 : 0;
}

int main(int argc, char **argv)
{
  const char *bin = "./sdconnect";
  unsigned long max_eps = 100000, errs = 0;
  static const int callers[] = {1, 4, 16};
  struct server sd;
  int echo_port = 0, rc = 1;
  pid_t echo;
  double resolve_ratio_min = 1e9;

  for(int i = 1; i < argc; i++) {
    if(!strcmp(argv[i], "--sdconnect") && i + 1 < argc)
      bin = argv[++i];
    else if(!strcmp(argv[i], "--seconds") && i + 1 < argc)
      seconds = atof(argv[++i]);
    else if(!strcmp(argv[i], "--server-threads") && i + 1 < argc) {
      bench_server_threads = atoi(argv[++i]);
      if(bench_server_threads < 1 || bench_server_threads > 16)
        bench_server_threads = 2;
    } else if(!strcmp(argv[i], "--endpoints") && i + 1 < argc)
      max_eps = strtoul(argv[++i], NULL, 10);
    else if(!strcmp(argv[i], "--pinned"))
      bench_pin_servers = true; /* servers on CPU 0, the callers on CPU 1 */
    else {
      fprintf(stderr, "usage: %s [--sdconnect PATH] [--seconds S] [--endpoints N] "
              "[--server-threads N] [--pinned]\n", argv[0]);
      return 2;
    }
  }
  if(access(bin, X_OK)) {
    fprintf(stderr, "bench_localsd: %s is not executable; give --sdconnect PATH\n", bin);
    return 2;
  }
  echo = start_echo(&echo_port); /* before grpc_init: fork first */
  if(echo <= 0 || !echo_port || start_sd(&sd, bin, false)) {
    fprintf(stderr, "bench_localsd: could not start the servers\n");
    if(echo > 0)
      stop_proc(echo);
    return 1;
  }
  if(bench_pin_servers)
    pin_to_cpu(1);
  grpc_init();
  if(seed(sd.port) || create_n(sd.port, 3))
    goto out;
  {
    Google__Cloud__Servicedirectory__V1__ResolveServiceRequest r =
        GOOGLE__CLOUD__SERVICEDIRECTORY__V1__RESOLVE_SERVICE_REQUEST__INIT;
    r.name = (char *)SVC;
    resolve_len = google__cloud__servicedirectory__v1__resolve_service_request__pack(&r, resolve_req);
  }

  printf("local Service Directory over gRPC, 127.0.0.1, server threads %d, %.1f s per row%s\n"
         "(echo and the ResolveService rows alternate in %d slices)\n\n",
         bench_server_threads, seconds,
         bench_pin_servers ? "\n(pinned: the servers on CPU 0, the callers on CPU 1)" : "",
         ROUNDS);
  printf("%-34s %8s %12s %10s\n", "workload", "callers", "calls/s", "vs echo");
  for(size_t i = 0; i < 3; i++) {
    char key[64];
    double e, r, u;
    run_pair(echo_port, sd.port, callers[i], &e, &r, &u, &errs);
    printf("%-34s %8d %12.0f %10s\n", "echo (raw gRPC C core, ceiling)", callers[i], e, "1.00x");
    printf("%-34s %8d %12.0f %9.2fx\n", "ResolveService (3 endpoints)", callers[i], r, r / e);
    printf("%-34s %8d %12.0f %9.2fx\n", "ResolveService, cache defeated", callers[i], u, u / e);
    snprintf(key, sizeof(key), "resolve_uncached_calls_per_s_c%d", callers[i]);
    json_add(key, u);
    snprintf(key, sizeof(key), "resolve_uncached_vs_echo_c%d", callers[i]);
    json_add(key, u / e);
    snprintf(key, sizeof(key), "echo_calls_per_s_c%d", callers[i]);
    json_add(key, e);
    snprintf(key, sizeof(key), "resolve_calls_per_s_c%d", callers[i]);
    json_add(key, r);
    snprintf(key, sizeof(key), "resolve_vs_echo_c%d", callers[i]);
    json_add(key, r / e);
    if(r / e < resolve_ratio_min)
      resolve_ratio_min = r / e;
  }
  for(size_t i = 0; i < 3; i++) {
    char key[64];
    double c = run(W_CREATE, sd.port, callers[i], 0, &errs);
    printf("%-34s %8d %12.0f\n", "CreateEndpoint (--memory)", callers[i], c);
    snprintf(key, sizeof(key), "create_memory_calls_per_s_c%d", callers[i]);
    json_add(key, c);
  }
  stop_sd(&sd);

  if(start_sd(&sd, bin, true) || seed(sd.port))
    goto out;
  for(size_t i = 0; i < 3; i++) {
    char key[64];
    double c = run(W_CREATE, sd.port, callers[i], 0, &errs);
    printf("%-34s %8d %12.0f\n", "CreateEndpoint (--db, WAL)", callers[i], c);
    snprintf(key, sizeof(key), "create_db_calls_per_s_c%d", callers[i]);
    json_add(key, c);
  }
  stop_sd(&sd);

  printf("\n%-22s %12s %12s %16s\n", "memory", "endpoints", "RSS MiB", "bytes/endpoint");
  for(int durable = 0; durable < 2; durable++) {
    long base;
    unsigned long sizes[2] = {max_eps / 10, max_eps}, have = 0;
    if(start_sd(&sd, bin, durable) || seed(sd.port))
      goto out;
    base = rss_kib(sd.pid);
    for(int k = 0; k < 2; k++) {
      char key[64];
      long rss;
      double per;
      if(create_n(sd.port, sizes[k] - have))
        goto out;
      have = sizes[k];
      rss = rss_kib(sd.pid);
      per = (double)(rss - base) * 1024.0 / (double)have;
      printf("%-22s %12lu %12.1f %16.0f\n", durable ? "--db (WAL)" : "--memory", have,
             (double)rss / 1024.0, per);
      snprintf(key, sizeof(key), "%s_bytes_per_endpoint_%lu", durable ? "db" : "memory", have);
      json_add(key, per);
    }
    stop_sd(&sd);
  }
  json_add("resolve_vs_echo_min", resolve_ratio_min);
  json_add("errors", (double)errs);
  printf("\ntarget: ResolveService >= 0.8x echo; <= 1024 bytes resident per endpoint\n");
  printf("%s}\n", bench_json);
  rc = errs ? 1 : 0;
out:
  if(rc)
    fprintf(stderr, "bench_localsd: a step failed (errors=%lu)\n", errs);
  if(sd.pid > 0 && !kill(sd.pid, 0))
    stop_sd(&sd);
  grpc_shutdown();
  stop_proc(echo);
  return rc;
}
