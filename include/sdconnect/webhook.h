/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Dialogflow CX webhooks: `Webhook` resources in Google's REST JSON field
 * names (YAML or JSON, as the API returns them), loaded and validated the
 * way the API validates them, with an environment's overrides applied.
 *
 * Threads: a loaded set is immutable and may be read from any thread; a
 * caller (sdc_webhook_caller) belongs to the thread that drives its pool.
 * Blocking: loading reads files and sdc_webhook_request_build() reads
 * random bytes; calls never block: they progress in sdc_pool_perform()
 * and report there. OAuth and ID tokens and secrets are fetched on
 * threads of their own.
 */
#ifndef SDCONNECT_WEBHOOK_H
#define SDCONNECT_WEBHOOK_H

#include <sdconnect/common.h>
#include <sdconnect/pool.h>
#include <sdconnect/resolver.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sdc_webhook sdc_webhook;
typedef struct sdc_webhook_set sdc_webhook_set;

/*! `Webhook.GenericWebService.WebhookType`. */
typedef enum sdc_webhook_type {
  SDC_WEBHOOK_STANDARD = 1,
  SDC_WEBHOOK_FLEXIBLE = 2
} sdc_webhook_type;

/*! `GenericWebService.ServiceAgentAuth` (UNSPECIFIED is read as ID_TOKEN,
 *  as the API documents). */
typedef enum sdc_webhook_agent_auth {
  SDC_WEBHOOK_AGENT_AUTH_NONE = 1,
  SDC_WEBHOOK_AGENT_AUTH_ID_TOKEN = 2,
  SDC_WEBHOOK_AGENT_AUTH_ACCESS_TOKEN = 3
} sdc_webhook_agent_auth;

/*! Load the webhooks of one file: a Webhook, a list of them, a
 *  ListWebhooks answer ({"webhooks": [...]}), or several YAML documents.
 *  Environment resources (with `webhookConfig.webhookOverrides`) may sit
 *  beside them; `environment` (its id, display name or full name; NULL:
 *  none) picks the one whose overrides are applied: an override replaces
 *  `genericWebService` or `serviceDirectory` of the webhook it names.
 *  Everything the API would reject is reported, each problem as
 *  "FILE:LINE:COL: FIELD: what is wrong (expected ...)" with the fix.
 *  \param[out] out     Set on SDC_OK only; free with sdc_webhook_set_free().
 *  \param[out] errors  On SDC_ECONFIG the problems, one per line; on
 *                      SDC_EIO why the file is unreadable (sdc_free()). May
 *                      be NULL.
 *  \return SDC_OK, SDC_ECONFIG, SDC_EIO, SDC_ETOOBIG (over 4 MiB),
 *  SDC_ENOMEM, SDC_EINVAL (a NULL argument). */
SDC_EXTERN sdc_status sdc_webhooks_load_file(const char *path,
                                             const char *environment,
                                             sdc_webhook_set **out,
                                             char **errors);
/*! The same from memory; `name` stands for the file in messages, and
 *  relative file names inside are taken from the current directory.
 *  \return SDC_OK, SDC_ECONFIG, SDC_ETOOBIG, SDC_ENOMEM, SDC_EINVAL (a
 *  NULL argument). */
SDC_EXTERN sdc_status sdc_webhooks_load_mem(const char *name, const void *data,
                                            size_t len, const char *environment,
                                            sdc_webhook_set **out,
                                            char **errors);
SDC_EXTERN void sdc_webhook_set_free(sdc_webhook_set *s); /* NULL ok */
SDC_EXTERN size_t sdc_webhook_set_count(const sdc_webhook_set *s);
/*! Borrowed until the set is freed; NULL past the end. */
SDC_EXTERN const sdc_webhook *sdc_webhook_set_get(const sdc_webhook_set *s,
                                                  size_t i);
/*! The webhook whose id, display name or full name is `key`; NULL if
 *  none. */
SDC_EXTERN const sdc_webhook *sdc_webhook_set_find(const sdc_webhook_set *s,
                                                   const char *key);

/*! The last segment of `name`, or, without a name, the display name made
 *  lowercase with runs of other characters as '-'. */
SDC_EXTERN const char *sdc_webhook_id(const sdc_webhook *w);
SDC_EXTERN const char *sdc_webhook_display_name(const sdc_webhook *w);
/*! The Service Directory service it reaches, or NULL for a plain URL. */
SDC_EXTERN const char *sdc_webhook_service(const sdc_webhook *w);
/*! `uri` as configured (a flexible webhook's may hold references). */
SDC_EXTERN const char *sdc_webhook_uri(const sdc_webhook *w);
SDC_EXTERN sdc_webhook_type sdc_webhook_kind(const sdc_webhook *w);
/*! "POST" for standard webhooks; the configured method (default POST)
 *  for flexible ones. */
SDC_EXTERN const char *sdc_webhook_method(const sdc_webhook *w);
/*! Per attempt: `timeout`, default 5 s, at most 30 s. */
SDC_EXTERN uint64_t sdc_webhook_timeout_ms(const sdc_webhook *w);
SDC_EXTERN int sdc_webhook_disabled(const sdc_webhook *w);
/*! The environment whose override was applied to it, or NULL. */
SDC_EXTERN const char *sdc_webhook_environment(const sdc_webhook *w);

/* ---- a standard webhook's request -------------------------------------------- */
typedef struct sdc_webhook_request_opts sdc_webhook_request_opts;

/*! What a WebhookRequest is built from. */
typedef enum sdc_webhook_request_field {
  SDC_WEBHOOK_REQUEST_JSON = 1,     /*!< a whole WebhookRequest to start from */
  SDC_WEBHOOK_REQUEST_TEXT = 2,     /*!< the user's text */
  SDC_WEBHOOK_REQUEST_TAG = 3,      /*!< fulfillmentInfo.tag */
  SDC_WEBHOOK_REQUEST_LANGUAGE = 4, /*!< languageCode (default "en") */
  SDC_WEBHOOK_REQUEST_PAGE = 5,     /*!< the current page: a display name or a page name */
  SDC_WEBHOOK_REQUEST_PAYLOAD = 6,  /*!< payload: a JSON object */
  SDC_WEBHOOK_REQUEST_PARAM = 7     /*!< a session parameter "NAME=VALUE" (added; VALUE
                                         is JSON when it reads as JSON, else a string) */
} sdc_webhook_request_field;

/*! SDC_OK, SDC_EINVAL, SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_webhook_request_opts_new(sdc_webhook_request_opts **out);
SDC_EXTERN void sdc_webhook_request_opts_free(sdc_webhook_request_opts *o); /* NULL ok */
/*! Set (copied; NULL clears) or, for SDC_WEBHOOK_REQUEST_PARAM, add. SDC_OK,
 *  SDC_EINVAL, SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_webhook_request_opts_set(sdc_webhook_request_opts *o,
                                                   sdc_webhook_request_field f,
                                                   const char *value);
/*! The WebhookRequest Dialogflow CX would send `w` for `o`, as JSON text
 *  (sdc_free()): the fields Dialogflow always fills are filled (a new
 *  detectIntentResponseId, fulfillmentInfo.tag, pageInfo, a new session of
 *  the webhook's agent, under its environment when one was chosen),
 *  nothing undocumented is added.
 *  \return SDC_OK, SDC_EINVAL (`err`: a request or payload that is not a
 *  JSON object, a parameter that is not NAME=VALUE), SDC_ENOMEM,
 *  SDC_EINTERNAL (no random bytes). */
SDC_EXTERN sdc_status sdc_webhook_request_build(const sdc_webhook *w,
                                                const sdc_webhook_request_opts *o,
                                                char **out, char *err, size_t errcap);

/* ---- a standard webhook's answer -------------------------------------------- */
/*! Read a standard webhook's answer (`body`, `len` bytes) as Dialogflow CX
 *  does: at most 64 KiB, JSON, a WebhookResponse whose known fields have
 *  their types and whose oneofs hold one member (unknown fields are
 *  accepted, as Dialogflow accepts them); then apply it to the turn of
 *  `request_json` (the WebhookRequest sent, or NULL).
 *  \param[out] result_json  On SDC_OK (sdc_free()): {"messages": the queued
 *    messages merged with the answer's (APPEND, or REPLACE), "mergeBehavior",
 *    "parameters": session parameters after the answer (null removes),
 *    "changedParameters", "removedParameters", "invalidParameters" (form
 *    parameters marked INVALID), "targetPage"/"targetFlow" when given,
 *    "payload"}. NULL: the answer is only checked, not applied.
 *  \param err  On failure, what is wrong, naming the field's path or the
 *    size.
 *  \return SDC_OK, SDC_ETOOBIG (over 64 KiB), SDC_EPROTO (not JSON, or a
 *  field Dialogflow would refuse), SDC_EINVAL (bad arguments, or
 *  `request_json` not JSON), SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_webhook_response_read(const char *request_json,
                                                const void *body, size_t len,
                                                char **result_json, char *err,
                                                size_t errcap);

/* ---- flexible webhooks -------------------------------------------------------- */
/*! The values references take, as JSON text: {"session": {parameters},
 *  "page": {...}, "intent": {...}, "request": {...}}; any member may be
 *  left out (its references are unset). References:
 *  `$session.params.NAME`, `$page.params.NAME`, `$intent.params.NAME`
 *  (NAME compared without case; `.field` steps after it walk into a
 *  composite value) and `$request.KEY`. */

/*! A flexible webhook's `requestBody` with its references replaced: a
 *  string that is one reference takes the value's JSON type (string,
 *  number, boolean, list, object; unset: null); a reference inside longer
 *  text becomes text (unset: ""). The result is checked to be JSON.
 *  \param[out] out  On SDC_OK (sdc_free()).
 *  \return SDC_OK, SDC_EPROTO (not JSON once rendered; `err` says where),
 *  SDC_EINVAL (`params_json` not a JSON object), SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_webhook_render_body(const char *tmpl,
                                              const char *params_json,
                                              char **out, char *err,
                                              size_t errcap);
/*! A flexible webhook's `uri` with each reference replaced by its text,
 *  percent-encoded (all but A-Z a-z 0-9 - . _ ~; unset: ""). SDC_OK,
 *  SDC_EINVAL, SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_webhook_render_uri(const char *tmpl,
                                             const char *params_json,
                                             char **out, char *err,
                                             size_t errcap);
/*! `w`'s parameterMapping applied to its answer: {"parameters": {name:
 *  value taken at its `$.path`}, "missing": [names whose path is not in
 *  the answer]} (sdc_free()).
 *  \return SDC_OK, SDC_ETOOBIG (over 64 KiB), SDC_EPROTO (not JSON),
 *  SDC_EINVAL, SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_webhook_map_parameters(const sdc_webhook *w,
                                                 const void *body, size_t len,
                                                 char **params_json, char *err,
                                                 size_t errcap);

/* ---- how a call ended, as Dialogflow counts it ----------------------------- */
/*! What went wrong in one attempt (SDC_WEBHOOK_OK: nothing). Append-only. */
typedef enum sdc_webhook_failure {
  SDC_WEBHOOK_OK = 0,
  SDC_WEBHOOK_CONNECT = 1,      /*!< no connection: DNS, refused, unreachable, reset */
  SDC_WEBHOOK_TLS = 2,          /*!< the handshake or the certificate check failed */
  SDC_WEBHOOK_TIMEOUT = 3,      /*!< no whole answer within the timeout */
  SDC_WEBHOOK_HTTP_STATUS = 4,  /*!< an answer that is not 2xx */
  SDC_WEBHOOK_TOO_LARGE = 5,    /*!< an answer over 64 KiB */
  SDC_WEBHOOK_BAD_RESPONSE = 6, /*!< not JSON, or not a valid WebhookResponse */
  SDC_WEBHOOK_AUTH = 7,         /*!< a token or secret for the call could not be had */
  SDC_WEBHOOK_DISABLED = 8,     /*!< the webhook is disabled: no call */
  SDC_WEBHOOK_BAD_REQUEST = 9,  /*!< the request could not be made (a flexible body
                                     that is not JSON once rendered) */
  SDC_WEBHOOK_INTERNAL = 10     /*!< sdconnect could not make or finish the call
                                     (out of memory): nothing is said of the webhook */
} sdc_webhook_failure;

/*! What Dialogflow makes of an attempt: the event it raises (sheet §10 D),
 *  the `webhookStatuses` entry (a google.rpc.Code and its name), and
 *  whether it retries once (§10 C). Strings are static. Frozen: the
 *  program makes it for sdc_webhook_outcome_of(). */
typedef struct sdc_webhook_outcome {
  sdc_webhook_failure failure;
  long http_status;       /*!< $request.webhook_status_code; 0 without an answer */
  const char *event;      /*!< "webhook.error.timeout", ...; NULL on success */
  int rpc_code;           /*!< google.rpc.Code: 0 OK, 4 DEADLINE_EXCEEDED, ... */
  const char *rpc_name;   /*!< "OK", "DEADLINE_EXCEEDED", ... */
  int retryable;          /*!< Dialogflow tries once more */
} sdc_webhook_outcome;

/*! The outcome of an attempt that ended with `failure` and (for answers)
 *  `http_status`. Retried: connection failures, timeouts and the statuses
 *  of `w`'s sdconnect.retryOn (default 502, 503, 504); `w` may be NULL for
 *  the default. */
SDC_EXTERN void sdc_webhook_outcome_of(const sdc_webhook *w,
                                       sdc_webhook_failure failure,
                                       long http_status,
                                       sdc_webhook_outcome *out);
/*! "connect", "tls", "timeout", "http_status", "too_large",
 *  "bad_response", "auth", "disabled", "bad_request", "internal", or "ok":
 *  for metrics and logs. */
SDC_EXTERN const char *sdc_webhook_failure_name(sdc_webhook_failure f);

/* ---- calling ------------------------------------------------------------------ */
typedef struct sdc_webhook_caller sdc_webhook_caller;

/*! Calls webhooks over `pool`, resolving Service Directory webhooks through
 *  `res` (both borrowed: they must outlive the caller; `res` may be NULL
 *  when no webhook names a service). On the pool's loop thread.
 *  \return SDC_OK, SDC_EINVAL, SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_webhook_caller_new(sdc_webhook_caller **out,
                                             sdc_pool *pool, sdc_resolver *res);
/*! Stop calling: no call starts and no attempt is retried any more;
 *  requests under way and calls waiting for credentials end now (their
 *  callbacks run inside this), the rest (a host or OAuth token being
 *  looked up) at their next step on the loop. NULL ok. */
SDC_EXTERN void sdc_webhook_caller_close(sdc_webhook_caller *c);
/*! With `on` 0, the calls' result_json is not built: a standard answer is
 *  still checked as Dialogflow checks it, but not applied to the turn (a
 *  gateway that hands the answer on needs no turn). Default 1. */
SDC_EXTERN void sdc_webhook_caller_set_turns(sdc_webhook_caller *c, int on);
/*! Calls whose callback has not run yet. */
SDC_EXTERN size_t sdc_webhook_caller_live(const sdc_webhook_caller *c);
/*! Close, then free. Free once sdc_webhook_caller_live() is 0 (drive the
 *  pool after closing until it is), or after the pool. NULL ok. The
 *  caller keeps one pool target per URL host and TLS settings, so calls
 *  reuse connections. */
SDC_EXTERN void sdc_webhook_caller_free(sdc_webhook_caller *c);

/*! One call's end, borrowed for the callback. Append-only: the library
 *  makes it. */
typedef struct sdc_webhook_call_result {
  const sdc_webhook *webhook;
  sdc_webhook_outcome outcome;   /*!< of the last attempt */
  unsigned attempts;             /*!< 1, or 2 after Dialogflow's retry; 0: no call */
  sdc_webhook_outcome first;     /*!< the first attempt's, when retried */
  const char *detail;            /*!< what went wrong, for people; "" when nothing */
  const char *url, *method;      /*!< as sent (a flexible URL rendered) */
  const char *request_body;      /*!< as sent, or NULL */
  const char *const *headers_shown; /*!< "Name: value", secrets as ****; NULL-ended */
  const sdc_http_response *response; /*!< the last answer (endpoint, TLS, timings), or NULL */
  const char *result_json;       /*!< standard: the turn (sdc_webhook_response_read());
                                      flexible: the mapped parameters; NULL on failure */
} sdc_webhook_call_result;

typedef void (*sdc_webhook_cb)(const sdc_webhook_call_result *r, void *userdata);

/*! Call `w` as Dialogflow CX does: a standard webhook gets `input_json` (a
 *  WebhookRequest, see sdc_webhook_request_build()) POSTed; a flexible one
 *  gets its URL and body rendered from `input_json` (the values, see
 *  sdc_webhook_render_body()) and its method. Each attempt has the
 *  webhook's timeout; the failures Dialogflow retries are retried once.
 *  `cb` runs exactly once, on the thread driving the pool, never inside
 *  this call (a webhook that cannot be called, disabled or lacking a
 *  secret, reports through it too).
 *  \return SDC_OK, SDC_EINVAL, SDC_ENOMEM, SDC_EUNAVAILABLE (the caller is
 *  closed); on anything else `cb` never runs. */
SDC_EXTERN sdc_status sdc_webhook_call(sdc_webhook_caller *c, const sdc_webhook *w,
                                       const char *input_json, sdc_webhook_cb cb,
                                       void *userdata);

#ifdef __cplusplus
}
#endif
#endif /* SDCONNECT_WEBHOOK_H */
