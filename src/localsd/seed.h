/* SPDX-License-Identifier: Apache-2.0 */
/* --seed FILE: load a registry of namespaces, services and endpoints from
 * YAML (JSON is valid YAML) at start. See docs/sdconnect-registry.yaml.5. */
#ifndef SDC_LOCALSD_SEED_H
#define SDC_LOCALSD_SEED_H

#include "registry.h"

struct seed_stats {
  unsigned created, updated;
};

/* Validate the whole file first, then apply it: each resource is created,
 * or updated in place when it exists (its uid and network kept). On error
 * nothing has been written and err holds "FILE:LINE:COL: what; hint". */
int lsd_seed_load(struct lsd_registry *reg, const char *path,
                 struct seed_stats *stats, char *err, size_t errlen);

#endif
