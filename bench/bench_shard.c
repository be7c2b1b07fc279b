/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_shard: how `serve --replicas N` spreads 100,000 check × endpoint
 * pairs, and how many move when N grows by one, beside the ideal (1/N
 * each, 1/(N+1) moved) and the naive peer, hash modulo N, measured in the
 * same run; plus the cost of deciding an owner.
 */
#include "bench_common.h"

#include <sdconnect/probe.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define PAIRS 100000
#define MAX_N 32

static char checks[PAIRS][16], eps[PAIRS][96];

/* The naive way: the same FNV-1a of the pair, modulo N. */
static unsigned modulo_owner(unsigned i, unsigned n)
{
  uint64_t h = 0xcbf29ce484222325ull;
  for(const char *s = checks[i]; *s; s++)
    h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
  h = (h ^ 0xff) * 0x100000001b3ull;
  for(const char *s = eps[i]; *s; s++)
    h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
  return (unsigned)(h % n);
}

int main(void)
{
  static const unsigned sizes[] = {2, 3, 5, 10, 20};
  static unsigned per[MAX_N];
  char key[64];
  double t0, ns;
  volatile unsigned sink = 0;

  for(unsigned i = 0; i < PAIRS; i++) {
    snprintf(checks[i], sizeof(checks[i]), "check-%u", i % 200);
    snprintf(eps[i], sizeof(eps[i]),
             "projects/p/locations/us-central1/namespaces/n/services/s%u/endpoints/e%u",
             i % 500, i);
  }
  printf("%u check x endpoint pairs\n\n", PAIRS);
  printf("%-9s %-22s %-22s %-14s %-14s %-14s\n", "replicas", "share min..max (jump)",
         "ideal share", "moved (jump)", "moved (mod N)", "ideal moved");
  for(size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
    unsigned n = sizes[s], lo = PAIRS, hi = 0, moved = 0, moved_mod = 0;
    memset(per, 0, sizeof(per));
    for(unsigned i = 0; i < PAIRS; i++) {
      unsigned o = sdc_shard_owner(checks[i], eps[i], n);
      per[o]++;
      moved += o != sdc_shard_owner(checks[i], eps[i], n + 1);
      moved_mod += modulo_owner(i, n) != modulo_owner(i, n + 1);
    }
    for(unsigned r = 0; r < n; r++) {
      lo = per[r] < lo ? per[r] : lo;
      hi = per[r] > hi ? per[r] : hi;
    }
    {
      char share[32], mj[16], mm[16];
      snprintf(share, sizeof(share), "%u..%u", lo, hi);
      snprintf(mj, sizeof(mj), "%.2f%%", 100.0 * moved / PAIRS);
      snprintf(mm, sizeof(mm), "%.2f%%", 100.0 * moved_mod / PAIRS);
      printf("%-9u %-22s %-22.0f %-14s %-14s %.2f%%\n", n, share, (double)PAIRS / n, mj, mm,
             100.0 / (n + 1));
    }
    snprintf(key, sizeof(key), "r%u_share_min", n);
    json_add(key, lo);
    snprintf(key, sizeof(key), "r%u_share_max", n);
    json_add(key, hi);
    snprintf(key, sizeof(key), "r%u_moved_jump_pct", n);
    json_add(key, 100.0 * moved / PAIRS);
    snprintf(key, sizeof(key), "r%u_moved_mod_pct", n);
    json_add(key, 100.0 * moved_mod / PAIRS);
    snprintf(key, sizeof(key), "r%u_moved_ideal_pct", n);
    json_add(key, 100.0 / (n + 1));
  }
  t0 = now_s();
  for(int round = 0; round < 10; round++)
    for(unsigned i = 0; i < PAIRS; i++)
      sink += sdc_shard_owner(checks[i], eps[i], 10);
  ns = (now_s() - t0) * 1e9 / (10.0 * PAIRS);
  printf("\nowner of one pair among 10 replicas: %.0f ns (all %u pairs: %.1f ms)\n", ns, PAIRS,
         ns * PAIRS / 1e6);
  (void)sink;
  json_add("owner_ns", ns);
  printf("%s}\n", bench_json);
  return 0;
}
