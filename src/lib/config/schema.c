/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Typed reading of a config tree: fields by their JSON (and proto) names,
 * scalars as strings, booleans, whole numbers, Durations, base64 and enums,
 * unknown keys with the nearest known name, and the list of problems.
 */
#include "config/config.h"

#include "core/base64.h"
#include "core/core.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* ---- problems ------------------------------------------------------------ */
static void vrecord(struct sdc__cfg *c, unsigned line, unsigned col,
                    const char *path, const char *fmt, va_list ap)
{
  char what[700], msg[1024], **grown;

  if(c->n_errs >= SDC_CFG_MAX_ERRORS) {
    c->n_dropped++;
    return;
  }
  vsnprintf(what, sizeof(what), fmt, ap);
  if(line)
    snprintf(msg, sizeof(msg), "%s:%u:%u: %s%s%s", c->file, line, col,
             path && *path ? path : "", path && *path ? ": " : "", what);
  else
    snprintf(msg, sizeof(msg), "%s: %s%s%s", c->file, path && *path ? path : "",
             path && *path ? ": " : "", what);
  grown = sdc__realloc(c->errs, (c->n_errs + 1) * sizeof(*grown));
  if(!grown) {
    c->n_dropped++;
    c->oom = true; /* the loader then says SDC_ENOMEM, not that the file is wrong */
    return;
  }
  c->errs = grown;
  if((c->errs[c->n_errs] = sdc__strdup(msg))) {
    c->n_errs++;
  } else {
    c->n_dropped++;
    c->oom = true;
  }
}

void sdc__cfg_oom(struct sdc__cfg *c, const struct sdc__cfg_node *at, const char *path)
{
  c->oom = true;
  sdc__cfg_error(c, at, path, "out of memory");
}

void sdc__cfg_error(struct sdc__cfg *c, const struct sdc__cfg_node *at,
                    const char *path, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  vrecord(c, at ? at->line : 0, at ? at->col : 0, path, fmt, ap);
  va_end(ap);
}

void sdc__cfg_error_lc(struct sdc__cfg *c, unsigned line, unsigned col,
                       const char *path, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  vrecord(c, line, col, path, fmt, ap);
  va_end(ap);
}

char *sdc__cfg_errors_text(const struct sdc__cfg *c)
{
  size_t len = 1;
  char *out, *at;

  for(size_t i = 0; i < c->n_errs; i++)
    len += strlen(c->errs[i]) + 1;
  if(c->n_dropped)
    len += 80;
  if(!(out = sdc__malloc(len)))
    return NULL;
  at = out;
  for(size_t i = 0; i < c->n_errs; i++) {
    size_t l = strlen(c->errs[i]);
    memcpy(at, c->errs[i], l);
    at += l;
    *at++ = '\n';
  }
  if(c->n_dropped)
    at += snprintf(at, 80, "%s: ... and %zu more problems\n", c->file, c->n_dropped);
  *at = '\0';
  return out;
}

void sdc__cfg_path(char *out, size_t cap, const char *parent, const char *key)
{
  snprintf(out, cap, "%s%s%s", parent && *parent ? parent : "",
           parent && *parent ? "." : "", key);
}

void sdc__cfg_path_index(char *out, size_t cap, const char *parent, size_t i)
{
  snprintf(out, cap, "%s[%zu]", parent ? parent : "", i);
}

/* ---- fields -------------------------------------------------------------- */
bool sdc__cfg_is_null(const struct sdc__cfg_node *n)
{
  return n && n->kind == SDC_CFG_SCALAR && n->plain &&
         (!n->len || !strcmp(n->str, "null") || !strcmp(n->str, "~") ||
          !strcmp(n->str, "Null") || !strcmp(n->str, "NULL"));
}

/* lowerCamelCase -> proto's snake_case ("useSsl" -> "use_ssl"). */
static void snake_of(const char *json, char *out, size_t cap)
{
  size_t o = 0;

  for(const char *p = json; *p && o + 2 < cap; p++) {
    if(*p >= 'A' && *p <= 'Z') {
      out[o++] = '_';
      out[o++] = (char)(*p - 'A' + 'a');
    } else {
      out[o++] = *p;
    }
  }
  out[o] = '\0';
}

static bool key_is(const struct sdc__cfg_node *k, const char *json)
{
  char snake[128];

  if(k->kind != SDC_CFG_SCALAR)
    return false;
  if(!strcmp(k->str, json))
    return true;
  snake_of(json, snake, sizeof(snake));
  return strcmp(snake, json) && !strcmp(k->str, snake);
}

const struct sdc__cfg_node *sdc__cfg_field(const struct sdc__cfg_node *map,
                                           const char *json_name)
{
  const struct sdc__cfg_node *found = NULL;

  if(!map || map->kind != SDC_CFG_MAP)
    return NULL;
  for(size_t i = 0; i < map->n; i++)
    if(key_is(map->kids[2 * i], json_name)) {
      map->seen[i] = true;
      if(!found)
        found = map->kids[2 * i + 1];
    }
  return found;
}

/* Optimal string alignment distance, case-insensitive, '_' and '-' equal
 * to nothing (so use_ssl, use-ssl and useSsl are near). */
static size_t distance(const char *a, const char *b)
{
  char x[64], y[64];
  size_t n = 0, m = 0, d[65][65];

  for(const char *p = a; *p && n < 63; p++)
    if(*p != '_' && *p != '-')
      x[n++] = (char)((*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p);
  for(const char *p = b; *p && m < 63; p++)
    if(*p != '_' && *p != '-')
      y[m++] = (char)((*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p);
  for(size_t i = 0; i <= n; i++)
    d[i][0] = i;
  for(size_t j = 0; j <= m; j++)
    d[0][j] = j;
  for(size_t i = 1; i <= n; i++)
    for(size_t j = 1; j <= m; j++) {
      size_t cost = x[i - 1] != y[j - 1], best = d[i - 1][j] + 1;
      if(d[i][j - 1] + 1 < best)
        best = d[i][j - 1] + 1;
      if(d[i - 1][j - 1] + cost < best)
        best = d[i - 1][j - 1] + cost;
      if(i > 1 && j > 1 && x[i - 1] == y[j - 2] && x[i - 2] == y[j - 1] &&
         d[i - 2][j - 2] + 1 < best)
        best = d[i - 2][j - 2] + 1;
      d[i][j] = best;
    }
  return d[n][m];
}

const char *sdc__cfg_suggest(const char *word, const char *const *known)
{
  const char *best = NULL;
  size_t best_d = (size_t)-1, len = strlen(word);
  size_t limit = len < 4 ? 1 : len < 9 ? 2 : 3;

  for(size_t i = 0; known && known[i]; i++) {
    size_t d = distance(word, known[i]);
    if(d < best_d) {
      best_d = d;
      best = known[i];
    }
  }
  return best_d <= limit ? best : NULL;
}

void sdc__cfg_unknown(struct sdc__cfg *c, const struct sdc__cfg_node *map,
                      const char *path, const char *const *known)
{
  if(!map || map->kind != SDC_CFG_MAP)
    return;
  for(size_t i = 0; i < map->n; i++) {
    const struct sdc__cfg_node *k = map->kids[2 * i];
    const char *hint;
    if(k->kind != SDC_CFG_SCALAR) {
      sdc__cfg_error(c, k, path, "a key must be a plain name, not a %s",
                     k->kind == SDC_CFG_MAP ? "mapping" : "list");
      continue;
    }
    for(size_t j = 0; j < i; j++) {
      const struct sdc__cfg_node *o = map->kids[2 * j];
      if(o->kind == SDC_CFG_SCALAR && !strcmp(o->str, k->str)) {
        sdc__cfg_error(c, k, path, "'%s' is given twice (first at line %u); "
                       "keep one", k->str, o->line);
        break;
      }
    }
    if(map->seen[i])
      continue;
    hint = sdc__cfg_suggest(k->str, known);
    if(hint)
      sdc__cfg_error(c, k, path, "unknown field '%s'; did you mean '%s'?",
                     k->str, hint);
    else
      sdc__cfg_error(c, k, path, "unknown field '%s'", k->str);
  }
}

/* ---- typed values -------------------------------------------------------- */
static const char *kind_name(const struct sdc__cfg_node *n)
{
  if(n->kind == SDC_CFG_MAP)
    return "a mapping";
  if(n->kind == SDC_CFG_SEQ)
    return "a list";
  return sdc__cfg_is_null(n) ? "null" : "a scalar";
}

bool sdc__cfg_want(struct sdc__cfg *c, const struct sdc__cfg_node *n,
                   const char *path, enum sdc__cfg_kind kind)
{
  if(n->kind == kind && !(kind == SDC_CFG_SCALAR && sdc__cfg_is_null(n)))
    return true;
  sdc__cfg_error(c, n, path, "%s here is wrong (expected %s)", kind_name(n),
                 kind == SDC_CFG_MAP ? "a mapping of fields"
                 : kind == SDC_CFG_SEQ ? "a list" : "a value");
  return false;
}

bool sdc__cfg_str(struct sdc__cfg *c, const struct sdc__cfg_node *n,
                  const char *path, size_t max_len, char **out)
{
  char *s;

  if(!sdc__cfg_want(c, n, path, SDC_CFG_SCALAR))
    return false;
  if(n->len > max_len) {
    sdc__cfg_error(c, n, path, "%zu bytes long (expected at most %zu)", n->len,
                   max_len);
    return false;
  }
  if(strlen(n->str) != n->len) {
    sdc__cfg_error(c, n, path, "holds a NUL byte (expected text)");
    return false;
  }
  if(!(s = sdc__strdup(n->str))) {
    sdc__cfg_oom(c, n, path);
    return false;
  }
  *out = s;
  return true;
}

bool sdc__cfg_bool(struct sdc__cfg *c, const struct sdc__cfg_node *n,
                   const char *path, bool *out)
{
  static const char *const yes[] = {"true", "True", "TRUE"};
  static const char *const no[] = {"false", "False", "FALSE"};

  if(n->kind == SDC_CFG_SCALAR && n->plain)
    for(size_t i = 0; i < 3; i++) {
      if(!strcmp(n->str, yes[i])) {
        *out = true;
        return true;
      }
      if(!strcmp(n->str, no[i])) {
        *out = false;
        return true;
      }
    }
  if(n->kind == SDC_CFG_SCALAR)
    sdc__cfg_error(c, n, path, "'%.60s' is not a boolean (expected true or "
                   "false, unquoted)", n->str);
  else
    sdc__cfg_error(c, n, path, "%s here is wrong (expected true or false)",
                   kind_name(n));
  return false;
}

bool sdc__cfg_int(struct sdc__cfg *c, const struct sdc__cfg_node *n,
                  const char *path, long long min, long long max,
                  long long *out)
{
  char *end = NULL;
  long long v;

  if(!sdc__cfg_want(c, n, path, SDC_CFG_SCALAR))
    return false;
  errno = 0;
  v = strtoll(n->str, &end, 10);
  if(!n->len || *end || errno || n->str[0] == ' ') {
    sdc__cfg_error(c, n, path, "'%.60s' is not a whole number (expected %lld "
                   "to %lld)", n->str, min, max);
    return false;
  }
  if(v < min || v > max) {
    sdc__cfg_error(c, n, path, "%lld is out of range (expected %lld to %lld)",
                   v, min, max);
    return false;
  }
  *out = v;
  return true;
}

bool sdc__cfg_duration_ms(struct sdc__cfg *c, const struct sdc__cfg_node *n,
                          const char *path, uint64_t *out)
{
  const char *p;
  uint64_t whole = 0, frac_ms = 0;
  size_t digits = 0, fdigits = 0;

  if(!sdc__cfg_want(c, n, path, SDC_CFG_SCALAR))
    return false;
  for(p = n->str; *p >= '0' && *p <= '9'; p++, digits++)
    if(whole < 1000000000ULL)
      whole = whole * 10 + (uint64_t)(*p - '0');
  if(*p == '.')
    for(p++; *p >= '0' && *p <= '9'; p++, fdigits++)
      if(fdigits < 3)
        frac_ms = frac_ms * 10 + (uint64_t)(*p - '0');
  for(size_t i = fdigits; i < 3; i++)
    frac_ms *= 10;
  if(!digits || *p != 's' || p[1] || fdigits > 9 || whole >= 1000000000ULL) {
    bool bare = digits && !*p;
    sdc__cfg_error(c, n, path, "'%.60s' is not a duration (expected seconds "
                   "with an 's', like \"60s\" or \"1.5s\"%s)", n->str,
                   bare ? ": write it with the 's'" : "");
    return false;
  }
  *out = whole * 1000 + frac_ms;
  return true;
}

bool sdc__cfg_base64(struct sdc__cfg *c, const struct sdc__cfg_node *n,
                     const char *path, size_t max, unsigned char **out,
                     size_t *out_len)
{
  unsigned char *buf;
  size_t o, len, bad;

  if(!sdc__cfg_want(c, n, path, SDC_CFG_SCALAR))
    return false;
  len = n->len;
  while(len && n->str[len - 1] == '=')
    len--;
  if(len / 4 * 3 > max + 3) {
    sdc__cfg_error(c, n, path, "decodes to more than %zu bytes (the limit)", max);
    return false;
  }
  if(!(buf = sdc__malloc(len / 4 * 3 + 3))) {
    sdc__cfg_oom(c, n, path);
    return false;
  }
  if((o = sdc__base64_decode(n->str, len, false, buf, &bad)) == (size_t)-1) {
    sdc__cfg_error(c, n, path, "not base64: '%c' at offset %zu (expected the "
                   "body base64-encoded, as the API returns it)", n->str[bad], bad);
    sdc_free(buf);
    return false;
  }
  if(len % 4 == 1 || o > max) {
    if(o > max)
      sdc__cfg_error(c, n, path, "decodes to more than %zu bytes (the limit)", max);
    else
      sdc__cfg_error(c, n, path, "not base64: one character too many or too few");
    sdc_free(buf);
    return false;
  }
  *out = buf;
  *out_len = o;
  return true;
}

bool sdc__cfg_enum(struct sdc__cfg *c, const struct sdc__cfg_node *n,
                   const char *path, const struct sdc__cfg_enum *table,
                   size_t n_table, int *out)
{
  char list[600];
  size_t at = 0;
  const char *names[64];
  const char *hint;

  if(!sdc__cfg_want(c, n, path, SDC_CFG_SCALAR))
    return false;
  for(size_t i = 0; i < n_table; i++)
    if(!strcmp(n->str, table[i].name)) {
      *out = table[i].value;
      return true;
    }
  if(n->plain) {
    char *end = NULL;
    long v = strtol(n->str, &end, 10);
    for(size_t i = 0; n->len && !*end && i < n_table; i++)
      if(table[i].value == v) {
        *out = table[i].value;
        return true;
      }
  }
  list[0] = '\0';
  for(size_t i = 0; i < n_table && i < 63; i++) {
    at += (size_t)snprintf(list + at, at < sizeof(list) ? sizeof(list) - at : 0,
                           "%s%s", i ? ", " : "", table[i].name);
    if(at >= sizeof(list))
      at = sizeof(list) - 1;
    names[i] = table[i].name;
  }
  names[n_table < 63 ? n_table : 63] = NULL;
  hint = sdc__cfg_suggest(n->str, names);
  if(hint)
    sdc__cfg_error(c, n, path, "'%.60s' is not one of %s; did you mean '%s'?",
                   n->str, list, hint);
  else
    sdc__cfg_error(c, n, path, "'%.60s' is not one of %s", n->str, list);
  return false;
}

/* ---- fields and files ------------------------------------------------------ */
bool sdc__cfg_get_str(struct sdc__cfg *c, const struct sdc__cfg_node *map,
                      const char *parent, const char *key, size_t max_len,
                      bool required, char **out)
{
  char path[256];
  const struct sdc__cfg_node *n = sdc__cfg_field(map, key);

  sdc__cfg_path(path, sizeof(path), parent, key);
  if(!n || sdc__cfg_is_null(n)) {
    if(required)
      sdc__cfg_error(c, map, path, "missing (required)");
    return !required;
  }
  return sdc__cfg_str(c, n, path, max_len, out);
}

bool sdc__cfg_get_bool(struct sdc__cfg *c, const struct sdc__cfg_node *map,
                       const char *parent, const char *key, bool *out)
{
  char path[256];
  const struct sdc__cfg_node *n = sdc__cfg_field(map, key);

  if(!n || sdc__cfg_is_null(n))
    return true;
  sdc__cfg_path(path, sizeof(path), parent, key);
  return sdc__cfg_bool(c, n, path, out);
}

void sdc__cfg_base_of(const char *file, char *out, size_t cap)
{
  const char *slash = strrchr(file, '/');
  size_t n = slash ? (size_t)(slash - file) + 1 : 0;

  if(n >= cap)
    n = 0;
  memcpy(out, file, n);
  out[n] = '\0';
}

bool sdc__cfg_read_file(struct sdc__cfg *c, const struct sdc__cfg_node *n,
                        const char *path, const char *base, char **out,
                        size_t *len)
{
  char full[2048];
  FILE *f;
  char *buf;
  size_t got;
  struct stat sb;

  if(!sdc__cfg_want(c, n, path, SDC_CFG_SCALAR))
    return false;
  snprintf(full, sizeof(full), "%s%s", n->str[0] == '/' ? "" : base, n->str);
  if(!(f = fopen(full, "rb"))) {
    sdc__cfg_error(c, n, path, "cannot open '%s': %s", full, strerror(errno));
    return false;
  }
  if(fstat(fileno(f), &sb) || !S_ISREG(sb.st_mode)) { /* not /dev/stdin... */
    sdc__cfg_error(c, n, path, "'%s' is not a regular file", full);
    fclose(f);
    return false;
  }
  buf = sdc__malloc(1u << 20);
  got = buf ? fread(buf, 1, (1u << 20) - 1, f) : 0;
  fclose(f);
  if(!buf || got == 0 || got >= (1u << 20) - 1) {
    if(!buf)
      sdc__cfg_oom(c, n, path);
    else
      sdc__cfg_error(c, n, path, "'%s' is %s", full,
                     got ? "larger than 1 MiB (expected certificates, a key or a secret)"
                         : "empty");
    sdc_free(buf);
    return false;
  }
  buf[got] = '\0';
  *out = buf;
  *len = got;
  return true;
}
