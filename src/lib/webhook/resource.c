/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Dialogflow CX `Webhook` resources (REST JSON names) -> struct
 * sdc_webhook, rejecting what the API rejects (dialogflow-webhooks sheet,
 * §3, §4 and §10) with the line, column and field of each problem and
 * how to fix it. Environment resources beside them carry overrides
 * (`webhookConfig.webhookOverrides`); the chosen environment's replace the
 * `genericWebService` or `serviceDirectory` of the webhook they name (the
 * sheet does not say whether Google merges field by field, §11.10).
 *
 * What Google's resource has no field for lives under `sdconnect:`.
 */
#include "webhook/webhook.h"

#include "config/config.h"
#include "core/core.h"

#include <openssl/x509.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TIMEOUT_MS 30000
#define DEFAULT_TIMEOUT_MS 5000
#define MAX_BODY_TEMPLATE (64u << 10)

struct dec {
  struct sdc__cfg *cfg;
  char base[1024];
};

#define P(buf, parent, key) (sdc__cfg_path(buf, sizeof(buf), parent, key), buf)

/* ---- freeing ------------------------------------------------------------------ */
static void kv_free(struct sdc__kv *v, size_t n)
{
  for(size_t i = 0; i < n; i++) {
    sdc_free(v[i].key);
    sdc_free(v[i].value);
  }
  sdc_free(v);
}

static void web_free(struct sdc__web *w)
{
  sdc_free(w->uri);
  sdc_free(w->username);
  sdc__free_secret(w->password);
  sdc_free(w->secret_version_for_username_password);
  kv_free(w->headers, w->n_headers);
  kv_free(w->secret_headers, w->n_secret_headers);
  for(size_t i = 0; i < w->n_ca; i++)
    sdc_free(w->ca_der[i]);
  sdc_free(w->ca_der);
  sdc_free(w->ca_len);
  sdc_free(w->oauth.client_id);
  sdc__free_secret(w->oauth.client_secret);
  sdc_free(w->oauth.secret_version_for_client_secret);
  sdc_free(w->oauth.token_endpoint);
  for(size_t i = 0; i < w->oauth.n_scopes; i++)
    sdc_free(w->oauth.scopes[i]);
  sdc_free(w->oauth.scopes);
  sdc_free(w->service_account);
  sdc_free(w->request_body);
  kv_free(w->parameter_mapping, w->n_parameter_mapping);
  memset(w, 0, sizeof(*w));
}

void sdc__webhook_free(struct sdc_webhook *w)
{
  if(!w)
    return;
  sdc_free(w->name);
  sdc_free(w->display_name);
  sdc_free(w->id);
  sdc_free(w->service);
  sdc_free(w->environment);
  web_free(&w->web);
  sdc_free(w->ext.client_cert_pem);
  sdc__free_secret(w->ext.client_key_pem);
  for(size_t i = 0; i < w->ext.n_secrets; i++) {
    sdc_free(w->ext.secrets[i].version);
    sdc_free(w->ext.secrets[i].file);
    sdc_free(w->ext.secrets[i].env);
  }
  sdc_free(w->ext.secrets);
  sdc_free(w->ext.secret_manager_endpoint);
  sdc_free(w->ext.token_endpoint);
  sdc_free(w->ext.credentials_file);
  sdc_free(w->ext.iam_endpoint);
  sdc_free(w->ext.agent);
  sdc_free(w->ext.retry_statuses);
  sdc_free(w->ext.scope_separator);
  sdc_free(w);
}

void sdc_webhook_set_free(sdc_webhook_set *s)
{
  if(!s)
    return;
  for(size_t i = 0; i < s->n; i++)
    sdc__webhook_free(s->v[i]);
  sdc_free(s->v);
  sdc_free(s);
}

sdc_webhook_set *sdc__webhook_set_new(void) { return sdc__calloc(1, sizeof(sdc_webhook_set)); }

sdc_status sdc__webhook_set_take(sdc_webhook_set *to, sdc_webhook_set *from, char *dup,
                                 size_t cap)
{
  struct sdc_webhook **v;

  for(size_t i = 0; i < from->n; i++)
    for(size_t j = 0; j < to->n; j++)
      if(!strcmp(from->v[i]->id, to->v[j]->id)) {
        snprintf(dup, cap, "%s", to->v[j]->id);
        return SDC_EEXIST;
      }
  if(!from->n)
    return SDC_OK;
  if(!(v = sdc__realloc(to->v, (to->n + from->n) * sizeof(*v))))
    return SDC_ENOMEM;
  memcpy(v + to->n, from->v, from->n * sizeof(*v));
  to->v = v;
  to->n += from->n;
  from->n = 0;
  return SDC_OK;
}

/* ---- accessors ---------------------------------------------------------------- */
size_t sdc_webhook_set_count(const sdc_webhook_set *s) { return s ? s->n : 0; }

const sdc_webhook *sdc_webhook_set_get(const sdc_webhook_set *s, size_t i)
{
  return s && i < s->n ? s->v[i] : NULL;
}

const sdc_webhook *sdc_webhook_set_find(const sdc_webhook_set *s, const char *key)
{
  for(size_t i = 0; s && key && i < s->n; i++)
    if(!strcmp(s->v[i]->id, key) || !strcmp(s->v[i]->display_name, key) ||
       (s->v[i]->name && !strcmp(s->v[i]->name, key)))
      return s->v[i];
  return NULL;
}

const char *sdc_webhook_id(const sdc_webhook *w) { return w->id; }
const char *sdc_webhook_display_name(const sdc_webhook *w) { return w->display_name; }
const char *sdc_webhook_service(const sdc_webhook *w) { return w->service; }
const char *sdc_webhook_uri(const sdc_webhook *w) { return w->web.uri; }
sdc_webhook_type sdc_webhook_kind(const sdc_webhook *w) { return w->web.type; }
uint64_t sdc_webhook_timeout_ms(const sdc_webhook *w) { return w->timeout_ms; }
int sdc_webhook_disabled(const sdc_webhook *w) { return w->disabled; }
const char *sdc_webhook_environment(const sdc_webhook *w) { return w->environment; }

static const struct sdc__cfg_enum methods[] = {
    {"HTTP_METHOD_UNSPECIFIED", 0}, {"POST", 1},   {"GET", 2},     {"HEAD", 3},
    {"PUT", 4},                     {"DELETE", 5}, {"PATCH", 6},   {"OPTIONS", 7}};

const char *sdc_webhook_method(const sdc_webhook *w)
{
  if(w->web.type != SDC_WEBHOOK_FLEXIBLE || w->web.http_method <= 0)
    return "POST";
  return methods[w->web.http_method].name;
}

/* ---- names ---------------------------------------------------------------------- */
/* projects/P/secrets/S/versions/V */
static bool secret_version_ok(const char *s)
{
  char p[256], n[256], v[256];
  int end = 0;

  return strlen(s) < 700 &&
         sscanf(s, "projects/%255[^/]/secrets/%255[^/]/versions/%255[^/]%n", p, n, v, &end) ==
             3 &&
         s[end] == '\0';
}

/* projects/P/locations/L/... -> L into out */
static bool location_of(const char *name, char *out, size_t cap)
{
  char p[256], l[256];

  if(sscanf(name, "projects/%255[^/]/locations/%255[^/]", p, l) != 2)
    return false;
  snprintf(out, cap, "%s", l);
  return true;
}

static bool service_name_ok(const char *s)
{
  char a[256], b[256], c[256], d[256];
  int end = 0;

  return sscanf(s, "projects/%255[^/]/locations/%255[^/]/namespaces/%255[^/]/services/%255[^/]%n",
                a, b, c, d, &end) == 4 &&
         s[end] == '\0';
}

/* RFC 7230 token characters: a header name. */
static bool header_name_ok(const char *s)
{
  if(!*s)
    return false;
  for(; *s; s++)
    if(!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
      return false;
  return true;
}

static char *id_from(const char *display)
{
  char *id = sdc__malloc(strlen(display) + 2), *o = id;
  bool dash = false;

  if(!id)
    return NULL;
  for(const char *p = display; *p; p++) {
    if(isalnum((unsigned char)*p)) {
      if(dash && o > id)
        *o++ = '-';
      *o++ = (char)tolower((unsigned char)*p);
      dash = false;
    } else {
      dash = true;
    }
  }
  if(o == id)
    *o++ = 'w';
  *o = '\0';
  return id;
}

/* ---- genericWebService ------------------------------------------------------------ */
/* A map<string,string> field into kv pairs; `check` vets each pair. */
static void decode_map(struct dec *d, const struct sdc__cfg_node *n, const char *path,
                       struct sdc__kv **out, size_t *n_out, bool headers)
{
  if(!n || sdc__cfg_is_null(n) || !sdc__cfg_want(d->cfg, n, path, SDC_CFG_MAP))
    return;
  if(!(*out = sdc__calloc(n->n ? n->n : 1, sizeof(**out)))) {
    sdc__cfg_oom(d->cfg, n, path);
    return;
  }
  for(size_t i = 0; i < n->n; i++) {
    const struct sdc__cfg_node *k = n->kids[2 * i], *v = n->kids[2 * i + 1];
    char kpath[300];
    struct sdc__kv *kv = &(*out)[*n_out];
    sdc__cfg_path(kpath, sizeof(kpath), path, k->str);
    if(headers && !header_name_ok(k->str)) {
      sdc__cfg_error(d->cfg, k, kpath, "'%s' is not an HTTP header name (letters, digits "
                     "and !#$%%&'*+-.^_`|~ only)", k->str);
      continue;
    }
    if(!sdc__cfg_str(d->cfg, v, kpath, 8192, &kv->value))
      continue;
    if(headers && strpbrk(kv->value, "\r\n")) {
      sdc__cfg_error(d->cfg, v, kpath, "a header value cannot hold a line break");
      sdc_free(kv->value);
      kv->value = NULL;
      continue;
    }
    if(!(kv->key = sdc__strdup(k->str))) {
      sdc_free(kv->value);
      sdc__cfg_oom(d->cfg, k, path);
      continue;
    }
    (*n_out)++;
  }
}

static void decode_secret_headers(struct dec *d, const struct sdc__cfg_node *n,
                                  const char *path, struct sdc__web *w)
{
  if(!n || sdc__cfg_is_null(n) || !sdc__cfg_want(d->cfg, n, path, SDC_CFG_MAP))
    return;
  if(!(w->secret_headers = sdc__calloc(n->n ? n->n : 1, sizeof(*w->secret_headers)))) {
    sdc__cfg_oom(d->cfg, n, path);
    return;
  }
  for(size_t i = 0; i < n->n; i++) {
    static const char *const known[] = {"secretVersion", NULL};
    const struct sdc__cfg_node *k = n->kids[2 * i], *v = n->kids[2 * i + 1];
    struct sdc__kv *kv = &w->secret_headers[w->n_secret_headers];
    char kpath[300];
    sdc__cfg_path(kpath, sizeof(kpath), path, k->str);
    if(!header_name_ok(k->str)) {
      sdc__cfg_error(d->cfg, k, kpath, "'%s' is not an HTTP header name", k->str);
      continue;
    }
    if(!sdc__cfg_want(d->cfg, v, kpath, SDC_CFG_MAP) ||
       !sdc__cfg_get_str(d->cfg, v, kpath, "secretVersion", 700, true, &kv->value))
      continue;
    sdc__cfg_unknown(d->cfg, v, kpath, known);
    if(!kv->value)
      continue;
    if(!secret_version_ok(kv->value)) {
      char vpath[340];
      sdc__cfg_error(d->cfg, sdc__cfg_field(v, "secretVersion"),
                     P(vpath, kpath, "secretVersion"),
                     "'%s' is not a secret version (expected "
                     "projects/PROJECT/secrets/SECRET/versions/VERSION)", kv->value);
    }
    if(!(kv->key = sdc__strdup(k->str)))
      sdc__cfg_oom(d->cfg, k, path);
    w->n_secret_headers++;
  }
}

/* allowedCaCerts: base64 of DER certificates. */
static void decode_cas(struct dec *d, const struct sdc__cfg_node *n, const char *path,
                       struct sdc__web *w)
{
  if(!n || sdc__cfg_is_null(n) || !sdc__cfg_want(d->cfg, n, path, SDC_CFG_SEQ))
    return;
  w->ca_der = sdc__calloc(n->n ? n->n : 1, sizeof(*w->ca_der));
  w->ca_len = sdc__calloc(n->n ? n->n : 1, sizeof(*w->ca_len));
  if(!w->ca_der || !w->ca_len) {
    sdc__cfg_oom(d->cfg, n, path);
    return;
  }
  for(size_t i = 0; i < n->n; i++) {
    char ipath[300];
    unsigned char *der = NULL;
    size_t len = 0;
    const unsigned char *p;
    X509 *x;
    sdc__cfg_path_index(ipath, sizeof(ipath), path, i);
    if(n->kids[i]->kind == SDC_CFG_SCALAR && strstr(n->kids[i]->str, "-----BEGIN")) {
      sdc__cfg_error(d->cfg, n->kids[i], ipath,
                     "a PEM certificate; the API takes DER, base64-encoded (convert with "
                     "'openssl x509 -in ca.pem -outform der | base64 -w0')");
      continue;
    }
    if(!sdc__cfg_base64(d->cfg, n->kids[i], ipath, 64u << 10, &der, &len))
      continue;
    p = der;
    if(!(x = d2i_X509(NULL, &p, (long)len)) || p != der + len) {
      sdc__cfg_error(d->cfg, n->kids[i], ipath,
                     "not a DER certificate once base64 is decoded (%zu bytes); give "
                     "'openssl x509 -in ca.pem -outform der | base64 -w0'", len);
      X509_free(x);
      sdc_free(der);
      continue;
    }
    X509_free(x);
    w->ca_der[w->n_ca] = der;
    w->ca_len[w->n_ca++] = len;
  }
}

static void decode_oauth(struct dec *d, const struct sdc__cfg_node *n, const char *path,
                         struct sdc__oauth *o)
{
  static const char *const known[] = {"clientId", "clientSecret",
                                      "secretVersionForClientSecret", "tokenEndpoint",
                                      "scopes", NULL};
  const struct sdc__cfg_node *f;
  char fpath[300];

  if(!n || sdc__cfg_is_null(n) || !sdc__cfg_want(d->cfg, n, path, SDC_CFG_MAP))
    return;
  o->set = true;
  sdc__cfg_get_str(d->cfg, n, path, "clientId", 1024, true, &o->client_id);
  sdc__cfg_get_str(d->cfg, n, path, "clientSecret", 4096, false, &o->client_secret);
  if(sdc__cfg_get_str(d->cfg, n, path, "secretVersionForClientSecret", 700, false,
                      &o->secret_version_for_client_secret) &&
     o->secret_version_for_client_secret &&
     !secret_version_ok(o->secret_version_for_client_secret))
    sdc__cfg_error(d->cfg, sdc__cfg_field(n, "secretVersionForClientSecret"),
                   P(fpath, path, "secretVersionForClientSecret"),
                   "not a secret version (expected projects/P/secrets/S/versions/V)");
  if(sdc__cfg_get_str(d->cfg, n, path, "tokenEndpoint", 2048, true, &o->token_endpoint) &&
     o->token_endpoint && strncmp(o->token_endpoint, "https://", 8))
    sdc__cfg_error(d->cfg, sdc__cfg_field(n, "tokenEndpoint"), P(fpath, path, "tokenEndpoint"),
                   "'%s' is not an https URL (the API takes https only; a test token "
                   "server goes in sdconnect.tokenEndpoint)", o->token_endpoint);
  if((f = sdc__cfg_field(n, "scopes")) && !sdc__cfg_is_null(f) &&
     sdc__cfg_want(d->cfg, f, P(fpath, path, "scopes"), SDC_CFG_SEQ) &&
     !(o->scopes = sdc__calloc(f->n ? f->n : 1, sizeof(char *))))
    sdc__cfg_oom(d->cfg, f, fpath);
  if(o->scopes)
    for(size_t i = 0; i < f->n; i++) {
      char ipath[320];
      sdc__cfg_path_index(ipath, sizeof(ipath), fpath, i);
      if(sdc__cfg_str(d->cfg, f->kids[i], ipath, 512, &o->scopes[o->n_scopes]))
        o->n_scopes++;
    }
  sdc__cfg_unknown(d->cfg, n, path, known);
}

/* Does `body` read as one JSON object once its parameter references are
 * taken out (they sit inside JSON strings)? A small checker: the template
 * only needs to be well-formed, so values are skipped, not kept. Each
 * reader returns where it stopped, or NULL with *bad where it failed. */
static const char *ws(const char *p)
{
  while(*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
    p++;
  return p;
}

static const char *fail(const char *at, const char **bad)
{
  *bad = at;
  return NULL;
}

static const char *json_string(const char *p, const char **bad)
{
  if(*p != '"')
    return fail(p, bad);
  for(p++; *p && *p != '"'; p++) {
    if((unsigned char)*p < 0x20)
      return fail(p, bad);
    if(*p == '\\') {
      p++;
      if(*p == 'u') {
        for(int i = 1; i <= 4; i++)
          if(!isxdigit((unsigned char)p[i]))
            return fail(p, bad);
        p += 4;
      } else if(!*p || !strchr("\"\\/bfnrt", *p)) {
        return fail(p, bad);
      }
    }
  }
  return *p == '"' ? p + 1 : fail(p, bad);
}

static const char *json_skip(const char *p, int depth, const char **bad)
{
  p = ws(p);
  if(depth > 64)
    return fail(p, bad);
  if(*p == '"')
    return json_string(p, bad);
  if(*p == '{' || *p == '[') {
    char close = *p == '{' ? '}' : ']';
    bool obj = *p == '{';
    p = ws(p + 1);
    if(*p == close)
      return p + 1;
    for(;;) {
      if(obj) {
        if(!(p = json_string(ws(p), bad)))
          return NULL;
        if(*(p = ws(p)) != ':')
          return fail(p, bad);
        p++;
      }
      if(!(p = json_skip(p, depth + 1, bad)))
        return NULL;
      p = ws(p);
      if(*p == close)
        return p + 1;
      if(*p != ',')
        return fail(p, bad);
      p++;
    }
  }
  if(!strncmp(p, "true", 4) || !strncmp(p, "null", 4))
    return p + 4;
  if(!strncmp(p, "false", 5))
    return p + 5;
  if(*p == '-' || isdigit((unsigned char)*p)) {
    char *end;
    strtod(p, &end);
    return end > p ? end : fail(p, bad);
  }
  return fail(p, bad);
}

/* The byte offset where `body` stops being one JSON object, or -1 if it
 * is one. */
static long json_object_error(const char *body)
{
  const char *p = ws(body), *bad = p, *end;

  if(*p != '{')
    return (long)(p - body);
  if(!(end = json_skip(p, 0, &bad)))
    return (long)(bad - body);
  end = ws(end);
  return *end ? (long)(end - body) : -1;
}

static void decode_flexible(struct dec *d, const struct sdc__cfg_node *n, const char *path,
                            struct sdc__web *w)
{
  const struct sdc__cfg_node *f;
  char fpath[300];

  if((f = sdc__cfg_field(n, "httpMethod")) && !sdc__cfg_is_null(f))
    sdc__cfg_enum(d->cfg, f, P(fpath, path, "httpMethod"), methods,
                  sizeof(methods) / sizeof(methods[0]), &w->http_method);
  if(sdc__cfg_get_str(d->cfg, n, path, "requestBody", MAX_BODY_TEMPLATE, false,
                      &w->request_body) && w->request_body && *w->request_body) {
    long at = json_object_error(w->request_body);
    if(at >= 0)
      sdc__cfg_error(d->cfg, sdc__cfg_field(n, "requestBody"), P(fpath, path, "requestBody"),
                     "not a JSON object at byte %ld (near '%.20s'); write references "
                     "inside JSON strings: \"id\": \"$session.params.id\"",
                     at, w->request_body + at);
  }
  decode_map(d, sdc__cfg_field(n, "parameterMapping"), P(fpath, path, "parameterMapping"),
             &w->parameter_mapping, &w->n_parameter_mapping, false);
  for(size_t i = 0; i < w->n_parameter_mapping; i++)
    if(strncmp(w->parameter_mapping[i].value, "$.", 2) && strcmp(w->parameter_mapping[i].value, "$")) {
      char kpath[400];
      sdc__cfg_path(kpath, sizeof(kpath), fpath, w->parameter_mapping[i].key);
      sdc__cfg_error(d->cfg, sdc__cfg_field(n, "parameterMapping"), kpath,
                     "'%s' is not a path into the response (expected $.field.sub)",
                     w->parameter_mapping[i].value);
    }
  if(w->type != SDC_WEBHOOK_FLEXIBLE && (w->http_method > 0 || w->request_body ||
                                         w->n_parameter_mapping))
    sdc__cfg_error(d->cfg, n, P(fpath, path, "webhookType"),
                   "httpMethod, requestBody and parameterMapping are for flexible "
                   "webhooks; set webhookType: FLEXIBLE");
  if(w->type == SDC_WEBHOOK_FLEXIBLE && w->request_body && w->http_method > 1 &&
     w->http_method != 4 && w->http_method != 6)
    sdc__cfg_error(d->cfg, sdc__cfg_field(n, "requestBody"), P(fpath, path, "requestBody"),
                   "a %s request carries no body; use POST, PUT or PATCH, or leave "
                   "requestBody out", methods[w->http_method].name);
}

static const struct sdc__cfg_enum agent_auths[] = {
    {"SERVICE_AGENT_AUTH_UNSPECIFIED", 0}, {"NONE", 1}, {"ID_TOKEN", 2}, {"ACCESS_TOKEN", 3}};
static const struct sdc__cfg_enum types[] = {
    {"WEBHOOK_TYPE_UNSPECIFIED", 0}, {"STANDARD", 1}, {"FLEXIBLE", 2}};

static void decode_web(struct dec *d, const struct sdc__cfg_node *n, const char *path,
                       struct sdc__web *w)
{
  static const char *const known[] = {
      "uri", "username", "password", "secretVersionForUsernamePassword", "requestHeaders",
      "secretVersionsForRequestHeaders", "allowedCaCerts", "oauthConfig", "serviceAgentAuth",
      "serviceAccountAuthConfig", "webhookType", "httpMethod", "requestBody",
      "parameterMapping", NULL};
  const struct sdc__cfg_node *f;
  char fpath[300];
  int type = 0;

  if(!sdc__cfg_want(d->cfg, n, path, SDC_CFG_MAP))
    return;
  if(sdc__cfg_get_str(d->cfg, n, path, "uri", 2048, true, &w->uri) && w->uri) {
    const char *host = w->uri + 8;
    if(strncmp(w->uri, "https://", 8))
      sdc__cfg_error(d->cfg, sdc__cfg_field(n, "uri"), P(fpath, path, "uri"),
                     "'%s' is not an https URL (Dialogflow calls webhooks over HTTPS "
                     "only)", w->uri);
    else if(!*host || *host == '/' || *host == ':' || strchr(w->uri, ' '))
      sdc__cfg_error(d->cfg, sdc__cfg_field(n, "uri"), P(fpath, path, "uri"),
                     "'%s' has no host name (expected https://HOST[:PORT]/PATH)", w->uri);
  }
  sdc__cfg_get_str(d->cfg, n, path, "username", 1024, false, &w->username);
  sdc__cfg_get_str(d->cfg, n, path, "password", 4096, false, &w->password);
  if(sdc__cfg_get_str(d->cfg, n, path, "secretVersionForUsernamePassword", 700, false,
                      &w->secret_version_for_username_password) &&
     w->secret_version_for_username_password &&
     !secret_version_ok(w->secret_version_for_username_password))
    sdc__cfg_error(d->cfg, sdc__cfg_field(n, "secretVersionForUsernamePassword"),
                   P(fpath, path, "secretVersionForUsernamePassword"),
                   "not a secret version (expected projects/P/secrets/S/versions/V)");
  decode_map(d, sdc__cfg_field(n, "requestHeaders"), P(fpath, path, "requestHeaders"),
             &w->headers, &w->n_headers, true);
  decode_secret_headers(d, sdc__cfg_field(n, "secretVersionsForRequestHeaders"),
                        P(fpath, path, "secretVersionsForRequestHeaders"), w);
  decode_cas(d, sdc__cfg_field(n, "allowedCaCerts"), P(fpath, path, "allowedCaCerts"), w);
  decode_oauth(d, sdc__cfg_field(n, "oauthConfig"), P(fpath, path, "oauthConfig"), &w->oauth);
  if((f = sdc__cfg_field(n, "serviceAgentAuth")) && !sdc__cfg_is_null(f) &&
     sdc__cfg_enum(d->cfg, f, P(fpath, path, "serviceAgentAuth"), agent_auths, 4,
                   &w->agent_auth) && w->agent_auth == 0)
    w->agent_auth = SDC_WEBHOOK_AGENT_AUTH_ID_TOKEN; /* as the API reads UNSPECIFIED */
  if((f = sdc__cfg_field(n, "serviceAccountAuthConfig")) && !sdc__cfg_is_null(f) &&
     sdc__cfg_want(d->cfg, f, P(fpath, path, "serviceAccountAuthConfig"), SDC_CFG_MAP)) {
    static const char *const sa_known[] = {"serviceAccount", NULL};
    if(sdc__cfg_get_str(d->cfg, f, fpath, "serviceAccount", 320, true, &w->service_account) &&
       w->service_account && !strchr(w->service_account, '@')) {
      char spath[340];
      sdc__cfg_error(d->cfg, sdc__cfg_field(f, "serviceAccount"),
                     P(spath, fpath, "serviceAccount"),
                     "'%s' is not a service account e-mail (NAME@PROJECT.iam."
                     "gserviceaccount.com)", w->service_account);
    }
    sdc__cfg_unknown(d->cfg, f, fpath, sa_known);
  }
  if((f = sdc__cfg_field(n, "webhookType")) && !sdc__cfg_is_null(f))
    sdc__cfg_enum(d->cfg, f, P(fpath, path, "webhookType"), types, 3, &type);
  w->type = type == 2 ? SDC_WEBHOOK_FLEXIBLE : SDC_WEBHOOK_STANDARD;
  decode_flexible(d, n, path, w);
  sdc__cfg_unknown(d->cfg, n, path, known);
}

/* ---- sdconnect: ----------------------------------------------------------------- */
/* A path given in the webhook file is relative to that file. */
static void relative_to_file(const struct dec *d, char **path)
{
  char *full;

  if(!*path || (*path)[0] == '/')
    return;
  if((full = sdc__malloc(strlen(d->base) + strlen(*path) + 1))) {
    strcpy(full, d->base);
    strcat(full, *path);
  } else {
    sdc__cfg_oom(d->cfg, NULL, "");
  }
  sdc_free(*path);
  *path = full;
}

static void decode_secrets(struct dec *d, const struct sdc__cfg_node *n, const char *path,
                           struct sdc__webhook_ext *x)
{
  if(!n || sdc__cfg_is_null(n) || !sdc__cfg_want(d->cfg, n, path, SDC_CFG_MAP))
    return;
  if(!(x->secrets = sdc__calloc(n->n ? n->n : 1, sizeof(*x->secrets)))) {
    sdc__cfg_oom(d->cfg, n, path);
    return;
  }
  for(size_t i = 0; i < n->n; i++) {
    static const char *const known[] = {"file", "env", NULL};
    const struct sdc__cfg_node *k = n->kids[2 * i], *v = n->kids[2 * i + 1];
    struct sdc__secret_source *s = &x->secrets[x->n_secrets];
    char kpath[800];
    sdc__cfg_path(kpath, sizeof(kpath), path, k->str);
    if(!secret_version_ok(k->str)) {
      sdc__cfg_error(d->cfg, k, kpath, "'%s' is not a secret version (expected "
                     "projects/P/secrets/S/versions/V, as the webhook names it)", k->str);
      continue;
    }
    if(!sdc__cfg_want(d->cfg, v, kpath, SDC_CFG_MAP))
      continue;
    sdc__cfg_get_str(d->cfg, v, kpath, "file", 1024, false, &s->file);
    sdc__cfg_get_str(d->cfg, v, kpath, "env", 256, false, &s->env);
    sdc__cfg_unknown(d->cfg, v, kpath, known);
    if(!s->file == !s->env) {
      sdc__cfg_error(d->cfg, v, kpath, "give one of file (a file holding the secret) or env "
                     "(an environment variable holding it)");
      sdc_free(s->file);
      sdc_free(s->env);
      s->file = s->env = NULL;
      continue;
    }
    relative_to_file(d, &s->file);
    if(!(s->version = sdc__strdup(k->str)))
      sdc__cfg_oom(d->cfg, k, path);
    x->n_secrets++;
  }
}

static void decode_ext(struct dec *d, const struct sdc__cfg_node *n, const char *path,
                       struct sdc_webhook *w)
{
  static const char *const known[] = {
      "clientCertFile", "clientKeyFile", "secrets", "secretManagerEndpoint", "tokenEndpoint",
      "credentialsFile", "iamCredentialsEndpoint", "agent", "retryOn", "scopeSeparator", NULL};
  struct sdc__webhook_ext *x = &w->ext;
  const struct sdc__cfg_node *f;
  char fpath[300];
  size_t len;

  if(!n || sdc__cfg_is_null(n) || !sdc__cfg_want(d->cfg, n, path, SDC_CFG_MAP))
    return;
  if((f = sdc__cfg_field(n, "clientCertFile")))
    sdc__cfg_read_file(d->cfg, f, P(fpath, path, "clientCertFile"), d->base,
                       &x->client_cert_pem, &len);
  if((f = sdc__cfg_field(n, "clientKeyFile")))
    sdc__cfg_read_file(d->cfg, f, P(fpath, path, "clientKeyFile"), d->base,
                       &x->client_key_pem, &len);
  if(!x->client_cert_pem != !x->client_key_pem && !d->cfg->n_errs)
    sdc__cfg_error(d->cfg, n, path, "clientCertFile and clientKeyFile go together (mTLS)");
  decode_secrets(d, sdc__cfg_field(n, "secrets"), P(fpath, path, "secrets"), x);
  sdc__cfg_get_str(d->cfg, n, path, "secretManagerEndpoint", 2048, false,
                   &x->secret_manager_endpoint);
  sdc__cfg_get_str(d->cfg, n, path, "tokenEndpoint", 2048, false, &x->token_endpoint);
  sdc__cfg_get_str(d->cfg, n, path, "credentialsFile", 1024, false, &x->credentials_file);
  relative_to_file(d, &x->credentials_file);
  sdc__cfg_get_str(d->cfg, n, path, "iamCredentialsEndpoint", 2048, false,
                   &x->iam_endpoint);
  if(sdc__cfg_get_str(d->cfg, n, path, "agent", 512, false, &x->agent) && x->agent) {
    char a[256], b[256], c[256];
    int end = 0;
    if(sscanf(x->agent, "projects/%255[^/]/locations/%255[^/]/agents/%255[^/]%n", a, b, c,
              &end) != 3 || x->agent[end])
      sdc__cfg_error(d->cfg, sdc__cfg_field(n, "agent"), P(fpath, path, "agent"),
                     "'%s' is not an agent (expected projects/P/locations/L/agents/A)",
                     x->agent);
  }
  if((f = sdc__cfg_field(n, "retryOn")) && !sdc__cfg_is_null(f) &&
     sdc__cfg_want(d->cfg, f, P(fpath, path, "retryOn"), SDC_CFG_SEQ) &&
     !(x->retry_statuses = sdc__calloc(f->n ? f->n : 1, sizeof(int))))
    sdc__cfg_oom(d->cfg, f, fpath);
  if(x->retry_statuses)
    for(size_t i = 0; i < f->n; i++) {
      char ipath[320];
      long long v;
      sdc__cfg_path_index(ipath, sizeof(ipath), fpath, i);
      if(sdc__cfg_int(d->cfg, f->kids[i], ipath, 400, 599, &v))
        x->retry_statuses[x->n_retry_statuses++] = (int)v;
    }
  sdc__cfg_get_str(d->cfg, n, path, "scopeSeparator", 8, false, &x->scope_separator);
  sdc__cfg_unknown(d->cfg, n, path, known);
}

/* ---- the resource ------------------------------------------------------------------ */
/* genericWebService or serviceDirectory of `n` into `w` (the oneof). */
static void decode_target(struct dec *d, const struct sdc__cfg_node *n, const char *path,
                          struct sdc_webhook *w)
{
  const struct sdc__cfg_node *g = sdc__cfg_field(n, "genericWebService");
  const struct sdc__cfg_node *s = sdc__cfg_field(n, "serviceDirectory");
  char fpath[300];

  if(g && sdc__cfg_is_null(g))
    g = NULL;
  if(s && sdc__cfg_is_null(s))
    s = NULL;
  if(!g == !s) {
    sdc__cfg_error(d->cfg, n, path, g ? "genericWebService and serviceDirectory are one of "
                   "(give one)" : "neither genericWebService nor serviceDirectory (give one: "
                   "the URL, or a Service Directory service and its URL)");
    return;
  }
  if(g) {
    decode_web(d, g, P(fpath, path, "genericWebService"), &w->web);
    return;
  }
  P(fpath, path, "serviceDirectory");
  if(sdc__cfg_want(d->cfg, s, fpath, SDC_CFG_MAP)) {
    static const char *const known[] = {"service", "genericWebService", NULL};
    const struct sdc__cfg_node *sg = sdc__cfg_field(s, "genericWebService");
    char spath[340];
    if(sdc__cfg_get_str(d->cfg, s, fpath, "service", 512, true, &w->service) && w->service &&
       !service_name_ok(w->service))
      sdc__cfg_error(d->cfg, sdc__cfg_field(s, "service"), P(spath, fpath, "service"),
                     "'%s' is not a Service Directory service (expected projects/P/"
                     "locations/L/namespaces/N/services/S)", w->service);
    if(!sg || sdc__cfg_is_null(sg))
      sdc__cfg_error(d->cfg, s, P(spath, fpath, "genericWebService"),
                     "missing (required: the URL whose host is used for TLS and Host)");
    else
      decode_web(d, sg, P(spath, fpath, "genericWebService"), &w->web);
    sdc__cfg_unknown(d->cfg, s, fpath, known);
  }
}

static struct sdc_webhook *decode_webhook(struct dec *d, const struct sdc__cfg_node *n,
                                          const char *path)
{
  static const char *const known[] = {"name", "displayName", "genericWebService",
                                      "serviceDirectory", "timeout", "disabled", "sdconnect",
                                      NULL};
  struct sdc_webhook *w;
  const struct sdc__cfg_node *f;
  char fpath[300];
  size_t errs = d->cfg->n_errs;

  if(!sdc__cfg_want(d->cfg, n, path, SDC_CFG_MAP))
    return NULL;
  if(!(w = sdc__calloc(1, sizeof(*w)))) {
    sdc__cfg_oom(d->cfg, n, path);
    return NULL;
  }
  w->timeout_ms = DEFAULT_TIMEOUT_MS;
  if(sdc__cfg_get_str(d->cfg, n, path, "name", 512, false, &w->name) && w->name) {
    char a[256], b[256], c[256], e[256];
    int end = 0;
    if(sscanf(w->name, "projects/%255[^/]/locations/%255[^/]/agents/%255[^/]/webhooks/%255[^/]%n",
              a, b, c, e, &end) != 4 || w->name[end])
      sdc__cfg_error(d->cfg, sdc__cfg_field(n, "name"), P(fpath, path, "name"),
                     "'%s' is not a webhook name (expected projects/P/locations/L/agents/A/"
                     "webhooks/W)", w->name);
  }
  sdc__cfg_get_str(d->cfg, n, path, "displayName", 1024, true, &w->display_name);
  decode_target(d, n, path, w);
  if((f = sdc__cfg_field(n, "timeout")) && !sdc__cfg_is_null(f) &&
     sdc__cfg_duration_ms(d->cfg, f, P(fpath, path, "timeout"), &w->timeout_ms)) {
    if(w->timeout_ms > MAX_TIMEOUT_MS || w->timeout_ms == 0)
      sdc__cfg_error(d->cfg, f, fpath, "%s is out of range (the API takes more than 0 s, at "
                     "most 30s)", f->str);
  }
  sdc__cfg_get_bool(d->cfg, n, path, "disabled", &w->disabled);
  decode_ext(d, sdc__cfg_field(n, "sdconnect"), P(fpath, path, "sdconnect"), w);
  sdc__cfg_unknown(d->cfg, n, path, known);
  /* the service must be in the agent's location */
  if(w->service && (w->name || w->ext.agent)) {
    char sl[256], al[256];
    if(location_of(w->service, sl, sizeof(sl)) &&
       location_of(w->name ? w->name : w->ext.agent, al, sizeof(al)) && strcmp(sl, al))
      sdc__cfg_error(d->cfg, sdc__cfg_field(n, "serviceDirectory"),
                     P(fpath, path, "serviceDirectory.service"),
                     "the service is in location '%s' but the agent is in '%s'; Dialogflow "
                     "reaches only services in the agent's location: register the service "
                     "in %s", sl, al, al);
  }
  if(d->cfg->n_errs > errs || !w->display_name ||
     !(w->id = w->name ? sdc__strdup(strrchr(w->name, '/') + 1) : id_from(w->display_name))) {
    if(d->cfg->n_errs == errs && w->display_name) /* only the id could not be made */
      sdc__cfg_oom(d->cfg, n, path);
    sdc__webhook_free(w);
    return NULL;
  }
  return w;
}

/* ---- files: webhooks, lists, environments ---------------------------------------------- */
struct load {
  struct dec d;
  sdc_webhook_set *set;
  const char *environment;
  const struct sdc__cfg_node *overrides; /* the chosen environment's webhookOverrides */
  const char *env_name;
  bool env_seen;
  bool oom;
};

static bool push(sdc_webhook_set *s, struct sdc_webhook *w)
{
  struct sdc_webhook **g = sdc__realloc(s->v, (s->n + 1) * sizeof(*g));

  if(!g) {
    sdc__webhook_free(w);
    return false;
  }
  s->v = g;
  s->v[s->n++] = w;
  return true;
}

static bool is_environment(const struct sdc__cfg_node *n)
{
  return n->kind == SDC_CFG_MAP &&
         (sdc__cfg_field(n, "webhookConfig") || sdc__cfg_field(n, "versionConfigs"));
}

/* Does `key` name environment `n` (its id, display name or name)? */
static bool environment_is(const struct sdc__cfg_node *n, const char *key)
{
  const struct sdc__cfg_node *name = sdc__cfg_field(n, "name");
  const struct sdc__cfg_node *dn = sdc__cfg_field(n, "displayName");
  const char *slash;

  if(dn && dn->kind == SDC_CFG_SCALAR && !strcmp(dn->str, key))
    return true;
  if(name && name->kind == SDC_CFG_SCALAR) {
    slash = strrchr(name->str, '/');
    return !strcmp(name->str, key) || (slash && !strcmp(slash + 1, key));
  }
  return false;
}

static void environment(struct load *l, const struct sdc__cfg_node *n, const char *path)
{
  static const char *const known[] = {"name", "displayName", "description", "versionConfigs",
                                      "updateTime", "testCasesConfig", "webhookConfig", NULL};
  const struct sdc__cfg_node *wc = sdc__cfg_field(n, "webhookConfig");
  char fpath[300];

  for(const char *const *k = known; *k; k++)
    (void)sdc__cfg_field(n, *k);
  sdc__cfg_unknown(l->d.cfg, n, path, known);
  if(!l->environment || !environment_is(n, l->environment))
    return;
  l->env_seen = true;
  l->env_name = l->environment;
  if(wc && !sdc__cfg_is_null(wc) &&
     sdc__cfg_want(l->d.cfg, wc, P(fpath, path, "webhookConfig"), SDC_CFG_MAP)) {
    static const char *const wknown[] = {"webhookOverrides", NULL};
    const struct sdc__cfg_node *o = sdc__cfg_field(wc, "webhookOverrides");
    char opath[340];
    if(o && !sdc__cfg_is_null(o) &&
       sdc__cfg_want(l->d.cfg, o, P(opath, fpath, "webhookOverrides"), SDC_CFG_SEQ))
      l->overrides = o;
    sdc__cfg_unknown(l->d.cfg, wc, fpath, wknown);
  }
}

static void item(struct load *l, const struct sdc__cfg_node *n, const char *path)
{
  struct sdc_webhook *w;

  if(is_environment(n)) {
    environment(l, n, path);
    return;
  }
  if((w = decode_webhook(&l->d, n, path)) && !push(l->set, w))
    l->oom = true;
}

static void root(struct load *l, const struct sdc__cfg_node *n)
{
  const struct sdc__cfg_node *list = n->kind == SDC_CFG_SEQ ? n : NULL;
  const char *prefix = "";

  if(n->kind == SDC_CFG_MAP && (sdc__cfg_field(n, "webhooks") ||
                                sdc__cfg_field(n, "environments"))) {
    static const char *const known[] = {"webhooks", "environments", "nextPageToken", NULL};
    const struct sdc__cfg_node *ws_ = sdc__cfg_field(n, "webhooks");
    const struct sdc__cfg_node *es = sdc__cfg_field(n, "environments");
    (void)sdc__cfg_field(n, "nextPageToken");
    sdc__cfg_unknown(l->d.cfg, n, "", known);
    for(int pass = 0; pass < 2; pass++) {
      const struct sdc__cfg_node *s = pass ? ws_ : es;
      const char *key = pass ? "webhooks" : "environments";
      if(!s || !sdc__cfg_want(l->d.cfg, s, key, SDC_CFG_SEQ))
        continue;
      for(size_t k = 0; k < s->n; k++) {
        char ipath[200];
        sdc__cfg_path_index(ipath, sizeof(ipath), key, k);
        item(l, s->kids[k], ipath);
      }
    }
    return;
  }
  if(!list) {
    item(l, n, prefix);
    return;
  }
  for(size_t k = 0; k < list->n; k++) { /* environments first, wherever they are */
    char ipath[200];
    sdc__cfg_path_index(ipath, sizeof(ipath), prefix, k);
    if(is_environment(list->kids[k]))
      item(l, list->kids[k], ipath);
  }
  for(size_t k = 0; k < list->n; k++) {
    char ipath[200];
    sdc__cfg_path_index(ipath, sizeof(ipath), prefix, k);
    if(!is_environment(list->kids[k]))
      item(l, list->kids[k], ipath);
  }
}

/* The chosen environment's overrides onto the webhooks they name. */
static void apply_overrides(struct load *l)
{
  const struct sdc__cfg_node *o = l->overrides;

  for(size_t i = 0; o && i < o->n; i++) {
    const struct sdc__cfg_node *n = o->kids[i];
    const struct sdc__cfg_node *name;
    struct sdc_webhook *target = NULL, tmp;
    char ipath[200];
    size_t errs = l->d.cfg->n_errs;
    sdc__cfg_path_index(ipath, sizeof(ipath), "webhookOverrides", i);
    if(!sdc__cfg_want(l->d.cfg, n, ipath, SDC_CFG_MAP))
      continue;
    name = sdc__cfg_field(n, "name");
    for(size_t k = 0; name && name->kind == SDC_CFG_SCALAR && k < l->set->n; k++)
      if((l->set->v[k]->name && !strcmp(l->set->v[k]->name, name->str)) ||
         !strcmp(l->set->v[k]->id, name->str))
        target = l->set->v[k];
    if(!target) {
      sdc__cfg_error(l->d.cfg, name ? name : n, ipath,
                     "an override must name a webhook of the file (its name); %s",
                     name ? "none is called that" : "this one has no name");
      continue;
    }
    memset(&tmp, 0, sizeof(tmp));
    (void)sdc__cfg_field(n, "displayName");
    (void)sdc__cfg_field(n, "timeout");
    (void)sdc__cfg_field(n, "disabled");
    decode_target(&l->d, n, ipath, &tmp);
    {
      static const char *const known[] = {"name", "displayName", "genericWebService",
                                          "serviceDirectory", "timeout", "disabled", NULL};
      sdc__cfg_unknown(l->d.cfg, n, ipath, known);
    }
    if(l->d.cfg->n_errs > errs) {
      web_free(&tmp.web);
      sdc_free(tmp.service);
      continue;
    }
    web_free(&target->web);
    sdc_free(target->service);
    target->web = tmp.web;
    target->service = tmp.service;
    sdc_free(target->environment);
    if(!(target->environment = sdc__strdup(l->env_name)))
      l->oom = true;
  }
}

static void unique_ids(struct load *l)
{
  for(size_t i = 0; i < l->set->n; i++)
    for(size_t j = 0; j < i; j++)
      if(!strcmp(l->set->v[i]->id, l->set->v[j]->id))
        sdc__cfg_error(l->d.cfg, NULL, "", "two webhooks have the id '%s'; give them "
                       "different names or displayNames", l->set->v[i]->id);
}

static sdc_status load_all(struct load *l, sdc_webhook_set **out, char **errors)
{
  struct sdc__cfg *cfg = l->d.cfg;

  if(!(l->set = sdc__calloc(1, sizeof(*l->set))))
    return SDC_ENOMEM;
  for(size_t i = 0; i < cfg->n_docs; i++)
    root(l, cfg->docs[i]);
  if(l->environment && !l->env_seen)
    sdc__cfg_error(cfg, NULL, "", "no environment '%s' in the file (give its Environment "
                   "resource, with webhookConfig.webhookOverrides, beside the webhooks)",
                   l->environment);
  apply_overrides(l);
  if(!cfg->n_errs && !l->set->n)
    sdc__cfg_error(cfg, NULL, "", "holds no webhook (expected a Dialogflow CX Webhook or a "
                   "list of them)");
  unique_ids(l);
  if(l->oom || cfg->oom || cfg->n_errs || cfg->n_dropped) {
    sdc_status st = l->oom || cfg->oom ? SDC_ENOMEM : SDC_ECONFIG;
    if(st == SDC_ECONFIG && errors)
      *errors = sdc__cfg_errors_text(cfg);
    sdc_webhook_set_free(l->set);
    return st;
  }
  *out = l->set;
  return SDC_OK;
}

sdc_status sdc_webhooks_load_mem(const char *name, const void *data, size_t len,
                                 const char *environment, sdc_webhook_set **out,
                                 char **errors)
{
  struct load l = {0};
  sdc_status st;

  if(!name || !data || !out)
    return SDC_EINVAL;
  l.environment = environment;
  st = sdc__cfg_load_mem(name, data, len, &l.d.cfg);
  if(st == SDC_OK)
    st = load_all(&l, out, errors);
  else if(st == SDC_ECONFIG && errors)
    *errors = sdc__cfg_errors_text(l.d.cfg);
  sdc__cfg_free(l.d.cfg);
  return st;
}

sdc_status sdc_webhooks_load_file(const char *path, const char *environment,
                                  sdc_webhook_set **out, char **errors)
{
  struct load l = {0};
  char err[1200];
  sdc_status st;

  if(!path || !out)
    return SDC_EINVAL;
  l.environment = environment;
  st = sdc__cfg_load_file(path, &l.d.cfg, err, sizeof(err));
  if(st == SDC_EIO || st == SDC_ETOOBIG) {
    if(errors)
      *errors = sdc__strdup(err);
    return st;
  }
  sdc__cfg_base_of(path, l.d.base, sizeof(l.d.base));
  if(st == SDC_OK)
    st = load_all(&l, out, errors);
  else if(st == SDC_ECONFIG && errors)
    *errors = sdc__cfg_errors_text(l.d.cfg);
  sdc__cfg_free(l.d.cfg);
  return st;
}
