/* SPDX-License-Identifier: Apache-2.0 */
/* Where a webhook's (or a token endpoint's) URL host is: the pool tells it
 * on its loop (sdc_pool_resolve_host: a literal as it is, a name from DNS
 * on a thread), never blocking the loop and never inside the call. */
#include "webhook/webhook.h"

#include "core/core.h"

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
  struct lookup *l = sdc__calloc(1, sizeof(*l));
  sdc_status st;

  if(!l)
    return SDC_ENOMEM;
  *l = (struct lookup){t, port, then, ud};
  if((st = sdc_pool_resolve_host(p, host, on_addrs, l))) /* literals too, [v6] included */
    sdc_free(l);
  return st;
}
