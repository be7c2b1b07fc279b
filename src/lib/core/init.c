/* SPDX-License-Identifier: Apache-2.0 */
/* Process-wide set-up: allocator first, then gRPC core. */
#include <sdconnect/sdconnect.h>

#include "core.h"

#include <grpc/grpc.h>

const char *sdc_version(void) { return SDC_VERSION_STRING; }

sdc_status sdc_global_init(const sdc_allocator *a)
{
  if(a && (!a->malloc || !a->calloc || !a->realloc || !a->free))
    return SDC_EINVAL;
  sdc__allocator_set(a);
  grpc_init();
  return SDC_OK;
}

void sdc_global_cleanup(void)
{
  grpc_shutdown();
  sdc__allocator_set(NULL);
}
