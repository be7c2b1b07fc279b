/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/1.1 messages for connections the pool drives itself: the request
 * bytes, and a response reader on Node's http_parser that enforces the
 * pool's header and body caps while it reads.
 */
#ifndef SDC_POOL_H1_H
#define SDC_POOL_H1_H

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>

/* The parts of an http(s) URL the pool needs; offsets into the URL. */
struct h1_url {
  bool tls;
  const char *host;
  size_t host_len;
  int port;             /* the scheme's default when absent */
  const char *target;   /* path and query: "/a?b" ("" when neither) */
  size_t target_len;
};

/* Parse `url`; false (and `why`) when it is not an absolute http(s) URL
 * the pool can send: no user info, no spaces or control characters. */
bool h1_url_parse(const char *url, struct h1_url *u, char *why, size_t cap);

/* A method is an HTTP token of 1..32 characters. */
bool h1_method_ok(const char *method);

/* A caller's header line "Name: value": a token name, no CR/LF. Content-
 * Length and Transfer-Encoding are the pool's own and refused. */
bool h1_header_ok(const char *line, char *why, size_t cap);

/* The request: line, Host (host[:port] unless the port is the scheme's
 * default), User-Agent and Accept unless the caller's headers replace them
 * ("Name:" with no value drops one), the caller's headers, Content-Length
 * when there is a body or the method carries one, then the body. Returns a
 * malloc'd buffer and its length in *len, NULL when out of memory. */
char *h1_request(const char *method, const struct h1_url *u,
                 const char *host, int port, const char *user_agent,
                 const char *const *headers, const void *body,
                 size_t body_len, size_t *len);

enum h1_fail { H1_OK, H1_BODY_TOO_BIG, H1_HEADER_TOO_BIG, H1_BAD, H1_NOMEM };

struct h1_reader {
  http_parser parser;
  size_t max_body, max_header;
  bool no_body;          /* answer to HEAD */
  bool truncate;         /* a body past max_body is cut there, not an error */
  bool truncated;        /* ...and this one was */
  /* the answer so far */
  long status;
  char *hdrs, *body;     /* NUL-terminated; handed over by the caller */
  size_t hdr_n, hdr_cap, body_n, body_cap;
  bool status_done, in_value, interim;
  bool started;          /* any byte of an answer arrived */
  bool complete;         /* the final answer is whole */
  bool keep_alive;       /* the connection may carry another request */
  enum h1_fail fail;
  char why[160];
};

void h1_reader_init(struct h1_reader *r, bool no_body, size_t max_body,
                    size_t max_header);
void h1_reader_free(struct h1_reader *r);
/* Feed received bytes: 0 while all is well (r->complete says whether the
 * answer is whole), -1 on failure (r->fail, r->why). Bytes after a whole
 * answer make the connection unfit for reuse. */
int h1_reader_feed(struct h1_reader *r, const char *data, size_t len);
/* The peer closed the connection: completes an answer whose body runs to
 * the end of the connection, else fails. */
int h1_reader_eof(struct h1_reader *r);

#endif
