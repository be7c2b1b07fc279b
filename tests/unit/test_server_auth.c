/* SPDX-License-Identifier: Apache-2.0 */
/* The local directory's token check fails closed: when the token cannot
 * be copied, the server does not start (before, it started and let every
 * call through). strdup is interposed here to fail on the token alone. */
#include <check.h>

#include "run_all.h"
#include "server.h"

#include <grpc/grpc.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char *fail_on; /* strdup of this text fails */

char *strdup(const char *s)
{
  size_t n;
  char *c;

  if(fail_on && !strcmp(s, fail_on))
    return NULL;
  n = strlen(s) + 1;
  if((c = malloc(n)))
    memcpy(c, s, n);
  return c;
}

START_TEST(a_token_that_cannot_be_copied_stops_the_server)
{
  struct lsd_registry *reg = NULL;
  struct lsd_server *srv = NULL;
  struct lsd_err e;
  struct lsd_server_opts o = {.listen = "127.0.0.1:0", .token = "s3cret-token",
                             .threads = 1, .max_message = 1 << 20};
  char err[256] = "";
  int port = 0;

  grpc_init();
  ck_assert_int_eq(lsd_registry_open(&reg, NULL, &e), 0);
  fail_on = o.token;
  ck_assert_int_eq(lsd_server_start(&srv, reg, &o, &port, err, sizeof(err)), -1);
  fail_on = NULL;
  ck_assert_ptr_null(srv);
  ck_assert_ptr_nonnull(strstr(err, "out of memory"));
  /* and with memory it starts, token and all */
  ck_assert_int_eq(lsd_server_start(&srv, reg, &o, &port, err, sizeof(err)), 0);
  ck_assert_int_gt(port, 0);
  lsd_server_stop(srv, 0);
  lsd_registry_close(reg);
  grpc_shutdown();
}
END_TEST

/* Its own program: the interposed strdup stays out of the other suites. */
int main(void)
{
  Suite *s = suite_create("server_auth");
  TCase *tc = tcase_create("fail_closed");

  tcase_add_test(tc, a_token_that_cannot_be_copied_stops_the_server);
  suite_add_tcase(s, tc);
  return test_run_all(srunner_create(s));
}
