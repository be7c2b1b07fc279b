/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The local server's IAM (`sd-server --iam-policy FILE`), so that
 * permission findings are real in tests and local rehearsals: bearer
 * tokens stand for members, bindings give members roles on a project, a
 * location, a namespace or a service (and so on everything under it), each
 * method needs the permission Google's does, and GetIamPolicy,
 * SetIamPolicy and TestIamPermissions work on namespaces and services.
 */
#ifndef SDC_LOCALSD_IAM_H
#define SDC_LOCALSD_IAM_H

#include "registry.h"

#include <stdbool.h>
#include <stddef.h>

struct lsd_iam;

/* Read the policy file (YAML: principals: [{token, member}], bindings:
 * [{resource, role, members: [...]}]). 0, or -1 with err (file:line). */
int lsd_iam_load(struct lsd_iam **out, const char *path, char *err, size_t cap);
/* The same from text (`name` for messages). */
int lsd_iam_parse(struct lsd_iam **out, const char *name, const char *text, size_t len,
                  char *err, size_t cap);
void lsd_iam_free(struct lsd_iam *iam); /* NULL ok */

/* The member a bearer token stands for, or NULL. */
const char *lsd_iam_member(const struct lsd_iam *iam, const char *token, size_t len);
/* Does `member` hold `permission` on `resource` (or above it)? */
bool lsd_iam_allowed(struct lsd_iam *iam, const char *member, const char *permission,
                     const char *resource);
/* May `member` make this call? OK, or PERMISSION_DENIED (or
 * INVALID_ARGUMENT for a request that cannot be read) in `e`. */
grpc_status_code lsd_iam_check(struct lsd_iam *iam, const char *member, enum lsd_method m,
                               const uint8_t *req, size_t len, struct lsd_err *e);
/* GetIamPolicy, SetIamPolicy, TestIamPermissions (after lsd_iam_check). */
void lsd_iam_call(struct lsd_iam *iam, const char *member, enum lsd_method m,
                  const uint8_t *req, size_t len, struct lsd_reply *out);

#endif
