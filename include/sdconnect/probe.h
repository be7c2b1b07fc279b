/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private uptime checks: Cloud Monitoring UptimeCheckConfig resources
 * (Google's REST JSON field names, in YAML or JSON) loaded and validated
 * the way the API validates them, then run against every endpoint of a
 * Service Directory service (or a plain host) over the pool.
 *
 * Threads: check sets are immutable once loaded and may be read from any
 * thread; a prober belongs to the thread that drives its pool.
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
 *  *errors says why), SDC_ETOOBIG (over 4 MiB), SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_checks_load_file(const char *path,
                                           sdc_check_set **out,
                                           char **errors);
/*! The same from memory; `name` stands for the file in messages, and
 *  relative file names inside are taken from the current directory. */
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

#ifdef __cplusplus
}
#endif
#endif /* SDCONNECT_PROBE_H */
