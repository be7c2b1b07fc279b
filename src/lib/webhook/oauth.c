/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OAuth client credentials for webhooks (dialogflow-webhooks sheet §10.26):
 * a token from the webhook's token endpoint, asked on the pool's loop
 * (never blocking it), cached until a minute before it expires, shared by
 * every call of the same client, endpoint and scopes.
 *
 * IMPLEMENTATION NOTES
 * - The request is `POST` `application/x-www-form-urlencoded` with
 *   grant_type=client_credentials, client_id, client_secret and scope
 *   (the scopes joined by sdconnect.scopeSeparator, default a space as RFC
 *   6749 says; Google's own separator and client authentication style are
 *   not documented, §11.4). The webhook's own headers are not sent.
 * - The answer's access_token and expires_in (default 3600 s) are kept;
 *   the token never appears in errors.
 */
#include "webhook/webhook.h"

#include "pool/request.h"
#include "core/core.h"

#include <jansson.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MARGIN_MS 60000

struct sdc__token_cache {
  struct sdc__token_cache *next;
  char *key;
  char *token;
  uint64_t expires_ms;
};

struct fetch {
  sdc_pool *pool;
  struct sdc__token_cache **cache;
  char *key, *url;
  sdc_target *t;
  char *body;
  sdc__token_cb cb;
  void *ud;
};

void sdc__token_cache_free(struct sdc__token_cache *c)
{
  while(c) {
    struct sdc__token_cache *next = c->next;
    sdc_free(c->key);
    sdc__free_secret(c->token);
    sdc_free(c);
    c = next;
  }
}

/* application/x-www-form-urlencoded */
static void put_form(char *out, size_t cap, size_t *at, const char *s)
{
  for(; *s && *at + 4 < cap; s++) {
    if(isalnum((unsigned char)*s) || strchr("-._~", *s))
      out[(*at)++] = *s;
    else if(*s == ' ')
      out[(*at)++] = '+';
    else
      *at += (size_t)snprintf(out + *at, cap - *at, "%%%02X", (unsigned char)*s);
  }
  out[*at] = '\0';
}

static const char *endpoint_of(const sdc_webhook *w)
{
  return w->ext.token_endpoint ? w->ext.token_endpoint : w->web.oauth.token_endpoint;
}

static void fetch_free(struct fetch *f)
{
  if(f->t) {
    sdc_pool_forget_target(f->pool, f->t);
    sdc_target_free(f->t);
  }
  sdc_free(f->key);
  sdc_free(f->url);
  if(f->body)
    sdc__free_secret(f->body);
  sdc_free(f);
}

sdc_status sdc__oauth_parse(const char *body, size_t len, char **token, uint64_t *ttl_ms)
{
  json_t *j = json_loadb(body, len, 0, NULL), *e;
  const char *tok;
  double secs;

  if(!j || !(tok = json_string_value(json_object_get(j, "access_token"))) || !*tok) {
    json_decref(j);
    return SDC_EPROTO;
  }
  e = json_object_get(j, "expires_in"); /* a number, or (seen) a string of one */
  secs = json_is_number(e) ? json_number_value(e) : json_is_string(e)
                                                        ? atof(json_string_value(e)) : 3600;
  if(!(secs > 0)) /* also NaN */
    secs = 0;
  if(secs > 366.0 * 86400)
    secs = 366.0 * 86400;
  *ttl_ms = (uint64_t)(secs * 1000);
  *token = sdc__strdup(tok);
  json_decref(j);
  return *token ? SDC_OK : SDC_ENOMEM;
}

static void on_token(sdc_status st, sdc_http_response *r, const char *errmsg, void *ud)
{
  struct fetch *f = ud;
  char err[400], *tok = NULL;
  uint64_t ttl = 0;
  struct sdc__token_cache *c;

  if(st)
    snprintf(err, sizeof(err), "the token endpoint: %s", errmsg ? errmsg : sdc_strerror(st));
  else if(r->status != 200)
    snprintf(err, sizeof(err), "the token endpoint answered HTTP %ld", r->status);
  else if((st = sdc__oauth_parse(r->body, r->body_len, &tok, &ttl)))
    snprintf(err, sizeof(err), st == SDC_ENOMEM ? "out of memory"
                               : "the token endpoint's answer has no access_token");
  sdc_http_response_free(r);
  if(!tok) {
    f->cb(st == SDC_ENOMEM ? st : SDC_EPERM, NULL, err, f->ud);
    fetch_free(f);
    return;
  }
  for(c = *f->cache; c && strcmp(c->key, f->key); c = c->next)
    ;
  if(!c && (c = sdc__calloc(1, sizeof(*c)))) {
    c->key = f->key;
    f->key = NULL;
    c->next = *f->cache;
    *f->cache = c;
  }
  if(c) {
    sdc__free_secret(c->token);
    c->token = tok;
    c->expires_ms = sdc__now_ms() + ttl;
    f->cb(SDC_OK, c->token, NULL, f->ud);
  } else {
    sdc__free_secret(tok);
    f->cb(SDC_ENOMEM, NULL, "out of memory", f->ud);
  }
  fetch_free(f);
}

/* The endpoint's host is known: ask. */
static void addr_ready(void *ud, sdc_status st, const char *err)
{
  static const char *const hdrs[] = {"Content-Type: application/x-www-form-urlencoded",
                                     "Accept: application/json", NULL};
  struct fetch *f = ud;
  sdc_http_request req = {.method = "POST", .url = f->url, .headers = hdrs,
                          .body = f->body, .body_len = strlen(f->body), .timeout_ms = 10000};
  char msg[400];

  if(!st && !(st = sdc_pool_submit(f->pool, f->t, &req, on_token, f)))
    return;
  snprintf(msg, sizeof(msg), "the token endpoint: %s", err ? err : sdc_pool_errmsg(f->pool));
  f->cb(st, NULL, msg, f->ud);
  fetch_free(f);
}

sdc_status sdc__oauth_token(sdc_pool *pool, struct sdc__token_cache **cache, const sdc_webhook *w,
                            const char *client_secret, bool refresh, sdc__token_cb cb, void *ud)
{
  const struct sdc__oauth *o = &w->web.oauth;
  const char *url = endpoint_of(w), *sep = w->ext.scope_separator ? w->ext.scope_separator : " ";
  struct fetch *f;
  struct sdc__token_cache *c;
  char key[5200], host[300], body[8192], scopes[2048] = "";
  int port;
  bool tls;
  size_t at = 0;

  for(size_t i = 0; i < o->n_scopes; i++)
    snprintf(scopes + strlen(scopes), sizeof(scopes) - strlen(scopes), "%s%s", i ? sep : "",
             o->scopes[i]);
  snprintf(key, sizeof(key), "%s\n%s\n%s", url, o->client_id, scopes);
  for(c = *cache; c; c = c->next)
    if(!strcmp(c->key, key) && !refresh && c->token &&
       c->expires_ms > sdc__now_ms() + MARGIN_MS) {
      cb(SDC_OK, c->token, NULL, ud); /* the caller is on the loop already */
      return SDC_OK;
    }
  if(sdc__url_host(url, host, sizeof(host), &port, &tls))
    return SDC_EINVAL;
  at = strlen(strcpy(body, "grant_type=client_credentials&client_id="));
  put_form(body, sizeof(body), &at, o->client_id);
  if(client_secret) {
    at = strlen(strcat(body, "&client_secret="));
    put_form(body, sizeof(body), &at, client_secret);
  }
  if(*scopes) {
    at = strlen(strcat(body, "&scope="));
    put_form(body, sizeof(body), &at, scopes);
  }
  if(!(f = sdc__calloc(1, sizeof(*f))))
    return SDC_ENOMEM;
  f->pool = pool;
  f->cache = cache;
  f->cb = cb;
  f->ud = ud;
  if(!(f->key = sdc__strdup(key)) || !(f->body = sdc__strdup(body)) ||
     !(f->url = sdc__strdup(url)) || sdc_target_new(&f->t, host, port, tls)) {
    memset(body, 0, sizeof(body));
    fetch_free(f);
    return SDC_ENOMEM;
  }
  memset(body, 0, sizeof(body));
  {
    sdc_status st = sdc__webhook_address(pool, f->t, host, port, addr_ready, f);
    if(st)
      fetch_free(f);
    return st;
  }
}
