/* SPDX-License-Identifier: Apache-2.0 */
/* `sdconnect serve`: the daemon's entry point (argv[0] is "serve"). */
#ifndef SDC_DAEMON_SERVE_H
#define SDC_DAEMON_SERVE_H

int sdc_daemon_serve(int argc, char **argv);

#endif
