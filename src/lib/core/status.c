/* SPDX-License-Identifier: Apache-2.0 */
/* Status code names: the words users see after "sdconnect: ...: ". */
#include <sdconnect/common.h>

const char *sdc_strerror(sdc_status st)
{
  switch(st) {
  case SDC_OK: return "ok";
  case SDC_ENOMEM: return "out of memory";
  case SDC_EINVAL: return "invalid argument";
  case SDC_ETIMEDOUT: return "deadline exceeded";
  case SDC_ENOTFOUND: return "not found";
  case SDC_EUNAVAILABLE: return "unavailable";
  case SDC_ETLS: return "TLS failure";
  case SDC_ECONFIG: return "configuration error";
  case SDC_ETOOBIG: return "too big";
  case SDC_EIO: return "I/O error";
  case SDC_EEXIST: return "already exists";
  case SDC_EPERM: return "permission denied";
  case SDC_EPROTO: return "protocol error";
  case SDC_EINTERNAL: return "internal error";
  case SDC_EAGAIN: return "not ready yet";
  }
  return "unknown status";
}

int sdc_status_is_fatal(sdc_status st)
{
  return st == SDC_EINTERNAL;
}
