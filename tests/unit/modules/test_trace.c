/*
 * test_trace.c -- the trace module on a chain: capture (records, hash
 * IDs, indexes, reals), duplicates, error declarations, and the query
 * entry the EPCIS binding uses (filters, read classes, paging).
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
#include "crypto/hash.h"
#include "encoding/json_real.h"
#include "fixture.h"
#include "modules/trace/trace.h"

#define EX HANSE_VECTORS_DIR "/epcis/examples/"

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

/* {"document": <file>} as compact text, malloc'd. */
static char *payload_of(const char *file) {
  char path[512];
  snprintf(path, sizeof path, "%s%s", EX, file);
  json_error_t e;
  json_t *doc = json_load_file(path, 0, &e);
  if (doc == NULL) fail_msg("%s: %s", file, e.text);
  json_t *p = json_pack("{s:o}", "document", doc);
  char *t = json_dumps(p, JSON_COMPACT);
  json_decref(p);
  assert_non_null(t);
  return t;
}

static uint64_t seq_alice;

/* Capture payload text in one block; the receipt code. */
static const char *capture(fx_chain *f, const char *payload) {
  static hanse_receipt r;
  fx_body b;
  fx_body_init(&b);
  fx_body_tx(&b, &f->alice, "trace.capture", ++seq_alice, "%s", payload);
  hanse_reject rej;
  assert_int_equal(fx_propose(f, &b, &r, 1, &rej), HANSE_OK);
  fx_body_free(&b);
  return r.code;
}

static const char *capture_file(fx_chain *f, const char *file) {
  char *p = payload_of(file);
  const char *code = capture(f, p);
  free(p);
  return code;
}

static void ev_key(const char *event_id, char *out, size_t n) {
  hanse_hash h;
  hanse_sha256(&h, event_id, strlen(event_id));
  char hex[HANSE_HASH_HEX_BYTES];
  snprintf(out, n, "trace/ev/%s", hanse_hash_hex(hex, &h));
}

static json_t *record(fx_chain *f, const char *event_id, const char *suffix) {
  char key[200];
  static char v[65536];
  ev_key(event_id, key, sizeof key);
  strcat(key, suffix);
  if (!fx_state(f, key, v, sizeof v)) return NULL;
  return json_loads(v, 0, NULL);
}

/* The events query with readable classes `classes` ("a|b") and params. */
static json_t *events(fx_chain *f, const char *classes, const char *fmt, ...) {
  char text[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  json_t *params = json_loads(text, 0, NULL);
  assert_non_null(params);
  json_t *readable = json_array();
  char buf[256];
  snprintf(buf, sizeof buf, "%s", classes);
  for (char *c = strtok(buf, "|"); c; c = strtok(NULL, "|"))
    json_array_append_new(readable, json_string(c));
  json_object_set_new(params, "readable", readable);
  json_t *res = NULL;
  hanse_reject rej;
  hanse_reject_clear(&rej);
  int rc = fx_query(f, "trace", "epcis.events", params, &res, &rej);
  json_decref(params);
  if (rc != HANSE_OK) {
    json_t *err = json_pack("{s:s}", "error", rej.code);
    return err;
  }
  return res;
}

static size_t count(json_t *res) { return json_array_size(json_object_get(res, "eventList")); }

#define ALL "production|transaction|customs_inspection|transport"

static void test_capture_and_duplicates(void **state) {
  fx_chain *f = *state;
  seq_alice = 0;
  assert_string_equal(capture_file(f, "Example_9.6.1-ObjectEvent.jsonld"), "ok");
  const char *id0 =
      "ni:///sha-256;00e1e6eba3a7cc6125be4793a631f0af50f8322e0ab5f2c0bab994a11cec1d79?ver=CBV2.0";
  json_t *rec = record(f, id0, "");
  assert_non_null(rec);
  json_t *ev = json_object_get(rec, "event");
  assert_string_equal(json_string_value(json_object_get(ev, "eventID")), id0);
  assert_string_equal(json_string_value(json_object_get(rec, "class")), "transport");
  assert_string_equal(json_string_value(json_object_get(ev, "bizStep")), "receiving");
  assert_non_null(json_object_get(ev, "recordTime"));
  assert_int_equal(json_integer_value(json_object_get(rec, "seq")), 2); /* second in the file */
  json_decref(rec);
  /* the same document again: the first event is already there */
  assert_string_equal(capture_file(f, "Example_9.6.1-ObjectEvent.jsonld"), "trace.duplicate");
  /* the with-comment variant reuses other ids: accepted */
  assert_string_equal(capture_file(f, "Example_9.6.1-with-comment.jsonld"), "ok");

  /* no eventID: the hash ID is computed, and is the key */
  assert_string_equal(capture_file(f, "SensorDataExample9.jsonld"), "ok");
  char *p = payload_of("SensorDataExample9.jsonld");
  json_t *pj = json_loads(p, 0, NULL);
  json_t *doc = json_object_get(pj, "document");
  json_t *prefixes = trace_context_prefixes(json_object_get(doc, "@context"));
  char hid[TRACE_HASH_ID_BYTES];
  assert_int_equal(
      trace_hash_id(json_array_get(json_object_get(json_object_get(doc, "epcisBody"), "eventList"), 0),
                    prefixes, hid),
      HANSE_OK);
  rec = record(f, hid, "");
  assert_non_null(rec);
  assert_string_equal(json_string_value(json_object_get(json_object_get(rec, "event"), "eventID")),
                      hid);
  json_decref(rec);
  json_decref(prefixes);
  json_decref(pj);
  assert_string_equal(capture(f, p), "trace.duplicate");
  free(p);

  /* reals are kept at their shortest text */
  assert_string_equal(capture_file(f, "SensorDataExample1.jsonld"), "ok");
  char key[200], v[65536];
  ev_key("ni:///sha-256;74f1dc48ee22289bc40ddd9f1d0ecae0dd09a2f4c3dfa66fdbca16cb2d8a4e77?ver=CBV2.0",
         key, sizeof key);
  assert_true(fx_state(f, key, v, sizeof v));
  assert_non_null(strstr(v, "\"value\":26.1,"));
  assert_null(strstr(v, "26.100000"));

  /* a bad document is rejected by check, with the rule's code */
  assert_string_equal(capture(f, "{\"document\":{\"type\":\"EPCISDocument\"}}"),
                      "trace.bad_document");
}

static void test_error_declaration(void **state) {
  fx_chain *f = *state;
  seq_alice = 0;
#define PLAIN \
      "{\"document\":{\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\",\"creationDate\":" \
      "\"2024-01-02T10:00:00Z\",\"epcisBody\":{\"eventList\":[{\"type\":\"ObjectEvent\"," \
      "\"eventID\":\"urn:uuid:11111111-0000-4000-8000-000000000001\",\"eventTime\":" \
      "\"2024-01-02T10:00:00Z\",\"eventTimeZoneOffset\":\"+00:00\",\"epcList\":" \
      "[\"urn:epc:id:sgtin:4012345.011111.77\"],\"action\":\"OBSERVE\",\"bizStep\":" \
      "\"shipping\"%s}]}}}"
  char p[2048], q[2048];
  snprintf(p, sizeof p, PLAIN, "");
  snprintf(q, sizeof q, PLAIN,
           ",\"errorDeclaration\":{\"declarationTime\":\"2024-01-03T00:00:00Z\",\"reason\":"
           "\"https://ref.gs1.org/cbv/ER-incorrect_data\",\"correctiveEventIDs\":"
           "[\"urn:uuid:11111111-0000-4000-8000-000000000002\"]}");
  assert_string_equal(capture(f, p), "ok");
  assert_string_equal(capture(f, p), "trace.duplicate");
  assert_string_equal(capture(f, q), "ok"); /* the correction path */
  assert_string_equal(capture(f, q), "trace.duplicate");
  json_t *orig = record(f, "urn:uuid:11111111-0000-4000-8000-000000000001", "");
  json_t *decl = record(f, "urn:uuid:11111111-0000-4000-8000-000000000001", "/err");
  assert_non_null(orig);
  assert_non_null(decl);
  assert_null(json_object_get(json_object_get(orig, "event"), "errorDeclaration")); /* not edited */
  json_t *ed = json_object_get(json_object_get(decl, "event"), "errorDeclaration");
  assert_string_equal(json_string_value(json_object_get(ed, "reason")), "incorrect_data");
  json_decref(orig);
  json_decref(decl);
  /* queries show both, the declaration after the event */
  json_t *res = events(f, ALL, "{\"MATCH_epc\":\"urn:epc:id:sgtin:4012345.011111.77\"}");
  assert_int_equal(count(res), 2);
  assert_null(json_object_get(json_array_get(json_object_get(res, "eventList"), 0),
                              "errorDeclaration"));
  assert_non_null(json_object_get(json_array_get(json_object_get(res, "eventList"), 1),
                                  "errorDeclaration"));
  json_decref(res);
  /* GS1's example: a declaration of an event never captured, and its
   * corrective event, in one document */
  assert_string_equal(capture_file(f, "ErrorDeclarationAndCorrectiveEvent.jsonld"), "ok");
  json_t *r = record(f, "urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8", "");
  assert_non_null(r);
  assert_true(json_is_true(json_object_get(r, "declaration")));
  json_decref(r);
  /* so object_event_all_possible_fields, which reuses that id, is a duplicate */
  assert_string_equal(capture_file(f, "object_event_all_possible_fields.jsonld"),
                      "trace.duplicate");
}

static void test_query(void **state) {
  fx_chain *f = *state;
  seq_alice = 0;
  static const char *const files[] = {
      "Example_9.6.1-ObjectEvent.jsonld",       "Example_9.6.2-ObjectEvent.jsonld",
      "Example_9.6.3-AggregationEvent.jsonld",  "Example_9.6.4-TransformationEvent.jsonld",
      "Example-TransactionEvents-2020_07_03y.jsonld", "AssociationEvent-a.jsonld",
      "Example_9.6.1-ObjectEventWithDigitalLink.jsonld"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
    if (strcmp(capture_file(f, files[i]), "ok") != 0) fail_msg("%s not captured", files[i]);
  json_t *r;
  /* 2 + 1 + 1 + 1 + 2 + 1 + 2 events */
  r = events(f, ALL, "{\"perPage\":\"100\"}");
  assert_int_equal(count(r), 10);
  assert_null(json_object_get(r, "nextPageToken"));
  json_decref(r);
  r = events(f, ALL, "{\"eventType\":\"AggregationEvent\"}");
  assert_int_equal(count(r), 1);
  json_decref(r);
  r = events(f, ALL, "{\"eventType\":\"AggregationEvent|AssociationEvent\"}");
  assert_int_equal(count(r), 2);
  json_decref(r);
  r = events(f, ALL, "{\"EQ_bizStep\":\"https://ref.gs1.org/cbv/BizStep-shipping\"}");
  assert_int_equal(count(r), 2); /* 9.6.1 in EPC URNs and in Digital Link */
  json_decref(r);
  r = events(f, ALL, "{\"MATCH_epc\":\"urn:epc:id:sgtin:0614141.107346.2017\"}");
  assert_int_equal(count(r), 2); /* epcList of 9.6.1, childEPCs of 9.6.3 */
  json_decref(r);
  r = events(f, ALL, "{\"MATCH_epc\":\"urn:epc:id:sgtin:0614141.107346.2018\"}");
  assert_int_equal(count(r), 3);
  json_decref(r);
  /* the Digital Link spelling of the same EPC finds the URN events */
  r = events(f, ALL, "{\"MATCH_epc\":\"https://id.gs1.org/01/10614141073464/21/2018\"}");
  assert_int_equal(count(r), 3);
  json_decref(r);
  /* and GS1's Digital Link example (another GTIN) by its URN spelling */
  r = events(f, ALL, "{\"MATCH_epc\":\"urn:epc:id:sgtin:0614141.712345.2018\"}");
  assert_int_equal(count(r), 2);
  json_decref(r);
  r = events(f, ALL, "{\"MATCH_epc\":\"urn:epc:idpat:sgtin:0614141.107346.*\"}");
  assert_int_equal(count(r), 3);
  json_decref(r);
  r = events(f, ALL, "{\"MATCH_parentID\":\"urn:epc:id:sscc:0614141.1234567890\"}");
  assert_int_equal(count(r), 1);
  json_decref(r);
  r = events(f, ALL, "{\"MATCH_inputEPC\":\"urn:epc:id:sgtin:4012345.011122.25\"}");
  assert_int_equal(count(r), 1);
  json_decref(r);
  r = events(f, ALL, "{\"MATCH_outputEPC\":\"urn:epc:id:sgtin:4012345.077889.25\"}");
  assert_int_equal(count(r), 1);
  json_decref(r);
  r = events(f, ALL, "{\"MATCH_anyEPC\":\"urn:epc:id:sscc:0614141.1234567890\"}");
  assert_int_equal(count(r), 1);
  json_decref(r);
  r = events(f, ALL, "{\"EQ_readPoint\":\"urn:epc:id:sgln:0614141.07346.1234\"}");
  assert_int_equal(count(r), 2);
  json_decref(r);
  r = events(f, ALL, "{\"EQ_bizLocation\":\"urn:epc:id:sgln:0012345.11111.0\"}");
  assert_int_equal(count(r), 2);
  json_decref(r);
  r = events(f, ALL, "{\"EQ_disposition\":\"in_progress\"}");
  assert_true(count(r) >= 2);
  json_decref(r);
  r = events(f, ALL, "{\"EQ_type_bizTransaction\":\"po\",\"eventType\":\"ObjectEvent\"}");
  assert_int_equal(count(r), 4);
  json_decref(r);
  r = events(f, ALL,
             "{\"EQ_bizTransaction_po\":\"http://transaction.acme.com/po/12345678\"}");
  assert_int_equal(count(r), 4);
  json_decref(r);
  r = events(f, ALL, "{\"GE_eventTime\":\"2005-04-04T00:00:00Z\",\"LT_eventTime\":"
                     "\"2005-04-05T00:00:00Z\"}");
  assert_int_equal(count(r), 2); /* 9.6.1's shipping at 02:33Z on 4 April, both spellings */
  json_decref(r);
  r = events(f, ALL, "{\"GE_recordTime\":\"2099-01-01T00:00:00Z\"}");
  assert_int_equal(count(r), 0);
  json_decref(r);
  /* read classes: transport readers see the shipping, receiving and
   * transporting events only, transaction readers the other TransactionEvent */
  r = events(f, "transport", "{}");
  assert_int_equal(count(r), 7);
  json_decref(r);
  r = events(f, "transaction", "{}");
  assert_int_equal(count(r), 1);
  json_decref(r);
  r = events(f, "production|customs_inspection", "{}");
  assert_int_equal(count(r), 2);
  json_decref(r);
  r = events(f, "", "{}");
  assert_int_equal(count(r), 0);
  json_decref(r);
  /* paging: 3 per page over 10 events */
  size_t seen = 0;
  char token[32] = "";
  for (int page = 0; page < 10; page++) {
    r = token[0] ? events(f, ALL, "{\"perPage\":\"3\",\"nextPageToken\":\"%s\"}", token)
                 : events(f, ALL, "{\"perPage\":\"3\"}");
    seen += count(r);
    const char *t = json_string_value(json_object_get(r, "nextPageToken"));
    snprintf(token, sizeof token, "%s", t ? t : "");
    json_decref(r);
    if (!t) break;
  }
  assert_int_equal(seen, 10);
  /* bad parameters */
  r = events(f, ALL, "{\"EQ_colour\":\"red\"}");
  assert_string_equal(json_string_value(json_object_get(r, "error")), "trace.bad_query");
  json_decref(r);
  r = events(f, ALL, "{\"perPage\":\"0\"}");
  assert_string_equal(json_string_value(json_object_get(r, "error")), "trace.bad_query");
  json_decref(r);
  r = events(f, ALL, "{\"GE_eventTime\":\"yesterday\"}");
  assert_string_equal(json_string_value(json_object_get(r, "error")), "trace.bad_query");
  json_decref(r);
  /* event types */
  json_t *res = NULL;
  hanse_reject rej;
  assert_int_equal(fx_query(f, "trace", "epcis.eventTypes", NULL, &res, &rej), HANSE_OK);
  assert_int_equal(json_array_size(json_object_get(res, "eventTypes")), 5);
  json_decref(res);
}

/* One ObjectEvent document: id suffix n, time, bizStep. */
static void plain_doc(char *out, size_t n, int id, const char *time, const char *step) {
  snprintf(out, n,
           "{\"document\":{\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\","
           "\"creationDate\":\"%s\",\"epcisBody\":{\"eventList\":[{\"type\":"
           "\"ObjectEvent\",\"eventID\":\"urn:uuid:22222222-0000-4000-8000-%012d\","
           "\"eventTime\":\"%s\",\"eventTimeZoneOffset\":\"+00:00\",\"epcList\":"
           "[\"urn:epc:id:sgtin:4012345.011111.%d\"],\"action\":\"OBSERVE\",\"bizStep\":"
           "\"%s\"}]}}}",
           time, id, time, id, step);
}

static void test_signer_org(void **state) {
  fx_chain *f = *state;
  seq_alice = 0;
  char p[2048];
  /* alice (organisation acme) captures three events, bob (no
   * organisation) one */
  plain_doc(p, sizeof p, 1, "2024-03-01T10:00:00Z", "commissioning");
  assert_string_equal(capture(f, p), "ok");
  plain_doc(p, sizeof p, 2, "2024-03-05T10:00:00Z", "shipping");
  assert_string_equal(capture(f, p), "ok");
  plain_doc(p, sizeof p, 3, "2024-04-01T10:00:00Z", "shipping");
  assert_string_equal(capture(f, p), "ok");
  plain_doc(p, sizeof p, 4, "2024-03-02T10:00:00Z", "shipping");
  fx_body b;
  fx_body_init(&b);
  fx_body_tx(&b, &f->bob, "trace.capture", 1, "%s", p);
  fx_propose_ok(f, &b);
  fx_body_free(&b);

  char alice[HANSE_HASH_HEX_BYTES], bob[HANSE_HASH_HEX_BYTES];
  fx_hex(alice, &f->alice.pub);
  fx_hex(bob, &f->bob.pub);
  json_t *r = record(f, "urn:uuid:22222222-0000-4000-8000-000000000001", "");
  assert_non_null(r);
  assert_string_equal(json_string_value(json_object_get(r, "signer")), alice);
  assert_string_equal(json_string_value(json_object_get(r, "org")), "acme");
  json_decref(r);
  r = record(f, "urn:uuid:22222222-0000-4000-8000-000000000004", "");
  assert_non_null(r);
  assert_string_equal(json_string_value(json_object_get(r, "signer")), bob);
  assert_true(json_is_null(json_object_get(r, "org")));
  json_decref(r);

  /* the regulator's query: one enterprise, a time range */
  r = events(f, ALL, "{\"EQ_enterprise\":\"acme\"}");
  assert_int_equal(count(r), 3);
  json_decref(r);
  r = events(f, ALL, "{\"EQ_enterprise\":\"acme\",\"GE_eventTime\":\"2024-03-01T12:00:00Z\","
                     "\"LT_eventTime\":\"2024-03-31T00:00:00Z\"}");
  assert_int_equal(count(r), 1);
  assert_string_equal(
      json_string_value(json_object_get(json_array_get(json_object_get(r, "eventList"), 0),
                                        "eventID")),
      "urn:uuid:22222222-0000-4000-8000-000000000002");
  json_decref(r);
  /* bob's event of the same range is not acme's; lists are one-of */
  r = events(f, ALL, "{\"GE_eventTime\":\"2024-03-01T12:00:00Z\",\"LT_eventTime\":"
                     "\"2024-03-31T00:00:00Z\"}");
  assert_int_equal(count(r), 2);
  json_decref(r);
  r = events(f, ALL, "{\"EQ_enterprise\":\"nobody|acme\",\"EQ_bizStep\":\"shipping\"}");
  assert_int_equal(count(r), 2);
  json_decref(r);
  r = events(f, ALL, "{\"EQ_enterprise\":\"nobody\"}");
  assert_int_equal(count(r), 0);
  json_decref(r);
  /* and still only what the caller may read: the commissioning is production */
  r = events(f, "transport", "{\"EQ_enterprise\":\"acme\"}");
  assert_int_equal(count(r), 2);
  json_decref(r);
}

/* Text mode (what the API asks for) against the parsed events: the same
 * events, byte for byte as dumping them gives, the same prefixes and
 * paging -- both where the index alone decides and the stored records
 * are cut, not parsed, and where the filters parse them. */
static void same_as_parsed(fx_chain *f, const char *classes, const char *params) {
  json_t *list = events(f, classes, "%s", params);
  char with_text[1024];
  snprintf(with_text, sizeof with_text, "{\"text\":true,%s", params + 1);
  json_t *text = events(f, classes, "%s", with_text);
  assert_null(json_object_get(list, "error"));
  assert_null(json_object_get(text, "eventList"));
  hanse_buf want;
  hanse_buf_init(&want);
  size_t i;
  json_t *ev;
  json_array_foreach(json_object_get(list, "eventList"), i, ev) {
    char *t = hanse_json_dumps_exact(ev, JSON_COMPACT);
    if (i) hanse_buf_put(&want, ",", 1);
    hanse_buf_put(&want, t, strlen(t));
    free(t);
  }
  hanse_buf_put(&want, "", 1);
  const char *got = json_string_value(json_object_get(text, "eventText"));
  assert_non_null(got);
  if (strcmp(got, (const char *)want.data) != 0)
    fail_msg("%s: text mode differs:\n%s\n%s", params, got, (const char *)want.data);
  assert_int_equal(json_integer_value(json_object_get(text, "eventCount")), count(list));
  assert_true(json_equal(json_object_get(text, "prefixes"), json_object_get(list, "prefixes")));
  assert_true(json_equal(json_object_get(text, "nextPageToken"),
                         json_object_get(list, "nextPageToken")) ||
              json_object_get(list, "nextPageToken") == NULL);
  assert_true((json_object_get(text, "nextPageToken") == NULL) ==
              (json_object_get(list, "nextPageToken") == NULL));
  hanse_buf_free(&want);
  json_decref(list);
  json_decref(text);
}

static void test_query_text(void **state) {
  fx_chain *f = *state;
  seq_alice = 0;
  static const char *const files[] = {
      "Example_9.6.1-ObjectEvent.jsonld", "Example_9.6.3-AggregationEvent.jsonld",
      "Example_9.6.4-TransformationEvent.jsonld", "SensorDataExample1.jsonld",
      "object_event_all_possible_fields.jsonld", "Example-TransactionEvents-2020_07_03y.jsonld"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
    if (strcmp(capture_file(f, files[i]), "ok") != 0) fail_msg("%s not captured", files[i]);
  /* an extension whose string holds what a careless cut would trip on */
  assert_string_equal(
      capture(f, "{\"document\":{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/"
                 "epcis-context.jsonld\",{\"ex\":\"http://ns.example.com/epcis/\"}],"
                 "\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\",\"creationDate\":"
                 "\"2024-01-01T00:00:00Z\",\"epcisBody\":{\"eventList\":[{\"type\":"
                 "\"ObjectEvent\",\"eventTime\":\"2024-01-01T00:00:00Z\","
                 "\"eventTimeZoneOffset\":\"+00:00\",\"epcList\":[\"urn:epc:id:sgtin:"
                 "0614141.107346.2017\"],\"action\":\"OBSERVE\",\"ex:note\":"
                 "\"a } \\\" ] { \\\\\\\\ }}\",\"ex:nested\":{\"ex:x\":[1.5,"
                 "{\"ex:y\":\"}\"}]}}]}}}"),
      "ok");
  /* every identifier of every event, by the index alone and with a
   * second filter that makes the records parsed */
  json_t *all = events(f, ALL, "{\"perPage\":\"500\"}");
  size_t i, j, checked = 0;
  json_t *ev, *id;
  json_array_foreach(json_object_get(all, "eventList"), i, ev) {
    static const char *const lists[] = {"epcList", "childEPCs", "inputEPCList",
                                        "outputEPCList"};
    for (size_t l = 0; l < 4; l++) {
      json_array_foreach(json_object_get(ev, lists[l]), j, id) {
        char q[600];
        snprintf(q, sizeof q, "{\"MATCH_anyEPC\":\"%s\"}", json_string_value(id));
        same_as_parsed(f, ALL, q);
        same_as_parsed(f, "production", q);
        snprintf(q, sizeof q, "{\"MATCH_anyEPC\":\"%s\",\"eventType\":\"ObjectEvent\"}",
                 json_string_value(id));
        same_as_parsed(f, ALL, q);
        checked++;
      }
    }
  }
  json_decref(all);
  assert_true(checked >= 10);
  same_as_parsed(f, ALL, "{\"EQ_bizStep\":\"shipping\"}");
  same_as_parsed(f, ALL, "{\"eventType\":\"ObjectEvent\",\"perPage\":\"2\"}");
  same_as_parsed(f, ALL, "{\"MATCH_epc\":\"urn:epc:idpat:sgtin:0614141.107346.*\"}");
  same_as_parsed(f, "transport", "{\"perPage\":\"3\"}");
  same_as_parsed(f, ALL, "{\"MATCH_anyEPC\":\"urn:epc:id:sgtin:9999999.999999.1\"}");
  /* the extension's event, cut from its record, parses back to itself */
  json_t *t =
      events(f, ALL, "{\"text\":true,\"MATCH_epc\":\"urn:epc:id:sgtin:0614141.107346.2017\"}");
  char *arr = NULL;
  assert_true(asprintf(&arr, "[%s]", json_string_value(json_object_get(t, "eventText"))) > 0);
  json_t *parsed = json_loads(arr, 0, NULL);
  assert_non_null(parsed);
  json_t *last = json_array_get(parsed, json_array_size(parsed) - 1);
  assert_string_equal(json_string_value(json_object_get(last, "ex:note")), "a } \" ] { \\\\ }}");
  assert_non_null(json_object_get(json_object_get(t, "prefixes"), "ex"));
  json_decref(parsed);
  free(arr);
  json_decref(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_capture_and_duplicates, setup_chain, teardown_chain),
      cmocka_unit_test_setup_teardown(test_error_declaration, setup_chain, teardown_chain),
      cmocka_unit_test_setup_teardown(test_query, setup_chain, teardown_chain),
      cmocka_unit_test_setup_teardown(test_signer_org, setup_chain, teardown_chain),
      cmocka_unit_test_setup_teardown(test_query_text, setup_chain, teardown_chain),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
