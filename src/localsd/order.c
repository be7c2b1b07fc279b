/* SPDX-License-Identifier: Apache-2.0 */
/*
 * order_by for List calls: "<field> [asc|desc]" joined by commas (facts sheet
 * section 8). Namespaces and services order by name; endpoints also by
 * address (text) and port (number). Ties always fall back to name so paging
 * sees one stable order.
 */
#include "localsd.h"

#include <string.h>

static size_t skip_space(const char *s, size_t i)
{
  while(s[i] == ' ' || s[i] == '\t')
    i++;
  return i;
}

static size_t word_end(const char *s, size_t i)
{
  while(s[i] && s[i] != ' ' && s[i] != '\t' && s[i] != ',')
    i++;
  return i;
}

static bool word_is(const char *s, size_t a, size_t b, const char *w)
{
  return b - a == strlen(w) && !memcmp(s + a, w, b - a);
}

grpc_status_code lsd_order_parse(const char *text, enum lsd_kind kind,
                                struct lsd_order *out, struct lsd_err *e)
{
  size_t i = skip_space(text, 0);
  const char *allowed = kind == LSD_ENDPOINT ? "name, address, port" : "name";

  memset(out, 0, sizeof(*out));
  if(!text[i])
    return GRPC_STATUS_OK;
  for(;;) {
    size_t a = i, b = word_end(text, i);
    enum lsd_order_field f;

    if(word_is(text, a, b, "name"))
      f = LSD_ORDER_NAME;
    else if(kind == LSD_ENDPOINT && word_is(text, a, b, "address"))
      f = LSD_ORDER_ADDRESS;
    else if(kind == LSD_ENDPOINT && word_is(text, a, b, "port"))
      f = LSD_ORDER_PORT;
    else
      return lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT,
                     "order_by: cannot order %ss by '%.*s'; use %s, each "
                     "optionally followed by asc or desc",
                     lsd_kind_word(kind), (int)(b - a), text + a, allowed);
    for(size_t k = 0; k < out->n; k++)
      if(out->keys[k].field == f)
        return lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT,
                       "order_by: field '%.*s' is named twice", (int)(b - a),
                       text + a);
    out->keys[out->n].field = f;
    out->keys[out->n].desc = false;
    i = skip_space(text, b);
    if(text[i] && text[i] != ',') {
      a = i;
      b = word_end(text, i);
      if(word_is(text, a, b, "desc"))
        out->keys[out->n].desc = true;
      else if(!word_is(text, a, b, "asc"))
        return lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT,
                       "order_by: expected asc, desc or ',' after the field, "
                       "found '%.*s'",
                       (int)(b - a), text + a);
      i = skip_space(text, b);
    }
    out->n++;
    if(!text[i])
      return GRPC_STATUS_OK;
    if(text[i] != ',' || out->n == LSD_ORDER_MAX_KEYS)
      return lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT,
                     "order_by: unexpected '%c' at column %zu of '%.200s'",
                     text[i], i + 1, text);
    i = skip_space(text, i + 1);
  }
}

bool lsd_order_is_name_only(const struct lsd_order *o, bool *desc)
{
  if(o->n == 0) {
    *desc = false;
    return true;
  }
  if(o->n == 1 && o->keys[0].field == LSD_ORDER_NAME) {
    *desc = o->keys[0].desc;
    return true;
  }
  return false;
}

int lsd_order_compare(const struct lsd_order *o, const struct lsd_view *a,
                     const struct lsd_view *b)
{
  for(size_t k = 0; k < o->n; k++) {
    int c = 0;
    switch(o->keys[k].field) {
    case LSD_ORDER_NAME: c = strcmp(a->name, b->name); break;
    case LSD_ORDER_ADDRESS: c = strcmp(a->address, b->address); break;
    case LSD_ORDER_PORT: c = (a->port > b->port) - (a->port < b->port); break;
    }
    if(c)
      return o->keys[k].desc ? -c : c;
  }
  return strcmp(a->name, b->name);
}
