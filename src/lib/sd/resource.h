/* SPDX-License-Identifier: Apache-2.0 */
/* The registry's structs: opaque to programs (registry.h's constructors,
 * setters and getters), read directly inside the library and by its
 * codec's tests. */
#ifndef SDC_SD_RESOURCE_H
#define SDC_SD_RESOURCE_H

#include <sdconnect/registry.h>

#include <stdbool.h>

struct sdc_sd_resource {
  sdc_sd_kind kind;
  const char *name;    /* full resource name */
  const char *uid;     /* output only */
  size_t n_kv;
  const sdc_kv *kv;    /* labels (namespace) or annotations */
  const char *address; /* endpoint only */
  int port;            /* endpoint only */
  const char *network; /* endpoint only; set at create */
  /* made by sdc_sd_resource_new(): every string is its own allocation,
   * freed with it; a decoded one is a single block */
  bool built;
  sdc_kv *own_kv;
};

struct sdc_sd_page {
  size_t n;
  sdc_sd_resource *items;
  const char *next_page_token; /* "" on the last page */
};

struct sdc_sd_list_opts {
  const char *filter;   /* NULL or "": none */
  const char *order_by; /* NULL or "": name order */
  int page_size;        /* 0: the server's choice */
  const char *page_token;
  char *own_filter, *own_order_by, *own_page_token;
};

#endif
