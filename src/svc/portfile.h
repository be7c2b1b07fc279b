/* SPDX-License-Identifier: Apache-2.0 */
/*
 * --port-file: a server started on port 0 tells its starter (a test, a
 * script) the port it got. The file appears whole or not at all, so a
 * reader polling for it never reads half a number.
 */
#ifndef SDC_SVC_PORTFILE_H
#define SDC_SVC_PORTFILE_H

/* Write "PORT\n" to `path` through a temporary file and rename(2).
 * 0, or -1 with errno set. */
int svc_write_port_file(const char *path, int port);

#endif
