/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the request decoders and every RPC handler. Input: one byte
 * choosing the method, then the request message bytes. Runs against an
 * in-memory registry that already holds a namespace, service and endpoint,
 * so valid-looking requests reach deep paths. */
#include "registry.h"

#include "google/cloud/servicedirectory/v1/registration_service.pb-c.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run(struct lsd_registry *s, enum lsd_method m, const ProtobufCMessage *msg)
{
  uint8_t buf[512];
  size_t n = protobuf_c_message_pack(msg, buf);
  struct lsd_reply out;

  lsd_registry_call(s, m, buf, n, &out);
  lsd_reply_cleanup(&out);
}

static struct lsd_registry *registry(void)
{
  static struct lsd_registry *s;
  struct lsd_err e;
  Google__Cloud__Servicedirectory__V1__CreateNamespaceRequest ns =
      GOOGLE__CLOUD__SERVICEDIRECTORY__V1__CREATE_NAMESPACE_REQUEST__INIT;
  Google__Cloud__Servicedirectory__V1__CreateServiceRequest sv =
      GOOGLE__CLOUD__SERVICEDIRECTORY__V1__CREATE_SERVICE_REQUEST__INIT;
  Google__Cloud__Servicedirectory__V1__CreateEndpointRequest ep =
      GOOGLE__CLOUD__SERVICEDIRECTORY__V1__CREATE_ENDPOINT_REQUEST__INIT;

  if(s)
    return s;
  if(lsd_registry_open(&s, NULL, &e))
    abort();
  ns.parent = (char *)"projects/p/locations/l";
  ns.namespace_id = (char *)"n";
  run(s, M_CREATE_NAMESPACE, &ns.base);
  sv.parent = (char *)"projects/p/locations/l/namespaces/n";
  sv.service_id = (char *)"s";
  run(s, M_CREATE_SERVICE, &sv.base);
  ep.parent = (char *)"projects/p/locations/l/namespaces/n/services/s";
  ep.endpoint_id = (char *)"e";
  run(s, M_CREATE_ENDPOINT, &ep.base);
  return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct lsd_reply out;

  if(size < 1)
    return 0;
  lsd_registry_call(registry(), (enum lsd_method)(data[0] % M_COUNT), data + 1, size - 1, &out);
  lsd_reply_cleanup(&out);
  return 0;
}
