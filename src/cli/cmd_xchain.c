/*
 * cmd_xchain.c -- `hanse xchain`: carry messages between chains and list
 * them.
 *
 * A message is sent with `hanse tx xchain send` on its chain; `relay`
 * reads it there with its inclusion proof, verifies the proof here, and
 * submits it to the destination as an xchain.receive signed by the user's
 * key (hanse_client_xchain_relay). Both chains may live on one node
 * (--node) or the source on another (--from-node). The destination's
 * policy decides who may relay; its genesis decides whose blocks it
 * believes ("peers").
 *
 * `inbox` and `outbox` are the module's list queries (docs/API.md).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#define XCHAIN_COMMON_USAGE                                                   \
  "\n"                                                                        \
  "common options:\n"                                                         \
  "  --key FILE    your key: signs the requests and the relay (env HANSE_KEY,\n" \
  "                default ~/.hanse/key.json)\n"                              \
  "  --node URL    node (env HANSE_NODE, default " CLI_NODE_DEFAULT ")\n"

static const char relay_usage[] =
    "usage: hanse xchain relay --from A --to B --tx ID [--from-node URL] [--wait]\n"
    "                          [common options]\n"
    "\n"
    "Carry message ID, an xchain.send committed on chain A, to chain B: its\n"
    "inclusion proof is read from A and verified here, then submitted to B in\n"
    "an xchain.receive signed by your key. B checks the proof against the\n"
    "validators its genesis names for A and records the message once (a second\n"
    "relay is refused: xchain.duplicate). A send that A rejected is not relayed\n"
    "(xchain.source_rejected).\n"
    "  --from A          the source chain\n"
    "  --to B            the destination chain\n"
    "  --tx ID           the send's transaction id on A (64 hex)\n"
    "  --from-node URL   A's node when it is not --node\n"
    "  --wait            answer once the receive is committed on B\n" XCHAIN_COMMON_USAGE;

static const char inbox_usage[] =
    "usage: hanse xchain inbox --from A [--chain B] [--after ID] [--limit N]\n"
    "                          [common options]\n"
    "\n"
    "The messages chain B received from chain A, in source id order.\n"
    "  --from A      the source chain\n"
    "  --chain B     this chain (env HANSE_CHAIN, default " CLI_CHAIN_DEFAULT ")\n"
    "  --after ID    start after this source transaction id\n"
    "  --limit N     at most N (1-1000, default 100)\n" XCHAIN_COMMON_USAGE;

static const char outbox_usage[] =
    "usage: hanse xchain outbox --to B [--chain A] [--after ID] [--limit N]\n"
    "                           [common options]\n"
    "\n"
    "The messages chain A sent to chain B, in id order.\n"
    "  --to B        the destination chain\n"
    "  --chain A     this chain (env HANSE_CHAIN, default " CLI_CHAIN_DEFAULT ")\n"
    "  --after ID    start after this transaction id\n"
    "  --limit N     at most N (1-1000, default 100)\n" XCHAIN_COMMON_USAGE;

const char cmd_xchain_usage[] =
    "usage: hanse xchain <relay|inbox|outbox> [options]\n"
    "\n"
    "Messages between chains (send one with 'hanse tx xchain send').\n"
    "\n"
    "  hanse xchain relay --from A --to B --tx ID   carry a message to B\n"
    "  hanse xchain inbox --from A [--chain B]      what B received from A\n"
    "  hanse xchain outbox --to B [--chain A]       what A sent to B\n"
    "\n"
    "'hanse xchain <subcommand> --help' for details.\n" XCHAIN_COMMON_USAGE;

static int relay(int argc, char **argv) {
  cli_opt opts[] = {{"from", "A", NULL, 0},      {"to", "B", NULL, 0},
                    {"tx", "ID", NULL, 0},       {"from-node", "URL", NULL, 0},
                    {"wait", NULL, NULL, 0},     {"key", "FILE", NULL, 0},
                    {"node", "URL", NULL, 0},    {NULL, NULL, NULL, 0}};
  const char *pos[CLI_POSITIONAL_MAX];
  const char *cmd = "xchain relay";
  int rc = cli_parse(cmd, relay_usage, opts, argc, argv, pos, 0, 0, NULL);
  if (rc != CLI_GO) return rc;
  const char *from = cli_opt_str(opts, "from", NULL), *to = cli_opt_str(opts, "to", NULL);
  hanse_hash id;
  if (from == NULL || !hanse_chain_id_valid(from, strlen(from)))
    return cli_usage_error(cmd, "--from must be a chain id");
  if (to == NULL || !hanse_chain_id_valid(to, strlen(to)))
    return cli_usage_error(cmd, "--to must be a chain id");
  if (strcmp(from, to) == 0) return cli_usage_error(cmd, "--from and --to are the same chain");
  if (hanse_hash_parse(&id, cli_opt_str(opts, "tx", NULL)) != HANSE_OK)
    return cli_usage_error(cmd, "--tx must be a 64-hex transaction id");
  const char *key = cli_opt_str(opts, "key", cli_g.key);
  const char *node = cli_opt_str(opts, "node", cli_g.node);
  hanse_reject rej;
  hanse_reject_clear(&rej);
  hanse_client *src = NULL, *dst = NULL;
  json_t *result = NULL;
  hanse_keypair *kp = cli_key_load(key, &rej);
  rc = kp ? HANSE_OK : HANSE_ERR(INVALID);
  if (rc == HANSE_OK)
    rc = cli_client_open(cli_opt_str(opts, "from-node", node), from, key, &src, &rej);
  if (rc == HANSE_OK) rc = cli_client_open(node, to, key, &dst, &rej);
  if (rc == HANSE_OK)
    rc = hanse_client_xchain_relay(src, dst, &id, kp,
                                   cli_opt_set(opts, "wait") ? HANSE_SUBMIT_WAIT : 0, 0, &result,
                                   &rej);
  if (result) cli_print_json(result);
  json_decref(result);
  hanse_client_destroy(src);
  hanse_client_destroy(dst);
  cli_key_free(kp);
  return rc == HANSE_OK ? CLI_EXIT_OK : cli_fail(&rej);
}

/* inbox (outbox == 0) or outbox: one page of the module's list query. */
static int box(int argc, char **argv, int outbox) {
  const char *other = outbox ? "to" : "from";
  cli_opt opts[] = {{other, "CHAIN", NULL, 0}, {"chain", "ID", NULL, 0},
                    {"after", "ID", NULL, 0},  {"limit", "N", NULL, 0},
                    {"key", "FILE", NULL, 0},  {"node", "URL", NULL, 0},
                    {NULL, NULL, NULL, 0}};
  const char *pos[CLI_POSITIONAL_MAX];
  const char *cmd = outbox ? "xchain outbox" : "xchain inbox";
  int rc = cli_parse(cmd, outbox ? outbox_usage : inbox_usage, opts, argc, argv, pos, 0, 0, NULL);
  if (rc != CLI_GO) return rc;
  const char *chain = cli_opt_str(opts, other, NULL);
  if (chain == NULL || !hanse_chain_id_valid(chain, strlen(chain)))
    return cli_usage_error(cmd, "--%s must be a chain id", other);
  const char *params[9] = {outbox ? "to_chain" : "from_chain", chain};
  int k = 2;
  if (cli_opt_str(opts, "after", NULL)) {
    params[k++] = "after";
    params[k++] = cli_opt_str(opts, "after", NULL);
  }
  if (cli_opt_str(opts, "limit", NULL)) {
    params[k++] = "limit";
    params[k++] = cli_opt_str(opts, "limit", NULL);
  }
  params[k] = NULL;
  hanse_reject rej;
  hanse_reject_clear(&rej);
  hanse_client *c = NULL;
  json_t *doc = NULL;
  rc = cli_client_open(cli_opt_str(opts, "node", cli_g.node),
                       cli_opt_str(opts, "chain", cli_g.chain),
                       cli_opt_str(opts, "key", cli_g.key), &c, &rej);
  if (rc == HANSE_OK)
    rc = hanse_client_query(c, "xchain", outbox ? "outbox" : "inbox", params, &doc, &rej);
  if (rc == HANSE_OK) cli_print_json(doc);
  json_decref(doc);
  hanse_client_destroy(c);
  return rc == HANSE_OK ? CLI_EXIT_OK : cli_fail(&rej);
}

int cmd_xchain(int argc, char **argv) {
  if (argc < 2) return cli_usage_error("xchain", "missing a subcommand: relay, inbox or outbox");
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(cmd_xchain_usage, stdout);
    return CLI_EXIT_OK;
  }
  if (strcmp(argv[1], "relay") == 0) return relay(argc - 2, argv + 2);
  if (strcmp(argv[1], "inbox") == 0) return box(argc - 2, argv + 2, 0);
  if (strcmp(argv[1], "outbox") == 0) return box(argc - 2, argv + 2, 1);
  return cli_usage_error("xchain", "unknown subcommand '%s'", argv[1]);
}
