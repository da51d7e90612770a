/*
 * test_cluster_membership.c -- adding and removing a node by governance
 * (issue 4, point 4).
 *
 * Three nodes run the alliance chain; a fourth, with its own key and a
 * copy of the genesis only, is started with --join: it stays outside the
 * Raft group (height 0) until the organisations vote it in.
 *
 *  1. A node_propose that adds a key that is already a validator is
 *     refused (member.exists).
 *  2. ACME's admin proposes node 4 (member.node_propose, op add) and
 *     votes for it (member.org_vote; one organisation: the threshold is
 *     1). The leader adds it as a spare, makes it a standby -- it receives
 *     the log but does not vote -- then a voter (its log says so, in that
 *     order); node 4 catches up to the same block hashes and state digest,
 *     and its key is now a validator: blocks carry 4 validators in their
 *     certificates.
 *  3. Node 4 votes: one original follower is stopped; 3 of the 4 voters
 *     remain, a quorum only with node 4, and the cluster commits.
 *  4. The stopped node is removed by vote (op remove). The leader removes
 *     it from the Raft group; then another original follower is stopped:
 *     2 of the 3 voters left, a quorum only because the removal took
 *     effect, and the cluster commits.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"

#define CHAIN "alliance"

static it_node nodes[4];
static char keys[4][65];
static char peers3[1024], peers4[1200];
static const char *hanse;
static uint64_t seq;

static void start_node(int i, const char *peers, int join) {
  char id[16];
  snprintf(id, sizeof id, "%d", i + 1);
  const char *extra[] = {"--cluster", CHAIN, "--raft-id", id, "--peers", peers,
                         "--block-interval-ms", "20", join ? "--join" : NULL, NULL};
  int st = 0;
  if (it_start(&nodes[i], extra, &st) != 0) {
    fprintf(stderr, "node %d exited with %d; log %s\n", i + 1, st, nodes[i].log);
    IT_CHECK(0);
  }
}

/* Submit one transaction of ACME's admin (seed 1) through the leader,
 * retried across leader changes until committed; returns its receipt
 * code (static) and its id. */
static const char *commit(const char *kind, const char *payload, hanse_hash *id_out) {
  static char code[64];
  seq++;
  hanse_hash id;
  char *hex = it_tx_hex(CHAIN, kind, 1, seq, payload, &id);
  size_t blen = strlen(hex) + 32;
  char *body = malloc(blen);
  IT_CHECK(body != NULL);
  snprintf(body, blen, "{\"txs\":[\"%s\"]}", hex);
  free(hex);
  for (int attempt = 0; attempt < 200; attempt++) {
    int l = it_find_leader(nodes, 4, CHAIN);
    if (l < 0) {
      it_sleep_ms(50);
      continue;
    }
    long st = 0;
    json_t *r = it_post_json(&nodes[l], "/v1/chains/" CHAIN "/txs?wait=1&timeout_ms=3000", body,
                             &st);
    json_t *res = r ? json_array_get(json_object_get(r, "results"), 0) : NULL;
    const char *s = res ? json_string_value(json_object_get(res, "status")) : NULL;
    if (st == 200 && s && strcmp(s, "committed") == 0) {
      snprintf(code, sizeof code, "%s", json_string_value(json_object_get(res, "code")));
      json_decref(r);
      free(body);
      if (id_out) *id_out = id;
      return code;
    }
    json_decref(r);
    it_sleep_ms(50);
  }
  IT_CHECK(!"a transaction was never committed");
  return NULL;
}

static void note(void) {
  char payload[96];
  snprintf(payload, sizeof payload, "{\"hash\":\"%064" PRIx64 "\"}", 0x40000 + seq);
  const char *code = commit("notary.anchor", payload, NULL);
  IT_CHECK(strcmp(code, "ok") == 0);
}

/* Propose a node change and vote it through; returns the proposal's
 * receipt code (the vote is cast only when the proposal is "ok"). */
static const char *govern(const char *node_json) {
  char payload[512];
  snprintf(payload, sizeof payload, "{\"node\":%s}", node_json);
  hanse_hash pid;
  const char *code = commit("member.node_propose", payload, &pid);
  if (strcmp(code, "ok") != 0) return code;
  char hex[HANSE_HASH_HEX_BYTES];
  hanse_hash_hex(hex, &pid);
  snprintf(payload, sizeof payload, "{\"proposal\":\"%s\",\"approve\":true}", hex);
  code = commit("member.org_vote", payload, NULL);
  IT_CHECK(strcmp(code, "ok") == 0);
  return code;
}

/* The role of raft id `id` in node i's view of the Raft configuration:
 * "voter", "standby", "spare" or NULL when absent (static). */
static const char *conf_role(int i, uint64_t id) {
  static char role[16];
  json_t *s = it_chain_status(&nodes[i], CHAIN);
  if (s == NULL) return NULL;
  json_t *conf = json_object_get(json_object_get(s, "cluster"), "raft_config");
  size_t k;
  json_t *e;
  const char *found = NULL;
  json_array_foreach(conf, k, e) {
    if ((uint64_t)json_integer_value(json_object_get(e, "raft_id")) == id) {
      snprintf(role, sizeof role, "%s", json_string_value(json_object_get(e, "role")));
      found = role;
    }
  }
  json_decref(s);
  return found;
}

/* Line numbers of the first occurrences of a..c in a file (0: absent). */
static void log_order(const char *path, const char *const *what, int n, long *at) {
  FILE *f = fopen(path, "r");
  IT_CHECK(f != NULL);
  char line[2048];
  long ln = 0;
  for (int i = 0; i < n; i++) at[i] = 0;
  while (fgets(line, sizeof line, f)) {
    ln++;
    for (int i = 0; i < n; i++)
      if (at[i] == 0 && strstr(line, what[i])) at[i] = ln;
  }
  fclose(f);
}

int main(int argc, char **argv) {
  IT_CHECK(argc == 2);
  hanse = argv[1];
  char user[65];
  it_pubhex(user, 1);
  it_cluster_prepare(nodes, 3, hanse, "members", CHAIN,
                     json_pack("{s:s, s:s, s:s, s:[s]}", "id", "acme", "name", "ACME", "role",
                               "manufacturer", "keys", user),
                     keys, peers3, sizeof peers3);
  /* Node 4: its own key, a copy of the genesis, not a validator. */
  it_node *n4 = &nodes[3];
  memset(n4, 0, sizeof *n4);
  n4->hanse = hanse;
  const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  snprintf(n4->dir, sizeof n4->dir, "%s/hanse-members-XXXXXX", tmp);
  IT_CHECK(mkdtemp(n4->dir) != NULL);
  char kpath[300];
  snprintf(kpath, sizeof kpath, "%s/node.key", n4->dir);
  const char *kg[] = {hanse, "keygen", "--out", kpath, NULL};
  char *out = NULL;
  IT_CHECK(it_run(kg, &out) == 0);
  json_t *kj = json_loads(out, 0, NULL);
  free(out);
  snprintf(keys[3], sizeof keys[3], "%s", json_string_value(json_object_get(kj, "public")));
  json_decref(kj);
  char src[300];
  snprintf(src, sizeof src, "%s/chains", nodes[0].dir);
  const char *cp[] = {"cp", "-r", src, n4->dir, NULL};
  IT_CHECK(it_run(cp, NULL) == 0);
  n4->fixed_port = it_free_port();
  int raft4 = it_free_port();
  char url4[64], addr4[64];
  snprintf(url4, sizeof url4, "http://127.0.0.1:%d", n4->fixed_port);
  snprintf(addr4, sizeof addr4, "127.0.0.1:%d", raft4);
  snprintf(peers4, sizeof peers4, "%s,4@%s@%s", peers3, addr4, url4);

  for (int i = 0; i < 3; i++) start_node(i, peers3, 0);
  IT_CHECK(it_wait_leader(nodes, 4, CHAIN, 15) >= 0);
  for (int k = 0; k < 5; k++) note();

  /* Node 4 waits outside until voted in. */
  start_node(3, peers4, 1);
  it_sleep_ms(1000);
  IT_CHECK(it_height(n4) == 0);
  IT_CHECK(conf_role(it_find_leader(nodes, 4, CHAIN), 4) == NULL);

  /* 1. a key that is already a validator */
  char json[512];
  snprintf(json, sizeof json,
           "{\"op\":\"add\",\"raft_id\":9,\"raft_addr\":\"127.0.0.1:1\",\"api_url\":\"http://"
           "127.0.0.1:1\",\"key\":\"%s\"}",
           keys[1]);
  IT_CHECK(strcmp(govern(json), "member.exists") == 0);

  /* 2. node 4 voted in */
  double t0 = it_now_s();
  snprintf(json, sizeof json,
           "{\"op\":\"add\",\"raft_id\":4,\"raft_addr\":\"%s\",\"api_url\":\"%s\",\"key\":\"%s\"}",
           addr4, url4, keys[3]);
  IT_CHECK(strcmp(govern(json), "ok") == 0);
  int voter = 0;
  while (!voter && it_now_s() < t0 + 30) {
    int l = it_find_leader(nodes, 4, CHAIN);
    const char *r = l >= 0 ? conf_role(l, 4) : NULL;
    voter = r && strcmp(r, "voter") == 0;
    if (!voter) it_sleep_ms(50);
  }
  IT_CHECK(voter);
  printf("node 4 voted in and a voter %.2f s after the proposal\n", it_now_s() - t0);
  note();
  uint64_t h = it_wait_converged(nodes, 4, CHAIN, 0, 30);
  IT_CHECK(it_height(n4) == h && h > 5);
  int leader = it_find_leader(nodes, 4, CHAIN);
  IT_CHECK(leader >= 0);
  const char *steps[] = {"adding (as a spare) node 4", "making a standby", "promoting to voter"};
  long at[3];
  log_order(nodes[leader].log, steps, 3, at);
  if (at[0] == 0) {
    /* leadership may have moved after the promotion: any node's log */
    for (int i = 0; i < 3 && at[0] == 0; i++) log_order(nodes[i].log, steps, 3, at);
  }
  IT_CHECK(at[0] > 0 && at[1] > at[0] && at[2] > at[1]);
  {
    char path[96];
    snprintf(path, sizeof path, "/v1/chains/" CHAIN "/blocks/%" PRIu64, h);
    long st = 0;
    json_t *b = it_get_json(&nodes[leader], path, &st);
    IT_CHECK(b && st == 200);
    IT_CHECK(json_integer_value(json_object_get(json_object_get(b, "certificate"),
                                                "validators")) == 4);
    json_decref(b);
  }

  /* 3. node 4 votes: stop one original follower; 3 of 4 voters remain */
  int gone = -1;
  for (int i = 0; i < 3 && gone < 0; i++)
    if (i != leader) gone = i;
  it_stop(&nodes[gone]);
  note();
  note();
  printf("committed with node %d stopped (3 of 4 voters, node 4 among them)\n", gone + 1);

  /* 4. remove the stopped node by vote */
  t0 = it_now_s();
  snprintf(json, sizeof json, "{\"op\":\"remove\",\"raft_id\":%d,\"key\":\"%s\"}", gone + 1,
           keys[gone]);
  IT_CHECK(strcmp(govern(json), "ok") == 0);
  int removed = 0;
  while (!removed && it_now_s() < t0 + 30) {
    int l = it_find_leader(nodes, 4, CHAIN);
    removed = l >= 0 && conf_role(l, (uint64_t)gone + 1) == NULL;
    if (!removed) it_sleep_ms(50);
  }
  IT_CHECK(removed);
  printf("node %d removed %.2f s after the proposal\n", gone + 1, it_now_s() - t0);
  leader = it_find_leader(nodes, 4, CHAIN);
  IT_CHECK(leader >= 0);
  int second = -1;
  for (int i = 0; i < 3 && second < 0; i++)
    if (i != leader && i != gone) second = i;
  if (second >= 0) {
    it_stop(&nodes[second]);
    note();
    note();
    printf("committed with nodes %d and %d stopped (2 of 3 voters)\n", gone + 1, second + 1);
  }
  h = it_wait_converged(nodes, 4, CHAIN, 0, 30);
  printf("test_cluster_membership: ok (height %" PRIu64 ")\n", h);
  for (int i = 0; i < 4; i++) it_stop(&nodes[i]);
  for (int i = 0; i < 4; i++) it_remove_dir(&nodes[i]);
  return 0;
}
