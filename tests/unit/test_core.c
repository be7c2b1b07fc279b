/* SPDX-License-Identifier: Apache-2.0 */
#include "suites.h"

#include "core/base64.h"

#include <sdconnect/sdconnect.h>
#include <stdlib.h>
#include <string.h>

START_TEST(every_status_has_a_name)
{
  for(int s = SDC_OK; s <= SDC_EINTERNAL; s++)
    ck_assert_str_ne(sdc_strerror((sdc_status)s), "unknown status");
  ck_assert_str_eq(sdc_strerror((sdc_status)999), "unknown status");
  ck_assert_int_eq(sdc_status_is_fatal(SDC_EINTERNAL), 1);
  ck_assert_int_eq(sdc_status_is_fatal(SDC_ENOMEM), 0);
}
END_TEST

START_TEST(status_values_never_change)
{
  /* append-only: these numbers are part of the ABI */
  ck_assert_int_eq(SDC_ENOMEM, 1);
  ck_assert_int_eq(SDC_EINVAL, 2);
  ck_assert_int_eq(SDC_ETIMEDOUT, 3);
  ck_assert_int_eq(SDC_ENOTFOUND, 4);
  ck_assert_int_eq(SDC_EUNAVAILABLE, 5);
  ck_assert_int_eq(SDC_ETLS, 6);
  ck_assert_int_eq(SDC_ECONFIG, 7);
  ck_assert_int_eq(SDC_ETOOBIG, 8);
}
END_TEST

static void *fail_malloc(size_t n) { (void)n; return NULL; }

START_TEST(global_init_rejects_partial_allocator)
{
  sdc_allocator a = {fail_malloc, NULL, realloc, free};
  ck_assert_int_eq(sdc_global_init(&a), SDC_EINVAL);
  ck_assert_str_eq(sdc_version(), SDC_VERSION_STRING);
}
END_TEST

START_TEST(version_check_takes_same_major_no_newer_headers)
{
  const unsigned long me = SDC_VERSION_NUM;
  ck_assert_int_eq(SDC_VERSION_CHECK(), SDC_OK);
  ck_assert_int_eq(sdc_version_check(me & 0xff0000ul), SDC_OK); /* MAJOR.0.0 */
  ck_assert_int_eq(sdc_version_check(me + 1), SDC_EINVAL);        /* newer patch */
  ck_assert_int_eq(sdc_version_check(me + 0x100), SDC_EINVAL);    /* newer minor */
  ck_assert_int_eq(sdc_version_check(me + 0x10000), SDC_EINVAL);  /* next major */
  if (me >= 0x10000)
    ck_assert_int_eq(sdc_version_check(me - 0x10000), SDC_EINVAL);
}
END_TEST

START_TEST(base64_decodes_both_alphabets_and_says_where_it_stops)
{
  unsigned char out[16];
  size_t bad = 99;

  /* 0xfb 0xff 0xbf: "+/+/" in the standard alphabet, "-_-_" in the URL one */
  ck_assert_uint_eq(sdc__base64_decode("-_-_", 4, true, out, &bad), 3);
  ck_assert(!memcmp(out, "\xfb\xff\xbf", 3));
  ck_assert_uint_eq(sdc__base64_decode("+/+/", 4, false, out, &bad), 3);
  ck_assert(!memcmp(out, "\xfb\xff\xbf", 3));
  ck_assert_uint_eq(sdc__base64_decode("+/+/", 4, true, out, &bad), (size_t)-1);
  ck_assert_uint_eq(bad, 0);
  ck_assert_uint_eq(sdc__base64_decode("QUJD", 4, true, out, &bad), 3);
  ck_assert(!memcmp(out, "ABC", 3));
  ck_assert_uint_eq(sdc__base64_decode("QUI", 3, false, out, &bad), 2); /* "AB", unpadded */
  ck_assert(!memcmp(out, "AB", 2));
  ck_assert_uint_eq(sdc__base64_decode("QU.D", 4, false, out, &bad), (size_t)-1);
  ck_assert_uint_eq(bad, 2);
}
END_TEST

Suite *core_suite(void)
{
  Suite *s = suite_create("core");
  TCase *tc = tcase_create("status");

  tcase_add_test(tc, every_status_has_a_name);
  tcase_add_test(tc, status_values_never_change);
  tcase_add_test(tc, global_init_rejects_partial_allocator);
  tcase_add_test(tc, base64_decodes_both_alphabets_and_says_where_it_stops);
  tcase_add_test(tc, version_check_takes_same_major_no_newer_headers);
  suite_add_tcase(s, tc);
  return s;
}
