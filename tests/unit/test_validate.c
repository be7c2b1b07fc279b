/* SPDX-License-Identifier: Apache-2.0 */
/* Input rules of Service Directory v1 (facts sheet section 5). */
#include "suites.h"

#include "localsd.h"

#include <string.h>

START_TEST(ids_follow_rfc1035)
{
  char long_id[70];

  ck_assert(lsd_valid_id("a"));
  ck_assert(lsd_valid_id("ep-1"));
  ck_assert(lsd_valid_id("b007"));
  memset(long_id, 'a', 63);
  long_id[63] = '\0';
  ck_assert(lsd_valid_id(long_id));
  long_id[63] = 'a';
  long_id[64] = '\0';
  ck_assert(!lsd_valid_id(long_id));
  ck_assert(!lsd_valid_id(""));
  ck_assert(!lsd_valid_id("Upper"));
  ck_assert(!lsd_valid_id("1abc"));
  ck_assert(!lsd_valid_id("-abc"));
  ck_assert(!lsd_valid_id("abc-"));
  ck_assert(!lsd_valid_id("a_b"));
  ck_assert(!lsd_valid_id("a.b"));
}
END_TEST

START_TEST(names_are_checked_for_shape_and_ids)
{
  struct lsd_err e = {0};

  ck_assert_int_eq(lsd_check_name("projects/p/locations/l", LSD_LOCATION, "parent", &e), 0);
  ck_assert_int_eq(lsd_check_name("projects/p/locations/l/namespaces/n", LSD_NAMESPACE, "name", &e), 0);
  ck_assert_int_eq(lsd_check_name("projects/p/locations/l/namespaces/n/services/s/endpoints/e",
                                 LSD_ENDPOINT, "name", &e), 0);
  ck_assert_int_eq(lsd_check_name("projects/p/locations/l/namespaces/n", LSD_SERVICE, "name", &e),
                   GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_ptr_nonnull(strstr(e.msg, "projects/{project}/locations/{location}/namespaces/"
                                      "{namespace}/services/{service}"));
  ck_assert_int_eq(lsd_check_name("projects/p/locations/l/namespaces/Bad", LSD_NAMESPACE, "name", &e),
                   GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_ptr_nonnull(strstr(e.msg, "invalid namespace id 'Bad'"));
  ck_assert_int_eq(lsd_check_name("projects//locations/l", LSD_LOCATION, "parent", &e),
                   GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_int_eq(lsd_check_name("", LSD_NAMESPACE, "name", &e), GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_ptr_nonnull(strstr(e.msg, "name is required"));
  ck_assert_int_eq(lsd_check_name("project/p/locations/l", LSD_LOCATION, "parent", &e),
                   GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_int_eq(lsd_name_kind("projects/p/locations/l/namespaces/n/services/s"), LSD_SERVICE);
  ck_assert_uint_eq(lsd_parent_len("projects/p/locations/l/namespaces/n"),
                    strlen("projects/p/locations/l"));
}
END_TEST

START_TEST(labels_limits)
{
  struct lsd_kv kv[65];
  char k64[65];
  struct lsd_err e = {0};

  for(int i = 0; i < 65; i++) {
    kv[i].key = "k";
    kv[i].value = "v";
  }
  ck_assert_int_eq(lsd_check_labels(kv, 64, "labels", &e), 0);
  ck_assert_int_eq(lsd_check_labels(kv, 65, "labels", &e), GRPC_STATUS_INVALID_ARGUMENT);
  memset(k64, 'k', 64);
  k64[64] = '\0';
  kv[0].key = k64;
  ck_assert_int_eq(lsd_check_labels(kv, 1, "labels", &e), GRPC_STATUS_INVALID_ARGUMENT);
  kv[0].key = "k";
  kv[0].value = k64;
  ck_assert_int_eq(lsd_check_labels(kv, 1, "labels", &e), GRPC_STATUS_INVALID_ARGUMENT);
  k64[63] = '\0';
  ck_assert_int_eq(lsd_check_labels(kv, 1, "labels", &e), 0);
}
END_TEST

START_TEST(annotation_keys_and_size)
{
  static const char *const good[] = {"owner", "example.com/owner", "x_y.z", "A1"};
  static const char *const bad[] = {"bad key", "-x", "x.", "example.com/", "bad_prefix.com/x", ""};
  struct lsd_kv kv = {NULL, "v"};
  struct lsd_err e = {0};
  char big[600];

  for(size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    kv.key = good[i];
    ck_assert_msg(lsd_check_annotations(&kv, 1, 512, "a", &e) == 0, "%s", good[i]);
  }
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    kv.key = bad[i];
    ck_assert_msg(lsd_check_annotations(&kv, 1, 512, "a", &e) == GRPC_STATUS_INVALID_ARGUMENT,
                  "%s", bad[i]);
  }
  memset(big, 'v', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  kv.key = "k";
  kv.value = big; /* 1 + 599 > 512 */
  ck_assert_int_eq(lsd_check_annotations(&kv, 1, 512, "endpoint.annotations", &e),
                   GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_ptr_nonnull(strstr(e.msg, "endpoint.annotations"));
  ck_assert_int_eq(lsd_check_annotations(&kv, 1, 2000, "service.annotations", &e), 0);
  big[511] = '\0'; /* 1 + 511 = 512: at the limit */
  ck_assert_int_eq(lsd_check_annotations(&kv, 1, 512, "a", &e), 0);
}
END_TEST

START_TEST(addresses_are_bare_ip_literals)
{
  static const char *const good[] = {"", "10.0.0.5", "2001:db8::1", "::1",
                                     "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"};
  static const char *const bad[] = {"8.8.8", "8.8.8.8:53", "test:bad:address", "[::1]",
                                    "[::1]:8080", "example.com", "1.2.3.4 "};
  struct lsd_err e = {0};

  for(size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
    ck_assert_msg(lsd_check_address(good[i], "address", &e) == 0, "%s", good[i]);
  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    ck_assert_msg(lsd_check_address(bad[i], "address", &e) == GRPC_STATUS_INVALID_ARGUMENT,
                  "%s", bad[i]);
}
END_TEST

START_TEST(ports_and_networks)
{
  struct lsd_err e = {0};

  ck_assert_int_eq(lsd_check_port(0, "port", &e), 0);
  ck_assert_int_eq(lsd_check_port(65535, "port", &e), 0);
  ck_assert_int_eq(lsd_check_port(65536, "port", &e), GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_int_eq(lsd_check_port(-1, "port", &e), GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_int_eq(lsd_check_network("", "network", &e), 0);
  ck_assert_int_eq(lsd_check_network("projects/123/locations/global/networks/default", "n", &e), 0);
  ck_assert_int_eq(lsd_check_network("projects/my-proj/locations/global/networks/default", "n", &e),
                   GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_ptr_nonnull(strstr(e.msg, "project number"));
  ck_assert_int_eq(lsd_check_network("projects/123/locations/us-east1/networks/default", "n", &e),
                   GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_int_eq(lsd_check_network("projects/123/locations/global/networks/", "n", &e),
                   GRPC_STATUS_INVALID_ARGUMENT);
}
END_TEST

START_TEST(uuid4_has_version_and_variant)
{
  char a[37], b[37];

  ck_assert(lsd_uuid4(a));
  ck_assert(lsd_uuid4(b));
  ck_assert_uint_eq(strlen(a), 36);
  ck_assert_int_eq(a[14], '4');
  ck_assert(strchr("89ab", a[19]) != NULL);
  ck_assert_str_ne(a, b);
}
END_TEST

Suite *validate_suite(void)
{
  Suite *s = suite_create("validate");
  TCase *tc = tcase_create("rules");

  tcase_add_test(tc, ids_follow_rfc1035);
  tcase_add_test(tc, names_are_checked_for_shape_and_ids);
  tcase_add_test(tc, labels_limits);
  tcase_add_test(tc, annotation_keys_and_size);
  tcase_add_test(tc, addresses_are_bare_ip_literals);
  tcase_add_test(tc, ports_and_networks);
  tcase_add_test(tc, uuid4_has_version_and_variant);
  suite_add_tcase(s, tc);
  return s;
}
