/* SPDX-License-Identifier: Apache-2.0 */
/* Throwaway X.509 certificates for TLS tests, made with OpenSSL's API in the
 * test's own temp dir: a private CA, server and client certificates. */
#ifndef SDC_TEST_CERTS_H
#define SDC_TEST_CERTS_H

#include <stdbool.h>

struct tcert;

struct tcert_opts {
  const char *cn;
  const char *san;   /* e.g. "DNS:localhost,IP:127.0.0.1"; NULL for none */
  int not_before_days; /* relative to now; negative = in the past */
  int not_after_days;  /* negative makes an expired certificate */
  bool is_ca;
  bool client;       /* extendedKeyUsage clientAuth (else serverAuth) */
};

/* Signed by `issuer`, or self-signed when issuer is NULL. NULL on error. */
struct tcert *tcert_new(const struct tcert_opts *o, const struct tcert *issuer);
/* Write <dir>/<name>.pem (certificate) and <dir>/<name>.key (PKCS#8). */
int tcert_write(const struct tcert *c, const char *dir, const char *name);
/* Write <dir>/<name>.enc.key: the key encrypted (AES-256-CBC) with `pass`. */
int tcert_write_encrypted_key(const struct tcert *c, const char *dir,
                              const char *name, const char *pass);
/* Write <dir>/<name>.der: the certificate in DER. */
int tcert_write_der(const struct tcert *c, const char *dir, const char *name);
void tcert_free(struct tcert *c);
/* A CA, a server certificate it signed (`server_cn`, SAN `server_san`)
 * and a client certificate it signed, written to `dir` as ca, server and
 * client (.pem and .key). 0, or -1. */
int tcert_write_trio(const char *dir, const char *server_cn, const char *server_san);

/* Read a whole file into a malloc'd string (NULL on error). */
char *tcert_slurp(const char *path);

#endif
