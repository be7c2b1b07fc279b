/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The service manager's notification protocol (systemd's sd_notify),
 * written out so that sdconnect needs no libsystemd: datagrams such as
 * "READY=1" to the socket named by $NOTIFY_SOCKET, and "WATCHDOG=1" every
 * half of $WATCHDOG_USEC. Without $NOTIFY_SOCKET every call does nothing.
 * One thread: the one that opened it.
 */
#ifndef SDC_SVC_NOTIFY_H
#define SDC_SVC_NOTIFY_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

struct svc_notify {
  int fd;                 /* -1: no service manager asked */
  uint64_t watchdog_ms;   /* ping interval (half the manager's), 0: none */
  uint64_t next_ping_ms;  /* on the caller's monotonic clock */
  struct sockaddr_un dest;
  socklen_t dest_len;
};

/* Read and clear $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID (children
 * must not speak for this process). Call before any thread starts: it
 * changes the environment. Never fails: a socket that cannot be reached
 * is reported to stderr once and then ignored. */
void svc_notify_open(struct svc_notify *n, uint64_t now_ms);
/* Send one message ("READY=1", "STATUS=...\nREADY=1"). */
void svc_notify_send(struct svc_notify *n, const char *msg);
/* Ping the watchdog when due; returns the ms until the next ping is due
 * (UINT64_MAX without a watchdog). Call it from the loop: a loop that
 * stalls stops the pings, and the manager restarts the process. */
uint64_t svc_notify_tick(struct svc_notify *n, uint64_t now_ms);
void svc_notify_close(struct svc_notify *n);

#endif
