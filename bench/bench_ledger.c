/*
 * bench_ledger.c -- `hanse_bench --ledger` (issue 6, point 10): ledger
 * transfers per second through a real node, beside PostgreSQL doing the
 * same double-entry transfer, measured in the same run.
 *
 * Hanse. One node (`hanse node`, defaults: 100 ms block interval, every
 * block durably committed before it is acknowledged) with a chain of
 * ENTERPRISES organisations, each signing with KEYS_PER_ENT keys (its
 * admin key and registered members), so CLIENTS threads submit at once,
 * one key each. ACCOUNTS EUR accounts (ledger.open, not timed) belong to
 * the enterprises in equal parts. A transfer debits a random account of
 * the signer's enterprise (only its owner may debit it) and credits a
 * random other account of any enterprise, 1-100 units. Transfers travel
 * PER_TX to a ledger.transfer transaction and TXS_PER_REQ transactions to
 * one signed batch (one Ed25519 signature for TXS_PER_REQ * PER_TX
 * transfers), one batch per HTTP request with wait=1: the answer comes
 * when the block holding it is committed; a client sends its next request
 * then. Each client waits for its commit, so the clients must be enough
 * to keep the node's two block threads busy (the sequencer executes one
 * block while the committer stores the one before): 32 (8 keys per
 * enterprise); with 16 the sequencer idled about a fifth of the time
 * (15,000 against 19,800 plain transfers/s in back-to-back runs). Three
 * modes:
 *
 *   plain      single-phase transfers;
 *   two_phase  each transfer made pending, then posted in the client's
 *              next request (the last chunk's posts in a request of their
 *              own) by a ledger.post of many ids: one post transaction per
 *              transfer transaction, naming its PER_TX ids; a transfer
 *              counts once, when posted;
 *   linked     chains of LINK transfers ("linked":true on all but the
 *              last of each chain): all of a chain or none.
 *
 * Every request's transactions must all commit with code "ok", and after
 * each run the asset's totals (the ledger's totals query) must have grown
 * by exactly the amounts sent -- so every transfer counted really moved
 * money. Requests are built and signed before the clock starts; the rate
 * is transfers over the wall time from the first request sent to the last
 * answer. RUNS runs per mode, the median printed.
 *
 * PostgreSQL. The Debian server (scripts/deps.sh bench), started here on
 * 127.0.0.1 on a free port with a temporary data directory (initdb,
 * pg_ctl start ... stop; as root through `runuser -u postgres`, since
 * initdb refuses root), default durability (fsync on, synchronous_commit
 * on: every transaction's commit waits for its WAL flush). The transfer:
 * one transaction that debits an account, credits another and inserts a
 * journal row, as a pgbench custom script over ACCOUNTS accounts, random
 * accounts and amounts; pgbench retries a deadlock (--max-tries). Runs at
 * PG_CLIENTS client counts (-j 2) before the Hanse runs and again after;
 * the best figure is the baseline (the kindest to PostgreSQL).
 *
 * Output: `BENCH ledger_<mode> <median> transfers/s (runs ...)`, the
 * node's CPU time per transfer (user + system, all threads, from /proc:
 * a figure the machine's other load disturbs less than the rate), the
 * baseline, and `BENCH ratio_ledger_<mode>_to_postgres <x> (target >= 10)`.
 * Environment: HANSE_BENCH_LEDGER_TRANSFERS (per run and mode, default
 * 131072, rounded to whole requests), HANSE_BENCH_LEDGER_RUNS (3),
 * HANSE_BENCH_PG_SECONDS (10 per pgbench run), HANSE_BENCH_PG=0 skips
 * PostgreSQL (the ratios are then not printed), HANSE_BENCH_LEDGER_MODES
 * (e.g. "plain,linked"; default all three).
 */
#include <glob.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "encoding/block.h"
#include "itest.h"

#define CHAIN "ledger"
#define ENTERPRISES 4
#define KEYS_PER_ENT 8
#define CLIENTS (ENTERPRISES * KEYS_PER_ENT)
#define ACCOUNTS 10000
#define ACCOUNTS_PER_ENT (ACCOUNTS / ENTERPRISES)
#define PER_TX 256      /* transfers per ledger.transfer: LEDGER_TRANSFERS_MAX; and
                         * ids per ledger.post: LEDGER_IDS_MAX */
#define TXS_PER_REQ 4   /* ledger.transfer transactions per signed batch */
#define PER_REQ (PER_TX * TXS_PER_REQ)
#define LINK 4          /* transfers per linked chain */
#define RUNS_MAX 9
#define SEED_MEMBER 20  /* members' seeds: SEED_MEMBER + e * KEYS_PER_ENT + k */
#define PAYLOAD_BYTES (PER_TX * 160 + 64)

_Static_assert(PER_TX % LINK == 0, "a linked chain never spans two transactions");
_Static_assert(ACCOUNTS % ENTERPRISES == 0, "the enterprises own equal parts");

enum { PLAIN, TWO_PHASE, LINKED, MODES };
static const char *const mode_name[MODES] = {"plain", "two_phase", "linked"};

/* ---- the Hanse side --------------------------------------------------- */

typedef struct lclient {
  it_node *node;
  uint8_t seed;
  int ent;               /* enterprise 0..ENTERPRISES-1 */
  uint64_t seq;          /* last sequence used */
  uint32_t rng;
  uint64_t made;         /* transfer ids made so far (unique per client) */
  hanse_buf *reqs;       /* request bodies of this run */
  uint32_t *req_txs;     /* transactions in each */
  size_t nreqs;
  uint64_t ok;           /* transactions committed "ok" */
  int errors;
} lclient;

static uint8_t client_seed(int e, int k) {
  return k == 0 ? (uint8_t)(1 + e) : (uint8_t)(SEED_MEMBER + e * KEYS_PER_ENT + k);
}

static void account_id(char out[32], int e, uint32_t i) {
  snprintf(out, 32, "e%d-%05u", e + 1, i);
}

static uint32_t rnd(lclient *c) {
  c->rng = c->rng * 1103515245u + 12345u;
  return c->rng >> 8;
}

/* Sign `m` encoded batched transactions into one batch entry of `body`. */
static void batch_append(hanse_buf *body, hanse_buf *inner, size_t m, uint8_t seed) {
  const uint8_t *ptr[PER_REQ + TXS_PER_REQ];
  size_t lens[PER_REQ + TXS_PER_REQ];
  IT_CHECK(m <= sizeof ptr / sizeof ptr[0]);
  for (size_t i = 0; i < m; i++) {
    ptr[i] = inner[i].data;
    lens[i] = inner[i].len;
  }
  hanse_keypair kp;
  it_key(&kp, seed);
  hanse_buf b;
  hanse_buf_init(&b);
  hanse_reject rej;
  IT_CHECK(hanse_batch_encode(&b, CHAIN, ptr, lens, (uint32_t)m, &kp, &rej) == 0);
  hanse_body_entry_append(body, HANSE_ENTRY_BATCH, b.data, b.len);
  hanse_buf_free(&b);
}

/* One ledger.transfer payload of PER_TX transfers into p; their ids are
 * ids[0..PER_TX) (two-phase: posted later); *sum grows by the amounts. */
static void transfer_payload(lclient *c, int mode, char *p, size_t cap, char (*ids)[32],
                             uint64_t *sum) {
  size_t len = (size_t)snprintf(p, cap, "{\"transfers\":[");
  for (int i = 0; i < PER_TX; i++) {
    char id[32], debit[32], credit[32];
    snprintf(id, sizeof id, "%c%02d-%08llu", mode_name[mode][0], (int)(c->seed),
             (unsigned long long)c->made++);
    uint32_t from = (uint32_t)c->ent * ACCOUNTS_PER_ENT + rnd(c) % ACCOUNTS_PER_ENT, to;
    do to = rnd(c) % ACCOUNTS;
    while (to == from);
    account_id(debit, c->ent, from % ACCOUNTS_PER_ENT);
    account_id(credit, (int)(to / ACCOUNTS_PER_ENT), to % ACCOUNTS_PER_ENT);
    unsigned amount = 1 + rnd(c) % 100;
    *sum += amount;
    if (ids) snprintf(ids[i], 32, "%s", id);
    len += (size_t)snprintf(p + len, cap - len,
                            "%s{\"id\":\"%s\",\"debit\":\"%s\",\"credit\":\"%s\",\"amount\":%u%s%s}",
                            i ? "," : "", id, debit, credit, amount,
                            mode == TWO_PHASE ? ",\"pending\":true" : "",
                            mode == LINKED && i % LINK != LINK - 1 ? ",\"linked\":true" : "");
    IT_CHECK(len < cap);
  }
  snprintf(p + len, cap - len, "]}");
}

/* The requests of one run: `n` transfers of client c in `mode`. */
static void build(lclient *c, int mode, size_t n, uint64_t *sum) {
  size_t chunks = n / PER_REQ;
  c->nreqs = chunks + (mode == TWO_PHASE);
  c->reqs = calloc(c->nreqs, sizeof *c->reqs);
  c->req_txs = calloc(c->nreqs, sizeof *c->req_txs);
  hanse_buf *inner = calloc(PER_REQ + TXS_PER_REQ, sizeof *inner);
  char *payload = malloc(PAYLOAD_BYTES);
  char(*ids)[32] = calloc(2 * PER_REQ, 32);
  IT_CHECK(c->reqs && c->req_txs && inner && payload && ids);
  for (size_t r = 0; r < c->nreqs; r++) {
    size_t m = 0;
    char(*now_ids)[32] = ids + (r % 2) * PER_REQ;
    char(*prev_ids)[32] = ids + ((r + 1) % 2) * PER_REQ;
    for (int t = 0; r < chunks && t < TXS_PER_REQ; t++) {
      transfer_payload(c, mode, payload, PAYLOAD_BYTES, mode == TWO_PHASE ? now_ids + t * PER_TX : NULL,
                       sum);
      hanse_buf_init(&inner[m]);
      it_tx_bytes(&inner[m++], CHAIN, "ledger.transfer", c->seed, ++c->seq, payload, 1);
    }
    for (int t = 0; mode == TWO_PHASE && r > 0 && t < TXS_PER_REQ; t++) {
      size_t len = (size_t)snprintf(payload, PAYLOAD_BYTES, "{\"ids\":[");
      for (int i = 0; i < PER_TX; i++)
        len += (size_t)snprintf(payload + len, PAYLOAD_BYTES - len, "%s\"%s\"", i ? "," : "",
                                prev_ids[t * PER_TX + i]);
      IT_CHECK(len + 3 < PAYLOAD_BYTES);
      snprintf(payload + len, PAYLOAD_BYTES - len, "]}");
      hanse_buf_init(&inner[m]);
      it_tx_bytes(&inner[m++], CHAIN, "ledger.post", c->seed, ++c->seq, payload, 1);
    }
    hanse_buf_init(&c->reqs[r]);
    batch_append(&c->reqs[r], inner, m, c->seed);
    c->req_txs[r] = (uint32_t)m;
    for (size_t i = 0; i < m; i++) hanse_buf_free(&inner[i]);
  }
  free(ids);
  free(payload);
  free(inner);
}

/* Occurrences of "code":"ok" in an answer: transactions committed ok. */
static uint64_t count_ok(const char *body) {
  uint64_t k = 0;
  for (const char *p = body; p && (p = strstr(p, "\"code\":\"ok\"")) != NULL; p++) k++;
  return k;
}

static void *client_main(void *arg) {
  lclient *c = arg;
  char url[128];
  snprintf(url, sizeof url, "%s/v1/chains/" CHAIN "/txs?wait=1&timeout_ms=60000", c->node->url);
  for (size_t r = 0; r < c->nreqs; r++) {
    it_resp resp;
    int rc = it_http("POST", url, "application/octet-stream", c->reqs[r].data, c->reqs[r].len, &resp);
    uint64_t ok = rc == 0 && resp.status == 200 ? count_ok(resp.body) : 0;
    if (ok != c->req_txs[r] && c->errors++ < 3)
      fprintf(stderr, "bench: request of %u transactions: %ld, %llu ok: %.300s\n", c->req_txs[r],
              resp.status, (unsigned long long)ok, resp.body ? resp.body : "");
    c->ok += ok;
    it_resp_free(&resp);
  }
  return NULL;
}

static uint64_t totals_posted(it_node *n, uint64_t *pending) {
  long st = 0;
  json_t *j = it_get_json(n, "/v1/chains/" CHAIN "/query/ledger/totals?asset=EUR", &st);
  uint64_t posted = 0;
  *pending = 0;
  if (st == 200 && j) {
    posted = strtoull(json_string_value(json_object_get(j, "debits_posted")) ?: "0", NULL, 10);
    *pending = strtoull(json_string_value(json_object_get(j, "debits_pending")) ?: "0", NULL, 10);
  }
  json_decref(j);
  return posted;
}

/* CPU seconds of a /proc stat file (user + system). */
static double stat_cpu_s(const char *path) {
  char buf[1024];
  FILE *f = fopen(path, "r");
  if (f == NULL) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  const char *p = strrchr(buf, ')'); /* after the command name */
  unsigned long long ut = 0, st = 0;
  if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
                          &st) != 2)
    return 0;
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* CPU seconds the process has used, all threads. */
static double cpu_s(pid_t pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  return stat_cpu_s(path);
}

/* CPU seconds of the process's threads named `name` (the sequencer,
 * "hanse-seq": it executes every block, so it bounds the rate). */
static double thread_cpu_s(pid_t pid, const char *name) {
  char pattern[64];
  snprintf(pattern, sizeof pattern, "/proc/%d/task/*/comm", (int)pid);
  glob_t g;
  double sum = 0;
  if (glob(pattern, 0, NULL, &g) != 0) return 0;
  for (size_t i = 0; i < g.gl_pathc; i++) {
    char comm[64] = "", path[128];
    FILE *f = fopen(g.gl_pathv[i], "r");
    if (f == NULL) continue;
    if (fgets(comm, sizeof comm, f) == NULL) comm[0] = 0;
    fclose(f);
    comm[strcspn(comm, "\n")] = 0;
    if (strcmp(comm, name) != 0) continue;
    snprintf(path, sizeof path, "%.*sstat", (int)(strlen(g.gl_pathv[i]) - 4), g.gl_pathv[i]);
    sum += stat_cpu_s(path);
  }
  globfree(&g);
  return sum;
}

/* One timed run of `mode`: transfers per second, 0 when anything failed;
 * *cpu_us the node's CPU time per transfer (all its threads), *seq_us and
 * *commit_us its sequencer's and committer's. */
static double run(it_node *n, lclient *cl, int mode, size_t total, double *cpu_us,
                  double *seq_us, double *commit_us) {
  uint64_t sum = 0, pend0, before = totals_posted(n, &pend0);
  size_t per_client = total / CLIENTS / PER_REQ * PER_REQ;
  IT_CHECK(per_client > 0);
  for (int c = 0; c < CLIENTS; c++) build(&cl[c], mode, per_client, &sum);
  pthread_t t[CLIENTS];
  double cpu0 = cpu_s(n->pid), seq0 = thread_cpu_s(n->pid, "hanse-seq");
  double commit0 = thread_cpu_s(n->pid, "hanse-commit");
  double start = bench_now_s();
  for (int c = 0; c < CLIENTS; c++) pthread_create(&t[c], NULL, client_main, &cl[c]);
  for (int c = 0; c < CLIENTS; c++) pthread_join(t[c], NULL);
  double elapsed = bench_now_s() - start;
  *cpu_us = (cpu_s(n->pid) - cpu0) * 1e6 / (double)(per_client * CLIENTS);
  *seq_us = (thread_cpu_s(n->pid, "hanse-seq") - seq0) * 1e6 / (double)(per_client * CLIENTS);
  *commit_us =
      (thread_cpu_s(n->pid, "hanse-commit") - commit0) * 1e6 / (double)(per_client * CLIENTS);
  int errors = 0;
  for (int c = 0; c < CLIENTS; c++) {
    errors += cl[c].errors;
    for (size_t r = 0; r < cl[c].nreqs; r++) hanse_buf_free(&cl[c].reqs[r]);
    free(cl[c].reqs);
    free(cl[c].req_txs);
    cl[c].reqs = NULL;
    cl[c].nreqs = 0;
  }
  uint64_t pend, after = totals_posted(n, &pend);
  if (errors || after - before != sum || pend != 0) {
    fprintf(stderr, "bench: ledger %s: %d failed requests; totals moved %llu of %llu, %llu pending\n",
            mode_name[mode], errors, (unsigned long long)(after - before), (unsigned long long)sum,
            (unsigned long long)pend);
    return 0;
  }
  return (double)(per_client * CLIENTS) / elapsed;
}

/* A chain of ENTERPRISES organisations (seeds 1..), each with
 * KEYS_PER_ENT - 1 more member keys, and ACCOUNTS accounts. */
static void setup(it_node *n, const char *hanse, lclient *cl) {
  uint8_t seeds[ENTERPRISES];
  for (int e = 0; e < ENTERPRISES; e++) seeds[e] = (uint8_t)(1 + e);
  it_init(n, hanse, CHAIN, seeds, ENTERPRISES);
  IT_CHECK(it_start(n, NULL, NULL) == 0);
  for (int e = 0; e < ENTERPRISES; e++) {
    hanse_keypair admin;
    it_key(&admin, seeds[e]);
    for (int k = 1; k < KEYS_PER_ENT; k++) {
      char hex[65], id[32];
      it_pubhex(hex, client_seed(e, k));
      snprintf(id, sizeof id, "clerk-%d", k);
      const char *code = it_client_submit(
          n, CHAIN, &admin, "member.register",
          json_pack("{s:{s:s, s:s, s:[s], s:{}, s:s}}", "member", "id", id, "kind", "person",
                    "roles", "bank", "attributes", "key", hex));
      if (strcmp(code, "ok") != 0) fprintf(stderr, "bench: register %s: %s\n", id, code);
      IT_CHECK(strcmp(code, "ok") == 0);
    }
  }
  for (int c = 0; c < CLIENTS; c++) {
    cl[c].node = n;
    cl[c].ent = c / KEYS_PER_ENT;
    cl[c].seed = client_seed(cl[c].ent, c % KEYS_PER_ENT);
    cl[c].seq = c % KEYS_PER_ENT == 0 ? KEYS_PER_ENT - 1 : 0; /* the admin registered */
    cl[c].rng = 7919u * (uint32_t)(c + 1);
  }
  /* Each enterprise's admin opens its accounts: one batch. */
  static char url[128];
  snprintf(url, sizeof url, "%s/v1/chains/" CHAIN "/txs?wait=1&timeout_ms=60000", n->url);
  hanse_buf *inner = calloc(ACCOUNTS_PER_ENT, sizeof *inner);
  IT_CHECK(inner != NULL);
  for (int e = 0; e < ENTERPRISES; e++) {
    lclient *admin = &cl[e * KEYS_PER_ENT];
    hanse_buf body;
    hanse_buf_init(&body);
    const uint8_t *ptr[ACCOUNTS_PER_ENT];
    size_t lens[ACCOUNTS_PER_ENT];
    for (uint32_t i = 0; i < ACCOUNTS_PER_ENT; i++) {
      char acct[32], payload[128];
      account_id(acct, e, i);
      snprintf(payload, sizeof payload, "{\"account\":\"%s\",\"asset\":\"EUR\",\"type\":\"asset\"}",
               acct);
      hanse_buf_init(&inner[i]);
      it_tx_bytes(&inner[i], CHAIN, "ledger.open", admin->seed, ++admin->seq, payload, 1);
      ptr[i] = inner[i].data;
      lens[i] = inner[i].len;
    }
    hanse_keypair kp;
    it_key(&kp, admin->seed);
    hanse_buf b;
    hanse_buf_init(&b);
    hanse_reject rej;
    IT_CHECK(hanse_batch_encode(&b, CHAIN, ptr, lens, ACCOUNTS_PER_ENT, &kp, &rej) == 0);
    hanse_body_entry_append(&body, HANSE_ENTRY_BATCH, b.data, b.len);
    it_resp resp;
    IT_CHECK(it_http("POST", url, "application/octet-stream", body.data, body.len, &resp) == 0);
    IT_CHECK(resp.status == 200 && count_ok(resp.body) == ACCOUNTS_PER_ENT);
    it_resp_free(&resp);
    hanse_buf_free(&b);
    hanse_buf_free(&body);
    for (uint32_t i = 0; i < ACCOUNTS_PER_ENT; i++) hanse_buf_free(&inner[i]);
  }
  free(inner);
}

/* ---- the PostgreSQL side ----------------------------------------------- */

typedef struct pg {
  char bin[200];   /* the server's bindir */
  char dir[200];   /* temporary: data/, socket, script, log */
  int port;
  int as_postgres; /* run initdb and pg_ctl through runuser */
} pg;

static const char pg_script[] =
    "\\set a random(1, " "10000" ")\n"
    "\\set b 1 + (:a + random(0, 9998)) % 10000\n"
    "\\set amount random(1, 100)\n"
    "BEGIN;\n"
    "UPDATE account SET debits = debits + :amount WHERE id = :a;\n"
    "UPDATE account SET credits = credits + :amount WHERE id = :b;\n"
    "INSERT INTO journal(debit, credit, amount) VALUES (:a, :b, :amount);\n"
    "END;\n";
_Static_assert(ACCOUNTS == 10000, "the pgbench script names the number of accounts");

/* Run argv (as the postgres user when p->as_postgres and `server`);
 * its exit status, output in *out (malloc'd) when out is not NULL. */
static int pg_run(pg *p, int server, const char *const *argv, char **out) {
  const char *full[32];
  int k = 0;
  if (server && p->as_postgres) {
    full[k++] = "runuser";
    full[k++] = "-u";
    full[k++] = "postgres";
    full[k++] = "--";
  }
  for (int i = 0; argv[i]; i++) full[k++] = argv[i];
  full[k] = NULL;
  char *o = NULL;
  int rc = it_run(full, &o);
  if (rc != 0) fprintf(stderr, "bench: %s failed (%d): %.2000s\n", argv[0], rc, o ? o : "");
  if (out) *out = o;
  else free(o);
  return rc;
}

static int pg_start(pg *p) {
  glob_t g;
  if (glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) != 0 || g.gl_pathc == 0) {
    fprintf(stderr, "bench: no PostgreSQL server (scripts/deps.sh bench installs it)\n");
    return -1;
  }
  snprintf(p->bin, sizeof p->bin, "%.*s", (int)(strlen(g.gl_pathv[g.gl_pathc - 1]) - 7),
           g.gl_pathv[g.gl_pathc - 1]); /* the newest, without "/initdb" */
  globfree(&g);
  const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  snprintf(p->dir, sizeof p->dir, "%s/hanse-pg-XXXXXX", tmp);
  if (mkdtemp(p->dir) == NULL) return -1;
  p->as_postgres = geteuid() == 0;
  if (p->as_postgres) {
    const char *argv[] = {"chown", "postgres:", p->dir, NULL};
    if (pg_run(p, 0, argv, NULL) != 0) return -1;
  }
  p->port = it_free_port();
  char initdb[256], pg_ctl[256], data[256], log[256], opts[512];
  snprintf(initdb, sizeof initdb, "%s/initdb", p->bin);
  snprintf(pg_ctl, sizeof pg_ctl, "%s/pg_ctl", p->bin);
  snprintf(data, sizeof data, "%s/data", p->dir);
  snprintf(log, sizeof log, "%s/server.log", p->dir);
  /* Durability stays the default (fsync, synchronous_commit on); said
   * explicitly so a site's configuration cannot change it. */
  snprintf(opts, sizeof opts,
           "-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=on -c synchronous_commit=on "
           "-c full_page_writes=on",
           p->port, p->dir);
  const char *i_argv[] = {initdb, "-D", data, "-U", "bench", "--auth=trust", "-E", "UTF8",
                          "--no-locale", NULL};
  if (pg_run(p, 1, i_argv, NULL) != 0) return -1;
  const char *s_argv[] = {pg_ctl, "-D", data, "-l", log, "-w", "-o", opts, "start", NULL};
  if (pg_run(p, 1, s_argv, NULL) != 0) return -1;
  char port[16];
  snprintf(port, sizeof port, "%d", p->port);
  char psql[256];
  snprintf(psql, sizeof psql, "%s/psql", p->bin);
  const char *q_argv[] = {
      psql, "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", port, "-U", "bench",
      "-d", "postgres", "-c",
      "CREATE TABLE account(id integer PRIMARY KEY, debits bigint NOT NULL DEFAULT 0,"
      " credits bigint NOT NULL DEFAULT 0);"
      "CREATE TABLE journal(id bigserial PRIMARY KEY, debit integer NOT NULL,"
      " credit integer NOT NULL, amount bigint NOT NULL,"
      " at timestamptz NOT NULL DEFAULT now());"
      "INSERT INTO account(id) SELECT generate_series(1, 10000);",
      "-c", "VACUUM ANALYZE account;", NULL};
  if (pg_run(p, 0, q_argv, NULL) != 0) return -1;
  char script[256];
  snprintf(script, sizeof script, "%s/transfer.sql", p->dir);
  FILE *f = fopen(script, "w");
  if (f == NULL) return -1;
  fputs(pg_script, f);
  fclose(f);
  return 0;
}

/* pgbench's TPS with `clients` clients for `seconds`; 0 on failure. */
static double pg_bench(pg *p, int clients, int seconds) {
  char port[16], c[16], t[16], script[256], pgbench[256];
  snprintf(port, sizeof port, "%d", p->port);
  snprintf(c, sizeof c, "%d", clients);
  snprintf(t, sizeof t, "%d", seconds);
  snprintf(script, sizeof script, "%s/transfer.sql", p->dir);
  snprintf(pgbench, sizeof pgbench, "%s/pgbench", p->bin);
  const char *argv[] = {pgbench, "-n", "-h", "127.0.0.1", "-p", port, "-U", "bench",
                        "-c", c, "-j", "2", "-T", t, "--max-tries=10", "-f", script,
                        "postgres", NULL};
  char *out = NULL;
  double tps = 0;
  if (pg_run(p, 0, argv, &out) == 0 && out) {
    const char *s = strstr(out, "tps = ");
    if (s) tps = atof(s + 6);
  }
  free(out);
  return tps;
}

static void pg_stop(pg *p) {
  char pg_ctl[256], data[256];
  snprintf(pg_ctl, sizeof pg_ctl, "%s/pg_ctl", p->bin);
  snprintf(data, sizeof data, "%s/data", p->dir);
  const char *argv[] = {pg_ctl, "-D", data, "-m", "fast", "-w", "stop", NULL};
  pg_run(p, 1, argv, NULL);
  if (getenv("HANSE_KEEP_DIRS") == NULL) {
    const char *rm[] = {"rm", "-rf", p->dir, NULL};
    pg_run(p, 0, rm, NULL);
  }
}

/* pgbench at each client count; the best so far in *best. */
static const int pg_clients[] = {4, 8};

static void pg_round(pg *p, int seconds, double *best) {
  for (size_t i = 0; i < sizeof pg_clients / sizeof pg_clients[0]; i++) {
    double tps = pg_bench(p, pg_clients[i], seconds);
    fprintf(stderr, "bench: PostgreSQL %d clients: %.0f transfers/s\n", pg_clients[i], tps);
    if (tps > *best) *best = tps;
  }
}

/* ---- main --------------------------------------------------------------- */

int bench_ledger_main(const char *hanse) {
  size_t total = getenv("HANSE_BENCH_LEDGER_TRANSFERS")
                     ? (size_t)atol(getenv("HANSE_BENCH_LEDGER_TRANSFERS"))
                     : 131072;
  int runs = getenv("HANSE_BENCH_LEDGER_RUNS") ? atoi(getenv("HANSE_BENCH_LEDGER_RUNS")) : 3;
  if (runs < 1 || runs > RUNS_MAX) runs = 3;
  int seconds = getenv("HANSE_BENCH_PG_SECONDS") ? atoi(getenv("HANSE_BENCH_PG_SECONDS")) : 10;
  if (seconds < 1) seconds = 10;
  int with_pg = !(getenv("HANSE_BENCH_PG") && strcmp(getenv("HANSE_BENCH_PG"), "0") == 0);
  if (total < (size_t)CLIENTS * PER_REQ) total = (size_t)CLIENTS * PER_REQ;

  pg p;
  memset(&p, 0, sizeof p);
  double pg_best = 0;
  if (with_pg) {
    if (pg_start(&p) != 0) {
      if (p.dir[0]) pg_stop(&p); /* a server that did start is stopped */
      IT_CHECK(!"PostgreSQL started");
    }
    pg_round(&p, seconds, &pg_best);
  }

  it_node n;
  static lclient cl[CLIENTS];
  setup(&n, hanse, cl);
  double rates[MODES][RUNS_MAX], cpu[MODES][RUNS_MAX], seq[MODES][RUNS_MAX], median[MODES];
  int failed = 0;
  /* Modes interleaved run by run: the machine's load drifts alike. */
  const char *only = getenv("HANSE_BENCH_LEDGER_MODES");
  for (int r = 0; r < runs; r++)
    for (int m = 0; m < MODES; m++) {
      if (only && strstr(only, mode_name[m]) == NULL) {
        rates[m][r] = cpu[m][r] = seq[m][r] = 0;
        continue;
      }
      double commit_us = 0;
      rates[m][r] = run(&n, cl, m, total, &cpu[m][r], &seq[m][r], &commit_us);
      failed |= rates[m][r] == 0;
      fprintf(stderr,
              "bench: ledger %s run %d: %.0f transfers/s, node CPU %.1f us/transfer "
              "(sequencer thread %.1f, committer thread %.1f)\n",
              mode_name[m], r + 1, rates[m][r], cpu[m][r], seq[m][r], commit_us);
    }
  it_stop(&n);

  if (with_pg) {
    pg_round(&p, seconds, &pg_best);
    pg_stop(&p);
  }
  size_t per_run = total / CLIENTS / PER_REQ * PER_REQ * CLIENTS;
  for (int m = 0; m < MODES; m++) {
    double sorted[RUNS_MAX], cpus[RUNS_MAX], seqs[RUNS_MAX];
    memcpy(sorted, rates[m], (size_t)runs * sizeof *sorted);
    qsort(sorted, (size_t)runs, sizeof *sorted, bench_cmp_double);
    median[m] = sorted[runs / 2];
    memcpy(cpus, cpu[m], (size_t)runs * sizeof *cpus);
    qsort(cpus, (size_t)runs, sizeof *cpus, bench_cmp_double);
    memcpy(seqs, seq[m], (size_t)runs * sizeof *seqs);
    qsort(seqs, (size_t)runs, sizeof *seqs, bench_cmp_double);
    printf("BENCH ledger_%s %.0f transfers/s (median of %d runs of %zu; %d clients, %d per "
           "transaction, %d transactions per signed batch%s)\n",
           mode_name[m], median[m], runs, per_run, CLIENTS, PER_TX, TXS_PER_REQ,
           m == TWO_PHASE ? "; pending, then posted by one ledger.post of 256 ids per transaction"
           : m == LINKED  ? "; chains of 4"
                          : "");
    printf("BENCH ledger_%s_node_cpu %.1f us/transfer (median; all the node's threads)\n",
           mode_name[m], cpus[runs / 2]);
    printf("BENCH ledger_%s_sequencer_cpu %.1f us/transfer (median; the thread that executes "
           "every block)\n",
           mode_name[m], seqs[runs / 2]);
  }
  if (with_pg) {
    printf("BENCH baseline_postgres_transfers %.0f transfers/s (PostgreSQL, pgbench, best of 4 "
           "and 8 clients, -j 2, before and after; fsync and synchronous_commit on; %d "
           "accounts)\n",
           pg_best, ACCOUNTS);
    for (int m = 0; m < MODES; m++)
      printf("BENCH ratio_ledger_%s_to_postgres %.1f (target >= 10)\n", mode_name[m],
             pg_best > 0 ? median[m] / pg_best : 0);
  }
  fflush(stdout);
  it_cleanup_all();
  return failed || (with_pg && pg_best <= 0) ? 1 : 0;
}
