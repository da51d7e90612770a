/*
 * cmd_tx.c -- `hanse tx <module> <action>`: build, sign and submit one
 * transaction through the node's HTTP API.
 *
 * Each action turns its options into the module's JSON payload (the
 * shapes the modules check, src/modules/<module>/), then the shared path
 * does the rest: load the key, take the sequence number from --seq or the
 * node's next_seq, sign, submit (waiting for the commit with --wait), print
 * the node's answer. A transaction that the chain refused -- at submission
 * or in its block -- is a failure: the answer is still printed, and the
 * reason follows on stderr as "hanse: <code>: <message>".
 *
 * Fields of any payload can be sealed to recipients before signing
 * (--seal meta.price --to KEY,...; cli_seal.c), and `tx seal grant`
 * re-seals one for a later recipient: the node is asked for the
 * transaction and its grants, the user's key opens the field, and the
 * grant goes out like any other transaction.
 *
 * Amounts are integers in the asset's smallest unit, as on the chain:
 * with --decimals 2, `--amount 150` is 1.50.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#define TX_COMMON_USAGE                                                       \
  "\n"                                                                        \
  "common options:\n"                                                         \
  "  --key FILE    signing key (env HANSE_KEY, default ~/.hanse/key.json)\n"  \
  "  --node URL    node (env HANSE_NODE, default " CLI_NODE_DEFAULT ")\n"     \
  "  --chain ID    chain (env HANSE_CHAIN, default " CLI_CHAIN_DEFAULT ")\n"  \
  "  --wait        answer once the transaction is committed\n"               \
  "  --seq N       sequence number (default: the node's next for the key)\n"

#define TX_SEAL_USAGE                                                         \
  "  --seal PATHS  seal these payload fields, comma-separated (e.g. meta.price):\n" \
  "                the chain stores only ciphertext; see 'hanse get tx --decrypt'\n" \
  "  --to KEYS     the recipients of --seal: public keys (64 hex), comma-\n"      \
  "                separated, at most 64; list your own to read them back\n"

#define TX_SEAL_OPTS {"seal", "PATHS", NULL, 0}, {"to", "KEYS", NULL, 0}

#define TX_COMMON_OPTS                                                        \
  {"key", "FILE", NULL, 0}, {"node", "URL", NULL, 0},                         \
      {"chain", "ID", NULL, 0}, {"wait", NULL, NULL, 0}, {"seq", "N", NULL, 0}

static const char anchor_usage[] =
    "usage: hanse tx notary anchor FILE [--name NAME] [--meta JSON] [common options]\n"
    "\n"
    "Anchor the SHA-256 of FILE on the chain (the file itself stays here).\n"
    "  --name NAME   a name for the document (default: the file's base name)\n"
    "  --meta JSON   a JSON object of metadata, e.g. '{\"type\":\"invoice\"}'\n"
    TX_SEAL_USAGE "                e.g. --meta '{\"price\":100}' --seal meta.price --to KEY1,KEY2\n"
    TX_COMMON_USAGE;

static const char issue_usage[] =
    "usage: hanse tx asset issue --asset SYM --supply N [--decimals D] [--name NAME]\n"
    "                            [common options]\n"
    "\n"
    "Create asset SYM; the whole supply goes to the signer.\n"
    "  --asset SYM     symbol, 1-32 of [A-Za-z0-9._-]\n"
    "  --supply N      total supply in the smallest unit (1 to 2^63-1)\n"
    "  --decimals D    digits after the point, for display (0-18, default 0)\n"
    "  --name NAME     descriptive name\n" TX_COMMON_USAGE;

static const char transfer_usage[] =
    "usage: hanse tx asset transfer --asset SYM --to PUBKEY --amount N [--memo M]\n"
    "                               [common options]\n"
    "\n"
    "Move N (smallest unit) of asset SYM from the signer to PUBKEY.\n"
    "  --asset SYM     symbol\n"
    "  --to PUBKEY     recipient public key (64 hex)\n"
    "  --amount N      amount in the smallest unit (1 to 2^63-1)\n"
    "  --memo M        a note of at most 256 bytes\n" TX_COMMON_USAGE;

static const char submit_usage[] =
    "usage: hanse tx submit KIND (--payload JSON | --payload-file FILE) [common options]\n"
    "\n"
    "Sign and submit a transaction of any kind (\"module.action\", e.g.\n"
    "member.register) with a JSON object as its payload, exactly as given.\n"
    "  --payload JSON       the payload, a JSON object\n"
    "  --payload-file FILE  the payload read from FILE (\"-\": standard input),\n"
    "                       e.g. {\"document\": <EPCIS document>} for trace.capture\n"
    TX_SEAL_USAGE TX_COMMON_USAGE;

static const char grant_usage[] =
    "usage: hanse tx seal grant --tx ID --field PATH --to PUBKEY [common options]\n"
    "\n"
    "Let PUBKEY read a sealed field of transaction ID without re-encrypting it:\n"
    "your key opens the field (you are a recipient, or were granted it) and\n"
    "seals its key again to PUBKEY in a seal.grant transaction. The chain\n"
    "cannot check a re-sealed key; this command re-seals only one it has\n"
    "seen open the field.\n"
    "  --tx ID       the transaction holding the field (64 hex)\n"
    "  --field PATH  the field's path in its payload, e.g. meta.price\n"
    "  --to PUBKEY   the new recipient's public key (64 hex)\n" TX_COMMON_USAGE;

static const char xsend_usage[] =
    "usage: hanse tx xchain send --to-chain ID --kind LABEL --body JSON [--class C]\n"
    "                            [common options]\n"
    "\n"
    "Send a message to another chain: this transaction is the message, signed\n"
    "and recorded here; 'hanse xchain relay' carries it, with its proof, to the\n"
    "destination, whose genesis must name this chain among its \"peers\".\n"
    "  --to-chain ID   the destination chain\n"
    "  --kind LABEL    what the message is, 1-48 of [a-z0-9._-], e.g. order.notice (a module's own kinds, such as trace.publish, are checked by it)\n"
    "  --body JSON     the message, a JSON object (the whole payload at most 16 KiB)\n"
    "  --class C       its data class for the read policy (default: transaction)\n"
    TX_COMMON_USAGE;

static const char ledger_transfer_usage[] =
    "usage: hanse tx ledger transfer --id ID --debit ACCOUNT --credit ACCOUNT --amount N\n"
    "                                [--pending [--timeout S]] [--confidential [--to KEYS]]\n"
    "                                [common options]\n"
    "\n"
    "Move N (smallest unit) from the debit to the credit account (both of one\n"
    "asset; the debit account is your enterprise's). The id makes it idempotent.\n"
    "  --id ID          the transfer's id, 1-64 of [A-Za-z0-9._:-]\n"
    "  --debit ACCOUNT  the account debited\n"
    "  --credit ACCOUNT the account credited\n"
    "  --amount N       amount in the smallest unit (1 to 2^63-1)\n"
    "  --pending        two-phase: reserve now, post or void later\n"
    "  --timeout S      a pending transfer expires after S seconds of block time\n"
    "  --confidential   hide the amount (an asset the chain's policy makes\n"
    "                   confidential): a commitment goes on chain, and the amount\n"
    "                   sealed to you, every auditor the policy names and each\n"
    "                   account owner that is a key; see 'hanse ledger audit'\n"
    "  --to KEYS        more readers of a confidential amount (64 hex each, comma-\n"
    "                   separated): a key of the credit account's organisation\n"
    TX_COMMON_USAGE;

const char cmd_tx_usage[] =
    "usage: hanse tx <module> <action> [options]\n"
    "\n"
    "Sign a transaction with your key and submit it to the node.\n"
    "\n"
    "  hanse tx notary anchor FILE [--name NAME] [--meta JSON]\n"
    "                         [--seal PATHS --to KEYS]\n"
    "  hanse tx asset issue --asset SYM --supply N [--decimals D] [--name NAME]\n"
    "  hanse tx asset transfer --asset SYM --to PUBKEY --amount N [--memo M]\n"
    "  hanse tx submit KIND --payload JSON     any kind, e.g. member.register\n"
    "                       [--seal PATHS --to KEYS]\n"
    "  hanse tx seal grant --tx ID --field PATH --to PUBKEY\n"
    "                                          let PUBKEY read a sealed field\n"
    "  hanse tx xchain send --to-chain ID --kind LABEL --body JSON [--class C]\n"
    "                                          a message to another chain\n"
    "  hanse tx ledger transfer --id ID --debit A --credit B --amount N\n"
    "                       [--pending] [--confidential [--to KEYS]]\n"
    "\n"
    "'hanse tx <module> <action> --help' for details.\n" TX_COMMON_USAGE;

/* A step between opening the client and signing: seal fields, or build
 * the payload from what the node holds (a grant). May replace *payload
 * (the old one is then the step's to release). */
typedef int (*tx_prepare_fn)(void *ctx, hanse_client *c, const hanse_keypair *kp,
                             json_t **payload, hanse_reject *rej);

/* --seal/--to: seal the listed fields of the payload. */
static int prepare_seal(void *ctx, hanse_client *c, const hanse_keypair *kp, json_t **payload,
                        hanse_reject *rej) {
  (void)kp;
  const cli_seal *s = ctx;
  return cli_seal_apply(s, c, s->kind, *payload, rej);
}

/* The shared half: sign and send `payload` (stolen; may be NULL when
 * `prepare` makes it) as `kind`, after `prepare` (may be NULL). */
static int send_payload(const cli_opt *opts, const char *kind, json_t *payload,
                        tx_prepare_fn prepare, void *ctx) {
  hanse_reject rej;
  hanse_reject_clear(&rej);
  uint64_t seq = 0;
  const char *s = cli_opt_str(opts, "seq", NULL);
  if (s && (!cli_parse_u64(s, INT64_MAX, &seq) || seq == 0)) {
    json_decref(payload);
    return cli_usage_error("tx", "--seq must be a positive integer");
  }
  hanse_keypair *kp = cli_key_load(cli_opt_str(opts, "key", cli_g.key), &rej);
  hanse_client *c = NULL;
  json_t *result = NULL;
  int rc = kp ? HANSE_OK : HANSE_ERR(INVALID);
  if (rc == HANSE_OK)
    rc = cli_client_open(cli_opt_str(opts, "node", cli_g.node),
                         cli_opt_str(opts, "chain", cli_g.chain),
                         cli_opt_str(opts, "key", cli_g.key), &c, &rej);
  if (rc == HANSE_OK && prepare != NULL) rc = prepare(ctx, c, kp, &payload, &rej);
  if (rc == HANSE_OK) {
    hanse_client_op op = {kind, payload};
    rc = cli_send(c, kp, &op, seq, cli_opt_set(opts, "wait"), &result, &rej);
  }
  if (result) cli_print_json(result);
  json_decref(result);
  json_decref(payload);
  hanse_client_destroy(c);
  cli_key_free(kp);
  return rc == HANSE_OK ? CLI_EXIT_OK : cli_fail(&rej);
}

/* --confidential: the transfer's amount becomes a commitment and an
 * opening sealed to me, the policy's auditors, the key owners and --to. */
typedef struct conf_ctx {
  hanse_pubkey to[HANSE_CONFIDENTIAL_RECIPIENTS_MAX];
  size_t n;
} conf_ctx;

static int prepare_conf(void *ctx, hanse_client *c, const hanse_keypair *kp, json_t **payload,
                        hanse_reject *rej) {
  const conf_ctx *cc = ctx;
  json_t *t = json_array_get(json_object_get(*payload, "transfers"), 0);
  return hanse_client_ledger_conf_transfer(c, kp, t, cc->to, cc->n, rej);
}

static int tx_ledger_transfer(int argc, char **argv) {
  const char *cmd = "tx ledger transfer";
  cli_opt opts[] = {{"id", "ID", NULL, 0},         {"debit", "ACCOUNT", NULL, 0},
                    {"credit", "ACCOUNT", NULL, 0}, {"amount", "N", NULL, 0},
                    {"pending", NULL, NULL, 0},    {"timeout", "S", NULL, 0},
                    {"confidential", NULL, NULL, 0}, {"to", "KEYS", NULL, 0},
                    TX_COMMON_OPTS,                {NULL, NULL, NULL, 0}};
  const char *pos[CLI_POSITIONAL_MAX];
  int rc = cli_parse(cmd, ledger_transfer_usage, opts, argc, argv, pos, 0, 0, NULL);
  if (rc != CLI_GO) return rc;
  const char *id = cli_opt_str(opts, "id", NULL), *debit = cli_opt_str(opts, "debit", NULL);
  const char *credit = cli_opt_str(opts, "credit", NULL), *to = cli_opt_str(opts, "to", NULL);
  uint64_t amount, timeout = 0;
  if (id == NULL || debit == NULL || credit == NULL)
    return cli_usage_error(cmd, "--id, --debit and --credit are required");
  if (!cli_parse_u64(cli_opt_str(opts, "amount", ""), INT64_MAX, &amount) || amount == 0)
    return cli_usage_error(cmd, "--amount must be an integer from 1 to 2^63-1");
  const char *ts = cli_opt_str(opts, "timeout", NULL);
  if (ts && (!cli_parse_u64(ts, UINT32_MAX, &timeout) || timeout == 0))
    return cli_usage_error(cmd, "--timeout must be seconds from 1 to 2^32-1");
  conf_ctx cc = {.n = 0};
  int conf = cli_opt_set(opts, "confidential");
  if (to && !conf) return cli_usage_error(cmd, "--to goes with --confidential");
  if (to && (rc = cli_keys_parse(cmd, "to", to, cc.to, &cc.n)) != CLI_GO) return rc;
  json_t *t = json_pack("{s:s, s:s, s:s, s:I}", "id", id, "debit", debit, "credit", credit,
                        "amount", (json_int_t)amount);
  if (t && cli_opt_set(opts, "pending")) json_object_set_new(t, "pending", json_true());
  if (t && timeout) json_object_set_new(t, "timeout", json_integer((json_int_t)timeout));
  json_t *p = t ? json_pack("{s:[o]}", "transfers", t) : NULL;
  if (p == NULL) return cli_failf("internal.nomem", "out of memory");
  return send_payload(opts, "ledger.transfer", p, conf ? prepare_conf : NULL, &cc);
}

static int tx_anchor(int argc, char **argv) {
  cli_opt opts[] = {{"name", "NAME", NULL, 0}, {"meta", "JSON", NULL, 0}, TX_SEAL_OPTS,
                    TX_COMMON_OPTS, {NULL, NULL, NULL, 0}};
  const char *pos[CLI_POSITIONAL_MAX];
  int rc = cli_parse("tx notary anchor", anchor_usage, opts, argc, argv, pos, 1, 1, NULL);
  if (rc != CLI_GO) return rc;
  cli_seal seal;
  rc = cli_seal_parse("tx notary anchor", cli_opt_str(opts, "seal", NULL),
                      cli_opt_str(opts, "to", NULL), &seal);
  if (rc != CLI_GO) return rc;
  seal.kind = "notary.anchor";
  json_t *meta = NULL;
  const char *meta_text = cli_opt_str(opts, "meta", NULL);
  if (meta_text) {
    json_error_t jerr;
    meta = json_loads(meta_text, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(meta)) {
      json_decref(meta);
      return cli_usage_error("tx notary anchor", "--meta must be a JSON object");
    }
  }
  hanse_reject rej;
  hanse_reject_clear(&rej);
  hanse_hash h;
  if (cli_hash_file(pos[0], &h, &rej) != HANSE_OK) {
    json_decref(meta);
    return cli_fail(&rej);
  }
  const char *base = strrchr(pos[0], '/');
  base = base ? base + 1 : pos[0];
  char hex[HANSE_HASH_HEX_BYTES];
  json_t *p = json_pack("{s:s, s:s}", "hash", hanse_hash_hex(hex, &h), "name",
                        cli_opt_str(opts, "name", base));
  if (p && meta) json_object_set_new(p, "meta", meta);
  else json_decref(meta);
  if (p == NULL) return cli_failf("internal.nomem", "out of memory");
  return send_payload(opts, "notary.anchor", p, prepare_seal, &seal);
}

/* Any kind with a payload given as JSON: the modules without their own
 * subcommand (member, and those of later issues) are usable at once. */
static int tx_submit(int argc, char **argv) {
  cli_opt opts[] = {{"payload", "JSON", NULL, 0}, {"payload-file", "FILE", NULL, 0},
                    TX_SEAL_OPTS, TX_COMMON_OPTS, {NULL, NULL, NULL, 0}};
  const char *pos[CLI_POSITIONAL_MAX];
  int rc = cli_parse("tx submit", submit_usage, opts, argc, argv, pos, 1, 1, NULL);
  if (rc != CLI_GO) return rc;
  cli_seal seal;
  rc = cli_seal_parse("tx submit", cli_opt_str(opts, "seal", NULL), cli_opt_str(opts, "to", NULL),
                      &seal);
  if (rc != CLI_GO) return rc;
  seal.kind = pos[0];
  if (!hanse_kind_valid(pos[0], strlen(pos[0])))
    return cli_usage_error("tx submit", "KIND must be module.action, e.g. member.register");
  const char *text = cli_opt_str(opts, "payload", NULL);
  const char *file = cli_opt_str(opts, "payload-file", NULL);
  if ((text == NULL) == (file == NULL))
    return cli_usage_error("tx submit", "give one of --payload and --payload-file");
  json_error_t jerr;
  json_t *p;
  if (file) {
    FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
    if (f == NULL) return cli_usage_error("tx submit", "cannot open %s", file);
    p = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    if (f != stdin) fclose(f);
    if (p == NULL)
      return cli_usage_error("tx submit", "%s is not JSON: %s (line %d)", file, jerr.text,
                             jerr.line);
  } else {
    p = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
  }
  if (!json_is_object(p)) {
    json_decref(p);
    return cli_usage_error("tx submit", "the payload must be a JSON object");
  }
  return send_payload(opts, pos[0], p, prepare_seal, &seal);
}

static int tx_issue(int argc, char **argv) {
  cli_opt opts[] = {{"asset", "SYM", NULL, 0},    {"supply", "N", NULL, 0},
                    {"decimals", "D", NULL, 0},   {"name", "NAME", NULL, 0},
                    TX_COMMON_OPTS,               {NULL, NULL, NULL, 0}};
  const char *pos[CLI_POSITIONAL_MAX];
  const char *cmd = "tx asset issue";
  int rc = cli_parse(cmd, issue_usage, opts, argc, argv, pos, 0, 0, NULL);
  if (rc != CLI_GO) return rc;
  const char *sym = cli_opt_str(opts, "asset", NULL);
  uint64_t supply, decimals = 0;
  if (sym == NULL) return cli_usage_error(cmd, "--asset SYM is required");
  if (!cli_parse_u64(cli_opt_str(opts, "supply", NULL), INT64_MAX, &supply) || supply == 0)
    return cli_usage_error(cmd, "--supply must be an integer from 1 to 2^63-1");
  const char *d = cli_opt_str(opts, "decimals", NULL);
  if (d && !cli_parse_u64(d, HANSE_ASSET_DECIMALS_MAX, &decimals))
    return cli_usage_error(cmd, "--decimals must be an integer from 0 to %d",
                           HANSE_ASSET_DECIMALS_MAX);
  json_t *p = json_pack("{s:s, s:I, s:I}", "asset", sym, "supply", (json_int_t)supply,
                        "decimals", (json_int_t)decimals);
  const char *name = cli_opt_str(opts, "name", NULL);
  if (p && name) json_object_set_new(p, "name", json_string(name));
  if (p == NULL) return cli_usage_error(cmd, "--asset and --name must be UTF-8 text");
  return send_payload(opts, "asset.issue", p, NULL, NULL);
}

static int tx_transfer(int argc, char **argv) {
  cli_opt opts[] = {{"asset", "SYM", NULL, 0},   {"to", "PUBKEY", NULL, 0},
                    {"amount", "N", NULL, 0},    {"memo", "M", NULL, 0},
                    TX_COMMON_OPTS,              {NULL, NULL, NULL, 0}};
  const char *pos[CLI_POSITIONAL_MAX];
  const char *cmd = "tx asset transfer";
  int rc = cli_parse(cmd, transfer_usage, opts, argc, argv, pos, 0, 0, NULL);
  if (rc != CLI_GO) return rc;
  const char *sym = cli_opt_str(opts, "asset", NULL);
  const char *to = cli_opt_str(opts, "to", NULL);
  uint64_t amount;
  hanse_pubkey pk;
  if (sym == NULL) return cli_usage_error(cmd, "--asset SYM is required");
  if (to == NULL || hanse_pubkey_parse(&pk, to) != HANSE_OK)
    return cli_usage_error(cmd, "--to must be a 64-hex public key");
  if (!cli_parse_u64(cli_opt_str(opts, "amount", NULL), INT64_MAX, &amount) || amount == 0)
    return cli_usage_error(cmd, "--amount must be an integer from 1 to 2^63-1");
  char hex[HANSE_HASH_HEX_BYTES];
  json_t *p = json_pack("{s:s, s:s, s:I}", "asset", sym, "to", hanse_pubkey_hex(hex, &pk),
                        "amount", (json_int_t)amount);
  const char *memo = cli_opt_str(opts, "memo", NULL);
  if (p && memo) json_object_set_new(p, "memo", json_string(memo));
  if (p == NULL) return cli_usage_error(cmd, "--asset and --memo must be UTF-8 text");
  return send_payload(opts, "asset.transfer", p, NULL, NULL);
}

typedef struct grant_ctx {
  hanse_hash tx;
  const char *field;
  hanse_pubkey to;
} grant_ctx;

/* Fetch the transaction and its grants, and re-seal the field to the new
 * recipient: the grant's payload. */
static int prepare_grant(void *ctx, hanse_client *c, const hanse_keypair *kp, json_t **payload,
                         hanse_reject *rej) {
  grant_ctx *g = ctx;
  json_t *doc = NULL, *grants = NULL;
  int rc = hanse_client_tx_get(c, &g->tx, &doc, rej);
  if (rc == HANSE_OK) rc = hanse_client_grants_get(c, &g->tx, &grants, rej);
  if (rc == HANSE_OK)
    rc = hanse_client_grant_build(c, doc, grants, g->field, kp, &g->to, payload, rej);
  json_decref(grants);
  json_decref(doc);
  return rc;
}

static int tx_grant(int argc, char **argv) {
  cli_opt opts[] = {{"tx", "ID", NULL, 0}, {"field", "PATH", NULL, 0}, {"to", "PUBKEY", NULL, 0},
                    TX_COMMON_OPTS, {NULL, NULL, NULL, 0}};
  const char *pos[CLI_POSITIONAL_MAX];
  const char *cmd = "tx seal grant";
  int rc = cli_parse(cmd, grant_usage, opts, argc, argv, pos, 0, 0, NULL);
  if (rc != CLI_GO) return rc;
  grant_ctx g;
  g.field = cli_opt_str(opts, "field", NULL);
  if (hanse_hash_parse(&g.tx, cli_opt_str(opts, "tx", NULL)) != HANSE_OK)
    return cli_usage_error(cmd, "--tx must be a 64-hex transaction id");
  if (!hanse_confidential_path_valid(g.field))
    return cli_usage_error(cmd, "--field must be a field path like meta.price");
  if (hanse_pubkey_parse(&g.to, cli_opt_str(opts, "to", NULL)) != HANSE_OK)
    return cli_usage_error(cmd, "--to must be a 64-hex public key");
  return send_payload(opts, "seal.grant", NULL, prepare_grant, &g);
}

/* A message to another chain (modules/xchain); the module checks the
 * label, the class and the size. */
static int tx_xchain_send(int argc, char **argv) {
  cli_opt opts[] = {{"to-chain", "ID", NULL, 0}, {"kind", "LABEL", NULL, 0},
                    {"body", "JSON", NULL, 0},   {"class", "C", NULL, 0},
                    TX_COMMON_OPTS,              {NULL, NULL, NULL, 0}};
  const char *pos[CLI_POSITIONAL_MAX];
  const char *cmd = "tx xchain send";
  int rc = cli_parse(cmd, xsend_usage, opts, argc, argv, pos, 0, 0, NULL);
  if (rc != CLI_GO) return rc;
  const char *to = cli_opt_str(opts, "to-chain", NULL);
  const char *kind = cli_opt_str(opts, "kind", NULL);
  const char *text = cli_opt_str(opts, "body", NULL);
  const char *cls = cli_opt_str(opts, "class", NULL);
  if (to == NULL || !hanse_chain_id_valid(to, strlen(to)))
    return cli_usage_error(cmd, "--to-chain must be a chain id");
  if (kind == NULL) return cli_usage_error(cmd, "--kind LABEL is required");
  json_t *body = text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
  if (!json_is_object(body)) {
    json_decref(body);
    return cli_usage_error(cmd, "--body must be a JSON object");
  }
  json_t *p = json_pack("{s:s, s:s, s:o}", "to_chain", to, "kind", kind, "body", body);
  if (p && cls) json_object_set_new(p, "class", json_string(cls));
  if (p == NULL) return cli_usage_error(cmd, "--kind must be UTF-8 text");
  return send_payload(opts, "xchain.send", p, NULL, NULL);
}

int cmd_tx(int argc, char **argv) {
  static const struct {
    const char *module, *action;
    int (*run)(int, char **);
  } actions[] = {
      {"notary", "anchor", tx_anchor},
      {"asset", "issue", tx_issue},
      {"asset", "transfer", tx_transfer},
      {"seal", "grant", tx_grant},
      {"xchain", "send", tx_xchain_send},
      {"ledger", "transfer", tx_ledger_transfer},
  };
  if (argc < 2) return cli_usage_error("tx", "missing a module and an action");
  if (strcmp(argv[1], "submit") == 0) return tx_submit(argc - 2, argv + 2);
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(cmd_tx_usage, stdout);
    return CLI_EXIT_OK;
  }
  if (argc >= 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
    fputs(cmd_tx_usage, stdout);
    return CLI_EXIT_OK;
  }
  int module_known = 0;
  for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
    if (strcmp(argv[1], actions[i].module) != 0) continue;
    module_known = 1;
    if (argc >= 3 && strcmp(argv[2], actions[i].action) == 0)
      return actions[i].run(argc - 3, argv + 3);
  }
  if (!module_known) return cli_usage_error("tx", "unknown module '%s'", argv[1]);
  if (argc < 3) return cli_usage_error("tx", "'%s' needs an action", argv[1]);
  return cli_usage_error("tx", "unknown action '%s %s'", argv[1], argv[2]);
}
