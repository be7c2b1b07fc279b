/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Service Directory commands: `resolve`, and `namespaces|services|endpoints
 * create|describe|list|update|delete` with the verbs and flags of
 * `gcloud service-directory`, so that habits carry over. A full resource
 * name is accepted wherever a short id and its --namespace/--service/
 * --location/--project flags are.
 */
#include "cmds.h"
#include "names.h"

#include "msgs.h"
#include "opts.h"
#include "out.h"

#include <sdconnect/sdconnect.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define MAX_KV 64

/* "k=v,k2=v2" into kv (pointing into the copy `buf`). "" is an empty map. */
static int parse_kv(const char *cmd, const char *flag, const char *text,
                    char *buf, size_t cap, sdc_kv *kv, size_t *n)
{
  char *save = NULL, *tok;

  *n = 0;
  if(strlen(text) >= cap)
    return usage_error(cmd, "--%s is too long", flag);
  strcpy(buf, text);
  for(tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(tok, '=');
    if(!eq || eq == tok)
      return usage_error(cmd, "--%s: '%s' is not KEY=VALUE (pairs are joined "
                         "by commas)", flag, tok);
    if(*n == MAX_KV)
      return usage_error(cmd, "--%s: more than %d pairs", flag, MAX_KV);
    *eq = '\0';
    kv[*n].key = tok;
    kv[*n].value = eq + 1;
    (*n)++;
  }
  return 0;
}

static int parse_port(const char *cmd, const char *s, int *port)
{
  unsigned long long v;

  if(!svc_parse_uint(s, 0, 65535, &v))
    return usage_error(cmd, "--port: '%s' is not a port from 0 to 65535", s);
  *port = (int)v;
  return 0;
}

/* ---- resolve ------------------------------------------------------------ */
int cmd_resolve(int argc, char **argv)
{
  static const char cmd[] = "resolve";
  struct dir_flags sf = {0};
  struct name_flags nf = {0};
  const char *max_s = NULL, *filter = NULL;
  struct flag own[] = {
      {.name = "max-endpoints", .value = &max_s, .set = NULL, .help = "N  at most N endpoints (1-100; default 25)"},
      {.name = "filter", .value = &filter, .set = NULL, .help = "EXPR  only endpoints matching, e.g. 'port>8000'"},
      {.name = NULL, .value = NULL, .set = NULL, .help = NULL}};
  const struct flag *tables[] = {own, name_flag_table(&nf), dir_flag_table(&sf), NULL};
  struct parsed p;
  char name[NAME_MAX_LEN];
  sdc_resolver *r = NULL;
  const sdc_service *svc = NULL;
  sdc_resolve_info info;
  sdc_status st;
  long max = 0;
  int rc;

  rc = opts_parse(cmd, argc, argv, 1, tables, &p);
  if(rc)
    return rc;
  if(p.help) {
    printf("Usage: sdconnect resolve SERVICE [OPTIONS]\n\nResolve a Service "
           "Directory service to its endpoints (ResolveService).\nSERVICE is "
           "projects/P/locations/L/namespaces/N/services/S, or S with\n"
           "--namespace, --location and --project.\n\nOptions:\n");
    opts_help(tables, NULL);
    return 0;
  }
  if(p.n_pos != 1)
    return usage_error(cmd, "give exactly one SERVICE");
  if(max_s) {
    unsigned long long v;
    if(!svc_parse_uint(max_s, 1, 100, &v))
      return usage_error(cmd, "--max-endpoints: '%s' is not a number from 1 "
                         "to 100", max_s);
    max = (long)v;
  }
  rc = cli_build_name(cmd, SDC_SD_SERVICE, p.pos[0], &nf, name, sizeof(name));
  if(rc)
    return rc;
  rc = cli_resolver_new(&sf, cmd, &r);
  if(rc)
    return rc;
  st = sdc_resolve(r, name, (int)max, filter, &svc, &info);
  if(st) {
    rc = dir_call_failed(cmd, r, st, "servicedirectory.services.resolve");
    sdc_resolver_free(r);
    return rc;
  }
  for(size_t i = 0; i < svc->n_endpoints; i++)
    if(!sdc_service_endpoint(svc, i)->usable)
      cli_warn(cmd, "endpoint %s has %s: it cannot be dialed",
               sdc_service_endpoint(svc, i)->name,
               *sdc_service_endpoint(svc, i)->address ? "port 0" : "no address");
  if(sf.json) {
    json_t *j = json_object();
    json_object_set_new(j, "service", json_service(svc));
    json_print(j);
  } else {
    print_service(svc);
  }
  sdc_service_release(svc);
  sdc_resolver_free(r);
  return 0;
}

/* ---- namespaces | services | endpoints ------------------------------------ */
enum verb { V_CREATE, V_DESCRIBE, V_LIST, V_UPDATE, V_DELETE };

static int run_registry(sdc_sd_kind kind, int argc, char **argv)
{
  static const char *const verbs[] = {"create", "describe", "list", "update",
                                      "delete"};
  static const char *const perms[] = {"create", "get", "list", "update",
                                      "delete"};
  const char *group = kind == SDC_SD_NAMESPACE ? "namespaces"
                      : kind == SDC_SD_SERVICE ? "services"
                                               : "endpoints";
  char cmd[64], name[NAME_MAX_LEN], perm[128], kvbuf[4096];
  struct dir_flags sf = {0};
  struct name_flags nf = {0};
  const char *labels = NULL, *annotations = NULL, *address = NULL,
             *port_s = NULL, *network = NULL, *filter = NULL, *order_by = NULL,
             *page_size_s = NULL, *limit_s = NULL;
  struct flag own[16];
  size_t n_own = 0;
  const struct flag *tables[3];
  struct parsed p;
  sdc_kv kv[MAX_KV];
  size_t n_kv = 0;
  int port = 0;
  sdc_sd_resource *in = NULL, *res = NULL;
  sdc_resolver *r = NULL;
  enum verb v = V_CREATE;
  sdc_status st = SDC_OK;
  int rc, found = 0;

  if(argc < 2) {
    fprintf(stderr, "Usage: sdconnect %s create|describe|list|update|delete "
            "...\n", group);
    return 2;
  }
  for(int i = 0; i < 5; i++)
    if(!strcmp(argv[1], verbs[i])) {
      v = (enum verb)i;
      found = 1;
    }
  snprintf(cmd, sizeof(cmd), "%s %s", group, argv[1]);
  if(!found && strcmp(argv[1], "--help") && strcmp(argv[1], "-h"))
    return usage_error(group, "unknown verb '%s'; use create, describe, list, "
                       "update or delete", argv[1]);
  if(!found) {
    printf("Usage: sdconnect %s create|describe|list|update|delete ...\n"
           "Run 'sdconnect %s VERB --help' for a verb's options.\n\n", group,
           group);
    printf(SDC_EXIT_TABLE, "is not used by these commands");
    return 0;
  }
  own[n_own++] = (struct flag){.name = "project", .value = &nf.project, .set = NULL, .help = "ID  project (env CLOUDSDK_CORE_PROJECT)"};
  own[n_own++] = (struct flag){.name = "location", .value = &nf.location, .set = NULL, .help = "L  location, e.g. us-central1"};
  if(kind >= SDC_SD_SERVICE || v == V_LIST)
    if(kind >= SDC_SD_SERVICE)
      own[n_own++] = (struct flag){.name = "namespace", .value = &nf.namespace_, .set = NULL, .help = "N  namespace id or full name"};
  if(kind == SDC_SD_ENDPOINT)
    own[n_own++] = (struct flag){.name = "service", .value = &nf.service, .set = NULL, .help = "S  service id or full name"};
  if(v == V_CREATE || v == V_UPDATE) {
    if(kind == SDC_SD_NAMESPACE)
      own[n_own++] = (struct flag){.name = "labels", .value = &labels, .set = NULL, .help = "K=V,...  labels (update: replaces all)"};
    else
      own[n_own++] = (struct flag){.name = "annotations", .value = &annotations, .set = NULL, .help = "K=V,...  annotations (update: replaces all)"};
    if(kind == SDC_SD_ENDPOINT) {
      own[n_own++] = (struct flag){.name = "address", .value = &address, .set = NULL, .help = "IP  IPv4 or IPv6 address"};
      own[n_own++] = (struct flag){.name = "port", .value = &port_s, .set = NULL, .help = "N  port, 0-65535"};
      if(v == V_CREATE)
        own[n_own++] = (struct flag){.name = "network", .value = &network, .set = NULL, .help = "NET  projects/NUMBER/locations/global/"
                                     "networks/NAME"};
    }
  }
  if(v == V_LIST) {
    own[n_own++] = (struct flag){.name = "filter", .value = &filter, .set = NULL, .help = "EXPR  e.g. 'annotations.owner=sre'"};
    own[n_own++] = (struct flag){.name = "order-by", .value = &order_by, .set = NULL, .help = "FIELDS  e.g. 'name desc'"};
    own[n_own++] = (struct flag){.name = "page-size", .value = &page_size_s, .set = NULL, .help = "N  items per request"};
    own[n_own++] = (struct flag){.name = "limit", .value = &limit_s, .set = NULL, .help = "N  stop after N items"};
  }
  own[n_own] = (struct flag){.name = NULL, .value = NULL, .set = NULL, .help = NULL};
  tables[0] = own;
  tables[1] = dir_flag_table(&sf);
  tables[2] = NULL;
  rc = opts_parse(cmd, argc, argv, 2, tables, &p);
  if(rc)
    return rc;
  if(p.help) {
    printf("Usage: sdconnect %s %s\n\nOptions:\n", cmd,
           v == V_LIST ? "[OPTIONS]" : "ID|NAME [OPTIONS]");
    opts_help(tables, NULL);
    return 0;
  }
  snprintf(perm, sizeof(perm), "servicedirectory.%s.%s", group, perms[v]);
  if(v == V_LIST) {
    if(p.n_pos)
      return usage_error(cmd, "list takes no positional argument (got '%s')",
                         p.pos[0]);
    if(kind == SDC_SD_NAMESPACE)
      rc = cli_location_name(cmd, &nf, name, sizeof(name));
    else
      rc = cli_build_name(cmd, (sdc_sd_kind)(kind - 1),
                      kind == SDC_SD_SERVICE ? (nf.namespace_ ? nf.namespace_ : "")
                                             : (nf.service ? nf.service : ""),
                      &nf, name, sizeof(name));
    if(!rc && kind != SDC_SD_NAMESPACE &&
       !(kind == SDC_SD_SERVICE ? nf.namespace_ : nf.service))
      rc = usage_error(cmd, "give --%s", kind == SDC_SD_SERVICE ? "namespace"
                                                                : "service");
  } else {
    if(p.n_pos != 1)
      return usage_error(cmd, "give exactly one %s id or full name",
                         cli_kind_word(kind));
    rc = cli_build_name(cmd, kind, p.pos[0], &nf, name, sizeof(name));
  }
  if(rc)
    return rc;
  if(labels || annotations) {
    rc = parse_kv(cmd, labels ? "labels" : "annotations",
                  labels ? labels : annotations, kvbuf, sizeof(kvbuf), kv, &n_kv);
    if(rc)
      return rc;
  }
  if(port_s && (rc = parse_port(cmd, port_s, &port)))
    return rc;
  if(v == V_CREATE || v == V_UPDATE) { /* what is sent */
    int bad = sdc_sd_resource_new(&in, kind, name) != SDC_OK;
    for(size_t i = 0; !bad && i < n_kv; i++)
      bad = sdc_sd_resource_add_kv(in, kv[i].key, kv[i].value) != SDC_OK;
    if(!bad && kind == SDC_SD_ENDPOINT)
      bad = sdc_sd_resource_set_address(in, address ? address : "") ||
            sdc_sd_resource_set_port(in, port) ||
            sdc_sd_resource_set_network(in, network ? network : "");
    if(bad) {
      sdc_sd_resource_free(in);
      cli_error(cmd, "out of memory");
      return 1;
    }
  }
  rc = cli_resolver_new(&sf, cmd, &r);
  if(rc) {
    sdc_sd_resource_free(in);
    return rc;
  }
  switch(v) {
  case V_CREATE:
    st = sdc_sd_create(r, in, &res);
    break;
  case V_DESCRIBE:
    st = sdc_sd_get(r, kind, name, &res);
    break;
  case V_UPDATE: {
    const char *mask[4];
    size_t n = 0;
    if(labels)
      mask[n++] = "labels";
    if(annotations)
      mask[n++] = "annotations";
    if(address)
      mask[n++] = "address";
    if(port_s)
      mask[n++] = "port";
    if(!n) {
      sdc_resolver_free(r);
      sdc_sd_resource_free(in);
      return usage_error(cmd, "nothing to update: give %s",
                         kind == SDC_SD_NAMESPACE ? "--labels"
                         : kind == SDC_SD_SERVICE ? "--annotations"
                                                  : "--address, --port or "
                                                    "--annotations");
    }
    st = sdc_sd_update(r, in, mask, n, &res);
    break;
  }
  case V_DELETE:
    st = sdc_sd_delete(r, kind, name);
    if(!st)
      printf("deleted %s %s\n", cli_kind_word(kind), name);
    break;
  case V_LIST: {
    sdc_sd_list_opts *lo = NULL;
    char token[2048] = "";
    long limit = -1, shown = 0;
    unsigned long long num, page_size = 0;
    json_t *all = sf.json ? json_array() : NULL;
    bool bad_size = page_size_s && !svc_parse_uint(page_size_s, 1, 2147483647, &page_size);
    if(limit_s && svc_parse_uint(limit_s, 1, 100000000, &num))
      limit = (long)num;
    else if(limit_s)
      limit = 0;
    if(bad_size || (limit_s && limit < 1)) {
      json_decref(all);
      sdc_resolver_free(r);
      return usage_error(cmd, "--page-size takes a number from 1 to 2147483647, --limit one "
                         "from 1 to 100000000");
    }
    if((st = sdc_sd_list_opts_new(&lo)) || (st = sdc_sd_list_opts_set_filter(lo, filter)) ||
       (st = sdc_sd_list_opts_set_order_by(lo, order_by)) ||
       (st = sdc_sd_list_opts_set_page_size(lo, (int)page_size))) {
      json_decref(all);
      all = NULL;
    }
    for(int guard = 0; !st && guard < 100000; guard++) {
      sdc_sd_page *page = NULL;
      size_t n;
      if((st = sdc_sd_list_opts_set_page_token(lo, token)) ||
         (st = sdc_sd_list(r, kind, name, lo, &page)))
        break;
      n = sdc_sd_page_count(page);
      if(limit >= 0 && (long)n > limit - shown)
        n = (size_t)(limit - shown); /* only what --limit leaves */
      if(all)
        for(size_t i = 0; i < n; i++)
          json_array_append_new(all, json_resource(sdc_sd_page_item(page, i)));
      else
        print_rows(kind, page, n, guard == 0);
      shown += (long)n;
      snprintf(token, sizeof(token), "%s", sdc_sd_page_next_token(page));
      sdc_sd_page_free(page);
      if(!*token || (limit >= 0 && shown >= limit))
        break;
    }
    sdc_sd_list_opts_free(lo);
    if(all) {
      if(!st)
        json_print(all);
      else
        json_decref(all);
    }
    break;
  }
  }
  if(st) {
    rc = dir_call_failed(cmd, r, st, perm);
  } else if(res) {
    if(sf.json)
      json_print(json_resource(res));
    else
      print_resource(res);
  }
  sdc_sd_resource_free(res);
  sdc_sd_resource_free(in);
  sdc_resolver_free(r);
  return rc;
}

int cmd_namespaces(int argc, char **argv)
{
  return run_registry(SDC_SD_NAMESPACE, argc, argv);
}

int cmd_services(int argc, char **argv)
{
  return run_registry(SDC_SD_SERVICE, argc, argv);
}

int cmd_endpoints(int argc, char **argv)
{
  return run_registry(SDC_SD_ENDPOINT, argc, argv);
}
