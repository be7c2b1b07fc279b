/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the daemon reports: each run's results as metrics (blackbox_exporter's
 * names, labelled check, service and endpoint; sdconnect's own sdconnect_*),
 * as JSON result lines and into the history; readiness; and the status
 * page's data (/status.json) from the history.
 */
#include "daemon.h"
#include "log.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The phases of probe_http_duration_seconds, in blackbox_exporter's names. */
static const char *const phases[] = {"resolve", "connect", "tls", "processing", "transfer"};

/* ---- metrics ---------------------------------------------------------------- */
int report_families(struct daemon *d)
{
  static const char *const ep[] = {"check", "service", "endpoint"};
  static const char *const ep_phase[] = {"check", "service", "endpoint", "phase"};
  static const char *const ep_tls[] = {"check", "service", "endpoint", "version"};
  static const char *const ck[] = {"check"};
  static const char *const ck_reason[] = {"check", "reason"};
  static const char *const result[] = {"result"};
  static const char *const ck_result[] = {"check", "result"};
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
  FAM(resolves, "sdconnect_directory_resolves_total",
      "Directory lookups of runs by result: ok, stale (the directory failed and its last "
      "answer was used), sd_not_found, sd_permission_denied, sd_unavailable.",
      SDC_METRIC_COUNTER, ck_result, 2);
  FAM(connections, "sdconnect_pool_connections_opened_total",
      "Connections the daemon's pool opened (probes use one each).", SDC_METRIC_COUNTER,
      NULL, 0);
  FAM(reloads, "sdconnect_reloads_total", "Reloads by result (ok, refused).",
      SDC_METRIC_COUNTER, result, 1);
  FAM(rss, "process_resident_memory_bytes", "Resident memory size in bytes.",
      SDC_METRIC_GAUGE, NULL, 0);
  FAM(fds, "process_open_fds", "Number of open file descriptors.", SDC_METRIC_GAUGE,
      NULL, 0);
  {
    static const char *const sh[] = {"replica", "replicas"};
    char index[16], count[16];
    const char *v[] = {index, count};
    FAM(shard, "sdconnect_shard_info",
        "This replica's index and the replica count (--replicas): it probes its share.",
        SDC_METRIC_GAUGE, sh, 2);
    snprintf(index, sizeof(index), "%u", d->shard);
    snprintf(count, sizeof(count), "%u", d->shards);
    if(!bad)
      sdc_metric_set(d->f.shard, v, 1);
  }
#undef FAM
  return bad ? -1 : 0;
}

/* Resident memory, open descriptors and pool connections, at most once a
 * second. */
void report_process(struct daemon *d, uint64_t now)
{
  static uint64_t last;
  unsigned long opened;
  FILE *f;
  long pages = 0, rss = 0;
  int n = 0;
  DIR *dir;

  if(now - last < 1000 && last)
    return;
  last = now;
  if((opened = sdc_pool_connections_opened(d->pool)) > d->connections_told) {
    sdc_metric_add(d->f.connections, NULL, (double)(opened - d->connections_told));
    d->connections_told = opened;
  }
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
    for(size_t i = 0; i < rep->n_results && !still; i++) {
      const char *ep = sdc_probe_report_result(rep, i)->endpoint;
      still = ep && !strcmp(ep, s->endpoints[k]);
    }
    if(!still) {
      const char *v[] = {id, svc, s->endpoints[k]};
      sdc_metric_remove(d->f.success, v);
      sdc_metric_remove(d->f.duration, v);
      sdc_metric_remove(d->f.status, v);
      sdc_metric_remove(d->f.version, v);
      sdc_metric_remove(d->f.expiry, v);
      sdc_metric_remove(d->f.length, v);
      for(int ph = 0; ph < 5; ph++) {
        const char *pv[] = {id, svc, s->endpoints[k], phases[ph]};
        sdc_metric_remove(d->f.phase, pv);
      }
      for(int vi = 0; vi < 4; vi++) {
        static const char *const versions[] = {"TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"};
        const char *tv[] = {id, svc, s->endpoints[k], versions[vi]};
        sdc_metric_remove(d->f.tls, tv);
      }
      daemon_log(2, "msg=\"endpoint left the directory\" check=%s endpoint=%s", id,
            s->endpoints[k]);
    }
    free(s->endpoints[k]);
  }
  free(s->endpoints);
  s->endpoints = now;
  s->n = 0;
  for(size_t i = 0; now && i < rep->n_results; i++) {
    const char *ep = sdc_probe_report_result(rep, i)->endpoint;
    if(ep && (now[s->n] = strdup(ep)))
      s->n++;
  }
}

/* ---- each run ----------------------------------------------------------------- */
/* How the run's directory lookup went (for checks of a service). */
static const char *resolve_result(const sdc_probe_report *rep)
{
  sdc_probe_reason why = rep->n_results == 1 ? sdc_probe_report_result(rep, 0)->reason
                                              : SDC_PROBE_PASSED;

  if(rep->directory_stale)
    return "stale";
  if(why >= SDC_PROBE_SD_NOT_FOUND && why <= SDC_PROBE_SD_UNAVAILABLE)
    return sdc_probe_reason_name(why);
  return "ok";
}

void report_run(const sdc_probe_report *rep, void *ud)
{
  struct daemon *d = ud;
  const char *id = sdc_check_id(rep->check), *svc = rep->service ? rep->service : "";
  const char *ck[] = {id};

  sdc_metric_add(d->f.runs, ck, 1);
  if(rep->n_results || !rep->n_skipped) {
    sdc_metric_set(d->f.check_success, ck, rep->passed);
    sdc_metric_set(d->f.stale, ck, rep->directory_stale);
  } else { /* the check's endpoints are all other replicas': they say how it went */
    sdc_metric_remove(d->f.check_success, ck);
    sdc_metric_remove(d->f.stale, ck);
  }
  if(rep->service) {
    const char *rv[] = {id, resolve_result(rep)};
    sdc_metric_add(d->f.resolves, rv, 1);
  }
  forget_gone(d, rep);
  if(d->history)
    history_record(d->history, rep);
  for(size_t i = 0; i < rep->n_results; i++) {
    const sdc_probe_result *r = sdc_probe_report_result(rep, i);
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
      const double ms[] = {rep->resolve_ms, connect, tls, processing, transfer};
      for(int k = 0; k < 5; k++) {
        const char *pv[] = {id, svc, v[2], phases[k]};
        sdc_metric_set(d->f.phase, pv, ms[k] / 1000);
      }
    }
    if(!r->passed) {
      const char *fv[] = {id, sdc_probe_reason_name(r->reason)};
      sdc_metric_add(d->f.failures, fv, 1);
      daemon_log(1, "msg=\"probe failed\" check=%s endpoint=%s address=%s reason=%s why=%s", id,
                 v[2], svc_log_q(r->address), sdc_probe_reason_name(r->reason),
                 svc_log_q(r->detail));
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

void report_start(const sdc_check *c, double lag_ms, void *ud)
{
  struct daemon *d = ud;

  sdc_metric_observe(d->f.lag, NULL, lag_ms / 1000);
  daemon_log(3, "msg=\"run started\" check=%s lag_ms=%.3f", sdc_check_id(c), lag_ms);
}

bool report_ready(void *ud, char *why, size_t cap)
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

/* ---- the status page: /status.json from the history --------------------------- */
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
    json_object_set_new(sum, "webhooks", hooks_json(ask->d));
  if(sum)
    text = json_dumps(sum, JSON_COMPACT | JSON_REAL_PRECISION(10));
  admin_answer(ask->p, text, text ? strlen(text) : 0);
  free(text);
  free(ask);
}

void report_status(void *ud, struct admin_pending *p)
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

void report_cleanup(struct daemon *d)
{
  for(size_t i = 0; i < d->n_seen; i++) {
    for(size_t k = 0; k < d->seen[i].n; k++)
      free(d->seen[i].endpoints[k]);
    free(d->seen[i].endpoints);
    free(d->seen[i].check);
  }
  free(d->seen);
  d->seen = NULL;
  d->n_seen = 0;
}
