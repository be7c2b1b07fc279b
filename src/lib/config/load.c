/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YAML file -> tree of sdc__cfg_node, with the line and column of every
 * node. libyaml (Debian libyaml-dev) does the parsing; JSON is YAML, so
 * pasted API output loads as it is.
 *
 * IMPLEMENTATION NOTES
 * - libyaml's document loader shares an anchored node between its aliases.
 *   The tree copies it at each alias instead, so that every node has one
 *   parent and "seen" marks stay per place. A budget of SDC_CFG_MAX_NODES
 *   nodes (and SDC_CFG_MAX_DEPTH levels) stops alias bombs and runaway
 *   nesting; files are capped at SDC_CFG_MAX_FILE bytes before parsing.
 * - A stream of several documents (`---`) gives several roots.
 */
#include "config/config.h"

#include "core/core.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

static void node_free(struct sdc__cfg_node *n)
{
  if(!n)
    return;
  for(size_t i = 0; i < (n->kind == SDC_CFG_MAP ? 2 * n->n : n->n); i++)
    node_free(n->kids[i]);
  sdc_free(n->kids);
  sdc_free(n->seen);
  sdc_free(n->str);
  sdc_free(n);
}

void sdc__cfg_free(struct sdc__cfg *c)
{
  if(!c)
    return;
  for(size_t i = 0; i < c->n_docs; i++)
    node_free(c->docs[i]);
  sdc_free(c->docs);
  for(size_t i = 0; i < c->n_errs; i++)
    sdc_free(c->errs[i]);
  sdc_free(c->errs);
  sdc_free(c->file);
  sdc_free(c);
}

/* Why a copy stopped: memory, or a budget (reported once, at `at`). */
enum copy_fail { COPY_OK, COPY_NOMEM, COPY_BUDGET };

static enum copy_fail copy_node(struct sdc__cfg *c, yaml_document_t *doc,
                                yaml_node_t *y, unsigned depth,
                                struct sdc__cfg_node **out)
{
  struct sdc__cfg_node *n;
  size_t count = 0;

  if(++c->nodes > SDC_CFG_MAX_NODES || depth > SDC_CFG_MAX_DEPTH) {
    sdc__cfg_error_lc(c, (unsigned)y->start_mark.line + 1,
                      (unsigned)y->start_mark.column + 1, "",
                      "too deeply nested or too many nodes (aliases included): "
                      "at most %u levels and %u nodes", SDC_CFG_MAX_DEPTH,
                      SDC_CFG_MAX_NODES);
    return COPY_BUDGET;
  }
  if(!(n = sdc__calloc(1, sizeof(*n))))
    return COPY_NOMEM;
  n->line = (unsigned)y->start_mark.line + 1;
  n->col = (unsigned)y->start_mark.column + 1;
  *out = n;
  switch(y->type) {
  case YAML_SCALAR_NODE:
    n->kind = SDC_CFG_SCALAR;
    n->len = y->data.scalar.length;
    n->plain = y->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    if(!(n->str = sdc__malloc(n->len + 1)))
      return COPY_NOMEM;
    memcpy(n->str, y->data.scalar.value, n->len);
    n->str[n->len] = '\0';
    return COPY_OK;
  case YAML_SEQUENCE_NODE:
    n->kind = SDC_CFG_SEQ;
    count = (size_t)(y->data.sequence.items.top - y->data.sequence.items.start);
    break;
  case YAML_MAPPING_NODE:
    n->kind = SDC_CFG_MAP;
    count = (size_t)(y->data.mapping.pairs.top - y->data.mapping.pairs.start);
    break;
  default:
    n->kind = SDC_CFG_SCALAR; /* an empty node */
    return (n->str = sdc__strdup("")) ? COPY_OK : COPY_NOMEM;
  }
  if(!count)
    return COPY_OK;
  if(!(n->kids = sdc__calloc(n->kind == SDC_CFG_MAP ? 2 * count : count,
                             sizeof(*n->kids))))
    return COPY_NOMEM;
  if(n->kind == SDC_CFG_MAP && !(n->seen = sdc__calloc(count, sizeof(bool))))
    return COPY_NOMEM;
  for(size_t i = 0; i < count; i++) {
    enum copy_fail f;
    if(n->kind == SDC_CFG_SEQ) {
      yaml_node_t *item = yaml_document_get_node(doc, y->data.sequence.items.start[i]);
      f = copy_node(c, doc, item, depth + 1, &n->kids[i]);
    } else {
      yaml_node_pair_t *p = &y->data.mapping.pairs.start[i];
      f = copy_node(c, doc, yaml_document_get_node(doc, p->key), depth + 1,
                    &n->kids[2 * i]);
      if(f == COPY_OK)
        f = copy_node(c, doc, yaml_document_get_node(doc, p->value), depth + 1,
                      &n->kids[2 * i + 1]);
    }
    n->n = i + 1; /* what is there gets freed on failure */
    if(f != COPY_OK)
      return f;
  }
  return COPY_OK;
}

static sdc_status parse(struct sdc__cfg *c, const unsigned char *data, size_t len)
{
  yaml_parser_t parser;
  sdc_status st = SDC_OK;

  if(!yaml_parser_initialize(&parser))
    return SDC_ENOMEM; /* LCOV_EXCL_LINE: OutOfMemory */
  yaml_parser_set_input_string(&parser, data, len);
  for(;;) {
    yaml_document_t doc;
    yaml_node_t *root;
    struct sdc__cfg_node **grown, *tree = NULL;
    enum copy_fail f;

    if(!yaml_parser_load(&parser, &doc)) {
      sdc__cfg_error_lc(c, (unsigned)parser.problem_mark.line + 1,
                        (unsigned)parser.problem_mark.column + 1, "",
                        "not valid YAML or JSON: %s%s%s",
                        parser.problem ? parser.problem : "syntax error",
                        parser.context ? " " : "",
                        parser.context ? parser.context : "");
      st = parser.error == YAML_MEMORY_ERROR ? SDC_ENOMEM : SDC_ECONFIG;
      break;
    }
    root = yaml_document_get_root_node(&doc);
    if(!root) { /* end of the stream */
      yaml_document_delete(&doc);
      break;
    }
    f = copy_node(c, &doc, root, 0, &tree);
    yaml_document_delete(&doc);
    grown = f == COPY_OK ? sdc__realloc(c->docs, (c->n_docs + 1) * sizeof(*grown)) : NULL;
    if(!grown) {
      node_free(tree);
      st = f == COPY_BUDGET ? SDC_ECONFIG : SDC_ENOMEM;
      break;
    }
    c->docs = grown;
    c->docs[c->n_docs++] = tree;
  }
  yaml_parser_delete(&parser);
  if(st) { /* only the syntax error is left to tell */
    for(size_t i = 0; i < c->n_docs; i++)
      node_free(c->docs[i]);
    sdc_free(c->docs);
    c->docs = NULL;
    c->n_docs = 0;
  }
  return st;
}

sdc_status sdc__cfg_load_mem(const char *name, const void *data, size_t len,
                             struct sdc__cfg **out)
{
  struct sdc__cfg *c;
  sdc_status st;

  if(len > SDC_CFG_MAX_FILE)
    return SDC_ETOOBIG;
  if(!(c = sdc__calloc(1, sizeof(*c))) || !(c->file = sdc__strdup(name))) {
    sdc_free(c);
    return SDC_ENOMEM;
  }
  st = parse(c, data, len);
  if(st == SDC_ENOMEM) {
    sdc__cfg_free(c);
    return st;
  }
  *out = c;
  return st;
}

sdc_status sdc__cfg_load_file(const char *path, struct sdc__cfg **out,
                              char *err, size_t errcap)
{
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t len = 0;
  sdc_status st;

  if(!f) {
    snprintf(err, errcap, "%s: cannot open: %s", path, strerror(errno));
    return SDC_EIO;
  }
  if(!(buf = sdc__malloc(SDC_CFG_MAX_FILE + 1))) {
    fclose(f);
    return SDC_ENOMEM;
  }
  len = fread(buf, 1, SDC_CFG_MAX_FILE + 1, f);
  if(ferror(f)) {
    snprintf(err, errcap, "%s: cannot read: %s", path, strerror(errno));
    st = SDC_EIO;
  } else if(len > SDC_CFG_MAX_FILE) {
    snprintf(err, errcap, "%s: larger than %u MiB; a configuration file is "
             "not that big", path, SDC_CFG_MAX_FILE >> 20);
    st = SDC_ETOOBIG;
  } else {
    st = sdc__cfg_load_mem(path, buf, len, out);
    if(st == SDC_ENOMEM)
      snprintf(err, errcap, "%s: out of memory", path);
  }
  fclose(f);
  sdc_free(buf);
  return st;
}
