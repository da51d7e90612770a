/*
 * cmd_trace_pub.c -- `hanse trace publish|product|verify`: a sold item's
 * screened record from the alliance chain to the open chain, and reading
 * and checking it there (client/trace.c does the work).
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "crypto/hash.h"

static const char publish_usage[] =
    "usage: hanse trace publish --from ALLIANCE --to OPEN --product ID\n"
    "                           [--with ID|ID...] [--buyer PUBKEY] [--key FILE] [--node URL]\n"
    "\n"
    "Publish the screened record of a sold item: every event of the alliance\n"
    "chain that names it (and the items given with --with, e.g. its batch and\n"
    "ingredients) that your key may read and the alliance's publication policy\n"
    "allows, sent as trace.publish messages on ALLIANCE (which checks each entry\n"
    "against what it captured) and relayed to OPEN, where consumers read it at\n"
    "/p/<Digital Link path>. Prints the publications made.\n"
    "  --from ALLIANCE   the alliance chain\n"
    "  --to OPEN         the open chain\n"
    "  --product ID      the item: an EPC URI or GS1 Digital Link URI\n"
    "  --with IDS        more identifiers whose events belong to the record,\n"
    "                    '|'-delimited\n"
    "  --buyer PUBKEY    the buyer's public key (64 hex): the product is then\n"
    "                    among their purchases\n"
    "  --key FILE        the publisher's key (env HANSE_KEY)\n"
    "  --node URL        node (env HANSE_NODE, default " CLI_NODE_DEFAULT ")\n";

static const char product_usage[] =
    "usage: hanse trace product ID [--chain OPEN] [--verify] [--node URL]\n"
    "\n"
    "Print the published record of product ID (a Digital Link path such as\n"
    "01/09521234543213/21/12345, or a whole URI) from the open chain; with\n"
    "--verify, also check its proofs here and print the report (exit 1 if any\n"
    "check fails). Save it with > FILE to check it later with 'hanse trace verify'.\n"
    "  --chain OPEN   the open chain (env HANSE_CHAIN, default " CLI_CHAIN_DEFAULT ")\n"
    "  --node URL     node (env HANSE_NODE, default " CLI_NODE_DEFAULT ")\n";

static const char verify_usage[] =
    "usage: hanse trace verify FILE [--trusted CHAIN=KEY,KEY...]\n"
    "\n"
    "Check a saved product record offline: every publication's proof (the\n"
    "alliance's signed transaction, the Merkle path to its block header, the\n"
    "header's signature by a trusted validator) and every entry against the\n"
    "publication it cites. Without --trusted the record's own list is used (the\n"
    "validators the open chain's genesis names); compare it with the alliance's.\n"
    "Prints the report; exit 0 when everything holds, 1 otherwise.\n"
    "  --trusted CHAIN=KEYS   the alliance chain's validator keys, comma-separated\n";

const char cmd_trace_pub_usage[] =
    "  hanse trace capture FILE [--chain C]               capture an EPCIS document (JSON or XML)\n"
    "  hanse trace publish --from A --to O --product ID   publish a sold item's record\n"
    "  hanse trace product ID [--verify]                  read (and check) a record\n"
    "  hanse trace verify FILE                            check a saved record offline\n";

static int publish(int argc, char **argv) {
  cli_opt opts[] = {{"from", "ALLIANCE", NULL, 0}, {"to", "OPEN", NULL, 0},
                    {"product", "ID", NULL, 0},    {"with", "IDS", NULL, 0},
                    {"buyer", "PUBKEY", NULL, 0},  {"key", "FILE", NULL, 0},
                    {"node", "URL", NULL, 0},      {NULL, NULL, NULL, 0}};
  const char *pos[CLI_POSITIONAL_MAX];
  const char *cmd = "trace publish";
  int rc = cli_parse(cmd, publish_usage, opts, argc, argv, pos, 0, 0, NULL);
  if (rc != CLI_GO) return rc;
  const char *from = cli_opt_str(opts, "from", NULL), *to = cli_opt_str(opts, "to", NULL);
  const char *product = cli_opt_str(opts, "product", NULL);
  if (from == NULL || !hanse_chain_id_valid(from, strlen(from)))
    return cli_usage_error(cmd, "--from must be a chain id");
  if (to == NULL || !hanse_chain_id_valid(to, strlen(to)))
    return cli_usage_error(cmd, "--to must be a chain id");
  if (product == NULL || product[0] == 0 || strchr(product, '|'))
    return cli_usage_error(cmd, "--product must be one identifier");
  char buyer[HANSE_HASH_HEX_BYTES] = "";
  const char *bk = cli_opt_str(opts, "buyer", NULL);
  if (bk) {
    hanse_pubkey pk;
    if (strlen(bk) != 64 || hanse_pubkey_parse(&pk, bk) != HANSE_OK)
      return cli_usage_error(cmd, "--buyer must be a public key, 64 hex");
    hanse_hash h;
    hanse_sha256(&h, pk.b, sizeof pk.b);
    hanse_hash_hex(buyer, &h);
  }
  char epcs[4096];
  const char *with = cli_opt_str(opts, "with", NULL);
  if ((size_t)snprintf(epcs, sizeof epcs, "%s%s%s", product, with ? "|" : "", with ? with : "") >=
      sizeof epcs)
    return cli_usage_error(cmd, "--product and --with are too long");
  const char *key = cli_opt_str(opts, "key", cli_g.key);
  const char *node = cli_opt_str(opts, "node", cli_g.node);
  hanse_reject rej;
  hanse_reject_clear(&rej);
  hanse_client *src = NULL, *dst = NULL;
  json_t *report = NULL;
  hanse_keypair *kp = cli_key_load(key, &rej);
  rc = kp ? HANSE_OK : HANSE_ERR(INVALID);
  if (rc == HANSE_OK) rc = cli_client_open(node, from, key, &src, &rej);
  if (rc == HANSE_OK) rc = cli_client_open(node, to, key, &dst, &rej);
  if (rc == HANSE_OK)
    rc = hanse_client_trace_publish(src, dst, kp, epcs, buyer[0] ? buyer : NULL, &report, &rej);
  if (report) cli_print_json(report);
  json_decref(report);
  hanse_client_destroy(src);
  hanse_client_destroy(dst);
  cli_key_free(kp);
  return rc == HANSE_OK ? CLI_EXIT_OK : cli_fail(&rej);
}

static int product(int argc, char **argv) {
  cli_opt opts[] = {{"chain", "OPEN", NULL, 0}, {"verify", NULL, NULL, 0},
                    {"node", "URL", NULL, 0},   {"key", "FILE", NULL, 0},
                    {NULL, NULL, NULL, 0}};
  const char *pos[CLI_POSITIONAL_MAX];
  const char *cmd = "trace product";
  int rc = cli_parse(cmd, product_usage, opts, argc, argv, pos, 1, 1, NULL);
  if (rc != CLI_GO) return rc;
  const char *chain = cli_opt_str(opts, "chain", cli_g.chain);
  hanse_reject rej;
  hanse_reject_clear(&rej);
  hanse_client *c = NULL;
  json_t *rec = NULL, *report = NULL;
  rc = cli_client_open(cli_opt_str(opts, "node", cli_g.node), chain, NULL, &c, &rej);
  char path[1024];
  if (rc == HANSE_OK) {
    /* a whole URI travels percent-encoded; a Digital Link path as it is */
    const char *id = pos[0];
    int uri = strncmp(id, "urn:", 4) == 0 || strstr(id, "://") != NULL;
    char *esc = uri ? curl_easy_escape(NULL, id, 0) : NULL;
    if ((size_t)snprintf(path, sizeof path, "/v1/chains/%s/products/%s", chain,
                         esc ? esc : id) >= sizeof path)
      rc = cli_failf("cli.bad_id", "the identifier is too long"), rc = HANSE_ERR(INVALID);
    curl_free(esc);
    if (rc == HANSE_OK) rc = hanse_client_get(c, path, &rec, &rej);
  }
  if (rc == HANSE_OK && cli_opt_set(opts, "verify")) {
    rc = hanse_trace_record_verify(rec, NULL, &report, &rej);
    cli_print_json(report);
  } else if (rc == HANSE_OK) {
    cli_print_json(rec);
  }
  json_decref(rec);
  json_decref(report);
  hanse_client_destroy(c);
  if (rc == HANSE_OK) return CLI_EXIT_OK;
  return rej.code[0] ? cli_fail(&rej) : CLI_EXIT_FAIL;
}

/* "--trusted alliance=K1,K2" as {"alliance": ["K1","K2"]}. */
static json_t *parse_trusted(const char *s) {
  const char *eq = strchr(s, '=');
  if (eq == NULL || eq == s || eq - s > 32) return NULL;
  char chain[40];
  snprintf(chain, sizeof chain, "%.*s", (int)(eq - s), s);
  json_t *keys = json_array();
  const char *p = eq + 1;
  while (keys && *p) {
    const char *comma = strchr(p, ',');
    size_t n = comma ? (size_t)(comma - p) : strlen(p);
    hanse_pubkey k;
    char hex[80];
    if (n != 64) break;
    snprintf(hex, sizeof hex, "%.*s", (int)n, p);
    if (hanse_pubkey_parse(&k, hex) != HANSE_OK) break;
    json_array_append_new(keys, json_string(hex));
    p += n + (comma ? 1 : 0);
  }
  if (keys == NULL || *p || json_array_size(keys) == 0) {
    json_decref(keys);
    return NULL;
  }
  return json_pack("{s:o}", chain, keys);
}

static int verify(int argc, char **argv) {
  cli_opt opts[] = {{"trusted", "CHAIN=KEYS", NULL, 0}, {NULL, NULL, NULL, 0}};
  const char *pos[CLI_POSITIONAL_MAX];
  const char *cmd = "trace verify";
  int rc = cli_parse(cmd, verify_usage, opts, argc, argv, pos, 1, 1, NULL);
  if (rc != CLI_GO) return rc;
  json_t *trusted = NULL;
  const char *t = cli_opt_str(opts, "trusted", NULL);
  if (t && (trusted = parse_trusted(t)) == NULL)
    return cli_usage_error(cmd, "--trusted must be CHAIN=KEY[,KEY...], keys of 64 hex");
  json_error_t jerr;
  json_t *rec = json_load_file(pos[0], JSON_REJECT_DUPLICATES, &jerr);
  if (rec == NULL) {
    json_decref(trusted);
    return cli_failf("cli.bad_file", "%s: %s (line %d)", pos[0], jerr.text, jerr.line);
  }
  hanse_reject rej;
  hanse_reject_clear(&rej);
  json_t *report = NULL;
  rc = hanse_trace_record_verify(rec, trusted, &report, &rej);
  if (report) cli_print_json(report);
  json_decref(report);
  json_decref(rec);
  json_decref(trusted);
  return rc == HANSE_OK ? CLI_EXIT_OK : cli_fail(&rej);
}

int cmd_trace_pub(int argc, char **argv) {
  if (argc < 2) return -1;
  if (strcmp(argv[1], "publish") == 0) return publish(argc - 2, argv + 2);
  if (strcmp(argv[1], "product") == 0) return product(argc - 2, argv + 2);
  if (strcmp(argv[1], "verify") == 0) return verify(argc - 2, argv + 2);
  return -1;
}

int cmd_trace(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs("usage: hanse trace <subcommand> [options]\n\n", argc < 2 ? stderr : stdout);
    fputs(cmd_trace_pub_usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
  }
  int rc = cmd_trace_capture(argc, argv);
  if (rc < 0) rc = cmd_trace_pub(argc, argv);
  if (rc >= 0) return rc;
  return cli_usage_error("trace", "unknown subcommand '%s'", argv[1]);
}
