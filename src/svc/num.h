/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one number parser of sdconnect's programs (the CLI, the daemon, the
 * local directory): whole strings only, no sign, no spaces, no silent
 * truncation ("64k" is not 64), range-checked. No atoi anywhere.
 */
#ifndef SDC_SVC_NUM_H
#define SDC_SVC_NUM_H

#include <stdbool.h>
#include <stdint.h>

/* A whole decimal number from lo to hi (digits only); false if not. */
bool svc_parse_uint(const char *s, unsigned long long lo, unsigned long long hi,
                    unsigned long long *out);

/* A TCP port, 1..65535, in decimal; false if not. */
bool svc_parse_port(const char *s, int *port);

/* "1500", "1500ms", "2s", "1m" as milliseconds, 1 ms to 10 min; false if
 * not. */
bool svc_parse_duration_ms(const char *s, uint64_t *ms);

#endif
