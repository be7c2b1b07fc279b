/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration: uptime checks run against real things on 127.0.0.1: a local
 * Service Directory (`sdconnect sd-server`), HTTP and HTTPS servers
 * (tests/servers/httpd) with certificates this test makes, closed ports
 * and a listener whose backlog is full. Every failure reason comes from a
 * real fault. Every process is stopped by its PID.
 */
#include "certs.h"
#include "fakehttp.h"
#include "proc.h"
#include "sdclient.h"
#include "run_all.h"

#include <sdconnect/sdconnect.h>

#include <arpa/inet.h>
#include <check.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HOST "orders.internal"
#define NS "projects/p/locations/us-central1/namespaces/n"

static char dir[64];
static struct tproc procs[12];
static size_t n_procs;
static struct tproc *sd;
static sdc_resolver *res;
static int plain_port, tls_port;
static int svc_seq;

static const char *in_dir(const char *name) { return tproc_path(dir, name); }

static void make_certs(void)
{
  struct tcert_opts ca_o = {"probe test CA", NULL, -1, 30, true, false};
  struct tcert_opts other_o = {"another CA", NULL, -1, 30, true, false};
  struct tcert_opts srv_o = {HOST, "DNS:" HOST, -1, 30, false, false};
  struct tcert_opts old_o = {HOST, "DNS:" HOST, -30, -1, false, false};
  struct tcert_opts cli_o = {"uptime-client", NULL, -1, 30, false, true};
  struct tcert *ca = tcert_new(&ca_o, NULL), *other = tcert_new(&other_o, NULL);
  struct tcert *srv = tcert_new(&srv_o, ca), *old = tcert_new(&old_o, ca);
  struct tcert *cli = tcert_new(&cli_o, ca);

  ck_assert(ca && other && srv && old && cli);
  ck_assert_int_eq(tcert_write(ca, dir, "ca"), 0);
  ck_assert_int_eq(tcert_write_der(ca, dir, "ca"), 0);
  ck_assert_int_eq(tcert_write(other, dir, "other"), 0);
  ck_assert_int_eq(tcert_write(srv, dir, "server"), 0);
  ck_assert_int_eq(tcert_write(old, dir, "expired"), 0);
  ck_assert_int_eq(tcert_write(cli, dir, "client"), 0);
  tcert_free(ca);
  tcert_free(other);
  tcert_free(srv);
  tcert_free(old);
  tcert_free(cli);
}

static int start(const char *const *argv)
{
  struct tproc *p;

  ck_assert_uint_lt(n_procs, sizeof(procs) / sizeof(procs[0]));
  p = &procs[n_procs++];
  memset(p, 0, sizeof(*p));
  ck_assert_msg(tproc_start(p, argv, true) == 0, "%s did not start: %s", argv[0], p->log);
  return p->port;
}

/* httpd with certificate `cert` ("server", "expired"; NULL: plaintext). */
static int httpd(const char *cert, const char *extra1, const char *extra2)
{
  const char *bin = getenv("SDC_HTTPD_BIN");
  char crt[96], key[96];
  const char *argv[10] = {bin && *bin ? bin : "httpd"};
  size_t n = 1;

  if(cert) {
    snprintf(crt, sizeof(crt), "%s/%s.pem", dir, cert);
    snprintf(key, sizeof(key), "%s/%s.key", dir, cert);
    argv[n++] = "--cert";
    argv[n++] = crt;
    argv[n++] = "--key";
    argv[n++] = key;
  }
  if(extra1)
    argv[n++] = extra1;
  if(extra2)
    argv[n++] = extra2;
  argv[n] = NULL;
  return start(argv);
}

static sdc_resolver *resolver_for(int port, const char *token)
{
  sdc_resolver_opts *o = NULL;
  sdc_resolver *r = NULL;
  char ep[64], err[256];

  snprintf(ep, sizeof(ep), "127.0.0.1:%d", port);
  sdc_resolver_opts_new(&o);
  sdc_resolver_opts_set_endpoint(o, ep);
  sdc_resolver_opts_set_plaintext(o, 1);
  sdc_resolver_opts_set_cache_ttl_ms(o, 0); /* every run asks the directory */
  sdc_resolver_opts_set_timeout_ms(o, 5000);
  if(token)
    sdc_resolver_opts_set_bearer_token(o, token);
  ck_assert_int_eq(sdc_resolver_new(&r, o, err, sizeof(err)), SDC_OK);
  sdc_resolver_opts_free(o);
  return r;
}

static void setup(void)
{
  const char *sd_argv[] = {tproc_sdconnect(), "sd-server", "--memory", "--listen",
                           "127.0.0.1:0", NULL};
  ck_assert_int_eq(sdc_global_init(NULL), SDC_OK);
  ck_assert_int_eq(tproc_tmpdir(dir), 0);
  make_certs();
  n_procs = 0;
  start(sd_argv);
  sd = &procs[0];
  res = resolver_for(sd->port, NULL);
  ck_assert_int_eq(tsd_namespace(res, NS), 0);
  plain_port = httpd(NULL, NULL, NULL);
  tls_port = httpd("server", NULL, NULL);
}

static void teardown(void)
{
  sdc_resolver_free(res);
  for(size_t i = 0; i < n_procs; i++) {
    tproc_stop(&procs[i], 5000);
    tproc_rmdir(procs[i].dir);
  }
  tproc_rmdir(dir);
  sdc_global_cleanup();
}

/* A new service with endpoints at 127.0.0.1:ports[i] (0: no port);
 * returns its id ("s1", "s2", ...) in `id`. */
static void service(char *id, size_t cap, const int *ports, size_t n)
{
  char name[200];

  snprintf(id, cap, "s%d", ++svc_seq);
  snprintf(name, sizeof(name), NS "/services/%s", id);
  ck_assert_int_eq(tsd_service(res, name), 0);
  for(size_t i = 0; i < n; i++) {
    char ename[260];
    snprintf(ename, sizeof(ename), "%s/endpoints/e%zu", name, i);
    ck_assert_int_eq(tsd_endpoint(res, ename, "127.0.0.1", ports[i]), 0);
  }
}

/* What a run reported, copied out of the callback. */
struct seen {
  int done, passed;
  size_t n, n_passed;
  int stale;
  struct {
    sdc_probe_reason reason;
    int passed, verified;
    long status;
    unsigned redirects;
    char detail[600], tls[32], cipher[64], address[64];
    int port;
    int64_t expiry;
    double connect_ms, total_ms;
    size_t body_bytes;
  } r[8];
  char json[2][2048];
};

static void on_report(const sdc_probe_report *rep, void *ud)
{
  struct seen *s = ud;

  s->done++;
  s->passed = rep->passed;
  s->n = rep->n_results;
  s->n_passed = rep->n_passed;
  s->stale = rep->directory_stale;
  for(size_t i = 0; i < rep->n_results && i < 8; i++) {
    const sdc_probe_result *r = &rep->results[i];
    char *j = i < 2 ? sdc_probe_result_json(rep, i) : NULL;
    s->r[i].reason = r->reason;
    s->r[i].passed = r->passed;
    s->r[i].verified = r->cert_verified;
    s->r[i].status = r->http_status;
    s->r[i].redirects = r->redirects;
    s->r[i].port = r->port;
    s->r[i].expiry = r->cert_expiry;
    s->r[i].connect_ms = r->connect_ms;
    s->r[i].total_ms = r->total_ms;
    s->r[i].body_bytes = r->body_bytes;
    snprintf(s->r[i].detail, sizeof(s->r[i].detail), "%s", r->detail);
    snprintf(s->r[i].tls, sizeof(s->r[i].tls), "%s", r->tls_version);
    snprintf(s->r[i].cipher, sizeof(s->r[i].cipher), "%s", r->tls_cipher);
    snprintf(s->r[i].address, sizeof(s->r[i].address), "%s", r->address);
    if(j)
      snprintf(s->json[i], sizeof(s->json[i]), "%s", j);
    sdc_free(j);
  }
}

/* Append to `out` (of `cap`, `*at` used) a private check named `name` of
 * the service `svc` in NS, then `rest` (its protocol block and options). */
static void private_check(char *out, size_t cap, size_t *at, const char *name,
                          const char *svc, const char *rest)
{
  int n = snprintf(out + *at, cap - *at,
                   "%sdisplayName: %s\ncheckerType: VPC_CHECKERS\nmonitoredResource:\n"
                   "  type: servicedirectory_service\n"
                   "  labels: {project_id: p, location: us-central1, namespace_name: n, "
                   "service_name: %s}\n%s",
                   *at ? "---\n" : "", name, svc, rest);
  ck_assert(n > 0 && (size_t)n < cap - *at);
  *at += (size_t)n;
}

/* Run the check in `yaml` (the resource block is added: the service `svc`)
 * once, with `r` as the directory. */
static size_t body_cap = 4u << 20;

static void run_with(sdc_resolver *r, const char *svc, const char *yaml, struct seen *s)
{
  char text[4096], name[256];
  size_t at = 0;
  sdc_check_set *set = NULL;
  char *errs = NULL;
  sdc_pool_opts *po = NULL;
  sdc_pool *pool = NULL;
  sdc_prober *pr = NULL;

  snprintf(name, sizeof(name), "check %s", svc);
  private_check(text, sizeof(text), &at, name, svc, yaml);
  ck_assert_msg(sdc_checks_load_mem("t.yaml", text, strlen(text), &set, &errs) == SDC_OK,
                "%s", errs ? errs : "");
  memset(s, 0, sizeof(*s));
  sdc_pool_opts_new(&po);
  sdc_pool_opts_set_max_body(po, body_cap);
  ck_assert_int_eq(sdc_pool_new(&pool, po), SDC_OK);
  ck_assert_int_eq(sdc_prober_new(&pr, pool, r), SDC_OK);
  ck_assert_int_eq(sdc_probe_run(pr, sdc_check_set_get(set, 0), on_report, s), SDC_OK);
  ck_assert_int_eq(s->done, 0); /* never inside the call */
  for(int i = 0; i < 100 && !s->done; i++)
    sdc_pool_perform(pool, 1000);
  ck_assert_int_eq(s->done, 1);
  sdc_prober_free(pr);
  sdc_pool_free(pool);
  sdc_pool_opts_free(po);
  sdc_check_set_free(set);
}

static void run(const char *svc, const char *yaml, struct seen *s)
{
  run_with(res, svc, yaml, s);
}

/* One endpoint at `port`, a check `yaml`: the one result's reason. */
static sdc_probe_reason reason_at(int port, const char *yaml, struct seen *s)
{
  char id[16];

  service(id, sizeof(id), &port, 1);
  run(id, yaml, s);
  ck_assert_uint_eq(s->n, 1);
  return s->r[0].reason;
}

static const char *tls_yaml(char *buf, size_t cap, const char *ca, const char *extra)
{
  snprintf(buf, cap, "httpCheck: {useSsl: true, path: /echo}\ntimeout: 5s\n"
           "sdconnect:\n  host: " HOST "\n  caFile: %s\n%s", in_dir(ca), extra ? extra : "");
  return buf;
}

START_TEST(https_with_private_ca_reaches_the_address_as_the_url_host)
{
  struct seen s;
  char y[1024], id[16];
  int ports[2] = {tls_port, tls_port};

  service(id, sizeof(id), ports, 2);
  /* what the server saw, asserted by the check's own matcher */
  snprintf(y, sizeof(y), "httpCheck: {useSsl: true, path: /echo}\ntimeout: 5s\n"
           "contentMatchers: [{content: '" HOST "', matcher: MATCHES_JSON_PATH, "
           "jsonPathMatcher: {jsonPath: $.sni, jsonMatcher: EXACT_MATCH}}]\n"
           "sdconnect: {host: " HOST ", caFile: %s}\n", in_dir("ca.pem"));
  run(id, y, &s);
  ck_assert_msg(s.passed, "%s", s.r[0].detail);
  ck_assert_uint_eq(s.n, 2);
  ck_assert_uint_eq(s.n_passed, 2);
  for(int i = 0; i < 2; i++) {
    ck_assert_int_eq(s.r[i].status, 200);
    ck_assert(s.r[i].verified);
    ck_assert_str_eq(s.r[i].tls, "TLSv1.3");
    ck_assert(strlen(s.r[i].cipher) > 0);
    ck_assert_int_gt(s.r[i].expiry, (int64_t)time(NULL) + 28 * 86400);
    ck_assert_double_gt(s.r[i].connect_ms, 0); /* a connection of its own */
    ck_assert_str_eq(s.r[i].address, "127.0.0.1");
  }
  /* Google's User-Agent, the Check-Id header and the Host */
  snprintf(y, sizeof(y), "httpCheck: {useSsl: true, path: /echo}\ntimeout: 5s\n"
           "contentMatchers: [{content: 'GoogleStackdriverMonitoring-UptimeChecks\\(https://"
           "cloud.google.com/monitoring\\)', matcher: MATCHES_JSON_PATH, jsonPathMatcher: "
           "{jsonPath: $.user_agent, jsonMatcher: REGEX_MATCH}}]\n"
           "sdconnect: {host: " HOST ", caFile: %s}\n", in_dir("ca.pem"));
  run(id, y, &s);
  ck_assert_msg(s.passed, "%s", s.r[0].detail);
  snprintf(y, sizeof(y), "httpCheck: {useSsl: true, path: /echo}\ntimeout: 5s\n"
           "contentMatchers: [{content: 'check-%s', matcher: MATCHES_JSON_PATH, "
           "jsonPathMatcher: {jsonPath: $.check_id, jsonMatcher: EXACT_MATCH}}]\n"
           "sdconnect: {host: " HOST ", caFile: %s}\n", id, in_dir("ca.der"));
  run(id, y, &s); /* a DER CA works too */
  ck_assert_msg(s.passed, "%s", s.r[0].detail);
  snprintf(y, sizeof(y), "httpCheck: {useSsl: true, path: /echo}\ntimeout: 5s\n"
           "contentMatchers: [{content: '%s:%d', matcher: MATCHES_JSON_PATH, "
           "jsonPathMatcher: {jsonPath: $.host, jsonMatcher: EXACT_MATCH}}]\n"
           "sdconnect: {host: " HOST ", caFile: %s, userAgent: mine}\n", HOST, tls_port,
           in_dir("ca.pem"));
  run(id, y, &s);
  ck_assert_msg(s.passed, "%s", s.r[0].detail);
}
END_TEST

START_TEST(without_a_host_name_certificates_are_not_checked_and_it_says_so)
{
  struct seen s;

  /* the wrong CA, no host: Google's private checkers would pass it */
  ck_assert_int_eq(reason_at(tls_port, "httpCheck: {useSsl: true, path: /echo}\n"
                             "timeout: 5s\n", &s), SDC_PROBE_PASSED);
  ck_assert(!s.r[0].verified);
  ck_assert_ptr_nonnull(strstr(s.json[0], "\"cert_verified\":false"));
  /* validateSsl: false turns the check off even with a host */
  ck_assert_int_eq(reason_at(tls_port, "httpCheck: {useSsl: true, path: /echo, "
                             "validateSsl: false}\ntimeout: 5s\nsdconnect: {host: "
                             "elsewhere.internal}\n", &s), SDC_PROBE_PASSED);
  ck_assert(!s.r[0].verified);
}
END_TEST

START_TEST(every_tls_fault_has_its_reason)
{
  struct seen s;
  char y[1024];
  int expired = httpd("expired", NULL, NULL);
  int old = httpd("server", "--max-tls", "1.1");
  int mtls = httpd("server", "--client-ca", in_dir("ca.pem"));
  char mtls_ok[1024];

  ck_assert_int_eq(reason_at(tls_port, tls_yaml(y, sizeof(y), "other.pem", NULL), &s),
                   SDC_PROBE_TLS_VERIFY);
  ck_assert_ptr_nonnull(strstr(s.r[0].detail, "not signed by a trusted CA"));
  ck_assert_int_eq(reason_at(expired, tls_yaml(y, sizeof(y), "ca.pem", NULL), &s),
                   SDC_PROBE_TLS_EXPIRED);
  ck_assert_int_eq(reason_at(old, tls_yaml(y, sizeof(y), "ca.pem", NULL), &s),
                   SDC_PROBE_TLS_VERSION);
  ck_assert_int_eq(reason_at(mtls, tls_yaml(y, sizeof(y), "ca.pem", NULL), &s),
                   SDC_PROBE_TLS_HANDSHAKE);
  snprintf(mtls_ok, sizeof(mtls_ok), "  clientCertFile: %s\n  clientKeyFile: %s\n"
           "contentMatchers: [{content: uptime-client, matcher: MATCHES_JSON_PATH, "
           "jsonPathMatcher: {jsonPath: $.client_cn, jsonMatcher: EXACT_MATCH}}]\n",
           in_dir("client.pem"), in_dir("client.key"));
  ck_assert_int_eq(reason_at(mtls, tls_yaml(y, sizeof(y), "ca.pem", mtls_ok), &s),
                   SDC_PROBE_PASSED);
  /* a host the certificate does not name */
  snprintf(y, sizeof(y), "httpCheck: {useSsl: true, path: /echo}\ntimeout: 5s\n"
           "sdconnect: {host: elsewhere.internal, caFile: %s}\n", in_dir("ca.pem"));
  ck_assert_int_eq(reason_at(tls_port, y, &s), SDC_PROBE_TLS_VERIFY);
  ck_assert_ptr_nonnull(strstr(s.r[0].detail, "elsewhere.internal"));
}
END_TEST

/* A listener whose accept queue is full: further SYNs go unanswered, as
 * behind a firewall that drops. */
static int full_listener(int fds[4])
{
  struct sockaddr_in a = {.sin_family = AF_INET};
  socklen_t len = sizeof(a);

  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  fds[0] = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_eq(bind(fds[0], (struct sockaddr *)&a, sizeof(a)), 0);
  ck_assert_int_eq(listen(fds[0], 0), 0);
  ck_assert_int_eq(getsockname(fds[0], (struct sockaddr *)&a, &len), 0);
  for(int i = 1; i < 4; i++) { /* fill the queue; the last may hang */
    fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    connect(fds[i], (struct sockaddr *)&a, sizeof(a));
  }
  return ntohs(a.sin_port);
}

START_TEST(connect_faults_and_tcp_checks)
{
  struct seen s;
  int fds[4], full = full_listener(fds), closed = tproc_free_port();
  char y[256];

  snprintf(y, sizeof(y), "tcpCheck: {port: %d}\ntimeout: 2s\n", plain_port);
  ck_assert_int_eq(reason_at(plain_port, y, &s), SDC_PROBE_PASSED);
  ck_assert_double_gt(s.r[0].connect_ms, 0);
  ck_assert_int_eq(reason_at(closed, "tcpCheck: {port: 1}\ntimeout: 2s\n", &s),
                   SDC_PROBE_CONNECT_REFUSED); /* the check's port wins */
  ck_assert_int_eq(s.r[0].port, 1);
  snprintf(y, sizeof(y), "tcpCheck: {port: %d}\ntimeout: 1s\n", closed);
  ck_assert_int_eq(reason_at(plain_port, y, &s), SDC_PROBE_CONNECT_REFUSED);
  snprintf(y, sizeof(y), "tcpCheck: {port: %d}\ntimeout: 1s\n", full);
  ck_assert_int_eq(reason_at(full, y, &s), SDC_PROBE_CONNECT_TIMEOUT);
  ck_assert_int_eq(reason_at(full, "httpCheck: {path: /}\ntimeout: 1s\n", &s),
                   SDC_PROBE_CONNECT_TIMEOUT);
  ck_assert_int_eq(reason_at(closed, "httpCheck: {path: /}\ntimeout: 1s\n", &s),
                   SDC_PROBE_CONNECT_REFUSED);
  for(int i = 0; i < 4; i++)
    close(fds[i]);
}
END_TEST

/* ---- sharding: replicas split a check's endpoints ---- */
struct share {
  int done, passed;
  size_t n, skipped;
  char names[24][200];
};

static void on_share(const sdc_probe_report *rep, void *ud)
{
  struct share *s = ud;
  s->done++;
  s->passed = rep->passed;
  s->n = rep->n_results;
  s->skipped = rep->n_skipped;
  for(size_t i = 0; i < rep->n_results && i < 24; i++)
    snprintf(s->names[i], sizeof(s->names[i]), "%s", sdc_probe_report_result(rep, i)->endpoint);
  ck_assert_ptr_null(sdc_probe_report_result(rep, rep->n_results)); /* past the end */
}

/* Run `check` once on three probers, replicas 0, 1 and 2 of 3, on one pool. */
static void run_shared(const sdc_check *check, struct share sh[3])
{
  sdc_pool *pool = NULL;
  sdc_prober *pr[3] = {NULL};

  ck_assert_int_eq(sdc_pool_new(&pool, NULL), SDC_OK);
  memset(sh, 0, 3 * sizeof(*sh));
  for(unsigned k = 0; k < 3; k++) {
    ck_assert_int_eq(sdc_prober_new(&pr[k], pool, res), SDC_OK);
    ck_assert_int_eq(sdc_prober_set_shard(pr[k], k, 3), SDC_OK);
    ck_assert_int_eq(sdc_probe_run(pr[k], check, on_share, &sh[k]), SDC_OK);
  }
  for(int i = 0; i < 100 && !(sh[0].done && sh[1].done && sh[2].done); i++)
    sdc_pool_perform(pool, 1000);
  for(unsigned k = 0; k < 3; k++) {
    ck_assert_int_eq(sh[k].done, 1);
    sdc_prober_free(pr[k]);
  }
  sdc_pool_free(pool);
}

START_TEST(replicas_split_a_checks_endpoints_without_duplicates_or_gaps)
{
  int ports[24];
  char id[16], text[1024], rest[64], *errs = NULL;
  sdc_check_set *set = NULL;
  struct share sh[3];
  size_t total = 0, at = 0;
  sdc_prober *pr = NULL;
  sdc_pool *pool = NULL;

  for(int i = 0; i < 24; i++)
    ports[i] = plain_port;
  service(id, sizeof(id), ports, 24);
  snprintf(rest, sizeof(rest), "tcpCheck: {port: %d}\ntimeout: 2s\n", plain_port);
  private_check(text, sizeof(text), &at, "shared", id, rest);
  private_check(text, sizeof(text), &at, "missing", "nowhere", "tcpCheck: {port: 1}\ntimeout: 2s\n");
  ck_assert_msg(sdc_checks_load_mem("t.yaml", text, strlen(text), &set, &errs) == SDC_OK,
                "%s", errs ? errs : "");
  run_shared(sdc_check_set_get(set, 0), sh);
  for(unsigned k = 0; k < 3; k++) {
    ck_assert(sh[k].passed);
    ck_assert_uint_eq(sh[k].n + sh[k].skipped, 24);
    total += sh[k].n;
    for(size_t i = 0; i < sh[k].n; i++) { /* its own, and nobody else's */
      ck_assert_uint_eq(sdc_shard_owner("shared", sh[k].names[i], 3), k);
      for(unsigned o = 0; o < 3; o++)
        for(size_t j = 0; o != k && j < sh[o].n; j++)
          ck_assert_str_ne(sh[k].names[i], sh[o].names[j]);
    }
  }
  ck_assert_uint_eq(total, 24); /* no gaps */
  /* a run that fails as a whole is one row, reported by one replica */
  run_shared(sdc_check_set_get(set, 1), sh);
  ck_assert_uint_eq(sh[0].n + sh[1].n + sh[2].n, 1);
  ck_assert_uint_eq(sh[0].skipped + sh[1].skipped + sh[2].skipped, 2);
  for(unsigned k = 0; k < 3; k++)
    ck_assert_int_eq(sh[k].passed, sh[k].n == 0); /* the owner's row failed */
  /* out of range */
  ck_assert_int_eq(sdc_pool_new(&pool, NULL), SDC_OK);
  ck_assert_int_eq(sdc_prober_new(&pr, pool, res), SDC_OK);
  ck_assert_int_eq(sdc_prober_set_shard(pr, 3, 3), SDC_EINVAL);
  ck_assert_int_eq(sdc_prober_set_shard(pr, 0, 0), SDC_EINVAL);
  ck_assert_int_eq(sdc_prober_set_shard(pr, 0, 65537), SDC_EINVAL);
  ck_assert_int_eq(sdc_prober_set_shard(pr, 0, 1), SDC_OK);
  sdc_prober_free(pr);
  sdc_pool_free(pool);
  sdc_check_set_free(set);
}
END_TEST

/* One endpoint up among refusing ones: a `pass: any` check passes, and only
 * a replica that sees every endpoint can say so. */
START_TEST(replicas_judge_a_pass_any_check_whole)
{
  int ports[12], closed = tproc_free_port();
  char id[16], text[1024], *errs = NULL;
  sdc_check_set *set = NULL;
  struct share sh[3];
  size_t at = 0;
  unsigned owner = sdc_shard_owner("anyone", "", 3), owners = 0;

  for(int i = 0; i < 12; i++)
    ports[i] = i == 7 ? plain_port : closed;
  service(id, sizeof(id), ports, 12);
  private_check(text, sizeof(text), &at, "anyone", id,
                "httpCheck: {path: /echo}\ntimeout: 2s\nsdconnect: {pass: any}\n");
  ck_assert_msg(sdc_checks_load_mem("t.yaml", text, strlen(text), &set, &errs) == SDC_OK,
                "%s", errs ? errs : "");
  run_shared(sdc_check_set_get(set, 0), sh);
  for(unsigned k = 0; k < 3; k++) {
    ck_assert_msg(sh[k].passed, "k=%u n=%zu skipped=%zu owner=%u", k, sh[k].n, sh[k].skipped, owner); /* the owner's verdict; the others had nothing to fail */
    ck_assert_uint_eq(sh[k].n + sh[k].skipped, 12);
    if(sh[k].n) {
      owners++;
      ck_assert_uint_eq(k, owner);
      ck_assert_uint_eq(sh[k].n, 12);
    }
  }
  ck_assert_uint_eq(owners, 1);
  sdc_check_set_free(set);
}
END_TEST

START_TEST(http_faults_have_their_reasons_and_redirects_are_followed)
{
  struct seen s;
  int never = 0, lfd;

  {
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(lfd, 16), 0); /* the kernel accepts; nobody answers */
    getsockname(lfd, (struct sockaddr *)&a, &len);
    never = ntohs(a.sin_port);
  }
  ck_assert_int_eq(reason_at(plain_port, "httpCheck: {path: /status/503}\ntimeout: 5s\n", &s),
                   SDC_PROBE_HTTP_STATUS);
  ck_assert_str_eq(s.r[0].detail, "HTTP 503 (accepted: 200-299)");
  ck_assert_int_eq(reason_at(plain_port, "httpCheck: {path: /status/503, "
                             "acceptedResponseStatusCodes: [{statusClass: STATUS_CLASS_5XX}]}\n"
                             "timeout: 5s\n", &s), SDC_PROBE_PASSED);
  ck_assert_int_eq(reason_at(plain_port, "httpCheck: {path: /status/404, "
                             "acceptedResponseStatusCodes: [{statusValue: 200}]}\n"
                             "timeout: 5s\n", &s), SDC_PROBE_HTTP_STATUS);
  ck_assert_int_eq(reason_at(plain_port, "httpCheck: {path: /echo}\ntimeout: 5s\n"
                             "contentMatchers: [{content: DELETE}]\n", &s),
                   SDC_PROBE_CONTENT_MISMATCH);
  ck_assert_int_eq(reason_at(plain_port, "httpCheck: {path: /echo}\ntimeout: 5s\n"
                             "contentMatchers: [{content: POST, matcher: MATCHES_JSON_PATH, "
                             "jsonPathMatcher: {jsonPath: $.method, jsonMatcher: "
                             "EXACT_MATCH}}]\n", &s), SDC_PROBE_CONTENT_MISMATCH);
  ck_assert_ptr_nonnull(strstr(s.r[0].detail, "(found \"GET\")"));
  ck_assert_int_eq(reason_at(plain_port, "httpCheck: {path: /echo, requestMethod: POST, "
                             "contentType: URL_ENCODED, body: YT0x}\ntimeout: 5s\n"
                             "contentMatchers: [{content: '\"body_len\":3', matcher: "
                             "CONTAINS_STRING}]\n", &s), SDC_PROBE_PASSED);
  ck_assert_int_eq(reason_at(plain_port, "httpCheck: {path: '/slow?ms=3000'}\ntimeout: 1s\n",
                             &s), SDC_PROBE_TIMEOUT);
  ck_assert_int_eq(reason_at(never, "httpCheck: {path: /}\ntimeout: 1s\n", &s),
                   SDC_PROBE_TIMEOUT);
  /* Google examines the first 4 MiB and judges on them */
  ck_assert_int_eq(reason_at(plain_port, "httpCheck: {path: '/big?bytes=5000000'}\n"
                             "timeout: 10s\ncontentMatchers: [{content: xxx}]\n", &s),
                   SDC_PROBE_PASSED);
  ck_assert_uint_eq(s.r[0].body_bytes, 4u << 20);
  body_cap = 65536; /* a pool that cannot hold that much says so */
  ck_assert_int_eq(reason_at(plain_port, "httpCheck: {path: '/big?bytes=100000'}\n"
                             "timeout: 10s\n", &s), SDC_PROBE_BODY_TOO_LARGE);
  body_cap = 4u << 20;
  ck_assert_int_eq(reason_at(plain_port, "httpCheck: {path: /hangup}\ntimeout: 5s\n", &s),
                   SDC_PROBE_HTTP_PROTOCOL);
  /* redirects: followed, the final answer judged */
  ck_assert_int_eq(reason_at(plain_port, "httpCheck: {path: '/redirect?to=/status/200'}\n"
                             "timeout: 5s\n", &s), SDC_PROBE_PASSED);
  ck_assert_int_eq(s.r[0].redirects, 1);
  ck_assert_int_eq(s.r[0].status, 200);
  ck_assert_int_eq(reason_at(plain_port, "httpCheck: {path: '/redirect?to=/status/500'}\n"
                             "timeout: 5s\n", &s), SDC_PROBE_HTTP_STATUS);
  ck_assert_int_eq(reason_at(plain_port, "httpCheck: {path: '/redirect?to=http://"
                             "else.example/'}\ntimeout: 5s\n", &s), SDC_PROBE_REDIRECT);
  ck_assert_int_eq(reason_at(plain_port, "httpCheck: {path: '/redirect?to=/redirect?to=/x'}\n"
                             "timeout: 5s\n", &s), SDC_PROBE_HTTP_STATUS); /* a 404 */
  ck_assert_int_eq(s.r[0].redirects, 2);
  close(lfd);
}
END_TEST

START_TEST(directory_faults_have_their_reasons)
{
  struct seen s;
  char id[16];
  int ports[2] = {plain_port, 0}, deny_port;
  const char *deny_argv[] = {tproc_sdconnect(), "sd-server", "--memory", "--listen",
                             "127.0.0.1:0", "--token-file", NULL, NULL};
  char tok[128];
  sdc_resolver *bad;
  FILE *f;

  run("missing", "tcpCheck: {port: 1}\ntimeout: 2s\n", &s);
  ck_assert_int_eq(s.r[0].reason, SDC_PROBE_SD_NOT_FOUND);
  service(id, sizeof(id), NULL, 0);
  run(id, "tcpCheck: {port: 1}\ntimeout: 2s\n", &s);
  ck_assert_int_eq(s.r[0].reason, SDC_PROBE_NO_ENDPOINTS);
  ck_assert(!s.passed);
  service(id, sizeof(id), ports, 2); /* the second has no port */
  run(id, "httpCheck: {path: /echo}\ntimeout: 5s\n", &s);
  ck_assert_int_eq(s.r[0].reason, SDC_PROBE_PASSED);
  ck_assert_int_eq(s.r[1].reason, SDC_PROBE_ENDPOINT_INVALID);
  ck_assert(!s.passed);
  run(id, "httpCheck: {path: /echo}\ntimeout: 5s\nsdconnect: {pass: any}\n", &s);
  ck_assert(s.passed); /* one is enough when asked */
  /* a service removed from the directory */
  {
    char name[128];
    snprintf(name, sizeof(name), NS "/services/%s", id);
    ck_assert_int_eq(sdc_sd_delete(res, SDC_SD_SERVICE, name), SDC_OK);
  }
  run(id, "httpCheck: {path: /echo}\ntimeout: 5s\n", &s);
  ck_assert_int_eq(s.r[0].reason, SDC_PROBE_SD_NOT_FOUND);
  /* a directory that refuses the caller */
  snprintf(tok, sizeof(tok), "%s/token", dir);
  f = fopen(tok, "w");
  fputs("right\n", f);
  fclose(f);
  deny_argv[6] = tok;
  deny_port = start(deny_argv);
  bad = resolver_for(deny_port, "wrong");
  run_with(bad, "any", "tcpCheck: {port: 1}\ntimeout: 2s\n", &s);
  ck_assert_int_eq(s.r[0].reason, SDC_PROBE_SD_PERMISSION_DENIED);
  sdc_resolver_free(bad);
  /* a directory that is not there */
  bad = resolver_for(tproc_free_port(), NULL);
  run_with(bad, "any", "tcpCheck: {port: 1}\ntimeout: 2s\n", &s);
  ck_assert_int_eq(s.r[0].reason, SDC_PROBE_SD_UNAVAILABLE);
  sdc_resolver_free(bad);
}
END_TEST

/* uptime_url: the host's address from DNS (here /etc/hosts), or as given */
START_TEST(uptime_url_checks_look_the_host_up_without_blocking)
{
  char text[512];
  sdc_check_set *set = NULL;
  char *errs = NULL;
  sdc_pool *pool = NULL;
  sdc_prober *pr = NULL;
  struct seen s[3];
  int closed = tproc_free_port();

  /* a name /etc/hosts holds, or the address (the lookup path is the same) */
  const char *name = tproc_loopback_name();
  snprintf(text, sizeof(text),
           "- {displayName: by name, monitoredResource: {type: uptime_url, labels: "
           "{host: %s, project_id: p}}, httpCheck: {path: /echo, port: %d}, "
           "timeout: 5s}\n"
           "- {displayName: by address, monitoredResource: {type: uptime_url, labels: "
           "{host: 127.0.0.1}}, tcpCheck: {port: %d}, timeout: 5s}\n"
           "- {displayName: v6, monitoredResource: {type: uptime_url, labels: "
           "{host: '::1'}}, tcpCheck: {port: %d}, timeout: 5s}\n",
           name, plain_port, plain_port, closed);
  ck_assert_msg(sdc_checks_load_mem("u.yaml", text, strlen(text), &set, &errs) == SDC_OK,
                "%s", errs ? errs : "");
  memset(s, 0, sizeof(s));
  ck_assert_int_eq(sdc_pool_new(&pool, NULL), SDC_OK);
  ck_assert_int_eq(sdc_prober_new(&pr, pool, NULL), SDC_OK);
  for(int i = 0; i < 3; i++)
    ck_assert_int_eq(sdc_probe_run(pr, sdc_check_set_get(set, i), on_report, &s[i]), SDC_OK);
  for(int i = 0; i < 100 && !(s[0].done && s[1].done && s[2].done); i++)
    sdc_pool_perform(pool, 1000);
  ck_assert_msg(s[0].passed, "%s", s[0].r[0].detail);
  ck_assert_msg(!strcmp(s[0].r[0].address, "127.0.0.1") || !strcmp(s[0].r[0].address, "::1"),
                "%s", s[0].r[0].address);
  ck_assert_msg(s[1].passed, "%s", s[1].r[0].detail);
  /* an IPv6 literal host, where nothing listens (the test server is on
   * 127.0.0.1 only): refused, or no IPv6 on this machine at all */
  ck_assert(!s[2].passed);
  ck_assert_msg(s[2].r[0].reason == SDC_PROBE_CONNECT_REFUSED ||
                s[2].r[0].reason == SDC_PROBE_CONNECT_ERROR, "%s", s[2].r[0].detail);
  ck_assert_str_eq(s[2].r[0].address, "::1");
  sdc_prober_free(pr);
  sdc_pool_free(pool);
  sdc_check_set_free(set);
}
END_TEST

/* A metadata server that mints ID tokens (or refuses, with status 403). */
struct md_fake {
  int status;
  char audience[512];
};

static void md_answer(const struct fakehttp_req *req, int *status, char *body, size_t cap,
                      void *ud)
{
  struct md_fake *m = ud;
  const char *a = strstr(req->path, "audience=");

  *status = strstr(req->headers, "metadata-flavor: google") ? m->status : 400;
  if(a)
    snprintf(m->audience, sizeof(m->audience), "%.*s", (int)strcspn(a + 9, "&"), a + 9);
  /* header {"alg":"none"}, claims {"iat":1,"exp":3601}: an hour */
  snprintf(body, cap, "eyJhbGciOiJub25lIn0.eyJpYXQiOjEsImV4cCI6MzYwMX0.sig\n");
}

START_TEST(service_agent_authentication_sends_an_id_token)
{
  struct md_fake m = {200, ""};
  int md_port;
  struct fakehttp *f = fakehttp_start(md_answer, &m, &md_port);
  char host[64], y[512], want_aud[128];
  struct seen s;

  snprintf(host, sizeof(host), "127.0.0.1:%d", md_port);
  setenv("GCE_METADATA_HOST", host, 1);
  setenv("HOME", dir, 1); /* no gcloud file */
  unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
  unsetenv("CLOUDSDK_CONFIG");
  snprintf(y, sizeof(y), "httpCheck: {path: /echo, serviceAgentAuthentication: {type: "
           "OIDC_TOKEN}}\ntimeout: 5s\ncontentMatchers: [{content: 'Bearer "
           "eyJhbGciOiJub25lIn0.eyJpYXQiOjEsImV4cCI6MzYwMX0.sig', matcher: "
           "MATCHES_JSON_PATH, jsonPathMatcher: {jsonPath: $.authorization, "
           "jsonMatcher: EXACT_MATCH}}]\n");
  {
    /* two endpoints, one audience: one fetch, the second waits for it */
    char id[16];
    int ports[2] = {plain_port, plain_port};
    service(id, sizeof(id), ports, 2);
    run(id, y, &s);
    ck_assert_msg(s.passed, "%s", s.r[0].detail);
    ck_assert_uint_eq(s.n_passed, 2);
  }
  snprintf(want_aud, sizeof(want_aud), "http%%3A%%2F%%2F127.0.0.1%%3A%d%%2Fecho", plain_port);
  ck_assert_str_eq(m.audience, want_aud); /* the check's URL */
  ck_assert_uint_eq(fakehttp_count(f), 1);
  /* a refusal is told as `auth`, without leaking a token */
  m.status = 403;
  snprintf(y, sizeof(y), "httpCheck: {path: /echo, serviceAgentAuthentication: {}}\n"
           "timeout: 5s\nsdconnect: {audience: 'https://orders.internal/'}\n");
  ck_assert_int_eq(reason_at(plain_port, y, &s), SDC_PROBE_AUTH);
  ck_assert_msg(strstr(s.r[0].detail, "https://orders.internal/"), "%s", s.r[0].detail);
  ck_assert_ptr_null(strstr(s.r[0].detail, "eyJ"));
  fakehttp_stop(f);
  /* credentials that cannot mint ID tokens */
  {
    char adc[160];
    FILE *fp;
    snprintf(adc, sizeof(adc), "%s/user.json", dir);
    fp = fopen(adc, "w");
    fputs("{\"type\":\"authorized_user\",\"client_id\":\"c\",\"client_secret\":\"s\","
          "\"refresh_token\":\"r\"}", fp);
    fclose(fp);
    setenv("GOOGLE_APPLICATION_CREDENTIALS", adc, 1);
    ck_assert_int_eq(reason_at(plain_port, y, &s), SDC_PROBE_AUTH);
    ck_assert_ptr_nonnull(strstr(s.r[0].detail, "cannot mint an ID token"));
    unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
  }
  unsetenv("GCE_METADATA_HOST");
}
END_TEST

/* The scheduler on the real prober: a 1 s period runs again and again. */
static void count_runs(const sdc_probe_report *rep, void *ud)
{
  int *n = ud;

  if(rep->passed)
    (*n)++;
}

static uint64_t mono_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

START_TEST(the_scheduler_runs_checks_through_the_prober)
{
  char text[512];
  sdc_check_set *set = NULL;
  char *errs = NULL;
  sdc_pool *pool = NULL;
  sdc_prober *pr = NULL;
  sdc_scheduler *sc = NULL;
  int runs = 0;
  uint64_t start = mono_ms();

  snprintf(text, sizeof(text), "displayName: every second\nmonitoredResource: {type: "
           "uptime_url, labels: {host: 127.0.0.1}}\ntcpCheck: {port: %d}\ntimeout: 1s\n"
           "sdconnect: {period: 1s}\n", plain_port);
  ck_assert_msg(sdc_checks_load_mem("e.yaml", text, strlen(text), &set, &errs) == SDC_OK,
                "%s", errs ? errs : "");
  ck_assert_int_eq(sdc_pool_new(&pool, NULL), SDC_OK);
  ck_assert_int_eq(sdc_prober_new(&pr, pool, NULL), SDC_OK);
  ck_assert_int_eq(sdc_scheduler_new(&sc, pr, 0, count_runs, &runs), SDC_OK);
  ck_assert_int_eq(sdc_scheduler_add(sc, sdc_check_set_get(set, 0), mono_ms()), SDC_OK);
  while(runs < 3 && mono_ms() - start < 10000) { /* bounded: 10 s */
    uint64_t next = sdc_scheduler_tick(sc, mono_ms());
    sdc_pool_perform(pool, next < 100 ? next : 100);
    if(next)
      tproc_sleep_ms((int)(next < 50 ? next : 50)); /* nothing in flight: wait */
  }
  ck_assert_int_ge(runs, 3);
  sdc_scheduler_free(sc);
  sdc_prober_free(pr);
  sdc_pool_free(pool);
  sdc_check_set_free(set);
}
END_TEST

/* ---- the command ------------------------------------------------------------ */
static int cli(struct tproc *p, const char *const *args)
{
  const char *argv[24] = {tproc_sdconnect()};
  char ep[64];
  size_t n = 1;

  snprintf(ep, sizeof(ep), "127.0.0.1:%d", sd->port);
  for(size_t i = 0; args[i]; i++)
    argv[n++] = args[i];
  argv[n++] = "--sd-endpoint";
  argv[n++] = ep;
  argv[n++] = "--insecure";
  argv[n] = NULL;
  memset(p, 0, sizeof(*p));
  ck_assert_int_eq(tproc_tmpdir(p->dir), 0);
  return tproc_run(p, argv);
}

static void write_text(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
}

START_TEST(cli_table_json_and_exit_codes)
{
  char id[16], file[128], text[2048];
  int ports[2] = {plain_port, tproc_free_port()};
  struct tproc p;

  service(id, sizeof(id), ports, 1);
  /* the sheet's example, pasted, pointed at the local directory */
  snprintf(text, sizeof(text),
           "{\n"
           "  \"displayName\": \"orders-webhook private\",\n"
           "  \"checkerType\": \"VPC_CHECKERS\",\n"
           "  \"monitoredResource\": {\n"
           "    \"type\": \"servicedirectory_service\",\n"
           "    \"labels\": {\"project_id\": \"p\", \"location\": \"us-central1\",\n"
           "               \"namespace_name\": \"n\", \"service_name\": \"%s\"}\n"
           "  },\n"
           "  \"httpCheck\": {\"useSsl\": false, \"path\": \"/echo\", \"port\": %d},\n"
           "  \"period\": \"60s\",\n"
           "  \"timeout\": \"10s\"\n"
           "}\n", id, plain_port);
  snprintf(file, sizeof(file), "%s/ok.json", dir);
  write_text(file, text);
  {
    const char *args[] = {"probe", file, NULL};
    ck_assert_msg(cli(&p, args) == 0, "%s", p.log);
    ck_assert(tproc_log_has(&p, "orders-webhook-private"));
    ck_assert(tproc_log_has(&p, "1 check, 1 passed, 0 failed"));
    tproc_rmdir(p.dir);
  }
  {
    const char *args[] = {"probe", file, "--json", NULL};
    FILE *f;
    char line[4096];
    json_t *j;
    ck_assert_int_eq(cli(&p, args), 0);
    f = fopen(p.log, "r");
    ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
    fclose(f);
    j = json_loads(line, 0, NULL);
    ck_assert_msg(j != NULL, "not JSON: %s", line);
    ck_assert_str_eq(json_string_value(json_object_get(j, "reason")), "passed");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "http_status")), 200);
    ck_assert_str_eq(json_string_value(json_object_get(j, "check")), "orders-webhook-private");
    ck_assert(json_is_true(json_object_get(j, "check_passed")));
    json_decref(j);
    tproc_rmdir(p.dir);
  }
  { /* the same without a file: --service (short, with its namespace) and --http */
    const char *args[] = {"probe", "--service", id, "--namespace", "n", "--location",
                          "us-central1", "--project", "p", "--http", "/echo", NULL};
    ck_assert_msg(cli(&p, args) == 0, "%s", p.log);
    ck_assert(tproc_log_has(&p, "1 check, 1 passed, 0 failed"));
    tproc_rmdir(p.dir);
  }
  { /* ... and a TCP check of a port that refuses: the check failed, 3 */
    char port[8];
    snprintf(port, sizeof(port), "%d", ports[1]);
    const char *args[] = {"probe", "--service", id, "--namespace",
                          "projects/p/locations/us-central1/namespaces/n", "--tcp", port, NULL};
    ck_assert_msg(cli(&p, args) == 3, "%s", p.log);
    ck_assert(tproc_log_has(&p, "connect_refused"));
    tproc_rmdir(p.dir);
  }
  { /* flags that make no check are usage errors that say so */
    const char *a1[] = {"probe", "--service", id, "--http", "/echo", NULL}; /* no namespace */
    const char *a2[] = {"probe", "--service", id, "--namespace", "n", "--location", "l",
                        "--project", "p", "--tcp", "99999", NULL};
    const char *a3[] = {"probe", "--service", id, "--http", "/", "--tcp", "1", NULL};
    const char *a4[] = {"probe", "checks.yaml", "--location", "l", NULL};
    ck_assert_int_eq(cli(&p, a1), 2);
    ck_assert(tproc_log_has(&p, "needs --namespace"));
    tproc_rmdir(p.dir);
    ck_assert_int_eq(cli(&p, a2), 2);
    ck_assert(tproc_log_has(&p, "tcpCheck.port: 99999 is out of range"));
    tproc_rmdir(p.dir);
    ck_assert_int_eq(cli(&p, a3), 2);
    ck_assert(tproc_log_has(&p, "give one of --tcp PORT, --http PATH or --https PATH"));
    tproc_rmdir(p.dir);
    ck_assert_int_eq(cli(&p, a4), 2); /* a name flag with nothing to complete */
    ck_assert(tproc_log_has(&p, "complete a short --service name; there is no --service"));
    tproc_rmdir(p.dir);
  }
  /* a failing check: exit 3, the reason in the table, the detail below */
  snprintf(text, sizeof(text),
           "displayName: down\ncheckerType: VPC_CHECKERS\nmonitoredResource: {type: "
           "servicedirectory_service, labels: {project_id: p, location: us-central1, "
           "namespace_name: n, service_name: %s}}\ntcpCheck: {port: %d}\ntimeout: 2s\n",
           id, ports[1]);
  snprintf(file, sizeof(file), "%s/down.yaml", dir);
  write_text(file, text);
  {
    const char *args[] = {"probe", file, NULL};
    ck_assert_int_eq(cli(&p, args), 3);
    ck_assert(tproc_log_has(&p, "connect_refused"));
    ck_assert(tproc_log_has(&p, "1 check, 0 passed, 1 failed"));
    tproc_rmdir(p.dir);
  }
  /* a bad file: exit 2, every problem with its line and column */
  snprintf(file, sizeof(file), "%s/bad.yaml", dir);
  write_text(file, "displayName: x\nmonitoredResource: {type: uptime_url, labels: "
             "{host: h}}\nhttpCheck: {port: 99999}\ntimout: 2s\nperiod: 45s\n");
  {
    const char *args[] = {"probe", file, NULL};
    ck_assert_int_eq(cli(&p, args), 2);
    ck_assert(tproc_log_has(&p, "bad.yaml:3:19: httpCheck.port: 99999 is out of range"));
    ck_assert(tproc_log_has(&p, "bad.yaml:4:1: unknown field 'timout'; did you mean "
                                "'timeout'?"));
    ck_assert(tproc_log_has(&p, "bad.yaml:5:9: period: '45s' is not allowed"));
    ck_assert(tproc_log_has(&p, "timeout: missing"));
    tproc_rmdir(p.dir);
  }
  {
    const char *args[] = {"probe", NULL};
    ck_assert_int_eq(cli(&p, args), 2);
    tproc_rmdir(p.dir);
  }
  {
    const char *args[] = {"probe", "/nonexistent/x.yaml", NULL};
    ck_assert_int_eq(cli(&p, args), 2);
    ck_assert(tproc_log_has(&p, "/nonexistent/x.yaml: cannot open"));
    tproc_rmdir(p.dir);
  }
}
END_TEST

START_TEST(cli_config_check_on_the_shipped_example_and_a_bad_file)
{
  struct tproc p;
  char bad[128];
  const char *ok_argv[] = {tproc_sdconnect(), "config", "check",
                           SDC_SOURCE_DIR "/deploy/config/sdconnect.yaml", NULL};

  memset(&p, 0, sizeof(p));
  ck_assert_int_eq(tproc_tmpdir(p.dir), 0);
  ck_assert_msg(tproc_run(&p, ok_argv) == 0, "%s", p.log);
  ck_assert(tproc_log_has(&p, "sdconnect.yaml: ok"));
  ck_assert(tproc_log_has(&p, "checks: 2 (1 file matched by checkFiles)"));
  tproc_rmdir(p.dir);
  snprintf(bad, sizeof(bad), "%s/bad.yaml", dir);
  write_text(bad, "admin: {listen: 'nowhere'}\n");
  {
    const char *argv[] = {tproc_sdconnect(), "config", "check", bad, NULL};
    memset(&p, 0, sizeof(p));
    ck_assert_int_eq(tproc_tmpdir(p.dir), 0);
    ck_assert_int_eq(tproc_run(&p, argv), 2);
    ck_assert(tproc_log_has(&p, "bad.yaml:1:17: admin.listen: 'nowhere' is not HOST:PORT"));
    tproc_rmdir(p.dir);
  }
  { /* --json: the problems, or what it would run, as one object; the same exit codes */
    const char *argv[] = {tproc_sdconnect(), "config", "check", bad, "--json", NULL};
    json_t *j;
    memset(&p, 0, sizeof(p));
    ck_assert_int_eq(tproc_tmpdir(p.dir), 0);
    ck_assert_int_eq(tproc_run(&p, argv), 2);
    j = json_load_file(p.log, 0, NULL);
    ck_assert_msg(j && json_is_false(json_object_get(j, "valid")), "%s", p.log);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_array_get(json_object_get(j, "problems"),
                                                                  0)),
                                 "admin.listen: 'nowhere' is not HOST:PORT"));
    json_decref(j);
    unlink(p.log);
    argv[3] = SDC_SOURCE_DIR "/deploy/config/sdconnect.yaml";
    ck_assert_int_eq(tproc_run(&p, argv), 0);
    j = json_load_file(p.log, 0, NULL);
    ck_assert_msg(j && json_is_true(json_object_get(j, "valid")), "%s", p.log);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "checks")), 2);
    json_decref(j);
    tproc_rmdir(p.dir);
  }
  {
    const char *argv[] = {tproc_sdconnect(), "config", "lint", bad, NULL};
    memset(&p, 0, sizeof(p));
    ck_assert_int_eq(tproc_tmpdir(p.dir), 0);
    ck_assert_int_eq(tproc_run(&p, argv), 2);
    tproc_rmdir(p.dir);
  }
}
END_TEST

int main(void)
{
  Suite *s = suite_create("probe");
  TCase *tc = tcase_create("probe");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, https_with_private_ca_reaches_the_address_as_the_url_host);
  tcase_add_test(tc, without_a_host_name_certificates_are_not_checked_and_it_says_so);
  tcase_add_test(tc, every_tls_fault_has_its_reason);
  tcase_add_test(tc, connect_faults_and_tcp_checks);
  tcase_add_test(tc, replicas_split_a_checks_endpoints_without_duplicates_or_gaps);
  tcase_add_test(tc, replicas_judge_a_pass_any_check_whole);
  tcase_add_test(tc, http_faults_have_their_reasons_and_redirects_are_followed);
  tcase_add_test(tc, directory_faults_have_their_reasons);
  tcase_add_test(tc, uptime_url_checks_look_the_host_up_without_blocking);
  tcase_add_test(tc, service_agent_authentication_sends_an_id_token);
  tcase_add_test(tc, the_scheduler_runs_checks_through_the_prober);
  tcase_add_test(tc, cli_table_json_and_exit_codes);
  tcase_add_test(tc, cli_config_check_on_the_shipped_example_and_a_bad_file);
  suite_add_tcase(s, tc);
  return test_run_all(srunner_create(s));
}
