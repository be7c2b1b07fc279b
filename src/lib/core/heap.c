/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A binary min-heap of deadlines, ordered by (due_ms, seq): equal
 * deadlines leave in the order they were pushed, so a scheduler's ties are
 * fair and tests are deterministic. Each item records its slot, so a
 * removal (a check deleted by a reload) is O(log n) without a search.
 */
#include "core/heap.h"

#include "core/core.h"

#define NOT_IN ((size_t)-1)

void sdc__heap_init(struct sdc__heap *h)
{
  h->v = NULL;
  h->n = h->cap = 0;
  h->next_seq = 0;
}

void sdc__heap_cleanup(struct sdc__heap *h)
{
  for(size_t i = 0; i < h->n; i++)
    h->v[i]->slot = NOT_IN;
  sdc_free(h->v);
  sdc__heap_init(h);
}

static bool before(const struct sdc__heap_item *a, const struct sdc__heap_item *b)
{
  return a->due_ms < b->due_ms || (a->due_ms == b->due_ms && a->seq < b->seq);
}

static void place(struct sdc__heap *h, size_t i, struct sdc__heap_item *it)
{
  h->v[i] = it;
  it->slot = i;
}

static void up(struct sdc__heap *h, size_t i)
{
  struct sdc__heap_item *it = h->v[i];

  while(i) {
    size_t parent = (i - 1) / 2;
    if(!before(it, h->v[parent]))
      break;
    place(h, i, h->v[parent]);
    i = parent;
  }
  place(h, i, it);
}

static void down(struct sdc__heap *h, size_t i)
{
  struct sdc__heap_item *it = h->v[i];

  for(;;) {
    size_t l = 2 * i + 1, best = i;
    const struct sdc__heap_item *b = it;
    if(l < h->n && before(h->v[l], b)) {
      best = l;
      b = h->v[l];
    }
    if(l + 1 < h->n && before(h->v[l + 1], b))
      best = l + 1;
    if(best == i)
      break;
    place(h, i, h->v[best]);
    i = best;
  }
  place(h, i, it);
}

bool sdc__heap_push(struct sdc__heap *h, struct sdc__heap_item *it)
{
  if(h->n == h->cap) {
    size_t cap = h->cap ? h->cap * 2 : 16;
    struct sdc__heap_item **g = sdc__realloc(h->v, cap * sizeof(*g));
    if(!g)
      return false;
    h->v = g;
    h->cap = cap;
  }
  it->seq = h->next_seq++;
  place(h, h->n++, it);
  up(h, h->n - 1);
  return true;
}

struct sdc__heap_item *sdc__heap_peek(const struct sdc__heap *h)
{
  return h->n ? h->v[0] : NULL;
}

void sdc__heap_remove(struct sdc__heap *h, struct sdc__heap_item *it)
{
  size_t i = it->slot;
  struct sdc__heap_item *last;

  if(i == NOT_IN || i >= h->n || h->v[i] != it)
    return;
  it->slot = NOT_IN;
  last = h->v[--h->n];
  if(i == h->n)
    return;
  place(h, i, last);
  if(i && before(last, h->v[(i - 1) / 2]))
    up(h, i);
  else
    down(h, i);
}

struct sdc__heap_item *sdc__heap_pop(struct sdc__heap *h)
{
  struct sdc__heap_item *top = sdc__heap_peek(h);

  if(top)
    sdc__heap_remove(h, top);
  return top;
}
