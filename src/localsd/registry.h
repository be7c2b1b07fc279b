/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Service Directory v1 RPCs, transport-free: a method path and the
 * request bytes in, a status and the response bytes out. server.c carries
 * them over gRPC; tests and fuzzers call them directly.
 */
#ifndef SDC_LOCALSD_REGISTRY_H
#define SDC_LOCALSD_REGISTRY_H

#include "store.h"

enum lsd_method {
  M_RESOLVE_SERVICE,
  M_CREATE_NAMESPACE, M_LIST_NAMESPACES, M_GET_NAMESPACE, M_UPDATE_NAMESPACE,
  M_DELETE_NAMESPACE,
  M_CREATE_SERVICE, M_LIST_SERVICES, M_GET_SERVICE, M_UPDATE_SERVICE,
  M_DELETE_SERVICE,
  M_CREATE_ENDPOINT, M_LIST_ENDPOINTS, M_GET_ENDPOINT, M_UPDATE_ENDPOINT,
  M_DELETE_ENDPOINT,
  M_GET_IAM_POLICY, M_SET_IAM_POLICY, M_TEST_IAM_PERMISSIONS,
  M_COUNT
};

/* Full gRPC path of a method ("/google.cloud.servicedirectory.v1.X/Y"). */
const char *lsd_method_path(enum lsd_method m);
/* Short name ("ResolveService"), for logs. */
const char *lsd_method_name(enum lsd_method m);
/* The method a path names, or -1. */
int lsd_method_lookup(const char *path, size_t len);

/* Page size used when a List call gives none, and the most one page holds. */
#define LSD_DEFAULT_PAGE_SIZE 100
#define LSD_MAX_PAGE_SIZE 1000

/* The registry: the store and the caches in front of it. */
struct lsd_registry;

/* Open the store at `path` (NULL: in memory) with empty caches. */
grpc_status_code lsd_registry_open(struct lsd_registry **out, const char *path,
                                  struct lsd_err *e);
void lsd_registry_close(struct lsd_registry *r);
/* The store underneath (borrowed), for counts and listings at start-up. */
struct store *lsd_registry_store(struct lsd_registry *r);

struct lsd_reply {
  grpc_status_code code; /* OK: body holds the response message */
  uint8_t *body;         /* malloc'd; may be NULL with len 0 (Empty) */
  size_t len;
  struct lsd_err err; /* when code != OK */
};

/* Run one RPC. Never fails to fill `out`. Thread-safe. */
void lsd_registry_call(struct lsd_registry *r, enum lsd_method m,
                      const uint8_t *req, size_t len, struct lsd_reply *out);
void lsd_reply_cleanup(struct lsd_reply *r);

#endif
