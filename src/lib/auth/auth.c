/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IMPLEMENTATION NOTES
 * - One token per source, behind one mutex. A caller that finds it missing
 *   or near expiry fetches while holding the lock, so concurrent callers
 *   share one fetch instead of stampeding the token endpoint.
 * - "Near expiry": less than min(5 min, half the token's lifetime) left.
 *   If a refresh fails while the old token is still valid, the old token is
 *   used until it really expires.
 * - Secrets (private keys, client secrets, refresh and access tokens) are
 *   zeroed when freed and never appear in messages.
 */
#include "auth.h"

#include "core/base64.h"
#include "core/core.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum kind { K_SERVICE_ACCOUNT, K_AUTHORIZED_USER, K_METADATA, K_STATIC, K_IMPERSONATED };

struct sdc__auth {
  enum kind kind;
  char describe[512];
  char *scope;
  char *client_email, *private_key, *key_id; /* service account */
  char *client_id, *client_secret, *refresh_token; /* authorized user */
  char *token_uri;
  char *metadata_host;
  char *audience; /* set: OIDC ID tokens for it, not access tokens */
  struct sdc__auth *base;  /* impersonated: the caller's own credentials (borrowed) */
  char *iam_endpoint;      /* impersonated: IAM Credentials API root */
  pthread_mutex_t lock;
  char token[SDC_TOKEN_MAX];
  uint64_t expires_ms; /* monotonic; 0 = never (static) */
  uint64_t lifetime_ms;
};

static char *dup_or_null(const char *s) { return s ? sdc__strdup(s) : NULL; }

static void free_secret(char *s)
{
  if(s) {
    OPENSSL_cleanse(s, strlen(s));
    sdc_free(s);
  }
}

void sdc__auth_free(struct sdc__auth *a)
{
  if(!a)
    return;
  sdc_free(a->scope);
  sdc_free(a->client_email);
  free_secret(a->private_key);
  sdc_free(a->key_id);
  sdc_free(a->client_id);
  free_secret(a->client_secret);
  free_secret(a->refresh_token);
  sdc_free(a->token_uri);
  sdc_free(a->metadata_host);
  sdc_free(a->audience);
  sdc_free(a->iam_endpoint);
  OPENSSL_cleanse(a->token, sizeof(a->token));
  pthread_mutex_destroy(&a->lock);
  sdc_free(a);
}

static struct sdc__auth *auth_new(enum kind k, const char *scope)
{
  struct sdc__auth *a = sdc__calloc(1, sizeof(*a));

  if(!a)
    return NULL;
  a->kind = k;
  pthread_mutex_init(&a->lock, NULL);
  a->scope = sdc__strdup(scope ? scope : SDC_CLOUD_PLATFORM_SCOPE);
  if(!a->scope) {
    sdc__auth_free(a);
    return NULL;
  }
  return a;
}

sdc_status sdc__auth_static(struct sdc__auth **out, const char *token)
{
  struct sdc__auth *a;

  if(!token || !*token || strlen(token) >= SDC_TOKEN_MAX)
    return SDC_EINVAL;
  a = auth_new(K_STATIC, NULL);
  if(!a)
    return SDC_ENOMEM;
  snprintf(a->token, sizeof(a->token), "%s", token);
  snprintf(a->describe, sizeof(a->describe), "a static bearer token");
  *out = a;
  return SDC_OK;
}

sdc_status sdc__auth_impersonate(struct sdc__auth **out, struct sdc__auth *base,
                                 const char *email, const char *iam_endpoint,
                                 const char *scope)
{
  struct sdc__auth *a;

  if(!out || !base || !email || !*email || strlen(email) > 320)
    return SDC_EINVAL;
  if(!(a = auth_new(K_IMPERSONATED, scope)))
    return SDC_ENOMEM;
  a->client_email = sdc__strdup(email);
  a->iam_endpoint = sdc__strdup(iam_endpoint && *iam_endpoint ? iam_endpoint
                                                              : SDC_DEFAULT_IAM_ENDPOINT);
  if(!a->client_email || !a->iam_endpoint) {
    sdc__auth_free(a);
    return SDC_ENOMEM;
  }
  snprintf(a->describe, sizeof(a->describe), "service account %.200s impersonated by %.250s",
           email, base->describe);
  a->base = base;
  *out = a;
  return SDC_OK;
}

/* A required string member of a credentials file. */
static const char *need(json_t *j, const char *key, const char *path,
                        const char *type, char *err, size_t errlen)
{
  const char *v = json_string_value(json_object_get(j, key));

  if(!v || !*v)
    snprintf(err, errlen, "%s: %s credentials need a string \"%s\"", path,
             type, key);
  return v && *v ? v : NULL;
}

sdc_status sdc__auth_from_file(struct sdc__auth **out, const char *path,
                               const char *scope, char *err, size_t errlen)
{
  json_error_t je;
  json_t *j = json_load_file(path, 0, &je);
  const char *type;
  struct sdc__auth *a = NULL;
  sdc_status st = SDC_ECONFIG;

  if(!j) {
    if(je.line < 1)
      snprintf(err, errlen, "%s: cannot read credentials: %s", path, je.text);
    else
      snprintf(err, errlen, "%s:%d:%d: not valid JSON: %s", path, je.line,
               je.column, je.text);
    return SDC_ECONFIG;
  }
  type = json_string_value(json_object_get(j, "type"));
  if(type && !strcmp(type, "service_account")) {
    const char *email = need(j, "client_email", path, type, err, errlen);
    const char *key = email ? need(j, "private_key", path, type, err, errlen)
                            : NULL;
    const char *uri = json_string_value(json_object_get(j, "token_uri"));
    if(!key)
      goto out;
    a = auth_new(K_SERVICE_ACCOUNT, scope);
    if(!a)
      goto oom;
    a->client_email = sdc__strdup(email);
    a->private_key = sdc__strdup(key);
    a->key_id = dup_or_null(json_string_value(json_object_get(j, "private_key_id")));
    a->token_uri = sdc__strdup(uri && *uri ? uri : SDC_DEFAULT_TOKEN_URI);
    if(!a->client_email || !a->private_key || !a->token_uri)
      goto oom;
    snprintf(a->describe, sizeof(a->describe),
             "service account %.200s (key file %.250s)", email, path);
  } else if(type && !strcmp(type, "authorized_user")) {
    const char *id = need(j, "client_id", path, type, err, errlen);
    const char *secret = id ? need(j, "client_secret", path, type, err, errlen)
                            : NULL;
    const char *refresh = secret ? need(j, "refresh_token", path, type, err,
                                        errlen)
                                 : NULL;
    const char *uri = json_string_value(json_object_get(j, "token_uri"));
    const char *env = getenv("SDCONNECT_OAUTH_TOKEN_URI");
    if(!refresh)
      goto out;
    a = auth_new(K_AUTHORIZED_USER, scope);
    if(!a)
      goto oom;
    a->client_id = sdc__strdup(id);
    a->client_secret = sdc__strdup(secret);
    a->refresh_token = sdc__strdup(refresh);
    a->token_uri = sdc__strdup(uri && *uri   ? uri
                               : env && *env ? env
                                             : SDC_DEFAULT_TOKEN_URI);
    if(!a->client_id || !a->client_secret || !a->refresh_token ||
       !a->token_uri)
      goto oom;
    snprintf(a->describe, sizeof(a->describe),
             "authorized user (file %.250s)", path);
  } else {
    snprintf(err, errlen, "%s: \"type\" is %s%s%s; expected \"service_account\" "
             "or \"authorized_user\"", path, type ? "\"" : "missing",
             type ? type : "", type ? "\"" : "");
    goto out;
  }
  *out = a;
  a = NULL;
  st = SDC_OK;
  goto out;
oom:
  st = SDC_ENOMEM;
out:
  sdc__auth_free(a);
  json_decref(j);
  return st;
}

static int file_exists(const char *p)
{
  FILE *f = fopen(p, "r");

  if(f)
    fclose(f);
  return f != NULL;
}

/* Compute Engine says so in its DMI product name; reading it needs no
 * network, unlike probing the metadata server. */
static int on_gce(void)
{
  const char *path = getenv("SDCONNECT_DMI_PRODUCT_NAME");
  char buf[128] = "";
  FILE *f = fopen(path && *path ? path : "/sys/class/dmi/id/product_name", "r");

  if(!f)
    return 0;
  if(!fgets(buf, sizeof(buf), f))
    buf[0] = '\0';
  fclose(f);
  return strstr(buf, "Google") != NULL;
}

sdc_status sdc__auth_default(struct sdc__auth **out, const char *scope,
                             char *err, size_t errlen)
{
  const char *env = getenv("GOOGLE_APPLICATION_CREDENTIALS");
  const char *cfg = getenv("CLOUDSDK_CONFIG");
  const char *home = getenv("HOME");
  const char *mdhost = getenv("GCE_METADATA_HOST");
  char adc[1024] = "";
  struct sdc__auth *a;

  if(env && *env)
    return sdc__auth_from_file(out, env, scope, err, errlen);
  if(cfg && *cfg)
    snprintf(adc, sizeof(adc), "%s/application_default_credentials.json", cfg);
  else if(home && *home)
    snprintf(adc, sizeof(adc),
             "%s/.config/gcloud/application_default_credentials.json", home);
  if(*adc && file_exists(adc))
    return sdc__auth_from_file(out, adc, scope, err, errlen);
  if((mdhost && *mdhost) || on_gce()) {
    const char *host = mdhost && *mdhost ? mdhost : SDC_DEFAULT_METADATA_HOST;
    a = auth_new(K_METADATA, scope);
    if(!a || !(a->metadata_host = sdc__strdup(host))) {
      sdc__auth_free(a);
      return SDC_ENOMEM;
    }
    snprintf(a->describe, sizeof(a->describe), "the metadata server at %.300s",
             host);
    *out = a;
    return SDC_OK;
  }
  snprintf(err, errlen,
           "no Google credentials found: GOOGLE_APPLICATION_CREDENTIALS is "
           "not set, there is no gcloud application-default file at %s, and "
           "this is not Compute Engine (GCE_METADATA_HOST is not set)",
           *adc ? adc : "(no HOME)");
  return SDC_ENOTFOUND;
}

/* application/x-www-form-urlencoded value (RFC 3986 unreserved kept). */
static int form_append(char *buf, size_t cap, size_t *len, const char *key,
                       const char *val)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t n = *len;

  if(n && n < cap)
    buf[n++] = '&';
  for(const char *p = key; *p && n < cap; p++)
    buf[n++] = *p;
  if(n < cap)
    buf[n++] = '=';
  for(const unsigned char *p = (const unsigned char *)val; *p; p++) {
    if((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
       (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' ||
       *p == '~') {
      if(n + 1 >= cap)
        return -1;
      buf[n++] = (char)*p;
    } else {
      if(n + 3 >= cap)
        return -1;
      buf[n++] = '%';
      buf[n++] = hex[*p >> 4];
      buf[n++] = hex[*p & 15];
    }
  }
  if(n >= cap)
    return -1;
  buf[n] = '\0';
  *len = n;
  return 0;
}

sdc_status sdc__auth_set_id_audience(struct sdc__auth *a, const char *audience,
                                     char *err, size_t errlen)
{
  if(a->kind != K_SERVICE_ACCOUNT && a->kind != K_METADATA) {
    snprintf(err, errlen, "%s cannot mint an ID token for an audience; use a "
             "service-account key file (GOOGLE_APPLICATION_CREDENTIALS) or the "
             "metadata server", a->describe);
    return SDC_ECONFIG;
  }
  sdc_free(a->audience);
  if(!(a->audience = sdc__strdup(audience)))
    return SDC_ENOMEM;
  return SDC_OK;
}

/* Seconds until an ID token (a JWT) expires, from its exp and iat claims;
 * an hour when they cannot be read. */
static int64_t id_lifetime_s(const char *tok)
{
  const char *d1 = strchr(tok, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
  unsigned char buf[4096];
  size_t n, bad;
  json_t *j;
  json_int_t exp, iat;

  if(!d2 || (size_t)(d2 - d1) * 3 / 4 >= sizeof(buf))
    return 3600;
  /* the claims: base64url without padding */
  n = sdc__base64_decode(d1 + 1, (size_t)(d2 - d1 - 1), true, buf, &bad);
  if(n == (size_t)-1)
    return 3600;
  j = json_loadb((const char *)buf, n, 0, NULL);
  exp = json_integer_value(json_object_get(j, "exp"));
  iat = json_integer_value(json_object_get(j, "iat"));
  json_decref(j);
  return exp > iat && iat > 0 ? (int64_t)(exp - iat) : 3600;
}

/* Read {access_token, expires_in} or an OAuth error answer. */
static sdc_status parse_token(struct sdc__auth *a,
                              const struct sdc__http_resp *r, const char *from,
                              char *err, size_t errlen)
{
  json_t *j = json_loadb(r->body, r->len, 0, NULL);
  const char *tok = json_string_value(json_object_get(j, "access_token"));
  json_int_t exp = json_integer_value(json_object_get(j, "expires_in"));
  sdc_status st = SDC_OK;

  if(a->audience && r->status == 200) { /* an ID token: raw, or id_token */
    tok = a->kind == K_METADATA ? r->body
                                : json_string_value(json_object_get(j, "id_token"));
    exp = tok && *tok ? id_lifetime_s(tok) : 0;
  }
  if(r->status != 200) {
    const char *e = json_string_value(json_object_get(j, "error"));
    const char *d = json_string_value(json_object_get(j, "error_description"));
    snprintf(err, errlen, "%s answered HTTP %ld%s%.100s%s%.200s", from,
             r->status, e ? ": " : "", e ? e : "", d ? ": " : "", d ? d : "");
    st = r->status >= 500 ? SDC_EUNAVAILABLE : SDC_EPERM;
  } else if(!tok || !*tok || strlen(tok) >= SDC_TOKEN_MAX || exp <= 0) {
    snprintf(err, errlen, "%s answered without a usable %s", from,
             a->audience ? "ID token" : "access_token and expires_in");
    st = SDC_EPROTO;
  } else {
    size_t tl;
    snprintf(a->token, sizeof(a->token), "%s", tok);
    tl = strlen(a->token); /* the metadata server's body: no trailing space */
    while(tl && (a->token[tl - 1] == '\n' || a->token[tl - 1] == '\r' ||
                 a->token[tl - 1] == ' '))
      a->token[--tl] = '\0';
    a->lifetime_ms = (uint64_t)exp * 1000u;
    a->expires_ms = sdc__now_ms() + a->lifetime_ms;
  }
  json_decref(j);
  return st;
}

/* RFC 3339 UTC ("2014-10-02T15:01:23Z", fractions allowed) as Unix seconds; -1 when not. */
static int64_t rfc3339_utc(const char *s)
{
  struct tm tm;
  int n = 0;

  memset(&tm, 0, sizeof(tm));
  if(!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
    return -1;
  s += n;
  if(*s == '.')
    s += 1 + strspn(s + 1, "0123456789");
  if(strcmp(s, "Z"))
    return -1;
  { /* days since 1970-01-01 of a proleptic Gregorian date (timegm is not POSIX) */
    int64_t y = tm.tm_year - (tm.tm_mon <= 2), era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400, mp = (tm.tm_mon + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + tm.tm_mday - 1;
    int64_t days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
    return days * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
  }
}

/* IAM Credentials generateAccessToken for a->client_email, authorized by
 * the base credentials' own access token. */
static sdc_status fetch_impersonated(struct sdc__auth *a, uint64_t timeout_ms, char *err,
                                     size_t errlen)
{
  char url[1200], body[1200], auth[SDC_TOKEN_MAX + 32], why[512];
  const char *headers[] = {auth, "Content-Type: application/json", NULL};
  struct sdc__http_resp r;
  json_t *j;
  const char *tok;
  int64_t exp, now = (int64_t)time(NULL);
  sdc_status st;

  memcpy(auth, "Authorization: Bearer ", 22);
  st = sdc__auth_token(a->base, auth + 22, sizeof(auth) - 22, timeout_ms, why, sizeof(why));
  if(st) {
    snprintf(err, errlen, "%.300s: %.500s", a->base->describe, why);
    return st;
  }
  snprintf(url, sizeof(url), "%s/v1/projects/-/serviceAccounts/%s:generateAccessToken",
           a->iam_endpoint, a->client_email);
  snprintf(body, sizeof(body), "{\"scope\":[\"%s\"],\"lifetime\":\"3600s\"}", a->scope);
  st = sdc__http_fetch(url, body, headers, timeout_ms, &r, why, sizeof(why));
  OPENSSL_cleanse(auth, sizeof(auth));
  if(st) {
    snprintf(err, errlen, "IAM Credentials %s: %s", a->iam_endpoint, why);
    return st;
  }
  j = json_loadb(r.body, r.len, 0, NULL);
  tok = json_string_value(json_object_get(j, "accessToken"));
  exp = rfc3339_utc(json_string_value(json_object_get(j, "expireTime")));
  if(r.status != 200) {
    const char *m = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
    snprintf(err, errlen, "IAM Credentials %s answered HTTP %ld for %s%s%.300s%s", a->iam_endpoint,
             r.status, a->client_email, m ? ": " : "", m ? m : "",
             r.status == 403 ? " (the caller needs roles/iam.serviceAccountTokenCreator on it)"
                             : "");
    st = r.status >= 500 ? SDC_EUNAVAILABLE : SDC_EPERM;
  } else if(!tok || !*tok || strlen(tok) >= SDC_TOKEN_MAX || exp <= now) {
    snprintf(err, errlen, "IAM Credentials %s answered without a usable accessToken and "
             "expireTime", a->iam_endpoint);
    st = SDC_EPROTO;
  } else {
    snprintf(a->token, sizeof(a->token), "%s", tok);
    a->lifetime_ms = (uint64_t)(exp - now) * 1000u;
    a->expires_ms = sdc__now_ms() + a->lifetime_ms;
  }
  json_decref(j);
  sdc__http_resp_cleanup(&r);
  return st;
}

static sdc_status fetch(struct sdc__auth *a, uint64_t timeout_ms, char *err,
                        size_t errlen)
{
  char form[8192], url[1200], from[1300], why[512];
  size_t n = 0;
  char *jwt = NULL;
  struct sdc__http_resp r;
  static const char *const md_headers[] = {"Metadata-Flavor: Google", NULL};
  const char *const *headers = NULL;
  const char *body = form;
  sdc_status st;

  form[0] = '\0';
  if(a->kind == K_IMPERSONATED)
    return fetch_impersonated(a, timeout_ms, err, errlen);
  if(a->kind == K_SERVICE_ACCOUNT) {
    st = sdc__jwt_assertion(a->private_key, a->key_id, a->client_email,
                            a->audience ? NULL : a->scope, a->audience,
                            a->token_uri, (int64_t)time(NULL), &jwt, err,
                            errlen);
    if(st)
      return st;
    if(form_append(form, sizeof(form), &n, "grant_type",
                   "urn:ietf:params:oauth:grant-type:jwt-bearer") ||
       form_append(form, sizeof(form), &n, "assertion", jwt))
      st = SDC_ETOOBIG;
    OPENSSL_cleanse(jwt, strlen(jwt));
    sdc_free(jwt);
    if(st)
      return st;
    snprintf(url, sizeof(url), "%s", a->token_uri);
  } else if(a->kind == K_AUTHORIZED_USER) {
    if(form_append(form, sizeof(form), &n, "grant_type", "refresh_token") ||
       form_append(form, sizeof(form), &n, "client_id", a->client_id) ||
       form_append(form, sizeof(form), &n, "client_secret", a->client_secret) ||
       form_append(form, sizeof(form), &n, "refresh_token", a->refresh_token))
      return SDC_ETOOBIG;
    snprintf(url, sizeof(url), "%s", a->token_uri);
  } else if(a->audience) {
    size_t u = 0;
    char aud[1100];
    if(form_append(aud, sizeof(aud), &u, "audience", a->audience))
      return SDC_ETOOBIG;
    snprintf(url, sizeof(url), "http://%s/computeMetadata/v1/instance/"
             "service-accounts/default/identity?%s&format=full",
             a->metadata_host, aud);
    headers = md_headers;
    body = NULL;
  } else {
    snprintf(url, sizeof(url), "http://%s/computeMetadata/v1/instance/"
             "service-accounts/default/token?scopes=%s", a->metadata_host,
             a->scope);
    headers = md_headers;
    body = NULL;
  }
  snprintf(from, sizeof(from), "token endpoint %s", url);
  if(a->kind == K_METADATA)
    snprintf(from, sizeof(from), "metadata server %s", a->metadata_host);
  st = sdc__http_fetch(url, body, headers, timeout_ms, &r, why, sizeof(why));
  OPENSSL_cleanse(form, sizeof(form));
  if(st) {
    snprintf(err, errlen, "%s: %s", from, why);
    return st;
  }
  st = parse_token(a, &r, from, err, errlen);
  sdc__http_resp_cleanup(&r);
  return st;
}

static uint64_t margin_for(const struct sdc__auth *a)
{
  uint64_t half = a->lifetime_ms / 2;
  return half < 300000u ? half : 300000u;
}

int sdc__auth_has_fresh(struct sdc__auth *a, uint64_t margin_ms)
{
  int fresh;

  pthread_mutex_lock(&a->lock);
  fresh = a->kind == K_STATIC ||
          (a->token[0] && a->expires_ms > sdc__now_ms() + margin_ms);
  pthread_mutex_unlock(&a->lock);
  return fresh;
}

sdc_status sdc__auth_token(struct sdc__auth *a, char *out, size_t cap,
                           uint64_t timeout_ms, char *err, size_t errlen)
{
  sdc_status st = SDC_OK;
  uint64_t now;

  pthread_mutex_lock(&a->lock);
  now = sdc__now_ms();
  if(a->kind != K_STATIC && (!a->token[0] || a->expires_ms <= now + margin_for(a))) {
    st = fetch(a, timeout_ms, err, errlen);
    /* a failed refresh may still leave a token that has not expired */
    if(st && a->token[0] && a->expires_ms > now)
      st = SDC_OK;
  }
  if(!st && strlen(a->token) >= cap)
    st = SDC_ETOOBIG;
  if(!st)
    memcpy(out, a->token, strlen(a->token) + 1);
  pthread_mutex_unlock(&a->lock);
  return st;
}

sdc_status sdc__auth_cached(struct sdc__auth *a, char *out, size_t cap)
{
  sdc_status st = SDC_EAGAIN;

  /* a fetch holds the lock for its whole length: never wait for it here */
  if(pthread_mutex_trylock(&a->lock))
    return SDC_EAGAIN;
  if(a->kind == K_STATIC || (a->token[0] && a->expires_ms > sdc__now_ms() + margin_for(a)))
    st = strlen(a->token) < cap ? SDC_OK : SDC_ETOOBIG;
  if(!st)
    memcpy(out, a->token, strlen(a->token) + 1);
  pthread_mutex_unlock(&a->lock);
  return st;
}

const char *sdc__auth_describe(const struct sdc__auth *a) { return a->describe; }
