/*
 * test_store_history.c -- the store's audit trail: a block's rows
 * serialized byte for byte as docs/FORMATS.md §15 says (each key once, its
 * rows after it), read back row by row and group by group, and every
 * malformed serialization refused (never asserted): truncated anywhere,
 * a count of 0 or too large, keys repeated or out of order, indexes
 * repeated or out of order within a group, an unknown op, an index beyond
 * 20 bits; one history_blocks row per block and one history_keys row per
 * key it changed; a row found by (key, position); a record's changes
 * newest first in pages cut by position, within a block and across
 * blocks; the join with the transaction index (id and signer; none for
 * genesis writes); the index for the audit; a stored serialization that is
 * malformed or missing reported, not crashed on; and a database with the
 * earlier one-row-per-change table opened.
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
#include "fixture.h"
#include "storage/rowpack.h"
#include "storage/store.h"

static hanse_store *mem_store(void) {
  hanse_store *s = NULL;
  hanse_reject rej;
  assert_int_equal(hanse_store_open(NULL, HANSE_STORE_MEMORY, NULL, &s, &rej), HANSE_OK);
  return s;
}

/* One row of a block under construction; rows are given in (key, index)
 * order, as the executor hands them over. */
typedef struct row_spec {
  const char *key;
  uint32_t idx;
  int op;
  const char *value; /* NULL for a delete */
} row_spec;

static void rows_build(hanse_buf *b, uint64_t height, const row_spec *rs, size_t n) {
  hanse_buf_reset(b);
  hanse_history_writer w;
  hanse_history_writer_init(&w, b);
  for (size_t i = 0; i < n; i++) {
    hanse_history_row r;
    memset(&r, 0, sizeof r);
    r.key = (const uint8_t *)rs[i].key;
    r.klen = strlen(rs[i].key);
    r.pos = HANSE_POS(height, rs[i].idx);
    r.op = rs[i].op;
    r.has_vhash = rs[i].value != NULL;
    if (rs[i].value) hanse_sha256(&r.vhash, rs[i].value, strlen(rs[i].value));
    hanse_history_put(&w, &r);
  }
  assert_int_equal(hanse_buf_status(b), HANSE_OK);
}

static void put_block(hanse_store *s, uint64_t height, const row_spec *rs, size_t n) {
  hanse_buf b;
  hanse_buf_init(&b);
  rows_build(&b, height, rs, n);
  assert_int_equal(hanse_store_history_put_block(s, height, b.data, b.len), HANSE_OK);
  assert_int_equal(hanse_store_index_put_block(s, height, b.data, b.len, NULL, 0), HANSE_OK);
  hanse_buf_free(&b);
}

/* The audit trail's key rows in the index, in index order, read back. */
typedef struct key_rows_seen {
  char key[256][32];
  uint64_t height[256];
  int n;
  int other; /* index rows that are not key rows */
} key_rows_seen;

static int key_rows_visit(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  key_rows_seen *ks = ctx;
  hanse_buf key;
  hanse_buf_init(&key);
  uint64_t h;
  (void)v;
  if (!hanse_history_key_row_read(k, kl, &key, &h)) {
    ks->other++;
  } else {
    assert_int_equal(vl, 0);
    assert_true(ks->n < 256);
    snprintf(ks->key[ks->n], sizeof ks->key[0], "%.*s", (int)key.len, (const char *)key.data);
    ks->height[ks->n++] = h;
  }
  hanse_buf_free(&key);
  return 0;
}

static void key_rows_all(hanse_store *s, key_rows_seen *ks) {
  memset(ks, 0, sizeof *ks);
  assert_int_equal(hanse_store_index_scan(s, "", 0, NULL, 0, -1, key_rows_visit, ks), HANSE_OK);
}

typedef struct collected {
  uint64_t pos[64];
  int op[64];
  int has_tx[64];
  hanse_hash tx_id[64];
  hanse_pubkey signer[64];
  char key[64][32];
  int n;
  int stop_after; /* 0: never */
} collected;

static int collect(void *ctx, const hanse_history_change *c) {
  collected *col = ctx;
  assert_true(col->n < 64);
  col->pos[col->n] = c->row.pos;
  col->op[col->n] = c->row.op;
  col->has_tx[col->n] = c->has_tx;
  col->tx_id[col->n] = c->tx_id;
  col->signer[col->n] = c->signer;
  snprintf(col->key[col->n], sizeof col->key[0], "%.*s", (int)c->row.klen,
           (const char *)c->row.key);
  col->n++;
  return col->stop_after && col->n == col->stop_after;
}

/* Read every row of bytes[0, len) as block 9's: the number of rows read
 * before the reader stopped, and how it stopped in *rc. */
static int read_all(const uint8_t *bytes, size_t len, int *rc) {
  hanse_history_reader rd;
  hanse_history_row r;
  hanse_history_reader_init(&rd, bytes, len, 9);
  int n = 0;
  while ((*rc = hanse_history_next(&rd, &r)) == HANSE_OK) n++;
  /* the reader stays where it stopped */
  assert_int_equal(hanse_history_next(&rd, &r), *rc);
  assert_int_equal(hanse_history_next_group(&rd), *rc);
  return n;
}

/* As read_all, group by group. */
static int read_groups(const uint8_t *bytes, size_t len, int *rc) {
  hanse_history_reader rd;
  hanse_history_reader_init(&rd, bytes, len, 9);
  int n = 0;
  while ((*rc = hanse_history_next_group(&rd)) == HANSE_OK) n++;
  return n;
}

/* Append n bytes of src to dst at `at`; the new length. */
static size_t cat(uint8_t *dst, size_t at, const void *src, size_t n) {
  memcpy(dst + at, src, n);
  return at + n;
}

static void expect_broken(const uint8_t *bytes, size_t len) {
  int rc;
  read_all(bytes, len, &rc);
  assert_int_equal(rc, HANSE_ERR(CHAIN_BROKEN));
  read_groups(bytes, len, &rc);
  assert_int_equal(rc, HANSE_ERR(CHAIN_BROKEN));
}

/* Bytes of the §15 example's block 9: "ab" put by tx 7 and deleted by
 * the genesis index (a made-up pair, to have both ops in one group), "b"
 * deleted by tx 3. */
#define EX_GROUP1 (2 + 2 + 4 + (5 + HANSE_HASH_BYTES) + 5)
#define EX_LEN (EX_GROUP1 + 2 + 1 + 4 + 5)

/* The bytes of FORMATS.md §15: per key u16 klen, key, u32 count, then per
 * row u32 index, u8 op and the value's SHA-256 for a put only. Read back
 * row by row (NOT_FOUND at the end) and group by group. */
static void test_serialization(void **state) {
  (void)state;
  hanse_buf b;
  hanse_buf_init(&b);
  const row_spec rs[] = {
      {"ab", 7, HANSE_HISTORY_PUT, "v"},
      {"ab", HANSE_HISTORY_GENESIS_INDEX, HANSE_HISTORY_DEL, NULL},
      {"b", 3, HANSE_HISTORY_DEL, NULL},
  };
  rows_build(&b, 9, rs, 3);
  assert_int_equal((int)b.len, EX_LEN);
  hanse_hash hv;
  hanse_sha256(&hv, "v", 1);
  uint8_t want[EX_LEN], *p = want;
  const uint8_t g1[] = {0, 2, 'a', 'b', 0, 0, 0, 2, /* row */ 0, 0, 0, 7, 1};
  memcpy(p, g1, sizeof g1);
  p += sizeof g1;
  memcpy(p, hv.b, HANSE_HASH_BYTES);
  p += HANSE_HASH_BYTES;
  const uint8_t rest[] = {/* row */ 0, 0x0f, 0xff, 0xff, 2,
                          /* group */ 0, 1, 'b', 0, 0, 0, 1, /* row */ 0, 0, 0, 3, 2};
  memcpy(p, rest, sizeof rest);
  p += sizeof rest;
  assert_int_equal((int)(p - want), EX_LEN);
  assert_memory_equal(b.data, want, EX_LEN);

  hanse_history_reader rd;
  hanse_history_row r;
  hanse_history_reader_init(&rd, b.data, b.len, 9);
  assert_int_equal(hanse_history_next(&rd, &r), HANSE_OK);
  assert_int_equal((int)r.klen, 2);
  assert_memory_equal(r.key, "ab", 2);
  assert_true(r.pos == HANSE_POS(9, 7));
  assert_int_equal(r.op, HANSE_HISTORY_PUT);
  assert_true(r.has_vhash);
  assert_memory_equal(r.vhash.b, hv.b, HANSE_HASH_BYTES);
  assert_true(rd.count == 2 && rd.left == 1); /* the current group */
  assert_int_equal(hanse_history_next(&rd, &r), HANSE_OK);
  assert_memory_equal(r.key, "ab", 2);
  assert_true(r.pos == HANSE_POS(9, HANSE_HISTORY_GENESIS_INDEX));
  assert_int_equal(r.op, HANSE_HISTORY_DEL);
  assert_false(r.has_vhash);
  assert_int_equal(hanse_history_next(&rd, &r), HANSE_OK);
  assert_true(r.klen == 1 && r.key[0] == 'b');
  assert_true(r.pos == HANSE_POS(9, 3));
  assert_true(rd.count == 1 && rd.left == 0);
  assert_int_equal(hanse_history_next(&rd, &r), HANSE_ERR(NOT_FOUND));
  assert_int_equal(hanse_history_next_group(&rd), HANSE_ERR(NOT_FOUND));

  /* group by group, hopping over unread rows, or after some are read */
  hanse_history_reader_init(&rd, b.data, b.len, 9);
  assert_int_equal(hanse_history_next_group(&rd), HANSE_OK);
  assert_true(rd.klen == 2 && memcmp(rd.key, "ab", 2) == 0 && rd.count == 2 && rd.left == 2);
  assert_int_equal(hanse_history_next_group(&rd), HANSE_OK);
  assert_true(rd.klen == 1 && rd.key[0] == 'b' && rd.count == 1);
  assert_int_equal(hanse_history_next(&rd, &r), HANSE_OK); /* b's row */
  assert_true(r.pos == HANSE_POS(9, 3));
  assert_int_equal(hanse_history_next_group(&rd), HANSE_ERR(NOT_FOUND));
  hanse_history_reader_init(&rd, b.data, b.len, 9);
  assert_int_equal(hanse_history_next(&rd, &r), HANSE_OK); /* opens "ab" */
  assert_int_equal(hanse_history_next_group(&rd), HANSE_OK);
  assert_true(rd.klen == 1 && rd.key[0] == 'b');

  /* nothing at all: no rows */
  int rc;
  assert_int_equal(read_all(NULL, 0, &rc), 0);
  assert_int_equal(rc, HANSE_ERR(NOT_FOUND));
  /* an empty key is a key (the least) */
  const row_spec empty[] = {{"", 1, HANSE_HISTORY_DEL, NULL}, {"a", 1, HANSE_HISTORY_DEL, NULL}};
  rows_build(&b, 9, empty, 2);
  const uint8_t want_empty[] = {0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 2,
                                0, 1, 'a', 0, 0, 0, 1, 0, 0, 0, 1, 2};
  assert_int_equal((int)b.len, (int)sizeof want_empty);
  assert_memory_equal(b.data, want_empty, sizeof want_empty);
  assert_int_equal(read_all(b.data, b.len, &rc), 2);
  assert_int_equal(rc, HANSE_ERR(NOT_FOUND));
  hanse_buf_free(&b);
}

/* Every way bytes can fail the layout is CHAIN_BROKEN, row by row and
 * group by group, and stays so. */
static void test_serialization_malformed(void **state) {
  (void)state;
  hanse_buf b;
  hanse_buf_init(&b);
  const row_spec rs[] = {
      {"ab", 7, HANSE_HISTORY_PUT, "v"},
      {"ab", HANSE_HISTORY_GENESIS_INDEX, HANSE_HISTORY_DEL, NULL},
      {"b", 3, HANSE_HISTORY_DEL, NULL},
  };
  rows_build(&b, 9, rs, 3);
  assert_int_equal((int)b.len, EX_LEN);
  uint8_t ex[EX_LEN], bad[2 * EX_LEN];
  memcpy(ex, b.data, EX_LEN);
  const size_t g2 = EX_GROUP1;            /* the offset of "b"'s group */
  const size_t c1 = 4, c2 = g2 + 3;       /* the offsets of the counts */
  const size_t r1 = 8, r2 = r1 + 5 + 32;  /* "ab"'s rows */
  int rc;

  /* every truncation: only the cut between the groups is a serialization */
  for (size_t cut = 1; cut < EX_LEN; cut++) {
    int n = read_all(ex, cut, &rc);
    if (cut == g2) {
      assert_int_equal(n, 2);
      assert_int_equal(rc, HANSE_ERR(NOT_FOUND));
      continue;
    }
    assert_int_equal(rc, HANSE_ERR(CHAIN_BROKEN));
    read_groups(ex, cut, &rc);
    assert_int_equal(rc, HANSE_ERR(CHAIN_BROKEN));
  }
  /* bytes after the last group that are no group */
  memcpy(bad, ex, EX_LEN);
  bad[EX_LEN] = 0;
  expect_broken(bad, EX_LEN + 1);

  /* a count of 0: with the row after it, and alone at the end */
  memcpy(bad, ex, EX_LEN);
  bad[c2 + 3] = 0;
  expect_broken(bad, EX_LEN);
  expect_broken(bad, EX_LEN - 5);
  /* a count larger than the rows (a truncated group), or than any group */
  memcpy(bad, ex, EX_LEN);
  bad[c2 + 3] = 2;
  expect_broken(bad, EX_LEN);
  memcpy(bad, ex, EX_LEN);
  hanse_put_u32be(bad + c2, HANSE_HISTORY_GROUP_ROWS_MAX + 1);
  expect_broken(bad, EX_LEN);
  /* a count smaller than the rows: the rest is read as a group, and is none */
  memcpy(bad, ex, EX_LEN);
  bad[c1 + 3] = 1;
  expect_broken(bad, EX_LEN);

  /* keys out of order: "b"'s group before "ab"'s */
  memcpy(bad, ex + g2, EX_LEN - g2);
  memcpy(bad + (EX_LEN - g2), ex, g2);
  int n = read_all(bad, EX_LEN, &rc);
  assert_int_equal(n, 1); /* b's row, then the refusal */
  assert_int_equal(rc, HANSE_ERR(CHAIN_BROKEN));
  assert_int_equal(read_groups(bad, EX_LEN, &rc), 1);
  assert_int_equal(rc, HANSE_ERR(CHAIN_BROKEN));
  /* a key repeated: "b"'s group twice */
  memcpy(bad, ex, EX_LEN);
  memcpy(bad + EX_LEN, ex + g2, EX_LEN - g2);
  expect_broken(bad, EX_LEN + (EX_LEN - g2));
  /* a key repeated: "ab"'s rows split into two groups of one */
  {
    const uint8_t h1[] = {0, 2, 'a', 'b', 0, 0, 0, 1};
    size_t k = 0;
    k = cat(bad, k, h1, sizeof h1);
    k = cat(bad, k, ex + r1, 5 + 32);
    k = cat(bad, k, h1, sizeof h1);
    k = cat(bad, k, ex + r2, 5);
    k = cat(bad, k, ex + g2, EX_LEN - g2);
    assert_int_equal(read_all(bad, k, &rc), 1);
    assert_int_equal(rc, HANSE_ERR(CHAIN_BROKEN));
    expect_broken(bad, k);
  }
  /* a key out of order by length: "b" then "" */
  {
    const uint8_t lone[] = {0, 1, 'b', 0, 0, 0, 1, 0, 0, 0, 3, 2,
                            0, 0, 0, 0, 0, 1, 0, 0, 0, 3, 2};
    expect_broken(lone, sizeof lone);
  }

  /* indexes out of order within a group: "ab"'s rows swapped, or equal */
  {
    size_t k = 0;
    k = cat(bad, k, ex, r1);
    k = cat(bad, k, ex + r2, 5);
    k = cat(bad, k, ex + r1, 5 + 32);
    k = cat(bad, k, ex + g2, EX_LEN - g2);
    assert_int_equal(k, EX_LEN);
    assert_int_equal(read_all(bad, k, &rc), 1);
    assert_int_equal(rc, HANSE_ERR(CHAIN_BROKEN));
    expect_broken(bad, k);
  }
  memcpy(bad, ex, EX_LEN);
  hanse_put_u32be(bad + r2, 7); /* the second row of "ab" at index 7 too */
  expect_broken(bad, EX_LEN);
  /* an unknown op; an index beyond 20 bits */
  memcpy(bad, ex, EX_LEN);
  bad[r2 + 4] = 3;
  expect_broken(bad, EX_LEN);
  memcpy(bad, ex, EX_LEN);
  bad[r1 + 4] = 0;
  expect_broken(bad, EX_LEN);
  memcpy(bad, ex, EX_LEN);
  hanse_put_u32be(bad + r2, HANSE_HISTORY_GENESIS_INDEX + 1);
  expect_broken(bad, EX_LEN);
  /* a delete that carries a hash: the hash is read as the next group */
  {
    size_t k = 0;
    k = cat(bad, k, ex, r2 + 5);
    memset(bad + k, 0x11, 32);
    k += 32;
    k = cat(bad, k, ex + g2, EX_LEN - g2);
    expect_broken(bad, k);
  }
  hanse_buf_free(&b);
}

/* One history_blocks row per block (an empty one too), one history_keys
 * row per key it changed; rows found by (key, position). */
static void test_blocks_put_get(void **state) {
  (void)state;
  hanse_store *s = mem_store();
  assert_int_equal(hanse_store_begin(s), HANSE_OK);
  const row_spec g[] = {{"org/acme", HANSE_HISTORY_GENESIS_INDEX, HANSE_HISTORY_PUT, "{}"}};
  put_block(s, 0, g, 1);
  const row_spec b1[] = {
      {"asset/bal/EUR/x", 0, HANSE_HISTORY_PUT, "100"},
      {"asset/bal/EUR/x", 7, HANSE_HISTORY_DEL, NULL},
      {"seq/a", 0, HANSE_HISTORY_PUT, "1"},
      {"seq/a", 7, HANSE_HISTORY_PUT, "2"},
  };
  put_block(s, 1, b1, 4);
  put_block(s, 2, NULL, 0); /* a block that changed nothing */
  /* a block is stored once */
  hanse_buf b;
  hanse_buf_init(&b);
  rows_build(&b, 1, b1, 1);
  assert_int_equal(hanse_store_history_put_block(s, 1, b.data, b.len), HANSE_ERR(INVALID));
  assert_int_equal(hanse_store_commit(s), HANSE_OK);

  hanse_history_row r;
  hanse_hash want;
  assert_int_equal(hanse_store_history_get(s, "asset/bal/EUR/x", 15, HANSE_POS(1, 0), &r),
                   HANSE_OK);
  assert_int_equal(r.op, HANSE_HISTORY_PUT);
  assert_true(r.has_vhash);
  hanse_sha256(&want, "100", 3);
  assert_memory_equal(r.vhash.b, want.b, HANSE_HASH_BYTES);
  assert_true(r.pos == HANSE_POS(1, 0));
  assert_int_equal(hanse_store_history_get(s, "asset/bal/EUR/x", 15, HANSE_POS(1, 7), &r),
                   HANSE_OK);
  assert_int_equal(r.op, HANSE_HISTORY_DEL);
  assert_false(r.has_vhash);
  assert_int_equal(hanse_store_history_get(s, "asset/bal/EUR/x", 15, HANSE_POS(1, 1), &r),
                   HANSE_ERR(NOT_FOUND));
  assert_int_equal(hanse_store_history_get(s, "asset/bal/EUR/", 14, HANSE_POS(1, 0), &r),
                   HANSE_ERR(NOT_FOUND));
  assert_int_equal(hanse_store_history_get(s, "asset/bal/EUR/x", 15, HANSE_POS(5, 0), &r),
                   HANSE_ERR(NOT_FOUND));
  assert_int_equal(
      hanse_store_history_get(s, "org/acme", 8, HANSE_POS(0, HANSE_HISTORY_GENESIS_INDEX), &r),
      HANSE_OK);

  /* the stored bytes are the serialization; the empty block has a row */
  int found = 0;
  hanse_buf got;
  hanse_buf_init(&got);
  rows_build(&b, 1, b1, 4);
  assert_int_equal(hanse_store_history_block_get(s, 1, &got, &found), HANSE_OK);
  assert_true(found);
  assert_int_equal((int)got.len, (int)b.len);
  assert_memory_equal(got.data, b.data, b.len);
  assert_int_equal(hanse_store_history_block_get(s, 2, &got, &found), HANSE_OK);
  assert_true(found);
  assert_int_equal((int)got.len, 0);
  assert_int_equal(hanse_store_history_block_get(s, 3, &got, &found), HANSE_OK);
  assert_false(found);
  uint64_t count = 0;
  assert_int_equal(hanse_store_history_block_count(s, &count), HANSE_OK);
  assert_true(count == 3);

  /* the index: one key row per (key, block), newest block first */
  key_rows_seen ks;
  key_rows_all(s, &ks);
  assert_int_equal(ks.n, 3);
  assert_int_equal(ks.other, 0);
  assert_string_equal(ks.key[0], "asset/bal/EUR/x");
  assert_true(ks.height[0] == 1);
  assert_string_equal(ks.key[1], "org/acme");
  assert_true(ks.height[1] == 0);
  assert_string_equal(ks.key[2], "seq/a");
  assert_true(ks.height[2] == 1);

  /* positions: height << 20 | index */
  assert_true(HANSE_POS_HEIGHT(HANSE_POS(123456, 19999)) == 123456);
  assert_true(HANSE_POS_INDEX(HANSE_POS(123456, 19999)) == 19999);
  assert_true(HANSE_POS(2, 0) > HANSE_POS(1, HANSE_HISTORY_GENESIS_INDEX));
  hanse_buf_free(&b);
  hanse_buf_free(&got);
  hanse_store_close(s);
}

/* Key "k" changed by 25 transactions over 5 blocks, 5 in each, its
 * groups between those of "j" and "kk"; pages of 7, 7, 7, 4, each newest
 * first, no overlap: the page boundaries fall inside blocks, and a page
 * takes the rest of one block, whole blocks and the start of another. */
static void test_scan_pages_newest_first(void **state) {
  (void)state;
  hanse_store *s = mem_store();
  assert_int_equal(hanse_store_begin(s), HANSE_OK);
  char vals[15][16];
  for (uint64_t h = 1; h <= 5; h++) {
    row_spec rs[15];
    for (uint32_t i = 0; i < 5; i++) {
      snprintf(vals[i], sizeof vals[i], "%u", (unsigned)(h * 10 + i));
      rs[i] = (row_spec){"j", i * 3, HANSE_HISTORY_PUT, vals[i]};
      rs[5 + i] = (row_spec){"k", i * 3, HANSE_HISTORY_PUT, vals[i]};
      rs[10 + i] = (row_spec){"kk", i * 3 + 1, HANSE_HISTORY_PUT, vals[i]};
    }
    put_block(s, h, rs, 15);
  }
  assert_int_equal(hanse_store_commit(s), HANSE_OK);
  uint64_t before = UINT64_MAX, last = UINT64_MAX;
  int sizes[] = {7, 7, 7, 4, 0}, total = 0;
  const uint64_t firsts[] = {HANSE_POS(5, 12), HANSE_POS(4, 6), HANSE_POS(3, 0), HANSE_POS(1, 9)};
  for (int page = 0; page < 5; page++) {
    collected col;
    memset(&col, 0, sizeof col);
    assert_int_equal(hanse_store_history_scan(s, "k", 1, before, 7, collect, &col), HANSE_OK);
    if (page < 4) assert_true(col.pos[0] == firsts[page]);
    assert_int_equal(col.n, sizes[page]);
    for (int i = 0; i < col.n; i++) {
      assert_string_equal(col.key[i], "k");
      assert_true(col.pos[i] < last); /* strictly newest first, across pages */
      last = col.pos[i];
      assert_false(col.has_tx[i]); /* no txs rows in this store */
    }
    total += col.n;
    if (col.n) before = col.pos[col.n - 1];
  }
  assert_int_equal(total, 25);
  assert_true(last == HANSE_POS(1, 0));
  /* a visitor may stop early */
  collected col;
  memset(&col, 0, sizeof col);
  col.stop_after = 2;
  assert_int_equal(hanse_store_history_scan(s, "k", 1, UINT64_MAX, 100, collect, &col), HANSE_OK);
  assert_int_equal(col.n, 2);
  assert_true(col.pos[0] == HANSE_POS(5, 12));
  /* before = a position inside a block: only the earlier rows of it */
  memset(&col, 0, sizeof col);
  assert_int_equal(hanse_store_history_scan(s, "k", 1, HANSE_POS(3, 7), 3, collect, &col),
                   HANSE_OK);
  assert_int_equal(col.n, 3);
  assert_true(col.pos[0] == HANSE_POS(3, 6) && col.pos[1] == HANSE_POS(3, 3) &&
              col.pos[2] == HANSE_POS(3, 0));
  /* before = 0: nothing */
  memset(&col, 0, sizeof col);
  assert_int_equal(hanse_store_history_scan(s, "k", 1, 0, 3, collect, &col), HANSE_OK);
  assert_int_equal(col.n, 0);
  /* no history */
  memset(&col, 0, sizeof col);
  assert_int_equal(hanse_store_history_scan(s, "none", 4, UINT64_MAX, 10, collect, &col), HANSE_OK);
  assert_int_equal(col.n, 0);
  memset(&col, 0, sizeof col);
  assert_int_equal(hanse_store_history_scan(s, "kkk", 3, UINT64_MAX, 10, collect, &col), HANSE_OK);
  assert_int_equal(col.n, 0);
  hanse_store_close(s);
}

/* The scan names each change's transaction (id and signer) from the
 * transaction index; genesis writes have none. The index in key order for
 * the audit. */
static void test_scan_joins_txs_and_index(void **state) {
  (void)state;
  hanse_store *s = mem_store();
  hanse_keypair alice;
  fx_key(&alice, 0xa1);
  assert_int_equal(hanse_store_begin(s), HANSE_OK);
  hanse_receipt r;
  memset(&r, 0, sizeof r);
  memset(r.id.b, 0x42, HANSE_HASH_BYTES);
  r.height = 3;
  r.index = 2;
  snprintf(r.code, sizeof r.code, "ok");
  assert_int_equal(hanse_store_tx_put(s, &r, &alice.pub, 1, "asset.issue"), HANSE_OK);
  const row_spec g[] = {{"b", HANSE_HISTORY_GENESIS_INDEX, HANSE_HISTORY_PUT, "0"}};
  put_block(s, 0, g, 1);
  const row_spec b3[] = {{"a", 2, HANSE_HISTORY_DEL, NULL}, {"b", 2, HANSE_HISTORY_PUT, "1"}};
  put_block(s, 3, b3, 2);
  assert_int_equal(hanse_store_commit(s), HANSE_OK);

  collected col;
  memset(&col, 0, sizeof col);
  assert_int_equal(hanse_store_history_scan(s, "b", 1, UINT64_MAX, 10, collect, &col), HANSE_OK);
  assert_int_equal(col.n, 2);
  assert_true(col.pos[0] == HANSE_POS(3, 2));
  assert_true(col.has_tx[0]);
  assert_memory_equal(col.tx_id[0].b, r.id.b, HANSE_HASH_BYTES);
  assert_memory_equal(col.signer[0].b, alice.pub.b, HANSE_PUBKEY_BYTES);
  assert_true(col.pos[1] == HANSE_POS(0, HANSE_HISTORY_GENESIS_INDEX));
  assert_false(col.has_tx[1]);
  memset(&col, 0, sizeof col);
  assert_int_equal(hanse_store_history_scan(s, "a", 1, UINT64_MAX, 10, collect, &col), HANSE_OK);
  assert_int_equal(col.n, 1);
  assert_int_equal(col.op[0], HANSE_HISTORY_DEL);

  key_rows_seen ks;
  key_rows_all(s, &ks);
  assert_int_equal(ks.n, 3);
  assert_string_equal(ks.key[0], "a");
  assert_true(ks.height[0] == 3);
  assert_string_equal(ks.key[1], "b");
  assert_true(ks.height[1] == 3);
  assert_string_equal(ks.key[2], "b");
  assert_true(ks.height[2] == 0);
  hanse_keypair_wipe(&alice);
  hanse_store_close(s);
}

/* A stored serialization is data: malformed bytes, or an index row naming
 * a block without the key's rows, make the scan report CHAIN_BROKEN. */
static void test_scan_reports_broken_rows(void **state) {
  (void)state;
  hanse_store *s = mem_store();
  assert_int_equal(hanse_store_begin(s), HANSE_OK);
  const row_spec b1[] = {{"k", 0, HANSE_HISTORY_PUT, "1"}};
  put_block(s, 1, b1, 1);
  put_block(s, 2, b1, 1);
  assert_int_equal(hanse_store_commit(s), HANSE_OK);
  sqlite3 *db = hanse_store_db(s);
  assert_int_equal(sqlite3_exec(db, "UPDATE history_blocks SET rows = x'00016b0000' "
                                    "WHERE height = 2",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  collected col;
  memset(&col, 0, sizeof col);
  assert_int_equal(hanse_store_history_scan(s, "k", 1, UINT64_MAX, 10, collect, &col),
                   HANSE_ERR(CHAIN_BROKEN));
  hanse_history_row r;
  assert_int_equal(hanse_store_history_get(s, "k", 1, HANSE_POS(2, 0), &r),
                   HANSE_ERR(CHAIN_BROKEN));
  /* below the broken block the history reads */
  memset(&col, 0, sizeof col);
  assert_int_equal(hanse_store_history_scan(s, "k", 1, HANSE_POS(2, 0), 10, collect, &col),
                   HANSE_OK);
  assert_int_equal(col.n, 1);
  /* Block 2 as other bytes that are no serialization, each found by the
   * walk to k's group (a group before it, k's group, the next header). */
  static const char *const broken[] = {
      "00016b00000000",                                   /* count 0 */
      "00016b0000000200000000020000",                     /* truncated group */
      "00016b0000000200000005020000000302",               /* rows 5, 3 */
      "00016b0000000200000005020000000502",               /* rows 5, 5 */
      "00016b0000000100000000020000000102",               /* a row too many */
      "00016b000000010000000002" "00016b000000010000000102", /* k twice */
      "00016b000000010000000002" "00016a000000010000000102", /* j after k */
      "00016a000000020000000002" "00016b000000010000000002", /* j's count */
      "00016a000000010000000003" "00016b000000010000000002", /* j's op */
      "00016a000000010010000002" "00016b000000010000000002", /* j's index */
      "00016a000000000000000002" "00016b000000010000000002", /* j's count 0 */
  };
  for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
    char sql[200];
    snprintf(sql, sizeof sql, "UPDATE history_blocks SET rows = x'%s' WHERE height = 2",
             broken[i]);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    memset(&col, 0, sizeof col);
    if (hanse_store_history_scan(s, "k", 1, UINT64_MAX, 10, collect, &col) !=
        HANSE_ERR(CHAIN_BROKEN))
      fail_msg("scan read x'%s'", broken[i]);
    if (hanse_store_history_get(s, "k", 1, HANSE_POS(2, 0), &r) != HANSE_ERR(CHAIN_BROKEN))
      fail_msg("get read x'%s'", broken[i]);
  }
  /* the block's bytes restored, it reads again */
  assert_int_equal(sqlite3_exec(db, "UPDATE history_blocks SET rows = "
                                    "x'00016b000000010000000002' WHERE height = 2",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  assert_int_equal(hanse_store_history_get(s, "k", 1, HANSE_POS(2, 0), &r), HANSE_OK);
  /* an index row without its block row */
  assert_int_equal(sqlite3_exec(db, "DELETE FROM history_blocks WHERE height = 1", NULL, NULL,
                                NULL),
                   SQLITE_OK);
  memset(&col, 0, sizeof col);
  assert_int_equal(hanse_store_history_scan(s, "k", 1, HANSE_POS(2, 0), 10, collect, &col),
                   HANSE_ERR(CHAIN_BROKEN));
  hanse_store_close(s);
}

/* A new temporary directory (fx_rmrf it) and its chain.db path. */
static void tmp_db(char dir[256], char path[300]) {
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, 256, "%s/hanse-hist-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  assert_non_null(mkdtemp(dir));
  snprintf(path, 300, "%s/chain.db", dir);
}

/* A database written with the earlier layout (one history row per change)
 * or before the audit trail existed gains the (empty) tables when a writer
 * opens it; readers then find no history, and blocks are stored. */
static void test_old_database_gains_tables(void **state) {
  (void)state;
  char dir[256], path[300];
  tmp_db(dir, path);
  sqlite3 *db;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(
      sqlite3_exec(db,
                   "CREATE TABLE state(key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;"
                   "CREATE TABLE history(key BLOB NOT NULL, pos INTEGER NOT NULL,"
                   " op INTEGER NOT NULL, vhash BLOB, PRIMARY KEY(key, pos)) WITHOUT ROWID;"
                   "INSERT INTO history VALUES (CAST('k' AS BLOB), 1048576, 1, zeroblob(32));",
                   NULL, NULL, NULL),
      SQLITE_OK);
  sqlite3_close(db);
  hanse_store *w = NULL, *rd = NULL;
  hanse_reject rej;
  assert_int_equal(hanse_store_open(path, 0, NULL, &w, &rej), HANSE_OK);
  assert_int_equal(hanse_store_open(path, HANSE_STORE_READONLY, NULL, &rd, &rej), HANSE_OK);
  collected col;
  memset(&col, 0, sizeof col);
  assert_int_equal(hanse_store_history_scan(rd, "k", 1, UINT64_MAX, 10, collect, &col), HANSE_OK);
  assert_int_equal(col.n, 0);
  assert_int_equal(hanse_store_begin(w), HANSE_OK);
  const row_spec b1[] = {{"k", 0, HANSE_HISTORY_PUT, "1"}};
  put_block(w, 1, b1, 1);
  assert_int_equal(hanse_store_commit(w), HANSE_OK);
  memset(&col, 0, sizeof col);
  assert_int_equal(hanse_store_history_scan(rd, "k", 1, UINT64_MAX, 10, collect, &col), HANSE_OK);
  assert_int_equal(col.n, 1);
  hanse_store_close(rd);
  hanse_store_close(w);
  fx_rmrf(dir);
}

/* Key rows (store.h): the escape keeps keys in their order, newest block
 * first within a key, and no key's rows under another key's prefix; the
 * reader takes back what the writer made and refuses anything else. */
static void test_key_rows(void **state) {
  (void)state;
  /* keys in BLOB order, NUL bytes among them */
  static const struct { const char *k; size_t n; } keys[] = {
      {"", 0}, {"\0", 1}, {"\0\0", 2}, {"\0\x01", 2}, {"\x01", 1}, {"a", 1}, {"a\0", 2},
      {"a\0\0", 3}, {"a\0b", 3}, {"a\x01", 2}, {"ab", 2}, {"a\xff", 2}, {"b", 1},
  };
  static const uint64_t heights[] = {UINT64_MAX - 1, 1u << 30, 256, 1, 0}; /* newest first */
  enum { NK = sizeof keys / sizeof keys[0], NH = sizeof heights / sizeof heights[0] };
  hanse_buf prev, row, key, pre;
  hanse_buf_init(&prev);
  hanse_buf_init(&row);
  hanse_buf_init(&key);
  hanse_buf_init(&pre);
  for (size_t i = 0; i < NK; i++) {
    for (size_t j = 0; j < NH; j++) {
      hanse_buf_reset(&row);
      hanse_history_key_row(&row, keys[i].k, keys[i].n, heights[j]);
      assert_int_equal(hanse_buf_status(&row), HANSE_OK);
      assert_true(row.data[0] == HANSE_HISTORY_KEY_TAG);
      if (i + j > 0) /* strictly after the row before */
        assert_true(hanse_store_key_cmp(prev.data, prev.len, row.data, row.len) < 0);
      uint64_t h = 0;
      assert_int_equal(hanse_history_key_row_read(row.data, row.len, &key, &h), 1);
      assert_true(h == heights[j]);
      assert_int_equal((int)key.len, (int)keys[i].n);
      if (key.len) assert_memory_equal(key.data, keys[i].k, key.len);
      /* under its own key's prefix, under no other's */
      for (size_t o = 0; o < NK; o++) {
        hanse_buf_reset(&pre);
        hanse_history_key_prefix(&pre, keys[o].k, keys[o].n);
        int under = pre.len <= row.len && memcmp(pre.data, row.data, pre.len) == 0;
        assert_int_equal(under, o == i);
      }
      hanse_buf_reset(&prev);
      hanse_buf_put(&prev, row.data, row.len);
    }
  }
  /* what is no key row */
  static const char *const bad[] = {
      "",                                         /* empty */
      "01000000000000000000",                     /* one byte short */
      "02000000000000000000000000",               /* another tag */
      "610000000000000000000000",                 /* no tag */
      "0161000000000000000000",                   /* no end of key */
      "01610001000000000000000000",               /* 00 01: no escape */
      "016100ff0000000000000000",                 /* escape, then no end */
      "0161000000ff00000000000000000000",         /* bytes after the end */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uint8_t b[32];
    size_t n = strlen(bad[i]) / 2;
    for (size_t k = 0; k < n; k++) sscanf(bad[i] + 2 * k, "%2hhx", &b[k]);
    uint64_t h;
    if (hanse_history_key_row_read(b, n, &key, &h)) fail_msg("read x'%s'", bad[i]);
  }
  hanse_buf_free(&prev);
  hanse_buf_free(&row);
  hanse_buf_free(&key);
  hanse_buf_free(&pre);
}

/* A key changed in 150 blocks, with a NUL byte in it and a key that
 * extends it beside it: its changes newest first across batches of key
 * rows, before and after the log is folded into the chunks, limits and
 * positions cutting anywhere. */
static void test_scan_many_blocks(void **state) {
  (void)state;
  hanse_store *s = mem_store();
  static const char k[] = "acx/\0x", k2[] = "acx/\0x\0";
  assert_int_equal(hanse_store_begin(s), HANSE_OK);
  for (uint64_t h = 1; h <= 150; h++) {
    hanse_buf b;
    hanse_buf_init(&b);
    hanse_history_writer w;
    hanse_history_writer_init(&w, &b);
    hanse_history_row r;
    memset(&r, 0, sizeof r);
    r.op = HANSE_HISTORY_DEL;
    if (h % 3 != 0) { /* k: not in every third block */
      r.key = (const uint8_t *)k;
      r.klen = sizeof k - 1;
      r.pos = HANSE_POS(h, 1);
      hanse_history_put(&w, &r);
    }
    r.key = (const uint8_t *)k2;
    r.klen = sizeof k2 - 1;
    r.pos = HANSE_POS(h, 0);
    hanse_history_put(&w, &r);
    assert_int_equal(hanse_store_history_put_block(s, h, b.data, b.len), HANSE_OK);
    assert_int_equal(hanse_store_index_put_block(s, h, b.data, b.len, NULL, 0), HANSE_OK);
    hanse_buf_free(&b);
    if (h == 120) assert_int_equal(hanse_store_index_fold(s), HANSE_OK);
  }
  assert_int_equal(hanse_store_commit(s), HANSE_OK);
  /* 100 changes of k: pages of 30 */
  uint64_t before = UINT64_MAX;
  uint64_t want_h = 150;
  int total = 0;
  for (;;) {
    collected col;
    memset(&col, 0, sizeof col);
    assert_int_equal(hanse_store_history_scan(s, k, sizeof k - 1, before, 30, collect, &col),
                     HANSE_OK);
    if (col.n == 0) break;
    assert_true(col.n == 30 || total + col.n == 100);
    for (int i = 0; i < col.n; i++) {
      while (want_h % 3 == 0) want_h--;
      assert_true(col.pos[i] == HANSE_POS(want_h, 1));
      want_h--;
    }
    total += col.n;
    before = col.pos[col.n - 1];
  }
  assert_int_equal(total, 100);
  /* from inside: the rows below block 100's */
  collected col;
  memset(&col, 0, sizeof col);
  assert_int_equal(hanse_store_history_scan(s, k2, sizeof k2 - 1, HANSE_POS(100, 0), 64, collect,
                                            &col),
                   HANSE_OK);
  assert_int_equal(col.n, 64);
  assert_true(col.pos[0] == HANSE_POS(99, 0) && col.pos[63] == HANSE_POS(36, 0));
  /* k's row in block 149 is at or past `before`: the first batch of 64
   * key rows gives 63 changes, the next batch the 64th */
  memset(&col, 0, sizeof col);
  assert_int_equal(hanse_store_history_scan(s, k, sizeof k - 1, HANSE_POS(149, 1), 64, collect,
                                            &col),
                   HANSE_OK);
  assert_int_equal(col.n, 64);
  want_h = 148;
  for (int i = 0; i < col.n; i++, want_h--) {
    while (want_h % 3 == 0) want_h--;
    assert_true(col.pos[i] == HANSE_POS(want_h, 1));
  }
  hanse_store_close(s);
}

/* A key row that is not one (under a key's prefix, another length) is a
 * broken chain to the scan. */
static void test_scan_broken_key_row(void **state) {
  (void)state;
  hanse_store *s = mem_store();
  assert_int_equal(hanse_store_begin(s), HANSE_OK);
  const row_spec b1[] = {{"k", 0, HANSE_HISTORY_PUT, "1"}};
  put_block(s, 1, b1, 1);
  assert_int_equal(hanse_store_commit(s), HANSE_OK);
  hanse_buf row, pack;
  hanse_buf_init(&row);
  hanse_buf_init(&pack);
  hanse_history_key_prefix(&row, "k", 1);
  hanse_buf_put(&row, "\xff\xff\xff", 3);
  hanse_rowpack_put(&pack, row.data, row.len, "", 0);
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_prepare_v2(hanse_store_db(s), "INSERT INTO idx_log(height, first, rows) VALUES (2, ?1, ?2)",
                                      -1, &st, NULL),
                   SQLITE_OK);
  sqlite3_bind_blob(st, 1, row.data, (int)row.len, SQLITE_STATIC);
  sqlite3_bind_blob(st, 2, pack.data, (int)pack.len, SQLITE_STATIC);
  assert_int_equal(sqlite3_step(st), SQLITE_DONE);
  sqlite3_finalize(st);
  collected col;
  memset(&col, 0, sizeof col);
  assert_int_equal(hanse_store_history_scan(s, "k", 1, UINT64_MAX, 10, collect, &col),
                   HANSE_ERR(CHAIN_BROKEN));
  hanse_buf_free(&row);
  hanse_buf_free(&pack);
  hanse_store_close(s);
}

/* A chain written with the table history_keys(key, height): a writer
 * opening it moves the rows into the index's chunks, before the module
 * rows already there, and drops the table; a reader then finds the
 * changes, and new blocks add to them. */
static void test_history_keys_migrate(void **state) {
  (void)state;
  char dir[256], path[300];
  tmp_db(dir, path);
  hanse_store *w = NULL, *rd = NULL;
  hanse_reject rej;
  assert_int_equal(hanse_store_open(path, HANSE_STORE_CREATE, NULL, &w, &rej), HANSE_OK);
  assert_int_equal(hanse_store_begin(w), HANSE_OK);
  const row_spec b1[] = {{"k", 0, HANSE_HISTORY_PUT, "1"}, {"m", 3, HANSE_HISTORY_DEL, NULL}};
  const row_spec b2[] = {{"k", 5, HANSE_HISTORY_PUT, "2"}};
  hanse_buf b;
  hanse_buf_init(&b);
  rows_build(&b, 1, b1, 2);
  assert_int_equal(hanse_store_history_put_block(w, 1, b.data, b.len), HANSE_OK);
  rows_build(&b, 2, b2, 1);
  assert_int_equal(hanse_store_history_put_block(w, 2, b.data, b.len), HANSE_OK);
  hanse_index_row ir = {"acx/1", 5, "v", 1};
  assert_int_equal(hanse_store_index_put_block(w, 2, NULL, 0, &ir, 1), HANSE_OK);
  assert_int_equal(hanse_store_index_fold(w), HANSE_OK);
  assert_int_equal(hanse_store_commit(w), HANSE_OK);
  assert_int_equal(
      sqlite3_exec(hanse_store_db(w),
                   "CREATE TABLE history_keys(key BLOB NOT NULL, height INTEGER NOT NULL,"
                   " PRIMARY KEY(key, height)) WITHOUT ROWID;"
                   "INSERT INTO history_keys VALUES (CAST('k' AS BLOB), 1), (CAST('k' AS BLOB), 2),"
                   " (CAST('m' AS BLOB), 1);",
                   NULL, NULL, NULL),
      SQLITE_OK);
  hanse_store_close(w);
  assert_int_equal(hanse_store_open(path, 0, NULL, &w, &rej), HANSE_OK);
  assert_int_equal(sqlite3_exec(hanse_store_db(w), "SELECT * FROM history_keys", NULL, NULL, NULL),
                   SQLITE_ERROR);
  assert_int_equal(hanse_store_open(path, HANSE_STORE_READONLY, NULL, &rd, &rej), HANSE_OK);
  key_rows_seen ks;
  key_rows_all(rd, &ks);
  assert_int_equal(ks.n, 3);
  assert_int_equal(ks.other, 1); /* acx/1, after them */
  assert_string_equal(ks.key[0], "k");
  assert_true(ks.height[0] == 2 && ks.height[1] == 1 && ks.height[2] == 1);
  assert_string_equal(ks.key[2], "m");
  /* a block after the migration */
  assert_int_equal(hanse_store_begin(w), HANSE_OK);
  const row_spec b3[] = {{"k", 1, HANSE_HISTORY_DEL, NULL}};
  put_block(w, 3, b3, 1);
  assert_int_equal(hanse_store_commit(w), HANSE_OK);
  collected col;
  memset(&col, 0, sizeof col);
  assert_int_equal(hanse_store_history_scan(rd, "k", 1, UINT64_MAX, 10, collect, &col), HANSE_OK);
  assert_int_equal(col.n, 3);
  assert_true(col.pos[0] == HANSE_POS(3, 1) && col.pos[1] == HANSE_POS(2, 5) &&
              col.pos[2] == HANSE_POS(1, 0));
  memset(&col, 0, sizeof col);
  assert_int_equal(hanse_store_history_scan(rd, "m", 1, UINT64_MAX, 10, collect, &col), HANSE_OK);
  assert_int_equal(col.n, 1);
  assert_int_equal(col.op[0], HANSE_HISTORY_DEL);
  hanse_buf_free(&b);
  hanse_store_close(rd);
  hanse_store_close(w);
  fx_rmrf(dir);
}

int main(void) {
  if (sodium_init() < 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_serialization),
      cmocka_unit_test(test_serialization_malformed),
      cmocka_unit_test(test_blocks_put_get),
      cmocka_unit_test(test_scan_pages_newest_first),
      cmocka_unit_test(test_scan_joins_txs_and_index),
      cmocka_unit_test(test_scan_reports_broken_rows),
      cmocka_unit_test(test_old_database_gains_tables),
      cmocka_unit_test(test_key_rows),
      cmocka_unit_test(test_scan_many_blocks),
      cmocka_unit_test(test_scan_broken_key_row),
      cmocka_unit_test(test_history_keys_migrate),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
