/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How Dialogflow CX counts a webhook attempt (dialogflow-webhooks sheet,
 * §10 C and D): the event it raises, the google.rpc.Status code it puts in
 * webhookStatuses, and whether it retries once.
 *
 * IMPLEMENTATION NOTES
 * - Events are documented: 400 bad-request, 401/403 rejected, 503
 *   unavailable, a timeout timeout, an unreachable URL (no connection, or
 *   no TLS session: a connection-level failure) not-found; everything else
 *   the plain webhook.error (an HTTP 404 too, §11.6).
 * - Codes are not documented (§11.8): the HTTP mapping of code.proto is
 *   used, as the sheet advises; answers that cannot be read are INTERNAL,
 *   no connection UNAVAILABLE, a token that could not be had
 *   UNAUTHENTICATED, a disabled webhook FAILED_PRECONDITION.
 * - Retries (§10.16-17, low confidence): connection failures and timeouts,
 *   and the statuses of sdconnect.retryOn (default 502, 503, 504). TLS
 *   failures are not retried: a certificate that fails now fails again.
 */
#include "webhook/webhook.h"

#include <stddef.h>

static const char *const rpc_names[] = {
    "OK",        "CANCELLED",          "UNKNOWN",      "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED", "NOT_FOUND",   "ALREADY_EXISTS", "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
    "UNIMPLEMENTED", "INTERNAL",       "UNAVAILABLE",  "DATA_LOSS",
    "UNAUTHENTICATED"};

/* code.proto's HTTP mapping, read backwards */
static int code_of_status(long s)
{
  switch(s) {
  case 400: return 3;
  case 401: return 16;
  case 403: return 7;
  case 404: return 5;
  case 409: return 10;
  case 429: return 8;
  case 499: return 1;
  case 501: return 12;
  case 503: return 14;
  case 504: return 4;
  default: return s >= 500 ? 13 : s >= 400 ? 9 : 2;
  }
}

static const char *event_of_status(long s)
{
  switch(s) {
  case 400: return "webhook.error.bad-request";
  case 401:
  case 403: return "webhook.error.rejected";
  case 503: return "webhook.error.unavailable";
  default: return "webhook.error";
  }
}

static int retried_status(const sdc_webhook *w, long s)
{
  static const int dflt[] = {502, 503, 504};
  const int *v = dflt;
  size_t n = 3;

  if(w && w->ext.n_retry_statuses) {
    v = w->ext.retry_statuses;
    n = w->ext.n_retry_statuses;
  }
  for(size_t i = 0; i < n; i++)
    if(v[i] == s)
      return 1;
  return 0;
}

void sdc_webhook_outcome_of(const sdc_webhook *w, sdc_webhook_failure failure,
                            long http_status, sdc_webhook_outcome *out)
{
  int code = 0;

  out->failure = failure;
  out->http_status = http_status;
  out->event = "webhook.error";
  out->retryable = 0;
  switch(failure) {
  case SDC_WEBHOOK_OK:
    out->event = NULL;
    break;
  case SDC_WEBHOOK_CONNECT:
    out->event = "webhook.error.not-found";
    out->retryable = 1;
    code = 14;
    break;
  case SDC_WEBHOOK_TLS:
    out->event = "webhook.error.not-found";
    code = 14;
    break;
  case SDC_WEBHOOK_TIMEOUT:
    out->event = "webhook.error.timeout";
    out->retryable = 1;
    code = 4;
    break;
  case SDC_WEBHOOK_HTTP_STATUS:
    out->event = event_of_status(http_status);
    out->retryable = retried_status(w, http_status);
    code = code_of_status(http_status);
    break;
  case SDC_WEBHOOK_TOO_LARGE:
  case SDC_WEBHOOK_BAD_RESPONSE:
    code = 13;
    break;
  case SDC_WEBHOOK_AUTH:
    code = 16;
    break;
  case SDC_WEBHOOK_DISABLED:
    code = 9;
    break;
  case SDC_WEBHOOK_BAD_REQUEST:
    code = 3;
    break;
  case SDC_WEBHOOK_INTERNAL: /* ours, not the webhook's: Dialogflow's INTERNAL */
    code = 13;
    break;
  }
  out->rpc_code = code;
  out->rpc_name = rpc_names[code];
}

const char *sdc_webhook_failure_name(sdc_webhook_failure f)
{
  static const char *const names[] = {"ok",       "connect", "tls",          "timeout",
                                      "http_status", "too_large", "bad_response", "auth",
                                      "disabled",    "bad_request", "internal"};
  return (unsigned)f < sizeof(names) / sizeof(names[0]) ? names[f] : "unknown";
}
