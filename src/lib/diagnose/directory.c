/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Step 2: the directory. The service is resolved as Google's service
 * resolves it; when it is not found, the namespace is looked up to tell
 * which part is missing, and the parent is listed for names one or two
 * edits away (a near miss is the usual cause).
 */
#include "sd/resource.h"
#include "diagnose/diag.h"

#include "core/core.h"

#include <sdconnect/registry.h>

#include <stdio.h>
#include <string.h>

#define STEP "directory"
#define MAX_LISTED 500 /* names looked through for near misses */

int diag_distance(const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b);
  int row[65], prev;

  if(la > 64 || lb > 64)
    return 9;
  for(size_t j = 0; j <= lb; j++)
    row[j] = (int)j;
  for(size_t i = 1; i <= la; i++) {
    prev = row[0];
    row[0] = (int)i;
    for(size_t j = 1; j <= lb; j++) {
      int keep = row[j], best = prev + (a[i - 1] != b[j - 1]);
      if(row[j] + 1 < best)
        best = row[j] + 1;
      if(row[j - 1] + 1 < best)
        best = row[j - 1] + 1;
      row[j] = best;
      prev = keep;
    }
  }
  return row[lb] > 9 ? 9 : row[lb];
}

/* The children of `parent` one or two edits from `id` ("a", "a' or 'b");
 * how many (at most 3). */
static size_t near_misses(sdc_resolver *r, sdc_sd_kind kind, const char *parent,
                          const char *id, char *out, size_t cap)
{
  sdc_sd_list_opts lo = {.page_size = 100};
  char token[512] = "";
  size_t seen = 0, found = 0, len = 0;

  out[0] = '\0';
  while(seen < MAX_LISTED) {
    sdc_sd_page *page = NULL;
    lo.page_token = token;
    if(sdc_sd_list(r, kind, parent, &lo, &page) != SDC_OK)
      break;
    for(size_t i = 0; i < page->n && found < 3; i++) {
      const char *slash = strrchr(page->items[i].name, '/');
      const char *child = slash ? slash + 1 : page->items[i].name;
      if(diag_distance(child, id) <= 2 && len < cap) {
        len += (size_t)snprintf(out + len, cap - len, "%s%s", found ? "' or '" : "", child);
        found++;
      }
    }
    seen += page->n;
    snprintf(token, sizeof(token), "%s", page->next_page_token ? page->next_page_token : "");
    sdc_sd_page_free(page);
    if(!*token || found >= 3)
      break;
  }
  return found;
}

/* Not found: say whether the namespace or the service is missing. */
static void not_found(sdc_resolver *r, const struct sdc_diag_opts *o, const struct sd_name *n,
                      sdc_diag_report *rep)
{
  char parent[300], ns[400], near[300], hint[340], fix[900];
  sdc_sd_resource *got = NULL;
  size_t n_near;
  sdc_status st;

  snprintf(parent, sizeof(parent), "projects/%s/locations/%s", n->project, n->location);
  snprintf(ns, sizeof(ns), "%s/namespaces/%s", parent, n->ns);
  st = sdc_sd_get(r, SDC_SD_NAMESPACE, ns, &got);
  sdc_sd_resource_free(got);
  if(st == SDC_ENOTFOUND) {
    n_near = near_misses(r, SDC_SD_NAMESPACE, parent, n->ns, near, sizeof(near));
    snprintf(hint, sizeof(hint), n_near ? " (did you mean '%s'?)" : "%s", near);
    if(n_near == 1)
      snprintf(fix, sizeof(fix), "correct the namespace in the service name to '%s', or "
               "create namespace '%s' (sdconnect namespaces create %s)", near, n->ns, ns);
    else
      snprintf(fix, sizeof(fix), "create the namespace (sdconnect namespaces create %s), or "
               "correct the service name in the configuration", ns);
    diag_addf(rep, STEP, "SD_NAMESPACE_NOT_FOUND", SDC_DIAG_FAIL, ns, fix,
              "no namespace '%s' in project %s, location %s%s", n->ns, n->project,
              n->location, hint);
    return;
  }
  n_near = near_misses(r, SDC_SD_SERVICE, ns, n->service, near, sizeof(near));
  snprintf(hint, sizeof(hint), n_near ? " (did you mean '%s'?)" : "%s", near);
  if(n_near == 1)
    snprintf(fix, sizeof(fix), "correct the service name to %s/services/%s, or create "
             "service '%s' (sdconnect services create %s)", ns, near, n->service, o->service);
  else
    snprintf(fix, sizeof(fix), "create the service (sdconnect services create %s), or correct "
             "the service name in the configuration", o->service);
  diag_addf(rep, STEP, "SD_SERVICE_NOT_FOUND", SDC_DIAG_FAIL, o->service, fix,
            "namespace '%s' has no service '%s'%s", n->ns, n->service, hint);
}

bool diag_directory(sdc_resolver *r, const struct sdc_diag_opts *o, const struct sd_name *n,
                    sdc_diag_report *rep, const sdc_service **svc)
{
  sdc_status st = sdc_resolve(r, o->service, 0, NULL, svc, NULL);
  char fix[600];

  switch(st) {
  case SDC_OK:
    break;
  case SDC_ENOTFOUND:
    not_found(r, o, n, rep);
    return false;
  case SDC_EPERM:
    if(sdc_resolver_grpc_status(r) == 16) { /* UNAUTHENTICATED: no identity at all */
      diag_addf(rep, STEP, "SD_UNAUTHENTICATED", SDC_DIAG_FAIL, sdc_resolver_endpoint(r),
                "give sdconnect credentials the directory accepts (--credentials, "
                "--token-file, or Google's default credentials)",
                "the directory does not know the caller: %s", sdc_resolver_errmsg(r));
      return false;
    }
    snprintf(fix, sizeof(fix), "grant the identity sdconnect uses roles/servicedirectory."
             "viewer on project %s (gcloud projects add-iam-policy-binding %s --member=... "
             "--role=roles/servicedirectory.viewer)", n->project, n->project);
    diag_addf(rep, STEP, "SD_PERMISSION_DENIED", SDC_DIAG_FAIL, o->service, fix,
              "the directory refused to resolve the service: %s", sdc_resolver_errmsg(r));
    return false;
  case SDC_ENOMEM:
    rep->oom = true;
    return false;
  default:
    snprintf(fix, sizeof(fix), "check that the directory answers at %s (--endpoint, "
             "SDCONNECT_SD_ENDPOINT) and the credentials sdconnect uses",
             sdc_resolver_endpoint(r));
    diag_addf(rep, STEP, "SD_UNREACHABLE", SDC_DIAG_FAIL, sdc_resolver_endpoint(r), fix,
              "the directory did not answer: %s (%s)", sdc_resolver_errmsg(r),
              sdc_strerror(st));
    return false;
  }
  if(!(*svc)->n_endpoints) {
    snprintf(fix, sizeof(fix), "register the server's private address, port and network: "
             "sdconnect endpoints create %s/endpoints/NAME --address IP --port PORT "
             "--network projects/NUMBER/locations/global/networks/NETWORK", o->service);
    diag_addf(rep, STEP, "SD_NO_ENDPOINTS", SDC_DIAG_FAIL, o->service, fix,
              "the service exists but has no endpoints: Google's service has nothing to "
              "call");
    return false;
  }
  diag_addf(rep, STEP, "SD_RESOLVED", SDC_DIAG_OK, o->service, NULL,
            "the service resolves to %zu endpoint%s", (*svc)->n_endpoints,
            (*svc)->n_endpoints == 1 ? "" : "s");
  return true;
}
