/* SPDX-License-Identifier: Apache-2.0 */
/* Filter language: the documented examples (facts sheet 6.1) and AIP-160
 * precedence, errors with columns, and hostile input bounds. */
#include "suites.h"

#include "localsd.h"

#include <stdlib.h>
#include <string.h>

#define EP "projects/p/locations/l/namespaces/n/services/s/endpoints/"

static const struct lsd_kv kv_a[] = {{"owner", "sd"}, {"foo", "bar"}, {"protocol", "gRPC"}};
static const struct lsd_kv kv_b[] = {{"owner", "team"}, {"foo", "bar"}};
static const struct lsd_view ep_a = {LSD_ENDPOINT, EP "endpoint-a", "192.108.1.105", 8080, 3, kv_a};
static const struct lsd_view ep_e = {LSD_ENDPOINT, EP "endpoint-e", "2001:db8::1", 10000, 2, kv_b};
static const struct lsd_view ep_c = {LSD_ENDPOINT, EP "endpoint-c", "10.0.0.1", 443, 0, NULL};

/* Compile `f` for endpoints and return which of a, e, c match as "aec". */
static const char *which(const char *f)
{
  static char out[4];
  struct lsd_filter *flt = NULL;
  struct lsd_err e = {0};
  size_t n = 0;

  ck_assert_msg(lsd_filter_compile(f, LSD_ENDPOINT, "filter", &flt, &e) == 0, "%s: %s", f, e.msg);
  if(lsd_filter_match(flt, &ep_a))
    out[n++] = 'a';
  if(lsd_filter_match(flt, &ep_e))
    out[n++] = 'e';
  if(lsd_filter_match(flt, &ep_c))
    out[n++] = 'c';
  out[n] = '\0';
  lsd_filter_free(flt);
  return out;
}

START_TEST(documented_examples)
{
  ck_assert_str_eq(which("annotations.owner"), "ae");
  ck_assert_str_eq(which("annotations:owner"), "ae");
  ck_assert_str_eq(which("annotations.protocol=gRPC"), "a");
  ck_assert_str_eq(which("annotations.protocol=grpc"), ""); /* case-sensitive */
  ck_assert_str_eq(which("address=192.108.1.105"), "a");
  ck_assert_str_eq(which("port>8080"), "e");
  ck_assert_str_eq(which("name>" EP "endpoint-c"), "e");
  ck_assert_str_eq(which("name=" EP "endpoint-a"), "a");
  ck_assert_str_eq(which("annotations.owner!=sd AND annotations.foo=bar"), "e");
  ck_assert_str_eq(which("doesnotexist.foo=bar"), "");
  ck_assert_str_eq(which(""), "aec");
  ck_assert_str_eq(which("   "), "aec");
}
END_TEST

START_TEST(port_compares_as_a_number)
{
  ck_assert_str_eq(which("port>9999"), "e"); /* text compare would say no */
  ck_assert_str_eq(which("port<=443"), "c");
  ck_assert_str_eq(which("port>=443 AND port<10000"), "ac");
  ck_assert_str_eq(which("port=\"8080\""), "a");
}
END_TEST

START_TEST(connectors_and_precedence)
{
  /* OR binds tighter than AND */
  ck_assert_str_eq(which("port=443 OR port=8080 AND annotations.owner=sd"), "a");
  ck_assert_str_eq(which("(port=443 OR port=8080) AND annotations.owner"), "a");
  ck_assert_str_eq(which("NOT annotations.owner"), "c");
  ck_assert_str_eq(which("-annotations.owner"), "c");
  ck_assert_str_eq(which("NOT (port=443)"), "ae");
  ck_assert_str_eq(which("annotations.foo=bar port>9000"), "e"); /* implicit AND */
  ck_assert_str_eq(which("annotations.owner!=x"), "ae"); /* absent key never matches */
  ck_assert_str_eq(which("address=\"2001:db8::1\""), "e");
  ck_assert_str_eq(which("annotations.owner:*"), "ae");
  ck_assert_str_eq(which("labels.owner=sd"), ""); /* endpoints have no labels */
}
END_TEST

static grpc_status_code compile_error(const char *f, enum lsd_kind k, char *msg)
{
  struct lsd_filter *flt = NULL;
  struct lsd_err e = {0};
  grpc_status_code rc = lsd_filter_compile(f, k, "filter", &flt, &e);

  ck_assert_ptr_null(flt);
  strcpy(msg, e.msg);
  return rc;
}

START_TEST(malformed_filters_are_invalid_argument)
{
  static const char *const bad[] = {"port>abc", "(port=1", "port=", "port==1", "a!b",
                                    "\"unterminated", "AND", "port=1 OR", "address=2001:db8::1",
                                    "annotations=x", ")"};
  char msg[700];

  for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    ck_assert_msg(compile_error(bad[i], LSD_ENDPOINT, msg) == GRPC_STATUS_INVALID_ARGUMENT,
                  "%s", bad[i]);
  compile_error("port>abc", LSD_ENDPOINT, msg);
  ck_assert_ptr_nonnull(strstr(msg, "whole number"));
  compile_error("address=2001:db8::1", LSD_ENDPOINT, msg);
  ck_assert_ptr_nonnull(strstr(msg, "column 13"));
  ck_assert_ptr_nonnull(strstr(msg, "quote"));
}
END_TEST

START_TEST(namespace_labels)
{
  static const struct lsd_kv labels[] = {{"team", "platform"}};
  const struct lsd_view ns = {LSD_NAMESPACE, "projects/p/locations/l/namespaces/n", "", 0, 1, labels};
  struct lsd_filter *f = NULL;
  struct lsd_err e = {0};

  ck_assert_int_eq(lsd_filter_compile("labels.team=platform", LSD_NAMESPACE, "filter", &f, &e), 0);
  ck_assert(lsd_filter_match(f, &ns));
  lsd_filter_free(f);
  ck_assert_int_eq(lsd_filter_compile("labels:team", LSD_NAMESPACE, "filter", &f, &e), 0);
  ck_assert(lsd_filter_match(f, &ns));
  lsd_filter_free(f);
  /* a namespace has no address: unknown field, nothing matches */
  ck_assert_int_eq(lsd_filter_compile("address=1.2.3.4", LSD_NAMESPACE, "filter", &f, &e), 0);
  ck_assert(!lsd_filter_match(f, &ns));
  lsd_filter_free(f);
  /* port is not a namespace field, so a non-number is no error there */
  ck_assert_int_eq(lsd_filter_compile("port>abc", LSD_NAMESPACE, "filter", &f, &e), 0);
  lsd_filter_free(f);
}
END_TEST

START_TEST(hostile_input_is_bounded)
{
  char *deep = malloc(20000);
  char msg[700];
  size_t n = 0;

  for(int i = 0; i < 100; i++)
    deep[n++] = '(';
  strcpy(deep + n, "port=1");
  ck_assert_int_eq(compile_error(deep, LSD_ENDPOINT, msg), GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_ptr_nonnull(strstr(msg, "nests too deeply"));
  n = 0;
  for(int i = 0; i < 300; i++) {
    memcpy(deep + n, "port=1 OR ", 10);
    n += 10;
  }
  strcpy(deep + n, "port=2");
  ck_assert_int_eq(compile_error(deep, LSD_ENDPOINT, msg), GRPC_STATUS_INVALID_ARGUMENT);
  memset(deep, 'x', 5000);
  deep[5000] = '\0';
  ck_assert_int_eq(compile_error(deep, LSD_ENDPOINT, msg), GRPC_STATUS_INVALID_ARGUMENT);
  free(deep);
}
END_TEST

Suite *filter_suite(void)
{
  Suite *s = suite_create("filter");
  TCase *sem = tcase_create("semantics");
  TCase *err = tcase_create("errors");

  tcase_add_test(sem, documented_examples);
  tcase_add_test(sem, port_compares_as_a_number);
  tcase_add_test(sem, connectors_and_precedence);
  tcase_add_test(sem, namespace_labels);
  tcase_add_test(err, malformed_filters_are_invalid_argument);
  tcase_add_test(err, hostile_input_is_bounded);
  suite_add_tcase(s, sem);
  suite_add_tcase(s, err);
  return s;
}
