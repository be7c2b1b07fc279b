/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Endpoints of Service Directory targets, found without ever blocking the
 * thread that drives the pool.
 *
 * IMPLEMENTATION NOTES
 * - A fresh cached answer (sdc_resolve_cached) is used at once. Otherwise
 *   the pool asks with sdc_resolve_async(), whose callback runs on the
 *   resolver's worker thread; the answer is put in the pool's inbox and
 *   the pool's poll is woken (curl_multi_wakeup). The loop thread takes
 *   the answers at the start of its next turn (sdc__resolve_take) and
 *   applies them; requests wait for them meanwhile (pool.c, h1conn.c).
 * - One question per (pool, target) at a time: later requests for the
 *   same target join the one in flight.
 * - The inbox outlives the pool when a question is still out: it is
 *   reference-counted, and a freed pool detaches from it under its lock,
 *   so a late answer is dropped instead of touching freed memory.
 */
#include "pool_int.h"

#include "core/core.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

struct sdc__inbox {
  pthread_mutex_t lock;
  unsigned refs;
  CURLM *wake; /* the pool's multi; NULL once the pool is gone */
  struct sdc__resolved *head, *tail;
};

/* A question in flight: the callback's userdata, turned into the answer. */
struct asking {
  struct asking *next; /* in p->asking */
  sdc_target *t;
  bool forced;
};

struct job {
  struct sdc__inbox *in;
  struct sdc__resolved *ans;
};

static void inbox_unref(struct sdc__inbox *in)
{
  bool last;

  pthread_mutex_lock(&in->lock);
  last = --in->refs == 0;
  pthread_mutex_unlock(&in->lock);
  if(last) {
    while(in->head) {
      struct sdc__resolved *a = in->head;
      in->head = a->next;
      sdc_service_release(a->svc);
      sdc_free(a);
    }
    pthread_mutex_destroy(&in->lock);
    sdc_free(in);
  }
}

sdc_status sdc__resolve_init(sdc_pool *p)
{
  struct sdc__inbox *in = sdc__calloc(1, sizeof(*in));

  if(!in)
    return SDC_ENOMEM;
  pthread_mutex_init(&in->lock, NULL);
  in->refs = 1;
  in->wake = p->multi;
  p->inbox = in;
  return SDC_OK;
}

void sdc__resolve_cleanup(sdc_pool *p)
{
  if(!p->inbox)
    return;
  pthread_mutex_lock(&p->inbox->lock);
  p->inbox->wake = NULL; /* late answers are dropped from now on */
  pthread_mutex_unlock(&p->inbox->lock);
  inbox_unref(p->inbox);
  p->inbox = NULL;
  while(p->asking) {
    struct asking *a = p->asking;
    p->asking = a->next;
    sdc_free(a);
  }
}

/* Runs on the resolver's worker thread. */
static void on_answer(sdc_status st, const sdc_service *svc,
                      const sdc_resolve_info *info, const char *errmsg,
                      void *ud)
{
  struct job *j = ud;
  struct sdc__inbox *in = j->in;
  struct sdc__resolved *a = j->ans;

  (void)info;
  sdc_free(j);
  a->st = st;
  a->svc = svc;
  snprintf(a->msg, sizeof(a->msg), "%s", errmsg ? errmsg : "");
  pthread_mutex_lock(&in->lock);
  if(in->wake) {
    if(in->tail)
      in->tail->next = a;
    else
      in->head = a;
    in->tail = a;
    curl_multi_wakeup(in->wake);
    a = NULL;
  }
  pthread_mutex_unlock(&in->lock);
  if(a) { /* the pool is gone */
    sdc_service_release(a->svc);
    sdc_free(a);
  }
  inbox_unref(in);
}

static struct asking *asking_find(sdc_pool *p, const sdc_target *t)
{
  for(struct asking *a = p->asking; a; a = a->next)
    if(a->t == t)
      return a;
  return NULL;
}

bool sdc__resolve_pending(const sdc_pool *p, const sdc_target *t)
{
  return asking_find((sdc_pool *)(uintptr_t)p, t) != NULL;
}

/* Ask the directory about `t` in the background. */
static sdc_status ask(sdc_pool *p, sdc_target *t, bool forced)
{
  struct asking *a;
  struct job *j;
  sdc_status st;

  if(asking_find(p, t))
    return SDC_OK; /* join the question in flight */
  a = sdc__calloc(1, sizeof(*a));
  j = sdc__calloc(1, sizeof(*j));
  if(j)
    j->ans = sdc__calloc(1, sizeof(*j->ans));
  if(!a || !j || !j->ans) {
    if(j)
      sdc_free(j->ans);
    sdc_free(j);
    sdc_free(a);
    snprintf(p->err, sizeof(p->err), "out of memory");
    return SDC_ENOMEM;
  }
  j->in = p->inbox;
  j->ans->t = t;
  if(forced)
    sdc_resolver_invalidate(t->resolver, t->service);
  pthread_mutex_lock(&p->inbox->lock);
  p->inbox->refs++;
  pthread_mutex_unlock(&p->inbox->lock);
  st = sdc_resolve_async(t->resolver, t->service, 0, NULL, on_answer, j);
  if(st) {
    inbox_unref(p->inbox);
    sdc_free(j->ans);
    sdc_free(j);
    sdc_free(a);
    snprintf(p->err, sizeof(p->err), "resolve %s: %s", t->service,
             sdc_strerror(st));
    return st;
  }
  a->t = t;
  a->forced = forced;
  a->next = p->asking;
  p->asking = a;
  return SDC_OK;
}

sdc_status sdc__resolve_endpoints(sdc_pool *p, sdc_target *t)
{
  const sdc_service *s = NULL;
  sdc_status st;

  if(!t->resolver)
    return SDC_OK;
  if(asking_find(p, t))
    return SDC_EAGAIN;
  st = sdc_resolve_cached(t->resolver, t->service, 0, NULL, &s, NULL);
  if(st == SDC_OK) {
    st = sdc__target_apply(t, s); /* takes the reference */
    if(st)
      snprintf(p->err, sizeof(p->err), "out of memory");
    return st;
  }
  if(st != SDC_EAGAIN) {
    snprintf(p->err, sizeof(p->err), "%s", sdc_resolver_errmsg(t->resolver));
    return st;
  }
  st = ask(p, t, false);
  return st ? st : SDC_EAGAIN;
}

sdc_status sdc__resolve_again(sdc_pool *p, sdc_target *t)
{
  return ask(p, t, true);
}

struct sdc__resolved *sdc__resolve_take(sdc_pool *p)
{
  struct sdc__resolved *list;

  pthread_mutex_lock(&p->inbox->lock);
  list = p->inbox->head;
  p->inbox->head = p->inbox->tail = NULL;
  pthread_mutex_unlock(&p->inbox->lock);
  for(struct sdc__resolved *a = list; a; a = a->next) {
    for(struct asking **pp = &p->asking; *pp; pp = &(*pp)->next)
      if((*pp)->t == a->t) {
        struct asking *q = *pp;
        *pp = q->next;
        sdc_free(q);
        break;
      }
    const sdc_service *svc = a->svc;
    a->svc = NULL;
    if(a->st == SDC_OK && sdc__target_apply(a->t, svc)) {
      a->st = SDC_ENOMEM;
      snprintf(a->msg, sizeof(a->msg), "out of memory");
    } else if(a->st == SDC_OK && !a->t->n_eps) {
      a->st = SDC_EUNAVAILABLE;
      snprintf(a->msg, sizeof(a->msg), "the directory lists no usable "
               "endpoint for %s", a->t->service);
    }
  }
  return list;
}

void sdc__resolved_free(struct sdc__resolved *list)
{
  while(list) {
    struct sdc__resolved *a = list;
    list = a->next;
    sdc_service_release(a->svc);
    sdc_free(a);
  }
}
