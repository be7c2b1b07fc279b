/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: flexible webhooks. The input is rendered as a request body
 * and as a URL against fixed values, and read as an answer whose fields a
 * fixed parameterMapping takes. */
#include <sdconnect/sdconnect.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const char values[] =
      "{\"session\": {\"id\": \"a\\\"b\", \"n\": 3, \"o\": {\"k\": [1, {\"x\": null}]},"
      " \"t\": true, \"u\": null, \"a.b\": \"dot\"}, \"page\": {\"p\": 1.5},"
      " \"request\": {\"language\": \"en\"}}";
  static const char hook[] =
      "displayName: f\ngenericWebService: {uri: 'https://a/', webhookType: FLEXIBLE,"
      " parameterMapping: {a: $.a, b: '$.b[0].c', c: $, d: '$.x[9999999999]'}}\n";
  static sdc_webhook_set *set;
  char *tmpl = malloc(size + 1), *out = NULL, err[256];

  if(!tmpl)
    return 0;
  memcpy(tmpl, data, size);
  tmpl[size] = '\0';
  if(!set && sdc_webhooks_load_mem("f.yaml", hook, strlen(hook), NULL, &set, NULL))
    abort();
  if(sdc_webhook_render_body(tmpl, values, &out, err, sizeof(err)) == SDC_OK)
    sdc_free(out);
  out = NULL;
  if(sdc_webhook_render_uri(tmpl, values, &out, err, sizeof(err)) == SDC_OK)
    sdc_free(out);
  out = NULL;
  if(sdc_webhook_map_parameters(sdc_webhook_set_get(set, 0), data, size, &out, err,
                                sizeof(err)) == SDC_OK)
    sdc_free(out);
  free(tmpl);
  return 0;
}
