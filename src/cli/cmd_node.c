/*
 * cmd_node.c -- `hanse node`: run a node on a data directory until SIGINT
 * or SIGTERM (hanse_node_run in src/node does the work; this file only
 * turns the command line into a hanse_node_config).
 */
#include <stdio.h>

#include "chain/module.h"
#include "cli/cli.h"
#include "node/node.h"

const char cmd_node_usage[] =
    "usage: hanse node --data DIR [--port 8080] [--host 127.0.0.1]\n"
    "                  [--block-interval-ms 100] [--block-max-txs 10000]\n"
    "                  [--verify-threads N]\n"
    "\n"
    "Run a node serving every chain in DIR/chains/ (see 'hanse init'): the\n"
    "HTTP API (docs/API.md) and the block explorer at http://HOST:PORT/.\n"
    "Stops cleanly on SIGINT (Ctrl-C) or SIGTERM.\n"
    "\n"
    "options:\n"
    "  --data DIR               data directory\n"
    "  --host ADDR              address to listen on (default 127.0.0.1)\n"
    "  --port N                 port (default 8080; 0 picks a free one)\n"
    "  --block-interval-ms N    propose a block at least this often (default 100)\n"
    "  --block-max-txs N        at most this many transactions per block (default 10000)\n"
    "  --verify-threads N       signature-check threads (default: one per core)\n";

static int int_opt(const cli_opt *opts, const char *name, long min, long max, long dflt,
                   int *out) {
  const char *s = cli_opt_str(opts, name, NULL);
  uint64_t v = (uint64_t)dflt;
  if (s && (!cli_parse_u64(s, (uint64_t)max, &v) || (long)v < min))
    return cli_usage_error("node", "--%s must be an integer from %ld to %ld", name, min, max);
  *out = (int)v;
  return CLI_GO;
}

int cmd_node(int argc, char **argv) {
  cli_opt opts[] = {{"data", "DIR", NULL, 0},
                    {"host", "ADDR", NULL, 0},
                    {"port", "N", NULL, 0},
                    {"block-interval-ms", "N", NULL, 0},
                    {"block-max-txs", "N", NULL, 0},
                    {"verify-threads", "N", NULL, 0},
                    {NULL, NULL, NULL, 0}};
  const char *pos[CLI_POSITIONAL_MAX];
  int rc = cli_parse("node", cmd_node_usage, opts, argc - 1, argv + 1, pos, 0, 0, NULL);
  if (rc != CLI_GO) return rc;
  hanse_node_config cfg = {
      .data_dir = cli_opt_str(opts, "data", NULL),
      .host = cli_opt_str(opts, "host", "127.0.0.1"),
  };
  if (cfg.data_dir == NULL) return cli_usage_error("node", "--data DIR is required");
  if ((rc = int_opt(opts, "port", 0, 65535, 8080, &cfg.port)) != CLI_GO) return rc;
  if ((rc = int_opt(opts, "block-interval-ms", 1, 3600000, HANSE_BLOCK_INTERVAL_MS_DEFAULT,
                    &cfg.block_interval_ms)) != CLI_GO)
    return rc;
  if ((rc = int_opt(opts, "block-max-txs", 1, HANSE_BLOCK_TX_MAX, HANSE_BLOCK_TXS_DEFAULT,
                    &cfg.block_max_txs)) != CLI_GO)
    return rc;
  if ((rc = int_opt(opts, "verify-threads", 0, 1024, 0, &cfg.verify_threads)) != CLI_GO)
    return rc;

  hanse_modules_register_all();
  hanse_reject rej;
  hanse_reject_clear(&rej);
  if (hanse_node_run(&cfg, &rej) != HANSE_OK) return cli_fail(&rej);
  return CLI_EXIT_OK;
}
