/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading the history: the summary that `sdconnect status` prints and the
 * status page shows (see history.h for what is kept).
 *
 * {"generatedAt": "...Z", "checks": [{"check", "service", "up", "lastRun",
 *   "stale", "detail", "latencyMs", "lastFailure": {"at", "reason",
 *   "detail"}, "uptime": {"1h", "24h", "7d"}, "endpoints": [{"endpoint",
 *   "address", "up", "lastRun", "reason", "detail", "latencyMs",
 *   "httpStatus", "certExpiry", "lastFailure", "uptime"}]}]}
 * Uptime values are percentages, or null with no run in the window.
 */
#include "history.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static json_t *rfc3339(int64_t ms)
{
  char buf[64];
  time_t s = (time_t)(ms / 1000);
  struct tm tm;

  gmtime_r(&s, &tm);
  snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
  return json_string(buf);
}

static const char *col(sqlite3_stmt *s, int i)
{
  const unsigned char *t = sqlite3_column_text(s, i);
  return t ? (const char *)t : "";
}

/* A row of `latest` as JSON: an endpoint, or the check itself (endpoint ""). */
static json_t *row_object(sqlite3_stmt *s)
{
  json_t *o = json_object();
  const char *ep = col(s, 1);

  if(!o)
    return NULL;
  if(*ep) {
    json_object_set_new(o, "endpoint", json_string(ep));
    json_object_set_new(o, "address", json_string(col(s, 7)));
  } else {
    json_object_set_new(o, "check", json_string(col(s, 0)));
    json_object_set_new(o, "service", json_string(col(s, 2)));
    json_object_set_new(o, "stale", json_boolean(sqlite3_column_int(s, 11)));
  }
  json_object_set_new(o, "up", json_boolean(sqlite3_column_int(s, 4)));
  json_object_set_new(o, "lastRun", rfc3339(sqlite3_column_int64(s, 3)));
  json_object_set_new(o, "reason", json_string(col(s, 5)));
  json_object_set_new(o, "detail", json_string(col(s, 6)));
  json_object_set_new(o, "latencyMs", json_real(sqlite3_column_double(s, 8)));
  if(*ep && sqlite3_column_int64(s, 9))
    json_object_set_new(o, "httpStatus", json_integer(sqlite3_column_int64(s, 9)));
  if(sqlite3_column_type(s, 10) != SQLITE_NULL)
    json_object_set_new(o, "certExpiry", rfc3339(sqlite3_column_int64(s, 10) * 1000));
  if(sqlite3_column_type(s, 12) != SQLITE_NULL)
    json_object_set_new(o, "lastFailure",
                        json_pack("{s:o s:s s:s}", "at", rfc3339(sqlite3_column_int64(s, 12)),
                                  "reason", col(s, 13), "detail", col(s, 14)));
  else
    json_object_set_new(o, "lastFailure", json_null());
  json_object_set_new(o, "uptime", json_pack("{s:n s:n s:n}", "1h", "24h", "7d"));
  if(!*ep)
    json_object_set_new(o, "endpoints", json_array());
  return o;
}

static bool wanted(const char *id, const char *const *checks, size_t n)
{
  for(size_t i = 0; i < n; i++)
    if(!strcmp(id, checks[i]))
      return true;
  return n == 0;
}

/* Fill "uptime".`key` of every row from buckets of `width` since `since`. */
static int uptimes(sqlite3 *db, json_t *index, const char *key, int64_t width, int64_t since)
{
  sqlite3_stmt *s;
  int rc;

  if(sqlite3_prepare_v2(db,
                        "SELECT check_id, endpoint, sum(runs), sum(passes) FROM buckets "
                        "WHERE width_ms=?1 AND start_ms>=?2 GROUP BY check_id, endpoint",
                        -1, &s, NULL) != SQLITE_OK)
    return -1;
  sqlite3_bind_int64(s, 1, width);
  sqlite3_bind_int64(s, 2, since - since % width);
  while((rc = sqlite3_step(s)) == SQLITE_ROW) {
    char k[1100];
    json_t *o;
    double runs = (double)sqlite3_column_int64(s, 2);
    snprintf(k, sizeof(k), "%s\n%s", col(s, 0), col(s, 1));
    if((o = json_object_get(index, k)) && runs > 0)
      json_object_set_new(json_object_get(o, "uptime"), key,
                          json_real(100.0 * (double)sqlite3_column_int64(s, 3) / runs));
  }
  sqlite3_finalize(s);
  return rc == SQLITE_DONE ? 0 : -1;
}

json_t *history_summary(sqlite3 *db, const char *const *checks, size_t n, int64_t now_ms,
                        char *err, size_t errcap)
{
  json_t *out = json_object(), *list = json_array(), *index = json_object(), *check = NULL;
  sqlite3_stmt *s = NULL;
  int rc = SQLITE_ERROR;

  if(!out || !list || !index)
    goto fail;
  json_object_set_new(out, "generatedAt", rfc3339(now_ms));
  json_object_set(out, "checks", list);
  if(sqlite3_prepare_v2(db,
                        "SELECT check_id, endpoint, service, at_ms, passed, reason, detail, "
                        "address, latency_ms, http_status, cert_expiry, stale, fail_at_ms, "
                        "fail_reason, fail_detail FROM latest ORDER BY check_id, endpoint",
                        -1, &s, NULL) != SQLITE_OK)
    goto fail;
  while((rc = sqlite3_step(s)) == SQLITE_ROW) {
    char k[1100];
    json_t *o;
    if(!wanted(col(s, 0), checks, n))
      continue;
    if(!(o = row_object(s)))
      goto fail;
    snprintf(k, sizeof(k), "%s\n%s", col(s, 0), col(s, 1));
    json_object_set(index, k, o);
    if(!*col(s, 1)) { /* "" sorts first: the check, then its endpoints */
      check = o;
      json_array_append_new(list, o);
    } else if(check && !strcmp(json_string_value(json_object_get(check, "check")),
                               col(s, 0))) {
      json_array_append_new(json_object_get(check, "endpoints"), o);
    } else {
      json_decref(o);
    }
  }
  if(rc != SQLITE_DONE || uptimes(db, index, "1h", 60000, now_ms - 3600000) ||
     uptimes(db, index, "24h", 3600000, now_ms - 24 * 3600000LL) ||
     uptimes(db, index, "7d", 3600000, now_ms - 7 * 24 * 3600000LL))
    goto fail;
  sqlite3_finalize(s);
  json_decref(index);
  json_decref(list);
  return out;
fail:
  if(err)
    snprintf(err, errcap, "%s", db ? sqlite3_errmsg(db) : "out of memory");
  sqlite3_finalize(s);
  json_decref(index);
  json_decref(list);
  json_decref(out);
  return NULL;
}
