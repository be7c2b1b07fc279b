/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Checks on their periods.
 *
 * IMPLEMENTATION NOTES
 * - Due times are phase + k * period on the monotonic clock, k counting
 *   up: a run that starts late does not push the next one later (no drift
 *   over hours), and the phase, a hash of the check's id, spreads checks
 *   over their period the same way after every restart or reload (no
 *   thundering herd), as Prometheus spreads scrapes.
 * - A min-heap (core/heap.c) holds the next due time of every check.
 *   tick() pops what is due: a check still running is skipped (counted);
 *   else it starts if a slot is free, or waits in a FIFO for one (its wait
 *   is lag). Slots a stalled loop missed are counted as skipped, never
 *   run in a burst.
 * - Runs end through the prober's callback; a check removed meanwhile
 *   still reports, then its entry goes.
 */
#include "probe/check.h"

#include "core/core.h"
#include "core/heap.h"

#include <stdio.h>
#include <string.h>

#define DEFAULT_MAX_RUNNING 64

struct entry {
  struct sdc__heap_item hi; /* first: the heap hands back items */
  struct entry *next;       /* all entries */
  struct entry *wnext;      /* the waiting FIFO */
  struct sdc_scheduler *s;
  const sdc_check *c;
  uint64_t period_ms, phase_ms, k, due_ms;
  uint64_t run_due; /* the due time of the run starting or waiting */
  bool running, waiting, removed;
};

struct sdc_scheduler {
  sdc_prober *pr;
  sdc_probe_cb cb;
  void *ud;
  sdc__sched_start start;
  void *start_ctx;
  sdc_scheduler_start_cb on_start;
  void *on_start_ud;
  unsigned max_running;
  struct sdc__heap heap;
  struct entry *all;
  struct entry *wait_head, *wait_tail;
  sdc_scheduler_stats st;
};

uint64_t sdc__sched_phase(const sdc_check *c, uint64_t period_ms)
{
  uint64_t h = 1469598103934665603ULL; /* FNV-1a of the id */

  for(const char *p = sdc_check_id(c); *p; p++)
    h = (h ^ (unsigned char)*p) * 1099511628211ULL;
  return period_ms ? h % period_ms : 0;
}

/* ---- running through the prober ----------------------------------------------- */
struct via_prober {
  sdc__sched_done done;
  void *token;
};

static void prober_report(const sdc_probe_report *rep, void *ud)
{
  struct via_prober v = *(struct via_prober *)ud;

  sdc_free(ud);
  v.done(v.token, rep);
}

static sdc_status prober_start(void *ctx, const sdc_check *c, sdc__sched_done done,
                               void *token)
{
  struct via_prober *v = sdc__malloc(sizeof(*v));
  sdc_status st;

  if(!v)
    return SDC_ENOMEM;
  v->done = done;
  v->token = token;
  st = sdc_probe_run(ctx, c, prober_report, v);
  if(st)
    sdc_free(v);
  return st;
}

void sdc__sched_set_runner(sdc_scheduler *s, sdc__sched_start start, void *ctx)
{
  s->start = start;
  s->start_ctx = ctx;
}

/* ---- the scheduler ---------------------------------------------------------------- */
sdc_status sdc_scheduler_new(sdc_scheduler **out, sdc_prober *pr,
                             unsigned max_running, sdc_probe_cb cb, void *userdata)
{
  sdc_scheduler *s;

  if(!out || !cb)
    return SDC_EINVAL;
  if(!(s = sdc__calloc(1, sizeof(*s))))
    return SDC_ENOMEM;
  s->pr = pr;
  s->cb = cb;
  s->ud = userdata;
  s->start = prober_start;
  s->start_ctx = pr;
  s->max_running = max_running ? max_running : DEFAULT_MAX_RUNNING;
  sdc__heap_init(&s->heap);
  *out = s;
  return SDC_OK;
}

static void entry_unlink(sdc_scheduler *s, struct entry *e)
{
  for(struct entry **pp = &s->all; *pp; pp = &(*pp)->next)
    if(*pp == e) {
      *pp = e->next;
      break;
    }
}

void sdc_scheduler_free(sdc_scheduler *s)
{
  if(!s)
    return;
  sdc__heap_cleanup(&s->heap);
  while(s->all) {
    struct entry *e = s->all;
    s->all = e->next;
    if(e->running) { /* its run still ends through the prober: orphan it */
      e->s = NULL;
      e->removed = true;
      continue;
    }
    sdc_free(e);
  }
  sdc_free(s);
}

/* The first due time at or after `now` (k and due_ms set). */
static void plan_from(struct entry *e, uint64_t now)
{
  if(now <= e->phase_ms)
    e->k = 0;
  else
    e->k = (now - e->phase_ms + e->period_ms - 1) / e->period_ms;
  e->due_ms = e->phase_ms + e->k * e->period_ms;
  e->hi.due_ms = e->due_ms;
}

sdc_status sdc_scheduler_add(sdc_scheduler *s, const sdc_check *c, uint64_t now_ms)
{
  struct entry *e;

  if(!s || !c || !sdc_check_period_ms(c))
    return SDC_EINVAL;
  for(e = s->all; e; e = e->next)
    if(e->c == c && !e->removed)
      return SDC_EEXIST;
  if(!(e = sdc__calloc(1, sizeof(*e))))
    return SDC_ENOMEM;
  e->s = s;
  e->c = c;
  e->period_ms = sdc_check_period_ms(c);
  e->phase_ms = sdc__sched_phase(c, e->period_ms);
  e->hi.slot = (size_t)-1;
  plan_from(e, now_ms);
  if(!sdc__heap_push(&s->heap, &e->hi)) {
    sdc_free(e);
    return SDC_ENOMEM;
  }
  e->next = s->all;
  s->all = e;
  return SDC_OK;
}

static void wait_drop(sdc_scheduler *s, struct entry *e)
{
  struct entry *prev = NULL;

  for(struct entry *w = s->wait_head; w; prev = w, w = w->wnext)
    if(w == e) {
      if(prev)
        prev->wnext = w->wnext;
      else
        s->wait_head = w->wnext;
      if(s->wait_tail == w)
        s->wait_tail = prev;
      e->waiting = false;
      s->st.waiting--;
      return;
    }
}

sdc_status sdc_scheduler_remove(sdc_scheduler *s, const sdc_check *c)
{
  for(struct entry *e = s ? s->all : NULL; e; e = e->next) {
    if(e->c != c || e->removed)
      continue;
    sdc__heap_remove(&s->heap, &e->hi);
    if(e->waiting)
      wait_drop(s, e);
    if(e->running) { /* freed when its run reports */
      e->removed = true;
      return SDC_OK;
    }
    entry_unlink(s, e);
    sdc_free(e);
    return SDC_OK;
  }
  return SDC_ENOTFOUND;
}

static void run_done(void *token, const sdc_probe_report *rep)
{
  struct entry *e = token;
  sdc_scheduler *s = e->s;

  e->running = false;
  if(!s) { /* the scheduler went while this ran */
    sdc_free(e);
    return;
  }
  s->st.running--;
  s->cb(rep, s->ud);
  if(e->removed) {
    entry_unlink(s, e);
    sdc_free(e);
  }
}

static void start(sdc_scheduler *s, struct entry *e, uint64_t now)
{
  double lag = now > e->run_due ? (double)(now - e->run_due) : 0;

  e->running = true;
  s->st.running++;
  s->st.runs++;
  s->st.last_lag_ms = lag;
  if(lag > s->st.max_lag_ms)
    s->st.max_lag_ms = lag;
  if(s->start(s->start_ctx, e->c, run_done, e)) {
    e->running = false; /* could not start (memory): counted as missed */
    s->st.running--;
    s->st.runs--;
    s->st.skipped++;
  } else if(s->on_start) {
    s->on_start(e->c, lag, s->on_start_ud);
  }
}

void sdc_scheduler_on_start(sdc_scheduler *s, sdc_scheduler_start_cb cb, void *userdata)
{
  s->on_start = cb;
  s->on_start_ud = userdata;
}

uint64_t sdc_scheduler_tick(sdc_scheduler *s, uint64_t now_ms)
{
  struct sdc__heap_item *top;

  /* runs that waited for a slot go first, in order */
  while(s->wait_head && s->st.running < s->max_running) {
    struct entry *e = s->wait_head;
    s->wait_head = e->wnext;
    if(!s->wait_head)
      s->wait_tail = NULL;
    e->waiting = false;
    s->st.waiting--;
    start(s, e, now_ms);
  }
  while((top = sdc__heap_peek(&s->heap)) && top->due_ms <= now_ms) {
    struct entry *e = (struct entry *)sdc__heap_pop(&s->heap);
    uint64_t k_next = (now_ms - e->phase_ms) / e->period_ms + 1;
    if(!e->running && !e->waiting)
      e->run_due = e->due_ms;
    if(e->running || e->waiting) {
      s->st.skipped++; /* never overlaps itself */
    } else if(s->st.running < s->max_running) {
      start(s, e, now_ms);
    } else {
      e->waiting = true;
      e->wnext = NULL;
      if(s->wait_tail)
        s->wait_tail->wnext = e;
      else
        s->wait_head = e;
      s->wait_tail = e;
      s->st.waiting++;
    }
    if(k_next > e->k + 1) /* slots a stalled loop missed: not run in a burst */
      s->st.skipped += k_next - e->k - 1;
    e->k = k_next;
    e->due_ms = e->phase_ms + e->k * e->period_ms;
    e->hi.due_ms = e->due_ms;
    if(!sdc__heap_push(&s->heap, &e->hi))
      s->st.skipped++; /* LCOV_EXCL_LINE: OutOfMemory; retried by re-adding */
  }
  top = sdc__heap_peek(&s->heap);
  return top ? top->due_ms - now_ms : UINT64_MAX;
}

void sdc_scheduler_stats_get(const sdc_scheduler *s, sdc_scheduler_stats *out)
{
  *out = s->st;
}
