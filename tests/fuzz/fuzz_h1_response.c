/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the pool's HTTP/1.1 response reader, i.e. whatever a webhook
 * server sends back. Input: one byte of settings (HEAD or not, small or
 * default caps, piece size), then the bytes the server sent. */
#include "pool/h1.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct h1_reader r;
  size_t step, i;
  uint8_t how;

  if(!size)
    return 0;
  how = data[0];
  data++;
  size--;
  step = (size_t)(how >> 3) + 1; /* 1..32 bytes per read */
  h1_reader_init(&r, how & 1, (how & 2) ? 64 : 65536, (how & 4) ? 256 : 16384);
  for(i = 0; i < size; i += step) {
    size_t n = size - i < step ? size - i : step;
    if(h1_reader_feed(&r, (const char *)data + i, n))
      break;
  }
  if(i >= size && !r.complete)
    (void)h1_reader_eof(&r);
  /* what the pool hands out must hold together */
  if(r.hdrs && strlen(r.hdrs) != r.hdr_n)
    __builtin_trap();
  if(r.body_n > r.max_body || r.hdr_n > r.max_header)
    __builtin_trap();
  h1_reader_free(&r);
  return 0;
}
