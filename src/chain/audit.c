/*
 * audit.c -- `hanse verify`: the offline audit of a data directory.
 *
 * Trust nothing stored. For each block from genesis: decode and re-hash the
 * header, check the hash link, the proposer's signature (a genesis
 * validator), every transaction and batch signature, the Merkle root; then
 * re-execute the block on a private in-memory database and compare the
 * state digest with the header's and every receipt with the stored
 * transaction index. At the end compare every row of the re-executed state
 * (and of the derived indexes)
 * with the stored state. The first mismatch stops the audit and is named:
 * block height, transaction index and id where one is at fault.
 *
 * The audit trail is compared block by block, without holding it in
 * memory. Its rows are a function of execution alone, and the executor
 * serializes a block's rows canonically (store.h), so the re-execution's
 * serialization (ex.history_unstored keeps it from the private store) must
 * equal the stored history_blocks row byte for byte. Where it does not,
 * one merge of the two in their common (key, index) order names the first
 * row that differs, with its key, block and transaction: a row missing, a
 * row added, another operation or another value hash. The trail's index,
 * a key row per (key, block that changed it), is derived index rows
 * (store.h), which the private store derives too: the comparison of every
 * index row at the end finds one deleted, altered or added and names its
 * key and block. A history_blocks row beyond the tip is found by counting
 * that table. Cost: one stored row read and compared per block, memory of
 * one block's rows, and of every state and index row at the end.
 */
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "chain/chain_internal.h"

typedef struct audit_receipts {
  hanse_receipt *want; /* re-executed */
  uint32_t n, seen;
  int64_t bad;
} audit_receipts;

static int audit_receipt_visit(void *ctx, const hanse_receipt *r) {
  audit_receipts *a = ctx;
  if (a->seen >= a->n || r->index != a->seen ||
      !hanse_hash_eq(&r->id, &a->want[a->seen].id) ||
      strcmp(r->code, a->want[a->seen].code) != 0) {
    a->bad = a->seen;
    return 1;
  }
  a->seen++;
  return 0;
}

/* Compare two state tables row by row (both sorted by key). */
typedef struct state_rows {
  hanse_buf keys;   /* concatenated (u32 klen, key, u32 vlen, value) */
} state_rows;

static int collect_visit(void *ctx, const uint8_t *k, size_t kl,
                         const uint8_t *v, size_t vl) {
  hanse_buf *b = ctx;
  hanse_buf_u32(b, (uint32_t)kl);
  hanse_buf_put(b, k, kl);
  hanse_buf_u32(b, (uint32_t)vl);
  hanse_buf_put(b, v, vl);
  return 0;
}

/* A row of the stored state or indexes that is not the re-executed one:
 * `ka` stored, `kb` re-derived (either NULL: none), named. An audit trail
 * key row (store.h) is named by its key and block, which is *bad_height. */
static int row_reject(const char *what, int index, const uint8_t *ka, size_t kla,
                      const uint8_t *kb, size_t klb, int64_t *bad_height, hanse_reject *rej) {
  int cmp = ka == NULL ? 1 : kb == NULL ? -1 : hanse_store_key_cmp(ka, kla, kb, klb);
  const uint8_t *k = cmp <= 0 ? ka : kb;
  size_t kl = cmp <= 0 ? kla : klb;
  hanse_buf key;
  hanse_buf_init(&key);
  uint64_t height;
  int rc;
  if (index && hanse_history_key_row_read(k, kl, &key, &height)) {
    int n = key.len > 100 ? 100 : (int)key.len;
    *bad_height = height <= (uint64_t)INT64_MAX ? (int64_t)height : -1;
    rc = hanse_reject_set(
        rej, HANSE_ERR(CHAIN_BROKEN), "block %" PRIu64 ": the history index %s '%.*s'%s", height,
        cmp > 0 ? "has no row of" : cmp < 0 ? "names" : "holds another row of", n,
        (const char *)key.data,
        cmp > 0   ? " (a missing or altered index row)"
        : cmp < 0 ? ", which the block did not change (an added or altered index row)"
                  : " (an altered index row)");
  } else {
    int n = kl > 100 ? 100 : (int)kl;
    rc = hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN), "%s row '%.*s' differs from the "
                          "re-executed %s%s", what, n, (const char *)k,
                          index ? "indexes" : "state",
                          cmp > 0 ? " (missing)" : cmp < 0 ? " (extra)" : "");
  }
  hanse_buf_free(&key);
  return rc;
}

/* Every row of the state (index 0) or of the derived indexes (1), the
 * audit trail's key rows among them, equals the re-executed one; the
 * first that does not is named (merged in key order: a row missing, a row
 * added, another value). */
static int audit_rows(hanse_store *stored, hanse_store *mem, int index, int64_t *bad_height,
                      hanse_reject *rej) {
  int (*scan)(hanse_store *, const void *, size_t, const void *, size_t, int,
              hanse_state_visit_fn, void *) =
      index ? hanse_store_index_scan : hanse_store_state_scan;
  const char *what = index ? "index" : "state";
  hanse_buf a, b;
  hanse_buf_init(&a);
  hanse_buf_init(&b);
  int rc = scan(stored, "", 0, NULL, 0, -1, collect_visit, &a);
  if (rc == HANSE_OK) rc = scan(mem, "", 0, NULL, 0, -1, collect_visit, &b);
  if (rc == HANSE_OK) rc = hanse_buf_status(&a) ? hanse_buf_status(&a) : hanse_buf_status(&b);
  if (rc != HANSE_OK) {
    hanse_buf_free(&a);
    hanse_buf_free(&b);
    return hanse_reject_set(rej, rc, "cannot read the %s rows", what);
  }
  hanse_rd ra, rb;
  hanse_rd_init(&ra, a.data, a.len);
  hanse_rd_init(&rb, b.data, b.len);
  rc = HANSE_OK;
  while (hanse_rd_left(&ra) || hanse_rd_left(&rb)) {
    uint32_t kla = 0, vla = 0, klb = 0, vlb = 0;
    const uint8_t *ka = NULL, *va = NULL, *kb = NULL, *vb = NULL;
    if (hanse_rd_left(&ra)) {
      hanse_rd_u32(&ra, &kla); hanse_rd_view(&ra, &ka, kla);
      hanse_rd_u32(&ra, &vla); hanse_rd_view(&ra, &va, vla);
    }
    if (hanse_rd_left(&rb)) {
      hanse_rd_u32(&rb, &klb); hanse_rd_view(&rb, &kb, klb);
      hanse_rd_u32(&rb, &vlb); hanse_rd_view(&rb, &vb, vlb);
    }
    if (ka == NULL || kb == NULL || kla != klb || memcmp(ka, kb, kla) != 0 ||
        vla != vlb || memcmp(va, vb, vla) != 0) {
      rc = row_reject(what, index, ka, kla, kb, klb, bad_height, rej);
      break;
    }
  }
  hanse_buf_free(&a);
  hanse_buf_free(&b);
  return rc;
}

/* ---- the audit trail ---- */

/* "block H tx I <id>" or "block 0 (genesis)" for a row's position. */
static void history_where(char *out, size_t n, uint64_t pos, const hanse_body *body,
                          int64_t *bad_tx) {
  uint32_t idx = HANSE_POS_INDEX(pos);
  char hex[HANSE_HASH_HEX_BYTES] = "";
  *bad_tx = -1;
  if (idx == HANSE_HISTORY_GENESIS_INDEX) {
    snprintf(out, n, "block %" PRIu64 " (genesis)", HANSE_POS_HEIGHT(pos));
    return;
  }
  *bad_tx = idx;
  if (body && idx < body->tx_count) hanse_hash_hex(hex, &body->txs[idx]->id);
  snprintf(out, n, "block %" PRIu64 " tx %" PRIu32 "%s%s", HANSE_POS_HEIGHT(pos), idx,
           hex[0] ? " " : "", hex);
}

static int row_cmp(const hanse_history_row *a, const hanse_history_row *b) {
  size_t n = a->klen < b->klen ? a->klen : b->klen;
  int c = n ? memcmp(a->key, b->key, n) : 0;
  if (c == 0 && a->klen != b->klen) c = a->klen < b->klen ? -1 : 1;
  if (c == 0 && a->pos != b->pos) c = a->pos < b->pos ? -1 : 1;
  return c;
}

static int history_row_reject(const hanse_history_row *r, const char *what,
                              const hanse_body *body, int64_t *bad_tx, hanse_reject *rej) {
  char where[160];
  history_where(where, sizeof where, r->pos, body, bad_tx);
  int kl = r->klen > 100 ? 100 : (int)r->klen;
  return hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN), "%s: history row of '%.*s' %s", where,
                          kl, (const char *)r->key, what);
}

/* The first row where the stored serialization `have` departs from the
 * re-derived `want` (they differ), merged in (key, index) order. */
static int history_first_difference(uint64_t height, const uint8_t *want, size_t want_len,
                                    const uint8_t *have, size_t have_len,
                                    const hanse_body *body, int64_t *bad_tx,
                                    hanse_reject *rej) {
  hanse_history_reader rw, rh;
  hanse_history_reader_init(&rw, want, want_len, height);
  hanse_history_reader_init(&rh, have, have_len, height);
  hanse_history_row w, h;
  int wrc = hanse_history_next(&rw, &w);
  int hrc = hanse_history_next(&rh, &h);
  HANSE_ASSERT(wrc == HANSE_OK || wrc == HANSE_ERR(NOT_FOUND)); /* the executor's */
  for (;;) {
    if (hrc != HANSE_OK && hrc != HANSE_ERR(NOT_FOUND))
      return hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN),
                              "block %" PRIu64 ": the stored history is malformed", height);
    if (wrc != HANSE_OK && hrc != HANSE_OK) break;
    int c = wrc != HANSE_OK ? 1 : hrc != HANSE_OK ? -1 : row_cmp(&w, &h);
    if (c < 0) return history_row_reject(&w, "is missing", body, bad_tx, rej);
    if (c > 0)
      return history_row_reject(&h, "was not derived by re-execution (an added row)", body,
                                bad_tx, rej);
    if (w.op != h.op)
      return history_row_reject(&w, "records another operation than re-execution", body,
                                bad_tx, rej);
    if (!hanse_hash_eq(&w.vhash, &h.vhash))
      return history_row_reject(&w, "records another value than re-execution", body, bad_tx,
                                rej);
    wrc = hanse_history_next(&rw, &w);
    HANSE_ASSERT(wrc == HANSE_OK || wrc == HANSE_ERR(NOT_FOUND));
    hrc = hanse_history_next(&rh, &h);
  }
  /* Equal rows in other bytes: the reader accepts one layout per list of
   * rows (store.c), so this cannot be; say so rather than pass. */
  return hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN), "block %" PRIu64 ": history differs",
                          height);
}

/* Block `height`'s audit trail: the stored serialization (read into
 * `scratch`) equals the re-derived `want`. (Its key rows are derived index
 * rows, compared with the others at the end.) */
static int audit_history_block(hanse_store *stored, uint64_t height, const uint8_t *want,
                               size_t want_len, const hanse_body *body, hanse_buf *scratch,
                               int64_t *bad_tx, hanse_reject *rej) {
  int found = 0;
  int rc = hanse_store_history_block_get(stored, height, scratch, &found);
  if (rc != HANSE_OK) return hanse_reject_set(rej, rc, "cannot read the history");
  if (!found)
    return hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN),
                            "block %" PRIu64 ": the history of the block is missing", height);
  if (scratch->len != want_len || (want_len && memcmp(scratch->data, want, want_len) != 0))
    return history_first_difference(height, want, want_len, scratch->data, scratch->len, body,
                                    bad_tx, rej);
  return HANSE_OK;
}

/* After every block passed: the stored trail holds no block row beyond
 * the tip. */
static int audit_history_extra(hanse_store *stored, uint64_t tip, hanse_reject *rej) {
  uint64_t blocks = 0;
  int rc = hanse_store_history_block_count(stored, &blocks);
  if (rc != HANSE_OK) return hanse_reject_set(rej, rc, "cannot read the history");
  if (blocks != tip + 1)
    return hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN),
                            "the history holds %" PRIu64 " blocks, the chain has %" PRIu64
                            " (rows were added)",
                            blocks, tip + 1);
  return HANSE_OK;
}

int hanse_chain_audit(const char *dir, uint64_t *blocks_checked,
                      uint64_t *txs_checked, int64_t *bad_height,
                      int64_t *bad_tx, hanse_audit_progress_fn progress,
                      void *pctx, hanse_reject *rej) {
  *blocks_checked = *txs_checked = 0;
  *bad_height = *bad_tx = -1;
  char path[1100];
  snprintf(path, sizeof path, "%s/chain.db", dir);
  if (access(path, R_OK) != 0)
    return hanse_reject_set(rej, HANSE_ERR(NOT_FOUND), "no chain in %s", dir);
  hanse_store *stored = NULL, *mem = NULL;
  json_t *g = NULL;
  hanse_pubkey validators[HANSE_VALIDATORS_MAX];
  int vcount = 0;
  hanse_receipt *rs = NULL;
  hanse_buf hist_rows; /* a block's stored history rows */
  hanse_buf_init(&hist_rows);
  int rc = hanse_store_open(path, HANSE_STORE_READONLY, NULL, &stored, rej);
  if (rc != HANSE_OK) return rc;
  /* One read transaction: a consistent snapshot even while a node keeps
   * committing blocks to the same database (WAL). */
  if (sqlite3_exec(hanse_store_db(stored), "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
    hanse_store_close(stored);
    return hanse_reject_set(rej, HANSE_ERR(IO), "cannot start a read transaction on %s", path);
  }
  /* A chain no node of this version has opened still keeps its audit
   * trail's index in a table (store.h): its key rows are not there yet,
   * and comparing would cry tampering. */
  int old = 0;
  rc = hanse_store_unmigrated(stored, &old);
  if (rc != HANSE_OK)
    rc = hanse_reject_set(rej, rc, "cannot read the schema of %s", path);
  else if (old)
    rc = hanse_reject_set(rej, HANSE_ERR(INVALID),
                          "%s was written by an earlier version of hanse (it has a history_keys "
                          "table): start a node on it once, which moves that table into the "
                          "index, and verify again",
                          path);
  if (rc != HANSE_OK) goto done;
  rc = hanse_store_open(NULL, HANSE_STORE_MEMORY, NULL, &mem, rej);
  if (rc != HANSE_OK) goto done;
  rc = chain_load_genesis(stored, &g, rej);
  if (rc != HANSE_OK) {
    *bad_height = 0;
    goto done;
  }
  if (chain_genesis_validators(g, validators, &vcount) != HANSE_OK) {
    rc = hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN), "genesis names no validators");
    *bad_height = 0;
    goto done;
  }
  const char *chain_id = json_string_value(json_object_get(g, "chain_id"));
  uint64_t tip;
  rc = hanse_store_tip(stored, &tip);
  if (rc != HANSE_OK) {
    rc = hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN), "the chain has no blocks");
    *bad_height = 0;
    goto done;
  }
  hanse_hash prev_hash, prev_digest, prev_sum;
  memset(&prev_hash, 0, sizeof prev_hash);
  memset(&prev_digest, 0, sizeof prev_digest);
  memset(&prev_sum, 0, sizeof prev_sum);
  for (uint64_t height = 0; height <= tip; height++) {
    if (progress && (height % 1000 == 0 || height == tip)) progress(pctx, height, tip);
    hanse_block_row row;
    rc = hanse_store_block_get(stored, height, 1, &row);
    if (rc != HANSE_OK) {
      *bad_height = (int64_t)height;
      rc = hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN),
                            "block %" PRIu64 " is missing or unreadable", height);
      goto done;
    }
    hanse_header h;
    hanse_body body;
    rc = chain_check_block(&row, chain_id, &prev_hash, validators, vcount, 1, &h,
                           &body, bad_tx, rej);
    if (rc != HANSE_OK) {
      *bad_height = (int64_t)height;
      hanse_block_row_free(&row);
      goto done;
    }
    /* Re-execute. */
    hanse_exec ex;
    int hist_rc = HANSE_OK;
    int64_t hist_tx = -1;
    hanse_reject hist_rej;
    hanse_reject_clear(&hist_rej);
    free(rs);
    rs = calloc(body.tx_count ? body.tx_count : 1, sizeof *rs);
    int ok = rs != NULL && hanse_store_begin(mem) == HANSE_OK;
    /* The policy in force when the block began (policy.c). */
    json_t *policy = NULL;
    if (ok) ok = hanse_policy_load(mem, g, &policy) == HANSE_OK;
    if (ok) ok = hanse_exec_begin(&ex, mem, height, h.time_ms, &prev_digest, &prev_sum) == HANSE_OK;
    if (ok) ex.policy = policy;
    if (ok) {
      if (height == 0)
        ok = body.tx_count == 0 && chain_genesis_apply(&ex, g) == HANSE_OK;
      else
        ok = chain_execute_body(&ex, &body, chain_id, NULL, rs) == HANSE_OK;
      hanse_hash digest = {{0}}, sum = {{0}};
      if (ok) ex.history_unstored = 1; /* compared below, not kept */
      if (ok) ok = hanse_exec_finish(&ex, &digest, &sum) == HANSE_OK;
      if (ok) {
        size_t hl;
        const uint8_t *hr = hanse_exec_history(&ex, &hl);
        hist_rc = audit_history_block(stored, height, hr, hl, &body, &hist_rows, &hist_tx,
                                      &hist_rej);
      }
      hanse_exec_free(&ex);
      json_decref(policy);
      if (ok) ok = hanse_store_commit(mem) == HANSE_OK;
      else hanse_store_rollback(mem);
      if (!ok) {
        rc = hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN),
                              "block %" PRIu64 ": re-execution failed", height);
      } else if (!hanse_hash_eq(&digest, &h.state_digest)) {
        rc = hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN),
                              "block %" PRIu64 ": state digest differs from re-execution",
                              height);
      } else if (!hanse_hash_eq(&sum, &row.state_sum)) {
        rc = hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN),
                              "block %" PRIu64 ": stored state sum differs from re-execution",
                              height);
      }
      prev_digest = digest;
      prev_sum = sum;
    } else {
      json_decref(policy);
      rc = hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN),
                            "block %" PRIu64 ": cannot re-execute", height);
    }
    if (rc == HANSE_OK) {
      hanse_sha256_state hs;
      hanse_hash rh;
      chain_receipts_hash_init(&hs);
      for (uint32_t i = 0; i < body.tx_count; i++) chain_receipts_hash_add(&hs, &rs[i]);
      hanse_sha256_final(&hs, &rh);
      if (!hanse_hash_eq(&rh, &row.receipts_hash))
        rc = hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN),
                              "block %" PRIu64 ": stored receipts hash differs from re-execution",
                              height);
    }
    if (rc == HANSE_OK) {
      audit_receipts ar = {rs, body.tx_count, 0, -1};
      int src = hanse_store_tx_scan_block(stored, height, audit_receipt_visit, &ar);
      if (src != HANSE_OK || ar.bad >= 0 || ar.seen != ar.n) {
        int64_t bi = ar.bad >= 0 ? ar.bad : (int64_t)ar.seen;
        *bad_tx = bi < (int64_t)body.tx_count ? bi : -1;
        char hex[HANSE_HASH_HEX_BYTES] = "";
        if (*bad_tx >= 0) hanse_hash_hex(hex, &body.txs[*bad_tx]->id);
        rc = hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN),
                              "block %" PRIu64 " tx %" PRId64 " %s: stored receipt differs from re-execution",
                              height, *bad_tx, hex);
      }
    }
    if (rc == HANSE_OK && hist_rc != HANSE_OK) {
      if (rej) *rej = hist_rej;
      *bad_tx = hist_tx;
      rc = hist_rc;
    }
    /* A node vote changes the validator set from the next block on. */
    if (rc == HANSE_OK && chain_state_validators(mem, validators, &vcount) != HANSE_OK) {
      rc = hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN),
                            "block %" PRIu64 ": the state names no validators", height);
    }
    *txs_checked += body.tx_count;
    prev_hash = row.hash;
    hanse_body_free(&body);
    hanse_block_row_free(&row);
    if (rc != HANSE_OK) {
      *bad_height = (int64_t)height;
      goto done;
    }
    (*blocks_checked)++;
  }
  *bad_height = (int64_t)tip;
  rc = audit_rows(stored, mem, 0, bad_height, rej);
  if (rc == HANSE_OK) rc = audit_rows(stored, mem, 1, bad_height, rej);
  if (rc == HANSE_OK) rc = audit_history_extra(stored, tip, rej);
  if (rc == HANSE_OK) *bad_height = -1;
done:
  free(rs);
  hanse_buf_free(&hist_rows);
  json_decref(g);
  hanse_store_close(mem);
  sqlite3_exec(hanse_store_db(stored), "COMMIT", NULL, NULL, NULL);
  hanse_store_close(stored);
  return rc;
}
