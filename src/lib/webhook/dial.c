/* SPDX-License-Identifier: Apache-2.0 */
/* Where a webhook's (or a token endpoint's) URL host is: an address
 * literal is used as it is; a name is looked up in DNS on the pool's loop
 * (sdc_pool_resolve_host), never blocking it. */
#include "webhook/webhook.h"

#include "core/core.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

struct lookup {
  sdc_target *t;
  int port;
  sdc__host_ready then;
  void *ud;
};

static void on_addrs(sdc_status st, const char *const *addrs, size_t n, const char *errmsg,
                     void *ud)
{
  struct lookup l = *(struct lookup *)ud;
  int ports[16];

  sdc_free(ud);
  if(!st && n) {
    if(n > 16)
      n = 16;
    for(size_t i = 0; i < n; i++)
      ports[i] = l.port;
    st = sdc_target_set_addresses(l.t, addrs, ports, n);
  } else if(!st) {
    st = SDC_ENOTFOUND;
  }
  l.then(l.ud, st, st ? (errmsg ? errmsg : "no address") : NULL);
}

sdc_status sdc__webhook_address(sdc_pool *p, sdc_target *t, const char *host, int port,
                                sdc__host_ready then, void *ud)
{
  unsigned char bin[16];
  char lit[64];
  size_t n = strlen(host);
  struct lookup *l;

  if(n > 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof(lit)) {
    memcpy(lit, host + 1, n - 2); /* [v6] */
    lit[n - 2] = '\0';
  } else {
    snprintf(lit, sizeof(lit), "%s", n < sizeof(lit) ? host : "");
  }
  if(inet_pton(AF_INET, lit, bin) == 1 || inet_pton(AF_INET6, lit, bin) == 1) {
    const char *a = lit;
    sdc_status st = sdc_target_set_addresses(t, &a, &port, 1);
    then(ud, st, st ? "cannot use the address" : NULL);
    return SDC_OK;
  }
  if(!(l = sdc__calloc(1, sizeof(*l))))
    return SDC_ENOMEM;
  *l = (struct lookup){t, port, then, ud};
  if(sdc_pool_resolve_host(p, host, on_addrs, l)) {
    sdc_free(l);
    return SDC_EAGAIN;
  }
  return SDC_OK;
}
