/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Page tokens: opaque to clients, bound to the query that issued them and
 * signed, so a client can neither forge a position nor reuse a token with
 * another filter, order_by or parent (INVALID_ARGUMENT either way).
 *
 * Layout before base64url: version(1) | mode(1) | query digest(8) |
 * position (name bytes, or an 8-byte big-endian offset) | HMAC-SHA256(16)
 * over everything before it, keyed by a secret kept in the database so
 * tokens survive restarts.
 */
#include "localsd.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_VERSION 1
#define MAC_LEN 16
#define HEAD_LEN 10
#define MAX_RAW (HEAD_LEN + LSD_MAX_NAME + MAC_LEN)

void lsd_token_query_digest(const char *parent, const char *filter,
                           const char *order_by, uint8_t out[8])
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  EVP_MD_CTX *c = EVP_MD_CTX_new();

  memset(md, 0, sizeof(md));
  if(c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
     EVP_DigestUpdate(c, parent, strlen(parent) + 1) &&
     EVP_DigestUpdate(c, filter, strlen(filter) + 1) &&
     EVP_DigestUpdate(c, order_by, strlen(order_by) + 1))
    EVP_DigestFinal_ex(c, md, &mdlen);
  EVP_MD_CTX_free(c);
  memcpy(out, md, 8);
}

static void mac(const uint8_t key[LSD_TOKEN_KEY_LEN], const uint8_t *data,
                size_t len, uint8_t out[MAC_LEN])
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;

  HMAC(EVP_sha256(), key, LSD_TOKEN_KEY_LEN, data, len, md, &mdlen);
  memcpy(out, md, MAC_LEN);
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* OpenSSL's base64, then the URL alphabet without padding (RFC 4648 5). */
static char *b64url_encode(const uint8_t *in, size_t len)
{
  char *out = malloc(len / 3 * 4 + 5);
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

static int b64_val(char c)
{
  const char *p = c ? strchr(b64, c) : NULL;
  return p ? (int)(p - b64) : -1;
}

static bool b64url_decode(const char *in, uint8_t *out, size_t cap,
                          size_t *len)
{
  size_t n = strlen(in), o = 0;
  uint32_t acc = 0;
  int bits = 0;

  if(n % 4 == 1)
    return false;
  for(size_t i = 0; i < n; i++) {
    int v = b64_val(in[i]);
    if(v < 0)
      return false;
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if(bits >= 8) {
      bits -= 8;
      if(o == cap)
        return false;
      out[o++] = (uint8_t)(acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  if(acc) /* leftover bits must be zero: one encoding per token */
    return false;
  *len = o;
  return true;
}

char *lsd_token_encode(const uint8_t key[LSD_TOKEN_KEY_LEN],
                      const uint8_t digest[8], const struct lsd_page_pos *pos)
{
  uint8_t raw[MAX_RAW];
  size_t n = 0;

  raw[n++] = TOKEN_VERSION;
  raw[n++] = pos->by_name ? 'n' : 'o';
  memcpy(raw + n, digest, 8);
  n += 8;
  if(pos->by_name) {
    size_t l = strlen(pos->after);
    memcpy(raw + n, pos->after, l);
    n += l;
  } else {
    for(int i = 7; i >= 0; i--)
      raw[n++] = (uint8_t)(pos->offset >> (8 * i));
  }
  mac(key, raw, n, raw + n);
  n += MAC_LEN;
  return b64url_encode(raw, n);
}

grpc_status_code lsd_token_decode(const uint8_t key[LSD_TOKEN_KEY_LEN],
                                 const uint8_t digest[8], const char *token,
                                 struct lsd_page_pos *pos, struct lsd_err *e)
{
  uint8_t raw[MAX_RAW], want[MAC_LEN];
  size_t n = 0, body;

  if(strlen(token) > (MAX_RAW + 2) / 3 * 4 ||
     !b64url_decode(token, raw, sizeof(raw), &n) ||
     n < HEAD_LEN + MAC_LEN || raw[0] != TOKEN_VERSION ||
     (raw[1] != 'n' && raw[1] != 'o'))
    goto bad;
  body = n - MAC_LEN;
  mac(key, raw, body, want);
  if(CRYPTO_memcmp(want, raw + body, MAC_LEN))
    goto bad;
  if(memcmp(raw + 2, digest, 8))
    return lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT,
                   "page_token was issued for a different parent, filter or "
                   "order_by; repeat the first request without page_token");
  memset(pos, 0, sizeof(*pos));
  pos->by_name = raw[1] == 'n';
  if(pos->by_name) {
    memcpy(pos->after, raw + HEAD_LEN, body - HEAD_LEN);
    pos->after[body - HEAD_LEN] = '\0';
  } else {
    if(body - HEAD_LEN != 8)
      goto bad;
    for(size_t i = 0; i < 8; i++)
      pos->offset = (pos->offset << 8) | raw[HEAD_LEN + i];
  }
  return GRPC_STATUS_OK;
bad:
  return lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT,
                 "page_token is not valid: pass the next_page_token of the "
                 "previous response unchanged");
}
