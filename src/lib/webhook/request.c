/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The WebhookRequest a standard webhook receives (dialogflow-webhooks
 * sheet §5 and §7), built the way Dialogflow CX fills it: from a request
 * file (a WebhookRequest, completed where Dialogflow always fills a
 * field) or from a few values (text, tag, parameters, page, language,
 * payload).
 *
 * IMPLEMENTATION NOTES
 * - Always present, as the sheet says: detectIntentResponseId (a new
 *   UUID), fulfillmentInfo.tag, pageInfo.currentPage and displayName,
 *   sessionInfo.session. The session is a new one under the webhook's
 *   agent (`name`, or sdconnect.agent), under environments/E when an
 *   environment was chosen (§10.41).
 * - Nothing undocumented is added (§11.13).
 */
#include "webhook/webhook.h"

#include "core/core.h"

#include <jansson.h>
#include <openssl/rand.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sdc_webhook_request_opts {
  char *request_json, *text, *tag, *language, *page, *payload_json;
  char **params;
  size_t n_params;
};

sdc_status sdc_webhook_request_opts_new(sdc_webhook_request_opts **out)
{
  if(!out)
    return SDC_EINVAL;
  *out = sdc__calloc(1, sizeof(**out));
  return *out ? SDC_OK : SDC_ENOMEM;
}

void sdc_webhook_request_opts_free(sdc_webhook_request_opts *o)
{
  if(!o)
    return;
  sdc_free(o->request_json);
  sdc_free(o->text);
  sdc_free(o->tag);
  sdc_free(o->language);
  sdc_free(o->page);
  sdc_free(o->payload_json);
  for(size_t i = 0; i < o->n_params; i++)
    sdc_free(o->params[i]);
  sdc_free(o->params);
  sdc_free(o);
}

static sdc_status set(char **field, const char *v)
{
  char *c = v ? sdc__strdup(v) : NULL;

  if(v && !c)
    return SDC_ENOMEM;
  sdc_free(*field);
  *field = c;
  return SDC_OK;
}

sdc_status sdc_webhook_request_opts_set(sdc_webhook_request_opts *o, sdc_webhook_request_field f,
                                        const char *value)
{
  if(!o)
    return SDC_EINVAL;
  switch(f) {
  case SDC_WEBHOOK_REQUEST_JSON: return set(&o->request_json, value);
  case SDC_WEBHOOK_REQUEST_TEXT: return set(&o->text, value);
  case SDC_WEBHOOK_REQUEST_TAG: return set(&o->tag, value);
  case SDC_WEBHOOK_REQUEST_LANGUAGE: return set(&o->language, value);
  case SDC_WEBHOOK_REQUEST_PAGE: return set(&o->page, value);
  case SDC_WEBHOOK_REQUEST_PAYLOAD: return set(&o->payload_json, value);
  case SDC_WEBHOOK_REQUEST_PARAM: {
    char **g;
    if(!value)
      return SDC_EINVAL;
    if(!(g = sdc__realloc(o->params, (o->n_params + 1) * sizeof(*g))))
      return SDC_ENOMEM;
    o->params = g;
    if(!(o->params[o->n_params] = sdc__strdup(value)))
      return SDC_ENOMEM;
    o->n_params++;
    return SDC_OK;
  }
  }
  return SDC_EINVAL;
}

static bool uuid4(char out[37])
{
  unsigned char b[16];

  if(RAND_bytes(b, sizeof(b)) != 1)
    return false;
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  snprintf(out, 37,
           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
           b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
           b[14], b[15]);
  return true;
}

/* projects/P/locations/L/agents/A of the webhook, or a stand-in. */
static void agent_of(const sdc_webhook *w, char *out, size_t cap)
{
  const char *src = w->name ? w->name : w->ext.agent;
  const char *cut = src ? strstr(src, "/webhooks/") : NULL;

  if(src && cut)
    snprintf(out, cap, "%.*s", (int)(cut - src), src);
  else if(src)
    snprintf(out, cap, "%s", src);
  else
    snprintf(out, cap, "projects/-/locations/-/agents/-");
}

static json_t *obj_at(json_t *parent, const char *key)
{
  json_t *o = json_object_get(parent, key);

  if(!json_is_object(o)) {
    o = json_object();
    json_object_set_new(parent, key, o);
  }
  return o;
}

static void default_str(json_t *o, const char *key, const char *value)
{
  if(!json_is_string(json_object_get(o, key)))
    json_object_set_new(o, key, json_string(value));
}

sdc_status sdc_webhook_request_build(const sdc_webhook *w, const sdc_webhook_request_opts *o,
                                     char **out, char *err, size_t errcap)
{
  json_t *req, *fi, *pi, *si, *params, *li;
  json_error_t je;
  char id[37], agent[600], session[800];

  if(!w || !o || !out || !err || !errcap)
    return SDC_EINVAL;
  err[0] = '\0';
  if(o->request_json) {
    if(!(req = json_loads(o->request_json, 0, &je)) || !json_is_object(req)) {
      snprintf(err, errcap, "the request is not a JSON object (a WebhookRequest): %s",
               req ? "another JSON value" : je.text);
      json_decref(req);
      return SDC_EINVAL;
    }
  } else if(!(req = json_object())) {
    return SDC_ENOMEM;
  }
  if(!uuid4(id)) {
    json_decref(req);
    return SDC_EINTERNAL;
  }
  default_str(req, "detectIntentResponseId", id);
  if(o->text)
    json_object_set_new(req, "text", json_string(o->text));
  if(o->language)
    json_object_set_new(req, "languageCode", json_string(o->language));
  default_str(req, "languageCode", "en");
  fi = obj_at(req, "fulfillmentInfo");
  if(o->tag)
    json_object_set_new(fi, "tag", json_string(o->tag));
  default_str(fi, "tag", "");
  agent_of(w, agent, sizeof(agent));
  pi = obj_at(req, "pageInfo");
  if(o->page) {
    char page[900];
    snprintf(page, sizeof(page), strchr(o->page, '/') ? "%s" :
             "%s/flows/00000000-0000-0000-0000-000000000000/pages/%s", strchr(o->page, '/')
             ? o->page : agent, o->page);
    json_object_set_new(pi, "currentPage", json_string(page));
    json_object_set_new(pi, "displayName", json_string(strrchr(o->page, '/')
                                                           ? strrchr(o->page, '/') + 1
                                                           : o->page));
  }
  default_str(pi, "currentPage", "");
  default_str(pi, "displayName", "");
  si = obj_at(req, "sessionInfo");
  if(w->environment)
    snprintf(session, sizeof(session), "%s/environments/%s/sessions/sdconnect-%.8s", agent,
             strrchr(w->environment, '/') ? strrchr(w->environment, '/') + 1 : w->environment,
             id);
  else
    snprintf(session, sizeof(session), "%s/sessions/sdconnect-%.8s", agent, id);
  default_str(si, "session", session);
  params = obj_at(si, "parameters");
  for(size_t i = 0; i < o->n_params; i++) { /* "k=v": v as JSON when it is, else a string */
    const char *eq = strchr(o->params[i], '=');
    json_t *v;
    char key[256];
    if(!eq || eq == o->params[i] || (size_t)(eq - o->params[i]) >= sizeof(key)) {
      snprintf(err, errcap, "'%s' is not NAME=VALUE", o->params[i]);
      json_decref(req);
      return SDC_EINVAL;
    }
    snprintf(key, sizeof(key), "%.*s", (int)(eq - o->params[i]), o->params[i]);
    if(!(v = json_loads(eq + 1, JSON_DECODE_ANY, NULL)))
      v = json_string(eq + 1);
    json_object_set_new(params, key, v);
  }
  if(!json_object_size(params))
    json_object_del(si, "parameters");
  if(o->payload_json) {
    json_t *p = json_loads(o->payload_json, 0, &je);
    if(!json_is_object(p)) {
      snprintf(err, errcap, "the payload is not a JSON object: %s", p ? "another value"
                                                                      : je.text);
      json_decref(p);
      json_decref(req);
      return SDC_EINVAL;
    }
    json_object_set_new(req, "payload", p);
  }
  li = obj_at(req, "languageInfo");
  default_str(li, "inputLanguageCode", json_string_value(json_object_get(req, "languageCode")));
  default_str(li, "resolvedLanguageCode",
              json_string_value(json_object_get(req, "languageCode")));
  *out = sdc__json_text(req);
  json_decref(req);
  return *out ? SDC_OK : SDC_ENOMEM;
}
