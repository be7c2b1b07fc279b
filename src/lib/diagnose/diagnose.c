/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sdc_diagnose(): the configuration, then the directory, then the
 * endpoints, as Google's service meets them; the report and its JSON.
 */
#include "diagnose/diag.h"

#include "core/core.h"
#include "probe/check.h"
#include "webhook/webhook.h"

#include <jansson.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define STEP "config"

/* ---- options -------------------------------------------------------------- */
sdc_status sdc_diag_opts_new(sdc_diag_opts **out)
{
  sdc_diag_opts *o;

  if(!out)
    return SDC_EINVAL;
  if(!(o = sdc__calloc(1, sizeof(*o))))
    return SDC_ENOMEM;
  o->connect_ms = 3000;
  *out = o;
  return SDC_OK;
}

void sdc_diag_opts_free(sdc_diag_opts *o)
{
  if(!o)
    return;
  sdc_free(o->service);
  sdc_free(o->url);
  sdc_free(o->location);
  sdc_free(o->ca_pem);
  sdc_free(o->cert_pem);
  sdc__free_secret(o->key_pem);
  sdc_free(o);
}

sdc_status sdc_diag_opts_set_target(sdc_diag_opts *o, const char *service, const char *url)
{
  if(!o || !service || !url)
    return SDC_EINVAL;
  return sdc__replace_copy(&o->service, service) ? SDC_ENOMEM : sdc__replace_copy(&o->url, url);
}

sdc_status sdc_diag_opts_set_webhook(sdc_diag_opts *o, const sdc_webhook *w)
{
  sdc_status st;

  if(!o || !w || !w->service)
    return SDC_EINVAL;
  if((st = sdc_diag_opts_set_target(o, w->service, w->web.uri)))
    return st;
  o->webhook = w;
  return SDC_OK;
}

sdc_status sdc_diag_opts_set_check(sdc_diag_opts *o, const sdc_check *c)
{
  char url[600];
  sdc_status st;

  if(!o || !c || c->resource != RES_SD_SERVICE || !c->sd_name)
    return SDC_EINVAL;
  if(c->http)
    snprintf(url, sizeof(url), "%s://%s%s", c->use_ssl ? "https" : "http",
             c->host ? c->host : "endpoint", c->path ? c->path : "/");
  else
    snprintf(url, sizeof(url), "tcp://endpoint");
  if((st = sdc_diag_opts_set_target(o, c->sd_name, url)))
    return st;
  o->check = c;
  return SDC_OK;
}

sdc_status sdc_diag_opts_set_tls(sdc_diag_opts *o, const char *ca_pem, const char *cert_pem,
                                 const char *key_pem)
{
  char *key;

  if(!o)
    return SDC_EINVAL;
  key = key_pem ? sdc__strdup(key_pem) : NULL;
  if((key_pem && !key) || sdc__replace_copy(&o->ca_pem, ca_pem) ||
     sdc__replace_copy(&o->cert_pem, cert_pem)) {
    sdc__free_secret(key);
    return SDC_ENOMEM;
  }
  sdc__free_secret(o->key_pem);
  o->key_pem = key;
  return SDC_OK;
}

sdc_status sdc_diag_opts_set_location(sdc_diag_opts *o, const char *location)
{
  return o ? sdc__replace_copy(&o->location, location) : SDC_EINVAL;
}

void sdc_diag_opts_set_agent(sdc_diag_opts *o, sdc_resolver *agent)
{
  if(o)
    o->agent = agent;
}

void sdc_diag_opts_set_lab(sdc_diag_opts *o, int lab)
{
  if(o)
    o->lab = lab != 0;
}

void sdc_diag_opts_set_connect_timeout_ms(sdc_diag_opts *o, uint64_t ms)
{
  if(o && ms)
    o->connect_ms = ms;
}

/* ---- the report ------------------------------------------------------------ */
void diag_add(sdc_diag_report *r, const char *step, const char *code, sdc_diag_level level,
              const char *subject, const char *what, const char *fix)
{
  sdc_diag_finding *f;

  if(r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 16;
    sdc_diag_finding *g = sdc__realloc(r->items, cap * sizeof(*g));
    if(!g) {
      r->oom = true;
      return;
    }
    r->items = g;
    r->cap = cap;
  }
  f = &r->items[r->n];
  f->step = step; /* static strings */
  f->code = code;
  f->level = level;
  f->subject = sdc__strdup(subject ? subject : "");
  f->what = sdc__strdup(what ? what : "");
  f->fix = sdc__strdup(fix ? fix : "");
  if(!f->subject || !f->what || !f->fix) {
    sdc_free((char *)f->subject);
    sdc_free((char *)f->what);
    sdc_free((char *)f->fix);
    r->oom = true;
    return;
  }
  r->n++;
}

void diag_addf(sdc_diag_report *r, const char *step, const char *code, sdc_diag_level level,
               const char *subject, const char *fix, const char *fmt, ...)
{
  char what[1024];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(what, sizeof(what), fmt, ap);
  va_end(ap);
  diag_add(r, step, code, level, subject, what, fix);
}

sdc_status sdc_diag_report_one(const char *step, const char *code, sdc_diag_level level,
                               const char *subject, const char *what, const char *fix,
                               sdc_diag_report **out)
{
  sdc_diag_report *r;

  if(!out || !step || !code)
    return SDC_EINVAL;
  if(!(r = sdc__calloc(1, sizeof(*r))))
    return SDC_ENOMEM;
  diag_add(r, step, code, level, subject, what, fix);
  if(r->oom) {
    sdc_diag_report_free(r);
    return SDC_ENOMEM;
  }
  *out = r;
  return SDC_OK;
}

size_t sdc_diag_report_count(const sdc_diag_report *r) { return r ? r->n : 0; }

const sdc_diag_finding *sdc_diag_report_get(const sdc_diag_report *r, size_t i)
{
  return r && i < r->n ? &r->items[i] : NULL;
}

size_t sdc_diag_report_problems(const sdc_diag_report *r)
{
  size_t n = 0;

  for(size_t i = 0; r && i < r->n; i++)
    n += r->items[i].level == SDC_DIAG_FAIL || r->items[i].level == SDC_DIAG_WARN;
  return n;
}

const char *sdc_diag_level_name(sdc_diag_level l)
{
  switch(l) {
  case SDC_DIAG_OK: return "ok";
  case SDC_DIAG_WARN: return "warn";
  case SDC_DIAG_FAIL: return "fail";
  case SDC_DIAG_SKIP: return "skip";
  }
  return "?";
}

char *sdc_diag_report_json(const sdc_diag_report *r)
{
  json_t *list = json_array(), *top;
  char *text, *copy;

  for(size_t i = 0; list && r && i < r->n; i++) {
    const sdc_diag_finding *f = &r->items[i];
    json_array_append_new(list, json_pack("{s:s s:s s:s s:s s:s s:s}", "step", f->step,
                                          "code", f->code, "level",
                                          sdc_diag_level_name(f->level), "subject",
                                          f->subject, "what", f->what, "fix", f->fix));
  }
  top = list ? json_pack("{s:o s:I}", "findings", list, "problems",
                         (json_int_t)sdc_diag_report_problems(r))
             : NULL;
  text = top ? json_dumps(top, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  json_decref(top);
  copy = text ? sdc__strdup(text) : NULL; /* freed with sdc_free() */
  sdc__json_free(text);
  return copy;
}

void sdc_diag_report_free(sdc_diag_report *r)
{
  if(!r)
    return;
  for(size_t i = 0; i < r->n; i++) {
    sdc_free((char *)r->items[i].subject);
    sdc_free((char *)r->items[i].what);
    sdc_free((char *)r->items[i].fix);
  }
  sdc_free(r->items);
  sdc_free(r);
}

/* ---- step 1: what the configuration names ---------------------------------------- */
/* An id Service Directory takes: [a-z]([-a-z0-9]*[a-z0-9])?, at most 63. */
static bool copy_id(const char *s, size_t len, char *out, size_t cap)
{
  if(!len || len > 63 || len >= cap || s[0] < 'a' || s[0] > 'z' || s[len - 1] == '-')
    return false;
  for(size_t i = 0; i < len; i++)
    if(!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
      return false;
  memcpy(out, s, len);
  out[len] = '\0';
  return true;
}

/* A project id or number ("example.com:proj" for domain-scoped ones). */
static bool copy_project(const char *s, size_t len, char *out, size_t cap)
{
  if(!len || len >= cap || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-.:") < len)
    return false;
  memcpy(out, s, len);
  out[len] = '\0';
  return true;
}

bool diag_parse_service(const char *name, struct sd_name *out)
{
  static const char *const keys[] = {"projects", "locations", "namespaces", "services"};
  char *slots[] = {out->project, out->location, out->ns, out->service};
  const char *p = name;

  for(size_t i = 0; i < 4; i++) {
    size_t kl = strlen(keys[i]), len;
    if(strncmp(p, keys[i], kl) || p[kl] != '/')
      return false;
    p += kl + 1;
    len = strcspn(p, "/");
    if((i < 3) != (p[len] == '/'))
      return false;
    if(i == 0 ? !copy_project(p, len, out->project, sizeof(out->project))
              : !copy_id(p, len, slots[i], 64))
      return false;
    p += len + (i < 3);
  }
  return true;
}

/* Which auth the webhook sets in Authorization itself, or NULL. */
static const char *token_source(const struct sdc_webhook *w)
{
  if(w->web.oauth.set)
    return "oauthConfig";
  if(w->web.service_account)
    return "serviceAccountAuthConfig";
  if(w->web.agent_auth == SDC_WEBHOOK_AGENT_AUTH_ID_TOKEN ||
     w->web.agent_auth == SDC_WEBHOOK_AGENT_AUTH_ACCESS_TOKEN)
    return "serviceAgentAuth";
  if(w->web.username || w->web.secret_version_for_username_password)
    return "Basic auth (username/password)";
  return NULL;
}

/* Settings that lose their effect without an error. */
static void check_webhook(const struct sdc_webhook *w, sdc_diag_report *r)
{
  const char *source = token_source(w);
  bool header = false;
  char fix[400];

  for(size_t i = 0; i < w->web.n_headers; i++)
    header = header || !strcasecmp(w->web.headers[i].key, "Authorization");
  for(size_t i = 0; i < w->web.n_secret_headers; i++)
    header = header || !strcasecmp(w->web.secret_headers[i].key, "Authorization");
  if(header && source) {
    snprintf(fix, sizeof(fix), "drop the Authorization request header and let %s set it, "
             "or drop %s and keep the header", source, source);
    diag_addf(r, STEP, "AUTH_HEADER_CONFLICT", SDC_DIAG_WARN, w->id, fix,
              "an Authorization request header beside %s, which sets Authorization too: "
              "which one Dialogflow sends is not documented (sdconnect sends %s's)", source,
              source);
  }
}

static bool check_config(struct sdc_diag_opts *o, struct sd_name *n, sdc_diag_report *r)
{
  bool ok = true;
  int port;

  if(!diag_parse_service(o->service, n)) {
    diag_addf(r, STEP, "SD_NAME_MALFORMED", SDC_DIAG_FAIL, o->service,
              "use the service's full name, projects/PROJECT/locations/REGION/namespaces/"
              "NAMESPACE/services/SERVICE (ids: lower-case letters, digits and '-', starting "
              "with a letter; `sdconnect services` lists them)",
              "'%.300s' is not a Service Directory service name", o->service);
    return false;
  }
  if(o->location && *o->location && strcmp(o->location, n->location)) {
    char fix[400];
    snprintf(fix, sizeof(fix), "use a service in %s (Dialogflow reaches services in the "
             "agent's own location only), or move the agent", o->location);
    diag_addf(r, STEP, "SD_LOCATION_MISMATCH", SDC_DIAG_FAIL, o->service, fix,
              "the service is in %s; the agent is in %s", n->location, o->location);
    ok = false;
  }
  if(o->check) { /* its protocol and host, not a URL */
    o->tls = o->check->http && o->check->use_ssl;
    snprintf(o->host, sizeof(o->host), "%s", o->check->host ? o->check->host : "");
    if(o->check->validate_ssl_given && o->check->validate_ssl)
      diag_add(r, STEP, "CHECK_VALIDATE_SSL_IGNORED", SDC_DIAG_WARN, o->check->id,
               "validateSsl is set on a private (servicedirectory_service) check: Cloud "
               "Monitoring applies it to uptime_url checks only, so the certificate is not "
               "validated", "drop validateSsl, or check the certificate another way (its "
               "expiry: sdconnect_probe_cert_expiry_seconds)");
  } else if(strpbrk(o->url, " \t\r\n") ||
            sdc__url_host(o->url, o->host, sizeof(o->host), &port, &o->tls)) {
    diag_addf(r, STEP, "URL_MALFORMED", SDC_DIAG_FAIL, o->url,
              "give the URL Google's service calls: https://HOST[:PORT]/PATH, HOST the name "
              "on the server's certificate",
              "'%.300s' is not an http(s) URL with a host", o->url);
    ok = false;
  }
  if(o->webhook)
    check_webhook(o->webhook, r);
  if(ok)
    diag_addf(r, STEP, "CONFIG_OK", SDC_DIAG_OK, o->service, NULL,
              "the service name and the URL are well formed");
  return ok;
}

/* ---- the walk ------------------------------------------------------------------ */
/* Steps 3 to 6, once the directory gave endpoints. */
static void walk_endpoints(sdc_resolver *res, const struct sdc_diag_opts *o,
                           const struct sd_name *n, const sdc_service *svc,
                           sdc_diag_report *r);
/* The steps from steps[first] on did not run, because of `why`. */
static void skip_from(sdc_diag_report *r, size_t first, const char *why)
{
  static const char *const steps[] = {"directory", "iam", "endpoints", "tls", "http"};
  char what[200];

  snprintf(what, sizeof(what), "not run: %s", why);
  for(size_t i = first; i < sizeof(steps) / sizeof(steps[0]); i++)
    diag_add(r, steps[i], "SKIPPED", SDC_DIAG_SKIP, "", what, NULL);
}
static void walk_endpoints(sdc_resolver *res, const struct sdc_diag_opts *o,
                           const struct sd_name *n, const sdc_service *svc,
                           sdc_diag_report *r)
{
  diag_iam(o, n, svc, r); /* what Google's principal may do; sdconnect's checks go on */
  if(!diag_endpoints(o, svc, r))
    skip_from(r, 4, "no endpoint passed the checks above");
  else if(o->check)
    diag_check_run(res, o, r);
  else if(o->webhook)
    diag_http(res, o, r);
  else
    diag_add(r, "http", "SKIPPED", SDC_DIAG_SKIP, "", "not called: the call depends on the "
             "webhook (diagnose --webhook FILE)", NULL);
}

sdc_status sdc_diagnose(sdc_resolver *res, const sdc_diag_opts *o, sdc_diag_report **out)
{
  sdc_diag_report *r;
  struct sd_name n;
  const sdc_service *svc = NULL;
  struct sdc_diag_opts run; /* with what the URL says */

  if(!res || !o || !out || !o->service || !o->url)
    return SDC_EINVAL;
  if(!(r = sdc__calloc(1, sizeof(*r))))
    return SDC_ENOMEM;
  run = *o;
  o = &run;
  if(!check_config(&run, &n, r))
    skip_from(r, 0, "the configuration is wrong");
  else if(!diag_directory(res, o, &n, r, &svc))
    skip_from(r, 1, "the directory gave no endpoints");
  else
    walk_endpoints(res, o, &n, svc, r);
  sdc_service_release(svc);
  if(r->oom) {
    sdc_diag_report_free(r);
    return SDC_ENOMEM;
  }
  *out = r;
  return SDC_OK;
}
