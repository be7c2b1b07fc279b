/* SPDX-License-Identifier: Apache-2.0 */
#include "suites.h"

#include "localsd.h"

#include <string.h>

START_TEST(parses_fields_and_directions)
{
  struct lsd_order o;
  struct lsd_err e = {0};
  bool desc = false;

  ck_assert_int_eq(lsd_order_parse("", LSD_ENDPOINT, &o, &e), 0);
  ck_assert_uint_eq(o.n, 0);
  ck_assert(lsd_order_is_name_only(&o, &desc) && !desc);
  ck_assert_int_eq(lsd_order_parse("name desc", LSD_NAMESPACE, &o, &e), 0);
  ck_assert(lsd_order_is_name_only(&o, &desc) && desc);
  ck_assert_int_eq(lsd_order_parse(" port desc , address asc,name", LSD_ENDPOINT, &o, &e), 0);
  ck_assert_uint_eq(o.n, 3);
  ck_assert_int_eq(o.keys[0].field, LSD_ORDER_PORT);
  ck_assert(o.keys[0].desc);
  ck_assert(!lsd_order_is_name_only(&o, &desc));
}
END_TEST

START_TEST(rejects_unknown_or_repeated_fields)
{
  struct lsd_order o;
  struct lsd_err e = {0};

  ck_assert_int_eq(lsd_order_parse("port", LSD_SERVICE, &o, &e), GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_ptr_nonnull(strstr(e.msg, "cannot order services by 'port'"));
  ck_assert_int_eq(lsd_order_parse("name sideways", LSD_SERVICE, &o, &e),
                   GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_int_eq(lsd_order_parse("name, name", LSD_SERVICE, &o, &e), GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_int_eq(lsd_order_parse("name,", LSD_SERVICE, &o, &e), GRPC_STATUS_INVALID_ARGUMENT);
}
END_TEST

START_TEST(port_orders_numerically_with_name_tiebreak)
{
  struct lsd_order o;
  struct lsd_err e = {0};
  struct lsd_view a = {LSD_ENDPOINT, "n/a", "10.0.0.2", 9999, 0, NULL};
  struct lsd_view b = {LSD_ENDPOINT, "n/b", "10.0.0.1", 10000, 0, NULL};
  struct lsd_view c = {LSD_ENDPOINT, "n/c", "10.0.0.1", 10000, 0, NULL};

  ck_assert_int_eq(lsd_order_parse("port", LSD_ENDPOINT, &o, &e), 0);
  ck_assert_int_lt(lsd_order_compare(&o, &a, &b), 0);
  ck_assert_int_lt(lsd_order_compare(&o, &b, &c), 0); /* tie: by name */
  ck_assert_int_eq(lsd_order_parse("address desc", LSD_ENDPOINT, &o, &e), 0);
  ck_assert_int_lt(lsd_order_compare(&o, &a, &b), 0);
}
END_TEST

Suite *order_suite(void)
{
  Suite *s = suite_create("order");
  TCase *tc = tcase_create("order_by");

  tcase_add_test(tc, parses_fields_and_directions);
  tcase_add_test(tc, rejects_unknown_or_repeated_fields);
  tcase_add_test(tc, port_orders_numerically_with_name_tiebreak);
  suite_add_tcase(s, tc);
  return s;
}
