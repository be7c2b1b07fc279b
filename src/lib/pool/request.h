/* SPDX-License-Identifier: Apache-2.0 */
/* sdc_http_request's fields: opaque to programs (they use the setters of
 * pool.h, so fields can be added), read directly inside the library, and
 * made on the stack by the library's own callers and its tests. */
#ifndef SDC_POOL_REQUEST_H
#define SDC_POOL_REQUEST_H

#include <sdconnect/pool.h>

struct sdc_http_request {
  const char *method;          /* NULL: GET, or POST when there is a body */
  const char *url;             /* https://host[:port]/path; host = target's */
  const char *const *headers;  /* "Name: value" lines, NULL-terminated */
  const void *body;
  size_t body_len;
  uint64_t timeout_ms;         /* whole request; 0: 30 s */
  unsigned flags;              /* SDC_HTTP_* */
  const char *avoid_endpoint;  /* "ADDR:PORT" not to use while the target has another */
  /* what sdc_http_request_new() and its setters copied, freed with it */
  char *own_method, *own_url, **own_headers, *own_avoid;
  void *own_body;
  size_t n_own_headers;
};

#endif
