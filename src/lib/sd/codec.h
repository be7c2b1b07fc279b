/* SPDX-License-Identifier: Apache-2.0 */
/* protobuf-c messages <-> sdconnect's public types. Only codec.c includes
 * the generated *.pb-c.h headers in the library. */
#ifndef SDC_SD_CODEC_H
#define SDC_SD_CODEC_H

#include "resource.h"
#include <sdconnect/registry.h>
#include <sdconnect/resolver.h>

#include <stdbool.h>
#include <stdint.h>

/* protobuf-c's allocations through the library's allocator hooks (unpack
 * and free_unpacked take it). */
struct ProtobufCAllocator;
extern struct ProtobufCAllocator sdc__pb_alloc;
/* Whether the calling thread's last decode (a NULL answer) ran out of
 * memory rather than met bytes that do not decode; clears it. */
bool sdc__decode_ran_out(void);

/* Decode a ResolveServiceResponse into a refcounted snapshot (one
 * allocation). NULL when the bytes do not decode (or ENOMEM: *oom set). */
const sdc_service *sdc__service_decode(const uint8_t *buf, size_t len,
                                       int *oom);
/* Take another reference. */
const sdc_service *sdc__service_ref(const sdc_service *s);

/* ResolveServiceRequest bytes, malloc'd. */
uint8_t *sdc__encode_resolve(const char *name, int max, const char *filter,
                             size_t *len);

/* Registration requests, malloc'd. `parent` and `id` are split from
 * in->name by the caller. */
uint8_t *sdc__encode_create(const sdc_sd_resource *in, const char *parent,
                            const char *id, size_t *len);
uint8_t *sdc__encode_update(const sdc_sd_resource *in,
                            const char *const *mask, size_t n_mask,
                            size_t *len);
/* Get and Delete requests share one shape (name = 1). */
uint8_t *sdc__encode_name(const char *name, size_t *len);
uint8_t *sdc__encode_list(const char *parent, const sdc_sd_list_opts *o,
                          size_t *len);

/* Decode one Namespace, Service or Endpoint into a resource (one
 * allocation, freed with sdc_sd_resource_free). */
sdc_sd_resource *sdc__resource_decode(sdc_sd_kind kind, const uint8_t *buf,
                                      size_t len);
/* Decode a List*Response of `kind`. */
sdc_sd_page *sdc__page_decode(sdc_sd_kind kind, const uint8_t *buf,
                              size_t len);

#endif
