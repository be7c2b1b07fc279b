/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Targets: a URL host and port with its TLS settings, client identity and
 * where to connect (given addresses, or a Service Directory service whose
 * endpoints are refreshed from the resolver).
 */
#define _GNU_SOURCE /* memmem */
#include "pool_int.h"

#include "core/core.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- targets ------------------------------------------------------------- */
/* "[v6 literal]", as URLs write it. */
static bool bracketed_v6(const char *host)
{
  char inner[64];
  size_t l = strlen(host);
  struct in6_addr a;

  if(l < 4 || l - 2 >= sizeof(inner) || host[0] != '[' || host[l - 1] != ']')
    return false;
  memcpy(inner, host + 1, l - 2);
  inner[l - 2] = '\0';
  return inet_pton(AF_INET6, inner, &a) == 1;
}

sdc_status sdc_target_new(sdc_target **out, const char *host, int port, int tls)
{
  sdc_target *t;

  if(!host || !*host || strlen(host) > 253 ||
     (strpbrk(host, " /:@[]") && !bracketed_v6(host)) || port < 1 || port > 65535)
    return SDC_EINVAL;
  t = sdc__calloc(1, sizeof(*t));
  if(!t || !(t->host = sdc__strdup(host))) {
    sdc_free(t);
    return SDC_ENOMEM;
  }
  t->port = port;
  t->tls = !!tls;
  t->verify = 1;
  *out = t;
  return SDC_OK;
}

static void wipe_free(char *s, size_t n)
{
  if(s) {
    OPENSSL_cleanse(s, n);
    sdc_free(s);
  }
}

void sdc__target_flush_idle(sdc_target *t)
{
  while(t->n_idle)
    curl_easy_cleanup(t->idle[--t->n_idle]);
}

void sdc_target_free(sdc_target *t)
{
  if(!t)
    return;
  sdc__target_flush_idle(t);
  sdc_free(t->host);
  sdc_free(t->ca_pem);
  sdc_free(t->cert);
  wipe_free(t->key, t->key_len);
  wipe_free(t->pass, t->pass ? strlen(t->pass) : 0);
  sdc_free(t->eps);
  sdc_free(t->service);
  sdc_service_release(t->snapshot);
  sdc_free(t);
}

char *sdc__copy_blob(const void *data, size_t len)
{
  char *c = sdc__malloc(len + 1);

  if(c) {
    memcpy(c, data, len);
    c[len] = '\0';
  }
  return c;
}

sdc_status sdc_target_set_ca(sdc_target *t, const void *data, size_t len)
{
  char *pem;

  if(!data || !len)
    return SDC_EINVAL;
  if(memmem(data, len, "-----BEGIN", 10)) {
    pem = sdc__copy_blob(data, len);
  } else { /* DER: one certificate, turned into PEM for libcurl */
    const unsigned char *p = data;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    BIO *b = x ? BIO_new(BIO_s_mem()) : NULL;
    char *mem = NULL;
    long n = 0;
    if(b && PEM_write_bio_X509(b, x))
      n = BIO_get_mem_data(b, &mem);
    pem = n > 0 ? sdc__copy_blob(mem, (size_t)n) : NULL;
    BIO_free(b);
    X509_free(x);
    if(!pem)
      return x ? SDC_ENOMEM : SDC_EINVAL;
    len = (size_t)n;
  }
  if(!pem)
    return SDC_ENOMEM;
  sdc__target_flush_idle(t);
  sdc_free(t->ca_pem);
  t->ca_pem = pem;
  t->ca_len = len;
  return SDC_OK;
}

sdc_status sdc_target_set_client_cert(sdc_target *t, const void *cert,
                                      size_t cert_len, const void *key,
                                      size_t key_len, const char *passphrase)
{
  char *c, *k, *pw = NULL;

  if(!cert || !cert_len || !key || !key_len)
    return SDC_EINVAL;
  c = sdc__copy_blob(cert, cert_len);
  k = sdc__copy_blob(key, key_len);
  if(passphrase)
    pw = sdc__strdup(passphrase);
  if(!c || !k || (passphrase && !pw)) {
    sdc_free(c);
    wipe_free(k, key_len);
    sdc_free(pw);
    return SDC_ENOMEM;
  }
  sdc__target_flush_idle(t);
  sdc_free(t->cert);
  wipe_free(t->key, t->key_len);
  wipe_free(t->pass, t->pass ? strlen(t->pass) : 0);
  t->cert = c;
  t->cert_len = cert_len;
  t->key = k;
  t->key_len = key_len;
  t->pass = pw;
  return SDC_OK;
}

sdc_status sdc_target_set_verify(sdc_target *t, int verify)
{
  sdc__target_flush_idle(t);
  t->verify = !!verify;
  return SDC_OK;
}

sdc_status sdc_target_set_addresses(sdc_target *t, const char *const *addrs,
                                    const int *ports, size_t n)
{
  struct endpoint *eps;

  if(!n)
    return SDC_EINVAL;
  eps = sdc__calloc(n, sizeof(*eps));
  if(!eps)
    return SDC_ENOMEM;
  for(size_t i = 0; i < n; i++) {
    if(strlen(addrs[i]) >= sizeof(eps[i].addr) || ports[i] < 1 || ports[i] > 65535) {
      sdc_free(eps);
      return SDC_EINVAL;
    }
    snprintf(eps[i].addr, sizeof(eps[i].addr), "%s", addrs[i]);
    eps[i].port = ports[i];
  }
  sdc_free(t->eps);
  t->eps = eps;
  t->n_eps = n;
  t->rr = 0;
  return SDC_OK;
}

sdc_status sdc_target_set_service(sdc_target *t, sdc_resolver *r,
                                  const char *service)
{
  char *s;

  if(!r || !service || !*service)
    return SDC_EINVAL;
  s = sdc__strdup(service);
  if(!s)
    return SDC_ENOMEM;
  sdc_free(t->service);
  t->service = s;
  t->resolver = r;
  return SDC_OK;
}

/* Rebuild the endpoint list from the directory's answer `s` (a reference
 * this takes over, even on failure), keeping the down marks of endpoints
 * that are still there. */
sdc_status sdc__target_apply(sdc_target *t, const sdc_service *s)
{
  struct endpoint *eps;
  size_t n = 0;

  if(s == t->snapshot) {
    sdc_service_release(s);
    return SDC_OK;
  }
  eps = sdc__calloc(s->n_endpoints ? s->n_endpoints : 1, sizeof(*eps));
  if(!eps) {
    sdc_service_release(s);
    return SDC_ENOMEM;
  }
  for(size_t i = 0; i < s->n_endpoints; i++) {
    const sdc_endpoint *e = &s->endpoints[i];
    if(!e->usable || strlen(e->address) >= sizeof(eps[n].addr))
      continue; /* reported by resolve; cannot be dialed */
    snprintf(eps[n].addr, sizeof(eps[n].addr), "%s", e->address);
    eps[n].port = e->port;
    for(size_t j = 0; j < t->n_eps; j++)
      if(!strcmp(t->eps[j].addr, e->address) && t->eps[j].port == e->port)
        eps[n].down_until_ms = t->eps[j].down_until_ms;
    n++;
  }
  sdc_free(t->eps);
  t->eps = eps;
  t->n_eps = n;
  sdc_service_release(t->snapshot);
  t->snapshot = s;
  return SDC_OK;
}

/* The next endpoint that is not down, round-robin; -1 if none. */
long sdc__target_pick(sdc_target *t, uint64_t now)
{
  for(size_t k = 0; k < t->n_eps; k++) {
    size_t i = (t->rr + k) % t->n_eps;
    if(t->eps[i].down_until_ms <= now) {
      t->rr = i + 1;
      return (long)i;
    }
  }
  return -1;
}

/* OpenSSL keeps ~34 KiB of buffers per connection; an idle pooled
 * connection needs none of them. */
static CURLcode ssl_ctx_setup(CURL *curl, void *ctx, void *ud)
{
  (void)curl;
  (void)ud;
  SSL_CTX_set_mode((SSL_CTX *)ctx, SSL_MODE_RELEASE_BUFFERS);
  return CURLE_OK;
}

bool sdc__target_set_tls(CURL *e, const sdc_target *t)
{
  /* blobs and strings are copied by libcurl: a copy that fails must not
   * leave a handle without its CA (it would then trust nobody's, or the
   * system's) */
  int bad = 0;

  bad |= curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_setup) != CURLE_OK;
  /* no TLS session cache: Debian 12's libcurl (7.88) frees a session's
   * host name twice when storing the session runs out of memory (found by
   * tests/integration/test_oom.c). libcurl's connections (HTTP/2) are few
   * and long-lived; the pool's own HTTP/1.1 ones resume nothing either. */
  bad |= curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, 0L) != CURLE_OK;
  bad |= curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK;
  bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, (long)t->verify) != CURLE_OK;
  bad |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, t->verify ? 2L : 0L) != CURLE_OK;
  if(t->ca_pem) {
    struct curl_blob b = {t->ca_pem, t->ca_len, CURL_BLOB_COPY};
    bad |= curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b) != CURLE_OK;
  }
  if(t->cert) {
    struct curl_blob c = {t->cert, t->cert_len, CURL_BLOB_COPY};
    struct curl_blob k = {t->key, t->key_len, CURL_BLOB_COPY};
    bad |= curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &c) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM") != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &k) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM") != CURLE_OK;
    if(t->pass)
      bad |= curl_easy_setopt(e, CURLOPT_KEYPASSWD, t->pass) != CURLE_OK;
  }
  return !bad;
}


void sdc__target_endpoint(const sdc_target *t, size_t i, char *ep, size_t epcap,
                          char *line, size_t linecap)
{
  const struct endpoint *e = &t->eps[i];
  bool v6 = strchr(e->addr, ':') != NULL;

  snprintf(ep, epcap, "%s%s%s:%d", v6 ? "[" : "", e->addr, v6 ? "]" : "", e->port);
  snprintf(line, linecap, "%s:%d:%s", t->host, t->port, ep);
}
