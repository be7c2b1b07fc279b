/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sdconnect fetch: requests through the pool, the way Dialogflow reaches a
 * Service Directory webhook (connect to a resolved address, TLS and Host by
 * the URL's name). One request with -v timings and TLS facts, or a load
 * check with --repeat/--parallel.
 */
#include "cmds.h"
#include "names.h"

#include "msgs.h"
#include "opts.h"

#include <sdconnect/sdconnect.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CMD "fetch"

static char *slurp(const char *what, const char *path, size_t *len)
{
  return cli_read_file(CMD, what, path, 8 << 20, len);
}

/* Split https://host[:port]/... into host and port (for the target). */
static int url_host_port(const char *url, char *host, size_t cap, int *port,
                         int *tls)
{
  const char *p, *end;
  size_t n;

  if(!strncmp(url, "https://", 8)) {
    *tls = 1;
    *port = 443;
    p = url + 8;
  } else if(!strncmp(url, "http://", 7)) {
    *tls = 0;
    *port = 80;
    p = url + 7;
  } else {
    return -1;
  }
  if(*p == '[') { /* an IPv6 literal, kept in its brackets: https://[fd00::1]:8443/ */
    if(!(end = strchr(p, ']')))
      return -1;
    end++;
    n = (size_t)(end - p);
    if(*end && !strchr(":/?#", *end))
      return -1;
  } else {
    end = p + strcspn(p, ":/?#");
    n = (size_t)(end - p);
  }
  if(!n || n >= cap)
    return -1;
  memcpy(host, p, n);
  host[n] = '\0';
  if(*end == ':') {
    char digits[8];
    size_t k = strcspn(end + 1, "/?#");
    if(k >= sizeof(digits))
      return -1;
    memcpy(digits, end + 1, k);
    digits[k] = '\0';
    if(!svc_parse_port(digits, port))
      return -1;
  }
  return 0;
}

static void print_verbose(const sdc_http_response *r)
{
  char when[64] = "";

  fprintf(stderr, "* endpoint %s (%s), HTTP/%s", r->endpoint,
          r->reused ? "reused connection" : "new connection",
          r->http_version == 2 ? "2" : "1.1");
  if(*r->tls.version)
    fprintf(stderr, ", %s, certificate %s", r->tls.version,
            r->tls.verify_result == 0 ? "verified" : "NOT verified");
  fputc('\n', stderr);
  for(size_t i = 0; i < r->tls.n_chain; i++)
    fprintf(stderr, "* chain[%zu]: %s\n", i, r->tls.chain[i]);
  if(r->tls.earliest_expiry) {
    time_t t = (time_t)r->tls.earliest_expiry;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "* earliest certificate expiry: %s\n", when);
  }
  fprintf(stderr, "* timing: connect %.2f ms, TLS %.2f ms, first byte %.2f ms, "
          "total %.2f ms\n", r->timings.connect_ms, r->timings.tls_ms,
          r->timings.first_byte_ms, r->timings.total_ms);
  for(const char *l = r->headers; *l;) {
    const char *e = strstr(l, "\r\n");
    size_t n = e ? (size_t)(e - l) : strlen(l);
    if(n)
      fprintf(stderr, "< %.*s\n", (int)n, l);
    l += n + (e ? 2 : 0);
  }
}

/* --json: the answer and how it came, as one object. The body is a string
 * when it is UTF-8 text, else null with its length. */
static void print_json(const char *url, const sdc_http_response *r)
{
  json_t *j = json_pack("{s:s, s:I, s:s, s:b, s:s, s:{s:f, s:f, s:f, s:f}}", "url", url,
                        "status", (json_int_t)r->status, "endpoint", r->endpoint, "reused",
                        r->reused, "http_version", r->http_version == 2 ? "2" : "1.1",
                        "timings_ms", "connect", r->timings.connect_ms, "tls",
                        r->timings.tls_ms, "first_byte", r->timings.first_byte_ms, "total",
                        r->timings.total_ms);
  json_t *headers = json_object(), *chain = json_array(), *body;

  if(!j || !headers || !chain) {
    json_decref(j);
    json_decref(headers);
    json_decref(chain);
    cli_error(CMD, "out of memory");
    return;
  }
  for(const char *l = r->headers; *l;) { /* "Name: value" lines after the status line */
    const char *e = strstr(l, "\r\n"), *colon;
    size_t n = e ? (size_t)(e - l) : strlen(l);
    if(n && (colon = memchr(l, ':', n)) && strncmp(l, "HTTP/", 5)) {
      char name[128], value[2048];
      const char *v = colon + 1 + strspn(colon + 1, " \t");
      snprintf(name, sizeof(name), "%.*s", (int)(colon - l), l);
      snprintf(value, sizeof(value), "%.*s", (int)(n - (size_t)(v - l)), v);
      json_object_set_new(headers, name, json_string(value));
    }
    l += n + (e ? 2 : 0);
  }
  json_object_set_new(j, "headers", headers);
  if(*r->tls.version) {
    for(size_t i = 0; i < r->tls.n_chain; i++)
      json_array_append_new(chain, json_string(r->tls.chain[i]));
    json_object_set_new(j, "tls", json_pack("{s:s, s:s, s:b, s:I, s:o}", "version",
                                            r->tls.version, "cipher", r->tls.cipher,
                                            "verified", r->tls.verify_result == 0,
                                            "earliest_expiry", (json_int_t)r->tls.earliest_expiry,
                                            "chain", chain));
  } else {
    json_decref(chain);
    json_object_set_new(j, "tls", json_null());
  }
  body = json_stringn(r->body, r->body_len); /* NULL unless valid UTF-8 */
  json_object_set_new(j, "body", body ? body : json_null());
  json_object_set_new(j, "body_bytes", json_integer((json_int_t)r->body_len));
  json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
  fputc('\n', stdout);
  json_decref(j);
}

/* ---- load check ------------------------------------------------------------ */
struct load {
  sdc_pool *pool;
  sdc_target *t;
  const sdc_http_request *req;
  unsigned long total, submitted, done, ok, http_err;
  unsigned long errs[16]; /* by sdc_status */
  double *lat;
  size_t n_lat;
};

static void load_done(sdc_status st, sdc_http_response *r, const char *err,
                      void *ud);

static void load_next(struct load *l)
{
  if(l->submitted < l->total) {
    l->submitted++;
    if(sdc_pool_submit(l->pool, l->t, l->req, load_done, l)) {
      l->errs[SDC_EINVAL]++;
      l->done++;
    }
  }
}

static void load_done(sdc_status st, sdc_http_response *r, const char *err,
                      void *ud)
{
  struct load *l = ud;

  (void)err;
  l->done++;
  if(st) {
    l->errs[(unsigned)st < 16 ? st : 13]++;
  } else {
    l->lat[l->n_lat++] = r->timings.total_ms;
    if(r->status >= 400)
      l->http_err++;
    else
      l->ok++;
    sdc_http_response_free(r);
  }
  load_next(l);
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double pct(const double *v, size_t n, double p)
{
  return n ? v[(size_t)((double)(n - 1) * p)] : 0;
}

static int run_load(sdc_pool *pool, sdc_target *t, const sdc_http_request *req,
                    unsigned long repeat, unsigned long parallel, bool json)
{
  struct load l = {pool, t, req, repeat, 0, 0, 0, 0, {0}, NULL, 0};
  struct timespec a, b;
  double secs;
  unsigned long failed = 0;

  l.lat = calloc(repeat, sizeof(double));
  if(!l.lat)
    return 1;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for(unsigned long i = 0; i < parallel && i < repeat; i++)
    load_next(&l);
  while(l.done < repeat)
    if(sdc_pool_perform(pool, 600000) == SDC_ETIMEDOUT)
      break;
  clock_gettime(CLOCK_MONOTONIC, &b);
  secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
  if(l.n_lat > 1)
    qsort(l.lat, l.n_lat, sizeof(double), cmp_double);
  for(int i = 0; i < 16; i++)
    failed += l.errs[i];
  if(json) {
    json_t *j = json_pack("{s:I, s:I, s:f, s:f, s:{s:f, s:f, s:f, s:f}, s:I, s:I, s:I}",
                          "requests", (json_int_t)repeat, "parallel", (json_int_t)parallel,
                          "seconds", secs, "requests_per_second", (double)l.done / secs,
                          "latency_ms", "p50", pct(l.lat, l.n_lat, 0.5), "p90",
                          pct(l.lat, l.n_lat, 0.9), "p99", pct(l.lat, l.n_lat, 0.99),
                          "max", pct(l.lat, l.n_lat, 1.0),
                          "connections_opened", (json_int_t)sdc_pool_connections_opened(pool),
                          "http_errors", (json_int_t)l.http_err, "failed", (json_int_t)failed);
    json_t *errs = json_object();
    for(int i = 1; i < 16; i++)
      if(l.errs[i])
        json_object_set_new(errs, sdc_strerror((sdc_status)i), json_integer((json_int_t)l.errs[i]));
    json_object_set_new(j, "errors", errs);
    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    putchar('\n');
    json_decref(j);
  } else {
    printf("requests %lu, in flight %lu, %.2f s: %.0f requests/s\n", repeat,
           parallel, secs, (double)l.done / secs);
    printf("latency ms: p50 %.2f, p90 %.2f, p99 %.2f, max %.2f\n",
           pct(l.lat, l.n_lat, 0.5), pct(l.lat, l.n_lat, 0.9),
           pct(l.lat, l.n_lat, 0.99), pct(l.lat, l.n_lat, 1.0));
    printf("connections opened %lu; HTTP 2xx/3xx %lu, 4xx/5xx %lu\n",
           sdc_pool_connections_opened(pool), l.ok, l.http_err);
    for(int i = 1; i < 16; i++)
      if(l.errs[i])
        printf("errors: %lu %s\n", l.errs[i], sdc_strerror((sdc_status)i));
    if(failed)
      printf("last error: %s\n", sdc_pool_errmsg(pool));
  }
  free(l.lat);
  return failed == repeat ? 1 : failed || l.http_err ? 3 : 0;
}

int cmd_fetch(int argc, char **argv)
{
  struct dir_flags sf = {0};
  const char *service = NULL, *method = NULL, *data = NULL, *tca = NULL,
             *tcert = NULL, *tkey = NULL, *pass_file = NULL, *repeat_s = NULL,
             *parallel_s = NULL, *max_body_s = NULL;
  const char *headers[MAX_REPEAT + 1] = {0}, *connect_to[MAX_REPEAT] = {0};
  size_t n_headers = 0, n_connect = 0;
  bool verbose = false, no_verify = false, http1 = false;
  struct flag own[] = {
      {.name = "service", .value = &service, .help = "NAME  connect to this Service "
       "Directory service's endpoints (a full name, or an id with --namespace, "
       "--location and --project)"},
      {.name = "connect-to", .list = connect_to, .n_list = &n_connect,
       .help = "ADDR:PORT  connect here instead (repeatable; [v6]:port)"},
      {.name = "ca", .value = &tca, .help = "FILE  CA certificates (PEM or DER) "
       "the target's certificate must chain to (directory: --sd-ca)"},
      {.name = "cert", .value = &tcert, .help = "FILE  client certificate (PEM) "
       "for the target (directory: --sd-cert)"},
      {.name = "key", .value = &tkey, .help = "FILE  its private key (PEM; directory: "
       "--sd-key)"},
      {.name = "key-passphrase-file", .value = &pass_file, .help = "FILE  passphrase of "
       "an encrypted --key"},
      {.name = "no-verify", .set = &no_verify, .help = "do not verify the target's "
       "certificate (testing only)"},
      {.name = "request", .value = &method, .short_name = 'X', .help = "METHOD  HTTP "
       "method (default GET, POST with -d)"},
      {.name = "header", .list = headers, .n_list = &n_headers, .short_name = 'H',
       .help = "'NAME: VALUE'  request header (repeatable)"},
      {.name = "data", .value = &data, .short_name = 'd', .help = "DATA  request body, "
       "or @FILE"},
      {.name = "verbose", .set = &verbose, .short_name = 'v', .help = "show the endpoint, "
       "timings, TLS facts and response headers"},
      {.name = "http1.1", .set = &http1, .help = "do not offer HTTP/2"},
      {.name = "max-body", .value = &max_body_s, .help = "BYTES  response body cap "
       "(default 65536)"},
      {.name = "repeat", .value = &repeat_s, .help = "N  send N requests (load check)"},
      {.name = "parallel", .value = &parallel_s, .help = "C  with C in flight"},
      {.name = NULL}};
  struct name_flags nf = {0};
  const struct flag *tables[] = {own, name_flag_table(&nf), dir_flag_table(&sf), NULL};
  char service_name[NAME_MAX_LEN];
  struct parsed p;
  char host[256];
  int port = 0, tls = 0, rc;
  sdc_resolver *r = NULL;
  sdc_pool_opts *po = NULL;
  sdc_pool *pool = NULL;
  sdc_target *t = NULL;
  sdc_http_request *req = NULL;
  sdc_http_response *resp = NULL;
  char *body = NULL, *ca = NULL, *cert = NULL, *key = NULL, *pass = NULL;
  size_t body_len = 0, ca_len = 0, cert_len = 0, key_len = 0, pass_len = 0;
  uint64_t timeout = 30000;
  unsigned long repeat = 0, parallel = 1;
  unsigned long long num = 0;
  size_t max_body = 0;
  sdc_status st;

  rc = opts_parse(CMD, argc, argv, 1, tables, &p);
  if(rc)
    return rc;
  if(p.help) {
    printf("Usage: sdconnect fetch URL (--service NAME | --connect-to ADDR:PORT) "
           "[OPTIONS]\n\nSend a request through sdconnect's connection pool: connect "
           "to an endpoint of\nthe service (or the given address) while TLS and the "
           "Host header use the URL's\nhost, as Dialogflow does for a Service Directory "
           "webhook.\n\nOptions:\n");
    opts_help(tables, "the answer's status is 400 or above (a load check: a request failed)");
    return 0;
  }
  if(p.n_pos != 1)
    return usage_error(CMD, "give exactly one URL");
  if(url_host_port(p.pos[0], host, sizeof(host), &port, &tls))
    return usage_error(CMD, "'%s' is not an http:// or https:// URL with a host "
                       "name", p.pos[0]);
  if(!service == !n_connect)
    return usage_error(CMD, "give either --service NAME or --connect-to ADDR:PORT");
  if((rc = cli_service_flag(CMD, service, &nf, service_name, sizeof(service_name))))
    return rc;
  if(service) /* a short name, completed from --namespace, --location, --project */
    service = service_name;
  if(!tcert != !tkey)
    return usage_error(CMD, "--cert and --key go together");
  if(sf.timeout && !svc_parse_duration_ms(sf.timeout, &timeout))
    return usage_error(CMD, "--timeout: '%s' is not a duration (e.g. 5s)", sf.timeout);
  if(repeat_s && !svc_parse_uint(repeat_s, 1, 10000000, &num))
    return usage_error(CMD, "--repeat: '%s' is not a number from 1 to 10000000",
                       repeat_s);
  repeat = repeat_s ? (unsigned long)num : 0;
  if(parallel_s && !svc_parse_uint(parallel_s, 1, 1000, &num))
    return usage_error(CMD, "--parallel: '%s' is not a number from 1 to 1000",
                       parallel_s);
  parallel = parallel_s ? (unsigned long)num : 1;
  if(max_body_s && !svc_parse_uint(max_body_s, 1, (size_t)1 << 30, &num))
    return usage_error(CMD, "--max-body: '%s' is not a size from 1 byte to 1 GiB",
                       max_body_s);
  max_body = max_body_s ? (size_t)num : 0;
  rc = 1;
  if(data && data[0] == '@') {
    if(!(body = slurp("-d", data + 1, &body_len)))
      goto out;
  } else if(data) {
    body_len = strlen(data);
  }
  if((tca && !(ca = slurp("--ca", tca, &ca_len))) ||
     (tcert && !(cert = slurp("--cert", tcert, &cert_len))) ||
     (tkey && !(key = slurp("--key", tkey, &key_len))) ||
     (pass_file && !(pass = slurp("--key-passphrase-file", pass_file, &pass_len))))
    goto out;
  if(pass)
    pass[strcspn(pass, "\r\n")] = '\0';
  if(sdc_pool_opts_new(&po))
    goto out;
  sdc_pool_opts_set_http2(po, !http1);
  if(max_body)
    sdc_pool_opts_set_max_body(po, max_body); /* in range: checked above */
  if(sdc_pool_new(&pool, po))
    goto oom;
  if((st = sdc_target_new(&t, host, port, tls))) {
    if(st == SDC_ENOMEM)
      goto oom;
    rc = usage_error(CMD, "'%s': the host '%s' cannot be a target's name", p.pos[0], host);
    goto out;
  }
  if((ca && sdc_target_set_ca(t, ca, ca_len)) ||
     (cert && sdc_target_set_client_cert(t, cert, cert_len, key, key_len, pass))) {
    rc = usage_error(CMD, "--ca or --cert/--key is not usable certificate "
                     "material");
    goto out;
  }
  sdc_target_set_verify(t, !no_verify);
  if(n_connect) {
    char addrs[MAX_REPEAT][64];
    const char *ap[MAX_REPEAT];
    int ports[MAX_REPEAT];
    for(size_t i = 0; i < n_connect; i++) {
      const char *c = connect_to[i], *colon = strrchr(c, ':');
      size_t n = colon ? (size_t)(colon - c) : 0;
      if(n > 1 && c[0] == '[' && c[n - 1] == ']') {
        c++;
        n -= 2;
      }
      if(!colon || !n || n >= sizeof(addrs[i]) || !svc_parse_port(colon + 1, &ports[i])) {
        rc = usage_error(CMD, "--connect-to: '%s' is not ADDR:PORT (port 1-65535; "
                         "[v6]:PORT for IPv6)", connect_to[i]);
        goto out;
      }
      memcpy(addrs[i], c, n);
      addrs[i][n] = '\0';
      ap[i] = addrs[i];
    }
    if(sdc_target_set_addresses(t, ap, ports, n_connect)) {
      rc = usage_error(CMD, "--connect-to: an address or port is not valid");
      goto out;
    }
  } else {
    if((rc = cli_resolver_new(&sf, CMD, &r)))
      goto out;
    rc = 1;
    sdc_target_set_service(t, r, service);
  }
  if((st = sdc_http_request_new(&req, p.pos[0])) ||
     (st = sdc_http_request_set_method(req, method)) ||
     (st = sdc_http_request_set_body(req, body ? body : data, body_len)) ||
     (st = sdc_http_request_set_timeout_ms(req, timeout)))
    goto oom;
  for(size_t i = 0; i < n_headers; i++)
    if((st = sdc_http_request_add_header(req, headers[i])))
      goto oom;
  if(repeat) {
    rc = run_load(pool, t, req, repeat, parallel, sf.json);
    goto out;
  }
  st = sdc_pool_request(pool, t, req, &resp);
  if(st) {
    cli_error(CMD, "%s", sdc_pool_errmsg(pool));
    if(st == SDC_ETLS)
      cli_hint("fix the certificate or the target's TLS settings (--ca, --cert/--key); "
               "-v shows the connection");
    else if(st == SDC_ETOOBIG)
      cli_hint("Dialogflow caps webhook responses at 64 KiB; --max-body raises "
               "sdconnect's cap for inspection");
    else if(st == SDC_EUNAVAILABLE && service)
      cli_hint("check that the service's endpoints listen: 'sdconnect resolve %s'",
               service);
    rc = st == SDC_EINVAL ? 2 : 1;
    goto out;
  }
  if(verbose)
    print_verbose(resp);
  if(sf.json)
    print_json(p.pos[0], resp);
  else
    fwrite(resp->body, 1, resp->body_len, stdout);
  /* the thing fetched answered, but not well: exit 3, as curl -f fails */
  if(resp->status >= 400) {
    fflush(stdout);
    cli_error(CMD, "%s answered HTTP %ld", p.pos[0], resp->status);
    rc = 3;
  } else {
    rc = 0;
  }
  goto out;
oom:
  cli_error(CMD, "out of memory");
  rc = 1;
out:
  sdc_http_response_free(resp);
  sdc_http_request_free(req);
  sdc_target_free(t);
  sdc_pool_free(pool);
  sdc_pool_opts_free(po);
  sdc_resolver_free(r);
  free(body);
  free(ca);
  free(cert);
  if(key) {
    memset(key, 0, key_len);
    free(key);
  }
  if(pass) {
    memset(pass, 0, pass_len);
    free(pass);
  }
  return rc;
}
