/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ceiling for the local Service Directory benchmark: a raw gRPC C-core
 * server that answers every unary call with the request bytes, using the
 * same shape as sd-server (one completion queue per thread, a pool of
 * outstanding request_call()s, one batch per answer) and no work at all.
 */
#include "echo_server.h"

#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define PENDING 16

struct echo_call {
  grpc_completion_queue *cq;
  grpc_server *server;
  int state; /* 0 requested, 1 reading, 2 sending */
  grpc_call *call;
  grpc_call_details details;
  grpc_metadata_array md;
  grpc_byte_buffer *recv;
  grpc_slice status;
  int cancelled;
};

struct echo_server {
  grpc_server *server;
  grpc_completion_queue *cq[16];
  pthread_t th[16];
  int n;
};

static void request(grpc_server *server, grpc_completion_queue *cq)
{
  struct echo_call *c = calloc(1, sizeof(*c));

  c->cq = cq;
  c->server = server;
  grpc_call_details_init(&c->details);
  grpc_metadata_array_init(&c->md);
  if(grpc_server_request_call(server, &c->call, &c->details, &c->md, cq, cq, c) != GRPC_CALL_OK) {
    grpc_call_details_destroy(&c->details);
    grpc_metadata_array_destroy(&c->md);
    free(c);
  }
}

static void done(struct echo_call *c)
{
  if(c->recv)
    grpc_byte_buffer_destroy(c->recv);
  grpc_slice_unref(c->status);
  grpc_call_details_destroy(&c->details);
  grpc_metadata_array_destroy(&c->md);
  if(c->call)
    grpc_call_unref(c->call);
  free(c);
}

static void *loop(void *arg)
{
  struct echo_server *s = ((void **)arg)[0];
  grpc_completion_queue *cq = ((void **)arg)[1];

  free(arg);
  for(int i = 0; i < PENDING; i++)
    request(s->server, cq);
  for(;;) {
    grpc_event ev = grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    struct echo_call *c = ev.tag;
    grpc_op ops[4];
    if(ev.type == GRPC_QUEUE_SHUTDOWN)
      return NULL;
    if(ev.type != GRPC_OP_COMPLETE)
      continue;
    memset(ops, 0, sizeof(ops));
    if(c->state == 0) {
      if(!ev.success) {
        done(c);
        continue;
      }
      request(s->server, cq);
      c->state = 1;
      ops[0].op = GRPC_OP_RECV_MESSAGE;
      ops[0].data.recv_message.recv_message = &c->recv;
      if(grpc_call_start_batch(c->call, ops, 1, c, NULL) != GRPC_CALL_OK)
        done(c);
    } else if(c->state == 1) {
      if(!ev.success || !c->recv) {
        done(c);
        continue;
      }
      c->state = 2;
      c->status = grpc_empty_slice();
      ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
      ops[1].op = GRPC_OP_SEND_MESSAGE;
      ops[1].data.send_message.send_message = c->recv; /* echo */
      ops[2].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
      ops[2].data.send_status_from_server.status = GRPC_STATUS_OK;
      ops[2].data.send_status_from_server.status_details = &c->status;
      ops[3].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
      ops[3].data.recv_close_on_server.cancelled = &c->cancelled;
      if(grpc_call_start_batch(c->call, ops, 4, c, NULL) != GRPC_CALL_OK)
        done(c);
    } else {
      done(c);
    }
  }
}

struct echo_server *echo_server_start(int threads, int *port)
{
  struct echo_server *s = calloc(1, sizeof(*s));
  grpc_server_credentials *creds = grpc_insecure_server_credentials_create();

  s->n = threads > 16 ? 16 : threads;
  s->server = grpc_server_create(NULL, NULL);
  for(int i = 0; i < s->n; i++) {
    s->cq[i] = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(s->server, s->cq[i], NULL);
  }
  *port = grpc_server_add_http2_port(s->server, "127.0.0.1:0", creds);
  grpc_server_credentials_release(creds);
  grpc_server_start(s->server);
  for(int i = 0; i < s->n; i++) {
    void **arg = malloc(2 * sizeof(void *));
    arg[0] = s;
    arg[1] = s->cq[i];
    pthread_create(&s->th[i], NULL, loop, arg);
  }
  return s;
}

void echo_server_stop(struct echo_server *s)
{
  grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);

  grpc_server_shutdown_and_notify(s->server, cq, s);
  grpc_server_cancel_all_calls(s->server);
  grpc_completion_queue_pluck(cq, s, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
  grpc_server_destroy(s->server);
  grpc_completion_queue_shutdown(cq);
  grpc_completion_queue_pluck(cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
  grpc_completion_queue_destroy(cq);
  for(int i = 0; i < s->n; i++)
    grpc_completion_queue_shutdown(s->cq[i]);
  for(int i = 0; i < s->n; i++) {
    pthread_join(s->th[i], NULL);
    grpc_completion_queue_destroy(s->cq[i]);
  }
  free(s);
}
