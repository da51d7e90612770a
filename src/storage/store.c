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
 *   state(id INTEGER PRIMARY KEY, key BLOB UNIQUE, value BLOB)
 *
 * The state's keys are in an index of their own, its values in a rowid
 * table: a key's search compares keys only. (In a WITHOUT ROWID table,
 * key and value made one record, and a search that met a record larger
 * than a page -- a books/je journal chunk, ~14 KB -- read the whole record
 * through its overflow pages to compare the key: about half of the
 * state B-tree's search time in the ledger benchmark. A new key's row is
 * appended to the table; an update leaves the key's index entry alone.)
 *   history_blocks(height INTEGER PRIMARY KEY, rows BLOB)
 *   certs(height INTEGER, signer BLOB, sig BLOB, PRIMARY KEY(height, signer))
 *                WITHOUT ROWID
 *
 * certs holds the validators' signatures on each block's hash (commit
 * certificates, encoding/cert.h): this node's own, written in the block's
 * transaction, and other nodes' as they arrive, each in a small
 * transaction of its own. Only signatures already verified against the
 * block's hash are stored (the caller checks); the first signature of a
 * (height, signer) wins, and a block hash is not repeated -- the block
 * row has it.
 *
 * The audit trail has one row per (key, transaction that changed it) --
 * 30,000 in a block of 10,000 transfers -- and the commit path pays for
 * what it inserts into a key-ordered B-tree: an earlier layout with one
 * table row per history row took a third off the throughput. So a block's
 * rows go into ONE history_blocks row, serialized in (key, index) order
 * (store.h): an append at the end of a rowid table, whatever its size.
 * Within it each key is written once, as a group header followed by its
 * rows: a benchmark block of 10,000 transfers touches ~55 keys of 68 to 79
 * bytes 30,000 times, and repeating the key in every row made its blob
 * three times larger (3.43 MB instead of 1.11 MB), all of it written to
 * the WAL and synced with the block.
 *
 *   group:  u16 klen | key | u32 count | row x count     (groups by key)
 *   row:    u32 index | u8 op | [32-byte SHA-256, puts]  (rows by index)
 *
 * What a query walks is a key row per group, a derived index row
 * (store.h; store_index.c writes them with the block's module index rows):
 * a record's blocks, newest first by a prefix scan, and in each
 * the key's group, found by walking the block's groups in key order --
 * hopping over each group's rows by its count, reading one op byte per
 * row to know its length -- and stopping at or past the key. Reading a
 * record's history thus loads whole blocks' rows, a price paid by the rare
 * query instead of every commit. Signer and tx id are not repeated: the
 * scan looks them up in txs by position.
 *
 * The serialization is canonical: the reader refuses every departure from
 * the one layout a list of rows has (a count of 0, keys repeated or out of
 * order, indexes out of order in a group, bytes left over), so two byte
 * strings that read as the same rows are the same bytes, and the audit can
 * compare them byte for byte. A stored serialization is data; the reader
 * returns CHAIN_BROKEN for it, never asserts.
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

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "storage/store_internal.h"

enum {
  ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_META_PUT, ST_META_GET, ST_STATE_GET,
  ST_STATE_PUT, ST_STATE_UPDATE, ST_STATE_INSERT, ST_STATE_DEL, ST_STATE_SCAN, ST_STATE_SCAN_ALL, ST_BLOCK_PUT,
  ST_BLOCK_GET, ST_BLOCK_GET_HDR, ST_BLOCK_BY_HASH, ST_TIP, ST_TX_PUT,
  ST_TX_GET, ST_TX_SCAN_BLOCK, ST_TX_COUNT, ST_TX_WHO, ST_HBLOCK_PUT,
  ST_HBLOCK_GET, ST_HBLOCK_COUNT, ST_CERT_PUT, ST_CERT_SCAN, ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_META_PUT] = "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)",
    [ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [ST_STATE_GET] = "SELECT value FROM state WHERE key = ?1",
    [ST_STATE_PUT] = "INSERT INTO state(key, value) VALUES (?1, ?2) "
                     "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [ST_STATE_UPDATE] = "UPDATE state SET value = ?2 WHERE key = ?1",
    [ST_STATE_INSERT] = "INSERT INTO state(key, value) VALUES (?1, ?2)",
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
    [ST_TX_WHO] = "SELECT id, signer FROM txs WHERE pos = ?1",
    [ST_HBLOCK_PUT] = "INSERT INTO history_blocks(height, rows) VALUES (?1, ?2)",
    [ST_HBLOCK_GET] = "SELECT rows FROM history_blocks WHERE height = ?1",
    [ST_HBLOCK_COUNT] = "SELECT count(*) FROM history_blocks",
    [ST_CERT_PUT] = "INSERT OR IGNORE INTO certs(height, signer, sig) VALUES (?1, ?2, ?3)",
    [ST_CERT_SCAN] = "SELECT height, signer, sig FROM certs WHERE height >= ?1 AND height <= ?2 "
                     "ORDER BY height, signer",
};

/* The tables whose rows hold values larger than a page: rowid tables,
 * their keys in a unique index (see "The state's keys" above). */
#define STATE_COLS "(id INTEGER PRIMARY KEY, key BLOB NOT NULL UNIQUE, value BLOB NOT NULL)"
#define IDX_CHUNKS_COLS \
  "(id INTEGER PRIMARY KEY, first BLOB NOT NULL UNIQUE, last BLOB NOT NULL, rows BLOB NOT NULL)"
#define IDX_LOG_COLS                                                                   \
  "(id INTEGER PRIMARY KEY, height INTEGER NOT NULL, first BLOB NOT NULL, rows BLOB NOT NULL," \
  " UNIQUE(height, first))"

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
    "CREATE TABLE IF NOT EXISTS state" STATE_COLS ";"
    "CREATE TABLE IF NOT EXISTS history_blocks(height INTEGER PRIMARY KEY,"
    " rows BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS certs(height INTEGER NOT NULL, signer BLOB NOT NULL,"
    " sig BLOB NOT NULL, PRIMARY KEY(height, signer)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS idx_chunks" IDX_CHUNKS_COLS ";"
    "CREATE TABLE IF NOT EXISTS idx_log" IDX_LOG_COLS ";";

struct hanse_store {
  sqlite3 *db;
  sqlite3_stmt *st[ST_COUNT];
  int readonly;
  int failed;
  int in_txn;
  store_index ix;  /* the derived indexes (store_index.c) */
  /* The writer's WAL: frames in use after its last commit (set on the
   * committing thread, read on others), and the passive checkpoint it
   * makes itself past this many (0: none). */
  atomic_llong wal_frames;
  int wal_autocheckpoint;
  int page_size;
};

store_index *store_index_of(hanse_store *s) { return &s->ix; }

sqlite3 *hanse_store_db(hanse_store *s) { return s->db; }
int hanse_store_failed(const hanse_store *s) { return s->failed; }

/* Classify an SQLite result: I/O-class errors make the store sticky-failed. */
int store_fail(hanse_store *s, int src, const char *what) {
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

/* SQLite's wal hook after every commit of the writer: the frames in use,
 * and the fallback checkpoint SQLite's own hook would make (setting a
 * hook replaces it). */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames) {
  hanse_store *s = arg;
  atomic_store(&s->wal_frames, frames);
  if (s->wal_autocheckpoint > 0 && frames >= s->wal_autocheckpoint)
    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
  return SQLITE_OK;
}

void hanse_store_set_wal_autocheckpoint(hanse_store *s, int pages) {
  s->wal_autocheckpoint = pages;
}

long long hanse_store_wal_bytes(hanse_store *s) {
  return atomic_load(&s->wal_frames) * (long long)s->page_size;
}

/* SQLite's process-wide settings, before its first use: no memory
 * statistics, whose global mutex every allocation took (~5 % of the
 * committer in a profile of the ledger benchmark: B-tree seeks allocate
 * to compare records that spill to overflow pages). If SQLite was
 * already initialized by someone else, the call fails and the defaults
 * stay: correct, only slower. */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;
static void sqlite_setup(void) {
  (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int store_table_has(hanse_store *s, const char *table, int without_rowid, int *has) {
  sqlite3_stmt *st = NULL;
  *has = 0;
  int src = sqlite3_prepare_v2(s->db,
                               without_rowid
                                   ? "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND "
                                     "name = ?1 AND sql LIKE '%WITHOUT ROWID%'"
                                   : "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                               -1, &st, NULL);
  if (src == SQLITE_OK) sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
  if (src == SQLITE_OK) src = sqlite3_step(st);
  sqlite3_finalize(st);
  *has = src == SQLITE_ROW;
  return src == SQLITE_ROW || src == SQLITE_DONE ? HANSE_OK : store_fail(s, src, "schema read");
}

int hanse_store_unmigrated(hanse_store *s, int *old) {
  return store_table_has(s, "history_keys", 0, old);
}

/* Chains written before kept the state and the index packs in WITHOUT
 * ROWID tables (key and value one record): each such table's rows move
 * to its rowid table above, in key order, in one transaction. */
static int rowid_migrate(hanse_store *s, const char *table, const char *cols,
                         const char *names, const char *order) {
  int has;
  int rc = store_table_has(s, table, 1, &has);
  if (rc != HANSE_OK || !has) return rc;
  char *sql = sqlite3_mprintf("BEGIN IMMEDIATE;"
                              "CREATE TABLE %s_rows%s;"
                              "INSERT INTO %s_rows(%s) SELECT %s FROM %s ORDER BY %s;"
                              "DROP TABLE %s;"
                              "ALTER TABLE %s_rows RENAME TO %s;"
                              "COMMIT",
                              table, cols, table, names, names, table, order, table, table, table);
  int src = sql ? sqlite3_exec(s->db, sql, NULL, NULL, NULL) : SQLITE_NOMEM;
  sqlite3_free(sql);
  if (src == SQLITE_OK) return HANSE_OK;
  HANSE_ERROR("store: cannot move %s to its rowid table: %s", table, sqlite3_errmsg(s->db));
  if (sqlite3_get_autocommit(s->db) == 0) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
  return store_fail(s, src, "table migration");
}

static int state_migrate(hanse_store *s) {
  int rc = rowid_migrate(s, "state", STATE_COLS, "key, value", "key");
  if (rc == HANSE_OK)
    rc = rowid_migrate(s, "idx_chunks", IDX_CHUNKS_COLS, "first, last, rows", "first");
  if (rc == HANSE_OK)
    rc = rowid_migrate(s, "idx_log", IDX_LOG_COLS, "height, first, rows", "height, first");
  return rc;
}

int hanse_store_open(const char *path, int flags, const char *vfs,
                     hanse_store **out, hanse_reject *rej) {
  *out = NULL;
  pthread_once(&sqlite_once, sqlite_setup);
  hanse_store *s = calloc(1, sizeof *s);
  if (s == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  store_index_init(&s->ix);
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
    if (rc == SQLITE_OK && (!s->readonly || (flags & HANSE_STORE_EXEC)))
      rc = sqlite3_exec(s->db, "PRAGMA cache_size=-65536;", NULL, NULL, &err);
    if (rc == SQLITE_OK && (flags & HANSE_STORE_EXEC))
      rc = sqlite3_exec(s->db, "PRAGMA mmap_size=4294967296;", NULL, NULL, &err);
    if (rc == SQLITE_OK && !s->readonly)
      rc = sqlite3_exec(s->db, schema_sql, NULL, NULL, &err);
  }
  if (rc == SQLITE_OK && !s->readonly && state_migrate(s) != HANSE_OK) rc = SQLITE_ERROR;
  if (rc == SQLITE_OK && !s->readonly && store_index_migrate(s) != HANSE_OK)
    rc = SQLITE_ERROR;
  if (rc == SQLITE_OK && !s->readonly) {
    sqlite3_stmt *ps = NULL;
    s->page_size = 4096;
    if (sqlite3_prepare_v2(s->db, "PRAGMA page_size", -1, &ps, NULL) == SQLITE_OK &&
        sqlite3_step(ps) == SQLITE_ROW)
      s->page_size = sqlite3_column_int(ps, 0);
    sqlite3_finalize(ps);
    s->wal_autocheckpoint = 1000; /* SQLite's default */
    sqlite3_wal_hook(s->db, wal_hook, s);
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
  store_index_close(&s->ix);
  sqlite3_close(s->db);
  free(s);
}

/* A checkpoint of the given mode; readers it waited for in vain (BUSY,
 * LOCKED) only defer it. */
static int checkpoint(hanse_store *s, int mode, const char *what) {
  int log = 0, done = 0;
  int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, mode, &log, &done);
  if (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return HANSE_OK;
  HANSE_WARN("store: %s: %s", what, sqlite3_errstr(rc));
  return HANSE_ERR(IO);
}

int hanse_store_checkpoint(hanse_store *s) {
  return checkpoint(s, SQLITE_CHECKPOINT_PASSIVE, "checkpoint");
}

int hanse_store_checkpoint_restart(hanse_store *s) {
  HANSE_ASSERT(!s->readonly);
  if (s->in_txn) return HANSE_OK; /* not now: the next call */
  /* wait briefly: a reader still busy (a long query) only defers it to
   * the next call */
  sqlite3_busy_timeout(s->db, 20);
  int rc = checkpoint(s, SQLITE_CHECKPOINT_RESTART, "checkpoint (restart)");
  sqlite3_busy_timeout(s->db, 5000);
  return rc;
}

int hanse_store_begin(hanse_store *s) {
  HANSE_ASSERT(!s->readonly);
  HANSE_ASSERT(!s->in_txn);
  if (s->failed) return HANSE_ERR(STORE_FAILED);
  int rc = exec_simple(s, ST_BEGIN, "begin");
  if (rc == HANSE_OK) {
    s->in_txn = 1;
    store_index_begin(&s->ix);
  }
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
  store_index_rollback(&s->ix); /* the block's index rows are gone */
}

int hanse_store_read_begin(hanse_store *s) {
  HANSE_ASSERT(s->readonly && !s->in_txn);
  int rc = sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL);
  if (rc != SQLITE_OK) {
    HANSE_ERROR("store: read begin: %s", sqlite3_errmsg(s->db));
    return HANSE_ERR(IO);
  }
  s->in_txn = 1;
  return HANSE_OK;
}

void hanse_store_read_end(hanse_store *s) {
  if (!s->in_txn) return;
  if (sqlite3_get_autocommit(s->db) == 0) sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
  s->in_txn = 0;
}

#define WRITE_GUARD(s)                                   \
  do {                                                   \
    HANSE_ASSERT(!(s)->readonly);                        \
    if ((s)->failed) return HANSE_ERR(STORE_FAILED);     \
  } while (0)

int store_writable(hanse_store *s) {
  WRITE_GUARD(s);
  return HANSE_OK;
}

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

/* One statement of a put: SQLITE_DONE, SQLITE_CONSTRAINT (the key is
 * there already, for an insert) or an error; *changed, the rows it
 * changed. */
static int state_step(hanse_store *s, int which, const void *key, size_t klen, const void *val,
                      size_t vlen, int *changed) {
  sqlite3_stmt *st = stmt(s, which);
  if (st == NULL) return SQLITE_INTERNAL;
  sqlite3_bind_blob(st, 1, key, (int)klen, SQLITE_STATIC);
  sqlite3_bind_blob(st, 2, vlen ? val : (const void *)"", (int)vlen, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  *changed = rc == SQLITE_DONE ? sqlite3_changes(s->db) : 0;
  sqlite3_reset(st);
  return rc;
}

int hanse_store_state_put(hanse_store *s, const void *key, size_t klen,
                          const void *val, size_t vlen) {
  WRITE_GUARD(s);
  int changed;
  int rc = state_step(s, ST_STATE_PUT, key, klen, val, vlen, &changed);
  return rc == SQLITE_DONE ? HANSE_OK : store_fail(s, rc, "state put");
}

int hanse_store_state_put_hint(hanse_store *s, const void *key, size_t klen, const void *val,
                               size_t vlen, int exists) {
  WRITE_GUARD(s);
  int changed = 0;
  int rc = state_step(s, exists ? ST_STATE_UPDATE : ST_STATE_INSERT, key, klen, val, vlen,
                      &changed);
  if (rc == SQLITE_DONE && changed == 0) /* not there after all: insert */
    rc = state_step(s, ST_STATE_INSERT, key, klen, val, vlen, &changed);
  else if ((rc & 0xff) == SQLITE_CONSTRAINT) /* there after all: update */
    rc = state_step(s, ST_STATE_UPDATE, key, klen, val, vlen, &changed);
  return rc == SQLITE_DONE && changed == 1 ? HANSE_OK : store_fail(s, rc, "state put");
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

int store_prefix_end(const void *prefix, size_t plen, uint8_t *hi, size_t *hlen) {
  memcpy(hi, prefix, plen);
  *hlen = plen;
  while (*hlen > 0 && hi[*hlen - 1] == 0xff) (*hlen)--;
  if (*hlen == 0) return 1;
  hi[*hlen - 1]++;
  return 0;
}

/* A prefix scan of the state. */
static int scan_table(hanse_store *s, const void *prefix, size_t plen,
                      const void *after, size_t alen, int limit, hanse_state_visit_fn fn,
                      void *ctx) {
  uint8_t hi[STORE_PREFIX_MAX];
  size_t hlen;
  if (plen >= sizeof hi) return HANSE_ERR(INVALID);
  int open_end = store_prefix_end(prefix, plen, hi, &hlen);
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

int hanse_store_state_scan(hanse_store *s, const void *prefix, size_t plen,
                           const void *after, size_t alen, int limit,
                           hanse_state_visit_fn fn, void *ctx) {
  return scan_table(s, prefix, plen, after, alen, limit, fn, ctx);
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

int hanse_store_key_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl) {
  size_t n = al < bl ? al : bl;
  int c = n ? memcmp(a, b, n) : 0;
  if (c == 0 && al != bl) c = al < bl ? -1 : 1;
  return c;
}

void hanse_history_writer_init(hanse_history_writer *w, hanse_buf *out) {
  HANSE_ASSERT(out != NULL);
  memset(w, 0, sizeof *w);
  w->out = out;
}

void hanse_history_put(hanse_history_writer *w, const hanse_history_row *r) {
  HANSE_ASSERT(r->klen <= HANSE_HISTORY_KLEN_MAX);
  HANSE_ASSERT(r->op == HANSE_HISTORY_PUT || r->op == HANSE_HISTORY_DEL);
  HANSE_ASSERT(r->has_vhash == (r->op == HANSE_HISTORY_PUT));
  hanse_buf *out = w->out;
  if (hanse_buf_status(out) != HANSE_OK) return; /* sticky: reported by the buffer */
  uint32_t idx = HANSE_POS_INDEX(r->pos);
  int c = 1; /* a new group */
  if (w->count > 0) {
    HANSE_ASSERT(w->key_at + w->klen + 4 <= out->len); /* out not cut under the writer */
    c = hanse_store_key_cmp(r->key, r->klen, out->data + w->key_at, w->klen);
    HANSE_ASSERT(c > 0 || (c == 0 && idx > w->last_index)); /* (key, index) order */
  }
  size_t need = HANSE_HISTORY_ROW_FIXED_BYTES + (r->has_vhash ? HANSE_HASH_BYTES : 0);
  if (c != 0) need += HANSE_HISTORY_GROUP_FIXED_BYTES + r->klen;
  if (hanse_buf_reserve(out, need) != HANSE_OK) return;
  uint8_t *p = out->data + out->len;
  if (c != 0) {
    p[0] = (uint8_t)(r->klen >> 8);
    p[1] = (uint8_t)r->klen;
    if (r->klen) memcpy(p + 2, r->key, r->klen);
    w->key_at = out->len + 2;
    w->klen = r->klen;
    w->count = 0;
    p += HANSE_HISTORY_GROUP_FIXED_BYTES + r->klen; /* the count is written below */
  }
  hanse_put_u32be(p, idx);
  p[4] = (uint8_t)r->op;
  if (r->has_vhash) memcpy(p + HANSE_HISTORY_ROW_FIXED_BYTES, r->vhash.b, HANSE_HASH_BYTES);
  out->len += need;
  w->count++;
  w->last_index = idx;
  /* Keep the count current: out is a whole serialization after every put. */
  hanse_put_u32be(out->data + w->key_at + w->klen, w->count);
}

void hanse_history_reader_init(hanse_history_reader *rd, const uint8_t *p, size_t len,
                               uint64_t height) {
  memset(rd, 0, sizeof *rd);
  hanse_rd_init(&rd->rd, p, len);
  rd->height = height;
}

static int reader_broken(hanse_history_reader *rd) {
  rd->broken = 1;
  return HANSE_ERR(CHAIN_BROKEN);
}

/* Read the next group's header (the current group is read: left == 0). */
static int reader_group_open(hanse_history_reader *rd) {
  HANSE_ASSERT(rd->left == 0);
  if (hanse_rd_left(&rd->rd) == 0) return HANSE_ERR(NOT_FOUND);
  const uint8_t *p, *key, *c;
  if (hanse_rd_view(&rd->rd, &p, 2) != HANSE_OK) return reader_broken(rd);
  size_t klen = ((size_t)p[0] << 8) | p[1];
  if (hanse_rd_view(&rd->rd, &key, klen) != HANSE_OK ||
      hanse_rd_view(&rd->rd, &c, 4) != HANSE_OK)
    return reader_broken(rd);
  uint32_t count = hanse_get_u32be(c);
  if (count == 0 || count > HANSE_HISTORY_GROUP_ROWS_MAX) return reader_broken(rd);
  /* Strictly after the previous group's key: none repeated, none out of order. */
  if (rd->key != NULL && hanse_store_key_cmp(rd->key, rd->klen, key, klen) >= 0)
    return reader_broken(rd);
  rd->key = key;
  rd->klen = klen;
  rd->count = rd->left = count;
  rd->last_index = 0;
  return HANSE_OK;
}

/* Read one row of the current group (left > 0) into r, or past it (r
 * NULL). */
static int reader_row(hanse_history_reader *rd, hanse_history_row *r) {
  HANSE_ASSERT(rd->left > 0 && rd->key != NULL);
  const uint8_t *f, *h = NULL;
  if (hanse_rd_view(&rd->rd, &f, HANSE_HISTORY_ROW_FIXED_BYTES) != HANSE_OK)
    return reader_broken(rd);
  uint32_t idx = hanse_get_u32be(f);
  uint8_t op = f[4];
  if (idx > HANSE_POS_INDEX(UINT32_MAX) || (op != HANSE_HISTORY_PUT && op != HANSE_HISTORY_DEL))
    return reader_broken(rd);
  if (rd->left != rd->count && idx <= rd->last_index) return reader_broken(rd);
  if (op == HANSE_HISTORY_PUT && hanse_rd_view(&rd->rd, &h, HANSE_HASH_BYTES) != HANSE_OK)
    return reader_broken(rd);
  rd->left--;
  rd->last_index = idx;
  if (r == NULL) return HANSE_OK;
  r->key = rd->key;
  r->klen = rd->klen;
  r->pos = HANSE_POS(rd->height, idx);
  r->op = op;
  r->has_vhash = h != NULL;
  if (h)
    memcpy(r->vhash.b, h, HANSE_HASH_BYTES);
  else
    memset(r->vhash.b, 0, HANSE_HASH_BYTES);
  return HANSE_OK;
}

int hanse_history_next(hanse_history_reader *rd, hanse_history_row *r) {
  HANSE_ASSERT(r != NULL);
  if (rd->broken) return HANSE_ERR(CHAIN_BROKEN);
  if (rd->left == 0) {
    int rc = reader_group_open(rd);
    if (rc != HANSE_OK) return rc;
  }
  return reader_row(rd, r);
}

int hanse_history_next_group(hanse_history_reader *rd) {
  if (rd->broken) return HANSE_ERR(CHAIN_BROKEN);
  while (rd->left > 0) {
    int rc = reader_row(rd, NULL);
    if (rc != HANSE_OK) return rc;
  }
  return reader_group_open(rd);
}

int hanse_store_history_put_block(hanse_store *s, uint64_t height,
                                  const uint8_t *rows, size_t len) {
  WRITE_GUARD(s);
  HANSE_ASSERT(height <= (uint64_t)INT64_MAX && len <= (size_t)INT32_MAX);
  HANSE_ASSERT(rows != NULL || len == 0);
  sqlite3_stmt *st = stmt(s, ST_HBLOCK_PUT);
  if (st == NULL) return HANSE_ERR(INTERNAL);
  sqlite3_bind_int64(st, 1, (sqlite3_int64)height);
  sqlite3_bind_blob(st, 2, len ? (const void *)rows : "", (int)len, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return rc == SQLITE_DONE ? HANSE_OK : store_fail(s, rc, "history put");
}

/* ---- key rows ---- */

void hanse_history_key_prefix(hanse_buf *out, const void *key, size_t klen) {
  const uint8_t *k = key;
  uint8_t tag = HANSE_HISTORY_KEY_TAG, esc[2] = {0x00, 0xFF};
  hanse_buf_put(out, &tag, 1);
  for (size_t i = 0; i < klen;) {
    const uint8_t *z = memchr(k + i, 0, klen - i);
    size_t run = z ? (size_t)(z - (k + i)) : klen - i;
    hanse_buf_put(out, k + i, run);
    i += run;
    if (z) {
      hanse_buf_put(out, esc, 2);
      i++;
    }
  }
  hanse_buf_put(out, "\0\0", 2);
}

void hanse_history_key_row(hanse_buf *out, const void *key, size_t klen, uint64_t height) {
  uint8_t h[8];
  hanse_history_key_prefix(out, key, klen);
  hanse_put_u64be(h, UINT64_MAX - height);
  hanse_buf_put(out, h, 8);
}

int hanse_history_key_row_read(const uint8_t *row, size_t len, hanse_buf *key,
                               uint64_t *height) {
  hanse_buf_reset(key);
  if (len < 1 + 2 + 8 || row[0] != HANSE_HISTORY_KEY_TAG) return 0;
  size_t end = len - 8, i = 1;
  for (;;) {
    const uint8_t *z = memchr(row + i, 0, end - i);
    if (z == NULL) return 0;
    size_t run = (size_t)(z - (row + i));
    hanse_buf_put(key, row + i, run);
    i += run;
    if (i + 1 >= end) return 0;
    if (row[i + 1] == 0x00) break; /* the end of the key */
    if (row[i + 1] != 0xFF) return 0;
    hanse_buf_put(key, "", 1);
    i += 2;
  }
  if (i + 2 != end || hanse_buf_status(key) != HANSE_OK) return 0;
  *height = UINT64_MAX - hanse_get_u64be(row + end);
  return 1;
}

int hanse_store_history_block_get(hanse_store *s, uint64_t height,
                                  hanse_buf *rows, int *found) {
  sqlite3_stmt *st = stmt(s, ST_HBLOCK_GET);
  if (st == NULL) return HANSE_ERR(INTERNAL);
  *found = 0;
  hanse_buf_reset(rows);
  if (height > (uint64_t)INT64_MAX) return HANSE_OK;
  sqlite3_bind_int64(st, 1, (sqlite3_int64)height);
  int rc = sqlite3_step(st), out = HANSE_OK;
  if (rc == SQLITE_ROW) {
    *found = 1;
    hanse_buf_put(rows, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
    out = hanse_buf_status(rows);
  } else if (rc != SQLITE_DONE) {
    out = store_fail(s, rc, "history block get");
  }
  sqlite3_reset(st);
  return out;
}

/* The rows of one key in one block, copied out of the serialization. */
typedef struct key_rows {
  struct key_row {
    uint32_t idx;
    int op;
    hanse_hash vhash;
  } *r;                 /* owned; in index order */
  size_t n, cap;
} key_rows;

/* Fill kr with key's rows in block `height` (kr->n = 0: none, or no block
 * row, told by *block_found). The serialization is read in place and let
 * go before returning, so callers may use the connection freely. */
static int key_rows_load(hanse_store *s, const void *key, size_t klen, uint64_t height,
                         key_rows *kr, int *block_found) {
  sqlite3_stmt *st = stmt(s, ST_HBLOCK_GET);
  if (st == NULL) return HANSE_ERR(INTERNAL);
  kr->n = 0;
  *block_found = 0;
  sqlite3_bind_int64(st, 1, (sqlite3_int64)height);
  int rc = sqlite3_step(st), out = HANSE_OK;
  if (rc == SQLITE_ROW) {
    *block_found = 1;
    const uint8_t *blob = sqlite3_column_blob(st, 0);
    size_t len = (size_t)sqlite3_column_bytes(st, 0);
    hanse_history_reader rd;
    hanse_history_reader_init(&rd, blob, blob ? len : 0, height);
    /* The groups are in key order: walk them, hopping over each one's
     * rows, until the key's group or the first past it. */
    while ((out = hanse_history_next_group(&rd)) == HANSE_OK) {
      int c = hanse_store_key_cmp(rd.key, rd.klen, key, klen);
      if (c < 0) continue;
      if (c > 0) break;
      if (kr->cap < rd.count) {
        struct key_row *nr = realloc(kr->r, rd.count * sizeof *nr);
        if (nr == NULL) {
          out = HANSE_ERR(NOMEM);
          break;
        }
        kr->r = nr;
        kr->cap = rd.count;
      }
      hanse_history_row r;
      while (rd.left > 0 && (out = hanse_history_next(&rd, &r)) == HANSE_OK) {
        struct key_row *k = &kr->r[kr->n++];
        k->idx = HANSE_POS_INDEX(r.pos);
        k->op = r.op;
        k->vhash = r.vhash;
      }
      /* The next group's header, nothing more to skip: the reader checks
       * that its key is past this one, so the key has no second group. */
      if (out == HANSE_OK) out = hanse_history_next_group(&rd);
      break;
    }
    if (out == HANSE_ERR(NOT_FOUND)) out = HANSE_OK;
  } else if (rc != SQLITE_DONE) {
    out = store_fail(s, rc, "history block get");
  }
  sqlite3_reset(st);
  return out;
}

static void key_row_out(const key_rows *kr, size_t i, const void *key, size_t klen,
                        uint64_t height, hanse_history_row *r) {
  r->key = key;
  r->klen = klen;
  r->pos = HANSE_POS(height, kr->r[i].idx);
  r->op = kr->r[i].op;
  r->has_vhash = r->op == HANSE_HISTORY_PUT;
  r->vhash = kr->r[i].vhash;
}

int hanse_store_history_get(hanse_store *s, const void *key, size_t klen,
                            uint64_t pos, hanse_history_row *r) {
  key_rows kr;
  memset(&kr, 0, sizeof kr);
  int block_found;
  uint64_t height = HANSE_POS_HEIGHT(pos);
  if (height > (uint64_t)INT64_MAX) return HANSE_ERR(NOT_FOUND);
  int rc = key_rows_load(s, key, klen, height, &kr, &block_found);
  if (rc == HANSE_OK) rc = HANSE_ERR(NOT_FOUND);
  for (size_t i = 0; rc == HANSE_ERR(NOT_FOUND) && i < kr.n; i++) {
    if (kr.r[i].idx != HANSE_POS_INDEX(pos)) continue;
    key_row_out(&kr, i, key, klen, height, r);
    rc = HANSE_OK;
  }
  free(kr.r);
  return rc;
}

/* id and signer of the transaction at `pos`; *found = 0 if none. */
static int tx_who(hanse_store *s, uint64_t pos, hanse_history_change *c) {
  sqlite3_stmt *st = stmt(s, ST_TX_WHO);
  if (st == NULL) return HANSE_ERR(INTERNAL);
  sqlite3_bind_int64(st, 1, (sqlite3_int64)pos);
  int rc = sqlite3_step(st), out = HANSE_OK;
  c->has_tx = 0;
  if (rc == SQLITE_ROW) {
    c->has_tx = sqlite3_column_bytes(st, 0) == HANSE_HASH_BYTES &&
                sqlite3_column_bytes(st, 1) == HANSE_PUBKEY_BYTES;
    if (c->has_tx) {
      memcpy(c->tx_id.b, sqlite3_column_blob(st, 0), HANSE_HASH_BYTES);
      memcpy(c->signer.b, sqlite3_column_blob(st, 1), HANSE_PUBKEY_BYTES);
    }
  } else if (rc != SQLITE_DONE) {
    out = store_fail(s, rc, "history tx lookup");
  }
  sqlite3_reset(st);
  return out;
}

/* The heights a key's rows name, newest first, a batch at a time. */
typedef struct key_heights {
  size_t plen;          /* the key rows' prefix length */
  uint64_t h[64];
  size_t n;
  int broken;           /* a row under the prefix that is not a key row */
  uint8_t last[8];      /* the last row's height bytes */
} key_heights;

static int key_heights_visit(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v,
                             size_t vl) {
  key_heights *kh = ctx;
  (void)v;
  if (kl != kh->plen + 8 || vl != 0) {
    kh->broken = 1;
    return 1;
  }
  memcpy(kh->last, k + kh->plen, 8);
  kh->h[kh->n++] = UINT64_MAX - hanse_get_u64be(k + kh->plen);
  return 0;
}

int hanse_store_history_scan(hanse_store *s, const void *key, size_t klen,
                             uint64_t before, int limit,
                             hanse_history_visit_fn fn, void *ctx) {
  HANSE_ASSERT(limit >= 1);
  if (before == 0) return HANSE_OK;
  if (klen > HANSE_STATE_KEY_MAX) return HANSE_OK; /* no such key is stored */
  uint64_t top = HANSE_POS_HEIGHT(before - 1); /* the newest block to look in */
  /* The blocks' key rows, then each block's rows: one read transaction,
   * one snapshot (inside the caller's if it has one). */
  int own_txn = sqlite3_get_autocommit(s->db);
  if (own_txn && sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
    return store_fail(s, sqlite3_errcode(s->db), "history scan");
  hanse_buf from;
  hanse_buf_init(&from);
  hanse_history_key_prefix(&from, key, klen);
  key_heights kh = {.plen = from.len};
  /* strictly after the row of block top + 1: from block top down */
  uint8_t h[8];
  hanse_put_u64be(h, UINT64_MAX - (top + 1));
  hanse_buf_put(&from, h, 8);
  key_rows kr;
  memset(&kr, 0, sizeof kr);
  int out = hanse_buf_status(&from), stop = 0, seen = 0;
  while (out == HANSE_OK && !stop) {
    kh.n = 0;
    out = hanse_store_index_scan(s, from.data, kh.plen, from.data, from.len,
                                 (int)(sizeof kh.h / sizeof kh.h[0]), key_heights_visit, &kh);
    if (out == HANSE_OK && kh.broken) out = HANSE_ERR(CHAIN_BROKEN);
    if (out != HANSE_OK || kh.n == 0) break;
    for (size_t b = 0; b < kh.n && !stop && out == HANSE_OK; b++) {
      uint64_t height = kh.h[b];
      int block_found;
      out = key_rows_load(s, key, klen, height, &kr, &block_found);
      if (out != HANSE_OK) break;
      if (!block_found || kr.n == 0) {
        HANSE_WARN("store: a key row names block %" PRIu64 " for a key it has no rows of",
                   height);
        out = HANSE_ERR(CHAIN_BROKEN);
        break;
      }
      for (size_t i = kr.n; i-- > 0 && !stop;) { /* newest first */
        hanse_history_change c;
        memset(&c, 0, sizeof c);
        key_row_out(&kr, i, key, klen, height, &c.row);
        if (c.row.pos >= before) continue;
        out = tx_who(s, c.row.pos, &c);
        if (out != HANSE_OK) break;
        stop = fn(ctx, &c) || ++seen == limit;
      }
    }
    if (kh.n < sizeof kh.h / sizeof kh.h[0]) break; /* no more */
    memcpy(from.data + kh.plen, kh.last, 8);
  }
  if (own_txn && sqlite3_get_autocommit(s->db) == 0)
    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
  hanse_buf_free(&from);
  free(kr.r);
  return out;
}

int hanse_store_history_block_count(hanse_store *s, uint64_t *count) {
  sqlite3_stmt *st = stmt(s, ST_HBLOCK_COUNT);
  if (st == NULL) return HANSE_ERR(INTERNAL);
  int rc = sqlite3_step(st), out = HANSE_OK;
  if (rc == SQLITE_ROW)
    *count = (uint64_t)sqlite3_column_int64(st, 0);
  else
    out = store_fail(s, rc, "history block count");
  sqlite3_reset(st);
  return out;
}

/* ---- Commit certificates ---- */

int hanse_store_cert_put(hanse_store *s, uint64_t height, const hanse_pubkey *signer,
                         const hanse_sig *sig) {
  WRITE_GUARD(s);
  HANSE_ASSERT(height <= (uint64_t)INT64_MAX);
  sqlite3_stmt *st = stmt(s, ST_CERT_PUT);
  if (st == NULL) return HANSE_ERR(INTERNAL);
  sqlite3_bind_int64(st, 1, (sqlite3_int64)height);
  sqlite3_bind_blob(st, 2, signer->b, HANSE_PUBKEY_BYTES, SQLITE_STATIC);
  sqlite3_bind_blob(st, 3, sig->b, HANSE_SIG_BYTES, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return rc == SQLITE_DONE ? HANSE_OK : store_fail(s, rc, "cert put");
}

int hanse_store_cert_scan(hanse_store *s, uint64_t from, uint64_t to,
                          hanse_cert_visit_fn fn, void *ctx) {
  sqlite3_stmt *st = stmt(s, ST_CERT_SCAN);
  if (st == NULL) return HANSE_ERR(INTERNAL);
  if (from > (uint64_t)INT64_MAX || from > to) return HANSE_OK;
  if (to > (uint64_t)INT64_MAX) to = (uint64_t)INT64_MAX;
  sqlite3_bind_int64(st, 1, (sqlite3_int64)from);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)to);
  int rc, out = HANSE_OK;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    /* A row of another size was not written by this code: skip it (the
     * reader of a certificate verifies every signature anyway). */
    if (sqlite3_column_bytes(st, 1) != HANSE_PUBKEY_BYTES ||
        sqlite3_column_bytes(st, 2) != HANSE_SIG_BYTES)
      continue;
    hanse_pubkey signer;
    hanse_sig sig;
    memcpy(signer.b, sqlite3_column_blob(st, 1), HANSE_PUBKEY_BYTES);
    memcpy(sig.b, sqlite3_column_blob(st, 2), HANSE_SIG_BYTES);
    if (fn(ctx, (uint64_t)sqlite3_column_int64(st, 0), &signer, &sig)) break;
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) out = store_fail(s, rc, "cert scan");
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return out;
}
