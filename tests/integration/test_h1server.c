/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration: the gateway's HTTP/1.1 server (src/daemon/h1server.c) on a
 * pool's loop in a thread of this test, reached on 127.0.0.1 by raw
 * sockets (what HTTP clients send: pipelining, chunked bodies, Expect:
 * 100-continue, malformed or oversize requests, callers that leave) and by
 * libcurl over TLS with a certificate made here (mTLS, a bearer token).
 */
#define _DEFAULT_SOURCE /* usleep */
#include "answer.h"
#include "certs.h"
#include "h1server.h"
#include "proc.h"
#include "run_all.h"

#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TOKEN "h1-test-token-0b7c"
#define MAX_BODY 4096

static char dir[64];
static sdc_pool *loop;
static struct h1server *srv;
static pthread_t loop_thread;
static atomic_bool stopping;
static atomic_int gone, refused_413, requests;
static struct h1client *held; /* /hold: answered never, to see the caller leave */

static void on_request(struct h1client *c, void *ud)
{
  char text[256];
  size_t len;
  const char *body = h1client_body(c, &len);
  int n;

  (void)ud;
  atomic_fetch_add(&requests, 1);
  if(!strcmp(h1client_target(c), "/hold")) {
    held = c;
    return;
  }
  n = snprintf(text, sizeof(text), "{\"method\":\"%s\",\"target\":\"%s\",\"body_len\":%zu,"
               "\"first\":\"%c\"}", h1client_method(c), h1client_target(c), len,
               len ? body[0] : '-');
  h1server_reply(c, 200, "application/json", text, (size_t)n);
}

static void on_refused(struct h1client *c, unsigned status, const char *reason,
                       const char *message, void *ud)
{
  char text[300];
  int n = snprintf(text, sizeof(text), "%s: %s", reason, message);

  (void)ud;
  if(status == 413)
    atomic_fetch_add(&refused_413, 1);
  h1server_reply(c, status, "text/plain", text, (size_t)n);
}

static void on_gone(struct h1client *c, void *ud)
{
  (void)ud;
  if(c == held)
    held = NULL;
  atomic_fetch_add(&gone, 1);
}

static void *run_loop(void *arg)
{
  (void)arg;
  while(!atomic_load(&stopping)) { /* bounded by the test's stop */
    uint64_t wait = h1server_timeout_ms(srv);
    sdc_pool_turn(loop, wait < 50 ? wait : 50);
    if(!h1server_timeout_ms(srv))
      h1server_run(srv);
  }
  return NULL;
}

static int start(const struct listen_opts *o, uint64_t idle_ms)
{
  static const struct h1server_hooks hooks = {on_request, on_refused, on_gone};
  char err[300];
  int port = 0;

  ck_assert_int_eq(sdc_pool_new(&loop, NULL), SDC_OK);
  ck_assert_msg(h1server_start(&srv, loop, o, "test server", &hooks, NULL, MAX_BODY, &port,
                               err, sizeof(err)) == 0, "%s", err);
  if(idle_ms)
    h1server_set_idle_ms(srv, idle_ms);
  atomic_store(&stopping, false);
  ck_assert_int_eq(pthread_create(&loop_thread, NULL, run_loop, NULL), 0);
  return port;
}

static void setup(void)
{
  ck_assert_int_eq(sdc_global_init(NULL), SDC_OK);
  ck_assert_int_eq(tproc_tmpdir(dir), 0);
  atomic_store(&gone, 0);
  atomic_store(&refused_413, 0);
  atomic_store(&requests, 0);
  held = NULL;
}

static void teardown(void)
{
  atomic_store(&stopping, true);
  pthread_join(loop_thread, NULL);
  h1server_stop(srv);
  sdc_pool_free(loop);
  srv = NULL;
  loop = NULL;
  tproc_rmdir(dir);
  sdc_global_cleanup();
}

static int dial(int port)
{
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  int fd = socket(AF_INET, SOCK_STREAM, 0);

  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
  return fd;
}

static void send_all(int fd, const char *s)
{
  size_t len = strlen(s);

  ck_assert_int_eq(send(fd, s, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Whole answers in `buf` so far (status line, head, Content-Length body). */
static int answers_in(const char *buf)
{
  int n = 0;

  for(const char *p = buf; (p = strstr(p, "HTTP/1.1 ")); n++) {
    const char *end = strstr(p, "\r\n\r\n"), *cl = strstr(p, "Content-Length: ");
    if(!end)
      return n;
    if(!strncmp(p, "HTTP/1.1 100 ", 13)) { /* interim: not an answer */
      n--;
      p = end + 4;
      continue;
    }
    if(!cl || cl > end)
      return n;
    if(strlen(end + 4) < strtoul(cl + 16, NULL, 10))
      return n;
    p = end + 4 + strtoul(cl + 16, NULL, 10);
  }
  return n;
}

/* Read until `want` answers are whole, the server closes, or 10 s pass.
 * *closed: the server closed the connection. */
static void read_answers(int fd, int want, char *buf, size_t cap, bool *closed)
{
  size_t len = 0;
  time_t until = time(NULL) + 10;

  buf[0] = '\0';
  *closed = false;
  while(answers_in(buf) < want && time(NULL) < until) {
    struct pollfd p = {fd, POLLIN, 0};
    ssize_t r;
    if(poll(&p, 1, 200) <= 0)
      continue;
    r = recv(fd, buf + len, cap - 1 - len, 0);
    if(r <= 0) {
      *closed = true;
      return;
    }
    len += (size_t)r;
    buf[len] = '\0';
  }
}

/* After its answers: does the server close the connection (within 10 s)? */
static bool closes(int fd)
{
  char b[64];
  struct pollfd p = {fd, POLLIN, 0};

  return poll(&p, 1, 10000) == 1 && recv(fd, b, sizeof(b), 0) <= 0;
}

START_TEST(keep_alive_pipelining_chunked_and_continue)
{
  struct listen_opts o = {.listen = "127.0.0.1:0"};
  int port = start(&o, 0), fd = dial(port);
  static char buf[65536];
  bool closed;
  char *second;

  /* two requests in one write: two answers, in order, on one connection */
  send_all(fd, "POST /one HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n{\"a\"}"
               "PUT /two?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
  read_answers(fd, 2, buf, sizeof(buf), &closed);
  ck_assert_msg(answers_in(buf) == 2 && !closed, "%s", buf);
  second = strstr(buf, "\"target\":\"/two?x=1\"");
  ck_assert_msg(strstr(buf, "\"target\":\"/one\"") && second &&
                strstr(buf, "\"target\":\"/one\"") < second, "%s", buf);
  ck_assert_ptr_nonnull(strstr(buf, "\"method\":\"PUT\""));
  ck_assert_ptr_nonnull(strstr(buf, "\"body_len\":5"));
  /* a chunked body is read whole */
  send_all(fd, "POST /chunks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n");
  read_answers(fd, 1, buf, sizeof(buf), &closed);
  ck_assert_msg(strstr(buf, "\"body_len\":7,\"first\":\"a\""), "%s", buf);
  /* Expect: 100-continue is answered before the body is sent */
  send_all(fd, "POST /wait HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
               "Expect: 100-continue\r\n\r\n");
  read_answers(fd, 0, buf, sizeof(buf), &closed);
  {
    struct pollfd p = {fd, POLLIN, 0};
    ssize_t r;
    ck_assert_int_eq(poll(&p, 1, 10000), 1);
    r = recv(fd, buf, sizeof(buf) - 1, 0);
    ck_assert_int_gt(r, 0);
    buf[r] = '\0';
    ck_assert_msg(!strncmp(buf, "HTTP/1.1 100 Continue\r\n\r\n", 25), "%s", buf);
  }
  send_all(fd, "xyz");
  read_answers(fd, 1, buf, sizeof(buf), &closed);
  ck_assert_msg(strstr(buf, "HTTP/1.1 200 OK") && strstr(buf, "\"body_len\":3"), "%s", buf);
  /* Connection: close is honoured */
  send_all(fd, "GET /bye HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  read_answers(fd, 1, buf, sizeof(buf), &closed);
  ck_assert_msg(strstr(buf, "Connection: close\r\n"), "%s", buf);
  ck_assert(closes(fd));
  close(fd);
  ck_assert_int_eq(atomic_load(&requests), 5);
}
END_TEST

START_TEST(bad_requests_are_refused_and_closed)
{
  struct listen_opts o = {.listen = "127.0.0.1:0"};
  int port = start(&o, 0), fd;
  static char buf[65536], big[10000];
  bool closed;

  fd = dial(port); /* not HTTP */
  send_all(fd, "HELLO THERE\r\n\r\n");
  read_answers(fd, 1, buf, sizeof(buf), &closed);
  ck_assert_msg(!strncmp(buf, "HTTP/1.1 400 ", 13) && strstr(buf, "bad_request"), "%s", buf);
  ck_assert(closed || closes(fd));
  close(fd);
  fd = dial(port); /* a body over the limit: refused before it is sent */
  send_all(fd, "POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n");
  read_answers(fd, 1, buf, sizeof(buf), &closed);
  ck_assert_msg(!strncmp(buf, "HTTP/1.1 413 ", 13) && strstr(buf, "Connection: close"), "%s",
                buf);
  ck_assert(closed || closes(fd));
  close(fd);
  fd = dial(port); /* chunked past the limit */
  send_all(fd, "POST /big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  memset(big, 'a', 4200);
  send_all(fd, "1068\r\n");
  ck_assert_int_eq(send(fd, big, 4200, MSG_NOSIGNAL), 4200);
  read_answers(fd, 1, buf, sizeof(buf), &closed);
  ck_assert_msg(!strncmp(buf, "HTTP/1.1 413 ", 13), "%s", buf);
  close(fd);
  fd = dial(port); /* a head over 8 KiB */
  memset(big, 'b', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  send_all(fd, "GET / HTTP/1.1\r\nX-Big: ");
  send(fd, big, strlen(big), MSG_NOSIGNAL);
  read_answers(fd, 1, buf, sizeof(buf), &closed);
  ck_assert_msg(!strncmp(buf, "HTTP/1.1 431 ", 13), "%s", buf);
  close(fd);
  ck_assert_int_eq(atomic_load(&refused_413), 2);
  ck_assert_int_eq(atomic_load(&requests), 0); /* the hook saw none of them */
}
END_TEST

START_TEST(a_caller_that_leaves_or_idles_is_let_go)
{
  struct listen_opts o = {.listen = "127.0.0.1:0"};
  int port = start(&o, 1500), fd = dial(port);
  static char buf[4096];
  bool closed;

  /* gone while its answer is owed: the hook hears of it */
  send_all(fd, "POST /hold HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
  for(int i = 0; i < 100 && atomic_load(&requests) < 1; i++) /* at most 10 s */
    usleep(100000);
  close(fd);
  for(int i = 0; i < 100 && atomic_load(&gone) < 1; i++)
    usleep(100000);
  ck_assert_int_eq(atomic_load(&gone), 1);
  /* an idle connection is closed after the idle time (1.5 s here) */
  fd = dial(port);
  send_all(fd, "GET /x HTTP/1.1\r\nHost: x\r\n\r\n");
  read_answers(fd, 1, buf, sizeof(buf), &closed);
  ck_assert_msg(answers_in(buf) == 1 && !closed, "%s", buf);
  ck_assert(closes(fd));
  close(fd);
}
END_TEST

/* POST /tls over TLS (CA-verified), with a client certificate or not and
 * a token or not; the status, the body in `b`. */
static long tls_post(int port, bool client_cert, const char *token, struct tanswer *b)
{
  CURL *e = curl_easy_init();
  struct curl_slist *h = NULL;
  char url[64], auth[128];
  long status = 0;

  memset(b, 0, sizeof(*b));
  snprintf(url, sizeof(url), "https://127.0.0.1:%d/tls", port);
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_CAINFO, tproc_path(dir, "ca.pem"));
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, "{}");
  curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, tanswer_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, b);
  if(client_cert) {
    curl_easy_setopt(e, CURLOPT_SSLCERT, tproc_path(dir, "client.pem"));
    curl_easy_setopt(e, CURLOPT_SSLKEY, tproc_path(dir, "client.key"));
  }
  if(token) {
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    h = curl_slist_append(h, auth);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
  }
  ck_assert_int_eq(curl_easy_perform(e), CURLE_OK);
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(e);
  curl_slist_free_all(h);
  return status;
}

START_TEST(tls_with_a_client_certificate_and_a_token)
{
  struct listen_opts o = {.listen = "127.0.0.1:0", .token = TOKEN};
  struct tanswer b;
  int port;

  ck_assert_int_eq(tcert_write_trio(dir, "127.0.0.1", "IP:127.0.0.1"), 0);
  o.cert_pem = tcert_slurp(tproc_path(dir, "server.pem"));
  o.key_pem = tcert_slurp(tproc_path(dir, "server.key"));
  o.client_ca_pem = tcert_slurp(tproc_path(dir, "ca.pem"));
  port = start(&o, 0);
  ck_assert_int_eq(tls_post(port, true, TOKEN, &b), 200);
  ck_assert_msg(strstr(b.body, "\"target\":\"/tls\""), "%s", b.body);
  ck_assert_int_eq(tls_post(port, false, TOKEN, &b), 403);
  ck_assert_ptr_nonnull(strstr(b.body, "client certificate"));
  ck_assert_int_eq(tls_post(port, true, "wrong", &b), 401);
  ck_assert_int_eq(tls_post(port, true, NULL, &b), 401);
  ck_assert_ptr_null(strstr(b.body, TOKEN));
  free(o.cert_pem);
  free(o.key_pem);
  free(o.client_ca_pem);
}
END_TEST

START_TEST(past_max_connections_a_caller_is_closed_at_once)
{
  struct listen_opts o = {.listen = "127.0.0.1:0", .max_connections = 1};
  int port = start(&o, 0), first = dial(port), second;
  static char buf[4096];
  bool closed;

  send_all(first, "GET /first HTTP/1.1\r\nHost: x\r\n\r\n");
  read_answers(first, 1, buf, sizeof(buf), &closed); /* the first is in */
  ck_assert_msg(answers_in(buf) == 1, "%s", buf);
  second = dial(port);
  ck_assert(closes(second));
  close(second);
  send_all(first, "GET /again HTTP/1.1\r\nHost: x\r\n\r\n"); /* still served */
  read_answers(first, 1, buf, sizeof(buf), &closed);
  ck_assert_msg(strstr(buf, "\"target\":\"/again\""), "%s", buf);
  close(first);
}
END_TEST

START_TEST(unusable_tls_material_is_refused_with_the_fix)
{
  static const struct h1server_hooks hooks = {on_request, on_refused, on_gone};
  struct listen_opts o = {.listen = "127.0.0.1:0", .cert_pem = "not a certificate",
                          .key_pem = "nor a key"};
  struct h1server *s = NULL;
  char err[300];
  int port = 0;

  ck_assert_int_eq(sdc_pool_new(&loop, NULL), SDC_OK);
  ck_assert_int_eq(h1server_start(&s, loop, &o, "gateway", &hooks, NULL, MAX_BODY, &port, err,
                                  sizeof(err)), -1);
  ck_assert_msg(strstr(err, "gateway") && strstr(err, "certFile and keyFile"), "%s", err);
  o.cert_pem = NULL;
  o.listen = "127.0.0.1";
  ck_assert_int_eq(h1server_start(&s, loop, &o, "gateway", &hooks, NULL, MAX_BODY, &port, err,
                                  sizeof(err)), -1);
  ck_assert_msg(strstr(err, "HOST:PORT"), "%s", err);
  o.listen = "127.0.0.1:0";
  ck_assert_int_eq(h1server_start(&srv, loop, &o, "gateway", &hooks, NULL, MAX_BODY, &port,
                                  err, sizeof(err)), 0); /* for teardown */
  atomic_store(&stopping, false);
  ck_assert_int_eq(pthread_create(&loop_thread, NULL, run_loop, NULL), 0);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("h1server");

  signal(SIGPIPE, SIG_IGN); /* as `sdconnect serve` runs it */
  TCase *tc = tcase_create("h1server");

  tproc_secret("the test token", TOKEN);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, keep_alive_pipelining_chunked_and_continue);
  tcase_add_test(tc, bad_requests_are_refused_and_closed);
  tcase_add_test(tc, a_caller_that_leaves_or_idles_is_let_go);
  tcase_add_test(tc, tls_with_a_client_certificate_and_a_token);
  tcase_add_test(tc, past_max_connections_a_caller_is_closed_at_once);
  tcase_add_test(tc, unusable_tls_material_is_refused_with_the_fix);
  suite_add_tcase(s, tc);
  return test_run_all(srunner_create(s));
}
