/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration: `sdconnect diagnose` against misconfigurations built for
 * real: a local directory (`sdconnect sd-server`, started here) with the
 * namespace, service and endpoints each case needs, and loopback ports
 * that accept, refuse, or drop (a listener whose accept queue is full:
 * the next connect hangs as it does behind a firewall that drops). Each
 * case asserts the exact problem codes found and that nothing else is.
 * TLS is judged against real servers (tests/servers/httpd) holding
 * certificates made here with each fault: expired, not yet valid, about to
 * expire, another name, a common name only, a client-only key usage, an
 * unknown CA, intermediates not sent, plain HTTP, TLS 1.1 only, mTLS.
 * Also: the address and network classifiers, and the command's output,
 * JSON and exit codes.
 */
#include "certs.h"
#include "diagnose/diag.h"
#include "proc.h"
#include "run_all.h"
#include "sdclient.h"

#include <arpa/inet.h>
#include <check.h>
#include <openssl/evp.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define NS "projects/p/locations/us-central1/namespaces/webhooks"
#define SVC NS "/services/orders"
#define NET "projects/123/locations/global/networks/vpc"
#define URL "https://hook.internal/echo"

static struct tproc sd, https[20];
static size_t n_https;
static struct tcert *ca; /* the CA the webhook trusts */
static char *ca_pem;
static sdc_resolver *res;
static char dir[64];
static int open_fd = -1, open_port, refused_fd = -1, refused_port, drop_fd = -1, drop_port;
static int queue_fds[8];
static size_t n_queue;
static bool drops; /* the full-queue listener makes connects hang here */

/* A listener whose accept queue is full: connects after it hang (SYNs are
 * dropped). Whether this works on the machine is checked, not assumed. */
static void make_dropping_listener(void)
{
  struct sockaddr_in sa = {.sin_family = AF_INET};
  socklen_t sl = sizeof(sa);

  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  drop_fd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert(drop_fd >= 0 && !bind(drop_fd, (struct sockaddr *)&sa, sizeof(sa)) &&
            !listen(drop_fd, 0) && !getsockname(drop_fd, (struct sockaddr *)&sa, &sl));
  drop_port = ntohs(sa.sin_port);
  for(n_queue = 0; n_queue < 8; n_queue++) { /* fill it: each connect either completes */
    struct pollfd p;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) && errno != EINPROGRESS) {
      close(fd);
      break;
    }
    p = (struct pollfd){fd, POLLOUT, 0};
    queue_fds[n_queue] = fd;
    if(poll(&p, 1, 300) != 1) { /* ...or hangs: the queue is full */
      drops = true;
      n_queue++;
      break;
    }
  }
  if(!drops)
    fprintf(stderr, "test_diagnose: a full accept queue does not drop connects on this "
            "machine; the EP_PORT_TIMEOUT case is skipped\n");
}

static void setup(void)
{
  const char *argv[] = {tproc_sdconnect(), "sd-server", "--memory", "--listen", "127.0.0.1:0",
                        NULL};
  struct sockaddr_in sa = {.sin_family = AF_INET};
  socklen_t sl = sizeof(sa);

  ck_assert_int_eq(sdc_global_init(NULL), SDC_OK);
  ck_assert_int_eq(tproc_tmpdir(dir), 0);
  memset(&sd, 0, sizeof(sd));
  ck_assert_int_eq(tproc_start(&sd, argv, true), 0);
  ck_assert_ptr_nonnull(res = tsd_client(sd.port, 0));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  open_fd = socket(AF_INET, SOCK_STREAM, 0); /* accepts (the kernel completes connects) */
  ck_assert(!bind(open_fd, (struct sockaddr *)&sa, sizeof(sa)) && !listen(open_fd, 64) &&
            !getsockname(open_fd, (struct sockaddr *)&sa, &sl));
  open_port = ntohs(sa.sin_port);
  refused_port = tproc_closed_port(&refused_fd);
  make_dropping_listener();
  {
    struct tcert_opts ca_o = {"diagnose test CA", NULL, -1, 365, true, false};
    ck_assert_ptr_nonnull(ca = tcert_new(&ca_o, NULL));
    ck_assert_int_eq(tcert_write(ca, dir, "ca"), 0);
    ck_assert_int_eq(tcert_write_der(ca, dir, "ca"), 0);
    ck_assert_ptr_nonnull(ca_pem = tcert_slurp(tproc_path(dir, "ca.pem")));
  }
}

/* An HTTPS server (httpd) with a certificate for `name`: its port. `cert`
 * (taken) NULL: one `ca` issued for SAN DNS:hook.internal. `extra`: more httpd
 * flags (NULL-ended), e.g. --max-tls 1.1. `plain`: no TLS at all. */
static int start_https(const char *name, struct tcert *cert, const char *chain_extra,
                       const char *const *extra, bool plain)
{
  const char *bin = getenv("SDC_HTTPD_BIN");
  char crt[160], key[160];
  const char *argv[12] = {bin && *bin ? bin : "httpd"};
  size_t n = 1;
  struct tproc *p = &https[n_https];

  ck_assert_uint_lt(n_https, sizeof(https) / sizeof(https[0]));
  if(!plain) {
    struct tcert_opts o = {"hook.internal", "DNS:hook.internal", -1, 90, false, false};
    struct tcert *c = cert ? cert : tcert_new(&o, ca);
    ck_assert_int_eq(tcert_write(c, dir, name), 0);
    tcert_free(c); /* `cert` is ours */
    snprintf(crt, sizeof(crt), "%s", tproc_path(dir, name));
    strcat(crt, ".pem");
    snprintf(key, sizeof(key), "%s", tproc_path(dir, name));
    strcat(key, ".key");
    if(chain_extra) { /* the intermediates after the certificate */
      char *more = tcert_slurp(chain_extra);
      FILE *f = fopen(crt, "a");
      ck_assert(more && f);
      fputs(more, f);
      fclose(f);
      free(more);
    }
    argv[n++] = "--cert";
    argv[n++] = crt;
    argv[n++] = "--key";
    argv[n++] = key;
  }
  for(size_t i = 0; extra && extra[i]; i++)
    argv[n++] = extra[i];
  argv[n] = NULL;
  memset(p, 0, sizeof(*p));
  ck_assert_int_eq(tproc_start(p, argv, true), 0);
  n_https++;
  return p->port;
}

static void teardown(void)
{
  for(size_t i = 0; i < n_https; i++) {
    tproc_stop(&https[i], 5000);
    tproc_rmdir(https[i].dir);
  }
  n_https = 0;
  tcert_free(ca);
  free(ca_pem);
  sdc_resolver_free(res);
  tproc_stop(&sd, 5000);
  tproc_rmdir(sd.dir);
  tproc_rmdir(dir);
  for(size_t i = 0; i < n_queue; i++)
    close(queue_fds[i]);
  n_queue = 0;
  drops = false;
  close(open_fd);
  close(refused_fd);
  close(drop_fd);
  sdc_global_cleanup();
}

static void endpoint_in(const char *svc, const char *id, const char *address, int port,
                        const char *network)
{
  char name[400];

  snprintf(name, sizeof(name), "%s/endpoints/%s", svc, id);
  ck_assert_msg(tsd_endpoint_net(res, name, address, port, network) == 0, "%s",
                sdc_resolver_errmsg(res));
}

static void endpoint(const char *id, const char *address, int port, const char *network)
{
  endpoint_in(SVC, id, address, port, network);
}

struct tls_in {
  const char *ca_pem, *cert_pem, *key_pem;
};

static char said[4096]; /* the problems' texts of the last diagnose, for failures */

/* Diagnose and return the problems' codes, space-separated, in order. */
static const char *problems_tls(const char *service, const char *url, bool lab,
                                const char *location, const struct tls_in *tls, char *out,
                                size_t cap)
{
  sdc_diag_opts *o = NULL;
  sdc_diag_report *r = NULL;
  size_t len = 0;

  ck_assert_int_eq(sdc_diag_opts_new(&o), SDC_OK);
  ck_assert_int_eq(sdc_diag_opts_set_target(o, service, url), SDC_OK);
  ck_assert_int_eq(sdc_diag_opts_set_location(o, location), SDC_OK);
  sdc_diag_opts_set_lab(o, lab);
  sdc_diag_opts_set_connect_timeout_ms(o, 500);
  if(tls)
    ck_assert_int_eq(sdc_diag_opts_set_tls(o, tls->ca_pem, tls->cert_pem, tls->key_pem),
                     SDC_OK);
  ck_assert_int_eq(sdc_diagnose(res, o, &r), SDC_OK);
  out[0] = '\0';
  said[0] = '\0';
  for(size_t i = 0; i < sdc_diag_report_count(r); i++) {
    const sdc_diag_finding *f = sdc_diag_report_get(r, i);
    if(f->level == SDC_DIAG_FAIL || f->level == SDC_DIAG_WARN)
      snprintf(said + strlen(said), sizeof(said) - strlen(said), "[%s: %s] ", f->code, f->what);
    ck_assert_msg(f->level == SDC_DIAG_OK || f->level == SDC_DIAG_SKIP || *f->fix,
                  "%s has no fix", f->code);
    if(f->level == SDC_DIAG_FAIL || f->level == SDC_DIAG_WARN)
      len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? " " : "", f->code);
  }
  sdc_diag_report_free(r);
  sdc_diag_opts_free(o);
  return out;
}

/* Plain HTTP (no TLS step), or with the test CA trusted for https URLs. */
static const char *problems(const char *service, const char *url, bool lab,
                            const char *location, char *out, size_t cap)
{
  struct tls_in t = {ca_pem, NULL, NULL};

  return problems_tls(service, url, lab, location, &t, out, cap);
}

START_TEST(a_good_path_has_nothing_to_say)
{
  char got[512];

  ck_assert_int_eq(tsd_namespace(res, NS), 0);
  ck_assert_int_eq(tsd_service(res, SVC), 0);
  endpoint("e0", "127.0.0.1", start_https("good", NULL, NULL, NULL, false), NET);
  ck_assert_str_eq(problems(SVC, URL, true, "us-central1", got, sizeof(got)), "");
  /* the same without --lab: Google cannot reach loopback */
  ck_assert_str_eq(problems(SVC, URL, false, NULL, got, sizeof(got)), "EP_ADDRESS_LOOPBACK");
}
END_TEST

START_TEST(each_misconfiguration_is_named)
{
  static const struct {
    const char *id, *address, *network;
    int port; /* -1: open, -2: refused, -3: dropping */
    const char *want;
  } cases[] = {
      {"refused", "127.0.0.1", NET, -2, "EP_PORT_REFUSED"},
      {"nonet", "127.0.0.1", "", -1, "EP_NETWORK_MISSING"},
      {"public", "203.0.113.7", NET, 443, "EP_ADDRESS_PUBLIC"},
      {"linklocal", "169.254.10.10", NET, 443, "EP_ADDRESS_UNROUTABLE"},
      {"noport", "127.0.0.1", NET, 0, "EP_NO_PORT"},
      {"noaddr", "", NET, 443, "EP_NO_ADDRESS"},
      {"dropped", "127.0.0.1", NET, -3, "EP_PORT_TIMEOUT"},
  };
  char got[512], svc[300];

  ck_assert_int_eq(tsd_namespace(res, NS), 0);
  for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    int port = cases[i].port == -1 ? open_port : cases[i].port == -2 ? refused_port
               : cases[i].port == -3 ? drop_port : cases[i].port;
    char name[400];
    if(cases[i].port == -3 && !drops)
      continue; /* said at setup */
    snprintf(svc, sizeof(svc), NS "/services/%s", cases[i].id);
    ck_assert_int_eq(tsd_service(res, svc), 0);
    snprintf(name, sizeof(name), "%s/endpoints/e0", svc);
    ck_assert_msg(tsd_endpoint_net(res, name, cases[i].address, port, cases[i].network) == 0,
                  "%s: %s", cases[i].id, sdc_resolver_errmsg(res));
    ck_assert_msg(!strcmp(problems(svc, "http://hook.internal/orders", true, NULL, got,
                                   sizeof(got)), cases[i].want),
                  "%s: got '%s', want '%s'", cases[i].id, got, cases[i].want);
  }
}
END_TEST

struct tls_case {
  const char *id;
  int port;
  int with_client_cert; /* 1: issued by the CA; 2: by an intermediate, sent with it */
  const char *want;
};

START_TEST(tls_faults_are_named_one_by_one)
{
  struct tcert_opts o = {"hook.internal", "DNS:hook.internal", -1, 90, false, false};
  struct tcert_opts other_ca_o = {"another CA", NULL, -1, 90, true, false};
  struct tcert_opts inter_o = {"diagnose intermediate", NULL, -1, 90, true, false};
  struct tcert_opts client_o = {"caller", NULL, -1, 90, false, true};
  struct tcert *other_ca = tcert_new(&other_ca_o, NULL), *inter = tcert_new(&inter_o, ca);
  struct tcert *client = tcert_new(&client_o, ca);
  static const char *const tls11[] = {"--max-tls", "1.1", NULL};
  const char *mtls[] = {"--client-ca", NULL, NULL};
  const char *shallow[] = {"--client-ca", NULL, "--verify-depth", "0", NULL};
  struct tcert_opts chained_o = {"caller via intermediate", NULL, -1, 90, false, true};
  struct tcert *chained;
  char *chain_pem, *chain_key;
  char got[512], svc[300], *client_pem, *client_key;
  struct tls_case cases[20];
  size_t n = 0;

#define CERT(...) (o = (struct tcert_opts){__VA_ARGS__}, tcert_new(&o, ca))
  ck_assert(other_ca && inter && client);
  ck_assert_int_eq(tcert_write(inter, dir, "inter"), 0);
  ck_assert_int_eq(tcert_write(client, dir, "client"), 0);
  client_pem = tcert_slurp(tproc_path(dir, "client.pem"));
  client_key = tcert_slurp(tproc_path(dir, "client.key"));
  mtls[1] = tproc_path(dir, "ca.pem");
  mtls[1] = strdup(mtls[1]);
  shallow[1] = mtls[1];
  /* a client chain as deep as Google's: the certificate, then its intermediate */
  chained = tcert_new(&chained_o, inter);
  ck_assert_int_eq(tcert_write(chained, dir, "chained"), 0);
  tcert_free(chained);
  {
    char *leaf = tcert_slurp(tproc_path(dir, "chained.pem"));
    char *mid = tcert_slurp(tproc_path(dir, "inter.pem"));
    ck_assert(leaf && mid);
    chain_pem = malloc(strlen(leaf) + strlen(mid) + 1);
    strcpy(chain_pem, leaf);
    strcat(chain_pem, mid);
    free(leaf);
    free(mid);
  }
  chain_key = tcert_slurp(tproc_path(dir, "chained.key"));
  cases[n++] = (struct tls_case){"fine", start_https("fine", NULL, NULL, NULL, false), false,
                                  ""};
  cases[n++] = (struct tls_case){"expired", start_https("expired", CERT("hook.internal",
                                  "DNS:hook.internal", -30, -1, false, false), NULL, NULL,
                                  false), false, "TLS_CERT_EXPIRED"};
  cases[n++] = (struct tls_case){"early", start_https("early", CERT("hook.internal",
                                  "DNS:hook.internal", 5, 90, false, false), NULL, NULL,
                                  false), false, "TLS_CERT_NOT_YET_VALID"};
  cases[n++] = (struct tls_case){"soon", start_https("soon", CERT("hook.internal",
                                  "DNS:hook.internal", -1, 10, false, false), NULL, NULL,
                                  false), false, "TLS_CERT_EXPIRES_SOON"};
  cases[n++] = (struct tls_case){"othername", start_https("othername", CERT("other.internal",
                                  "DNS:other.internal", -1, 90, false, false), NULL, NULL,
                                  false), false, "TLS_NAME_MISMATCH"};
  cases[n++] = (struct tls_case){"cnonly", start_https("cnonly", CERT("hook.internal", NULL,
                                  -1, 90, false, false), NULL, NULL, false), false,
                                  "TLS_NAME_CN_ONLY"};
  cases[n++] = (struct tls_case){"clientonly", start_https("clientonly", CERT("hook.internal",
                                  "DNS:hook.internal", -1, 90, false, true), NULL, NULL,
                                  false), false, "TLS_KEY_USAGE"};
  o = (struct tcert_opts){"hook.internal", "DNS:hook.internal", -1, 90, false, false};
  cases[n++] = (struct tls_case){"untrusted", start_https("untrusted", tcert_new(&o, other_ca),
                                  NULL, NULL, false), false, "TLS_UNTRUSTED"};
  cases[n++] = (struct tls_case){"nochain", start_https("nochain", tcert_new(&o, inter), NULL,
                                  NULL, false), false, "TLS_UNTRUSTED"};
  cases[n++] = (struct tls_case){"chain", start_https("chain", tcert_new(&o, inter),
                                  tproc_path(dir, "inter.pem"), NULL, false), false, ""};
  cases[n++] = (struct tls_case){"plain", start_https("plain", NULL, NULL, NULL, true), false,
                                  "TLS_NOT_TLS"};
  cases[n++] = (struct tls_case){"old", start_https("old", NULL, NULL, tls11, false), false,
                                  "TLS_VERSION_OLD"};
  cases[n++] = (struct tls_case){"mtls-none", start_https("mtls-none", NULL, NULL, mtls,
                                  false), false, "TLS_CLIENT_CERT_REQUIRED"};
  cases[n++] = (struct tls_case){"mtls", start_https("mtls", NULL, NULL, mtls, false), true,
                                  "TLS_MTLS_DEPTH_UNTESTED"};
  cases[n++] = (struct tls_case){"mtls-chain", start_https("mtls-chain", NULL, NULL, mtls,
                                  false), 2, ""};
  cases[n++] = (struct tls_case){"mtls-shallow", start_https("mtls-shallow", NULL, NULL,
                                  shallow, false), 2, "TLS_CLIENT_CERT_REJECTED"};
  cases[n++] = (struct tls_case){"mtls-unasked", start_https("mtls-unasked", NULL, NULL, NULL,
                                  false), true, "TLS_MTLS_NOT_REQUESTED"};
  cases[n++] = (struct tls_case){"silent", open_port, false, "TLS_NO_ANSWER"};
#undef CERT
  ck_assert_int_eq(tsd_namespace(res, NS), 0);
  for(size_t i = 0; i < n; i++) {
    struct tls_in t = {ca_pem,
                       cases[i].with_client_cert == 2 ? chain_pem
                       : cases[i].with_client_cert ? client_pem : NULL,
                       cases[i].with_client_cert == 2 ? chain_key
                       : cases[i].with_client_cert ? client_key : NULL};
    snprintf(svc, sizeof(svc), NS "/services/%s", cases[i].id);
    ck_assert_int_eq(tsd_service(res, svc), 0);
    endpoint_in(svc, "e0", "127.0.0.1", cases[i].port, NET);
    ck_assert_msg(!strcmp(problems_tls(svc, URL, true, NULL, &t, got, sizeof(got)),
                          cases[i].want),
                  "%s: got '%s', want '%s': %s", cases[i].id, got, cases[i].want, said);
  }
  free((char *)mtls[1]);
  free(chain_pem);
  free(chain_key);
  free(client_pem);
  free(client_key);
  tcert_free(other_ca);
  tcert_free(inter);
  tcert_free(client);
}
END_TEST

/* The CA as the API takes it: DER, base64. */
static void ca_base64(char *out)
{
  unsigned char der[4096];
  FILE *d = fopen(tproc_path(dir, "ca.der"), "rb");
  size_t n = fread(der, 1, sizeof(der), d);

  fclose(d);
  EVP_EncodeBlock((unsigned char *)out, der, (int)n);
}

START_TEST(a_real_call_is_judged_as_dialogflow_judges_it)
{
  static const struct {
    const char *id, *path, *extra, *want;
  } cases[] = {
      {"fine", "/echo", "", ""},
      {"missing", "/status/404", "", "HTTP_NOT_FOUND"},
      {"failing", "/status/503", "", "HTTP_SERVER_ERROR"},
      {"refusing", "/status/401", "", "HTTP_UNAUTHORIZED"},
      {"throttled", "/status/429", "", "HTTP_STATUS"},
      {"moved", "/redirect?to=/echo", "", "HTTP_REDIRECT"},
      {"slow", "/slow?ms=2500", "  timeout: 1s\n", "HTTP_TIMEOUT"},
      {"huge", "/big?bytes=70000", "", "HTTP_TOO_LARGE"},
      {"text", "/slow?ms=1", "", "HTTP_BAD_RESPONSE"},
      {"labelled", "/json-as-text", "", "HTTP_CONTENT_TYPE"},
      {"latin1", "/latin1", "", "HTTP_NOT_UTF8"},
      {"off", "/echo", "  disabled: true\n", "WEBHOOK_DISABLED"},
  };
  /* an Authorization header beside OAuth (whose token endpoint refuses: no
   * token, so the call is not made) */
  int fd, closed = tproc_closed_port(&fd);
  char b64[4096], got[512], *yaml = calloc(1, 65536), *errs = NULL;
  sdc_webhook_set *set = NULL;
  size_t len = 0;

  ca_base64(b64);
  ck_assert_int_eq(tsd_namespace(res, NS), 0);
  ck_assert_int_eq(tsd_service(res, SVC), 0);
  endpoint("e0", "127.0.0.1", start_https("hooks", NULL, NULL, NULL, false), NET);
  for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    len += (size_t)snprintf(yaml + len, 65536 - len,
                            "- name: projects/p/locations/us-central1/agents/a/webhooks/%s\n"
                            "  displayName: %s\n%s"
                            "  serviceDirectory:\n"
                            "    service: " SVC "\n"
                            "    genericWebService:\n"
                            "      uri: 'https://hook.internal%s'\n"
                            "      allowedCaCerts: ['%s']\n",
                            cases[i].id, cases[i].id, cases[i].extra, cases[i].path, b64);
  len += (size_t)snprintf(yaml + len, 65536 - len,
           "- name: projects/p/locations/us-central1/agents/a/webhooks/both\n"
           "  displayName: both\n"
           "  serviceDirectory:\n"
           "    service: " SVC "\n"
           "    genericWebService:\n"
           "      uri: 'https://hook.internal/echo'\n"
           "      allowedCaCerts: ['%s']\n"
           "      requestHeaders: {Authorization: 'Bearer static'}\n"
           "      oauthConfig: {clientId: c, clientSecret: s,\n"
           "                    tokenEndpoint: 'https://auth.example/token'}\n"
           "  sdconnect: {tokenEndpoint: 'http://127.0.0.1:%d/token'}\n", b64, closed);
  ck_assert_msg(sdc_webhooks_load_mem("hooks.yaml", yaml, len, NULL, &set, &errs) == SDC_OK,
                "%s", errs ? errs : "");
  for(size_t i = 0; i <= sizeof(cases) / sizeof(cases[0]); i++) {
    bool last = i == sizeof(cases) / sizeof(cases[0]);
    const char *id = last ? "both" : cases[i].id;
    const char *want = last ? "AUTH_HEADER_CONFLICT HTTP_AUTH_UNAVAILABLE" : cases[i].want;
    sdc_diag_opts *o = NULL;
    sdc_diag_report *r = NULL;
    size_t n = 0;
    ck_assert_int_eq(sdc_diag_opts_new(&o), SDC_OK);
    ck_assert_int_eq(sdc_diag_opts_set_webhook(o, sdc_webhook_set_find(set, id)), SDC_OK);
    sdc_diag_opts_set_lab(o, 1);
    ck_assert_int_eq(sdc_diagnose(res, o, &r), SDC_OK);
    got[0] = '\0';
    said[0] = '\0';
    for(size_t k = 0; k < sdc_diag_report_count(r); k++) {
      const sdc_diag_finding *f = sdc_diag_report_get(r, k);
      if(f->level == SDC_DIAG_FAIL || f->level == SDC_DIAG_WARN) {
        n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%s", n ? " " : "", f->code);
        snprintf(said + strlen(said), sizeof(said) - strlen(said), "[%s] ", f->what);
      }
    }
    ck_assert_msg(!strcmp(got, want), "%s: got '%s', want '%s': %s", id, got, want, said);
    if(!strcmp(id, "missing")) /* the event and status Dialogflow would produce: a */
      ck_assert_msg(strstr(said, "raises webhook.error (webhookStatus NOT_FOUND)"), "%s",
                    said); /* 404 has no event of its own (sheet 10 D) */
    if(!strcmp(id, "refusing"))
      ck_assert_msg(strstr(said, "raises webhook.error.rejected"), "%s", said);
    sdc_diag_report_free(r);
    sdc_diag_opts_free(o);
  }
  sdc_webhook_set_free(set);
  free(yaml);
  close(fd);
}
END_TEST

START_TEST(a_private_uptime_check_is_walked_and_run)
{
  static const struct {
    const char *id, *http, *want;
  } cases[] = {
      {"fine", "{useSsl: true, path: /echo}", ""},
      {"failing", "{useSsl: true, path: /status/500}", "CHECK_HTTP_STATUS"},
      {"nomatch", "{useSsl: true, path: /echo}\n  contentMatchers: [{content: not-there}]",
       "CHECK_CONTENT_MISMATCH"},
      {"strict", "{useSsl: true, path: /echo, validateSsl: true}",
       "CHECK_VALIDATE_SSL_IGNORED"},
  };
  char text[4096], got[512];
  size_t len = 0, n;
  sdc_check_set *set = NULL;
  char *errs = NULL;

  ck_assert_int_eq(tsd_namespace(res, NS), 0);
  ck_assert_int_eq(tsd_service(res, SVC), 0);
  /* no CA and no sdconnect.host given: the chain and name would fail, but
   * Google does not judge a private check's certificate, nor does this */
  endpoint("e0", "127.0.0.1", start_https("checked", NULL, NULL, NULL, false), NET);
  for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    len += (size_t)snprintf(text + len, sizeof(text) - len,
                            "- name: projects/p/uptimeCheckConfigs/%s\n"
                            "  displayName: %s\n"
                            "  checkerType: VPC_CHECKERS\n"
                            "  monitoredResource:\n"
                            "    type: servicedirectory_service\n"
                            "    labels: {project_id: p, location: us-central1, "
                            "namespace_name: webhooks, service_name: orders}\n"
                            "  httpCheck: %s\n"
                            "  timeout: 5s\n",
                            cases[i].id, cases[i].id, cases[i].http);
  ck_assert_msg(sdc_checks_load_mem("checks.yaml", text, len, &set, &errs) == SDC_OK, "%s",
                errs ? errs : "");
  for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    sdc_diag_opts *o = NULL;
    sdc_diag_report *r = NULL;
    const sdc_check *c = NULL;
    bool ran = false;
    for(size_t k = 0; k < sdc_check_set_count(set); k++)
      if(!strcmp(sdc_check_id(sdc_check_set_get(set, k)), cases[i].id))
        c = sdc_check_set_get(set, k);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(sdc_diag_opts_new(&o), SDC_OK);
    ck_assert_int_eq(sdc_diag_opts_set_check(o, c), SDC_OK);
    sdc_diag_opts_set_lab(o, 1);
    ck_assert_int_eq(sdc_diagnose(res, o, &r), SDC_OK);
    got[0] = said[0] = '\0';
    n = 0;
    for(size_t k = 0; k < sdc_diag_report_count(r); k++) {
      const sdc_diag_finding *f = sdc_diag_report_get(r, k);
      ran = ran || !strcmp(f->code, "CHECK_PASSED") || !strncmp(f->code, "CHECK_", 6);
      if(f->level == SDC_DIAG_FAIL || f->level == SDC_DIAG_WARN) {
        n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%s", n ? " " : "", f->code);
        snprintf(said + strlen(said), sizeof(said) - strlen(said), "[%s] ", f->what);
      }
    }
    ck_assert_msg(!strcmp(got, cases[i].want), "%s: got '%s', want '%s': %s", cases[i].id, got,
                  cases[i].want, said);
    ck_assert_msg(ran, "%s: the check was not run", cases[i].id);
    sdc_diag_report_free(r);
    sdc_diag_opts_free(o);
  }
  sdc_check_set_free(set);
}
END_TEST

/* A plaintext directory client on 127.0.0.1:port sending `token`. */
static sdc_resolver *client_as(int port, const char *token)
{
  sdc_resolver_opts *o = NULL;
  sdc_resolver *r = NULL;
  char ep[64], err[256];

  snprintf(ep, sizeof(ep), "127.0.0.1:%d", port);
  ck_assert_int_eq(sdc_resolver_opts_new(&o), SDC_OK);
  sdc_resolver_opts_set_endpoint(o, ep);
  sdc_resolver_opts_set_plaintext(o, 1);
  sdc_resolver_opts_set_cache_ttl_ms(o, 0);
  sdc_resolver_opts_set_bearer_token(o, token);
  ck_assert_msg(sdc_resolver_new(&r, o, err, sizeof(err)) == SDC_OK, "%s", err);
  sdc_resolver_opts_free(o);
  return r;
}

START_TEST(the_principal_google_uses_is_asked_what_it_may_do)
{
  char policy[160], got[512];
  const char *argv[] = {tproc_sdconnect(), "sd-server", "--memory", "--listen", "127.0.0.1:0",
                        "--iam-policy", policy, NULL};
  struct tproc iamsd = {0};
  sdc_resolver *admin, *agent, *stranger, *keep = res;
  static const char *const ids[] = {"webhooks", "granted", "elsewhere"};
  FILE *f;

  snprintf(policy, sizeof(policy), "%s", tproc_path(dir, "iam.yaml"));
  f = fopen(policy, "w");
  fputs("principals:\n"
        "  - {token: admin-tok, member: 'user:admin@example.com'}\n"
        "  - {token: agent-tok, member: 'serviceAccount:service-1@gcp-sa-dialogflow.iam."
        "gserviceaccount.com'}\n"
        "bindings:\n"
        "  - {resource: projects/p, role: roles/servicedirectory.admin,\n"
        "     members: ['user:admin@example.com']}\n"
        "  - {resource: projects/p/locations/us-central1/namespaces/granted,\n"
        "     role: roles/servicedirectory.viewer,\n"
        "     members: ['serviceAccount:service-1@gcp-sa-dialogflow.iam.gserviceaccount.com']}\n"
        "  - {resource: projects/p/locations/us-central1/namespaces/elsewhere,\n"
        "     role: roles/servicedirectory.viewer,\n"
        "     members: ['serviceAccount:service-1@gcp-sa-dialogflow.iam.gserviceaccount.com']}\n"
        "  - {resource: projects/123, role: roles/servicedirectory.pscAuthorizedService,\n"
        "     members: ['serviceAccount:service-1@gcp-sa-dialogflow.iam.gserviceaccount.com']}\n",
        f);
  fclose(f);
  ck_assert_msg(tproc_start(&iamsd, argv, true) == 0, "%s", iamsd.log);
  admin = client_as(iamsd.port, "admin-tok");
  agent = client_as(iamsd.port, "agent-tok");
  stranger = client_as(iamsd.port, "who-knows");
  res = admin; /* the helpers register with it */
  for(size_t i = 0; i < 3; i++) { /* "elsewhere": in another project's network */
    char ns[200], svc[260];
    snprintf(ns, sizeof(ns), "projects/p/locations/us-central1/namespaces/%s", ids[i]);
    snprintf(svc, sizeof(svc), "%s/services/orders", ns);
    ck_assert_int_eq(tsd_namespace(admin, ns), 0);
    ck_assert_int_eq(tsd_service(admin, svc), 0);
    endpoint_in(svc, "e0", "127.0.0.1", open_port,
                i == 2 ? "projects/456/locations/global/networks/vpc" : NET);
  }
  {
    struct {
      const char *svc;
      sdc_resolver *as;
      const char *want;
    } cases[] = {
        {SVC, agent, "IAM_VIEWER_MISSING"},
        {"projects/p/locations/us-central1/namespaces/granted/services/orders", agent, ""},
        {SVC, stranger, "IAM_AGENT_UNKNOWN"},
        {"projects/p/locations/us-central1/namespaces/elsewhere/services/orders", agent,
         "IAM_PSC_MISSING"},
    };
    for(size_t i = 0; i < 4; i++) {
      sdc_diag_opts *o = NULL;
      sdc_diag_report *r = NULL;
      size_t n = 0;
      ck_assert_int_eq(sdc_diag_opts_new(&o), SDC_OK);
      ck_assert_int_eq(sdc_diag_opts_set_target(o, cases[i].svc, "http://hook.internal/"),
                       SDC_OK);
      sdc_diag_opts_set_lab(o, 1);
      sdc_diag_opts_set_agent(o, cases[i].as);
      ck_assert_int_eq(sdc_diagnose(admin, o, &r), SDC_OK);
      got[0] = said[0] = '\0';
      for(size_t k = 0; k < sdc_diag_report_count(r); k++) {
        const sdc_diag_finding *fd = sdc_diag_report_get(r, k);
        if(fd->level == SDC_DIAG_FAIL || fd->level == SDC_DIAG_WARN) {
          n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%s", n ? " " : "", fd->code);
          snprintf(said + strlen(said), sizeof(said) - strlen(said), "[%s | %s] ", fd->what,
                   fd->fix);
        }
      }
      ck_assert_msg(!strcmp(got, cases[i].want), "%zu: got '%s', want '%s': %s", i, got,
                    cases[i].want, said);
      if(i == 0) /* the grant that is missing, as a command */
        ck_assert_msg(strstr(said, "gcloud projects add-iam-policy-binding p --member="
                                   "serviceAccount:service-PROJECT_NUMBER@gcp-sa-dialogflow"),
                      "%s", said);
      sdc_diag_report_free(r);
      sdc_diag_opts_free(o);
    }
  }
  { /* sdconnect itself as a caller the directory refuses */
    sdc_diag_opts *o = NULL;
    sdc_diag_report *r = NULL;
    ck_assert_int_eq(sdc_diag_opts_new(&o), SDC_OK);
    ck_assert_int_eq(sdc_diag_opts_set_target(o, SVC, "http://hook.internal/"), SDC_OK);
    ck_assert_int_eq(sdc_diagnose(agent, o, &r), SDC_OK);
    ck_assert_str_eq(sdc_diag_report_get(r, 1)->code, "SD_PERMISSION_DENIED");
    ck_assert_ptr_nonnull(strstr(sdc_diag_report_get(r, 1)->fix,
                                 "roles/servicedirectory.viewer"));
    sdc_diag_report_free(r);
    sdc_diag_opts_free(o);
  }
  { /* the command, with the tokens in files */
    char ep[64], admin_f[160], agent_f[160];
    const char *cli[] = {tproc_sdconnect(), "diagnose", SVC, "--url", "http://hook.internal/",
                         "--lab", "--sd-endpoint", ep, "--insecure", "--token-file", admin_f,
                         "--agent-token-file", agent_f, NULL};
    struct tproc run = {0};
    snprintf(ep, sizeof(ep), "127.0.0.1:%d", iamsd.port);
    snprintf(admin_f, sizeof(admin_f), "%s", tproc_path(dir, "admin.tok"));
    snprintf(agent_f, sizeof(agent_f), "%s", tproc_path(dir, "agent.tok"));
    f = fopen(admin_f, "w");
    fputs("admin-tok\n", f);
    fclose(f);
    f = fopen(agent_f, "w");
    fputs("agent-tok\n", f);
    fclose(f);
    chmod(admin_f, 0600);
    chmod(agent_f, 0600);
    ck_assert_int_eq(tproc_run(&run, cli), 3);
    ck_assert_msg(tproc_log_has(&run, "[FAIL] iam       IAM_VIEWER_MISSING"), "%s",
                  tcert_slurp(run.log));
    tproc_rmdir(run.dir);
  }
  res = keep;
  sdc_resolver_free(admin);
  sdc_resolver_free(agent);
  sdc_resolver_free(stranger);
  ck_assert_int_eq(tproc_stop(&iamsd, 5000), 0);
  tproc_rmdir(iamsd.dir);
}
END_TEST

START_TEST(the_directory_says_which_part_is_missing)
{
  char got[512];
  sdc_diag_opts *o = NULL;
  sdc_diag_report *r = NULL;
  sdc_resolver *away;
  int fd, port = tproc_closed_port(&fd);

  ck_assert_int_eq(tsd_namespace(res, NS), 0);
  ck_assert_int_eq(tsd_service(res, SVC), 0);
  ck_assert_str_eq(problems(SVC, URL, true, NULL, got, sizeof(got)), "SD_NO_ENDPOINTS");
  ck_assert_str_eq(problems(NS "/services/order", URL, true, NULL, got, sizeof(got)),
                   "SD_SERVICE_NOT_FOUND");
  ck_assert_str_eq(problems("projects/p/locations/us-central1/namespaces/webhook/services/"
                            "orders", URL, true, NULL, got, sizeof(got)),
                   "SD_NAMESPACE_NOT_FOUND");
  ck_assert_str_eq(problems("projects/p/locations/us-central1/namespaces/x/services/y", URL,
                            true, NULL, got, sizeof(got)), "SD_NAMESPACE_NOT_FOUND");
  /* the near miss is named, and the fix gives the corrected name */
  ck_assert_int_eq(sdc_diag_opts_new(&o), SDC_OK);
  ck_assert_int_eq(sdc_diag_opts_set_target(o, NS "/services/order", URL), SDC_OK);
  ck_assert_int_eq(sdc_diagnose(res, o, &r), SDC_OK);
  ck_assert_msg(strstr(sdc_diag_report_get(r, 1)->what, "did you mean 'orders'?"), "%s",
                sdc_diag_report_get(r, 1)->what);
  ck_assert_msg(strstr(sdc_diag_report_get(r, 1)->fix, "correct the service name to " SVC),
                "%s", sdc_diag_report_get(r, 1)->fix);
  ck_assert_int_eq(sdc_diag_report_get(r, 2)->level, SDC_DIAG_SKIP);
  sdc_diag_report_free(r);
  /* a directory that wants a token sdconnect does not have */
  {
    struct tproc locked = {0};
    char tokfile[128];
    const char *argv[] = {tproc_sdconnect(), "sd-server", "--memory", "--listen",
                          "127.0.0.1:0", "--token-file", tokfile, NULL};
    FILE *f;
    snprintf(tokfile, sizeof(tokfile), "%s", tproc_path(dir, "sd.token"));
    f = fopen(tokfile, "w");
    fputs("diagnose-sd-token\n", f);
    fclose(f);
    chmod(tokfile, 0600);
    ck_assert_int_eq(tproc_start(&locked, argv, true), 0);
    ck_assert_ptr_nonnull(away = tsd_client(locked.port, 0));
    ck_assert_int_eq(sdc_diagnose(away, o, &r), SDC_OK);
    ck_assert_str_eq(sdc_diag_report_get(r, 1)->code, "SD_UNAUTHENTICATED");
    sdc_diag_report_free(r);
    sdc_resolver_free(away);
    tproc_stop(&locked, 5000);
    tproc_rmdir(locked.dir);
  }
  /* a directory that does not answer */
  ck_assert_ptr_nonnull(away = tsd_client(port, 0));
  ck_assert_int_eq(sdc_diagnose(away, o, &r), SDC_OK);
  ck_assert_str_eq(sdc_diag_report_get(r, 1)->code, "SD_UNREACHABLE");
  sdc_diag_report_free(r);
  sdc_resolver_free(away);
  close(fd);
  sdc_diag_opts_free(o);
}
END_TEST

START_TEST(the_configuration_is_checked_first)
{
  char got[512];

  ck_assert_str_eq(problems("projects/p/locations/us-central1/services/orders", URL, true, NULL,
                            got, sizeof(got)), "SD_NAME_MALFORMED");
  ck_assert_str_eq(problems(NS "/services/Orders", URL, true, NULL, got, sizeof(got)),
                   "SD_NAME_MALFORMED");
  ck_assert_str_eq(problems(SVC, "hook.internal/orders", true, NULL, got, sizeof(got)),
                   "URL_MALFORMED");
  ck_assert_str_eq(problems(SVC, URL, true, "europe-west1", got, sizeof(got)),
                   "SD_LOCATION_MISMATCH");
}
END_TEST

START_TEST(addresses_and_networks_are_classified)
{
  static const struct {
    const char *a;
    enum addr_kind k;
  } addrs[] = {
      {"10.1.2.3", ADDR_PRIVATE},       {"172.16.0.1", ADDR_PRIVATE},
      {"172.31.255.255", ADDR_PRIVATE}, {"172.32.0.1", ADDR_PUBLIC},
      {"192.168.9.9", ADDR_PRIVATE},    {"100.64.0.1", ADDR_PRIVATE},
      {"100.128.0.1", ADDR_PUBLIC},     {"127.0.0.2", ADDR_LOOPBACK},
      {"169.254.1.1", ADDR_UNROUTABLE}, {"224.0.0.1", ADDR_UNROUTABLE},
      {"0.0.0.0", ADDR_UNROUTABLE},     {"35.199.192.1", ADDR_PUBLIC},
      {"fd12::1", ADDR_PRIVATE},        {"fc00::5", ADDR_PRIVATE},
      {"::1", ADDR_LOOPBACK},           {"fe80::1", ADDR_UNROUTABLE},
      {"ff02::1", ADDR_UNROUTABLE},     {"::", ADDR_UNROUTABLE},
      {"2001:db8::1", ADDR_PUBLIC},     {"::ffff:10.0.0.1", ADDR_PRIVATE},
      {"hook.internal", ADDR_NOT_AN_ADDRESS},
  };
  static const struct {
    const char *n;
    enum net_problem p;
  } nets[] = {
      {NET, NET_OK},
      {"", NET_MISSING},
      {"projects/my-project/locations/global/networks/vpc", NET_PROJECT_ID},
      {"projects/123/locations/us-central1/networks/vpc", NET_MALFORMED},
      {"projects/123/locations/global/networks/", NET_MALFORMED},
      {"networks/vpc", NET_MALFORMED},
  };

  for(size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++)
    ck_assert_msg(diag_address_kind(addrs[i].a) == addrs[i].k, "%s", addrs[i].a);
  for(size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++)
    ck_assert_msg(diag_network_problem(nets[i].n) == nets[i].p, "%s", nets[i].n);
  ck_assert_int_eq(diag_distance("orders", "order"), 1);
  ck_assert_int_eq(diag_distance("webhooks", "webhoks"), 1);
  ck_assert_int_eq(diag_distance("abc", "xyz"), 3);
}
END_TEST

/* The command: its output, JSON and exit codes. */
START_TEST(the_command_prints_findings_and_exits_3)
{
  struct tproc run = {0};
  char ep[64], hooks[128];
  const char *ok_argv[] = {tproc_sdconnect(), "diagnose", "--webhook", hooks, "--lab",
                           "--sd-endpoint", ep, "--insecure", NULL};
  const char *json_argv[] = {tproc_sdconnect(), "diagnose", "--webhook", hooks, "--json",
                             "--sd-endpoint", ep, "--insecure", NULL};
  const char *usage_argv[] = {tproc_sdconnect(), "diagnose", SVC, NULL};
  FILE *f;

  char b64[4096];

  snprintf(ep, sizeof(ep), "127.0.0.1:%d", sd.port);
  snprintf(hooks, sizeof(hooks), "%s", tproc_path(dir, "hooks.yaml"));
  ck_assert_int_eq(tsd_namespace(res, NS), 0);
  ck_assert_int_eq(tsd_service(res, SVC), 0);
  endpoint("e0", "127.0.0.1", start_https("cli", NULL, NULL, NULL, false), NET);
  { /* the CA as the API takes it: DER, base64 */
    unsigned char der[4096];
    FILE *d = fopen(tproc_path(dir, "ca.der"), "rb");
    size_t n = fread(der, 1, sizeof(der), d);
    fclose(d);
    EVP_EncodeBlock((unsigned char *)b64, der, (int)n);
  }
  f = fopen(hooks, "w");
  fprintf(f, "name: projects/p/locations/us-central1/agents/a/webhooks/orders\n"
          "displayName: orders\n"
          "serviceDirectory:\n"
          "  service: " SVC "\n"
          "  genericWebService: {uri: '" URL "', allowedCaCerts: ['%s']}\n", b64);
  fclose(f);
  ck_assert_msg(tproc_run(&run, ok_argv) == 0, "%s", tcert_slurp(run.log));
  ck_assert_msg(tproc_log_has(&run, "[ok]   endpoints EP_PORT_OPEN") &&
                tproc_log_has(&run, "[ok]   tls       TLS_OK") &&
                tproc_log_has(&run, "nothing wrong found"), "%s", run.log);
  tproc_rmdir(run.dir);
  memset(&run, 0, sizeof(run));
  ck_assert_int_eq(tproc_run(&run, json_argv), 3); /* no --lab: loopback */
  {
    char *text = tcert_slurp(run.log);
    json_t *j = json_loads(text, 0, NULL);
    ck_assert_msg(j, "%s", text);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "problems")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
                         json_object_get(j, "findings"), 3), "code")), "EP_ADDRESS_LOOPBACK");
    json_decref(j);
    free(text);
  }
  tproc_rmdir(run.dir);
  memset(&run, 0, sizeof(run));
  f = fopen(hooks, "w"); /* a file the API would refuse: that is the finding */
  fputs("name: projects/p/locations/us-central1/agents/a/webhooks/orders\n"
        "displayName: orders\ntimeout: 40s\n"
        "serviceDirectory:\n  service: " SVC "\n  genericWebService: {uri: '" URL "'}\n", f);
  fclose(f);
  ck_assert_int_eq(tproc_run(&run, ok_argv), 3);
  ck_assert_msg(tproc_log_has(&run, "[FAIL] config    CONFIG_INVALID"), "%s", run.log);
  tproc_rmdir(run.dir);
  memset(&run, 0, sizeof(run));
  ck_assert_int_eq(tproc_run(&run, usage_argv), 2);
  ck_assert(tproc_log_has(&run, "--url"));
  tproc_rmdir(run.dir);
}
END_TEST

static char *slurp(const char *rel)
{
  char path[512];

  snprintf(path, sizeof(path), "%s/%s", SDC_SOURCE_DIR, rel);
  return tcert_slurp(path);
}

/* Every code the sources can report is in docs/diagnose.md's tables. */
START_TEST(every_code_is_documented)
{
  static const char *const sources[] = {"src/lib/diagnose/diagnose.c",
                                        "src/lib/diagnose/directory.c",
                                        "src/lib/diagnose/endpoints.c",
                                        "src/lib/diagnose/tls.c", "src/lib/diagnose/http.c",
                                        "src/lib/diagnose/checkrun.c",
                                        "src/lib/diagnose/iam.c",
                                        "src/cli/cmd_diagnose.c"};
  char *doc = slurp("docs/diagnose.md");
  size_t codes = 0;

  ck_assert_ptr_nonnull(doc);
  for(size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
    char *text = slurp(sources[i]);
    ck_assert_ptr_nonnull(text);
    for(const char *p = text; (p = strchr(p, '"')); p++) { /* "UPPER_CASE" literals */
      size_t n = strspn(p + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_");
      char code[64];
      if(n < 6 || n > 40 || p[1 + n] != '"' || !memchr(p + 1, '_', n))
        continue;
      snprintf(code, sizeof(code), "| `%.*s` |", (int)n, p + 1);
      ck_assert_msg(strstr(doc, code), "%s reports %.*s, not in docs/diagnose.md", sources[i],
                    (int)n, p + 1);
      codes++;
      p += n + 1;
    }
    free(text);
  }
  ck_assert_int_ge(codes, 20);
  free(doc);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("diagnose");
  TCase *tc = tcase_create("diagnose");

  tproc_secret("the admin's token", "admin-tok"); /* never in what sdconnect says */
  tproc_secret("the agent's token", "agent-tok");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, a_good_path_has_nothing_to_say);
  tcase_add_test(tc, each_misconfiguration_is_named);
  tcase_add_test(tc, tls_faults_are_named_one_by_one);
  tcase_add_test(tc, a_real_call_is_judged_as_dialogflow_judges_it);
  tcase_add_test(tc, a_private_uptime_check_is_walked_and_run);
  tcase_add_test(tc, the_principal_google_uses_is_asked_what_it_may_do);
  tcase_add_test(tc, the_directory_says_which_part_is_missing);
  tcase_add_test(tc, the_configuration_is_checked_first);
  tcase_add_test(tc, addresses_and_networks_are_classified);
  tcase_add_test(tc, the_command_prints_findings_and_exits_3);
  tcase_add_test(tc, every_code_is_documented);
  suite_add_tcase(s, tc);
  return test_run_all(srunner_create(s));
}
