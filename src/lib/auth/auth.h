/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal header of the auth module: Google OAuth 2.0 access tokens from a
 * service-account key file (JWT signed here, exchanged at the key's
 * token_uri), an authorized-user file (refresh token), the metadata server,
 * or a static bearer token; cached until shortly before they expire.
 *
 * Every address is configurable so that tests never leave loopback:
 *   GOOGLE_APPLICATION_CREDENTIALS  key or authorized-user file
 *   CLOUDSDK_CONFIG                 gcloud's config dir (ADC file inside)
 *   GCE_METADATA_HOST               metadata server host[:port]
 *   SDCONNECT_OAUTH_TOKEN_URI       token endpoint for authorized-user files
 *   SDCONNECT_DMI_PRODUCT_NAME      file that says whether this is GCE
 * Tokens fetch over the module's own libcurl client, never the pool.
 */
#ifndef SDC_AUTH_H
#define SDC_AUTH_H

#include <sdconnect/common.h>

#include <stdint.h>

#define SDC_CLOUD_PLATFORM_SCOPE "https://www.googleapis.com/auth/cloud-platform"
#define SDC_DEFAULT_TOKEN_URI "https://oauth2.googleapis.com/token"
#define SDC_DEFAULT_METADATA_HOST "metadata.google.internal"
#define SDC_DEFAULT_IAM_ENDPOINT "https://iamcredentials.googleapis.com"
#define SDC_TOKEN_MAX 4096

struct sdc__auth;

/* Credentials from one JSON file: "service_account" or "authorized_user".
 * SDC_ECONFIG with a message naming the file and field on a bad file. */
SDC_WARN_UNUSED sdc_status sdc__auth_from_file(struct sdc__auth **out,
                                               const char *path,
                                               const char *scope, char *err,
                                               size_t errlen);

/* Google's default order: GOOGLE_APPLICATION_CREDENTIALS, gcloud's
 * application-default file, then the metadata server when GCE_METADATA_HOST
 * is set or the machine says it is Compute Engine. Nothing found:
 * SDC_ENOTFOUND, and err lists where it looked and how to fix it. Never
 * touches the network. */
SDC_WARN_UNUSED sdc_status sdc__auth_default(struct sdc__auth **out,
                                             const char *scope, char *err,
                                             size_t errlen);

/* A fixed bearer token (copied, zeroed on free). */
SDC_WARN_UNUSED sdc_status sdc__auth_static(struct sdc__auth **out,
                                            const char *token);

/* Access tokens of service account `email`, minted by the IAM Credentials
 * API (`iam_endpoint`, NULL: Google's) generateAccessToken with `base`'s
 * own token. `base` is borrowed: it must outlive the result, and its
 * cached token is shared with its other users. SDC_EINVAL, SDC_ENOMEM. */
SDC_WARN_UNUSED sdc_status sdc__auth_impersonate(struct sdc__auth **out,
                                                 struct sdc__auth *base,
                                                 const char *email,
                                                 const char *iam_endpoint,
                                                 const char *scope);

/* Make `a` a source of OIDC ID tokens for `audience` instead of access
 * tokens: a service-account key signs a JWT with target_audience and
 * exchanges it at its token_uri for an id_token; the metadata server is
 * asked at .../service-accounts/default/identity?audience=. SDC_ECONFIG
 * (err says why) for authorized-user files and static tokens, which cannot
 * mint ID tokens for an audience. Call before the first token. */
SDC_WARN_UNUSED sdc_status sdc__auth_set_id_audience(struct sdc__auth *a,
                                                     const char *audience,
                                                     char *err, size_t errlen);

/* A valid access token into out (NUL-terminated), fetching one when the
 * cached token is missing or near expiry. Thread-safe; blocks at most
 * `timeout_ms` while fetching. Errors: SDC_EUNAVAILABLE (endpoint down),
 * SDC_EPERM (refused), SDC_EPROTO (bad answer); err says which. */
SDC_WARN_UNUSED sdc_status sdc__auth_token(struct sdc__auth *a, char *out,
                                           size_t cap, uint64_t timeout_ms,
                                           char *err, size_t errlen);

/* The cached token into out when it needs no refresh. Never fetches nor
 * waits (a fetch under way on another thread counts as none fresh), so the
 * loop may call it: SDC_OK, SDC_EAGAIN (none fresh now), SDC_ETOOBIG. */
SDC_WARN_UNUSED sdc_status sdc__auth_cached(struct sdc__auth *a, char *out, size_t cap);

/* True when a cached token is valid for at least `margin_ms` more. */
int sdc__auth_has_fresh(struct sdc__auth *a, uint64_t margin_ms);

/* "service account NAME (file PATH)", "metadata server HOST", ...: for
 * messages; never holds a secret. */
const char *sdc__auth_describe(const struct sdc__auth *a);

void sdc__auth_free(struct sdc__auth *a);

/* ---- jwt.c --------------------------------------------------------------- */
/* RS256 JWT assertion for a service account (RFC 7523), malloc'd: for an
 * access token with `scope`, or, with `scope` NULL, for an ID token whose
 * audience is `target_audience`. */
SDC_WARN_UNUSED sdc_status sdc__jwt_assertion(const char *private_key_pem,
                                              const char *key_id,
                                              const char *client_email,
                                              const char *scope,
                                              const char *target_audience,
                                              const char *audience,
                                              int64_t now_s, char **out,
                                              char *err, size_t errlen);
/* base64url without padding, malloc'd. */
char *sdc__b64url(const unsigned char *in, size_t len);

/* ---- http.c: the auth module's own small HTTP client ---------------------- */
struct sdc__http_resp {
  long status;
  char *body; /* NUL-terminated, at most 64 KiB */
  size_t len;
};

/* POST form data (`form` != NULL) or GET, with extra header lines.
 * SDC_EUNAVAILABLE when no answer came, with curl's reason in err. */
SDC_WARN_UNUSED sdc_status sdc__http_fetch(const char *url, const char *form,
                                           const char *const *headers,
                                           uint64_t timeout_ms,
                                           struct sdc__http_resp *out,
                                           char *err, size_t errlen);
void sdc__http_resp_cleanup(struct sdc__http_resp *r);

/* "Basic <base64(user ":" password)>" (RFC 7617) for an Authorization
 * header. With `password` NULL, `user` is the whole "user:password" pair
 * (as a secret holds it) and is encoded as it is. Free with
 * sdc__free_secret(); NULL when out of memory. basic.c. */
char *sdc__auth_basic(const char *user, const char *password);

#endif
