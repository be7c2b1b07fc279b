/* SPDX-License-Identifier: Apache-2.0 */
/* A directory client for a test's own `sdconnect sd-server` on 127.0.0.1,
 * and the resources tests register in it. */
#ifndef SDC_TEST_SDCLIENT_H
#define SDC_TEST_SDCLIENT_H

#include <sdconnect/sdconnect.h>

/* Plaintext, to 127.0.0.1:`port`; `cache_ttl_ms` as the resolver takes it
 * (negative: its default). NULL on failure. */
sdc_resolver *tsd_client(int port, long cache_ttl_ms);
/* Create a namespace, a service, or an endpoint at addr:port. 0 or -1. */
int tsd_namespace(sdc_resolver *r, const char *name);
int tsd_service(sdc_resolver *r, const char *name);
int tsd_endpoint(sdc_resolver *r, const char *name, const char *addr, int port);
/* The same with its network (NULL: none); the directory's refusal is in
 * sdc_resolver_errmsg(). */
int tsd_endpoint_net(sdc_resolver *r, const char *name, const char *addr, int port,
                     const char *network);
/* Move an endpoint to another port (an Update with the mask "port"). 0 or -1. */
int tsd_endpoint_port(sdc_resolver *r, const char *name, int port);

#endif
