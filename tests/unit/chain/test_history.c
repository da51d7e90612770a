/*
 * test_history.c -- the audit trail from execution to audit: who changed
 * which state key in which transaction, and that `hanse verify` notices
 * when the stored trail was edited.
 *
 * A small test module ("hist.write", payload {"w":[[key, value|null],..]},
 * "reject":true to fail verify) lets the executor tests write and delete
 * keys in any pattern: one row per (key, transaction) with the last op and
 * the hash of the value that transaction left; nothing for a transaction
 * with a wrong sequence; only the sequence key for one its module
 * rejects; the block's rows serialized in (key, index) order, each key
 * once, one index row per key. The chain tests use the real asset module:
 * the genesis writes, and the signer and block time of every change of a
 * balance. The tamper tests edit a block's stored serialization -- a value
 * hash, an op, a deleted row, an added row, truncated bytes, the same rows
 * with a key's group split in two, a group's count of 0, the whole block
 * row -- and the key rows in the derived index -- a deleted, altered or
 * added row, a row with a value -- and require the audit to name the block, and the key and transaction
 * where a row is at fault. A last test times the commit of a block of transfers with and
 * without storing its history.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "chain/exec.h"
#include "fixture.h"
#include "storage/rowpack.h"

/* ---- the test module ---- */

static const char *const hist_actions[] = {"write", NULL};

static int hist_check(const hanse_tx *tx, const char *action, json_t *p, hanse_reject *rej) {
  (void)tx;
  (void)action;
  if (!json_is_array(json_object_get(p, "w")))
    return hanse_reject_code(rej, "hist.bad", 400, "\"w\" must be an array");
  return HANSE_OK;
}

static int hist_verify(hanse_exec *ex, const hanse_tx *tx, const char *action, json_t *p,
                       hanse_reject *rej) {
  (void)ex;
  (void)tx;
  (void)action;
  if (json_is_true(json_object_get(p, "reject")))
    return hanse_reject_code(rej, "hist.rejected", 409, "asked to reject");
  return HANSE_OK;
}

static int hist_apply(hanse_exec *ex, const hanse_tx *tx, const char *action, json_t *p) {
  (void)tx;
  (void)action;
  size_t i;
  json_t *w;
  json_array_foreach(json_object_get(p, "w"), i, w) {
    const char *k = json_string_value(json_array_get(w, 0));
    json_t *v = json_array_get(w, 1);
    int rc = json_is_null(v) ? hanse_exec_del(ex, k)
                             : hanse_exec_put(ex, k, json_string_value(v),
                                              json_string_length(v));
    if (rc != HANSE_OK) return rc;
  }
  return HANSE_OK;
}

static const hanse_module hist_module = {
    .name = "hist",
    .actions = hist_actions,
    .check = hist_check,
    .verify = hist_verify,
    .apply = hist_apply,
    .data_class = "production",
};

/* ---- helpers ---- */

static hanse_keypair alice, bob;

static hanse_store *mem_store(void) {
  hanse_store *s = NULL;
  hanse_reject rej;
  assert_int_equal(hanse_store_open(NULL, HANSE_STORE_MEMORY, NULL, &s, &rej), HANSE_OK);
  return s;
}

/* Decode into tx a transaction encoded into raw (raw must outlive tx). */
static void make_tx(hanse_buf *raw, hanse_tx *tx, const hanse_keypair *kp, const char *kind,
                    uint64_t seq, const char *payload) {
  hanse_buf_reset(raw);
  fx_tx(raw, kp, FX_CHAIN_ID, kind, seq, 0, "%s", payload);
  assert_int_equal(hanse_tx_decode(tx, raw->data, raw->len, 0, NULL), HANSE_OK);
}

static void exec_one(hanse_exec *ex, const hanse_keypair *kp, uint64_t seq,
                     const char *payload, const char *want_code) {
  hanse_buf raw;
  hanse_buf_init(&raw);
  hanse_tx tx;
  hanse_receipt r;
  make_tx(&raw, &tx, kp, "hist.write", seq, payload);
  assert_int_equal(hanse_exec_tx(ex, &tx, FX_CHAIN_ID, &r), HANSE_OK);
  assert_string_equal(r.code, want_code);
  ex->tx = NULL; /* tx dies here; the executor keeps only the index */
  hanse_buf_free(&raw);
}

static const char *seq_key(char *out, size_t n, const hanse_keypair *kp) {
  char hex[HANSE_HASH_HEX_BYTES];
  snprintf(out, n, HANSE_SEQ_PREFIX "%s", fx_hex(hex, &kp->pub));
  return out;
}

/* Expect the row (key, pos) with op and value (NULL for a delete). */
static void expect_row(hanse_store *s, const char *key, uint64_t pos, int op, const char *value) {
  hanse_history_row r;
  int rc = hanse_store_history_get(s, key, strlen(key), pos, &r);
  if (rc != HANSE_OK)
    fail_msg("no history row of %s at block %" PRIu64 " index %u", key, HANSE_POS_HEIGHT(pos),
             HANSE_POS_INDEX(pos));
  assert_int_equal(r.op, op);
  assert_int_equal(r.has_vhash, value != NULL);
  if (value) {
    hanse_hash h;
    hanse_sha256(&h, value, strlen(value));
    assert_memory_equal(r.vhash.b, h.b, HANSE_HASH_BYTES);
  }
}

/* The rows of a serialization (each well formed). */
static int rows_in(const uint8_t *p, size_t len, uint64_t height) {
  hanse_history_reader rd;
  hanse_history_reader_init(&rd, p, len, height);
  hanse_history_row r;
  int n = 0, rc;
  while ((rc = hanse_history_next(&rd, &r)) == HANSE_OK) n++;
  assert_int_equal(rc, HANSE_ERR(NOT_FOUND));
  return n;
}

/* All history rows of all stored blocks. */
static int history_rows(hanse_store *s) {
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_prepare_v2(hanse_store_db(s), "SELECT height, rows FROM history_blocks",
                                      -1, &st, NULL),
                   SQLITE_OK);
  int n = 0, rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    n += rows_in(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
                 (uint64_t)sqlite3_column_int64(st, 0));
  assert_int_equal(rc, SQLITE_DONE);
  sqlite3_finalize(st);
  return n;
}

static int count_visit(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  (void)k;
  (void)kl;
  (void)v;
  (void)vl;
  ++*(int *)ctx;
  return 0;
}

/* The audit trail's key rows: the derived index rows under the tag. */
static int index_rows(hanse_store *s) {
  int n = 0;
  const char tag[1] = {HANSE_HISTORY_KEY_TAG};
  assert_int_equal(hanse_store_index_scan(s, tag, 1, NULL, 0, -1, count_visit, &n), HANSE_OK);
  return n;
}

/* The first row of the executor's serialization. */
static void first_row(const hanse_exec *ex, hanse_history_row *r) {
  size_t len;
  const uint8_t *p = hanse_exec_history(ex, &len);
  hanse_history_reader rd;
  hanse_history_reader_init(&rd, p, len, ex->height);
  assert_int_equal(hanse_history_next(&rd, r), HANSE_OK);
  assert_int_equal(rows_in(p, len, ex->height), (int)hanse_exec_history_count(ex));
}

/* ---- execution ---- */

/* One row per (key, transaction): the last op and the value the
 * transaction left; a rewrite by a later transaction is a new row. */
static void test_exec_rows_per_key_and_tx(void **state) {
  (void)state;
  hanse_store *s = mem_store();
  hanse_hash zero;
  memset(&zero, 0, sizeof zero);
  hanse_exec ex;
  assert_int_equal(hanse_store_begin(s), HANSE_OK);
  assert_int_equal(hanse_exec_begin(&ex, s, 3, 3000, &zero, &zero), HANSE_OK);
  /* tx 0: a twice, b once */
  exec_one(&ex, &alice, 1, "{\"w\":[[\"a\",\"1\"],[\"a\",\"2\"],[\"b\",\"x\"]]}", "ok");
  /* tx 1: deletes a */
  exec_one(&ex, &bob, 1, "{\"w\":[[\"a\",null]]}", "ok");
  /* tx 2: a back; b deleted and written again */
  exec_one(&ex, &alice, 2, "{\"w\":[[\"a\",\"3\"],[\"b\",null],[\"b\",\"y\"]]}", "ok");
  /* tx 3: a wrong sequence writes nothing */
  exec_one(&ex, &bob, 5, "{\"w\":[[\"a\",\"9\"]]}", "tx.bad_sequence");
  /* tx 4: rejected by its module: only the sequence key */
  exec_one(&ex, &bob, 2, "{\"w\":[[\"a\",\"9\"]],\"reject\":true}", "hist.rejected");
  /* tx 5: put then delete: one row, a delete */
  exec_one(&ex, &alice, 3, "{\"w\":[[\"c\",\"1\"],[\"c\",null]]}", "ok");
  hanse_hash digest, sum;
  assert_int_equal(hanse_exec_finish(&ex, &digest, &sum), HANSE_OK);
  /* seq/alice x3, seq/bob x2, a x3, b x2, c x1 */
  assert_int_equal(hanse_exec_history_count(&ex), 11);
  hanse_history_row first;
  first_row(&ex, &first);
  /* (key, position) order: "a" of tx 0 first */
  assert_true(first.klen == 1 && first.key[0] == 'a');
  assert_true(first.pos == HANSE_POS(3, 0));
  hanse_exec_free(&ex);
  assert_int_equal(hanse_store_commit(s), HANSE_OK);

  char ka[128], kb[128];
  seq_key(ka, sizeof ka, &alice);
  seq_key(kb, sizeof kb, &bob);
  expect_row(s, "a", HANSE_POS(3, 0), HANSE_HISTORY_PUT, "2");
  expect_row(s, "a", HANSE_POS(3, 1), HANSE_HISTORY_DEL, NULL);
  expect_row(s, "a", HANSE_POS(3, 2), HANSE_HISTORY_PUT, "3");
  expect_row(s, "b", HANSE_POS(3, 0), HANSE_HISTORY_PUT, "x");
  expect_row(s, "b", HANSE_POS(3, 2), HANSE_HISTORY_PUT, "y");
  expect_row(s, "c", HANSE_POS(3, 5), HANSE_HISTORY_DEL, NULL);
  expect_row(s, ka, HANSE_POS(3, 0), HANSE_HISTORY_PUT, "1");
  expect_row(s, ka, HANSE_POS(3, 2), HANSE_HISTORY_PUT, "2");
  expect_row(s, ka, HANSE_POS(3, 5), HANSE_HISTORY_PUT, "3");
  expect_row(s, kb, HANSE_POS(3, 1), HANSE_HISTORY_PUT, "1");
  expect_row(s, kb, HANSE_POS(3, 4), HANSE_HISTORY_PUT, "2");
  assert_int_equal(history_rows(s), 11);
  assert_int_equal(index_rows(s), 5); /* one per key: a, b, c and two seq/ */
  hanse_history_row r;
  assert_int_equal(hanse_store_history_get(s, "a", 1, HANSE_POS(3, 3), &r), HANSE_ERR(NOT_FOUND));
  assert_int_equal(hanse_store_history_get(s, "a", 1, HANSE_POS(3, 4), &r), HANSE_ERR(NOT_FOUND));

  /* The next block: the indices start again at 0, the rows accumulate. */
  assert_int_equal(hanse_store_begin(s), HANSE_OK);
  assert_int_equal(hanse_exec_begin(&ex, s, 4, 4000, &digest, &sum), HANSE_OK);
  exec_one(&ex, &bob, 3, "{\"w\":[[\"a\",\"4\"]]}", "ok");
  assert_int_equal(hanse_exec_finish(&ex, &digest, &sum), HANSE_OK);
  hanse_exec_free(&ex);
  assert_int_equal(hanse_store_commit(s), HANSE_OK);
  expect_row(s, "a", HANSE_POS(4, 0), HANSE_HISTORY_PUT, "4");
  assert_int_equal(history_rows(s), 13);
  assert_int_equal(index_rows(s), 7);
  hanse_store_close(s);
}

/* With history_unstored the rows are the caller's (the audit's): the
 * same rows, nothing in the table, the same key rows in the index; the
 * digest does not depend on it. */
static void test_exec_unstored(void **state) {
  (void)state;
  hanse_hash zero, d1, s1, d2, s2;
  memset(&zero, 0, sizeof zero);
  hanse_store *stored = mem_store(), *unstored = mem_store();
  hanse_exec ex;
  size_t n[2];
  for (int mode = 0; mode < 2; mode++) {
    hanse_store *s = mode ? unstored : stored;
    assert_int_equal(hanse_store_begin(s), HANSE_OK);
    assert_int_equal(hanse_exec_begin(&ex, s, 1, 1000, &zero, &zero), HANSE_OK);
    ex.history_unstored = mode;
    exec_one(&ex, &alice, 1, "{\"w\":[[\"k\",\"v\"]]}", "ok");
    assert_int_equal(hanse_exec_finish(&ex, mode ? &d2 : &d1, mode ? &s2 : &s1), HANSE_OK);
    n[mode] = hanse_exec_history_count(&ex);
    hanse_history_row r;
    first_row(&ex, &r); /* "k" sorts before "seq/..." */
    assert_int_equal((int)r.klen, 1);
    assert_memory_equal(r.key, "k", 1);
    hanse_exec_free(&ex);
    assert_int_equal(hanse_store_commit(s), HANSE_OK);
  }
  assert_int_equal(n[0], 2);
  assert_int_equal(n[1], 2);
  assert_int_equal(history_rows(stored), 2);
  assert_int_equal(history_rows(unstored), 0);
  /* the key rows are derived index rows: the audit compares them */
  assert_int_equal(index_rows(stored), 2);
  assert_int_equal(index_rows(unstored), 2);
  assert_memory_equal(d1.b, d2.b, HANSE_HASH_BYTES);
  assert_memory_equal(s1.b, s2.b, HANSE_HASH_BYTES);
  hanse_store_close(stored);
  hanse_store_close(unstored);
}

/* ---- a chain ---- */

static int setup_chain(void **state) {
  fx_chain *f = calloc(1, sizeof *f);
  if (f == NULL) return -1;
  fx_chain_setup(f, NULL);
  *state = f;
  return 0;
}

static int teardown_chain(void **state) {
  fx_chain *f = *state;
  fx_chain_teardown(f);
  free(f);
  return 0;
}

static const char *hexkey(const hanse_pubkey *pk) {
  static char buf[4][HANSE_HASH_HEX_BYTES];
  static int i;
  i = (i + 1) % 4;
  return fx_hex(buf[i], pk);
}

/* Block 1 (time T0+1000): alice issues EUR 1000, sends 300 to bob.
 * Block 2 (T0+2000): bob sends 100 to carol, then 500 (too much). */
static void two_blocks(fx_chain *f) {
  fx_body b;
  fx_body_init(&b);
  fx_body_tx(&b, &f->alice, "asset.issue", 1, "{\"asset\":\"EUR\",\"decimals\":2,\"supply\":1000}");
  fx_body_tx(&b, &f->alice, "asset.transfer", 2, "{\"asset\":\"EUR\",\"amount\":300,\"to\":\"%s\"}",
             hexkey(&f->bob.pub));
  fx_propose_ok(f, &b);
  fx_body_free(&b);
  fx_body_init(&b);
  fx_body_tx(&b, &f->bob, "asset.transfer", 1, "{\"asset\":\"EUR\",\"amount\":100,\"to\":\"%s\"}",
             hexkey(&f->carol.pub));
  fx_body_tx(&b, &f->bob, "asset.transfer", 2, "{\"asset\":\"EUR\",\"amount\":500,\"to\":\"%s\"}",
             hexkey(&f->carol.pub));
  hanse_receipt rs[2];
  hanse_reject rej;
  assert_int_equal(fx_propose(f, &b, rs, 2, &rej), HANSE_OK);
  assert_string_equal(rs[1].code, "asset.insufficient_balance");
  fx_body_free(&b);
}

typedef struct changes {
  hanse_history_change c[16];
  int n;
} changes;

static int changes_visit(void *ctx, const hanse_history_change *c) {
  changes *ch = ctx;
  assert_true(ch->n < 16);
  ch->c[ch->n] = *c;
  ch->c[ch->n].row.key = NULL; /* borrowed only during the call */
  ch->n++;
  return 0;
}

static void scan(fx_chain *f, const char *key, changes *out) {
  memset(out, 0, sizeof *out);
  hanse_store *rd = hanse_chain_reader_acquire(f->chain);
  assert_non_null(rd);
  assert_int_equal(hanse_store_history_scan(rd, key, strlen(key), UINT64_MAX, 16, changes_visit,
                                            out),
                   HANSE_OK);
  hanse_chain_reader_release(f->chain, rd);
}

static uint64_t block_time(fx_chain *f, uint64_t height) {
  hanse_store *rd = hanse_chain_reader_acquire(f->chain);
  hanse_block_row row;
  assert_int_equal(hanse_store_block_get(rd, height, 0, &row), HANSE_OK);
  hanse_header h;
  assert_int_equal(hanse_header_decode(&h, row.header, row.header_len, NULL), HANSE_OK);
  hanse_block_row_free(&row);
  hanse_chain_reader_release(f->chain, rd);
  return h.time_ms;
}

/* The genesis writes are block 0's, at the reserved index, made by no
 * transaction; their hashes are those of the stored values. */
static void test_genesis_rows(void **state) {
  fx_chain *f = *state;
  char key[128], v[1024];
  snprintf(key, sizeof key, "validator/%s", hexkey(&f->node.pub));
  const char *keys[] = {"genesis", "org/acme", key};
  for (int i = 0; i < 3; i++) {
    changes ch;
    scan(f, keys[i], &ch);
    assert_int_equal(ch.n, 1);
    assert_true(ch.c[0].row.pos == HANSE_POS(0, HANSE_HISTORY_GENESIS_INDEX));
    assert_int_equal(ch.c[0].row.op, HANSE_HISTORY_PUT);
    assert_false(ch.c[0].has_tx);
    assert_int_equal(fx_state(f, keys[i], v, sizeof v), 1);
    hanse_hash h;
    hanse_sha256(&h, v, strlen(v));
    assert_memory_equal(ch.c[0].row.vhash.b, h.b, HANSE_HASH_BYTES);
  }
}

/* Who and when: every change of bob's balance names its transaction and
 * signer, in a block whose time is the block's; newest first. A rejected
 * transfer changes the signer's sequence key only. */
static void test_chain_who_and_when(void **state) {
  fx_chain *f = *state;
  two_blocks(f);
  char key[128];
  snprintf(key, sizeof key, "asset/bal/EUR/%s", hexkey(&f->bob.pub));
  changes ch;
  scan(f, key, &ch);
  assert_int_equal(ch.n, 2);
  assert_true(ch.c[0].row.pos == HANSE_POS(2, 0));
  assert_true(ch.c[0].has_tx);
  assert_memory_equal(ch.c[0].signer.b, f->bob.pub.b, HANSE_PUBKEY_BYTES);
  assert_true(ch.c[1].row.pos == HANSE_POS(1, 1));
  assert_memory_equal(ch.c[1].signer.b, f->alice.pub.b, HANSE_PUBKEY_BYTES);
  hanse_hash h;
  hanse_sha256(&h, "200", 3);
  assert_memory_equal(ch.c[0].row.vhash.b, h.b, HANSE_HASH_BYTES);
  hanse_sha256(&h, "300", 3);
  assert_memory_equal(ch.c[1].row.vhash.b, h.b, HANSE_HASH_BYTES);
  assert_true(block_time(f, 1) == FX_T0_MS + 1000);
  assert_true(block_time(f, 2) == FX_T0_MS + 2000);
  /* the transaction ids are those of the receipts */
  hanse_store *rd = hanse_chain_reader_acquire(f->chain);
  hanse_receipt r;
  assert_int_equal(hanse_store_tx_get(rd, &ch.c[1].tx_id, &r), HANSE_OK);
  assert_true(r.height == 1 && r.index == 1);
  hanse_chain_reader_release(f->chain, rd);
  /* carol's balance: once (the 500 was refused) */
  snprintf(key, sizeof key, "asset/bal/EUR/%s", hexkey(&f->carol.pub));
  scan(f, key, &ch);
  assert_int_equal(ch.n, 1);
  assert_true(ch.c[0].row.pos == HANSE_POS(2, 0));
  /* bob's sequence key: both of his transactions */
  snprintf(key, sizeof key, HANSE_SEQ_PREFIX "%s", hexkey(&f->bob.pub));
  scan(f, key, &ch);
  assert_int_equal(ch.n, 2);
  assert_true(ch.c[0].row.pos == HANSE_POS(2, 1));
  /* the chain still opens and audits */
  hanse_reject rej;
  assert_int_equal(fx_chain_reopen(f, NULL, &rej), HANSE_OK);
  uint64_t blocks, txs;
  int64_t bad_h, bad_tx;
  assert_int_equal(hanse_chain_audit(f->dir, &blocks, &txs, &bad_h, &bad_tx, NULL, NULL, &rej),
                   HANSE_OK);
  assert_true(bad_h == -1 && bad_tx == -1);
}

/* ---- tampering with the trail ---- */

static void sql_exec(fx_chain *f, const char *sql) {
  char path[300];
  fx_path(f, "chain.db", path, sizeof path);
  sqlite3 *db;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  char *err = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) fail_msg("%s: %s", sql, err);
  assert_int_equal(sqlite3_changes(db), 1);
  sqlite3_close(db);
}

static void expect_audit(fx_chain *f, int64_t want_height, int64_t want_tx, const char *msg1,
                         const char *msg2) {
  hanse_chain_close(f->chain);
  f->chain = NULL;
  uint64_t blocks, txs;
  int64_t bad_h, bad_tx;
  hanse_reject rej;
  hanse_reject_clear(&rej);
  assert_int_equal(hanse_chain_audit(f->dir, &blocks, &txs, &bad_h, &bad_tx, NULL, NULL, &rej),
                   HANSE_ERR(CHAIN_BROKEN));
  assert_string_equal(rej.code, "chain.broken");
  if (bad_h != want_height || bad_tx != want_tx)
    fail_msg("audit named block %lld tx %lld (%s), expected block %lld tx %lld",
             (long long)bad_h, (long long)bad_tx, rej.message, (long long)want_height,
             (long long)want_tx);
  if (strstr(rej.message, msg1) == NULL || strstr(rej.message, msg2) == NULL)
    fail_msg("audit said '%s', expected '%s' and '%s'", rej.message, msg1, msg2);
}

/* A block's stored rows, decoded for editing and written back. */
typedef struct stored_rows {
  hanse_history_row r[64];
  int n;
  hanse_buf bytes; /* the serialization read; the rows' keys borrow it */
} stored_rows;

static void rows_load(fx_chain *f, uint64_t height, stored_rows *sr) {
  memset(sr, 0, sizeof *sr);
  hanse_buf_init(&sr->bytes);
  char path[300];
  fx_path(f, "chain.db", path, sizeof path);
  hanse_store *s = NULL;
  hanse_reject rej;
  int found = 0;
  assert_int_equal(hanse_store_open(path, HANSE_STORE_READONLY, NULL, &s, &rej), HANSE_OK);
  assert_int_equal(hanse_store_history_block_get(s, height, &sr->bytes, &found), HANSE_OK);
  assert_true(found);
  hanse_store_close(s);
  hanse_history_reader rd;
  hanse_history_reader_init(&rd, sr->bytes.data, sr->bytes.len, height);
  int rc;
  while ((rc = hanse_history_next(&rd, &sr->r[sr->n])) == HANSE_OK) {
    sr->n++;
    assert_true(sr->n < 64);
  }
  assert_int_equal(rc, HANSE_ERR(NOT_FOUND));
}

/* Replace block `height`'s stored serialization with bytes[0, len). */
static void bytes_store(fx_chain *f, uint64_t height, const uint8_t *bytes, size_t len) {
  char path[300];
  fx_path(f, "chain.db", path, sizeof path);
  sqlite3 *db;
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(db, "UPDATE history_blocks SET rows = ?1 WHERE height = ?2",
                                      -1, &st, NULL),
                   SQLITE_OK);
  sqlite3_bind_blob(st, 1, len ? (const void *)bytes : "", (int)len, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)height);
  assert_int_equal(sqlite3_step(st), SQLITE_DONE);
  assert_int_equal(sqlite3_changes(db), 1);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

/* Serialize sr's rows (in (key, index) order) as block `height`'s. */
static void rows_store(fx_chain *f, uint64_t height, stored_rows *sr) {
  hanse_buf b;
  hanse_buf_init(&b);
  hanse_history_writer w;
  hanse_history_writer_init(&w, &b);
  for (int i = 0; i < sr->n; i++) hanse_history_put(&w, &sr->r[i]);
  assert_int_equal(hanse_buf_status(&b), HANSE_OK);
  bytes_store(f, height, b.data, b.len);
  hanse_buf_free(&b);
  hanse_buf_free(&sr->bytes);
}

/* Index of the row (key, pos) in sr. */
static int row_find(const stored_rows *sr, const char *key, uint64_t pos) {
  for (int i = 0; i < sr->n; i++)
    if (sr->r[i].klen == strlen(key) && memcmp(sr->r[i].key, key, sr->r[i].klen) == 0 &&
        sr->r[i].pos == pos)
      return i;
  fail_msg("no stored row of %s at %" PRIu64, key, pos);
  return -1;
}

static void row_remove(stored_rows *sr, int i) {
  memmove(&sr->r[i], &sr->r[i + 1], (size_t)(sr->n - i - 1) * sizeof sr->r[0]);
  sr->n--;
}

static const char *bal_key(char *out, size_t n, const hanse_keypair *kp) {
  snprintf(out, n, "asset/bal/EUR/%s", hexkey(&kp->pub));
  return out;
}

static void test_tamper_value_hash(void **state) {
  fx_chain *f = *state;
  two_blocks(f);
  char key[128];
  stored_rows sr;
  rows_load(f, 1, &sr);
  sr.r[row_find(&sr, bal_key(key, sizeof key, &f->bob), HANSE_POS(1, 1))].vhash.b[7] ^= 1;
  rows_store(f, 1, &sr);
  expect_audit(f, 1, 1, "block 1 tx 1 ", "history row of 'asset/bal/EUR/");
  expect_audit(f, 1, 1, "records another value", "");
}

static void test_tamper_op(void **state) {
  fx_chain *f = *state;
  two_blocks(f);
  char key[128];
  stored_rows sr;
  rows_load(f, 1, &sr);
  hanse_history_row *r = &sr.r[row_find(&sr, bal_key(key, sizeof key, &f->bob), HANSE_POS(1, 1))];
  r->op = HANSE_HISTORY_DEL;
  r->has_vhash = 0;
  rows_store(f, 1, &sr);
  expect_audit(f, 1, 1, "records another operation", hexkey(&f->bob.pub));
}

static void test_tamper_row_deleted(void **state) {
  fx_chain *f = *state;
  two_blocks(f);
  char key[128];
  stored_rows sr;
  rows_load(f, 1, &sr);
  row_remove(&sr, row_find(&sr, bal_key(key, sizeof key, &f->bob), HANSE_POS(1, 1)));
  rows_store(f, 1, &sr);
  expect_audit(f, 1, 1, "is missing", hexkey(&f->bob.pub));
}

static void test_tamper_genesis_row(void **state) {
  fx_chain *f = *state;
  two_blocks(f);
  stored_rows sr;
  rows_load(f, 0, &sr);
  row_remove(&sr, row_find(&sr, "org/acme", HANSE_POS(0, HANSE_HISTORY_GENESIS_INDEX)));
  rows_store(f, 0, &sr);
  expect_audit(f, 0, -1, "block 0 (genesis): history row of 'org/acme' is missing", "");
}

/* Is row r's key before `key` in the serialization's (BLOB) order? */
static int key_before(const hanse_history_row *r, const char *key) {
  size_t kl = strlen(key), n = r->klen < kl ? r->klen : kl;
  int c = n ? memcmp(r->key, key, n) : 0;
  return c < 0 || (c == 0 && r->klen < kl);
}

/* A row no transaction wrote: carol "received" in block 1 tx 0. */
static void test_tamper_row_added(void **state) {
  fx_chain *f = *state;
  two_blocks(f);
  char key[128];
  bal_key(key, sizeof key, &f->carol);
  stored_rows sr;
  rows_load(f, 1, &sr);
  int at = 0;
  while (at < sr.n && key_before(&sr.r[at], key)) at++;
  memmove(&sr.r[at + 1], &sr.r[at], (size_t)(sr.n - at) * sizeof sr.r[0]);
  sr.n++;
  memset(&sr.r[at], 0, sizeof sr.r[at]);
  sr.r[at].key = (const uint8_t *)key;
  sr.r[at].klen = strlen(key);
  sr.r[at].pos = HANSE_POS(1, 0);
  sr.r[at].op = HANSE_HISTORY_PUT;
  sr.r[at].has_vhash = 1;
  rows_store(f, 1, &sr);
  expect_audit(f, 1, 0, "block 1 tx 0", "was not derived by re-execution");
}

/* Bytes that are no rows, and a block row missing or added. */
static void test_tamper_block_rows(void **state) {
  fx_chain *f = *state;
  two_blocks(f);
  sql_exec(f, "UPDATE history_blocks SET rows = substr(rows, 1, length(rows) - 1) "
              "WHERE height = 2");
  expect_audit(f, 2, -1, "block 2: the stored history is malformed", "");
  sql_exec(f, "DELETE FROM history_blocks WHERE height = 2");
  expect_audit(f, 2, -1, "block 2: the history of the block is missing", "");
}

/* The same rows in another layout: block 1's first group of two rows or
 * more split into two groups of its key. Every row is still there, so
 * only the layout tells: the reader refuses a repeated key. */
static void test_tamper_group_split(void **state) {
  fx_chain *f = *state;
  two_blocks(f);
  stored_rows sr;
  rows_load(f, 1, &sr);
  const uint8_t *base = sr.bytes.data;
  hanse_history_reader rd;
  hanse_history_reader_init(&rd, base, sr.bytes.len, 1);
  while (hanse_history_next_group(&rd) == HANSE_OK && rd.count < 2) continue;
  assert_true(rd.count >= 2);
  size_t head_at = (size_t)(rd.key - base) - 2;      /* klen | key | count */
  size_t rows_at = head_at + 2 + rd.klen + 4;        /* the group's first row */
  hanse_history_row r;
  assert_int_equal(hanse_history_next(&rd, &r), HANSE_OK);
  size_t row2_at = (size_t)(rd.rd.p - base);
  hanse_buf b;
  hanse_buf_init(&b);
  hanse_buf_put(&b, base, rows_at - 4);
  hanse_buf_u32(&b, 1);
  hanse_buf_put(&b, base + rows_at, row2_at - rows_at);
  hanse_buf_put(&b, base + head_at, 2 + rd.klen);
  hanse_buf_u32(&b, rd.count - 1);
  hanse_buf_put(&b, base + row2_at, sr.bytes.len - row2_at);
  assert_int_equal(hanse_buf_status(&b), HANSE_OK);
  assert_int_equal((int)b.len, (int)(sr.bytes.len + 2 + rd.klen + 4));
  bytes_store(f, 1, b.data, b.len);
  hanse_buf_free(&b);
  hanse_buf_free(&sr.bytes);
  expect_audit(f, 1, -1, "block 1: the stored history is malformed", "");
}

/* A count of 0 on block 2's last group. */
static void test_tamper_group_count(void **state) {
  fx_chain *f = *state;
  two_blocks(f);
  stored_rows sr;
  rows_load(f, 2, &sr);
  hanse_history_reader rd;
  hanse_history_reader_init(&rd, sr.bytes.data, sr.bytes.len, 2);
  size_t count_at = 0;
  while (hanse_history_next_group(&rd) == HANSE_OK)
    count_at = (size_t)(rd.key - sr.bytes.data) + rd.klen;
  assert_true(count_at > 0);
  hanse_put_u32be(sr.bytes.data + count_at, 0);
  bytes_store(f, 2, sr.bytes.data, sr.bytes.len);
  hanse_buf_free(&sr.bytes);
  expect_audit(f, 2, -1, "block 2: the stored history is malformed", "");
}

static void test_tamper_block_row_added(void **state) {
  fx_chain *f = *state;
  two_blocks(f);
  sql_exec(f, "INSERT INTO history_blocks(height, rows) VALUES (7, x'')");
  expect_audit(f, 2, -1, "the history holds 4 blocks, the chain has 3 (rows were added)", "");
}

/* The index's key rows (store.h) are in the log's packs of the block that
 * wrote them: edit the packs of log height `height` -- drop the key row of
 * (del, del_h) and add one of (add, add_h), either NULL for none, the
 * added row's value `val` -- and write them back as one pack. */
typedef struct pack_row {
  hanse_buf k, v;
} pack_row;

static int pack_row_cmp(const void *a, const void *b) {
  const pack_row *x = a, *y = b;
  return hanse_store_key_cmp(x->k.data, x->k.len, y->k.data, y->k.len);
}

static void key_rows_edit(fx_chain *f, uint64_t height, const char *del, uint64_t del_h,
                          const char *add, uint64_t add_h, const char *val) {
  char path[300];
  fx_path(f, "chain.db", path, sizeof path);
  sqlite3 *db;
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(db, "SELECT rows FROM idx_log WHERE height = ?1", -1, &st,
                                      NULL),
                   SQLITE_OK);
  sqlite3_bind_int64(st, 1, (sqlite3_int64)height);
  pack_row rows[256];
  int n = 0, dropped = 0;
  hanse_buf want;
  hanse_buf_init(&want);
  if (del) hanse_history_key_row(&want, del, strlen(del), del_h);
  while (sqlite3_step(st) == SQLITE_ROW) {
    hanse_rowpack_rd rd;
    hanse_rowpack_rd_init(&rd, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
    int rc;
    while ((rc = hanse_rowpack_next(&rd)) == HANSE_OK) {
      if (del && rd.klen == want.len && memcmp(rd.key, want.data, want.len) == 0) {
        dropped = 1;
        continue;
      }
      assert_true(n < 256);
      hanse_buf_init(&rows[n].k);
      hanse_buf_init(&rows[n].v);
      hanse_buf_put(&rows[n].k, rd.key, rd.klen);
      hanse_buf_put(&rows[n].v, rd.val, rd.vlen);
      n++;
    }
    assert_int_equal(rc, HANSE_ERR(NOT_FOUND));
  }
  sqlite3_finalize(st);
  if (del && !dropped) fail_msg("no key row of %s at %" PRIu64 " in the log", del, del_h);
  if (add) {
    hanse_buf_init(&rows[n].k);
    hanse_buf_init(&rows[n].v);
    hanse_history_key_row(&rows[n].k, add, strlen(add), add_h);
    hanse_buf_put(&rows[n].v, val, strlen(val));
    n++;
  }
  qsort(rows, (size_t)n, sizeof rows[0], pack_row_cmp);
  hanse_buf pack;
  hanse_buf_init(&pack);
  for (int i = 0; i < n; i++) {
    hanse_rowpack_put(&pack, rows[i].k.data, rows[i].k.len, rows[i].v.data, rows[i].v.len);
    if (i > 0) hanse_buf_free(&rows[i].k);
    hanse_buf_free(&rows[i].v);
  }
  assert_true(n > 0);
  char sql[80];
  snprintf(sql, sizeof sql, "DELETE FROM idx_log WHERE height = %" PRIu64, height);
  assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO idx_log(height, first, rows) "
                                          "VALUES (?1, ?2, ?3)",
                                      -1, &st, NULL),
                   SQLITE_OK);
  sqlite3_bind_int64(st, 1, (sqlite3_int64)height);
  sqlite3_bind_blob(st, 2, rows[0].k.data, (int)rows[0].k.len, SQLITE_STATIC);
  sqlite3_bind_blob(st, 3, pack.data, (int)pack.len, SQLITE_STATIC);
  assert_int_equal(sqlite3_step(st), SQLITE_DONE);
  sqlite3_finalize(st);
  sqlite3_close(db);
  hanse_buf_free(&rows[0].k);
  hanse_buf_free(&pack);
  hanse_buf_free(&want);
}

/* The index's key rows are compared with the re-derived ones after the
 * last block, and the first that differs is named by its key and block: a
 * row deleted, or moved to another block, is missing; */
static void test_tamper_index_deleted(void **state) {
  fx_chain *f = *state;
  two_blocks(f);
  char key[128];
  key_rows_edit(f, 1, bal_key(key, sizeof key, &f->bob), 1, NULL, 0, NULL);
  expect_audit(f, 1, -1, "block 1: the history index has no row of 'asset/bal/EUR/",
               hexkey(&f->bob.pub));
}

static void test_tamper_index_altered(void **state) {
  fx_chain *f = *state;
  two_blocks(f);
  char key[128];
  bal_key(key, sizeof key, &f->carol);
  key_rows_edit(f, 2, key, 2, key, 1, "");
  expect_audit(f, 2, -1, "block 2: the history index has no row of", hexkey(&f->carol.pub));
}

/* a row for a block that did not change the key is named; so is a key row
 * with a value (key rows have none). */
static void test_tamper_index_added(void **state) {
  fx_chain *f = *state;
  two_blocks(f);
  char key[128];
  bal_key(key, sizeof key, &f->carol);
  key_rows_edit(f, 1, NULL, 0, key, 1, "");
  expect_audit(f, 1, -1, "block 1: the history index names 'asset/bal/EUR/",
               "which the block did not change");
}

static void test_tamper_index_value(void **state) {
  fx_chain *f = *state;
  two_blocks(f);
  char key[128];
  bal_key(key, sizeof key, &f->carol);
  key_rows_edit(f, 2, key, 2, key, 2, "x");
  expect_audit(f, 2, -1, "block 2: the history index holds another row of 'asset/bal/EUR/",
               hexkey(&f->carol.pub));
}

/* A chain an earlier version wrote, which no node of this one has opened
 * (its trail's index still a history_keys table), is refused as such, not
 * reported as tampered with. */
static void test_audit_old_layout(void **state) {
  fx_chain *f = *state;
  two_blocks(f);
  sql_exec(f, "CREATE TABLE history_keys(key BLOB NOT NULL, height INTEGER NOT NULL,"
              " PRIMARY KEY(key, height)) WITHOUT ROWID;"
              "INSERT INTO history_keys VALUES (CAST('k' AS BLOB), 1)");
  hanse_chain_close(f->chain);
  f->chain = NULL;
  uint64_t blocks, txs;
  int64_t bad_h, bad_tx;
  hanse_reject rej;
  hanse_reject_clear(&rej);
  assert_int_equal(hanse_chain_audit(f->dir, &blocks, &txs, &bad_h, &bad_tx, NULL, NULL, &rej),
                   HANSE_ERR(INVALID));
  assert_non_null(strstr(rej.message, "earlier version"));
  assert_true(blocks == 0 && bad_h == -1);
}

/* ---- cost ---- */

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

#define COST_TXS 10000

/* One block of COST_TXS transfers (alice to distinct recipients: three
 * history rows each) executed and committed on a file store, with its
 * history stored and without. Prints the times; asserts the rows. */
static void test_commit_cost(void **state) {
  (void)state;
  hanse_buf raws;
  hanse_buf_init(&raws);
  size_t *off = calloc(COST_TXS + 2, sizeof *off);
  hanse_tx *txs = calloc(COST_TXS + 1, sizeof *txs);
  assert_non_null(off);
  assert_non_null(txs);
  fx_tx(&raws, &alice, FX_CHAIN_ID, "asset.issue", 1, 0,
        "{\"asset\":\"EUR\",\"decimals\":0,\"supply\":1000000000}");
  off[1] = raws.len;
  for (uint32_t i = 0; i < COST_TXS; i++) {
    uint8_t to[HANSE_PUBKEY_BYTES];
    memset(to, 0, sizeof to);
    memcpy(to, &i, sizeof i);
    char hex[HANSE_HASH_HEX_BYTES];
    hanse_pubkey pk;
    memcpy(pk.b, to, sizeof to);
    fx_tx(&raws, &alice, FX_CHAIN_ID, "asset.transfer", 2 + i, 0,
          "{\"asset\":\"EUR\",\"amount\":1,\"to\":\"%s\"}", fx_hex(hex, &pk));
    off[i + 2] = raws.len;
  }
  for (uint32_t i = 0; i <= COST_TXS; i++)
    assert_int_equal(hanse_tx_decode(&txs[i], raws.data + off[i], off[i + 1] - off[i], 0, NULL),
                     HANSE_OK);
  double ms[2];
  for (int mode = 0; mode < 2; mode++) {
    char dir[256], path[300];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/hanse-cost-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/chain.db", dir);
    hanse_store *s = NULL;
    hanse_reject rej;
    assert_int_equal(hanse_store_open(path, HANSE_STORE_CREATE, NULL, &s, &rej), HANSE_OK);
    hanse_hash zero, d, sum;
    memset(&zero, 0, sizeof zero);
    hanse_receipt r;
    hanse_exec ex;
    /* block 1: the issue */
    assert_int_equal(hanse_store_begin(s), HANSE_OK);
    assert_int_equal(hanse_exec_begin(&ex, s, 1, 1000, &zero, &zero), HANSE_OK);
    assert_int_equal(hanse_exec_tx(&ex, &txs[0], FX_CHAIN_ID, &r), HANSE_OK);
    assert_int_equal(hanse_exec_finish(&ex, &d, &sum), HANSE_OK);
    hanse_exec_free(&ex);
    assert_int_equal(hanse_store_commit(s), HANSE_OK);
    /* block 2: the transfers, timed from begin to durable commit */
    double t0 = now_ms();
    assert_int_equal(hanse_store_begin(s), HANSE_OK);
    assert_int_equal(hanse_exec_begin(&ex, s, 2, 2000, &d, &sum), HANSE_OK);
    ex.history_unstored = mode;
    for (uint32_t i = 1; i <= COST_TXS; i++) {
      assert_int_equal(hanse_exec_tx(&ex, &txs[i], FX_CHAIN_ID, &r), HANSE_OK);
      assert_string_equal(r.code, "ok");
    }
    assert_int_equal(hanse_exec_finish(&ex, &d, &sum), HANSE_OK);
    assert_int_equal(hanse_exec_history_count(&ex), 3 * COST_TXS);
    hanse_exec_free(&ex);
    assert_int_equal(hanse_store_commit(s), HANSE_OK);
    ms[mode] = now_ms() - t0;
    assert_int_equal(history_rows(s), mode ? 3 : 3 + 3 * COST_TXS);
    assert_int_equal(index_rows(s), 3 + 2 + COST_TXS); /* the key rows either way */
    hanse_store_close(s);
    fx_rmrf(dir);
  }
  /* The hashing the executor does for the rows either way. */
  double t0 = now_ms();
  hanse_hash h;
  char value[16];
  for (uint32_t i = 0; i < 3 * COST_TXS; i++) {
    int n = snprintf(value, sizeof value, "%u", 999000000u + i);
    hanse_sha256(&h, value, (size_t)n);
  }
  double hash_ms = now_ms() - t0;
  printf("[ history ] block of %d transfers: %.1f ms with its %d history rows stored, "
         "%.1f ms without (%.2f us per row); the rows' SHA-256 in both: %.1f ms\n",
         COST_TXS, ms[0], 3 * COST_TXS, ms[1], (ms[0] - ms[1]) * 1000.0 / (3 * COST_TXS),
         hash_ms);
  free(txs);
  free(off);
  hanse_buf_free(&raws);
}

int main(void) {
  if (sodium_init() < 0) return 1;
  hanse_modules_register_all();
  hanse_registry_add(&hist_module);
  fx_key(&alice, 0xa1);
  fx_key(&bob, 0xb0);
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_chain, teardown_chain)
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_exec_rows_per_key_and_tx),
      cmocka_unit_test(test_exec_unstored),
      T(test_genesis_rows),
      T(test_chain_who_and_when),
      T(test_tamper_value_hash),
      T(test_tamper_op),
      T(test_tamper_row_deleted),
      T(test_tamper_genesis_row),
      T(test_tamper_row_added),
      T(test_tamper_block_rows),
      T(test_tamper_group_split),
      T(test_tamper_group_count),
      T(test_tamper_block_row_added),
      T(test_tamper_index_deleted),
      T(test_tamper_index_altered),
      T(test_tamper_index_added),
      T(test_tamper_index_value),
      T(test_audit_old_layout),
      cmocka_unit_test(test_commit_cost),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  hanse_keypair_wipe(&alice);
  hanse_keypair_wipe(&bob);
  return rc;
}
