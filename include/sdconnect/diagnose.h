/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Diagnose the private path Google's services take to a webhook or an
 * uptime check: the configuration, the Service Directory entry, the
 * IAM, endpoints (address, network, port), TLS and a real call, walked in that
 * order, each finding
 * with a stable code and a concrete fix. docs/diagnose.md lists the codes.
 *
 * Threads: options and reports are one thread at a time; sdc_diagnose()
 * may run on any thread (the resolver is thread-safe).
 * Blocking: sdc_diagnose() blocks (directory calls, connects, a real
 * call); nothing else does.
 */
#ifndef SDCONNECT_DIAGNOSE_H
#define SDCONNECT_DIAGNOSE_H

#include <sdconnect/probe.h>
#include <sdconnect/resolver.h>
#include <sdconnect/webhook.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sdc_diag_level {
  SDC_DIAG_OK = 0,   /*!< checked and fine */
  SDC_DIAG_WARN = 1, /*!< works, but not as Google's service would see it */
  SDC_DIAG_FAIL = 2, /*!< Google's service would fail here */
  SDC_DIAG_SKIP = 3  /*!< not checked: an earlier step failed */
} sdc_diag_level;

/*! One finding: borrowed from its report. Append-only: the library makes
 *  it, and fields are only ever added at the end. */
typedef struct sdc_diag_finding {
  const char *step;  /*!< "config", "directory", "iam", "endpoints", "tls", "http" */
  const char *code;  /*!< stable, e.g. "SD_SERVICE_NOT_FOUND" */
  sdc_diag_level level;
  const char *subject; /*!< what it is about (a name, an endpoint), or "" */
  const char *what;  /*!< what was found, one line */
  const char *fix;   /*!< the concrete fix; "" for ok and skip */
} sdc_diag_finding;

typedef struct sdc_diag_opts sdc_diag_opts;
typedef struct sdc_diag_report sdc_diag_report;

/*! Options with the defaults: no lab, 3 s per connect.
 *  \param[out] out  Set on SDC_OK only; free with sdc_diag_opts_free().
 *  \return SDC_OK, SDC_EINVAL (out is NULL) or SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_diag_opts_new(sdc_diag_opts **out);
SDC_EXTERN void sdc_diag_opts_free(sdc_diag_opts *o); /* NULL ok */
/*! The service (projects/P/locations/L/namespaces/N/services/S) and the
 *  URL Google's service calls (https://HOST[:PORT]/...). Copied.
 *  SDC_OK, SDC_EINVAL (NULL), SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_diag_opts_set_target(sdc_diag_opts *o, const char *service,
                                               const char *url);
/*! The location the caller lives in (a Dialogflow agent's), or NULL: the
 *  service must be in it. Copied. SDC_OK, SDC_EINVAL (no options),
 *  SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_diag_opts_set_location(sdc_diag_opts *o, const char *location);
/*! Diagnose the path to webhook `w` (borrowed: it must outlive
 *  sdc_diagnose()): its Service Directory service and URL, its CA
 *  certificates and mTLS identity. SDC_OK, SDC_EINVAL (not a Service
 *  Directory webhook), SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_diag_opts_set_webhook(sdc_diag_opts *o, const sdc_webhook *w);
/*! Diagnose the path of uptime check `c` (borrowed: it must outlive
 *  sdc_diagnose()), a servicedirectory_service one: its service, its
 *  protocol and port. Cloud Monitoring does not validate a private check's
 *  certificate, so neither is it judged here (its dates are warned of).
 *  SDC_OK, SDC_EINVAL (not a Service Directory check), SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_diag_opts_set_check(sdc_diag_opts *o, const sdc_check *c);
/*! Without a webhook: the CA to trust (PEM; NULL: the system's) and a
 *  client certificate and key (PEM) for mTLS. Copied (the key zeroed when
 *  freed). SDC_OK, SDC_EINVAL (no options), SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_diag_opts_set_tls(sdc_diag_opts *o, const char *ca_pem,
                                            const char *cert_pem, const char *key_pem);
/*! The directory as the principal Google's service uses (Dialogflow's or
 *  Monitoring's service agent), e.g. a local directory whose --iam-policy
 *  gives it a token (borrowed; NULL: not asked): the iam step asks it
 *  TestIamPermissions for what Google's service needs on the service. */
SDC_EXTERN void sdc_diag_opts_set_agent(sdc_diag_opts *o, sdc_resolver *agent);
/*! A local rehearsal: loopback addresses count as private. */
SDC_EXTERN void sdc_diag_opts_set_lab(sdc_diag_opts *o, int lab);
/*! How long a TCP connect may take before it counts as dropped. */
SDC_EXTERN void sdc_diag_opts_set_connect_timeout_ms(sdc_diag_opts *o, uint64_t ms);

/*! Walk the path with `r` (borrowed; the directory to ask) and report.
 *  Blocks (directory calls, TCP connects): not for an event loop's
 *  thread. A finding is a result, not an error.
 *  \return SDC_OK with *out set (free with sdc_diag_report_free()),
 *  SDC_EINVAL (no target set), SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_diagnose(sdc_resolver *r, const sdc_diag_opts *o,
                                   sdc_diag_report **out);

/*! A report made of one finding (a configuration that did not load, say),
 *  for callers that find something before sdc_diagnose() can run. Strings
 *  copied. \param[out] out  Set on SDC_OK only.
 *  \return SDC_OK, SDC_EINVAL (no out, step or code) or SDC_ENOMEM. */
SDC_EXTERN sdc_status sdc_diag_report_one(const char *step, const char *code,
                                          sdc_diag_level level, const char *subject,
                                          const char *what, const char *fix,
                                          sdc_diag_report **out);
/*! How many findings the report holds. */
SDC_EXTERN size_t sdc_diag_report_count(const sdc_diag_report *r);
/*! Finding `i`, in the order they were found; borrowed until the report
 *  is freed; NULL past the end. */
SDC_EXTERN const sdc_diag_finding *sdc_diag_report_get(const sdc_diag_report *r, size_t i);
/*! How many findings are FAIL or WARN (0: all good). */
SDC_EXTERN size_t sdc_diag_report_problems(const sdc_diag_report *r);
/*! {"findings": [{step, code, level, subject, what, fix}], "problems": N}
 *  as text to free with sdc_free(); NULL when out of memory. */
SDC_EXTERN char *sdc_diag_report_json(const sdc_diag_report *r);
SDC_EXTERN const char *sdc_diag_level_name(sdc_diag_level l); /* "ok", "warn", ... */
SDC_EXTERN void sdc_diag_report_free(sdc_diag_report *r); /* NULL ok */

#ifdef __cplusplus
}
#endif
#endif /* SDCONNECT_DIAGNOSE_H */
