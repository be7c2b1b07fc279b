/* SPDX-License-Identifier: Apache-2.0 */
/* Registration calls (registry.h) over a resolver's channel and policy. */
#include "resolver_int.h"

#include "codec.h"
#include "core/core.h"
#include "google/iam/v1/iam_policy.pb-c.h"

#include <stdio.h>
#include <string.h>

#define REG "/google.cloud.servicedirectory.v1.RegistrationService/"

static const char *word(sdc_sd_kind k)
{
  return k == SDC_SD_NAMESPACE ? "Namespace"
         : k == SDC_SD_SERVICE ? "Service"
                               : "Endpoint";
}

/* Run one call; on success hand back the answer bytes in res. */
static sdc_status call(sdc_resolver *r, const char *verb, sdc_sd_kind k,
                       const char *plural_suffix, const char *routing_key,
                       const char *target, uint8_t *req, size_t len,
                       bool retry, struct sdc__grpc_result *res)
{
  char method[128];
  sdc_status st;

  if(!req) {
    sdc__resolver_fail(r, -1, "out of memory");
    return SDC_ENOMEM;
  }
  snprintf(method, sizeof(method), REG "%s%s%s", verb, word(k), plural_suffix);
  st = sdc__sd_rpc(r, method, routing_key, target, req, len, retry, res);
  sdc_free(req);
  if(st)
    return st;
  if(res->code != GRPC_STATUS_OK) {
    sdc__resolver_fail(r, res->code, "%s%s%s %s via %s: %s: %s", verb,
                       word(k), plural_suffix, target, r->o.endpoint,
                       sdc__grpc_code_name(res->code), res->details);
    st = sdc__status_from_grpc(res->code);
    sdc__grpc_result_cleanup(res);
  }
  return st;
}

static sdc_status decode_one(sdc_resolver *r, sdc_sd_kind k,
                             struct sdc__grpc_result *res,
                             sdc_sd_resource **out)
{
  sdc_sd_resource *d = sdc__resource_decode(k, res->body, res->body_len);

  sdc__grpc_result_cleanup(res);
  if(!d && sdc__decode_ran_out()) {
    sdc__resolver_fail(r, -1, "%s via %s: out of memory", word(k), r->o.endpoint);
    return SDC_ENOMEM;
  }
  if(!d) {
    sdc__resolver_fail(r, GRPC_STATUS_OK, "%s via %s: the answer does not "
                       "decode", word(k), r->o.endpoint);
    return SDC_EPROTO;
  }
  *out = d;
  return SDC_OK;
}

sdc_status sdc_sd_create(sdc_resolver *r, const sdc_sd_resource *in,
                         sdc_sd_resource **out)
{
  char parent[1100];
  const char *slash;
  uint8_t *req;
  size_t len = 0;
  struct sdc__grpc_result res;
  sdc_status st;

  slash = in && in->name ? strrchr(in->name, '/') : NULL;
  /* parent/<collection>/<id>: cut the last two segments */
  if(!slash || slash == in->name || (size_t)(slash - in->name) >= sizeof(parent)) {
    sdc__resolver_fail(r, -1, "create: '%s' is not a full resource name",
                       in && in->name ? in->name : "");
    return SDC_EINVAL;
  }
  memcpy(parent, in->name, (size_t)(slash - in->name));
  parent[slash - in->name] = '\0';
  {
    char *coll = strrchr(parent, '/');
    if(!coll) {
      sdc__resolver_fail(r, -1, "create: '%s' is not a full resource name",
                         in->name);
      return SDC_EINVAL;
    }
    *coll = '\0';
  }
  req = sdc__encode_create(in, parent, slash + 1, &len);
  st = call(r, "Create", in->kind, "", "parent", parent, req, len, false, &res);
  return st ? st : decode_one(r, in->kind, &res, out);
}

sdc_status sdc_sd_get(sdc_resolver *r, sdc_sd_kind kind, const char *name,
                      sdc_sd_resource **out)
{
  size_t len = 0;
  struct sdc__grpc_result res;
  uint8_t *req = sdc__encode_name(name, &len);
  sdc_status st = call(r, "Get", kind, "", "name", name, req, len, true, &res);

  return st ? st : decode_one(r, kind, &res, out);
}

sdc_status sdc_sd_update(sdc_resolver *r, const sdc_sd_resource *in,
                         const char *const *mask, size_t n_mask,
                         sdc_sd_resource **out)
{
  static const char *const keys[] = {"", "namespace.name", "service.name",
                                     "endpoint.name"};
  size_t len = 0;
  struct sdc__grpc_result res;
  uint8_t *req = sdc__encode_update(in, mask, n_mask, &len);
  sdc_status st = call(r, "Update", in->kind, "", keys[in->kind], in->name,
                       req, len, true, &res);

  return st ? st : decode_one(r, in->kind, &res, out);
}

sdc_status sdc_sd_delete(sdc_resolver *r, sdc_sd_kind kind, const char *name)
{
  size_t len = 0;
  struct sdc__grpc_result res;
  uint8_t *req = sdc__encode_name(name, &len);
  sdc_status st = call(r, "Delete", kind, "", "name", name, req, len, true,
                       &res);

  if(!st)
    sdc__grpc_result_cleanup(&res);
  return st;
}

sdc_status sdc_sd_list(sdc_resolver *r, sdc_sd_kind kind, const char *parent,
                       const sdc_sd_list_opts *opts, sdc_sd_page **out)
{
  size_t len = 0;
  struct sdc__grpc_result res;
  sdc_sd_page *page;
  uint8_t *req = sdc__encode_list(parent, opts, &len);
  sdc_status st = call(r, "List", kind, "s", "parent", parent, req, len, true,
                       &res);

  if(st)
    return st;
  page = sdc__page_decode(kind, res.body, res.body_len);
  sdc__grpc_result_cleanup(&res);
  if(!page && sdc__decode_ran_out()) {
    sdc__resolver_fail(r, -1, "List%ss via %s: out of memory", word(kind), r->o.endpoint);
    return SDC_ENOMEM;
  }
  if(!page) {
    sdc__resolver_fail(r, GRPC_STATUS_OK, "List%ss via %s: the answer does "
                       "not decode", word(kind), r->o.endpoint);
    return SDC_EPROTO;
  }
  *out = page;
  return SDC_OK;
}

sdc_status sdc_sd_test_iam_permissions(sdc_resolver *r, const char *resource,
                                       const char *const *permissions, size_t n, int *held)
{
  Google__Iam__V1__TestIamPermissionsRequest req =
      GOOGLE__IAM__V1__TEST_IAM_PERMISSIONS_REQUEST__INIT;
  Google__Iam__V1__TestIamPermissionsResponse *resp;
  struct sdc__grpc_result res;
  uint8_t *buf;
  size_t len;
  sdc_status st;

  if(!r || !resource || (n && (!permissions || !held)))
    return SDC_EINVAL;
  req.resource = (char *)resource;
  req.permissions = (char **)permissions;
  req.n_permissions = n;
  len = google__iam__v1__test_iam_permissions_request__get_packed_size(&req);
  if(!(buf = sdc__malloc(len ? len : 1))) {
    sdc__resolver_fail(r, -1, "out of memory");
    return SDC_ENOMEM;
  }
  google__iam__v1__test_iam_permissions_request__pack(&req, buf);
  st = sdc__sd_rpc(r, REG "TestIamPermissions", "resource", resource, buf, len, true, &res);
  sdc_free(buf);
  if(st)
    return st;
  if(res.code != GRPC_STATUS_OK) {
    sdc__resolver_fail(r, res.code, "TestIamPermissions %s via %s: %s: %s", resource,
                       r->o.endpoint, sdc__grpc_code_name(res.code), res.details);
    st = sdc__status_from_grpc(res.code);
    sdc__grpc_result_cleanup(&res);
    return st;
  }
  (void)sdc__decode_ran_out(); /* cleared: this unpack's alone counts */
  resp = google__iam__v1__test_iam_permissions_response__unpack(&sdc__pb_alloc, res.body_len,
                                                                res.body);
  sdc__grpc_result_cleanup(&res);
  if(!resp && sdc__decode_ran_out()) {
    sdc__resolver_fail(r, -1, "TestIamPermissions via %s: out of memory", r->o.endpoint);
    return SDC_ENOMEM;
  }
  if(!resp) {
    sdc__resolver_fail(r, GRPC_STATUS_OK, "TestIamPermissions via %s: the answer does not "
                       "decode", r->o.endpoint);
    return SDC_EPROTO;
  }
  for(size_t i = 0; i < n; i++) {
    held[i] = 0;
    for(size_t j = 0; j < resp->n_permissions; j++)
      held[i] = held[i] || !strcmp(permissions[i], resp->permissions[j]);
  }
  google__iam__v1__test_iam_permissions_response__free_unpacked(resp, &sdc__pb_alloc);
  return SDC_OK;
}
