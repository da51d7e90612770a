/*
 * test_store.c -- the SQLite store: metadata, state, blocks, the
 * transaction index, transactions, and sticky failure.
 *
 * Sticky failure is driven by the tests' fault-injecting VFS
 * (support/fault_vfs.h): it wraps the default VFS and, while armed, fails
 * xWrite or xSync with SQLITE_IOERR. The tests show that an I/O error during a block
 * commit fails the commit, marks the store failed, keeps it refusing
 * writes with HANSE_ERR(STORE_FAILED) after the disk "recovers", and that
 * a reopened chain holds the block entirely or not at all.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "fault_vfs.h"
#include "fixture.h"
#include "storage/store.h"

/* ------------------------------------------------------------------ */
/* Plain store behaviour                                               */

typedef struct tmpstore {
  char dir[256];
  char path[300];
  hanse_store *s;
} tmpstore;

static void tmpstore_open(tmpstore *t, const char *vfs) {
  const char *tmp = getenv("TMPDIR");
  snprintf(t->dir, sizeof t->dir, "%s/hanse-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  assert_non_null(mkdtemp(t->dir));
  snprintf(t->path, sizeof t->path, "%s/chain.db", t->dir);
  hanse_reject rej;
  assert_int_equal(hanse_store_open(t->path, HANSE_STORE_CREATE, vfs, &t->s, &rej), HANSE_OK);
}

/* Close and open again as a writer (a node restarting on it). */
static void tmpstore_reopen(tmpstore *t) {
  hanse_store_close(t->s);
  hanse_reject rej;
  assert_int_equal(hanse_store_open(t->path, 0, NULL, &t->s, &rej), HANSE_OK);
}

static void tmpstore_close(tmpstore *t) {
  hanse_store_close(t->s);
  t->s = NULL;
  fx_rmrf(t->dir);
}

static void test_open_errors(void **state) {
  (void)state;
  hanse_store *s = (hanse_store *)1;
  hanse_reject rej;
  /* no CREATE: a missing file is an I/O error, not a new database */
  assert_int_equal(hanse_store_open("/nonexistent-dir/x/chain.db", 0, NULL, &s, &rej),
                   HANSE_ERR(IO));
  assert_null(s);
  assert_string_equal(rej.code, "internal.io");
  assert_int_equal(hanse_store_open("/nonexistent-dir/x/chain.db", HANSE_STORE_CREATE,
                                    "no-such-vfs", &s, &rej),
                   HANSE_ERR(IO));
  assert_null(s);
}

static void test_meta(void **state) {
  (void)state;
  tmpstore t;
  tmpstore_open(&t, NULL);
  hanse_buf v;
  hanse_buf_init(&v);
  assert_int_equal(hanse_store_meta_get(t.s, "chain_id", &v), HANSE_ERR(NOT_FOUND));
  assert_int_equal(hanse_store_meta_put(t.s, "chain_id", "demo"), HANSE_OK);
  assert_int_equal(hanse_store_meta_get(t.s, "chain_id", &v), HANSE_OK);
  assert_int_equal(v.len, 4);
  assert_string_equal((const char *)v.data, "demo"); /* NUL-terminated past len */
  assert_int_equal(hanse_store_meta_put(t.s, "chain_id", "other"), HANSE_OK);
  assert_int_equal(hanse_store_meta_get(t.s, "chain_id", &v), HANSE_OK);
  assert_string_equal((const char *)v.data, "other");
  hanse_buf_free(&v);
  tmpstore_close(&t);
}

static int collect(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  hanse_buf *b = ctx;
  hanse_buf_put(b, k, kl);
  hanse_buf_u8(b, '=');
  hanse_buf_put(b, v, vl);
  hanse_buf_u8(b, ';');
  return 0;
}

static int stop_after_two(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v,
                          size_t vl) {
  int *n = ctx;
  (void)k; (void)kl; (void)v; (void)vl;
  return ++*n >= 2;
}

static void scan_str(hanse_store *s, const char *prefix, size_t plen, const char *after,
                     int limit, char *out, size_t n) {
  hanse_buf b;
  hanse_buf_init(&b);
  assert_int_equal(hanse_store_state_scan(s, prefix, plen, after, after ? strlen(after) : 0,
                                          limit, collect, &b),
                   HANSE_OK);
  hanse_buf_u8(&b, 0);
  snprintf(out, n, "%s", (const char *)b.data);
  hanse_buf_free(&b);
}

static void test_state(void **state) {
  (void)state;
  tmpstore t;
  tmpstore_open(&t, NULL);
  hanse_store *s = t.s;
  hanse_buf v;
  hanse_buf_init(&v);
  int found = 7;
  assert_int_equal(hanse_store_state_get(s, "k", 1, &v, &found), HANSE_OK);
  assert_int_equal(found, 0);
  assert_int_equal(hanse_store_state_put(s, "k", 1, "v1", 2), HANSE_OK);
  assert_int_equal(hanse_store_state_get(s, "k", 1, &v, &found), HANSE_OK);
  assert_int_equal(found, 1);
  assert_int_equal(v.len, 2);
  assert_memory_equal(v.data, "v1", 2);
  assert_int_equal(hanse_store_state_put(s, "k", 1, "", 0), HANSE_OK); /* empty value */
  assert_int_equal(hanse_store_state_get(s, "k", 1, &v, &found), HANSE_OK);
  assert_int_equal(found, 1);
  assert_int_equal(v.len, 0);
  /* binary keys and values */
  const uint8_t bk[] = {0, 0xff, 1}, bv[] = {0xfe, 0, 0x7f};
  assert_int_equal(hanse_store_state_put(s, bk, 3, bv, 3), HANSE_OK);
  assert_int_equal(hanse_store_state_get(s, bk, 3, &v, &found), HANSE_OK);
  assert_memory_equal(v.data, bv, 3);
  assert_int_equal(hanse_store_state_get(s, bk, 2, &v, &found), HANSE_OK);
  assert_int_equal(found, 0);
  assert_int_equal(hanse_store_state_del(s, "k", 1), HANSE_OK);
  assert_int_equal(hanse_store_state_get(s, "k", 1, &v, &found), HANSE_OK);
  assert_int_equal(found, 0);
  assert_int_equal(hanse_store_state_del(s, "k", 1), HANSE_OK); /* idempotent */
  hanse_buf_free(&v);
  tmpstore_close(&t);
}

static void test_state_scan(void **state) {
  (void)state;
  tmpstore t;
  tmpstore_open(&t, NULL);
  hanse_store *s = t.s;
  const char *keys[] = {"a", "ab", "ab/1", "ab/2", "ab/3", "abc", "b", "a\xff", "a\xff\x01"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    assert_int_equal(hanse_store_state_put(s, keys[i], strlen(keys[i]), "x", 1), HANSE_OK);
  char out[256];
  /* [prefix, prefix+1): in key order, bounded by the prefix */
  scan_str(s, "ab/", 3, NULL, -1, out, sizeof out);
  assert_string_equal(out, "ab/1=x;ab/2=x;ab/3=x;");
  scan_str(s, "ab/", 3, "ab/1", -1, out, sizeof out); /* strictly after */
  assert_string_equal(out, "ab/2=x;ab/3=x;");
  scan_str(s, "ab/", 3, NULL, 2, out, sizeof out); /* limit */
  assert_string_equal(out, "ab/1=x;ab/2=x;");
  scan_str(s, "zz", 2, NULL, -1, out, sizeof out);
  assert_string_equal(out, "");
  /* a key equal to the prefix is in the range */
  scan_str(s, "ab", 2, NULL, -1, out, sizeof out);
  assert_string_equal(out, "ab=x;ab/1=x;ab/2=x;ab/3=x;abc=x;");
  scan_str(s, "ab", 2, NULL, 1, out, sizeof out);
  assert_string_equal(out, "ab=x;");
  /* a prefix ending in 0xff: the upper bound carries into the byte before */
  scan_str(s, "a\xff", 2, NULL, -1, out, sizeof out);
  assert_string_equal(out, "a\xff=x;a\xff\x01=x;");
  /* the empty prefix scans everything, in byte order */
  scan_str(s, "", 0, NULL, -1, out, sizeof out);
  assert_string_equal(out, "a=x;ab=x;ab/1=x;ab/2=x;ab/3=x;abc=x;a\xff=x;a\xff\x01=x;b=x;");
  /* the visitor can stop the scan */
  int n = 0;
  assert_int_equal(hanse_store_state_scan(s, "", 0, NULL, 0, -1, stop_after_two, &n), HANSE_OK);
  assert_int_equal(n, 2);
  /* over-long prefixes are refused (longer than any index key) */
  char longp[1100];
  memset(longp, 'a', sizeof longp);
  assert_int_equal(hanse_store_state_scan(s, longp, sizeof longp, NULL, 0, -1, collect, NULL),
                   HANSE_ERR(INVALID));
  tmpstore_close(&t);
}

/* ---- derived indexes: idx and its log ---- */

/* The model: each key's newest (height, value). */
typedef struct ix_model {
  char key[40][8];
  char val[40][16];
  int n;
} ix_model;

static void ix_model_put(ix_model *m, const char *k, const char *v) {
  int i = 0;
  while (i < m->n && strcmp(m->key[i], k) != 0) i++;
  if (i == m->n) snprintf(m->key[m->n++], sizeof m->key[0], "%s", k);
  snprintf(m->val[i], sizeof m->val[0], "%s", v);
}

static int ix_key_cmp(const void *a, const void *b) {
  return hanse_store_key_cmp(a, strlen(a), b, strlen(b));
}

static int ix_key_cmp_ptr(const void *a, const void *b) {
  return ix_key_cmp(*(const char *const *)a, *(const char *const *)b);
}

/* The model's answer to a scan, as scan_str prints it. */
static void ix_model_scan(const ix_model *m, const char *prefix, const char *after, int limit,
                          char *out, size_t n) {
  char keys[40][8];
  int kn = 0;
  for (int i = 0; i < m->n; i++)
    if (strncmp(m->key[i], prefix, strlen(prefix)) == 0 &&
        (after == NULL || ix_key_cmp(m->key[i], after) > 0))
      memcpy(keys[kn++], m->key[i], sizeof keys[0]);
  qsort(keys, (size_t)kn, sizeof keys[0], ix_key_cmp);
  size_t at = 0;
  out[0] = 0;
  for (int i = 0; i < kn && (limit < 0 || i < limit); i++) {
    int j = 0;
    while (strcmp(m->key[j], keys[i]) != 0) j++;
    at += (size_t)snprintf(out + at, n - at, "%s=%s;", keys[i], m->val[j]);
  }
}

static void ix_scan_str(hanse_store *s, const char *prefix, const char *after, int limit,
                        char *out, size_t n) {
  hanse_buf b;
  hanse_buf_init(&b);
  assert_int_equal(hanse_store_index_scan(s, prefix, strlen(prefix), after,
                                          after ? strlen(after) : 0, limit, collect, &b),
                   HANSE_OK);
  hanse_buf_u8(&b, 0);
  snprintf(out, n, "%s", (const char *)b.data);
  hanse_buf_free(&b);
}

/* The one integer a query answers. */
static int64_t sql_int(hanse_store *s, const char *sql) {
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_prepare_v2(hanse_store_db(s), sql, -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  int64_t n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return n;
}

static int64_t rows_in(hanse_store *s, const char *table) {
  char sql[64];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
  return sql_int(s, sql);
}

/* Every scan the model can be asked -- prefixes, afters, limits -- gives
 * the model's answer, on the writer and on a reader. */
static void ix_check(hanse_store *w, hanse_store *r, const ix_model *m) {
  static const char *const prefixes[] = {"", "a", "a/", "b/", "a/1", "c"};
  static const char *const afters[] = {NULL, "a", "a/1", "a/3", "b", "b/2", "zz"};
  static const int limits[] = {-1, 1, 2, 5};
  char got[1024], want[1024];
  for (size_t p = 0; p < sizeof prefixes / sizeof *prefixes; p++)
    for (size_t a = 0; a < sizeof afters / sizeof *afters; a++)
      for (size_t l = 0; l < sizeof limits / sizeof *limits; l++) {
        ix_model_scan(m, prefixes[p], afters[a], limits[l], want, sizeof want);
        ix_scan_str(w, prefixes[p], afters[a], limits[l], got, sizeof got);
        assert_string_equal(got, want);
        ix_scan_str(r, prefixes[p], afters[a], limits[l], got, sizeof got);
        assert_string_equal(got, want);
      }
}

static void ix_put(hanse_store *s, uint64_t h, const char *const *keys, int n,
                   ix_model *m) {
  hanse_index_row rows[16];
  char vals[16][16];
  for (int i = 0; i < n; i++) {
    snprintf(vals[i], sizeof vals[i], "h%" PRIu64, h);
    rows[i] = (hanse_index_row){keys[i], strlen(keys[i]), vals[i], strlen(vals[i])};
    ix_model_put(m, keys[i], vals[i]);
  }
  assert_int_equal(hanse_store_index_put_block(s, h, NULL, 0, rows, (size_t)n), HANSE_OK);
}

/* Blocks of random index rows (fixed seed) in packs of two rows or so,
 * folds begun at `log_bytes` or `log_blocks` heights (and going on slice
 * by slice over the next blocks) and now and then a whole fold by force:
 * the scans always answer as the model of "a key's latest row", also
 * halfway through a fold; a rolled-back block leaves nothing; the log
 * holds rows until a fold ends and fewer after; the chunks' packs split
 * as they fill. */
static void index_log_run(size_t log_bytes, int log_blocks, int rolls, int forces, int min_folds) {
  tmpstore t;
  tmpstore_open(&t, NULL);
  hanse_store *s = t.s, *r = NULL;
  hanse_reject rej;
  assert_int_equal(hanse_store_open(t.path, HANSE_STORE_READONLY, NULL, &r, &rej), HANSE_OK);
  static const char *const keys[] = {"a", "a/1", "a/2", "a/3", "a/10", "b/1", "b/2",
                                     "b/3", "c", "a\xff", "ab"};
  enum { NKEYS = sizeof keys / sizeof *keys };
  ix_model m = {0};
  unsigned seed = 6;
  hanse_store_set_index_sizes(s, log_bytes, log_blocks, 40);
  int folds = 0;
  for (uint64_t h = 1; h <= 80; h++) {
    int roll = rand_r(&seed) % rolls == 0;
    ix_model trial = m;
    assert_int_equal(hanse_store_begin(s), HANSE_OK);
    /* a block's rows in key order (as the executor puts them), a key once */
    int pick[NKEYS] = {0}, rows = rand_r(&seed) % 6;
    for (int i = 0; i < rows; i++) pick[rand_r(&seed) % NKEYS] = 1;
    const char *sorted[NKEYS];
    int sn = 0;
    for (int i = 0; i < NKEYS; i++)
      if (pick[i]) sorted[sn++] = keys[i];
    qsort(sorted, (size_t)sn, sizeof *sorted, ix_key_cmp_ptr);
    int64_t before = rows_in(s, "idx_log");
    ix_put(s, h, sorted, sn, &trial);
    if (rows_in(s, "idx_log") < before + (sn > 0)) folds++; /* a fold ended on the way */
    if (rand_r(&seed) % forces == 0) {
      assert_int_equal(hanse_store_index_fold(s), HANSE_OK);
      assert_int_equal(rows_in(s, "idx_log"), 0);
    }
    if (roll) {
      hanse_store_rollback(s);
    } else {
      assert_int_equal(hanse_store_commit(s), HANSE_OK);
      m = trial;
    }
    ix_check(s, r, &m);
  }
  assert_true(folds >= min_folds);
  assert_true(rows_in(s, "idx_chunks") >= 5); /* packs split */
  /* a log not yet folded is read as well: its rows are only there */
  hanse_store_set_index_sizes(s, 1 << 20, 1000, 40);
  assert_int_equal(hanse_store_begin(s), HANSE_OK);
  const char *const one[] = {"a/1"};
  ix_put(s, 81, one, 1, &m);
  assert_int_equal(hanse_store_commit(s), HANSE_OK);
  assert_true(rows_in(s, "idx_log") >= 1);
  ix_check(s, r, &m);
  /* reopened: the log is read back and folds */
  hanse_store_close(s);
  assert_int_equal(hanse_store_open(t.path, 0, NULL, &t.s, &rej), HANSE_OK);
  s = t.s;
  ix_check(s, r, &m);
  assert_int_equal(hanse_store_begin(s), HANSE_OK);
  assert_int_equal(hanse_store_index_fold(s), HANSE_OK);
  assert_int_equal(hanse_store_commit(s), HANSE_OK);
  assert_int_equal(rows_in(s, "idx_log"), 0);
  ix_check(s, r, &m);
  /* a pack that does not read fails the scan, not the process */
  assert_int_equal(sqlite3_exec(hanse_store_db(s),
                                "UPDATE idx_chunks SET rows = X'00000009' "
                                "WHERE first = (SELECT min(first) FROM idx_chunks)",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  hanse_buf b;
  hanse_buf_init(&b);
  assert_int_equal(hanse_store_index_scan(r, "", 0, NULL, 0, -1, collect, &b),
                   HANSE_ERR(CHAIN_BROKEN));
  hanse_buf_free(&b);
  hanse_store_close(r);
  tmpstore_close(&t);
}

/* A put told whether the key is there: right or wrong, the row is put,
 * once, and the store stays writable. */
static void test_state_put_hint(void **state) {
  (void)state;
  tmpstore t;
  tmpstore_open(&t, NULL);
  hanse_store *s = t.s;
  hanse_buf v;
  hanse_buf_init(&v);
  int found;
  static const struct {
    const char *key, *val;
    int exists;
  } puts[] = {
      {"a", "1", 0},  /* right: new */
      {"a", "2", 1},  /* right: there */
      {"b", "3", 1},  /* wrong: new after all */
      {"a", "", 0},   /* wrong: there after all, an empty value */
      {"b", "45", 0}, /* wrong again */
  };
  for (size_t i = 0; i < sizeof puts / sizeof puts[0]; i++) {
    const char *val = puts[i].val;
    assert_int_equal(hanse_store_state_put_hint(s, puts[i].key, 1, val, strlen(val),
                                                puts[i].exists),
                     HANSE_OK);
    assert_int_equal(hanse_store_state_get(s, puts[i].key, 1, &v, &found), HANSE_OK);
    assert_int_equal(found, 1);
    assert_int_equal(v.len, strlen(val));
    assert_memory_equal(v.data, val, v.len);
  }
  assert_int_equal(sql_int(s, "SELECT count(*) FROM state"), 2);
  assert_int_equal(hanse_store_failed(s), 0);
  hanse_buf_free(&v);
  tmpstore_close(&t);
}

static void test_index_log(void **state) {
  (void)state;
  /* by bytes, rolled back and folded by force often: most folds end at
   * once, the log soon twice its bound */
  index_log_run(200, 1000, 8, 10, 3);
  /* by heights, a slice a block, rolled back (the fold begun again) and
   * folded by force now and then */
  index_log_run(1 << 20, 4, 16, 40, 5);
}

/* hanse_store_wal_bytes counts the WAL's frames in use after the last
 * commit, not the file's size: after a restart the file keeps its size
 * and the count starts again from the next commit's frames. The
 * fallback checkpoint (set off here) does not run. */
static off_t wal_file_size(const tmpstore *t) {
  char wal[320];
  snprintf(wal, sizeof wal, "%s-wal", t->path);
  struct stat st;
  return stat(wal, &st) == 0 ? st.st_size : -1;
}

static void wal_fill(hanse_store *s, int rows, int salt) {
  char key[32], val[1024];
  memset(val, 'v', sizeof val);
  assert_int_equal(hanse_store_begin(s), HANSE_OK);
  for (int i = 0; i < rows; i++) {
    snprintf(key, sizeof key, "w/%d/%06d", salt, i);
    assert_int_equal(hanse_store_state_put(s, key, strlen(key), val, sizeof val), HANSE_OK);
  }
  assert_int_equal(hanse_store_commit(s), HANSE_OK);
}

static void test_wal_bytes(void **state) {
  (void)state;
  tmpstore t;
  tmpstore_open(&t, NULL);
  hanse_store *s = t.s;
  hanse_store_set_wal_autocheckpoint(s, 0);
  wal_fill(s, 1000, 1); /* ~1 MB of rows: ~250 pages */
  long long big = hanse_store_wal_bytes(s);
  assert_true(big >= 1000 * 1024);
  assert_true(big <= wal_file_size(&t));
  wal_fill(s, 1000, 2);
  assert_true(hanse_store_wal_bytes(s) > big); /* appended */
  off_t file = wal_file_size(&t);
  assert_int_equal(hanse_store_checkpoint_restart(s), HANSE_OK);
  wal_fill(s, 1, 3);
  assert_true(hanse_store_wal_bytes(s) > 0);
  assert_true(hanse_store_wal_bytes(s) < 64 * 1024); /* a few pages from the start */
  assert_int_equal(wal_file_size(&t), file);           /* the file as it was */
  tmpstore_close(&t);
}

/* The writer's own fallback checkpoint, which the wal hook makes now
 * (setting a hook turns SQLite's off): with it at 64 pages, forty commits
 * of ~1,150 pages each leave a WAL of one commit's frames (each is
 * checkpointed, and the next starts the WAL over); with it off, the WAL
 * holds them all. */
static void test_wal_autocheckpoint(void **state) {
  (void)state;
  for (int on = 1; on >= 0; on--) {
    tmpstore t;
    tmpstore_open(&t, NULL);
    hanse_store_set_wal_autocheckpoint(t.s, on ? 64 : 0);
    wal_fill(t.s, 1000, 100);
    long long one = hanse_store_wal_bytes(t.s);
    assert_true(one > 1000 * 1024);
    for (int i = 1; i < 40; i++) wal_fill(t.s, 1000, 100 + i);
    long long frames = hanse_store_wal_bytes(t.s);
    if (on) {
      assert_true(frames < 2 * one);
      assert_true(wal_file_size(&t) < 3 * one);
    } else {
      assert_true(frames > 30 * one);
    }
    tmpstore_close(&t);
  }
}

/* A chain written before the packs, with its index rows in a table `idx`:
 * the reopened store has them all in its chunks and no `idx` left; a
 * later block's row replaces one. */
static void test_index_migrate(void **state) {
  (void)state;
  tmpstore t;
  tmpstore_open(&t, NULL);
  assert_int_equal(sqlite3_exec(hanse_store_db(t.s),
                                "CREATE TABLE idx(key BLOB PRIMARY KEY, value BLOB NOT NULL)"
                                " WITHOUT ROWID;"
                                "INSERT INTO idx VALUES (CAST('a/2' AS BLOB), CAST('old2' AS BLOB)),"
                                " (CAST('a/1' AS BLOB), CAST('old1' AS BLOB)),"
                                " (CAST('b/1' AS BLOB), CAST('oldb' AS BLOB));",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  tmpstore_reopen(&t);
  assert_int_equal(rows_in(t.s, "idx_chunks"), 1);
  assert_int_equal(sqlite3_exec(hanse_store_db(t.s), "SELECT * FROM idx", NULL, NULL, NULL),
                   SQLITE_ERROR);
  ix_model m = {0};
  ix_model_put(&m, "a/1", "old1");
  ix_model_put(&m, "a/2", "old2");
  ix_model_put(&m, "b/1", "oldb");
  assert_int_equal(hanse_store_begin(t.s), HANSE_OK);
  const char *const one[] = {"a/2"};
  ix_put(t.s, 5, one, 1, &m);
  assert_int_equal(hanse_store_commit(t.s), HANSE_OK);
  ix_check(t.s, t.s, &m);
  assert_int_equal(hanse_store_begin(t.s), HANSE_OK);
  assert_int_equal(hanse_store_index_fold(t.s), HANSE_OK);
  assert_int_equal(hanse_store_commit(t.s), HANSE_OK);
  ix_check(t.s, t.s, &m);
  tmpstore_close(&t);
}

/* A chain written with the state in a WITHOUT ROWID table: the reopened
 * writer has moved its rows to the rowid table with the key index (values
 * larger than a page among them), in key order, and the old table is
 * gone; puts, deletes and scans work on it. */
static void test_state_migrate(void **state) {
  (void)state;
  tmpstore t;
  tmpstore_open(&t, NULL);
  sqlite3 *db = hanse_store_db(t.s);
  assert_int_equal(sqlite3_exec(db,
                                "DROP TABLE state;"
                                "CREATE TABLE state(key BLOB PRIMARY KEY, value BLOB NOT NULL)"
                                " WITHOUT ROWID;"
                                "INSERT INTO state VALUES (CAST('b' AS BLOB), CAST('2' AS BLOB)),"
                                " (CAST('a' AS BLOB), CAST('1' AS BLOB)),"
                                " (CAST('big' AS BLOB), zeroblob(20000)),"
                                " (CAST('c' AS BLOB), CAST('3' AS BLOB));",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  tmpstore_reopen(&t);
  assert_int_equal(sql_int(t.s, "SELECT count(*) FROM sqlite_schema WHERE name = 'state'"
                                " AND sql NOT LIKE '%WITHOUT ROWID%'"),
                   1);
  assert_int_equal(sql_int(t.s, "SELECT count(*) FROM sqlite_schema WHERE name LIKE "
                                "'%state_rows%' AND type = 'table'"),
                   0);
  char out[256];
  scan_str(t.s, "", 0, NULL, 2, out, sizeof out);
  assert_string_equal(out, "a=1;b=2;");
  scan_str(t.s, "", 0, "big", -1, out, sizeof out);
  assert_string_equal(out, "c=3;");
  hanse_buf v;
  hanse_buf_init(&v);
  int found = 0;
  assert_int_equal(hanse_store_state_get(t.s, "big", 3, &v, &found), HANSE_OK);
  assert_true(found && v.len == 20000);
  hanse_buf_free(&v);
  assert_int_equal(hanse_store_begin(t.s), HANSE_OK);
  assert_int_equal(hanse_store_state_put(t.s, "b", 1, "22", 2), HANSE_OK);
  assert_int_equal(hanse_store_state_put(t.s, "ab", 2, "x", 1), HANSE_OK);
  assert_int_equal(hanse_store_state_del(t.s, "big", 3), HANSE_OK);
  assert_int_equal(hanse_store_commit(t.s), HANSE_OK);
  scan_str(t.s, "", 0, NULL, -1, out, sizeof out);
  assert_string_equal(out, "a=1;ab=x;b=22;c=3;");
  tmpstore_close(&t);
}

/* The index packs in the earlier WITHOUT ROWID tables (the chunks and a
 * log): the reopened writer has moved both to their rowid tables, and
 * every scan reads as before; a block and a fold go on from there. */
static void test_index_tables_migrate(void **state) {
  (void)state;
  tmpstore t;
  tmpstore_open(&t, NULL);
  ix_model m = {0};
  static const char *const b1[] = {"a/1", "a/2", "b/1"}, *const b2[] = {"a/2", "a/3"};
  assert_int_equal(hanse_store_begin(t.s), HANSE_OK);
  ix_put(t.s, 1, b1, 3, &m);
  assert_int_equal(hanse_store_index_fold(t.s), HANSE_OK); /* into the chunks */
  ix_put(t.s, 2, b2, 2, &m);                                /* in the log */
  assert_int_equal(hanse_store_commit(t.s), HANSE_OK);
  assert_int_equal(rows_in(t.s, "idx_chunks"), 1);
  assert_int_equal(rows_in(t.s, "idx_log"), 1);
  assert_int_equal(
      sqlite3_exec(hanse_store_db(t.s),
                   "CREATE TABLE c(first BLOB PRIMARY KEY, last BLOB NOT NULL, rows BLOB NOT NULL)"
                   " WITHOUT ROWID;"
                   "INSERT INTO c SELECT first, last, rows FROM idx_chunks;"
                   "DROP TABLE idx_chunks; ALTER TABLE c RENAME TO idx_chunks;"
                   "CREATE TABLE l(height INTEGER NOT NULL, first BLOB NOT NULL, rows BLOB NOT NULL,"
                   " PRIMARY KEY(height, first)) WITHOUT ROWID;"
                   "INSERT INTO l SELECT height, first, rows FROM idx_log;"
                   "DROP TABLE idx_log; ALTER TABLE l RENAME TO idx_log;",
                   NULL, NULL, NULL),
      SQLITE_OK);
  tmpstore_reopen(&t);
  assert_int_equal(sql_int(t.s, "SELECT count(*) FROM sqlite_schema WHERE name IN "
                                "('idx_chunks', 'idx_log') AND sql NOT LIKE '%WITHOUT ROWID%'"),
                   2);
  assert_int_equal(rows_in(t.s, "idx_chunks"), 1);
  assert_int_equal(rows_in(t.s, "idx_log"), 1);
  ix_check(t.s, t.s, &m);
  static const char *const b3[] = {"a/1", "c/1"};
  assert_int_equal(hanse_store_begin(t.s), HANSE_OK);
  ix_put(t.s, 3, b3, 2, &m);
  assert_int_equal(hanse_store_index_fold(t.s), HANSE_OK);
  assert_int_equal(hanse_store_commit(t.s), HANSE_OK);
  assert_int_equal(rows_in(t.s, "idx_log"), 0);
  ix_check(t.s, t.s, &m);
  tmpstore_close(&t);
}

static void test_blocks_and_tip(void **state) {
  (void)state;
  tmpstore t;
  tmpstore_open(&t, NULL);
  hanse_store *s = t.s;
  uint64_t tip = 99;
  assert_int_equal(hanse_store_tip(s, &tip), HANSE_ERR(NOT_FOUND));
  hanse_hash h0, h1, sum, rh;
  memset(h0.b, 0xa0, 32);
  memset(h1.b, 0xa1, 32);
  memset(sum.b, 0x55, 32);
  memset(rh.b, 0x77, 32);
  assert_int_equal(hanse_store_block_put(s, 0, &h0, &sum, &rh, (const uint8_t *)"hdr0", 4,
                                         (const uint8_t *)"", 0),
                   HANSE_OK);
  assert_int_equal(hanse_store_block_put(s, 1, &h1, &sum, &rh, (const uint8_t *)"hdr1", 4,
                                         (const uint8_t *)"body1", 5),
                   HANSE_OK);
  /* a height and a hash exist once */
  assert_int_equal(hanse_store_block_put(s, 1, &h0, &sum, &rh, (const uint8_t *)"x", 1, NULL, 0),
                   HANSE_ERR(INVALID));
  assert_int_equal(hanse_store_block_put(s, 2, &h1, &sum, &rh, (const uint8_t *)"x", 1, NULL, 0),
                   HANSE_ERR(INVALID));
  assert_int_equal(hanse_store_failed(s), 0); /* a constraint is not an I/O error */
  assert_int_equal(hanse_store_tip(s, &tip), HANSE_OK);
  assert_true(tip == 1);
  hanse_block_row row;
  assert_int_equal(hanse_store_block_get(s, 1, 1, &row), HANSE_OK);
  assert_true(row.height == 1);
  assert_memory_equal(row.hash.b, h1.b, 32);
  assert_memory_equal(row.state_sum.b, sum.b, 32);
  assert_memory_equal(row.receipts_hash.b, rh.b, 32);
  assert_int_equal(row.header_len, 4);
  assert_memory_equal(row.header, "hdr1", 4);
  assert_int_equal(row.body_len, 5);
  assert_memory_equal(row.body, "body1", 5);
  hanse_block_row_free(&row);
  assert_int_equal(hanse_store_block_get(s, 0, 0, &row), HANSE_OK);
  assert_null(row.body);
  assert_memory_equal(row.header, "hdr0", 4);
  hanse_block_row_free(&row);
  assert_int_equal(hanse_store_block_get(s, 0, 1, &row), HANSE_OK);
  assert_int_equal(row.body_len, 0);
  hanse_block_row_free(&row);
  assert_int_equal(hanse_store_block_get(s, 5, 1, &row), HANSE_ERR(NOT_FOUND));
  uint64_t height = 9;
  assert_int_equal(hanse_store_block_by_hash(s, &h1, &height), HANSE_OK);
  assert_true(height == 1);
  assert_int_equal(hanse_store_block_by_hash(s, &sum, &height), HANSE_ERR(NOT_FOUND));
  tmpstore_close(&t);
}

static int receipts_visit(void *ctx, const hanse_receipt *r) {
  hanse_buf *b = ctx;
  char line[128];
  int n = snprintf(line, sizeof line, "%u:%s:%s;", r->index, r->code, r->message);
  hanse_buf_put(b, line, (size_t)n);
  return 0;
}

static void test_tx_index(void **state) {
  (void)state;
  tmpstore t;
  tmpstore_open(&t, NULL);
  hanse_store *s = t.s;
  hanse_pubkey signer;
  memset(signer.b, 7, 32);
  hanse_receipt r[3];
  memset(r, 0, sizeof r);
  for (uint32_t i = 0; i < 3; i++) {
    memset(r[i].id.b, (int)(0x10 + i), 32);
    r[i].height = 4;
    r[i].index = 2 - i; /* stored out of order */
    snprintf(r[i].code, sizeof r[i].code, "%s", i == 1 ? "asset.unknown" : "ok");
    snprintf(r[i].message, sizeof r[i].message, "%s", i == 1 ? "no asset 'X'" : "");
    assert_int_equal(hanse_store_tx_put(s, &r[i], &signer, i + 1, "asset.transfer"), HANSE_OK);
  }
  assert_int_equal(hanse_store_tx_put(s, &r[0], &signer, 1, "asset.transfer"), HANSE_ERR(INVALID));
  hanse_receipt got;
  assert_int_equal(hanse_store_tx_get(s, &r[1].id, &got), HANSE_OK);
  assert_true(got.height == 4);
  assert_int_equal(got.index, 1);
  assert_string_equal(got.code, "asset.unknown");
  assert_string_equal(got.message, "no asset 'X'");
  assert_memory_equal(got.id.b, r[1].id.b, 32);
  hanse_hash none;
  memset(none.b, 0xee, 32);
  assert_int_equal(hanse_store_tx_get(s, &none, &got), HANSE_ERR(NOT_FOUND));
  hanse_buf b;
  hanse_buf_init(&b);
  assert_int_equal(hanse_store_tx_scan_block(s, 4, receipts_visit, &b), HANSE_OK);
  hanse_buf_u8(&b, 0);
  assert_string_equal((const char *)b.data, "0:ok:;1:asset.unknown:no asset 'X';2:ok:;");
  hanse_buf_reset(&b);
  assert_int_equal(hanse_store_tx_scan_block(s, 5, receipts_visit, &b), HANSE_OK);
  assert_int_equal(b.len, 0);
  hanse_buf_free(&b);
  uint64_t count = 0;
  assert_int_equal(hanse_store_tx_count(s, &count), HANSE_OK);
  assert_true(count == 3);
  tmpstore_close(&t);
}

static void test_transactions_and_readers(void **state) {
  (void)state;
  tmpstore t;
  tmpstore_open(&t, NULL);
  hanse_store *s = t.s;
  hanse_store *r = NULL;
  hanse_reject rej;
  assert_int_equal(hanse_store_open(t.path, HANSE_STORE_READONLY, NULL, &r, &rej), HANSE_OK);
  hanse_buf v;
  hanse_buf_init(&v);
  int found;
  /* rolled back: nothing */
  assert_int_equal(hanse_store_begin(s), HANSE_OK);
  assert_int_equal(hanse_store_state_put(s, "k", 1, "rolled", 6), HANSE_OK);
  hanse_store_rollback(s);
  assert_int_equal(hanse_store_state_get(s, "k", 1, &v, &found), HANSE_OK);
  assert_int_equal(found, 0);
  /* committed: visible to the writer and to a reader connection */
  assert_int_equal(hanse_store_begin(s), HANSE_OK);
  assert_int_equal(hanse_store_state_put(s, "k", 1, "committed", 9), HANSE_OK);
  /* not yet visible to the reader before commit (WAL isolation) */
  assert_int_equal(hanse_store_state_get(r, "k", 1, &v, &found), HANSE_OK);
  assert_int_equal(found, 0);
  assert_int_equal(hanse_store_commit(s), HANSE_OK);
  assert_int_equal(hanse_store_state_get(r, "k", 1, &v, &found), HANSE_OK);
  assert_int_equal(found, 1);
  assert_memory_equal(v.data, "committed", 9);
  hanse_store_rollback(s); /* no transaction: a no-op */
  hanse_buf_free(&v);
  hanse_store_close(r);
  tmpstore_close(&t);
}

static void test_memory_store(void **state) {
  (void)state;
  hanse_store *m = NULL;
  hanse_reject rej;
  assert_int_equal(hanse_store_open(NULL, HANSE_STORE_MEMORY, NULL, &m, &rej), HANSE_OK);
  assert_int_equal(hanse_store_begin(m), HANSE_OK);
  assert_int_equal(hanse_store_state_put(m, "x", 1, "1", 1), HANSE_OK);
  assert_int_equal(hanse_store_commit(m), HANSE_OK);
  hanse_buf v;
  hanse_buf_init(&v);
  int found = 0;
  assert_int_equal(hanse_store_state_get(m, "x", 1, &v, &found), HANSE_OK);
  assert_int_equal(found, 1);
  hanse_buf_free(&v);
  hanse_store_close(m);
}

/* ------------------------------------------------------------------ */
/* Sticky failure                                                      */

static void test_store_sticky_after_io_error(void **state) {
  (void)state;
  fx_fault_register();
  tmpstore t;
  tmpstore_open(&t, FX_FAULT_VFS);
  hanse_store *s = t.s;
  assert_int_equal(hanse_store_state_put(s, "before", 6, "1", 1), HANSE_OK);
  assert_int_equal(hanse_store_failed(s), 0);

  assert_int_equal(hanse_store_begin(s), HANSE_OK);
  assert_int_equal(hanse_store_state_put(s, "during", 6, "1", 1), HANSE_OK);
  fx_fault_arm(FX_FAULT_WRITE, NULL, NULL);
  assert_int_equal(hanse_store_commit(s), HANSE_ERR(IO));
  assert_true(fx_faults_hit() > 0);
  fx_fault_clear();
  assert_int_equal(hanse_store_failed(s), 1);
  /* the disk is fine again, the store still refuses writes */
  assert_int_equal(hanse_store_begin(s), HANSE_ERR(STORE_FAILED));
  assert_int_equal(hanse_store_state_put(s, "after", 5, "1", 1), HANSE_ERR(STORE_FAILED));
  assert_int_equal(hanse_store_state_del(s, "before", 6), HANSE_ERR(STORE_FAILED));
  assert_int_equal(hanse_store_meta_put(s, "k", "v"), HANSE_ERR(STORE_FAILED));
  hanse_hash h;
  memset(h.b, 1, 32);
  assert_int_equal(hanse_store_block_put(s, 1, &h, &h, &h, (const uint8_t *)"h", 1, NULL, 0),
                   HANSE_ERR(STORE_FAILED));
  hanse_receipt r;
  memset(&r, 0, sizeof r);
  hanse_pubkey pk;
  memset(pk.b, 2, sizeof pk.b);
  assert_int_equal(hanse_store_tx_put(s, &r, &pk, 1, "a.b"),
                   HANSE_ERR(STORE_FAILED));
  /* reads keep working */
  hanse_buf v;
  hanse_buf_init(&v);
  int found = 0;
  assert_int_equal(hanse_store_state_get(s, "before", 6, &v, &found), HANSE_OK);
  assert_int_equal(found, 1);
  hanse_store_close(s);

  /* reopened: the failed transaction left nothing, writes work again */
  hanse_reject rej;
  assert_int_equal(hanse_store_open(t.path, 0, NULL, &t.s, &rej), HANSE_OK);
  assert_int_equal(hanse_store_failed(t.s), 0);
  assert_int_equal(hanse_store_state_get(t.s, "during", 6, &v, &found), HANSE_OK);
  assert_int_equal(found, 0);
  assert_int_equal(hanse_store_state_get(t.s, "before", 6, &v, &found), HANSE_OK);
  assert_int_equal(found, 1);
  assert_int_equal(hanse_store_state_put(t.s, "after", 5, "1", 1), HANSE_OK);
  hanse_buf_free(&v);
  tmpstore_close(&t);
}

/* One block with an issue, a transfer and an anchor, at alice's sequence
 * numbers seq..seq+2. */
static void block_body(fx_chain *f, fx_body *b, uint64_t seq, const char *sym) {
  char bob[HANSE_HASH_HEX_BYTES];
  fx_body_init(b);
  fx_body_tx(b, &f->alice, "asset.issue", seq, "{\"asset\":\"%s\",\"decimals\":2,\"supply\":1000}", sym);
  fx_body_tx(b, &f->alice, "asset.transfer", seq + 1,
             "{\"asset\":\"%s\",\"amount\":250,\"to\":\"%s\"}", sym, fx_hex(bob, &f->bob.pub));
  fx_body_tx(b, &f->alice, "notary.anchor", seq + 2, "{\"hash\":\"%064llu\"}",
             (unsigned long long)seq);
}

static void block_ids(fx_body *b, hanse_hash ids[3]) {
  const hanse_buf *body = fx_body_finish(b);
  hanse_body d;
  assert_int_equal(hanse_body_decode(&d, body->data, body->len, NULL), HANSE_OK);
  assert_int_equal(d.tx_count, 3);
  for (int i = 0; i < 3; i++) ids[i] = d.txs[i]->id;
  hanse_body_free(&d);
}

static void copy_file(const char *from, const char *to) {
  FILE *in = fopen(from, "rb");
  if (in == NULL) return; /* absent (e.g. no -wal): nothing to copy */
  FILE *out = fopen(to, "wb");
  assert_non_null(out);
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, in)) > 0) assert_int_equal(fwrite(buf, 1, n, out), n);
  fclose(in);
  assert_int_equal(fclose(out), 0);
}

/* Open the chain in `dir` and require block 2 (ids) to be there in full or
 * not at all, consistently with the tip and the audit; returns present. */
static int check_all_or_nothing(fx_chain *f, const char *dir, const hanse_hash ids[3]) {
  hanse_chain *c = NULL;
  hanse_reject rej;
  if (hanse_chain_open(dir, &f->node, NULL, &c, &rej) != HANSE_OK)
    fail_msg("reopen %s: %s: %s", dir, rej.code, rej.message);
  hanse_tip tip;
  hanse_chain_tip(c, &tip);
  assert_true(tip.height == 1 || tip.height == 2);
  hanse_store *r = hanse_chain_reader_acquire(c);
  assert_non_null(r);
  int present = 0;
  for (int i = 0; i < 3; i++) {
    hanse_receipt rc;
    int got = hanse_store_tx_get(r, &ids[i], &rc) == HANSE_OK;
    if (i == 0) present = got;
    assert_int_equal(got, present); /* all three or none */
    if (got) assert_string_equal(rc.code, "ok");
  }
  hanse_buf v;
  hanse_buf_init(&v);
  int found = -1;
  assert_int_equal(hanse_store_state_get(r, "asset/def/USD", 13, &v, &found), HANSE_OK);
  assert_int_equal(found, present); /* its state with it */
  hanse_buf_free(&v);
  hanse_chain_reader_release(c, r);
  assert_int_equal(present, tip.height == 2);
  assert_true(tip.tx_count == (present ? 6u : 3u));
  hanse_chain_close(c);
  uint64_t blocks, txs;
  int64_t bad_h, bad_tx;
  if (hanse_chain_audit(dir, &blocks, &txs, &bad_h, &bad_tx, NULL, NULL, &rej) != HANSE_OK)
    fail_msg("audit %s: %s", dir, rej.message);
  assert_true(blocks == tip.height + 1);
  return present;
}

/* An I/O error during a block's commit, on write (frames never reach the
 * log) or on sync (they may have): propose fails, the store turns sticky,
 * and the reopened chain has the block whole or not at all. */
static void chain_sticky(int on_sync) {
  fx_fault_register();
  fx_chain f;
  fx_chain_setup(&f, FX_FAULT_VFS);
  fx_body b1;
  block_body(&f, &b1, 1, "EUR");
  fx_propose_ok(&f, &b1);
  fx_body_free(&b1);
  hanse_tip before;
  hanse_chain_tip(f.chain, &before);
  assert_true(before.height == 1);

  fx_body b2;
  block_body(&f, &b2, 4, "USD");
  hanse_hash ids[3];
  block_ids(&b2, ids);
  hanse_reject rej;
  fx_fault_arm(on_sync ? FX_FAULT_SYNC : FX_FAULT_WRITE, NULL, NULL);
  int rc = fx_propose(&f, &b2, NULL, 0, &rej);
  int hit = fx_faults_hit();
  fx_fault_clear();
  assert_true(hit > 0);
  assert_int_equal(rc, HANSE_ERR(STORE_FAILED));
  assert_string_equal(rej.code, "store.failed");
  assert_non_null(strstr(rej.message, "block 2"));
  assert_int_equal(hanse_store_failed(f.chain->writer), 1);
  /* the in-memory tip did not move */
  hanse_tip now;
  hanse_chain_tip(f.chain, &now);
  assert_true(now.height == before.height);
  assert_memory_equal(now.hash.b, before.hash.b, HANSE_HASH_BYTES);

  /* the disk works again; the store still refuses */
  assert_int_equal(hanse_store_begin(f.chain->writer), HANSE_ERR(STORE_FAILED));
  assert_int_equal(hanse_store_state_put(f.chain->writer, "x", 1, "y", 1),
                   HANSE_ERR(STORE_FAILED));
  fx_body b3;
  block_body(&f, &b3, 4, "USD");
  assert_int_equal(fx_propose(&f, &b3, NULL, 0, &rej), HANSE_ERR(STORE_FAILED));
  assert_string_equal(rej.code, "store.failed");
  fx_body_free(&b3);

  /* A crash now: the files as they are on disk (database and log, no
   * shared-memory index) must open as a chain with block 2 whole or absent. */
  char crash[300], from[400], to[400];
  snprintf(crash, sizeof crash, "%s/crash", f.dir);
  assert_int_equal(mkdir(crash, 0700), 0);
  snprintf(from, sizeof from, "%s/chain.db", f.dir);
  snprintf(to, sizeof to, "%s/chain.db", crash);
  copy_file(from, to);
  snprintf(from, sizeof from, "%s/chain.db-wal", f.dir);
  snprintf(to, sizeof to, "%s/chain.db-wal", crash);
  copy_file(from, to);
  int crash_present = check_all_or_nothing(&f, crash, ids);
  print_message("      (I/O error on %s: after a crash block 2 is %s)\n",
                on_sync ? "sync" : "write", crash_present ? "present in full" : "absent");

  /* restart after a clean close: the same, and the store is writable */
  hanse_chain_close(f.chain);
  f.chain = NULL;
  int present = check_all_or_nothing(&f, f.dir, ids);
  print_message("      (I/O error on %s: after a restart block 2 is %s)\n",
                on_sync ? "sync" : "write", present ? "present in full" : "absent");
  assert_int_equal(fx_chain_reopen(&f, NULL, &rej), HANSE_OK);
  assert_int_equal(hanse_store_failed(f.chain->writer), 0);
  if (present) assert_true(fx_balance(&f, "USD", &f.bob.pub) == 250);
  assert_true(fx_balance(&f, "EUR", &f.bob.pub) == 250);
  /* the chain grows again (re-proposing block 2 if it was lost) */
  hanse_tip after;
  if (!present) fx_propose_ok(&f, &b2);
  fx_body_free(&b2);
  fx_body b4;
  block_body(&f, &b4, 7, "GBP");
  fx_propose_ok(&f, &b4);
  fx_body_free(&b4);
  hanse_chain_tip(f.chain, &after);
  assert_true(after.height == 3);
  assert_true(after.tx_count == 9);
  fx_chain_teardown(&f);
}

static void test_chain_sticky_write_error(void **state) {
  (void)state;
  chain_sticky(0);
}

static void test_chain_sticky_sync_error(void **state) {
  (void)state;
  chain_sticky(1);
}

int main(void) {
  if (sodium_init() < 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_open_errors),
      cmocka_unit_test(test_meta),
      cmocka_unit_test(test_state),
      cmocka_unit_test(test_state_put_hint),
      cmocka_unit_test(test_state_scan),
      cmocka_unit_test(test_index_log),
      cmocka_unit_test(test_index_migrate),
      cmocka_unit_test(test_state_migrate),
      cmocka_unit_test(test_index_tables_migrate),
      cmocka_unit_test(test_wal_bytes),
      cmocka_unit_test(test_wal_autocheckpoint),
      cmocka_unit_test(test_blocks_and_tip),
      cmocka_unit_test(test_tx_index),
      cmocka_unit_test(test_transactions_and_readers),
      cmocka_unit_test(test_memory_store),
      cmocka_unit_test(test_store_sticky_after_io_error),
      cmocka_unit_test(test_chain_sticky_write_error),
      cmocka_unit_test(test_chain_sticky_sync_error),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
