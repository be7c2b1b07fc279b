/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's state, shared by its parts: serve.c (start, the loop,
 * signals), runner.c (what runs the checks, and reloads), report.c
 * (metrics, results, history, readiness, the status page's data).
 * Everything here runs on the daemon's one loop thread.
 */
#ifndef SDC_DAEMON_DAEMON_H
#define SDC_DAEMON_DAEMON_H

#include "admin.h"
#include "gateway.h"
#include "history.h"
#include "notify.h"

#include <sdconnect/sdconnect.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* The endpoints a check reported last time: their series go when they
 * leave the directory. */
struct seen {
  char *check;
  char **endpoints;
  size_t n;
};

/* A directory client, shared by the runners made while its settings did
 * not change (so its cache and last known answers carry over a reload). */
struct shared_resolver {
  sdc_resolver *res;
  unsigned refs;
};

/* What runs one configuration's checks: its directory client, a prober on
 * the daemon's pool, and a scheduler. A reload makes a new runner; the old
 * one drains (its running checks finish and report) and is then freed
 * with its configuration. */
struct runner {
  sdc_serve_config *cfg;
  struct shared_resolver *sr;
  sdc_prober *pr;
  sdc_scheduler *sched;
  sdc_webhook_caller *caller; /* the gateway's and the webhook probes' calls */
  uint64_t skipped_told;
  uint64_t dir_fingerprint; /* the directory's settings and files it was made from */
  struct runner *next;      /* in the draining list */
};

struct daemon {
  const char *config_path;
  struct svc_notify notify; /* systemd's readiness, reload, stop and watchdog */
  unsigned shard, shards;   /* this replica's index and the count (--replicas); 0 of 1 */
  sdc_serve_config *cfg; /* the running configuration: run->cfg */
  struct runner *run, *draining;
  sdc_pool *pool;
  sdc_metrics *m;
  struct admin *admin;
  struct listen_opts admin_on; /* what the listener was started with (its files' text) */
  int admin_port;
  struct gateway *gateway;
  struct listen_opts gateway_on;
  int gateway_port;
  struct hook_state *hooks; /* by webhook, for the status page (hooks.c) */
  size_t n_hooks;
  struct history *history;
  uint64_t dropped_told;
  unsigned long connections_told;
  FILE *results;
  int sigfd;
  bool stopping, reload;
  uint64_t stop_by;
  struct seen *seen;
  size_t n_seen;
  struct diag_run *diags;   /* diagnoses asked from the status page (diagrun.c) */
  struct lsd_registry *reg; /* the local directory, when configured */
  struct lsd_server *lsd;
  char local_ep[300];
  struct {
    sdc_metric *success, *duration, *phase, *status, *version, *expiry, *tls, *length,
        *check_success, *failures, *runs, *skipped, *lag, *stale, *rss, *fds,
        *history_dropped, *reloads, *resolves, *connections, *wh_calls, *wh_duration,
        *wh_retries, *wh_up, *gw_refused, *shard;
  } f;
};

/* logfmt on standard error: 0 error, 1 warn, 2 info, 3 debug. */
void daemon_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void daemon_set_log_level(const char *name);
/* Send libsdconnect's log lines to the daemon's log (before threads start). */
void daemon_log_library(void);
uint64_t daemon_now_ms(void); /* monotonic */
double daemon_now_s(void);    /* monotonic, to the nanosecond: for latencies */
/* A whole file (at most 1 MiB), NUL-terminated; NULL if unreadable. */
char *daemon_read_file(const char *path);
/* Two optional strings are equal (both NULL, or the same text). */
bool daemon_same_str(const char *a, const char *b);
/* FNV-1a of `s` (NULL and "" differ) and a separator, onto `h`: start
 * from DAEMON_FNV_SEED. For fingerprints and spreading by id. */
#define DAEMON_FNV_SEED 1469598103934665603ULL
uint64_t daemon_fnv(uint64_t h, const char *s);
/* Free a copy of a secret, wiping it first. NULL ok. */
void daemon_free_secret(char *s);

/* report.c */
int report_families(struct daemon *d);
void report_process(struct daemon *d, uint64_t now);
void report_run(const sdc_probe_report *rep, void *ud);      /* sdc_probe_cb */
void report_start(const sdc_check *c, double lag_ms, void *ud); /* start callback */
bool report_ready(void *ud, char *why, size_t cap);          /* admin_ready_fn */
void report_status(void *ud, struct admin_pending *p);       /* admin_status_fn */
void report_cleanup(struct daemon *d);

/* hooks.c: the webhooks' metrics, last outcomes and probes */
int hooks_families(struct daemon *d);
/* After the configuration changed: a state per webhook (kept by id). 0/-1. */
int hooks_sync(struct daemon *d);
/* Start the probes that are due; ms until the next one (UINT64_MAX: none). */
uint64_t hooks_tick(struct daemon *d, uint64_t now);
struct json_t *hooks_json(struct daemon *d); /* for /status.json */
void hooks_free(struct daemon *d);
void report_webhook(struct daemon *d, const char *source, const sdc_webhook_call_result *r,
                    double seconds);
void report_gateway_refused(struct daemon *d, const char *reason);

/* runner.c */
/* A runner for `c` (taken over on success): a new directory client, or
 * the running one's when `c` names the same directory. 0, or 1/2 (logged). */
int runner_new(struct daemon *d, sdc_serve_config *c, struct runner **out);
/* Schedule every check of the running runner. 0, or -1 (out of memory). */
int runner_schedule_all(struct daemon *d);
/* Free drained runners (every draining one when `all`). */
void runner_reap(struct daemon *d, bool all);
void runner_free(struct runner *r); /* NULL ok */
/* SIGHUP: load the file again; if it is good, run it (see runner.c). */
void daemon_reload(struct daemon *d);

/* serve.c */
/* (Re)start the admin listener for `c`'s settings; 0, or -1 (logged). */
int daemon_admin_start(struct daemon *d, const sdc_serve_config *c);
void daemon_admin_stop(struct daemon *d);
/* (Re)start the gateway for `c` (none without gateway.listen); 0, or -1
 * (logged). */
int daemon_gateway_start(struct daemon *d, const sdc_serve_config *c);
void daemon_gateway_stop(struct daemon *d);
/* Open (or reopen) the results file of `c`; 0, or -1 (logged). */
int daemon_results_open(struct daemon *d, const sdc_serve_config *c);

#endif
