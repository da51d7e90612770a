/*
 * trace_publish.c -- a sold item's screened record, from the alliance
 * chain to an open chain that consumers read.
 *
 * Publishing is an xchain message of kind "trace.publish" (module xchain,
 * which this module hooks: module.h, hanse_message_hooks):
 *
 *   on the alliance   xchain.send {"to_chain":"open", "kind":"trace.publish",
 *                                  "body": <publication>}
 *                     signed by a member; send_verify checks every entry
 *                     against the event this chain captured
 *   on the open chain xchain.receive of that send, relayed by anyone the
 *                     open chain's policy lets submit; receive_apply
 *                     indexes the publication under its product
 *
 * A publication (the body):
 *
 *   {"product": <canonical identifier, trace_id_canonical>,
 *    "buyer"?:  <hex SHA-256 of the buyer's public key, 64 hex>,
 *    "events":  [<entry>, ...]}                      1..TRACE_PUBLISH_MAX
 *
 * and an entry, everything the consumer sees of one captured event:
 *
 *   {"eventID", "type", "eventTime", "class",
 *    "tx": <the capturing transaction>, "height": <its block>,
 *    "org": <the capturer's organisation or null>, "org_name": <its name or null>,
 *    "signer": <the capture's signer, hex, or null>,
 *    "event": <the screened event as JSON text>}
 *
 * The screened event is the stored event (trace_store.c) with only the
 * top-level fields the alliance's publication policy allows, kept in the
 * event's own order and printed at exact precision (hanse_json_dumps_exact):
 * a string, so that reals travel through xchain (whose payloads hold none)
 * and so that the comparison is of bytes. The policy is the genesis's
 * "publication": {"classes": [data classes], "fields": [top-level event
 * fields]}, by default the classes production, transport and
 * customs_inspection and the fields in default_fields below -- never the
 * business transactions (orders, prices), sources and destinations
 * (parties, addresses) or extensions, unless a chain's policy names them.
 *
 * What the alliance checks (send_verify), for each entry: the event was
 * captured here and was not declared erroneous (trace.declared, 409); its
 * class is publishable (trace.not_publishable, 403); and the entry is
 * exactly what trace_publication_entry makes of the stored record today
 * (trace.not_screened, 409). So an entry cannot carry a field, a value or
 * a responsible enterprise the alliance did not record. Which events a
 * publisher selects for a product is its own choice, signed by it (the
 * client selects the item's events and its lineage); and a publisher
 * cannot publish an event it could not read, since it would have to
 * reproduce its fields byte for byte.
 *
 * What the open chain records (receive_apply), <vh> being the first 32
 * hex digits of the SHA-256 of the product identifier:
 *
 *   trace/products/<vh>                     the product identifier
 *   trace/pub/<vh>/<from chain>/<source tx> {"from_chain","source_tx",
 *                                            "source_height","source_block",
 *                                            "publisher","relayed_by",
 *                                            "tx","height","events":n}
 *   trace/pubev/<vh>/<sha256 of eventID>    the entry, plus "from_chain" and
 *                                           "source_tx"; first publication wins
 *   trace/puborg/<vh>/<org>                 "": org answers for an event here
 *   trace/pubkey/<vh>/<org>/<signer hex>    "": keys that answer for org here
 *   trace/buyer/<buyer>/<vh>                the product identifier
 *
 * and, from consumers and enterprises on the open chain:
 *
 *   trace.complain {"product", "kind": "complaint"|"rectification",
 *                   "enterprise": <org>, "text", "event"?: <eventID>}
 *     the product is published here and names that enterprise (and the
 *     event, if given); anyone may file one.
 *     trace/complaint/<vh>/<tx id>    {"product","kind","enterprise","text",
 *                                      "event"?,"by","tx","height","time"}
 *     trace/complaints/<tx id>        <vh>
 *   trace.answer {"complaint": <tx id>, "text", "status"?: "answered"|
 *                 "rectified"|"rejected"}
 *     signed by a key that captured one of the enterprise's published
 *     events of that product (trace/pubkey): the enterprise answers with
 *     the key it answered for the event with.
 *     trace/answer/<complaint tx id>/<tx id>  {"complaint","text","status",
 *                                              "by","org","tx","height","time"}
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "base/log.h"
#include "chain/exec.h"
#include "chain/module.h"
#include "crypto/hash.h"
#include "encoding/json_real.h"
#include "modules/trace/trace.h"

static const char *const default_classes[] = {"production", "transport", "customs_inspection",
                                              NULL};
/* Always published: what an entry is without. */
static const char *const always_fields[] = {"type", "eventID", "eventTime",
                                            "eventTimeZoneOffset", NULL};
static const char *const default_fields[] = {
    "action",          "bizStep",           "disposition",       "readPoint",
    "bizLocation",     "epcList",           "parentID",          "childEPCs",
    "inputEPCList",    "outputEPCList",     "quantityList",      "childQuantityList",
    "inputQuantityList", "outputQuantityList", "ilmd",            "certificationInfo",
    "sensorElementList", "persistentDisposition", "recordTime",  NULL};

static json_t *string_list(const char *const *l) {
  json_t *a = json_array();
  for (size_t i = 0; a && l[i]; i++) json_array_append_new(a, json_string(l[i]));
  return a;
}

static int list_has(json_t *list, const char *s) {
  size_t i;
  json_t *e;
  json_array_foreach(list, i, e) {
    const char *v = json_string_value(e);
    if (v && strcmp(v, s) == 0) return 1;
  }
  return 0;
}

json_t *trace_publication_policy(json_t *genesis) {
  json_t *p = json_object_get(genesis, "publication");
  json_t *classes = json_object_get(p, "classes");
  json_t *fields = json_object_get(p, "fields");
  return json_pack("{s:o, s:o}", "classes",
                   json_is_array(classes) ? json_incref(classes) : string_list(default_classes),
                   "fields",
                   json_is_array(fields) ? json_incref(fields) : string_list(default_fields));
}

static json_t *policy_from_text(const uint8_t *v, size_t n) {
  json_t *g = json_loadb((const char *)v, n, 0, NULL);
  json_t *p = trace_publication_policy(g);
  json_decref(g);
  return p;
}

/* The screened copy of ev: its own order, allowed fields only. */
static json_t *screen(json_t *ev, json_t *fields) {
  json_t *out = json_object();
  const char *k;
  json_t *v;
  json_object_foreach(ev, k, v) {
    int keep = list_has(fields, k);
    for (size_t i = 0; !keep && always_fields[i]; i++) keep = strcmp(always_fields[i], k) == 0;
    if (keep && out) json_object_set(out, k, v);
  }
  return out;
}

int trace_publication_entry(json_t *rec, json_t *policy, json_t *org_name, json_t **entry,
                            hanse_reject *rej) {
  *entry = NULL;
  json_t *ev = json_object_get(rec, "event");
  const char *cls = json_string_value(json_object_get(rec, "class"));
  const char *id = json_string_value(json_object_get(ev, "eventID"));
  if (!json_is_object(ev) || cls == NULL || id == NULL)
    return hanse_reject_set(rej, HANSE_ERR(INTERNAL), "a stored event record is malformed");
  if (json_is_true(json_object_get(rec, "declaration")))
    return hanse_reject_code(rej, "trace.declared", 409,
                             "event %.120s was declared erroneous: it is not published", id);
  if (!list_has(json_object_get(policy, "classes"), cls))
    return hanse_reject_code(rej, "trace.not_publishable", 403,
                             "event %.120s is of class %s, which the publication policy keeps "
                             "on the alliance",
                             id, cls);
  json_t *s = screen(ev, json_object_get(policy, "fields"));
  char *text = s ? hanse_json_dumps_exact(s, JSON_COMPACT) : NULL;
  json_decref(s);
  if (text == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  json_t *org = json_object_get(rec, "org");
  json_t *signer = json_object_get(rec, "signer");
  *entry = json_pack("{s:s, s:O, s:O, s:s, s:O, s:O, s:O, s:O, s:O, s:s}", "eventID", id, "type",
                     json_object_get(ev, "type"), "eventTime", json_object_get(ev, "eventTime"),
                     "class", cls, "tx", json_object_get(rec, "tx"), "height",
                     json_object_get(rec, "height"), "org", json_is_string(org) ? org : json_null(),
                     "org_name", json_is_string(org_name) ? org_name : json_null(), "signer",
                     json_is_string(signer) ? signer : json_null(), "event", text);
  free(text);
  return *entry ? HANSE_OK : hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
}

/* ---- shapes ----------------------------------------------------------- */

static int hex64(json_t *j) {
  const char *s = json_string_value(j);
  if (s == NULL || strlen(s) != 64) return 0;
  for (size_t i = 0; i < 64; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
  return 1;
}

static int bounded_string(json_t *j, size_t min, size_t max) {
  const char *s = json_string_value(j);
  size_t n = s ? strlen(s) : 0;
  return s && n >= min && n <= max;
}

static int only_keys(json_t *obj, const char *const *allowed) {
  const char *k;
  json_t *v;
  json_object_foreach(obj, k, v) {
    int ok = 0;
    for (size_t i = 0; !ok && allowed[i]; i++) ok = strcmp(allowed[i], k) == 0;
    if (!ok) return 0;
  }
  return 1;
}

/* A product identifier: a URI in its canonical form. */
static int product_valid(json_t *j) {
  if (!bounded_string(j, 1, TRACE_URI_MAX - 1)) return 0;
  char c[TRACE_URI_MAX];
  return strcmp(trace_id_canonical(json_string_value(j), c, sizeof c), json_string_value(j)) == 0;
}

/* An organisation id, as the genesis allows them (it becomes part of
 * state keys). */
static int org_valid(json_t *j) {
  const char *s = json_string_value(j);
  return s && hanse_chain_id_valid(s, strlen(s));
}

static int entry_check(json_t *e, size_t i, hanse_reject *rej) {
  static const char *const keys[] = {"eventID", "type",   "eventTime", "class", "tx", "height",
                                     "org",     "org_name", "signer",  "event", NULL};
  json_t *h = json_object_get(e, "height");
  json_t *org = json_object_get(e, "org"), *name = json_object_get(e, "org_name");
  json_t *signer = json_object_get(e, "signer");
  if (!json_is_object(e) || !only_keys(e, keys) ||
      !bounded_string(json_object_get(e, "eventID"), 1, TRACE_EVENT_ID_MAX) ||
      !bounded_string(json_object_get(e, "type"), 1, 64) ||
      !bounded_string(json_object_get(e, "eventTime"), 1, 64) ||
      !hanse_data_class_valid(json_string_value(json_object_get(e, "class"))) ||
      !hex64(json_object_get(e, "tx")) || !json_is_integer(h) || json_integer_value(h) < 1 ||
      !(json_is_null(org) || org_valid(org)) ||
      !(json_is_null(name) || bounded_string(name, 1, 256)) ||
      !(json_is_null(signer) || hex64(signer)) ||
      !bounded_string(json_object_get(e, "event"), 2, TRACE_PUBLISH_EVENT_TEXT_MAX))
    return hanse_reject_code(rej, "trace.bad_publication", 400,
                             "events[%zu] must be {eventID, type, eventTime, class, tx (64 hex), "
                             "height, org, org_name, signer (64 hex or null), event (JSON text)}",
                             i);
  const char *text = json_string_value(json_object_get(e, "event"));
  json_t *ev = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
  int ok = json_is_object(ev) &&
           json_equal(json_object_get(ev, "eventID"), json_object_get(e, "eventID")) &&
           json_equal(json_object_get(ev, "type"), json_object_get(e, "type")) &&
           json_equal(json_object_get(ev, "eventTime"), json_object_get(e, "eventTime"));
  json_decref(ev);
  if (!ok)
    return hanse_reject_code(rej, "trace.bad_publication", 400,
                             "events[%zu].event must be a JSON object with the entry's eventID, "
                             "type and eventTime",
                             i);
  return HANSE_OK;
}

int trace_publication_check(json_t *body, hanse_reject *rej) {
  static const char *const keys[] = {"product", "buyer", "events", NULL};
  json_t *events = json_object_get(body, "events");
  json_t *buyer = json_object_get(body, "buyer");
  if (!json_is_object(body) || !only_keys(body, keys))
    return hanse_reject_code(rej, "trace.bad_publication", 400,
                             "a publication is {\"product\", \"events\", \"buyer\"?}");
  if (!product_valid(json_object_get(body, "product")))
    return hanse_reject_code(rej, "trace.bad_publication", 400,
                             "\"product\" must be an identifier in its canonical form (a GS1 "
                             "Digital Link URI for GS1 keys)");
  if (buyer && !hex64(buyer))
    return hanse_reject_code(rej, "trace.bad_publication", 400,
                             "\"buyer\" must be the hex SHA-256 of the buyer's public key");
  if (!json_is_array(events) || json_array_size(events) < 1 ||
      json_array_size(events) > TRACE_PUBLISH_MAX)
    return hanse_reject_code(rej, "trace.bad_publication", 400,
                             "\"events\" must be an array of 1 to %d entries", TRACE_PUBLISH_MAX);
  size_t i;
  json_t *e;
  json_array_foreach(events, i, e) {
    int rc = entry_check(e, i, rej);
    if (rc != HANSE_OK) return rc;
    for (size_t j = 0; j < i; j++)
      if (json_equal(json_object_get(json_array_get(events, j), "eventID"),
                     json_object_get(e, "eventID")))
        return hanse_reject_code(rej, "trace.bad_publication", 400,
                                 "events[%zu] repeats the eventID of events[%zu]", i, j);
  }
  return HANSE_OK;
}

/* ---- state helpers ---------------------------------------------------- */

char *trace_sha256_hex(char out[HANSE_HASH_HEX_BYTES], const char *s) {
  hanse_hash h;
  hanse_sha256(&h, s, strlen(s));
  return hanse_hash_hex(out, &h);
}

void trace_event_key(char out[TRACE_KEY_MAX], const char *event_id) {
  char hex[HANSE_HASH_HEX_BYTES];
  snprintf(out, TRACE_KEY_MAX, "trace/ev/%s", trace_sha256_hex(hex, event_id));
}

void trace_value_hash(char out[33], const char *value) {
  char hex[HANSE_HASH_HEX_BYTES];
  snprintf(out, 33, "%.32s", trace_sha256_hex(hex, value));
}

static int exec_json(hanse_exec *ex, const char *key, json_t **out) {
  const uint8_t *v;
  size_t n;
  int found;
  *out = NULL;
  int rc = hanse_exec_get(ex, key, &v, &n, &found);
  if (rc == HANSE_OK && found) {
    *out = json_loadb((const char *)v, n, 0, NULL);
    if (*out == NULL) rc = HANSE_ERR(INTERNAL); /* state holds our own JSON */
  }
  return rc;
}

static int exec_has(hanse_exec *ex, const char *key, int *found) {
  const uint8_t *v;
  size_t n;
  return hanse_exec_get(ex, key, &v, &n, found);
}

static int exec_put_json(hanse_exec *ex, const char *key, json_t *j) {
  if (j == NULL) return HANSE_ERR(NOMEM);
  char *text = hanse_json_dumps_exact(j, JSON_SORT_KEYS | JSON_COMPACT);
  json_decref(j);
  if (text == NULL) return HANSE_ERR(NOMEM);
  int rc = hanse_exec_put(ex, key, text, strlen(text));
  free(text);
  return rc;
}

static int exec_put_string(hanse_exec *ex, const char *key, const char *s) {
  return hanse_exec_put(ex, key, s, strlen(s));
}

/* The organisation name recorded for org (member module's org/<id>), or
 * NULL; new reference. */
static json_t *org_name_exec(hanse_exec *ex, json_t *org) {
  if (!json_is_string(org)) return NULL;
  char key[96];
  snprintf(key, sizeof key, "org/%.64s", json_string_value(org));
  json_t *o = NULL;
  if (exec_json(ex, key, &o) != HANSE_OK) return NULL;
  json_t *name = json_incref(json_object_get(o, "name"));
  json_decref(o);
  return name;
}

/* ---- the alliance side -------------------------------------------------- */

static int send_verify(hanse_exec *ex, const hanse_tx *tx, const char *kind, json_t *body,
                       hanse_reject *rej) {
  (void)tx;
  if (strcmp(kind, "trace.publish") != 0) return HANSE_OK;
  const uint8_t *gv;
  size_t gn;
  int found;
  int rc = hanse_exec_get(ex, "genesis", &gv, &gn, &found);
  if (rc != HANSE_OK || !found) {
    ex->env_error = 1;
    return hanse_reject_set(rej, rc != HANSE_OK ? rc : HANSE_ERR(INTERNAL), "reading the genesis");
  }
  json_t *policy = policy_from_text(gv, gn);
  if (policy == NULL) {
    ex->env_error = 1;
    return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  }
  size_t i;
  json_t *e;
  json_array_foreach(json_object_get(body, "events"), i, e) {
    const char *id = json_string_value(json_object_get(e, "eventID"));
    char key[TRACE_KEY_MAX], err[TRACE_KEY_MAX + 8];
    trace_event_key(key, id);
    snprintf(err, sizeof err, "%s/err", key);
    json_t *rec = NULL;
    int declared = 0;
    rc = exec_json(ex, key, &rec);
    if (rc == HANSE_OK) rc = exec_has(ex, err, &declared);
    if (rc != HANSE_OK) {
      json_decref(rec);
      ex->env_error = 1;
      rc = hanse_reject_set(rej, rc, "reading event records");
      break;
    }
    if (rec == NULL) {
      rc = hanse_reject_code(rej, "trace.unknown_event", 404,
                             "events[%zu]: no event %.120s was captured on this chain", i, id);
      break;
    }
    if (declared) {
      json_decref(rec);
      rc = hanse_reject_code(rej, "trace.declared", 409,
                             "events[%zu]: event %.120s was declared erroneous", i, id);
      break;
    }
    json_t *name = org_name_exec(ex, json_object_get(rec, "org"));
    json_t *want = NULL;
    rc = trace_publication_entry(rec, policy, name, &want, rej);
    json_decref(name);
    json_decref(rec);
    if (rc != HANSE_OK) {
      if (rc != HANSE_ERR(INVALID)) ex->env_error = 1;
      break;
    }
    int same = json_equal(want, e);
    json_decref(want);
    if (!same) {
      rc = hanse_reject_code(rej, "trace.not_screened", 409,
                             "events[%zu]: the entry of %.120s is not the screened record this "
                             "chain holds (fields, values or the responsible enterprise differ; "
                             "read it with GET /epcis/publication)",
                             i, id);
      break;
    }
  }
  json_decref(policy);
  return rc;
}

/* ---- the open chain's side ---------------------------------------------- */

static int receive_apply(hanse_exec *ex, const char *kind, json_t *rec) {
  if (strcmp(kind, "trace.publish") != 0) return HANSE_OK;
  json_t *body = json_object_get(rec, "body");
  const char *product = json_string_value(json_object_get(body, "product"));
  const char *from = json_string_value(json_object_get(rec, "from_chain"));
  const char *src = json_string_value(json_object_get(rec, "source_tx"));
  HANSE_ASSERT(product && from && src); /* checked in the receive's verify */
  char vh[33], key[TRACE_KEY_MAX * 2];
  trace_value_hash(vh, product);
  snprintf(key, sizeof key, "trace/products/%s", vh);
  int rc = exec_put_string(ex, key, product);
  json_t *events = json_object_get(body, "events");
  snprintf(key, sizeof key, "trace/pub/%s/%s/%s", vh, from, src);
  if (rc == HANSE_OK)
    rc = exec_put_json(
        ex, key,
        json_pack("{s:s, s:s, s:O, s:O, s:O, s:O, s:O, s:O, s:I}", "from_chain", from,
                  "source_tx", src, "source_height", json_object_get(rec, "source_height"),
                  "source_block", json_object_get(rec, "source_block"), "publisher",
                  json_object_get(rec, "signer"), "relayed_by", json_object_get(rec, "relayed_by"),
                  "tx", json_object_get(rec, "tx"), "height", json_object_get(rec, "height"),
                  "events", (json_int_t)json_array_size(events)));
  size_t i;
  json_t *e;
  json_array_foreach(events, i, e) {
    if (rc != HANSE_OK) break;
    char eh[HANSE_HASH_HEX_BYTES];
    const char *id = json_string_value(json_object_get(e, "eventID"));
    snprintf(key, sizeof key, "trace/pubev/%s/%s", vh, trace_sha256_hex(eh, id));
    int found = 0;
    rc = exec_has(ex, key, &found);
    if (rc == HANSE_OK && !found) {
      json_t *copy = json_copy(e);
      if (copy) {
        json_object_set_new(copy, "from_chain", json_string(from));
        json_object_set_new(copy, "source_tx", json_string(src));
      }
      rc = exec_put_json(ex, key, copy);
    }
    const char *org = json_string_value(json_object_get(e, "org"));
    const char *signer = json_string_value(json_object_get(e, "signer"));
    if (rc == HANSE_OK && org) {
      snprintf(key, sizeof key, "trace/puborg/%s/%s", vh, org);
      rc = hanse_exec_put(ex, key, "", 0);
    }
    if (rc == HANSE_OK && org && signer) {
      snprintf(key, sizeof key, "trace/pubkey/%s/%s/%s", vh, org, signer);
      rc = hanse_exec_put(ex, key, "", 0);
    }
  }
  const char *buyer = json_string_value(json_object_get(body, "buyer"));
  if (rc == HANSE_OK && buyer) {
    snprintf(key, sizeof key, "trace/buyer/%s/%s", buyer, vh);
    rc = exec_put_string(ex, key, product);
  }
  return rc;
}

static int message_check(const char *kind, json_t *body, hanse_reject *rej) {
  if (strcmp(kind, "trace.publish") != 0)
    return hanse_reject_code(rej, "trace.bad_kind", 400,
                             "the trace module's only message is trace.publish");
  return trace_publication_check(body, rej);
}

const hanse_message_hooks trace_message_hooks = {
    .check = message_check,
    .send_verify = send_verify,
    .receive_apply = receive_apply,
};

/* ---- complaints and answers ----------------------------------------------- */

static const char *const complaint_kinds[] = {"complaint", "rectification", NULL};
static const char *const answer_statuses[] = {"answered", "rectified", "rejected", NULL};

static int one_of(json_t *j, const char *const *l) {
  const char *s = json_string_value(j);
  for (size_t i = 0; s && l[i]; i++)
    if (strcmp(l[i], s) == 0) return 1;
  return 0;
}

int trace_complaint_check(const char *action, json_t *p, hanse_reject *rej) {
  if (strcmp(action, "complain") == 0) {
    static const char *const keys[] = {"product", "kind", "enterprise", "text", "event", NULL};
    json_t *ev = json_object_get(p, "event");
    if (!only_keys(p, keys) || !product_valid(json_object_get(p, "product")) ||
        !one_of(json_object_get(p, "kind"), complaint_kinds) ||
        !org_valid(json_object_get(p, "enterprise")) ||
        !bounded_string(json_object_get(p, "text"), 1, TRACE_TEXT_MAX) ||
        (ev && !bounded_string(ev, 1, TRACE_EVENT_ID_MAX)))
      return hanse_reject_code(rej, "trace.bad_complaint", 400,
                               "a complaint is {\"product\": <canonical identifier>, \"kind\": "
                               "\"complaint\"|\"rectification\", \"enterprise\": <org id>, "
                               "\"text\": 1-%d bytes, \"event\"?: <eventID>}",
                               TRACE_TEXT_MAX);
    return HANSE_OK;
  }
  static const char *const keys[] = {"complaint", "text", "status", NULL};
  json_t *st = json_object_get(p, "status");
  if (!only_keys(p, keys) || !hex64(json_object_get(p, "complaint")) ||
      !bounded_string(json_object_get(p, "text"), 1, TRACE_TEXT_MAX) ||
      (st && !one_of(st, answer_statuses)))
    return hanse_reject_code(rej, "trace.bad_answer", 400,
                             "an answer is {\"complaint\": <its tx id>, \"text\": 1-%d bytes, "
                             "\"status\"?: \"answered\"|\"rectified\"|\"rejected\"}",
                             TRACE_TEXT_MAX);
  return HANSE_OK;
}

/* 1 in *found when org answers for a published event of the product
 * (trace/puborg); with signer, when that key does (trace/pubkey). */
static int pubkey_has(hanse_exec *ex, const char *vh, const char *org, const char *signer,
                      int *found) {
  char key[TRACE_KEY_MAX * 2];
  if (signer) snprintf(key, sizeof key, "trace/pubkey/%s/%s/%s", vh, org, signer);
  else snprintf(key, sizeof key, "trace/puborg/%s/%s", vh, org);
  return exec_has(ex, key, found);
}

int trace_complaint_verify(hanse_exec *ex, const hanse_tx *tx, const char *action, json_t *p,
                           hanse_reject *rej) {
  char vh[33], key[TRACE_KEY_MAX * 2];
  int found = 0, rc;
  if (strcmp(action, "complain") == 0) {
    const char *product = json_string_value(json_object_get(p, "product"));
    const char *org = json_string_value(json_object_get(p, "enterprise"));
    trace_value_hash(vh, product);
    snprintf(key, sizeof key, "trace/products/%s", vh);
    if ((rc = exec_has(ex, key, &found)) != HANSE_OK) goto env;
    if (!found)
      return hanse_reject_code(rej, "trace.unknown_product", 404,
                               "no record of %.200s is published on this chain", product);
    if ((rc = pubkey_has(ex, vh, org, NULL, &found)) != HANSE_OK) goto env;
    if (!found)
      return hanse_reject_code(rej, "trace.unknown_enterprise", 404,
                               "no published event of %.200s names enterprise %.64s", product,
                               org);
    const char *event = json_string_value(json_object_get(p, "event"));
    if (event) {
      char eh[HANSE_HASH_HEX_BYTES];
      snprintf(key, sizeof key, "trace/pubev/%s/%s", vh, trace_sha256_hex(eh, event));
      json_t *entry = NULL;
      if ((rc = exec_json(ex, key, &entry)) != HANSE_OK) goto env;
      int ok = entry && json_equal(json_object_get(entry, "org"), json_object_get(p, "enterprise"));
      json_decref(entry);
      if (!ok)
        return hanse_reject_code(rej, "trace.unknown_event", 404,
                                 "event %.120s is not a published event of %.64s for this product",
                                 event, org);
    }
    return HANSE_OK;
  }
  const char *complaint = json_string_value(json_object_get(p, "complaint"));
  snprintf(key, sizeof key, "trace/complaints/%s", complaint);
  const uint8_t *v;
  size_t n;
  if ((rc = hanse_exec_get(ex, key, &v, &n, &found)) != HANSE_OK) goto env;
  if (!found || n != 32)
    return hanse_reject_code(rej, "trace.unknown_complaint", 404, "no complaint %s on this chain",
                             complaint);
  snprintf(vh, sizeof vh, "%.32s", (const char *)v);
  snprintf(key, sizeof key, "trace/complaint/%s/%s", vh, complaint);
  json_t *c = NULL;
  if ((rc = exec_json(ex, key, &c)) != HANSE_OK) goto env;
  char signer[HANSE_HASH_HEX_BYTES], org[HANSE_CHAIN_ID_MAX + 1];
  hanse_pubkey_hex(signer, &tx->signer);
  const char *o = json_string_value(json_object_get(c, "enterprise"));
  snprintf(org, sizeof org, "%s", o ? o : "");
  json_decref(c); /* o is gone with it: org is a copy */
  rc = org[0] ? pubkey_has(ex, vh, org, signer, &found) : HANSE_ERR(INTERNAL);
  if (rc != HANSE_OK) goto env;
  if (!found)
    return hanse_reject_code(rej, "trace.not_responsible", 403,
                             "only a key that answers for %.64s's published events of this "
                             "product may answer its complaints",
                             org);
  return HANSE_OK;
env:
  ex->env_error = 1;
  return hanse_reject_set(rej, rc, "reading complaints");
}

int trace_complaint_apply(hanse_exec *ex, const hanse_tx *tx, const char *action, json_t *p) {
  char id[HANSE_HASH_HEX_BYTES], signer[HANSE_HASH_HEX_BYTES], time[25];
  char vh[33], key[TRACE_KEY_MAX * 2];
  hanse_hash_hex(id, &tx->id);
  hanse_pubkey_hex(signer, &tx->signer);
  trace_time_format((int64_t)ex->time_ms, time);
  json_t *rec = json_deep_copy(p);
  if (rec == NULL) return HANSE_ERR(NOMEM);
  json_object_set_new(rec, "by", json_string(signer));
  json_object_set_new(rec, "tx", json_string(id));
  json_object_set_new(rec, "height", json_integer((json_int_t)ex->height));
  json_object_set_new(rec, "time", json_string(time));
  if (strcmp(action, "complain") == 0) {
    trace_value_hash(vh, json_string_value(json_object_get(p, "product")));
    snprintf(key, sizeof key, "trace/complaint/%s/%s", vh, id);
    int rc = exec_put_json(ex, key, rec);
    snprintf(key, sizeof key, "trace/complaints/%s", id);
    return rc == HANSE_OK ? exec_put_string(ex, key, vh) : rc;
  }
  const char *complaint = json_string_value(json_object_get(p, "complaint"));
  snprintf(key, sizeof key, "trace/complaints/%s", complaint);
  const uint8_t *v;
  size_t n;
  int found;
  int rc = hanse_exec_get(ex, key, &v, &n, &found);
  if (rc != HANSE_OK || !found || n != 32) {
    json_decref(rec);
    return rc != HANSE_OK ? rc : HANSE_ERR(INTERNAL); /* verify found it */
  }
  snprintf(vh, sizeof vh, "%.32s", (const char *)v);
  snprintf(key, sizeof key, "trace/complaint/%s/%s", vh, complaint);
  json_t *c = NULL;
  if ((rc = exec_json(ex, key, &c)) != HANSE_OK) {
    json_decref(rec);
    return rc;
  }
  json_object_set(rec, "org", json_object_get(c, "enterprise"));
  if (json_object_get(rec, "status") == NULL)
    json_object_set_new(rec, "status", json_string("answered"));
  json_decref(c);
  snprintf(key, sizeof key, "trace/answer/%s/%s", complaint, id);
  return exec_put_json(ex, key, rec);
}
