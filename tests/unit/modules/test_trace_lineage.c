/*
 * test_trace_lineage.c -- lineage (trace back, trace forward) over a
 * four-level supply chain captured on a real chain, and the shipment
 * status mapping (a pure function).
 *
 * The chain (identifiers below):
 *
 *   raw lots   FLOUR  SUGAR         EGGS
 *                 \   /              |
 *   T1 (transformation, quantities)  |
 *                  DOUGH            |
 *                     \             |
 *   T2 (transformation in two events sharing a transformationID:
 *       inputs DOUGH, EGGS in one, outputs P1..P4 in the other)
 *                  P1 P2 | P3 P4        P9 (another batch)
 *   A1, A2 (packing)  CASE1 (P1, P2, P9)   CASE2 (P3, P4)
 *   A3 (loading, a transport event)   PALLET (CASE1, CASE2)
 *
 * plus an aggregation of P1 into WRONG, declared erroneous afterwards.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "fixture.h"
#include "modules/trace/trace.h"

#define FLOUR "urn:epc:class:lgtin:4012345.000001.FL-7"
#define SUGAR "urn:epc:class:lgtin:4012345.000002.SU-3"
#define EGGS "urn:epc:class:lgtin:4012345.000003.EG-9"
#define DOUGH "urn:epc:class:lgtin:4012345.000010.D-1"
#define P(n) "urn:epc:id:sgtin:4012345.000020." #n
#define CASE1 "urn:epc:id:sscc:4012345.0000000001"
#define CASE2 "urn:epc:id:sscc:4012345.0000000002"
#define PALLET "urn:epc:id:sscc:4012345.0000000100"
#define WRONG "urn:epc:id:sscc:4012345.0000000999"

#define ALL "[\"production\",\"transaction\",\"customs_inspection\",\"transport\"]"

static uint64_t seq_alice;

/* Capture one document of the given events (JSON text, comma-separated)
 * in one block; require "ok". */
static void capture(fx_chain *f, const char *events) {
  hanse_receipt r;
  fx_body b;
  fx_body_init(&b);
  fx_body_tx(&b, &f->alice, "trace.capture", ++seq_alice,
             "{\"document\":{\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\","
             "\"creationDate\":\"2024-06-01T00:00:00Z\",\"epcisBody\":{\"eventList\":[%s]}}}",
             events);
  hanse_reject rej;
  assert_int_equal(fx_propose(f, &b, &r, 1, &rej), HANSE_OK);
  fx_body_free(&b);
  if (strcmp(r.code, "ok") != 0) fail_msg("capture: %s %s", r.code, r.message);
}

#define HEAD(type, id, time)                                                                 \
  "{\"type\":\"" type "\",\"eventID\":\"urn:uuid:33333333-0000-4000-8000-0000000000" id     \
  "\",\"eventTime\":\"2024-06-01T" time ":00Z\",\"eventTimeZoneOffset\":\"+00:00\","
#define QTY(c) "{\"epcClass\":\"" c "\",\"quantity\":10,\"uom\":\"KGM\"}"

static void capture_chain(fx_chain *f) {
  seq_alice = 0;
  capture(f, HEAD("TransformationEvent", "01", "08:00") "\"inputQuantityList\":[" QTY(FLOUR)
          "," QTY(SUGAR) "],\"outputQuantityList\":[" QTY(DOUGH) "],\"bizStep\":\"commissioning\"}");
  capture(f, HEAD("TransformationEvent", "02", "09:00")
          "\"transformationID\":\"urn:uuid:44444444-0000-4000-8000-000000000002\","
          "\"inputQuantityList\":[" QTY(DOUGH) "," QTY(EGGS) "]},"
          HEAD("TransformationEvent", "03", "10:00")
          "\"transformationID\":\"urn:uuid:44444444-0000-4000-8000-000000000002\","
          "\"outputEPCList\":[\"" P(1) "\",\"" P(2) "\",\"" P(3) "\",\"" P(4) "\"]}");
  capture(f, HEAD("AggregationEvent", "04", "11:00") "\"parentID\":\"" CASE1
          "\",\"childEPCs\":[\"" P(1) "\",\"" P(2) "\",\"" P(9) "\"],\"action\":\"ADD\","
          "\"bizStep\":\"packing\"},"
          HEAD("AggregationEvent", "05", "11:05") "\"parentID\":\"" CASE2
          "\",\"childEPCs\":[\"" P(3) "\",\"" P(4) "\"],\"action\":\"ADD\",\"bizStep\":\"packing\"}");
  capture(f, HEAD("AggregationEvent", "06", "12:00") "\"parentID\":\"" PALLET
          "\",\"childEPCs\":[\"" CASE1 "\",\"" CASE2 "\"],\"action\":\"ADD\","
          "\"bizStep\":\"loading\"}");
  /* a mistake and its correction */
#define WRONG_EV(decl)                                                                       \
  HEAD("AggregationEvent", "07", "11:30") "\"parentID\":\"" WRONG "\",\"childEPCs\":[\"" P(1) \
  "\"],\"action\":\"ADD\",\"bizStep\":\"packing\"" decl "}"
  capture(f, WRONG_EV(""));
  capture(f, WRONG_EV(",\"errorDeclaration\":{\"declarationTime\":\"2024-06-02T00:00:00Z\"}"));
  /* unpacking adds no link */
  capture(f, HEAD("AggregationEvent", "08", "13:00") "\"parentID\":\"" CASE2
          "\",\"childEPCs\":[\"" P(3) "\"],\"action\":\"DELETE\",\"bizStep\":\"unpacking\"}");
}

/* trace_lineage through the module's query entry; *out the result. */
static int lineage(fx_chain *f, const char *epc, const char *dir, const char *depth,
                   const char *readable, json_t **out) {
  json_t *params = json_pack("{s:s, s:s, s:o}", "epc", epc, "direction", dir, "readable",
                             json_loads(readable, 0, NULL));
  if (depth) json_object_set_new(params, "maxDepth", json_string(depth));
  hanse_reject rej;
  hanse_reject_clear(&rej);
  *out = NULL;
  int rc = fx_query(f, "trace", "epcis.lineage", params, out, &rej);
  json_decref(params);
  if (rc != HANSE_OK) *out = json_pack("{s:s}", "error", rej.code);
  return rc;
}

/* The item of `epc` (any spelling) in a lineage result, or NULL. */
static json_t *item(json_t *res, const char *epc) {
  char c[TRACE_URI_MAX];
  trace_id_canonical(epc, c, sizeof c);
  size_t i;
  json_t *it;
  json_array_foreach(json_object_get(res, "items"), i, it) {
    if (strcmp(json_string_value(json_object_get(it, "epc")), c) == 0) return it;
  }
  return NULL;
}

static void expect(json_t *res, const char *epc, int depth, const char *via, const char *from) {
  json_t *it = item(res, epc);
  if (it == NULL) fail_msg("%s not in the lineage", epc);
  assert_int_equal(json_integer_value(json_object_get(it, "depth")), depth);
  assert_string_equal(json_string_value(json_object_get(it, "via")), via);
  char c[TRACE_URI_MAX];
  assert_string_equal(json_string_value(json_object_get(it, "from")),
                      trace_id_canonical(from, c, sizeof c));
  assert_non_null(json_object_get(it, "eventID"));
}

static size_t n_items(json_t *res) { return json_array_size(json_object_get(res, "items")); }
static int truncated(json_t *res) { return json_is_true(json_object_get(res, "truncated")); }

static void test_back(void **state) {
  fx_chain *f = *state;
  capture_chain(f);
  json_t *r;
  assert_int_equal(lineage(f, P(1), "back", NULL, ALL, &r), HANSE_OK);
  char c[TRACE_URI_MAX];
  assert_string_equal(json_string_value(json_object_get(r, "epc")),
                      trace_id_canonical(P(1), c, sizeof c));
  assert_string_equal(json_string_value(json_object_get(r, "direction")), "back");
  expect(r, CASE1, 1, "aggregation", P(1));
  expect(r, DOUGH, 1, "transformation", P(1)); /* through the transformationID */
  expect(r, EGGS, 1, "transformation", P(1));
  expect(r, PALLET, 2, "aggregation", CASE1);
  expect(r, FLOUR, 2, "transformation", DOUGH);
  expect(r, SUGAR, 2, "transformation", DOUGH);
  assert_int_equal(n_items(r), 6); /* not WRONG (declared erroneous), not P2 or CASE2 */
  assert_false(truncated(r));
  /* the events involved: T1, T2's two, A1, A3; in capture order */
  json_t *evs = json_object_get(r, "events");
  assert_int_equal(json_array_size(evs), 5);
  assert_string_equal(json_string_value(json_object_get(json_array_get(evs, 0), "eventID")),
                      "urn:uuid:33333333-0000-4000-8000-000000000001");
  assert_string_equal(json_string_value(json_object_get(json_array_get(evs, 4), "eventID")),
                      "urn:uuid:33333333-0000-4000-8000-000000000006");
  json_decref(r);

  /* the Digital Link spelling of the same item gives the same answer */
  assert_int_equal(lineage(f, "https://id.gs1.org/01/04012345000207/21/1", "back", NULL, ALL, &r),
                   HANSE_OK);
  assert_int_equal(n_items(r), 6);
  json_decref(r);

  /* depth: one step, and the rest is cut off */
  assert_int_equal(lineage(f, P(1), "back", "1", ALL, &r), HANSE_OK);
  assert_int_equal(n_items(r), 3);
  assert_true(truncated(r));
  assert_null(item(r, PALLET));
  json_decref(r);
  assert_int_equal(lineage(f, P(1), "back", "2", ALL, &r), HANSE_OK);
  assert_int_equal(n_items(r), 6);
  assert_false(truncated(r));
  json_decref(r);

  /* classes: the pallet's loading is a transport event */
  assert_int_equal(lineage(f, P(1), "back", NULL, "[\"production\"]", &r), HANSE_OK);
  assert_int_equal(n_items(r), 5);
  assert_null(item(r, PALLET));
  json_decref(r);
  assert_int_equal(lineage(f, P(1), "back", NULL, "[\"transport\"]", &r), HANSE_OK);
  assert_int_equal(n_items(r), 0);
  json_decref(r);

  /* from the top and the bottom: a pallet came from nowhere, a lot too */
  assert_int_equal(lineage(f, PALLET, "back", NULL, ALL, &r), HANSE_OK);
  assert_int_equal(n_items(r), 0);
  json_decref(r);

  /* bad parameters */
  assert_int_not_equal(lineage(f, P(1), "sideways", NULL, ALL, &r), HANSE_OK);
  assert_string_equal(json_string_value(json_object_get(r, "error")), "trace.bad_query");
  json_decref(r);
  assert_int_not_equal(lineage(f, P(1), "back", "0", ALL, &r), HANSE_OK);
  json_decref(r);
  assert_int_not_equal(lineage(f, P(1), "back", "33", ALL, &r), HANSE_OK);
  json_decref(r);
}

static void test_forward(void **state) {
  fx_chain *f = *state;
  capture_chain(f);
  json_t *r;
  /* the recall list of a flour lot */
  assert_int_equal(lineage(f, FLOUR, "forward", NULL, ALL, &r), HANSE_OK);
  expect(r, DOUGH, 1, "transformation", FLOUR);
  for (int i = 1; i <= 4; i++) {
    char p[64];
    snprintf(p, sizeof p, "urn:epc:id:sgtin:4012345.000020.%d", i);
    expect(r, p, 2, "transformation", DOUGH);
  }
  expect(r, CASE1, 3, "aggregation", P(1));
  expect(r, CASE2, 3, "aggregation", P(3));
  expect(r, P(9), 4, "aggregation", CASE1); /* packed with P1 */
  expect(r, PALLET, 4, "aggregation", CASE1);
  assert_int_equal(n_items(r), 9); /* no SUGAR, no EGGS: inputs are not forward */
  assert_null(item(r, WRONG));
  assert_false(truncated(r));
  json_decref(r);

  /* eggs enter through the first half of the split transformation */
  assert_int_equal(lineage(f, EGGS, "forward", NULL, ALL, &r), HANSE_OK);
  expect(r, P(4), 1, "transformation", EGGS);
  expect(r, PALLET, 3, "aggregation", CASE1);
  assert_int_equal(n_items(r), 8);
  json_decref(r);

  /* a pallet's recall: everything on it */
  assert_int_equal(lineage(f, PALLET, "forward", NULL, ALL, &r), HANSE_OK);
  expect(r, CASE1, 1, "aggregation", PALLET);
  expect(r, P(9), 2, "aggregation", CASE1);
  assert_int_equal(n_items(r), 7);
  json_decref(r);

  /* depth 3 from the flour: cases yes, the pallet and P9 not */
  assert_int_equal(lineage(f, FLOUR, "forward", "3", ALL, &r), HANSE_OK);
  assert_int_equal(n_items(r), 7);
  assert_null(item(r, PALLET));
  assert_true(truncated(r));
  json_decref(r);

  /* without the production class nothing links the lot */
  assert_int_equal(lineage(f, FLOUR, "forward", NULL, "[\"transport\"]", &r), HANSE_OK);
  assert_int_equal(n_items(r), 0);
  json_decref(r);
}

static void test_cycles(void **state) {
  fx_chain *f = *state;
  seq_alice = 0;
  /* a faulty capture: each of two boxes packed into the other, and a
   * transformation that outputs its own input */
  capture(f, HEAD("AggregationEvent", "11", "08:00") "\"parentID\":\"" CASE1
          "\",\"childEPCs\":[\"" CASE2 "\"],\"action\":\"ADD\"},"
          HEAD("AggregationEvent", "12", "08:01") "\"parentID\":\"" CASE2
          "\",\"childEPCs\":[\"" CASE1 "\"],\"action\":\"OBSERVE\"},"
          HEAD("TransformationEvent", "13", "08:02") "\"inputEPCList\":[\"" P(1) "\"],"
          "\"outputEPCList\":[\"" P(1) "\",\"" P(2) "\"]},"
          HEAD("TransformationEvent", "14", "08:03") "\"inputEPCList\":[\"" P(2) "\"],"
          "\"outputEPCList\":[\"" P(1) "\"]}");
  json_t *r;
  assert_int_equal(lineage(f, CASE1, "back", NULL, ALL, &r), HANSE_OK);
  assert_int_equal(n_items(r), 1);
  expect(r, CASE2, 1, "aggregation", CASE1);
  assert_false(truncated(r));
  json_decref(r);
  assert_int_equal(lineage(f, CASE1, "forward", NULL, ALL, &r), HANSE_OK);
  assert_int_equal(n_items(r), 1);
  json_decref(r);
  assert_int_equal(lineage(f, P(1), "forward", "32", ALL, &r), HANSE_OK);
  assert_int_equal(n_items(r), 1);
  expect(r, P(2), 1, "transformation", P(1));
  assert_int_equal(json_array_size(json_object_get(r, "events")), 2);
  json_decref(r);
  assert_int_equal(lineage(f, P(1), "back", NULL, ALL, &r), HANSE_OK);
  assert_int_equal(n_items(r), 1);
  expect(r, P(2), 1, "transformation", P(1));
  json_decref(r);
}

/* A long chain: each lot made from the one before. */
static void test_depth_bound(void **state) {
  fx_chain *f = *state;
  seq_alice = 0;
  char events[40 * 400] = "";
  size_t o = 0;
  for (int i = 0; i < 40; i++)
    o += (size_t)snprintf(events + o, sizeof events - o,
                          "%s{\"type\":\"TransformationEvent\",\"eventTime\":"
                          "\"2024-06-01T08:%02d:00Z\",\"eventTimeZoneOffset\":\"+00:00\","
                          "\"inputEPCList\":[\"urn:epc:id:sgtin:4012345.000030.%d\"],"
                          "\"outputEPCList\":[\"urn:epc:id:sgtin:4012345.000030.%d\"]}",
                          i ? "," : "", i, i, i + 1);
  capture(f, events);
  json_t *r;
  assert_int_equal(lineage(f, "urn:epc:id:sgtin:4012345.000030.40", "back", NULL, ALL, &r),
                   HANSE_OK);
  assert_int_equal(n_items(r), TRACE_LINEAGE_DEPTH_DEFAULT);
  assert_true(truncated(r));
  json_decref(r);
  assert_int_equal(lineage(f, "urn:epc:id:sgtin:4012345.000030.40", "back", "32", ALL, &r),
                   HANSE_OK);
  assert_int_equal(n_items(r), 32);
  assert_true(truncated(r));
  assert_non_null(item(r, "urn:epc:id:sgtin:4012345.000030.8"));
  json_decref(r);
  assert_int_equal(lineage(f, "urn:epc:id:sgtin:4012345.000030.30", "back", "32", ALL, &r),
                   HANSE_OK);
  assert_int_equal(n_items(r), 30);
  assert_false(truncated(r));
  json_decref(r);
}

/* ---- shipment status ----------------------------------------------------- */

#define EV(id, time, rest)                                                                   \
  "{\"type\":\"ObjectEvent\",\"eventID\":\"urn:uuid:" id "\",\"eventTime\":\"" time         \
  "\",\"action\":\"OBSERVE\",\"epcList\":[\"" PALLET "\"]" rest "}"
#define DEST "urn:epc:id:sgln:4099999.00001.0"

static json_t *status_of(const char *events_json) {
  json_t *evs = json_loads(events_json, 0, NULL);
  if (evs == NULL) fail_msg("bad test JSON %s", events_json);
  json_t *s = trace_shipment_status(evs);
  json_decref(evs);
  assert_non_null(s);
  return s;
}

static const char *st(json_t *s) { return json_string_value(json_object_get(s, "status")); }
static const char *step(json_t *s, size_t i) {
  return json_string_value(json_object_get(json_array_get(json_object_get(s, "steps"), i), "status"));
}

static void test_status(void **state) {
  (void)state;
  json_t *s = status_of("[]");
  assert_string_equal(st(s), "none");
  assert_true(json_is_null(json_object_get(s, "since")));
  assert_int_equal(json_array_size(json_object_get(s, "steps")), 0);
  json_decref(s);

  /* a whole journey, given out of order */
  s = status_of(
      "[" EV("a7", "2024-06-05T09:00:00Z", ",\"bizStep\":\"storing\",\"bizLocation\":{\"id\":\"" DEST "\"}")
      "," EV("a1", "2024-06-01T12:00:00+02:00", ",\"bizStep\":\"shipping\",\"disposition\":\"in_transit\","
             "\"destinationList\":[{\"type\":\"location\",\"destination\":\"https://id.gs1.org/414/4099999000012\"}]")
      "," EV("a2", "2024-06-02T00:00:00Z", ",\"bizStep\":\"transporting\"")
      "," EV("a3", "2024-06-03T00:00:00Z", ",\"bizStep\":\"inspecting\",\"bizTransactionList\":"
             "[{\"type\":\"https://customs.example/customs_declaration\",\"bizTransaction\":\"urn:x:d:1\"}]")
      "," EV("a4", "2024-06-03T06:00:00Z", ",\"bizStep\":\"https://customs.example/customs_release\"")
      "," EV("a5", "2024-06-04T00:00:00Z", ",\"bizStep\":\"arriving\"")
      "," EV("a6", "2024-06-04T08:00:00Z", ",\"bizStep\":\"receiving\",\"bizLocation\":{\"id\":\"" DEST "\"}")
      "," EV("a0", "2024-05-30T00:00:00Z", ",\"bizStep\":\"commissioning\"") "]");
  static const char *const want[] = {"dispatched",  "in_transit", "customs_inspection",
                                     "customs_cleared", "arrived", "delivered",
                                     "warehouse_receipt"};
  assert_int_equal(json_array_size(json_object_get(s, "steps")), 7);
  for (size_t i = 0; i < 7; i++) assert_string_equal(step(s, i), want[i]);
  assert_string_equal(st(s), "delivered"); /* storing at the destination leaves it delivered */
  assert_string_equal(json_string_value(json_object_get(s, "eventID")), "urn:uuid:a6");
  assert_string_equal(json_string_value(json_object_get(s, "since")), "2024-06-04T08:00:00Z");
  json_t *first = json_array_get(json_object_get(s, "steps"), 0);
  assert_string_equal(json_string_value(json_object_get(first, "time")), "2024-06-01T12:00:00+02:00");
  assert_string_equal(json_string_value(json_object_get(first, "bizStep")), "shipping");
  assert_string_equal(
      json_string_value(json_object_get(json_array_get(json_object_get(s, "steps"), 5), "bizLocation")),
      DEST);
  json_decref(s);

  /* customs steps leave the status; a receipt elsewhere is a warehouse's */
  s = status_of("[" EV("b1", "2024-06-01T00:00:00Z", ",\"bizStep\":\"departing\"")
                "," EV("b2", "2024-06-02T00:00:00Z", ",\"bizStep\":\"inspecting\","
                       "\"disposition\":\"https://customs.example/held\",\"customs:office\":\"DE1\"") "]");
  assert_string_equal(st(s), "dispatched");
  assert_string_equal(step(s, 1), "customs_inspection");
  json_decref(s);
  s = status_of("[" EV("c1", "2024-06-01T00:00:00Z", ",\"bizStep\":\"shipping\"")
                "," EV("c2", "2024-06-02T00:00:00Z", ",\"bizStep\":\"receiving\",\"bizLocation\":{\"id\":\"urn:epc:id:sgln:4011111.00001.0\"}")
                "," EV("c3", "2024-06-02T01:00:00Z", ",\"bizStep\":\"storing\",\"bizLocation\":{\"id\":\"urn:epc:id:sgln:4011111.00001.0\"}") "]");
  assert_string_equal(step(s, 1), "arrived");
  assert_string_equal(step(s, 2), "warehouse_receipt");
  assert_string_equal(st(s), "arrived");
  json_decref(s);

  /* delivery in a custom vocabulary, then a return: the last leg wins */
  s = status_of("[" EV("d1", "2024-06-01T00:00:00Z", ",\"bizStep\":\"shipping\"")
                "," EV("d2", "2024-06-02T00:00:00Z", ",\"bizStep\":\"https://example.org/steps/delivered_to_door\"") "]");
  assert_string_equal(st(s), "delivered");
  json_decref(s);
  s = status_of("[" EV("d1", "2024-06-01T00:00:00Z", ",\"bizStep\":\"accepting\"")
                "," EV("d2", "2024-06-03T00:00:00Z", ",\"disposition\":\"in_transit\"") "]");
  assert_string_equal(st(s), "in_transit");
  json_decref(s);

  /* an event declared erroneous is no step */
  s = status_of("[" EV("e1", "2024-06-01T00:00:00Z", ",\"bizStep\":\"shipping\"")
                "," EV("e2", "2024-06-02T00:00:00Z", ",\"bizStep\":\"arriving\"")
                "," EV("e2", "2024-06-02T00:00:00Z", ",\"bizStep\":\"arriving\",\"errorDeclaration\":"
                       "{\"declarationTime\":\"2024-06-03T00:00:00Z\"}") "]");
  assert_string_equal(st(s), "dispatched");
  assert_int_equal(json_array_size(json_object_get(s, "steps")), 1);
  json_decref(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_back, fx_setup_chain, fx_teardown_chain),
      cmocka_unit_test_setup_teardown(test_forward, fx_setup_chain, fx_teardown_chain),
      cmocka_unit_test_setup_teardown(test_cycles, fx_setup_chain, fx_teardown_chain),
      cmocka_unit_test_setup_teardown(test_depth_bound, fx_setup_chain, fx_teardown_chain),
      cmocka_unit_test(test_status),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
