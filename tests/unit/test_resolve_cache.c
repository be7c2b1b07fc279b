/* SPDX-License-Identifier: Apache-2.0 */
#include "suites.h"

#include "resolve_cache.h"

#include <stdlib.h>
#include <string.h>

START_TEST(hits_only_at_the_same_generation_and_key)
{
  struct rcache *c = rcache_new();
  uint8_t *body = NULL;
  size_t n = 0;

  ck_assert(!rcache_get(c, 1, (const uint8_t *)"k", 1, &body, &n));
  rcache_put(c, 1, (const uint8_t *)"k", 1, (const uint8_t *)"answer", 6);
  ck_assert(rcache_get(c, 1, (const uint8_t *)"k", 1, &body, &n));
  ck_assert_uint_eq(n, 6);
  ck_assert_mem_eq(body, "answer", 6);
  free(body);
  ck_assert(!rcache_get(c, 2, (const uint8_t *)"k", 1, &body, &n)); /* a write happened */
  ck_assert(!rcache_get(c, 1, (const uint8_t *)"kk", 2, &body, &n));
  rcache_put(c, 2, (const uint8_t *)"k", 1, (const uint8_t *)"new", 3);
  ck_assert(rcache_get(c, 2, (const uint8_t *)"k", 1, &body, &n));
  ck_assert_mem_eq(body, "new", 3);
  free(body);
  rcache_free(c);
}
END_TEST

START_TEST(large_answers_are_not_kept)
{
  struct rcache *c = rcache_new();
  uint8_t *big = calloc(1, 64 * 1024), *body = NULL;
  size_t n = 0;

  rcache_put(c, 1, (const uint8_t *)"k", 1, big, 64 * 1024);
  ck_assert(!rcache_get(c, 1, (const uint8_t *)"k", 1, &body, &n));
  free(big);
  rcache_free(c);
  rcache_free(NULL);
}
END_TEST

Suite *resolve_cache_suite(void)
{
  Suite *s = suite_create("resolve_cache");
  TCase *tc = tcase_create("cache");

  tcase_add_test(tc, hits_only_at_the_same_generation_and_key);
  tcase_add_test(tc, large_answers_are_not_kept);
  suite_add_tcase(s, tc);
  return s;
}
