/* SPDX-License-Identifier: Apache-2.0 */
/* sd_notify's protocol (see notify.h): one datagram per message. */
#define _GNU_SOURCE /* SOCK_CLOEXEC */
#include "notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* A strict decimal: the whole string, no sign, no overflow. */
static int parse_u64(const char *s, uint64_t *out)
{
  uint64_t v = 0;
  if(!s || !*s)
    return -1;
  for(; *s; s++) {
    if(*s < '0' || *s > '9' || v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
      return -1;
    v = v * 10 + (uint64_t)(*s - '0');
  }
  *out = v;
  return 0;
}

void svc_notify_open(struct svc_notify *n, uint64_t now_ms)
{
  const char *path = getenv("NOTIFY_SOCKET");
  const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
  uint64_t us = 0, for_pid = 0;
  size_t len;

  n->fd = -1;
  n->watchdog_ms = 0;
  n->next_ping_ms = UINT64_MAX;
  /* the watchdog is ours unless it names another process */
  if(parse_u64(usec, &us) == 0 && us > 0 &&
     (!pid || (parse_u64(pid, &for_pid) == 0 && for_pid == (uint64_t)getpid()))) {
    n->watchdog_ms = us / 2000 ? us / 2000 : 1;
    n->next_ping_ms = now_ms; /* at once, then every interval */
  }
  if(path && (path[0] == '/' || path[0] == '@') &&
     (len = strlen(path)) < sizeof(n->dest.sun_path)) {
    memset(&n->dest, 0, sizeof(n->dest));
    n->dest.sun_family = AF_UNIX;
    memcpy(n->dest.sun_path, path, len);
    if(path[0] == '@')
      n->dest.sun_path[0] = '\0'; /* Linux's abstract namespace */
    n->dest_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '/'));
    n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  } else if(path) {
    fprintf(stderr, "sdconnect: NOTIFY_SOCKET '%s' is not a socket path; not notifying\n",
            path);
  }
  if(n->fd < 0) {
    n->watchdog_ms = 0;
    n->next_ping_ms = UINT64_MAX;
  }
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  unsetenv("WATCHDOG_PID");
}

void svc_notify_send(struct svc_notify *n, const char *msg)
{
  if(n->fd < 0)
    return;
  if(sendto(n->fd, msg, strlen(msg), MSG_NOSIGNAL, (const struct sockaddr *)&n->dest,
            n->dest_len) <
     0) {
    fprintf(stderr, "sdconnect: cannot notify the service manager: %s; not notifying\n",
            strerror(errno));
    svc_notify_close(n);
  }
}

uint64_t svc_notify_tick(struct svc_notify *n, uint64_t now_ms)
{
  if(!n->watchdog_ms || n->fd < 0)
    return UINT64_MAX;
  if(now_ms >= n->next_ping_ms) {
    svc_notify_send(n, "WATCHDOG=1");
    n->next_ping_ms = now_ms + n->watchdog_ms;
  }
  return n->fd < 0 ? UINT64_MAX : n->next_ping_ms - now_ms;
}

void svc_notify_close(struct svc_notify *n)
{
  if(n->fd >= 0)
    close(n->fd);
  n->fd = -1;
  n->watchdog_ms = 0;
  n->next_ping_ms = UINT64_MAX;
}
