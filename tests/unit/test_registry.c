/* SPDX-License-Identifier: Apache-2.0 */
/* The shared API behaviour cases, run in process on a memory store. */
#include "suites.h"

#include "sdt.h"

#include <string.h>

static struct sdt t;

static void mem_setup(void)
{
  struct lsd_err e = {0};

  memset(&t, 0, sizeof(t));
  ck_assert_int_eq(lsd_registry_open(&t.reg, NULL, &e), 0);
}

static void mem_teardown(void)
{
  lsd_registry_close(t.reg);
  t.reg = NULL;
}

RC_CASES(RC_TEST)

START_TEST(method_paths_are_exact)
{
  ck_assert_str_eq(lsd_method_path(M_RESOLVE_SERVICE),
                   "/google.cloud.servicedirectory.v1.LookupService/ResolveService");
  ck_assert_str_eq(lsd_method_path(M_UPDATE_ENDPOINT),
                   "/google.cloud.servicedirectory.v1.RegistrationService/UpdateEndpoint");
  for(int m = 0; m < M_COUNT; m++)
    ck_assert_int_eq(lsd_method_lookup(lsd_method_path((enum lsd_method)m),
                                      strlen(lsd_method_path((enum lsd_method)m))), m);
  {
    static const char beta[] = "/google.cloud.servicedirectory.v1beta1.LookupService/"
                               "ResolveService";
    ck_assert_int_eq(lsd_method_lookup(beta, strlen(beta)), -1);
  }
}
END_TEST

Suite *registry_suite(void)
{
  Suite *s = suite_create("registry");
  TCase *tc = tcase_create("api");

  tcase_add_checked_fixture(tc, mem_setup, mem_teardown);
  {
    TCase *rc_tcase = tc;
    RC_CASES(RC_ADD)
  }
  tcase_add_test(tc, method_paths_are_exact);
  suite_add_tcase(s, tc);
  return s;
}
