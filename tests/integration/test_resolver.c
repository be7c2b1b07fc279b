/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration: the resolver library and the CLI against the real
 * `sdconnect sd-server` process on 127.0.0.1, with token endpoints and the
 * metadata server played by loopback fakes. RPCs are counted on the server
 * side, from its debug log (one `rpc=ResolveService` line per call).
 */
#include "certs.h"
#include "fakehttp.h"
#include "proc.h"
#include "run_all.h"

#include <sdconnect/sdconnect.h>

#include <check.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SEED SDC_SOURCE_DIR "/deploy/config/registry.yaml"
#define WEBHOOK "projects/demo-project/locations/us-central1/namespaces/demo/services/webhook"
#define DEMO_NS "projects/demo-project/locations/us-central1/namespaces/demo"

static struct tproc srv;
static char dir[64];

static void sleep_ms(int ms)
{
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void start_sd(const char *const *extra)
{
  const char *argv[32] = {tproc_sdconnect(), "sd-server", "--memory", "--listen",
                          "127.0.0.1:0", "--log-level", "debug", "--seed", SEED};
  size_t n = 9;

  for(size_t i = 0; extra && extra[i]; i++)
    argv[n++] = extra[i];
  argv[n] = NULL;
  memset(&srv, 0, sizeof(srv));
  ck_assert_msg(tproc_start(&srv, argv, true) == 0, "sd-server did not start: %s", srv.log);
}

static void setup(void)
{
  ck_assert_int_eq(sdc_global_init(NULL), SDC_OK);
  ck_assert_int_eq(tproc_tmpdir(dir), 0);
  /* never look at this machine's real credentials or DMI */
  unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
  unsetenv("GCE_METADATA_HOST");
  setenv("HOME", dir, 1);
  unsetenv("CLOUDSDK_CONFIG");
  {
    char dmi[128];
    FILE *f;
    snprintf(dmi, sizeof(dmi), "%s/product_name", dir);
    f = fopen(dmi, "w");
    fputs("Standard PC (test)\n", f);
    fclose(f);
    setenv("SDCONNECT_DMI_PRODUCT_NAME", dmi, 1);
  }
}

static void teardown(void)
{
  if(srv.pid > 0)
    tproc_stop(&srv, 10000);
  tproc_rmdir(srv.dir);
  tproc_rmdir(dir);
  sdc_global_cleanup();
}

/* Resolver to the local server, plaintext, with a short policy. */
static sdc_resolver *local_resolver(uint64_t ttl, uint64_t neg_ttl, unsigned attempts)
{
  sdc_resolver_opts *o = NULL;
  sdc_resolver *r = NULL;
  char ep[64], err[512];

  snprintf(ep, sizeof(ep), "127.0.0.1:%d", srv.port);
  ck_assert_int_eq(sdc_resolver_opts_new(&o), SDC_OK);
  ck_assert_int_eq(sdc_resolver_opts_set_endpoint(o, ep), SDC_OK);
  sdc_resolver_opts_set_plaintext(o, 1);
  sdc_resolver_opts_set_cache_ttl_ms(o, ttl);
  sdc_resolver_opts_set_negative_ttl_ms(o, neg_ttl);
  ck_assert_int_eq(sdc_resolver_opts_set_max_attempts(o, attempts), SDC_OK);
  ck_assert_int_eq(sdc_resolver_opts_set_backoff_ms(o, 20, 200), SDC_OK);
  ck_assert_int_eq(sdc_resolver_opts_set_timeout_ms(o, 3000), SDC_OK);
  ck_assert_int_eq(sdc_resolver_new(&r, o, err, sizeof(err)), SDC_OK);
  sdc_resolver_opts_free(o);
  return r;
}

/* Server-side count of ResolveService calls; waits (bounded) until the log
 * holds at least `at_least`, since a line is written after the answer. */
static unsigned resolve_rpcs(unsigned at_least)
{
  unsigned n = 0;

  for(int i = 0; i < 100; i++) {
    n = tproc_log_count(&srv, "rpc=ResolveService");
    if(n >= at_least)
      break;
    sleep_ms(20);
  }
  sleep_ms(50); /* let any extra line land, so "exactly" means exactly */
  return tproc_log_count(&srv, "rpc=ResolveService");
}

START_TEST(resolves_then_serves_from_cache_until_ttl)
{
  sdc_resolver *r;
  const sdc_service *s = NULL;
  sdc_resolve_info info;

  start_sd(NULL);
  r = local_resolver(300, 0, 1);
  ck_assert_int_eq(sdc_resolve(r, WEBHOOK, 0, NULL, &s, &info), SDC_OK);
  ck_assert_int_eq(info.from_cache, 0);
  ck_assert_str_eq(s->name, WEBHOOK);
  ck_assert_uint_eq(s->n_endpoints, 2);
  ck_assert_str_eq(s->endpoints[0].address, "127.0.0.1");
  ck_assert_int_eq(s->endpoints[0].port, 8443);
  ck_assert_str_eq(s->endpoints[0].network,
                   "projects/123456789012/locations/global/networks/default");
  ck_assert_int_eq(s->endpoints[0].usable, 1);
  ck_assert_str_eq(s->annotations[0].key, "owner");
  ck_assert_uint_eq(strlen(s->endpoints[0].uid), 36);
  /* the accessor programs are told to use: the same endpoints, NULL past them */
  ck_assert_ptr_eq(sdc_service_endpoint(s, 0), &s->endpoints[0]);
  ck_assert_ptr_eq(sdc_service_endpoint(s, 1), &s->endpoints[1]);
  ck_assert_ptr_null(sdc_service_endpoint(s, 2));
  ck_assert_ptr_null(sdc_service_endpoint(NULL, 0));
  sdc_service_release(s);
  ck_assert_int_eq(sdc_resolve(r, WEBHOOK, 0, NULL, &s, &info), SDC_OK);
  ck_assert_int_eq(info.from_cache, 1);
  sdc_service_release(s);
  ck_assert_uint_eq(resolve_rpcs(1), 1);
  sleep_ms(400); /* past the TTL: asks again */
  ck_assert_int_eq(sdc_resolve(r, WEBHOOK, 0, NULL, &s, &info), SDC_OK);
  ck_assert_int_eq(info.from_cache, 0);
  sdc_service_release(s);
  ck_assert_uint_eq(resolve_rpcs(2), 2);
  /* another filter is another question */
  ck_assert_int_eq(sdc_resolve(r, WEBHOOK, 0, "annotations.zone=us-central1-b", &s, &info),
                   SDC_OK);
  ck_assert_uint_eq(s->n_endpoints, 1);
  ck_assert_str_eq(s->endpoints[0].address, "::1");
  sdc_service_release(s);
  sdc_resolver_free(r);
}
END_TEST

struct racer {
  sdc_resolver *r;
  pthread_barrier_t *go;
  sdc_status st;
};

static void *race(void *p)
{
  struct racer *x = p;
  const sdc_service *s = NULL;

  pthread_barrier_wait(x->go);
  x->st = sdc_resolve(x->r, WEBHOOK, 0, NULL, &s, NULL);
  sdc_service_release(s);
  return NULL;
}

START_TEST(concurrent_identical_resolves_make_one_rpc)
{
  pthread_t th[16];
  struct racer x[16];
  pthread_barrier_t go;
  sdc_resolver *r;

  start_sd(NULL);
  r = local_resolver(60000, 0, 1);
  pthread_barrier_init(&go, NULL, 16);
  for(int i = 0; i < 16; i++) {
    x[i] = (struct racer){r, &go, SDC_EINTERNAL};
    pthread_create(&th[i], NULL, race, &x[i]);
  }
  for(int i = 0; i < 16; i++) {
    pthread_join(th[i], NULL);
    ck_assert_int_eq(x[i].st, SDC_OK);
  }
  ck_assert_uint_eq(resolve_rpcs(1), 1);
  pthread_barrier_destroy(&go);
  sdc_resolver_free(r);
}
END_TEST

START_TEST(stale_answer_when_directory_is_down)
{
  sdc_resolver *r;
  const sdc_service *s = NULL;
  sdc_resolve_info info;

  start_sd(NULL);
  r = local_resolver(50, 0, 2);
  ck_assert_int_eq(sdc_resolve(r, WEBHOOK, 0, NULL, &s, &info), SDC_OK);
  sdc_service_release(s);
  ck_assert_int_eq(tproc_stop(&srv, 10000), 0); /* by PID */
  sleep_ms(100);
  ck_assert_int_eq(sdc_resolve(r, WEBHOOK, 0, NULL, &s, &info), SDC_OK);
  ck_assert_int_eq(info.stale, 1);
  ck_assert_uint_ge(info.age_ms, 100);
  ck_assert_uint_eq(s->n_endpoints, 2);
  ck_assert_ptr_nonnull(strstr(sdc_resolver_errmsg(r), "UNAVAILABLE"));
  sdc_service_release(s);
  /* a name never resolved has nothing stale to offer */
  ck_assert_int_eq(sdc_resolve(r, DEMO_NS "/services/uptime-target", 0, NULL, &s, &info),
                   SDC_EUNAVAILABLE);
  ck_assert_ptr_nonnull(strstr(sdc_resolver_errmsg(r), "127.0.0.1:"));
  sdc_resolver_free(r);
}
END_TEST

struct later {
  sdc_resolver *r;
  sdc_status st;
  char msg[1024];
};

static void *resolve_later(void *p)
{
  struct later *l = p;
  const sdc_service *s = NULL;

  l->st = sdc_resolve(l->r, WEBHOOK, 0, NULL, &s, NULL);
  snprintf(l->msg, sizeof(l->msg), "%s", sdc_resolver_errmsg(l->r));
  sdc_service_release(s);
  return NULL;
}

START_TEST(retries_reach_a_directory_that_comes_back)
{
  char listen[64];
  const char *extra[] = {NULL};
  const char *argv[] = {tproc_sdconnect(), "sd-server", "--memory", "--listen", listen,
                        "--log-level", "debug", "--seed", SEED, NULL};
  struct later l;
  pthread_t th;
  sdc_resolver_opts *o = NULL;
  char ep[64], err[256];
  int port;

  start_sd(extra); /* learn a free port, then free it */
  port = srv.port;
  ck_assert_int_eq(tproc_stop(&srv, 10000), 0);
  snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
  snprintf(ep, sizeof(ep), "127.0.0.1:%d", port);
  sdc_resolver_opts_new(&o);
  sdc_resolver_opts_set_endpoint(o, ep);
  sdc_resolver_opts_set_plaintext(o, 1);
  sdc_resolver_opts_set_max_attempts(o, 10);
  sdc_resolver_opts_set_backoff_ms(o, 100, 400);
  sdc_resolver_opts_set_timeout_ms(o, 20000);
  ck_assert_int_eq(sdc_resolver_new(&l.r, o, err, sizeof(err)), SDC_OK);
  sdc_resolver_opts_free(o);
  pthread_create(&th, NULL, resolve_later, &l);
  sleep_ms(300); /* the first attempts find nobody */
  ck_assert_msg(tproc_start(&srv, argv, true) == 0, "restart failed: %s", srv.log);
  pthread_join(th, NULL);
  ck_assert_msg(l.st == SDC_OK, "status %d: %s", l.st, l.msg);
  sdc_resolver_free(l.r);
}
END_TEST

START_TEST(not_found_is_remembered_then_forgotten)
{
  sdc_resolver *r;
  const sdc_service *s = NULL;
  sdc_sd_resource *in = NULL, *out = NULL;

  start_sd(NULL);
  r = local_resolver(0, 400, 4);
  ck_assert_int_eq(sdc_resolve(r, DEMO_NS "/services/late", 0, NULL, &s, NULL), SDC_ENOTFOUND);
  ck_assert_ptr_nonnull(strstr(sdc_resolver_errmsg(r), "service '" DEMO_NS "/services/late' "
                                                       "not found"));
  ck_assert_int_eq(sdc_resolver_grpc_status(r), 5);
  ck_assert_uint_eq(resolve_rpcs(1), 1); /* NOT_FOUND is not retried */
  ck_assert_int_eq(sdc_sd_resource_new(&in, SDC_SD_SERVICE, DEMO_NS "/services/late"), SDC_OK);
  ck_assert_int_eq(sdc_sd_create(r, in, &out), SDC_OK);
  ck_assert_str_eq(sdc_sd_resource_name(out), DEMO_NS "/services/late");
  ck_assert_uint_eq(strlen(sdc_sd_resource_uid(out)), 36); /* the directory's */
  sdc_sd_resource_free(out);
  sdc_sd_resource_free(in);
  ck_assert_int_eq(sdc_resolve(r, DEMO_NS "/services/late", 0, NULL, &s, NULL), SDC_ENOTFOUND);
  ck_assert_ptr_nonnull(strstr(sdc_resolver_errmsg(r), "remembered"));
  ck_assert_uint_eq(resolve_rpcs(1), 1);
  sleep_ms(500);
  ck_assert_int_eq(sdc_resolve(r, DEMO_NS "/services/late", 0, NULL, &s, NULL), SDC_OK);
  sdc_service_release(s);
  sdc_resolver_free(r);
}
END_TEST

START_TEST(cached_lookup_never_asks_the_directory)
{
  sdc_resolver *r;
  const sdc_service *s = NULL;
  sdc_resolve_info info;

  start_sd(NULL);
  r = local_resolver(60000, 60000, 1);
  ck_assert_int_eq(sdc_resolve_cached(r, WEBHOOK, 0, NULL, &s, &info), SDC_EAGAIN);
  ck_assert_int_eq(sdc_resolve_cached(r, "", 0, NULL, &s, &info), SDC_EINVAL);
  ck_assert_uint_eq(resolve_rpcs(0), 0);
  ck_assert_int_eq(sdc_resolve(r, WEBHOOK, 0, NULL, &s, &info), SDC_OK);
  sdc_service_release(s);
  s = NULL;
  ck_assert_int_eq(sdc_resolve_cached(r, WEBHOOK, 0, NULL, &s, &info), SDC_OK);
  ck_assert_str_eq(s->name, WEBHOOK);
  ck_assert_int_eq(info.from_cache, 1);
  sdc_service_release(s);
  /* another max_endpoints is another question; invalidation forgets */
  ck_assert_int_eq(sdc_resolve_cached(r, WEBHOOK, 1, NULL, &s, &info), SDC_EAGAIN);
  sdc_resolver_invalidate(r, WEBHOOK);
  ck_assert_int_eq(sdc_resolve_cached(r, WEBHOOK, 0, NULL, &s, &info), SDC_EAGAIN);
  /* a remembered NOT_FOUND is told as such */
  ck_assert_int_eq(sdc_resolve(r, DEMO_NS "/services/nope", 0, NULL, &s, NULL), SDC_ENOTFOUND);
  ck_assert_int_eq(sdc_resolve_cached(r, DEMO_NS "/services/nope", 0, NULL, &s, NULL),
                   SDC_ENOTFOUND);
  ck_assert_ptr_nonnull(strstr(sdc_resolver_errmsg(r), "remembered"));
  ck_assert_uint_eq(resolve_rpcs(2), 2); /* only the two sdc_resolve calls */
  sdc_resolver_free(r);
}
END_TEST

struct async_box {
  pthread_mutex_t m;
  pthread_cond_t cv;
  int calls;
  sdc_status st;
  size_t n;
};

static void on_resolved(sdc_status st, const sdc_service *svc, const sdc_resolve_info *info,
                        const char *errmsg, void *ud)
{
  struct async_box *b = ud;

  (void)info;
  (void)errmsg;
  pthread_mutex_lock(&b->m);
  b->calls++;
  b->st = st;
  b->n = svc ? svc->n_endpoints : 0;
  pthread_cond_signal(&b->cv);
  pthread_mutex_unlock(&b->m);
  sdc_service_release(svc);
}

START_TEST(async_resolve_calls_back_exactly_once)
{
  struct async_box b = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, SDC_EINTERNAL, 0};
  sdc_resolver *r;

  start_sd(NULL);
  r = local_resolver(1000, 0, 1);
  ck_assert_int_eq(sdc_resolve_async(r, WEBHOOK, 0, NULL, on_resolved, &b), SDC_OK);
  ck_assert_int_eq(sdc_resolve_async(r, "", 0, NULL, on_resolved, &b), SDC_EINVAL);
  pthread_mutex_lock(&b.m);
  for(int i = 0; i < 100 && b.calls == 0; i++) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 1;
    pthread_cond_timedwait(&b.cv, &b.m, &ts);
  }
  pthread_mutex_unlock(&b.m);
  sdc_resolver_free(r); /* waits for queued callbacks */
  ck_assert_int_eq(b.calls, 1);
  ck_assert_int_eq(b.st, SDC_OK);
  ck_assert_uint_eq(b.n, 2);
}
END_TEST

/* ---- TLS, mTLS, tokens ---------------------------------------------------- */
static void write_file(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
}

static const char *path_in(const char *name) { return tproc_path(dir, name); }

static void make_tls_files(void)
{
  struct tcert_opts ca_o = {"resolver test CA", NULL, -1, 30, true, false};
  struct tcert_opts srv_o = {"localhost", "DNS:localhost,IP:127.0.0.1", -1, 30, false, false};
  struct tcert_opts cli_o = {"resolver test client", NULL, -1, 30, false, true};
  struct tcert *ca = tcert_new(&ca_o, NULL), *s = tcert_new(&srv_o, ca), *c = tcert_new(&cli_o, ca);

  ck_assert(ca && s && c);
  ck_assert_int_eq(tcert_write(ca, dir, "ca"), 0);
  ck_assert_int_eq(tcert_write(s, dir, "server"), 0);
  ck_assert_int_eq(tcert_write(c, dir, "client"), 0);
  tcert_free(ca);
  tcert_free(s);
  tcert_free(c);
}

static void start_tls_sd(const char *token)
{
  char cert[256], key[256], ca[256], tok[256];
  const char *extra[] = {"--tls-cert", cert, "--tls-key", key, "--client-ca", ca,
                         "--token-file", tok, NULL};

  snprintf(cert, sizeof(cert), "%s/server.pem", dir);
  snprintf(key, sizeof(key), "%s/server.key", dir);
  snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
  snprintf(tok, sizeof(tok), "%s/server-token", dir);
  write_file(tok, token);
  start_sd(extra);
}

/* A resolver with the test CA and client certificate; creds: NULL, a
 * token, or "google:<file or empty>". */
static sdc_status tls_resolver(const char *creds, sdc_resolver **r, char *err)
{
  sdc_resolver_opts *o = NULL;
  char ep[64];
  char *ca = tcert_slurp(path_in("ca.pem")), *cert = tcert_slurp(path_in("client.pem")),
       *key = tcert_slurp(path_in("client.key"));
  sdc_status st;

  snprintf(ep, sizeof(ep), "127.0.0.1:%d", srv.port);
  sdc_resolver_opts_new(&o);
  sdc_resolver_opts_set_endpoint(o, ep);
  sdc_resolver_opts_set_ca_pem(o, ca);
  sdc_resolver_opts_set_client_cert_pem(o, cert, key);
  sdc_resolver_opts_set_max_attempts(o, 1);
  sdc_resolver_opts_set_timeout_ms(o, 5000);
  if(creds && !strncmp(creds, "google:", 7))
    sdc_resolver_opts_set_google_credentials(o, creds[7] ? creds + 7 : NULL);
  else if(creds)
    sdc_resolver_opts_set_bearer_token(o, creds);
  st = sdc_resolver_new(r, o, err, 512);
  sdc_resolver_opts_free(o);
  free(ca);
  free(cert);
  free(key);
  return st;
}

static sdc_status resolve_once(sdc_resolver *r)
{
  const sdc_service *s = NULL;
  sdc_status st = sdc_resolve(r, WEBHOOK, 0, NULL, &s, NULL);

  sdc_service_release(s);
  return st;
}

START_TEST(tls_mtls_and_token)
{
  sdc_resolver *r = NULL;
  char err[512];

  make_tls_files();
  start_tls_sd("right-token\n");
  ck_assert_int_eq(tls_resolver("right-token", &r, err), SDC_OK);
  ck_assert_int_eq(resolve_once(r), SDC_OK); /* token through the gRPC plugin */
  sdc_resolver_free(r);
  ck_assert_int_eq(tls_resolver("wrong-token", &r, err), SDC_OK);
  ck_assert_int_eq(resolve_once(r), SDC_EPERM);
  ck_assert_int_eq(sdc_resolver_grpc_status(r), 7);
  sdc_resolver_free(r);
  ck_assert_int_eq(tls_resolver(NULL, &r, err), SDC_OK);
  ck_assert_int_eq(resolve_once(r), SDC_EPERM);
  ck_assert_int_eq(sdc_resolver_grpc_status(r), 16);
  sdc_resolver_free(r);
  ck_assert(!tproc_log_has(&srv, "right-token"));
}
END_TEST

START_TEST(plaintext_token_goes_as_metadata)
{
  char tok[256];
  const char *extra[] = {"--token-file", tok, NULL};
  sdc_resolver_opts *o = NULL;
  sdc_resolver *r = NULL;
  char ep[64], err[256];

  snprintf(tok, sizeof(tok), "%s/t", dir);
  write_file(tok, "plain-token\n");
  start_sd(extra);
  snprintf(ep, sizeof(ep), "127.0.0.1:%d", srv.port);
  sdc_resolver_opts_new(&o);
  sdc_resolver_opts_set_endpoint(o, ep);
  sdc_resolver_opts_set_plaintext(o, 1);
  sdc_resolver_opts_set_bearer_token(o, "plain-token");
  ck_assert_int_eq(sdc_resolver_new(&r, o, err, sizeof(err)), SDC_OK);
  ck_assert_int_eq(resolve_once(r), SDC_OK);
  sdc_resolver_free(r);
  sdc_resolver_opts_free(o);
}
END_TEST

/* ---- Google credentials, every source played on loopback ------------------ */
struct token_fake {
  const char *expect_in_body;   /* must appear in the request body */
  const char *expect_header;    /* must appear in the header block */
  const char *token;
  int bad;                      /* requests that did not match */
};

static void token_answer(const struct fakehttp_req *req, int *status, char *body, size_t cap,
                         void *ud)
{
  struct token_fake *f = ud;

  if((f->expect_in_body && !strstr(req->body, f->expect_in_body)) ||
     (f->expect_header && !strstr(req->headers, f->expect_header))) {
    f->bad++;
    *status = 400;
    snprintf(body, cap, "{\"error\":\"invalid_grant\",\"error_description\":\"unexpected "
             "request\"}");
    return;
  }
  *status = 200;
  snprintf(body, cap, "{\"access_token\":\"%s\",\"expires_in\":3600,\"token_type\":\"Bearer\"}",
           f->token);
}

/* Write a service-account key file whose token_uri is the fake. */
static void write_sa_key(const char *path, int port, EVP_PKEY **pub)
{
  EVP_PKEY *k = EVP_RSA_gen(2048);
  BIO *b = BIO_new(BIO_s_mem());
  char *pem;
  long n;
  json_t *j;
  char uri[128];

  ck_assert_ptr_nonnull(k);
  PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
  n = BIO_get_mem_data(b, &pem);
  snprintf(uri, sizeof(uri), "http://127.0.0.1:%d/token", port);
  j = json_pack("{s:s, s:s, s:s%, s:s, s:s, s:s}", "type", "service_account", "project_id",
                "test-proj", "private_key", pem, (size_t)n, "private_key_id", "kid-1",
                "client_email", "sd-test@test-proj.iam.gserviceaccount.com", "token_uri", uri);
  ck_assert_int_eq(json_dump_file(j, path, 0), 0);
  json_decref(j);
  BIO_free(b);
  *pub = k;
}

/* Check the JWT the fake received: RS256 signature by `key`, claims. */
static void check_jwt(const char *body, EVP_PKEY *key, int port)
{
  const char *a = strstr(body, "assertion=");
  char jwt[4096], aud[128];
  char *dot1, *dot2;
  unsigned char sig[512], claims[2048];
  size_t n;
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  BIO *b64, *mem;
  int len;

  ck_assert_ptr_nonnull(a);
  snprintf(jwt, sizeof(jwt), "%s", a + 10);
  jwt[strcspn(jwt, "&")] = '\0';
  dot1 = strchr(jwt, '.');
  dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
  ck_assert_ptr_nonnull(dot2);
  /* base64url -> base64 for OpenSSL's decoder */
  for(char *p = jwt; *p; p++)
    *p = *p == '-' ? '+' : *p == '_' ? '/' : *p;
  {
    char s64[1024];
    size_t l = strlen(dot2 + 1);
    snprintf(s64, sizeof(s64), "%s%s", dot2 + 1, l % 4 == 2 ? "==" : l % 4 == 3 ? "=" : "");
    n = (size_t)EVP_DecodeBlock(sig, (unsigned char *)s64, (int)strlen(s64));
    n -= l % 4 == 2 ? 2 : l % 4 == 3 ? 1 : 0;
  }
  *dot2 = '\0';
  ck_assert(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1);
  /* the signed input is the original base64url text: convert back */
  {
    char signed_in[4096];
    snprintf(signed_in, sizeof(signed_in), "%s", jwt);
    for(char *p = signed_in; *p; p++)
      *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
    ck_assert_int_eq(EVP_DigestVerify(md, sig, n, (unsigned char *)signed_in,
                                      strlen(signed_in)), 1);
  }
  EVP_MD_CTX_free(md);
  *dot1 = '\0';
  {
    char c64[2048];
    size_t l = strlen(dot1 + 1);
    snprintf(c64, sizeof(c64), "%s%s", dot1 + 1, l % 4 == 2 ? "==" : l % 4 == 3 ? "=" : "");
    mem = BIO_new_mem_buf(c64, -1);
    b64 = BIO_push(BIO_new(BIO_f_base64()), mem);
    BIO_set_flags(b64, BIO_FLAGS_BASE64_NO_NL);
    len = BIO_read(b64, claims, sizeof(claims) - 1);
    BIO_free_all(b64);
  }
  ck_assert_int_gt(len, 0);
  claims[len] = '\0';
  snprintf(aud, sizeof(aud), "\"aud\":\"http://127.0.0.1:%d/token\"", port);
  ck_assert_ptr_nonnull(strstr((char *)claims, "\"iss\":\"sd-test@test-proj.iam.gserviceaccount.com\""));
  ck_assert_ptr_nonnull(strstr((char *)claims, aud));
  ck_assert_ptr_nonnull(strstr((char *)claims, "cloud-platform"));
}

START_TEST(service_account_key_file_via_default_search)
{
  struct token_fake tf = {"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer",
                          "content-type: application/x-www-form-urlencoded", "sa-token-1", 0};
  int port;
  struct fakehttp *f = fakehttp_start(token_answer, &tf, &port);
  struct fakehttp_req last;
  EVP_PKEY *key = NULL;
  sdc_resolver *r = NULL;
  char err[512];

  make_tls_files();
  write_sa_key(path_in("sa.json"), port, &key);
  setenv("GOOGLE_APPLICATION_CREDENTIALS", path_in("sa.json"), 1);
  start_tls_sd("sa-token-1\n");
  ck_assert_msg(tls_resolver("google:", &r, err) == SDC_OK, "%s", err);
  ck_assert_int_eq(resolve_once(r), SDC_OK);
  ck_assert_int_eq(resolve_once(r), SDC_OK);
  sdc_resolver_free(r);
  ck_assert_uint_eq(fakehttp_count(f), 1); /* the token is cached */
  ck_assert_int_eq(tf.bad, 0);
  fakehttp_last(f, &last);
  ck_assert_str_eq(last.method, "POST");
  ck_assert_str_eq(last.path, "/token");
  check_jwt(last.body, key, port);
  EVP_PKEY_free(key);
  fakehttp_stop(f);
}
END_TEST

START_TEST(authorized_user_from_gcloud_adc_file)
{
  struct token_fake tf = {"grant_type=refresh_token&client_id=cid&client_secret=cs%2Fx"
                          "&refresh_token=rt-1", NULL, "user-token", 0};
  int port;
  struct fakehttp *f = fakehttp_start(token_answer, &tf, &port);
  sdc_resolver *r = NULL;
  char err[512], adc[512];

  make_tls_files();
  snprintf(adc, sizeof(adc), "{\"type\":\"authorized_user\",\"client_id\":\"cid\","
           "\"client_secret\":\"cs/x\",\"refresh_token\":\"rt-1\","
           "\"token_uri\":\"http://127.0.0.1:%d/token\"}", port);
  write_file(path_in("application_default_credentials.json"), adc);
  setenv("CLOUDSDK_CONFIG", dir, 1);
  start_tls_sd("user-token\n");
  ck_assert_msg(tls_resolver("google:", &r, err) == SDC_OK, "%s", err);
  ck_assert_int_eq(resolve_once(r), SDC_OK);
  sdc_resolver_free(r);
  ck_assert_uint_eq(fakehttp_count(f), 1);
  ck_assert_int_eq(tf.bad, 0);
  fakehttp_stop(f);
}
END_TEST

START_TEST(metadata_server_at_gce_metadata_host)
{
  struct token_fake tf = {NULL, "metadata-flavor: google", "md-token", 0};
  int port;
  struct fakehttp *f = fakehttp_start(token_answer, &tf, &port);
  struct fakehttp_req last;
  sdc_resolver *r = NULL;
  char err[512], host[64];

  make_tls_files();
  snprintf(host, sizeof(host), "127.0.0.1:%d", port);
  setenv("GCE_METADATA_HOST", host, 1);
  start_tls_sd("md-token\n");
  ck_assert_msg(tls_resolver("google:", &r, err) == SDC_OK, "%s", err);
  ck_assert_int_eq(resolve_once(r), SDC_OK);
  sdc_resolver_free(r);
  ck_assert_int_eq(tf.bad, 0);
  fakehttp_last(f, &last);
  ck_assert_str_eq(last.method, "GET");
  ck_assert_ptr_nonnull(strstr(last.path, "/computeMetadata/v1/instance/service-accounts/default/token"));
  fakehttp_stop(f);
}
END_TEST

START_TEST(refused_token_request_is_reported)
{
  struct token_fake tf = {"never-matches", NULL, "x", 0};
  int port;
  struct fakehttp *f = fakehttp_start(token_answer, &tf, &port);
  EVP_PKEY *key = NULL;
  sdc_resolver *r = NULL;
  char err[512];

  make_tls_files();
  write_sa_key(path_in("sa.json"), port, &key);
  start_tls_sd("t\n");
  ck_assert_int_eq(tls_resolver("google:", &r, err), SDC_ENOTFOUND); /* no default yet */
  {
    char spec[300];
    snprintf(spec, sizeof(spec), "google:%s", path_in("sa.json"));
    ck_assert_int_eq(tls_resolver(spec, &r, err), SDC_OK);
  }
  ck_assert_int_eq(resolve_once(r), SDC_EPERM);
  ck_assert_ptr_nonnull(strstr(sdc_resolver_errmsg(r), "HTTP 400: invalid_grant"));
  ck_assert_ptr_nonnull(strstr(sdc_resolver_errmsg(r), "service account sd-test@"));
  sdc_resolver_free(r);
  EVP_PKEY_free(key);
  fakehttp_stop(f);
}
END_TEST

START_TEST(no_credentials_fails_at_once_saying_where_it_looked)
{
  sdc_resolver_opts *o = NULL;
  sdc_resolver *r = NULL;
  char err[1024];
  struct tproc p = {0};
  const char *argv[] = {tproc_sdconnect(), "resolve", WEBHOOK, NULL};

  sdc_resolver_opts_new(&o);
  ck_assert_int_eq(sdc_resolver_new(&r, o, err, sizeof(err)), SDC_ENOTFOUND);
  ck_assert_ptr_nonnull(strstr(err, "GOOGLE_APPLICATION_CREDENTIALS is not set"));
  ck_assert_ptr_nonnull(strstr(err, "/.config/gcloud/application_default_credentials.json"));
  ck_assert_ptr_nonnull(strstr(err, "GCE_METADATA_HOST"));
  sdc_resolver_opts_free(o);
  /* the CLI says how to point it at a directory, and exits at once */
  unsetenv("SDCONNECT_SD_ENDPOINT");
  ck_assert_int_eq(tproc_tmpdir(p.dir), 0);
  ck_assert_int_eq(tproc_run(&p, argv), 2);
  ck_assert(tproc_log_has(&p, "hint: to use a local directory"));
  ck_assert(tproc_log_has(&p, "--sd-endpoint 127.0.0.1:8085 --insecure"));
  tproc_rmdir(p.dir);
}
END_TEST

START_TEST(compute_engine_is_recognised_without_network)
{
  sdc_resolver_opts *o = NULL;
  sdc_resolver *r = NULL;
  char err[512];

  write_file(path_in("gce"), "Google Compute Engine\n");
  setenv("SDCONNECT_DMI_PRODUCT_NAME", path_in("gce"), 1);
  sdc_resolver_opts_new(&o);
  /* creation finds the metadata source; no token is fetched, so nothing is
   * sent to the real metadata server */
  ck_assert_int_eq(sdc_resolver_new(&r, o, err, sizeof(err)), SDC_OK);
  sdc_resolver_free(r);
  sdc_resolver_opts_free(o);
}
END_TEST

/* ---- the CLI ------------------------------------------------------------- */
static int cli(struct tproc *p, const char *const *args)
{
  const char *argv[40] = {tproc_sdconnect()};
  char ep[64];
  size_t n = 1;
  int rc;

  for(size_t i = 0; args[i]; i++)
    argv[n++] = args[i];
  snprintf(ep, sizeof(ep), "127.0.0.1:%d", srv.port);
  argv[n++] = "--sd-endpoint";
  argv[n++] = ep;
  argv[n++] = "--insecure";
  argv[n] = NULL;
  unlink(p->log);
  rc = tproc_run(p, argv);
  if(rc) { /* expected or not, what it said is in ctest's output */
    char buf[2048] = "";
    FILE *f = fopen(p->log, "r");
    size_t got = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if(f)
      fclose(f);
    buf[got] = '\0';
    fprintf(stderr, "[sdconnect %s %s: exit %d]\n%s\n", args[0], args[1] ? args[1] : "",
            rc, buf);
  }
  return rc;
}

#define LOCFLAGS "--location", "us-central1", "--project", "demo-project"

START_TEST(cli_commands_round_trip)
{
  struct tproc p = {0};

  start_sd(NULL);
  ck_assert_int_eq(tproc_tmpdir(p.dir), 0);
  ck_assert_int_eq(cli(&p, (const char *[]){"namespaces", "create", "ops", LOCFLAGS,
                                            "--labels", "team=sre,env=test", NULL}), 0);
  ck_assert(tproc_log_has(&p, "name: projects/demo-project/locations/us-central1/namespaces/ops"));
  ck_assert(tproc_log_has(&p, "  team: sre"));
  ck_assert_int_eq(cli(&p, (const char *[]){"services", "create", "api", "--namespace", "ops",
                                            LOCFLAGS, "--annotations", "owner=me", NULL}), 0);
  ck_assert_int_eq(cli(&p, (const char *[]){"endpoints", "create", "a", "--service", "api",
                                            "--namespace", "ops", LOCFLAGS, "--address",
                                            "10.1.2.3", "--port", "443", "--network",
                                            "projects/42/locations/global/networks/vpc", NULL}),
                   0);
  ck_assert_int_eq(cli(&p, (const char *[]){"endpoints", "create",
                                            "projects/demo-project/locations/us-central1/"
                                            "namespaces/ops/services/api/endpoints/b",
                                            "--address", "2001:db8::7", "--port", "8443", NULL}),
                   0);
  ck_assert_int_eq(cli(&p, (const char *[]){"endpoints", "update", "a", "--service", "api",
                                            "--namespace", "ops", LOCFLAGS, "--port", "8443",
                                            "--json", NULL}), 0);
  ck_assert(tproc_log_has(&p, "\"port\": 8443"));
  ck_assert(tproc_log_has(&p, "\"network\": \"projects/42/locations/global/networks/vpc\""));
  ck_assert_int_eq(cli(&p, (const char *[]){"endpoints", "list", "--service", "api",
                                            "--namespace", "ops", LOCFLAGS, "--page-size", "1",
                                            NULL}), 0);
  ck_assert(tproc_log_has(&p, "10.1.2.3"));
  ck_assert(tproc_log_has(&p, "2001:db8::7")); /* second page followed */
  ck_assert_int_eq(cli(&p, (const char *[]){"endpoints", "list", "--service", "api",
                                            "--namespace", "ops", LOCFLAGS, "--filter",
                                            "port>8000", "--order-by", "address desc", "--json",
                                            NULL}), 0);
  ck_assert(tproc_log_has(&p, "\"address\": \"2001:db8::7\""));
  ck_assert_int_eq(cli(&p, (const char *[]){"resolve", "api", "--namespace", "ops", LOCFLAGS,
                                            "--max-endpoints", "1", "--json", NULL}), 0);
  ck_assert(tproc_log_has(&p, "\"service\": {"));
  ck_assert_int_eq(tproc_log_count(&p, "\"address\""), 1);
  ck_assert_int_eq(cli(&p, (const char *[]){"services", "describe", "api", "--namespace", "ops",
                                            LOCFLAGS, NULL}), 0);
  ck_assert(tproc_log_has(&p, "  owner: me"));
  ck_assert_int_eq(cli(&p, (const char *[]){"namespaces", "list", LOCFLAGS, "--json", NULL}), 0);
  ck_assert(tproc_log_has(&p, "\"labels\""));
  ck_assert_int_eq(cli(&p, (const char *[]){"services", "update", "api", "--namespace", "ops",
                                            LOCFLAGS, "--annotations", "owner=you", NULL}), 0);
  ck_assert(tproc_log_has(&p, "  owner: you"));
  ck_assert_int_eq(cli(&p, (const char *[]){"services", "list", "--namespace", "ops", LOCFLAGS,
                                            NULL}), 0);
  ck_assert(tproc_log_has(&p, "owner=you"));
  ck_assert_int_eq(cli(&p, (const char *[]){"endpoints", "describe", "b", "--service", "api",
                                            "--namespace", "ops", LOCFLAGS, NULL}), 0);
  ck_assert(tproc_log_has(&p, "address: 2001:db8::7"));
  ck_assert_int_eq(cli(&p, (const char *[]){"endpoints", "delete", "b", "--service", "api",
                                            "--namespace", "ops", LOCFLAGS, NULL}), 0);
  ck_assert_int_eq(cli(&p, (const char *[]){"endpoints", "describe", "b", "--service", "api",
                                            "--namespace", "ops", LOCFLAGS, NULL}), 1);
  ck_assert_int_eq(cli(&p, (const char *[]){"namespaces", "describe",
                                            "projects/demo-project/locations/us-central1/"
                                            "namespaces/ops", NULL}), 0);
  ck_assert(tproc_log_has(&p, "  env: test"));
  ck_assert_int_eq(cli(&p, (const char *[]){"namespaces", "update", "ops", LOCFLAGS, "--labels",
                                            "team=platform", NULL}), 0);
  ck_assert(tproc_log_has(&p, "  team: platform"));
  ck_assert_int_eq(cli(&p, (const char *[]){"namespaces", "delete", "ops", LOCFLAGS, NULL}), 0);
  ck_assert_int_eq(cli(&p, (const char *[]){"services", "describe", "api", "--namespace", "ops",
                                            LOCFLAGS, NULL}), 1);
  ck_assert(tproc_log_has(&p, "NOT_FOUND: namespace '"));
  ck_assert(tproc_log_has(&p, "hint:"));
  tproc_rmdir(p.dir);
}
END_TEST

START_TEST(cli_bad_input_gets_exit_2_and_a_hint)
{
  struct tproc p = {0};

  start_sd(NULL);
  ck_assert_int_eq(tproc_tmpdir(p.dir), 0);
  ck_assert_int_eq(cli(&p, (const char *[]){"endpoints", "create", "x", "--service", "webhook",
                                            "--namespace", "demo", LOCFLAGS, "--address",
                                            "10.0.0.300", NULL}), 2);
  ck_assert(tproc_log_has(&p, "endpoint.address: '10.0.0.300'"));
  ck_assert_int_eq(cli(&p, (const char *[]){"services", "describe", "webhook", "--namespace",
                                            "demo", "--project", "demo-project", NULL}), 2);
  ck_assert(tproc_log_has(&p, "no location: give --location"));
  ck_assert_int_eq(cli(&p, (const char *[]){"resolve", WEBHOOK, "--max-endpoints", "500", NULL}),
                   2);
  ck_assert_int_eq(cli(&p, (const char *[]){"resolve", WEBHOOK, "--timeout", "soon", NULL}), 2);
  ck_assert(tproc_log_has(&p, "--timeout: 'soon'"));
  ck_assert_int_eq(cli(&p, (const char *[]){"resolve", WEBHOOK, "--filter", "port>", NULL}), 2);
  ck_assert(tproc_log_has(&p, "endpoint_filter"));
  ck_assert_int_eq(cli(&p, (const char *[]){"namespaces", "frobnicate", NULL}), 2);
  ck_assert_int_eq(cli(&p, (const char *[]){"endpoints", "update", "webhook-a", "--service",
                                            "webhook", "--namespace", "demo", LOCFLAGS, NULL}),
                   2);
  ck_assert(tproc_log_has(&p, "nothing to update"));
  tproc_rmdir(p.dir);
}
END_TEST

START_TEST(cli_permission_denied_names_permission_and_role)
{
  struct tproc p = {0};
  char tok[256], bad[256], ep[64];
  const char *extra[] = {"--token-file", tok, NULL};

  snprintf(tok, sizeof(tok), "%s/server-token", dir);
  snprintf(bad, sizeof(bad), "%s/client-token", dir);
  write_file(tok, "good\n");
  write_file(bad, "bad\n");
  start_sd(extra);
  snprintf(ep, sizeof(ep), "127.0.0.1:%d", srv.port);
  ck_assert_int_eq(tproc_tmpdir(p.dir), 0);
  {
    const char *argv[] = {tproc_sdconnect(), "resolve", WEBHOOK, "--sd-endpoint", ep,
                          "--insecure", "--token-file", bad, NULL};
    ck_assert_int_eq(tproc_run(&p, argv), 1);
    ck_assert(tproc_log_has(&p, "PERMISSION_DENIED"));
    ck_assert(tproc_log_has(&p, "servicedirectory.services.resolve"));
    ck_assert(tproc_log_has(&p, "roles/servicedirectory.viewer"));
    ck_assert(!tproc_log_has(&p, "bad\n"));
  }
  unlink(p.log);
  {
    const char *argv[] = {tproc_sdconnect(), "endpoints", "delete", "webhook-a", "--service",
                          "webhook", "--namespace", "demo", LOCFLAGS, "--sd-endpoint", ep,
                          "--insecure", "--token-file", bad, NULL};
    ck_assert_int_eq(tproc_run(&p, argv), 1);
    ck_assert(tproc_log_has(&p, "servicedirectory.endpoints.delete"));
    ck_assert(tproc_log_has(&p, "roles/servicedirectory.editor"));
  }
  unlink(p.log);
  {
    const char *argv[] = {tproc_sdconnect(), "resolve", WEBHOOK, "--sd-endpoint", ep,
                          "--insecure", NULL};
    ck_assert_int_eq(tproc_run(&p, argv), 1);
    ck_assert(tproc_log_has(&p, "UNAUTHENTICATED"));
    ck_assert(tproc_log_has(&p, "did not accept the credentials"));
  }
  tproc_rmdir(p.dir);
}
END_TEST

START_TEST(cli_unreachable_directory_names_it)
{
  struct tproc p = {0};
  const char *argv[] = {tproc_sdconnect(), "resolve", WEBHOOK, "--sd-endpoint",
                        "127.0.0.1:1", "--insecure", "--timeout", "1s", NULL};

  ck_assert_int_eq(tproc_tmpdir(p.dir), 0);
  ck_assert_int_eq(tproc_run(&p, argv), 1);
  ck_assert(tproc_log_has(&p, "via 127.0.0.1:1: UNAVAILABLE"));
  ck_assert(tproc_log_has(&p, "hint: is the directory running and reachable at 127.0.0.1:1"));
  tproc_rmdir(p.dir);
}
END_TEST

static Suite *resolver_suite(void)
{
  Suite *s = suite_create("resolver");
  TCase *cache = tcase_create("cache");
  TCase *sec = tcase_create("credentials");
  TCase *cmd = tcase_create("cli");

  tcase_add_checked_fixture(cache, setup, teardown);
  tcase_set_timeout(cache, 90);
  tcase_add_test(cache, resolves_then_serves_from_cache_until_ttl);
  tcase_add_test(cache, concurrent_identical_resolves_make_one_rpc);
  tcase_add_test(cache, stale_answer_when_directory_is_down);
  tcase_add_test(cache, retries_reach_a_directory_that_comes_back);
  tcase_add_test(cache, not_found_is_remembered_then_forgotten);
  tcase_add_test(cache, cached_lookup_never_asks_the_directory);
  tcase_add_test(cache, async_resolve_calls_back_exactly_once);
  tcase_add_checked_fixture(sec, setup, teardown);
  tcase_set_timeout(sec, 90);
  tcase_add_test(sec, tls_mtls_and_token);
  tcase_add_test(sec, plaintext_token_goes_as_metadata);
  tcase_add_test(sec, service_account_key_file_via_default_search);
  tcase_add_test(sec, authorized_user_from_gcloud_adc_file);
  tcase_add_test(sec, metadata_server_at_gce_metadata_host);
  tcase_add_test(sec, refused_token_request_is_reported);
  tcase_add_test(sec, no_credentials_fails_at_once_saying_where_it_looked);
  tcase_add_test(sec, compute_engine_is_recognised_without_network);
  tcase_add_checked_fixture(cmd, setup, teardown);
  tcase_set_timeout(cmd, 90);
  tcase_add_test(cmd, cli_commands_round_trip);
  tcase_add_test(cmd, cli_bad_input_gets_exit_2_and_a_hint);
  tcase_add_test(cmd, cli_unreachable_directory_names_it);
  tcase_add_test(cmd, cli_permission_denied_names_permission_and_role);
  suite_add_tcase(s, cache);
  suite_add_tcase(s, sec);
  suite_add_tcase(s, cmd);
  return s;
}

int main(void)
{
  return test_run_all(srunner_create(resolver_suite()));
}
