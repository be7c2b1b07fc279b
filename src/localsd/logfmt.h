/* SPDX-License-Identifier: Apache-2.0 */
/* logfmt lines on stderr: `ts=... level=info comp=localsd msg="..." k=v`. */
#ifndef SDC_LOCALSD_LOGFMT_H
#define SDC_LOCALSD_LOGFMT_H

enum lf_level { LF_ERROR, LF_WARN, LF_INFO, LF_DEBUG };

void lf_set_level(enum lf_level l);
/* Parse "error|warn|info|debug"; false when unknown. */
int lf_parse_level(const char *s, enum lf_level *out);
int lf_enabled(enum lf_level l);

/* One line: msg is quoted; `kv` (printf format) follows as written, so
 * values that may hold spaces must be passed through lf_q(). */
void lf_log(enum lf_level l, const char *msg, const char *kv, ...)
    __attribute__((format(printf, 3, 4)));

/* Quote a value for logfmt into a thread-local ring of buffers: safe for up
 * to four uses in one lf_log call. */
const char *lf_q(const char *s);

#endif
