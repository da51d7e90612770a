/*
 * trace/trace.c -- product traceability on GS1 EPCIS 2.0: the module.
 *
 * Three transaction kinds: trace.complain and trace.answer, a consumer's
 * complaint about a published product and its enterprise's answer, on
 * the open chain (trace_publish.c); and trace.capture, with the payload
 * {"document": <EPCISDocument>} -- the JSON-LD document exactly as the
 * EPCIS capture interface takes it (its "@context" a string, an array or
 * an object, first or last) -- or {"xml": "<EPCISDocument ...>"}, the XML
 * document as text, which every entry point converts the same way
 * (trace_xml.c) and the signed transaction keeps. The four entry points:
 *
 *   check   the standard's rules for the document and each event
 *           (trace_rules.c), the events' hash IDs where eventID is missing
 *           (trace_hash.c), no eventID twice in the document;
 *   verify  no event already captured on this chain (trace.duplicate,
 *           409), error declarations once per event (trace_store.c);
 *   apply   each event's record, its capture number and its indexes
 *           (trace_store.c, which describes the keys); then each event
 *           goes to order_on_delivery: a delivery event naming an order
 *           releases its escrow (modules/order/order_delivery.c);
 *   query   not reachable through /query/trace/...: the events are read
 *           through the EPCIS query binding (api/res_epcis.c), which
 *           filters each event by the caller's right to read its class
 *           and calls this module's query entry with the names
 *           "epcis.events", "epcis.eventTypes", "epcis.lineage"
 *           (trace_lineage.c) and "epcis.status" (trace_status.c), which
 *           the module does not list (so res_query refuses them).
 *
 * Classes: each event has its own (trace_class.c). The capture
 * transaction as a whole -- what GET /txs/{id} shows -- is of the one
 * class its events share, or of the first of customs_inspection,
 * transaction, transport its events have: the raw document is shown
 * only to readers of its most sensitive part, as far as the policy's
 * classes can be ordered at all.
 *
 * Payloads may hold real numbers (quantities, sensor values); they are
 * stored at their shortest exact precision (encoding/json_real.h).
 */
#include <string.h>

#include "base/hex.h"
#include "chain/exec.h"
#include "chain/module.h"
#include "modules/order/order.h"
#include "modules/trace/trace.h"

static const char *const trace_actions[] = {"capture", "complain", "answer", NULL};

static int is_capture(const char *action) { return strcmp(action, "capture") == 0; }
static const char *const trace_queries[] = {NULL};

static int trace_check(const hanse_tx *tx, const char *action, json_t *p, hanse_reject *rej) {
  (void)tx;
  if (!is_capture(action)) return trace_complaint_check(action, p, rej);
  trace_doc d;
  int rc = trace_doc_prepare(p, &d, rej);
  if (rc == HANSE_OK) trace_doc_free(&d);
  return rc;
}

static int trace_verify(hanse_exec *ex, const hanse_tx *tx, const char *action, json_t *p,
                        hanse_reject *rej) {
  if (!is_capture(action)) return trace_complaint_verify(ex, tx, action, p, rej);
  trace_doc d;
  int rc = trace_doc_prepare(p, &d, rej);
  if (rc != HANSE_OK) return rc;
  rc = trace_store_verify(ex, &d, rej);
  trace_doc_free(&d);
  return rc;
}

static int trace_apply(hanse_exec *ex, const hanse_tx *tx, const char *action, json_t *p) {
  if (!is_capture(action)) return trace_complaint_apply(ex, tx, action, p);
  trace_doc d;
  hanse_reject rej;
  hanse_reject_clear(&rej);
  int rc = trace_doc_prepare(p, &d, &rej);
  if (rc != HANSE_OK) return rc; /* verify accepted it: only memory can fail here */
  char txid[HANSE_HASH_HEX_BYTES];
  hanse_hash_hex(txid, &tx->id);
  rc = trace_store_apply(ex, txid, &d);
  /* a delivery event naming an order releases its escrow (order.h) */
  for (size_t i = 0; i < d.count && rc == HANSE_OK; i++)
    rc = order_on_delivery(ex, d.events[i].event);
  trace_doc_free(&d);
  return rc;
}

static int trace_query(hanse_view *v, const char *name, json_t *params, json_t **result,
                       hanse_reject *rej) {
  if (strcmp(name, "epcis.events") == 0) return trace_query_events(v, params, result, rej);
  if (strcmp(name, "epcis.eventTypes") == 0) return trace_query_event_types(v, result, rej);
  if (strcmp(name, "epcis.publication") == 0) return trace_query_publication(v, params, result, rej);
  if (strcmp(name, "trace.product") == 0) return trace_query_product(v, params, result, rej);
  if (strcmp(name, "trace.purchases") == 0) return trace_query_purchases(v, params, result, rej);
  if (strcmp(name, "epcis.lineage") == 0) return trace_query_lineage(v, params, result, rej);
  if (strcmp(name, "epcis.status") == 0) return trace_query_status(v, params, result, rej);
  return hanse_reject_code(rej, "query.unknown", 404, "no query trace/%.64s", name);
}

static const char *trace_payload_class(json_t *payload) {
  json_t *doc;
  if (trace_payload_document(payload, &doc, NULL) != HANSE_OK) return NULL;
  json_t *body = json_object_get(doc, "epcisBody");
  json_t *list = json_object_get(body, "eventList");
  if (list == NULL)
    list = json_object_get(
        json_object_get(json_object_get(body, "queryResults"), "resultsBody"), "eventList");
  static const char *const order[] = {"customs_inspection", "transaction", "transport",
                                      "production"};
  int seen[4] = {0};
  size_t i;
  json_t *ev;
  json_array_foreach(list, i, ev) {
    const char *c = trace_event_class(ev);
    for (int k = 0; k < 4; k++)
      if (strcmp(c, order[k]) == 0) seen[k] = 1;
  }
  json_decref(doc);
  for (int k = 0; k < 4; k++)
    if (seen[k]) return order[k];
  return NULL;
}

const hanse_module hanse_module_trace = {
    .name = "trace",
    .actions = trace_actions,
    .queries = trace_queries,
    .check = trace_check,
    .verify = trace_verify,
    .apply = trace_apply,
    .query = trace_query,
    .data_class = "production",
    .payload_class = trace_payload_class,
    .payload_reals = 1,
    .messages = &trace_message_hooks,
};
