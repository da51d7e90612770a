/*
 * cmd_fx.c -- `hanse fx quote`: a market maker's signed exchange-rate
 * quote, printed as JSON (hanse_client_fx_quote).
 *
 * Nothing is sent: the quote is made where the maker's key is and given
 * to the payer, who carries it in an fx.pay (`hanse tx submit fx.pay
 * --payload-file ...`). The validity window is in milliseconds of block
 * time; by default it starts now (this machine's clock) and lasts an
 * hour.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

const char cmd_fx_usage[] =
    "usage: hanse fx quote --id ID --maker ORG --sell ASSET --buy ASSET --rate NUM/DEN\n"
    "                      --max N --buy-account ACCT --sell-account ACCT\n"
    "                      [--from MS] [--until MS | --valid-for SECONDS] [--key FILE]\n"
    "\n"
    "Print a quote signed by your key: ORG sells ASSET (--sell) for ASSET (--buy)\n"
    "at NUM/DEN units of sell per unit of buy, for at most N of buy in all,\n"
    "through its accounts --buy-account (receives buy) and --sell-account (pays\n"
    "sell). Your key must be an active key of ORG when the payment executes.\n"
    "  --from MS          valid from this block time, ms (default: now)\n"
    "  --until MS         valid until, not including, this time (ms)\n"
    "  --valid-for S      or: valid for S seconds from --from (default 3600)\n"
    "  --key FILE         the maker's key (env HANSE_KEY, default ~/.hanse/key.json)\n";

static int quote(int argc, char **argv) {
  cli_opt opts[] = {{"id", "ID", NULL, 0},           {"maker", "ORG", NULL, 0},
                    {"sell", "ASSET", NULL, 0},      {"buy", "ASSET", NULL, 0},
                    {"rate", "NUM/DEN", NULL, 0},    {"max", "N", NULL, 0},
                    {"buy-account", "ACCT", NULL, 0}, {"sell-account", "ACCT", NULL, 0},
                    {"from", "MS", NULL, 0},         {"until", "MS", NULL, 0},
                    {"valid-for", "SECONDS", NULL, 0}, {"key", "FILE", NULL, 0},
                    {NULL, NULL, NULL, 0}};
  const char *pos[CLI_POSITIONAL_MAX];
  const char *cmd = "fx quote";
  int rc = cli_parse(cmd, cmd_fx_usage, opts, argc, argv, pos, 0, 0, NULL);
  if (rc != CLI_GO) return rc;
  hanse_fx_quote_spec s = {cli_opt_str(opts, "id", NULL),
                           cli_opt_str(opts, "maker", NULL),
                           cli_opt_str(opts, "sell", NULL),
                           cli_opt_str(opts, "buy", NULL),
                           cli_opt_str(opts, "buy-account", NULL),
                           cli_opt_str(opts, "sell-account", NULL),
                           0, 0, 0, 0, 0};
  if (!s.id || !s.maker || !s.sell || !s.buy || !s.buy_account || !s.sell_account)
    return cli_usage_error(cmd, "--id, --maker, --sell, --buy, --buy-account and "
                                "--sell-account are required");
  const char *rate = cli_opt_str(opts, "rate", "");
  const char *slash = strchr(rate, '/');
  char num[32];
  if (slash == NULL || (size_t)(slash - rate) >= sizeof num)
    return cli_usage_error(cmd, "--rate must be NUM/DEN, e.g. 10850/10000");
  snprintf(num, sizeof num, "%.*s", (int)(slash - rate), rate);
  if (!cli_parse_u64(num, INT64_MAX, &s.num) || !cli_parse_u64(slash + 1, INT64_MAX, &s.den) ||
      s.num == 0 || s.den == 0)
    return cli_usage_error(cmd, "--rate must be NUM/DEN, integers from 1 to 2^63-1");
  if (!cli_parse_u64(cli_opt_str(opts, "max", ""), INT64_MAX, &s.max) || s.max == 0)
    return cli_usage_error(cmd, "--max must be an integer from 1 to 2^63-1");
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  s.valid_from_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
  if (cli_opt_set(opts, "from") &&
      !cli_parse_u64(cli_opt_str(opts, "from", ""), INT64_MAX, &s.valid_from_ms))
    return cli_usage_error(cmd, "--from must be a time in ms");
  uint64_t secs = 3600;
  if (cli_opt_set(opts, "until")) {
    if (cli_opt_set(opts, "valid-for"))
      return cli_usage_error(cmd, "give --until or --valid-for, not both");
    if (!cli_parse_u64(cli_opt_str(opts, "until", ""), INT64_MAX, &s.valid_until_ms))
      return cli_usage_error(cmd, "--until must be a time in ms");
  } else {
    if (cli_opt_set(opts, "valid-for") &&
        (!cli_parse_u64(cli_opt_str(opts, "valid-for", ""), UINT32_MAX, &secs) || secs == 0))
      return cli_usage_error(cmd, "--valid-for must be seconds, from 1");
    s.valid_until_ms = s.valid_from_ms + secs * 1000u;
  }
  hanse_reject rej;
  hanse_reject_clear(&rej);
  json_t *q = NULL;
  hanse_keypair *kp = cli_key_load(cli_opt_str(opts, "key", cli_g.key), &rej);
  rc = kp ? hanse_client_fx_quote(&s, kp, &q, &rej) : HANSE_ERR(INVALID);
  cli_key_free(kp);
  if (rc == HANSE_OK) cli_print_json(q);
  json_decref(q);
  return rc == HANSE_OK ? CLI_EXIT_OK : cli_fail(&rej);
}

int cmd_fx(int argc, char **argv) {
  if (argc < 2) return cli_usage_error("fx", "missing a subcommand: quote");
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(cmd_fx_usage, stdout);
    return CLI_EXIT_OK;
  }
  if (strcmp(argv[1], "quote") == 0) return quote(argc - 2, argv + 2);
  return cli_usage_error("fx", "unknown subcommand '%s'", argv[1]);
}
