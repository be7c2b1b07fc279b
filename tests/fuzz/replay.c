/* SPDX-License-Identifier: Apache-2.0 */
/* Replays a fuzz corpus through a target without libFuzzer, so every ctest
 * run checks that no input that once crashed (or any seed) crashes now.
 * Usage: replay_<target> DIR... */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
  FILE *f = fopen(path, "rb");
  uint8_t *buf;
  size_t n;

  if(!f)
    return -1;
  buf = malloc(1 << 20);
  n = buf ? fread(buf, 1, 1 << 20, f) : 0;
  fclose(f);
  if(!buf)
    return -1;
  LLVMFuzzerTestOneInput(buf, n);
  free(buf);
  return 0;
}

int main(int argc, char **argv)
{
  unsigned count = 0;

  for(int i = 1; i < argc; i++) {
    DIR *d = opendir(argv[i]);
    struct dirent *e;
    char path[4096];
    if(!d) {
      fprintf(stderr, "replay: cannot open corpus %s\n", argv[i]);
      return 1;
    }
    while((e = readdir(d))) {
      if(e->d_name[0] == '.')
        continue;
      snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
      if(replay_file(path)) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        closedir(d);
        return 1;
      }
      count++;
    }
    closedir(d);
  }
  if(!count) {
    fprintf(stderr, "replay: empty corpus\n");
    return 1;
  }
  printf("replay: %u inputs, no crash\n", count);
  return 0;
}
