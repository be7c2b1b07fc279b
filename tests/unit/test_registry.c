/* SPDX-License-Identifier: Apache-2.0 */
/* The shared API behaviour cases, run in process on a memory store. */
#include "suites.h"

#include "sdt.h"

#include <string.h>

static struct sdt t;

static void mem_setup(void)
{
  struct sd_err e = {0};

  memset(&t, 0, sizeof(t));
  ck_assert_int_eq(sd_registry_open(&t.reg, NULL, &e), 0);
}

static void mem_teardown(void)
{
  sd_registry_close(t.reg);
  t.reg = NULL;
}

START_TEST(crud_round_trip) { rc_crud_round_trip(&t); }
END_TEST
START_TEST(errors_name_the_problem) { rc_errors_name_the_problem(&t); }
END_TEST
START_TEST(resolve_caps_and_filters) { rc_resolve_caps_and_filters(&t); }
END_TEST
START_TEST(paging_terminates_and_checks_tokens) { rc_paging_terminates_and_checks_tokens(&t); }
END_TEST
START_TEST(update_masks) { rc_update_masks(&t); }
END_TEST
START_TEST(cascading_deletes) { rc_cascading_deletes(&t); }
END_TEST
START_TEST(malformed_requests) { rc_malformed_requests(&t); }
END_TEST
START_TEST(resolve_never_serves_stale_answers) { rc_resolve_never_serves_stale_answers(&t); }
END_TEST

START_TEST(method_paths_are_exact)
{
  ck_assert_str_eq(sd_method_path(M_RESOLVE_SERVICE),
                   "/google.cloud.servicedirectory.v1.LookupService/ResolveService");
  ck_assert_str_eq(sd_method_path(M_UPDATE_ENDPOINT),
                   "/google.cloud.servicedirectory.v1.RegistrationService/UpdateEndpoint");
  for(int m = 0; m < M_COUNT; m++)
    ck_assert_int_eq(sd_method_lookup(sd_method_path((enum sd_method)m),
                                      strlen(sd_method_path((enum sd_method)m))), m);
  {
    static const char beta[] = "/google.cloud.servicedirectory.v1beta1.LookupService/"
                               "ResolveService";
    ck_assert_int_eq(sd_method_lookup(beta, strlen(beta)), -1);
  }
}
END_TEST

Suite *registry_suite(void)
{
  Suite *s = suite_create("registry");
  TCase *tc = tcase_create("api");

  tcase_add_checked_fixture(tc, mem_setup, mem_teardown);
  tcase_add_test(tc, crud_round_trip);
  tcase_add_test(tc, errors_name_the_problem);
  tcase_add_test(tc, resolve_caps_and_filters);
  tcase_add_test(tc, paging_terminates_and_checks_tokens);
  tcase_add_test(tc, update_masks);
  tcase_add_test(tc, cascading_deletes);
  tcase_add_test(tc, malformed_requests);
  tcase_add_test(tc, resolve_never_serves_stale_answers);
  tcase_add_test(tc, method_paths_are_exact);
  suite_add_tcase(s, tc);
  return s;
}
