/*
 * cmd_ledger.c -- `hanse ledger`: read confidential ledger amounts.
 *
 *   hanse ledger audit --asset A     every confidential transfer of A
 *   hanse ledger balance --account X one account, as its owner reads it
 *
 * Both open what the --key can open (hanse_client_ledger_audit): each
 * transfer's opening must open its commitment with an amount from 1 to
 * 2^63-1, and the sums per account must open the node's commitment
 * balances. The report is printed; problems make the command fail with
 * "ledger.audit_failed" after it. Making a confidential transfer is
 * `hanse tx ledger transfer --confidential`.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#define LEDGER_COMMON_USAGE                                                   \
  "\n"                                                                        \
  "common options:\n"                                                         \
  "  --key FILE    your key: opens the amounts and signs the requests (env\n" \
  "                HANSE_KEY, default ~/.hanse/key.json)\n"                   \
  "  --node URL    node (env HANSE_NODE, default " CLI_NODE_DEFAULT ")\n"     \
  "  --chain ID    chain (env HANSE_CHAIN, default " CLI_CHAIN_DEFAULT ")\n"

static const char audit_usage[] =
    "usage: hanse ledger audit --asset A [common options]\n"
    "\n"
    "As an auditor the chain's policy names: open every confidential transfer\n"
    "of asset A, check each against its commitment (amount 1 to 2^63-1), sum\n"
    "them per account and check the sums against the node's commitment\n"
    "balances of every account and of A's totals. Prints the report: balances\n"
    "(clear plus opened) and problems; fails with ledger.audit_failed if any.\n"
    LEDGER_COMMON_USAGE;

static const char balance_usage[] =
    "usage: hanse ledger balance --account X [common options]\n"
    "\n"
    "As a party: open the confidential transfers of account X, check them and\n"
    "their sums against the node's commitment balances of X, and print X's\n"
    "balances (clear plus opened); fails with ledger.audit_failed on a problem.\n"
    LEDGER_COMMON_USAGE;

const char cmd_ledger_usage[] =
    "usage: hanse ledger <audit|balance> [options]\n"
    "\n"
    "Confidential ledger amounts (make them with 'hanse tx ledger transfer\n"
    "--confidential').\n"
    "\n"
    "  hanse ledger audit --asset A       check every confidential transfer of A\n"
    "  hanse ledger balance --account X   one account's opened balances\n"
    "\n"
    "'hanse ledger <subcommand> --help' for details.\n" LEDGER_COMMON_USAGE;

static int run(int argc, char **argv, int by_asset) {
  const char *what = by_asset ? "asset" : "account";
  const char *cmd = by_asset ? "ledger audit" : "ledger balance";
  cli_opt opts[] = {{what, by_asset ? "A" : "X", NULL, 0}, {"key", "FILE", NULL, 0},
                    {"node", "URL", NULL, 0},              {"chain", "ID", NULL, 0},
                    {NULL, NULL, NULL, 0}};
  const char *pos[CLI_POSITIONAL_MAX];
  int rc = cli_parse(cmd, by_asset ? audit_usage : balance_usage, opts, argc, argv, pos, 0, 0,
                     NULL);
  if (rc != CLI_GO) return rc;
  const char *name = cli_opt_str(opts, what, NULL);
  if (name == NULL) return cli_usage_error(cmd, "--%s is required", what);
  const char *key = cli_opt_str(opts, "key", cli_g.key);
  hanse_reject rej;
  hanse_reject_clear(&rej);
  hanse_client *c = NULL;
  json_t *report = NULL;
  hanse_keypair *kp = cli_key_load(key, &rej);
  rc = kp ? HANSE_OK : HANSE_ERR(INVALID);
  if (rc == HANSE_OK)
    rc = cli_client_open(cli_opt_str(opts, "node", cli_g.node),
                         cli_opt_str(opts, "chain", cli_g.chain), key, &c, &rej);
  if (rc == HANSE_OK)
    rc = hanse_client_ledger_audit(c, by_asset ? name : NULL, by_asset ? NULL : name, kp,
                                   &report, &rej);
  int ok = rc == HANSE_OK && json_is_true(json_object_get(report, "ok"));
  if (report) cli_print_json(report);
  size_t problems = json_array_size(json_object_get(report, "problems"));
  json_decref(report);
  hanse_client_destroy(c);
  cli_key_free(kp);
  if (rc != HANSE_OK) return cli_fail(&rej);
  return ok ? CLI_EXIT_OK
            : cli_failf("ledger.audit_failed", "%zu problem(s): see \"problems\"", problems);
}

int cmd_ledger(int argc, char **argv) {
  if (argc < 2) return cli_usage_error("ledger", "missing a subcommand: audit or balance");
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(cmd_ledger_usage, stdout);
    return CLI_EXIT_OK;
  }
  if (strcmp(argv[1], "audit") == 0) return run(argc - 2, argv + 2, 1);
  if (strcmp(argv[1], "balance") == 0) return run(argc - 2, argv + 2, 0);
  return cli_usage_error("ledger", "unknown subcommand '%s'", argv[1]);
}
