/* SPDX-License-Identifier: Apache-2.0 */
/* User-facing messages: "sdconnect <cmd>: what failed", then "hint: fix".
 * The library returns status and detail; only the CLI prints. */
#ifndef SDC_CLI_MSGS_H
#define SDC_CLI_MSGS_H

#include <sdconnect/resolver.h>

void cli_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cli_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Print a usage error and return 2. */
int usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Print a failed directory call with a hint fitting its cause, naming the
 * permission (`permission`, e.g. "servicedirectory.services.resolve") when
 * it was refused. Returns the exit code (1 runtime, 2 bad input). */
int dir_call_failed(const char *cmd, sdc_resolver *r, sdc_status st,
                   const char *permission);

#endif
