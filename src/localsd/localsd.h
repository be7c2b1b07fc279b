/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal header of the local Service Directory server (sdconnect sd-server):
 * the resource vocabulary shared by validation, filters, ordering, paging
 * tokens, storage and the RPC handlers.
 */
#ifndef SDC_LOCALSD_H
#define SDC_LOCALSD_H

#include <grpc/status.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum lsd_kind { LSD_LOCATION = 0, LSD_NAMESPACE = 1, LSD_SERVICE = 2, LSD_ENDPOINT = 3 };

/* "namespace", "service", "endpoint", "location". */
const char *lsd_kind_word(enum lsd_kind k);

/* A gRPC status with its message, as answered to the client. */
struct lsd_err {
  grpc_status_code code;
  char msg[640];
};

/* Fill `e` and return its code (so callers can `return lsd_fail(...)`). */
grpc_status_code lsd_fail(struct lsd_err *e, grpc_status_code code,
                         const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One key/value of labels or annotations (borrowed strings). */
struct lsd_kv {
  const char *key;
  const char *value;
};

/* A borrowed, kind-neutral view of one stored resource: what filters and
 * order_by look at. */
struct lsd_view {
  enum lsd_kind kind;
  const char *name;
  const char *address; /* endpoints only, else "" */
  int32_t port;        /* endpoints only, else 0 */
  size_t n_kv;
  const struct lsd_kv *kv; /* labels (namespace) or annotations */
};

/* ---- validate.c: the API's input rules (facts sheet section 5) ---------- */
#define LSD_MAX_ID 63
#define LSD_MAX_LABELS 64
#define LSD_MAX_LABEL_CHARS 63
#define LSD_MAX_SERVICE_ANNOTATION_CHARS 2000
#define LSD_MAX_ENDPOINT_ANNOTATION_CHARS 512
#define LSD_MAX_ADDRESS 45
#define LSD_MAX_NAME 1024

/* RFC 1035 label: [a-z]([-a-z0-9]{0,61}[a-z0-9])? */
bool lsd_valid_id(const char *id);

/* Check that `name` names a resource of kind `k` (LSD_LOCATION for a
 * "projects/P/locations/L" parent). `field` names the request field. */
grpc_status_code lsd_check_name(const char *name, enum lsd_kind k,
                               const char *field, struct lsd_err *e);

/* Length of the parent prefix of a valid name of kind >= LSD_NAMESPACE. */
size_t lsd_parent_len(const char *name);

/* The kind a full resource name has, or -1 when it has none. */
int lsd_name_kind(const char *name);

grpc_status_code lsd_check_labels(const struct lsd_kv *kv, size_t n,
                                 const char *field, struct lsd_err *e);
grpc_status_code lsd_check_annotations(const struct lsd_kv *kv, size_t n,
                                      size_t max_chars, const char *field,
                                      struct lsd_err *e);
grpc_status_code lsd_check_address(const char *address, const char *field,
                                  struct lsd_err *e);
grpc_status_code lsd_check_port(int64_t port, const char *field,
                               struct lsd_err *e);
grpc_status_code lsd_check_network(const char *network, const char *field,
                                  struct lsd_err *e);

/* Number of UTF-8 characters (not bytes) in s. */
size_t lsd_utf8_chars(const char *s);

/* ---- filter.c: AIP-160 style filters (facts sheet section 6.1) ---------- */
struct lsd_filter;

/* Compile `text` for resources of `kind`. An empty or all-blank text yields
 * *out = NULL, which matches everything. Returns GRPC_STATUS_OK or
 * INVALID_ARGUMENT (message in e, naming `field` and the column). */
grpc_status_code lsd_filter_compile(const char *text, enum lsd_kind kind,
                                   const char *field, struct lsd_filter **out,
                                   struct lsd_err *e);
bool lsd_filter_match(const struct lsd_filter *f, const struct lsd_view *v);
void lsd_filter_free(struct lsd_filter *f);

/* ---- order.c: order_by ("name desc, port") ------------------------------ */
#define LSD_ORDER_MAX_KEYS 3
enum lsd_order_field { LSD_ORDER_NAME, LSD_ORDER_ADDRESS, LSD_ORDER_PORT };
struct lsd_order {
  size_t n;
  struct {
    enum lsd_order_field field;
    bool desc;
  } keys[LSD_ORDER_MAX_KEYS];
};

grpc_status_code lsd_order_parse(const char *text, enum lsd_kind kind,
                                struct lsd_order *out, struct lsd_err *e);
/* True when the order is just name (asc or desc): storage can page by key. */
bool lsd_order_is_name_only(const struct lsd_order *o, bool *desc);
int lsd_order_compare(const struct lsd_order *o, const struct lsd_view *a,
                     const struct lsd_view *b);

/* ---- pagetoken.c: opaque, tamper-checked page tokens -------------------- */
#define LSD_TOKEN_KEY_LEN 32

/* Where the next page starts: after a name (keyset paging) or at an index. */
struct lsd_page_pos {
  bool by_name;
  uint64_t offset;       /* when !by_name */
  char after[LSD_MAX_NAME + 1]; /* when by_name */
};

/* Digest that binds a token to its query (parent, filter, order_by). */
void lsd_token_query_digest(const char *parent, const char *filter,
                           const char *order_by, uint8_t out[8]);

/* Encode: returns a malloc'd NUL-terminated token, or NULL on ENOMEM. */
char *lsd_token_encode(const uint8_t key[LSD_TOKEN_KEY_LEN],
                      const uint8_t digest[8], const struct lsd_page_pos *pos);

/* Decode and verify. INVALID_ARGUMENT when forged, corrupt, or issued for a
 * different query. */
grpc_status_code lsd_token_decode(const uint8_t key[LSD_TOKEN_KEY_LEN],
                                 const uint8_t digest[8], const char *token,
                                 struct lsd_page_pos *pos, struct lsd_err *e);

/* ---- uuid.c ------------------------------------------------------------- */
/* Random UUID4 text into out[37]. Returns false when no randomness. */
bool lsd_uuid4(char out[37]);

#endif
