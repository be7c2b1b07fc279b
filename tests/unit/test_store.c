/* SPDX-License-Identifier: Apache-2.0 */
#include "suites.h"

#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool collect(void *ctx, const char *name, const uint8_t *body, size_t len)
{
  char *out = ctx;
  (void)body;
  (void)len;
  strcat(out, strrchr(name, '/') + 1);
  strcat(out, ",");
  return true;
}

START_TEST(insert_get_scan_delete)
{
  struct store *s = NULL;
  struct lsd_err e = {0};
  uint8_t *body = NULL;
  size_t len = 0;
  char seen[256] = "";

  ck_assert_int_eq(store_open(&s, NULL, &e), 0);
  store_lock(s);
  ck_assert_int_eq(store_insert(s, LSD_ENDPOINT, "x/b", 1, (const uint8_t *)"B", 1, &e), 0);
  ck_assert_int_eq(store_insert(s, LSD_ENDPOINT, "x/a", 1, (const uint8_t *)"A", 1, &e), 0);
  ck_assert_int_eq(store_insert(s, LSD_ENDPOINT, "x/c", 1, (const uint8_t *)"", 0, &e), 0);
  ck_assert_int_eq(store_insert(s, LSD_ENDPOINT, "x/a", 1, (const uint8_t *)"A", 1, &e),
                   GRPC_STATUS_ALREADY_EXISTS);
  ck_assert_int_eq(store_get(s, "x/b", &body, &len, &e), 0);
  ck_assert_uint_eq(len, 1);
  ck_assert_int_eq(body[0], 'B');
  free(body);
  ck_assert_int_eq(store_get(s, "x/z", &body, &len, &e), GRPC_STATUS_NOT_FOUND);
  ck_assert_int_eq(store_scan(s, LSD_ENDPOINT, "x", NULL, false, collect, seen, &e), 0);
  ck_assert_str_eq(seen, "a,b,c,");
  seen[0] = '\0';
  ck_assert_int_eq(store_scan(s, LSD_ENDPOINT, "x", "x/b", true, collect, seen, &e), 0);
  ck_assert_str_eq(seen, "a,");
  seen[0] = '\0';
  ck_assert_int_eq(store_scan(s, LSD_ENDPOINT, "x", "x/a", false, collect, seen, &e), 0);
  ck_assert_str_eq(seen, "b,c,");
  ck_assert_int_eq(store_replace(s, "x/zz", (const uint8_t *)"Q", 1, &e), GRPC_STATUS_NOT_FOUND);
  ck_assert_int_eq(store_delete(s, "x/b", &e), GRPC_STATUS_OK);
  ck_assert_int_eq(store_delete(s, "x/b", &e), GRPC_STATUS_NOT_FOUND);
  ck_assert_int_eq(store_exists(s, "x/a", &e), GRPC_STATUS_OK);
  store_unlock(s);
  store_close(s);
}
END_TEST

START_TEST(cascade_uses_the_name_range_only)
{
  struct store *s = NULL;
  struct lsd_err e = {0};
  uint64_t c[4];

  ck_assert_int_eq(store_open(&s, NULL, &e), 0);
  store_lock(s);
  ck_assert_int_eq(store_insert(s, LSD_SERVICE, "n/services/s", 1, (const uint8_t *)"", 0, &e), 0);
  ck_assert_int_eq(store_insert(s, LSD_ENDPOINT, "n/services/s/endpoints/a", 12,
                                (const uint8_t *)"", 0, &e), 0);
  ck_assert_int_eq(store_insert(s, LSD_SERVICE, "n/services/s-2", 1, (const uint8_t *)"", 0, &e), 0);
  ck_assert_int_eq(store_insert(s, LSD_SERVICE, "n/services/s0", 1, (const uint8_t *)"", 0, &e), 0);
  ck_assert_int_eq(store_delete(s, "n/services/s", &e), 0);
  ck_assert_int_eq(store_counts(s, c, &e), 0);
  ck_assert_uint_eq(c[LSD_SERVICE], 2);
  ck_assert_uint_eq(c[LSD_ENDPOINT], 0);
  store_unlock(s);
  store_close(s);
}
END_TEST

START_TEST(file_survives_reopen_and_is_exclusive)
{
  char dir[] = "/tmp/sdc-store-XXXXXX", path[256];
  struct store *s = NULL, *s2 = NULL;
  struct lsd_err e = {0};
  uint8_t key[LSD_TOKEN_KEY_LEN];

  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(path, sizeof(path), "%s/r.db", dir);
  ck_assert_int_eq(store_open(&s, path, &e), 0);
  memcpy(key, store_token_key(s), sizeof(key));
  store_lock(s);
  ck_assert_int_eq(store_insert(s, LSD_NAMESPACE, "l/namespaces/n", 1, (const uint8_t *)"N", 1, &e), 0);
  store_unlock(s);
  /* a second server on the same file is refused with a clear message */
  ck_assert_int_eq(store_open(&s2, path, &e), GRPC_STATUS_UNAVAILABLE);
  ck_assert_ptr_nonnull(strstr(e.msg, "in use by another"));
  store_close(s);
  ck_assert_int_eq(store_open(&s, path, &e), 0);
  ck_assert_mem_eq(store_token_key(s), key, sizeof(key)); /* tokens survive */
  store_lock(s);
  ck_assert_int_eq(store_exists(s, "l/namespaces/n", &e), 0);
  store_unlock(s);
  store_close(s);
  unlink(path);
  snprintf(path, sizeof(path), "%s/r.db-wal", dir);
  unlink(path);
  snprintf(path, sizeof(path), "%s/r.db-shm", dir);
  unlink(path);
  rmdir(dir);
  ck_assert_int_ne(store_open(&s, "/nonexistent-dir/x/r.db", &e), 0);
  ck_assert_ptr_nonnull(strstr(e.msg, "/nonexistent-dir/x/r.db"));
}
END_TEST

Suite *store_suite(void)
{
  Suite *s = suite_create("store");
  TCase *tc = tcase_create("sqlite");

  tcase_add_test(tc, insert_get_scan_delete);
  tcase_add_test(tc, cascade_uses_the_name_range_only);
  tcase_add_test(tc, file_survives_reopen_and_is_exclusive);
  suite_add_tcase(s, tc);
  return s;
}
