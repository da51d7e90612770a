/*
 * cmd_get.c -- `hanse get <what>`: read the chain through the node's API.
 *
 * Two of the reads check what the node says instead of repeating it:
 *
 *   get tx      verifies the inclusion proof locally
 *               (hanse_client_proof_verify: id from the raw bytes, header
 *               hash and signature, Merkle path to the header's tx_root)
 *               and fails if it does not hold;
 *   get tx --decrypt  also opens the payload's sealed fields that the
 *               user's key can open (cli_seal.c), here, never on the node;
 *   get anchor  hashes the file here, so the node never sees the document,
 *               and exits 0 only if that digest is anchored -- usable as a
 *               test in scripts.
 *
 * `get history` is the one read printed for people by default: a table of
 * a record's changes (height, block time in UTC, who, op, value hash),
 * newest first; --json prints the node's document instead.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

#define GET_COMMON_USAGE                                                     \
  "\n"                                                                       \
  "common options:\n"                                                        \
  "  --node URL    node (env HANSE_NODE, default " CLI_NODE_DEFAULT ")\n"    \
  "  --chain ID    chain (env HANSE_CHAIN, default " CLI_CHAIN_DEFAULT ")\n"

const char cmd_get_usage[] =
    "usage: hanse get <what> [options]\n"
    "\n"
    "  hanse get status                      the chain's height, tip, counters\n"
    "  hanse get block HEIGHT|HASH|latest    a block with its transactions\n"
    "  hanse get tx ID [--decrypt]           a transaction, its receipt and\n"
    "                                        inclusion proof, verified here;\n"
    "                                        --decrypt opens the sealed fields\n"
    "                                        your --key can open and marks the\n"
    "                                        others \"[sealed: not a recipient]\"\n"
    "  hanse get balance --asset SYM [--owner PUBKEY]\n"
    "                                        a balance (owner default: your key's)\n"
    "  hanse get anchor FILE|HASH            is this document anchored? exit 0\n"
    "                                        if so, 1 if not\n"
    "  hanse get history KEY [--limit N] [--before POS] [--json]\n"
    "                                        who changed the state record KEY\n"
    "                                        (e.g. asset/bal/EURT/<owner hex>),\n"
    "                                        when, and the new value's SHA-256,\n"
    "                                        newest first: N per page (1-1000,\n"
    "                                        default 100); POS is the \"next\"\n"
    "                                        a page ends with\n" GET_COMMON_USAGE
    "  --key FILE    signs the requests when the file exists (env HANSE_KEY,\n"
    "                default ~/.hanse/key.json): chains with a policy show\n"
    "                members only what their roles may read; for balance,\n"
    "                also whose balance when --owner is not given\n";

#define GET_COMMON_OPTS {"node", "URL", NULL, 0}, {"chain", "ID", NULL, 0}, {"key", "FILE", NULL, 0}

/* A client for the command's --node/--chain; CLI_GO or the exit status. */
static int get_client(const cli_opt *opts, hanse_client **c) {
  hanse_reject rej;
  hanse_reject_clear(&rej);
  if (cli_client_open(cli_opt_str(opts, "node", cli_g.node),
                      cli_opt_str(opts, "chain", cli_g.chain),
                      cli_opt_str(opts, "key", cli_g.key), c, &rej) != HANSE_OK)
    return cli_fail(&rej);
  return CLI_GO;
}

/* Print doc (stolen) or the failure; close the client. */
static int get_end(hanse_client *c, int rc, json_t *doc, const hanse_reject *rej) {
  if (rc == HANSE_OK) cli_print_json(doc);
  json_decref(doc);
  hanse_client_destroy(c);
  return rc == HANSE_OK ? CLI_EXIT_OK : cli_fail(rej);
}

static int get_status(int argc, char **argv) {
  cli_opt opts[] = {GET_COMMON_OPTS, {NULL, NULL, NULL, 0}};
  const char *pos[CLI_POSITIONAL_MAX];
  hanse_client *c = NULL;
  int rc = cli_parse("get status", cmd_get_usage, opts, argc, argv, pos, 0, 0, NULL);
  if (rc != CLI_GO || (rc = get_client(opts, &c)) != CLI_GO) return rc;
  hanse_reject rej;
  json_t *doc = NULL;
  rc = hanse_client_status(c, &doc, &rej);
  return get_end(c, rc, doc, &rej);
}

static int get_block(int argc, char **argv) {
  cli_opt opts[] = {GET_COMMON_OPTS, {NULL, NULL, NULL, 0}};
  const char *pos[CLI_POSITIONAL_MAX];
  hanse_client *c = NULL;
  int rc = cli_parse("get block", cmd_get_usage, opts, argc, argv, pos, 1, 1, NULL);
  if (rc != CLI_GO || (rc = get_client(opts, &c)) != CLI_GO) return rc;
  hanse_reject rej;
  hanse_reject_clear(&rej);
  json_t *doc = NULL;
  uint64_t height;
  hanse_hash hash;
  if (strcmp(pos[0], "latest") == 0) {
    json_t *st = NULL;
    rc = hanse_client_status(c, &st, &rej);
    json_t *h = json_object_get(st, "height");
    if (rc == HANSE_OK && !json_is_integer(h))
      rc = hanse_reject_code(&rej, "client.bad_response", 0, "status has no height");
    if (rc == HANSE_OK) rc = hanse_client_block_get(c, (uint64_t)json_integer_value(h), &doc, &rej);
    json_decref(st);
  } else if (cli_parse_u64(pos[0], INT64_MAX, &height)) {
    rc = hanse_client_block_get(c, height, &doc, &rej);
  } else if (hanse_hash_parse(&hash, pos[0]) == HANSE_OK) {
    rc = hanse_client_block_get_by_hash(c, &hash, &doc, &rej);
  } else {
    hanse_client_destroy(c);
    return cli_usage_error("get block", "'%s' is neither a height nor a 64-hex block hash",
                           pos[0]);
  }
  return get_end(c, rc, doc, &rej);
}

/* The proof of `doc` checked out without a validator set; now against
 * the chain's validators (its genesis, from the node): prints "proof:
 * valid" and "certified by k of n validators", or that the block is not
 * certified yet (fewer signatures than the quorum: the others are on
 * their way). A forged certificate, or a proposer that is not a
 * validator, makes the proof invalid. A node without a genesis view
 * leaves the proof unchecked against validators, and says so. */
static int get_tx_certified(hanse_client *c, json_t *doc, const hanse_hash *id,
                            hanse_reject *rej) {
  hanse_reject why;
  hanse_reject_clear(&why);
  if (hanse_client_validators_fetch(c, &why) != HANSE_OK) {
    printf("proof: valid\ncertificate: not checked (no validator set: %s)\n", why.message);
    return HANSE_OK;
  }
  int rc = hanse_client_proof_verify(c, doc, id, rej);
  json_t *cert = json_object_get(doc, "certificate");
  hanse_hash bh;
  const char *bhex = json_string_value(json_object_get(json_object_get(doc, "proof"), "block_hash"));
  uint64_t height = (uint64_t)json_integer_value(json_object_get(json_object_get(doc, "receipt"),
                                                                 "height"));
  int k = 0, n = 0;
  int crc = cert && bhex && hanse_hash_parse(&bh, bhex) == HANSE_OK
                ? hanse_client_cert_verify(c, cert, height, &bh, &k, &n, &why)
                : HANSE_ERR(INVALID);
  if (rc == HANSE_OK) {
    printf("proof: valid\ncertified by %d of %d validators\n", k, n);
    return HANSE_OK;
  }
  if (crc != HANSE_OK && strcmp(why.code, "cert.short") == 0 &&
      strstr(rej->message, "certificate (cert.short)") != NULL) {
    /* Everything else held (proof_verify checks the certificate last). */
    printf("proof: valid\ncertified by %d of %d validators: below the quorum of %d, not "
           "certified yet\n", k, n, n / 2 + 1);
    return HANSE_OK;
  }
  return rc;
}

static int get_tx(int argc, char **argv) {
  cli_opt opts[] = {{"decrypt", NULL, NULL, 0}, GET_COMMON_OPTS, {NULL, NULL, NULL, 0}};
  const char *pos[CLI_POSITIONAL_MAX];
  hanse_hash id;
  int rc = cli_parse("get tx", cmd_get_usage, opts, argc, argv, pos, 1, 1, NULL);
  if (rc != CLI_GO) return rc;
  if (hanse_hash_parse(&id, pos[0]) != HANSE_OK)
    return cli_usage_error("get tx", "'%s' is not a 64-hex transaction id", pos[0]);
  hanse_client *c = NULL;
  if ((rc = get_client(opts, &c)) != CLI_GO) return rc;
  hanse_reject rej;
  hanse_reject_clear(&rej);
  json_t *doc = NULL;
  rc = hanse_client_tx_get(c, &id, &doc, &rej);
  if (rc != HANSE_OK) return get_end(c, rc, doc, &rej);
  if (cli_opt_set(opts, "decrypt")) {
    hanse_keypair *kp = cli_key_load(cli_opt_str(opts, "key", cli_g.key), &rej);
    rc = kp ? cli_decrypt_doc(c, kp, doc, &rej) : HANSE_ERR(INVALID);
    cli_key_free(kp);
    if (rc != HANSE_OK) return get_end(c, rc, doc, &rej);
  }
  cli_print_json(doc);
  rc = hanse_client_proof_verify(c, doc, &id, &rej);
  if (rc == HANSE_OK) rc = get_tx_certified(c, doc, &id, &rej);
  json_decref(doc);
  hanse_client_destroy(c);
  if (rc == HANSE_OK) return CLI_EXIT_OK;
  if (strcmp(rej.code, "proof.pending") == 0) {
    printf("proof: none yet (pending)\n");
    return CLI_EXIT_OK;
  }
  printf("proof: INVALID\n");
  return cli_fail(&rej);
}

static int get_balance(int argc, char **argv) {
  cli_opt opts[] = {{"asset", "SYM", NULL, 0}, {"owner", "PUBKEY", NULL, 0},
                    GET_COMMON_OPTS,
                    {NULL, NULL, NULL, 0}};
  const char *pos[CLI_POSITIONAL_MAX];
  int rc = cli_parse("get balance", cmd_get_usage, opts, argc, argv, pos, 0, 0, NULL);
  if (rc != CLI_GO) return rc;
  const char *sym = cli_opt_str(opts, "asset", NULL);
  if (sym == NULL) return cli_usage_error("get balance", "--asset SYM is required");
  hanse_reject rej;
  hanse_reject_clear(&rej);
  char owner[HANSE_HASH_HEX_BYTES];
  const char *o = cli_opt_str(opts, "owner", NULL);
  hanse_pubkey pk;
  if (o) {
    if (hanse_pubkey_parse(&pk, o) != HANSE_OK)
      return cli_usage_error("get balance", "--owner must be a 64-hex public key");
  } else {
    hanse_keypair *kp = cli_key_load(cli_opt_str(opts, "key", cli_g.key), &rej);
    if (kp == NULL) return cli_fail(&rej);
    pk = kp->pub;
    cli_key_free(kp);
  }
  hanse_pubkey_hex(owner, &pk);
  hanse_client *c = NULL;
  if ((rc = get_client(opts, &c)) != CLI_GO) return rc;
  const char *params[] = {"asset", sym, "owner", owner, NULL};
  json_t *doc = NULL;
  rc = hanse_client_query(c, "asset", "balance", params, &doc, &rej);
  return get_end(c, rc, doc, &rej);
}

static int get_anchor(int argc, char **argv) {
  cli_opt opts[] = {GET_COMMON_OPTS, {NULL, NULL, NULL, 0}};
  const char *pos[CLI_POSITIONAL_MAX];
  int rc = cli_parse("get anchor", cmd_get_usage, opts, argc, argv, pos, 1, 1, NULL);
  if (rc != CLI_GO) return rc;
  hanse_reject rej;
  hanse_reject_clear(&rej);
  hanse_hash h;
  /* A file wins over a name that happens to look like a digest. */
  if (cli_exists(pos[0]) || hanse_hash_parse(&h, pos[0]) != HANSE_OK) {
    if (cli_hash_file(pos[0], &h, &rej) != HANSE_OK) return cli_fail(&rej);
  }
  hanse_client *c = NULL;
  if ((rc = get_client(opts, &c)) != CLI_GO) return rc;
  char hex[HANSE_HASH_HEX_BYTES];
  const char *params[] = {"hash", hanse_hash_hex(hex, &h), NULL};
  json_t *doc = NULL;
  rc = hanse_client_query(c, "notary", "anchor", params, &doc, &rej);
  return get_end(c, rc, doc, &rej);
}

/* "2024-05-01 10:00:00.123" (UTC) into out. */
static void history_time(char *out, size_t n, uint64_t time_ms) {
  time_t t = (time_t)(time_ms / 1000);
  struct tm tm;
  if (gmtime_r(&t, &tm) == NULL) {
    snprintf(out, n, "%" PRIu64, time_ms);
    return;
  }
  char day[32];
  strftime(day, sizeof day, "%Y-%m-%d %H:%M:%S", &tm);
  snprintf(out, n, "%s.%03u", day, (unsigned)(time_ms % 1000));
}

/* The history document as a table; long signer keys are shortened (the
 * whole key is in --json). */
static void history_print(json_t *doc) {
  printf("history of %s\n", json_string_value(json_object_get(doc, "key")));
  printf("%8s  %-23s  %-24s  %-3s  %s\n", "HEIGHT", "TIME (UTC)", "WHO", "OP",
         "VALUE SHA-256");
  size_t i;
  json_t *ch;
  json_array_foreach(json_object_get(doc, "changes"), i, ch) {
    char when[48], who[40];
    history_time(when, sizeof when, (uint64_t)json_integer_value(json_object_get(ch, "time_ms")));
    const char *w = json_string_value(json_object_get(ch, "who"));
    if (w == NULL) w = "?";
    if (strlen(w) == 2 * HANSE_PUBKEY_BYTES)
      snprintf(who, sizeof who, "%.16s...", w);
    else
      snprintf(who, sizeof who, "%s", w);
    const char *op = json_string_value(json_object_get(ch, "op"));
    const char *vh = json_string_value(json_object_get(ch, "value_sha256"));
    printf("%8" JSON_INTEGER_FORMAT "  %-23s  %-24s  %-3s  %s\n",
           json_integer_value(json_object_get(ch, "height")), when, who, op ? op : "?",
           vh ? vh : "-");
  }
  json_t *next = json_object_get(doc, "next");
  if (json_is_integer(next))
    printf("more: --before %" JSON_INTEGER_FORMAT "\n", json_integer_value(next));
}

static int get_history(int argc, char **argv) {
  cli_opt opts[] = {{"limit", "N", NULL, 0}, {"before", "POS", NULL, 0},
                    {"json", NULL, NULL, 0}, GET_COMMON_OPTS,
                    {NULL, NULL, NULL, 0}};
  const char *pos[CLI_POSITIONAL_MAX];
  int rc = cli_parse("get history", cmd_get_usage, opts, argc, argv, pos, 1, 1, NULL);
  if (rc != CLI_GO) return rc;
  uint64_t limit = 0, before = 0;
  const char *l = cli_opt_str(opts, "limit", NULL), *b = cli_opt_str(opts, "before", NULL);
  if (l && (!cli_parse_u64(l, HANSE_HISTORY_PAGE_MAX, &limit) || limit == 0))
    return cli_usage_error("get history", "--limit must be 1 to %d", HANSE_HISTORY_PAGE_MAX);
  if (b && (!cli_parse_u64(b, INT64_MAX, &before) || before == 0))
    return cli_usage_error("get history", "--before must be a position (a page's \"next\")");
  if (pos[0][0] == 0) return cli_usage_error("get history", "KEY must not be empty");
  hanse_client *c = NULL;
  if ((rc = get_client(opts, &c)) != CLI_GO) return rc;
  hanse_reject rej;
  hanse_reject_clear(&rej);
  json_t *doc = NULL;
  rc = hanse_client_history(c, pos[0], (uint32_t)limit, before, &doc, &rej);
  if (rc != HANSE_OK || cli_opt_set(opts, "json")) return get_end(c, rc, doc, &rej);
  history_print(doc);
  json_decref(doc);
  hanse_client_destroy(c);
  return CLI_EXIT_OK;
}

int cmd_get(int argc, char **argv) {
  static const struct {
    const char *what;
    int (*run)(int, char **);
  } reads[] = {
      {"status", get_status}, {"block", get_block},   {"tx", get_tx},
      {"balance", get_balance}, {"anchor", get_anchor}, {"history", get_history},
  };
  if (argc < 2) return cli_usage_error("get", "missing what to read");
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(cmd_get_usage, stdout);
    return CLI_EXIT_OK;
  }
  for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++)
    if (strcmp(argv[1], reads[i].what) == 0) return reads[i].run(argc - 2, argv + 2);
  return cli_usage_error("get", "unknown read '%s'", argv[1]);
}
