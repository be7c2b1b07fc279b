/* SPDX-License-Identifier: Apache-2.0 */
/* The value of a Basic Authorization header (RFC 7617), for uptime checks'
 * basicAuthentication and webhooks' username/password. Every copy of the
 * credentials is wiped before it is freed. */
#include "auth.h"

#include "core/core.h"

#include <openssl/evp.h>
#include <string.h>

char *sdc__auth_basic(const char *user, const char *password)
{
  size_t ul = strlen(user), pl = password ? strlen(password) : 0;
  size_t n = ul + (password ? 1 + pl : 0);
  unsigned char *plain = sdc__malloc(n + 1);
  char *value = sdc__malloc(6 + 4 * ((n + 2) / 3) + 1);

  if(!plain || !value) {
    sdc_free(plain);
    sdc_free(value);
    return NULL;
  }
  memcpy(plain, user, ul);
  if(password) {
    plain[ul] = ':';
    memcpy(plain + ul + 1, password, pl);
  }
  memcpy(value, "Basic ", 6);
  EVP_EncodeBlock((unsigned char *)value + 6, plain, (int)n);
  memset(plain, 0, n);
  sdc_free(plain);
  return value;
}
