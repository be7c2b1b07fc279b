/* SPDX-License-Identifier: Apache-2.0 */
#include "sdclient.h"
#include "proc.h"

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

static void tell(sdc_resolver *r, const sdc_sd_resource *res, sdc_status st, const char *then)
{
  fprintf(stderr, "tsd: creating %s failed: %s: %s%s\n",
          res ? sdc_sd_resource_name(res) : "(no resource)", sdc_strerror(st),
          sdc_resolver_errmsg(r), then);
}

/* Create `res` (and free it); 0 or -1, said on stderr with the reason.
 * The library never retries a create (a lost answer must not create
 * twice), so a fixture's create that met a transient failure is tried once
 * more here, and ALREADY_EXISTS then means the first one took. Said on
 * stderr either way. */
static int create(sdc_resolver *r, sdc_sd_resource *res)
{
  sdc_sd_resource *out = NULL;
  sdc_status st = res ? sdc_sd_create(r, res, &out) : SDC_ENOMEM;

  if(st == SDC_EUNAVAILABLE || st == SDC_ETIMEDOUT) {
    tell(r, res, st, "; trying once more");
    tproc_sleep_ms(200);
    st = sdc_sd_create(r, res, &out);
    if(st == SDC_EEXIST)
      st = sdc_sd_get(r, sdc_sd_resource_kind(res), sdc_sd_resource_name(res), &out);
  }
  if(st != SDC_OK)
    tell(r, res, st, "");
  sdc_sd_resource_free(out);
  sdc_sd_resource_free(res);
  return st == SDC_OK ? 0 : -1;
}

static sdc_sd_resource *made(sdc_sd_kind kind, const char *name)
{
  sdc_sd_resource *res = NULL;
  return sdc_sd_resource_new(&res, kind, name) ? NULL : res;
}

int tsd_namespace(sdc_resolver *r, const char *name)
{
  return create(r, made(SDC_SD_NAMESPACE, name));
}

int tsd_service(sdc_resolver *r, const char *name)
{
  return create(r, made(SDC_SD_SERVICE, name));
}

int tsd_endpoint_net(sdc_resolver *r, const char *name, const char *addr, int port,
                     const char *network)
{
  sdc_sd_resource *e = made(SDC_SD_ENDPOINT, name);
  if(e && (sdc_sd_resource_set_address(e, addr) || sdc_sd_resource_set_port(e, port) ||
           sdc_sd_resource_set_network(e, network))) {
    sdc_sd_resource_free(e);
    return -1;
  }
  return create(r, e);
}

int tsd_endpoint(sdc_resolver *r, const char *name, const char *addr, int port)
{
  return tsd_endpoint_net(r, name, addr, port, NULL);
}

int tsd_endpoint_port(sdc_resolver *r, const char *name, int port)
{
  static const char *const mask[] = {"port"};
  sdc_sd_resource *e = made(SDC_SD_ENDPOINT, name), *out = NULL;
  sdc_status st = !e || sdc_sd_resource_set_port(e, port) ? SDC_EINVAL
                                                          : sdc_sd_update(r, e, mask, 1, &out);

  sdc_sd_resource_free(out);
  sdc_sd_resource_free(e);
  return st == SDC_OK ? 0 : -1;
}
