/* SPDX-License-Identifier: Apache-2.0 */
/* Internal header of the pool module. */
#ifndef SDC_POOL_INT_H
#define SDC_POOL_INT_H

#include <sdconnect/pool.h>

#include <curl/curl.h>
#include <stdbool.h>

/* libcurl's process-wide share (TLS sessions, DNS), created on first use;
 * sdc_global_cleanup() releases it. */
CURLSH *sdc__curl_share(void);
void sdc__curl_share_cleanup(void);

/* TLS facts of the connection behind `easy` (call while the transfer is
 * running, e.g. from a header callback). Strings are malloc'd into *chain. */
void sdc__tls_facts_capture(CURL *easy, char *version, size_t vcap,
                            long *verify, int64_t *expiry, char ***chain,
                            size_t *n_chain);

/* A clear account of a failed transfer: what went wrong with TLS or the
 * connection, for `host`. Returns the status class. */
sdc_status sdc__curl_explain(CURLcode rc, CURL *easy, const char *errbuf,
                             const char *host, bool has_client_cert, char *out,
                             size_t cap);

#endif
