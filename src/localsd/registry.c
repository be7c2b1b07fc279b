/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IMPLEMENTATION NOTES
 * - Rows hold each resource as its packed protobuf. Get answers those bytes
 *   as they are; List and ResolveService build their responses by framing
 *   stored bytes (a repeated message field is tag, length, bytes), so a
 *   resource is decoded only when a filter or a non-name order must look at
 *   it.
 * - Create and update build the stored message as a shallow copy of the
 *   request's message with name and uid (and, on update, the masked fields)
 *   swapped in, so no ownership ever moves between protobuf-c messages.
 * - Paging: plain name order pages by key ("after this name"), which stays
 *   correct under concurrent writes and costs O(page) per call; any other
 *   order sorts the matching set and pages by offset.
 * - ResolveService answers are cached by request bytes and store write
 *   generation (resolve_cache.c): a hit skips the store and its lock, and
 *   any write makes every entry stale at once.
 * - Statuses follow the facts sheet (section 10): NOT_FOUND names the first
 *   missing ancestor, INVALID_ARGUMENT names the field, never UNKNOWN.
 */
#include "registry.h"

#include "resolve_cache.h"

#include "google/cloud/servicedirectory/v1/lookup_service.pb-c.h"
#include "google/cloud/servicedirectory/v1/registration_service.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef Google__Cloud__Servicedirectory__V1__Namespace pb_namespace;
typedef Google__Cloud__Servicedirectory__V1__Service pb_service;
typedef Google__Cloud__Servicedirectory__V1__Endpoint pb_endpoint;
#define PB(x) google__cloud__servicedirectory__v1__##x
#define PBT(x) Google__Cloud__Servicedirectory__V1__##x

#define LSD_PKG "/google.cloud.servicedirectory.v1."
static const struct {
  const char *path;
  const char *name;
} methods[M_COUNT] = {
    [M_RESOLVE_SERVICE] = {LSD_PKG "LookupService/ResolveService", "ResolveService"},
#define REG(m, n) [m] = {LSD_PKG "RegistrationService/" n, n}
    REG(M_CREATE_NAMESPACE, "CreateNamespace"),
    REG(M_LIST_NAMESPACES, "ListNamespaces"),
    REG(M_GET_NAMESPACE, "GetNamespace"),
    REG(M_UPDATE_NAMESPACE, "UpdateNamespace"),
    REG(M_DELETE_NAMESPACE, "DeleteNamespace"),
    REG(M_CREATE_SERVICE, "CreateService"),
    REG(M_LIST_SERVICES, "ListServices"),
    REG(M_GET_SERVICE, "GetService"),
    REG(M_UPDATE_SERVICE, "UpdateService"),
    REG(M_DELETE_SERVICE, "DeleteService"),
    REG(M_CREATE_ENDPOINT, "CreateEndpoint"),
    REG(M_LIST_ENDPOINTS, "ListEndpoints"),
    REG(M_GET_ENDPOINT, "GetEndpoint"),
    REG(M_UPDATE_ENDPOINT, "UpdateEndpoint"),
    REG(M_DELETE_ENDPOINT, "DeleteEndpoint"),
    REG(M_GET_IAM_POLICY, "GetIamPolicy"),
    REG(M_SET_IAM_POLICY, "SetIamPolicy"),
    REG(M_TEST_IAM_PERMISSIONS, "TestIamPermissions"),
#undef REG
};

const char *lsd_method_path(enum lsd_method m) { return methods[m].path; }
const char *lsd_method_name(enum lsd_method m) { return methods[m].name; }

int lsd_method_lookup(const char *path, size_t len)
{
  for(int m = 0; m < M_COUNT; m++)
    if(strlen(methods[m].path) == len && !memcmp(methods[m].path, path, len))
      return m;
  return -1;
}

struct lsd_registry {
  struct store *store;
  struct rcache *resolves;
};

grpc_status_code lsd_registry_open(struct lsd_registry **out, const char *path,
                                  struct lsd_err *e)
{
  struct lsd_registry *r = calloc(1, sizeof(*r));

  if(!r || !(r->resolves = rcache_new())) {
    free(r);
    return lsd_fail(e, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  }
  if(store_open(&r->store, path, e)) {
    rcache_free(r->resolves);
    free(r);
    return e->code;
  }
  *out = r;
  return GRPC_STATUS_OK;
}

void lsd_registry_close(struct lsd_registry *r)
{
  if(!r)
    return;
  store_close(r->store);
  rcache_free(r->resolves);
  free(r);
}

struct store *lsd_registry_store(struct lsd_registry *r) { return r->store; }

/* ---- growable output buffer with protobuf framing ------------------------ */
struct wbuf {
  uint8_t *p;
  size_t len, cap;
  bool oom;
};

static void wb_put(struct wbuf *b, const void *data, size_t n)
{
  if(b->oom)
    return;
  if(b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    uint8_t *p;
    while(cap < b->len + n)
      cap *= 2;
    p = realloc(b->p, cap);
    if(!p) {
      b->oom = true;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, data, n);
  b->len += n;
}

static void wb_varint(struct wbuf *b, uint64_t v)
{
  uint8_t tmp[10];
  size_t n = 0;

  do {
    tmp[n] = (uint8_t)(v & 0x7f);
    v >>= 7;
    if(v)
      tmp[n] |= 0x80;
    n++;
  } while(v);
  wb_put(b, tmp, n);
}

/* A length-delimited field (wire type 2). */
static void wb_field(struct wbuf *b, unsigned field, const void *data, size_t n)
{
  wb_varint(b, (uint64_t)field << 3 | 2);
  wb_varint(b, n);
  wb_put(b, data, n);
}

static void reply_take(struct lsd_reply *out, struct wbuf *b)
{
  if(b->oom) {
    free(b->p);
    lsd_fail(&out->err, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    out->code = out->err.code;
    return;
  }
  out->code = GRPC_STATUS_OK;
  out->body = b->p;
  out->len = b->len;
}

/* ---- per-kind resource helpers ------------------------------------------ */
static const ProtobufCMessageDescriptor *kind_desc(enum lsd_kind k)
{
  switch(k) {
  case LSD_NAMESPACE: return &PB(namespace__descriptor);
  case LSD_SERVICE: return &PB(service__descriptor);
  default: return &PB(endpoint__descriptor);
  }
}

static const char *kind_collection(enum lsd_kind k)
{
  return k == LSD_NAMESPACE ? "namespaces"
         : k == LSD_SERVICE ? "services"
                           : "endpoints";
}

/* All three map-entry types are {base, key, value}; copy their pointers. */
#define KV_FILL(dst, entries, n)                                               \
  do {                                                                         \
    for(size_t i_ = 0; i_ < (n); i_++) {                                       \
      (dst)[i_].key = (entries)[i_]->key;                                      \
      (dst)[i_].value = (entries)[i_]->value;                                  \
    }                                                                          \
  } while(0)

static size_t res_n_kv(enum lsd_kind k, const ProtobufCMessage *m)
{
  switch(k) {
  case LSD_NAMESPACE: return ((const pb_namespace *)m)->n_labels;
  case LSD_SERVICE: return ((const pb_service *)m)->n_annotations;
  default: return ((const pb_endpoint *)m)->n_annotations;
  }
}

/* Fill a view of `m`; `kv` must hold res_n_kv() entries. */
static void res_view(enum lsd_kind k, const ProtobufCMessage *m,
                     struct lsd_view *v, struct lsd_kv *kv)
{
  memset(v, 0, sizeof(*v));
  v->kind = k;
  v->address = "";
  v->kv = kv;
  if(k == LSD_NAMESPACE) {
    const pb_namespace *ns = (const pb_namespace *)m;
    v->name = ns->name;
    v->n_kv = ns->n_labels;
    KV_FILL(kv, ns->labels, ns->n_labels);
  } else if(k == LSD_SERVICE) {
    const pb_service *sv = (const pb_service *)m;
    v->name = sv->name;
    v->n_kv = sv->n_annotations;
    KV_FILL(kv, sv->annotations, sv->n_annotations);
  } else {
    const pb_endpoint *ep = (const pb_endpoint *)m;
    v->name = ep->name;
    v->address = ep->address;
    v->port = ep->port;
    v->n_kv = ep->n_annotations;
    KV_FILL(kv, ep->annotations, ep->n_annotations);
  }
}

/* Check every user-settable field of `m`; `prefix` is the request field
 * ("namespace", "endpoint") so messages read "endpoint.port: ...". */
static grpc_status_code res_validate(enum lsd_kind k, const ProtobufCMessage *m,
                                     const char *prefix, struct lsd_err *e)
{
  size_t n = res_n_kv(k, m);
  struct lsd_kv *kv = malloc((n ? n : 1) * sizeof(*kv));
  struct lsd_view v;
  char field[64];
  grpc_status_code rc;

  if(!kv)
    return lsd_fail(e, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  res_view(k, m, &v, kv);
  if(k == LSD_NAMESPACE) {
    snprintf(field, sizeof(field), "%s.labels", prefix);
    rc = lsd_check_labels(kv, n, field, e);
  } else {
    snprintf(field, sizeof(field), "%s.annotations", prefix);
    rc = lsd_check_annotations(kv, n,
                              k == LSD_SERVICE ? LSD_MAX_SERVICE_ANNOTATION_CHARS
                                              : LSD_MAX_ENDPOINT_ANNOTATION_CHARS,
                              field, e);
  }
  free(kv);
  if(rc || k != LSD_ENDPOINT)
    return rc;
  snprintf(field, sizeof(field), "%s.address", prefix);
  rc = lsd_check_address(((const pb_endpoint *)m)->address, field, e);
  if(rc)
    return rc;
  snprintf(field, sizeof(field), "%s.port", prefix);
  rc = lsd_check_port(((const pb_endpoint *)m)->port, field, e);
  if(rc)
    return rc;
  snprintf(field, sizeof(field), "%s.network", prefix);
  return lsd_check_network(((const pb_endpoint *)m)->network, field, e);
}

static grpc_status_code pack_msg(const ProtobufCMessage *m, uint8_t **out,
                                 size_t *len, struct lsd_err *e)
{
  size_t n = protobuf_c_message_get_packed_size(m);
  uint8_t *p = malloc(n ? n : 1);

  if(!p)
    return lsd_fail(e, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  *len = protobuf_c_message_pack(m, p);
  *out = p;
  return GRPC_STATUS_OK;
}

/* Pack `m` as stored: with `name` and `uid` swapped in and output-only
 * fields the client may have sent dropped. */
static grpc_status_code res_pack_stored(enum lsd_kind k,
                                        const ProtobufCMessage *m,
                                        const char *name, const char *uid,
                                        uint8_t **out, size_t *len,
                                        struct lsd_err *e)
{
  if(k == LSD_NAMESPACE) {
    pb_namespace c = *(const pb_namespace *)m;
    c.name = (char *)name;
    c.uid = (char *)uid;
    return pack_msg(&c.base, out, len, e);
  }
  if(k == LSD_SERVICE) {
    pb_service c = *(const pb_service *)m;
    c.name = (char *)name;
    c.uid = (char *)uid;
    c.n_endpoints = 0;
    c.endpoints = NULL;
    return pack_msg(&c.base, out, len, e);
  }
  pb_endpoint c = *(const pb_endpoint *)m;
  c.name = (char *)name;
  c.uid = (char *)uid;
  return pack_msg(&c.base, out, len, e);
}

/* Explain a NOT_FOUND for `name` (of kind k): name the first level of its
 * path that does not exist (namespace, then service, then itself). */
static grpc_status_code explain_missing(struct store *s, const char *name,
                                        enum lsd_kind k, struct lsd_err *e)
{
  char buf[LSD_MAX_NAME + 1];
  size_t len = strlen(name);

  /* Walk from the namespace down and name the first level that is absent. */
  for(enum lsd_kind lvl = LSD_NAMESPACE; lvl <= k; lvl++) {
    size_t cut = len;
    const char *p = name;
    int slashes = 0, want = 2 * (int)lvl + 3;
    for(size_t i = 0; i < len; i++)
      if(p[i] == '/' && ++slashes == want + 1) {
        cut = i;
        break;
      }
    memcpy(buf, name, cut);
    buf[cut] = '\0';
    if(lvl < k && store_exists(s, buf, e) == GRPC_STATUS_OK)
      continue;
    if(lvl < k && e->code == GRPC_STATUS_INTERNAL)
      return e->code;
    return lsd_fail(e, GRPC_STATUS_NOT_FOUND, "%s '%s' not found%s",
                   lsd_kind_word(lvl), buf,
                   lvl < k ? " (it holds the resource asked for)" : "");
  }
  return lsd_fail(e, GRPC_STATUS_NOT_FOUND, "'%s' not found", name);
}

/* ---- Get / Delete ------------------------------------------------------- */
static void do_get(struct store *s, enum lsd_kind k, const char *name,
                   struct lsd_reply *out)
{
  struct lsd_err *e = &out->err;

  if(lsd_check_name(name, k, "name", e))
    return;
  store_lock(s);
  out->code = store_get(s, name, &out->body, &out->len, e);
  if(out->code == GRPC_STATUS_NOT_FOUND)
    explain_missing(s, name, k, e);
  store_unlock(s);
}

static void do_delete(struct store *s, enum lsd_kind k, const char *name,
                      struct lsd_reply *out)
{
  struct lsd_err *e = &out->err;

  if(lsd_check_name(name, k, "name", e))
    return;
  store_lock(s);
  out->code = store_delete(s, name, e);
  if(out->code == GRPC_STATUS_NOT_FOUND)
    explain_missing(s, name, k, e);
  store_unlock(s);
}

/* ---- Create ------------------------------------------------------------- */
static void do_create(struct store *s, enum lsd_kind k, const char *parent,
                      const char *id, const char *id_field,
                      const ProtobufCMessage *msg, struct lsd_reply *out)
{
  struct lsd_err *e = &out->err;
  const char *word = lsd_kind_word(k);
  char name[LSD_MAX_NAME + 1], uid[37];
  uint8_t *body = NULL;
  size_t len = 0;
  ProtobufCMessage *empty = NULL;

  if(lsd_check_name(parent, (enum lsd_kind)(k - 1), "parent", e))
    return;
  if(!id || !*id) {
    lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT, "%s is required", id_field);
    return;
  }
  if(!lsd_valid_id(id)) {
    lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT,
            "%s: '%.100s' is not a valid id: use 1-63 lowercase letters, "
            "digits or '-', starting with a letter and not ending with '-'",
            id_field, id);
    return;
  }
  if(snprintf(name, sizeof(name), "%s/%s/%s", parent, kind_collection(k), id) >=
     (int)sizeof(name)) {
    lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT, "resource name is too long");
    return;
  }
  if(!msg) { /* an absent message creates a resource with no fields set */
    empty = protobuf_c_message_unpack(kind_desc(k), NULL, 0, (const uint8_t *)"");
    if(!empty) {
      lsd_fail(e, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
      return;
    }
    msg = empty;
  }
  if(res_validate(k, msg, word, e))
    goto out;
  if(!lsd_uuid4(uid)) {
    lsd_fail(e, GRPC_STATUS_INTERNAL, "no randomness for a uid");
    goto out;
  }
  if(res_pack_stored(k, msg, name, uid, &body, &len, e))
    goto out;
  store_lock(s);
  if(k > LSD_NAMESPACE && store_exists(s, parent, e) != GRPC_STATUS_OK) {
    if(e->code != GRPC_STATUS_INTERNAL)
      explain_missing(s, parent, (enum lsd_kind)(k - 1), e);
  } else if(store_insert(s, k, name, strlen(parent), body, len, e) ==
            GRPC_STATUS_ALREADY_EXISTS) {
    lsd_fail(e, GRPC_STATUS_ALREADY_EXISTS, "%s '%s' already exists", word,
            name);
  }
  store_unlock(s);
  if(!e->code) {
    out->code = GRPC_STATUS_OK;
    out->body = body;
    out->len = len;
    body = NULL;
  }
out:
  free(body);
  if(empty)
    protobuf_c_message_free_unpacked(empty, NULL);
}

/* ---- Update ------------------------------------------------------------- */
static bool mask_has(const Google__Protobuf__FieldMask *mask, const char *path)
{
  for(size_t i = 0; i < mask->n_paths; i++)
    if(!strcmp(mask->paths[i], path) || !strcmp(mask->paths[i], "*"))
      return true;
  return false;
}

/* Reject paths the resource cannot update. */
static grpc_status_code check_mask(enum lsd_kind k,
                                   const Google__Protobuf__FieldMask *mask,
                                   struct lsd_err *e)
{
  static const char *const ns_paths[] = {"labels", NULL};
  static const char *const sv_paths[] = {"annotations", NULL};
  static const char *const ep_paths[] = {"address", "port", "annotations", NULL};
  const char *const *ok = k == LSD_NAMESPACE ? ns_paths
                          : k == LSD_SERVICE ? sv_paths
                                            : ep_paths;
  const char *list = k == LSD_NAMESPACE ? "labels"
                     : k == LSD_SERVICE ? "annotations"
                                       : "address, port, annotations";

  if(!mask || mask->n_paths == 0)
    return lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT,
                   "update_mask is required: name the fields to change (%s)",
                   list);
  for(size_t i = 0; i < mask->n_paths; i++) {
    const char *p = mask->paths[i];
    bool found = !strcmp(p, "*");
    for(size_t j = 0; ok[j] && !found; j++)
      found = !strcmp(p, ok[j]);
    if(found)
      continue;
    if(!strcmp(p, "name") || !strcmp(p, "uid") || !strcmp(p, "network"))
      return lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT,
                     "update_mask: %s.%s cannot be changed after create",
                     lsd_kind_word(k), p);
    return lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT,
                   "update_mask: unknown field '%.100s' for a %s; updatable "
                   "fields are %s",
                   p, lsd_kind_word(k), list);
  }
  return GRPC_STATUS_OK;
}

/* Pack `stored` with the masked fields taken from `patch`. */
static grpc_status_code merge_pack(enum lsd_kind k, const ProtobufCMessage *stored,
                                   const ProtobufCMessage *patch,
                                   const Google__Protobuf__FieldMask *mask,
                                   uint8_t **out, size_t *len, struct lsd_err *e)
{
  if(k == LSD_NAMESPACE) {
    pb_namespace c = *(const pb_namespace *)stored;
    const pb_namespace *p = (const pb_namespace *)patch;
    if(mask_has(mask, "labels")) {
      c.n_labels = p->n_labels;
      c.labels = p->labels;
    }
    if(res_validate(k, &c.base, "namespace", e))
      return e->code;
    return pack_msg(&c.base, out, len, e);
  }
  if(k == LSD_SERVICE) {
    pb_service c = *(const pb_service *)stored;
    const pb_service *p = (const pb_service *)patch;
    if(mask_has(mask, "annotations")) {
      c.n_annotations = p->n_annotations;
      c.annotations = p->annotations;
    }
    if(res_validate(k, &c.base, "service", e))
      return e->code;
    return pack_msg(&c.base, out, len, e);
  }
  pb_endpoint c = *(const pb_endpoint *)stored;
  const pb_endpoint *p = (const pb_endpoint *)patch;
  if(mask_has(mask, "annotations")) {
    c.n_annotations = p->n_annotations;
    c.annotations = p->annotations;
  }
  if(mask_has(mask, "address"))
    c.address = p->address;
  if(mask_has(mask, "port"))
    c.port = p->port;
  if(res_validate(k, &c.base, "endpoint", e))
    return e->code;
  return pack_msg(&c.base, out, len, e);
}

static void do_update(struct store *s, enum lsd_kind k,
                      const ProtobufCMessage *patch, const char *patch_name,
                      const Google__Protobuf__FieldMask *mask,
                      struct lsd_reply *out)
{
  struct lsd_err *e = &out->err;
  char field[32];
  uint8_t *old = NULL, *body = NULL;
  size_t old_len = 0, len = 0;
  ProtobufCMessage *stored = NULL;

  snprintf(field, sizeof(field), "%s.name", lsd_kind_word(k));
  if(!patch) {
    lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT, "%s is required",
            lsd_kind_word(k));
    return;
  }
  if(lsd_check_name(patch_name, k, field, e) || check_mask(k, mask, e))
    return;
  store_lock(s);
  out->code = store_get(s, patch_name, &old, &old_len, e);
  if(out->code == GRPC_STATUS_NOT_FOUND) {
    explain_missing(s, patch_name, k, e);
    goto out;
  }
  if(out->code)
    goto out;
  stored = protobuf_c_message_unpack(kind_desc(k), NULL, old_len, old);
  if(!stored) {
    lsd_fail(e, GRPC_STATUS_INTERNAL, "stored %s '%s' does not decode",
            lsd_kind_word(k), patch_name);
    goto out;
  }
  if(merge_pack(k, stored, patch, mask, &body, &len, e))
    goto out;
  if(store_replace(s, patch_name, body, len, e))
    goto out;
  out->body = body;
  out->len = len;
  body = NULL;
out:
  store_unlock(s);
  if(e->code)
    out->code = e->code;
  else if(!out->body)
    out->code = GRPC_STATUS_INTERNAL;
  else
    out->code = GRPC_STATUS_OK;
  free(old);
  free(body);
  if(stored)
    protobuf_c_message_free_unpacked(stored, NULL);
}

/* ---- List and Resolve: scanning with filters ----------------------------- */
struct item {
  const uint8_t *body; /* points into `bytes` */
  size_t len;
  ProtobufCMessage *msg; /* decoded, when sorting needs it */
  struct lsd_view view;
  struct lsd_kv *kv;
};

struct scan {
  enum lsd_kind kind;
  const struct lsd_filter *filter;
  size_t want;        /* stop after this many matches (0: no limit) */
  bool keep_decoded;  /* sorting needs views after the scan */
  struct item *items;
  size_t n, cap;
  struct wbuf bytes;  /* copies of the matching bodies */
  size_t *offsets;    /* where each item's body starts in bytes */
  char page_last[LSD_MAX_NAME + 1]; /* name of match want-1: a page's end */
  struct lsd_err *e;
  bool failed;
};

static void item_free(struct item *it)
{
  if(it->msg)
    protobuf_c_message_free_unpacked(it->msg, NULL);
  free(it->kv);
}

static bool scan_row(void *ctx, const char *name, const uint8_t *body,
                     size_t len)
{
  struct scan *sc = ctx;
  struct item it = {0};

  if(sc->filter || sc->keep_decoded) {
    it.msg = protobuf_c_message_unpack(kind_desc(sc->kind), NULL, len, body);
    if(!it.msg) {
      lsd_fail(sc->e, GRPC_STATUS_INTERNAL, "stored resource '%s' does not "
              "decode", name);
      sc->failed = true;
      return false;
    }
    it.kv = malloc((res_n_kv(sc->kind, it.msg) + 1) * sizeof(*it.kv));
    if(!it.kv)
      goto oom;
    res_view(sc->kind, it.msg, &it.view, it.kv);
    if(!lsd_filter_match(sc->filter, &it.view)) {
      item_free(&it);
      return true;
    }
    if(!sc->keep_decoded) {
      item_free(&it);
      it.msg = NULL;
      it.kv = NULL;
    }
  }
  if(sc->n == sc->cap) {
    size_t cap = sc->cap ? sc->cap * 2 : 64;
    struct item *p = realloc(sc->items, cap * sizeof(*p));
    size_t *o = realloc(sc->offsets, cap * sizeof(*o));
    if(p)
      sc->items = p;
    if(o)
      sc->offsets = o;
    if(!p || !o)
      goto oom;
    sc->cap = cap;
  }
  sc->offsets[sc->n] = sc->bytes.len;
  wb_put(&sc->bytes, body, len);
  if(sc->bytes.oom)
    goto oom;
  it.len = len;
  sc->items[sc->n++] = it;
  if(sc->want && sc->n == sc->want - 1)
    snprintf(sc->page_last, sizeof(sc->page_last), "%s", name);
  return !(sc->want && sc->n >= sc->want);
oom:
  item_free(&it);
  lsd_fail(sc->e, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  sc->failed = true;
  return false;
}

static void scan_cleanup(struct scan *sc)
{
  for(size_t i = 0; i < sc->n; i++)
    item_free(&sc->items[i]);
  free(sc->items);
  free(sc->offsets);
  free(sc->bytes.p);
}

/* Item bodies point into the byte buffer, which may move while scanning:
 * fix them up once the scan is over. */
static void scan_fix(struct scan *sc)
{
  for(size_t i = 0; i < sc->n; i++)
    sc->items[i].body = sc->bytes.p + sc->offsets[i];
}

static _Thread_local const struct lsd_order *sort_order;

static int item_cmp(const void *a, const void *b)
{
  return lsd_order_compare(sort_order, &((const struct item *)a)->view,
                          &((const struct item *)b)->view);
}

static void do_resolve(struct lsd_registry *reg, const uint8_t *req, size_t len,
                       struct lsd_reply *out)
{
  struct store *s = reg->store;
  struct lsd_err *e = &out->err;
  PBT(ResolveServiceRequest) *r = NULL;
  struct lsd_filter *f = NULL;
  struct scan sc = {.kind = LSD_ENDPOINT, .e = e};
  struct wbuf svc = {0}, resp = {0};
  uint8_t *sbody = NULL;
  size_t slen = 0;
  uint64_t gen = 0;
  int32_t max;

  if(rcache_get(reg->resolves, store_generation(s), req, len, &out->body,
                &out->len)) {
    out->code = GRPC_STATUS_OK;
    return;
  }
  r = PB(resolve_service_request__unpack)(NULL, len, req);
  if(!r) {
    lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT, "request does not decode as a "
            "ResolveServiceRequest");
    goto out;
  }
  if(lsd_check_name(r->name, LSD_SERVICE, "name", e) ||
     lsd_filter_compile(r->endpoint_filter, LSD_ENDPOINT, "endpoint_filter", &f, e))
    goto out;
  max = r->max_endpoints < 1 ? 25 : r->max_endpoints > 100 ? 100 : r->max_endpoints;
  sc.filter = f;
  sc.want = (size_t)max;
  store_lock(s);
  gen = store_generation(s); /* the answer below is exactly this snapshot */
  if(store_get(s, r->name, &sbody, &slen, e) == GRPC_STATUS_NOT_FOUND)
    explain_missing(s, r->name, LSD_SERVICE, e);
  else if(!e->code)
    store_scan(s, LSD_ENDPOINT, r->name, NULL, false, scan_row, &sc, e);
  store_unlock(s);
  if(e->code)
    goto out;
  scan_fix(&sc);
  wb_put(&svc, sbody, slen);
  for(size_t i = 0; i < sc.n; i++)
    wb_field(&svc, 3, sc.items[i].body, sc.items[i].len); /* Service.endpoints */
  wb_field(&resp, 1, svc.p, svc.len); /* ResolveServiceResponse.service */
  if(svc.oom)
    resp.oom = true;
  reply_take(out, &resp);
  if(out->code == GRPC_STATUS_OK)
    rcache_put(reg->resolves, gen, req, len, out->body, out->len);
out:
  if(e->code)
    out->code = e->code;
  free(sbody);
  free(svc.p);
  scan_cleanup(&sc);
  lsd_filter_free(f);
  if(r)
    PB(resolve_service_request__free_unpacked)(r, NULL);
}

struct list_args {
  const char *parent;
  int32_t page_size;
  const char *page_token;
  const char *filter;
  const char *order_by;
};

static void do_list(struct store *s, enum lsd_kind k, const struct list_args *a,
                    struct lsd_reply *out)
{
  struct lsd_err *e = &out->err;
  struct lsd_filter *f = NULL;
  struct lsd_order order;
  struct lsd_page_pos pos = {0};
  struct scan sc = {.kind = k, .e = e};
  struct wbuf resp = {0};
  uint8_t digest[8];
  size_t page, first = 0, end;
  bool desc = false, by_name, more = false;
  char *token = NULL;

  if(lsd_check_name(a->parent, (enum lsd_kind)(k - 1), "parent", e))
    goto out;
  if(a->page_size < 0) {
    lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT,
            "page_size: %d is negative; give 0 for the default or a positive "
            "number", a->page_size);
    goto out;
  }
  page = a->page_size == 0 ? LSD_DEFAULT_PAGE_SIZE
         : a->page_size > LSD_MAX_PAGE_SIZE ? LSD_MAX_PAGE_SIZE
                                           : (size_t)a->page_size;
  if(lsd_filter_compile(a->filter, k, "filter", &f, e) ||
     lsd_order_parse(a->order_by, k, &order, e))
    goto out;
  lsd_token_query_digest(a->parent, a->filter, a->order_by, digest);
  by_name = lsd_order_is_name_only(&order, &desc);
  if(*a->page_token &&
     lsd_token_decode(store_token_key(s), digest, a->page_token, &pos, e))
    goto out;
  if(*a->page_token && pos.by_name != by_name) {
    lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT, "page_token was issued for a "
            "different order_by");
    goto out;
  }
  sc.filter = f;
  sc.want = by_name ? page + 1 : 0; /* one extra tells whether more follow */
  sc.keep_decoded = !by_name;
  store_lock(s);
  if(k > LSD_NAMESPACE && store_exists(s, a->parent, e) != GRPC_STATUS_OK) {
    if(e->code != GRPC_STATUS_INTERNAL)
      explain_missing(s, a->parent, (enum lsd_kind)(k - 1), e);
  } else {
    store_scan(s, k, a->parent, by_name && pos.after[0] ? pos.after : NULL,
               desc, scan_row, &sc, e);
  }
  store_unlock(s);
  if(e->code)
    goto out;
  scan_fix(&sc);
  if(by_name) {
    end = sc.n > page ? page : sc.n;
    more = sc.n > page;
  } else {
    sort_order = &order;
    if(sc.n > 1) /* qsort's array may not be NULL, even when empty */
      qsort(sc.items, sc.n, sizeof(*sc.items), item_cmp);
    first = pos.offset < sc.n ? (size_t)pos.offset : sc.n;
    end = sc.n - first > page ? first + page : sc.n;
    more = end < sc.n;
  }
  for(size_t i = first; i < end; i++)
    wb_field(&resp, 1, sc.items[i].body, sc.items[i].len);
  if(more) {
    struct lsd_page_pos next = {.by_name = by_name, .offset = end};
    /* by name, the scan stopped one match past the page; the page's last
     * name was noted as it went by */
    if(by_name)
      memcpy(next.after, sc.page_last, sizeof(next.after));
    token = lsd_token_encode(store_token_key(s), digest, &next);
    if(!token)
      resp.oom = true;
    else
      wb_field(&resp, 2, token, strlen(token));
  }
  reply_take(out, &resp);
out:
  if(e->code)
    out->code = e->code;
  free(token);
  scan_cleanup(&sc);
  lsd_filter_free(f);
}

/* ---- dispatch ------------------------------------------------------------ */
#define UNPACK_OR_FAIL(var, type, fn, what)                                    \
  type *var = fn(NULL, len, req);                                              \
  if(!var) {                                                                   \
    lsd_fail(&out->err, GRPC_STATUS_INVALID_ARGUMENT,                           \
            "request does not decode as a " what);                            \
    break;                                                                     \
  }

void lsd_registry_call(struct lsd_registry *reg, enum lsd_method m,
                      const uint8_t *req, size_t len, struct lsd_reply *out)
{
  struct store *s = reg->store;

  memset(out, 0, sizeof(*out));
  out->code = GRPC_STATUS_INTERNAL;
  switch(m) {
  case M_RESOLVE_SERVICE:
    do_resolve(reg, req, len, out);
    return;
  case M_CREATE_NAMESPACE: {
    UNPACK_OR_FAIL(r, PBT(CreateNamespaceRequest),
                   PB(create_namespace_request__unpack), "CreateNamespaceRequest");
    do_create(s, LSD_NAMESPACE, r->parent, r->namespace_id, "namespace_id",
              r->namespace_ ? &r->namespace_->base : NULL, out);
    PB(create_namespace_request__free_unpacked)(r, NULL);
    break;
  }
  case M_CREATE_SERVICE: {
    UNPACK_OR_FAIL(r, PBT(CreateServiceRequest), PB(create_service_request__unpack),
                   "CreateServiceRequest");
    do_create(s, LSD_SERVICE, r->parent, r->service_id, "service_id",
              r->service ? &r->service->base : NULL, out);
    PB(create_service_request__free_unpacked)(r, NULL);
    break;
  }
  case M_CREATE_ENDPOINT: {
    UNPACK_OR_FAIL(r, PBT(CreateEndpointRequest),
                   PB(create_endpoint_request__unpack), "CreateEndpointRequest");
    do_create(s, LSD_ENDPOINT, r->parent, r->endpoint_id, "endpoint_id",
              r->endpoint ? &r->endpoint->base : NULL, out);
    PB(create_endpoint_request__free_unpacked)(r, NULL);
    break;
  }
#define GET_OR_DELETE(M, T, fn, what, action, kind)                            \
  case M: {                                                                    \
    UNPACK_OR_FAIL(r, PBT(T), PB(fn##__unpack), what);                          \
    action(s, kind, r->name, out);                                             \
    PB(fn##__free_unpacked)(r, NULL);                                          \
    break;                                                                     \
  }
    GET_OR_DELETE(M_GET_NAMESPACE, GetNamespaceRequest, get_namespace_request,
                  "GetNamespaceRequest", do_get, LSD_NAMESPACE)
    GET_OR_DELETE(M_GET_SERVICE, GetServiceRequest, get_service_request,
                  "GetServiceRequest", do_get, LSD_SERVICE)
    GET_OR_DELETE(M_GET_ENDPOINT, GetEndpointRequest, get_endpoint_request,
                  "GetEndpointRequest", do_get, LSD_ENDPOINT)
    GET_OR_DELETE(M_DELETE_NAMESPACE, DeleteNamespaceRequest,
                  delete_namespace_request, "DeleteNamespaceRequest", do_delete,
                  LSD_NAMESPACE)
    GET_OR_DELETE(M_DELETE_SERVICE, DeleteServiceRequest, delete_service_request,
                  "DeleteServiceRequest", do_delete, LSD_SERVICE)
    GET_OR_DELETE(M_DELETE_ENDPOINT, DeleteEndpointRequest,
                  delete_endpoint_request, "DeleteEndpointRequest", do_delete,
                  LSD_ENDPOINT)
#undef GET_OR_DELETE
  case M_UPDATE_NAMESPACE: {
    UNPACK_OR_FAIL(r, PBT(UpdateNamespaceRequest),
                   PB(update_namespace_request__unpack), "UpdateNamespaceRequest");
    do_update(s, LSD_NAMESPACE, r->namespace_ ? &r->namespace_->base : NULL,
              r->namespace_ ? r->namespace_->name : "", r->update_mask, out);
    PB(update_namespace_request__free_unpacked)(r, NULL);
    break;
  }
  case M_UPDATE_SERVICE: {
    UNPACK_OR_FAIL(r, PBT(UpdateServiceRequest), PB(update_service_request__unpack),
                   "UpdateServiceRequest");
    do_update(s, LSD_SERVICE, r->service ? &r->service->base : NULL,
              r->service ? r->service->name : "", r->update_mask, out);
    PB(update_service_request__free_unpacked)(r, NULL);
    break;
  }
  case M_UPDATE_ENDPOINT: {
    UNPACK_OR_FAIL(r, PBT(UpdateEndpointRequest),
                   PB(update_endpoint_request__unpack), "UpdateEndpointRequest");
    do_update(s, LSD_ENDPOINT, r->endpoint ? &r->endpoint->base : NULL,
              r->endpoint ? r->endpoint->name : "", r->update_mask, out);
    PB(update_endpoint_request__free_unpacked)(r, NULL);
    break;
  }
#define LIST(M, T, fn, what, kind)                                             \
  case M: {                                                                    \
    UNPACK_OR_FAIL(r, PBT(T), PB(fn##__unpack), what);                          \
    struct list_args a = {r->parent, r->page_size, r->page_token, r->filter,   \
                          r->order_by};                                        \
    do_list(s, kind, &a, out);                                                 \
    PB(fn##__free_unpacked)(r, NULL);                                          \
    break;                                                                     \
  }
    LIST(M_LIST_NAMESPACES, ListNamespacesRequest, list_namespaces_request,
         "ListNamespacesRequest", LSD_NAMESPACE)
    LIST(M_LIST_SERVICES, ListServicesRequest, list_services_request,
         "ListServicesRequest", LSD_SERVICE)
    LIST(M_LIST_ENDPOINTS, ListEndpointsRequest, list_endpoints_request,
         "ListEndpointsRequest", LSD_ENDPOINT)
#undef LIST
  case M_GET_IAM_POLICY:
  case M_SET_IAM_POLICY:
  case M_TEST_IAM_PERMISSIONS:
    lsd_fail(&out->err, GRPC_STATUS_UNIMPLEMENTED,
            "%s: this local Service Directory server runs without IAM (every "
            "caller it accepts may do everything); start it with --iam-policy "
            "FILE for policies",
            methods[m].name);
    break;
  case M_COUNT:
    lsd_fail(&out->err, GRPC_STATUS_UNIMPLEMENTED, "unknown method");
    break;
  }
  if(out->err.code)
    out->code = out->err.code;
}

void lsd_reply_cleanup(struct lsd_reply *r)
{
  free(r->body);
  r->body = NULL;
  r->len = 0;
}
