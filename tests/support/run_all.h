/* SPDX-License-Identifier: Apache-2.0 */
/* Every test program ends the same way: run the suites, free the runner,
 * exit non-zero when a test failed. */
#ifndef SDC_TEST_RUN_ALL_H
#define SDC_TEST_RUN_ALL_H

#include <check.h>
#include <stdlib.h>

static inline int test_run_all(SRunner *sr)
{
  int failed;

  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
