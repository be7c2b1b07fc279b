/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: an OAuth token endpoint's answer, as the webhook caller
 * reads it (access_token and expires_in). */
#include "webhook/webhook.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *token = NULL;
  uint64_t ttl = 0;

  if(sdc__oauth_parse((const char *)data, size, &token, &ttl) == SDC_OK)
    sdc_free(token);
  return 0;
}
