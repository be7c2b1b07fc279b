/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Metric families and their series. A family's series are kept sorted by
 * their label values (compared in label order, as strings), so an update
 * is a binary search without an allocation and the exposition comes out
 * in a stable order. Label values are stored once per registry with a
 * reference count: a daemon with 10,000 endpoints has a dozen series per
 * endpoint, all naming the same check, service and endpoint. One mutex
 * per registry: updates come from the loop, a scrape may come from
 * elsewhere.
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

/* ---- label values, stored once -------------------------------------------------- */
static uint64_t hash_of(const char *s, size_t len)
{
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */

  for(size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
  return h;
}

/* The stored copy of `s` with one more reference; NULL when out of memory. */
static struct label_value *value_ref(sdc_metrics *m, const char *s)
{
  size_t len = strlen(s);
  uint64_t h = hash_of(s, len);
  struct label_value *v;

  if(m->n_values >= m->n_buckets) { /* grow: load factor at most 1 */
    size_t nb = m->n_buckets ? m->n_buckets * 2 : 256;
    struct label_value **t = sdc__calloc(nb, sizeof(*t));
    if(!t)
      return NULL;
    for(size_t i = 0; i < m->n_buckets; i++)
      while((v = m->values[i])) {
        m->values[i] = v->next;
        v->next = t[v->hash % nb];
        t[v->hash % nb] = v;
      }
    sdc_free(m->values);
    m->values = t;
    m->n_buckets = nb;
  }
  for(v = m->values[h % m->n_buckets]; v; v = v->next)
    if(v->hash == h && v->len == len && !memcmp(v->s, s, len)) {
      v->refs++;
      return v;
    }
  if(!(v = sdc__malloc(sizeof(*v) + len + 1)))
    return NULL;
  v->refs = 1;
  v->len = len;
  v->hash = h;
  memcpy(v->s, s, len + 1);
  v->next = m->values[h % m->n_buckets];
  m->values[h % m->n_buckets] = v;
  m->n_values++;
  return v;
}

static void value_unref(sdc_metrics *m, struct label_value *v)
{
  struct label_value **pp;

  if(!v || --v->refs)
    return;
  for(pp = &m->values[v->hash % m->n_buckets]; *pp != v; pp = &(*pp)->next)
    ;
  *pp = v->next;
  m->n_values--;
  sdc_free(v);
}

static void series_free(const struct sdc_metric *f, struct series *s)
{
  if(s) {
    for(size_t i = 0; i < f->n_labels; i++)
      value_unref(f->m, s->v[i]);
    sdc_free(s->counts);
    sdc_free(s);
  }
}

static void family_free(struct sdc_metric *f)
{
  if(!f)
    return;
  for(size_t i = 0; i < f->n; i++)
    series_free(f, f->s[i]);
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
  sdc_free(m->values); /* every value went with its last series */
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
/* Are `values` all there (one per label)? */
static bool values_ok(const struct sdc_metric *f, const char *const *values)
{
  for(size_t i = 0; i < f->n_labels; i++)
    if(!values || !values[i])
      return false;
  return true;
}

static int series_cmp(const struct sdc_metric *f, const struct series *s,
                      const char *const *values)
{
  for(size_t i = 0; i < f->n_labels; i++) {
    int c = strcmp(s->v[i]->s, values[i]);
    if(c)
      return c;
  }
  return 0;
}

/* Index of the series of `values`, or where it would go (*found false). */
static size_t find(const struct sdc_metric *f, const char *const *values, bool *found)
{
  size_t lo = 0, hi = f->n;

  while(lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = series_cmp(f, f->s[mid], values);
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
  struct series *s;
  size_t at;
  bool found;

  if(!values_ok(f, values)) {
    *st = SDC_EINVAL;
    return NULL;
  }
  at = find(f, values, &found);
  if(found)
    return f->s[at];
  *st = create ? SDC_ENOMEM : SDC_ENOTFOUND;
  if(!create)
    return NULL;
  if(f->n == f->cap) {
    size_t cap = f->cap ? f->cap * 2 : 8;
    struct series **g = sdc__realloc(f->s, cap * sizeof(*g));
    if(!g)
      return NULL;
    f->s = g;
    f->cap = cap;
  }
  if(!(s = sdc__calloc(1, sizeof(*s) + f->n_labels * sizeof(s->v[0]))) ||
     (f->type == SDC_METRIC_HISTOGRAM &&
      !(s->counts = sdc__calloc(f->n_buckets + 1, sizeof(uint64_t))))) {
    sdc_free(s);
    return NULL;
  }
  for(size_t i = 0; i < f->n_labels; i++)
    if(!(s->v[i] = value_ref(f->m, values[i]))) {
      series_free(f, s);
      return NULL;
    }
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
  size_t at;
  bool found = false;

  if(!f)
    return SDC_EINVAL;
  if(!values_ok(f, values))
    return SDC_EINVAL;
  pthread_mutex_lock(&f->m->lock);
  at = find(f, values, &found);
  if(found) {
    series_free(f, f->s[at]);
    memmove(&f->s[at], &f->s[at + 1], (f->n - at - 1) * sizeof(*f->s));
    f->n--;
  }
  pthread_mutex_unlock(&f->m->lock);
  return found ? SDC_OK : SDC_ENOTFOUND;
}
