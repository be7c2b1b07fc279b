/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Call a Dialogflow CX webhook once, as Dialogflow CX calls it.
 *
 *   call_webhook [--local HOST:PORT] WEBHOOKS.yaml ID [TEXT]
 *
 * WEBHOOKS.yaml holds Webhook resources (sdconnect-webhook.yaml(5)); ID is
 * a webhook's id or display name. A standard webhook gets the
 * WebhookRequest Dialogflow would send for the user's TEXT; a Service
 * Directory webhook is resolved through Google's API, or a local directory
 * with --local. Exit status: 0 the call succeeded, 1 runtime error, 2 usage
 * or a bad file, 3 the call failed (Dialogflow would raise an event).
 */
#include <sdconnect/sdconnect.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

struct call {
  int done, failed;
};

static void on_result(const sdc_webhook_call_result *r, void *userdata)
{
  struct call *call = userdata;
  const sdc_webhook_outcome *o = &r->outcome;
  printf("%s %s: %s after %u attempt(s), HTTP %ld, status %s\n",
         r->method ? r->method : "-", r->url ? r->url : "-",
         sdc_webhook_failure_name(o->failure), r->attempts, o->http_status, o->rpc_name);
  if(o->failure != SDC_WEBHOOK_OK)
    printf("  event %s: %s\n", o->event ? o->event : "-", r->detail);
  else if(r->result_json)
    printf("  %s\n", r->result_json);
  call->failed = o->failure != SDC_WEBHOOK_OK;
  call->done = 1;
}

int main(int argc, char **argv)
{
  const char *local = NULL, *file, *id, *text = "hello";
  int a = 1;
  sdc_webhook_set *set = NULL;
  const sdc_webhook *hook;
  sdc_webhook_request_opts *ropts = NULL;
  sdc_resolver_opts *dopts = NULL;
  sdc_resolver *res = NULL;
  sdc_pool_opts *popts = NULL;
  sdc_pool *pool = NULL;
  sdc_webhook_caller *caller = NULL;
  struct call call = {0, 0};
  char err[256] = "", *errors = NULL, *request = NULL;
  sdc_status st;
  int rc = 1;

  if(argc > 2 && strcmp(argv[1], "--local") == 0) {
    local = argv[2];
    a = 3;
  }
  if(argc - a < 2 || argc - a > 3 || argv[a][0] == '-') {
    fprintf(stderr, "usage: %s [--local HOST:PORT] WEBHOOKS.yaml ID [TEXT]\n", argv[0]);
    return 2;
  }
  file = argv[a];
  id = argv[a + 1];
  if(argc - a == 3)
    text = argv[a + 2];
  if(SDC_VERSION_CHECK() != SDC_OK || sdc_global_init(NULL) != SDC_OK) {
    fprintf(stderr, "libsdconnect %s cannot serve this program (built against %s)\n",
            sdc_version(), SDC_VERSION_STRING);
    return 1;
  }

  if((st = sdc_webhooks_load_file(file, NULL, &set, &errors)) != SDC_OK) {
    fprintf(stderr, "%s: %s\n%s", file, sdc_strerror(st), errors ? errors : "");
    rc = st == SDC_ECONFIG || st == SDC_EIO ? 2 : 1;
    goto out;
  }
  if(!(hook = sdc_webhook_set_find(set, id))) {
    fprintf(stderr, "%s: no webhook '%s' (give its id or display name)\n", file, id);
    rc = 2;
    goto out;
  }
  if((st = sdc_webhook_request_opts_new(&ropts)) != SDC_OK ||
     (st = sdc_webhook_request_opts_set(ropts, SDC_WEBHOOK_REQUEST_TEXT, text)) != SDC_OK ||
     (st = sdc_webhook_request_build(hook, ropts, &request, err, sizeof(err))) != SDC_OK) {
    fprintf(stderr, "request: %s%s%s\n", sdc_strerror(st), err[0] ? ": " : "", err);
    goto out;
  }
  if(sdc_webhook_service(hook) &&
     ((st = sdc_resolver_opts_new(&dopts)) != SDC_OK ||
      (local && ((st = sdc_resolver_opts_set_endpoint(dopts, local)) != SDC_OK ||
                 (st = sdc_resolver_opts_set_plaintext(dopts, 1)) != SDC_OK)) ||
      (st = sdc_resolver_new(&res, dopts, err, sizeof(err))) != SDC_OK)) {
    fprintf(stderr, "directory: %s%s%s\n", sdc_strerror(st), err[0] ? ": " : "", err);
    rc = st == SDC_EINVAL ? 2 : 1;
    goto out;
  }
  if((st = sdc_pool_opts_new(&popts)) != SDC_OK || (st = sdc_pool_new(&pool, popts)) != SDC_OK ||
     (st = sdc_webhook_caller_new(&caller, pool, res)) != SDC_OK ||
     (st = sdc_webhook_call(caller, hook, request, on_result, &call)) != SDC_OK) {
    fprintf(stderr, "%s\n", sdc_strerror(st));
    goto out;
  }
  { /* two attempts (Dialogflow retries once) and the directory, at most */
    time_t give_up = time(NULL) + 2 * (time_t)(sdc_webhook_timeout_ms(hook) / 1000) + 30;
    while(!call.done && time(NULL) < give_up)
      sdc_pool_perform(pool, 1000);
  }
  if(!call.done) {
    fprintf(stderr, "the call did not end in time\n");
    goto out;
  }
  rc = call.failed ? 3 : 0;
out:
  sdc_webhook_caller_free(caller);
  sdc_pool_free(pool);
  sdc_pool_opts_free(popts);
  sdc_resolver_free(res);
  sdc_resolver_opts_free(dopts);
  sdc_webhook_request_opts_free(ropts);
  sdc_free(request);
  sdc_webhook_set_free(set);
  sdc_free(errors);
  sdc_global_cleanup();
  return rc;
}
