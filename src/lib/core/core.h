/* SPDX-License-Identifier: Apache-2.0 */
/* Internal helpers every module of libsdconnect may use. */
#ifndef SDC_CORE_H
#define SDC_CORE_H

#include <sdconnect/common.h>
#include <stdbool.h>
#include <stdint.h>

void *sdc__malloc(size_t size);
void *sdc__calloc(size_t nmemb, size_t size);
void *sdc__realloc(void *ptr, size_t size);
char *sdc__strdup(const char *s);
/* Replace *slot (freed) with a copy of `s`; NULL clears it. On SDC_ENOMEM
 * *slot is left as it was. */
sdc_status sdc__replace_copy(char **slot, const char *s);
/* Wipe a NUL-terminated secret (a password, a key), then free it. NULL ok. */
void sdc__free_secret(char *s);
void sdc__allocator_set(const sdc_allocator *a);
/* Free what jansson allocated (json_dumps): with the embedder's allocator
 * installed, jansson allocates through it, so libc's free() is wrong. */
void sdc__json_free(void *p);
/* A port, 1..65535, from exactly `len` decimal digits ("8443"): no sign,
 * no space, nothing after. The library's strict reading of numbers. */
bool sdc__parse_port(const char *s, size_t len, int *port);
/* Whether jansson ran out of memory on this thread since the last call
 * (clears it; with `clear_only`, just clears). Around a parse: a NULL answer
 * then means out of memory, not bad JSON. */
bool sdc__json_ran_out(bool clear_only);

/* printf-style logging into the installed handler. */
void sdc__log(sdc_log_level level, const char *comp, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Run `fn` in sdc_global_cleanup() (once, however often registered; the
 * last registered runs first). False when the table of 8 is full. */
bool sdc__cleanup_hook(void (*fn)(void));

/* Monotonic milliseconds, for deadlines and intervals. */
uint64_t sdc__now_ms(void);
uint64_t sdc__now_us(void); /* monotonic, microseconds */

#endif
