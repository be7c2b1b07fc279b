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

struct chan {
  struct chan *next;
  char *key;
  grpc_channel *ch;
  unsigned refs;
};

static pthread_mutex_t chans_lock = PTHREAD_MUTEX_INITIALIZER;
static struct chan *chans;

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

grpc_channel *sdc__channel_get(const struct sdc__chan_cfg *c)
{
  char key[1200];
  struct chan *e;
  grpc_channel_credentials *creds;
  grpc_arg args[1];
  grpc_channel_args chargs = {1, args};
  grpc_ssl_pem_key_cert_pair pair;

  chan_key(c, key, sizeof(key));
  pthread_mutex_lock(&chans_lock);
  for(e = chans; e; e = e->next)
    if(!strcmp(e->key, key)) {
      e->refs++;
      pthread_mutex_unlock(&chans_lock);
      return e->ch;
    }
  e = sdc__calloc(1, sizeof(*e));
  if(!e || !(e->key = sdc__strdup(key))) {
    sdc_free(e);
    pthread_mutex_unlock(&chans_lock);
    return NULL;
  }
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
  e->ch = grpc_channel_create(c->target, creds, &chargs);
  grpc_channel_credentials_release(creds);
  e->refs = 1;
  e->next = chans;
  chans = e;
  pthread_mutex_unlock(&chans_lock);
  return e->ch;
}

void sdc__channel_put(grpc_channel *ch)
{
  struct chan **pp, *e;

  if(!ch)
    return;
  pthread_mutex_lock(&chans_lock);
  for(pp = &chans; (e = *pp); pp = &e->next)
    if(e->ch == ch) {
      if(--e->refs == 0) {
        *pp = e->next;
        grpc_channel_destroy(e->ch);
        sdc_free(e->key);
        sdc_free(e);
      }
      break;
    }
  pthread_mutex_unlock(&chans_lock);
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
