/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Filters for List and ResolveService: `<field> <op> <value>` restrictions
 * joined by AND, OR, NOT (facts sheet 6.1, grammar after AIP-160).
 *
 * IMPLEMENTATION NOTES
 * - Grammar (precedence as AIP-160: OR binds tighter than AND):
 *     expr     = sequence { "AND" sequence }
 *     sequence = factor { factor }            (juxtaposition is AND)
 *     factor   = term { "OR" term }
 *     term     = [ "NOT" | "-" ] simple
 *     simple   = restriction | "(" expr ")"
 *     restriction = comparable [ op value ]
 * - Fields are resolved at compile time against the resource kind. A field
 *   the kind does not have compiles to "never matches": the API answers an
 *   empty list, not an error. A value of the wrong type (port>abc) is an
 *   error, as is any syntax error; both name the column.
 * - A map restriction on an absent key is false for every operator,
 *   including != (the docs' `annotations.owner!=sd` implies presence).
 * - Bounds: input <= 4096 bytes, <= 256 nodes, nesting <= 32, so a hostile
 *   filter costs bounded memory and stack.
 */
#include "localsd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILTER_LEN 4096
#define MAX_NODES 256
#define MAX_DEPTH 32

enum op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_HAS, OP_PRESENT };
enum node_type { N_AND, N_OR, N_NOT, N_NEVER, N_NAME, N_ADDRESS, N_PORT, N_MAP,
                 N_MAP_HAS_KEY };

struct node {
  enum node_type type;
  enum op op;
  struct node *a, *b; /* children of AND/OR/NOT */
  char *key;          /* map key (N_MAP, N_MAP_HAS_KEY) */
  char *value;        /* string operand */
  long long num;      /* port operand */
};

struct lsd_filter {
  struct node *root;
  struct node nodes[MAX_NODES];
  size_t n_nodes;
  char *strings[2 * MAX_NODES];
  size_t n_strings;
};

enum tok_type { T_END, T_LPAREN, T_RPAREN, T_OP, T_TEXT, T_STRING };

struct tok {
  enum tok_type type;
  enum op op;
  const char *start; /* text (raw) */
  size_t len;
  size_t col; /* 1-based column */
};

struct parser {
  const char *src;
  size_t pos;
  struct tok cur;
  struct lsd_filter *f;
  enum lsd_kind kind;
  const char *field;
  struct lsd_err *e;
  int depth;
  bool failed;
};

static bool is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_special(char c)
{
  return c == '(' || c == ')' || c == '<' || c == '>' || c == '=' ||
         c == '!' || c == ':' || c == '"' || is_space(c) || c == '\0';
}

static void fail(struct parser *p, size_t col, const char *what)
{
  if(p->failed)
    return;
  p->failed = true;
  lsd_fail(p->e, GRPC_STATUS_INVALID_ARGUMENT,
          "%s: %s at column %zu of '%.200s'", p->field, what, col, p->src);
}

static void next(struct parser *p)
{
  const char *s = p->src;
  struct tok *t = &p->cur;

  while(is_space(s[p->pos]))
    p->pos++;
  t->start = s + p->pos;
  t->col = p->pos + 1;
  t->len = 1;
  switch(s[p->pos]) {
  case '\0': t->type = T_END; t->len = 0; return;
  case '(': t->type = T_LPAREN; p->pos++; return;
  case ')': t->type = T_RPAREN; p->pos++; return;
  case ':': t->type = T_OP; t->op = OP_HAS; p->pos++; return;
  case '=': t->type = T_OP; t->op = OP_EQ; p->pos++; return;
  case '<': case '>': {
    bool lt = s[p->pos] == '<';
    t->type = T_OP;
    p->pos++;
    if(s[p->pos] == '=') {
      p->pos++;
      t->len = 2;
      t->op = lt ? OP_LE : OP_GE;
    } else {
      t->op = lt ? OP_LT : OP_GT;
    }
    return;
  }
  case '!':
    if(s[p->pos + 1] == '=') {
      t->type = T_OP;
      t->op = OP_NE;
      t->len = 2;
      p->pos += 2;
      return;
    }
    fail(p, t->col, "'!' must be followed by '='");
    t->type = T_END;
    return;
  case '"': {
    size_t i = p->pos + 1;
    while(s[i] && s[i] != '"')
      i += (s[i] == '\\' && s[i + 1]) ? 2 : 1;
    if(!s[i]) {
      fail(p, t->col, "unterminated quoted string");
      t->type = T_END;
      return;
    }
    t->type = T_STRING;
    t->start = s + p->pos + 1;
    t->len = i - p->pos - 1;
    p->pos = i + 1;
    return;
  }
  default:
    while(!is_special(s[p->pos]))
      p->pos++;
    t->type = T_TEXT;
    t->len = (size_t)(s + p->pos - t->start);
    return;
  }
}

static bool tok_is(const struct tok *t, const char *word)
{
  return t->type == T_TEXT && t->len == strlen(word) &&
         !memcmp(t->start, word, t->len);
}

static struct node *new_node(struct parser *p, enum node_type type)
{
  struct node *n;

  if(p->f->n_nodes == MAX_NODES) {
    fail(p, p->cur.col, "filter has too many terms (at most 256)");
    return NULL;
  }
  n = &p->f->nodes[p->f->n_nodes++];
  memset(n, 0, sizeof(*n));
  n->type = type;
  return n;
}

/* Copy a token's text, unescaping \" and \\ inside quoted strings. */
static char *tok_dup(struct parser *p, const char *start, size_t len,
                     bool quoted)
{
  char *out = malloc(len + 1);
  size_t o = 0;

  if(!out) {
    lsd_fail(p->e, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    p->failed = true;
    return NULL;
  }
  for(size_t i = 0; i < len; i++) {
    if(quoted && start[i] == '\\' && i + 1 < len)
      i++;
    out[o++] = start[i];
  }
  out[o] = '\0';
  p->f->strings[p->f->n_strings++] = out;
  return out;
}

static struct node *parse_expr(struct parser *p);

/* The map field of this kind: labels for namespaces, annotations otherwise. */
static const char *map_field(enum lsd_kind k)
{
  return k == LSD_NAMESPACE ? "labels" : "annotations";
}

static struct node *parse_restriction(struct parser *p)
{
  struct tok lhs = p->cur;
  const char *mf = map_field(p->kind);
  size_t mfl = strlen(mf);
  struct node *n;
  char *value = NULL;
  bool has_op;

  if(lhs.type != T_TEXT && lhs.type != T_STRING) {
    fail(p, lhs.col, lhs.type == T_END ? "unexpected end of filter"
                                       : "expected a field name");
    return NULL;
  }
  if(tok_is(&lhs, "AND") || tok_is(&lhs, "OR")) {
    fail(p, lhs.col, "AND and OR go between two restrictions");
    return NULL;
  }
  next(p);
  has_op = p->cur.type == T_OP;
  if(has_op) {
    struct tok op = p->cur;
    next(p);
    if(p->cur.type != T_TEXT && p->cur.type != T_STRING) {
      fail(p, p->cur.col, "expected a value after the operator");
      return NULL;
    }
    value = tok_dup(p, p->cur.start, p->cur.len, p->cur.type == T_STRING);
    if(!value)
      return NULL;
    next(p);
    n = new_node(p, N_NEVER);
    if(!n)
      return NULL;
    n->op = op.op;
    n->value = value;
  } else {
    n = new_node(p, N_NEVER);
    if(!n)
      return NULL;
    n->op = OP_PRESENT;
  }
  if(lhs.type == T_STRING)
    return n; /* a bare quoted value: no such field */

  if(lhs.len == 4 && !memcmp(lhs.start, "name", 4)) {
    n->type = N_NAME;
  } else if(p->kind == LSD_ENDPOINT && lhs.len == 7 &&
            !memcmp(lhs.start, "address", 7)) {
    n->type = N_ADDRESS;
  } else if(p->kind == LSD_ENDPOINT && lhs.len == 4 &&
            !memcmp(lhs.start, "port", 4)) {
    n->type = N_PORT;
    if(has_op) {
      char *end;
      errno = 0;
      n->num = strtoll(value, &end, 10);
      if(errno || end == value || *end) {
        fail(p, lhs.col, "port compares with a whole number");
        return NULL;
      }
    }
  } else if(lhs.len == mfl && !memcmp(lhs.start, mf, mfl)) {
    /* labels:key / annotations:key: has that key */
    if(n->op == OP_HAS) {
      n->type = N_MAP_HAS_KEY;
      n->key = n->value;
    } else if(n->op != OP_PRESENT) {
      fail(p, lhs.col, "compare a map by key: use labels.KEY or "
                       "annotations.KEY, or labels:KEY to test for a key");
      return NULL;
    }
  } else if(lhs.len > mfl + 1 && !memcmp(lhs.start, mf, mfl) &&
            lhs.start[mfl] == '.') {
    n->key = tok_dup(p, lhs.start + mfl + 1, lhs.len - mfl - 1, false);
    if(!n->key)
      return NULL;
    if(n->op == OP_PRESENT || (n->op == OP_HAS && !strcmp(n->value, "*")))
      n->type = N_MAP_HAS_KEY;
    else
      n->type = N_MAP;
  }
  /* anything else stays N_NEVER: an unknown field matches nothing */
  return n;
}

static struct node *parse_simple(struct parser *p)
{
  struct node *n;

  if(p->cur.type != T_LPAREN)
    return parse_restriction(p);
  if(++p->depth > MAX_DEPTH) {
    fail(p, p->cur.col, "filter nests too deeply");
    return NULL;
  }
  next(p);
  n = parse_expr(p);
  if(!n)
    return NULL;
  if(p->cur.type != T_RPAREN) {
    fail(p, p->cur.col, "expected ')'");
    return NULL;
  }
  p->depth--;
  next(p);
  return n;
}

static struct node *parse_term(struct parser *p)
{
  struct node *n, *inner;

  if(tok_is(&p->cur, "NOT")) {
    next(p);
  } else if(p->cur.type == T_TEXT && p->cur.start[0] == '-') {
    /* "-x": negate; strip the dash from the token */
    p->cur.start++;
    p->cur.len--;
    p->cur.col++;
    if(p->cur.len == 0)
      next(p);
  } else {
    return parse_simple(p);
  }
  if(++p->depth > MAX_DEPTH) {
    fail(p, p->cur.col, "filter nests too deeply");
    return NULL;
  }
  inner = parse_simple(p);
  p->depth--;
  if(!inner)
    return NULL;
  n = new_node(p, N_NOT);
  if(n)
    n->a = inner;
  return n;
}

static struct node *join(struct parser *p, enum node_type t, struct node *a,
                         struct node *b)
{
  struct node *n = new_node(p, t);

  if(n) {
    n->a = a;
    n->b = b;
  }
  return n;
}

static struct node *parse_factor(struct parser *p)
{
  struct node *n = parse_term(p);

  while(n && tok_is(&p->cur, "OR")) {
    struct node *rhs;
    next(p);
    rhs = parse_term(p);
    n = rhs ? join(p, N_OR, n, rhs) : NULL;
  }
  return n;
}

static bool starts_factor(const struct parser *p)
{
  return (p->cur.type == T_TEXT && !tok_is(&p->cur, "AND") &&
          !tok_is(&p->cur, "OR")) ||
         p->cur.type == T_STRING || p->cur.type == T_LPAREN;
}

static struct node *parse_sequence(struct parser *p)
{
  struct node *n = parse_factor(p);

  while(n && starts_factor(p)) {
    struct node *rhs = parse_factor(p);
    n = rhs ? join(p, N_AND, n, rhs) : NULL;
  }
  return n;
}

static struct node *parse_expr(struct parser *p)
{
  struct node *n = parse_sequence(p);

  while(n && tok_is(&p->cur, "AND")) {
    struct node *rhs;
    next(p);
    rhs = parse_sequence(p);
    n = rhs ? join(p, N_AND, n, rhs) : NULL;
  }
  return n;
}

grpc_status_code lsd_filter_compile(const char *text, enum lsd_kind kind,
                                   const char *field, struct lsd_filter **out,
                                   struct lsd_err *e)
{
  struct parser p = {.src = text, .kind = kind, .field = field, .e = e};
  const char *s = text;

  *out = NULL;
  while(is_space(*s))
    s++;
  if(!*s)
    return GRPC_STATUS_OK;
  if(strlen(text) > MAX_FILTER_LEN)
    return lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT,
                   "%s: filter is longer than %d bytes", field, MAX_FILTER_LEN);
  p.f = calloc(1, sizeof(*p.f));
  if(!p.f)
    return lsd_fail(e, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  next(&p);
  p.f->root = parse_expr(&p);
  if(!p.failed && p.cur.type != T_END)
    fail(&p, p.cur.col,
         p.cur.type == T_OP ? "unexpected operator (quote values that "
                              "contain ':' or other operators)"
                            : "unexpected token");
  if(p.failed || !p.f->root) {
    lsd_filter_free(p.f);
    if(!p.failed)
      fail(&p, 1, "empty filter");
    return e->code;
  }
  *out = p.f;
  return GRPC_STATUS_OK;
}

void lsd_filter_free(struct lsd_filter *f)
{
  if(!f)
    return;
  for(size_t i = 0; i < f->n_strings; i++)
    free(f->strings[i]);
  free(f);
}

static bool cmp_result(enum op op, int c)
{
  switch(op) {
  case OP_EQ: case OP_HAS: return c == 0;
  case OP_NE: return c != 0;
  case OP_LT: return c < 0;
  case OP_LE: return c <= 0;
  case OP_GT: return c > 0;
  case OP_GE: return c >= 0;
  case OP_PRESENT: return true;
  }
  return false;
}

static bool match_string(const struct node *n, const char *have)
{
  if(n->op == OP_PRESENT)
    return *have != '\0';
  return cmp_result(n->op, strcmp(have, n->value));
}

static const char *map_get(const struct lsd_view *v, const char *key)
{
  for(size_t i = 0; i < v->n_kv; i++)
    if(!strcmp(v->kv[i].key, key))
      return v->kv[i].value;
  return NULL;
}

static bool eval(const struct node *n, const struct lsd_view *v)
{
  const char *val;

  switch(n->type) {
  case N_AND: return eval(n->a, v) && eval(n->b, v);
  case N_OR: return eval(n->a, v) || eval(n->b, v);
  case N_NOT: return !eval(n->a, v);
  case N_NEVER: return false;
  case N_NAME: return match_string(n, v->name);
  case N_ADDRESS: return match_string(n, v->address);
  case N_PORT:
    if(n->op == OP_PRESENT)
      return v->port != 0;
    return cmp_result(n->op, (v->port > n->num) - (v->port < n->num));
  case N_MAP_HAS_KEY: return map_get(v, n->key) != NULL;
  case N_MAP:
    val = map_get(v, n->key);
    return val && cmp_result(n->op, strcmp(val, n->value));
  }
  return false;
}

bool lsd_filter_match(const struct lsd_filter *f, const struct lsd_view *v)
{
  return !f || eval(f->root, v);
}
