/*
 * test_certs.c -- commit certificates and divergence in a three-node
 * cluster (issue 4, point 2).
 *
 * Setup as test_cluster.c: three node keys, one genesis naming them as
 * validators, created once and copied; each node started with --cluster.
 *
 * Checks, in order:
 *   1. after a few blocks, every node serves for every block a complete
 *      certificate: 3 signatures of 3 validators, quorum 2, each valid for
 *      the block's hash (encoding/cert.h), also on GET /txs/{id}/proof;
 *   2. the client library accepts a transaction's proof with its
 *      certificate against the genesis's validators, and `hanse get tx`
 *      prints "certified by 3 of 3 validators";
 *   3. the client refuses the same answer with a certificate cut to one
 *      signature, with a forged signature, and with a signature by a key
 *      that is not a validator; POST /certs refuses a forged signature
 *      and a foreign signer;
 *   4. divergence: a follower is stopped, a row is added to its world
 *      state (and its tip's stored state sum adjusted, so the start-up
 *      check passes), and it is restarted: the next block's re-execution
 *      reaches another state digest, and the node reports itself
 *      diverged at that height in status and metrics, answers
 *      submissions 503 cluster.diverged, and applies nothing more, while
 *      the other two keep committing;
 *   5. divergence by certificate: two validators' signatures of another
 *      hash for an old block (made with their node keys) are POSTed to
 *      the third node, whose block there differs from what a majority
 *      now certified: it reports itself diverged at that height with
 *      both hashes.
 */
#include <inttypes.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chain/exec.h"
#include "encoding/cert.h"
#include "hanse/client.h"
#include "itest.h"

#define CHAIN "alliance"
#define N 3

static it_node nodes[N];
static char peers[1024];
static char keys[N][65];
static const char *hanse_bin;

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

static int submit_wait(it_node *n, const char *hex, long *status_out) {
  it_answer a;
  it_submit_wait(n, CHAIN, hex, 3000, &a);
  if (status_out)
    *status_out = a.status == 503 && strcmp(a.what, "cluster.diverged") == 0 ? -503 : a.status;
  return it_committed(&a);
}

static uint64_t seq;

/* One notary anchor by user 1, committed through node `to` (retrying a
 * few times across an election); returns its id. */
static hanse_hash anchor(int to) {
  char payload[128];
  uint64_t s = ++seq;
  snprintf(payload, sizeof payload, "{\"hash\":\"%064" PRIx64 "\"}", 0xce000 + s);
  hanse_hash id;
  char *hex = it_tx_hex(CHAIN, "notary.anchor", 1, s, payload, &id);
  int ok = 0;
  for (int attempt = 0; attempt < 50 && !ok; attempt++) {
    ok = submit_wait(&nodes[to], hex, NULL);
    if (!ok) it_sleep_ms(100);
  }
  free(hex);
  IT_CHECK(ok);
  return id;
}

static uint64_t height_of(int i) {
  json_t *s = it_chain_status(&nodes[i], CHAIN);
  IT_CHECK(s != NULL);
  uint64_t h = (uint64_t)json_integer_value(json_object_get(s, "height"));
  json_decref(s);
  return h;
}

static void wait_height(int i, uint64_t h, double timeout_s) {
  double until = it_now_s() + timeout_s;
  while (it_now_s() < until && height_of(i) < h) it_sleep_ms(20);
  IT_CHECK(height_of(i) >= h);
}

/* The certificate of `block` (a block or tx answer) checked by hand:
 * returns the number of valid signatures by distinct validators, -1 on a
 * malformed one. */
static int cert_signers(json_t *cert, uint64_t height, const char *hash_hex) {
  hanse_hash hash;
  IT_CHECK(hanse_hash_parse(&hash, hash_hex) == HANSE_OK);
  json_t *sigs = json_object_get(cert, "signatures");
  IT_CHECK(json_is_array(sigs));
  int seen[N] = {0}, n = 0;
  size_t i;
  json_t *e;
  json_array_foreach(sigs, i, e) {
    hanse_pubkey pk;
    hanse_sig sig;
    const char *sh = json_string_value(json_object_get(e, "signer"));
    const char *gh = json_string_value(json_object_get(e, "sig"));
    IT_CHECK(sh && gh && hanse_pubkey_parse(&pk, sh) == HANSE_OK && strlen(gh) == 128);
    for (int b = 0; b < HANSE_SIG_BYTES; b++) {
      unsigned x;
      IT_CHECK(sscanf(gh + 2 * b, "%2x", &x) == 1);
      sig.b[b] = (uint8_t)x;
    }
    if (!hanse_cert_sig_verify(&pk, CHAIN, height, &hash, &sig)) return -1;
    for (int k = 0; k < N; k++)
      if (strcmp(sh, keys[k]) == 0 && !seen[k]) {
        seen[k] = 1;
        n++;
      }
  }
  return n;
}

/* Every node serves a certificate of all three validators for blocks
 * 1..height (waiting for signatures still on their way). */
static void check_certificates(uint64_t height) {
  double until = it_now_s() + 10;
  for (int i = 0; i < N; i++) {
    for (uint64_t h = 1; h <= height; h++) {
      char path[96];
      snprintf(path, sizeof path, "/v1/chains/" CHAIN "/blocks/%" PRIu64, h);
      for (;;) {
        long st = 0;
        json_t *b = it_get_json(&nodes[i], path, &st);
        IT_CHECK(b != NULL && st == 200);
        json_t *cert = json_object_get(b, "certificate");
        IT_CHECK(json_is_object(cert));
        IT_CHECK(json_integer_value(json_object_get(cert, "validators")) == 3);
        IT_CHECK(json_integer_value(json_object_get(cert, "quorum")) == 2);
        int k = cert_signers(cert, h, json_string_value(json_object_get(b, "hash")));
        IT_CHECK(k >= 0);
        int complete = json_is_true(json_object_get(cert, "complete"));
        IT_CHECK(complete == (k >= 2));
        json_decref(b);
        if (k == 3) break;
        if (it_now_s() > until) {
          fprintf(stderr, "node %d block %" PRIu64 ": %d of 3 signatures\n", i + 1, h, k);
          IT_CHECK(!"certificates did not complete");
        }
        it_sleep_ms(50);
      }
    }
  }
}

/* Step 2 and 3: the client's check of a proof and its certificate. */
static void check_client(int node, const hanse_hash *id) {
  hanse_client *c = NULL;
  hanse_reject rej;
  IT_CHECK(hanse_client_create(nodes[node].url, CHAIN, &c, &rej) == HANSE_OK);
  json_t *doc = NULL;
  IT_CHECK(hanse_client_tx_get(c, id, &doc, &rej) == HANSE_OK);
  /* Without a validator set the certificate is not looked at. */
  IT_CHECK(hanse_client_proof_verify(c, doc, id, &rej) == HANSE_OK);
  IT_CHECK(hanse_client_validators_fetch(c, &rej) == HANSE_OK);
  int rc = hanse_client_proof_verify(c, doc, id, &rej);
  if (rc != HANSE_OK) fprintf(stderr, "proof: %s: %s\n", rej.code, rej.message);
  IT_CHECK(rc == HANSE_OK);
  json_t *cert = json_object_get(doc, "certificate");
  json_t *sigs = json_object_get(cert, "signatures");
  IT_CHECK(json_array_size(sigs) == 3);

  /* Short: one signature of three. */
  json_t *bad = json_deep_copy(doc);
  json_t *bs = json_object_get(json_object_get(bad, "certificate"), "signatures");
  json_array_remove(bs, 0);
  json_array_remove(bs, 0);
  hanse_reject_clear(&rej);
  IT_CHECK(hanse_client_proof_verify(c, bad, id, &rej) == HANSE_ERR(INVALID));
  IT_CHECK(strstr(rej.message, "cert.short") != NULL);
  /* The same signature three times is still one validator. */
  json_array_append(bs, json_array_get(bs, 0));
  json_array_append(bs, json_array_get(bs, 0));
  IT_CHECK(hanse_client_proof_verify(c, bad, id, &rej) == HANSE_ERR(INVALID));
  IT_CHECK(strstr(rej.message, "cert.short") != NULL);
  json_decref(bad);

  /* Forged: one signature's first byte changed. */
  bad = json_deep_copy(doc);
  json_t *s0 = json_array_get(json_object_get(json_object_get(bad, "certificate"), "signatures"), 0);
  char sig[129];
  snprintf(sig, sizeof sig, "%s", json_string_value(json_object_get(s0, "sig")));
  sig[0] = sig[0] == '0' ? '1' : '0';
  json_object_set_new(s0, "sig", json_string(sig));
  hanse_reject_clear(&rej);
  IT_CHECK(hanse_client_proof_verify(c, bad, id, &rej) == HANSE_ERR(INVALID));
  IT_CHECK(strstr(rej.message, "cert.bad_signature") != NULL);
  json_decref(bad);

  /* A key that is not a validator, with a signature that verifies. */
  bad = json_deep_copy(doc);
  hanse_keypair outsider;
  it_key(&outsider, 77);
  hanse_hash bh;
  IT_CHECK(hanse_hash_parse(&bh, json_string_value(json_object_get(json_object_get(bad, "proof"),
                                                                   "block_hash"))) == HANSE_OK);
  uint64_t height = (uint64_t)json_integer_value(json_object_get(json_object_get(bad, "receipt"),
                                                                 "height"));
  hanse_sig os;
  hanse_cert_sign(&outsider, CHAIN, height, &bh, &os);
  char ohex[65], oshex[129];
  hanse_pubkey_hex(ohex, &outsider.pub);
  for (int b = 0; b < HANSE_SIG_BYTES; b++) snprintf(oshex + 2 * b, 3, "%02x", os.b[b]);
  json_array_append_new(json_object_get(json_object_get(bad, "certificate"), "signatures"),
                        json_pack("{s:s, s:s}", "signer", ohex, "sig", oshex));
  hanse_reject_clear(&rej);
  IT_CHECK(hanse_client_proof_verify(c, bad, id, &rej) == HANSE_ERR(INVALID));
  IT_CHECK(strstr(rej.message, "cert.not_validator") != NULL);

  /* The node itself refuses both kinds of signature. */
  char hh[65], body[512];
  hanse_hash_hex(hh, &bh);
  snprintf(body, sizeof body, "{\"height\":%" PRIu64 ",\"hash\":\"%s\",\"signer\":\"%s\",\"sig\":\"%s\"}",
           height, hh, ohex, oshex);
  long st = 0;
  json_t *r = it_post_json(&nodes[node], "/v1/chains/" CHAIN "/certs", body, &st);
  if (st != 403) {
    char *t = r ? json_dumps(r, 0) : NULL;
    fprintf(stderr, "POST /certs (foreign signer): %ld %s\n", st, t ? t : "");
    free(t);
  }
  IT_CHECK(st == 403);
  json_decref(r);
  snprintf(body, sizeof body, "{\"height\":%" PRIu64 ",\"hash\":\"%s\",\"signer\":\"%s\",\"sig\":\"%s\"}",
           height, hh, keys[0], oshex);
  r = it_post_json(&nodes[node], "/v1/chains/" CHAIN "/certs", body, &st);
  IT_CHECK(st == 400);
  IT_CHECK(strcmp(json_string_value(json_object_get(json_object_get(r, "error"), "code")),
                  "cert.bad_signature") == 0);
  json_decref(r);
  json_decref(bad);
  json_decref(doc);
  hanse_client_destroy(c);

  /* The command line says how many validators certified it. */
  char idhex[65];
  hanse_hash_hex(idhex, id);
  const char *get[] = {hanse_bin, "get", "tx", idhex, "--node", nodes[node].url, "--chain", CHAIN,
                       NULL};
  char *out = NULL;
  int ec = it_run(get, &out);
  if (ec != 0 || out == NULL || strstr(out, "certified by 3 of 3 validators") == NULL)
    fprintf(stderr, "hanse get tx: %d\n%s\n", ec, out ? out : "");
  IT_CHECK(ec == 0 && out && strstr(out, "certified by 3 of 3 validators") != NULL);
  free(out);
}

/* Step 4's tamper: a state row no block wrote, and the tip's stored
 * state sum moved by that row's hash, so that `hanse node` starts (its
 * check compares the sum of the rows with the tip's) but its next
 * re-executed block ends on another state digest. */
static void tamper_state(it_node *n) {
  char path[400];
  snprintf(path, sizeof path, "%s/chains/" CHAIN "/chain.db", n->dir);
  sqlite3 *db = NULL;
  IT_CHECK(sqlite3_open(path, &db) == SQLITE_OK);
  static const char key[] = "zz/tamper", val[] = "forged";
  sqlite3_stmt *st = NULL;
  IT_CHECK(sqlite3_prepare_v2(db, "SELECT height, state_sum FROM blocks ORDER BY height DESC LIMIT 1",
                              -1, &st, NULL) == SQLITE_OK);
  IT_CHECK(sqlite3_step(st) == SQLITE_ROW);
  sqlite3_int64 tip = sqlite3_column_int64(st, 0);
  IT_CHECK(sqlite3_column_bytes(st, 1) == HANSE_HASH_BYTES);
  hanse_hash sum, row;
  memcpy(sum.b, sqlite3_column_blob(st, 1), HANSE_HASH_BYTES);
  sqlite3_finalize(st);
  hanse_state_row_hash(key, strlen(key), val, strlen(val), &row);
  hanse_sum_add(&sum, &row);
  IT_CHECK(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK);
  IT_CHECK(sqlite3_prepare_v2(db, "INSERT INTO state(key, value) VALUES (?1, ?2)", -1, &st, NULL) ==
           SQLITE_OK);
  sqlite3_bind_blob(st, 1, key, (int)strlen(key), SQLITE_STATIC);
  sqlite3_bind_blob(st, 2, val, (int)strlen(val), SQLITE_STATIC);
  IT_CHECK(sqlite3_step(st) == SQLITE_DONE);
  sqlite3_finalize(st);
  IT_CHECK(sqlite3_prepare_v2(db, "UPDATE blocks SET state_sum = ?1 WHERE height = ?2", -1, &st,
                              NULL) == SQLITE_OK);
  sqlite3_bind_blob(st, 1, sum.b, HANSE_HASH_BYTES, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, tip);
  IT_CHECK(sqlite3_step(st) == SQLITE_DONE);
  sqlite3_finalize(st);
  IT_CHECK(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
  sqlite3_close(db);
}

static int metric(it_node *n, const char *name, uint64_t *value) {
  char url[128];
  snprintf(url, sizeof url, "%s/metrics", n->url);
  it_resp r;
  if (it_http("GET", url, NULL, NULL, 0, &r) != 0) return 0;
  char want[128];
  snprintf(want, sizeof want, "\n%s{chain=\"" CHAIN "\"} ", name);
  const char *p = r.body ? strstr(r.body, want) : NULL;
  int ok = p != NULL;
  if (ok) *value = strtoull(p + strlen(want), NULL, 10);
  it_resp_free(&r);
  return ok;
}

int main(int argc, char **argv) {
  IT_CHECK(argc >= 2);
  hanse_bin = argv[1];
  signal(SIGPIPE, SIG_IGN);
  double t0 = it_now_s();
  char user[65];
  it_pubhex(user, 1);
  it_cluster_prepare(nodes, N, hanse_bin, "certs", CHAIN,
                     json_pack("{s:s, s:s, s:s, s:[s]}", "id", "acme", "name", "ACME",
                               "role", "manufacturer", "keys", user),
                     keys, peers,
                     sizeof peers);
  for (int i = 0; i < N; i++) start_node(i);
  int leader = it_wait_leader(nodes, N, CHAIN, 10);
  IT_CHECK(leader >= 0);

  /* 1. A few blocks, some through a follower. */
  hanse_hash last = {{0}};
  for (int k = 0; k < 5; k++) last = anchor(k % 2 ? leader : (leader + 1) % N);
  uint64_t h = height_of(leader);
  for (int i = 0; i < N; i++) wait_height(i, h, 10);
  check_certificates(h);
  fprintf(stderr, "blocks 1..%" PRIu64 ": 3 of 3 signatures on every node (%.1f s)\n", h,
          it_now_s() - t0);

  /* 2, 3. */
  check_client((leader + 2) % N, &last);
  fprintf(stderr, "client: certified proof accepted; short, forged and foreign refused\n");

  /* 4. Divergence of a follower. */
  leader = it_wait_leader(nodes, N, CHAIN, 5);
  IT_CHECK(leader >= 0);
  int victim = (leader + 1) % N, other = (leader + 2) % N;
  uint64_t before = height_of(victim);
  it_stop(&nodes[victim]);
  tamper_state(&nodes[victim]);
  start_node(victim);
  /* The cluster goes on; the victim's first new block re-executes to
   * another state digest. */
  for (int k = 0; k < 3; k++) anchor(leader);
  uint64_t h2 = height_of(leader);
  wait_height(other, h2, 10);
  IT_CHECK(h2 >= before + 3);
  json_t *dv = NULL;
  double until = it_now_s() + 10;
  while (it_now_s() < until) {
    json_t *s = it_chain_status(&nodes[victim], CHAIN);
    IT_CHECK(s != NULL);
    dv = json_incref(json_object_get(s, "diverged"));
    json_decref(s);
    if (json_is_object(dv)) break;
    json_decref(dv);
    dv = NULL;
    it_sleep_ms(50);
  }
  IT_CHECK(json_is_object(dv));
  uint64_t dh = (uint64_t)json_integer_value(json_object_get(dv, "height"));
  fprintf(stderr, "node %d diverged at block %" PRIu64 " (tip before %" PRIu64 "): %s\n",
          victim + 1, dh, before, json_string_value(json_object_get(dv, "reason")));
  IT_CHECK(dh == before + 1);
  IT_CHECK(json_is_string(json_object_get(dv, "certified")));
  json_decref(dv);
  uint64_t mv = 9;
  IT_CHECK(metric(&nodes[victim], "hanse_chain_diverged", &mv) && mv == 1);
  IT_CHECK(metric(&nodes[victim], "hanse_chain_diverged_height", &mv) && mv == before + 1);
  IT_CHECK(metric(&nodes[other], "hanse_chain_diverged", &mv) && mv == 0);
  /* Submissions to it are refused; it applies nothing more, the other
   * two keep committing. */
  char *hex = it_tx_hex(CHAIN, "notary.anchor", 1, seq + 1,
                        "{\"hash\":\"00000000000000000000000000000000000000000000000000000000000000dd\"}",
                        NULL);
  long st = 0;
  IT_CHECK(!submit_wait(&nodes[victim], hex, &st));
  IT_CHECK(st == -503);
  free(hex);
  for (int k = 0; k < 2; k++) anchor(leader);
  uint64_t h3 = height_of(leader);
  wait_height(other, h3, 10);
  IT_CHECK(h3 > h2);
  IT_CHECK(height_of(victim) == before);
  fprintf(stderr, "the other two reached %" PRIu64 "; node %d stays at %" PRIu64 " (%.1f s)\n", h3,
          victim + 1, before, it_now_s() - t0);

  /* 5. The leader and the diverged node "certify" another block 2. */
  char bpath[96];
  snprintf(bpath, sizeof bpath, "/v1/chains/" CHAIN "/blocks/2");
  json_t *b2 = it_get_json(&nodes[other], bpath, &st);
  IT_CHECK(b2 != NULL && st == 200);
  char real2[65];
  snprintf(real2, sizeof real2, "%s", json_string_value(json_object_get(b2, "hash")));
  json_decref(b2);
  hanse_hash fake;
  memset(fake.b, 0xf0, sizeof fake.b);
  char fakehex[65];
  hanse_hash_hex(fakehex, &fake);
  int signers[2] = {leader, victim};
  for (int k = 0; k < 2; k++) {
    char kpath[300];
    snprintf(kpath, sizeof kpath, "%s/node.key", nodes[signers[k]].dir);
    hanse_keypair kp;
    IT_CHECK(hanse_keyfile_read(kpath, &kp) == HANSE_OK);
    hanse_sig sg;
    hanse_cert_sign(&kp, CHAIN, 2, &fake, &sg);
    char sghex[129], body[512];
    for (int b = 0; b < HANSE_SIG_BYTES; b++) snprintf(sghex + 2 * b, 3, "%02x", sg.b[b]);
    snprintf(body, sizeof body, "{\"height\":2,\"hash\":\"%s\",\"signer\":\"%s\",\"sig\":\"%s\"}",
             fakehex, keys[signers[k]], sghex);
    json_t *r = it_post_json(&nodes[other], "/v1/chains/" CHAIN "/certs", body, &st);
    IT_CHECK(st == 202);
    json_decref(r);
  }
  dv = NULL;
  until = it_now_s() + 5;
  while (it_now_s() < until) {
    json_t *s = it_chain_status(&nodes[other], CHAIN);
    IT_CHECK(s != NULL);
    dv = json_incref(json_object_get(s, "diverged"));
    json_decref(s);
    if (json_is_object(dv)) break;
    json_decref(dv);
    dv = NULL;
    it_sleep_ms(50);
  }
  IT_CHECK(json_is_object(dv));
  IT_CHECK(json_integer_value(json_object_get(dv, "height")) == 2);
  IT_CHECK(strcmp(json_string_value(json_object_get(dv, "ours")), real2) == 0);
  IT_CHECK(strcmp(json_string_value(json_object_get(dv, "certified")), fakehex) == 0);
  json_decref(dv);
  IT_CHECK(metric(&nodes[other], "hanse_chain_diverged", &mv) && mv == 1);
  IT_CHECK(metric(&nodes[other], "hanse_chain_diverged_height", &mv) && mv == 2);
  fprintf(stderr, "node %d diverged by certificate at block 2\n", other + 1);

  for (int i = 0; i < N; i++) it_stop(&nodes[i]);
  it_cleanup_all();
  printf("test_certs: OK\n");
  return 0;
}
