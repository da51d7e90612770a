/*
 * books/books_tally.c -- the arithmetic every report shares: reading an
 * entry's lines, summing them per (asset, account), printing sums and
 * dates.
 *
 * Money never passes through a double. A line's amount is a decimal
 * string of a u64 (ledger_u64_parse); sums are books_sum (128-bit, see
 * books_report.h for why they cannot overflow); text is produced digit by
 * digit, the decimal point placed by counting, so 2^64-1 with 18 decimals
 * prints exactly.
 *
 * Dates are UTC and computed with integer civil-calendar arithmetic
 * (Howard Hinnant's civil_from_days) rather than gmtime, so they do not
 * depend on the process's time zone and are the same on every node.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/books/books_report.h"

int books_line_get(json_t *line, const char **account, const char **asset, uint64_t *debit,
                   uint64_t *credit) {
  *account = json_string_value(json_object_get(line, "account"));
  *asset = json_string_value(json_object_get(line, "asset"));
  const char *d = json_string_value(json_object_get(line, "debit"));
  const char *c = json_string_value(json_object_get(line, "credit"));
  *debit = *credit = 0;
  if (*account == NULL || *asset == NULL || (d == NULL) == (c == NULL))
    return HANSE_ERR(INTERNAL);
  if (d ? !ledger_u64_parse(d, debit) : !ledger_u64_parse(c, credit)) return HANSE_ERR(INTERNAL);
  return HANSE_OK;
}

/* A non-negative integer member, or a decimal string of one (seq). */
static int u64_member(json_t *o, const char *name, uint64_t *v) {
  json_t *m = json_object_get(o, name);
  if (json_is_integer(m) && json_integer_value(m) >= 0) {
    *v = (uint64_t)json_integer_value(m);
    return 1;
  }
  return json_is_string(m) && ledger_u64_parse(json_string_value(m), v);
}

int books_entry_check(json_t *entry, uint64_t *time_ms, uint64_t *seq, hanse_reject *rej) {
  json_t *lines = json_object_get(entry, "lines");
  size_t n = json_array_size(lines);
  int ok = json_is_object(entry) && u64_member(entry, "time", time_ms) &&
           u64_member(entry, "seq", seq) && n >= 1 && n <= BOOKS_LINES_MAX;
  for (size_t i = 0; ok && i < n; i++) {
    const char *account, *asset;
    uint64_t d, c;
    ok = books_line_get(json_array_get(lines, i), &account, &asset, &d, &c) == HANSE_OK;
  }
  if (ok) return HANSE_OK;
  const char *owner = json_string_value(json_object_get(entry, "owner"));
  return hanse_reject_set(rej, HANSE_ERR(INTERNAL), "malformed books entry of '%s'",
                          owner ? owner : "?");
}

void books_tally_init(books_tally *t) { memset(t, 0, sizeof *t); }

void books_tally_free(books_tally *t) {
  free(t->rows);
  books_tally_init(t);
}

static int row_cmp(const books_tally_row *r, const char *asset, const char *account) {
  int c = strcmp(r->asset, asset);
  return c ? c : strcmp(r->account, account);
}

books_tally_row *books_tally_row_get(books_tally *t, const char *asset, const char *account) {
  size_t lo = 0, hi = t->n;
  while (lo < hi) { /* first row >= (asset, account) */
    size_t mid = lo + (hi - lo) / 2;
    if (row_cmp(&t->rows[mid], asset, account) < 0) lo = mid + 1;
    else hi = mid;
  }
  if (lo < t->n && row_cmp(&t->rows[lo], asset, account) == 0) return &t->rows[lo];
  if (t->n == t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 16;
    books_tally_row *r = realloc(t->rows, cap * sizeof *r);
    if (r == NULL) return NULL;
    t->rows = r;
    t->cap = cap;
  }
  memmove(&t->rows[lo + 1], &t->rows[lo], (t->n - lo) * sizeof *t->rows);
  t->n++;
  t->rows[lo] = (books_tally_row){asset, account, 0, 0};
  return &t->rows[lo];
}

int books_tally_entry(books_tally *t, json_t *entry) {
  size_t i;
  json_t *line;
  json_array_foreach(json_object_get(entry, "lines"), i, line) {
    const char *account, *asset;
    uint64_t d, c;
    if (books_line_get(line, &account, &asset, &d, &c) != HANSE_OK) return HANSE_ERR(INTERNAL);
    books_tally_row *r = books_tally_row_get(t, asset, account);
    if (r == NULL) return HANSE_ERR(NOMEM);
    r->debits += d;
    r->credits += c;
  }
  return HANSE_OK;
}

void books_sum_text(char out[BOOKS_SUM_TEXT_MAX], books_sum v, int decimals) {
  char rev[BOOKS_SUM_TEXT_MAX];
  size_t n = 0;
  int neg = v < 0;
  unsigned __int128 m = neg ? (unsigned __int128)0 - (unsigned __int128)v : (unsigned __int128)v;
  if (decimals < 0) decimals = 0;
  /* digits backwards; at least decimals + 1 of them, so "0.05" has its 0 */
  do {
    if (decimals > 0 && n == (size_t)decimals) rev[n++] = '.';
    rev[n++] = (char)('0' + (int)(m % 10));
    m /= 10;
  } while (m > 0 || n <= (size_t)decimals);
  size_t k = 0;
  if (neg) out[k++] = '-';
  while (n > 0) out[k++] = rev[--n];
  out[k] = 0;
}

json_t *books_sum_json(books_sum v) {
  char s[BOOKS_SUM_TEXT_MAX];
  books_sum_text(s, v, 0);
  return json_string(s);
}

/* Civil date of days since 1970-01-01 (Hinnant's civil_from_days). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void books_date_utc(char out[11], uint64_t time_ms) {
  int64_t y;
  unsigned m, d;
  civil_from_days((int64_t)(time_ms / 86400000u), &y, &m, &d);
  if (y > 9999) y = 9999; /* ms up to 2^64 reach year 584 million */
  snprintf(out, 11, "%04u-%02u-%02u", (unsigned)y, m % 100, d % 100);
}

char books_account_letter(const char *account) {
  static const char *const letters = "ALERX"; /* in books_account_type's order */
  static const char *const types[] = {"assets", "liabilities", "equity", "revenue", "expenses"};
  const char *type = books_account_type(account);
  for (size_t i = 0; type && i < sizeof types / sizeof types[0]; i++)
    if (strcmp(type, types[i]) == 0) return letters[i];
  return 0;
}
