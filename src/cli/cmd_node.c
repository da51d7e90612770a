/*
 * cmd_node.c -- `hanse node`: run a node on a data directory until SIGINT
 * or SIGTERM (hanse_node_run in src/node does the work; this file only
 * turns the command line into a hanse_node_config).
 */
#include <stdio.h>
#include <string.h>

#include "chain/module.h"
#include "cli/cli.h"
#include "node/node.h"

const char cmd_node_usage[] =
    "usage: hanse node --data DIR [--port 8080] [--host 127.0.0.1]\n"
    "                  [--block-interval-ms 100] [--block-max-txs 10000]\n"
    "                  [--verify-threads N] [--public-url URL]\n"
    "                  [--cluster CHAIN --raft-id N --peers LIST [--raft-addr HOST:PORT]\n"
    "                   [--snapshot-every N] [--join]]\n"
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
    "  --block-max-txs N        at most this many transactions per block (default 10000;\n"
    "                           1000 with --cluster)\n"
    "  --verify-threads N       signature-check threads (default: one per core)\n"
    "  --public-url URL         base of the product links /p/{digital link} and their\n"
    "                           QR codes, e.g. https://shop.example (default: http://\n"
    "                           and the Host header of each request)\n"
    "\n"
    "cluster mode (Raft; without --cluster every chain runs on this node alone):\n"
    "  --cluster CHAIN          replicate chain CHAIN with the nodes of --peers; its\n"
    "                           genesis must list every member's node key (DIR/node.key)\n"
    "                           in \"validators\"\n"
    "  --raft-id N              this node's id in --peers\n"
    "  --peers LIST             every member, this node included, the same list on each:\n"
    "                           ID@HOST:PORT@URL,... -- Raft id, Raft address (IPv4),\n"
    "                           API base URL, e.g.\n"
    "                           1@127.0.0.1:9001@http://127.0.0.1:8081,2@127.0.0.1:9002@...\n"
    "  --raft-addr HOST:PORT    where this node's Raft listens (default: its --peers entry)\n"
    "  --snapshot-every N       a Raft snapshot every N blocks, N kept behind it (default\n"
    "                           512); a node further behind fetches the blocks it lacks\n"
    "                           from its peers' APIs, then follows the log\n"
    "  --join                   this node was added by a vote (member.node_propose):\n"
    "                           do not bootstrap Raft; wait for the leader to add it,\n"
    "                           first as a non-voter that catches up, then as a voter\n"
    "Followers forward submissions to the leader; the Raft log lives in\n"
    "DIR/chains/CHAIN/raft/. See README.md, \"A cluster of three nodes\".\n";

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
                    {"public-url", "URL", NULL, 0},
                    {"cluster", "CHAIN", NULL, 0},
                    {"raft-id", "N", NULL, 0},
                    {"raft-addr", "HOST:PORT", NULL, 0},
                    {"peers", "LIST", NULL, 0},
                    {"snapshot-every", "N", NULL, 0},
                    {"join", NULL, NULL, 0},
                    {NULL, NULL, NULL, 0}};
  const char *pos[CLI_POSITIONAL_MAX];
  int rc = cli_parse("node", cmd_node_usage, opts, argc - 1, argv + 1, pos, 0, 0, NULL);
  if (rc != CLI_GO) return rc;
  hanse_node_config cfg = {
      .data_dir = cli_opt_str(opts, "data", NULL),
      .host = cli_opt_str(opts, "host", "127.0.0.1"),
      .public_url = cli_opt_str(opts, "public-url", NULL),
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

  hanse_reject rej;
  hanse_reject_clear(&rej);
  hanse_cluster_config cluster;
  const char *cluster_chain = cli_opt_str(opts, "cluster", NULL);
  if (cluster_chain) {
    memset(&cluster, 0, sizeof cluster);
    if (!hanse_chain_id_valid(cluster_chain, strlen(cluster_chain)))
      return cli_usage_error("node", "--cluster: '%s' is not a chain id", cluster_chain);
    snprintf(cluster.chain_id, sizeof cluster.chain_id, "%s", cluster_chain);
    const char *peers = cli_opt_str(opts, "peers", NULL);
    const char *id = cli_opt_str(opts, "raft-id", NULL);
    if (peers == NULL || id == NULL)
      return cli_usage_error("node", "--cluster needs --raft-id and --peers");
    if (!cli_parse_u64(id, 1000000, &cluster.self_id) || cluster.self_id == 0)
      return cli_usage_error("node", "--raft-id must be an integer from 1 to 1000000");
    if (hanse_cluster_parse_members(peers, &cluster, &rej) != HANSE_OK)
      return cli_usage_error("node", "--peers: %s", rej.message);
    if (hanse_cluster_member_find(&cluster, cluster.self_id) == NULL)
      return cli_usage_error("node", "--raft-id %s is not in --peers", id);
    const char *addr = cli_opt_str(opts, "raft-addr", NULL);
    if (addr) {
      if (strlen(addr) >= sizeof cluster.raft_addr)
        return cli_usage_error("node", "--raft-addr is too long");
      snprintf(cluster.raft_addr, sizeof cluster.raft_addr, "%s", addr);
    }
    int every;
    if ((rc = int_opt(opts, "snapshot-every", 2, 1000000, HANSE_RAFT_SNAPSHOT_EVERY_DEFAULT,
                      &every)) != CLI_GO)
      return rc;
    cluster.snapshot_every = (uint32_t)every;
    cluster.join = cli_opt_set(opts, "join");
    cfg.cluster = &cluster;
    /* Smaller blocks keep a follower's apply within the election timeout
     * (limits.h); an explicit --block-max-txs wins. */
    if (cli_opt_str(opts, "block-max-txs", NULL) == NULL)
      cfg.block_max_txs = HANSE_CLUSTER_BLOCK_TXS_DEFAULT;
  } else if (cli_opt_str(opts, "peers", NULL) || cli_opt_str(opts, "raft-id", NULL) ||
             cli_opt_str(opts, "raft-addr", NULL) || cli_opt_str(opts, "snapshot-every", NULL) || cli_opt_set(opts, "join")) {
    return cli_usage_error("node", "--peers, --raft-id, --raft-addr, --snapshot-every and "
                                   "--join go with --cluster CHAIN");
  }

  hanse_modules_register_all();
  if (hanse_node_run(&cfg, &rej) != HANSE_OK) return cli_fail(&rej);
  return CLI_EXIT_OK;
}
