/* SPDX-License-Identifier: Apache-2.0 */
/* The programs' log: logfmt or JSON lines on stderr (see log.h). */
#include "log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static atomic_int level = SVC_LOG_INFO;
static atomic_int format = SVC_LOG_LOGFMT;
static const char *const names[] = {"error", "warn", "info", "debug"};
static const char *const severities[] = {"ERROR", "WARNING", "INFO", "DEBUG"};

bool svc_log_parse_level(const char *s, enum svc_log_level *out)
{
  for(int i = 0; s && i < 4; i++)
    if(!strcmp(s, names[i])) {
      *out = (enum svc_log_level)i;
      return true;
    }
  return false;
}

bool svc_log_parse_format(const char *s, enum svc_log_format *out)
{
  if(s && !strcmp(s, "logfmt"))
    *out = SVC_LOG_LOGFMT;
  else if(s && !strcmp(s, "json"))
    *out = SVC_LOG_JSON;
  else
    return false;
  return true;
}

void svc_log_set_format(enum svc_log_format f) { atomic_store(&format, (int)f); }
void svc_log_set_level(enum svc_log_level l) { atomic_store(&level, (int)l); }
enum svc_log_level svc_log_level(void) { return (enum svc_log_level)atomic_load(&level); }
const char *svc_log_level_name(enum svc_log_level l) { return names[(unsigned)l < 4 ? l : 2]; }
bool svc_log_enabled(enum svc_log_level l) { return (int)l <= atomic_load(&level); }

const char *svc_log_q(const char *s)
{
  static _Thread_local char ring[8][512];
  static _Thread_local unsigned next;
  char *out = ring[next++ % 8];
  size_t o = 0;
  bool quote = !*s;

  for(const char *p = s; *p; p++)
    if(*p == ' ' || *p == '"' || *p == '=' || *p == '\\' || (unsigned char)*p < 0x20)
      quote = true;
  if(!quote) {
    snprintf(out, 512, "%s", s);
    return out;
  }
  out[o++] = '"';
  for(const char *p = s; *p && o < 508; p++) {
    if(*p == '"' || *p == '\\')
      out[o++] = '\\';
    out[o++] = (unsigned char)*p < 0x20 ? ' ' : *p;
  }
  out[o++] = '"';
  out[o] = '\0';
  return out;
}

/* ---- JSON from logfmt --------------------------------------------------------- */
struct out {
  char *buf;
  size_t cap, n;
};

static void put(struct out *o, const char *s, size_t len)
{
  if(o->n + len >= o->cap)
    len = o->n < o->cap - 1 ? o->cap - 1 - o->n : 0;
  memcpy(o->buf + o->n, s, len);
  o->n += len;
  o->buf[o->n] = '\0';
}

static void put_json_string(struct out *o, const char *s, size_t len)
{
  put(o, "\"", 1);
  for(size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    char esc[8];
    if(c == '"' || c == '\\') {
      esc[0] = '\\';
      esc[1] = (char)c;
      put(o, esc, 2);
    } else if(c < 0x20) {
      snprintf(esc, sizeof(esc), "\\u%04x", c);
      put(o, esc, 6);
    } else {
      put(o, (const char *)&s[i], 1);
    }
  }
  put(o, "\"", 1);
}

/* The next logfmt pair of *p: key and value (unquoted, into `val`). False
 * at the end. A bare word is the value of the key "text". */
static bool next_pair(const char **p, const char **key, size_t *klen, char *val, size_t cap,
                      size_t *vlen)
{
  const char *s = *p, *eq;
  size_t n = 0;

  while(*s == ' ')
    s++;
  if(!*s)
    return false;
  eq = s + strcspn(s, "= ");
  if(*eq == '=') {
    *key = s;
    *klen = (size_t)(eq - s);
    s = eq + 1;
  } else {
    *key = "text";
    *klen = 4;
  }
  if(*s == '"') {
    for(s++; *s && *s != '"'; s++) {
      if(*s == '\\' && s[1])
        s++;
      if(n < cap - 1)
        val[n++] = *s;
    }
    if(*s == '"')
      s++;
  } else {
    while(*s && *s != ' ') {
      if(n < cap - 1)
        val[n++] = *s;
      s++;
    }
  }
  val[n] = '\0';
  *vlen = n;
  *p = s;
  return true;
}

static void json_line(struct out *o, enum svc_log_level l, const char *ts, const char *comp,
                      const char *fields, const char *hint)
{
  const char *p = fields, *key;
  size_t klen, vlen;
  char val[1024];

  put(o, "{\"time\":\"", 9);
  put(o, ts, strlen(ts));
  put(o, "\",\"severity\":\"", 14);
  put(o, severities[l], strlen(severities[l]));
  put(o, "\",\"component\":", 14);
  put_json_string(o, comp, strlen(comp));
  while(next_pair(&p, &key, &klen, val, sizeof(val), &vlen)) {
    put(o, ",", 1);
    if(klen == 3 && !memcmp(key, "msg", 3))
      put_json_string(o, "message", 7); /* Cloud Logging's name */
    else
      put_json_string(o, key, klen);
    put(o, ":", 1);
    put_json_string(o, val, vlen);
  }
  if(hint && *hint) {
    put(o, ",\"hint\":", 8);
    put_json_string(o, hint, strlen(hint));
  }
  put(o, "}\n", 2);
}

void svc_log_write(enum svc_log_level l, const char *comp, const char *fields)
{
  char line[4096], ts[40], body[2048];
  const char *hint = NULL, *nl;
  struct timespec now;
  struct tm tm;
  struct out o = {line, sizeof(line), 0};

  if(!svc_log_enabled(l))
    return;
  if((unsigned)l > SVC_LOG_DEBUG)
    l = SVC_LOG_DEBUG;
  clock_gettime(CLOCK_REALTIME, &now);
  gmtime_r(&now.tv_sec, &tm);
  strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%03ldZ", now.tv_nsec / 1000000L);
  if((nl = strchr(fields, '\n'))) { /* "fields\nhint: ..." */
    snprintf(body, sizeof(body), "%.*s", (int)(nl - fields), fields);
    fields = body;
    hint = nl + 1;
  }
  line[0] = '\0';
  if(atomic_load(&format) == SVC_LOG_JSON) {
    json_line(&o, l, ts, comp, fields, hint);
  } else {
    snprintf(line, sizeof(line) - 1, "ts=%s level=%s comp=%s %s%s%s", ts, names[l], comp,
             fields, hint ? "\n" : "", hint ? hint : "");
    o.n = strlen(line);
    line[o.n++] = '\n';
    line[o.n] = '\0';
  }
  fputs(line, stderr);
}
