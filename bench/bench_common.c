/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the benchmark programs: processes on loopback (started
 * and stopped by PID), the echo ceiling, channels, and the JSON line. */
#define _GNU_SOURCE /* sched_setaffinity */
#include "bench_common.h"

#include <sdconnect/sdconnect.h>

#include "echo_server.h"
#include "google/cloud/servicedirectory/v1/registration_service.pb-c.h"
#include "sd/sd.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <grpc/grpc_security.h>
#include <netinet/in.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

char bench_json[4096] = "{";
int bench_server_threads = 2;
bool bench_pin_servers;

double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void json_add(const char *key, double v)
{
  size_t n = strlen(bench_json);
  snprintf(bench_json + n, sizeof(bench_json) - n, "%s\"%s\":%.4g", n > 1 ? "," : "", key, v);
}

void raise_fd_limit(void)
{
  struct rlimit rl;

  if(!getrlimit(RLIMIT_NOFILE, &rl)) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

const char *bench_path(const char *dir, const char *name)
{
  static char buf[4][200];
  static int i;

  i = (i + 1) % 4;
  snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
  return buf[i];
}

/* ---- processes ----------------------------------------------------------- */
void sleep_ms(int ms)
{
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int start_sd(struct server *s, const char *bin, bool durable)
{
  char port_file[128], db[128], threads_arg[16];
  strcpy(s->dir, "/tmp/sdc-bench-XXXXXX");
  if(!mkdtemp(s->dir))
    return -1;
  snprintf(port_file, sizeof(port_file), "%s/port", s->dir);
  snprintf(threads_arg, sizeof(threads_arg), "%d", bench_server_threads);
  snprintf(db, sizeof(db), "%s/registry.db", s->dir);
  s->pid = fork();
  if(s->pid == 0) {
    if(bench_pin_servers)
      pin_to_cpu(0);
    execl(bin, bin, "sd-server", "--listen", "127.0.0.1:0", "--port-file", port_file,
          "--threads", threads_arg, "--log-level", "warn", durable ? "--db" : "--memory",
          durable ? db : NULL, (char *)NULL);
    _exit(127);
  }
  for(int i = 0; i < 1000; i++) { /* 10 s */
    FILE *f = fopen(port_file, "r");
    if(f) {
      int ok = fscanf(f, "%d", &s->port) == 1;
      fclose(f);
      if(ok)
        return 0;
    }
    sleep_ms(10);
  }
  kill(s->pid, SIGKILL);
  waitpid(s->pid, NULL, 0);
  return -1;
}

void stop_proc(pid_t pid)
{
  if(pid <= 0) /* never started: kill(-1) would signal every process */
    return;
  kill(pid, SIGTERM);
  for(int i = 0; i < 500; i++) { /* 5 s, then SIGKILL */
    if(waitpid(pid, NULL, WNOHANG) == pid)
      return;
    sleep_ms(10);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
}

void stop_sd(struct server *s)
{
  char cmd[128];
  stop_proc(s->pid);
  snprintf(cmd, sizeof(cmd), "%s/registry.db", s->dir);
  unlink(cmd);
  strcat(cmd, "-wal");
  unlink(cmd);
  snprintf(cmd, sizeof(cmd), "%s/port", s->dir);
  unlink(cmd);
  rmdir(s->dir);
}

/* The echo server lives in its own process, as sd-server does. */
pid_t start_echo(int *port)
{
  int fds[2];
  pid_t pid;

  if(pipe(fds))
    return -1;
  pid = fork();
  if(pid == 0) {
    sigset_t set;
    int sig, p = 0;
    struct echo_server *e;
    if(bench_pin_servers)
      pin_to_cpu(0);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    grpc_init();
    e = echo_server_start(bench_server_threads, &p);
    if(write(fds[1], &p, sizeof(p)) != sizeof(p))
      _exit(1);
    sigwait(&set, &sig);
    echo_server_stop(e);
    grpc_shutdown();
    _exit(0);
  }
  close(fds[1]);
  if(read(fds[0], port, sizeof(*port)) != sizeof(*port))
    *port = 0;
  close(fds[0]);
  return pid;
}

/* VmRSS (KiB) of one process and its parent's pid; -1 when gone */
static double own_rss_kib(pid_t pid, pid_t *ppid)
{
  char path[64], line[256];
  long kib = -1;
  FILE *f;

  snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
  f = fopen(path, "r");
  if(!f)
    return -1;
  *ppid = 0;
  while(fgets(line, sizeof(line), f))
    if(!strncmp(line, "VmRSS:", 6))
      kib = strtol(line + 6, NULL, 10);
    else if(!strncmp(line, "PPid:", 5))
      *ppid = (pid_t)strtol(line + 5, NULL, 10);
  fclose(f);
  return (double)kib;
}

/* utime + stime of one process in seconds, and its parent's pid */
static double own_cpu_s(pid_t pid, pid_t *ppid)
{
  char path[64], line[1024];
  unsigned long ut = 0, st = 0;
  int pp = 0;
  const char *p;
  FILE *f;

  snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  if(!(f = fopen(path, "r")))
    return -1;
  p = fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL; /* past the name */
  fclose(f);
  if(!p || sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &pp, &ut,
                  &st) != 3)
    return -1;
  *ppid = pp;
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* `of` a process plus `of` each of its children: nginx serves from its
 * worker, not its master. -1 when the process is gone. */
static double with_children(pid_t pid, double (*of)(pid_t, pid_t *))
{
  pid_t ppid;
  double sum = of(pid, &ppid), k;
  DIR *d = sum >= 0 ? opendir("/proc") : NULL;
  struct dirent *e;

  while(d && (e = readdir(d))) {
    pid_t child = (pid_t)strtol(e->d_name, NULL, 10);
    if(child > 0 && child != pid && (k = of(child, &ppid)) > 0 && ppid == pid)
      sum += k;
  }
  if(d)
    closedir(d);
  return sum;
}

double cpu_seconds(pid_t pid) { return with_children(pid, own_cpu_s); }

long rss_kib(pid_t pid) { return (long)with_children(pid, own_rss_kib); }

/* ---- clients ------------------------------------------------------------- */
grpc_channel *channel(int port)
{
  char target[64];
  grpc_arg arg = {GRPC_ARG_INTEGER, (char *)GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, {.integer = 1}};
  grpc_channel_args args = {1, &arg};
  grpc_channel_credentials *c = grpc_insecure_credentials_create();
  grpc_channel *ch;

  snprintf(target, sizeof(target), "127.0.0.1:%d", port);
  ch = grpc_channel_create(target, c, &args); /* own connection per caller */
  grpc_channel_credentials_release(c);
  return ch;
}

int call(grpc_channel *ch, const char *method, const uint8_t *req, size_t len)
{
  struct sdc__grpc_result r;
  int code;

  if(sdc__grpc_unary(ch, method, req, len, NULL, 0, 10000, &r) != SDC_OK)
    return -1;
  code = (int)r.code;
  sdc__grpc_result_cleanup(&r);
  return code;
}


int seed(int port)
{
  grpc_channel *ch = channel(port);
  uint8_t buf[512];
  size_t n;
  int rc = 0;
  Google__Cloud__Servicedirectory__V1__CreateNamespaceRequest ns =
      GOOGLE__CLOUD__SERVICEDIRECTORY__V1__CREATE_NAMESPACE_REQUEST__INIT;
  Google__Cloud__Servicedirectory__V1__CreateServiceRequest sv =
      GOOGLE__CLOUD__SERVICEDIRECTORY__V1__CREATE_SERVICE_REQUEST__INIT;

  ns.parent = (char *)LOC;
  ns.namespace_id = (char *)"bench";
  n = google__cloud__servicedirectory__v1__create_namespace_request__pack(&ns, buf);
  rc |= call(ch, PKG "RegistrationService/CreateNamespace", buf, n);
  sv.parent = (char *)NS;
  sv.service_id = (char *)"api";
  n = google__cloud__servicedirectory__v1__create_service_request__pack(&sv, buf);
  rc |= call(ch, PKG "RegistrationService/CreateService", buf, n);
  grpc_channel_destroy(ch);
  return rc;
}


int free_port(void)
{
  struct sockaddr_in a = {0};
  socklen_t len = sizeof(a);
  int fd = socket(AF_INET, SOCK_STREAM, 0), port;

  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, (struct sockaddr *)&a, sizeof(a));
  getsockname(fd, (struct sockaddr *)&a, &len);
  port = ntohs(a.sin_port);
  close(fd);
  return port;
}

int n_cpus(void)
{
  cpu_set_t set;

  return sched_getaffinity(0, sizeof(set), &set) ? 1 : CPU_COUNT(&set);
}

void pin_to_cpu(int cpu)
{
  cpu_set_t set;

  if(n_cpus() < 2)
    return;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof(set), &set);
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

double median(double *v, int n)
{
  qsort(v, (size_t)n, sizeof(*v), cmp_double);
  return v[n / 2];
}

pid_t start_nginx(const char *dir, const char *servers)
{
  return start_nginx_on(dir, servers, 0);
}

pid_t start_nginx_on(const char *dir, const char *servers, int cpu)
{
  char conf[256], path[300];
  FILE *f;
  pid_t pid;

  snprintf(conf, sizeof(conf), "%s/nginx.conf", dir);
  f = fopen(conf, "w");
  if(!f)
    return -1;
  fprintf(f,
          "worker_processes 1;\ndaemon off;\npid %s/nginx.pid;\nerror_log %s/error.log;\n"
          "worker_rlimit_nofile 16384;\n"
          "events { worker_connections 8192; }\n"
          "http {\n  access_log off;\n  keepalive_requests 10000000;\n"
          "  keepalive_timeout 300s;\n"
          "  client_body_temp_path %s; proxy_temp_path %s; fastcgi_temp_path %s;\n"
          "  uwsgi_temp_path %s; scgi_temp_path %s;\n%s}\n",
          dir, dir, dir, dir, dir, dir, dir, servers);
  fclose(f);
  pid = fork();
  if(pid == 0) {
    int null = open("/dev/null", 1);
    pin_to_cpu(cpu);
    dup2(null, 1);
    dup2(null, 2);
    execlp("nginx", "nginx", "-p", dir, "-c", conf, (char *)NULL);
    _exit(127);
  }
  snprintf(path, sizeof(path), "%s/nginx.pid", dir);
  for(int i = 0; i < 100; i++) { /* wait for it to listen: 5 s */
    if(!access(path, F_OK))
      return pid;
    sleep_ms(50);
  }
  stop_proc(pid);
  return -1;
}

double proc_cpu_s(pid_t pid)
{
  char path[64], buf[2048], *p;
  unsigned long ut = 0, st = 0;
  FILE *f;
  size_t n;

  snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  if(!(f = fopen(path, "r")))
    return -1;
  n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  p = strrchr(buf, ')'); /* the command may hold spaces */
  if(!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
                  &st) != 2)
    return -1;
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

int bench_sd_create(struct sdc_resolver *r, int kind, const char *name, const char *addr,
                    int port, const char *network, const char *key, const char *value)
{
  sdc_sd_resource *in = NULL, *out = NULL;
  int bad = sdc_sd_resource_new(&in, (sdc_sd_kind)kind, name) != SDC_OK;

  if(!bad && kind == SDC_SD_ENDPOINT)
    bad = sdc_sd_resource_set_address(in, addr) || sdc_sd_resource_set_port(in, port) ||
          sdc_sd_resource_set_network(in, network);
  if(!bad && key)
    bad = sdc_sd_resource_add_kv(in, key, value) != SDC_OK;
  if(!bad)
    bad = sdc_sd_create(r, in, &out) != SDC_OK;
  sdc_sd_resource_free(out);
  sdc_sd_resource_free(in);
  return bad ? -1 : 0;
}
