/* SPDX-License-Identifier: Apache-2.0 */
/*
 * UptimeCheckConfig (Cloud Monitoring v3, REST JSON names) -> struct
 * sdc_check, rejecting what the API rejects (uptime-checks sheet, §2 and
 * §9) with the line, column and field of each problem.
 *
 * What sdconnect adds lives under `sdconnect:` inside the resource, so the
 * rest stays what the API returns: the host name for SNI, certificate
 * checks and Host; CA certificates; a client certificate; a period under
 * 60 s; the User-Agent; whether one passing endpoint is enough.
 */
#include "probe/check.h"

#include "config/config.h"
#include "core/core.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

struct sdc_check_set {
  struct sdc_check **v;
  size_t n;
};

/* Decoding state: the tree, and the directory relative file names in the
 * sdconnect: block are taken from. */
struct dec {
  struct sdc__cfg *cfg;
  char base[1024];
};

#define P(buf, parent, key) (sdc__cfg_path(buf, sizeof(buf), parent, key), buf)

/* ---- freeing -------------------------------------------------------------- */
void sdc__check_free(struct sdc_check *c)
{
  if(!c)
    return;
  sdc_free(c->name);
  sdc_free(c->id);
  sdc_free(c->display_name);
  sdc_free(c->project);
  sdc_free(c->location);
  sdc_free(c->ns);
  sdc_free(c->service);
  sdc_free(c->sd_name);
  sdc_free(c->host);
  sdc_free(c->path);
  for(size_t i = 0; i < c->n_headers; i++) {
    sdc_free(c->headers[i].name);
    sdc_free(c->headers[i].value);
  }
  sdc_free(c->headers);
  sdc_free(c->body);
  sdc_free(c->content_type);
  sdc_free(c->accepted);
  sdc_free(c->basic_user);
  if(c->basic_pass) {
    memset(c->basic_pass, 0, strlen(c->basic_pass));
    sdc_free(c->basic_pass);
  }
  sdc__match_cleanup(&c->m);
  sdc_free(c->ca);
  sdc_free(c->cert);
  if(c->key) {
    memset(c->key, 0, c->key_len);
    sdc_free(c->key);
  }
  sdc_free(c->user_agent);
  sdc_free(c->audience);
  sdc_free(c);
}

void sdc_check_set_free(sdc_check_set *s)
{
  if(!s)
    return;
  for(size_t i = 0; i < s->n; i++)
    sdc__check_free(s->v[i]);
  sdc_free(s->v);
  sdc_free(s);
}

size_t sdc_check_set_count(const sdc_check_set *s) { return s ? s->n : 0; }
const sdc_check *sdc_check_set_get(const sdc_check_set *s, size_t i)
{
  return s && i < s->n ? s->v[i] : NULL;
}
const char *sdc_check_id(const sdc_check *c) { return c->id; }
const char *sdc_check_display_name(const sdc_check *c) { return c->display_name; }
const char *sdc_check_service(const sdc_check *c)
{
  return c->resource == RES_SD_SERVICE ? c->sd_name : NULL;
}
uint64_t sdc_check_period_ms(const sdc_check *c) { return c->period_ms; }
uint64_t sdc_check_timeout_ms(const sdc_check *c) { return c->timeout_ms; }

/* ---- monitoredResource -------------------------------------------------------- */
static const char *const resource_types[] = {
    "uptime_url", "gce_instance", "gae_app", "aws_ec2_instance",
    "aws_elb_load_balancer", "k8s_service", "servicedirectory_service",
    "cloud_run_revision", NULL};

static void decode_resource(struct dec *d, const struct sdc__cfg_node *n,
                            const char *parent, struct sdc_check *c)
{
  char path[256], lpath[256], *type = NULL;
  const struct sdc__cfg_node *labels;
  static const char *const known[] = {"type", "labels", NULL};

  P(path, parent, "monitoredResource");
  if(!sdc__cfg_want(d->cfg, n, path, SDC_CFG_MAP))
    return;
  if(!sdc__cfg_get_str(d->cfg, n, path, "type", 200, true, &type))
    goto out;
  labels = sdc__cfg_field(n, "labels");
  P(lpath, path, "labels");
  if(!type)
    goto out;
  if(!strcmp(type, "servicedirectory_service")) {
    static const char *const lk[] = {"project_id", "location", "namespace_name",
                                     "service_name", NULL};
    c->resource = RES_SD_SERVICE;
    if(!labels) {
      sdc__cfg_error(d->cfg, n, lpath, "missing (expected project_id, location, "
                     "namespace_name and service_name)");
    } else if(sdc__cfg_want(d->cfg, labels, lpath, SDC_CFG_MAP)) {
      sdc__cfg_get_str(d->cfg, labels, lpath, "project_id", 63, true, &c->project);
      sdc__cfg_get_str(d->cfg, labels, lpath, "location", 63, true, &c->location);
      sdc__cfg_get_str(d->cfg, labels, lpath, "namespace_name", 63, true, &c->ns);
      sdc__cfg_get_str(d->cfg, labels, lpath, "service_name", 63, true, &c->service);
      sdc__cfg_unknown(d->cfg, labels, lpath, lk);
    }
    if(c->project && c->location && c->ns && c->service) {
      size_t len = strlen(c->project) + strlen(c->location) + strlen(c->ns) +
                   strlen(c->service) + 64;
      if((c->sd_name = sdc__malloc(len)))
        snprintf(c->sd_name, len, "projects/%s/locations/%s/namespaces/%s/services/%s",
                 c->project, c->location, c->ns, c->service);
      else
        sdc__cfg_oom(d->cfg, n, lpath);
    }
  } else if(!strcmp(type, "uptime_url")) {
    static const char *const lk[] = {"project_id", "host", NULL};
    char *project = NULL;
    c->resource = RES_UPTIME_URL;
    if(!labels) {
      sdc__cfg_error(d->cfg, n, lpath, "missing (expected host and project_id)");
    } else if(sdc__cfg_want(d->cfg, labels, lpath, SDC_CFG_MAP)) {
      sdc__cfg_get_str(d->cfg, labels, lpath, "host", 253, true, &c->host);
      sdc__cfg_get_str(d->cfg, labels, lpath, "project_id", 63, false, &project);
      sdc__cfg_unknown(d->cfg, labels, lpath, lk);
    }
    sdc_free(project);
  } else {
    const struct sdc__cfg_node *tn = sdc__cfg_field(n, "type");
    bool google = false;
    for(size_t i = 0; resource_types[i]; i++)
      google |= !strcmp(type, resource_types[i]);
    if(google)
      sdc__cfg_error(d->cfg, tn, P(lpath, path, "type"), "'%s' is valid for Google "
                     "but sdconnect probes only servicedirectory_service and "
                     "uptime_url resources", type);
    else
      sdc__cfg_error(d->cfg, tn, P(lpath, path, "type"), "'%s' is not a monitored "
                     "resource type of uptime checks%s%s%s", type,
                     sdc__cfg_suggest(type, resource_types) ? "; did you mean '" : "",
                     sdc__cfg_suggest(type, resource_types)
                         ? sdc__cfg_suggest(type, resource_types) : "",
                     sdc__cfg_suggest(type, resource_types) ? "'?" : "");
  }
  sdc__cfg_unknown(d->cfg, n, path, known);
out:
  sdc_free(type);
}

/* ---- httpCheck ---------------------------------------------------------------- */
static const struct sdc__cfg_enum methods[] = {
    {"METHOD_UNSPECIFIED", 0}, {"GET", 1}, {"POST", 2}};
static const struct sdc__cfg_enum content_types[] = {
    {"TYPE_UNSPECIFIED", 0}, {"URL_ENCODED", 1}, {"USER_PROVIDED", 2}};
static const struct sdc__cfg_enum status_classes[] = {
    {"STATUS_CLASS_UNSPECIFIED", 0}, {"STATUS_CLASS_1XX", 100},
    {"STATUS_CLASS_2XX", 200}, {"STATUS_CLASS_3XX", 300},
    {"STATUS_CLASS_4XX", 400}, {"STATUS_CLASS_5XX", 500},
    {"STATUS_CLASS_ANY", 1000}};
static const struct sdc__cfg_enum sa_types[] = {
    {"SERVICE_AGENT_AUTHENTICATION_TYPE_UNSPECIFIED", 0}, {"OIDC_TOKEN", 1}};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static void decode_pings(struct dec *d, const struct sdc__cfg_node *map,
                         const char *parent, struct sdc_check *c)
{
  char path[256], cpath[256];
  const struct sdc__cfg_node *n = sdc__cfg_field(map, "pingConfig"), *k;
  static const char *const known[] = {"pingsCount", NULL};
  long long v;

  if(!n || sdc__cfg_is_null(n))
    return;
  P(path, parent, "pingConfig");
  if(!sdc__cfg_want(d->cfg, n, path, SDC_CFG_MAP))
    return;
  k = sdc__cfg_field(n, "pingsCount");
  if(k && sdc__cfg_int(d->cfg, k, P(cpath, path, "pingsCount"), 0, 3, &v))
    c->pings = (int)v;
  sdc__cfg_unknown(d->cfg, n, path, known);
}

static void decode_headers(struct dec *d, const struct sdc__cfg_node *n,
                           const char *path, struct sdc_check *c)
{
  if(!sdc__cfg_want(d->cfg, n, path, SDC_CFG_MAP))
    return;
  if(n->n > CHECK_MAX_HEADERS) {
    sdc__cfg_error(d->cfg, n, path, "%zu headers (expected at most %u)", n->n,
                   CHECK_MAX_HEADERS);
    return;
  }
  if(!(c->headers = sdc__calloc(n->n ? n->n : 1, sizeof(*c->headers)))) {
    sdc__cfg_oom(d->cfg, n, path);
    return;
  }
  for(size_t i = 0; i < n->n; i++) {
    const struct sdc__cfg_node *k = n->kids[2 * i], *v = n->kids[2 * i + 1];
    char hpath[300];
    struct check_kv *h = &c->headers[c->n_headers];
    n->seen[i] = true;
    if(k->kind != SDC_CFG_SCALAR || !k->len ||
       strcspn(k->str, " \t\r\n:()<>@,;\\\"/[]?={}") != k->len) {
      sdc__cfg_error(d->cfg, k, path, "'%.60s' is not a header name (expected a "
                     "token such as X-Check)", k->kind == SDC_CFG_SCALAR ? k->str : "");
      continue;
    }
    snprintf(hpath, sizeof(hpath), "%.200s.%.90s", path, k->str);
    if(!sdc__cfg_str(d->cfg, v, hpath, 8192, &h->value))
      continue;
    if(strpbrk(h->value, "\r\n")) {
      sdc__cfg_error(d->cfg, v, hpath, "holds a line break (expected one line)");
      sdc_free(h->value);
      continue;
    }
    if(!(h->name = sdc__strdup(k->str))) {
      sdc_free(h->value);
      sdc__cfg_oom(d->cfg, k, hpath);
      continue;
    }
    c->n_headers++;
  }
}

static void decode_accepted(struct dec *d, const struct sdc__cfg_node *n,
                            const char *path, struct sdc_check *c)
{
  static const char *const known[] = {"statusValue", "statusClass", NULL};

  if(!sdc__cfg_want(d->cfg, n, path, SDC_CFG_SEQ))
    return;
  if(!(c->accepted = sdc__calloc(n->n ? n->n : 1, sizeof(*c->accepted)))) {
    sdc__cfg_oom(d->cfg, n, path);
    return;
  }
  for(size_t i = 0; i < n->n; i++) {
    const struct sdc__cfg_node *e = n->kids[i], *v, *k;
    char ipath[256], fpath[300];
    long long code;
    int cls;
    sdc__cfg_path_index(ipath, sizeof(ipath), path, i);
    if(!sdc__cfg_want(d->cfg, e, ipath, SDC_CFG_MAP))
      continue;
    v = sdc__cfg_field(e, "statusValue");
    k = sdc__cfg_field(e, "statusClass");
    if(v && k) {
      sdc__cfg_error(d->cfg, e, ipath, "statusValue and statusClass together "
                     "(expected one of them)");
    } else if(v) {
      if(sdc__cfg_int(d->cfg, v, P(fpath, ipath, "statusValue"), 100, 599, &code))
        c->accepted[c->n_accepted++] = (struct status_code){false, (int)code};
    } else if(k) {
      if(sdc__cfg_enum(d->cfg, k, P(fpath, ipath, "statusClass"), status_classes,
                       N_OF(status_classes), &cls))
        c->accepted[c->n_accepted++] = (struct status_code){true, cls};
    } else {
      sdc__cfg_error(d->cfg, e, ipath, "empty (expected statusValue or statusClass)");
    }
    sdc__cfg_unknown(d->cfg, e, ipath, known);
  }
}

static bool header_given(const struct sdc_check *c, const char *name)
{
  for(size_t i = 0; i < c->n_headers; i++)
    if(!strcasecmp(c->headers[i].name, name))
      return true;
  return false;
}

static void decode_http(struct dec *d, const struct sdc__cfg_node *n,
                        const char *parent, struct sdc_check *c)
{
  static const char *const known[] = {
      "requestMethod", "useSsl", "path", "port", "authInfo", "maskHeaders",
      "headers", "contentType", "customContentType", "validateSsl", "body",
      "acceptedResponseStatusCodes", "pingConfig",
      "serviceAgentAuthentication", NULL};
  char path[256], fpath[300];
  const struct sdc__cfg_node *f;
  int method = 0, ctype = 0;
  char *custom = NULL;
  long long port;

  P(path, parent, "httpCheck");
  if(!sdc__cfg_want(d->cfg, n, path, SDC_CFG_MAP))
    return;
  c->http = true;
  if((f = sdc__cfg_field(n, "requestMethod")))
    sdc__cfg_enum(d->cfg, f, P(fpath, path, "requestMethod"), methods,
                  N_OF(methods), &method);
  c->post = method == 2;
  sdc__cfg_get_bool(d->cfg, n, path, "useSsl", &c->use_ssl);
  sdc__cfg_get_bool(d->cfg, n, path, "maskHeaders", &c->mask_headers);
  if((f = sdc__cfg_field(n, "validateSsl")) && !sdc__cfg_is_null(f) &&
     sdc__cfg_bool(d->cfg, f, P(fpath, path, "validateSsl"), &c->validate_ssl))
    c->validate_ssl_given = true;
  sdc__cfg_get_str(d->cfg, n, path, "path", 2048, false, &c->path);
  if(c->path && strpbrk(c->path, " \r\n\t")) {
    sdc__cfg_error(d->cfg, sdc__cfg_field(n, "path"), P(fpath, path, "path"),
                   "holds a space or a line break (expected a URL path; "
                   "percent-encode it)");
  }
  if((f = sdc__cfg_field(n, "port")) &&
     sdc__cfg_int(d->cfg, f, P(fpath, path, "port"), 0, 65535, &port))
    c->port = (int)port;
  if((f = sdc__cfg_field(n, "headers")) && !sdc__cfg_is_null(f))
    decode_headers(d, f, P(fpath, path, "headers"), c);
  if((f = sdc__cfg_field(n, "body")) && !sdc__cfg_is_null(f))
    sdc__cfg_base64(d->cfg, f, P(fpath, path, "body"), CHECK_MAX_BODY, &c->body,
                    &c->body_len);
  if((f = sdc__cfg_field(n, "contentType")))
    sdc__cfg_enum(d->cfg, f, P(fpath, path, "contentType"), content_types,
                  N_OF(content_types), &ctype);
  sdc__cfg_get_str(d->cfg, n, path, "customContentType", 256, false, &custom);
  if((f = sdc__cfg_field(n, "acceptedResponseStatusCodes")) && !sdc__cfg_is_null(f))
    decode_accepted(d, f, P(fpath, path, "acceptedResponseStatusCodes"), c);
  if((f = sdc__cfg_field(n, "authInfo")) && !sdc__cfg_is_null(f)) {
    static const char *const ak[] = {"username", "password", NULL};
    P(fpath, path, "authInfo");
    if(sdc__cfg_want(d->cfg, f, fpath, SDC_CFG_MAP)) {
      sdc__cfg_get_str(d->cfg, f, fpath, "username", 256, true, &c->basic_user);
      sdc__cfg_get_str(d->cfg, f, fpath, "password", 256, false, &c->basic_pass);
      sdc__cfg_unknown(d->cfg, f, fpath, ak);
      if(c->basic_user && strchr(c->basic_user, ':'))
        sdc__cfg_error(d->cfg, f, fpath, "username holds ':' (RFC 7617 forbids it)");
    }
  }
  if((f = sdc__cfg_field(n, "serviceAgentAuthentication")) && !sdc__cfg_is_null(f)) {
    static const char *const sk[] = {"type", NULL};
    const struct sdc__cfg_node *t;
    int type = 0;
    P(fpath, path, "serviceAgentAuthentication");
    if(sdc__cfg_want(d->cfg, f, fpath, SDC_CFG_MAP)) {
      char tpath[320];
      if((t = sdc__cfg_field(f, "type")))
        sdc__cfg_enum(d->cfg, t, P(tpath, fpath, "type"), sa_types,
                      N_OF(sa_types), &type);
      sdc__cfg_unknown(d->cfg, f, fpath, sk);
      c->service_agent_auth = true;
    }
    if(c->basic_user)
      sdc__cfg_error(d->cfg, f, fpath, "given with authInfo (expected one way "
                     "to authenticate, not both)");
  }
  decode_pings(d, n, path, c);
  sdc__cfg_unknown(d->cfg, n, path, known);

  /* the API's content-type rules (uptime-checks sheet §2.4) */
  if(header_given(c, "Content-Type") && ctype)
    sdc__cfg_error(d->cfg, n, path, "a Content-Type header and contentType "
                   "together (expected one of them)");
  if(!c->post && ctype)
    sdc__cfg_error(d->cfg, n, path, "contentType on a GET check (expected it "
                   "only with requestMethod POST)");
  if(c->post && !ctype)
    sdc__cfg_error(d->cfg, n, path, "a POST check without contentType "
                   "(expected URL_ENCODED or USER_PROVIDED)");
  if(c->post && header_given(c, "Content-Type"))
    sdc__cfg_error(d->cfg, n, path, "a POST check with a Content-Type header "
                   "(expected contentType instead)");
  if(ctype == 1 && custom && *custom)
    sdc__cfg_error(d->cfg, n, path, "customContentType with URL_ENCODED "
                   "(expected it only with USER_PROVIDED)");
  if(ctype == 2 && !(custom && *custom))
    sdc__cfg_error(d->cfg, n, path, "USER_PROVIDED without customContentType "
                   "(expected the media type to send)");
  if(!c->post && c->body_len)
    sdc__cfg_error(d->cfg, sdc__cfg_field(n, "body"), P(fpath, path, "body"),
                   "a body on a GET check (expected requestMethod POST)");
  if(ctype == 1)
    c->content_type = sdc__strdup("application/x-www-form-urlencoded");
  else if(ctype == 2 && custom)
    c->content_type = sdc__strdup(custom);
  if((ctype == 1 || (ctype == 2 && custom)) && !c->content_type)
    sdc__cfg_oom(d->cfg, n, path);
  sdc_free(custom);
  if(!c->path) {
    c->path = sdc__strdup("/");
  } else if(c->path[0] != '/') { /* the API adds a missing leading slash */
    size_t l = strlen(c->path);
    char *p = sdc__malloc(l + 2);
    if(p) {
      p[0] = '/';
      memcpy(p + 1, c->path, l + 1);
    }
    sdc_free(c->path);
    c->path = p;
  }
  if(!c->path)
    sdc__cfg_oom(d->cfg, n, path);
}

static void decode_tcp(struct dec *d, const struct sdc__cfg_node *n,
                       const char *parent, struct sdc_check *c)
{
  static const char *const known[] = {"port", "pingConfig", NULL};
  char path[256], fpath[300];
  const struct sdc__cfg_node *f;
  long long port;

  P(path, parent, "tcpCheck");
  if(!sdc__cfg_want(d->cfg, n, path, SDC_CFG_MAP))
    return;
  c->http = false;
  if(!(f = sdc__cfg_field(n, "port")))
    sdc__cfg_error(d->cfg, n, P(fpath, path, "port"), "missing (required: the "
                   "port to connect to)");
  else if(sdc__cfg_int(d->cfg, f, P(fpath, path, "port"), 1, 65535, &port))
    c->port = (int)port;
  decode_pings(d, n, path, c);
  sdc__cfg_unknown(d->cfg, n, path, known);
}

/* ---- contentMatchers ------------------------------------------------------------ */
static const struct sdc__cfg_enum matcher_opts[] = {
    {"CONTENT_MATCHER_OPTION_UNSPECIFIED", 0}, {"CONTAINS_STRING", 1},
    {"NOT_CONTAINS_STRING", 2}, {"MATCHES_REGEX", 3}, {"NOT_MATCHES_REGEX", 4},
    {"MATCHES_JSON_PATH", 5}, {"NOT_MATCHES_JSON_PATH", 6}};
static const struct sdc__cfg_enum json_opts[] = {
    {"JSON_PATH_MATCHER_OPTION_UNSPECIFIED", 0}, {"EXACT_MATCH", 1},
    {"REGEX_MATCH", 2}};

static void decode_matchers(struct dec *d, const struct sdc__cfg_node *n,
                            const char *parent, struct sdc_check *c)
{
  static const char *const known[] = {"content", "matcher", "jsonPathMatcher", NULL};
  static const char *const jk[] = {"jsonPath", "jsonMatcher", NULL};
  char path[256], ipath[300], fpath[340], why[300];
  const struct sdc__cfg_node *m, *f, *j;
  int kind = 0, jkind = 0;

  P(path, parent, "contentMatchers");
  if(!sdc__cfg_want(d->cfg, n, path, SDC_CFG_SEQ) || !n->n)
    return;
  /* only the first is used by the API; the others are still checked */
  for(size_t i = 0; i < n->n; i++) {
    struct content_matcher tmp = {0}, *cm = i ? &tmp : &c->m;
    m = n->kids[i];
    sdc__cfg_path_index(ipath, sizeof(ipath), path, i);
    if(!sdc__cfg_want(d->cfg, m, ipath, SDC_CFG_MAP))
      continue;
    kind = 0;
    if((f = sdc__cfg_field(m, "matcher")))
      sdc__cfg_enum(d->cfg, f, P(fpath, ipath, "matcher"), matcher_opts,
                    N_OF(matcher_opts), &kind);
    cm->kind = kind ? (enum matcher_kind)kind : MATCH_CONTAINS;
    if(sdc__cfg_get_str(d->cfg, m, ipath, "content", CHECK_MAX_CONTENT, false, &cm->content) &&
       cm->content)
      cm->content_len = strlen(cm->content);
    j = sdc__cfg_field(m, "jsonPathMatcher");
    if(j && !sdc__cfg_is_null(j)) {
      P(fpath, ipath, "jsonPathMatcher");
      if(sdc__cfg_want(d->cfg, j, fpath, SDC_CFG_MAP)) {
        char jpath[380];
        sdc__cfg_get_str(d->cfg, j, fpath, "jsonPath", 1024, true, &cm->json_path);
        jkind = 0;
        if((f = sdc__cfg_field(j, "jsonMatcher")))
          sdc__cfg_enum(d->cfg, f, P(jpath, fpath, "jsonMatcher"), json_opts,
                        N_OF(json_opts), &jkind);
        if(!jkind)
          sdc__cfg_error(d->cfg, f ? f : j, P(jpath, fpath, "jsonMatcher"),
                         "%s (expected EXACT_MATCH or REGEX_MATCH)",
                         f ? "unspecified" : "missing");
        cm->json_kind = (enum json_matcher)jkind;
        sdc__cfg_unknown(d->cfg, j, fpath, jk);
      }
    }
    sdc__cfg_unknown(d->cfg, m, ipath, known);
    if((cm->kind == MATCH_JSON_PATH || cm->kind == MATCH_NOT_JSON_PATH) &&
       (!j || sdc__cfg_is_null(j)))
      sdc__cfg_error(d->cfg, m, ipath, "a JSONPath matcher without "
                     "jsonPathMatcher (expected jsonPath and jsonMatcher)");
    else if(cm->kind != MATCH_JSON_PATH && cm->kind != MATCH_NOT_JSON_PATH && j &&
            !sdc__cfg_is_null(j))
      sdc__cfg_error(d->cfg, j, P(fpath, ipath, "jsonPathMatcher"), "only used "
                     "with MATCHES_JSON_PATH or NOT_MATCHES_JSON_PATH");
    else if(cm->content && (cm->kind != MATCH_JSON_PATH || cm->json_path) &&
            (cm->kind < MATCH_JSON_PATH || cm->json_kind) &&
            !sdc__match_prepare(cm, why, sizeof(why)))
      sdc__cfg_error(d->cfg, m, ipath, "%s", why);
    if(!c->http && cm->kind >= MATCH_REGEX)
      sdc__cfg_error(d->cfg, m, ipath, "regex and JSONPath matchers work on "
                     "HTTP(S) checks only (expected CONTAINS_STRING or "
                     "NOT_CONTAINS_STRING for a tcpCheck)");
    if(i)
      sdc__match_cleanup(&tmp);
  }
  c->has_matcher = c->m.content && *c->m.content;
}

/* ---- the sdconnect: block -------------------------------------------------------- */
static void decode_ext(struct dec *d, const struct sdc__cfg_node *n,
                       const char *parent, struct sdc_check *c)
{
  static const char *const known[] = {"host", "caFile", "ca", "clientCertFile",
                                      "clientKeyFile", "period", "userAgent",
                                      "pass", "maxEndpoints", "audience", NULL};
  static const struct sdc__cfg_enum pass[] = {{"all", 0}, {"any", 1}};
  char path[256], fpath[300], *host = NULL;
  const struct sdc__cfg_node *f;
  int v;
  long long max;

  P(path, parent, "sdconnect");
  if(!sdc__cfg_want(d->cfg, n, path, SDC_CFG_MAP))
    return;
  if(sdc__cfg_get_str(d->cfg, n, path, "host", 253, false, &host) && host) {
    if(strpbrk(host, " /:@[]") || !*host)
      sdc__cfg_error(d->cfg, sdc__cfg_field(n, "host"), P(fpath, path, "host"),
                     "'%s' is not a host name (expected e.g. orders.internal)", host);
    if(c->host) { /* uptime_url: its host label already names it */
      sdc__cfg_error(d->cfg, sdc__cfg_field(n, "host"), P(fpath, path, "host"),
                     "only for servicedirectory_service checks (an uptime_url "
                     "check uses its host label)");
      sdc_free(host);
    } else {
      c->host = host;
    }
  }
  if((f = sdc__cfg_field(n, "caFile")))
    sdc__cfg_read_file(d->cfg, f, P(fpath, path, "caFile"), d->base, &c->ca, &c->ca_len);
  if((f = sdc__cfg_field(n, "ca"))) {
    if(c->ca)
      sdc__cfg_error(d->cfg, f, P(fpath, path, "ca"), "given with caFile "
                     "(expected one of them)");
    else if(sdc__cfg_str(d->cfg, f, P(fpath, path, "ca"), 1u << 20, &c->ca))
      c->ca_len = strlen(c->ca);
    if(c->ca && !strstr(c->ca, "-----BEGIN CERTIFICATE-----"))
      sdc__cfg_error(d->cfg, f, fpath, "not PEM (expected -----BEGIN CERTIFICATE-----"
                     " blocks; DER goes in a file named by caFile)");
  }
  if((f = sdc__cfg_field(n, "clientCertFile")))
    sdc__cfg_read_file(d->cfg, f, P(fpath, path, "clientCertFile"), d->base, &c->cert, &c->cert_len);
  if((f = sdc__cfg_field(n, "clientKeyFile")))
    sdc__cfg_read_file(d->cfg, f, P(fpath, path, "clientKeyFile"), d->base, &c->key, &c->key_len);
  if(!c->cert != !c->key)
    sdc__cfg_error(d->cfg, n, path, "clientCertFile and clientKeyFile go "
                   "together (expected both or neither)");
  if((f = sdc__cfg_field(n, "period"))) {
    uint64_t ms;
    if(sdc__cfg_duration_ms(d->cfg, f, P(fpath, path, "period"), &ms)) {
      if(ms < 1000 || ms > 3600000)
        sdc__cfg_error(d->cfg, f, fpath, "out of range (expected 1s to 3600s)");
      else
        c->period_ms = ms; /* beyond the API: any period, said in the docs */
    }
  }
  sdc__cfg_get_str(d->cfg, n, path, "userAgent", 256, false, &c->user_agent);
  sdc__cfg_get_str(d->cfg, n, path, "audience", 1024, false, &c->audience);
  if((f = sdc__cfg_field(n, "pass")) &&
     sdc__cfg_enum(d->cfg, f, P(fpath, path, "pass"), pass, N_OF(pass), &v))
    c->pass_any = v == 1;
  if((f = sdc__cfg_field(n, "maxEndpoints")) &&
     sdc__cfg_int(d->cfg, f, P(fpath, path, "maxEndpoints"), 1, 100, &max))
    c->max_endpoints = (int)max;
  sdc__cfg_unknown(d->cfg, n, path, known);
}

/* ---- the rest of UptimeCheckConfig ----------------------------------------------- */
static const struct sdc__cfg_enum checker_types[] = {
    {"CHECKER_TYPE_UNSPECIFIED", 0}, {"STATIC_IP_CHECKERS", 1}, {"VPC_CHECKERS", 3}};
static const struct sdc__cfg_enum regions[] = {
    {"REGION_UNSPECIFIED", 0}, {"USA", 1}, {"EUROPE", 2}, {"SOUTH_AMERICA", 3},
    {"ASIA_PACIFIC", 4}, {"USA_OREGON", 5}, {"USA_IOWA", 6}, {"USA_VIRGINIA", 7}};

static void decode_regions(struct dec *d, const struct sdc__cfg_node *n,
                           const char *path)
{
  unsigned seen = 0, locations = 0;

  if(!sdc__cfg_want(d->cfg, n, path, SDC_CFG_SEQ) || !n->n)
    return;
  for(size_t i = 0; i < n->n; i++) {
    char ipath[300];
    int r;
    sdc__cfg_path_index(ipath, sizeof(ipath), path, i);
    if(sdc__cfg_enum(d->cfg, n->kids[i], ipath, regions, N_OF(regions), &r))
      seen |= r == 0 ? 0xfeu : 1u << r;
  }
  if(seen & (1u << 1)) /* USA holds Oregon, Iowa and Virginia */
    seen |= (1u << 5) | (1u << 6) | (1u << 7);
  for(unsigned r = 2; r <= 7; r++)
    locations += !!(seen & (1u << r));
  if(locations < 3)
    sdc__cfg_error(d->cfg, n, path, "%u checker location%s (expected at least "
                   "3; USA alone counts as 3)", locations, locations == 1 ? "" : "s");
}

static bool label_text_ok(const char *s, bool key)
{
  if(key && !(*s >= 'a' && *s <= 'z'))
    return false;
  for(; *s; s++)
    if(!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
         *s == '-' || (unsigned char)*s >= 0x80))
      return false;
  return true;
}

static void decode_user_labels(struct dec *d, const struct sdc__cfg_node *n,
                               const char *path)
{
  if(!sdc__cfg_want(d->cfg, n, path, SDC_CFG_MAP))
    return;
  if(n->n > 64)
    sdc__cfg_error(d->cfg, n, path, "%zu labels (expected at most 64)", n->n);
  for(size_t i = 0; i < n->n; i++) {
    const struct sdc__cfg_node *k = n->kids[2 * i], *v = n->kids[2 * i + 1];
    n->seen[i] = true;
    if(k->kind != SDC_CFG_SCALAR || k->len > 63 || !label_text_ok(k->str, true))
      sdc__cfg_error(d->cfg, k, path, "label key '%.70s' is not allowed (expected "
                     "at most 63 lowercase letters, digits, '_' or '-', starting "
                     "with a letter)", k->kind == SDC_CFG_SCALAR ? k->str : "");
    else if(v->kind != SDC_CFG_SCALAR || v->len > 63 || !label_text_ok(v->str, false))
      sdc__cfg_error(d->cfg, v, path, "value of label '%s' is not allowed "
                     "(expected at most 63 lowercase letters, digits, '_' or '-')",
                     k->str);
  }
}

/* "Orders webhook (private)" -> "orders-webhook-private" */
static char *id_from(const char *display)
{
  size_t l = strlen(display), o = 0;
  char *id = sdc__malloc(l + 2);

  if(!id)
    return NULL;
  for(const char *p = display; *p; p++) {
    unsigned char ch = (unsigned char)*p;
    if(isalnum(ch))
      id[o++] = (char)tolower(ch);
    else if(o && id[o - 1] != '-')
      id[o++] = '-';
  }
  while(o && id[o - 1] == '-')
    o--;
  if(!o)
    id[o++] = 'x';
  id[o] = '\0';
  return id;
}

static struct sdc_check *decode_check(struct dec *d, const struct sdc__cfg_node *n,
                                      const char *path)
{
  static const char *const known[] = {
      "name", "displayName", "monitoredResource", "resourceGroup",
      "syntheticMonitor", "httpCheck", "tcpCheck", "period", "timeout",
      "contentMatchers", "checkerType", "selectedRegions", "isInternal",
      "internalCheckers", "userLabels", "logCheckFailures", "disabled",
      "sdconnect", NULL};
  struct sdc_check *c;
  const struct sdc__cfg_node *res, *grp, *syn, *http, *tcp, *f;
  char fpath[300];
  bool internal = false, flag;
  unsigned errs_before = (unsigned)(d->cfg->n_errs + d->cfg->n_dropped);

  if(!sdc__cfg_want(d->cfg, n, path, SDC_CFG_MAP))
    return NULL;
  if(!(c = sdc__calloc(1, sizeof(*c)))) {
    sdc__cfg_oom(d->cfg, n, path);
    return NULL;
  }
  c->period_ms = 60000;
  sdc__cfg_get_str(d->cfg, n, path, "name", 512, false, &c->name);
  sdc__cfg_get_str(d->cfg, n, path, "displayName", 512, true, &c->display_name);
  res = sdc__cfg_field(n, "monitoredResource");
  grp = sdc__cfg_field(n, "resourceGroup");
  syn = sdc__cfg_field(n, "syntheticMonitor");
  if(!!res + !!grp + !!syn != 1)
    sdc__cfg_error(d->cfg, n, path, "%s (expected exactly one of "
                   "monitoredResource, resourceGroup and syntheticMonitor)",
                   res || grp || syn ? "more than one resource" : "no resource");
  else if(grp)
    sdc__cfg_error(d->cfg, grp, P(fpath, path, "resourceGroup"), "group checks "
                   "are valid for Google but sdconnect probes only "
                   "monitoredResource checks");
  else if(syn)
    sdc__cfg_error(d->cfg, syn, P(fpath, path, "syntheticMonitor"), "synthetic "
                   "monitors are valid for Google but sdconnect cannot run them");
  http = sdc__cfg_field(n, "httpCheck");
  tcp = sdc__cfg_field(n, "tcpCheck");
  if(!!http == !!tcp)
    sdc__cfg_error(d->cfg, n, path, "%s (expected exactly one of httpCheck and "
                   "tcpCheck)", http ? "both httpCheck and tcpCheck" : "no check");
  else if(http)
    decode_http(d, http, path, c);
  else
    decode_tcp(d, tcp, path, c);
  if(res)
    decode_resource(d, res, path, c);
  if((f = sdc__cfg_field(n, "contentMatchers")) && !sdc__cfg_is_null(f))
    decode_matchers(d, f, path, c);
  if((f = sdc__cfg_field(n, "period"))) {
    uint64_t ms = 0;
    if(sdc__cfg_duration_ms(d->cfg, f, P(fpath, path, "period"), &ms)) {
      if(ms != 60000 && ms != 300000 && ms != 600000 && ms != 900000)
        sdc__cfg_error(d->cfg, f, fpath, "'%s' is not allowed (expected 60s, "
                       "300s, 600s or 900s; for a shorter period set "
                       "sdconnect.period, which the API does not have)", f->str);
      else
        c->period_ms = ms;
    }
  }
  if(!(f = sdc__cfg_field(n, "timeout"))) {
    sdc__cfg_error(d->cfg, n, P(fpath, path, "timeout"), "missing (required: 1s "
                   "to 60s)");
  } else if(sdc__cfg_duration_ms(d->cfg, f, P(fpath, path, "timeout"),
                                 &c->timeout_ms) &&
            (c->timeout_ms < 1000 || c->timeout_ms > 60000)) {
    sdc__cfg_error(d->cfg, f, fpath, "'%s' is out of range (expected 1s to 60s)",
                   f->str);
  }
  if((f = sdc__cfg_field(n, "checkerType")))
    sdc__cfg_enum(d->cfg, f, P(fpath, path, "checkerType"), checker_types,
                  N_OF(checker_types), &c->checker_type);
  if(res && c->resource == RES_SD_SERVICE && c->checker_type != 3)
    sdc__cfg_error(d->cfg, f ? f : n, P(fpath, path, "checkerType"),
                   "a servicedirectory_service check runs from VPC checkers "
                   "(expected checkerType: VPC_CHECKERS)");
  if(res && c->resource != RES_SD_SERVICE && c->checker_type == 3)
    sdc__cfg_error(d->cfg, f, P(fpath, path, "checkerType"), "VPC_CHECKERS needs "
                   "a servicedirectory_service resource");
  sdc__cfg_get_bool(d->cfg, n, path, "isInternal", &internal);
  if((f = sdc__cfg_field(n, "selectedRegions")) && !sdc__cfg_is_null(f)) {
    decode_regions(d, f, P(fpath, path, "selectedRegions"));
    if(internal && f->n)
      sdc__cfg_error(d->cfg, f, fpath, "given with isInternal (expected one of "
                     "them)");
  }
  if((f = sdc__cfg_field(n, "internalCheckers")) && !sdc__cfg_is_null(f) &&
     sdc__cfg_want(d->cfg, f, P(fpath, path, "internalCheckers"), SDC_CFG_SEQ) &&
     f->n && !internal)
    sdc__cfg_error(d->cfg, f, fpath, "internal checkers without isInternal: true "
                   "(both are deprecated; use VPC_CHECKERS)");
  if(f && f->kind == SDC_CFG_SEQ) /* deprecated; parsed and ignored */
    for(size_t i = 0; i < f->n; i++)
      if(f->kids[i]->kind == SDC_CFG_MAP)
        for(size_t k = 0; k < f->kids[i]->n; k++)
          f->kids[i]->seen[k] = true;
  if((f = sdc__cfg_field(n, "userLabels")) && !sdc__cfg_is_null(f))
    decode_user_labels(d, f, P(fpath, path, "userLabels"));
  sdc__cfg_get_bool(d->cfg, n, path, "logCheckFailures", &flag);
  sdc__cfg_get_bool(d->cfg, n, path, "disabled", &flag);
  if((f = sdc__cfg_field(n, "sdconnect")) && !sdc__cfg_is_null(f))
    decode_ext(d, f, path, c);
  sdc__cfg_unknown(d->cfg, n, path, known);
  /* unlike Google's private checks, sdconnect validates certificates
   * unless validateSsl: false says not to */
  c->validate_ssl = !c->validate_ssl_given || c->validate_ssl;
  if(c->name) {
    const char *slash = strrchr(c->name, '/');
    c->id = sdc__strdup(slash ? slash + 1 : c->name);
  } else if(c->display_name) {
    c->id = id_from(c->display_name);
  }
  if((c->name || c->display_name) && !c->id)
    sdc__cfg_oom(d->cfg, n, path);
  if(d->cfg->n_errs + d->cfg->n_dropped != errs_before) {
    sdc__check_free(c);
    return NULL;
  }
  return c;
}

/* ---- files -------------------------------------------------------------------------- */
static bool push(sdc_check_set *s, struct sdc_check *c)
{
  struct sdc_check **grown = sdc__realloc(s->v, (s->n + 1) * sizeof(*grown));

  if(!grown) {
    sdc__check_free(c);
    return false;
  }
  s->v = grown;
  s->v[s->n++] = c;
  return true;
}

/* The checks of one YAML document (a check, a list, or a List call's
 * answer) appended to `s`; problems go to d->cfg. */
static sdc_status decode_root(struct dec *d, const struct sdc__cfg_node *root,
                              const char *path, sdc_check_set *s)
{
  const struct sdc__cfg_node *list = NULL;
  char prefix[200];
  sdc_status st = SDC_OK;

  snprintf(prefix, sizeof(prefix), "%s", path);
  if(root->kind == SDC_CFG_SEQ) {
    list = root;
  } else if(root->kind == SDC_CFG_MAP && sdc__cfg_field(root, "uptimeCheckConfigs")) {
    static const char *const known[] = {"uptimeCheckConfigs", "nextPageToken",
                                        "totalSize", NULL};
    list = sdc__cfg_field(root, "uptimeCheckConfigs");
    sdc__cfg_path(prefix, sizeof(prefix), path, "uptimeCheckConfigs");
    (void)sdc__cfg_field(root, "nextPageToken");
    (void)sdc__cfg_field(root, "totalSize");
    sdc__cfg_unknown(d->cfg, root, path, known);
    if(!sdc__cfg_want(d->cfg, list, prefix, SDC_CFG_SEQ))
      return SDC_OK;
  }
  if(!list) {
    struct sdc_check *c = decode_check(d, root, path);
    return c && !push(s, c) ? SDC_ENOMEM : SDC_OK;
  }
  for(size_t k = 0; k < list->n; k++) {
    char ipath[240];
    struct sdc_check *c;
    sdc__cfg_path_index(ipath, sizeof(ipath), prefix, k);
    if((c = decode_check(d, list->kids[k], ipath)) && !push(s, c))
      st = SDC_ENOMEM;
  }
  return st;
}

/* Checks' ids name them: two with one id are an error, said in `cfg`. */
static void unique_ids(struct sdc__cfg *cfg, const sdc_check_set *s, size_t from)
{
  for(size_t i = from; i < s->n; i++)
    for(size_t j = 0; j < i; j++)
      if(!strcmp(s->v[i]->id, s->v[j]->id))
        sdc__cfg_error(cfg, NULL, "", "two checks have the id '%s' (\"%s\" and "
                       "\"%s\"); give them different names or displayNames",
                       s->v[i]->id, s->v[j]->display_name, s->v[i]->display_name);
}

sdc_check_set *sdc__check_set_new(void)
{
  return sdc__calloc(1, sizeof(sdc_check_set));
}

sdc_status sdc__checks_from_node(struct sdc__cfg *cfg, const char *file,
                                 const struct sdc__cfg_node *node,
                                 const char *path, sdc_check_set *set)
{
  struct dec d = {cfg, ""};
  size_t before = set->n;
  sdc_status st;

  sdc__cfg_base_of(file, d.base, sizeof(d.base));
  st = decode_root(&d, node, path, set);
  if(!st)
    unique_ids(cfg, set, before);
  return st;
}

static sdc_status decode_all(struct dec *d, sdc_check_set **out, char **errors)
{
  sdc_check_set *s = sdc__check_set_new();
  sdc_status st = SDC_OK;

  if(!s)
    return SDC_ENOMEM;
  for(size_t i = 0; i < d->cfg->n_docs && !st; i++)
    st = decode_root(d, d->cfg->docs[i], "", s);
  if(!st && !d->cfg->n_errs && !s->n)
    sdc__cfg_error(d->cfg, NULL, "", "holds no uptime check (expected an "
                   "UptimeCheckConfig or a list of them)");
  if(!st)
    unique_ids(d->cfg, s, 0);
  if(!st && d->cfg->oom)
    st = SDC_ENOMEM;
  if(!st && (d->cfg->n_errs || d->cfg->n_dropped))
    st = SDC_ECONFIG;
  if(st == SDC_ECONFIG && errors)
    *errors = sdc__cfg_errors_text(d->cfg);
  if(st) {
    sdc_check_set_free(s);
    return st;
  }
  *out = s;
  return SDC_OK;
}


sdc_status sdc_checks_load_mem(const char *name, const void *data, size_t len,
                               sdc_check_set **out, char **errors)
{
  struct dec d = {0};
  sdc_status st;

  if(!name || !data || !out)
    return SDC_EINVAL;
  st = sdc__cfg_load_mem(name, data, len, &d.cfg);
  if(st == SDC_OK)
    st = decode_all(&d, out, errors);
  else if(st == SDC_ECONFIG && errors)
    *errors = sdc__cfg_errors_text(d.cfg);
  sdc__cfg_free(d.cfg);
  return st;
}

sdc_status sdc_checks_load_file(const char *path, sdc_check_set **out,
                                char **errors)
{
  struct dec d = {0};
  char err[1200];
  sdc_status st;

  if(!path || !out)
    return SDC_EINVAL;
  st = sdc__cfg_load_file(path, &d.cfg, err, sizeof(err));
  if(st == SDC_EIO || st == SDC_ETOOBIG) {
    if(errors)
      *errors = sdc__strdup(err);
    return st;
  }
  sdc__cfg_base_of(path, d.base, sizeof(d.base));
  if(st == SDC_OK)
    st = decode_all(&d, out, errors);
  else if(st == SDC_ECONFIG && errors)
    *errors = sdc__cfg_errors_text(d.cfg);
  sdc__cfg_free(d.cfg);
  return st;
}
