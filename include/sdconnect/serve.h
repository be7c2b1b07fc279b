/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's configuration (`sdconnect serve`, sdconnect.yaml(5)): one
 * YAML file naming the directory, the checks (inline, or files by glob),
 * the admin listener, limits, results and logging. Loaded and checked
 * whole, every problem reported as FILE:LINE:COL: FIELD: what is wrong.
 *
 * Threads: a loaded configuration is immutable; any thread may read it.
 * Blocking: loading reads the file and the files it names (and nothing
 * from the network).
 */
#ifndef SDCONNECT_SERVE_H
#define SDCONNECT_SERVE_H

#include <sdconnect/probe.h>
#include <sdconnect/webhook.h>

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*! A loaded sdconnect.yaml. Strings are NULL when not given. Append-only:
 *  the library makes it, and fields are only ever added at the end. */
typedef struct sdc_serve_config {
  /* directory: where services are resolved */
  const char *sd_endpoint;       /*!< HOST:PORT; NULL: Google's API */
  int sd_insecure;               /*!< plaintext (a local directory on loopback) */
  const char *sd_ca_file, *sd_cert_file, *sd_key_file, *sd_token_file;
  const char *sd_credentials_file; /*!< Google credentials; NULL: default search */
  uint64_t sd_timeout_ms, sd_cache_ttl_ms;
  /* local: a local directory run by the daemon */
  int local;                     /*!< run one (directory then defaults to it) */
  const char *local_listen, *local_db, *local_seed;
  int local_memory;
  /* admin: /metrics, /healthz, /readyz, the status page */
  const char *admin_listen;      /*!< HOST:PORT, default 127.0.0.1:9464 */
  const char *admin_cert_file, *admin_key_file, *admin_client_ca_file;
  const char *admin_token_file;
  /* probing */
  unsigned max_running;          /*!< runs at once, default 64 */
  const char *id_token_credentials;
  /* results and state */
  const char *results_file;      /*!< JSON lines; "-" standard output; NULL none */
  unsigned history_days;         /*!< kept per check, default 7 */
  const char *state_dir;         /*!< default /var/lib/sdconnect */
  const char *log_level;         /*!< error, warn, info (default), debug */
  /* the checks, inline and from `checkFiles`, in that order */
  const sdc_check_set *checks;
  size_t n_check_files;          /*!< files the globs matched */
  int sd_is_local;               /*!< the directory is the `local` one */
  /* webhooks: Dialogflow CX Webhook resources from `webhooks.files` */
  const sdc_webhook_set *webhooks; /*!< never NULL; may hold none */
  size_t n_webhook_files;
  const char *webhook_environment; /*!< overrides applied, or NULL */
  uint64_t webhook_probe_ms;     /*!< each webhook called this often; 0: never */
  /* gateway: POST /v1/webhooks/{id} forwarded to the webhook */
  const char *gateway_listen;    /*!< HOST:PORT; NULL: no gateway */
  const char *gateway_cert_file, *gateway_key_file, *gateway_client_ca_file;
  const char *gateway_token_file;
  size_t gateway_max_body;       /*!< bytes of a request, default 1 MiB */
  unsigned gateway_max_concurrent; /*!< calls at once, default 256 */
  unsigned gateway_max_connections; /*!< open client connections, default 4096 */
} sdc_serve_config;

/*! Load and check `path` (and the check files its globs name, relative to
 *  its folder).
 *  \param[out] out     Set on SDC_OK only; free with sdc_serve_config_free().
 *  \param[out] errors  On failure, what is wrong, one problem a line
 *                      (sdc_free()); may be NULL.
 *  \return SDC_OK, SDC_ECONFIG, SDC_EIO (unreadable), SDC_ETOOBIG,
 *  SDC_ENOMEM, SDC_EINVAL (a NULL path or out). */
SDC_EXTERN sdc_status sdc_serve_config_load(const char *path,
                                            sdc_serve_config **out,
                                            char **errors);
SDC_EXTERN void sdc_serve_config_free(sdc_serve_config *c); /* NULL ok */

#ifdef __cplusplus
}
#endif
#endif /* SDCONNECT_SERVE_H */
