/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sdconnect: reach private services the way Google's Service Directory path
 * does. Umbrella header: include this one.
 */
#ifndef SDCONNECT_H
#define SDCONNECT_H

#include <sdconnect/common.h>
#include <sdconnect/diagnose.h>
#include <sdconnect/metrics.h>
#include <sdconnect/pool.h>
#include <sdconnect/probe.h>
#include <sdconnect/registry.h>
#include <sdconnect/resolver.h>
#include <sdconnect/serve.h>
#include <sdconnect/version.h>
#include <sdconnect/webhook.h>

#ifdef __cplusplus
extern "C" {
#endif

/*! The library's version, "MAJOR.MINOR.PATCH". Static string. Any thread. */
SDC_EXTERN const char *sdc_version(void);

/*! Whether the library loaded at run time serves a program compiled
 *  against headers of version `header_num` (SDC_VERSION_NUM): the same
 *  major version and a minor.patch at least as new (a program may use
 *  what its headers declare). Call it first, as SDC_VERSION_CHECK().
 *  Any thread; never blocks.
 *  \return SDC_OK, or SDC_EINVAL (the library is another major version
 *  or older than the headers). */
SDC_EXTERN sdc_status sdc_version_check(unsigned long header_num);
#define SDC_VERSION_CHECK() sdc_version_check(SDC_VERSION_NUM)

/*! Set up the library (allocator, then libcurl and gRPC core). Call once,
 *  before any thread starts; not thread-safe.
 *  \param a NULL for libc's allocator; copied. Every allocation of the
 *  library goes through it, and so do libcurl's (curl_global_init_mem),
 *  jansson's (json_set_alloc_funcs: process-wide, so a program that uses
 *  jansson itself frees what json_dumps() returns with jansson's free
 *  function, and sets this before its first jansson call) and
 *  protobuf-c's; gRPC core and OpenSSL keep their own. An allocation that
 *  fails makes the call return SDC_ENOMEM, or a callback report "out of
 *  memory", and leaks nothing (tests/integration/test_oom.c fails each
 *  allocation of a resolve, a pooled request, a probe run and a webhook
 *  call in turn).
 *  \return SDC_OK, SDC_EINVAL (an allocator hook is NULL) or SDC_ENOMEM
 *  (libcurl could not set up). */
SDC_EXTERN sdc_status sdc_global_init(const sdc_allocator *a);

/*! Undo sdc_global_init(). Call after every handle is freed. */
SDC_EXTERN void sdc_global_cleanup(void);

#ifdef __cplusplus
}
#endif
#endif /* SDCONNECT_H */
