/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the config loader and the UptimeCheckConfig decoder, fed a
 * whole file (YAML or JSON). Files named inside are looked up relative to
 * the current directory; anything not a regular file is refused. */
#include <sdconnect/sdconnect.h>

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  sdc_check_set *s = NULL;
  char *errs = NULL;

  if(sdc_checks_load_mem("fuzz.yaml", data, size, &s, &errs) == SDC_OK) {
    for(size_t i = 0; i < sdc_check_set_count(s); i++)
      (void)sdc_check_id(sdc_check_set_get(s, i));
    sdc_check_set_free(s);
  }
  sdc_free(errs);
  return 0;
}
