/*
 * test_exec.c -- the execution context: write cache, state digest, state
 * sum, sequence numbers and receipts, on a private in-memory store.
 *
 * The properties that make blocks verifiable: the digest depends on the
 * writes and receipts in execution order and on nothing else (the same
 * block executed twice gives the same digest; reordering two writes
 * changes it); the state sum always equals the sum over every stored row;
 * reads see the block's own earlier writes; a transaction with the wrong
 * sequence writes nothing; a transaction rejected by its module writes
 * only its signer's sequence number; a flush puts and deletes exactly the
 * keys the block changed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "chain/exec.h"
#include "fixture.h"

static hanse_keypair alice, bob;

static int setup(void **state) {
  (void)state;
  hanse_modules_register_all();
  fx_key(&alice, 0xa1);
  fx_key(&bob, 0xb0);
  return 0;
}

static hanse_store *mem_store(void) {
  hanse_store *s = NULL;
  hanse_reject rej;
  assert_int_equal(hanse_store_open(NULL, HANSE_STORE_MEMORY, NULL, &s, &rej), HANSE_OK);
  return s;
}

static int sum_visit(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  hanse_hash h;
  hanse_state_row_hash(k, kl, v, vl, &h);
  hanse_sum_add(ctx, &h);
  return 0;
}

/* Sum over every row of the store, computed independently of exec. */
static void store_sum(hanse_store *s, hanse_hash *sum) {
  memset(sum, 0, sizeof *sum);
  assert_int_equal(hanse_store_state_scan(s, "", 0, NULL, 0, -1, sum_visit, sum), HANSE_OK);
}

static void test_sum_helpers(void **state) {
  (void)state;
  hanse_hash acc, a, b, zero;
  memset(&acc, 0, sizeof acc);
  memset(&zero, 0, sizeof zero);
  hanse_state_row_hash("k", 1, "v", 1, &a);
  hanse_state_row_hash("k", 1, "w", 1, &b);
  assert_memory_not_equal(a.b, b.b, HANSE_HASH_BYTES);
  /* key and value are separated by the key length: k|ey != ke|y */
  hanse_hash c, d;
  hanse_state_row_hash("ke", 2, "y", 1, &c);
  hanse_state_row_hash("k", 1, "ey", 2, &d);
  assert_memory_not_equal(c.b, d.b, HANSE_HASH_BYTES);
  /* add/sub are inverse and commutative, with carries and borrows */
  hanse_sum_add(&acc, &a);
  hanse_sum_add(&acc, &b);
  hanse_hash acc2 = zero;
  hanse_sum_add(&acc2, &b);
  hanse_sum_add(&acc2, &a);
  assert_memory_equal(acc.b, acc2.b, HANSE_HASH_BYTES);
  hanse_sum_sub(&acc, &a);
  hanse_sum_sub(&acc, &b);
  assert_memory_equal(acc.b, zero.b, HANSE_HASH_BYTES);
  hanse_hash ff;
  memset(ff.b, 0xff, sizeof ff.b);
  hanse_hash one = zero;
  one.b[0] = 1;
  hanse_hash x = ff;
  hanse_sum_add(&x, &one); /* 2^256 - 1 + 1 wraps to 0 */
  assert_memory_equal(x.b, zero.b, HANSE_HASH_BYTES);
  hanse_sum_sub(&x, &one); /* 0 - 1 wraps to 2^256 - 1 */
  assert_memory_equal(x.b, ff.b, HANSE_HASH_BYTES);
}

static void begin(hanse_exec *ex, hanse_store *s, uint64_t height, const hanse_hash *prev_digest,
                  const hanse_hash *prev_sum) {
  assert_int_equal(hanse_store_begin(s), HANSE_OK);
  assert_int_equal(hanse_exec_begin(ex, s, height, 1000 * height, prev_digest, prev_sum), HANSE_OK);
}

static void finish(hanse_exec *ex, hanse_store *s, hanse_hash *digest, hanse_hash *sum) {
  assert_int_equal(hanse_exec_finish(ex, digest, sum), HANSE_OK);
  hanse_exec_free(ex);
  assert_int_equal(hanse_store_commit(s), HANSE_OK);
}

static void test_cache_reads_writes_and_flush(void **state) {
  (void)state;
  hanse_store *s = mem_store();
  assert_int_equal(hanse_store_state_put(s, "old", 3, "o", 1), HANSE_OK);
  assert_int_equal(hanse_store_state_put(s, "gone", 4, "g", 1), HANSE_OK);
  hanse_hash zero, prev_sum, digest, sum;
  memset(&zero, 0, sizeof zero);
  store_sum(s, &prev_sum);
  hanse_exec ex;
  begin(&ex, s, 1, &zero, &prev_sum);
  const uint8_t *v;
  size_t vl;
  int found;
  assert_int_equal(hanse_exec_get(&ex, "old", &v, &vl, &found), HANSE_OK);
  assert_int_equal(found, 1);
  assert_memory_equal(v, "o", 1);
  assert_int_equal(hanse_exec_put(&ex, "new", "n1", 2), HANSE_OK);
  assert_int_equal(hanse_exec_put(&ex, "new", "n2", 2), HANSE_OK); /* overwrite in cache */
  assert_int_equal(hanse_exec_get(&ex, "new", &v, &vl, &found), HANSE_OK);
  assert_int_equal(found, 1);
  assert_int_equal(vl, 2);
  assert_memory_equal(v, "n2", 2);
  assert_int_equal(hanse_exec_del(&ex, "gone"), HANSE_OK);
  assert_int_equal(hanse_exec_get(&ex, "gone", &v, &vl, &found), HANSE_OK);
  assert_int_equal(found, 0);
  assert_null(v);
  assert_int_equal(hanse_exec_put(&ex, "tmp", "t", 1), HANSE_OK);
  assert_int_equal(hanse_exec_del(&ex, "tmp"), HANSE_OK); /* created and deleted */
  assert_int_equal(hanse_exec_put_raw(&ex, "raw\0key", 7, "r", 1), HANSE_OK);
  assert_int_equal(ex.writes, 6);
  /* nothing reaches the store before finish */
  hanse_buf b;
  hanse_buf_init(&b);
  assert_int_equal(hanse_store_state_get(s, "new", 3, &b, &found), HANSE_OK);
  assert_int_equal(found, 0);
  finish(&ex, s, &digest, &sum);
  /* after the flush: exactly the block's changes */
  assert_int_equal(hanse_store_state_get(s, "new", 3, &b, &found), HANSE_OK);
  assert_int_equal(found, 1);
  assert_memory_equal(b.data, "n2", 2);
  assert_int_equal(hanse_store_state_get(s, "gone", 4, &b, &found), HANSE_OK);
  assert_int_equal(found, 0);
  assert_int_equal(hanse_store_state_get(s, "tmp", 3, &b, &found), HANSE_OK);
  assert_int_equal(found, 0);
  assert_int_equal(hanse_store_state_get(s, "raw\0key", 7, &b, &found), HANSE_OK);
  assert_int_equal(found, 1);
  assert_int_equal(hanse_store_state_get(s, "old", 3, &b, &found), HANSE_OK);
  assert_int_equal(found, 1);
  hanse_buf_free(&b);
  /* the running sum equals the sum over the stored rows */
  hanse_hash want;
  store_sum(s, &want);
  assert_memory_equal(sum.b, want.b, HANSE_HASH_BYTES);
  assert_false(hanse_hash_is_zero(&digest));
  hanse_store_close(s);
}

/* Run a fixed sequence of writes on a fresh store; `swap` exchanges the
 * order of two writes to different keys. */
static void run_block(int swap, const char *last_value, hanse_hash *digest, hanse_hash *sum) {
  hanse_store *s = mem_store();
  hanse_hash zero;
  memset(&zero, 0, sizeof zero);
  hanse_exec ex;
  begin(&ex, s, 5, &zero, &zero);
  if (!swap) {
    hanse_exec_put(&ex, "a", "1", 1);
    hanse_exec_put(&ex, "b", "2", 1);
  } else {
    hanse_exec_put(&ex, "b", "2", 1);
    hanse_exec_put(&ex, "a", "1", 1);
  }
  hanse_exec_put(&ex, "c", last_value, strlen(last_value));
  finish(&ex, s, digest, sum);
  hanse_store_close(s);
}

static void test_digest_is_deterministic_and_ordered(void **state) {
  (void)state;
  hanse_hash d1, s1, d2, s2, d3, s3, d4, s4;
  run_block(0, "x", &d1, &s1);
  run_block(0, "x", &d2, &s2);
  assert_memory_equal(d1.b, d2.b, HANSE_HASH_BYTES);
  assert_memory_equal(s1.b, s2.b, HANSE_HASH_BYTES);
  /* same final state, other order: same sum, different digest */
  run_block(1, "x", &d3, &s3);
  assert_memory_equal(s1.b, s3.b, HANSE_HASH_BYTES);
  assert_memory_not_equal(d1.b, d3.b, HANSE_HASH_BYTES);
  /* one different value: both differ */
  run_block(0, "y", &d4, &s4);
  assert_memory_not_equal(d1.b, d4.b, HANSE_HASH_BYTES);
  assert_memory_not_equal(s1.b, s4.b, HANSE_HASH_BYTES);
}

static void digest_of(uint64_t height, const hanse_hash *prev, hanse_hash *out) {
  hanse_store *s = mem_store();
  hanse_hash zero, sum;
  memset(&zero, 0, sizeof zero);
  hanse_exec ex;
  begin(&ex, s, height, prev, &zero);
  hanse_exec_put(&ex, "k", "v", 1);
  finish(&ex, s, out, &sum);
  hanse_store_close(s);
}

static void test_digest_chains_height_and_prev(void **state) {
  (void)state;
  hanse_hash zero, one, a, b, c;
  memset(&zero, 0, sizeof zero);
  one = zero;
  one.b[0] = 1;
  digest_of(1, &zero, &a);
  digest_of(2, &zero, &b);
  digest_of(1, &one, &c);
  assert_memory_not_equal(a.b, b.b, HANSE_HASH_BYTES);
  assert_memory_not_equal(a.b, c.b, HANSE_HASH_BYTES);
}

static void make_tx(hanse_buf *raw, hanse_tx *tx, const hanse_keypair *kp, const char *kind,
                    uint64_t seq, const char *payload) {
  hanse_buf_reset(raw);
  fx_tx(raw, kp, FX_CHAIN_ID, kind, seq, 0, "%s", payload);
  assert_int_equal(hanse_tx_decode(tx, raw->data, raw->len, 0, NULL), HANSE_OK);
}

static void test_exec_tx_sequence_and_receipts(void **state) {
  (void)state;
  hanse_store *s = mem_store();
  hanse_hash zero, digest, sum;
  memset(&zero, 0, sizeof zero);
  hanse_exec ex;
  begin(&ex, s, 1, &zero, &zero);
  hanse_buf raw;
  hanse_buf_init(&raw);
  hanse_tx tx;
  hanse_receipt r;
  char seqkey[128], hex[HANSE_HASH_HEX_BYTES];
  snprintf(seqkey, sizeof seqkey, HANSE_SEQ_PREFIX "%s", fx_hex(hex, &alice.pub));
  const uint8_t *v;
  size_t vl;
  int found;

  /* wrong sequence (2 before 1): rejected, nothing written */
  make_tx(&raw, &tx, &alice, "asset.issue", 2, "{\"asset\":\"EUR\",\"decimals\":0,\"supply\":10}");
  size_t w0 = ex.writes;
  assert_int_equal(hanse_exec_tx(&ex, &tx, FX_CHAIN_ID, &r), HANSE_OK);
  assert_string_equal(r.code, "tx.bad_sequence");
  assert_memory_equal(r.id.b, tx.id.b, HANSE_HASH_BYTES);
  assert_true(r.height == 1);
  assert_int_equal(ex.writes, w0);
  assert_int_equal(hanse_exec_get(&ex, seqkey, &v, &vl, &found), HANSE_OK);
  assert_int_equal(found, 0);

  /* right sequence: applied; the sequence number is stored as text */
  make_tx(&raw, &tx, &alice, "asset.issue", 1, "{\"asset\":\"EUR\",\"decimals\":0,\"supply\":10}");
  assert_int_equal(hanse_exec_tx(&ex, &tx, FX_CHAIN_ID, &r), HANSE_OK);
  assert_string_equal(r.code, "ok");
  assert_string_equal(r.message, "");
  assert_int_equal(hanse_exec_get(&ex, seqkey, &v, &vl, &found), HANSE_OK);
  assert_int_equal(found, 1);
  assert_int_equal(vl, 1);
  assert_memory_equal(v, "1", 1);
  assert_true(ex.writes > w0 + 1);

  /* rejected by the module (the asset exists): only the sequence moves */
  make_tx(&raw, &tx, &alice, "asset.issue", 2, "{\"asset\":\"EUR\",\"decimals\":0,\"supply\":10}");
  size_t w1 = ex.writes;
  assert_int_equal(hanse_exec_tx(&ex, &tx, FX_CHAIN_ID, &r), HANSE_OK);
  assert_string_equal(r.code, "asset.exists");
  assert_int_equal(ex.writes, w1 + 1);
  assert_int_equal(hanse_exec_get(&ex, seqkey, &v, &vl, &found), HANSE_OK);
  assert_memory_equal(v, "2", 1);

  /* replaying an old sequence is refused */
  make_tx(&raw, &tx, &alice, "asset.issue", 1, "{\"asset\":\"USD\",\"decimals\":0,\"supply\":10}");
  assert_int_equal(hanse_exec_tx(&ex, &tx, FX_CHAIN_ID, &r), HANSE_OK);
  assert_string_equal(r.code, "tx.bad_sequence");

  /* context-free failures are receipts too, and consume the sequence */
  make_tx(&raw, &tx, &alice, "asset.issue", 3, "{\"asset\":\"bad symbol\",\"decimals\":0,\"supply\":1}");
  assert_int_equal(hanse_exec_tx(&ex, &tx, FX_CHAIN_ID, &r), HANSE_OK);
  assert_string_equal(r.code, "asset.bad_symbol");
  make_tx(&raw, &tx, &alice, "nosuch.thing", 4, "{}");
  assert_int_equal(hanse_exec_tx(&ex, &tx, FX_CHAIN_ID, &r), HANSE_OK);
  assert_string_equal(r.code, "tx.unknown_kind");
  make_tx(&raw, &tx, &alice, "asset.issue", 5, "[1,2]");
  assert_int_equal(hanse_exec_tx(&ex, &tx, FX_CHAIN_ID, &r), HANSE_OK);
  assert_string_equal(r.code, "tx.bad_payload");
  make_tx(&raw, &tx, &alice, "asset.issue", 6, "{\"asset\":\"X\",\"decimals\":0,\"supply\":1.5}");
  assert_int_equal(hanse_exec_tx(&ex, &tx, FX_CHAIN_ID, &r), HANSE_OK);
  assert_string_equal(r.code, "tx.bad_payload");
  /* another chain's transaction */
  hanse_buf_reset(&raw);
  fx_tx(&raw, &alice, "elsewhere", "asset.issue", 7, 0, "{}");
  assert_int_equal(hanse_tx_decode(&tx, raw.data, raw.len, 0, NULL), HANSE_OK);
  assert_int_equal(hanse_exec_tx(&ex, &tx, FX_CHAIN_ID, &r), HANSE_OK);
  assert_string_equal(r.code, "tx.wrong_chain");
  assert_int_equal(hanse_exec_get(&ex, seqkey, &v, &vl, &found), HANSE_OK);
  assert_memory_equal(v, "7", 1);

  /* signers have independent sequences */
  char bobhex[HANSE_HASH_HEX_BYTES], payload[256];
  snprintf(payload, sizeof payload, "{\"asset\":\"EUR\",\"amount\":4,\"to\":\"%s\"}",
           fx_hex(bobhex, &bob.pub));
  make_tx(&raw, &tx, &alice, "asset.transfer", 8, payload);
  assert_int_equal(hanse_exec_tx(&ex, &tx, FX_CHAIN_ID, &r), HANSE_OK);
  assert_string_equal(r.code, "ok");
  snprintf(payload, sizeof payload, "{\"asset\":\"EUR\",\"amount\":4,\"to\":\"%s\"}",
           fx_hex(hex, &alice.pub));
  make_tx(&raw, &tx, &bob, "asset.transfer", 1, payload);
  assert_int_equal(hanse_exec_tx(&ex, &tx, FX_CHAIN_ID, &r), HANSE_OK);
  assert_string_equal(r.code, "ok");
  hanse_buf_free(&raw);
  finish(&ex, s, &digest, &sum);
  hanse_hash want;
  store_sum(s, &want);
  assert_memory_equal(sum.b, want.b, HANSE_HASH_BYTES);
  hanse_store_close(s);
}

static int count_visit(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  (void)k; (void)kl; (void)v; (void)vl;
  (*(int *)ctx)++;
  return 0;
}

static int carry_frees;
static void carry_free(void *p) {
  carry_frees++;
  free(p);
}

/* What verify leaves for apply: taken once, replaced by a second set,
 * freed when nobody takes it. */
static void test_carry(void **state) {
  (void)state;
  hanse_store *s = mem_store();
  hanse_hash zero;
  memset(&zero, 0, sizeof zero);
  hanse_exec ex;
  begin(&ex, s, 1, &zero, &zero);
  hanse_tx tx;
  memset(&tx, 0, sizeof tx);
  ex.tx = &tx;
  carry_frees = 0;
  assert_null(hanse_exec_carry_take(&ex));
  int *p = malloc(sizeof *p), *q = malloc(sizeof *q);
  hanse_exec_carry_set(&ex, p, carry_free);
  hanse_exec_carry_set(&ex, q, carry_free); /* replaces p */
  assert_int_equal(carry_frees, 1);
  assert_ptr_equal(hanse_exec_carry_take(&ex), q);
  assert_null(hanse_exec_carry_take(&ex)); /* taken once */
  free(q);
  hanse_exec_carry_set(&ex, malloc(1), carry_free);
  hanse_exec_free(&ex); /* nobody took it */
  assert_int_equal(carry_frees, 2);
  hanse_store_rollback(s);
  hanse_store_close(s);
}

static void test_view(void **state) {
  (void)state;
  hanse_store *s = mem_store();
  hanse_store_state_put(s, "p/1", 3, "a", 1);
  hanse_store_state_put(s, "p/2", 3, "b", 1);
  hanse_store_state_put(s, "p/3", 3, "c", 1);
  hanse_store_state_put(s, "q/1", 3, "d", 1);
  hanse_view v = {s, FX_CHAIN_ID};
  hanse_buf b;
  hanse_buf_init(&b);
  int found = 0;
  assert_int_equal(hanse_view_get(&v, "p/2", &b, &found), HANSE_OK);
  assert_int_equal(found, 1);
  assert_memory_equal(b.data, "b", 1);
  assert_int_equal(hanse_view_get(&v, "p/9", &b, &found), HANSE_OK);
  assert_int_equal(found, 0);
  int n = 0;
  assert_int_equal(hanse_view_scan(&v, "p/", NULL, 100, count_visit, &n), HANSE_OK);
  assert_int_equal(n, 3);
  n = 0;
  assert_int_equal(hanse_view_scan(&v, "p/", "p/1", 100, count_visit, &n), HANSE_OK);
  assert_int_equal(n, 2);
  n = 0;
  assert_int_equal(hanse_view_scan(&v, "p/", NULL, 1, count_visit, &n), HANSE_OK);
  assert_int_equal(n, 1);
  hanse_buf_free(&b);
  hanse_store_close(s);
}

/* ---- pipelined execution: a block executed above one not yet stored ---- */

typedef struct scan_seen {
  char text[256];
} scan_seen;

static int seen_visit(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  scan_seen *s = ctx;
  size_t n = strlen(s->text);
  snprintf(s->text + n, sizeof s->text - n, "%.*s=%.*s;", (int)kl, (const char *)k, (int)vl,
           (const char *)v);
  return 0;
}

static void seed_rows(hanse_store *s) {
  assert_int_equal(hanse_store_state_put(s, "p/a", 3, "1", 1), HANSE_OK);
  assert_int_equal(hanse_store_state_put(s, "p/b", 3, "2", 1), HANSE_OK);
  assert_int_equal(hanse_store_state_put(s, "p/c", 3, "3", 1), HANSE_OK);
  assert_int_equal(hanse_store_state_put(s, "q", 1, "x", 1), HANSE_OK);
}

static void block1_writes(hanse_exec *ex) {
  const uint8_t *v;
  size_t vl;
  int found;
  assert_int_equal(hanse_exec_get(ex, "q", &v, &vl, &found), HANSE_OK); /* a read only */
  assert_int_equal(hanse_exec_put(ex, "p/b", "B", 1), HANSE_OK);
  assert_int_equal(hanse_exec_del(ex, "p/c"), HANSE_OK);
  assert_int_equal(hanse_exec_put(ex, "p/d", "D", 1), HANSE_OK);
}

static void block2_writes(hanse_exec *ex) {
  assert_int_equal(hanse_exec_put(ex, "p/a", "A2", 2), HANSE_OK);
  assert_int_equal(hanse_exec_del(ex, "p/d"), HANSE_OK);
}

static void test_pipelined_above(void **state) {
  (void)state;
  hanse_hash zero, prev_sum, d1, s1, d2, s2;
  memset(&zero, 0, sizeof zero);
  /* the reference: block 1 stored, then block 2, one after the other */
  hanse_store *ref = mem_store();
  seed_rows(ref);
  store_sum(ref, &prev_sum);
  hanse_exec ex;
  begin(&ex, ref, 1, &zero, &prev_sum);
  block1_writes(&ex);
  finish(&ex, ref, &d1, &s1);
  begin(&ex, ref, 2, &d1, &s1);
  block2_writes(&ex);
  assert_int_equal(hanse_exec_finish(&ex, &d2, &s2), HANSE_OK);
  size_t ref_hl;
  const uint8_t *ref_h = hanse_exec_history(&ex, &ref_hl);
  uint8_t *ref_hist = malloc(ref_hl + 1);
  memcpy(ref_hist, ref_h, ref_hl);
  hanse_exec_free(&ex);
  assert_int_equal(hanse_store_commit(ref), HANSE_OK);

  /* pipelined: block 2 executes while block 1 is sealed but not stored */
  hanse_store *s = mem_store();
  seed_rows(s);
  hanse_exec e1, e2;
  hanse_hash pd1, ps1, pd2, ps2;
  assert_int_equal(hanse_exec_begin(&e1, s, 1, 1000, &zero, &prev_sum), HANSE_OK);
  block1_writes(&e1);
  assert_int_equal(hanse_exec_seal(&e1, &pd1, &ps1), HANSE_OK);
  assert_int_equal(hanse_exec_begin(&e2, s, 2, 2000, &pd1, &ps1), HANSE_OK);
  hanse_exec_above(&e2, &e1);
  const uint8_t *v;
  size_t vl;
  int found;
  assert_int_equal(hanse_exec_get(&e2, "p/b", &v, &vl, &found), HANSE_OK);
  assert_true(found && vl == 1 && v[0] == 'B'); /* block 1's write, not the store's */
  assert_int_equal(hanse_exec_get(&e2, "p/c", &v, &vl, &found), HANSE_OK);
  assert_false(found);                          /* block 1's delete */
  assert_int_equal(hanse_exec_get(&e2, "p/a", &v, &vl, &found), HANSE_OK);
  assert_true(found && vl == 1 && v[0] == '1'); /* untouched: the store */
  scan_seen seen = {""};
  assert_int_equal(hanse_exec_scan_stored(&e2, "p/", NULL, -1, seen_visit, &seen), HANSE_OK);
  assert_string_equal(seen.text, "p/a=1;p/b=B;p/d=D;");
  memset(&seen, 0, sizeof seen);
  assert_int_equal(hanse_exec_scan_stored(&e2, "p/", "p/a", 1, seen_visit, &seen), HANSE_OK);
  assert_string_equal(seen.text, "p/b=B;");
  memset(&seen, 0, sizeof seen);
  /* the delete of p/c hides a stored row: the limit still counts rows shown */
  assert_int_equal(hanse_exec_scan_stored(&e2, "p/", "p/a", 2, seen_visit, &seen), HANSE_OK);
  assert_string_equal(seen.text, "p/b=B;p/d=D;");
  block2_writes(&e2);
  assert_int_equal(hanse_exec_seal(&e2, &pd2, &ps2), HANSE_OK);
  /* now the committer stores them, in order */
  assert_int_equal(hanse_store_begin(s), HANSE_OK);
  assert_int_equal(hanse_exec_store(&e1, s), HANSE_OK);
  assert_int_equal(hanse_store_commit(s), HANSE_OK);
  assert_int_equal(hanse_store_begin(s), HANSE_OK);
  assert_int_equal(hanse_exec_store(&e2, s), HANSE_OK);
  assert_int_equal(hanse_store_commit(s), HANSE_OK);
  /* the same digests, sums and history as executing one after the other */
  assert_memory_equal(pd1.b, d1.b, HANSE_HASH_BYTES);
  assert_memory_equal(ps1.b, s1.b, HANSE_HASH_BYTES);
  assert_memory_equal(pd2.b, d2.b, HANSE_HASH_BYTES);
  assert_memory_equal(ps2.b, s2.b, HANSE_HASH_BYTES);
  size_t hl;
  const uint8_t *h = hanse_exec_history(&e2, &hl);
  assert_int_equal(hl, ref_hl);
  assert_memory_equal(h, ref_hist, hl);
  hanse_hash want;
  store_sum(s, &want);
  assert_memory_equal(want.b, ps2.b, HANSE_HASH_BYTES);
  hanse_exec_free(&e2);
  hanse_exec_free(&e1);
  free(ref_hist);
  hanse_store_close(s);
  hanse_store_close(ref);
}

/* The warm cache: a committed block's values serve the next blocks'
 * reads before the store; two generations of `cap` keys, the older
 * dropped when the younger fills. The store is changed behind the
 * cache's back here only to see which one answered. */
static void exec_block(hanse_store *s, hanse_exec_warm *w, uint64_t height, const char *key,
                       const char *val, hanse_hash *digest, hanse_hash *sum) {
  hanse_exec ex;
  assert_int_equal(hanse_exec_begin(&ex, s, height, 1000 * height, digest, sum), HANSE_OK);
  hanse_exec_use_warm(&ex, w);
  if (val)
    assert_int_equal(hanse_exec_put(&ex, key, val, strlen(val)), HANSE_OK);
  else
    assert_int_equal(hanse_exec_del(&ex, key), HANSE_OK);
  assert_int_equal(hanse_exec_seal(&ex, digest, sum), HANSE_OK);
  assert_int_equal(hanse_store_begin(s), HANSE_OK);
  assert_int_equal(hanse_exec_store(&ex, s), HANSE_OK);
  assert_int_equal(hanse_store_commit(s), HANSE_OK);
  assert_int_equal(hanse_exec_warm_absorb(w, &ex), HANSE_OK);
  hanse_exec_free(&ex);
}

static void read_as(hanse_store *s, hanse_exec_warm *w, const char *key, const char *want) {
  hanse_exec ex;
  hanse_hash z;
  memset(&z, 0, sizeof z);
  assert_int_equal(hanse_exec_begin(&ex, s, 99, 99000, &z, &z), HANSE_OK);
  hanse_exec_use_warm(&ex, w);
  const uint8_t *v;
  size_t vl;
  int found;
  assert_int_equal(hanse_exec_get(&ex, key, &v, &vl, &found), HANSE_OK);
  if (want == NULL) {
    assert_false(found);
  } else {
    assert_true(found);
    assert_int_equal(vl, strlen(want));
    assert_memory_equal(v, want, vl);
  }
  hanse_exec_free(&ex);
}

static void test_warm_cache(void **state) {
  (void)state;
  hanse_store *s = mem_store();
  assert_int_equal(hanse_store_state_put(s, "gone", 4, "g", 1), HANSE_OK);
  hanse_exec_warm *w = hanse_exec_warm_new(1); /* rotates when a second key comes in */
  assert_non_null(w);
  hanse_hash digest, sum;
  memset(&digest, 0, sizeof digest);
  store_sum(s, &sum);
  exec_block(s, w, 1, "a", "A1", &digest, &sum);
  exec_block(s, w, 2, "gone", NULL, &digest, &sum);
  /* behind the cache's back: the cache answers, not the store */
  assert_int_equal(hanse_store_state_put(s, "a", 1, "X", 1), HANSE_OK);
  assert_int_equal(hanse_store_state_put(s, "gone", 4, "X", 1), HANSE_OK);
  read_as(s, w, "a", "A1");    /* both now in the old generation */
  read_as(s, w, "gone", NULL); /* a delete is remembered */
  /* a third and fourth key: the generation holding "a" is dropped */
  exec_block(s, w, 3, "b", "B", &digest, &sum);
  exec_block(s, w, 4, "c", "C", &digest, &sum);
  read_as(s, w, "a", "X");     /* from the store again */
  read_as(s, w, "c", "C");
  hanse_exec_warm_free(w);
  hanse_store_close(s);
}

/* The warm cache's filter of the store's keys: built from the store, a
 * key it never saw reads as absent without the store (seen here by a row
 * put behind its back), while every key in the store when it was built,
 * and every key a committed block made, is still found once the warm
 * generations have dropped it -- also after the filter has filled and
 * grown a successor (min_keys 2 here, so a few keys fill it). */
static void test_warm_filter(void **state) {
  (void)state;
  hanse_store *s = mem_store();
  assert_int_equal(hanse_store_state_put(s, "pre", 3, "P", 1), HANSE_OK);
  hanse_exec_warm *w = hanse_exec_warm_new(1);
  assert_non_null(w);
  assert_int_equal(hanse_exec_warm_filter(w, s, 2), HANSE_OK);
  hanse_hash digest, sum;
  memset(&digest, 0, sizeof digest);
  store_sum(s, &sum);
  char key[16], val[16];
  for (int i = 0; i < 12; i++) { /* fills the first filter and its successors */
    snprintf(key, sizeof key, "k%02d", i);
    snprintf(val, sizeof val, "v%02d", i);
    exec_block(s, w, (uint64_t)i + 1, key, val, &digest, &sum);
  }
  /* behind the filter's back: a key no block made */
  assert_int_equal(hanse_store_state_put(s, "ghost", 5, "G", 1), HANSE_OK);
  read_as(s, w, "ghost", NULL);
  read_as(s, w, "pre", "P"); /* from the store: it was there when built */
  for (int i = 0; i < 12; i++) { /* the generations hold only the last ones */
    snprintf(key, sizeof key, "k%02d", i);
    snprintf(val, sizeof val, "v%02d", i);
    read_as(s, w, key, val);
  }
  read_as(s, w, "never", NULL);
  /* built once: a second call leaves it as it is */
  assert_int_equal(hanse_exec_warm_filter(w, s, 2), HANSE_OK);
  read_as(s, w, "ghost", NULL);
  hanse_exec_warm_free(w);
  /* without a filter, the store answers */
  w = hanse_exec_warm_new(1);
  assert_non_null(w);
  read_as(s, w, "ghost", "G");
  hanse_exec_warm_free(w);
  hanse_store_close(s);
}

/* Derived index rows: not state (no state row, the state sum unchanged),
 * in the digest, stored in key order with a key's last write winning. */
static void index_block(const char *second, hanse_hash *digest, hanse_hash *sum, char *seen,
                        size_t seen_len) {
  hanse_store *s = mem_store();
  hanse_hash zero;
  memset(&zero, 0, sizeof zero);
  hanse_exec ex;
  begin(&ex, s, 1, &zero, &zero);
  assert_int_equal(hanse_exec_index_put(&ex, "ix/b", "1", 1), HANSE_OK);
  assert_int_equal(hanse_exec_index_put(&ex, "ix/a", second, strlen(second)), HANSE_OK);
  assert_int_equal(hanse_exec_index_put(&ex, "ix/b", "2", 1), HANSE_OK);
  finish(&ex, s, digest, sum);
  scan_seen sc = {""};
  assert_int_equal(hanse_store_index_scan(s, "ix/", 3, NULL, 0, -1, seen_visit, &sc), HANSE_OK);
  snprintf(seen, seen_len, "%s", sc.text);
  memset(&sc, 0, sizeof sc);
  assert_int_equal(hanse_store_state_scan(s, "", 0, NULL, 0, -1, seen_visit, &sc), HANSE_OK);
  assert_string_equal(sc.text, ""); /* no state row */
  hanse_store_close(s);
}

static void test_index_rows(void **state) {
  (void)state;
  hanse_hash d1, s1, d2, s2, zero;
  memset(&zero, 0, sizeof zero);
  char seen1[256], seen2[256];
  index_block("x", &d1, &s1, seen1, sizeof seen1);
  assert_string_equal(seen1, "ix/a=x;ix/b=2;");
  assert_memory_equal(s1.b, zero.b, HANSE_HASH_BYTES); /* outside the state sum */
  index_block("y", &d2, &s2, seen2, sizeof seen2);
  assert_memory_not_equal(d1.b, d2.b, HANSE_HASH_BYTES); /* inside the digest */
}

int main(void) {
  if (sodium_init() < 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sum_helpers),
      cmocka_unit_test(test_cache_reads_writes_and_flush),
      cmocka_unit_test(test_digest_is_deterministic_and_ordered),
      cmocka_unit_test(test_digest_chains_height_and_prev),
      cmocka_unit_test(test_exec_tx_sequence_and_receipts),
      cmocka_unit_test(test_carry),
      cmocka_unit_test(test_view),
      cmocka_unit_test(test_pipelined_above),
      cmocka_unit_test(test_warm_cache),
      cmocka_unit_test(test_warm_filter),
      cmocka_unit_test(test_index_rows),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
