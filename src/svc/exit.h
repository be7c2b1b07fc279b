/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One exit-status table for every sdconnect command (sdconnect(1), EXIT
 * STATUS), printed by each command's --help with what 3 means for it.
 */
#ifndef SDC_SVC_EXIT_H
#define SDC_SVC_EXIT_H

enum {
  SDC_EXIT_OK = 0,      /* done; whatever was checked passed */
  SDC_EXIT_RUNTIME = 1, /* something failed at run time (unreachable, out of memory, ...) */
  SDC_EXIT_USAGE = 2,   /* a bad flag, argument or configuration */
  SDC_EXIT_FAILED = 3   /* the thing checked failed */
};

/* printf(SDC_EXIT_TABLE, what_3_means) */
#define SDC_EXIT_TABLE                                                                     \
  "Exit status: 0 ok, 1 runtime error, 2 usage or configuration error,\n3 %s.\n"

#endif
