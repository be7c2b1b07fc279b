/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IMPLEMENTATION NOTES
 * - Decoded answers are flattened into one allocation each: the public
 *   struct, then its arrays, then every string. One malloc and one free per
 *   answer, and a resolved service can be shared between callers with a
 *   reference count in a hidden header in front of it.
 * - Two passes over the protobuf message: measure, then copy.
 */
#include "codec.h"

#include "core/core.h"
#include "google/cloud/servicedirectory/v1/lookup_service.pb-c.h"
#include "google/cloud/servicedirectory/v1/registration_service.pb-c.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <string.h>

/* Set when a decode ran out of memory: protobuf-c answers NULL both for
 * bytes that do not decode and for a failed allocation. */
static _Thread_local bool decode_oom;

bool sdc__decode_ran_out(void)
{
  bool o = decode_oom;
  decode_oom = false;
  return o;
}

static void *pb_malloc(void *ud, size_t size)
{
  void *p;

  (void)ud;
  if(!(p = sdc__malloc(size)))
    decode_oom = true;
  return p;
}

static void pb_free(void *ud, void *p)
{
  (void)ud;
  sdc_free(p);
}

ProtobufCAllocator sdc__pb_alloc = {pb_malloc, pb_free, NULL};

#define PB(x) google__cloud__servicedirectory__v1__##x
#define PBT(x) Google__Cloud__Servicedirectory__V1__##x

/* ---- a bump allocator over one block ------------------------------------ */
struct flat {
  char *p;      /* NULL while measuring */
  size_t used;
};

static void *flat_take(struct flat *f, size_t n, size_t align)
{
  size_t at = (f->used + align - 1) / align * align;

  f->used = at + n;
  return f->p ? f->p + at : NULL;
}

static const char *flat_str(struct flat *f, const char *s)
{
  size_t n = strlen(s ? s : "") + 1;
  char *d = flat_take(f, n, 1);

  if(d)
    memcpy(d, s ? s : "", n);
  return d ? d : "";
}

/* Copy a map (all entry types are {base, key, value}). */
#define FLAT_KV(f, entries, n, out_kv)                                         \
  do {                                                                         \
    sdc_kv *kv_ = flat_take((f), (n) * sizeof(sdc_kv), alignof(sdc_kv));       \
    for(size_t i_ = 0; i_ < (n); i_++) {                                       \
      const char *k_ = flat_str((f), (entries)[i_]->key);                      \
      const char *v_ = flat_str((f), (entries)[i_]->value);                    \
      if(kv_) {                                                                \
        kv_[i_].key = k_;                                                      \
        kv_[i_].value = v_;                                                    \
      }                                                                        \
    }                                                                          \
    (out_kv) = kv_;                                                            \
  } while(0)

/* ---- resolved services --------------------------------------------------- */
struct svc_block {
  atomic_int refs;
  sdc_service svc;
};

static void flat_endpoint(struct flat *f, const PBT(Endpoint) *e, sdc_endpoint *out)
{
  const sdc_kv *kv = NULL;
  const char *name = flat_str(f, e->name), *addr = flat_str(f, e->address);
  const char *net = flat_str(f, e->network), *uid = flat_str(f, e->uid);

  FLAT_KV(f, e->annotations, e->n_annotations, kv);
  if(!out)
    return;
  out->name = name;
  out->address = addr;
  out->port = e->port;
  out->network = net;
  out->uid = uid;
  out->n_annotations = e->n_annotations;
  out->annotations = kv;
  out->usable = e->address[0] && e->port > 0 && e->port <= 65535;
}

static void flat_service(struct flat *f, const PBT(Service) *s)
{
  struct svc_block *b = flat_take(f, sizeof(*b), alignof(struct svc_block));
  sdc_endpoint *eps = flat_take(f, s->n_endpoints * sizeof(*eps),
                                alignof(sdc_endpoint));
  const sdc_kv *kv = NULL;
  const char *name = flat_str(f, s->name), *uid = flat_str(f, s->uid);

  FLAT_KV(f, s->annotations, s->n_annotations, kv);
  for(size_t i = 0; i < s->n_endpoints; i++)
    flat_endpoint(f, s->endpoints[i], eps ? &eps[i] : NULL);
  if(!b)
    return;
  atomic_init(&b->refs, 1);
  b->svc.name = name;
  b->svc.uid = uid;
  b->svc.n_annotations = s->n_annotations;
  b->svc.annotations = kv;
  b->svc.n_endpoints = s->n_endpoints;
  b->svc.endpoints = eps;
}

const sdc_service *sdc__service_decode(const uint8_t *buf, size_t len, int *oom)
{
  PBT(ResolveServiceResponse) *r;
  struct flat f = {NULL, 0};
  struct svc_block *b;

  decode_oom = false;
  r = PB(resolve_service_response__unpack)(&sdc__pb_alloc, len, buf);
  *oom = decode_oom;
  decode_oom = false;
  if(!r || !r->service) {
    if(r)
      PB(resolve_service_response__free_unpacked)(r, &sdc__pb_alloc);
    return NULL;
  }
  flat_service(&f, r->service);
  f.p = sdc__malloc(f.used);
  if(!f.p) {
    *oom = 1;
    PB(resolve_service_response__free_unpacked)(r, &sdc__pb_alloc);
    return NULL;
  }
  f.used = 0;
  flat_service(&f, r->service);
  PB(resolve_service_response__free_unpacked)(r, &sdc__pb_alloc);
  b = (struct svc_block *)f.p;
  return &b->svc;
}

static struct svc_block *block_of(const sdc_service *s)
{
  return (struct svc_block *)((char *)(uintptr_t)s - offsetof(struct svc_block, svc));
}

const sdc_service *sdc__service_ref(const sdc_service *s)
{
  atomic_fetch_add(&block_of(s)->refs, 1);
  return s;
}

void sdc_service_release(const sdc_service *s)
{
  struct svc_block *b;

  if(!s)
    return;
  b = block_of(s);
  if(atomic_fetch_sub(&b->refs, 1) == 1)
    sdc_free(b);
}

/* ---- requests ------------------------------------------------------------ */
static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
  size_t n = protobuf_c_message_get_packed_size(m);
  uint8_t *buf = sdc__malloc(n ? n : 1);

  if(buf)
    *len = protobuf_c_message_pack(m, buf);
  return buf;
}

uint8_t *sdc__encode_resolve(const char *name, int max, const char *filter,
                             size_t *len)
{
  PBT(ResolveServiceRequest) r = GOOGLE__CLOUD__SERVICEDIRECTORY__V1__RESOLVE_SERVICE_REQUEST__INIT;

  r.name = (char *)name;
  r.max_endpoints = max;
  r.endpoint_filter = (char *)(filter ? filter : "");
  return pack(&r.base, len);
}

uint8_t *sdc__encode_name(const char *name, size_t *len)
{
  PBT(GetNamespaceRequest) r = GOOGLE__CLOUD__SERVICEDIRECTORY__V1__GET_NAMESPACE_REQUEST__INIT;

  r.name = (char *)name;
  return pack(&r.base, len);
}

uint8_t *sdc__encode_list(const char *parent, const sdc_sd_list_opts *o,
                          size_t *len)
{
  /* the three List requests share one shape: parent 1, page_size 2,
   * page_token 3, filter 4, order_by 5 */
  PBT(ListEndpointsRequest) r = GOOGLE__CLOUD__SERVICEDIRECTORY__V1__LIST_ENDPOINTS_REQUEST__INIT;

  r.parent = (char *)parent;
  if(o) {
    r.page_size = o->page_size;
    r.page_token = (char *)(o->page_token ? o->page_token : "");
    r.filter = (char *)(o->filter ? o->filter : "");
    r.order_by = (char *)(o->order_by ? o->order_by : "");
  }
  return pack(&r.base, len);
}

/* protobuf map entries pointing at the caller's strings (no copies). */
struct entries {
  PBT(Endpoint__AnnotationsEntry) *items; /* same layout for all three */
  void **ptrs;
};

static int entries_make(struct entries *e, const sdc_kv *kv, size_t n,
                        const ProtobufCMessageDescriptor *d)
{
  e->items = sdc__calloc(n ? n : 1, sizeof(*e->items));
  e->ptrs = sdc__calloc(n ? n : 1, sizeof(void *));
  if(!e->items || !e->ptrs)
    return -1;
  for(size_t i = 0; i < n; i++) {
    protobuf_c_message_init(d, &e->items[i]);
    e->items[i].key = (char *)kv[i].key;
    e->items[i].value = (char *)kv[i].value;
    e->ptrs[i] = &e->items[i];
  }
  return 0;
}

static void entries_free(struct entries *e)
{
  sdc_free(e->items);
  sdc_free(e->ptrs);
}

/* Build the resource message of `in` and pack `wrap(msg)`. */
static uint8_t *encode_resource(const sdc_sd_resource *in, int create,
                                const char *parent, const char *id,
                                const char *const *mask, size_t n_mask,
                                size_t *len)
{
  struct entries e = {0};
  uint8_t *out = NULL;
  Google__Protobuf__FieldMask fm = GOOGLE__PROTOBUF__FIELD_MASK__INIT;
  const ProtobufCMessageDescriptor *d =
      in->kind == SDC_SD_NAMESPACE ? &PB(namespace__labels_entry__descriptor)
      : in->kind == SDC_SD_SERVICE ? &PB(service__annotations_entry__descriptor)
                                   : &PB(endpoint__annotations_entry__descriptor);

  if(entries_make(&e, in->kv, in->n_kv, d))
    goto out;
  fm.n_paths = n_mask;
  fm.paths = (char **)(uintptr_t)mask;
  if(in->kind == SDC_SD_NAMESPACE) {
    PBT(Namespace) m = GOOGLE__CLOUD__SERVICEDIRECTORY__V1__NAMESPACE__INIT;
    m.name = (char *)(create ? "" : in->name);
    m.n_labels = in->n_kv;
    m.labels = (PBT(Namespace__LabelsEntry) **)e.ptrs;
    if(create) {
      PBT(CreateNamespaceRequest) r = GOOGLE__CLOUD__SERVICEDIRECTORY__V1__CREATE_NAMESPACE_REQUEST__INIT;
      r.parent = (char *)parent;
      r.namespace_id = (char *)id;
      r.namespace_ = &m;
      out = pack(&r.base, len);
    } else {
      PBT(UpdateNamespaceRequest) r = GOOGLE__CLOUD__SERVICEDIRECTORY__V1__UPDATE_NAMESPACE_REQUEST__INIT;
      r.namespace_ = &m;
      r.update_mask = &fm;
      out = pack(&r.base, len);
    }
  } else if(in->kind == SDC_SD_SERVICE) {
    PBT(Service) m = GOOGLE__CLOUD__SERVICEDIRECTORY__V1__SERVICE__INIT;
    m.name = (char *)(create ? "" : in->name);
    m.n_annotations = in->n_kv;
    m.annotations = (PBT(Service__AnnotationsEntry) **)e.ptrs;
    if(create) {
      PBT(CreateServiceRequest) r = GOOGLE__CLOUD__SERVICEDIRECTORY__V1__CREATE_SERVICE_REQUEST__INIT;
      r.parent = (char *)parent;
      r.service_id = (char *)id;
      r.service = &m;
      out = pack(&r.base, len);
    } else {
      PBT(UpdateServiceRequest) r = GOOGLE__CLOUD__SERVICEDIRECTORY__V1__UPDATE_SERVICE_REQUEST__INIT;
      r.service = &m;
      r.update_mask = &fm;
      out = pack(&r.base, len);
    }
  } else {
    PBT(Endpoint) m = GOOGLE__CLOUD__SERVICEDIRECTORY__V1__ENDPOINT__INIT;
    m.name = (char *)(create ? "" : in->name);
    m.address = (char *)(in->address ? in->address : "");
    m.port = in->port;
    m.network = (char *)(in->network ? in->network : "");
    m.n_annotations = in->n_kv;
    m.annotations = (PBT(Endpoint__AnnotationsEntry) **)e.ptrs;
    if(create) {
      PBT(CreateEndpointRequest) r = GOOGLE__CLOUD__SERVICEDIRECTORY__V1__CREATE_ENDPOINT_REQUEST__INIT;
      r.parent = (char *)parent;
      r.endpoint_id = (char *)id;
      r.endpoint = &m;
      out = pack(&r.base, len);
    } else {
      PBT(UpdateEndpointRequest) r = GOOGLE__CLOUD__SERVICEDIRECTORY__V1__UPDATE_ENDPOINT_REQUEST__INIT;
      r.endpoint = &m;
      r.update_mask = &fm;
      out = pack(&r.base, len);
    }
  }
out:
  entries_free(&e);
  return out;
}

uint8_t *sdc__encode_create(const sdc_sd_resource *in, const char *parent,
                            const char *id, size_t *len)
{
  return encode_resource(in, 1, parent, id, NULL, 0, len);
}

uint8_t *sdc__encode_update(const sdc_sd_resource *in,
                            const char *const *mask, size_t n_mask,
                            size_t *len)
{
  return encode_resource(in, 0, NULL, NULL, mask, n_mask, len);
}

/* ---- registration answers ------------------------------------------------ */
static void flat_resource(struct flat *f, sdc_sd_kind kind,
                          const ProtobufCMessage *m, sdc_sd_resource *out)
{
  const sdc_kv *kv = NULL;
  size_t n = 0;
  const char *name, *uid, *addr = "", *net = "";
  int port = 0;

  if(kind == SDC_SD_NAMESPACE) {
    const PBT(Namespace) *ns = (const PBT(Namespace) *)m;
    name = flat_str(f, ns->name);
    uid = flat_str(f, ns->uid);
    n = ns->n_labels;
    FLAT_KV(f, ns->labels, n, kv);
  } else if(kind == SDC_SD_SERVICE) {
    const PBT(Service) *sv = (const PBT(Service) *)m;
    name = flat_str(f, sv->name);
    uid = flat_str(f, sv->uid);
    n = sv->n_annotations;
    FLAT_KV(f, sv->annotations, n, kv);
  } else {
    const PBT(Endpoint) *ep = (const PBT(Endpoint) *)m;
    name = flat_str(f, ep->name);
    uid = flat_str(f, ep->uid);
    addr = flat_str(f, ep->address);
    net = flat_str(f, ep->network);
    port = ep->port;
    n = ep->n_annotations;
    FLAT_KV(f, ep->annotations, n, kv);
  }
  if(!out)
    return;
  out->kind = kind;
  out->name = name;
  out->uid = uid;
  out->n_kv = n;
  out->kv = kv;
  out->address = addr;
  out->port = port;
  out->network = net;
}

static const ProtobufCMessageDescriptor *kind_desc(sdc_sd_kind k)
{
  return k == SDC_SD_NAMESPACE ? &PB(namespace__descriptor)
         : k == SDC_SD_SERVICE ? &PB(service__descriptor)
                               : &PB(endpoint__descriptor);
}

sdc_sd_resource *sdc__resource_decode(sdc_sd_kind kind, const uint8_t *buf,
                                      size_t len)
{
  ProtobufCMessage *m;
  struct flat f = {NULL, 0};
  sdc_sd_resource *res;

  decode_oom = false;
  if(!(m = protobuf_c_message_unpack(kind_desc(kind), &sdc__pb_alloc, len, buf)))
    return NULL;
  flat_take(&f, sizeof(*res), alignof(sdc_sd_resource));
  flat_resource(&f, kind, m, NULL);
  f.p = sdc__calloc(1, f.used); /* zeroed: a decoded resource is not a built one */
  if(f.p) {
    f.used = 0;
    res = flat_take(&f, sizeof(*res), alignof(sdc_sd_resource));
    flat_resource(&f, kind, m, res);
  } else {
    decode_oom = true;
  }
  protobuf_c_message_free_unpacked(m, &sdc__pb_alloc);
  return (sdc_sd_resource *)f.p;
}


/* The List responses differ only in their repeated field's type. */
static void flat_page(struct flat *f, sdc_sd_kind kind, ProtobufCMessage *m)
{
  size_t n;
  ProtobufCMessage **items;
  const char *token;
  sdc_sd_page *page = flat_take(f, sizeof(*page), alignof(sdc_sd_page));
  sdc_sd_resource *res;

  if(kind == SDC_SD_NAMESPACE) {
    PBT(ListNamespacesResponse) *r = (PBT(ListNamespacesResponse) *)m;
    n = r->n_namespaces;
    items = (ProtobufCMessage **)r->namespaces;
    token = r->next_page_token;
  } else if(kind == SDC_SD_SERVICE) {
    PBT(ListServicesResponse) *r = (PBT(ListServicesResponse) *)m;
    n = r->n_services;
    items = (ProtobufCMessage **)r->services;
    token = r->next_page_token;
  } else {
    PBT(ListEndpointsResponse) *r = (PBT(ListEndpointsResponse) *)m;
    n = r->n_endpoints;
    items = (ProtobufCMessage **)r->endpoints;
    token = r->next_page_token;
  }
  res = flat_take(f, n * sizeof(*res), alignof(sdc_sd_resource));
  for(size_t i = 0; i < n; i++)
    flat_resource(f, kind, items[i], res ? &res[i] : NULL);
  token = flat_str(f, token);
  if(page) {
    page->n = n;
    page->items = res;
    page->next_page_token = token;
  }
}

sdc_sd_page *sdc__page_decode(sdc_sd_kind kind, const uint8_t *buf, size_t len)
{
  const ProtobufCMessageDescriptor *d =
      kind == SDC_SD_NAMESPACE ? &PB(list_namespaces_response__descriptor)
      : kind == SDC_SD_SERVICE ? &PB(list_services_response__descriptor)
                               : &PB(list_endpoints_response__descriptor);
  ProtobufCMessage *m;
  struct flat f = {NULL, 0};

  decode_oom = false;
  if(!(m = protobuf_c_message_unpack(d, &sdc__pb_alloc, len, buf)))
    return NULL;
  flat_page(&f, kind, m);
  f.p = sdc__calloc(1, f.used); /* zeroed: decoded items are not built ones */
  if(f.p) {
    f.used = 0;
    flat_page(&f, kind, m);
  } else {
    decode_oom = true;
  }
  protobuf_c_message_free_unpacked(m, &sdc__pb_alloc);
  return (sdc_sd_page *)f.p;
}

void sdc_sd_page_free(sdc_sd_page *page) { sdc_free(page); }

const sdc_sd_resource *sdc_sd_page_item(const sdc_sd_page *page, size_t i)
{
  return page && i < page->n ? &page->items[i] : NULL;
}

const sdc_endpoint *sdc_service_endpoint(const sdc_service *s, size_t i)
{
  return s && i < s->n_endpoints ? &s->endpoints[i] : NULL;
}
