/* SPDX-License-Identifier: Apache-2.0 */
/* Diagnoses asked from the status page, run as child processes of the
 * daemon (`sdconnect diagnose --config FILE --id ID --json`). */
#ifndef SDC_DAEMON_DIAGRUN_H
#define SDC_DAEMON_DIAGRUN_H

#include <stdint.h>

struct daemon;
struct diag_run;

/* On the loop: the state of ID's diagnose as JSON ({"state": "running"},
 * {"state": "done", "report": {...}}, ...), starting one when none is
 * fresh. ID must be a check or webhook of the running configuration.
 * malloc'd; NULL when out of memory. */
char *diagrun_json(struct daemon *d, const char *id);
/* admin_diagnose_fn: the id checked against the running configuration
 * (404 when it names no Service Directory check or webhook). */
char *diagrun_admin(void *ud, const char *id, unsigned *status);
/* On the loop, every turn: reap the children that ended, kill the ones
 * that take too long. */
void diagrun_tick(struct daemon *d, uint64_t now);
/* Kill and reap every child (the daemon stops). */
void diagrun_stop(struct daemon *d);

#endif
