/* SPDX-License-Identifier: Apache-2.0 */
/* Internal header of the webhook module: a loaded `Webhook` resource
 * (resource.c) as the caller reads it. Strings are NULL when not given. */
#ifndef SDC_WEBHOOK_INT_H
#define SDC_WEBHOOK_INT_H

#include <sdconnect/webhook.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sdc__kv {
  char *key, *value;
};

/* Where a secret's text comes from: Secret Manager (a version name), or,
 * as sdconnect allows instead, a file or an environment variable. */
struct sdc__secret_source {
  char *version; /* projects/P/secrets/S/versions/V */
  char *file;    /* sdconnect.secrets[version].file */
  char *env;     /* sdconnect.secrets[version].env */
};

struct sdc__oauth {
  bool set;
  char *client_id, *client_secret, *secret_version_for_client_secret;
  char *token_endpoint;
  char **scopes;
  size_t n_scopes;
};

/* Webhook.GenericWebService */
struct sdc__web {
  char *uri;
  char *username, *password; /* deprecated Basic auth */
  char *secret_version_for_username_password;
  struct sdc__kv *headers;            /* requestHeaders */
  size_t n_headers;
  struct sdc__kv *secret_headers;     /* secretVersionsForRequestHeaders: name -> version */
  size_t n_secret_headers;
  unsigned char **ca_der;             /* allowedCaCerts */
  size_t *ca_len, n_ca;
  struct sdc__oauth oauth;
  int agent_auth;                     /* sdc_webhook_agent_auth; 0: not given */
  char *service_account;              /* serviceAccountAuthConfig.serviceAccount */
  sdc_webhook_type type;
  int http_method;                    /* HttpMethod number; 0: not given */
  char *request_body;                 /* flexible */
  struct sdc__kv *parameter_mapping;  /* flexible: session parameter -> $.path */
  size_t n_parameter_mapping;
};

/* The `sdconnect:` block: what Google's resource has no field for. */
struct sdc__webhook_ext {
  char *client_cert_pem, *client_key_pem; /* mTLS */
  struct sdc__secret_source *secrets;     /* by version */
  size_t n_secrets;
  char *secret_manager_endpoint;          /* default https://secretmanager.googleapis.com */
  char *token_endpoint;                   /* replaces oauthConfig.tokenEndpoint (tests) */
  char *credentials_file;                 /* the service agent's stand-in key file */
  char *iam_endpoint;                     /* IAM Credentials API root (service accounts) */
  char *agent;                            /* projects/P/locations/L/agents/A */
  int *retry_statuses;                    /* HTTP statuses retried once; default 502 503 504 */
  size_t n_retry_statuses;
  char *scope_separator;                  /* OAuth scopes joined by it; default " " */
};

struct sdc_webhook {
  char *name, *display_name, *id;
  char *service;          /* serviceDirectory.service, or NULL */
  struct sdc__web web;
  uint64_t timeout_ms;
  bool disabled;
  char *environment;      /* whose override was applied */
  struct sdc__webhook_ext ext;
};

struct sdc_webhook_set {
  struct sdc_webhook **v;
  size_t n;
};

void sdc__webhook_free(struct sdc_webhook *w);
/* An empty set (NULL when out of memory). */
sdc_webhook_set *sdc__webhook_set_new(void);
/* Move every webhook of `from` into `to` (`from` is left empty). SDC_OK,
 * SDC_EEXIST (an id `to` has: nothing moved; `dup` names it), SDC_ENOMEM. */
sdc_status sdc__webhook_set_take(sdc_webhook_set *to, sdc_webhook_set *from, char *dup,
                                 size_t cap);

/* A webhook's answer as JSON (response.c): at most 64 KiB, then parsed.
 * SDC_OK (*out to json_decref), SDC_ETOOBIG or SDC_EPROTO with `err`. */
struct json_t;
sdc_status sdc__webhook_answer(const void *body, size_t len, struct json_t **out, char *err,
                               size_t errcap);
/* `j` as compact JSON text (sdc_free()), NULL when out of memory. */
char *sdc__json_text(const struct json_t *j);

/* OAuth client-credentials tokens (oauth.c), cached per client, endpoint
 * and scopes. `cb` gets the token (borrowed for the call) or an error
 * that never holds a secret; from a cache it runs inside the call, else
 * on the pool's loop. SDC_OK, SDC_EINVAL (an endpoint that is not an
 * http(s) URL, or refused by the pool), SDC_ENOMEM. */
struct sdc__token_cache;
typedef void (*sdc__token_cb)(sdc_status st, const char *token, const char *err, void *ud);
sdc_status sdc__oauth_token(sdc_pool *pool, struct sdc__token_cache **cache,
                            const sdc_webhook *w, const char *client_secret, bool refresh,
                            sdc__token_cb cb, void *ud);
void sdc__token_cache_free(struct sdc__token_cache *c);
/* A token endpoint's answer: access_token (sdc_free) and how long it
 * lives (expires_in: a number or a string of one; default 3600 s; at most
 * a year). SDC_OK, SDC_EPROTO (no access_token), SDC_ENOMEM. */
sdc_status sdc__oauth_parse(const char *body, size_t len, char **token, uint64_t *ttl_ms);

/* What a call needs from Google before its first attempt (creds.c):
 * secrets and tokens. The loop asks the caches, which never block; what
 * they lack is fetched on a worker thread and `done` runs on the loop
 * (err: why, never a secret). sdc__creds_free() ends pending fetches with
 * SDC_EUNAVAILABLE at once. */
struct sdc__creds;
typedef void (*sdc__creds_done)(void *ud, sdc_status st, const char *err);
sdc_status sdc__creds_new(struct sdc__creds **out, sdc_pool *pool);
void sdc__creds_free(struct sdc__creds *c);
/* Secret `version` of `w`: from sdconnect.secrets (a file or an
 * environment variable) or from the Secret Manager cache. SDC_OK (*out:
 * sdc__free_secret()), SDC_EAGAIN (fetch it), else an error in err. */
sdc_status sdc__creds_secret(struct sdc__creds *c, const sdc_webhook *w, const char *version,
                             char **out, char *err, size_t cap);
/* Whether `w` sends a Google token (service agent or service account). */
bool sdc__creds_wants_token(const sdc_webhook *w);
/* That token for a call to `url` from the cache: SDC_OK, SDC_EAGAIN,
 * else (no credentials) an error in err. */
sdc_status sdc__creds_token(struct sdc__creds *c, const sdc_webhook *w, const char *url,
                            char *out, size_t cap, char *err, size_t errcap);
/* Fetch the secret versions and, with `token`, the token; SDC_OK: `done`
 * will run on the loop. */
sdc_status sdc__creds_fetch(struct sdc__creds *c, const sdc_webhook *w, const char *url,
                            const char *const *versions, size_t n_versions, bool token,
                            sdc__creds_done done, void *ud, char *err, size_t cap);

/* The host (a name, an IPv4 literal, or a bracketed IPv6 literal as the
 * pool takes it) and port of an http(s) URL, and whether it is https
 * (dial.c). 0, or -1: not http(s), no host, or a port out of range. */
int sdc__url_host(const char *url, char *host, size_t cap, int *port, bool *tls);

/* Point `t` at `host` and `port` (dial.c), on the pool's loop: `then`
 * gets SDC_OK or the failure with a message, never inside this call.
 * SDC_OK when `then` will run; SDC_EINVAL, SDC_ENOMEM, SDC_EAGAIN (too many
 * lookups) when it will not. */
typedef void (*sdc__host_ready)(void *ud, sdc_status st, const char *err);
sdc_status sdc__webhook_address(sdc_pool *p, sdc_target *t, const char *host, int port,
                                sdc__host_ready then, void *ud);

#endif
