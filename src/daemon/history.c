/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The history of results in SQLite (see history.h).
 *
 * IMPLEMENTATION NOTES
 * - WAL journal, synchronous=NORMAL: a reader (`sdconnect status`) never
 *   waits for the writer, and a commit costs no fsync; what a power cut
 *   can lose is the last commits, which is fine for a history.
 * - The writer takes everything queued and writes it in one transaction.
 * - Uptime is a ratio of passed runs to runs, from minute buckets for the
 *   last hour and hour buckets for 24 h and 7 d (so those two are at hour
 *   resolution: the oldest hour counted may have started up to an hour
 *   before the window).
 */
#include "history.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_QUEUED_RESULTS 200000 /* about 100 MB at most behind the disk */
#define MINUTE_MS 60000
#define HOUR_MS 3600000
#define PRUNE_EVERY_MS 60000

struct rec_result {
  char *endpoint, *address, *reason, *detail;
  int port, passed;
  long http_status;
  double latency_ms;
  int64_t cert_expiry;
};

struct item {
  struct item *next;
  /* a report, or (when cb is set) a summary request */
  char *check, *service;
  int64_t at_ms;
  int passed, stale;
  size_t n, n_passed;
  struct rec_result *r;
  history_summary_cb cb;
  void *ud;
  char **ids;
  json_t *summary;
};

struct history {
  sqlite3 *db;
  sdc_pool_waker *waker;
  unsigned keep_days;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct item *head, **tail;
  size_t queued_results;
  bool closing;
  uint64_t dropped;
  int64_t pruned_at;
  sqlite3_stmt *up_latest, *up_fail, *up_bucket, *del_gone;
};

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS latest("
    " check_id TEXT NOT NULL, endpoint TEXT NOT NULL, service TEXT,"
    " at_ms INTEGER, passed INTEGER, reason TEXT, detail TEXT, address TEXT,"
    " latency_ms REAL, http_status INTEGER, cert_expiry INTEGER, stale INTEGER,"
    " fail_at_ms INTEGER, fail_reason TEXT, fail_detail TEXT,"
    " PRIMARY KEY(check_id, endpoint));"
    "CREATE TABLE IF NOT EXISTS buckets("
    " check_id TEXT NOT NULL, endpoint TEXT NOT NULL, width_ms INTEGER NOT NULL,"
    " start_ms INTEGER NOT NULL, runs INTEGER NOT NULL, passes INTEGER NOT NULL,"
    " PRIMARY KEY(check_id, endpoint, width_ms, start_ms)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS buckets_by_age ON buckets(width_ms, start_ms);";

/* ---- copying reports ------------------------------------------------------ */
static char *dup(const char *s)
{
  return strdup(s ? s : "");
}

static void item_free(struct item *it)
{
  if(!it)
    return;
  for(size_t i = 0; it->r && i < it->n; i++) {
    free(it->r[i].endpoint);
    free(it->r[i].address);
    free(it->r[i].reason);
    free(it->r[i].detail);
  }
  for(size_t i = 0; it->ids && it->ids[i]; i++)
    free(it->ids[i]);
  free(it->ids);
  free(it->r);
  free(it->check);
  free(it->service);
  json_decref(it->summary);
  free(it);
}

static struct item *copy_report(const sdc_probe_report *rep)
{
  struct item *it = calloc(1, sizeof(*it));
  bool ok;

  if(!it)
    return NULL;
  it->check = dup(sdc_check_id(rep->check));
  it->service = dup(rep->service);
  it->at_ms = rep->started_unix_ms;
  it->passed = rep->passed;
  it->stale = rep->directory_stale;
  it->n_passed = rep->n_passed;
  it->r = calloc(rep->n_results ? rep->n_results : 1, sizeof(*it->r));
  ok = it->check && it->service && it->r;
  for(size_t i = 0; ok && i < rep->n_results; i++) {
    const sdc_probe_result *s = sdc_probe_report_result(rep, i);
    struct rec_result *d = &it->r[i];
    char addr[300];
    it->n++;
    if(s->port)
      snprintf(addr, sizeof(addr), strchr(s->address ? s->address : "", ':') ? "[%s]:%d"
                                                                              : "%s:%d",
               s->address, s->port);
    else
      snprintf(addr, sizeof(addr), "%s", s->address ? s->address : "");
    d->endpoint = dup(s->endpoint);
    d->address = dup(addr);
    d->reason = dup(sdc_probe_reason_name(s->reason));
    d->detail = dup(s->detail);
    d->port = s->port;
    d->passed = s->passed;
    d->http_status = s->http_status;
    d->latency_ms = s->total_ms;
    d->cert_expiry = s->cert_expiry;
    ok = d->endpoint && d->address && d->reason && d->detail;
  }
  if(!ok) {
    item_free(it);
    return NULL;
  }
  return it;
}

/* ---- writing --------------------------------------------------------------- */
static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
  sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

static int step_reset(sqlite3_stmt *s)
{
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  return rc == SQLITE_DONE ? 0 : -1;
}

static int count(struct history *h, const char *check, const char *ep, int64_t at, int passed)
{
  static const int64_t widths[] = {MINUTE_MS, HOUR_MS};
  int bad = 0;

  for(int i = 0; i < 2; i++) {
    sqlite3_stmt *s = h->up_bucket;
    bind_text(s, 1, check);
    bind_text(s, 2, ep);
    sqlite3_bind_int64(s, 3, widths[i]);
    sqlite3_bind_int64(s, 4, at - at % widths[i]);
    sqlite3_bind_int(s, 5, passed ? 1 : 0);
    bad |= step_reset(s);
  }
  return bad;
}

static int latest(struct history *h, const struct item *it, const char *ep,
                  const char *address, int passed, const char *reason, const char *detail,
                  double latency, long status, int64_t expiry)
{
  sqlite3_stmt *s = h->up_latest;
  int bad;

  bind_text(s, 1, it->check);
  bind_text(s, 2, ep);
  bind_text(s, 3, it->service);
  sqlite3_bind_int64(s, 4, it->at_ms);
  sqlite3_bind_int(s, 5, passed);
  bind_text(s, 6, reason);
  bind_text(s, 7, detail);
  bind_text(s, 8, address);
  sqlite3_bind_double(s, 9, latency);
  sqlite3_bind_int64(s, 10, status);
  if(expiry)
    sqlite3_bind_int64(s, 11, expiry);
  sqlite3_bind_int(s, 12, it->stale);
  bad = step_reset(s);
  if(!passed) {
    s = h->up_fail;
    sqlite3_bind_int64(s, 1, it->at_ms);
    bind_text(s, 2, reason);
    bind_text(s, 3, detail);
    bind_text(s, 4, it->check);
    bind_text(s, 5, ep);
    bad |= step_reset(s);
  }
  return bad | count(h, it->check, ep, it->at_ms, passed);
}

static int write_report(struct history *h, const struct item *it)
{
  char detail[96];
  double slowest = 0;
  int bad = 0;

  for(size_t i = 0; i < it->n; i++) {
    const struct rec_result *r = &it->r[i];
    bad |= latest(h, it, r->endpoint, r->address, r->passed, r->reason, r->detail,
                  r->latency_ms, r->http_status, r->cert_expiry);
    if(r->latency_ms > slowest)
      slowest = r->latency_ms;
  }
  snprintf(detail, sizeof(detail), "%zu of %zu endpoints passed", it->n_passed, it->n);
  bad |= latest(h, it, "", "", it->passed, it->passed ? "ok" : "check_failed", detail,
                slowest, 0, 0);
  /* endpoints this run did not see have left the directory */
  bind_text(h->del_gone, 1, it->check);
  sqlite3_bind_int64(h->del_gone, 2, it->at_ms);
  return bad | step_reset(h->del_gone);
}

static void prune(struct history *h, int64_t now)
{
  char sql[300];

  if(now - h->pruned_at < PRUNE_EVERY_MS)
    return;
  h->pruned_at = now;
  snprintf(sql, sizeof(sql),
           "DELETE FROM buckets WHERE width_ms=%d AND start_ms<%lld;"
           "DELETE FROM buckets WHERE width_ms=%d AND start_ms<%lld;"
           "DELETE FROM latest WHERE at_ms<%lld;",
           MINUTE_MS, (long long)(now - 2 * HOUR_MS), HOUR_MS,
           (long long)(now - (int64_t)h->keep_days * 24 * HOUR_MS - HOUR_MS),
           (long long)(now - (int64_t)h->keep_days * 24 * HOUR_MS));
  sqlite3_exec(h->db, sql, NULL, NULL, NULL);
}

static int64_t wall_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void deliver(void *ud)
{
  struct item *it = ud;

  it->cb(it->summary, it->ud);
  item_free(it);
}

static void *writer(void *arg)
{
  struct history *h = arg;

  for(;;) {
    struct item *batch, *it, *next;
    bool closing;
    pthread_mutex_lock(&h->mu);
    while(!h->head && !h->closing)
      pthread_cond_wait(&h->cv, &h->mu);
    batch = h->head;
    h->head = NULL;
    h->tail = &h->head;
    h->queued_results = 0;
    closing = h->closing;
    pthread_mutex_unlock(&h->mu);
    if(batch) {
      bool failed = false;
      sqlite3_exec(h->db, "BEGIN", NULL, NULL, NULL);
      for(it = batch; it; it = it->next)
        if(!it->cb && write_report(h, it))
          failed = true;
      prune(h, wall_ms());
      if(sqlite3_exec(h->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK || failed) {
        fprintf(stderr, "level=error comp=history msg=\"cannot write the history\" "
                        "why=\"%s\"\n", sqlite3_errmsg(h->db));
        sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
      }
    }
    for(it = batch; it; it = next) {
      next = it->next;
      if(it->cb) {
        size_t n = 0;
        while(it->ids && it->ids[n])
          n++;
        it->summary = history_summary(h->db, (const char *const *)it->ids, n, wall_ms(),
                                      NULL, 0);
        if(sdc_pool_waker_post(h->waker, deliver, it))
          continue;
      }
      item_free(it);
    }
    if(closing)
      return NULL;
  }
}

/* ---- the public side -------------------------------------------------------- */
/* The waker, the statements, the file and `h` itself. */
static void release(struct history *h)
{
  sdc_pool_waker_free(h->waker);
  sqlite3_finalize(h->up_latest);
  sqlite3_finalize(h->up_fail);
  sqlite3_finalize(h->up_bucket);
  sqlite3_finalize(h->del_gone);
  sqlite3_close(h->db);
  free(h);
}

int history_open(struct history **out, const char *path, unsigned keep_days,
                 sdc_pool *loop, char *err, size_t errcap)
{
  struct history *h = calloc(1, sizeof(*h));
  char *msg = NULL;

  if(!h) {
    snprintf(err, errcap, "out of memory");
    return -1;
  }
  h->keep_days = keep_days ? keep_days : 7;
  h->tail = &h->head;
  if(sqlite3_open_v2(path, &h->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                       SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
     sqlite3_exec(h->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
    snprintf(err, errcap, "%s: %s", path, msg ? msg : sqlite3_errmsg(h->db));
    goto fail;
  }
  sqlite3_busy_timeout(h->db, 2000);
  if(sqlite3_prepare_v2(h->db,
                        "INSERT INTO latest(check_id, endpoint, service, at_ms, passed, "
                        "reason, detail, address, latency_ms, http_status, cert_expiry, "
                        "stale) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12) "
                        "ON CONFLICT(check_id, endpoint) DO UPDATE SET service=?3, "
                        "at_ms=?4, passed=?5, reason=?6, detail=?7, address=?8, "
                        "latency_ms=?9, http_status=?10, cert_expiry=?11, stale=?12",
                        -1, &h->up_latest, NULL) != SQLITE_OK ||
     sqlite3_prepare_v2(h->db,
                        "UPDATE latest SET fail_at_ms=?1, fail_reason=?2, fail_detail=?3 "
                        "WHERE check_id=?4 AND endpoint=?5",
                        -1, &h->up_fail, NULL) != SQLITE_OK ||
     sqlite3_prepare_v2(h->db,
                        "INSERT INTO buckets VALUES(?1,?2,?3,?4,1,?5) ON CONFLICT DO "
                        "UPDATE SET runs=runs+1, passes=passes+?5",
                        -1, &h->up_bucket, NULL) != SQLITE_OK ||
     sqlite3_prepare_v2(h->db,
                        "DELETE FROM latest WHERE check_id=?1 AND endpoint<>'' AND at_ms<?2",
                        -1, &h->del_gone, NULL) != SQLITE_OK) {
    snprintf(err, errcap, "%s: %s", path, sqlite3_errmsg(h->db));
    goto fail;
  }
  if(sdc_pool_waker_new(loop, &h->waker)) {
    snprintf(err, errcap, "out of memory");
    goto fail;
  }
  pthread_mutex_init(&h->mu, NULL);
  pthread_cond_init(&h->cv, NULL);
  if(pthread_create(&h->thread, NULL, writer, h)) {
    snprintf(err, errcap, "cannot start the history writer");
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    goto fail;
  }
  *out = h;
  return 0;
fail:
  sqlite3_free(msg);
  release(h);
  return -1;
}

static bool enqueue(struct history *h, struct item *it, size_t results)
{
  pthread_mutex_lock(&h->mu);
  if(!it->cb && h->queued_results + results > MAX_QUEUED_RESULTS) {
    h->dropped++;
    pthread_mutex_unlock(&h->mu);
    return false;
  }
  h->queued_results += results;
  *h->tail = it;
  h->tail = &it->next;
  pthread_cond_signal(&h->cv);
  pthread_mutex_unlock(&h->mu);
  return true;
}

bool history_record(struct history *h, const sdc_probe_report *rep)
{
  struct item *it = copy_report(rep);

  if(!it) {
    pthread_mutex_lock(&h->mu);
    h->dropped++;
    pthread_mutex_unlock(&h->mu);
    return false;
  }
  if(!enqueue(h, it, it->n + 1)) {
    item_free(it);
    return false;
  }
  return true;
}

uint64_t history_dropped(const struct history *h)
{
  uint64_t n;

  pthread_mutex_lock((pthread_mutex_t *)&h->mu);
  n = h->dropped;
  pthread_mutex_unlock((pthread_mutex_t *)&h->mu);
  return n;
}

bool history_summary_async(struct history *h, const char *const *checks, size_t n,
                           history_summary_cb cb, void *userdata)
{
  struct item *it = calloc(1, sizeof(*it));

  if(!it || !(it->ids = calloc(n + 1, sizeof(char *)))) {
    free(it);
    return false;
  }
  it->cb = cb;
  it->ud = userdata;
  for(size_t i = 0; i < n; i++)
    if(!(it->ids[i] = strdup(checks[i]))) {
      item_free(it);
      return false;
    }
  return enqueue(h, it, 0);
}

void history_close(struct history *h)
{
  if(!h)
    return;
  pthread_mutex_lock(&h->mu);
  h->closing = true;
  pthread_cond_signal(&h->cv);
  pthread_mutex_unlock(&h->mu);
  pthread_join(h->thread, NULL);
  pthread_mutex_destroy(&h->mu);
  pthread_cond_destroy(&h->cv);
  release(h);
}
