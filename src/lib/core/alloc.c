/* SPDX-License-Identifier: Apache-2.0 */
/* Allocator hooks: everything the library allocates goes through here, so
 * tests can fail the n-th allocation and embedders can bring their own. */
#include "core.h"

#include <stdlib.h>
#include <string.h>

static sdc_allocator alloc = {malloc, calloc, realloc, free};

void sdc__allocator_set(const sdc_allocator *a)
{
  if(a)
    alloc = *a;
  else
    alloc = (sdc_allocator){malloc, calloc, realloc, free};
}

void *sdc__malloc(size_t size) { return alloc.malloc(size); }
void *sdc__calloc(size_t nmemb, size_t size) { return alloc.calloc(nmemb, size); }
void *sdc__realloc(void *ptr, size_t size) { return alloc.realloc(ptr, size); }

void sdc_free(void *ptr)
{
  if(ptr)
    alloc.free(ptr);
}

char *sdc__strdup(const char *s)
{
  size_t n = strlen(s) + 1;
  char *p = sdc__malloc(n);

  if(p)
    memcpy(p, s, n);
  return p;
}

sdc_status sdc__replace_copy(char **slot, const char *s)
{
  char *copy = NULL;

  if(s && !(copy = sdc__strdup(s)))
    return SDC_ENOMEM;
  sdc_free(*slot);
  *slot = copy;
  return SDC_OK;
}

void sdc__free_secret(char *s)
{
  volatile char *p = s; /* volatile: the wipe is not optimised away */

  if(!s)
    return;
  while(*p)
    *p++ = '\0';
  sdc_free(s);
}
