/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the config loader and the Webhook/Environment decoder, fed
 * a whole file (YAML or JSON), with and without an environment chosen.
 * Files named inside are looked up relative to the current directory. */
#include <sdconnect/sdconnect.h>

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  for(int pass = 0; pass < 2; pass++) {
    sdc_webhook_set *s = NULL;
    char *errs = NULL;
    if(sdc_webhooks_load_mem("fuzz.yaml", data, size, pass ? "staging" : NULL, &s,
                             &errs) == SDC_OK) {
      for(size_t i = 0; i < sdc_webhook_set_count(s); i++)
        (void)sdc_webhook_method(sdc_webhook_set_get(s, i));
      sdc_webhook_set_free(s);
    }
    sdc_free(errs);
  }
  return 0;
}
