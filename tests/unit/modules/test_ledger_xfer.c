/*
 * test_ledger_xfer.c -- the transfer record's fixed-layout row
 * (ledger_xfer.c): the row of a record prints and parses back to the same
 * bytes and the same JSON object (members, types, their sorted order); a
 * text that is not exactly a row (a field missing or extra, a double or
 * trailing space, a leading zero, a number out of the JSON record's
 * range, an unknown status or flag, a tx that is not lowercase hex, a
 * "-" where a value is required) is refused, so a row has one spelling;
 * a record the row cannot hold (a confidential amount, a ref "-", an
 * unknown member, a false flag kept) stays JSON, and the decoder takes
 * both forms by the first byte.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/ledger/ledger.h"

#define TX "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76"

/* A posted two-phase transfer with every field there is. */
static const char *const full_json =
    "{\"amount\":9223372036854775807,\"asset\":\"EUR\",\"business\":\"fee\",\"code\":65535,"
    "\"controller\":\"order\",\"credit\":\"b:2\",\"debit\":\"a.1\",\"expires_at\":"
    "9223372036854775807,\"height\":7,\"id\":\"t-1\",\"linked\":true,\"pending\":true,"
    "\"posted_amount\":\"18446744073709551615\",\"ref\":\"o:9\",\"resolved_at\":8,"
    "\"status\":\"posted\",\"timeout\":4294967295,\"tx\":\"" TX "\"}";
static const char *const full_row =
    "t-1 a.1 b:2 9223372036854775807 EUR posted pl 65535 4294967295 9223372036854775807 fee "
    "o:9 order " TX " 7 18446744073709551615 8";

/* A plain single-phase transfer: the common row. */
static const char *const plain_json =
    "{\"amount\":5,\"asset\":\"EUR\",\"credit\":\"y\",\"debit\":\"x\",\"height\":0,\"id\":\"t0\","
    "\"status\":\"posted\",\"tx\":\"" TX "\"}";
static const char *const plain_row = "t0 x y 5 EUR posted - - - - - - - " TX " 0 - -";

static char *dump(json_t *o) { return json_dumps(o, JSON_COMPACT); /* insertion order */ }

/* json text -> row -> the same bytes of JSON, and row -> parse -> row. */
static void round_trip(const char *json, const char *row) {
  json_t *rec = json_loads(json, 0, NULL);
  assert_non_null(rec);
  char text[LEDGER_XFER_TEXT_MAX];
  size_t n = 0;
  assert_true(ledger_xfer_encode(rec, text, &n));
  assert_int_equal(n, strlen(row));
  assert_string_equal(text, row);
  ledger_xfer x;
  assert_true(ledger_xfer_parse(&x, text, n));
  char again[LEDGER_XFER_TEXT_MAX];
  assert_int_equal(ledger_xfer_format(again, &x), n);
  assert_string_equal(again, row);
  json_t *back = ledger_xfer_decode(text, n);
  assert_non_null(back);
  assert_true(json_equal(back, rec));
  char *d = dump(back); /* sorted, as the JSON record's dump was */
  assert_string_equal(d, json);
  free(d);
  json_decref(back);
  json_decref(rec);
}

static void test_round_trip(void **state) {
  (void)state;
  round_trip(full_json, full_row);
  round_trip(plain_json, plain_row);
  /* a pending one with a timeout, and a linked one */
  round_trip("{\"amount\":1,\"asset\":\"token:X\",\"credit\":\"y\",\"debit\":\"x\",\"expires_at\":"
             "12000,\"height\":3,\"id\":\"p\",\"pending\":true,\"status\":\"pending\","
             "\"timeout\":10,\"tx\":\"" TX "\"}",
             "p x y 1 token:X pending p - 10 12000 - - - " TX " 3 - -");
  round_trip("{\"amount\":2,\"asset\":\"EUR\",\"code\":1,\"credit\":\"y\",\"debit\":\"x\","
             "\"height\":3,\"id\":\"-\",\"linked\":true,\"status\":\"posted\",\"tx\":\"" TX "\"}",
             "- x y 2 EUR posted l 1 - - - - - " TX " 3 - -");
}

static void test_strict(void **state) {
  (void)state;
  ledger_xfer x;
  const char *bad[] = {
      "",
      "t0 x y 5 EUR posted - - - - - - - " TX " 0 -",         /* a field short */
      "t0 x y 5 EUR posted - - - - - - - " TX " 0 - - -",     /* one too many */
      "t0 x y 5 EUR posted - - - - - - - " TX " 0 - - ",      /* trailing space */
      " t0 x y 5 EUR posted - - - - - - - " TX " 0 - -",      /* leading space */
      "t0 x  y 5 EUR posted - - - - - - - " TX " 0 - -",      /* double space */
      "t0 x y 05 EUR posted - - - - - - - " TX " 0 - -",      /* leading zero */
      "t0 x y 0 EUR posted - - - - - - - " TX " 0 - -",       /* amount 0 */
      "t0 x y - EUR posted - - - - - - - " TX " 0 - -",       /* amount absent */
      "t0 x y 9223372036854775808 EUR posted - - - - - - - " TX " 0 - -", /* > 2^63-1 */
      "t0 x y 5 EUR posted - 0 - - - - - " TX " 0 - -",       /* code 0 */
      "t0 x y 5 EUR posted - 65536 - - - - - " TX " 0 - -",   /* code too big */
      "t0 x y 5 EUR posted p - 4294967296 - - - - " TX " 0 - -", /* timeout too big */
      "t0 x y 5 EUR posted - - - 9223372036854775808 - - - " TX " 0 - -",
      "t0 x y 5 EUR posted - - - - - - - " TX " 0 18446744073709551616 -",
      "t0 x y 5 EUR posted - - - - - - - " TX " - - -",       /* height absent */
      "t0 x y 5 EUR done - - - - - - - " TX " 0 - -",         /* unknown status */
      "t0 x y 5 EUR posted lp - - - - - - " TX " 0 - -",      /* flags out of order */
      "t0 x y 5 EUR posted x - - - - - - " TX " 0 - -",
      "t0 x y 5 EUR posted pp - - - - - - " TX " 0 - -",
      "t0 x y 5 - posted - - - - - - - " TX " 0 - -",         /* asset "-" */
      "t0 x y 5 EUR posted - - - - - - - E2F2AE0A6ABC4E71A884A961C500515F58E30B6AA582DD8DB6A65945E08D2D76 0 - -",
      "t0 x y 5 EUR posted - - - - - - - abc 0 - -",          /* tx not 64 hex */
      "t0 x y 5 EUR posted - - - - - a/b - " TX " 0 - -",     /* ref not an id */
      "t/0 x y 5 EUR posted - - - - - - - " TX " 0 - -",      /* id not an id */
      "{\"id\":\"t0\"}",                                      /* JSON is not a row */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (ledger_xfer_parse(&x, bad[i], strlen(bad[i]))) fail_msg("parsed \"%s\"", bad[i]);
  /* the length bounds the parse, not a NUL */
  char longer[LEDGER_XFER_TEXT_MAX + 8];
  snprintf(longer, sizeof longer, "%s tail", plain_row);
  assert_true(ledger_xfer_parse(&x, longer, strlen(plain_row)));
  assert_false(ledger_xfer_parse(&x, longer, strlen(longer)));
}

/* Records the row cannot hold stay JSON, and decode as JSON. */
static void test_stays_json(void **state) {
  (void)state;
  const char *keep[] = {
      /* confidential: the amount is an object */
      "{\"amount\":{\"commitment\":\"" TX "\"},\"asset\":\"EUR\",\"credit\":\"y\",\"debit\":\"x\","
      "\"height\":0,\"id\":\"c\",\"status\":\"posted\",\"tx\":\"" TX "\"}",
      /* a ref "-" would read as none */
      "{\"amount\":5,\"asset\":\"EUR\",\"credit\":\"y\",\"debit\":\"x\",\"height\":0,\"id\":\"t\","
      "\"ref\":\"-\",\"status\":\"posted\",\"tx\":\"" TX "\"}",
      /* a member the row has no place for */
      "{\"amount\":5,\"asset\":\"EUR\",\"credit\":\"y\",\"debit\":\"x\",\"height\":0,\"id\":\"t\","
      "\"memo\":\"hi\",\"status\":\"posted\",\"tx\":\"" TX "\"}",
      /* a false flag (records leave them out) */
      "{\"amount\":5,\"asset\":\"EUR\",\"credit\":\"y\",\"debit\":\"x\",\"height\":0,\"id\":\"t\","
      "\"pending\":false,\"status\":\"posted\",\"tx\":\"" TX "\"}",
      /* a posted amount spelt otherwise */
      "{\"amount\":5,\"asset\":\"EUR\",\"credit\":\"y\",\"debit\":\"x\",\"height\":0,\"id\":\"t\","
      "\"posted_amount\":\"05\",\"status\":\"posted\",\"tx\":\"" TX "\"}",
      /* no tx */
      "{\"amount\":5,\"asset\":\"EUR\",\"credit\":\"y\",\"debit\":\"x\",\"height\":0,\"id\":\"t\","
      "\"status\":\"posted\"}",
  };
  for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
    json_t *rec = json_loads(keep[i], 0, NULL);
    assert_non_null(rec);
    char text[LEDGER_XFER_TEXT_MAX];
    size_t n = 0;
    if (ledger_xfer_encode(rec, text, &n)) fail_msg("made a row of %s", keep[i]);
    json_t *back = ledger_xfer_decode(keep[i], strlen(keep[i]));
    assert_non_null(back);
    assert_true(json_equal(back, rec));
    json_decref(back);
    json_decref(rec);
  }
  assert_null(ledger_xfer_decode("{not json", 9));
  assert_null(ledger_xfer_decode("", 0));
  assert_true(ledger_key_is_xfer("ledger/xfer/t0"));
  assert_false(ledger_key_is_xfer("ledger/exp/t0"));
}

/* The request members a record keeps (ledger_transfer.c's list). */
static const char *const kept[] = {"id",      "debit",   "credit", "amount", "code", "pending",
                                   "timeout", "linked",  "business", "ref",  NULL};

/* A request's row made directly (ledger_xfer_from_request, the ledger's
 * additions, ledger_xfer_valid) is the row of the record made the JSON
 * way -- the kept members without false flags, plus the ledger's --, and
 * a request whose record stays JSON makes no row. */
static void test_from_request(void **state) {
  (void)state;
  const struct {
    const char *request;
    int row; /* the record is a row */
  } cases[] = {
      {"{\"id\":\"t0\",\"debit\":\"x\",\"credit\":\"y\",\"amount\":5}", 1},
      {"{\"id\":\"t1\",\"debit\":\"x\",\"credit\":\"y\",\"amount\":5,\"pending\":false,"
       "\"linked\":false,\"memo\":\"not kept\"}",
       1},
      {"{\"id\":\"t-2\",\"debit\":\"a.1\",\"credit\":\"b:2\",\"amount\":9,\"code\":7,"
       "\"pending\":true,\"timeout\":60,\"linked\":true,\"business\":\"fee\",\"ref\":\"o:9\"}",
       1},
      {"{\"id\":\"t3\",\"debit\":\"x\",\"credit\":\"y\",\"amount\":5,\"ref\":\"-\"}", 0},
      {"{\"id\":\"t4\",\"debit\":\"x\",\"credit\":\"y\",\"amount\":5,\"pending\":1}", 0},
      {"{\"id\":\"t5\",\"debit\":\"x\",\"credit\":\"y\",\"amount\":{\"c\":1}}", 0},
      {"{\"id\":\"t6\",\"debit\":\"x\",\"credit\":\"y\",\"amount\":5,\"business\":\"\"}", 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    json_t *t = json_loads(cases[i].request, 0, NULL);
    assert_non_null(t);
    int pending = json_is_true(json_object_get(t, "pending"));
    /* the JSON way */
    json_t *rec = json_object();
    for (size_t f = 0; kept[f]; f++) {
      json_t *v = json_object_get(t, kept[f]);
      if (v && !json_is_false(v)) json_object_set(rec, kept[f], v);
    }
    json_object_set_new(rec, "asset", json_string("EUR"));
    json_object_set_new(rec, "status", json_string(pending ? "pending" : "posted"));
    json_object_set_new(rec, "tx", json_string(TX));
    json_object_set_new(rec, "height", json_integer(12));
    json_object_set_new(rec, "controller", json_string("order"));
    if (json_object_get(t, "timeout")) json_object_set_new(rec, "expires_at", json_integer(99));
    char want[LEDGER_XFER_TEXT_MAX], got[LEDGER_XFER_TEXT_MAX];
    size_t wn = 0;
    int want_row = ledger_xfer_encode(rec, want, &wn);
    assert_int_equal(want_row, cases[i].row);
    /* directly */
    ledger_xfer x;
    int row = ledger_xfer_from_request(&x, t, kept);
    if (row) {
      snprintf(x.asset, sizeof x.asset, "EUR");
      snprintf(x.controller, sizeof x.controller, "order");
      snprintf(x.tx, sizeof x.tx, "%s", TX);
      x.status = pending ? "pending" : "posted";
      x.height = 12;
      if (json_object_get(t, "timeout")) {
        x.expires_at = 99;
        x.has |= LEDGER_XFER_EXPIRES;
      }
      row = ledger_xfer_valid(&x);
    }
    if (row != cases[i].row) fail_msg("case %zu: row %d", i, row);
    if (row) {
      size_t n = ledger_xfer_format(got, &x);
      assert_int_equal(n, wn);
      assert_string_equal(got, want);
    }
    json_decref(rec);
    json_decref(t);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_strict),
      cmocka_unit_test(test_stays_json),
      cmocka_unit_test(test_from_request),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
