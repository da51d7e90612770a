/*
 * test_trace_xml.c -- EPCIS XML documents (trace_xml.c): each of GS1's
 * XML examples gives the events of its JSON twin (that they all pass the
 * rules is test_trace_rules.c's); the hash-ID twins agree (the hash reference's XML documents are
 * checked with its JSON ones, test_trace_rules.c); the mapping of every structure the
 * standard has, and of extensions; hostile or broken XML is refused with
 * trace.bad_xml and a line; on a chain, an {"xml": ...} capture is
 * recorded like its JSON twin and is its duplicate.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/limits.h"
#include "chain/module.h"
#include "fixture.h"
#include "modules/trace/trace.h"

#define EPCIS_DIR HANSE_VECTORS_DIR "/epcis"

extern const hanse_module hanse_module_trace;

/* The file's bytes; fails the test when it cannot be read. */
static char *slurp(const char *path, size_t *n) {
  char *b = fx_file_read(path, n);
  if (b == NULL) fail_msg("cannot open %s", path);
  return b;
}

/* Convert text; the rejection code ("ok" when accepted), message in msg. */
static const char *convert_text(const char *xml, json_t **doc, char msg[HANSE_REJECT_MSG_MAX]) {
  static char code[HANSE_REJECT_CODE_MAX];
  hanse_reject rej;
  hanse_reject_clear(&rej);
  json_t *d = NULL;
  int rc = trace_xml_to_json(xml, strlen(xml), &d, &rej);
  snprintf(code, sizeof code, "%s", rc == HANSE_OK ? "ok" : rej.code);
  if (msg) snprintf(msg, HANSE_REJECT_MSG_MAX, "%s", rej.message);
  if (rc == HANSE_OK) assert_non_null(d);
  else assert_null(d);
  if (doc) *doc = d;
  else json_decref(d);
  return code;
}

/* Prepare a payload (stolen); the code ("ok"), d filled when ok. */
static const char *prepare(json_t *payload, trace_doc *d) {
  static char code[HANSE_REJECT_CODE_MAX];
  hanse_reject rej;
  hanse_reject_clear(&rej);
  int rc = trace_doc_prepare(payload, d, &rej);
  json_decref(payload);
  snprintf(code, sizeof code, "%s", rc == HANSE_OK ? "ok" : rej.code);
  return code;
}

static json_t *xml_payload(const char *path) {
  size_t n;
  char *x = slurp(path, &n);
  json_t *p = json_pack("{s:s%}", "xml", x, n);
  free(x);
  assert_non_null(p);
  return p;
}

static json_t *json_payload(const char *path) {
  json_error_t e;
  json_t *doc = json_load_file(path, 0, &e);
  if (doc == NULL) fail_msg("%s: %s", path, e.text);
  return json_pack("{s:o}", "document", doc);
}

/* ---- equivalence of an XML event and its JSON twin ------------------------ */

/* A leaf's text: strings as they are, numbers and booleans written out. */
static int leaf_text(json_t *v, char *out, size_t n) {
  if (json_is_string(v)) snprintf(out, n, "%s", json_string_value(v));
  else if (json_is_integer(v)) snprintf(out, n, "%lld", (long long)json_integer_value(v));
  else if (json_is_real(v)) snprintf(out, n, "%.17g", json_real_value(v));
  else if (json_is_boolean(v)) snprintf(out, n, "%s", json_is_true(v) ? "true" : "false");
  else return 0;
  return 1;
}

static int empty_leaf(json_t *v) {
  return json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0);
}

/* The twins are written by different hands: the same instant in another
 * zone, 26 or 26.0 or "26", true or "true", an empty extension element
 * left out. Everything else must be equal. */
static int equivalent(json_t *a, json_t *b, const char *path) {
  if (json_is_object(a) && json_is_object(b)) {
    const char *k;
    json_t *v;
    json_object_foreach(a, k, v) {
      json_t *w = json_object_get(b, k);
      if (w == NULL && empty_leaf(v)) continue;
      if (w == NULL) return fprintf(stderr, "%s.%s: missing in the twin\n", path, k), 0;
      char sub[512];
      snprintf(sub, sizeof sub, "%s.%s", path, k);
      if (!equivalent(v, w, sub)) return 0;
    }
    json_object_foreach(b, k, v) if (json_object_get(a, k) == NULL && !empty_leaf(v)) return
        fprintf(stderr, "%s.%s: only in the twin\n", path, k), 0;
    return 1;
  }
  if (json_is_array(a) && json_is_array(b)) {
    if (json_array_size(a) != json_array_size(b))
      return fprintf(stderr, "%s: %zu vs %zu entries\n", path, json_array_size(a),
                     json_array_size(b)),
             0;
    for (size_t i = 0; i < json_array_size(a); i++) {
      char sub[512];
      snprintf(sub, sizeof sub, "%s[%zu]", path, i);
      if (!equivalent(json_array_get(a, i), json_array_get(b, i), sub)) return 0;
    }
    return 1;
  }
  char x[TRACE_URI_MAX], y[TRACE_URI_MAX];
  if (!leaf_text(a, x, sizeof x) || !leaf_text(b, y, sizeof y))
    return fprintf(stderr, "%s: not comparable\n", path), 0;
  int64_t tx, ty;
  if (trace_time_parse(x, &tx) && trace_time_parse(y, &ty) && tx == ty) return 1;
  char *ex, *ey;
  double dx = strtod(x, &ex), dy = strtod(y, &ey);
  if (*x && *y && *ex == 0 && *ey == 0 && dx == dy) return 1;
  if (strcmp(x, y) == 0) return 1;
  return fprintf(stderr, "%s: '%s' vs '%s'\n", path, x, y), 0;
}

/* ---- GS1's examples ------------------------------------------------------------ */

/* The XML examples and their JSON twins (tests/vectors/epcis/README.md). */
static const struct {
  const char *xml, *json;
} twins[] = {
    {"Example_9.6.1-ObjectEvent-2020_06_18a.xml", "Example_9.6.1-ObjectEvent.jsonld"},
    {"Example-TransactionEvent-2020_07_03y.xml", "Example-TransactionEvents-2020_07_03y.jsonld"},
    {"event_with_identical_hash_id_1.xml", "event_with_identical_hash_id_7.json"},
};
#define NTWINS (sizeof twins / sizeof twins[0])

/* Each XML example gives its JSON twin's events, both prepared (CBV
 * words bare, ...), eventID aside: GS1 wrote eventIDs into the JSON of
 * 9.6.1 that are not the hash IDs of either form. The hash IDs the module
 * computes agree where the twins say the same: every event but 9.6.1's
 * second, whose extension namespace is "http://ns.example.com/epcis" in
 * the XML and ".../epcis/" in the JSON -- another namespace, another hash. */
static void test_twins(void **state) {
  (void)state;
  int events = 0, same_hash = 0;
  for (size_t t = 0; t < NTWINS; t++) {
    char xp[1024], jp[1024];
    snprintf(xp, sizeof xp, "%s/xml/%s", EPCIS_DIR, twins[t].xml);
    snprintf(jp, sizeof jp, "%s/examples/%s", EPCIS_DIR, twins[t].json);
    trace_doc dx, dj;
    assert_string_equal(prepare(xml_payload(xp), &dx), "ok");
    json_t *jpay = json_payload(jp); /* without eventIDs: the hash IDs computed */
    json_t *list = json_object_get(json_object_get(json_object_get(jpay, "document"), "epcisBody"),
                                   "eventList");
    size_t i;
    json_t *ev;
    json_array_foreach(list, i, ev) json_object_del(ev, "eventID");
    assert_string_equal(prepare(jpay, &dj), "ok");
    assert_int_equal(dx.count, dj.count);
    for (i = 0; i < dx.count; i++) {
      json_t *a = json_deep_copy(dx.events[i].event), *b = json_deep_copy(dj.events[i].event);
      json_object_del(a, "eventID");
      json_object_del(b, "eventID");
      char where[256];
      snprintf(where, sizeof where, "%s event %zu", twins[t].xml, i);
      if (!equivalent(a, b, where)) fail_msg("%s differs from its JSON twin", where);
      json_decref(a);
      json_decref(b);
      assert_string_equal(dx.events[i].cls, dj.events[i].cls);
      assert_int_equal(dx.events[i].event_time_ms, dj.events[i].event_time_ms);
      if (strcmp(dx.events[i].id, dj.events[i].id) == 0) same_hash++;
      events++;
    }
    trace_doc_free(&dx);
    trace_doc_free(&dj);
  }
  assert_int_equal(events, 5);
  assert_int_equal(same_hash, 4);
}

/* The twins published to have one event hash ID. */
static void test_identical_hash_id(void **state) {
  (void)state;
  trace_doc dx, dj;
  assert_string_equal(
      prepare(xml_payload(EPCIS_DIR "/xml/event_with_identical_hash_id_1.xml"), &dx), "ok");
  assert_string_equal(
      prepare(json_payload(EPCIS_DIR "/examples/event_with_identical_hash_id_7.json"), &dj), "ok");
  assert_int_equal(dx.count, 1);
  assert_int_equal(dj.count, 1);
  assert_string_equal(dx.events[0].id, dj.events[0].id);
  assert_non_null(strstr(dx.events[0].id, "ni:///sha-256;"));
  assert_string_equal(dx.events[0].key, dj.events[0].key);
  trace_doc_free(&dx);
  trace_doc_free(&dj);
}

/* ---- the mapping ---------------------------------------------------------------- */

#define DOC_OPEN                                                                          \
  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                          \
  "<epcis:EPCISDocument xmlns:epcis=\"urn:epcglobal:epcis:xsd:2\""                        \
  " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""                              \
  " xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:ex=\"http://ns.example.com/ex/\"" \
  " schemaVersion=\"2.0\" creationDate=\"2024-03-01T10:00:00Z\">\n"                       \
  "<EPCISBody><EventList>\n"
#define DOC_CLOSE "</EventList></EPCISBody></epcis:EPCISDocument>\n"
#define WHEN                                                                             \
  "<eventTime>2024-03-01T09:00:00.000+01:00</eventTime>"                                 \
  "<eventTimeZoneOffset>+01:00</eventTimeZoneOffset>"

static json_t *events_of(json_t *doc) {
  return json_object_get(json_object_get(doc, "epcisBody"), "eventList");
}

static void assert_json(json_t *v, const char *want) {
  char *got = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
  assert_non_null(got);
  if (strcmp(got, want) != 0) fail_msg("got  %s\nwant %s", got, want);
  free(got);
}

/* All five types, every structure, in one document. */
static void test_mapping(void **state) {
  (void)state;
  static const char xml[] =
      DOC_OPEN
      "<ObjectEvent>" WHEN
      "<eventID>urn:uuid:9c1f0b3e-0000-4000-8000-000000000001</eventID>"
      "<certificationInfo>https://cert.example.org/c/1</certificationInfo>"
      "<epcList><epc> urn:epc:id:sgtin:4012345.011111.1 </epc></epcList>"
      "<action>ADD</action><bizStep>cbv:BizStep-commissioning</bizStep>"
      "<disposition>urn:epcglobal:cbv:disp:active</disposition>"
      "<readPoint><id>urn:epc:id:sgln:4012345.00001.0</id></readPoint>"
      "<bizTransactionList><bizTransaction type=\"urn:epcglobal:cbv:btt:po\">urn:x:po:1"
      "</bizTransaction><bizTransaction>urn:x:inv:2</bizTransaction></bizTransactionList>"
      "<quantityList><quantityElement><epcClass>urn:epc:class:lgtin:4012345.011111.L1"
      "</epcClass><quantity>2.5</quantity><uom>KGM</uom></quantityElement>"
      "<quantityElement><epcClass>urn:epc:idpat:sgtin:4012345.011111.*</epcClass>"
      "<quantity xsi:nil=\"true\"/></quantityElement></quantityList>"
      "<sourceList><source type=\"urn:epcglobal:cbv:sdt:owning_party\">urn:epc:id:pgln:4012345.00001"
      "</source></sourceList>"
      "<destinationList><destination type=\"location\">urn:epc:id:sgln:4012345.00002.0"
      "</destination></destinationList>"
      "<sensorElementList><sensorElement>"
      "<sensorMetadata time=\"2024-03-01T08:00:00Z\" ex:batch=\"b7\"/>"
      "<sensorReport type=\"gs1:Temperature\" value=\"4.5\" uom=\"CEL\" booleanValue=\"false\"/>"
      "<sensorReport type=\"gs1:Humidity\" value=\"60\" percRank=\"50\"/>"
      "<ex:probe>p1</ex:probe></sensorElement></sensorElementList>"
      "<persistentDisposition><set>completeness_verified</set><unset>a</unset><set>b</set>"
      "</persistentDisposition>"
      "<ilmd><ex:lot>L1</ex:lot><extension><ex:grade>A</ex:grade></extension></ilmd>"
      "<ex:n xsi:type=\"xsd:integer\">10</ex:n><ex:f xsi:type=\"xsd:double\">2.50</ex:f>"
      "<ex:b xsi:type=\"xsd:boolean\">1</ex:b><ex:s>10</ex:s><ex:nil xsi:nil=\"true\"/>"
      "<ex:rep>1</ex:rep><ex:rep><ex:in>2</ex:in><plain>3</plain></ex:rep>"
      "<ex:attr unit=\"kg\" ex:q=\"1\">5</ex:attr><ex:empty/>"
      "</ObjectEvent>\n"
      "<AggregationEvent>" WHEN
      "<baseExtension><eventID>urn:uuid:9c1f0b3e-0000-4000-8000-000000000002</eventID>"
      "<errorDeclaration><declarationTime>2024-03-02T00:00:00Z</declarationTime>"
      "<reason>urn:epcglobal:cbv:er:incorrect_data</reason><correctiveEventIDs>"
      "<correctiveEventID>urn:uuid:9c1f0b3e-0000-4000-8000-000000000003</correctiveEventID>"
      "</correctiveEventIDs><ex:why>typo</ex:why></errorDeclaration></baseExtension>"
      "<parentID>urn:epc:id:sscc:4012345.0000000001</parentID>"
      "<childEPCs><epc>urn:epc:id:sgtin:4012345.011111.1</epc></childEPCs>"
      "<action>ADD</action><extension><childQuantityList><quantityElement>"
      "<epcClass>urn:epc:class:lgtin:4012345.011111.L1</epcClass><quantity>3</quantity>"
      "</quantityElement></childQuantityList></extension>"
      "</AggregationEvent>\n"
      "<TransactionEvent>" WHEN
      "<bizTransactionList><bizTransaction type=\"inv\">urn:x:inv:2</bizTransaction>"
      "</bizTransactionList><epcList><epc>urn:epc:id:sgtin:4012345.011111.1</epc></epcList>"
      "<action>OBSERVE</action></TransactionEvent>\n"
      "<extension><TransformationEvent>" WHEN
      "<inputEPCList><epc>urn:epc:id:sgtin:4012345.011111.1</epc></inputEPCList>"
      "<outputQuantityList><quantityElement><epcClass>urn:epc:class:lgtin:4012345.022222.L9"
      "</epcClass><quantity>1e2</quantity><uom>KGM</uom></quantityElement></outputQuantityList>"
      "<transformationID>urn:x:tf:1</transformationID>"
      "<bizLocation><id>urn:epc:id:sgln:4012345.00003.0</id><ex:room>7</ex:room></bizLocation>"
      "<ilmd><ex:bestBefore>2025-01-01</ex:bestBefore></ilmd>"
      "</TransformationEvent></extension>\n"
      "<AssociationEvent>" WHEN
      "<parentID>urn:epc:id:grai:4012345.55555.1</parentID>"
      "<childEPCs><epc>urn:epc:id:giai:4012345.1</epc></childEPCs><action>DELETE</action>"
      "</AssociationEvent>\n" DOC_CLOSE;
  json_t *doc = NULL;
  char msg[HANSE_REJECT_MSG_MAX];
  if (strcmp(convert_text(xml, &doc, msg), "ok") != 0) fail_msg("%s", msg);
  assert_json(json_object_get(doc, "@context"),
              "[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\","
              "{\"ex\":\"http://ns.example.com/ex/\"}]");
  assert_string_equal(json_string_value(json_object_get(doc, "type")), "EPCISDocument");
  assert_string_equal(json_string_value(json_object_get(doc, "schemaVersion")), "2.0");
  json_t *evs = events_of(doc);
  assert_int_equal(json_array_size(evs), 5);
  json_t *o = json_array_get(evs, 0);
  assert_json(o,
              "{\"type\":\"ObjectEvent\",\"eventTime\":\"2024-03-01T09:00:00.000+01:00\","
              "\"eventTimeZoneOffset\":\"+01:00\","
              "\"eventID\":\"urn:uuid:9c1f0b3e-0000-4000-8000-000000000001\","
              "\"certificationInfo\":\"https://cert.example.org/c/1\","
              "\"epcList\":[\"urn:epc:id:sgtin:4012345.011111.1\"],\"action\":\"ADD\","
              "\"bizStep\":\"https://ref.gs1.org/cbv/BizStep-commissioning\","
              "\"disposition\":\"urn:epcglobal:cbv:disp:active\","
              "\"readPoint\":{\"id\":\"urn:epc:id:sgln:4012345.00001.0\"},"
              "\"bizTransactionList\":[{\"type\":\"urn:epcglobal:cbv:btt:po\","
              "\"bizTransaction\":\"urn:x:po:1\"},{\"bizTransaction\":\"urn:x:inv:2\"}],"
              "\"quantityList\":[{\"epcClass\":\"urn:epc:class:lgtin:4012345.011111.L1\","
              "\"quantity\":2.5,\"uom\":\"KGM\"},"
              "{\"epcClass\":\"urn:epc:idpat:sgtin:4012345.011111.*\"}],"
              "\"sourceList\":[{\"type\":\"urn:epcglobal:cbv:sdt:owning_party\","
              "\"source\":\"urn:epc:id:pgln:4012345.00001\"}],"
              "\"destinationList\":[{\"type\":\"location\","
              "\"destination\":\"urn:epc:id:sgln:4012345.00002.0\"}],"
              "\"sensorElementList\":[{\"sensorMetadata\":{\"time\":\"2024-03-01T08:00:00Z\","
              "\"ex:batch\":\"b7\"},\"sensorReport\":[{\"type\":\"https://gs1.org/voc/Temperature\","
              "\"value\":4.5,\"uom\":\"CEL\",\"booleanValue\":false},"
              "{\"type\":\"https://gs1.org/voc/Humidity\",\"value\":60,\"percRank\":50}],"
              "\"ex:probe\":\"p1\"}],"
              "\"persistentDisposition\":{\"set\":[\"completeness_verified\",\"b\"],"
              "\"unset\":[\"a\"]},"
              "\"ilmd\":{\"ex:lot\":\"L1\",\"ex:grade\":\"A\"},"
              "\"ex:n\":10,\"ex:f\":2.5,\"ex:b\":true,\"ex:s\":\"10\",\"ex:nil\":null,"
              "\"ex:rep\":[\"1\",{\"ex:in\":\"2\",\"plain\":\"3\"}],"
              "\"ex:attr\":{\"unit\":\"kg\",\"ex:q\":\"1\",\"#text\":\"5\"},\"ex:empty\":\"\"}");
  /* EPCIS 1.x wrappers flattened, the declaration's parts */
  json_t *a = json_array_get(evs, 1);
  assert_string_equal(json_string_value(json_object_get(a, "eventID")),
                      "urn:uuid:9c1f0b3e-0000-4000-8000-000000000002");
  assert_json(json_object_get(a, "errorDeclaration"),
              "{\"declarationTime\":\"2024-03-02T00:00:00Z\","
              "\"reason\":\"urn:epcglobal:cbv:er:incorrect_data\",\"correctiveEventIDs\":"
              "[\"urn:uuid:9c1f0b3e-0000-4000-8000-000000000003\"],\"ex:why\":\"typo\"}");
  assert_json(json_object_get(a, "childQuantityList"),
              "[{\"epcClass\":\"urn:epc:class:lgtin:4012345.011111.L1\",\"quantity\":3}]");
  assert_string_equal(json_string_value(json_object_get(json_array_get(evs, 2), "type")),
                      "TransactionEvent");
  json_t *tf = json_array_get(evs, 3);
  assert_string_equal(json_string_value(json_object_get(tf, "type")), "TransformationEvent");
  assert_json(json_object_get(tf, "outputQuantityList"),
              "[{\"epcClass\":\"urn:epc:class:lgtin:4012345.022222.L9\",\"quantity\":100.0,"
              "\"uom\":\"KGM\"}]");
  assert_json(json_object_get(tf, "bizLocation"),
              "{\"id\":\"urn:epc:id:sgln:4012345.00003.0\",\"ex:room\":\"7\"}");
  assert_string_equal(json_string_value(json_object_get(json_array_get(evs, 4), "type")),
                      "AssociationEvent");
  /* the rules accept it; the module's forms follow */
  trace_doc d;
  const char *code = prepare(json_pack("{s:s}", "xml", xml), &d);
  if (strcmp(code, "ok") != 0) fail_msg("prepare: %s", code);
  assert_int_equal(d.count, 5);
  assert_string_equal(json_string_value(json_object_get(d.events[0].event, "bizStep")),
                      "commissioning");
  assert_string_equal(
      json_string_value(json_object_get(
          json_array_get(json_object_get(d.events[0].event, "bizTransactionList"), 0), "type")),
      "po");
  trace_doc_free(&d);
  /* deterministic: the same bytes give the same text */
  json_t *again = NULL;
  assert_string_equal(convert_text(xml, &again, NULL), "ok");
  char *t1 = json_dumps(doc, JSON_COMPACT), *t2 = json_dumps(again, JSON_COMPACT);
  assert_string_equal(t1, t2);
  free(t1);
  free(t2);
  json_decref(again);
  json_decref(doc);
}

/* Prefixes: a namespace keeps the document's prefix unless a value starts
 * with it (JSON-LD would expand the value, XML does not) or another
 * namespace has it; a namespace without a prefix gets one. */
static void test_prefixes(void **state) {
  (void)state;
  static const char xml[] =
      "<epcis:EPCISDocument xmlns:epcis=\"urn:epcglobal:epcis:xsd:2\" schemaVersion=\"2.0\""
      " creationDate=\"2024-03-01T10:00:00Z\" xmlns:example=\"https://ns.example.com/a/\">"
      "<EPCISBody><EventList><ObjectEvent>" WHEN
      "<epcList><epc>urn:epc:id:sgtin:4012345.011111.1</epc></epcList><action>OBSERVE</action>"
      "<sensorElementList><sensorElement><sensorReport type=\"Speed\" value=\"1\""
      " component=\"example:x\"/></sensorElement></sensorElementList>"
      "<example:one>1</example:one>"
      "<e:two xmlns:e=\"https://ns.example.com/b/\">2</e:two>"
      "<e:three xmlns:e=\"https://ns.example.com/c/\">3</e:three>"
      "<four xmlns=\"https://ns.example.com/d/\">4</four>"
      "</ObjectEvent></EventList></EPCISBody></epcis:EPCISDocument>";
  json_t *doc = NULL;
  char msg[HANSE_REJECT_MSG_MAX];
  if (strcmp(convert_text(xml, &doc, msg), "ok") != 0) fail_msg("%s", msg);
  assert_json(json_array_get(json_object_get(doc, "@context"), 1),
              "{\"ns1\":\"https://ns.example.com/a/\",\"e\":\"https://ns.example.com/b/\","
              "\"ns2\":\"https://ns.example.com/c/\",\"ns3\":\"https://ns.example.com/d/\"}");
  json_t *ev = json_array_get(events_of(doc), 0);
  assert_string_equal(json_string_value(json_object_get(ev, "ns1:one")), "1");
  assert_string_equal(json_string_value(json_object_get(ev, "e:two")), "2");
  assert_string_equal(json_string_value(json_object_get(ev, "ns2:three")), "3");
  assert_string_equal(json_string_value(json_object_get(ev, "ns3:four")), "4");
  /* the value stays a URI of scheme "example", in JSON-LD as in XML */
  json_t *r = json_array_get(
      json_object_get(json_array_get(json_object_get(ev, "sensorElementList"), 0), "sensorReport"),
      0);
  assert_string_equal(json_string_value(json_object_get(r, "component")), "example:x");
  json_decref(doc);
}

static void test_query_document(void **state) {
  (void)state;
  static const char xml[] =
      "<epcisq:EPCISQueryDocument xmlns:epcisq=\"urn:epcglobal:epcis-query:xsd:2\""
      " schemaVersion=\"2.0\" creationDate=\"2024-03-01T10:00:00Z\"><EPCISHeader/>"
      "<EPCISBody><epcisq:QueryResults><queryName>SimpleEventQuery</queryName>"
      "<subscriptionID>s-1</subscriptionID><resultsBody><EventList><ObjectEvent>" WHEN
      "<epcList><epc>urn:epc:id:sgtin:4012345.011111.1</epc></epcList><action>OBSERVE</action>"
      "</ObjectEvent></EventList></resultsBody></epcisq:QueryResults></EPCISBody>"
      "</epcisq:EPCISQueryDocument>";
  json_t *doc = NULL;
  assert_string_equal(convert_text(xml, &doc, NULL), "ok");
  assert_json(doc,
              "{\"@context\":\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\","
              "\"type\":\"EPCISQueryDocument\",\"schemaVersion\":\"2.0\","
              "\"creationDate\":\"2024-03-01T10:00:00Z\",\"epcisBody\":{\"queryResults\":"
              "{\"queryName\":\"SimpleEventQuery\",\"subscriptionID\":\"s-1\",\"resultsBody\":"
              "{\"eventList\":[{\"type\":\"ObjectEvent\",\"eventTime\":"
              "\"2024-03-01T09:00:00.000+01:00\",\"eventTimeZoneOffset\":\"+01:00\",\"epcList\":"
              "[\"urn:epc:id:sgtin:4012345.011111.1\"],\"action\":\"OBSERVE\"}]}}}}");
  json_decref(doc);
  trace_doc d;
  assert_string_equal(prepare(json_pack("{s:s}", "xml", xml), &d), "ok");
  assert_int_equal(d.count, 1);
  trace_doc_free(&d);
}

/* ---- refusals --------------------------------------------------------------- */

static void expect_bad(const char *xml, const char *line) {
  char msg[HANSE_REJECT_MSG_MAX];
  const char *code = convert_text(xml, NULL, msg);
  if (strcmp(code, "trace.bad_xml") != 0) fail_msg("%s: %s for\n%s", code, msg, xml);
  if (strncmp(msg, line, strlen(line)) != 0) fail_msg("message '%s', want '%s...'", msg, line);
}

static void test_refusals(void **state) {
  (void)state;
  /* not well-formed: the parser's line */
  expect_bad(DOC_OPEN "<ObjectEvent>\n<eventTime>x</eventTim>\n" DOC_CLOSE, "line 5:");
  expect_bad("", "line ");
  expect_bad("just text", "line 1:");
  /* external entities, DTDs, entity expansion: refused, nothing fetched */
  expect_bad("<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>\n"
             "<x>&e;</x>",
             "line ");
  expect_bad("<?xml version=\"1.0\"?>\n<!DOCTYPE x SYSTEM \"http://192.0.2.1/x.dtd\">\n<x/>",
             "line 2: a DOCTYPE");
  expect_bad("<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">"
             "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;\">]><x>&c;</x>",
             "line 1:");
  expect_bad("<!DOCTYPE x [<!ATTLIST x a CDATA \"d\">]><x/>", "line 1: a DOCTYPE");
  /* namespaces: an undeclared prefix, the wrong root */
  expect_bad(DOC_OPEN "<ObjectEvent>" WHEN "<nope:x>1</nope:x></ObjectEvent>" DOC_CLOSE,
             "line 4:");
  expect_bad("<EPCISDocument schemaVersion=\"2.0\"/>", "line 1: the root must be");
  expect_bad("<e:EPCISDocument xmlns:e=\"urn:epcglobal:epcis:xsd:1\"/>", "line 1: the root");
  /* structure */
  expect_bad("<epcis:EPCISDocument xmlns:epcis=\"urn:epcglobal:epcis:xsd:2\">\n</epcis:EPCISDocument>",
             "line 1: <EPCISBody> is missing");
  expect_bad(DOC_OPEN "<ObjectEvent>" WHEN "\n<bizStep>a</bizStep>\n<bizStep>b</bizStep>"
                      "</ObjectEvent>" DOC_CLOSE,
             "line 6: 'bizStep' appears twice");
  expect_bad(DOC_OPEN "<ObjectEvent>" WHEN "<epcList>\n<id>x</id></epcList></ObjectEvent>" DOC_CLOSE,
             "line 5: <epcList> holds only <epc>");
  expect_bad(DOC_OPEN "<ObjectEvent>" WHEN "<action><b>ADD</b></action></ObjectEvent>" DOC_CLOSE,
             "line 4: <action> holds text only");
  expect_bad(DOC_OPEN "<ObjectEvent>" WHEN "<ex:m>a<ex:n/></ex:m></ObjectEvent>" DOC_CLOSE,
             "line 4: mixed content");
  expect_bad(DOC_OPEN "<ObjectEvent>text" WHEN "</ObjectEvent>" DOC_CLOSE,
             "line 4: <ObjectEvent> holds no text");
  /* nesting */
  char deep[4096];
  size_t o = (size_t)snprintf(deep, sizeof deep, "%s<ObjectEvent>%s", DOC_OPEN, WHEN);
  for (int i = 0; i < TRACE_XML_DEPTH_MAX + 2; i++) o += (size_t)snprintf(deep + o, sizeof deep - o, "<ex:d>");
  for (int i = 0; i < TRACE_XML_DEPTH_MAX + 2; i++) o += (size_t)snprintf(deep + o, sizeof deep - o, "</ex:d>");
  snprintf(deep + o, sizeof deep - o, "</ObjectEvent>%s", DOC_CLOSE);
  expect_bad(deep, "line 4: elements nested deeper than 32");
  /* size */
  size_t big = HANSE_PAYLOAD_MAX + 1;
  char *x = malloc(big + 1);
  assert_non_null(x);
  memset(x, ' ', big);
  x[big] = 0;
  expect_bad(x, "line 0: the XML document is 65537 bytes");
  free(x);

  /* the payload's forms */
  trace_doc d;
  assert_string_equal(prepare(json_pack("{s:i}", "xml", 5), &d), "trace.bad_xml");
  assert_string_equal(prepare(json_pack("{s:s, s:{}}", "xml", "<x/>", "document"), &d),
                      "trace.bad_document");
  assert_string_equal(prepare(json_pack("{}"), &d), "trace.bad_document");
  /* converted, then the rules speak with their own codes */
  assert_string_equal(
      prepare(json_pack("{s:s}", "xml",
                        DOC_OPEN "<QuantityEvent>" WHEN "<epcClass>urn:x:c</epcClass>"
                                 "<quantity>1</quantity></QuantityEvent>" DOC_CLOSE),
              &d),
      "trace.bad_event_type");
  assert_string_equal(
      prepare(json_pack("{s:s}", "xml",
                        DOC_OPEN "<ObjectEvent>" WHEN "<action>ADD</action><quantityList>"
                                 "<quantityElement><epcClass>urn:x:c</epcClass><quantity>many"
                                 "</quantity></quantityElement></quantityList></ObjectEvent>"
                                 DOC_CLOSE),
              &d),
      "trace.bad_quantity");
  assert_string_equal(
      prepare(json_pack("{s:s}", "xml", DOC_OPEN "<ObjectEvent>" WHEN "<foo>1</foo>"
                                                 "<action>ADD</action></ObjectEvent>" DOC_CLOSE),
              &d),
      "trace.bad_field");
  assert_string_equal(prepare(json_pack("{s:s}", "xml", DOC_OPEN DOC_CLOSE), &d),
                      "trace.too_many_events");
}

/* ---- on a chain --------------------------------------------------------------- */

static int setup_chain(void **state) {
  fx_chain *f = calloc(1, sizeof *f);
  if (f == NULL) return -1;
  fx_chain_setup(f, NULL);
  *state = f;
  return 0;
}

static int teardown_chain(void **state) {
  fx_chain_teardown(*state);
  free(*state);
  return 0;
}

static const char *capture(fx_chain *f, json_t *payload, uint64_t seq) {
  static hanse_receipt r;
  char *text = json_dumps(payload, JSON_COMPACT);
  json_decref(payload);
  assert_non_null(text);
  fx_body b;
  fx_body_init(&b);
  fx_body_tx(&b, &f->alice, "trace.capture", seq, "%s", text);
  free(text);
  hanse_reject rej;
  assert_int_equal(fx_propose(f, &b, &r, 1, &rej), HANSE_OK);
  fx_body_free(&b);
  return r.code;
}

/* An XML capture is stored as its JSON twin would be, and is its twin's
 * duplicate: one event, one hash ID, whichever form came first. */
static void test_capture(void **state) {
  fx_chain *f = *state;
  const char *xp = EPCIS_DIR "/xml/event_with_identical_hash_id_1.xml";
  json_t *p = xml_payload(xp);
  assert_string_equal(hanse_module_trace.payload_class(p), "transport");
  json_t *junk = json_pack("{s:s}", "xml", "<x");
  assert_null(hanse_module_trace.payload_class(junk));
  json_decref(junk);
  assert_string_equal(capture(f, p, 1), "ok");
  assert_string_equal(capture(f, xml_payload(xp), 2), "trace.duplicate");
  assert_string_equal(
      capture(f, json_payload(EPCIS_DIR "/examples/event_with_identical_hash_id_7.json"), 3),
      "trace.duplicate");
  /* the record: normalised, keyed by the hash ID */
  trace_doc d;
  assert_string_equal(prepare(xml_payload(xp), &d), "ok");
  char key[100], v[65536];
  snprintf(key, sizeof key, "trace/ev/%s", d.events[0].key);
  assert_true(fx_state(f, key, v, sizeof v));
  json_t *rec = json_loads(v, 0, NULL);
  assert_non_null(rec);
  json_t *ev = json_object_get(rec, "event");
  assert_string_equal(json_string_value(json_object_get(ev, "eventID")), d.events[0].id);
  assert_string_equal(json_string_value(json_object_get(ev, "bizStep")), "receiving");
  assert_true(json_is_integer(json_object_get(ev, "ext1:int")));
  assert_true(json_equal(json_object_get(rec, "prefixes"), d.prefixes));
  json_decref(rec);
  trace_doc_free(&d);
  /* broken XML is refused by check */
  assert_string_equal(capture(f, json_pack("{s:s}", "xml", "<epcis:EPCISDocument>"), 4),
                      "trace.bad_xml");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_twins),
      cmocka_unit_test(test_identical_hash_id),
      cmocka_unit_test(test_mapping),
      cmocka_unit_test(test_prefixes),
      cmocka_unit_test(test_query_document),
      cmocka_unit_test(test_refusals),
      cmocka_unit_test_setup_teardown(test_capture, setup_chain, teardown_chain),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
