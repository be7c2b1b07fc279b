/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLS for the pool: libcurl's shared session and DNS caches (locked), the
 * facts of a live connection read from OpenSSL, and errors that say which
 * check failed (issuer, host name, expiry, protocol version, client
 * certificate) instead of curl's generic wording.
 */
#define _GNU_SOURCE /* strcasestr, timegm */
#include "pool_int.h"

#include "core/core.h"

#include <errno.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
static pthread_once_t share_once = PTHREAD_ONCE_INIT;
static CURLSH *share;

static void lock_cb(CURL *h, curl_lock_data d, curl_lock_access a, void *u)
{
  (void)h;
  (void)a;
  (void)u;
  pthread_mutex_lock(&share_locks[d]);
}

static void unlock_cb(CURL *h, curl_lock_data d, void *u)
{
  (void)h;
  (void)u;
  pthread_mutex_unlock(&share_locks[d]);
}

static void share_init(void)
{
  for(int i = 0; i < CURL_LOCK_DATA_LAST; i++)
    pthread_mutex_init(&share_locks[i], NULL);
  share = curl_share_init();
  if(!share)
    return;
  curl_share_setopt(share, CURLSHOPT_LOCKFUNC, lock_cb);
  curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, unlock_cb);
  /* No TLS sessions: libcurl's session cache is off (see
   * sdc__target_set_tls()). */
  curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  sdc__cleanup_hook(sdc__curl_share_cleanup); /* sdc_global_cleanup() */
}

CURLSH *sdc__curl_share(void)
{
  pthread_once(&share_once, share_init);
  return share;
}

void sdc__curl_share_cleanup(void)
{
  if(share)
    curl_share_cleanup(share);
  share = NULL;
}

static int64_t asn1_to_unix(const ASN1_TIME *t)
{
  struct tm tm;

  memset(&tm, 0, sizeof(tm));
  if(!t || ASN1_TIME_to_tm(t, &tm) != 1)
    return 0;
  return (int64_t)timegm(&tm);
}

void sdc__tls_facts_capture(CURL *easy, char *version, size_t vcap,
                            char *cipher, size_t ccap,
                            long *verify, int64_t *expiry, char ***chain,
                            size_t *n_chain)
{
  struct curl_tlssessioninfo *info = NULL;

  if(curl_easy_getinfo(easy, CURLINFO_TLS_SSL_PTR, &info) != CURLE_OK ||
     !info || info->backend != CURLSSLBACKEND_OPENSSL || !info->internals)
    return;
  sdc__tls_facts_from_ssl(info->internals, version, vcap, cipher, ccap, verify,
                          expiry, chain, n_chain);
}

void sdc__tls_facts_from_ssl(SSL *ssl, char *version, size_t vcap,
                             char *cipher, size_t ccap, long *verify,
                             int64_t *expiry, char ***chain, size_t *n_chain)
{
  STACK_OF(X509) *sk;
  int n;

  snprintf(version, vcap, "%s", SSL_get_version(ssl));
  snprintf(cipher, ccap, "%s", SSL_get_cipher_name(ssl));
  *verify = SSL_get_verify_result(ssl);
  sk = SSL_get_peer_cert_chain(ssl);
  n = sk ? sk_X509_num(sk) : 0;
  *chain = n > 0 ? sdc__calloc((size_t)n, sizeof(char *)) : NULL;
  *n_chain = 0;
  *expiry = 0;
  for(int i = 0; i < n && *chain; i++) {
    X509 *x = sk_X509_value(sk, i);
    char subject[512];
    int64_t na = asn1_to_unix(X509_get0_notAfter(x));
    X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof(subject));
    (*chain)[i] = sdc__strdup(subject);
    if((*chain)[i])
      (*n_chain)++;
    if(na && (!*expiry || na < *expiry))
      *expiry = na;
  }
}

sdc_status sdc__tls_message(sdc_fail_kind kind, long vr, const char *host,
                            const char *why, bool has_client_cert, char *out,
                            size_t cap)
{
  switch(kind) {
  case SDC_FAIL_TLS_HOSTNAME:
    snprintf(out, cap, "TLS: the certificate does not name %s in its subject "
             "alternative names; it must, since Google checks the URL's host", host);
    break;
  case SDC_FAIL_TLS_EXPIRED:
    if(vr == X509_V_ERR_CERT_NOT_YET_VALID)
      snprintf(out, cap, "TLS: the certificate of %s is not valid yet (check clocks)",
               host);
    else
      snprintf(out, cap, "TLS: the certificate of %s has expired; renew it", host);
    break;
  case SDC_FAIL_TLS_VERIFY:
    if(vr != X509_V_OK)
      snprintf(out, cap, "TLS: the certificate of %s is not signed by a trusted CA (%s); "
               "give the target the CA that issued it", host,
               X509_verify_cert_error_string(vr));
    else
      snprintf(out, cap, "TLS: verification of %s failed: %s", host, why);
    break;
  case SDC_FAIL_TLS_VERSION:
    snprintf(out, cap, "TLS: %s offers no TLS 1.2 or newer (%s); TLS 1.0 and 1.1 "
             "are refused", host, why);
    break;
  case SDC_FAIL_TLS_CLIENT_CERT:
    snprintf(out, cap, "TLS: %s requires a client certificate it accepts (%s); %s",
             host, why, has_client_cert ? "it refused the one given"
                                        : "give the target a client certificate and key");
    break;
  default:
    snprintf(out, cap, "TLS: handshake with %s failed: %s", host, why);
    break;
  }
  return SDC_ETLS;
}

static int has(const char *s, const char *needle)
{
  return s && strcasestr(s, needle) != NULL;
}

sdc_status sdc__curl_explain(CURLcode rc, CURL *easy, const char *errbuf,
                             const char *host, bool has_client_cert, char *out,
                             size_t cap, sdc_fail_kind *kind)
{
  long vr = 0, conns = 0, oserr = 0;
  curl_off_t tls_done = 0, connected = 0;
  const char *why = errbuf && *errbuf ? errbuf : curl_easy_strerror(rc);

  curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &oserr);
  curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &connected);
  *kind = SDC_FAIL_PROTOCOL;

  curl_easy_getinfo(easy, CURLINFO_SSL_VERIFYRESULT, &vr);
  curl_easy_getinfo(easy, CURLINFO_APPCONNECT_TIME_T, &tls_done);
  curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &conns);
  switch(rc) {
  case CURLE_PEER_FAILED_VERIFICATION:
    /* curl checks the name itself; OpenSSL's result then says little */
    /* curl checks the name itself; OpenSSL's result then says little */
    *kind = vr == X509_V_ERR_HOSTNAME_MISMATCH || has(why, "subject name") ||
                    has(why, "host name")
                ? SDC_FAIL_TLS_HOSTNAME
            : vr == X509_V_ERR_CERT_HAS_EXPIRED || vr == X509_V_ERR_CERT_NOT_YET_VALID
                ? SDC_FAIL_TLS_EXPIRED
                : SDC_FAIL_TLS_VERIFY;
    return sdc__tls_message(*kind, vr, host, why, has_client_cert, out, cap);
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
    *kind = SDC_FAIL_TLS_HANDSHAKE;
    if(has(why, "unsupported protocol") || has(why, "protocol version") ||
       has(why, "no protocols available")) {
      *kind = SDC_FAIL_TLS_VERSION;
      return sdc__tls_message(*kind, vr, host, why, has_client_cert, out, cap);
    } else if(has(why, "certificate required") || has(why, "handshake failure") ||
            has(why, "bad certificate") || has(why, "unknown ca")) {
      *kind = SDC_FAIL_TLS_CLIENT_CERT;
      return sdc__tls_message(*kind, vr, host, why, has_client_cert, out, cap);
    } else if(rc == CURLE_SSL_CONNECT_ERROR) {
      return sdc__tls_message(*kind, vr, host, why, has_client_cert, out, cap);
    } else if(conns > 0 && tls_done > 0) {
      *kind = SDC_FAIL_TLS_CLIENT_CERT;
      /* TLS 1.3: the client finishes its handshake before the server has
       * judged the client certificate; a refusal then arrives as a reset
       * on the fresh connection, often before the alert can be read */
      snprintf(out, cap, "TLS: %s closed the connection right after the "
               "handshake (%s): it %s", host, why,
               has_client_cert ? "probably rejected the client certificate"
                               : "probably requires a client certificate "
                                 "(mTLS); give the target a client "
                                 "certificate and key");
    } else {
      *kind = SDC_FAIL_PROTOCOL;
      break;
    }
    return SDC_ETLS;
  case CURLE_SSL_CACERT_BADFILE:
    *kind = SDC_FAIL_CONFIG;
    snprintf(out, cap, "TLS: no CA certificates to verify %s against (%s): install "
             "the system store (Debian: ca-certificates) or give the target its CA",
             host, why);
    return SDC_ECONFIG;
  case CURLE_SSL_CERTPROBLEM:
    *kind = SDC_FAIL_CONFIG;
    snprintf(out, cap, "TLS: the client certificate or key for %s is unusable "
             "(%s): check the PEM files and the key's passphrase", host, why);
    return SDC_ECONFIG;
  case CURLE_OPERATION_TIMEDOUT:
    *kind = connected ? SDC_FAIL_TIMEOUT : SDC_FAIL_CONNECT_TIMEOUT;
    snprintf(out, cap, "timed out: %s", why);
    return SDC_ETIMEDOUT;
  case CURLE_COULDNT_CONNECT:
    *kind = oserr == ECONNREFUSED ? SDC_FAIL_CONNECT_REFUSED : SDC_FAIL_CONNECT;
    snprintf(out, cap, "cannot connect: %s", why);
    return SDC_EUNAVAILABLE;
  case CURLE_OUT_OF_MEMORY:
    *kind = SDC_FAIL_NOMEM;
    snprintf(out, cap, "out of memory");
    return SDC_ENOMEM;
  default:
    break;
  }
  snprintf(out, cap, "%s", why);
  return SDC_EUNAVAILABLE;
}
