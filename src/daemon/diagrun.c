/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Diagnoses asked from the status page (GET /diagnose.json?id=ID): each
 * runs as a child process, `sdconnect diagnose --config FILE --id ID
 * --json`, whose output is read on the loop (its pipe is watched in the
 * pool's poll). A child, not a thread: a diagnose blocks (directory calls,
 * connects, a real call) and takes what it needs from the configuration
 * file, so nothing it uses can be freed under it by a reload, and a stop
 * ends it by its PID.
 *
 * At most MAX_RUNNING at once; an answer is kept FRESH_MS, then the next
 * request runs it again; a child that takes longer than MAX_MS is killed.
 */
#define _GNU_SOURCE /* pipe2 */
#include "diagrun.h"

#include "daemon.h"

#include <jansson.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_RUNNING 2
#define FRESH_MS 60000
#define MAX_MS 120000
#define MAX_OUT (1u << 20)

extern char **environ;

struct diag_run {
  struct diag_run *next;
  struct daemon *d;
  char *id;
  pid_t pid;   /* 0 once reaped */
  int fd;      /* its stdout; -1 once read to the end */
  char *out;   /* what it printed (at most MAX_OUT) */
  size_t len;
  uint64_t started_ms, done_ms; /* done: reaped and read */
  int status;  /* its exit status, once reaped */
  bool killed; /* it took too long */
};

static struct diag_run *find(struct daemon *d, const char *id)
{
  for(struct diag_run *r = d->diags; r; r = r->next)
    if(!strcmp(r->id, id))
      return r;
  return NULL;
}

static size_t running(const struct daemon *d)
{
  size_t n = 0;

  for(const struct diag_run *r = d->diags; r; r = r->next)
    n += !r->done_ms;
  return n;
}

static void close_out(struct diag_run *r)
{
  if(r->fd < 0)
    return;
  sdc_pool_unwatch(r->d->pool, r->fd);
  close(r->fd);
  r->fd = -1;
}

/* Reap the child if it has ended (`wait`: wait for it); done once it is
 * reaped and its output read. */
static void settle(struct diag_run *r, bool wait)
{
  int st;

  if(r->pid > 0 && waitpid(r->pid, &st, wait ? 0 : WNOHANG) == r->pid) {
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r->pid = 0;
  }
  if(!r->pid && r->fd < 0 && !r->done_ms)
    r->done_ms = daemon_now_ms();
}

static void on_output(int fd, short revents, void *ud)
{
  struct diag_run *r = ud;
  char buf[16384];

  (void)revents;
  for(int i = 0; i < 16; i++) { /* bounded: the rest on the next turn */
    ssize_t n = read(fd, buf, sizeof(buf));
    if(n < 0 && (errno == EAGAIN || errno == EINTR))
      return;
    if(n <= 0) { /* the end */
      close_out(r);
      settle(r, false);
      return;
    }
    if(r->len + (size_t)n <= MAX_OUT) {
      char *p = realloc(r->out, r->len + (size_t)n + 1);
      if(!p)
        continue;
      memcpy(p + r->len, buf, (size_t)n);
      r->out = p;
      r->len += (size_t)n;
      p[r->len] = '\0';
    }
  }
}

/* Start `sdconnect diagnose` for r->id. 0, or -1 (logged). */
static int start(struct daemon *d, struct diag_run *r)
{
  const char *argv[12] = {"sdconnect", "diagnose", "--config", d->config_path, "--id", r->id,
                          "--json"};
  size_t n = 7;
  int fds[2] = {-1, -1}, rc;
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  sigset_t none;

  if(d->local_ep[0]) { /* the local directory runs in here: its real address */
    argv[n++] = "--sd-endpoint";
    argv[n++] = d->local_ep;
    argv[n++] = "--insecure";
  }
  argv[n] = NULL;
  if(pipe2(fds, O_CLOEXEC)) {
    daemon_log(0, "msg=\"cannot start a diagnose\" why=\"%s\"", strerror(errno));
    return -1;
  }
  sigemptyset(&none);
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_init(&at);
  posix_spawnattr_setsigmask(&at, &none); /* the daemon's signals are blocked (signalfd) */
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
  rc = posix_spawn(&r->pid, "/proc/self/exe", &fa, &at, (char *const *)argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  close(fds[1]);
  if(rc) {
    daemon_log(0, "msg=\"cannot start a diagnose\" why=\"%s\"", strerror(rc));
    close(fds[0]);
    r->pid = 0;
    return -1;
  }
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  r->fd = fds[0];
  if(sdc_pool_watch(d->pool, r->fd, POLLIN, on_output, r)) {
    kill(r->pid, SIGKILL);
    close_out(r);
    settle(r, true);
    return -1;
  }
  r->started_ms = daemon_now_ms();
  daemon_log(2, "msg=\"diagnose started\" id=%s pid=%d", r->id, (int)r->pid);
  return 0;
}

char *diagrun_json(struct daemon *d, const char *id)
{
  struct diag_run *r = find(d, id);
  json_t *j, *report;
  char *text;

  if(r && r->done_ms && daemon_now_ms() - r->done_ms > FRESH_MS) { /* stale: again */
    free(r->out);
    r->out = NULL;
    r->len = 0;
    r->done_ms = 0;
    r->killed = false;
    if(running(d) >= MAX_RUNNING || start(d, r)) {
      r->done_ms = daemon_now_ms();
      r->status = -1;
    }
  } else if(!r) {
    if(running(d) >= MAX_RUNNING)
      return strdup("{\"state\":\"busy\",\"error\":\"other diagnoses are running; ask "
                    "again in a moment\"}");
    if(!(r = calloc(1, sizeof(*r))) || !(r->id = strdup(id))) {
      free(r);
      return NULL;
    }
    r->d = d;
    r->fd = -1;
    if(start(d, r)) {
      free(r->id);
      free(r);
      return NULL;
    }
    r->next = d->diags;
    d->diags = r;
  }
  if(!r->done_ms)
    return strdup("{\"state\":\"running\"}");
  report = r->out ? json_loads(r->out, 0, NULL) : NULL;
  j = json_pack("{s:s s:s s:i}", "state", "done", "id", r->id, "exitStatus", r->status);
  if(j && report)
    json_object_set_new(j, "report", report);
  else if(j)
    json_object_set_new(j, "error", json_string(r->killed ? "the diagnose took too long"
                                                : "the diagnose gave no report: run sdconnect "
                                                  "diagnose --config FILE --id ID by hand"));
  text = j ? json_dumps(j, JSON_COMPACT) : NULL;
  json_decref(j);
  return text;
}

char *diagrun_admin(void *ud, const char *id, unsigned *status)
{
  struct daemon *d = ud;
  const sdc_serve_config *c = d->cfg;
  bool known = false;

  for(size_t i = 0; c && i < sdc_check_set_count(c->checks) && !known; i++) {
    const sdc_check *k = sdc_check_set_get(c->checks, i);
    known = !strcmp(sdc_check_id(k), id) && sdc_check_service(k);
  }
  if(!known && c) {
    const sdc_webhook *w = sdc_webhook_set_find(c->webhooks, id);
    known = w && sdc_webhook_service(w);
  }
  if(!known) { /* never a child for an id nobody configured */
    *status = 404;
    return NULL;
  }
  return diagrun_json(d, id);
}

void diagrun_tick(struct daemon *d, uint64_t now)
{
  for(struct diag_run *r = d->diags; r; r = r->next) {
    if(r->pid > 0 && now - r->started_ms > MAX_MS) {
      kill(r->pid, SIGKILL);
      r->killed = true;
      close_out(r);
    }
    settle(r, false);
  }
}

void diagrun_stop(struct daemon *d)
{
  while(d->diags) {
    struct diag_run *r = d->diags;
    d->diags = r->next;
    if(r->pid > 0)
      kill(r->pid, SIGKILL);
    close_out(r);
    settle(r, true);
    free(r->out);
    free(r->id);
    free(r);
  }
}
