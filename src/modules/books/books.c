/*
 * books/books.c -- the books module's function table: context-free
 * checks and the four actions on the signer's enterprise's own books.
 *
 *   books.chart   {"accounts":[{"account","name"?}, ...]}
 *   books.rules   {"rules":[{"type","role","debit","credit"}, ...]}
 *   books.entry   {"lines":[{"account","asset","debit"|"credit":n}, ...],
 *                  "memo"?, "counterparty"?, "ref"?}
 *   books.reverse {"seq", "memo"?}
 *
 * The books are the enterprise's (b->owner: its organisation, or the
 * signing key's hex on an open chain); any active member of it may keep
 * them. Entries about business transactions are not written here: the
 * module that records the business transaction books them while it runs
 * (books_post.c). These actions are what an accountant adds by hand --
 * names for accounts, the enterprise's own posting rules, an adjusting
 * entry, a reversal -- and, like every entry, they record who signed and
 * when; nothing is edited or deleted.
 *
 * Declaring an account again with the same name (or none) changes
 * nothing; another name renames it. A rule names a business type that
 * has a default (books_rules.c) and a role; its accounts are opened in
 * the chart. A manual entry has 2-BOOKS_LINES_MAX lines, each a debit or
 * a credit of 1..2^63-1 in one asset, and must balance per asset (sums
 * compared exactly, in 128 bits as a pair of words). A reversal copies
 * an entry with debit and credit swapped, names it ("reverses"), keeps
 * its counterparty and ref; an entry is reversed at most once and a
 * reversal is not reversed (make a new entry instead).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "modules/books/books.h"

static const char *const books_actions[] = {"chart", "rules", "entry", "reverse", NULL};
static const char *const books_queries[] = {"chart", "rules",  "journal", "entry", "tx",
                                            "trial_balance",  "ledger",  "income",
                                            "balance_sheet",  "reconcile", "export", NULL};
/* An enterprise's members read its own books whatever the read policy
 * says (module.h, owner_queries). */
static const char *const books_owner_queries[] = {"chart",  "rules",         "journal",
                                                  "entry",  "trial_balance", "ledger",
                                                  "income", "balance_sheet", "export", NULL};
static const char *const account_types[] = {"assets", "liabilities", "equity", "revenue",
                                            "expenses", NULL};

const char *books_account_type(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n < 1 || n > BOOKS_ACCOUNT_MAX) return NULL;
  size_t seg = 0; /* length of the current segment */
  for (size_t i = 0; i <= n; i++) {
    char c = s[i];
    if (c == ':' || c == 0) {
      if (seg == 0) return NULL; /* an empty segment */
      seg = 0;
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
      seg++;
    } else {
      return NULL;
    }
  }
  for (size_t i = 0; account_types[i]; i++) {
    size_t k = strlen(account_types[i]);
    if (strncmp(s, account_types[i], k) == 0 && (s[k] == ':' || s[k] == 0))
      return account_types[i];
  }
  return NULL;
}

int books_text_valid(const char *s, size_t max) {
  size_t n = s ? strlen(s) : 0;
  if (n < 1 || n > max) return 0;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return 0;
  return 1;
}

const char *books_role_name(books_role role) { return role == BOOKS_PAYER ? "payer" : "payee"; }

/* ---- check ---- */

static int word_in(const char *s, const char *const *list) {
  for (size_t i = 0; s && list[i]; i++)
    if (strcmp(s, list[i]) == 0) return 1;
  return 0;
}

/* An object with no members but `allowed`: a typo in an optional member
 * must not silently change what happens. */
static int object_of(json_t *o, const char *const *allowed, const char *where,
                     hanse_reject *rej) {
  if (!json_is_object(o))
    return hanse_reject_code(rej, "books.bad_field", 400, "%s must be an object", where);
  const char *k;
  json_t *v;
  json_object_foreach(o, k, v) {
    if (!word_in(k, allowed))
      return hanse_reject_code(rej, "books.bad_field", 400, "%s: unknown member \"%s\"", where, k);
  }
  return HANSE_OK;
}

/* The array member `name` of p with 1..max items, else `code`. */
static json_t *list_of(json_t *p, const char *name, size_t min, size_t max, const char *code,
                       hanse_reject *rej) {
  json_t *a = json_object_get(p, name);
  if (json_is_array(a) && json_array_size(a) >= min && json_array_size(a) <= max) return a;
  hanse_reject_code(rej, code, 400, "\"%s\" must be an array of %zu to %zu items", name, min, max);
  return NULL;
}

static int account_check(json_t *o, const char *field, const char *where, hanse_reject *rej) {
  if (books_account_type(json_string_value(json_object_get(o, field)))) return HANSE_OK;
  return hanse_reject_code(rej, "books.bad_account", 400,
                           "%s.%s must be an account name: segments of [a-z0-9-] joined by ':', "
                           "the first assets, liabilities, equity, revenue or expenses, "
                           "at most %d bytes",
                           where, field, BOOKS_ACCOUNT_MAX);
}

static int memo_check(json_t *p, hanse_reject *rej) {
  json_t *memo = json_object_get(p, "memo");
  if (memo && !books_text_valid(json_string_value(memo), BOOKS_MEMO_MAX))
    return hanse_reject_code(rej, "books.bad_memo", 400,
                             "\"memo\" must be 1-%d bytes of text without control characters",
                             BOOKS_MEMO_MAX);
  return HANSE_OK;
}

static int check_chart(json_t *p, hanse_reject *rej) {
  static const char *const fields[] = {"accounts", NULL};
  static const char *const item[] = {"account", "name", NULL};
  if (object_of(p, fields, "books.chart", rej) != HANSE_OK) return HANSE_ERR(INVALID);
  json_t *list = list_of(p, "accounts", 1, BOOKS_BATCH_MAX, "books.bad_accounts", rej);
  if (list == NULL) return HANSE_ERR(INVALID);
  for (size_t i = 0; i < json_array_size(list); i++) {
    json_t *a = json_array_get(list, i);
    char where[32];
    snprintf(where, sizeof where, "accounts[%zu]", i);
    if (object_of(a, item, where, rej) != HANSE_OK) return HANSE_ERR(INVALID);
    if (account_check(a, "account", where, rej) != HANSE_OK) return HANSE_ERR(INVALID);
    json_t *name = json_object_get(a, "name");
    if (name && !books_text_valid(json_string_value(name), BOOKS_NAME_MAX))
      return hanse_reject_code(rej, "books.bad_name", 400,
                               "%s.name must be 1-%d bytes of text without control characters",
                               where, BOOKS_NAME_MAX);
  }
  return HANSE_OK;
}

static int check_rules(json_t *p, hanse_reject *rej) {
  static const char *const fields[] = {"rules", NULL};
  static const char *const item[] = {"type", "role", "debit", "credit", NULL};
  static const char *const roles[] = {"payer", "payee", NULL};
  if (object_of(p, fields, "books.rules", rej) != HANSE_OK) return HANSE_ERR(INVALID);
  json_t *list = list_of(p, "rules", 1, BOOKS_BATCH_MAX, "books.bad_rules", rej);
  if (list == NULL) return HANSE_ERR(INVALID);
  for (size_t i = 0; i < json_array_size(list); i++) {
    json_t *r = json_array_get(list, i);
    const char *d, *c;
    char where[32];
    snprintf(where, sizeof where, "rules[%zu]", i);
    if (object_of(r, item, where, rej) != HANSE_OK) return HANSE_ERR(INVALID);
    if (books_default_rule(json_string_value(json_object_get(r, "type")), BOOKS_PAYER, &d, &c) !=
        HANSE_OK)
      return hanse_reject_code(rej, "books.bad_type", 400,
                               "%s.type must be a business type (sale, payment, fee, duty, "
                               "refund, ...)",
                               where);
    if (!word_in(json_string_value(json_object_get(r, "role")), roles))
      return hanse_reject_code(rej, "books.bad_role", 400, "%s.role must be payer or payee",
                               where);
    if (account_check(r, "debit", where, rej) != HANSE_OK ||
        account_check(r, "credit", where, rej) != HANSE_OK)
      return HANSE_ERR(INVALID);
    if (json_equal(json_object_get(r, "debit"), json_object_get(r, "credit")))
      return hanse_reject_code(rej, "books.same_account", 400,
                               "%s debits and credits the same account", where);
  }
  return HANSE_OK;
}

/* A sum of up to BOOKS_LINES_MAX amounts below 2^63, exactly. */
typedef struct sum128 {
  uint64_t hi, lo;
} sum128;

static void sum_add(sum128 *s, uint64_t v) {
  s->lo += v;
  if (s->lo < v) s->hi++;
}

static int check_entry(json_t *p, hanse_reject *rej) {
  static const char *const fields[] = {"lines", "memo", "counterparty", "ref", NULL};
  static const char *const item[] = {"account", "asset", "debit", "credit", NULL};
  if (object_of(p, fields, "books.entry", rej) != HANSE_OK) return HANSE_ERR(INVALID);
  json_t *lines = list_of(p, "lines", 2, BOOKS_LINES_MAX, "books.bad_lines", rej);
  if (lines == NULL) return HANSE_ERR(INVALID);
  size_t n = json_array_size(lines);
  for (size_t i = 0; i < n; i++) {
    json_t *l = json_array_get(lines, i);
    char where[32];
    snprintf(where, sizeof where, "lines[%zu]", i);
    if (object_of(l, item, where, rej) != HANSE_OK) return HANSE_ERR(INVALID);
    if (account_check(l, "account", where, rej) != HANSE_OK) return HANSE_ERR(INVALID);
    if (!ledger_asset_code_valid(json_string_value(json_object_get(l, "asset"))))
      return hanse_reject_code(rej, "books.bad_asset", 400,
                               "%s.asset must be an asset symbol or a currency code", where);
    json_t *d = json_object_get(l, "debit"), *c = json_object_get(l, "credit");
    if ((d == NULL) == (c == NULL))
      return hanse_reject_code(rej, "books.bad_line", 400,
                               "%s must have either \"debit\" or \"credit\"", where);
    json_t *amount = d ? d : c;
    if (!json_is_integer(amount) || json_integer_value(amount) < 1)
      return hanse_reject_code(rej, "books.bad_amount", 400,
                               "%s.%s must be an integer from 1 to 2^63-1", where,
                               d ? "debit" : "credit");
  }
  /* Each asset's debits equal its credits. */
  for (size_t i = 0; i < n; i++) {
    json_t *asset = json_object_get(json_array_get(lines, i), "asset");
    int seen = 0;
    for (size_t j = 0; j < i && !seen; j++)
      seen = json_equal(asset, json_object_get(json_array_get(lines, j), "asset"));
    if (seen) continue;
    sum128 debits = {0, 0}, credits = {0, 0};
    for (size_t j = i; j < n; j++) {
      json_t *l = json_array_get(lines, j);
      if (!json_equal(asset, json_object_get(l, "asset"))) continue;
      json_t *d = json_object_get(l, "debit");
      sum_add(d ? &debits : &credits,
              (uint64_t)json_integer_value(d ? d : json_object_get(l, "credit")));
    }
    if (debits.hi != credits.hi || debits.lo != credits.lo)
      return hanse_reject_code(rej, "books.unbalanced", 400,
                               "the entry's debits and credits in %s differ",
                               json_string_value(asset));
  }
  if (memo_check(p, rej) != HANSE_OK) return HANSE_ERR(INVALID);
  json_t *cp = json_object_get(p, "counterparty");
  if (cp && !ledger_owner_valid(json_string_value(cp)))
    return hanse_reject_code(rej, "books.bad_counterparty", 400,
                             "\"counterparty\" must be an organisation id or a key's hex");
  json_t *ref = json_object_get(p, "ref");
  if (ref && !ledger_id_valid(json_string_value(ref)))
    return hanse_reject_code(rej, "books.bad_ref", 400, "\"ref\" must be 1-%d of [A-Za-z0-9._:-]",
                             LEDGER_ID_MAX);
  return HANSE_OK;
}

static int check_reverse(json_t *p, hanse_reject *rej) {
  static const char *const fields[] = {"seq", "memo", NULL};
  if (object_of(p, fields, "books.reverse", rej) != HANSE_OK) return HANSE_ERR(INVALID);
  json_t *seq = json_object_get(p, "seq");
  if (!json_is_integer(seq) || json_integer_value(seq) < 1 ||
      (uint64_t)json_integer_value(seq) > BOOKS_SEQ_MAX)
    return hanse_reject_code(rej, "books.bad_seq", 400,
                             "\"seq\" must be an entry number from 1 to %llu",
                             (unsigned long long)BOOKS_SEQ_MAX);
  return memo_check(p, rej);
}

static int books_check(const hanse_tx *tx, const char *action, json_t *p, hanse_reject *rej) {
  (void)tx;
  if (strcmp(action, "chart") == 0) return check_chart(p, rej);
  if (strcmp(action, "rules") == 0) return check_rules(p, rej);
  if (strcmp(action, "entry") == 0) return check_entry(p, rej);
  return check_reverse(p, rej);
}

/* ---- actions ---- */

static int run_rules(ledger_book *b, json_t *list) {
  int rc = HANSE_OK;
  for (size_t i = 0; i < json_array_size(list) && rc == HANSE_OK; i++) {
    json_t *r = json_array_get(list, i);
    const char *debit = json_string_value(json_object_get(r, "debit"));
    const char *credit = json_string_value(json_object_get(r, "credit"));
    char key[BOOKS_KEY_MAX];
    snprintf(key, sizeof key, "books/rule/%s/%s/%s", b->owner,
             json_string_value(json_object_get(r, "type")),
             json_string_value(json_object_get(r, "role")));
    rc = books_chart_open(b, b->owner, debit, NULL);
    if (rc == HANSE_OK) rc = books_chart_open(b, b->owner, credit, NULL);
    if (rc == HANSE_OK) rc = ledger_put(b, key, json_pack("{s:s, s:s}", "debit", debit, "credit", credit));
  }
  return rc;
}

/* Stage an entry of b->owner's of `type` whose lines are `in`'s (JSON
 * lines as books.entry takes them, amounts integers, or as entries hold
 * them, decimal strings), sides swapped when swap, with the counterparty
 * and ref of object `from` (the payload, or the reversed entry). A line
 * not of either shape is a stored entry not of its shape: a bug. */
static int stage_lines(ledger_book *b, const char *type, json_t *in, int swap, json_t *from,
                       const char *memo, uint64_t reverses) {
  books_line lines[BOOKS_LINES_MAX];
  size_t n = json_array_size(in);
  for (size_t i = 0; i < n; i++) {
    json_t *l = json_array_get(in, i), *d = json_object_get(l, "debit");
    json_t *amount = d ? d : json_object_get(l, "credit");
    uint64_t v = (uint64_t)json_integer_value(amount);
    if (i >= BOOKS_LINES_MAX ||
        (!json_is_integer(amount) && !ledger_u64_parse(json_string_value(amount), &v))) {
      b->ex->env_error = 1;
      return HANSE_ERR(INTERNAL);
    }
    lines[i] = (books_line){json_string_value(json_object_get(l, "account")),
                            json_string_value(json_object_get(l, "asset")), (d == NULL) != swap,
                            v};
  }
  books_entry e = {b->owner,
                   type,
                   NULL,
                   json_string_value(json_object_get(from, "counterparty")),
                   json_string_value(json_object_get(from, "ref")),
                   memo,
                   reverses,
                   lines,
                   n};
  return books_entry_stage(b, &e, NULL);
}

/* The entry of books.entry (checked: 2..BOOKS_LINES_MAX lines). */
static int run_entry(ledger_book *b, json_t *p) {
  return stage_lines(b, "adjustment", json_object_get(p, "lines"), 0, p,
                     json_string_value(json_object_get(p, "memo")), 0);
}

static int run_reverse(ledger_book *b, json_t *p, hanse_reject *rej) {
  uint64_t seq = (uint64_t)json_integer_value(json_object_get(p, "seq"));
  char key[BOOKS_KEY_MAX];
  json_t *orig = NULL, *done = NULL;
  int rc = books_entry_lookup(b, b->owner, seq, &orig);
  if (rc != HANSE_OK) return rc;
  if (orig == NULL)
    return hanse_reject_code(rej, "books.no_entry", 404, "'%s' has no entry %" PRIu64, b->owner,
                             seq);
  snprintf(key, sizeof key, "books/rev/%s/%0*" PRIu64, b->owner, BOOKS_SEQ_DIGITS, seq);
  if (json_object_get(orig, "reverses")) {
    rc = hanse_reject_code(rej, "books.is_reversal", 409,
                           "entry %" PRIu64 " reverses entry %" PRIu64 "; book a new entry instead",
                           seq, (uint64_t)json_integer_value(json_object_get(orig, "reverses")));
  } else if ((rc = ledger_get(b, key, &done)) == HANSE_OK && done) {
    rc = hanse_reject_code(rej, "books.already_reversed", 409,
                           "entry %" PRIu64 " was reversed by entry %" PRIu64, seq,
                           (uint64_t)json_integer_value(done));
  }
  /* the same lines, debit and credit swapped */
  if (rc == HANSE_OK)
    rc = stage_lines(b, "reversal", json_object_get(orig, "lines"), 1, orig,
                     json_string_value(json_object_get(p, "memo")), seq);
  json_decref(orig);
  json_decref(done);
  return rc;
}

static int books_run(ledger_book *b, const hanse_tx *tx, const char *action, json_t *p,
                     int commit, hanse_reject *rej) {
  (void)tx;
  (void)commit;
  if (strcmp(action, "chart") == 0) {
    json_t *list = json_object_get(p, "accounts");
    int rc = HANSE_OK;
    for (size_t i = 0; i < json_array_size(list) && rc == HANSE_OK; i++) {
      json_t *a = json_array_get(list, i);
      rc = books_chart_open(b, b->owner, json_string_value(json_object_get(a, "account")),
                            json_string_value(json_object_get(a, "name")));
    }
    return rc;
  }
  if (strcmp(action, "rules") == 0) return run_rules(b, json_object_get(p, "rules"));
  if (strcmp(action, "entry") == 0) return run_entry(b, p);
  return run_reverse(b, p, rej);
}

LEDGER_BOOK_STEPS(books, "books", books_run)

const hanse_module hanse_module_books = {
    .name = "books",
    .actions = books_actions,
    .queries = books_queries,
    .owner_queries = books_owner_queries,
    .check = books_check,
    .verify = books_verify,
    .apply = books_apply,
    .query = books_query,
    .data_class = "financial",
};
