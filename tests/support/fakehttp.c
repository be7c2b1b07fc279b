/* SPDX-License-Identifier: Apache-2.0 */
#include "fakehttp.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct fakehttp {
  int fd;
  pthread_t th;
  atomic_bool stop;
  atomic_uint count;
  fakehttp_fn fn;
  void *ud;
  pthread_mutex_t lock;
  struct fakehttp_req last;
};

static void serve_one(struct fakehttp *f, int c)
{
  static _Thread_local struct fakehttp_req req;
  char buf[32768], *end, *cl;
  char body[16384], head[256];
  size_t n = 0, want = 0, hlen;
  int status = 500;

  memset(&req, 0, sizeof(req));
  for(int i = 0; i < 200 && n < sizeof(buf) - 1; i++) { /* bounded reads */
    struct pollfd p = {c, POLLIN, 0};
    ssize_t r;
    if(poll(&p, 1, 2000) <= 0)
      break;
    r = read(c, buf + n, sizeof(buf) - 1 - n);
    if(r <= 0)
      break;
    n += (size_t)r;
    buf[n] = '\0';
    end = strstr(buf, "\r\n\r\n");
    if(end) {
      char *line_end = strstr(buf, "\r\n");
      hlen = (size_t)(end - buf) + 4;
      /* header names compare lower-cased; the request line keeps its case */
      for(char *q = line_end; q < end; q++)
        *q = (char)tolower((unsigned char)*q);
      cl = strstr(buf, "content-length:");
      want = cl ? (size_t)atol(cl + 15) : 0;
      if(n >= hlen + want)
        break;
    }
  }
  end = strstr(buf, "\r\n\r\n");
  if(!end) {
    close(c);
    return;
  }
  sscanf(buf, "%15s %1023s", req.method, req.path);
  for(char *p = req.method; *p; p++)
    *p = (char)toupper((unsigned char)*p);
  hlen = (size_t)(end - buf);
  snprintf(req.headers, sizeof(req.headers), "%.*s", (int)hlen, buf);
  snprintf(req.body, sizeof(req.body), "%s", end + 4);
  body[0] = '\0';
  f->fn(&req, &status, body, sizeof(body), f->ud);
  pthread_mutex_lock(&f->lock);
  f->last = req;
  pthread_mutex_unlock(&f->lock);
  /* counted before answering: a caller that has its answer sees the count */
  atomic_fetch_add(&f->count, 1);
  snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Type: application/json"
           "\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", status,
           strlen(body));
  if(write(c, head, strlen(head)) >= 0)
    (void)!write(c, body, strlen(body));
  close(c);
}

static void *loop(void *arg)
{
  struct fakehttp *f = arg;

  while(!atomic_load(&f->stop)) {
    struct pollfd p = {f->fd, POLLIN, 0};
    int c;
    if(poll(&p, 1, 50) <= 0)
      continue;
    c = accept(f->fd, NULL, NULL);
    if(c >= 0)
      serve_one(f, c);
  }
  return NULL;
}

struct fakehttp *fakehttp_start(fakehttp_fn fn, void *ud, int *port)
{
  struct fakehttp *f = calloc(1, sizeof(*f));
  struct sockaddr_in a = {0};
  socklen_t len = sizeof(a);

  f->fn = fn;
  f->ud = ud;
  pthread_mutex_init(&f->lock, NULL);
  f->fd = socket(AF_INET, SOCK_STREAM, 0);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if(f->fd < 0 || bind(f->fd, (struct sockaddr *)&a, sizeof(a)) ||
     listen(f->fd, 16) || getsockname(f->fd, (struct sockaddr *)&a, &len)) {
    if(f->fd >= 0)
      close(f->fd);
    free(f);
    return NULL;
  }
  *port = ntohs(a.sin_port);
  pthread_create(&f->th, NULL, loop, f);
  return f;
}

unsigned fakehttp_count(struct fakehttp *f) { return atomic_load(&f->count); }

void fakehttp_last(struct fakehttp *f, struct fakehttp_req *out)
{
  pthread_mutex_lock(&f->lock);
  *out = f->last;
  pthread_mutex_unlock(&f->lock);
}

void fakehttp_stop(struct fakehttp *f)
{
  if(!f)
    return;
  atomic_store(&f->stop, true);
  pthread_join(f->th, NULL);
  close(f->fd);
  pthread_mutex_destroy(&f->lock);
  free(f);
}
