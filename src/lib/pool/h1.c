/* SPDX-License-Identifier: Apache-2.0 */
#include "pool/h1.h"

#include "core/core.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* RFC 9110 tchar */
static bool is_tchar(unsigned char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

bool h1_method_ok(const char *m)
{
  size_t n = 0;

  if(!m)
    return false;
  for(; m[n]; n++)
    if(!is_tchar((unsigned char)m[n]) || n >= 32)
      return false;
  return n > 0;
}

bool h1_url_parse(const char *url, struct h1_url *u, char *why, size_t cap)
{
  struct http_parser_url pu;
  size_t len = strlen(url);
  const char *scheme;
  size_t slen;

  for(size_t i = 0; i < len; i++)
    if((unsigned char)url[i] <= 0x20 || url[i] == 0x7f) {
      snprintf(why, cap, "the URL holds a space or control character");
      return false;
    }
  http_parser_url_init(&pu);
  if(len > 65535 || http_parser_parse_url(url, len, 0, &pu) ||
     !(pu.field_set & (1 << UF_SCHEMA)) || !(pu.field_set & (1 << UF_HOST))) {
    snprintf(why, cap, "not a valid absolute URL");
    return false;
  }
  if(pu.field_set & (1 << UF_USERINFO)) {
    snprintf(why, cap, "user info in the URL is not sent; use an "
             "Authorization header");
    return false;
  }
  scheme = url + pu.field_data[UF_SCHEMA].off;
  slen = pu.field_data[UF_SCHEMA].len;
  if(slen == 5 && !strncasecmp(scheme, "https", 5))
    u->tls = true;
  else if(slen == 4 && !strncasecmp(scheme, "http", 4))
    u->tls = false;
  else {
    snprintf(why, cap, "the URL's scheme must be http or https");
    return false;
  }
  u->host = url + pu.field_data[UF_HOST].off;
  u->host_len = pu.field_data[UF_HOST].len;
  u->port = (pu.field_set & (1 << UF_PORT)) ? pu.port : u->tls ? 443 : 80;
  if(pu.field_set & (1 << UF_PATH)) {
    u->target = url + pu.field_data[UF_PATH].off;
    u->target_len = pu.field_data[UF_PATH].len;
  } else if(pu.field_set & (1 << UF_QUERY)) { /* "?q" with no path */
    u->target = url + pu.field_data[UF_QUERY].off - 1;
    u->target_len = pu.field_data[UF_QUERY].len + 1u;
  } else {
    u->target = "";
    u->target_len = 0;
  }
  if((pu.field_set & (1 << UF_PATH)) && (pu.field_set & (1 << UF_QUERY)))
    u->target_len = (size_t)(pu.field_data[UF_QUERY].off +
                             pu.field_data[UF_QUERY].len) -
                    pu.field_data[UF_PATH].off;
  return true;
}

/* Length of the header name in "Name: value" / "Name;" and its end mark. */
static size_t header_name(const char *line, char *mark)
{
  size_t n = strcspn(line, ":;");

  *mark = line[n];
  return n;
}

bool h1_header_ok(const char *line, char *why, size_t cap)
{
  char mark;
  size_t n = header_name(line, &mark);

  if(strpbrk(line, "\r\n")) {
    snprintf(why, cap, "it holds a line break");
    return false;
  }
  if(!mark || !n) {
    snprintf(why, cap, "it is not \"Name: value\"");
    return false;
  }
  for(size_t i = 0; i < n; i++)
    if(!is_tchar((unsigned char)line[i])) {
      snprintf(why, cap, "the name holds a character a header name cannot");
      return false;
    }
  if((n == 14 && !strncasecmp(line, "Content-Length", n)) ||
     (n == 17 && !strncasecmp(line, "Transfer-Encoding", n))) {
    snprintf(why, cap, "%.*s is set by the pool from the body", (int)n, line);
    return false;
  }
  return true;
}

/* Does a caller's header name (or drop) the default header `name`? */
static bool replaced(const char *const *headers, const char *name)
{
  size_t len = strlen(name);
  char mark;

  for(size_t i = 0; headers && headers[i]; i++)
    if(header_name(headers[i], &mark) == len && !strncasecmp(headers[i], name, len))
      return true;
  return false;
}

/* The caller's line as sent: "Name: v", "Name;" -> "Name:", "Name:" -> none. */
static size_t header_out(const char *line, char *out)
{
  char mark;
  size_t n = header_name(line, &mark);
  const char *v = line + n + 1;

  if(mark == ';') {
    if(out) {
      memcpy(out, line, n);
      memcpy(out + n, ":\r\n", 3);
    }
    return n + 3;
  }
  while(*v == ' ' || *v == '\t')
    v++;
  if(!*v)
    return 0;
  n = strlen(line);
  if(out) {
    memcpy(out, line, n);
    memcpy(out + n, "\r\n", 2);
  }
  return n + 2;
}

static bool carries_body(const char *m, size_t body_len)
{
  return body_len || !strcmp(m, "POST") || !strcmp(m, "PUT") || !strcmp(m, "PATCH");
}

/* Decimal digits of `v` at `out`; returns their count. */
static size_t put_uint(char *out, unsigned long long v)
{
  char tmp[24];
  size_t n = 0, i = 0;

  do
    tmp[n++] = (char)('0' + v % 10);
  while((v /= 10));
  while(n)
    out[i++] = tmp[--n];
  return i;
}

char *h1_request(const char *method, const struct h1_url *u, const char *host,
                 int port, const char *user_agent, const char *const *headers,
                 const void *body, size_t body_len, size_t *len)
{
  bool std_port = port == (u->tls ? 443 : 80);
  bool want_host = !replaced(headers, "Host");
  bool want_agent = user_agent && !replaced(headers, "User-Agent");
  bool want_accept = !replaced(headers, "Accept");
  bool want_length = carries_body(method, body_len);
  size_t mlen = strlen(method), hlen = strlen(host);
  size_t alen = user_agent ? strlen(user_agent) : 0;
  size_t n = 0, cap;
  char *out;

  cap = mlen + 1 + (u->target_len ? u->target_len : 1) + 11 +
        (want_host ? 6 + hlen + 1 + 5 + 2 : 0) + (want_agent ? 12 + alen + 2 : 0) +
        (want_accept ? 13 : 0) + (want_length ? 16 + 20 + 2 : 0) + 2 + body_len;
  for(size_t i = 0; headers && headers[i]; i++)
    cap += header_out(headers[i], NULL);
  out = sdc__malloc(cap + 1);
  if(!out)
    return NULL;
#define PUT(s, l) (memcpy(out + n, (s), (l)), n += (l))
  PUT(method, mlen);
  PUT(" ", 1);
  if(u->target_len)
    PUT(u->target, u->target_len);
  else
    PUT("/", 1);
  PUT(" HTTP/1.1\r\n", 11);
  if(want_host) {
    PUT("Host: ", 6);
    PUT(host, hlen);
    if(!std_port) {
      PUT(":", 1);
      n += put_uint(out + n, (unsigned)port);
    }
    PUT("\r\n", 2);
  }
  if(want_agent) {
    PUT("User-Agent: ", 12);
    PUT(user_agent, alen);
    PUT("\r\n", 2);
  }
  if(want_accept)
    PUT("Accept: */*\r\n", 13);
  for(size_t i = 0; headers && headers[i]; i++)
    n += header_out(headers[i], out + n);
  if(want_length) {
    PUT("Content-Length: ", 16);
    n += put_uint(out + n, body_len);
    PUT("\r\n", 2);
  }
  PUT("\r\n", 2);
  if(body_len)
    PUT(body, body_len);
#undef PUT
  out[n] = '\0';
  *len = n;
  return out;
}

/* ---- response reader ---------------------------------------------------- */
static int fail(struct h1_reader *r, enum h1_fail f, const char *why)
{
  r->fail = f;
  snprintf(r->why, sizeof(r->why), "%s", why);
  return -1;
}

static int grow_append(struct h1_reader *r, char **buf, size_t *n, size_t *cap,
                       const char *data, size_t len)
{
  if(*n + len + 1 > *cap) {
    size_t want = *cap ? *cap : 256;
    char *g;
    while(want < *n + len + 1)
      want *= 2;
    if(!(g = sdc__realloc(*buf, want)))
      return fail(r, H1_NOMEM, "out of memory");
    *buf = g;
    *cap = want;
  }
  memcpy(*buf + *n, data, len);
  *n += len;
  (*buf)[*n] = '\0';
  return 0;
}

static int hdr_add(struct h1_reader *r, const char *data, size_t len)
{
  if(memchr(data, '\0', len)) /* the block is handed out as a C string */
    return fail(r, H1_BAD, "the server's answer holds a NUL byte in its headers");
  if(r->hdr_n + len > r->max_header) {
    char why[96];
    snprintf(why, sizeof(why), "the response headers passed %zu bytes",
             r->max_header);
    return fail(r, H1_HEADER_TOO_BIG, why);
  }
  return grow_append(r, &r->hdrs, &r->hdr_n, &r->hdr_cap, data, len);
}

static struct h1_reader *of(http_parser *p) { return p->data; }

/* "HTTP/1.1 200 " before the reason phrase (or the first header). */
static int status_start(struct h1_reader *r)
{
  char line[40];
  size_t n = 0;

  if(r->hdr_n)
    return 0;
  memcpy(line, "HTTP/", 5);
  n = 5 + put_uint(line + 5, r->parser.http_major);
  line[n++] = '.';
  n += put_uint(line + n, r->parser.http_minor);
  line[n++] = ' ';
  n += put_uint(line + n, r->parser.status_code);
  line[n++] = ' ';
  return hdr_add(r, line, n);
}

static int status_end(struct h1_reader *r)
{
  if(r->status_done)
    return 0;
  r->status_done = true;
  return status_start(r) ? -1 : hdr_add(r, "\r\n", 2);
}

static int on_begin(http_parser *p)
{
  struct h1_reader *r = of(p);

  r->started = true;
  r->hdr_n = r->body_n = 0; /* a 1xx answer's headers are dropped */
  if(r->hdrs)
    r->hdrs[0] = '\0';
  if(r->body)
    r->body[0] = '\0';
  r->status_done = r->in_value = r->interim = false;
  return 0;
}

static int on_status(http_parser *p, const char *at, size_t len)
{
  struct h1_reader *r = of(p);

  return status_start(r) || hdr_add(r, at, len) ? -1 : 0;
}

static int on_field(http_parser *p, const char *at, size_t len)
{
  struct h1_reader *r = of(p);

  if(status_end(r) || (r->in_value && hdr_add(r, "\r\n", 2)))
    return -1;
  r->in_value = false;
  return hdr_add(r, at, len) ? -1 : 0;
}

static int on_value(http_parser *p, const char *at, size_t len)
{
  struct h1_reader *r = of(p);

  if(!r->in_value && hdr_add(r, ": ", 2))
    return -1;
  r->in_value = true;
  return hdr_add(r, at, len) ? -1 : 0;
}

static int on_headers_done(http_parser *p)
{
  struct h1_reader *r = of(p);

  if(status_end(r) || (r->in_value && hdr_add(r, "\r\n", 2)) ||
     hdr_add(r, "\r\n", 2))
    return -1;
  r->status = p->status_code;
  r->interim = p->status_code >= 100 && p->status_code < 200;
  if(p->status_code == 101) {
    fail(r, H1_BAD, "the server switched protocols (101), which was not asked for");
    return -1;
  }
  return r->no_body && !r->interim ? 1 : 0; /* 1: no body follows */
}

static int on_body(http_parser *p, const char *at, size_t len)
{
  struct h1_reader *r = of(p);

  if(r->body_n + len > r->max_body && r->truncate) {
    /* keep what fits, end the answer there; the connection cannot be
     * used again (the rest of the body is still coming) */
    len = r->max_body - r->body_n;
    r->truncated = r->complete = true;
    r->keep_alive = false;
    http_parser_pause(p, 1);
    return len && grow_append(r, &r->body, &r->body_n, &r->body_cap, at, len) ? -1 : 0;
  }
  if(r->body_n + len > r->max_body) {
    char why[96];
    snprintf(why, sizeof(why), "the response body passed %zu bytes; the "
             "transfer was stopped", r->max_body);
    fail(r, H1_BODY_TOO_BIG, why);
    return -1;
  }
  return grow_append(r, &r->body, &r->body_n, &r->body_cap, at, len) ? -1 : 0;
}

static int on_complete(http_parser *p)
{
  struct h1_reader *r = of(p);

  if(r->interim)
    return 0; /* 100 Continue and friends: the real answer follows */
  r->complete = true;
  r->keep_alive = http_should_keep_alive(p) != 0;
  http_parser_pause(p, 1); /* anything after this answer is not ours */
  return 0;
}

static const http_parser_settings settings = {
  .on_message_begin = on_begin,
  .on_status = on_status,
  .on_header_field = on_field,
  .on_header_value = on_value,
  .on_headers_complete = on_headers_done,
  .on_body = on_body,
  .on_message_complete = on_complete,
};

void h1_reader_init(struct h1_reader *r, bool no_body, size_t max_body,
                    size_t max_header)
{
  memset(r, 0, sizeof(*r));
  http_parser_init(&r->parser, HTTP_RESPONSE);
  r->parser.data = r;
  r->no_body = no_body;
  r->max_body = max_body;
  r->max_header = max_header;
}

void h1_reader_free(struct h1_reader *r)
{
  sdc_free(r->hdrs);
  sdc_free(r->body);
  r->hdrs = r->body = NULL;
}

static int parse_error(struct h1_reader *r)
{
  enum http_errno e = HTTP_PARSER_ERRNO(&r->parser);
  char why[160];

  if(r->fail != H1_OK)
    return -1; /* a callback said why */
  snprintf(why, sizeof(why), "the server's answer is not valid HTTP/1.1 (%s)",
           http_errno_description(e));
  return fail(r, H1_BAD, why);
}

int h1_reader_feed(struct h1_reader *r, const char *data, size_t len)
{
  size_t used;

  if(r->fail != H1_OK)
    return -1;
  if(r->complete) {
    if(len)
      r->keep_alive = false;
    return 0;
  }
  used = http_parser_execute(&r->parser, &settings, data, len);
  if(HTTP_PARSER_ERRNO(&r->parser) == HPE_PAUSED) {
    if(used < len) /* pipelined or stray bytes: never reuse this one */
      r->keep_alive = false;
    return 0;
  }
  if(HTTP_PARSER_ERRNO(&r->parser) != HPE_OK)
    return parse_error(r);
  return 0;
}

int h1_reader_eof(struct h1_reader *r)
{
  if(r->fail != H1_OK)
    return -1;
  r->keep_alive = false;
  if(r->complete)
    return 0;
  http_parser_execute(&r->parser, &settings, NULL, 0);
  if(r->complete)
    return 0;
  if(r->fail != H1_OK)
    return -1;
  return fail(r, H1_BAD, r->started ? "the server closed the connection in "
                                      "the middle of its answer"
                                    : "the server closed the connection "
                                      "without answering");
}
