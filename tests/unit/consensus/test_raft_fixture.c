/*
 * test_raft_fixture.c -- the Raft engine's state machine and proposer
 * (consensus/raft_fsm.c) on libraft's in-memory cluster (raft_fixture):
 * 3 or 5 servers, each with its own chain in a temporary directory (one
 * genesis block, created once and copied, whose validators are the
 * servers' node keys; each chain signs with its own server's key), its
 * own mempool, and its own hanse_raft_fsm.
 *
 * Everything is deterministic: the fixture delivers one event per step
 * (a tick, a disk write, a message), the nodes' clocks are the fixture's
 * clock, and keys come from fixed seeds. A hook runs after every step and
 * does, for every live server, what raft_cluster.c's tick does after
 * every loop iteration (observe, hand over if diverged, transitions,
 * propose). A killed server is a paused process: no tick, no messages.
 *
 * The fsm table of each server is wrapped to record what it applied (the
 * log's entries, as bytes), to tamper with an entry on its way into one
 * server's apply, and to count snapshots and restores; the wrappers call
 * the real functions, which the tests also call directly to re-apply or
 * to hand-make an entry.
 *
 * libraft's fixture asserts (election safety aside) are compiled out in
 * Debian's build, so every expectation here is checked by the test itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <raft.h>
#include <raft/fixture.h>

#include "base/env.h"
#include "consensus/raft_entry.h"
#include "consensus/raft_fsm.h"
#include "fixture.h"

#define N_MAX 5
#define ENTRIES_MAX 32   /* entries recorded per server */
#define WAIT_MS 20000    /* bound of every wait, in fixture time */

typedef struct cluster cluster;

typedef struct recorded {
  uint64_t height;
  uint8_t *bytes; /* owned */
  size_t len;
} recorded;

typedef struct server {
  char dir[300];
  hanse_keypair key;  /* node key: a validator; signs this chain's blocks */
  hanse_chain *chain;
  hanse_mempool *mp;
  hanse_cluster_config cc;
  hanse_raft_fsm sm;
  struct raft_fsm table;
  /* What on_commit saw. */
  uint32_t commits, receipts, receipts_ok, receipts_bad_height, with_latency;
  /* What the fsm wrappers saw. */
  recorded applied[ENTRIES_MAX];
  unsigned n_applied;
  uint64_t tamper_height; /* flip a state-digest bit of this block's entry */
  unsigned snapshots, restores;
  int restore_rc;
  uint8_t snap[HANSE_RAFT_CHECKPOINT_BYTES]; /* the last descriptor taken */
} server;

struct cluster {
  struct raft_fixture fx; /* first: the hook gets the cluster from it */
  unsigned n;
  server s[N_MAX];
  hanse_env env;
  struct raft_tracer quiet;
  char root[256];
  hanse_keypair alice, bob;
  uint64_t doc;  /* distinct digests for notary.anchor */
};

/* The real fsm functions (the same for every server). */
static struct raft_fsm real;

/* ---- Clock: the fixture's ---- */

static uint64_t env_now_ms(void *ctx) {
  cluster *c = ctx;
  return FX_T0_MS + 1000 + raft_fixture_time(&c->fx);
}

static uint64_t env_mono_us(void *ctx) {
  cluster *c = ctx;
  return 1000u * (uint64_t)raft_fixture_time(&c->fx);
}

static void env_random(void *ctx, void *out, size_t n) {
  (void)ctx;
  memset(out, 0x5a, n);
}

static void quiet_emit(struct raft_tracer *t, int type, const void *info) {
  (void)t;
  (void)type;
  (void)info;
}

/* ---- Node plumbing ---- */

static int seq_lookup(void *ctx, const hanse_pubkey *signer, uint64_t *last) {
  server *s = ctx;
  return hanse_chain_last_seq(s->chain, signer, last);
}

/* Counted, not asserted: this runs inside libraft. */
static void on_commit(void *ctx, int ok, const hanse_tip *tip, const hanse_receipt *rs,
                      uint32_t n, const uint64_t *latency_us) {
  server *s = ctx;
  if (!ok) return;
  s->commits++;
  s->receipts += n;
  for (uint32_t i = 0; i < n; i++) {
    if (strcmp(rs[i].code, "ok") == 0) s->receipts_ok++;
    if (rs[i].height != tip->height) s->receipts_bad_height++;
  }
  if (latency_us != NULL) s->with_latency++;
}

static server *server_of(struct raft_fsm *fsm) {
  return (server *)((char *)fsm->data - offsetof(server, sm));
}

/* A block entry with its header's state digest changed; re-signed by
 * `signer` when given (a validly signed header with the wrong digest),
 * else with the proposer's signature left as it was. *out_hash: the
 * changed header's block hash. Caller frees the bytes. */
static uint8_t *entry_with_digest_flipped(const uint8_t *p, size_t n, const hanse_keypair *signer,
                                          size_t *out_len, hanse_hash *out_hash) {
  hanse_raft_block_entry e;
  if (hanse_raft_block_entry_decode(p, n, &e) != HANSE_OK) return NULL;
  hanse_header h;
  if (hanse_header_decode(&h, e.header, e.header_len, NULL) != HANSE_OK) return NULL;
  h.state_digest.b[0] ^= 0x01;
  if (signer) hanse_header_sign(&h, signer);
  if (out_hash) hanse_header_hash(&h, out_hash);
  hanse_buf hb;
  hanse_buf_init(&hb);
  if (hanse_header_encode(&hb, &h) != HANSE_OK) {
    hanse_buf_free(&hb);
    return NULL;
  }
  *out_len = hanse_raft_block_entry_size(hb.len, e.body_len);
  uint8_t *out = raft_malloc(*out_len);
  if (out) hanse_raft_block_entry_encode(out, e.height, hb.data, hb.len, e.body, e.body_len);
  hanse_buf_free(&hb);
  return out;
}

static int rec_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result) {
  server *s = server_of(fsm);
  hanse_raft_block_entry e;
  if (hanse_raft_block_entry_decode(buf->base, buf->len, &e) == HANSE_OK &&
      s->n_applied < ENTRIES_MAX) {
    recorded *r = &s->applied[s->n_applied++];
    r->height = e.height;
    r->len = buf->len;
    r->bytes = malloc(buf->len);
    if (r->bytes) memcpy(r->bytes, buf->base, buf->len);
    if (e.height == s->tamper_height) {
      struct raft_buffer t;
      t.base = entry_with_digest_flipped(buf->base, buf->len, NULL, &t.len, NULL);
      if (t.base != NULL) {
        int rv = real.apply(fsm, &t, result);
        raft_free(t.base);
        return rv;
      }
    }
  }
  return real.apply(fsm, buf, result);
}

static int rec_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs) {
  server *s = server_of(fsm);
  int rv = real.snapshot(fsm, bufs, n_bufs);
  if (rv == 0 && *n_bufs == 1 && (*bufs)[0].len == HANSE_RAFT_CHECKPOINT_BYTES) {
    s->snapshots++;
    memcpy(s->snap, (*bufs)[0].base, HANSE_RAFT_CHECKPOINT_BYTES);
  }
  return rv;
}

static int rec_restore(struct raft_fsm *fsm, struct raft_buffer *buf) {
  server *s = server_of(fsm);
  s->restores++;
  s->restore_rc = real.restore(fsm, buf);
  return s->restore_rc;
}

/* What raft_cluster.c's tick does after every loop iteration, in the same
 * order (the closing and publishing parts aside). */
static void tick(cluster *c, unsigned i) {
  server *s = &c->s[i];
  struct raft *r = raft_fixture_get(&c->fx, i);
  hanse_raft_fsm_observe(&s->sm, r);
  if (hanse_raft_fsm_diverged(&s->sm)) {
    hanse_raft_fsm_hand_over(&s->sm, r);
    return;
  }
  hanse_raft_fsm_transition(&s->sm, r);
  hanse_raft_fsm_propose(&s->sm, r);
}

static void on_step(struct raft_fixture *f, struct raft_fixture_event *ev) {
  (void)ev;
  cluster *c = (cluster *)f;
  for (unsigned i = 0; i < c->n; i++)
    if (raft_fixture_alive(f, i)) tick(c, i);
}

/* ---- Set-up ---- */

static void copy_file(const char *from, const char *to) {
  FILE *in = fopen(from, "rb");
  FILE *out = fopen(to, "wb");
  if (in == NULL || out == NULL) fail_msg("cannot copy %s to %s", from, to);
  char b[8192];
  size_t k;
  while ((k = fread(b, 1, sizeof b, in)) > 0) assert_int_equal(fwrite(b, 1, k, out), k);
  fclose(in);
  assert_int_equal(fclose(out), 0);
}

/* The chain directory of server 0 (closed), file by file, to `to`. */
static void copy_chain_dir(const char *from, const char *to) {
  DIR *d = opendir(from);
  assert_non_null(d);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    char a[600], b[600];
    snprintf(a, sizeof a, "%s/%s", from, de->d_name);
    snprintf(b, sizeof b, "%s/%s", to, de->d_name);
    struct stat st;
    if (stat(a, &st) == 0 && S_ISREG(st.st_mode)) copy_file(a, b);
  }
  closedir(d);
}

static cluster *cluster_new(unsigned n, unsigned snapshot_threshold, unsigned snapshot_trailing) {
  cluster *c = calloc(1, sizeof *c);
  assert_non_null(c);
  assert_true(n >= 1 && n <= N_MAX);
  c->n = n;
  c->env.ctx = c;
  c->env.now_ms = env_now_ms;
  c->env.mono_us = env_mono_us;
  c->env.random = env_random;
  c->quiet.version = 2;
  c->quiet.emit = quiet_emit;
  hanse_modules_register_all();
  const char *tmp = getenv("TMPDIR");
  snprintf(c->root, sizeof c->root, "%s/hanse-raftfx-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp(c->root) == NULL) fail_msg("mkdtemp %s failed", c->root);
  fx_key(&c->alice, 0xa1);
  fx_key(&c->bob, 0xb0);

  /* One genesis: acme (alice) and every server's node key a validator. */
  char hex[HANSE_HASH_HEX_BYTES];
  json_t *validators = json_array();
  for (unsigned i = 0; i < n; i++) {
    server *s = &c->s[i];
    fx_key(&s->key, (uint8_t)(0x11 + i));
    snprintf(s->dir, sizeof s->dir, "%s/n%u", c->root, i + 1);
    assert_int_equal(mkdir(s->dir, 0700), 0);
    json_array_append_new(validators, json_string(fx_hex(hex, &s->key.pub)));
  }
  json_t *g = json_pack("{s:s, s:[{s:s, s:s, s:s, s:[s]}], s:o}", "chain_id", FX_CHAIN_ID,
                        "organisations", "id", "acme", "name", "ACME Ltd", "role",
                        "manufacturer", "keys", fx_hex(hex, &c->alice.pub), "validators",
                        validators);
  assert_non_null(g);
  hanse_reject rej;
  int rc = hanse_chain_create(c->s[0].dir, g, &c->s[0].key, FX_T0_MS, &rej);
  json_decref(g);
  if (rc != HANSE_OK) fail_msg("hanse_chain_create: %s: %s", rej.code, rej.message);
  for (unsigned i = 1; i < n; i++) copy_chain_dir(c->s[0].dir, c->s[i].dir);

  assert_int_equal(raft_fixture_init(&c->fx), 0);
  for (unsigned i = 0; i < n; i++) {
    server *s = &c->s[i];
    rc = hanse_chain_open(s->dir, &s->key, NULL, &s->chain, &rej);
    if (rc != HANSE_OK) fail_msg("hanse_chain_open: %s: %s", rej.code, rej.message);
    assert_int_equal(s->chain->validator_count, (int)n);
    s->mp = hanse_mempool_create(1000, seq_lookup, s);
    assert_non_null(s->mp);
    snprintf(s->cc.chain_id, sizeof s->cc.chain_id, "%s", FX_CHAIN_ID);
    s->cc.self_id = i + 1; /* the fixture's ids */
    hanse_consensus_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.chain = s->chain;
    cfg.mp = s->mp;
    cfg.block_interval_ms = 1; /* cut whatever is ready at the next tick */
    cfg.block_max_txs = 100;
    cfg.env = &c->env;
    cfg.on_commit = on_commit;
    cfg.ctx = s;
    cfg.cluster = &s->cc;
    assert_int_equal(hanse_raft_fsm_init(&s->sm, &cfg), HANSE_OK);
    hanse_raft_fsm_bind(&s->sm, &s->table);
    real = s->table;
    s->table.apply = rec_apply;
    s->table.snapshot = rec_snapshot;
    s->table.restore = rec_restore;
    assert_int_equal(raft_fixture_grow(&c->fx, &s->table), 0);
    struct raft *r = raft_fixture_get(&c->fx, i);
    r->tracer = &c->quiet;
    raft_set_pre_vote(r, true); /* as raft_cluster.c */
    raft_set_snapshot_threshold(r, snapshot_threshold);
    raft_set_snapshot_trailing(r, snapshot_trailing);
  }
  struct raft_configuration conf;
  assert_int_equal(raft_fixture_configuration(&c->fx, n, &conf), 0);
  assert_int_equal(raft_fixture_bootstrap(&c->fx, &conf), 0);
  raft_configuration_close(&conf);
  assert_int_equal(raft_fixture_start(&c->fx), 0);
  raft_fixture_hook(&c->fx, on_step);
  return c;
}

static int setup3(void **state) {
  *state = cluster_new(3, 1024, 128);
  return 0;
}

static int setup5(void **state) {
  *state = cluster_new(5, 1024, 128);
  return 0;
}

/* Snapshots every 4 entries, 2 kept behind. */
static int setup3_snap(void **state) {
  *state = cluster_new(3, 4, 2);
  return 0;
}

static int teardown(void **state) {
  cluster *c = *state;
  /* Fails what is pending (on_applied abandons): chains still open. */
  raft_fixture_close(&c->fx);
  for (unsigned i = 0; i < c->n; i++) {
    server *s = &c->s[i];
    hanse_raft_fsm_abandon(&s->sm, "test over");
    hanse_raft_fsm_close(&s->sm);
    hanse_mempool_destroy(s->mp);
    hanse_chain_close(s->chain);
    for (unsigned k = 0; k < s->n_applied; k++) free(s->applied[k].bytes);
    hanse_keypair_wipe(&s->key);
  }
  fx_rmrf(c->root);
  hanse_keypair_wipe(&c->alice);
  hanse_keypair_wipe(&c->bob);
  free(c);
  return 0;
}

/* ---- Looking at the servers ---- */

static uint64_t height(cluster *c, unsigned i) {
  hanse_tip t;
  hanse_chain_tip(c->s[i].chain, &t);
  return t.height;
}

static int diverged(cluster *c, unsigned i, hanse_divergence *d) {
  hanse_divergence local;
  return hanse_chain_divergence(c->s[i].chain, d ? d : &local);
}

static int is_leader(cluster *c, unsigned i) {
  return raft_state(raft_fixture_get(&c->fx, i)) == RAFT_LEADER;
}

/* HANSE_OK and the block's hash and header, or NOT_FOUND. */
static int block_at(cluster *c, unsigned i, uint64_t h, hanse_hash *hash, hanse_header *hd) {
  hanse_store *rd = hanse_chain_reader_acquire(c->s[i].chain);
  assert_non_null(rd);
  hanse_block_row row;
  int rc = hanse_store_block_get(rd, h, 0, &row);
  hanse_chain_reader_release(c->s[i].chain, rd);
  if (rc != HANSE_OK) return rc;
  if (hash) *hash = row.hash;
  if (hd) assert_int_equal(hanse_header_decode(hd, row.header, row.header_len, NULL), HANSE_OK);
  hanse_block_row_free(&row);
  return HANSE_OK;
}

static void assert_proposer(cluster *c, unsigned i, uint64_t h, unsigned proposer) {
  hanse_header hd;
  assert_int_equal(block_at(c, i, h, NULL, &hd), HANSE_OK);
  assert_memory_equal(hd.proposer.b, c->s[proposer].key.pub.b, HANSE_PUBKEY_BYTES);
}

/* The servers of `mask` hold the same chain up to `h`, and it ends there:
 * the same block hash at every height, the same tip (hash, state digest,
 * state sum, transaction count), and none is diverged. */
static void assert_same_chain(cluster *c, unsigned mask, uint64_t h) {
  unsigned first = c->n;
  hanse_tip t0;
  memset(&t0, 0, sizeof t0);
  for (unsigned i = 0; i < c->n; i++) {
    if (!(mask & (1u << i))) continue;
    hanse_tip t;
    hanse_chain_tip(c->s[i].chain, &t);
    assert_true(t.height == h);
    assert_int_equal(diverged(c, i, NULL), 0);
    assert_int_equal(atomic_load(&c->s[i].sm.diverged), 0);
    if (first == c->n) {
      first = i;
      t0 = t;
      continue;
    }
    assert_memory_equal(t.hash.b, t0.hash.b, HANSE_HASH_BYTES);
    assert_memory_equal(t.state_digest.b, t0.state_digest.b, HANSE_HASH_BYTES);
    assert_memory_equal(t.state_sum.b, t0.state_sum.b, HANSE_HASH_BYTES);
    assert_true(t.tx_count == t0.tx_count);
    for (uint64_t k = 1; k <= h; k++) {
      hanse_hash a, b;
      assert_int_equal(block_at(c, first, k, &a, NULL), HANSE_OK);
      assert_int_equal(block_at(c, i, k, &b, NULL), HANSE_OK);
      assert_memory_equal(a.b, b.b, HANSE_HASH_BYTES);
    }
  }
  assert_true(first < c->n);
}

#define ALL(c) ((1u << (c)->n) - 1)

/* ---- Driving ---- */

/* Sign a notary.anchor of a fresh digest and add it to server i's pool,
 * as the API does after its checks. */
static void submit(cluster *c, unsigned i, const hanse_keypair *kp, uint64_t seq) {
  hanse_buf raw;
  hanse_buf_init(&raw);
  c->doc++;
  fx_tx(&raw, kp, FX_CHAIN_ID, "notary.anchor", seq, 0,
        "{\"hash\":\"%064llx\",\"name\":\"doc-%llu\"}", (unsigned long long)c->doc,
        (unsigned long long)c->doc);
  hanse_tx tx;
  hanse_reject rej;
  assert_int_equal(hanse_tx_decode(&tx, raw.data, raw.len, 0, &rej), HANSE_OK);
  hanse_mp_add a;
  memset(&a, 0, sizeof a);
  a.type = HANSE_ENTRY_TX;
  a.raw = raw.data;
  a.raw_len = raw.len;
  a.signer = tx.signer;
  a.seq_first = a.seq_last = seq;
  a.ids = &tx.id;
  a.arrival_us = hanse_mono_us(&c->env);
  hanse_mp_status st;
  int rc = hanse_mempool_add(c->s[i].mp, &a, &st, &rej);
  if (rc != HANSE_OK) fail_msg("mempool add: %s: %s", rej.code, rej.message);
  assert_int_equal(st, HANSE_MP_ADDED);
  hanse_buf_free(&raw);
}

typedef struct wait_arg {
  cluster *c;
  unsigned i;       /* a server */
  unsigned mask;    /* a set of servers */
  uint64_t height;
} wait_arg;

static bool w_ready(struct raft_fixture *f, void *arg) {
  (void)f;
  wait_arg *w = arg;
  return atomic_load(&w->c->s[w->i].sm.ready) != 0;
}

static bool w_pending(struct raft_fixture *f, void *arg) {
  (void)f;
  wait_arg *w = arg;
  return w->c->s[w->i].sm.pend != NULL;
}

static bool w_height(struct raft_fixture *f, void *arg) {
  (void)f;
  wait_arg *w = arg;
  for (unsigned i = 0; i < w->c->n; i++)
    if ((w->mask & (1u << i)) && height(w->c, i) < w->height) return false;
  return true;
}

static bool w_diverged(struct raft_fixture *f, void *arg) {
  (void)f;
  wait_arg *w = arg;
  return atomic_load(&w->c->s[w->i].sm.diverged) != 0;
}

/* Not leader, nothing pending. */
static bool w_stepped_down(struct raft_fixture *f, void *arg) {
  (void)f;
  wait_arg *w = arg;
  return !is_leader(w->c, w->i) && w->c->s[w->i].sm.pend == NULL;
}

/* Some server of `mask` is a ready leader; w->i receives it. */
static bool w_ready_leader(struct raft_fixture *f, void *arg) {
  (void)f;
  wait_arg *w = arg;
  for (unsigned i = 0; i < w->c->n; i++) {
    if (!(w->mask & (1u << i))) continue;
    if (is_leader(w->c, i) && atomic_load(&w->c->s[i].sm.ready)) {
      w->i = i;
      return true;
    }
  }
  return false;
}

static bool w_restored(struct raft_fixture *f, void *arg) {
  (void)f;
  wait_arg *w = arg;
  return w->c->s[w->i].restores > 0;
}

static void wait_for(cluster *c, bool (*pred)(struct raft_fixture *, void *), wait_arg *w) {
  w->c = c;
  assert_true(raft_fixture_step_until(&c->fx, pred, w, WAIT_MS));
}

static void wait_ready(cluster *c, unsigned i) {
  wait_arg w = {.i = i};
  wait_for(c, w_ready, &w);
}

static void wait_height(cluster *c, unsigned mask, uint64_t h) {
  wait_arg w = {.mask = mask, .height = h};
  wait_for(c, w_height, &w);
}

static unsigned wait_ready_leader(cluster *c, unsigned mask) {
  wait_arg w = {.mask = mask};
  wait_for(c, w_ready_leader, &w);
  return w.i;
}

/* Elect server i and wait until its barrier is applied. */
static void elect_ready(cluster *c, unsigned i) {
  raft_fixture_elect(&c->fx, i);
  assert_int_equal(raft_fixture_leader_index(&c->fx), i);
  assert_true(is_leader(c, i));
  wait_ready(c, i);
}

static void partition(cluster *c, unsigned a_mask, int on) {
  for (unsigned i = 0; i < c->n; i++)
    for (unsigned j = 0; j < c->n; j++) {
      if (!(a_mask & (1u << i)) == !(a_mask & (1u << j))) continue;
      if (on)
        raft_fixture_saturate(&c->fx, i, j);
      else
        raft_fixture_desaturate(&c->fx, i, j);
    }
}

static const recorded *recorded_at(const server *s, uint64_t h) {
  for (unsigned k = 0; k < s->n_applied; k++)
    if (s->applied[k].height == h) return &s->applied[k];
  return NULL;
}

/* ---- Tests ---- */

/* The leader proposes only once ready; every server applies the block and
 * stores the same bytes; receipts reach on_commit everywhere, with
 * latencies only on the proposer. */
static void test_leader_proposes_all_apply(void **state) {
  cluster *c = *state;
  raft_fixture_elect(&c->fx, 0);
  assert_true(is_leader(c, 0));
  /* Elected, barrier not yet applied: not ready, so it proposes nothing,
   * and what its pool held then is dropped when it becomes ready (the
   * API forwards until then; sequences are read afresh). */
  assert_int_equal(atomic_load(&c->s[0].sm.ready), 0);
  submit(c, 0, &c->alice, 1);
  wait_ready(c, 0);
  assert_int_equal(hanse_mempool_depth(c->s[0].mp), 0);
  assert_null(c->s[0].sm.pend);
  for (unsigned i = 1; i < c->n; i++) {
    assert_int_equal(atomic_load(&c->s[i].sm.ready), 0);
    assert_int_equal(raft_state(raft_fixture_get(&c->fx, i)), RAFT_FOLLOWER);
  }
  /* The barrier is not a block, and an empty pool cuts nothing. */
  raft_fixture_step_until_elapsed(&c->fx, 500);
  for (unsigned i = 0; i < c->n; i++) assert_true(height(c, i) == 0);

  for (uint64_t q = 1; q <= 3; q++) submit(c, 0, &c->alice, q);
  wait_height(c, ALL(c), 1);
  raft_fixture_step_until_elapsed(&c->fx, 500);
  assert_same_chain(c, ALL(c), 1);
  assert_proposer(c, 1, 1, 0);
  for (unsigned i = 0; i < c->n; i++) {
    server *s = &c->s[i];
    hanse_tip t;
    hanse_chain_tip(s->chain, &t);
    assert_true(t.tx_count == 3);
    assert_int_equal(s->commits, 1);
    assert_int_equal(s->receipts, 3);
    assert_int_equal(s->receipts_ok, 3);
    assert_int_equal(s->receipts_bad_height, 0);
    assert_int_equal(s->with_latency, i == 0 ? 1 : 0);
  }
  assert_int_equal(hanse_mempool_depth(c->s[0].mp), 0);
  assert_null(c->s[0].sm.pend);

  for (uint64_t q = 4; q <= 5; q++) submit(c, 0, &c->alice, q);
  wait_height(c, ALL(c), 2);
  assert_same_chain(c, ALL(c), 2);
  assert_proposer(c, 2, 2, 0);
  for (unsigned i = 0; i < c->n; i++) {
    assert_int_equal(c->s[i].commits, 2);
    assert_int_equal(c->s[i].receipts_ok, 5);
  }
}

/* Re-applying entries at or below the tip changes nothing: not the tip,
 * not the receipts, not the divergence record. */
static void test_apply_idempotent_by_height(void **state) {
  cluster *c = *state;
  elect_ready(c, 0);
  submit(c, 0, &c->alice, 1);
  submit(c, 0, &c->alice, 2);
  wait_height(c, ALL(c), 1);
  submit(c, 0, &c->alice, 3);
  wait_height(c, ALL(c), 2);
  assert_same_chain(c, ALL(c), 2);
  for (unsigned i = 0; i < c->n; i++) {
    server *s = &c->s[i];
    hanse_tip before, after;
    hanse_chain_tip(s->chain, &before);
    uint32_t commits = s->commits;
    for (uint64_t h = 2; h >= 1; h--) {
      const recorded *r = recorded_at(s, h);
      assert_non_null(r);
      struct raft_buffer b = {r->bytes, r->len};
      void *result = (void *)1;
      assert_int_equal(real.apply(&s->table, &b, &result), 0);
      assert_null(result);
    }
    hanse_chain_tip(s->chain, &after);
    assert_true(after.height == before.height);
    assert_memory_equal(after.hash.b, before.hash.b, HANSE_HASH_BYTES);
    assert_memory_equal(after.state_digest.b, before.state_digest.b, HANSE_HASH_BYTES);
    assert_true(after.tx_count == before.tx_count);
    assert_int_equal(s->commits, commits);
    assert_int_equal(diverged(c, i, NULL), 0);
  }
  /* And the cluster goes on. */
  submit(c, 0, &c->alice, 4);
  wait_height(c, ALL(c), 3);
  assert_same_chain(c, ALL(c), 3);
}

/* The leader is deposed with its block replicated but not committed: it
 * abandons the block (rolled back, pool cleared); the next leader
 * commits the same entry, which reaches the old leader through apply and
 * is stored once. */
static void test_leadership_lost_entry_committed_later(void **state) {
  cluster *c = *state;
  elect_ready(c, 0);
  for (uint64_t q = 1; q <= 3; q++) submit(c, 0, &c->alice, q);
  wait_arg w = {.i = 0};
  wait_for(c, w_pending, &w);
  /* Followers get the entry; their acknowledgements are dropped. */
  raft_fixture_depose(&c->fx);
  wait_for(c, w_stepped_down, &w);
  assert_int_equal(atomic_load(&c->s[0].sm.ready), 0);
  assert_int_equal(hanse_mempool_depth(c->s[0].mp), 0); /* abandoned, then dropped */
  for (unsigned i = 0; i < c->n; i++) assert_true(height(c, i) == 0);
  assert_int_equal(c->s[0].commits, 0);

  raft_fixture_elect(&c->fx, 1);
  assert_true(is_leader(c, 1));
  wait_ready(c, 1);
  wait_height(c, ALL(c), 1);
  raft_fixture_step_until_elapsed(&c->fx, 500);
  assert_same_chain(c, ALL(c), 1);
  assert_proposer(c, 0, 1, 0); /* the old leader's block, once */
  hanse_tip t;
  hanse_chain_tip(c->s[0].chain, &t);
  assert_true(t.tx_count == 3);
  assert_int_equal(c->s[0].commits, 1);
  assert_int_equal(c->s[0].receipts_ok, 3);
  assert_int_equal(c->s[0].with_latency, 0); /* through apply, as any block */

  /* The new leader's pool starts from the store: alice's next is 4. */
  submit(c, 1, &c->alice, 4);
  wait_height(c, ALL(c), 2);
  assert_same_chain(c, ALL(c), 2);
  assert_proposer(c, 0, 2, 1);
}

/* The leader's entry never leaves it: it steps down, abandons its block;
 * the resubmitted transactions commit under the next leader and the old
 * leader's chain follows it, its own entry truncated away. */
static void test_leadership_lost_entry_dropped(void **state) {
  cluster *c = *state;
  elect_ready(c, 0);
  submit(c, 0, &c->alice, 1);
  wait_height(c, ALL(c), 1);
  for (uint64_t q = 2; q <= 4; q++) submit(c, 0, &c->alice, q);
  wait_arg w = {.i = 0};
  wait_for(c, w_pending, &w);
  raft_fixture_saturate(&c->fx, 0, 1);
  raft_fixture_saturate(&c->fx, 0, 2);
  unsigned l = wait_ready_leader(c, 0x6);
  wait_for(c, w_stepped_down, &w);
  assert_true(height(c, 0) == 1);
  assert_int_equal(hanse_mempool_depth(c->s[0].mp), 0);
  assert_true(height(c, 1) == 1 && height(c, 2) == 1);

  /* Clients resubmit to the new leader. Server 0 still hears it (only
   * its own messages are dropped): it truncates its entry and applies. */
  for (uint64_t q = 2; q <= 4; q++) submit(c, l, &c->alice, q);
  wait_height(c, ALL(c), 2);
  raft_fixture_desaturate(&c->fx, 0, 1);
  raft_fixture_desaturate(&c->fx, 0, 2);
  raft_fixture_step_until_elapsed(&c->fx, 500);
  assert_same_chain(c, ALL(c), 2);
  assert_proposer(c, 0, 2, l);
  hanse_tip t;
  hanse_chain_tip(c->s[0].chain, &t);
  assert_true(t.tx_count == 4);
  assert_int_equal(c->s[0].commits, 2);
  assert_int_equal(c->s[0].receipts_ok, 4);
}

/* A leader paused (killed) with its block pending, while the others agree
 * on another block at that height; that block reaches the paused leader's
 * apply (here by hand, before libraft fails its request): the pending
 * block is rolled back, the agreed one stored, and on revival the node
 * follows the cluster. */
static void test_pending_block_replaced_by_agreed_block(void **state) {
  cluster *c = *state;
  elect_ready(c, 0);
  submit(c, 0, &c->alice, 1);
  wait_height(c, ALL(c), 1);
  submit(c, 0, &c->alice, 2);
  submit(c, 0, &c->alice, 3);
  wait_arg w = {.i = 0};
  wait_for(c, w_pending, &w);
  raft_fixture_kill(&c->fx, 0);
  unsigned l = wait_ready_leader(c, 0x6);
  submit(c, l, &c->bob, 1);
  wait_height(c, 0x6, 2);
  assert_non_null(c->s[0].sm.pend);
  assert_true(is_leader(c, 0)); /* as far as it knows */

  const recorded *r = recorded_at(&c->s[l], 2);
  assert_non_null(r);
  struct raft_buffer b = {r->bytes, r->len};
  void *result;
  assert_int_equal(real.apply(&c->s[0].table, &b, &result), 0);
  assert_null(c->s[0].sm.pend);
  assert_true(height(c, 0) == 2);
  assert_proposer(c, 0, 2, l);
  hanse_tip t;
  hanse_chain_tip(c->s[0].chain, &t);
  assert_true(t.tx_count == 2); /* alice 1, bob 1: not alice 2..3 */
  assert_int_equal(c->s[0].commits, 2);
  assert_int_equal(hanse_mempool_depth(c->s[0].mp), 2); /* back in the pool */

  raft_fixture_revive(&c->fx, 0);
  wait_for(c, w_stepped_down, &w);
  raft_fixture_step_until_elapsed(&c->fx, 500);
  assert_int_equal(hanse_mempool_depth(c->s[0].mp), 0);
  assert_same_chain(c, ALL(c), 2);
  assert_int_equal(c->s[0].commits, 2); /* libraft's re-delivery skipped */
  unsigned l2 = wait_ready_leader(c, ALL(c));
  submit(c, l2, &c->alice, 2);
  wait_height(c, ALL(c), 3);
  assert_same_chain(c, ALL(c), 3);
}

/* 5 servers, the leader cut off with one follower: the minority commits
 * nothing, the majority elects a leader and goes on; healed, all five
 * hold the majority's chain. */
static void test_partitioned_minority_leader(void **state) {
  cluster *c = *state;
  elect_ready(c, 0);
  submit(c, 0, &c->alice, 1);
  wait_height(c, ALL(c), 1);

  partition(c, 0x3, 1); /* {0,1} | {2,3,4} */
  submit(c, 0, &c->alice, 2);
  submit(c, 0, &c->alice, 3);
  wait_arg w = {.i = 0};
  wait_for(c, w_pending, &w);
  unsigned l = wait_ready_leader(c, 0x1c);
  submit(c, l, &c->bob, 1);
  submit(c, l, &c->bob, 2);
  wait_height(c, 0x1c, 2);
  raft_fixture_step_until_elapsed(&c->fx, 2000);
  assert_true(height(c, 0) == 1);
  assert_true(height(c, 1) == 1);
  assert_null(c->s[0].sm.pend); /* the minority leader gave up */
  assert_false(is_leader(c, 0));
  assert_int_equal(hanse_mempool_depth(c->s[0].mp), 0);
  assert_same_chain(c, 0x1c, 2);

  partition(c, 0x3, 0);
  wait_height(c, ALL(c), 2);
  raft_fixture_step_until_elapsed(&c->fx, 1000);
  assert_same_chain(c, ALL(c), 2);
  assert_proposer(c, 0, 2, l);
  for (unsigned i = 0; i < c->n; i++) {
    hanse_tip t;
    hanse_chain_tip(c->s[i].chain, &t);
    assert_true(t.tx_count == 3);
    assert_int_equal(c->s[i].commits, 2);
  }
  /* Alice resubmits what the minority never committed. */
  unsigned l2 = wait_ready_leader(c, ALL(c));
  submit(c, l2, &c->alice, 2);
  wait_height(c, ALL(c), 3);
  assert_same_chain(c, ALL(c), 3);
}

/* A bit of block 2's state digest flipped on its way into server 2's
 * apply (its proposer's signature no longer verifies): server 2 is
 * diverged, applies nothing after, and keeps what it had. */
static void test_tampered_entry_diverges(void **state) {
  cluster *c = *state;
  elect_ready(c, 0);
  submit(c, 0, &c->alice, 1);
  wait_height(c, ALL(c), 1);
  c->s[2].tamper_height = 2;
  submit(c, 0, &c->alice, 2);
  wait_arg w = {.i = 2};
  wait_for(c, w_diverged, &w);
  hanse_divergence d;
  assert_int_equal(diverged(c, 2, &d), 1);
  assert_true(d.height == 2);
  assert_int_equal(d.has_certified, 1);
  assert_int_equal(atomic_load(&c->s[2].sm.failed), 1);
  assert_int_equal(atomic_load(&c->s[2].sm.ready), 0);

  submit(c, 0, &c->alice, 3);
  wait_height(c, 0x3, 3);
  raft_fixture_step_until_elapsed(&c->fx, 1000);
  assert_same_chain(c, 0x3, 3);
  /* Server 2: libraft counts the entries applied, the chain took none. */
  assert_true(raft_last_applied(raft_fixture_get(&c->fx, 2)) ==
              raft_last_applied(raft_fixture_get(&c->fx, 0)));
  assert_true(height(c, 2) == 1);
  assert_int_equal(block_at(c, 2, 2, NULL, NULL), HANSE_ERR(NOT_FOUND));
  assert_int_equal(c->s[2].commits, 1);
  hanse_hash a, b;
  assert_int_equal(block_at(c, 0, 1, &a, NULL), HANSE_OK);
  assert_int_equal(block_at(c, 2, 1, &b, NULL), HANSE_OK);
  assert_memory_equal(a.b, b.b, HANSE_HASH_BYTES);
}

/* A hand-made entry, validly signed by a validator, whose header names
 * another state digest than the block's execution reaches: applied
 * through server 2's fsm, it marks server 2 diverged at that height with
 * the header's hash; the real block 2 arriving later is not applied. */
static void test_wrong_state_digest_diverges(void **state) {
  cluster *c = *state;
  elect_ready(c, 0);
  submit(c, 0, &c->alice, 1);
  wait_height(c, ALL(c), 1);
  raft_fixture_saturate(&c->fx, 0, 2);
  raft_fixture_saturate(&c->fx, 1, 2);
  submit(c, 0, &c->alice, 2);
  wait_height(c, 0x3, 2);
  assert_true(height(c, 2) == 1);

  const recorded *r = recorded_at(&c->s[0], 2);
  assert_non_null(r);
  struct raft_buffer b;
  hanse_hash forged;
  b.base = entry_with_digest_flipped(r->bytes, r->len, &c->s[0].key, &b.len, &forged);
  assert_non_null(b.base);
  void *result;
  assert_int_equal(real.apply(&c->s[2].table, &b, &result), 0);
  raft_free(b.base);
  hanse_divergence d;
  assert_int_equal(diverged(c, 2, &d), 1);
  assert_true(d.height == 2);
  assert_non_null(strstr(d.reason, "state digest"));
  assert_int_equal(d.has_certified, 1);
  assert_memory_equal(d.certified.b, forged.b, HANSE_HASH_BYTES);
  assert_int_equal(atomic_load(&c->s[2].sm.diverged), 1);
  assert_true(height(c, 2) == 1);

  raft_fixture_desaturate(&c->fx, 0, 2);
  raft_fixture_desaturate(&c->fx, 1, 2);
  submit(c, 0, &c->alice, 3);
  wait_height(c, 0x3, 3);
  raft_fixture_step_until_elapsed(&c->fx, 1000);
  assert_same_chain(c, 0x3, 3);
  assert_true(raft_last_applied(raft_fixture_get(&c->fx, 2)) ==
              raft_last_applied(raft_fixture_get(&c->fx, 0)));
  assert_true(height(c, 2) == 1); /* the valid block 2 too: nothing after */
  assert_int_equal(c->s[2].commits, 1);
}

/* A leader whose chain another part of the node marked diverged
 * (node/certs.c) proposes nothing and hands leadership over; the cluster
 * goes on without it. */
static void test_diverged_leader_hands_over(void **state) {
  cluster *c = *state;
  elect_ready(c, 0);
  submit(c, 0, &c->alice, 1);
  wait_height(c, ALL(c), 1);
  hanse_divergence d;
  memset(&d, 0, sizeof d);
  d.diverged = 1;
  d.height = 1;
  snprintf(d.reason, sizeof d.reason, "test: a certificate on another hash");
  hanse_chain_diverge(c->s[0].chain, &d);
  submit(c, 0, &c->alice, 2);
  unsigned l = wait_ready_leader(c, 0x6);
  assert_false(is_leader(c, 0));
  assert_true(height(c, 0) == 1);
  assert_null(c->s[0].sm.pend);
  assert_int_equal(atomic_load(&c->s[0].sm.failed), 1);
  assert_int_equal(atomic_load(&c->s[0].sm.ready), 0);

  submit(c, l, &c->alice, 2);
  wait_height(c, 0x6, 2);
  raft_fixture_step_until_elapsed(&c->fx, 1000);
  assert_same_chain(c, 0x6, 2);
  assert_proposer(c, 1, 2, l);
  assert_true(height(c, 0) == 1);
}

/* Snapshots every 4 entries: each server's descriptor names a block it
 * stores; restoring it is accepted, a descriptor with another hash or of
 * another shape is refused. Then a follower killed while the log moved
 * past what the leader keeps, whose chain got the blocks another way (a
 * copied chain.db), is sent the leader's snapshot on revival, accepts it
 * and follows the log again. */
static void test_snapshot_checkpoint(void **state) {
  cluster *c = *state;
  elect_ready(c, 0);
  uint64_t q = 0;
  for (uint64_t h = 1; h <= 6; h++) {
    submit(c, 0, &c->alice, ++q);
    wait_height(c, ALL(c), h);
  }
  assert_same_chain(c, ALL(c), 6);
  for (unsigned i = 0; i < c->n; i++) {
    server *s = &c->s[i];
    assert_true(s->snapshots >= 1);
    uint64_t sh;
    hanse_hash hash, digest, stored;
    hanse_header hd;
    assert_int_equal(hanse_raft_checkpoint_decode(s->snap, sizeof s->snap, &sh, &hash, &digest),
                     HANSE_OK);
    assert_true(sh >= 1 && sh <= 6);
    assert_int_equal(block_at(c, i, sh, &stored, &hd), HANSE_OK);
    assert_memory_equal(hash.b, stored.b, HANSE_HASH_BYTES);
    assert_memory_equal(digest.b, hd.state_digest.b, HANSE_HASH_BYTES);

    struct raft_buffer b = {raft_malloc(HANSE_RAFT_CHECKPOINT_BYTES), HANSE_RAFT_CHECKPOINT_BYTES};
    assert_non_null(b.base);
    memcpy(b.base, s->snap, b.len);
    assert_int_equal(real.restore(&s->table, &b), 0); /* accepted; it frees b.base */

    b.base = raft_malloc(b.len);
    b.len = 10;
    assert_int_equal(real.restore(&s->table, &b), RAFT_MALFORMED);
    raft_free(b.base);
    assert_true(height(c, i) == 6);
    assert_int_equal(diverged(c, i, NULL), 0);
  }

  raft_fixture_kill(&c->fx, 2);
  for (uint64_t h = 7; h <= 12; h++) {
    submit(c, 0, &c->alice, ++q);
    wait_height(c, 0x3, h);
  }
  assert_true(height(c, 2) == 6);
  assert_int_equal(c->s[2].restores, 0);
  /* Server 2's chain gets blocks 7..12 out of band. */
  for (uint64_t h = 7; h <= 12; h++) {
    const recorded *r = recorded_at(&c->s[0], h);
    assert_non_null(r);
    struct raft_buffer b = {r->bytes, r->len};
    void *result;
    assert_int_equal(real.apply(&c->s[2].table, &b, &result), 0);
  }
  assert_same_chain(c, ALL(c), 12);

  raft_fixture_revive(&c->fx, 2);
  wait_arg w = {.i = 2};
  wait_for(c, w_restored, &w);
  assert_int_equal(c->s[2].restore_rc, 0);
  submit(c, 0, &c->alice, ++q);
  wait_height(c, ALL(c), 13);
  raft_fixture_step_until_elapsed(&c->fx, 500);
  assert_same_chain(c, ALL(c), 13);
  assert_int_equal(c->s[2].restores, 1);

  /* A descriptor naming another block at a height this node holds: its
   * copy differs from the cluster's. Accepted (a refusal leaves libraft
   * 0.22.1 stuck: it never restores again) and the node is diverged at
   * that height, for good. */
  server *s0 = &c->s[0];
  uint64_t sh;
  hanse_hash hash, digest;
  assert_int_equal(hanse_raft_checkpoint_decode(s0->snap, sizeof s0->snap, &sh, &hash, &digest),
                   HANSE_OK);
  struct raft_buffer b = {raft_malloc(HANSE_RAFT_CHECKPOINT_BYTES), HANSE_RAFT_CHECKPOINT_BYTES};
  assert_non_null(b.base);
  memcpy(b.base, s0->snap, b.len);
  ((uint8_t *)b.base)[10] ^= 0x01; /* the tip hash */
  assert_int_equal(real.restore(&s0->table, &b), 0);
  hanse_divergence d;
  assert_int_equal(diverged(c, 0, &d), 1);
  assert_int_equal(d.height, sh);
  assert_true(d.has_certified);
  assert_memory_equal(d.certified.b, (uint8_t[]){hash.b[0] ^ 1}, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_leader_proposes_all_apply, setup3, teardown),
      cmocka_unit_test_setup_teardown(test_apply_idempotent_by_height, setup3, teardown),
      cmocka_unit_test_setup_teardown(test_leadership_lost_entry_committed_later, setup3,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_leadership_lost_entry_dropped, setup3, teardown),
      cmocka_unit_test_setup_teardown(test_pending_block_replaced_by_agreed_block, setup3,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_partitioned_minority_leader, setup5, teardown),
      cmocka_unit_test_setup_teardown(test_tampered_entry_diverges, setup3, teardown),
      cmocka_unit_test_setup_teardown(test_wrong_state_digest_diverges, setup3, teardown),
      cmocka_unit_test_setup_teardown(test_diverged_leader_hands_over, setup3, teardown),
      cmocka_unit_test_setup_teardown(test_snapshot_checkpoint, setup3_snap, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
