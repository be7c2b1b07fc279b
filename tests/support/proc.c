/* SPDX-License-Identifier: Apache-2.0 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "proc.h"

#include <ftw.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *tproc_path(const char *dir, const char *name)
{
  static char buf[8][256];
  static int k;
  char *p = buf[k++ % 8];

  snprintf(p, 256, "%s/%s", dir, name);
  return p;
}

int tproc_closed_port(int *fd_out)
{
  struct sockaddr_in a = {.sin_family = AF_INET};
  socklen_t len = sizeof(a);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if(fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
     !getsockname(fd, (struct sockaddr *)&a, &len))
    port = ntohs(a.sin_port);
  if(fd >= 0 && (!fd_out || port < 0))
    close(fd);
  else if(fd_out)
    *fd_out = fd;
  return port;
}

int tproc_free_port(void)
{
  return tproc_closed_port(NULL);
}

const char *tproc_loopback_name(void)
{
  const char *name = "127.0.0.1";
  FILE *hosts = fopen("/etc/hosts", "r");
  char line[256];

  while(hosts && fgets(line, sizeof(line), hosts))
    if(!strncmp(line, "127.0.0.1", 9) && strstr(line, "localhost"))
      name = "localhost";
  if(hosts)
    fclose(hosts);
  return name;
}

void tproc_sleep_ms(int ms)
{
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int tproc_tmpdir(char out[64])
{
  strcpy(out, "/tmp/sdc-test-XXXXXX");
  return mkdtemp(out) ? 0 : -1;
}

const char *tproc_sdconnect(void)
{
  const char *b = getenv("SDCONNECT_BIN");
  return b && *b ? b : "sdconnect";
}

struct secret {
  const char *name, *value;
};
static struct secret secrets[32];
static size_t n_secrets;

void tproc_secret(const char *name, const char *value)
{
  if(n_secrets < 32 && value && *value)
    secrets[n_secrets++] = (struct secret){name, value};
}

/* A process that ended: none of the secrets may be in what it printed. */
static void scan_output(const struct tproc *p)
{
  if(!p->scan)
    return;
  for(size_t i = 0; i < n_secrets; i++)
    if(tproc_log_count(p, secrets[i].value)) {
      fprintf(stderr, "tproc: the secret '%s' is in the output of an sdconnect process "
              "(%s)\n", secrets[i].name, p->log);
      abort();
    }
}

static pid_t spawn(struct tproc *p, const char *const argv[], bool want_port)
{
  char port_file[128];
  const char *args[64];
  size_t n = 0;
  pid_t pid;

  snprintf(port_file, sizeof(port_file), "%s/port", p->dir);
  unlink(port_file);
  while(argv[n] && n < 60) {
    args[n] = argv[n];
    n++;
  }
  if(want_port) {
    args[n++] = "--port-file";
    args[n++] = port_file;
  }
  args[n] = NULL;
  p->scan = !strcmp(argv[0], tproc_sdconnect());
  pid = fork();
  if(pid == 0) {
    int fd = open(p->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if(fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    execv(args[0], (char *const *)args);
    _exit(127);
  }
  return pid;
}

static int status_code(int st)
{
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* A server that did not come up says why: its command, how it ended and
 * the end of its output, so a failure seen once in CI can be read. */
static void tell_no_start(const struct tproc *p, const char *const argv[], const char *how)
{
  char tail[2048];
  size_t n = 0;
  FILE *f = fopen(p->log, "r");

  if(f) {
    if(fseek(f, -(long)(sizeof(tail) - 1), SEEK_END))
      rewind(f);
    n = fread(tail, 1, sizeof(tail) - 1, f);
    fclose(f);
  }
  tail[n] = '\0';
  fprintf(stderr, "tproc: %s %s (%s); its output ends:\n%s\n", argv[0],
          argv[1] ? argv[1] : "", how, tail);
}

int tproc_start(struct tproc *p, const char *const argv[], bool want_port)
{
  char port_file[128];
  int st;

  if(!p->dir[0] && tproc_tmpdir(p->dir))
    return -1;
  snprintf(p->log, sizeof(p->log), "%s/log", p->dir);
  snprintf(port_file, sizeof(port_file), "%s/port", p->dir);
  p->port = 0;
  p->pid = spawn(p, argv, want_port);
  if(p->pid < 0)
    return -1;
  if(!want_port)
    return 0;
  for(int i = 0; i < 750; i++) { /* 750 x 20 ms = 15 s */
    FILE *f = fopen(port_file, "r");
    if(f) {
      int ok = fscanf(f, "%d", &p->port) == 1;
      fclose(f);
      if(ok && p->port > 0)
        return 0;
    }
    if(waitpid(p->pid, &st, WNOHANG) == p->pid) {
      p->exit_status = status_code(st);
      p->pid = 0;
      scan_output(p);
      snprintf(port_file, sizeof(port_file), "exited with %d before saying its port",
               p->exit_status);
      tell_no_start(p, argv, port_file);
      return -1;
    }
    tproc_sleep_ms(20);
  }
  tproc_kill9(p);
  tell_no_start(p, argv, "no port after 15 s");
  return -1;
}

int tproc_run(struct tproc *p, const char *const argv[])
{
  if(tproc_start(p, argv, false))
    return -1;
  return tproc_stop(p, 30000);
}

static int wait_bounded(struct tproc *p, int ms)
{
  int st;

  for(int waited = 0; waited <= ms; waited += 10) {
    pid_t r = waitpid(p->pid, &st, WNOHANG);
    if(r == p->pid) {
      p->exit_status = status_code(st);
      p->pid = 0;
      return 0;
    }
    if(r < 0 && errno != EINTR)
      return -1;
    tproc_sleep_ms(10);
  }
  return -1;
}

int tproc_stop(struct tproc *p, int grace_ms)
{
  if(p->pid <= 0)
    return p->exit_status;
  /* tproc_run waits for a command that ends by itself; a server gets TERM */
  if(grace_ms < 30000)
    kill(p->pid, SIGTERM);
  if(wait_bounded(p, grace_ms)) {
    kill(p->pid, SIGKILL);
    wait_bounded(p, 5000);
    p->exit_status = -1;
  }
  scan_output(p);
  return p->exit_status;
}

void tproc_kill9(struct tproc *p)
{
  if(p->pid <= 0)
    return;
  kill(p->pid, SIGKILL);
  wait_bounded(p, 5000);
  scan_output(p);
}

unsigned tproc_log_count(const struct tproc *p, const char *needle)
{
  FILE *f = fopen(p->log, "r");
  char *buf;
  size_t n;
  unsigned count = 0;

  if(!f)
    return 0;
  buf = calloc(1, 1 << 22);
  n = fread(buf, 1, (1 << 22) - 1, f);
  fclose(f);
  buf[n] = '\0';
  for(char *at = strstr(buf, needle); at; at = strstr(at + 1, needle))
    count++;
  free(buf);
  return count;
}

bool tproc_log_has(const struct tproc *p, const char *needle)
{
  FILE *f = fopen(p->log, "r");
  char *buf;
  size_t n;
  bool found;

  if(!f)
    return false;
  buf = calloc(1, 1 << 20);
  n = fread(buf, 1, (1 << 20) - 1, f);
  fclose(f);
  buf[n] = '\0';
  found = strstr(buf, needle) != NULL;
  free(buf);
  return found;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void)st;
  (void)flag;
  (void)ftw;
  remove(path);
  return 0;
}

void tproc_rmdir(const char *dir)
{
  if(dir && *dir && strncmp(dir, "/tmp/sdc-test-", 14) == 0) /* only what tests made */
    nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

int tproc_browse(struct tproc *b, int port, const char *what, const char *size)
{
  return tproc_browse_path(b, port, "/", what, size);
}

int tproc_browse_path(struct tproc *b, int port, const char *path, const char *what,
                      const char *size)
{
  char url[300], profile[128];
  const char *bin = getenv("SDC_CHROMIUM_BIN");
  const char *argv[] = {bin && *bin ? bin : "chromium", "--headless", "--no-sandbox",
                        "--disable-gpu", profile, "--no-first-run", "--no-proxy-server",
                        "--disable-background-networking", "--disable-component-update",
                        "--disable-sync", "--disable-default-apps", "--disable-breakpad",
                        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                        "--virtual-time-budget=12000", size, what, url, NULL};

  if(!b->dir[0] && tproc_tmpdir(b->dir))
    return -1;
  snprintf(profile, sizeof(profile), "--user-data-dir=%s", tproc_path(b->dir, "profile"));
  snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
  if(b->log[0])
    unlink(b->log);
  return tproc_run(b, argv);
}
