/*
 * trace_rules.c -- the EPCIS 2.0 rules a captured document must keep.
 *
 * No JSON Schema library is a Debian dependency, so the rules of the GS1
 * schema (tests/vectors/epcis/schema/EPCIS-JSON-Schema.json) that matter
 * for a ledger are checked by hand, each with a stable reason code and a
 * message naming the event's index and the field:
 *
 *   trace.bad_document   not an EPCISDocument / EPCISQueryDocument with
 *                        schemaVersion 2.x and an event list
 *   trace.too_many_events  more than TRACE_EVENTS_MAX events (or none)
 *   trace.bad_event_type the five standard types only (extension event
 *                        types are not captured)
 *   trace.bad_time       eventTime missing or not a date-time with a zone;
 *                        recordTime, declarationTime, sensor times malformed
 *   trace.bad_offset     eventTimeZoneOffset missing or not +hh:mm/-hh:mm
 *   trace.bad_action     action missing or not ADD/OBSERVE/DELETE where it
 *                        is required; present on a TransformationEvent
 *   trace.bad_what       the objects: ObjectEvent needs epcList or
 *                        quantityList (or sensors with a readPoint);
 *                        Aggregation/Association need childEPCs or
 *                        childQuantityList unless DELETE; Transformation
 *                        needs inputs and outputs, or a transformationID
 *                        with either; TransactionEvent a bizTransactionList
 *   trace.bad_parent     parentID missing where required (Aggregation ADD
 *                        and DELETE, every AssociationEvent) or not a URI
 *   trace.bad_ilmd       ilmd on an ObjectEvent that is not ADD
 *   trace.bad_quantity   a quantity element without epcClass, with a
 *                        non-number quantity, a bad uom, or other fields
 *   trace.bad_persistent_disposition  on Aggregation, Association or
 *                        Transaction events (not allowed there), or
 *                        not {set?: [..], unset?: [..]}
 *   trace.bad_field      a field the type does not define and without a
 *                        namespace prefix (extensions are "prefix:name");
 *                        wrong JSON types (lists that are not arrays, ...)
 *   trace.bad_uri        an identifier that is not a non-empty URI
 *   trace.bad_biz_transaction / trace.bad_source_destination  entries
 *                        without their identifier (or type, for sources)
 *   trace.bad_error_declaration  without declarationTime
 *   trace.bad_event_id   eventID not a URI of at most TRACE_EVENT_ID_MAX
 */
#include <stdio.h>
#include <string.h>

#include "modules/trace/trace.h"

#define REJ(code, ...) hanse_reject_code(rej, code, 400, __VA_ARGS__)

static const char *const common_fields[] = {"@context", "type", "eventTime", "recordTime",
                                             "eventTimeZoneOffset", "eventID",
                                             "certificationInfo", "errorDeclaration", NULL};

typedef struct type_def {
  const char *type;
  const char *const fields[16];
} type_def;

static const type_def types[] = {
    {"ObjectEvent",
     {"action", "epcList", "quantityList", "bizStep", "disposition", "persistentDisposition",
      "readPoint", "bizLocation", "bizTransactionList", "sourceList", "destinationList",
      "sensorElementList", "ilmd", NULL}},
    {"AggregationEvent",
     {"parentID", "childEPCs", "childQuantityList", "action", "bizStep", "disposition",
      "readPoint", "bizLocation", "bizTransactionList", "sourceList", "destinationList",
      "sensorElementList", NULL}},
    {"TransactionEvent",
     {"bizTransactionList", "parentID", "epcList", "quantityList", "action", "bizStep",
      "disposition", "readPoint", "bizLocation", "sourceList", "destinationList",
      "sensorElementList", NULL}},
    {"TransformationEvent",
     {"inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList",
      "transformationID", "bizStep", "disposition", "persistentDisposition", "readPoint",
      "bizLocation", "bizTransactionList", "sourceList", "destinationList", "sensorElementList",
      "ilmd"}},
    {"AssociationEvent",
     {"parentID", "childEPCs", "childQuantityList", "action", "bizStep", "disposition",
      "readPoint", "bizLocation", "bizTransactionList", "sourceList", "destinationList",
      "sensorElementList", NULL}},
};

static int in_list(const char *const *l, size_t max, const char *k) {
  for (size_t i = 0; i < max && l[i]; i++)
    if (strcmp(l[i], k) == 0) return 1;
  return 0;
}

/* A URI as the schema means it: a non-empty string with a scheme. */
static int uri_ok(json_t *v) {
  const char *s = json_string_value(v);
  if (s == NULL || s[0] == 0 || strlen(s) >= TRACE_URI_MAX) return 0;
  const char *c = strchr(s, ':');
  return c != NULL && c != s;
}

static int nonempty_array(json_t *v) { return json_is_array(v) && json_array_size(v) > 0; }

static int check_uri_list(json_t *ev, const char *field, size_t idx, int need_nonempty,
                          hanse_reject *rej) {
  json_t *l = json_object_get(ev, field);
  if (l == NULL) return HANSE_OK;
  if (!json_is_array(l)) return REJ("trace.bad_field", "event %zu: %s must be an array", idx, field);
  if (need_nonempty && json_array_size(l) == 0)
    return REJ("trace.bad_what", "event %zu: %s must not be empty", idx, field);
  size_t i;
  json_t *e;
  json_array_foreach(l, i, e) if (!uri_ok(e)) return REJ(
      "trace.bad_uri", "event %zu: %s[%zu] must be a URI", idx, field, i);
  return HANSE_OK;
}

static int check_quantities(json_t *ev, const char *field, size_t idx, hanse_reject *rej) {
  json_t *l = json_object_get(ev, field);
  if (l == NULL) return HANSE_OK;
  if (!json_is_array(l)) return REJ("trace.bad_field", "event %zu: %s must be an array", idx, field);
  size_t i;
  json_t *q;
  json_array_foreach(l, i, q) {
    if (!json_is_object(q) || !uri_ok(json_object_get(q, "epcClass")))
      return REJ("trace.bad_quantity", "event %zu: %s[%zu] needs an epcClass URI", idx, field, i);
    json_t *n = json_object_get(q, "quantity");
    if (n && !json_is_number(n))
      return REJ("trace.bad_quantity", "event %zu: %s[%zu].quantity must be a number", idx,
                 field, i);
    json_t *u = json_object_get(q, "uom");
    if (u) {
      const char *s = json_string_value(u);
      size_t ul = s ? strlen(s) : 0;
      int ok = ul == 2 || ul == 3;
      for (size_t k = 0; ok && k < ul; k++)
        ok = (s[k] >= 'A' && s[k] <= 'Z') || (s[k] >= '0' && s[k] <= '9');
      if (!ok)
        return REJ("trace.bad_quantity", "event %zu: %s[%zu].uom must be 2 or 3 of A-Z0-9", idx,
                   field, i);
    }
    const char *k;
    json_t *v;
    json_object_foreach(q, k, v) if (strcmp(k, "epcClass") != 0 && strcmp(k, "quantity") != 0 &&
                                     strcmp(k, "uom") != 0) return REJ(
        "trace.bad_quantity", "event %zu: %s[%zu] has an unknown field '%.40s'", idx, field, i, k);
  }
  return HANSE_OK;
}

static int check_pairs(json_t *ev, const char *field, const char *what, int type_required,
                       const char *code, size_t idx, hanse_reject *rej) {
  json_t *l = json_object_get(ev, field);
  if (l == NULL) return HANSE_OK;
  if (!json_is_array(l)) return REJ("trace.bad_field", "event %zu: %s must be an array", idx, field);
  size_t i;
  json_t *e;
  json_array_foreach(l, i, e) {
    if (!json_is_object(e) || !uri_ok(json_object_get(e, what)))
      return REJ(code, "event %zu: %s[%zu] needs a %s URI", idx, field, i, what);
    json_t *t = json_object_get(e, "type");
    if ((type_required && t == NULL) || (t && !json_is_string(t)))
      return REJ(code, "event %zu: %s[%zu] needs a type", idx, field, i);
  }
  return HANSE_OK;
}

static int check_time(json_t *obj, const char *field, int required, const char *where,
                      size_t idx, hanse_reject *rej) {
  json_t *t = json_object_get(obj, field);
  int64_t ms;
  if (t == NULL && !required) return HANSE_OK;
  if (!trace_time_parse(json_string_value(t), &ms))
    return REJ("trace.bad_time", "event %zu: %s%s must be a date-time with a zone", idx, where,
               field);
  return HANSE_OK;
}

static int check_sensors(json_t *ev, size_t idx, hanse_reject *rej) {
  json_t *l = json_object_get(ev, "sensorElementList");
  if (l == NULL) return HANSE_OK;
  if (!json_is_array(l))
    return REJ("trace.bad_field", "event %zu: sensorElementList must be an array", idx);
  size_t i;
  json_t *el;
  json_array_foreach(l, i, el) {
    json_t *reports = json_object_get(el, "sensorReport");
    if (!json_is_object(el) || !nonempty_array(reports))
      return REJ("trace.bad_field", "event %zu: sensorElementList[%zu] needs a sensorReport list",
                 idx, i);
    json_t *md = json_object_get(el, "sensorMetadata");
    if (md && !json_is_object(md))
      return REJ("trace.bad_field", "event %zu: sensorMetadata must be an object", idx);
    static const char *const times[] = {"time", "startTime", "endTime"};
    for (int k = 0; md && k < 3; k++) {
      int rc = check_time(md, times[k], 0, "sensorMetadata.", idx, rej);
      if (rc != HANSE_OK) return rc;
    }
    size_t j;
    json_t *r;
    json_array_foreach(reports, j, r) {
      if (!json_is_object(r))
        return REJ("trace.bad_field", "event %zu: sensorReport[%zu] must be an object", idx, j);
      int rc = check_time(r, "time", 0, "sensorReport.", idx, rej);
      if (rc != HANSE_OK) return rc;
      static const char *const nums[] = {"value", "minValue", "maxValue", "meanValue",
                                         "sDev", "percRank", "percValue"};
      for (int k = 0; k < 7; k++) {
        json_t *n = json_object_get(r, nums[k]);
        if (n && !json_is_number(n))
          return REJ("trace.bad_field", "event %zu: sensorReport[%zu].%s must be a number", idx,
                     j, nums[k]);
      }
    }
  }
  return HANSE_OK;
}

int trace_rules_event(json_t *ev, size_t idx, hanse_reject *rej) {
  if (!json_is_object(ev)) return REJ("trace.bad_event_type", "event %zu is not an object", idx);
  const char *type = json_string_value(json_object_get(ev, "type"));
  const type_def *td = NULL;
  for (size_t i = 0; type && i < sizeof types / sizeof types[0]; i++)
    if (strcmp(types[i].type, type) == 0) td = &types[i];
  if (td == NULL)
    return REJ("trace.bad_event_type",
               "event %zu: type must be ObjectEvent, AggregationEvent, TransactionEvent, "
               "TransformationEvent or AssociationEvent",
               idx);
  int transformation = strcmp(type, "TransformationEvent") == 0;
  int object = strcmp(type, "ObjectEvent") == 0;
  int aggregation = strcmp(type, "AggregationEvent") == 0;
  int association = strcmp(type, "AssociationEvent") == 0;
  int transaction = strcmp(type, "TransactionEvent") == 0;

  if (transformation && json_object_get(ev, "action"))
    return REJ("trace.bad_action", "event %zu: a TransformationEvent has no action", idx);
  /* fields: the type's own, the common ones, or prefixed extensions */
  const char *k;
  json_t *v;
  json_object_foreach(ev, k, v) {
    if (in_list(common_fields, 16, k) || in_list(td->fields, 16, k)) continue;
    if (strcmp(k, "persistentDisposition") == 0)
      return REJ("trace.bad_persistent_disposition",
                 "event %zu: persistentDisposition is not allowed on a %s", idx, type);
    if (strchr(k, ':') == NULL || k[0] == ':')
      return REJ("trace.bad_field",
                 "event %zu: '%.48s' is not a field of %s (extensions are prefix:name)", idx, k,
                 type);
  }
  int rc = check_time(ev, "eventTime", 1, "", idx, rej);
  if (rc == HANSE_OK) rc = check_time(ev, "recordTime", 0, "", idx, rej);
  if (rc != HANSE_OK) return rc;
  if (!trace_offset_valid(json_string_value(json_object_get(ev, "eventTimeZoneOffset"))))
    return REJ("trace.bad_offset", "event %zu: eventTimeZoneOffset must be +hh:mm or -hh:mm", idx);
  json_t *id = json_object_get(ev, "eventID");
  if (id && (!uri_ok(id) || strlen(json_string_value(id)) > TRACE_EVENT_ID_MAX))
    return REJ("trace.bad_event_id", "event %zu: eventID must be a URI of at most %d bytes", idx,
               TRACE_EVENT_ID_MAX);

  /* action */
  const char *action = json_string_value(json_object_get(ev, "action"));
  if (transformation) {
    if (json_object_get(ev, "action"))
      return REJ("trace.bad_action", "event %zu: a TransformationEvent has no action", idx);
  } else if (action == NULL || (strcmp(action, "ADD") != 0 && strcmp(action, "OBSERVE") != 0 &&
                                strcmp(action, "DELETE") != 0)) {
    return REJ("trace.bad_action", "event %zu: action must be ADD, OBSERVE or DELETE", idx);
  }

  /* identifiers and quantities */
  static const char *const uri_lists[] = {"epcList", "childEPCs", "inputEPCList",
                                          "outputEPCList"};
  for (int i = 0; i < 4; i++)
    if ((rc = check_uri_list(ev, uri_lists[i], idx, 0, rej)) != HANSE_OK) return rc;
  static const char *const q_lists[] = {"quantityList", "childQuantityList", "inputQuantityList",
                                        "outputQuantityList"};
  for (int i = 0; i < 4; i++)
    if ((rc = check_quantities(ev, q_lists[i], idx, rej)) != HANSE_OK) return rc;
  static const char *const uris[] = {"parentID", "transformationID"};
  for (int i = 0; i < 2; i++) {
    json_t *u = json_object_get(ev, uris[i]);
    if (u && !uri_ok(u))
      return REJ(i == 0 ? "trace.bad_parent" : "trace.bad_uri", "event %zu: %s must be a URI",
                 idx, uris[i]);
  }
  static const char *const places[] = {"readPoint", "bizLocation"};
  for (int i = 0; i < 2; i++) {
    json_t *p = json_object_get(ev, places[i]);
    if (p && (!json_is_object(p) || !uri_ok(json_object_get(p, "id"))))
      return REJ("trace.bad_uri", "event %zu: %s must be {\"id\": URI}", idx, places[i]);
  }
  static const char *const words[] = {"bizStep", "disposition"};
  for (int i = 0; i < 2; i++) {
    json_t *w = json_object_get(ev, words[i]);
    if (w && (!json_is_string(w) || json_string_length(w) == 0 ||
              json_string_length(w) >= TRACE_URI_MAX))
      return REJ("trace.bad_field", "event %zu: %s must be a CBV word or a URI", idx, words[i]);
  }
  if ((rc = check_pairs(ev, "bizTransactionList", "bizTransaction", 0,
                        "trace.bad_biz_transaction", idx, rej)) != HANSE_OK ||
      (rc = check_pairs(ev, "sourceList", "source", 1, "trace.bad_source_destination", idx,
                        rej)) != HANSE_OK ||
      (rc = check_pairs(ev, "destinationList", "destination", 1, "trace.bad_source_destination",
                        idx, rej)) != HANSE_OK)
    return rc;
  if ((rc = check_sensors(ev, idx, rej)) != HANSE_OK) return rc;

  /* what the event is about */
  int epcs = json_is_array(json_object_get(ev, "epcList"));
  int qty = nonempty_array(json_object_get(ev, "quantityList"));
  int children = nonempty_array(json_object_get(ev, "childEPCs")) ||
                 nonempty_array(json_object_get(ev, "childQuantityList"));
  int del = action && strcmp(action, "DELETE") == 0;
  if (object && !epcs && !qty &&
      !(nonempty_array(json_object_get(ev, "sensorElementList")) &&
        json_object_get(ev, "readPoint")))
    return REJ("trace.bad_what",
               "event %zu: an ObjectEvent needs epcList or quantityList (or sensor data with "
               "a readPoint)",
               idx);
  if ((aggregation || association) && !children && !del)
    return REJ("trace.bad_what", "event %zu: a %s needs childEPCs or childQuantityList unless "
                                 "action is DELETE",
               idx, type);
  if (transaction) {
    if (!nonempty_array(json_object_get(ev, "bizTransactionList")))
      return REJ("trace.bad_what", "event %zu: a TransactionEvent needs a bizTransactionList", idx);
    if (!epcs && !qty)
      return REJ("trace.bad_what", "event %zu: a TransactionEvent needs epcList or quantityList",
                 idx);
  }
  if (transformation) {
    int in = nonempty_array(json_object_get(ev, "inputEPCList")) ||
             nonempty_array(json_object_get(ev, "inputQuantityList"));
    int out = nonempty_array(json_object_get(ev, "outputEPCList")) ||
              nonempty_array(json_object_get(ev, "outputQuantityList"));
    if (!(in && out) && !((in || out) && json_object_get(ev, "transformationID")))
      return REJ("trace.bad_what",
                 "event %zu: a TransformationEvent needs inputs and outputs, or a "
                 "transformationID with either",
                 idx);
  }
  if (association && json_object_get(ev, "parentID") == NULL)
    return REJ("trace.bad_parent", "event %zu: an AssociationEvent needs a parentID", idx);
  if (aggregation && action && strcmp(action, "OBSERVE") != 0 &&
      json_object_get(ev, "parentID") == NULL)
    return REJ("trace.bad_parent", "event %zu: an AggregationEvent with action %s needs a parentID",
               idx, action);
  if (object && json_object_get(ev, "ilmd") && strcmp(action, "ADD") != 0)
    return REJ("trace.bad_ilmd", "event %zu: ilmd is allowed only with action ADD", idx);
  json_t *ilmd = json_object_get(ev, "ilmd");
  if (ilmd && !json_is_object(ilmd))
    return REJ("trace.bad_ilmd", "event %zu: ilmd must be an object", idx);

  json_t *pd = json_object_get(ev, "persistentDisposition");
  if (pd) {
    json_t *set = json_object_get(pd, "set"), *unset = json_object_get(pd, "unset");
    int ok = json_is_object(pd) && (set || unset) && (!set || nonempty_array(set)) &&
             (!unset || nonempty_array(unset)) &&
             json_object_size(pd) == (size_t)(!!set + !!unset);
    if (!ok)
      return REJ("trace.bad_persistent_disposition",
                 "event %zu: persistentDisposition must be {\"set\": [...], \"unset\": [...]}",
                 idx);
  }
  json_t *ed = json_object_get(ev, "errorDeclaration");
  if (ed) {
    if (!json_is_object(ed) || check_time(ed, "declarationTime", 1, "", idx, rej) != HANSE_OK)
      return REJ("trace.bad_error_declaration",
                 "event %zu: errorDeclaration needs a declarationTime", idx);
    json_t *c = json_object_get(ed, "correctiveEventIDs");
    if (c && !json_is_array(c))
      return REJ("trace.bad_error_declaration",
                 "event %zu: correctiveEventIDs must be an array of URIs", idx);
    size_t i;
    json_t *e;
    json_array_foreach(c, i, e) if (!uri_ok(e)) return REJ(
        "trace.bad_error_declaration", "event %zu: correctiveEventIDs[%zu] must be a URI", idx, i);
  }
  json_t *ci = json_object_get(ev, "certificationInfo");
  if (ci && !json_is_string(ci) && !json_is_array(ci))
    return REJ("trace.bad_field", "event %zu: certificationInfo must be a URI or a list", idx);
  return HANSE_OK;
}

int trace_rules_document(json_t *doc, json_t **events, hanse_reject *rej) {
  *events = NULL;
  if (!json_is_object(doc))
    return REJ("trace.bad_document", "\"document\" must be an EPCISDocument object");
  const char *type = json_string_value(json_object_get(doc, "type"));
  const char *ver = json_string_value(json_object_get(doc, "schemaVersion"));
  json_t *body = json_object_get(doc, "epcisBody");
  json_t *list = NULL;
  if (type && strcmp(type, "EPCISDocument") == 0)
    list = json_object_get(body, "eventList");
  else if (type && strcmp(type, "EPCISQueryDocument") == 0)
    list = json_object_get(
        json_object_get(json_object_get(body, "queryResults"), "resultsBody"), "eventList");
  else
    return REJ("trace.bad_document", "document type must be EPCISDocument or EPCISQueryDocument");
  if (ver == NULL || strncmp(ver, "2.", 2) != 0)
    return REJ("trace.bad_document", "schemaVersion must be \"2.0\"");
  int64_t ms;
  if (!trace_time_parse(json_string_value(json_object_get(doc, "creationDate")), &ms))
    return REJ("trace.bad_document", "creationDate must be a date-time with a zone");
  if (!json_is_array(list))
    return REJ("trace.bad_document", "epcisBody.eventList must be an array");
  if (json_array_size(list) == 0 || json_array_size(list) > TRACE_EVENTS_MAX)
    return REJ("trace.too_many_events", "a document carries 1 to %d events, this one %zu",
               TRACE_EVENTS_MAX, json_array_size(list));
  size_t i;
  json_t *ev;
  json_array_foreach(list, i, ev) {
    int rc = trace_rules_event(ev, i, rej);
    if (rc != HANSE_OK) return rc;
  }
  *events = list;
  return HANSE_OK;
}
