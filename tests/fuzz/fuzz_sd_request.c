/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the request decoders and every RPC handler. Input: one byte
 * choosing the method, then the request message bytes. Runs against an
 * in-memory registry that already holds a namespace, service and endpoint,
 * so valid-looking requests reach deep paths. */
#include "registry.h"

#include "google/cloud/servicedirectory/v1/registration_service.pb-c.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sd_registry *registry(void)
{
  static struct sd_registry *s;
  struct sd_err e;
  uint8_t buf[512];
  size_t n;

  if(s)
    return s;
  if(sd_registry_open(&s, NULL, &e))
    abort();
  /* projects/p/locations/l/namespaces/n, then service s and endpoint e */
  {
    Google__Cloud__Servicedirectory__V1__CreateNamespaceRequest r =
        GOOGLE__CLOUD__SERVICEDIRECTORY__V1__CREATE_NAMESPACE_REQUEST__INIT;
    struct sd_reply out;
    r.parent = (char *)"projects/p/locations/l";
    r.namespace_id = (char *)"n";
    n = google__cloud__servicedirectory__v1__create_namespace_request__pack(&r, buf);
    sd_registry_call(s, M_CREATE_NAMESPACE, buf, n, &out);
    sd_reply_cleanup(&out);
  }
  {
    Google__Cloud__Servicedirectory__V1__CreateServiceRequest r =
        GOOGLE__CLOUD__SERVICEDIRECTORY__V1__CREATE_SERVICE_REQUEST__INIT;
    struct sd_reply out;
    r.parent = (char *)"projects/p/locations/l/namespaces/n";
    r.service_id = (char *)"s";
    n = google__cloud__servicedirectory__v1__create_service_request__pack(&r, buf);
    sd_registry_call(s, M_CREATE_SERVICE, buf, n, &out);
    sd_reply_cleanup(&out);
  }
  {
    Google__Cloud__Servicedirectory__V1__CreateEndpointRequest r =
        GOOGLE__CLOUD__SERVICEDIRECTORY__V1__CREATE_ENDPOINT_REQUEST__INIT;
    struct sd_reply out;
    r.parent = (char *)"projects/p/locations/l/namespaces/n/services/s";
    r.endpoint_id = (char *)"e";
    n = google__cloud__servicedirectory__v1__create_endpoint_request__pack(&r, buf);
    sd_registry_call(s, M_CREATE_ENDPOINT, buf, n, &out);
    sd_reply_cleanup(&out);
  }
  return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct sd_reply out;

  if(size < 1)
    return 0;
  sd_registry_call(registry(), (enum sd_method)(data[0] % M_COUNT), data + 1, size - 1, &out);
  sd_reply_cleanup(&out);
  return 0;
}
