/* SPDX-License-Identifier: Apache-2.0 */
/* The deadline heap and the check scheduler, on a clock the test moves
 * (no sleeps) and a runner the test finishes by hand. */
#include "suites.h"

#include "core/core.h"
#include "core/heap.h"
#include "probe/check.h"

#include <sdconnect/sdconnect.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(equal_deadlines_leave_in_push_order)
{
  struct sdc__heap h;
  struct sdc__heap_item it[8];
  const uint64_t due[8] = {50, 10, 30, 10, 70, 30, 10, 0};
  const int want[8] = {7, 1, 3, 6, 2, 5, 0, 4};

  sdc__heap_init(&h);
  for(int i = 0; i < 8; i++) {
    it[i].due_ms = due[i];
    ck_assert(sdc__heap_push(&h, &it[i]));
  }
  sdc__heap_remove(&h, &it[4]); /* out of the middle */
  ck_assert_uint_eq(it[4].slot, (size_t)-1);
  ck_assert(sdc__heap_push(&h, &it[4])); /* back, last among equals */
  for(int i = 0; i < 8; i++)
    ck_assert_ptr_eq(sdc__heap_pop(&h), &it[want[i]]);
  ck_assert_ptr_null(sdc__heap_pop(&h));
  sdc__heap_cleanup(&h);
}
END_TEST

/* ---- the scheduler ------------------------------------------------------------- */
struct fake {
  int started;
  const sdc_check *which[64];
  sdc__sched_done done[64];
  void *token[64];
  int reports;
};

static sdc_status fake_start(void *ctx, const sdc_check *c, sdc__sched_done done,
                             void *token)
{
  struct fake *f = ctx;

  f->which[f->started] = c;
  f->done[f->started] = done;
  f->token[f->started] = token;
  f->started++;
  return SDC_OK;
}

static void finish(struct fake *f, int i)
{
  sdc_probe_report rep;

  memset(&rep, 0, sizeof(rep));
  rep.check = f->which[i];
  f->done[i](f->token[i], &rep);
}

static void count_report(const sdc_probe_report *rep, void *ud)
{
  (void)rep;
  ((struct fake *)ud)->reports++;
}

static sdc_check_set *checks(int n, const char *period)
{
  char text[8192];
  size_t at = 0;
  sdc_check_set *set = NULL;
  char *errs = NULL;

  for(int i = 0; i < n; i++)
    at += (size_t)snprintf(text + at, sizeof(text) - at,
                           "- {displayName: c%d, monitoredResource: {type: uptime_url, "
                           "labels: {host: 127.0.0.1}}, tcpCheck: {port: 1}, timeout: 1s, "
                           "sdconnect: {period: %s}}\n", i, period);
  ck_assert_msg(sdc_checks_load_mem("s.yaml", text, at, &set, &errs) == SDC_OK, "%s",
                errs ? errs : "");
  return set;
}

static sdc_scheduler *sched(struct fake *f, unsigned max)
{
  sdc_scheduler *s = NULL;

  ck_assert_int_eq(sdc_scheduler_new(&s, NULL, max, count_report, f), SDC_OK);
  sdc__sched_set_runner(s, fake_start, f);
  return s;
}

static void sum_lag(const sdc_check *c, double lag_ms, void *ud)
{
  (void)c;
  *(double *)ud += lag_ms;
}

START_TEST(due_times_follow_the_phase_and_never_drift)
{
  double lags = 0;
  struct fake f = {0};
  sdc_check_set *set = checks(1, "10s");
  const sdc_check *c = sdc_check_set_get(set, 0);
  uint64_t phase = sdc__sched_phase(c, 10000), now = 1000000, next;
  sdc_scheduler *s = sched(&f, 0);
  sdc_scheduler_stats st;

  sdc_scheduler_on_start(s, sum_lag, &lags);
  ck_assert_int_eq(sdc_scheduler_add(s, c, now), SDC_OK);
  ck_assert_int_eq(sdc_scheduler_add(s, c, now), SDC_EEXIST);
  next = sdc_scheduler_tick(s, now);
  ck_assert_uint_eq((now + next) % 10000, phase); /* on its phase */
  for(int i = 0; i < 50; i++) { /* each run starts 3 s late: no drift */
    now += next + 3000;
    next = sdc_scheduler_tick(s, now);
    ck_assert_int_eq(f.started, i + 1);
    ck_assert_uint_eq((now + next) % 10000, phase);
    finish(&f, i);
  }
  sdc_scheduler_stats_get(s, &st);
  ck_assert_uint_eq(st.runs, 50);
  ck_assert_uint_eq(st.skipped, 0);
  ck_assert(st.last_lag_ms == 3000);
  ck_assert(lags == 50 * 3000.0); /* every start told, with its lag */
  ck_assert_int_eq(f.reports, 50);
  sdc_scheduler_free(s);
  sdc_check_set_free(set);
}
END_TEST

START_TEST(a_run_never_overlaps_itself_and_stalls_do_not_burst)
{
  struct fake f = {0};
  sdc_check_set *set = checks(1, "10s");
  const sdc_check *c = sdc_check_set_get(set, 0);
  uint64_t now = 5000000, next;
  sdc_scheduler *s = sched(&f, 0);
  sdc_scheduler_stats st;

  sdc_scheduler_add(s, c, now);
  now += sdc_scheduler_tick(s, now);
  next = sdc_scheduler_tick(s, now);
  ck_assert_int_eq(f.started, 1);
  now += next;
  sdc_scheduler_tick(s, now); /* still running: skipped */
  ck_assert_int_eq(f.started, 1);
  sdc_scheduler_stats_get(s, &st);
  ck_assert_uint_eq(st.skipped, 1);
  finish(&f, 0);
  now += 55000; /* the loop stalled for five and a half periods */
  sdc_scheduler_tick(s, now);
  ck_assert_int_eq(f.started, 2); /* one run (late), not five */
  sdc_scheduler_stats_get(s, &st);
  ck_assert_uint_eq(st.skipped, 1 + 4); /* the other four slots it passed */
  ck_assert(st.last_lag_ms == 45000);
  finish(&f, 1);
  sdc_scheduler_free(s);
  sdc_check_set_free(set);
}
END_TEST

START_TEST(checks_spread_over_their_period_and_share_slots)
{
  struct fake f = {0};
  sdc_check_set *set = checks(40, "60s");
  sdc_scheduler *s = sched(&f, 4);
  uint64_t now = 0, first = UINT64_MAX, last = 0;
  sdc_scheduler_stats st;
  int buckets[6] = {0};

  for(size_t i = 0; i < 40; i++) {
    const sdc_check *c = sdc_check_set_get(set, i);
    uint64_t ph = sdc__sched_phase(c, 60000);
    ck_assert_int_eq(sdc_scheduler_add(s, c, now), SDC_OK);
    buckets[ph / 10000]++;
    if(ph < first)
      first = ph;
    if(ph > last)
      last = ph;
  }
  for(int b = 0; b < 6; b++) /* no herd: every 10 s of the minute gets some */
    ck_assert_int_gt(buckets[b], 0);
  ck_assert_int_eq(sdc_scheduler_add(s, sdc_check_set_get(set, 0), 0), SDC_EEXIST);
  /* everything due at once: four slots, the rest wait in order */
  sdc_scheduler_tick(s, 60000);
  ck_assert_int_eq(f.started, 4);
  sdc_scheduler_stats_get(s, &st);
  ck_assert_uint_eq(st.waiting, 36);
  finish(&f, 0);
  finish(&f, 1);
  sdc_scheduler_tick(s, 60500);
  ck_assert_int_eq(f.started, 6);
  sdc_scheduler_stats_get(s, &st);
  ck_assert(st.last_lag_ms >= 500); /* the wait shows as lag */
  /* removing a waiting check takes it out of the queue; a running one
   * still reports, then goes */
  ck_assert_int_eq(sdc_scheduler_remove(s, f.which[2]), SDC_OK);
  ck_assert_int_eq(sdc_scheduler_remove(s, f.which[2]), SDC_ENOTFOUND);
  finish(&f, 2);
  ck_assert_int_eq(f.reports, 3);
  for(int i = 3; i < 6; i++)
    finish(&f, i);
  sdc_scheduler_free(s);
  sdc_check_set_free(set);
}
END_TEST

START_TEST(a_scheduler_freed_mid_run_lets_the_run_end)
{
  struct fake f = {0};
  sdc_check_set *set = checks(1, "5s");
  sdc_scheduler *s = sched(&f, 0);

  sdc_scheduler_add(s, sdc_check_set_get(set, 0), 0);
  sdc_scheduler_tick(s, 5000);
  sdc_scheduler_tick(s, 10000);
  ck_assert_int_eq(f.started, 1);
  sdc_scheduler_free(s);
  finish(&f, 0); /* no scheduler to tell: the entry goes quietly */
  ck_assert_int_eq(f.reports, 0);
  sdc_check_set_free(set);
}
END_TEST

Suite *sched_suite(void)
{
  Suite *s = suite_create("sched");
  TCase *tc = tcase_create("heap");

  tcase_add_test(tc, equal_deadlines_leave_in_push_order);
  suite_add_tcase(s, tc);
  tc = tcase_create("scheduler");
  tcase_add_test(tc, due_times_follow_the_phase_and_never_drift);
  tcase_add_test(tc, a_run_never_overlaps_itself_and_stalls_do_not_burst);
  tcase_add_test(tc, checks_spread_over_their_period_and_share_slots);
  tcase_add_test(tc, a_scheduler_freed_mid_run_lets_the_run_end);
  suite_add_tcase(s, tc);
  return s;
}
