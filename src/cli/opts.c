/* SPDX-License-Identifier: Apache-2.0 */
#include "opts.h"

#include "msgs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct flag *find(const struct flag *const *tables,
                               const char *name, size_t len, char short_name)
{
  for(size_t t = 0; tables[t]; t++)
    for(const struct flag *f = tables[t]; f->name; f++)
      if(short_name ? f->short_name == short_name
                    : strlen(f->name) == len && !strncmp(f->name, name, len))
        return f;
  return NULL;
}

/* Store a flag's value: the last one wins, or it joins a repeatable list. */
static int store(const char *cmd, const struct flag *f, const char *v)
{
  if(f->list) {
    if(*f->n_list == MAX_REPEAT)
      return usage_error(cmd, "option '--%s' is given more than %d times",
                         f->name, MAX_REPEAT);
    f->list[(*f->n_list)++] = v;
  } else {
    *f->value = v;
  }
  return 0;
}

int opts_parse(const char *cmd, int argc, char **argv, int first,
               const struct flag *const *tables, struct parsed *out)
{
  memset(out, 0, sizeof(*out));
  for(int i = first; i < argc; i++) {
    const char *a = argv[i], *eq;
    const struct flag *f;
    if(!strcmp(a, "--help") || !strcmp(a, "-h")) {
      out->help = true;
      continue;
    }
    if(a[0] == '-' && a[1] && a[1] != '-' && !a[2]) { /* -X */
      f = find(tables, NULL, 0, a[1]);
      if(!f)
        return usage_error(cmd, "unknown option '%s'", a);
      if(!f->value && !f->list) {
        *f->set = true;
        continue;
      }
      if(i + 1 >= argc)
        return usage_error(cmd, "option '%s' needs a value", a);
      if(store(cmd, f, argv[++i]))
        return 2;
      continue;
    }
    if(strncmp(a, "--", 2) || !a[2]) {
      if(out->n_pos == MAX_POSITIONAL)
        return usage_error(cmd, "too many arguments at '%s'", a);
      out->pos[out->n_pos++] = a;
      continue;
    }
    eq = strchr(a + 2, '=');
    f = find(tables, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2), 0);
    if(!f)
      return usage_error(cmd, "unknown option '%.*s'",
                         (int)(eq ? (size_t)(eq - a) : strlen(a)), a);
    if(!f->value && !f->list) {
      if(eq)
        return usage_error(cmd, "option '--%s' takes no value", f->name);
      *f->set = true;
      continue;
    }
    if(!eq && i + 1 >= argc)
      return usage_error(cmd, "option '--%s' needs a value", f->name);
    if(store(cmd, f, eq ? eq + 1 : argv[++i]))
      return 2;
  }
  return 0;
}

/* Whether a table before `t` has a flag named `name` (it wins when parsing). */
static bool shadowed(const struct flag *const *tables, size_t t, const char *name)
{
  for(size_t e = 0; e < t; e++)
    for(const struct flag *f = tables[e]; f->name; f++)
      if(!strcmp(f->name, name))
        return true;
  return false;
}

void opts_help(const struct flag *const *tables, const char *what_3_means)
{
  for(size_t t = 0; tables[t]; t++)
    for(const struct flag *f = tables[t]; f->name; f++) {
      char left[64], alias[8] = "";
      if(f->hidden || shadowed(tables, t, f->name))
        continue;
      const char *sp = f->value || f->list ? strchr(f->help, ' ') : NULL;
      if(f->short_name)
        snprintf(alias, sizeof(alias), "-%c, ", f->short_name);
      if(sp)
        snprintf(left, sizeof(left), "%s--%s %.*s", alias, f->name,
                 (int)(sp - f->help), f->help);
      else
        snprintf(left, sizeof(left), "%s--%s", alias, f->name);
      printf("  %-26s %s\n", left, sp ? sp + 1 + strspn(sp + 1, " ") : f->help);
    }
  printf("\n" SDC_EXIT_TABLE, what_3_means ? what_3_means : "is not used by this command");
}

const struct flag *dir_flag_table(struct dir_flags *f)
{
  static struct flag t[13];

  t[0] = (struct flag){.name = "sd-endpoint", .value = &f->endpoint, .set = NULL, .help = "HOST:PORT  Service Directory to use (default: Google's "
                       "API; env SDCONNECT_SD_ENDPOINT)"};
  t[1] = (struct flag){.name = "insecure", .value = NULL, .set = &f->insecure, .help = "plaintext gRPC, e.g. a local sd-server (env "
                       "SDCONNECT_SD_INSECURE=1)"};
  /* --ca, --cert and --key: aliases of --sd-ca, --sd-cert and --sd-key, except
   * in fetch, where they are the target's (its own table comes first) */
  t[2] = (struct flag){.name = "ca", .value = &f->ca, .hidden = true, .help = "FILE"};
  t[3] = (struct flag){.name = "cert", .value = &f->cert, .hidden = true, .help = "FILE"};
  t[4] = (struct flag){.name = "key", .value = &f->key, .hidden = true, .help = "FILE"};
  t[5] = (struct flag){.name = "token-file", .value = &f->token_file, .set = NULL, .help = "FILE  send 'authorization: Bearer' with the token in "
                       "FILE (env SDCONNECT_SD_TOKEN_FILE)"};
  t[6] = (struct flag){.name = "timeout", .value = &f->timeout, .set = NULL, .help = "DURATION  deadline per call, retries included, e.g. "
                       "5s (default 15s; env SDCONNECT_SD_TIMEOUT)"};
  t[7] = (struct flag){.name = "credentials", .value = &f->credentials, .set = NULL, .help = "FILE  Google service-account or authorized-user file "
                       "(env SDCONNECT_SD_CREDENTIALS)"};
  t[8] = (struct flag){.name = "json", .value = NULL, .set = &f->json, .help = "print the results as JSON (directory objects with their REST field names)"};
  t[9] = (struct flag){.name = "sd-ca", .value = &f->ca, .help = "FILE  trust these PEM CA "
                       "certificates for the directory (env SDCONNECT_SD_CA; --ca outside fetch)"};
  t[10] = (struct flag){.name = "sd-cert", .value = &f->cert, .help = "FILE  client certificate "
                        "for mTLS to the directory (env SDCONNECT_SD_CERT; --cert outside fetch)"};
  t[11] = (struct flag){.name = "sd-key", .value = &f->key, .help = "FILE  its private key (env "
                        "SDCONNECT_SD_KEY; --key outside fetch)"};
  t[12] = (struct flag){.name = NULL};
  return t;
}

static const char *env_or(const char *v, const char *env)
{
  const char *e;

  if(v)
    return v;
  e = getenv(env);
  return e && *e ? e : NULL;
}

char *cli_read_file(const char *cmd, const char *what, const char *path,
                    size_t max, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *buf;
  size_t n;

  if(!f) {
    cli_error(cmd, "%s %s: cannot open: %s", what, path, strerror(errno));
    return NULL;
  }
  buf = malloc(max + 1);
  n = buf ? fread(buf, 1, max + 1, f) : 0;
  fclose(f);
  if(!buf)
    return NULL;
  if(n > max) {
    cli_error(cmd, "%s %s: larger than %zu bytes", what, path, max);
    free(buf);
    return NULL;
  }
  buf[n] = '\0';
  if(len)
    *len = n;
  return buf;
}

static char *slurp(const char *cmd, const char *what, const char *path)
{
  return cli_read_file(cmd, what, path, 1 << 20, NULL);
}

static void free_secret(char *s)
{
  if(s) {
    memset(s, 0, strlen(s));
    free(s);
  }
}

int cli_resolver_new(struct dir_flags *f, const char *cmd, sdc_resolver **out)
{
  sdc_resolver_opts *o = NULL;
  char *ca = NULL, *cert = NULL, *key = NULL, *token = NULL;
  char err[1024] = "";
  const char *insecure_env = getenv("SDCONNECT_SD_INSECURE");
  uint64_t timeout = 15000;
  sdc_status st;
  int rc = 2;

  f->endpoint = env_or(f->endpoint, "SDCONNECT_SD_ENDPOINT");
  f->ca = env_or(f->ca, "SDCONNECT_SD_CA");
  f->cert = env_or(f->cert, "SDCONNECT_SD_CERT");
  f->key = env_or(f->key, "SDCONNECT_SD_KEY");
  f->token_file = env_or(f->token_file, "SDCONNECT_SD_TOKEN_FILE");
  f->timeout = env_or(f->timeout, "SDCONNECT_SD_TIMEOUT");
  f->credentials = env_or(f->credentials, "SDCONNECT_SD_CREDENTIALS");
  if(!f->insecure && insecure_env && !strcmp(insecure_env, "1"))
    f->insecure = true;
  if(f->timeout && !svc_parse_duration_ms(f->timeout, &timeout))
    return usage_error(cmd, "--timeout: '%s' is not a duration from 1ms to "
                       "10m (e.g. 500ms, 5s)", f->timeout);
  if(!f->cert != !f->key)
    return usage_error(cmd, "--cert and --key go together");
  if(f->insecure && (f->ca || f->cert))
    return usage_error(cmd, "--insecure turns TLS off: drop --ca/--cert/--key,"
                       " or drop --insecure");
  if(sdc_resolver_opts_new(&o))
    return 1;
  if(f->endpoint && sdc_resolver_opts_set_endpoint(o, f->endpoint)) {
    rc = usage_error(cmd, "--sd-endpoint: '%s' is not HOST:PORT", f->endpoint);
    goto out;
  }
  sdc_resolver_opts_set_plaintext(o, f->insecure);
  sdc_resolver_opts_set_timeout_ms(o, timeout);
  if((f->ca && !(ca = slurp(cmd, "--ca", f->ca))) ||
     (f->cert && !(cert = slurp(cmd, "--cert", f->cert))) ||
     (f->key && !(key = slurp(cmd, "--key", f->key))) ||
     (f->token_file && !(token = slurp(cmd, "--token-file", f->token_file))))
    goto out;
  if(token)
    token[strcspn(token, "\r\n")] = '\0';
  if((ca && sdc_resolver_opts_set_ca_pem(o, ca)) ||
     (cert && sdc_resolver_opts_set_client_cert_pem(o, cert, key)) ||
     (token && (!*token || sdc_resolver_opts_set_bearer_token(o, token)))) {
    rc = usage_error(cmd, "a --ca, --cert/--key or --token-file value is "
                     "empty or malformed");
    goto out;
  }
  if(f->credentials)
    sdc_resolver_opts_set_google_credentials(o, f->credentials);
  st = sdc_resolver_new(out, o, err, sizeof(err));
  if(st == SDC_ENOTFOUND) {
    cli_error(cmd, "%s", err);
    cli_hint("to use a local directory, start 'sdconnect sd-server' and pass "
             "--sd-endpoint 127.0.0.1:8085 --insecure (or set "
             "SDCONNECT_SD_ENDPOINT and SDCONNECT_SD_INSECURE=1); to use "
             "Google's, run 'gcloud auth application-default login' or set "
             "GOOGLE_APPLICATION_CREDENTIALS to a key file");
    goto out;
  }
  if(st) {
    cli_error(cmd, "cannot set up the Service Directory client: %s",
              *err ? err : sdc_strerror(st));
    rc = st == SDC_ENOMEM ? 1 : 2;
    goto out;
  }
  rc = 0;
out:
  free(ca);
  free(cert);
  free_secret(key);
  free_secret(token);
  sdc_resolver_opts_free(o);
  return rc;
}
