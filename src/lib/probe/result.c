/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Probe results as JSON lines: one object per endpoint per run, the shape
 * docs/probe-results.md documents (the CLI's --json and the daemon's
 * result log). Written with jansson, which escapes every string.
 */
#include "probe/check.h"

#include "core/core.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* RFC 3339 UTC with milliseconds. */
static void rfc3339(int64_t unix_ms, char *out, size_t cap)
{
  time_t s = (time_t)(unix_ms / 1000);
  struct tm tm;

  gmtime_r(&s, &tm);
  snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
           (int)(unix_ms % 1000));
}

/* Milliseconds, or null when the phase was not reached. */
static json_t *ms_or_null(double ms)
{
  return ms > 0 ? json_real((double)(int64_t)(ms * 1000 + 0.5) / 1000) : json_null();
}

static json_t *str_or_null(const char *s)
{
  return s && *s ? json_string(s) : json_null();
}

char *sdc_probe_result_json(const sdc_probe_report *rep, size_t i)
{
  const sdc_probe_result *r;
  const struct sdc_check *c;
  json_t *o;
  char when[64], expiry[64], *text, *out;

  if(!rep || i >= rep->n_results)
    return NULL;
  r = &rep->results[i];
  c = rep->check;
  rfc3339(rep->started_unix_ms, when, sizeof(when));
  if(!(o = json_object()))
    return NULL;
  json_object_set_new(o, "time", json_string(when));
  json_object_set_new(o, "check", json_string(c->id));
  json_object_set_new(o, "display_name", json_string(c->display_name));
  json_object_set_new(o, "type", json_string(c->http ? (c->use_ssl ? "https" : "http") : "tcp"));
  json_object_set_new(o, "service", str_or_null(rep->service));
  json_object_set_new(o, "host", str_or_null(c->host));
  json_object_set_new(o, "endpoint", str_or_null(r->endpoint));
  json_object_set_new(o, "address", str_or_null(r->address));
  json_object_set_new(o, "port", r->port ? json_integer(r->port) : json_null());
  json_object_set_new(o, "passed", json_boolean(r->passed));
  json_object_set_new(o, "reason", json_string(sdc_probe_reason_name(r->reason)));
  json_object_set_new(o, "detail", str_or_null(r->detail));
  json_object_set_new(o, "http_status", r->http_status ? json_integer(r->http_status)
                                                      : json_null());
  json_object_set_new(o, "http_version", !r->http_version ? json_null()
                                         : json_string(r->http_version == 2 ? "2" : "1.1"));
  json_object_set_new(o, "redirects", json_integer(r->redirects));
  json_object_set_new(o, "resolve_ms", ms_or_null(rep->resolve_ms));
  json_object_set_new(o, "connect_ms", ms_or_null(r->connect_ms));
  json_object_set_new(o, "tls_ms", ms_or_null(r->tls_ms));
  json_object_set_new(o, "first_byte_ms", ms_or_null(r->first_byte_ms));
  json_object_set_new(o, "total_ms", ms_or_null(r->total_ms));
  json_object_set_new(o, "tls_version", str_or_null(r->tls_version));
  json_object_set_new(o, "tls_cipher", str_or_null(r->tls_cipher));
  if(r->cert_expiry) {
    rfc3339(r->cert_expiry * 1000, expiry, sizeof(expiry));
    json_object_set_new(o, "cert_expiry", json_string(expiry));
    json_object_set_new(o, "cert_expiry_days",
                        json_real((double)(int64_t)((double)(r->cert_expiry * 1000 -
                                                             rep->started_unix_ms) /
                                                    86400.0 + 0.5) / 1000));
  } else {
    json_object_set_new(o, "cert_expiry", json_null());
    json_object_set_new(o, "cert_expiry_days", json_null());
  }
  json_object_set_new(o, "cert_verified", json_boolean(r->cert_verified));
  json_object_set_new(o, "body_bytes", json_integer((json_int_t)r->body_bytes));
  json_object_set_new(o, "directory_stale", json_boolean(rep->directory_stale));
  json_object_set_new(o, "check_passed", json_boolean(rep->passed));
  json_object_set_new(o, "endpoints_passed", json_integer((json_int_t)rep->n_passed));
  json_object_set_new(o, "endpoints_total", json_integer((json_int_t)rep->n_results));
  text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
  json_decref(o);
  if(!text)
    return NULL;
  out = sdc__strdup(text);
  sdc__json_free(text);
  return out;
}

const sdc_probe_result *sdc_probe_report_result(const sdc_probe_report *r, size_t i)
{
  return r && i < r->n_results ? &r->results[i] : NULL;
}
