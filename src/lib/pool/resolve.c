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

#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>

struct sdc__inbox {
  pthread_mutex_t lock;
  unsigned refs;
  CURLM *wake; /* the pool's multi; NULL once the pool is gone */
  struct sdc__resolved *head, *tail;
};

/* A directory question about a target, in flight. */
struct asking {
  struct asking *next; /* in p->asking */
  uint64_t id;         /* answers carry it: a forgotten target's are dropped */
  sdc_target *t;
};

/* A caller waiting for sdc_pool_resolve(_host): answers find it by id. */
struct lookup {
  struct lookup *next;
  uint64_t id;
  sdc_resolve_cb cb;
  sdc_addr_cb acb;
  void *ud;
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
    sdc__resolved_free(in->head);
    pthread_mutex_destroy(&in->lock);
    sdc_free(in);
  }
}

static void inbox_ref(struct sdc__inbox *in)
{
  pthread_mutex_lock(&in->lock);
  in->refs++;
  pthread_mutex_unlock(&in->lock);
}

/* A job carrying answer `a` to another thread and back; it holds a
 * reference to the inbox. */
static struct job *job_new(sdc_pool *p, struct sdc__resolved *a)
{
  struct job *j = sdc__calloc(1, sizeof(*j));

  if(j) {
    j->in = p->inbox;
    j->ans = a;
    inbox_ref(p->inbox);
  }
  return j;
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

/* Put an answer in the inbox from any thread, waking the loop. */
static bool post(struct sdc__inbox *in, struct sdc__resolved *a)
{
  bool dropped;

  pthread_mutex_lock(&in->lock);
  dropped = !in->wake;
  if(!dropped) {
    if(in->tail)
      in->tail->next = a;
    else
      in->head = a;
    in->tail = a;
    curl_multi_wakeup(in->wake);
  }
  pthread_mutex_unlock(&in->lock);
  if(dropped)
    sdc__resolved_free(a);
  return !dropped;
}

/* Runs on the resolver's worker thread. */
static void on_answer(sdc_status st, const sdc_service *svc,
                      const sdc_resolve_info *info, const char *errmsg,
                      void *ud)
{
  struct job *j = ud;
  struct sdc__inbox *in = j->in;
  struct sdc__resolved *a = j->ans;

  sdc_free(j);
  a->st = st;
  a->svc = svc;
  if(info)
    a->info = *info;
  snprintf(a->msg, sizeof(a->msg), "%s", errmsg ? errmsg : "");
  post(in, a); /* dropped when the pool is gone */
  inbox_unref(in);
}

/* Apply a target's answer to it. */
static void apply(struct sdc__resolved *a)
{
  const sdc_service *svc = a->svc;

  a->svc = NULL;
  a->kind = SDC_FAIL_DIRECTORY;
  if(a->st == SDC_OK && sdc__target_apply(a->t, svc)) {
    a->st = SDC_ENOMEM;
    snprintf(a->msg, sizeof(a->msg), "out of memory");
  } else if(a->st == SDC_OK && !a->t->n_eps) {
    a->st = SDC_EUNAVAILABLE;
    a->kind = SDC_FAIL_NO_ENDPOINT;
    snprintf(a->msg, sizeof(a->msg), "the directory lists no usable "
             "endpoint for %s", a->t->service);
  }
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
  struct sdc__resolved *ans;
  struct job *j = NULL;
  sdc_status st;

  if(asking_find(p, t))
    return SDC_OK; /* join the question in flight */
  a = sdc__calloc(1, sizeof(*a));
  ans = sdc__calloc(1, sizeof(*ans));
  if(!a || !ans || !(j = job_new(p, ans))) {
    sdc_free(ans);
    sdc_free(a);
    snprintf(p->err, sizeof(p->err), "out of memory");
    return SDC_ENOMEM;
  }
  ans->t = t;
  ans->ask = ++p->next_ask;
  if(forced)
    sdc_resolver_invalidate(t->resolver, t->service);
  st = sdc_resolve_async(t->resolver, t->service, 0, NULL, on_answer, j);
  if(st) {
    inbox_unref(p->inbox);
    sdc_free(ans);
    sdc_free(j);
    sdc_free(a);
    snprintf(p->err, sizeof(p->err), "resolve %s: %s", t->service,
             sdc_strerror(st));
    return st;
  }
  a->t = t;
  a->id = p->next_ask; /* j may be gone already: the answer frees it */
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
  struct sdc__resolved *list, *keep = NULL, **tail = &keep;

  pthread_mutex_lock(&p->inbox->lock);
  list = p->inbox->head;
  p->inbox->head = p->inbox->tail = NULL;
  pthread_mutex_unlock(&p->inbox->lock);
  while(list) {
    struct sdc__resolved *a = list;
    bool caller = a->cb || a->acb, wanted = false;
    list = a->next;
    a->next = NULL;
    if(a->pfn) { /* a waker's post: always delivered */
      *tail = a;
      tail = &a->next;
      continue;
    }
    if(a->acb && a->host)
      p->dns_threads--;
    for(struct lookup **pp = &p->callers; caller && *pp; pp = &(*pp)->next)
      if((*pp)->id == a->ask) { /* still wanted: not cancelled */
        struct lookup *l = *pp;
        *pp = l->next;
        a->cb = l->cb;
        a->acb = l->acb;
        a->ud = l->ud;
        sdc_free(l);
        p->lookups--;
        wanted = true;
        break;
      }
    for(struct asking **pp = &p->asking; !caller && *pp; pp = &(*pp)->next)
      if((*pp)->id == a->ask) {
        struct asking *q = *pp;
        *pp = q->next;
        sdc_free(q);
        wanted = true;
        break;
      }
    if(!wanted) { /* about a target the pool has forgotten */
      sdc__resolved_free(a);
      continue;
    }
    if(a->t)
      apply(a);
    *tail = a;
    tail = &a->next;
  }
  return keep;
}

void sdc__resolve_forget(sdc_pool *p, const sdc_target *t)
{
  for(struct asking **pp = &p->asking; *pp;)
    if((*pp)->t == t) {
      struct asking *q = *pp;
      *pp = q->next;
      sdc_free(q);
    } else {
      pp = &(*pp)->next;
    }
}


/* Remember who waits for answer `a` (its id, callback and userdata). */
static bool track(sdc_pool *p, const struct sdc__resolved *a)
{
  struct lookup *l = sdc__calloc(1, sizeof(*l));

  if(!l)
    return false;
  l->id = a->ask;
  l->cb = a->cb;
  l->acb = a->acb;
  l->ud = a->ud;
  l->next = p->callers;
  p->callers = l;
  p->lookups++;
  return true;
}

static void untrack(sdc_pool *p, uint64_t id)
{
  for(struct lookup **pp = &p->callers; *pp; pp = &(*pp)->next)
    if((*pp)->id == id) {
      struct lookup *l = *pp;
      *pp = l->next;
      sdc_free(l);
      p->lookups--;
      return;
    }
}

void sdc_pool_cancel_lookups(sdc_pool *p, void *userdata)
{
  for(struct lookup **pp = &p->callers; *pp;)
    if((*pp)->ud == userdata) {
      struct lookup *l = *pp;
      *pp = l->next;
      sdc_free(l);
      p->lookups--;
    } else {
      pp = &(*pp)->next;
    }
}

void sdc__resolve_fail_callers(sdc_pool *p)
{
  while(p->callers) {
    struct lookup *l = p->callers;
    p->callers = l->next;
    p->lookups--;
    if(l->cb)
      l->cb(SDC_EUNAVAILABLE, NULL, NULL, "the pool was freed", l->ud);
    else
      l->acb(SDC_EUNAVAILABLE, NULL, 0, "the pool was freed", l->ud);
    sdc_free(l);
  }
}

sdc_status sdc_pool_resolve(sdc_pool *p, sdc_resolver *r, const char *name,
                            int max_endpoints, const char *filter,
                            sdc_resolve_cb cb, void *userdata)
{
  struct job *j;
  struct sdc__resolved *a;
  const sdc_service *s = NULL;
  sdc_resolve_info info = {0};
  sdc_status st;

  if(!r || !name || !*name || !cb)
    return SDC_EINVAL;
  if(!(a = sdc__calloc(1, sizeof(*a))))
    return SDC_ENOMEM;
  a->cb = cb;
  a->ud = userdata;
  a->ask = ++p->next_ask;
  st = sdc_resolve_cached(r, name, max_endpoints, filter, &s, &info);
  if(st != SDC_EAGAIN) { /* known now: told next turn, never from here */
    a->st = st;
    a->svc = s;
    a->info = info;
    snprintf(a->msg, sizeof(a->msg), "%s", st ? sdc_resolver_errmsg(r) : "");
    if(!track(p, a)) {
      sdc__resolved_free(a);
      return SDC_ENOMEM;
    }
    post(p->inbox, a);
    return SDC_OK;
  }
  if(!track(p, a)) {
    sdc_free(a);
    return SDC_ENOMEM;
  }
  if(!(j = job_new(p, a))) {
    untrack(p, a->ask);
    sdc_free(a);
    return SDC_ENOMEM;
  }
  st = sdc_resolve_async(r, name, max_endpoints, filter, on_answer, j);
  if(st) {
    untrack(p, a->ask);
    inbox_unref(p->inbox);
    sdc_free(a);
    sdc_free(j);
    return st;
  }
  return SDC_OK;
}

/* ---- host names ---------------------------------------------------------- */
static void *dns_main(void *arg)
{
  struct job *j = arg;
  struct sdc__resolved *a = j->ans;
  struct sdc__inbox *in = j->in;
  struct addrinfo hints, *res = NULL;
  int rc;

  sdc_free(j);
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  rc = getaddrinfo(a->host, NULL, &hints, &res);
  if(rc) {
    a->st = rc == EAI_NONAME ? SDC_ENOTFOUND : SDC_EUNAVAILABLE;
    snprintf(a->msg, sizeof(a->msg), "DNS lookup of %s: %s", a->host, gai_strerror(rc));
  } else {
    size_t n = 0;
    for(struct addrinfo *ai = res; ai; ai = ai->ai_next)
      n++;
    a->addrs = sdc__calloc(n ? n : 1, sizeof(char *));
    for(struct addrinfo *ai = res; a->addrs && ai && a->n_addrs < 16; ai = ai->ai_next) {
      char buf[INET6_ADDRSTRLEN];
      const void *src = ai->ai_family == AF_INET6
                            ? (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr
                            : (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr;
      bool dup = false;
      if(!inet_ntop(ai->ai_family, src, buf, sizeof(buf)))
        continue;
      for(size_t i = 0; i < a->n_addrs; i++)
        dup |= !strcmp(a->addrs[i], buf);
      if(!dup && (a->addrs[a->n_addrs] = sdc__strdup(buf)))
        a->n_addrs++;
    }
    freeaddrinfo(res);
    if(!a->n_addrs) {
      a->st = SDC_ENOMEM;
      snprintf(a->msg, sizeof(a->msg), "DNS lookup of %s: out of memory", a->host);
    }
  }
  post(in, a);
  inbox_unref(in);
  return NULL;
}

sdc_status sdc_pool_resolve_host(sdc_pool *p, const char *host, sdc_addr_cb cb,
                                 void *userdata)
{
  struct sdc__resolved *a;
  struct job *j;
  unsigned char bin[16];
  char v6[64] = "";
  size_t hl = host ? strlen(host) : 0;
  pthread_t th;
  pthread_attr_t attr;

  if(!host || !*host || hl > 253 || !cb)
    return SDC_EINVAL;
  if(hl > 2 && host[0] == '[' && host[hl - 1] == ']' && hl - 2 < sizeof(v6)) {
    memcpy(v6, host + 1, hl - 2); /* a URL's [v6]: the literal inside */
    v6[hl - 2] = '\0';
    if(inet_pton(AF_INET6, v6, bin) != 1)
      return SDC_EINVAL;
    host = v6;
  }
  if(p->dns_threads >= 64)
    return SDC_EAGAIN;
  if(!(a = sdc__calloc(1, sizeof(*a))) || !(a->host = sdc__strdup(host))) {
    sdc_free(a);
    return SDC_ENOMEM;
  }
  a->acb = cb;
  a->ud = userdata;
  a->ask = ++p->next_ask;
  if(inet_pton(AF_INET, host, bin) == 1 || inet_pton(AF_INET6, host, bin) == 1) {
    if(!(a->addrs = sdc__calloc(1, sizeof(char *))) || !(a->addrs[0] = sdc__strdup(host))) {
      sdc__resolved_free(a);
      return SDC_ENOMEM;
    }
    a->n_addrs = 1;
    if(!track(p, a)) {
      sdc__resolved_free(a);
      return SDC_ENOMEM;
    }
    p->dns_threads++; /* counted down with the others when taken */
    post(p->inbox, a);
    return SDC_OK;
  }
  if(!track(p, a)) {
    sdc__resolved_free(a);
    return SDC_ENOMEM;
  }
  if(!(j = job_new(p, a))) {
    untrack(p, a->ask);
    sdc__resolved_free(a);
    return SDC_ENOMEM;
  }
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  if(pthread_create(&th, &attr, dns_main, j)) {
    pthread_attr_destroy(&attr);
    untrack(p, a->ask);
    inbox_unref(p->inbox);
    sdc_free(j);
    sdc__resolved_free(a);
    return SDC_EAGAIN;
  }
  pthread_attr_destroy(&attr);
  p->dns_threads++;
  return SDC_OK;
}

/* ---- wakers: other threads hand work back to the loop --------------------- */
struct sdc_pool_waker {
  struct sdc__inbox *in;
};

sdc_status sdc_pool_waker_new(sdc_pool *p, sdc_pool_waker **out)
{
  sdc_pool_waker *w;

  if(!p || !out)
    return SDC_EINVAL;
  if(!(w = sdc__calloc(1, sizeof(*w))))
    return SDC_ENOMEM;
  w->in = p->inbox;
  inbox_ref(w->in);
  *out = w;
  return SDC_OK;
}

int sdc_pool_waker_post(sdc_pool_waker *w, sdc_pool_fn fn, void *userdata)
{
  struct sdc__resolved *a;

  if(!w || !fn || !(a = sdc__calloc(1, sizeof(*a))))
    return 0;
  a->pfn = fn;
  a->ud = userdata;
  return post(w->in, a);
}

void sdc_pool_waker_free(sdc_pool_waker *w)
{
  if(w) {
    inbox_unref(w->in);
    sdc_free(w);
  }
}

void sdc_pool_hold(sdc_pool *p) { p->holds++; }
void sdc_pool_release(sdc_pool *p)
{
  if(p->holds)
    p->holds--;
}

void sdc__resolved_free(struct sdc__resolved *list)
{
  while(list) {
    struct sdc__resolved *a = list;
    list = a->next;
    for(size_t i = 0; i < a->n_addrs; i++)
      sdc_free(a->addrs[i]);
    sdc_free(a->addrs);
    sdc_free(a->host);
    sdc_service_release(a->svc);
    sdc_free(a);
  }
}
