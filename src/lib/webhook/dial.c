/* SPDX-License-Identifier: Apache-2.0 */
/* Where a webhook's (or a token endpoint's) URL host is: the pool tells it
 * on its loop (sdc_pool_resolve_host: a literal as it is, a name from DNS
 * on a thread), never blocking the loop and never inside the call. */
#include "webhook/webhook.h"

#include "core/core.h"

#include <stdio.h>
#include <stdlib.h>
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

int sdc__url_host(const char *url, char *host, size_t cap, int *port, bool *tls)
{
  const char *p, *end;
  size_t hl;

  *tls = !strncmp(url, "https://", 8);
  if(!*tls && strncmp(url, "http://", 7))
    return -1;
  p = url + (*tls ? 8 : 7);
  end = p + strcspn(p, "/?#");
  *port = *tls ? 443 : 80;
  if(*p == '[') { /* [v6]:port, kept bracketed as the pool takes it */
    const char *close = memchr(p, ']', (size_t)(end - p));
    if(!close)
      return -1;
    hl = (size_t)(close - p) + 1;
    if(close[1] == ':' && !sdc__parse_port(close + 2, (size_t)(end - close - 2), port))
      return -1;
    if(close[1] && close[1] != ':' && close + 1 != end)
      return -1;
  } else {
    const char *colon = memchr(p, ':', (size_t)(end - p));
    hl = (size_t)((colon ? colon : end) - p);
    if(colon && !sdc__parse_port(colon + 1, (size_t)(end - colon - 1), port))
      return -1;
  }
  if(!hl || hl >= cap || *port <= 0 || *port > 65535)
    return -1;
  memcpy(host, p, hl);
  host[hl] = '\0';
  return 0;
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
