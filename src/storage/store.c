/*
 * store.c -- the SQLite store (see store.h).
 *
 * Schema (one file per chain):
 *
 *   meta(key TEXT PRIMARY KEY, value TEXT)
 *   blocks(height INTEGER PRIMARY KEY, hash BLOB UNIQUE, state_sum BLOB,
 *          receipts_hash BLOB, header BLOB, body BLOB)
 *   txs(pos INTEGER PRIMARY KEY, id BLOB, height, idx, signer BLOB, seq,
 *       kind, code, message), unique index on id
 *
 * A transaction's row id is its position, height << 20 | index, so the
 * rows of a block are appended in order (cheap sequential B-tree inserts)
 * and read back by a range; the random-looking ids go into a separate,
 * narrow index, which keeps the random part of each insert small.
 *   state(key BLOB PRIMARY KEY, value BLOB)  WITHOUT ROWID
 *   history(key BLOB, pos INTEGER, op INTEGER, vhash BLOB,
 *           PRIMARY KEY(key, pos))  WITHOUT ROWID
 *
 * The history is the audit trail: one row per (key, transaction that
 * changed it), pos being the transaction's txs.pos. Clustered by key, a
 * record's changes are neighbours and read newest first by one backward
 * range. The price is paid at commit: one B-tree insert per row, and
 * since a key's newest rows sit on a page of their own once its history
 * is long, about one dirty leaf page per key a block changes -- more than
 * the state table, whose keys share pages. The executor hands the rows
 * over sorted by (key, pos), so each page is visited once. Signer and tx
 * id are not repeated: the scan joins txs on pos.
 *
 * Durability: journal_mode=WAL with synchronous=FULL syncs the WAL on every
 * commit, so a committed block survives power loss. The writer takes the
 * write lock up front (BEGIN IMMEDIATE) so a block never fails half-way on
 * a busy lock.
 *
 * Every statement is prepared once per connection and reset after use;
 * the hot path (state get/put, tx put) allocates nothing in SQLite's API.
 */
#include "storage/store.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"

enum {
  ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_META_PUT, ST_META_GET, ST_STATE_GET,
  ST_STATE_PUT, ST_STATE_DEL, ST_STATE_SCAN, ST_STATE_SCAN_ALL, ST_BLOCK_PUT,
  ST_BLOCK_GET, ST_BLOCK_GET_HDR, ST_BLOCK_BY_HASH, ST_TIP, ST_TX_PUT,
  ST_TX_GET, ST_TX_SCAN_BLOCK, ST_TX_COUNT, ST_HIST_PUT, ST_HIST_GET,
  ST_HIST_SCAN, ST_HIST_ALL, ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_META_PUT] = "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)",
    [ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [ST_STATE_GET] = "SELECT value FROM state WHERE key = ?1",
    [ST_STATE_PUT] = "INSERT OR REPLACE INTO state(key, value) VALUES (?1, ?2)",
    [ST_STATE_DEL] = "DELETE FROM state WHERE key = ?1",
    [ST_STATE_SCAN] = "SELECT key, value FROM state WHERE key > ?1 AND key < ?2 "
                      "ORDER BY key LIMIT ?3",
    [ST_STATE_SCAN_ALL] = "SELECT key, value FROM state WHERE key > ?1 "
                          "ORDER BY key LIMIT ?3",
    [ST_BLOCK_PUT] = "INSERT INTO blocks(height, hash, state_sum, receipts_hash, header, body) "
                     "VALUES (?1, ?2, ?3, ?6, ?4, ?5)",
    [ST_BLOCK_GET] = "SELECT hash, state_sum, header, body, receipts_hash FROM blocks "
                     "WHERE height = ?1",
    [ST_BLOCK_GET_HDR] = "SELECT hash, state_sum, header, NULL, receipts_hash FROM blocks "
                         "WHERE height = ?1",
    [ST_BLOCK_BY_HASH] = "SELECT height FROM blocks WHERE hash = ?1",
    [ST_TIP] = "SELECT max(height) FROM blocks",
    [ST_TX_PUT] = "INSERT INTO txs(pos, id, height, idx, signer, seq, kind, code, message) "
                  "VALUES (?2 * 1048576 + ?3, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_TX_GET] = "SELECT height, idx, code, message FROM txs WHERE id = ?1",
    [ST_TX_SCAN_BLOCK] = "SELECT id, idx, code, message FROM txs "
                         "WHERE pos >= ?1 * 1048576 AND pos < (?1 + 1) * 1048576 ORDER BY pos",
    [ST_TX_COUNT] = "SELECT count(*) FROM txs",
    [ST_HIST_PUT] = "INSERT INTO history(key, pos, op, vhash) VALUES (?1, ?2, ?3, ?4)",
    [ST_HIST_GET] = "SELECT op, vhash FROM history WHERE key = ?1 AND pos = ?2",
    [ST_HIST_SCAN] = "SELECT h.pos, h.op, h.vhash, t.id, t.signer FROM history h "
                     "LEFT JOIN txs t ON t.pos = h.pos "
                     "WHERE h.key = ?1 AND h.pos < ?2 ORDER BY h.pos DESC LIMIT ?3",
    [ST_HIST_ALL] = "SELECT key, pos, op, vhash FROM history ORDER BY key, pos",
};

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS blocks(height INTEGER PRIMARY KEY,"
    " hash BLOB NOT NULL UNIQUE, state_sum BLOB NOT NULL, receipts_hash BLOB NOT NULL,"
    " header BLOB NOT NULL, body BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS txs(pos INTEGER PRIMARY KEY, id BLOB NOT NULL,"
    " height INTEGER NOT NULL, idx INTEGER NOT NULL, signer BLOB NOT NULL,"
    " seq INTEGER NOT NULL, kind TEXT NOT NULL, code TEXT NOT NULL,"
    " message TEXT NOT NULL);"
    "CREATE UNIQUE INDEX IF NOT EXISTS txs_id ON txs(id);"
    "CREATE TABLE IF NOT EXISTS state(key BLOB PRIMARY KEY, value BLOB NOT NULL)"
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS history(key BLOB NOT NULL, pos INTEGER NOT NULL,"
    " op INTEGER NOT NULL, vhash BLOB, PRIMARY KEY(key, pos)) WITHOUT ROWID;";

struct hanse_store {
  sqlite3 *db;
  sqlite3_stmt *st[ST_COUNT];
  int readonly;
  int failed;
  int in_txn;
};

sqlite3 *hanse_store_db(hanse_store *s) { return s->db; }
int hanse_store_failed(const hanse_store *s) { return s->failed; }

/* Classify an SQLite result: I/O-class errors make the store sticky-failed. */
static int store_fail(hanse_store *s, int src, const char *what) {
  int prim = src & 0xff;
  if (prim == SQLITE_IOERR || prim == SQLITE_FULL || prim == SQLITE_CORRUPT ||
      prim == SQLITE_NOTADB || prim == SQLITE_CANTOPEN || prim == SQLITE_READONLY ||
      prim == SQLITE_NOMEM) {
    if (!s->readonly && !s->failed)
      HANSE_ERROR("store: %s failed (%s); refusing writes until restart", what,
                  sqlite3_errstr(src));
    if (!s->readonly) s->failed = 1;
    return HANSE_ERR(IO);
  }
  if (prim == SQLITE_CONSTRAINT) return HANSE_ERR(INVALID);
  HANSE_ERROR("store: %s: %s", what, sqlite3_errmsg(s->db));
  return HANSE_ERR(INTERNAL);
}

static sqlite3_stmt *stmt(hanse_store *s, int which) {
  sqlite3_stmt *st = s->st[which];
  if (st == NULL) {
    int rc = sqlite3_prepare_v3(s->db, stmt_sql[which], -1,
                                SQLITE_PREPARE_PERSISTENT, &s->st[which], NULL);
    if (rc != SQLITE_OK) {
      HANSE_ERROR("store: prepare %s: %s", stmt_sql[which], sqlite3_errmsg(s->db));
      return NULL;
    }
    st = s->st[which];
  }
  return st;
}

static int exec_simple(hanse_store *s, int which, const char *what) {
  sqlite3_stmt *st = stmt(s, which);
  if (st == NULL) return HANSE_ERR(INTERNAL);
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) return store_fail(s, rc, what);
  return HANSE_OK;
}

int hanse_store_open(const char *path, int flags, const char *vfs,
                     hanse_store **out, hanse_reject *rej) {
  *out = NULL;
  hanse_store *s = calloc(1, sizeof *s);
  if (s == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  s->readonly = (flags & HANSE_STORE_READONLY) != 0;
  int oflags = SQLITE_OPEN_NOMUTEX;
  if (flags & HANSE_STORE_MEMORY) {
    path = ":memory:";
    oflags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    s->readonly = 0;
  } else if (s->readonly) {
    oflags |= SQLITE_OPEN_READONLY;
  } else {
    oflags |= SQLITE_OPEN_READWRITE;
    if (flags & HANSE_STORE_CREATE) oflags |= SQLITE_OPEN_CREATE;
  }
  int rc = sqlite3_open_v2(path, &s->db, oflags, vfs);
  if (rc != SQLITE_OK) {
    hanse_reject_set(rej, HANSE_ERR(IO), "cannot open %s: %s", path,
                     s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
    sqlite3_close(s->db);
    free(s);
    return HANSE_ERR(IO);
  }
  sqlite3_busy_timeout(s->db, 5000);
  sqlite3_extended_result_codes(s->db, 1);
  char *err = NULL;
  const char *pragmas = s->readonly ? "PRAGMA query_only=1;"
                                    : "PRAGMA journal_mode=WAL;"
                                      "PRAGMA synchronous=FULL;"
                                      "PRAGMA foreign_keys=OFF;";
  if (!(flags & HANSE_STORE_MEMORY) || !s->readonly) {
    rc = sqlite3_exec(s->db, pragmas, NULL, NULL, &err);
    if (rc == SQLITE_OK && !s->readonly)
      rc = sqlite3_exec(s->db, "PRAGMA cache_size=-65536;", NULL, NULL, &err);
    if (rc == SQLITE_OK && !s->readonly)
      rc = sqlite3_exec(s->db, schema_sql, NULL, NULL, &err);
  }
  if (rc != SQLITE_OK) {
    hanse_reject_set(rej, HANSE_ERR(IO), "cannot prepare %s: %s", path,
                     err ? err : sqlite3_errstr(rc));
    sqlite3_free(err);
    hanse_store_close(s);
    return HANSE_ERR(IO);
  }
  *out = s;
  return HANSE_OK;
}

void hanse_store_close(hanse_store *s) {
  if (s == NULL) return;
  for (int i = 0; i < ST_COUNT; i++) sqlite3_finalize(s->st[i]);
  sqlite3_close(s->db);
  free(s);
}

int hanse_store_checkpoint(hanse_store *s) {
  int log = 0, done = 0;
  int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
  if (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return HANSE_OK;
  HANSE_WARN("store: checkpoint: %s", sqlite3_errstr(rc));
  return HANSE_ERR(IO);
}

int hanse_store_begin(hanse_store *s) {
  HANSE_ASSERT(!s->readonly);
  HANSE_ASSERT(!s->in_txn);
  if (s->failed) return HANSE_ERR(STORE_FAILED);
  int rc = exec_simple(s, ST_BEGIN, "begin");
  if (rc == HANSE_OK) s->in_txn = 1;
  return rc;
}

int hanse_store_commit(hanse_store *s) {
  HANSE_ASSERT(s->in_txn);
  if (s->failed) {
    hanse_store_rollback(s);
    return HANSE_ERR(STORE_FAILED);
  }
  int rc = exec_simple(s, ST_COMMIT, "commit");
  if (rc != HANSE_OK) {
    /* A failed COMMIT may leave the transaction open: roll it back so the
     * database holds none of the block. */
    hanse_store_rollback(s);
    return rc;
  }
  s->in_txn = 0;
  return HANSE_OK;
}

void hanse_store_rollback(hanse_store *s) {
  if (!s->in_txn) return;
  if (sqlite3_get_autocommit(s->db) == 0) exec_simple(s, ST_ROLLBACK, "rollback");
  s->in_txn = 0;
}

#define WRITE_GUARD(s)                                   \
  do {                                                   \
    HANSE_ASSERT(!(s)->readonly);                        \
    if ((s)->failed) return HANSE_ERR(STORE_FAILED);     \
  } while (0)

int hanse_store_meta_put(hanse_store *s, const char *key, const char *value) {
  WRITE_GUARD(s);
  sqlite3_stmt *st = stmt(s, ST_META_PUT);
  if (st == NULL) return HANSE_ERR(INTERNAL);
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return rc == SQLITE_DONE ? HANSE_OK : store_fail(s, rc, "meta put");
}

int hanse_store_meta_get(hanse_store *s, const char *key, hanse_buf *value) {
  sqlite3_stmt *st = stmt(s, ST_META_GET);
  if (st == NULL) return HANSE_ERR(INTERNAL);
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  int out = HANSE_ERR(NOT_FOUND);
  if (rc == SQLITE_ROW) {
    hanse_buf_reset(value);
    hanse_buf_put(value, sqlite3_column_text(st, 0),
                  (size_t)sqlite3_column_bytes(st, 0));
    hanse_buf_u8(value, 0);
    value->len--;
    out = hanse_buf_status(value);
  } else if (rc != SQLITE_DONE) {
    out = store_fail(s, rc, "meta get");
  }
  sqlite3_reset(st);
  return out;
}

int hanse_store_state_get(hanse_store *s, const void *key, size_t klen,
                          hanse_buf *val, int *found) {
  sqlite3_stmt *st = stmt(s, ST_STATE_GET);
  if (st == NULL) return HANSE_ERR(INTERNAL);
  *found = 0;
  sqlite3_bind_blob(st, 1, key, (int)klen, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  int out = HANSE_OK;
  hanse_buf_reset(val);
  if (rc == SQLITE_ROW) {
    *found = 1;
    hanse_buf_put(val, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
    out = hanse_buf_status(val);
  } else if (rc != SQLITE_DONE) {
    out = store_fail(s, rc, "state get");
  }
  sqlite3_reset(st);
  return out;
}

int hanse_store_state_put(hanse_store *s, const void *key, size_t klen,
                          const void *val, size_t vlen) {
  WRITE_GUARD(s);
  sqlite3_stmt *st = stmt(s, ST_STATE_PUT);
  if (st == NULL) return HANSE_ERR(INTERNAL);
  sqlite3_bind_blob(st, 1, key, (int)klen, SQLITE_STATIC);
  sqlite3_bind_blob(st, 2, vlen ? val : "", (int)vlen, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? HANSE_OK : store_fail(s, rc, "state put");
}

int hanse_store_state_del(hanse_store *s, const void *key, size_t klen) {
  WRITE_GUARD(s);
  sqlite3_stmt *st = stmt(s, ST_STATE_DEL);
  if (st == NULL) return HANSE_ERR(INTERNAL);
  sqlite3_bind_blob(st, 1, key, (int)klen, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? HANSE_OK : store_fail(s, rc, "state delete");
}

int hanse_store_state_scan(hanse_store *s, const void *prefix, size_t plen,
                           const void *after, size_t alen, int limit,
                           hanse_state_visit_fn fn, void *ctx) {
  /* Upper bound: the prefix with its last non-0xff byte incremented. With
   * an empty prefix (or all 0xff) scan to the end. */
  uint8_t hi[256];
  size_t hlen = plen < sizeof hi ? plen : 0;
  if (plen >= sizeof hi) return HANSE_ERR(INVALID);
  memcpy(hi, prefix, plen);
  while (hlen > 0 && hi[hlen - 1] == 0xff) hlen--;
  int open_end = hlen == 0;
  if (!open_end) hi[hlen - 1]++;
  sqlite3_stmt *st = stmt(s, open_end ? ST_STATE_SCAN_ALL : ST_STATE_SCAN);
  if (st == NULL) return HANSE_ERR(INTERNAL);
  /* Start strictly after `after`, or at the prefix itself: "key > x" with
   * x = prefix minus nothing needs a value just below the prefix; binding
   * the prefix and also accepting equality would need another statement,
   * so a key equal to the prefix is found by a first exact get instead. */
  if (!(after && alen) && limit != 0) {
    /* (copied out first: fn may read this connection again) */
    hanse_buf v;
    hanse_buf_init(&v);
    int found = 0;
    int grc = hanse_store_state_get(s, prefix, plen, &v, &found);
    int stop = grc == HANSE_OK && found &&
               fn(ctx, prefix, plen, v.len ? v.data : (const uint8_t *)"", v.len);
    hanse_buf_free(&v);
    if (grc != HANSE_OK) return grc;
    if (stop) return HANSE_OK;
    if (found && limit > 0) limit--;
  }
  if (after && alen)
    sqlite3_bind_blob(st, 1, after, (int)alen, SQLITE_STATIC);
  else
    sqlite3_bind_blob(st, 1, prefix, (int)plen, SQLITE_STATIC);
  if (!open_end) sqlite3_bind_blob(st, 2, hi, (int)hlen, SQLITE_STATIC);
  sqlite3_bind_int(st, 3, limit);
  int rc, out = HANSE_OK;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const uint8_t *k = sqlite3_column_blob(st, 0);
    size_t kl = (size_t)sqlite3_column_bytes(st, 0);
    const uint8_t *v = sqlite3_column_blob(st, 1);
    size_t vl = (size_t)sqlite3_column_bytes(st, 1);
    if (kl < plen || memcmp(k, prefix, plen) != 0) break;
    if (fn(ctx, k, kl, v, vl)) break;
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) out = store_fail(s, rc, "state scan");
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return out;
}

int hanse_store_block_put(hanse_store *s, uint64_t height, const hanse_hash *hash,
                          const hanse_hash *state_sum,
                          const hanse_hash *receipts_hash, const uint8_t *header,
                          size_t hlen, const uint8_t *body, size_t blen) {
  WRITE_GUARD(s);
  sqlite3_stmt *st = stmt(s, ST_BLOCK_PUT);
  if (st == NULL) return HANSE_ERR(INTERNAL);
  sqlite3_bind_int64(st, 1, (sqlite3_int64)height);
  sqlite3_bind_blob(st, 2, hash->b, HANSE_HASH_BYTES, SQLITE_STATIC);
  sqlite3_bind_blob(st, 3, state_sum->b, HANSE_HASH_BYTES, SQLITE_STATIC);
  sqlite3_bind_blob(st, 4, header, (int)hlen, SQLITE_STATIC);
  sqlite3_bind_blob(st, 5, blen ? (const void *)body : "", (int)blen, SQLITE_STATIC);
  sqlite3_bind_blob(st, 6, receipts_hash->b, HANSE_HASH_BYTES, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return rc == SQLITE_DONE ? HANSE_OK : store_fail(s, rc, "block put");
}

static uint8_t *dup_blob(const void *p, size_t n) {
  uint8_t *d = malloc(n ? n : 1);
  if (d && n) memcpy(d, p, n);
  return d;
}

int hanse_store_block_get(hanse_store *s, uint64_t height, int with_body,
                          hanse_block_row *row) {
  memset(row, 0, sizeof *row);
  sqlite3_stmt *st = stmt(s, with_body ? ST_BLOCK_GET : ST_BLOCK_GET_HDR);
  if (st == NULL) return HANSE_ERR(INTERNAL);
  sqlite3_bind_int64(st, 1, (sqlite3_int64)height);
  int rc = sqlite3_step(st), out = HANSE_ERR(NOT_FOUND);
  if (rc == SQLITE_ROW) {
    out = HANSE_OK;
    row->height = height;
    if (sqlite3_column_bytes(st, 0) != HANSE_HASH_BYTES ||
        sqlite3_column_bytes(st, 1) != HANSE_HASH_BYTES ||
        sqlite3_column_bytes(st, 4) != HANSE_HASH_BYTES) {
      out = HANSE_ERR(CHAIN_BROKEN);
    } else {
      memcpy(row->hash.b, sqlite3_column_blob(st, 0), HANSE_HASH_BYTES);
      memcpy(row->state_sum.b, sqlite3_column_blob(st, 1), HANSE_HASH_BYTES);
      memcpy(row->receipts_hash.b, sqlite3_column_blob(st, 4), HANSE_HASH_BYTES);
      row->header_len = (size_t)sqlite3_column_bytes(st, 2);
      row->header = dup_blob(sqlite3_column_blob(st, 2), row->header_len);
      if (with_body) {
        row->body_len = (size_t)sqlite3_column_bytes(st, 3);
        row->body = dup_blob(sqlite3_column_blob(st, 3), row->body_len);
      }
      if (row->header == NULL || (with_body && row->body == NULL)) out = HANSE_ERR(NOMEM);
    }
  } else if (rc != SQLITE_DONE) {
    out = store_fail(s, rc, "block get");
  }
  sqlite3_reset(st);
  if (out != HANSE_OK) hanse_block_row_free(row);
  return out;
}

int hanse_store_block_by_hash(hanse_store *s, const hanse_hash *hash,
                              uint64_t *height) {
  sqlite3_stmt *st = stmt(s, ST_BLOCK_BY_HASH);
  if (st == NULL) return HANSE_ERR(INTERNAL);
  sqlite3_bind_blob(st, 1, hash->b, HANSE_HASH_BYTES, SQLITE_STATIC);
  int rc = sqlite3_step(st), out = HANSE_ERR(NOT_FOUND);
  if (rc == SQLITE_ROW) {
    *height = (uint64_t)sqlite3_column_int64(st, 0);
    out = HANSE_OK;
  } else if (rc != SQLITE_DONE) {
    out = store_fail(s, rc, "block by hash");
  }
  sqlite3_reset(st);
  return out;
}

void hanse_block_row_free(hanse_block_row *row) {
  free(row->header);
  free(row->body);
  row->header = row->body = NULL;
}

int hanse_store_tip(hanse_store *s, uint64_t *height) {
  sqlite3_stmt *st = stmt(s, ST_TIP);
  if (st == NULL) return HANSE_ERR(INTERNAL);
  int rc = sqlite3_step(st), out = HANSE_ERR(NOT_FOUND);
  if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
    *height = (uint64_t)sqlite3_column_int64(st, 0);
    out = HANSE_OK;
  } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    out = store_fail(s, rc, "tip");
  }
  sqlite3_reset(st);
  return out;
}

int hanse_store_tx_put(hanse_store *s, const hanse_receipt *r,
                       const hanse_pubkey *signer, uint64_t seq,
                       const char *kind) {
  WRITE_GUARD(s);
  sqlite3_stmt *st = stmt(s, ST_TX_PUT);
  if (st == NULL) return HANSE_ERR(INTERNAL);
  sqlite3_bind_blob(st, 1, r->id.b, HANSE_HASH_BYTES, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)r->height);
  sqlite3_bind_int64(st, 3, r->index);
  sqlite3_bind_blob(st, 4, signer->b, HANSE_PUBKEY_BYTES, SQLITE_STATIC);
  sqlite3_bind_int64(st, 5, (sqlite3_int64)seq);
  sqlite3_bind_text(st, 6, kind, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 7, r->code, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 8, r->message, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? HANSE_OK : store_fail(s, rc, "tx put");
}

static void receipt_from_row(sqlite3_stmt *st, int code_col, hanse_receipt *r) {
  const char *code = (const char *)sqlite3_column_text(st, code_col);
  const char *msg = (const char *)sqlite3_column_text(st, code_col + 1);
  snprintf(r->code, sizeof r->code, "%s", code ? code : "");
  snprintf(r->message, sizeof r->message, "%s", msg ? msg : "");
}

int hanse_store_tx_get(hanse_store *s, const hanse_hash *id, hanse_receipt *r) {
  sqlite3_stmt *st = stmt(s, ST_TX_GET);
  if (st == NULL) return HANSE_ERR(INTERNAL);
  memset(r, 0, sizeof *r);
  sqlite3_bind_blob(st, 1, id->b, HANSE_HASH_BYTES, SQLITE_STATIC);
  int rc = sqlite3_step(st), out = HANSE_ERR(NOT_FOUND);
  if (rc == SQLITE_ROW) {
    r->id = *id;
    r->height = (uint64_t)sqlite3_column_int64(st, 0);
    r->index = (uint32_t)sqlite3_column_int64(st, 1);
    receipt_from_row(st, 2, r);
    out = HANSE_OK;
  } else if (rc != SQLITE_DONE) {
    out = store_fail(s, rc, "tx get");
  }
  sqlite3_reset(st);
  return out;
}

int hanse_store_tx_scan_block(hanse_store *s, uint64_t height,
                              hanse_receipt_visit_fn fn, void *ctx) {
  sqlite3_stmt *st = stmt(s, ST_TX_SCAN_BLOCK);
  if (st == NULL) return HANSE_ERR(INTERNAL);
  sqlite3_bind_int64(st, 1, (sqlite3_int64)height);
  int rc, out = HANSE_OK;
  hanse_receipt r;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    memset(&r, 0, sizeof r);
    if (sqlite3_column_bytes(st, 0) == HANSE_HASH_BYTES)
      memcpy(r.id.b, sqlite3_column_blob(st, 0), HANSE_HASH_BYTES);
    r.height = height;
    r.index = (uint32_t)sqlite3_column_int64(st, 1);
    receipt_from_row(st, 2, &r);
    if (fn(ctx, &r)) break;
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) out = store_fail(s, rc, "tx scan");
  sqlite3_reset(st);
  return out;
}

int hanse_store_tx_count(hanse_store *s, uint64_t *count) {
  sqlite3_stmt *st = stmt(s, ST_TX_COUNT);
  if (st == NULL) return HANSE_ERR(INTERNAL);
  int rc = sqlite3_step(st), out = HANSE_OK;
  if (rc == SQLITE_ROW)
    *count = (uint64_t)sqlite3_column_int64(st, 0);
  else
    out = store_fail(s, rc, "tx count");
  sqlite3_reset(st);
  return out;
}

/* ---- the audit trail ---- */

/* op and vhash from columns `col` and col + 1. */
static void history_from_row(sqlite3_stmt *st, int col, hanse_history_row *r) {
  r->op = sqlite3_column_int(st, col);
  r->has_vhash = sqlite3_column_bytes(st, col + 1) == HANSE_HASH_BYTES;
  if (r->has_vhash)
    memcpy(r->vhash.b, sqlite3_column_blob(st, col + 1), HANSE_HASH_BYTES);
  else
    memset(r->vhash.b, 0, HANSE_HASH_BYTES);
}

int hanse_store_history_put(hanse_store *s, const hanse_history_row *r) {
  WRITE_GUARD(s);
  HANSE_ASSERT(r->op == HANSE_HISTORY_PUT || r->op == HANSE_HISTORY_DEL);
  HANSE_ASSERT(r->pos <= (uint64_t)INT64_MAX);
  sqlite3_stmt *st = stmt(s, ST_HIST_PUT);
  if (st == NULL) return HANSE_ERR(INTERNAL);
  sqlite3_bind_blob(st, 1, r->klen ? (const void *)r->key : "", (int)r->klen, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)r->pos);
  sqlite3_bind_int(st, 3, r->op);
  if (r->has_vhash)
    sqlite3_bind_blob(st, 4, r->vhash.b, HANSE_HASH_BYTES, SQLITE_STATIC);
  else
    sqlite3_bind_null(st, 4);
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? HANSE_OK : store_fail(s, rc, "history put");
}

int hanse_store_history_get(hanse_store *s, const void *key, size_t klen,
                            uint64_t pos, hanse_history_row *r) {
  sqlite3_stmt *st = stmt(s, ST_HIST_GET);
  if (st == NULL) return HANSE_ERR(INTERNAL);
  r->key = key;
  r->klen = klen;
  r->pos = pos;
  sqlite3_bind_blob(st, 1, klen ? key : "", (int)klen, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)pos);
  int rc = sqlite3_step(st), out = HANSE_ERR(NOT_FOUND);
  if (rc == SQLITE_ROW) {
    history_from_row(st, 0, r);
    out = HANSE_OK;
  } else if (rc != SQLITE_DONE) {
    out = store_fail(s, rc, "history get");
  }
  sqlite3_reset(st);
  return out;
}

int hanse_store_history_scan(hanse_store *s, const void *key, size_t klen,
                             uint64_t before, int limit,
                             hanse_history_visit_fn fn, void *ctx) {
  HANSE_ASSERT(limit >= 1);
  sqlite3_stmt *st = stmt(s, ST_HIST_SCAN);
  if (st == NULL) return HANSE_ERR(INTERNAL);
  if (before > (uint64_t)INT64_MAX) before = (uint64_t)INT64_MAX;
  sqlite3_bind_blob(st, 1, klen ? key : "", (int)klen, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)before);
  sqlite3_bind_int(st, 3, limit);
  int rc, out = HANSE_OK;
  hanse_history_change c;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    memset(&c, 0, sizeof c);
    c.row.key = key;
    c.row.klen = klen;
    c.row.pos = (uint64_t)sqlite3_column_int64(st, 0);
    history_from_row(st, 1, &c.row);
    c.has_tx = sqlite3_column_bytes(st, 3) == HANSE_HASH_BYTES &&
               sqlite3_column_bytes(st, 4) == HANSE_PUBKEY_BYTES;
    if (c.has_tx) {
      memcpy(c.tx_id.b, sqlite3_column_blob(st, 3), HANSE_HASH_BYTES);
      memcpy(c.signer.b, sqlite3_column_blob(st, 4), HANSE_PUBKEY_BYTES);
    }
    if (fn(ctx, &c)) break;
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) out = store_fail(s, rc, "history scan");
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return out;
}

int hanse_store_history_scan_all(hanse_store *s, hanse_history_visit_fn fn,
                                 void *ctx) {
  sqlite3_stmt *st = stmt(s, ST_HIST_ALL);
  if (st == NULL) return HANSE_ERR(INTERNAL);
  int rc, out = HANSE_OK;
  hanse_history_change c;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    memset(&c, 0, sizeof c);
    c.row.key = sqlite3_column_blob(st, 0);
    c.row.klen = (size_t)sqlite3_column_bytes(st, 0);
    if (c.row.key == NULL) c.row.key = (const uint8_t *)"";
    c.row.pos = (uint64_t)sqlite3_column_int64(st, 1);
    history_from_row(st, 2, &c.row);
    if (fn(ctx, &c)) break;
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) out = store_fail(s, rc, "history scan");
  sqlite3_reset(st);
  return out;
}
