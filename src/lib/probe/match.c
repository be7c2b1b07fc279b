/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Content matchers of uptime checks: substring, regular expression (PCRE2,
 * Debian libpcre2-dev: the Perl syntax Google's RE2 mostly shares) and
 * JSONPath (over jansson) with an exact or regex comparison.
 *
 * IMPLEMENTATION NOTES
 * - Regexes are compiled once when the check is loaded. Bodies are not
 *   trusted to be UTF-8: PCRE2_MATCH_INVALID_UTF matches what is valid.
 *   A match limit keeps a pathological pattern from stalling the loop; a
 *   body that hits it fails the check, saying so.
 * - JSONPath: $ then .name, ['name'], [N] (negative from the end), [*] and
 *   .* in any order. Every value the path reaches is tried; one that
 *   matches is enough (NOT_: none may).
 * - EXACT_MATCH compares JSON values when `content` is JSON ("ok", 42,
 *   true, {...}), else the value's text with `content` (so ok matches
 *   "ok").
 */
#include "probe/check.h"

#include "core/core.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MATCH_LIMIT 1000000u
#define PATH_MAX_HITS 1024

void sdc__match_cleanup(struct content_matcher *m)
{
  pcre2_code_free(m->re);
  m->re = NULL;
  sdc_free(m->content);
  sdc_free(m->json_path);
  m->content = m->json_path = NULL;
}

/* ---- JSONPath ------------------------------------------------------------ */
enum step_kind { STEP_NAME, STEP_INDEX, STEP_ALL };
struct step {
  enum step_kind kind;
  char name[256];
  long index;
};

/* Parse `path` into steps; false with `why`. */
static bool path_parse(const char *path, struct step *steps, size_t cap,
                       size_t *n, char *why, size_t wcap)
{
  const char *p = path;

  *n = 0;
  if(*p != '$') {
    snprintf(why, wcap, "JSONPath '%.100s' must start with '$'", path);
    return false;
  }
  for(p++; *p;) {
    struct step *s = &steps[*n];
    if(*n == cap) {
      snprintf(why, wcap, "JSONPath '%.100s' has more than %zu steps", path, cap);
      return false;
    }
    if(*p == '.') {
      size_t l = 0;
      p++;
      if(*p == '*') {
        s->kind = STEP_ALL;
        p++;
      } else {
        while(p[l] && p[l] != '.' && p[l] != '[')
          l++;
        if(!l || l >= sizeof(s->name)) {
          snprintf(why, wcap, "JSONPath '%.100s': a name is missing or too long "
                   "after '.'", path);
          return false;
        }
        s->kind = STEP_NAME;
        memcpy(s->name, p, l);
        s->name[l] = '\0';
        p += l;
      }
    } else if(*p == '[' && (p[1] == '\'' || p[1] == '"')) {
      char q = p[1];
      const char *end = strchr(p + 2, q);
      size_t l = end ? (size_t)(end - (p + 2)) : 0;
      if(!end || end[1] != ']' || l >= sizeof(s->name)) {
        snprintf(why, wcap, "JSONPath '%.100s': unclosed [%c...%c]", path, q, q);
        return false;
      }
      s->kind = STEP_NAME;
      memcpy(s->name, p + 2, l);
      s->name[l] = '\0';
      p = end + 2;
    } else if(*p == '[' && p[1] == '*' && p[2] == ']') {
      s->kind = STEP_ALL;
      p += 3;
    } else if(*p == '[') {
      char *end = NULL;
      s->kind = STEP_INDEX;
      s->index = strtol(p + 1, &end, 10);
      if(end == p + 1 || *end != ']') {
        snprintf(why, wcap, "JSONPath '%.100s': expected [N], [*] or ['name'] "
                 "at '%.20s'", path, p);
        return false;
      }
      p = end + 1;
    } else {
      snprintf(why, wcap, "JSONPath '%.100s': unexpected '%c' (expected '.' or "
               "'[')", path, *p);
      return false;
    }
    (*n)++;
  }
  return true;
}

/* Every value reached from `v` by steps[i..]: into hits (bounded). */
static void walk(json_t *v, const struct step *steps, size_t i, size_t n,
                 json_t **hits, size_t *n_hits)
{
  if(*n_hits >= PATH_MAX_HITS || !v)
    return;
  if(i == n) {
    hits[(*n_hits)++] = v;
    return;
  }
  switch(steps[i].kind) {
  case STEP_NAME:
    if(json_is_object(v))
      walk(json_object_get(v, steps[i].name), steps, i + 1, n, hits, n_hits);
    break;
  case STEP_INDEX:
    if(json_is_array(v)) {
      long len = (long)json_array_size(v), k = steps[i].index;
      if(k < 0)
        k += len;
      if(k >= 0 && k < len)
        walk(json_array_get(v, (size_t)k), steps, i + 1, n, hits, n_hits);
    }
    break;
  case STEP_ALL:
    if(json_is_array(v)) {
      for(size_t k = 0; k < json_array_size(v); k++)
        walk(json_array_get(v, k), steps, i + 1, n, hits, n_hits);
    } else if(json_is_object(v)) {
      const char *key;
      json_t *val;
      json_object_foreach(v, key, val)
        walk(val, steps, i + 1, n, hits, n_hits);
    }
    break;
  }
}

/* ---- regexes ----------------------------------------------------------------- */
/* 1 match, 0 none, -1 error (why set). */
static int re_find(const pcre2_code *re, const char *s, size_t len, char *why,
                   size_t cap)
{
  pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
  pcre2_match_context *mc = pcre2_match_context_create(NULL);
  int rc;

  if(!md || !mc) {
    pcre2_match_data_free(md);
    pcre2_match_context_free(mc);
    snprintf(why, cap, "out of memory matching the regex");
    return -1;
  }
  pcre2_set_match_limit(mc, MATCH_LIMIT);
  rc = pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, md, mc);
  pcre2_match_data_free(md);
  pcre2_match_context_free(mc);
  if(rc >= 0)
    return 1;
  if(rc == PCRE2_ERROR_NOMATCH)
    return 0;
  {
    PCRE2_UCHAR msg[120];
    pcre2_get_error_message(rc, msg, sizeof(msg));
    snprintf(why, cap, "the regex could not be matched against the body: %s", msg);
  }
  return -1;
}

bool sdc__match_prepare(struct content_matcher *m, char *why, size_t cap)
{
  bool regex = m->kind == MATCH_REGEX || m->kind == MATCH_NOT_REGEX ||
               ((m->kind == MATCH_JSON_PATH || m->kind == MATCH_NOT_JSON_PATH) &&
                m->json_kind == JSON_REGEX);

  if(m->json_path) {
    struct step steps[32];
    size_t n;
    if(!path_parse(m->json_path, steps, 32, &n, why, cap))
      return false;
  }
  if(regex && !m->re) {
    int err = 0;
    PCRE2_SIZE off = 0;
    m->re = pcre2_compile((PCRE2_SPTR)m->content, m->content_len,
                          PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &err, &off, NULL);
    if(!m->re) {
      PCRE2_UCHAR msg[120];
      pcre2_get_error_message(err, msg, sizeof(msg));
      snprintf(why, cap, "content '%.80s' is not a valid regex: %s at offset %zu",
               m->content, msg, (size_t)off);
      return false;
    }
  }
  return true;
}

/* ---- matching -------------------------------------------------------------------- */
/* Does JSON value `v` satisfy the JSON matcher? -1 on a regex error. */
static int json_value_matches(const struct content_matcher *m, json_t *v,
                              char *why, size_t cap)
{
  char *text = NULL;
  int r;

  if(m->json_kind == JSON_EXACT) {
    json_t *want = json_loads(m->content, JSON_DECODE_ANY, NULL);
    if(want) {
      r = json_equal(want, v);
      json_decref(want);
      return r;
    }
    if(json_is_string(v))
      return !strcmp(json_string_value(v), m->content);
    text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    r = text && !strcmp(text, m->content);
    sdc__json_free(text);
    return r;
  }
  if(json_is_string(v))
    return re_find(m->re, json_string_value(v), json_string_length(v), why, cap);
  text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
  if(!text) {
    snprintf(why, cap, "out of memory");
    return -1;
  }
  r = re_find(m->re, text, strlen(text), why, cap);
  sdc__json_free(text);
  return r;
}

static bool match_json(const struct content_matcher *m, const char *body,
                       size_t len, char *why, size_t cap)
{
  struct step steps[32];
  size_t n_steps = 0, n_hits = 0;
  json_t *doc, **hits;
  json_error_t jerr;
  bool negate = m->kind == MATCH_NOT_JSON_PATH, any = false, ok;
  char found[120] = "";

  if(!path_parse(m->json_path, steps, 32, &n_steps, why, cap))
    return false;
  doc = json_loadb(body, len, JSON_DECODE_ANY, &jerr);
  if(!doc) {
    snprintf(why, cap, "the body is not JSON (%s at line %d), so JSONPath %s "
             "cannot be matched", jerr.text, jerr.line, m->json_path);
    return false;
  }
  if(!(hits = sdc__calloc(PATH_MAX_HITS, sizeof(*hits)))) {
    json_decref(doc);
    snprintf(why, cap, "out of memory");
    return false;
  }
  walk(doc, steps, 0, n_steps, hits, &n_hits);
  for(size_t i = 0; i < n_hits && !any; i++) {
    int r = json_value_matches(m, hits[i], why, cap);
    if(r < 0) {
      sdc_free(hits);
      json_decref(doc);
      return false;
    }
    any = r == 1;
  }
  if(n_hits) {
    char *t = json_dumps(hits[0], JSON_ENCODE_ANY | JSON_COMPACT);
    snprintf(found, sizeof(found), "%.100s%s", t ? t : "?",
             t && strlen(t) > 100 ? "..." : "");
    sdc__json_free(t);
  }
  ok = negate ? !any : any;
  if(!ok)
    snprintf(why, cap, n_hits ? "%s %s '%.200s' at %s (found %s)"
                              : "%s %s '%.200s' at %s (the path reaches nothing)%s",
             negate ? "expected no value" : "expected a value",
             m->json_kind == JSON_REGEX ? "matching" : "equal to", m->content,
             m->json_path, found);
  sdc_free(hits);
  json_decref(doc);
  return ok;
}

/* memmem that does not need _GNU_SOURCE */
static bool contains(const char *hay, size_t n, const char *needle, size_t m)
{
  if(!m)
    return true;
  for(size_t i = 0; i + m <= n; i++)
    if(hay[i] == needle[0] && !memcmp(hay + i, needle, m))
      return true;
  return false;
}

bool sdc__match(const struct content_matcher *m, const char *body, size_t len,
                char *why, size_t cap)
{
  int r;

  switch(m->kind) {
  case MATCH_CONTAINS:
  case MATCH_NOT_CONTAINS:
    r = contains(body, len, m->content, m->content_len);
    if((m->kind == MATCH_CONTAINS) == r)
      return true;
    snprintf(why, cap, "the body %s '%.200s'", r ? "contains" : "does not contain",
             m->content);
    return false;
  case MATCH_REGEX:
  case MATCH_NOT_REGEX:
    r = re_find(m->re, body, len, why, cap);
    if(r < 0)
      return false;
    if((m->kind == MATCH_REGEX) == (r == 1))
      return true;
    snprintf(why, cap, "the body %s the regex '%.200s'", r ? "matches" : "does not match",
             m->content);
    return false;
  case MATCH_JSON_PATH:
  case MATCH_NOT_JSON_PATH:
    return match_json(m, body, len, why, cap);
  }
  snprintf(why, cap, "unknown matcher");
  return false;
}
