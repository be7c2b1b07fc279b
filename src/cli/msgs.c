/* SPDX-License-Identifier: Apache-2.0 */
#include "msgs.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void vline(const char *prefix, const char *cmd, const char *fmt,
                  va_list ap) __attribute__((format(printf, 3, 0)));

static void vline(const char *prefix, const char *cmd, const char *fmt,
                  va_list ap)
{
  fprintf(stderr, "%s%s%s: ", prefix, cmd ? " " : "", cmd ? cmd : "");
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

void cli_error(const char *cmd, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  vline("sdconnect", cmd, fmt, ap);
  va_end(ap);
}

void cli_warn(const char *cmd, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  fputs("warning: ", stderr);
  vline("sdconnect", cmd, fmt, ap);
  va_end(ap);
}

void cli_hint(const char *fmt, ...)
{
  va_list ap;

  fputs("hint: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

int usage_error(const char *cmd, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  vline("sdconnect", cmd, fmt, ap);
  va_end(ap);
  fprintf(stderr, "hint: see 'sdconnect %s --help'\n", cmd ? cmd : "");
  return 2;
}

int dir_call_failed(const char *cmd, sdc_resolver *r, sdc_status st,
                   const char *permission)
{
  int code = sdc_resolver_grpc_status(r);

  cli_error(cmd, "%s", sdc_resolver_errmsg(r));
  switch(st) {
  case SDC_ENOTFOUND:
    cli_hint("check the name's project, location, namespace and service; "
             "'sdconnect namespaces list' and 'sdconnect services list' show "
             "what exists");
    return 1;
  case SDC_EPERM:
    if(code == 16) /* UNAUTHENTICATED */
      cli_hint("the directory did not accept the credentials: check "
               "--token-file, --credentials or GOOGLE_APPLICATION_CREDENTIALS");
    else
      cli_hint("the caller needs the IAM permission %s; grant "
               "roles/servicedirectory.%s on the project or namespace",
               permission,
               strstr(permission, ".get") || strstr(permission, ".list") ||
                       strstr(permission, ".resolve")
                   ? "viewer"
                   : "editor");
    return 1;
  case SDC_EUNAVAILABLE:
    cli_hint("is the directory running and reachable at %s? A local "
             "plaintext sd-server needs --insecure; a TLS one may need --ca",
             sdc_resolver_endpoint(r));
    return 1;
  case SDC_ETIMEDOUT:
    cli_hint("raise --timeout, or check the network path to %s",
             sdc_resolver_endpoint(r));
    return 1;
  case SDC_EINVAL:
    cli_hint("the directory rejected the request; the message above names "
             "the field");
    return 2;
  case SDC_EEXIST:
    cli_hint("use 'update' to change it, or 'delete' it first");
    return 1;
  default:
    return 1;
  }
}
