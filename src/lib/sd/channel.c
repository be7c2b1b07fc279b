/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IMPLEMENTATION NOTES
 * - Channels: one per (target, TLS settings) for the whole process,
 *   reference-counted in a small list behind a mutex, so every resolver
 *   talking to the same directory shares one HTTP/2 connection.
 * - Call credentials: a grpc_metadata_credentials plugin over an auth
 *   source, applied per call on TLS channels. gRPC requires the plugin not
 *   to block: a fresh cached token is returned at once; otherwise a helper
 *   thread fetches one and completes the callback (callers normally fetch
 *   before the call, see rpc.c, so this path is rare).
 */
#include "sd.h"

#include "auth/auth.h"
#include "channel.h"
#include "core/core.h"

#include <sdconnect/version.h>

#include <grpc/support/alloc.h>
#include <grpc/support/string_util.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* One grpc_channel of a shared handle; `uses` counts calls on it. */
struct chan_gen {
  struct chan_gen *next;
  grpc_channel *ch;
  unsigned uses;
};

struct sdc__chan {
  struct sdc__chan *next;
  char *key;
  char *target, *ca_pem, *cert_pem, *key_pem;
  int plaintext;
  struct chan_gen *cur, *retired;
  unsigned refs;
  unsigned renewals;
};

static pthread_mutex_t chans_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sdc__chan *chans;

/* Identity of a channel: target and everything TLS. The key holds a hash
 * of the PEM material, never the material itself. */
static void chan_key(const struct sdc__chan_cfg *c, char *out, size_t n)
{
  unsigned long h = 5381;
  const char *parts[3] = {c->ca_pem, c->cert_pem, c->key_pem};

  for(int i = 0; i < 3; i++)
    for(const char *p = parts[i] ? parts[i] : ""; *p; p++)
      h = h * 33 + (unsigned char)*p;
  snprintf(out, n, "%s|%d|%lx", c->target, c->plaintext, h);
}

static grpc_channel *make_channel(const struct sdc__chan *c)
{
  grpc_channel_credentials *creds;
  grpc_arg args[4];
  grpc_channel_args chargs = {4, args};
  grpc_ssl_pem_key_cert_pair pair;
  grpc_channel *ch;

  if(c->plaintext) {
    creds = grpc_insecure_credentials_create();
  } else {
    pair.private_key = c->key_pem;
    pair.cert_chain = c->cert_pem;
    creds = grpc_ssl_credentials_create(c->ca_pem, c->cert_pem ? &pair : NULL,
                                        NULL, NULL);
  }
  memset(args, 0, sizeof(args));
  args[0].type = GRPC_ARG_STRING;
  args[0].key = (char *)GRPC_ARG_PRIMARY_USER_AGENT_STRING;
  args[0].value.string = (char *)"sdconnect/" SDC_VERSION_STRING;
  /* Our calls retry on their own schedule (rpc.c); gRPC's default
   * reconnect backoff (1 s, growing to 120 s) would keep failing them fast
   * long after the directory is back. (GRPC_ARG_MIN_RECONNECT_BACKOFF_MS is
   * left alone: gRPC also uses it as the minimum connect timeout.) */
  args[1].type = args[2].type = args[3].type = GRPC_ARG_INTEGER;
  args[1].key = (char *)GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS;
  args[1].value.integer = 200;
  args[2].key = (char *)GRPC_ARG_MAX_RECONNECT_BACKOFF_MS;
  args[2].value.integer = 5000;
  /* a renewed channel must not inherit the old one's subchannel */
  args[3].key = (char *)GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL;
  args[3].value.integer = 1;
  ch = grpc_channel_create(c->target, creds, &chargs);
  grpc_channel_credentials_release(creds);
  return ch;
}

static void wipe(char *s)
{
  if(s) {
    OPENSSL_cleanse(s, strlen(s));
    sdc_free(s);
  }
}

static void chan_free(struct sdc__chan *c)
{
  struct chan_gen *g, *next;

  for(g = c->retired; g; g = next) {
    next = g->next;
    grpc_channel_destroy(g->ch);
    sdc_free(g);
  }
  if(c->cur) {
    if(c->cur->ch) /* none yet when making the entry ran out of memory */
      grpc_channel_destroy(c->cur->ch);
    sdc_free(c->cur);
  }
  sdc_free(c->key);
  sdc_free(c->target);
  sdc_free(c->ca_pem);
  sdc_free(c->cert_pem);
  wipe(c->key_pem);
  sdc_free(c);
}

static char *dup_opt(const char *s, int *oom)
{
  char *d = s ? sdc__strdup(s) : NULL;

  if(s && !d)
    *oom = 1;
  return d;
}

struct sdc__chan *sdc__chan_get(const struct sdc__chan_cfg *cfg)
{
  char key[1200];
  struct sdc__chan *c;
  int oom = 0;

  chan_key(cfg, key, sizeof(key));
  pthread_mutex_lock(&chans_lock);
  for(c = chans; c; c = c->next)
    if(!strcmp(c->key, key)) {
      c->refs++;
      pthread_mutex_unlock(&chans_lock);
      return c;
    }
  c = sdc__calloc(1, sizeof(*c));
  if(!c)
    goto fail;
  c->plaintext = cfg->plaintext;
  c->key = dup_opt(key, &oom);
  c->target = dup_opt(cfg->target, &oom);
  c->ca_pem = dup_opt(cfg->ca_pem, &oom);
  c->cert_pem = dup_opt(cfg->cert_pem, &oom);
  c->key_pem = dup_opt(cfg->key_pem, &oom);
  c->cur = sdc__calloc(1, sizeof(*c->cur));
  if(oom || !c->cur)
    goto fail;
  c->cur->ch = make_channel(c);
  c->refs = 1;
  c->next = chans;
  chans = c;
  pthread_mutex_unlock(&chans_lock);
  return c;
fail:
  if(c)
    chan_free(c);
  pthread_mutex_unlock(&chans_lock);
  return NULL;
}

void sdc__chan_put(struct sdc__chan *c)
{
  struct sdc__chan **pp;

  if(!c)
    return;
  pthread_mutex_lock(&chans_lock);
  if(--c->refs == 0) {
    for(pp = &chans; *pp; pp = &(*pp)->next)
      if(*pp == c) {
        *pp = c->next;
        break;
      }
    chan_free(c);
  }
  pthread_mutex_unlock(&chans_lock);
}

grpc_channel *sdc__chan_acquire(struct sdc__chan *c)
{
  grpc_channel *ch;

  pthread_mutex_lock(&chans_lock);
  c->cur->uses++;
  ch = c->cur->ch;
  pthread_mutex_unlock(&chans_lock);
  return ch;
}

void sdc__chan_release(struct sdc__chan *c, grpc_channel *ch)
{
  struct chan_gen **pp, *g;

  pthread_mutex_lock(&chans_lock);
  if(c->cur->ch == ch) {
    c->cur->uses--;
  } else {
    for(pp = &c->retired; (g = *pp); pp = &g->next)
      if(g->ch == ch) {
        if(--g->uses == 0) { /* the last call on a retired channel */
          *pp = g->next;
          grpc_channel_destroy(g->ch);
          sdc_free(g);
        }
        break;
      }
  }
  pthread_mutex_unlock(&chans_lock);
}

int sdc__chan_renew(struct sdc__chan *c, grpc_channel *failed)
{
  struct chan_gen *g;
  int renewed = 0;

  pthread_mutex_lock(&chans_lock);
  /* only the current channel, only when it cannot connect; a concurrent
   * caller may have renewed it already */
  if(c->cur->ch == failed &&
     grpc_channel_check_connectivity_state(failed, 0) ==
         GRPC_CHANNEL_TRANSIENT_FAILURE &&
     (g = sdc__calloc(1, sizeof(*g)))) {
    g->ch = make_channel(c);
    if(c->cur->uses) {
      c->cur->next = c->retired;
      c->retired = c->cur;
    } else {
      grpc_channel_destroy(c->cur->ch);
      sdc_free(c->cur);
    }
    c->cur = g;
    c->renewals++;
    renewed = 1;
  }
  pthread_mutex_unlock(&chans_lock);
  return renewed;
}

/* ---- call credentials ---------------------------------------------------- */
struct async_fetch {
  struct sdc__auth *auth;
  grpc_credentials_plugin_metadata_cb cb;
  void *user_data;
};

static void fill_md(grpc_metadata *md, const char *token)
{
  char value[SDC_TOKEN_MAX + 8];

  snprintf(value, sizeof(value), "Bearer %s", token);
  md->key = grpc_slice_from_static_string("authorization");
  md->value = grpc_slice_from_copied_string(value);
  OPENSSL_cleanse(value, sizeof(value));
}

static void *fetch_thread(void *arg)
{
  struct async_fetch *f = arg;
  char token[SDC_TOKEN_MAX], err[512];
  grpc_metadata md;

  if(sdc__auth_token(f->auth, token, sizeof(token), 30000, err, sizeof(err))) {
    f->cb(f->user_data, NULL, 0, GRPC_STATUS_UNAUTHENTICATED, err);
  } else {
    fill_md(&md, token);
    f->cb(f->user_data, &md, 1, GRPC_STATUS_OK, NULL);
    grpc_slice_unref(md.value);
  }
  OPENSSL_cleanse(token, sizeof(token));
  sdc_free(f);
  return NULL;
}

static int plugin_get_metadata(
    void *state, grpc_auth_metadata_context ctx,
    grpc_credentials_plugin_metadata_cb cb, void *user_data,
    grpc_metadata creds_md[GRPC_METADATA_CREDENTIALS_PLUGIN_SYNC_MAX],
    size_t *num_creds_md, grpc_status_code *status, const char **error_details)
{
  struct sdc__auth *a = state;
  char token[SDC_TOKEN_MAX], err[512];
  struct async_fetch *f;
  pthread_t t;
  pthread_attr_t attr;

  (void)ctx;
  if(sdc__auth_has_fresh(a, 10000) &&
     !sdc__auth_token(a, token, sizeof(token), 0, err, sizeof(err))) {
    fill_md(&creds_md[0], token);
    OPENSSL_cleanse(token, sizeof(token));
    *num_creds_md = 1;
    *status = GRPC_STATUS_OK;
    *error_details = NULL;
    return 1;
  }
  f = sdc__malloc(sizeof(*f));
  if(f) {
    f->auth = a;
    f->cb = cb;
    f->user_data = user_data;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if(!pthread_create(&t, &attr, fetch_thread, f)) {
      pthread_attr_destroy(&attr);
      return 0; /* asynchronous */
    }
    pthread_attr_destroy(&attr);
    sdc_free(f);
  }
  *num_creds_md = 0;
  *status = GRPC_STATUS_UNAUTHENTICATED;
  *error_details = gpr_strdup("cannot start a token fetch");
  return 1;
}

static char *plugin_debug(void *state)
{
  return gpr_strdup(sdc__auth_describe(state));
}

static void plugin_destroy(void *state) { sdc__auth_free(state); }

grpc_call_credentials *sdc__call_creds_new(struct sdc__auth *a)
{
  grpc_metadata_credentials_plugin p;

  memset(&p, 0, sizeof(p));
  p.get_metadata = plugin_get_metadata;
  p.debug_string = plugin_debug;
  p.destroy = plugin_destroy;
  p.state = a;
  p.type = "sdconnect.google";
  return grpc_metadata_credentials_create_from_plugin(
      p, GRPC_PRIVACY_AND_INTEGRITY, NULL);
}
