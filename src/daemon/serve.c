/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sdconnect serve: run the configured checks on their periods and report
 * them (Prometheus metrics, the status page and the history on the admin
 * listener, JSON result lines). This file starts the parts and runs the
 * loop; runner.c runs checks and reloads; report.c reports.
 *
 * IMPLEMENTATION NOTES
 * - One thread, one loop: the pool's poll (sdc_pool_turn) waits for the
 *   network, the admin listener's epoll descriptor, a signalfd and posts
 *   from other threads (the history's writer, the resolver's); the
 *   scheduler says how long it may sleep.
 * - SIGHUP reloads (runner.c): a bad file, a directory client that cannot
 *   be made or an admin listener that cannot be opened leave everything
 *   as it was; the results file is reopened (for log rotation).
 * - SIGTERM/SIGINT: no new runs; running ones get a grace time; exit 0.
 */
#include "daemon.h"
#include "diagrun.h"
#include "exit.h"
#include "log.h"
#include "num.h"
#include "portfile.h"
#include "dev.h"
#include "registry.h"
#include "seed.h"
#include "serve.h"
#include "server.h"

#include <grpc/grpc.h>
#include <sys/stat.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define GRACE_MS 10000

/* ---- the local directory ------------------------------------------------------- */
/* The `local:` directory, in this process: its registry (memory or a
 * SQLite file), the seed, and its gRPC server. The resolver then talks to
 * it over loopback like to any other directory. */
static int start_local(struct daemon *d, const sdc_serve_config *c)
{
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
    daemon_log(0, "msg=\"local directory\" why=\"%s\"", e.msg);
    return 1;
  }
  if(c->local_seed) {
    struct seed_stats ss;
    if(lsd_seed_load(d->reg, c->local_seed, &ss, err, sizeof(err))) {
      fprintf(stderr, "sdconnect serve: %s\n", err);
      return 2;
    }
    daemon_log(2, "msg=\"seed loaded\" file=%s created=%u updated=%u", c->local_seed,
          ss.created, ss.updated);
  }
  so.listen = c->local_listen;
  so.threads = 2;
  so.max_message = 4 << 20;
  if(lsd_server_start(&d->lsd, d->reg, &so, &port, err, sizeof(err))) {
    daemon_log(0, "msg=\"local directory\" why=\"%s\"", err);
    return 1;
  }
  snprintf(d->local_ep, sizeof(d->local_ep), "127.0.0.1:%d", port);
  daemon_log(2, "msg=\"local directory\" listen=%s port=%d", c->local_listen, port);
  return 0;
}

/* ---- the admin listener and the results file (also on reload) ------------------- */
/* "HOST:PORT" of `listen` with `port` in place of its port; malloc'd. */
static char *with_port(const char *listen, int port)
{
  const char *colon = strrchr(listen, ':');
  size_t n = colon ? (size_t)(colon - listen) : strlen(listen);
  char *out = malloc(n + 8);

  if(out)
    snprintf(out, n + 8, "%.*s:%d", (int)n, listen, port);
  return out;
}

static bool port_zero(const char *listen)
{
  const char *colon = strrchr(listen, ':');
  return colon && !strcmp(colon, ":0");
}

/* How the admin listener and the gateway are opened and stopped, so that
 * one function moves either (move_listener). */
struct slot {
  const char *what;
  struct listen_opts *on; /* what the running one was started with */
  int *port;              /* the port it got */
  /* open one for `o` as the daemon's (its listen becomes the address got);
   * 0, or -1 with err */
  int (*open)(struct daemon *d, const sdc_serve_config *c, struct listen_opts *o, char *err,
              size_t cap);
  /* make `srv` (NULL: none) the daemon's, with `port`; the one it had */
  void *(*swap)(struct daemon *d, void *srv, int port);
  void (*stop)(void *srv); /* NULL ok */
};

/* `o`'s listen made the exact address got, so it can be opened again. */
static void note_port(struct listen_opts *o, int port)
{
  char *got = with_port(o->listen, port);

  if(got) {
    free(o->listen);
    o->listen = got;
  }
}

/* Port 0 on the same host keeps the port it got. */
static const char *address_for(const char *want, const struct listen_opts *on, bool running)
{
  return running && port_zero(want) && !strncmp(want, on->listen, strlen(want) - 1)
             ? on->listen
             : want;
}

/* Run the listener of `s` with `o` (taken). Unchanged: nothing happens.
 * The same address: the running one is let go first (the new one wants its
 * port) and, if the new one cannot open, opened again as it was. Another
 * address: the old one serves until the new one is up, and stays if it
 * cannot. 0, or -1 (logged). */
static int move_listener(struct daemon *d, const sdc_serve_config *c, const struct slot *s,
                         struct listen_opts *o)
{
  int old_port = *s->port;
  void *old = s->swap(d, NULL, 0);
  char err[1024];

  if(old && listen_opts_same(o, s->on)) {
    s->swap(d, old, old_port);
    listen_opts_free(o);
    return 0;
  }
  if(old && daemon_same_str(o->listen, s->on->listen)) {
    s->stop(old);
    old = NULL;
    if(s->open(d, c, o, err, sizeof(err))) {
      daemon_log(0, "msg=\"%s\" listen=%s why=\"%s\"", s->what, o->listen, err);
      listen_opts_free(o);
      if(s->open(d, c, s->on, err, sizeof(err)))
        daemon_log(0, "msg=\"the %s is down\" why=\"%s\"", s->what, err);
      return -1;
    }
  } else if(s->open(d, c, o, err, sizeof(err))) {
    daemon_log(0, "msg=\"%s\" listen=%s why=\"%s\"", s->what, o->listen, err);
    listen_opts_free(o);
    s->swap(d, old, old_port); /* another address: the old one goes on serving */
    return -1;
  }
  s->stop(old); /* another address: it served until now */
  listen_opts_free(s->on);
  *s->on = *o;
  return 0;
}

/* ---- the admin listener ---- */
static int admin_open(struct daemon *d, const sdc_serve_config *c, struct listen_opts *o,
                      char *err, size_t cap)
{
  (void)c;
  if(admin_start(&d->admin, d->pool, o, d->m, report_ready, d, &d->admin_port, err, cap))
    return -1;
  admin_set_status(d->admin, report_status, d);
  admin_set_diagnose(d->admin, diagrun_admin, d);
  note_port(o, d->admin_port);
  daemon_log(2, "msg=listening admin=%s port=%d metrics=http%s://%s/metrics", o->listen,
             d->admin_port, o->cert_pem ? "s" : "", o->listen);
  return 0;
}

static void *admin_swap(struct daemon *d, void *a, int port)
{
  void *had = d->admin;

  d->admin = a;
  d->admin_port = port;
  return had;
}

static void admin_stop_any(void *a) { admin_stop(a); }

int daemon_admin_start(struct daemon *d, const sdc_serve_config *c)
{
  const struct slot s = {"admin listener", &d->admin_on, &d->admin_port, admin_open,
                         admin_swap, admin_stop_any};
  struct listen_opts o;

  if(listen_opts_read(&o, s.what, address_for(c->admin_listen, s.on, d->admin != NULL),
                      c->admin_cert_file, c->admin_key_file, c->admin_client_ca_file,
                      c->admin_token_file))
    return -1;
  return move_listener(d, c, &s, &o);
}

void daemon_admin_stop(struct daemon *d)
{
  admin_stop(d->admin);
  d->admin = NULL;
}

/* ---- the gateway ---- */
static int gateway_open(struct daemon *d, const sdc_serve_config *c, struct listen_opts *o,
                        char *err, size_t cap)
{
  struct gateway_limits lim = {c->gateway_max_body, c->gateway_max_concurrent};

  if(gateway_start(&d->gateway, d, o, &lim, &d->gateway_port, err, cap))
    return -1;
  note_port(o, d->gateway_port);
  daemon_log(2, "msg=listening gateway=%s webhooks=%zu url=http%s://%s/v1/webhooks/{id}",
             o->listen, sdc_webhook_set_count(c->webhooks), o->cert_pem ? "s" : "", o->listen);
  return 0;
}

static void *gateway_swap(struct daemon *d, void *g, int port)
{
  void *had = d->gateway;

  d->gateway = g;
  d->gateway_port = port;
  return had;
}

static void gateway_stop_any(void *g) { gateway_stop(g); }

int daemon_gateway_start(struct daemon *d, const sdc_serve_config *c)
{
  const struct slot s = {"gateway", &d->gateway_on, &d->gateway_port, gateway_open,
                         gateway_swap, gateway_stop_any};
  struct gateway_limits lim = {c->gateway_max_body, c->gateway_max_concurrent};
  struct listen_opts o;
  int rc;

  if(!c->gateway_listen) {
    daemon_gateway_stop(d);
    return 0;
  }
  if(listen_opts_read(&o, s.what, address_for(c->gateway_listen, s.on, d->gateway != NULL),
                      c->gateway_cert_file, c->gateway_key_file, c->gateway_client_ca_file,
                      c->gateway_token_file))
    return -1;
  o.max_connections = c->gateway_max_connections;
  if(!(rc = move_listener(d, c, &s, &o)))
    gateway_set_limits(d->gateway, &lim); /* an unchanged one takes the new limits */
  return rc;
}

void daemon_gateway_stop(struct daemon *d)
{
  gateway_stop(d->gateway);
  d->gateway = NULL;
  listen_opts_free(&d->gateway_on);
}

int daemon_results_open(struct daemon *d, const sdc_serve_config *c)
{
  FILE *f = NULL;

  if(c->results_file && !(f = strcmp(c->results_file, "-") ? fopen(c->results_file, "a")
                                                            : stdout)) {
    daemon_log(0, "msg=\"cannot open the results file\" file=%s why=\"%s\"", c->results_file,
               strerror(errno));
    return -1;
  }
  if(d->results && d->results != stdout)
    fclose(d->results);
  d->results = f;
  return 0;
}

/* Webhook calls still under way when the daemon stops: no retry, requests
 * ended; what waits for a host or token ends on the loop within a while. */
static void drain_calls(struct daemon *d)
{
  uint64_t until = daemon_now_ms() + 2000;

  for(struct runner *r = d->run; r; r = r == d->run ? d->draining : r->next) {
    sdc_webhook_caller_close(r->caller);
    while(d->pool && sdc_webhook_caller_live(r->caller) && daemon_now_ms() < until)
      sdc_pool_turn(d->pool, 50);
    if(sdc_webhook_caller_live(r->caller)) { /* kept (not freed) rather than freed in use */
      daemon_log(1, "msg=\"webhook calls did not end in time; their caller is left\"");
      r->caller = NULL;
    }
  }
}

/* ---- signals and usage ---------------------------------------------------------- */
static void on_signal(int fd, short revents, void *ud)
{
  struct daemon *d = ud;
  struct signalfd_siginfo si;

  (void)revents;
  while(read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
    if(si.ssi_signo == SIGHUP) {
      d->reload = true;
    } else if(si.ssi_signo == SIGUSR1) { /* debug on, and off again */
      bool to_debug = svc_log_level() != SVC_LOG_DEBUG;
      const char *back = d->cfg ? d->cfg->log_level : "info";
      if(to_debug) {
        svc_log_set_level(SVC_LOG_DEBUG);
        sdc_set_log_level(SDC_LOG_DEBUG);
      } else {
        daemon_set_log_level(back);
      }
      daemon_log(1, "msg=\"log level changed\" level=%s signal=SIGUSR1 again=%s",
                 svc_log_level_name(svc_log_level()), to_debug ? back : "debug");
    } else if(!d->stopping) {
      d->stopping = true;
      svc_notify_send(&d->notify, "STOPPING=1");
      d->stop_by = daemon_now_ms() + GRACE_MS;
      daemon_log(2, "msg=\"stopping: no new runs, running ones get %d s\"", GRACE_MS / 1000);
    }
  }
}

/* --replicas N [--replica-index I]: I defaults to the number ending the
 * host name, as a StatefulSet names its pods (sdconnect-0, sdconnect-1). */
static int shard_args(struct daemon *d, const char *replicas, const char *index)
{
  unsigned long long n = 1, i = 0;
  char host[256] = "";

  d->shard = 0;
  d->shards = 1;
  if(!replicas && !index)
    return 0;
  if(!replicas || !svc_parse_uint(replicas, 1, 65536, &n)) {
    fprintf(stderr, "sdconnect serve: --replicas %s: give the number of replicas, 1 to "
            "65536%s\n", replicas ? replicas : "(missing)",
            replicas ? "" : " (--replica-index goes with it)");
    return -1;
  }
  if(index) {
    if(!svc_parse_uint(index, 0, n - 1, &i)) {
      fprintf(stderr, "sdconnect serve: --replica-index %s: give a number from 0 to %llu "
              "(one less than --replicas)\n", index, n - 1);
      return -1;
    }
  } else {
    const char *dash;
    gethostname(host, sizeof(host) - 1);
    dash = strrchr(host, '-');
    if(!dash || !svc_parse_uint(dash + 1, 0, n - 1, &i)) {
      fprintf(stderr, "sdconnect serve: --replicas %llu: no --replica-index, and the host "
              "name '%s' does not end in -I with I from 0 to %llu\nhint: give "
              "--replica-index, or run it as a StatefulSet of %llu replicas (its pods are "
              "NAME-0 to NAME-%llu); after a resize, change --replicas with it\n", n, host,
              n - 1, n, n - 1);
      return -1;
    }
  }
  d->shard = (unsigned)i;
  d->shards = (unsigned)n;
  return 0;
}

static void usage(FILE *to)
{
  fprintf(to, "Usage: sdconnect serve [--config FILE] [--port-file FILE]\n"
              "       sdconnect serve --dev [--state-dir DIR] [--admin-listen HOST:PORT]\n\n"
              "Run the checks of FILE (default /etc/sdconnect/sdconnect.yaml, see\n"
              "sdconnect.yaml(5)) on their periods; serve the status page, /metrics,\n"
              "/healthz and /readyz on the admin listener; keep a history for\n"
              "'sdconnect status'; write results as JSON lines. With 'webhooks' and\n"
              "'gateway', probe Dialogflow CX webhooks and forward\n"
              "POST /v1/webhooks/{id} to them as Dialogflow calls them.\n"
              "SIGHUP reloads the file; SIGUSR1 turns debug logging on, and off\n"
              "again; SIGTERM or SIGINT stops (exit 0).\n\n"
              "--port-file FILE  write the admin listener's port there once up\n"
              "--log-format F    logfmt (default) or json: one object a line, with\n"
              "                  Cloud Logging's time, severity and message\n"
              "--replicas N      one of N replicas sharing the checks: each probes\n"
              "                  its share of every check's endpoints (and of the\n"
              "                  webhooks), so N replicas probe each once\n"
              "--replica-index I which replica this is, 0..N-1; by default the\n"
              "                  number that ends the host name (a StatefulSet pod's\n"
              "                  name-ORDINAL)\n"
              "--dev             everything on this machine, no Google account: the\n"
              "                  local directory in the daemon, two demo HTTPS targets\n"
              "                  (one healthy, one failing on purpose), a check of\n"
              "                  them every %d s and a demo webhook behind the gateway\n"
              "                  (the admin port + 1); its files go to DIR (default\n"
              "                  $TMPDIR/sdconnect-dev), the page to HOST:PORT\n"
              "                  (default 127.0.0.1:9464)\n\n", DEV_PERIOD_S);
  fprintf(to, SDC_EXIT_TABLE, "is not used: the daemon exits 0 after SIGTERM or SIGINT");
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
          "  webhook        " DEV_WEBHOOK ": Dialogflow CX calls to https://" DEV_HOST "/webhook\n"
          "                 through the same service, probed every %d s; the gateway\n"
          "                 forwards POST http://%s:%d/v1/webhooks/" DEV_WEBHOOK "\n"
          "  try            sdconnect status --config %s\n"
          "                 sdconnect resolve %s --sd-endpoint %s --insecure\n"
          "                 curl -d '{}' http://%s:%d/v1/webhooks/" DEV_WEBHOOK "\n"
          "                 sdconnect call %s/webhooks.yaml --sd-endpoint %s --insecure -v\n"
          "                 sdconnect diagnose --config %s --id demo-webhook\n"
          "                   --sd-endpoint %s --insecure   (or the page's Diagnose)\n"
          "  Ctrl-C stops it. For a real project, see 'Against a real project' in README.md.\n\n",
          host, port, host, port, d->local_ep, d->config_path, DEV_PERIOD_S, DEV_HOST,
          DEV_SERVICE_NAME, dev_port(v, 0), dev_port(v, 1), DEV_PERIOD_S, host,
          d->gateway_port, d->config_path, DEV_SERVICE_NAME, d->local_ep, host,
          d->gateway_port, dev_dir(v), d->local_ep, d->config_path, d->local_ep);
}

int sdc_daemon_serve(int argc, char **argv)
{
  struct daemon d;
  sdc_serve_config *cfg = NULL;
  char err[1024], *errs = NULL;
  const char *port_file = NULL, *dev_dir = NULL, *dev_listen = "127.0.0.1:9464";
  const char *replicas_s = NULL, *index_s = NULL;
  char dev_cfg[1100], dev_default[900];
  bool dev = false, config_given = false;
  struct dev *demo = NULL;
  sigset_t set;
  int rc = 1;
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
    } else if(!strcmp(argv[i], "--log-format") && i + 1 < argc) {
      enum svc_log_format f;
      if(!svc_log_parse_format(argv[++i], &f)) {
        fprintf(stderr, "sdconnect serve: --log-format %s: give logfmt or json\n", argv[i]);
        return 2;
      }
      svc_log_set_format(f);
    } else if(!strcmp(argv[i], "--replicas") && i + 1 < argc) {
      replicas_s = argv[++i];
    } else if(!strcmp(argv[i], "--replica-index") && i + 1 < argc) {
      index_s = argv[++i];
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
  if(shard_args(&d, replicas_s, index_s))
    return 2;
  if(!dev && (dev_dir || strcmp(dev_listen, "127.0.0.1:9464"))) {
    fprintf(stderr, "sdconnect serve: --state-dir and --admin-listen go with --dev; "
                    "otherwise they are stateDir and admin.listen in the file\n");
    return 2;
  }
  svc_notify_open(&d.notify, daemon_now_ms()); /* changes the environment: no thread yet */
  /* signals go to the signalfd: blocked before any thread starts (gRPC's,
   * the resolver's, the demo targets'), so none of them takes the default
   * action */
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR1);
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
  st = sdc_serve_config_load(d.config_path, &cfg, &errs);
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
  if(sdc_global_init(NULL)) {
    sdc_serve_config_free(cfg);
    dev_stop(demo);
    fprintf(stderr, "sdconnect serve: cannot initialise the library\n");
    return 1;
  }
  daemon_set_log_level(cfg->log_level);
  daemon_log_library();
  if(d.shards > 1)
    daemon_log(2, "msg=sharding replica=%u replicas=%u", d.shard, d.shards);
  d.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if((rc = start_local(&d, cfg)))
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
  if(sdc_metrics_new(&d.m) || report_families(&d) || hooks_families(&d) || d.sigfd < 0 ||
     sdc_pool_watch(d.pool, d.sigfd, POLLIN, on_signal, &d))
    goto out;
  if((rc = runner_new(&d, cfg, &d.run)))
    goto out;
  d.cfg = cfg; /* the runner's now */
  cfg = NULL;
  rc = 1;
  {
    char path[1100];
    mkdir(d.cfg->state_dir, 0750); /* an existing one is fine */
    snprintf(path, sizeof(path), "%s/history.db", d.cfg->state_dir);
    if(history_open(&d.history, path, d.cfg->history_days, d.pool, err, sizeof(err))) {
      daemon_log(0, "msg=\"cannot open the history\" why=\"%s\"\nhint: stateDir must be a "
                 "folder the daemon may write", err);
      goto out;
    }
  }
  if(daemon_results_open(&d, d.cfg) || daemon_admin_start(&d, d.cfg) ||
     daemon_gateway_start(&d, d.cfg) || hooks_sync(&d))
    goto out;
  if(demo)
    dev_banner(&d, demo, d.cfg->admin_listen, d.admin_port);
  if(port_file && svc_write_port_file(port_file, d.admin_port)) {
    daemon_log(0, "msg=\"cannot write --port-file\" path=\"%s\" why=\"%s\"\nhint: "
               "give a path in a folder the daemon may write", port_file, strerror(errno));
    goto out;
  }
  if(runner_schedule_all(&d))
    goto out;
  {
    char ready[160];
    snprintf(ready, sizeof(ready), "READY=1\nSTATUS=serving %zu checks, %zu webhooks",
             sdc_check_set_count(d.cfg->checks),
             sdc_webhook_set_count(d.cfg->webhooks));
    svc_notify_send(&d.notify, ready);
  }
  for(;;) { /* the loop */
    uint64_t now = daemon_now_ms(), next, wait, due, dropped;
    sdc_scheduler_stats ss;
    if(d.reload) {
      d.reload = false;
      svc_notify_send(&d.notify, "RELOADING=1");
      daemon_reload(&d); /* a file that does not load leaves the running one */
      svc_notify_send(&d.notify, "READY=1");
    }
    next = d.stopping ? UINT64_MAX : sdc_scheduler_tick(d.run->sched, now);
    if(d.stopping)
      gateway_drain(d.gateway); /* the one serving now, whatever reloads did */
    if(!d.stopping && (due = hooks_tick(&d, now)) < next)
      next = due;
    runner_reap(&d, false);
    diagrun_tick(&d, now);
    sdc_scheduler_stats_get(d.run->sched, &ss);
    if(d.stopping && ((!ss.running && !d.draining && !sdc_webhook_caller_live(d.run->caller)) ||
                      now >= d.stop_by))
      break;
    if(ss.skipped > d.run->skipped_told) {
      sdc_metric_add(d.f.skipped, NULL, (double)(ss.skipped - d.run->skipped_told));
      d.run->skipped_told = ss.skipped;
    }
    if((dropped = history_dropped(d.history)) > d.dropped_told) { /* read once: it moves */
      sdc_metric_add(d.f.history_dropped, NULL, (double)(dropped - d.dropped_told));
      d.dropped_told = dropped;
    }
    report_process(&d, now);
    wait = next < 1000 ? next : 1000;
    if((due = admin_timeout_ms(d.admin)) < wait) /* each asked once a turn */
      wait = due;
    if((due = gateway_timeout_ms(d.gateway)) < wait)
      wait = due;
    if((due = svc_notify_tick(&d.notify, now)) < wait) /* only while the loop turns */
      wait = due;
    sdc_pool_turn(d.pool, wait);
    /* ready sockets ran the listeners already; what is due (timeouts,
     * resumed connections) runs here */
    if(!admin_timeout_ms(d.admin))
      admin_run(d.admin);
    if(!gateway_timeout_ms(d.gateway))
      gateway_run(d.gateway);
  }
  daemon_log(2, "msg=stopped");
  rc = 0;
out:
  if(rc)
    daemon_log(0, "msg=\"cannot start\" config=%s", d.config_path);
  daemon_gateway_stop(&d); /* requests still waiting are answered 503 */
  diagrun_stop(&d);
  drain_calls(&d);
  runner_free(d.run); /* runs still going end here (their reports too) */
  runner_reap(&d, true);
  sdc_serve_config_free(cfg); /* when no runner took it */
  history_close(d.history); /* written; summaries asked for are posted... */
  if(d.pool)
    sdc_pool_turn(d.pool, 0); /* ...and answered here */
  daemon_admin_stop(&d);
  listen_opts_free(&d.admin_on);
  hooks_free(&d);
  sdc_pool_free(d.pool);
  if(d.lsd)
    lsd_server_stop(d.lsd, 1000);
  lsd_registry_close(d.reg);
  sdc_metrics_free(d.m);
  if(d.results && d.results != stdout)
    fclose(d.results);
  report_cleanup(&d);
  if(d.sigfd >= 0)
    close(d.sigfd);
  dev_stop(demo);
  svc_notify_close(&d.notify);
  sdc_global_cleanup();
  return rc;
}
