/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Connections the pool dials itself, for every HTTP/1.1 connection (kept or
 * fresh, as probes ask): a non-blocking TCP connect and, for TLS targets,
 * an OpenSSL handshake with the target's own SSL_CTX.
 *
 * Why not libcurl here: a probe's cost is its handshake, and libcurl 7.88
 * builds an SSL_CTX (about 100 us in OpenSSL 3.0) and loads the CA blob
 * again for every connection. Here one SSL_CTX per set of TLS settings
 * (CA, client identity, verification; TLS 1.2 minimum; session cache off:
 * every probe makes a full handshake and sees the certificate) is made
 * once per pool and shared by every connection with those settings.
 * Kept connections are few and long-lived: they do without resumption
 * too. Records are read ahead: one recv() for a record, not two.
 *
 * Verification: the chain against the target's CA (or the system store)
 * and the URL's host name (SSL_set1_host; an IP literal is checked as an
 * IP). SNI is the host name, never an IP literal (RFC 6066 3).
 */
#include "pool_int.h"
#include "pem.h"

#include "core/core.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct sdc__dial {
  int fd;
  SSL *ssl;
  bool tcp_up, done;
  short events;      /* what to wait for next */
  uint64_t start_us;
  double connect_ms, tls_ms;
  bool has_cert;
  char host[260];
};

/* ---- the target's SSL_CTX --------------------------------------------------- */
static int pass_cb(char *buf, int size, int rwflag, void *ud)
{
  const char *pw = ud;
  size_t n = pw ? strlen(pw) : 0;

  (void)rwflag;
  if(!pw || n >= (size_t)size)
    return 0;
  memcpy(buf, pw, n);
  return (int)n;
}

size_t sdc__pem_add_cas(X509_STORE *store, const char *pem, size_t len)
{
  BIO *b = BIO_new_mem_buf(pem, (int)len);
  X509 *x;
  size_t n = 0;

  while(b && (x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
    n += X509_STORE_add_cert(store, x) == 1;
    X509_free(x);
  }
  ERR_clear_error(); /* the end of the bundle reads as an error */
  BIO_free(b);
  return n;
}

bool sdc__pem_use_identity(SSL_CTX *ctx, const char *cert, size_t cert_len, const char *key,
                           size_t key_len, const char *pass, size_t *n_certs)
{
  BIO *b = BIO_new_mem_buf(cert, (int)cert_len);
  X509 *leaf = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL, *extra;
  EVP_PKEY *k = NULL;
  bool ok = leaf && SSL_CTX_use_certificate(ctx, leaf) == 1;
  size_t n = ok;

  while(ok && (extra = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
    if(SSL_CTX_add_extra_chain_cert(ctx, extra) != 1) { /* takes it */
      X509_free(extra);
      ok = false;
    }
    n++;
  }
  ERR_clear_error();
  BIO_free(b);
  X509_free(leaf);
  b = ok ? BIO_new_mem_buf(key, (int)key_len) : NULL;
  k = b ? PEM_read_bio_PrivateKey(b, NULL, pass_cb, (void *)pass) : NULL;
  ok = k && SSL_CTX_use_PrivateKey(ctx, k) == 1 && SSL_CTX_check_private_key(ctx) == 1;
  EVP_PKEY_free(k);
  BIO_free(b);
  ERR_clear_error();
  if(n_certs)
    *n_certs = n;
  return ok;
}

/* What makes two targets' contexts the same: verification, CA, identity. */
static void ctx_key(const sdc_target *t, unsigned char key[32])
{
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  unsigned char v = (unsigned char)t->verify;
  unsigned int n = 32;

  memset(key, 0, 32);
  if(!md)
    return;
  EVP_DigestInit_ex(md, EVP_sha256(), NULL);
  EVP_DigestUpdate(md, &v, 1);
#define FEED(ptr, len)                                                         \
  do {                                                                         \
    uint64_t l_ = (ptr) ? (uint64_t)(len) : UINT64_MAX;                        \
    EVP_DigestUpdate(md, &l_, sizeof(l_));                                     \
    if(ptr)                                                                    \
      EVP_DigestUpdate(md, (ptr), (len));                                      \
  } while(0)
  FEED(t->ca_pem, t->ca_len);
  FEED(t->cert, t->cert_len);
  FEED(t->key, t->key_len);
  FEED(t->pass, t->pass ? strlen(t->pass) : 0);
#undef FEED
  EVP_DigestFinal_ex(md, key, &n);
  EVP_MD_CTX_free(md);
}

/* A context for the target's TLS settings: shared by every target with
 * the same settings (a probe makes a target per endpoint per run, and an
 * SSL_CTX costs about 100 us to make in OpenSSL 3.0). NULL with `why` when
 * the material is unusable. */
static SSL_CTX *pool_ctx(sdc_pool *p, const sdc_target *t, char *why, size_t cap)
{
  unsigned char key[32];
  SSL_CTX *ctx;
  size_t slot;

  ctx_key(t, key);
  for(size_t i = 0; i < p->n_ctxs; i++)
    if(!memcmp(p->ctxs[i].key, key, sizeof(key)))
      return p->ctxs[i].ctx;
  if(!(ctx = SSL_CTX_new(TLS_client_method()))) {
    snprintf(why, cap, "out of memory");
    return NULL;
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_verify(ctx, t->verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
  /* a record in one recv(), not its header then its body; the reader
   * goes on until the answer is whole or OpenSSL wants more */
  SSL_CTX_set_read_ahead(ctx, 1);
  if(t->verify && !(t->ca_pem ? sdc__pem_add_cas(SSL_CTX_get_cert_store(ctx), t->ca_pem,
                                                t->ca_len) > 0
                              : SSL_CTX_set_default_verify_paths(ctx) == 1)) {
    snprintf(why, cap, "TLS: no usable CA certificates to verify %s against", t->host);
    SSL_CTX_free(ctx);
    return NULL;
  }
  if(t->cert && !sdc__pem_use_identity(ctx, t->cert, t->cert_len, t->key, t->key_len, t->pass,
                                        NULL)) {
    snprintf(why, cap, "TLS: the client certificate or key for %s is unusable: "
             "check the PEM files and the key's passphrase", t->host);
    SSL_CTX_free(ctx);
    return NULL;
  }
  /* a small cache: the oldest goes (connections keep their own reference) */
  if(p->n_ctxs < DIAL_CTXS) {
    slot = p->n_ctxs++;
  } else {
    SSL_CTX_free(p->ctxs[0].ctx);
    memmove(&p->ctxs[0], &p->ctxs[1], (DIAL_CTXS - 1) * sizeof(p->ctxs[0]));
    slot = DIAL_CTXS - 1;
  }
  memcpy(p->ctxs[slot].key, key, sizeof(key));
  p->ctxs[slot].ctx = ctx;
  return ctx;
}

void sdc__dial_cleanup(sdc_pool *p)
{
  for(size_t i = 0; i < p->n_ctxs; i++)
    SSL_CTX_free(p->ctxs[i].ctx);
  p->n_ctxs = 0;
}

/* ---- dialing -------------------------------------------------------------------- */
void sdc__dial_free(struct sdc__dial *d)
{
  if(!d)
    return;
  if(d->ssl) {
    if(d->done)
      SSL_shutdown(d->ssl); /* close_notify, best effort: never waited for */
    SSL_free(d->ssl);
  }
  if(d->fd >= 0)
    close(d->fd);
  sdc_free(d);
}

unsigned sdc__sockaddr_of(const char *addr, int port, struct sockaddr_storage *ss)
{
  memset(ss, 0, sizeof(*ss));
  if(strchr(addr, ':')) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    return inet_pton(AF_INET6, addr, &a->sin6_addr) == 1 ? sizeof(*a) : 0;
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, addr, &a->sin_addr) == 1 ? sizeof(*a) : 0;
  }
}

sdc_status sdc__connect_failure(int err, sdc_fail_kind *kind)
{
  *kind = err == ECONNREFUSED ? SDC_FAIL_CONNECT_REFUSED
          : err == ETIMEDOUT  ? SDC_FAIL_CONNECT_TIMEOUT
                              : SDC_FAIL_CONNECT;
  return err == ETIMEDOUT ? SDC_ETIMEDOUT : SDC_EUNAVAILABLE;
}

/* OpenSSL's socket BIO writes with write(): a peer gone away would raise
 * SIGPIPE in the program that links us. The same BIO, writing with
 * send(MSG_NOSIGNAL) (as libcurl does). */
static BIO_METHOD *nosig_method;
static pthread_once_t nosig_once = PTHREAD_ONCE_INIT;

static int send_nosignal(BIO *b, const char *buf, int len)
{
  int fd = -1;
  ssize_t n;

  BIO_get_fd(b, &fd);
  BIO_clear_retry_flags(b);
  n = send(fd, buf, len > 0 ? (size_t)len : 0, MSG_NOSIGNAL);
  if(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    BIO_set_retry_write(b);
  return (int)n;
}

static void nosig_cleanup(void)
{
  BIO_meth_free(nosig_method);
  nosig_method = NULL;
  nosig_once = (pthread_once_t)PTHREAD_ONCE_INIT; /* sdc_global_init() again */
}

static void nosig_make(void)
{
  const BIO_METHOD *s = BIO_s_socket();
  BIO_METHOD *m = BIO_meth_new(BIO_TYPE_SOCKET, "socket, no SIGPIPE");

  if(!m)
    return;
  BIO_meth_set_write(m, send_nosignal);
  BIO_meth_set_read(m, BIO_meth_get_read(s));
  BIO_meth_set_puts(m, BIO_meth_get_puts(s));
  BIO_meth_set_ctrl(m, BIO_meth_get_ctrl(s));
  BIO_meth_set_create(m, BIO_meth_get_create(s));
  BIO_meth_set_destroy(m, BIO_meth_get_destroy(s));
  nosig_method = m;
  sdc__cleanup_hook(nosig_cleanup);
}

/* `ssl` reads and writes `fd`; false when out of memory */
static bool ssl_on_socket(SSL *ssl, int fd)
{
  BIO *b;

  pthread_once(&nosig_once, nosig_make);
  if(!nosig_method || !(b = BIO_new(nosig_method)))
    return false;
  BIO_set_fd(b, fd, BIO_NOCLOSE);
  SSL_set_bio(ssl, b, b);
  return true;
}

sdc_status sdc__dial_start(sdc_pool *p, sdc_target *t, const char *addr, int port,
                           struct sdc__dial **out, sdc_fail_kind *kind,
                           char *why, size_t cap)
{
  struct sockaddr_storage ss;
  socklen_t len;
  struct sdc__dial *d;
  const char *h = t->host;
  char bare[64];
  unsigned char bin[16];

  *kind = SDC_FAIL_CONNECT;
  if(!(len = sdc__sockaddr_of(addr, port, &ss))) {
    snprintf(why, cap, "'%.60s' is not an address", addr);
    return SDC_EINVAL;
  }
  if(!(d = sdc__calloc(1, sizeof(*d)))) {
    *kind = SDC_FAIL_NOMEM;
    snprintf(why, cap, "out of memory");
    return SDC_ENOMEM;
  }
  d->start_us = sdc__now_us();
  d->has_cert = t->cert != NULL;
  snprintf(d->host, sizeof(d->host), "%s", t->host);
  d->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if(d->fd < 0) {
    snprintf(why, cap, "cannot connect: no socket: %s", strerror(errno));
    sdc__dial_free(d);
    return SDC_EUNAVAILABLE;
  }
  if(t->tls) {
    SSL_CTX *ctx = pool_ctx(p, t, why, cap);
    if(!ctx || !(d->ssl = SSL_new(ctx)) || !ssl_on_socket(d->ssl, d->fd)) {
      *kind = ctx ? SDC_FAIL_NOMEM : SDC_FAIL_CONFIG;
      if(ctx)
        snprintf(why, cap, "out of memory");
      sdc__dial_free(d);
      return ctx ? SDC_ENOMEM : SDC_ECONFIG;
    }
    if(h[0] == '[') { /* a bracketed IPv6 literal */
      size_t l = strlen(h);
      snprintf(bare, sizeof(bare), "%.*s", (int)(l - 2), h + 1);
      h = bare;
    }
    if(inet_pton(AF_INET, h, bin) == 1 || inet_pton(AF_INET6, h, bin) == 1) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(d->ssl), h);
    } else {
      SSL_set_tlsext_host_name(d->ssl, h);
      SSL_set1_host(d->ssl, h);
    }
    /* we speak HTTP/1.1 on it, as the pool's own connections do */
    SSL_set_alpn_protos(d->ssl, (const unsigned char *)"\x08http/1.1", 9);
    SSL_set_connect_state(d->ssl);
  }
  if(connect(d->fd, (struct sockaddr *)&ss, len) == 0) {
    d->tcp_up = true;
  } else if(errno != EINPROGRESS) {
    int err = errno;
    sdc_status st = sdc__connect_failure(err, kind);
    snprintf(why, cap, "cannot connect: %s", strerror(err));
    sdc__dial_free(d);
    return st;
  }
  d->events = POLLOUT;
  *out = d;
  return SDC_OK;
}

int sdc__dial_fd(const struct sdc__dial *d) { return d->fd; }
short sdc__dial_events(const struct sdc__dial *d) { return d->events; }
double sdc__dial_connect_ms(const struct sdc__dial *d) { return d->connect_ms; }
double sdc__dial_tls_ms(const struct sdc__dial *d) { return d->tls_ms; }
SSL *sdc__dial_ssl(const struct sdc__dial *d) { return d->ssl; }

/* Why the handshake failed, in the words libcurl's path uses. */
static sdc_status handshake_failed(struct sdc__dial *d, int err, sdc_fail_kind *kind,
                                   char *why, size_t cap)
{
  long vr = SSL_get_verify_result(d->ssl);
  unsigned long e = ERR_peek_error();
  char text[256] = "";
  int reason = ERR_GET_REASON(e);

  if(e)
    ERR_error_string_n(e, text, sizeof(text));
  else if(err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN)
    snprintf(text, sizeof(text), "the server closed the connection during the "
             "handshake%s%s", errno ? ": " : "", errno ? strerror(errno) : "");
  ERR_clear_error();
  if(reason == SSL_R_CERTIFICATE_VERIFY_FAILED && vr != X509_V_OK)
    *kind = vr == X509_V_ERR_HOSTNAME_MISMATCH || vr == X509_V_ERR_IP_ADDRESS_MISMATCH
                ? SDC_FAIL_TLS_HOSTNAME
            : vr == X509_V_ERR_CERT_HAS_EXPIRED || vr == X509_V_ERR_CERT_NOT_YET_VALID
                ? SDC_FAIL_TLS_EXPIRED
                : SDC_FAIL_TLS_VERIFY;
  else if(reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_NO_PROTOCOLS_AVAILABLE ||
          reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION || reason == SSL_R_WRONG_SSL_VERSION)
    *kind = SDC_FAIL_TLS_VERSION;
  else if(reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED ||
          reason == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE ||
          reason == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE ||
          reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA)
    *kind = SDC_FAIL_TLS_CLIENT_CERT;
  else
    *kind = SDC_FAIL_TLS_HANDSHAKE;
  return sdc__tls_message(*kind, vr, d->host, text, d->has_cert, why, cap);
}

int sdc__dial_step(struct sdc__dial *d, short revents, sdc_status *st,
                   sdc_fail_kind *kind, char *why, size_t cap)
{
  if(!d->tcp_up) {
    int err = 0;
    socklen_t el = sizeof(err);
    if(!(revents & (POLLOUT | POLLERR | POLLHUP)))
      return 0;
    if(getsockopt(d->fd, SOL_SOCKET, SO_ERROR, &err, &el) || err) {
      err = err ? err : errno;
      *st = sdc__connect_failure(err, kind);
      snprintf(why, cap, "cannot connect: %s", strerror(err));
      return -1;
    }
    d->tcp_up = true;
  }
  if(d->connect_ms <= 0) /* not timed yet */
    d->connect_ms = (double)(sdc__now_us() - d->start_us) / 1e3;
  if(d->ssl) {
    int rc = SSL_do_handshake(d->ssl), err;
    if(rc != 1) {
      err = SSL_get_error(d->ssl, rc);
      if(err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        d->events = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        return 0;
      }
      *st = handshake_failed(d, err, kind, why, cap);
      return -1;
    }
    d->tls_ms = (double)(sdc__now_us() - d->start_us) / 1e3;
  }
  d->done = true;
  d->events = POLLIN;
  return 1;
}

CURLcode sdc__dial_send(struct sdc__dial *d, const void *buf, size_t len, size_t *n)
{
  ssize_t w;

  *n = 0;
  if(!d->ssl) {
    w = send(d->fd, buf, len, MSG_NOSIGNAL);
    if(w >= 0) {
      *n = (size_t)w;
      return CURLE_OK;
    }
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? CURLE_AGAIN
                                                                      : CURLE_SEND_ERROR;
  }
  if(SSL_write_ex(d->ssl, buf, len, n) == 1)
    return CURLE_OK;
  switch(SSL_get_error(d->ssl, 0)) {
  case SSL_ERROR_WANT_READ:
  case SSL_ERROR_WANT_WRITE:
    return CURLE_AGAIN;
  default:
    return CURLE_SEND_ERROR;
  }
}

CURLcode sdc__dial_recv(struct sdc__dial *d, void *buf, size_t cap, size_t *n)
{
  ssize_t r;

  *n = 0;
  if(!d->ssl) {
    r = recv(d->fd, buf, cap, 0);
    if(r >= 0) {
      *n = (size_t)r;
      return CURLE_OK;
    }
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? CURLE_AGAIN
                                                                      : CURLE_RECV_ERROR;
  }
  if(SSL_read_ex(d->ssl, buf, cap, n) == 1)
    return CURLE_OK;
  switch(SSL_get_error(d->ssl, 0)) {
  case SSL_ERROR_WANT_READ:
  case SSL_ERROR_WANT_WRITE:
    return CURLE_AGAIN;
  case SSL_ERROR_ZERO_RETURN:
    return CURLE_OK; /* close_notify: the end, *n == 0 */
  default:
    return CURLE_RECV_ERROR;
  }
}

/* Why an established connection broke: a TLS 1.3 server that refuses a
 * client certificate says so only after the client's handshake is done,
 * often as a reset before its alert can be read. */
sdc_status sdc__dial_explain(struct sdc__dial *d, CURLcode rc, bool before_answer,
                             sdc_fail_kind *kind, char *why, size_t cap)
{
  unsigned long e = ERR_peek_error();
  int reason = ERR_GET_REASON(e);
  char text[256] = "";

  if(e)
    ERR_error_string_n(e, text, sizeof(text));
  else
    snprintf(text, sizeof(text), "%s", errno ? strerror(errno) : "connection reset");
  ERR_clear_error();
  if(d->ssl && (reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED ||
                reason == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE ||
                reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA ||
                reason == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE)) {
    *kind = SDC_FAIL_TLS_CLIENT_CERT;
    return sdc__tls_message(*kind, X509_V_OK, d->host, text, d->has_cert, why, cap);
  }
  if(d->ssl && before_answer && SSL_version(d->ssl) == TLS1_3_VERSION) {
    *kind = SDC_FAIL_TLS_CLIENT_CERT;
    snprintf(why, cap, "TLS: %s closed the connection right after the handshake "
             "(%s): it %s", d->host, text,
             d->has_cert ? "probably rejected the client certificate"
                         : "probably requires a client certificate (mTLS); give the "
                           "target a client certificate and key");
    return SDC_ETLS;
  }
  *kind = SDC_FAIL_PROTOCOL;
  snprintf(why, cap, "the connection broke while %s: %s",
           rc == CURLE_SEND_ERROR ? "sending" : "reading", text);
  return SDC_EUNAVAILABLE;
}
