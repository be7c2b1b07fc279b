/* SPDX-License-Identifier: Apache-2.0 */
#include "suites.h"

#include "localsd.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t key[LSD_TOKEN_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

START_TEST(round_trips_both_modes)
{
  uint8_t d[8];
  struct lsd_page_pos in = {.by_name = true}, out;
  struct lsd_err e = {0};
  char *t;

  lsd_token_query_digest("projects/p/locations/l", "labels.a=b", "", d);
  strcpy(in.after, "projects/p/locations/l/namespaces/x");
  t = lsd_token_encode(key, d, &in);
  ck_assert_int_eq(lsd_token_decode(key, d, t, &out, &e), 0);
  ck_assert(out.by_name);
  ck_assert_str_eq(out.after, in.after);
  free(t);
  in.by_name = false;
  in.offset = 123456789012ULL;
  t = lsd_token_encode(key, d, &in);
  ck_assert_ptr_null(strpbrk(t, "+/="));
  ck_assert_int_eq(lsd_token_decode(key, d, t, &out, &e), 0);
  ck_assert(!out.by_name);
  ck_assert_uint_eq(out.offset, 123456789012ULL);
  free(t);
}
END_TEST

START_TEST(rejects_tampering_and_other_queries)
{
  uint8_t d[8], d2[8], other_key[LSD_TOKEN_KEY_LEN] = {9};
  struct lsd_page_pos in = {.by_name = false, .offset = 100}, out;
  struct lsd_err e = {0};
  char *t;

  lsd_token_query_digest("projects/p/locations/l", "", "", d);
  lsd_token_query_digest("projects/p/locations/l", "labels.x", "", d2);
  t = lsd_token_encode(key, d, &in);
  ck_assert_int_eq(lsd_token_decode(key, d2, t, &out, &e), GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_ptr_nonnull(strstr(e.msg, "different parent, filter or order_by"));
  ck_assert_int_eq(lsd_token_decode(other_key, d, t, &out, &e), GRPC_STATUS_INVALID_ARGUMENT);
  for(size_t i = 0; t[i]; i++) { /* flip every character in turn */
    char was = t[i];
    t[i] = was == 'A' ? 'B' : 'A';
    ck_assert_msg(lsd_token_decode(key, d, t, &out, &e) == GRPC_STATUS_INVALID_ARGUMENT,
                  "flip at %zu", i);
    t[i] = was;
  }
  ck_assert_int_eq(lsd_token_decode(key, d, "not a token!", &out, &e),
                   GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_int_eq(lsd_token_decode(key, d, "", &out, &e), GRPC_STATUS_INVALID_ARGUMENT);
  free(t);
}
END_TEST

Suite *pagetoken_suite(void)
{
  Suite *s = suite_create("pagetoken");
  TCase *tc = tcase_create("tokens");

  tcase_add_test(tc, round_trips_both_modes);
  tcase_add_test(tc, rejects_tampering_and_other_queries);
  suite_add_tcase(s, tc);
  return s;
}
