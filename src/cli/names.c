/* SPDX-License-Identifier: Apache-2.0 */
/* Short resource names: "orders" with --namespace, --location and
 * --project made into projects/P/locations/L/namespaces/N/services/orders,
 * for every command that names a Service Directory resource. */
#include "names.h"

#include "msgs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *cli_kind_word(sdc_sd_kind k)
{
  return k == SDC_SD_NAMESPACE ? "namespace"
         : k == SDC_SD_SERVICE ? "service"
                               : "endpoint";
}

/* Segments in a full name of each kind: projects/P/locations/L = 4. */
static size_t segments(const char *s)
{
  size_t n = 1;

  for(; *s; s++)
    n += *s == '/';
  return n;
}

static bool full_name_of(const char *s, size_t want_segments)
{
  return !strncmp(s, "projects/", 9) && segments(s) == want_segments;
}

/* The location name from flags: projects/P/locations/L. */
int cli_location_name(const char *cmd, const struct name_flags *nf, char *out, size_t n)
{
  const char *project = nf->project;

  if(!project)
    project = getenv("CLOUDSDK_CORE_PROJECT");
  if(!project || !*project)
    project = getenv("SDCONNECT_PROJECT");
  if(!project || !*project)
    return usage_error(cmd, "no project: give --project, set "
                       "CLOUDSDK_CORE_PROJECT, or pass a full resource name");
  if(!nf->location)
    return usage_error(cmd, "no location: give --location (e.g. us-central1), "
                       "or pass a full resource name");
  snprintf(out, n, "projects/%s/locations/%s", project, nf->location);
  return 0;
}

/* Full name of a `kind` resource given as `id` (an id or a full name). */
int cli_build_name(const char *cmd, sdc_sd_kind kind, const char *id,
                   const struct name_flags *nf, char *out, size_t n)
{
  char parent[NAME_MAX_LEN];
  int rc;

  if(strchr(id, '/')) {
    if(!full_name_of(id, 4 + 2 * (size_t)kind))
      return usage_error(cmd, "'%s' is not a full %s name (projects/P/"
                         "locations/L/namespaces/N%s%s)", id, cli_kind_word(kind),
                         kind >= SDC_SD_SERVICE ? "/services/S" : "",
                         kind == SDC_SD_ENDPOINT ? "/endpoints/E" : "");
    snprintf(out, n, "%s", id);
    return 0;
  }
  if(kind == SDC_SD_NAMESPACE) {
    rc = cli_location_name(cmd, nf, parent, sizeof(parent));
  } else {
    const char *up = kind == SDC_SD_SERVICE ? nf->namespace_ : nf->service;
    if(!up)
      return usage_error(cmd, "%s '%s' needs --%s (or give its full name)",
                         cli_kind_word(kind), id,
                         kind == SDC_SD_SERVICE ? "namespace" : "service");
    rc = cli_build_name(cmd, (sdc_sd_kind)(kind - 1), up, nf, parent, sizeof(parent));
  }
  if(rc)
    return rc;
  if(snprintf(out, n, "%s/%s/%s", parent,
              kind == SDC_SD_NAMESPACE ? "namespaces"
              : kind == SDC_SD_SERVICE ? "services"
                                       : "endpoints",
              id) >= (int)n)
    return usage_error(cmd, "the %s name for '%s' is too long", cli_kind_word(kind),
                       id);
  return 0;
}

int cli_service_flag(const char *cmd, const char *service, const struct name_flags *nf,
                     char *out, size_t n)
{
  if(service)
    return cli_build_name(cmd, SDC_SD_SERVICE, service, nf, out, n);
  if(nf->project || nf->location || nf->namespace_)
    return usage_error(cmd, "--project, --location and --namespace complete a short "
                       "--service name; there is no --service");
  return 0;
}

const struct flag *name_flag_table(struct name_flags *nf)
{
  static struct flag t[4];

  t[0] = (struct flag){.name = "project", .value = &nf->project,
                       .help = "ID  project of a short service name (env CLOUDSDK_CORE_PROJECT)"};
  t[1] = (struct flag){.name = "location", .value = &nf->location,
                       .help = "L  location of a short service name, e.g. us-central1"};
  t[2] = (struct flag){.name = "namespace", .value = &nf->namespace_,
                       .help = "N  namespace of a short service name"};
  t[3] = (struct flag){.name = NULL};
  return t;
}
