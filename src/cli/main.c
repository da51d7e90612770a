/*
 * main.c -- `hanse`: find the command, hand it the rest of the line.
 *
 *   hanse [--node URL] [--chain ID] [--key FILE] <command> [args...]
 *
 * Options before the command set the shared settings (cli_g) for any
 * command that uses them; each command also accepts them itself. Every
 * command lives in its own cmd_<name>.c with its usage text next to it, so
 * `hanse help <command>`, `hanse <command> --help` and the command's own
 * errors all speak from one place.
 *
 * Process set-up done here once for every command: libsodium (key
 * generation needs its random source), log level from HANSE_LOG (debug,
 * info, warn, error), and SIGPIPE ignored so a closed pipe on stdout is a
 * write error, not a silent death.
 */
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "base/log.h"
#include "cli/cli.h"

typedef struct command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *usage;
  const char *summary;
} command;

static const command commands[] = {
    {"keygen", cmd_keygen, cmd_keygen_usage, "create a key pair file"},
    {"init", cmd_init, cmd_init_usage, "create a chain in a data directory"},
    {"node", cmd_node, cmd_node_usage, "run a node (HTTP API and explorer)"},
    {"tx", cmd_tx, cmd_tx_usage, "sign and submit a transaction"},
    {"get", cmd_get, cmd_get_usage, "read blocks, transactions (with proof), balances, anchors, histories"},
    {"blob", cmd_blob, cmd_blob_usage, "store a document off chain and anchor it; fetch it, checked"},
    {"xchain", cmd_xchain, cmd_xchain_usage, "relay a message to another chain; inboxes and outboxes"},
    {"trace", cmd_trace, cmd_trace_pub_usage, "traceability: capture EPCIS documents; publish a product's record, read and verify it"},
    {"books", cmd_books, cmd_books_usage, "an enterprise's books: export them as an hledger journal"},
    {"fx", cmd_fx, cmd_fx_usage, "cross-currency payments: make a signed exchange-rate quote"},
    {"ledger", cmd_ledger, cmd_ledger_usage, "confidential ledger amounts: audit an asset, read an account"},
    {"verify", cmd_verify, cmd_verify_usage, "audit a data directory offline, from genesis"},
    {"demo", cmd_demo, cmd_demo_usage, "demo node: an alliance, an open and a private chain"},
};
#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

static void print_help(FILE *out) {
  fputs("usage: hanse [--node URL] [--chain ID] [--key FILE] <command> [options]\n"
        "\n"
        "Hanse -- a permissioned blockchain node and its client.\n"
        "\n"
        "commands:\n",
        out);
  for (size_t i = 0; i < COMMAND_COUNT; i++)
    fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
  fputs("  help     this text, or 'hanse help <command>'\n"
        "\n"
        "shared options (any command that talks to a node or signs):\n"
        "  --node URL    node base URL      (env HANSE_NODE, default " CLI_NODE_DEFAULT ")\n"
        "  --chain ID    chain id           (env HANSE_CHAIN, default " CLI_CHAIN_DEFAULT ")\n"
        "  --key FILE    signing key file   (env HANSE_KEY, default ~/.hanse/key.json)\n"
        "\n"
        "exit status: 0 done, 1 failed (\"hanse: <code>: <message>\" on stderr),\n"
        "2 bad command line. Results are JSON on stdout.\n"
        "\n"
        "Start here:  hanse demo       (then open the explorer it prints)\n",
        out);
}

static const command *find_command(const char *name) {
  for (size_t i = 0; i < COMMAND_COUNT; i++)
    if (strcmp(commands[i].name, name) == 0) return &commands[i];
  return NULL;
}

static int help(int argc, char **argv) {
  if (argc < 2) {
    print_help(stdout);
    return CLI_EXIT_OK;
  }
  const command *c = find_command(argv[1]);
  if (c == NULL) return cli_usage_error(NULL, "unknown command '%s'", argv[1]);
  fputs(c->usage, stdout);
  return CLI_EXIT_OK;
}

static void set_log_level(void) {
  const char *l = getenv("HANSE_LOG");
  if (l == NULL) return;
  if (strcmp(l, "debug") == 0) hanse_log_set_level(HANSE_LOG_DEBUG);
  else if (strcmp(l, "info") == 0) hanse_log_set_level(HANSE_LOG_INFO);
  else if (strcmp(l, "warn") == 0) hanse_log_set_level(HANSE_LOG_WARN);
  else if (strcmp(l, "error") == 0) hanse_log_set_level(HANSE_LOG_ERROR);
}

int main(int argc, char **argv) {
  if (sodium_init() < 0) {
    fprintf(stderr, "hanse: internal.error: libsodium cannot initialise\n");
    return CLI_EXIT_FAIL;
  }
  signal(SIGPIPE, SIG_IGN);
  set_log_level();
  cli_globals_init();

  int i = 1;
  while (i < argc && argv[i][0] == '-') {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      print_help(stdout);
      return CLI_EXIT_OK;
    }
    const char **slot = NULL;
    size_t len = 0;
    if (strncmp(a, "--node", 6) == 0) slot = &cli_g.node, len = 6;
    else if (strncmp(a, "--chain", 7) == 0) slot = &cli_g.chain, len = 7;
    else if (strncmp(a, "--key", 5) == 0) slot = &cli_g.key, len = 5;
    if (slot == &cli_g.chain) cli_g.chain_set = 1;
    if (slot && a[len] == '=') {
      *slot = a + len + 1;
      i++;
    } else if (slot && a[len] == 0 && i + 1 < argc) {
      *slot = argv[i + 1];
      i += 2;
    } else if (slot && a[len] == 0) {
      return cli_usage_error(NULL, "option '%s' needs a value", a);
    } else {
      return cli_usage_error(NULL, "unknown option '%s' before the command", a);
    }
  }
  if (i >= argc) {
    print_help(stderr);
    return CLI_EXIT_USAGE;
  }
  if (strcmp(argv[i], "help") == 0) return help(argc - i, argv + i);
  const command *c = find_command(argv[i]);
  if (c == NULL) return cli_usage_error(NULL, "unknown command '%s'", argv[i]);
  int rc = c->run(argc - i, argv + i);
  if (fflush(stdout) != 0 && rc == CLI_EXIT_OK)
    return cli_failf("internal.io", "cannot write the output");
  return rc;
}
