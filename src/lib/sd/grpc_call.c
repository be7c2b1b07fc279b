/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Blocking unary gRPC calls on gRPC C core. One batch carries every op of the
 * call (send metadata, message, half-close; receive metadata, message,
 * status), so a call costs one completion-queue round trip.
 */
#include "sd.h"

#include "core/core.h"

#include <grpc/byte_buffer_reader.h>
#include <grpc/support/time.h>
#include <string.h>

static sdc_status read_buffer(grpc_byte_buffer *bb, uint8_t **out, size_t *len)
{
  grpc_byte_buffer_reader reader;
  grpc_slice all;
  size_t n;
  uint8_t *p;

  if(!grpc_byte_buffer_reader_init(&reader, bb))
    return SDC_EPROTO;
  all = grpc_byte_buffer_reader_readall(&reader);
  grpc_byte_buffer_reader_destroy(&reader);
  n = GRPC_SLICE_LENGTH(all);
  p = sdc__malloc(n ? n : 1);
  if(!p) {
    grpc_slice_unref(all);
    return SDC_ENOMEM; /* LCOV_EXCL_LINE: OutOfMemory */
  }
  memcpy(p, GRPC_SLICE_START_PTR(all), n);
  grpc_slice_unref(all);
  *out = p;
  *len = n;
  return SDC_OK;
}

sdc_status sdc__grpc_unary(grpc_channel *ch, const char *method,
                           const uint8_t *req, size_t req_len,
                           const grpc_metadata *md, size_t n_md,
                           uint64_t timeout_ms, struct sdc__grpc_result *out)
{
  return sdc__grpc_unary_creds(ch, NULL, method, req, req_len, md, n_md,
                               timeout_ms, out);
}

sdc_status sdc__grpc_unary_creds(grpc_channel *ch, grpc_call_credentials *creds,
                                 const char *method, const uint8_t *req,
                                 size_t req_len, const grpc_metadata *md,
                                 size_t n_md, uint64_t timeout_ms,
                                 struct sdc__grpc_result *out)
{
  sdc_status st = SDC_OK;
  grpc_completion_queue *cq = NULL;
  grpc_call *call = NULL;
  grpc_byte_buffer *send_bb = NULL, *recv_bb = NULL;
  grpc_metadata_array initial_md, trailing_md;
  grpc_slice req_slice, details = grpc_empty_slice();
  grpc_status_code code = GRPC_STATUS_UNKNOWN;
  grpc_op ops[6];
  grpc_event ev;
  gpr_timespec deadline;
  size_t dlen;

  memset(out, 0, sizeof(*out));
  grpc_metadata_array_init(&initial_md);
  grpc_metadata_array_init(&trailing_md);
  cq = grpc_completion_queue_create_for_pluck(NULL);
  deadline = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                          gpr_time_from_millis((int64_t)timeout_ms, GPR_TIMESPAN));
  call = grpc_channel_create_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq,
                                  grpc_slice_from_static_string(method), NULL,
                                  deadline, NULL);
  if(!cq || !call ||
     (creds && grpc_call_set_credentials(call, creds) != GRPC_CALL_OK)) {
    st = SDC_EINTERNAL;
    goto out;
  }
  req_slice = grpc_slice_from_copied_buffer((const char *)req, req_len);
  send_bb = grpc_raw_byte_buffer_create(&req_slice, 1);
  grpc_slice_unref(req_slice);

  memset(ops, 0, sizeof(ops));
  ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
  ops[0].data.send_initial_metadata.count = n_md;
  ops[0].data.send_initial_metadata.metadata = (grpc_metadata *)md;
  ops[1].op = GRPC_OP_SEND_MESSAGE;
  ops[1].data.send_message.send_message = send_bb;
  ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
  ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
  ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial_md;
  ops[4].op = GRPC_OP_RECV_MESSAGE;
  ops[4].data.recv_message.recv_message = &recv_bb;
  ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
  ops[5].data.recv_status_on_client.trailing_metadata = &trailing_md;
  ops[5].data.recv_status_on_client.status = &code;
  ops[5].data.recv_status_on_client.status_details = &details;
  if(grpc_call_start_batch(call, ops, 6, (void *)1, NULL) != GRPC_CALL_OK) {
    st = SDC_EINTERNAL;
    goto out;
  }
  /* The call carries its own deadline, so this wait always ends. */
  ev = grpc_completion_queue_pluck(cq, (void *)1,
                                   gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
  if(ev.type != GRPC_OP_COMPLETE) {
    st = SDC_EINTERNAL;
    goto out;
  }
  out->code = code;
  dlen = GRPC_SLICE_LENGTH(details);
  out->details = sdc__malloc(dlen + 1);
  if(!out->details) {
    st = SDC_ENOMEM; /* LCOV_EXCL_LINE: OutOfMemory */
    goto out;
  }
  memcpy(out->details, GRPC_SLICE_START_PTR(details), dlen);
  out->details[dlen] = '\0';
  if(code == GRPC_STATUS_OK && recv_bb)
    st = read_buffer(recv_bb, &out->body, &out->body_len);
  else if(code == GRPC_STATUS_OK)
    out->code = GRPC_STATUS_INTERNAL; /* a unary call must carry a message */
out:
  if(send_bb)
    grpc_byte_buffer_destroy(send_bb);
  if(recv_bb)
    grpc_byte_buffer_destroy(recv_bb);
  grpc_slice_unref(details);
  grpc_metadata_array_destroy(&initial_md);
  grpc_metadata_array_destroy(&trailing_md);
  if(call)
    grpc_call_unref(call);
  if(cq) {
    grpc_completion_queue_shutdown(cq);
    while(grpc_completion_queue_pluck(cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME),
                                      NULL).type != GRPC_QUEUE_SHUTDOWN)
      ;
    grpc_completion_queue_destroy(cq);
  }
  if(st)
    sdc__grpc_result_cleanup(out);
  return st;
}

void sdc__grpc_result_cleanup(struct sdc__grpc_result *r)
{
  sdc_free(r->details);
  sdc_free(r->body);
  r->details = NULL;
  r->body = NULL;
  r->body_len = 0;
}
