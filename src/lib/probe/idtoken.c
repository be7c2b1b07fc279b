/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OIDC ID tokens for checks with serviceAgentAuthentication. Google sends
 * an ID token of the Monitoring service agent; sdconnect sends one of the
 * credentials it is given (a service-account key, or the metadata server),
 * for the audience the check's URL names.
 *
 * IMPLEMENTATION NOTES
 * - One source per audience, cached until shortly before the token
 *   expires (the auth module's rule). Fetching blocks, so it runs on a
 *   thread of its own; the loop is held (sdc_pool_hold) until the thread
 *   posts its result back through a waker of its own, and the endpoints
 *   that waited then go on or fail with reason `auth`.
 * - Sources are reference-counted: the prober holds one reference, a
 *   fetching thread another, so a prober freed mid-fetch leaves the thread
 *   a valid source; `pr` is cleared then and the result is dropped.
 */
#include "probe/check.h"

#include "auth/auth.h"
#include "core/core.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define MARGIN_MS 300000 /* refresh five minutes before expiry */

struct waiter {
  struct waiter *next;
  struct ep_probe *e;
};

struct id_source {
  struct id_source *next;
  pthread_mutex_t lock;
  unsigned refs;
  sdc_prober *pr;       /* NULL once the prober is gone */
  char *audience;
  struct sdc__auth *auth;
  bool fetching;
  struct waiter *waiting;
  /* the last fetch, written by its thread */
  sdc_status st;
  char token[SDC_TOKEN_MAX];
  char err[1200];
  sdc_pool_waker *waker; /* the fetching thread's */
};

static void src_unref(struct id_source *s)
{
  bool last;

  pthread_mutex_lock(&s->lock);
  last = --s->refs == 0;
  pthread_mutex_unlock(&s->lock);
  if(!last)
    return;
  sdc__auth_free(s->auth);
  sdc_free(s->audience);
  memset(s->token, 0, sizeof(s->token));
  pthread_mutex_destroy(&s->lock);
  sdc_free(s);
}

void sdc__idtoken_free_all(sdc_prober *pr, struct id_source **list)
{
  while(*list) {
    struct id_source *s = *list;
    *list = s->next;
    while(s->waiting) { /* their runs were ended by the prober */
      struct waiter *w = s->waiting;
      s->waiting = w->next;
      sdc_free(w);
    }
    if(s->fetching) /* its result will be dropped: stop waiting for it */
      sdc_pool_release(sdc__prober_pool(pr));
    pthread_mutex_lock(&s->lock);
    s->pr = NULL;
    pthread_mutex_unlock(&s->lock);
    src_unref(s);
  }
}

/* On the loop: the thread's result is in. */
static void fetched(void *ud)
{
  struct id_source *s = ud;
  sdc_prober *pr;
  struct waiter *w;

  pthread_mutex_lock(&s->lock);
  pr = s->pr;
  pthread_mutex_unlock(&s->lock);
  sdc_pool_waker_free(s->waker);
  s->waker = NULL;
  if(pr) {
    sdc_pool_release(sdc__prober_pool(pr));
    s->fetching = false;
    while((w = s->waiting)) {
      s->waiting = w->next;
      if(s->st)
        sdc__probe_auth_failed(w->e, s->err);
      else
        sdc__probe_auth_ready(w->e, s->token);
      sdc_free(w);
    }
  }
  src_unref(s);
}

static void *fetch_main(void *arg)
{
  struct id_source *s = arg;
  char tok[SDC_TOKEN_MAX], err[512] = "";
  sdc_status st = sdc__auth_token(s->auth, tok, sizeof(tok), 30000, err, sizeof(err));

  pthread_mutex_lock(&s->lock);
  s->st = st;
  if(st)
    snprintf(s->err, sizeof(s->err), "no ID token for audience %.300s from %.300s: "
             "%.500s", s->audience, sdc__auth_describe(s->auth), err);
  else
    snprintf(s->token, sizeof(s->token), "%s", tok);
  pthread_mutex_unlock(&s->lock);
  memset(tok, 0, sizeof(tok));
  if(!sdc_pool_waker_post(s->waker, fetched, s)) { /* the pool is gone */
    sdc_pool_waker_free(s->waker);
    src_unref(s);
  }
  return NULL;
}

static struct id_source *source_for(sdc_prober *pr, struct id_source **list,
                                    const char *creds, const char *audience,
                                    char *err, size_t cap)
{
  struct id_source *s;
  sdc_status st;

  for(s = *list; s; s = s->next)
    if(!strcmp(s->audience, audience))
      return s;
  if(!(s = sdc__calloc(1, sizeof(*s))) || !(s->audience = sdc__strdup(audience))) {
    sdc_free(s);
    snprintf(err, cap, "out of memory");
    return NULL;
  }
  pthread_mutex_init(&s->lock, NULL);
  s->refs = 1;
  s->pr = pr;
  st = creds ? sdc__auth_from_file(&s->auth, creds, NULL, err, cap)
             : sdc__auth_default(&s->auth, NULL, err, cap);
  if(!st)
    st = sdc__auth_set_id_audience(s->auth, audience, err, cap);
  if(st) {
    src_unref(s);
    return NULL;
  }
  s->next = *list;
  *list = s;
  return s;
}

bool sdc__idtoken_get(sdc_prober *pr, struct id_source **list, const char *creds,
                      const char *audience, struct ep_probe *e, char *token,
                      size_t cap, char *err, size_t errcap)
{
  struct id_source *s = source_for(pr, list, creds, audience, err, errcap);
  struct waiter *w;
  pthread_t th;
  pthread_attr_t attr;

  if(!s)
    return false;
  if(!s->fetching && sdc__auth_has_fresh(s->auth, MARGIN_MS) &&
     !sdc__auth_token(s->auth, token, cap, 1, err, errcap))
    return true; /* cached: no fetch, no wait */
  if(!(w = sdc__calloc(1, sizeof(*w)))) {
    snprintf(err, errcap, "out of memory");
    return false;
  }
  w->e = e;
  w->next = s->waiting;
  s->waiting = w;
  token[0] = '\0'; /* told later, through sdc__probe_auth_ready() */
  if(s->fetching)
    return true;
  if(sdc_pool_waker_new(sdc__prober_pool(pr), &s->waker))
    goto fail;
  pthread_mutex_lock(&s->lock);
  s->refs++; /* the thread's */
  pthread_mutex_unlock(&s->lock);
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  if(pthread_create(&th, &attr, fetch_main, s)) {
    pthread_attr_destroy(&attr);
    src_unref(s);
    sdc_pool_waker_free(s->waker);
    s->waker = NULL;
    goto fail;
  }
  pthread_attr_destroy(&attr);
  s->fetching = true;
  sdc_pool_hold(sdc__prober_pool(pr));
  return true;
fail:
  s->waiting = w->next;
  sdc_free(w);
  snprintf(err, errcap, "cannot start fetching an ID token");
  return false;
}
