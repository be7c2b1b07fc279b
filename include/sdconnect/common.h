/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared vocabulary of the sdconnect library: export macro, status codes,
 * allocator hooks and the log hook. Every other public header includes this.
 *
 * Threads: sdc_strerror(), sdc_status_is_fatal() and sdc_free() may be
 * called from any thread; the log hook and level are set before threads
 * start (the hook itself may be called from any library thread).
 * Blocking: nothing here blocks.
 */
#ifndef SDCONNECT_COMMON_H
#define SDCONNECT_COMMON_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SDC_EXTERN __attribute__((visibility("default")))
#define SDC_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define SDC_EXTERN
#define SDC_WARN_UNUSED
#endif

/*! Result of every fallible call. Values are explicit and append-only: a
 *  number never changes meaning. */
typedef enum sdc_status {
  SDC_OK = 0,
  SDC_ENOMEM = 1,        /*!< out of memory; the handle is still usable */
  SDC_EINVAL = 2,        /*!< bad argument from the caller */
  SDC_ETIMEDOUT = 3,     /*!< a deadline passed */
  SDC_ENOTFOUND = 4,     /*!< the named thing does not exist */
  SDC_EUNAVAILABLE = 5,  /*!< a peer could not be reached */
  SDC_ETLS = 6,          /*!< TLS handshake or verification failed */
  SDC_ECONFIG = 7,       /*!< a configuration file or value is wrong */
  SDC_ETOOBIG = 8,       /*!< input or output past its size limit */
  SDC_EIO = 9,           /*!< a file or storage operation failed */
  SDC_EEXIST = 10,       /*!< the thing already exists */
  SDC_EPERM = 11,        /*!< refused: credentials or permission */
  SDC_EPROTO = 12,       /*!< the peer broke the protocol */
  SDC_EINTERNAL = 13,    /*!< a bug: please report it */
  SDC_EAGAIN = 14        /*!< not available without waiting; ask again */
} sdc_status;

/*! Name of a status class ("out of memory", ...). Never NULL; static. */
SDC_EXTERN const char *sdc_strerror(sdc_status st);

/*! Non-zero when a handle that returned `st` can no longer be used and must be
 *  freed. Only SDC_EINTERNAL is fatal today. */
SDC_EXTERN int sdc_status_is_fatal(sdc_status st);

/*! Allocator hooks. All four must be set; `calloc` must zero. Frozen: the
 *  program makes it, so it never changes. */
typedef struct sdc_allocator {
  void *(*malloc)(size_t size);
  void *(*calloc)(size_t nmemb, size_t size);
  void *(*realloc)(void *ptr, size_t size);
  void (*free)(void *ptr);
} sdc_allocator;

/*! Release memory the library returned as `char *` or `void *`. NULL is a no-op. */
SDC_EXTERN void sdc_free(void *ptr);

/*! Log levels, most severe first. */
typedef enum sdc_log_level {
  SDC_LOG_ERROR = 0,
  SDC_LOG_WARN = 1,
  SDC_LOG_INFO = 2,
  SDC_LOG_DEBUG = 3,
  SDC_LOG_TRACE = 4
} sdc_log_level;

/*! Receives every library log line: `comp` is the component ("sd", "pool"),
 *  `msg` is one line without a newline and never holds a secret. */
typedef void (*sdc_log_fn)(sdc_log_level level, const char *comp,
                           const char *msg, void *userdata);

/*! Install the log handler (NULL silences the library). Not thread-safe: call
 *  before starting threads. */
SDC_EXTERN void sdc_set_log_handler(sdc_log_fn fn, void *userdata);

/*! Messages above `level` are dropped before formatting. Default: INFO. */
SDC_EXTERN void sdc_set_log_level(sdc_log_level level);

#ifdef __cplusplus
}
#endif
#endif /* SDCONNECT_COMMON_H */
