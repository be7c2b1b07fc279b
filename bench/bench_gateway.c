/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_gateway: webhook calls per second through the gateway of
 * `sdconnect serve` beside the reverse proxy users would otherwise put in
 * front of a private webhook, nginx with `proxy_pass` to an upstream with
 * keep-alive and the same TLS settings (TLS to callers with the same
 * certificate; TLS to the webhook verified against the same CA, with the
 * webhook's host name for SNI and Host); and wrk directly against the
 * webhook as the ceiling. All in one run, rounds alternating, medians
 * shown.
 *   - The webhook: nginx (one worker, CPU 0) answering a WebhookResponse.
 *   - The gateway: `sdconnect serve` (CPU 1) with a Service Directory
 *     webhook resolved through its in-process local directory, calls made
 *     as Dialogflow CX makes them (the answer read as a WebhookResponse).
 *   - The peer: nginx (one worker, CPU 1), proxy_pass to an upstream with
 *     `keepalive`, proxy_ssl_verify on, proxy_ssl_name the webhook's host.
 *   - The load: wrk (one thread, CPU 0, beside the webhook, the same for
 *     every row), POSTing a WebhookRequest over keep-alive TLS.
 * Also: the CPU time each proxy spends per call (its process and children,
 * user + system, over the run): the rate one core allows, which is what
 * the calls/s show only while the proxy, not wrk and the webhook on CPU 0,
 * is the limit; each one's added latency at p50/p99 over direct (wrk's own
 * percentiles), and the resident memory of the gateway and of the nginx
 * proxy with 1,000 callers connected and calling at once.
 * Needs nginx and wrk (Debian: nginx-light wrk). Everything listens on
 * 127.0.0.1 and is stopped by PID.
 * Prints a table, then one JSON object on the last line.
 * Usage: bench_gateway [--sdconnect PATH] [--seconds S] [--rounds R]
 *                      [--callers N]
 */
#define _GNU_SOURCE /* wait4 */
#include "bench_common.h"
#include "certs.h"

#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define HOST "hook.internal"
#define MAX_ROUNDS 9
#define BIG_CALLERS 1000
#define ANSWER "{\"fulfillmentResponse\":{\"messages\":[{\"text\":{\"text\":[\"ok\"]}}]}}"

static char dir[64], proxy_dir[80];
static int seconds = 5, rounds = 3, callers = 64;

struct wrk_result {
  double rps, p50_ms, p99_ms;
  long errors; /* non-2xx answers and socket errors */
};

static const char *path(const char *name) { return bench_path(dir, name); }

static int write_file(const char *name, const char *text)
{
  FILE *f = fopen(path(name), "w");

  if(!f)
    return -1;
  fputs(text, f);
  return fclose(f);
}

static void make_certs(char *ca_b64, size_t cap)
{
  struct tcert_opts ca_o = {"bench CA", NULL, -1, 30, true, false};
  struct tcert_opts hook_o = {HOST, "DNS:" HOST, -1, 30, false, false};
  struct tcert_opts gw_o = {"127.0.0.1", "IP:127.0.0.1", -1, 30, false, false};
  struct tcert *ca = tcert_new(&ca_o, NULL), *hook = tcert_new(&hook_o, ca);
  struct tcert *gw = tcert_new(&gw_o, ca);
  unsigned char der[4096];
  size_t n;
  FILE *f;

  tcert_write(ca, dir, "ca");
  tcert_write_der(ca, dir, "ca");
  tcert_write(hook, dir, "hook");
  tcert_write(gw, dir, "gw");
  tcert_free(ca);
  tcert_free(hook);
  tcert_free(gw);
  f = fopen(path("ca.der"), "rb");
  n = f ? fread(der, 1, sizeof(der), f) : 0;
  if(f)
    fclose(f);
  if(cap > 4 * n / 3 + 4)
    EVP_EncodeBlock((unsigned char *)ca_b64, der, (int)n);
}

/* wrk's figure after `label` ("Requests/sec:", "50%", ...), or -1. */
static double figure(const char *out, const char *label)
{
  const char *p = strstr(out, label);
  double v;
  char unit[8] = "";

  if(!p || sscanf(p + strlen(label), " %lf%7[a-z]", &v, unit) < 1)
    return -1;
  if(!strcmp(unit, "us"))
    v /= 1000;
  else if(!strcmp(unit, "s"))
    v *= 1000;
  return v;
}

/* CPU microseconds per call of a run that took `cpu_s` seconds of CPU */
static double per_call_us(double cpu_s, const struct wrk_result *r)
{
  return r->rps > 0 && cpu_s >= 0 ? cpu_s * 1e6 / (r->rps * seconds) : 0;
}

/* wrk POSTing a WebhookRequest to `url` with `conns` connections for
 * `secs` seconds, on CPU 0. With `rss_of` > 0, that process's resident
 * memory is sampled meanwhile and its largest value put in *peak_kib. */
static int run_wrk(const char *url, int conns, int secs, pid_t rss_of, long *peak_kib,
                   struct wrk_result *r)
{
  char c[16], d[16], out[8192];
  int fds[2], status;
  size_t n = 0;
  ssize_t got;
  pid_t pid;

  memset(r, 0, sizeof(*r));
  snprintf(c, sizeof(c), "-c%d", conns);
  snprintf(d, sizeof(d), "-d%ds", secs);
  if(pipe(fds))
    return -1;
  pid = fork();
  if(pid == 0) {
    pin_to_cpu(0);
    dup2(fds[1], 1);
    close(fds[0]);
    execlp("wrk", "wrk", "-t1", c, d, "--latency", "-s", path("post.lua"), url,
           (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  if(peak_kib)
    *peak_kib = 0;
  for(;;) { /* read, sampling memory between reads */
    fd_set set;
    struct timeval tv = {0, 200000};
    FD_ZERO(&set);
    FD_SET(fds[0], &set);
    if(select(fds[0] + 1, &set, NULL, NULL, &tv) > 0) {
      if((got = read(fds[0], out + n, sizeof(out) - 1 - n)) <= 0)
        break;
      n += (size_t)got;
    }
    if(rss_of > 0 && peak_kib) {
      long k = rss_kib(rss_of);
      if(k > *peak_kib)
        *peak_kib = k;
    }
  }
  close(fds[0]);
  out[n] = '\0';
  if(waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
    return -1;
  r->rps = figure(out, "Requests/sec:");
  {
    const char *dist = strstr(out, "Latency Distribution"); /* "75.50%" is above it */
    r->p50_ms = dist ? figure(dist, " 50%") : -1;
    r->p99_ms = dist ? figure(dist, " 99%") : -1;
  }
  {
    const char *p = strstr(out, "Non-2xx or 3xx responses:");
    const char *s = strstr(out, "Socket errors:");
    if(p)
      r->errors += atol(p + 26);
    if(s) { /* connect N, read N, write N, timeout N */
      long a = 0, b = 0, cc = 0, dd = 0;
      sscanf(s, "Socket errors: connect %ld, read %ld, write %ld, timeout %ld", &a, &b, &cc,
             &dd);
      r->errors += a + b + cc + dd;
    }
  }
  return r->rps > 0 ? 0 : -1;
}

static pid_t start_gateway(const char *bin, int port)
{
  char cfg[200];
  pid_t pid;

  snprintf(cfg, sizeof(cfg), "%s", path("sdconnect.yaml"));
  pid = fork();
  if(pid == 0) {
    int null = open(path("sdconnect.log"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pin_to_cpu(1);
    dup2(null, 1);
    dup2(null, 2);
    execl(bin, "sdconnect", "serve", "--config", cfg, (char *)NULL);
    _exit(127);
  }
  for(int i = 0; i < 100; i++) { /* listening: 10 s */
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "curl -skf -o /dev/null -X POST -d '{}' "
             "https://127.0.0.1:%d/v1/webhooks/bench", port);
    if(!system(cmd))
      return pid;
    sleep_ms(100);
  }
  stop_proc(pid);
  return -1;
}

static int cmp(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double med(double *v, int n)
{
  qsort(v, (size_t)n, sizeof(double), cmp);
  return n ? v[n / 2] : -1;
}

int main(int argc, char **argv)
{
  const char *bin = "./sdconnect";
  char servers[2048], text[8192], ca_b64[4096] = "", url[128];
  int hook_port, proxy_port, gw_port, rc = 1;
  pid_t hook = -1, proxy = -1, gw = -1;
  double gw_rps[MAX_ROUNDS], nx_rps[MAX_ROUNDS], dir_rps[MAX_ROUNDS];
  double gw_cpu[MAX_ROUNDS], nx_cpu[MAX_ROUNDS]; /* the proxy's CPU us per call */
  double gw_p50[MAX_ROUNDS], nx_p50[MAX_ROUNDS], dir_p50[MAX_ROUNDS];
  double gw_p99[MAX_ROUNDS], nx_p99[MAX_ROUNDS], dir_p99[MAX_ROUNDS];
  long errors = 0, gw_rss = 0, nx_rss = 0, gw_idle = 0, nx_idle = 0;
  struct wrk_result big_gw = {0}, big_nx = {0};

  for(int i = 1; i < argc; i++) {
    if(!strcmp(argv[i], "--sdconnect") && i + 1 < argc)
      bin = argv[++i];
    else if(!strcmp(argv[i], "--seconds") && i + 1 < argc)
      seconds = atoi(argv[++i]);
    else if(!strcmp(argv[i], "--rounds") && i + 1 < argc)
      rounds = atoi(argv[++i]);
    else if(!strcmp(argv[i], "--callers") && i + 1 < argc)
      callers = atoi(argv[++i]);
    else
      rounds = 0;
  }
  if(rounds < 1 || rounds > MAX_ROUNDS || seconds < 1 || callers < 1 || callers > 4000 ||
     access(bin, X_OK)) {
    fprintf(stderr, "usage: bench_gateway [--sdconnect PATH] [--seconds S] [--rounds 1..9] "
            "[--callers N]\n");
    return 2;
  }
  if(system("command -v nginx >/dev/null && command -v wrk >/dev/null && "
            "command -v curl >/dev/null")) {
    fprintf(stderr, "bench_gateway: needs nginx, wrk and curl (Debian: apt-get install "
            "nginx-light wrk curl)\n");
    return 77;
  }
  signal(SIGPIPE, SIG_IGN);
  raise_fd_limit();
  snprintf(dir, sizeof(dir), "/tmp/bench-gateway-XXXXXX");
  if(!mkdtemp(dir))
    return 1;
  snprintf(proxy_dir, sizeof(proxy_dir), "%s/proxy", dir);
  mkdir(proxy_dir, 0700);
  make_certs(ca_b64, sizeof(ca_b64));
  hook_port = free_port();
  proxy_port = free_port();
  gw_port = free_port();

  /* the webhook */
  snprintf(servers, sizeof(servers),
           "  server { listen 127.0.0.1:%d ssl backlog=8192;\n"
           "    ssl_certificate %s/hook.pem; ssl_certificate_key %s/hook.key;\n"
           "    ssl_protocols TLSv1.2 TLSv1.3;\n"
           "    location /hook { default_type application/json; return 200 '%s'; } }\n",
           hook_port, dir, dir, ANSWER);
  if((hook = start_nginx_on(dir, servers, 0)) <= 0) {
    fprintf(stderr, "bench_gateway: the webhook (nginx) did not start (see %s/error.log)\n",
            dir);
    goto out;
  }
  /* the peer: nginx proxy_pass, upstream keep-alive, the same TLS on both sides */
  snprintf(servers, sizeof(servers),
           "  upstream hook { server 127.0.0.1:%d; keepalive 1024; }\n"
           "  server { listen 127.0.0.1:%d ssl backlog=8192;\n"
           "    ssl_certificate %s/gw.pem; ssl_certificate_key %s/gw.key;\n"
           "    ssl_protocols TLSv1.2 TLSv1.3;\n"
           "    location = /v1/webhooks/bench {\n"
           "      proxy_pass https://hook/hook;\n"
           "      proxy_http_version 1.1; proxy_set_header Connection \"\";\n"
           "      proxy_set_header Host " HOST ";\n"
           "      proxy_ssl_server_name on; proxy_ssl_name " HOST ";\n"
           "      proxy_ssl_verify on; proxy_ssl_trusted_certificate %s/ca.pem;\n"
           "      proxy_ssl_session_reuse on; proxy_read_timeout 5s; } }\n",
           hook_port, proxy_port, dir, dir, dir);
  if((proxy = start_nginx_on(proxy_dir, servers, 1)) <= 0) {
    fprintf(stderr, "bench_gateway: the nginx proxy did not start (see %s/error.log)\n",
            proxy_dir);
    goto out;
  }
  /* the gateway: the same webhook as a Dialogflow CX Service Directory webhook */
  snprintf(text, sizeof(text),
           "project: bench\nlocation: us-central1\nnamespaces:\n"
           "  - name: bench\n    services:\n      - name: hook\n        endpoints:\n"
           "          - {name: e0, address: 127.0.0.1, port: %d}\n", hook_port);
  write_file("registry.yaml", text);
  snprintf(text, sizeof(text),
           "name: projects/bench/locations/us-central1/agents/a/webhooks/bench\n"
           "displayName: bench\ntimeout: 5s\n"
           "serviceDirectory:\n"
           "  service: projects/bench/locations/us-central1/namespaces/bench/services/hook\n"
           "  genericWebService:\n    uri: https://" HOST "/hook\n"
           "    allowedCaCerts: ['%s']\n", ca_b64);
  write_file("hooks.yaml", text);
  snprintf(text, sizeof(text),
           "local: {listen: '127.0.0.1:0', memory: true, seed: registry.yaml}\n"
           "webhooks: {files: [hooks.yaml]}\n"
           "gateway: {listen: '127.0.0.1:%d', certFile: gw.pem, keyFile: gw.key,\n"
           "          maxConcurrent: 4000, maxConnections: 8000}\n"
           "admin: {listen: '127.0.0.1:0'}\n"
           "stateDir: %s\nlog: {level: warn}\n", gw_port, dir);
  write_file("sdconnect.yaml", text);
  if((gw = start_gateway(bin, gw_port)) <= 0) {
    fprintf(stderr, "bench_gateway: sdconnect serve did not start (see %s/sdconnect.log)\n",
            dir);
    goto out;
  }
  write_file("post.lua",
             "wrk.method = \"POST\"\n"
             "wrk.headers[\"Content-Type\"] = \"application/json\"\n"
             "wrk.body = '{\"detectIntentResponseId\":\"bench\",\"languageCode\":\"en\","
             "\"fulfillmentInfo\":{\"tag\":\"bench\"},\"sessionInfo\":{\"session\":"
             "\"projects/bench/locations/us-central1/agents/a/sessions/s\",\"parameters\":"
             "{\"order\":\"A-17\"}},\"text\":\"where is my order?\"}'\n");
  gw_idle = rss_kib(gw);
  nx_idle = rss_kib(proxy);

  for(int r = 0; r < rounds; r++) { /* warm, then alternate */
    struct wrk_result g, x, d;
    double cpu;
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/v1/webhooks/bench", gw_port);
    if(r == 0)
      run_wrk(url, callers, 1, 0, NULL, &g);
    cpu = cpu_seconds(gw);
    if(run_wrk(url, callers, seconds, 0, NULL, &g))
      goto wrk_failed;
    gw_cpu[r] = per_call_us(cpu_seconds(gw) - cpu, &g);
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/v1/webhooks/bench", proxy_port);
    if(r == 0)
      run_wrk(url, callers, 1, 0, NULL, &x);
    cpu = cpu_seconds(proxy);
    if(run_wrk(url, callers, seconds, 0, NULL, &x))
      goto wrk_failed;
    nx_cpu[r] = per_call_us(cpu_seconds(proxy) - cpu, &x);
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/hook", hook_port);
    if(run_wrk(url, callers, seconds, 0, NULL, &d))
      goto wrk_failed;
    gw_rps[r] = g.rps, gw_p50[r] = g.p50_ms, gw_p99[r] = g.p99_ms;
    nx_rps[r] = x.rps, nx_p50[r] = x.p50_ms, nx_p99[r] = x.p99_ms;
    dir_rps[r] = d.rps, dir_p50[r] = d.p50_ms, dir_p99[r] = d.p99_ms;
    errors += g.errors + x.errors + d.errors;
  }
  /* 1,000 callers at once: memory while they call */
  snprintf(url, sizeof(url), "https://127.0.0.1:%d/v1/webhooks/bench", gw_port);
  if(run_wrk(url, BIG_CALLERS, seconds, gw, &gw_rss, &big_gw))
    goto wrk_failed;
  snprintf(url, sizeof(url), "https://127.0.0.1:%d/v1/webhooks/bench", proxy_port);
  if(run_wrk(url, BIG_CALLERS, seconds, proxy, &nx_rss, &big_nx))
    goto wrk_failed;
  {
    double g = med(gw_rps, rounds), x = med(nx_rps, rounds), d = med(dir_rps, rounds);
    double g50 = med(gw_p50, rounds), x50 = med(nx_p50, rounds), d50 = med(dir_p50, rounds);
    double g99 = med(gw_p99, rounds), x99 = med(nx_p99, rounds), d99 = med(dir_p99, rounds);
    double gc = med(gw_cpu, rounds), xc = med(nx_cpu, rounds);
    printf("bench_gateway: %d callers over keep-alive TLS, %d s x %d rounds (medians); "
           "webhook and wrk on CPU 0, the proxy on CPU 1\n\n", callers, seconds, rounds);
    printf("%-46s %12s %9s %10s %10s\n", "", "calls/s", "vs nginx", "p50 ms", "p99 ms");
    printf("%-46s %12.0f %8.2fx %10.2f %10.2f\n", "sdconnect gateway (Dialogflow CX call)", g,
           x > 0 ? g / x : 0, g50, g99);
    printf("%-46s %12.0f %8.2fx %10.2f %10.2f\n", "peer: nginx proxy_pass, upstream keepalive",
           x, 1.0, x50, x99);
    printf("%-46s %12.0f %8.2fx %10.2f %10.2f\n", "ceiling: wrk directly against the webhook",
           d, x > 0 ? d / x : 0, d50, d99);
    printf("\nCPU per call (the proxy's)   gateway %.1f us, nginx %.1f us: calls/s one core "
           "allows, gateway %.0f, nginx %.0f (%.2fx)\n", gc, xc, gc > 0 ? 1e6 / gc : 0,
           xc > 0 ? 1e6 / xc : 0, gc > 0 ? xc / gc : 0);
    printf("added latency over direct   gateway p50 %+.2f ms, p99 %+.2f ms; "
           "nginx p50 %+.2f ms, p99 %+.2f ms\n", g50 - d50, g99 - d99, x50 - d50, x99 - d99);
    printf("%d callers at once            gateway %.0f calls/s, RSS %.1f MiB (idle %.1f); "
           "nginx %.0f calls/s, RSS %.1f MiB (idle %.1f)\n", BIG_CALLERS, big_gw.rps,
           gw_rss / 1024.0, gw_idle / 1024.0, big_nx.rps, nx_rss / 1024.0, nx_idle / 1024.0);
    printf("errors (non-2xx, socket)    %ld in the rounds; %ld gateway, %ld nginx at %d "
           "callers\n\n", errors, big_gw.errors, big_nx.errors, BIG_CALLERS);
    json_add("callers", callers);
    json_add("gateway_calls_per_s", g);
    json_add("nginx_proxy_calls_per_s", x);
    json_add("direct_calls_per_s", d);
    json_add("gateway_vs_nginx", x > 0 ? g / x : 0);
    json_add("gateway_cpu_us_per_call", gc);
    json_add("nginx_cpu_us_per_call", xc);
    json_add("gateway_vs_nginx_per_cpu", gc > 0 ? xc / gc : 0);
    json_add("gateway_p50_ms", g50);
    json_add("gateway_p99_ms", g99);
    json_add("nginx_p50_ms", x50);
    json_add("nginx_p99_ms", x99);
    json_add("direct_p50_ms", d50);
    json_add("direct_p99_ms", d99);
    json_add("gateway_added_p50_ms", g50 - d50);
    json_add("gateway_added_p99_ms", g99 - d99);
    json_add("gateway_rss_mib_1000_callers", gw_rss / 1024.0);
    json_add("nginx_rss_mib_1000_callers", nx_rss / 1024.0);
    json_add("gateway_calls_per_s_1000_callers", big_gw.rps);
    json_add("nginx_calls_per_s_1000_callers", big_nx.rps);
    json_add("errors", (double)(errors + big_gw.errors + big_nx.errors));
    printf("%s}\n", bench_json);
  }
  rc = 0;
  goto out;
wrk_failed:
  fprintf(stderr, "bench_gateway: wrk failed (see %s)\n", dir);
out:
  stop_proc(gw);
  stop_proc(proxy);
  stop_proc(hook);
  if(!rc) {
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if(system(cmd))
      rc = 1;
  }
  return rc;
}
