/* SPDX-License-Identifier: Apache-2.0 */
/* The config module: YAML/JSON to a tree with positions, typed getters,
 * unknown keys with suggestions, and limits on hostile input. */
#include "suites.h"

#include "config/config.h"

#include <sdconnect/sdconnect.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct sdc__cfg *load(const char *text)
{
  struct sdc__cfg *c = NULL;

  ck_assert_int_eq(sdc__cfg_load_mem("t.yaml", text, strlen(text), &c), SDC_OK);
  ck_assert_uint_ge(c->n_docs, 1);
  return c;
}

/* The one recorded problem, which must contain `want`. */
static void one_error(struct sdc__cfg *c, const char *want)
{
  ck_assert_msg(c->n_errs == 1, "%zu problems, first: %s", c->n_errs,
                c->n_errs ? c->errs[0] : "");
  ck_assert_msg(strstr(c->errs[0], want), "'%s' does not hold '%s'", c->errs[0], want);
}

START_TEST(nodes_know_their_line_and_column)
{
  struct sdc__cfg *c = load("a: 1\nb:\n  c: [x, \"y\"]\n");
  const struct sdc__cfg_node *root = c->docs[0], *b, *cc;

  ck_assert_int_eq(root->kind, SDC_CFG_MAP);
  b = sdc__cfg_field(root, "b");
  ck_assert_uint_eq(b->line, 3);
  ck_assert_uint_eq(b->col, 3);
  cc = sdc__cfg_field(b, "c");
  ck_assert_int_eq(cc->kind, SDC_CFG_SEQ);
  ck_assert_uint_eq(cc->kids[1]->col, 10);
  ck_assert(cc->kids[0]->plain);
  ck_assert(!cc->kids[1]->plain);
  sdc__cfg_free(c);
}
END_TEST

START_TEST(json_is_yaml_and_documents_are_separate)
{
  struct sdc__cfg *c = load("{\"a\": {\"useSsl\": true}}\n---\n[1, 2]\n");
  const struct sdc__cfg_node *a;
  bool v = false;

  ck_assert_uint_eq(c->n_docs, 2);
  a = sdc__cfg_field(c->docs[0], "a");
  /* the proto name is accepted for the JSON one */
  ck_assert(sdc__cfg_bool(c, sdc__cfg_field(a, "useSsl"), "a.useSsl", &v) && v);
  ck_assert_int_eq(c->docs[1]->kind, SDC_CFG_SEQ);
  sdc__cfg_free(c);
  c = load("use_ssl: false\n");
  ck_assert_ptr_nonnull(sdc__cfg_field(c->docs[0], "useSsl"));
  sdc__cfg_free(c);
}
END_TEST

START_TEST(syntax_errors_carry_line_and_column)
{
  struct sdc__cfg *c = NULL;
  const char *bad = "a: 1\nb: [1, 2\nc: 3\n";

  ck_assert_int_eq(sdc__cfg_load_mem("bad.yaml", bad, strlen(bad), &c), SDC_ECONFIG);
  ck_assert_uint_eq(c->n_docs, 0);
  ck_assert_msg(!strncmp(c->errs[0], "bad.yaml:3:", 11), "%s", c->errs[0]);
  ck_assert_ptr_nonnull(strstr(c->errs[0], "not valid YAML or JSON"));
  sdc__cfg_free(c);
}
END_TEST

START_TEST(alias_bombs_and_deep_nesting_are_refused)
{
  char bomb[2048], deep[400];
  struct sdc__cfg *c = NULL;
  size_t o = 0;

  o += snprintf(bomb + o, sizeof(bomb) - o, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
  for(int i = 1; i < 9; i++)
    o += snprintf(bomb + o, sizeof(bomb) - o, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, "
                  "*a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i - 1, i - 1, i - 1, i - 1,
                  i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
  ck_assert_int_eq(sdc__cfg_load_mem("bomb.yaml", bomb, o, &c), SDC_ECONFIG);
  ck_assert_ptr_nonnull(strstr(c->errs[0], "too many nodes"));
  sdc__cfg_free(c);
  memset(deep, '[', 100);
  memset(deep + 100, ']', 100);
  ck_assert_int_eq(sdc__cfg_load_mem("deep.yaml", deep, 200, &c), SDC_ECONFIG);
  ck_assert_ptr_nonnull(strstr(c->errs[0], "too deeply nested"));
  sdc__cfg_free(c);
}
END_TEST

START_TEST(unknown_keys_get_a_suggestion_and_duplicates_are_named)
{
  static const char *const known[] = {"timeout", "period", "httpCheck", NULL};
  struct sdc__cfg *c = load("timout: 10s\nperiod: 60s\nperiod: 300s\nzzz: 1\n");

  (void)sdc__cfg_field(c->docs[0], "period");
  sdc__cfg_unknown(c, c->docs[0], "uptimeCheckConfigs[2]", known);
  ck_assert_uint_eq(c->n_errs, 3);
  ck_assert_str_eq(c->errs[0], "t.yaml:1:1: uptimeCheckConfigs[2]: unknown field "
                               "'timout'; did you mean 'timeout'?");
  ck_assert_str_eq(c->errs[1], "t.yaml:3:1: uptimeCheckConfigs[2]: 'period' is "
                               "given twice (first at line 2); keep one");
  ck_assert_str_eq(c->errs[2], "t.yaml:4:1: uptimeCheckConfigs[2]: unknown field 'zzz'");
  ck_assert_str_eq(sdc__cfg_suggest("http_check", known), "httpCheck");
  ck_assert_ptr_null(sdc__cfg_suggest("banana", known));
  sdc__cfg_free(c);
}
END_TEST

START_TEST(typed_getters_accept_and_refuse)
{
  struct sdc__cfg *c = load("i: 443\nq: \"8080\"\nf: 1.5\nb: \"true\"\nd: 1.25s\n"
                            "e: 10\nx: QUJD\nn: ~\nl: [1]\nm: 60\n");
  const struct sdc__cfg_node *r = c->docs[0];
  static const struct sdc__cfg_enum tab[] = {{"GET", 1}, {"POST", 2}};
  long long v = 0;
  uint64_t ms = 0;
  int e = 0;
  bool b;
  unsigned char *raw = NULL;
  size_t len = 0;
  char *s = NULL;

  ck_assert(sdc__cfg_int(c, sdc__cfg_field(r, "i"), "i", 1, 65535, &v) && v == 443);
  ck_assert(sdc__cfg_int(c, sdc__cfg_field(r, "q"), "q", 1, 65535, &v) && v == 8080);
  ck_assert(sdc__cfg_duration_ms(c, sdc__cfg_field(r, "d"), "d", &ms) && ms == 1250);
  ck_assert(sdc__cfg_enum(c, sdc__cfg_field(r, "e"), "e", tab, 2, &e) == false);
  ck_assert(sdc__cfg_base64(c, sdc__cfg_field(r, "x"), "x", 10, &raw, &len));
  ck_assert_uint_eq(len, 3);
  ck_assert(!memcmp(raw, "ABC", 3));
  sdc_free(raw);
  ck_assert(sdc__cfg_is_null(sdc__cfg_field(r, "n")));
  ck_assert_uint_eq(c->n_errs, 1); /* the enum */
  ck_assert_ptr_nonnull(strstr(c->errs[0], "'10' is not one of GET, POST"));
  c->n_errs = 0;
  sdc_free(c->errs[0]);
  ck_assert(!sdc__cfg_int(c, sdc__cfg_field(r, "f"), "f", 0, 9, &v));
  one_error(c, "t.yaml:3:4: f: '1.5' is not a whole number (expected 0 to 9)");
  sdc_free(c->errs[0]);
  c->n_errs = 0;
  ck_assert(!sdc__cfg_bool(c, sdc__cfg_field(r, "b"), "b", &b));
  one_error(c, "expected true or false, unquoted");
  sdc_free(c->errs[0]);
  c->n_errs = 0;
  ck_assert(!sdc__cfg_duration_ms(c, sdc__cfg_field(r, "m"), "m", &ms));
  one_error(c, "write it with the 's'");
  sdc_free(c->errs[0]);
  c->n_errs = 0;
  ck_assert(!sdc__cfg_str(c, sdc__cfg_field(r, "l"), "l", 10, &s));
  one_error(c, "t.yaml:9:4: l: a list here is wrong (expected a value)");
  sdc_free(c->errs[0]);
  c->n_errs = 0;
  ck_assert(!sdc__cfg_int(c, sdc__cfg_field(r, "i"), "i", 1, 100, &v));
  one_error(c, "443 is out of range (expected 1 to 100)");
  sdc__cfg_free(c);
}
END_TEST

START_TEST(problems_are_capped_and_counted)
{
  struct sdc__cfg *c = load("a: 1\n");
  char *text;

  for(int i = 0; i < SDC_CFG_MAX_ERRORS + 7; i++)
    sdc__cfg_error(c, c->docs[0], "a", "problem %d", i);
  text = sdc__cfg_errors_text(c);
  ck_assert_ptr_nonnull(strstr(text, "t.yaml:1:1: a: problem 0\n"));
  ck_assert_ptr_nonnull(strstr(text, "... and 7 more problems"));
  sdc_free(text);
  sdc__cfg_free(c);
}
END_TEST

Suite *config_suite(void)
{
  Suite *s = suite_create("config");
  TCase *tc = tcase_create("tree");

  tcase_add_test(tc, nodes_know_their_line_and_column);
  tcase_add_test(tc, json_is_yaml_and_documents_are_separate);
  tcase_add_test(tc, syntax_errors_carry_line_and_column);
  tcase_add_test(tc, alias_bombs_and_deep_nesting_are_refused);
  suite_add_tcase(s, tc);
  tc = tcase_create("schema");
  tcase_add_test(tc, unknown_keys_get_a_suggestion_and_duplicates_are_named);
  tcase_add_test(tc, typed_getters_accept_and_refuse);
  tcase_add_test(tc, problems_are_capped_and_counted);
  suite_add_tcase(s, tc);
  return s;
}
