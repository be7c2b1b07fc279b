/* SPDX-License-Identifier: Apache-2.0 */
#include "certs.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>

struct tcert {
  X509 *x;
  EVP_PKEY *k;
};

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
  X509V3_CTX ctx;
  X509_EXTENSION *e;

  X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
  e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
  if(!e)
    return -1;
  X509_add_ext(x, e, -1);
  X509_EXTENSION_free(e);
  return 0;
}

struct tcert *tcert_new(const struct tcert_opts *o, const struct tcert *issuer)
{
  static long serial = 1;
  struct tcert *c = calloc(1, sizeof(*c));
  X509_NAME *name;

  if(!c)
    return NULL;
  c->k = EVP_EC_gen("P-256");
  c->x = X509_new();
  if(!c->k || !c->x)
    goto fail;
  X509_set_version(c->x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(c->x), serial++);
  X509_gmtime_adj(X509_getm_notBefore(c->x), (long)o->not_before_days * 86400L);
  X509_gmtime_adj(X509_getm_notAfter(c->x), (long)o->not_after_days * 86400L);
  X509_set_pubkey(c->x, c->k);
  name = X509_get_subject_name(c->x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)o->cn, -1, -1, 0);
  X509_set_issuer_name(c->x, issuer ? X509_get_subject_name(issuer->x) : name);
  if(add_ext(c->x, issuer ? issuer->x : c->x, NID_subject_key_identifier, "hash") ||
     add_ext(c->x, issuer ? issuer->x : c->x, NID_authority_key_identifier, "keyid:always"))
    goto fail;
  if(o->is_ca) {
    if(add_ext(c->x, c->x, NID_basic_constraints, "critical,CA:TRUE") ||
       add_ext(c->x, c->x, NID_key_usage, "critical,keyCertSign,cRLSign"))
      goto fail;
  } else {
    if(add_ext(c->x, c->x, NID_basic_constraints, "critical,CA:FALSE") ||
       add_ext(c->x, c->x, NID_key_usage, "critical,digitalSignature") ||
       add_ext(c->x, c->x, NID_ext_key_usage, o->client ? "clientAuth" : "serverAuth"))
      goto fail;
  }
  if(o->san && add_ext(c->x, c->x, NID_subject_alt_name, o->san))
    goto fail;
  if(!X509_sign(c->x, issuer ? issuer->k : c->k, EVP_sha256()))
    goto fail;
  return c;
fail:
  tcert_free(c);
  return NULL;
}

int tcert_write(const struct tcert *c, const char *dir, const char *name)
{
  char path[512];
  FILE *f;
  int ok;

  snprintf(path, sizeof(path), "%s/%s.pem", dir, name);
  f = fopen(path, "w");
  if(!f)
    return -1;
  ok = PEM_write_X509(f, c->x);
  fclose(f);
  snprintf(path, sizeof(path), "%s/%s.key", dir, name);
  f = fopen(path, "w");
  if(!f || !ok)
    return -1;
  ok = PEM_write_PrivateKey(f, c->k, NULL, NULL, 0, NULL, NULL);
  fclose(f);
  return ok ? 0 : -1;
}

int tcert_write_encrypted_key(const struct tcert *c, const char *dir,
                              const char *name, const char *pass)
{
  char path[512];
  FILE *f;
  int ok;

  snprintf(path, sizeof(path), "%s/%s.enc.key", dir, name);
  f = fopen(path, "w");
  if(!f)
    return -1;
  ok = PEM_write_PrivateKey(f, c->k, EVP_aes_256_cbc(), NULL, 0, NULL, (void *)pass);
  fclose(f);
  return ok ? 0 : -1;
}

int tcert_write_der(const struct tcert *c, const char *dir, const char *name)
{
  char path[512];
  FILE *f;
  int ok;

  snprintf(path, sizeof(path), "%s/%s.der", dir, name);
  f = fopen(path, "wb");
  if(!f)
    return -1;
  ok = i2d_X509_fp(f, c->x);
  fclose(f);
  return ok ? 0 : -1;
}

void tcert_free(struct tcert *c)
{
  if(!c)
    return;
  X509_free(c->x);
  EVP_PKEY_free(c->k);
  free(c);
}

char *tcert_slurp(const char *path)
{
  FILE *f = fopen(path, "rb");
  char *buf;
  long n;

  if(!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc((size_t)n + 1);
  if(buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  if(buf)
    buf[n] = '\0';
  fclose(f);
  return buf;
}

int tcert_write_trio(const char *dir, const char *server_cn, const char *server_san)
{
  struct tcert_opts ca_o = {"test CA", NULL, -1, 30, true, false};
  struct tcert_opts srv_o = {server_cn, server_san, -1, 30, false, false};
  struct tcert_opts cl_o = {"test client", NULL, -1, 30, false, true};
  struct tcert *ca = tcert_new(&ca_o, NULL);
  struct tcert *srv = ca ? tcert_new(&srv_o, ca) : NULL;
  struct tcert *cl = ca ? tcert_new(&cl_o, ca) : NULL;
  int rc = ca && srv && cl && !tcert_write(ca, dir, "ca") && !tcert_write(srv, dir, "server") &&
                   !tcert_write(cl, dir, "client")
               ? 0
               : -1;

  tcert_free(ca);
  tcert_free(srv);
  tcert_free(cl);
  return rc;
}
