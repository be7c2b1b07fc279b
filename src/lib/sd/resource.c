/* SPDX-License-Identifier: Apache-2.0 */
/* Registry resources and list options as programs make and read them
 * (resource.h has the fields). */
#include "resource.h"

#include "core/core.h"

#include <string.h>

/* ---- resources ----------------------------------------------------------------- */
sdc_status sdc_sd_resource_new(sdc_sd_resource **out, sdc_sd_kind kind, const char *name)
{
  sdc_sd_resource *r;
  char *copy;

  if(!out || !name || kind < SDC_SD_NAMESPACE || kind > SDC_SD_ENDPOINT)
    return SDC_EINVAL;
  if(!(r = sdc__calloc(1, sizeof(*r))))
    return SDC_ENOMEM;
  if(!(copy = sdc__strdup(name))) {
    sdc_free(r);
    return SDC_ENOMEM;
  }
  r->kind = kind;
  r->name = copy;
  r->built = true;
  *out = r;
  return SDC_OK;
}

void sdc_sd_resource_free(sdc_sd_resource *r)
{
  if(!r)
    return;
  if(r->built) { /* a decoded resource is one block: only a built one owns parts */
    for(size_t i = 0; i < r->n_kv; i++) {
      sdc_free((char *)(uintptr_t)r->own_kv[i].key);
      sdc_free((char *)(uintptr_t)r->own_kv[i].value);
    }
    sdc_free(r->own_kv);
    sdc_free((char *)(uintptr_t)r->name);
    sdc_free((char *)(uintptr_t)r->address);
    sdc_free((char *)(uintptr_t)r->network);
  }
  sdc_free(r);
}

sdc_status sdc_sd_resource_add_kv(sdc_sd_resource *r, const char *key, const char *value)
{
  sdc_kv *grown;
  char *k, *v;

  if(!r || !r->built || !key || !value)
    return SDC_EINVAL;
  if(!(grown = sdc__realloc(r->own_kv, (r->n_kv + 1) * sizeof(*grown))))
    return SDC_ENOMEM;
  r->own_kv = grown;
  r->kv = grown;
  if(!(k = sdc__strdup(key)) || !(v = sdc__strdup(value))) {
    sdc_free(k);
    return SDC_ENOMEM;
  }
  grown[r->n_kv].key = k;
  grown[r->n_kv].value = v;
  r->n_kv++;
  return SDC_OK;
}

/* Replace a built endpoint's string field with a copy of s. */
static sdc_status set_field(sdc_sd_resource *r, const char **field, const char *s)
{
  char *copy = NULL;

  if(!r || !r->built || r->kind != SDC_SD_ENDPOINT)
    return SDC_EINVAL;
  if(s && !(copy = sdc__strdup(s)))
    return SDC_ENOMEM;
  sdc_free((char *)(uintptr_t)*field);
  *field = copy;
  return SDC_OK;
}

sdc_status sdc_sd_resource_set_address(sdc_sd_resource *r, const char *address)
{
  return set_field(r, r ? &r->address : NULL, address);
}

sdc_status sdc_sd_resource_set_network(sdc_sd_resource *r, const char *network)
{
  return set_field(r, r ? &r->network : NULL, network);
}

sdc_status sdc_sd_resource_set_port(sdc_sd_resource *r, int port)
{
  if(!r || !r->built || r->kind != SDC_SD_ENDPOINT || port < 0 || port > 65535)
    return SDC_EINVAL;
  r->port = port;
  return SDC_OK;
}

static const char *or_empty(const char *s) { return s ? s : ""; }

sdc_sd_kind sdc_sd_resource_kind(const sdc_sd_resource *r) { return r ? r->kind : 0; }
const char *sdc_sd_resource_name(const sdc_sd_resource *r) { return or_empty(r ? r->name : NULL); }
const char *sdc_sd_resource_uid(const sdc_sd_resource *r) { return or_empty(r ? r->uid : NULL); }
size_t sdc_sd_resource_kv_count(const sdc_sd_resource *r) { return r ? r->n_kv : 0; }

const sdc_kv *sdc_sd_resource_kv(const sdc_sd_resource *r, size_t i)
{
  return r && i < r->n_kv ? &r->kv[i] : NULL;
}

const char *sdc_sd_resource_address(const sdc_sd_resource *r)
{
  return or_empty(r ? r->address : NULL);
}

int sdc_sd_resource_port(const sdc_sd_resource *r) { return r ? r->port : 0; }

const char *sdc_sd_resource_network(const sdc_sd_resource *r)
{
  return or_empty(r ? r->network : NULL);
}

/* ---- pages ----------------------------------------------------------------------- */
size_t sdc_sd_page_count(const sdc_sd_page *page) { return page ? page->n : 0; }

const char *sdc_sd_page_next_token(const sdc_sd_page *page)
{
  return or_empty(page ? page->next_page_token : NULL);
}

/* ---- list options ------------------------------------------------------------------ */
sdc_status sdc_sd_list_opts_new(sdc_sd_list_opts **out)
{
  sdc_sd_list_opts *o;

  if(!out)
    return SDC_EINVAL;
  if(!(o = sdc__calloc(1, sizeof(*o))))
    return SDC_ENOMEM;
  *out = o;
  return SDC_OK;
}

void sdc_sd_list_opts_free(sdc_sd_list_opts *o)
{
  if(!o)
    return;
  sdc_free(o->own_filter);
  sdc_free(o->own_order_by);
  sdc_free(o->own_page_token);
  sdc_free(o);
}

/* Replace an option's copy (NULL or "" clears it). */
static sdc_status set_opt(char **own, const char **field, const char *s)
{
  sdc_status st = sdc__replace_copy(own, s && *s ? s : NULL);

  if(!st)
    *field = *own;
  return st;
}

sdc_status sdc_sd_list_opts_set_filter(sdc_sd_list_opts *o, const char *filter)
{
  return set_opt(&o->own_filter, &o->filter, filter);
}

sdc_status sdc_sd_list_opts_set_order_by(sdc_sd_list_opts *o, const char *order_by)
{
  return set_opt(&o->own_order_by, &o->order_by, order_by);
}

sdc_status sdc_sd_list_opts_set_page_token(sdc_sd_list_opts *o, const char *token)
{
  return set_opt(&o->own_page_token, &o->page_token, token);
}

sdc_status sdc_sd_list_opts_set_page_size(sdc_sd_list_opts *o, int page_size)
{
  if(page_size < 0)
    return SDC_EINVAL;
  o->page_size = page_size;
  return SDC_OK;
}
