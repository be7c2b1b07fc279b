/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Registry seed files, e.g. deploy/config/registry.yaml:
 *
 *   project: demo-project          # defaults for short namespace names
 *   location: us-central1
 *   namespaces:
 *     - name: demo                 # an id, or a full resource name
 *       labels: {team: platform}
 *       services:
 *         - name: webhook
 *           annotations: {owner: sre}
 *           endpoints:
 *             - name: ep-1
 *               address: 127.0.0.1
 *               port: 8443
 *               network: projects/123/locations/global/networks/default
 *
 * Field names are Service Directory's REST names. Every value goes through
 * the same RPC code as a client's request (registry.c), so the rules and
 * messages are the API's own; this file adds where in the YAML it happened.
 * Two passes: the first applies the whole file to a scratch in-memory store,
 * so every value is checked by the API's own code before the real store
 * sees a single write; the second applies it to the real store.
 */
#include "seed.h"

#include "num.h"

#include "google/cloud/servicedirectory/v1/registration_service.pb-c.h"
#include "registry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define PB(x) google__cloud__servicedirectory__v1__##x
#define PBT(x) Google__Cloud__Servicedirectory__V1__##x

struct ctx {
  yaml_document_t doc;
  const char *path;
  char *err;
  size_t errlen;
  const char *project, *location;
  struct lsd_registry *reg;
  struct seed_stats *stats;
};

static int fail_at(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_at(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
  char msg[700];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  snprintf(c->err, c->errlen, "%s:%zu:%zu: %s", c->path,
           n ? n->start_mark.line + 1 : 0, n ? n->start_mark.column + 1 : 0,
           msg);
  return -1;
}

static size_t edit_distance(const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b), prev[32], cur[32];

  if(la > 30 || lb > 30)
    return 99;
  for(size_t j = 0; j <= lb; j++)
    prev[j] = j;
  for(size_t i = 1; i <= la; i++) {
    cur[0] = i;
    for(size_t j = 1; j <= lb; j++) {
      size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
      size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
      cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
    }
    memcpy(prev, cur, sizeof(cur));
  }
  return prev[lb];
}

static const char *scalar(const yaml_node_t *n)
{
  return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value
                                          : NULL;
}

/* Check that every key of mapping `n` is one of `keys`. */
static int check_keys(struct ctx *c, yaml_node_t *n, const char *what,
                      const char *const *keys)
{
  for(yaml_node_pair_t *p = n->data.mapping.pairs.start;
      p < n->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(&c->doc, p->key);
    const char *ks = scalar(k), *best = NULL;
    size_t bestd = 3;
    bool ok = false;
    if(!ks)
      return fail_at(c, k, "keys of %s must be plain strings", what);
    for(size_t i = 0; keys[i]; i++) {
      size_t d = edit_distance(ks, keys[i]);
      if(!d)
        ok = true;
      if(d < bestd) {
        bestd = d;
        best = keys[i];
      }
    }
    if(ok)
      continue;
    if(best)
      return fail_at(c, k, "unknown key '%s' in %s; did you mean '%s'?", ks,
                     what, best);
    return fail_at(c, k, "unknown key '%s' in %s", ks, what);
  }
  return 0;
}

static yaml_node_t *get(struct ctx *c, yaml_node_t *map, const char *key)
{
  for(yaml_node_pair_t *p = map->data.mapping.pairs.start;
      p < map->data.mapping.pairs.top; p++) {
    const char *ks = scalar(yaml_document_get_node(&c->doc, p->key));
    if(ks && !strcmp(ks, key))
      return yaml_document_get_node(&c->doc, p->value);
  }
  return NULL;
}

/* A string->string mapping into protobuf map entries. `make` allocates one
 * entry of the right message type. */
typedef void *(*entry_new_fn)(const char *k, const char *v);

#define ENTRY_NEW(fn, T, init)                                                 \
  static void *fn(const char *k, const char *v)                                \
  {                                                                            \
    T *e = malloc(sizeof(*e));                                                 \
    if(e) {                                                                    \
      init(e);                                                                 \
      e->key = (char *)k;                                                      \
      e->value = (char *)v;                                                    \
    }                                                                          \
    return e;                                                                  \
  }
ENTRY_NEW(label_new, PBT(Namespace__LabelsEntry), PB(namespace__labels_entry__init))
ENTRY_NEW(svc_ann_new, PBT(Service__AnnotationsEntry),
          PB(service__annotations_entry__init))
ENTRY_NEW(ep_ann_new, PBT(Endpoint__AnnotationsEntry),
          PB(endpoint__annotations_entry__init))

static int read_map(struct ctx *c, yaml_node_t *n, const char *what,
                    entry_new_fn make, void ***out, size_t *count)
{
  size_t i = 0, cap;

  *out = NULL;
  *count = 0;
  if(!n)
    return 0;
  if(n->type != YAML_MAPPING_NODE)
    return fail_at(c, n, "%s must be a mapping of strings to strings", what);
  cap = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
  *out = calloc(cap ? cap : 1, sizeof(void *));
  if(!*out)
    return fail_at(c, n, "out of memory");
  for(yaml_node_pair_t *p = n->data.mapping.pairs.start;
      p < n->data.mapping.pairs.top; p++, i++) {
    yaml_node_t *kn = yaml_document_get_node(&c->doc, p->key);
    yaml_node_t *vn = yaml_document_get_node(&c->doc, p->value);
    if(!scalar(kn) || !scalar(vn))
      return fail_at(c, scalar(kn) ? vn : kn,
                     "%s must map strings to strings", what);
    (*out)[i] = make(scalar(kn), scalar(vn));
    if(!(*out)[i])
      return fail_at(c, n, "out of memory");
    *count = i + 1;
  }
  return 0;
}

static void free_entries(void **e, size_t n)
{
  for(size_t i = 0; i < n; i++)
    free(e[i]);
  free(e);
}

/* Resolve a `name:` value (an id or a full name) under `parent`. */
static int child_name(struct ctx *c, yaml_node_t *item, enum lsd_kind k,
                      const char *parent, char *parent_out, char *id_out)
{
  yaml_node_t *n = get(c, item, "name");
  const char *v = scalar(n);
  size_t plen;

  if(!v || !*v)
    return fail_at(c, item, "%s needs a 'name' (an id such as 'demo', or a "
                   "full resource name)", lsd_kind_word(k));
  if(!strchr(v, '/')) {
    snprintf(parent_out, LSD_MAX_NAME + 1, "%s", parent);
    snprintf(id_out, LSD_MAX_ID + 2, "%s", v);
    return 0;
  }
  if(lsd_name_kind(v) != (int)k)
    return fail_at(c, n, "'%s' is not a %s name", v, lsd_kind_word(k));
  plen = lsd_parent_len(v);
  if(*parent && (strlen(parent) != plen || strncmp(parent, v, plen)))
    return fail_at(c, n, "%s '%s' is not inside '%s' where it is listed", 
                   lsd_kind_word(k), v, parent);
  snprintf(parent_out, LSD_MAX_NAME + 1, "%.*s", (int)plen, v);
  snprintf(id_out, LSD_MAX_ID + 2, "%s", strrchr(v, '/') + 1);
  return 0;
}

/* Create the resource; when it exists, update every updatable field. */
static int upsert(struct ctx *c, yaml_node_t *where, enum lsd_kind k,
                  const ProtobufCMessage *create, ProtobufCMessage *update)
{
  struct lsd_reply r;
  uint8_t *buf;
  size_t n = protobuf_c_message_get_packed_size(create);
  enum lsd_method mc = k == LSD_NAMESPACE ? M_CREATE_NAMESPACE
                      : k == LSD_SERVICE ? M_CREATE_SERVICE
                                        : M_CREATE_ENDPOINT;

  buf = malloc(n ? n : 1);
  if(!buf)
    return fail_at(c, where, "out of memory");
  protobuf_c_message_pack(create, buf);
  lsd_registry_call(c->reg, mc, buf, n, &r);
  free(buf);
  lsd_reply_cleanup(&r);
  if(r.code == GRPC_STATUS_OK) {
    c->stats->created++;
    return 0;
  }
  if(r.code != GRPC_STATUS_ALREADY_EXISTS)
    return fail_at(c, where, "%s", r.err.msg);
  n = protobuf_c_message_get_packed_size(update);
  buf = malloc(n ? n : 1);
  if(!buf)
    return fail_at(c, where, "out of memory");
  protobuf_c_message_pack(update, buf);
  lsd_registry_call(c->reg, (enum lsd_method)(mc + 3), buf, n, &r);
  free(buf);
  lsd_reply_cleanup(&r);
  if(r.code != GRPC_STATUS_OK)
    return fail_at(c, where, "%s", r.err.msg);
  c->stats->updated++;
  return 0;
}

/* The update half of an upsert names every updatable field. */
static void star_mask(Google__Protobuf__FieldMask *mask)
{
  static char *star_path[] = {"*"};

  google__protobuf__field_mask__init(mask);
  mask->n_paths = 1;
  mask->paths = star_path;
}

typedef int (*item_fn)(struct ctx *c, yaml_node_t *item, const char *parent);

/* Run `fn` on each item of the optional list `key` of mapping `map`. */
static int each_item(struct ctx *c, yaml_node_t *map, const char *key,
                     item_fn fn, const char *parent)
{
  yaml_node_t *list = get(c, map, key);

  if(!list)
    return 0;
  if(list->type != YAML_SEQUENCE_NODE)
    return fail_at(c, list, "%s must be a list", key);
  for(yaml_node_item_t *i = list->data.sequence.items.start;
      i < list->data.sequence.items.top; i++)
    if(fn(c, yaml_document_get_node(&c->doc, *i), parent))
      return -1;
  return 0;
}

/* An optional string field: "" when absent, an error when not a scalar. */
static int opt_string(struct ctx *c, yaml_node_t *item, const char *key,
                      char **out)
{
  yaml_node_t *n = get(c, item, key);

  *out = (char *)"";
  if(!n)
    return 0;
  if(!scalar(n))
    return fail_at(c, n, "%s must be a string", key);
  *out = (char *)scalar(n);
  return 0;
}

static int read_port(struct ctx *c, yaml_node_t *item, int32_t *out)
{
  yaml_node_t *n = get(c, item, "port");
  const char *v = scalar(n);
  unsigned long long port;

  *out = 0;
  if(!n)
    return 0;
  if(!svc_parse_uint(v, 0, 65535, &port))
    return fail_at(c, n, "port must be a whole number from 0 to 65535");
  *out = (int32_t)port;
  return 0;
}

static int do_endpoint(struct ctx *c, yaml_node_t *item, const char *svc)
{
  static const char *const keys[] = {"name", "address", "port", "network",
                                     "annotations", "uid", NULL};
  char parent[LSD_MAX_NAME + 1], id[LSD_MAX_ID + 2], full[LSD_MAX_NAME * 2];
  PBT(Endpoint) ep, upd;
  PBT(CreateEndpointRequest) cr;
  PBT(UpdateEndpointRequest) ur;
  Google__Protobuf__FieldMask mask;
  int rc;

  if(item->type != YAML_MAPPING_NODE)
    return fail_at(c, item, "each endpoint must be a mapping");
  PB(endpoint__init)(&ep);
  if(check_keys(c, item, "an endpoint", keys) ||
     child_name(c, item, LSD_ENDPOINT, svc, parent, id) ||
     opt_string(c, item, "address", &ep.address) ||
     opt_string(c, item, "network", &ep.network) ||
     read_port(c, item, &ep.port))
    return -1;
  if(read_map(c, get(c, item, "annotations"), "annotations", ep_ann_new,
              (void ***)&ep.annotations, &ep.n_annotations)) {
    free_entries((void **)ep.annotations, ep.n_annotations);
    return -1;
  }
  PB(create_endpoint_request__init)(&cr);
  cr.parent = parent;
  cr.endpoint_id = id;
  cr.endpoint = &ep;
  snprintf(full, sizeof(full), "%s/endpoints/%s", parent, id);
  star_mask(&mask);
  upd = ep;
  upd.name = full;
  PB(update_endpoint_request__init)(&ur);
  ur.endpoint = &upd; /* network is immutable: an update keeps the first */
  ur.update_mask = &mask;
  rc = upsert(c, item, LSD_ENDPOINT, &cr.base, &ur.base);
  free_entries((void **)ep.annotations, ep.n_annotations);
  return rc;
}

static int do_service(struct ctx *c, yaml_node_t *item, const char *ns)
{
  static const char *const keys[] = {"name", "annotations", "endpoints", "uid",
                                     NULL};
  char parent[LSD_MAX_NAME + 1], id[LSD_MAX_ID + 2], full[LSD_MAX_NAME * 2];
  PBT(Service) sv;
  PBT(CreateServiceRequest) cr;
  PBT(UpdateServiceRequest) ur;
  Google__Protobuf__FieldMask mask;
  int rc = 0;

  if(item->type != YAML_MAPPING_NODE)
    return fail_at(c, item, "each service must be a mapping");
  if(check_keys(c, item, "a service", keys) ||
     child_name(c, item, LSD_SERVICE, ns, parent, id))
    return -1;
  PB(service__init)(&sv);
  if(read_map(c, get(c, item, "annotations"), "annotations", svc_ann_new,
              (void ***)&sv.annotations, &sv.n_annotations)) {
    free_entries((void **)sv.annotations, sv.n_annotations);
    return -1;
  }
  snprintf(full, sizeof(full), "%s/services/%s", parent, id);
  {
    PB(create_service_request__init)(&cr);
    cr.parent = parent;
    cr.service_id = id;
    cr.service = &sv;
    star_mask(&mask);
    PBT(Service) upd = sv;
    upd.name = full;
    PB(update_service_request__init)(&ur);
    ur.service = &upd;
    ur.update_mask = &mask;
    rc = upsert(c, item, LSD_SERVICE, &cr.base, &ur.base);
  }
  free_entries((void **)sv.annotations, sv.n_annotations);
  return rc ? rc : each_item(c, item, "endpoints", do_endpoint, full);
}

static int do_namespace(struct ctx *c, yaml_node_t *item, const char *unused)
{
  static const char *const keys[] = {"name", "labels", "services", "uid", NULL};
  char parent[LSD_MAX_NAME + 1], id[LSD_MAX_ID + 2], full[LSD_MAX_NAME * 2];
  char loc[LSD_MAX_NAME + 1] = "";
  PBT(Namespace) ns;
  PBT(CreateNamespaceRequest) cr;
  PBT(UpdateNamespaceRequest) ur;
  Google__Protobuf__FieldMask mask;
  yaml_node_t *name;
  int rc = 0;

  (void)unused; /* namespaces take their parent from project/location */
  if(item->type != YAML_MAPPING_NODE)
    return fail_at(c, item, "each namespace must be a mapping");
  if(check_keys(c, item, "a namespace", keys))
    return -1;
  name = get(c, item, "name");
  if(scalar(name) && !strchr(scalar(name), '/')) {
    if(!c->project || !c->location)
      return fail_at(c, name, "namespace '%s' is a short name: give its full "
                     "name (projects/P/locations/L/namespaces/%s) or set "
                     "'project' and 'location' at the top of the file",
                     scalar(name), scalar(name));
    snprintf(loc, sizeof(loc), "projects/%s/locations/%s", c->project,
             c->location);
  }
  if(child_name(c, item, LSD_NAMESPACE, loc, parent, id))
    return -1;
  PB(namespace__init)(&ns);
  if(read_map(c, get(c, item, "labels"), "labels", label_new,
              (void ***)&ns.labels, &ns.n_labels)) {
    free_entries((void **)ns.labels, ns.n_labels);
    return -1;
  }
  snprintf(full, sizeof(full), "%s/namespaces/%s", parent, id);
  {
    PB(create_namespace_request__init)(&cr);
    cr.parent = parent;
    cr.namespace_id = id;
    cr.namespace_ = &ns;
    star_mask(&mask);
    PBT(Namespace) upd = ns;
    upd.name = full;
    PB(update_namespace_request__init)(&ur);
    ur.namespace_ = &upd;
    ur.update_mask = &mask;
    rc = upsert(c, item, LSD_NAMESPACE, &cr.base, &ur.base);
  }
  free_entries((void **)ns.labels, ns.n_labels);
  return rc ? rc : each_item(c, item, "services", do_service, full);
}

static int walk(struct ctx *c)
{
  static const char *const keys[] = {"project", "location", "namespaces", NULL};
  yaml_node_t *root = yaml_document_get_root_node(&c->doc);

  if(!root)
    return fail_at(c, NULL, "the file is empty; see deploy/config/registry.yaml "
                   "for an example");
  if(root->type != YAML_MAPPING_NODE)
    return fail_at(c, root, "the top level must be a mapping with "
                   "'namespaces' (and optionally 'project', 'location')");
  if(check_keys(c, root, "the top level", keys))
    return -1;
  c->project = scalar(get(c, root, "project"));
  c->location = scalar(get(c, root, "location"));
  return each_item(c, root, "namespaces", do_namespace, "");
}

int lsd_seed_load(struct lsd_registry *reg, const char *path,
                 struct seed_stats *stats, char *err, size_t errlen)
{
  struct ctx c = {.path = path, .err = err, .errlen = errlen, .reg = reg,
                  .stats = stats};
  yaml_parser_t parser;
  FILE *f = fopen(path, "rb");
  int rc;

  memset(stats, 0, sizeof(*stats));
  if(!f) {
    snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    return -1;
  }
  yaml_parser_initialize(&parser);
  yaml_parser_set_input_file(&parser, f);
  if(!yaml_parser_load(&parser, &c.doc)) {
    snprintf(err, errlen, "%s:%zu:%zu: YAML syntax: %s%s%s", path,
             parser.problem_mark.line + 1, parser.problem_mark.column + 1,
             parser.problem ? parser.problem : "error",
             parser.context ? " " : "", parser.context ? parser.context : "");
    yaml_parser_delete(&parser);
    fclose(f);
    return -1;
  }
  yaml_parser_delete(&parser);
  fclose(f);
  /* pass 1: a dry run on a scratch store, so a mistake anywhere in the
   * file leaves the real registry untouched */
  {
    struct lsd_registry *scratch = NULL;
    struct lsd_err e = {0};
    struct seed_stats dry;
    if(lsd_registry_open(&scratch, NULL, &e)) {
      snprintf(err, errlen, "%s: %s", path, e.msg);
      yaml_document_delete(&c.doc);
      return -1;
    }
    c.reg = scratch;
    c.stats = &dry;
    memset(&dry, 0, sizeof(dry));
    rc = walk(&c);
    lsd_registry_close(scratch);
    c.reg = reg;
    c.stats = stats;
  }
  if(!rc)
    rc = walk(&c);
  yaml_document_delete(&c.doc);
  return rc;
}
