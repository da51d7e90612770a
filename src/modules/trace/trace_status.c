/*
 * trace_status.c -- the shipment status of an item, from its events.
 *
 * Logistics partners record a shipment as ordinary EPCIS events: the
 * shipper's shipping, the carrier's transporting and arriving, a
 * warehouse's receiving and storing, customs' inspection and release,
 * the consignee's receiving or accepting. trace_shipment_status reads
 * them -- in eventTime order, each event one step at most -- with this
 * table, first row that holds:
 *
 *   event                                                 step
 *   ----------------------------------------------------  ------------------
 *   data class customs_inspection (trace_class.c), and    customs_cleared
 *     its disposition is conformant, active, in_transit,
 *     sellable_accessible, or its bizStep, disposition
 *     or a bizTransaction says "clear" or "releas"
 *   data class customs_inspection otherwise               customs_inspection
 *   bizStep or disposition says "deliver" (a custom       delivered
 *     vocabulary's), or bizStep accepting
 *   bizStep receiving at a location the last dispatch     delivered
 *     named as its destination (destinationList entry
 *     of type location, compared as identifiers)
 *   bizStep shipping, departing, staging_outbound,        dispatched
 *     loading
 *   bizStep transporting                                  in_transit
 *   bizStep arriving, unloading, receiving (elsewhere)    arrived
 *   bizStep storing, stocking                             warehouse_receipt
 *   any other bizStep with disposition in_transit         in_transit
 *   anything else (production, sales, ...)                no step
 *
 * The status is that of the last step among dispatched, in_transit,
 * arrived, delivered and warehouse_receipt (which counts as arrived: the
 * goods are at a warehouse); customs steps are listed but leave the status
 * as it was, since customs act on goods in transit. Once delivered, an
 * arrived or warehouse_receipt step (the consignee unloading and storing
 * what it received) leaves it delivered; only a new dispatch or transport
 * (a return, the next leg) moves it on. "since" and "eventID" are the
 * eventTime (as the event gives it) and the eventID of the step that set
 * the status. Without any step the status is "none".
 *
 * Error declarations: an event carrying an errorDeclaration is no step,
 * and neither is the event it declares erroneous (same eventID).
 *
 * The function reads nothing but its argument, so the same code answers
 * for the alliance chain's events (trace_query_status, below, which
 * gathers them from the state) and for screened events published to the
 * open chain.
 *
 * trace_event_is_delivery asks the same table about one event alone, for
 * the order module (an order's escrow is released by its delivery
 * event): the only dispatch destinations it knows are those the event
 * itself names in its destinationList, so a receiving is a delivery when
 * it happens at one of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chain/exec.h"
#include "modules/trace/trace.h"

/* Events of one status answer: an item's own events and its containers'
 * over a whole journey are a few dozen; the bound stops a pathological
 * item (a returnable pallet of ten years) from costing more. */
#define TRACE_STATUS_EVENTS_MAX 2000
/* Containers whose events count for an item: case, pallet, container,
 * vessel. */
#define TRACE_STATUS_DEPTH 4

static int word_in(const char *w, const char *const *list) {
  for (size_t i = 0; w && list[i]; i++)
    if (strcmp(w, list[i]) == 0) return 1;
  return 0;
}

/* 1 if s contains word, ignoring case. */
static int says(const char *s, const char *word) {
  if (s == NULL) return 0;
  size_t n = strlen(word);
  for (const char *p = s; *p; p++)
    if (strncasecmp(p, word, n) == 0) return 1;
  return 0;
}

static const char *str(json_t *ev, const char *k) {
  return json_string_value(json_object_get(ev, k));
}

static const char *biz_location(json_t *ev) {
  return json_string_value(json_object_get(json_object_get(ev, "bizLocation"), "id"));
}

static int customs_cleared(json_t *ev) {
  static const char *const ok[] = {"conformant", "active", "in_transit", "sellable_accessible",
                                   NULL};
  const char *disp = str(ev, "disposition"), *step = str(ev, "bizStep");
  if (word_in(disp, ok)) return 1;
  if (says(disp, "clear") || says(disp, "releas") || says(step, "clear") || says(step, "releas"))
    return 1;
  size_t i;
  json_t *bt;
  json_array_foreach(json_object_get(ev, "bizTransactionList"), i, bt) {
    if (says(str(bt, "type"), "clear") || says(str(bt, "type"), "releas") ||
        says(str(bt, "bizTransaction"), "clear") || says(str(bt, "bizTransaction"), "releas"))
      return 1;
  }
  return 0;
}

/* 1 if the event happened at one of the locations `dest` (canonical ids). */
static int at_destination(json_t *ev, json_t *dest) {
  const char *bl = biz_location(ev);
  if (bl == NULL) return 0;
  char c[TRACE_URI_MAX];
  trace_id_canonical(bl, c, sizeof c);
  return json_object_get(dest, c) != NULL;
}

/* The step of one event, or NULL. dest: the location destinations of the
 * last dispatch (canonical id -> true). */
static const char *step_of(json_t *ev, json_t *dest) {
  static const char *const dispatch[] = {"shipping", "departing", "staging_outbound", "loading",
                                         NULL};
  static const char *const arrive[] = {"arriving", "unloading", "receiving", NULL};
  static const char *const store[] = {"storing", "stocking", NULL};
  const char *step = str(ev, "bizStep"), *disp = str(ev, "disposition");
  if (strcmp(trace_event_class(ev), "customs_inspection") == 0)
    return customs_cleared(ev) ? "customs_cleared" : "customs_inspection";
  if (says(step, "deliver") || says(disp, "deliver") || (step && strcmp(step, "accepting") == 0))
    return "delivered";
  if (step && strcmp(step, "receiving") == 0 && at_destination(ev, dest)) return "delivered";
  if (word_in(step, dispatch)) return "dispatched";
  if (step && strcmp(step, "transporting") == 0) return "in_transit";
  if (word_in(step, arrive)) return "arrived";
  if (word_in(step, store)) return "warehouse_receipt";
  if (disp && strcmp(disp, "in_transit") == 0) return "in_transit";
  return NULL;
}

/* The location destinations of a dispatch, as canonical ids. */
static void note_destinations(json_t *ev, json_t *dest) {
  json_t *list = json_object_get(ev, "destinationList");
  if (json_array_size(list) == 0) return;
  json_object_clear(dest);
  size_t i;
  json_t *d;
  json_array_foreach(list, i, d) {
    const char *type = str(d, "type"), *id = str(d, "destination");
    char c[TRACE_URI_MAX];
    if (type && id && strcmp(type, "location") == 0)
      json_object_set_new(dest, trace_id_canonical(id, c, sizeof c), json_true());
  }
}

int trace_event_is_delivery(json_t *ev) {
  json_t *dest = json_object();
  if (dest == NULL) return 0;
  note_destinations(ev, dest);
  const char *s = step_of(ev, dest);
  json_decref(dest);
  return s != NULL && strcmp(s, "delivered") == 0;
}

typedef struct timed {
  json_t *ev;
  int64_t ms;
  size_t index;
} timed;

static int cmp_timed(const void *a, const void *b) {
  const timed *x = a, *y = b;
  if (x->ms != y->ms) return x->ms < y->ms ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index; /* stable */
}

json_t *trace_shipment_status(json_t *events) {
  size_t n = json_array_size(events), m = 0;
  timed *t = calloc(n ? n : 1, sizeof *t);
  json_t *declared = json_object(), *dest = json_object(), *steps = json_array();
  json_t *out = NULL;
  if (t == NULL || declared == NULL || dest == NULL || steps == NULL) goto done;
  size_t i;
  json_t *ev;
  json_array_foreach(events, i, ev) {
    const char *id = str(ev, "eventID");
    if (json_object_get(ev, "errorDeclaration") && id)
      json_object_set_new(declared, id, json_true());
  }
  json_array_foreach(events, i, ev) {
    const char *id = str(ev, "eventID");
    int64_t ms;
    if (!json_is_object(ev) || json_object_get(ev, "errorDeclaration") ||
        (id && json_object_get(declared, id)) || !trace_time_parse(str(ev, "eventTime"), &ms))
      continue;
    t[m++] = (timed){ev, ms, i};
  }
  qsort(t, m, sizeof *t, cmp_timed);
  const char *status = "none";
  json_t *since = json_null(), *by = json_null();
  for (i = 0; i < m; i++) {
    const char *s = step_of(t[i].ev, dest);
    if (s == NULL) continue;
    if (strcmp(s, "dispatched") == 0) note_destinations(t[i].ev, dest);
    json_t *id = json_object_get(t[i].ev, "eventID");
    json_t *step = json_pack("{s:s, s:s, s:O}", "status", s, "time", str(t[i].ev, "eventTime"),
                             "eventID", id ? id : json_null());
    if (step == NULL) goto done;
    const char *bs = str(t[i].ev, "bizStep"), *bl = biz_location(t[i].ev);
    if (bs) json_object_set_new(step, "bizStep", json_string(bs));
    if (bl) json_object_set_new(step, "bizLocation", json_string(bl));
    json_array_append_new(steps, step);
    if (strncmp(s, "customs_", 8) == 0) continue;
    const char *main = strcmp(s, "warehouse_receipt") == 0 ? "arrived" : s;
    if (strcmp(status, "delivered") == 0 && strcmp(main, "arrived") == 0) continue;
    status = main;
    since = json_object_get(step, "time");
    by = json_object_get(step, "eventID");
  }
  out = json_pack("{s:s, s:O, s:O, s:O}", "status", status, "since", since, "eventID", by,
                  "steps", steps);
done:
  free(t);
  json_decref(declared);
  json_decref(dest);
  json_decref(steps);
  return out;
}

/* ---- the item's events on the chain ----------------------------------- */

/* Append the readable events naming `epc` (from `since` on, when not
 * NULL) to out, each eventID once (seen); stops at
 * TRACE_STATUS_EVENTS_MAX, setting *truncated. */
static int gather(hanse_view *v, const char *epc, const char *since, json_t *readable,
                  json_t *out, json_t *seen, int *truncated, hanse_reject *rej) {
  char token[17] = "";
  do {
    json_t *params = json_pack("{s:s, s:s, s:O}", "MATCH_anyEPC", epc, "perPage", "500",
                               "readable", readable);
    if (params == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
    if (since) json_object_set_new(params, "GE_eventTime", json_string(since));
    if (token[0]) json_object_set_new(params, "nextPageToken", json_string(token));
    json_t *page = NULL;
    int rc = trace_query_events(v, params, &page, rej);
    json_decref(params);
    if (rc != HANSE_OK) return rc;
    size_t i;
    json_t *ev;
    json_array_foreach(json_object_get(page, "eventList"), i, ev) {
      const char *id = str(ev, "eventID");
      /* an event and its declaration share the id: keep both */
      char key[TRACE_EVENT_ID_MAX + 8];
      snprintf(key, sizeof key, "%s%s", json_object_get(ev, "errorDeclaration") ? "err " : "",
               id ? id : "");
      if (id && json_object_get(seen, key)) continue;
      if (json_array_size(out) >= TRACE_STATUS_EVENTS_MAX) {
        *truncated = 1;
        break;
      }
      json_object_set_new(seen, key, json_true());
      json_array_append(out, ev);
    }
    const char *next = str(page, "nextPageToken");
    snprintf(token, sizeof token, "%s", next && !*truncated ? next : "");
    json_decref(page);
  } while (token[0]);
  return HANSE_OK;
}

/* The eventTime of the event `id` among the lineage's events. */
static const char *event_time(json_t *lin, const char *id) {
  size_t i;
  json_t *ev;
  json_array_foreach(json_object_get(lin, "events"), i, ev) {
    const char *eid = str(ev, "eventID");
    if (eid && id && strcmp(eid, id) == 0) return str(ev, "eventTime");
  }
  return NULL;
}

int trace_query_status(hanse_view *v, json_t *params, json_t **result, hanse_reject *rej) {
  *result = NULL;
  const char *k;
  json_t *val;
  json_object_foreach(params, k, val) {
    if (strcmp(k, "epc") != 0 && strcmp(k, "readable") != 0)
      return hanse_reject_code(rej, "trace.bad_query", 400,
                               "unsupported status parameter '%.64s'", k);
  }
  json_t *readable = json_object_get(params, "readable");
  json_t *lin = NULL;
  /* the containers it was packed into: a chain of aggregations up from
   * the item, each counted from the time it was packed */
  int rc = trace_lineage(v, str(params, "epc"), 0, readable, TRACE_STATUS_DEPTH, &lin, rej);
  if (rc != HANSE_OK) return rc;
  json_t *containers = json_object(), *events = json_array(), *seen = json_object();
  int truncated = 0;
  if (containers == NULL || events == NULL || seen == NULL)
    rc = hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  const char *start = str(lin, "epc");
  if (rc == HANSE_OK) json_object_set_new(containers, start, json_null());
  size_t i;
  json_t *it;
  json_array_foreach(json_object_get(lin, "items"), i, it) {
    if (rc != HANSE_OK) break;
    const char *via = str(it, "via");
    if (strcmp(via, "aggregation") != 0 || !json_object_get(containers, str(it, "from"))) continue;
    const char *t = event_time(lin, str(it, "eventID"));
    json_object_set_new(containers, str(it, "epc"), t ? json_string(t) : json_null());
  }
  json_object_foreach(containers, k, val) {
    if (rc != HANSE_OK) break;
    rc = gather(v, k, json_string_value(val), readable, events, seen, &truncated, rej);
  }
  if (rc == HANSE_OK) {
    *result = trace_shipment_status(events);
    json_t *list = json_array();
    json_object_foreach(containers, k, val) if (strcmp(k, start) != 0)
        json_array_append_new(list, json_string(k));
    if (*result == NULL || list == NULL) {
      json_decref(*result);
      *result = NULL;
      json_decref(list);
      rc = hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
    } else {
      json_object_set_new(*result, "epc", json_string(start));
      json_object_set_new(*result, "containers", list);
      json_object_set_new(*result, "truncated",
                          json_boolean(truncated || json_is_true(json_object_get(lin, "truncated"))));
    }
  }
  json_decref(lin);
  json_decref(containers);
  json_decref(events);
  json_decref(seen);
  return rc;
}
