/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runners and reloads.
 *
 * A runner is what runs one configuration's checks: a directory client,
 * a prober on the daemon's pool and a scheduler. SIGHUP loads the file
 * again; if it is good, a new runner takes it and the old one drains: it
 * starts nothing more, its running checks finish and report, and it is
 * freed with its configuration. So a reload is atomic (a bad file, a
 * directory client that cannot be made or an admin listener that cannot
 * be opened leave everything as it was) and nothing a run uses goes away
 * under it.
 *
 * IMPLEMENTATION NOTES
 * - Checks keep their schedule across a reload: their phase comes from
 *   their id. Their history is keyed by id, so it carries over too.
 * - The directory client is shared by the new runner when the directory's
 *   settings and the text of its files (CA, client certificate and key,
 *   token) are unchanged, so its cache (and the last known endpoints used
 *   when the directory is down) carry over; otherwise a new one is made,
 *   which is how rotated certificates or tokens are picked up.
 */
#include "daemon.h"

#include <stdlib.h>
#include <string.h>

/* The directory settings and files of `c`, read now. */
struct dir_inputs {
  char *ca, *cert, *key, *tok;
  uint64_t fingerprint;
};

static void dir_inputs_free(struct dir_inputs *in)
{
  free(in->ca);
  free(in->cert);
  daemon_free_secret(in->key);
  daemon_free_secret(in->tok);
}

static int dir_inputs_read(const sdc_serve_config *c, struct dir_inputs *in)
{
  char num[64];
  uint64_t h = DAEMON_FNV_SEED;

  memset(in, 0, sizeof(*in));
  if((c->sd_ca_file && !(in->ca = daemon_read_file(c->sd_ca_file))) ||
     (c->sd_cert_file && (!(in->cert = daemon_read_file(c->sd_cert_file)) ||
                          !(in->key = daemon_read_file(c->sd_key_file)))) ||
     (c->sd_token_file && !(in->tok = daemon_read_file(c->sd_token_file)))) {
    daemon_log(0, "msg=\"cannot read the directory's TLS or token files\"");
    dir_inputs_free(in);
    return -1;
  }
  if(in->tok)
    in->tok[strcspn(in->tok, "\r\n")] = '\0';
  snprintf(num, sizeof(num), "%d %d %llu %llu", c->sd_insecure, c->sd_is_local,
           (unsigned long long)c->sd_timeout_ms, (unsigned long long)c->sd_cache_ttl_ms);
  h = daemon_fnv(h, num);
  h = daemon_fnv(h, c->sd_endpoint);
  h = daemon_fnv(h, c->sd_credentials_file);
  h = daemon_fnv(h, in->ca);
  h = daemon_fnv(h, in->cert);
  h = daemon_fnv(h, in->key);
  in->fingerprint = daemon_fnv(h, in->tok);
  return 0;
}

static struct shared_resolver *resolver_new(struct daemon *d, const sdc_serve_config *c,
                                            const struct dir_inputs *in)
{
  struct shared_resolver *sr = calloc(1, sizeof(*sr));
  sdc_resolver_opts *o = NULL;
  char err[1024] = "";

  if(!sr || sdc_resolver_opts_new(&o)) {
    free(sr);
    return NULL;
  }
  if(c->sd_is_local && d->local_ep[0]) /* its real port (listen may say 0) */
    sdc_resolver_opts_set_endpoint(o, d->local_ep);
  else if(c->sd_endpoint)
    sdc_resolver_opts_set_endpoint(o, c->sd_endpoint);
  sdc_resolver_opts_set_plaintext(o, c->sd_insecure);
  sdc_resolver_opts_set_timeout_ms(o, c->sd_timeout_ms);
  sdc_resolver_opts_set_cache_ttl_ms(o, c->sd_cache_ttl_ms);
  if(in->ca)
    sdc_resolver_opts_set_ca_pem(o, in->ca);
  if(in->cert)
    sdc_resolver_opts_set_client_cert_pem(o, in->cert, in->key);
  if(in->tok)
    sdc_resolver_opts_set_bearer_token(o, in->tok);
  if(c->sd_credentials_file)
    sdc_resolver_opts_set_google_credentials(o, c->sd_credentials_file);
  if(sdc_resolver_new(&sr->res, o, err, sizeof(err))) {
    daemon_log(0, "msg=\"cannot set up the directory client\" why=\"%s\"", err);
    free(sr);
    sr = NULL;
  }
  sdc_resolver_opts_free(o);
  if(sr)
    sr->refs = 1;
  return sr;
}

static void resolver_release(struct shared_resolver *sr)
{
  if(sr && --sr->refs == 0) {
    sdc_resolver_free(sr->res);
    free(sr);
  }
}

static bool uses_directory(const sdc_serve_config *c)
{
  for(size_t i = 0; i < sdc_check_set_count(c->checks); i++)
    if(sdc_check_service(sdc_check_set_get(c->checks, i)))
      return true;
  for(size_t i = 0; i < sdc_webhook_set_count(c->webhooks); i++)
    if(sdc_webhook_service(sdc_webhook_set_get(c->webhooks, i)))
      return true;
  return false;
}

int runner_new(struct daemon *d, sdc_serve_config *c, struct runner **out)
{
  struct runner *r = calloc(1, sizeof(*r));
  struct dir_inputs in;

  if(!r)
    return 1;
  if(dir_inputs_read(c, &in)) {
    free(r);
    return 2;
  }
  r->dir_fingerprint = in.fingerprint;
  if(!uses_directory(c)) {
    r->sr = NULL; /* only uptime_url checks: no directory client (nor credentials) */
  } else if(d->run && d->run->sr && in.fingerprint == d->run->dir_fingerprint) {
    r->sr = d->run->sr;
    r->sr->refs++;
  } else if(!(r->sr = resolver_new(d, c, &in))) {
    dir_inputs_free(&in);
    free(r);
    return 2;
  }
  dir_inputs_free(&in);
  if(sdc_prober_new(&r->pr, d->pool, r->sr ? r->sr->res : NULL) ||
     sdc_prober_set_credentials(r->pr, c->id_token_credentials) ||
     sdc_prober_set_shard(r->pr, d->shard, d->shards) ||
     sdc_scheduler_new(&r->sched, r->pr, c->max_running, report_run, d) ||
     sdc_webhook_caller_new(&r->caller, d->pool, r->sr ? r->sr->res : NULL)) {
    r->cfg = NULL; /* not taken */
    runner_free(r);
    return 1;
  }
  sdc_scheduler_on_start(r->sched, report_start, d);
  sdc_webhook_caller_set_turns(r->caller, 0); /* the gateway hands answers on as they are */
  r->cfg = c;
  *out = r;
  return 0;
}

void runner_free(struct runner *r)
{
  if(!r)
    return;
  sdc_scheduler_free(r->sched);
  sdc_prober_free(r->pr); /* runs still going end here (their reports too) */
  sdc_webhook_caller_free(r->caller); /* drained first (runner_reap, the daemon's stop) */
  resolver_release(r->sr);
  sdc_serve_config_free(r->cfg);
  free(r);
}

int runner_schedule_all(struct daemon *d)
{
  const sdc_serve_config *c = d->run->cfg;
  uint64_t now = daemon_now_ms();

  for(size_t i = 0; i < sdc_check_set_count(c->checks); i++) {
    const sdc_check *k = sdc_check_set_get(c->checks, i);
    if(sdc_scheduler_add(d->run->sched, k, now))
      return -1;
    daemon_log(2, "msg=scheduled check=%s period_s=%llu service=%s", sdc_check_id(k),
               (unsigned long long)(sdc_check_period_ms(k) / 1000),
               sdc_check_service(k) ? sdc_check_service(k) : "-");
  }
  return 0;
}

void runner_reap(struct daemon *d, bool all)
{
  for(struct runner **pp = &d->draining; *pp;) {
    struct runner *r = *pp;
    sdc_scheduler_stats st;
    sdc_scheduler_stats_get(r->sched, &st);
    if(all || (!st.running && !sdc_webhook_caller_live(r->caller))) {
      *pp = r->next;
      runner_free(r);
    } else {
      pp = &r->next;
    }
  }
}

/* What a reload cannot change while running, said once. */
static void restart_only(const sdc_serve_config *old, const sdc_serve_config *c)
{
#define DIFF(a, b) (!daemon_same_str((a), (b)))
  if(old->local != c->local || DIFF(old->local_listen, c->local_listen) ||
     DIFF(old->local_db, c->local_db) || DIFF(old->local_seed, c->local_seed) ||
     old->local_memory != c->local_memory)
    daemon_log(1, "msg=\"the local section changed: it takes effect at the next start\"");
  if(DIFF(old->state_dir, c->state_dir) || old->history_days != c->history_days)
    daemon_log(1, "msg=\"stateDir or results.historyDays changed: it takes effect at the "
                  "next start\"");
#undef DIFF
}

void daemon_reload(struct daemon *d)
{
  sdc_serve_config *c = NULL;
  struct runner *r = NULL, *old = d->run;
  char *errs = NULL;
  const char *refused[] = {"refused"}, *ok[] = {"ok"};
  sdc_status st = sdc_serve_config_load(d->config_path, &c, &errs);

  if(st) {
    daemon_log(0, "msg=\"reload refused; the running configuration stays\" file=%s",
               d->config_path);
    if(errs)
      fprintf(stderr, "%s%s", errs, errs[0] && errs[strlen(errs) - 1] != '\n' ? "\n" : "");
    sdc_free(errs);
    sdc_metric_add(d->f.reloads, refused, 1);
    return;
  }
  if(runner_new(d, c, &r) || daemon_admin_start(d, c) || daemon_gateway_start(d, c)) {
    if(r)
      runner_free(r); /* frees c */
    else
      sdc_serve_config_free(c);
    daemon_log(0, "msg=\"reload refused; the running configuration stays\" file=%s",
               d->config_path);
    sdc_metric_add(d->f.reloads, refused, 1);
    return;
  }
  restart_only(old->cfg, c);
  for(size_t i = 0; i < sdc_check_set_count(old->cfg->checks); i++)
    sdc_scheduler_remove(old->sched, sdc_check_set_get(old->cfg->checks, i));
  old->next = d->draining;
  d->draining = old;
  d->run = r;
  d->cfg = c;
  if(hooks_sync(d))
    daemon_log(0, "msg=\"out of memory keeping the webhooks' state\"");
  daemon_set_log_level(c->log_level);
  if(daemon_results_open(d, c))
    daemon_log(0, "msg=\"results are not written until the next good reload\"");
  if(runner_schedule_all(d))
    daemon_log(0, "msg=\"out of memory scheduling the reloaded checks\"");
  runner_reap(d, false);
  sdc_metric_add(d->f.reloads, ok, 1);
  daemon_log(2, "msg=reloaded checks=%zu", sdc_check_set_count(c->checks));
}
