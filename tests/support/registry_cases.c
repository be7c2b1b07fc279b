/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Behaviour of the Service Directory API, written once and run both in
 * process (tests/unit/test_registry.c) and over gRPC against the real
 * server process (tests/integration/test_localsd.c).
 */
#include "sdt.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OK GRPC_STATUS_OK
#define EP(id) SVC "/endpoints/" id

static void setup_service(struct sdt *t)
{
  char msg[700];

  ck_assert_int_eq(sdt_create_namespace(t, LOC, "ns", msg), OK);
  ck_assert_int_eq(sdt_create_service(t, NS, "svc", msg), OK);
}

static bool is_uuid4(const char *s)
{
  if(strlen(s) != 36 || s[14] != '4' || !strchr("89ab", s[19]))
    return false;
  for(int i = 0; i < 36; i++)
    if((i == 8 || i == 13 || i == 18 || i == 23) ? s[i] != '-'
                                                  : !strchr("0123456789abcdef", s[i]))
      return false;
  return true;
}

void rc_crud_round_trip(struct sdt *t)
{
  char msg[700];
  PBT(Endpoint) *ep = NULL;
  PBT(ResolveServiceResponse) *res = NULL;
  PBT(CreateEndpointRequest) creq;
  PBT(Endpoint) body;
  struct sdt_resp r;
  char first_uid[40];

  setup_service(t);
  ck_assert_int_eq(sdt_create_namespace(t, LOC, "ns", msg), GRPC_STATUS_ALREADY_EXISTS);
  ck_assert_ptr_nonnull(strstr(msg, "namespace '" NS "' already exists"));
  ck_assert_int_eq(sdt_create_endpoint(t, SVC, "b", "10.0.0.2", 8443, "zone", "b", msg), OK);
  ck_assert_int_eq(sdt_create_endpoint(t, SVC, "a", "2001:db8::1", 443, NULL, NULL, msg), OK);
  ck_assert_int_eq(sdt_create_endpoint(t, SVC, "c", "", 0, NULL, NULL, msg), OK);

  ck_assert_int_eq(sdt_get_endpoint(t, EP("b"), &ep, msg), OK);
  ck_assert_str_eq(ep->name, EP("b"));
  ck_assert_str_eq(ep->address, "10.0.0.2");
  ck_assert_int_eq(ep->port, 8443);
  ck_assert_uint_eq(ep->n_annotations, 1);
  ck_assert_str_eq(ep->annotations[0]->key, "zone");
  ck_assert_msg(is_uuid4(ep->uid), "uid %s", ep->uid);
  snprintf(first_uid, sizeof(first_uid), "%s", ep->uid);
  PB(endpoint__free_unpacked)(ep, NULL);

  /* a client-sent uid and name are ignored (output-only / from the id) */
  PB(create_endpoint_request__init)(&creq);
  PB(endpoint__init)(&body);
  body.uid = (char *)"client-chosen";
  body.name = (char *)"projects/x/locations/y/namespaces/z/services/w/endpoints/v";
  creq.parent = (char *)SVC;
  creq.endpoint_id = (char *)"d";
  creq.endpoint = &body;
  sdt_call(t, M_CREATE_ENDPOINT, &creq.base, &r);
  ck_assert_int_eq(r.code, OK);
  ep = PB(endpoint__unpack)(NULL, r.len, r.body);
  ck_assert_str_eq(ep->name, EP("d"));
  ck_assert(is_uuid4(ep->uid));
  ck_assert_str_ne(ep->uid, first_uid);
  PB(endpoint__free_unpacked)(ep, NULL);
  sdt_resp_free(&r);

  ck_assert_int_eq(sdt_resolve(t, SVC, 0, NULL, &res, msg), OK);
  ck_assert_str_eq(res->service->name, SVC);
  ck_assert(is_uuid4(res->service->uid));
  ck_assert_uint_eq(res->service->n_endpoints, 4);
  ck_assert_str_eq(res->service->endpoints[0]->name, EP("a"));
  ck_assert_str_eq(res->service->endpoints[0]->address, "2001:db8::1");
  ck_assert_str_eq(res->service->endpoints[1]->name, EP("b"));
  ck_assert_str_eq(res->service->endpoints[1]->annotations[0]->value, "b");
  ck_assert_str_eq(res->service->endpoints[1]->uid, first_uid);
  PB(resolve_service_response__free_unpacked)(res, NULL);

  ck_assert_int_eq(sdt_delete(t, M_DELETE_ENDPOINT, EP("a"), msg), OK);
  ck_assert_int_eq(sdt_get_endpoint(t, EP("a"), &ep, msg), GRPC_STATUS_NOT_FOUND);
}

void rc_errors_name_the_problem(struct sdt *t)
{
  char msg[700];
  PBT(ResolveServiceResponse) *res = NULL;
  PBT(Endpoint) *ep = NULL;
  struct sdt_resp r;
  PBT(GetNamespaceRequest) g;

  setup_service(t);
  ck_assert_int_eq(sdt_create_endpoint(t, NS "/services/nope", "e", "", 0, NULL, NULL, msg),
                   GRPC_STATUS_NOT_FOUND);
  ck_assert_ptr_nonnull(strstr(msg, "service '" NS "/services/nope' not found"));
  ck_assert_int_eq(sdt_create_service(t, LOC "/namespaces/other", "s", msg), GRPC_STATUS_NOT_FOUND);
  ck_assert_ptr_nonnull(strstr(msg, "namespace '" LOC "/namespaces/other' not found"));
  ck_assert_int_eq(sdt_resolve(t, LOC "/namespaces/other/services/s", 0, NULL, &res, msg),
                   GRPC_STATUS_NOT_FOUND);
  ck_assert_ptr_nonnull(strstr(msg, "namespace '" LOC "/namespaces/other' not found"));
  ck_assert_int_eq(sdt_resolve(t, NS "/services/gone", 0, NULL, &res, msg), GRPC_STATUS_NOT_FOUND);
  ck_assert_ptr_nonnull(strstr(msg, "service '" NS "/services/gone' not found"));
  ck_assert_int_eq(sdt_get_endpoint(t, EP("missing"), &ep, msg), GRPC_STATUS_NOT_FOUND);
  ck_assert_ptr_nonnull(strstr(msg, "endpoint '" EP("missing") "' not found"));

  ck_assert_int_eq(sdt_create_endpoint(t, SVC, "Bad_Id", "", 0, NULL, NULL, msg),
                   GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_ptr_nonnull(strstr(msg, "endpoint_id"));
  ck_assert_int_eq(sdt_create_endpoint(t, SVC, "e", "", 0, NULL, NULL, msg), OK);
  ck_assert_int_eq(sdt_create_endpoint(t, SVC, "e2", "[::1]:80", 0, NULL, NULL, msg),
                   GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_ptr_nonnull(strstr(msg, "endpoint.address"));
  ck_assert_int_eq(sdt_create_endpoint(t, SVC, "e3", "10.0.0.1", 70000, NULL, NULL, msg),
                   GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_ptr_nonnull(strstr(msg, "endpoint.port"));
  ck_assert_int_eq(sdt_create_endpoint(t, SVC, "e4", "10.0.0.1", 1, "bad key", "v", msg),
                   GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_ptr_nonnull(strstr(msg, "endpoint.annotations"));
  ck_assert_int_eq(sdt_create_service(t, "projects/p/namespaces/n", "s", msg),
                   GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_ptr_nonnull(strstr(msg, "parent"));
  ck_assert_int_eq(sdt_create_namespace(t, LOC, "", msg), GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_ptr_nonnull(strstr(msg, "namespace_id is required"));

  PB(get_namespace_request__init)(&g);
  g.name = (char *)NS;
  sdt_call(t, M_GET_IAM_POLICY, &g.base, &r);
  ck_assert_int_eq(r.code, GRPC_STATUS_UNIMPLEMENTED);
  ck_assert_ptr_nonnull(strstr(r.msg, "GetIamPolicy"));
  sdt_resp_free(&r);
}

/* 120 endpoints ep-000..ep-119, port 8000+i, annotation shard=even|odd. */
static void make_many(struct sdt *t)
{
  char msg[700], id[16];

  setup_service(t);
  for(int i = 0; i < 120; i++) {
    snprintf(id, sizeof(id), "ep-%03d", i);
    ck_assert_int_eq(sdt_create_endpoint(t, SVC, id, "10.1.0.1", 8000 + i, "shard",
                                         i % 2 ? "odd" : "even", msg), OK);
  }
}

static size_t resolve_count(struct sdt *t, int32_t max, const char *filter)
{
  PBT(ResolveServiceResponse) *res = NULL;
  char msg[700];
  size_t n;

  ck_assert_int_eq(sdt_resolve(t, SVC, max, filter, &res, msg), OK);
  ck_assert_str_eq(res->service->name, SVC);
  n = res->service->n_endpoints;
  PB(resolve_service_response__free_unpacked)(res, NULL);
  return n;
}

void rc_resolve_caps_and_filters(struct sdt *t)
{
  PBT(ResolveServiceResponse) *res = NULL;
  char msg[700];

  make_many(t);
  ck_assert_uint_eq(resolve_count(t, 0, NULL), 25);
  ck_assert_uint_eq(resolve_count(t, -5, NULL), 25);
  ck_assert_uint_eq(resolve_count(t, 7, NULL), 7);
  ck_assert_uint_eq(resolve_count(t, 100, NULL), 100);
  ck_assert_uint_eq(resolve_count(t, 500, NULL), 100);
  ck_assert_uint_eq(resolve_count(t, 0, "port>=8100"), 20);  /* filter, then cap */
  ck_assert_uint_eq(resolve_count(t, 100, "port>8009 AND port<8020"), 10);
  ck_assert_uint_eq(resolve_count(t, 0, "doesnotexist.foo=bar"), 0);
  ck_assert_int_eq(sdt_resolve(t, SVC, 10, "annotations.shard=odd", &res, msg), OK);
  ck_assert_uint_eq(res->service->n_endpoints, 10);
  for(size_t i = 0; i < 10; i++)
    ck_assert_str_eq(res->service->endpoints[i]->annotations[0]->value, "odd");
  PB(resolve_service_response__free_unpacked)(res, NULL);
  ck_assert_int_eq(sdt_resolve(t, SVC, 0, "port>", &res, msg), GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_ptr_nonnull(strstr(msg, "endpoint_filter"));
}

/* Walk every page; return the number of items and check the order. */
static size_t walk_pages(struct sdt *t, int32_t size, const char *filter, const char *order,
                         size_t *pages)
{
  char token[2048] = "", msg[700], prev_name[512] = "";
  int32_t prev_port = -1;
  size_t total = 0;

  *pages = 0;
  for(int guard = 0; guard < 1000; guard++) {
    PBT(ListEndpointsResponse) *r = NULL;
    ck_assert_int_eq(sdt_list_endpoints(t, SVC, size, token, filter, order, &r, msg), OK);
    (*pages)++;
    ck_assert_uint_le(r->n_endpoints, (size_t)(size ? size : 100));
    for(size_t i = 0; i < r->n_endpoints; i++) {
      const PBT(Endpoint) *e = r->endpoints[i];
      if(order && !strcmp(order, "port desc")) {
        ck_assert(prev_port < 0 || e->port < prev_port);
        prev_port = e->port;
      } else {
        ck_assert_int_gt(strcmp(e->name, prev_name), 0);
        snprintf(prev_name, sizeof(prev_name), "%s", e->name);
      }
      total++;
    }
    snprintf(token, sizeof(token), "%s", r->next_page_token);
    PB(list_endpoints_response__free_unpacked)(r, NULL);
    if(!*token)
      return total;
  }
  ck_abort_msg("paging did not terminate");
  return 0;
}

void rc_paging_terminates_and_checks_tokens(struct sdt *t)
{
  PBT(ListEndpointsResponse) *r = NULL;
  char msg[700], token[2048];
  size_t pages;

  make_many(t);
  ck_assert_uint_eq(walk_pages(t, 50, NULL, NULL, &pages), 120);
  ck_assert_uint_eq(pages, 3);
  ck_assert_uint_eq(walk_pages(t, 40, NULL, NULL, &pages), 120);
  ck_assert_uint_eq(pages, 3); /* no empty trailing page */
  ck_assert_uint_eq(walk_pages(t, 30, NULL, "port desc", &pages), 120);
  ck_assert_uint_eq(pages, 4);
  ck_assert_uint_eq(walk_pages(t, 25, "annotations.shard=even", NULL, &pages), 60);
  ck_assert_uint_eq(walk_pages(t, 0, NULL, NULL, &pages), 120);
  ck_assert_uint_eq(pages, 2);

  ck_assert_int_eq(sdt_list_endpoints(t, SVC, 10, NULL, NULL, NULL, &r, msg), OK);
  snprintf(token, sizeof(token), "%s", r->next_page_token);
  PB(list_endpoints_response__free_unpacked)(r, NULL);
  ck_assert_int_eq(sdt_list_endpoints(t, SVC, 10, token, "port>1", NULL, &r, msg),
                   GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_ptr_nonnull(strstr(msg, "page_token"));
  token[3] = token[3] == 'x' ? 'y' : 'x';
  ck_assert_int_eq(sdt_list_endpoints(t, SVC, 10, token, NULL, NULL, &r, msg),
                   GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_int_eq(sdt_list_endpoints(t, SVC, -1, NULL, NULL, NULL, &r, msg),
                   GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_ptr_nonnull(strstr(msg, "page_size"));
  ck_assert_int_eq(sdt_list_endpoints(t, SVC, 10, NULL, NULL, "uid", &r, msg),
                   GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_int_eq(sdt_list_endpoints(t, NS "/services/none", 10, NULL, NULL, NULL, &r, msg),
                   GRPC_STATUS_NOT_FOUND);
}

static grpc_status_code update_endpoint(struct sdt *t, PBT(Endpoint) *ep, char **paths,
                                        size_t n, char *msg)
{
  PBT(UpdateEndpointRequest) req;
  Google__Protobuf__FieldMask mask;
  struct sdt_resp r;

  PB(update_endpoint_request__init)(&req);
  google__protobuf__field_mask__init(&mask);
  mask.n_paths = n;
  mask.paths = paths;
  req.endpoint = ep;
  req.update_mask = &mask;
  sdt_call(t, M_UPDATE_ENDPOINT, &req.base, &r);
  snprintf(msg, 700, "%s", r.msg);
  sdt_resp_free(&r);
  return r.code;
}

void rc_update_masks(struct sdt *t)
{
  char msg[700], uid[40];
  char *addr[] = {"address"}, *net[] = {"network"}, *bogus[] = {"adress"}, *ann[] = {"annotations"};
  PBT(Endpoint) patch, *got = NULL;

  setup_service(t);
  ck_assert_int_eq(sdt_create_endpoint(t, SVC, "e", "10.0.0.1", 80, "k", "v", msg), OK);
  ck_assert_int_eq(sdt_get_endpoint(t, EP("e"), &got, msg), OK);
  snprintf(uid, sizeof(uid), "%s", got->uid);
  PB(endpoint__free_unpacked)(got, NULL);

  PB(endpoint__init)(&patch);
  patch.name = (char *)EP("e");
  patch.address = (char *)"10.0.0.9";
  patch.port = 1; /* outside the mask: must not change */
  ck_assert_int_eq(update_endpoint(t, &patch, addr, 1, msg), OK);
  ck_assert_int_eq(sdt_get_endpoint(t, EP("e"), &got, msg), OK);
  ck_assert_str_eq(got->address, "10.0.0.9");
  ck_assert_int_eq(got->port, 80);
  ck_assert_uint_eq(got->n_annotations, 1);
  ck_assert_str_eq(got->uid, uid);
  PB(endpoint__free_unpacked)(got, NULL);

  ck_assert_int_eq(update_endpoint(t, &patch, ann, 1, msg), OK); /* empty map clears */
  ck_assert_int_eq(sdt_get_endpoint(t, EP("e"), &got, msg), OK);
  ck_assert_uint_eq(got->n_annotations, 0);
  PB(endpoint__free_unpacked)(got, NULL);

  ck_assert_int_eq(update_endpoint(t, &patch, net, 1, msg), GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_ptr_nonnull(strstr(msg, "cannot be changed"));
  ck_assert_int_eq(update_endpoint(t, &patch, bogus, 1, msg), GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_ptr_nonnull(strstr(msg, "unknown field 'adress'"));
  ck_assert_int_eq(update_endpoint(t, &patch, NULL, 0, msg), GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_ptr_nonnull(strstr(msg, "update_mask is required"));
  patch.address = (char *)"not-an-ip";
  ck_assert_int_eq(update_endpoint(t, &patch, addr, 1, msg), GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_ptr_nonnull(strstr(msg, "endpoint.address"));
  patch.name = (char *)EP("nope");
  patch.address = (char *)"10.0.0.1";
  ck_assert_int_eq(update_endpoint(t, &patch, addr, 1, msg), GRPC_STATUS_NOT_FOUND);
}

void rc_cascading_deletes(struct sdt *t)
{
  char msg[700];
  PBT(ResolveServiceResponse) *res = NULL;
  PBT(Endpoint) *ep = NULL;

  setup_service(t);
  ck_assert_int_eq(sdt_create_service(t, NS, "svc-2", msg), OK);
  ck_assert_int_eq(sdt_create_endpoint(t, SVC, "a", "10.0.0.1", 1, NULL, NULL, msg), OK);
  ck_assert_int_eq(sdt_create_endpoint(t, SVC, "b", "10.0.0.2", 2, NULL, NULL, msg), OK);
  ck_assert_int_eq(sdt_create_endpoint(t, NS "/services/svc-2", "a", "10.0.0.3", 3, NULL, NULL, msg), OK);

  ck_assert_int_eq(sdt_delete(t, M_DELETE_SERVICE, SVC, msg), OK);
  ck_assert_int_eq(sdt_get_endpoint(t, EP("a"), &ep, msg), GRPC_STATUS_NOT_FOUND);
  ck_assert_ptr_nonnull(strstr(msg, "service '" SVC "' not found"));
  /* a sibling whose name extends the deleted one survives */
  ck_assert_int_eq(sdt_get_endpoint(t, NS "/services/svc-2/endpoints/a", &ep, msg), OK);
  PB(endpoint__free_unpacked)(ep, NULL);
  /* a recreated service does not resurrect old endpoints */
  ck_assert_int_eq(sdt_create_service(t, NS, "svc", msg), OK);
  ck_assert_int_eq(sdt_resolve(t, SVC, 0, NULL, &res, msg), OK);
  ck_assert_uint_eq(res->service->n_endpoints, 0);
  PB(resolve_service_response__free_unpacked)(res, NULL);

  ck_assert_int_eq(sdt_delete(t, M_DELETE_NAMESPACE, NS, msg), OK);
  ck_assert_int_eq(sdt_resolve(t, NS "/services/svc-2", 0, NULL, &res, msg), GRPC_STATUS_NOT_FOUND);
  ck_assert_ptr_nonnull(strstr(msg, "namespace '" NS "' not found"));
  ck_assert_int_eq(sdt_delete(t, M_DELETE_NAMESPACE, NS, msg), GRPC_STATUS_NOT_FOUND);
  ck_assert_int_eq(sdt_delete(t, M_DELETE_ENDPOINT, NS, msg), GRPC_STATUS_INVALID_ARGUMENT);
}

void rc_malformed_requests(struct sdt *t)
{
  static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff};
  static const uint8_t truncated[] = {0x0a, 0x40, 'p'}; /* name: 64 bytes promised */
  struct sdt_resp r;

  sdt_call_raw(t, M_CREATE_ENDPOINT, garbage, sizeof(garbage), &r);
  ck_assert_int_eq(r.code, GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_ptr_nonnull(strstr(r.msg, "does not decode"));
  sdt_resp_free(&r);
  sdt_call_raw(t, M_RESOLVE_SERVICE, truncated, sizeof(truncated), &r);
  ck_assert_int_eq(r.code, GRPC_STATUS_INVALID_ARGUMENT);
  sdt_resp_free(&r);
  sdt_call_raw(t, M_RESOLVE_SERVICE, NULL, 0, &r); /* empty: name missing */
  ck_assert_int_eq(r.code, GRPC_STATUS_INVALID_ARGUMENT);
  ck_assert_ptr_nonnull(strstr(r.msg, "name is required"));
  sdt_resp_free(&r);
}

static const char *resolve_first_address(struct sdt *t, size_t *n)
{
  static char addr[64];
  PBT(ResolveServiceResponse) *res = NULL;
  char msg[700];

  ck_assert_int_eq(sdt_resolve(t, SVC, 0, NULL, &res, msg), OK);
  *n = res->service->n_endpoints;
  snprintf(addr, sizeof(addr), "%s", *n ? res->service->endpoints[0]->address : "");
  PB(resolve_service_response__free_unpacked)(res, NULL);
  return addr;
}

void rc_resolve_never_serves_stale_answers(struct sdt *t)
{
  char msg[700], *addr[] = {"address"};
  size_t n;
  PBT(Endpoint) patch;

  setup_service(t);
  ck_assert_str_eq(resolve_first_address(t, &n), "");
  ck_assert_uint_eq(n, 0);
  ck_assert_str_eq(resolve_first_address(t, &n), ""); /* now cached */
  ck_assert_int_eq(sdt_create_endpoint(t, SVC, "a", "10.0.0.1", 443, NULL, NULL, msg), OK);
  ck_assert_str_eq(resolve_first_address(t, &n), "10.0.0.1");
  ck_assert_uint_eq(n, 1);
  PB(endpoint__init)(&patch);
  patch.name = (char *)EP("a");
  patch.address = (char *)"10.0.0.2";
  ck_assert_int_eq(update_endpoint(t, &patch, addr, 1, msg), OK);
  ck_assert_str_eq(resolve_first_address(t, &n), "10.0.0.2");
  /* a failed write changes nothing and may keep the cache */
  ck_assert_int_eq(sdt_create_endpoint(t, SVC, "a", "10.0.0.9", 1, NULL, NULL, msg),
                   GRPC_STATUS_ALREADY_EXISTS);
  ck_assert_str_eq(resolve_first_address(t, &n), "10.0.0.2");
  ck_assert_int_eq(sdt_delete(t, M_DELETE_ENDPOINT, EP("a"), msg), OK);
  ck_assert_str_eq(resolve_first_address(t, &n), "");
  ck_assert_uint_eq(n, 0);
  ck_assert_int_eq(sdt_delete(t, M_DELETE_SERVICE, SVC, msg), OK);
  ck_assert_int_eq(sdt_resolve(t, SVC, 0, NULL, &(PBT(ResolveServiceResponse) *){NULL}, msg),
                   GRPC_STATUS_NOT_FOUND);
}
