/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin listener, served by libmicrohttpd (Debian libmicrohttpd-dev):
 * a maintained HTTP/1.1 server that can be driven from someone else's
 * event loop. It runs with its own epoll set and no thread of its own; the
 * epoll descriptor joins the pool's poll (sdc_pool_watch), and MHD_run()
 * serves what is ready, so the listener shares the daemon's one loop.
 *
 * /status.json is answered later (the daemon reads its history on another
 * thread): the connection is suspended, and resumed with the answer.
 *
 * The listening socket is made here (any HOST:PORT, port 0 for a free one)
 * and handed over. TLS and mTLS are libmicrohttpd's (GnuTLS); a bearer
 * token is compared in constant time and never logged.
 */
#include "admin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct admin_pending {
  struct admin_pending *next;
  struct admin *a;
  struct MHD_Connection *conn;
  bool answered;
  char *body; /* NULL: 503 */
  size_t len;
};

struct admin {
  struct MHD_Daemon *d;
  struct admin_pending *pending; /* suspended /status.json requests */
  admin_status_fn status;
  void *status_ud;
  sdc_pool *loop;
  int epoll_fd, listen_fd;
  sdc_metrics *metrics;
  admin_ready_fn ready;
  void *ud;
  char *token;
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status,
                             const char *type, const char *body, size_t len)
{
  struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
                                                           MHD_RESPMEM_MUST_COPY);
  enum MHD_Result rc;

  if(!r)
    return MHD_NO;
  MHD_add_response_header(r, "Content-Type", type);
  MHD_add_response_header(r, "Cache-Control", "no-store");
  if(status == MHD_HTTP_UNAUTHORIZED)
    MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
  rc = MHD_queue_response(conn, status, r);
  MHD_destroy_response(r);
  return rc;
}

/* Constant time: how long the token is shows, not where it differs. */
static bool token_ok(const struct admin *a, const char *header)
{
  size_t tl = strlen(a->token), hl;
  unsigned char diff = 0;

  if(!header || strncmp(header, "Bearer ", 7))
    return false;
  header += 7;
  hl = strlen(header);
  for(size_t i = 0; i < tl; i++)
    diff |= (unsigned char)(a->token[i] ^ (i < hl ? header[i] : 0));
  return !diff && hl == tl;
}

static enum MHD_Result answer_pending(struct admin *a, struct admin_pending *p)
{
  enum MHD_Result rc;

  for(struct admin_pending **pp = &a->pending; *pp; pp = &(*pp)->next)
    if(*pp == p) {
      *pp = p->next;
      break;
    }
  rc = p->body ? reply(p->conn, MHD_HTTP_OK, "application/json", p->body, p->len)
               : reply(p->conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain",
                       "the status cannot be read right now\n", 36);
  free(p->body);
  free(p);
  return rc;
}

void admin_answer(struct admin_pending *p, const char *body, size_t len)
{
  if(p->answered)
    return;
  p->answered = true;
  if(body && (p->body = malloc(len ? len : 1))) {
    memcpy(p->body, body, len);
    p->len = len;
  }
  MHD_resume_connection(p->conn); /* the handler runs again in MHD_run */
}

void admin_set_status(struct admin *a, admin_status_fn fn, void *userdata)
{
  a->status = fn;
  a->status_ud = userdata;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **state)
{
  struct admin *a = cls;
  static int first;

  (void)version;
  (void)upload;
  if(!*state) { /* the headers are in; the (empty) body comes next */
    *state = &first;
    return MHD_YES;
  }
  if(*state != &first) /* a /status.json request, resumed with its answer */
    return answer_pending(a, *state);
  if(*upload_size) { /* a body nobody asked for: read and dropped */
    *upload_size = 0;
    return MHD_YES;
  }
  if(strcmp(method, "GET") && strcmp(method, "HEAD"))
    return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "GET only\n", 9);
  if(a->token &&
     !token_ok(a, MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization")))
    return reply(conn, MHD_HTTP_UNAUTHORIZED, "text/plain",
                 "a bearer token is required\n", 27);
  if(!strcmp(url, "/metrics")) {
    size_t len = 0;
    char *text = sdc_metrics_render(a->metrics, &len);
    enum MHD_Result rc;
    if(!text)
      return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", "out of memory\n", 14);
    rc = reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, len);
    sdc_free(text);
    return rc;
  }
  if(a->status && !strcmp(url, "/"))
    return reply(conn, MHD_HTTP_OK, "text/html; charset=utf-8",
                 (const char *)admin_status_page, admin_status_page_len);
  if(a->status && !strcmp(url, "/status.json")) {
    struct admin_pending *p = calloc(1, sizeof(*p));
    if(!p)
      return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", "out of memory\n", 14);
    p->a = a;
    p->conn = conn;
    p->next = a->pending;
    a->pending = p;
    *state = p;
    MHD_suspend_connection(conn);
    a->status(a->status_ud, p);
    return MHD_YES;
  }
  if(!strcmp(url, "/healthz"))
    return reply(conn, MHD_HTTP_OK, "text/plain", "ok\n", 3);
  if(!strcmp(url, "/readyz")) {
    char why[300] = "", body[320];
    bool ready = !a->ready || a->ready(a->ud, why, sizeof(why));
    int n = snprintf(body, sizeof(body), "%s%s%s\n", ready ? "ready" : "not ready",
                     why[0] ? ": " : "", why);
    return reply(conn, ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain",
                 body, (size_t)n);
  }
  return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n", 10);
}

static void on_ready(int fd, short revents, void *ud)
{
  (void)fd;
  (void)revents;
  MHD_run(((struct admin *)ud)->d);
}

/* A listening socket for HOST:PORT; -1 with err. */
static int listen_on(const char *hostport, int *port, char *err, size_t cap)
{
  char host[256], serv[16];
  const char *colon = strrchr(hostport, ':');
  struct addrinfo hints, *res = NULL;
  struct sockaddr_storage ss;
  socklen_t sl = sizeof(ss);
  size_t hl;
  int fd = -1, one = 1, rc;

  if(!colon || (hl = (size_t)(colon - hostport)) == 0 || hl >= sizeof(host)) {
    snprintf(err, cap, "'%s' is not HOST:PORT", hostport);
    return -1;
  }
  if(hostport[0] == '[' && hl > 2) { /* [v6]:port */
    memcpy(host, hostport + 1, hl - 2);
    host[hl - 2] = '\0';
  } else {
    memcpy(host, hostport, hl);
    host[hl] = '\0';
  }
  snprintf(serv, sizeof(serv), "%s", colon + 1);
  memset(&hints, 0, sizeof(hints));
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  if((rc = getaddrinfo(host, serv, &hints, &res))) {
    snprintf(err, cap, "%s: %s", hostport, gai_strerror(rc));
    return -1;
  }
  fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if(fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
     bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 128) ||
     getsockname(fd, (struct sockaddr *)&ss, &sl)) {
    snprintf(err, cap, "cannot listen on %s: %s", hostport, strerror(errno));
    if(fd >= 0)
      close(fd);
    freeaddrinfo(res);
    return -1;
  }
  freeaddrinfo(res);
  *port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                         : ((struct sockaddr_in *)&ss)->sin_port);
  return fd;
}

int admin_start(struct admin **out, sdc_pool *loop, const struct admin_opts *o,
                sdc_metrics *metrics, admin_ready_fn ready, void *userdata,
                int *port, char *err, size_t errcap)
{
  struct admin *a = calloc(1, sizeof(*a));
  unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
  const union MHD_DaemonInfo *info;

  if(!a) {
    snprintf(err, errcap, "out of memory");
    return -1;
  }
  a->loop = loop;
  a->metrics = metrics;
  a->ready = ready;
  a->ud = userdata;
  a->epoll_fd = -1;
  if(o->token && !(a->token = strdup(o->token))) { /* fail closed */
    snprintf(err, errcap, "out of memory");
    free(a);
    return -1;
  }
  if((a->listen_fd = listen_on(o->listen, port, err, errcap)) < 0) {
    admin_stop(a);
    return -1;
  }
  if(o->cert_pem)
    flags |= MHD_USE_TLS;
  a->d = o->cert_pem
             ? MHD_start_daemon(flags, 0, NULL, NULL, on_request, a,
                                MHD_OPTION_LISTEN_SOCKET, a->listen_fd,
                                MHD_OPTION_HTTPS_MEM_CERT, o->cert_pem,
                                MHD_OPTION_HTTPS_MEM_KEY, o->key_pem,
                                o->client_ca_pem ? MHD_OPTION_HTTPS_MEM_TRUST
                                                 : MHD_OPTION_END,
                                o->client_ca_pem, MHD_OPTION_END)
             : MHD_start_daemon(flags, 0, NULL, NULL, on_request, a,
                                MHD_OPTION_LISTEN_SOCKET, a->listen_fd, MHD_OPTION_END);
  if(!a->d) {
    snprintf(err, errcap, "cannot start the admin listener on %s (libmicrohttpd%s)",
             o->listen, o->cert_pem ? "; check the certificate and key" : "");
    admin_stop(a);
    return -1;
  }
  a->listen_fd = -1; /* the daemon's now */
  info = MHD_get_daemon_info(a->d, MHD_DAEMON_INFO_EPOLL_FD);
  a->epoll_fd = info ? info->epoll_fd : -1;
  if(a->epoll_fd < 0 || sdc_pool_watch(loop, a->epoll_fd, POLLIN, on_ready, a)) {
    snprintf(err, errcap, "cannot watch the admin listener");
    admin_stop(a);
    return -1;
  }
  *out = a;
  return 0;
}

uint64_t admin_timeout_ms(struct admin *a)
{
  MHD_UNSIGNED_LONG_LONG t = 0;

  if(!a || MHD_get_timeout(a->d, &t) != MHD_YES)
    return UINT64_MAX;
  return (uint64_t)t;
}

void admin_run(struct admin *a)
{
  if(a)
    MHD_run(a->d);
}

void admin_stop(struct admin *a)
{
  if(!a)
    return;
  if(a->epoll_fd >= 0)
    sdc_pool_unwatch(a->loop, a->epoll_fd);
  for(struct admin_pending *p = a->pending; p; p = p->next)
    admin_answer(p, NULL, 0); /* 503, so none is left suspended */
  if(a->d && a->pending)
    MHD_run(a->d);
  while(a->pending) { /* not taken by MHD_run: closed with the daemon */
    struct admin_pending *p = a->pending;
    a->pending = p->next;
    free(p->body);
    free(p);
  }
  if(a->d)
    MHD_stop_daemon(a->d);
  if(a->listen_fd >= 0)
    close(a->listen_fd);
  if(a->token) {
    memset(a->token, 0, strlen(a->token));
    free(a->token);
  }
  free(a);
}
