/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's webhooks: what the gateway's and the probes' calls report
 * (metrics, and the last outcome of each webhook for the status page),
 * and the webhook probes: each webhook called every webhooks.probePeriod
 * with a harmless standard request (fulfillmentInfo.tag "sdconnect-probe",
 * no text), so a webhook can tell probes from real turns.
 *
 * IMPLEMENTATION NOTES
 * - State is kept by webhook id and carried over a reload for the ids
 *   that stay. A probe is not started while the webhook's last one runs.
 * - Probes start from the loop (hooks_tick), at most PROBES_PER_TICK at a
 *   time: a webhook's first within a second (spread by its id's hash),
 *   then every period; a period missed is skipped, not made up.
 */
#include "daemon.h"
#include "log.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROBES_PER_TICK 64
#define PROBE_TAG "sdconnect-probe"

struct hook_state {
  char *id, *display, *url, *service;
  uint64_t next_probe_ms;
  bool probing;
  unsigned long calls, failures;
  bool has_last;
  struct {
    char source[8], outcome[16], event[48], rpc_name[24], detail[300];
    int rpc_code;
    long http_status;
    unsigned attempts;
    double seconds;
    int64_t at_s;
  } last;
};

int hooks_families(struct daemon *d)
{
  static const char *const wh_src_out[] = {"webhook", "source", "outcome"};
  static const char *const wh_src[] = {"webhook", "source"};
  static const char *const wh[] = {"webhook"};
  static const char *const reason[] = {"reason"};
  static const double buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                    1,     2.5,  5,     10,   20,  30};
  sdc_metrics *m = d->m;
  int bad = 0;

  bad |= sdc_metrics_family(m, "sdconnect_webhook_calls_total",
                            "Webhook calls by how Dialogflow would count them (outcome: ok, "
                            "timeout, http_status, ...); source: gateway or probe.",
                            SDC_METRIC_COUNTER, wh_src_out, 3, NULL, 0, &d->f.wh_calls) != 0;
  bad |= sdc_metrics_family(m, "sdconnect_webhook_call_duration_seconds",
                            "Webhook calls from start to answer, retry included.",
                            SDC_METRIC_HISTOGRAM, wh_src, 2, buckets,
                            sizeof(buckets) / sizeof(buckets[0]), &d->f.wh_duration) != 0;
  bad |= sdc_metrics_family(m, "sdconnect_webhook_retries_total",
                            "Calls Dialogflow's automatic retry was made for.",
                            SDC_METRIC_COUNTER, wh_src, 2, NULL, 0, &d->f.wh_retries) != 0;
  bad |= sdc_metrics_family(m, "sdconnect_webhook_up",
                            "Whether the webhook's last probe succeeded.", SDC_METRIC_GAUGE, wh,
                            1, NULL, 0, &d->f.wh_up) != 0;
  bad |= sdc_metrics_family(m, "sdconnect_gateway_refused_total",
                            "Gateway requests answered without a call (unauthorized, "
                            "not_found, method, too_large, bad_json, bad_request, busy, "
                            "stopping).",
                            SDC_METRIC_COUNTER, reason, 1, NULL, 0, &d->f.gw_refused) != 0;
  return bad ? -1 : 0;
}

static struct hook_state *find(struct daemon *d, const char *id)
{
  for(size_t i = 0; i < d->n_hooks; i++)
    if(!strcmp(d->hooks[i].id, id))
      return &d->hooks[i];
  return NULL;
}

static void state_free(struct hook_state *h)
{
  free(h->id);
  free(h->display);
  free(h->url);
  free(h->service);
}

static uint64_t phase_ms(const char *id, uint64_t period)
{
  return period ? daemon_fnv(DAEMON_FNV_SEED, id) % period : 0;
}

int hooks_sync(struct daemon *d)
{
  const sdc_webhook_set *set = d->cfg->webhooks;
  size_t n = sdc_webhook_set_count(set);
  struct hook_state *v = calloc(n ? n : 1, sizeof(*v));
  uint64_t now = daemon_now_ms(), period = d->cfg->webhook_probe_ms;

  if(!v)
    return -1;
  for(size_t i = 0; i < n; i++) {
    const sdc_webhook *w = sdc_webhook_set_get(set, i);
    struct hook_state *old = find(d, sdc_webhook_id(w));
    if(old) { /* its counts and last outcome carry over */
      v[i] = *old;
      free(old->display);
      free(old->url);
      free(old->service);
      old->id = old->display = old->url = old->service = NULL;
    } else if(!(v[i].id = strdup(sdc_webhook_id(w)))) {
      goto oom;
    }
    v[i].display = strdup(sdc_webhook_display_name(w) ? sdc_webhook_display_name(w) : "");
    v[i].url = strdup(sdc_webhook_uri(w) ? sdc_webhook_uri(w) : "");
    v[i].service = sdc_webhook_service(w) ? strdup(sdc_webhook_service(w)) : NULL;
    if(!v[i].display || !v[i].url)
      goto oom;
    if(!old || !period) /* a new one is probed soon, spread over a second */
      v[i].next_probe_ms = period ? now + phase_ms(v[i].id, 1000) : 0;
  }
  for(size_t i = 0; i < d->n_hooks; i++) { /* gone: their probe series go too */
    const char *lv[] = {d->hooks[i].id};
    if(d->hooks[i].id)
      sdc_metric_remove(d->f.wh_up, lv);
    state_free(&d->hooks[i]);
  }
  free(d->hooks);
  d->hooks = v;
  d->n_hooks = n;
  return 0;
oom:
  for(size_t i = 0; i < n; i++)
    state_free(&v[i]);
  free(v);
  return -1;
}

void hooks_free(struct daemon *d)
{
  for(size_t i = 0; i < d->n_hooks; i++)
    state_free(&d->hooks[i]);
  free(d->hooks);
  d->hooks = NULL;
  d->n_hooks = 0;
}

void report_webhook(struct daemon *d, const char *source, const sdc_webhook_call_result *r,
                    double seconds)
{
  const char *id = sdc_webhook_id(r->webhook);
  const char *outcome = sdc_webhook_failure_name(r->outcome.failure);
  const char *cv[] = {id, source, outcome}, *sv[] = {id, source}, *iv[] = {id};
  struct hook_state *h = find(d, id);
  bool ok = r->outcome.failure == SDC_WEBHOOK_OK;

  sdc_metric_add(d->f.wh_calls, cv, 1);
  sdc_metric_observe(d->f.wh_duration, sv, seconds);
  if(r->attempts > 1)
    sdc_metric_add(d->f.wh_retries, sv, 1);
  if(!strcmp(source, "probe"))
    sdc_metric_set(d->f.wh_up, iv, ok);
  if(ok)
    daemon_log(3, "msg=\"webhook call\" webhook=%s source=%s outcome=ok http_status=%ld "
               "attempts=%u seconds=%.3f", id, source, r->outcome.http_status, r->attempts,
               seconds);
  else /* one line per failed call, with Dialogflow's view of it */
    daemon_log(1, "msg=\"webhook call failed\" webhook=%s source=%s outcome=%s event=%s "
               "status=%s http_status=%ld attempts=%u seconds=%.3f why=%s", id, source, outcome,
               r->outcome.event ? r->outcome.event : "-", r->outcome.rpc_name,
               r->outcome.http_status, r->attempts, seconds,
               svc_log_q(r->detail ? r->detail : ""));
  if(!h) /* a webhook of a configuration reloaded since */
    return;
  h->calls++;
  h->failures += !ok;
  h->has_last = true;
  snprintf(h->last.source, sizeof(h->last.source), "%s", source);
  snprintf(h->last.outcome, sizeof(h->last.outcome), "%s", outcome);
  snprintf(h->last.event, sizeof(h->last.event), "%s", r->outcome.event ? r->outcome.event : "");
  snprintf(h->last.rpc_name, sizeof(h->last.rpc_name), "%s", r->outcome.rpc_name);
  snprintf(h->last.detail, sizeof(h->last.detail), "%s", ok || !r->detail ? "" : r->detail);
  h->last.rpc_code = r->outcome.rpc_code;
  h->last.http_status = r->outcome.http_status;
  h->last.attempts = r->attempts;
  h->last.seconds = seconds;
  h->last.at_s = (int64_t)time(NULL);
}

void report_gateway_refused(struct daemon *d, const char *reason)
{
  const char *v[] = {reason};

  sdc_metric_add(d->f.gw_refused, v, 1);
}

/* ---- probes ------------------------------------------------------------------------ */
struct probe {
  struct daemon *d;
  double started_s;
  char id[];
};

static void on_probed(const sdc_webhook_call_result *r, void *ud)
{
  struct probe *p = ud;
  struct hook_state *h = find(p->d, p->id);

  report_webhook(p->d, "probe", r, daemon_now_s() - p->started_s);
  if(h)
    h->probing = false;
  free(p);
}

static void probe_start(struct daemon *d, struct hook_state *h, const sdc_webhook *w)
{
  sdc_webhook_request_opts *o = NULL;
  struct probe *p = malloc(sizeof(*p) + strlen(h->id) + 1);
  char *req = NULL, err[300];

  if(!p || sdc_webhook_request_opts_new(&o) ||
     sdc_webhook_request_opts_set(o, SDC_WEBHOOK_REQUEST_TAG, PROBE_TAG) ||
     sdc_webhook_request_build(w, o, &req, err, sizeof(err))) {
    daemon_log(0, "msg=\"cannot build a webhook probe\" webhook=%s", h->id);
    free(p);
  } else {
    p->d = d;
    p->started_s = daemon_now_s();
    strcpy(p->id, h->id);
    if(sdc_webhook_call(d->run->caller, w, req, on_probed, p)) {
      daemon_log(0, "msg=\"cannot start a webhook probe\" webhook=%s", h->id);
      free(p);
    } else {
      h->probing = true;
    }
  }
  sdc_free(req);
  sdc_webhook_request_opts_free(o);
}

uint64_t hooks_tick(struct daemon *d, uint64_t now)
{
  uint64_t period = d->cfg->webhook_probe_ms, next = UINT64_MAX;
  unsigned started = 0;

  if(!period)
    return UINT64_MAX;
  for(size_t i = 0; i < d->n_hooks; i++) {
    struct hook_state *h = &d->hooks[i];
    if(h->next_probe_ms <= now && started < PROBES_PER_TICK) {
      const sdc_webhook *w = sdc_webhook_set_find(d->cfg->webhooks, h->id);
      /* with replicas, each webhook is probed by one of them (the gateway is
       * every replica's) */
      if(w && !h->probing && !sdc_webhook_disabled(w) &&
         sdc_shard_owner(h->id, "", d->shards) == d->shard) {
        probe_start(d, h, w);
        started++;
      }
      while(h->next_probe_ms <= now) /* missed periods are skipped, not made up */
        h->next_probe_ms += period;
    }
    {
      uint64_t wait = h->next_probe_ms > now ? h->next_probe_ms - now : 0;
      if(wait < next)
        next = wait;
    }
  }
  return next;
}

json_t *hooks_json(struct daemon *d)
{
  json_t *a = json_array();

  for(size_t i = 0; a && i < d->n_hooks; i++) {
    const struct hook_state *h = &d->hooks[i];
    json_t *o = json_pack("{s:s s:s s:s s:s? s:I s:I}", "id", h->id, "displayName",
                          h->display, "uri", h->url, "service", h->service, "calls",
                          (json_int_t)h->calls, "failures", (json_int_t)h->failures);
    if(o && h->has_last)
      json_object_set_new(o, "last", json_pack("{s:s s:s s:s? s:i s:s s:I s:i s:f s:I s:s?}",
                                               "source", h->last.source, "outcome",
                                               h->last.outcome, "event",
                                               h->last.event[0] ? h->last.event : NULL,
                                               "rpcCode", h->last.rpc_code, "rpcStatus",
                                               h->last.rpc_name, "httpStatus",
                                               (json_int_t)h->last.http_status, "attempts",
                                               (int)h->last.attempts, "seconds",
                                               h->last.seconds, "at", (json_int_t)h->last.at_s,
                                               "detail",
                                               h->last.detail[0] ? h->last.detail : NULL));
    json_array_append_new(a, o);
  }
  return a;
}
