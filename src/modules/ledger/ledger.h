/*
 * ledger/ledger.h -- what the ledger module's files share.
 *
 * The ledger is double-entry bookkeeping on the chain: accounts that
 * belong to an enterprise and hold one asset, and transfers that move an
 * integer amount from a debit account to a credit account of that asset.
 * It learns from TigerBeetle's model (pending/posted/voided/expired
 * two-phase transfers, linked chains, balance-rule flags) without copying
 * it. Files: ledger.c (the function table, check, open, dispatch),
 * ledger_book.c (the overlay every action computes on, its commit, the
 * per-asset invariant), ledger_transfer.c (transfers, linked chains,
 * post, void, expiry), ledger_query.c.
 *
 * State (readable text keys; every value canonical JSON):
 *
 *   ledger/acct/<account>        {"id","owner","asset","type","rule"?,
 *                                 "opened_at", "debits_pending",
 *                                 "debits_posted","credits_pending",
 *                                 "credits_posted", "controller"?}
 *                                 amounts: decimal strings of unsigned
 *                                 64-bit integers; controller: the module
 *                                 that alone debits it
 *   ledger/own/<owner>/<account> "<account>"   accounts by owner
 *   ledger/xfer/<id>             the transfer: the request's fields,
 *                                 "asset", "status" (pending, posted,
 *                                 voided, expired), "tx", "height",
 *                                 "expires_at" (ms), "posted_amount",
 *                                 "resolved_at" once no longer pending,
 *                                 "controller" when a module made it
 *   ledger/acx/<account>/<pos>   "<id>": transfers of an account, <pos>
 *                                 = 20-digit height, 7-digit transaction
 *                                 index, 4-digit place in the batch
 *   ledger/exp/<ms>/<id>         "<id>": pending transfers with a
 *                                 timeout, <ms> the 20-digit expiry time
 *   ledger/totals/<asset>        the four sums over all accounts of the
 *                                 asset (decimal strings)
 *   ledger/sweep                 height of the last expiry sweep
 *   ledger/result/<tx hex>       {"results":[{"id","code"}]} of a
 *                                 transfer transaction whose transfers
 *                                 partly failed
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

#include "base/err.h"
#include "base/limits.h"
#include "chain/exec.h"
#include "modules/member/member.h"

/* Bounds. Ids are short so keys stay short; a batch fits a payload. */
#define LEDGER_ID_MAX 64            /* account and transfer ids, bytes */
#define LEDGER_TRANSFERS_MAX 256    /* transfers in one ledger.transfer */
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
_Static_assert(HANSE_BLOCK_TX_MAX < 10000000, "a transaction index fits 7 digits");
_Static_assert(LEDGER_TRANSFERS_MAX < 10000, "a place in a batch fits 4 digits");
_Static_assert(LEDGER_TIMEOUT_MAX * 1000 < UINT64_MAX / 2,
               "block time plus a timeout never overflows");

/* The four balance fields, in the order the code walks them. */
#define LEDGER_DEBITS_PENDING "debits_pending"
#define LEDGER_DEBITS_POSTED "debits_posted"
#define LEDGER_CREDITS_PENDING "credits_pending"
#define LEDGER_CREDITS_POSTED "credits_posted"

/* ---- syntax (ledger.c) ---- */
/* 1 if s is 1-LEDGER_ID_MAX of [A-Za-z0-9._:-]. */
int ledger_id_valid(const char *s);

/* ---- the book: an overlay over the state (ledger_book.c) ----
 *
 * Every action computes on a book: reads go to the overlay first, then
 * the state; writes stay in the overlay. verify runs the action on a book
 * and hands it to apply (ledger_book_keep), which commits it; the same
 * state, so the same outcome as running it again. A linked chain snapshots the
 * overlay and restores it when a member fails, so a failed chain leaves
 * nothing behind. */
typedef struct ledger_book {
  hanse_exec *ex;                 /* borrowed */
  json_t *w;                      /* owned: key -> new value, or null: deleted */
  char owner[LEDGER_OWNER_MAX + 1]; /* the signer's enterprise */
  const char *owner_status;       /* the signer's member status */
} ledger_book;

/* Start a book for the current transaction: the signer's owner (its
 * organisation, or its key's hex when the chain's members do not know
 * it), and the expiry sweep when it is the block's first (ledger_sweep). */
int ledger_book_open(ledger_book *b, hanse_exec *ex);
void ledger_book_close(ledger_book *b);
/* *out: a new reference, NULL when absent. A stored value that is not
 * JSON is a bug in this module: logged, environmental. */
int ledger_get(ledger_book *b, const char *key, json_t **out);
/* Steals val. */
int ledger_put(ledger_book *b, const char *key, json_t *val);
int ledger_del(ledger_book *b, const char *key);
/* Check the per-asset invariant on every total the book changed, then
 * write the overlay in key order. A broken invariant is a bug: logged,
 * HANSE_ERR(INTERNAL), the block is abandoned. */
int ledger_book_commit(ledger_book *b);
/* Snapshot and restore, for linked chains: snapshot returns a new
 * reference; restore steals it. */
json_t *ledger_book_snapshot(ledger_book *b);
void ledger_book_restore(ledger_book *b, json_t *snap);
/* verify's book, carried to apply: once verify has run an action
 * successfully, keep hands the book to the transaction's apply
 * (hanse_exec_carry: nothing writes in between, so it is the book apply
 * would compute) and leaves b closed. take: 1 and *b that book, to
 * commit and close; 0 when verify kept none (apply computes it). */
void ledger_book_keep(ledger_book *b);
int ledger_book_take(ledger_book *b, hanse_exec *ex);

/* Amount fields (decimal strings). get: 0 if absent; a malformed field is
 * a bug (HANSE_ERR(INTERNAL)). */
int ledger_u64_get(json_t *o, const char *field, uint64_t *v);
int ledger_u64_set(json_t *o, const char *field, uint64_t v);
/* Parse a decimal u64 string; 0 if not one. */
int ledger_u64_parse(const char *s, uint64_t *v);

/* Key builders. */
void ledger_key_acct(char key[LEDGER_KEY_MAX], const char *account);
void ledger_key_xfer(char key[LEDGER_KEY_MAX], const char *id);
void ledger_key_totals(char key[LEDGER_KEY_MAX], const char *asset);

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
/* ledger_check's rules for one transfer object (i of n in a batch). */
int ledger_transfer_check(json_t *t, size_t i, size_t n, hanse_reject *rej);

/* ---- transfers (ledger_transfer.c) ---- */
/* Release every pending transfer whose expiry time is at or before the
 * block time, once per block: at the start of the block's first ledger
 * transaction (ledger/sweep records the height). */
int ledger_sweep(ledger_book *b);
/* Run a batch (the payload's "transfers", checked): res[i] receives each
 * transfer's outcome ("ok", "ledger.exists", or a rejection); *done the
 * number of ok or exists. Environmental errors only in the return. */
int ledger_transfers_run(ledger_book *b, json_t *list, hanse_reject *res, size_t *done);
/* Post (amount may be 0: the whole pending amount) or void a pending
 * transfer. controller: NULL for a signer's ledger.post / ledger.void
 * (the signer's enterprise must own the debit account; a controlled
 * transfer is ledger.controlled), or the module that controls it. */
int ledger_resolve(ledger_book *b, const char *id, int post, uint64_t amount,
                   const char *controller, hanse_reject *rej);

/* ---- queries (ledger_query.c) ---- */
int ledger_query(hanse_view *v, const char *name, json_t *params, json_t **result,
                 hanse_reject *rej);

#endif
