/*
 * test_mempool.c -- per-signer ordering, duplicates, conflicts, capacity,
 * taking whole entries and giving them back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "consensus/mempool.h"
#include "encoding/block.h"

static uint64_t committed_seq; /* what the "store" says for every signer */

static int lookup(void *ctx, const hanse_pubkey *signer, uint64_t *last) {
  (void)ctx;
  (void)signer;
  *last = committed_seq;
  return HANSE_OK;
}

static hanse_pubkey key(uint8_t b) {
  hanse_pubkey k;
  memset(k.b, b, sizeof k.b);
  return k;
}

static hanse_hash id_of(uint8_t signer, uint64_t seq, uint8_t salt) {
  hanse_hash h;
  memset(h.b, 0, sizeof h.b);
  h.b[0] = signer;
  memcpy(h.b + 1, &seq, sizeof seq);
  h.b[31] = salt;
  return h;
}

/* Add one transaction (or a batch of n) of `signer` starting at seq. */
static int add(hanse_mempool *mp, uint8_t signer, uint64_t seq, uint32_t n, uint8_t salt,
               hanse_mp_status *st) {
  hanse_hash ids[16];
  for (uint32_t i = 0; i < n; i++) ids[i] = id_of(signer, seq + i, salt);
  uint8_t raw[2] = {signer, (uint8_t)seq};
  hanse_mp_add a = {.type = n > 1 ? HANSE_ENTRY_BATCH : HANSE_ENTRY_TX,
                    .raw = raw,
                    .raw_len = sizeof raw,
                    .signer = key(signer),
                    .seq_first = seq,
                    .seq_last = seq + n - 1,
                    .ids = ids,
                    .arrival_us = 1000 + seq};
  hanse_reject rej;
  return hanse_mempool_add(mp, &a, st, &rej);
}

/* Take everything ready; return the (signer, seq) of each entry in order. */
static uint32_t take_all(hanse_mempool *mp, uint32_t max, uint8_t *out, uint32_t *txs) {
  hanse_buf body;
  hanse_buf_init(&body);
  hanse_mp_taken *t = hanse_mempool_take(mp, max, 0, &body, txs);
  uint32_t entries = 0;
  if (t) {
    hanse_rd r;
    hanse_rd_init(&r, body.data, body.len);
    assert_int_equal(hanse_rd_u32(&r, &entries), HANSE_OK);
    for (uint32_t i = 0; i < entries; i++) {
      uint8_t type;
      uint32_t len;
      const uint8_t *p;
      assert_int_equal(hanse_rd_u8(&r, &type), HANSE_OK);
      assert_int_equal(hanse_rd_u32(&r, &len), HANSE_OK);
      assert_int_equal(hanse_rd_view(&r, &p, len), HANSE_OK);
      assert_int_equal(len, 2);
      out[2 * i] = p[0];
      out[2 * i + 1] = p[1];
    }
    assert_int_equal(hanse_rd_left(&r), 0);
    hanse_mempool_done(mp, t, 1);
  }
  hanse_buf_free(&body);
  return entries;
}

static void test_in_order_and_gap(void **state) {
  (void)state;
  committed_seq = 0;
  hanse_mempool *mp = hanse_mempool_create(1000, lookup, NULL);
  hanse_mp_status st;
  assert_int_equal(add(mp, 1, 1, 1, 0, &st), HANSE_OK);
  assert_int_equal(st, HANSE_MP_ADDED);
  assert_int_equal(add(mp, 1, 3, 1, 0, &st), HANSE_OK); /* waits for 2 */
  assert_int_equal(hanse_mempool_ready(mp), 1);
  assert_int_equal(hanse_mempool_depth(mp), 2);
  assert_int_equal(add(mp, 2, 1, 1, 0, &st), HANSE_OK);
  assert_int_equal(add(mp, 1, 2, 1, 0, &st), HANSE_OK); /* fills the gap */
  assert_int_equal(hanse_mempool_ready(mp), 4);
  uint64_t next, committed;
  assert_int_equal(hanse_mempool_next_seq(mp, &(hanse_pubkey){0}, &next, &committed), HANSE_OK);
  assert_int_equal(next, 1);
  hanse_pubkey k1 = key(1);
  assert_int_equal(hanse_mempool_next_seq(mp, &k1, &next, &committed), HANSE_OK);
  assert_int_equal(next, 4);
  assert_int_equal(committed, 0);
  uint8_t order[16];
  uint32_t txs;
  assert_int_equal(take_all(mp, 100, order, &txs), 4);
  assert_int_equal(txs, 4);
  /* Signer 1's seq 1, then signer 2, then signer 1's 2 and 3 (ready
   * together when the gap filled), each signer in sequence order. */
  uint8_t want[] = {1, 1, 2, 1, 1, 2, 1, 3};
  assert_memory_equal(order, want, sizeof want);
  assert_int_equal(hanse_mempool_depth(mp), 0);
  assert_int_equal(hanse_mempool_next_seq(mp, &k1, &next, &committed), HANSE_OK);
  assert_int_equal(committed, 3);
  hanse_mempool_destroy(mp);
}

static void test_duplicates_conflicts_stale(void **state) {
  (void)state;
  committed_seq = 5;
  hanse_mempool *mp = hanse_mempool_create(1000, lookup, NULL);
  hanse_mp_status st;
  assert_int_equal(add(mp, 1, 5, 1, 0, &st), HANSE_ERR(TX_STALE_SEQUENCE));
  assert_int_equal(add(mp, 1, 6, 1, 0, &st), HANSE_OK);
  assert_int_equal(add(mp, 1, 6, 1, 0, &st), HANSE_OK); /* same id */
  assert_int_equal(st, HANSE_MP_PENDING);
  assert_int_equal(hanse_mempool_depth(mp), 1);
  assert_int_equal(add(mp, 1, 6, 1, 9, &st), HANSE_ERR(TX_SEQUENCE_CONFLICT));
  assert_int_equal(add(mp, 1, 9, 1, 0, &st), HANSE_OK); /* waiting */
  assert_int_equal(add(mp, 1, 9, 1, 7, &st), HANSE_ERR(TX_SEQUENCE_CONFLICT));
  assert_int_equal(add(mp, 1, 8, 3, 0, &st), HANSE_ERR(TX_SEQUENCE_CONFLICT)); /* overlaps 9 */
  assert_int_equal(add(mp, 1, 7 + HANSE_MEMPOOL_AHEAD_MAX + 1, 1, 0, &st),
                   HANSE_ERR(TX_SEQUENCE_TOO_FAR));
  hanse_hash id = id_of(1, 6, 0);
  assert_true(hanse_mempool_contains(mp, &id));
  id = id_of(1, 6, 9);
  assert_false(hanse_mempool_contains(mp, &id));
  hanse_mempool_destroy(mp); /* frees ready and waiting entries */
}

static void test_batches_and_capacity(void **state) {
  (void)state;
  committed_seq = 0;
  hanse_mempool *mp = hanse_mempool_create(10, lookup, NULL);
  hanse_mp_status st;
  assert_int_equal(add(mp, 1, 1, 4, 0, &st), HANSE_OK); /* seqs 1..4 */
  assert_int_equal(add(mp, 1, 5, 4, 0, &st), HANSE_OK); /* seqs 5..8 */
  assert_int_equal(hanse_mempool_ready(mp), 8);
  assert_int_equal(add(mp, 2, 1, 4, 0, &st), HANSE_ERR(MEMPOOL_FULL));
  assert_int_equal(add(mp, 2, 1, 2, 0, &st), HANSE_OK);
  /* Whole entries only: max 5 takes the first batch (4) and stops. */
  uint8_t order[16];
  uint32_t txs;
  assert_int_equal(take_all(mp, 5, order, &txs), 1);
  assert_int_equal(txs, 4);
  /* A first entry larger than the bound is still taken alone. */
  assert_int_equal(take_all(mp, 2, order, &txs), 1);
  assert_int_equal(txs, 4);
  assert_int_equal(take_all(mp, 2, order, &txs), 1);
  assert_int_equal(txs, 2);
  assert_int_equal(hanse_mempool_depth(mp), 0);
  hanse_mempool_destroy(mp);
}

static void test_abandoned_block_returns_entries(void **state) {
  (void)state;
  committed_seq = 0;
  hanse_mempool *mp = hanse_mempool_create(100, lookup, NULL);
  hanse_mp_status st;
  for (uint64_t s = 1; s <= 3; s++) assert_int_equal(add(mp, 1, s, 1, 0, &st), HANSE_OK);
  hanse_buf body;
  hanse_buf_init(&body);
  uint32_t txs;
  hanse_mp_taken *t = hanse_mempool_take(mp, 2, 0, &body, &txs);
  assert_non_null(t);
  assert_int_equal(txs, 2);
  uint32_t n;
  const hanse_hash *ids = hanse_mp_taken_ids(t, &n);
  assert_int_equal(n, 2);
  hanse_hash want = id_of(1, 1, 0);
  assert_memory_equal(ids[0].b, want.b, 32);
  const uint64_t *arr = hanse_mp_taken_arrivals(t, &n);
  assert_int_equal(arr[1], 1002);
  hanse_mempool_done(mp, t, 0); /* commit failed */
  hanse_buf_free(&body);
  assert_int_equal(hanse_mempool_ready(mp), 3);
  uint8_t order[16];
  assert_int_equal(take_all(mp, 100, order, &txs), 3);
  uint8_t expect[] = {1, 1, 1, 2, 1, 3};
  assert_memory_equal(order, expect, sizeof expect);
  hanse_mempool_destroy(mp);
}

/* Blocks are bounded in bytes too: large entries spread over blocks (two
 * of three eighths of the bound fit, a third does not), and an entry over
 * the bound alone still makes a block, within the decoder's bound. */
static void test_byte_bound(void **state) {
  (void)state;
  committed_seq = 0;
  hanse_mempool *mp = hanse_mempool_create(100, lookup, NULL);
  size_t big = HANSE_BLOCK_FILL_BYTES / 8 * 3, huge = HANSE_BLOCK_FILL_BYTES + 4096;
  uint8_t *raw = calloc(1, huge);
  assert_non_null(raw);
  for (uint64_t s = 1; s <= 4; s++) {
    hanse_hash id = id_of(1, s, 0);
    hanse_mp_add a = {.type = HANSE_ENTRY_TX, .raw = raw, .raw_len = s == 4 ? huge : big,
                      .signer = key(1), .seq_first = s, .seq_last = s, .ids = &id};
    hanse_mp_status st;
    hanse_reject rej;
    assert_int_equal(hanse_mempool_add(mp, &a, &st, &rej), HANSE_OK);
  }
  free(raw);
  uint32_t counts[4], txs;
  for (int i = 0; i < 4; i++) {
    hanse_buf body;
    hanse_buf_init(&body);
    hanse_mp_taken *t = hanse_mempool_take(mp, 1000, 0, &body, &txs);
    counts[i] = t ? txs : 0;
    if (t) {
      assert_true(i == 2 ? body.len > HANSE_BLOCK_FILL_BYTES : body.len <= HANSE_BLOCK_FILL_BYTES);
      assert_true(body.len <= HANSE_BLOCK_MAX_BYTES);
      hanse_mempool_done(mp, t, 1);
    }
    hanse_buf_free(&body);
  }
  assert_int_equal(counts[0], 2);
  assert_int_equal(counts[1], 1);
  assert_int_equal(counts[2], 1);
  assert_int_equal(counts[3], 0);
  hanse_mempool_destroy(mp);
}

/* A different entry sharing a pooled transaction conflicts; the very
 * same entry is pending. */
static void test_partial_duplicate_batch(void **state) {
  (void)state;
  committed_seq = 0;
  hanse_mempool *mp = hanse_mempool_create(100, lookup, NULL);
  hanse_mp_status st;
  assert_int_equal(add(mp, 1, 1, 3, 0, &st), HANSE_OK);
  assert_int_equal(add(mp, 1, 1, 3, 0, &st), HANSE_OK);
  assert_int_equal(st, HANSE_MP_PENDING);
  assert_int_equal(add(mp, 1, 1, 2, 0, &st), HANSE_ERR(TX_SEQUENCE_CONFLICT));
  assert_int_equal(add(mp, 1, 1, 1, 0, &st), HANSE_ERR(TX_SEQUENCE_CONFLICT));
  assert_int_equal(hanse_mempool_depth(mp), 3);
  hanse_mempool_destroy(mp);
}

/* Gaps nobody fills expire; waiting transactions are capped in all. */
static void test_waiting_expiry_and_cap(void **state) {
  (void)state;
  committed_seq = 0;
  hanse_mempool *mp = hanse_mempool_create(HANSE_MEMPOOL_MAX, lookup, NULL);
  hanse_mp_status st;
  assert_int_equal(add(mp, 1, 5, 1, 0, &st), HANSE_OK); /* arrival 1005 us */
  assert_int_equal(hanse_mempool_depth(mp), 1);
  hanse_buf body;
  hanse_buf_init(&body);
  uint32_t txs;
  uint64_t later = 1005 + (uint64_t)HANSE_MEMPOOL_WAIT_TTL_MS * 1000 + 2000000;
  assert_null(hanse_mempool_take(mp, 100, later, &body, &txs));
  assert_int_equal(hanse_mempool_depth(mp), 0);
  hanse_hash id = id_of(1, 5, 0);
  assert_false(hanse_mempool_contains(mp, &id));
  /* Now fill the waiting budget with 16-transaction gap entries of many
   * signers; the next gap entry is refused, a ready one still fits. */
  size_t waiting = 0;
  for (uint8_t signer = 2; waiting + 16 <= HANSE_MEMPOOL_WAITING_MAX; signer++) {
    for (uint64_t seq = 2; seq + 16 <= 2 + 1000 && waiting + 16 <= HANSE_MEMPOOL_WAITING_MAX;
         seq += 16) {
      assert_int_equal(add(mp, signer, seq, 16, 0, &st), HANSE_OK);
      waiting += 16;
    }
  }
  assert_int_equal(add(mp, 250, 2, 16, 0, &st), HANSE_ERR(MEMPOOL_FULL));
  assert_int_equal(add(mp, 250, 1, 1, 0, &st), HANSE_OK);
  hanse_buf_free(&body);
  hanse_mempool_destroy(mp);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_in_order_and_gap),
      cmocka_unit_test(test_duplicates_conflicts_stale),
      cmocka_unit_test(test_batches_and_capacity),
      cmocka_unit_test(test_abandoned_block_returns_entries),
      cmocka_unit_test(test_byte_bound),
      cmocka_unit_test(test_partial_duplicate_batch),
      cmocka_unit_test(test_waiting_expiry_and_cap),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
