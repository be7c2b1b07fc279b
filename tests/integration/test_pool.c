/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration: the connection pool against real TLS servers
 * (tests/servers/httpd) on 127.0.0.1 whose certificates this test makes: a
 * private CA, a server certificate for webhook.internal, a client
 * certificate, and broken variants. Every server is stopped by its PID.
 */
#include "certs.h"
#include "proc.h"
#include "sdclient.h"
#include "run_all.h"

#include <sdconnect/sdconnect.h>

#include "pool/request.h" /* the pool's own tests make requests on the stack */

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HOST "webhook.internal"

static char dir[64];
static struct tproc servers[8];
static size_t n_servers;

static const char *in_dir(const char *name) { return tproc_path(dir, name); }

static void make_certs(void)
{
  struct tcert_opts ca_o = {"pool test CA", NULL, -1, 30, true, false};
  struct tcert_opts other_o = {"some other CA", NULL, -1, 30, true, false};
  struct tcert_opts srv_o = {HOST, "DNS:" HOST, -1, 30, false, false};
  struct tcert_opts wrong_o = {"elsewhere.internal", "DNS:elsewhere.internal", -1, 30, false, false};
  struct tcert_opts old_o = {HOST, "DNS:" HOST, -30, -1, false, false};
  struct tcert_opts cli_o = {"dialogflow-client", NULL, -1, 30, false, true};
  struct tcert *ca = tcert_new(&ca_o, NULL), *other = tcert_new(&other_o, NULL);
  struct tcert *srv = tcert_new(&srv_o, ca), *wrong = tcert_new(&wrong_o, ca);
  struct tcert *old = tcert_new(&old_o, ca), *cli = tcert_new(&cli_o, ca);

  ck_assert(ca && other && srv && wrong && old && cli);
  ck_assert_int_eq(tcert_write(ca, dir, "ca"), 0);
  ck_assert_int_eq(tcert_write_der(ca, dir, "ca"), 0);
  ck_assert_int_eq(tcert_write(other, dir, "other"), 0);
  ck_assert_int_eq(tcert_write(srv, dir, "server"), 0);
  ck_assert_int_eq(tcert_write(wrong, dir, "wrong"), 0);
  ck_assert_int_eq(tcert_write(old, dir, "expired"), 0);
  ck_assert_int_eq(tcert_write(cli, dir, "client"), 0);
  ck_assert_int_eq(tcert_write_encrypted_key(cli, dir, "client", "s3cret"), 0);
  tcert_free(ca);
  tcert_free(other);
  tcert_free(srv);
  tcert_free(wrong);
  tcert_free(old);
  tcert_free(cli);
}

static const char *httpd_bin(void)
{
  const char *b = getenv("SDC_HTTPD_BIN");
  return b && *b ? b : "httpd";
}

/* Start httpd with certificate `cert` (a name in dir) and extra args. */
/* Whether this machine has IPv6 loopback (a container may not). */
static bool v6_loopback(void)
{
  struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
  int fd = socket(AF_INET6, SOCK_STREAM, 0);
  bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
  if(fd >= 0)
    close(fd);
  return ok;
}

static int start_httpd(const char *cert, const char *const *extra)
{
  struct tproc *p;
  const char *argv[16] = {httpd_bin()};
  size_t n = 1;

  if(cert) {
    argv[n++] = "--cert";
    argv[n++] = in_dir(cert[0] == 's' ? "server.pem" : cert[0] == 'w' ? "wrong.pem"
                                                                      : "expired.pem");
    argv[n++] = "--key";
    argv[n++] = in_dir(cert[0] == 's' ? "server.key" : cert[0] == 'w' ? "wrong.key"
                                                                      : "expired.key");
  }
  for(size_t i = 0; extra && extra[i]; i++)
    argv[n++] = extra[i];
  argv[n] = NULL;
  ck_assert_uint_lt(n_servers, sizeof(servers) / sizeof(servers[0]));
  p = &servers[n_servers++];
  memset(p, 0, sizeof(*p));
  ck_assert_msg(tproc_start(p, argv, true) == 0, "httpd did not start: %s", p->log);
  return p->port;
}

static void setup(void)
{
  ck_assert_int_eq(sdc_global_init(NULL), SDC_OK);
  ck_assert_int_eq(tproc_tmpdir(dir), 0);
  make_certs();
  n_servers = 0;
}

static void teardown(void)
{
  for(size_t i = 0; i < n_servers; i++) {
    tproc_stop(&servers[i], 5000);
    tproc_rmdir(servers[i].dir);
  }
  tproc_rmdir(dir);
  sdc_global_cleanup();
}

static void *slurp_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *buf = malloc(1 << 16);
  *len = fread(buf, 1, 1 << 16, f);
  fclose(f);
  return buf;
}

/* A target for webhook.internal:port pinned to 127.0.0.1:port, trusting
 * `ca` ("ca", "other", "der" or NULL for the system store). */
static sdc_target *target_at(int port, const char *ca)
{
  sdc_target *t = NULL;
  const char *addr = "127.0.0.1";
  size_t len;
  void *pem;

  ck_assert_int_eq(sdc_target_new(&t, HOST, port, 1), SDC_OK);
  ck_assert_int_eq(sdc_target_set_addresses(t, &addr, &port, 1), SDC_OK);
  if(ca) {
    pem = slurp_file(in_dir(!strcmp(ca, "der") ? "ca.der" : !strcmp(ca, "ca") ? "ca.pem"
                                                                               : "other.pem"),
                     &len);
    ck_assert_int_eq(sdc_target_set_ca(t, pem, len), SDC_OK);
    free(pem);
  }
  return t;
}

static void with_client_cert(sdc_target *t, int encrypted)
{
  size_t cl, kl;
  void *c = slurp_file(in_dir("client.pem"), &cl);
  void *k = slurp_file(in_dir(encrypted ? "client.enc.key" : "client.key"), &kl);

  ck_assert_int_eq(sdc_target_set_client_cert(t, c, cl, k, kl, encrypted ? "s3cret" : NULL),
                   SDC_OK);
  free(c);
  free(k);
}

static sdc_status get(sdc_pool *p, sdc_target *t, int port, const char *path,
                      sdc_http_response **r)
{
  char url[256];
  sdc_http_request req = {0};

  snprintf(url, sizeof(url), "https://" HOST ":%d%s", port, path);
  req.url = url;
  req.timeout_ms = 10000;
  return sdc_pool_request(p, t, &req, r);
}

START_TEST(pinned_address_with_url_host_for_sni_host_and_verification)
{
  int port = start_httpd("server", NULL);
  sdc_pool *p = NULL;
  sdc_target *t = target_at(port, "ca");
  sdc_http_response *r = NULL;
  char want[64];

  ck_assert_int_eq(sdc_pool_new(&p, NULL), SDC_OK);
  ck_assert_msg(get(p, t, port, "/echo", &r) == SDC_OK, "%s", sdc_pool_errmsg(p));
  ck_assert_int_eq(r->status, 200);
  snprintf(want, sizeof(want), "\"host\":\"" HOST ":%d\"", port);
  ck_assert_ptr_nonnull(strstr(r->body, want));
  ck_assert_ptr_nonnull(strstr(r->body, "\"sni\":\"" HOST "\""));
  snprintf(want, sizeof(want), "127.0.0.1:%d", port);
  ck_assert_str_eq(r->endpoint, want);
  ck_assert_str_eq(r->tls.version, "TLSv1.3");
  ck_assert_int_eq(r->tls.verify_result, 0);
  ck_assert_uint_ge(r->tls.n_chain, 1);
  ck_assert_ptr_nonnull(strstr(r->tls.chain[0], "CN=" HOST));
  ck_assert_int_gt(r->tls.earliest_expiry, 0);
  ck_assert(r->timings.total_ms >= r->timings.first_byte_ms);
  sdc_http_response_free(r);
  sdc_pool_free(p);
  sdc_target_free(t);
}
END_TEST

START_TEST(connections_are_reused_and_limited)
{
  int port = start_httpd("server", NULL);
  sdc_pool_opts *o = NULL;
  sdc_pool *p = NULL;
  sdc_target *t = target_at(port, "der"); /* a DER CA works too */
  sdc_http_response *r = NULL;

  sdc_pool_opts_new(&o);
  sdc_pool_opts_set_http2(o, 0);
  ck_assert_int_eq(sdc_pool_new(&p, o), SDC_OK);
  for(int i = 0; i < 20; i++) {
    ck_assert_msg(get(p, t, port, "/echo", &r) == SDC_OK, "%s", sdc_pool_errmsg(p));
    ck_assert_int_eq(r->reused, i > 0);
    sdc_http_response_free(r);
  }
  ck_assert_uint_eq(sdc_pool_connections_opened(p), 1);
  ck_assert_int_eq(get(p, t, port, "/stats", &r), SDC_OK);
  ck_assert_str_eq(r->body, "{\"accepted\":1}"); /* the server saw one connection */
  sdc_http_response_free(r);
  sdc_pool_free(p);
  sdc_pool_opts_free(o);
  sdc_target_free(t);
}
END_TEST

static void count_done(sdc_status st, sdc_http_response *r, const char *e, void *ud)
{
  int *n = ud;

  (void)e;
  ck_assert_int_eq(st, SDC_OK);
  sdc_http_response_free(r);
  (*n)++;
}

START_TEST(connections_close_after_their_request_limit)
{
  int port = start_httpd("server", NULL);
  sdc_pool_opts *o = NULL;
  sdc_pool *p = NULL;
  sdc_target *t = target_at(port, "ca");
  sdc_http_response *r = NULL;

  sdc_pool_opts_new(&o);
  sdc_pool_opts_set_max_requests_per_conn(o, 3);
  sdc_pool_opts_set_http2(o, 0); /* our own HTTP/1.1 connections from the start */
  ck_assert_int_eq(sdc_pool_new(&p, o), SDC_OK);
  for(int i = 0; i < 9; i++) {
    ck_assert_msg(get(p, t, port, "/echo", &r) == SDC_OK, "%s", sdc_pool_errmsg(p));
    ck_assert_int_eq(r->reused, i % 3 != 0);
    sdc_http_response_free(r);
  }
  ck_assert_uint_eq(sdc_pool_connections_opened(p), 3);
  ck_assert_int_eq(get(p, t, port, "/stats", &r), SDC_OK);
  ck_assert_str_eq(r->body, "{\"accepted\":4}"); /* 3, and one for /stats */
  sdc_http_response_free(r);
  sdc_pool_free(p);
  sdc_pool_opts_free(o);
  sdc_target_free(t);
}
END_TEST

/* 40 slow requests submitted at once, then all of them answered. */
static void burst_of_40(sdc_pool *p, sdc_target *t, int port)
{
  char url[128];
  int done = 0;

  snprintf(url, sizeof(url), "https://" HOST ":%d/slow?ms=5", port);
  for(int i = 0; i < 40; i++) {
    sdc_http_request req = {.url = url, .timeout_ms = 30000};
    ck_assert_int_eq(sdc_pool_submit(p, t, &req, count_done, &done), SDC_OK);
  }
  ck_assert_int_eq(sdc_pool_perform(p, 60000), SDC_OK);
  ck_assert_int_eq(done, 40);
}

START_TEST(parallel_requests_respect_the_connection_limit)
{
  int port = start_httpd("server", NULL);
  sdc_pool_opts *o = NULL;
  sdc_pool *p = NULL;
  sdc_target *t = target_at(port, "ca");
  sdc_http_response *r = NULL;

  sdc_pool_opts_new(&o);
  sdc_pool_opts_set_max_conns_per_target(o, 2);
  sdc_pool_opts_set_http2(o, 0);
  ck_assert_int_eq(sdc_pool_new(&p, o), SDC_OK);
  burst_of_40(p, t, port);
  ck_assert_uint_le(sdc_pool_connections_opened(p), 2);
  ck_assert_int_eq(get(p, t, port, "/stats", &r), SDC_OK);
  ck_assert(!strcmp(r->body, "{\"accepted\":1}") || !strcmp(r->body, "{\"accepted\":2}"));
  sdc_http_response_free(r);
  sdc_pool_free(p);
  sdc_pool_opts_free(o);
  sdc_target_free(t);
}
END_TEST

/* A pool offering HTTP/2 (its first request to a target goes through
 * libcurl) or not (our own HTTP/1.1 connections from the start). */
static sdc_pool *pool_h2(int h2)
{
  sdc_pool_opts *o = NULL;
  sdc_pool *p = NULL;

  sdc_pool_opts_new(&o);
  sdc_pool_opts_set_http2(o, h2);
  ck_assert_int_eq(sdc_pool_new(&p, o), SDC_OK);
  sdc_pool_opts_free(o);
  return p;
}

struct kind_box {
  sdc_pool *p;
  sdc_fail_kind kind;
  sdc_status st;
};

static void kind_done(sdc_status st, sdc_http_response *r, const char *err, void *ud)
{
  struct kind_box *b = ud;

  (void)err;
  b->st = st;
  b->kind = sdc_pool_fail_kind(b->p);
  sdc_http_response_free(r);
}

/* The failure kind of one request for `path` (SDC_FAIL_NONE on success). */
static sdc_fail_kind kind_of(sdc_pool *p, sdc_target *t, int port, const char *path)
{
  struct kind_box b = {p, SDC_FAIL_NONE, SDC_OK};
  char url[256];
  sdc_http_request req = {.url = url, .timeout_ms = 10000};

  snprintf(url, sizeof(url), "https://" HOST ":%d%s", port, path);
  ck_assert_int_eq(sdc_pool_submit(p, t, &req, kind_done, &b), SDC_OK);
  ck_assert_int_eq(sdc_pool_perform(p, 20000), SDC_OK);
  ck_assert_int_eq(sdc_pool_fail_kind(p), SDC_FAIL_NONE); /* only inside */
  return b.kind;
}

/* One failing case: the status, a piece of the message and the kind. */
static void expect_tls_failure(const char *cert, const char *const *extra, const char *ca,
                               int client_cert, const char *want, sdc_fail_kind kind)
{
  int port = start_httpd(cert, extra);
  sdc_pool *p = NULL;
  sdc_target *t = target_at(port, ca);
  sdc_http_response *r = NULL;

  if(client_cert)
    with_client_cert(t, 0);
  for(int h2 = 1; h2 >= 0; h2--) { /* through libcurl, then our own HTTP/1.1 */
    p = pool_h2(h2);
    ck_assert_msg(get(p, t, port, "/echo", &r) == SDC_ETLS, "h2=%d: %s", h2,
                  sdc_pool_errmsg(p));
    ck_assert_msg(strstr(sdc_pool_errmsg(p), want) != NULL, "h2=%d: want '%s' in '%s'",
                  h2, want, sdc_pool_errmsg(p));
    ck_assert_ptr_nonnull(strstr(sdc_pool_errmsg(p), "via 127.0.0.1:"));
    ck_assert_int_eq(kind_of(p, t, port, "/echo"), kind);
    { /* a fresh connection, which the pool dials itself: the same words */
      char url[128];
      sdc_http_request req = {.url = url, .timeout_ms = 10000, .flags = SDC_HTTP_FRESH_CONN};
      snprintf(url, sizeof(url), "https://" HOST ":%d/echo", port);
      ck_assert_int_eq(sdc_pool_request(p, t, &req, &r), SDC_ETLS);
      ck_assert_msg(strstr(sdc_pool_errmsg(p), want) != NULL, "fresh: want '%s' in '%s'",
                    want, sdc_pool_errmsg(p));
    }
    sdc_pool_free(p);
  }
  sdc_target_free(t);
}

START_TEST(each_tls_failure_is_distinct_and_clear)
{
  const char *mtls[] = {"--client-ca", in_dir("ca.pem"), NULL};
  const char *old_tls[] = {"--max-tls", "1.1", NULL};

  expect_tls_failure("server", NULL, "other", 0, "is not signed by a trusted CA",
                     SDC_FAIL_TLS_VERIFY);
  expect_tls_failure("wrong", NULL, "ca", 0, "does not name " HOST, SDC_FAIL_TLS_HOSTNAME);
  expect_tls_failure("expired", NULL, "ca", 0, "has expired", SDC_FAIL_TLS_EXPIRED);
  expect_tls_failure("server", mtls, "ca", 0, "requires a client certificate",
                     SDC_FAIL_TLS_CLIENT_CERT);
  /* a certificate from a CA the server does not trust: refused too */
  {
    const char *mtls_other[] = {"--client-ca", in_dir("other.pem"), NULL};
    expect_tls_failure("server", mtls_other, "ca", 1, "client certificate",
                       SDC_FAIL_TLS_CLIENT_CERT);
  }
  expect_tls_failure("server", old_tls, "ca", 0, "offers no TLS 1.2 or newer",
                     SDC_FAIL_TLS_VERSION);
}
END_TEST

START_TEST(mtls_with_client_certificate_and_encrypted_key)
{
  const char *mtls[] = {"--client-ca", in_dir("ca.pem"), NULL};
  int port = start_httpd("server", mtls);
  sdc_pool *p = NULL;
  sdc_target *t = target_at(port, "ca");
  sdc_http_response *r = NULL;

  with_client_cert(t, 1);
  ck_assert_int_eq(sdc_pool_new(&p, NULL), SDC_OK);
  ck_assert_msg(get(p, t, port, "/echo", &r) == SDC_OK, "%s", sdc_pool_errmsg(p));
  ck_assert_ptr_nonnull(strstr(r->body, "\"client_cn\":\"dialogflow-client\""));
  sdc_http_response_free(r);
  sdc_pool_free(p);
  sdc_target_free(t);
}
END_TEST

START_TEST(body_cap_aborts_a_large_response_and_the_pool_goes_on)
{
  int port = start_httpd("server", NULL);
  sdc_pool *p = NULL;
  sdc_target *t = target_at(port, "ca");
  sdc_http_response *r = NULL;

  for(int h2 = 1; h2 >= 0; h2--) { /* through libcurl, then our own HTTP/1.1 */
    p = pool_h2(h2);
    ck_assert_int_eq(get(p, t, port, "/big?bytes=10485760", &r), SDC_ETOOBIG);
    ck_assert_ptr_nonnull(strstr(sdc_pool_errmsg(p), "passed 65536 bytes"));
    ck_assert_int_eq(get(p, t, port, "/big?bytes=65536", &r), SDC_OK); /* at the cap */
    ck_assert_uint_eq(r->body_len, 65536);
    sdc_http_response_free(r);
    ck_assert_int_eq(get(p, t, port, "/echo", &r), SDC_OK);
    sdc_http_response_free(r);
    sdc_pool_free(p);
  }
  /* SDC_HTTP_TRUNCATE: cut at the cap and handed over, on both paths */
  for(int h2 = 1; h2 >= 0; h2--) {
    char url[128];
    sdc_http_request req = {.url = url, .timeout_ms = 10000, .flags = SDC_HTTP_TRUNCATE};
    p = pool_h2(h2);
    snprintf(url, sizeof(url), "https://" HOST ":%d/big?bytes=10485760", port);
    ck_assert_msg(sdc_pool_request(p, t, &req, &r) == SDC_OK, "%s", sdc_pool_errmsg(p));
    ck_assert_uint_eq(r->body_len, 65536);
    ck_assert_int_eq(r->truncated, 1);
    ck_assert_int_eq(r->status, 200);
    sdc_http_response_free(r);
    snprintf(url, sizeof(url), "https://" HOST ":%d/big?bytes=100", port);
    ck_assert_int_eq(sdc_pool_request(p, t, &req, &r), SDC_OK);
    ck_assert_int_eq(r->truncated, 0);
    sdc_http_response_free(r);
    sdc_pool_free(p);
  }
  sdc_target_free(t);
}
END_TEST

/* A target for https://HOST:url_port at 127.0.0.1:a then 127.0.0.1:b,
 * trusting the test CA. */
static sdc_target *two_endpoints(int url_port, int a, int b)
{
  const char *addrs[2] = {"127.0.0.1", "127.0.0.1"};
  int ports[2] = {a, b};
  sdc_target *t = NULL;
  size_t len;
  void *pem = slurp_file(in_dir("ca.pem"), &len);

  ck_assert_int_eq(sdc_target_new(&t, HOST, url_port, 1), SDC_OK);
  ck_assert_int_eq(sdc_target_set_addresses(t, addrs, ports, 2), SDC_OK);
  sdc_target_set_ca(t, pem, len);
  free(pem);
  return t;
}

START_TEST(failover_to_the_next_endpoint_when_one_is_down)
{
  int live = start_httpd("server", NULL), dead;
  sdc_pool *p = NULL;
  sdc_target *t = NULL;
  sdc_http_response *r = NULL;
  char want[64];

  dead = start_httpd(NULL, NULL); /* learn a port, then free it */
  tproc_stop(&servers[n_servers - 1], 5000);
  snprintf(want, sizeof(want), "127.0.0.1:%d", live);
  for(int h2 = 1; h2 >= 0; h2--) { /* through libcurl, then our own HTTP/1.1 */
    t = two_endpoints(live, dead, live);
    p = pool_h2(h2);
    for(int i = 0; i < 4; i++) { /* the first tries the dead one first */
      ck_assert_msg(get(p, t, live, "/echo", &r) == SDC_OK, "h2=%d: %s", h2,
                    sdc_pool_errmsg(p));
      ck_assert_str_eq(r->endpoint, want);
      sdc_http_response_free(r);
    }
    sdc_pool_free(p);
    sdc_target_free(t);
  }
  /* nothing left to fail over to: refused, told as such */
  p = pool_h2(0);
  t = target_at(dead, "ca");
  ck_assert_int_eq(kind_of(p, t, dead, "/echo"), SDC_FAIL_CONNECT_REFUSED);
  sdc_pool_free(p);
  sdc_target_free(t);
}
END_TEST

/* A retry keeps away from the endpoint that answered (Dialogflow's retry on
 * another endpoint), even with an idle connection to it in the pool. */
START_TEST(a_request_keeps_away_from_the_endpoint_it_is_told_to)
{
  int a = start_httpd("server", NULL), b = start_httpd("server", NULL);
  sdc_pool *p = pool_h2(0);
  sdc_target *t = two_endpoints(a, a, b);
  sdc_http_response *r = NULL;
  char url[256], first[96];
  sdc_http_request req = {0};

  snprintf(url, sizeof(url), "https://" HOST ":%d/echo", a);
  req.url = url;
  req.timeout_ms = 10000;
  for(int i = 0; i < 6; i++) { /* both endpoints' connections stay idle in the pool */
    ck_assert_int_eq(sdc_pool_request(p, t, &req, &r), SDC_OK);
    snprintf(first, sizeof(first), "%s", r->endpoint);
    sdc_http_response_free(r);
    req.avoid_endpoint = first;
    ck_assert_int_eq(sdc_pool_request(p, t, &req, &r), SDC_OK);
    ck_assert_msg(strcmp(r->endpoint, first), "went to %s again", first);
    sdc_http_response_free(r);
    req.avoid_endpoint = NULL;
  }
  sdc_pool_free(p);
  sdc_target_free(t);
}
END_TEST

START_TEST(re_resolve_when_every_endpoint_fails)
{
  int live = start_httpd("server", NULL), dead;
  const char *sd_argv[] = {tproc_sdconnect(), "sd-server", "--memory", "--listen",
                           "127.0.0.1:0", NULL};
  struct tproc *sd = &servers[n_servers++];
  sdc_resolver_opts *o = NULL;
  sdc_resolver *res = NULL;
  sdc_pool *p = NULL;
  sdc_target *t = NULL;
  sdc_http_response *r = NULL;
  char ep[64], err[256];
  const sdc_service *s = NULL;
  static const char svc_name[] = "projects/p/locations/l/namespaces/n/services/hook";
  static const char ep_name[] = "projects/p/locations/l/namespaces/n/services/hook/endpoints/a";

  dead = start_httpd(NULL, NULL);
  tproc_stop(&servers[n_servers - 1], 5000);
  memset(sd, 0, sizeof(*sd));
  ck_assert_int_eq(tproc_start(sd, sd_argv, true), 0);
  snprintf(ep, sizeof(ep), "127.0.0.1:%d", sd->port);
  sdc_resolver_opts_new(&o);
  sdc_resolver_opts_set_endpoint(o, ep);
  sdc_resolver_opts_set_plaintext(o, 1);
  sdc_resolver_opts_set_cache_ttl_ms(o, 3600000);
  ck_assert_int_eq(sdc_resolver_new(&res, o, err, sizeof(err)), SDC_OK);
  sdc_resolver_opts_free(o);
  ck_assert_int_eq(tsd_namespace(res, "projects/p/locations/l/namespaces/n"), 0);
  ck_assert_int_eq(tsd_service(res, svc_name), 0);
  ck_assert_int_eq(tsd_endpoint(res, ep_name, "127.0.0.1", dead), 0);
  snprintf(ep, sizeof(ep), "127.0.0.1:%d", live);
  for(int h2 = 1; h2 >= 0; h2--) { /* through libcurl, then our own HTTP/1.1 */
    /* the resolver caches the dead endpoint; then the directory moves it */
    ck_assert_int_eq(tsd_endpoint_port(res, ep_name, dead), 0);
    sdc_resolver_invalidate(res, svc_name);
    ck_assert_int_eq(sdc_resolve(res, svc_name, 0, NULL, &s, NULL), SDC_OK);
    sdc_service_release(s);
    ck_assert_int_eq(tsd_endpoint_port(res, ep_name, live), 0);

    ck_assert_int_eq(sdc_target_new(&t, HOST, live, 1), SDC_OK);
    ck_assert_int_eq(sdc_target_set_service(t, res, svc_name), SDC_OK);
    {
      size_t len;
      void *pem = slurp_file(in_dir("ca.pem"), &len);
      sdc_target_set_ca(t, pem, len);
      free(pem);
    }
    p = pool_h2(h2);
    ck_assert_msg(get(p, t, live, "/echo", &r) == SDC_OK, "h2=%d: %s", h2,
                  sdc_pool_errmsg(p));
    ck_assert_str_eq(r->endpoint, ep);
    sdc_http_response_free(r);
    sdc_pool_free(p);
    sdc_target_free(t);
  }
  sdc_resolver_free(res);
}
END_TEST

/* A pool that uses its own HTTP/1.1 connections from the first request. */
static sdc_pool *h1_pool(void) { return pool_h2(0); }

static sdc_status call(sdc_pool *p, sdc_target *t, int port, const char *method,
                       const char *path, const char *body, size_t body_len,
                       uint64_t timeout_ms, sdc_http_response **r)
{
  char url[256];
  sdc_http_request req = {.method = method, .url = url, .body = body,
                          .body_len = body_len, .timeout_ms = timeout_ms};

  snprintf(url, sizeof(url), "https://" HOST ":%d%s", port, path);
  return sdc_pool_request(p, t, &req, r);
}

START_TEST(http11_chunked_head_post_and_connection_close)
{
  int port = start_httpd("server", NULL);
  sdc_pool *p = h1_pool();
  sdc_target *t = target_at(port, "ca");
  sdc_http_response *r = NULL;
  size_t big = 300 * 1000; /* more than one socket buffer: partial writes */
  char *body = malloc(big), want[64];

  ck_assert_msg(get(p, t, port, "/chunked?parts=3", &r) == SDC_OK, "%s", sdc_pool_errmsg(p));
  ck_assert_int_eq(r->status, 200);
  ck_assert_str_eq(r->body, "part\npart\npart\n");
  ck_assert(!strncmp(r->headers, "HTTP/1.1 200 OK\r\n", 17));
  ck_assert_ptr_nonnull(strstr(r->headers, "Transfer-Encoding: chunked\r\n"));
  ck_assert(r->timings.connect_ms > 0 && r->timings.tls_ms >= r->timings.connect_ms);
  ck_assert(r->timings.first_byte_ms > 0 && r->timings.total_ms >= r->timings.first_byte_ms);
  ck_assert_int_eq(r->http_version, 11);
  ck_assert_str_eq(r->tls.version, "TLSv1.3");
  sdc_http_response_free(r);

  ck_assert_int_eq(call(p, t, port, "HEAD", "/echo", NULL, 0, 5000, &r), SDC_OK);
  ck_assert_int_eq(r->status, 200);
  ck_assert_uint_eq(r->body_len, 0);
  ck_assert_ptr_nonnull(strstr(r->headers, "Content-Length: "));
  ck_assert_int_eq(r->reused, 1);
  sdc_http_response_free(r);

  memset(body, 'b', big);
  ck_assert_int_eq(call(p, t, port, "POST", "/echo", body, big, 5000, &r), SDC_OK);
  snprintf(want, sizeof(want), "\"method\":\"POST\"");
  ck_assert_ptr_nonnull(strstr(r->body, want));
  snprintf(want, sizeof(want), "\"body_len\":%zu", big);
  ck_assert_msg(strstr(r->body, want) != NULL, "%s", r->body);
  ck_assert_int_eq(r->reused, 1); /* HEAD left the connection usable */
  sdc_http_response_free(r);

  ck_assert_int_eq(get(p, t, port, "/close", &r), SDC_OK);
  ck_assert_str_eq(r->body, "bye\n");
  sdc_http_response_free(r);
  ck_assert_int_eq(get(p, t, port, "/echo", &r), SDC_OK);
  ck_assert_int_eq(r->reused, 0); /* "Connection: close" was honoured */
  sdc_http_response_free(r);
  ck_assert_uint_eq(sdc_pool_connections_opened(p), 2);
  free(body);
  sdc_pool_free(p);
  sdc_target_free(t);
}
END_TEST

START_TEST(a_pooled_connection_found_dead_is_replaced_without_failing)
{
  int port = start_httpd("server", NULL);
  sdc_pool *p = h1_pool();
  sdc_target *t = target_at(port, "ca");
  sdc_http_response *r = NULL;
  const char *methods[] = {"GET", "POST"};

  for(int i = 0; i < 2; i++) {
    ck_assert_int_eq(get(p, t, port, "/drop-after", &r), SDC_OK);
    sdc_http_response_free(r);
    tproc_sleep_ms(100); /* the server has closed it by now */
    ck_assert_msg(call(p, t, port, methods[i], "/echo", "x", 1, 5000, &r) == SDC_OK,
                  "%s", sdc_pool_errmsg(p));
    ck_assert_int_eq(r->status, 200);
    ck_assert_int_eq(r->reused, 0);
    sdc_http_response_free(r);
  }
  ck_assert_uint_eq(sdc_pool_connections_opened(p), 3); /* the 2nd carried /drop-after */
  sdc_pool_free(p);
  sdc_target_free(t);
}
END_TEST

START_TEST(no_answer_and_slow_answers_fail_clearly_and_the_pool_goes_on)
{
  int port = start_httpd("server", NULL);
  sdc_pool *p = h1_pool();
  sdc_target *t = target_at(port, "ca");
  sdc_http_response *r = NULL;

  ck_assert_int_eq(kind_of(p, t, port, "/hangup"), SDC_FAIL_PROTOCOL);
  ck_assert_int_eq(kind_of(p, t, port, "/big?bytes=100000"), SDC_FAIL_TOO_BIG);
  ck_assert_int_eq(kind_of(p, t, port, "/echo"), SDC_FAIL_NONE);
  ck_assert_int_eq(get(p, t, port, "/hangup", &r), SDC_EUNAVAILABLE);
  ck_assert_msg(strstr(sdc_pool_errmsg(p), "closed the connection without answering"),
                "%s", sdc_pool_errmsg(p));
  ck_assert_int_eq(call(p, t, port, "GET", "/slow?ms=3000", NULL, 0, 300, &r),
                   SDC_ETIMEDOUT);
  ck_assert_msg(strstr(sdc_pool_errmsg(p), "timed out"), "%s", sdc_pool_errmsg(p));
  ck_assert_int_eq(get(p, t, port, "/echo", &r), SDC_OK);
  ck_assert_int_eq(r->status, 200);
  sdc_http_response_free(r);
  sdc_pool_free(p);
  sdc_target_free(t);
}
END_TEST

START_TEST(http2_allowed_pool_learns_an_http11_server_once)
{
  int port = start_httpd("server", NULL);
  sdc_pool *p = NULL;
  sdc_target *t = target_at(port, "ca");
  sdc_http_response *r = NULL;

  ck_assert_int_eq(sdc_pool_new(&p, NULL), SDC_OK); /* HTTP/2 allowed */
  for(int i = 0; i < 6; i++) {
    ck_assert_int_eq(get(p, t, port, "/echo", &r), SDC_OK);
    ck_assert_int_eq(r->http_version, 11);
    ck_assert(!strncmp(r->headers, "HTTP/1.1 200", 12));
    /* 1st through libcurl (offering h2), then our own connection */
    ck_assert_int_eq(r->reused, i >= 2);
    sdc_http_response_free(r);
  }
  ck_assert_uint_eq(sdc_pool_connections_opened(p), 2);
  sdc_pool_free(p);
  sdc_target_free(t);
}
END_TEST

START_TEST(idle_and_age_limits_close_our_connections)
{
  int port = start_httpd("server", NULL);
  sdc_pool_opts *o = NULL;
  sdc_pool *p = NULL;
  sdc_target *t = target_at(port, "ca");
  sdc_http_response *r = NULL;
  int n = 0;

  sdc_pool_opts_new(&o);
  sdc_pool_opts_set_http2(o, 0);
  ck_assert_int_eq(sdc_pool_opts_set_idle_timeout_ms(o, 1000), SDC_OK);
  ck_assert_int_eq(sdc_pool_new(&p, o), SDC_OK);
  ck_assert_int_eq(get(p, t, port, "/echo", &r), SDC_OK);
  sdc_http_response_free(r);
  ck_assert_int_eq(get(p, t, port, "/echo", &r), SDC_OK);
  ck_assert_int_eq(r->reused, 1); /* within the idle timeout */
  sdc_http_response_free(r);
  tproc_sleep_ms(1200);
  ck_assert_int_eq(get(p, t, port, "/echo", &r), SDC_OK);
  ck_assert_int_eq(r->reused, 0); /* idle too long: a new connection */
  sdc_http_response_free(r);
  ck_assert_uint_eq(sdc_pool_connections_opened(p), 2);
  sdc_pool_free(p);

  ck_assert_int_eq(sdc_pool_opts_set_idle_timeout_ms(o, 60000), SDC_OK);
  ck_assert_int_eq(sdc_pool_opts_set_max_age_ms(o, 1000), SDC_OK);
  ck_assert_int_eq(sdc_pool_new(&p, o), SDC_OK);
  for(; n < 16; n++) { /* busy all along, 1.6 s: the age limit still holds */
    ck_assert_int_eq(get(p, t, port, "/echo", &r), SDC_OK);
    sdc_http_response_free(r);
    tproc_sleep_ms(100);
  }
  /* at least one connection aged out; each still carried several requests */
  ck_assert_uint_ge(sdc_pool_connections_opened(p), 2);
  ck_assert_uint_lt(sdc_pool_connections_opened(p), 16);
  sdc_pool_free(p);
  sdc_pool_opts_free(o);
  sdc_target_free(t);
}
END_TEST

START_TEST(a_burst_of_first_requests_learns_the_protocol_once)
{
  int port = start_httpd("server", NULL);
  sdc_pool_opts *o = NULL;
  sdc_pool *p = NULL;
  sdc_target *t = target_at(port, "ca");
  sdc_http_response *r = NULL;

  sdc_pool_opts_new(&o);
  sdc_pool_opts_set_max_conns_per_target(o, 4); /* HTTP/2 allowed */
  ck_assert_int_eq(sdc_pool_new(&p, o), SDC_OK);
  burst_of_40(p, t, port); /* all before the first answer */
  /* one connection learnt HTTP/1.1 and closed; then at most 4 of ours */
  ck_assert_uint_le(sdc_pool_connections_opened(p), 5);
  ck_assert_int_eq(get(p, t, port, "/stats", &r), SDC_OK);
  ck_assert_int_le(atoi(strchr(r->body, ':') + 1), 5);
  sdc_http_response_free(r);
  sdc_pool_free(p);
  sdc_pool_opts_free(o);
  sdc_target_free(t);
}
END_TEST

START_TEST(bad_requests_are_refused_before_any_traffic)
{
  sdc_pool *p = NULL;
  sdc_target *t = target_at(1, "ca");
  sdc_http_response *r = NULL;
  sdc_http_request req = {.url = "https://elsewhere.internal:1/"};
  const char *bad_hdr[] = {"X-A: b\r\nX-Injected: 1", NULL};

  ck_assert_int_eq(sdc_pool_new(&p, NULL), SDC_OK);
  ck_assert_int_eq(sdc_pool_request(p, t, &req, &r), SDC_EINVAL);
  ck_assert_ptr_nonnull(strstr(sdc_pool_errmsg(p), "https://" HOST ":1/"));
  req.url = "https://" HOST ":1/";
  req.headers = bad_hdr;
  ck_assert_int_eq(sdc_pool_request(p, t, &req, &r), SDC_EINVAL);
  ck_assert_ptr_nonnull(strstr(sdc_pool_errmsg(p), "line break"));
  {
    const char *own[] = {"Content-Length: 3", NULL};
    req.headers = own;
    ck_assert_int_eq(sdc_pool_request(p, t, &req, &r), SDC_EINVAL);
    ck_assert_ptr_nonnull(strstr(sdc_pool_errmsg(p), "set by the pool"));
    req.headers = NULL;
    req.method = "GET / HTTP/1.1\r\nX-Injected:";
    ck_assert_int_eq(sdc_pool_request(p, t, &req, &r), SDC_EINVAL);
    ck_assert_ptr_nonnull(strstr(sdc_pool_errmsg(p), "not an HTTP token"));
    req.method = NULL;
    req.url = "https://" HOST ":1/a b";
    ck_assert_int_eq(sdc_pool_request(p, t, &req, &r), SDC_EINVAL);
    ck_assert_ptr_nonnull(strstr(sdc_pool_errmsg(p), "space"));
  }
  ck_assert_int_eq(sdc_target_new(&t, "bad host", 443, 1), SDC_EINVAL);
  sdc_pool_free(p);
  sdc_target_free(t);
}
END_TEST

START_TEST(cli_fetch_verbose_and_load_check)
{
  int port = start_httpd("server", NULL);
  struct tproc c = {0};
  char url[128], to[64];

  snprintf(url, sizeof(url), "https://" HOST ":%d/echo", port);
  snprintf(to, sizeof(to), "127.0.0.1:%d", port);
  ck_assert_int_eq(tproc_tmpdir(c.dir), 0);
  {
    const char *argv[] = {tproc_sdconnect(), "fetch", url, "--connect-to", to, "--ca",
                          in_dir("ca.pem"), "-v", "-H", "X-Test: 1", NULL};
    ck_assert_int_eq(tproc_run(&c, argv), 0);
    ck_assert(tproc_log_has(&c, "\"sni\":\"" HOST "\""));
    ck_assert(tproc_log_has(&c, "* endpoint 127.0.0.1:"));
    ck_assert(tproc_log_has(&c, "certificate verified"));
    ck_assert(tproc_log_has(&c, "* timing: connect"));
  }
  unlink(c.log);
  { /* --json: the answer and how it came as one object */
    const char *argv[] = {tproc_sdconnect(), "fetch", url, "--connect-to", to, "--ca",
                          in_dir("ca.pem"), "--json", NULL};
    FILE *f;
    char all[8192];
    size_t n;
    ck_assert_int_eq(tproc_run(&c, argv), 0);
    f = fopen(c.log, "r");
    n = fread(all, 1, sizeof(all) - 1, f);
    fclose(f);
    all[n] = '\0';
    ck_assert_msg(strstr(all, "\"status\": 200") && strstr(all, "\"verified\": true") &&
                  strstr(all, "\"body\": \"{\\\"method\\\":\\\"GET\\\""), "%s", all);
  }
  unlink(c.log);
  if(v6_loopback()) { /* an IPv6 URL and address, TLS named by the URL's host */
    static const char *const v6[] = {"--listen", "::1", NULL};
    int p6 = start_httpd("server", v6);
    char u6[128], to6[64];
    snprintf(u6, sizeof(u6), "https://" HOST ":%d/echo", p6);
    snprintf(to6, sizeof(to6), "[::1]:%d", p6);
    const char *argv[] = {tproc_sdconnect(), "fetch", u6, "--connect-to", to6, "--ca",
                          in_dir("ca.pem"), "-v", NULL};
    ck_assert_int_eq(tproc_run(&c, argv), 0);
    ck_assert_msg(tproc_log_has(&c, "* endpoint [::1]:") || tproc_log_has(&c, "* endpoint ::1"),
                  "%s", c.log);
    unlink(c.log);
    /* the URL's host an IPv6 literal: no SNI (RFC 6066), Host in brackets */
    snprintf(u6, sizeof(u6), "https://[::1]:%d/echo", p6);
    argv[2] = u6;
    argv[5] = "--no-verify"; /* the test certificate names HOST, not ::1 */
    argv[6] = NULL;
    ck_assert_int_eq(tproc_run(&c, argv), 0);
    ck_assert_msg(tproc_log_has(&c, "\"sni\":\"\"") && tproc_log_has(&c, "\"host\":\"[::1]:"),
                  "%s", c.log);
    unlink(c.log);
  }
  { /* an answer of 500 or 404 is printed, and the fetch failed: exit 3 */
    char bad[128];
    snprintf(bad, sizeof(bad), "https://" HOST ":%d/status/503", port);
    const char *argv[] = {tproc_sdconnect(), "fetch", bad, "--connect-to", to, "--ca",
                          in_dir("ca.pem"), NULL};
    ck_assert_int_eq(tproc_run(&c, argv), 3);
    ck_assert_msg(tproc_log_has(&c, "/status/503 answered HTTP 503"), "%s", c.log);
    unlink(c.log);
    snprintf(bad, sizeof(bad), "https://" HOST ":%d/status/404", port);
    argv[2] = bad;
    ck_assert_int_eq(tproc_run(&c, argv), 3);
  }
  unlink(c.log);
  { /* a name flag with nothing to complete is refused, not ignored */
    const char *argv[] = {tproc_sdconnect(), "fetch", url, "--connect-to", to, "--project", "p",
                          NULL};
    ck_assert_int_eq(tproc_run(&c, argv), 2);
    ck_assert(tproc_log_has(&c, "complete a short --service name; there is no --service"));
  }
  unlink(c.log);
  {
    const char *argv[] = {tproc_sdconnect(), "fetch", url, "--connect-to", to, "--ca",
                          in_dir("ca.pem"), "--repeat", "200", "--parallel", "4", "--json",
                          NULL};
    ck_assert_int_eq(tproc_run(&c, argv), 0);
    ck_assert(tproc_log_has(&c, "\"requests\": 200"));
    ck_assert(tproc_log_has(&c, "\"failed\": 0"));
    ck_assert(tproc_log_has(&c, "\"connections_opened\""));
  }
  unlink(c.log);
  {
    const char *argv[] = {tproc_sdconnect(), "fetch", url, "--connect-to", to, NULL};
    /* the system store does not know our CA, or there is no system store
     * at all (a minimal machine without ca-certificates) */
    ck_assert_int_eq(tproc_run(&c, argv), 1);
    ck_assert(tproc_log_has(&c, "not signed by a trusted CA") ||
              tproc_log_has(&c, "no CA certificates to verify " HOST));
  }
  unlink(c.log);
  {
    const char *argv[] = {tproc_sdconnect(), "fetch", url, NULL};
    ck_assert_int_eq(tproc_run(&c, argv), 2);
    ck_assert(tproc_log_has(&c, "either --service NAME or --connect-to"));
  }
  unlink(c.log);
  { /* a size with a unit is not silently read as its digits */
    const char *argv[] = {tproc_sdconnect(), "fetch", url, "--connect-to", to,
                          "--max-body", "64k", NULL};
    ck_assert_int_eq(tproc_run(&c, argv), 2);
    ck_assert(tproc_log_has(&c, "--max-body: '64k' is not a size"));
  }
  tproc_rmdir(c.dir);
}
END_TEST


/* ---- the pool on an event loop ------------------------------------------ */
/* A completion recorded in order: which request, with what status. */
struct seen {
  int order[8];
  sdc_status st[8];
  char msg[8][300];
  sdc_fail_kind kind[8];
  sdc_pool *pool; /* to read the kind from */
  int n;
};

struct tag {
  struct seen *seen;
  int id;
};

static void record(sdc_status st, sdc_http_response *r, const char *err, void *ud)
{
  struct tag *g = ud;
  struct seen *s = g->seen;

  s->order[s->n] = g->id;
  s->st[s->n] = st;
  snprintf(s->msg[s->n], sizeof(s->msg[0]), "%s", err);
  s->kind[s->n] = s->pool ? sdc_pool_fail_kind(s->pool) : SDC_FAIL_NONE;
  s->n++;
  sdc_http_response_free(r);
}

/* A loopback listener that completes TCP handshakes (the kernel's backlog)
 * and never says a word: a directory that hangs. */
static int silent_listener(int *fd_out)
{
  struct sockaddr_in a = {.sin_family = AF_INET};
  socklen_t len = sizeof(a);
  int fd = socket(AF_INET, SOCK_STREAM, 0);

  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
  ck_assert_int_eq(listen(fd, 16), 0);
  ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  *fd_out = fd;
  return ntohs(a.sin_port);
}

/* A resolver for 127.0.0.1:port; `attempts` 1 for a directory that hangs,
 * more for one just started (its first call may find it not ready). */
static sdc_resolver *resolver_at(int port, uint64_t timeout_ms, unsigned attempts)
{
  sdc_resolver_opts *o = NULL;
  sdc_resolver *res = NULL;
  char ep[64], err[256];

  snprintf(ep, sizeof(ep), "127.0.0.1:%d", port);
  sdc_resolver_opts_new(&o);
  sdc_resolver_opts_set_endpoint(o, ep);
  sdc_resolver_opts_set_plaintext(o, 1);
  sdc_resolver_opts_set_timeout_ms(o, timeout_ms);
  sdc_resolver_opts_set_max_attempts(o, attempts);
  ck_assert_int_eq(sdc_resolver_new(&res, o, err, sizeof(err)), SDC_OK);
  sdc_resolver_opts_free(o);
  return res;
}

#define HUNG_SVC "projects/p/locations/l/namespaces/n/services/hook"

/* Before the fix, submit asked the directory itself and blocked until the
 * resolver's deadline, then returned its error. */
START_TEST(submit_never_blocks_on_the_directory)
{
  int lfd, sd_port = silent_listener(&lfd), port = start_httpd("server", NULL);
  sdc_resolver *res = resolver_at(sd_port, 1500, 1);
  sdc_target *t = NULL;
  struct seen seen = {0};
  struct tag quick = {&seen, 1}, patient = {&seen, 2};
  char url[128];
  sdc_http_request req = {.url = url, .timeout_ms = 300};

  snprintf(url, sizeof(url), "https://" HOST ":%d/echo", port);
  ck_assert_int_eq(sdc_target_new(&t, HOST, port, 1), SDC_OK);
  ck_assert_int_eq(sdc_target_set_service(t, res, HUNG_SVC), SDC_OK);
  for(int h2 = 1; h2 >= 0; h2--) {
    sdc_pool *p = pool_h2(h2);
    memset(&seen, 0, sizeof(seen));
    sdc_resolver_invalidate(res, HUNG_SVC);
    req.timeout_ms = 300;
    ck_assert_int_eq(sdc_pool_submit(p, t, &req, record, &quick), SDC_OK);
    req.timeout_ms = 10000;
    ck_assert_int_eq(sdc_pool_submit(p, t, &req, record, &patient), SDC_OK);
    ck_assert_int_eq(seen.n, 0); /* nothing ran inside submit */
    ck_assert_int_eq(sdc_pool_perform(p, 20000), SDC_OK);
    ck_assert_int_eq(seen.n, 2);
    /* the short deadline counted while the directory was asked */
    ck_assert_int_eq(seen.order[0], 1);
    ck_assert_int_eq(seen.st[0], SDC_ETIMEDOUT);
    ck_assert_msg(strstr(seen.msg[0], "directory was asked"), "%s", seen.msg[0]);
    /* the other got the directory's own failure */
    ck_assert_int_eq(seen.order[1], 2);
    ck_assert_msg(seen.st[1] == SDC_ETIMEDOUT || seen.st[1] == SDC_EUNAVAILABLE,
                  "h2=%d: %d %s", h2, seen.st[1], seen.msg[1]);
    ck_assert_msg(strstr(seen.msg[1], HUNG_SVC), "%s", seen.msg[1]);
    sdc_pool_free(p);
  }
  sdc_target_free(t);
  sdc_resolver_free(res);
  close(lfd);
}
END_TEST

/* The directory answers asynchronously: a cold cache, a missing service
 * (its NOT_FOUND then remembered), and a pool freed with a question out. */
START_TEST(directory_answers_reach_waiting_requests)
{
  int port = start_httpd("server", NULL);
  const char *sd_argv[] = {tproc_sdconnect(), "sd-server", "--memory", "--listen",
                           "127.0.0.1:0", NULL};
  struct tproc *sd = &servers[n_servers++];
  sdc_resolver *res;
  sdc_pool *p;
  sdc_target *t = NULL, *gone = NULL;
  struct seen seen = {0};
  struct tag a = {&seen, 1}, b = {&seen, 2};
  char url[128];
  sdc_http_request req = {.url = url, .timeout_ms = 10000};

  memset(sd, 0, sizeof(*sd));
  ck_assert_int_eq(tproc_start(sd, sd_argv, true), 0);
  res = resolver_at(sd->port, 5000, 4);
  ck_assert_int_eq(tsd_namespace(res, "projects/p/locations/l/namespaces/n"), 0);
  ck_assert_int_eq(tsd_service(res, HUNG_SVC), 0);
  ck_assert_int_eq(tsd_endpoint(res, HUNG_SVC "/endpoints/a", "127.0.0.1", port), 0);
  snprintf(url, sizeof(url), "https://" HOST ":%d/echo", port);
  ck_assert_int_eq(sdc_target_new(&t, HOST, port, 1), SDC_OK);
  ck_assert_int_eq(sdc_target_set_service(t, res, HUNG_SVC), SDC_OK);
  {
    size_t len;
    void *pem = slurp_file(in_dir("ca.pem"), &len);
    sdc_target_set_ca(t, pem, len);
    free(pem);
  }
  p = pool_h2(0);
  ck_assert_int_eq(sdc_pool_submit(p, t, &req, record, &a), SDC_OK);
  ck_assert_int_eq(sdc_pool_submit(p, t, &req, record, &b), SDC_OK);
  ck_assert_int_eq(sdc_pool_perform(p, 20000), SDC_OK);
  ck_assert_int_eq(seen.n, 2);
  ck_assert_msg(seen.st[0] == SDC_OK && seen.st[1] == SDC_OK, "%s", seen.msg[0]);

  ck_assert_int_eq(sdc_target_new(&gone, HOST, port, 1), SDC_OK);
  ck_assert_int_eq(sdc_target_set_service(gone, res, HUNG_SVC "-gone"), SDC_OK);
  memset(&seen, 0, sizeof(seen));
  seen.pool = p;
  ck_assert_int_eq(sdc_pool_submit(p, gone, &req, record, &a), SDC_OK);
  ck_assert_int_eq(sdc_pool_perform(p, 20000), SDC_OK);
  ck_assert_int_eq(seen.n, 1);
  ck_assert_int_eq(seen.st[0], SDC_ENOTFOUND);
  ck_assert_msg(strstr(seen.msg[0], "-gone"), "%s", seen.msg[0]);
  ck_assert_int_eq(seen.kind[0], SDC_FAIL_DIRECTORY);
  /* remembered: refused at once, without asking */
  ck_assert_int_eq(sdc_pool_submit(p, gone, &req, record, &a), SDC_ENOTFOUND);
  sdc_pool_free(p);

  /* a pool freed while its question is out: the late answer is dropped */
  p = pool_h2(0);
  sdc_resolver_invalidate(res, HUNG_SVC);
  memset(&seen, 0, sizeof(seen));
  ck_assert_int_eq(sdc_pool_submit(p, t, &req, record, &a), SDC_OK);
  sdc_pool_free(p);
  ck_assert_int_eq(seen.n, 1);
  ck_assert_int_eq(seen.st[0], SDC_EUNAVAILABLE);
  sdc_resolver_free(res); /* waits for the answer, which finds no pool */
  sdc_target_free(t);
  sdc_target_free(gone);
}
END_TEST

/* Before the fix, a request held while another learnt the target's
 * protocol waited for the learner, whatever its own deadline; and the
 * backstop of sdc_pool_request returned while it still pointed at the
 * caller's stack. */
START_TEST(held_requests_expire_by_their_own_deadline)
{
  int port = start_httpd("server", NULL);
  sdc_pool *p = pool_h2(1);
  sdc_target *t = target_at(port, "ca");
  struct seen seen = {0};
  struct tag learner = {&seen, 1}, waiter = {&seen, 2};
  char slow[128], echo[128];
  sdc_http_request lreq = {.url = slow, .timeout_ms = 10000};
  sdc_http_request wreq = {.url = echo, .timeout_ms = 300};
  sdc_http_response *r = NULL;

  snprintf(slow, sizeof(slow), "https://" HOST ":%d/slow?ms=2500", port);
  snprintf(echo, sizeof(echo), "https://" HOST ":%d/echo", port);
  ck_assert_int_eq(sdc_pool_submit(p, t, &lreq, record, &learner), SDC_OK);
  ck_assert_int_eq(sdc_pool_submit(p, t, &wreq, record, &waiter), SDC_OK);
  ck_assert_int_eq(sdc_pool_perform(p, 20000), SDC_OK);
  ck_assert_int_eq(seen.n, 2);
  ck_assert_int_eq(seen.order[0], 2); /* long before the learner's answer */
  ck_assert_int_eq(seen.st[0], SDC_ETIMEDOUT);
  ck_assert_msg(strstr(seen.msg[0], "protocol was being learnt"), "%s", seen.msg[0]);
  ck_assert_int_eq(seen.st[1], SDC_OK);
  sdc_pool_free(p);

  /* the blocking call, held behind a learner: its own deadline, then the
   * pool goes on and is freed without calling into a dead frame */
  p = pool_h2(1);
  memset(&seen, 0, sizeof(seen));
  ck_assert_int_eq(sdc_pool_submit(p, t, &lreq, record, &learner), SDC_OK);
  ck_assert_int_eq(call(p, t, port, "GET", "/echo", NULL, 0, 300, &r), SDC_ETIMEDOUT);
  ck_assert_msg(strstr(sdc_pool_errmsg(p), "protocol was being learnt"), "%s",
                sdc_pool_errmsg(p));
  ck_assert_int_eq(seen.n, 0); /* the learner is still on its way */
  sdc_pool_free(p);
  ck_assert_int_eq(seen.n, 1);
  ck_assert_int_eq(seen.st[0], SDC_EUNAVAILABLE);
  sdc_target_free(t);
}
END_TEST

/* echo's "conn" field: the server's number for the connection used. */
static int echo_conn(const sdc_http_response *r)
{
  const char *c = strstr(r->body, "\"conn\":");
  ck_assert_ptr_nonnull(c);
  return atoi(c + 7);
}

START_TEST(a_fresh_connection_is_neither_taken_nor_kept)
{
  int port = start_httpd("server", NULL);
  sdc_target *t = target_at(port, "ca");
  char url[128];
  sdc_http_request req = {.url = url, .timeout_ms = 10000};
  sdc_http_request fresh = {.url = url, .timeout_ms = 10000,
                            .flags = SDC_HTTP_FRESH_CONN};
  sdc_http_response *r = NULL;

  snprintf(url, sizeof(url), "https://" HOST ":%d/echo", port);
  for(int h2 = 1; h2 >= 0; h2--) { /* the first one through libcurl, then ours */
    sdc_pool *p = pool_h2(h2);
    int pooled;
    ck_assert_int_eq(sdc_pool_request(p, t, &fresh, &r), SDC_OK);
    ck_assert_int_eq(r->reused, 0);
    ck_assert_double_gt(r->timings.tls_ms, 0);
    sdc_http_response_free(r);
    if(h2) { /* the first pooled request learns the protocol (and closes) */
      ck_assert_int_eq(sdc_pool_request(p, t, &req, &r), SDC_OK);
      sdc_http_response_free(r);
    }
    ck_assert_int_eq(sdc_pool_request(p, t, &req, &r), SDC_OK);
    pooled = echo_conn(r);
    sdc_http_response_free(r);
    ck_assert_int_eq(sdc_pool_request(p, t, &req, &r), SDC_OK);
    ck_assert_int_eq(echo_conn(r), pooled);
    sdc_http_response_free(r);
    for(int i = 0; i < 3; i++) { /* each a connection of its own */
      ck_assert_int_eq(sdc_pool_request(p, t, &fresh, &r), SDC_OK);
      ck_assert_int_ne(echo_conn(r), pooled);
      ck_assert_int_eq(r->reused, 0);
      ck_assert_double_gt(r->timings.connect_ms, 0);
      sdc_http_response_free(r);
    }
    ck_assert_int_eq(sdc_pool_request(p, t, &req, &r), SDC_OK);
    ck_assert_int_eq(echo_conn(r), pooled); /* the pooled one is still there */
    ck_assert_int_eq(r->reused, 1);
    sdc_http_response_free(r);
    /* 4 fresh (dialed by the pool, HTTP/1.1), 1 pooled, and with HTTP/2
     * allowed the one that learnt the protocol */
    ck_assert_uint_eq(sdc_pool_connections_opened(p), h2 ? 6 : 5);
    sdc_pool_free(p);
  }
  sdc_target_free(t);
}
END_TEST

/* A callback may forget its own target and free it; the pool's other
 * requests for it are cancelled, and the pool goes on. */
struct forget_box {
  sdc_pool *p;
  sdc_target *t;
  int calls, cancelled;
};

static void forget_in_cb(sdc_status st, sdc_http_response *r, const char *err, void *ud)
{
  struct forget_box *b = ud;

  (void)err;
  b->calls++;
  if(st == SDC_EUNAVAILABLE && sdc_pool_fail_kind(b->p) == SDC_FAIL_CANCELLED)
    b->cancelled++;
  sdc_http_response_free(r);
  if(b->t) {
    sdc_target *t = b->t;
    b->t = NULL;
    sdc_pool_forget_target(b->p, t);
    sdc_target_free(t);
  }
}

START_TEST(a_target_can_be_forgotten_and_freed_from_its_callback)
{
  int port = start_httpd("server", NULL);
  char fast[128], slow[128];

  snprintf(fast, sizeof(fast), "https://" HOST ":%d/echo", port);
  snprintf(slow, sizeof(slow), "https://" HOST ":%d/slow?ms=2000", port);
  for(int h2 = 1; h2 >= 0; h2--) {
    struct forget_box b = {pool_h2(h2), target_at(port, "ca"), 0, 0};
    sdc_http_request f = {.url = fast, .timeout_ms = 10000};
    sdc_http_request s = {.url = slow, .timeout_ms = 10000};
    sdc_http_response *r = NULL;
    sdc_target *other = target_at(port, "ca");
    ck_assert_int_eq(sdc_pool_submit(b.p, b.t, &f, forget_in_cb, &b), SDC_OK);
    ck_assert_int_eq(sdc_pool_submit(b.p, b.t, &s, forget_in_cb, &b), SDC_OK);
    ck_assert_int_eq(sdc_pool_perform(b.p, 20000), SDC_OK);
    ck_assert_int_eq(b.calls, 2);
    ck_assert_int_eq(b.cancelled, 1); /* the slow one, when the target went */
    ck_assert_int_eq(get(b.p, other, port, "/echo", &r), SDC_OK); /* goes on */
    sdc_http_response_free(r);
    sdc_pool_free(b.p);
    sdc_target_free(other);
  }
}
END_TEST

/* A daemon's loop: descriptors it watches, posts from other threads. */
struct watch_box {
  sdc_pool *p;
  int calls, posts;
  bool unwatch;
};

static void on_fd(int fd, short revents, void *ud)
{
  struct watch_box *b = ud;
  char c;

  ck_assert(revents & POLLIN);
  b->calls++;
  if(b->unwatch)
    ck_assert_int_eq(sdc_pool_unwatch(b->p, fd), SDC_OK);
  else
    ck_assert_int_eq(read(fd, &c, 1), 1);
}

static void on_post(void *ud)
{
  ((struct watch_box *)ud)->posts++;
}

struct post_arg {
  sdc_pool_waker *w;
  struct watch_box *b;
  int queued;
};

static void *post_from_a_thread(void *arg)
{
  struct post_arg *a = arg;

  a->queued = sdc_pool_waker_post(a->w, on_post, a->b);
  return NULL;
}

START_TEST(a_turn_serves_watched_descriptors_and_posts)
{
  struct watch_box b = {pool_h2(0), 0, 0, false};
  sdc_pool_waker *w = NULL;
  int fds[2];
  pthread_t th;

  ck_assert_int_eq(pipe(fds), 0);
  ck_assert_int_eq(sdc_pool_watch(b.p, fds[0], POLLIN, on_fd, &b), SDC_OK);
  ck_assert_int_eq(write(fds[1], "ab", 2), 2);
  sdc_pool_turn(b.p, 10000); /* returns at once: the pipe is ready */
  ck_assert_int_eq(b.calls, 1);
  sdc_pool_turn(b.p, 10000);
  ck_assert_int_eq(b.calls, 2);
  b.unwatch = true;
  ck_assert_int_eq(write(fds[1], "c", 1), 1);
  sdc_pool_turn(b.p, 10000); /* unwatched from its own callback */
  sdc_pool_turn(b.p, 0);
  ck_assert_int_eq(b.calls, 3);
  ck_assert_int_eq(sdc_pool_unwatch(b.p, fds[0]), SDC_ENOTFOUND);
  /* a post from another thread ends a long wait and runs on the loop */
  ck_assert_int_eq(sdc_pool_waker_new(b.p, &w), SDC_OK);
  {
    struct post_arg a = {w, &b, 0};
    ck_assert_int_eq(pthread_create(&th, NULL, post_from_a_thread, &a), 0);
    for(int i = 0; i < 50 && !b.posts; i++) /* each wait ends at the post */
      sdc_pool_turn(b.p, 10000);
    pthread_join(th, NULL);
    ck_assert_int_eq(a.queued, 1);
  }
  ck_assert_int_eq(b.posts, 1);
  sdc_pool_waker_free(w);
  close(fds[0]);
  close(fds[1]);
  sdc_pool_free(b.p);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("pool");
  TCase *tc = tcase_create("tls");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, pinned_address_with_url_host_for_sni_host_and_verification);
  tcase_add_test(tc, connections_are_reused_and_limited);
  tcase_add_test(tc, parallel_requests_respect_the_connection_limit);
  tcase_add_test(tc, connections_close_after_their_request_limit);
  tcase_add_test(tc, each_tls_failure_is_distinct_and_clear);
  tcase_add_test(tc, mtls_with_client_certificate_and_encrypted_key);
  tcase_add_test(tc, body_cap_aborts_a_large_response_and_the_pool_goes_on);
  tcase_add_test(tc, failover_to_the_next_endpoint_when_one_is_down);
  tcase_add_test(tc, a_request_keeps_away_from_the_endpoint_it_is_told_to);
  tcase_add_test(tc, re_resolve_when_every_endpoint_fails);
  tcase_add_test(tc, http11_chunked_head_post_and_connection_close);
  tcase_add_test(tc, a_pooled_connection_found_dead_is_replaced_without_failing);
  tcase_add_test(tc, no_answer_and_slow_answers_fail_clearly_and_the_pool_goes_on);
  tcase_add_test(tc, http2_allowed_pool_learns_an_http11_server_once);
  tcase_add_test(tc, idle_and_age_limits_close_our_connections);
  tcase_add_test(tc, a_burst_of_first_requests_learns_the_protocol_once);
  tcase_add_test(tc, bad_requests_are_refused_before_any_traffic);
  tcase_add_test(tc, cli_fetch_verbose_and_load_check);
  suite_add_tcase(s, tc);
  tc = tcase_create("loop");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, submit_never_blocks_on_the_directory);
  tcase_add_test(tc, directory_answers_reach_waiting_requests);
  tcase_add_test(tc, held_requests_expire_by_their_own_deadline);
  tcase_add_test(tc, a_fresh_connection_is_neither_taken_nor_kept);
  tcase_add_test(tc, a_target_can_be_forgotten_and_freed_from_its_callback);
  tcase_add_test(tc, a_turn_serves_watched_descriptors_and_posts);
  suite_add_tcase(s, tc);
  return test_run_all(srunner_create(s));
}
