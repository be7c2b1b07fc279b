/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gateway's HTTP/1.1 server on the daemon's loop: requests parsed by
 * Node's http_parser (Debian libhttp-parser-dev, as the pool's client
 * does), TLS by OpenSSL, sockets watched by the pool's poll.
 *
 * Why not libmicrohttpd, which serves the admin listener: the gateway is
 * on every call's path, and libmicrohttpd over TLS spent more than the
 * whole of nginx's proxying on each request (its answer in two TLS
 * records with a cork and a nodelay setsockopt around them, two epoll_ctl
 * to suspend and resume a connection, GnuTLS reading each record in two
 * recv()). Here an answer is one buffer, one SSL_write, one record; a
 * record is read in one recv() (read-ahead); a connection waiting for its
 * webhook stays watched as it was.
 *
 * IMPLEMENTATION NOTES
 * - One request at a time per connection: the parser pauses at the end of
 *   each; bytes after it (pipelining) wait in `in` until the answer is out.
 * - A connection is never freed inside a call that still uses it: `busy`
 *   marks those calls, `dead` asks the outermost one to free it.
 * - Idle connections are kept in least-recently-active order, so the
 *   oldest is the one to look at.
 * - A refusal (auth, size, a malformed request) closes the connection
 *   after its answer, so a body never read cannot be taken for a request.
 */
#define _GNU_SOURCE /* accept4 */
#include "h1server.h"

#include "daemon.h"

#include <errno.h>
#include <http_parser.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IDLE_MS (300 * 1000)
#define MAX_HEAD 8192   /* request line and headers */
#define MAX_TARGET 2048 /* the request target */
#define ACCEPTS_PER_TURN 64
#define READS_PER_TURN 4

enum header { H_OTHER, H_AUTH, H_EXPECT };

struct buf {
  char *p;
  size_t len, cap;
};

struct h1client {
  struct h1server *s;
  struct h1client *newer, *older; /* by last activity */
  int fd;
  SSL *ssl;
  bool handshaken, verified; /* verified: a client certificate the CA signed */
  bool failed;               /* TLS or the socket failed: no close_notify */
  bool busy, dead, want_write, close_after, keep_alive, expect_continue;
  bool in_request; /* the parser is in a request's head or body */
  bool head_only;  /* a HEAD request: the answer has no body */
  bool ready;      /* a request is whole: the hook has it or will */
  bool answering;  /* the hook has it: an answer is owed */
  bool refusing;   /* a refusal is decided, not yet answered */
  bool waiting;    /* input waits in `in`, or in OpenSSL: h1server_run() */
  unsigned refuse_status;
  const char *refuse_reason;
  char refuse_msg[160];
  http_parser parser;
  size_t head_bytes;
  enum header field;
  bool field_done; /* the name of the header being read is whole */
  struct buf name, target, auth, expect, body, in, out;
  size_t out_off;
  uint64_t active_ms;
  void *data;
};

struct h1server {
  sdc_pool *loop;
  int fd;
  SSL_CTX *ctx;
  char *token;
  bool mtls;
  struct h1server_hooks hooks;
  void *ud;
  size_t max_body;
  unsigned max_conns;
  uint64_t idle_ms;
  struct h1client *newest, *oldest;
  size_t n_conns;
  bool due; /* a connection has input waiting to be served */
  uint64_t accept_again_ms; /* out of descriptors: accepting waits until then */
};

static bool buf_add(struct buf *b, const char *p, size_t n)
{
  if(b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    char *q;
    while(cap < b->len + n + 1)
      cap *= 2;
    if(!(q = realloc(b->p, cap)))
      return false;
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->len, p, n);
  b->len += n;
  b->p[b->len] = '\0';
  return true;
}

static void buf_free(struct buf *b)
{
  free(b->p);
  memset(b, 0, sizeof(*b));
}

/* what a finished request leaves is kept for the next, unless large */
static void buf_reset(struct buf *b, size_t keep)
{
  if(b->cap > keep)
    buf_free(b);
  b->len = 0;
  if(b->p)
    b->p[0] = '\0';
}

/* ---- activity order ---- */
static void unlink_client(struct h1client *c)
{
  struct h1server *s = c->s;

  if(c->newer)
    c->newer->older = c->older;
  else
    s->newest = c->older;
  if(c->older)
    c->older->newer = c->newer;
  else
    s->oldest = c->newer;
  c->newer = c->older = NULL;
}

static void push_newest(struct h1client *c)
{
  struct h1server *s = c->s;

  c->older = s->newest;
  c->newer = NULL;
  if(s->newest)
    s->newest->newer = c;
  else
    s->oldest = c;
  s->newest = c;
}

static void touch(struct h1client *c)
{
  c->active_ms = daemon_now_ms();
  if(c->s->newest != c) {
    unlink_client(c);
    push_newest(c);
  }
}

/* ---- closing ---- */
static void client_free(struct h1client *c)
{
  struct h1server *s = c->s;

  unlink_client(c);
  s->n_conns--;
  sdc_pool_unwatch(s->loop, c->fd);
  if(c->ssl) {
    if(c->handshaken && !c->failed)
      SSL_shutdown(c->ssl); /* close_notify, if the socket takes it */
    SSL_free(c->ssl);
  }
  close(c->fd);
  buf_free(&c->name);
  buf_free(&c->target);
  buf_free(&c->auth);
  buf_free(&c->expect);
  buf_free(&c->body);
  buf_free(&c->in);
  buf_free(&c->out);
  free(c);
}

/* The connection ends: the hook hears of an answer owed, and `c` is
 * freed now or by the call that is using it. */
static void client_end(struct h1client *c)
{
  if(c->dead)
    return;
  c->dead = true;
  if(c->answering) {
    c->answering = false;
    if(c->s->hooks.gone)
      c->s->hooks.gone(c, c->s->ud);
  }
  if(!c->busy)
    client_free(c);
}

/* ---- writing ---- */
static void on_client(int fd, short revents, void *ud);

static void watch(struct h1client *c, bool want_write)
{
  if(c->want_write == want_write)
    return;
  c->want_write = want_write;
  sdc_pool_watch(c->s->loop, c->fd, (short)(POLLIN | (want_write ? POLLOUT : 0)), on_client,
                 c);
}

/* Send what `out` holds. false when the connection is over. */
static bool flush(struct h1client *c)
{
  while(c->out_off < c->out.len) {
    const char *p = c->out.p + c->out_off;
    size_t left = c->out.len - c->out_off, n = 0;
    if(c->ssl) {
      int rc = SSL_write_ex(c->ssl, p, left, &n);
      if(rc != 1) {
        int e = SSL_get_error(c->ssl, rc);
        if(e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
          watch(c, true);
          return true;
        }
        ERR_clear_error();
        c->failed = true;
        return false;
      }
    } else {
      ssize_t w = send(c->fd, p, left, MSG_NOSIGNAL);
      if(w < 0) {
        if(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
          watch(c, true);
          return true;
        }
        return false;
      }
      n = (size_t)w;
    }
    c->out_off += n;
  }
  c->out_off = 0;
  buf_reset(&c->out, 16384);
  watch(c, false);
  if(!c->answering && (c->in.len || (c->ssl && SSL_has_pending(c->ssl))))
    c->s->due = c->waiting = true; /* a request waited behind the answer */
  return !c->close_after || c->answering || c->ready;
}

static const char *reason_phrase(unsigned status)
{
  switch(status) {
  case 100: return "Continue";
  case 200: return "OK";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 413: return "Content Too Large";
  case 414: return "URI Too Long";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  case 505: return "HTTP Version Not Supported";
  default: return status < 300 ? "OK" : status < 500 ? "Bad Request" : "Error";
  }
}

/* The Date header's value, made once a second. */
static const char *http_date(void)
{
  static char text[40];
  static time_t made;
  time_t now = time(NULL);
  struct tm tm;

  if(now != made && gmtime_r(&now, &tm)) {
    strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    made = now;
  }
  return text;
}

/* ---- reading ---- */
static struct h1client *of(http_parser *p) { return p->data; }

static void refuse_at(struct h1client *c, unsigned status, const char *reason,
                      const char *message)
{
  c->refusing = true;
  c->refuse_status = status;
  c->refuse_reason = reason;
  snprintf(c->refuse_msg, sizeof(c->refuse_msg), "%s", message);
  http_parser_pause(&c->parser, 1);
}

static void refuse_body(struct h1client *c)
{
  char msg[100];

  snprintf(msg, sizeof(msg), "the body is over %zu bytes (gateway.maxBodyBytes)",
           c->s->max_body);
  refuse_at(c, 413, "too_large", msg);
}

static bool head_room(struct h1client *c, size_t n)
{
  if((c->head_bytes += n) <= MAX_HEAD)
    return true;
  refuse_at(c, 431, "too_large", "the request's head is over 8192 bytes");
  return false;
}

static int on_begin(http_parser *p)
{
  struct h1client *c = of(p);

  c->in_request = true;
  c->head_only = false;
  c->head_bytes = 0;
  c->field = H_OTHER;
  c->field_done = true;
  c->expect_continue = false;
  buf_reset(&c->name, 256);
  buf_reset(&c->target, 4096);
  buf_reset(&c->auth, 4096);
  buf_reset(&c->expect, 256);
  buf_reset(&c->body, 65536);
  return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
  struct h1client *c = of(p);

  if(!head_room(c, len))
    return 0;
  if(c->target.len + len > MAX_TARGET) {
    refuse_at(c, 414, "too_large", "the request target is over 2048 bytes");
    return 0;
  }
  return buf_add(&c->target, at, len) ? 0 : -1;
}

static int on_field(http_parser *p, const char *at, size_t len)
{
  struct h1client *c = of(p);

  if(!head_room(c, len))
    return 0;
  if(c->field_done) { /* a new header */
    buf_reset(&c->name, 256);
    c->field_done = false;
  }
  return buf_add(&c->name, at, len) ? 0 : -1;
}

static int on_value(http_parser *p, const char *at, size_t len)
{
  struct h1client *c = of(p);

  if(!head_room(c, len))
    return 0;
  if(!c->field_done) {
    c->field_done = true;
    c->field = !strcasecmp(c->name.p, "Authorization") ? H_AUTH
               : !strcasecmp(c->name.p, "Expect")      ? H_EXPECT
                                                       : H_OTHER;
    if(c->field == H_AUTH)
      buf_reset(&c->auth, 4096); /* the last one counts */
  }
  if(c->field == H_AUTH)
    return buf_add(&c->auth, at, len) ? 0 : -1;
  if(c->field == H_EXPECT)
    return buf_add(&c->expect, at, len) ? 0 : -1;
  return 0;
}

/* Who may call, and how much: refused before the body is read. */
static int on_head(http_parser *p)
{
  struct h1client *c = of(p);
  struct h1server *s = c->s;

  c->keep_alive = http_should_keep_alive(p);
  c->head_only = p->method == HTTP_HEAD;
  if(s->mtls && !c->verified) {
    refuse_at(c, 403, "unauthorized", "a client certificate signed by the configured CA is "
              "required (mTLS)");
    return 0;
  }
  if(s->token && !listener_token_ok(s->token, c->auth.p)) {
    refuse_at(c, 401, "unauthorized", "a bearer token is required (Authorization: Bearer "
              "...)");
    return 0;
  }
  if(p->content_length != ULLONG_MAX && p->content_length > s->max_body) {
    refuse_body(c);
    return 0;
  }
  if(c->expect.len && p->http_minor >= 1 && p->http_major == 1) {
    if(strcasecmp(c->expect.p, "100-continue")) {
      refuse_at(c, 417, "bad_request", "Expect: only 100-continue is understood");
      return 0;
    }
    if(p->content_length != 0) /* the caller waits for this before its body */
      c->expect_continue = buf_add(&c->out, "HTTP/1.1 100 Continue\r\n\r\n", 25);
  }
  return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
  struct h1client *c = of(p);

  if(c->body.len + len > c->s->max_body) { /* chunked, or more than it said */
    refuse_body(c);
    return 0;
  }
  return buf_add(&c->body, at, len) ? 0 : -1;
}

static int on_complete(http_parser *p)
{
  struct h1client *c = of(p);

  c->in_request = false;
  c->ready = true;
  c->keep_alive = http_should_keep_alive(p);
  if(!c->body.p)
    buf_add(&c->body, "", 0);
  http_parser_pause(p, 1); /* what follows waits for this answer */
  return 0;
}

static const http_parser_settings parse_hooks = {
    .on_message_begin = on_begin,
    .on_url = on_url,
    .on_header_field = on_field,
    .on_header_value = on_value,
    .on_headers_complete = on_head,
    .on_body = on_body,
    .on_message_complete = on_complete,
};

/* Hand the hooks what the parser decided. */
static void dispatch(struct h1client *c)
{
  struct h1server *s = c->s;

  if(c->refusing) {
    c->refusing = false;
    c->close_after = true;
    c->answering = true;
    c->in.len = 0; /* nothing more is read */
    s->hooks.refused(c, c->refuse_status, c->refuse_reason, c->refuse_msg, s->ud);
    return;
  }
  if(c->ready && !c->answering) {
    c->answering = true;
    if(!c->keep_alive)
      c->close_after = true;
    s->hooks.request(c, s->ud);
  }
}

/* Parse `n` bytes; what the parser leaves (it paused) is kept in `in`. */
static bool parse(struct h1client *c, const char *data, size_t n)
{
  size_t used = http_parser_execute(&c->parser, &parse_hooks, data, n);
  enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);

  if(e >= HPE_CB_message_begin && e <= HPE_CB_chunk_complete)
    return false; /* out of memory */
  if(e != HPE_OK && e != HPE_PAUSED) {
    c->refusing = true;
    c->refuse_status = 400;
    c->refuse_reason = "bad_request";
    snprintf(c->refuse_msg, sizeof(c->refuse_msg), "the request is not HTTP/1.1 as "
             "expected: %s", http_errno_description(e));
    return true;
  }
  if(e == HPE_PAUSED && !c->refusing && used < n && !buf_add(&c->in, data + used, n - used))
    return false;
  return true;
}

/* Go on with input that waited behind an answer. */
static bool parse_waiting(struct h1client *c)
{
  struct buf in = c->in;
  bool ok;

  if(!in.len)
    return true;
  memset(&c->in, 0, sizeof(c->in));
  ok = parse(c, in.p, in.len);
  buf_free(&in);
  return ok;
}

/* TLS: finish the handshake. false when the connection is over. */
static bool handshake(struct h1client *c)
{
  int rc = SSL_accept(c->ssl);

  if(rc == 1) {
    X509 *peer;
    c->handshaken = true;
    watch(c, false);
    if(c->s->mtls && (peer = SSL_get1_peer_certificate(c->ssl))) {
      c->verified = SSL_get_verify_result(c->ssl) == X509_V_OK;
      X509_free(peer);
    }
    return true;
  }
  switch(SSL_get_error(c->ssl, rc)) {
  case SSL_ERROR_WANT_READ:
    watch(c, false);
    return true;
  case SSL_ERROR_WANT_WRITE:
    watch(c, true);
    return true;
  default: /* a caller that does not speak TLS, or gives up */
    ERR_clear_error();
    c->failed = true;
    return false;
  }
}

/* Read what the socket has. 1: read something; 0: nothing now; -1: over. */
static int read_some(struct h1client *c, char *buf, size_t cap, size_t *n)
{
  if(c->ssl) {
    int rc = SSL_read_ex(c->ssl, buf, cap, n);
    if(rc == 1)
      return 1;
    switch(SSL_get_error(c->ssl, rc)) {
    case SSL_ERROR_WANT_READ:
      return 0;
    case SSL_ERROR_WANT_WRITE:
      watch(c, true);
      return 0;
    default: /* gone, or broken */
      ERR_clear_error();
      c->failed = true;
      return -1;
    }
  }
  ssize_t r = recv(c->fd, buf, cap, 0);
  if(r > 0) {
    *n = (size_t)r;
    return 1;
  }
  if(r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    return 0;
  return -1;
}

static void serve_input(struct h1client *c)
{
  char buf[16384];

  for(int i = 0; !c->dead; i++) {
    size_t n = 0;
    int rc = read_some(c, buf, sizeof(buf), &n);
    if(rc < 0) {
      client_end(c);
      return;
    }
    if(!rc)
      return;
    touch(c);
    if(c->answering || c->close_after || c->in.len) { /* waits behind an answer */
      if(c->close_after || c->in.len + n > MAX_HEAD + c->s->max_body ||
         !buf_add(&c->in, buf, n)) {
        c->in.len = 0; /* more than a next request may be: closed after the answer */
        c->close_after = true;
      } else if(!c->answering) {
        c->s->due = c->waiting = true;
      }
    } else {
      if(!parse(c, buf, n)) {
        client_end(c);
        return;
      }
      if(c->out.len && !flush(c)) { /* 100 Continue */
        client_end(c);
        return;
      }
      dispatch(c);
      if(c->out.len && !c->dead && !flush(c)) { /* answered at once */
        client_end(c);
        return;
      }
      if(c->answering) /* the rest when it is answered, or when poll says */
        return;
    }
    if(i + 1 == READS_PER_TURN) { /* fair to the others; the rest on the next turn */
      if(c->ssl && SSL_has_pending(c->ssl))
        c->s->due = c->waiting = true;
      return;
    }
  }
}

static void client_io(struct h1client *c, short revents)
{
  c->busy = true;
  if(c->ssl && !c->handshaken && !handshake(c))
    client_end(c);
  if(!c->dead && c->handshaken) {
    /* writable with nothing to write: OpenSSL's read wanted to write */
    bool read_again = (revents & POLLOUT) && !c->out.len;
    if(c->out.len && (revents & POLLOUT) && !flush(c))
      client_end(c);
    if(read_again)
      watch(c, false);
    if(!c->dead && (read_again || (revents & (POLLIN | POLLHUP | POLLERR))))
      serve_input(c);
  }
  c->busy = false;
  if(c->dead)
    client_free(c);
}

static void on_client(int fd, short revents, void *ud)
{
  (void)fd;
  client_io(ud, revents);
}

static void on_listen(int fd, short revents, void *ud)
{
  struct h1server *s = ud;

  (void)revents;
  for(int i = 0; i < ACCEPTS_PER_TURN; i++) {
    int one = 1, cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    struct h1client *c;
    if(cfd < 0) {
      if(errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        /* the queue stays readable: wait, not spin (callers wait in it) */
        daemon_log(1, "msg=\"cannot accept a connection: %s; trying again in 100 ms\"",
                   strerror(errno));
        sdc_pool_unwatch(s->loop, fd);
        s->accept_again_ms = daemon_now_ms() + 100;
      }
      return;
    }
    if(s->max_conns && s->n_conns >= s->max_conns) { /* gateway.maxConnections */
      close(cfd);
      continue;
    }
    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* answers go whole */
    if(!(c = calloc(1, sizeof(*c)))) {
      close(cfd);
      continue;
    }
    c->s = s;
    c->fd = cfd;
    c->handshaken = !s->ctx;
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    if(s->ctx && (!(c->ssl = SSL_new(s->ctx)) || SSL_set_fd(c->ssl, cfd) != 1)) {
      SSL_free(c->ssl);
      close(cfd);
      free(c);
      continue;
    }
    if(sdc_pool_watch(s->loop, cfd, POLLIN, on_client, c)) {
      SSL_free(c->ssl);
      close(cfd);
      free(c);
      continue;
    }
    s->n_conns++;
    c->active_ms = daemon_now_ms();
    push_newest(c);
  }
}

/* ---- answering ---- */
void h1server_reply(struct h1client *c, unsigned status, const char *type, const char *body,
                    size_t len)
{
  char head[512];
  int n;
  bool outer = !c->busy;

  if(!c->answering || c->dead)
    return;
  c->answering = false;
  c->ready = false;
  if(HTTP_PARSER_ERRNO(&c->parser) == HPE_PAUSED)
    http_parser_pause(&c->parser, 0); /* the next request may be read */
  n = snprintf(head, sizeof(head),
               "HTTP/1.1 %u %s\r\nDate: %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
               "Cache-Control: no-store\r\n%s%s%s\r\n",
               status, reason_phrase(status), http_date(), type, len,
               status == 401 ? "WWW-Authenticate: Bearer\r\n" : "",
               status == 503 ? "Retry-After: 1\r\n" : "",
               c->close_after ? "Connection: close\r\n" : "");
  if(n < 0 || (size_t)n >= sizeof(head) || !buf_add(&c->out, head, (size_t)n) ||
     (!c->head_only && !buf_add(&c->out, body, len))) {
    c->close_after = true;
  }
  touch(c);
  if(!outer) /* the call serving the connection sends it */
    return;
  c->busy = true;
  if(!flush(c))
    client_end(c);
  c->busy = false;
  if(c->dead)
    client_free(c);
}

const char *h1client_method(const struct h1client *c)
{
  return http_method_str((enum http_method)c->parser.method);
}

const char *h1client_target(const struct h1client *c) { return c->target.p ? c->target.p : ""; }

const char *h1client_body(const struct h1client *c, size_t *len)
{
  *len = c->body.len;
  return c->body.p ? c->body.p : "";
}

void h1client_set_data(struct h1client *c, void *data) { c->data = data; }
void *h1client_data(const struct h1client *c) { return c->data; }

/* ---- the server ---- */
static bool use_pem_identity(SSL_CTX *ctx, const char *cert_pem, const char *key_pem)
{
  BIO *b = BIO_new_mem_buf(cert_pem, -1);
  X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
  EVP_PKEY *k = NULL;
  bool ok = x && SSL_CTX_use_certificate(ctx, x) == 1;

  X509_free(x);
  while(ok && (x = PEM_read_bio_X509(b, NULL, NULL, NULL))) /* the chain */
    if(SSL_CTX_add0_chain_cert(ctx, x) != 1) {
      X509_free(x);
      ok = false;
    }
  BIO_free(b);
  ERR_clear_error(); /* the end of the chain */
  b = ok ? BIO_new_mem_buf(key_pem, -1) : NULL;
  k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
  ok = k && SSL_CTX_use_PrivateKey(ctx, k) == 1 && SSL_CTX_check_private_key(ctx) == 1;
  EVP_PKEY_free(k);
  BIO_free(b);
  return ok;
}

static bool use_client_ca(SSL_CTX *ctx, const char *pem)
{
  BIO *b = BIO_new_mem_buf(pem, -1);
  X509_STORE *store = SSL_CTX_get_cert_store(ctx);
  STACK_OF(X509_NAME) *names = sk_X509_NAME_new_null();
  X509 *x;
  int n = 0;

  while(b && names && (x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
    X509_NAME *nm = X509_NAME_dup(X509_get_subject_name(x));
    if(X509_STORE_add_cert(store, x) == 1)
      n++;
    if(nm && !sk_X509_NAME_push(names, nm))
      X509_NAME_free(nm);
    X509_free(x);
  }
  ERR_clear_error();
  BIO_free(b);
  if(names)
    SSL_CTX_set_client_CA_list(ctx, names); /* the CAs the caller is told of */
  return n > 0;
}

/* The certificate is checked after the handshake, so that a caller
 * without one is told why in an HTTP answer (403), not a TLS alert. */
static int verify_later(int ok, X509_STORE_CTX *x)
{
  (void)ok;
  (void)x;
  return 1;
}

static SSL_CTX *server_ctx(const struct listen_opts *o, char *err, size_t cap)
{
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

  if(!ctx) {
    snprintf(err, cap, "out of memory");
    return NULL;
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  /* an idle caller keeps no buffers; a record read in one recv() */
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_read_ahead(ctx, 1);
  if(!use_pem_identity(ctx, o->cert_pem, o->key_pem)) {
    snprintf(err, cap, "the certificate or key is unusable: check that certFile and keyFile "
             "are PEM and belong together");
    SSL_CTX_free(ctx);
    return NULL;
  }
  if(o->client_ca_pem) {
    if(!use_client_ca(ctx, o->client_ca_pem)) {
      snprintf(err, cap, "clientCaFile holds no PEM certificate");
      SSL_CTX_free(ctx);
      return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_later);
  }
  return ctx;
}

int h1server_start(struct h1server **out, sdc_pool *loop, const struct listen_opts *o,
                   const char *what, const struct h1server_hooks *hooks, void *ud,
                   size_t max_body, int *port, char *err, size_t errcap)
{
  struct h1server *s = calloc(1, sizeof(*s));
  char why[200];

  if(!s || (o->token && !(s->token = strdup(o->token)))) { /* fail closed */
    free(s);
    snprintf(err, errcap, "out of memory");
    return -1;
  }
  s->loop = loop;
  s->hooks = *hooks;
  s->ud = ud;
  s->max_body = max_body;
  s->max_conns = o->max_connections;
  s->idle_ms = IDLE_MS;
  s->fd = -1;
  if(o->cert_pem && !(s->ctx = server_ctx(o, why, sizeof(why)))) {
    snprintf(err, errcap, "cannot start the %s on %s: %s", what, o->listen, why);
    h1server_stop(s);
    return -1;
  }
  s->mtls = s->ctx && o->client_ca_pem;
  if((s->fd = listener_socket(o->listen, port, err, errcap)) < 0) {
    h1server_stop(s);
    return -1;
  }
  if(sdc_pool_watch(loop, s->fd, POLLIN, on_listen, s)) {
    snprintf(err, errcap, "cannot watch the %s", what);
    h1server_stop(s);
    return -1;
  }
  *out = s;
  return 0;
}

void h1server_set_max_body(struct h1server *s, size_t max_body)
{
  if(s)
    s->max_body = max_body;
}

void h1server_set_idle_ms(struct h1server *s, uint64_t idle_ms)
{
  if(s)
    s->idle_ms = idle_ms;
}

size_t h1server_connections(const struct h1server *s) { return s ? s->n_conns : 0; }

uint64_t h1server_timeout_ms(const struct h1server *s)
{
  uint64_t now, at;

  if(!s)
    return UINT64_MAX;
  if(s->due)
    return 0;
  now = daemon_now_ms();
  at = s->accept_again_ms ? s->accept_again_ms : UINT64_MAX;
  if(s->oldest && s->oldest->active_ms + s->idle_ms < at)
    at = s->oldest->active_ms + s->idle_ms;
  return at == UINT64_MAX ? UINT64_MAX : at > now ? at - now : 0;
}

void h1server_run(struct h1server *s)
{
  uint64_t now = daemon_now_ms();
  size_t n;

  if(!s)
    return;
  if(s->accept_again_ms && now >= s->accept_again_ms &&
     !sdc_pool_watch(s->loop, s->fd, POLLIN, on_listen, s))
    s->accept_again_ms = 0;
  /* idle ones go; one waiting for its webhook is not idle */
  n = s->n_conns;
  while(s->oldest && now - s->oldest->active_ms >= s->idle_ms && n--) {
    struct h1client *c = s->oldest;
    if(c->answering)
      touch(c);
    else
      client_end(c);
  }
  if(!s->due)
    return;
  s->due = false;
  for(struct h1client *c = s->newest, *next; c; c = next) {
    next = c->older; /* `c` may move to the front (touch), never `next` */
    if(!c->waiting || c->answering)
      continue;
    c->waiting = false;
    c->busy = true;
    if(!parse_waiting(c) || (c->out.len && !flush(c)))
      client_end(c);
    else
      dispatch(c);
    if(!c->dead && c->out.len && !flush(c))
      client_end(c);
    if(!c->dead && !c->answering && !c->in.len)
      serve_input(c); /* what OpenSSL read ahead */
    c->busy = false;
    if(c->dead)
      client_free(c);
  }
}

void h1server_stop(struct h1server *s)
{
  if(!s)
    return;
  for(struct h1client *c = s->oldest, *next; c; c = next) {
    next = c->newer;
    client_end(c); /* not busy: never called from the server's own hooks */
  }
  if(s->fd >= 0) {
    sdc_pool_unwatch(s->loop, s->fd);
    close(s->fd);
  }
  SSL_CTX_free(s->ctx);
  daemon_free_secret(s->token);
  free(s);
}
