/* SPDX-License-Identifier: Apache-2.0 */
/* Entry point of `sdconnect sd-server`, called by the CLI dispatcher. */
#ifndef SDC_LOCALSD_MAIN_H
#define SDC_LOCALSD_MAIN_H

/* argv[0] is "sd-server". Returns the process exit code (0, 1 or 2). */
int sdc_localsd_main(int argc, char **argv);

#endif
