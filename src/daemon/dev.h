/* SPDX-License-Identifier: Apache-2.0 */
/* `sdconnect serve --dev`: demo HTTPS targets and the files that make the
 * daemon run the local directory and a demo check against them. */
#ifndef SDC_DAEMON_DEV_H
#define SDC_DAEMON_DEV_H

#define DEV_PROJECT "demo-project"
#define DEV_LOCATION "us-central1"
#define DEV_NAMESPACE "demo"
#define DEV_SERVICE "webhook"
#define DEV_HOST "webhook.demo.internal" /* SNI, certificate name and Host */
#define DEV_PERIOD_S 10
#define DEV_WEBHOOK "demo"
#define DEV_WEBHOOK_ANSWER                                                                  \
  "{\"fulfillmentResponse\":{\"messages\":[{\"text\":{\"text\":[\"Hello from "            \
  "sdconnect's demo webhook\"]}}]},\"sessionInfo\":{\"parameters\":{\"demo\":true}}}"
#define DEV_SERVICE_NAME                                                       \
  "projects/" DEV_PROJECT "/locations/" DEV_LOCATION "/namespaces/" DEV_NAMESPACE \
  "/services/" DEV_SERVICE

#include <stddef.h>

struct dev;

/* Make a CA and the targets' certificates, start the targets ("healthy"
 * and "failing") on 127.0.0.1, and write ca.pem, registry.yaml,
 * webhooks.yaml and sdconnect.yaml (admin on `admin_listen`, the gateway
 * on its port + 1, state in `dir`) into `dir` (made if missing). 0, or -1
 * with `err`. */
int dev_start(struct dev **out, const char *dir, const char *admin_listen, char *err,
              size_t cap);
const char *dev_dir(const struct dev *v); /* where its files are */
/* The port of target 0 (healthy) or 1 (failing). */
int dev_port(const struct dev *v, int i);
void dev_stop(struct dev *v); /* NULL ok */

#endif
