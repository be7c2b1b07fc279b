/* SPDX-License-Identifier: Apache-2.0 */
#include "answer.h"

#include <string.h>

size_t tanswer_write(char *p, size_t size, size_t n, void *ud)
{
  struct tanswer *a = ud;
  size_t take = size * n;

  if(take > sizeof(a->body) - 1 - a->len)
    take = sizeof(a->body) - 1 - a->len;
  memcpy(a->body + a->len, p, take);
  a->len += take;
  a->body[a->len] = '\0';
  return size * n;
}
