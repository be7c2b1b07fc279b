/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The auth module's own HTTP client: one libcurl easy handle per token
 * fetch (they happen about once an hour), bounded answer size, no
 * redirects, http and https only. Bodies hold tokens: never logged.
 */
#include "auth.h"

#include "core/core.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#define MAX_BODY (64 * 1024)

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
  struct sdc__http_resp *r = ud;
  size_t len = size * n;
  char *grown;

  if(r->len + len > MAX_BODY)
    return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
  grown = sdc__realloc(r->body, r->len + len + 1);
  if(!grown)
    return 0;
  r->body = grown;
  memcpy(r->body + r->len, p, len);
  r->len += len;
  r->body[r->len] = '\0';
  return len;
}

sdc_status sdc__http_fetch(const char *url, const char *form,
                           const char *const *headers, uint64_t timeout_ms,
                           struct sdc__http_resp *out, char *err,
                           size_t errlen)
{
  CURL *c = curl_easy_init();
  struct curl_slist *hl = NULL;
  char cerr[CURL_ERROR_SIZE] = "";
  CURLcode rc;
  sdc_status st = SDC_OK;

  memset(out, 0, sizeof(*out));
  if(!c)
    return SDC_ENOMEM;
  for(size_t i = 0; headers && headers[i]; i++) {
    struct curl_slist *n = curl_slist_append(hl, headers[i]);
    if(!n) {
      st = SDC_ENOMEM;
      goto out;
    }
    hl = n;
  }
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "sdconnect-auth");
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*"); /* token endpoints are direct */
  if(hl)
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
  if(form)
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
  rc = curl_easy_perform(c);
  if(rc != CURLE_OK) {
    snprintf(err, errlen, "%s", cerr[0] ? cerr : curl_easy_strerror(rc));
    st = rc == CURLE_WRITE_ERROR ? SDC_ETOOBIG : SDC_EUNAVAILABLE;
    goto out;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
  if(!out->body) {
    out->body = sdc__malloc(1);
    if(!out->body) {
      st = SDC_ENOMEM;
      goto out;
    }
    out->body[0] = '\0';
  }
out:
  curl_slist_free_all(hl);
  curl_easy_cleanup(c);
  if(st)
    sdc__http_resp_cleanup(out);
  return st;
}

void sdc__http_resp_cleanup(struct sdc__http_resp *r)
{
  if(r->body) {
    memset(r->body, 0, r->len); /* may hold a token */
    sdc_free(r->body);
  }
  r->body = NULL;
  r->len = 0;
}
