/* SPDX-License-Identifier: Apache-2.0 */
/* The auth module without a network: JWT signing, credentials files and
 * the default search's refusal message. */
#include "suites.h"

#include "auth/auth.h"
#include "core/core.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *pem_of(EVP_PKEY *k)
{
  BIO *b = BIO_new(BIO_s_mem());
  char *data, *out;
  long n;

  PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
  n = BIO_get_mem_data(b, &data);
  out = strndup(data, (size_t)n);
  BIO_free(b);
  return out;
}

/* base64url text -> bytes */
static size_t unb64url(const char *in, size_t len, unsigned char *out)
{
  char buf[2048];
  size_t n = 0;
  int m;

  for(size_t i = 0; i < len; i++)
    buf[n++] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
  while(n % 4)
    buf[n++] = '=';
  buf[n] = '\0';
  m = EVP_DecodeBlock(out, (unsigned char *)buf, (int)n);
  return (size_t)m - (len % 4 == 2 ? 2 : len % 4 == 3 ? 1 : 0);
}

START_TEST(jwt_is_rs256_signed_with_the_right_claims)
{
  EVP_PKEY *k = EVP_RSA_gen(2048);
  char *pem = pem_of(k), *jwt = NULL, err[256];
  const char *d1, *d2;
  unsigned char part[2048], sig[512];
  size_t n, sn;
  EVP_MD_CTX *md = EVP_MD_CTX_new();

  ck_assert_int_eq(sdc__jwt_assertion(pem, "kid-9", "a@b.iam.gserviceaccount.com",
                                      "scope-x", NULL, "https://token.example/t", 1700000000,
                                      &jwt,
                                      err, sizeof(err)), SDC_OK);
  d1 = strchr(jwt, '.');
  d2 = strchr(d1 + 1, '.');
  ck_assert_ptr_nonnull(d2);
  ck_assert_ptr_null(strpbrk(jwt, "+/="));
  n = unb64url(jwt, (size_t)(d1 - jwt), part);
  part[n] = '\0';
  ck_assert_str_eq((char *)part, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"kid-9\"}");
  n = unb64url(d1 + 1, (size_t)(d2 - d1 - 1), part);
  part[n] = '\0';
  ck_assert_str_eq((char *)part, "{\"iss\":\"a@b.iam.gserviceaccount.com\",\"scope\":\"scope-x\","
                                 "\"aud\":\"https://token.example/t\",\"iat\":1700000000,"
                                 "\"exp\":1700003600}");
  sn = unb64url(d2 + 1, strlen(d2 + 1), sig);
  ck_assert(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, k) == 1);
  ck_assert_int_eq(EVP_DigestVerify(md, sig, sn, (const unsigned char *)jwt,
                                    (size_t)(d2 - jwt)), 1);
  sdc_free(jwt);
  /* for an ID token: target_audience instead of scope */
  ck_assert_int_eq(sdc__jwt_assertion(pem, NULL, "a@b", NULL, "https://hook.internal/x",
                                      "https://token.example/t", 1700000000, &jwt, err,
                                      sizeof(err)), SDC_OK);
  d1 = strchr(jwt, '.');
  d2 = strchr(d1 + 1, '.');
  n = unb64url(d1 + 1, (size_t)(d2 - d1 - 1), part);
  part[n] = '\0';
  ck_assert_str_eq((char *)part, "{\"iss\":\"a@b\",\"target_audience\":"
                                 "\"https://hook.internal/x\",\"aud\":\"https://token.example/t\","
                                 "\"iat\":1700000000,\"exp\":1700003600}");
  sdc_free(jwt);
  ck_assert_int_eq(sdc__jwt_assertion("not a key", NULL, "a", "s", NULL, "u", 1, &jwt, err,
                                      sizeof(err)), SDC_ECONFIG);
  ck_assert_ptr_nonnull(strstr(err, "private_key"));
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(k);
  free(pem);
}
END_TEST

static const char *write_tmp(const char *text)
{
  static char path[64];
  int fd;

  strcpy(path, "/tmp/sdc-cred-XXXXXX");
  fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
  close(fd);
  return path;
}

static void expect_file_error(const char *text, const char *want)
{
  struct sdc__auth *a = NULL;
  char err[512] = "";
  const char *p = write_tmp(text);

  ck_assert_int_eq(sdc__auth_from_file(&a, p, NULL, err, sizeof(err)), SDC_ECONFIG);
  ck_assert_msg(strstr(err, want) != NULL, "want '%s' in '%s'", want, err);
  ck_assert_ptr_nonnull(strstr(err, p));
  unlink(p);
}

START_TEST(bad_credentials_files_are_named_and_explained)
{
  expect_file_error("{\"type\": \"service_account\",\n \"client_email\": }", ":2:");
  expect_file_error("{\"type\": \"service_account\", \"client_email\": \"x\"}",
                    "need a string \"private_key\"");
  expect_file_error("{\"type\": \"authorized_user\", \"client_id\": \"x\", \"client_secret\": \"y\"}",
                    "need a string \"refresh_token\"");
  expect_file_error("{\"type\": \"external_account\"}",
                    "\"type\" is \"external_account\"; expected");
  expect_file_error("{}", "\"type\" is missing");
}
END_TEST

START_TEST(secrets_never_reach_the_description)
{
  struct sdc__auth *a = NULL;
  char err[512];
  const char *p = write_tmp("{\"type\":\"authorized_user\",\"client_id\":\"id\","
                            "\"client_secret\":\"very-secret\",\"refresh_token\":\"rt-secret\"}");

  ck_assert_int_eq(sdc__auth_from_file(&a, p, NULL, err, sizeof(err)), SDC_OK);
  ck_assert_ptr_null(strstr(sdc__auth_describe(a), "secret"));
  ck_assert_ptr_nonnull(strstr(sdc__auth_describe(a), p));
  sdc__auth_free(a);
  unlink(p);
  ck_assert_int_eq(sdc__auth_static(&a, "tok-123"), SDC_OK);
  ck_assert_ptr_null(strstr(sdc__auth_describe(a), "tok-123"));
  {
    char out[64];
    ck_assert_int_eq(sdc__auth_token(a, out, sizeof(out), 10, err, sizeof(err)), SDC_OK);
    ck_assert_str_eq(out, "tok-123");
    ck_assert_int_eq(sdc__auth_token(a, out, 4, 10, err, sizeof(err)), SDC_ETOOBIG);
  }
  sdc__auth_free(a);
  ck_assert_int_eq(sdc__auth_static(&a, ""), SDC_EINVAL);
}
END_TEST

START_TEST(default_search_order_and_refusal)
{
  struct sdc__auth *a = NULL;
  char err[1024], dir[] = "/tmp/sdc-adc-XXXXXX", path[128], dmi[128];
  FILE *f;

  ck_assert_ptr_nonnull(mkdtemp(dir));
  unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
  unsetenv("GCE_METADATA_HOST");
  unsetenv("CLOUDSDK_CONFIG");
  setenv("HOME", dir, 1);
  snprintf(dmi, sizeof(dmi), "%s/dmi", dir);
  f = fopen(dmi, "w");
  fputs("Standard PC\n", f);
  fclose(f);
  setenv("SDCONNECT_DMI_PRODUCT_NAME", dmi, 1);
  ck_assert_int_eq(sdc__auth_default(&a, NULL, err, sizeof(err)), SDC_ENOTFOUND);
  ck_assert_ptr_nonnull(strstr(err, "GOOGLE_APPLICATION_CREDENTIALS is not set"));
  ck_assert_ptr_nonnull(strstr(err, dir));
  /* GCE_METADATA_HOST alone selects the metadata server (no fetch yet) */
  setenv("GCE_METADATA_HOST", "127.0.0.1:9", 1);
  ck_assert_int_eq(sdc__auth_default(&a, NULL, err, sizeof(err)), SDC_OK);
  ck_assert_ptr_nonnull(strstr(sdc__auth_describe(a), "metadata server at 127.0.0.1:9"));
  sdc__auth_free(a);
  /* an explicit file wins, and a broken one is an error, not a fallback */
  snprintf(path, sizeof(path), "%s/broken.json", dir);
  f = fopen(path, "w");
  fputs("{", f);
  fclose(f);
  setenv("GOOGLE_APPLICATION_CREDENTIALS", path, 1);
  ck_assert_int_eq(sdc__auth_default(&a, NULL, err, sizeof(err)), SDC_ECONFIG);
  unlink(path);
  unlink(dmi);
  rmdir(dir);
}
END_TEST

START_TEST(unreachable_token_endpoint_is_unavailable_and_named)
{
  struct sdc__auth *a = NULL;
  char err[512], out[128];
  const char *p = write_tmp("{\"type\":\"authorized_user\",\"client_id\":\"id\","
                            "\"client_secret\":\"s\",\"refresh_token\":\"r\","
                            "\"token_uri\":\"http://127.0.0.1:1/token\"}");

  ck_assert_int_eq(sdc__auth_from_file(&a, p, NULL, err, sizeof(err)), SDC_OK);
  ck_assert_int_eq(sdc__auth_token(a, out, sizeof(out), 2000, err, sizeof(err)),
                   SDC_EUNAVAILABLE);
  ck_assert_ptr_nonnull(strstr(err, "token endpoint http://127.0.0.1:1/token"));
  ck_assert_int_eq(sdc__auth_has_fresh(a, 0), 0);
  sdc__auth_free(a);
  unlink(p);
}
END_TEST

START_TEST(basic_credentials_encode_as_rfc_7617_says)
{
  char *v = sdc__auth_basic("Aladdin", "open sesame"); /* RFC 7617's own example */

  ck_assert_str_eq(v, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  sdc__free_secret(v);
  v = sdc__auth_basic("Aladdin:open sesame", NULL); /* a secret's whole pair */
  ck_assert_str_eq(v, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  sdc__free_secret(v);
  v = sdc__auth_basic("u", ""); /* no password: the colon stays */
  ck_assert_str_eq(v, "Basic dTo=");
  sdc__free_secret(v);
}
END_TEST

Suite *auth_suite(void)
{
  Suite *s = suite_create("auth");
  TCase *tc = tcase_create("credentials");

  tcase_add_test(tc, jwt_is_rs256_signed_with_the_right_claims);
  tcase_add_test(tc, bad_credentials_files_are_named_and_explained);
  tcase_add_test(tc, secrets_never_reach_the_description);
  tcase_add_test(tc, default_search_order_and_refusal);
  tcase_add_test(tc, unreachable_token_endpoint_is_unavailable_and_named);
  tcase_add_test(tc, basic_credentials_encode_as_rfc_7617_says);
  suite_add_tcase(s, tc);
  return s;
}
