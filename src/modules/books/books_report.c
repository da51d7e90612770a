/*
 * books/books_report.c -- the report queries of module books: reading
 * the entries a report needs from the state and handing them to the pure
 * report functions (books_report.h).
 *
 *   ledger        {owner, account, from?, to?}  one account's general
 *                                                ledger per asset
 *   income        {owner, from?, to?}           income statement
 *   balance_sheet {owner, at?}                  balance sheet before `at`
 *   reconcile     {a, b, from?, to?}            a's entries about b
 *                                                against b's about a
 *   export        {owner, from?, to?}           {"owner","entries",
 *                                                "journal":"<hledger text>"}
 *
 * Every answer repeats its parameters ("owner" or "a"/"b", and "from",
 * "to", "at" in ms when given). Times are ms or dates YYYY-MM-DD (UTC
 * midnight); `to` and `at` are exclusive. An owner's entries are read in
 * seq order, which is block-time order (block times never decrease), so
 * a scan stops at the first entry at or after the period's end. A report
 * reads at most BOOKS_REPORT_ENTRIES_MAX entries (books.too_many_entries,
 * 413). Rejections: books.bad_owner, books.bad_account, books.bad_time
 * (400), books.no_account (404), books.unknown_query (404).
 */
#include <stdio.h>
#include <string.h>

#include "modules/books/books_report.h"

/* "a" and "b" of reconcile: owners (books_owner_param reads "owner"). */
static int param_party(json_t *params, const char *name, const char **out, hanse_reject *rej) {
  *out = json_string_value(json_object_get(params, name));
  if (ledger_owner_valid(*out)) return HANSE_OK;
  return hanse_reject_code(rej, "books.bad_owner", 400,
                           "\"%s\" must be an organisation id or a key's lowercase hex", name);
}

/* The "account" of the general ledger: an account name (books.h). */
static int param_account(json_t *params, const char **out, hanse_reject *rej) {
  *out = json_string_value(json_object_get(params, "account"));
  if (books_account_type(*out)) return HANSE_OK;
  return hanse_reject_code(rej, "books.bad_account", 400,
                           "\"account\" must be an account name: 1-%d bytes of [a-z0-9-] "
                           "segments joined by ':', the first a type",
                           BOOKS_ACCOUNT_MAX);
}

/* The period [from, to) of the parameters. */
static int param_period(json_t *params, uint64_t *from, uint64_t *to, hanse_reject *rej) {
  if (books_time_param(params, "from", 0, from, rej) != HANSE_OK ||
      books_time_param(params, "to", BOOKS_TIME_END, to, rej) != HANSE_OK)
    return HANSE_ERR(INVALID);
  if (*from > *to)
    return hanse_reject_code(rej, "books.bad_time", 400, "\"from\" is after \"to\"");
  return HANSE_OK;
}

/* Reading entries: those with time in [from, to) appended to arr,
 * marked "reversed_by" from books/rev/ when mark_reversed. */
typedef struct load_ctx {
  hanse_view *v;
  json_t *arr;
  const char *owner, *counterparty;
  uint64_t from, to;
  size_t prefix_len; /* of the counterparty index scanned */
  int mark_reversed;
  int rc; /* a rejection (rej filled) or an environmental error */
  hanse_reject *rej;
} load_ctx;

/* Keep entry e (stolen) if it is in the period: 0 go on, 1 stop. */
static int keep(load_ctx *lc, json_t *e) {
  uint64_t t, s;
  char key[BOOKS_KEY_MAX];
  if (books_entry_check(e, &t, &s, lc->rej) != HANSE_OK) {
    json_decref(e);
    lc->rc = HANSE_ERR(INTERNAL);
    return 1;
  }
  if (t >= lc->to || t < lc->from) {
    json_decref(e);
    return t >= lc->to; /* seq order is time order: nothing later is in the period */
  }
  if (json_array_size(lc->arr) >= BOOKS_REPORT_ENTRIES_MAX) {
    json_decref(e);
    lc->rc = hanse_reject_code(lc->rej, "books.too_many_entries", 413,
                               "more than %d entries in the period: ask for a shorter one",
                               BOOKS_REPORT_ENTRIES_MAX);
    return 1;
  }
  if (lc->mark_reversed) {
    json_t *by = NULL;
    snprintf(key, sizeof key, "books/rev/%s/%0*llu", lc->owner, BOOKS_SEQ_DIGITS,
             (unsigned long long)s);
    lc->rc = hanse_view_get_json(lc->v, key, &by);
    if (lc->rc != HANSE_OK) {
      json_decref(e);
      hanse_reject_set(lc->rej, lc->rc, "reading books reversals");
      return 1;
    }
    if (by) json_object_set_new(e, "reversed_by", by);
  }
  json_array_append_new(lc->arr, e);
  return 0;
}

static int keep_entry(void *ctx, json_t *entry) { return keep(ctx, json_incref(entry)); }

/* A row of books/cp/<owner>/<counterparty>/<last>: keep the entries of
 * chunk <last> about the counterparty. */
static int keep_indexed(void *ctx, const uint8_t *k, size_t kl, const uint8_t *val, size_t vl) {
  load_ctx *lc = ctx;
  uint64_t last;
  (void)val;
  (void)vl;
  if (!books_seq_key_parse((const char *)k + lc->prefix_len, kl - lc->prefix_len, &last)) {
    lc->rc = hanse_reject_set(lc->rej, HANSE_ERR(INTERNAL), "a malformed books index row");
    return 1;
  }
  int r = books_chunk_read(lc->v, lc->owner, last, lc->counterparty, keep_entry, lc);
  if (r < 0) {
    lc->rc = r;
    hanse_reject_set(lc->rej, r, "reading books chunk %llu of '%s'", (unsigned long long)last,
                     lc->owner);
  }
  return r != 0;
}

/* owner's entries in [from, to), or (counterparty not NULL) those of
 * them about counterparty, marked reversed_by; *out a new array. */
static int load(hanse_view *v, const char *owner, const char *counterparty, uint64_t from,
                uint64_t to, json_t **out, hanse_reject *rej) {
  char prefix[BOOKS_KEY_MAX];
  snprintf(prefix, sizeof prefix, "books/cp/%s/%s/", owner, counterparty ? counterparty : "");
  load_ctx lc = {v,        json_array(), owner, counterparty, from, to, strlen(prefix),
                 counterparty != NULL, HANSE_OK, rej};
  if (lc.arr == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  int rc = counterparty ? hanse_view_scan(v, prefix, NULL, -1, keep_indexed, &lc)
                        : books_entries_scan(v, owner, 0, keep_entry, &lc);
  if (rc != HANSE_OK) hanse_reject_set(rej, rc, "reading books entries");
  else rc = lc.rc;
  if (rc != HANSE_OK) {
    json_decref(lc.arr);
    return rc;
  }
  *out = lc.arr;
  return HANSE_OK;
}

/* ---- export: the chart and the assets' decimals ---- */

typedef struct chart_ctx {
  json_t *names;
  size_t prefix_len;
} chart_ctx;

static int chart_visit(void *ctx, const uint8_t *k, size_t kl, const uint8_t *val, size_t vl) {
  chart_ctx *cc = ctx;
  (void)val;
  (void)vl;
  json_array_append_new(cc->names, json_stringn((const char *)k + cc->prefix_len,
                                                kl - cc->prefix_len));
  return 0;
}

/* decimals[asset] for every asset the entries use: the asset module's
 * or the token's definition, else the currency rule, else 0. */
static int decimals_load(hanse_view *v, json_t *entries, json_t *decimals) {
  size_t i, k;
  json_t *e, *line;
  json_array_foreach(entries, i, e) {
    json_array_foreach(json_object_get(e, "lines"), k, line) {
      const char *asset = json_string_value(json_object_get(line, "asset"));
      if (asset == NULL || json_object_get(decimals, asset)) continue;
      int d = books_currency_decimals(asset);
      static const char *const defs[] = {"asset/def/", "token/def/"};
      for (size_t j = 0; j < 2; j++) {
        char key[BOOKS_KEY_MAX];
        json_t *def = NULL;
        snprintf(key, sizeof key, "%s%s", defs[j], asset);
        int rc = hanse_view_get_json(v, key, &def);
        if (rc != HANSE_OK) return rc;
        json_t *dj = json_object_get(def, "decimals");
        int found = json_is_integer(dj);
        if (found) d = (int)json_integer_value(dj);
        json_decref(def);
        if (found) break;
      }
      json_object_set_new(decimals, asset, json_integer(d < 0 ? 0 : d));
    }
  }
  return HANSE_OK;
}

static int export_journal(hanse_view *v, const char *owner, json_t *entries, json_t *result,
                          hanse_reject *rej) {
  char prefix[BOOKS_KEY_MAX];
  snprintf(prefix, sizeof prefix, "books/acct/%s/", owner);
  chart_ctx cc = {json_array(), strlen(prefix)};
  json_t *decimals = json_object();
  hanse_buf text;
  hanse_buf_init(&text);
  int rc = hanse_view_scan(v, prefix, NULL, -1, chart_visit, &cc);
  if (rc == HANSE_OK) rc = decimals_load(v, entries, decimals);
  if (rc != HANSE_OK) hanse_reject_set(rej, rc, "reading the chart");
  else rc = books_export_journal(entries, cc.names, decimals, &text, rej);
  if (rc == HANSE_OK) {
    json_object_set_new(result, "journal",
                        json_stringn(text.len ? (const char *)text.data : "", text.len));
    json_object_set_new(result, "entries", json_integer((json_int_t)json_array_size(entries)));
  }
  hanse_buf_free(&text);
  json_decref(cc.names);
  json_decref(decimals);
  return rc;
}

/* ---- the queries ---- */

static void set_time(json_t *o, const char *name, uint64_t ms, uint64_t absent) {
  if (ms != absent) json_object_set_new(o, name, json_integer((json_int_t)ms));
}

static int reconcile(hanse_view *v, json_t *params, json_t **result, hanse_reject *rej) {
  const char *a, *b;
  uint64_t from, to;
  if (param_party(params, "a", &a, rej) != HANSE_OK || param_party(params, "b", &b, rej) != HANSE_OK ||
      param_period(params, &from, &to, rej) != HANSE_OK)
    return HANSE_ERR(INVALID);
  json_t *ea = NULL, *eb = NULL;
  int rc = load(v, a, b, from, to, &ea, rej);
  if (rc == HANSE_OK) rc = load(v, b, a, from, to, &eb, rej);
  if (rc == HANSE_OK) rc = books_report_reconcile(ea, eb, a, b, result, rej);
  json_decref(ea);
  json_decref(eb);
  if (rc != HANSE_OK) return rc;
  set_time(*result, "from", from, 0);
  set_time(*result, "to", to, BOOKS_TIME_END);
  return HANSE_OK;
}

int books_report_query(hanse_view *v, const char *name, json_t *params, json_t **result,
                       hanse_reject *rej) {
  *result = NULL;
  if (strcmp(name, "reconcile") == 0) return reconcile(v, params, result, rej);
  int ledger = strcmp(name, "ledger") == 0, income = strcmp(name, "income") == 0;
  int sheet = strcmp(name, "balance_sheet") == 0, export = strcmp(name, "export") == 0;
  if (!ledger && !income && !sheet && !export)
    return hanse_reject_code(rej, "books.unknown_query", 404, "no books report '%s'", name);
  const char *owner, *account = NULL;
  uint64_t from = 0, to = BOOKS_TIME_END;
  if (books_owner_param(params, &owner, rej) != HANSE_OK) return HANSE_ERR(INVALID);
  int rc = sheet ? books_time_param(params, "at", BOOKS_TIME_END, &to, rej)
                 : param_period(params, &from, &to, rej);
  if (rc == HANSE_OK && ledger) rc = param_account(params, &account, rej);
  if (rc != HANSE_OK) return rc;
  if (ledger) {
    char key[BOOKS_KEY_MAX];
    json_t *acct = NULL;
    snprintf(key, sizeof key, "books/acct/%s/%s", owner, account);
    if ((rc = hanse_view_get_json(v, key, &acct)) != HANSE_OK) return hanse_reject_set(rej, rc, NULL);
    if (acct == NULL)
      return hanse_reject_code(rej, "books.no_account", 404, "'%s' has no account '%s'", owner,
                               account);
    json_decref(acct);
  }
  json_t *entries = NULL;
  /* the ledger's opening balance and the balance sheet need everything before */
  rc = load(v, owner, NULL, ledger || sheet ? 0 : from, to, &entries, rej);
  if (rc != HANSE_OK) return rc;
  if (ledger) rc = books_report_ledger(entries, account, from, to, result, rej);
  else if (income) rc = books_report_income(entries, from, to, result, rej);
  else if (sheet) rc = books_report_balance_sheet(entries, to, result, rej);
  else if ((*result = json_object()) == NULL) rc = hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  else rc = export_journal(v, owner, entries, *result, rej);
  json_decref(entries);
  if (rc != HANSE_OK) {
    json_decref(*result);
    *result = NULL;
    return rc;
  }
  json_object_set_new(*result, "owner", json_string(owner));
  if (sheet) set_time(*result, "at", to, BOOKS_TIME_END);
  else {
    set_time(*result, "from", from, 0);
    set_time(*result, "to", to, BOOKS_TIME_END);
  }
  return HANSE_OK;
}
