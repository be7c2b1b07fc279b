/* SPDX-License-Identifier: Apache-2.0 */
/* Inside sdc_diagnose(): the report being made and the steps that add to
 * it. Each step adds at least one finding: an ok line, problems, or a
 * skip saying which earlier step stopped it. */
#ifndef SDC_LIB_DIAGNOSE_DIAG_H
#define SDC_LIB_DIAGNOSE_DIAG_H

#include <sdconnect/diagnose.h>

#include <stdbool.h>
#include <stddef.h>

struct sdc_diag_opts {
  char *service, *url, *location;
  char host[256];   /* the URL's host: SNI and the name the certificate needs */
  bool tls;         /* an https URL */
  bool lab;
  uint64_t connect_ms;
  char *ca_pem;     /* trust this instead of the system store */
  char *cert_pem, *key_pem; /* mTLS */
  const struct sdc_webhook *webhook; /* borrowed, or NULL */
  const struct sdc_check *check;     /* borrowed, or NULL */
  sdc_resolver *agent;               /* the directory as Google's agent, or NULL */
};

struct sdc_diag_report {
  sdc_diag_finding *items;
  size_t n, cap;
  bool oom;
};

/* Add a finding (strings copied). Out of memory marks the report. */
void diag_add(sdc_diag_report *r, const char *step, const char *code, sdc_diag_level level,
              const char *subject, const char *what, const char *fix);
/* The same, `what` formatted. */
void diag_addf(sdc_diag_report *r, const char *step, const char *code, sdc_diag_level level,
               const char *subject, const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* The parts of projects/P/locations/L/namespaces/N/services/S. */
struct sd_name {
  char project[64], location[64], ns[64], service[64];
};
/* false when `name` is not such a name with valid ids (RFC 1035 labels). */
bool diag_parse_service(const char *name, struct sd_name *out);

/* Steps. Each returns false when later steps cannot run. */
bool diag_directory(sdc_resolver *r, const struct sdc_diag_opts *o, const struct sd_name *n,
                    sdc_diag_report *rep, const sdc_service **svc);
/* Step 3: what the principal Google uses may do on the service. */
void diag_iam(const struct sdc_diag_opts *o, const struct sd_name *n, const sdc_service *svc,
              sdc_diag_report *rep);
/* Steps 4 and 5; how many endpoints passed both (their port open, TLS
 * without a failure). */
size_t diag_endpoints(const struct sdc_diag_opts *o, const sdc_service *svc,
                      sdc_diag_report *rep);
/* Step 5, for an endpoint whose port is open: false on a failure. */
bool diag_tls(const struct sdc_diag_opts *o, const sdc_endpoint *e, const char *subject,
              sdc_diag_report *rep);
/* Step 6: a real call of o->webhook. */
void diag_http(sdc_resolver *res, const struct sdc_diag_opts *o, sdc_diag_report *rep);
/* Step 6 for an uptime check: one real run of o->check. */
void diag_check_run(sdc_resolver *res, const struct sdc_diag_opts *o, sdc_diag_report *rep);
/* TCP connect within `ms`: 0 connected (the socket in *out_fd, non-blocking,
 * when out_fd is not NULL; else closed), or the errno (ETIMEDOUT when
 * nothing answered). *took_ms: how long it took. */
int diag_connect(const char *address, int port, uint64_t ms, uint64_t *took_ms, int *out_fd);

/* What an address is to Google's private network access. */
enum addr_kind {
  ADDR_PRIVATE,      /* RFC 1918, RFC 6598, IPv6 ULA */
  ADDR_LOOPBACK,     /* 127/8, ::1 */
  ADDR_UNROUTABLE,   /* link-local, multicast, unspecified, reserved */
  ADDR_PUBLIC,
  ADDR_NOT_AN_ADDRESS
};
enum addr_kind diag_address_kind(const char *address);

/* What is wrong with an endpoint's `network`: 0 fine, else one of these */
enum net_problem { NET_OK, NET_MISSING, NET_PROJECT_ID, NET_MALFORMED };
enum net_problem diag_network_problem(const char *network);

/* Edit distance of two short ids, capped at 9. */
int diag_distance(const char *a, const char *b);

#endif
