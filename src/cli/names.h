/* SPDX-License-Identifier: Apache-2.0 */
/* Short Service Directory names completed from --project, --location and
 * --namespace (names.c). */
#ifndef SDC_CLI_NAMES_H
#define SDC_CLI_NAMES_H

#include "opts.h"

#include <sdconnect/registry.h>

#include <stddef.h>

/* Room for any resource name. */
#define NAME_MAX_LEN 1100

struct name_flags {
  const char *project, *location, *namespace_, *service;
};

/* "namespace", "service", "endpoint". */
const char *cli_kind_word(sdc_sd_kind k);

/* projects/P/locations/L from the flags (the project also from
 * CLOUDSDK_CORE_PROJECT or SDCONNECT_PROJECT). 0, or the exit code after
 * saying what is missing. */
int cli_location_name(const char *cmd, const struct name_flags *nf, char *out, size_t n);

/* The full name of a `kind` resource given as `id`: a full name (checked)
 * or an id completed from the flags. 0, or the exit code after saying
 * what is wrong. */
int cli_build_name(const char *cmd, sdc_sd_kind kind, const char *id,
                   const struct name_flags *nf, char *out, size_t n);

/* The --service of fetch, probe and call: `service` (NULL: none given)
 * made a full name in `out`. The name flags without a --service to
 * complete are refused. 0, or the exit code after saying what is wrong. */
int cli_service_flag(const char *cmd, const char *service, const struct name_flags *nf,
                     char *out, size_t n);

/* --project, --location and --namespace, for commands that take a short
 * service name. */
const struct flag *name_flag_table(struct name_flags *nf);

#endif
