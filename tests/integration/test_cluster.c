/*
 * test_cluster.c -- three `hanse node` processes replicating one chain
 * under Raft (issue 4, slice 1).
 *
 * Setup: three data directories, each with its own node key; a genesis
 * listing the three keys as validators, created once (`hanse init`) and
 * copied to the other two, so every node starts from the same genesis
 * block. Each node gets --cluster, its --raft-id and the same --peers.
 *
 * Checks, in order:
 *   1. a leader is elected and ready;
 *   2. a submission to a follower (forwarded) and one to the leader both
 *      commit with wait=1;
 *   3. every node reaches the same height with identical block hashes
 *      (GET /blocks/{h}) and state digests (GET /status);
 *   4. a client thread submits with wait=1 without pause while the leader
 *      is SIGKILLed: a new leader commits within 3 s (the client's first
 *      acknowledgement after the kill), and every transaction acknowledged
 *      as committed is on both survivors;
 *   5. the killed node restarts, catches up from the Raft log and matches
 *      the others, acknowledged transactions included.
 * Prints the commit rate seen by the client (one transaction in flight).
 */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"

#define CHAIN "alliance"
#define N 3
#define ACKS_MAX 20000

static it_node nodes[N];
static char peers[1024];

static void start_node(int i) {
  char id[16];
  snprintf(id, sizeof id, "%d", i + 1);
  const char *extra[] = {"--cluster", CHAIN, "--raft-id", id, "--peers", peers,
                         "--block-interval-ms", "20", NULL};
  int st = 0;
  if (it_start(&nodes[i], extra, &st) != 0) {
    fprintf(stderr, "node %d exited with %d; log %s\n", i + 1, st, nodes[i].log);
    IT_CHECK(0);
  }
}

/* Submit one transaction with wait=1. Returns 1 if acknowledged as
 * committed, 0 otherwise (pending, no leader, unreachable). */
static int submit_wait(it_node *n, const char *hex) {
  it_answer a;
  it_submit_wait(n, CHAIN, hex, 2000, &a);
  return it_committed(&a);
}

/* Step 2's submissions, made right after the election: a follower may
 * not have heard from the new leader yet and answers 503
 * cluster.no_leader ("retry", forward.c), as the leader answers while it
 * is not yet ready; and the first blocks may take longer than the 2 s
 * wait on a loaded machine (202, accepted but not yet committed). So the
 * same transaction again (it commits once) on those answers only, for up
 * to 20 s; any other answer fails the test, and so do retries that
 * outlast the 20 s. (It failed once in `make test`'s sanitizer run, at
 * its first submission, with the other suites beside it.) */
static int submit_retrying(it_node *n, const char *hex) {
  double until = it_now_s() + 20;
  for (;;) {
    it_answer a;
    it_submit_wait(n, CHAIN, hex, 2000, &a);
    if (it_committed(&a)) return 1;
    int retry = a.status == 202 || (a.status == 503 && strcmp(a.what, "cluster.no_leader") == 0);
    if (!retry || it_now_s() > until) {
      fprintf(stderr, "submission answered %ld %s\n", a.status, a.what);
      return 0;
    }
    it_sleep_ms(50);
  }
}

/* ---- The client of step 4 ---- */

typedef struct client {
  it_node *target;
  uint64_t seq;            /* last used */
  atomic_int stop;
  int acked;
  hanse_hash ids[ACKS_MAX];
  double ack_at[ACKS_MAX];
  int attempts;
} client;

static void *client_main(void *arg) {
  client *c = arg;
  while (!atomic_load(&c->stop) && c->acked < ACKS_MAX) {
    char payload[128];
    uint64_t seq = c->seq + 1;
    snprintf(payload, sizeof payload, "{\"hash\":\"%064" PRIx64 "\"}", 0x10000 + seq);
    hanse_hash id;
    char *hex = it_tx_hex(CHAIN, "notary.anchor", 1, seq, payload, &id);
    /* The same transaction until it is acknowledged: a resubmission
     * commits once, whatever happened to the earlier attempt. */
    while (!atomic_load(&c->stop)) {
      c->attempts++;
      if (submit_wait(c->target, hex)) {
        c->ids[c->acked] = id;
        c->ack_at[c->acked] = it_now_s();
        c->acked++;
        c->seq = seq;
        break;
      }
      it_sleep_ms(20);
    }
    free(hex);
  }
  return NULL;
}


int main(int argc, char **argv) {
  IT_CHECK(argc >= 2);
  const char *hanse = argv[1];
  signal(SIGPIPE, SIG_IGN);
  /* Keys, one genesis for all, copies of the genesis block. */
  char user[65];
  it_pubhex(user, 1);
  it_cluster_prepare(nodes, N, hanse, "cluster", CHAIN,
                     json_pack("{s:s, s:s, s:s, s:[s]}", "id", "acme", "name", "ACME",
                               "role", "manufacturer", "keys", user),
                     NULL, peers,
                     sizeof peers);

  /* 1. */
  for (int i = 0; i < N; i++) start_node(i);
  int leader = it_wait_leader(nodes, N, CHAIN, 10);
  IT_CHECK(leader >= 0);
  int follower = (leader + 1) % N;
  fprintf(stderr, "leader: node %d\n", leader + 1);

  /* 2. */
  uint64_t seq = 0;
  for (int k = 0; k < 2; k++) {
    it_node *to = k == 0 ? &nodes[follower] : &nodes[leader];
    char payload[128];
    snprintf(payload, sizeof payload, "{\"hash\":\"%064d\"}", k + 1);
    hanse_hash id;
    char *hex = it_tx_hex(CHAIN, "notary.anchor", 1, ++seq, payload, &id);
    IT_CHECK(submit_retrying(to, hex));
    free(hex);
  }
  /* A follower that is asked for a sequence answers with the leader's. */
  long st = 0;
  char apath[160];
  snprintf(apath, sizeof apath, "/v1/chains/" CHAIN "/accounts/%s", user);
  json_t *acct = it_get_json(&nodes[follower], apath, &st);
  IT_CHECK(acct != NULL && st == 200 && json_integer_value(json_object_get(acct, "next_seq")) == 3);
  json_decref(acct);

  /* 3. */
  uint64_t h = it_wait_converged(nodes, N, CHAIN, 0, 10);
  IT_CHECK(h >= 2);
  it_check_blocks_identical(nodes, N, CHAIN, h);

  /* 4. The client talks to a node that will survive. */
  int victim = it_wait_leader(nodes, N, CHAIN, 5);
  IT_CHECK(victim >= 0);
  client *c = calloc(1, sizeof *c);
  IT_CHECK(c != NULL);
  c->seq = seq;
  c->target = &nodes[(victim + 1) % N];
  pthread_t th;
  IT_CHECK(pthread_create(&th, NULL, client_main, c) == 0);
  it_sleep_ms(1500);
  int before = c->acked;
  double t_kill = it_now_s();
  it_kill(&nodes[victim]);
  fprintf(stderr, "killed the leader (node %d) after %d acknowledged transactions\n", victim + 1,
          before);
  double first_after = 0;
  while (it_now_s() < t_kill + 10) {
    int n = c->acked;
    for (int i = before; i < n; i++)
      if (c->ack_at[i] > t_kill) {
        first_after = c->ack_at[i];
        break;
      }
    if (first_after > 0) break;
    it_sleep_ms(10);
  }
  IT_CHECK(first_after > 0);
  fprintf(stderr, "first commit after the kill: %.3f s\n", first_after - t_kill);
  IT_CHECK(first_after - t_kill <= 3.0);
  it_sleep_ms(1500);
  atomic_store(&c->stop, 1);
  pthread_join(th, NULL);
  double elapsed = c->ack_at[c->acked - 1] - c->ack_at[0];
  fprintf(stderr, "client: %d transactions acknowledged (%d attempts), %.0f commits/s with one "
                  "in flight\n",
          c->acked, c->attempts, elapsed > 0 ? (c->acked - 1) / elapsed : 0.0);
  h = it_wait_converged(nodes, N, CHAIN, 0, 10);
  it_check_blocks_identical(nodes, N, CHAIN, h);
  for (int i = 0; i < N; i++) {
    if (nodes[i].pid == 0) continue;
    for (int k = 0; k < c->acked; k++) IT_CHECK(it_tx_present(&nodes[i], CHAIN, &c->ids[k]));
  }

  /* 5. */
  start_node(victim);
  h = it_wait_converged(nodes, N, CHAIN, 0, 20);
  it_check_blocks_identical(nodes, N, CHAIN, h);
  for (int k = 0; k < c->acked; k++) IT_CHECK(it_tx_present(&nodes[victim], CHAIN, &c->ids[k]));
  fprintf(stderr, "restarted node %d caught up to height %" PRIu64 "\n", victim + 1, h);
  free(c);

  for (int i = 0; i < N; i++) it_stop(&nodes[i]);
  it_cleanup_all();
  printf("test_cluster: OK\n");
  return 0;
}
