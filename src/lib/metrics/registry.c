/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Metric families and their series. A family's series are kept sorted by
 * their label values (one key: the values, each ended by a NUL), so an
 * update is a binary search and the exposition comes out in a stable
 * order. One mutex per registry: updates come from the loop, a scrape may
 * come from elsewhere.
 */
#include "metrics/metrics.h"

#include "core/core.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

sdc_status sdc_metrics_new(sdc_metrics **out)
{
  sdc_metrics *m = sdc__calloc(1, sizeof(*m));

  if(!m)
    return SDC_ENOMEM;
  pthread_mutex_init(&m->lock, NULL);
  *out = m;
  return SDC_OK;
}

static void series_free(struct series *s)
{
  if(s) {
    sdc_free(s->key);
    sdc_free(s->counts);
    sdc_free(s);
  }
}

static void family_free(struct sdc_metric *f)
{
  if(!f)
    return;
  for(size_t i = 0; i < f->n; i++)
    series_free(f->s[i]);
  for(size_t i = 0; i < f->n_labels; i++)
    sdc_free(f->labels[i]);
  sdc_free(f->labels);
  sdc_free(f->s);
  sdc_free(f->buckets);
  sdc_free(f->name);
  sdc_free(f->help);
  sdc_free(f);
}

void sdc_metrics_free(sdc_metrics *m)
{
  if(!m)
    return;
  for(size_t i = 0; i < m->n; i++)
    family_free(m->f[i]);
  sdc_free(m->f);
  pthread_mutex_destroy(&m->lock);
  sdc_free(m);
}

/* ---- names ------------------------------------------------------------------ */
static bool name_ok(const char *s, bool colon)
{
  if(!s || !*s)
    return false;
  for(const char *p = s; *p; p++) {
    bool alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
                 (colon && *p == ':');
    if(!alpha && !(p > s && *p >= '0' && *p <= '9'))
      return false;
  }
  return true;
}

static bool same_shape(const struct sdc_metric *f, sdc_metric_type type,
                       const char *const *labels, size_t n_labels)
{
  if(f->type != type || f->n_labels != n_labels)
    return false;
  for(size_t i = 0; i < n_labels; i++)
    if(strcmp(f->labels[i], labels[i]))
      return false;
  return true;
}

sdc_status sdc_metrics_family(sdc_metrics *m, const char *name, const char *help,
                              sdc_metric_type type, const char *const *labels,
                              size_t n_labels, const double *buckets,
                              size_t n_buckets, sdc_metric **out)
{
  struct sdc_metric *f = NULL, **grown;
  sdc_status st = SDC_ENOMEM;

  if(!m || !out || !name_ok(name, true) || type > SDC_METRIC_HISTOGRAM ||
     (n_labels && !labels) || n_labels > 16 ||
     (type == SDC_METRIC_HISTOGRAM ? !buckets || !n_buckets || n_buckets > 64
                                   : n_buckets != 0))
    return SDC_EINVAL;
  for(size_t i = 0; i < n_labels; i++)
    if(!name_ok(labels[i], false) || !strncmp(labels[i], "__", 2) ||
       (type == SDC_METRIC_HISTOGRAM && !strcmp(labels[i], "le")))
      return SDC_EINVAL;
  for(size_t i = 0; i < n_buckets; i++)
    if(!isfinite(buckets[i]) || (i && buckets[i] <= buckets[i - 1]))
      return SDC_EINVAL;
  pthread_mutex_lock(&m->lock);
  for(size_t i = 0; i < m->n; i++)
    if(!strcmp(m->f[i]->name, name)) {
      st = same_shape(m->f[i], type, labels, n_labels) ? SDC_OK : SDC_EINVAL;
      if(!st)
        *out = m->f[i];
      goto out;
    }
  if(!(f = sdc__calloc(1, sizeof(*f))) || !(f->name = sdc__strdup(name)) ||
     !(f->help = sdc__strdup(help ? help : "")) ||
     (n_labels && !(f->labels = sdc__calloc(n_labels, sizeof(char *)))) ||
     (n_buckets && !(f->buckets = sdc__malloc(n_buckets * sizeof(double)))))
    goto out;
  for(; f->n_labels < n_labels; f->n_labels++)
    if(!(f->labels[f->n_labels] = sdc__strdup(labels[f->n_labels])))
      goto out;
  if(n_buckets)
    memcpy(f->buckets, buckets, n_buckets * sizeof(double));
  f->n_buckets = n_buckets;
  f->type = type;
  f->m = m;
  if(!(grown = sdc__realloc(m->f, (m->n + 1) * sizeof(*grown))))
    goto out;
  m->f = grown;
  m->f[m->n++] = f;
  *out = f;
  f = NULL;
  st = SDC_OK;
out:
  pthread_mutex_unlock(&m->lock);
  family_free(f);
  return st;
}

/* ---- series ------------------------------------------------------------------- */
/* The key of `values`, into a malloc'd buffer. */
static char *make_key(const struct sdc_metric *f, const char *const *values,
                      size_t *len)
{
  size_t n = 0;
  char *k, *at;

  for(size_t i = 0; i < f->n_labels; i++) {
    if(!values || !values[i])
      return NULL;
    n += strlen(values[i]) + 1;
  }
  if(!(k = sdc__malloc(n + 1)))
    return NULL;
  at = k;
  for(size_t i = 0; i < f->n_labels; i++) {
    size_t l = strlen(values[i]) + 1;
    memcpy(at, values[i], l);
    at += l;
  }
  *len = n;
  return k;
}

static int key_cmp(const char *a, size_t al, const char *b, size_t bl)
{
  int c = memcmp(a, b, al < bl ? al : bl);
  return c ? c : (al > bl) - (al < bl);
}

/* Index of the series with `key`, or where it would go (*found false). */
static size_t find(const struct sdc_metric *f, const char *key, size_t len,
                   bool *found)
{
  size_t lo = 0, hi = f->n;

  while(lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = key_cmp(f->s[mid]->key, f->s[mid]->key_len, key, len);
    if(!c) {
      *found = true;
      return mid;
    }
    if(c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  *found = false;
  return lo;
}

/* The series of `values`, made when `create`; NULL when missing or out
 * of memory (*st says which). Called with the lock held. */
static struct series *series_of(struct sdc_metric *f, const char *const *values,
                                bool create, sdc_status *st)
{
  size_t len = 0, at;
  char *key = make_key(f, values, &len);
  struct series *s;
  bool found;

  if(!key) {
    *st = values || !f->n_labels ? SDC_ENOMEM : SDC_EINVAL;
    return NULL;
  }
  at = find(f, key, len, &found);
  if(found) {
    sdc_free(key);
    return f->s[at];
  }
  *st = SDC_ENOTFOUND;
  if(!create) {
    sdc_free(key);
    return NULL;
  }
  *st = SDC_ENOMEM;
  if(f->n == f->cap) {
    size_t cap = f->cap ? f->cap * 2 : 8;
    struct series **g = sdc__realloc(f->s, cap * sizeof(*g));
    if(!g) {
      sdc_free(key);
      return NULL;
    }
    f->s = g;
    f->cap = cap;
  }
  if(!(s = sdc__calloc(1, sizeof(*s))) ||
     (f->type == SDC_METRIC_HISTOGRAM &&
      !(s->counts = sdc__calloc(f->n_buckets + 1, sizeof(uint64_t))))) {
    sdc_free(s);
    sdc_free(key);
    return NULL;
  }
  s->key = key;
  s->key_len = len;
  memmove(&f->s[at + 1], &f->s[at], (f->n - at) * sizeof(*f->s));
  f->s[at] = s;
  f->n++;
  return s;
}

/* One update under the lock: kind 'a' add, 's' set, 'o' observe. */
static sdc_status update(sdc_metric *f, const char *const *values, double v, char kind)
{
  struct series *s;
  sdc_status st = SDC_OK;

  if(!f || (kind == 'a' && f->type == SDC_METRIC_HISTOGRAM) ||
     (kind == 'a' && f->type == SDC_METRIC_COUNTER && !(v >= 0)) ||
     (kind == 's' && f->type != SDC_METRIC_GAUGE) ||
     (kind == 'o' && f->type != SDC_METRIC_HISTOGRAM))
    return SDC_EINVAL;
  pthread_mutex_lock(&f->m->lock);
  if((s = series_of(f, values, true, &st))) {
    if(kind == 'a')
      s->value += v;
    else if(kind == 's')
      s->value = v;
    else {
      size_t b = 0;
      while(b < f->n_buckets && v > f->buckets[b])
        b++;
      s->counts[b]++; /* +Inf is the last */
      s->sum += v;
      s->count++;
    }
    st = SDC_OK;
  }
  pthread_mutex_unlock(&f->m->lock);
  return st;
}

sdc_status sdc_metric_add(sdc_metric *f, const char *const *values, double v)
{
  return update(f, values, v, 'a');
}

sdc_status sdc_metric_set(sdc_metric *f, const char *const *values, double v)
{
  return update(f, values, v, 's');
}

sdc_status sdc_metric_observe(sdc_metric *f, const char *const *values, double v)
{
  return update(f, values, v, 'o');
}

sdc_status sdc_metric_get(sdc_metric *f, const char *const *values, double *out)
{
  struct series *s;
  sdc_status st = SDC_OK;

  if(!f || !out || f->type == SDC_METRIC_HISTOGRAM)
    return SDC_EINVAL;
  pthread_mutex_lock(&f->m->lock);
  if((s = series_of(f, values, false, &st))) {
    *out = s->value;
    st = SDC_OK;
  }
  pthread_mutex_unlock(&f->m->lock);
  return st;
}

sdc_status sdc_metric_remove(sdc_metric *f, const char *const *values)
{
  size_t len = 0, at;
  char *key;
  bool found = false;

  if(!f)
    return SDC_EINVAL;
  if(!(key = make_key(f, values, &len)))
    return values || !f->n_labels ? SDC_ENOMEM : SDC_EINVAL;
  pthread_mutex_lock(&f->m->lock);
  at = find(f, key, len, &found);
  if(found) {
    series_free(f->s[at]);
    memmove(&f->s[at], &f->s[at + 1], (f->n - at - 1) * sizeof(*f->s));
    f->n--;
  }
  pthread_mutex_unlock(&f->m->lock);
  sdc_free(key);
  return found ? SDC_OK : SDC_ENOTFOUND;
}
