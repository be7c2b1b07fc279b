/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which replica owns a check × endpoint pair: a 64-bit hash of the pair
 * (FNV-1a, then a finalizer so that similar names spread) placed in one of
 * `count` buckets by Lamping and Veach's jump consistent hash. Growing from
 * n to n+1 buckets moves a key only to the new bucket, and about 1/(n+1)
 * of the keys move: a StatefulSet that scales by adding or removing its
 * highest ordinal reshuffles the least it can.
 */
#include <sdconnect/probe.h>

#include <stdint.h>

static uint64_t fnv1a(uint64_t h, const char *s)
{
  for(; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 0x100000001b3ull;
  }
  return h;
}

/* splitmix64's finalizer: every input bit reaches every output bit */
static uint64_t mix(uint64_t x)
{
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

static unsigned jump(uint64_t key, unsigned buckets)
{
  int64_t b = -1, j = 0;

  while(j < (int64_t)buckets) {
    b = j;
    key = key * 2862933555777941757ull + 1;
    j = (int64_t)((double)(b + 1) * ((double)(1ull << 31) / (double)((key >> 33) + 1)));
  }
  return (unsigned)b;
}

unsigned sdc_shard_owner(const char *check_id, const char *endpoint, unsigned count)
{
  uint64_t h = 0xcbf29ce484222325ull;

  if(count <= 1)
    return 0;
  h = fnv1a(h, check_id ? check_id : "");
  h = fnv1a(h ^ 0xff, endpoint ? endpoint : ""); /* ("ab","c") is not ("a","bc") */
  return jump(mix(h), count);
}
