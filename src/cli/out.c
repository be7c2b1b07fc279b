/* SPDX-License-Identifier: Apache-2.0 */
#include "out.h"

#include <stdio.h>
#include <string.h>

static void set_str(json_t *o, const char *k, const char *v)
{
  if(v && *v)
    json_object_set_new(o, k, json_string(v));
}

static void set_map(json_t *o, const char *k, const sdc_kv *kv, size_t n)
{
  json_t *m;

  if(!n)
    return;
  m = json_object();
  for(size_t i = 0; i < n; i++)
    json_object_set_new(m, kv[i].key, json_string(kv[i].value));
  json_object_set_new(o, k, m);
}

json_t *json_resource(const sdc_sd_resource *r)
{
  json_t *o = json_object();

  set_str(o, "name", r->name);
  if(r->kind == SDC_SD_ENDPOINT) {
    set_str(o, "address", r->address);
    if(r->port)
      json_object_set_new(o, "port", json_integer(r->port));
  }
  set_map(o, r->kind == SDC_SD_NAMESPACE ? "labels" : "annotations", r->kv,
          r->n_kv);
  if(r->kind == SDC_SD_ENDPOINT)
    set_str(o, "network", r->network);
  set_str(o, "uid", r->uid);
  return o;
}

json_t *json_service(const sdc_service *s)
{
  json_t *o = json_object(), *eps = json_array();

  set_str(o, "name", s->name);
  for(size_t i = 0; i < s->n_endpoints; i++) {
    const sdc_endpoint *e = sdc_service_endpoint(s, i);
    json_t *je = json_object();
    set_str(je, "name", e->name);
    set_str(je, "address", e->address);
    if(e->port)
      json_object_set_new(je, "port", json_integer(e->port));
    set_map(je, "annotations", e->annotations, e->n_annotations);
    set_str(je, "network", e->network);
    set_str(je, "uid", e->uid);
    json_array_append_new(eps, je);
  }
  if(s->n_endpoints)
    json_object_set_new(o, "endpoints", eps);
  else
    json_decref(eps);
  set_map(o, "annotations", s->annotations, s->n_annotations);
  set_str(o, "uid", s->uid);
  return o;
}

void json_print(json_t *j)
{
  json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
  putchar('\n');
  json_decref(j);
}

static void print_map(const char *key, const sdc_kv *kv, size_t n)
{
  if(!n)
    return;
  printf("%s:\n", key);
  for(size_t i = 0; i < n; i++)
    printf("  %s: %s\n", kv[i].key, kv[i].value);
}

void print_resource(const sdc_sd_resource *r)
{
  printf("name: %s\n", r->name);
  if(r->kind == SDC_SD_ENDPOINT) {
    if(*r->address)
      printf("address: %s\n", r->address);
    if(r->port)
      printf("port: %d\n", r->port);
    if(*r->network)
      printf("network: %s\n", r->network);
  }
  print_map(r->kind == SDC_SD_NAMESPACE ? "labels" : "annotations", r->kv,
            r->n_kv);
  printf("uid: %s\n", r->uid);
}

static const char *id_of(const char *name)
{
  const char *s = strrchr(name, '/');
  return s ? s + 1 : name;
}

static void kv_join(const sdc_kv *kv, size_t n, char *out, size_t cap)
{
  size_t o = 0;

  out[0] = '\0';
  for(size_t i = 0; i < n && o < cap; i++)
    o += (size_t)snprintf(out + o, cap - o, "%s%s=%s", i ? "," : "", kv[i].key,
                          kv[i].value);
}

void print_service(const sdc_service *s)
{
  char ann[1024];

  kv_join(s->annotations, s->n_annotations, ann, sizeof(ann));
  printf("service: %s\n", s->name);
  if(*ann)
    printf("annotations: %s\n", ann);
  printf("endpoints: %zu\n\n", s->n_endpoints);
  if(!s->n_endpoints)
    return;
  printf("%-24s %-39s %-6s %s\n", "ENDPOINT", "ADDRESS", "PORT", "ANNOTATIONS");
  for(size_t i = 0; i < s->n_endpoints; i++) {
    const sdc_endpoint *e = sdc_service_endpoint(s, i);
    kv_join(e->annotations, e->n_annotations, ann, sizeof(ann));
    printf("%-24s %-39s %-6d %s%s\n", id_of(e->name),
           *e->address ? e->address : "-", e->port, ann,
           e->usable ? "" : (*e->address ? "  (not usable: port 0)"
                                         : "  (not usable: no address)"));
  }
}

void print_rows(sdc_sd_kind kind, const sdc_sd_page *page, int header)
{
  char kv[1024];

  if(header && kind == SDC_SD_ENDPOINT)
    printf("%-24s %-39s %-6s %s\n", "NAME", "ADDRESS", "PORT", "ANNOTATIONS");
  else if(header)
    printf("%-32s %s\n", "NAME", kind == SDC_SD_NAMESPACE ? "LABELS"
                                                           : "ANNOTATIONS");
  for(size_t i = 0; i < page->n; i++) {
    const sdc_sd_resource *r = sdc_sd_page_item(page, i);
    kv_join(r->kv, r->n_kv, kv, sizeof(kv));
    if(kind == SDC_SD_ENDPOINT)
      printf("%-24s %-39s %-6d %s\n", id_of(r->name),
             *r->address ? r->address : "-", r->port, kv);
    else
      printf("%-32s %s\n", id_of(r->name), kv);
  }
}
