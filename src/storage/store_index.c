/*
 * store_index.c -- the derived indexes (store.h): a log of recent blocks'
 * rows and the chunks that hold the rest, both as rowpacks (rowpack.h).
 * Besides the modules' rows they hold the audit trail's key rows, one per
 * (state key, block that changed it), derived here from the block's
 * history serialization (store.h says why).
 *
 *   idx_log(id, height, first, rows)   UNIQUE(height, first)
 *   idx_chunks(id, first, last, rows)  UNIQUE(first)
 *
 * Rowid tables with their keys in a unique index, as the state (store.c):
 * a pack of 8 or 16 KiB spills to overflow pages, and in a WITHOUT ROWID
 * table every search that met one read it whole to compare its key --
 * the fold's pack lookups grew from 0.2 % to 1.7 % of a run's time over
 * 240 two-phase blocks (3.6 % in the WITHOUT ROWID table).
 *
 * Why not one table row per index row. A block of the benchmark writes
 * ~13,000 index rows, two per transfer (ledger/acx/<account>/<pos>), over
 * ~7,000 accounts. In a key-ordered table they land at the end of each
 * account's run: once the table outgrows the accounts, every block dirties
 * a page per account and writes each to the WAL, and each row costs a
 * B-tree insert of its own. Measured: the rate fell by half as a node
 * filled (31,000 -> 14,700 transfers/s over four runs of 131,072); a build
 * without the index rows held 27,000 and more.
 *
 * The log. A block's rows, already in key order, are cut into packs of at
 * most log_chunk_max bytes (16 KiB) and appended under the block's height:
 * a few rows at the end of a (height, first) B-tree, whatever the index
 * holds. `first` is the pack's first key.
 *
 * The chunks. idx_chunks holds every folded row in packs of at most
 * chunk_max bytes (8 KiB; a single larger row gets a pack of its own):
 * pack i holds the keys in [first_i, first_i+1), first_i being its first
 * row's key, the packs disjoint and together in key order; `last` is its
 * last key. A key's pack is the one with the greatest first <= key. A
 * pack also ends where a key group -- the key up to its last '/', an
 * account for ledger/acx/ -- ends, once it holds a quarter of chunk_max.
 *
 * The fold. When the log's packs reach log_max bytes (64 MiB) or it holds
 * HANSE_STORE_INDEX_LOG_BLOCKS (32) heights, a fold of the heights logged
 * so far (up to the block that begins it, `fold_top`) begins, in up to
 * HANSE_STORE_INDEX_FOLD_SLICES key ranges cut at every nth of those
 * heights' pack first keys; each block's transaction from then on folds
 * one range (fold_step), and after the last one deletes those heights
 * from the log. Until then a folded row is in the log and in the chunks,
 * the same row, and a scan takes the log's as it always does. (One fold
 * of everything in one commit took ~1.3 s in the benchmark, the
 * sequencer waiting for it; a slice takes ~40 ms.) A log grown to twice
 * its bound is folded at once; a rollback takes the fold back to where it
 * stood at the transaction's begin, or, if the fold began or ended in it,
 * forgets it (the next block begins one again: folding rows twice is
 * harmless). hanse_store_index_fold folds the whole log at once, as one
 * slice of every height.
 *
 * A range's fold reads those heights' rows in the range, merges their
 * sorted runs into key order with a key's latest row only, and takes the
 * rows pack range by pack range: the rows after a pack's `last`, when
 * the pack is at least half full -- an account's new transfers, the
 * usual case -- become packs of their own and the pack stays as it is;
 * otherwise the pack is read, merged (the log's row wins a key), deleted
 * and written back cut as above. One fold in the benchmark: 32 blocks,
 * ~700,000 rows, ~10,000 new packs (one per account), 50 MB -- instead of
 * 700,000 inserts and 32 x 7,000 dirty pages.
 *
 * A scan reads both: from the log, each height's packs that can hold keys
 * in range (the one covering the start, then those starting below the
 * end), the rows in range copied out (at most `limit` a height) and
 * sorted, a key's latest row winning; from the chunks, a stream of the
 * same packs; the two merged in key order, a log row winning a key. A
 * pack is data: one that does not read (rowpack.c) fails the scan or the
 * fold with CHAIN_BROKEN.
 *
 * The writer keeps the log's size and height count (read on first use,
 * and again after a rollback or a fold's end) and the fold under way in
 * memory; a reader needs none of them. A writer opened anew begins a
 * fold of its own when the log is due.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "storage/rowpack.h"
#include "storage/store_internal.h"

enum {
  IX_LOG_PUT, IX_LOG_NEXT, IX_LOG_RANGE, IX_LOG_RANGE_ALL, IX_LOG_STATS, IX_LOG_FIRSTS,
  IX_LOG_CLEAR_TO, IX_CHUNK_RANGE, IX_CHUNK_RANGE_ALL, IX_CHUNK_AT, IX_CHUNK_GET, IX_CHUNK_NEXT,
  IX_CHUNK_DEL, IX_CHUNK_PUT, IX_COUNT
};
_Static_assert((int)IX_COUNT <= (int)STORE_IX_STMTS, "store_index statements");
/* A key row of the longest state key, every byte escaped, is an index row. */
_Static_assert(1 + 2 * HANSE_STATE_KEY_MAX + 2 + 8 <= HANSE_ROWPACK_KEY_MAX, "key rows");
_Static_assert(STORE_PREFIX_MAX == HANSE_ROWPACK_KEY_MAX + 1, "prefixes");

/* The packs of one height (log) or of the chunks that can hold keys in
 * [?1, ?2): the one covering ?1, then those that start below ?2. */
#define COVERING(table, extra)                                                   \
  "SELECT rows FROM " table " WHERE " extra "first >= ifnull((SELECT first FROM " \
  table " WHERE " extra "first <= ?1 ORDER BY first DESC LIMIT 1), ?1)"
static const char *const ix_sql[IX_COUNT] = {
    [IX_LOG_PUT] = "INSERT INTO idx_log(height, first, rows) VALUES (?3, ?1, ?2)",
    [IX_LOG_NEXT] = ("SELECT height FROM idx_log WHERE height > ?1 AND height <= ?2 "
                     "ORDER BY height LIMIT 1"),
    [IX_LOG_RANGE] = COVERING("idx_log", "height = ?3 AND ") " AND first < ?2 ORDER BY first",
    [IX_LOG_RANGE_ALL] = COVERING("idx_log", "height = ?3 AND ") " ORDER BY first",
    [IX_LOG_STATS] = "SELECT count(DISTINCT height), ifnull(sum(length(rows)), 0) FROM idx_log",
    [IX_LOG_FIRSTS] = "SELECT first FROM idx_log WHERE height <= ?1 ORDER BY first",
    [IX_LOG_CLEAR_TO] = "DELETE FROM idx_log WHERE height <= ?1",
    [IX_CHUNK_RANGE] = COVERING("idx_chunks", "") " AND first < ?2 ORDER BY first",
    [IX_CHUNK_RANGE_ALL] = COVERING("idx_chunks", "") " ORDER BY first",
    [IX_CHUNK_AT] = ("SELECT first, last, length(rows) FROM idx_chunks WHERE first <= ?1 "
                     "ORDER BY first DESC LIMIT 1"),
    [IX_CHUNK_GET] = "SELECT rows FROM idx_chunks WHERE first = ?1",
    [IX_CHUNK_NEXT] = "SELECT first FROM idx_chunks WHERE first > ?1 ORDER BY first LIMIT 1",
    [IX_CHUNK_DEL] = "DELETE FROM idx_chunks WHERE first = ?1",
    [IX_CHUNK_PUT] = "INSERT INTO idx_chunks(first, last, rows) VALUES (?1, ?3, ?2)",
};

enum {
  CHUNK_BYTES = 8192,
  LOG_CHUNK_BYTES = 16 << 10,
};

void store_index_init(store_index *ix) {
  memset(ix, 0, sizeof *ix);
  ix->log_heights = -1;
  ix->fold_top = -1;
  ix->log_max = HANSE_STORE_INDEX_LOG_BYTES;
  ix->log_blocks = HANSE_STORE_INDEX_LOG_BLOCKS;
  ix->chunk_max = CHUNK_BYTES;
  ix->log_chunk_max = LOG_CHUNK_BYTES;
}

static void fold_end(store_index *ix) {
  free(ix->bounds);
  free(ix->bound_at);
  ix->bounds = NULL;
  ix->bound_at = NULL;
  ix->nbounds = ix->fold_next = 0;
  ix->fold_top = -1;
}

void store_index_begin(store_index *ix) {
  ix->begin_top = ix->fold_top;
  ix->begin_next = ix->fold_next;
}

void store_index_rollback(store_index *ix) {
  ix->log_heights = -1;
  if (ix->fold_top >= 0 && ix->fold_top == ix->begin_top)
    ix->fold_next = ix->begin_next; /* its slices of this transaction are undone */
  else
    fold_end(ix);
}

void store_index_close(store_index *ix) {
  for (int i = 0; i < IX_COUNT; i++) sqlite3_finalize(ix->st[i]);
  memset(ix->st, 0, sizeof ix->st);
  fold_end(ix);
}

void hanse_store_set_index_sizes(hanse_store *s, size_t log_bytes, int log_blocks,
                                 size_t chunk_bytes) {
  store_index *ix = store_index_of(s);
  ix->log_max = log_bytes;
  ix->log_blocks = log_blocks;
  ix->chunk_max = ix->log_chunk_max = chunk_bytes;
}

static sqlite3_stmt *ix_stmt(hanse_store *s, int which) {
  store_index *ix = store_index_of(s);
  if (ix->st[which] == NULL &&
      sqlite3_prepare_v3(hanse_store_db(s), ix_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
                         &ix->st[which], NULL) != SQLITE_OK) {
    store_fail(s, sqlite3_errcode(hanse_store_db(s)), "index prepare");
    return NULL;
  }
  return ix->st[which];
}

static int done(hanse_store *s, sqlite3_stmt *st, int rc, const char *what) {
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? HANSE_OK : store_fail(s, rc, what);
}

/* ---- rows copied out of packs ---- */

typedef struct ix_row {
  size_t koff, klen, voff, vlen; /* in the set's arena */
  int64_t height;                /* the block (log rows); -1 for chunk rows */
} ix_row;

typedef struct ix_rows {
  hanse_buf arena;
  ix_row *r;
  size_t n, cap;
} ix_rows;

static void rows_free(ix_rows *rs) {
  hanse_buf_free(&rs->arena);
  free(rs->r);
}

static int rows_add(ix_rows *rs, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
                    int64_t height) {
  if (rs->n == rs->cap) {
    size_t cap = rs->cap ? rs->cap * 2 : 256;
    ix_row *r = realloc(rs->r, cap * sizeof *r);
    if (r == NULL) return HANSE_ERR(NOMEM);
    rs->r = r;
    rs->cap = cap;
  }
  ix_row *r = &rs->r[rs->n++];
  r->koff = rs->arena.len;
  r->klen = kl;
  hanse_buf_put(&rs->arena, k, kl);
  r->voff = rs->arena.len;
  r->vlen = vl;
  hanse_buf_put(&rs->arena, v, vl);
  r->height = height;
  return hanse_buf_status(&rs->arena);
}

/* Runs: rows come height by height, each height's in key order; a run
 * starts at each new height. */
typedef struct ix_run {
  size_t at, end;
} ix_run;

static int run_less(const ix_rows *rs, const ix_run *a, const ix_run *b) {
  const ix_row *x = &rs->r[a->at], *y = &rs->r[b->at];
  int c = hanse_store_key_cmp(rs->arena.data + x->koff, x->klen, rs->arena.data + y->koff,
                              y->klen);
  return c ? c < 0 : x->height > y->height; /* a key's latest row first */
}

static void heap_down(const ix_rows *rs, ix_run *h, size_t n, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, m = i;
    if (l < n && run_less(rs, &h[l], &h[m])) m = l;
    if (l + 1 < n && run_less(rs, &h[l + 1], &h[m])) m = l + 1;
    if (m == i) return;
    ix_run t = h[i];
    h[i] = h[m];
    h[m] = t;
    i = m;
  }
}

/* Merge the runs into key order, keeping each key's latest row only. */
static int rows_settle(ix_rows *rs) {
  size_t nruns = 0;
  for (size_t i = 0; i < rs->n; i++)
    if (i == 0 || rs->r[i].height != rs->r[i - 1].height) nruns++;
  if (nruns == 0) return HANSE_OK;
  ix_run *h = malloc(nruns * sizeof *h);
  ix_row *out = malloc(rs->n * sizeof *out);
  if (h == NULL || out == NULL) {
    free(h);
    free(out);
    return HANSE_ERR(NOMEM);
  }
  size_t k = 0;
  for (size_t i = 0; i < rs->n; i++) {
    if (i == 0 || rs->r[i].height != rs->r[i - 1].height) h[k++].at = i;
    h[k - 1].end = i + 1;
  }
  for (size_t i = nruns / 2; i-- > 0;) heap_down(rs, h, nruns, i);
  size_t w = 0;
  while (nruns > 0) {
    const ix_row *r = &rs->r[h[0].at];
    if (w == 0 || hanse_store_key_cmp(rs->arena.data + out[w - 1].koff, out[w - 1].klen,
                                      rs->arena.data + r->koff, r->klen) != 0)
      out[w++] = *r;
    if (++h[0].at == h[0].end) h[0] = h[--nruns];
    heap_down(rs, h, nruns, 0);
  }
  free(h);
  free(rs->r);
  rs->r = out;
  rs->cap = rs->n;
  rs->n = w;
  return HANSE_OK;
}

/* ---- the key range of a scan ---- */

typedef struct ix_range {
  const uint8_t *start; /* keys >= start ... */
  size_t slen;
  int skip_start;       /* ... but not start itself (an `after`) */
  const uint8_t *hi;    /* ... and < hi, unless open_end */
  size_t hlen;
  int open_end;
} ix_range;

static int in_range(const ix_range *g, const uint8_t *k, size_t kl) {
  int c = hanse_store_key_cmp(k, kl, g->start, g->slen);
  if (c < 0 || (c == 0 && g->skip_start)) return 0;
  return g->open_end || hanse_store_key_cmp(k, kl, g->hi, g->hlen) < 0 ? 1 : 2; /* 2: past */
}

static void bind_range(sqlite3_stmt *st, const ix_range *g) {
  sqlite3_bind_blob(st, 1, g->start, (int)g->slen, SQLITE_STATIC);
  if (!g->open_end) sqlite3_bind_blob(st, 2, g->hi, (int)g->hlen, SQLITE_STATIC);
}

/* The log's rows in range of the heights <= top, at most `limit` (-1:
 * all) of each height, settled. */
static int log_collect(hanse_store *s, const ix_range *g, int limit, int64_t top,
                       ix_rows *out) {
  sqlite3_stmt *next = ix_stmt(s, IX_LOG_NEXT);
  sqlite3_stmt *st = ix_stmt(s, g->open_end ? IX_LOG_RANGE_ALL : IX_LOG_RANGE);
  if (next == NULL || st == NULL) return HANSE_ERR(INTERNAL);
  int64_t height = -1;
  int rc = HANSE_OK;
  while (rc == HANSE_OK) {
    sqlite3_bind_int64(next, 1, height);
    sqlite3_bind_int64(next, 2, top);
    int src = sqlite3_step(next);
    if (src == SQLITE_ROW) height = sqlite3_column_int64(next, 0);
    rc = done(s, next, src, "index log");
    if (rc != HANSE_OK || src != SQLITE_ROW) break;
    bind_range(st, g);
    sqlite3_bind_int64(st, 3, height);
    int taken = 0, past = 0;
    while (rc == HANSE_OK && !past && (limit < 0 || taken < limit) &&
           (src = sqlite3_step(st)) == SQLITE_ROW) {
      hanse_rowpack_rd rd;
      hanse_rowpack_rd_init(&rd, sqlite3_column_blob(st, 0),
                            (size_t)sqlite3_column_bytes(st, 0));
      while (rc == HANSE_OK && (limit < 0 || taken < limit) &&
             hanse_rowpack_next(&rd) == HANSE_OK) {
        int in = in_range(g, rd.key, rd.klen);
        if (in == 2) {
          past = 1;
          break;
        }
        if (in == 0) continue;
        rc = rows_add(out, rd.key, rd.klen, rd.val, rd.vlen, height);
        taken++;
      }
      if (rc == HANSE_OK && rd.broken) rc = HANSE_ERR(CHAIN_BROKEN);
    }
    int drc = done(s, st, src, "index log scan");
    if (rc == HANSE_OK) rc = drc;
  }
  if (rc == HANSE_OK) rc = rows_settle(out);
  return rc;
}

/* A stream of the chunks' rows in range. */
typedef struct chunk_cur {
  hanse_store *s;
  sqlite3_stmt *st;
  const ix_range *g;
  hanse_rowpack_rd rd;
  int have_pack;
  const uint8_t *key, *val; /* the current row (valid until the next call) */
  size_t klen, vlen;
} chunk_cur;

/* The next row: HANSE_OK, HANSE_ERR(NOT_FOUND) past the range, an error. */
static int chunk_next(chunk_cur *c) {
  for (;;) {
    if (!c->have_pack) {
      int src = sqlite3_step(c->st);
      if (src == SQLITE_DONE) return HANSE_ERR(NOT_FOUND);
      if (src != SQLITE_ROW) return store_fail(c->s, src, "index scan");
      hanse_rowpack_rd_init(&c->rd, sqlite3_column_blob(c->st, 0),
                            (size_t)sqlite3_column_bytes(c->st, 0));
      c->have_pack = 1;
    }
    int rc = hanse_rowpack_next(&c->rd);
    if (rc == HANSE_ERR(NOT_FOUND)) {
      c->have_pack = 0;
      continue;
    }
    if (rc != HANSE_OK) return rc;
    int in = in_range(c->g, c->rd.key, c->rd.klen);
    if (in == 2) return HANSE_ERR(NOT_FOUND);
    if (in == 0) continue;
    c->key = c->rd.key;
    c->klen = c->rd.klen;
    c->val = c->rd.val;
    c->vlen = c->rd.vlen;
    return HANSE_OK;
  }
}

int hanse_store_index_scan(hanse_store *s, const void *prefix, size_t plen,
                           const void *after, size_t alen, int limit,
                           hanse_state_visit_fn fn, void *ctx) {
  ix_range g;
  uint8_t hi[STORE_PREFIX_MAX];
  if (plen >= sizeof hi) return HANSE_ERR(INVALID);
  if (limit == 0) return HANSE_OK;
  g.open_end = store_prefix_end(prefix, plen, hi, &g.hlen);
  g.hi = hi;
  /* strictly after `after`; one below the prefix starts at the prefix */
  g.skip_start = after && alen && hanse_store_key_cmp(after, alen, prefix, plen) >= 0;
  g.start = g.skip_start ? after : prefix;
  g.slen = g.skip_start ? alen : plen;

  ix_rows lg = {0};
  hanse_buf_init(&lg.arena);
  int rc = log_collect(s, &g, limit, INT64_MAX, &lg);
  chunk_cur c = {.s = s, .g = &g};
  c.st = rc == HANSE_OK ? ix_stmt(s, g.open_end ? IX_CHUNK_RANGE_ALL : IX_CHUNK_RANGE) : NULL;
  if (rc == HANSE_OK && c.st == NULL) rc = HANSE_ERR(INTERNAL);
  if (rc != HANSE_OK) {
    rows_free(&lg);
    return rc;
  }
  bind_range(c.st, &g);
  int crc = chunk_next(&c);
  size_t li = 0;
  for (int emitted = 0; limit < 0 || emitted < limit; emitted++) {
    const ix_row *r = li < lg.n ? &lg.r[li] : NULL;
    if (crc != HANSE_OK && crc != HANSE_ERR(NOT_FOUND)) break;
    if (r == NULL && crc != HANSE_OK) break;
    int cmp = r == NULL ? 1
              : crc != HANSE_OK
                  ? -1
                  : hanse_store_key_cmp(lg.arena.data + r->koff, r->klen, c.key, c.klen);
    int stop;
    if (cmp <= 0) { /* the log's row; on a tie it replaces the chunk's */
      if (cmp == 0) crc = chunk_next(&c);
      stop = fn(ctx, lg.arena.data + r->koff, r->klen, lg.arena.data + r->voff, r->vlen);
      li++;
    } else {
      stop = fn(ctx, c.key, c.klen, c.val, c.vlen);
      crc = chunk_next(&c);
    }
    if (stop) break;
  }
  if (crc != HANSE_OK && crc != HANSE_ERR(NOT_FOUND)) rc = crc;
  sqlite3_reset(c.st);
  sqlite3_clear_bindings(c.st);
  rows_free(&lg);
  return rc;
}

/* ---- writing ---- */

/* Cut rows into packs of at most `max` bytes (a row larger than that gets
 * a pack of its own) and insert each with its first key: `height` >= 0
 * into the log, -1 into the chunks. */
typedef struct pack_out {
  hanse_store *s;
  sqlite3_stmt *st;
  int64_t height;
  size_t max;
  hanse_buf pack;
  size_t first_len;    /* the pack's first key is pack.data + 4 */
  size_t last_at, last_len; /* its last key */
  int64_t bytes;       /* written */
} pack_out;

static int pack_flush(pack_out *o) {
  if (o->pack.len == 0) return HANSE_OK;
  int rc = hanse_buf_status(&o->pack);
  if (rc != HANSE_OK) return rc;
  sqlite3_bind_blob(o->st, 1, o->pack.data + 4, (int)o->first_len, SQLITE_STATIC);
  sqlite3_bind_blob(o->st, 2, o->pack.data, (int)o->pack.len, SQLITE_STATIC);
  if (o->height >= 0)
    sqlite3_bind_int64(o->st, 3, o->height);
  else
    sqlite3_bind_blob(o->st, 3, o->pack.data + o->last_at, (int)o->last_len, SQLITE_STATIC);
  rc = done(o->s, o->st, sqlite3_step(o->st), "index put");
  o->bytes += (int64_t)o->pack.len;
  hanse_buf_reset(&o->pack);
  return rc;
}

/* The length of a key's group: up to and including its last '/'; for the
 * audit trail's key rows, all but the height (one state key's rows). */
static size_t group_len(const uint8_t *k, size_t kl) {
  if (kl > 8 && k[0] == HANSE_HISTORY_KEY_TAG) return kl - 8;
  while (kl > 0 && k[kl - 1] != '/') kl--;
  return kl;
}

/* A pack of the chunks also ends where a key group ends, once it holds a
 * quarter of its bytes: an account's rows of one fold then make packs of
 * their own, which the next fold leaves as they are (fold_pack). */
static int group_ends(const pack_out *o, const uint8_t *k, size_t kl) {
  if (o->height >= 0 || o->pack.len < o->max / 4) return 0;
  const uint8_t *last = o->pack.data + o->last_at;
  size_t g = group_len(last, o->last_len);
  return g != group_len(k, kl) || memcmp(last, k, g) != 0;
}

static int pack_add(pack_out *o, const void *k, size_t kl, const void *v, size_t vl) {
  size_t row = HANSE_ROWPACK_ROW_FIXED_BYTES + kl + vl;
  if (o->pack.len > 0 && (o->pack.len + row > o->max || group_ends(o, k, kl))) {
    int rc = pack_flush(o);
    if (rc != HANSE_OK) return rc;
  }
  if (o->pack.len == 0) o->first_len = kl;
  o->last_at = o->pack.len + 4;
  o->last_len = kl;
  hanse_rowpack_put(&o->pack, k, kl, v, vl);
  return HANSE_OK;
}

static int log_stats(hanse_store *s, store_index *ix) {
  if (ix->log_heights >= 0) return HANSE_OK;
  sqlite3_stmt *st = ix_stmt(s, IX_LOG_STATS);
  if (st == NULL) return HANSE_ERR(INTERNAL);
  int src = sqlite3_step(st);
  if (src == SQLITE_ROW) {
    ix->log_heights = sqlite3_column_int64(st, 0);
    ix->log_bytes = sqlite3_column_int64(st, 1);
  }
  return done(s, st, src, "index log");
}

static int fold_start(hanse_store *s, store_index *ix, int64_t top);
static int fold_step(hanse_store *s, store_index *ix);

/* The audit trail's key rows of a block's history serialization, one per
 * group, into o: in key order, as the groups are (store.h). */
static int key_rows_add(pack_out *o, uint64_t height, const uint8_t *history, size_t hlen) {
  hanse_history_reader rd;
  hanse_history_reader_init(&rd, history, hlen, height);
  hanse_buf row;
  hanse_buf_init(&row);
  int rc, out = HANSE_OK;
  while (out == HANSE_OK && (rc = hanse_history_next_group(&rd)) == HANSE_OK) {
    HANSE_ASSERT(rd.klen <= HANSE_STATE_KEY_MAX);
    hanse_buf_reset(&row);
    hanse_history_key_row(&row, rd.key, rd.klen, height);
    out = hanse_buf_status(&row);
    if (out == HANSE_OK) out = pack_add(o, row.data, row.len, "", 0);
  }
  if (out == HANSE_OK) HANSE_ASSERT(rc == HANSE_ERR(NOT_FOUND)); /* the executor's */
  hanse_buf_free(&row);
  return out;
}

int hanse_store_index_put_block(hanse_store *s, uint64_t height, const uint8_t *history,
                                size_t hlen, const hanse_index_row *rows, size_t n) {
  int rc = store_writable(s);
  if (rc != HANSE_OK || (n == 0 && hlen == 0)) return rc;
  store_index *ix = store_index_of(s);
  rc = log_stats(s, ix);
  pack_out o = {.s = s, .st = ix_stmt(s, IX_LOG_PUT), .height = (int64_t)height,
                .max = ix->log_chunk_max};
  if (rc == HANSE_OK && o.st == NULL) rc = HANSE_ERR(INTERNAL);
  hanse_buf_init(&o.pack);
  if (rc == HANSE_OK) rc = key_rows_add(&o, height, history, hlen);
  for (size_t i = 0; i < n && rc == HANSE_OK; i++) {
    HANSE_ASSERT(rows[i].klen > 0 && rows[i].klen <= HANSE_ROWPACK_KEY_MAX);
    HANSE_ASSERT(((const uint8_t *)rows[i].key)[0] > HANSE_HISTORY_KEY_TAG);
    HANSE_ASSERT(i == 0 || hanse_store_key_cmp(rows[i - 1].key, rows[i - 1].klen, rows[i].key,
                                               rows[i].klen) < 0);
    rc = pack_add(&o, rows[i].key, rows[i].klen, rows[i].val, rows[i].vlen);
  }
  if (rc == HANSE_OK) rc = pack_flush(&o);
  hanse_buf_free(&o.pack);
  if (rc != HANSE_OK) return rc;
  ix->log_bytes += o.bytes;
  ix->log_heights++;
  if (ix->fold_top < 0) {
    if ((size_t)ix->log_bytes < ix->log_max && ix->log_heights < ix->log_blocks)
      return HANSE_OK;
    rc = fold_start(s, ix, (int64_t)height);
  }
  /* a slice a block; a log grown to twice its bound is folded at once */
  do {
    if (rc == HANSE_OK) rc = fold_step(s, ix);
  } while (rc == HANSE_OK && ix->fold_top >= 0 &&
           ((size_t)ix->log_bytes >= 2 * ix->log_max || ix->log_heights >= 2 * ix->log_blocks));
  return rc;
}

/* Copy the column's blob into buf (reset first). */
static int copy_col(hanse_buf *buf, sqlite3_stmt *st, int col) {
  hanse_buf_reset(buf);
  hanse_buf_put(buf, sqlite3_column_blob(st, col), (size_t)sqlite3_column_bytes(st, col));
  return hanse_buf_status(buf);
}

/* Merge the settled log rows lg->r[*i..] that fall in one chunk pack's
 * range into it: read the pack covering the first of them (if any), take
 * the rows below the next pack's first, write the merged rows back as
 * packs of at most chunk_max bytes. */
static int fold_pack(hanse_store *s, const ix_rows *lg, size_t *i, pack_out *o,
                     hanse_buf *old, hanse_buf *next) {
  const ix_row *r0 = &lg->r[*i];
  const uint8_t *k0 = lg->arena.data + r0->koff;
  sqlite3_stmt *at = ix_stmt(s, IX_CHUNK_AT), *nx = ix_stmt(s, IX_CHUNK_NEXT);
  sqlite3_stmt *get = ix_stmt(s, IX_CHUNK_GET), *del = ix_stmt(s, IX_CHUNK_DEL);
  if (at == NULL || nx == NULL || get == NULL || del == NULL) return HANSE_ERR(INTERNAL);
  sqlite3_bind_blob(at, 1, k0, (int)r0->klen, SQLITE_STATIC);
  int src = sqlite3_step(at), have_old = src == SQLITE_ROW, rc = HANSE_OK;
  hanse_buf first;
  hanse_buf_init(&first);
  if (have_old) {
    rc = copy_col(&first, at, 0);
    /* The usual case, rows added after a pack's last and the pack at
     * least half full: they make packs of their own, the pack stays. */
    if (hanse_store_key_cmp(k0, r0->klen, sqlite3_column_blob(at, 1),
                            (size_t)sqlite3_column_bytes(at, 1)) > 0 &&
        (size_t)sqlite3_column_int64(at, 2) >= o->max / 2)
      have_old = 0;
  }
  int drc = done(s, at, src, "index fold");
  if (rc == HANSE_OK) rc = drc;
  sqlite3_bind_blob(nx, 1, k0, (int)r0->klen, SQLITE_STATIC);
  src = sqlite3_step(nx);
  int have_next = src == SQLITE_ROW;
  if (rc == HANSE_OK && have_next) rc = copy_col(next, nx, 0);
  drc = done(s, nx, src, "index fold");
  if (rc == HANSE_OK) rc = drc;
  if (rc == HANSE_OK && have_old) {
    sqlite3_bind_blob(get, 1, first.data, (int)first.len, SQLITE_STATIC);
    src = sqlite3_step(get);
    rc = src == SQLITE_ROW ? copy_col(old, get, 0) : HANSE_OK;
    drc = done(s, get, src, "index fold");
    if (rc == HANSE_OK) rc = drc;
    if (rc == HANSE_OK && src != SQLITE_ROW) rc = HANSE_ERR(INTERNAL);
    sqlite3_bind_blob(del, 1, first.data, (int)first.len, SQLITE_STATIC);
    if (rc == HANSE_OK) rc = done(s, del, sqlite3_step(del), "index fold");
  }
  hanse_buf_free(&first);
  if (rc != HANSE_OK) return rc;
  /* merge the old pack's rows with the log's below the next pack */
  hanse_rowpack_rd rd;
  hanse_rowpack_rd_init(&rd, have_old ? old->data : NULL, have_old ? old->len : 0);
  int orc = hanse_rowpack_next(&rd);
  size_t j = *i;
  for (;;) {
    const ix_row *r = NULL;
    if (j < lg->n) {
      r = &lg->r[j];
      if (have_next && hanse_store_key_cmp(lg->arena.data + r->koff, r->klen, next->data,
                                           next->len) >= 0)
        r = NULL;
    }
    if (r == NULL && orc != HANSE_OK) break;
    int cmp = r == NULL ? 1
              : orc != HANSE_OK
                  ? -1
                  : hanse_store_key_cmp(lg->arena.data + r->koff, r->klen, rd.key, rd.klen);
    if (cmp <= 0) {
      if (cmp == 0) orc = hanse_rowpack_next(&rd);
      rc = pack_add(o, lg->arena.data + r->koff, r->klen, lg->arena.data + r->voff, r->vlen);
      j++;
    } else {
      rc = pack_add(o, rd.key, rd.klen, rd.val, rd.vlen);
      orc = hanse_rowpack_next(&rd);
    }
    if (rc != HANSE_OK) return rc;
  }
  if (orc != HANSE_ERR(NOT_FOUND)) return orc;
  *i = j;
  return pack_flush(o);
}

/* Fold settled log rows into the chunks. */
static int fold_rows(hanse_store *s, store_index *ix, const ix_rows *lg) {
  pack_out o = {.s = s, .st = ix_stmt(s, IX_CHUNK_PUT), .height = -1, .max = ix->chunk_max};
  hanse_buf_init(&o.pack);
  hanse_buf old, next;
  hanse_buf_init(&old);
  hanse_buf_init(&next);
  int rc = o.st == NULL ? HANSE_ERR(INTERNAL) : HANSE_OK;
  for (size_t i = 0; rc == HANSE_OK && i < lg->n;) rc = fold_pack(s, lg, &i, &o, &old, &next);
  hanse_buf_free(&o.pack);
  hanse_buf_free(&old);
  hanse_buf_free(&next);
  return rc;
}

/* A fold of the log's heights <= top begins: its slices' bounds are
 * every nth of those heights' pack first keys, so each slice holds about
 * as many of their bytes. */
static int fold_start(hanse_store *s, store_index *ix, int64_t top) {
  sqlite3_stmt *st = ix_stmt(s, IX_LOG_FIRSTS);
  if (st == NULL) return HANSE_ERR(INTERNAL);
  fold_end(ix);
  hanse_buf keys;
  hanse_buf_init(&keys);
  size_t n = 0, cap = 0, *at = NULL;
  int rc = HANSE_OK, src;
  sqlite3_bind_int64(st, 1, top);
  while (rc == HANSE_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
    if (n + 1 >= cap) {
      cap = cap ? cap * 2 : 64;
      size_t *a = realloc(at, cap * sizeof *a);
      if (a == NULL) {
        rc = HANSE_ERR(NOMEM);
        break;
      }
      at = a;
    }
    at[n++] = keys.len;
    hanse_buf_put(&keys, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
    rc = hanse_buf_status(&keys);
  }
  int drc = done(s, st, rc == HANSE_OK ? src : SQLITE_DONE, "index fold");
  if (rc == HANSE_OK) rc = drc;
  if (rc == HANSE_OK && n > 0) at[n] = keys.len;
  /* bounds: the firsts at n*i/SLICES, i = 1.., strictly increasing */
  size_t slices = n < HANSE_STORE_INDEX_FOLD_SLICES ? n : HANSE_STORE_INDEX_FOLD_SLICES;
  if (rc == HANSE_OK && slices > 1) {
    ix->bounds = malloc(keys.len + 1);
    ix->bound_at = malloc(slices * sizeof *ix->bound_at);
    if (ix->bounds == NULL || ix->bound_at == NULL) rc = HANSE_ERR(NOMEM);
    size_t w = 0;
    for (size_t i = 1; rc == HANSE_OK && i < slices; i++) {
      size_t j = n * i / slices, len = at[j + 1] - at[j];
      const uint8_t *k = keys.data + at[j];
      if (ix->nbounds > 0 &&
          hanse_store_key_cmp(ix->bounds + ix->bound_at[ix->nbounds - 1],
                              w - ix->bound_at[ix->nbounds - 1], k, len) >= 0)
        continue;
      ix->bound_at[ix->nbounds++] = w;
      memcpy(ix->bounds + w, k, len);
      w += len;
    }
    if (rc == HANSE_OK) ix->bound_at[ix->nbounds] = w;
  }
  free(at);
  hanse_buf_free(&keys);
  if (rc != HANSE_OK) {
    fold_end(ix);
    return rc;
  }
  ix->fold_top = top;
  ix->fold_next = 0;
  return HANSE_OK;
}

/* Fold the next slice of the fold under way; after the last, the folded
 * heights leave the log. Until then a folded row is both in the log and in
 * the chunks, the same row: a scan takes the log's, as always. */
static int fold_step(hanse_store *s, store_index *ix) {
  static const uint8_t none[1];
  size_t i = ix->fold_next;
  ix_range g = {.start = none, .hi = none, .open_end = i >= ix->nbounds};
  if (i > 0) {
    g.start = ix->bounds + ix->bound_at[i - 1];
    g.slen = ix->bound_at[i] - ix->bound_at[i - 1];
  }
  if (!g.open_end) {
    g.hi = ix->bounds + ix->bound_at[i];
    g.hlen = ix->bound_at[i + 1] - ix->bound_at[i];
  }
  ix_rows lg = {0};
  hanse_buf_init(&lg.arena);
  int rc = log_collect(s, &g, -1, ix->fold_top, &lg);
  if (rc == HANSE_OK) rc = fold_rows(s, ix, &lg);
  rows_free(&lg);
  if (rc != HANSE_OK) return rc;
  if (++ix->fold_next <= ix->nbounds) return HANSE_OK;
  sqlite3_stmt *clear = ix_stmt(s, IX_LOG_CLEAR_TO);
  if (clear == NULL) return HANSE_ERR(INTERNAL);
  sqlite3_bind_int64(clear, 1, ix->fold_top);
  rc = done(s, clear, sqlite3_step(clear), "index fold");
  fold_end(ix);
  ix->log_heights = -1; /* counted again when next needed */
  return rc == HANSE_OK ? log_stats(s, ix) : rc;
}

int hanse_store_index_fold(hanse_store *s) {
  int rc = store_writable(s);
  if (rc != HANSE_OK) return rc;
  store_index *ix = store_index_of(s);
  /* one slice, every height: whatever was under way is folded too */
  fold_end(ix);
  ix->fold_top = INT64_MAX;
  return fold_step(s, ix);
}

/* Chains written before the packs kept one table row per row: the
 * derived index rows in a table `idx`, the audit trail's key rows in a
 * table `history_keys(key, height)`. Their rows become chunk packs and the
 * table goes, in one transaction each. They are older than any log row;
 * `idx` went before the chunks held anything, and key rows sort before
 * every module row, so the packs keep the chunks disjoint and in order
 * (a chain that had both tables gets its key rows' packs first). Without
 * such a table, nothing happens. */
static int migrate_table(hanse_store *s, const char *table, const char *select, int keys) {
  sqlite3 *db = hanse_store_db(s);
  sqlite3_stmt *st = NULL;
  int has;
  int rc = store_table_has(s, table, 0, &has);
  if (rc != HANSE_OK || !has) return rc;
  int src = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
  if (src == SQLITE_OK) src = sqlite3_prepare_v2(db, select, -1, &st, NULL);
  if (src != SQLITE_OK) {
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return store_fail(s, src, "index migration");
  }
  store_index *ix = store_index_of(s);
  pack_out o = {.s = s, .st = ix_stmt(s, IX_CHUNK_PUT), .height = -1, .max = ix->chunk_max};
  hanse_buf_init(&o.pack);
  hanse_buf row;
  hanse_buf_init(&row);
  rc = o.st ? HANSE_OK : HANSE_ERR(INTERNAL);
  while (rc == HANSE_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
    const void *k = sqlite3_column_blob(st, 0);
    size_t kl = (size_t)sqlite3_column_bytes(st, 0);
    if (!keys) {
      rc = pack_add(&o, k, kl, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1));
      continue;
    }
    if (kl > HANSE_STATE_KEY_MAX) {
      rc = HANSE_ERR(CHAIN_BROKEN);
      break;
    }
    hanse_buf_reset(&row);
    hanse_history_key_row(&row, k, kl, (uint64_t)sqlite3_column_int64(st, 1));
    rc = hanse_buf_status(&row);
    if (rc == HANSE_OK) rc = pack_add(&o, row.data, row.len, "", 0);
  }
  if (rc == HANSE_OK && src != SQLITE_DONE) rc = store_fail(s, src, "index migration");
  sqlite3_finalize(st);
  if (rc == HANSE_OK) rc = pack_flush(&o);
  hanse_buf_free(&o.pack);
  hanse_buf_free(&row);
  char sql[64];
  snprintf(sql, sizeof sql, "DROP TABLE %s; COMMIT", table);
  if (rc == HANSE_OK && sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
    rc = store_fail(s, sqlite3_errcode(db), "index migration");
  if (rc != HANSE_OK) {
    HANSE_ERROR("store: cannot move the rows of table %s into the index packs", table);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  }
  return rc;
}

int store_index_migrate(hanse_store *s) {
  int rc = migrate_table(s, "history_keys",
                         "SELECT key, height FROM history_keys ORDER BY key, height DESC", 1);
  return rc == HANSE_OK ? migrate_table(s, "idx", "SELECT key, value FROM idx ORDER BY key", 0)
                        : rc;
}
