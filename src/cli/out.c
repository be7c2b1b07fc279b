/* SPDX-License-Identifier: Apache-2.0 */
#include "out.h"

#include <stdbool.h>
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

/* A resource's labels or annotations, as Service Directory names them. */
static const char *kv_word(const sdc_sd_resource *r)
{
  return sdc_sd_resource_kind(r) == SDC_SD_NAMESPACE ? "labels" : "annotations";
}

json_t *json_resource(const sdc_sd_resource *r)
{
  json_t *o = json_object(), *m = json_object();
  bool endpoint = sdc_sd_resource_kind(r) == SDC_SD_ENDPOINT;

  set_str(o, "name", sdc_sd_resource_name(r));
  if(endpoint) {
    set_str(o, "address", sdc_sd_resource_address(r));
    if(sdc_sd_resource_port(r))
      json_object_set_new(o, "port", json_integer(sdc_sd_resource_port(r)));
  }
  for(size_t i = 0; m && i < sdc_sd_resource_kv_count(r); i++) {
    const sdc_kv *kv = sdc_sd_resource_kv(r, i);
    json_object_set_new(m, kv->key, json_string(kv->value));
  }
  if(json_object_size(m))
    json_object_set(o, kv_word(r), m);
  json_decref(m);
  if(endpoint)
    set_str(o, "network", sdc_sd_resource_network(r));
  set_str(o, "uid", sdc_sd_resource_uid(r));
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

void print_resource(const sdc_sd_resource *r)
{
  printf("name: %s\n", sdc_sd_resource_name(r));
  if(sdc_sd_resource_kind(r) == SDC_SD_ENDPOINT) {
    if(*sdc_sd_resource_address(r))
      printf("address: %s\n", sdc_sd_resource_address(r));
    if(sdc_sd_resource_port(r))
      printf("port: %d\n", sdc_sd_resource_port(r));
    if(*sdc_sd_resource_network(r))
      printf("network: %s\n", sdc_sd_resource_network(r));
  }
  if(sdc_sd_resource_kv_count(r))
    printf("%s:\n", kv_word(r));
  for(size_t i = 0; i < sdc_sd_resource_kv_count(r); i++)
    printf("  %s: %s\n", sdc_sd_resource_kv(r, i)->key, sdc_sd_resource_kv(r, i)->value);
  printf("uid: %s\n", sdc_sd_resource_uid(r));
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

void print_rows(sdc_sd_kind kind, const sdc_sd_page *page, size_t n, int header)
{
  char kv[1024];

  if(header && kind == SDC_SD_ENDPOINT)
    printf("%-24s %-39s %-6s %s\n", "NAME", "ADDRESS", "PORT", "ANNOTATIONS");
  else if(header)
    printf("%-32s %s\n", "NAME", kind == SDC_SD_NAMESPACE ? "LABELS"
                                                           : "ANNOTATIONS");
  for(size_t i = 0; i < n && i < sdc_sd_page_count(page); i++) {
    const sdc_sd_resource *r = sdc_sd_page_item(page, i);
    size_t o = 0;
    kv[0] = '\0';
    for(size_t k = 0; k < sdc_sd_resource_kv_count(r) && o < sizeof(kv); k++)
      o += (size_t)snprintf(kv + o, sizeof(kv) - o, "%s%s=%s", k ? "," : "",
                            sdc_sd_resource_kv(r, k)->key, sdc_sd_resource_kv(r, k)->value);
    if(kind == SDC_SD_ENDPOINT)
      printf("%-24s %-39s %-6d %s\n", id_of(sdc_sd_resource_name(r)),
             *sdc_sd_resource_address(r) ? sdc_sd_resource_address(r) : "-",
             sdc_sd_resource_port(r), kv);
    else
      printf("%-32s %s\n", id_of(sdc_sd_resource_name(r)), kv);
  }
}
