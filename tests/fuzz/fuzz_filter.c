/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the filter and order_by parsers, and evaluation of whatever
 * compiles against a fixed endpoint. Input: one filter text. */
#include "localsd.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const struct sd_kv kv[] = {{"owner", "sd"}, {"example.com/x", ""}};
  static const struct sd_view v = {SD_ENDPOINT, "projects/p/locations/l/namespaces/n/services/s/"
                                   "endpoints/e", "2001:db8::1", 8080, 2, kv};
  char *text = malloc(size + 1);
  struct sd_filter *f = NULL;
  struct sd_order o;
  struct sd_err e;

  if(!text)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  for(int k = SD_NAMESPACE; k <= SD_ENDPOINT; k++) {
    if(sd_filter_compile(text, (enum sd_kind)k, "filter", &f, &e) == GRPC_STATUS_OK) {
      (void)sd_filter_match(f, &v);
      sd_filter_free(f);
    }
    if(sd_order_parse(text, (enum sd_kind)k, &o, &e) == GRPC_STATUS_OK)
      (void)sd_order_compare(&o, &v, &v);
  }
  free(text);
  return 0;
}
