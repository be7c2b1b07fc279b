/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sdconnect.yaml: the daemon's one file, read through the config module
 * (every problem with its file, line, column and field) and the check
 * decoder (inline UptimeCheckConfig resources, and files found by glob).
 * Files it names are checked to exist now, so that a typo fails the load
 * (and a reload keeps the old configuration) rather than the first use.
 */
#include <sdconnect/serve.h>

#include "config/config.h"
#include "core/core.h"
#include "probe/check.h"
#include "webhook/webhook.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_STRINGS 40
#define MAX_CHECK_FILES 1000
#define MAX_WEBHOOK_FILES 1000

struct conf {
  sdc_serve_config pub; /* first: handed out */
  char *strings[MAX_STRINGS];
  size_t n_strings;
  sdc_check_set *set;
  sdc_webhook_set *hooks;
};

struct load {
  struct sdc__cfg *cfg; /* the main file */
  struct conf *c;
  char base[1024];      /* its folder, for relative names */
  char *more_errors;    /* from check files */
  size_t more_len;
  bool failed;          /* a check file had problems */
};

#define P(buf, parent, key) (sdc__cfg_path(buf, sizeof(buf), parent, key), buf)

void sdc_serve_config_free(sdc_serve_config *pub)
{
  struct conf *c = (struct conf *)pub;

  if(!c)
    return;
  for(size_t i = 0; i < c->n_strings; i++)
    sdc_free(c->strings[i]);
  sdc_check_set_free(c->set);
  sdc_webhook_set_free(c->hooks);
  sdc_free(c);
}

static const char *keep(struct load *l, char *s)
{
  if(!s)
    return NULL;
  if(l->c->n_strings == MAX_STRINGS) { /* cannot happen: fields < 40 */
    sdc_free(s);
    return NULL;
  }
  l->c->strings[l->c->n_strings++] = s;
  return s;
}

/* ---- values ------------------------------------------------------------------ */
static const char *str_field(struct load *l, const struct sdc__cfg_node *map,
                             const char *parent, const char *key)
{
  char path[200];
  const struct sdc__cfg_node *n = sdc__cfg_field(map, key);
  char *s = NULL;

  if(!n || sdc__cfg_is_null(n))
    return NULL;
  if(!sdc__cfg_str(l->cfg, n, P(path, parent, key), 4096, &s))
    return NULL;
  return keep(l, s);
}

/* A file that must exist and be readable: its name as given, made
 * relative to the config's folder. */
static const char *file_field(struct load *l, const struct sdc__cfg_node *map,
                              const char *parent, const char *key)
{
  char path[200], full[2100];
  const struct sdc__cfg_node *n = sdc__cfg_field(map, key);
  const char *v = str_field(l, map, parent, key);
  struct stat sb;

  if(!v)
    return NULL;
  snprintf(full, sizeof(full), "%s%s", v[0] == '/' ? "" : l->base, v);
  if(stat(full, &sb)) {
    sdc__cfg_error(l->cfg, n, P(path, parent, key), "'%s': %s", full, strerror(errno));
    return NULL;
  }
  if(!S_ISREG(sb.st_mode)) {
    sdc__cfg_error(l->cfg, n, P(path, parent, key), "'%s' is not a file", full);
    return NULL;
  }
  return keep(l, sdc__strdup(full));
}

static bool bool_field(struct load *l, const struct sdc__cfg_node *map,
                       const char *parent, const char *key, int *out)
{
  char path[200];
  const struct sdc__cfg_node *n = sdc__cfg_field(map, key);
  bool b;

  if(!n || sdc__cfg_is_null(n))
    return false;
  if(sdc__cfg_bool(l->cfg, n, P(path, parent, key), &b))
    *out = b;
  return true;
}

static void ms_field(struct load *l, const struct sdc__cfg_node *map,
                     const char *parent, const char *key, uint64_t min_ms,
                     uint64_t max_ms, uint64_t *out)
{
  char path[200];
  const struct sdc__cfg_node *n = sdc__cfg_field(map, key);
  uint64_t ms;

  if(!n || !sdc__cfg_duration_ms(l->cfg, n, P(path, parent, key), &ms))
    return;
  if(ms < min_ms || ms > max_ms)
    sdc__cfg_error(l->cfg, n, path, "'%s' is out of range (expected %llus to %llus)",
                   n->str, (unsigned long long)min_ms / 1000,
                   (unsigned long long)max_ms / 1000);
  else
    *out = ms;
}

/* HOST:PORT with a port (0 allowed where `any_port`: a listener's choice). */
static const char *hostport_field(struct load *l, const struct sdc__cfg_node *map,
                                  const char *parent, const char *key, bool any_port)
{
  char path[200];
  const struct sdc__cfg_node *n = sdc__cfg_field(map, key);
  const char *v = str_field(l, map, parent, key), *colon;
  char *end = NULL;
  long port;

  if(!v)
    return NULL;
  colon = strrchr(v, ':');
  port = colon ? strtol(colon + 1, &end, 10) : -1;
  if(!colon || colon == v || !colon[1] || *end || port < (any_port ? 0 : 1) ||
     port > 65535) {
    sdc__cfg_error(l->cfg, n, P(path, parent, key), "'%s' is not HOST:PORT (expected "
                   "e.g. 127.0.0.1:%s or [::1]:%s)", v, any_port ? "9464" : "8085",
                   any_port ? "9464" : "8085");
    return NULL;
  }
  return v;
}

static bool loopback(const char *hostport)
{
  char host[256];
  const char *colon = strrchr(hostport, ':');
  size_t n = colon ? (size_t)(colon - hostport) : strlen(hostport);
  struct in_addr a4;

  if(n >= sizeof(host))
    return false;
  memcpy(host, hostport, n);
  host[n] = '\0';
  if(!strcmp(host, "localhost") || !strcmp(host, "[::1]") || !strcmp(host, "::1"))
    return true;
  return inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

/* ---- sections --------------------------------------------------------------------- */
static void directory(struct load *l, const struct sdc__cfg_node *n)
{
  static const char *const known[] = {"endpoint", "insecure", "caFile", "certFile",
                                      "keyFile", "tokenFile", "credentialsFile",
                                      "timeout", "cacheTtl", NULL};
  sdc_serve_config *p = &l->c->pub;

  if(!sdc__cfg_want(l->cfg, n, "directory", SDC_CFG_MAP))
    return;
  p->sd_endpoint = hostport_field(l, n, "directory", "endpoint", false);
  bool_field(l, n, "directory", "insecure", &p->sd_insecure);
  p->sd_ca_file = file_field(l, n, "directory", "caFile");
  p->sd_cert_file = file_field(l, n, "directory", "certFile");
  p->sd_key_file = file_field(l, n, "directory", "keyFile");
  p->sd_token_file = file_field(l, n, "directory", "tokenFile");
  p->sd_credentials_file = file_field(l, n, "directory", "credentialsFile");
  ms_field(l, n, "directory", "timeout", 1, 600000, &p->sd_timeout_ms);
  ms_field(l, n, "directory", "cacheTtl", 0, 86400000, &p->sd_cache_ttl_ms);
  if(!p->sd_cert_file != !p->sd_key_file)
    sdc__cfg_error(l->cfg, n, "directory", "certFile and keyFile go together "
                   "(expected both or neither)");
  if(p->sd_insecure && (p->sd_ca_file || p->sd_cert_file))
    sdc__cfg_error(l->cfg, n, "directory", "insecure turns TLS off: drop caFile and "
                   "certFile/keyFile, or insecure");
  sdc__cfg_unknown(l->cfg, n, "directory", known);
}

static void local(struct load *l, const struct sdc__cfg_node *n)
{
  static const char *const known[] = {"listen", "db", "memory", "seed", NULL};
  sdc_serve_config *p = &l->c->pub;

  if(!sdc__cfg_want(l->cfg, n, "local", SDC_CFG_MAP))
    return;
  p->local = 1;
  p->local_listen = hostport_field(l, n, "local", "listen", true);
  p->local_db = str_field(l, n, "local", "db");
  bool_field(l, n, "local", "memory", &p->local_memory);
  p->local_seed = file_field(l, n, "local", "seed");
  if(p->local_db && p->local_memory)
    sdc__cfg_error(l->cfg, n, "local", "db and memory: true together (expected one)");
  if(!p->local_listen)
    p->local_listen = "127.0.0.1:8085";
  sdc__cfg_unknown(l->cfg, n, "local", known);
}

/* A listener's fields (admin, gateway): its address, TLS, mTLS and token
 * files, and the rule that an address off loopback needs TLS or a token,
 * so that what it `exposes` is not open to the network. */
static void listener_fields(struct load *l, const struct sdc__cfg_node *n, const char *sec,
                            const char *exposes, const char **listen, const char **cert,
                            const char **key, const char **ca, const char **token)
{
  char path[64];

  *listen = hostport_field(l, n, sec, "listen", true);
  *cert = file_field(l, n, sec, "certFile");
  *key = file_field(l, n, sec, "keyFile");
  *ca = file_field(l, n, sec, "clientCaFile");
  *token = file_field(l, n, sec, "tokenFile");
  if(!*cert != !*key)
    sdc__cfg_error(l->cfg, n, sec, "certFile and keyFile go together (expected both or "
                   "neither)");
  if(*ca && !*cert)
    sdc__cfg_error(l->cfg, n, sec, "clientCaFile needs certFile and keyFile (mTLS is TLS "
                   "first)");
  if(*listen && !loopback(*listen) && !*cert && !*token)
    sdc__cfg_error(l->cfg, sdc__cfg_field(n, "listen"), P(path, sec, "listen"),
                   "'%s' is not loopback: give certFile/keyFile (TLS, or mTLS with "
                   "clientCaFile) or tokenFile, so that %s not open to the network",
                   *listen, exposes);
}

static void admin(struct load *l, const struct sdc__cfg_node *n)
{
  static const char *const known[] = {"listen", "certFile", "keyFile", "clientCaFile",
                                      "tokenFile", NULL};
  sdc_serve_config *p = &l->c->pub;

  if(!sdc__cfg_want(l->cfg, n, "admin", SDC_CFG_MAP))
    return;
  listener_fields(l, n, "admin", "the metrics and status page are",
                  &p->admin_listen, &p->admin_cert_file, &p->admin_key_file,
                  &p->admin_client_ca_file, &p->admin_token_file);
  sdc__cfg_unknown(l->cfg, n, "admin", known);
}

static void probing(struct load *l, const struct sdc__cfg_node *n)
{
  static const char *const known[] = {"maxRunning", "idTokenCredentials", NULL};
  sdc_serve_config *p = &l->c->pub;
  const struct sdc__cfg_node *f;
  long long v;

  if(!sdc__cfg_want(l->cfg, n, "probe", SDC_CFG_MAP))
    return;
  if((f = sdc__cfg_field(n, "maxRunning")) &&
     sdc__cfg_int(l->cfg, f, "probe.maxRunning", 1, 10000, &v))
    p->max_running = (unsigned)v;
  p->id_token_credentials = file_field(l, n, "probe", "idTokenCredentials");
  sdc__cfg_unknown(l->cfg, n, "probe", known);
}

static void results(struct load *l, const struct sdc__cfg_node *n)
{
  static const char *const known[] = {"file", "historyDays", NULL};
  sdc_serve_config *p = &l->c->pub;
  const struct sdc__cfg_node *f;
  long long v;

  if(!sdc__cfg_want(l->cfg, n, "results", SDC_CFG_MAP))
    return;
  p->results_file = str_field(l, n, "results", "file");
  if((f = sdc__cfg_field(n, "historyDays")) &&
     sdc__cfg_int(l->cfg, f, "results.historyDays", 1, 366, &v))
    p->history_days = (unsigned)v;
  sdc__cfg_unknown(l->cfg, n, "results", known);
}

static void logging(struct load *l, const struct sdc__cfg_node *n)
{
  static const char *const known[] = {"level", NULL};
  static const struct sdc__cfg_enum levels[] = {{"error", 0}, {"warn", 1}, {"info", 2},
                                                {"debug", 3}};
  const struct sdc__cfg_node *f;
  int lv;

  if(!sdc__cfg_want(l->cfg, n, "log", SDC_CFG_MAP))
    return;
  if((f = sdc__cfg_field(n, "level")) && sdc__cfg_enum(l->cfg, f, "log.level", levels, 4, &lv))
    l->c->pub.log_level = levels[lv].name;
  sdc__cfg_unknown(l->cfg, n, "log", known);
}

/* Problems of a check or webhook file (`text`, taken), kept for the
 * combined list. */
static void more_text(struct load *l, char *text)
{
  char *g;
  size_t n = text ? strlen(text) : 0;

  l->failed = true;
  if(!n || !(g = sdc__realloc(l->more_errors, l->more_len + n + 1))) {
    sdc_free(text);
    return;
  }
  memcpy(g + l->more_len, text, n + 1);
  l->more_errors = g;
  l->more_len += n;
  sdc_free(text);
}

static void more_errors(struct load *l, const struct sdc__cfg *cfg)
{
  more_text(l, sdc__cfg_errors_text(cfg));
}

/* Every file the globs of list `n` (at `where`) match, relative to the
 * config's folder, handed to `each` (at most `max`, counted in *count).
 * A glob that matches nothing is an error: a file that is not there would
 * silently not count. */
typedef void (*file_fn)(struct load *l, const struct sdc__cfg_node *at, const char *path,
                        const char *file);
static void each_file(struct load *l, const struct sdc__cfg_node *n, const char *where,
                      const char *what, size_t max, size_t *count, file_fn each)
{
  if(!sdc__cfg_want(l->cfg, n, where, SDC_CFG_SEQ))
    return;
  for(size_t i = 0; i < n->n; i++) {
    char path[80], pattern[2100], *g = NULL;
    glob_t gl;
    int rc;
    sdc__cfg_path_index(path, sizeof(path), where, i);
    if(!sdc__cfg_str(l->cfg, n->kids[i], path, 2000, &g))
      continue;
    snprintf(pattern, sizeof(pattern), "%s%s", g[0] == '/' ? "" : l->base, g);
    sdc_free(g);
    rc = glob(pattern, 0, NULL, &gl);
    if(rc == GLOB_NOMATCH || (!rc && !gl.gl_pathc)) {
      sdc__cfg_error(l->cfg, n->kids[i], path, "'%s' matches no file (a %s file that is "
                     "not there would silently not count)", pattern, what);
    } else if(rc) {
      sdc__cfg_error(l->cfg, n->kids[i], path, "'%s' cannot be read", pattern);
    }
    for(size_t k = 0; !rc && k < gl.gl_pathc; k++) {
      if(*count >= max) {
        sdc__cfg_error(l->cfg, n->kids[i], path, "more than %zu %s files", max, what);
        break;
      }
      (*count)++;
      each(l, n->kids[i], path, gl.gl_pathv[k]);
    }
    if(!rc || rc == GLOB_NOMATCH)
      globfree(&gl);
  }
}

static void check_file(struct load *l, const struct sdc__cfg_node *at, const char *path,
                       const char *file)
{
  struct sdc__cfg *fc = NULL;
  char err[1200];
  sdc_status st = sdc__cfg_load_file(file, &fc, err, sizeof(err));

  if(st == SDC_ENOMEM) {
    sdc__cfg_oom(l->cfg, at, path);
    return;
  }
  if(st == SDC_EIO || st == SDC_ETOOBIG) {
    sdc__cfg_error(l->cfg, at, path, "%s", err);
    return;
  }
  for(size_t d = 0; !st && d < fc->n_docs; d++)
    if(sdc__checks_from_node(fc, file, fc->docs[d], "", l->c->set))
      sdc__cfg_oom(l->cfg, NULL, "");
  if(fc->n_errs || fc->n_dropped)
    more_errors(l, fc);
  sdc__cfg_free(fc);
}

static void webhook_file(struct load *l, const struct sdc__cfg_node *at, const char *path,
                         const char *file)
{
  sdc_webhook_set *set = NULL;
  char *errs = NULL, dup[300];
  sdc_status st = sdc_webhooks_load_file(file, l->c->pub.webhook_environment, &set, &errs);

  if(st == SDC_ECONFIG) {
    l->failed = true;
    more_text(l, errs);
    return;
  }
  if(st == SDC_ENOMEM) {
    sdc__cfg_oom(l->cfg, at, path);
    return;
  }
  if(st) {
    sdc__cfg_error(l->cfg, at, path, "%s", errs ? errs : sdc_strerror(st));
    sdc_free(errs);
    return;
  }
  st = sdc__webhook_set_take(l->c->hooks, set, dup, sizeof(dup));
  if(st == SDC_EEXIST)
    sdc__cfg_error(l->cfg, at, path, "%s: the webhook id '%s' is also in an earlier file "
                   "(ids must be unique: give them different names or displayNames)", file,
                   dup);
  else if(st)
    sdc__cfg_oom(l->cfg, NULL, "");
  sdc_webhook_set_free(set);
}

static void webhooks(struct load *l, const struct sdc__cfg_node *n)
{
  static const char *const known[] = {"files", "environment", "probePeriod", NULL};
  sdc_serve_config *p = &l->c->pub;
  const struct sdc__cfg_node *f;

  if(!sdc__cfg_want(l->cfg, n, "webhooks", SDC_CFG_MAP))
    return;
  p->webhook_environment = str_field(l, n, "webhooks", "environment");
  if((f = sdc__cfg_field(n, "files")) && !sdc__cfg_is_null(f))
    each_file(l, f, "webhooks.files", "webhook", MAX_WEBHOOK_FILES, &p->n_webhook_files,
              webhook_file);
  ms_field(l, n, "webhooks", "probePeriod", 10000, 86400000, &p->webhook_probe_ms);
  sdc__cfg_unknown(l->cfg, n, "webhooks", known);
}

static void gateway(struct load *l, const struct sdc__cfg_node *n)
{
  static const char *const known[] = {"listen", "certFile", "keyFile", "clientCaFile",
                                      "tokenFile", "maxBodyBytes", "maxConcurrent",
                                      "maxConnections", NULL};
  sdc_serve_config *p = &l->c->pub;
  const struct sdc__cfg_node *f;
  long long v;

  if(!sdc__cfg_want(l->cfg, n, "gateway", SDC_CFG_MAP))
    return;
  if(!(f = sdc__cfg_field(n, "listen")) || sdc__cfg_is_null(f))
    sdc__cfg_error(l->cfg, n, "gateway", "listen is required (HOST:PORT the gateway "
                   "serves on, e.g. 127.0.0.1:8443)");
  listener_fields(l, n, "gateway", "the webhooks are", &p->gateway_listen,
                  &p->gateway_cert_file, &p->gateway_key_file, &p->gateway_client_ca_file,
                  &p->gateway_token_file);
  if((f = sdc__cfg_field(n, "maxBodyBytes")) &&
     sdc__cfg_int(l->cfg, f, "gateway.maxBodyBytes", 1024, 64LL << 20, &v))
    p->gateway_max_body = (size_t)v;
  if((f = sdc__cfg_field(n, "maxConcurrent")) &&
     sdc__cfg_int(l->cfg, f, "gateway.maxConcurrent", 1, 100000, &v))
    p->gateway_max_concurrent = (unsigned)v;
  if((f = sdc__cfg_field(n, "maxConnections")) &&
     sdc__cfg_int(l->cfg, f, "gateway.maxConnections", 1, 1000000, &v))
    p->gateway_max_connections = (unsigned)v;
  sdc__cfg_unknown(l->cfg, n, "gateway", known);
}

static void decode(struct load *l, const struct sdc__cfg_node *root)
{
  static const char *const known[] = {"directory", "local", "checks", "checkFiles",
                                      "webhooks", "gateway", "admin", "probe", "results",
                                      "stateDir", "log", NULL};
  const struct sdc__cfg_node *f;
  sdc_serve_config *p = &l->c->pub;

  if(!sdc__cfg_want(l->cfg, root, "", SDC_CFG_MAP))
    return;
  if((f = sdc__cfg_field(root, "directory")))
    directory(l, f);
  if((f = sdc__cfg_field(root, "local")) && !sdc__cfg_is_null(f))
    local(l, f);
  if((f = sdc__cfg_field(root, "checks")) && !sdc__cfg_is_null(f) &&
     sdc__checks_from_node(l->cfg, l->cfg->file, f, "checks", l->c->set))
    sdc__cfg_oom(l->cfg, f, "checks");
  if((f = sdc__cfg_field(root, "checkFiles")) && !sdc__cfg_is_null(f))
    each_file(l, f, "checkFiles", "check", MAX_CHECK_FILES, &p->n_check_files, check_file);
  if((f = sdc__cfg_field(root, "webhooks")) && !sdc__cfg_is_null(f))
    webhooks(l, f);
  if((f = sdc__cfg_field(root, "gateway")) && !sdc__cfg_is_null(f))
    gateway(l, f);
  if((f = sdc__cfg_field(root, "admin")))
    admin(l, f);
  if((f = sdc__cfg_field(root, "probe")))
    probing(l, f);
  if((f = sdc__cfg_field(root, "results")))
    results(l, f);
  if((f = sdc__cfg_field(root, "log")))
    logging(l, f);
  p->state_dir = str_field(l, root, "", "stateDir");
  sdc__cfg_unknown(l->cfg, root, "", known);
  /* defaults */
  if(p->local && !p->sd_endpoint) { /* resolve through it (timeouts, TTL still apply) */
    p->sd_endpoint = p->local_listen;
    p->sd_insecure = 1;
    p->sd_is_local = 1;
  }
  if(!p->admin_listen)
    p->admin_listen = "127.0.0.1:9464";
  if(!p->max_running)
    p->max_running = 64;
  if(!p->history_days)
    p->history_days = 7;
  if(!p->state_dir)
    p->state_dir = "/var/lib/sdconnect";
  if(!p->log_level)
    p->log_level = "info";
  if(!p->gateway_max_body)
    p->gateway_max_body = 1u << 20;
  if(!p->gateway_max_concurrent)
    p->gateway_max_concurrent = 256;
  if(!p->gateway_max_connections)
    p->gateway_max_connections = 4096;
  if(p->gateway_listen && !sdc_webhook_set_count(l->c->hooks) && !l->cfg->n_errs &&
     !l->failed)
    sdc__cfg_error(l->cfg, sdc__cfg_field(root, "gateway"), "gateway", "there are no "
                   "webhooks to forward to (give webhooks.files)");
  if(!p->sd_timeout_ms)
    p->sd_timeout_ms = 15000;
  if(!sdc__cfg_field(sdc__cfg_field(root, "directory"), "cacheTtl"))
    p->sd_cache_ttl_ms = 30000;
}

sdc_status sdc_serve_config_load(const char *path, sdc_serve_config **out,
                                 char **errors)
{
  struct load l;
  char err[1200];
  sdc_status st;
  const char *slash;

  if(!path || !out)
    return SDC_EINVAL;
  memset(&l, 0, sizeof(l));
  st = sdc__cfg_load_file(path, &l.cfg, err, sizeof(err));
  if(st == SDC_EIO || st == SDC_ETOOBIG || st == SDC_ENOMEM) {
    if(errors)
      *errors = sdc__strdup(err);
    return st;
  }
  if(st == SDC_OK && l.cfg->n_docs != 1)
    sdc__cfg_error(l.cfg, NULL, "", "%s (expected one YAML document)",
                   l.cfg->n_docs ? "more than one document" : "empty");
  slash = strrchr(path, '/');
  if(slash && (size_t)(slash - path) + 1 < sizeof(l.base))
    memcpy(l.base, path, (size_t)(slash - path) + 1);
  if(!(l.c = sdc__calloc(1, sizeof(*l.c))) || !(l.c->set = sdc__check_set_new()) ||
     !(l.c->hooks = sdc__webhook_set_new())) {
    if(l.c)
      sdc_check_set_free(l.c->set);
    sdc_free(l.c);
    sdc__cfg_free(l.cfg);
    return SDC_ENOMEM;
  }
  if(st == SDC_OK && l.cfg->n_docs == 1)
    decode(&l, l.cfg->docs[0]);
  l.c->pub.checks = l.c->set;
  l.c->pub.webhooks = l.c->hooks;
  if(l.cfg->oom) {
    sdc_free(l.more_errors);
    sdc_serve_config_free(&l.c->pub);
    sdc__cfg_free(l.cfg);
    return SDC_ENOMEM;
  }
  if(l.cfg->n_errs || l.cfg->n_dropped || l.failed) {
    if(errors) {
      char *mine = sdc__cfg_errors_text(l.cfg);
      size_t a = mine ? strlen(mine) : 0;
      char *all = sdc__malloc(a + l.more_len + 1);
      if(all) {
        memcpy(all, mine ? mine : "", a);
        memcpy(all + a, l.more_errors ? l.more_errors : "", l.more_len);
        all[a + l.more_len] = '\0';
      }
      sdc_free(mine);
      *errors = all;
    }
    sdc_free(l.more_errors);
    sdc_serve_config_free(&l.c->pub);
    sdc__cfg_free(l.cfg);
    return SDC_ECONFIG;
  }
  sdc__cfg_free(l.cfg);
  *out = &l.c->pub;
  return SDC_OK;
}
