/* SPDX-License-Identifier: Apache-2.0 */
#include "sdclient.h"

#include <stdio.h>

sdc_resolver *tsd_client(int port, long cache_ttl_ms)
{
  sdc_resolver_opts *o = NULL;
  sdc_resolver *r = NULL;
  char ep[64], err[256];

  snprintf(ep, sizeof(ep), "127.0.0.1:%d", port);
  if(sdc_resolver_opts_new(&o))
    return NULL;
  sdc_resolver_opts_set_endpoint(o, ep);
  sdc_resolver_opts_set_plaintext(o, 1);
  if(cache_ttl_ms >= 0)
    sdc_resolver_opts_set_cache_ttl_ms(o, (uint64_t)cache_ttl_ms);
  if(sdc_resolver_new(&r, o, err, sizeof(err)))
    fprintf(stderr, "tsd_client: %s\n", err);
  sdc_resolver_opts_free(o);
  return r;
}

static int create(sdc_resolver *r, sdc_sd_resource *res)
{
  sdc_sd_resource *out = NULL;
  sdc_status st = sdc_sd_create(r, res, &out);

  sdc_sd_resource_free(out);
  return st == SDC_OK ? 0 : -1;
}

int tsd_namespace(sdc_resolver *r, const char *name)
{
  sdc_sd_resource ns = {SDC_SD_NAMESPACE, name, NULL, 0, NULL, NULL, 0, NULL};
  return create(r, &ns);
}

int tsd_service(sdc_resolver *r, const char *name)
{
  sdc_sd_resource sv = {SDC_SD_SERVICE, name, NULL, 0, NULL, NULL, 0, NULL};
  return create(r, &sv);
}

int tsd_endpoint(sdc_resolver *r, const char *name, const char *addr, int port)
{
  sdc_sd_resource e = {SDC_SD_ENDPOINT, name, NULL, 0, NULL, addr, port, NULL};
  return create(r, &e);
}
