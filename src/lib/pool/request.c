/* SPDX-License-Identifier: Apache-2.0 */
/* sdc_http_request made by a program: every setting copied (request.h). */
#include "request.h"

#include "core/core.h"
#include "pool_int.h"

#include <string.h>

sdc_status sdc_http_request_new(sdc_http_request **out, const char *url)
{
  sdc_http_request *r;

  if(!out || !url)
    return SDC_EINVAL;
  if(!(r = sdc__calloc(1, sizeof(*r))))
    return SDC_ENOMEM;
  if(!(r->own_url = sdc__strdup(url))) {
    sdc_free(r);
    return SDC_ENOMEM;
  }
  r->url = r->own_url;
  *out = r;
  return SDC_OK;
}

void sdc_http_request_free(sdc_http_request *r)
{
  if(!r)
    return;
  for(size_t i = 0; i < r->n_own_headers; i++)
    sdc_free(r->own_headers[i]);
  sdc_free(r->own_headers);
  sdc_free(r->own_method);
  sdc_free(r->own_url);
  sdc_free(r->own_avoid);
  sdc_free(r->own_body);
  sdc_free(r);
}

sdc_status sdc_http_request_set_method(sdc_http_request *r, const char *method)
{
  sdc_status st = sdc__replace_copy(&r->own_method, method);

  if(!st)
    r->method = r->own_method;
  return st;
}

sdc_status sdc_http_request_add_header(sdc_http_request *r, const char *line)
{
  char **grown, *copy;

  if(!line)
    return SDC_EINVAL;
  /* NULL-terminated, as the pool reads it */
  if(!(copy = sdc__strdup(line)))
    return SDC_ENOMEM;
  if(!(grown = sdc__realloc(r->own_headers, (r->n_own_headers + 2) * sizeof(*grown)))) {
    sdc_free(copy);
    return SDC_ENOMEM;
  }
  grown[r->n_own_headers++] = copy;
  grown[r->n_own_headers] = NULL;
  r->own_headers = grown;
  r->headers = (const char *const *)grown;
  return SDC_OK;
}

sdc_status sdc_http_request_set_body(sdc_http_request *r, const void *body, size_t len)
{
  void *copy = NULL;

  if(body && len && !(copy = sdc__copy_blob(body, len)))
    return SDC_ENOMEM;
  sdc_free(r->own_body);
  r->own_body = copy;
  r->body = copy;
  r->body_len = copy ? len : 0;
  return SDC_OK;
}

sdc_status sdc_http_request_set_timeout_ms(sdc_http_request *r, uint64_t ms)
{
  r->timeout_ms = ms;
  return SDC_OK;
}

sdc_status sdc_http_request_set_flags(sdc_http_request *r, unsigned flags)
{
  if(flags & ~(SDC_HTTP_FRESH_CONN | SDC_HTTP_TRUNCATE))
    return SDC_EINVAL;
  r->flags = flags;
  return SDC_OK;
}

sdc_status sdc_http_request_set_avoid_endpoint(sdc_http_request *r, const char *endpoint)
{
  sdc_status st = sdc__replace_copy(&r->own_avoid, endpoint);

  if(!st)
    r->avoid_endpoint = r->own_avoid;
  return st;
}
