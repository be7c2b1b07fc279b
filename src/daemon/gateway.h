/* SPDX-License-Identifier: Apache-2.0 */
/* The webhook gateway of `sdconnect serve`: POST /v1/webhooks/{id} (and a
 * flexible webhook's own method) forwarded to the webhook as Dialogflow CX
 * calls it, on the daemon's loop (listener.c). */
#ifndef SDC_DAEMON_GATEWAY_H
#define SDC_DAEMON_GATEWAY_H

#include "listener.h"

struct daemon;
struct gateway;

struct gateway_limits {
  size_t max_body;         /* bytes of a request body */
  unsigned max_concurrent; /* calls at once; past it: 503 */
};

/* Serve `o` for `d` (borrowed: its running configuration's webhooks and
 * caller). *port: the port bound. 0, or -1 with err. */
int gateway_start(struct gateway **out, struct daemon *d, const struct listen_opts *o,
                  const struct gateway_limits *lim, int *port, char *err, size_t errcap);
void gateway_set_limits(struct gateway *g, const struct gateway_limits *lim);
uint64_t gateway_timeout_ms(struct gateway *g); /* NULL: UINT64_MAX */
void gateway_run(struct gateway *g);             /* NULL ok */
/* The daemon stops: calls under way go on and are answered; new requests
 * are answered 503 at once. NULL ok. */
void gateway_drain(struct gateway *g);
/* Requests waiting for their webhook are answered 503; their calls go on
 * and are reported, their answers dropped. NULL ok. */
void gateway_stop(struct gateway *g);

#endif
