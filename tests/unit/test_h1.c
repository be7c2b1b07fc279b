/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP/1.1 request bytes and the capped response reader. */
#include "suites.h"

#include "pool/h1.h"

#include <stdlib.h>
#include <string.h>

static char *request(const char *method, const char *url, const char *const *hdrs,
                     const char *body)
{
  struct h1_url u;
  char why[128];
  size_t len;

  ck_assert_msg(h1_url_parse(url, &u, why, sizeof(why)), "%s: %s", url, why);
  return h1_request(method, &u, "webhook.internal", u.port, "sdconnect/test", hdrs,
                    body, body ? strlen(body) : 0, &len);
}

START_TEST(request_line_host_and_defaults)
{
  char *r = request("GET", "https://webhook.internal/a/b?x=1&y=2#frag", NULL, NULL);

  ck_assert_str_eq(r, "GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: webhook.internal\r\n"
                      "User-Agent: sdconnect/test\r\nAccept: */*\r\n\r\n");
  free(r);
  r = request("GET", "https://webhook.internal:8443", NULL, NULL);
  ck_assert_str_eq(r, "GET / HTTP/1.1\r\nHost: webhook.internal:8443\r\n"
                      "User-Agent: sdconnect/test\r\nAccept: */*\r\n\r\n");
  free(r);
  r = request("GET", "http://webhook.internal?q", NULL, NULL);
  ck_assert_ptr_nonnull(strstr(r, "GET ?q HTTP/1.1") ? r : NULL);
  free(r);
}
END_TEST

START_TEST(caller_headers_replace_drop_and_add)
{
  const char *h[] = {"User-Agent: other", "Accept:", "X-Empty;", "X-Trace: 7", NULL};
  char *r = request("POST", "https://webhook.internal/hook", h, "{\"a\":1}");

  ck_assert_str_eq(r, "POST /hook HTTP/1.1\r\nHost: webhook.internal\r\n"
                      "User-Agent: other\r\nX-Empty:\r\nX-Trace: 7\r\n"
                      "Content-Length: 7\r\n\r\n{\"a\":1}");
  free(r);
  r = request("PUT", "https://webhook.internal/", NULL, NULL);
  ck_assert_ptr_nonnull(strstr(r, "Content-Length: 0\r\n"));
  free(r);
}
END_TEST

START_TEST(bad_urls_methods_and_headers_are_refused)
{
  struct h1_url u;
  char why[128];

  ck_assert(!h1_url_parse("https://a b/", &u, why, sizeof(why)));
  ck_assert(!h1_url_parse("https://a/\r\nX: y", &u, why, sizeof(why)));
  ck_assert(!h1_url_parse("ftp://a/", &u, why, sizeof(why)));
  ck_assert(!h1_url_parse("/relative", &u, why, sizeof(why)));
  ck_assert(!h1_url_parse("https://user:pw@a/", &u, why, sizeof(why)));
  ck_assert(h1_url_parse("HTTPS://a:99/p", &u, why, sizeof(why)));
  ck_assert(u.tls && u.port == 99 && u.host_len == 1);
  ck_assert(h1_method_ok("PATCH") && h1_method_ok("M-SEARCH"));
  ck_assert(!h1_method_ok("GET /x HTTP/1.1\r\n") && !h1_method_ok("") &&
            !h1_method_ok("G T") && !h1_method_ok(NULL));
  ck_assert(h1_header_ok("X-A: b", why, sizeof(why)));
  ck_assert(h1_header_ok("X-A;", why, sizeof(why)));
  ck_assert(!h1_header_ok("X-A: b\r\nEvil: 1", why, sizeof(why)));
  ck_assert(!h1_header_ok("no colon", why, sizeof(why)));
  ck_assert(!h1_header_ok("Bad Name: x", why, sizeof(why)));
  ck_assert(!h1_header_ok("content-length: 5", why, sizeof(why)));
  ck_assert(!h1_header_ok("Transfer-Encoding: chunked", why, sizeof(why)));
}
END_TEST

/* Feed `s` in pieces of `step` bytes. */
static int feed(struct h1_reader *r, const char *s, size_t step)
{
  size_t len = strlen(s);

  for(size_t i = 0; i < len; i += step)
    if(h1_reader_feed(r, s + i, len - i < step ? len - i : step))
      return -1;
  return 0;
}

START_TEST(reads_length_chunked_and_interim_answers_in_any_pieces)
{
  static const char *const answers[] = {
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n"
    "2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n",
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
    "X-A: b\r\n\r\nhello",
  };

  for(size_t a = 0; a < 3; a++)
    for(size_t step = 1; step <= 64; step *= 4) {
      struct h1_reader r;
      h1_reader_init(&r, false, 1024, 1024);
      ck_assert_int_eq(feed(&r, answers[a], step), 0);
      ck_assert(r.complete && r.keep_alive);
      ck_assert_int_eq(r.status, 200);
      ck_assert_str_eq(r.body, "hello");
      ck_assert_msg(!strncmp(r.hdrs, "HTTP/1.1 200 OK\r\n", 17), "%s", r.hdrs);
      ck_assert_ptr_nonnull(strstr(r.hdrs, "\r\nX-A: b\r\n"));
      ck_assert_ptr_nonnull(strstr(r.hdrs, "\r\n\r\n"));
      h1_reader_free(&r);
    }
}
END_TEST

START_TEST(close_delimited_head_and_no_content_answers)
{
  struct h1_reader r;

  h1_reader_init(&r, false, 1024, 1024);
  ck_assert_int_eq(feed(&r, "HTTP/1.1 200 OK\r\n\r\nto the end", 7), 0);
  ck_assert(!r.complete);
  ck_assert_int_eq(h1_reader_eof(&r), 0);
  ck_assert(r.complete && !r.keep_alive);
  ck_assert_str_eq(r.body, "to the end");
  h1_reader_free(&r);

  h1_reader_init(&r, true, 1024, 1024); /* HEAD: the length is not a body */
  ck_assert_int_eq(feed(&r, "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", 100), 0);
  ck_assert(r.complete && r.keep_alive && r.body_n == 0);
  h1_reader_free(&r);

  h1_reader_init(&r, false, 1024, 1024);
  ck_assert_int_eq(feed(&r, "HTTP/1.1 204 No Content\r\n\r\n", 100), 0);
  ck_assert(r.complete && r.keep_alive);
  h1_reader_free(&r);

  h1_reader_init(&r, false, 1024, 1024);
  ck_assert_int_eq(feed(&r, "HTTP/1.1 200 OK\r\nConnection: close\r\n"
                            "Content-Length: 0\r\n\r\n", 100), 0);
  ck_assert(r.complete && !r.keep_alive);
  h1_reader_free(&r);

  h1_reader_init(&r, false, 1024, 1024); /* stray bytes after the answer */
  ck_assert_int_eq(feed(&r, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nXYZ", 100), 0);
  ck_assert(r.complete && !r.keep_alive);
  h1_reader_free(&r);
}
END_TEST

START_TEST(caps_stop_reading_and_bad_answers_fail)
{
  struct h1_reader r;

  h1_reader_init(&r, false, 10, 1024);
  ck_assert_int_eq(feed(&r, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n0123456789A", 4), -1);
  ck_assert_int_eq(r.fail, H1_BODY_TOO_BIG);
  ck_assert_uint_le(r.body_n, 10);
  h1_reader_free(&r);

  h1_reader_init(&r, false, 1024, 256);
  {
    char big[600];
    memset(big, 'a', sizeof(big));
    big[sizeof(big) - 1] = '\0';
    ck_assert_int_eq(feed(&r, "HTTP/1.1 200 OK\r\nX-Big: ", 100), 0);
    ck_assert_int_eq(feed(&r, big, 100), -1);
    ck_assert_int_eq(r.fail, H1_HEADER_TOO_BIG);
    ck_assert_uint_le(r.hdr_n, 256);
  }
  h1_reader_free(&r);

  h1_reader_init(&r, false, 1024, 1024);
  ck_assert_int_eq(feed(&r, "SSH-2.0-OpenSSH\r\n", 100), -1);
  ck_assert_int_eq(r.fail, H1_BAD);
  h1_reader_free(&r);

  h1_reader_init(&r, false, 1024, 1024);
  ck_assert_int_eq(feed(&r, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 100), 0);
  ck_assert_int_eq(h1_reader_eof(&r), -1);
  ck_assert_ptr_nonnull(strstr(r.why, "middle"));
  h1_reader_free(&r);

  h1_reader_init(&r, false, 1024, 1024);
  ck_assert_int_eq(h1_reader_eof(&r), -1);
  ck_assert(!r.started);
  h1_reader_free(&r);

  h1_reader_init(&r, false, 1024, 1024);
  ck_assert_int_eq(feed(&r, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n", 100), -1);
  h1_reader_free(&r);

  h1_reader_init(&r, false, 1024, 1024); /* the header block is a C string */
  ck_assert_int_eq(h1_reader_feed(&r, "HTTP/1.1 200 O\0K\r\n\r\n", 20), -1);
  ck_assert_int_eq(r.fail, H1_BAD);
  ck_assert_ptr_nonnull(strstr(r.why, "NUL"));
  h1_reader_free(&r);

  h1_reader_init(&r, false, 1024, 1024); /* a 1xx's headers are gone */
  ck_assert_int_eq(feed(&r, "HTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\nHTTP/1.1 2", 100), 0);
  ck_assert(!r.hdrs || strlen(r.hdrs) == r.hdr_n);
  ck_assert(!r.hdrs || !strstr(r.hdrs, "Link"));
  h1_reader_free(&r);
}
END_TEST

Suite *h1_suite(void)
{
  Suite *s = suite_create("h1");
  TCase *tc = tcase_create("h1");

  tcase_add_test(tc, request_line_host_and_defaults);
  tcase_add_test(tc, caller_headers_replace_drop_and_add);
  tcase_add_test(tc, bad_urls_methods_and_headers_are_refused);
  tcase_add_test(tc, reads_length_chunked_and_interim_answers_in_any_pieces);
  tcase_add_test(tc, close_delimited_head_and_no_content_answers);
  tcase_add_test(tc, caps_stop_reading_and_bad_answers_fail);
  suite_add_tcase(s, tc);
  return s;
}
