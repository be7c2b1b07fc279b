/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Service-account JWT assertions (RFC 7519 / RFC 7523): header and claims
 * as base64url JSON, signed RS256 with the key file's private key.
 */
#include "auth.h"

#include "core/core.h"

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>

/* OpenSSL's base64, then the URL alphabet without padding (RFC 4648 5). */
char *sdc__b64url(const unsigned char *in, size_t len)
{
  char *out = sdc__malloc(len / 3 * 4 + 5);
  int n;

  if(!out)
    return NULL;
  n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
  while(n > 0 && out[n - 1] == '=')
    n--;
  out[n] = '\0';
  for(char *p = out; *p; p++)
    *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
  return out;
}

static char *b64url_json(json_t *j)
{
  char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
  char *out;

  if(!s)
    return NULL;
  out = sdc__b64url((const unsigned char *)s, strlen(s));
  sdc__json_free(s);
  return out;
}

sdc_status sdc__jwt_assertion(const char *private_key_pem, const char *key_id,
                              const char *client_email, const char *scope,
                              const char *target_audience, const char *audience,
                              int64_t now_s, char **out, char *err,
                              size_t errlen)
{
  sdc_status st = SDC_ENOMEM;
  json_t *hdr = json_pack("{s:s, s:s}", "alg", "RS256", "typ", "JWT");
  json_t *claims = json_pack("{s:s, s:s, s:s, s:I, s:I}", "iss", client_email,
                             scope ? "scope" : "target_audience",
                             scope ? scope : target_audience, "aud", audience,
                             "iat", (json_int_t)now_s,
                             "exp", (json_int_t)(now_s + 3600));
  char *h64 = NULL, *c64 = NULL, *s64 = NULL, *jwt = NULL, *input = NULL;
  BIO *bio = NULL;
  EVP_PKEY *key = NULL;
  EVP_MD_CTX *md = NULL;
  unsigned char sig[1024];
  size_t siglen = sizeof(sig), n;

  if(!hdr || !claims)
    goto out;
  if(key_id && *key_id && json_object_set_new(hdr, "kid", json_string(key_id)))
    goto out;
  h64 = b64url_json(hdr);
  c64 = b64url_json(claims);
  if(!h64 || !c64)
    goto out;
  n = strlen(h64) + 1 + strlen(c64) + 1;
  input = sdc__malloc(n);
  if(!input)
    goto out;
  snprintf(input, n, "%s.%s", h64, c64);
  bio = BIO_new_mem_buf(private_key_pem, -1);
  key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
  if(!key) {
    snprintf(err, errlen, "private_key is not a PEM private key");
    st = SDC_ECONFIG;
    goto out;
  }
  md = EVP_MD_CTX_new();
  if(!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
     EVP_DigestSign(md, sig, &siglen, (const unsigned char *)input,
                    strlen(input)) != 1) {
    snprintf(err, errlen, "private_key cannot sign RS256 (is it an RSA key?)");
    st = SDC_ECONFIG;
    goto out;
  }
  s64 = sdc__b64url(sig, siglen);
  if(!s64)
    goto out;
  n = strlen(input) + 1 + strlen(s64) + 1;
  jwt = sdc__malloc(n);
  if(!jwt)
    goto out;
  snprintf(jwt, n, "%s.%s", input, s64);
  *out = jwt;
  st = SDC_OK;
out:
  json_decref(hdr);
  json_decref(claims);
  sdc_free(h64);
  sdc_free(c64);
  sdc_free(s64);
  sdc_free(input);
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(key);
  BIO_free(bio);
  return st;
}
