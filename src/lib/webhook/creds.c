/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a webhook call needs from Google before its first attempt
 * (dialogflow-webhooks sheet §10 E): secret versions from Secret Manager's
 * REST `:access`, the service agent's ID token (audience: the URL without
 * its query) or access token, and a chosen service account's access token
 * (IAM Credentials generateAccessToken). The service agent is played by
 * sdconnect.credentialsFile, else by Google's default credentials.
 *
 * IMPLEMENTATION NOTES
 * - The loop asks the caches (sdc__creds_secret, sdc__creds_token), which
 *   never fetch. What is missing is fetched by one worker thread, started
 *   at the first fetch, because fetching blocks (the auth module's libcurl
 *   client); a job's `done` runs on the loop through a waker.
 * - Secret texts are kept SECRET_TTL_MS: a version's data never changes,
 *   but "latest" moves and a disabled version must stop working. Tokens
 *   are kept by the auth module until shortly before they expire.
 * - The state is reference-counted (the owner, the worker, each posted
 *   job), so sdc__creds_free() never waits for a fetch: it ends every job
 *   at once with SDC_EUNAVAILABLE, and a fetch that finishes later is
 *   dropped.
 * - Secret values and tokens are wiped when freed and never appear in
 *   errors.
 */
#include "webhook/webhook.h"

#include "auth/auth.h"
#include "core/base64.h"
#include "core/core.h"

#include <jansson.h>
#include <openssl/crypto.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_TTL_MS 300000u
#define SECRET_MAX 65536 /* Secret Manager's own limit on a version's data */
#define DEFAULT_SECRET_MANAGER "https://secretmanager.googleapis.com"

struct source {
  struct source *next;
  char *key;
  struct sdc__auth *auth;
};

struct secret {
  struct secret *next;
  char *key; /* endpoint '\n' version */
  char *value;
  uint64_t at_ms;
};

enum job_state { QUEUED, RUNNING, POSTED };

struct job {
  struct job *next;
  struct sdc__creds *c;
  enum job_state state;
  bool cancelled;
  char **versions;
  size_t n_versions;
  char *endpoint;          /* Secret Manager's */
  struct source *google;   /* an access token for Secret Manager */
  struct source *token;    /* the call's bearer token, or NULL */
  uint64_t timeout_ms;
  sdc__creds_done done;
  void *ud;
  sdc_status st;
  char err[900];
};

struct sdc__creds {
  pthread_mutex_t lock;
  pthread_cond_t wake;
  unsigned refs;
  bool stopped, worker;
  sdc_pool *pool;
  sdc_pool_waker *waker;
  struct source *sources;
  struct secret *secrets;
  struct job *jobs; /* every job not done yet, oldest first */
};

sdc_status sdc__creds_new(struct sdc__creds **out, sdc_pool *pool)
{
  struct sdc__creds *c = sdc__calloc(1, sizeof(*c));

  if(!c)
    return SDC_ENOMEM;
  if(sdc_pool_waker_new(pool, &c->waker)) {
    sdc_free(c);
    return SDC_ENOMEM;
  }
  pthread_mutex_init(&c->lock, NULL);
  pthread_cond_init(&c->wake, NULL);
  c->refs = 1;
  c->pool = pool;
  *out = c;
  return SDC_OK;
}

static void job_free(struct job *j)
{
  for(size_t i = 0; i < j->n_versions; i++)
    sdc_free(j->versions[i]);
  sdc_free(j->versions);
  sdc_free(j->endpoint);
  sdc_free(j);
}

static void destroy(struct sdc__creds *c)
{
  while(c->sources) {
    struct source *s = c->sources;
    c->sources = s->next;
    sdc__auth_free(s->auth);
    sdc_free(s->key);
    sdc_free(s);
  }
  while(c->secrets) {
    struct secret *s = c->secrets;
    c->secrets = s->next;
    sdc__free_secret(s->value);
    sdc_free(s->key);
    sdc_free(s);
  }
  sdc_pool_waker_free(c->waker);
  pthread_cond_destroy(&c->wake);
  pthread_mutex_destroy(&c->lock);
  sdc_free(c);
}

/* With the lock held: drop a reference; true when it was the last. */
static bool unref_locked(struct sdc__creds *c) { return --c->refs == 0; }

static void unlink_job(struct sdc__creds *c, struct job *j)
{
  for(struct job **p = &c->jobs; *p; p = &(*p)->next)
    if(*p == j) {
      *p = j->next;
      return;
    }
}

void sdc__creds_free(struct sdc__creds *c)
{
  struct cancel {
    sdc__creds_done done;
    void *ud;
  } *v = NULL;
  size_t n = 0, cap = 0;
  bool last;

  if(!c)
    return;
  pthread_mutex_lock(&c->lock);
  c->stopped = true;
  for(struct job *j = c->jobs; j; j = j->next)
    cap++;
  v = cap ? sdc__calloc(cap, sizeof(*v)) : NULL;
  for(struct job **p = &c->jobs; *p;) {
    struct job *j = *p;
    if(v) {
      v[n].done = j->done;
      v[n++].ud = j->ud;
    }
    j->cancelled = true;
    if(j->state == QUEUED) { /* nobody else holds it */
      *p = j->next;
      job_free(j);
    } else {
      p = &j->next;
    }
  }
  pthread_cond_broadcast(&c->wake);
  last = unref_locked(c);
  pthread_mutex_unlock(&c->lock);
  for(size_t i = 0; i < n; i++) {
    sdc_pool_release(c->pool);
    v[i].done(v[i].ud, SDC_EUNAVAILABLE, "the webhook caller is closing");
  }
  sdc_free(v);
  if(last)
    destroy(c);
}

/* ---- the caches (on the loop) --------------------------------------------------------- */
static const char *endpoint_of(const sdc_webhook *w)
{
  return w->ext.secret_manager_endpoint ? w->ext.secret_manager_endpoint
                                        : DEFAULT_SECRET_MANAGER;
}

static char *read_secret_file(const char *path, const char *version, char *err, size_t cap)
{
  FILE *f = fopen(path, "rb");
  char *buf = f ? sdc__malloc(SECRET_MAX + 1) : NULL;
  size_t n = buf ? fread(buf, 1, SECRET_MAX + 1, f) : 0;
  bool too_big = n > SECRET_MAX;

  if(f)
    fclose(f);
  if(!buf || too_big) {
    snprintf(err, cap, "secret %s: %s %s", version, too_big ? "over 64 KiB in" : "cannot read",
             path);
    sdc__free_secret(buf);
    return NULL;
  }
  while(n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
    n--;
  buf[n] = '\0';
  return buf;
}

/* The cached text of `version` at Secret Manager `endpoint`, or NULL.
 * With the lock held. */
static struct secret *secret_entry(struct sdc__creds *c, const char *endpoint,
                                   const char *version)
{
  size_t el = strlen(endpoint);

  for(struct secret *s = c->secrets; s; s = s->next)
    if(!strncmp(s->key, endpoint, el) && s->key[el] == '\n' && !strcmp(s->key + el + 1, version))
      return s;
  return NULL;
}

sdc_status sdc__creds_secret(struct sdc__creds *c, const sdc_webhook *w, const char *version,
                             char **out, char *err, size_t cap)
{
  const struct sdc__webhook_ext *x = &w->ext;
  struct secret *cached;
  sdc_status st = SDC_EAGAIN;

  for(size_t i = 0; i < x->n_secrets; i++) {
    const struct sdc__secret_source *s = &x->secrets[i];
    if(strcmp(s->version, version))
      continue;
    if(s->env) {
      const char *v = getenv(s->env);
      if(!v) {
        snprintf(err, cap, "secret %s: the environment variable %s is not set", version,
                 s->env);
        return SDC_ENOTFOUND;
      }
      return (*out = sdc__strdup(v)) ? SDC_OK : SDC_ENOMEM;
    }
    return (*out = read_secret_file(s->file, version, err, cap)) ? SDC_OK : SDC_EIO;
  }
  pthread_mutex_lock(&c->lock);
  if((cached = secret_entry(c, endpoint_of(w), version)) &&
     cached->at_ms + SECRET_TTL_MS > sdc__now_ms())
    st = (*out = sdc__strdup(cached->value)) ? SDC_OK : SDC_ENOMEM;
  pthread_mutex_unlock(&c->lock);
  return st;
}

/* The source `key`, made when missing (`base`: the agent's access-token
 * source an impersonating one borrows). With the lock held. */
static struct source *source_locked(struct sdc__creds *c, const char *key,
                                    const sdc_webhook *w, const char *audience,
                                    struct source *base, char *err, size_t cap)
{
  const char *file = w->ext.credentials_file;
  struct sdc__auth *a = NULL;
  struct source *s;
  sdc_status st;

  for(s = c->sources; s; s = s->next)
    if(!strcmp(s->key, key))
      return s;
  if(base) {
    if(sdc__auth_impersonate(&a, base->auth, w->web.service_account, w->ext.iam_endpoint,
                             SDC_CLOUD_PLATFORM_SCOPE)) {
      snprintf(err, cap, "out of memory");
      return NULL;
    }
  } else {
    st = file ? sdc__auth_from_file(&a, file, SDC_CLOUD_PLATFORM_SCOPE, err, cap)
              : sdc__auth_default(&a, SDC_CLOUD_PLATFORM_SCOPE, err, cap);
    if(st)
      return NULL;
    if(audience && sdc__auth_set_id_audience(a, audience, err, cap)) {
      sdc__auth_free(a);
      return NULL;
    }
  }
  if(!(s = sdc__calloc(1, sizeof(*s))) || !(s->key = sdc__strdup(key))) {
    sdc_free(s);
    sdc__auth_free(a);
    snprintf(err, cap, "out of memory");
    return NULL;
  }
  s->auth = a;
  s->next = c->sources;
  c->sources = s;
  return s;
}

/* The source of w's bearer token (an ID token's audience: the URL without
 * its query), or of a Google access token for Secret Manager (`google`). */
static struct source *source_for(struct sdc__creds *c, const sdc_webhook *w, const char *url,
                                 bool google, char *err, size_t cap)
{
  char key[3000], audience[2100];
  const char *file = w->ext.credentials_file ? w->ext.credentials_file : "";
  struct source *s, *base;

  snprintf(audience, sizeof(audience), "%.*s", (int)strcspn(url ? url : "", "?"),
           url ? url : "");
  pthread_mutex_lock(&c->lock);
  snprintf(key, sizeof(key), "access\n%s", file);
  if(google || w->web.agent_auth == SDC_WEBHOOK_AGENT_AUTH_ACCESS_TOKEN) {
    s = source_locked(c, key, w, NULL, NULL, err, cap);
  } else if(w->web.service_account) {
    s = NULL;
    if((base = source_locked(c, key, w, NULL, NULL, err, cap))) {
      snprintf(key, sizeof(key), "impersonate\n%s\n%s\n%s", file, w->web.service_account,
               w->ext.iam_endpoint ? w->ext.iam_endpoint : "");
      s = source_locked(c, key, w, NULL, base, err, cap);
    }
  } else {
    snprintf(key, sizeof(key), "id\n%s\n%s", file, audience);
    s = source_locked(c, key, w, audience, NULL, err, cap);
  }
  pthread_mutex_unlock(&c->lock);
  return s;
}

bool sdc__creds_wants_token(const sdc_webhook *w)
{
  return w->web.service_account || w->web.agent_auth == SDC_WEBHOOK_AGENT_AUTH_ID_TOKEN ||
         w->web.agent_auth == SDC_WEBHOOK_AGENT_AUTH_ACCESS_TOKEN;
}

sdc_status sdc__creds_token(struct sdc__creds *c, const sdc_webhook *w, const char *url,
                            char *out, size_t cap, char *err, size_t errcap)
{
  struct source *s = source_for(c, w, url, false, err, errcap);

  return s ? sdc__auth_cached(s->auth, out, cap) : SDC_ECONFIG;
}

/* ---- the worker ------------------------------------------------------------------------ */
/* CRC32C (Castagnoli), as Secret Manager's dataCrc32c. */
static uint32_t crc32c(const unsigned char *p, size_t n)
{
  uint32_t crc = 0xFFFFFFFFu;

  while(n--) {
    crc ^= *p++;
    for(int k = 0; k < 8; k++)
      crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
  }
  return ~crc;
}

/* The payload of a SecretVersion :access answer, malloc'd; NULL with err. */
static char *payload_of(const struct sdc__http_resp *r, const char *version, char *err,
                        size_t cap)
{
  json_t *j = json_loadb(r->body, r->len, 0, NULL);
  json_t *p = json_object_get(j, "payload");
  const char *data = json_string_value(json_object_get(p, "data"));
  const char *crc = json_string_value(json_object_get(p, "dataCrc32c"));
  size_t dl = data ? strlen(data) : 0, bad, n;
  char *out = NULL;

  while(dl && data[dl - 1] == '=')
    dl--;
  if(!data || dl / 4 * 3 > SECRET_MAX) {
    snprintf(err, cap, "secret %s: Secret Manager answered without payload.data", version);
  } else if(!(out = sdc__malloc(dl * 3 / 4 + 2))) {
    snprintf(err, cap, "out of memory");
  } else if((n = sdc__base64_decode(data, dl, false, (unsigned char *)out, &bad)) ==
            (size_t)-1) {
    snprintf(err, cap, "secret %s: payload.data is not base64 (at character %zu)", version,
             bad);
  } else if(crc && strtoull(crc, NULL, 10) != crc32c((unsigned char *)out, n)) {
    snprintf(err, cap, "secret %s: the data does not match its dataCrc32c (corrupted on "
             "the way)", version);
  } else if(memchr(out, '\0', n)) {
    snprintf(err, cap, "secret %s: the data holds a NUL byte, which no header can carry",
             version);
  } else {
    out[n] = '\0';
    json_decref(j);
    return out;
  }
  if(out)
    OPENSSL_cleanse(out, dl * 3 / 4 + 2);
  sdc_free(out);
  json_decref(j);
  return NULL;
}

static sdc_status fetch_secret(struct job *j, const char *version, char *tok)
{
  struct sdc__creds *c = j->c;
  char url[2400], why[512], hdr[SDC_TOKEN_MAX + 32];
  const char *headers[] = {hdr, NULL};
  struct sdc__http_resp r;
  struct secret *s;
  char *value;
  sdc_status st;

  snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", tok);
  snprintf(url, sizeof(url), "%s/v1/%s:access", j->endpoint, version);
  st = sdc__http_fetch(url, NULL, headers, j->timeout_ms, &r, why, sizeof(why));
  OPENSSL_cleanse(hdr, sizeof(hdr));
  if(st) {
    snprintf(j->err, sizeof(j->err), "secret %s: Secret Manager %s: %s", version, j->endpoint,
             why);
    return st;
  }
  if(r.status != 200) {
    long status = r.status;
    json_t *e = json_loadb(r.body, r.len, 0, NULL);
    const char *m = json_string_value(json_object_get(json_object_get(e, "error"), "message"));
    snprintf(j->err, sizeof(j->err), "secret %s: Secret Manager %s answered HTTP %ld%s%.300s%s",
             version, j->endpoint, r.status, m ? ": " : "", m ? m : "",
             r.status == 403   ? " (grant roles/secretmanager.secretAccessor on the secret)"
             : r.status == 404 ? " (no such secret or version)"
                               : "");
    json_decref(e);
    sdc__http_resp_cleanup(&r);
    return status >= 500 ? SDC_EUNAVAILABLE : SDC_EPERM;
  }
  value = payload_of(&r, version, j->err, sizeof(j->err));
  OPENSSL_cleanse(r.body, r.len);
  sdc__http_resp_cleanup(&r);
  if(!value)
    return SDC_EPROTO;
  pthread_mutex_lock(&c->lock);
  s = secret_entry(c, j->endpoint, version);
  if(!s && (s = sdc__calloc(1, sizeof(*s))) &&
     (s->key = sdc__malloc(strlen(j->endpoint) + strlen(version) + 2))) {
    sprintf(s->key, "%s\n%s", j->endpoint, version);
    s->next = c->secrets;
    c->secrets = s;
  } else if(s && !s->key) {
    sdc_free(s);
    s = NULL;
  }
  if(s) {
    sdc__free_secret(s->value);
    s->value = value;
    s->at_ms = sdc__now_ms();
    value = NULL;
  }
  pthread_mutex_unlock(&c->lock);
  sdc__free_secret(value);
  return s ? SDC_OK : SDC_ENOMEM;
}

/* The blocking part of a job, on the worker. */
static void run(struct job *j)
{
  char tok[SDC_TOKEN_MAX], why[600];

  if(j->token && (j->st = sdc__auth_token(j->token->auth, tok, sizeof(tok), j->timeout_ms, why,
                                          sizeof(why)))) {
    snprintf(j->err, sizeof(j->err), "no token from %.300s: %.500s",
             sdc__auth_describe(j->token->auth), why);
    return;
  }
  if(j->n_versions &&
     (j->st = sdc__auth_token(j->google->auth, tok, sizeof(tok), j->timeout_ms, why,
                              sizeof(why)))) {
    snprintf(j->err, sizeof(j->err), "no Google access token for Secret Manager from %.300s: "
             "%.500s", sdc__auth_describe(j->google->auth), why);
    return;
  }
  for(size_t i = 0; i < j->n_versions && !j->st; i++)
    j->st = fetch_secret(j, j->versions[i], tok);
  OPENSSL_cleanse(tok, sizeof(tok));
}

/* On the loop: a job is done. */
static void job_done(void *ud)
{
  struct job *j = ud;
  struct sdc__creds *c = j->c;
  bool cancelled, last;

  pthread_mutex_lock(&c->lock);
  unlink_job(c, j);
  cancelled = j->cancelled;
  last = unref_locked(c);
  pthread_mutex_unlock(&c->lock);
  if(!cancelled) {
    sdc_pool_release(c->pool);
    j->done(j->ud, j->st, j->st ? j->err : NULL);
  }
  job_free(j);
  if(last)
    destroy(c);
}

static void *worker(void *arg)
{
  struct sdc__creds *c = arg;
  bool last;

  pthread_mutex_lock(&c->lock);
  while(!c->stopped) {
    struct job *j = c->jobs;
    while(j && j->state != QUEUED)
      j = j->next;
    if(!j) {
      pthread_cond_wait(&c->wake, &c->lock);
      continue;
    }
    j->state = RUNNING;
    pthread_mutex_unlock(&c->lock);
    run(j);
    pthread_mutex_lock(&c->lock);
    if(j->cancelled) {
      unlink_job(c, j);
      job_free(j);
      continue;
    }
    j->state = POSTED;
    c->refs++; /* the posted job's */
    pthread_mutex_unlock(&c->lock);
    if(sdc_pool_waker_post(c->waker, job_done, j)) {
      pthread_mutex_lock(&c->lock);
      continue;
    }
    pthread_mutex_lock(&c->lock); /* the pool is gone: nobody will hear */
    unlink_job(c, j);
    job_free(j);
    c->refs--;
  }
  last = unref_locked(c);
  pthread_mutex_unlock(&c->lock);
  if(last)
    destroy(c);
  return NULL;
}

sdc_status sdc__creds_fetch(struct sdc__creds *c, const sdc_webhook *w, const char *url,
                            const char *const *versions, size_t n_versions, bool token,
                            sdc__creds_done done, void *ud, char *err, size_t cap)
{
  struct job *j = sdc__calloc(1, sizeof(*j));
  pthread_t t;
  sdc_status st = SDC_ENOMEM;

  if(!j)
    return SDC_ENOMEM;
  j->c = c;
  j->done = done;
  j->ud = ud;
  j->timeout_ms = w->timeout_ms;
  if(!(j->endpoint = sdc__strdup(endpoint_of(w))) ||
     (n_versions && !(j->versions = sdc__calloc(n_versions, sizeof(char *)))))
    goto fail;
  for(; j->n_versions < n_versions; j->n_versions++)
    if(!(j->versions[j->n_versions] = sdc__strdup(versions[j->n_versions])))
      goto fail;
  st = SDC_ECONFIG;
  if((token && !(j->token = source_for(c, w, url, false, err, cap))) ||
     (n_versions && !(j->google = source_for(c, w, url, true, err, cap))))
    goto fail;
  pthread_mutex_lock(&c->lock);
  if(!c->worker) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    c->worker = pthread_create(&t, &attr, worker, c) == 0;
    pthread_attr_destroy(&attr);
    if(c->worker)
      c->refs++; /* the worker's */
  }
  if(!c->worker) {
    pthread_mutex_unlock(&c->lock);
    snprintf(err, cap, "cannot start the credentials thread");
    st = SDC_EINTERNAL;
    goto fail;
  }
  {
    struct job **p = &c->jobs;
    while(*p)
      p = &(*p)->next;
    *p = j;
  }
  pthread_cond_signal(&c->wake);
  pthread_mutex_unlock(&c->lock);
  sdc_pool_hold(c->pool); /* until done runs */
  return SDC_OK;
fail:
  if(st == SDC_ENOMEM)
    snprintf(err, cap, "out of memory");
  job_free(j);
  return st;
}
