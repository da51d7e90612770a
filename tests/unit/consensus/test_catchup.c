/*
 * test_catchup.c -- hanse_catchup_run against peers simulated in-process:
 * a "peer" chain with blocks, and a node whose chain has the same genesis
 * and nothing else. The fetch function reads the peer's stored blocks
 * into a block stream, as GET /blocks/raw does, and can fail, tamper a
 * byte, or answer garbage, per peer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "consensus/catchup.h"
#include "consensus/consensus.h"
#include "consensus/raft_entry.h"
#include "fixture.h"

#define BLOCKS 6

enum { PEER_GOOD, PEER_DOWN, PEER_TAMPER, PEER_GARBAGE };

typedef struct world {
  fx_chain peer;          /* holds BLOCKS blocks */
  char node_dir[300];
  hanse_chain *node;      /* genesis only, at first */
  int behaviour[4];       /* by Raft id 1..3 (1 is the node itself) */
  int calls[4];
  uint64_t fake_us;       /* the clock, when fake */
  hanse_env env;
  hanse_cluster_config cl;
  hanse_receipt rs[64];
  hanse_catchup_progress progress;
  atomic_int stop;
  int blocks_seen;
} world;

static uint64_t fake_now_ms(void *ctx) {
  (void)ctx;
  return 1700000000000ull;
}
/* Every look at the clock moves it a minute on: give-up comes quickly. */
static uint64_t fake_mono_us(void *ctx) {
  world *w = ctx;
  w->fake_us += 60u * 1000 * 1000;
  return w->fake_us;
}
static void fake_random(void *ctx, void *out, size_t n) {
  (void)ctx;
  memset(out, 7, n);
}

static int fetch(void *ctx, const char *api_url, uint64_t from, uint32_t count, hanse_buf *out,
                 hanse_reject *rej) {
  world *w = ctx;
  int id = api_url[strlen(api_url) - 1] - '0';
  assert_true(id >= 2 && id <= 3); /* never ourselves */
  w->calls[id]++;
  hanse_buf_reset(out);
  if (w->behaviour[id] == PEER_DOWN)
    return hanse_reject_set(rej, HANSE_ERR(IO), "connection refused");
  if (w->behaviour[id] == PEER_GARBAGE) {
    hanse_buf_put(out, "\x00\x00\x00\x09garbage!!", 13);
    return HANSE_OK;
  }
  hanse_store *rd = hanse_chain_reader_acquire(w->peer.chain);
  for (uint64_t h = from; h < from + count && h <= BLOCKS; h++) {
    hanse_block_row row;
    assert_int_equal(hanse_store_block_get(rd, h, 1, &row), HANSE_OK);
    if (w->behaviour[id] == PEER_TAMPER && h == from) row.body[row.body_len - 1] ^= 1;
    assert_int_equal(hanse_raft_block_stream_put(out, h, row.header, row.header_len, row.body,
                                                 row.body_len),
                     HANSE_OK);
    hanse_block_row_free(&row);
  }
  hanse_chain_reader_release(w->peer.chain, rd);
  return HANSE_OK;
}

static void on_block(void *ctx, const hanse_tip *tip, const hanse_receipt *rs, uint32_t n) {
  world *w = ctx;
  (void)rs;
  (void)n;
  w->blocks_seen++;
  assert_int_equal(tip->height, atomic_load(&w->progress.height) + 1); /* in order */
}

static int setup(void **state) {
  world *w = calloc(1, sizeof *w);
  assert_non_null(w);
  fx_chain_setup(&w->peer, NULL);
  /* The node: a copy of the peer's directory while it holds genesis only. */
  snprintf(w->node_dir, sizeof w->node_dir, "%s-node", w->peer.dir);
  char cmd[700];
  snprintf(cmd, sizeof cmd, "cp -a '%s' '%s'", w->peer.dir, w->node_dir);
  assert_int_equal(system(cmd), 0);
  hanse_reject rej;
  assert_int_equal(hanse_chain_open(w->node_dir, &w->peer.node, NULL, &w->node, &rej), HANSE_OK);
  for (int h = 1; h <= BLOCKS; h++) {
    fx_body b;
    fx_body_init(&b);
    fx_body_tx(&b, &w->peer.alice, "notary.anchor", (uint64_t)h, "{\"hash\":\"%064d\"}", h);
    fx_propose_ok(&w->peer, &b);
    fx_body_free(&b);
  }
  w->env = *hanse_env_system();
  w->cl.self_id = 1;
  w->cl.member_count = 3;
  for (int i = 0; i < 3; i++) {
    w->cl.members[i].id = (uint64_t)i + 1;
    snprintf(w->cl.members[i].api_url, sizeof w->cl.members[i].api_url, "http://peer%d", i + 1);
  }
  *state = w;
  return 0;
}

static int teardown(void **state) {
  world *w = *state;
  hanse_chain_close(w->node);
  fx_rmrf(w->node_dir);
  fx_chain_teardown(&w->peer);
  free(w);
  return 0;
}

static hanse_catchup_job job_of(world *w, uint64_t height) {
  hanse_tip tip;
  hanse_chain_tip(w->peer.chain, &tip);
  hanse_store *rd = hanse_chain_reader_acquire(w->peer.chain);
  hanse_block_row row;
  assert_int_equal(hanse_store_block_get(rd, height, 0, &row), HANSE_OK);
  hanse_chain_reader_release(w->peer.chain, rd);
  hanse_catchup_job j = {.chain = w->node,
                         .cluster = &w->cl,
                         .leader_id = 3,
                         .fetch = fetch,
                         .fetch_ctx = w,
                         .height = height,
                         .hash = row.hash,
                         .stop = &w->stop,
                         .env = &w->env,
                         .receipts = w->rs,
                         .receipts_cap = 64,
                         .on_block = on_block,
                         .on_block_ctx = w,
                         .progress = &w->progress};
  hanse_block_row_free(&row);
  return j;
}

static void assert_same_tip(world *w, uint64_t height) {
  hanse_tip a, b;
  hanse_chain_tip(w->node, &a);
  assert_int_equal(a.height, height);
  hanse_store *rd = hanse_chain_reader_acquire(w->peer.chain);
  hanse_block_row row;
  assert_int_equal(hanse_store_block_get(rd, height, 0, &row), HANSE_OK);
  hanse_chain_reader_release(w->peer.chain, rd);
  assert_memory_equal(a.hash.b, row.hash.b, HANSE_HASH_BYTES);
  hanse_block_row_free(&row);
  hanse_chain_tip(w->peer.chain, &b);
  if (b.height == height) assert_memory_equal(a.state_digest.b, b.state_digest.b, 32);
}

/* The leader (id 3) delivers everything; progress says so. */
static void catches_up_from_the_leader(void **state) {
  world *w = *state;
  hanse_catchup_job j = job_of(w, BLOCKS);
  hanse_reject rej;
  assert_int_equal(hanse_catchup_run(&j, &rej), HANSE_OK);
  assert_same_tip(w, BLOCKS);
  assert_int_equal(w->calls[3], 1); /* one range, asked of the leader first */
  assert_int_equal(w->calls[2], 0);
  assert_int_equal(w->blocks_seen, BLOCKS);
  assert_int_equal(atomic_load(&w->progress.runs), 1);
  assert_int_equal(atomic_load(&w->progress.from), 0);
  assert_int_equal(atomic_load(&w->progress.target), BLOCKS);
  assert_int_equal(atomic_load(&w->progress.height), BLOCKS);
  assert_int_equal(atomic_load(&w->progress.peer), 3);
  assert_int_equal(atomic_load(&w->progress.active), 0);
}

/* Part of the way, then the rest: resumes from the tip. */
static void resumes_from_its_tip(void **state) {
  world *w = *state;
  hanse_catchup_job j = job_of(w, 2);
  hanse_reject rej;
  assert_int_equal(hanse_catchup_run(&j, &rej), HANSE_OK);
  assert_same_tip(w, 2);
  j = job_of(w, BLOCKS);
  assert_int_equal(hanse_catchup_run(&j, &rej), HANSE_OK);
  assert_same_tip(w, BLOCKS);
  assert_int_equal(atomic_load(&w->progress.from), 2);
  assert_int_equal(atomic_load(&w->progress.runs), 2);
}

/* A peer that is down, or sends garbage, or a tampered block, is passed
 * over for one that delivers. */
static void pass_over(world *w, int bad) {
  w->behaviour[3] = bad;
  w->behaviour[2] = PEER_GOOD;
  hanse_catchup_job j = job_of(w, BLOCKS);
  hanse_reject rej;
  assert_int_equal(hanse_catchup_run(&j, &rej), HANSE_OK);
  assert_same_tip(w, BLOCKS);
  assert_true(w->calls[3] >= 1);
  assert_true(w->calls[2] >= 1);
  assert_int_equal(atomic_load(&w->progress.peer), 2);
}

static void passes_over_a_peer_that_is_down(void **state) { pass_over(*state, PEER_DOWN); }
static void passes_over_garbage(void **state) { pass_over(*state, PEER_GARBAGE); }
static void passes_over_a_tampered_block(void **state) { pass_over(*state, PEER_TAMPER); }

/* Every peer's next block fails here: this copy is the odd one. */
static void all_bad_is_chain_broken(void **state) {
  world *w = *state;
  w->behaviour[2] = w->behaviour[3] = PEER_TAMPER;
  hanse_catchup_job j = job_of(w, BLOCKS);
  hanse_reject rej;
  assert_int_equal(hanse_catchup_run(&j, &rej), HANSE_ERR(CHAIN_BROKEN));
  assert_non_null(strstr(rej.message, "block 1"));
  assert_same_tip(w, 0);
  assert_int_equal(atomic_load(&w->progress.active), 0);
}

/* The block at the snapshot's height is not the snapshot's. */
static void wrong_snapshot_hash_is_chain_broken(void **state) {
  world *w = *state;
  hanse_catchup_job j = job_of(w, 3);
  j.hash.b[0] ^= 1;
  hanse_reject rej;
  assert_int_equal(hanse_catchup_run(&j, &rej), HANSE_ERR(CHAIN_BROKEN));
  assert_non_null(strstr(rej.message, "not the snapshot's block"));
}

/* Nobody answers: give up after HANSE_CATCHUP_GIVEUP_S (a fake clock). */
static void nobody_answers_gives_up(void **state) {
  world *w = *state;
  w->behaviour[2] = w->behaviour[3] = PEER_DOWN;
  w->env.ctx = w;
  w->env.now_ms = fake_now_ms;
  w->env.mono_us = fake_mono_us;
  w->env.random = fake_random;
  hanse_catchup_job j = job_of(w, BLOCKS);
  hanse_reject rej;
  assert_int_equal(hanse_catchup_run(&j, &rej), HANSE_ERR(UNREACHABLE));
  assert_string_equal(rej.code, "cluster.unreachable");
  assert_same_tip(w, 0);
}

/* A stopping node gives up at once. */
static void stop_cancels(void **state) {
  world *w = *state;
  atomic_store(&w->stop, 1);
  hanse_catchup_job j = job_of(w, BLOCKS);
  hanse_reject rej;
  assert_int_equal(hanse_catchup_run(&j, &rej), HANSE_ERR(CANCELLED));
  assert_int_equal(w->calls[2] + w->calls[3], 0);
  assert_same_tip(w, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(catches_up_from_the_leader, setup, teardown),
      cmocka_unit_test_setup_teardown(resumes_from_its_tip, setup, teardown),
      cmocka_unit_test_setup_teardown(passes_over_a_peer_that_is_down, setup, teardown),
      cmocka_unit_test_setup_teardown(passes_over_garbage, setup, teardown),
      cmocka_unit_test_setup_teardown(passes_over_a_tampered_block, setup, teardown),
      cmocka_unit_test_setup_teardown(all_bad_is_chain_broken, setup, teardown),
      cmocka_unit_test_setup_teardown(wrong_snapshot_hash_is_chain_broken, setup, teardown),
      cmocka_unit_test_setup_teardown(nobody_answers_gives_up, setup, teardown),
      cmocka_unit_test_setup_teardown(stop_cancels, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
