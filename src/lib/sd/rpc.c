/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one way the library calls Service Directory: deadline for the whole
 * call, token fetched in the caller's thread before each attempt, the
 * headers official clients send (x-goog-request-params for routing,
 * x-goog-api-client to identify the client), and bounded retries with
 * exponential backoff and full jitter on UNAVAILABLE and DEADLINE_EXCEEDED.
 */
#include "resolver_int.h"

#include "auth/auth.h"
#include "core/core.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define PER_ATTEMPT_MIN_MS 50

static _Thread_local struct {
  const sdc_resolver *r;
  int grpc;
  char msg[1024];
} last;

void sdc__resolver_fail(const sdc_resolver *r, int grpc_code, const char *fmt,
                        ...)
{
  va_list ap;

  last.r = r;
  last.grpc = grpc_code;
  va_start(ap, fmt);
  vsnprintf(last.msg, sizeof(last.msg), fmt, ap);
  va_end(ap);
}

const char *sdc_resolver_errmsg(const sdc_resolver *r)
{
  return last.r == r ? last.msg : "";
}

int sdc_resolver_grpc_status(const sdc_resolver *r)
{
  return last.r == r ? last.grpc : -1;
}

const char *sdc__grpc_code_name(grpc_status_code code)
{
  static const char *const names[] = {
      "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
      "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
  return (unsigned)code < sizeof(names) / sizeof(names[0]) ? names[code]
                                                           : "UNKNOWN_CODE";
}

sdc_status sdc__status_from_grpc(grpc_status_code code)
{
  switch(code) {
  case GRPC_STATUS_OK: return SDC_OK;
  case GRPC_STATUS_NOT_FOUND: return SDC_ENOTFOUND;
  case GRPC_STATUS_ALREADY_EXISTS: return SDC_EEXIST;
  case GRPC_STATUS_INVALID_ARGUMENT:
  case GRPC_STATUS_OUT_OF_RANGE: return SDC_EINVAL;
  case GRPC_STATUS_PERMISSION_DENIED:
  case GRPC_STATUS_UNAUTHENTICATED: return SDC_EPERM;
  case GRPC_STATUS_UNAVAILABLE: return SDC_EUNAVAILABLE;
  case GRPC_STATUS_DEADLINE_EXCEEDED: return SDC_ETIMEDOUT;
  case GRPC_STATUS_RESOURCE_EXHAUSTED: return SDC_ETOOBIG;
  default: return SDC_EPROTO;
  }
}

/* x-goog-request-params value: key=URL-encoded value ('/' is %2F). */
static void routing_param(char *out, size_t n, const char *key, const char *v)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t o = (size_t)snprintf(out, n, "%s=", key);

  for(const unsigned char *p = (const unsigned char *)v; *p && o + 4 < n; p++) {
    if((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
       (*p >= '0' && *p <= '9') || strchr("-._~", *p)) {
      out[o++] = (char)*p;
    } else {
      out[o++] = '%';
      out[o++] = hex[*p >> 4];
      out[o++] = hex[*p & 15];
    }
  }
  out[o < n ? o : n - 1] = '\0';
}

static void sleep_ms(uint64_t ms)
{
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Full jitter: somewhere in [d/2, d]. */
static uint64_t jitter(uint64_t d)
{
  uint32_t rnd = 0;

  if(RAND_bytes((unsigned char *)&rnd, sizeof(rnd)) != 1)
    rnd = (uint32_t)sdc__now_ms();
  return d / 2 + (d / 2 ? rnd % (d / 2 + 1) : 0);
}

sdc_status sdc__sd_rpc(sdc_resolver *r, const char *method,
                       const char *routing_key, const char *routing_value,
                       const uint8_t *req, size_t len, bool retry,
                       struct sdc__grpc_result *out)
{
  uint64_t deadline = sdc__now_ms() + r->o.timeout_ms;
  uint64_t backoff = r->o.backoff_initial_ms, wait;
  grpc_channel *ch;
  unsigned attempts = retry ? r->o.max_attempts : 1;
  char params[1200], auth_value[SDC_TOKEN_MAX + 8], err[600];
  grpc_metadata md[3];
  size_t n_md = 2;
  sdc_status st = SDC_OK;

  routing_param(params, sizeof(params), routing_key, routing_value);
  memset(md, 0, sizeof(md));
  md[0].key = grpc_slice_from_static_string("x-goog-request-params");
  md[0].value = grpc_slice_from_static_string(params);
  md[1].key = grpc_slice_from_static_string("x-goog-api-client");
  md[1].value = grpc_slice_from_static_string(r->api_client);
  if(r->o.token && r->o.plaintext) {
    /* gRPC sends call credentials only over TLS; a token for a plaintext
     * loopback server goes in as plain metadata */
    snprintf(auth_value, sizeof(auth_value), "Bearer %s", r->o.token);
    md[2].key = grpc_slice_from_static_string("authorization");
    md[2].value = grpc_slice_from_static_string(auth_value);
    n_md = 3;
  }
  for(unsigned attempt = 1;; attempt++) {
    uint64_t now = sdc__now_ms();
    uint64_t left = deadline > now ? deadline - now : 0;
    if(left < PER_ATTEMPT_MIN_MS)
      left = PER_ATTEMPT_MIN_MS; /* one last short try rather than none */
    if(r->auth) {
      char token[SDC_TOKEN_MAX];
      sdc_status ast = sdc__auth_token(r->auth, token, sizeof(token), left,
                                       err, sizeof(err));
      OPENSSL_cleanse(token, sizeof(token));
      if(ast) {
        sdc__resolver_fail(r, -1, "credentials (%s): %s",
                           sdc__auth_describe(r->auth), err);
        st = ast;
        break;
      }
    }
    ch = sdc__chan_acquire(r->chan);
    st = sdc__grpc_unary_creds(ch, r->call_creds, method, req, len, md, n_md,
                               left, out);
    if(!st && out->code == GRPC_STATUS_UNAVAILABLE)
      sdc__chan_renew(r->chan, ch); /* a fresh connection for the retry */
    sdc__chan_release(r->chan, ch);
    if(st) {
      sdc__resolver_fail(r, -1, "internal error calling %s", method);
      break;
    }
    if(out->code == GRPC_STATUS_OK)
      break;
    if(attempt >= attempts ||
       (out->code != GRPC_STATUS_UNAVAILABLE &&
        out->code != GRPC_STATUS_DEADLINE_EXCEEDED))
      break;
    now = sdc__now_ms();
    wait = jitter(backoff);
    if(now + wait + PER_ATTEMPT_MIN_MS >= deadline)
      break; /* no time left for another attempt */
    sdc__grpc_result_cleanup(out);
    sleep_ms(wait);
    backoff = backoff * 2 > r->o.backoff_max_ms ? r->o.backoff_max_ms
                                                : backoff * 2;
  }
  OPENSSL_cleanse(auth_value, sizeof(auth_value));
  return st;
}
