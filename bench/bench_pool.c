/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_pool: requests/s through sdconnect's connection pool against nginx
 * on 127.0.0.1, beside wrk against the same nginx in the same run.
 *   - pooled HTTPS keep-alive (one thread: the pool's loop) vs wrk -t1;
 *   - pooled mTLS keep-alive (nginx verifying a client certificate);
 *   - a new TLS connection per request (max 1 request per connection);
 *   - a fresh `curl` process per request (what a shell script would do);
 *   - resident memory per idle pooled connection.
 * Needs nginx, wrk and curl (Debian: nginx-light wrk curl). Certificates are
 * made here; nginx is started on a free port and stopped by PID.
 * "On one core": with two or more CPUs, nginx runs on CPU 0 and this
 * program (its pool loop, and wrk, which it starts) on CPU 1. wrk and the
 * pool alternate over ROUNDS rounds; the medians are compared.
 * Prints a table, then one JSON object on the last line.
 * Usage: bench_pool [--seconds S] [--conns C]
 */
#include "bench_common.h"
#include "certs.h"

#include <sdconnect/sdconnect.h>

#define _GNU_SOURCE /* sched_setaffinity */
#include <arpa/inet.h>
#include <sched.h>
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define HOST "webhook.internal"
#define ROUNDS 5

static double seconds = 3.0;
static int use_h2;
static int conns = 16;
static char dir[64];

/* nginx serving the pool's three targets from `dir`. */
static pid_t start_pool_nginx(int port, int port_mtls, int port_h2)
{
  char servers[1400];

  snprintf(servers, sizeof(servers),
           "  ssl_certificate %s/server.pem;\n  ssl_certificate_key %s/server.key;\n"
           "  ssl_protocols TLSv1.2 TLSv1.3;\n"
           "  server { listen 127.0.0.1:%d ssl; location / { return 200 \"ok\\n\"; } }\n"
           "  server { listen 127.0.0.1:%d ssl; ssl_client_certificate %s/ca.pem;\n"
           "    ssl_verify_client on; location / { return 200 \"ok\\n\"; } }\n"
           "  http2_max_requests 10000000;\n"
           "  server { listen 127.0.0.1:%d ssl http2; location / { return 200 \"ok\\n\"; } }\n",
           dir, dir, port, port_mtls, dir, port_h2);
  return start_nginx(dir, servers);
}

static void *slurp(const char *name, size_t *len)
{
  char path[256];
  FILE *f;
  char *buf = malloc(1 << 16);

  snprintf(path, sizeof(path), "%s/%s", dir, name);
  f = fopen(path, "rb");
  *len = f ? fread(buf, 1, 1 << 16, f) : 0;
  if(f)
    fclose(f);
  return buf;
}

struct drive {
  sdc_pool *pool;
  sdc_target *t;
  sdc_http_request *req;
  double end;
  unsigned long done, errors, h2;
};

static void drive_done(sdc_status st, sdc_http_response *r, const char *e, void *ud);

static void drive_next(struct drive *d)
{
  if(now_s() < d->end && sdc_pool_submit(d->pool, d->t, d->req, drive_done, d))
    d->errors++;
}

static void drive_done(sdc_status st, sdc_http_response *r, const char *e, void *ud)
{
  struct drive *d = ud;

  (void)e;
  if(st || r->status != 200)
    d->errors++;
  else
    d->done++;
  if(!st && r->http_version == 2)
    d->h2++;
  sdc_http_response_free(r);
  drive_next(d);
}

/* requests/s with `inflight` requests kept in flight for `seconds`. */
static unsigned long last_h2; /* HTTP/2 answers in the last pooled() run */

static double pooled(int port, int mtls, unsigned max_requests, int inflight,
                     unsigned long *errs, unsigned long *opened)
{
  sdc_pool_opts *o = NULL;
  struct drive d = {0};
  const char *addr = "127.0.0.1";
  char url[128];
  size_t len, kl;
  void *ca = slurp("ca.pem", &len), *cert, *key;
  double t0;

  sdc_pool_opts_new(&o);
  sdc_pool_opts_set_http2(o, use_h2); /* wrk speaks HTTP/1.1 keep-alive */
  sdc_pool_opts_set_max_conns_per_target(o, (unsigned)inflight);
  sdc_pool_opts_set_max_requests_per_conn(o, max_requests);
  sdc_pool_new(&d.pool, o);
  sdc_target_new(&d.t, HOST, port, 1);
  sdc_target_set_addresses(d.t, &addr, &port, 1);
  sdc_target_set_ca(d.t, ca, len);
  free(ca);
  if(mtls) {
    cert = slurp("client.pem", &len);
    key = slurp("client.key", &kl);
    sdc_target_set_client_cert(d.t, cert, len, key, kl, NULL);
    free(cert);
    free(key);
  }
  snprintf(url, sizeof(url), "https://" HOST ":%d/", port);
  if(sdc_http_request_new(&d.req, url))
    return -1;
  sdc_http_request_set_timeout_ms(d.req, 10000);
  /* warm up: open the connections */
  d.end = now_s() + 0.3;
  for(int i = 0; i < inflight; i++)
    drive_next(&d);
  sdc_pool_perform(d.pool, 10000);
  d.done = 0;
  t0 = now_s();
  d.end = t0 + seconds;
  for(int i = 0; i < inflight; i++)
    drive_next(&d);
  sdc_pool_perform(d.pool, (uint64_t)(seconds * 1000) + 10000);
  *errs += d.errors;
  last_h2 = d.h2;
  *opened = sdc_pool_connections_opened(d.pool);
  sdc_http_request_free(d.req);
  sdc_target_free(d.t);
  sdc_pool_free(d.pool);
  sdc_pool_opts_free(o);
  return (double)d.done / (now_s() - t0);
}

/* wrk -t1 -cC against the same server: requests/s from its summary. */
static double wrk_rate(int port, int c)
{
  char cmd[256], line[512];
  FILE *f;
  double rate = 0;

  snprintf(cmd, sizeof(cmd), "wrk -t1 -c%d -d%.0fs https://127.0.0.1:%d/ 2>&1", c,
           seconds < 1 ? 1 : seconds, port);
  f = popen(cmd, "r");
  if(!f)
    return 0;
  while(fgets(line, sizeof(line), f))
    if(!strncmp(line, "Requests/sec:", 13))
      rate = atof(line + 13);
  pclose(f);
  return rate;
}

/* A fresh curl process per request, sequentially, for `secs`. */
static double curl_processes(int port, double secs)
{
  char url[128], to[128], ca[256];
  unsigned long n = 0;
  double t0 = now_s();

  snprintf(url, sizeof(url), "https://" HOST ":%d/", port);
  snprintf(to, sizeof(to), HOST ":%d:127.0.0.1:%d", port, port);
  snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
  while(now_s() - t0 < secs) {
    pid_t pid = fork();
    int st;
    if(pid == 0) {
      int null = open("/dev/null", 1);
      dup2(null, 1);
      dup2(null, 2);
      execlp("curl", "curl", "-sf", "--cacert", ca, "--connect-to", to, url, (char *)NULL);
      _exit(127);
    }
    waitpid(pid, &st, 0);
    if(WIFEXITED(st) && WEXITSTATUS(st) == 0)
      n++;
  }
  return (double)n / (now_s() - t0);
}

/* Resident memory per idle pooled connection: open N at once, let the
 * requests finish, free everything but the pool (which keeps the
 * connections), give freed heap back to the system, then measure. */
static double idle_conn_bytes(int port, int n)
{
  long before, after;
  unsigned long errs = 0, opened = 0;
  sdc_pool_opts *o = NULL;
  struct drive d = {0};
  const char *addr = "127.0.0.1";
  char url[128];
  size_t len;
  void *ca = slurp("ca.pem", &len);

  sdc_pool_opts_new(&o);
  sdc_pool_opts_set_http2(o, 0);
  sdc_pool_opts_set_max_conns_per_target(o, (unsigned)n);
  sdc_pool_new(&d.pool, o);
  sdc_target_new(&d.t, HOST, port, 1);
  sdc_target_set_addresses(d.t, &addr, &port, 1);
  sdc_target_set_ca(d.t, ca, len);
  free(ca);
  snprintf(url, sizeof(url), "https://" HOST ":%d/", port);
  if(sdc_http_request_new(&d.req, url))
    return -1;
  sdc_http_request_set_timeout_ms(d.req, 20000);
  d.end = 0; /* no follow-ups */
  /* one connection first, so the baseline holds libcurl's and OpenSSL's
   * one-time state */
  sdc_pool_submit(d.pool, d.t, d.req, drive_done, &d);
  sdc_pool_perform(d.pool, 30000);
  malloc_trim(0);
  before = rss_kib(getpid());
  for(int i = 0; i < n; i++) /* n in flight at once: n connections */
    if(sdc_pool_submit(d.pool, d.t, d.req, drive_done, &d))
      errs++;
  sdc_pool_perform(d.pool, 30000);
  opened = sdc_pool_connections_opened(d.pool) - 1;
  sdc_target_free(d.t); /* and its request handles; connections stay */
  malloc_trim(0);
  after = rss_kib(getpid());
  sdc_pool_free(d.pool);
  sdc_pool_opts_free(o);
  sdc_http_request_free(d.req);
  if(!opened || errs || d.errors)
    return -1;
  return (double)(after - before) * 1024.0 / (double)opened;
}

int main(int argc, char **argv)
{
  int port, port_mtls, port_h2, rc = 1;
  pid_t nginx;
  unsigned long errs = 0, opened = 0;
  double https, https1, mtls, fresh, wrk, procs, mem, h2;

  for(int i = 1; i < argc; i++) {
    if(!strcmp(argv[i], "--seconds") && i + 1 < argc)
      seconds = atof(argv[++i]);
    else if(!strcmp(argv[i], "--conns") && i + 1 < argc)
      conns = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: %s [--seconds S] [--conns C]\n", argv[0]);
      return 2;
    }
  }
  if(system("command -v nginx >/dev/null && command -v wrk >/dev/null && "
            "command -v curl >/dev/null")) {
    fprintf(stderr, "bench_pool: needs nginx, wrk and curl (Debian: apt-get install "
            "nginx-light wrk curl)\n");
    return 2;
  }
  strcpy(dir, "/tmp/sdc-bench-pool-XXXXXX");
  if(!mkdtemp(dir))
    return 1;
  {
    struct tcert_opts ca_o = {"bench CA", NULL, -1, 30, true, false};
    struct tcert_opts srv_o = {HOST, "DNS:" HOST ",IP:127.0.0.1", -1, 30, false, false};
    struct tcert_opts cli_o = {"bench client", NULL, -1, 30, false, true};
    struct tcert *ca = tcert_new(&ca_o, NULL), *s = tcert_new(&srv_o, ca),
                 *c = tcert_new(&cli_o, ca);
    if(!ca || !s || !c || tcert_write(ca, dir, "ca") || tcert_write(s, dir, "server") ||
       tcert_write(c, dir, "client"))
      return 1;
    tcert_free(ca);
    tcert_free(s);
    tcert_free(c);
  }
  port = free_port();
  port_mtls = free_port();
  port_h2 = free_port();
  nginx = start_pool_nginx(port, port_mtls, port_h2);
  if(nginx <= 0) {
    fprintf(stderr, "bench_pool: nginx did not start (see %s/error.log)\n", dir);
    return 1;
  }
  sdc_global_init(NULL);
  printf("HTTPS to nginx on 127.0.0.1 (1 worker), %d in flight, %.1f s per row\n\n",
         conns, seconds);
  printf("client (pool loop, wrk) on %s; wrk and pool alternate over %d rounds, "
         "medians shown\n\n", n_cpus() >= 2 ? "CPU 1, nginx on CPU 0" : "the only CPU",
         ROUNDS);
  pin_to_cpu(1); /* nginx has CPU 0 */
  printf("%-46s %14s %12s\n", "workload", "requests/s", "vs wrk");
  {
    double w[ROUNDS], h[ROUNDS], ratio[ROUNDS];
    for(int i = 0; i < ROUNDS; i++) {
      if(i % 2 == 0) {
        w[i] = wrk_rate(port, conns);
        h[i] = pooled(port, 0, 0, conns, &errs, &opened);
      } else {
        h[i] = pooled(port, 0, 0, conns, &errs, &opened);
        w[i] = wrk_rate(port, conns);
      }
      ratio[i] = h[i] / w[i];
      printf("  round %d: wrk %.0f, pool %.0f (%.2fx)\n", i + 1, w[i], h[i], ratio[i]);
    }
    wrk = median(w, ROUNDS);
    https = median(h, ROUNDS);
    json_add("pool_https_vs_wrk_median_of_rounds", median(ratio, ROUNDS));
  }
  printf("%-46s %14.0f %12s\n", "wrk -t1 keep-alive (peer)", wrk, "1.00x");
  printf("%-46s %14.0f %11.2fx   (%lu connections)\n", "sdconnect pool, HTTPS keep-alive", https,
         https / wrk, opened);
  mtls = pooled(port_mtls, 1, 0, conns, &errs, &opened);
  printf("%-46s %14.0f %11.2fx\n", "sdconnect pool, mTLS keep-alive", mtls, mtls / wrk);
  https1 = pooled(port, 0, 0, 1, &errs, &opened);
  printf("%-46s %14.0f %12s\n", "sdconnect pool, HTTPS, 1 in flight", https1, "-");
  fresh = pooled(port, 0, 1, conns, &errs, &opened);
  printf("%-46s %14.0f %12s   (%lu connections)\n", "sdconnect pool, new TLS connection each",
         fresh, "-", opened);
  use_h2 = 1;
  h2 = pooled(port_h2, 0, 0, conns, &errs, &opened);
  use_h2 = 0;
  printf("%-46s %14.0f %12s   (%lu connections, %lu HTTP/2 answers)\n",
         "sdconnect pool, HTTP/2 multiplexed", h2, "-", opened, last_h2);
  json_add("pool_http2_requests_per_s", h2);
  json_add("pool_http2_connections", (double)opened);
  procs = curl_processes(port, seconds);
  printf("%-46s %14.0f %12s\n", "a fresh curl process per request", procs, "-");
  printf("pooled HTTPS vs a fresh curl process: %.0fx (target >= 20x); vs wrk %.2fx "
         "(target >= 0.9x)\n", https / procs, https / wrk);
  mem = idle_conn_bytes(port, 200);
  printf("resident memory per idle pooled TLS connection (200 open): %.0f bytes\n", mem);
  json_add("wrk_requests_per_s", wrk);
  json_add("pool_https_requests_per_s", https);
  json_add("pool_https_vs_wrk", https / wrk);
  json_add("pool_mtls_requests_per_s", mtls);
  json_add("pool_https_1_inflight_requests_per_s", https1);
  json_add("pool_new_connection_each_requests_per_s", fresh);
  json_add("curl_process_per_request_per_s", procs);
  json_add("pool_vs_curl_process", https / procs);
  json_add("idle_connection_bytes", mem);
  json_add("errors", (double)errs);
  printf("%s}\n", bench_json);
  rc = errs ? 1 : 0;
  sdc_global_cleanup();
  stop_proc(nginx);
  {
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if(system(cmd))
      rc = rc ? rc : 0;
  }
  return rc;
}
