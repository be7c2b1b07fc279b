/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_daemon: `sdconnect serve` probing 10,000 endpoints (100 services
 * of 100, ResolveService's maximum, in a local directory: `sdconnect
 * sd-server` in its own process, standing where Google's API stands in a
 * deployment) over HTTPS with verified certificates, every 60 s, for
 * several periods; then
 * Prometheus's blackbox_exporter probing the same 10,000 targets with the
 * same CA and server name, driven by a Prometheus scraping each through
 * /probe at the same interval (the way blackbox is deployed).
 *
 * Measured over the periods after one warm-up period, per process: CPU
 * share (user + system time over wall time, % of one core), resident
 * memory (largest sample, one a second), and for sdconnect the scheduling
 * lag of every run (start minus due time, from the daemon's debug log)
 * with its p99. nginx (one worker) serves the targets on CPU 0 with the
 * directory and Prometheus; the daemon and blackbox_exporter each run on
 * CPU 1 in turn.
 * Everything listens on 127.0.0.1 and is stopped by PID.
 *
 * Needs nginx, prometheus and prometheus-blackbox-exporter (Debian:
 * nginx-light prometheus prometheus-blackbox-exporter).
 * Prints a table, then one JSON object on the last line.
 * Usage: bench_daemon [--sdconnect PATH] [--endpoints N] [--period S]
 *                     [--periods P]
 */
#include "bench_common.h"
#include "certs.h"

#include <sdconnect/sdconnect.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define HOST "orders.internal"
#define PER_SERVICE 100 /* ResolveService's maximum */
#define MAX_LAGS 100000

static char dir[64];
static int n_endpoints = 10000, period_s = 60, periods = 3;

static const char *path(const char *name) { return bench_path(dir, name); }

/* Start argv with stdout and stderr to `log`; on CPU `cpu`. */
static pid_t spawn(const char *const argv[], const char *log, int cpu)
{
  pid_t pid = fork();

  if(pid == 0) {
    FILE *f = fopen(log, "w");
    pin_to_cpu(cpu);
    if(f) {
      dup2(fileno(f), 1);
      dup2(fileno(f), 2);
    }
    execvp(argv[0], (char *const *)argv);
    _exit(127);
  }
  return pid;
}

/* GET http://127.0.0.1:port/path_query; the body (malloc'd) or NULL. */
static char *get(sdc_pool *pool, int port, const char *path_query)
{
  char url[512];
  sdc_target *t = NULL;
  const char *addr = "127.0.0.1";
  sdc_http_request *req = NULL;
  sdc_http_response *r = NULL;
  char *body = NULL;

  snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path_query);
  if(sdc_http_request_new(&req, url) || sdc_target_new(&t, "127.0.0.1", port, 0) ||
     sdc_target_set_addresses(t, &addr, &port, 1)) {
    sdc_http_request_free(req);
    sdc_target_free(t);
    return NULL;
  }
  sdc_http_request_set_timeout_ms(req, 30000);
  if(sdc_pool_request(pool, t, req, &r) == SDC_OK) {
    if(r->status == 200)
      body = strdup(r->body);
    sdc_http_response_free(r);
  }
  sdc_http_request_free(req);
  sdc_pool_forget_target(pool, t);
  sdc_target_free(t);
  return body;
}

/* How many lines of `text` start with `prefix` and end with " 1". */
static int count_ones(const char *text, const char *prefix)
{
  int n = 0;

  for(const char *p = text; p && *p;) {
    const char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    if(!strncmp(p, prefix, strlen(prefix)) && len > 2 && !strncmp(p + len - 2, " 1", 2))
      n++;
    p = eol ? eol + 1 : NULL;
  }
  return n;
}

struct sample {
  double cpu_s, max_rss_mib, wall_s;
};

/* Watch `pid` for `secs`: its CPU seconds and largest resident memory. */
static struct sample watch(pid_t pid, int secs)
{
  struct sample s = {0};
  double t0 = now_s(), c0 = proc_cpu_s(pid);

  while(now_s() - t0 < secs) {
    double mib = (double)rss_kib(pid) / 1024;
    if(mib > s.max_rss_mib)
      s.max_rss_mib = mib;
    sleep_ms(1000);
  }
  s.cpu_s = proc_cpu_s(pid) - c0;
  s.wall_s = now_s() - t0;
  return s;
}

/* ---- the files ---------------------------------------------------------------- */
/* The directory's registry: n_services of PER_SERVICE endpoints at `port`. */
static int write_seed(int port, int n_services)
{
  FILE *seed = fopen(path("registry.yaml"), "w");

  if(!seed)
    return -1;
  fprintf(seed, "project: bench\nlocation: us-central1\nnamespaces:\n  - name: bench\n"
                "    services:\n");
  for(int s = 0; s < n_services; s++) {
    fprintf(seed, "      - name: svc-%d\n        endpoints:\n", s);
    for(int e = 0; e < PER_SERVICE; e++)
      fprintf(seed, "          - {name: ep-%d, address: 127.0.0.1, port: %d}\n", e, port);
  }
  return fclose(seed);
}

/* The daemon's file: a check per service, the directory at `sd_port`. */
static int write_config(int n_services, int sd_port)
{
  FILE *cfg = fopen(path("sdconnect.yaml"), "w");

  if(!cfg)
    return -1;
  fprintf(cfg, "directory: {endpoint: '127.0.0.1:%d', insecure: true, cacheTtl: 30s}\n"
               "checks:\n", sd_port);
  for(int s = 0; s < n_services; s++)
    fprintf(cfg,
            "  - {displayName: svc-%d, checkerType: VPC_CHECKERS, monitoredResource: {type: "
            "servicedirectory_service, labels: {project_id: bench, location: us-central1, "
            "namespace_name: bench, service_name: svc-%d}}, httpCheck: {useSsl: true, "
            "validateSsl: true, path: /}, timeout: 10s, sdconnect: {period: %ds, host: " HOST
            ", caFile: ca.pem, maxEndpoints: 100}}\n",
            s, s, period_s);
  fprintf(cfg, "admin: {listen: '127.0.0.1:0'}\nprobe: {maxRunning: 128}\n"
               "stateDir: %s\nlog: {level: debug}\n", dir);
  return fclose(cfg);
}

static int write_blackbox_files(int port, int bb_port)
{
  FILE *bb = fopen(path("blackbox.yml"), "w"), *prom = fopen(path("prometheus.yml"), "w");

  if(!bb || !prom) {
    if(bb)
      fclose(bb);
    if(prom)
      fclose(prom);
    return -1;
  }
  fprintf(bb, "modules:\n  https_2xx:\n    prober: http\n    timeout: 10s\n    http:\n"
              "      method: GET\n      fail_if_not_ssl: true\n"
              "      preferred_ip_protocol: ip4\n"
              "      tls_config: {ca_file: %s/ca.pem, server_name: " HOST "}\n", dir);
  fclose(bb);
  fprintf(prom, "global: {scrape_interval: %ds, scrape_timeout: 10s}\n"
                "scrape_configs:\n  - job_name: blackbox\n    metrics_path: /probe\n"
                "    params: {module: [https_2xx]}\n    static_configs:\n", period_s);
  for(int i = 0; i < n_endpoints; i++) /* the label keeps equal targets apart */
    fprintf(prom, "      - {targets: ['https://127.0.0.1:%d/'], labels: {ep: '%d'}}\n", port,
            i);
  fprintf(prom, "    relabel_configs:\n"
                "      - {source_labels: [__address__], target_label: __param_target}\n"
                "      - {target_label: __address__, replacement: '127.0.0.1:%d'}\n",
          bb_port);
  fclose(prom);
  return 0;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Lags (ms) of runs the daemon logged after `skip` of them (warm-up). */
static int read_lags(const char *log, int skip, double *lags, int cap)
{
  FILE *f = fopen(log, "r");
  char line[1024];
  int n = 0, seen = 0;

  if(!f)
    return 0;
  while(fgets(line, sizeof(line), f) && n < cap) {
    const char *p = strstr(line, "msg=\"run started\"");
    if(p && (p = strstr(p, "lag_ms=")) && seen++ >= skip)
      lags[n++] = atof(p + 7);
  }
  fclose(f);
  return n;
}

static int wait_port_file(const char *file, int secs)
{
  for(int i = 0; i < secs * 10; i++) {
    FILE *f = fopen(file, "r");
    int port = 0;
    if(f) {
      if(fscanf(f, "%d", &port) != 1)
        port = 0;
      fclose(f);
      if(port > 0)
        return port;
    }
    sleep_ms(100);
  }
  return -1;
}

int main(int argc, char **argv)
{
  const char *bin = "./sdconnect";
  char servers[400], bbl[64], bbc[160], prc[160], prs[160], prl[64];
  int port, n_services, bb_port, prom_port, admin_port, rc = 1, n_lags = 0, ok_ours = 0;
  int ok_bb = -1;
  pid_t nginx = -1, daemon_pid = -1, bb = -1, prom = -1, sd = -1;
  int sd_port;
  double sd_rss_mib = 0;
  sdc_pool *pool = NULL;
  struct sample ours = {0}, theirs = {0}, driver = {0};
  static double lags[MAX_LAGS];
  double p99 = 0, max_lag = 0;

  for(int i = 1; i < argc; i++) {
    if(!strcmp(argv[i], "--endpoints") && i + 1 < argc)
      n_endpoints = atoi(argv[++i]);
    else if(!strcmp(argv[i], "--period") && i + 1 < argc)
      period_s = atoi(argv[++i]);
    else if(!strcmp(argv[i], "--periods") && i + 1 < argc)
      periods = atoi(argv[++i]);
    else if(!strcmp(argv[i], "--sdconnect") && i + 1 < argc)
      bin = argv[++i];
    else
      periods = 0;
  }
  if(n_endpoints < PER_SERVICE || period_s < 10 || period_s > 3600 || periods < 1 ||
     periods > 60 || access(bin, X_OK)) {
    fprintf(stderr, "usage: bench_daemon [--sdconnect PATH] [--endpoints N>=100] "
                    "[--period 10..3600 s] [--periods 1..60]\n");
    return 2;
  }
  n_services = n_endpoints / PER_SERVICE;
  n_endpoints = n_services * PER_SERVICE;
  if(system("command -v nginx >/dev/null && command -v prometheus >/dev/null && "
            "command -v prometheus-blackbox-exporter >/dev/null")) {
    fprintf(stderr, "bench_daemon: needs nginx, prometheus and prometheus-blackbox-exporter "
                    "(Debian: apt-get install nginx-light prometheus "
                    "prometheus-blackbox-exporter)\n");
    return 77;
  }
  signal(SIGPIPE, SIG_IGN);
  raise_fd_limit();
  snprintf(dir, sizeof(dir), "/tmp/bench-daemon-XXXXXX");
  if(!mkdtemp(dir))
    return 1;
  {
    struct tcert_opts ca_o = {"bench CA", NULL, -1, 30, true, false};
    struct tcert_opts srv_o = {HOST, "DNS:" HOST, -1, 30, false, false};
    struct tcert *ca = tcert_new(&ca_o, NULL), *srv = tcert_new(&srv_o, ca);
    tcert_write(ca, dir, "ca");
    tcert_write(srv, dir, "server");
    tcert_free(ca);
    tcert_free(srv);
  }
  port = free_port();
  snprintf(servers, sizeof(servers),
           "  ssl_certificate %s/server.pem;\n  ssl_certificate_key %s/server.key;\n"
           "  server { listen 127.0.0.1:%d ssl backlog=8192; "
           "location / { return 200 \"ok\\n\"; } }\n",
           dir, dir, port);
  if((nginx = start_nginx(dir, servers)) <= 0) {
    fprintf(stderr, "bench_daemon: nginx did not start (see %s/error.log)\n", dir);
    goto out;
  }
  {
    sdc_pool_opts *po = NULL; /* /metrics of 10,000 endpoints is tens of MB */
    if(sdc_global_init(NULL) || sdc_pool_opts_new(&po) ||
       sdc_pool_opts_set_max_body(po, 512u << 20) || sdc_pool_new(&pool, po) ||
       write_seed(port, n_services)) {
      sdc_pool_opts_free(po);
      goto out;
    }
    sdc_pool_opts_free(po);
  }
  {
    const char *argv_sd[] = {bin, "sd-server", "--memory", "--listen", "127.0.0.1:0",
                             "--port-file", path("sd.port"), "--seed", path("registry.yaml"),
                             NULL};
    sd = spawn(argv_sd, path("sd.log"), 0);
    if((sd_port = wait_port_file(path("sd.port"), 60)) < 0 ||
       write_config(n_services, sd_port)) {
      fprintf(stderr, "bench_daemon: the directory did not start (see %s)\n", path("sd.log"));
      goto out;
    }
  }

  /* ---- sdconnect serve ---- */
  {
    const char *argv_d[] = {bin, "serve", "--config", path("sdconnect.yaml"), "--port-file",
                            path("admin.port"), NULL};
    char *metrics;
    fprintf(stderr, "bench_daemon: sdconnect serve, %d endpoints every %d s: %d s warm-up, "
                    "%d s measured\n", n_endpoints, period_s, period_s, periods * period_s);
    daemon_pid = spawn(argv_d, path("daemon.log"), 1);
    if((admin_port = wait_port_file(path("admin.port"), 60)) < 0) {
      char cmd[300];
      fprintf(stderr, "bench_daemon: the daemon did not start; the end of its log:\n");
      snprintf(cmd, sizeof(cmd), "tail -n 8 %s >&2", path("daemon.log"));
      if(system(cmd))
        fprintf(stderr, "(no log)\n");
      goto out;
    }
    sleep_ms(period_s * 1000);
    {
      int warm = read_lags(path("daemon.log"), 0, lags, MAX_LAGS);
      ours = watch(daemon_pid, periods * period_s);
      n_lags = read_lags(path("daemon.log"), warm, lags, MAX_LAGS);
    }
    metrics = get(pool, admin_port, "/metrics");
    ok_ours = count_ones(metrics, "probe_success{");
    sd_rss_mib = (double)rss_kib(sd) / 1024;
    if(ok_ours < n_endpoints) {
      char cmd[300];
      fprintf(stderr, "bench_daemon: %d of %d endpoints pass (metrics: %s); the first "
                      "failures:\n", ok_ours, n_endpoints, metrics ? "read" : "not read");
      snprintf(cmd, sizeof(cmd), "grep -m 3 'probe failed' %s >&2", path("daemon.log"));
      if(system(cmd))
        fprintf(stderr, "(none logged)\n");
    }
    free(metrics);
    stop_proc(daemon_pid);
    daemon_pid = -1;
  }
  qsort(lags, (size_t)n_lags, sizeof(double), cmp_double);
  if(n_lags) {
    p99 = lags[(int)((n_lags - 1) * 0.99)];
    max_lag = lags[n_lags - 1];
  }

  /* ---- blackbox_exporter, driven by Prometheus ---- */
  bb_port = free_port();
  prom_port = free_port();
  if(write_blackbox_files(port, bb_port))
    goto out;
  snprintf(bbl, sizeof(bbl), "--web.listen-address=127.0.0.1:%d", bb_port);
  snprintf(bbc, sizeof(bbc), "--config.file=%s", path("blackbox.yml"));
  snprintf(prl, sizeof(prl), "--web.listen-address=127.0.0.1:%d", prom_port);
  snprintf(prc, sizeof(prc), "--config.file=%s", path("prometheus.yml"));
  snprintf(prs, sizeof(prs), "--storage.tsdb.path=%s", path("tsdb"));
  {
    const char *argv_b[] = {"prometheus-blackbox-exporter", bbc, bbl, "--log.level=error",
                            NULL};
    const char *argv_p[] = {"prometheus", prc, prl, prs, "--log.level=error", NULL};
    char *answer;
    fprintf(stderr, "bench_daemon: blackbox_exporter driven by Prometheus, same targets\n");
    bb = spawn(argv_b, path("blackbox.log"), 1);
    prom = spawn(argv_p, path("prometheus.log"), 0);
    sleep_ms(period_s * 1000);
    {
      double p0 = proc_cpu_s(prom), t0 = now_s();
      theirs = watch(bb, periods * period_s);
      driver.cpu_s = proc_cpu_s(prom) - p0;
      driver.wall_s = now_s() - t0;
      driver.max_rss_mib = (double)rss_kib(prom) / 1024;
    }
    answer = get(pool, prom_port, "/api/v1/query?query=sum(probe_success)");
    if(answer && strstr(answer, "\"value\":[")) {
      const char *v = strchr(strstr(answer, "\"value\":[") + 9, '"');
      ok_bb = v ? atoi(v + 1) : -1;
    }
    free(answer);
  }

  printf("bench_daemon: %d endpoints (%d services of %d), HTTPS verified, every %d s; "
         "%d periods measured after 1 warm-up\n\n", n_endpoints, n_services, PER_SERVICE,
         period_s, periods);
  printf("%-34s %18s %26s\n", "", "sdconnect serve", "blackbox_exporter (peer)");
  printf("%-34s %18.1f %26.1f\n", "CPU, % of one core", 100 * ours.cpu_s / ours.wall_s,
         100 * theirs.cpu_s / theirs.wall_s);
  printf("%-34s %18.1f %26.1f\n", "resident memory, MiB (largest)", ours.max_rss_mib,
         theirs.max_rss_mib);
  printf("%-34s %18.2fx %25s\n", "memory vs peer", ours.max_rss_mib / theirs.max_rss_mib,
         "1.00x");
  printf("%-34s %18.1f %26s\n", "scheduling lag p99, ms", p99, "(Prometheus schedules)");
  printf("%-34s %18.1f %26s\n", "scheduling lag max, ms", max_lag, "");
  printf("%-34s %18d %26d\n", "endpoints passing at the end", ok_ours, ok_bb);
  printf("%-34s %18.1f %26s\n", "its directory (sd-server), MiB", sd_rss_mib, "-");
  printf("%-34s %18s %26.1f\n", "driver: Prometheus CPU %", "-",
         100 * driver.cpu_s / driver.wall_s);
  printf("%-34s %18s %26.1f\n", "driver: Prometheus memory, MiB", "-", driver.max_rss_mib);
  printf("\nruns measured: %d; targets: memory <= 64 MiB (%s), p99 lag <= 50 ms (%s)\n",
         n_lags, ours.max_rss_mib <= 64 ? "met" : "NOT met", p99 <= 50 ? "met" : "NOT met");
  json_add("endpoints", n_endpoints);
  json_add("period_s", period_s);
  json_add("periods", periods);
  json_add("sdconnect_cpu_pct", 100 * ours.cpu_s / ours.wall_s);
  json_add("sdconnect_rss_mib", ours.max_rss_mib);
  json_add("sdconnect_lag_p99_ms", p99);
  json_add("sdconnect_lag_max_ms", max_lag);
  json_add("sdconnect_runs_measured", n_lags);
  json_add("sdconnect_passing", ok_ours);
  json_add("directory_rss_mib", sd_rss_mib);
  json_add("blackbox_cpu_pct", 100 * theirs.cpu_s / theirs.wall_s);
  json_add("blackbox_rss_mib", theirs.max_rss_mib);
  json_add("blackbox_passing", ok_bb);
  json_add("rss_vs_blackbox", ours.max_rss_mib / theirs.max_rss_mib);
  json_add("prometheus_cpu_pct", 100 * driver.cpu_s / driver.wall_s);
  printf("%s}\n", bench_json);
  rc = 0;
out:
  sdc_pool_free(pool);
  if(daemon_pid > 0)
    stop_proc(daemon_pid);
  if(prom > 0)
    stop_proc(prom);
  if(bb > 0)
    stop_proc(bb);
  if(nginx > 0)
    stop_proc(nginx);
  if(sd > 0)
    stop_proc(sd);
  sdc_global_cleanup();
  {
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if(system(cmd))
      rc = rc ? rc : 1;
  }
  return rc;
}
