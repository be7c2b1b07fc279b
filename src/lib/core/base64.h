/* SPDX-License-Identifier: Apache-2.0 */
/* Decoding base64 whose padding is already gone: the standard alphabet
 * and the URL one (RFC 4648 sections 4 and 5). */
#ifndef SDC_CORE_BASE64_H
#define SDC_CORE_BASE64_H

#include <stdbool.h>
#include <stddef.h>

/* Decode in[0, len) into out, which has room for len * 3 / 4 bytes.
 * url_only takes only "-_" for 62 and 63; otherwise "+/" too. Returns the
 * bytes written, or (size_t)-1 with *bad the offset of the first character
 * outside the alphabet. Trailing bits of a short last group are dropped. */
size_t sdc__base64_decode(const char *in, size_t len, bool url_only,
                          unsigned char *out, size_t *bad);

#endif
