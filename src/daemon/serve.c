/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sdconnect serve: run the configured checks on their periods and report
 * them (Prometheus metrics on the admin listener, JSON result lines).
 *
 * IMPLEMENTATION NOTES
 * - One thread, one loop: the pool's poll (sdc_pool_turn) waits for the
 *   network, the admin listener's epoll descriptor and a signalfd; the
 *   scheduler says how long it may sleep.
 * - Metrics use blackbox_exporter's names (probe_success,
 *   probe_duration_seconds, probe_http_duration_seconds{phase}, ...) with
 *   check, service and endpoint labels, so its dashboards and alerts work
 *   once the job label is changed; sdconnect's own are sdconnect_*.
 *   Series of endpoints that left the directory are dropped.
 * - SIGHUP reloads the checks: a file with problems is reported and the
 *   running configuration stays; checks keep their schedule (their phase
 *   comes from their id). Replaced configurations are kept until exit,
 *   since a run of an old check may still be going.
 * - SIGTERM/SIGINT: no new runs; running ones get a grace time; exit 0.
 */
#include "admin.h"
#include "dev.h"
#include "history.h"
#include "registry.h"
#include "seed.h"
#include "serve.h"
#include "server.h"

#include <grpc/grpc.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#define GRACE_MS 10000
#define MAX_CONFIGS 64 /* kept across reloads */

/* The endpoints a check reported last time: their series go when they
 * leave the directory. */
struct seen {
  char *check;
  char **endpoints;
  size_t n;
};

struct daemon {
  const char *config_path;
  sdc_serve_config *configs[MAX_CONFIGS];
  size_t n_configs;
  sdc_serve_config *cfg; /* the running one */
  sdc_resolver *res;
  sdc_pool *pool;
  sdc_prober *pr;
  sdc_scheduler *sched;
  sdc_metrics *m;
  struct admin *admin;
  struct history *history;
  uint64_t dropped_told;
  FILE *results;
  int sigfd;
  bool stopping, reload;
  uint64_t stop_by;
  struct seen *seen;
  size_t n_seen;
  uint64_t skipped_told;
  struct lsd_registry *reg;   /* the local directory, when configured */
  struct lsd_server *lsd;
  char local_ep[300];
  struct {
    sdc_metric *success, *duration, *phase, *status, *version, *expiry, *tls, *length,
        *check_success, *failures, *runs, *skipped, *lag, *stale, *rss, *fds,
        *history_dropped;
  } f;
};

static int log_level = 2; /* error 0, warn 1, info 2, debug 3 */

static void logf_(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void logf_(int level, const char *fmt, ...)
{
  static const char *const names[] = {"error", "warn", "info", "debug"};
  va_list ap;

  if(level > log_level)
    return;
  fprintf(stderr, "level=%s comp=daemon ", names[level]);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

static uint64_t mono_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- metrics ---------------------------------------------------------------- */
static int families(struct daemon *d)
{
  static const char *const ep[] = {"check", "service", "endpoint"};
  static const char *const ep_phase[] = {"check", "service", "endpoint", "phase"};
  static const char *const ep_tls[] = {"check", "service", "endpoint", "version"};
  static const char *const ck[] = {"check"};
  static const char *const ck_reason[] = {"check", "reason"};
  sdc_metrics *m = d->m;
  int bad = 0;

#define FAM(slot, name, help, type, labels, n)                                 \
  bad |= sdc_metrics_family(m, name, help, type, labels, n, NULL, 0, &d->f.slot) != SDC_OK
  FAM(success, "probe_success", "Whether the probe of the endpoint passed.",
      SDC_METRIC_GAUGE, ep, 3);
  FAM(duration, "probe_duration_seconds", "How long the probe took, seconds.",
      SDC_METRIC_GAUGE, ep, 3);
  FAM(phase, "probe_http_duration_seconds", "Duration of each phase of the probe.",
      SDC_METRIC_GAUGE, ep_phase, 4);
  FAM(status, "probe_http_status_code", "HTTP status of the final answer.",
      SDC_METRIC_GAUGE, ep, 3);
  FAM(version, "probe_http_version", "HTTP version of the final answer.",
      SDC_METRIC_GAUGE, ep, 3);
  FAM(expiry, "probe_ssl_earliest_cert_expiry",
      "Earliest notAfter of the server's chain, Unix seconds.", SDC_METRIC_GAUGE, ep, 3);
  FAM(tls, "probe_tls_version_info", "The TLS version, as a label.", SDC_METRIC_GAUGE,
      ep_tls, 4);
  FAM(length, "probe_http_content_length", "Bytes of the answer's body read.",
      SDC_METRIC_GAUGE, ep, 3);
  FAM(check_success, "sdconnect_check_success",
      "Whether the check passed (every endpoint, or one with pass: any).",
      SDC_METRIC_GAUGE, ck, 1);
  FAM(failures, "sdconnect_probe_failures_total", "Failed probes by reason.",
      SDC_METRIC_COUNTER, ck_reason, 2);
  FAM(runs, "sdconnect_check_runs_total", "Runs of the check.", SDC_METRIC_COUNTER, ck, 1);
  FAM(skipped, "sdconnect_scheduler_skipped_runs_total",
      "Runs skipped: due while the last was still going, or missed.", SDC_METRIC_COUNTER,
      NULL, 0);
  {
    static const double lag_buckets[] = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
                                         0.1,   0.25,  0.5,   1,    2.5,  5, 10};
    bad |= sdc_metrics_family(m, "sdconnect_scheduler_lag_seconds",
                              "Start minus due time of each run.", SDC_METRIC_HISTOGRAM, NULL,
                              0, lag_buckets, sizeof(lag_buckets) / sizeof(lag_buckets[0]),
                              &d->f.lag) != SDC_OK;
  }
  FAM(stale, "sdconnect_directory_stale",
      "1 when the directory did not answer and its last answer was used.",
      SDC_METRIC_GAUGE, ck, 1);
  FAM(history_dropped, "sdconnect_history_dropped_total",
      "Reports not written to the history because its writer fell behind.",
      SDC_METRIC_COUNTER, NULL, 0);
  FAM(rss, "process_resident_memory_bytes", "Resident memory size in bytes.",
      SDC_METRIC_GAUGE, NULL, 0);
  FAM(fds, "process_open_fds", "Number of open file descriptors.", SDC_METRIC_GAUGE,
      NULL, 0);
#undef FAM
  return bad ? -1 : 0;
}

/* Resident memory and open descriptors, at most once a second. */
static void process_metrics(struct daemon *d, uint64_t now)
{
  static uint64_t last;
  FILE *f;
  long pages = 0, rss = 0;
  int n = 0;
  DIR *dir;

  if(now - last < 1000 && last)
    return;
  last = now;
  if((f = fopen("/proc/self/statm", "r"))) {
    if(fscanf(f, "%ld %ld", &pages, &rss) == 2)
      sdc_metric_set(d->f.rss, NULL, (double)rss * (double)sysconf(_SC_PAGESIZE));
    fclose(f);
  }
  if((dir = opendir("/proc/self/fd"))) {
    while(readdir(dir))
      n++;
    closedir(dir);
    sdc_metric_set(d->f.fds, NULL, n - 3); /* ., .. and the directory's own */
  }
}

/* Drop the series of endpoints `rep` no longer lists; remember its list. */
static void forget_gone(struct daemon *d, const sdc_probe_report *rep)
{
  const char *id = sdc_check_id(rep->check), *svc = rep->service ? rep->service : "";
  struct seen *s = NULL;
  char **now = calloc(rep->n_results ? rep->n_results : 1, sizeof(char *));

  for(size_t i = 0; i < d->n_seen; i++)
    if(!strcmp(d->seen[i].check, id))
      s = &d->seen[i];
  if(!s) {
    struct seen *g = realloc(d->seen, (d->n_seen + 1) * sizeof(*g));
    if(!g || !now) {
      free(now);
      return;
    }
    d->seen = g;
    s = &d->seen[d->n_seen++];
    memset(s, 0, sizeof(*s));
    s->check = strdup(id);
  }
  for(size_t k = 0; k < s->n; k++) {
    bool still = false;
    for(size_t i = 0; i < rep->n_results && !still; i++)
      still = rep->results[i].endpoint && !strcmp(rep->results[i].endpoint, s->endpoints[k]);
    if(!still) {
      const char *v[] = {id, svc, s->endpoints[k]};
      sdc_metric_remove(d->f.success, v);
      sdc_metric_remove(d->f.duration, v);
      sdc_metric_remove(d->f.status, v);
      sdc_metric_remove(d->f.version, v);
      sdc_metric_remove(d->f.expiry, v);
      sdc_metric_remove(d->f.length, v);
      for(int ph = 0; ph < 5; ph++) {
        static const char *const phases[] = {"resolve", "connect", "tls", "processing",
                                             "transfer"};
        const char *pv[] = {id, svc, s->endpoints[k], phases[ph]};
        sdc_metric_remove(d->f.phase, pv);
      }
      for(int vi = 0; vi < 4; vi++) {
        static const char *const versions[] = {"TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"};
        const char *tv[] = {id, svc, s->endpoints[k], versions[vi]};
        sdc_metric_remove(d->f.tls, tv);
      }
      logf_(2, "msg=\"endpoint left the directory\" check=%s endpoint=%s", id,
            s->endpoints[k]);
    }
    free(s->endpoints[k]);
  }
  free(s->endpoints);
  s->endpoints = now;
  s->n = 0;
  for(size_t i = 0; now && i < rep->n_results; i++)
    if(rep->results[i].endpoint && (now[s->n] = strdup(rep->results[i].endpoint)))
      s->n++;
}

static void on_report(const sdc_probe_report *rep, void *ud)
{
  struct daemon *d = ud;
  const char *id = sdc_check_id(rep->check), *svc = rep->service ? rep->service : "";
  const char *ck[] = {id};

  sdc_metric_add(d->f.runs, ck, 1);
  sdc_metric_set(d->f.check_success, ck, rep->passed);
  sdc_metric_set(d->f.stale, ck, rep->directory_stale);
  forget_gone(d, rep);
  if(d->history)
    history_record(d->history, rep);
  for(size_t i = 0; i < rep->n_results; i++) {
    const sdc_probe_result *r = &rep->results[i];
    const char *v[] = {id, svc, r->endpoint ? r->endpoint : ""};
    char tlsv[32];
    sdc_metric_set(d->f.success, v, r->passed);
    sdc_metric_set(d->f.duration, v, r->total_ms / 1000);
    if(r->http_status)
      sdc_metric_set(d->f.status, v, (double)r->http_status);
    if(r->http_version)
      sdc_metric_set(d->f.version, v, r->http_version == 2 ? 2.0 : 1.1);
    if(r->cert_expiry)
      sdc_metric_set(d->f.expiry, v, (double)r->cert_expiry);
    sdc_metric_set(d->f.length, v, (double)r->body_bytes);
    if(*r->tls_version) { /* "TLSv1.3" -> "TLS 1.3", as blackbox says it */
      const char *tv[4] = {id, svc, v[2], tlsv};
      snprintf(tlsv, sizeof(tlsv), "TLS %s", r->tls_version + (strncmp(r->tls_version,
                                                                "TLSv", 4) ? 0 : 4));
      sdc_metric_set(d->f.tls, tv, 1);
    }
    {
      const double connect = r->connect_ms, tls = r->tls_ms > r->connect_ms
                                                        ? r->tls_ms - r->connect_ms : 0;
      const double base = r->tls_ms > 0 ? r->tls_ms : r->connect_ms;
      const double processing = r->first_byte_ms > base ? r->first_byte_ms - base : 0;
      const double transfer = r->total_ms > r->first_byte_ms && r->first_byte_ms > 0
                                  ? r->total_ms - r->first_byte_ms : 0;
      const char *phases[] = {"resolve", "connect", "tls", "processing", "transfer"};
      const double ms[] = {rep->resolve_ms, connect, tls, processing, transfer};
      for(int k = 0; k < 5; k++) {
        const char *pv[] = {id, svc, v[2], phases[k]};
        sdc_metric_set(d->f.phase, pv, ms[k] / 1000);
      }
    }
    if(!r->passed) {
      const char *fv[] = {id, sdc_probe_reason_name(r->reason)};
      sdc_metric_add(d->f.failures, fv, 1);
      logf_(1, "msg=\"probe failed\" check=%s endpoint=%s reason=%s", id,
            v[2], sdc_probe_reason_name(r->reason));
    }
    if(d->results) {
      char *line = sdc_probe_result_json(rep, i);
      if(line) {
        fputs(line, d->results);
        fputc('\n', d->results);
        fflush(d->results);
      }
      sdc_free(line);
    }
  }
}

static void on_start(const sdc_check *c, double lag_ms, void *ud)
{
  struct daemon *d = ud;

  sdc_metric_observe(d->f.lag, NULL, lag_ms / 1000);
  logf_(3, "msg=\"run started\" check=%s lag_ms=%.3f", sdc_check_id(c), lag_ms);
}

static bool ready(void *ud, char *why, size_t cap)
{
  struct daemon *d = ud;
  size_t n = sdc_check_set_count(d->cfg->checks);

  if(d->stopping) {
    snprintf(why, cap, "stopping");
    return false;
  }
  for(size_t i = 0; i < n; i++) {
    bool ran = false;
    for(size_t k = 0; k < d->n_seen && !ran; k++)
      ran = !strcmp(d->seen[k].check, sdc_check_id(sdc_check_set_get(d->cfg->checks, i)));
    if(!ran) {
      snprintf(why, cap, "check %s has not run yet",
               sdc_check_id(sdc_check_set_get(d->cfg->checks, i)));
      return false;
    }
  }
  return true;
}

/* ---- the status page: /status.json from the history ------------------------ */
struct status_ask {
  struct daemon *d;
  struct admin_pending *p;
};

/* On the loop: the summary of the running checks; those that have not run
 * yet are listed too (up: null), in the configuration's order after. */
static void on_summary(json_t *sum, void *ud)
{
  struct status_ask *ask = ud;
  const sdc_check_set *set = ask->d->cfg->checks;
  json_t *checks = json_object_get(sum, "checks");
  char *text = NULL;

  for(size_t i = 0; sum && i < sdc_check_set_count(set); i++) {
    const char *id = sdc_check_id(sdc_check_set_get(set, i));
    const char *svc = sdc_check_service(sdc_check_set_get(set, i));
    bool listed = false;
    size_t k;
    json_t *c;
    json_array_foreach(checks, k, c) {
      const char *cid = json_string_value(json_object_get(c, "check"));
      listed |= cid && !strcmp(cid, id);
    }
    if(!listed)
      json_array_append_new(checks, json_pack("{s:s s:s? s:n s:n s:[]}", "check", id,
                                              "service", svc, "up", "lastRun", "endpoints"));
  }
  if(sum)
    text = json_dumps(sum, JSON_COMPACT | JSON_REAL_PRECISION(10));
  admin_answer(ask->p, text, text ? strlen(text) : 0);
  free(text);
  free(ask);
}

static void on_status(void *ud, struct admin_pending *p)
{
  struct daemon *d = ud;
  const sdc_check_set *set = d->cfg->checks;
  size_t n = sdc_check_set_count(set);
  const char **ids = calloc(n ? n : 1, sizeof(char *));
  struct status_ask *ask = malloc(sizeof(*ask));

  for(size_t i = 0; ids && i < n; i++)
    ids[i] = sdc_check_id(sdc_check_set_get(set, i));
  if(ask)
    *ask = (struct status_ask){d, p};
  if(!ids || !ask || !n || !history_summary_async(d->history, ids, n, on_summary, ask)) {
    if(ask && ids && !n) { /* no checks: nothing to read */
      json_t *empty = json_pack("{s:[]}", "checks");
      on_summary(empty, ask);
      json_decref(empty);
    } else {
      admin_answer(p, NULL, 0);
      free(ask);
    }
  }
  free(ids);
}

/* ---- setting up ------------------------------------------------------------------- */
static char *read_all(const char *path)
{
  FILE *f = fopen(path, "rb");
  char *buf;
  size_t n;

  if(!f)
    return NULL;
  buf = malloc(1 << 20);
  n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
  fclose(f);
  if(buf)
    buf[n] = '\0';
  return buf;
}

/* The `local:` directory, in this process: its registry (memory or a
 * SQLite file), the seed, and its gRPC server. The resolver then talks to
 * it over loopback like to any other directory. */
static int start_local(struct daemon *d)
{
  const sdc_serve_config *c = d->cfg;
  struct lsd_server_opts so = {0};
  struct lsd_err e;
  char db[1100], err[700];
  int port = 0;

  if(!c->local)
    return 0;
  if(!c->local_memory && !c->local_db) {
    mkdir(c->state_dir, 0750); /* an existing one is fine */
    snprintf(db, sizeof(db), "%s/registry.db", c->state_dir);
  }
  if(lsd_registry_open(&d->reg, c->local_memory ? NULL : c->local_db ? c->local_db : db,
                       &e)) {
    logf_(0, "msg=\"local directory\" why=\"%s\"", e.msg);
    return 1;
  }
  if(c->local_seed) {
    struct seed_stats ss;
    if(lsd_seed_load(d->reg, c->local_seed, &ss, err, sizeof(err))) {
      fprintf(stderr, "sdconnect serve: %s\n", err);
      return 2;
    }
    logf_(2, "msg=\"seed loaded\" file=%s created=%u updated=%u", c->local_seed,
          ss.created, ss.updated);
  }
  so.listen = c->local_listen;
  so.threads = 2;
  so.max_message = 4 << 20;
  if(lsd_server_start(&d->lsd, d->reg, &so, &port, err, sizeof(err))) {
    logf_(0, "msg=\"local directory\" why=\"%s\"", err);
    return 1;
  }
  snprintf(d->local_ep, sizeof(d->local_ep), "127.0.0.1:%d", port);
  logf_(2, "msg=\"local directory\" listen=%s port=%d", c->local_listen, port);
  return 0;
}

static int make_resolver(struct daemon *d)
{
  sdc_serve_config *c = d->cfg;
  sdc_resolver_opts *o = NULL;
  char err[1024] = "", *ca = NULL, *cert = NULL, *key = NULL, *tok = NULL;
  int rc = 2;

  if(sdc_resolver_opts_new(&o))
    return 1;
  if(c->sd_is_local && d->local_ep[0]) /* its real port (listen may say 0) */
    sdc_resolver_opts_set_endpoint(o, d->local_ep);
  else if(c->sd_endpoint)
    sdc_resolver_opts_set_endpoint(o, c->sd_endpoint);
  sdc_resolver_opts_set_plaintext(o, c->sd_insecure);
  sdc_resolver_opts_set_timeout_ms(o, c->sd_timeout_ms);
  sdc_resolver_opts_set_cache_ttl_ms(o, c->sd_cache_ttl_ms);
  if((c->sd_ca_file && !(ca = read_all(c->sd_ca_file))) ||
     (c->sd_cert_file && (!(cert = read_all(c->sd_cert_file)) ||
                          !(key = read_all(c->sd_key_file)))) ||
     (c->sd_token_file && !(tok = read_all(c->sd_token_file)))) {
    logf_(0, "msg=\"cannot read the directory's TLS or token files\"");
    goto out;
  }
  if(tok)
    tok[strcspn(tok, "\r\n")] = '\0';
  if(ca)
    sdc_resolver_opts_set_ca_pem(o, ca);
  if(cert)
    sdc_resolver_opts_set_client_cert_pem(o, cert, key);
  if(tok)
    sdc_resolver_opts_set_bearer_token(o, tok);
  if(c->sd_credentials_file)
    sdc_resolver_opts_set_google_credentials(o, c->sd_credentials_file);
  if(sdc_resolver_new(&d->res, o, err, sizeof(err))) {
    logf_(0, "msg=\"cannot set up the directory client\" why=\"%s\"", err);
    goto out;
  }
  rc = 0;
out:
  free(ca);
  free(cert);
  if(key) {
    memset(key, 0, strlen(key));
    free(key);
  }
  if(tok) {
    memset(tok, 0, strlen(tok));
    free(tok);
  }
  sdc_resolver_opts_free(o);
  return rc;
}

static int schedule_all(struct daemon *d, const sdc_serve_config *c)
{
  uint64_t now = mono_ms();

  for(size_t i = 0; i < sdc_check_set_count(c->checks); i++) {
    const sdc_check *k = sdc_check_set_get(c->checks, i);
    if(sdc_scheduler_add(d->sched, k, now))
      return -1;
    logf_(2, "msg=scheduled check=%s period_s=%llu service=%s", sdc_check_id(k),
          (unsigned long long)(sdc_check_period_ms(k) / 1000),
          sdc_check_service(k) ? sdc_check_service(k) : "-");
  }
  return 0;
}

/* SIGHUP: the new checks replace the old if the file is good. */
static void reload(struct daemon *d)
{
  sdc_serve_config *c = NULL;
  char *errs = NULL;
  sdc_status st = sdc_serve_config_load(d->config_path, &c, &errs);

  if(st || d->n_configs == MAX_CONFIGS) {
    logf_(0, "msg=\"reload refused; the running configuration stays\" file=%s", d->config_path);
    if(errs)
      fputs(errs, stderr);
    sdc_free(errs);
    sdc_serve_config_free(c);
    return;
  }
  for(size_t i = 0; i < sdc_check_set_count(d->cfg->checks); i++)
    sdc_scheduler_remove(d->sched, sdc_check_set_get(d->cfg->checks, i));
  d->configs[d->n_configs++] = c;
  d->cfg = c;
  if(schedule_all(d, c))
    logf_(0, "msg=\"out of memory scheduling the reloaded checks\"");
  logf_(2, "msg=reloaded checks=%zu (directory and admin settings need a restart)",
        sdc_check_set_count(c->checks));
}

static void on_signal(int fd, short revents, void *ud)
{
  struct daemon *d = ud;
  struct signalfd_siginfo si;

  (void)revents;
  while(read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
    if(si.ssi_signo == SIGHUP) {
      d->reload = true;
    } else if(!d->stopping) {
      d->stopping = true;
      d->stop_by = mono_ms() + GRACE_MS;
      logf_(2, "msg=\"stopping: no new runs, running ones get %d s\"", GRACE_MS / 1000);
    }
  }
}

static void usage(FILE *to)
{
  fprintf(to, "Usage: sdconnect serve [--config FILE] [--port-file FILE]\n"
              "       sdconnect serve --dev [--state-dir DIR] [--admin-listen HOST:PORT]\n\n"
              "Run the checks of FILE (default /etc/sdconnect/sdconnect.yaml, see\n"
              "sdconnect.yaml(5)) on their periods; serve the status page, /metrics,\n"
              "/healthz and /readyz on the admin listener; keep a history for\n"
              "'sdconnect status'; write results as JSON lines.\n"
              "SIGHUP reloads the checks; SIGTERM or SIGINT stops (exit 0).\n\n"
              "--port-file FILE  write the admin listener's port there once up\n"
              "--dev             everything on this machine, no Google account: the\n"
              "                  local directory in the daemon, two demo HTTPS targets\n"
              "                  (one healthy, one failing on purpose) and a check of\n"
              "                  them every %d s; its files go to DIR (default\n"
              "                  $TMPDIR/sdconnect-dev), the page to HOST:PORT\n"
              "                  (default 127.0.0.1:9464)\n", DEV_PERIOD_S);
}

/* What --dev runs and where to look, for people. */
static void dev_banner(const struct daemon *d, const struct dev *v, const char *listen,
                       int port)
{
  char host[300];
  const char *colon = strrchr(listen, ':');

  snprintf(host, sizeof(host), "%.*s", colon ? (int)(colon - listen) : 0, listen);
  if(!strcmp(host, "0.0.0.0") || !strcmp(host, "[::]"))
    snprintf(host, sizeof(host), "127.0.0.1");
  fprintf(stderr,
          "\nsdconnect serve --dev: everything on this machine, no Google account.\n"
          "  status page    http://%s:%d/\n"
          "  metrics        http://%s:%d/metrics\n"
          "  directory      %s (the local Service Directory, in this process)\n"
          "  configuration  %s (an ordinary sdconnect.yaml: copy it to start your own)\n"
          "  probing        every %d s, HTTPS GET /healthz with SNI and Host %s, on each\n"
          "                 endpoint of %s:\n"
          "                   healthy  127.0.0.1:%d  answers 200 {\"status\":\"ok\"}\n"
          "                   failing  127.0.0.1:%d  answers 503 on purpose; its\n"
          "                            certificate expires in 10 days\n"
          "  try            sdconnect status --config %s\n"
          "                 sdconnect resolve %s --sd-endpoint %s --insecure\n"
          "  Ctrl-C stops it. For a real project, see 'Against a real project' in README.md.\n\n",
          host, port, host, port, d->local_ep, d->config_path, DEV_PERIOD_S, DEV_HOST,
          DEV_SERVICE_NAME, dev_port(v, 0), dev_port(v, 1), d->config_path,
          DEV_SERVICE_NAME, d->local_ep);
}

int sdc_daemon_serve(int argc, char **argv)
{
  struct daemon d;
  struct admin_opts ao = {0};
  char err[1024], *errs = NULL, *cert = NULL, *key = NULL, *ca = NULL, *tok = NULL;
  const char *port_file = NULL, *dev_dir = NULL, *dev_listen = "127.0.0.1:9464";
  char dev_cfg[1100], dev_default[900];
  bool dev = false, config_given = false;
  struct dev *demo = NULL;
  sigset_t set;
  int port = 0, rc = 1;
  sdc_status st;

  memset(&d, 0, sizeof(d));
  d.sigfd = -1;
  d.config_path = "/etc/sdconnect/sdconnect.yaml";
  for(int i = 1; i < argc; i++) {
    if(!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(stdout);
      return 0;
    } else if(!strcmp(argv[i], "--config") && i + 1 < argc) {
      d.config_path = argv[++i];
      config_given = true;
    } else if(!strcmp(argv[i], "--dev")) {
      dev = true;
    } else if(!strcmp(argv[i], "--state-dir") && i + 1 < argc) {
      dev_dir = argv[++i];
    } else if(!strcmp(argv[i], "--admin-listen") && i + 1 < argc) {
      dev_listen = argv[++i];
    } else if(!strcmp(argv[i], "--port-file") && i + 1 < argc) {
      port_file = argv[++i];
    } else {
      fprintf(stderr, "sdconnect serve: unknown argument '%s'\n", argv[i]);
      usage(stderr);
      return 2;
    }
  }
  if(dev && config_given) {
    fprintf(stderr, "sdconnect serve: --dev writes its own configuration; leave out "
                    "--config\n");
    return 2;
  }
  if(!dev && (dev_dir || strcmp(dev_listen, "127.0.0.1:9464"))) {
    fprintf(stderr, "sdconnect serve: --state-dir and --admin-listen go with --dev; "
                    "otherwise they are stateDir and admin.listen in the file\n");
    return 2;
  }
  /* signals go to the signalfd: blocked before any thread starts (gRPC's,
   * the resolver's, the demo targets'), so none of them takes the default
   * action */
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigprocmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);
  if(dev) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dev_default, sizeof(dev_default), "%s/sdconnect-dev", tmp && *tmp ? tmp : "/tmp");
    if(dev_start(&demo, dev_dir ? dev_dir : dev_default, dev_listen, err, sizeof(err))) {
      fprintf(stderr, "sdconnect serve --dev: %s\n", err);
      return 1;
    }
    snprintf(dev_cfg, sizeof(dev_cfg), "%s/sdconnect.yaml", dev_dir ? dev_dir : dev_default);
    d.config_path = dev_cfg;
  }
  st = sdc_serve_config_load(d.config_path, &d.cfg, &errs);
  if(st) {
    fputs(errs ? errs : "", stderr);
    if(errs && errs[0] && errs[strlen(errs) - 1] != '\n')
      fputc('\n', stderr);
    fprintf(stderr, "sdconnect serve: %s: %s\nhint: check it with 'sdconnect config "
            "check %s'\n", d.config_path, sdc_strerror(st), d.config_path);
    sdc_free(errs);
    dev_stop(demo);
    return st == SDC_ENOMEM ? 1 : 2;
  }
  d.configs[d.n_configs++] = d.cfg;
  if(sdc_global_init(NULL)) {
    sdc_serve_config_free(d.cfg);
    fprintf(stderr, "sdconnect serve: cannot initialise the library\n");
    return 1;
  }
  log_level = !strcmp(d.cfg->log_level, "error") ? 0 : !strcmp(d.cfg->log_level, "warn") ? 1
              : !strcmp(d.cfg->log_level, "debug") ? 3 : 2;
  d.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if((rc = start_local(&d)) || (rc = make_resolver(&d)))
    goto out;
  rc = 1;
  {
    sdc_pool_opts *po = NULL;
    if(sdc_pool_opts_new(&po) || sdc_pool_opts_set_max_body(po, 4u << 20) ||
       sdc_pool_new(&d.pool, po)) {
      sdc_pool_opts_free(po);
      goto out;
    }
    sdc_pool_opts_free(po);
  }
  if(sdc_prober_new(&d.pr, d.pool, d.res) ||
     sdc_prober_set_credentials(d.pr, d.cfg->id_token_credentials) ||
     sdc_scheduler_new(&d.sched, d.pr, d.cfg->max_running, on_report, &d) ||
     sdc_metrics_new(&d.m) || families(&d) || d.sigfd < 0 ||
     sdc_pool_watch(d.pool, d.sigfd, POLLIN, on_signal, &d))
    goto out;
  sdc_scheduler_on_start(d.sched, on_start, &d);
  {
    char path[1100];
    mkdir(d.cfg->state_dir, 0750); /* an existing one is fine */
    snprintf(path, sizeof(path), "%s/history.db", d.cfg->state_dir);
    if(history_open(&d.history, path, d.cfg->history_days, d.pool, err, sizeof(err))) {
      logf_(0, "msg=\"cannot open the history\" why=\"%s\"\nhint: stateDir must be a "
            "folder the daemon may write", err);
      goto out;
    }
  }
  if(d.cfg->results_file)
    d.results = !strcmp(d.cfg->results_file, "-") ? stdout : fopen(d.cfg->results_file, "a");
  if(d.cfg->results_file && !d.results) {
    logf_(0, "msg=\"cannot open the results file\" file=%s why=\"%s\"", d.cfg->results_file,
          strerror(errno));
    goto out;
  }
  ao.listen = d.cfg->admin_listen;
  if(d.cfg->admin_cert_file &&
     (!(cert = read_all(d.cfg->admin_cert_file)) || !(key = read_all(d.cfg->admin_key_file))))
    goto out;
  if(d.cfg->admin_client_ca_file && !(ca = read_all(d.cfg->admin_client_ca_file)))
    goto out;
  if(d.cfg->admin_token_file && (tok = read_all(d.cfg->admin_token_file)))
    tok[strcspn(tok, "\r\n")] = '\0';
  ao.cert_pem = cert;
  ao.key_pem = key;
  ao.client_ca_pem = ca;
  ao.token = tok;
  if(admin_start(&d.admin, d.pool, &ao, d.m, ready, &d, &port, err, sizeof(err))) {
    logf_(0, "msg=\"admin listener\" why=\"%s\"", err);
    goto out;
  }
  admin_set_status(d.admin, on_status, &d);
  logf_(2, "msg=listening admin=%s port=%d metrics=http%s://%s/metrics directory=%s",
        d.cfg->admin_listen, port, cert ? "s" : "", d.cfg->admin_listen,
        d.local_ep[0] && d.cfg->sd_is_local ? d.local_ep
        : d.cfg->sd_endpoint                ? d.cfg->sd_endpoint
                                            : SDC_SD_GOOGLE_ENDPOINT);
  if(demo)
    dev_banner(&d, demo, d.cfg->admin_listen, port);
  if(port_file) {
    FILE *f = fopen(port_file, "w");
    if(f) {
      fprintf(f, "%d\n", port);
      fclose(f);
    }
  }
  if(schedule_all(&d, d.cfg))
    goto out;
  for(;;) { /* the loop */
    uint64_t now = mono_ms(), next, wait;
    sdc_scheduler_stats ss;
    if(d.reload) {
      d.reload = false;
      reload(&d);
    }
    next = d.stopping ? UINT64_MAX : sdc_scheduler_tick(d.sched, now);
    sdc_scheduler_stats_get(d.sched, &ss);
    if(d.stopping && (!ss.running || now >= d.stop_by))
      break;
    if(ss.skipped > d.skipped_told) {
      sdc_metric_add(d.f.skipped, NULL, (double)(ss.skipped - d.skipped_told));
      d.skipped_told = ss.skipped;
    }
    if(history_dropped(d.history) > d.dropped_told) {
      sdc_metric_add(d.f.history_dropped, NULL,
                     (double)(history_dropped(d.history) - d.dropped_told));
      d.dropped_told = history_dropped(d.history);
    }
    process_metrics(&d, now);
    wait = next < 1000 ? next : 1000;
    if(admin_timeout_ms(d.admin) < wait)
      wait = admin_timeout_ms(d.admin);
    sdc_pool_turn(d.pool, wait);
    admin_run(d.admin);
  }
  logf_(2, "msg=stopped");
  rc = 0;
out:
  if(rc)
    logf_(0, "msg=\"cannot start\" config=%s", d.config_path);
  sdc_scheduler_free(d.sched);
  sdc_prober_free(d.pr); /* runs still going end here (their reports too) */
  history_close(d.history); /* written; summaries asked for are posted... */
  if(d.pool)
    sdc_pool_turn(d.pool, 0); /* ...and answered here */
  admin_stop(d.admin);
  sdc_pool_free(d.pool);
  sdc_resolver_free(d.res);
  if(d.lsd)
    lsd_server_stop(d.lsd, 1000);
  lsd_registry_close(d.reg);
  sdc_metrics_free(d.m);
  if(d.results && d.results != stdout)
    fclose(d.results);
  for(size_t i = 0; i < d.n_seen; i++) {
    for(size_t k = 0; k < d.seen[i].n; k++)
      free(d.seen[i].endpoints[k]);
    free(d.seen[i].endpoints);
    free(d.seen[i].check);
  }
  free(d.seen);
  for(size_t i = 0; i < d.n_configs; i++)
    sdc_serve_config_free(d.configs[i]);
  if(d.sigfd >= 0)
    close(d.sigfd);
  dev_stop(demo);
  free(cert);
  if(key) {
    memset(key, 0, strlen(key));
    free(key);
  }
  free(ca);
  if(tok) {
    memset(tok, 0, strlen(tok));
    free(tok);
  }
  sdc_global_cleanup();
  return rc;
}
