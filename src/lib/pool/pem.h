/* SPDX-License-Identifier: Apache-2.0 */
/* PEM material into OpenSSL, for the pool's dialer and for diagnose's
 * handshakes (dial.c). */
#ifndef SDC_LIB_POOL_PEM_H
#define SDC_LIB_POOL_PEM_H

#include <openssl/ssl.h>

#include <stdbool.h>
#include <stddef.h>

/* Every certificate of a PEM bundle into `store`; how many went in. */
size_t sdc__pem_add_cas(X509_STORE *store, const char *pem, size_t len);
/* A client identity: the certificate, the intermediates after it (sent
 * with it), and its key (`pass` for an encrypted one, or NULL), checked to
 * belong together. *n_certs (may be NULL): certificates in all. */
bool sdc__pem_use_identity(SSL_CTX *ctx, const char *cert, size_t cert_len, const char *key,
                           size_t key_len, const char *pass, size_t *n_certs);

#endif
