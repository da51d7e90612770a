/*
 * books/books_report.h -- the books' reports as pure functions over
 * entries, and the arithmetic they share.
 *
 * books_report.c reads an owner's entries (out of the chunks
 * books/je/<owner>/..., as books.h documents them) and hands them, as a JSON
 * array in seq order, to the functions below, which read nothing else:
 * so each report is tested on hand-made entries without a chain
 * (tests/unit/modules/test_books_report.c).
 *
 * Files: books_tally.c (entry lines, sums per account and asset, amounts
 * and dates as text), books_statement.c (general ledger, income
 * statement, balance sheet), books_reconcile.c (two parties' entries
 * about each other), books_export.c (the hledger journal), books_report.c
 * (query parameters and state reading).
 *
 * Conventions: arrays and strings passed in are borrowed; *out receives a
 * new reference (or buffer contents) the caller owns, only on HANSE_OK.
 * Money is integers only: a line's amount is a u64 in the asset's
 * smallest unit, a sum of them a books_sum (128-bit: at most
 * BOOKS_REPORT_ENTRIES_MAX entries of at most BOOKS_LINES_MAX lines
 * of at most 2^64 cannot overflow it). Reports print amounts as decimal
 * strings of minor units, negative with a leading '-'. A stored entry
 * that does not have the documented shape is a bug in the books: the
 * functions return HANSE_ERR(INTERNAL) with rej filled.
 *
 * Periods: `from` inclusive, `to` exclusive, in block time ms (query
 * parameters as books_time_param reads them); an absent bound is 0 or
 * BOOKS_TIME_END.
 */
#ifndef HANSE_MODULE_BOOKS_REPORT_H
#define HANSE_MODULE_BOOKS_REPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "modules/books/books.h"

/* Entries one report reads at most: a report is computed whole in one
 * query, so its memory is bounded here (100 000 entries of a few hundred
 * bytes each: tens of MB); an owner with more asks for shorter periods
 * (books.too_many_entries, 413). */
#define BOOKS_REPORT_ENTRIES_MAX 100000
#define BOOKS_TIME_END UINT64_MAX
/* Decimals an export prints at most (the asset module's limit). */
#define BOOKS_DECIMALS_MAX HANSE_ASSET_DECIMALS_MAX
/* A books_sum as text: sign, 39 digits, point, NUL. */
#define BOOKS_SUM_TEXT_MAX 48

_Static_assert((unsigned long long)BOOKS_REPORT_ENTRIES_MAX * BOOKS_LINES_MAX <
                   (1ull << 62),
               "entries * lines * 2^64 fits a signed 128-bit sum");

typedef __int128 books_sum;

/* ---- books_tally.c ---- */

/* One line of an entry: its account, asset (borrowed from line) and
 * amount on its side (the other is 0). HANSE_ERR(INTERNAL) if malformed. */
int books_line_get(json_t *line, const char **account, const char **asset, uint64_t *debit,
                   uint64_t *credit);
/* An entry's time, seq, and whether its shape holds (lines an array of
 * 1..BOOKS_LINES_MAX well-formed lines): HANSE_OK or
 * HANSE_ERR(INTERNAL) with rej naming the entry. */
int books_entry_check(json_t *entry, uint64_t *time_ms, uint64_t *seq, hanse_reject *rej);

/* Sums of debits and credits per (asset, account), kept sorted by asset
 * then account (strcmp) so reports come out in a stable order. Names are
 * borrowed from the entries, which must outlive the tally. */
typedef struct books_tally_row {
  const char *asset;
  const char *account;
  books_sum debits, credits;
} books_tally_row;

typedef struct books_tally {
  books_tally_row *rows; /* owned */
  size_t n, cap;
} books_tally;

void books_tally_init(books_tally *t);
void books_tally_free(books_tally *t);
/* The row of (asset, account), created with zero sums when new; NULL
 * when out of memory. */
books_tally_row *books_tally_row_get(books_tally *t, const char *asset, const char *account);
/* Add every line of entry to its row. */
int books_tally_entry(books_tally *t, json_t *entry);

/* v as text with `decimals` digits after a point (0: none): 123456, 2 ->
 * "1234.56", -5, 2 -> "-0.05". out has BOOKS_SUM_TEXT_MAX bytes. */
void books_sum_text(char out[BOOKS_SUM_TEXT_MAX], books_sum v, int decimals);
/* The same as a new JSON string (minor units: decimals 0). */
json_t *books_sum_json(books_sum v);

/* The UTC date "YYYY-MM-DD" of a time in ms. */
void books_date_utc(char out[11], uint64_t time_ms);
/* An account's type (books_account_type) as hledger's type letter: A, L,
 * E, R, X; 0 when the name is not an account name. */
char books_account_letter(const char *account);

/* ---- books_statement.c ----
 * entries: one owner's entries in seq order (those with time >= to may
 * be included; they are skipped). */

/* One account's general ledger per asset:
 *   {"account","assets":[{"asset","opening","lines":[{"seq","time",
 *    "type"?,"ref"?,"counterparty"?,"reverses"?,"debit"|"credit",
 *    "balance"}...],"debits","credits","closing"}...]}
 * opening: debits - credits of entries before from; balance: running
 * debits - credits; an asset the account never used is not listed. */
int books_report_ledger(json_t *entries, const char *account, uint64_t from, uint64_t to,
                        json_t **out, hanse_reject *rej);

/* Income statement of [from, to) per asset:
 *   {"assets":[{"asset","revenue":[{"account","amount"}],
 *    "expenses":[{"account","amount"}],"total_revenue","total_expenses",
 *    "net_income"}...]}
 * revenue amounts are credits - debits, expenses debits - credits. */
int books_report_income(json_t *entries, uint64_t from, uint64_t to, json_t **out,
                        hanse_reject *rej);

/* Balance sheet of the entries before `at` per asset:
 *   {"balanced":bool,"assets":[{"asset","assets":[{"account","amount"}],
 *    "liabilities":[...],"equity":[...],"earnings","total_assets",
 *    "total_liabilities","total_equity","balanced"}...]}
 * assets debits - credits, liabilities and equity credits - debits;
 * earnings: revenue - expenses not closed into equity, counted in
 * total_equity. balanced: total_assets == total_liabilities +
 * total_equity, computed per asset (it holds when every entry balances
 * per asset, which this checks rather than assumes). */
int books_report_balance_sheet(json_t *entries, uint64_t at, json_t **out, hanse_reject *rej);

/* ---- books_reconcile.c ----
 * a_entries: a's entries whose counterparty is b, b_entries b's whose
 * counterparty is a, each in seq order, within the period. An entry is
 * reversed when it has a "reversed_by" member (the caller adds it from
 * books/rev/) or an entry of the same list reverses it; reversing
 * entries themselves are not matched (their originals carry the fact).
 * Two entries match when tx, ref and type are equal and their roles are
 * opposite. Result:
 *   {"a","b","agree":bool,
 *    "matched":[{"tx","ref"?,"type","a":{"seq","role","amounts":{asset:
 *      "n"},"reversed"},"b":{...},"agree"}],
 *    "differences":[{"kind":"only_a"|"only_b"|"amounts_differ"|
 *      "reversed_one_side","tx","ref"?,"type","a"?:{...},"b"?:{...}}],
 *    "one_sided":[rows like differences' only_a/only_b]}
 * amounts: the entry's debits per asset (= its credits: it balances).
 * Partners in different assets (a converted payment) match with
 * "converted":true; unmatched conversion and loyalty entries, booked in
 * one party's books by design, go to one_sided, not differences. */
int books_report_reconcile(json_t *a_entries, json_t *b_entries, const char *a, const char *b,
                           json_t **out, hanse_reject *rej);

/* ---- books_export.c ---- */

/* The decimals a currency code is displayed with (2; JPY and KRW 0), or
 * -1 when code is not three capital letters. */
int books_currency_decimals(const char *code);

/* The hledger journal of `entries` (seq order, all exported): commodity
 * directives for every asset the entries use, with decimals[asset] (a
 * JSON object asset -> integer 0..BOOKS_DECIMALS_MAX; 0 when missing);
 * account directives with "; type: A|L|E|R|X" for every account named in
 * `accounts` (an array of names) or used by an entry, sorted; then one
 * transaction per entry (FORMATS.md "hledger export"). The text is
 * appended to out. */
int books_export_journal(json_t *entries, json_t *accounts, json_t *decimals, hanse_buf *out,
                         hanse_reject *rej);

#endif
