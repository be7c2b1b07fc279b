/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's admin listener: libmicrohttpd driven from the daemon's one
 * loop, with TLS, mTLS or a bearer token as configured. What a listener is
 * started with (listen_opts), its socket and the token check are shared
 * with the gateway's own server (h1server.c). */
#ifndef SDC_DAEMON_LISTENER_H
#define SDC_DAEMON_LISTENER_H

#include <sdconnect/sdconnect.h>

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

/* What a listener is started with: the text of its files, read when the
 * configuration is (so a reload can tell whether anything changed). */
struct listen_opts {
  char *listen;             /* HOST:PORT (port 0: any) */
  char *cert_pem, *key_pem; /* TLS, or NULL */
  char *client_ca_pem;      /* mTLS: client certificates from this CA */
  char *token;              /* require "Authorization: Bearer <token>" */
  unsigned max_connections; /* 0: the server's default (the gateway: none) */
};

/* Read the files into `o` (token: its first line). 0, or -1 (logged,
 * naming `what`). */
int listen_opts_read(struct listen_opts *o, const char *what, const char *listen,
                     const char *cert_file, const char *key_file, const char *ca_file,
                     const char *token_file);
bool listen_opts_same(const struct listen_opts *a, const struct listen_opts *b);
void listen_opts_free(struct listen_opts *o); /* wipes the key and token */

struct listener {
  struct MHD_Daemon *d;
  sdc_pool *loop;
  int epoll_fd, listen_fd;
  char *token;
  bool mtls; /* a client certificate the CA signed is required */
  bool due;  /* a connection was resumed: run it on the loop's next turn */
};

/* Listen on o->listen and serve with `handler` (and `completed`, when a
 * request ends; may be NULL) on `loop`. *port: the port bound. 0, or -1
 * with err. */
int listener_start(struct listener *l, sdc_pool *loop, const struct listen_opts *o,
                   const char *what, MHD_AccessHandlerCallback handler, void *cls,
                   MHD_RequestCompletedCallback completed, void *completed_cls, int *port,
                   char *err, size_t errcap);
/* Resume a suspended connection; the listener runs again on the loop's
 * next turn (its descriptor does not tell). */
void listener_resume(struct listener *l, struct MHD_Connection *conn);
/* The longest the loop may wait before the listener needs a turn (ms). */
uint64_t listener_timeout_ms(const struct listener *l);
void listener_run(struct listener *l);
void listener_stop(struct listener *l); /* a stopped or zeroed one too */

/* May the request go on? 0; 403 when a client certificate is required
 * (mTLS) and none the CA signed was shown; 401 when a bearer token is
 * required and not given (compared in the same time wherever it differs).
 * `why` says which. */
unsigned listener_check(const struct listener *l, struct MHD_Connection *conn,
                        const char **why);
/* "Bearer <token>" in `authorization` (NULL: none), compared in the same
 * time wherever it differs. */
bool listener_token_ok(const char *token, const char *authorization);
/* A non-blocking listening socket for HOST:PORT ([v6]:PORT; port 0: any
 * free one); *port: the one bound. -1 with err. */
int listener_socket(const char *hostport, int *port, char *err, size_t cap);
/* Queue an answer (body copied). */
enum MHD_Result listener_reply(struct MHD_Connection *conn, unsigned status, const char *type,
                               const char *body, size_t len);

#endif
