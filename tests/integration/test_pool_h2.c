/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration: the pool against a real HTTP/2 server (nghttp2's nghttpd,
 * Debian nghttp2-server) on 127.0.0.1 with a certificate this test makes.
 * HTTP/2 is used when the server offers it, requests share one connection,
 * and the per-connection request limit holds there too. nghttpd is
 * stopped by its PID.
 */
#include "certs.h"
#include "proc.h"
#include "run_all.h"

#include <sdconnect/sdconnect.h>

#include "pool/request.h" /* the pool's own tests make requests on the stack */

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HOST "webhook.internal"

static char dir[64];
static struct tproc server;
static int port;

static const char *in_dir(const char *name) { return tproc_path(dir, name); }

static bool accepts(int p)
{
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p)};
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  bool ok;

  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
  close(fd);
  return ok;
}

static void setup(void)
{
  struct tcert_opts ca_o = {"h2 test CA", NULL, -1, 30, true, false};
  struct tcert_opts srv_o = {HOST, "DNS:" HOST, -1, 30, false, false};
  struct tcert *ca, *srv;
  const char *bin = getenv("SDC_NGHTTPD_BIN");
  char port_s[16];
  FILE *f;

  ck_assert_int_eq(sdc_global_init(NULL), SDC_OK);
  ck_assert_int_eq(tproc_tmpdir(dir), 0);
  ca = tcert_new(&ca_o, NULL);
  srv = tcert_new(&srv_o, ca);
  ck_assert(ca && srv);
  ck_assert_int_eq(tcert_write(ca, dir, "ca"), 0);
  ck_assert_int_eq(tcert_write(srv, dir, "server"), 0);
  tcert_free(ca);
  tcert_free(srv);
  f = fopen(in_dir("hook"), "w");
  ck_assert_ptr_nonnull(f);
  fputs("{\"fulfillmentResponse\":{}}\n", f);
  fclose(f);
  ck_assert_msg(bin && *bin, "SDC_NGHTTPD_BIN is not set (install nghttp2-server)");
  port = tproc_free_port();
  ck_assert_int_gt(port, 0);
  snprintf(port_s, sizeof(port_s), "%d", port);
  {
    const char *argv[] = {bin, "-a", "127.0.0.1", "-d", dir, port_s,
                          in_dir("server.key"), in_dir("server.pem"), NULL};
    memset(&server, 0, sizeof(server));
    ck_assert_msg(tproc_start(&server, argv, false) == 0, "nghttpd: %s", server.log);
  }
  for(int i = 0; i < 100 && !accepts(port); i++) /* bounded: 5 s */
    tproc_sleep_ms(50);
  ck_assert_msg(accepts(port), "nghttpd did not listen on %d", port);
}

static void teardown(void)
{
  tproc_stop(&server, 5000);
  tproc_rmdir(server.dir);
  tproc_rmdir(dir);
  sdc_global_cleanup();
}

static sdc_target *target(void)
{
  sdc_target *t = NULL;
  const char *addr = "127.0.0.1";
  FILE *f = fopen(in_dir("ca.pem"), "rb");
  char pem[8192];
  size_t len;

  ck_assert_ptr_nonnull(f);
  len = fread(pem, 1, sizeof(pem), f);
  fclose(f);
  ck_assert_int_eq(sdc_target_new(&t, HOST, port, 1), SDC_OK);
  ck_assert_int_eq(sdc_target_set_addresses(t, &addr, &port, 1), SDC_OK);
  ck_assert_int_eq(sdc_target_set_ca(t, pem, len), SDC_OK);
  return t;
}

static void h2_done(sdc_status st, sdc_http_response *r, const char *e, void *ud)
{
  int *n = ud;

  ck_assert_msg(st == SDC_OK, "%s", e);
  ck_assert_int_eq(r->status, 200);
  ck_assert_int_eq(r->http_version, 2);
  ck_assert_str_eq(r->body, "{\"fulfillmentResponse\":{}}\n");
  ck_assert(!strncmp(r->headers, "HTTP/2 200", 10));
  ck_assert_str_eq(r->tls.version, "TLSv1.3");
  sdc_http_response_free(r);
  (*n)++;
}

START_TEST(http2_when_offered_with_requests_sharing_one_connection)
{
  sdc_pool *p = NULL;
  sdc_target *t = target();
  char url[128];
  int done = 0;

  ck_assert_int_eq(sdc_pool_new(&p, NULL), SDC_OK); /* HTTP/2 allowed */
  snprintf(url, sizeof(url), "https://" HOST ":%d/hook", port);
  {
    sdc_http_request req = {.url = url, .timeout_ms = 10000};
    /* 31 at once, before anything is known of the server: one learns that
     * it speaks HTTP/2, the others wait, then all are streams of one
     * connection */
    for(int i = 0; i < 31; i++)
      ck_assert_int_eq(sdc_pool_submit(p, t, &req, h2_done, &done), SDC_OK);
    ck_assert_int_eq(sdc_pool_perform(p, 20000), SDC_OK);
    /* a known HTTP/2 server stays with libcurl's HTTP/2 */
    ck_assert_int_eq(sdc_pool_submit(p, t, &req, h2_done, &done), SDC_OK);
    ck_assert_int_eq(sdc_pool_perform(p, 20000), SDC_OK);
  }
  ck_assert_int_eq(done, 32);
  ck_assert_uint_eq(sdc_pool_connections_opened(p), 1);
  sdc_pool_free(p);
  sdc_target_free(t);
}
END_TEST

START_TEST(http2_connections_close_after_their_request_limit)
{
  sdc_pool_opts *o = NULL;
  sdc_pool *p = NULL;
  sdc_target *t = target();
  char url[128];
  int done = 0;

  sdc_pool_opts_new(&o);
  sdc_pool_opts_set_max_requests_per_conn(o, 3);
  ck_assert_int_eq(sdc_pool_new(&p, o), SDC_OK);
  snprintf(url, sizeof(url), "https://" HOST ":%d/hook", port);
  for(int i = 0; i < 9; i++) {
    sdc_http_request req = {.url = url, .timeout_ms = 10000};
    ck_assert_int_eq(sdc_pool_submit(p, t, &req, h2_done, &done), SDC_OK);
    ck_assert_int_eq(sdc_pool_perform(p, 20000), SDC_OK);
  }
  ck_assert_int_eq(done, 9);
  ck_assert_uint_eq(sdc_pool_connections_opened(p), 3);
  sdc_pool_free(p);
  sdc_pool_opts_free(o);
  sdc_target_free(t);
}
END_TEST

START_TEST(http2_fresh_requests_get_connections_of_their_own)
{
  sdc_pool *p = NULL;
  sdc_target *t = target();
  char url[128];
  int done = 0;

  ck_assert_int_eq(sdc_pool_new(&p, NULL), SDC_OK);
  snprintf(url, sizeof(url), "https://" HOST ":%d/hook", port);
  {
    sdc_http_request req = {.url = url, .timeout_ms = 10000};
    sdc_http_request fresh = {.url = url, .timeout_ms = 10000,
                              .flags = SDC_HTTP_FRESH_CONN};
    ck_assert_int_eq(sdc_pool_submit(p, t, &req, h2_done, &done), SDC_OK);
    ck_assert_int_eq(sdc_pool_perform(p, 20000), SDC_OK);
    for(int i = 0; i < 3; i++) { /* never the shared one, never kept */
      ck_assert_int_eq(sdc_pool_submit(p, t, &fresh, h2_done, &done), SDC_OK);
      ck_assert_int_eq(sdc_pool_perform(p, 20000), SDC_OK);
    }
    ck_assert_uint_eq(sdc_pool_connections_opened(p), 4);
    ck_assert_int_eq(sdc_pool_submit(p, t, &req, h2_done, &done), SDC_OK);
    ck_assert_int_eq(sdc_pool_perform(p, 20000), SDC_OK);
  }
  ck_assert_int_eq(done, 5);
  ck_assert_uint_eq(sdc_pool_connections_opened(p), 4); /* the first one */
  sdc_pool_free(p);
  sdc_target_free(t);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("pool_h2");
  TCase *tc = tcase_create("h2");

  tcase_set_timeout(tc, 60);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, http2_when_offered_with_requests_sharing_one_connection);
  tcase_add_test(tc, http2_connections_close_after_their_request_limit);
  tcase_add_test(tc, http2_fresh_requests_get_connections_of_their_own);
  suite_add_tcase(s, tc);
  return test_run_all(srunner_create(s));
}
