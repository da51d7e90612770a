/*
 * test_chain.c -- a chain end to end: create, open, propose, prove, audit,
 * and detect tampering.
 *
 * Each test builds a chain in its own temporary directory. Blocks carry
 * asset issues and transfers and notary anchors, alone and in batches;
 * the tests read receipts from the transaction index and balances through
 * hanse_view and the asset query, check inclusion proofs against the
 * header's Merkle root, and run the offline audit. The tamper tests edit
 * the database behind the chain's back with raw SQL (a state row, one
 * byte of a block body, a row of the transaction index, a header) and
 * require that hanse_chain_open refuses the chain and hanse_chain_audit
 * names the block (and the transaction where there is one).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "crypto/merkle.h"
#include "fixture.h"

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

/* Propose a body and return its receipts (caller frees). */
static hanse_receipt *propose(fx_chain *f, fx_body *b, uint32_t n) {
  hanse_receipt *rs = calloc(n, sizeof *rs);
  assert_non_null(rs);
  hanse_reject rej;
  int rc = fx_propose(f, b, rs, n, &rej);
  if (rc != HANSE_OK) fail_msg("propose: %s: %s", rej.code, rej.message);
  return rs;
}

static const char *hexkey(const hanse_pubkey *pk) {
  static char buf[4][HANSE_HASH_HEX_BYTES];
  static int i;
  i = (i + 1) % 4;
  return fx_hex(buf[i], pk);
}

/* Block 1: alice issues EUR (1000), sends 300 to bob, anchors a digest.
 * Block 2: bob sends 500 (too much), then 100 to carol; alice replays
 * sequence 2. */
static void two_blocks(fx_chain *f, hanse_receipt **r1, hanse_receipt **r2) {
  fx_body b;
  fx_body_init(&b);
  fx_body_tx(&b, &f->alice, "asset.issue", 1,
             "{\"asset\":\"EUR\",\"decimals\":2,\"supply\":1000,\"name\":\"Euro\"}");
  fx_body_tx(&b, &f->alice, "asset.transfer", 2, "{\"asset\":\"EUR\",\"amount\":300,\"to\":\"%s\"}",
             hexkey(&f->bob.pub));
  fx_body_tx(&b, &f->alice, "notary.anchor", 3, "{\"hash\":\"%064d\",\"name\":\"doc.pdf\"}", 7);
  *r1 = propose(f, &b, 3);
  fx_body_free(&b);

  fx_body_init(&b);
  fx_body_tx(&b, &f->bob, "asset.transfer", 1, "{\"asset\":\"EUR\",\"amount\":500,\"to\":\"%s\"}",
             hexkey(&f->carol.pub));
  fx_body_tx(&b, &f->bob, "asset.transfer", 2, "{\"asset\":\"EUR\",\"amount\":100,\"to\":\"%s\"}",
             hexkey(&f->carol.pub));
  fx_body_tx(&b, &f->alice, "asset.transfer", 2, "{\"asset\":\"EUR\",\"amount\":1,\"to\":\"%s\"}",
             hexkey(&f->bob.pub));
  *r2 = propose(f, &b, 3);
  fx_body_free(&b);
}

static void test_create_and_open(void **state) {
  fx_chain *f = *state;
  hanse_tip tip;
  hanse_chain_tip(f->chain, &tip);
  assert_true(tip.height == 0);
  assert_true(tip.tx_count == 0);
  assert_true(tip.time_ms == FX_T0_MS);
  assert_string_equal(f->chain->chain_id, FX_CHAIN_ID);
  assert_int_equal(f->chain->validator_count, 1);
  assert_memory_equal(f->chain->validators[0].b, f->node.pub.b, HANSE_PUBKEY_BYTES);
  /* genesis state: the organisation and the validator */
  char v[512], key[128];
  assert_int_equal(fx_state(f, "org/acme", v, sizeof v), 1);
  assert_non_null(strstr(v, "\"ACME Ltd\""));
  assert_non_null(strstr(v, hexkey(&f->alice.pub)));
  snprintf(key, sizeof key, "validator/%s", hexkey(&f->node.pub));
  assert_int_equal(fx_state(f, key, v, sizeof v), 1);
  assert_string_equal(v, "1");
  assert_int_equal(fx_state(f, "genesis", v, sizeof v), 1);
  char path[300];
  fx_path(f, "genesis.json", path, sizeof path);
  assert_int_equal(access(path, R_OK), 0);

  /* a second create over it is refused and leaves it intact */
  json_t *g = json_pack("{s:s, s:[{s:s, s:s, s:[s]}]}", "chain_id", FX_CHAIN_ID,
                        "organisations", "id", "x", "name", "X", "keys",
                        hexkey(&f->bob.pub));
  hanse_reject rej;
  assert_int_equal(hanse_chain_create(f->dir, g, &f->node, 1, &rej), HANSE_ERR(INVALID));
  json_decref(g);
  assert_int_equal(fx_chain_reopen(f, NULL, &rej), HANSE_OK);
  hanse_chain_tip(f->chain, &tip);
  assert_true(tip.height == 0);

  /* nothing to open elsewhere */
  hanse_chain *c = (hanse_chain *)1;
  char empty[300];
  snprintf(empty, sizeof empty, "%s/empty", f->dir);
  assert_int_equal(hanse_chain_open(empty, &f->node, NULL, &c, &rej), HANSE_ERR(NOT_FOUND));
  assert_null(c);
}

/* Copy tmpl into out with every "@K" replaced by key. */
static void subst(char *out, size_t n, const char *tmpl, const char *key) {
  size_t o = 0;
  for (const char *p = tmpl; *p && o + 1 < n; p++) {
    if (p[0] == '@' && p[1] == 'K') {
      size_t kl = strlen(key);
      assert_true(o + kl + 1 < n);
      memcpy(out + o, key, kl);
      o += kl;
      p++;
    } else {
      out[o++] = *p;
    }
  }
  out[o] = 0;
}

static void test_genesis_validation(void **state) {
  fx_chain *f = *state;
  const char *bad[] = {
      "[]",
      "{\"organisations\":[{\"id\":\"a\",\"name\":\"A\",\"keys\":[\"@K\"]}]}",
      "{\"chain_id\":\"Bad Id\",\"organisations\":[{\"id\":\"a\",\"name\":\"A\",\"keys\":[\"@K\"]}]}",
      "{\"chain_id\":\"c\",\"organisations\":[]}",
      "{\"chain_id\":\"c\",\"organisations\":[{\"id\":\"a\",\"keys\":[\"@K\"]}]}",
      "{\"chain_id\":\"c\",\"organisations\":[{\"id\":\"a\",\"name\":\"A\",\"keys\":[\"zz\"]}]}",
      "{\"chain_id\":\"c\",\"organisations\":[{\"id\":\"a\",\"name\":\"A\",\"keys\":[\"@K\"]},"
      "{\"id\":\"a\",\"name\":\"B\",\"keys\":[\"@K\"]}]}",
      "{\"chain_id\":\"c\",\"organisations\":[{\"id\":\"a\",\"name\":\"A\",\"keys\":[\"@K\"]}],"
      "\"validators\":[]}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char text[1024];
    subst(text, sizeof text, bad[i], hexkey(&f->alice.pub));
    json_t *g = json_loads(text, 0, NULL);
    assert_non_null(g);
    hanse_reject rej;
    char dir[300];
    snprintf(dir, sizeof dir, "%s/bad%zu", f->dir, i);
    assert_int_equal(hanse_chain_create(dir, g, &f->node, 1, &rej), HANSE_ERR(INVALID));
    json_decref(g);
    char db[400];
    snprintf(db, sizeof db, "%s/chain.db", dir);
    assert_int_not_equal(access(db, F_OK), 0);
  }
  /* the same document with a valid chain id is accepted */
  char text[1024];
  subst(text, sizeof text,
        "{\"chain_id\":\"ok\",\"organisations\":[{\"id\":\"a\",\"name\":\"A\",\"keys\":[\"@K\"]}]}",
        hexkey(&f->alice.pub));
  json_t *g = json_loads(text, 0, NULL);
  char dir[300];
  snprintf(dir, sizeof dir, "%s/good", f->dir);
  hanse_reject rej;
  assert_int_equal(hanse_chain_create(dir, g, &f->node, 1, &rej), HANSE_OK);
  json_decref(g);
}

static void test_propose_receipts_balances(void **state) {
  fx_chain *f = *state;
  hanse_receipt *r1, *r2;
  two_blocks(f, &r1, &r2);
  for (int i = 0; i < 3; i++) {
    assert_string_equal(r1[i].code, "ok");
    assert_true(r1[i].height == 1);
    assert_int_equal(r1[i].index, (uint32_t)i);
  }
  /* insufficient balance: a rejection receipt, no transfer */
  assert_string_equal(r2[0].code, "asset.insufficient_balance");
  assert_non_null(strstr(r2[0].message, "300"));
  assert_string_equal(r2[1].code, "ok");
  /* replayed sequence */
  assert_string_equal(r2[2].code, "tx.bad_sequence");
  assert_true(fx_balance(f, "EUR", &f->alice.pub) == 700);
  assert_true(fx_balance(f, "EUR", &f->bob.pub) == 200);
  assert_true(fx_balance(f, "EUR", &f->carol.pub) == 100);
  assert_true(fx_balance(f, "EUR", &f->node.pub) == 0);
  /* the same through the raw state and hanse_view */
  char key[160], v[64];
  snprintf(key, sizeof key, "asset/bal/EUR/%s", hexkey(&f->bob.pub));
  assert_int_equal(fx_state(f, key, v, sizeof v), 1);
  assert_string_equal(v, "200");
  snprintf(key, sizeof key, "seq/%s", hexkey(&f->bob.pub));
  assert_int_equal(fx_state(f, key, v, sizeof v), 1);
  assert_string_equal(v, "2"); /* the rejected transfer still used sequence 1 */
  snprintf(key, sizeof key, "seq/%s", hexkey(&f->alice.pub));
  assert_int_equal(fx_state(f, key, v, sizeof v), 1);
  assert_string_equal(v, "3"); /* the replay did not move it */

  /* the stored receipts match the returned ones */
  hanse_store *r = hanse_chain_reader_acquire(f->chain);
  hanse_receipt got;
  assert_int_equal(hanse_store_tx_get(r, &r2[0].id, &got), HANSE_OK);
  assert_string_equal(got.code, "asset.insufficient_balance");
  assert_string_equal(got.message, r2[0].message);
  assert_true(got.height == 2);
  assert_int_equal(got.index, 0);
  uint64_t count;
  assert_int_equal(hanse_store_tx_count(r, &count), HANSE_OK);
  assert_true(count == 6);
  hanse_chain_reader_release(f->chain, r);

  hanse_tip tip;
  hanse_chain_tip(f->chain, &tip);
  assert_true(tip.height == 2);
  assert_true(tip.tx_count == 6);
  /* the tip survives a restart */
  hanse_reject rej;
  assert_int_equal(fx_chain_reopen(f, NULL, &rej), HANSE_OK);
  hanse_tip again;
  hanse_chain_tip(f->chain, &again);
  assert_memory_equal(&again, &tip, sizeof tip);
  free(r1);
  free(r2);
}

static void test_block_links_and_time(void **state) {
  fx_chain *f = *state;
  hanse_receipt *r1, *r2;
  two_blocks(f, &r1, &r2);
  free(r1);
  free(r2);
  /* a block proposed with an earlier clock keeps the tip's time */
  fx_body b;
  fx_body_init(&b);
  hanse_tip before, after;
  hanse_chain_tip(f->chain, &before);
  f->time_ms = 5;
  free(propose(f, &b, 1)); /* empty block */
  fx_body_free(&b);
  hanse_chain_tip(f->chain, &after);
  assert_true(after.height == 3);
  assert_true(after.time_ms == before.time_ms);
  assert_true(after.tx_count == before.tx_count);
  /* headers link up and are signed by the node */
  hanse_store *r = hanse_chain_reader_acquire(f->chain);
  hanse_hash prev;
  memset(&prev, 0, sizeof prev);
  for (uint64_t h = 0; h <= 3; h++) {
    hanse_block_row row;
    assert_int_equal(hanse_store_block_get(r, h, 0, &row), HANSE_OK);
    hanse_header hd;
    assert_int_equal(hanse_header_decode(&hd, row.header, row.header_len, NULL), HANSE_OK);
    assert_true(hd.height == h);
    assert_memory_equal(hd.prev_hash.b, prev.b, HANSE_HASH_BYTES);
    assert_memory_equal(hd.proposer.b, f->node.pub.b, HANSE_PUBKEY_BYTES);
    assert_int_equal(hanse_header_verify_sig(&hd), 1);
    hanse_hash hh;
    hanse_header_hash(&hd, &hh);
    assert_memory_equal(hh.b, row.hash.b, HANSE_HASH_BYTES);
    prev = row.hash;
    hanse_block_row_free(&row);
  }
  assert_memory_equal(prev.b, after.hash.b, HANSE_HASH_BYTES);
  hanse_chain_reader_release(f->chain, r);
}

static void test_batches(void **state) {
  fx_chain *f = *state;
  char p0[256], p1[256], p2[256];
  snprintf(p0, sizeof p0, "{\"asset\":\"GOLD\",\"decimals\":0,\"supply\":50}");
  snprintf(p1, sizeof p1, "{\"asset\":\"GOLD\",\"amount\":20,\"to\":\"%s\"}", hexkey(&f->bob.pub));
  snprintf(p2, sizeof p2, "{\"hash\":\"%064d\"}", 42);
  const char *kinds[] = {"asset.issue", "asset.transfer", "notary.anchor"};
  const char *payloads[] = {p0, p1, p2};
  fx_body b;
  fx_body_init(&b);
  fx_body_batch(&b, &f->alice, 1, 3, kinds, payloads);
  fx_body_tx(&b, &f->bob, "asset.transfer", 1, "{\"asset\":\"GOLD\",\"amount\":5,\"to\":\"%s\"}",
             hexkey(&f->carol.pub));
  /* a second batch of bob's whose middle transaction fails: the others
   * still apply (a batch is signed together, executed one by one) */
  char q0[256], q1[256], q2[256];
  snprintf(q0, sizeof q0, "{\"asset\":\"GOLD\",\"amount\":1,\"to\":\"%s\"}", hexkey(&f->carol.pub));
  snprintf(q1, sizeof q1, "{\"asset\":\"GOLD\",\"amount\":1000,\"to\":\"%s\"}", hexkey(&f->carol.pub));
  snprintf(q2, sizeof q2, "{\"asset\":\"GOLD\",\"amount\":2,\"to\":\"%s\"}", hexkey(&f->carol.pub));
  const char *kinds2[] = {"asset.transfer", "asset.transfer", "asset.transfer"};
  const char *payloads2[] = {q0, q1, q2};
  fx_body_batch(&b, &f->bob, 2, 3, kinds2, payloads2);
  hanse_receipt *rs = propose(f, &b, 7);
  fx_body_free(&b);
  const char *want[] = {"ok", "ok", "ok", "ok", "ok", "asset.insufficient_balance", "ok"};
  for (int i = 0; i < 7; i++) {
    assert_string_equal(rs[i].code, want[i]);
    assert_int_equal(rs[i].index, (uint32_t)i);
  }
  assert_true(fx_balance(f, "GOLD", &f->alice.pub) == 30);
  assert_true(fx_balance(f, "GOLD", &f->bob.pub) == 12);
  assert_true(fx_balance(f, "GOLD", &f->carol.pub) == 8);
  hanse_tip tip;
  hanse_chain_tip(f->chain, &tip);
  assert_true(tip.tx_count == 7);

  /* proofs of batched transactions name their batch */
  hanse_store *r = hanse_chain_reader_acquire(f->chain);
  hanse_tx_proof p;
  hanse_reject rej;
  assert_int_equal(hanse_chain_tx_proof(r, &rs[1].id, &p, &rej), HANSE_OK);
  assert_int_equal(p.batched, 1);
  assert_string_equal(p.kind, "asset.transfer");
  assert_true(p.seq == 2);
  hanse_hash pb = p.batch_id;
  hanse_tx_proof_free(&p);
  assert_int_equal(hanse_chain_tx_proof(r, &rs[2].id, &p, &rej), HANSE_OK);
  assert_memory_equal(p.batch_id.b, pb.b, HANSE_HASH_BYTES); /* same batch */
  hanse_tx_proof_free(&p);
  assert_int_equal(hanse_chain_tx_proof(r, &rs[3].id, &p, &rej), HANSE_OK);
  assert_int_equal(p.batched, 0);
  hanse_tx_proof_free(&p);
  assert_int_equal(hanse_chain_tx_proof(r, &rs[4].id, &p, &rej), HANSE_OK);
  assert_int_equal(p.batched, 1);
  assert_memory_not_equal(p.batch_id.b, pb.b, HANSE_HASH_BYTES);
  hanse_tx_proof_free(&p);
  hanse_chain_reader_release(f->chain, r);
  free(rs);
}

static void test_bad_bodies_commit_nothing(void **state) {
  fx_chain *f = *state;
  hanse_reject rej;
  hanse_tip before, after;
  hanse_chain_tip(f->chain, &before);
  const uint8_t junk[] = {0, 0, 0, 1, 9, 0, 0, 0, 0};
  assert_int_equal(hanse_chain_propose(f->chain, junk, sizeof junk, f->time_ms, NULL, 0, NULL, &rej),
                   HANSE_ERR(DECODE_BAD_TYPE));
  assert_int_not_equal(hanse_chain_propose(f->chain, junk, 3, f->time_ms, NULL, 0, NULL, &rej),
                       HANSE_OK);
  hanse_chain_tip(f->chain, &after);
  assert_memory_equal(&before, &after, sizeof before);
  hanse_store *r = hanse_chain_reader_acquire(f->chain);
  uint64_t tip;
  assert_int_equal(hanse_store_tip(r, &tip), HANSE_OK);
  assert_true(tip == 0);
  hanse_chain_reader_release(f->chain, r);
}

static void test_tx_proofs_verify(void **state) {
  fx_chain *f = *state;
  hanse_receipt *r1, *r2;
  two_blocks(f, &r1, &r2);
  hanse_store *r = hanse_chain_reader_acquire(f->chain);
  assert_non_null(r);
  hanse_receipt *all[2] = {r1, r2};
  for (int blk = 0; blk < 2; blk++) {
    for (int i = 0; i < 3; i++) {
      const hanse_receipt *rc = &all[blk][i];
      hanse_tx_proof p;
      hanse_reject rej;
      assert_int_equal(hanse_chain_tx_proof(r, &rc->id, &p, &rej), HANSE_OK);
      assert_true(p.receipt.height == (uint64_t)blk + 1);
      assert_int_equal(p.receipt.index, (uint32_t)i);
      assert_string_equal(p.receipt.code, rc->code);
      assert_true(p.header.height == (uint64_t)blk + 1);
      assert_int_equal(p.header.tx_count, 3);
      /* the raw transaction hashes to its id, which is the proven leaf */
      hanse_hash id;
      hanse_sha256(&id, p.raw, p.raw_len);
      assert_memory_equal(id.b, rc->id.b, HANSE_HASH_BYTES);
      assert_int_equal(hanse_merkle_verify(&p.header.tx_root, rc->id.b, HANSE_HASH_BYTES,
                                           p.receipt.index, p.header.tx_count, p.path,
                                           p.path_len),
                       1);
      /* wrong index, wrong leaf, wrong path are refused */
      assert_int_equal(hanse_merkle_verify(&p.header.tx_root, rc->id.b, HANSE_HASH_BYTES,
                                           (p.receipt.index + 1) % 3, 3, p.path, p.path_len),
                       0);
      const hanse_hash *other = &all[blk][(i + 1) % 3].id;
      assert_int_equal(hanse_merkle_verify(&p.header.tx_root, other->b, HANSE_HASH_BYTES,
                                           p.receipt.index, 3, p.path, p.path_len),
                       0);
      p.path[0].b[0] ^= 1;
      assert_int_equal(hanse_merkle_verify(&p.header.tx_root, rc->id.b, HANSE_HASH_BYTES,
                                           p.receipt.index, 3, p.path, p.path_len),
                       0);
      /* the header in the proof is the block's, signed by the node */
      hanse_hash hh;
      hanse_header_hash(&p.header, &hh);
      assert_memory_equal(hh.b, p.block_hash.b, HANSE_HASH_BYTES);
      assert_int_equal(hanse_header_verify_sig(&p.header), 1);
      const hanse_keypair *signer = blk == 0 || i == 2 ? &f->alice : &f->bob;
      assert_memory_equal(p.signer.b, signer->pub.b, HANSE_PUBKEY_BYTES);
      hanse_tx_proof_free(&p);
    }
  }
  hanse_hash none;
  memset(none.b, 0x5a, sizeof none.b);
  hanse_tx_proof p;
  hanse_reject rej;
  assert_int_equal(hanse_chain_tx_proof(r, &none, &p, &rej), HANSE_ERR(NOT_FOUND));
  hanse_chain_reader_release(f->chain, r);
  free(r1);
  free(r2);
}

static int progress_calls;
static void progress(void *ctx, uint64_t height, uint64_t tip) {
  (void)ctx;
  assert_true(height <= tip);
  progress_calls++;
}

static void test_audit_passes(void **state) {
  fx_chain *f = *state;
  hanse_receipt *r1, *r2;
  two_blocks(f, &r1, &r2);
  free(r1);
  free(r2);
  uint64_t blocks = 0, txs = 0;
  int64_t bad_h = 5, bad_tx = 5;
  hanse_reject rej;
  progress_calls = 0;
  assert_int_equal(hanse_chain_audit(f->dir, &blocks, &txs, &bad_h, &bad_tx, progress, NULL, &rej),
                   HANSE_OK);
  assert_true(blocks == 3);
  assert_true(txs == 6);
  assert_true(bad_h == -1);
  assert_true(bad_tx == -1);
  assert_true(progress_calls >= 1);
  /* the audit works on a live chain (another connection) too */
  hanse_chain_close(f->chain);
  f->chain = NULL;
  assert_int_equal(hanse_chain_audit(f->dir, &blocks, &txs, &bad_h, &bad_tx, NULL, NULL, &rej),
                   HANSE_OK);
  char missing[300];
  snprintf(missing, sizeof missing, "%s/nothing", f->dir);
  assert_int_equal(hanse_chain_audit(missing, &blocks, &txs, &bad_h, &bad_tx, NULL, NULL, &rej),
                   HANSE_ERR(NOT_FOUND));
}

/* ---- tampering ---- */

static void sql_exec(fx_chain *f, const char *sql, const void *blob, int blen) {
  char path[300];
  fx_path(f, "chain.db", path, sizeof path);
  sqlite3 *db;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
  if (blob) sqlite3_bind_blob(st, 1, blob, blen, SQLITE_TRANSIENT);
  assert_int_equal(sqlite3_step(st), SQLITE_DONE);
  assert_int_equal(sqlite3_changes(db), 1);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

static uint8_t *sql_blob(fx_chain *f, const char *sql, int *len) {
  char path[300];
  fx_path(f, "chain.db", path, sizeof path);
  sqlite3 *db;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  *len = sqlite3_column_bytes(st, 0);
  uint8_t *b = malloc((size_t)*len);
  assert_non_null(b);
  memcpy(b, sqlite3_column_blob(st, 0), (size_t)*len);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return b;
}

/* Build the two blocks, close the chain, then let `tamper` edit the file. */
static void closed_chain(fx_chain *f, hanse_receipt **r1, hanse_receipt **r2) {
  two_blocks(f, r1, r2);
  hanse_chain_close(f->chain);
  f->chain = NULL;
}

/* Open must refuse with `open_msg` in its message; the audit must fail
 * naming block want_height (and tx want_tx, or -1) with `audit_msg`,
 * having passed want_blocks blocks. */
static void expect_broken(fx_chain *f, int64_t want_height, int64_t want_tx,
                          uint64_t want_blocks, const char *open_msg,
                          const char *audit_msg) {
  hanse_reject rej;
  hanse_chain *c = NULL;
  assert_int_equal(hanse_chain_open(f->dir, &f->node, NULL, &c, &rej), HANSE_ERR(CHAIN_BROKEN));
  assert_null(c);
  assert_string_equal(rej.code, "chain.broken");
  if (strstr(rej.message, open_msg) == NULL)
    fail_msg("open said '%s', expected '%s'", rej.message, open_msg);
  uint64_t blocks, txs;
  int64_t bad_h, bad_tx;
  hanse_reject_clear(&rej);
  assert_int_equal(hanse_chain_audit(f->dir, &blocks, &txs, &bad_h, &bad_tx, NULL, NULL, &rej),
                   HANSE_ERR(CHAIN_BROKEN));
  assert_string_equal(rej.code, "chain.broken");
  if (bad_h != want_height || bad_tx != want_tx)
    fail_msg("audit named block %lld tx %lld (%s), expected block %lld tx %lld",
             (long long)bad_h, (long long)bad_tx, rej.message, (long long)want_height,
             (long long)want_tx);
  if (strstr(rej.message, audit_msg) == NULL)
    fail_msg("audit said '%s', expected '%s'", rej.message, audit_msg);
  assert_true(blocks == want_blocks);
}

static void test_tamper_state_row(void **state) {
  fx_chain *f = *state;
  hanse_receipt *r1, *r2;
  closed_chain(f, &r1, &r2);
  char sql[256];
  snprintf(sql, sizeof sql, "UPDATE state SET value = CAST('999' AS BLOB) WHERE key = CAST('asset/bal/EUR/%s' AS BLOB)",
           hexkey(&f->bob.pub));
  sql_exec(f, sql, NULL, 0);
  expect_broken(f, 2, -1, 3, "world state does not match block 2",
                "asset/bal/EUR/");
  free(r1);
  free(r2);
}

static void test_tamper_added_state_row(void **state) {
  fx_chain *f = *state;
  hanse_receipt *r1, *r2;
  closed_chain(f, &r1, &r2);
  sql_exec(f, "INSERT INTO state(key, value) VALUES (CAST('asset/bal/EUR/evil' AS BLOB), CAST('1' AS BLOB))",
           NULL, 0);
  expect_broken(f, 2, -1, 3, "world state does not match", "asset/bal/EUR/evil");
  free(r1);
  free(r2);
}

static void test_tamper_block_body_byte(void **state) {
  fx_chain *f = *state;
  hanse_receipt *r1, *r2;
  closed_chain(f, &r1, &r2);
  int len;
  uint8_t *body = sql_blob(f, "SELECT body FROM blocks WHERE height = 1", &len);
  /* the last byte of the first entry's payload: "...}" -> "...]" keeps the
   * body decodable, so the Merkle root is what catches it */
  uint32_t first_len = hanse_get_u32be(body + 5);
  size_t at = 4 + 5 + first_len - HANSE_SIG_BYTES - 1;
  assert_int_equal(body[at], '}');
  body[at] = ']';
  sql_exec(f, "UPDATE blocks SET body = ?1 WHERE height = 1", body, len);
  expect_broken(f, 1, -1, 1, "block 1: Merkle root", "block 1: Merkle root");
  /* a byte that breaks the structure: the first entry's type */
  body[at] = '}';
  body[4] = 0x09;
  sql_exec(f, "UPDATE blocks SET body = ?1 WHERE height = 1", body, len);
  expect_broken(f, 1, -1, 1, "block 1: body does not decode", "block 1: body does not decode");
  free(body);
  free(r1);
  free(r2);
}

static void test_tamper_header(void **state) {
  fx_chain *f = *state;
  hanse_receipt *r1, *r2;
  closed_chain(f, &r1, &r2);
  int len;
  uint8_t *hdr = sql_blob(f, "SELECT header FROM blocks WHERE height = 2", &len);
  hdr[3 + strlen(FX_CHAIN_ID) + 15] ^= 1; /* the low byte of time_ms */
  sql_exec(f, "UPDATE blocks SET header = ?1 WHERE height = 2", hdr, len);
  expect_broken(f, 2, -1, 2, "block 2: header hashes to", "block 2: header hashes to");
  free(hdr);
  free(r1);
  free(r2);
}

static void test_tamper_tx_index_row_deleted(void **state) {
  fx_chain *f = *state;
  hanse_receipt *r1, *r2;
  closed_chain(f, &r1, &r2);
  /* delete the receipt of block 2, tx 1 */
  sql_exec(f, "DELETE FROM txs WHERE id = ?1", r2[1].id.b, HANSE_HASH_BYTES);
  expect_broken(f, 2, 1, 2, "block 2: transaction index does not match", "block 2 tx 1");
  free(r1);
  free(r2);
}

static void test_tamper_tx_index_row_moved(void **state) {
  fx_chain *f = *state;
  hanse_receipt *r1, *r2;
  closed_chain(f, &r1, &r2);
  /* claim block 1's anchor sits at index 5 */
  sql_exec(f, "UPDATE txs SET idx = 5 WHERE id = ?1", r1[2].id.b, HANSE_HASH_BYTES);
  expect_broken(f, 1, 2, 1, "block 1: transaction index does not match", "block 1 tx 2");
  free(r1);
  free(r2);
}

/* Rewriting a receipt's outcome ("rejected" -> "ok") keeps the index
 * structurally intact; the receipts hash stored with the block catches it
 * at start-up, and re-execution in the audit names the transaction. */
static void test_tamper_receipt_code(void **state) {
  fx_chain *f = *state;
  hanse_receipt *r1, *r2;
  closed_chain(f, &r1, &r2);
  sql_exec(f, "UPDATE txs SET code = 'ok', message = '' WHERE id = ?1", r2[0].id.b,
           HANSE_HASH_BYTES);
  char hex[HANSE_HASH_HEX_BYTES], want[128];
  snprintf(want, sizeof want, "block 2 tx 0 %s", hanse_hash_hex(hex, &r2[0].id));
  expect_broken(f, 2, 0, 2, "block 2: transaction index does not match", want);
  free(r1);
  free(r2);
}

/* The receipts hash itself is covered: altering it is caught too. */
static void test_tamper_receipts_hash(void **state) {
  fx_chain *f = *state;
  hanse_receipt *r1, *r2;
  closed_chain(f, &r1, &r2);
  uint8_t bogus[HANSE_HASH_BYTES];
  memset(bogus, 0x42, sizeof bogus);
  sql_exec(f, "UPDATE blocks SET receipts_hash = ?1 WHERE height = 1", bogus, sizeof bogus);
  expect_broken(f, 1, -1, 1, "block 1: transaction index does not match",
                "block 1: stored receipts hash differs");
  free(r1);
  free(r2);
}

/* Pipelined blocks finished late: block 2 executes above block 1 before
 * block 1 is finished (its digest is block 2's prefix, taken at block
 * 2's finish), block 3 above block 2 after block 2's finish, as the
 * sequencer does with its committer finishing each block. The chain must
 * hold what proposing the same bodies one by one makes -- the same tip
 * hash, digest and state sum -- reopen (its state sum checked) and pass
 * the audit's re-execution. */
static void pipeline_bodies(fx_chain *f, fx_body b[3]) {
  for (int i = 0; i < 3; i++) fx_body_init(&b[i]);
  fx_body_tx(&b[0], &f->alice, "asset.issue", 1,
             "{\"asset\":\"EUR\",\"decimals\":2,\"supply\":1000,\"name\":\"Euro\"}");
  fx_body_tx(&b[0], &f->alice, "asset.transfer", 2, "{\"asset\":\"EUR\",\"amount\":300,\"to\":\"%s\"}",
             hexkey(&f->bob.pub));
  /* reads what block 1 wrote (through its cache) and rewrites it */
  fx_body_tx(&b[1], &f->bob, "asset.transfer", 1, "{\"asset\":\"EUR\",\"amount\":100,\"to\":\"%s\"}",
             hexkey(&f->carol.pub));
  fx_body_tx(&b[1], &f->alice, "notary.anchor", 3, "{\"hash\":\"%064d\",\"name\":\"a.pdf\"}", 5);
  fx_body_tx(&b[1], &f->bob, "asset.transfer", 2, "{\"asset\":\"EUR\",\"amount\":999,\"to\":\"%s\"}",
             hexkey(&f->carol.pub)); /* rejected: too much */
  fx_body_tx(&b[2], &f->carol, "asset.transfer", 1, "{\"asset\":\"EUR\",\"amount\":40,\"to\":\"%s\"}",
             hexkey(&f->alice.pub));
}

static void test_pipelined_finish_later(void **state) {
  fx_chain *f = *state;
  fx_body b[3];
  pipeline_bodies(f, b);
  hanse_block_pending *p[3];
  hanse_reject rej;
  uint64_t t0 = f->time_ms;
  for (int i = 0; i < 2; i++) {
    const hanse_buf *body = fx_body_finish(&b[i]);
    assert_int_equal(hanse_chain_block_execute_above(f->chain, i ? p[i - 1] : NULL, NULL,
                                                     body->data, body->len, NULL, NULL, 0,
                                                     t0 + 1000 * (uint64_t)i, &p[i], &rej),
                     HANSE_OK);
  }
  hanse_tip tip;
  assert_int_equal(hanse_chain_block_finish(f->chain, p[0], NULL, 0, &rej), HANSE_OK);
  assert_int_equal(hanse_chain_block_store(f->chain, p[0], &tip, &rej), HANSE_OK);
  assert_true(tip.height == 1);
  assert_int_equal(hanse_chain_block_finish(f->chain, p[1], NULL, 0, &rej), HANSE_OK);
  const hanse_buf *body = fx_body_finish(&b[2]);
  assert_int_equal(hanse_chain_block_execute_above(f->chain, p[1], NULL, body->data, body->len,
                                                   NULL, NULL, 0, t0 + 2000, &p[2], &rej),
                   HANSE_OK);
  hanse_chain_block_free(p[0]);
  assert_int_equal(hanse_chain_block_store(f->chain, p[1], &tip, &rej), HANSE_OK);
  assert_int_equal(hanse_chain_block_finish(f->chain, p[2], NULL, 0, &rej), HANSE_OK);
  assert_int_equal(hanse_chain_block_store(f->chain, p[2], &tip, &rej), HANSE_OK);
  uint32_t n;
  const hanse_receipt *rs = hanse_chain_block_receipts(p[1], &n);
  assert_int_equal(n, 3);
  assert_string_equal(rs[0].code, "ok");
  assert_string_equal(rs[1].code, "ok");
  assert_string_not_equal(rs[2].code, "ok");
  hanse_chain_block_free(p[1]);
  hanse_chain_block_free(p[2]);
  for (int i = 0; i < 3; i++) fx_body_free(&b[i]);
  assert_true(tip.height == 3);

  /* the same bodies, proposed one by one on a fresh chain */
  fx_chain g;
  fx_chain_setup(&g, NULL);
  g.time_ms = t0;
  pipeline_bodies(&g, b);
  for (int i = 0; i < 3; i++) {
    free(propose(&g, &b[i], (uint32_t)(i == 1 ? 3 : i == 0 ? 2 : 1)));
    fx_body_free(&b[i]); /* (propose moves g.time_ms on by 1000) */
  }
  hanse_tip want;
  hanse_chain_tip(g.chain, &want);
  fx_chain_teardown(&g);
  assert_true(want.height == 3);
  assert_memory_equal(tip.state_digest.b, want.state_digest.b, HANSE_HASH_BYTES);
  assert_memory_equal(tip.state_sum.b, want.state_sum.b, HANSE_HASH_BYTES);
  assert_memory_equal(tip.hash.b, want.hash.b, HANSE_HASH_BYTES);

  assert_int_equal(fx_chain_reopen(f, NULL, &rej), HANSE_OK);
  assert_true(fx_balance(f, "EUR", &f->alice.pub) == 740);
  assert_true(fx_balance(f, "EUR", &f->bob.pub) == 200);
  assert_true(fx_balance(f, "EUR", &f->carol.pub) == 60);
  fx_chain_audit(f);
}

int main(void) {
  if (sodium_init() < 0) return 1;
  hanse_modules_register_all();
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_chain, teardown_chain)
  const struct CMUnitTest tests[] = {
      T(test_create_and_open),
      T(test_genesis_validation),
      T(test_propose_receipts_balances),
      T(test_block_links_and_time),
      T(test_batches),
      T(test_pipelined_finish_later),
      T(test_bad_bodies_commit_nothing),
      T(test_tx_proofs_verify),
      T(test_audit_passes),
      T(test_tamper_state_row),
      T(test_tamper_added_state_row),
      T(test_tamper_block_body_byte),
      T(test_tamper_header),
      T(test_tamper_tx_index_row_deleted),
      T(test_tamper_tx_index_row_moved),
      T(test_tamper_receipt_code),
      T(test_tamper_receipts_hash),
  };
#undef T
  return cmocka_run_group_tests(tests, NULL, NULL);
}
