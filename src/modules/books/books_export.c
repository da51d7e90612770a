/*
 * books/books_export.c -- an owner's books as an hledger journal.
 *
 * The books already use hledger's account names, so the export is a
 * transcription that `hledger check --strict` accepts (every account and
 * commodity declared) and whose balances equal Hanse's own reports
 * (tests/integration/test_books_hledger.c checks both):
 *
 *   commodity 1000.00 EUR                 one per asset, its decimals
 *   commodity 1000. JPY                   (hledger wants the point even
 *   commodity 1000.000000 "EURB2"          with none; a symbol that is not
 *                                          all letters is quoted)
 *
 *   account assets:cash  ; type: A        every chart account, sorted,
 *   account revenue:sales  ; type: R      with its hledger type
 *
 *   2024-05-01 (12) org2 | payment inv-1  date (UTC) of the block time,
 *       ; tx:<hex>, by:<hex>, role:payee   code = seq, payee = the
 *       assets:cash  12.34 EUR             counterparty, note = type and
 *       revenue:sales  -12.34 EUR          ref; tags tx, by, role and
 *                                          reverses; debits positive,
 *                                          credits negative
 *
 * Amounts are exact: the minor units printed with the point placed by
 * counting digits (books_sum_text), never through a double. Free text
 * (ref, counterparty, memo) is written with ';' '|' and control
 * characters replaced, so it cannot start a comment, split the
 * description again or break a line.
 */
#include <stdio.h>
#include <string.h>

#include "modules/books/books_report.h"

int books_currency_decimals(const char *code) {
  if (code == NULL || strlen(code) != 3) return -1;
  for (int i = 0; i < 3; i++)
    if (code[i] < 'A' || code[i] > 'Z') return -1;
  return strcmp(code, "JPY") == 0 || strcmp(code, "KRW") == 0 ? 0 : 2;
}

static void put(hanse_buf *out, const char *s) { hanse_buf_put(out, s, strlen(s)); }

/* Free text made safe for a description: no comment, no second '|', one
 * line. */
static void put_text(hanse_buf *out, const char *s) {
  for (; *s; s++) {
    char c = *s;
    if ((unsigned char)c < 0x20 || c == 0x7f) c = ' ';
    else if (c == ';') c = ',';
    else if (c == '|') c = '/';
    hanse_buf_put(out, &c, 1);
  }
}

/* A commodity symbol: bare when all letters, else in double quotes (asset
 * codes have no quote characters). */
static void put_symbol(hanse_buf *out, const char *asset) {
  int letters = asset[0] != 0;
  for (const char *p = asset; *p; p++)
    letters &= (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z');
  if (!letters) put(out, "\"");
  put(out, asset);
  if (!letters) put(out, "\"");
}

static int decimals_of(json_t *decimals, const char *asset) {
  json_int_t d = json_integer_value(json_object_get(decimals, asset));
  return d < 0 ? 0 : d > BOOKS_DECIMALS_MAX ? BOOKS_DECIMALS_MAX : (int)d;
}

/* Directives: commodities of the entries, accounts of the chart and the
 * entries. Both sets are collected sorted in tallies (no sums needed). */
static int directives(json_t *entries, json_t *accounts, json_t *decimals, hanse_buf *out) {
  books_tally assets, names;
  books_tally_init(&assets);
  books_tally_init(&names);
  int rc = HANSE_OK;
  size_t i, k;
  json_t *e, *line;
  json_array_foreach(accounts, i, e) {
    const char *name = json_string_value(e);
    if (name && books_tally_row_get(&names, "", name) == NULL) rc = HANSE_ERR(NOMEM);
  }
  json_array_foreach(entries, i, e) {
    json_array_foreach(json_object_get(e, "lines"), k, line) {
      const char *account, *asset;
      uint64_t d, c;
      if (books_line_get(line, &account, &asset, &d, &c) != HANSE_OK) continue; /* checked */
      if (books_tally_row_get(&names, "", account) == NULL ||
          books_tally_row_get(&assets, asset, "") == NULL)
        rc = HANSE_ERR(NOMEM);
    }
  }
  for (i = 0; rc == HANSE_OK && i < assets.n; i++) {
    int dec = decimals_of(decimals, assets.rows[i].asset);
    put(out, "commodity 1000.");
    for (int z = 0; z < dec; z++) put(out, "0");
    put(out, " ");
    put_symbol(out, assets.rows[i].asset);
    put(out, "\n");
  }
  if (assets.n) put(out, "\n");
  for (i = 0; rc == HANSE_OK && i < names.n; i++) {
    char type = books_account_letter(names.rows[i].account);
    char tag[16] = "";
    if (type) snprintf(tag, sizeof tag, "  ; type: %c", type);
    put(out, "account ");
    put(out, names.rows[i].account);
    put(out, tag);
    put(out, "\n");
  }
  if (names.n) put(out, "\n");
  books_tally_free(&assets);
  books_tally_free(&names);
  return rc;
}

/* A tag "name:value" after the first (", " between them). */
static void put_tag(hanse_buf *out, int *first, const char *name, const char *value) {
  put(out, *first ? "    ; " : ", ");
  *first = 0;
  put(out, name);
  put(out, ":");
  put_text(out, value);
}

static void transaction(json_t *e, json_t *decimals, uint64_t time_ms, uint64_t seq,
                        hanse_buf *out) {
  char head[64], date[11];
  books_date_utc(date, time_ms);
  snprintf(head, sizeof head, "%s (%llu) ", date, (unsigned long long)seq);
  put(out, head);
  const char *cp = json_string_value(json_object_get(e, "counterparty"));
  const char *type = json_string_value(json_object_get(e, "type"));
  const char *ref = json_string_value(json_object_get(e, "ref"));
  const char *memo = json_string_value(json_object_get(e, "memo"));
  if (cp) {
    put_text(out, cp);
    put(out, " | ");
  }
  put_text(out, type ? type : "entry");
  if (ref) {
    put(out, " ");
    put_text(out, ref);
  }
  if (memo) {
    put(out, " - ");
    put_text(out, memo);
  }
  put(out, "\n");
  int first = 1;
  static const char *const tags[] = {"tx", "by", "role", NULL};
  for (size_t i = 0; tags[i]; i++) {
    const char *v = json_string_value(json_object_get(e, tags[i]));
    if (v) put_tag(out, &first, tags[i], v);
  }
  uint64_t rev;
  json_t *r = json_object_get(e, "reverses");
  if (json_is_integer(r) || json_is_string(r)) {
    char n[24];
    rev = json_is_integer(r) ? (uint64_t)json_integer_value(r) : 0;
    if (json_is_string(r)) ledger_u64_parse(json_string_value(r), &rev);
    snprintf(n, sizeof n, "%llu", (unsigned long long)rev);
    put_tag(out, &first, "reverses", n);
  }
  if (!first) put(out, "\n");
  size_t i;
  json_t *line;
  json_array_foreach(json_object_get(e, "lines"), i, line) {
    const char *account, *asset;
    uint64_t d, c;
    char amount[BOOKS_SUM_TEXT_MAX];
    (void)books_line_get(line, &account, &asset, &d, &c); /* checked */
    books_sum_text(amount, d ? (books_sum)d : -(books_sum)c, decimals_of(decimals, asset));
    put(out, "    ");
    put(out, account);
    put(out, "  ");
    put(out, amount);
    put(out, " ");
    put_symbol(out, asset);
    put(out, "\n");
  }
  put(out, "\n");
}

int books_export_journal(json_t *entries, json_t *accounts, json_t *decimals, hanse_buf *out,
                         hanse_reject *rej) {
  size_t i;
  json_t *e;
  json_array_foreach(entries, i, e) {
    uint64_t t, seq;
    if (books_entry_check(e, &t, &seq, rej) != HANSE_OK) return HANSE_ERR(INTERNAL);
  }
  if (directives(entries, accounts, decimals, out) != HANSE_OK)
    return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  json_array_foreach(entries, i, e) {
    uint64_t t, seq;
    (void)books_entry_check(e, &t, &seq, rej);
    transaction(e, decimals, t, seq, out);
  }
  if (hanse_buf_status(out) != HANSE_OK) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  return HANSE_OK;
}
