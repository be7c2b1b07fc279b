/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Resolve a Service Directory service to its endpoints.
 *
 *   resolve_service [--local HOST:PORT] SERVICE
 *
 * SERVICE is projects/P/locations/L/namespaces/N/services/S. Without
 * --local it asks Google's API with Google's default credentials; with it,
 * a local directory (`sdconnect sd-server`) over plaintext on loopback.
 * Exit status: 0 resolved, 1 the directory failed, 2 usage.
 */
#include <sdconnect/sdconnect.h>

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
  const char *local = NULL, *name = NULL;
  sdc_resolver_opts *opts = NULL;
  sdc_resolver *res = NULL;
  const sdc_service *svc = NULL;
  char err[256] = "";
  sdc_status st;
  int rc = 1;

  if(argc == 4 && strcmp(argv[1], "--local") == 0) {
    local = argv[2];
    name = argv[3];
  } else if(argc == 2 && argv[1][0] != '-') {
    name = argv[1];
  } else {
    fprintf(stderr, "usage: %s [--local HOST:PORT] SERVICE\n", argv[0]);
    return 2;
  }
  /* The library loaded at run time must serve what these headers declare. */
  if(SDC_VERSION_CHECK() != SDC_OK) {
    fprintf(stderr, "libsdconnect %s cannot serve a program built against %s\n",
            sdc_version(), SDC_VERSION_STRING);
    return 1;
  }
  if(sdc_global_init(NULL) != SDC_OK)
    return 1;

  if((st = sdc_resolver_opts_new(&opts)) != SDC_OK)
    goto fail;
  if(local && ((st = sdc_resolver_opts_set_endpoint(opts, local)) != SDC_OK ||
               (st = sdc_resolver_opts_set_plaintext(opts, 1)) != SDC_OK)) {
    fprintf(stderr, "--local %s: %s (expected HOST:PORT)\n", local, sdc_strerror(st));
    rc = 2;
    goto out;
  }
  if((st = sdc_resolver_new(&res, opts, err, sizeof(err))) != SDC_OK) {
    fprintf(stderr, "cannot make a resolver: %s%s%s\n", sdc_strerror(st),
            err[0] ? ": " : "", err);
    goto out;
  }
  if((st = sdc_resolve(res, name, 0, NULL, &svc, NULL)) != SDC_OK) {
    fprintf(stderr, "%s\n", sdc_resolver_errmsg(res));
    rc = st == SDC_EINVAL ? 2 : 1;
    goto out;
  }
  printf("%s: %zu endpoint(s)\n", svc->name, svc->n_endpoints);
  for(size_t i = 0; i < svc->n_endpoints; i++) {
    const sdc_endpoint *ep = sdc_service_endpoint(svc, i); /* not svc->endpoints[i] */
    int v6 = strchr(ep->address, ':') != NULL;
    printf("  %s  %s%s%s:%d%s\n", ep->name, v6 ? "[" : "", ep->address, v6 ? "]" : "",
           ep->port, ep->usable ? "" : "  (not usable: no address or port)");
  }
  rc = 0;
  goto out;
fail:
  fprintf(stderr, "%s\n", sdc_strerror(st));
out:
  sdc_service_release(svc);
  sdc_resolver_free(res);
  sdc_resolver_opts_free(opts);
  sdc_global_cleanup();
  return rc;
}
