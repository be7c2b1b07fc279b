/* SPDX-License-Identifier: Apache-2.0 */
/* A scripted HTTP/1.1 server on 127.0.0.1:0 in a thread of the test: plays
 * OAuth token endpoints and the metadata server, and records what it got. */
#ifndef SDC_TEST_FAKEHTTP_H
#define SDC_TEST_FAKEHTTP_H

#include <stddef.h>

struct fakehttp_req {
  char method[16];
  char path[1024];
  char headers[8192]; /* raw header block, lower-cased names */
  char body[16384];
};

/* Fill status and body (JSON) for `req`. Runs on the server thread. */
typedef void (*fakehttp_fn)(const struct fakehttp_req *req, int *status,
                            char *body, size_t cap, void *ud);

struct fakehttp;

struct fakehttp *fakehttp_start(fakehttp_fn fn, void *ud, int *port);
/* Requests answered so far. */
unsigned fakehttp_count(struct fakehttp *f);
/* A copy of the last request (zeroed if none). */
void fakehttp_last(struct fakehttp *f, struct fakehttp_req *out);
void fakehttp_stop(struct fakehttp *f);

#endif
