/*
 * chain.c -- creating, opening and extending a chain (see chain.h).
 *
 * The path of a block: the sequencer hands hanse_chain_propose an encoded
 * body; the body is decoded (structure only: signatures were checked on
 * submission), executed through the module registry into a write cache,
 * and then, inside one SQLite transaction, the state changes, the block row
 * and one receipt row per transaction are written and committed with a
 * durable sync. Only after the commit returns is the in-memory tip moved
 * and the block acknowledged.
 *
 * A node whose key is a validator also signs each block's hash as it
 * commits it (encoding/cert.h), in the same transaction: its share of the
 * block's commit certificate, durable with the block.
 *
 * Divergence (hanse_chain_diverge) is recorded here, under the tip's
 * lock, because every engine and the API read it: once set, execute
 * refuses every block.
 *
 * Invariant: tip.height is the highest committed block; tip.hash its hash;
 * tip.state_sum equals the sum over every state row (checked at open).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/log.h"
#include "chain/chain_internal.h"
#include "crypto/merkle.h"
#include "encoding/cert.h"

int chain_load_genesis(hanse_store *s, json_t **out, hanse_reject *rej) {
  hanse_buf b;
  hanse_buf_init(&b);
  int rc = hanse_store_meta_get(s, "genesis", &b);
  if (rc != HANSE_OK) {
    hanse_buf_free(&b);
    return hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN), "no genesis in the store");
  }
  json_error_t jerr;
  *out = json_loadb((const char *)b.data, b.len, JSON_REJECT_DUPLICATES, &jerr);
  hanse_buf_free(&b);
  if (*out == NULL || hanse_genesis_validate(*out, rej) != HANSE_OK) {
    json_decref(*out);
    *out = NULL;
    return hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN), "stored genesis is invalid");
  }
  return HANSE_OK;
}

int chain_execute_body(hanse_exec *ex, const hanse_body *body,
                       const char *chain_id, json_t *const *admitted,
                       hanse_receipt *receipts) {
  for (uint32_t i = 0; i < body->tx_count; i++) {
    int rc = admitted && admitted[i]
                 ? hanse_exec_tx_admitted(ex, body->txs[i], chain_id, admitted[i], &receipts[i])
                 : hanse_exec_tx(ex, body->txs[i], chain_id, &receipts[i]);
    if (rc != HANSE_OK) return rc;
    receipts[i].index = i;
  }
  return HANSE_OK;
}

void chain_receipts_hash_init(hanse_sha256_state *s) {
  hanse_sha256_init(s);
  hanse_sha256_update(s, "hanse.receipts.v1", 17);
}

void chain_receipts_hash_add(hanse_sha256_state *s, const hanse_receipt *r) {
  uint8_t cl = (uint8_t)strlen(r->code);
  hanse_sha256_update(s, r->id.b, HANSE_HASH_BYTES);
  hanse_sha256_update(s, &cl, 1);
  hanse_sha256_update(s, r->code, cl);
}

static int state_sum_visit(void *ctx, const uint8_t *k, size_t kl,
                           const uint8_t *v, size_t vl) {
  hanse_hash h;
  hanse_state_row_hash(k, kl, v, vl, &h);
  hanse_sum_add(ctx, &h);
  return 0;
}

int chain_state_sum(hanse_store *s, hanse_hash *sum) {
  memset(sum, 0, sizeof *sum);
  return hanse_store_state_scan(s, "", 0, NULL, 0, -1, state_sum_visit, sum);
}

/* A stored block that does not decode means a broken chain: keep the
 * decoder's message (prefixed with the block) but report chain.broken, as
 * chain.h promises, not the decoder's own code. */
static int chain_broken(hanse_reject *rej) {
  int rc = HANSE_ERR(CHAIN_BROKEN);
  if (rej) {
    rej->rc = rc;
    rej->status = hanse_err_status(rc);
    snprintf(rej->code, sizeof rej->code, "%s", hanse_err_code(rc));
  }
  return rc;
}

int chain_check_block(const hanse_block_row *row, const char *chain_id,
                      const hanse_hash *prev_hash, const hanse_pubkey *validators,
                      int validator_count, int check_sigs, hanse_header *h,
                      hanse_body *body, int64_t *bad_tx, hanse_reject *rej) {
  *bad_tx = -1;
  memset(body, 0, sizeof *body);
  char hex[HANSE_HASH_HEX_BYTES];
  if (hanse_header_decode(h, row->header, row->header_len, rej) != HANSE_OK) {
    hanse_reject_prefix(rej, "block %" PRIu64 ": header does not decode", row->height);
    return chain_broken(rej);
  }
  hanse_hash hh;
  hanse_header_hash(h, &hh);
  if (!hanse_hash_eq(&hh, &row->hash))
    return hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN),
                            "block %" PRIu64 ": header hashes to %s, not the stored hash",
                            row->height, hanse_hash_hex(hex, &hh));
  if (h->height != row->height || strcmp(h->chain_id, chain_id) != 0)
    return hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN),
                            "block %" PRIu64 ": header names height %" PRIu64 " of chain '%s'",
                            row->height, h->height, h->chain_id);
  if (!hanse_hash_eq(&h->prev_hash, prev_hash))
    return hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN),
                            "block %" PRIu64 ": previous hash does not link to block %" PRIu64,
                            row->height, row->height - 1);
  if (check_sigs) {
    int known = 0;
    for (int i = 0; i < validator_count; i++)
      if (memcmp(validators[i].b, h->proposer.b, HANSE_PUBKEY_BYTES) == 0) known = 1;
    if (!known || !hanse_header_verify_sig(h))
      return hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN),
                              "block %" PRIu64 ": proposer signature invalid or not a validator",
                              row->height);
  }
  if (hanse_body_decode(body, row->body, row->body_len, rej) != HANSE_OK) {
    hanse_reject_prefix(rej, "block %" PRIu64 ": body does not decode", row->height);
    return chain_broken(rej);
  }
  int rc = HANSE_ERR(CHAIN_BROKEN);
  if (body->tx_count != h->tx_count) {
    hanse_reject_set(rej, rc, "block %" PRIu64 ": body holds %u transactions, header says %u",
                     row->height, body->tx_count, h->tx_count);
    goto fail;
  }
  hanse_hash root;
  if (hanse_body_tx_root(body, &root) != HANSE_OK) {
    rc = hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
    goto fail;
  }
  if (!hanse_hash_eq(&root, &h->tx_root)) {
    hanse_reject_set(rej, rc, "block %" PRIu64 ": Merkle root of the transactions does not match the header",
                     row->height);
    goto fail;
  }
  for (uint32_t i = 0; i < body->tx_count; i++) {
    if (strcmp(body->txs[i]->chain_id, chain_id) != 0) {
      *bad_tx = i;
      hanse_reject_set(rej, rc, "block %" PRIu64 " tx %u: names chain '%s'", row->height,
                       i, body->txs[i]->chain_id);
      goto fail;
    }
  }
  if (check_sigs) {
    uint32_t bad;
    if (!hanse_body_verify_sigs(body, &bad)) {
      *bad_tx = bad;
      hanse_reject_set(rej, rc, "block %" PRIu64 " tx %u (%s): signature does not verify",
                       row->height, bad, hanse_hash_hex(hex, &body->txs[bad]->id));
      goto fail;
    }
  }
  return HANSE_OK;
fail:
  hanse_body_free(body);
  return rc;
}

int hanse_chain_create(const char *dir, json_t *genesis,
                       const hanse_keypair *node_key, uint64_t time_ms,
                       hanse_reject *rej) {
  int rc = hanse_genesis_validate(genesis, rej);
  if (rc != HANSE_OK) return rc;
  if (hanse_mkdir_p(dir, 0700) != 0)
    return hanse_reject_set(rej, HANSE_ERR(IO), "cannot create %s: %s", dir,
                            strerror(errno));
  char path[1100];
  snprintf(path, sizeof path, "%s/chain.db", dir);
  if (access(path, F_OK) == 0)
    return hanse_reject_set(rej, HANSE_ERR(INVALID),
                            "%s already holds a chain; refusing to overwrite", dir);
  json_t *g = json_deep_copy(genesis);
  if (g == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  if (json_object_get(g, "validators") == NULL) {
    char hex[HANSE_HASH_HEX_BYTES];
    json_object_set_new(g, "validators",
                        json_pack("[s]", hanse_pubkey_hex(hex, &node_key->pub)));
  }
  const char *chain_id = json_string_value(json_object_get(g, "chain_id"));
  hanse_store *s = NULL;
  hanse_exec ex;
  int ex_live = 0;
  char *text = NULL;
  rc = hanse_store_open(path, HANSE_STORE_CREATE, NULL, &s, rej);
  if (rc != HANSE_OK) goto done;
  rc = hanse_store_begin(s);
  if (rc != HANSE_OK) goto store_err;
  hanse_hash zero;
  memset(&zero, 0, sizeof zero);
  rc = hanse_exec_begin(&ex, s, 0, time_ms, &zero, &zero);
  if (rc != HANSE_OK) goto store_err;
  ex_live = 1;
  rc = chain_genesis_apply(&ex, g);
  if (rc != HANSE_OK) goto store_err;
  hanse_header h;
  memset(&h, 0, sizeof h);
  h.version = HANSE_FORMAT_VERSION;
  snprintf(h.chain_id, sizeof h.chain_id, "%s", chain_id);
  h.time_ms = time_ms;
  hanse_merkle_root_hashes(&h.tx_root, NULL, 0);
  hanse_hash sum;
  rc = hanse_exec_finish(&ex, &h.state_digest, &sum);
  if (rc != HANSE_OK) goto store_err;
  hanse_header_sign(&h, node_key);
  hanse_buf hb, bb;
  hanse_buf_init(&hb);
  hanse_buf_init(&bb);
  hanse_header_encode(&hb, &h);
  hanse_buf_u32(&bb, 0);
  hanse_hash hash, rh;
  hanse_header_hash(&h, &hash);
  hanse_sha256_state rs;
  chain_receipts_hash_init(&rs);
  hanse_sha256_final(&rs, &rh);
  text = json_dumps(g, JSON_SORT_KEYS | JSON_INDENT(2));
  rc = hanse_buf_status(&hb) != HANSE_OK || hanse_buf_status(&bb) != HANSE_OK || !text
           ? HANSE_ERR(NOMEM)
           : hanse_store_block_put(s, 0, &hash, &sum, &rh, hb.data, hb.len, bb.data, bb.len);
  if (rc == HANSE_OK) rc = hanse_store_meta_put(s, "chain_id", chain_id);
  if (rc == HANSE_OK) rc = hanse_store_meta_put(s, "genesis", text);
  if (rc == HANSE_OK) rc = hanse_store_meta_put(s, "format", "1");
  hanse_buf_free(&hb);
  hanse_buf_free(&bb);
  if (rc != HANSE_OK) goto store_err;
  rc = hanse_store_commit(s);
  if (rc != HANSE_OK) goto store_err;
  char gpath[1100];
  snprintf(gpath, sizeof gpath, "%s/genesis.json", dir);
  FILE *f = fopen(gpath, "w");
  if (f) {
    fputs(text, f);
    fputc('\n', f);
    fclose(f);
  }
  goto done;
store_err:
  hanse_store_rollback(s);
  hanse_reject_set(rej, rc, "cannot write the genesis block: %s", hanse_err_message(rc));
done:
  if (ex_live) hanse_exec_free(&ex);
  free(text);
  hanse_store_close(s);
  json_decref(g);
  if (rc != HANSE_OK) unlink(path);
  return rc;
}

typedef struct receipt_match {
  const hanse_body *body;
  uint32_t n;
  int bad;
  hanse_sha256_state hs;
} receipt_match;

/* Receipts must be one per transaction, same ids, same order. */
static int receipt_match_visit(void *ctx, const hanse_receipt *r) {
  receipt_match *rm = ctx;
  if (rm->n >= rm->body->tx_count || r->index != rm->n ||
      !hanse_hash_eq(&r->id, &rm->body->txs[rm->n]->id)) {
    rm->bad = 1;
    return 1;
  }
  chain_receipts_hash_add(&rm->hs, r);
  rm->n++;
  return 0;
}

/* The start-up check: structure of every block, receipts present, state
 * sum equal to the tip's. Signatures and re-execution are `hanse verify`. */
static int chain_startup_check(hanse_chain *c, hanse_reject *rej) {
  uint64_t tip;
  int rc = hanse_store_tip(c->writer, &tip);
  if (rc != HANSE_OK)
    return hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN), "the chain has no genesis block");
  hanse_hash prev;
  memset(&prev, 0, sizeof prev);
  uint64_t txs = 0;
  for (uint64_t height = 0; height <= tip; height++) {
    hanse_block_row row;
    rc = hanse_store_block_get(c->writer, height, 1, &row);
    if (rc != HANSE_OK)
      return hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN),
                              "block %" PRIu64 " is missing or unreadable", height);
    hanse_header h;
    hanse_body body;
    int64_t bad_tx;
    rc = chain_check_block(&row, c->chain_id, &prev, c->validators,
                           c->validator_count, 0, &h, &body, &bad_tx, rej);
    if (rc != HANSE_OK) {
      hanse_block_row_free(&row);
      return rc;
    }
    receipt_match rm;
    memset(&rm, 0, sizeof rm);
    rm.body = &body;
    chain_receipts_hash_init(&rm.hs);
    rc = hanse_store_tx_scan_block(c->writer, height, receipt_match_visit, &rm);
    hanse_hash rh;
    hanse_sha256_final(&rm.hs, &rh);
    if (rc == HANSE_OK && (rm.bad || rm.n != body.tx_count || !hanse_hash_eq(&rh, &row.receipts_hash)))
      rc = hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN),
                            "block %" PRIu64 ": transaction index does not match the block",
                            height);
    prev = row.hash;
    txs += body.tx_count;
    if (height == tip) {
      c->tip.height = tip;
      c->tip.hash = row.hash;
      c->tip.state_digest = h.state_digest;
      c->tip.state_sum = row.state_sum;
      c->tip.time_ms = h.time_ms;
    }
    hanse_body_free(&body);
    hanse_block_row_free(&row);
    if (rc != HANSE_OK) return rc;
  }
  c->tip.tx_count = txs;
  hanse_hash sum;
  rc = chain_state_sum(c->writer, &sum);
  if (rc != HANSE_OK) return hanse_reject_set(rej, rc, "cannot read the state");
  if (!hanse_hash_eq(&sum, &c->tip.state_sum))
    return hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN),
                            "world state does not match block %" PRIu64
                            " (a state row was altered); run `hanse verify`",
                            tip);
  return HANSE_OK;
}

int hanse_chain_open(const char *dir, const hanse_keypair *node_key,
                     const char *vfs, hanse_chain **out, hanse_reject *rej) {
  *out = NULL;
  hanse_chain *c = calloc(1, sizeof *c);
  if (c == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  pthread_mutex_init(&c->lock, NULL);
  pthread_mutex_init(&c->ckpt_lock, NULL);
  c->wal_bound = HANSE_WAL_RESTART_BYTES;
  c->node_key = node_key;
  snprintf(c->db_path, sizeof c->db_path, "%s/chain.db", dir);
  json_t *g = NULL;
  int rc;
  if (access(c->db_path, F_OK) != 0) {
    rc = hanse_reject_set(rej, HANSE_ERR(NOT_FOUND), "no chain in %s (run `hanse init`)", dir);
    goto fail;
  }
  rc = hanse_store_open(c->db_path, 0, vfs, &c->writer, rej);
  if (rc != HANSE_OK) goto fail;
  rc = chain_load_genesis(c->writer, &g, rej);
  if (rc != HANSE_OK) goto fail;
  snprintf(c->chain_id, sizeof c->chain_id, "%s",
           json_string_value(json_object_get(g, "chain_id")));
  if (chain_genesis_validators(g, c->validators, &c->validator_count) != HANSE_OK) {
    rc = hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN), "genesis names no validators");
    goto fail;
  }
  rc = chain_startup_check(c, rej);
  if (rc != HANSE_OK) goto fail;
  /* The set in force now: genesis's, as changed by node votes since. */
  if (chain_state_validators(c->writer, c->validators, &c->validator_count) != HANSE_OK) {
    rc = hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN), "the state names no validators");
    goto fail;
  }
  c->genesis = json_incref(g);
  c->signs_certs = node_key != NULL &&
                   hanse_cert_is_validator(c->validators, c->validator_count, &node_key->pub, NULL);
  /* Checkpoints happen off the commit path (hanse_chain_checkpoint); the
   * writer checkpoints itself only if the WAL grows past ~80 MB. */
  hanse_store_set_wal_autocheckpoint(c->writer, 20000);
  json_decref(g);
  *out = c;
  return HANSE_OK;
fail:
  json_decref(g);
  hanse_chain_close(c);
  return rc;
}

void hanse_chain_close(hanse_chain *c) {
  if (c == NULL) return;
  for (int i = 0; i < c->reader_count; i++) hanse_store_close(c->readers[i]);
  hanse_store_close(c->checkpointer);
  hanse_store_close(c->exec_reader);
  hanse_store_close(c->writer);
  json_decref(c->genesis);
  pthread_mutex_destroy(&c->lock);
  pthread_mutex_destroy(&c->ckpt_lock);
  free(c);
}

int hanse_chain_checkpoint(hanse_chain *c) {
  if (c->checkpointer == NULL &&
      hanse_store_open(c->db_path, 0, NULL, &c->checkpointer, NULL) != HANSE_OK)
    return HANSE_ERR(IO);
  pthread_mutex_lock(&c->ckpt_lock);
  int rc = hanse_store_checkpoint(c->checkpointer);
  pthread_mutex_unlock(&c->ckpt_lock);
  return rc;
}

void hanse_chain_set_wal_bound(hanse_chain *c, long long bytes) { c->wal_bound = bytes; }

int hanse_chain_wal_bound(hanse_chain *c) {
  /* the frames in use, not the file's size: a restarted WAL is written
   * from its start again but keeps its size */
  if (hanse_store_wal_bytes(c->writer) < c->wal_bound) return HANSE_OK;
  /* a checkpoint in progress would make it give up: wait for that one
   * (it has copied most of the frames by then) */
  pthread_mutex_lock(&c->ckpt_lock);
  int rc = hanse_store_checkpoint_restart(c->writer);
  pthread_mutex_unlock(&c->ckpt_lock);
  return rc;
}

void hanse_chain_tip(hanse_chain *c, hanse_tip *tip) {
  pthread_mutex_lock(&c->lock);
  *tip = c->tip;
  pthread_mutex_unlock(&c->lock);
}

hanse_store *hanse_chain_reader_acquire(hanse_chain *c) {
  pthread_mutex_lock(&c->lock);
  hanse_store *r = c->reader_count > 0 ? c->readers[--c->reader_count] : NULL;
  pthread_mutex_unlock(&c->lock);
  if (r == NULL && hanse_store_open(c->db_path, HANSE_STORE_READONLY, NULL, &r, NULL) != HANSE_OK)
    return NULL;
  return r;
}

void hanse_chain_reader_release(hanse_chain *c, hanse_store *r) {
  if (r == NULL) return;
  pthread_mutex_lock(&c->lock);
  if (c->reader_count < HANSE_READERS_MAX) {
    c->readers[c->reader_count++] = r;
    r = NULL;
  }
  pthread_mutex_unlock(&c->lock);
  hanse_store_close(r);
}

int hanse_chain_propose(hanse_chain *c, const uint8_t *body_bytes, size_t body_len,
                        uint64_t time_ms, hanse_receipt *receipts,
                        uint32_t receipts_cap, hanse_tip *out,
                        hanse_reject *rej) {
  return hanse_chain_propose_ids(c, body_bytes, body_len, NULL, NULL, 0, time_ms, receipts,
                                 receipts_cap, out, rej);
}

int hanse_chain_propose_ids(hanse_chain *c, const uint8_t *body_bytes, size_t body_len,
                            const hanse_hash *ids, json_t *const *payloads, uint32_t n_ids,
                            uint64_t time_ms, hanse_receipt *receipts,
                            uint32_t receipts_cap, hanse_tip *out,
                            hanse_reject *rej) {
  /* The three steps below, back to back: the single-node sequencer's path.
   * The cluster runs them apart (consensus/raft_fsm.c). */
  hanse_block_pending *p;
  int rc = hanse_chain_block_execute(c, body_bytes, body_len, ids, payloads, n_ids, time_ms,
                                     receipts, receipts_cap, &p, rej);
  if (rc != HANSE_OK) return rc;
  rc = hanse_chain_block_finish(c, p, NULL, 0, rej);
  if (rc != HANSE_OK) return rc;
  return hanse_chain_block_commit(c, p, out, rej);
}

/* ---- The steps of a block: execute, finish, commit (or abandon) ----
 *
 * A block in the making holds the writer's open SQLite transaction from
 * execute to commit or abandon, so at most one exists per chain and all
 * of them live on one thread (the sequencer's, or the cluster's loop).
 * Every failure path rolls the transaction back and frees the pending
 * block: the caller never cleans up after an error -- but for finish on a
 * pipelined block, which a block executing above it may still be reading:
 * that one stays for the caller to free (hanse_chain_block_free).
 *
 * A pipelined block (hanse_chain_block_execute_above) may be executed
 * before the block below it is finished: the previous block's hash,
 * digest and state sum then come from `prev_from` at this block's finish,
 * so below must be finished first (the pipeline finishes blocks in order,
 * on one thread) and stay alive until then. */
struct hanse_block_pending {
  hanse_body body;          /* borrows body_bytes */
  const uint8_t *body_bytes; /* borrowed from the caller until commit/abandon */
  size_t body_len;
  hanse_receipt *rs;        /* the caller's, or rs_owned */
  hanse_receipt *rs_owned;
  hanse_tip prev;
  uint64_t time_ms;
  hanse_exec ex;
  json_t *policy;
  hanse_header h;           /* set by finish */
  hanse_hash hash, sum, receipts_hash;
  hanse_buf hb;             /* the header's encoding, set by finish */
  int finished;
  /* pipelined (hanse_chain_block_execute_above): no writer transaction
   * until the store step; executes on the chain's exec_reader, in a read
   * transaction of its own from execute to seal */
  int pipelined;
  hanse_store *reading;     /* the reader while its read transaction is open */
  const hanse_block_pending *prev_from; /* borrowed until finish: the block
                                         * below, not finished at execute */
};

static void reading_end(hanse_block_pending *p) {
  if (p->reading) hanse_store_read_end(p->reading);
  p->reading = NULL;
}

static void pending_free(hanse_block_pending *p) {
  reading_end(p);
  hanse_exec_free(&p->ex);
  json_decref(p->policy);
  hanse_buf_free(&p->hb);
  free(p->rs_owned);
  hanse_body_free(&p->body);
  free(p);
}

/* Roll back, free, and report rc with the block's height. */
static int pending_fail(hanse_chain *c, hanse_block_pending *p, int rc, hanse_reject *rej) {
  uint64_t height = p->prev.height + 1;
  /* a pipelined block holds no transaction: the writer may be storing the
   * block below on another thread */
  if (!p->pipelined) hanse_store_rollback(c->writer);
  pending_free(p);
  if (hanse_store_failed(c->writer)) rc = HANSE_ERR(STORE_FAILED);
  return hanse_reject_set(rej, rc, "block %" PRIu64 " not committed: %s", height,
                          hanse_err_message(rc));
}

void hanse_chain_diverge(hanse_chain *c, const hanse_divergence *d) {
  HANSE_ASSERT(d->diverged);
  pthread_mutex_lock(&c->lock);
  int first = !c->divergence.diverged;
  if (first) c->divergence = *d;
  pthread_mutex_unlock(&c->lock);
  if (first)
    HANSE_ERROR("chain %s: DIVERGED at block %" PRIu64 ": %s. No further block is applied or "
                "proposed here; the stored blocks stay as they are (GET /v1/chains/%s/status, "
                "`hanse verify`).",
                c->chain_id, d->height, d->reason, c->chain_id);
}

int hanse_chain_divergence(hanse_chain *c, hanse_divergence *out) {
  pthread_mutex_lock(&c->lock);
  *out = c->divergence;
  pthread_mutex_unlock(&c->lock);
  return out->diverged;
}

/* A pending block of the body: not on a diverged chain, the body decoded
 * (with the mempool's ids when given), receipts the caller's when they
 * fit, else its own. *out on success; nothing to free on error. */
static int pending_new(hanse_chain *c, const uint8_t *body_bytes, size_t body_len,
                       const hanse_hash *ids, uint32_t n_ids, hanse_receipt *receipts,
                       uint32_t receipts_cap, hanse_block_pending **out, hanse_reject *rej) {
  *out = NULL;
  hanse_divergence dv;
  if (hanse_chain_divergence(c, &dv))
    return hanse_reject_code(rej, "chain.diverged", 503,
                             "this node's copy diverged at block %" PRIu64 "; it applies nothing",
                             dv.height);
  hanse_block_pending *p = calloc(1, sizeof *p);
  if (p == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  hanse_buf_init(&p->hb);
  int rc = ids ? hanse_body_decode_with_ids(&p->body, body_bytes, body_len, ids, n_ids, rej)
               : hanse_body_decode(&p->body, body_bytes, body_len, rej);
  if (rc != HANSE_OK) {
    free(p);
    return rc;
  }
  p->body_bytes = body_bytes;
  p->body_len = body_len;
  p->rs = receipts;
  if (p->rs == NULL || receipts_cap < p->body.tx_count) {
    p->rs = p->rs_owned = calloc(p->body.tx_count ? p->body.tx_count : 1, sizeof *p->rs);
    if (p->rs == NULL) {
      hanse_body_free(&p->body);
      free(p);
      return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
    }
  }
  *out = p;
  return HANSE_OK;
}

int hanse_chain_block_execute(hanse_chain *c, const uint8_t *body_bytes, size_t body_len,
                              const hanse_hash *ids, json_t *const *payloads,
                              uint32_t n_ids, uint64_t time_ms, hanse_receipt *receipts,
                              uint32_t receipts_cap, hanse_block_pending **out,
                              hanse_reject *rej) {
  hanse_block_pending *p;
  int rc = pending_new(c, body_bytes, body_len, ids, n_ids, receipts, receipts_cap, out, rej);
  if (rc != HANSE_OK) return rc;
  p = *out;
  *out = NULL;
  hanse_chain_tip(c, &p->prev);
  if (time_ms < p->prev.time_ms) time_ms = p->prev.time_ms;
  p->time_ms = time_ms;
  rc = hanse_store_begin(c->writer);
  if (rc != HANSE_OK) goto fail_unbegun;
  rc = hanse_exec_begin(&p->ex, c->writer, p->prev.height + 1, time_ms,
                        &p->prev.state_digest, &p->prev.state_sum);
  if (rc != HANSE_OK) goto fail_unbegun;
  rc = hanse_policy_load(c->writer, c->genesis, &p->policy);
  if (rc != HANSE_OK) return pending_fail(c, p, rc, rej);
  p->ex.policy = p->policy;
  rc = chain_execute_body(&p->ex, &p->body, c->chain_id, payloads, p->rs);
  if (rc != HANSE_OK) return pending_fail(c, p, rc, rej);
  *out = p;
  return HANSE_OK;
fail_unbegun: {
  /* exec not begun: free by hand (hanse_exec_free needs a begun exec). */
  uint64_t height = p->prev.height + 1;
  hanse_store_rollback(c->writer);
  free(p->rs_owned);
  hanse_body_free(&p->body);
  free(p);
  if (hanse_store_failed(c->writer)) rc = HANSE_ERR(STORE_FAILED);
  return hanse_reject_set(rej, rc, "block %" PRIu64 " not committed: %s", height,
                          hanse_err_message(rc));
}
}

/* A failed finish: a pipelined block stays for its caller (above). */
static int finish_fail(hanse_chain *c, hanse_block_pending *p, int rc, hanse_reject *rej) {
  if (!p->pipelined) return pending_fail(c, p, rc, rej);
  return hanse_reject_set(rej, rc, "block %" PRIu64 " not finished: %s", p->prev.height + 1,
                          hanse_err_message(rc));
}

int hanse_chain_block_finish(hanse_chain *c, hanse_block_pending *p,
                             const uint8_t *given, size_t given_len, hanse_reject *rej) {
  HANSE_ASSERT(!p->finished);
  if (p->prev_from) { /* the block below is finished by now */
    const hanse_block_pending *below = p->prev_from;
    HANSE_ASSERT(below->finished && below->h.height == p->prev.height);
    p->prev.hash = below->hash;
    p->prev.state_digest = below->h.state_digest;
    p->prev.state_sum = below->sum;
    hanse_exec_prev(&p->ex, &p->prev.state_digest, &p->prev.state_sum);
    p->prev_from = NULL;
  }
  hanse_header *h = &p->h;
  memset(h, 0, sizeof *h);
  h->version = HANSE_FORMAT_VERSION;
  memcpy(h->chain_id, c->chain_id, sizeof h->chain_id);
  h->height = p->prev.height + 1;
  h->time_ms = p->time_ms;
  h->prev_hash = p->prev.hash;
  h->tx_count = p->body.tx_count;
  int rc = hanse_body_tx_root(&p->body, &h->tx_root);
  if (rc != HANSE_OK) return finish_fail(c, p, rc, rej);
  rc = p->pipelined ? hanse_exec_seal(&p->ex, &h->state_digest, &p->sum)
                    : hanse_exec_finish(&p->ex, &h->state_digest, &p->sum);
  if (rc != HANSE_OK) return finish_fail(c, p, rc, rej);
  if (given == NULL) {
    HANSE_ASSERT(c->node_key != NULL);
    hanse_header_sign(h, c->node_key);
    rc = hanse_header_encode(&p->hb, h);
    if (rc != HANSE_OK) return finish_fail(c, p, rc, rej);
  } else {
    /* Another node's block: our execution must have produced exactly the
     * header it signed (its signature and proposer were checked before). */
    hanse_header g;
    char want[HANSE_HASH_HEX_BYTES], got[HANSE_HASH_HEX_BYTES];
    if (hanse_header_decode(&g, given, given_len, rej) != HANSE_OK)
      return pending_fail(c, p, HANSE_ERR(CHAIN_BROKEN), rej);
    if (!hanse_hash_eq(&g.state_digest, &h->state_digest)) {
      uint64_t height = h->height;
      hanse_hash_hex(want, &g.state_digest);
      hanse_hash_hex(got, &h->state_digest);
      pending_fail(c, p, HANSE_ERR(CHAIN_BROKEN), NULL);
      return hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN),
                              "block %" PRIu64 ": state digest %s here, %s in the proposer's header",
                              height, got, want);
    }
    if (g.height != h->height || g.time_ms != h->time_ms ||
        !hanse_hash_eq(&g.prev_hash, &h->prev_hash) || !hanse_hash_eq(&g.tx_root, &h->tx_root) ||
        g.tx_count != h->tx_count || strcmp(g.chain_id, h->chain_id) != 0)
      return pending_fail(c, p, HANSE_ERR(CHAIN_BROKEN), rej);
    h->proposer = g.proposer;
    h->sig = g.sig;
    hanse_buf_put(&p->hb, given, given_len);
    if (hanse_buf_status(&p->hb) != HANSE_OK) return pending_fail(c, p, HANSE_ERR(NOMEM), rej);
  }
  hanse_header_hash(h, &p->hash);
  hanse_sha256_state rs_hash;
  chain_receipts_hash_init(&rs_hash);
  for (uint32_t i = 0; i < p->body.tx_count; i++) chain_receipts_hash_add(&rs_hash, &p->rs[i]);
  hanse_sha256_final(&rs_hash, &p->receipts_hash);
  p->finished = 1;
  return HANSE_OK;
}

void hanse_chain_block_header(const hanse_block_pending *p, const uint8_t **bytes,
                              size_t *len, hanse_hash *hash, uint64_t *height) {
  HANSE_ASSERT(p->finished);
  *bytes = p->hb.data;
  *len = p->hb.len;
  if (hash) *hash = p->hash;
  if (height) *height = p->h.height;
}

/* After a commit: follow the validator set in the state (a node added or
 * removed by vote, member_node.c) -- in force from the next block. A
 * short scan of "validator/" on the writer, which just committed. */
static void validators_refresh(hanse_chain *c) {
  hanse_pubkey v[HANSE_VALIDATORS_MAX];
  int n;
  if (chain_state_validators(c->writer, v, &n) != HANSE_OK) return; /* kept as it was */
  if (n == c->validator_count && memcmp(v, c->validators, (size_t)n * sizeof v[0]) == 0) return;
  pthread_mutex_lock(&c->lock);
  memcpy(c->validators, v, (size_t)n * sizeof v[0]);
  c->validator_count = n;
  c->signs_certs = c->node_key != NULL &&
                   hanse_cert_is_validator(v, n, &c->node_key->pub, NULL);
  pthread_mutex_unlock(&c->lock);
  HANSE_INFO("chain %s: the validator set now has %d keys (this node %s one)", c->chain_id, n,
             c->signs_certs ? "is" : "is not");
}

int hanse_chain_last_seq(hanse_chain *c, const hanse_pubkey *signer, uint64_t *last) {
  *last = 0;
  hanse_store *rd = hanse_chain_reader_acquire(c);
  if (rd == NULL) return HANSE_ERR(IO);
  char key[sizeof HANSE_SEQ_PREFIX + 2 * HANSE_PUBKEY_BYTES];
  memcpy(key, HANSE_SEQ_PREFIX, sizeof HANSE_SEQ_PREFIX - 1);
  hanse_pubkey_hex(key + sizeof HANSE_SEQ_PREFIX - 1, signer);
  hanse_buf v;
  hanse_buf_init(&v);
  int found = 0;
  int rc = hanse_store_state_get(rd, key, strlen(key), &v, &found);
  if (rc == HANSE_OK && found) {
    char num[24] = "";
    if (v.len < sizeof num) memcpy(num, v.data, v.len);
    *last = strtoull(num, NULL, 10);
  }
  hanse_buf_free(&v);
  hanse_chain_reader_release(c, rd);
  return rc;
}

int hanse_chain_is_validator(hanse_chain *c, const hanse_pubkey *key, int *at) {
  pthread_mutex_lock(&c->lock);
  int yes = hanse_cert_is_validator(c->validators, c->validator_count, key, at);
  pthread_mutex_unlock(&c->lock);
  return yes;
}

int hanse_chain_validator_count(hanse_chain *c) {
  pthread_mutex_lock(&c->lock);
  int n = c->validator_count;
  pthread_mutex_unlock(&c->lock);
  return n;
}

int hanse_chain_validators(hanse_chain *c, hanse_pubkey *out) {
  pthread_mutex_lock(&c->lock);
  int n = c->validator_count;
  memcpy(out, c->validators, (size_t)n * sizeof out[0]);
  pthread_mutex_unlock(&c->lock);
  return n;
}

/* The block's rows after its state (block, transactions, certificate),
 * COMMIT, and the tip moved. Errors roll back and are returned; p is
 * left to the caller. */
static int block_rows_commit(hanse_chain *c, hanse_block_pending *p, hanse_tip *out) {
  hanse_header *h = &p->h;
  int rc = hanse_store_block_put(c->writer, h->height, &p->hash, &p->sum, &p->receipts_hash,
                                 p->hb.data, p->hb.len, p->body_bytes, p->body_len);
  for (uint32_t i = 0; rc == HANSE_OK && i < p->body.tx_count; i++) {
    const hanse_tx *tx = p->body.txs[i];
    rc = hanse_store_tx_put(c->writer, &p->rs[i], &tx->signer, tx->seq, tx->kind);
  }
  if (rc == HANSE_OK && c->signs_certs) {
    /* This node stands behind the block it applied: its share of the
     * block's certificate, durable with the block itself. One signature
     * per block, also on a single-node chain (a quorum of 1 of 1). */
    hanse_sig sig;
    hanse_cert_sign(c->node_key, c->chain_id, h->height, &p->hash, &sig);
    rc = hanse_store_cert_put(c->writer, h->height, &c->node_key->pub, &sig);
  }
  if (rc == HANSE_OK) rc = hanse_store_commit(c->writer);
  if (rc != HANSE_OK) {
    hanse_store_rollback(c->writer);
    return hanse_store_failed(c->writer) ? HANSE_ERR(STORE_FAILED) : rc;
  }
  pthread_mutex_lock(&c->lock);
  HANSE_ASSERT(c->tip.height + 1 == h->height);
  c->tip.height = h->height;
  c->tip.hash = p->hash;
  c->tip.state_digest = h->state_digest;
  c->tip.state_sum = p->sum;
  c->tip.time_ms = h->time_ms;
  c->tip.tx_count += p->body.tx_count;
  if (out) *out = c->tip;
  pthread_mutex_unlock(&c->lock);
  validators_refresh(c);
  return HANSE_OK;
}

int hanse_chain_block_commit(hanse_chain *c, hanse_block_pending *p, hanse_tip *out,
                             hanse_reject *rej) {
  HANSE_ASSERT(p->finished && !p->pipelined);
  uint64_t height = p->h.height;
  int rc = block_rows_commit(c, p, out);
  pending_free(p);
  if (rc != HANSE_OK)
    return hanse_reject_set(rej, rc, "block %" PRIu64 " not committed: %s", height,
                            hanse_err_message(rc));
  return HANSE_OK;
}

int hanse_chain_block_execute_above(hanse_chain *c, const hanse_block_pending *below,
                                    hanse_exec_warm *warm, const uint8_t *body_bytes,
                                    size_t body_len,
                                    const hanse_hash *ids, json_t *const *payloads,
                                    uint32_t n_ids, uint64_t time_ms,
                                    hanse_block_pending **out, hanse_reject *rej) {
  HANSE_ASSERT(below == NULL || below->pipelined);
  hanse_block_pending *p;
  int rc = pending_new(c, body_bytes, body_len, ids, n_ids, NULL, 0, out, rej);
  if (rc != HANSE_OK) return rc;
  p = *out;
  *out = NULL;
  p->pipelined = 1;
  if (c->exec_reader == NULL &&
      hanse_store_open(c->db_path, HANSE_STORE_READONLY | HANSE_STORE_EXEC, NULL,
                       &c->exec_reader, NULL) != HANSE_OK)
    c->exec_reader = NULL;
  if (below) {
    p->prev.height = below->prev.height + 1;
    p->prev.time_ms = below->time_ms;
    p->prev.tx_count = below->prev.tx_count + below->body.tx_count;
    if (below->finished) {
      p->prev.hash = below->hash;
      p->prev.state_digest = below->h.state_digest;
      p->prev.state_sum = below->sum;
    } else {
      p->prev_from = below; /* known at this block's finish */
    }
  } else {
    hanse_chain_tip(c, &p->prev);
  }
  if (time_ms < p->prev.time_ms) time_ms = p->prev.time_ms;
  p->time_ms = time_ms;
  rc = c->exec_reader == NULL ? HANSE_ERR(IO) : HANSE_OK;
  if (rc == HANSE_OK) rc = hanse_store_read_begin(c->exec_reader);
  if (rc == HANSE_OK) p->reading = c->exec_reader;
  if (rc == HANSE_OK)
    rc = hanse_exec_begin(&p->ex, c->exec_reader, p->prev.height + 1, time_ms,
                          p->prev_from ? NULL : &p->prev.state_digest,
                          p->prev_from ? NULL : &p->prev.state_sum);
  if (rc != HANSE_OK) {
    reading_end(p);
    free(p->rs_owned);
    hanse_body_free(&p->body);
    free(p);
    return hanse_reject_set(rej, rc, "block not executed: %s", hanse_err_message(rc));
  }
  hanse_exec_above(&p->ex, below ? &below->ex : NULL);
  if (warm && hanse_exec_warm_filter(warm, c->exec_reader, HANSE_WARM_FILTER_MIN_KEYS) != HANSE_OK)
    HANSE_WARN("chain: no filter of the state's keys: new keys are looked up in the store");
  hanse_exec_use_warm(&p->ex, warm);
  rc = hanse_policy_load_exec(&p->ex, c->genesis, &p->policy);
  if (rc != HANSE_OK) return pending_fail(c, p, rc, rej);
  p->ex.policy = p->policy;
  rc = chain_execute_body(&p->ex, &p->body, c->chain_id, payloads, p->rs);
  if (rc != HANSE_OK) return pending_fail(c, p, rc, rej);
  /* executed: the state it read is all in its cache, and the reader is
   * free for the next block, which may execute before this one is
   * finished */
  reading_end(p);
  *out = p;
  return HANSE_OK;
}

int hanse_chain_block_store(hanse_chain *c, hanse_block_pending *p, hanse_tip *out,
                            hanse_reject *rej) {
  HANSE_ASSERT(p->pipelined && p->finished);
  int rc = hanse_store_begin(c->writer);
  if (rc == HANSE_OK) rc = hanse_exec_store(&p->ex, c->writer);
  if (rc == HANSE_OK) {
    rc = block_rows_commit(c, p, out); /* rolls back itself */
    if (rc == HANSE_OK) return HANSE_OK;
  } else {
    hanse_store_rollback(c->writer);
    if (hanse_store_failed(c->writer)) rc = HANSE_ERR(STORE_FAILED);
  }
  return hanse_reject_set(rej, rc, "block %" PRIu64 " not committed: %s", p->h.height,
                          hanse_err_message(rc));
}

const hanse_receipt *hanse_chain_block_receipts(const hanse_block_pending *p, uint32_t *n) {
  *n = p->body.tx_count;
  return p->rs;
}

int hanse_chain_block_retire(hanse_block_pending *p, hanse_exec_warm *warm) {
  HANSE_ASSERT(p->pipelined && p->finished);
  return hanse_exec_warm_absorb(warm, &p->ex);
}

void hanse_chain_block_free(hanse_block_pending *p) {
  if (p) pending_free(p);
}

void hanse_chain_block_abandon(hanse_chain *c, hanse_block_pending *p) {
  if (p == NULL) return;
  hanse_store_rollback(c->writer);
  pending_free(p);
}

int hanse_chain_block_replicate(hanse_chain *c, const uint8_t *header, size_t header_len,
                                const uint8_t *body_bytes, size_t body_len,
                                hanse_receipt *receipts, uint32_t receipts_cap,
                                hanse_tip *out, hanse_reject *rej) {
  hanse_tip prev;
  hanse_chain_tip(c, &prev);
  /* Structure, link, proposer, signatures: the start-up check's and
   * verify's own code (chain_check_block), on a row made of the entry. */
  hanse_header h;
  if (hanse_header_decode(&h, header, header_len, rej) != HANSE_OK)
    return hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN), "block %" PRIu64 ": header does not decode",
                            prev.height + 1);
  if (h.height != prev.height + 1 || h.time_ms < prev.time_ms)
    return hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN),
                            "block header names height %" PRIu64 " time %" PRIu64
                            "; the next is %" PRIu64 " not before %" PRIu64,
                            h.height, h.time_ms, prev.height + 1, prev.time_ms);
  hanse_block_row row;
  memset(&row, 0, sizeof row);
  row.height = h.height;
  hanse_header_hash(&h, &row.hash);
  row.header = (uint8_t *)header;
  row.header_len = header_len;
  row.body = (uint8_t *)body_bytes;
  row.body_len = body_len;
  hanse_body checked;
  int64_t bad_tx;
  int rc = chain_check_block(&row, c->chain_id, &prev.hash, c->validators, c->validator_count,
                             1, &h, &checked, &bad_tx, rej);
  if (rc != HANSE_OK) return rc == HANSE_ERR(NOMEM) ? rc : HANSE_ERR(CHAIN_BROKEN);
  /* Execute with the ids the check computed, so they are hashed once. */
  hanse_hash *ids = calloc(checked.tx_count ? checked.tx_count : 1, sizeof *ids);
  if (ids == NULL) {
    hanse_body_free(&checked);
    return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  }
  for (uint32_t i = 0; i < checked.tx_count; i++) ids[i] = checked.txs[i]->id;
  uint32_t n = checked.tx_count;
  hanse_body_free(&checked);
  hanse_block_pending *p;
  rc = hanse_chain_block_execute(c, body_bytes, body_len, ids, NULL, n, h.time_ms, receipts,
                                 receipts_cap, &p, rej);
  free(ids);
  if (rc != HANSE_OK) return rc;
  rc = hanse_chain_block_finish(c, p, header, header_len, rej);
  if (rc != HANSE_OK) return rc;
  return hanse_chain_block_commit(c, p, out, rej);
}
