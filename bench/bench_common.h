/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the benchmark programs (bench_common.c). */
#ifndef SDC_BENCH_COMMON_H
#define SDC_BENCH_COMMON_H

#include <grpc/grpc.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct server {
  pid_t pid;
  int port;
  char dir[64];
};

extern char bench_json[4096];  /* the last line: {"key":value,...} */
extern int bench_server_threads;
extern bool bench_pin_servers; /* servers on CPU 0 (start_sd, start_echo) */

double now_s(void);
void sleep_ms(int ms);
void json_add(const char *key, double v);

/* The soft limit on open files raised to the hard one (1,000 callers). */
void raise_fd_limit(void);
/* dir/name, in one of four rotating buffers. */
const char *bench_path(const char *dir, const char *name);
/* A loopback TCP port nothing listens on now. */
int free_port(void);
/* CPUs this process may run on. */
int n_cpus(void);
/* Keep the calling process (and what it starts) on one CPU (no-op with
 * one CPU). */
void pin_to_cpu(int cpu);
/* Median of v[0..n) (sorts v). */
double median(double *v, int n);
/* nginx with one worker on CPU 0, its files in `dir`, serving `servers`
 * (text inside the http block: server blocks, ssl settings); waits until
 * it has written its pid file. The pid, or -1. */
pid_t start_nginx(const char *dir, const char *servers);
/* The same on CPU `cpu`. */
pid_t start_nginx_on(const char *dir, const char *servers, int cpu);
/* User + system CPU seconds of a process so far (/proc), or -1. */
double proc_cpu_s(pid_t pid);

/* `sdconnect sd-server` on 127.0.0.1:0, in memory or on disk; 0 or -1. */
int start_sd(struct server *s, const char *bin, bool durable);
void stop_sd(struct server *s);
void stop_proc(pid_t pid);
/* The echo ceiling in its own process (fork before grpc_init). */
pid_t start_echo(int *port);
/* Resident KiB of `pid` and its children (nginx's workers); -1: gone. */
long rss_kib(pid_t pid);
/* CPU seconds (user + system) `pid` and its children have used; -1: gone. */
double cpu_seconds(pid_t pid);

/* A channel with its own connection (local subchannel pool). */
grpc_channel *channel(int port);
/* One unary call; the gRPC status code, or -1. */
int call(grpc_channel *ch, const char *method, const uint8_t *req, size_t len);

#define PKG "/google.cloud.servicedirectory.v1."
#define LOC "projects/bench/locations/local"
#define NS LOC "/namespaces/bench"
#define SVC NS "/services/api"

/* Create one directory resource through `r`: an endpoint gets `addr`, `port`,
 * `network` (NULL: none) and one annotation `key`=`value` (NULL: none). 0 or -1. */
struct sdc_resolver;
int bench_sd_create(struct sdc_resolver *r, int kind, const char *name, const char *addr,
                    int port, const char *network, const char *key, const char *value);

/* Create the bench namespace and service (SVC); 0 on success. */
int seed(int port);

#endif
