/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's admin listener, served by libmicrohttpd (Debian
 * libmicrohttpd-dev): a maintained HTTP/1.1 server that can be driven from
 * someone else's event loop. It runs with its own epoll set and no thread
 * of its own; the epoll descriptor joins the pool's poll (sdc_pool_watch),
 * and MHD_run() serves what is ready, so it shares the daemon's one loop.
 * (The gateway, on every call's path, has its own server: h1server.c.)
 *
 * The listening socket is made here (any HOST:PORT, port 0 for a free one)
 * and handed over. TLS and mTLS are libmicrohttpd's (GnuTLS); a bearer
 * token is compared in constant time and never logged.
 */
#include "listener.h"

#include "daemon.h"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define IDLE_TIMEOUT_S 300

int listen_opts_read(struct listen_opts *o, const char *what, const char *listen,
                     const char *cert_file, const char *key_file, const char *ca_file,
                     const char *token_file)
{
  memset(o, 0, sizeof(*o));
  if(!(o->listen = strdup(listen)) ||
     (cert_file && (!(o->cert_pem = daemon_read_file(cert_file)) ||
                    !(o->key_pem = daemon_read_file(key_file)))) ||
     (ca_file && !(o->client_ca_pem = daemon_read_file(ca_file))) ||
     (token_file && !(o->token = daemon_read_file(token_file)))) {
    daemon_log(0, "msg=\"cannot read the %s's files\"", what);
    listen_opts_free(o);
    return -1;
  }
  if(o->token)
    o->token[strcspn(o->token, "\r\n")] = '\0';
  return 0;
}

bool listen_opts_same(const struct listen_opts *a, const struct listen_opts *b)
{
  return daemon_same_str(a->listen, b->listen) && daemon_same_str(a->cert_pem, b->cert_pem) &&
         daemon_same_str(a->key_pem, b->key_pem) &&
         daemon_same_str(a->client_ca_pem, b->client_ca_pem) &&
         daemon_same_str(a->token, b->token) && a->max_connections == b->max_connections;
}

void listen_opts_free(struct listen_opts *o)
{
  free(o->listen);
  free(o->cert_pem);
  daemon_free_secret(o->key_pem);
  free(o->client_ca_pem);
  daemon_free_secret(o->token);
  memset(o, 0, sizeof(*o));
}

enum MHD_Result listener_reply(struct MHD_Connection *conn, unsigned status, const char *type,
                               const char *body, size_t len)
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
  if(status == MHD_HTTP_SERVICE_UNAVAILABLE)
    MHD_add_response_header(r, "Retry-After", "1");
  rc = MHD_queue_response(conn, status, r);
  MHD_destroy_response(r);
  return rc;
}

/* libmicrohttpd asks for a client certificate when given a CA, but takes
 * a connection without one: the check is here. */
static bool client_verified(struct MHD_Connection *conn)
{
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
  gnutls_session_t s = ci ? (gnutls_session_t)ci->tls_session : NULL;
  unsigned int status = 1, n = 0;

  return s && gnutls_certificate_get_peers(s, &n) && n > 0 &&
         gnutls_certificate_verify_peers2(s, &status) == 0 && status == 0;
}

unsigned listener_check(const struct listener *l, struct MHD_Connection *conn,
                        const char **why)
{
  const char *header;

  if(l->mtls && !client_verified(conn)) {
    *why = "a client certificate signed by the configured CA is required (mTLS)";
    return 403;
  }
  if(!l->token)
    return 0;
  *why = "a bearer token is required (Authorization: Bearer ...)";
  header = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
  return listener_token_ok(l->token, header) ? 0 : 401;
}

bool listener_token_ok(const char *token, const char *authorization)
{
  size_t tl, hl;
  unsigned char diff = 0;

  if(!authorization || strncmp(authorization, "Bearer ", 7))
    return false;
  authorization += 7;
  hl = strlen(authorization);
  tl = strlen(token);
  for(size_t i = 0; i < tl; i++) /* how long the token is shows, not where it differs */
    diff |= (unsigned char)(token[i] ^ (i < hl ? authorization[i] : 0));
  return !diff && hl == tl;
}

static void on_ready(int fd, short revents, void *ud)
{
  (void)fd;
  (void)revents;
  MHD_run(((struct listener *)ud)->d);
}

int listener_socket(const char *hostport, int *port, char *err, size_t cap)
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
  fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if(fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
     bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 1024) ||
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

int listener_start(struct listener *l, sdc_pool *loop, const struct listen_opts *o,
                   const char *what, MHD_AccessHandlerCallback handler, void *cls,
                   MHD_RequestCompletedCallback completed, void *completed_cls, int *port,
                   char *err, size_t errcap)
{
  unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
  const union MHD_DaemonInfo *info;
  struct MHD_OptionItem opts[12];
  size_t n = 0;

  memset(l, 0, sizeof(*l));
  l->loop = loop;
  l->epoll_fd = -1;
  if(o->token && !(l->token = strdup(o->token))) { /* fail closed */
    snprintf(err, errcap, "out of memory");
    return -1;
  }
  if((l->listen_fd = listener_socket(o->listen, port, err, errcap)) < 0) {
    listener_stop(l);
    return -1;
  }
  opts[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, l->listen_fd, NULL};
  /* a request's headers are small (no request here has a body to speak
   * of): 8 KiB a connection (libmicrohttpd clears it for every request),
   * not its default 32 */
  opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, 8192, NULL};
  /* an idle client connection is closed after this long */
  opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, IDLE_TIMEOUT_S, NULL};
  if(completed)
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)completed,
                                        completed_cls};
  if(o->max_connections)
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, o->max_connections, NULL};
  l->mtls = o->cert_pem && o->client_ca_pem;
  if(o->cert_pem) {
    flags |= MHD_USE_TLS;
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, o->cert_pem};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, o->key_pem};
    if(o->client_ca_pem)
      opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, o->client_ca_pem};
  }
  opts[n] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
  l->d = MHD_start_daemon(flags, 0, NULL, NULL, handler, cls, MHD_OPTION_ARRAY, opts,
                          MHD_OPTION_END);
  if(!l->d) {
    snprintf(err, errcap, "cannot start the %s on %s (libmicrohttpd%s)", what, o->listen,
             o->cert_pem ? "; check the certificate and key" : "");
    listener_stop(l);
    return -1;
  }
  l->listen_fd = -1; /* the daemon's now */
  info = MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_EPOLL_FD);
  l->epoll_fd = info ? info->epoll_fd : -1;
  if(l->epoll_fd < 0 || sdc_pool_watch(loop, l->epoll_fd, POLLIN, on_ready, l)) {
    snprintf(err, errcap, "cannot watch the %s", what);
    l->epoll_fd = -1;
    listener_stop(l);
    return -1;
  }
  return 0;
}

void listener_resume(struct listener *l, struct MHD_Connection *conn)
{
  MHD_resume_connection(conn);
  l->due = true;
}

uint64_t listener_timeout_ms(const struct listener *l)
{
  MHD_UNSIGNED_LONG_LONG t = 0;

  if(!l || !l->d)
    return UINT64_MAX;
  if(l->due)
    return 0;
  if(MHD_get_timeout(l->d, &t) != MHD_YES)
    return UINT64_MAX;
  return (uint64_t)t;
}

void listener_run(struct listener *l)
{
  if(l && l->d) {
    l->due = false;
    MHD_run(l->d);
  }
}

void listener_stop(struct listener *l)
{
  if(!l->loop) /* never started, or stopped */
    return;
  if(l->epoll_fd >= 0)
    sdc_pool_unwatch(l->loop, l->epoll_fd);
  if(l->d)
    MHD_stop_daemon(l->d);
  if(l->listen_fd >= 0)
    close(l->listen_fd);
  daemon_free_secret(l->token);
  memset(l, 0, sizeof(*l));
}
