/* SPDX-License-Identifier: Apache-2.0 */
#include "portfile.h"

#include <limits.h>
#include <stdio.h>
#include <unistd.h>

int svc_write_port_file(const char *path, int port)
{
  char tmp[PATH_MAX];
  FILE *f;

  if(snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
    return -1;
  if(!(f = fopen(tmp, "w")))
    return -1;
  fprintf(f, "%d\n", port);
  if(fclose(f) || rename(tmp, path)) {
    unlink(tmp);
    return -1;
  }
  return 0;
}
