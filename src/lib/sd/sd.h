/* SPDX-License-Identifier: Apache-2.0 */
/* Internal header of the sd module: unary gRPC calls over gRPC C core. */
#ifndef SDC_SD_H
#define SDC_SD_H

#include <sdconnect/common.h>

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <stdint.h>

/* The outcome of one unary call. `body` is the response message (NULL when
 * the status is not OK), `details` the status message (may be empty). */
struct sdc__grpc_result {
  grpc_status_code code;
  char *details;
  uint8_t *body;
  size_t body_len;
};

/* One blocking unary call on `ch`: sends `req` to `method`
 * ("/pkg.Service/Method") with extra metadata, waits at most `timeout_ms`.
 * Returns SDC_OK when the call completed (whatever its gRPC status: read
 * out->code), SDC_ENOMEM or SDC_EINTERNAL otherwise. The caller owns `out`
 * and releases it with sdc__grpc_result_cleanup(). Thread-safe per channel. */
SDC_WARN_UNUSED sdc_status sdc__grpc_unary(grpc_channel *ch, const char *method,
                                           const uint8_t *req, size_t req_len,
                                           const grpc_metadata *md, size_t n_md,
                                           uint64_t timeout_ms,
                                           struct sdc__grpc_result *out);

/* The same with call credentials (NULL: none) applied to the call. */
SDC_WARN_UNUSED sdc_status sdc__grpc_unary_creds(
    grpc_channel *ch, grpc_call_credentials *creds, const char *method,
    const uint8_t *req, size_t req_len, const grpc_metadata *md, size_t n_md,
    uint64_t timeout_ms, struct sdc__grpc_result *out);

void sdc__grpc_result_cleanup(struct sdc__grpc_result *r);

#endif
