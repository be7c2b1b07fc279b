/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/servers/httpd: a small HTTP/1.1 server for tests and benchmarks,
 * plaintext or TLS (OpenSSL), one thread per connection, keep-alive.
 *
 *   httpd --port-file FILE [--listen ADDR] [--cert PEM --key PEM]
 *         [--client-ca PEM [--verify-depth N]] [--max-tls 1.0|1.1]
 *
 * Routes (any method):
 *   /echo[?...]    200, JSON: method, path, host, sni, client_cn, body_len,
 *                  conn (this connection's number), user_agent, check_id,
 *                  authorization, content_type (request headers)
 *   /big?bytes=N   200 with N bytes of 'x' (Content-Length), streamed
 *   /status/N      status N
 *   /redirect?to=U 302 to U (Location: U, as given)
 *   /slow?ms=N     200 after N ms
 *   /json-as-text  200, "{}" labelled text/plain
 *   /latin1        200, application/json whose body is not UTF-8
 *   /stats         200, JSON: accepted (connections so far)
 *   /chunked?parts=N  200, chunked: N chunks of "part\n"
 *   /close         200 with "Connection: close", then closes
 *   /drop-after    200 (keep-alive claimed), then closes: a server's idle
 *                  timeout firing right after an answer
 *   /hangup        closes without answering
 * HEAD gets the headers of GET and no body.
 * It binds 127.0.0.1:0 unless told otherwise, writes the port to the port
 * file once listening, and exits on SIGTERM.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static SSL_CTX *ctx;
static atomic_uint accepted;

struct conn {
  int fd;
  SSL *ssl;
  unsigned num;
  int head_only; /* the request being answered is HEAD */
};

static int io_read(struct conn *c, char *buf, int n)
{
  return c->ssl ? SSL_read(c->ssl, buf, n) : (int)read(c->fd, buf, (size_t)n);
}

static int io_write(struct conn *c, const char *buf, int n)
{
  int done = 0;

  while(done < n) {
    int w = c->ssl ? SSL_write(c->ssl, buf + done, n - done)
                   : (int)write(c->fd, buf + done, (size_t)(n - done));
    if(w <= 0)
      return -1;
    done += w;
  }
  return 0;
}

static int respond_ex(struct conn *c, int status, const char *ctype, const char *extra,
                      const char *body, size_t len)
{
  char head[256];
  int n = snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Type: %s\r\n%s"
                   "Content-Length: %zu\r\n\r\n", status, ctype, extra, len);

  if(io_write(c, head, n))
    return -1;
  return len && !c->head_only ? io_write(c, body, (int)len) : 0;
}

static int respond(struct conn *c, int status, const char *ctype, const char *body,
                   size_t len)
{
  return respond_ex(c, status, ctype, "", body, len);
}

static void header_value(const char *head, const char *name, char *out, size_t cap)
{
  size_t nl = strlen(name);

  out[0] = '\0';
  for(const char *p = strstr(head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
    const char *line = p + 2;
    if(!strncasecmp(line, name, nl) && line[nl] == ':') {
      const char *v = line + nl + 1, *e = strstr(v, "\r\n");
      while(*v == ' ')
        v++;
      snprintf(out, cap, "%.*s", (int)(e ? e - v : (long)strlen(v)), v);
      return;
    }
  }
}

static void *serve(void *arg)
{
  struct conn *c = arg;
  char buf[65536];
  size_t have = 0;

  if(c->ssl) {
    SSL_set_fd(c->ssl, c->fd);
    if(SSL_accept(c->ssl) <= 0)
      goto out;
  }
  for(;;) {
    char *end, method[16], path[2048], host[256], cl[32];
    size_t head_len, body_len;
    int r;
    buf[have] = '\0';
    while(!(end = strstr(buf, "\r\n\r\n"))) {
      if(have >= sizeof(buf) - 1)
        goto out;
      r = io_read(c, buf + have, (int)(sizeof(buf) - 1 - have));
      if(r <= 0)
        goto out;
      have += (size_t)r;
      buf[have] = '\0';
    }
    head_len = (size_t)(end - buf) + 4;
    if(sscanf(buf, "%15s %2047s", method, path) != 2)
      goto out;
    header_value(buf, "Host", host, sizeof(host));
    header_value(buf, "Content-Length", cl, sizeof(cl));
    body_len = (size_t)atol(cl);
    {
      /* the body: part may already be in buf, the rest is read and dropped */
      size_t in_buf = have - head_len < body_len ? have - head_len : body_len;
      size_t left = body_len - in_buf;
      while(left) {
        char sink[16384];
        r = io_read(c, sink, (int)(left < sizeof(sink) ? left : sizeof(sink)));
        if(r <= 0)
          goto out;
        left -= (size_t)r;
      }
      head_len += in_buf; /* consume the buffered part with the head */
    }
    c->head_only = !strcmp(method, "HEAD");
    if(!strcmp(path, "/echo") || !strncmp(path, "/echo?", 6)) {
      char body[6000], cn[256] = "", ua[256], check[256], auth[256], ctype[256];
      const char *sni = c->ssl ? SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name) : NULL;
      X509 *peer = c->ssl ? SSL_get1_peer_certificate(c->ssl) : NULL;
      if(peer) {
        X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof(cn));
        X509_free(peer);
      }
      header_value(buf, "User-Agent", ua, sizeof(ua));
      header_value(buf, "Check-Id", check, sizeof(check));
      header_value(buf, "Authorization", auth, sizeof(auth));
      header_value(buf, "Content-Type", ctype, sizeof(ctype));
      snprintf(body, sizeof(body), "{\"method\":\"%s\",\"path\":\"%s\",\"host\":\"%s\","
               "\"sni\":\"%s\",\"client_cn\":\"%s\",\"body_len\":%zu,\"conn\":%u,"
               "\"user_agent\":\"%s\",\"check_id\":\"%s\",\"authorization\":\"%s\","
               "\"content_type\":\"%s\"}",
               method, path, host, sni ? sni : "", cn, body_len, c->num, ua, check, auth,
               ctype);
      if(respond(c, 200, "application/json", body, strlen(body)))
        goto out;
    } else if(!strncmp(path, "/big?bytes=", 11)) {
      size_t n = (size_t)atol(path + 11), sent = 0;
      char chunk[16384], head[128];
      int hn = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: "
                        "application/octet-stream\r\nContent-Length: %zu\r\n\r\n", n);
      memset(chunk, 'x', sizeof(chunk));
      if(io_write(c, head, hn))
        goto out;
      while(sent < n) {
        size_t k = n - sent < sizeof(chunk) ? n - sent : sizeof(chunk);
        if(io_write(c, chunk, (int)k))
          goto out; /* the client gave up: that is the point of the test */
        sent += k;
      }
    } else if(!strncmp(path, "/redirect?to=", 13)) {
      char loc[2100];
      snprintf(loc, sizeof(loc), "Location: %s\r\n", path + 13);
      if(respond_ex(c, 302, "text/plain", loc, "moved\n", 6))
        goto out;
    } else if(!strncmp(path, "/status/", 8)) {
      if(respond(c, atoi(path + 8), "text/plain", "status\n", 7))
        goto out;
    } else if(!strcmp(path, "/json-as-text")) {
      if(respond(c, 200, "text/plain", "{}", 2))
        goto out;
    } else if(!strcmp(path, "/latin1")) {
      if(respond(c, 200, "application/json", "{\"t\":\"caf\xe9\"}", 12))
        goto out;
    } else if(!strncmp(path, "/slow?ms=", 9)) {
      int ms = atoi(path + 9);
      struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
      nanosleep(&ts, NULL);
      if(respond(c, 200, "text/plain", "slow\n", 5))
        goto out;
    } else if(!strncmp(path, "/chunked?parts=", 15)) {
      int parts = atoi(path + 15);
      const char *head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
      if(io_write(c, head, (int)strlen(head)))
        goto out;
      for(int i = 0; i < parts; i++)
        if(io_write(c, "5\r\npart\n\r\n", 10))
          goto out;
      if(io_write(c, "0\r\n\r\n", 5))
        goto out;
    } else if(!strcmp(path, "/close")) {
      respond_ex(c, 200, "text/plain", "Connection: close\r\n", "bye\n", 4);
      goto out;
    } else if(!strcmp(path, "/drop-after")) {
      respond(c, 200, "text/plain", "dropped\n", 8);
      goto out;
    } else if(!strcmp(path, "/hangup")) {
      goto out;
    } else if(!strcmp(path, "/stats")) {
      char body[64];
      snprintf(body, sizeof(body), "{\"accepted\":%u}", atomic_load(&accepted));
      if(respond(c, 200, "application/json", body, strlen(body)))
        goto out;
    } else if(respond(c, 404, "text/plain", "not found\n", 10)) {
      goto out;
    }
    memmove(buf, buf + head_len, have > head_len ? have - head_len : 0);
    have = have > head_len ? have - head_len : 0;
  }
out:
  if(c->ssl) {
    SSL_shutdown(c->ssl);
    SSL_free(c->ssl);
  }
  close(c->fd);
  free(c);
  return NULL;
}

int main(int argc, char **argv)
{
  const char *port_file = NULL, *cert = NULL, *key = NULL, *client_ca = NULL,
             *max_tls = NULL, *verify_depth = NULL, *listen_addr = "127.0.0.1";
  struct sockaddr_storage a;
  socklen_t alen = sizeof(a);
  int fd, one = 1;
  FILE *f;
  char tmp[512];

  for(int i = 1; i + 1 < argc; i += 2) {
    if(!strcmp(argv[i], "--port-file")) port_file = argv[i + 1];
    else if(!strcmp(argv[i], "--cert")) cert = argv[i + 1];
    else if(!strcmp(argv[i], "--key")) key = argv[i + 1];
    else if(!strcmp(argv[i], "--client-ca")) client_ca = argv[i + 1];
    else if(!strcmp(argv[i], "--max-tls")) max_tls = argv[i + 1];
    else if(!strcmp(argv[i], "--verify-depth")) verify_depth = argv[i + 1];
    else if(!strcmp(argv[i], "--listen")) listen_addr = argv[i + 1];
    else {
      fprintf(stderr, "httpd: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  if(cert) {
    ctx = SSL_CTX_new(TLS_server_method());
    if(!ctx || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
       SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
      ERR_print_errors_fp(stderr);
      return 1;
    }
    if(client_ca) {
      SSL_CTX_load_verify_locations(ctx, client_ca, NULL);
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
      if(verify_depth) /* a server that takes client chains only this deep */
        SSL_CTX_set_verify_depth(ctx, atoi(verify_depth));
    }
    if(max_tls) { /* an old server: only TLS 1.0 or 1.1 */
      SSL_CTX_set_security_level(ctx, 0);
      SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
      SSL_CTX_set_max_proto_version(ctx, !strcmp(max_tls, "1.0") ? TLS1_VERSION
                                                                  : TLS1_1_VERSION);
    }
  }
  { /* IPv4, or IPv6 ("::1") */
    int v6 = strchr(listen_addr, ':') != NULL;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&a;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&a;
    memset(&a, 0, sizeof(a));
    a.ss_family = v6 ? AF_INET6 : AF_INET;
    if(inet_pton(a.ss_family, listen_addr, v6 ? (void *)&a6->sin6_addr : (void *)&a4->sin_addr) !=
       1) {
      fprintf(stderr, "httpd: --listen %s is not an IP address\n", listen_addr);
      return 2;
    }
    fd = socket(a.ss_family, SOCK_STREAM, 0);
    alen = v6 ? sizeof(*a6) : sizeof(*a4);
  }
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if(bind(fd, (struct sockaddr *)&a, alen) || listen(fd, 128) ||
     getsockname(fd, (struct sockaddr *)&a, &alen)) {
    perror("httpd: listen");
    return 1;
  }
  if(port_file) {
    snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
    f = fopen(tmp, "w");
    if(!f)
      return 1;
    fprintf(f, "%d\n", ntohs(a.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&a)->sin6_port
                                                     : ((struct sockaddr_in *)&a)->sin_port));
    fclose(f);
    rename(tmp, port_file);
  }
  for(;;) {
    int c = accept(fd, NULL, NULL);
    struct conn *cn;
    pthread_t t;
    if(c < 0)
      continue;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    cn = calloc(1, sizeof(*cn));
    cn->fd = c;
    cn->num = atomic_fetch_add(&accepted, 1) + 1;
    cn->ssl = ctx ? SSL_new(ctx) : NULL;
    if(pthread_create(&t, NULL, serve, cn)) {
      close(c);
      free(cn);
      continue;
    }
    pthread_detach(t);
  }
}
