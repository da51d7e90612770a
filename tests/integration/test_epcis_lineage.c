/*
 * test_epcis_lineage.c -- lineage, shipment status and the regulator's
 * enterprise query against a real node.
 *
 * An alliance chain "trace" founded by four organisations: hq (the
 * platform; it registers the regulator and a consumer), bakery
 * (manufacturer), shipco (logistics) and border (customs). Reads:
 * production to manufacturers, transport to logistics, customs_inspection
 * to customs, the regulator everything, the consumer nothing of these.
 *
 *  1. The bakery captures a four-level supply chain: raw lots -> dough
 *     (transformation) -> products (transformation) -> cases (packing)
 *     -> pallet (loading, a transport event).
 *  2. shipco and border capture the pallet's journey step by step; after
 *     each step the product's status (through its case and pallet) and
 *     the pallet's follow: dispatched, in transit, customs inspection
 *     and clearance (steps that leave the status), arrived, delivered.
 *  3. Lineage back from a product and forward from a raw lot, by the
 *     regulator; the manufacturer does not see the pallet (its loading
 *     is transport), logistics sees nothing of the production links, the
 *     consumer is refused; a Digital Link spelling gives the same answer;
 *     bad parameters are 400.
 *  4. The regulator's query: all events of one enterprise in a time
 *     range (EQ_enterprise with GE/LT_eventTime), and the same query by
 *     logistics shows only what logistics may read.
 */
#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "itest.h"

#define CHAIN "trace"
#define HQ 1
#define BAKERY 20
#define SHIPCO 21
#define BORDER 22
#define REGULATOR 23
#define CONSUMER 24

#define FLOUR "urn:epc:class:lgtin:4012345.000001.FL-7"
#define SUGAR "urn:epc:class:lgtin:4012345.000002.SU-3"
#define DOUGH "urn:epc:class:lgtin:4012345.000010.D-1"
#define P(n) "urn:epc:id:sgtin:4012345.000020." #n
#define CASE1 "urn:epc:id:sscc:4012345.0000000001"
#define CASE2 "urn:epc:id:sscc:4012345.0000000002"
#define PALLET "urn:epc:id:sscc:4012345.0000000100"
#define DEST "urn:epc:id:sgln:4099999.00001.0"
/* P(1) as a Digital Link URI, percent-encoded for a path */
#define P1_DL "https%3A%2F%2Fid.gs1.org%2F01%2F04012345000207%2F21%2F1"

static it_node node;

/* Capture the events (JSON text) as one document signed by kp. */
static void capture(const hanse_keypair *kp, const char *events) {
  char *text = NULL;
  IT_CHECK(asprintf(&text,
                    "{\"@context\":\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\","
                    "\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\",\"creationDate\":"
                    "\"2024-06-01T00:00:00Z\",\"epcisBody\":{\"eventList\":[%s]}}",
                    events) > 0);
  json_error_t e;
  json_t *doc = json_loads(text, 0, &e);
  if (doc == NULL) fprintf(stderr, "bad test document: %s\n%s\n", e.text, text);
  IT_CHECK(doc != NULL);
  free(text);
  const char *code = it_client_submit(&node, CHAIN, kp, "trace.capture",
                                      json_pack("{s:o}", "document", doc));
  if (strcmp(code, "ok") != 0) fprintf(stderr, "capture: %s\n", code);
  IT_CHECK(strcmp(code, "ok") == 0);
}

/* GET /v1/chains/trace/epcis<path> as kp: the status; *out the body. */
static long get(const hanse_keypair *kp, const char *path, json_t **out, char code[64]) {
  char full[2048];
  snprintf(full, sizeof full, "/v1/chains/%s/epcis%s", CHAIN, path);
  return it_client_get(&node, CHAIN, kp, full, out, code);
}

static json_t *get_ok(const hanse_keypair *kp, const char *path) {
  char code[64];
  json_t *j = NULL;
  long st = get(kp, path, &j, code);
  if (st != 200) fprintf(stderr, "GET %s: %ld %s\n", path, st, code);
  IT_CHECK(st == 200 && j != NULL);
  return j;
}

static const char *s(json_t *j, const char *k) { return json_string_value(json_object_get(j, k)); }

/* The status of `epc` (URN, no escaping needed) as kp. */
static json_t *status(const hanse_keypair *kp, const char *epc) {
  char path[512];
  snprintf(path, sizeof path, "/epcs/%s/status", epc);
  return get_ok(kp, path);
}

static void expect_status(const hanse_keypair *kp, const char *epc, const char *want,
                          size_t steps) {
  json_t *st = status(kp, epc);
  if (strcmp(s(st, "status"), want) != 0 ||
      json_array_size(json_object_get(st, "steps")) != steps) {
    char *t = json_dumps(st, JSON_COMPACT);
    fprintf(stderr, "status of %s: want %s with %zu steps, got %s\n", epc, want, steps, t);
    free(t);
  }
  IT_CHECK(strcmp(s(st, "status"), want) == 0);
  IT_CHECK(json_array_size(json_object_get(st, "steps")) == steps);
  json_decref(st);
}

static json_t *lineage(const hanse_keypair *kp, const char *epc, const char *query) {
  char path[512];
  snprintf(path, sizeof path, "/epcs/%s/lineage?%s", epc, query);
  return get_ok(kp, path);
}

static size_t n_items(json_t *l) { return json_array_size(json_object_get(l, "items")); }

/* 1 if the lineage lists an item whose (Digital Link) URI contains
 * `part`. */
static int lists(json_t *l, const char *part) {
  size_t i;
  json_t *it;
  json_array_foreach(json_object_get(l, "items"), i, it) if (strstr(s(it, "epc"), part)) return 1;
  return 0;
}

static size_t n_events(const hanse_keypair *kp, const char *qs) {
  char path[1024];
  snprintf(path, sizeof path, "/events?perPage=500&%s", qs);
  json_t *d = get_ok(kp, path);
  size_t n = json_array_size(json_object_get(
      json_object_get(json_object_get(json_object_get(d, "epcisBody"), "queryResults"),
                      "resultsBody"),
      "eventList"));
  json_decref(d);
  return n;
}

#define HEAD(type, id, time)                                                                 \
  "{\"type\":\"" type "\",\"eventID\":\"urn:uuid:55555555-0000-4000-8000-0000000000" id     \
  "\",\"eventTime\":\"2024-06-0" time "Z\",\"eventTimeZoneOffset\":\"+00:00\","
#define QTY(c) "{\"epcClass\":\"" c "\",\"quantity\":10,\"uom\":\"KGM\"}"
#define ON_PALLET "\"epcList\":[\"" PALLET "\"],\"action\":\"OBSERVE\","

int main(int argc, char **argv) {
  IT_CHECK(argc >= 2);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  IT_CHECK(sodium_init() >= 0);
  uint8_t none[] = {250};
  it_init(&node, argv[1], "scratch", none, 1);
  char hq[65], bakery[65], shipco[65], border[65];
  it_pubhex(hq, HQ);
  it_pubhex(bakery, BAKERY);
  it_pubhex(shipco, SHIPCO);
  it_pubhex(border, BORDER);
  json_t *policy = json_pack(
      "{s:{s:[s], s:[s,s,s]}, s:{s:[s,s], s:[s,s], s:[s,s], s:[s,s], s:[s,s]}}", "submit",
      "member.*", "admin", "trace.*", "manufacturer", "logistics", "customs", "read",
      "production", "manufacturer", "regulator", "transport", "logistics", "regulator",
      "customs_inspection", "customs", "regulator", "transaction", "bank", "regulator",
      "personal", "admin", "regulator");
  json_t *g = json_pack(
      "{s:s, s:s, s:[{s:s, s:s, s:s, s:[s]}, {s:s, s:s, s:s, s:[s]}, {s:s, s:s, s:s, s:[s]}, "
      "{s:s, s:s, s:s, s:[s]}], s:o}",
      "chain_id", CHAIN, "type", "alliance", "organisations", "id", "hq", "name", "HQ", "role",
      "platform", "keys", hq, "id", "bakery", "name", "Bakery", "role", "manufacturer", "keys",
      bakery, "id", "shipco", "name", "Ship Co", "role", "logistics", "keys", shipco, "id",
      "border", "name", "Border Customs", "role", "customs", "keys", border, "policy", policy);
  it_init_genesis(&node, g);
  IT_CHECK(it_start(&node, NULL, NULL) == 0);

  hanse_keypair founder, bak, shp, bor, reg, con;
  it_key(&founder, HQ);
  it_key(&bak, BAKERY);
  it_key(&shp, SHIPCO);
  it_key(&bor, BORDER);
  it_key(&reg, REGULATOR);
  it_key(&con, CONSUMER);
  it_member_register(&node, CHAIN, &founder, REGULATOR, "regulator");
  it_member_register(&node, CHAIN, &founder, CONSUMER, "consumer");

  /* 1. The supply chain, by the bakery. */
  capture(&bak, HEAD("TransformationEvent", "01", "1T08:00:00") "\"inputQuantityList\":["
          QTY(FLOUR) "," QTY(SUGAR) "],\"outputQuantityList\":[" QTY(DOUGH) "],"
          "\"bizStep\":\"commissioning\"}");
  capture(&bak, HEAD("TransformationEvent", "02", "1T09:00:00") "\"inputQuantityList\":["
          QTY(DOUGH) "],\"outputEPCList\":[\"" P(1) "\",\"" P(2) "\",\"" P(3) "\"]}");
  capture(&bak, HEAD("AggregationEvent", "03", "1T10:00:00") "\"parentID\":\"" CASE1
          "\",\"childEPCs\":[\"" P(1) "\",\"" P(2) "\"],\"action\":\"ADD\",\"bizStep\":"
          "\"packing\"}," HEAD("AggregationEvent", "04", "1T10:05:00") "\"parentID\":\"" CASE2
          "\",\"childEPCs\":[\"" P(3) "\"],\"action\":\"ADD\",\"bizStep\":\"packing\"}");
  /* the pallet had an earlier trip; it does not count for what is on it now */
  capture(&shp, HEAD("ObjectEvent", "05", "1T06:00:00") ON_PALLET "\"bizStep\":\"arriving\"}");
  capture(&bak, HEAD("AggregationEvent", "06", "1T12:00:00") "\"parentID\":\"" PALLET
          "\",\"childEPCs\":[\"" CASE1 "\",\"" CASE2 "\"],\"action\":\"ADD\",\"bizStep\":"
          "\"loading\"}");
  /* loading is a dispatch step for the pallet itself */
  expect_status(&reg, PALLET, "dispatched", 2);
  expect_status(&reg, P(1), "dispatched", 1);

  /* 2. The journey, step by step. */
  capture(&shp, HEAD("ObjectEvent", "07", "1T14:00:00") ON_PALLET
          "\"bizStep\":\"shipping\",\"disposition\":\"in_transit\",\"destinationList\":"
          "[{\"type\":\"location\",\"destination\":\"" DEST "\"}]}");
  expect_status(&reg, P(1), "dispatched", 2);
  capture(&shp, HEAD("ObjectEvent", "08", "2T08:00:00") ON_PALLET "\"bizStep\":\"transporting\"}");
  expect_status(&reg, P(1), "in_transit", 3);
  capture(&bor, HEAD("ObjectEvent", "09", "3T09:00:00") ON_PALLET
          "\"bizStep\":\"inspecting\",\"disposition\":\"https://customs.example/held\","
          "\"bizTransactionList\":[{\"type\":\"https://customs.example/customs_declaration\","
          "\"bizTransaction\":\"https://customs.example/decl/4711\"}]}");
  expect_status(&reg, P(1), "in_transit", 4);
  capture(&bor, HEAD("ObjectEvent", "10", "3T15:00:00") ON_PALLET
          "\"bizStep\":\"https://customs.example/customs_release\",\"disposition\":\"conformant\"}");
  json_t *st = status(&reg, P(1));
  IT_CHECK(strcmp(s(st, "status"), "in_transit") == 0);
  json_t *steps = json_object_get(st, "steps");
  IT_CHECK(strcmp(s(json_array_get(steps, 3), "status"), "customs_inspection") == 0);
  IT_CHECK(strcmp(s(json_array_get(steps, 4), "status"), "customs_cleared") == 0);
  IT_CHECK(json_array_size(json_object_get(st, "containers")) == 2); /* case, pallet */
  json_decref(st);
  capture(&shp, HEAD("ObjectEvent", "11", "4T07:00:00") ON_PALLET "\"bizStep\":\"arriving\"}");
  expect_status(&reg, P(1), "arrived", 6);
  capture(&shp, HEAD("ObjectEvent", "12", "4T10:00:00") ON_PALLET
          "\"bizStep\":\"receiving\",\"bizLocation\":{\"id\":\"" DEST "\"}}");
  st = status(&reg, P(1));
  IT_CHECK(strcmp(s(st, "status"), "delivered") == 0);
  IT_CHECK(strcmp(s(st, "since"), "2024-06-04T10:00:00Z") == 0);
  IT_CHECK(strcmp(s(st, "eventID"), "urn:uuid:55555555-0000-4000-8000-000000000012") == 0);
  json_decref(st);
  expect_status(&reg, P(3), "delivered", 7); /* the other case, the same pallet */
  /* logistics reads no customs steps and no packing: the pallet without
   * customs, the product not at all */
  expect_status(&shp, PALLET, "delivered", 6);
  expect_status(&shp, P(1), "none", 0);
  {
    char code[64];
    IT_CHECK(get(&con, "/epcs/" PALLET "/status", NULL, code) == 403);
    IT_CHECK(get(NULL, "/epcs/" PALLET "/status", NULL, code) == 401);
  }

  /* 3. Lineage. */
  json_t *l = lineage(&reg, P(1), "direction=back");
  IT_CHECK(n_items(l) == 5); /* case1, pallet, dough, flour, sugar */
  IT_CHECK(lists(l, "/00/") && lists(l, "/10/FL-7") && lists(l, "/10/SU-3"));
  IT_CHECK(json_is_false(json_object_get(l, "truncated")));
  IT_CHECK(json_array_size(json_object_get(l, "events")) == 4); /* T1, T2, A1, loading */
  IT_CHECK(json_is_array(json_object_get(l, "@context")));
  char *text = json_dumps(l, JSON_COMPACT);
  json_decref(l);
  l = lineage(&reg, P1_DL, "direction=back"); /* the same, by its Digital Link URI */
  char *text2 = json_dumps(l, JSON_COMPACT);
  IT_CHECK(strcmp(text, text2) == 0);
  free(text);
  free(text2);
  json_decref(l);
  l = lineage(&reg, FLOUR, "direction=forward");
  /* dough, P1-P3, case1, case2, pallet */
  IT_CHECK(n_items(l) == 7);
  IT_CHECK(lists(l, "/21/1") && lists(l, "/21/3") && lists(l, "/00/040123450000001006"));
  json_decref(l);
  l = lineage(&reg, FLOUR, "direction=forward&maxDepth=2");
  IT_CHECK(n_items(l) == 4 && json_is_true(json_object_get(l, "truncated")));
  json_decref(l);
  /* the manufacturer does not read the loading (transport) */
  l = lineage(&bak, P(1), "direction=back");
  IT_CHECK(n_items(l) == 4 && !lists(l, "/00/040123450000001006"));
  size_t i;
  json_t *ev;
  json_array_foreach(json_object_get(l, "events"), i, ev)
      IT_CHECK(strcmp(s(ev, "bizStep") ? s(ev, "bizStep") : "", "loading") != 0);
  json_decref(l);
  /* logistics reads no production link */
  l = lineage(&shp, P(1), "direction=back");
  IT_CHECK(n_items(l) == 0 && json_array_size(json_object_get(l, "events")) == 0);
  json_decref(l);
  l = lineage(&shp, CASE1, "direction=back");
  IT_CHECK(n_items(l) == 1 && lists(l, "/00/040123450000001006"));
  json_decref(l);
  {
    char code[64];
    IT_CHECK(get(&con, "/epcs/" P(1) "/lineage?direction=back", NULL, code) == 403);
    IT_CHECK(strcmp(code, "policy.read_denied") == 0);
    IT_CHECK(get(&reg, "/epcs/" P(1) "/lineage?direction=up", NULL, code) == 400);
    IT_CHECK(strcmp(code, "trace.bad_query") == 0);
    IT_CHECK(get(&reg, "/epcs/" P(1) "/lineage?direction=back&maxDepth=99", NULL, code) == 400);
    IT_CHECK(get(&reg, "/epcs/" P(1) "/lineage?direction=back&colour=red", NULL, code) == 400);
  }

  /* 4. One enterprise over a time range. */
  IT_CHECK(n_events(&reg, "EQ_enterprise=bakery") == 5);
  IT_CHECK(n_events(&reg, "EQ_enterprise=shipco") == 5);
  IT_CHECK(n_events(&reg, "EQ_enterprise=border") == 2);
  IT_CHECK(n_events(&reg, "EQ_enterprise=shipco&GE_eventTime=2024-06-02T00:00:00Z"
                          "&LT_eventTime=2024-06-04T08:00:00Z") == 2); /* transporting, arriving */
  IT_CHECK(n_events(&reg, "EQ_enterprise=shipco%7Cborder&GE_eventTime=2024-06-02T00:00:00Z"
                          "&LT_eventTime=2024-06-04T08:00:00Z") == 4);
  IT_CHECK(n_events(&reg, "EQ_enterprise=hq") == 0);
  IT_CHECK(n_events(&shp, "EQ_enterprise=bakery") == 1); /* only the loading */
  IT_CHECK(n_events(&shp, "EQ_enterprise=border") == 0);

  it_stop(&node);
  it_cleanup_all();
  printf("test_epcis_lineage: ok\n");
  return 0;
}
