/*
 * store_internal.h -- what store.c shares with store_index.c, the derived
 * indexes' part of the store. Not for use outside src/storage.
 */
#ifndef HANSE_STORE_INTERNAL_H
#define HANSE_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/store.h"

enum { STORE_IX_STMTS = 16 };

/* The derived indexes' statements and the writer's account of the log
 * and of the fold under way (store_index.c). */
typedef struct store_index {
  sqlite3_stmt *st[STORE_IX_STMTS];
  int64_t log_heights; /* heights in idx_log; -1: not read since open or a rollback */
  int64_t log_bytes;   /* bytes of its packs */
  size_t log_max;      /* fold at this many bytes... */
  int64_t log_blocks;  /* ...or this many heights */
  size_t chunk_max;    /* the most bytes of an idx_chunks pack (one row may pass it) */
  size_t log_chunk_max; /* ...of an idx_log pack */
  /* The fold under way: the log's heights <= fold_top, slice by slice in
   * key order; -1: none. Slice i holds the keys in [bound i-1, bound i),
   * the first from the start, the last to the end. */
  int64_t fold_top;
  uint8_t *bounds;     /* the bounds' keys, one after the other */
  size_t *bound_at;    /* bound i is bounds[bound_at[i] .. bound_at[i + 1]) */
  size_t nbounds;
  size_t fold_next;    /* the next slice */
  int64_t begin_top;   /* fold_top and fold_next at the transaction's begin */
  size_t begin_next;
} store_index;

store_index *store_index_of(hanse_store *s);
void store_index_init(store_index *ix);
void store_index_close(store_index *ix);
/* A writer transaction begins; one is rolled back: the log is counted
 * again, and the fold under way goes on from where it stood at the begin
 * (one begun or ended inside the transaction begins again). */
void store_index_begin(store_index *ix);
void store_index_rollback(store_index *ix);
/* Move the rows of a chain written before the packs (a table `idx`, one
 * row per index row) into the chunks, on the writer at open. */
int store_index_migrate(hanse_store *s);
/* The longest scan prefix, plus one (scans refuse longer ones): as long
 * as the longest derived index key (HANSE_ROWPACK_KEY_MAX), so a key row's
 * prefix fits. */
enum { STORE_PREFIX_MAX = 1024 + 1 };
/* The end of the keys under `prefix` (plen < STORE_PREFIX_MAX): the prefix
 * with its last non-0xff byte incremented, into hi. 1 when there is none
 * (an empty or all-0xff prefix): scan to the end. */
int store_prefix_end(const void *prefix, size_t plen, uint8_t *hi, size_t *hlen);
/* *has = 1 if the database has a table `table` (without_rowid: one
 * declared WITHOUT ROWID); an error reading the schema fails the store. */
int store_table_has(hanse_store *s, const char *table, int without_rowid, int *has);
/* Classify an SQLite error (store.c): I/O-class errors make the store
 * sticky-failed. */
int store_fail(hanse_store *s, int src, const char *what);
/* HANSE_OK if the store may be written, HANSE_ERR(STORE_FAILED) if not
 * (asserts a writer connection). */
int store_writable(hanse_store *s);

#endif
