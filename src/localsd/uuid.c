/* SPDX-License-Identifier: Apache-2.0 */
/* UUID4 text for the server-made `uid` fields (RFC 9562 section 5.4). */
#include "localsd.h"

#include <openssl/rand.h>
#include <stdio.h>

bool lsd_uuid4(char out[37])
{
  unsigned char b[16];

  if(RAND_bytes(b, sizeof(b)) != 1)
    return false;
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC variant */
  snprintf(out, 37,
           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
           b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
           b[11], b[12], b[13], b[14], b[15]);
  return true;
}
