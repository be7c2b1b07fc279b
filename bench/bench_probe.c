/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_probe: CPU time per probe of sdconnect's uptime checks against
 * nginx on 127.0.0.1, beside Prometheus's blackbox_exporter probing the
 * same nginx in the same run, and the full-handshake floor (wrk with
 * "Connection: close": a new TLS connection per request, nothing else;
 * wrk resumes TLS sessions when the server allows, so it is measured both
 * against a server that does and one that does not).
 *   - HTTPS: one run of checks over N endpoints (Service Directory answers
 *     at most 100 endpoints per service, so N/100 services of 100), each
 *     endpoint probed over a connection of its own, certificates verified
 *     against a private CA by the URL's host name; blackbox's http prober
 *     with the same CA and server name, driven over its /probe endpoint.
 *   - TCP: the same endpoints with a tcpCheck; blackbox's tcp_connect.
 * CPU is user + system time: of this process for sdconnect (its loop, the
 * resolver's threads), of the blackbox_exporter process for it (not of
 * what drives it), of the wrk process for the floor. nginx runs on CPU 0,
 * everything else on CPU 1. Rounds alternate; medians are shown.
 * Needs nginx, wrk and prometheus-blackbox-exporter (Debian: nginx-light
 * wrk prometheus-blackbox-exporter). Everything listens on 127.0.0.1 and
 * is stopped by PID.
 * Prints a table, then one JSON object on the last line.
 * Usage: bench_probe [--sdconnect PATH] [--endpoints N] [--rounds R]
 */
#define _GNU_SOURCE /* wait4 */
#include "bench_common.h"
#include "certs.h"

#include <sdconnect/sdconnect.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define HOST "orders.internal"
#define PER_SERVICE 100 /* ResolveService's maximum */
#define MAX_ROUNDS 9

static char dir[64];
static int n_endpoints = 2000, rounds = 3;

static double self_cpu_s(void)
{
  struct rusage ru;

  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* ---- the directory: services of PER_SERVICE endpoints at one address ---- */
static int register_endpoints(sdc_resolver *r, int port, int n_services)
{
  if(bench_sd_create(r, SDC_SD_NAMESPACE, NS, NULL, 0, NULL, NULL, NULL))
    return -1;
  for(int s = 0; s < n_services; s++) {
    char name[160];
    snprintf(name, sizeof(name), NS "/services/s%d", s);
    if(bench_sd_create(r, SDC_SD_SERVICE, name, NULL, 0, NULL, NULL, NULL))
      return -1;
    for(int e = 0; e < PER_SERVICE; e++) {
      char en[200];
      snprintf(en, sizeof(en), "%s/endpoints/e%d", name, e);
      if(bench_sd_create(r, SDC_SD_ENDPOINT, en, "127.0.0.1", port, NULL, NULL, NULL))
        return -1;
    }
  }
  return 0;
}

/* One check per service, HTTPS or TCP, as a YAML list. */
static sdc_check_set *checks(int n_services, bool tls, int port)
{
  size_t cap = (size_t)n_services * 600 + 1;
  char *text = malloc(cap), *errs = NULL;
  size_t at = 0;
  sdc_check_set *set = NULL;

  for(int s = 0; s < n_services; s++)
    at += (size_t)snprintf(text + at, cap - at,
                           "- displayName: %s s%d\n  checkerType: VPC_CHECKERS\n"
                           "  monitoredResource: {type: servicedirectory_service, labels: "
                           "{project_id: bench, location: local, namespace_name: bench, "
                           "service_name: s%d}}\n  timeout: 30s\n"
                           "  sdconnect: {maxEndpoints: 100, host: " HOST ", caFile: %s/ca.pem}\n"
                           "  %s\n", tls ? "https" : "tcp", s, s, dir,
                           tls ? "httpCheck: {useSsl: true, path: /}" : "tcpCheck: {port: 0}");
  if(!tls) /* the endpoint's port: a tcpCheck needs one, so give nginx's */
    for(char *p = strstr(text, "{port: 0}"); p; p = strstr(p, "{port: 0}")) {
      char num[8];
      int w = snprintf(num, sizeof(num), "%d", port);
      memmove(p + 7 + w, p + 8, strlen(p + 8) + 1);
      memcpy(p + 7, num, (size_t)w);
      p += 7 + w;
    }
  if(sdc_checks_load_mem("bench.yaml", text, strlen(text), &set, &errs)) {
    fprintf(stderr, "bench_probe: checks: %s\n", errs ? errs : "?");
    set = NULL;
  }
  sdc_free(errs);
  free(text);
  return set;
}

struct tally {
  size_t runs, probes, passed;
  char first_failure[300];
};

static void on_report(const sdc_probe_report *rep, void *ud)
{
  struct tally *t = ud;

  t->runs++;
  t->probes += rep->n_results;
  t->passed += rep->n_passed;
  for(size_t i = 0; i < rep->n_results && !t->first_failure[0]; i++)
    if(!rep->results[i].passed)
      snprintf(t->first_failure, sizeof(t->first_failure), "%s: %s",
               sdc_probe_reason_name(rep->results[i].reason), rep->results[i].detail);
}

/* CPU seconds of this process for one run of every check in `set`. */
static double run_checks(sdc_pool *pool, sdc_prober *pr, sdc_check_set *set,
                         struct tally *t)
{
  double c0 = self_cpu_s();

  memset(t, 0, sizeof(*t));
  for(size_t i = 0; i < sdc_check_set_count(set); i++)
    sdc_probe_run(pr, sdc_check_set_get(set, i), on_report, t);
  for(int i = 0; i < 600 && t->runs < sdc_check_set_count(set); i++)
    sdc_pool_perform(pool, 1000);
  return self_cpu_s() - c0;
}

/* ---- blackbox_exporter -------------------------------------------------------- */
static pid_t start_blackbox(int *port)
{
  char conf[128], listen[64], path[160];
  FILE *f;
  pid_t pid;

  snprintf(conf, sizeof(conf), "%s/blackbox.yml", dir);
  if(!(f = fopen(conf, "w")))
    return -1;
  fprintf(f, "modules:\n"
             "  https_2xx:\n    prober: http\n    timeout: 30s\n    http:\n"
             "      method: GET\n      fail_if_not_ssl: true\n"
             "      preferred_ip_protocol: ip4\n"
             "      tls_config: {ca_file: %s/ca.pem, server_name: " HOST "}\n"
             "  tcp_connect:\n    prober: tcp\n    timeout: 30s\n"
             "    tcp: {preferred_ip_protocol: ip4}\n", dir);
  fclose(f);
  *port = free_port();
  snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%d", *port);
  snprintf(path, sizeof(path), "--config.file=%s", conf);
  pid = fork();
  if(pid == 0) {
    int null = open("/dev/null", 1);
    dup2(null, 1);
    dup2(null, 2);
    execlp("prometheus-blackbox-exporter", "prometheus-blackbox-exporter", path, listen,
           "--log.level=error", (char *)NULL);
    _exit(127);
  }
  return pid;
}

struct bb_tally {
  size_t done, ok;
};

static void bb_done(sdc_status st, sdc_http_response *r, const char *err, void *ud)
{
  struct bb_tally *t = ud;

  (void)err;
  t->done++;
  if(!st && r->status == 200 && strstr(r->body, "\nprobe_success 1"))
    t->ok++;
  sdc_http_response_free(r);
}

/* `n` probes through blackbox_exporter's /probe, `inflight` at once:
 * CPU seconds of the exporter process. */
static double run_blackbox(sdc_pool *pool, sdc_target *bbt, int bb_port, pid_t bb,
                           const char *module, const char *target, int n, int inflight,
                           struct bb_tally *t)
{
  char url[300];
  double c0 = proc_cpu_s(bb);
  int sent = 0;
  sdc_http_request *req = NULL;

  snprintf(url, sizeof(url), "http://127.0.0.1:%d/probe?module=%s&target=%s", bb_port,
           module, target);
  memset(t, 0, sizeof(*t));
  if(sdc_http_request_new(&req, url))
    return -1;
  sdc_http_request_set_timeout_ms(req, 60000);
  while(t->done < (size_t)n) {
    while(sent < n && sent - (int)t->done < inflight) {
      if(sdc_pool_submit(pool, bbt, req, bb_done, t)) /* the pool copies what it keeps */
        break;
      sent++;
    }
    sdc_pool_perform(pool, 10); /* returns when some are done, or 10 ms */
    if(sent == n && t->done < (size_t)n)
      sdc_pool_perform(pool, 60000);
  }
  sdc_http_request_free(req);
  return proc_cpu_s(bb) - c0;
}

/* ---- the floor: wrk, a new TLS connection per request ---------------------------- */
static double run_wrk_close(int port, double *per_req_us)
{
  char url[64], out[4096];
  int fds[2], status;
  pid_t pid;
  struct rusage ru;
  size_t n = 0;
  ssize_t got;
  double reqs = 0, cpu;
  char *p;

  snprintf(url, sizeof(url), "https://127.0.0.1:%d/", port);
  if(pipe(fds))
    return -1;
  pid = fork();
  if(pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    execlp("wrk", "wrk", "-t1", "-c16", "-d2s", "-H", "Connection: close", url,
           (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  while((got = read(fds[0], out + n, sizeof(out) - 1 - n)) > 0)
    n += (size_t)got;
  close(fds[0]);
  out[n] = '\0';
  if(wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
    return -1;
  p = strstr(out, " requests in ");
  while(p && p > out && p[-1] >= '0' && p[-1] <= '9')
    p--;
  if(p)
    reqs = atof(p);
  cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
        (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
  *per_req_us = reqs > 0 ? cpu / reqs * 1e6 : -1;
  return reqs;
}

/* The floor of any OpenSSL client on this machine: `n` full handshakes,
 * one after another, with one SSL_CTX made beforehand, the chain and name
 * verified, no session resumption, then a GET. CPU us per handshake. */
static double openssl_floor(int port, int n)
{
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  char ca[128];
  double c0 = self_cpu_s();
  int ok = 0;

  snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
  SSL_CTX_load_verify_locations(ctx, ca, NULL);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  for(int i = 0; i < n; i++) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    SSL *s = SSL_new(ctx);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if(!connect(fd, (struct sockaddr *)&a, sizeof(a)) && s && SSL_set_fd(s, fd) &&
       SSL_set_tlsext_host_name(s, HOST) && SSL_set1_host(s, HOST) && SSL_connect(s) == 1) {
      static const char req[] = "GET / HTTP/1.1\r\nHost: " HOST "\r\nConnection: close\r\n\r\n";
      char buf[1024];
      SSL_write(s, req, (int)sizeof(req) - 1);
      while(SSL_read(s, buf, sizeof(buf)) > 0)
        ;
      ok++;
    }
    SSL_free(s);
    close(fd);
  }
  SSL_CTX_free(ctx);
  return ok == n ? (self_cpu_s() - c0) / n * 1e6 : -1;
}

static void make_certs(void)
{
  struct tcert_opts ca_o = {"bench CA", NULL, -1, 30, true, false};
  struct tcert_opts srv_o = {HOST, "DNS:" HOST, -1, 30, false, false};
  struct tcert *ca = tcert_new(&ca_o, NULL), *srv = tcert_new(&srv_o, ca);

  tcert_write(ca, dir, "ca");
  tcert_write(srv, dir, "server");
  tcert_free(ca);
  tcert_free(srv);
}

int main(int argc, char **argv)
{
  struct server sd = {0};
  const char *bin = "./sdconnect";
  char servers[600], ep[64], err[256], target[64];
  int port, full_port, bb_port, n_services, rc = 1;
  pid_t nginx = -1, bb = -1;
  sdc_resolver_opts *ro = NULL;
  sdc_resolver *res = NULL;
  sdc_pool_opts *po = NULL;
  sdc_pool *pool = NULL, *bbpool = NULL;
  sdc_prober *pr = NULL;
  sdc_target *bbt = NULL;
  sdc_check_set *https = NULL, *tcp = NULL;
  double ours_h[MAX_ROUNDS], ours_t[MAX_ROUNDS], bb_h[MAX_ROUNDS], bb_t[MAX_ROUNDS];
  double floor_us[MAX_ROUNDS], wall_h[MAX_ROUNDS], ossl_us[MAX_ROUNDS];
  double full_us[MAX_ROUNDS];
  struct tally t;
  struct bb_tally bt;

  for(int i = 1; i < argc; i++) {
    if(!strcmp(argv[i], "--endpoints") && i + 1 < argc)
      n_endpoints = atoi(argv[++i]);
    else if(!strcmp(argv[i], "--rounds") && i + 1 < argc)
      rounds = atoi(argv[++i]);
    else if(!strcmp(argv[i], "--sdconnect") && i + 1 < argc)
      bin = argv[++i];
    else
      rounds = 0;
  }
  if(n_endpoints < PER_SERVICE || rounds < 1 || rounds > MAX_ROUNDS || access(bin, X_OK)) {
    fprintf(stderr, "usage: bench_probe [--sdconnect PATH] [--endpoints N>=100] "
            "[--rounds 1..9]\n");
    return 2;
  }
  n_services = n_endpoints / PER_SERVICE;
  n_endpoints = n_services * PER_SERVICE;
  if(system("command -v nginx >/dev/null && command -v wrk >/dev/null && "
            "command -v prometheus-blackbox-exporter >/dev/null")) {
    fprintf(stderr, "bench_probe: needs nginx, wrk and prometheus-blackbox-exporter "
            "(Debian: apt-get install nginx-light wrk prometheus-blackbox-exporter)\n");
    return 77;
  }
  signal(SIGPIPE, SIG_IGN);
  raise_fd_limit();
  snprintf(dir, sizeof(dir), "/tmp/bench-probe-XXXXXX");
  if(!mkdtemp(dir))
    return 1;
  make_certs();
  port = free_port();
  full_port = free_port();
  snprintf(servers, sizeof(servers),
           "  ssl_certificate %s/server.pem;\n  ssl_certificate_key %s/server.key;\n"
           "  ssl_protocols TLSv1.2 TLSv1.3;\n"
           "  server { listen 127.0.0.1:%d ssl backlog=8192; "
           "location / { return 200 \"ok\\n\"; } }\n"
           /* the same without session resumption: wrk resumes when it can */
           "  server { listen 127.0.0.1:%d ssl backlog=8192; ssl_session_tickets off; "
           "ssl_session_cache off; location / { return 200 \"ok\\n\"; } }\n",
           dir, dir, port, full_port);
  if((nginx = start_nginx(dir, servers)) <= 0) {
    fprintf(stderr, "bench_probe: nginx did not start (see %s/error.log)\n", dir);
    goto out;
  }
  pin_to_cpu(1); /* nginx has CPU 0; this loop, blackbox and wrk share CPU 1 */
  if(sdc_global_init(NULL) || start_sd(&sd, bin, false)) {
    fprintf(stderr, "bench_probe: the local directory did not start\n");
    goto out;
  }
  snprintf(ep, sizeof(ep), "127.0.0.1:%d", sd.port);
  sdc_resolver_opts_new(&ro);
  sdc_resolver_opts_set_endpoint(ro, ep);
  sdc_resolver_opts_set_plaintext(ro, 1);
  sdc_resolver_opts_set_cache_ttl_ms(ro, 3600000);
  if(sdc_resolver_new(&res, ro, err, sizeof(err)) ||
     register_endpoints(res, port, n_services)) {
    fprintf(stderr, "bench_probe: cannot register endpoints: %s\n", sdc_resolver_errmsg(res));
    goto out;
  }
  https = checks(n_services, true, port);
  tcp = checks(n_services, false, port);
  sdc_pool_opts_new(&po);
  sdc_pool_opts_set_max_body(po, 4u << 20);
  sdc_pool_opts_set_http2(po, 0);
  if(!https || !tcp || sdc_pool_new(&pool, po) || sdc_pool_new(&bbpool, po) ||
     sdc_prober_new(&pr, pool, res))
    goto out;
  if((bb = start_blackbox(&bb_port)) <= 0)
    goto out;
  sdc_target_new(&bbt, "127.0.0.1", bb_port, 0);
  sdc_target_set_addresses(bbt, (const char *const[]){"127.0.0.1"}, &bb_port, 1);
  for(int i = 0; i < 100; i++) { /* wait for the exporter to listen */
    sdc_http_response *r = NULL;
    char url[80];
    sdc_http_request *req = NULL;
    sdc_status st;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", bb_port);
    if(sdc_http_request_new(&req, url))
      break;
    sdc_http_request_set_timeout_ms(req, 1000);
    st = sdc_pool_request(bbpool, bbt, req, &r);
    sdc_http_request_free(req);
    if(!st) {
      sdc_http_response_free(r);
      break;
    }
    sleep_ms(50);
  }
  /* warm up: the resolver's cache, TLS session-free handshakes, page cache */
  run_checks(pool, pr, https, &t);
  if(t.passed != (size_t)n_endpoints) {
    fprintf(stderr, "bench_probe: %zu of %d HTTPS probes passed: %s\n", t.passed,
            n_endpoints, t.first_failure);
    goto out;
  }
  printf("%d endpoints (%d services of %d) on nginx at 127.0.0.1 (1 worker, CPU 0);\n"
         "clients on CPU 1; %d rounds, medians; CPU = user + system time\n\n",
         n_endpoints, n_services, PER_SERVICE, rounds);
  for(int r = 0; r < rounds; r++) {
    double w0 = now_s(), reqs;
    ours_h[r] = run_checks(pool, pr, https, &t) / n_endpoints * 1e6;
    wall_h[r] = now_s() - w0;
    if(t.passed != (size_t)n_endpoints)
      fprintf(stderr, "bench_probe: round %d: %zu HTTPS probes failed: %s\n", r,
              n_endpoints - t.passed, t.first_failure);
    ours_t[r] = run_checks(pool, pr, tcp, &t) / n_endpoints * 1e6;
    if(t.passed != (size_t)n_endpoints)
      fprintf(stderr, "bench_probe: round %d: %zu TCP probes failed: %s\n", r,
              n_endpoints - t.passed, t.first_failure);
    snprintf(target, sizeof(target), "https://127.0.0.1:%d/", port);
    bb_h[r] = run_blackbox(bbpool, bbt, bb_port, bb, "https_2xx", target, n_endpoints, 64,
                           &bt) / n_endpoints * 1e6;
    if(bt.ok != (size_t)n_endpoints)
      fprintf(stderr, "bench_probe: round %d: blackbox http_2xx: %zu of %d succeeded\n", r,
              bt.ok, n_endpoints);
    snprintf(target, sizeof(target), "127.0.0.1:%d", port);
    bb_t[r] = run_blackbox(bbpool, bbt, bb_port, bb, "tcp_connect", target, n_endpoints, 64,
                           &bt) / n_endpoints * 1e6;
    if(bt.ok != (size_t)n_endpoints)
      fprintf(stderr, "bench_probe: round %d: blackbox tcp_connect: %zu of %d succeeded\n",
              r, bt.ok, n_endpoints);
    reqs = run_wrk_close(port, &floor_us[r]);
    if(reqs <= 0)
      floor_us[r] = -1;
    if(run_wrk_close(full_port, &full_us[r]) <= 0)
      full_us[r] = -1;
    ossl_us[r] = openssl_floor(port, 1000);
  }
  {
    double h = median(ours_h, rounds), tt = median(ours_t, rounds);
    double bh = median(bb_h, rounds), btt = median(bb_t, rounds);
    double fl = median(floor_us, rounds), wall = median(wall_h, rounds);
    double os = median(ossl_us, rounds), full = median(full_us, rounds);
    printf("%-44s %14s %10s\n", "probe", "CPU us/probe", "vs peer");
    printf("%-44s %14.1f %9.2fx\n", "sdconnect HTTPS (new TLS conn, verified)", h, h / bh);
    printf("%-44s %14.1f %9s\n", "blackbox_exporter http_2xx (same CA/SNI)", bh, "1.00x");
    printf("%-44s %14.1f %9.2fx\n", "wrk, Connection: close (resumes sessions)", fl,
           fl / bh);
    printf("%-44s %14.1f %9.2fx\n", "floor: wrk, Connection: close, full handshakes",
           full, full / bh);
    printf("%-44s %14.1f %9.2fx\n", "floor: bare OpenSSL, verified full handshake", os,
           os / bh);
    printf("%-44s %14.1f %9.2fx\n", "sdconnect TCP connect", tt, tt / btt);
    printf("%-44s %14.1f %9s\n", "blackbox_exporter tcp_connect", btt, "1.00x");
    printf("\none HTTPS run of %d endpoints took %.2f s wall (all at once)\n", n_endpoints,
           wall);
    printf("targets: HTTPS <= 0.50x blackbox (%s), TCP <= 0.20x blackbox (%s)\n",
           h / bh <= 0.5 ? "met" : "NOT met", tt / btt <= 0.2 ? "met" : "NOT met");
    json_add("endpoints", n_endpoints);
    json_add("sdconnect_https_cpu_us_per_probe", h);
    json_add("blackbox_http_2xx_cpu_us_per_probe", bh);
    json_add("https_vs_blackbox", h / bh);
    json_add("wrk_close_cpu_us_per_request", fl);
    json_add("wrk_close_full_handshake_cpu_us_per_request", full);
    json_add("openssl_full_handshake_cpu_us", os);
    json_add("sdconnect_tcp_cpu_us_per_probe", tt);
    json_add("blackbox_tcp_connect_cpu_us_per_probe", btt);
    json_add("tcp_vs_blackbox", tt / btt);
    json_add("https_run_wall_s", wall);
    printf("%s}\n", bench_json);
  }
  rc = 0;
out:
  sdc_prober_free(pr);
  sdc_pool_free(bbpool);
  sdc_target_free(bbt); /* after its pool */
  sdc_pool_free(pool);
  sdc_pool_opts_free(po);
  sdc_check_set_free(https);
  sdc_check_set_free(tcp);
  sdc_resolver_free(res);
  sdc_resolver_opts_free(ro);
  if(bb > 0)
    stop_proc(bb);
  if(nginx > 0)
    stop_proc(nginx);
  stop_sd(&sd);
  {
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if(system(cmd))
      rc = rc ? rc : 1;
  }
  return rc;
}
