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

/*! One namespace, service or endpoint, in Service Directory's terms:
 *  opaque, so that fields can be added (made with sdc_sd_resource_new() to
 *  send, or returned by the calls below; read with the getters). */
typedef struct sdc_sd_resource sdc_sd_resource;
/*! One page of a List call (sdc_sd_page_count(), sdc_sd_page_item()). */
typedef struct sdc_sd_page sdc_sd_page;
/*! What a List call asks for (sdc_sd_list_opts_new() and setters). */
typedef struct sdc_sd_list_opts sdc_sd_list_opts;

/*! A resource to create or update: `kind` and its full `name` (copied).
 *  \param[out] out  Set on SDC_OK only; free with sdc_sd_resource_free().
 *  \return SDC_OK, SDC_EINVAL (no out or name, a kind out of range) or
 *  SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_sd_resource_new(sdc_sd_resource **out, sdc_sd_kind kind,
                                          const char *name);
/*! Add a label (namespace) or annotation (service, endpoint); copied.
 *  \return SDC_OK, SDC_EINVAL (no key or value, or a resource the library
 *  returned) or SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_sd_resource_add_kv(sdc_sd_resource *r, const char *key,
                                             const char *value);
/*! An endpoint's address (IPv4 or IPv6 literal; copied), port (0..65535)
 *  and network (projects/NUMBER/locations/global/networks/N; copied, set at
 *  create). \return SDC_OK, SDC_EINVAL (not an endpoint, a port out of
 *  range, or a resource the library returned) or SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_sd_resource_set_address(sdc_sd_resource *r, const char *address);
SDC_EXTERN sdc_status sdc_sd_resource_set_port(sdc_sd_resource *r, int port);
SDC_EXTERN sdc_status sdc_sd_resource_set_network(sdc_sd_resource *r, const char *network);

/*! Getters: borrowed strings, "" when unset (never NULL); a NULL resource
 *  reads as empty. */
SDC_EXTERN sdc_sd_kind sdc_sd_resource_kind(const sdc_sd_resource *r);
SDC_EXTERN const char *sdc_sd_resource_name(const sdc_sd_resource *r);
/*! The uid the directory gave it (output only). */
SDC_EXTERN const char *sdc_sd_resource_uid(const sdc_sd_resource *r);
/*! Labels (namespace) or annotations: how many, and pair `i` (NULL past
 *  the end). */
SDC_EXTERN size_t sdc_sd_resource_kv_count(const sdc_sd_resource *r);
SDC_EXTERN const sdc_kv *sdc_sd_resource_kv(const sdc_sd_resource *r, size_t i);
SDC_EXTERN const char *sdc_sd_resource_address(const sdc_sd_resource *r);
/*! 0 when unset. */
SDC_EXTERN int sdc_sd_resource_port(const sdc_sd_resource *r);
SDC_EXTERN const char *sdc_sd_resource_network(const sdc_sd_resource *r);

/*! How many items a page holds. */
SDC_EXTERN size_t sdc_sd_page_count(const sdc_sd_page *page);
/*! The token of the next page, "" on the last. */
SDC_EXTERN const char *sdc_sd_page_next_token(const sdc_sd_page *page);

/*! Options with the defaults: no filter, name order, the server's page
 *  size, the first page. \param[out] out Set on SDC_OK only.
 *  \return SDC_OK, SDC_EINVAL (out is NULL) or SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_sd_list_opts_new(sdc_sd_list_opts **out);
SDC_EXTERN void sdc_sd_list_opts_free(sdc_sd_list_opts *o); /* NULL ok */
/*! The filter and order_by expressions (copied; NULL or "": none).
 *  \return SDC_OK or SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_sd_list_opts_set_filter(sdc_sd_list_opts *o, const char *filter);
SDC_EXTERN sdc_status sdc_sd_list_opts_set_order_by(sdc_sd_list_opts *o, const char *order_by);
/*! Items per page, 0 for the server's choice. \return SDC_OK, or
 *  SDC_EINVAL (negative). */
SDC_EXTERN sdc_status sdc_sd_list_opts_set_page_size(sdc_sd_list_opts *o, int page_size);
/*! The page to ask for: a next_page_token (copied; NULL or "": the first).
 *  \return SDC_OK or SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_sd_list_opts_set_page_token(sdc_sd_list_opts *o, const char *token);

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
/*! One page of the children of `parent`; `opts` NULL for the defaults.
 *  \param[out] out Set on SDC_OK only; free with sdc_sd_page_free().
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

/*! Item `i` of a page (borrowed with it); NULL past the end. */
SDC_EXTERN const sdc_sd_resource *sdc_sd_page_item(const sdc_sd_page *page, size_t i);

SDC_EXTERN void sdc_sd_resource_free(sdc_sd_resource *res); /* NULL ok */
SDC_EXTERN void sdc_sd_page_free(sdc_sd_page *page);        /* NULL ok */

#ifdef __cplusplus
}
#endif
#endif /* SDCONNECT_REGISTRY_H */
