/*
 * cmd_demo.c -- `hanse demo`: a consortium on one machine, with something
 * to look at.
 *
 * First run on a data directory: six organisations of a small supply
 * chain -- manufacturer, platform, logistics, customs, bank, consumer --
 * each get a key file in <data>/keys/<role>.json, a genesis names them,
 * and the chain "demo" is created (cli_init_chain, as `hanse init`).
 * Later runs find the chain and reuse the keys.
 *
 * Then the node starts in this process (hanse_node_open) and, unless
 * --no-workload, a short story is played against it over HTTP with the
 * client library, as any other client would: the bank issues the euro
 * token EURT (skipped when it exists already) and funds the platform and
 * the consumer; the manufacturer anchors a quality certificate; the
 * consumer pays the platform; logistics anchors a delivery note; the
 * platform pays out 20 small transfers in one signed batch. Sequence
 * numbers come from the node each time, so the story can be replayed on
 * the same chain; the anchored documents carry the time so their digests
 * are new each run, and they are written to <data>/docs/ so that
 * `hanse get anchor <file>` can check them.
 *
 * Signals: SIGINT and SIGTERM are blocked before the node starts its
 * threads (hanse_node_block_signals) and taken with sigwait after the
 * workload, so the node always shuts down between blocks. A signal that
 * arrives during the workload stops it at the next step.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "base/env.h"
#include "cli/cli.h"
#include "node/node.h"

const char cmd_demo_usage[] =
    "usage: hanse demo [--data DIR] [--port N] [--host ADDR] [--no-workload]\n"
    "\n"
    "Run a demo consortium: on first use, create six organisations\n"
    "(manufacturer, platform, logistics, customs, bank, consumer) with key\n"
    "files in DIR/keys/, and the chain \"demo\"; then start the node, play a\n"
    "short workload (a euro token, payments, anchored documents, a batch of\n"
    "20 transfers) and keep serving the API and explorer until Ctrl-C.\n"
    "Running it again reuses the chain and keys.\n"
    "\n"
    "options:\n"
    "  --data DIR       data directory (default ./data)\n"
    "  --port N         port (default 8080)\n"
    "  --host ADDR      address to listen on (default 127.0.0.1)\n"
    "  --no-workload    only start the node\n";

#define DEMO_CHAIN "demo"
#define DEMO_ASSET "EURT"
#define DEMO_DECIMALS 2
#define DEMO_BATCH_TXS 20

enum { MANUFACTURER, PLATFORM, LOGISTICS, CUSTOMS, BANK, CONSUMER, ROLE_COUNT };

static const struct {
  const char *role, *org_id, *name;
} roles[ROLE_COUNT] = {
    [MANUFACTURER] = {"manufacturer", "acme-manufacturing", "ACME Manufacturing GmbH"},
    [PLATFORM] = {"platform", "shopeasy-platform", "ShopEasy Marketplace"},
    [LOGISTICS] = {"logistics", "swift-logistics", "Swift Logistics AG"},
    [CUSTOMS] = {"customs", "eu-customs", "EU Customs Authority"},
    [BANK] = {"bank", "hansa-bank", "Hansa Bank AG"},
    [CONSUMER] = {"consumer", "consumer-anna", "Anna Schmidt"},
};

typedef struct demo {
  const char *data;
  hanse_keypair *keys[ROLE_COUNT]; /* sodium_malloc'd */
  hanse_client *client;
  uint64_t run_ms;                 /* makes this run's documents unique */
} demo;

/* ---- creation ---- */

/* Read <data>/keys/<role>.json, or create it when `create` is set. */
static int role_key(demo *d, int r, int create, hanse_reject *rej) {
  char path[1100];
  snprintf(path, sizeof path, "%s/keys/%s.json", d->data, roles[r].role);
  if (cli_exists(path) || !create) {
    d->keys[r] = cli_key_load(path, rej);
    if (d->keys[r] == NULL && !create)
      hanse_reject_prefix(rej, "the demo chain exists but its keys do not");
    return d->keys[r] ? HANSE_OK : HANSE_ERR(INVALID);
  }
  d->keys[r] = sodium_malloc(sizeof *d->keys[r]);
  if (d->keys[r] == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  hanse_keypair_generate(d->keys[r]);
  int rc = hanse_keyfile_write(path, d->keys[r]);
  if (rc != HANSE_OK) return hanse_reject_set(rej, rc, "cannot write %s", path);
  return HANSE_OK;
}

static json_t *demo_genesis(const demo *d) {
  json_t *orgs = json_array();
  for (int r = 0; r < ROLE_COUNT; r++) {
    char hex[HANSE_HASH_HEX_BYTES];
    json_array_append_new(orgs, json_pack("{s:s, s:s, s:s, s:[s]}", "id", roles[r].org_id,
                                          "name", roles[r].name, "role", roles[r].role,
                                          "keys", hanse_pubkey_hex(hex, &d->keys[r]->pub)));
  }
  return json_pack("{s:s, s:o}", "chain_id", DEMO_CHAIN, "organisations", orgs);
}

static int demo_prepare(demo *d, hanse_reject *rej) {
  char db[1100], keys[1100];
  snprintf(db, sizeof db, "%s/chains/" DEMO_CHAIN "/chain.db", d->data);
  snprintf(keys, sizeof keys, "%s/keys", d->data);
  int exists = cli_exists(db);
  if (!exists && cli_mkdir_p(keys, 0700) != 0)
    return hanse_reject_set(rej, HANSE_ERR(IO), "cannot create %s: %s", keys, strerror(errno));
  for (int r = 0; r < ROLE_COUNT; r++) {
    int rc = role_key(d, r, !exists, rej);
    if (rc != HANSE_OK) return rc;
  }
  if (exists) {
    printf("demo: reusing chain \"" DEMO_CHAIN "\" and keys in %s\n", d->data);
    return HANSE_OK;
  }
  json_t *g = demo_genesis(d);
  if (g == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  json_t *summary = NULL;
  int rc = cli_init_chain(d->data, g, &summary, rej);
  json_decref(g);
  if (rc != HANSE_OK) return rc;
  printf("demo: created chain \"" DEMO_CHAIN "\" in %s (genesis %.16s..., node key %.16s...)\n",
         d->data, json_string_value(json_object_get(summary, "genesis_hash")),
         json_string_value(json_object_get(summary, "node_key")));
  for (int r = 0; r < ROLE_COUNT; r++) {
    char hex[HANSE_HASH_HEX_BYTES];
    printf("  %-12s %-20s %s  %s/keys/%s.json\n", roles[r].role, roles[r].org_id,
           hanse_pubkey_hex(hex, &d->keys[r]->pub), d->data, roles[r].role);
  }
  json_decref(summary);
  return HANSE_OK;
}

/* ---- workload ---- */

static int stop_requested(void) {
  sigset_t s;
  sigemptyset(&s);
  sigpending(&s);
  return sigismember(&s, SIGINT) || sigismember(&s, SIGTERM);
}

static const char *pub_hex(const demo *d, int r, char out[HANSE_HASH_HEX_BYTES]) {
  return hanse_pubkey_hex(out, &d->keys[r]->pub);
}

static void amount_str(char *out, size_t n, uint64_t units) {
  cli_format_amount(out, n, units, DEMO_DECIMALS);
}

/* One transaction as role r, waited for; prints a line saying what it did. */
static int step(demo *d, int r, const char *kind, json_t *payload, const char *what,
                hanse_reject *rej) {
  if (stop_requested())
    return hanse_reject_code(rej, "demo.stopped", 0, "stopped by a signal");
  hanse_client_op op = {kind, payload};
  json_t *result = NULL;
  int rc = cli_send(d->client, d->keys[r], &op, 0, 1, &result, rej);
  json_t *first = json_array_get(json_object_get(result, "results"), 0);
  if (rc == HANSE_OK)
    printf("  %-12s %-50s block %" JSON_INTEGER_FORMAT ", tx %.12s\n", roles[r].role, what,
           json_integer_value(json_object_get(first, "height")),
           json_string_value(json_object_get(first, "id")));
  else
    hanse_reject_prefix(rej, "%s: %s", roles[r].role, what);
  fflush(stdout);
  json_decref(result);
  json_decref(payload);
  return rc;
}

static int transfer(demo *d, int from, int to, uint64_t units, const char *memo,
                    hanse_reject *rej) {
  char hex[HANSE_HASH_HEX_BYTES], amount[40], what[128];
  amount_str(amount, sizeof amount, units);
  snprintf(what, sizeof what, "pays %s " DEMO_ASSET " to %s", amount, roles[to].role);
  json_t *p = json_pack("{s:s, s:s, s:I, s:s}", "asset", DEMO_ASSET, "to",
                        pub_hex(d, to, hex), "amount", (json_int_t)units, "memo", memo);
  return step(d, from, "asset.transfer", p, what, rej);
}

/* Write a document to <data>/docs/ and anchor its digest as role r. */
static int anchor(demo *d, int r, const char *file, const char *text, json_t *meta,
                  const char *what, hanse_reject *rej) {
  char dir[1100], path[1300];
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
  return step(d, r, "notary.anchor", p, what, rej);
}

static int asset_exists(demo *d, int *exists, hanse_reject *rej) {
  const char *params[] = {"asset", DEMO_ASSET, NULL};
  json_t *doc = NULL;
  int rc = hanse_client_query(d->client, "asset", "asset", params, &doc, rej);
  json_decref(doc);
  *exists = rc == HANSE_OK;
  if (rc == HANSE_ERR(NOT_FOUND)) return HANSE_OK;
  return rc;
}

static int payout_batch(demo *d, hanse_reject *rej) {
  static const int payees[] = {MANUFACTURER, LOGISTICS, CUSTOMS, CONSUMER};
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
                               pub_hex(d, payees[i % 4], hex), "amount", (json_int_t)units,
                               "memo", memo);
    if (ops[i].payload == NULL) rc = hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  }
  uint64_t seq = 0;
  hanse_buf batch;
  hanse_buf_init(&batch);
  json_t *result = NULL;
  if (rc == HANSE_OK && stop_requested())
    rc = hanse_reject_code(rej, "demo.stopped", 0, "stopped by a signal");
  if (rc == HANSE_OK) rc = hanse_client_next_seq(d->client, &d->keys[PLATFORM]->pub, &seq, rej);
  if (rc == HANSE_OK)
    rc = hanse_client_batch_build(d->client, ops, DEMO_BATCH_TXS, seq, d->keys[PLATFORM],
                                  &batch, NULL, rej);
  if (rc == HANSE_OK) {
    hanse_client_entry e = {HANSE_TYPE_BATCH, batch.data, batch.len};
    rc = hanse_client_submit(d->client, &e, 1, HANSE_SUBMIT_WAIT, 0, &result, rej);
  }
  if (rc == HANSE_OK) rc = hanse_client_result_check(result, 0, rej);
  if (rc == HANSE_OK) {
    char amount[40], what[128];
    amount_str(amount, sizeof amount, total);
    snprintf(what, sizeof what, "pays out %d transfers, %s " DEMO_ASSET ", in one batch",
             DEMO_BATCH_TXS, amount);
    json_t *first = json_array_get(json_object_get(result, "results"), 0);
    printf("  %-12s %-50s block %" JSON_INTEGER_FORMAT ", %zu txs\n", roles[PLATFORM].role,
           what, json_integer_value(json_object_get(first, "height")),
           json_array_size(json_object_get(result, "results")));
  } else {
    hanse_reject_prefix(rej, "platform: batch of %d transfers", DEMO_BATCH_TXS);
  }
  json_decref(result);
  hanse_buf_free(&batch);
  for (int i = 0; i < DEMO_BATCH_TXS; i++) json_decref(ops[i].payload);
  return rc;
}

static int print_balances(demo *d, hanse_reject *rej) {
  printf("\n  balances of " DEMO_ASSET ":\n");
  for (int r = 0; r < ROLE_COUNT; r++) {
    char hex[HANSE_HASH_HEX_BYTES], amount[40];
    const char *params[] = {"asset", DEMO_ASSET, "owner", pub_hex(d, r, hex), NULL};
    json_t *doc = NULL;
    int rc = hanse_client_query(d->client, "asset", "balance", params, &doc, rej);
    if (rc != HANSE_OK) return rc;
    amount_str(amount, sizeof amount,
               (uint64_t)json_integer_value(json_object_get(doc, "balance")));
    printf("  %-12s %-20s %18s\n", roles[r].role, roles[r].org_id, amount);
    json_decref(doc);
  }
  return HANSE_OK;
}

static int workload(demo *d, hanse_reject *rej) {
  char text[512], cert[96], note[96], line[128];
  int exists = 0;
  printf("\ndemo: workload\n");
  int rc = asset_exists(d, &exists, rej);
  if (rc == HANSE_OK && !exists) {
    uint64_t supply = 1000000000; /* 10,000,000.00 */
    char amount[40];
    amount_str(amount, sizeof amount, supply);
    snprintf(line, sizeof line, "issues %s " DEMO_ASSET " (euro token)", amount);
    rc = step(d, BANK, "asset.issue",
              json_pack("{s:s, s:I, s:I, s:s}", "asset", DEMO_ASSET, "supply",
                        (json_int_t)supply, "decimals", (json_int_t)DEMO_DECIMALS, "name",
                        "Euro token of Hansa Bank"),
              line, rej);
  } else if (rc == HANSE_OK) {
    printf("  %-12s %s\n", roles[BANK].role, DEMO_ASSET " exists already: not issued again");
  }
  if (rc == HANSE_OK) rc = transfer(d, BANK, PLATFORM, 5000000, "working capital", rej);
  if (rc == HANSE_OK) rc = transfer(d, BANK, CONSUMER, 200000, "account top-up", rej);
  if (rc == HANSE_OK) {
    snprintf(cert, sizeof cert, "quality-certificate-QC-%" PRIu64 ".txt", d->run_ms);
    snprintf(text, sizeof text,
             "ACME Manufacturing GmbH\nQuality certificate QC-%" PRIu64 "\n"
             "Product: e-bike frame EB-200, lot 4711\n"
             "Final inspection: passed (ISO 9001:2015)\n",
             d->run_ms);
    rc = anchor(d, MANUFACTURER, cert, text,
                json_pack("{s:s, s:s, s:s}", "type", "quality-certificate", "product",
                          "EB-200", "lot", "4711"),
                "anchors a quality certificate", rej);
  }
  if (rc == HANSE_OK) rc = transfer(d, CONSUMER, PLATFORM, 24999, "order #1001: e-bike", rej);
  if (rc == HANSE_OK) {
    snprintf(note, sizeof note, "delivery-note-DN-%" PRIu64 ".txt", d->run_ms);
    snprintf(text, sizeof text,
             "Swift Logistics AG\nDelivery note DN-%" PRIu64 "\n"
             "Order #1001, 1 e-bike EB-200, to Anna Schmidt, Hamburg\n"
             "Delivered and signed for by the recipient\n",
             d->run_ms);
    rc = anchor(d, LOGISTICS, note, text,
                json_pack("{s:s, s:s}", "type", "delivery-note", "order", "1001"),
                "anchors a delivery note", rej);
  }
  if (rc == HANSE_OK) rc = payout_batch(d, rej);
  if (rc == HANSE_OK) rc = print_balances(d, rej);
  if (rc == HANSE_OK)
    printf("\n  anchored documents (check one: hanse get anchor FILE):\n"
           "  %s/docs/%s\n  %s/docs/%s\n",
           d->data, cert, d->data, note);
  fflush(stdout);
  return rc;
}

/* ---- the command ---- */

int cmd_demo(int argc, char **argv) {
  cli_opt opts[] = {{"data", "DIR", NULL, 0},
                    {"port", "N", NULL, 0},
                    {"host", "ADDR", NULL, 0},
                    {"no-workload", NULL, NULL, 0},
                    {NULL, NULL, NULL, 0}};
  const char *pos[CLI_POSITIONAL_MAX];
  int rc = cli_parse("demo", cmd_demo_usage, opts, argc - 1, argv + 1, pos, 0, 0, NULL);
  if (rc != CLI_GO) return rc;
  uint64_t port = 8080;
  const char *port_s = cli_opt_str(opts, "port", NULL);
  if (port_s && !cli_parse_u64(port_s, 65535, &port))
    return cli_usage_error("demo", "--port must be an integer from 0 to 65535");
  const char *host = cli_opt_str(opts, "host", "127.0.0.1");

  demo d;
  memset(&d, 0, sizeof d);
  d.data = cli_opt_str(opts, "data", "data");
  d.run_ms = hanse_now_ms(hanse_env_system());
  hanse_reject rej;
  hanse_reject_clear(&rej);
  hanse_node *node = NULL;
  int failed = 0;
  rc = demo_prepare(&d, &rej);
  if (rc != HANSE_OK) goto done;
  fflush(stdout);

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
  printf("demo: node serving chain \"" DEMO_CHAIN "\" at %s\n", url);

  if (!cli_opt_set(opts, "no-workload")) {
    rc = hanse_client_create(url, DEMO_CHAIN, &d.client, &rej);
    if (rc == HANSE_OK) rc = workload(&d, &rej);
    hanse_client_destroy(d.client);
    d.client = NULL;
    if (rc != HANSE_OK && strcmp(rej.code, "demo.stopped") != 0) {
      /* Keep serving: the explorer shows what did happen. */
      cli_fail(&rej);
      failed = 1;
    }
    rc = HANSE_OK;
  }
  printf("\nExplorer: %s/\n(Ctrl-C to stop)\n", url);
  fflush(stdout);
  int sig = hanse_node_wait_signal();
  fprintf(stderr, "demo: signal %d, stopping the node\n", sig);

done:
  hanse_node_close(node);
  for (int r = 0; r < ROLE_COUNT; r++) cli_key_free(d.keys[r]);
  if (rc != HANSE_OK) return cli_fail(&rej);
  return failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
