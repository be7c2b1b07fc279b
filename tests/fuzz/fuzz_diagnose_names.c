/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: what diagnose reads from outside before it asks anything:
 * a service name, an endpoint's address and network (as the directory
 * returns them), and names compared for near misses. The input is split
 * at its first two newlines. */
#include "diagnose/diag.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text = malloc(size + 1), *a, *b, *c;
  struct sd_name n;

  if(!text)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  a = text;
  b = strchr(a, '\n') ? strchr(a, '\n') + 1 : a + strlen(a);
  if(*b)
    b[-1] = '\0';
  c = strchr(b, '\n') ? strchr(b, '\n') + 1 : b + strlen(b);
  if(*c)
    c[-1] = '\0';
  if(diag_parse_service(a, &n) && (strlen(n.project) >= sizeof(n.project) ||
                                   strlen(n.service) >= sizeof(n.service)))
    abort(); /* parts always fit */
  (void)diag_address_kind(b);
  (void)diag_network_problem(c);
  (void)diag_network_problem(a);
  if(diag_distance(a, b) > 9)
    abort();
  free(text);
  return 0;
}
