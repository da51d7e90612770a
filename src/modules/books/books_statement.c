/*
 * books/books_statement.c -- the general ledger of one account, the
 * income statement and the balance sheet, computed from an owner's
 * entries (books_report.h states the result formats).
 *
 * All three are sums of entry lines per (asset, account) (books_tally.c)
 * over a span of block time; what differs is the span and the sign:
 *
 *   ledger         opening = lines before `from`, then each line of
 *                  [from, to) with its running balance, closing
 *   income         [from, to); revenue credits - debits, expenses
 *                  debits - credits, net income = their difference
 *   balance sheet  everything before `at`; assets debits - credits,
 *                  liabilities and equity credits - debits, and the
 *                  revenue and expenses not yet closed as "earnings" in
 *                  equity
 *
 * Nothing is assumed about balance: the balance sheet compares total
 * assets with total liabilities plus equity per asset and says whether
 * they agree. Since every entry balances per asset on its own, they
 * agree unless an entry does not -- which is the point of checking.
 */
#include <string.h>

#include "modules/books/books_report.h"

/* Entries strictly inside [from, to), after checking each one's shape. */
static int entry_in(json_t *e, uint64_t from, uint64_t to, int *in, hanse_reject *rej) {
  uint64_t t, seq;
  if (books_entry_check(e, &t, &seq, rej) != HANSE_OK) return HANSE_ERR(INTERNAL);
  *in = t >= from && t < to;
  return HANSE_OK;
}

/* Sum the lines of every entry in [from, to) into t. */
static int tally_span(books_tally *t, json_t *entries, uint64_t from, uint64_t to,
                      hanse_reject *rej) {
  size_t i;
  json_t *e;
  json_array_foreach(entries, i, e) {
    int in;
    if (entry_in(e, from, to, &in, rej) != HANSE_OK) return HANSE_ERR(INTERNAL);
    if (in && books_tally_entry(t, e) != HANSE_OK)
      return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  }
  return HANSE_OK;
}

static void set_sum(json_t *o, const char *name, books_sum v) {
  json_object_set_new(o, name, books_sum_json(v));
}

/* Copy the members an entry's line shows from the entry. */
static void copy_members(json_t *dst, json_t *entry, const char *const *names) {
  for (size_t i = 0; names[i]; i++) {
    json_t *v = json_object_get(entry, names[i]);
    if (v) json_object_set(dst, names[i], v);
  }
}

static const char *const line_members[] = {"seq",          "time",     "type", "ref",
                                           "counterparty", "reverses", "memo", NULL};

/* ---- general ledger ---- */

/* Add the lines of `account` in e to its rows of `sums`; with lists,
 * also append each line, with the running balance opening + sums, to its
 * asset's list. */
static int ledger_lines(json_t *e, const char *account, books_tally *opening,
                        books_tally *sums, json_t *lists) {
  size_t i;
  json_t *line;
  json_array_foreach(json_object_get(e, "lines"), i, line) {
    const char *acct, *asset;
    uint64_t d, c;
    (void)books_line_get(line, &acct, &asset, &d, &c); /* checked by entry_in */
    if (strcmp(acct, account) != 0) continue;
    books_tally_row *o = books_tally_row_get(opening, asset, account);
    books_tally_row *p = lists ? books_tally_row_get(sums, asset, account) : o;
    if (o == NULL || p == NULL) return HANSE_ERR(NOMEM);
    p->debits += d;
    p->credits += c;
    if (lists == NULL) continue;
    json_t *l = json_object();
    copy_members(l, e, line_members);
    json_object_set(l, d ? "debit" : "credit", json_object_get(line, d ? "debit" : "credit"));
    set_sum(l, "balance", o->debits - o->credits + p->debits - p->credits);
    json_t *list = json_object_get(lists, asset);
    if (list == NULL) json_object_set_new(lists, asset, list = json_array());
    if (json_array_append_new(list, l) != 0) return HANSE_ERR(NOMEM);
  }
  return HANSE_OK;
}

int books_report_ledger(json_t *entries, const char *account, uint64_t from, uint64_t to,
                        json_t **out, hanse_reject *rej) {
  books_tally opening, period;
  books_tally_init(&opening);
  books_tally_init(&period);
  json_t *lists = json_object(), *assets = json_array();
  int rc = HANSE_OK;
  /* two passes: the opening balance is complete before the first line */
  for (int pass = 0; pass < 2 && rc == HANSE_OK; pass++) {
    size_t i;
    json_t *e;
    json_array_foreach(entries, i, e) {
      int in;
      rc = pass == 0 ? entry_in(e, 0, from < to ? from : to, &in, rej)
                     : entry_in(e, from, to, &in, rej);
      if (rc != HANSE_OK) break;
      if (in && ledger_lines(e, account, &opening, &period, pass ? lists : NULL) != HANSE_OK)
        rc = hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
      if (rc != HANSE_OK) break;
    }
  }
  /* every asset of the account has an opening row (maybe 0) by now */
  for (size_t k = 0; rc == HANSE_OK && k < opening.n; k++) {
    const books_tally_row *o = &opening.rows[k];
    books_tally_row *p = books_tally_row_get(&period, o->asset, account);
    if (p == NULL) {
      rc = hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
      break;
    }
    json_t *lines = json_object_get(lists, o->asset);
    json_t *a = json_pack("{s:s, s:o, s:o}", "asset", o->asset, "opening",
                          books_sum_json(o->debits - o->credits), "lines",
                          lines ? json_incref(lines) : json_array());
    set_sum(a, "debits", p->debits);
    set_sum(a, "credits", p->credits);
    set_sum(a, "closing", o->debits - o->credits + p->debits - p->credits);
    json_array_append_new(assets, a);
  }
  books_tally_free(&opening);
  books_tally_free(&period);
  json_decref(lists);
  if (rc != HANSE_OK) {
    json_decref(assets);
    return rc;
  }
  *out = json_pack("{s:s, s:o}", "account", account, "assets", assets);
  return *out ? HANSE_OK : hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
}

/* ---- income statement and balance sheet ---- */

/* Rows [*i, end) of one asset: end is the first row of the next asset. */
static size_t asset_end(const books_tally *t, size_t i) {
  size_t end = i;
  while (end < t->n && strcmp(t->rows[end].asset, t->rows[i].asset) == 0) end++;
  return end;
}

static void list_add(json_t *o, const char *list, const char *account, books_sum amount) {
  json_t *a = json_object_get(o, list);
  json_array_append_new(a, json_pack("{s:s, s:o}", "account", account, "amount",
                                     books_sum_json(amount)));
}

int books_report_income(json_t *entries, uint64_t from, uint64_t to, json_t **out,
                        hanse_reject *rej) {
  books_tally t;
  books_tally_init(&t);
  if (tally_span(&t, entries, from, to, rej) != HANSE_OK) {
    books_tally_free(&t);
    return HANSE_ERR(INTERNAL);
  }
  json_t *assets = json_array();
  for (size_t i = 0, end; i < t.n; i = end) {
    end = asset_end(&t, i);
    json_t *a = json_pack("{s:s, s:[], s:[]}", "asset", t.rows[i].asset, "revenue", "expenses");
    books_sum revenue = 0, expenses = 0;
    for (size_t k = i; k < end; k++) {
      const books_tally_row *r = &t.rows[k];
      char type = books_account_letter(r->account);
      if (type == 'R') {
        revenue += r->credits - r->debits;
        list_add(a, "revenue", r->account, r->credits - r->debits);
      } else if (type == 'X') {
        expenses += r->debits - r->credits;
        list_add(a, "expenses", r->account, r->debits - r->credits);
      }
    }
    if (json_array_size(json_object_get(a, "revenue")) +
            json_array_size(json_object_get(a, "expenses")) ==
        0) {
      json_decref(a); /* an asset that only moved between balance-sheet accounts */
      continue;
    }
    set_sum(a, "total_revenue", revenue);
    set_sum(a, "total_expenses", expenses);
    set_sum(a, "net_income", revenue - expenses);
    json_array_append_new(assets, a);
  }
  books_tally_free(&t);
  *out = json_pack("{s:o}", "assets", assets);
  return *out ? HANSE_OK : hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
}

int books_report_balance_sheet(json_t *entries, uint64_t at, json_t **out, hanse_reject *rej) {
  books_tally t;
  books_tally_init(&t);
  if (tally_span(&t, entries, 0, at, rej) != HANSE_OK) {
    books_tally_free(&t);
    return HANSE_ERR(INTERNAL);
  }
  json_t *assets = json_array();
  int all_balanced = 1;
  for (size_t i = 0, end; i < t.n; i = end) {
    end = asset_end(&t, i);
    json_t *a = json_pack("{s:s, s:[], s:[], s:[]}", "asset", t.rows[i].asset, "assets",
                          "liabilities", "equity");
    books_sum total_a = 0, total_l = 0, total_e = 0, earnings = 0;
    for (size_t k = i; k < end; k++) {
      const books_tally_row *r = &t.rows[k];
      books_sum dr = r->debits - r->credits;
      switch (books_account_letter(r->account)) {
        case 'A': total_a += dr; list_add(a, "assets", r->account, dr); break;
        case 'L': total_l -= dr; list_add(a, "liabilities", r->account, -dr); break;
        case 'E': total_e -= dr; list_add(a, "equity", r->account, -dr); break;
        case 'R': /* fall through: revenue and expenses are the earnings */
        case 'X': earnings -= dr; break;
        default: /* not a typed account: shown, and it unbalances the sheet */
          if (json_object_get(a, "other") == NULL) json_object_set_new(a, "other", json_array());
          list_add(a, "other", r->account, dr);
      }
    }
    total_e += earnings;
    int balanced = total_a == total_l + total_e;
    all_balanced &= balanced;
    set_sum(a, "earnings", earnings);
    set_sum(a, "total_assets", total_a);
    set_sum(a, "total_liabilities", total_l);
    set_sum(a, "total_equity", total_e);
    json_object_set_new(a, "balanced", json_boolean(balanced));
    json_array_append_new(assets, a);
  }
  books_tally_free(&t);
  *out = json_pack("{s:b, s:o}", "balanced", all_balanced, "assets", assets);
  return *out ? HANSE_OK : hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
}
