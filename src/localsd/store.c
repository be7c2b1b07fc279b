/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IMPLEMENTATION NOTES
 * - One SQLite connection behind one mutex. Statements run in microseconds,
 *   so serialising them costs far less than the gRPC round trip around them.
 * - Durability: WAL journal with synchronous=NORMAL. A commit is in the
 *   kernel before the RPC is answered, so every acknowledged write survives
 *   kill -9 of the server; only a power cut can lose the last commits
 *   (synchronous=FULL would fsync per write at ~100x the cost).
 * - locking_mode=EXCLUSIVE: a second server on the same file fails at open
 *   with a clear message instead of corrupting or blocking.
 * - Cascading delete is one range delete on the primary key: everything
 *   whose name starts with "<name>/" sorts in ["<name>/", "<name>0").
 */
#include "store.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

enum stmt_id {
  ST_GET, ST_INSERT, ST_REPLACE, ST_DELETE, ST_SCAN_ASC, ST_SCAN_DESC,
  ST_SCAN_AFTER_ASC, ST_SCAN_AFTER_DESC, ST_COUNTS, ST_SCAN_KIND, ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_GET] = "SELECT body FROM resources WHERE name = ?1",
    [ST_INSERT] = "INSERT INTO resources(name, kind, parent, body) "
                  "VALUES (?1, ?2, ?3, ?4)",
    [ST_REPLACE] = "UPDATE resources SET body = ?2 WHERE name = ?1",
    [ST_DELETE] = "DELETE FROM resources WHERE name = ?1 OR "
                  "(name >= ?1 || '/' AND name < ?1 || '0')",
    [ST_SCAN_ASC] = "SELECT name, body FROM resources WHERE parent = ?1 AND "
                    "kind = ?2 ORDER BY name",
    [ST_SCAN_DESC] = "SELECT name, body FROM resources WHERE parent = ?1 AND "
                     "kind = ?2 ORDER BY name DESC",
    [ST_SCAN_AFTER_ASC] = "SELECT name, body FROM resources WHERE parent = ?1 "
                          "AND kind = ?2 AND name > ?3 ORDER BY name",
    [ST_SCAN_AFTER_DESC] = "SELECT name, body FROM resources WHERE parent = ?1 "
                           "AND kind = ?2 AND name < ?3 ORDER BY name DESC",
    [ST_COUNTS] = "SELECT kind, count(*) FROM resources GROUP BY kind",
    [ST_SCAN_KIND] = "SELECT name, body FROM resources WHERE kind = ?1 "
                     "ORDER BY name LIMIT ?2",
};

struct store {
  sqlite3 *db;
  sqlite3_stmt *st[ST_COUNT];
  pthread_mutex_t lock;
  _Atomic uint64_t generation;
  uint8_t token_key[LSD_TOKEN_KEY_LEN];
};

static grpc_status_code db_fail(struct store *s, struct lsd_err *e,
                                const char *what)
{
  return lsd_fail(e, GRPC_STATUS_INTERNAL, "storage: %s: %s", what,
                 sqlite3_errmsg(s->db));
}

static grpc_status_code exec(struct store *s, const char *sql, struct lsd_err *e)
{
  char *msg = NULL;

  if(sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
    return GRPC_STATUS_OK;
  lsd_fail(e, GRPC_STATUS_INTERNAL, "storage: %s", msg ? msg : "error");
  sqlite3_free(msg);
  return e->code;
}

/* Load the page-token secret, making one on first open. */
static grpc_status_code load_token_key(struct store *s, struct lsd_err *e)
{
  sqlite3_stmt *q = NULL;
  grpc_status_code rc = GRPC_STATUS_OK;

  if(sqlite3_prepare_v2(s->db, "SELECT v FROM meta WHERE k = 'page_token_key'",
                        -1, &q, NULL) != SQLITE_OK)
    return db_fail(s, e, "reading metadata");
  if(sqlite3_step(q) == SQLITE_ROW &&
     sqlite3_column_bytes(q, 0) == LSD_TOKEN_KEY_LEN) {
    memcpy(s->token_key, sqlite3_column_blob(q, 0), LSD_TOKEN_KEY_LEN);
    sqlite3_finalize(q);
    return GRPC_STATUS_OK;
  }
  sqlite3_finalize(q);
  if(RAND_bytes(s->token_key, LSD_TOKEN_KEY_LEN) != 1)
    return lsd_fail(e, GRPC_STATUS_INTERNAL, "no randomness for page tokens");
  if(sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO meta(k, v) VALUES "
                        "('page_token_key', ?1)", -1, &q, NULL) != SQLITE_OK)
    return db_fail(s, e, "writing metadata");
  sqlite3_bind_blob(q, 1, s->token_key, LSD_TOKEN_KEY_LEN, SQLITE_STATIC);
  if(sqlite3_step(q) != SQLITE_DONE)
    rc = db_fail(s, e, "writing metadata");
  sqlite3_finalize(q);
  return rc;
}

grpc_status_code store_open(struct store **out, const char *path,
                            struct lsd_err *e)
{
  struct store *s = calloc(1, sizeof(*s));
  const char *where = path ? path : ":memory:";

  if(!s)
    return lsd_fail(e, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  pthread_mutex_init(&s->lock, NULL);
  if(sqlite3_open_v2(where, &s->db,
                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                         SQLITE_OPEN_NOMUTEX,
                     NULL) != SQLITE_OK) {
    lsd_fail(e, GRPC_STATUS_INTERNAL, "cannot open database %s: %s", where,
            s->db ? sqlite3_errmsg(s->db) : "out of memory");
    goto fail;
  }
  if(exec(s, "PRAGMA locking_mode=EXCLUSIVE", e) ||
     exec(s, "PRAGMA journal_mode=WAL", e) ||
     exec(s, "PRAGMA synchronous=NORMAL", e))
    goto fail_named;
  /* Taking the write lock now proves no other process holds the file. */
  if(exec(s, "BEGIN IMMEDIATE", e))
    goto fail_named;
  if(exec(s,
          "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v BLOB);"
          "CREATE TABLE IF NOT EXISTS resources(name TEXT PRIMARY KEY, "
          "kind INTEGER NOT NULL, parent TEXT NOT NULL, body BLOB NOT NULL)"
          " WITHOUT ROWID;"
          "CREATE INDEX IF NOT EXISTS resources_by_parent ON "
          "resources(parent, kind, name);"
          "INSERT OR IGNORE INTO meta(k, v) VALUES ('schema', 1);",
          e) ||
     load_token_key(s, e) || exec(s, "COMMIT", e))
    goto fail_named;
  for(int i = 0; i < ST_COUNT; i++)
    if(sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                          &s->st[i], NULL) != SQLITE_OK) {
      db_fail(s, e, "preparing statements");
      goto fail_named;
    }
  *out = s;
  return GRPC_STATUS_OK;
fail_named:
  if(strstr(e->msg, "locked"))
    lsd_fail(e, GRPC_STATUS_UNAVAILABLE,
            "database %s is in use by another sdconnect sd-server; stop it "
            "or give this one another --db",
            where);
  else {
    char why[sizeof(e->msg)];
    memcpy(why, e->msg, sizeof(why));
    lsd_fail(e, e->code, "database %s: %.500s", where, why);
  }
fail:
  store_close(s);
  return e->code;
}

void store_close(struct store *s)
{
  if(!s)
    return;
  for(int i = 0; i < ST_COUNT; i++)
    sqlite3_finalize(s->st[i]);
  sqlite3_close(s->db);
  pthread_mutex_destroy(&s->lock);
  free(s);
}

const uint8_t *store_token_key(const struct store *s) { return s->token_key; }

uint64_t store_generation(const struct store *s)
{
  return atomic_load(&((struct store *)s)->generation);
}

/* Called after every committed write, still under the lock. */
static void bump(struct store *s) { atomic_fetch_add(&s->generation, 1); }

/* Outcome of an UPDATE or DELETE of one name (and what lies below it). */
static grpc_status_code changed_rows(struct store *s, int rc, const char *what,
                                     struct lsd_err *e)
{
  if(rc != SQLITE_DONE)
    return db_fail(s, e, what);
  if(!sqlite3_changes(s->db))
    return GRPC_STATUS_NOT_FOUND;
  bump(s);
  return GRPC_STATUS_OK;
}
void store_lock(struct store *s) { pthread_mutex_lock(&s->lock); }
void store_unlock(struct store *s) { pthread_mutex_unlock(&s->lock); }

static sqlite3_stmt *use(struct store *s, enum stmt_id id)
{
  sqlite3_reset(s->st[id]);
  sqlite3_clear_bindings(s->st[id]);
  return s->st[id];
}

grpc_status_code store_get(struct store *s, const char *name, uint8_t **body,
                           size_t *len, struct lsd_err *e)
{
  sqlite3_stmt *q = use(s, ST_GET);
  int rc;

  sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
  rc = sqlite3_step(q);
  if(rc == SQLITE_DONE)
    return GRPC_STATUS_NOT_FOUND;
  if(rc != SQLITE_ROW)
    return db_fail(s, e, "reading");
  *len = (size_t)sqlite3_column_bytes(q, 0);
  *body = malloc(*len ? *len : 1);
  if(!*body)
    return lsd_fail(e, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  if(*len)
    memcpy(*body, sqlite3_column_blob(q, 0), *len);
  sqlite3_reset(q);
  return GRPC_STATUS_OK;
}

grpc_status_code store_exists(struct store *s, const char *name,
                              struct lsd_err *e)
{
  sqlite3_stmt *q = use(s, ST_GET);
  int rc;

  sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
  rc = sqlite3_step(q);
  sqlite3_reset(q);
  if(rc == SQLITE_ROW)
    return GRPC_STATUS_OK;
  if(rc == SQLITE_DONE)
    return GRPC_STATUS_NOT_FOUND;
  return db_fail(s, e, "reading");
}

grpc_status_code store_insert(struct store *s, enum lsd_kind kind,
                              const char *name, size_t parent_len,
                              const uint8_t *body, size_t len,
                              struct lsd_err *e)
{
  sqlite3_stmt *q = use(s, ST_INSERT);
  int rc;

  sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_int(q, 2, (int)kind);
  sqlite3_bind_text(q, 3, name, (int)parent_len, SQLITE_STATIC);
  sqlite3_bind_blob(q, 4, len ? body : (const void *)"", (int)len,
                    SQLITE_STATIC);
  rc = sqlite3_step(q);
  sqlite3_reset(q);
  if(rc == SQLITE_DONE) {
    bump(s);
    return GRPC_STATUS_OK;
  }
  if(rc == SQLITE_CONSTRAINT)
    return GRPC_STATUS_ALREADY_EXISTS;
  return db_fail(s, e, "writing");
}

grpc_status_code store_replace(struct store *s, const char *name,
                               const uint8_t *body, size_t len,
                               struct lsd_err *e)
{
  sqlite3_stmt *q = use(s, ST_REPLACE);
  int rc;

  sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_blob(q, 2, len ? body : (const void *)"", (int)len,
                    SQLITE_STATIC);
  rc = sqlite3_step(q);
  sqlite3_reset(q);
  return changed_rows(s, rc, "writing", e);
}

grpc_status_code store_delete(struct store *s, const char *name,
                              struct lsd_err *e)
{
  sqlite3_stmt *q = use(s, ST_DELETE);
  int rc;

  sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
  rc = sqlite3_step(q);
  sqlite3_reset(q);
  return changed_rows(s, rc, "deleting", e);
}

grpc_status_code store_scan(struct store *s, enum lsd_kind kind,
                            const char *parent, const char *after, bool desc,
                            store_row_fn fn, void *ctx, struct lsd_err *e)
{
  enum stmt_id id = after ? (desc ? ST_SCAN_AFTER_DESC : ST_SCAN_AFTER_ASC)
                          : (desc ? ST_SCAN_DESC : ST_SCAN_ASC);
  sqlite3_stmt *q = use(s, id);
  int rc;

  sqlite3_bind_text(q, 1, parent, -1, SQLITE_STATIC);
  sqlite3_bind_int(q, 2, (int)kind);
  if(after)
    sqlite3_bind_text(q, 3, after, -1, SQLITE_STATIC);
  while((rc = sqlite3_step(q)) == SQLITE_ROW) {
    if(!fn(ctx, (const char *)sqlite3_column_text(q, 0),
           sqlite3_column_blob(q, 1), (size_t)sqlite3_column_bytes(q, 1)))
      break;
  }
  sqlite3_reset(q);
  if(rc != SQLITE_ROW && rc != SQLITE_DONE)
    return db_fail(s, e, "listing");
  return GRPC_STATUS_OK;
}

grpc_status_code store_scan_kind(struct store *s, enum lsd_kind kind,
                                 unsigned limit, store_row_fn fn, void *ctx,
                                 struct lsd_err *e)
{
  sqlite3_stmt *q = use(s, ST_SCAN_KIND);
  int rc;

  sqlite3_bind_int(q, 1, (int)kind);
  sqlite3_bind_int64(q, 2, limit);
  while((rc = sqlite3_step(q)) == SQLITE_ROW)
    if(!fn(ctx, (const char *)sqlite3_column_text(q, 0),
           sqlite3_column_blob(q, 1), (size_t)sqlite3_column_bytes(q, 1)))
      break;
  sqlite3_reset(q);
  if(rc != SQLITE_ROW && rc != SQLITE_DONE)
    return db_fail(s, e, "listing");
  return GRPC_STATUS_OK;
}

grpc_status_code store_counts(struct store *s, uint64_t counts[4],
                              struct lsd_err *e)
{
  sqlite3_stmt *q = use(s, ST_COUNTS);
  int rc;

  memset(counts, 0, 4 * sizeof(counts[0]));
  while((rc = sqlite3_step(q)) == SQLITE_ROW) {
    int k = sqlite3_column_int(q, 0);
    if(k >= 0 && k < 4)
      counts[k] = (uint64_t)sqlite3_column_int64(q, 1);
  }
  sqlite3_reset(q);
  return rc == SQLITE_DONE ? GRPC_STATUS_OK : db_fail(s, e, "counting");
}
