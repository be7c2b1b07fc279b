/* SPDX-License-Identifier: Apache-2.0 */
/* Every unit suite; main.c runs them all (CK_RUN_SUITE picks one). */
#ifndef SDC_TEST_SUITES_H
#define SDC_TEST_SUITES_H

#include <check.h>

Suite *validate_suite(void);
Suite *filter_suite(void);
Suite *order_suite(void);
Suite *pagetoken_suite(void);
Suite *store_suite(void);
Suite *registry_suite(void);
Suite *seed_suite(void);
Suite *core_suite(void);
Suite *resolve_cache_suite(void);
Suite *auth_suite(void);
Suite *codec_suite(void);
Suite *h1_suite(void);
Suite *config_suite(void);
Suite *check_suite(void);
Suite *metrics_suite(void);
Suite *sched_suite(void);
Suite *serve_config_suite(void);
Suite *webhook_suite(void);

#endif
