/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A standard webhook's answer read as Dialogflow CX reads it
 * (dialogflow-webhooks sheet §6-§8 and §10.4): at most 64 KiB, JSON, a
 * WebhookResponse whose known fields have their types (unknown fields are
 * accepted, as Dialogflow accepts them), then applied to the turn: the
 * messages merged (APPEND or REPLACE), session parameters set (null
 * removes), form parameters marked INVALID, the transition and payload.
 *
 * IMPLEMENTATION NOTES
 * - Checked with jansson against a small schema written out below, so a
 *   problem names its path: fulfillmentResponse.messages[2].text.text.
 * - proto3 JSON: enums by name or number, proto names accepted too.
 */
#include "webhook/webhook.h"

#include "core/core.h"

#include <jansson.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RESPONSE 65536 /* bytes, Dialogflow's limit */

struct check {
  char *err;
  size_t cap;
  bool bad;
};

static void problem(struct check *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(struct check *c, const char *path, const char *fmt, ...)
{
  va_list ap;
  size_t n;

  if(c->bad)
    return; /* the first problem is the one said */
  c->bad = true;
  snprintf(c->err, c->cap, "%s: ", path);
  n = strlen(c->err);
  va_start(ap, fmt);
  vsnprintf(c->err + n, c->cap - n, fmt, ap);
  va_end(ap);
}

static const char *kind_of(const json_t *v)
{
  switch(json_typeof(v)) {
  case JSON_OBJECT: return "an object";
  case JSON_ARRAY: return "a list";
  case JSON_STRING: return "a string";
  case JSON_INTEGER:
  case JSON_REAL: return "a number";
  case JSON_TRUE:
  case JSON_FALSE: return "a boolean";
  default: return "null";
  }
}

/* The member `json` (or its proto name `proto`) of `o`, or NULL. */
static json_t *member(const json_t *o, const char *json, const char *proto)
{
  json_t *v = json_object_get(o, json);
  return v ? v : proto ? json_object_get(o, proto) : NULL;
}

/* Paths are made for every field checked and read only in a problem:
 * built by hand, as snprintf() made a tenth of a gateway call's work. */
static void path_put(char *out, size_t cap, size_t *n, const char *s, size_t len)
{
  if(len > cap - 1 - *n)
    len = cap - 1 - *n;
  memcpy(out + *n, s, len);
  *n += len;
  out[*n] = '\0';
}

/* parent.key (key alone at the top), cut to `cap` */
static void path_of(char *out, size_t cap, const char *parent, const char *key)
{
  size_t n = 0;

  out[0] = '\0';
  path_put(out, cap, &n, parent, strlen(parent));
  if(*parent)
    path_put(out, cap, &n, ".", 1);
  path_put(out, cap, &n, key, strlen(key));
}

/* parent[i], cut to `cap` */
static void path_at(char *out, size_t cap, const char *parent, size_t i)
{
  char num[24];
  size_t k = sizeof(num), n = 0;

  num[--k] = ']';
  do
    num[--k] = (char)('0' + i % 10);
  while((i /= 10) && k > 1);
  num[--k] = '[';
  out[0] = '\0';
  path_put(out, cap, &n, parent, strlen(parent));
  path_put(out, cap, &n, num + k, sizeof(num) - k);
}

/* `v` must be of `type` (null counts as absent, as proto3 JSON says). */
static bool want(struct check *c, const json_t *v, const char *path, json_type type)
{
  if(!v || json_is_null(v))
    return false;
  if(json_typeof(v) == type || (type == JSON_REAL && json_is_integer(v)) ||
     (type == JSON_TRUE && json_is_boolean(v)))
    return true;
  problem(c, path, "expected %s, got %s",
          type == JSON_OBJECT   ? "an object"
          : type == JSON_ARRAY  ? "a list"
          : type == JSON_STRING ? "a string"
          : type == JSON_TRUE   ? "true or false"
                                : "a number",
          kind_of(v));
  return false;
}

static void want_string(struct check *c, const json_t *o, const char *parent,
                        const char *json, const char *proto)
{
  char p[300];

  path_of(p, sizeof(p), parent, json);
  want(c, member(o, json, proto), p, JSON_STRING);
}

/* An enum by name (of `names`, index = number) or number; -1 if invalid. */
static int want_enum(struct check *c, const json_t *v, const char *path,
                     const char *const *names, int n)
{
  if(!v || json_is_null(v))
    return 0;
  if(json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) < n)
    return (int)json_integer_value(v);
  for(int i = 0; json_is_string(v) && i < n; i++)
    if(!strcmp(json_string_value(v), names[i]))
      return i;
  problem(c, path, "%s is not one of the enum's values", json_is_string(v)
          ? json_string_value(v) : kind_of(v));
  return -1;
}

/* ---- ResponseMessage ------------------------------------------------------------ */
static const char *const message_kinds[][2] = {
    {"text", NULL}, {"payload", NULL}, {"conversationSuccess", "conversation_success"},
    {"outputAudioText", "output_audio_text"}, {"liveAgentHandoff", "live_agent_handoff"},
    {"endInteraction", "end_interaction"}, {"playAudio", "play_audio"},
    {"mixedAudio", "mixed_audio"}, {"telephonyTransferCall", "telephony_transfer_call"},
    {"knowledgeInfoCard", "knowledge_info_card"}, {"toolCall", "tool_call"}};

static void check_message(struct check *c, const json_t *m, const char *path)
{
  static const char *const response_types[] = {"RESPONSE_TYPE_UNSPECIFIED", "ENTRY_PROMPT",
                                               "PARAMETER_PROMPT", "HANDLER_PROMPT"};
  const char *given = NULL;
  char p[300], q[340];

  if(!want(c, m, path, JSON_OBJECT))
    return;
  for(size_t i = 0; i < sizeof(message_kinds) / sizeof(message_kinds[0]); i++) {
    json_t *v = member(m, message_kinds[i][0], message_kinds[i][1]);
    if(!v || json_is_null(v))
      continue;
    path_of(p, sizeof(p), path, message_kinds[i][0]);
    if(given) {
      problem(c, path, "%s and %s are one of (a message is one kind)", given,
              message_kinds[i][0]);
      return;
    }
    given = message_kinds[i][0];
    if(!want(c, v, p, JSON_OBJECT))
      return;
    if(!strcmp(given, "text")) {
      json_t *t = member(v, "text", NULL);
      size_t k;
      json_t *s;
      path_of(q, sizeof(q), p, "text");
      if(!t || json_is_null(t))
        problem(c, q, "%s (required: the text variants)", "missing");
      else if(want(c, t, q, JSON_ARRAY))
        json_array_foreach(t, k, s) {
          char r[400];
          path_at(r, sizeof(r), q, k);
          want(c, s, r, JSON_STRING);
        }
    } else if(!strcmp(given, "outputAudioText")) {
      want_string(c, v, p, "text", NULL);
      want_string(c, v, p, "ssml", NULL);
    } else if(!strcmp(given, "playAudio")) {
      want_string(c, v, p, "audioUri", "audio_uri");
    } else if(!strcmp(given, "telephonyTransferCall")) {
      want_string(c, v, p, "phoneNumber", "phone_number");
    } else if(!strcmp(given, "toolCall")) {
      want_string(c, v, p, "tool", NULL);
      want_string(c, v, p, "action", NULL);
    }
  }
  path_of(p, sizeof(p), path, "responseType");
  want_enum(c, member(m, "responseType", "response_type"), p, response_types, 4);
  want_string(c, m, path, "channel", NULL);
}

/* ---- WebhookResponse ------------------------------------------------------------ */
static const char *const merge_names[] = {"MERGE_BEHAVIOR_UNSPECIFIED", "APPEND", "REPLACE"};
static const char *const state_names[] = {"PARAMETER_STATE_UNSPECIFIED", "EMPTY", "INVALID",
                                          "FILLED"};

static void check_page_info(struct check *c, const json_t *pi)
{
  json_t *fi, *list, *item;
  size_t i;

  if(!want(c, pi, "pageInfo", JSON_OBJECT))
    return;
  want_string(c, pi, "pageInfo", "currentPage", "current_page");
  want_string(c, pi, "pageInfo", "displayName", "display_name");
  fi = member(pi, "formInfo", "form_info");
  if(!want(c, fi, "pageInfo.formInfo", JSON_OBJECT))
    return;
  list = member(fi, "parameterInfo", "parameter_info");
  if(!want(c, list, "pageInfo.formInfo.parameterInfo", JSON_ARRAY))
    return;
  json_array_foreach(list, i, item) {
    char p[200], q[240];
    path_at(p, sizeof(p), "pageInfo.formInfo.parameterInfo", i);
    if(!want(c, item, p, JSON_OBJECT))
      continue;
    path_of(q, sizeof(q), p, "displayName");
    if(!member(item, "displayName", "display_name"))
      problem(c, q, "%s (required in an answer)", "missing");
    want_string(c, item, p, "displayName", "display_name");
    path_of(q, sizeof(q), p, "state");
    if(!member(item, "state", NULL))
      problem(c, q, "%s (required in an answer)", "missing");
    want_enum(c, member(item, "state", NULL), q, state_names, 4);
    path_of(q, sizeof(q), p, "required");
    want(c, member(item, "required", NULL), q, JSON_TRUE);
  }
}

static void check_response(struct check *c, const json_t *r)
{
  json_t *fr, *msgs, *m, *si;
  size_t i;
  char p[200];

  if(!json_is_object(r)) {
      problem(c, "(the answer)", "expected a JSON object (a WebhookResponse), got %s",
            kind_of(r));
    return;
  }
  fr = member(r, "fulfillmentResponse", "fulfillment_response");
  if(want(c, fr, "fulfillmentResponse", JSON_OBJECT)) {
    msgs = member(fr, "messages", NULL);
    if(want(c, msgs, "fulfillmentResponse.messages", JSON_ARRAY))
      json_array_foreach(msgs, i, m) {
        path_at(p, sizeof(p), "fulfillmentResponse.messages", i);
        check_message(c, m, p);
      }
    want_enum(c, member(fr, "mergeBehavior", "merge_behavior"),
              "fulfillmentResponse.mergeBehavior", merge_names, 3);
  }
  if(member(r, "pageInfo", "page_info"))
    check_page_info(c, member(r, "pageInfo", "page_info"));
  si = member(r, "sessionInfo", "session_info");
  if(want(c, si, "sessionInfo", JSON_OBJECT)) {
    want_string(c, si, "sessionInfo", "session", NULL);
    want(c, member(si, "parameters", NULL), "sessionInfo.parameters", JSON_OBJECT);
  }
  want(c, member(r, "payload", NULL), "payload", JSON_OBJECT);
  want_string(c, r, "", "targetPage", "target_page");
  want_string(c, r, "", "targetFlow", "target_flow");
  if(!c->bad && json_is_string(member(r, "targetPage", "target_page")) &&
     json_is_string(member(r, "targetFlow", "target_flow")))
    problem(c, "targetFlow", "targetPage and %s are one of (one transition)", "targetFlow");
}

/* ---- applying it to the turn ------------------------------------------------------ */
static json_t *apply(const json_t *req, const json_t *r)
{
  json_t *out = json_object(), *msgs = json_array(), *params = json_object();
  json_t *changed = json_array(), *removed = json_array(), *invalid = json_array();
  json_t *fr = member(r, "fulfillmentResponse", "fulfillment_response"), *v, *m;
  json_t *si = member(r, "sessionInfo", "session_info");
  json_t *rsi = req ? member(req, "sessionInfo", "session_info") : NULL;
  json_t *pi = member(r, "pageInfo", "page_info");
  const char *key;
  size_t i;
  int merge = 0;

  if(!out || !msgs || !params || !changed || !removed || !invalid) {
    json_decref(out);
    json_decref(msgs);
    json_decref(params);
    json_decref(changed);
    json_decref(removed);
    json_decref(invalid);
    return NULL;
  }
  if(fr && (v = member(fr, "mergeBehavior", "merge_behavior")))
    merge = json_is_integer(v) ? (int)json_integer_value(v)
            : json_is_string(v) && !strcmp(json_string_value(v), "REPLACE") ? 2 : 1;
  if(merge != 2 && req && json_is_array(member(req, "messages", NULL)))
    json_array_extend(msgs, member(req, "messages", NULL)); /* APPEND: after the queued */
  if(fr && json_is_array(member(fr, "messages", NULL)))
    json_array_extend(msgs, member(fr, "messages", NULL));
  json_object_set_new(out, "messages", msgs);
  json_object_set_new(out, "mergeBehavior", json_string(merge == 2 ? "REPLACE" : "APPEND"));
  if(rsi && json_is_object(member(rsi, "parameters", NULL)))
    json_object_update(params, member(rsi, "parameters", NULL));
  if(si && json_is_object(member(si, "parameters", NULL)))
    json_object_foreach(member(si, "parameters", NULL), key, v) {
      if(json_is_null(v)) { /* null removes */
        json_object_del(params, key);
        json_array_append_new(removed, json_string(key));
      } else {
        json_object_set(params, key, v);
        json_array_append_new(changed, json_string(key));
      }
    }
  json_object_set_new(out, "parameters", params);
  json_object_set_new(out, "changedParameters", changed);
  json_object_set_new(out, "removedParameters", removed);
  if(pi && (v = member(member(pi, "formInfo", "form_info"), "parameterInfo", "parameter_info")))
    json_array_foreach(v, i, m) {
      json_t *st = member(m, "state", NULL);
      if((json_is_string(st) && !strcmp(json_string_value(st), "INVALID")) ||
         (json_is_integer(st) && json_integer_value(st) == 2))
        json_array_append(invalid, member(m, "displayName", "display_name"));
    }
  json_object_set_new(out, "invalidParameters", invalid);
  if((v = member(r, "targetPage", "target_page")) && json_is_string(v))
    json_object_set(out, "targetPage", v);
  if((v = member(r, "targetFlow", "target_flow")) && json_is_string(v))
    json_object_set(out, "targetFlow", v);
  json_object_set_new(out, "payload", json_is_object(member(r, "payload", NULL))
                                          ? json_incref(member(r, "payload", NULL))
                                          : json_object());
  return out;
}

char *sdc__json_text(const json_t *j)
{
  char *t = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY |
                                  JSON_REAL_PRECISION(17))
              : NULL;
  char *c = t ? sdc__strdup(t) : NULL;

  sdc__json_free(t); /* jansson's allocation; the caller frees with sdc_free */
  return c;
}

sdc_status sdc__webhook_answer(const void *body, size_t len, json_t **out, char *err,
                               size_t errcap)
{
  json_error_t je;

  if(len > MAX_RESPONSE) {
    snprintf(err, errcap, "the answer is %zu bytes, over Dialogflow's limit of 64 KiB "
             "(65536 bytes)", len);
    return SDC_ETOOBIG;
  }
  sdc__json_ran_out(true);
  if(!(*out = json_loadb(body, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je))) {
    if(sdc__json_ran_out(false) || json_error_code(&je) == json_error_out_of_memory) {
      snprintf(err, errcap, "out of memory");
      return SDC_ENOMEM;
    }
    snprintf(err, errcap, "the answer is not JSON: %s at byte %d", je.text, je.position);
    return SDC_EPROTO;
  }
  return SDC_OK;
}

sdc_status sdc_webhook_response_read(const char *request_json, const void *body, size_t len,
                                     char **result_json, char *err, size_t errcap)
{
  json_t *req = NULL, *r;
  json_error_t je;
  struct check c = {err, errcap, false};
  json_t *out;
  sdc_status st = SDC_OK;

  if(!body || !err || !errcap)
    return SDC_EINVAL;
  err[0] = '\0';
  if((st = sdc__webhook_answer(body, len, &r, err, errcap)))
    return st;
  check_response(&c, r);
  if(c.bad || !result_json) { /* NULL: checked only */
    json_decref(r);
    return c.bad ? SDC_EPROTO : SDC_OK;
  }
  sdc__json_ran_out(true);
  if(request_json && !(req = json_loads(request_json, 0, &je))) {
    bool oom = sdc__json_ran_out(false);
    snprintf(err, errcap, oom ? "out of memory" : "the request is not JSON: %s", je.text);
    json_decref(r);
    return oom ? SDC_ENOMEM : SDC_EINVAL;
  }
  out = apply(req, r);
  if(!(*result_json = sdc__json_text(out)))
    st = SDC_ENOMEM;
  json_decref(out);
  json_decref(req);
  json_decref(r);
  return st;
}
