/* SPDX-License-Identifier: Apache-2.0 */
/* Runs every unit suite; ctest runs it once per suite with CK_RUN_SUITE. */
#include "run_all.h"
#include "suites.h"

#include <stdlib.h>

int main(void)
{
  SRunner *sr = srunner_create(core_suite());

  srunner_add_suite(sr, validate_suite());
  srunner_add_suite(sr, filter_suite());
  srunner_add_suite(sr, order_suite());
  srunner_add_suite(sr, pagetoken_suite());
  srunner_add_suite(sr, store_suite());
  srunner_add_suite(sr, registry_suite());
  srunner_add_suite(sr, seed_suite());
  srunner_add_suite(sr, resolve_cache_suite());
  srunner_add_suite(sr, auth_suite());
  srunner_add_suite(sr, codec_suite());
  srunner_add_suite(sr, h1_suite());
  srunner_add_suite(sr, config_suite());
  srunner_add_suite(sr, check_suite());
  srunner_add_suite(sr, metrics_suite());
  srunner_add_suite(sr, sched_suite());
  srunner_add_suite(sr, serve_config_suite());
  srunner_add_suite(sr, webhook_suite());
  return test_run_all(sr);
}
