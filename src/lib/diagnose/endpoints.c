/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Step 4: each endpoint as Google's private network access meets it: an
 * address and a port, a private address (RFC 1918, RFC 6598, IPv6 ULA),
 * the `network` its traffic enters (projects/NUMBER/locations/global/
 * networks/NAME), and the port open. A refused connect and one that gets
 * no answer (a firewall dropping packets) are told apart: the second
 * carries the firewall rule Google's range needs.
 */
#include "diagnose/diag.h"

#include "core/core.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define STEP "endpoints"
#define GOOGLE_RANGE "35.199.192.0/19" /* Service Directory private network access */

static enum addr_kind v4_kind(const unsigned char *a)
{
  if(a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
     (a[0] == 100 && (a[1] & 0xc0) == 64))
    return ADDR_PRIVATE; /* RFC 1918; RFC 6598 shared space */
  if(a[0] == 127)
    return ADDR_LOOPBACK;
  if(a[0] == 0 || (a[0] == 169 && a[1] == 254) || a[0] >= 224)
    return ADDR_UNROUTABLE; /* this network, link-local, multicast, reserved */
  return ADDR_PUBLIC;
}

enum addr_kind diag_address_kind(const char *address)
{
  unsigned char a[16];
  static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static const unsigned char zero[16] = {0};

  if(inet_pton(AF_INET, address, a) == 1)
    return v4_kind(a);
  if(inet_pton(AF_INET6, address, a) != 1)
    return ADDR_NOT_AN_ADDRESS;
  if(!memcmp(a, mapped, 12))
    return v4_kind(a + 12);
  if((a[0] & 0xfe) == 0xfc)
    return ADDR_PRIVATE; /* ULA, fc00::/7 */
  if(!memcmp(a, zero, 15) && a[15] == 1)
    return ADDR_LOOPBACK;
  if(!memcmp(a, zero, 16) || a[0] == 0xff || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80))
    return ADDR_UNROUTABLE; /* unspecified, multicast, link-local */
  return ADDR_PUBLIC;
}

enum net_problem diag_network_problem(const char *network)
{
  static const char pre[] = "projects/", mid[] = "/locations/global/networks/";
  const char *p = network, *num;
  size_t n;

  if(!network || !*network)
    return NET_MISSING;
  if(strncmp(p, pre, sizeof(pre) - 1))
    return NET_MALFORMED;
  num = p += sizeof(pre) - 1;
  n = strcspn(p, "/");
  if(!n || strncmp(p + n, mid, sizeof(mid) - 1))
    return NET_MALFORMED;
  if(strspn(num, "0123456789") < n)
    return NET_PROJECT_ID;
  p += n + sizeof(mid) - 1;
  return *p && !strchr(p, '/') ? NET_OK : NET_MALFORMED;
}

int diag_connect(const char *address, int port, uint64_t ms, uint64_t *took_ms, int *out_fd)
{
  struct sockaddr_storage ss;
  socklen_t len;
  uint64_t start = sdc__now_ms();
  int fd, err = 0;
  socklen_t el = sizeof(err);
  struct pollfd p;

  memset(&ss, 0, sizeof(ss));
  if(inet_pton(AF_INET, address, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
    ss.ss_family = AF_INET;
    ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
    len = sizeof(struct sockaddr_in);
  } else if(inet_pton(AF_INET6, address, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
    ss.ss_family = AF_INET6;
    ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
    len = sizeof(struct sockaddr_in6);
  } else {
    return EINVAL;
  }
  if((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
    return errno;
  if(connect(fd, (struct sockaddr *)&ss, len) && errno != EINPROGRESS) {
    err = errno;
  } else {
    p = (struct pollfd){fd, POLLOUT, 0};
    if(poll(&p, 1, (int)ms) != 1)
      err = ETIMEDOUT;
    else if(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el))
      err = errno;
  }
  *took_ms = sdc__now_ms() - start;
  if(!err && out_fd)
    *out_fd = fd;
  else
    close(fd);
  return err;
}

/* The address: false when it is not to be dialed (none, not one Google's
 * service would go to, or not an address). */
static bool check_address(const struct sdc_diag_opts *o, const sdc_endpoint *e,
                          const char *subject, sdc_diag_report *r)
{
  char fix[500];

  if(!*e->address) {
    snprintf(fix, sizeof(fix), "set the server's private IP: sdconnect endpoints update %s "
             "--address IP", e->name);
    diag_add(r, STEP, "EP_NO_ADDRESS", SDC_DIAG_FAIL, subject, "the endpoint has no address",
             fix);
    return false;
  }
  switch(diag_address_kind(e->address)) {
  case ADDR_PRIVATE:
    return true;
  case ADDR_LOOPBACK:
    if(o->lab)
      return true;
    diag_addf(r, STEP, "EP_ADDRESS_LOOPBACK", SDC_DIAG_FAIL, subject,
              "register the server's private VPC address; loopback is only right for a "
              "local rehearsal (--lab)",
              "%s is a loopback address: Google's service cannot reach it", e->address);
    return true;
  case ADDR_UNROUTABLE:
    diag_addf(r, STEP, "EP_ADDRESS_UNROUTABLE", SDC_DIAG_FAIL, subject,
              "register the server's private VPC address (10.0.0.0/8, 172.16.0.0/12, "
              "192.168.0.0/16, 100.64.0.0/10 or an IPv6 ULA)",
              "%s is not routable (link-local, multicast, unspecified or reserved)",
              e->address);
    return false;
  case ADDR_PUBLIC: /* not dialed either: Google's service would not go there */
    diag_addf(r, STEP, "EP_ADDRESS_PUBLIC", SDC_DIAG_FAIL, subject,
              "register the server's private VPC address (RFC 1918, RFC 6598 or an IPv6 "
              "ULA); private network access does not go to public addresses",
              "%s is a public address", e->address);
    return false;
  case ADDR_NOT_AN_ADDRESS:
    break;
  }
  diag_addf(r, STEP, "EP_ADDRESS_INVALID", SDC_DIAG_FAIL, subject,
            "set an IPv4 or IPv6 literal (no host names)", "'%s' is not an IP address",
            e->address);
  return false;
}

static void check_network(const sdc_endpoint *e, const char *subject, sdc_diag_report *r)
{
  char fix[500];

  snprintf(fix, sizeof(fix), "recreate the endpoint with --network projects/PROJECT_NUMBER/"
           "locations/global/networks/NETWORK (the network is set at creation; gcloud "
           "projects describe PROJECT --format='value(projectNumber)' gives the number)");
  switch(diag_network_problem(e->network)) {
  case NET_OK:
    return;
  case NET_MISSING:
    diag_add(r, STEP, "EP_NETWORK_MISSING", SDC_DIAG_FAIL, subject,
             "the endpoint has no network: private network access needs the VPC network "
             "its address lives in", fix);
    return;
  case NET_PROJECT_ID:
    diag_addf(r, STEP, "EP_NETWORK_PROJECT_ID", SDC_DIAG_FAIL, subject, fix,
              "'%s' names the project by id, not by number", e->network);
    return;
  case NET_MALFORMED:
    diag_addf(r, STEP, "EP_NETWORK_MALFORMED", SDC_DIAG_FAIL, subject, fix,
              "'%s' is not projects/NUMBER/locations/global/networks/NAME", e->network);
    return;
  }
}

/* true when the port is open */
static bool check_port(const struct sdc_diag_opts *o, const sdc_endpoint *e,
                       const char *subject, sdc_diag_report *r)
{
  char fix[700];
  uint64_t took = 0;
  int err = diag_connect(e->address, e->port, o->connect_ms, &took, NULL);

  if(!err) {
    diag_addf(r, STEP, "EP_PORT_OPEN", SDC_DIAG_OK, subject, NULL,
              "TCP port %d accepts connections (%llu ms)", e->port, (unsigned long long)took);
    return true;
  }
  if(err == ECONNREFUSED) {
    snprintf(fix, sizeof(fix), "start the server on port %d of %s, or set the endpoint's "
             "port to the one it listens on (sdconnect endpoints update %s --port PORT)",
             e->port, e->address, e->name);
    diag_addf(r, STEP, "EP_PORT_REFUSED", SDC_DIAG_FAIL, subject, fix,
              "connection refused: nothing listens on port %d", e->port);
    return false;
  }
  if(err == ETIMEDOUT) {
    snprintf(fix, sizeof(fix), "allow Google's private network access range in: gcloud "
             "compute firewall-rules create allow-service-directory --network=NETWORK "
             "--direction=INGRESS --source-ranges=" GOOGLE_RANGE " --allow=tcp:%d "
             "(and check the server is up)", e->port);
    diag_addf(r, STEP, "EP_PORT_TIMEOUT", SDC_DIAG_FAIL, subject, fix,
              "no answer to a TCP connect within %llu ms: packets are dropped, as a "
              "firewall does", (unsigned long long)o->connect_ms);
    return false;
  }
  diag_addf(r, STEP, "EP_PORT_UNREACHABLE", SDC_DIAG_FAIL, subject,
            "check the route to the address from where sdconnect runs, and the address",
            "cannot connect: %s", strerror(err));
  return false;
}

size_t diag_endpoints(const struct sdc_diag_opts *o, const sdc_service *svc,
                      sdc_diag_report *r)
{
  size_t fit = 0;

  for(size_t i = 0; i < svc->n_endpoints; i++) {
    const sdc_endpoint *e = &svc->endpoints[i];
    const char *short_name = strrchr(e->name, '/') ? strrchr(e->name, '/') + 1 : e->name;
    char subject[200];
    bool v6 = strchr(e->address, ':') != NULL;

    snprintf(subject, sizeof(subject), "%s %s%s%s:%d", short_name, v6 ? "[" : "", e->address,
             v6 ? "]" : "", e->port);
    bool dial = check_address(o, e, subject, r), open = false;
    check_network(e, subject, r);
    if(dial && !e->port)
      diag_add(r, STEP, "EP_NO_PORT", SDC_DIAG_FAIL, subject, "the endpoint has no port",
               "set the port the server listens on: sdconnect endpoints update NAME --port "
               "PORT");
    else if(dial)
      open = check_port(o, e, subject, r);
    if(open && o->tls)
      fit += diag_tls(o, e, subject, r);
    else if(o->tls)
      diag_add(r, "tls", "SKIPPED", SDC_DIAG_SKIP, subject, "not checked: nothing to connect "
               "to", NULL);
    else
      fit += open;
  }
  return fit;
}
