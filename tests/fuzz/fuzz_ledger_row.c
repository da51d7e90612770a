/*
 * fuzz_ledger_row.c -- the ledger's fixed-layout rows: ledger_sums_parse
 * (ledger/bal/, ledger/totals/) and ledger_acct_parse (ledger/acct/).
 *
 * The first byte picks the decoder (even: a balance row, odd: an account
 * record), the rest is the row. A row has one spelling: an accepted row
 * printed again (ledger_sums_format, ledger_acct_format) must give exactly
 * the input bytes, so no two stored texts mean the same balances.
 */
#include <string.h>

#include "fuzz.h"
#include "modules/ledger/ledger.h"

FUZZ_DEFAULT_INIT

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const char *text = (const char *)data + 1;
  size_t n = size - 1;
  if (data[0] % 2 == 0) {
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
