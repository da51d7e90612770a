/*
 * test_cluster_catchup.c -- catch-up from a snapshot (issue 4, point 3).
 *
 * Three nodes with `--snapshot-every 8`: the leader takes a Raft snapshot
 * every 8 entries and keeps only 8 behind it, so a node that misses more
 * than that can no longer be fed from the log and is sent the snapshot (a
 * checkpoint descriptor); it fetches the missing blocks from its peers'
 * APIs (GET /blocks/raw, signed with its node key) and then follows the
 * log.
 *
 * 1. A node that was down: node 3 is stopped, the other two commit 80
 *    blocks, node 3 restarts. It reaches the cluster's height, its status
 *    reports the catch-up ("cluster.catchup": runs >= 1, from its old tip,
 *    a target beyond it, a rate) and so do its metrics
 *    (hanse_catchup_target_height), and all three hold identical block
 *    hashes at every height and the same state digest.
 * 2. A new node: node 2's chain directory is replaced by the pristine
 *    copy made before the cluster first started (genesis only, no Raft
 *    log), as when a member replaces a machine. It starts from height 0
 *    and catches up in the same way.
 * 3. GET /blocks/raw is for the chain's nodes only: unsigned 401
 *    auth.missing; signed by a member that is not a validator 403
 *    auth.not_validator; bad parameters 400.
 *
 * Every acknowledged transaction is found on every node at the end.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hanse/client.h"
#include "itest.h"

#define CHAIN "alliance"
#define N 3
#define ACKS_MAX 256

static it_node nodes[N];
static char peers[1024];
static const char *hanse;
static uint64_t seq;
static hanse_hash acked[ACKS_MAX];
static int nacked;

static void start_node(int i) {
  char id[16];
  snprintf(id, sizeof id, "%d", i + 1);
  const char *extra[] = {"--cluster",          CHAIN, "--raft-id",        id, "--peers", peers,
                         "--block-interval-ms", "20",  "--snapshot-every", "8", NULL};
  int st = 0;
  if (it_start(&nodes[i], extra, &st) != 0) {
    fprintf(stderr, "node %d exited with %d; log %s\n", i + 1, st, nodes[i].log);
    IT_CHECK(0);
  }
}

/* Submit one transaction to node `to` and wait for its commit; retried
 * (the same transaction) across a leader change. */
static void commit_one(int to) {
  char payload[128];
  seq++;
  snprintf(payload, sizeof payload, "{\"hash\":\"%064" PRIx64 "\"}", 0x30000 + seq);
  hanse_hash id;
  char *hex = it_tx_hex(CHAIN, "notary.anchor", 1, seq, payload, &id);
  for (int attempt = 0; attempt < 100; attempt++) {
    it_answer a;
    it_submit_wait(&nodes[to], CHAIN, hex, 3000, &a);
    if (it_committed(&a)) {
      free(hex);
      IT_CHECK(nacked < ACKS_MAX);
      acked[nacked++] = id;
      return;
    }
    it_sleep_ms(50);
  }
  IT_CHECK(!"a transaction was never acknowledged");
}

static void check_acked_everywhere(void) {
  for (int i = 0; i < N; i++) {
    for (int k = 0; k < nacked; k++) {
      if (!it_tx_present(&nodes[i], CHAIN, &acked[k])) {
        fprintf(stderr, "acknowledged transaction %d missing on node %d\n", k, i + 1);
        IT_CHECK(0);
      }
    }
  }
}

/* The node's last catch-up, as its status reports it; checks it ran and
 * went from `from` to at least `min_target`. */
static void check_catchup_reported(int i, uint64_t from, uint64_t min_target) {
  json_t *s = it_chain_status(&nodes[i], CHAIN);
  IT_CHECK(s != NULL);
  json_t *cu = json_object_get(json_object_get(s, "cluster"), "catchup");
  IT_CHECK(json_is_object(cu));
  uint64_t runs = (uint64_t)json_integer_value(json_object_get(cu, "runs"));
  uint64_t cfrom = (uint64_t)json_integer_value(json_object_get(cu, "from"));
  uint64_t target = (uint64_t)json_integer_value(json_object_get(cu, "target"));
  uint64_t reached = (uint64_t)json_integer_value(json_object_get(cu, "height"));
  double rate = json_real_value(json_object_get(cu, "blocks_per_s"));
  printf("node %d caught up from a snapshot: %" PRIu64 " run(s), blocks %" PRIu64 " to %" PRIu64
         ", %" PRIu64 " ms, %.0f blocks/s, from node %" PRIu64 "\n",
         i + 1, runs, cfrom, target, (uint64_t)json_integer_value(json_object_get(cu, "elapsed_ms")),
         rate, (uint64_t)json_integer_value(json_object_get(cu, "peer")));
  IT_CHECK(runs >= 1);
  IT_CHECK(json_is_false(json_object_get(cu, "active")));
  IT_CHECK(cfrom >= from);
  IT_CHECK(target >= min_target && target > cfrom);
  IT_CHECK(reached == target);
  uint64_t peer = (uint64_t)json_integer_value(json_object_get(cu, "peer"));
  IT_CHECK(peer >= 1 && peer <= N && peer != (uint64_t)i + 1);
  json_decref(s);
  /* and in the metrics */
  it_resp r;
  char url[128];
  snprintf(url, sizeof url, "%s/metrics", nodes[i].url);
  IT_CHECK(it_http("GET", url, NULL, NULL, 0, &r) == 0 && r.status == 200);
  char line[128];
  snprintf(line, sizeof line, "hanse_catchup_target_height{chain=\"" CHAIN "\"} %" PRIu64, target);
  IT_CHECK(strstr(r.body, line) != NULL);
  IT_CHECK(strstr(r.body, "hanse_cluster_role{chain=\"" CHAIN "\"}") != NULL);
  it_resp_free(&r);
}

/* ---- 3. who may read raw blocks ---- */

static void check_raw_access(void) {
  it_resp r;
  char url[192];
  snprintf(url, sizeof url, "%s/v1/chains/" CHAIN "/blocks/raw?from=1&count=2", nodes[0].url);
  IT_CHECK(it_http("GET", url, NULL, NULL, 0, &r) == 0);
  IT_CHECK(r.status == 401 && strstr(r.body, "auth.missing") != NULL);
  it_resp_free(&r);

  hanse_keypair user;
  it_key(&user, 1); /* a manufacturer's key: a member, not a validator */
  hanse_client *c;
  hanse_reject rej;
  hanse_reject_clear(&rej);
  IT_CHECK(hanse_client_create(nodes[0].url, CHAIN, &c, &rej) == HANSE_OK);
  hanse_client_set_signer(c, &user);
  hanse_buf out;
  hanse_buf_init(&out);
  int rc = hanse_client_get_raw(c, "/v1/chains/" CHAIN "/blocks/raw?from=1&count=2", &out, 1 << 20,
                                &rej);
  IT_CHECK(rc != HANSE_OK && rej.status == 403 && strcmp(rej.code, "auth.not_validator") == 0);
  rc = hanse_client_get_raw(c, "/v1/chains/" CHAIN "/blocks/raw?count=2", &out, 1 << 20, &rej);
  IT_CHECK(rc != HANSE_OK && (rej.status == 400 || rej.status == 403));
  hanse_buf_free(&out);
  hanse_client_destroy(c);
}

int main(int argc, char **argv) {
  IT_CHECK(argc == 2);
  hanse = argv[1];
  char user[65];
  it_pubhex(user, 1);
  it_cluster_prepare(nodes, N, hanse, "catchup", CHAIN,
                     json_pack("{s:s, s:s, s:s, s:[s]}", "id", "acme", "name", "ACME", "role",
                               "manufacturer", "keys", user),
                     NULL, peers, sizeof peers);
  /* A pristine copy of node 2's chain (genesis only) for scenario 2. */
  char pristine[300];
  snprintf(pristine, sizeof pristine, "%s/pristine-chains", nodes[1].dir);
  char src[300];
  snprintf(src, sizeof src, "%s/chains", nodes[1].dir);
  const char *cp[] = {"cp", "-a", src, pristine, NULL};
  IT_CHECK(it_run(cp, NULL) == 0);

  for (int i = 0; i < N; i++) start_node(i);
  int leader = it_wait_leader(nodes, N, CHAIN, 15);
  IT_CHECK(leader >= 0);
  for (int k = 0; k < 5; k++) commit_one(leader);
  uint64_t h = it_wait_converged(nodes, N, CHAIN, 1, 20);

  /* ---- 1. a node that was down ---- */
  it_stop(&nodes[2]);
  uint64_t down_at = h;
  leader = it_wait_leader(nodes, N, CHAIN, 10);
  IT_CHECK(leader >= 0 && leader != 2);
  for (int k = 0; k < 80; k++) commit_one(leader);
  double t0 = it_now_s();
  start_node(2);
  h = it_wait_converged(nodes, N, CHAIN, down_at + 80, 60);
  printf("node 3 back: converged at height %" PRIu64 " in %.2f s\n", h, it_now_s() - t0);
  check_catchup_reported(2, down_at, down_at + 8);
  it_check_blocks_identical(nodes, N, CHAIN, h);

  /* ---- 2. a new node (empty chain) ---- */
  it_stop(&nodes[1]);
  char chains[300];
  snprintf(chains, sizeof chains, "%s/chains", nodes[1].dir);
  const char *rm[] = {"rm", "-rf", chains, NULL};
  IT_CHECK(it_run(rm, NULL) == 0);
  const char *restore[] = {"cp", "-a", pristine, chains, NULL};
  IT_CHECK(it_run(restore, NULL) == 0);
  leader = it_wait_leader(nodes, N, CHAIN, 10);
  IT_CHECK(leader >= 0);
  for (int k = 0; k < 20; k++) commit_one(leader);
  uint64_t target = it_height(&nodes[leader]);
  t0 = it_now_s();
  start_node(1);
  h = it_wait_converged(nodes, N, CHAIN, target, 60);
  printf("node 2 (new, empty chain): converged at height %" PRIu64 " in %.2f s\n", h,
         it_now_s() - t0);
  check_catchup_reported(1, 0, target - 8);
  it_check_blocks_identical(nodes, N, CHAIN, h);
  leader = it_wait_leader(nodes, N, CHAIN, 10);
  IT_CHECK(leader >= 0);
  for (int k = 0; k < 3; k++) commit_one(1); /* through the new node */
  h = it_wait_converged(nodes, N, CHAIN, h + 3, 20);
  check_acked_everywhere();

  /* ---- 3. raw blocks are for validators ---- */
  check_raw_access();

  for (int i = 0; i < N; i++) it_stop(&nodes[i]);
  for (int i = 0; i < N; i++) it_remove_dir(&nodes[i]);
  printf("test_cluster_catchup: ok (%d transactions, height %" PRIu64 ")\n", nacked, h);
  return 0;
}
