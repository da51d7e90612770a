/*
 * test_store_history.c -- the store's audit trail table: rows written and
 * read back one by one, one row per (key, position), a record's changes
 * newest first in pages cut by position, the join with the transaction
 * index (id and signer; none for genesis writes), the whole table in key
 * order for the audit, and the table created in a database that predates
 * it.
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
#include "storage/store.h"

static hanse_store *mem_store(void) {
  hanse_store *s = NULL;
  hanse_reject rej;
  assert_int_equal(hanse_store_open(NULL, HANSE_STORE_MEMORY, NULL, &s, &rej), HANSE_OK);
  return s;
}

static void put_row(hanse_store *s, const char *key, uint64_t pos, int op, const char *value) {
  hanse_history_row r;
  memset(&r, 0, sizeof r);
  r.key = (const uint8_t *)key;
  r.klen = strlen(key);
  r.pos = pos;
  r.op = op;
  r.has_vhash = value != NULL;
  if (value) hanse_sha256(&r.vhash, value, strlen(value));
  assert_int_equal(hanse_store_history_put(s, &r), HANSE_OK);
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

static void test_rows_put_get(void **state) {
  (void)state;
  hanse_store *s = mem_store();
  assert_int_equal(hanse_store_begin(s), HANSE_OK);
  put_row(s, "asset/bal/EUR/x", HANSE_POS(1, 0), HANSE_HISTORY_PUT, "100");
  put_row(s, "asset/bal/EUR/x", HANSE_POS(1, 7), HANSE_HISTORY_DEL, NULL);
  put_row(s, "org/acme", HANSE_POS(0, HANSE_HISTORY_GENESIS_INDEX), HANSE_HISTORY_PUT, "{}");
  /* one row per (key, position): a second is refused */
  hanse_history_row dup;
  memset(&dup, 0, sizeof dup);
  dup.key = (const uint8_t *)"org/acme";
  dup.klen = 8;
  dup.pos = HANSE_POS(0, HANSE_HISTORY_GENESIS_INDEX);
  dup.op = HANSE_HISTORY_DEL;
  assert_int_equal(hanse_store_history_put(s, &dup), HANSE_ERR(INVALID));
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
  /* positions: height << 20 | index */
  assert_true(HANSE_POS_HEIGHT(HANSE_POS(123456, 19999)) == 123456);
  assert_true(HANSE_POS_INDEX(HANSE_POS(123456, 19999)) == 19999);
  assert_true(HANSE_POS(2, 0) > HANSE_POS(1, HANSE_HISTORY_GENESIS_INDEX));
  hanse_store_close(s);
}

/* Key "k" changed by 25 transactions over 5 blocks, neighbours "j" and
 * "kk" around it; pages of 10, 10, 5, each newest first, no overlap. */
static void test_scan_pages_newest_first(void **state) {
  (void)state;
  hanse_store *s = mem_store();
  assert_int_equal(hanse_store_begin(s), HANSE_OK);
  for (uint64_t h = 1; h <= 5; h++)
    for (uint32_t i = 0; i < 5; i++) {
      char v[16];
      snprintf(v, sizeof v, "%u", (unsigned)(h * 10 + i));
      put_row(s, "k", HANSE_POS(h, i * 3), HANSE_HISTORY_PUT, v);
      put_row(s, "j", HANSE_POS(h, i * 3), HANSE_HISTORY_PUT, v);
      put_row(s, "kk", HANSE_POS(h, i * 3 + 1), HANSE_HISTORY_PUT, v);
    }
  assert_int_equal(hanse_store_commit(s), HANSE_OK);
  uint64_t before = UINT64_MAX, last = UINT64_MAX;
  int sizes[] = {10, 10, 5, 0}, total = 0;
  for (int page = 0; page < 4; page++) {
    collected col;
    memset(&col, 0, sizeof col);
    assert_int_equal(hanse_store_history_scan(s, "k", 1, before, 10, collect, &col), HANSE_OK);
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
  /* no history */
  memset(&col, 0, sizeof col);
  assert_int_equal(hanse_store_history_scan(s, "none", 4, UINT64_MAX, 10, collect, &col), HANSE_OK);
  assert_int_equal(col.n, 0);
  hanse_store_close(s);
}

/* The scan names each change's transaction (id and signer) from the
 * transaction index; genesis writes have none. scan_all visits every row
 * in (key, position) order. */
static void test_scan_joins_txs_and_scan_all(void **state) {
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
  put_row(s, "b", HANSE_POS(3, 2), HANSE_HISTORY_PUT, "1");
  put_row(s, "b", HANSE_POS(0, HANSE_HISTORY_GENESIS_INDEX), HANSE_HISTORY_PUT, "0");
  put_row(s, "a", HANSE_POS(3, 2), HANSE_HISTORY_DEL, NULL);
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
  assert_int_equal(hanse_store_history_scan_all(s, collect, &col), HANSE_OK);
  assert_int_equal(col.n, 3);
  assert_string_equal(col.key[0], "a");
  assert_string_equal(col.key[1], "b");
  assert_true(col.pos[1] == HANSE_POS(0, HANSE_HISTORY_GENESIS_INDEX));
  assert_string_equal(col.key[2], "b");
  assert_true(col.pos[2] == HANSE_POS(3, 2));
  assert_int_equal(col.op[0], HANSE_HISTORY_DEL);
  hanse_keypair_wipe(&alice);
  hanse_store_close(s);
}

/* A database written before the audit trail existed gains the (empty)
 * table when a writer opens it; readers then find no history. */
static void test_old_database_gains_table(void **state) {
  (void)state;
  char dir[256], path[300];
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/hanse-hist-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/chain.db", dir);
  sqlite3 *db;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, "CREATE TABLE state(key BLOB PRIMARY KEY, value BLOB NOT NULL)"
                                    " WITHOUT ROWID;", NULL, NULL, NULL),
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
  hanse_store_close(rd);
  hanse_store_close(w);
  fx_rmrf(dir);
}

int main(void) {
  if (sodium_init() < 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rows_put_get),
      cmocka_unit_test(test_scan_pages_newest_first),
      cmocka_unit_test(test_scan_joins_txs_and_scan_all),
      cmocka_unit_test(test_old_database_gains_table),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
