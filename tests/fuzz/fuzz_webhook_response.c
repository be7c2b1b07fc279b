/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: a standard webhook's answer read and applied to a turn, as
 * sdconnect reads what a webhook sends back. */
#include <sdconnect/sdconnect.h>

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const char request[] =
      "{\"detectIntentResponseId\": \"r\", \"messages\": [{\"text\": {\"text\": [\"q\"]}}], "
      "\"sessionInfo\": {\"session\": \"s\", \"parameters\": {\"a\": 1, \"b\": [2]}}}";
  char *out = NULL, err[512];

  if(sdc_webhook_response_read(request, data, size, &out, err, sizeof(err)) == SDC_OK)
    sdc_free(out);
  return 0;
}
