/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private uptime checks: Cloud Monitoring UptimeCheckConfig resources
 * (Google's REST JSON field names, in YAML or JSON) loaded and validated
 * the way the API validates them, then run against every endpoint of a
 * Service Directory service (or a plain host) over the pool.
 *
 * Threads: check sets are immutable once loaded and may be read from any
 * thread; a prober and a scheduler belong to the thread that drives their
 * pool. sdc_shard_owner() and the name functions are pure.
 * Blocking: loading reads a file; nothing else blocks. Runs progress
 * inside sdc_pool_perform()/sdc_pool_turn() and report there, never
 * inside the call that started them.
 */
#ifndef SDCONNECT_PROBE_H
#define SDCONNECT_PROBE_H

#include <sdconnect/pool.h>
#include <sdconnect/resolver.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sdc_check sdc_check;
typedef struct sdc_check_set sdc_check_set;

/*! Load the checks of one file: a single UptimeCheckConfig, a list of
 *  them, an object {"uptimeCheckConfigs": [...]} as ListUptimeCheckConfigs
 *  returns it, or several YAML documents. Every problem is reported, each
 *  as "FILE:LINE:COL: FIELD: what is wrong (expected ...)".
 *  \param[out] out     Set on SDC_OK only.
 *  \param[out] errors  On SDC_ECONFIG: the problems, one per line
 *                      (release with sdc_free()); may be NULL.
 *  \return SDC_OK, SDC_ECONFIG (invalid: see *errors), SDC_EIO (unreadable:
 *  *errors says why), SDC_ETOOBIG (over 4 MiB), SDC_ENOMEM, SDC_EINVAL (a
 *  NULL path or out). */
SDC_EXTERN sdc_status sdc_checks_load_file(const char *path,
                                           sdc_check_set **out,
                                           char **errors);
/*! The same from memory; `name` stands for the file in messages, and
 *  relative file names inside are taken from the current directory.
 *  \return SDC_OK, SDC_ECONFIG, SDC_ETOOBIG, SDC_ENOMEM, SDC_EINVAL (NULL
 *  data or out). */
SDC_EXTERN sdc_status sdc_checks_load_mem(const char *name, const void *data,
                                          size_t len, sdc_check_set **out,
                                          char **errors);
SDC_EXTERN void sdc_check_set_free(sdc_check_set *s); /* NULL ok */
SDC_EXTERN size_t sdc_check_set_count(const sdc_check_set *s);
/*! Borrowed until the set is freed; NULL past the end. */
SDC_EXTERN const sdc_check *sdc_check_set_get(const sdc_check_set *s,
                                              size_t i);

/*! The check's id: the last segment of its `name`, or, without a name, its
 *  displayName made lowercase with runs of other characters as '-'. */
SDC_EXTERN const char *sdc_check_id(const sdc_check *c);
SDC_EXTERN const char *sdc_check_display_name(const sdc_check *c);
/*! The Service Directory service checked, or NULL for an uptime_url
 *  check. */
SDC_EXTERN const char *sdc_check_service(const sdc_check *c);
/*! Interval between runs: `period`, or sdconnect.period when shorter. */
SDC_EXTERN uint64_t sdc_check_period_ms(const sdc_check *c);
SDC_EXTERN uint64_t sdc_check_timeout_ms(const sdc_check *c);

/*! Why a probe failed: a fixed set, named in results and metrics by
 *  sdc_probe_reason_name() ("connect_refused", ...). Append-only. */
typedef enum sdc_probe_reason {
  SDC_PROBE_PASSED = 0,
  SDC_PROBE_SD_NOT_FOUND = 1,         /*!< the service does not exist */
  SDC_PROBE_SD_PERMISSION_DENIED = 2, /*!< the directory refused the caller */
  SDC_PROBE_SD_UNAVAILABLE = 3,       /*!< the directory did not answer */
  SDC_PROBE_NO_ENDPOINTS = 4,         /*!< the service lists no endpoint */
  SDC_PROBE_ENDPOINT_INVALID = 5,     /*!< an endpoint without address or port */
  SDC_PROBE_CONNECT_REFUSED = 6,
  SDC_PROBE_CONNECT_TIMEOUT = 7,
  SDC_PROBE_CONNECT_ERROR = 8,        /*!< unreachable, reset, ... */
  SDC_PROBE_TLS_HANDSHAKE = 9,        /*!< includes a client certificate refused */
  SDC_PROBE_TLS_VERIFY = 10,          /*!< untrusted chain, or the host not named */
  SDC_PROBE_TLS_EXPIRED = 11,         /*!< expired or not yet valid */
  SDC_PROBE_TLS_VERSION = 12,         /*!< no TLS 1.2 or newer */
  SDC_PROBE_HTTP_STATUS = 13,         /*!< a status the check does not accept */
  SDC_PROBE_CONTENT_MISMATCH = 14,    /*!< the content matcher failed */
  SDC_PROBE_TIMEOUT = 15,             /*!< no whole answer within `timeout` */
  SDC_PROBE_BODY_TOO_LARGE = 16,      /*!< past the pool's body cap */
  SDC_PROBE_HTTP_PROTOCOL = 17,       /*!< a broken answer or none */
  SDC_PROBE_REDIRECT = 18,            /*!< a redirect that cannot be followed */
  SDC_PROBE_INTERNAL = 19,            /*!< out of memory, cancelled, ... */
  SDC_PROBE_AUTH = 20                 /*!< no ID token for serviceAgentAuthentication */
} sdc_probe_reason;

/*! "passed", "sd_not_found", "connect_refused", ...: static. */
SDC_EXTERN const char *sdc_probe_reason_name(sdc_probe_reason r);

/*! One endpoint's result. Strings are borrowed for the callback.
 *  Append-only: read a report's through sdc_probe_report_result(). */
typedef struct sdc_probe_result {
  const char *endpoint;     /*!< the SD endpoint's name, or the host */
  const char *address;      /*!< dialed (IPv4/IPv6 literal), or "" */
  int port;                 /*!< dialed, or 0 */
  int passed;
  sdc_probe_reason reason;
  const char *detail;       /*!< what was wrong, for people; "" when passed */
  long http_status;         /*!< of the final answer; 0 for TCP or none */
  int http_version;         /*!< 11 or 2; 0 for none */
  unsigned redirects;       /*!< followed */
  double connect_ms, tls_ms, first_byte_ms, total_ms; /*!< 0: not reached */
  const char *tls_version;  /*!< "TLSv1.3", or "" */
  const char *tls_cipher;   /*!< or "" */
  int64_t cert_expiry;      /*!< earliest notAfter of the chain (Unix s), 0 none */
  int cert_verified;        /*!< the chain and host name were checked */
  size_t body_bytes;        /*!< answer bytes read (scan window) */
} sdc_probe_result;

/*! One run of a check. Append-only: the library makes it. */
typedef struct sdc_probe_report {
  const sdc_check *check;
  const char *service;      /*!< the SD service, or NULL for uptime_url */
  int64_t started_unix_ms;  /*!< wall clock, for output */
  double resolve_ms;        /*!< asking the directory (0 for uptime_url) */
  int directory_stale;      /*!< the directory failed; its last answer was used */
  size_t n_results;
  const sdc_probe_result *results;
  size_t n_passed;
  int passed;               /*!< every endpoint passed (or one, with sdconnect.pass: any);
                                 over this replica's share when sharded, and 1 when the
                                 share is empty */
  size_t n_skipped;         /*!< endpoints other replicas own (sdc_prober_set_shard()) */
} sdc_probe_report;

typedef struct sdc_prober sdc_prober;

/*! Runs checks over `pool`, resolving services through `resolver` (both
 *  borrowed: they must outlive the prober; `resolver` may be NULL when
 *  only uptime_url checks are run). The pool's body cap bounds what a
 *  content matcher sees: give probes a pool with sdc_pool_opts_set_max_body
 *  of 4 MiB to scan what Google scans.
 *  \param[out] out  Set on SDC_OK only; free with sdc_prober_free().
 *  \return SDC_OK, SDC_EINVAL (no out or pool) or SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_prober_new(sdc_prober **out, sdc_pool *pool,
                                     sdc_resolver *resolver);
/*! Runs still going end now: their callbacks run first, with what they
 *  have (unfinished endpoints fail as SDC_PROBE_INTERNAL). NULL is a
 *  no-op. */
SDC_EXTERN void sdc_prober_free(sdc_prober *pr);

/*! Credentials for checks with serviceAgentAuthentication: a service-account
 *  key file, or NULL (the default) for Google's default search
 *  (GOOGLE_APPLICATION_CREDENTIALS, then the metadata server at
 *  GCE_METADATA_HOST). Google sends an ID token of its Monitoring service
 *  agent; sdconnect sends one of these credentials, for the audience
 *  sdconnect.audience or else the check's URL without its query. Tokens
 *  are fetched on a thread of their own and cached until shortly before
 *  they expire. Copied. SDC_OK or SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_prober_set_credentials(sdc_prober *pr,
                                                 const char *file);

/*! Make this prober replica `index` of `count` (0 <= index < count; count
 *  1..65536): of every check × endpoint pair it probes only those
 *  sdc_shard_owner() gives to `index`, so `count` replicas with indexes
 *  0..count-1 probe every pair exactly once between them. The pair of a
 *  run that fails before its endpoints are known (the directory failed, no
 *  endpoints) is (check id, service name); of an uptime_url check (check
 *  id, host). A check with `sdconnect.pass: any` is judged over all its
 *  endpoints, so one replica owns it whole: the pair (check id, "").
 *  A run whose pairs all belong to others still reports, with no
 *  results and n_skipped set. Default: 0 of 1, everything. Loop thread.
 *  \return SDC_OK, or SDC_EINVAL (index or count out of range). */
SDC_EXTERN sdc_status sdc_prober_set_shard(sdc_prober *pr, unsigned index, unsigned count);

/*! The replica (0..count-1) that owns the pair (check id, endpoint name)
 *  among `count`: a jump consistent hash, so going from n to n+1 replicas
 *  moves about 1/(n+1) of the pairs, each to the new replica, and none
 *  between the others. Pure; any thread. `count` 0 or 1 gives 0. */
SDC_EXTERN unsigned sdc_shard_owner(const char *check_id, const char *endpoint,
                                    unsigned count);

/*! Result `i` of a report (borrowed with it); NULL past the end. Read the
 *  results through this rather than by indexing report->results: fields
 *  are only ever appended to sdc_probe_result. */
SDC_EXTERN const sdc_probe_result *sdc_probe_report_result(const sdc_probe_report *r,
                                                           size_t i);

/*! Completion of sdc_probe_run(): the report is borrowed for the call. */
typedef void (*sdc_probe_cb)(const sdc_probe_report *report, void *userdata);

/*! Run `check` once: resolve its service (through the resolver's cache,
 *  without blocking), probe every endpoint at once, each over a connection
 *  of its own, and report. `check` is borrowed until the callback. Never
 *  blocks; the run progresses in sdc_pool_perform() and `cb` runs exactly
 *  once there, never inside this call.
 *  \return SDC_OK, SDC_EINVAL (a service check without a resolver),
 *  SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_probe_run(sdc_prober *pr, const sdc_check *check,
                                    sdc_probe_cb cb, void *userdata);

/*! One result as a JSON object on one line (docs/probe-results.md),
 *  malloc'd (sdc_free); NULL when out of memory. */
SDC_EXTERN char *sdc_probe_result_json(const sdc_probe_report *report,
                                       size_t i);

/* ---- running checks on their periods ------------------------------------- */
typedef struct sdc_scheduler sdc_scheduler;

/*! Runs checks through `pr` (borrowed) on their periods, on the thread
 *  that drives the pool:
 *  - each check runs at a phase of its period that its id picks (the same
 *    after a restart or a reload), so checks added together spread out;
 *  - due times are phase + k * period on the monotonic clock: no drift;
 *  - a check never overlaps itself: a run still going when the next is due
 *    is skipped and counted, as is every slot a stalled loop missed;
 *  - at most `max_running` runs at once (0: 64); the rest wait their turn
 *    (the wait shows as lag).
 *  `cb` gets every report (borrowed for the call).
 *  \return SDC_OK, SDC_EINVAL, SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_scheduler_new(sdc_scheduler **out, sdc_prober *pr,
                                        unsigned max_running, sdc_probe_cb cb,
                                        void *userdata);
/*! Runs in progress still end through the prober. NULL is a no-op. */
SDC_EXTERN void sdc_scheduler_free(sdc_scheduler *s);
/*! Schedule `c` (borrowed: keep it alive until it is removed and its last
 *  run has reported, or the scheduler is freed); its first run is at its
 *  first phase point after `now_ms`.
 *  \return SDC_OK, SDC_EEXIST (it is in already), SDC_EINVAL (NULL) or
 *  SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_scheduler_add(sdc_scheduler *s, const sdc_check *c,
                                        uint64_t now_ms);
/*! Stop scheduling `c`; a run in progress still reports.
 *  \return SDC_OK, or SDC_ENOTFOUND if it is not in. */
SDC_EXTERN sdc_status sdc_scheduler_remove(sdc_scheduler *s, const sdc_check *c);
/*! Start every run due at `now_ms` (monotonic, the caller's clock) that a
 *  slot allows. Returns milliseconds until the next due time (UINT64_MAX:
 *  nothing scheduled). Call it every loop turn, and again after that
 *  long at the latest. */
SDC_EXTERN uint64_t sdc_scheduler_tick(sdc_scheduler *s, uint64_t now_ms);

/*! The scheduler's counters. Frozen: the program makes it for
 *  sdc_scheduler_stats_get(); new counters come with a new function. */
typedef struct sdc_scheduler_stats {
  uint64_t runs;        /*!< started */
  uint64_t skipped;     /*!< due while the last run was still going, or missed */
  unsigned running, waiting;
  double last_lag_ms;   /*!< start minus due time, of the last start */
  double max_lag_ms;
} sdc_scheduler_stats;

/*! Copy the scheduler's counters into `out`. */
SDC_EXTERN void sdc_scheduler_stats_get(const sdc_scheduler *s,
                                        sdc_scheduler_stats *out);

/*! Called on the loop thread as each run starts, with its lag (start
 *  minus due time, ms): for a lag histogram. Borrowed check. */
typedef void (*sdc_scheduler_start_cb)(const sdc_check *c, double lag_ms,
                                       void *userdata);
/*! Set (or with NULL clear) the start callback. */
SDC_EXTERN void sdc_scheduler_on_start(sdc_scheduler *s, sdc_scheduler_start_cb cb,
                                       void *userdata);

#ifdef __cplusplus
}
#endif
#endif /* SDCONNECT_PROBE_H */
