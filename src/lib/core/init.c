/* SPDX-License-Identifier: Apache-2.0 */
/* Process-wide set-up: allocator first, then gRPC core. */
#include <sdconnect/sdconnect.h>

#include "core.h"

#include <curl/curl.h>
#include <jansson.h>
#include <grpc/grpc.h>
#include <grpc/support/log.h>
#include <pthread.h>
#include <string.h>

const char *sdc_version(void) { return SDC_VERSION_STRING; }

sdc_status sdc_version_check(unsigned long header_num)
{
  const unsigned long mine = SDC_VERSION_NUM;
  if (header_num >> 16 != mine >> 16 || header_num > mine)
    return SDC_EINVAL;
  return SDC_OK;
}

/* gRPC core's own diagnostics go to the library's log hook, never to a
 * terminal directly: the library does not print. */
static void grpc_log(gpr_log_func_args *args)
{
  sdc_log_level l = args->severity == GPR_LOG_SEVERITY_ERROR ? SDC_LOG_WARN
                    : args->severity == GPR_LOG_SEVERITY_INFO ? SDC_LOG_DEBUG
                                                              : SDC_LOG_TRACE;
  const char *file = strrchr(args->file, '/');

  sdc__log(l, "grpc", "%s (%s:%d)", args->message, file ? file + 1 : args->file,
           args->line);
}

void sdc__json_free(void *p)
{
  json_free_t f = NULL;

  json_get_alloc_funcs(NULL, &f);
  if(p)
    (f ? f : free)(p);
}

/* libcurl wants a strdup among its hooks */
static char *curl_strdup(const char *s) { return sdc__strdup(s); }
/* jansson reports a failed allocation inside a parse as a syntax error:
 * the hook notes it, so that callers can tell the two apart */
static _Thread_local bool json_oom;

static void *json_malloc(size_t n)
{
  void *p = sdc__malloc(n);
  if(!p)
    json_oom = true;
  return p;
}

bool sdc__json_ran_out(bool clear_only)
{
  bool o = json_oom;
  json_oom = false;
  return !clear_only && o;
}

sdc_status sdc_global_init(const sdc_allocator *a)
{
  CURLcode cc;

  if(a && (!a->malloc || !a->calloc || !a->realloc || !a->free))
    return SDC_EINVAL;
  sdc__allocator_set(a);
  if(a) { /* the embedder's allocator reaches the libraries that take one
             (protobuf-c's is passed at each unpack; gRPC core has none) */
    cc = curl_global_init_mem(CURL_GLOBAL_DEFAULT, a->malloc, a->free, a->realloc,
                              curl_strdup, a->calloc);
    json_set_alloc_funcs(json_malloc, sdc_free);
  } else {
    cc = curl_global_init(CURL_GLOBAL_DEFAULT);
  }
  if(cc != CURLE_OK)
    return SDC_ENOMEM;
  gpr_set_log_function(grpc_log);
  grpc_init();
  return SDC_OK;
}

/* Modules above core that keep process-wide state register its cleanup
 * here (core knows nothing above it). */
#define MAX_HOOKS 8
static void (*hooks[MAX_HOOKS])(void);
static size_t n_hooks;
static pthread_mutex_t hooks_lock = PTHREAD_MUTEX_INITIALIZER;

bool sdc__cleanup_hook(void (*fn)(void))
{
  bool ok = true;

  pthread_mutex_lock(&hooks_lock);
  for(size_t i = 0; i < n_hooks; i++)
    if(hooks[i] == fn)
      goto out;
  if(n_hooks < MAX_HOOKS)
    hooks[n_hooks++] = fn;
  else
    ok = false;
out:
  pthread_mutex_unlock(&hooks_lock);
  return ok;
}

void sdc_global_cleanup(void)
{
  pthread_mutex_lock(&hooks_lock);
  while(n_hooks) /* last registered, first run */
    hooks[--n_hooks]();
  pthread_mutex_unlock(&hooks_lock);
  curl_global_cleanup();
  grpc_shutdown();
  sdc__allocator_set(NULL);
}
