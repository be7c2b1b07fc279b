/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The programs' log: one event per line on standard error, as logfmt
 *   ts=2026-11-26T02:50:52.120Z level=warn comp=daemon msg="probe failed" check=web
 * or, with --log-format json, as one JSON object per line with the field
 * names Google Cloud Logging reads (time, severity, message), so a pod's
 * logs arrive structured:
 *   {"time":"...","severity":"WARNING","component":"daemon","message":"probe failed","check":"web"}
 * Callers write logfmt fields; the JSON form is made from them. Lines are
 * written with one stdio call, so threads never interleave them. The level
 * may change at any time from any thread (SIGUSR1).
 */
#ifndef SDC_SVC_LOG_H
#define SDC_SVC_LOG_H

#include <stdbool.h>

enum svc_log_level { SVC_LOG_ERROR, SVC_LOG_WARN, SVC_LOG_INFO, SVC_LOG_DEBUG };
enum svc_log_format { SVC_LOG_LOGFMT, SVC_LOG_JSON };

/* "error", "warn", "info", "debug"; false when unknown. */
bool svc_log_parse_level(const char *s, enum svc_log_level *out);
/* "logfmt", "json"; false when unknown. */
bool svc_log_parse_format(const char *s, enum svc_log_format *out);
void svc_log_set_format(enum svc_log_format f);
void svc_log_set_level(enum svc_log_level l);
enum svc_log_level svc_log_level(void);
const char *svc_log_level_name(enum svc_log_level l);
bool svc_log_enabled(enum svc_log_level l);

/* One event of component `comp`: `fields` is logfmt ("msg=... key=value
 * key=\"a b\""); text after a newline in it is a hint for people, kept as
 * the field "hint". */
void svc_log_write(enum svc_log_level l, const char *comp, const char *fields);

/* A value quoted for logfmt when it needs it (spaces, quotes, '=', control
 * characters: those become spaces), in a thread-local ring of 8 buffers of
 * 512 bytes: up to 8 uses in one log call. */
const char *svc_log_q(const char *s);

#endif
