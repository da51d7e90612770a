/*
 * cmd_demo.c -- `hanse demo`: three kinds of chain on one node, with
 * something to look at on each.
 *
 *   alliance      type alliance: the trade corridor's organisations --
 *                 manufacturer (ACME), platform, logistics, customs, bank
 *                 and a regulator. Block views are public; a transaction's
 *                 contents only to members whose role may read its data
 *                 class (production, transport, customs_inspection, ...).
 *   open          type open, no policy: anyone submits, everything is
 *                 public. The platform founded it; the consumer (Anna)
 *                 uses it with a key that belongs to no organisation.
 *   private-acme  type private: ACME alone; its departments (production,
 *                 quality, finance) are members its admin registers.
 *
 * Chain ids sort alliance < open < private-acme, and the node lists its
 * chains sorted by id, so the explorer's default chain (the first one
 * listed) is the alliance, whose blocks anyone may see.
 *
 * First run on a data directory: every actor gets a key file
 * <data>/keys/<name>.json (the six organisations' admin keys, the
 * consumer's, the three departments'), and each chain is created from a
 * genesis naming its founders with "type" and that type's default policy,
 * exactly as `hanse init --type` does (cli_genesis_set_type,
 * cli_init_chain). Later runs reuse the chains and keys; a founder's key
 * file missing beside an existing chain is an error, since nothing else
 * could sign for it.
 *
 * Then the node starts in this process (hanse_node_open) and, unless
 * --no-workload, a short story is played on each chain over HTTP with the
 * client library, as any other client would. Chains with a policy refuse
 * unsigned requests, so each step first makes its actor the client's
 * request signer (hanse_client_set_signer) and then signs its transaction
 * with the same key:
 *
 *   alliance      the bank issues the euro token EURT (skipped when it
 *                 exists) and funds the platform; the platform pays ACME
 *                 for an order; ACME anchors a quality certificate, logistics
 *                 a delivery note, customs an inspection report (each with
 *                 its data class); the platform pays out 20 transfers in one
 *                 signed batch; the balances as the bank reads them.
 *   open          the platform anchors the product's public record, the
 *                 consumer a product review.
 *   private-acme  ACME's admin registers the departments (skipped for those
 *                 registered already); production anchors a batch record,
 *                 finance an invoice (class financial).
 *
 * and finally "who can read what": the customs report read as the
 * regulator, customs, the bank and without a signature, its public proof,
 * and ACME's invoice read by finance and by the alliance's regulator (a
 * stranger on the private chain), with the HTTP status and code of each.
 *
 * Sequence numbers come from the node each time, so the story can be
 * replayed on the same chains; the anchored documents carry the time so
 * their digests are new each run, and they are written to <data>/docs/ so
 * that `hanse get anchor <file>` can check them.
 *
 * Signals: SIGINT and SIGTERM are blocked before the node starts its
 * threads (hanse_node_block_signals) and taken with sigwait after the
 * workload, so the node always shuts down between blocks. A signal that
 * arrives during the workload stops it at the next step.
 *
 * `--nodes 3`: a cluster on 127.0.0.1 instead (README, "A cluster of
 * three nodes", done for you). Only the alliance chain is clustered -- a
 * node replicates one chain (`hanse node --cluster`) -- and the open and
 * private chains are skipped in this mode. Layout:
 *
 *   <data>/keys/         the actors' keys, shared with the single-node demo
 *   <data>/nodeN/        node N's data directory: node.key, chains/alliance/
 *                        (and its raft/ log), node.log (its output)
 *
 * First run: a node key per node, then ONE alliance chain created in
 * node1 whose genesis lists the three node keys as "validators", and its
 * directory copied to node2 and node3 before any of them starts (the
 * genesis block carries its creator's signature and time, so it cannot be
 * made three times). Then the three nodes run as child processes (`hanse
 * node --cluster alliance --raft-id N --peers ...`, API ports PORT..PORT+2,
 * Raft ports PORT+1000..PORT+1002), started with an empty signal mask;
 * the demo waits for a ready leader, plays the alliance story against
 * node 1 (a follower forwards submissions to the leader), prints the three
 * explorers and, on SIGINT or SIGTERM, sends SIGTERM to each child by its
 * pid and waits for it (SIGKILL after 10 s). Raft stores the member list
 * in its log at the first start, so reruns must use the same --port.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sodium.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/env.h"
#include "chain/chain.h"
#include "cli/cli.h"
#include "cli/demo.h"
#include "crypto/hash.h"
#include "node/node.h"

const char cmd_demo_usage[] =
    "usage: hanse demo [--data DIR] [--port N] [--host ADDR] [--no-workload] [--nodes 3]\n"
    "\n"
    "Run a demo node with three chains. On first use it creates a key file\n"
    "per actor in DIR/keys/ and the chains:\n"
    "  alliance      an alliance chain of six organisations (manufacturer ACME,\n"
    "                platform, logistics, customs, bank, regulator): blocks\n"
    "                are public, a transaction's contents only to members whose\n"
    "                role may read its data class\n"
    "  open          an open chain: anyone submits, everything is public; the\n"
    "                platform and a consumer use it\n"
    "  private-acme  ACME's private chain: its departments (production, quality,\n"
    "                finance) are members registered by ACME's admin\n"
    "Then it starts the node, plays a short workload on each chain (a euro\n"
    "token, payments, anchored documents, a batch of 20 transfers, member\n"
    "registrations), shows who may read what, and keeps serving the API and\n"
    "the explorer (http://HOST:PORT/?chain=ID) until Ctrl-C. Running it again\n"
    "reuses the chains and keys. Read the alliance as a member with e.g.\n"
    "  hanse get tx ID --chain alliance --key DIR/keys/regulator.json\n"
    "\n"
    "options:\n"
    "  --data DIR       data directory (default ./data)\n"
    "  --port N         port (default 8080)\n"
    "  --host ADDR      address to listen on (default 127.0.0.1)\n"
    "  --no-workload    only start the node\n"
    "  --nodes 3        a cluster instead: three node processes on 127.0.0.1 in\n"
    "                   DIR/node1..3 replicating the alliance chain (its genesis\n"
    "                   lists the three node keys as validators; the open and\n"
    "                   private chains are skipped), API ports N, N+1, N+2, Raft\n"
    "                   ports N+1000..N+1002; rerun with the same --port\n";

const demo_actor actors[ACTOR_COUNT] = {
    [MANUFACTURER] = {"manufacturer", "acme-manufacturing", "ACME Manufacturing GmbH",
                      "manufacturer"},
    [PLATFORM] = {"platform", "shopeasy-platform", "ShopEasy Marketplace", "platform"},
    [LOGISTICS] = {"logistics", "swift-logistics", "Swift Logistics AG", "logistics"},
    [CUSTOMS] = {"customs", "eu-customs", "EU Customs Authority", "customs"},
    [BANK] = {"bank", "hansa-bank", "Hansa Bank AG", "bank"},
    [REGULATOR] = {"regulator", "market-surveillance", "Market Surveillance Authority",
                   "regulator"},
    [CONSUMER] = {"consumer", NULL, "Anna Schmidt", "consumer"},
    [PRODUCTION] = {"production", NULL, "ACME production", "department"},
    [QUALITY] = {"quality", NULL, "ACME quality assurance", "department"},
    [FINANCE] = {"finance", NULL, "ACME finance", "department"},
};

static const int departments[] = {PRODUCTION, QUALITY, FINANCE};
#define DEPARTMENT_COUNT ((int)(sizeof departments / sizeof departments[0]))

const demo_chain chains[CHAIN_COUNT] = {
    [ALLIANCE] = {"alliance",
                  "alliance",
                  {MANUFACTURER, PLATFORM, LOGISTICS, CUSTOMS, BANK, REGULATOR, -1},
                  "blocks public; transaction contents for members whose role may read "
                  "their class"},
    [OPEN] = {"open", "open", {PLATFORM, -1}, "everything public"},
    [PRIVATE] = {"private-acme", "private", {MANUFACTURER, -1},
                 "members only: the explorer shows the chain's status"},
};

/* ---- creation ---- */

static int founds(int c, int a) {
  for (int i = 0; chains[c].founders[i] >= 0; i++)
    if (chains[c].founders[i] == a) return 1;
  return 0;
}

/* Does this run serve chain c? A cluster replicates the alliance only. */
static int chain_on(const demo *d, int c) { return d->nodes == 1 || c == ALLIANCE; }

static int chain_exists_in(const char *dir, int c) {
  char db[DEMO_PATH_MAX + 64];
  snprintf(db, sizeof db, "%s/chains/%s/chain.db", dir, chains[c].id);
  return cli_exists(db);
}

static int chain_exists(const demo *d, int c) { return chain_exists_in(d->chain_dir, c); }

/* Data directory of cluster node i (0-based). */
static void node_dir(const demo *d, int i, char *out, size_t n) {
  snprintf(out, n, "%s/node%d", d->data, i + 1);
}

/* Read <data>/nodeN/node.key, or create it when `may_create` is set. */
static int node_key(demo *d, int i, int may_create, hanse_reject *rej) {
  char dir[DEMO_PATH_MAX], path[DEMO_PATH_MAX + 16];
  node_dir(d, i, dir, sizeof dir);
  snprintf(path, sizeof path, "%s/node.key", dir);
  if (cli_exists(path)) {
    d->node_keys[i] = cli_key_load(path, rej);
    return d->node_keys[i] ? HANSE_OK : HANSE_ERR(INVALID);
  }
  if (!may_create)
    return hanse_reject_set(rej, HANSE_ERR(INVALID),
                            "the cluster's chain exists but %s is missing (remove %s/node* to "
                            "start the cluster afresh)",
                            path, d->data);
  if (cli_mkdir_p(dir, 0700) != 0)
    return hanse_reject_set(rej, HANSE_ERR(IO), "cannot create %s: %s", dir, strerror(errno));
  d->node_keys[i] = sodium_malloc(sizeof *d->node_keys[i]);
  if (d->node_keys[i] == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  hanse_keypair_generate(d->node_keys[i]);
  int rc = hanse_keyfile_write(path, d->node_keys[i]);
  if (rc != HANSE_OK) return hanse_reject_set(rej, rc, "cannot write %s", path);
  return HANSE_OK;
}

/* Run argv (a program on PATH) and wait: 0 if it exited with status 0. */
static int run_wait(char *const argv[]) {
  pid_t pid;
  extern char **environ;
  if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ) != 0) return -1;
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* Copy node 1's new chain directory to the other nodes: every member must
 * start from the same genesis block. */
static int copy_chain(demo *d, int c, hanse_reject *rej) {
  char src[DEMO_PATH_MAX + 64];
  snprintf(src, sizeof src, "%s/chains/%s", d->chain_dir, chains[c].id);
  for (int i = 1; i < d->nodes; i++) {
    char dir[DEMO_PATH_MAX], dst[DEMO_PATH_MAX + 16];
    node_dir(d, i, dir, sizeof dir);
    snprintf(dst, sizeof dst, "%s/chains", dir);
    if (cli_mkdir_p(dst, 0700) != 0)
      return hanse_reject_set(rej, HANSE_ERR(IO), "cannot create %s: %s", dst, strerror(errno));
    char *argv[] = {"cp", "-R", src, dst, NULL};
    if (run_wait(argv) != 0)
      return hanse_reject_set(rej, HANSE_ERR(IO), "cannot copy %s to %s", src, dst);
  }
  return HANSE_OK;
}

/* Read <data>/keys/<name>.json, or create it when `may_create` is set. */
static int actor_key(demo *d, int a, int may_create, hanse_reject *rej) {
  char path[DEMO_PATH_MAX];
  snprintf(path, sizeof path, "%s/keys/%s.json", d->data, actors[a].name);
  if (cli_exists(path)) {
    d->keys[a] = cli_key_load(path, rej);
    return d->keys[a] ? HANSE_OK : HANSE_ERR(INVALID);
  }
  if (!may_create)
    return hanse_reject_set(rej, HANSE_ERR(INVALID),
                            "%s founds a chain in %s/chains/ but its key file %s is missing",
                            actors[a].name, d->data, path);
  d->keys[a] = sodium_malloc(sizeof *d->keys[a]);
  if (d->keys[a] == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  hanse_keypair_generate(d->keys[a]);
  int rc = hanse_keyfile_write(path, d->keys[a]);
  if (rc != HANSE_OK) return hanse_reject_set(rej, rc, "cannot write %s", path);
  return HANSE_OK;
}

/* The genesis of chain c: its founders, and "type" with that type's
 * default policy as `hanse init --type` adds it. NULL with rej filled. */
static json_t *demo_genesis(const demo *d, int c, hanse_reject *rej) {
  json_t *orgs = json_array();
  for (int i = 0; orgs && chains[c].founders[i] >= 0; i++) {
    int a = chains[c].founders[i];
    char hex[HANSE_HASH_HEX_BYTES];
    json_array_append_new(orgs, json_pack("{s:s, s:s, s:s, s:[s]}", "id", actors[a].org,
                                          "name", actors[a].title, "role", actors[a].role,
                                          "keys", hanse_pubkey_hex(hex, &d->keys[a]->pub)));
  }
  json_t *g = json_pack("{s:s, s:o}", "chain_id", chains[c].id, "organisations", orgs);
  if (g && d->nodes > 1) { /* every member's node key is a validator */
    json_t *vals = json_array();
    for (int i = 0; i < d->nodes; i++) {
      char hex[HANSE_HASH_HEX_BYTES];
      json_array_append_new(vals, json_string(hanse_pubkey_hex(hex, &d->node_keys[i]->pub)));
    }
    json_object_set_new(g, "validators", vals);
  }
  if (g == NULL) {
    hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
    return NULL;
  }
  if (cli_genesis_set_type(g, chains[c].type, rej) != HANSE_OK) {
    json_decref(g);
    return NULL;
  }
  if (c == OPEN) {
    /* The open chain believes the alliance's blocks: published product
     * records (trace.publish) arrive from there, relayed (peers). */
    char path[DEMO_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/chains/%s/genesis.json", d->chain_dir, chains[ALLIANCE].id);
    json_t *ga = json_load_file(path, 0, NULL);
    json_t *vals = json_object_get(ga, "validators");
    if (json_is_array(vals))
      json_object_set_new(g, "peers", json_pack("{s:O}", chains[ALLIANCE].id, vals));
    json_decref(ga);
  }
  return g;
}

static int demo_prepare(demo *d, hanse_reject *rej) {
  char keys[DEMO_PATH_MAX];
  snprintf(keys, sizeof keys, "%s/keys", d->data);
  if (cli_mkdir_p(keys, 0700) != 0)
    return hanse_reject_set(rej, HANSE_ERR(IO), "cannot create %s: %s", keys, strerror(errno));
  int exists[CHAIN_COUNT];
  for (int c = 0; c < CHAIN_COUNT; c++) exists[c] = chain_on(d, c) && chain_exists(d, c);
  if (d->nodes > 1) {
    for (int i = 0; i < d->nodes; i++) {
      int rc = node_key(d, i, !exists[ALLIANCE], rej);
      if (rc != HANSE_OK) return rc;
      char dir[DEMO_PATH_MAX];
      node_dir(d, i, dir, sizeof dir);
      if (exists[ALLIANCE] && !chain_exists_in(dir, ALLIANCE))
        return hanse_reject_set(rej, HANSE_ERR(INVALID),
                                "node 1 has the alliance chain but %s has no copy (remove "
                                "%s/node* to start the cluster afresh)",
                                dir, d->data);
    }
  }
  for (int a = 0; a < ACTOR_COUNT; a++) {
    int needed = 0; /* by a chain that exists: a new key could not sign for it */
    for (int c = 0; c < CHAIN_COUNT; c++) needed |= exists[c] && founds(c, a);
    int rc = actor_key(d, a, !needed, rej);
    if (rc != HANSE_OK) return rc;
  }
  int created = 0;
  for (int c = 0; c < CHAIN_COUNT; c++) {
    if (!chain_on(d, c)) continue;
    if (exists[c]) {
      printf("demo: reusing chain \"%s\" in %s\n", chains[c].id, d->chain_dir);
      continue;
    }
    json_t *g = demo_genesis(d, c, rej);
    if (g == NULL) return HANSE_ERR(INVALID);
    json_t *summary = NULL;
    int rc = cli_init_chain(d->chain_dir, g, &summary, rej);
    json_decref(g);
    if (rc != HANSE_OK) return rc;
    printf("demo: created chain \"%s\" (type %s) in %s, genesis %.16s...\n", chains[c].id,
           chains[c].type, d->chain_dir,
           json_string_value(json_object_get(summary, "genesis_hash")));
    json_decref(summary);
    if (d->nodes > 1) {
      rc = copy_chain(d, c, rej);
      if (rc != HANSE_OK) return rc;
      printf("demo: copied it to %s/node2..%d: validators are the %d node keys\n", d->data,
             d->nodes, d->nodes);
    }
    created++;
  }
  printf("demo: %s keys, one file per actor:\n", created ? "the" : "reusing the");
  for (int a = 0; a < ACTOR_COUNT; a++) {
    char hex[HANSE_HASH_HEX_BYTES];
    printf("  %-12s %-30s %.16s...  %s/%s.json\n", actors[a].name, actors[a].title,
           hanse_pubkey_hex(hex, &d->keys[a]->pub), keys, actors[a].name);
  }
  return HANSE_OK;
}

/* Every chain the node serves, with its type and what it shows. */
static void print_chains(const hanse_node *node) {
  printf("demo: the node serves %d chain%s:\n", node->chain_count,
         node->chain_count == 1 ? "" : "s");
  for (int i = 0; i < node->chain_count; i++) {
    json_t *g = node->chains[i].chain->genesis;
    const char *type = json_string_value(json_object_get(g, "type"));
    json_t *policy = json_object_get(g, "policy");
    int public_blocks = 0;
    size_t k;
    json_t *v;
    json_array_foreach(json_object_get(policy, "public"), k, v) {
      public_blocks |= json_is_string(v) && strcmp(json_string_value(v), "blocks") == 0;
    }
    size_t orgs = json_array_size(json_object_get(g, "organisations"));
    printf("  %-14s type %-11s %zu organisation%s; %s\n", node->chains[i].chain->chain_id,
           type ? type : "(none)", orgs, orgs == 1 ? "" : "s",
           policy == NULL     ? "no policy: any key submits, anyone reads"
           : public_blocks    ? "members submit; blocks public, contents by class and role"
                              : "members submit; members read, by class and role");
  }
}

/* ---- workload ---- */

static int stop_requested(void) {
  sigset_t s;
  sigemptyset(&s);
  sigpending(&s);
  return sigismember(&s, SIGINT) || sigismember(&s, SIGTERM);
}

const char *demo_pub_hex(const demo *d, int a, char out[HANSE_HASH_HEX_BYTES]) {
  return hanse_pubkey_hex(out, &d->keys[a]->pub);
}

static void amount_str(char *out, size_t n, uint64_t units) {
  cli_format_amount(out, n, units, DEMO_DECIMALS);
}

/* Make actor a (or nobody, a < 0) the signer of chain c's requests. */
hanse_client *demo_as(demo *d, int c, int a) {
  hanse_client_set_signer(d->client[c], a >= 0 ? d->keys[a] : NULL);
  return d->client[c];
}

/* One transaction on chain c as actor a, waited for; prints a line saying
 * what it did. Takes `payload`. If id is not NULL it receives the
 * transaction's id. */
int demo_step(demo *d, int c, int a, const char *kind, json_t *payload, const char *what,
                hanse_hash *id, hanse_reject *rej) {
  if (payload == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  if (stop_requested()) {
    json_decref(payload);
    return hanse_reject_code(rej, "demo.stopped", 0, "stopped by a signal");
  }
  hanse_client_op op = {kind, payload};
  json_t *result = NULL;
  int rc = cli_send(demo_as(d, c, a), d->keys[a], &op, 0, 1, &result, rej);
  json_t *first = json_array_get(json_object_get(result, "results"), 0);
  const char *txid = json_string_value(json_object_get(first, "id"));
  if (rc == HANSE_OK) {
    printf("  %-12s %-52s block %" JSON_INTEGER_FORMAT ", tx %.12s\n", actors[a].name, what,
           json_integer_value(json_object_get(first, "height")), txid ? txid : "?");
    if (id && (txid == NULL || hanse_hash_parse(id, txid) != HANSE_OK))
      rc = hanse_reject_code(rej, "client.bad_response", 0, "no transaction id in the answer");
  } else {
    hanse_reject_prefix(rej, "%s on %s: %s", actors[a].name, chains[c].id, what);
  }
  fflush(stdout);
  json_decref(result);
  json_decref(payload);
  return rc;
}

static int transfer(demo *d, int from, int to, uint64_t units, const char *memo,
                    hanse_reject *rej) {
  char hex[HANSE_HASH_HEX_BYTES], amount[40], what[128];
  amount_str(amount, sizeof amount, units);
  snprintf(what, sizeof what, "pays %s " DEMO_ASSET " to %s", amount, actors[to].name);
  json_t *p = json_pack("{s:s, s:s, s:I, s:s}", "asset", DEMO_ASSET, "to",
                        demo_pub_hex(d, to, hex), "amount", (json_int_t)units, "memo", memo);
  return demo_step(d, ALLIANCE, from, "asset.transfer", p, what, NULL, rej);
}

/* Write a document to <data>/docs/ and anchor its digest on chain c as
 * actor a, in data class `cls` (NULL: the notary's own, production).
 * Takes `meta`. */
static int anchor(demo *d, int c, int a, const char *file, const char *text, const char *cls,
                  json_t *meta, const char *what, hanse_hash *id, hanse_reject *rej) {
  char dir[DEMO_PATH_MAX], path[DEMO_PATH_MAX + 100];
  snprintf(dir, sizeof dir, "%s/docs", d->data);
  snprintf(path, sizeof path, "%s/%s", dir, file);
  FILE *f = cli_mkdir_p(dir, 0755) == 0 ? fopen(path, "w") : NULL;
  int ok = f && fputs(text, f) >= 0;
  if (f && fclose(f) != 0) ok = 0;
  if (!ok) {
    json_decref(meta);
    return hanse_reject_set(rej, HANSE_ERR(IO), "cannot write %s", path);
  }
  hanse_hash h;
  int rc = cli_hash_file(path, &h, rej);
  if (rc != HANSE_OK) {
    json_decref(meta);
    return rc;
  }
  char hex[HANSE_HASH_HEX_BYTES];
  json_t *p = json_pack("{s:s, s:s, s:o}", "hash", hanse_hash_hex(hex, &h), "name", file,
                        "meta", meta);
  if (p && cls) json_object_set_new(p, "class", json_string(cls));
  rc = demo_step(d, c, a, "notary.anchor", p, what, id, rej);
  if (rc == HANSE_OK && d->ndocs < DEMO_DOCS_MAX) {
    demo_doc *doc = &d->docs[d->ndocs++];
    doc->chain = c;
    doc->actor = a;
    snprintf(doc->file, sizeof doc->file, "%s", file);
  }
  return rc;
}

/* The bank asks (asset data is financial: the bank may read it). */
static int asset_exists(demo *d, int *exists, hanse_reject *rej) {
  const char *params[] = {"asset", DEMO_ASSET, NULL};
  json_t *doc = NULL;
  int rc = hanse_client_query(demo_as(d, ALLIANCE, BANK), "asset", "asset", params, &doc, rej);
  json_decref(doc);
  *exists = rc == HANSE_OK;
  if (rc == HANSE_ERR(NOT_FOUND)) return HANSE_OK;
  return rc;
}

static int payout_batch(demo *d, hanse_reject *rej) {
  static const int payees[] = {MANUFACTURER, LOGISTICS, CUSTOMS};
  const int npayees = (int)(sizeof payees / sizeof payees[0]);
  hanse_client_op ops[DEMO_BATCH_TXS];
  uint64_t total = 0;
  int rc = HANSE_OK;
  for (int i = 0; i < DEMO_BATCH_TXS; i++) {
    char hex[HANSE_HASH_HEX_BYTES], memo[64];
    uint64_t units = (uint64_t)(i + 1) * 100;
    total += units;
    snprintf(memo, sizeof memo, "payout %d of %d", i + 1, DEMO_BATCH_TXS);
    ops[i].kind = "asset.transfer";
    ops[i].payload = json_pack("{s:s, s:s, s:I, s:s}", "asset", DEMO_ASSET, "to",
                               demo_pub_hex(d, payees[i % npayees], hex), "amount",
                               (json_int_t)units, "memo", memo);
    if (ops[i].payload == NULL) rc = hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  }
  hanse_client *c = demo_as(d, ALLIANCE, PLATFORM);
  uint64_t seq = 0;
  hanse_buf batch;
  hanse_buf_init(&batch);
  json_t *result = NULL;
  if (rc == HANSE_OK && stop_requested())
    rc = hanse_reject_code(rej, "demo.stopped", 0, "stopped by a signal");
  if (rc == HANSE_OK) rc = hanse_client_next_seq(c, &d->keys[PLATFORM]->pub, &seq, rej);
  if (rc == HANSE_OK)
    rc = hanse_client_batch_build(c, ops, DEMO_BATCH_TXS, seq, d->keys[PLATFORM], &batch, NULL,
                                  rej);
  if (rc == HANSE_OK) {
    hanse_client_entry e = {HANSE_TYPE_BATCH, batch.data, batch.len};
    rc = hanse_client_submit(c, &e, 1, HANSE_SUBMIT_WAIT, 0, &result, rej);
  }
  if (rc == HANSE_OK) rc = hanse_client_result_check(result, 0, rej);
  if (rc == HANSE_OK) {
    char amount[40], what[128];
    amount_str(amount, sizeof amount, total);
    snprintf(what, sizeof what, "pays out %d transfers, %s " DEMO_ASSET ", in one batch",
             DEMO_BATCH_TXS, amount);
    json_t *first = json_array_get(json_object_get(result, "results"), 0);
    printf("  %-12s %-52s block %" JSON_INTEGER_FORMAT ", %zu txs\n", actors[PLATFORM].name,
           what, json_integer_value(json_object_get(first, "height")),
           json_array_size(json_object_get(result, "results")));
  } else if (strcmp(rej->code, "demo.stopped") != 0) {
    hanse_reject_prefix(rej, "platform on alliance: batch of %d transfers", DEMO_BATCH_TXS);
  }
  json_decref(result);
  hanse_buf_free(&batch);
  for (int i = 0; i < DEMO_BATCH_TXS; i++) json_decref(ops[i].payload);
  return rc;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* GET <url>/v1/chains/alliance/status; NULL if the node does not answer. */
static json_t *node_status(const char *url) {
  hanse_client *cl = NULL;
  hanse_reject r;
  hanse_reject_clear(&r);
  json_t *doc = NULL;
  if (hanse_client_create(url, chains[ALLIANCE].id, &cl, &r) == HANSE_OK)
    hanse_client_get(cl, "/v1/chains/alliance/status", &doc, &r);
  hanse_client_destroy(cl);
  return doc;
}

/* Cluster mode: a commit acknowledged by the leader reaches the followers
 * a moment later, and node 1, where the story reads, may be one of them.
 * Wait (up to 3 s) until every node reports the same height. */
static void catch_up(const demo *d) {
  for (int tries = 0; d->nodes > 1 && tries < 60; tries++) {
    json_int_t h0 = -1;
    int same = 1;
    for (int i = 0; i < d->nodes && same; i++) {
      json_t *s = node_status(d->urls[i]);
      json_int_t h = s ? json_integer_value(json_object_get(s, "height")) : -2;
      json_decref(s);
      if (i == 0) h0 = h;
      same = h >= 0 && h == h0;
    }
    if (same) return;
    sleep_ms(50);
  }
}

/* The founders' balances, as the bank reads them (financial data). */
static int print_balances(demo *d, hanse_reject *rej) {
  printf("\n  balances of " DEMO_ASSET " (read as the bank):\n");
  hanse_client *c = demo_as(d, ALLIANCE, BANK);
  for (int i = 0; chains[ALLIANCE].founders[i] >= 0; i++) {
    int a = chains[ALLIANCE].founders[i];
    char hex[HANSE_HASH_HEX_BYTES], amount[40];
    const char *params[] = {"asset", DEMO_ASSET, "owner", demo_pub_hex(d, a, hex), NULL};
    json_t *doc = NULL;
    int rc = hanse_client_query(c, "asset", "balance", params, &doc, rej);
    if (rc != HANSE_OK) return rc;
    amount_str(amount, sizeof amount,
               (uint64_t)json_integer_value(json_object_get(doc, "balance")));
    printf("  %-12s %-30s %18s\n", actors[a].name, actors[a].title, amount);
    json_decref(doc);
  }
  return HANSE_OK;
}

static int workload_alliance(demo *d, hanse_reject *rej) {
  char text[512], file[96], line[128];
  int exists = 0;
  printf("\ndemo: workload on \"alliance\" (an alliance of six organisations)\n");
  int rc = asset_exists(d, &exists, rej);
  if (rc == HANSE_OK && !exists) {
    uint64_t supply = 1000000000; /* 10,000,000.00 */
    char amount[40];
    amount_str(amount, sizeof amount, supply);
    snprintf(line, sizeof line, "issues %s " DEMO_ASSET " (euro token)", amount);
    rc = demo_step(d, ALLIANCE, BANK, "asset.issue",
              json_pack("{s:s, s:I, s:I, s:s}", "asset", DEMO_ASSET, "supply",
                        (json_int_t)supply, "decimals", (json_int_t)DEMO_DECIMALS, "name",
                        "Euro token of Hansa Bank"),
              line, NULL, rej);
  } else if (rc == HANSE_OK) {
    printf("  %-12s %s\n", actors[BANK].name, DEMO_ASSET " exists already: not issued again");
  }
  if (rc == HANSE_OK) rc = transfer(d, BANK, PLATFORM, 5000000, "working capital", rej);
  if (rc == HANSE_OK)
    rc = transfer(d, PLATFORM, MANUFACTURER, 1798800,
                  "purchase order PO-1001: 12 e-bikes EB-200", rej);
  if (rc == HANSE_OK) {
    snprintf(file, sizeof file, "quality-certificate-QC-%" PRIu64 ".txt", d->run_ms);
    snprintf(text, sizeof text,
             "ACME Manufacturing GmbH\nQuality certificate QC-%" PRIu64 "\n"
             "Product: e-bike EB-200, lot 4711 (purchase order PO-1001)\n"
             "Final inspection: passed (ISO 9001:2015)\n",
             d->run_ms);
    rc = anchor(d, ALLIANCE, MANUFACTURER, file, text, "production",
                json_pack("{s:s, s:s, s:s}", "type", "quality-certificate", "product",
                          "EB-200", "lot", "4711"),
                "anchors a quality certificate (production)", NULL, rej);
  }
  if (rc == HANSE_OK) {
    snprintf(file, sizeof file, "delivery-note-DN-%" PRIu64 ".txt", d->run_ms);
    snprintf(text, sizeof text,
             "Swift Logistics AG\nDelivery note DN-%" PRIu64 "\n"
             "PO-1001, 12 e-bikes EB-200, ACME Manufacturing -> ShopEasy warehouse Hamburg\n"
             "Delivered and signed for by the recipient\n",
             d->run_ms);
    rc = anchor(d, ALLIANCE, LOGISTICS, file, text, "transport",
                json_pack("{s:s, s:s}", "type", "delivery-note", "order", "PO-1001"),
                "anchors a delivery note (transport)", NULL, rej);
  }
  if (rc == HANSE_OK) {
    snprintf(file, sizeof file, "inspection-report-IR-%" PRIu64 ".txt", d->run_ms);
    snprintf(text, sizeof text,
             "EU Customs Authority\nInspection report IR-%" PRIu64 "\n"
             "Consignment PO-1001, 12 e-bikes EB-200, tariff code 8711 60 10\n"
             "Documents and goods inspected: no findings, released for free circulation\n",
             d->run_ms);
    rc = anchor(d, ALLIANCE, CUSTOMS, file, text, "customs_inspection",
                json_pack("{s:s, s:s}", "type", "inspection-report", "order", "PO-1001"),
                "anchors an inspection report (customs_inspection)", &d->customs_tx, rej);
    d->have_customs_tx = rc == HANSE_OK;
  }
  if (rc == HANSE_OK) rc = payout_batch(d, rej);
  catch_up(d);
  if (rc == HANSE_OK) rc = print_balances(d, rej);
  fflush(stdout);
  return rc;
}

static int workload_open(demo *d, hanse_reject *rej) {
  char text[512], file[96];
  printf("\ndemo: workload on \"open\" (anyone may submit and read)\n");
  snprintf(file, sizeof file, "product-record-EB-200-%" PRIu64 ".txt", d->run_ms);
  snprintf(text, sizeof text,
           "ShopEasy Marketplace\nProduct record EB-200 (%" PRIu64 ")\n"
           "E-bike EB-200 by ACME Manufacturing GmbH, lot 4711\n"
           "Quality certified and customs cleared (records on the alliance chain)\n",
           d->run_ms);
  int rc = anchor(d, OPEN, PLATFORM, file, text, NULL,
                  json_pack("{s:s, s:s}", "type", "product-record", "product", "EB-200"),
                  "anchors the product's public record", NULL, rej);
  if (rc == HANSE_OK) {
    snprintf(file, sizeof file, "review-EB-200-%" PRIu64 ".txt", d->run_ms);
    snprintf(text, sizeof text,
             "Review of the e-bike EB-200 by Anna Schmidt (%" PRIu64 ")\n"
             "5 of 5: arrived on time, rides beautifully.\n",
             d->run_ms);
    rc = anchor(d, OPEN, CONSUMER, file, text, NULL,
                json_pack("{s:s, s:s, s:i}", "type", "review", "product", "EB-200", "stars", 5),
                "anchors a product review", NULL, rej);
  }
  fflush(stdout);
  return rc;
}

/* One EPCIS event captured on the alliance by actor a. */
int demo_capture(demo *d, int a, json_t *event, const char *what, hanse_reject *rej) {
  json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:{s:[o]}}", "@context",
                          "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
                          "type", "EPCISDocument", "schemaVersion", "2.0", "creationDate",
                          json_string_value(json_object_get(event, "eventTime")), "epcisBody",
                          "eventList", event);
  return demo_step(d, ALLIANCE, a, "trace.capture", json_pack("{s:o}", "document", doc), what, NULL,
              rej);
}

/* "YYYY-MM-DDThh:mm:ss.000Z" of the run's time plus `hours`. */
const char *demo_at_hours(const demo *d, int hours, char out[32]) {
  time_t t = (time_t)(d->run_ms / 1000) + (time_t)hours * 3600;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
  return out;
}

json_t *demo_obj_event(const demo *d, int hours, const char *epc, const char *action,
                         const char *step, const char *disp, const char *where) {
  char t[32];
  return json_pack("{s:s, s:s, s:s, s:[s], s:s, s:s, s:s, s:{s:s}, s:{s:s}}", "type",
                   "ObjectEvent", "eventTime", demo_at_hours(d, hours, t), "eventTimeZoneOffset",
                   "+00:00", "epcList", epc, "action", action, "bizStep", step, "disposition",
                   disp, "readPoint", "id", where, "bizLocation", "id", where);
}

/* The e-bike's journey as EPCIS events on the alliance -- made, tested
 * and packed by ACME, shipped by Swift Logistics, inspected by customs,
 * received and stored at the platform's warehouse, delivered to Anna --
 * then the platform publishes its screened record to the open chain with
 * Anna as the buyer (hanse_client_trace_publish): the consumer page
 * /p/<path> shows it. Its serial is the run's time, so every run tells
 * the story of a new bike. */
static int workload_trace(demo *d, hanse_reject *rej) {
  char item[96], box[96], t[32];
  snprintf(item, sizeof item, "urn:epc:id:sgtin:4012345.011111.%" PRIu64, d->run_ms);
  snprintf(box, sizeof box, "urn:epc:id:sscc:4012345.%010" PRIu64, d->run_ms % UINT64_C(10000000000));
  const char *factory = "urn:epc:id:sgln:4012345.00001.0";
  const char *hub = "urn:epc:id:sgln:4012345.00009.0";
  const char *warehouse = "urn:epc:id:sgln:4098765.00001.0";
  printf("\ndemo: traceability of one e-bike (EPCIS 2.0 events on \"alliance\", its record "
         "published to \"open\")\n");
  json_t *e = demo_obj_event(d, -96, item, "ADD", "commissioning", "active", factory);
  json_object_set_new(e, "bizTransactionList",
                      json_pack("[{s:s, s:s}]", "type", "po", "bizTransaction",
                                "urn:epcglobal:cbv:bt:4012345000009:PO-1001"));
  int rc = demo_capture(d, MANUFACTURER, e, "makes e-bike EB-200 (commissioning)", rej);
  if (rc == HANSE_OK) {
    e = demo_obj_event(d, -95, item, "OBSERVE", "inspecting", "conformant", factory);
    json_object_set_new(e, "sensorElementList",
                        json_pack("[{s:{s:s}, s:[{s:s, s:f, s:s}]}]", "sensorMetadata", "time",
                                  demo_at_hours(d, -95, t), "sensorReport", "type",
                                  "ElectricPotential", "value", 36.2, "uom", "VLT"));
    rc = demo_capture(d, MANUFACTURER, e, "tests it: battery 36.2 V (inspecting)", rej);
  }
  if (rc == HANSE_OK)
    rc = demo_capture(d, MANUFACTURER,
                 json_pack("{s:s, s:s, s:s, s:s, s:[s], s:s, s:s, s:{s:s}}", "type",
                           "AggregationEvent", "eventTime", demo_at_hours(d, -94, t),
                           "eventTimeZoneOffset", "+00:00", "parentID", box, "childEPCs", item,
                           "action", "ADD", "bizStep", "packing", "readPoint", "id", factory),
                 "packs it into a shipping case (packing)", rej);
  if (rc == HANSE_OK) {
    e = demo_obj_event(d, -72, box, "OBSERVE", "shipping", "in_transit", factory);
    json_object_set_new(e, "destinationList",
                        json_pack("[{s:s, s:s}]", "type", "location", "destination", warehouse));
    rc = demo_capture(d, LOGISTICS, e, "ships the case to Hamburg (shipping)", rej);
  }
  if (rc == HANSE_OK) {
    e = demo_obj_event(d, -50, box, "OBSERVE", "inspecting", "conformant", hub);
    json_object_set_new(e, "bizTransactionList",
                        json_pack("[{s:s, s:s}]", "type", "customs_declaration",
                                  "bizTransaction", "urn:example:eu-customs:decl:CD-1001"));
    rc = demo_capture(d, CUSTOMS, e, "inspects and clears it (customs_inspection)", rej);
  }
  if (rc == HANSE_OK)
    rc = demo_capture(d, LOGISTICS, demo_obj_event(d, -30, box, "OBSERVE", "receiving", "in_progress",
                                         warehouse),
                 "hands it to the warehouse (receiving)", rej);
  if (rc == HANSE_OK)
    rc = demo_capture(d, LOGISTICS, demo_obj_event(d, -29, box, "OBSERVE", "storing",
                                         "sellable_accessible", warehouse),
                 "stores it (warehouse receipt)", rej);
  if (rc == HANSE_OK)
    rc = demo_capture(d, LOGISTICS, demo_obj_event(d, -2, item, "OBSERVE", "urn:example:hanse:bizstep:delivering",
                                         "urn:example:hanse:disp:delivered", warehouse),
                 "delivers the e-bike to Anna", rej);
  if (rc != HANSE_OK || d->nodes > 1) return rc; /* a cluster has no open chain */
  char buyer[HANSE_HASH_HEX_BYTES], epcs[200];
  hanse_hash bh;
  hanse_sha256(&bh, d->keys[CONSUMER]->pub.b, sizeof d->keys[CONSUMER]->pub.b);
  hanse_hash_hex(buyer, &bh);
  snprintf(epcs, sizeof epcs, "%s|%s", item, box);
  json_t *report = NULL;
  rc = hanse_client_trace_publish(d->client[ALLIANCE], d->client[OPEN], d->keys[PLATFORM], epcs,
                                  buyer, &report, rej);
  if (rc == HANSE_OK) {
    const char *product = json_string_value(json_object_get(report, "product"));
    const char *dl = "https://id.gs1.org/";
    if (product && strncmp(product, dl, strlen(dl)) == 0)
      snprintf(d->product_path, sizeof d->product_path, "%s", product + strlen(dl));
    printf("  %-12s publishes its record to \"open\": %" JSON_INTEGER_FORMAT
           " events, %zu left on the alliance (%s)\n",
           actors[PLATFORM].name, json_integer_value(json_object_get(report, "events")),
           json_array_size(json_object_get(report, "skipped")), "their class or an error declaration");
  } else {
    hanse_reject_prefix(rej, "platform publishing the e-bike's record");
  }
  json_decref(report);
  fflush(stdout);
  return rc;
}

/* Is department a registered on ACME's chain? Its admin asks (member
 * records are personal data, which admins may read). */
static int registered(demo *d, int a, int *yes, hanse_reject *rej) {
  char hex[HANSE_HASH_HEX_BYTES];
  const char *params[] = {"key", demo_pub_hex(d, a, hex), NULL};
  json_t *doc = NULL;
  int rc = hanse_client_query(demo_as(d, PRIVATE, MANUFACTURER), "member", "member", params, &doc,
                              rej);
  json_decref(doc);
  *yes = rc == HANSE_OK;
  if (rc == HANSE_ERR(NOT_FOUND)) return HANSE_OK;
  return rc;
}

static int workload_private(demo *d, hanse_reject *rej) {
  char text[512], file[96], what[128];
  int rc = HANSE_OK;
  printf("\ndemo: workload on \"private-acme\" (ACME and its departments)\n");
  for (int i = 0; rc == HANSE_OK && i < DEPARTMENT_COUNT; i++) {
    int a = departments[i], yes = 0;
    char hex[HANSE_HASH_HEX_BYTES];
    rc = registered(d, a, &yes, rej);
    if (rc != HANSE_OK) break;
    if (yes) {
      printf("  %-12s department %s is registered already\n", actors[MANUFACTURER].name,
             actors[a].name);
      continue;
    }
    snprintf(what, sizeof what, "registers the department %s", actors[a].name);
    rc = demo_step(d, PRIVATE, MANUFACTURER, "member.register",
              json_pack("{s:{s:s, s:s, s:[s], s:{s:s}, s:s}}", "member", "id", actors[a].name,
                        "kind", "department", "roles", actors[a].role, "attributes", "name",
                        actors[a].title, "key", demo_pub_hex(d, a, hex)),
              what, NULL, rej);
  }
  if (rc == HANSE_OK) {
    snprintf(file, sizeof file, "batch-record-BR-%" PRIu64 ".txt", d->run_ms);
    snprintf(text, sizeof text,
             "ACME Manufacturing GmbH, production\nBatch record BR-%" PRIu64 "\n"
             "Lot 4711: 12 e-bike frames EB-200 welded, painted and assembled\n",
             d->run_ms);
    rc = anchor(d, PRIVATE, PRODUCTION, file, text, NULL,
                json_pack("{s:s, s:s}", "type", "batch-record", "lot", "4711"),
                "anchors a batch record (production)", NULL, rej);
  }
  if (rc == HANSE_OK) {
    snprintf(file, sizeof file, "invoice-INV-%" PRIu64 ".txt", d->run_ms);
    snprintf(text, sizeof text,
             "ACME Manufacturing GmbH, finance\nInvoice INV-%" PRIu64 "\n"
             "To ShopEasy Marketplace: PO-1001, 12 e-bikes EB-200, EUR 17,988.00\n",
             d->run_ms);
    rc = anchor(d, PRIVATE, FINANCE, file, text, "financial",
                json_pack("{s:s, s:s}", "type", "invoice", "order", "PO-1001"),
                "anchors an invoice (financial)", &d->invoice_tx, rej);
    d->have_invoice_tx = rc == HANSE_OK;
  }
  fflush(stdout);
  return rc;
}

/* GET the transaction on chain c as actor a (a < 0: unsigned; proof: the
 * public /proof view) and print the answer's status and code. */
static void read_as(demo *d, int c, int a, const hanse_hash *id, int proof, const char *note) {
  hanse_reject r;
  hanse_reject_clear(&r);
  json_t *doc = NULL;
  hanse_client *cl = demo_as(d, c, a);
  int rc;
  if (proof) {
    char hex[HANSE_HASH_HEX_BYTES], path[200];
    snprintf(path, sizeof path, "/v1/chains/%s/txs/%s/proof", chains[c].id,
             hanse_hash_hex(hex, id));
    rc = hanse_client_get(cl, path, &doc, &r);
  } else {
    rc = hanse_client_tx_get(cl, id, &doc, &r);
  }
  json_decref(doc);
  char who[40];
  snprintf(who, sizeof who, "%s%s", a >= 0 ? actors[a].name : "unsigned",
           proof ? ", /proof" : "");
  if (rc == HANSE_OK)
    printf("    %-20s 200 %-20s %s\n", who, "ok", note);
  else
    printf("    %-20s %3d %-20s %s\n", who, r.status, r.code, r.message);
}

static void who_reads_what(demo *d) {
  char hex[HANSE_HASH_HEX_BYTES];
  if (d->have_customs_tx) {
    printf("\ndemo: who can read what (GET /v1/chains/alliance/txs/ID)\n"
           "  the customs inspection report on \"alliance\" (class customs_inspection)\n"
           "  tx %s\n",
           hanse_hash_hex(hex, &d->customs_tx));
    read_as(d, ALLIANCE, REGULATOR, &d->customs_tx, 0, "the regulator reads every class");
    read_as(d, ALLIANCE, CUSTOMS, &d->customs_tx, 0, "customs reads its own class");
    read_as(d, ALLIANCE, BANK, &d->customs_tx, 0, "");
    read_as(d, ALLIANCE, -1, &d->customs_tx, 0, "");
    read_as(d, ALLIANCE, -1, &d->customs_tx, 1,
            "receipt, header and Merkle path are public, the payload is not");
    printf("  try: hanse get tx %s --chain alliance --key %s/keys/regulator.json\n", hex,
           d->data);
  }
  if (d->have_invoice_tx) {
    printf("  ACME's invoice on \"private-acme\" (class financial)\n  tx %s\n",
           hanse_hash_hex(hex, &d->invoice_tx));
    read_as(d, PRIVATE, QUALITY, &d->invoice_tx, 0, "every department reads ACME's business data");
    read_as(d, PRIVATE, REGULATOR, &d->invoice_tx, 0, "");
  }
  for (int c = 0; c < CHAIN_COUNT; c++)
    if (d->client[c]) demo_as(d, c, -1);
  fflush(stdout);
}

static void print_docs(const demo *d) {
  if (d->ndocs == 0) return;
  printf("\n  anchored documents in %s/docs/ (check one: hanse get anchor %s/docs/FILE"
         " --chain CHAIN --key %s/keys/NAME.json):\n",
         d->data, d->data, d->data);
  for (int i = 0; i < d->ndocs; i++)
    printf("  %-14s %-12s %s\n", chains[d->docs[i].chain].id, actors[d->docs[i].actor].name,
           d->docs[i].file);
}

/* The story on every chain; a chain that fails does not stop the others
 * (a signal does). Returns HANSE_OK, or the last failure (printed). */
static int workload(demo *d) {
  static int (*const stories[CHAIN_COUNT])(demo *, hanse_reject *) = {
      [ALLIANCE] = workload_alliance, [OPEN] = workload_open, [PRIVATE] = workload_private};
  int failed = HANSE_OK;
  for (int c = 0; c < CHAIN_COUNT; c++) {
    if (!chain_on(d, c)) continue;
    hanse_reject rej;
    hanse_reject_clear(&rej);
    int rc = stories[c](d, &rej);
    if (rc == HANSE_OK && c == ALLIANCE) rc = workload_trace(d, &rej);
    if (rc == HANSE_OK && c == ALLIANCE) rc = demo_workload_books(d, &rej);
    if (rc == HANSE_OK) continue;
    if (strcmp(rej.code, "demo.stopped") == 0) return rc;
    cli_fail(&rej); /* keep serving: the explorer shows what did happen */
    failed = rc;
  }
  catch_up(d);
  who_reads_what(d);
  print_docs(d);
  fflush(stdout);
  return failed;
}

/* ---- cluster mode ---- */

/* Start node i as a child: `hanse node --cluster alliance ...`, its output
 * appended to <data>/nodeN/node.log, with the default signal mask and
 * dispositions (this process blocks SIGINT/SIGTERM and ignores SIGPIPE,
 * and exec would pass both on). */
static int cluster_spawn(demo *d, int i, const char *host, const char *peers, hanse_reject *rej) {
  char exe[DEMO_PATH_MAX], dir[DEMO_PATH_MAX], log[DEMO_PATH_MAX + 16], port[16], id[16];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return hanse_reject_set(rej, HANSE_ERR(IO), "cannot find this program's path");
  exe[n] = 0;
  node_dir(d, i, dir, sizeof dir);
  snprintf(log, sizeof log, "%s/node.log", dir);
  snprintf(port, sizeof port, "%d", atoi(strrchr(d->urls[i], ':') + 1));
  snprintf(id, sizeof id, "%d", i + 1);
  char *argv[] = {exe,         "node",      "--data", dir,     "--host",  (char *)host,
                  "--port",    port,        "--cluster", "alliance", "--raft-id", id,
                  "--peers",   (char *)peers, NULL};
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log, O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
  posix_spawnattr_init(&at);
  sigset_t none, dflt;
  sigemptyset(&none);
  sigemptyset(&dflt);
  sigaddset(&dflt, SIGPIPE);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setsigdefault(&at, &dflt);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  extern char **environ;
  int err = posix_spawn(&d->pids[i], exe, &fa, &at, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  if (err != 0) {
    d->pids[i] = 0;
    return hanse_reject_set(rej, HANSE_ERR(IO), "cannot start node %d: %s", i + 1, strerror(err));
  }
  printf("demo: node %d started, pid %d, API %s, log %s\n", i + 1, (int)d->pids[i], d->urls[i],
         log);
  return HANSE_OK;
}

/* A child that has exited: reaped and reported. Returns its index or -1. */
static int cluster_reap(demo *d) {
  for (int i = 0; i < d->nodes; i++) {
    int st = 0;
    if (d->pids[i] > 0 && waitpid(d->pids[i], &st, WNOHANG) == d->pids[i]) {
      fprintf(stderr, "demo: node %d (pid %d) exited with status %d; see %s/node%d/node.log\n",
              i + 1, (int)d->pids[i], WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
              d->data, i + 1);
      d->pids[i] = 0;
      return i;
    }
  }
  return -1;
}

/* SIGTERM to every child by its pid, then wait for each (SIGKILL after
 * DEMO_STOP_WAIT_MS). */
static void cluster_stop(demo *d) {
  for (int i = 0; i < d->nodes; i++)
    if (d->pids[i] > 0) kill(d->pids[i], SIGTERM);
  for (int i = 0; i < d->nodes; i++) {
    for (int waited = 0; d->pids[i] > 0; waited += 20) {
      int st = 0;
      pid_t r = waitpid(d->pids[i], &st, WNOHANG);
      if (r == d->pids[i] || (r < 0 && errno != EINTR)) {
        d->pids[i] = 0;
        break;
      }
      if (waited == DEMO_STOP_WAIT_MS) {
        fprintf(stderr, "demo: node %d does not stop, killing it\n", i + 1);
        kill(d->pids[i], SIGKILL);
      }
      sleep_ms(20);
    }
  }
}

/* Wait for a ready leader; its index, or -1 (a child died, a signal, or
 * DEMO_LEADER_WAIT_MS passed). */
static int cluster_leader(demo *d) {
  for (int waited = 0; waited < DEMO_LEADER_WAIT_MS && !stop_requested(); waited += 100) {
    if (cluster_reap(d) >= 0) return -1;
    for (int i = 0; i < d->nodes; i++) {
      json_t *s = node_status(d->urls[i]);
      json_t *c = json_object_get(s, "cluster");
      const char *role = json_string_value(json_object_get(c, "role"));
      int ok = role && strcmp(role, "leader") == 0 && json_is_true(json_object_get(c, "ready"));
      json_decref(s);
      if (ok) return i;
    }
    sleep_ms(100);
  }
  return -1;
}

/* Each node's role and height, and its explorer. */
static void cluster_print(const demo *d) {
  printf("\nExplorer of each node (Ctrl-C stops all three):\n");
  for (int i = 0; i < d->nodes; i++) {
    json_t *s = node_status(d->urls[i]);
    const char *role =
        json_string_value(json_object_get(json_object_get(s, "cluster"), "role"));
    printf("  node %d  %s/?chain=alliance   %-9s height %" JSON_INTEGER_FORMAT "\n", i + 1,
           d->urls[i], role ? role : "(no answer)", json_integer_value(json_object_get(s, "height")));
    json_decref(s);
  }
  fflush(stdout);
}

/* `hanse demo --nodes N`: prepare (done by the caller), start, play,
 * serve until a signal, stop the children. *failed is set when the story
 * failed (printed; the nodes were served anyway). */
static int demo_cluster(demo *d, const char *host, int port, int play, int *failed,
                        hanse_reject *rej) {
  /* Raft addresses are IPv4 (cluster_config.c); the URLs reach the API on
   * the loopback address unless --host names another. */
  const char *reach = strcmp(host, "0.0.0.0") == 0 ? "127.0.0.1" : host;
  char peers[1024];
  size_t pl = 0;
  for (int i = 0; i < d->nodes; i++) {
    snprintf(d->urls[i], sizeof d->urls[i], "http://%s:%d", reach, port + i);
    pl += (size_t)snprintf(peers + pl, sizeof peers - pl, "%s%d@127.0.0.1:%d@%s", i ? "," : "",
                           i + 1, port + DEMO_RAFT_PORT_OFFSET + i, d->urls[i]);
  }
  hanse_node_block_signals(); /* taken by sigwait below; children get none blocked */
  int rc = HANSE_OK;
  for (int i = 0; rc == HANSE_OK && i < d->nodes; i++) rc = cluster_spawn(d, i, host, peers, rej);
  fflush(stdout);
  int leader = rc == HANSE_OK ? cluster_leader(d) : -1;
  if (rc == HANSE_OK && leader < 0) {
    rc = stop_requested() ? hanse_reject_code(rej, "demo.stopped", 0, "stopped by a signal")
                          : hanse_reject_set(rej, HANSE_ERR(INTERNAL),
                                             "no leader within %d s; see %s/node*/node.log",
                                             DEMO_LEADER_WAIT_MS / 1000, d->data);
  }
  if (rc == HANSE_OK) {
    printf("demo: cluster of %d nodes, leader node %d; the story goes to node 1 (%s)\n",
           d->nodes, leader + 1, leader == 0 ? "the leader" : "a follower: it forwards");
    fflush(stdout);
    if (play) {
      rc = hanse_client_create(d->urls[0], chains[ALLIANCE].id, &d->client[ALLIANCE], rej);
      if (rc == HANSE_OK) rc = workload(d);
      else cli_fail(rej);
      hanse_client_destroy(d->client[ALLIANCE]);
      d->client[ALLIANCE] = NULL;
      *failed = rc != HANSE_OK && !stop_requested();
      rc = HANSE_OK;
    }
    cluster_print(d);
    if (!stop_requested()) {
      int sig = hanse_node_wait_signal();
      fprintf(stderr, "demo: signal %d, stopping the nodes\n", sig);
    }
  }
  cluster_stop(d);
  return rc;
}

/* ---- the command ---- */

int cmd_demo(int argc, char **argv) {
  cli_opt opts[] = {{"data", "DIR", NULL, 0},
                    {"port", "N", NULL, 0},
                    {"host", "ADDR", NULL, 0},
                    {"no-workload", NULL, NULL, 0},
                    {"nodes", "N", NULL, 0},
                    {NULL, NULL, NULL, 0}};
  const char *pos[CLI_POSITIONAL_MAX];
  int rc = cli_parse("demo", cmd_demo_usage, opts, argc - 1, argv + 1, pos, 0, 0, NULL);
  if (rc != CLI_GO) return rc;
  uint64_t port = 8080;
  const char *port_s = cli_opt_str(opts, "port", NULL);
  if (port_s && !cli_parse_u64(port_s, 65535, &port))
    return cli_usage_error("demo", "--port must be an integer from 0 to 65535");
  const char *host = cli_opt_str(opts, "host", "127.0.0.1");
  uint64_t nodes = 1;
  const char *nodes_s = cli_opt_str(opts, "nodes", NULL);
  if (nodes_s && (!cli_parse_u64(nodes_s, DEMO_NODES_MAX, &nodes) ||
                  (nodes != 1 && nodes != DEMO_NODES_MAX)))
    return cli_usage_error("demo", "--nodes must be 1 or %d", DEMO_NODES_MAX);
  if (nodes > 1 && (port == 0 || port + DEMO_RAFT_PORT_OFFSET + nodes > 65535))
    return cli_usage_error("demo", "--nodes %d needs --port from 1 to %d", (int)nodes,
                           65535 - DEMO_RAFT_PORT_OFFSET - (int)nodes);
  if (nodes > 1 && strchr(host, ':'))
    return cli_usage_error("demo", "--nodes %d listens on IPv4 only", (int)nodes);

  demo d;
  memset(&d, 0, sizeof d);
  d.data = cli_opt_str(opts, "data", "data");
  d.nodes = (int)nodes;
  if (nodes > 1)
    snprintf(d.chain_dir, sizeof d.chain_dir, "%s/node1", d.data);
  else
    snprintf(d.chain_dir, sizeof d.chain_dir, "%s", d.data);
  d.run_ms = hanse_now_ms(hanse_env_system());
  hanse_reject rej;
  hanse_reject_clear(&rej);
  hanse_node *node = NULL;
  int failed = 0;
  rc = demo_prepare(&d, &rej);
  if (rc != HANSE_OK) goto done;
  fflush(stdout);
  if (d.nodes > 1) {
    rc = demo_cluster(&d, host, (int)port, !cli_opt_set(opts, "no-workload"), &failed, &rej);
    goto done;
  }

  /* Before the node starts any thread: its threads inherit the mask. */
  hanse_node_block_signals();
  hanse_node_config cfg = {.data_dir = d.data, .host = host, .port = (int)port};
  rc = hanse_node_open(&cfg, &node, &rej);
  if (rc != HANSE_OK) goto done;
  /* Reach a wildcard listener through the loopback address. */
  const char *reach = strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 ? "127.0.0.1"
                                                                              : host;
  char url[160];
  snprintf(url, sizeof url, strchr(reach, ':') ? "http://[%s]:%d" : "http://%s:%d", reach,
           node->port);
  printf("demo: node serving at %s\n", url);
  print_chains(node);
  fflush(stdout);

  if (!cli_opt_set(opts, "no-workload")) {
    for (int c = 0; rc == HANSE_OK && c < CHAIN_COUNT; c++)
      rc = hanse_client_create(url, chains[c].id, &d.client[c], &rej);
    if (rc == HANSE_OK) rc = workload(&d);
    else cli_fail(&rej);
    for (int c = 0; c < CHAIN_COUNT; c++) {
      hanse_client_destroy(d.client[c]);
      d.client[c] = NULL;
    }
    failed = rc != HANSE_OK && !stop_requested();
    rc = HANSE_OK;
  }
  printf("\nExplorer (Ctrl-C to stop):\n");
  for (int i = 0; i < node->chain_count; i++) {
    const char *id = node->chains[i].chain->chain_id;
    const char *about = "";
    for (int c = 0; c < CHAIN_COUNT; c++)
      if (strcmp(id, chains[c].id) == 0) about = chains[c].about;
    printf("  %s/?chain=%-14s %s%s\n", url, id, about, i == 0 ? " (the default)" : "");
  }
  if (d.product_path[0])
    printf("Consumer page of the e-bike (its QR code there; Anna's key: %s/keys/consumer.json):\n"
           "  %s/p/%s\n",
           d.data, url, d.product_path);
  fflush(stdout);
  int sig = hanse_node_wait_signal();
  fprintf(stderr, "demo: signal %d, stopping the node\n", sig);

done:
  hanse_node_close(node);
  for (int a = 0; a < ACTOR_COUNT; a++) cli_key_free(d.keys[a]);
  for (int i = 0; i < DEMO_NODES_MAX; i++) cli_key_free(d.node_keys[i]);
  if (rc != HANSE_OK) return cli_fail(&rej);
  return failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
