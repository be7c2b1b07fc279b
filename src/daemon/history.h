/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's history of results: a SQLite file in the state directory,
 * kept across restarts, read by `sdconnect status` and the status page.
 *
 * What is kept, per check and per endpoint (the check as a whole is the
 * endpoint ""): the last result, the last failure, and pass counts in
 * minute buckets (for the last hour) and hour buckets (for `keep_days`),
 * so the file stays bounded whatever the period: about 120 + 24 * days
 * rows per endpoint.
 *
 * Threads: the file is written by a thread of its own. history_record()
 * only copies the report into a bounded queue, so the loop never waits
 * for the disk. Summaries for the status page are made on that thread too
 * and delivered on the loop through a pool waker.
 */
#ifndef SDC_DAEMON_HISTORY_H
#define SDC_DAEMON_HISTORY_H

#include <sdconnect/sdconnect.h>

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

struct history;

/* Open (create) the database at `path` and start the writer. `loop`
 * (borrowed) receives the summaries. 0, or -1 with `err`. */
int history_open(struct history **out, const char *path, unsigned keep_days,
                 sdc_pool *loop, char *err, size_t errcap);
/* On the loop thread: queue `rep` (copied). false when the queue is full
 * and the report was dropped (counted in history_dropped()). */
bool history_record(struct history *h, const sdc_probe_report *rep);
/* Reports dropped because the writer fell behind; rows written. */
uint64_t history_dropped(const struct history *h);

/* Called on the loop with the summary (borrowed for the call; NULL if it
 * could not be made) of the checks asked for. */
typedef void (*history_summary_cb)(json_t *summary, void *userdata);
/* On the loop thread: make a summary of `checks` (copied; n = 0: every
 * check) on the writer thread and hand it to `cb` on the loop. false when
 * it cannot be queued: then `cb` never runs. */
bool history_summary_async(struct history *h, const char *const *checks, size_t n,
                           history_summary_cb cb, void *userdata);
/* Write what is queued, answer pending summaries (through the loop: give
 * it a turn afterwards) and close. NULL ok. */
void history_close(struct history *h);

/* The summary itself, for any reader of the file (`sdconnect status`
 * opens it read-only): checks in id order, each with its endpoints, the
 * last result and failure, and uptime over 1 h, 24 h and 7 d. `check`
 * NULL, or one check id. `now_ms` is the wall clock. NULL when out of
 * memory or the file cannot be read (`err` says why). */
json_t *history_summary(sqlite3 *db, const char *const *checks, size_t n,
                        int64_t now_ms, char *err, size_t errcap);

#endif
