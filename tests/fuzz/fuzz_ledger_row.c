/*
 * fuzz_ledger_row.c -- the ledger's fixed-layout rows: ledger_sums_parse
 * (ledger/bal/, ledger/totals/), ledger_acct_parse (ledger/acct/) and
 * ledger_xfer_parse (ledger/xfer/, with ledger_xfer_decode).
 *
 * The first byte picks the decoder (modulo 3 -- 0: a balance row, 1: an
 * account record, 2: a transfer record), the rest is the row. A row has
 * one spelling: an accepted row printed again (ledger_sums_format,
 * ledger_acct_format, ledger_xfer_format) must give exactly the input
 * bytes, so no two stored texts mean the same state. A transfer row's
 * JSON object must convert back to the same row (ledger_xfer_encode), and
 * the decoder of stored values must take any input without harm.
 */
#include <string.h>

#include "fuzz.h"
#include "modules/ledger/ledger.h"

FUZZ_DEFAULT_INIT

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const char *text = (const char *)data + 1;
  size_t n = size - 1;
  if (data[0] % 3 == 2) {
    ledger_xfer x;
    char out[LEDGER_XFER_TEXT_MAX], again[LEDGER_XFER_TEXT_MAX];
    json_decref(ledger_xfer_decode(text, n)); /* either form, or NULL */
    if (!ledger_xfer_parse(&x, text, n)) return 0;
    FUZZ_CHECK(ledger_xfer_format(out, &x) == n);
    FUZZ_CHECK(memcmp(out, text, n) == 0);
    json_t *j = ledger_xfer_json(&x);
    size_t m = 0;
    FUZZ_CHECK(j != NULL && ledger_xfer_encode(j, again, &m));
    FUZZ_CHECK(m == n && memcmp(again, text, n) == 0);
    json_decref(j);
    return 0;
  }
  if (data[0] % 3 == 0) {
    ledger_sums s;
    char out[LEDGER_SUMS_TEXT_MAX];
    if (!ledger_sums_parse(&s, text, n)) return 0;
    FUZZ_CHECK(ledger_sums_format(out, &s) == n);
    FUZZ_CHECK(memcmp(out, text, n) == 0);
    return 0;
  }
  ledger_acct a;
  char out[LEDGER_ACCT_TEXT_MAX];
  if (!ledger_acct_parse(&a, "fuzz", text, n)) return 0;
  FUZZ_CHECK(ledger_acct_format(out, &a) == n);
  FUZZ_CHECK(memcmp(out, text, n) == 0);
  json_t *j = ledger_acct_json(&a);
  FUZZ_CHECK(j != NULL);
  json_decref(j);
  return 0;
}
