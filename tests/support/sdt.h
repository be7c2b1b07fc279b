/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A Service Directory under test: either the registry code called in
 * process (unit tests) or a real `sdconnect sd-server` reached over gRPC
 * (integration tests). Behaviour cases in registry_cases.c run on both.
 */
#ifndef SDC_TEST_SDT_H
#define SDC_TEST_SDT_H

#include "google/cloud/servicedirectory/v1/lookup_service.pb-c.h"
#include "google/cloud/servicedirectory/v1/registration_service.pb-c.h"
#include "registry.h"

#include <grpc/grpc.h>

#define PBT(x) Google__Cloud__Servicedirectory__V1__##x
#define PB(x) google__cloud__servicedirectory__v1__##x

#define LOC "projects/test-proj/locations/us-east1"
#define NS LOC "/namespaces/ns"
#define SVC NS "/services/svc"

struct sdt {
  struct lsd_registry *reg; /* in-process mode */
  grpc_channel *ch;        /* gRPC mode */
  grpc_metadata md[2];
  size_t n_md;
};

struct sdt_resp {
  grpc_status_code code;
  char msg[700];
  uint8_t *body;
  size_t len;
};

void sdt_call(struct sdt *t, enum lsd_method m, const ProtobufCMessage *req,
              struct sdt_resp *out);
/* Send raw bytes (malformed requests). */
void sdt_call_raw(struct sdt *t, enum lsd_method m, const uint8_t *req,
                  size_t len, struct sdt_resp *out);
void sdt_resp_free(struct sdt_resp *r);

/* Shorthands; each returns the gRPC status and fills msg on error. */
grpc_status_code sdt_create_namespace(struct sdt *t, const char *parent,
                                      const char *id, char *msg);
grpc_status_code sdt_create_service(struct sdt *t, const char *parent,
                                    const char *id, char *msg);
grpc_status_code sdt_create_endpoint(struct sdt *t, const char *parent,
                                     const char *id, const char *address,
                                     int32_t port, const char *ann_key,
                                     const char *ann_value, char *msg);
/* Resolve; *out is freed with PB(resolve_service_response__free_unpacked). */
grpc_status_code sdt_resolve(struct sdt *t, const char *name, int32_t max,
                             const char *filter,
                             PBT(ResolveServiceResponse) **out, char *msg);
grpc_status_code sdt_list_endpoints(struct sdt *t, const char *parent,
                                    int32_t page_size, const char *token,
                                    const char *filter, const char *order_by,
                                    PBT(ListEndpointsResponse) **out,
                                    char *msg);
grpc_status_code sdt_get_endpoint(struct sdt *t, const char *name,
                                  PBT(Endpoint) **out, char *msg);
grpc_status_code sdt_delete(struct sdt *t, enum lsd_method m, const char *name,
                            char *msg);

/* The shared behaviour cases (registry_cases.c), listed once so the unit
 * and integration suites run the same set: X(name) for rc_<name>(). */
#define RC_CASES(X)                                                            \
  X(crud_round_trip)                                                           \
  X(errors_name_the_problem)                                                   \
  X(resolve_caps_and_filters)                                                  \
  X(resolve_never_serves_stale_answers)                                        \
  X(paging_terminates_and_checks_tokens)                                       \
  X(update_masks)                                                              \
  X(cascading_deletes)                                                         \
  X(malformed_requests)

#define RC_DECLARE(name) void rc_##name(struct sdt *t);
RC_CASES(RC_DECLARE)
#undef RC_DECLARE

/* START_TEST wrappers for the cases, running them on `struct sdt t`. */
#define RC_TEST(name)                                                          \
  START_TEST(name) { rc_##name(&t); }                                          \
  END_TEST
#define RC_ADD(name) tcase_add_test(rc_tcase, name);

#endif
