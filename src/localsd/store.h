/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Durable registry storage on SQLite. Each resource is one row: its full
 * name (primary key), its kind, its parent's name and its packed protobuf.
 * Callers hold the store lock around a sequence of calls that must be
 * atomic (read-modify-write of an update).
 */
#ifndef SDC_LOCALSD_STORE_H
#define SDC_LOCALSD_STORE_H

#include "localsd.h"

struct store;

/* Open (creating if needed) the database at `path`, or a throwaway one in
 * memory when path is NULL. The file is locked for this process alone. */
grpc_status_code store_open(struct store **out, const char *path,
                            struct lsd_err *e);
void store_close(struct store *s);

/* Counts committed writes; changes after every insert, replace or delete.
 * May be read without the lock. */
uint64_t store_generation(const struct store *s);

/* Secret that signs page tokens; stable for the life of the database. */
const uint8_t *store_token_key(const struct store *s);

void store_lock(struct store *s);
void store_unlock(struct store *s);

/* Everything below needs the lock. Status is OK, NOT_FOUND (no message set),
 * ALREADY_EXISTS (no message set) or INTERNAL (message set). */

/* Body of `name` (malloc'd; the caller frees). */
grpc_status_code store_get(struct store *s, const char *name, uint8_t **body,
                           size_t *len, struct lsd_err *e);
grpc_status_code store_exists(struct store *s, const char *name,
                              struct lsd_err *e);
grpc_status_code store_insert(struct store *s, enum lsd_kind kind,
                              const char *name, size_t parent_len,
                              const uint8_t *body, size_t len,
                              struct lsd_err *e);
/* Replace the body of an existing resource. */
grpc_status_code store_replace(struct store *s, const char *name,
                               const uint8_t *body, size_t len,
                               struct lsd_err *e);
/* Delete `name` and everything below it. */
grpc_status_code store_delete(struct store *s, const char *name,
                              struct lsd_err *e);

/* Row callback: return false to stop the scan. */
typedef bool (*store_row_fn)(void *ctx, const char *name, const uint8_t *body,
                             size_t len);

/* Children of `parent` of kind `kind` in name order (descending when
 * `desc`), starting strictly after `after` when it is not NULL. */
grpc_status_code store_scan(struct store *s, enum lsd_kind kind,
                            const char *parent, const char *after, bool desc,
                            store_row_fn fn, void *ctx, struct lsd_err *e);

/* Every resource of `kind` in name order, at most `limit` of them. */
grpc_status_code store_scan_kind(struct store *s, enum lsd_kind kind,
                                 unsigned limit, store_row_fn fn, void *ctx,
                                 struct lsd_err *e);

/* Number of stored resources of each kind (index = enum lsd_kind). */
grpc_status_code store_counts(struct store *s, uint64_t counts[4],
                              struct lsd_err *e);

#endif
