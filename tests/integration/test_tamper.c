/*
 * test_tamper.c -- flip one byte of a stored block header, block body
 * (a transaction), transaction index row, receipt and state row, each in
 * its own copy of a data directory: `hanse verify` fails and names the
 * block (and transaction or state row), and `hanse node` refuses to start.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"

static void copy_dir(const char *from, const char *to) {
  const char *argv[] = {"cp", "-a", from, to, NULL};
  IT_CHECK(it_run(argv, NULL) == 0);
}

/* Flip bit 0 of byte `offset` (negative: from the end) of a blob column. */
static void flip_blob(const char *dir, const char *chain, const char *table, const char *col,
                      const char *where, long offset) {
  char path[512];
  snprintf(path, sizeof path, "%s/chains/%s/chain.db", dir, chain);
  sqlite3 *db;
  IT_CHECK(sqlite3_open(path, &db) == SQLITE_OK);
  char sql[512];
  snprintf(sql, sizeof sql, "SELECT %s FROM %s WHERE %s", col, table, where);
  sqlite3_stmt *st;
  IT_CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
  IT_CHECK(sqlite3_step(st) == SQLITE_ROW);
  int n = sqlite3_column_bytes(st, 0);
  unsigned char *b = malloc((size_t)n);
  memcpy(b, sqlite3_column_blob(st, 0), (size_t)n);
  sqlite3_finalize(st);
  long off = offset < 0 ? n + offset : offset;
  IT_CHECK(off >= 0 && off < n);
  b[off] ^= 1;
  snprintf(sql, sizeof sql, "UPDATE %s SET %s = ?1 WHERE %s", table, col, where);
  IT_CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
  sqlite3_bind_blob(st, 1, b, n, SQLITE_TRANSIENT);
  IT_CHECK(sqlite3_step(st) == SQLITE_DONE);
  IT_CHECK(sqlite3_changes(db) == 1);
  sqlite3_finalize(st);
  free(b);
  IT_CHECK(sqlite3_close(db) == SQLITE_OK);
}

static void exec_sql(const char *dir, const char *chain, const char *sql) {
  char path[512];
  snprintf(path, sizeof path, "%s/chains/%s/chain.db", dir, chain);
  sqlite3 *db;
  IT_CHECK(sqlite3_open(path, &db) == SQLITE_OK);
  IT_CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
  IT_CHECK(sqlite3_changes(db) == 1);
  sqlite3_close(db);
}

static int case_no;

/* Verify must fail mentioning `want` (and `want2` if not NULL); the node
 * must refuse to start. */
static void expect_broken(it_node *orig, const char *hanse, const char *label,
                          void (*tamper)(const char *dir), const char *want,
                          const char *want2) {
  it_node c;
  memset(&c, 0, sizeof c);
  c.hanse = hanse;
  snprintf(c.dir, sizeof c.dir, "%.180s-case%d", orig->dir, ++case_no);
  copy_dir(orig->dir, c.dir);
  tamper(c.dir);
  const char *vargv[] = {hanse, "verify", "--data", c.dir, "--chain", "tamper", NULL};
  char *out = NULL;
  int vrc = it_run(vargv, &out);
  printf("%s: verify exit %d: %s", label, vrc, out ? out : "");
  IT_CHECK(vrc != 0);
  IT_CHECK(out && strstr(out, want) != NULL);
  if (want2) IT_CHECK(strstr(out, want2) != NULL);
  free(out);
  int status = 0;
  int started = it_start(&c, NULL, &status);
  if (started == 0) it_stop(&c);
  printf("%s: node start refused with exit %d\n", label, status);
  IT_CHECK(started != 0 && status != 0);
  it_remove_dir(&c);
}

static void t_header(const char *d) { flip_blob(d, "tamper", "blocks", "header", "height = 2", 40); }
static void t_body(const char *d) { flip_blob(d, "tamper", "blocks", "body", "height = 3", -70); }
static void t_tx_id(const char *d) { flip_blob(d, "tamper", "txs", "id", "height = 2 AND idx = 1", 5); }
static void t_receipt(const char *d) {
  exec_sql(d, "tamper", "UPDATE txs SET code = 'oj' WHERE height = 3 AND idx = 0");
}
static void t_state(const char *d) {
  flip_blob(d, "tamper", "state", "value", "key = CAST('asset/def/TT' AS BLOB)", 3);
}
static void t_hash(const char *d) { flip_blob(d, "tamper", "blocks", "hash", "height = 1", 0); }

int main(int argc, char **argv) {
  IT_CHECK(argc >= 2);
  uint8_t seeds[] = {1, 2};
  it_node n;
  it_init(&n, argv[1], "tamper", seeds, 2);
  IT_CHECK(it_start(&n, NULL, NULL) == 0);
  char bob[65], payload[256], body[8192];
  it_pubhex(bob, 2);
  long st;
  /* Block 1: issue. Block 2: three transfers. Block 3: two transfers. */
  char *hex = it_tx_hex("tamper", "asset.issue", 1, 1, "{\"asset\":\"TT\",\"decimals\":0,\"supply\":1000}", NULL);
  snprintf(body, sizeof body, "{\"txs\":[\"%s\"]}", hex);
  free(hex);
  json_decref(it_post_json(&n, "/v1/chains/tamper/txs?wait=1", body, &st));
  IT_CHECK(st == 200);
  uint64_t seq = 2;
  for (int blk = 0; blk < 2; blk++) {
    size_t len = (size_t)snprintf(body, sizeof body, "{\"txs\":[");
    for (int i = 0; i < 3 - blk; i++) {
      snprintf(payload, sizeof payload, "{\"asset\":\"TT\",\"to\":\"%s\",\"amount\":%d}", bob, i + 1);
      hex = it_tx_hex("tamper", "asset.transfer", 1, seq++, payload, NULL);
      len += (size_t)snprintf(body + len, sizeof body - len, "%s\"%s\"", i ? "," : "", hex);
      free(hex);
    }
    snprintf(body + len, sizeof body - len, "]}");
    json_decref(it_post_json(&n, "/v1/chains/tamper/txs?wait=1", body, &st));
    IT_CHECK(st == 200);
  }
  IT_CHECK(it_height(&n) == 3);
  it_stop(&n);
  const char *vargv[] = {argv[1], "verify", "--data", n.dir, "--chain", "tamper", NULL};
  IT_CHECK(it_run(vargv, NULL) == 0);

  expect_broken(&n, argv[1], "block header", t_header, "block 2", NULL);
  expect_broken(&n, argv[1], "block body (transaction bytes)", t_body, "block 3", NULL);
  expect_broken(&n, argv[1], "transaction index row", t_tx_id, "block 2", "tx 1");
  expect_broken(&n, argv[1], "receipt code", t_receipt, "block 3", "tx 0");
  expect_broken(&n, argv[1], "state row", t_state, "asset/def/TT", NULL);
  expect_broken(&n, argv[1], "block hash column", t_hash, "block 1", NULL);
  it_cleanup_all();
  printf("test_tamper: ok\n");
  return 0;
}
