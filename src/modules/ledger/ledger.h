/*
 * ledger/ledger.h -- what the ledger module's files share.
 *
 * The ledger is double-entry bookkeeping on the chain: accounts that
 * belong to an enterprise and hold one asset, and transfers that move an
 * integer amount from a debit account to a credit account of that asset.
 * It learns from TigerBeetle's model (pending/posted/voided/expired
 * two-phase transfers, linked chains, balance-rule flags) without copying
 * it. Files: ledger.c (the function table, check, open, dispatch),
 * ledger_book.c (the overlay every action computes on, marks and their
 * undo log, its commit, the per-asset invariant), ledger_balance.c (the
 * fixed-layout account and balance rows, the book's typed cache of
 * accounts and totals), ledger_xfer.c (the transfer record's row),
 * ledger_transfer.c (transfers, linked chains,
 * post, void, expiry), ledger_conf.c (confidential amounts: commitments
 * instead of clear amounts where the chain's policy says so),
 * ledger_query.c.
 *
 * State (readable text keys; values canonical JSON unless said):
 *
 *   ledger/acct/<account>        NOT JSON: the account's static record,
 *                                 "<owner> <asset> <type> <opened_at>
 *                                 <rule> <controller>", one space apart,
 *                                 "-" for no rule or no controller (the
 *                                 module that alone debits it); written
 *                                 once by ledger_account_open and never
 *                                 again (no transfer rewrites it)
 *   ledger/bal/<account>         "<dp> <dpo> <cp> <cpo>" -- NOT JSON: the
 *                                 four balances (debits pending, debits
 *                                 posted, credits pending, credits
 *                                 posted) as decimal u64s separated by
 *                                 one space, no leading zeros; followed,
 *                                 once a confidential transfer touched
 *                                 the account, by " <c1> <c2> <c3> <c4>":
 *                                 the same four as sums of commitments
 *                                 (64-hex points, ledger_conf.c). Absent:
 *                                 all zero (an account nothing moved)
 *   ledger/own/<owner>/<account> "<account>"   accounts by owner
 *   ledger/xfer/<id>             the transfer: the request's fields,
 *                                 "asset", "status" (pending, posted,
 *                                 voided, expired), "tx", "height",
 *                                 "expires_at" (ms), "posted_amount",
 *                                 "resolved_at" once no longer pending,
 *                                 "controller" when a module made it.
 *                                 NOT JSON for a plain transfer: the
 *                                 row "<id> <debit> <credit> <amount>
 *                                 <asset> <status> <flags> <code>
 *                                 <timeout> <expires_at> <business>
 *                                 <ref> <controller> <tx> <height>
 *                                 <posted_amount> <resolved_at>" ("-":
 *                                 absent; flags -, p, l or pl), which
 *                                 starts with the id, never "{";
 *                                 canonical JSON (first byte "{") for
 *                                 a record the row cannot hold, e.g. a
 *                                 confidential one (ledger_xfer.c).
 *                                 Read through ledger_get or
 *                                 ledger_xfer_view, never as JSON
 *   ledger/acx/<account>/<pos>   "<id>": transfers of an account, <pos>
 *                                 = 20-digit height, 7-digit transaction
 *                                 index, 4-digit place in the batch
 *   ledger/exp/<ms>/<id>         "<id>": pending transfers with a
 *                                 timeout, <ms> the 20-digit expiry time
 *   ledger/totals/<asset>        NOT JSON: the four sums over all
 *                                 accounts of the asset, in the layout of
 *                                 ledger/bal/ (with the commitments once
 *                                 a confidential transfer was made)
 *   ledger/sweep                 height of the last expiry sweep
 *   ledger/result/<tx hex>       {"results":[{"id","code"}]} of a
 *                                 transfer transaction, or a post or void
 *                                 of many ids, whose items partly failed
 *   ledger/cx/<asset>/<pos>      "<id>": confidential transfers of an
 *                                 asset (ledger_conf.c)
 *
 * The queries answer an account or totals as one JSON object, as before
 * the split: {"id","owner","asset","type","opened_at","rule"?,
 * "controller"?} (or {"asset"}) with the four balances as decimal
 * strings and "commitments" when kept (ledger_account_view). Every field
 * of the static record is a word without spaces (ids, owners, asset
 * codes, type and rule words, module names), which is what lets it be
 * a fixed layout.
 *
 * Invariant: for every asset, debits_pending == credits_pending and
 * debits_posted == credits_posted in ledger/totals/<asset>, and each of
 * the four totals is the sum of that field over the asset's accounts.
 * Every transfer changes one debit field and one credit field by the same
 * amount; apply checks the totals before it writes and aborts the block
 * (an internal error, like any failing apply) if they disagree.
 *
 * Conventions: const pointers are borrowed, outputs last; functions
 * return HANSE_OK, HANSE_ERR(INVALID) with the rejection filled, or
 * another negative code for an environmental error (then ex->env_error is
 * set and the block is abandoned).
 */
#ifndef HANSE_MODULE_LEDGER_H
#define HANSE_MODULE_LEDGER_H

#include <jansson.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/hex.h"
#include "base/hmap.h"
#include "base/limits.h"
#include "chain/exec.h"
#include "crypto/pedersen.h"
#include "modules/member/member.h"

/* Bounds. Ids are short so keys stay short; a batch fits a payload. */
#define LEDGER_ID_MAX 64            /* account and transfer ids, bytes */
#define LEDGER_TRANSFERS_MAX 256    /* transfers in one ledger.transfer */
#define LEDGER_IDS_MAX 256          /* ids in one ledger.post or ledger.void */
#define LEDGER_CODE_MAX 65535       /* business code: 1..65535 */
#define LEDGER_TIMEOUT_MAX 4294967295ull /* seconds (TigerBeetle's u32) */
#define LEDGER_AMOUNT_MAX INT64_MAX /* one transfer: a JSON integer */
#define LEDGER_OWNER_MAX 64         /* an organisation id or a key's hex */
#define LEDGER_KEY_MAX 256          /* state key buffer */
#define LEDGER_SWEEP_PAGE 256       /* expired transfers read per scan */

_Static_assert(HANSE_MEMBER_ORG_MAX <= LEDGER_OWNER_MAX, "an organisation id is an owner");
_Static_assert(2 * HANSE_PUBKEY_BYTES <= LEDGER_OWNER_MAX, "a key's hex is an owner");
_Static_assert(LEDGER_KEY_MAX > sizeof "ledger/own//" + LEDGER_OWNER_MAX + LEDGER_ID_MAX,
               "an owner index key fits its buffer");
_Static_assert(LEDGER_KEY_MAX > sizeof "ledger/acx//" + LEDGER_ID_MAX + 20 + 7 + 4,
               "an account index key fits its buffer");
_Static_assert(LEDGER_KEY_MAX > sizeof "ledger/exp//" + 20 + LEDGER_ID_MAX,
               "an expiry key fits its buffer");
_Static_assert(HANSE_ASSET_NAME_MAX <= LEDGER_ID_MAX, "an asset code fits a totals entry");
_Static_assert(HANSE_BLOCK_TX_MAX < 10000000, "a transaction index fits 7 digits");
_Static_assert(LEDGER_TRANSFERS_MAX < 10000, "a place in a batch fits 4 digits");
_Static_assert(LEDGER_IDS_MAX <= LEDGER_TRANSFERS_MAX,
               "a post of many ids fits the payload a batch of transfers does");
_Static_assert(LEDGER_TIMEOUT_MAX * 1000 < UINT64_MAX / 2,
               "block time plus a timeout never overflows");

/* The four balance fields, in the order the code walks them (and the
 * order of a balance row, ledger/bal/). */
enum { LEDGER_DP, LEDGER_DPO, LEDGER_CP, LEDGER_CPO, LEDGER_SUMS };
#define LEDGER_DEBITS_PENDING "debits_pending"
#define LEDGER_DEBITS_POSTED "debits_posted"
#define LEDGER_CREDITS_PENDING "credits_pending"
#define LEDGER_CREDITS_POSTED "credits_posted"
extern const char *const ledger_sum_names[LEDGER_SUMS]; /* the four above */

/* ---- syntax (ledger.c, ledger_query.c) ---- */
/* 1 if s is 1-LEDGER_ID_MAX of [A-Za-z0-9._:-]. */
int ledger_id_valid(const char *s);
/* 1 if s is 1-max bytes of [A-Za-z0-9] and the characters in `also` (not
 * NUL): the shape of every id and symbol the money modules take. */
int ledger_name_valid(const char *s, size_t max, const char *also);
/* 1 if s is an asset code: 1-HANSE_ASSET_NAME_MAX of [A-Za-z0-9._-]. */
int ledger_asset_code_valid(const char *s);
/* 1 if s has a currency code's shape: three capitals ("EUR"). */
int ledger_currency_code(const char *s);
/* 1 if s (may be NULL) is one of the NULL-terminated list. */
int ledger_word_in(const char *s, const char *const *list);
/* A member of object o not in `allowed` (NULL-terminated) is
 * "<module>.bad_field" (400), naming `where`: a typo in an optional field
 * must not silently change what happens. */
int ledger_only_members(json_t *o, const char *const *allowed, const char *module,
                        const char *where, hanse_reject *rej);

/* ---- balances (ledger_balance.c) ----
 *
 * An account's or an asset's four sums as numbers, and -- once a
 * confidential transfer touched them -- as sums of commitments. Stored as
 * a balance row (ledger/bal/, ledger/totals/): "dp dpo cp cpo", then
 * " c1 c2 c3 c4" (64 hex each) when conf. */
typedef struct ledger_sums {
  uint64_t v[LEDGER_SUMS];
  int conf;                     /* 1: cm holds the sums of commitments */
  hanse_point cm[LEDGER_SUMS];
} ledger_sums;

#define LEDGER_SUMS_TEXT_MAX (LEDGER_SUMS * 21 + LEDGER_SUMS * HANSE_POINT_HEX_BYTES)
/* The row's text, NUL-terminated; returns its length. */
size_t ledger_sums_format(char out[LEDGER_SUMS_TEXT_MAX], const ledger_sums *s);
/* Parse a row (n bytes, no NUL needed) into *s; 0 if it is not one
 * exactly (a bug in this module when read from the state). */
int ledger_sums_parse(ledger_sums *s, const char *text, size_t n);
/* Set the four sums on o as decimal-string members, and "commitments"
 * ({the four: 64 hex}) when conf: the answer shape of the queries. */
int ledger_sums_json(json_t *o, const ledger_sums *s);

/* What every fixed-layout row (balances, accounts, transfers) is made
 * of: words of printable ASCII without a space, one space apart, and
 * decimal u64s without leading zeros (written with hanse_fmt_u64,
 * base/fmt.h); ledger_row_char is 1
 * for a byte a word may hold; ledger_row_word reads the next word of
 * text[*at..n) into out (cap bytes with the NUL) and steps past it and its
 * separator -- 0 if there is none that fits, the separator is not one
 * space, or (last) it does not end the text, or (!last) it does. */
int ledger_row_char(char c);
int ledger_row_word(const char *text, size_t n, size_t *at, char *out, size_t cap, int last);

typedef enum ledger_rule {
  LEDGER_RULE_NONE,
  LEDGER_RULE_DEBITS,  /* debits_must_not_exceed_credits */
  LEDGER_RULE_CREDITS  /* credits_must_not_exceed_debits */
} ledger_rule;

/* An account as a book holds it: the static record parsed once per book
 * and never changed, the balances changed in place and written once, at
 * commit, when dirty. The pointers point into the struct itself or at
 * constants, so a byte copy (ledger_book_save) restores it. */
#define LEDGER_WORD_MAX 31 /* a type word or a module name */
typedef struct ledger_acct {
  char id[LEDGER_ID_MAX + 1];
  char owner[LEDGER_OWNER_MAX + 1];
  char asset[LEDGER_ID_MAX + 1];
  char type[LEDGER_WORD_MAX + 1];
  char controller_buf[LEDGER_WORD_MAX + 1];
  const char *controller;  /* controller_buf, or NULL: none */
  const char *rule_name;   /* NULL: none */
  ledger_rule rule;
  uint64_t opened_at;      /* height */
  ledger_sums sums;
  int dirty;               /* sums changed: the commit writes ledger/bal/ */
  int opened;              /* opened by this book: it writes ledger/acct/ */
  struct ledger_acct *shared; /* the shared cache's entry it was copied from
                               * (ledger_balance.c), or NULL */
} ledger_acct;

#define LEDGER_ACCT_TEXT_MAX \
  (LEDGER_OWNER_MAX + LEDGER_ID_MAX + 3 * LEDGER_WORD_MAX + 64 + 21 + 6)
/* The static record's row, NUL-terminated; returns its length. */
size_t ledger_acct_format(char out[LEDGER_ACCT_TEXT_MAX], const ledger_acct *a);
/* Parse account id's row (n bytes) into *a (sums zero); 0 if it is not
 * one exactly. */
int ledger_acct_parse(ledger_acct *a, const char *id, const char *text, size_t n);
/* {"id","owner","asset","type","opened_at","rule"?,"controller"?}: the
 * record as the queries answer it (without the balances); NULL on no
 * memory. */
json_t *ledger_acct_json(const ledger_acct *a);

/* An asset's totals as a book holds them. */
typedef struct ledger_totals {
  char asset[LEDGER_ID_MAX + 1];
  json_t *asset_json;      /* the asset as a JSON string, for records */
  ledger_sums sums;
  int dirty;
} ledger_totals;

/* ---- the book: an overlay over the state (ledger_book.c) ----
 *
 * Every action computes on a book: reads go to the overlay first, then
 * the state; writes stay in the overlay. Balances and totals live in the
 * book's typed cache (ledger_acct_load, ledger_totals_load), not in the
 * overlay. verify runs the action on a book and hands it to apply
 * (ledger_book_keep), which commits it; the same state, so the same
 * outcome as running it again. A linked chain sets a mark and rolls back
 * to it when a member fails (ledger_book_mark): every overlay write and
 * every change to the cache since the mark is undone, so a failed chain
 * leaves nothing behind. */
struct ledger_undo;
typedef struct ledger_book {
  hanse_exec *ex;                 /* borrowed */
  json_t *w;                      /* owned: key -> new value, or null: deleted */
  char owner[LEDGER_OWNER_MAX + 1]; /* the signer's enterprise */
  const char *owner_status;       /* the signer's member status */
  char tx_hex[HANSE_HASH_HEX_BYTES]; /* the transaction's id */
  json_t *tx_json, *height_json;  /* owned: the same as JSON, for records */
  hanse_hmap accts;               /* account id -> ledger_acct* (owned) */
  hanse_hmap totals;              /* asset -> ledger_totals* (owned) */
  /* The books' staged entries (books_post.c, books_entry_stage): lines
   * "<owner>\t<seq>\t<entry line>\n", the live ones the first
   * stage_at.len bytes of stage (stage_at.n lines: a rollback restores
   * stage_at, the next append cuts stage to it), and each owner's entry
   * counter as staged so far (owner -> books' counter, owned). */
  hanse_buf stage;
  struct {
    size_t len, n;
  } stage_at;
  hanse_hmap seqs;                /* slots NULL until the first owner */
  /* Rows the commit writes as they are (ledger_put_text): each the key,
   * a NUL, the value's length (size_t) and the value. */
  hanse_buf text_rows;
  size_t text_n;
  /* The undo log, while a mark is set (marks > 0). */
  struct ledger_undo *undo;       /* owned */
  size_t undo_n, undo_cap;
  hanse_buf undo_bytes;           /* saved bytes and keys the entries name */
  unsigned marks;
} ledger_book;

/* Start a book for the current transaction: the signer's owner (its
 * organisation, or its key's hex when the chain's members do not know
 * it), and the expiry sweep when it is the block's first (ledger_sweep). */
int ledger_book_open(ledger_book *b, hanse_exec *ex);
void ledger_book_close(ledger_book *b);
/* *out: a new reference, NULL when absent. A stored value that is not
 * JSON is a bug in this module: logged, environmental. Not for the keys
 * of the cache (ledger/acct/, ledger/bal/, ledger/totals/: asserted);
 * ledger_acct_load and ledger_totals_load read those. */
int ledger_get(ledger_book *b, const char *key, json_t **out);
/* Steals val. */
int ledger_put(ledger_book *b, const char *key, json_t *val);
int ledger_del(ledger_book *b, const char *key);
/* While the commit flushes (no mark set: asserted): a new key's value,
 * already in its stored form (canonical JSON), which the commit writes
 * as it is. Nothing in the book reads it back (ledger_get does not see
 * it); the key must be one nothing else in the book puts. */
int ledger_put_text(ledger_book *b, const char *key, const char *text, size_t n);
/* Check the per-asset invariant on every total the book changed, then
 * write the overlay in key order. A broken invariant is a bug: logged,
 * HANSE_ERR(INTERNAL), the block is abandoned. */
int ledger_book_commit(ledger_book *b);
/* Marks, for linked chains: mark returns a position in the undo log and
 * starts logging; rollback(m) undoes every ledger_put/ledger_del, every
 * ledger_book_save and every cache load since m, and ends the mark;
 * release(m) ends the mark and keeps the changes. Marks nest (release and
 * rollback in the reverse order of mark); the log is dropped when the
 * outermost mark ends. */
size_t ledger_book_mark(ledger_book *b);
void ledger_book_rollback(ledger_book *b, size_t mark);
void ledger_book_release(ledger_book *b, size_t mark);
/* Before changing n bytes at `at` in place (memory the book outlives,
 * e.g. a cached account), while a mark is set: note them, so a rollback
 * restores them. Free outside a mark. Environmental on no memory. */
int ledger_book_save(ledger_book *b, void *at, size_t n);
/* While a mark is set: have a rollback past this point call undo(b, arg)
 * (which must not fail), e.g. to forget a cache entry made since. Free
 * outside a mark. Environmental on no memory. */
typedef void (*ledger_undo_fn)(ledger_book *b, void *arg);
int ledger_book_on_rollback(ledger_book *b, ledger_undo_fn undo, void *arg);
/* verify's book, carried to apply: once verify has run an action
 * successfully, keep hands the book to the transaction's apply
 * (hanse_exec_carry: nothing writes in between, so it is the book apply
 * would compute) and leaves b closed. take: 1 and *b that book, to
 * commit and close; 0 when verify kept none (apply computes it). */
void ledger_book_keep(ledger_book *b);
int ledger_book_take(ledger_book *b, hanse_exec *ex);

/* Run one action of a module that computes on a book (the ledger, the
 * books, and any module that moves money through the ledger):
 * verify opens a book, runs the action and keeps the book for apply
 * (ledger_book_keep); apply commits it, or -- when verify kept none --
 * runs the action again on a fresh book and commits that. Both first
 * refuse a signing key the member registry knows but that is not active
 * ("<module>.key_inactive", 403: it acts for no enterprise). `run` gets
 * commit == 1 (the flag stays for modules that want it; every run is now
 * the whole action). A rejection in apply, after verify accepted on the
 * same state, is a bug: logged, HANSE_ERR(INTERNAL). Other errors set
 * ex->env_error. A run must not change a value ledger_get returned in
 * place: the book may be kept. */
/* The signer's enterprise may act: an active member, or a key the
 * registry does not know (an open chain); else "<module>.key_inactive"
 * (403). The runner below checks it; a module opening its own book
 * (order's delivery release) calls it. */
int ledger_book_acting(const ledger_book *b, const char *module, hanse_reject *rej);
typedef int (*ledger_book_fn)(ledger_book *b, const hanse_tx *tx, const char *action,
                              json_t *p, int commit, hanse_reject *rej);
int ledger_book_verify(hanse_exec *ex, const hanse_tx *tx, const char *action, json_t *p,
                       const char *module, ledger_book_fn run, hanse_reject *rej);
int ledger_book_apply(hanse_exec *ex, const hanse_tx *tx, const char *action, json_t *p,
                      const char *module, ledger_book_fn run);
/* A module on the runner defines its table's verify and apply with one
 * line: LEDGER_BOOK_STEPS(fx, "fx", fx_run) makes fx_verify and fx_apply. */
#define LEDGER_BOOK_STEPS(prefix, module, run)                                               \
  static int prefix##_verify(hanse_exec *ex, const hanse_tx *tx, const char *action,          \
                             json_t *p, hanse_reject *rej) {                                  \
    return ledger_book_verify(ex, tx, action, p, module, run, rej);                           \
  }                                                                                           \
  static int prefix##_apply(hanse_exec *ex, const hanse_tx *tx, const char *action,           \
                            json_t *p) {                                                      \
    return ledger_book_apply(ex, tx, action, p, module, run);                                 \
  }

/* Amount fields (decimal strings) of other modules' records. get: 0 if
 * absent; a malformed field is a bug (HANSE_ERR(INTERNAL)). */
int ledger_u64_get(json_t *o, const char *field, uint64_t *v);
int ledger_u64_set(json_t *o, const char *field, uint64_t v);
/* Parse a decimal u64 string; 0 if not one. */
int ledger_u64_parse(const char *s, uint64_t *v);

/* Key builders. */
void ledger_key_acct(char key[LEDGER_KEY_MAX], const char *account);
void ledger_key_xfer(char key[LEDGER_KEY_MAX], const char *id);
void ledger_key_totals(char key[LEDGER_KEY_MAX], const char *asset);
void ledger_key_bal(char key[LEDGER_KEY_MAX], const char *account);

/* The book's cached account `id` (loaded on first use: its static record
 * and its balance row), or *out NULL when there is none. Borrowed: valid
 * until the book closes (or a rollback past its load). Change a->sums only
 * after ledger_book_save(b, a, sizeof *a), and set a->dirty. Other
 * modules read accounts through this (never ledger_get: the rows are not
 * JSON). */
int ledger_acct_load(ledger_book *b, const char *id, ledger_acct **out);
/* After a successful commit: copy the book's accounts into the cache the
 * pipeline keeps across transactions (ledger_balance.c), when there is
 * one. Never fails: on no memory that cache is emptied. */
void ledger_cache_share(ledger_book *b);
/* A new account in the cache, written by the commit (ledger_account_open
 * makes the checks); rule and controller may be NULL. */
int ledger_acct_new(ledger_book *b, const char *id, const char *owner, const char *asset,
                    const char *type, const char *rule, const char *controller);
/* The book's totals of `asset` (zeros when the asset has none yet);
 * borrowed, changed as accounts are. */
int ledger_totals_load(ledger_book *b, const char *asset, ledger_totals **out);
/* Free the book's cache (ledger_book_close). */
void ledger_cache_free(ledger_book *b);
/* For queries: account `id` as one object, its static record with the
 * balances merged in (ledger_sums_json); *out NULL when absent. */
int ledger_account_view(hanse_view *v, const char *id, json_t **out);
/* For queries: {"asset", the four sums, "commitments"?} of an asset;
 * *out NULL when it has no totals. */
int ledger_totals_view(hanse_view *v, const char *asset, json_t **out);

/* ---- for other modules ----
 *
 * Orders, tokens, conversions and clearing move money through the ledger
 * on the same book, so that their writes and the ledger's succeed or
 * vanish together. A module may open accounts it controls (only it debits
 * them: ledger.controlled for anyone else) and make transfers it controls
 * (only it posts or voids them; the ledger does not book them in the
 * books, the module books what they mean). */

/* Open an account (the checks of ledger.open: exists, asset known). rule
 * and controller may be NULL. */
int ledger_account_open(ledger_book *b, const char *account, const char *owner,
                        const char *asset, const char *type, const char *rule,
                        const char *controller, hanse_reject *rej);

typedef struct ledger_xfer_opts {
  int signer_owns;        /* 1: the signer's enterprise must own the debit
                           * account; 0: the calling module vouches */
  const char *controller; /* module name, or NULL: see above */
} ledger_xfer_opts;

/* Create one transfer t (its fields as in ledger.transfer, checked by the
 * caller or ledger_transfer_check) at `place` in the transaction (distinct
 * per transfer: it orders the account index). *exists: it was there
 * already with the same fields, and nothing changed. A rejection leaves
 * the book as it was. A transfer without a controller that posts an
 * amount between two owners books it (books_post) by its "business"
 * (default payment). */
int ledger_transfer_make(ledger_book *b, json_t *t, size_t place, const ledger_xfer_opts *o,
                         int *exists, hanse_reject *rej);
/* A module's own transfer, the common case of ledger_transfer_make: a
 * single-phase transfer `tid` of amount from debit to credit with the
 * business reference `ref`, controlled by `controller`. A transfer already
 * there under tid is not the module's to reuse: "<controller>.id_conflict"
 * (409), since a transfer someone else made cannot stand for this one. */
int ledger_transfer_controlled(ledger_book *b, const char *tid, const char *debit,
                               const char *credit, uint64_t amount, const char *ref,
                               size_t place, int signer_owns, const char *controller,
                               hanse_reject *rej);
/* ledger_check's rules for one transfer object (i of n in a batch). */
int ledger_transfer_check(json_t *t, size_t i, size_t n, hanse_reject *rej);

/* ---- the transfer record's row (ledger_xfer.c) ----
 *
 * A plain transfer's record is stored as a fixed-layout row (see
 * ledger/xfer/ above); a record the row cannot hold (a confidential
 * amount) stays canonical JSON, told apart by its first byte "{". The
 * module computes on the record's JSON object; these convert at the
 * store's edge. */
#define LEDGER_XFER_PREFIX "ledger/xfer/"
typedef struct ledger_xfer {
  char id[LEDGER_ID_MAX + 1], debit[LEDGER_ID_MAX + 1], credit[LEDGER_ID_MAX + 1];
  char asset[LEDGER_ID_MAX + 1];
  char business[LEDGER_WORD_MAX + 1];   /* "": none */
  char ref[LEDGER_ID_MAX + 1];          /* "": none */
  char controller[LEDGER_WORD_MAX + 1]; /* "": none */
  char tx[HANSE_HASH_HEX_BYTES];
  const char *status;                   /* pending, posted, voided, expired */
  uint64_t amount, height;
  uint64_t code, timeout, expires_at, posted_amount, resolved_at; /* when in has */
  unsigned has;                         /* which of the five are present */
  int pending, linked;
} ledger_xfer;
/* The optional numbers' bits in ledger_xfer.has. */
enum {
  LEDGER_XFER_CODE = 1,
  LEDGER_XFER_TIMEOUT = 2,
  LEDGER_XFER_EXPIRES = 4,
  LEDGER_XFER_POSTED = 8,
  LEDGER_XFER_RESOLVED = 16
};
#define LEDGER_XFER_TEXT_MAX \
  (5 * (LEDGER_ID_MAX + 1) + 4 * (LEDGER_WORD_MAX + 1) + HANSE_HASH_HEX_BYTES + 7 * 21 + 1)
/* The row of *x (valid: asserted), NUL-terminated; returns its length. */
size_t ledger_xfer_format(char out[LEDGER_XFER_TEXT_MAX], const ledger_xfer *x);
/* Parse a row (n bytes, no NUL needed) into *x; 0 if it is not one
 * exactly (every accepted row prints back to the same bytes). */
int ledger_xfer_parse(ledger_xfer *x, const char *text, size_t n);
/* *x from a record's JSON object; 0 if the row has no place for one of
 * its members or values (it then stays JSON). */
int ledger_xfer_from_json(ledger_xfer *x, json_t *rec);
/* *x from a transfer request's fields (`fields`, a NULL-ended list of
 * the request members a record keeps; false flags left out), as
 * from_json would take them from the record; 0 if the row has no place
 * for one. The caller adds what the ledger adds and checks
 * ledger_xfer_valid. */
int ledger_xfer_from_request(ledger_xfer *x, json_t *t, const char *const *fields);
/* The record as its JSON object (members in sorted order); NULL on no
 * memory. ledger_xfer_json(from_json(rec)) is json_equal to rec. */
json_t *ledger_xfer_json(const ledger_xfer *x);
/* The stored value of record rec: 1 and its row in out (*n bytes), or 0:
 * store it as JSON. */
int ledger_xfer_encode(json_t *rec, char out[LEDGER_XFER_TEXT_MAX], size_t *n);
/* A stored value (row or JSON) as the record's JSON object; NULL if it is
 * neither (a bug in this module). */
json_t *ledger_xfer_decode(const char *text, size_t n);
/* In a book: transfer `id`'s record. *found 0: none. Else either *rec
 * (a new reference) is its JSON object, when it is one the row cannot
 * hold (confidential), or *rec is NULL and *x holds it. A stored value
 * that is neither is a bug: logged, HANSE_ERR(INTERNAL). */
int ledger_xfer_load(ledger_book *b, const char *id, ledger_xfer *x, json_t **rec, int *found);
/* Write *x (valid: asserted) as transfer x->id's record, as its row: the
 * book holds the row's text, and ledger_get answers the record's JSON. */
int ledger_xfer_put(ledger_book *b, const ledger_xfer *x);
/* x is a record the row holds (its fields' forms and ranges). */
int ledger_xfer_valid(const ledger_xfer *x);
/* 1 if key is a transfer record's (ledger/xfer/...). */
int ledger_key_is_xfer(const char *key);
/* For queries: the record at key (ledger/xfer/<id>) as JSON; *out NULL
 * when absent; a value that is no record is HANSE_ERR(INTERNAL). */
int ledger_xfer_view(hanse_view *v, const char *key, json_t **out);

/* ---- transfers (ledger_transfer.c) ---- */
/* Release every pending transfer whose expiry time is at or before the
 * block time, once per block: at the start of the block's first ledger
 * transaction (ledger/sweep records the height). */
int ledger_sweep(ledger_book *b);
/* Run a batch (the payload's "transfers", checked): res[i] receives each
 * transfer's outcome ("ok", "ledger.exists", or a rejection); *done the
 * number of ok or exists. Environmental errors only in the return. */
int ledger_transfers_run(ledger_book *b, json_t *list, hanse_reject *res, size_t *done);
/* An item's success in res: "ok", or "ledger.exists" for a transfer made
 * before with the same fields. */
void ledger_result_ok(hanse_reject *r, int exists);
/* Post (amount may be 0: the whole pending amount) or void a pending
 * transfer. controller: NULL for a signer's ledger.post / ledger.void
 * (the signer's enterprise must own the debit account; a controlled
 * transfer is ledger.controlled), or the module that controls it. A
 * rejection leaves the book as it was (every check precedes every write),
 * so a transaction of many posts or voids keeps the others. */
int ledger_resolve(ledger_book *b, const char *id, int post, uint64_t amount,
                   const char *controller, hanse_reject *rej);

/* ---- confidential amounts (ledger_conf.c) ----
 *
 * A transfer whose "amount" is an object {"commitment","opening"} is
 * confidential. The clear path calls these at four places: check, make,
 * settle and commit. */
/* 1 if transfer or record t has a confidential amount. */
int ledger_conf_is(json_t *t);
/* check: the shape of a confidential amount (`where` names the transfer).
 * ledger.bad_amount, ledger.bad_commitment, ledger.bad_opening. */
int ledger_conf_amount_check(json_t *amount, const char *where, hanse_reject *rej);
/* open: an account with a balance rule in an asset the policy makes
 * confidential is ledger.confidential_rule. */
int ledger_conf_open_check(ledger_book *b, const char *asset, const char *rule,
                           hanse_reject *rej);
/* make: does t's form match the policy in force for the asset of debit
 * account d (ledger.confidential_required, ledger.not_confidential)? For
 * a confidential t, also: neither d nor c has a rule, and the opening is
 * sealed to both owners and every auditor. *conf: t is confidential. */
int ledger_conf_admit(ledger_book *b, json_t *t, const ledger_acct *d, const ledger_acct *c,
                      int *conf, hanse_reject *rej);
/* Add (add = 1) or take out the commitment of `amount` in the
 * commitments of d (field df), c (cf) and totals t (both), in place (the
 * caller saved them for the undo log). Errors are internal (a stored
 * value that is no point). */
int ledger_conf_move(ledger_sums *d, ledger_sums *c, ledger_sums *t, int df, int cf,
                     json_t *amount, int add);
/* Release a pending confidential transfer `rec`: out of pending, and into
 * posted when post. */
int ledger_conf_settle(ledger_sums *d, ledger_sums *c, ledger_sums *t, json_t *rec, int post);
/* ledger/cx/<asset>/<pos> = id. */
int ledger_conf_index(ledger_book *b, const char *asset, const char *pos, const char *id);
/* commit: the commitments of an asset's totals balance (logged if not;
 * key names them in the log). */
int ledger_conf_balanced(const char *key, const ledger_sums *totals);
/* Query "confidential": {"assets":[...],"auditors":[...]} of the policy
 * in force at the last committed block (empty lists: none). */
int ledger_conf_query_policy(hanse_view *v, json_t **result, hanse_reject *rej);

/* ---- queries (ledger_query.c) ---- */
int ledger_query(hanse_view *v, const char *name, json_t *params, json_t **result,
                 hanse_reject *rej);
/* 1 if s is an owner: an organisation id or a key's lowercase hex. */
int ledger_owner_valid(const char *s);
/* A page of the records under `prefix` (a key prefix ending in '/')
 * after params.after (the part of a key after the prefix), at most
 * hanse_view_limit(params), into result[member]; with "next" (the
 * "after" that continues) when the page is full. via_index: the values
 * are ids and each record is read at record_prefix + id (an account,
 * under "ledger/acct/", with its balances: ledger_account_view). Errors
 * are rejections (500 for the store, a stored value not JSON). */
/* Keys of the ledger's derived indexes (store.h): rows keyed by a
 * transfer's position -- ledger/acx/<account>/<pos>, ledger/cx/<asset>/<pos>
 * -- that only queries read. The book writes them with
 * hanse_exec_index_put, the list queries scan them there. */
int ledger_key_indexed(const char *key);

int ledger_list(hanse_view *v, const char *prefix, json_t *params, int via_index,
                const char *record_prefix, const char *member, json_t *result,
                hanse_reject *rej);

#endif
