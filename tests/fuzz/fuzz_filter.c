/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the filter and order_by parsers, and evaluation of whatever
 * compiles against a fixed endpoint. Input: one filter text. */
#include "localsd.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const struct lsd_kv kv[] = {{"owner", "sd"}, {"example.com/x", ""}};
  static const struct lsd_view v = {LSD_ENDPOINT, "projects/p/locations/l/namespaces/n/services/s/"
                                   "endpoints/e", "2001:db8::1", 8080, 2, kv};
  char *text = malloc(size + 1);
  struct lsd_filter *f = NULL;
  struct lsd_order o;
  struct lsd_err e;

  if(!text)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  for(int k = LSD_NAMESPACE; k <= LSD_ENDPOINT; k++) {
    if(lsd_filter_compile(text, (enum lsd_kind)k, "filter", &f, &e) == GRPC_STATUS_OK) {
      (void)lsd_filter_match(f, &v);
      lsd_filter_free(f);
    }
    if(lsd_order_parse(text, (enum lsd_kind)k, &o, &e) == GRPC_STATUS_OK)
      (void)lsd_order_compare(&o, &v, &v);
  }
  free(text);
  return 0;
}
