/* SPDX-License-Identifier: Apache-2.0 */
/* Process-wide set-up: allocator first, then gRPC core. */
#include <sdconnect/sdconnect.h>

#include "core.h"

#include <curl/curl.h>
#include <grpc/grpc.h>
#include <grpc/support/log.h>
#include <string.h>

const char *sdc_version(void) { return SDC_VERSION_STRING; }

/* gRPC core's own diagnostics go to the library's log hook, never to a
 * terminal directly: the library does not print. */
static void grpc_log(gpr_log_func_args *args)
{
  sdc_log_level l = args->severity == GPR_LOG_SEVERITY_ERROR ? SDC_LOG_WARN
                    : args->severity == GPR_LOG_SEVERITY_INFO ? SDC_LOG_DEBUG
                                                              : SDC_LOG_TRACE;
  const char *file = strrchr(args->file, '/');

  sdc__log(l, "grpc", "%s (%s:%d)", args->message, file ? file + 1 : args->file,
           args->line);
}

sdc_status sdc_global_init(const sdc_allocator *a)
{
  if(a && (!a->malloc || !a->calloc || !a->realloc || !a->free))
    return SDC_EINVAL;
  sdc__allocator_set(a);
  if(curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return SDC_ENOMEM;
  gpr_set_log_function(grpc_log);
  grpc_init();
  return SDC_OK;
}

void sdc__curl_share_cleanup(void); /* pool/tls.c */

void sdc_global_cleanup(void)
{
  sdc__curl_share_cleanup();
  curl_global_cleanup();
  grpc_shutdown();
  sdc__allocator_set(NULL);
}
