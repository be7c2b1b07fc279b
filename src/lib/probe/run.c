/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Running a check: resolve its service on the pool's loop, probe every
 * endpoint at once over a connection of its own, judge each answer the way
 * Google's checkers do (uptime-checks sheet §5), and report.
 *
 * IMPLEMENTATION NOTES
 * - Nothing here blocks: the directory is asked with sdc_pool_resolve(),
 *   HTTP(S) goes through sdc_pool_submit() with SDC_HTTP_FRESH_CONN (connect
 *   and TLS are part of what is measured), TCP through
 *   sdc_pool_tcp_connect() (a socket, no libcurl handle).
 * - An endpoint is dialed at its address and port (the check's port, when
 *   given, overrides the endpoint's, as the sheet says). The host name for
 *   SNI, the certificate check and Host is sdconnect.host; without one the
 *   address stands in and certificates cannot be checked by name, so they
 *   are not checked at all (as Google's private checkers never do) and the
 *   result says so.
 * - Redirects are followed (at most MAX_REDIRECTS) and the final answer is
 *   judged. A redirect may change the path, the scheme or the port; one to
 *   another host is not followed from a private endpoint (its name would
 *   need public DNS) and fails as `redirect`.
 * - One target per endpoint per run, forgotten by the pool and freed when
 *   the run ends.
 */
#include "probe/check.h"

#include "auth/auth.h"
#include "pool/request.h"
#include "core/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_REDIRECTS 10
#define SDC_TOKEN_MAX_PROBE 4096 /* the auth module's SDC_TOKEN_MAX */
#define DETAIL_MAX 600

struct sdc_prober {
  sdc_pool *pool;
  sdc_resolver *resolver;
  struct run *runs; /* in progress */
  struct id_source *ids;
  char *id_creds;
  unsigned shard, shards; /* this replica's index and the count; 0 of 1: all */
};

struct ep_probe {
  struct run *run;
  sdc_target *t;
  char address[64];
  int port;
  char endpoint[300];
  char host[260];       /* the URL's host */
  char url[2400];
  bool tls, post, done;
  unsigned redirects;
  uint64_t deadline_ms;
  char detail[DETAIL_MAX];
  char tls_version[32], tls_cipher[64];
  char **hdrs;          /* the run's, and Authorization: its own copy */
  sdc_probe_result res;
};

struct run {
  struct run *next;
  sdc_prober *pr;
  const struct sdc_check *c;
  sdc_probe_cb cb;
  void *ud;
  uint64_t start_us;
  int64_t started_unix_ms;
  double resolve_ms;
  bool stale;
  struct ep_probe *eps;    /* n of them: allocated, or &one */
  sdc_probe_result *out;   /* room for the report's results, made with eps */
  struct ep_probe one;     /* a run of one row (uptime_url, a run failing as a
                              whole) needs no allocation: out of memory is
                              reported too */
  sdc_probe_result one_out;
  size_t n, pending;
  size_t skipped; /* endpoints other replicas own */
  char **hdrs; /* "Name: value" lines, NULL-terminated */
  size_t n_hdrs;
};

const char *sdc_probe_reason_name(sdc_probe_reason r)
{
  static const char *const names[] = {
      "passed", "sd_not_found", "sd_permission_denied", "sd_unavailable",
      "no_endpoints", "endpoint_invalid", "connect_refused", "connect_timeout",
      "connect_error", "tls_handshake", "tls_verify", "tls_expired",
      "tls_version", "http_status", "content_mismatch", "timeout",
      "body_too_large", "http_protocol", "redirect", "internal", "auth"};

  return (size_t)r < sizeof(names) / sizeof(names[0]) ? names[r] : "internal";
}

sdc_pool *sdc__prober_pool(const sdc_prober *pr) { return pr->pool; }

sdc_status sdc_prober_set_credentials(sdc_prober *pr, const char *file)
{
  char *copy = NULL;

  if(file && !(copy = sdc__strdup(file)))
    return SDC_ENOMEM;
  sdc_free(pr->id_creds);
  pr->id_creds = copy;
  return SDC_OK;
}

sdc_status sdc_prober_set_shard(sdc_prober *pr, unsigned index, unsigned count)
{
  if(!pr || count < 1 || count > 65536 || index >= count)
    return SDC_EINVAL;
  pr->shard = index;
  pr->shards = count;
  return SDC_OK;
}

/* Whether this replica probes (check, endpoint). A `pass: any` check is
 * owned whole, as the pair (check, ""): its verdict needs every endpoint's
 * result, which a share of them cannot give. */
static bool owned(const sdc_prober *pr, const struct sdc_check *c, const char *endpoint)
{
  if(pr->shards <= 1)
    return true;
  return sdc_shard_owner(sdc_check_id(c), c->pass_any ? "" : endpoint, pr->shards) == pr->shard;
}

sdc_status sdc_prober_new(sdc_prober **out, sdc_pool *pool,
                          sdc_resolver *resolver)
{
  sdc_prober *pr;

  if(!out || !pool)
    return SDC_EINVAL;
  if(!(pr = sdc__calloc(1, sizeof(*pr))))
    return SDC_ENOMEM;
  pr->pool = pool;
  pr->resolver = resolver;
  pr->shards = 1;
  *out = pr;
  return SDC_OK;
}

/* ---- headers -------------------------------------------------------------------- */
static bool add_header(struct run *r, const char *name, const char *value)
{
  size_t len = strlen(name) + strlen(value) + 3;
  char *line = sdc__malloc(len), **grown;

  if(!line)
    return false;
  snprintf(line, len, "%s: %s", name, value);
  grown = sdc__realloc(r->hdrs, (r->n_hdrs + 2) * sizeof(*grown));
  if(!grown) {
    sdc_free(line);
    return false;
  }
  r->hdrs = grown;
  r->hdrs[r->n_hdrs++] = line;
  r->hdrs[r->n_hdrs] = NULL;
  return true;
}

/* The check's request headers: Google's, the check's own, its auth. */
static bool build_headers(struct run *r)
{
  const struct sdc_check *c = r->c;
  bool ok = add_header(r, "User-Agent", c->user_agent ? c->user_agent : GOOGLE_UPTIME_UA) &&
            add_header(r, "Check-Id", c->id);

  for(size_t i = 0; ok && i < c->n_headers; i++)
    if(strcasecmp(c->headers[i].name, "User-Agent") || !c->user_agent)
      ok = add_header(r, c->headers[i].name, c->headers[i].value);
  if(ok && c->content_type)
    ok = add_header(r, "Content-Type", c->content_type);
  if(ok && c->basic_user) { /* RFC 7617 */
    char *value = sdc__auth_basic(c->basic_user, c->basic_pass ? c->basic_pass : "");
    ok = value && add_header(r, "Authorization", value);
    sdc__free_secret(value);
  }
  return ok;
}

/* ---- ending ---------------------------------------------------------------------- */
static void free_lines(char **lines)
{
  for(size_t i = 0; lines && lines[i]; i++) {
    memset(lines[i], 0, strlen(lines[i])); /* may hold a password or token */
    sdc_free(lines[i]);
  }
  sdc_free(lines);
}

/* Forget the endpoint slots (allocated, or the run's own one). */
static void drop_endpoints(struct run *r)
{
  if(r->eps != &r->one) {
    sdc_free(r->eps);
    sdc_free(r->out);
  }
  r->eps = NULL;
  r->out = NULL;
  r->n = 0;
}

static void run_free(struct run *r)
{
  for(size_t i = 0; i < r->n; i++) {
    if(r->eps[i].t) {
      sdc_pool_forget_target(r->pr->pool, r->eps[i].t);
      sdc_target_free(r->eps[i].t);
    }
    free_lines(r->eps[i].hdrs);
  }
  free_lines(r->hdrs);
  drop_endpoints(r);
  sdc_free(r);
}

static void report(struct run *r)
{
  sdc_probe_result *res = r->n ? r->out : NULL; /* made with the endpoints */
  sdc_probe_report rep = {0};

  for(struct run **pp = &r->pr->runs; *pp; pp = &(*pp)->next)
    if(*pp == r) {
      *pp = r->next;
      break;
    }
  rep.check = r->c;
  rep.service = r->c->resource == RES_SD_SERVICE ? r->c->sd_name : NULL;
  rep.started_unix_ms = r->started_unix_ms;
  rep.resolve_ms = r->resolve_ms;
  rep.directory_stale = r->stale;
  rep.results = res;
  rep.n_results = res ? r->n : 0;
  rep.n_skipped = r->skipped;
  for(size_t i = 0; res && i < r->n; i++) {
    res[i] = r->eps[i].res;
    rep.n_passed += !!res[i].passed;
  }
  if(!r->n) /* another replica's share only: nothing failed here */
    rep.passed = r->skipped > 0;
  else
    rep.passed = r->c->pass_any ? rep.n_passed > 0 : rep.n_passed == r->n;
  r->cb(&rep, r->ud);
  run_free(r);
}

/* Endpoint `e` is over: passed, or `reason` with a detail. */
static void ep_done(struct ep_probe *e, sdc_probe_reason reason, const char *detail)
{
  e->done = true;
  e->res.redirects = e->redirects;
  e->res.passed = reason == SDC_PROBE_PASSED;
  e->res.reason = reason;
  snprintf(e->detail, sizeof(e->detail), "%.599s", detail ? detail : "");
  e->res.detail = e->detail;
  if(e->run->pending && --e->run->pending == 0)
    report(e->run);
}

static sdc_probe_reason reason_of(sdc_fail_kind k)
{
  switch(k) {
  case SDC_FAIL_CONNECT_REFUSED: return SDC_PROBE_CONNECT_REFUSED;
  case SDC_FAIL_CONNECT_TIMEOUT: return SDC_PROBE_CONNECT_TIMEOUT;
  case SDC_FAIL_CONNECT:
  case SDC_FAIL_NO_ENDPOINT: return SDC_PROBE_CONNECT_ERROR;
  case SDC_FAIL_TLS_HANDSHAKE:
  case SDC_FAIL_TLS_CLIENT_CERT: return SDC_PROBE_TLS_HANDSHAKE;
  case SDC_FAIL_TLS_VERIFY:
  case SDC_FAIL_TLS_HOSTNAME: return SDC_PROBE_TLS_VERIFY;
  case SDC_FAIL_TLS_EXPIRED: return SDC_PROBE_TLS_EXPIRED;
  case SDC_FAIL_TLS_VERSION: return SDC_PROBE_TLS_VERSION;
  case SDC_FAIL_TIMEOUT: return SDC_PROBE_TIMEOUT;
  case SDC_FAIL_TOO_BIG: return SDC_PROBE_BODY_TOO_LARGE;
  case SDC_FAIL_PROTOCOL: return SDC_PROBE_HTTP_PROTOCOL;
  default: return SDC_PROBE_INTERNAL;
  }
}

/* ---- judging an HTTP answer ---------------------------------------------------------- */
static bool status_accepted(const struct sdc_check *c, long status)
{
  if(!c->n_accepted)
    return status >= 200 && status <= 299;
  for(size_t i = 0; i < c->n_accepted; i++) {
    const struct status_code *a = &c->accepted[i];
    if(!a->is_class ? a->value == status
                    : a->value == 1000 || (a->value && status / 100 * 100 == a->value))
      return true;
  }
  return false;
}

static void describe_accepted(const struct sdc_check *c, char *out, size_t cap)
{
  size_t at = 0;

  if(!c->n_accepted) {
    snprintf(out, cap, "200-299");
    return;
  }
  out[0] = '\0';
  for(size_t i = 0; i < c->n_accepted && at < cap; i++) {
    const struct status_code *a = &c->accepted[i];
    at += (size_t)snprintf(out + at, cap - at, "%s", i ? ", " : "");
    if(at >= cap)
      break;
    if(!a->is_class)
      at += (size_t)snprintf(out + at, cap - at, "%d", a->value);
    else if(a->value == 1000)
      at += (size_t)snprintf(out + at, cap - at, "any");
    else
      at += (size_t)snprintf(out + at, cap - at, "%dxx", a->value / 100);
  }
}

/* The Location header of a raw header block, into out. */
static bool location_of(const char *hdrs, char *out, size_t cap)
{
  for(const char *line = hdrs; line && *line;) {
    const char *end = strstr(line, "\r\n");
    size_t len = end ? (size_t)(end - line) : strlen(line);
    if(len > 9 && !strncasecmp(line, "location:", 9)) {
      const char *v = line + 9;
      while(v < line + len && (*v == ' ' || *v == '\t'))
        v++;
      len -= (size_t)(v - line);
      while(len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
        len--;
      if(!len || len >= cap)
        return false;
      memcpy(out, v, len);
      out[len] = '\0';
      return true;
    }
    line = end ? end + 2 : NULL;
  }
  return false;
}

static sdc_status ep_submit(struct ep_probe *e);

static void on_http(sdc_status st, sdc_http_response *resp, const char *err, void *ud);

/* Follow a redirect to `loc`; false (and the endpoint done) when it
 * cannot be. */
static bool follow(struct ep_probe *e, long status, const char *loc)
{
  char scheme[8], host[260], rest[2048], why[700];
  int port = 0;
  bool tls = e->tls;

  if(++e->redirects > MAX_REDIRECTS) {
    snprintf(why, sizeof(why), "more than %d redirects (last to %.300s)",
             MAX_REDIRECTS, loc);
    ep_done(e, SDC_PROBE_REDIRECT, why);
    return false;
  }
  if(loc[0] == '/' && loc[1] != '/') { /* same origin, new path */
    const char *path = strstr(e->url, "://");
    path = path ? strchr(path + 3, '/') : NULL;
    snprintf(e->url + (path ? (size_t)(path - e->url) : strlen(e->url)),
             sizeof(e->url) - (path ? (size_t)(path - e->url) : strlen(e->url)),
             "%s", loc);
  } else if(sscanf(loc, "%7[a-zA-Z]://%259[^/:]:%d%2047s", scheme, host, &port, rest) >= 3 ||
            sscanf(loc, "%7[a-zA-Z]://%259[^/:]%2047s", scheme, host, rest) >= 2) {
    if(!strchr(loc + strlen(scheme) + 3, ':') || port == 0)
      port = 0;
    tls = !strcasecmp(scheme, "https");
    if(!tls && strcasecmp(scheme, "http")) {
      snprintf(why, sizeof(why), "HTTP %ld redirects to %.300s, not http(s)", status, loc);
      ep_done(e, SDC_PROBE_REDIRECT, why);
      return false;
    }
    if(strcasecmp(host, e->host) && strcasecmp(host, e->address)) {
      snprintf(why, sizeof(why), "HTTP %ld redirects to another host (%.300s); "
               "a private endpoint's redirect is followed only on its own host",
               status, loc);
      ep_done(e, SDC_PROBE_REDIRECT, why);
      return false;
    }
    if(!port)
      port = tls ? 443 : 80;
    if(tls != e->tls || port != e->port) { /* another target, same address */
      sdc_target *t = NULL;
      if(sdc_target_new(&t, e->host, port, tls) ||
         sdc_target_set_addresses(t, (const char *const[]){e->address}, &port, 1) ||
         sdc_target_set_verify(t, e->res.cert_verified)) {
        sdc_target_free(t);
        ep_done(e, SDC_PROBE_INTERNAL, "out of memory following a redirect");
        return false;
      }
      if(e->run->c->ca)
        sdc_target_set_ca(t, e->run->c->ca, e->run->c->ca_len);
      if(e->run->c->cert)
        sdc_target_set_client_cert(t, e->run->c->cert, e->run->c->cert_len,
                                   e->run->c->key, e->run->c->key_len, NULL);
      sdc_pool_forget_target(e->run->pr->pool, e->t);
      sdc_target_free(e->t);
      e->t = t;
      e->tls = tls;
      e->port = port;
      e->res.port = port;
    }
    snprintf(e->url, sizeof(e->url), "%s://%s:%d%s", tls ? "https" : "http", e->host,
             port, rest[0] == '/' ? rest : "/");
  } else {
    snprintf(why, sizeof(why), "HTTP %ld redirects to '%.300s', which is not a URL",
             status, loc);
    ep_done(e, SDC_PROBE_REDIRECT, why);
    return false;
  }
  if(status == 303 || ((status == 301 || status == 302) && e->post))
    e->post = false; /* as browsers do: the next request is a GET */
  if(ep_submit(e)) {
    ep_done(e, SDC_PROBE_INTERNAL, sdc_pool_errmsg(e->run->pr->pool));
    return false;
  }
  return true;
}

static void judge(struct ep_probe *e, sdc_http_response *resp)
{
  const struct sdc_check *c = e->run->c;
  char why[DETAIL_MAX], acc[200];
  size_t scan = resp->body_len < CHECK_HTTP_SCAN ? resp->body_len : CHECK_HTTP_SCAN;

  e->res.http_status = resp->status;
  e->res.http_version = resp->http_version;
  e->res.connect_ms = resp->timings.connect_ms;
  e->res.tls_ms = resp->timings.tls_ms;
  e->res.first_byte_ms = resp->timings.first_byte_ms;
  e->res.body_bytes = resp->body_len;
  snprintf(e->tls_version, sizeof(e->tls_version), "%s", resp->tls.version);
  snprintf(e->tls_cipher, sizeof(e->tls_cipher), "%s", resp->tls.cipher ? resp->tls.cipher : "");
  e->res.cert_expiry = resp->tls.earliest_expiry; /* the final answer's */
  if(resp->status >= 300 && resp->status <= 399 && resp->status != 304) {
    char loc[2048];
    if(location_of(resp->headers, loc, sizeof(loc))) {
      follow(e, resp->status, loc);
      return;
    }
  }
  e->res.total_ms = (double)(sdc__now_us() - e->run->start_us) / 1e3 - e->run->resolve_ms;
  if(resp->truncated && resp->body_len < CHECK_HTTP_SCAN) {
    snprintf(why, sizeof(why), "the body passed the pool's cap of %zu bytes, "
             "short of the 4 MiB an uptime check examines; raise the cap",
             resp->body_len);
    ep_done(e, SDC_PROBE_BODY_TOO_LARGE, why);
    return;
  }
  if(!status_accepted(c, resp->status)) {
    describe_accepted(c, acc, sizeof(acc));
    snprintf(why, sizeof(why), "HTTP %ld (accepted: %s)", resp->status, acc);
    ep_done(e, SDC_PROBE_HTTP_STATUS, why);
    return;
  }
  if(c->has_matcher && !sdc__match(&c->m, resp->body, scan, why, sizeof(why))) {
    ep_done(e, SDC_PROBE_CONTENT_MISMATCH, why);
    return;
  }
  ep_done(e, SDC_PROBE_PASSED, "");
}

static void on_http(sdc_status st, sdc_http_response *resp, const char *err, void *ud)
{
  struct ep_probe *e = ud;
  sdc_fail_kind kind = sdc_pool_fail_kind(e->run->pr->pool);

  if(st) {
    e->res.total_ms = (double)(sdc__now_us() - e->run->start_us) / 1e3 - e->run->resolve_ms;
    ep_done(e, reason_of(kind), err);
    return;
  }
  judge(e, resp);
  sdc_http_response_free(resp);
}

static sdc_status ep_submit(struct ep_probe *e)
{
  const struct sdc_check *c = e->run->c;
  uint64_t now = sdc__now_ms();
  sdc_http_request req = {0};

  if(now >= e->deadline_ms) {
    ep_done(e, SDC_PROBE_TIMEOUT, "timed out following redirects");
    return SDC_OK;
  }
  req.method = e->post ? "POST" : "GET";
  req.url = e->url;
  req.headers = (const char *const *)(e->hdrs ? e->hdrs : e->run->hdrs);
  if(e->post) {
    req.body = c->body;
    req.body_len = c->body_len;
  }
  req.timeout_ms = e->deadline_ms - now;
  req.flags = SDC_HTTP_FRESH_CONN | SDC_HTTP_TRUNCATE;
  return sdc_pool_submit(e->run->pr->pool, e->t, &req, on_http, e);
}

/* ---- TCP ------------------------------------------------------------------------------ */
static void on_tcp(sdc_status st, const sdc_tcp_result *res, const char *err, void *ud)
{
  struct ep_probe *e = ud;
  const struct sdc_check *c = e->run->c;
  char why[DETAIL_MAX];

  e->res.total_ms = (double)(sdc__now_us() - e->run->start_us) / 1e3 - e->run->resolve_ms;
  if(st) {
    ep_done(e, reason_of(sdc_pool_fail_kind(e->run->pr->pool)), err);
    return;
  }
  e->res.connect_ms = res->connect_ms;
  e->res.body_bytes = res->data_len;
  if(c->has_matcher && !sdc__match(&c->m, res->data, res->data_len, why, sizeof(why))) {
    ep_done(e, SDC_PROBE_CONTENT_MISMATCH, why);
    return;
  }
  ep_done(e, SDC_PROBE_PASSED, "");
}

/* ---- starting ---------------------------------------------------------------------------- */
static void ep_start(struct ep_probe *e)
{
  const struct sdc_check *c = e->run->c;
  sdc_status st;
  bool v6 = strchr(e->address, ':') != NULL;

  e->deadline_ms = e->run->start_us / 1000 + c->timeout_ms;
  e->res.port = e->port;
  if(!c->http) {
    uint64_t now = sdc__now_ms();
    st = sdc_pool_tcp_connect(e->run->pr->pool, e->address, e->port,
                              e->deadline_ms > now ? e->deadline_ms - now : 1,
                              c->has_matcher ? CHECK_TCP_SCAN : 0, on_tcp, e);
    if(st)
      ep_done(e, SDC_PROBE_INTERNAL, sdc_pool_errmsg(e->run->pr->pool));
    return;
  }
  if(c->host && strchr(c->host, ':')) /* an IPv6 literal uptime_url host */
    snprintf(e->host, sizeof(e->host), "[%s]", c->host);
  else if(c->host)
    snprintf(e->host, sizeof(e->host), "%s", c->host);
  else
    snprintf(e->host, sizeof(e->host), "%s%s%s", v6 ? "[" : "", e->address, v6 ? "]" : "");
  e->tls = c->use_ssl;
  e->post = c->post;
  /* no name, no certificate check by name: Google's private checkers
   * never check; sdconnect checks whenever it knows the name */
  e->res.cert_verified = e->tls && c->validate_ssl && c->host != NULL;
  snprintf(e->url, sizeof(e->url), "%s://%s:%d%s", e->tls ? "https" : "http", e->host,
           e->port, c->path);
  st = sdc_target_new(&e->t, e->host, e->port, e->tls);
  if(!st)
    st = sdc_target_set_addresses(e->t, (const char *const[]){e->address}, &e->port, 1);
  if(!st)
    st = sdc_target_set_verify(e->t, e->res.cert_verified);
  if(!st && c->ca)
    st = sdc_target_set_ca(e->t, c->ca, c->ca_len);
  if(!st && c->cert)
    st = sdc_target_set_client_cert(e->t, c->cert, c->cert_len, c->key, c->key_len, NULL);
  if(st) {
    char why[200];
    snprintf(why, sizeof(why), "cannot set up the connection to %s port %d: %s",
             e->address, e->port, sdc_strerror(st));
    ep_done(e, st == SDC_ENOMEM ? SDC_PROBE_INTERNAL : SDC_PROBE_ENDPOINT_INVALID, why);
    return;
  }
  if(c->service_agent_auth) {
    char aud[2400], tok[SDC_TOKEN_MAX_PROBE], why[1300];
    const char *q;
    if(c->audience)
      snprintf(aud, sizeof(aud), "%s", c->audience);
    else if((q = strchr(e->url, '?'))) /* the URL without its query */
      snprintf(aud, sizeof(aud), "%.*s", (int)(q - e->url), e->url);
    else
      snprintf(aud, sizeof(aud), "%s", e->url);
    if(!sdc__idtoken_get(e->run->pr, &e->run->pr->ids, e->run->pr->id_creds, aud, e,
                         tok, sizeof(tok), why, sizeof(why))) {
      ep_done(e, SDC_PROBE_AUTH, why);
      return;
    }
    if(tok[0])
      sdc__probe_auth_ready(e, tok);
    memset(tok, 0, sizeof(tok));
    return; /* else told when the token is in */
  }
  if(ep_submit(e))
    ep_done(e, SDC_PROBE_INTERNAL, sdc_pool_errmsg(e->run->pr->pool));
}

void sdc__probe_auth_ready(struct ep_probe *e, const char *token)
{
  size_t n = e->run->n_hdrs, len = strlen(token) + 32;
  char **lines = sdc__calloc(n + 2, sizeof(char *));

  for(size_t i = 0; lines && i < n; i++)
    if(!(lines[i] = sdc__strdup(e->run->hdrs[i]))) {
      free_lines(lines);
      lines = NULL;
    }
  if(lines && (lines[n] = sdc__malloc(len)))
    snprintf(lines[n], len, "Authorization: Bearer %s", token);
  if(!lines || !lines[n]) {
    free_lines(lines);
    ep_done(e, SDC_PROBE_INTERNAL, "out of memory");
    return;
  }
  free_lines(e->hdrs);
  e->hdrs = lines;
  if(ep_submit(e))
    ep_done(e, SDC_PROBE_INTERNAL, sdc_pool_errmsg(e->run->pr->pool));
}

void sdc__probe_auth_failed(struct ep_probe *e, const char *why)
{
  ep_done(e, SDC_PROBE_AUTH, why);
}

/* Probe the endpoints now known (run->eps filled). */
static void start_all(struct run *r)
{
  r->pending = r->n;
  for(size_t i = 0; i < r->n; i++) {
    struct ep_probe *e = &r->eps[i];
    if(e->done) /* told already (an invalid endpoint) */
      r->pending--;
  }
  if(!r->pending) {
    report(r);
    return;
  }
  r->pending++; /* hold the report until every start is made */
  for(size_t i = 0; i < r->n; i++)
    if(!r->eps[i].done)
      ep_start(&r->eps[i]);
  if(--r->pending == 0)
    report(r);
}

/* Endpoint `e` of run `r`, named and addressed, its result pointing at
 * its own buffers. */
static void ep_init(struct ep_probe *e, struct run *r, const char *endpoint,
                    const char *address, int port)
{
  e->run = r;
  e->port = port;
  snprintf(e->endpoint, sizeof(e->endpoint), "%s", endpoint);
  snprintf(e->address, sizeof(e->address), "%s", address);
  e->res.endpoint = e->endpoint;
  e->res.address = e->address;
  e->res.tls_version = e->tls_version;
  e->res.tls_cipher = e->tls_cipher;
}

/* A run that fails as a whole, reported as one row (by the replica that
 * owns the row's pair). */
static void fail_run(struct run *r, const char *endpoint, sdc_probe_reason reason,
                     const char *detail)
{
  drop_endpoints(r);
  if(!owned(r->pr, r->c, endpoint)) {
    r->skipped = 1;
    report(r);
    return;
  }
  memset(&r->one, 0, sizeof(r->one));
  r->eps = &r->one;
  r->out = &r->one_out;
  r->n = 1;
  ep_init(&r->one, r, endpoint, "", 0);
  ep_done(&r->one, reason, detail); /* nothing pending yet: the report is ours */
  report(r);
}

static void on_resolved(sdc_status st, const sdc_service *svc,
                        const sdc_resolve_info *info, const char *errmsg, void *ud)
{
  struct run *r = ud;
  const struct sdc_check *c = r->c;
  size_t n;

  r->resolve_ms = (double)(sdc__now_us() - r->start_us) / 1e3;
  if(st) {
    sdc_probe_reason why = st == SDC_ENOTFOUND ? SDC_PROBE_SD_NOT_FOUND
                           : st == SDC_EPERM   ? SDC_PROBE_SD_PERMISSION_DENIED
                           : st == SDC_ENOMEM  ? SDC_PROBE_INTERNAL /* not the directory's fault */
                                               : SDC_PROBE_SD_UNAVAILABLE;
    fail_run(r, c->sd_name, why, errmsg);
    return;
  }
  r->stale = info && info->stale;
  n = 0;
  for(size_t i = 0; i < svc->n_endpoints; i++)
    n += owned(r->pr, c, svc->endpoints[i].name);
  r->skipped = svc->n_endpoints - n;
  if(!svc->n_endpoints) {
    sdc_service_release(svc);
    fail_run(r, c->sd_name, SDC_PROBE_NO_ENDPOINTS, "the service lists no "
             "endpoint: register one with an address, a port and its network");
    return;
  }
  if(!n) { /* every endpoint is another replica's */
    sdc_service_release(svc);
    report(r);
    return;
  }
  if(!(r->eps = sdc__calloc(n, sizeof(*r->eps))) || !(r->out = sdc__calloc(n, sizeof(*r->out)))) {
    sdc_service_release(svc);
    r->skipped = 0;
    fail_run(r, c->sd_name, SDC_PROBE_INTERNAL, "out of memory");
    return;
  }
  r->n = n;
  for(size_t i = 0, k = 0; i < svc->n_endpoints; i++) {
    const sdc_endpoint *ep = &svc->endpoints[i];
    struct ep_probe *e;
    if(!owned(r->pr, c, ep->name))
      continue;
    e = &r->eps[k++];
    ep_init(e, r, ep->name, ep->address, c->port ? c->port : ep->port);
    e->res.port = e->port;
    if(!*ep->address || !e->port || strlen(ep->address) >= sizeof(e->address)) {
      char why[160];
      snprintf(why, sizeof(why), "the endpoint has no %s: set it in "
               "Service Directory%s", !*ep->address ? "address" : "port",
               *ep->address ? " (or give the check a port)" : "");
      ep_done(e, SDC_PROBE_ENDPOINT_INVALID, why);
    }
  }
  sdc_service_release(svc);
  start_all(r);
}

/* uptime_url: the host's first address is dialed; the name stays the
 * URL's host (SNI, certificate, Host). */
static void on_host(sdc_status st, const char *const *addrs, size_t n,
                    const char *errmsg, void *ud)
{
  struct run *r = ud;
  struct ep_probe *e = &r->eps[0];

  r->resolve_ms = (double)(sdc__now_us() - r->start_us) / 1e3;
  if(!owned(r->pr, r->c, r->c->host)) { /* looked up for nothing: checked late so that
                                           the report never runs inside sdc_probe_run() */
    e->done = true;
    r->n = 0;
    r->skipped = 1;
    report(r);
    return;
  }
  if(st || !n || strlen(addrs[0]) >= sizeof(e->address))
    ep_done(e, SDC_PROBE_CONNECT_ERROR, st ? errmsg : "no address");
  else
    snprintf(e->address, sizeof(e->address), "%s", addrs[0]);
  start_all(r);
}

sdc_status sdc_probe_run(sdc_prober *pr, const sdc_check *check, sdc_probe_cb cb,
                         void *userdata)
{
  struct run *r;
  struct timespec ts;
  sdc_status st = SDC_OK;

  if(!pr || !check || !cb)
    return SDC_EINVAL;
  if(check->resource == RES_SD_SERVICE && !pr->resolver)
    return SDC_EINVAL;
  if(!(r = sdc__calloc(1, sizeof(*r))))
    return SDC_ENOMEM;
  r->pr = pr;
  r->c = check;
  r->cb = cb;
  r->ud = userdata;
  r->start_us = sdc__now_us();
  clock_gettime(CLOCK_REALTIME, &ts);
  r->started_unix_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  if(check->http && !build_headers(r)) {
    run_free(r);
    return SDC_ENOMEM;
  }
  r->next = pr->runs;
  pr->runs = r;
  if(check->resource == RES_SD_SERVICE) {
    st = sdc_pool_resolve(pr->pool, pr->resolver, check->sd_name,
                          check->max_endpoints, NULL, on_resolved, r);
  } else { /* uptime_url: the host is the endpoint */
    int port = check->port ? check->port : check->http && check->use_ssl ? 443 : 80;
    r->eps = &r->one;
    r->out = &r->one_out;
    r->n = 1;
    ep_init(&r->one, r, check->host, check->host, port);
    st = sdc_pool_resolve_host(pr->pool, check->host, on_host, r);
  }
  if(st) {
    pr->runs = r->next;
    run_free(r);
    return st;
  }
  return SDC_OK;
}

void sdc_prober_free(sdc_prober *pr)
{
  if(!pr)
    return;
  sdc__idtoken_free_all(pr, &pr->ids); /* endpoints waiting for tokens too */
  while(pr->runs) {
    struct run *r = pr->runs;
    sdc_pool_cancel_lookups(pr->pool, r);
    r->pending = 0; /* endpoints that end from here on are not reported again */
    for(size_t i = 0; i < r->n; i++)
      if(!r->eps[i].done) {
        r->eps[i].done = true;
        r->eps[i].res.reason = SDC_PROBE_INTERNAL;
        snprintf(r->eps[i].detail, sizeof(r->eps[i].detail), "the prober was freed");
        r->eps[i].res.detail = r->eps[i].detail;
      }
    if(!r->n)
      fail_run(r, r->c->sd_name ? r->c->sd_name : "", SDC_PROBE_INTERNAL,
               "the prober was freed");
    else
      report(r);
  }
  sdc_free(pr->id_creds);
  sdc_free(pr);
}
