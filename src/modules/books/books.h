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

/* ---- reports (books_report.c) ----
 * The report queries of module books, which books.c lists and hands to
 * books_report_query: "ledger" (one account's entries with running
 * balance), "income" (income statement), "balance_sheet", "reconcile"
 * (two enterprises' entries about each other), "export" (hledger
 * journal). Same contract as hanse_module.query. */
int books_report_query(hanse_view *v, const char *name, json_t *params, json_t **result,
                       hanse_reject *rej);

#endif
