/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the local server's IAM policy file, and the request bytes
 * its permission check reads the resource from (every method), both from
 * outside. */
#include "iam.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const char policy[] =
      "principals: [{token: t, member: 'user:a@example.com'}]\n"
      "bindings: [{resource: projects/p, role: roles/servicedirectory.admin,\n"
      "            members: ['user:a@example.com']}]\n";
  struct lsd_iam *iam = NULL;
  struct lsd_err e;
  struct lsd_reply r;
  char err[300];

  if(!lsd_iam_parse(&iam, "fuzz.yaml", (const char *)data, size, err, sizeof(err)))
    lsd_iam_free(iam);
  if(lsd_iam_parse(&iam, "policy.yaml", policy, strlen(policy), err, sizeof(err)))
    return 0;
  for(int m = 0; m < M_COUNT; m++) {
    memset(&e, 0, sizeof(e));
    if(lsd_iam_check(iam, "user:a@example.com", (enum lsd_method)m, data, size, &e) ==
           GRPC_STATUS_OK &&
       (m == M_GET_IAM_POLICY || m == M_SET_IAM_POLICY || m == M_TEST_IAM_PERMISSIONS)) {
      lsd_iam_call(iam, "user:a@example.com", (enum lsd_method)m, data, size, &r);
      lsd_reply_cleanup(&r);
    }
  }
  lsd_iam_free(iam);
  return 0;
}
