/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IAM for the local server (iam.h). The permissions are the ones Google
 * lists for Service Directory (facts sheet section 11); the roles grant
 * them as their names say (viewer: get, list, resolve; editor: and create,
 * update, delete; admin: and the IAM policy). roles/servicedirectory.
 * pscAuthorizedService grants servicedirectory.networks.access, the
 * permission that lets a service agent's traffic into a network: the
 * sheets name the role, not its permissions, so this one is our stand-in.
 *
 * IMPLEMENTATION NOTES
 * - Bindings are (resource, role, member) triples; a permission on a
 *   resource is held when a binding on it or on an ancestor grants it.
 * - The resource a call acts on is read from field 1 of its request (every
 *   Service Directory request names it there; an Update's is field 1 of
 *   the message in field 1), so no request is decoded twice.
 * - A mutex guards the bindings: SetIamPolicy changes them while other
 *   calls read them.
 */
#include "iam.h"

#include "google/iam/v1/iam_policy.pb-c.h"
#include "google/iam/v1/policy.pb-c.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define SD "servicedirectory."

struct principal {
  char *token, *member;
};

struct binding {
  char *resource, *role, *member;
};

struct lsd_iam {
  struct principal *p;
  size_t n_p;
  struct binding *b;
  size_t n_b, cap_b;
  unsigned long version; /* the etag: changes with every SetIamPolicy */
  pthread_mutex_t lock;
};

/* ---- roles ---------------------------------------------------------------- */
static const char *const viewer[] = {
    SD "namespaces.get", SD "namespaces.list", SD "services.get", SD "services.list",
    SD "services.resolve", SD "endpoints.get", SD "endpoints.list", SD "locations.get",
    SD "locations.list", NULL};
static const char *const editor[] = {
    SD "namespaces.create", SD "namespaces.update", SD "namespaces.delete",
    SD "services.create", SD "services.update", SD "services.delete", SD "endpoints.create",
    SD "endpoints.update", SD "endpoints.delete", NULL};
static const char *const admin[] = {
    SD "namespaces.getIamPolicy", SD "namespaces.setIamPolicy", SD "services.getIamPolicy",
    SD "services.setIamPolicy", NULL};

static bool in(const char *const *list, const char *perm)
{
  for(size_t i = 0; list[i]; i++)
    if(!strcmp(list[i], perm))
      return true;
  return false;
}

static bool role_grants(const char *role, const char *perm)
{
  if(!strcmp(role, "roles/owner"))
    return !strncmp(perm, SD, strlen(SD));
  if(!strcmp(role, "roles/servicedirectory.pscAuthorizedService"))
    return !strcmp(perm, SD "networks.access");
  if(!strcmp(role, "roles/servicedirectory.viewer") || !strcmp(role, "roles/viewer"))
    return in(viewer, perm);
  if(!strcmp(role, "roles/servicedirectory.editor") || !strcmp(role, "roles/editor"))
    return in(viewer, perm) || in(editor, perm);
  if(!strcmp(role, "roles/servicedirectory.admin"))
    return in(viewer, perm) || in(editor, perm) || in(admin, perm);
  return false;
}

/* ---- the file --------------------------------------------------------------- */
static const char *scalar(yaml_document_t *d, yaml_node_t *map, const char *key)
{
  for(yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
      p++) {
    yaml_node_t *k = yaml_document_get_node(d, p->key), *v = yaml_document_get_node(d, p->value);
    if(k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
      return v->type == YAML_SCALAR_NODE ? (const char *)v->data.scalar.value : NULL;
  }
  return NULL;
}

static yaml_node_t *field(yaml_document_t *d, yaml_node_t *map, const char *key)
{
  for(yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
      p++) {
    yaml_node_t *k = yaml_document_get_node(d, p->key);
    if(k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
      return yaml_document_get_node(d, p->value);
  }
  return NULL;
}

static bool add_binding(struct lsd_iam *iam, const char *resource, const char *role,
                        const char *member)
{
  struct binding *b;

  if(iam->n_b == iam->cap_b) {
    size_t cap = iam->cap_b ? iam->cap_b * 2 : 16;
    if(!(b = realloc(iam->b, cap * sizeof(*b))))
      return false;
    iam->b = b;
    iam->cap_b = cap;
  }
  b = &iam->b[iam->n_b];
  b->resource = strdup(resource);
  b->role = strdup(role);
  b->member = strdup(member);
  if(!b->resource || !b->role || !b->member) {
    free(b->resource);
    free(b->role);
    free(b->member);
    return false;
  }
  iam->n_b++;
  return true;
}

static int fail(char *err, size_t cap, const char *path, const yaml_node_t *n, const char *what)
{
  snprintf(err, cap, "%s:%zu: %s", path, n ? n->start_mark.line + 1 : 0, what);
  return -1;
}

static int load_doc(struct lsd_iam *iam, yaml_document_t *d, const char *path, char *err,
                    size_t cap)
{
  yaml_node_t *root = yaml_document_get_root_node(d), *list;

  if(!root || root->type != YAML_MAPPING_NODE)
    return fail(err, cap, path, root, "expected a mapping with 'principals' and 'bindings'");
  if((list = field(d, root, "principals"))) {
    if(list->type != YAML_SEQUENCE_NODE)
      return fail(err, cap, path, list, "'principals' is a list of {token, member}");
    for(yaml_node_item_t *i = list->data.sequence.items.start;
        i < list->data.sequence.items.top; i++) {
      yaml_node_t *p = yaml_document_get_node(d, *i);
      const char *tok = p->type == YAML_MAPPING_NODE ? scalar(d, p, "token") : NULL;
      const char *mem = p->type == YAML_MAPPING_NODE ? scalar(d, p, "member") : NULL;
      struct principal *np;
      if(!tok || !*tok || !mem || !strchr(mem, ':'))
        return fail(err, cap, path, p, "a principal needs a token and a member such as "
                    "serviceAccount:NAME@PROJECT.iam.gserviceaccount.com or user:EMAIL");
      if(!(np = realloc(iam->p, (iam->n_p + 1) * sizeof(*np))))
        return fail(err, cap, path, p, "out of memory");
      iam->p = np;
      np[iam->n_p] = (struct principal){strdup(tok), strdup(mem)};
      if(!np[iam->n_p].token || !np[iam->n_p].member)
        return fail(err, cap, path, p, "out of memory");
      iam->n_p++;
    }
  }
  if((list = field(d, root, "bindings"))) {
    if(list->type != YAML_SEQUENCE_NODE)
      return fail(err, cap, path, list, "'bindings' is a list of {resource, role, members}");
    for(yaml_node_item_t *i = list->data.sequence.items.start;
        i < list->data.sequence.items.top; i++) {
      yaml_node_t *b = yaml_document_get_node(d, *i), *mems;
      const char *res = b->type == YAML_MAPPING_NODE ? scalar(d, b, "resource") : NULL;
      const char *role = b->type == YAML_MAPPING_NODE ? scalar(d, b, "role") : NULL;
      mems = b->type == YAML_MAPPING_NODE ? field(d, b, "members") : NULL;
      if(!res || strncmp(res, "projects/", 9) || !role || strncmp(role, "roles/", 6) || !mems ||
         mems->type != YAML_SEQUENCE_NODE)
        return fail(err, cap, path, b, "a binding needs resource (projects/...), role "
                    "(roles/...) and members (a list)");
      for(yaml_node_item_t *m = mems->data.sequence.items.start;
          m < mems->data.sequence.items.top; m++) {
        yaml_node_t *mn = yaml_document_get_node(d, *m);
        if(mn->type != YAML_SCALAR_NODE || !strchr((char *)mn->data.scalar.value, ':'))
          return fail(err, cap, path, mn, "a member is TYPE:ID, e.g. user:EMAIL");
        if(!add_binding(iam, res, role, (char *)mn->data.scalar.value))
          return fail(err, cap, path, mn, "out of memory");
      }
    }
  }
  return 0;
}

int lsd_iam_parse(struct lsd_iam **out, const char *name, const char *text, size_t len,
                  char *err, size_t cap)
{
  yaml_parser_t parser;
  yaml_document_t doc;
  struct lsd_iam *iam = calloc(1, sizeof(*iam));
  int rc;

  if(!iam) {
    snprintf(err, cap, "out of memory");
    return -1;
  }
  pthread_mutex_init(&iam->lock, NULL);
  yaml_parser_initialize(&parser);
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  if(!yaml_parser_load(&parser, &doc)) {
    snprintf(err, cap, "%s:%zu: not YAML: %s", name, parser.problem_mark.line + 1,
             parser.problem ? parser.problem : "?");
    rc = -1;
  } else {
    rc = load_doc(iam, &doc, name, err, cap);
    yaml_document_delete(&doc);
  }
  yaml_parser_delete(&parser);
  if(rc) {
    lsd_iam_free(iam);
    return -1;
  }
  *out = iam;
  return 0;
}

int lsd_iam_load(struct lsd_iam **out, const char *path, char *err, size_t cap)
{
  FILE *f = fopen(path, "rb");
  char *text = malloc(1u << 20);
  size_t n = f && text ? fread(text, 1, 1u << 20, f) : 0;
  int rc;

  if(!f || !text || ferror(f) || !feof(f)) {
    snprintf(err, cap, "%s: %s", path, !f ? "cannot open the IAM policy file"
                                          : "cannot read it, or it is over 1 MiB");
    if(f)
      fclose(f);
    free(text);
    return -1;
  }
  fclose(f);
  rc = lsd_iam_parse(out, path, text, n, err, cap);
  OPENSSL_cleanse(text, n); /* it holds tokens */
  free(text);
  return rc;
}

void lsd_iam_free(struct lsd_iam *iam)
{
  if(!iam)
    return;
  for(size_t i = 0; i < iam->n_p; i++) {
    if(iam->p[i].token)
      OPENSSL_cleanse(iam->p[i].token, strlen(iam->p[i].token));
    free(iam->p[i].token);
    free(iam->p[i].member);
  }
  for(size_t i = 0; i < iam->n_b; i++) {
    free(iam->b[i].resource);
    free(iam->b[i].role);
    free(iam->b[i].member);
  }
  free(iam->p);
  free(iam->b);
  pthread_mutex_destroy(&iam->lock);
  free(iam);
}

/* ---- who, and what they may do --------------------------------------------------- */
const char *lsd_iam_member(const struct lsd_iam *iam, const char *token, size_t len)
{
  const char *found = NULL;

  for(size_t i = 0; i < iam->n_p; i++) /* every token compared, in constant time each */
    if(strlen(iam->p[i].token) == len && !CRYPTO_memcmp(iam->p[i].token, token, len))
      found = iam->p[i].member;
  return found;
}

/* `res` is `anc` or under it */
static bool covers(const char *anc, const char *res)
{
  size_t n = strlen(anc);

  return !strncmp(anc, res, n) && (res[n] == '\0' || res[n] == '/');
}

bool lsd_iam_allowed(struct lsd_iam *iam, const char *member, const char *permission,
                     const char *resource)
{
  bool ok = false;

  pthread_mutex_lock(&iam->lock);
  for(size_t i = 0; i < iam->n_b && !ok; i++)
    ok = !strcmp(iam->b[i].member, member) && covers(iam->b[i].resource, resource) &&
         role_grants(iam->b[i].role, permission);
  pthread_mutex_unlock(&iam->lock);
  return ok;
}

/* Field 1 (length-delimited) of a protobuf message, or false. */
static bool field1(const uint8_t *p, size_t n, const uint8_t **v, size_t *vl)
{
  size_t i = 0;

  while(i < n) {
    uint64_t key = 0, len = 0;
    for(int s = 0; i < n && s < 64; s += 7) {
      key |= (uint64_t)(p[i] & 0x7f) << s;
      if(!(p[i++] & 0x80))
        break;
    }
    switch(key & 7) {
    case 0: /* varint */
      while(i < n && (p[i++] & 0x80))
        ;
      break;
    case 1:
      i += 8;
      break;
    case 5:
      i += 4;
      break;
    case 2:
      for(int s = 0; i < n && s < 64; s += 7) {
        len |= (uint64_t)(p[i] & 0x7f) << s;
        if(!(p[i++] & 0x80))
          break;
      }
      if(len > n - i)
        return false;
      if(key >> 3 == 1) {
        *v = p + i;
        *vl = (size_t)len;
        return true;
      }
      i += (size_t)len;
      break;
    default:
      return false;
    }
  }
  return false;
}

/* The permission a method needs, and whether its resource is nested (an
 * Update's). The IAM methods' depend on the resource's kind. */
static const char *needed(enum lsd_method m, bool *nested)
{
  *nested = false;
  switch(m) {
  case M_RESOLVE_SERVICE: return SD "services.resolve";
  case M_CREATE_NAMESPACE: return SD "namespaces.create";
  case M_LIST_NAMESPACES: return SD "namespaces.list";
  case M_GET_NAMESPACE: return SD "namespaces.get";
  case M_UPDATE_NAMESPACE: *nested = true; return SD "namespaces.update";
  case M_DELETE_NAMESPACE: return SD "namespaces.delete";
  case M_CREATE_SERVICE: return SD "services.create";
  case M_LIST_SERVICES: return SD "services.list";
  case M_GET_SERVICE: return SD "services.get";
  case M_UPDATE_SERVICE: *nested = true; return SD "services.update";
  case M_DELETE_SERVICE: return SD "services.delete";
  case M_CREATE_ENDPOINT: return SD "endpoints.create";
  case M_LIST_ENDPOINTS: return SD "endpoints.list";
  case M_GET_ENDPOINT: return SD "endpoints.get";
  case M_UPDATE_ENDPOINT: *nested = true; return SD "endpoints.update";
  case M_DELETE_ENDPOINT: return SD "endpoints.delete";
  case M_GET_IAM_POLICY: return "getIamPolicy";
  case M_SET_IAM_POLICY: return "setIamPolicy";
  default: return NULL; /* TestIamPermissions needs none */
  }
}

grpc_status_code lsd_iam_check(struct lsd_iam *iam, const char *member, enum lsd_method m,
                               const uint8_t *req, size_t len, struct lsd_err *e)
{
  bool nested;
  const char *perm = needed(m, &nested);
  const uint8_t *v = NULL;
  size_t vl = 0;
  char resource[600], full[80];

  if(!perm)
    return GRPC_STATUS_OK;
  if(!field1(req, len, &v, &vl) || (nested && !field1(v, vl, &v, &vl)) ||
     vl >= sizeof(resource))
    return lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT, "the request names no resource");
  memcpy(resource, v, vl);
  resource[vl] = '\0';
  if(m == M_GET_IAM_POLICY || m == M_SET_IAM_POLICY) { /* by the resource's kind */
    snprintf(full, sizeof(full), SD "%s.%s", strstr(resource, "/services/") ? "services"
                                                                            : "namespaces",
             perm);
    perm = full;
  }
  if(lsd_iam_allowed(iam, member, perm, resource))
    return GRPC_STATUS_OK;
  return lsd_fail(e, GRPC_STATUS_PERMISSION_DENIED, "Permission '%s' denied on resource "
                  "'%s' (or it may not exist).", perm, resource);
}

/* ---- the IAM methods ----------------------------------------------------------------- */
#define IAM(x) google__iam__v1__##x
#define IAMT(x) Google__Iam__V1__##x

/* The policy set on `resource` itself (not inherited), packed into out. */
static void reply_policy(struct lsd_iam *iam, const char *resource, struct lsd_reply *out)
{
  IAMT(Policy) pol = GOOGLE__IAM__V1__POLICY__INIT;
  IAMT(Binding) *bs = NULL, **bp = NULL;
  char **members = NULL;
  size_t n_roles = 0, n_members = 0;
  char etag[24];

  pthread_mutex_lock(&iam->lock);
  bs = calloc(iam->n_b + 1, sizeof(*bs));
  bp = calloc(iam->n_b + 1, sizeof(*bp));
  members = calloc(iam->n_b + 1, sizeof(*members));
  if(!bs || !bp || !members) {
    pthread_mutex_unlock(&iam->lock);
    out->code = lsd_fail(&out->err, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    goto done;
  }
  for(size_t i = 0; i < iam->n_b; i++) { /* one Binding per role */
    size_t r;
    if(strcmp(iam->b[i].resource, resource))
      continue;
    for(r = 0; r < n_roles && strcmp(bs[r].role, iam->b[i].role); r++)
      ;
    if(r == n_roles) {
      google__iam__v1__binding__init(&bs[r]);
      bs[r].role = iam->b[i].role;
      bp[n_roles++] = &bs[r];
    }
  }
  /* its members, contiguous in `members` */
  for(size_t r = 0; r < n_roles; r++) {
    bs[r].members = members + n_members;
    for(size_t i = 0; i < iam->n_b; i++)
      if(!strcmp(iam->b[i].resource, resource) && !strcmp(iam->b[i].role, bs[r].role)) {
        members[n_members++] = iam->b[i].member;
        bs[r].n_members++;
      }
  }
  snprintf(etag, sizeof(etag), "%016lx", iam->version);
  pol.version = 1;
  pol.etag.data = (uint8_t *)etag;
  pol.etag.len = strlen(etag);
  pol.n_bindings = n_roles;
  pol.bindings = bp;
  out->len = IAM(policy__get_packed_size)(&pol);
  if((out->body = malloc(out->len ? out->len : 1))) {
    IAM(policy__pack)(&pol, out->body);
    out->code = GRPC_STATUS_OK;
  } else {
    out->code = lsd_fail(&out->err, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  }
  pthread_mutex_unlock(&iam->lock);
done:
  free(bs);
  free(bp);
  free(members);
}

/* Replace the bindings set on `resource` with `pol`'s. */
static grpc_status_code set_policy(struct lsd_iam *iam, const char *resource,
                                   const IAMT(Policy) *pol, struct lsd_err *e)
{
  char etag[24];
  size_t k = 0;
  grpc_status_code code = GRPC_STATUS_OK;

  for(size_t i = 0; i < pol->n_bindings; i++) {
    if(pol->bindings[i]->condition)
      return lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT, "policy.bindings[%zu].condition: "
                      "conditions are not supported by this local server", i);
    if(strncmp(pol->bindings[i]->role, "roles/", 6))
      return lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT, "policy.bindings[%zu].role: '%s' is "
                      "not roles/...", i, pol->bindings[i]->role);
    for(size_t j = 0; j < pol->bindings[i]->n_members; j++)
      if(!strchr(pol->bindings[i]->members[j], ':'))
        return lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT, "policy.bindings[%zu].members[%zu]: "
                        "'%s' is not TYPE:ID", i, j, pol->bindings[i]->members[j]);
  }
  pthread_mutex_lock(&iam->lock);
  snprintf(etag, sizeof(etag), "%016lx", iam->version);
  if(pol->etag.len && (pol->etag.len != strlen(etag) || memcmp(pol->etag.data, etag, pol->etag.len))) {
    pthread_mutex_unlock(&iam->lock);
    return lsd_fail(e, GRPC_STATUS_ABORTED, "the policy changed since it was read (etag): "
                    "read it again and retry");
  }
  for(size_t i = 0; i < iam->n_b; i++) /* drop the resource's own bindings */
    if(strcmp(iam->b[i].resource, resource)) {
      iam->b[k++] = iam->b[i];
    } else {
      free(iam->b[i].resource);
      free(iam->b[i].role);
      free(iam->b[i].member);
    }
  iam->n_b = k;
  for(size_t i = 0; i < pol->n_bindings && !code; i++)
    for(size_t j = 0; j < pol->bindings[i]->n_members && !code; j++)
      if(!add_binding(iam, resource, pol->bindings[i]->role, pol->bindings[i]->members[j]))
        code = lsd_fail(e, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  iam->version++;
  pthread_mutex_unlock(&iam->lock);
  return code;
}

static bool iam_resource(const char *r)
{
  return !strncmp(r, "projects/", 9) && strstr(r, "/namespaces/") &&
         !strstr(r, "/endpoints/");
}

/* TestIamPermissions also takes a bare project here (projects/NUMBER), so
 * that a rehearsal can ask for pscAuthorizedService on a network's project:
 * an extension of this local server, not Google's API. */
static bool test_resource(const char *r)
{
  return iam_resource(r) || (!strncmp(r, "projects/", 9) && r[9] && !strchr(r + 9, '/'));
}

void lsd_iam_call(struct lsd_iam *iam, const char *member, enum lsd_method m,
                  const uint8_t *req, size_t len, struct lsd_reply *out)
{
  memset(out, 0, sizeof(*out));
  if(m == M_GET_IAM_POLICY) {
    IAMT(GetIamPolicyRequest) *r = IAM(get_iam_policy_request__unpack)(NULL, len, req);
    if(!r || !iam_resource(r->resource))
      out->code = lsd_fail(&out->err, GRPC_STATUS_INVALID_ARGUMENT, "resource: a namespace or "
                           "service name (projects/P/locations/L/namespaces/N[/services/S])");
    else
      reply_policy(iam, r->resource, out);
    IAM(get_iam_policy_request__free_unpacked)(r, NULL);
  } else if(m == M_SET_IAM_POLICY) {
    IAMT(SetIamPolicyRequest) *r = IAM(set_iam_policy_request__unpack)(NULL, len, req);
    if(!r || !iam_resource(r->resource) || !r->policy)
      out->code = lsd_fail(&out->err, GRPC_STATUS_INVALID_ARGUMENT, "give resource (a "
                           "namespace or service) and policy");
    else if(!(out->code = set_policy(iam, r->resource, r->policy, &out->err)))
      reply_policy(iam, r->resource, out);
    IAM(set_iam_policy_request__free_unpacked)(r, NULL);
  } else if(m == M_TEST_IAM_PERMISSIONS) {
    IAMT(TestIamPermissionsRequest) *r =
        IAM(test_iam_permissions_request__unpack)(NULL, len, req);
    IAMT(TestIamPermissionsResponse) resp = GOOGLE__IAM__V1__TEST_IAM_PERMISSIONS_RESPONSE__INIT;
    char **held = r ? calloc(r->n_permissions + 1, sizeof(*held)) : NULL;
    if(!r || !test_resource(r->resource) || !held) {
      out->code = lsd_fail(&out->err, GRPC_STATUS_INVALID_ARGUMENT, "resource: a namespace or "
                           "service name (or, here, a project)");
    } else {
      for(size_t i = 0; i < r->n_permissions; i++)
        if(lsd_iam_allowed(iam, member, r->permissions[i], r->resource))
          held[resp.n_permissions++] = r->permissions[i];
      resp.permissions = held;
      out->len = IAM(test_iam_permissions_response__get_packed_size)(&resp);
      if((out->body = malloc(out->len ? out->len : 1))) {
        IAM(test_iam_permissions_response__pack)(&resp, out->body);
        out->code = GRPC_STATUS_OK;
      } else {
        out->code = lsd_fail(&out->err, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
      }
    }
    free(held);
    IAM(test_iam_permissions_request__free_unpacked)(r, NULL);
  }
}
