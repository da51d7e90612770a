/*
 * cmd_books.c -- `hanse books export`: an enterprise's books as an
 * hledger journal.
 *
 * The node builds the journal (query books/export, books_export.c); this
 * command fetches it -- signed with --key, as chains with a policy want
 * for financial reads -- and writes the text as it came, so that what
 * hledger reads is byte for byte what the chain answered. Without --out
 * the journal goes to stdout (pipe it: `hanse books export ... | hledger
 * -f - bal`); with --out it goes to FILE and stdout gets a JSON summary.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

const char cmd_books_usage[] =
    "usage: hanse books export --owner OWNER [--from D] [--to D] [--out FILE]\n"
    "\n"
    "Export an enterprise's books as an hledger journal (commodity and account\n"
    "directives, one transaction per entry), which `hledger -f FILE check\n"
    "--strict` accepts and whose balances are Hanse's own.\n"
    "  --owner OWNER   the enterprise: organisation id or key hex\n"
    "  --from D        first day or time: YYYY-MM-DD (UTC) or ms\n"
    "  --to D          end, exclusive: YYYY-MM-DD (UTC) or ms\n"
    "  --out FILE      write the journal to FILE (default: stdout) and print\n"
    "                  {\"owner\",\"entries\",\"out\"}\n"
    "  --node URL      node (env HANSE_NODE, default " CLI_NODE_DEFAULT ")\n"
    "  --chain ID      chain (env HANSE_CHAIN, default " CLI_CHAIN_DEFAULT ")\n"
    "  --key FILE      signs the request when the file exists (env HANSE_KEY)\n";

/* Write text to path, or stdout when path is NULL. */
static int write_text(const char *path, const char *text, size_t len) {
  FILE *f = path ? fopen(path, "w") : stdout;
  if (f == NULL) return cli_failf("cli.io", "cannot open %s: %s", path, strerror(errno));
  int ok = fwrite(text, 1, len, f) == len;
  ok &= path ? fclose(f) == 0 : fflush(f) == 0;
  if (!ok) return cli_failf("cli.io", "cannot write %s", path ? path : "stdout");
  return CLI_EXIT_OK;
}

static int books_export(int argc, char **argv) {
  cli_opt opts[] = {{"owner", "OWNER", NULL, 0}, {"from", "D", NULL, 0},
                    {"to", "D", NULL, 0},        {"out", "FILE", NULL, 0},
                    {"node", "URL", NULL, 0},    {"chain", "ID", NULL, 0},
                    {"key", "FILE", NULL, 0},    {NULL, NULL, NULL, 0}};
  const char *pos[CLI_POSITIONAL_MAX];
  const char *cmd = "books export";
  int rc = cli_parse(cmd, cmd_books_usage, opts, argc, argv, pos, 0, 0, NULL);
  if (rc != CLI_GO) return rc;
  const char *owner = cli_opt_str(opts, "owner", NULL);
  if (owner == NULL || owner[0] == 0) return cli_usage_error(cmd, "--owner is required");
  const char *params[9];
  size_t n = 0;
  params[n++] = "owner";
  params[n++] = owner;
  static const char *const period[] = {"from", "to"};
  for (size_t i = 0; i < 2; i++) {
    const char *v = cli_opt_str(opts, period[i], NULL);
    if (v == NULL) continue;
    params[n++] = period[i];
    params[n++] = v;
  }
  params[n] = NULL;
  hanse_reject rej;
  hanse_reject_clear(&rej);
  hanse_client *c = NULL;
  if (cli_client_open(cli_opt_str(opts, "node", cli_g.node), cli_opt_str(opts, "chain", cli_g.chain),
                      cli_opt_str(opts, "key", cli_g.key), &c, &rej) != HANSE_OK)
    return cli_fail(&rej);
  json_t *doc = NULL;
  rc = hanse_client_query(c, "books", "export", params, &doc, &rej);
  hanse_client_destroy(c);
  json_t *journal = json_object_get(doc, "journal");
  if (rc == HANSE_OK && !json_is_string(journal))
    rc = hanse_reject_code(&rej, "client.bad_response", 0, "the answer has no journal");
  if (rc != HANSE_OK) {
    json_decref(doc);
    return cli_fail(&rej);
  }
  const char *out = cli_opt_str(opts, "out", NULL);
  rc = write_text(out, json_string_value(journal), json_string_length(journal));
  if (rc == CLI_EXIT_OK && out) {
    json_t *summary = json_pack("{s:s, s:O, s:s}", "owner", owner, "entries",
                                json_object_get(doc, "entries"), "out", out);
    cli_print_json(summary);
    json_decref(summary);
  }
  json_decref(doc);
  return rc;
}

int cmd_books(int argc, char **argv) {
  if (argc < 2) return cli_usage_error("books", "missing what to do (export)");
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(cmd_books_usage, stdout);
    return CLI_EXIT_OK;
  }
  if (strcmp(argv[1], "export") == 0) return books_export(argc - 2, argv + 2);
  return cli_usage_error("books", "unknown subcommand '%s'", argv[1]);
}
