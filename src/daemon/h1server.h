/* SPDX-License-Identifier: Apache-2.0 */
/* The gateway's HTTP/1.1 server: TLS (OpenSSL), mTLS or a bearer token,
 * keep-alive, on the daemon's one loop. One request at a time per
 * connection, answered now or later (the loop never waits for it). */
#ifndef SDC_DAEMON_H1SERVER_H
#define SDC_DAEMON_H1SERVER_H

#include "listener.h"

#include <sdconnect/pool.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct h1server;
struct h1client; /* a caller's connection, with the request it is on */

struct h1server_hooks {
  /* A request is in (head and whole body) from an authorized caller and
   * within the size limit. Answer with h1server_reply(), now or later;
   * until then the connection reads nothing more. */
  void (*request)(struct h1client *c, void *ud);
  /* The server refuses the request: answer with h1server_reply() before
   * returning (`reason`: a metric label; `message`: for people). The
   * connection closes after the answer. */
  void (*refused)(struct h1client *c, unsigned status, const char *reason,
                  const char *message, void *ud);
  /* The caller went away before its answer: `c` is gone once this
   * returns. */
  void (*gone)(struct h1client *c, void *ud);
};

/* Listen on o->listen (TLS when o->cert_pem; a client certificate from
 * o->client_ca_pem; a bearer token o->token) on `loop`. *port: the port
 * bound. 0, or -1 with err naming `what`. */
int h1server_start(struct h1server **out, sdc_pool *loop, const struct listen_opts *o,
                   const char *what, const struct h1server_hooks *hooks, void *ud,
                   size_t max_body, int *port, char *err, size_t errcap);
void h1server_set_max_body(struct h1server *s, size_t max_body);
/* Idle connections are closed after this long (default 300 s). */
void h1server_set_idle_ms(struct h1server *s, uint64_t idle_ms);
/* The longest the loop may wait before h1server_run() (ms); NULL: never. */
uint64_t h1server_timeout_ms(const struct h1server *s);
/* Closes idle connections, serves requests that waited behind others. */
void h1server_run(struct h1server *s);
/* Every connection closes (hooks.gone for requests not answered). NULL ok. */
void h1server_stop(struct h1server *s);
size_t h1server_connections(const struct h1server *s);

/* The request `c` is on. */
const char *h1client_method(const struct h1client *c);
const char *h1client_target(const struct h1client *c); /* path and query */
const char *h1client_body(const struct h1client *c, size_t *len); /* NUL after it */
void h1client_set_data(struct h1client *c, void *data);
void *h1client_data(const struct h1client *c);

/* Answer the request `c` is on (body copied; a 401 says WWW-Authenticate,
 * a 503 Retry-After). `c` may be gone when this returns. */
void h1server_reply(struct h1client *c, unsigned status, const char *type, const char *body,
                    size_t len);

#endif
