/*
 * trace_doc.c -- a captured document's events, ready to be stored.
 *
 * The payload of trace.capture is {"document": <EPCISDocument>}, JSON-LD
 * with its "@context" in any form and position, or {"xml": "<XML text>"},
 * which trace_xml.c turns into that form first. Preparing it:
 *
 *   1. the standard's rules (trace_rules.c);
 *   2. the @context's prefixes (document and event level), which the
 *      hash and the query output need;
 *   3. per event: its eventID, given or computed (trace_hash.c); the
 *      state key, hex SHA-256 of the eventID; the data class
 *      (trace_class.c); a normalised copy in which every CBV value is
 *      its bare word, whatever spelling came (trace_vocab.c) -- the one
 *      form we store and query by;
 *   4. no eventID twice in one document, unless the second is the first
 *      one's error declaration (trace.duplicate, 409).
 *
 * check, verify and apply each prepare the payload again: it is
 * context-free and cheap next to the writes, and so nothing about a
 * transaction is cached between the entry points.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "crypto/hash.h"
#include "modules/trace/trace.h"

static void canon_field(json_t *obj, const char *field, trace_vocab v) {
  json_t *x = json_object_get(obj, field);
  const char *s = json_string_value(x);
  if (s == NULL) return;
  const char *c = trace_vocab_canonical(v, s);
  if (c != s) json_object_set_new(obj, field, json_string(c));
}

static void canon_array(json_t *arr, trace_vocab v) {
  size_t i;
  json_t *e;
  json_array_foreach(arr, i, e) {
    const char *s = json_string_value(e);
    const char *c = s ? trace_vocab_canonical(v, s) : NULL;
    if (c && c != s) json_array_set_new(arr, i, json_string(c));
  }
}

static void canon_pairs(json_t *list, trace_vocab v) {
  size_t i;
  json_t *e;
  json_array_foreach(list, i, e) canon_field(e, "type", v);
}

/* Bare CBV words everywhere the standard has a vocabulary. */
static void normalise(json_t *ev) {
  canon_field(ev, "bizStep", TRACE_VOCAB_BIZSTEP);
  canon_field(ev, "disposition", TRACE_VOCAB_DISP);
  json_t *pd = json_object_get(ev, "persistentDisposition");
  canon_array(json_object_get(pd, "set"), TRACE_VOCAB_DISP);
  canon_array(json_object_get(pd, "unset"), TRACE_VOCAB_DISP);
  canon_pairs(json_object_get(ev, "bizTransactionList"), TRACE_VOCAB_BTT);
  canon_pairs(json_object_get(ev, "sourceList"), TRACE_VOCAB_SDT);
  canon_pairs(json_object_get(ev, "destinationList"), TRACE_VOCAB_SDT);
  canon_field(json_object_get(ev, "errorDeclaration"), "reason", TRACE_VOCAB_ER);
  size_t i, j;
  json_t *el, *r;
  json_array_foreach(json_object_get(ev, "sensorElementList"), i, el) {
    json_array_foreach(json_object_get(el, "sensorReport"), j, r) {
      canon_field(r, "type", TRACE_VOCAB_MEASUREMENT);
      canon_field(r, "exception", TRACE_VOCAB_ALERT);
      canon_field(r, "component", TRACE_VOCAB_COMP);
    }
  }
}

void trace_doc_free(trace_doc *d) {
  for (size_t i = 0; d->events && i < d->count; i++) json_decref(d->events[i].event);
  free(d->events);
  json_decref(d->prefixes);
  memset(d, 0, sizeof *d);
}

/* The events of `doc` (borrowed) into d. */
static int prepare(json_t *doc, trace_doc *d, hanse_reject *rej) {
  json_t *events;
  int rc = trace_rules_document(doc, &events, rej);
  if (rc != HANSE_OK) return rc;
  size_t n = json_array_size(events);
  d->events = calloc(n, sizeof *d->events);
  d->prefixes = trace_context_prefixes(json_object_get(doc, "@context"));
  if (d->events == NULL || d->prefixes == NULL) {
    trace_doc_free(d);
    return hanse_reject_set(rej, HANSE_ERR(NOMEM), "out of memory");
  }
  size_t i;
  json_t *ev;
  json_array_foreach(events, i, ev) {
    trace_event *te = &d->events[i];
    d->count = i + 1;
    json_t *local = json_object_get(ev, "@context");
    json_t *prefixes = d->prefixes;
    if (local) { /* an event's own context adds to the document's */
      prefixes = json_copy(d->prefixes);
      json_t *more = trace_context_prefixes(local);
      if (prefixes && more) json_object_update(prefixes, more);
      json_decref(more);
      if (prefixes) json_object_update_missing(d->prefixes, prefixes);
    }
    const char *given = json_string_value(json_object_get(ev, "eventID"));
    if (given) {
      snprintf(te->id, sizeof te->id, "%s", given);
    } else {
      char hid[TRACE_HASH_ID_BYTES];
      rc = prefixes ? trace_hash_id(ev, prefixes, hid) : HANSE_ERR(NOMEM);
      if (rc != HANSE_OK) {
        if (local) json_decref(prefixes);
        trace_doc_free(d);
        return hanse_reject_set(rej, rc, "cannot compute event %zu's hash ID", i);
      }
      snprintf(te->id, sizeof te->id, "%s", hid);
    }
    if (local) json_decref(prefixes);
    trace_sha256_hex(te->key, te->id);
    te->event = json_deep_copy(ev);
    if (te->event == NULL) {
      trace_doc_free(d);
      return hanse_reject_set(rej, HANSE_ERR(NOMEM), "out of memory");
    }
    normalise(te->event);
    json_object_set_new(te->event, "eventID", json_string(te->id));
    te->declaration = json_object_get(ev, "errorDeclaration") != NULL;
    te->cls = trace_event_class(te->event);
    trace_time_parse(json_string_value(json_object_get(ev, "eventTime")), &te->event_time_ms);
    for (size_t j = 0; j < i; j++)
      if (strcmp(d->events[j].key, te->key) == 0 &&
          (d->events[j].declaration || !te->declaration)) {
        trace_doc_free(d);
        return hanse_reject_code(rej, "trace.duplicate", 409,
                                 "event %zu: eventID %.100s appears twice in the document", i,
                                 given ? given : "(computed)");
      }
  }
  return HANSE_OK;
}

int trace_doc_prepare(json_t *payload, trace_doc *d, hanse_reject *rej) {
  memset(d, 0, sizeof *d);
  json_t *doc;
  int rc = trace_payload_document(payload, &doc, rej);
  if (rc != HANSE_OK) return rc;
  rc = prepare(doc, d, rej);
  json_decref(doc);
  return rc;
}
