/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sdconnect probe: run uptime checks (Cloud Monitoring UptimeCheckConfig
 * files) once against every endpoint, and print a table or JSON lines.
 * Exit 0 when every check passed, 3 when one failed, 2 for a bad file or
 * flag, 1 when something else went wrong.
 */
#include "cmds.h"
#include "names.h"

#include "msgs.h"
#include "opts.h"

#include <sdconnect/sdconnect.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CMD "probe"
#define MAX_FILES MAX_POSITIONAL

struct outcome {
  bool json;
  size_t done, failed;
  bool header_printed;
};

/* The last segment of an SD endpoint's name ("a" for .../endpoints/a). */
static const char *short_name(const char *name)
{
  const char *slash = name ? strrchr(name, '/') : NULL;

  return slash ? slash + 1 : name ? name : "";
}

static void print_row(const sdc_probe_report *rep, const sdc_probe_result *r)
{
  char addr[80] = "-", status[8] = "-", total[16] = "-", days[16] = "-";

  if(*r->address && r->port)
    snprintf(addr, sizeof(addr), strchr(r->address, ':') ? "[%s]:%d" : "%s:%d",
             r->address, r->port);
  if(r->http_status)
    snprintf(status, sizeof(status), "%ld", r->http_status);
  if(r->total_ms > 0)
    snprintf(total, sizeof(total), "%.1f", r->total_ms);
  if(r->cert_expiry)
    snprintf(days, sizeof(days), "%.1f",
             (double)(r->cert_expiry * 1000 - rep->started_unix_ms) / 86400000.0);
  printf("%-24.24s %-18.18s %-24.24s %-4s %-20.20s %-6s %9s %-8s %8s\n",
         sdc_check_id(rep->check), short_name(r->endpoint), addr,
         r->passed ? "ok" : "FAIL", r->passed ? "-" : sdc_probe_reason_name(r->reason),
         status, total, *r->tls_version ? r->tls_version : "-", days);
}

static void on_report(const sdc_probe_report *rep, void *ud)
{
  struct outcome *o = ud;

  o->done++;
  if(!rep->passed)
    o->failed++;
  for(size_t i = 0; i < rep->n_results; i++) {
    const sdc_probe_result *r = sdc_probe_report_result(rep, i);
    if(o->json) {
      char *line = sdc_probe_result_json(rep, i);
      if(line)
        puts(line);
      sdc_free(line);
      continue;
    }
    if(!o->header_printed) {
      printf("%-24s %-18s %-24s %-4s %-20s %-6s %9s %-8s %8s\n", "CHECK", "ENDPOINT",
             "ADDRESS", "RESULT", "REASON", "STATUS", "TOTAL_MS", "TLS", "CERT_DAYS");
      o->header_printed = true;
    }
    print_row(rep, r);
  }
  if(o->json)
    return;
  for(size_t i = 0; i < rep->n_results; i++) /* why, under the table rows */
    if(!sdc_probe_report_result(rep, i)->passed && *sdc_probe_report_result(rep, i)->detail)
      fprintf(stderr, "sdconnect probe: %s: %s: %s\n", sdc_check_id(rep->check),
              short_name(sdc_probe_report_result(rep, i)->endpoint), sdc_probe_report_result(rep, i)->detail);
  if(rep->directory_stale)
    fprintf(stderr, "sdconnect probe: %s: the directory did not answer; its last "
            "answer was used\n", sdc_check_id(rep->check));
}

/* --service with --tcp, --http or --https: a check made from flags. */
struct adhoc {
  struct name_flags nf;
  const char *service, *tcp, *http, *https, *host, *ca;
};

/* A YAML single-quoted scalar: quotes doubled. */
static void yq(char *out, size_t cap, const char *s)
{
  size_t o = 0;

  out[o++] = '\'';
  for(; *s && o + 3 < cap; s++) {
    if(*s == '\'')
      out[o++] = '\'';
    out[o++] = *s;
  }
  out[o++] = '\'';
  out[o] = '\0';
}

/* The UptimeCheckConfig the flags describe, loaded (and so validated) as
 * a file of one would be. 0, or the exit code after saying what is wrong. */
static int adhoc_check(struct adhoc *a, sdc_check_set **out)
{
  char name[NAME_MAX_LEN], part[4][300], q[6][320], yaml[4096], *errs = NULL;
  const char *path = a->http ? a->http : a->https, *seg[8];
  char *save = NULL, *tok;
  size_t n = 0;
  int rc, kinds = !!a->tcp + !!a->http + !!a->https;
  sdc_status st;

  if(!a->service)
    return usage_error(CMD, "--tcp, --http and --https go with --service NAME");
  if(kinds != 1)
    return usage_error(CMD, "give one of --tcp PORT, --http PATH or --https PATH with --service");
  if((a->host || a->ca) && a->tcp)
    return usage_error(CMD, "--host and --check-ca are for --http and --https");
  if((rc = cli_service_flag(CMD, a->service, &a->nf, name, sizeof(name))))
    return rc;
  for(tok = strtok_r(name, "/", &save); tok && n < 8; tok = strtok_r(NULL, "/", &save))
    seg[n++] = tok; /* projects P locations L namespaces N services S */
  for(int i = 0; i < 4; i++)
    snprintf(part[i], sizeof(part[i]), "%s", seg[2 * i + 1]);
  for(int i = 0; i < 4; i++)
    yq(q[i], sizeof(q[i]), part[i]);
  yq(q[4], sizeof(q[4]), path ? path : "");
  yq(q[5], sizeof(q[5]), a->host ? a->host : "");
  n = (size_t)snprintf(yaml, sizeof(yaml),
                       "displayName: %s\ncheckerType: VPC_CHECKERS\ntimeout: 10s\n"
                       "monitoredResource:\n  type: servicedirectory_service\n"
                       "  labels: {project_id: %s, location: %s, namespace_name: %s, "
                       "service_name: %s}\n",
                       q[3], q[0], q[1], q[2], q[3]);
  if(a->tcp)
    n += (size_t)snprintf(yaml + n, sizeof(yaml) - n, "tcpCheck: {port: %s}\n", a->tcp);
  else
    n += (size_t)snprintf(yaml + n, sizeof(yaml) - n, "httpCheck: {path: %s, useSsl: %s%s}\n",
                          q[4], a->https ? "true" : "false",
                          a->https && a->ca ? ", validateSsl: true" : "");
  if(a->host || a->ca) {
    char cq[NAME_MAX_LEN];
    yq(cq, sizeof(cq), a->ca ? a->ca : "");
    snprintf(yaml + n, sizeof(yaml) - n, "sdconnect: {%s%s%s%s%s}\n", a->host ? "host: " : "",
             a->host ? q[5] : "", a->host && a->ca ? ", " : "", a->ca ? "caFile: " : "",
             a->ca ? cq : "");
  }
  st = sdc_checks_load_mem("the --service check", yaml, strlen(yaml), out, &errs);
  if(st) {
    /* the loader names the field of the check it made: say which flag that is */
    fputs(errs ? errs : "", stderr);
    cli_error(CMD, "the flags do not make a valid check: %s", sdc_strerror(st));
    cli_hint("--tcp takes a port 1-65535, --http/--https a path starting with '/'");
    sdc_free(errs);
    return st == SDC_ENOMEM ? 1 : 2;
  }
  return 0;
}

int cmd_probe(int argc, char **argv)
{
  struct dir_flags sf = {0};
  const char *timeout_s = NULL, *id_creds = NULL;
  struct adhoc adhoc = {0};
  struct flag own[] = {
      {.name = "id-token-credentials", .value = &id_creds, .help = "FILE  service-account "
       "key for the ID tokens of serviceAgentAuthentication checks (default: "
       "GOOGLE_APPLICATION_CREDENTIALS, then the metadata server)"},
      {.name = "probe-timeout", .value = &timeout_s, .help = "DURATION  overall limit "
       "(default: the longest check timeout plus the directory's)"},
      {.name = "service", .value = &adhoc.service, .help = "NAME  instead of check files: "
       "check this service now (a full name, or an id with --namespace, --location and "
       "--project), with --tcp, --http or --https"},
      {.name = "tcp", .value = &adhoc.tcp, .help = "PORT  with --service: a TCP check of PORT"},
      {.name = "http", .value = &adhoc.http, .help = "PATH  with --service: an HTTP GET of PATH"},
      {.name = "https", .value = &adhoc.https, .help = "PATH  with --service: an HTTPS GET of PATH"},
      {.name = "host", .value = &adhoc.host, .help = "NAME  with --http/--https: the host "
       "name for SNI, the certificate check and Host"},
      {.name = "check-ca", .value = &adhoc.ca, .help = "FILE  with --https: the CA the "
       "endpoints' certificates chain to (and check them)"},
      {0}};
  const struct flag *tables[] = {own, name_flag_table(&adhoc.nf), dir_flag_table(&sf), NULL};
  struct parsed p;
  sdc_check_set *sets[MAX_FILES] = {0};
  size_t n_checks = 0, n_sets;
  bool need_sd = false;
  sdc_resolver *r = NULL;
  sdc_pool_opts *po = NULL;
  sdc_pool *pool = NULL;
  sdc_prober *pr = NULL;
  struct outcome o = {0};
  uint64_t limit = 0, longest = 0, started;
  int rc = opts_parse(CMD, argc, argv, 1, tables, &p);

  if(rc)
    return rc;
  if(p.help) {
    printf("Usage: sdconnect probe CHECK_FILE... [OPTIONS]\n\n"
           "Run each uptime check once against every endpoint of its Service\n"
           "Directory service (or its host), each over a connection of its own.\n"
           "A CHECK_FILE holds Cloud Monitoring UptimeCheckConfig resources (YAML or\n"
           "JSON, as the API returns them).\n\nOptions:\n");
    opts_help(tables, "a check failed");
    return 0;
  }
  if(adhoc.service || adhoc.tcp || adhoc.http || adhoc.https) {
    if(p.n_pos)
      return usage_error(CMD, "give check files or --service, not both");
    if((rc = adhoc_check(&adhoc, &sets[0])))
      return rc;
  } else if(!p.n_pos) {
    return usage_error(CMD, "name at least one check file (UptimeCheckConfig YAML or JSON), "
                       "or --service with --tcp, --http or --https");
  } else if((rc = cli_service_flag(CMD, NULL, &adhoc.nf, NULL, 0))) {
    return rc; /* name flags with files: nothing to complete */
  }
  if(timeout_s && !svc_parse_duration_ms(timeout_s, &limit))
    return usage_error(CMD, "--probe-timeout: '%s' is not a duration (e.g. 30s)", timeout_s);
  o.json = sf.json;
  rc = 2;
  n_sets = sets[0] ? 1 : p.n_pos;
  for(size_t f = 0; f < n_sets; f++) {
    char *errs = NULL;
    sdc_status st = sets[f] ? SDC_OK : sdc_checks_load_file(p.pos[f], &sets[f], &errs);
    if(st) {
      fputs(errs ? errs : "", stderr);
      if(!errs)
        cli_error(CMD, "%s: %s", p.pos[f], sdc_strerror(st));
      if(st == SDC_ECONFIG)
        cli_hint("fields use Google's REST names (httpCheck.useSsl, ...); settings "
                 "the API lacks go under 'sdconnect:' (see sdconnect-check.yaml(5))");
      sdc_free(errs);
      rc = st == SDC_ENOMEM ? 1 : 2;
      goto out;
    }
    for(size_t i = 0; i < sdc_check_set_count(sets[f]); i++) {
      const sdc_check *c = sdc_check_set_get(sets[f], i);
      need_sd |= sdc_check_service(c) != NULL;
      if(sdc_check_timeout_ms(c) > longest)
        longest = sdc_check_timeout_ms(c);
      n_checks++;
    }
  }
  if(need_sd && (rc = cli_resolver_new(&sf, CMD, &r)))
    goto out;
  rc = 1;
  if(sdc_pool_opts_new(&po) || sdc_pool_opts_set_max_body(po, 4u << 20) ||
     sdc_pool_new(&pool, po) || sdc_prober_new(&pr, pool, r) ||
     sdc_prober_set_credentials(pr, id_creds)) {
    cli_error(CMD, "out of memory");
    goto out;
  }
  for(size_t f = 0; f < n_sets; f++)
    for(size_t i = 0; i < sdc_check_set_count(sets[f]); i++)
      if(sdc_probe_run(pr, sdc_check_set_get(sets[f], i), on_report, &o)) {
        cli_error(CMD, "%s: cannot start: %s", sdc_check_id(sdc_check_set_get(sets[f], i)),
                  sdc_pool_errmsg(pool));
        goto out;
      }
  if(!limit)
    limit = longest + 60000; /* the directory's own deadline is within it */
  started = (uint64_t)time(NULL);
  while(o.done < n_checks && (uint64_t)time(NULL) - started <= limit / 1000 + 1)
    if(sdc_pool_perform(pool, limit) == SDC_ETIMEDOUT)
      break;
  if(o.done < n_checks) {
    cli_error(CMD, "%zu of %zu checks did not finish within %llu ms", n_checks - o.done,
              n_checks, (unsigned long long)limit);
    goto out;
  }
  if(!o.json)
    printf("%zu check%s, %zu passed, %zu failed\n", n_checks, n_checks == 1 ? "" : "s",
           n_checks - o.failed, o.failed);
  rc = o.failed ? 3 : 0;
out:
  sdc_prober_free(pr); /* unfinished runs are told, and counted, first */
  sdc_pool_free(pool);
  sdc_pool_opts_free(po);
  sdc_resolver_free(r);
  for(size_t f = 0; f < MAX_FILES; f++)
    sdc_check_set_free(sets[f]);
  return rc;
}
