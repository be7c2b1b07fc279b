/* SPDX-License-Identifier: Apache-2.0 */
/* What an HTTP request made with libcurl got back, for tests. */
#ifndef SDC_TEST_ANSWER_H
#define SDC_TEST_ANSWER_H

#include <stddef.h>

struct tanswer {
  long status;
  char body[16384]; /* cut there, NUL-terminated */
  size_t len;
};

/* CURLOPT_WRITEFUNCTION with a struct tanswer as CURLOPT_WRITEDATA. */
size_t tanswer_write(char *p, size_t size, size_t n, void *ud);

#endif
