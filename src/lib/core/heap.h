/* SPDX-License-Identifier: Apache-2.0 */
/* A min-heap of deadlines: the earliest first, equal deadlines in the
 * order they were pushed. Items know their slot (for removal in O(log n)). */
#ifndef SDC_CORE_HEAP_H
#define SDC_CORE_HEAP_H

#include <sdconnect/common.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sdc__heap_item {
  uint64_t due_ms;
  uint64_t seq;   /* set by push: ties go in push order */
  size_t slot;    /* where it is; (size_t)-1 when not in a heap */
};

struct sdc__heap {
  struct sdc__heap_item **v;
  size_t n, cap;
  uint64_t next_seq;
};

void sdc__heap_init(struct sdc__heap *h);
void sdc__heap_cleanup(struct sdc__heap *h); /* the items are the caller's */
/* false when out of memory (the item is not in the heap). */
SDC_WARN_UNUSED bool sdc__heap_push(struct sdc__heap *h, struct sdc__heap_item *it);
struct sdc__heap_item *sdc__heap_peek(const struct sdc__heap *h); /* NULL: empty */
struct sdc__heap_item *sdc__heap_pop(struct sdc__heap *h);
/* Take `it` out wherever it is (no-op when it is not in). */
void sdc__heap_remove(struct sdc__heap *h, struct sdc__heap_item *it);

#endif
