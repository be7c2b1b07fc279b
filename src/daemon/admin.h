/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's admin listener: /metrics, /healthz, /readyz, the status
 * page (/ and /status.json), served by
 * libmicrohttpd on the daemon's one loop (the pool's poll). */
#ifndef SDC_DAEMON_ADMIN_H
#define SDC_DAEMON_ADMIN_H

#include "listener.h"

#include <sdconnect/sdconnect.h>

#include <stdbool.h>
#include <stdint.h>

struct admin;

/* The status page (status_page.html, built in). */
extern const unsigned char admin_status_page[];
extern const size_t admin_status_page_len;

/* A request for /status.json waiting for its answer (the connection is
 * suspended meanwhile, so the loop goes on). */
struct admin_pending;
/* Start making the status for `p` (on the loop thread); answer it with
 * admin_answer(), now or later, exactly once. */
typedef void (*admin_status_fn)(void *userdata, struct admin_pending *p);
/* On the loop thread: answer `p` with `body` (copied; NULL: 503). */
void admin_answer(struct admin_pending *p, const char *body, size_t len);
/* Serve / and /status.json with `fn` (until then they are 404). */
void admin_set_status(struct admin *a, admin_status_fn fn, void *userdata);
/* GET /diagnose.json?id=ID: `fn` gives the answer (JSON, malloc'd; NULL:
 * 404 when `*status` is 404, else 503), on the loop thread, at once. */
typedef char *(*admin_diagnose_fn)(void *userdata, const char *id, unsigned *status);
void admin_set_diagnose(struct admin *a, admin_diagnose_fn fn, void *userdata);

/* Is the daemon ready (its first runs done, its directory reachable)? */
typedef bool (*admin_ready_fn)(void *userdata, char *why, size_t cap);

/* Listen and serve on `loop` (borrowed). `metrics` (borrowed) is what
 * /metrics renders. On success *port is the port bound. 0, or -1 with
 * `err`. */
int admin_start(struct admin **out, sdc_pool *loop, const struct listen_opts *o,
                sdc_metrics *metrics, admin_ready_fn ready, void *userdata,
                int *port, char *err, size_t errcap);
/* The longest the loop may wait before admin needs a turn (ms). */
uint64_t admin_timeout_ms(struct admin *a);
/* Give libmicrohttpd its turn (the loop calls this when admin's timeout
 * has passed; ready descriptors call it themselves). */
void admin_run(struct admin *a);
void admin_stop(struct admin *a); /* NULL ok */

#endif
