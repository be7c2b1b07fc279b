/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sdconnect diagnose: walk the path Google's service takes to a private
 * webhook or uptime check (the configuration, the directory, the
 * endpoints, TLS, a real call or run) and say what is wrong and how to fix
 * it. One line per finding, with its stable code
 * (docs/diagnose.md) and a `fix:` line; --json gives the same findings.
 * Exit status: 0 all good, 3 findings, 2 a bad flag, 1 another failure
 * (the one table, src/svc/exit.h).
 */
#include "cmds.h"

#include "msgs.h"
#include "opts.h"

#include <sdconnect/sdconnect.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD "diagnose"

static void print_text(const char *title, const sdc_diag_report *rep)
{
  static const char *const marks[] = {"[ok]  ", "[warn]", "[FAIL]", "[skip]"};

  printf("diagnose %s\n", title);
  for(size_t i = 0; i < sdc_diag_report_count(rep); i++) {
    const sdc_diag_finding *f = sdc_diag_report_get(rep, i);
    printf("%s %-9s %s%s%s: %s\n", marks[f->level], f->step, f->code, *f->subject ? "  " : "",
           f->subject, f->what);
    if(*f->fix)
      printf("       fix: %s\n", f->fix);
  }
  if(sdc_diag_report_problems(rep))
    printf("%zu problem%s found\n", sdc_diag_report_problems(rep),
           sdc_diag_report_problems(rep) == 1 ? "" : "s");
  else
    printf("nothing wrong found\n");
}

static int report(bool json, const char *title, const sdc_diag_report *rep)
{
  if(json) {
    char *text = sdc_diag_report_json(rep);
    if(!text) {
      cli_error(CMD, "out of memory");
      return 1;
    }
    printf("%s\n", text);
    sdc_free(text);
  } else {
    print_text(title, rep);
  }
  return sdc_diag_report_problems(rep) ? 3 : 0;
}

/* The webhook file did not load: that is the finding. */
static int config_finding(bool json, const char *path, const char *errs)
{
  sdc_diag_report *rep = NULL;
  char what[1200];
  int rc;

  snprintf(what, sizeof(what), "%.1100s", errs && *errs ? errs : "the file does not load");
  what[strcspn(what, "\n")] = '\0'; /* the first problem; the rest follow it */
  if(sdc_diag_report_one("config", "CONFIG_INVALID", SDC_DIAG_FAIL, path, what,
                         "correct the field named (file:line:column); fields use Dialogflow "
                         "CX's REST names (sdconnect-webhook.yaml(5)); `sdconnect call` "
                         "prints every problem", &rep)) {
    cli_error(CMD, "out of memory");
    return 1;
  }
  rc = report(json, path, rep);
  sdc_diag_report_free(rep);
  return rc;
}

/* A file that did not load: -1 when it did (st SDC_OK), else the exit code
 * after saying so (a configuration the API would refuse is a finding). */
static int load_failed(bool json, const char *path, sdc_status st, char *errs)
{
  int rc = -1;

  if(st == SDC_ENOMEM || st == SDC_EIO) {
    cli_error(CMD, "%s: %s", path, errs && *errs ? errs : sdc_strerror(st));
    rc = st == SDC_EIO ? 2 : 1;
  } else if(st) {
    rc = config_finding(json, path, errs);
  }
  sdc_free(errs);
  return rc;
}

int cmd_diagnose(int argc, char **argv)
{
  struct dir_flags sf = {0};
  const char *webhook_file = NULL, *check_file = NULL, *config_file = NULL, *which = NULL, *environment = NULL, *url = NULL,
             *timeout = NULL, *tls_ca = NULL, *client_cert = NULL, *client_key = NULL,
             *agent_token = NULL;
  char *ca_pem = NULL, *cert_pem = NULL, *key_pem = NULL;
  bool lab = false;
  struct flag own[] = {
      {.name = "webhook", .value = &webhook_file, .help = "FILE  a file of Dialogflow CX "
       "Webhook resources: diagnose the path to one"},
      {.name = "check", .value = &check_file, .help = "FILE  a file of Cloud Monitoring "
       "UptimeCheckConfig resources: diagnose the path of a private one"},
      {.name = "config", .value = &config_file, .help = "FILE  an sdconnect.yaml: diagnose "
       "its check or webhook --id, with its directory settings"},
      {.name = "id", .value = &which, .help = "ID  which webhook or check of the file (when "
       "it holds several)"},
      {.name = "environment", .value = &environment, .help = "ENV  with this environment's "
       "webhookOverrides"},
      {.name = "url", .value = &url, .help = "URL  with SERVICE: the URL Google's service "
       "calls (its host is the TLS name)"},
      {.name = "tls-ca", .value = &tls_ca, .help = "FILE  with SERVICE: PEM CA certificates "
       "the server's certificate must chain to (default: the system's)"},
      {.name = "client-cert", .value = &client_cert, .help = "FILE  with SERVICE: a PEM client "
       "certificate, to rehearse mTLS"},
      {.name = "client-key", .value = &client_key, .help = "FILE  its PEM private key"},
      {.name = "agent-token-file", .value = &agent_token, .help = "FILE  ask the directory's "
       "IAM as Google's service agent, with this token (a rehearsal: sd-server "
       "--iam-policy)"},
      {.name = "lab", .set = &lab, .help = "a local rehearsal: loopback addresses count as "
       "private"},
      {.name = "connect-timeout", .value = &timeout, .help = "DURATION  how long a TCP "
       "connect may take before it counts as dropped (default 3s)"},
      {0}};
  const struct flag *tables[] = {own, dir_flag_table(&sf), NULL};
  struct parsed p;
  sdc_webhook_set *set = NULL;
  const sdc_webhook *w = NULL;
  sdc_check_set *checks = NULL;
  const sdc_check *c = NULL;
  sdc_serve_config *cfg = NULL;
  sdc_diag_opts *o = NULL;
  sdc_diag_report *rep = NULL;
  sdc_resolver *r = NULL, *agent = NULL;
  const char *service, *title;
  char *errs = NULL;
  uint64_t connect_ms = 3000;
  int rc = opts_parse(CMD, argc, argv, 1, tables, &p);
  sdc_status st;

  if(rc)
    return rc;
  if(p.help) {
    printf("Usage: sdconnect diagnose --webhook FILE [--id ID] [OPTIONS]\n"
           "       sdconnect diagnose --check FILE [--id ID] [OPTIONS]\n"
           "       sdconnect diagnose --config sdconnect.yaml --id ID [OPTIONS]\n"
           "       sdconnect diagnose SERVICE --url URL [OPTIONS]\n\n"
           "Walk the path Google's service takes to a private webhook or uptime check:\n"
           "the configuration; the Service Directory service (which part is missing,\n"
           "and names one or two edits away); each endpoint (an address, a private one,\n"
           "the network it is in, the port open: refused and dropped told apart); TLS\n"
           "with the URL's host (plain HTTP, version, chain, name, dates, key usage,\n"
           "mTLS); then a real call of the webhook, or a real run of the check, judged\n"
           "as Google judges it. Later steps are skipped when an earlier one fails.\n"
           "Each finding has a stable code (docs/diagnose.md) and a concrete fix.\n"
           "\nOptions:\n");
    opts_help(tables, "something is wrong: the findings say what and how to fix it");
    return 0;
  }
  if(timeout && (!svc_parse_duration_ms(timeout, &connect_ms) || !connect_ms ||
                 connect_ms > 60000))
    return usage_error(CMD, "--connect-timeout: '%s' is not a duration from 1ms to 60s "
                       "(e.g. 3s, 500ms)", timeout);
  if((webhook_file != NULL) + (check_file != NULL) + (config_file != NULL) + (p.n_pos == 1) !=
         1 || p.n_pos > 1)
    return usage_error(CMD, "give --webhook FILE, --check FILE, --config FILE, or one "
                       "SERVICE with --url URL");
  if(config_file && !which)
    return usage_error(CMD, "--config needs --id: the check or webhook to diagnose");
  if((webhook_file || check_file || config_file) && (url || tls_ca || client_cert || client_key))
    return usage_error(CMD, "--url, --tls-ca and --client-cert/--client-key go with SERVICE; "
                       "a webhook file has its own (allowedCaCerts, sdconnect.clientCertFile)");
  if(!client_cert != !client_key)
    return usage_error(CMD, "--client-cert and --client-key go together");
  if(p.n_pos == 1 && !url)
    return usage_error(CMD, "SERVICE needs --url URL: the URL Google's service calls");
  if(config_file) {
    st = sdc_serve_config_load(config_file, &cfg, &errs);
    if((rc = load_failed(sf.json, config_file, st, errs)) >= 0)
      return rc;
    for(size_t i = 0; i < sdc_check_set_count(cfg->checks); i++)
      if(!strcmp(sdc_check_id(sdc_check_set_get(cfg->checks, i)), which))
        c = sdc_check_set_get(cfg->checks, i);
    if(!c)
      w = sdc_webhook_set_find(cfg->webhooks, which);
    if(!c && !w) {
      rc = usage_error(CMD, "%s has no check or webhook '%s'", config_file, which);
      sdc_serve_config_free(cfg);
      return rc;
    }
    if(!(service = c ? sdc_check_service(c) : sdc_webhook_service(w))) {
      rc = usage_error(CMD, "'%s' does not go through Service Directory: Google reaches it "
                       "over the internet, which this does not diagnose", which);
      sdc_serve_config_free(cfg);
      return rc;
    }
    url = w ? sdc_webhook_uri(w) : NULL;
    title = which;
    /* the directory the daemon uses, unless flags say otherwise */
    if(!sf.endpoint && cfg->sd_is_local) {
      const char *colon = cfg->local_listen ? strrchr(cfg->local_listen, ':') : NULL;
      if(!colon || !strcmp(colon, ":0")) {
        rc = usage_error(CMD, "%s's local directory runs inside `sdconnect serve` on a port "
                         "it picks: give --sd-endpoint HOST:PORT (the daemon's status page "
                         "does)", config_file);
        sdc_serve_config_free(cfg);
        return rc;
      }
      sf.endpoint = cfg->local_listen;
    }
    if(!sf.endpoint)
      sf.endpoint = cfg->sd_endpoint;
    if(cfg->sd_is_local || cfg->sd_insecure)
      sf.insecure = true;
    if(!sf.insecure && !sf.ca && !sf.cert) {
      sf.ca = cfg->sd_ca_file;
      sf.cert = cfg->sd_cert_file;
      sf.key = cfg->sd_key_file;
    }
    if(!sf.token_file)
      sf.token_file = cfg->sd_token_file;
    if(!sf.credentials)
      sf.credentials = cfg->sd_credentials_file;
    lab = lab || cfg->sd_is_local; /* a local directory is a rehearsal */
  } else if(webhook_file) {
    st = sdc_webhooks_load_file(webhook_file, environment, &set, &errs);
    if((rc = load_failed(sf.json, webhook_file, st, errs)) >= 0)
      return rc;
    w = which ? sdc_webhook_set_find(set, which)
              : sdc_webhook_set_count(set) == 1 ? sdc_webhook_set_get(set, 0) : NULL;
    if(!w) {
      rc = usage_error(CMD, which ? "%s holds no webhook '%s'"
                                  : "%s holds several webhooks; say which with --id%s",
                       webhook_file, which ? which : "");
      sdc_webhook_set_free(set);
      return rc;
    }
    if(!(service = sdc_webhook_service(w))) {
      rc = usage_error(CMD, "webhook '%s' is not a Service Directory webhook (no "
                       "serviceDirectory): Google calls its URL over the internet, which "
                       "this does not diagnose", sdc_webhook_id(w));
      sdc_webhook_set_free(set);
      return rc;
    }
    url = sdc_webhook_uri(w);
    title = sdc_webhook_id(w);
  } else if(check_file) {
    st = sdc_checks_load_file(check_file, &checks, &errs);
    if((rc = load_failed(sf.json, check_file, st, errs)) >= 0)
      return rc;
    for(size_t i = 0; i < sdc_check_set_count(checks); i++) {
      const sdc_check *k = sdc_check_set_get(checks, i);
      if(which ? !strcmp(sdc_check_id(k), which) : sdc_check_set_count(checks) == 1)
        c = k;
    }
    if(!c || !sdc_check_service(c)) {
      rc = !c ? usage_error(CMD, which ? "%s holds no check '%s'"
                                       : "%s holds several checks; say which with --id%s",
                            check_file, which ? which : "")
              : usage_error(CMD, "check '%s' is not a private (servicedirectory_service) "
                            "check: Google reaches its URL over the internet, which this does "
                            "not diagnose", sdc_check_id(c));
      sdc_check_set_free(checks);
      return rc;
    }
    service = sdc_check_service(c);
    title = sdc_check_id(c);
  } else {
    service = p.pos[0];
    title = service;
  }
  if(agent_token) { /* the same directory, as the agent */
    struct dir_flags af = sf;
    af.token_file = agent_token;
    af.credentials = NULL;
    if((rc = cli_resolver_new(&af, CMD, &agent)))
      goto out;
  }
  if((rc = cli_resolver_new(&sf, CMD, &r)))
    goto out;
  rc = 1;
  if(sdc_diag_opts_new(&o))
    goto oom;
  if(w ? sdc_diag_opts_set_webhook(o, w)
        : c ? sdc_diag_opts_set_check(o, c) : sdc_diag_opts_set_target(o, service, url))
    goto oom;
  if(tls_ca && !(ca_pem = cli_read_file(CMD, "--tls-ca", tls_ca, 1u << 20, NULL))) {
    rc = 2;
    goto out;
  }
  if(client_cert && (!(cert_pem = cli_read_file(CMD, "--client-cert", client_cert, 1u << 20,
                                                NULL)) ||
                     !(key_pem = cli_read_file(CMD, "--client-key", client_key, 1u << 20,
                                               NULL)))) {
    rc = 2;
    goto out;
  }
  if(!w && !c && sdc_diag_opts_set_tls(o, ca_pem, cert_pem, key_pem))
    goto oom;
  sdc_diag_opts_set_lab(o, lab);
  sdc_diag_opts_set_agent(o, agent);
  sdc_diag_opts_set_connect_timeout_ms(o, connect_ms);
  if((st = sdc_diagnose(r, o, &rep)))
    goto oom;
  rc = report(sf.json, title, rep);
  goto out;
oom:
  cli_error(CMD, "out of memory");
out:
  sdc_diag_report_free(rep);
  sdc_diag_opts_free(o);
  sdc_resolver_free(r);
  sdc_resolver_free(agent);
  sdc_webhook_set_free(set);
  sdc_check_set_free(checks);
  sdc_serve_config_free(cfg);
  free(ca_pem);
  free(cert_pem);
  if(key_pem) { /* a secret */
    memset(key_pem, 0, strlen(key_pem));
    free(key_pem);
  }
  return rc;
}
