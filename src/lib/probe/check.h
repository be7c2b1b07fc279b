/* SPDX-License-Identifier: Apache-2.0 */
/* Internal header of the probe module: a check, decoded and validated
 * from a Cloud Monitoring UptimeCheckConfig (check.c), and its content
 * matcher (match.c). */
#ifndef SDC_PROBE_CHECK_H
#define SDC_PROBE_CHECK_H

#include <sdconnect/probe.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdbool.h>
#include <stdint.h>

#define CHECK_MAX_BODY (1u << 20)      /* HttpCheck.body */
#define CHECK_MAX_HEADERS 100
#define CHECK_MAX_CONTENT 1024         /* ContentMatcher.content */
#define CHECK_HTTP_SCAN (4u << 20)     /* bytes of an answer examined */
#define CHECK_TCP_SCAN (1u << 20)
#define GOOGLE_UPTIME_UA \
  "GoogleStackdriverMonitoring-UptimeChecks(https://cloud.google.com/monitoring)"

enum check_resource { RES_SD_SERVICE, RES_UPTIME_URL };

/* ContentMatcherOption numbers, as in the API. */
enum matcher_kind {
  MATCH_CONTAINS = 1,
  MATCH_NOT_CONTAINS = 2,
  MATCH_REGEX = 3,
  MATCH_NOT_REGEX = 4,
  MATCH_JSON_PATH = 5,
  MATCH_NOT_JSON_PATH = 6
};
enum json_matcher { JSON_EXACT = 1, JSON_REGEX = 2 };

struct check_kv {
  char *name, *value;
};

struct status_code {
  bool is_class; /* value is a StatusClass (100..500, 1000 = any) */
  int value;
};

struct content_matcher {
  enum matcher_kind kind;
  char *content;
  size_t content_len;
  char *json_path;
  enum json_matcher json_kind;
  pcre2_code *re; /* MATCHES_REGEX / NOT_ / JSON REGEX_MATCH */
};

struct sdc_check {
  char *name;         /* UptimeCheckConfig.name, or "" */
  char *id;           /* its last segment, or one made from displayName */
  char *display_name;
  enum check_resource resource;
  char *project, *location, *ns, *service; /* servicedirectory_service */
  char *sd_name;      /* projects/P/locations/L/namespaces/N/services/S */
  char *host;         /* uptime_url; or sdconnect.host */
  bool http;          /* httpCheck, else tcpCheck */
  /* httpCheck */
  bool post, use_ssl, mask_headers, validate_ssl, validate_ssl_given;
  char *path;
  int port;           /* 0: the endpoint's (SD) or 80/443 (URL) */
  struct check_kv *headers;
  size_t n_headers;
  unsigned char *body;
  size_t body_len;
  char *content_type; /* the Content-Type to send, or NULL */
  struct status_code *accepted;
  size_t n_accepted;
  char *basic_user, *basic_pass;
  bool service_agent_auth;
  int pings;
  /* contentMatchers[0] */
  bool has_matcher;
  struct content_matcher m;
  uint64_t period_ms, timeout_ms;
  int checker_type;
  /* sdconnect: extensions */
  char *ca;           /* PEM or DER bytes */
  size_t ca_len;
  char *cert, *key;   /* PEM */
  size_t cert_len, key_len;
  char *user_agent;
  bool pass_any;
  int max_endpoints;
  char *audience;     /* of the ID token (serviceAgentAuthentication) */
};

void sdc__check_free(struct sdc_check *c);

struct sdc__cfg;
struct sdc__cfg_node;
/* An empty set (sdc_check_set_free()), or NULL when out of memory. */
sdc_check_set *sdc__check_set_new(void);
/* Append the checks `node` holds (a check, a list, or a List call's
 * answer) to `set`, files named in them relative to `file`'s folder;
 * problems (ids already in `set` included) go to `cfg`, under `path`.
 * SDC_OK or SDC_ENOMEM. */
sdc_status sdc__checks_from_node(struct sdc__cfg *cfg, const char *file,
                                 const struct sdc__cfg_node *node,
                                 const char *path, sdc_check_set *set);

/* ---- running (run.c) and ID tokens (idtoken.c) ---- */
struct ep_probe;  /* one endpoint of a run */
struct id_source; /* ID tokens for one audience */
sdc_pool *sdc__prober_pool(const sdc_prober *pr);
/* The token for `e` is here: send its request. / It could not be had. */
void sdc__probe_auth_ready(struct ep_probe *e, const char *token);
void sdc__probe_auth_failed(struct ep_probe *e, const char *why);
/* An ID token for `audience` from `creds` (NULL: Google's default search),
 * without blocking. true with `token` set: use it now; true with `token`
 * "": one is being fetched, and e hears of it through the two functions
 * above; false: none can be had (err says why). */
bool sdc__idtoken_get(sdc_prober *pr, struct id_source **list, const char *creds,
                      const char *audience, struct ep_probe *e, char *token,
                      size_t cap, char *err, size_t errcap);
/* ---- scheduling (sched.c) ---- */
/* How a scheduler starts a run and hears that it ended (tests give their
 * own): start returns SDC_OK and later calls done(token) once. */
typedef void (*sdc__sched_done)(void *token, const sdc_probe_report *rep);
typedef sdc_status (*sdc__sched_start)(void *ctx, const sdc_check *c,
                                       sdc__sched_done done, void *token);
void sdc__sched_set_runner(sdc_scheduler *s, sdc__sched_start start, void *ctx);
/* The phase of a check within its period: from its id, stable. */
uint64_t sdc__sched_phase(const sdc_check *c, uint64_t period_ms);

/* The prober goes: drop every source (waiting endpoints are not told). */
void sdc__idtoken_free_all(sdc_prober *pr, struct id_source **list);

/* Does `body` (the scan window of an answer) satisfy the matcher? On false
 * `why` says what was looked for and what was found. */
bool sdc__match(const struct content_matcher *m, const char *body, size_t len,
                char *why, size_t cap);
/* Compile m->content (and check the JSON path) for use; false with `why`. */
bool sdc__match_prepare(struct content_matcher *m, char *why, size_t cap);
void sdc__match_cleanup(struct content_matcher *m);

#endif
