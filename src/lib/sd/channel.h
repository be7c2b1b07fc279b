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

/* A shared channel handle: the process's channel to one target with one set
 * of TLS settings. Its grpc_channel may be replaced while in use (see
 * sdc__chan_renew), so calls acquire the current one and release it. */
struct sdc__chan;

/* The handle for `cfg` (copied; reference taken), NULL on ENOMEM. */
struct sdc__chan *sdc__chan_get(const struct sdc__chan_cfg *cfg);
/* Drop a reference from sdc__chan_get(). */
void sdc__chan_put(struct sdc__chan *c);

/* The current grpc_channel, kept alive until sdc__chan_release(). */
grpc_channel *sdc__chan_acquire(struct sdc__chan *c);
void sdc__chan_release(struct sdc__chan *c, grpc_channel *ch);

/* After a call on `failed` found the directory unavailable: if `failed` is
 * still current and stuck in TRANSIENT_FAILURE, replace it with a fresh
 * channel (gRPC 1.51 can leave a subchannel failing long after the server
 * is back). Returns 1 when it replaced the channel. Thread-safe. */
int sdc__chan_renew(struct sdc__chan *c, grpc_channel *failed);

/* Per-call credentials that send the auth source's token. Takes ownership
 * of `a` (freed when gRPC drops the credentials). */
grpc_call_credentials *sdc__call_creds_new(struct sdc__auth *a);

#endif
