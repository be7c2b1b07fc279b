/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sdconnect sd-server: options, start-up, the signal wait and shutdown.
 * Signals are blocked before gRPC starts any thread, and the main thread
 * waits for them with sigwait(), so shutdown runs in ordinary code.
 */
#include "localsd_main.h"

#include "iam.h"
#include "log.h"
#include "logfmt.h"
#include "exit.h"
#include "num.h"
#include "notify.h"
#include "portfile.h"
#include "seed.h"
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <grpc/grpc.h>
#include <grpc/support/log.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PROG "sdconnect sd-server"
#define DEFAULT_LISTEN "127.0.0.1:8085"
#define MAX_FILE (1 << 20)

static const char usage[] =
    "Usage: sdconnect sd-server [OPTIONS]\n"
    "\n"
    "Run a local Google Cloud Service Directory (v1 gRPC API: LookupService\n"
    "and RegistrationService) that official clients and sdconnect use like\n"
    "the real one.\n"
    "\n"
    "Options:\n"
    "  --listen HOST:PORT   where to listen (default " DEFAULT_LISTEN "; port 0\n"
    "                       picks a free port; IPv6 as [::1]:PORT)\n"
    "  --port-file FILE     write the bound port to FILE once serving\n"
    "  --db FILE            SQLite registry (default:\n"
    "                       $XDG_STATE_HOME/sdconnect/registry.db or\n"
    "                       ~/.local/state/sdconnect/registry.db)\n"
    "  --memory             keep the registry in memory only (lost at exit)\n"
    "  --seed FILE          load namespaces, services and endpoints from YAML\n"
    "                       at start (created, or updated when present)\n"
    "  --tls-cert FILE      serve TLS with this PEM certificate chain\n"
    "  --tls-key FILE       ... and this PEM private key\n"
    "  --client-ca FILE     require client certificates signed by this CA\n"
    "  --token-file FILE    require 'authorization: Bearer <token>' with the\n"
    "                       token in FILE\n"
    "  --iam-policy FILE    IAM, for rehearsals: bearer tokens stand for members,\n"
    "                       bindings give them roles, each call needs Google's\n"
    "                       permission; Get/SetIamPolicy and TestIamPermissions\n"
    "                       on namespaces and services (docs/local-iam.md)\n"
    "  --allow-insecure     allow plaintext on a non-loopback address\n"
    "  --threads N          completion-queue threads (default: CPUs, min 2)\n"
    "  --max-message BYTES  largest request accepted (default 1048576)\n"
    "  --log-level LEVEL    error, warn, info (default) or debug; SIGUSR1\n"
    "                       turns debug on, and off again\n"
    "  --log-format FORMAT  logfmt (default) or json (Cloud Logging's fields)\n"
    "  -h, --help           show this help\n"
    "\n";

struct opts {
  const char *listen, *port_file, *db, *seed, *cert, *key, *client_ca,
      *token_file, *iam_file;
  bool memory, allow_insecure;
  int threads, max_message;
  enum lf_level log_level; /* --log-level: where SIGUSR1 returns to */
};

static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
  va_list ap;

  fprintf(stderr, PROG ": ");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nhint: see 'sdconnect sd-server --help'\n");
  return 2;
}

/* Read a whole (small) file; NULL with a message in err. */
static char *read_file(const char *path, const char *what, char *err,
                       size_t errlen)
{
  FILE *f = fopen(path, "rb");
  char *buf;
  size_t n;

  if(!f) {
    snprintf(err, errlen, "%s %s: cannot open: %s", what, path,
             strerror(errno));
    return NULL;
  }
  buf = malloc(MAX_FILE + 1);
  if(!buf) {
    fclose(f);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  n = fread(buf, 1, MAX_FILE + 1, f);
  fclose(f);
  if(n > MAX_FILE) {
    free(buf);
    snprintf(err, errlen, "%s %s: larger than 1 MiB", what, path);
    return NULL;
  }
  buf[n] = '\0';
  return buf;
}

static void free_secret(char *s)
{
  if(s) {
    OPENSSL_cleanse(s, strlen(s));
    free(s);
  }
}

/* True when `listen`'s host is a loopback address or "localhost". */
static bool is_loopback(const char *listen)
{
  char host[256];
  const char *colon = strrchr(listen, ':');
  size_t n;
  unsigned char a[16];

  if(!colon)
    return false;
  n = (size_t)(colon - listen);
  if(n >= sizeof(host))
    return false;
  memcpy(host, listen, n);
  host[n] = '\0';
  if(n >= 2 && host[0] == '[' && host[n - 1] == ']') {
    memmove(host, host + 1, n - 2);
    host[n - 2] = '\0';
  }
  if(!strcmp(host, "localhost"))
    return true;
  if(inet_pton(AF_INET, host, a) == 1)
    return a[0] == 127;
  if(inet_pton(AF_INET6, host, a) == 1) {
    static const unsigned char one[16] = {[15] = 1};
    return !memcmp(a, one, 16);
  }
  return false;
}

static int mkdirs(char *path)
{
  for(char *p = path + 1; *p; p++) {
    if(*p != '/')
      continue;
    *p = '\0';
    if(mkdir(path, 0700) && errno != EEXIST) {
      *p = '/';
      return -1;
    }
    *p = '/';
  }
  return 0;
}

static int default_db(char *out, size_t n)
{
  const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
  int w;

  if(xdg && *xdg)
    w = snprintf(out, n, "%s/sdconnect/registry.db", xdg);
  else if(home && *home)
    w = snprintf(out, n, "%s/.local/state/sdconnect/registry.db", home);
  else
    return -1;
  return w > 0 && (size_t)w < n ? 0 : -1;
}

struct holds {
  struct store *st;
  unsigned shown;
};

static bool count_row(void *ctx, const char *name, const uint8_t *body,
                      size_t len)
{
  (void)name;
  (void)body;
  (void)len;
  (*(uint64_t *)ctx)++;
  return true;
}

/* One log line per service (the first 20): what the registry holds. */
static bool print_service(void *ctx, const char *name, const uint8_t *body,
                          size_t len)
{
  struct holds *h = ctx;
  uint64_t n = 0;
  struct lsd_err e = {0};

  (void)body;
  (void)len;
  store_scan(h->st, LSD_ENDPOINT, name, NULL, false, count_row, &n, &e);
  lf_log(LF_INFO, "holds", "service=%s endpoints=%llu", lf_q(name),
         (unsigned long long)n);
  return ++h->shown < 20;
}

/* gRPC core's own diagnostics (handshake failures and the like) join our
 * logfmt stream instead of printing their own format. */
static void grpc_log_to_logfmt(gpr_log_func_args *a)
{
  enum lf_level l = a->severity == GPR_LOG_SEVERITY_ERROR ? LF_WARN
                    : a->severity == GPR_LOG_SEVERITY_INFO ? LF_INFO
                                                           : LF_DEBUG;
  const char *file = strrchr(a->file, '/');

  lf_log(l, a->message, "source=grpc at=%s:%d", file ? file + 1 : a->file,
         a->line);
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
  enum { O_LISTEN = 1000, O_PORT_FILE, O_DB, O_MEMORY, O_SEED, O_CERT, O_KEY,
         O_CLIENT_CA, O_TOKEN, O_INSECURE, O_THREADS, O_MAXMSG, O_LOG, O_IAM, O_LOG_FORMAT };
  static const struct option longopts[] = {
      {"listen", required_argument, NULL, O_LISTEN},
      {"port-file", required_argument, NULL, O_PORT_FILE},
      {"db", required_argument, NULL, O_DB},
      {"memory", no_argument, NULL, O_MEMORY},
      {"seed", required_argument, NULL, O_SEED},
      {"tls-cert", required_argument, NULL, O_CERT},
      {"tls-key", required_argument, NULL, O_KEY},
      {"client-ca", required_argument, NULL, O_CLIENT_CA},
      {"token-file", required_argument, NULL, O_TOKEN},
      {"iam-policy", required_argument, NULL, O_IAM},
      {"allow-insecure", no_argument, NULL, O_INSECURE},
      {"threads", required_argument, NULL, O_THREADS},
      {"max-message", required_argument, NULL, O_MAXMSG},
      {"log-level", required_argument, NULL, O_LOG},
      {"log-format", required_argument, NULL, O_LOG_FORMAT},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  int c;

  memset(o, 0, sizeof(*o));
  o->listen = DEFAULT_LISTEN;
  o->threads = cpus < 2 ? 2 : cpus > 16 ? 16 : (int)cpus;
  o->max_message = 1 << 20;
  o->log_level = LF_INFO;
  opterr = 0;
  optind = 1;
  while((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
    unsigned long long v;
    switch(c) {
    case O_LISTEN: o->listen = optarg; break;
    case O_PORT_FILE: o->port_file = optarg; break;
    case O_DB: o->db = optarg; break;
    case O_MEMORY: o->memory = true; break;
    case O_SEED: o->seed = optarg; break;
    case O_CERT: o->cert = optarg; break;
    case O_KEY: o->key = optarg; break;
    case O_CLIENT_CA: o->client_ca = optarg; break;
    case O_TOKEN: o->token_file = optarg; break;
    case O_IAM: o->iam_file = optarg; break;
    case O_INSECURE: o->allow_insecure = true; break;
    case O_THREADS:
    case O_MAXMSG:
      if(!svc_parse_uint(optarg, c == O_THREADS ? 1 : 1024, c == O_THREADS ? 64 : 64 << 20, &v))
        return c == O_THREADS
                   ? usage_error("--threads: '%s' is not a number from 1 to "
                                 "64", optarg)
                   : usage_error("--max-message: '%s' is not a number of "
                                 "bytes from 1024 to 67108864", optarg);
      if(c == O_THREADS)
        o->threads = (int)v;
      else
        o->max_message = (int)v;
      break;
    case O_LOG: {
      enum lf_level l;
      if(!lf_parse_level(optarg, &l))
        return usage_error("--log-level: '%s' is not one of error, warn, "
                           "info, debug", optarg);
      lf_set_level(l);
      o->log_level = l;
      break;
    }
    case O_LOG_FORMAT: {
      enum svc_log_format f;
      if(!svc_log_parse_format(optarg, &f))
        return usage_error("--log-format: '%s' is not logfmt or json", optarg);
      svc_log_set_format(f);
      break;
    }
    case 'h':
      fputs(usage, stdout);
      printf(SDC_EXIT_TABLE, "is not used: the server exits 0 after SIGTERM or SIGINT");
      return -1;
    case ':': return usage_error("option '%s' needs a value", argv[optind - 1]);
    default: return usage_error("unknown option '%s'", argv[optind - 1]);
    }
  }
  if(optind < argc)
    return usage_error("unexpected argument '%s'", argv[optind]);
  if(o->memory && o->db)
    return usage_error("%s", "--memory and --db exclude each other");
  if(!o->cert != !o->key)
    return usage_error("%s", "--tls-cert and --tls-key go together");
  if(o->client_ca && !o->cert)
    return usage_error("%s", "--client-ca needs --tls-cert and --tls-key");
  if(!o->cert && !o->allow_insecure && !is_loopback(o->listen))
    return usage_error("--listen %s is not a loopback address and no TLS was "
                       "given: add --tls-cert/--tls-key, or --allow-insecure "
                       "to serve plaintext on purpose", o->listen);
  return 0;
}

/* Read the token file: one line, trailing whitespace dropped. */
static char *read_token(const char *path, char *err, size_t errlen)
{
  char *t = read_file(path, "token file", err, errlen);
  struct stat sb;
  size_t n;

  if(!t)
    return NULL;
  n = strlen(t);
  while(n && (t[n - 1] == '\n' || t[n - 1] == '\r' || t[n - 1] == ' ' ||
              t[n - 1] == '\t'))
    t[--n] = '\0';
  if(!n || strchr(t, '\n')) {
    free_secret(t);
    snprintf(err, errlen, "token file %s: expected one line holding the "
             "token", path);
    return NULL;
  }
  if(!stat(path, &sb) && (sb.st_mode & 077))
    lf_log(LF_WARN, "token file is readable by other users", "file=%s",
           lf_q(path));
  return t;
}

static uint64_t mono_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int sdc_localsd_main(int argc, char **argv)
{
  struct opts o;
  struct lsd_server_opts so = {0};
  struct lsd_registry *reg = NULL;
  struct store *st;
  struct lsd_server *srv = NULL;
  struct lsd_err e = {0};
  char err[1024], dbpath[PATH_MAX];
  char *cert = NULL, *key = NULL, *ca = NULL, *token = NULL;
  struct lsd_iam *iam = NULL;
  const char *db = NULL;
  sigset_t sigs;
  int rc = 1, port = 0, sig = 0, prc;
  uint64_t counts[4];

  struct svc_notify notify;

  prc = parse_opts(argc, argv, &o);
  if(prc)
    return prc < 0 ? 0 : prc;
  svc_notify_open(&notify, mono_ms()); /* changes the environment: before any thread */
  /* before gRPC starts threads, so they inherit the mask */
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  signal(SIGPIPE, SIG_IGN);

  if((o.cert && !(cert = read_file(o.cert, "--tls-cert", err, sizeof(err)))) ||
     (o.key && !(key = read_file(o.key, "--tls-key", err, sizeof(err)))) ||
     (o.client_ca &&
      !(ca = read_file(o.client_ca, "--client-ca", err, sizeof(err)))) ||
     (o.token_file && !(token = read_token(o.token_file, err, sizeof(err))))) {
    fprintf(stderr, PROG ": %s\n", err);
    rc = 2;
    goto out;
  }
  if(o.iam_file && o.token_file) {
    fprintf(stderr, PROG ": --iam-policy and --token-file both say who may call: "
            "give one (the policy file's principals hold the tokens)\n");
    rc = 2;
    goto out;
  }
  if(o.iam_file && lsd_iam_load(&iam, o.iam_file, err, sizeof(err))) {
    fprintf(stderr, PROG ": %s\nhint: principals: [{token, member}], bindings: "
            "[{resource, role, members: [...]}]\n", err);
    rc = 2;
    goto out;
  }
  if(!o.memory) {
    if(o.db) {
      db = o.db;
    } else if(default_db(dbpath, sizeof(dbpath)) || mkdirs(dbpath)) {
      fprintf(stderr, PROG ": cannot find or create a state directory for "
              "the registry\nhint: set XDG_STATE_HOME or HOME, or give --db "
              "FILE or --memory\n");
      rc = 2;
      goto out;
    } else {
      db = dbpath;
    }
  }
  if(lsd_registry_open(&reg, db, &e)) {
    fprintf(stderr, PROG ": %s\n", e.msg);
    goto out;
  }
  st = lsd_registry_store(reg);
  if(o.seed) {
    struct seed_stats ss;
    if(lsd_seed_load(reg, o.seed, &ss, err, sizeof(err))) {
      fprintf(stderr, PROG ": %s\nhint: fix the seed file; nothing from it "
              "was written\n", err);
      rc = 2;
      goto out;
    }
    lf_log(LF_INFO, "seed loaded", "file=%s created=%u updated=%u",
           lf_q(o.seed), ss.created, ss.updated);
  }
  gpr_set_log_function(grpc_log_to_logfmt);
  grpc_init();
  so.listen = o.listen;
  so.cert_pem = cert;
  so.key_pem = key;
  so.client_ca_pem = ca;
  so.token = token;
  so.iam = iam;
  so.threads = o.threads;
  so.max_message = o.max_message;
  if(lsd_server_start(&srv, reg, &so, &port, err, sizeof(err))) {
    fprintf(stderr, PROG ": %s\nhint: pick another --listen, or port 0 for a "
            "free one\n", err);
    grpc_shutdown();
    goto out;
  }
  if(o.port_file && svc_write_port_file(o.port_file, port)) {
    fprintf(stderr, PROG ": --port-file %s: cannot write: %s\n", o.port_file,
            strerror(errno));
    lsd_server_stop(srv, 0);
    grpc_shutdown();
    goto out;
  }
  lf_log(LF_INFO, "listening", "addr=%s port=%d tls=%s client_certs=%s "
         "token=%s iam=%s threads=%d db=%s",
         lf_q(o.listen), port, cert ? "on" : "off", ca ? "required" : "off",
         token ? "required" : "off", iam ? "on" : "off", so.threads,
         db ? lf_q(db) : ":memory:");
  store_lock(st);
  if(!store_counts(st, counts, &e)) {
    struct holds h = {st, 0};
    lf_log(LF_INFO, "registry", "namespaces=%llu services=%llu endpoints=%llu",
           (unsigned long long)counts[LSD_NAMESPACE],
           (unsigned long long)counts[LSD_SERVICE],
           (unsigned long long)counts[LSD_ENDPOINT]);
    store_scan_kind(st, LSD_SERVICE, 20, print_service, &h, &e);
  }
  store_unlock(st);

  {
    char ready[96];
    snprintf(ready, sizeof(ready), "READY=1\nSTATUS=serving on port %d", port);
    svc_notify_send(&notify, ready);
  }
  /* wait for a stop signal, pinging the service manager's watchdog meanwhile */
  for(;;) {
    uint64_t due = svc_notify_tick(&notify, mono_ms());
    struct timespec ts = {.tv_sec = 3600, .tv_nsec = 0};
    if(due < 3600000) {
      ts.tv_sec = (time_t)(due / 1000);
      ts.tv_nsec = (long)(due % 1000) * 1000000L;
    }
    if((sig = sigtimedwait(&sigs, NULL, &ts)) == SIGUSR1) { /* debug on, and off again */
      enum lf_level back = o.log_level;
      bool to_debug = svc_log_level() != SVC_LOG_DEBUG;
      lf_set_level(to_debug ? LF_DEBUG : back);
      lf_log(LF_WARN, "log level changed", "level=%s signal=SIGUSR1",
             svc_log_level_name(svc_log_level()));
    } else if(sig > 0) {
      break;
    }
  }
  svc_notify_send(&notify, "STOPPING=1");
  lf_log(LF_INFO, "stopping", "signal=%s", sig == SIGINT ? "SIGINT" : "SIGTERM");
  {
    unsigned long calls = lsd_server_calls(srv);
    lsd_server_stop(srv, 1500);
    lf_log(LF_INFO, "stopped", "calls=%lu", calls);
  }
  grpc_shutdown();
  rc = 0;
out:
  lsd_registry_close(reg);
  free(cert);
  free_secret(key);
  free(ca);
  free_secret(token);
  lsd_iam_free(iam);
  svc_notify_close(&notify);
  return rc;
}
