/* SPDX-License-Identifier: Apache-2.0 */
/* Shared gRPC channels and call credentials (channel.c). */
#ifndef SDC_SD_CHANNEL_H
#define SDC_SD_CHANNEL_H

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>

struct sdc__auth;

struct sdc__chan_cfg {
  const char *target; /* host:port */
  int plaintext;
  const char *ca_pem, *cert_pem, *key_pem; /* TLS; NULL for defaults */
};

/* A shared channel for `c` (reference taken), NULL on ENOMEM. */
grpc_channel *sdc__channel_get(const struct sdc__chan_cfg *c);
/* Drop a reference from sdc__channel_get(). */
void sdc__channel_put(grpc_channel *ch);

/* Per-call credentials that send the auth source's token. Takes ownership
 * of `a` (freed when gRPC drops the credentials). */
grpc_call_credentials *sdc__call_creds_new(struct sdc__auth *a);

#endif
