/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration: the real `sdconnect sd-server` process on 127.0.0.1:0,
 * driven over gRPC from C. Every server this file starts is stopped by PID
 * in the same test.
 */
#include "certs.h"
#include "proc.h"
#include "run_all.h"
#include "sdt.h"

#include "google/iam/v1/iam_policy.pb-c.h"
#include "google/iam/v1/policy.pb-c.h"
#include "sd/sd.h"

#include <check.h>
#include <grpc/grpc_security.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct tproc srv;
static struct sdt t;

static void connect_insecure(void)
{
  char target[64];
  grpc_channel_credentials *c = grpc_insecure_credentials_create();

  snprintf(target, sizeof(target), "127.0.0.1:%d", srv.port);
  memset(&t, 0, sizeof(t));
  t.ch = grpc_channel_create(target, c, NULL);
  grpc_channel_credentials_release(c);
}

static void start_server(const char *extra1, const char *extra2)
{
  const char *argv[] = {tproc_sdconnect(), "sd-server", "--listen", "127.0.0.1:0",
                        "--log-level", "debug", extra1, extra2, NULL};
  ck_assert_msg(tproc_start(&srv, argv, true) == 0, "server did not start; see %s", srv.log);
}

static void mem_server_setup(void)
{
  grpc_init();
  memset(&srv, 0, sizeof(srv));
  start_server("--memory", NULL);
  connect_insecure();
}

static void server_teardown(void)
{
  if(t.ch)
    grpc_channel_destroy(t.ch);
  t.ch = NULL;
  if(srv.pid > 0)
    ck_assert_int_eq(tproc_stop(&srv, 10000), 0);
  tproc_rmdir(srv.dir);
  grpc_shutdown();
}

/* ---- the shared API cases, over gRPC ------------------------------------ */
RC_CASES(RC_TEST)

/* ---- transport behaviour -------------------------------------------------- */
START_TEST(unknown_method_is_unimplemented)
{
  struct sdc__grpc_result r;

  ck_assert_int_eq(sdc__grpc_unary(t.ch, "/google.cloud.servicedirectory.v1beta1.LookupService/"
                                   "ResolveService", (const uint8_t *)"", 0, NULL, 0, 5000, &r),
                   SDC_OK);
  ck_assert_int_eq(r.code, GRPC_STATUS_UNIMPLEMENTED);
  ck_assert_ptr_nonnull(strstr(r.details, "unknown method"));
  sdc__grpc_result_cleanup(&r);
}
END_TEST

START_TEST(oversized_request_is_refused_and_server_lives)
{
  size_t big = 2u << 20;
  uint8_t *junk = calloc(1, big);
  struct sdc__grpc_result r;
  char msg[700];

  ck_assert_int_eq(sdc__grpc_unary(t.ch, lsd_method_path(M_CREATE_NAMESPACE), junk, big, NULL, 0,
                                   5000, &r), SDC_OK);
  ck_assert_int_eq(r.code, GRPC_STATUS_RESOURCE_EXHAUSTED);
  sdc__grpc_result_cleanup(&r);
  free(junk);
  ck_assert_int_eq(sdt_create_namespace(&t, LOC, "after", msg), GRPC_STATUS_OK);
}
END_TEST

START_TEST(routing_and_client_headers_are_accepted)
{
  grpc_metadata md[2];
  PBT(GetNamespaceRequest) g;
  struct sdt_resp r;
  char msg[700];

  ck_assert_int_eq(sdt_create_namespace(&t, LOC, "ns", msg), GRPC_STATUS_OK);
  md[0].key = grpc_slice_from_static_string("x-goog-request-params");
  md[0].value = grpc_slice_from_static_string("name=projects%2Ftest-proj%2Flocations%2Fus-east1");
  md[1].key = grpc_slice_from_static_string("x-goog-api-client");
  md[1].value = grpc_slice_from_static_string("gl-c/11 grpc/1.51.1 sdconnect/test");
  memcpy(t.md, md, sizeof(md));
  t.n_md = 2;
  PB(get_namespace_request__init)(&g);
  g.name = (char *)NS;
  sdt_call(&t, M_GET_NAMESPACE, &g.base, &r);
  ck_assert_int_eq(r.code, GRPC_STATUS_OK);
  sdt_resp_free(&r);
  t.n_md = 0;
}
END_TEST

struct worker_arg {
  int idx;
  int failures;
};

static void *concurrent_worker(void *p)
{
  struct worker_arg *a = p;
  char id[32], msg[700];
  PBT(ResolveServiceResponse) *res = NULL;

  for(int i = 0; i < 40; i++) {
    snprintf(id, sizeof(id), "w%d-e%d", a->idx, i);
    if(sdt_create_endpoint(&t, SVC, id, "10.0.0.1", 1000 + i, NULL, NULL, msg) != GRPC_STATUS_OK)
      a->failures++;
    if(sdt_resolve(&t, SVC, 5, NULL, &res, msg) != GRPC_STATUS_OK)
      a->failures++;
    else
      PB(resolve_service_response__free_unpacked)(res, NULL);
  }
  return NULL;
}

START_TEST(concurrent_clients_all_succeed)
{
  pthread_t th[8];
  struct worker_arg args[8];
  PBT(ListEndpointsResponse) *l = NULL;
  char msg[700];
  size_t total = 0;
  char token[2048] = "";

  ck_assert_int_eq(sdt_create_namespace(&t, LOC, "ns", msg), GRPC_STATUS_OK);
  ck_assert_int_eq(sdt_create_service(&t, NS, "svc", msg), GRPC_STATUS_OK);
  for(int i = 0; i < 8; i++) {
    args[i] = (struct worker_arg){i, 0};
    ck_assert_int_eq(pthread_create(&th[i], NULL, concurrent_worker, &args[i]), 0);
  }
  for(int i = 0; i < 8; i++) {
    pthread_join(th[i], NULL);
    ck_assert_int_eq(args[i].failures, 0);
  }
  for(int guard = 0; guard < 10; guard++) {
    ck_assert_int_eq(sdt_list_endpoints(&t, SVC, 1000, token, NULL, NULL, &l, msg), GRPC_STATUS_OK);
    total += l->n_endpoints;
    snprintf(token, sizeof(token), "%s", l->next_page_token);
    PB(list_endpoints_response__free_unpacked)(l, NULL);
    if(!*token)
      break;
  }
  ck_assert_uint_eq(total, 8 * 40);
}
END_TEST

START_TEST(abrupt_disconnects_do_not_hurt)
{
  char target[64], msg[700];
  uint8_t req[256];
  PBT(ResolveServiceRequest) rr;
  size_t n;

  ck_assert_int_eq(sdt_create_namespace(&t, LOC, "ns", msg), GRPC_STATUS_OK);
  PB(resolve_service_request__init)(&rr);
  rr.name = (char *)SVC;
  ck_assert_uint_le(PB(resolve_service_request__get_packed_size)(&rr), sizeof(req));
  n = PB(resolve_service_request__pack)(&rr, req);
  snprintf(target, sizeof(target), "127.0.0.1:%d", srv.port);
  for(int i = 0; i < 20; i++) {
    /* calls whose deadline expires at once, on channels torn down right after */
    grpc_channel_credentials *c = grpc_insecure_credentials_create();
    grpc_channel *ch = grpc_channel_create(target, c, NULL);
    struct sdc__grpc_result r;
    grpc_channel_credentials_release(c);
    ck_assert_int_eq(sdc__grpc_unary(ch, lsd_method_path(M_RESOLVE_SERVICE), req, n, NULL, 0,
                                     (uint64_t)(i % 3), &r), SDC_OK);
    sdc__grpc_result_cleanup(&r);
    grpc_channel_destroy(ch);
  }
  ck_assert_int_eq(sdt_create_service(&t, NS, "svc", msg), GRPC_STATUS_OK);
  ck_assert_int_eq(kill(srv.pid, 0), 0);
}
END_TEST

/* ---- durability and shutdown ---------------------------------------------- */
START_TEST(acknowledged_writes_survive_kill_9)
{
  char db[128], msg[700], id[16];
  const char *argv_db[] = {tproc_sdconnect(), "sd-server", "--listen", "127.0.0.1:0",
                           "--db", db, NULL};
  PBT(ListEndpointsResponse) *l = NULL;

  grpc_init();
  memset(&srv, 0, sizeof(srv));
  ck_assert_int_eq(tproc_tmpdir(srv.dir), 0);
  snprintf(db, sizeof(db), "%s/registry.db", srv.dir);
  ck_assert_msg(tproc_start(&srv, argv_db, true) == 0, "see %s", srv.log);
  connect_insecure();
  ck_assert_int_eq(sdt_create_namespace(&t, LOC, "ns", msg), GRPC_STATUS_OK);
  ck_assert_int_eq(sdt_create_service(&t, NS, "svc", msg), GRPC_STATUS_OK);
  for(int i = 0; i < 200; i++) {
    snprintf(id, sizeof(id), "e%d", i);
    ck_assert_int_eq(sdt_create_endpoint(&t, SVC, id, "10.0.0.1", i, NULL, NULL, msg),
                     GRPC_STATUS_OK);
  }
  tproc_kill9(&srv); /* no chance to flush or checkpoint */
  ck_assert_int_eq(srv.exit_status, 128 + SIGKILL);
  grpc_channel_destroy(t.ch);
  ck_assert_msg(tproc_start(&srv, argv_db, true) == 0, "restart failed; see %s", srv.log);
  connect_insecure();
  ck_assert_int_eq(sdt_list_endpoints(&t, SVC, 1000, NULL, NULL, NULL, &l, msg), GRPC_STATUS_OK);
  ck_assert_uint_eq(l->n_endpoints, 200);
  PB(list_endpoints_response__free_unpacked)(l, NULL);
  server_teardown();
}
END_TEST

START_TEST(sigterm_stops_cleanly_and_keeps_writes)
{
  char db[128], msg[700];
  const char *argv_db[] = {tproc_sdconnect(), "sd-server", "--listen", "127.0.0.1:0",
                           "--db", db, NULL};
  PBT(Endpoint) *ep = NULL;

  grpc_init();
  memset(&srv, 0, sizeof(srv));
  ck_assert_int_eq(tproc_tmpdir(srv.dir), 0);
  snprintf(db, sizeof(db), "%s/registry.db", srv.dir);
  ck_assert_int_eq(tproc_start(&srv, argv_db, true), 0);
  connect_insecure();
  ck_assert_int_eq(sdt_create_namespace(&t, LOC, "ns", msg), GRPC_STATUS_OK);
  ck_assert_int_eq(sdt_create_service(&t, NS, "svc", msg), GRPC_STATUS_OK);
  ck_assert_int_eq(sdt_create_endpoint(&t, SVC, "e", "10.0.0.1", 1, NULL, NULL, msg),
                   GRPC_STATUS_OK);
  ck_assert_int_eq(tproc_stop(&srv, 10000), 0);
  ck_assert(tproc_log_has(&srv, "msg=stopped"));
  /* the same database file is free again and holds the write */
  grpc_channel_destroy(t.ch);
  ck_assert_int_eq(tproc_start(&srv, argv_db, true), 0);
  connect_insecure();
  ck_assert_int_eq(sdt_get_endpoint(&t, SVC "/endpoints/e", &ep, msg), GRPC_STATUS_OK);
  PB(endpoint__free_unpacked)(ep, NULL);
  server_teardown();
}
END_TEST

/* ---- TLS, mTLS and tokens ------------------------------------------------- */
static char tls_dir[64];

/* CA, server cert for localhost/127.0.0.1, client cert, and a stranger CA. */
static void make_certs(void)
{
  struct tcert_opts ca_o = {"sdconnect test CA", NULL, -1, 30, true, false};
  struct tcert_opts srv_o = {"localhost", "DNS:localhost,IP:127.0.0.1", -1, 30, false, false};
  struct tcert_opts cli_o = {"test client", NULL, -1, 30, false, true};
  struct tcert_opts other_o = {"another CA", NULL, -1, 30, true, false};
  struct tcert *ca = tcert_new(&ca_o, NULL), *s = tcert_new(&srv_o, ca);
  struct tcert *c = tcert_new(&cli_o, ca), *other = tcert_new(&other_o, NULL);

  ck_assert(ca && s && c && other);
  ck_assert_int_eq(tproc_tmpdir(tls_dir), 0);
  ck_assert_int_eq(tcert_write(ca, tls_dir, "ca"), 0);
  ck_assert_int_eq(tcert_write(s, tls_dir, "server"), 0);
  ck_assert_int_eq(tcert_write(c, tls_dir, "client"), 0);
  ck_assert_int_eq(tcert_write(other, tls_dir, "other"), 0);
  tcert_free(ca);
  tcert_free(s);
  tcert_free(c);
  tcert_free(other);
}

static grpc_channel *tls_channel(const char *ca_name, bool with_client_cert)
{
  char path[256], target[64];
  char *ca, *cert = NULL, *key = NULL;
  grpc_ssl_pem_key_cert_pair pair;
  grpc_channel_credentials *c;
  grpc_channel *ch;

  snprintf(path, sizeof(path), "%s/%s.pem", tls_dir, ca_name);
  ca = tcert_slurp(path);
  if(with_client_cert) {
    snprintf(path, sizeof(path), "%s/client.pem", tls_dir);
    cert = tcert_slurp(path);
    snprintf(path, sizeof(path), "%s/client.key", tls_dir);
    key = tcert_slurp(path);
    pair.private_key = key;
    pair.cert_chain = cert;
  }
  c = grpc_ssl_credentials_create(ca, with_client_cert ? &pair : NULL, NULL, NULL);
  snprintf(target, sizeof(target), "127.0.0.1:%d", srv.port);
  ch = grpc_channel_create(target, c, NULL);
  grpc_channel_credentials_release(c);
  free(ca);
  free(cert);
  free(key);
  return ch;
}

static grpc_status_code try_create(grpc_channel *ch, const char *id)
{
  struct sdt tt = {0};
  char msg[700];
  grpc_status_code rc;

  tt.ch = ch;
  rc = sdt_create_namespace(&tt, LOC, id, msg);
  grpc_channel_destroy(ch);
  return rc;
}

static void start_tls_server(bool mtls)
{
  char cert[128], key[128], ca[128];
  const char *argv[] = {tproc_sdconnect(), "sd-server", "--memory", "--listen", "127.0.0.1:0",
                        "--tls-cert", cert, "--tls-key", key,
                        mtls ? "--client-ca" : NULL, ca, NULL};

  snprintf(cert, sizeof(cert), "%s/server.pem", tls_dir);
  snprintf(key, sizeof(key), "%s/server.key", tls_dir);
  snprintf(ca, sizeof(ca), "%s/ca.pem", tls_dir);
  memset(&srv, 0, sizeof(srv));
  ck_assert_msg(tproc_start(&srv, argv, true) == 0, "see %s", srv.log);
}

START_TEST(tls_serves_verified_clients_only)
{
  grpc_init();
  make_certs();
  start_tls_server(false);
  ck_assert_int_eq(try_create(tls_channel("ca", false), "a"), GRPC_STATUS_OK);
  /* a client that trusts another CA cannot connect */
  ck_assert_int_eq(try_create(tls_channel("other", false), "b"), GRPC_STATUS_UNAVAILABLE);
  server_teardown();
  tproc_rmdir(tls_dir);
}
END_TEST

START_TEST(mtls_requires_a_client_certificate)
{
  grpc_init();
  make_certs();
  start_tls_server(true);
  ck_assert_int_eq(try_create(tls_channel("ca", true), "a"), GRPC_STATUS_OK);
  ck_assert_int_eq(try_create(tls_channel("ca", false), "b"), GRPC_STATUS_UNAVAILABLE);
  server_teardown();
  tproc_rmdir(tls_dir);
}
END_TEST

START_TEST(token_is_required_and_never_logged)
{
  static const char secret[] = "s3cr3t-t0ken-value";
  char tok_path[128], msg[700];
  FILE *f;
  const char *argv[] = {tproc_sdconnect(), "sd-server", "--memory", "--listen", "127.0.0.1:0",
                        "--log-level", "debug", "--token-file", tok_path, NULL};

  grpc_init();
  tproc_secret("the directory's token", secret);
  memset(&srv, 0, sizeof(srv));
  ck_assert_int_eq(tproc_tmpdir(srv.dir), 0);
  snprintf(tok_path, sizeof(tok_path), "%s/token", srv.dir);
  f = fopen(tok_path, "w");
  fprintf(f, "%s\n", secret);
  fclose(f);
  ck_assert_int_eq(tproc_start(&srv, argv, true), 0);
  connect_insecure();

  ck_assert_int_eq(sdt_create_namespace(&t, LOC, "a", msg), GRPC_STATUS_UNAUTHENTICATED);
  ck_assert_ptr_nonnull(strstr(msg, "authorization: Bearer"));
  t.md[0].key = grpc_slice_from_static_string("authorization");
  t.md[0].value = grpc_slice_from_static_string("Bearer wrong-token");
  t.n_md = 1;
  ck_assert_int_eq(sdt_create_namespace(&t, LOC, "a", msg), GRPC_STATUS_PERMISSION_DENIED);
  t.md[0].value = grpc_slice_from_static_string("Bearer s3cr3t-t0ken-value");
  ck_assert_int_eq(sdt_create_namespace(&t, LOC, "a", msg), GRPC_STATUS_OK);
  ck_assert_int_eq(tproc_stop(&srv, 10000), 0);
  ck_assert(tproc_log_has(&srv, "code=16"));  /* the refusals were logged... */
  ck_assert(!tproc_log_has(&srv, secret));    /* ...the token never */
  ck_assert(!tproc_log_has(&srv, "wrong-token"));
  server_teardown();
}
END_TEST

/* As `token`, with the IAM policy file's principals. */
static void as(const char *token)
{
  static char hdr[128];

  snprintf(hdr, sizeof(hdr), "Bearer %s", token);
  t.md[0].key = grpc_slice_from_static_string("authorization");
  t.md[0].value = grpc_slice_from_static_string(hdr);
  t.n_md = 1;
}

/* TestIamPermissions as the caller: the permissions held, space-separated. */
static grpc_status_code test_perms(const char *resource, const char *const *perms, size_t n,
                                   char *held, size_t cap)
{
  Google__Iam__V1__TestIamPermissionsRequest req =
      GOOGLE__IAM__V1__TEST_IAM_PERMISSIONS_REQUEST__INIT;
  Google__Iam__V1__TestIamPermissionsResponse *resp;
  struct sdt_resp r;
  grpc_status_code code;

  req.resource = (char *)resource;
  req.permissions = (char **)perms;
  req.n_permissions = n;
  sdt_call(&t, M_TEST_IAM_PERMISSIONS, &req.base, &r);
  held[0] = '\0';
  if(r.code == GRPC_STATUS_OK &&
     (resp = google__iam__v1__test_iam_permissions_response__unpack(NULL, r.len, r.body))) {
    for(size_t i = 0; i < resp->n_permissions; i++)
      snprintf(held + strlen(held), cap - strlen(held), "%s%s", i ? " " : "",
               resp->permissions[i]);
    google__iam__v1__test_iam_permissions_response__free_unpacked(resp, NULL);
  }
  code = r.code;
  sdt_resp_free(&r);
  return code;
}

START_TEST(iam_policy_decides_who_may_do_what)
{
  static const char agent[] = "serviceAccount:service-123@gcp-sa-dialogflow.iam.gserviceaccount.com";
  const char *perms[] = {"servicedirectory.services.resolve", "servicedirectory.services.get",
                         "servicedirectory.services.create"};
  char path[128], msg[700], held[400];
  const char *argv[] = {tproc_sdconnect(), "sd-server", "--memory", "--listen", "127.0.0.1:0",
                        "--iam-policy", path, NULL};
  Google__Iam__V1__GetIamPolicyRequest get = GOOGLE__IAM__V1__GET_IAM_POLICY_REQUEST__INIT;
  Google__Iam__V1__SetIamPolicyRequest set = GOOGLE__IAM__V1__SET_IAM_POLICY_REQUEST__INIT;
  Google__Iam__V1__Policy pol = GOOGLE__IAM__V1__POLICY__INIT, *got;
  Google__Iam__V1__Binding b = GOOGLE__IAM__V1__BINDING__INIT, *bp = &b;
  char *members[] = {(char *)agent};
  struct sdt_resp r;
  FILE *f;

  grpc_init();
  tproc_secret("the admin's token", "admin-t0ken");
  memset(&srv, 0, sizeof(srv));
  ck_assert_int_eq(tproc_tmpdir(srv.dir), 0);
  snprintf(path, sizeof(path), "%s/iam.yaml", srv.dir);
  f = fopen(path, "w");
  fprintf(f, "principals:\n"
             "  - {token: admin-t0ken, member: 'user:admin@example.com'}\n"
             "  - {token: agent-t0ken, member: '%s'}\n"
             "bindings:\n"
             "  - {resource: projects/test-proj, role: roles/servicedirectory.admin,\n"
             "     members: ['user:admin@example.com']}\n", agent);
  fclose(f);
  ck_assert_int_eq(tproc_start(&srv, argv, true), 0);
  connect_insecure();
  /* nobody, then the admin, then the agent with no role */
  ck_assert_int_eq(sdt_create_namespace(&t, LOC, "ns", msg), GRPC_STATUS_UNAUTHENTICATED);
  as("admin-t0ken");
  ck_assert_int_eq(sdt_create_namespace(&t, LOC, "ns", msg), GRPC_STATUS_OK);
  ck_assert_int_eq(sdt_create_service(&t, NS, "svc", msg), GRPC_STATUS_OK);
  as("agent-t0ken");
  ck_assert_int_eq(sdt_create_service(&t, NS, "other", msg), GRPC_STATUS_PERMISSION_DENIED);
  ck_assert_msg(strstr(msg, "Permission 'servicedirectory.services.create' denied on "
                            "resource '" NS "'"), "%s", msg);
  ck_assert_int_eq(test_perms(SVC, perms, 3, held, sizeof(held)), GRPC_STATUS_OK);
  ck_assert_str_eq(held, "");
  /* the admin grants the agent viewer on the namespace */
  as("admin-t0ken");
  b.role = "roles/servicedirectory.viewer";
  b.members = members;
  b.n_members = 1;
  pol.bindings = &bp;
  pol.n_bindings = 1;
  set.resource = NS;
  set.policy = &pol;
  sdt_call(&t, M_SET_IAM_POLICY, &set.base, &r);
  ck_assert_msg(r.code == GRPC_STATUS_OK, "%s", r.msg);
  sdt_resp_free(&r);
  get.resource = NS;
  sdt_call(&t, M_GET_IAM_POLICY, &get.base, &r);
  ck_assert_int_eq(r.code, GRPC_STATUS_OK);
  got = google__iam__v1__policy__unpack(NULL, r.len, r.body);
  ck_assert(got && got->n_bindings == 1 && got->bindings[0]->n_members == 1);
  ck_assert_str_eq(got->bindings[0]->role, "roles/servicedirectory.viewer");
  ck_assert_str_eq(got->bindings[0]->members[0], agent);
  ck_assert_uint_gt(got->etag.len, 0);
  google__iam__v1__policy__free_unpacked(got, NULL);
  sdt_resp_free(&r);
  /* a stale etag is refused */
  pol.etag.data = (uint8_t *)"0000000000000000";
  pol.etag.len = 16;
  sdt_call(&t, M_SET_IAM_POLICY, &set.base, &r);
  ck_assert_int_eq(r.code, GRPC_STATUS_ABORTED);
  sdt_resp_free(&r);
  /* the agent now resolves and reads the service, and still may not create */
  as("agent-t0ken");
  ck_assert_int_eq(test_perms(SVC, perms, 3, held, sizeof(held)), GRPC_STATUS_OK);
  ck_assert_str_eq(held, "servicedirectory.services.resolve servicedirectory.services.get");
  sdt_call(&t, M_GET_IAM_POLICY, &get.base, &r); /* viewer: no getIamPolicy */
  ck_assert_int_eq(r.code, GRPC_STATUS_PERMISSION_DENIED);
  sdt_resp_free(&r);
  ck_assert_int_eq(tproc_stop(&srv, 10000), 0);
  ck_assert(!tproc_log_has(&srv, "admin-t0ken"));
  server_teardown();
}
END_TEST

/* ---- command line ---------------------------------------------------------- */
START_TEST(cli_refuses_bad_setups_with_exit_2)
{
  struct tproc p = {0};
  const char *nonlocal[] = {tproc_sdconnect(), "sd-server", "--listen", "0.0.0.0:0", NULL};
  const char *half_tls[] = {tproc_sdconnect(), "sd-server", "--tls-cert", "x.pem", NULL};
  const char *bad_seed[] = {tproc_sdconnect(), "sd-server", "--memory", "--seed",
                            "/nonexistent/registry.yaml", NULL};
  const char *unknown[] = {tproc_sdconnect(), "sd-server", "--lisen", "x", NULL};
  const char *version[] = {tproc_sdconnect(), "--version", NULL};

  ck_assert_int_eq(tproc_tmpdir(p.dir), 0);
  ck_assert_int_eq(tproc_run(&p, nonlocal), 2);
  ck_assert(tproc_log_has(&p, "not a loopback address"));
  ck_assert_int_eq(tproc_run(&p, half_tls), 2);
  ck_assert(tproc_log_has(&p, "--tls-cert and --tls-key go together"));
  ck_assert_int_eq(tproc_run(&p, bad_seed), 2);
  ck_assert(tproc_log_has(&p, "/nonexistent/registry.yaml: cannot open"));
  ck_assert_int_eq(tproc_run(&p, unknown), 2);
  ck_assert(tproc_log_has(&p, "unknown option '--lisen'"));
  ck_assert_int_eq(tproc_run(&p, version), 0);
  ck_assert(tproc_log_has(&p, "sdconnect 0."));
  tproc_rmdir(p.dir);
}
END_TEST

START_TEST(example_registry_seeds_and_resolves)
{
  const char *argv[] = {tproc_sdconnect(), "sd-server", "--memory", "--listen", "127.0.0.1:0",
                        "--seed", SDC_SOURCE_DIR "/deploy/config/registry.yaml", NULL};
  PBT(ResolveServiceResponse) *res = NULL;
  char msg[700];

  grpc_init();
  memset(&srv, 0, sizeof(srv));
  ck_assert_msg(tproc_start(&srv, argv, true) == 0, "see %s", srv.log);
  connect_insecure();
  ck_assert_int_eq(sdt_resolve(&t, "projects/demo-project/locations/us-central1/namespaces/demo/"
                               "services/webhook", 0, NULL, &res, msg), GRPC_STATUS_OK);
  ck_assert_uint_eq(res->service->n_endpoints, 2);
  ck_assert_str_eq(res->service->endpoints[1]->address, "::1");
  PB(resolve_service_response__free_unpacked)(res, NULL);
  ck_assert(tproc_log_has(&srv, "msg=holds service=projects/demo-project"));
  server_teardown();
}
END_TEST

static Suite *localsd_suite(void)
{
  Suite *s = suite_create("localsd");
  TCase *api = tcase_create("api");
  TCase *transport = tcase_create("transport");
  TCase *durable = tcase_create("durability");
  TCase *sec = tcase_create("security");
  TCase *cli = tcase_create("cli");

  tcase_add_checked_fixture(api, mem_server_setup, server_teardown);
  tcase_set_timeout(api, 60);
  {
    TCase *rc_tcase = api;
    RC_CASES(RC_ADD)
  }
  tcase_add_checked_fixture(transport, mem_server_setup, server_teardown);
  tcase_set_timeout(transport, 60);
  tcase_add_test(transport, unknown_method_is_unimplemented);
  tcase_add_test(transport, oversized_request_is_refused_and_server_lives);
  tcase_add_test(transport, routing_and_client_headers_are_accepted);
  tcase_add_test(transport, concurrent_clients_all_succeed);
  tcase_add_test(transport, abrupt_disconnects_do_not_hurt);
  tcase_set_timeout(durable, 60);
  tcase_add_test(durable, acknowledged_writes_survive_kill_9);
  tcase_add_test(durable, sigterm_stops_cleanly_and_keeps_writes);
  tcase_set_timeout(sec, 60);
  tcase_add_test(sec, tls_serves_verified_clients_only);
  tcase_add_test(sec, mtls_requires_a_client_certificate);
  tcase_add_test(sec, token_is_required_and_never_logged);
  tcase_add_test(sec, iam_policy_decides_who_may_do_what);
  tcase_set_timeout(cli, 60);
  tcase_add_test(cli, cli_refuses_bad_setups_with_exit_2);
  tcase_add_test(cli, example_registry_seeds_and_resolves);
  suite_add_tcase(s, api);
  suite_add_tcase(s, transport);
  suite_add_tcase(s, durable);
  suite_add_tcase(s, sec);
  suite_add_tcase(s, cli);
  return s;
}

int main(void)
{
  return test_run_all(srunner_create(localsd_suite()));
}
