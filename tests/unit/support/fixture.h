/*
 * fixture.h -- shared helpers for the unit tests: deterministic keys,
 * transaction and body builders, and a throw-away chain in a temporary
 * directory.
 *
 * Everything here fails the running cmocka test (fail_msg) rather than
 * returning errors: a helper that cannot do its job means the test cannot
 * say anything. Every fx_*_setup has a matching teardown that frees all it
 * allocated and removes the directory, so the tests stay clean under
 * LeakSanitizer.
 */
#ifndef HANSE_TEST_FIXTURE_H
#define HANSE_TEST_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/buf.h"
#include "chain/chain.h"
#include "chain/module.h"
#include "encoding/block.h"
#include "encoding/tx.h"

#define FX_CHAIN_ID "test"
#define FX_T0_MS 1700000000000ull /* block time of genesis */

/* Deterministic key pair: the seed is `tag` repeated. */
void fx_key(hanse_keypair *kp, uint8_t tag);
/* Lowercase hex of a public key into out[HANSE_HASH_HEX_BYTES]. */
const char *fx_hex(char out[HANSE_HASH_HEX_BYTES], const hanse_pubkey *pk);
/* The same in static storage, four buffers in turn: up to four may be in
 * use at once (one printf of several keys). */
const char *fx_hexkey(const hanse_pubkey *pk);

/* Encode one transaction (signed when batched == 0, else without its
 * signature) and append it to out. The payload is printf-formatted. */
void fx_tx(hanse_buf *out, const hanse_keypair *kp, const char *chain_id,
           const char *kind, uint64_t seq, int batched, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* A body under construction: entries are appended, finish writes the
 * entry count in front. */
typedef struct fx_body {
  hanse_buf entries;
  uint32_t count;
  hanse_buf out; /* the finished body (fx_body_finish) */
} fx_body;

void fx_body_init(fx_body *b);
void fx_body_free(fx_body *b);
/* Append a signed transaction entry. */
void fx_body_tx(fx_body *b, const hanse_keypair *kp, const char *kind,
                uint64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Append a batch of n transactions of one signer with sequences
 * seq0..seq0+n-1; kinds[i] and payloads[i] (plain JSON text). */
void fx_body_batch(fx_body *b, const hanse_keypair *kp, uint64_t seq0,
                   uint32_t n, const char *const *kinds,
                   const char *const *payloads);
/* Write u32 count || entries into b->out and return it. */
const hanse_buf *fx_body_finish(fx_body *b);

/* A chain in a fresh temporary directory. Keys: node (validator), alice
 * (in organisation "acme"), bob, carol. */
typedef struct fx_chain {
  char dir[256];
  hanse_keypair node, alice, bob, carol;
  hanse_chain *chain;
  uint64_t time_ms; /* time of the next proposed block */
} fx_chain;

/* mkdtemp, hanse_chain_create with the test genesis, hanse_chain_open
 * (with `vfs`, may be NULL). Registers the modules. */
void fx_chain_setup(fx_chain *f, const char *vfs);
/* The same with the members of `extra` (borrowed, may be NULL) set in the
 * genesis, replacing the test genesis's own (e.g. more "organisations"). */
void fx_chain_setup_with(fx_chain *f, const char *vfs, json_t *extra);
/* Close (if open) and remove the directory. */
void fx_chain_teardown(fx_chain *f);
/* cmocka setup and teardown for a test on a fresh chain: *state
 * is a calloc'd fx_chain, set up without a vfs. */
int fx_setup_chain(void **state);
int fx_teardown_chain(void **state);
/* Close the chain and audit it (hanse verify's re-execution from genesis
 * on a fresh database: the same digests, receipts and history rows);
 * a failing audit fails the test. */
void fx_chain_audit(fx_chain *f);
/* The context-free check of one transaction of alice's (kind, payload
 * text): "ok" or the rejection's code (static storage), which must then
 * carry status 400 and a message. */
const char *fx_check(const fx_chain *f, const char *kind, const char *payload);
/* fx_check of each case; a code other than the case's fails the test,
 * naming the case. */
typedef struct fx_check_case {
  const char *kind, *payload, *code;
} fx_check_case;
void fx_check_cases(const fx_chain *f, const fx_check_case *cases, size_t n);
/* Close and reopen the chain; returns hanse_chain_open's code (the chain
 * is NULL on failure). */
int fx_chain_reopen(fx_chain *f, const char *vfs, hanse_reject *rej);

/* Propose a finished body; receipts[cap] may be NULL. Returns the code. */
int fx_propose(fx_chain *f, fx_body *b, hanse_receipt *receipts, uint32_t cap,
               hanse_reject *rej);
/* Propose and require success and every receipt to be "ok". */
void fx_propose_ok(fx_chain *f, fx_body *b);
/* Propose one transaction of kp in a block of its own (the payload is
 * printf-formatted); *r receives its receipt and r->code is returned.
 * A block that cannot be proposed fails the test. */
const char *fx_propose_tx(fx_chain *f, const hanse_keypair *kp, const char *kind,
                          uint64_t seq, hanse_receipt *r, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
const char *fx_propose_vtx(fx_chain *f, const hanse_keypair *kp, const char *kind,
                           uint64_t seq, hanse_receipt *r, const char *fmt, va_list ap)
    __attribute__((format(printf, 6, 0)));

/* State value of `key` through a reader connection and hanse_view, as a
 * NUL-terminated string in out (size n); returns found (0/1). */
int fx_state(fx_chain *f, const char *key, char *out, size_t n);
/* Balance of `owner` in `asset` through the asset module's query. */
int64_t fx_balance(fx_chain *f, const char *asset, const hanse_pubkey *owner);
/* Run a module query on a reader; returns the code, *result owned by the
 * caller (NULL on rejection). */
int fx_query(fx_chain *f, const char *module, const char *name,
             json_t *params, json_t **result, hanse_reject *rej);
/* The same with params consumed: the result (new reference), or NULL with
 * *code (when not NULL) the rejection's code, "ok" otherwise; static
 * storage until the next call. */
json_t *fx_query_code(fx_chain *f, const char *module, const char *name, json_t *params,
                      const char **code);
/* One transaction of kp with sequence ++*seq in a block of its own; its
 * receipt code (static storage, overwritten by the next call). */
const char *fx_submit(fx_chain *f, const hanse_keypair *kp, uint64_t *seq, const char *kind,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* A ledger account's posted balance, credits_posted - debits_posted
 * (the ledger module's "account" query); a missing account fails. */
int64_t fx_ledger_balance(fx_chain *f, const char *account);

/* ---- the books (modules/books), as the modules' tests see them ---- */

/* The receipt of the last fx_submit (static storage, overwritten by the
 * next): its id is the transaction whose entries fx_books_tx reads. */
const hanse_receipt *fx_submitted(void);
/* Every entry of chain transaction `tx`, any owner, in (owner, seq) order:
 * the books query "tx"'s "entries" (a new reference). */
json_t *fx_books_tx(fx_chain *f, const hanse_hash *tx);
/* The first entry of `entries` that belongs to `owner`, has `type`, and
 * when not NULL `role` and lines in `asset`; borrowed, NULL when none. */
json_t *fx_books_find(json_t *entries, const char *owner, const char *type, const char *role,
                      const char *asset);
/* An automatic entry (books_post): exactly two lines, a debit of `debit`
 * and a credit of `credit`, both `amount` of `asset`. Anything else, or
 * no entry (NULL), fails the test. */
void fx_books_expect(json_t *entry, const char *debit, const char *credit, const char *asset,
                     uint64_t amount);
/* owner's trial balance over all time (a new reference). Fails the test
 * unless it says it is balanced and its totals are, per asset, the sums
 * of its account rows with debits equal to credits -- recomputed here. */
json_t *fx_books_trial(fx_chain *f, const char *owner);
/* The balance (debits - credits) of `account` in `asset` in trial
 * balance tb; 0 when it has no such row. */
int64_t fx_books_balance(json_t *tb, const char *account, const char *asset);

/* A deterministic random sequence for seeded workloads (splitmix64). */
typedef struct fx_rnd {
  uint64_t s;
} fx_rnd;
uint64_t fx_rnext(fx_rnd *r);
/* Uniform enough below n (n >= 1). */
unsigned fx_rbelow(fx_rnd *r, unsigned n);

/* Remove a directory tree (test data only). */
void fx_rmrf(const char *path);

/* A whole file (test vectors), NUL-terminated, malloc'd (free it); its
 * length in *len when len is not NULL. NULL when it cannot be opened. */
char *fx_file_read(const char *path, size_t *len);
/* Path of a file in the chain directory. */
void fx_path(const fx_chain *f, const char *name, char *out, size_t n);

#endif
