/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Step 5: TLS to each open endpoint as Google's service makes it: the
 * URL's host as SNI, then what the server shows is judged one fact at a
 * time (so that an expired certificate with the wrong name reports both):
 * the version, the chain to the configured CA (or the system store) with
 * or without the intermediates the server should send, the name in the
 * SAN, the validity dates, the key usage, and mTLS.
 *
 * The handshake itself verifies nothing (SSL_VERIFY_NONE) and takes TLS
 * versions down to 1.0, so that an old server is told as such rather
 * than as a failed handshake; the chain is verified afterwards with its
 * own X509_STORE_CTX, times left out (they are a finding of their own).
 */
#include "diagnose/diag.h"

#include "core/core.h"
#include "pool/pem.h"
#include "probe/check.h"
#include "webhook/webhook.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define STEP "tls"
#define SOON_DAYS 30

static bool is_ip(const char *host)
{
  unsigned char b[16];

  return inet_pton(AF_INET, host, b) == 1 || inet_pton(AF_INET6, host, b) == 1;
}

/* The trust store: the configured CA (the webhook's DER allowedCaCerts, or
 * PEM), else the system's. */
static X509_STORE *trust(const struct sdc_diag_opts *o, bool *custom)
{
  X509_STORE *st = X509_STORE_new();
  const struct sdc_webhook *w = o->webhook;

  *custom = false;
  if(!st)
    return NULL;
  if(w && w->web.n_ca) {
    for(size_t i = 0; i < w->web.n_ca; i++) {
      const unsigned char *p = w->web.ca_der[i];
      X509 *x = d2i_X509(NULL, &p, (long)w->web.ca_len[i]);
      if(x) {
        X509_STORE_add_cert(st, x);
        X509_free(x);
      }
    }
    *custom = true;
  } else if(o->ca_pem) {
    sdc__pem_add_cas(st, o->ca_pem, strlen(o->ca_pem));
    *custom = true;
  } else {
    X509_STORE_set_default_paths(st);
  }
  ERR_clear_error();
  return st;
}

/* The server asked for a client certificate (called when it does). */
static int on_cert_request(SSL *ssl, void *arg)
{
  (void)ssl;
  *(bool *)arg = true;
  return 1;
}

/* Does the port answer plain HTTP? A new connection, a plain request, and
 * "HTTP/" back within the timeout. */
static bool speaks_plain_http(const struct sdc_diag_opts *o, const sdc_endpoint *e)
{
  char req[400], got[6] = "";
  uint64_t took;
  int fd = -1, flags;
  struct timeval tv = {(time_t)(o->connect_ms / 1000), (suseconds_t)(o->connect_ms % 1000) * 1000};
  size_t n = 0;

  if(diag_connect(e->address, e->port, o->connect_ms, &took, &fd))
    return false;
  flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  snprintf(req, sizeof(req), "HEAD / HTTP/1.0\r\nHost: %s\r\n\r\n", o->host);
  if(send(fd, req, strlen(req), MSG_NOSIGNAL) == (ssize_t)strlen(req))
    while(n < 5) {
      ssize_t k = recv(fd, got + n, 5 - n, 0);
      if(k <= 0)
        break;
      n += (size_t)k;
    }
  close(fd);
  return n == 5 && !memcmp(got, "HTTP/", 5);
}

/* Why the handshake failed, as a finding. `silent`: the server said
 * nothing within the timeout. */
static void handshake_failed(const struct sdc_diag_opts *o, const sdc_endpoint *ep, bool asked,
                             bool have_cert, bool silent, const char *subject,
                             sdc_diag_report *r)
{
  unsigned long e = ERR_peek_last_error();
  int reason = ERR_GET_REASON(e);
  bool not_tls = reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG;
  bool http;
  char why[256];

  ERR_error_string_n(e, why, sizeof(why));
  ERR_clear_error();
  /* a plain-HTTP server answers with "HTTP/", closes, or waits for the
   * rest of what it takes for a request */
  http = (not_tls || silent || !e) && speaks_plain_http(o, ep);

  if(not_tls || http) {
    diag_add(r, STEP, "TLS_NOT_TLS", SDC_DIAG_FAIL, subject,
             http ? "the port does not speak TLS: it answers plain HTTP"
                  : "the port does not speak TLS: its answer is not a TLS record",
             "serve HTTPS on this port (Google's service calls https:// URLs with TLS), or "
             "register the port the TLS server listens on");
    return;
  }
  if(silent) {
    diag_addf(r, STEP, "TLS_NO_ANSWER", SDC_DIAG_FAIL, subject,
              "check the server on this port: it takes connections but does not answer "
              "(stuck, overloaded, or waiting for something other than TLS)",
              "the port accepts TCP connections but does not answer the TLS handshake "
              "within %llu ms", (unsigned long long)o->connect_ms);
    return;
  }
  if(reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION ||
     reason == SSL_R_NO_PROTOCOLS_AVAILABLE) {
    diag_add(r, STEP, "TLS_VERSION_OLD", SDC_DIAG_FAIL, subject,
             "no TLS version in common: the server offers none from 1.0 to 1.3 that this "
             "client takes", "enable TLS 1.2 or 1.3 on the server");
    return;
  }
  if(asked && !have_cert) {
    diag_addf(r, STEP, "TLS_CLIENT_CERT_REQUIRED", SDC_DIAG_FAIL, subject,
              o->webhook ? "set sdconnect.clientCertFile and clientKeyFile in the webhook to "
                           "rehearse Google's mTLS, or stop requiring a client certificate"
                         : "give --client-cert and --client-key, or stop requiring a client "
                           "certificate on the server",
              "the server requires a client certificate and none was given (%s)", why);
    return;
  }
  if(asked && have_cert) {
    diag_addf(r, STEP, "TLS_CLIENT_CERT_REJECTED", SDC_DIAG_FAIL, subject,
              "make the server trust the client certificate's issuer (its client CA list), "
              "and allow a verify depth that covers the whole client chain",
              "the server refused the client certificate (%s)", why);
    return;
  }
  diag_addf(r, STEP, "TLS_HANDSHAKE_FAILED", SDC_DIAG_FAIL, subject,
            "check the server's TLS setup (certificate, key, ciphers) with the detail given",
            "the TLS handshake failed: %s", e ? why : "the server closed the connection");
}

/* Days from now to `t` (negative: past). */
static long days_to(const ASN1_TIME *t)
{
  int days = 0, secs = 0;

  ASN1_TIME_diff(&days, &secs, NULL, t);
  return days;
}

static void judge_chain(const struct sdc_diag_opts *o, SSL *ssl, X509 *leaf,
                        const char *subject, sdc_diag_report *r, bool *ok)
{
  bool custom;
  X509_STORE *st = trust(o, &custom);
  X509_STORE_CTX *vc = X509_STORE_CTX_new();
  STACK_OF(X509) *sent = SSL_get_peer_cert_chain(ssl); /* the leaf first, as sent */
  char fix[700];
  bool alone;
  int err;

  if(!st || !vc || !X509_STORE_CTX_init(vc, st, leaf, sent)) {
    r->oom = true;
    goto out;
  }
  X509_STORE_CTX_set_flags(vc, X509_V_FLAG_NO_CHECK_TIME); /* dates: a finding of their own */
  if(X509_verify_cert(vc) == 1)
    goto out;
  *ok = false;
  err = X509_STORE_CTX_get_error(vc);
  /* From the client's side, an issuer that is a missing intermediate and
   * one that is an unknown CA look the same: both are said. */
  alone = (err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
           err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT) &&
          (!sent || sk_X509_num(sent) <= 1) && X509_check_issued(leaf, leaf) != X509_V_OK;
  snprintf(fix, sizeof(fix), "%s%s",
           alone ? "if an intermediate CA issued it, serve the full chain (the certificate, "
                   "then the intermediates, in one PEM file); else " : "",
           custom ? "put the CA that issued the server's certificate in allowedCaCerts (DER, "
                    "base64; --tls-ca for SERVICE --url), or serve a certificate that CA "
                    "issued"
                  : "serve a certificate from a publicly trusted CA, or give the private CA "
                    "in allowedCaCerts (DER, base64)");
  diag_addf(r, STEP, "TLS_UNTRUSTED", SDC_DIAG_FAIL, subject, fix,
            "the certificate does not chain to %s: %s%s",
            custom ? "the configured CA" : "the system's trusted CAs",
            X509_verify_cert_error_string(err),
            alone ? " (the server sent it alone: no intermediates)" : "");
out:
  X509_STORE_CTX_free(vc);
  X509_STORE_free(st);
}

static void judge_name(const struct sdc_diag_opts *o, X509 *leaf, const char *subject,
                       sdc_diag_report *r, bool *ok)
{
  const char *h = o->host;
  char bare[256];

  if(h[0] == '[') { /* [v6] */
    snprintf(bare, sizeof(bare), "%.*s", (int)strlen(h) - 2, h + 1);
    h = bare;
  }
  if(is_ip(h) ? X509_check_ip_asc(leaf, h, 0) == 1
              : X509_check_host(leaf, h, 0, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, NULL) == 1)
    return;
  *ok = false;
  if(!is_ip(h) && X509_check_host(leaf, h, 0, 0, NULL) == 1) {
    diag_addf(r, STEP, "TLS_NAME_CN_ONLY", SDC_DIAG_FAIL, subject,
              "issue the certificate with a subjectAltName DNS:<host> (the common name is not "
              "read)", "%s is the certificate's common name only, not in a subjectAltName",
              h);
    return;
  }
  diag_addf(r, STEP, "TLS_NAME_MISMATCH", SDC_DIAG_FAIL, subject,
            "issue the certificate for the URL's host (subjectAltName DNS:<host>), or use a "
            "URL whose host the certificate names",
            "the certificate does not name %s (the URL's host, sent as SNI)", h);
}

/* `lenient`: an uptime check's, whose certificate Google does not judge: a
 * warning, not a failure. */
static void judge_dates(X509 *leaf, bool lenient, const char *subject, sdc_diag_report *r,
                        bool *ok, long *days_left)
{
  long before = days_to(X509_get0_notBefore(leaf));
  sdc_diag_level bad = lenient ? SDC_DIAG_WARN : SDC_DIAG_FAIL;

  *days_left = days_to(X509_get0_notAfter(leaf));
  if(X509_cmp_current_time(X509_get0_notBefore(leaf)) > 0) {
    *ok = false;
    diag_addf(r, STEP, "TLS_CERT_NOT_YET_VALID", bad, subject,
              "serve a certificate valid now (check the server's clock and the certificate's "
              "notBefore)", "the certificate is valid only from %ld days from now", before);
  } else if(X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0) {
    *ok = false;
    diag_addf(r, STEP, "TLS_CERT_EXPIRED", bad, subject,
              "renew the certificate and reload the server",
              "the certificate expired %ld days ago", -*days_left);
  } else if(*days_left < SOON_DAYS) {
    *ok = false;
    diag_addf(r, STEP, "TLS_CERT_EXPIRES_SOON", SDC_DIAG_WARN, subject,
              "renew the certificate before it expires",
              "the certificate expires in %ld days", *days_left);
  }
}

static void judge_usage(X509 *leaf, const char *subject, sdc_diag_report *r, bool *ok)
{
  uint32_t flags = X509_get_extension_flags(leaf);

  if((flags & EXFLAG_XKUSAGE) && !(X509_get_extended_key_usage(leaf) & XKU_SSL_SERVER)) {
    *ok = false;
    diag_add(r, STEP, "TLS_KEY_USAGE", SDC_DIAG_FAIL, subject,
             "the certificate's extendedKeyUsage lacks serverAuth: it is not for TLS servers",
             "issue the server certificate with extendedKeyUsage serverAuth");
  } else if((flags & EXFLAG_KUSAGE) &&
            !(X509_get_key_usage(leaf) & (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT))) {
    *ok = false;
    diag_add(r, STEP, "TLS_KEY_USAGE", SDC_DIAG_FAIL, subject,
             "the certificate's keyUsage allows neither digitalSignature nor keyEncipherment",
             "issue the server certificate with keyUsage digitalSignature (and "
             "keyEncipherment for RSA)");
  }
}

/* A TLS 1.3 server refuses a client certificate after the client's side of
 * the handshake is done: the alert is read here, if it comes soon. */
static bool refused_after(SSL *ssl, int fd)
{
  struct timeval tv = {0, 300 * 1000};
  char b;
  int n;

  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  n = SSL_peek(ssl, &b, 1);
  return n <= 0 && SSL_get_error(ssl, n) == SSL_ERROR_SSL;
}

bool diag_tls(const struct sdc_diag_opts *o, const sdc_endpoint *e, const char *subject,
              sdc_diag_report *r)
{
  size_t before = r->n;
  bool passed = false;
  const struct sdc_webhook *w = o->webhook;
  const char *cert = w && w->ext.client_cert_pem ? w->ext.client_cert_pem
                     : o->check && o->check->cert ? o->check->cert
                                                  : o->cert_pem;
  const char *key = w && w->ext.client_key_pem ? w->ext.client_key_pem
                    : o->check && o->check->key ? o->check->key
                                                : o->key_pem;
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  SSL *ssl = NULL;
  X509 *leaf = NULL;
  bool asked = false, ok = true;
  size_t n_certs = 0;
  long days_left = 0;
  uint64_t took;
  int fd = -1, flags, rc;
  struct timeval tv = {(time_t)(o->connect_ms / 1000), (suseconds_t)(o->connect_ms % 1000) * 1000};

  if(!ctx) {
    r->oom = true;
    return false;
  }
  SSL_CTX_set_security_level(ctx, 0); /* an old server is told as such */
  SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  SSL_CTX_set_cert_cb(ctx, on_cert_request, &asked);
  if(cert && key &&
     !sdc__pem_use_identity(ctx, cert, strlen(cert), key, strlen(key), NULL, &n_certs)) {
    diag_add(r, STEP, "TLS_CLIENT_CERT_UNUSABLE", SDC_DIAG_FAIL, subject,
             "the client certificate or key given for mTLS cannot be read",
             "give a PEM certificate and its PEM private key (unencrypted)");
    goto out;
  }
  if(diag_connect(e->address, e->port, o->connect_ms, &took, &fd)) {
    diag_add(r, STEP, "SKIPPED", SDC_DIAG_SKIP, subject, "not checked: the port stopped "
             "accepting connections", NULL);
    goto out;
  }
  flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags & ~O_NONBLOCK); /* blocking, within the timeouts */
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if(!(ssl = SSL_new(ctx)) || SSL_set_fd(ssl, fd) != 1) {
    r->oom = true;
    goto out;
  }
  if(!is_ip(o->host) && o->host[0] != '[')
    SSL_set_tlsext_host_name(ssl, o->host);
  errno = 0;
  if((rc = SSL_connect(ssl)) != 1) {
    int why = errno, se = SSL_get_error(ssl, rc); /* errno before anything changes it */
    /* a receive timeout reads as "try again" */
    bool silent = se == SSL_ERROR_WANT_READ || se == SSL_ERROR_WANT_WRITE ||
                  (se == SSL_ERROR_SYSCALL && (why == EAGAIN || why == EWOULDBLOCK));
    handshake_failed(o, e, asked, cert && key, silent, subject, r);
    goto out;
  }
  if(asked && refused_after(ssl, fd)) {
    handshake_failed(o, e, asked, cert && key, false, subject, r);
    goto out;
  }
  if(SSL_version(ssl) < TLS1_2_VERSION) {
    ok = false;
    diag_addf(r, STEP, "TLS_VERSION_OLD", SDC_DIAG_FAIL, subject,
              "enable TLS 1.2 or 1.3 on the server (Google's services require 1.2 or later)",
              "the server negotiates %s", SSL_get_version(ssl));
  }
  if(!(leaf = SSL_get1_peer_certificate(ssl))) {
    diag_add(r, STEP, "TLS_HANDSHAKE_FAILED", SDC_DIAG_FAIL, subject,
             "the server showed no certificate", "serve a certificate for the URL's host");
    goto out;
  }
  if(!o->check) { /* Cloud Monitoring does not validate a private check's certificate */
    judge_chain(o, ssl, leaf, subject, r, &ok);
    judge_name(o, leaf, subject, r, &ok);
    judge_usage(leaf, subject, r, &ok);
  }
  judge_dates(leaf, o->check != NULL, subject, r, &ok, &days_left);
  if(cert && key && !asked) {
    ok = false;
    diag_add(r, STEP, "TLS_MTLS_NOT_REQUESTED", SDC_DIAG_WARN, subject,
             "a client certificate is configured but the server never asks for one: mTLS "
             "is not enforced", "make the server request and verify client certificates");
  } else if(cert && key && n_certs < 2) {
    ok = false; /* accepted, but not as deep a chain as Google's */
    diag_add(r, STEP, "TLS_MTLS_DEPTH_UNTESTED", SDC_DIAG_WARN, subject,
             "the rehearsal's client certificate comes alone, issued by the root: Google's "
             "comes with an intermediate (depth 2), which this did not try",
             "rehearse with a client certificate issued by an intermediate CA, the PEM "
             "holding the certificate then the intermediate; the server must allow a "
             "verify depth of at least 2");
  }
  passed = true;
  for(size_t i = before; i < r->n; i++)
    passed = passed && r->items[i].level != SDC_DIAG_FAIL;
  if(ok)
    diag_addf(r, STEP, "TLS_OK", SDC_DIAG_OK, subject, NULL,
              o->check ? "%s, valid for %ld more days%s (a private check's certificate is "
                         "not validated)"
                       : "%s, the chain verified, the name matches, valid for %ld more days%s",
              SSL_get_version(ssl), days_left, asked ? ", client certificate accepted" : "");
out:
  X509_free(leaf);
  if(ssl)
    SSL_free(ssl);
  if(fd >= 0)
    close(fd);
  SSL_CTX_free(ctx);
  ERR_clear_error();
  return passed;
}
