/* SPDX-License-Identifier: Apache-2.0 */
/* Printing directory answers: YAML-like text and tables for people, JSON
 * with Service Directory's REST field names (proto3 JSON: fields at their
 * default value are left out) for programs. */
#ifndef SDC_CLI_OUT_H
#define SDC_CLI_OUT_H

#include <sdconnect/registry.h>

#include <jansson.h>

json_t *json_resource(const sdc_sd_resource *r);
json_t *json_service(const sdc_service *s);
/* Print and free `j` on stdout, indented. */
void json_print(json_t *j);

void print_resource(const sdc_sd_resource *r);
void print_service(const sdc_service *s);
/* Rows of a list; the header goes first when `header`. */
/* The first `n` items of `page` as table rows (a header first when asked). */
void print_rows(sdc_sd_kind kind, const sdc_sd_page *page, size_t n, int header);

#endif
