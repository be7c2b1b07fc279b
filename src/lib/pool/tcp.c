/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP connects on the pool's loop, for TCP uptime checks: a non-blocking
 * socket per connect, waited on by the same poll as the pool's
 * connections, timed, optionally read from until the peer closes, a cap
 * or the deadline, then closed. No libcurl handle: a connect costs a
 * socket, a poll entry and this small record.
 *
 * Callbacks run at the end of the loop turn (never inside
 * sdc_pool_tcp_connect()), like every other pool callback.
 */
#include "pool_int.h"

#include "core/core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct tcpop {
  struct tcpop *next;
  int fd;
  char endpoint[72];
  uint64_t start_us, deadline_ms;
  bool connected, done;
  double connect_ms;
  char *buf;
  size_t n, max;
  sdc_status st;
  sdc_fail_kind kind;
  char msg[300];
  sdc_tcp_cb cb;
  void *ud;
};

/* The op is over: `what` went wrong, or nothing (st SDC_OK). */
static void op_end(struct tcpop *op, sdc_status st, sdc_fail_kind kind,
                   const char *what, const char *why)
{
  op->done = true;
  op->st = st;
  op->kind = kind;
  if(st)
    snprintf(op->msg, sizeof(op->msg), "TCP %s: %s%s%s", op->endpoint, what,
             *why ? ": " : "", why);
  if(op->fd >= 0)
    close(op->fd);
  op->fd = -1;
}

static void connect_failed(struct tcpop *op, int err)
{
  sdc_fail_kind kind;
  sdc_status st = sdc__connect_failure(err, &kind);

  op_end(op, st, kind, "cannot connect", strerror(err));
}

static void op_connected(struct tcpop *op)
{
  op->connected = true;
  op->connect_ms = (double)(sdc__now_us() - op->start_us) / 1e3;
  if(!op->max)
    op_end(op, SDC_OK, SDC_FAIL_NONE, "", "");
}

sdc_status sdc_pool_tcp_connect(sdc_pool *p, const char *addr, int port,
                                uint64_t timeout_ms, size_t read_max,
                                sdc_tcp_cb cb, void *userdata)
{
  struct sockaddr_storage ss;
  socklen_t len;
  struct tcpop *op;
  bool v6 = addr && strchr(addr, ':');

  if(!addr || !cb || port < 1 || port > 65535 || read_max > (64u << 20)) {
    snprintf(p->err, sizeof(p->err), "a TCP connect needs an address, a port "
             "(1-65535) and a callback");
    return SDC_EINVAL;
  }
  if(!(len = sdc__sockaddr_of(addr, port, &ss))) {
    snprintf(p->err, sizeof(p->err), "'%.80s' is not an IPv4 or IPv6 address", addr);
    return SDC_EINVAL;
  }
  if(!(op = sdc__calloc(1, sizeof(*op))) ||
     (read_max && !(op->buf = sdc__malloc(read_max + 1)))) {
    sdc_free(op);
    snprintf(p->err, sizeof(p->err), "out of memory");
    return SDC_ENOMEM;
  }
  snprintf(op->endpoint, sizeof(op->endpoint), "%s%s%s:%d", v6 ? "[" : "", addr,
           v6 ? "]" : "", port);
  op->max = read_max;
  op->cb = cb;
  op->ud = userdata;
  op->start_us = sdc__now_us();
  op->deadline_ms = op->start_us / 1000 + (timeout_ms ? timeout_ms : DEFAULT_TIMEOUT_MS);
  op->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if(op->fd < 0)
    op_end(op, SDC_EUNAVAILABLE, SDC_FAIL_CONNECT, "no socket", strerror(errno));
  else if(connect(op->fd, (struct sockaddr *)&ss, len) == 0)
    op_connected(op); /* told on the next turn, like any other */
  else if(errno != EINPROGRESS)
    connect_failed(op, errno);
  if(op->deadline_ms < p->scan_due)
    p->scan_due = op->deadline_ms;
  op->next = p->tcp;
  p->tcp = op;
  p->tcp_pending++;
  return SDC_OK;
}

size_t sdc__tcp_wait_set(sdc_pool *p, size_t n, uint64_t *wake_ms)
{
  for(struct tcpop *op = p->tcp; op; op = op->next) {
    if(op->done || (op->connected && !op->max)) {
      *wake_ms = sdc__now_ms(); /* due now: no waiting this turn */
      continue;
    }
    if(op->deadline_ms < *wake_ms)
      *wake_ms = op->deadline_ms;
    if(!sdc__wait_room(p, n + 1))
      continue;
    p->wfds[n] = (struct curl_waitfd){op->fd, (short)(op->connected ? CURL_WAIT_POLLIN
                                                                     : CURL_WAIT_POLLOUT), 0};
    p->wowner[n++] = op;
  }
  return n;
}

/* Read what the peer sends; false when the op is over. */
static void op_read(struct tcpop *op)
{
  for(;;) {
    ssize_t got = recv(op->fd, op->buf + op->n, op->max - op->n, 0);
    if(got > 0) {
      op->n += (size_t)got;
      if(op->n == op->max) {
        op_end(op, SDC_OK, SDC_FAIL_NONE, "", "");
        return;
      }
      continue;
    }
    if(got == 0) {
      op_end(op, SDC_OK, SDC_FAIL_NONE, "", "");
    } else if(errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      op_end(op, SDC_EUNAVAILABLE, SDC_FAIL_PROTOCOL,
             "the connection broke while reading", strerror(errno));
    }
    return;
  }
}

void sdc__tcp_handle(sdc_pool *p, size_t from, size_t to)
{
  uint64_t now = sdc__now_ms();

  for(size_t i = from; i < to; i++) {
    struct tcpop *op = p->wowner[i];
    int err = 0;
    socklen_t el = sizeof(err);
    if(!p->wfds[i].revents || op->done)
      continue;
    if(!op->connected) {
      if(getsockopt(op->fd, SOL_SOCKET, SO_ERROR, &err, &el) || err)
        connect_failed(op, err ? err : errno);
      else
        op_connected(op);
    } else {
      op_read(op);
    }
  }
  for(struct tcpop *op = p->tcp; op; op = op->next) {
    if(op->done)
      continue;
    if(!op->done && now >= op->deadline_ms) {
      if(!op->connected)
        op_end(op, SDC_ETIMEDOUT, SDC_FAIL_CONNECT_TIMEOUT,
               "no connection within the timeout (nothing answered: a "
               "firewall that drops, or no route)", "");
      else /* what was read is the answer */
        op_end(op, SDC_OK, SDC_FAIL_NONE, "", "");
    }
  }
  /* tell the callers, in order, at the end of the turn */
  for(struct tcpop **pp = &p->tcp; *pp;) {
    struct tcpop *op = *pp;
    sdc_tcp_result res;
    if(!op->done) {
      pp = &op->next;
      continue;
    }
    *pp = op->next;
    p->tcp_pending--;
    res = (sdc_tcp_result){op->endpoint, op->connect_ms, op->buf ? op->buf : "", op->n};
    if(op->buf)
      op->buf[op->n] = '\0';
    p->fail = op->st ? op->kind : SDC_FAIL_NONE;
    op->cb(op->st, op->st ? NULL : &res, op->msg, op->ud);
    p->fail = SDC_FAIL_NONE;
    sdc_free(op->buf);
    sdc_free(op);
  }
}

void sdc__tcp_free_all(sdc_pool *p)
{
  while(p->tcp) {
    struct tcpop *op = p->tcp;
    p->tcp = op->next;
    if(op->fd >= 0)
      close(op->fd);
    snprintf(op->msg, sizeof(op->msg), "TCP %s: the pool was freed", op->endpoint);
    p->fail = SDC_FAIL_CANCELLED;
    op->cb(SDC_EUNAVAILABLE, NULL, op->msg, op->ud);
    sdc_free(op->buf);
    sdc_free(op);
  }
  p->tcp_pending = 0;
}
