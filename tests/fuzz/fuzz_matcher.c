/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: content matchers and JSONPath. Input: one byte of matcher
 * kind, one of JSON matcher kind, the content up to '\n', the JSON path up
 * to '\n', then the body the matcher is run on. */
#include "core/core.h"
#include "probe/check.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next field up to '\n' (or the end), malloc'd; advances *p. */
static char *field(const uint8_t **p, const uint8_t *end)
{
  const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
  size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
  char *s = sdc__malloc(n + 1);

  if(s) {
    memcpy(s, *p, n);
    s[n] = '\0';
  }
  *p += nl ? n + 1 : n;
  return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const uint8_t *p = data + 2, *end = data + size;
  struct content_matcher m;
  char why[300];

  if(size < 2)
    return 0;
  memset(&m, 0, sizeof(m));
  m.kind = (enum matcher_kind)(1 + data[0] % 6);
  m.json_kind = (enum json_matcher)(1 + data[1] % 2);
  m.content = field(&p, end);
  m.json_path = m.kind >= MATCH_JSON_PATH ? field(&p, end) : NULL;
  if(m.content && (m.kind < MATCH_JSON_PATH || m.json_path)) {
    m.content_len = strlen(m.content);
    if(sdc__match_prepare(&m, why, sizeof(why)))
      (void)sdc__match(&m, (const char *)p, (size_t)(end - p), why, sizeof(why));
  }
  sdc__match_cleanup(&m);
  return 0;
}
