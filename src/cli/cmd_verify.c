/*
 * cmd_verify.c -- `hanse verify`: audit a chain offline, trusting nothing
 * stored (hanse_chain_audit: hashes, links, signatures, Merkle roots, and
 * a re-execution from genesis compared block by block and row by row).
 *
 * It reads the data directory directly, so it works with the node stopped
 * or running (SQLite's WAL lets it read a consistent snapshot). Progress
 * goes to stderr, rewritten in place on a terminal and a line every few
 * seconds otherwise; the verdict is one JSON line on stdout, or the first
 * bad block and transaction on stderr with exit status 1.
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/env.h"
#include "chain/chain.h"
#include "chain/module.h"
#include "cli/cli.h"

const char cmd_verify_usage[] =
    "usage: hanse verify --data DIR [--chain ID]\n"
    "\n"
    "Audit the chain in DIR/chains/<ID>/ from its genesis: every block's hash\n"
    "link, proposer signature and Merkle root, every transaction signature,\n"
    "and a re-execution of all transactions compared with the stored state\n"
    "digests, receipts and world state. Needs no running node.\n"
    "Prints a summary JSON line on success; on failure names the first bad\n"
    "block and transaction and exits 1.\n"
    "\n"
    "options:\n"
    "  --data DIR    data directory\n"
    "  --chain ID    chain (default: $HANSE_CHAIN, else the only chain in DIR)\n";

/* Progress no more often than this, so a fast audit is not slowed by the
 * terminal. */
#define VERIFY_PROGRESS_TTY_US 200000u
#define VERIFY_PROGRESS_LOG_US 5000000u

typedef struct progress {
  const hanse_env *env;
  uint64_t last_us;
  int tty;
  int shown;
} progress;

static void on_progress(void *ctx, uint64_t height, uint64_t tip) {
  progress *p = ctx;
  uint64_t now = hanse_mono_us(p->env);
  uint64_t every = p->tty ? VERIFY_PROGRESS_TTY_US : VERIFY_PROGRESS_LOG_US;
  if (height != tip && now - p->last_us < every) return;
  p->last_us = now;
  fprintf(stderr, p->tty ? "\rverify: block %" PRIu64 " of %" PRIu64 "   "
                         : "verify: block %" PRIu64 " of %" PRIu64 "\n",
          height, tip);
  p->shown = 1;
}

/* How many chains <data>/chains holds; the first one's id goes to out. */
static int count_chains(const char *data, char *out, size_t n) {
  char dir[1100];
  snprintf(dir, sizeof dir, "%s/chains", data);
  DIR *d = opendir(dir);
  if (d == NULL) return 0;
  int count = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t len = strlen(e->d_name);
    if (e->d_name[0] == '.' || !hanse_chain_id_valid(e->d_name, len) || len >= n) continue;
    if (count++ == 0) memcpy(out, e->d_name, len + 1);
  }
  closedir(d);
  return count;
}

int cmd_verify(int argc, char **argv) {
  cli_opt opts[] = {{"data", "DIR", NULL, 0}, {"chain", "ID", NULL, 0}, {NULL, NULL, NULL, 0}};
  const char *pos[CLI_POSITIONAL_MAX];
  int rc = cli_parse("verify", cmd_verify_usage, opts, argc - 1, argv + 1, pos, 0, 0, NULL);
  if (rc != CLI_GO) return rc;
  const char *data = cli_opt_str(opts, "data", NULL);
  if (data == NULL) return cli_usage_error("verify", "--data DIR is required");
  char found[HANSE_CHAIN_ID_MAX + 1];
  const char *chain = cli_opt_str(opts, "chain", NULL);
  if (chain == NULL && cli_g.chain_set) chain = cli_g.chain;
  if (chain == NULL) {
    int count = count_chains(data, found, sizeof found);
    if (count > 1)
      return cli_usage_error("verify", "%s holds %d chains: say which with --chain", data,
                             count);
    chain = count == 1 ? found : CLI_CHAIN_DEFAULT;
  }
  if (!hanse_chain_id_valid(chain, strlen(chain)))
    return cli_usage_error("verify", "'%s' is not a chain id", chain);
  char dir[1100];
  snprintf(dir, sizeof dir, "%s/chains/%s", data, chain);

  hanse_modules_register_all();
  progress p = {hanse_env_system(), 0, isatty(STDERR_FILENO), 0};
  uint64_t blocks = 0, txs = 0;
  int64_t bad_height = -1, bad_tx = -1;
  hanse_reject rej;
  hanse_reject_clear(&rej);
  rc = hanse_chain_audit(dir, &blocks, &txs, &bad_height, &bad_tx, on_progress, &p, &rej);
  if (p.shown && p.tty) fputc('\n', stderr);
  if (rc == HANSE_ERR(NOT_FOUND))
    return cli_failf("chain.unknown", "no chain '%s' in %s", chain, data);
  if (rc != HANSE_OK) {
    if (bad_height >= 0 && bad_tx >= 0)
      fprintf(stderr, "verify: FAILED at block %" PRId64 ", transaction %" PRId64 "\n",
              bad_height, bad_tx);
    else if (bad_height >= 0)
      fprintf(stderr, "verify: FAILED at block %" PRId64 "\n", bad_height);
    return cli_fail(&rej);
  }
  json_t *out = json_pack("{s:s, s:b, s:I, s:I, s:I}", "chain_id", chain, "ok", 1,
                          "blocks", (json_int_t)blocks, "transactions", (json_int_t)txs,
                          "height", (json_int_t)(blocks ? blocks - 1 : 0));
  json_dumpf(out, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
  fputc('\n', stdout);
  json_decref(out);
  return CLI_EXIT_OK;
}
