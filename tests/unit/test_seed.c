/* SPDX-License-Identifier: Apache-2.0 */
#include "suites.h"

#include "sdt.h"
#include "seed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[64];

static void write_seed(const char *text)
{
  int fd;
  FILE *f;

  strcpy(path, "/tmp/sdc-seed-XXXXXX");
  fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  f = fdopen(fd, "w");
  fputs(text, f);
  fclose(f);
}

static int load(struct lsd_registry *s, struct seed_stats *st, char *err)
{
  int rc = lsd_seed_load(s, path, st, err, 1024);
  unlink(path);
  return rc;
}

START_TEST(loads_then_updates_in_place)
{
  struct lsd_registry *s = NULL;
  struct lsd_err e = {0};
  struct seed_stats st;
  char err[1024], uid[40];
  struct sdt t = {0};
  PBT(Endpoint) *ep = NULL;

  ck_assert_int_eq(lsd_registry_open(&s, NULL, &e), 0);
  t.reg = s;
  write_seed("project: p\nlocation: l\nnamespaces:\n"
             "  - name: ns\n    labels: {team: a}\n    services:\n"
             "      - name: svc\n        endpoints:\n"
             "          - {name: a, address: 10.0.0.1, port: 443, annotations: {z: '1'}}\n"
             "  - name: projects/q/locations/m/namespaces/other\n");
  ck_assert_msg(load(s, &st, err) == 0, "%s", err);
  ck_assert_uint_eq(st.created, 4);
  ck_assert_int_eq(sdt_get_endpoint(&t, "projects/p/locations/l/namespaces/ns/services/svc/endpoints/a",
                                    &ep, err), 0);
  ck_assert_str_eq(ep->address, "10.0.0.1");
  snprintf(uid, sizeof(uid), "%s", ep->uid);
  PB(endpoint__free_unpacked)(ep, NULL);
  /* loading again with a new port updates, keeping the uid */
  write_seed("namespaces:\n  - name: projects/p/locations/l/namespaces/ns\n    services:\n"
             "      - name: svc\n        endpoints:\n          - {name: a, address: 10.0.0.1, port: 8443}\n");
  ck_assert_msg(load(s, &st, err) == 0, "%s", err);
  ck_assert_uint_eq(st.updated, 3);
  ck_assert_int_eq(sdt_get_endpoint(&t, "projects/p/locations/l/namespaces/ns/services/svc/endpoints/a",
                                    &ep, err), 0);
  ck_assert_int_eq(ep->port, 8443);
  ck_assert_str_eq(ep->uid, uid);
  PB(endpoint__free_unpacked)(ep, NULL);
  lsd_registry_close(s);
}
END_TEST

static void expect_error(const char *yaml, const char *want)
{
  struct lsd_registry *s = NULL;
  struct lsd_err e = {0};
  struct seed_stats st;
  char err[1024];
  uint64_t c[4];

  ck_assert_int_eq(lsd_registry_open(&s, NULL, &e), 0);
  write_seed(yaml);
  ck_assert_int_ne(load(s, &st, err), 0);
  ck_assert_msg(strstr(err, want) != NULL, "want '%s' in '%s'", want, err);
  ck_assert_ptr_nonnull(strstr(err, "/tmp/sdc-seed-"));
  store_lock(lsd_registry_store(s));
  ck_assert_int_eq(store_counts(lsd_registry_store(s), c, &e), 0);
  store_unlock(lsd_registry_store(s));
  /* nothing is written when any part of the file is wrong */
  ck_assert_uint_eq(c[LSD_NAMESPACE] + c[LSD_SERVICE] + c[LSD_ENDPOINT], 0);
  lsd_registry_close(s);
}

START_TEST(errors_point_at_the_line)
{
  expect_error("namespaces:\n  - name: projects/p/locations/l/namespaces/ns\n"
               "    servces: []\n", ":3:5: unknown key 'servces' in a namespace; did you mean 'services'?");
  expect_error("project: p\nlocation: l\nnamespaces:\n  - name: ns\n    services:\n"
               "      - name: svc\n        endpoints:\n"
               "          - name: ok\n            address: 10.0.0.1\n"
               "          - name: bad\n            address: 10.0.0.300\n",
               ":10:13: endpoint.address: '10.0.0.300' is not an IPv4 or IPv6 address");
  expect_error("namespaces:\n  - name: ns\n", "short name");
  expect_error("namespaces: [\n", "YAML syntax");
  expect_error("namespaces:\n  - name: projects/p/locations/l/namespaces/ns\n    services:\n"
               "      - name: s\n        endpoints:\n          - {name: e, port: 99999}\n",
               "port must be a whole number from 0 to 65535");
  expect_error("- a\n", "top level must be a mapping");
  expect_error("namespaces:\n  - name: projects/p/locations/l/namespaces/ns\n    services:\n"
               "      - name: projects/p/locations/l/namespaces/other/services/s\n",
               "is not inside");
}
END_TEST

START_TEST(missing_file_is_named)
{
  struct lsd_registry *s = NULL;
  struct lsd_err e = {0};
  struct seed_stats st;
  char err[1024];

  ck_assert_int_eq(lsd_registry_open(&s, NULL, &e), 0);
  ck_assert_int_ne(lsd_seed_load(s, "/nonexistent/seed.yaml", &st, err, sizeof(err)), 0);
  ck_assert_ptr_nonnull(strstr(err, "/nonexistent/seed.yaml: cannot open"));
  lsd_registry_close(s);
}
END_TEST

Suite *seed_suite(void)
{
  Suite *s = suite_create("seed");
  TCase *tc = tcase_create("yaml");

  tcase_add_test(tc, loads_then_updates_in_place);
  tcase_add_test(tc, errors_point_at_the_line);
  tcase_add_test(tc, missing_file_is_named);
  suite_add_tcase(s, tc);
  return s;
}
