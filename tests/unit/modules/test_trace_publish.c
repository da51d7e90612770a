/*
 * test_trace_publish.c -- the pure parts of publishing (trace_publish.c):
 * the publication policy, the screened entry of a stored record, the
 * shapes of publications, complaints and answers. The state-bound parts
 * (the alliance's verify, the open chain's indexes, complaints against
 * published records) run through a real node in
 * tests/integration/test_trace_publish.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "modules/trace/trace.h"

#define ITEM "https://id.gs1.org/01/04012345111118/21/987"
#define HEX_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* A stored record: the event with fields in a chosen order, a PO and a
 * decimal sensor value. */
static json_t *record(const char *cls, int declaration) {
  json_t *ev = json_loads(
      "{\"type\":\"ObjectEvent\",\"eventTime\":\"2026-11-01T08:00:00.000+01:00\","
      "\"eventTimeZoneOffset\":\"+01:00\",\"epcList\":[\"" ITEM "\"],\"action\":\"ADD\","
      "\"bizStep\":\"commissioning\",\"bizTransactionList\":[{\"type\":\"po\","
      "\"bizTransaction\":\"urn:x:PO-1\"}],\"sensorElementList\":[{\"sensorReport\":[{"
      "\"type\":\"Temperature\",\"value\":4.5}]}],\"ex:secret\":\"s\","
      "\"eventID\":\"urn:uuid:1\",\"recordTime\":\"2026-11-21T00:00:00.000Z\"}",
      0, NULL);
  assert_non_null(ev);
  return json_pack("{s:o, s:s, s:i, s:s, s:i, s:s, s:s, s:b}", "event", ev, "class", cls, "seq",
                   1, "tx", HEX_A, "height", 7, "signer", HEX_A, "org", "acme", "declaration",
                   declaration);
}

static void test_policy_defaults_and_genesis(void **state) {
  (void)state;
  json_t *p = trace_publication_policy(NULL);
  assert_int_equal(json_array_size(json_object_get(p, "classes")), 3);
  char *t = json_dumps(p, JSON_COMPACT);
  assert_non_null(strstr(t, "\"customs_inspection\""));
  assert_null(strstr(t, "\"transaction\""));
  assert_null(strstr(t, "bizTransactionList"));
  assert_null(strstr(t, "sourceList"));
  free(t);
  json_decref(p);
  json_t *g = json_pack("{s:{s:[s], s:[s]}}", "publication", "classes", "transaction", "fields",
                        "bizTransactionList");
  p = trace_publication_policy(g);
  assert_string_equal(json_string_value(json_array_get(json_object_get(p, "classes"), 0)),
                      "transaction");
  assert_int_equal(json_array_size(json_object_get(p, "fields")), 1);
  json_decref(p);
  json_decref(g);
}

static void test_entry_screens_in_order(void **state) {
  (void)state;
  json_t *rec = record("production", 0), *policy = trace_publication_policy(NULL);
  json_t *name = json_string("ACME Foods"), *e = NULL;
  hanse_reject rej;
  hanse_reject_clear(&rej);
  assert_int_equal(trace_publication_entry(rec, policy, name, &e, &rej), HANSE_OK);
  const char *text = json_string_value(json_object_get(e, "event"));
  /* the event's own order; the PO and the extension are gone; 4.5 exact */
  assert_string_equal(
      text,
      "{\"type\":\"ObjectEvent\",\"eventTime\":\"2026-11-01T08:00:00.000+01:00\","
      "\"eventTimeZoneOffset\":\"+01:00\",\"epcList\":[\"" ITEM "\"],\"action\":\"ADD\","
      "\"bizStep\":\"commissioning\",\"sensorElementList\":[{\"sensorReport\":[{"
      "\"type\":\"Temperature\",\"value\":4.5}]}],\"eventID\":\"urn:uuid:1\","
      "\"recordTime\":\"2026-11-21T00:00:00.000Z\"}");
  assert_string_equal(json_string_value(json_object_get(e, "org")), "acme");
  assert_string_equal(json_string_value(json_object_get(e, "org_name")), "ACME Foods");
  assert_int_equal(json_integer_value(json_object_get(e, "height")), 7);
  /* the entry passes the shape check inside a publication */
  json_t *body = json_pack("{s:s, s:[O]}", "product", ITEM, "events", e);
  assert_int_equal(trace_publication_check(body, &rej), HANSE_OK);
  json_decref(body);
  json_decref(e);
  json_decref(name);
  json_decref(rec);
  json_decref(policy);
}

static void test_entry_refusals(void **state) {
  (void)state;
  json_t *policy = trace_publication_policy(NULL), *e = NULL;
  hanse_reject rej;
  json_t *rec = record("transaction", 0);
  hanse_reject_clear(&rej);
  assert_int_equal(trace_publication_entry(rec, policy, NULL, &e, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "trace.not_publishable");
  assert_int_equal(rej.status, 403);
  assert_null(e);
  json_decref(rec);
  rec = record("production", 1);
  hanse_reject_clear(&rej);
  assert_int_equal(trace_publication_entry(rec, policy, NULL, &e, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "trace.declared");
  json_decref(rec);
  json_decref(policy);
}

/* The body of a good publication with one field replaced (NULL: removed). */
static int check_with(const char *field, json_t *value) {
  json_t *rec = record("production", 0), *policy = trace_publication_policy(NULL), *e = NULL;
  hanse_reject rej;
  hanse_reject_clear(&rej);
  assert_int_equal(trace_publication_entry(rec, policy, NULL, &e, &rej), HANSE_OK);
  if (value) json_object_set_new(e, field, value);
  else json_object_del(e, field);
  json_t *body = json_pack("{s:s, s:[o]}", "product", ITEM, "events", e);
  int rc = trace_publication_check(body, &rej);
  if (rc != HANSE_OK) assert_string_equal(rej.code, "trace.bad_publication");
  json_decref(body);
  json_decref(rec);
  json_decref(policy);
  return rc;
}

static void test_publication_shapes(void **state) {
  (void)state;
  assert_int_equal(check_with("org", json_null()), HANSE_OK);
  assert_int_equal(check_with("org", json_string("a/b")), HANSE_ERR(INVALID)); /* a key part */
  assert_int_equal(check_with("tx", json_string("xyz")), HANSE_ERR(INVALID));
  assert_int_equal(check_with("height", json_integer(0)), HANSE_ERR(INVALID));
  assert_int_equal(check_with("class", json_string("secret")), HANSE_ERR(INVALID));
  assert_int_equal(check_with("eventID", json_string("urn:uuid:2")), HANSE_ERR(INVALID));
  assert_int_equal(check_with("event", json_string("not json")), HANSE_ERR(INVALID));
  assert_int_equal(check_with("extra", json_true()), HANSE_ERR(INVALID));
  assert_int_equal(check_with("signer", NULL), HANSE_ERR(INVALID));
  hanse_reject rej;
  hanse_reject_clear(&rej);
  json_t *b = json_pack("{s:s, s:[]}", "product", ITEM, "events");
  assert_int_equal(trace_publication_check(b, &rej), HANSE_ERR(INVALID)); /* empty */
  json_decref(b);
  b = json_pack("{s:s, s:[]}", "product", "urn:epc:id:sgtin:4012345.011111.987", "events");
  assert_int_equal(trace_publication_check(b, &rej), HANSE_ERR(INVALID)); /* not canonical */
  json_decref(b);
  b = json_pack("{s:s, s:s, s:[]}", "product", ITEM, "buyer", "AA", "events");
  assert_int_equal(trace_publication_check(b, &rej), HANSE_ERR(INVALID));
  json_decref(b);
  /* one eventID twice */
  json_t *rec = record("production", 0), *policy = trace_publication_policy(NULL), *e = NULL;
  assert_int_equal(trace_publication_entry(rec, policy, NULL, &e, &rej), HANSE_OK);
  b = json_pack("{s:s, s:[O,O]}", "product", ITEM, "events", e, e);
  assert_int_equal(trace_publication_check(b, &rej), HANSE_ERR(INVALID));
  assert_non_null(strstr(rej.message, "repeats"));
  json_decref(b);
  json_decref(e);
  json_decref(rec);
  json_decref(policy);
}

static void test_complaint_shapes(void **state) {
  (void)state;
  hanse_reject rej;
  hanse_reject_clear(&rej);
  json_t *c = json_pack("{s:s, s:s, s:s, s:s}", "product", ITEM, "kind", "complaint",
                        "enterprise", "acme", "text", "broken");
  assert_int_equal(trace_complaint_check("complain", c, &rej), HANSE_OK);
  json_object_set_new(c, "kind", json_string("refund"));
  assert_int_equal(trace_complaint_check("complain", c, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "trace.bad_complaint");
  json_object_set_new(c, "kind", json_string("rectification"));
  char *big = malloc(TRACE_TEXT_MAX + 2);
  memset(big, 'x', TRACE_TEXT_MAX + 1);
  big[TRACE_TEXT_MAX + 1] = 0;
  json_object_set_new(c, "text", json_string(big));
  assert_int_equal(trace_complaint_check("complain", c, &rej), HANSE_ERR(INVALID));
  big[TRACE_TEXT_MAX] = 0;
  json_object_set_new(c, "text", json_string(big));
  assert_int_equal(trace_complaint_check("complain", c, &rej), HANSE_OK);
  free(big);
  json_decref(c);
  json_t *a = json_pack("{s:s, s:s}", "complaint", HEX_A, "text", "we fix it");
  assert_int_equal(trace_complaint_check("answer", a, &rej), HANSE_OK);
  json_object_set_new(a, "status", json_string("ignored"));
  assert_int_equal(trace_complaint_check("answer", a, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "trace.bad_answer");
  json_decref(a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_policy_defaults_and_genesis),
      cmocka_unit_test(test_entry_screens_in_order),
      cmocka_unit_test(test_entry_refusals),
      cmocka_unit_test(test_publication_shapes),
      cmocka_unit_test(test_complaint_shapes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
