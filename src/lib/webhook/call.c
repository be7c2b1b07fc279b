/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Calling a webhook the way Dialogflow CX does (dialogflow-webhooks sheet
 * §10): over the pool, to the URL's host or to the endpoints of its
 * Service Directory service with the URL's host for SNI, the certificate
 * check and Host; the custom CAs replacing the trust store; a client
 * certificate when the server asks; each attempt within the webhook's
 * timeout; one retry for the failures Dialogflow retries; the answer read
 * as Dialogflow reads it; the outcome it would report.
 *
 * IMPLEMENTATION NOTES
 * - Runs on the pool's loop: every callback comes from sdc_pool_perform()
 *   (failures found before any traffic are posted through a waker), never
 *   from inside sdc_webhook_call().
 * - Secrets are read when the call is made: `sdconnect.secrets` maps a
 *   version to a file or an environment variable. Their values go into
 *   the request's headers only; what is shown (`headers_shown`) masks them.
 * - OAuth (oauth.c): the token is had before the first attempt (from the
 *   cache, or asked on the loop), sent as a bearer token, and asked anew
 *   once when the webhook answers 401.
 * - Secrets and Google tokens (creds.c) come from caches on the loop;
 *   when one is missing, the call first waits for the credentials worker
 *   to fetch what it lacks, then builds its headers again.
 * - Authorization, when several sources are set (the order is not
 *   documented, sheet §11.5): OAuth beats a Google token, which beats
 *   Basic, which beats a static or secret header of that name.
 */
#include "webhook/webhook.h"

#include "auth/auth.h"
#include "pool/request.h"
#include "core/core.h"

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_HEADERS 128
#define MAX_MISSING 16

/* One target per URL host and TLS settings, kept for the caller's life,
 * so that calls reuse its pooled connections. Keyed by what it was made
 * from (not by the webhook, which may go while the caller stays). */
struct hook_target {
  struct hook_target *next;
  char *service;              /* or NULL */
  unsigned char *ca;          /* allowedCaCerts: each length (size_t) then DER */
  size_t ca_len;
  char *cert, *key;           /* client certificate and key (PEM), or NULL */
  char *host;
  int port;
  sdc_target *t;
  uint64_t addressed_ms; /* a plain URL's host was looked up then; 0: never */
};

struct sdc_webhook_caller {
  sdc_pool *pool;
  sdc_resolver *res;
  sdc_pool_waker *waker;
  struct sdc__token_cache *tokens;
  struct sdc__creds *creds;
  struct hook_target *targets;
  size_t live;  /* calls that have not reported yet */
  bool closing; /* sdc_webhook_caller_close(): no attempt starts any more */
  bool no_turns; /* answers checked, not applied (sdc_webhook_caller_set_turns) */
};

/* A plain URL's host is looked up again after this long. */
#define READDRESS_MS 30000

struct call {
  sdc_webhook_caller *c;
  const sdc_webhook *w;
  sdc_webhook_cb cb;
  void *ud;
  sdc_target *t;
  char *url, *body, *values;
  const char *method;
  char **headers, **shown;   /* NULL-ended, room for cap_headers */
  size_t n_headers, cap_headers;
  unsigned attempt;
  char retry_away[96]; /* Dialogflow's retry: not the endpoint that failed ("" none) */
  sdc_webhook_outcome first;
  char detail[1024];
  sdc_webhook_failure early; /* a failure before any traffic */
  char *client_secret;       /* OAuth, kept for a refresh */
  bool refreshed;            /* the token was asked anew after a 401 */
  struct hook_target *ht;    /* where the call goes (t is ht->t) */
  bool addressed;            /* a plain URL's host has its addresses */
  const char *missing[MAX_MISSING]; /* secret versions to fetch (borrowed from w) */
  size_t n_missing;
  bool need_token;           /* the Google token must be fetched */
  bool fetched;              /* the credentials worker has run for this call */
};

sdc_status sdc_webhook_caller_new(sdc_webhook_caller **out, sdc_pool *pool, sdc_resolver *res)
{
  sdc_webhook_caller *c;

  if(!out || !pool)
    return SDC_EINVAL;
  if(!(c = sdc__calloc(1, sizeof(*c))))
    return SDC_ENOMEM;
  if(sdc_pool_waker_new(pool, &c->waker)) {
    sdc_free(c);
    return SDC_ENOMEM;
  }
  if(sdc__creds_new(&c->creds, pool)) {
    sdc_pool_waker_free(c->waker);
    sdc_free(c);
    return SDC_ENOMEM;
  }
  c->pool = pool;
  c->res = res;
  *out = c;
  return SDC_OK;
}

static void hook_target_free(struct hook_target *h)
{
  if(!h)
    return;
  sdc_target_free(h->t);
  sdc_free(h->service);
  sdc_free(h->ca);
  sdc_free(h->cert);
  sdc__free_secret(h->key);
  sdc_free(h->host);
  sdc_free(h);
}

void sdc_webhook_caller_close(sdc_webhook_caller *c)
{
  if(!c || c->closing)
    return;
  c->closing = true;
  sdc__creds_free(c->creds); /* calls waiting for credentials end here */
  c->creds = NULL;
  for(struct hook_target *h = c->targets; h; h = h->next)
    sdc_pool_forget_target(c->pool, h->t); /* requests under way end here */
}

size_t sdc_webhook_caller_live(const sdc_webhook_caller *c) { return c ? c->live : 0; }

void sdc_webhook_caller_set_turns(sdc_webhook_caller *c, int on)
{
  if(c)
    c->no_turns = !on;
}

void sdc_webhook_caller_free(sdc_webhook_caller *c)
{
  if(!c)
    return;
  sdc_webhook_caller_close(c);
  while(c->targets) {
    struct hook_target *h = c->targets;
    c->targets = h->next;
    sdc_pool_forget_target(c->pool, h->t);
    hook_target_free(h);
  }
  sdc_pool_waker_free(c->waker);
  sdc__token_cache_free(c->tokens);
  sdc_free(c);
}

static void call_free(struct call *k)
{
  k->c->live--;
  for(size_t i = 0; i < k->n_headers; i++) {
    sdc__free_secret(k->headers[i]);
    sdc_free(k->shown[i]);
  }
  sdc_free(k->headers);
  sdc_free(k->shown);
  sdc_free(k->url);
  sdc_free(k->body);
  sdc_free(k->values);
  sdc__free_secret(k->client_secret);
  sdc_free(k);
}

/* ---- headers and secrets ------------------------------------------------------------ */
/* The text of secret `version`; NULL when it must be fetched first (noted
 * in k->missing) or cannot be had (k->early, k->detail). */
static char *secret(struct call *k, const char *version)
{
  char *v = NULL;
  sdc_status st = sdc__creds_secret(k->c->creds, k->w, version, &v, k->detail,
                                    sizeof(k->detail));
  size_t i;

  if(st == SDC_EAGAIN) {
    for(i = 0; i < k->n_missing && strcmp(k->missing[i], version); i++)
      ;
    if(i == k->n_missing && i < MAX_MISSING)
      k->missing[k->n_missing++] = version;
  } else if(st) {
    k->early = SDC_WEBHOOK_AUTH;
  }
  return v;
}

static void drop_headers(struct call *k)
{
  for(size_t i = 0; i < k->n_headers; i++) {
    sdc__free_secret(k->headers[i]);
    sdc_free(k->shown[i]);
    k->headers[i] = k->shown[i] = NULL;
  }
  k->n_headers = 0;
  sdc__free_secret(k->client_secret);
  k->client_secret = NULL;
  k->n_missing = 0;
  k->need_token = false;
}

/* Add "Name: value" (replacing a header of the same name); `masked`: show
 * it as "Name: ****". */
static bool add_header(struct call *k, const char *name, const char *value, bool masked)
{
  size_t nl = strlen(name), vl = strlen(value), i;
  const char *sv = masked ? "****" : value;
  size_t sl = masked ? 4 : vl;
  char *line, *shown;

  for(i = 0; i < k->n_headers; i++)
    if(!strncasecmp(k->headers[i], name, nl) && k->headers[i][nl] == ':')
      break;
  if(i == k->cap_headers)
    return false;
  line = sdc__malloc(nl + vl + 3);
  shown = sdc__malloc(nl + sl + 3);
  if(!line || !shown) {
    sdc_free(line);
    sdc_free(shown);
    return false;
  }
  /* by hand: several a call, and printf costs more than the bytes */
  memcpy(line, name, nl);
  memcpy(line + nl, ": ", 2);
  memcpy(line + nl + 2, value, vl + 1);
  memcpy(shown, name, nl);
  memcpy(shown + nl, ": ", 2);
  memcpy(shown + nl + 2, sv, sl + 1);
  if(i < k->n_headers) {
    sdc__free_secret(k->headers[i]);
    sdc_free(k->shown[i]);
  } else {
    k->n_headers++;
  }
  k->headers[i] = line;
  k->shown[i] = shown;
  return true;
}

/* Every header of the call; false with k->early and k->detail. */
static bool headers(struct call *k)
{
  const struct sdc__web *web = &k->w->web;
  bool ok = true;

  if(k->body)
    ok &= add_header(k, "Content-Type", "application/json", false);
  for(size_t i = 0; ok && i < web->n_headers; i++)
    ok &= add_header(k, web->headers[i].key, web->headers[i].value, false);
  for(size_t i = 0; ok && i < web->n_secret_headers; i++) { /* the secret one wins */
    char *v = secret(k, web->secret_headers[i].value);
    if(k->early)
      return false;
    ok &= !v || add_header(k, web->secret_headers[i].key, v, true);
    sdc__free_secret(v);
  }
  if(ok && (web->username || web->secret_version_for_username_password)) {
    char *pair = NULL, *value = NULL;
    if(web->secret_version_for_username_password &&
       !(pair = secret(k, web->secret_version_for_username_password))) {
      if(k->early)
        return false;
    } else { /* a secret holds "username:password" whole */
      value = pair ? sdc__auth_basic(pair, NULL)
                   : sdc__auth_basic(web->username, web->password ? web->password : "");
      ok &= value && add_header(k, "Authorization", value, true);
    }
    sdc__free_secret(pair);
    sdc__free_secret(value);
  }
  if(ok && sdc__creds_wants_token(k->w)) {
    char tok[SDC_TOKEN_MAX + 8] = "Bearer ";
    sdc_status st = sdc__creds_token(k->c->creds, k->w, k->url, tok + 7, sizeof(tok) - 7,
                                     k->detail, sizeof(k->detail));
    if(st == SDC_EAGAIN) {
      k->need_token = true;
    } else if(st) {
      k->early = SDC_WEBHOOK_AUTH;
      return false;
    } else {
      ok &= add_header(k, "Authorization", tok, true);
    }
    OPENSSL_cleanse(tok, sizeof(tok));
  }
  if(ok && web->oauth.set) { /* the client secret, for the token request */
    if(web->oauth.secret_version_for_client_secret) {
      k->client_secret = secret(k, web->oauth.secret_version_for_client_secret);
      if(k->early)
        return false;
    } else if(web->oauth.client_secret &&
              !(k->client_secret = sdc__strdup(web->oauth.client_secret))) {
      ok = false;
    }
  }
  if(!ok) {
    snprintf(k->detail, sizeof(k->detail), "out of memory, or over %d headers", MAX_HEADERS);
    k->early = SDC_WEBHOOK_AUTH;
  }
  return ok;
}

/* ---- the target ---------------------------------------------------------------------- */
/* allowedCaCerts (DER) as one PEM bundle. */
static char *ca_bundle(const struct sdc__web *web, size_t *len)
{
  BIO *b = BIO_new(BIO_s_mem());
  char *data, *out = NULL;
  long n;

  if(!b)
    return NULL;
  for(size_t i = 0; i < web->n_ca; i++) {
    const unsigned char *p = web->ca_der[i];
    X509 *x = d2i_X509(NULL, &p, (long)web->ca_len[i]);
    if(!x || !PEM_write_bio_X509(b, x)) {
      X509_free(x);
      BIO_free(b);
      return NULL;
    }
    X509_free(x);
  }
  if((n = BIO_get_mem_data(b, &data)) > 0 && (out = sdc__malloc((size_t)n + 1))) {
    memcpy(out, data, (size_t)n);
    out[n] = '\0';
    *len = (size_t)n;
  }
  BIO_free(b);
  return out;
}

/* A new target for w at host:port: its CAs, client certificate and
 * Service Directory service. NULL with k->detail and k->early. */
static struct hook_target *target_new(struct call *k, const char *host, int port)
{
  struct hook_target *h = sdc__calloc(1, sizeof(*h));
  const sdc_webhook *w = k->w;
  size_t at = 0;

  if(!h || !(h->host = sdc__strdup(host)) || sdc_target_new(&h->t, host, port, 1))
    goto oom;
  h->port = port;
  for(size_t i = 0; i < w->web.n_ca; i++)
    h->ca_len += sizeof(size_t) + w->web.ca_len[i];
  if((w->service && !(h->service = sdc__strdup(w->service))) ||
     (h->ca_len && !(h->ca = sdc__malloc(h->ca_len))) ||
     (w->ext.client_cert_pem && (!(h->cert = sdc__strdup(w->ext.client_cert_pem)) ||
                                 !(h->key = sdc__strdup(w->ext.client_key_pem)))))
    goto oom;
  for(size_t i = 0; i < w->web.n_ca; i++) {
    memcpy(h->ca + at, &w->web.ca_len[i], sizeof(size_t));
    memcpy(h->ca + at + sizeof(size_t), w->web.ca_der[i], w->web.ca_len[i]);
    at += sizeof(size_t) + w->web.ca_len[i];
  }
  if(w->web.n_ca) {
    size_t len = 0;
    char *pem = ca_bundle(&w->web, &len);
    sdc_status st = pem ? sdc_target_set_ca(h->t, pem, len) : SDC_ENOMEM;
    sdc_free(pem);
    if(st)
      goto oom;
  }
  if(w->ext.client_cert_pem &&
     sdc_target_set_client_cert(h->t, w->ext.client_cert_pem, strlen(w->ext.client_cert_pem),
                                w->ext.client_key_pem, strlen(w->ext.client_key_pem), NULL))
    goto oom;
  if(w->service) {
    if(!k->c->res) {
      snprintf(k->detail, sizeof(k->detail), "the webhook reaches %s but no directory client "
               "was given", w->service);
      k->early = SDC_WEBHOOK_CONNECT;
      goto fail;
    }
    if(sdc_target_set_service(h->t, k->c->res, w->service))
      goto oom;
  }
  return h;
oom:
  snprintf(k->detail, sizeof(k->detail), "out of memory setting up the target");
  k->early = SDC_WEBHOOK_CONNECT;
fail:
  hook_target_free(h);
  return NULL;
}

static bool same_str(const char *a, const char *b) { return a == b || (a && b && !strcmp(a, b)); }

/* Was `h` made for w's settings at host:port? */
static bool same_target(const struct hook_target *h, const sdc_webhook *w, const char *host,
                        int port)
{
  size_t at = 0;

  if(h->port != port || strcmp(h->host, host) || !same_str(h->service, w->service) ||
     !same_str(h->cert, w->ext.client_cert_pem) || !same_str(h->key, w->ext.client_key_pem))
    return false;
  for(size_t i = 0; i < w->web.n_ca; i++) {
    size_t n = w->web.ca_len[i];
    if(at + sizeof(size_t) + n > h->ca_len || memcmp(h->ca + at, &n, sizeof(size_t)) ||
       memcmp(h->ca + at + sizeof(size_t), w->web.ca_der[i], n))
      return false;
    at += sizeof(size_t) + n;
  }
  return at == h->ca_len;
}

/* The call's target: the caller's for this webhook and the URL's host and
 * port, made the first time. */
static bool target(struct call *k)
{
  char host[300];
  int port;
  bool tls;
  struct hook_target *h;

  if(sdc__url_host(k->url, host, sizeof(host), &port, &tls) || !tls)
    goto bad;
  for(h = k->c->targets; h; h = h->next)
    if(same_target(h, k->w, host, port))
      break;
  if(!h) {
    if(!(h = target_new(k, host, port)))
      return false;
    h->next = k->c->targets;
    k->c->targets = h;
  }
  k->ht = h;
  k->t = h->t;
  return true;
bad:
  snprintf(k->detail, sizeof(k->detail), "'%s' is not an https URL with a host", k->url);
  k->early = SDC_WEBHOOK_CONNECT;
  return false;
}

/* ---- attempts -------------------------------------------------------------------------- */
static sdc_webhook_failure failure_of(sdc_status st, sdc_fail_kind kind)
{
  switch(kind) {
  case SDC_FAIL_TIMEOUT:
  case SDC_FAIL_CONNECT_TIMEOUT: return SDC_WEBHOOK_TIMEOUT;
  case SDC_FAIL_TLS_HANDSHAKE:
  case SDC_FAIL_TLS_VERIFY:
  case SDC_FAIL_TLS_EXPIRED:
  case SDC_FAIL_TLS_HOSTNAME:
  case SDC_FAIL_TLS_VERSION:
  case SDC_FAIL_TLS_CLIENT_CERT:
  case SDC_FAIL_CONFIG: return SDC_WEBHOOK_TLS;
  case SDC_FAIL_TOO_BIG: return SDC_WEBHOOK_TOO_LARGE;
  case SDC_FAIL_PROTOCOL: return SDC_WEBHOOK_BAD_RESPONSE;
  case SDC_FAIL_NOMEM: return SDC_WEBHOOK_INTERNAL;
  default:
    if(st == SDC_ENOMEM)
      return SDC_WEBHOOK_INTERNAL;
    return st == SDC_ETIMEDOUT ? SDC_WEBHOOK_TIMEOUT : st == SDC_ETLS ? SDC_WEBHOOK_TLS
                                                                       : SDC_WEBHOOK_CONNECT;
  }
}

static void finish(struct call *k, sdc_webhook_call_result *r)
{
  r->webhook = k->w;
  r->attempts = k->attempt ? k->attempt : 0;
  r->first = k->first;
  r->url = k->url;
  r->method = k->method;
  r->request_body = k->body;
  r->headers_shown = (const char *const *)k->shown;
  if(!r->detail)
    r->detail = k->detail;
  k->cb(r, k->ud);
  call_free(k);
}

static sdc_status attempt(struct call *k);
static void fail_now(struct call *k, sdc_webhook_failure f);
static void on_oauth(sdc_status st, const char *token, const char *err, void *ud);

static void on_answer(sdc_status st, sdc_http_response *resp, const char *errmsg, void *ud)
{
  struct call *k = ud;
  sdc_webhook_call_result r;
  sdc_webhook_failure f = SDC_WEBHOOK_OK;
  char *result = NULL, err[600] = "";

  memset(&r, 0, sizeof(r));
  if(st) {
    f = failure_of(st, sdc_pool_fail_kind(k->c->pool));
    snprintf(k->detail, sizeof(k->detail), "%s", errmsg ? errmsg : sdc_strerror(st));
  } else if(resp->status < 200 || resp->status > 299) {
    f = SDC_WEBHOOK_HTTP_STATUS;
    snprintf(k->detail, sizeof(k->detail), "HTTP %ld from %s", resp->status, resp->endpoint);
  } else {
    sdc_status rs = k->w->web.type == SDC_WEBHOOK_FLEXIBLE
                        ? sdc_webhook_map_parameters(k->w, resp->body, resp->body_len, &result,
                                                     err, sizeof(err))
                        : sdc_webhook_response_read(k->values, resp->body, resp->body_len,
                                                    k->c->no_turns ? NULL : &result, err,
                                                    sizeof(err));
    if(rs) {
      f = rs == SDC_ETOOBIG   ? SDC_WEBHOOK_TOO_LARGE
          : rs == SDC_ENOMEM ? SDC_WEBHOOK_INTERNAL
                             : SDC_WEBHOOK_BAD_RESPONSE;
      snprintf(k->detail, sizeof(k->detail), "%s", rs == SDC_ENOMEM ? "out of memory" : err);
    }
  }
  if(f == SDC_WEBHOOK_HTTP_STATUS && resp->status == 401 && k->w->web.oauth.set &&
     !k->refreshed && !k->c->closing) { /* the token may have just expired: ask anew, once */
    k->refreshed = true;
    k->attempt--; /* not one of Dialogflow's attempts */
    sdc_http_response_free(resp);
    sdc_free(result);
    if(sdc__oauth_token(k->c->pool, &k->c->tokens, k->w, k->client_secret, true, on_oauth, k))
      fail_now(k, SDC_WEBHOOK_AUTH);
    return;
  }
  sdc_webhook_outcome_of(k->w, f, resp ? resp->status : 0, &r.outcome);
  if(r.outcome.retryable && k->attempt == 1 && !k->c->closing) { /* Dialogflow tries again */
    k->first = r.outcome;
    if(resp && resp->endpoint) /* elsewhere, when the service has another endpoint */
      snprintf(k->retry_away, sizeof(k->retry_away), "%s", resp->endpoint);
    sdc_http_response_free(resp);
    sdc_free(result);
    if(attempt(k) == SDC_OK)
      return;
    sdc_webhook_outcome_of(k->w, SDC_WEBHOOK_CONNECT, 0, &r.outcome);
    resp = NULL;
  }
  r.response = resp;
  r.result_json = result;
  finish(k, &r);
  sdc_http_response_free(resp);
  sdc_free(result);
}

/* A plain URL's host is found (or not). */
static void on_host(void *ud, sdc_status st, const char *err)
{
  struct call *k = ud;

  if(st)
    snprintf(k->detail, sizeof(k->detail), "cannot find %s: %s", k->ht->host, err ? err : "");
  else if((k->ht->addressed_ms = sdc__now_ms()), attempt(k) == SDC_OK)
    return;
  else
    snprintf(k->detail, sizeof(k->detail), "%s", sdc_pool_errmsg(k->c->pool));
  fail_now(k, SDC_WEBHOOK_CONNECT); /* on the loop: the pool tells hosts there */
}

static sdc_status attempt(struct call *k)
{
  sdc_http_request req = {.method = k->method,
                          .url = k->url,
                          .headers = (const char *const *)k->headers,
                          .body = k->body,
                          .body_len = k->body ? strlen(k->body) : 0,
                          .timeout_ms = k->w->timeout_ms,
                          .avoid_endpoint = k->retry_away[0] ? k->retry_away : NULL};

  if(k->c->closing)
    return SDC_EUNAVAILABLE;
  if(!k->w->service && !k->addressed &&
     (!k->ht->addressed_ms || sdc__now_ms() - k->ht->addressed_ms > READDRESS_MS)) {
    k->addressed = true; /* first find the URL's host (again, after a while) */
    return sdc__webhook_address(k->c->pool, k->t, k->ht->host, k->ht->port, on_host, k);
  }
  k->attempt++;
  return sdc_pool_submit(k->c->pool, k->t, &req, on_answer, k);
}

/* End the call now with `f` (on the loop). */
static void fail_now(struct call *k, sdc_webhook_failure f)
{
  sdc_webhook_call_result r;

  memset(&r, 0, sizeof(r));
  sdc_webhook_outcome_of(k->w, f, 0, &r.outcome);
  finish(k, &r);
}

/* The OAuth token is in (or not): send it, then make the attempt. */
static void on_oauth(sdc_status st, const char *token, const char *err, void *ud)
{
  struct call *k = ud;
  char *value;

  if(st) {
    snprintf(k->detail, sizeof(k->detail), "OAuth: %s", err ? err : sdc_strerror(st));
    fail_now(k, SDC_WEBHOOK_AUTH);
    return;
  }
  if(!(value = sdc__malloc(strlen(token) + 8)) ||
     (sprintf(value, "Bearer %s", token), !add_header(k, "Authorization", value, true)) ||
     attempt(k)) {
    sdc__free_secret(value);
    snprintf(k->detail, sizeof(k->detail), "out of memory, or the request was refused");
    fail_now(k, SDC_WEBHOOK_AUTH);
    return;
  }
  sdc__free_secret(value);
}

/* The first token: handed over through the waker, so that even a cached
 * one (given inside sdc_webhook_call) is used on the loop's next turn. */
struct first_token {
  struct call *k;
  sdc_status st;
  char *token, err[400];
};

static void first_token_run(void *ud)
{
  struct first_token *ft = ud;

  sdc_pool_release(ft->k->c->pool);
  on_oauth(ft->st, ft->token, ft->err, ft->k);
  sdc__free_secret(ft->token);
  sdc_free(ft);
}

static void oauth_first(sdc_status st, const char *token, const char *err, void *ud)
{
  struct call *k = ud;
  struct first_token *ft = sdc__calloc(1, sizeof(*ft));

  if(ft) {
    ft->k = k;
    ft->st = st;
    snprintf(ft->err, sizeof(ft->err), "%s", err ? err : "");
    if(token && !(ft->token = sdc__strdup(token)))
      ft->st = SDC_ENOMEM;
  }
  if(!ft || !sdc_pool_waker_post(k->c->waker, first_token_run, ft)) {
    sdc_free(ft); /* cannot happen while the pool lives; the call ends */
    sdc_pool_release(k->c->pool);
    call_free(k);
  }
}

/* Headers done: the OAuth token first, else the first attempt. SDC_OK
 * when an outcome will come. */
static sdc_status start(struct call *k)
{
  sdc_status st;

  if(!k->w->web.oauth.set)
    return attempt(k);
  sdc_pool_hold(k->c->pool); /* a cached token must not end the call in here */
  st = sdc__oauth_token(k->c->pool, &k->c->tokens, k->w, k->client_secret, false, oauth_first, k);
  if(st)
    sdc_pool_release(k->c->pool);
  return st;
}

/* The credentials worker has fetched what the call lacked (or not). */
static void on_creds(void *ud, sdc_status st, const char *err)
{
  struct call *k = ud;

  if(st) {
    snprintf(k->detail, sizeof(k->detail), "%s", err ? err : sdc_strerror(st));
    fail_now(k, SDC_WEBHOOK_AUTH);
    return;
  }
  k->fetched = true;
  drop_headers(k);
  if(!headers(k)) {
    fail_now(k, k->early);
  } else if(k->n_missing || k->need_token) { /* cannot happen: fetched a moment ago */
    snprintf(k->detail, sizeof(k->detail), "the credentials fetched were gone at once");
    fail_now(k, SDC_WEBHOOK_AUTH);
  } else if(start(k)) {
    snprintf(k->detail, sizeof(k->detail), "%s", sdc_pool_errmsg(k->c->pool));
    fail_now(k, SDC_WEBHOOK_CONNECT);
  }
}

static void early(void *ud)
{
  struct call *k = ud;
  sdc_webhook_call_result r;

  sdc_pool_release(k->c->pool); /* held while this was on its way */
  memset(&r, 0, sizeof(r));
  sdc_webhook_outcome_of(k->w, k->early, 0, &r.outcome);
  finish(k, &r);
}

/* Tell an early failure on the loop, as every outcome is told. */
static sdc_status post_early(struct call *k)
{
  sdc_pool_hold(k->c->pool);
  if(sdc_pool_waker_post(k->c->waker, early, k))
    return SDC_OK;
  sdc_pool_release(k->c->pool);
  call_free(k);
  return SDC_ENOMEM;
}

sdc_status sdc_webhook_call(sdc_webhook_caller *c, const sdc_webhook *w, const char *input_json,
                            sdc_webhook_cb cb, void *userdata)
{
  struct call *k;
  char err[600];
  sdc_status st = SDC_OK;

  if(!c || !w || !cb)
    return SDC_EINVAL;
  if(c->closing)
    return SDC_EUNAVAILABLE;
  if(!(k = sdc__calloc(1, sizeof(*k))))
    return SDC_ENOMEM;
  k->c = c;
  c->live++;
  k->w = w;
  k->cb = cb;
  /* Content-Type, Authorization and the configured ones */
  k->cap_headers = 2 + w->web.n_headers + w->web.n_secret_headers;
  if(k->cap_headers > MAX_HEADERS)
    k->cap_headers = MAX_HEADERS;
  if(!(k->headers = sdc__calloc(k->cap_headers + 1, sizeof(char *))) ||
     !(k->shown = sdc__calloc(k->cap_headers + 1, sizeof(char *)))) {
    call_free(k);
    return SDC_ENOMEM;
  }
  k->ud = userdata;
  k->method = sdc_webhook_method(w);
  /* the request is read again for the turn */
  if(input_json && !c->no_turns && !(k->values = sdc__strdup(input_json))) {
    call_free(k);
    return SDC_ENOMEM;
  }
  if(w->disabled) {
    snprintf(k->detail, sizeof(k->detail), "the webhook is disabled");
    k->early = SDC_WEBHOOK_DISABLED;
  } else if(w->web.type == SDC_WEBHOOK_FLEXIBLE) {
    if((st = sdc_webhook_render_uri(w->web.uri, input_json, &k->url, err, sizeof(err))) ||
       (w->web.request_body && *w->web.request_body &&
        (st = sdc_webhook_render_body(w->web.request_body, input_json, &k->body, err,
                                      sizeof(err))))) {
      if(st == SDC_ENOMEM) {
        call_free(k);
        return st;
      }
      snprintf(k->detail, sizeof(k->detail), "%s", err);
      k->early = SDC_WEBHOOK_BAD_REQUEST;
    }
  } else if(!(k->url = sdc__strdup(w->web.uri)) ||
            !(k->body = sdc__strdup(input_json ? input_json : "{}"))) {
    call_free(k);
    return SDC_ENOMEM;
  }
  if(!k->early && k->url)
    (void)(headers(k) && target(k));
  if(!k->url && !k->early) {
    call_free(k);
    return SDC_ENOMEM;
  }
  if(k->early)
    return post_early(k);
  if(k->n_missing || k->need_token) { /* Secret Manager or a Google token first */
    st = sdc__creds_fetch(c->creds, w, k->url, k->missing, k->n_missing, k->need_token,
                          on_creds, k, k->detail, sizeof(k->detail));
    if(st == SDC_ENOMEM) {
      call_free(k);
      return st;
    }
    if(st) {
      k->early = SDC_WEBHOOK_AUTH;
      return post_early(k);
    }
    return SDC_OK;
  }
  if((st = start(k)))
    call_free(k);
  return st;
}
