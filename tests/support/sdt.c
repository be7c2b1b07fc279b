/* SPDX-License-Identifier: Apache-2.0 */
#include "sdt.h"

#include "sd/sd.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sdt_call_raw(struct sdt *t, enum lsd_method m, const uint8_t *req,
                  size_t len, struct sdt_resp *out)
{
  memset(out, 0, sizeof(*out));
  if(t->reg) {
    struct lsd_reply r;
    lsd_registry_call(t->reg, m, req, len, &r);
    out->code = r.code;
    snprintf(out->msg, sizeof(out->msg), "%s", r.code ? r.err.msg : "");
    out->body = r.body;
    out->len = r.len;
    return;
  }
  struct sdc__grpc_result res;
  ck_assert_int_eq(sdc__grpc_unary(t->ch, lsd_method_path(m), req, len, t->md,
                                   t->n_md, 10000, &res), SDC_OK);
  out->code = res.code;
  snprintf(out->msg, sizeof(out->msg), "%s", res.details);
  if(res.body) {
    out->body = malloc(res.body_len ? res.body_len : 1);
    memcpy(out->body, res.body, res.body_len);
    out->len = res.body_len;
  }
  sdc__grpc_result_cleanup(&res);
}

void sdt_call(struct sdt *t, enum lsd_method m, const ProtobufCMessage *req,
              struct sdt_resp *out)
{
  size_t n = protobuf_c_message_get_packed_size(req);
  uint8_t *buf = malloc(n ? n : 1);

  protobuf_c_message_pack(req, buf);
  sdt_call_raw(t, m, buf, n, out);
  free(buf);
}

void sdt_resp_free(struct sdt_resp *r)
{
  free(r->body);
  r->body = NULL;
}

static grpc_status_code finish(struct sdt_resp *r, char *msg)
{
  if(msg)
    snprintf(msg, 700, "%s", r->msg);
  sdt_resp_free(r);
  return r->code;
}

grpc_status_code sdt_create_namespace(struct sdt *t, const char *parent,
                                      const char *id, char *msg)
{
  PBT(CreateNamespaceRequest) req;
  PBT(Namespace) ns;
  struct sdt_resp r;

  PB(create_namespace_request__init)(&req);
  PB(namespace__init)(&ns);
  req.parent = (char *)parent;
  req.namespace_id = (char *)id;
  req.namespace_ = &ns;
  sdt_call(t, M_CREATE_NAMESPACE, &req.base, &r);
  return finish(&r, msg);
}

grpc_status_code sdt_create_service(struct sdt *t, const char *parent,
                                    const char *id, char *msg)
{
  PBT(CreateServiceRequest) req;
  PBT(Service) sv;
  struct sdt_resp r;

  PB(create_service_request__init)(&req);
  PB(service__init)(&sv);
  req.parent = (char *)parent;
  req.service_id = (char *)id;
  req.service = &sv;
  sdt_call(t, M_CREATE_SERVICE, &req.base, &r);
  return finish(&r, msg);
}

grpc_status_code sdt_create_endpoint(struct sdt *t, const char *parent,
                                     const char *id, const char *address,
                                     int32_t port, const char *ann_key,
                                     const char *ann_value, char *msg)
{
  PBT(CreateEndpointRequest) req;
  PBT(Endpoint) ep;
  PBT(Endpoint__AnnotationsEntry) ann, *anns[1] = {&ann};
  struct sdt_resp r;

  PB(create_endpoint_request__init)(&req);
  PB(endpoint__init)(&ep);
  PB(endpoint__annotations_entry__init)(&ann);
  ep.address = (char *)address;
  ep.port = port;
  if(ann_key) {
    ann.key = (char *)ann_key;
    ann.value = (char *)ann_value;
    ep.n_annotations = 1;
    ep.annotations = anns;
  }
  req.parent = (char *)parent;
  req.endpoint_id = (char *)id;
  req.endpoint = &ep;
  sdt_call(t, M_CREATE_ENDPOINT, &req.base, &r);
  return finish(&r, msg);
}

grpc_status_code sdt_resolve(struct sdt *t, const char *name, int32_t max,
                             const char *filter,
                             PBT(ResolveServiceResponse) **out, char *msg)
{
  PBT(ResolveServiceRequest) req;
  struct sdt_resp r;

  PB(resolve_service_request__init)(&req);
  req.name = (char *)name;
  req.max_endpoints = max;
  req.endpoint_filter = (char *)(filter ? filter : "");
  sdt_call(t, M_RESOLVE_SERVICE, &req.base, &r);
  *out = NULL;
  if(r.code == GRPC_STATUS_OK) {
    *out = PB(resolve_service_response__unpack)(NULL, r.len, r.body);
    ck_assert_ptr_nonnull(*out);
  }
  return finish(&r, msg);
}

grpc_status_code sdt_list_endpoints(struct sdt *t, const char *parent,
                                    int32_t page_size, const char *token,
                                    const char *filter, const char *order_by,
                                    PBT(ListEndpointsResponse) **out,
                                    char *msg)
{
  PBT(ListEndpointsRequest) req;
  struct sdt_resp r;

  PB(list_endpoints_request__init)(&req);
  req.parent = (char *)parent;
  req.page_size = page_size;
  req.page_token = (char *)(token ? token : "");
  req.filter = (char *)(filter ? filter : "");
  req.order_by = (char *)(order_by ? order_by : "");
  sdt_call(t, M_LIST_ENDPOINTS, &req.base, &r);
  *out = NULL;
  if(r.code == GRPC_STATUS_OK) {
    *out = PB(list_endpoints_response__unpack)(NULL, r.len, r.body);
    ck_assert_ptr_nonnull(*out);
  }
  return finish(&r, msg);
}

grpc_status_code sdt_get_endpoint(struct sdt *t, const char *name,
                                  PBT(Endpoint) **out, char *msg)
{
  PBT(GetEndpointRequest) req;
  struct sdt_resp r;

  PB(get_endpoint_request__init)(&req);
  req.name = (char *)name;
  sdt_call(t, M_GET_ENDPOINT, &req.base, &r);
  *out = NULL;
  if(r.code == GRPC_STATUS_OK) {
    *out = PB(endpoint__unpack)(NULL, r.len, r.body);
    ck_assert_ptr_nonnull(*out);
  }
  return finish(&r, msg);
}

grpc_status_code sdt_delete(struct sdt *t, enum lsd_method m, const char *name,
                            char *msg)
{
  /* the three Delete requests share one shape: name = 1 */
  PBT(DeleteEndpointRequest) req;
  struct sdt_resp r;

  PB(delete_endpoint_request__init)(&req);
  req.name = (char *)name;
  sdt_call(t, m, &req.base, &r);
  if(r.code == GRPC_STATUS_OK)
    ck_assert_uint_eq(r.len, 0); /* google.protobuf.Empty */
  return finish(&r, msg);
}
