/* SPDX-License-Identifier: Apache-2.0 */
/* Processes started by tests: spawned with a port file, stopped by PID. */
#ifndef SDC_TEST_PROC_H
#define SDC_TEST_PROC_H

#include <stdbool.h>
#include <sys/types.h>

struct tproc {
  pid_t pid;
  int port;
  char dir[64];       /* private temp dir (port file, log) */
  char log[128];      /* child's stdout+stderr */
  int exit_status;    /* after tproc_wait/stop: exit code, or 128+signal */
  bool scan;          /* an sdconnect process: its output is scanned for secrets */
};

/* Make a private temp dir for a test (tproc.dir style); returns 0. */
int tproc_tmpdir(char out[64]);

/* Start `argv` (NULL-terminated; argv[0] is a path) with "--port-file
 * <dir>/port" appended when `want_port`, wait (bounded, 15 s) for the port.
 * Returns 0, or -1 when the child exited or timed out (log kept). */
int tproc_start(struct tproc *p, const char *const argv[], bool want_port);

/* Run argv to completion (bounded, 30 s); returns its exit status and
 * leaves its output in p->log. */
int tproc_run(struct tproc *p, const char *const argv[]);

/* SIGTERM, then wait up to `grace_ms` before SIGKILL. Returns exit code. */
int tproc_stop(struct tproc *p, int grace_ms);
/* SIGKILL and reap. */
void tproc_kill9(struct tproc *p);

/* How many times the child's log holds `needle`. */
unsigned tproc_log_count(const struct tproc *p, const char *needle);

/* True when the child's log holds `needle`. */
bool tproc_log_has(const struct tproc *p, const char *needle);

/* A secret the test uses (a password, a token, its Base64 form): no
 * sdconnect process may print it. Each one's output (log) is scanned when
 * it ends (tproc_stop, tproc_run, tproc_kill9), and a find aborts the test
 * with the process and the secret's name, never its value. At most 32. */
void tproc_secret(const char *name, const char *value);

/* Remove a temp dir tproc_tmpdir() made and everything in it. */
void tproc_rmdir(const char *dir);
/* "dir/name" in one of 8 rotating buffers (for a few paths per call). */
const char *tproc_path(const char *dir, const char *name);

/* A loopback TCP port nothing listens on right now (the kernel's choice). */
int tproc_free_port(void);
/* A loopback TCP port that refuses connections for as long as *fd (bound,
 * not listening) stays open: no other process can take it meanwhile. */
int tproc_closed_port(int *fd);

/* "localhost" when /etc/hosts maps it to 127.0.0.1 (a lookup that never
 * leaves the machine), else "127.0.0.1": a minimal chroot may have no
 * such line. */
const char *tproc_loopback_name(void);

/* Sleep `ms` milliseconds. */
void tproc_sleep_ms(int ms);

/* Path of the sdconnect binary under test (env SDCONNECT_BIN). */
const char *tproc_sdconnect(void);

/* Headless Chromium (SDC_CHROMIUM_BIN, else "chromium") on the page at
 * http://127.0.0.1:PORT/: `what` is "--dump-dom" (the page as its script
 * left it) or "--screenshot=PATH"; `size` "--window-size=W,H". Everything
 * but 127.0.0.1 is unresolvable, and the browser's own background traffic
 * is off. Its output is in b->log; returns its exit status. */
int tproc_browse(struct tproc *b, int port, const char *what, const char *size);
/* The same, at `path` of the page ("/", "/#diagnose=ID"). */
int tproc_browse_path(struct tproc *b, int port, const char *path, const char *what,
                      const char *size);

#endif
