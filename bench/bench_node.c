/*
 * bench_node.c -- `make bench`: what one node does on this machine.
 *
 *   (a) Ed25519 verifications per second on all cores (the ceiling for
 *       individually signed transactions: every one is checked);
 *   (b) committed asset transfers per second, individually signed (signed
 *       before the clock starts), sent over HTTP by concurrent clients,
 *       many per request, each request waiting for its commit; commit
 *       latency p50/p99 as the clients see it;
 *   (c) the same with batches of 1,000 transfers signed once;
 *   (d) a baseline: the same double-entry transfer done directly in SQLite
 *       (WAL, synchronous=FULL, 1,000 per transaction) -- a central database
 *       doing the work without signatures, consensus or audit trail.
 *
 * Every block is durably committed before it is acknowledged (the node's
 * normal mode). Output: `BENCH <name> <value> <unit>`, then the ratios.
 * Environment: HANSE_BENCH_TXS (default 120000), HANSE_BENCH_CLIENTS (16).
 *
 * `hanse_bench --cluster` (the second half of `make bench`): the same
 * workloads (b) and (c) against a 3-node Raft cluster on this machine --
 * three `hanse node --cluster bench` processes, temporary directories,
 * free ports, one genesis listing the three node keys as validators
 * created once and copied, as tests/integration/test_cluster.c does --
 * submitted to the leader, with (a) measured in the same run. Every node
 * checks every signature (the leader when a transaction arrives, each
 * follower when it re-executes the block), so individually signed
 * transfers are bounded by verify_rate / 3 on one machine; the ratio to
 * that bound is printed with its target (>= 0.70), and batched transfers
 * against 20,000/s. Environment: HANSE_BENCH_CLUSTER_TXS (default 40000
 * signed; 4x that batched), HANSE_BENCH_CLUSTER_BLOCK_TXS (the nodes'
 * --block-max-txs; default theirs, 1,000 in cluster mode).
 *
 * `hanse_bench --trace` (the third part): EPCIS capture and product
 * history against SQLite, bench_trace.c.
 *
 * `hanse_bench --ledger` (the fourth): ledger transfers against
 * PostgreSQL, bench_ledger.c.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "encoding/block.h"
#include "itest.h"

double bench_now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int bench_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* ---- (a) Ed25519 verification rate on all cores ---------------------- */

typedef struct verify_job {
  double seconds;
  uint64_t count;
} verify_job;

static void *verify_main(void *arg) {
  verify_job *j = arg;
  hanse_keypair kp;
  it_key(&kp, 77);
  uint8_t msg[200];
  memset(msg, 0x42, sizeof msg);
  hanse_sig sig;
  hanse_sign(&sig, msg, sizeof msg, &kp);
  double end = bench_now_s() + j->seconds;
  uint64_t n = 0;
  while (bench_now_s() < end)
    for (int i = 0; i < 100; i++) n += hanse_sign_verify(&sig, msg, sizeof msg, &kp.pub);
  j->count = n;
  return NULL;
}

static double bench_verify(int threads) {
  pthread_t t[64];
  verify_job jobs[64];
  double start = bench_now_s();
  for (int i = 0; i < threads; i++) {
    jobs[i].seconds = 2.0;
    pthread_create(&t[i], NULL, verify_main, &jobs[i]);
  }
  uint64_t total = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join(t[i], NULL);
    total += jobs[i].count;
  }
  return (double)total / (bench_now_s() - start);
}

/* ---- (b), (c) transfers over HTTP ------------------------------------ */

#define SIGNERS 64

typedef struct request {
  hanse_buf body;  /* binary entries */
  uint32_t txs;
} request;

typedef struct client {
  it_node *node;
  request *reqs;
  size_t nreqs;
  double *lat;     /* one per transaction */
  size_t nlat;
  size_t committed;
  int errors;
} client;

static void *client_main(void *arg) {
  client *c = arg;
  char url[128];
  snprintf(url, sizeof url, "%s/v1/chains/bench/txs?wait=1&timeout_ms=60000", c->node->url);
  for (size_t i = 0; i < c->nreqs; i++) {
    request *r = &c->reqs[i];
    it_resp resp;
    double t0 = bench_now_s();
    int rc = it_http("POST", url, "application/octet-stream", r->body.data, r->body.len, &resp);
    double dt = bench_now_s() - t0;
    if (rc != 0 || resp.status != 200) {
      if (c->errors++ < 3)
        fprintf(stderr, "bench: request failed: %ld %.200s\n", resp.status, resp.body ? resp.body : "");
    } else {
      c->committed += r->txs;
    }
    for (uint32_t k = 0; k < r->txs; k++) c->lat[c->nlat++] = dt;
    it_resp_free(&resp);
  }
  return NULL;
}

static void post_wait(it_node *n, hanse_buf *body) {
  char url[128];
  snprintf(url, sizeof url, "%s/v1/chains/bench/txs?wait=1&timeout_ms=60000", n->url);
  it_resp r;
  IT_CHECK(it_http("POST", url, "application/octet-stream", body->data, body->len, &r) == 0);
  if (r.status != 200) fprintf(stderr, "bench setup: %ld %s\n", r.status, r.body);
  IT_CHECK(r.status == 200);
  it_resp_free(&r);
}

/* Give every signer (seeds 10..10+SIGNERS-1) coins from the issuer (seed 1). */
static void fund(it_node *n, uint64_t *issuer_seq) {
  hanse_buf body, tx;
  hanse_buf_init(&body);
  hanse_buf_init(&tx);
  it_tx_bytes(&tx, "bench", "asset.issue", 1, (*issuer_seq)++,
              "{\"asset\":\"EURT\",\"decimals\":2,\"supply\":9000000000000000}", 0);
  hanse_body_entry_append(&body, HANSE_ENTRY_TX, tx.data, tx.len);
  for (int s = 0; s < SIGNERS; s++) {
    char to[65], payload[200];
    it_pubhex(to, (uint8_t)(10 + s));
    snprintf(payload, sizeof payload, "{\"asset\":\"EURT\",\"to\":\"%s\",\"amount\":100000000000000}", to);
    hanse_buf_reset(&tx);
    it_tx_bytes(&tx, "bench", "asset.transfer", 1, (*issuer_seq)++, payload, 0);
    hanse_body_entry_append(&body, HANSE_ENTRY_TX, tx.data, tx.len);
  }
  post_wait(n, &body);
  hanse_buf_free(&body);
  hanse_buf_free(&tx);
}

/* Build the requests: per_req transactions each, signer s only ever in
 * client (s % clients) so one client's requests keep each signer's order.
 * batch = 0: individually signed; otherwise batches of `batch`. */
static void build(client *cl, int clients, size_t total, size_t per_req, int batch,
                  uint64_t *seqs) {
  char tohex[SIGNERS][65];
  for (int s = 0; s < SIGNERS; s++) it_pubhex(tohex[s], (uint8_t)(10 + s));
  size_t per_client = total / (size_t)clients;
  size_t reqs = (per_client + per_req - 1) / per_req;
  int signers_per_client = SIGNERS / clients;
  for (int c = 0; c < clients; c++) {
    cl[c].reqs = calloc(reqs, sizeof *cl[c].reqs);
    cl[c].nreqs = reqs;
    cl[c].lat = calloc(reqs * per_req, sizeof *cl[c].lat);
    int rot = 0;
    for (size_t r = 0; r < reqs; r++) {
      request *rq = &cl[c].reqs[r];
      hanse_buf_init(&rq->body);
      size_t k = 0;
      while (k < per_req) {
        int s = c + clients * (rot++ % signers_per_client);
        hanse_keypair kp;
        it_key(&kp, (uint8_t)(10 + s));
        size_t m = batch ? (size_t)batch : 1;
        hanse_buf inner[1000];
        const uint8_t *ptr[1000];
        size_t lens[1000];
        for (size_t i = 0; i < m; i++) {
          char payload[200];
          snprintf(payload, sizeof payload, "{\"asset\":\"EURT\",\"to\":\"%s\",\"amount\":%zu}",
                   tohex[(s + 1 + (int)(i % 7)) % SIGNERS], 1 + i % 100);
          hanse_buf_init(&inner[i]);
          it_tx_bytes(&inner[i], "bench", "asset.transfer", (uint8_t)(10 + s), seqs[s]++, payload,
                      batch != 0);
          ptr[i] = inner[i].data;
          lens[i] = inner[i].len;
        }
        if (batch) {
          hanse_buf b;
          hanse_buf_init(&b);
          hanse_reject rej;
          IT_CHECK(hanse_batch_encode(&b, "bench", ptr, lens, (uint32_t)m, &kp, &rej) == 0);
          hanse_body_entry_append(&rq->body, HANSE_ENTRY_BATCH, b.data, b.len);
          hanse_buf_free(&b);
        } else {
          hanse_body_entry_append(&rq->body, HANSE_ENTRY_TX, inner[0].data, inner[0].len);
        }
        for (size_t i = 0; i < m; i++) hanse_buf_free(&inner[i]);
        k += m;
      }
      rq->txs = (uint32_t)k;
    }
  }
}

typedef struct run_result {
  double tps, p50_ms, p99_ms;
  size_t committed;
  int errors;
} run_result;

static run_result run(it_node *n, int clients, size_t total, size_t per_req, int batch,
                      uint64_t *seqs) {
  client cl[64];
  memset(cl, 0, sizeof cl);
  for (int c = 0; c < clients; c++) cl[c].node = n;
  double b0 = bench_now_s();
  build(cl, clients, total, per_req, batch, seqs);
  fprintf(stderr, "bench: signed %zu transfers in %.1f s (not timed)\n", total, bench_now_s() - b0);
  pthread_t t[64];
  double start = bench_now_s();
  for (int c = 0; c < clients; c++) pthread_create(&t[c], NULL, client_main, &cl[c]);
  for (int c = 0; c < clients; c++) pthread_join(t[c], NULL);
  double elapsed = bench_now_s() - start;
  run_result rr = {0};
  size_t nl = 0;
  for (int c = 0; c < clients; c++) nl += cl[c].nlat;
  double *all = malloc(nl * sizeof *all);
  size_t k = 0;
  for (int c = 0; c < clients; c++) {
    memcpy(all + k, cl[c].lat, cl[c].nlat * sizeof *all);
    k += cl[c].nlat;
    rr.committed += cl[c].committed;
    rr.errors += cl[c].errors;
    for (size_t r = 0; r < cl[c].nreqs; r++) hanse_buf_free(&cl[c].reqs[r].body);
    free(cl[c].reqs);
    free(cl[c].lat);
  }
  qsort(all, nl, sizeof *all, bench_cmp_double);
  rr.tps = (double)rr.committed / elapsed;
  rr.p50_ms = nl ? all[nl / 2] * 1000 : 0;
  rr.p99_ms = nl ? all[(size_t)((double)nl * 0.99)] * 1000 : 0;
  free(all);
  return rr;
}

/* ---- (d) baseline: the transfer in plain SQLite ------------------------ */

static double bench_sqlite(const char *dir) {
  char path[300];
  snprintf(path, sizeof path, "%s/baseline.db", dir);
  sqlite3 *db;
  IT_CHECK(sqlite3_open(path, &db) == SQLITE_OK);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                   "CREATE TABLE acct(id INTEGER PRIMARY KEY, bal INTEGER NOT NULL);"
                   "CREATE TABLE xfer(id INTEGER PRIMARY KEY, src INTEGER, dst INTEGER, amt INTEGER);",
               NULL, NULL, NULL);
  sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
  sqlite3_stmt *ins;
  sqlite3_prepare_v2(db, "INSERT INTO acct(id, bal) VALUES (?1, 1000000000)", -1, &ins, NULL);
  for (int i = 0; i < 100000; i++) {
    sqlite3_bind_int(ins, 1, i);
    sqlite3_step(ins);
    sqlite3_reset(ins);
  }
  sqlite3_finalize(ins);
  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  sqlite3_stmt *deb, *cred, *log;
  sqlite3_prepare_v2(db, "UPDATE acct SET bal = bal - ?2 WHERE id = ?1 AND bal >= ?2", -1, &deb, NULL);
  sqlite3_prepare_v2(db, "UPDATE acct SET bal = bal + ?2 WHERE id = ?1", -1, &cred, NULL);
  sqlite3_prepare_v2(db, "INSERT INTO xfer(src, dst, amt) VALUES (?1, ?2, ?3)", -1, &log, NULL);
  uint64_t done = 0;
  unsigned r = 12345;
  double start = bench_now_s(), end = start + 3.0;
  while (bench_now_s() < end) {
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    for (int i = 0; i < 1000; i++) {
      r = r * 1103515245u + 12345u;
      int a = (int)(r % 100000), b = (int)((r >> 8) % 100000), amt = 1 + (int)(r % 50);
      sqlite3_bind_int(deb, 1, a); sqlite3_bind_int(deb, 2, amt); sqlite3_step(deb); sqlite3_reset(deb);
      sqlite3_bind_int(cred, 1, b); sqlite3_bind_int(cred, 2, amt); sqlite3_step(cred); sqlite3_reset(cred);
      sqlite3_bind_int(log, 1, a); sqlite3_bind_int(log, 2, b); sqlite3_bind_int(log, 3, amt);
      sqlite3_step(log); sqlite3_reset(log);
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    done += 1000;
  }
  double rate = (double)done / (bench_now_s() - start);
  sqlite3_finalize(deb);
  sqlite3_finalize(cred);
  sqlite3_finalize(log);
  sqlite3_close(db);
  return rate;
}

/* ---- the 3-node cluster ---------------------------------------------- */

#define CLUSTER_N 3

static json_t *status_json(it_node *n) {
  long st = 0;
  json_t *s = it_get_json(n, "/v1/chains/bench/status", &st);
  if (s && st != 200) {
    json_decref(s);
    s = NULL;
  }
  return s;
}

/* Index of the ready leader, waiting up to 15 s; -1 if none. */
static int cluster_leader(it_node *nodes) {
  for (int tries = 0; tries < 300; tries++) {
    for (int i = 0; i < CLUSTER_N; i++) {
      json_t *s = status_json(&nodes[i]);
      json_t *c = json_object_get(s, "cluster");
      const char *role = json_string_value(json_object_get(c, "role"));
      int ok = role && strcmp(role, "leader") == 0 && json_is_true(json_object_get(c, "ready"));
      json_decref(s);
      if (ok) return i;
    }
    usleep(50000);
  }
  return -1;
}

/* Three data directories with their node keys, one chain "bench" created
 * in the first (the issuer, seed 1, its only organisation; validators the
 * three node keys) and copied to the others; the nodes started. */
static int cluster_start(const char *hanse, it_node *nodes) {
  char issuer[65], peers[1024];
  it_pubhex(issuer, 1);
  it_cluster_prepare(nodes, CLUSTER_N, hanse, "bench-cluster", "bench",
                     json_pack("{s:s, s:s, s:[s]}", "id", "issuer", "name", "Issuer", "keys", issuer),
                     NULL, peers, sizeof peers);
  for (int i = 0; i < CLUSTER_N; i++) {
    char id[16];
    snprintf(id, sizeof id, "%d", i + 1);
    /* HANSE_BENCH_CLUSTER_BLOCK_TXS: the nodes' --block-max-txs (default
     * the node's own default). */
    const char *bmax = getenv("HANSE_BENCH_CLUSTER_BLOCK_TXS");
    const char *extra[] = {"--cluster", "bench", "--raft-id", id, "--peers", peers,
                           bmax ? "--block-max-txs" : NULL, bmax, NULL};
    IT_CHECK(it_start(&nodes[i], extra, NULL) == 0);
  }
  return cluster_leader(nodes);
}

static int main_cluster(const char *hanse, int clients, long cores) {
  size_t total = getenv("HANSE_BENCH_CLUSTER_TXS")
                     ? (size_t)atol(getenv("HANSE_BENCH_CLUSTER_TXS"))
                     : 40000;
  double vs[3];
  vs[0] = bench_verify((int)cores);
  it_node nodes[CLUSTER_N];
  int leader = cluster_start(hanse, nodes);
  IT_CHECK(leader >= 0);
  fprintf(stderr, "bench: cluster of %d nodes, leader node %d\n", CLUSTER_N, leader + 1);
  it_node *n = &nodes[leader];
  uint64_t issuer_seq = 1;
  fund(n, &issuer_seq);
  uint64_t seqs[SIGNERS];
  for (int s = 0; s < SIGNERS; s++) seqs[s] = 1;

  run_result b = run(n, clients, total, 500, 0, seqs);
  printf("BENCH cluster_transfers_signed %.0f transfers/s (%d nodes, to the leader; %zu committed, "
         "%d clients, 500 per request)\n",
         b.tps, CLUSTER_N, b.committed, clients);
  printf("BENCH cluster_transfers_signed_latency_p50 %.1f ms\n", b.p50_ms);
  printf("BENCH cluster_transfers_signed_latency_p99 %.1f ms\n", b.p99_ms);
  fflush(stdout);
  vs[1] = bench_verify((int)cores);
  /* A leader change between the runs would leave n a follower: it
   * forwards, so the figures stay those of the cluster. */
  run_result c = run(n, clients, total * 4, 2000, 1000, seqs);
  printf("BENCH cluster_transfers_batched %.0f transfers/s (%d nodes; %zu committed, batches of "
         "1000, 2 per request)\n",
         c.tps, CLUSTER_N, c.committed);
  printf("BENCH cluster_transfers_batched_latency_p50 %.1f ms\n", c.p50_ms);
  printf("BENCH cluster_transfers_batched_latency_p99 %.1f ms\n", c.p99_ms);
  fflush(stdout);
  for (int i = 0; i < CLUSTER_N; i++) it_stop(&nodes[i]);
  vs[2] = bench_verify((int)cores);
  qsort(vs, 3, sizeof vs[0], bench_cmp_double);
  double verify = vs[1];
  printf("BENCH ed25519_verify_all_cores %.0f verifications/s (%ld cores; median of %.0f %.0f "
         "%.0f)\n",
         verify, cores, vs[0], vs[1], vs[2]);
  printf("BENCH ratio_cluster_signed_to_verify_per_node %.2f (target >= 0.70; verify rate / %d "
         "nodes = %.0f/s)\n",
         b.tps / (verify / CLUSTER_N), CLUSTER_N, verify / CLUSTER_N);
  printf("BENCH target_cluster_batched_20000 %s\n", c.tps >= 20000 ? "met" : "missed");
  it_cleanup_all();
  return b.errors || c.errors ? 1 : 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--trace") == 0)
    return bench_trace_main(argc > 2 ? argv[2] : HANSE_BIN);
  if (argc > 1 && strcmp(argv[1], "--ledger") == 0)
    return bench_ledger_main(argc > 2 ? argv[2] : HANSE_BIN);
  int cluster = argc > 1 && strcmp(argv[1], "--cluster") == 0;
  if (cluster) {
    argc--;
    argv++;
  }
  const char *hanse = argc > 1 ? argv[1] : HANSE_BIN;
  size_t total = getenv("HANSE_BENCH_TXS") ? (size_t)atol(getenv("HANSE_BENCH_TXS")) : 120000;
  int clients = getenv("HANSE_BENCH_CLIENTS") ? atoi(getenv("HANSE_BENCH_CLIENTS")) : 16;
  if (clients < 1 || clients > 32 || SIGNERS % clients) clients = 16;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  if (cluster) return main_cluster(hanse, clients, cores);

  /* The machine is shared: the verification baseline is the median of
   * three samples taken before, between and after the node runs. */
  double vs[3];
  vs[0] = bench_verify((int)cores);

  uint8_t seeds[] = {1};
  it_node n;
  it_init(&n, hanse, "bench", seeds, 1);
  IT_CHECK(it_start(&n, NULL, NULL) == 0);
  uint64_t issuer_seq = 1;
  fund(&n, &issuer_seq);
  uint64_t seqs[SIGNERS];
  for (int s = 0; s < SIGNERS; s++) seqs[s] = 1;

  run_result b = {0};
  if (getenv("HANSE_BENCH_SKIP_SIGNED") == NULL) b = run(&n, clients, total, 500, 0, seqs);
  printf("BENCH transfers_signed %.0f transfers/s (%zu committed, %d clients, 500 per request)\n",
         b.tps, b.committed, clients);
  printf("BENCH transfers_signed_latency_p50 %.1f ms\n", b.p50_ms);
  printf("BENCH transfers_signed_latency_p99 %.1f ms\n", b.p99_ms);
  fflush(stdout);

  vs[1] = bench_verify((int)cores);
  run_result c = {0};
  if (getenv("HANSE_BENCH_SKIP_BATCHED") == NULL) c = run(&n, clients, total * 4, 2000, 1000, seqs);
  printf("BENCH transfers_batched %.0f transfers/s (%zu committed, batches of 1000, 2 per request)\n",
         c.tps, c.committed);
  printf("BENCH transfers_batched_latency_p50 %.1f ms\n", c.p50_ms);
  printf("BENCH transfers_batched_latency_p99 %.1f ms\n", c.p99_ms);
  fflush(stdout);
  it_stop(&n);
  vs[2] = bench_verify((int)cores);
  qsort(vs, 3, sizeof vs[0], bench_cmp_double);
  double verify = vs[1];
  printf("BENCH ed25519_verify_all_cores %.0f verifications/s (%ld cores; median of %.0f %.0f %.0f)\n",
         verify, cores, vs[0], vs[1], vs[2]);

  double base = bench_sqlite(n.dir);
  printf("BENCH baseline_sqlite_transfers %.0f transfers/s (plain SQLite, 1000 per commit, no signatures)\n",
         base);
  printf("BENCH ratio_signed_to_verify %.2f (target >= 0.70)\n", b.tps / verify);
  printf("BENCH ratio_batched_to_sqlite %.2f\n", c.tps / base);
  printf("BENCH target_batched_50000 %s\n", c.tps >= 50000 ? "met" : "missed");
  it_cleanup_all();
  return b.errors || c.errors ? 1 : 0;
}
