/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IMPLEMENTATION NOTES
 * - Direct-mapped: RC_SLOTS slots, a request hashes (FNV-1a) to one slot and
 *   replaces whatever was there. Resolvers ask for few distinct services,
 *   so collisions are rare and an LRU would buy nothing.
 * - Locks are striped (RC_LOCKS mutexes over the slots) so callers on
 *   different services rarely meet, and the store's lock is not taken on a
 *   hit at all.
 * - Bounds: keys up to RC_MAX_KEY bytes and answers up to RC_MAX_BODY bytes
 *   are cached, so the whole cache holds at most ~4 MiB.
 */
#include "resolve_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define RC_SLOTS 256
#define RC_LOCKS 16
#define RC_MAX_KEY 1024
#define RC_MAX_BODY (16 * 1024)

struct slot {
  uint64_t gen;
  uint8_t *key;
  size_t klen;
  uint8_t *body;
  size_t blen;
};

struct rcache {
  pthread_mutex_t locks[RC_LOCKS];
  struct slot slots[RC_SLOTS];
};

static size_t slot_of(const uint8_t *key, size_t klen)
{
  uint64_t h = 1469598103934665603ULL;

  for(size_t i = 0; i < klen; i++) {
    h ^= key[i];
    h *= 1099511628211ULL;
  }
  return (size_t)(h % RC_SLOTS);
}

struct rcache *rcache_new(void)
{
  struct rcache *c = calloc(1, sizeof(*c));

  if(!c)
    return NULL;
  for(int i = 0; i < RC_LOCKS; i++)
    pthread_mutex_init(&c->locks[i], NULL);
  return c;
}

void rcache_free(struct rcache *c)
{
  if(!c)
    return;
  for(int i = 0; i < RC_SLOTS; i++) {
    free(c->slots[i].key);
    free(c->slots[i].body);
  }
  for(int i = 0; i < RC_LOCKS; i++)
    pthread_mutex_destroy(&c->locks[i]);
  free(c);
}

bool rcache_get(struct rcache *c, uint64_t gen, const uint8_t *key, size_t klen,
                uint8_t **body, size_t *blen)
{
  size_t i = slot_of(key, klen);
  struct slot *s = &c->slots[i];
  bool hit = false;

  pthread_mutex_lock(&c->locks[i % RC_LOCKS]);
  if(s->key && s->gen == gen && s->klen == klen && !memcmp(s->key, key, klen)) {
    *body = malloc(s->blen ? s->blen : 1);
    if(*body) {
      memcpy(*body, s->body, s->blen);
      *blen = s->blen;
      hit = true;
    }
  }
  pthread_mutex_unlock(&c->locks[i % RC_LOCKS]);
  return hit;
}

void rcache_put(struct rcache *c, uint64_t gen, const uint8_t *key, size_t klen,
                const uint8_t *body, size_t blen)
{
  size_t i = slot_of(key, klen);
  struct slot *s = &c->slots[i];
  uint8_t *k, *b;

  if(klen > RC_MAX_KEY || blen > RC_MAX_BODY)
    return;
  k = malloc(klen ? klen : 1);
  b = malloc(blen ? blen : 1);
  if(!k || !b) {
    free(k);
    free(b);
    return; /* a cache may forget */
  }
  memcpy(k, key, klen);
  memcpy(b, body, blen);
  pthread_mutex_lock(&c->locks[i % RC_LOCKS]);
  free(s->key);
  free(s->body);
  *s = (struct slot){gen, k, klen, b, blen};
  pthread_mutex_unlock(&c->locks[i % RC_LOCKS]);
}
