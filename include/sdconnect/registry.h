/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Service Directory registration calls (namespaces, services, endpoints)
 * through a resolver's channel, credentials and retry policy. Retries:
 * Get, List, Update and Delete on UNAVAILABLE and DEADLINE_EXCEEDED;
 * Create is never retried, so a timed-out create is reported, not repeated.
 *
 * Threads: any thread, as the resolver (thread-safe). Blocking: every call
 * waits for the directory, at most the resolver's timeout; not for an
 * event loop.
 * Statuses of a call that reached the directory follow its gRPC status:
 * NOT_FOUND SDC_ENOTFOUND, ALREADY_EXISTS SDC_EEXIST, INVALID_ARGUMENT
 * SDC_EINVAL, PERMISSION_DENIED and UNAUTHENTICATED SDC_EPERM,
 * UNAVAILABLE SDC_EUNAVAILABLE, DEADLINE_EXCEEDED SDC_ETIMEDOUT,
 * RESOURCE_EXHAUSTED SDC_ETOOBIG, anything else SDC_EPROTO; the detail is
 * in sdc_resolver_errmsg().
 */
#ifndef SDCONNECT_REGISTRY_H
#define SDCONNECT_REGISTRY_H

#include <sdconnect/resolver.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sdc_sd_kind {
  SDC_SD_NAMESPACE = 1,
  SDC_SD_SERVICE = 2,
  SDC_SD_ENDPOINT = 3
} sdc_sd_kind;

/*! One namespace, service or endpoint, in Service Directory's terms. */
typedef struct sdc_sd_resource {
  sdc_sd_kind kind;
  const char *name; /*!< full resource name */
  const char *uid;  /*!< output only */
  size_t n_kv;
  const sdc_kv *kv; /*!< labels (namespace) or annotations */
  const char *address; /*!< endpoint only */
  int port;            /*!< endpoint only */
  const char *network; /*!< endpoint only; set at create */
} sdc_sd_resource;

typedef struct sdc_sd_page {
  size_t n;
  sdc_sd_resource *items;
  const char *next_page_token; /*!< "" on the last page */
} sdc_sd_page;

typedef struct sdc_sd_list_opts {
  const char *filter;   /*!< NULL or "" for none */
  const char *order_by; /*!< NULL or "" for name order */
  int page_size;        /*!< 0: the server's choice */
  const char *page_token;
} sdc_sd_list_opts;

/*! Create `in` (its name gives parent and id).
 *  \param[out] out The stored resource (with uid), set on SDC_OK only;
 *                  free with sdc_sd_resource_free().
 *  \return SDC_OK, SDC_EINVAL (no full resource name), SDC_ENOMEM, or
 *  the call's status (above). */
SDC_EXTERN sdc_status sdc_sd_create(sdc_resolver *r, const sdc_sd_resource *in,
                                    sdc_sd_resource **out);
/*! Read one resource. \param[out] out Set on SDC_OK only; free with
 *  sdc_sd_resource_free().
 *  \return SDC_OK, SDC_EINVAL, SDC_ENOMEM, or the call's status (above). */
SDC_EXTERN sdc_status sdc_sd_get(sdc_resolver *r, sdc_sd_kind kind,
                                 const char *name, sdc_sd_resource **out);
/*! Change the fields named in `mask` ("labels", "annotations", "address",
 *  "port") to their values in `in`. \param[out] out As for sdc_sd_get().
 *  \return SDC_OK, SDC_EINVAL, SDC_ENOMEM, or the call's status (above). */
SDC_EXTERN sdc_status sdc_sd_update(sdc_resolver *r, const sdc_sd_resource *in,
                                    const char *const *mask, size_t n_mask,
                                    sdc_sd_resource **out);
/*! Delete (a namespace or service with everything in it).
 *  \return SDC_OK, SDC_EINVAL, SDC_ENOMEM, or the call's status (above). */
SDC_EXTERN sdc_status sdc_sd_delete(sdc_resolver *r, sdc_sd_kind kind,
                                    const char *name);
/*! One page of the children of `parent`. \param[out] out Set on SDC_OK
 *  only; free with sdc_sd_page_free().
 *  \return SDC_OK, SDC_EINVAL, SDC_ENOMEM, SDC_EPROTO (an answer that
 *  does not decode), or the call's status (above). */
SDC_EXTERN sdc_status sdc_sd_list(sdc_resolver *r, sdc_sd_kind kind,
                                  const char *parent,
                                  const sdc_sd_list_opts *opts,
                                  sdc_sd_page **out);

/*! Which of `permissions` the caller (the resolver's credentials) holds on
 *  `resource`, a namespace or a service: held[i] is 1 or 0 (TestIamPermissions).
 *  \return SDC_OK, SDC_EINVAL, SDC_EPERM (an unknown caller), SDC_ENOMEM,
 *  SDC_EPROTO (an answer that does not decode), or the call's status
 *  (above). */
SDC_EXTERN sdc_status sdc_sd_test_iam_permissions(sdc_resolver *r, const char *resource,
                                                  const char *const *permissions,
                                                  size_t n, int *held);

/*! Item `i` of a page (borrowed with it); NULL past the end. Read the
 *  items through this rather than by indexing page->items: fields are only
 *  ever appended to sdc_sd_resource. */
SDC_EXTERN const sdc_sd_resource *sdc_sd_page_item(const sdc_sd_page *page, size_t i);

SDC_EXTERN void sdc_sd_resource_free(sdc_sd_resource *res); /* NULL ok */
SDC_EXTERN void sdc_sd_page_free(sdc_sd_page *page);        /* NULL ok */

#ifdef __cplusplus
}
#endif
#endif /* SDCONNECT_REGISTRY_H */
