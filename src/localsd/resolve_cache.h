/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ResolveService answers, cached by the exact request bytes and tagged with
 * the store's write generation: an entry is only served while no write has
 * happened since it was computed, so the cache can never answer stale data.
 */
#ifndef SDC_LOCALSD_RESOLVE_CACHE_H
#define SDC_LOCALSD_RESOLVE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rcache;

struct rcache *rcache_new(void);
void rcache_free(struct rcache *c);

/* On a hit for (gen, key), a malloc'd copy of the answer. Thread-safe. */
bool rcache_get(struct rcache *c, uint64_t gen, const uint8_t *key, size_t klen,
                uint8_t **body, size_t *blen);

/* Remember an answer computed at `gen` (copied; too-large ones are not
 * kept). Thread-safe. */
void rcache_put(struct rcache *c, uint64_t gen, const uint8_t *key, size_t klen,
                const uint8_t *body, size_t blen);

#endif
