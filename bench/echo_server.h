/* SPDX-License-Identifier: Apache-2.0 */
/* A do-nothing gRPC C-core echo server: the ceiling benchmarks compare to. */
#ifndef SDC_BENCH_ECHO_SERVER_H
#define SDC_BENCH_ECHO_SERVER_H

struct echo_server;

/* Listen on 127.0.0.1:0 with `threads` completion-queue threads. */
struct echo_server *echo_server_start(int threads, int *port);
void echo_server_stop(struct echo_server *s);

#endif
