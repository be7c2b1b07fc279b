/* SPDX-License-Identifier: Apache-2.0 */
/* protobuf <-> library types, and resolver option validation. */
#include "suites.h"

#include "google/cloud/servicedirectory/v1/lookup_service.pb-c.h"
#include "google/cloud/servicedirectory/v1/registration_service.pb-c.h"
#include "sd/codec.h"

#include <sdconnect/resolver.h>
#include <stdlib.h>
#include <string.h>

#define PBT(x) Google__Cloud__Servicedirectory__V1__##x
#define PB(x) google__cloud__servicedirectory__v1__##x

START_TEST(resolve_answer_flattens_into_one_shared_block)
{
  PBT(Endpoint) e1 = GOOGLE__CLOUD__SERVICEDIRECTORY__V1__ENDPOINT__INIT;
  PBT(Endpoint) e2 = GOOGLE__CLOUD__SERVICEDIRECTORY__V1__ENDPOINT__INIT;
  PBT(Endpoint) *eps[2] = {&e1, &e2};
  PBT(Endpoint__AnnotationsEntry) ann = GOOGLE__CLOUD__SERVICEDIRECTORY__V1__ENDPOINT__ANNOTATIONS_ENTRY__INIT;
  PBT(Endpoint__AnnotationsEntry) *anns[1] = {&ann};
  PBT(Service) svc = GOOGLE__CLOUD__SERVICEDIRECTORY__V1__SERVICE__INIT;
  PBT(ResolveServiceResponse) resp = GOOGLE__CLOUD__SERVICEDIRECTORY__V1__RESOLVE_SERVICE_RESPONSE__INIT;
  uint8_t buf[1024];
  size_t n;
  int oom = 1;
  const sdc_service *s, *s2;

  ann.key = (char *)"zone";
  ann.value = (char *)"a";
  e1.name = (char *)"svc/endpoints/e1";
  e1.address = (char *)"10.0.0.1";
  e1.port = 443;
  e1.n_annotations = 1;
  e1.annotations = anns;
  e2.name = (char *)"svc/endpoints/e2";
  e2.address = (char *)"";
  e2.port = 443; /* no address: reported, not usable */
  svc.name = (char *)"svc";
  svc.uid = (char *)"u";
  svc.n_endpoints = 2;
  svc.endpoints = eps;
  resp.service = &svc;
  n = PB(resolve_service_response__pack)(&resp, buf);
  s = sdc__service_decode(buf, n, &oom);
  ck_assert_ptr_nonnull(s);
  ck_assert_int_eq(oom, 0);
  ck_assert_str_eq(s->name, "svc");
  ck_assert_uint_eq(s->n_endpoints, 2);
  ck_assert_str_eq(s->endpoints[0].annotations[0].key, "zone");
  ck_assert_int_eq(s->endpoints[0].usable, 1);
  ck_assert_int_eq(s->endpoints[1].usable, 0);
  ck_assert_str_eq(s->endpoints[1].network, "");
  s2 = sdc__service_ref(s);
  sdc_service_release(s);
  ck_assert_str_eq(s2->endpoints[0].address, "10.0.0.1"); /* still alive */
  sdc_service_release(s2);
  sdc_service_release(NULL);
  ck_assert_ptr_null(sdc__service_decode((const uint8_t *)"\xff\xff", 2, &oom));
}
END_TEST

START_TEST(resources_are_built_with_setters_and_read_with_getters)
{
  sdc_sd_resource *r = NULL, *svc = NULL;
  sdc_sd_list_opts *o = NULL;

  ck_assert_int_eq(sdc_sd_resource_new(&r, SDC_SD_ENDPOINT, "p/e"), SDC_OK);
  ck_assert_int_eq(sdc_sd_resource_add_kv(r, "zone", "a"), SDC_OK);
  ck_assert_int_eq(sdc_sd_resource_add_kv(r, "team", "sre"), SDC_OK);
  ck_assert_int_eq(sdc_sd_resource_set_address(r, "fd00::1"), SDC_OK);
  ck_assert_int_eq(sdc_sd_resource_set_port(r, 8443), SDC_OK);
  ck_assert_int_eq(sdc_sd_resource_set_port(r, 65536), SDC_EINVAL);
  ck_assert_int_eq(sdc_sd_resource_set_network(r, "projects/1/locations/global/networks/n"),
                   SDC_OK);
  ck_assert_int_eq(sdc_sd_resource_kind(r), SDC_SD_ENDPOINT);
  ck_assert_str_eq(sdc_sd_resource_name(r), "p/e");
  ck_assert_uint_eq(sdc_sd_resource_kv_count(r), 2);
  ck_assert_str_eq(sdc_sd_resource_kv(r, 1)->value, "sre");
  ck_assert_ptr_null(sdc_sd_resource_kv(r, 2));
  ck_assert_str_eq(sdc_sd_resource_address(r), "fd00::1");
  ck_assert_int_eq(sdc_sd_resource_port(r), 8443);
  ck_assert_str_eq(sdc_sd_resource_uid(r), ""); /* output only */
  /* what an endpoint has, a service has not */
  ck_assert_int_eq(sdc_sd_resource_new(&svc, SDC_SD_SERVICE, "p/s"), SDC_OK);
  ck_assert_int_eq(sdc_sd_resource_set_address(svc, "10.0.0.1"), SDC_EINVAL);
  ck_assert_int_eq(sdc_sd_resource_set_port(svc, 80), SDC_EINVAL);
  ck_assert_int_eq(sdc_sd_resource_new(&svc, 9, "p/s"), SDC_EINVAL);
  sdc_sd_resource_free(svc);
  sdc_sd_resource_free(r);
  ck_assert_str_eq(sdc_sd_resource_name(NULL), "");
  ck_assert_uint_eq(sdc_sd_resource_kv_count(NULL), 0);
  ck_assert_int_eq(sdc_sd_list_opts_new(&o), SDC_OK);
  ck_assert_int_eq(sdc_sd_list_opts_set_filter(o, "port>8000"), SDC_OK);
  ck_assert_int_eq(sdc_sd_list_opts_set_page_size(o, -1), SDC_EINVAL);
  ck_assert_int_eq(sdc_sd_list_opts_set_page_token(o, ""), SDC_OK);
  sdc_sd_list_opts_free(o);
}
END_TEST

START_TEST(registration_requests_round_trip)
{
  sdc_kv kv[1] = {{"owner", "sre"}};
  sdc_sd_resource in = {.kind = SDC_SD_ENDPOINT, .name = "p/e", .n_kv = 1, .kv = kv,
                        .address = "::1", .port = 8443,
                        .network = "projects/1/locations/global/networks/n"};
  const char *mask[] = {"port"};
  size_t n = 0;
  uint8_t *b = sdc__encode_update(&in, mask, 1, &n);
  PBT(UpdateEndpointRequest) *u = PB(update_endpoint_request__unpack)(NULL, n, b);

  ck_assert_ptr_nonnull(u);
  ck_assert_str_eq(u->endpoint->name, "p/e");
  ck_assert_int_eq(u->endpoint->port, 8443);
  ck_assert_str_eq(u->endpoint->annotations[0]->value, "sre");
  ck_assert_uint_eq(u->update_mask->n_paths, 1);
  ck_assert_str_eq(u->update_mask->paths[0], "port");
  PB(update_endpoint_request__free_unpacked)(u, NULL);
  free(b);
  b = sdc__encode_create(&in, "parent", "e", &n);
  {
    PBT(CreateEndpointRequest) *c = PB(create_endpoint_request__unpack)(NULL, n, b);
    ck_assert_str_eq(c->parent, "parent");
    ck_assert_str_eq(c->endpoint_id, "e");
    ck_assert_str_eq(c->endpoint->name, ""); /* the server names it */
    ck_assert_str_eq(c->endpoint->network, "projects/1/locations/global/networks/n");
    PB(create_endpoint_request__free_unpacked)(c, NULL);
  }
  free(b);
}
END_TEST

START_TEST(resolver_options_are_validated)
{
  sdc_resolver_opts *o = NULL;

  ck_assert_int_eq(sdc_resolver_opts_new(&o), SDC_OK);
  ck_assert_int_eq(sdc_resolver_opts_set_endpoint(o, "localhost"), SDC_EINVAL);
  ck_assert_int_eq(sdc_resolver_opts_set_endpoint(o, "host:port"), SDC_EINVAL);
  ck_assert_int_eq(sdc_resolver_opts_set_endpoint(o, ":80"), SDC_EINVAL);
  ck_assert_int_eq(sdc_resolver_opts_set_endpoint(o, "[::1]:8085"), SDC_OK);
  ck_assert_int_eq(sdc_resolver_opts_set_timeout_ms(o, 0), SDC_EINVAL);
  ck_assert_int_eq(sdc_resolver_opts_set_max_attempts(o, 11), SDC_EINVAL);
  ck_assert_int_eq(sdc_resolver_opts_set_backoff_ms(o, 500, 100), SDC_EINVAL);
  ck_assert_int_eq(sdc_resolver_opts_set_bearer_token(o, "a\r\nx-evil: 1"), SDC_EINVAL);
  ck_assert_int_eq(sdc_resolver_opts_set_client_cert_pem(o, "cert", NULL), SDC_EINVAL);
  sdc_resolver_opts_free(o);
  sdc_resolver_opts_free(NULL);
}
END_TEST

Suite *codec_suite(void)
{
  Suite *s = suite_create("codec");
  TCase *tc = tcase_create("codec");

  tcase_add_test(tc, resolve_answer_flattens_into_one_shared_block);
  tcase_add_test(tc, registration_requests_round_trip);
  tcase_add_test(tc, resources_are_built_with_setters_and_read_with_getters);
  tcase_add_test(tc, resolver_options_are_validated);
  suite_add_tcase(s, tc);
  return s;
}
