/*
 * books/books.h -- every enterprise's own books, kept by the chain.
 *
 * The ledger (modules/ledger/) holds the money: accounts of one asset
 * each, moved by transfers. The books are each party's accounting of
 * what happened to it: a journal of balanced entries over its chart of
 * accounts, in hledger's naming ("assets:cash", "revenue:sales").
 * Nobody writes an entry about a business transaction by hand: the
 * module that records the business transaction (a ledger transfer
 * between two enterprises, an order delivered, a converted payment, a
 * token issued, a settlement) calls books_post while it runs, on the
 * same ledger_book overlay, and both parties' entries are written with
 * it -- or vanish with it when a linked chain fails or verify throws the
 * book away. Each party's posting rule for the business type and its
 * role in it names the two accounts; a party without its own rule gets
 * the default (books_default_rule).
 *
 * An entry is never edited or deleted. A correction is a new entry
 * (books.reverse: the same lines with debit and credit swapped, naming
 * the entry it reverses, who signed and when; books.entry: a manual
 * adjustment), which is why an enterprise's books always balance: every
 * entry balances per asset on its own.
 *
 * State (readable text keys; values canonical JSON; amounts decimal
 * strings of unsigned 64-bit integers in the asset's smallest unit):
 *
 *   books/acct/<owner>/<account>       {"account","type","name"?,
 *                                       "opened_at"}   the chart; an
 *                                       account a rule or entry names is
 *                                       opened on first use
 *   books/rule/<owner>/<type>/<role>   {"debit","credit"}  an owner's own
 *                                       posting rule
 *   books/seq/<owner>                  the owner's last entry number
 *   books/je/<owner>/<seq, 12 digits>  an entry:
 *       {"owner","seq","tx","height","time","type","role"?,
 *        "counterparty"?,"ref"?,"memo"?,"by","reverses"?,
 *        "lines":[{"account","asset","debit":"n"} |
 *                 {"account","asset","credit":"n"}, ...]}
 *       tx: the chain transaction (hex) the entry books; time: its block
 *       time (ms); by: the signing key (hex); reverses: the seq of the
 *       entry it reverses
 *   books/cp/<owner>/<counterparty>/<seq>   ""  entries about a party
 *   books/tx/<tx hex>/<owner>/<seq>         ""  entries of a transaction
 *   books/rev/<owner>/<seq>            seq of the entry that reversed it
 *
 * Account names: 1-BOOKS_ACCOUNT_MAX bytes, segments of [a-z0-9-]
 * separated by ':', the first one of assets, liabilities, equity,
 * revenue, expenses -- which is the account's type.
 */
#ifndef HANSE_MODULE_BOOKS_H
#define HANSE_MODULE_BOOKS_H

#include <stddef.h>
#include <stdint.h>

#include "modules/ledger/ledger.h"

#define BOOKS_ACCOUNT_MAX 128 /* an account name, bytes */
#define BOOKS_MEMO_MAX 256    /* a memo, bytes */

/* Business types. A module adding one adds its default rules too. */
#define BOOKS_SALE "sale"             /* goods or services delivered on credit */
#define BOOKS_PAYMENT "payment"       /* money for something owed */
#define BOOKS_FEE "fee"               /* a platform's or bank's fee */
#define BOOKS_DUTY "duty"             /* a customs duty or tax */
#define BOOKS_REFUND "refund"         /* money returned */
#define BOOKS_ISSUE "issue"           /* backed tokens issued for money paid in */
#define BOOKS_REDEEM "redeem"         /* backed tokens returned for money */
#define BOOKS_CONVERSION "conversion" /* one currency exchanged for another */
#define BOOKS_SETTLEMENT "settlement" /* a bank settling its net position */
#define BOOKS_DISCOUNT "discount"     /* loyalty tokens spent for a discount */
#define BOOKS_LOYALTY "loyalty"       /* loyalty tokens awarded (the issuer is the
                                       * payer) or handed back (the payee); booked
                                       * in the issuer's books only */
#define BOOKS_CLEARING "clearing"     /* a customer payment one bank owes another */

/* A party's role in a business transaction: the one who pays (or owes,
 * or gives up the asset) and the one who is paid. */
typedef enum books_role { BOOKS_PAYER = 0, BOOKS_PAYEE = 1 } books_role;

/* One business transaction between two parties, booked in both books:
 * the same amount of one asset, from payer to payee. */
typedef struct books_event {
  const char *type;   /* BOOKS_SALE, ... */
  const char *payer;  /* an owner: organisation id or key hex */
  const char *payee;
  const char *asset;  /* the ledger asset: the entries' commodity */
  uint64_t amount;    /* >= 1 */
  const char *ref;    /* may be NULL: the business reference (transfer
                       * id, order id) both entries carry */
  const char *memo;   /* may be NULL */
} books_event;

/* Book ev in the payer's and the payee's books, each by its own rule for
 * (type, role) or the default, both referencing the current transaction
 * (b->ex->tx). Payer and payee the same owner: nothing is booked (an
 * enterprise moving money between its own accounts). Environmental
 * errors only: a business transaction is never refused by the books. */
int books_post(ledger_book *b, const books_event *ev);

/* One side only: owner's entry for its `role` in a business transaction
 * of `type` with `counterparty` (may be NULL). For transactions whose two
 * sides differ, e.g. a converted payment booked in EUR by the payer and
 * in USD by the payee. */
int books_post_side(ledger_book *b, const char *owner, books_role role, const char *type,
                    const char *counterparty, const char *asset, uint64_t amount,
                    const char *ref, const char *memo);

/* The default rule of (type, role): *debit and *credit, static storage.
 * HANSE_ERR(NOT_FOUND) for a type without one. */
int books_default_rule(const char *type, books_role role, const char **debit,
                       const char **credit);

/* Default rules in table order, for listing them: HANSE_OK and the
 * i-th row, HANSE_ERR(NOT_FOUND) past the last. */
int books_default_rule_at(size_t i, const char **type, books_role *role, const char **debit,
                          const char **credit);

/* ---- shared by the books' own files ----
 * books.c (actions), books_post.c (entries), books_query.c (queries),
 * books_report.c (reports). */

#define BOOKS_LINES_MAX 64  /* lines of one entry (books.entry) */
#define BOOKS_BATCH_MAX 64  /* accounts in books.chart, rules in books.rules */
#define BOOKS_NAME_MAX 128  /* an account's display name, bytes */
#define BOOKS_SEQ_DIGITS 12 /* an entry number in keys, zero-padded */
#define BOOKS_SEQ_MAX 999999999999ull
#define BOOKS_KEY_MAX LEDGER_KEY_MAX

_Static_assert(BOOKS_KEY_MAX > sizeof "books/acct//" + LEDGER_OWNER_MAX + BOOKS_ACCOUNT_MAX,
               "a chart key fits its buffer");
_Static_assert(BOOKS_KEY_MAX > sizeof "books/cp///" + 2 * LEDGER_OWNER_MAX + BOOKS_SEQ_DIGITS,
               "a counterparty index key fits its buffer");
_Static_assert(BOOKS_KEY_MAX > sizeof "books/tx///" + 64 + LEDGER_OWNER_MAX + BOOKS_SEQ_DIGITS,
               "a transaction index key fits its buffer");

/* The type of an account name -- its first segment, "assets",
 * "liabilities", "equity", "revenue" or "expenses", static storage -- or
 * NULL when s is not an account name. */
const char *books_account_type(const char *s);
/* 1 if s is 1-max bytes of text without control characters (a name, a
 * memo: one line of a journal). */
int books_text_valid(const char *s, size_t max);
/* The role's name, "payer" or "payee". */
const char *books_role_name(books_role role);

/* Open `account` in owner's chart when it is not there. name may be
 * NULL: an account there already keeps its name; another name renames
 * it. */
int books_chart_open(ledger_book *b, const char *owner, const char *account, const char *name);
/* Write entry e (stolen): its "owner", "type" and "lines" set by the
 * caller, with any of "role", "counterparty", "ref", "memo", "reverses".
 * Adds "seq" (the owner's next), "tx", "height", "time" and "by" from the
 * current transaction, opens the lines' accounts in the owner's chart,
 * and writes the entry and its indexes (books/tx, books/cp, books/rev).
 * *seq (may be NULL) receives its number. Environmental errors only. */
int books_entry_write(ledger_book *b, json_t *e, uint64_t *seq);

/* The module's query function (books_query.c): chart, rules, journal,
 * entry, tx, trial_balance; the report names go to books_report_query. */
int books_query(hanse_view *v, const char *name, json_t *params, json_t **result,
                hanse_reject *rej);
/* Queries: visit owner's entries with seq > after, in seq order. fn gets
 * each entry (borrowed) and returns 0 to go on, 1 to stop, or a negative
 * error code, which the scan returns. */
typedef int (*books_entry_fn)(void *ctx, json_t *entry);
int books_entries_scan(hanse_view *v, const char *owner, uint64_t after, books_entry_fn fn,
                       void *ctx);
/* A period bound parameter (query "from" or "to"): block time in ms
 * (decimal), an ISO date ("2025-03-01", midnight UTC) or an RFC 3339
 * date-time with a zone. *ms = dflt when absent; books.bad_time (400). A
 * period is from <= time < to. */
int books_time_param(json_t *params, const char *name, uint64_t dflt, uint64_t *ms,
                     hanse_reject *rej);
/* The "owner" parameter: books.bad_owner (400) unless ledger_owner_valid. */
int books_owner_param(json_t *params, const char **owner, hanse_reject *rej);

/* ---- reports (books_report.c) ----
 * The report queries of module books, which books.c lists and hands to
 * books_report_query: "ledger" (one account's entries with running
 * balance), "income" (income statement), "balance_sheet", "reconcile"
 * (two enterprises' entries about each other), "export" (hledger
 * journal). Same contract as hanse_module.query. */
int books_report_query(hanse_view *v, const char *name, json_t *params, json_t **result,
                       hanse_reject *rej);

#endif
