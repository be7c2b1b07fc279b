/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Step 3: may the principal Google's service uses resolve the service?
 * Dialogflow resolves as its service agent,
 * service-PROJECT_NUMBER@gcp-sa-dialogflow.iam.gserviceaccount.com, and
 * Cloud Monitoring as service-PROJECT_NUMBER@gcp-sa-monitoring-notification
 * .iam.gserviceaccount.com (the sheets' forms). Asked as that principal
 * (sdc_diag_opts_set_agent: a directory whose IAM knows it, as a local
 * rehearsal's does) with TestIamPermissions; Google's own directory cannot
 * be asked as another principal, so without one the step says what to
 * check by hand.
 */
#include "diagnose/diag.h"

#include <sdconnect/registry.h>

#include <stdio.h>
#include <string.h>

#define STEP "iam"

/* pscAuthorizedService on each network's project (projects/NUMBER). */
static void check_networks(const struct sdc_diag_opts *o, const char *agent,
                           const sdc_service *svc, sdc_diag_report *r)
{
  static const char *const access[] = {"servicedirectory.networks.access"};

  for(size_t i = 0; i < svc->n_endpoints; i++) {
    const char *net = svc->endpoints[i].network;
    char project[128], fix[500];
    size_t len;
    bool seen = false;
    int held = 0;
    if(diag_network_problem(net) != NET_OK) /* the endpoints step names that */
      continue;
    len = strcspn(net + 9, "/");
    snprintf(project, sizeof(project), "projects/%.*s", (int)len, net + 9);
    for(size_t j = 0; j < i && !seen; j++) /* each project once */
      seen = diag_network_problem(svc->endpoints[j].network) == NET_OK &&
             !strncmp(svc->endpoints[j].network, project, strlen(project)) &&
             svc->endpoints[j].network[strlen(project)] == '/';
    if(seen || sdc_sd_test_iam_permissions(o->agent, project, access, 1, &held) || held)
      continue;
    snprintf(fix, sizeof(fix), "gcloud projects add-iam-policy-binding %s "
             "--member=serviceAccount:%s --role=roles/servicedirectory.pscAuthorizedService",
             project + 9, agent);
    diag_addf(r, STEP, "IAM_PSC_MISSING", SDC_DIAG_FAIL, project, fix,
              "the principal Google's service uses lacks roles/servicedirectory."
              "pscAuthorizedService on %s, the project of network %s: its traffic cannot "
              "enter the network", project, net);
  }
}

void diag_iam(const struct sdc_diag_opts *o, const struct sd_name *n, const sdc_service *svc,
              sdc_diag_report *r)
{
  size_t before = r->n;
  static const char *const need[] = {"servicedirectory.services.resolve",
                                     "servicedirectory.services.get"};
  const char *agent = o->check ? "service-PROJECT_NUMBER@gcp-sa-monitoring-notification."
                                 "iam.gserviceaccount.com"
                               : "service-PROJECT_NUMBER@gcp-sa-dialogflow.iam."
                                 "gserviceaccount.com";
  char fix[700];
  int held[2] = {0, 0};
  sdc_status st;

  snprintf(fix, sizeof(fix), "gcloud projects add-iam-policy-binding %s "
           "--member=serviceAccount:%s --role=roles/servicedirectory.viewer (PROJECT_NUMBER: "
           "the number of the %s's project)", n->project, agent,
           o->check ? "check" : "agent");
  if(!o->agent) {
    diag_addf(r, STEP, "SKIPPED", SDC_DIAG_SKIP, o->service, NULL,
              "not asked: Google's directory cannot be asked as %s; it needs "
              "roles/servicedirectory.viewer on project %s and pscAuthorizedService on the "
              "network's project", agent, n->project);
    return;
  }
  st = sdc_sd_test_iam_permissions(o->agent, o->service, need, 2, held);
  if(st == SDC_EPERM) {
    diag_addf(r, STEP, "IAM_AGENT_UNKNOWN", SDC_DIAG_FAIL, o->service,
              "give the agent's token as the directory's IAM lists it (sd-server "
              "--iam-policy principals)", "the directory does not know the agent's "
              "credentials: %s", sdc_resolver_errmsg(o->agent));
    return;
  }
  if(st) {
    diag_addf(r, STEP, "IAM_UNCHECKED", SDC_DIAG_WARN, o->service,
              "run diagnose again; if it persists, check the directory's IAM by hand",
              "TestIamPermissions failed: %s", sdc_resolver_errmsg(o->agent));
    return;
  }
  if(!held[0] || !held[1])
    diag_addf(r, STEP, "IAM_VIEWER_MISSING", SDC_DIAG_FAIL, o->service, fix,
              "the principal Google's service uses lacks %s%s%s on the service: it cannot "
              "resolve it (Dialogflow raises webhook.error.not-found)",
              held[0] ? "" : need[0], !held[0] && !held[1] ? " and " : "",
              held[1] ? "" : need[1]);
  check_networks(o, agent, svc, r);
  if(r->n == before)
    diag_add(r, STEP, "IAM_OK", SDC_DIAG_OK, o->service, "the principal Google's service uses "
             "may resolve the service and enter its endpoints' networks", NULL);
}
