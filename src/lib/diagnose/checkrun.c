/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Step 6 for a private uptime check: one real run of the check
 * (sdc_probe_run(): every endpoint, its protocol, path, accepted statuses
 * and content matcher), each endpoint that fails named with why.
 */
#include "diagnose/diag.h"

#include "core/core.h"
#include "probe/check.h"

#include <sdconnect/pool.h>

#include <stdio.h>
#include <string.h>

#define STEP "http"

struct wait {
  bool done;
  sdc_diag_report *r;
};

static void on_report(const sdc_probe_report *rep, void *ud)
{
  struct wait *wt = ud;

  for(size_t i = 0; i < rep->n_results; i++) {
    const sdc_probe_result *x = &rep->results[i];
    const char *slash = strrchr(x->endpoint, '/');
    char subject[200];
    snprintf(subject, sizeof(subject), "%s %s:%d", slash ? slash + 1 : x->endpoint,
             x->address, x->port);
    if(x->passed) {
      diag_addf(wt->r, STEP, "CHECK_PASSED", SDC_DIAG_OK, subject, NULL,
                "the check passes here%s%.0ld (%.0f ms)", x->http_status ? ": HTTP " : "",
                x->http_status, x->total_ms);
    } else if(x->reason == SDC_PROBE_HTTP_STATUS) {
      diag_addf(wt->r, STEP, "CHECK_HTTP_STATUS", SDC_DIAG_FAIL, subject,
                "make the server answer a status the check accepts at its path, or widen "
                "acceptedResponseStatusCodes", "%s", x->detail);
    } else if(x->reason == SDC_PROBE_CONTENT_MISMATCH) {
      diag_addf(wt->r, STEP, "CHECK_CONTENT_MISMATCH", SDC_DIAG_FAIL, subject,
                "make the answer hold what contentMatchers ask for (its first 4 MB are "
                "scanned), or correct the matcher", "%s", x->detail);
    } else if(x->reason == SDC_PROBE_TIMEOUT) {
      diag_addf(wt->r, STEP, "CHECK_TIMEOUT", SDC_DIAG_FAIL, subject,
                "answer within the check's timeout, or raise it (at most 60s)", "%s",
                x->detail);
    } else {
      diag_addf(wt->r, STEP, "CHECK_FAILED", SDC_DIAG_FAIL, subject,
                "see docs/probe-results.md for this reason and its fix", "%s: %s",
                sdc_probe_reason_name(x->reason), x->detail);
    }
  }
  wt->done = true;
}

void diag_check_run(sdc_resolver *res, const struct sdc_diag_opts *o, sdc_diag_report *r)
{
  sdc_pool_opts *po = NULL;
  sdc_pool *pool = NULL;
  sdc_prober *pr = NULL;
  struct wait wt = {false, r};
  uint64_t until = sdc__now_ms() + sdc_check_timeout_ms(o->check) + 10000;

  /* a pool that reads what Google's checkers read (4 MiB) */
  if(sdc_pool_opts_new(&po) || sdc_pool_opts_set_max_body(po, 4u << 20) ||
     sdc_pool_new(&pool, po) || sdc_prober_new(&pr, pool, res) ||
     sdc_probe_run(pr, o->check, on_report, &wt)) {
    r->oom = true;
    goto out;
  }
  while(!wt.done && sdc__now_ms() < until) /* bounded: the check's timeout and then some */
    sdc_pool_perform(pool, 200);
  if(!wt.done)
    diag_add(r, STEP, "CHECK_FAILED", SDC_DIAG_FAIL, o->check->id,
             "the run did not end within the check's timeout", "look at the server");
out:
  sdc_prober_free(pr); /* a run still going reports first */
  sdc_pool_free(pool);
  sdc_pool_opts_free(po);
}
