/*
 * order/order_delivery.c -- escrow released by a delivery event.
 *
 * The trace module's apply hands every event it stores to
 * order_on_delivery. An event releases order X when
 *   - it is a delivery: trace_event_is_delivery (trace_status.c's table
 *     makes it a `delivered` step: a delivering or accepting bizStep, or a
 *     receiving at a destination the event names), and it is not an error
 *     declaration;
 *   - one of its bizTransactionList values ends with X: the last segment
 *     after ':' or '/' is X exactly ("urn:epcglobal:cbv:bt:0614141000005:X",
 *     "https://hanse.example/order/X");
 *   - it is captured by a key of X's buyer (the consignee confirms what it
 *     received; a seller recording "delivered" about its own sale would
 *     release its own escrow);
 *   - X is still pending.
 * The release is order.deliver's (order_release) on a book of its own,
 * committed into the capturing transaction's writes. Every other case is
 * skipped and logged at debug: the capture is never refused or failed for
 * what it means to an order -- only an environmental error (the store,
 * memory) is returned, and abandons the block like any failing apply.
 */
#include <string.h>

#include "base/log.h"
#include "modules/order/order.h"
#include "modules/trace/trace.h"

/* The last ':'- or '/'-separated segment of s. */
static const char *last_segment(const char *s) {
  const char *seg = s;
  for (const char *p = s; *p; p++)
    if (*p == ':' || *p == '/') seg = p + 1;
  return seg;
}

/* Release order `id` for this event if it may; rejections are skipped. */
static int release_one(hanse_exec *ex, const char *id, const char *event_id) {
  char key[ORDER_KEY_MAX];
  const uint8_t *v;
  size_t n;
  int found;
  order_key(key, id);
  int rc = hanse_exec_get(ex, key, &v, &n, &found); /* cheap: most events name no order */
  if (rc != HANSE_OK || !found) return rc;
  ledger_book b;
  hanse_reject rej;
  hanse_reject_clear(&rej);
  json_t *rec = NULL;
  rc = ledger_book_open(&b, ex);
  if (rc == HANSE_OK) rc = ledger_book_acting(&b, ORDER_MODULE, &rej);
  if (rc == HANSE_OK) rc = order_load(&b, id, &rec, &rej);
  if (rc == HANSE_OK && strcmp(json_string_value(json_object_get(rec, "buyer")), b.owner) != 0)
    rc = hanse_reject_code(&rej, "order.not_buyer", 403, "captured by '%s', not by the buyer",
                           b.owner);
  if (rc == HANSE_OK) rc = order_release(&b, rec, event_id, &rej);
  if (rc == HANSE_OK) rc = ledger_book_commit(&b);
  ledger_book_close(&b);
  json_decref(rec);
  if (rc == HANSE_ERR(INVALID) && !ex->env_error) {
    HANSE_DEBUG("order: event %s does not release order %s: %s %s", event_id, id, rej.code,
                rej.message);
    return HANSE_OK;
  }
  if (rc == HANSE_OK) HANSE_DEBUG("order: event %s released order %s", event_id, id);
  return rc;
}

int order_on_delivery(hanse_exec *ex, json_t *event) {
  HANSE_ASSERT(ex != NULL && ex->tx != NULL);
  if (json_object_get(event, "errorDeclaration") || !trace_event_is_delivery(event))
    return HANSE_OK;
  const char *event_id = json_string_value(json_object_get(event, "eventID"));
  size_t i;
  json_t *bt;
  json_array_foreach(json_object_get(event, "bizTransactionList"), i, bt) {
    const char *value = json_string_value(json_object_get(bt, "bizTransaction"));
    if (value == NULL || !order_id_valid(last_segment(value))) continue;
    int rc = release_one(ex, last_segment(value), event_id ? event_id : "");
    if (rc != HANSE_OK) return rc;
  }
  return HANSE_OK;
}
