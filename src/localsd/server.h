/* SPDX-License-Identifier: Apache-2.0 */
/* The gRPC listener of the local Service Directory: completion-queue
 * threads that carry RPCs between gRPC C core and registry.c. */
#ifndef SDC_LOCALSD_SERVER_H
#define SDC_LOCALSD_SERVER_H

#include "registry.h"

struct lsd_server_opts {
  const char *listen;    /* "host:port"; port 0 picks a free one */
  const char *cert_pem;  /* TLS certificate chain (PEM), or NULL */
  const char *key_pem;   /* its private key (PEM), or NULL */
  const char *client_ca_pem; /* require client certificates from this CA */
  const char *token;     /* require "authorization: Bearer <token>" */
  struct lsd_iam *iam;   /* or: tokens stand for members (borrowed) */
  int threads;           /* completion-queue threads, >= 1 */
  int max_message;       /* receive cap in bytes */
};

struct lsd_server;

/* Start serving `reg` (borrowed; must outlive the server). On success
 * writes the bound port. On failure writes a message to err. */
int lsd_server_start(struct lsd_server **out, struct lsd_registry *reg,
                    const struct lsd_server_opts *o, int *port, char *err,
                    size_t errlen);

/* Stop accepting, cancel calls in flight, wait at most `grace_ms` for them,
 * join the threads and free the server. */
void lsd_server_stop(struct lsd_server *srv, int grace_ms);

/* Calls answered so far (any status). */
unsigned long lsd_server_calls(const struct lsd_server *srv);

#endif
