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
 *   books/je/<owner>/<last, 12 digits> a chunk: every entry one chain
 *       transaction booked for the owner, numbered last-n+1 .. last:
 *       {"by","entries","height","time","tx"}
 *       tx: the chain transaction (hex) the entries book; time: its block
 *       time (ms); by: the signing key (hex); entries: the n entries in
 *       seq order, one line each, joined by '\n', each line fields
 *       joined by '\t' (books_field):
 *         type, role, counterparty, ref, reverses, memo,
 *         then per line of the entry: account, asset, "d<n>" | "c<n>"
 *       an absent field is empty; reverses: the seq of the entry it
 *       reverses. Entry (owner, seq) is in the chunk with the first key
 *       at or after its seq (a scan from seq - 1, or, during a block,
 *       books_entry_lookup). No field holds a control character (memos
 *       are checked, the rest are names).
 *   books/cp/<owner>/<counterparty>/<last>  ""  chunk <last> holds entries
 *                                       about the counterparty
 *   books/tx/<tx hex>/<owner>/<last>        ""  chunk <last> holds the
 *                                       transaction's entries of owner
 *   books/rev/<owner>/<seq>            seq of the entry that reversed it
 *
 * Readers see entries, never chunks: books_entries_scan, books_entry_find
 * and books_chunk_read hand out each entry as the JSON object
 *   {"by","counterparty"?,"height","lines":[{"account","asset",
 *    "debit":"n"} | {"account","asset","credit":"n"}, ...],"memo"?,
 *    "owner","ref"?,"reverses"?,"role"?,"seq","time","tx","type"}
 * (members in that order), the shape the queries answer with.
 *
 * Why chunks: a ledger.transfer of 256 transfers between enterprises
 * books 512 entries. Written one row each (plus an index row per
 * transaction and counterparty, and the counter) that was ~8 state rows
 * and a JSON object per transfer; as chunks it is a few rows per owner
 * per transaction. While an action runs, books_entry_stage keeps the
 * entries in the book's overlay (so a failed linked chain's rollback, or
 * verify's discarded book, drops them with everything else);
 * books_flush, at the start of ledger_book_commit, turns them into the
 * owners' chunks and index rows.
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

/* A chunk row's stored text (books/je/<owner>/<last>, FORMATS.md),
 * appended to out: the canonical JSON of {"by","entries","height","time",
 * "tx"} -- sorted keys, compact, strings escaped as jansson's json_dumps
 * escapes them -- printed without building the object. by, txhex and
 * entries are valid UTF-8 (entries as staged; by and txhex hex); height
 * and time_ms at most 2^63-1. */
void books_chunk_json(hanse_buf *out, const char *by, const char *entries, size_t n,
                      uint64_t height, uint64_t time_ms, const char *txhex);

/* One side only: owner's entry for its `role` in a business transaction
 * of `type` with `counterparty` (may be NULL). For transactions whose two
 * sides differ, e.g. a converted payment booked in EUR by the payer and
 * in USD by the payee. */
int books_post_side(ledger_book *b, const char *owner, books_role role, const char *type,
                    const char *counterparty, const char *asset, uint64_t amount,
                    const char *ref, const char *memo);

/* Write out what the book's action staged (books_entry_stage): per owner
 * one chunk books/je/<owner>/<last>, its books/tx row and a books/cp row
 * per counterparty, and the entries' accounts opened in the owner's
 * chart; the staging rows leave the overlay. ledger_book_commit calls it
 * first; nothing staged: nothing happens. Environmental errors only. */
int books_flush(ledger_book *b);

/* The default rule of (type, role): *debit and *credit, static storage.
 * HANSE_ERR(NOT_FOUND) for a type without one. */
int books_default_rule(const char *type, books_role role, const char **debit,
                       const char **credit);

/* Default rules in table order, for listing them: HANSE_OK and the
 * i-th row, HANSE_ERR(NOT_FOUND) past the last. */
int books_default_rule_at(size_t i, const char **type, books_role *role, const char **debit,
                          const char **credit);

/* ---- shared by the books' own files ----
 * books.c (actions), books_post.c (entries: staging, the chunks'
 * writing), books_chunk.c (reading entries out of chunks),
 * books_query.c (queries), books_report.c (reports). */

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
/* An entry to book: its lines each a debit or a credit (amount >= 1)
 * of one account in one asset. role, counterparty, ref, memo may be
 * NULL; reverses 0 when it reverses nothing. Borrowed. */
typedef struct books_line {
  const char *account, *asset;
  int credit; /* 0: a debit */
  uint64_t amount;
} books_line;

typedef struct books_entry {
  const char *owner, *type, *role, *counterparty, *ref, *memo;
  uint64_t reverses;
  const books_line *lines;
  size_t n; /* 2..BOOKS_LINES_MAX */
} books_entry;

/* Book entry e: number it (the owner's next, books/seq/<owner>) and
 * stage it in the book's overlay with the current transaction's tx,
 * height, time and signer; a reversal's books/rev row is written now.
 * books_flush writes the staged entries out (chunks, index rows, the
 * chart's accounts). *seq (may be NULL) receives its number.
 * Environmental errors only (a field with a control character is a bug
 * in the caller: HANSE_ERR(INTERNAL)). */
int books_entry_stage(ledger_book *b, const books_entry *e, uint64_t *seq);

/* The fields of a chunk's entry line (books.h, "State"), in order. */
enum books_field {
  BOOKS_F_TYPE,
  BOOKS_F_ROLE,
  BOOKS_F_COUNTERPARTY,
  BOOKS_F_REF,
  BOOKS_F_REVERSES,
  BOOKS_F_MEMO,
  BOOKS_F_LINES, /* then account, asset, side+amount per line */
  BOOKS_F_MAX = BOOKS_F_LINES + 3 * BOOKS_LINES_MAX
};
/* A field: len bytes at p, not NUL-terminated. */
typedef struct books_text {
  const char *p;
  size_t len;
} books_text;
/* Split s[0..len) at '\t' into f (at most max fields): the number of
 * fields, or 0 when there are more than max. */
size_t books_fields_split(const char *s, size_t len, books_text *f, size_t max);
/* A 12-digit zero-padded entry number of a key, s[0..n): 1 and *seq
 * (>= 1), or 0. */
int books_seq_key_parse(const char *s, size_t n, uint64_t *seq);

/* ---- reading entries (books_chunk.c) ---- */

/* Visit the entries of chunk `chunk` (the value of
 * books/je/<owner>/<last>) with seq >= from, in seq order, and (when
 * counterparty is not NULL) with that counterparty: fn gets each entry
 * as a new object (borrowed for the call; incref to keep it). Returns 0
 * when every entry was visited, 1 when fn stopped, fn's negative code,
 * or HANSE_ERR(INTERNAL) for a chunk not of the documented shape. */
typedef int (*books_entry_fn)(void *ctx, json_t *entry);
int books_chunk_each(const char *owner, uint64_t last, json_t *chunk, uint64_t from,
                     const char *counterparty, books_entry_fn fn, void *ctx);
/* The same for chunk <last> of owner read from the state (queries; an
 * index row naming a chunk that is not there is HANSE_ERR(INTERNAL)). */
int books_chunk_read(hanse_view *v, const char *owner, uint64_t last, const char *counterparty,
                     books_entry_fn fn, void *ctx);
/* Entry (owner, seq) as a query reads it: *entry a new reference, NULL
 * when the owner has no such entry. */
int books_entry_find(hanse_view *v, const char *owner, uint64_t seq, json_t **entry);
/* The same during a block (books.reverse): entries of transactions
 * executed before this one, including earlier in this block (whose
 * chunks a stored scan does not see: those are found by walking back
 * from the owner's last chunk). Not the current transaction's staged
 * entries. Errors are environmental. */
int books_entry_lookup(ledger_book *b, const char *owner, uint64_t seq, json_t **entry);

/* The module's query function (books_query.c): chart, rules, journal,
 * entry, tx, trial_balance; the report names go to books_report_query. */
int books_query(hanse_view *v, const char *name, json_t *params, json_t **result,
                hanse_reject *rej);
/* Queries: visit owner's entries with seq > after, in seq order. fn gets
 * each entry (borrowed) and returns 0 to go on, 1 to stop, or a negative
 * error code, which the scan returns. */
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
