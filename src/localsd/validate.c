/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Input rules of Service Directory v1, as the real API enforces them: ids,
 * resource names, labels, annotations, addresses, ports and networks. Every
 * rejection is INVALID_ARGUMENT with the request field, the value seen and
 * what is expected.
 */
#include "localsd.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

const char *lsd_kind_word(enum lsd_kind k)
{
  switch(k) {
  case LSD_LOCATION: return "location";
  case LSD_NAMESPACE: return "namespace";
  case LSD_SERVICE: return "service";
  case LSD_ENDPOINT: return "endpoint";
  }
  return "resource";
}

grpc_status_code lsd_fail(struct lsd_err *e, grpc_status_code code,
                         const char *fmt, ...)
{
  va_list ap;

  e->code = code;
  va_start(ap, fmt);
  vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
  va_end(ap);
  return code;
}

static bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_alnum(char c)
{
  return is_lower(c) || is_digit(c) || (c >= 'A' && c <= 'Z');
}

size_t lsd_utf8_chars(const char *s)
{
  size_t n = 0;

  for(; *s; s++)
    if(((unsigned char)*s & 0xC0) != 0x80)
      n++;
  return n;
}

static bool valid_id_n(const char *id, size_t len)
{
  if(len < 1 || len > LSD_MAX_ID || !is_lower(id[0]) || id[len - 1] == '-')
    return false;
  for(size_t i = 1; i < len; i++)
    if(!is_lower(id[i]) && !is_digit(id[i]) && id[i] != '-')
      return false;
  return true;
}

bool lsd_valid_id(const char *id) { return valid_id_n(id, strlen(id)); }

/* Project and location segments: the real service accepts project ids,
 * numbers and domain-scoped ids ("example.com:proj"); we only insist on
 * something printable without '/' or spaces. */
static bool valid_outer_segment(const char *s, size_t len)
{
  if(len < 1 || len > 100)
    return false;
  for(size_t i = 0; i < len; i++)
    if((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
      return false;
  return true;
}

static const char *const collection[] = {"projects", "locations", "namespaces",
                                         "services", "endpoints"};
static const char *const pattern[] = {
    "projects/{project}/locations/{location}",
    "projects/{project}/locations/{location}/namespaces/{namespace}",
    "projects/{project}/locations/{location}/namespaces/{namespace}/services/"
    "{service}",
    "projects/{project}/locations/{location}/namespaces/{namespace}/services/"
    "{service}/endpoints/{endpoint}"};

/* Split `name` into collection/id pairs; return the kind or -1. */
static int split_name(const char *name, const char *seg[10], size_t len[10])
{
  size_t n = 0;
  const char *p = name;

  if(!*name || strlen(name) > LSD_MAX_NAME)
    return -1;
  for(;;) {
    const char *slash = strchr(p, '/');
    if(n == 10)
      return -1;
    seg[n] = p;
    len[n] = slash ? (size_t)(slash - p) : strlen(p);
    n++;
    if(!slash)
      break;
    p = slash + 1;
  }
  if(n < 4 || n % 2)
    return -1;
  for(size_t i = 0; i < n; i += 2)
    if(len[i] != strlen(collection[i / 2]) ||
       memcmp(seg[i], collection[i / 2], len[i]))
      return -1;
  return (int)(n / 2) - 2;
}

int lsd_name_kind(const char *name)
{
  const char *seg[10];
  size_t len[10];

  return split_name(name, seg, len);
}

grpc_status_code lsd_check_name(const char *name, enum lsd_kind k,
                               const char *field, struct lsd_err *e)
{
  const char *seg[10];
  size_t len[10];
  int kind;

  if(!name || !*name)
    return lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT,
                   "%s is required: give a %s name like %s", field,
                   lsd_kind_word(k), pattern[k]);
  kind = split_name(name, seg, len);
  if(kind != (int)k)
    return lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT,
                   "%s: '%.300s' is not a %s name; expected %s", field, name,
                   lsd_kind_word(k), pattern[k]);
  for(int i = 1; i < 4; i += 2)
    if(!valid_outer_segment(seg[i], len[i]))
      return lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT,
                     "%s: '%.300s' has an empty or malformed %s segment", field,
                     name, i == 1 ? "project" : "location");
  for(int i = 5; i < 2 * (int)k + 4; i += 2)
    if(!valid_id_n(seg[i], len[i]))
      return lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT,
                     "%s: '%.300s' has an invalid %s id '%.*s': ids are 1-63 "
                     "lowercase letters, digits or '-', start with a letter "
                     "and do not end with '-'",
                     field, name, lsd_kind_word((enum lsd_kind)((i - 3) / 2)),
                     (int)len[i], seg[i]);
  return GRPC_STATUS_OK;
}

size_t lsd_parent_len(const char *name)
{
  const char *last = strrchr(name, '/');
  size_t n = last ? (size_t)(last - name) : 0;

  while(n > 0 && name[n - 1] != '/')
    n--;
  return n ? n - 1 : 0;
}

grpc_status_code lsd_check_labels(const struct lsd_kv *kv, size_t n,
                                 const char *field, struct lsd_err *e)
{
  if(n > LSD_MAX_LABELS)
    return lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT,
                   "%s: %zu labels given; at most %d are allowed", field, n,
                   LSD_MAX_LABELS);
  for(size_t i = 0; i < n; i++) {
    if(lsd_utf8_chars(kv[i].key) > LSD_MAX_LABEL_CHARS)
      return lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT,
                     "%s: label key '%.80s...' is longer than %d characters",
                     field, kv[i].key, LSD_MAX_LABEL_CHARS);
    if(lsd_utf8_chars(kv[i].value) > LSD_MAX_LABEL_CHARS)
      return lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT,
                     "%s: value of label '%.63s' is longer than %d characters",
                     field, kv[i].key, LSD_MAX_LABEL_CHARS);
  }
  return GRPC_STATUS_OK;
}

/* name part of an annotation key: <=63, [A-Za-z0-9] at both ends, inner
 * characters may also be '-', '_', '.'. */
static bool valid_annotation_name(const char *s, size_t len)
{
  if(len < 1 || len > 63 || !is_alnum(s[0]) || !is_alnum(s[len - 1]))
    return false;
  for(size_t i = 1; i + 1 < len; i++)
    if(!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
      return false;
  return true;
}

/* DNS subdomain: dot-separated lowercase labels, <= 253 characters. */
static bool valid_dns_subdomain(const char *s, size_t len)
{
  size_t start = 0;

  if(len < 1 || len > 253)
    return false;
  for(size_t i = 0; i <= len; i++) {
    if(i == len || s[i] == '.') {
      size_t l = i - start;
      if(l < 1 || l > 63 || !(is_lower(s[start]) || is_digit(s[start])) ||
         !(is_lower(s[i - 1]) || is_digit(s[i - 1])))
        return false;
      for(size_t j = start; j < i; j++)
        if(!is_lower(s[j]) && !is_digit(s[j]) && s[j] != '-')
          return false;
      start = i + 1;
    }
  }
  return true;
}

static bool valid_annotation_key(const char *key)
{
  const char *slash = strchr(key, '/');

  if(!slash)
    return valid_annotation_name(key, strlen(key));
  return valid_dns_subdomain(key, (size_t)(slash - key)) &&
         valid_annotation_name(slash + 1, strlen(slash + 1));
}

grpc_status_code lsd_check_annotations(const struct lsd_kv *kv, size_t n,
                                      size_t max_chars, const char *field,
                                      struct lsd_err *e)
{
  size_t total = 0;

  for(size_t i = 0; i < n; i++) {
    if(!valid_annotation_key(kv[i].key))
      return lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT,
                     "%s: invalid annotation key '%.300s': use [prefix/]name "
                     "where name is 1-63 characters of [A-Za-z0-9._-] that "
                     "start and end with a letter or digit, and prefix is a "
                     "lowercase DNS subdomain",
                     field, kv[i].key);
    total += lsd_utf8_chars(kv[i].key) + lsd_utf8_chars(kv[i].value);
  }
  if(total > max_chars)
    return lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT,
                   "%s: annotations hold %zu characters (keys and values); at "
                   "most %zu are allowed",
                   field, total, max_chars);
  return GRPC_STATUS_OK;
}

grpc_status_code lsd_check_address(const char *address, const char *field,
                                  struct lsd_err *e)
{
  unsigned char buf[16];

  if(!*address)
    return GRPC_STATUS_OK;
  if(strlen(address) <= LSD_MAX_ADDRESS &&
     (inet_pton(AF_INET, address, buf) == 1 ||
      inet_pton(AF_INET6, address, buf) == 1))
    return GRPC_STATUS_OK;
  return lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT,
                 "%s: '%.100s' is not an IPv4 or IPv6 address; give one bare "
                 "address such as 10.0.0.5 or 2001:db8::5 (no port, no "
                 "brackets, no host name)",
                 field, address);
}

grpc_status_code lsd_check_port(int64_t port, const char *field,
                               struct lsd_err *e)
{
  if(port >= 0 && port <= 65535)
    return GRPC_STATUS_OK;
  return lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT,
                 "%s: %lld is out of range; a port lies in [0, 65535]", field,
                 (long long)port);
}

grpc_status_code lsd_check_network(const char *network, const char *field,
                                  struct lsd_err *e)
{
  static const char pre[] = "projects/";
  static const char mid[] = "/locations/global/networks/";
  const char *p = network, *num;

  if(!*network)
    return GRPC_STATUS_OK;
  if(strncmp(p, pre, sizeof(pre) - 1))
    goto bad;
  num = p += sizeof(pre) - 1;
  while(is_digit(*p))
    p++;
  if(p == num || *p != '/') {
    if(p == num && *p && *p != '/')
      return lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT,
                     "%s: '%.300s' names the project by id; use the project "
                     "number: projects/<project number>/locations/global/"
                     "networks/<network>",
                     field, network);
    goto bad;
  }
  if(strncmp(p, mid, sizeof(mid) - 1))
    goto bad;
  p += sizeof(mid) - 1;
  if(lsd_valid_id(p))
    return GRPC_STATUS_OK;
bad:
  return lsd_fail(e, GRPC_STATUS_INVALID_ARGUMENT,
                 "%s: '%.300s' is not a network name; expected "
                 "projects/<project number>/locations/global/networks/<network>",
                 field, network);
}
