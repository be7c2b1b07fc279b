/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Flexible webhooks (dialogflow-webhooks sheet §10 B): parameter references
 * in the request body and URL replaced by their values, and the answer's
 * fields mapped back into session parameters.
 *
 * IMPLEMENTATION NOTES
 * - A reference is `$session.params.NAME`, `$page.params.NAME`,
 *   `$intent.params.NAME` (NAME: letters, digits, `.`, `-`, `_`; compared
 *   without case, as parameter names are) followed by `.field` steps into
 *   a composite value, or `$request.KEY`. The longest NAME that is a
 *   parameter wins; what follows it walks into the value.
 * - Body: references sit inside JSON strings. A string that is one
 *   reference and nothing else takes the value's JSON type: a string stays
 *   a string (escaped), numbers, booleans, lists and objects lose the
 *   quotes, and an unset parameter becomes null. A reference inside longer
 *   text is rendered as text in that string (objects and lists as compact
 *   JSON, unset as ""). Booleans and null are not in Google's text
 *   (§11.2); these are its most likely reading.
 * - URL: each reference becomes its text, percent-encoded (everything but
 *   RFC 3986's unreserved characters), unset as "" (§11.3).
 * - The rendered body must be JSON; it is parsed again to be sure.
 */
#include "webhook/webhook.h"

#include "core/core.h"

#include <jansson.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct buf {
  char *p;
  size_t len, cap;
  bool oom;
};

static void put(struct buf *b, const char *s, size_t n)
{
  if(b->oom)
    return;
  if(b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    char *g;
    while(cap < b->len + n + 1)
      cap *= 2;
    if(!(g = sdc__realloc(b->p, cap))) {
      b->oom = true;
      return;
    }
    b->p = g;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

/* ---- references ------------------------------------------------------------------ */
static bool name_char(char c)
{
  return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_';
}

/* The member of object `o` named `key` (n bytes), without case. */
static json_t *get_nocase(const json_t *o, const char *key, size_t n)
{
  const char *k;
  json_t *v;

  if(!json_is_object(o))
    return NULL;
  json_object_foreach((json_t *)o, k, v) {
    if(strlen(k) == n && !strncasecmp(k, key, n))
      return v;
  }
  return NULL;
}

/* Walk `.a.b` steps (n bytes) into `v`. */
static json_t *walk(json_t *v, const char *steps, size_t n)
{
  while(v && n) {
    const char *dot;
    size_t len;
    if(*steps == '.') {
      steps++;
      n--;
    }
    dot = memchr(steps, '.', n);
    len = dot ? (size_t)(dot - steps) : n;
    v = len ? get_nocase(v, steps, len) : NULL;
    steps += len;
    n -= len;
  }
  return v;
}

static const char *const scopes[] = {"$session.params.", "$page.params.", "$intent.params.",
                                     "$request."};
static const char *const scope_keys[] = {"session", "page", "intent", "request"};

/* A reference at `p`: its length (0 if `p` starts none) and its value
 * (NULL when unset). Trailing dots that lead nowhere are left out (they
 * end sentences). */
static size_t reference(const char *p, const json_t *values, json_t **value)
{
  for(size_t s = 0; s < 4; s++) {
    size_t pre = strlen(scopes[s]), n = 0;
    json_t *params;
    if(strncmp(p, scopes[s], pre))
      continue;
    while(name_char(p[pre + n]))
      n++;
    while(n && p[pre + n - 1] == '.')
      n--;
    if(!n)
      return 0;
    params = json_object_get(values, scope_keys[s]);
    *value = NULL;
    /* the longest parameter name first, the rest walks into its value */
    for(size_t k = n; k > 0; k--) {
      json_t *v;
      if(k < n && p[pre + k] != '.')
        continue;
      if((v = get_nocase(params, p + pre, k))) {
        *value = walk(v, p + pre + k, n - k);
        break;
      }
    }
    return pre + n;
  }
  return 0;
}

/* The value as text: strings as they are, the rest as compact JSON, unset
 * (NULL) or null as "". */
static char *text_of(const json_t *v)
{
  if(!v || json_is_null(v))
    return sdc__strdup("");
  if(json_is_string(v))
    return sdc__strdup(json_string_value(v));
  return sdc__json_text(v);
}

/* Text into a JSON string's inside (without the quotes). */
static void put_json_escaped(struct buf *b, const char *s)
{
  json_t *j = json_string(s);
  char *t = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

  if(!t)
    b->oom = true;
  else
    put(b, t + 1, strlen(t) - 2);
  sdc__json_free(t);
  json_decref(j);
}

/* ---- the body ------------------------------------------------------------------- */
/* One JSON string literal of the template, `s` (with its quotes, n bytes). */
static void render_string(struct buf *b, const char *s, size_t n, const json_t *values)
{
  json_t *v = NULL;
  size_t inner = n - 2, len;

  len = inner ? reference(s + 1, values, &v) : 0;
  if(len && len == inner) { /* the string is one reference: the value's own type */
    char *t = v && !json_is_null(v)
                  ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17))
                  : NULL;
    if(v && !json_is_null(v) && !t)
      b->oom = true;
    put(b, t ? t : "null", t ? strlen(t) : 4);
    sdc__json_free(t);
    return;
  }
  put(b, "\"", 1);
  for(size_t i = 1; i < n - 1;) {
    /* the template's own escapes pass as they are */
    if(s[i] == '\\' && i + 1 < n - 1) {
      put(b, s + i, 2);
      i += 2;
      continue;
    }
    if(s[i] == '$' && (len = reference(s + i, values, &v)) && i + len <= n - 1) {
      char *t = text_of(v);
      if(!t)
        b->oom = true;
      else
        put_json_escaped(b, t);
      sdc_free(t);
      i += len;
      continue;
    }
    put(b, s + i, 1);
    i++;
  }
  put(b, "\"", 1);
}

static sdc_status values_of(const char *params_json, json_t **out, char *err, size_t errcap)
{
  json_error_t je;

  if(!params_json) {
    *out = json_object();
    return *out ? SDC_OK : SDC_ENOMEM;
  }
  sdc__json_ran_out(true);
  if(!(*out = json_loads(params_json, 0, &je)) || !json_is_object(*out)) {
    bool oom = !*out && sdc__json_ran_out(false);
    snprintf(err, errcap, oom ? "out of memory" : "the values are not a JSON object: %s",
             *out ? "" : je.text);
    json_decref(*out);
    *out = NULL;
    return oom ? SDC_ENOMEM : SDC_EINVAL;
  }
  return SDC_OK;
}

sdc_status sdc_webhook_render_body(const char *tmpl, const char *params_json, char **out,
                                   char *err, size_t errcap)
{
  struct buf b = {0};
  json_t *values, *check;
  json_error_t je;
  sdc_status st;

  if(!tmpl || !out || !err || !errcap)
    return SDC_EINVAL;
  err[0] = '\0';
  if((st = values_of(params_json, &values, err, errcap)))
    return st;
  for(const char *p = tmpl; *p;) {
    if(*p == '"') { /* a string literal: find its end */
      const char *q = p + 1;
      while(*q && *q != '"')
        q += *q == '\\' && q[1] ? 2 : 1;
      if(!*q) {
        put(&b, p, strlen(p)); /* unterminated: the parse below says so */
        break;
      }
      render_string(&b, p, (size_t)(q - p) + 1, values);
      p = q + 1;
    } else {
      put(&b, p, 1);
      p++;
    }
  }
  json_decref(values);
  if(b.oom) {
    sdc_free(b.p);
    return SDC_ENOMEM;
  }
  if(!b.p)
    b.p = sdc__strdup("");
  sdc__json_ran_out(true);
  if(!(check = json_loads(b.p ? b.p : "", JSON_DECODE_ANY, &je))) {
    bool oom = sdc__json_ran_out(false);
    if(oom)
      snprintf(err, errcap, "out of memory");
    else
      snprintf(err, errcap, "the body is not JSON once references are replaced: %s at byte %d",
               je.text, je.position);
    sdc_free(b.p);
    return oom ? SDC_ENOMEM : SDC_EPROTO;
  }
  json_decref(check);
  *out = b.p;
  return SDC_OK;
}

/* ---- the URL --------------------------------------------------------------------- */
sdc_status sdc_webhook_render_uri(const char *tmpl, const char *params_json, char **out,
                                  char *err, size_t errcap)
{
  struct buf b = {0};
  json_t *values;
  sdc_status st;

  if(!tmpl || !out || !err || !errcap)
    return SDC_EINVAL;
  err[0] = '\0';
  if((st = values_of(params_json, &values, err, errcap)))
    return st;
  for(const char *p = tmpl; *p;) {
    json_t *v = NULL;
    size_t len = *p == '$' ? reference(p, values, &v) : 0;
    if(!len) {
      put(&b, p++, 1);
      continue;
    }
    {
      char *t = text_of(v);
      for(const char *c = t ? t : ""; *c; c++) {
        char enc[4];
        if(isalnum((unsigned char)*c) || strchr("-._~", *c)) {
          put(&b, c, 1);
        } else {
          snprintf(enc, sizeof(enc), "%%%02X", (unsigned char)*c);
          put(&b, enc, 3);
        }
      }
      if(!t)
        b.oom = true;
      sdc_free(t);
    }
    p += len;
  }
  json_decref(values);
  if(b.oom || (!b.p && !(b.p = sdc__strdup("")))) {
    sdc_free(b.p);
    return SDC_ENOMEM;
  }
  *out = b.p;
  return SDC_OK;
}

/* ---- the answer into session parameters --------------------------------------------- */
/* `$.a.b[2].c` into `root`; NULL when a step is missing or malformed. */
static json_t *json_path(json_t *root, const char *path)
{
  const char *p = path + 1; /* after '$' */
  json_t *v = root;

  while(v && *p) {
    if(*p == '.') {
      size_t n = strcspn(p + 1, ".[");
      char key[256];
      if(!n || n >= sizeof(key))
        return NULL;
      memcpy(key, p + 1, n);
      key[n] = '\0';
      v = json_object_get(v, key);
      p += n + 1;
    } else if(*p == '[') {
      char *end;
      long i = strtol(p + 1, &end, 10);
      if(end == p + 1 || *end != ']' || i < 0)
        return NULL;
      v = json_array_get(v, (size_t)i);
      p = end + 1;
    } else {
      return NULL;
    }
  }
  return v;
}

sdc_status sdc_webhook_map_parameters(const sdc_webhook *w, const void *body, size_t len,
                                      char **params_json, char *err, size_t errcap)
{
  json_t *r, *params, *missing, *out;
  sdc_status st;

  if(!w || !body || !params_json || !err || !errcap)
    return SDC_EINVAL;
  err[0] = '\0';
  if((st = sdc__webhook_answer(body, len, &r, err, errcap)))
    return st;
  params = json_object();
  missing = json_array();
  for(size_t i = 0; params && missing && i < w->web.n_parameter_mapping; i++) {
    json_t *v = json_path(r, w->web.parameter_mapping[i].value);
    if(v)
      json_object_set(params, w->web.parameter_mapping[i].key, v);
    else
      json_array_append_new(missing, json_string(w->web.parameter_mapping[i].key));
  }
  if((out = json_object())) {
    json_object_set_new(out, "parameters", params); /* taken, even on failure */
    json_object_set_new(out, "missing", missing);
  } else {
    json_decref(params);
    json_decref(missing);
  }
  json_decref(r);
  *params_json = sdc__json_text(out);
  json_decref(out);
  return *params_json ? SDC_OK : SDC_ENOMEM;
}
