/*
 * store.h -- one SQLite database per chain: blocks, transaction index,
 * key-value world state, the audit trail of every state change, metadata.
 *
 * A hanse_store is one SQLite connection. The chain opens one writer (the
 * sequencer's thread) and any number of readers (HTTP threads); WAL mode
 * lets readers run while the writer commits. A block and everything it
 * changes are written between hanse_store_begin and hanse_store_commit,
 * which is one SQLite transaction with synchronous=FULL: after commit
 * returns the block is durable, and a crash before leaves none of it.
 *
 * Sticky failure: any I/O-class error (disk full, I/O error, corruption) on
 * the writer marks the store failed; every later write returns
 * HANSE_ERR(STORE_FAILED) until the store is closed and reopened (SQLite's
 * sticky pager error, made explicit). Reads keep working where they can.
 *
 * Keys and values are byte strings; Hanse uses readable text keys such as
 * "asset/bal/EUR/<pubkey hex>".
 */
#ifndef HANSE_STORE_H
#define HANSE_STORE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "crypto/hash.h"

typedef struct hanse_store hanse_store;

enum {
  HANSE_STORE_READONLY = 1, /* reader connection */
  HANSE_STORE_CREATE = 2,   /* create the file and schema if missing */
  HANSE_STORE_MEMORY = 4,   /* private in-memory database (verify) */
  HANSE_STORE_EXEC = 8,     /* with READONLY: the reader a pipelined block
                             * executes on (chain.c): the writer's page
                             * cache size, and the file memory-mapped, since
                             * each commit empties a reader's page cache */
};

/* Open `path` (ignored with MEMORY). `vfs` may be NULL (default VFS; tests
 * pass a fault-injecting one). *out is owned by the caller. */
int hanse_store_open(const char *path, int flags, const char *vfs,
                     hanse_store **out, hanse_reject *rej);
void hanse_store_close(hanse_store *s);
sqlite3 *hanse_store_db(hanse_store *s);
/* 1 once an I/O-class error was seen on this connection. */
int hanse_store_failed(const hanse_store *s);

/* Copy committed WAL frames into the database file without blocking the
 * writer or readers (a passive checkpoint). Run it from a connection of
 * its own, off the commit path. HANSE_OK or HANSE_ERR(IO). */
int hanse_store_checkpoint(hanse_store *s);
/* A checkpoint that also restarts the WAL from its beginning
 * (SQLITE_CHECKPOINT_RESTART): waits (the busy timeout) for readers of
 * older snapshots to finish, 20 ms at most. For the writer's connection, outside a
 * transaction, while nothing else writes. HANSE_OK also when readers kept
 * it from finishing. */
int hanse_store_checkpoint_restart(hanse_store *s);
/* The writer's WAL: the bytes of the frames in use after its last commit
 * (any thread may ask; 0 before the first commit), and the passive
 * checkpoint it makes itself once it holds this many pages (SQLite's
 * wal_autocheckpoint, default 1000; 0: none). */
long long hanse_store_wal_bytes(hanse_store *s);
void hanse_store_set_wal_autocheckpoint(hanse_store *s, int pages);

/* Writer transaction. */
int hanse_store_begin(hanse_store *s);
int hanse_store_commit(hanse_store *s);
void hanse_store_rollback(hanse_store *s);
/* A read transaction on a reader connection: one snapshot, one lock and a
 * page cache kept warm for many reads, until read_end. (Each statement
 * outside one begins and ends a read transaction of its own: a file lock
 * and, after any commit, an emptied page cache.) */
int hanse_store_read_begin(hanse_store *s);
void hanse_store_read_end(hanse_store *s);

/* Metadata (small text values). get: HANSE_OK, HANSE_ERR(NOT_FOUND). */
int hanse_store_meta_put(hanse_store *s, const char *key, const char *value);
int hanse_store_meta_get(hanse_store *s, const char *key, hanse_buf *value);

/* World state. get: *found = 0/1; value appended to `val` (reset first). */
int hanse_store_state_get(hanse_store *s, const void *key, size_t klen,
                          hanse_buf *val, int *found);
int hanse_store_state_put(hanse_store *s, const void *key, size_t klen,
                          const void *val, size_t vlen);
/* The same, faster when `exists` says right whether the key is there (an
 * update, or an insert, without an upsert's both); when it is wrong, the
 * other statement follows, so the row is put all the same. */
int hanse_store_state_put_hint(hanse_store *s, const void *key, size_t klen, const void *val,
                               size_t vlen, int exists);
int hanse_store_state_del(hanse_store *s, const void *key, size_t klen);
/* Visit keys in [prefix, prefix+1) in key order starting after `after`
 * (NULL: from the start), at most `limit`. fn returns non-zero to stop. */
typedef int (*hanse_state_visit_fn)(void *ctx, const uint8_t *key, size_t klen,
                                    const uint8_t *val, size_t vlen);
int hanse_store_state_scan(hanse_store *s, const void *prefix, size_t plen,
                           const void *after, size_t alen, int limit,
                           hanse_state_visit_fn fn, void *ctx);

/* Keys compared as SQLite compares BLOBs (state and index order): bytes,
 * then length. */
int hanse_store_key_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl);

/* Derived indexes: rows modules write for their queries only -- an
 * account's transfers in order, say -- which no execution reads. They are
 * not state: outside the state sum and the audit trail (though fed into
 * the state digest as they are written, exec.h), written with the block's
 * other rows in the same transaction, rebuilt by re-executing the chain.
 *
 * put_block stores block `height`'s rows -- in strictly increasing key
 * order, a key once, each key's first byte above HANSE_HISTORY_KEY_TAG
 * (asserted: they come from the executor) -- each replacing the key's row
 * of an earlier block, together with the audit trail's key rows derived
 * from the block's history serialization `history` (hlen 0: none; see
 * "audit trail" below), and inside the same writer transaction folds the
 * log into the chunks when it is due (store_index.c says how they are
 * kept). scan reads them in key order, each key with the
 * row of its latest block; its arguments as hanse_store_state_scan's; a
 * stored pack that does not read gives HANSE_ERR(CHAIN_BROKEN). fold folds
 * whatever the log holds now (inside a writer transaction). */
typedef struct hanse_index_row {
  const void *key;
  size_t klen;
  const void *val;
  size_t vlen;
} hanse_index_row;
/* A fold of the log begins when its packs reach this many bytes or it
 * holds HANSE_STORE_INDEX_LOG_BLOCKS heights, and takes up to
 * HANSE_STORE_INDEX_FOLD_SLICES blocks, a key range each. */
#define HANSE_STORE_INDEX_LOG_BYTES ((size_t)64 << 20)
#define HANSE_STORE_INDEX_LOG_BLOCKS 32
#define HANSE_STORE_INDEX_FOLD_SLICES 32
int hanse_store_index_put_block(hanse_store *s, uint64_t height, const uint8_t *history,
                                size_t hlen, const hanse_index_row *rows, size_t n);
int hanse_store_index_fold(hanse_store *s);
int hanse_store_index_scan(hanse_store *s, const void *prefix, size_t plen,
                           const void *after, size_t alen, int limit,
                           hanse_state_visit_fn fn, void *ctx);
/* Tests: begin a fold at `log_bytes` or `log_blocks` heights, and cut
 * packs at `chunk_bytes` (the log's and the chunks'). */
void hanse_store_set_index_sizes(hanse_store *s, size_t log_bytes, int log_blocks,
                                 size_t chunk_bytes);

/* Blocks. */
typedef struct hanse_block_row {
  uint64_t height;
  hanse_hash hash;
  hanse_hash state_sum; /* accumulator over all state rows after the block */
  hanse_hash receipts_hash; /* SHA-256 over (id, code) of its receipts */
  uint8_t *header;      /* owned (free()) */
  size_t header_len;
  uint8_t *body;        /* owned (free()) */
  size_t body_len;
} hanse_block_row;

int hanse_store_block_put(hanse_store *s, uint64_t height, const hanse_hash *hash,
                          const hanse_hash *state_sum,
                          const hanse_hash *receipts_hash, const uint8_t *header,
                          size_t hlen, const uint8_t *body, size_t blen);
/* HANSE_OK or HANSE_ERR(NOT_FOUND). with_body = 0 skips the body. */
int hanse_store_block_get(hanse_store *s, uint64_t height, int with_body,
                          hanse_block_row *row);
int hanse_store_block_by_hash(hanse_store *s, const hanse_hash *hash,
                              uint64_t *height);
void hanse_block_row_free(hanse_block_row *row);
/* Height of the last block; HANSE_ERR(NOT_FOUND) on an empty chain. */
int hanse_store_tip(hanse_store *s, uint64_t *height);

/* Transaction index: receipt of every transaction in a block. */
typedef struct hanse_receipt {
  hanse_hash id;
  uint64_t height;
  uint32_t index;                     /* position among the block's txs */
  char code[HANSE_REJECT_CODE_MAX];   /* "ok" or a rejection code */
  char message[HANSE_REJECT_MSG_MAX];
} hanse_receipt;

int hanse_store_tx_put(hanse_store *s, const hanse_receipt *r,
                       const hanse_pubkey *signer, uint64_t seq,
                       const char *kind);
/* HANSE_OK or HANSE_ERR(NOT_FOUND). */
int hanse_store_tx_get(hanse_store *s, const hanse_hash *id, hanse_receipt *r);
/* Receipts of one block in index order; fn returns non-zero to stop. */
typedef int (*hanse_receipt_visit_fn)(void *ctx, const hanse_receipt *r);
int hanse_store_tx_scan_block(hanse_store *s, uint64_t height,
                              hanse_receipt_visit_fn fn, void *ctx);
/* Counters for status and metrics. */
int hanse_store_tx_count(hanse_store *s, uint64_t *count);

/* The audit trail: who changed which state key, when, to what.
 *
 * A *row* is one (state key, transaction that changed it): the
 * transaction's position `pos` (the same number as its txs row,
 * HANSE_POS), its last operation on the key and the SHA-256 of the value it
 * left (puts only). The genesis writes, made by no transaction, carry index
 * HANSE_HISTORY_GENESIS_INDEX of block 0.
 *
 * A block's rows are stored together as ONE row of history_blocks,
 * serialized in (key, index) order with each key written once: a *group*
 * per distinct key, the key followed by its rows (docs/FORMATS.md §15),
 * big-endian:
 *
 *   group: u16 klen | key | u32 count (>= 1) | count x row
 *   row:   u32 index | u8 op (1 put, 2 del) | 32-byte SHA-256 (puts only)
 *
 * Groups in strictly increasing key order (keys compared as memcmp and
 * then by length, SQLite's BLOB order), rows in strictly increasing index
 * order within a group, nothing between or after.
 *
 * What finds a record's blocks is a *key row* per group: a derived index
 * row (hanse_store_index_put_block derives them from the serialization)
 * keyed
 *
 *   HANSE_HISTORY_KEY_TAG | escaped key | 0x00 0x00 | u64 (2^64-1 - height)
 *
 * with an empty value, the key's bytes 0x00 written as 0x00 0xFF. The
 * escape keeps the key rows in (key, newest block first) order and makes
 * one key's rows a prefix no other key's rows share; the tag sorts them
 * before every module index row. (Before, a B-tree table history_keys(key,
 * height) held them: one insert per changed key at the end of the key's
 * run, which dirtied a page per account once the table outgrew the
 * accounts -- ~3,100 pages in each benchmark block. A writer opening a
 * chain that has the table moves its rows into the index and drops it.)
 *
 * The executor builds a block's serialization with a hanse_history_writer
 * and stores it with hanse_store_history_put_block; anyone reads one with a
 * hanse_history_reader, row by row (hanse_history_next) or group by group
 * (hanse_history_next_group). */
#define HANSE_POS(height, index) (((uint64_t)(height) << 20) | (uint64_t)(index))
#define HANSE_POS_HEIGHT(pos) ((uint64_t)(pos) >> 20)
#define HANSE_POS_INDEX(pos) ((uint32_t)((pos) & 0xFFFFFu))

enum { HANSE_HISTORY_PUT = 1, HANSE_HISTORY_DEL = 2 };
/* The longest key a group can carry (its u16 length). Module keys are
 * built in buffers of at most 256 bytes, so a longer key is a bug. */
#define HANSE_HISTORY_KLEN_MAX 0xFFFF
/* Bytes of a group besides its key and rows: klen, count. */
#define HANSE_HISTORY_GROUP_FIXED_BYTES (2 + 4)
/* Bytes of a row besides its value hash (a put's): index, op. */
#define HANSE_HISTORY_ROW_FIXED_BYTES (4 + 1)
/* The most rows a group can hold: one per index, the genesis one
 * included (indexes are 20 bits and strictly increasing in a group). */
#define HANSE_HISTORY_GROUP_ROWS_MAX ((uint32_t)HANSE_HISTORY_GENESIS_INDEX + 1)

typedef struct hanse_history_row {
  const uint8_t *key;   /* borrowed */
  size_t klen;
  uint64_t pos;
  int op;               /* HANSE_HISTORY_PUT or _DEL */
  int has_vhash;        /* vhash holds the value's hash (exactly for puts) */
  hanse_hash vhash;     /* zero for a delete */
} hanse_history_row;

/* Building a block's serialization. The writer appends to `out` (borrowed,
 * not reset: the caller resets it; the buffer's sticky failure reports
 * NOMEM) and remembers where the open group is: a row of the open group's
 * key joins it, a row of a greater key opens the next group. The count in
 * `out` is kept current, so after any put `out` holds a whole
 * serialization; there is nothing to finish. */
typedef struct hanse_history_writer {
  hanse_buf *out;       /* borrowed */
  size_t key_at;        /* offset in out of the open group's key */
  size_t klen;          /* its length */
  uint32_t count;       /* rows in the open group; 0: no group yet */
  uint32_t last_index;  /* the open group's last row's index */
} hanse_history_writer;

void hanse_history_writer_init(hanse_history_writer *w, hanse_buf *out);
/* Append row r (of block HANSE_POS_HEIGHT(r->pos); the height is not
 * stored). The caller appends in strictly increasing (key, index) order
 * (asserted: rows come from the executor or a test, never from input). */
void hanse_history_put(hanse_history_writer *w, const hanse_history_row *r);

/* Reading a stored (or re-derived) serialization of block `height`. Every
 * byte is data: whatever breaks the layout -- a truncated group or row, a
 * count of 0 or above HANSE_HISTORY_GROUP_ROWS_MAX, an unknown op, an index
 * above 20 bits, keys out of order or repeated, indexes out of order within
 * a group -- makes the calls return HANSE_ERR(CHAIN_BROKEN), never trip an
 * assertion, and keep returning it. The reader's fields are for the caller
 * to read, not write; key borrows from the serialization (`p` must outlive
 * the reader's use). A reader owns nothing: there is no destroy. */
typedef struct hanse_history_reader {
  hanse_rd rd;          /* the bytes not yet read */
  uint64_t height;
  const uint8_t *key;   /* the current group's key (NULL before the first) */
  size_t klen;
  uint32_t count;       /* its rows */
  uint32_t left;        /* of which not yet read */
  uint32_t last_index;  /* the index of the group's last row read */
  int broken;           /* sticky: CHAIN_BROKEN was returned */
} hanse_history_reader;

void hanse_history_reader_init(hanse_history_reader *rd, const uint8_t *p, size_t len,
                               uint64_t height);
/* The next row, moving into the next group when the current one is read:
 * HANSE_OK and a row (r->key borrows from the serialization);
 * HANSE_ERR(NOT_FOUND) at the end; HANSE_ERR(CHAIN_BROKEN). */
int hanse_history_next(hanse_history_reader *rd, hanse_history_row *r);
/* Skip the unread rows of the current group (checked all the same) and
 * open the next group: HANSE_OK with rd->key, klen, count set and left =
 * count, so the next rd->left calls of hanse_history_next give its rows;
 * HANSE_ERR(NOT_FOUND) at the end; HANSE_ERR(CHAIN_BROKEN). */
int hanse_history_next_group(hanse_history_reader *rd);

/* Store block `height`'s serialization (inside a writer transaction): one
 * history_blocks row (also for a block without rows: an empty one). Its
 * key rows go with the block's index rows: pass the same serialization to
 * hanse_store_index_put_block. The serialization must be well formed
 * (asserted: it comes from the executor). A block stored twice:
 * HANSE_ERR(INVALID). */
int hanse_store_history_put_block(hanse_store *s, uint64_t height,
                                  const uint8_t *rows, size_t len);
/* The stored serialization of block `height`, appended to `rows` (reset
 * first). *found = 0 when the block has no history_blocks row. */
int hanse_store_history_block_get(hanse_store *s, uint64_t height,
                                  hanse_buf *rows, int *found);
/* The row of (key, pos): HANSE_OK with op, has_vhash and vhash filled (key
 * and klen as given), HANSE_ERR(NOT_FOUND), or HANSE_ERR(CHAIN_BROKEN) if
 * the block's serialization is malformed. */
int hanse_store_history_get(hanse_store *s, const void *key, size_t klen,
                            uint64_t pos, hanse_history_row *r);

/* A row with its transaction's id and signer from the txs table (has_tx 0
 * for genesis writes, or where the txs row is missing). */
typedef struct hanse_history_change {
  hanse_history_row row;
  int has_tx;
  hanse_hash tx_id;
  hanse_pubkey signer;
} hanse_history_change;
/* fn returns non-zero to stop. The change and its key are valid only
 * during the call; fn may use the connection. */
typedef int (*hanse_history_visit_fn)(void *ctx, const hanse_history_change *c);
/* The changes of `key` with pos < before (UINT64_MAX: from the newest),
 * newest first, at most `limit` (>= 1): the key rows name the blocks,
 * newest first, and each block's serialization gives the key's rows.
 * HANSE_ERR(CHAIN_BROKEN) if a serialization named is missing or
 * malformed, or a stored index pack does not read. Outside a transaction
 * it reads in one of its own (one snapshot). */
int hanse_store_history_scan(hanse_store *s, const void *key, size_t klen,
                             uint64_t before, int limit,
                             hanse_history_visit_fn fn, void *ctx);

/* *old = 1 for a chain an earlier version wrote that no writer of this one
 * has opened yet: its trail's index is still a history_keys table, and its
 * key rows are not there. */
int hanse_store_unmigrated(hanse_store *s, int *old);
/* The tag of the audit trail's key rows among the derived index rows (a
 * module's index keys begin with a greater byte) and the longest state
 * key (a key row of it, each byte escaped, fits a derived index row). */
#define HANSE_HISTORY_KEY_TAG 0x01
#define HANSE_STATE_KEY_MAX 500
/* Append key's key row for block `height` to `out` (the caller resets it). */
void hanse_history_key_row(hanse_buf *out, const void *key, size_t klen, uint64_t height);
/* The prefix every key row of `key` begins with, appended to `out`. */
void hanse_history_key_prefix(hanse_buf *out, const void *key, size_t klen);
/* Read a key row: 1 and the key (unescaped into `key`, reset first) and
 * height; 0 for a row that is not a well-formed key row. */
int hanse_history_key_row_read(const uint8_t *row, size_t len, hanse_buf *key,
                               uint64_t *height);
/* The number of history_blocks rows. */
int hanse_store_history_block_count(hanse_store *s, uint64_t *count);

/* Commit certificates (encoding/cert.h): validators' signatures on block
 * hashes, one per (height, signer).
 *
 * put stores a signature the caller has verified against the block stored
 * at `height` (store.c does not check it); inside the block's writer
 * transaction for this node's own, or on its own (autocommit) for a
 * signature that arrives later. A (height, signer) already stored is kept
 * as it is: HANSE_OK, nothing written. A store error makes the store
 * failed, as any write does.
 *
 * scan visits the signatures of heights from..to (inclusive) in (height,
 * signer) order; fn returns non-zero to stop. */
int hanse_store_cert_put(hanse_store *s, uint64_t height, const hanse_pubkey *signer,
                         const hanse_sig *sig);
typedef int (*hanse_cert_visit_fn)(void *ctx, uint64_t height, const hanse_pubkey *signer,
                                   const hanse_sig *sig);
int hanse_store_cert_scan(hanse_store *s, uint64_t from, uint64_t to,
                          hanse_cert_visit_fn fn, void *ctx);

#endif
