/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Run the private uptime checks of a file once, against every endpoint.
 *
 *   run_check [--local HOST:PORT] CHECKS.yaml
 *
 * CHECKS.yaml holds Cloud Monitoring UptimeCheckConfig resources
 * (sdconnect-check.yaml(5)). Services are resolved through Google's API,
 * or through a local directory with --local.
 * Exit status: 0 every check passed, 1 runtime error, 2 usage or a bad
 * file, 3 a check failed.
 */
#include <sdconnect/sdconnect.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

struct runs {
  size_t left;   /* reports still owed */
  int failed;
};

static void on_report(const sdc_probe_report *rep, void *userdata)
{
  struct runs *runs = userdata;
  for(size_t i = 0; i < rep->n_results; i++) {
    const sdc_probe_result *r = sdc_probe_report_result(rep, i); /* not rep->results[i] */
    if(r->passed)
      printf("%s  %s  passed  %.1f ms\n", sdc_check_id(rep->check), r->endpoint, r->total_ms);
    else
      printf("%s  %s  %s  (%s)\n", sdc_check_id(rep->check), r->endpoint,
             sdc_probe_reason_name(r->reason), r->detail);
  }
  if(rep->n_results == 0)
    printf("%s  no endpoint was probed\n", sdc_check_id(rep->check));
  runs->failed |= !rep->passed;
  runs->left--;
}

int main(int argc, char **argv)
{
  const char *local = NULL, *file = NULL;
  sdc_check_set *set = NULL;
  sdc_resolver_opts *ropts = NULL;
  sdc_resolver *res = NULL;
  sdc_pool_opts *popts = NULL;
  sdc_pool *pool = NULL;
  sdc_prober *prober = NULL;
  struct runs runs = {0, 0};
  uint64_t longest = 0;
  char err[256] = "", *errors = NULL;
  sdc_status st;
  int rc = 1;

  if(argc == 4 && strcmp(argv[1], "--local") == 0) {
    local = argv[2];
    file = argv[3];
  } else if(argc == 2 && argv[1][0] != '-') {
    file = argv[1];
  } else {
    fprintf(stderr, "usage: %s [--local HOST:PORT] CHECKS.yaml\n", argv[0]);
    return 2;
  }
  if(SDC_VERSION_CHECK() != SDC_OK || sdc_global_init(NULL) != SDC_OK) {
    fprintf(stderr, "libsdconnect %s cannot serve this program (built against %s)\n",
            sdc_version(), SDC_VERSION_STRING);
    return 1;
  }

  if((st = sdc_checks_load_file(file, &set, &errors)) != SDC_OK) {
    fprintf(stderr, "%s: %s\n%s", file, sdc_strerror(st), errors ? errors : "");
    rc = st == SDC_ECONFIG || st == SDC_EIO ? 2 : 1;
    goto out;
  }
  if((st = sdc_resolver_opts_new(&ropts)) != SDC_OK ||
     (local && ((st = sdc_resolver_opts_set_endpoint(ropts, local)) != SDC_OK ||
                (st = sdc_resolver_opts_set_plaintext(ropts, 1)) != SDC_OK)) ||
     (st = sdc_resolver_new(&res, ropts, err, sizeof(err))) != SDC_OK) {
    fprintf(stderr, "directory: %s%s%s\n", sdc_strerror(st), err[0] ? ": " : "", err);
    rc = st == SDC_EINVAL ? 2 : 1;
    goto out;
  }
  /* Probes scan up to 4 MiB of an answer, as Cloud Monitoring does. */
  if((st = sdc_pool_opts_new(&popts)) != SDC_OK ||
     (st = sdc_pool_opts_set_max_body(popts, 4u << 20)) != SDC_OK ||
     (st = sdc_pool_new(&pool, popts)) != SDC_OK ||
     (st = sdc_prober_new(&prober, pool, res)) != SDC_OK) {
    fprintf(stderr, "%s\n", sdc_strerror(st));
    goto out;
  }
  for(size_t i = 0; i < sdc_check_set_count(set); i++) {
    const sdc_check *c = sdc_check_set_get(set, i);
    if((st = sdc_probe_run(prober, c, on_report, &runs)) != SDC_OK) {
      fprintf(stderr, "%s: cannot start: %s\n", sdc_check_id(c), sdc_strerror(st));
      goto out;
    }
    runs.left++;
    if(sdc_check_timeout_ms(c) > longest)
      longest = sdc_check_timeout_ms(c);
  }
  /* Runs progress only while the pool is driven; each ends within its
   * timeout once its service is resolved (the directory's deadline is 15 s). */
  {
    time_t give_up = time(NULL) + (time_t)(longest / 1000) + 30;
    while(runs.left > 0 && time(NULL) < give_up)
      sdc_pool_perform(pool, 1000);
  }
  if(runs.left > 0) {
    fprintf(stderr, "%zu check(s) did not report in time\n", runs.left);
    goto out;
  }
  rc = runs.failed ? 3 : 0;
out:
  sdc_prober_free(prober); /* before the pool it runs over */
  sdc_pool_free(pool);
  sdc_pool_opts_free(popts);
  sdc_resolver_free(res);
  sdc_resolver_opts_free(ropts);
  sdc_check_set_free(set);
  sdc_free(errors);
  sdc_global_cleanup();
  return rc;
}
