/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sdconnect serve --dev`: everything on one machine, no Google account.
 *
 * Two demo HTTPS targets on 127.0.0.1 with certificates made at start by
 * a CA made at start: "healthy" answers GET /healthz with 200
 * {"status":"ok"}; "failing" answers 503 on purpose and its certificate
 * expires in 10 days, so the status page shows a failure reason and a
 * near expiry. "healthy" is also a Dialogflow CX webhook: POST /webhook
 * answers a WebhookResponse. The folder then gets the CA, a registry seed
 * naming both as endpoints of the demo service, the demo webhook (a
 * Service Directory webhook of that service) and an ordinary
 * sdconnect.yaml (local directory in the daemon, the demo check, the
 * webhook probed and served by the gateway, the admin listener): the
 * daemon runs that file as it would any other, and a user can copy it.
 *
 * The targets stand for remote services, so they run on a thread of their
 * own (libmicrohttpd's), not on the daemon's loop.
 */
#include "dev.h"
#include "num.h"

#include <microhttpd.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dev {
  struct MHD_Daemon *target[2];
  int port[2];
  char dir[900];
};

/* ---- certificates ------------------------------------------------------------ */
static int ext(X509 *x, X509 *issuer, int nid, const char *value)
{
  X509V3_CTX ctx;
  X509_EXTENSION *e;

  X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
  if(!(e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)))
    return -1;
  X509_add_ext(x, e, -1);
  X509_EXTENSION_free(e);
  return 0;
}

/* A P-256 certificate for `cn` valid for `days`, signed by ca/ca_key (or
 * itself when ca is NULL: then it is a CA). */
static X509 *make_cert(const char *cn, long days, EVP_PKEY *key, X509 *ca, EVP_PKEY *ca_key)
{
  static long serial = 1;
  X509 *x = X509_new();
  X509_NAME *name;
  char san[300];
  int bad;

  if(!x)
    return NULL;
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), days * 86400L);
  X509_set_pubkey(x, key);
  name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"sdconnect dev",
                             -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
  X509_set_issuer_name(x, ca ? X509_get_subject_name(ca) : name);
  snprintf(san, sizeof(san), "DNS:%s", cn);
  bad = ext(x, ca ? ca : x, NID_subject_key_identifier, "hash") ||
        ext(x, ca ? ca : x, NID_authority_key_identifier, "keyid:always");
  if(!ca)
    bad |= ext(x, x, NID_basic_constraints, "critical,CA:TRUE") ||
           ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
  else
    bad |= ext(x, x, NID_basic_constraints, "critical,CA:FALSE") ||
           ext(x, x, NID_key_usage, "critical,digitalSignature") ||
           ext(x, x, NID_ext_key_usage, "serverAuth") ||
           ext(x, x, NID_subject_alt_name, san);
  if(bad || !X509_sign(x, ca ? ca_key : key, EVP_sha256())) {
    X509_free(x);
    return NULL;
  }
  return x;
}

static char *pem_of(X509 *x, EVP_PKEY *k)
{
  BIO *b = BIO_new(BIO_s_mem());
  char *data, *out = NULL;
  long n;

  if(!b)
    return NULL;
  if((x ? PEM_write_bio_X509(b, x) : PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL,
                                                                NULL)) &&
     (n = BIO_get_mem_data(b, &data)) > 0 && (out = malloc((size_t)n + 1))) {
    memcpy(out, data, (size_t)n);
    out[n] = '\0';
  }
  BIO_free(b);
  return out;
}

/* ---- the targets ----------------------------------------------------------------- */
static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **state)
{
  static int first;
  const bool healthy = cls != NULL, hook = !strcmp(url, "/webhook") && !strcmp(method, "POST");
  const char *body = !healthy ? "{\"status\":\"overloaded\",\"note\":\"sdconnect's demo "
                                "target that fails on purpose\"}\n"
                     : hook   ? DEV_WEBHOOK_ANSWER "\n"
                     : strcmp(url, "/healthz") ? "{\"status\":\"not found\"}\n"
                                              : "{\"status\":\"ok\"}\n";
  unsigned status = !healthy ? 503 : hook || !strcmp(url, "/healthz") ? 200 : 404;
  struct MHD_Response *r;
  enum MHD_Result rc;

  (void)version;
  (void)upload;
  if(!*state) {
    *state = &first;
    return MHD_YES;
  }
  if(*upload_size) { /* a body (a webhook call's) is read and ignored */
    *upload_size = 0;
    return MHD_YES;
  }
  r = MHD_create_response_from_buffer(strlen(body), (void *)(uintptr_t)body,
                                      MHD_RESPMEM_PERSISTENT);
  if(!r)
    return MHD_NO;
  MHD_add_response_header(r, "Content-Type", "application/json");
  rc = MHD_queue_response(conn, status, r);
  MHD_destroy_response(r);
  return rc;
}

static struct MHD_Daemon *start_target(bool healthy, const char *cert, const char *key,
                                       int *port)
{
  struct sockaddr_in sa = {.sin_family = AF_INET}; /* 127.0.0.1, any port */
  struct MHD_Daemon *d;
  const union MHD_DaemonInfo *info;

  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  d = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS | MHD_USE_ERROR_LOG, 0, NULL, NULL,
      answer, healthy ? (void *)1 : NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
      MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_END);
  if(!d)
    return NULL;
  info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  *port = info ? info->port : 0;
  if(!*port) {
    MHD_stop_daemon(d);
    return NULL;
  }
  return d;
}

/* ---- the folder ---------------------------------------------------------------- */
static int write_file(const char *dir, const char *name, const char *text, char *err,
                      size_t cap)
{
  char path[1000];
  FILE *f;

  snprintf(path, sizeof(path), "%s/%s", dir, name);
  if(!(f = fopen(path, "w")) || fputs(text, f) < 0 || fclose(f)) {
    snprintf(err, cap, "cannot write %s: %s", path, strerror(errno));
    return -1;
  }
  return 0;
}

/* The gateway beside the admin listener: its port + 1 (0 stays 0). */
static void gateway_listen(const char *admin_listen, char *out, size_t cap)
{
  const char *colon = strrchr(admin_listen, ':');
  int port = 0;

  if(colon && !svc_parse_port(colon + 1, &port)) /* "0" (any port) stays 0 */
    port = 0;

  snprintf(out, cap, "%.*s:%d", colon ? (int)(colon - admin_listen) : 0, admin_listen,
           port ? port + 1 : 0);
}

static int write_files(struct dev *v, const char *admin_listen, const char *ca_pem,
                       const char *ca_der_b64, char *err, size_t cap)
{
  char seed[1200], cfg[3200], hooks[3000], gw[300];

  snprintf(seed, sizeof(seed),
           "# Written by 'sdconnect serve --dev': the demo service and its two\n"
           "# endpoints, the demo targets this daemon runs (sdconnect-registry.yaml(5)).\n"
           "project: " DEV_PROJECT "\n"
           "location: " DEV_LOCATION "\n"
           "namespaces:\n"
           "  - name: " DEV_NAMESPACE "\n"
           "    services:\n"
           "      - name: " DEV_SERVICE "\n"
           "        annotations: {owner: sdconnect-dev}\n"
           "        endpoints:\n"
           "          - {name: healthy, address: 127.0.0.1, port: %d,\n"
           "             network: projects/123456789012/locations/global/networks/demo}\n"
           "          - {name: failing, address: 127.0.0.1, port: %d,\n"
           "             network: projects/123456789012/locations/global/networks/demo}\n",
           v->port[0], v->port[1]);
  gateway_listen(admin_listen, gw, sizeof(gw));
  snprintf(cfg, sizeof(cfg),
           "# Written by 'sdconnect serve --dev' (see sdconnect.yaml(5)). Copy it to\n"
           "# start your own: replace 'local' with a 'directory' section for Google's\n"
           "# API, and the check with your UptimeCheckConfig resources.\n"
           "local:\n"
           "  listen: 127.0.0.1:0     # the directory, in this process\n"
           "  memory: true\n"
           "  seed: registry.yaml\n"
           "checks:\n"
           "  - displayName: demo-webhook\n"
           "    checkerType: VPC_CHECKERS\n"
           "    monitoredResource:\n"
           "      type: servicedirectory_service\n"
           "      labels: {project_id: " DEV_PROJECT ", location: " DEV_LOCATION ",\n"
           "               namespace_name: " DEV_NAMESPACE ", service_name: " DEV_SERVICE
           "}\n"
           "    httpCheck: {useSsl: true, validateSsl: true, path: /healthz}\n"
           "    contentMatchers: [{content: '\"ok\"'}]\n"
           "    timeout: 5s\n"
           "    sdconnect: {period: %ds, host: " DEV_HOST ", caFile: ca.pem}\n"
           "webhooks:\n"
           "  files: [webhooks.yaml]  # Dialogflow CX Webhook resources\n"
           "  probePeriod: %ds\n"
           "gateway:\n"
           "  listen: %s  # POST /v1/webhooks/demo\n"
           "admin:\n"
           "  listen: %s\n"
           "results:\n"
           "  historyDays: 7\n"
           "stateDir: %s\n",
           DEV_PERIOD_S, DEV_PERIOD_S, gw, admin_listen, v->dir);
  snprintf(hooks, sizeof(hooks),
           "# Written by 'sdconnect serve --dev': the demo webhook as Dialogflow CX's\n"
           "# API would return it (sdconnect-webhook.yaml(5)), reached through the\n"
           "# demo service with " DEV_HOST " for TLS and Host.\n"
           "name: projects/" DEV_PROJECT "/locations/" DEV_LOCATION "/agents/demo-agent/"
           "webhooks/" DEV_WEBHOOK "\n"
           "displayName: " DEV_WEBHOOK "\n"
           "timeout: 5s\n"
           "serviceDirectory:\n"
           "  service: " DEV_SERVICE_NAME "\n"
           "  genericWebService:\n"
           "    uri: https://" DEV_HOST "/webhook\n"
           "    allowedCaCerts: ['%s']\n",
           ca_der_b64);
  return write_file(v->dir, "ca.pem", ca_pem, err, cap) ||
         write_file(v->dir, "registry.yaml", seed, err, cap) ||
         write_file(v->dir, "webhooks.yaml", hooks, err, cap) ||
         write_file(v->dir, "sdconnect.yaml", cfg, err, cap);
}

int dev_start(struct dev **out, const char *dir, const char *admin_listen, char *err,
              size_t cap)
{
  struct dev *v = calloc(1, sizeof(*v));
  EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *key = EVP_EC_gen("P-256");
  X509 *ca = NULL, *good = NULL, *soon = NULL;
  char *ca_pem = NULL, *good_pem = NULL, *soon_pem = NULL, *key_pem = NULL;
  int rc = -1;

  if(!v || !ca_key || !key) {
    snprintf(err, cap, "out of memory");
    goto out;
  }
  snprintf(v->dir, sizeof(v->dir), "%s", dir);
  if(mkdir(dir, 0700) && errno != EEXIST) {
    snprintf(err, cap, "cannot make %s: %s", dir, strerror(errno));
    goto out;
  }
  ca = make_cert("sdconnect dev CA", 365, ca_key, NULL, NULL);
  good = ca ? make_cert(DEV_HOST, 90, key, ca, ca_key) : NULL;
  soon = ca ? make_cert(DEV_HOST, 10, key, ca, ca_key) : NULL;
  if(!good || !soon || !(ca_pem = pem_of(ca, NULL)) || !(good_pem = pem_of(good, NULL)) ||
     !(soon_pem = pem_of(soon, NULL)) || !(key_pem = pem_of(NULL, key))) {
    snprintf(err, cap, "cannot make the demo certificates (OpenSSL)");
    goto out;
  }
  if(!(v->target[0] = start_target(true, good_pem, key_pem, &v->port[0])) ||
     !(v->target[1] = start_target(false, soon_pem, key_pem, &v->port[1]))) {
    snprintf(err, cap, "cannot start the demo targets on 127.0.0.1 (libmicrohttpd)");
    goto out;
  }
  {
    unsigned char *der = NULL;
    int n = i2d_X509(ca, &der);
    char b64[4096] = "";
    if(n > 0 && n < 3000)
      EVP_EncodeBlock((unsigned char *)b64, der, n);
    OPENSSL_free(der);
    if(!b64[0]) {
      snprintf(err, cap, "cannot encode the demo CA (OpenSSL)");
      goto out;
    }
    if(write_files(v, admin_listen, ca_pem, b64, err, cap))
      goto out;
  }
  *out = v;
  v = NULL;
  rc = 0;
out:
  dev_stop(v);
  X509_free(ca);
  X509_free(good);
  X509_free(soon);
  EVP_PKEY_free(ca_key);
  EVP_PKEY_free(key);
  free(ca_pem);
  free(good_pem);
  free(soon_pem);
  if(key_pem) {
    OPENSSL_cleanse(key_pem, strlen(key_pem));
    free(key_pem);
  }
  return rc;
}

const char *dev_dir(const struct dev *v) { return v->dir; }

int dev_port(const struct dev *v, int i)
{
  return v->port[i];
}

void dev_stop(struct dev *v)
{
  if(!v)
    return;
  for(int i = 0; i < 2; i++)
    if(v->target[i])
      MHD_stop_daemon(v->target[i]);
  free(v);
}
