/*
 * cli.c -- the helpers every `hanse` command uses (see cli.h).
 *
 * The option parser is deliberately small: long options only, each
 * declared by the command that takes it, so `hanse <cmd> --help` and the
 * error for an unknown option come from the same table. Abbreviations are
 * not accepted: a script that works today keeps working when an option is
 * added tomorrow.
 *
 * Key pairs read from files live in sodium_malloc'd memory (guard pages,
 * locked against swap where allowed) and are wiped on free; the file's
 * JSON text is wiped by hanse_keyfile_read.
 */
#include "cli/cli.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/log.h"

cli_globals cli_g;

void cli_globals_init(void) {
  const char *e;
  cli_g.node = (e = getenv("HANSE_NODE")) && *e ? e : CLI_NODE_DEFAULT;
  cli_g.chain_set = (e = getenv("HANSE_CHAIN")) && *e;
  cli_g.chain = cli_g.chain_set ? e : CLI_CHAIN_DEFAULT;
  cli_g.key = (e = getenv("HANSE_KEY")) && *e ? e : cli_default_key_path();
}

const char *cli_default_key_path(void) {
  static char path[1024];
  const char *home = getenv("HOME");
  snprintf(path, sizeof path, "%s/.hanse/key.json", home && *home ? home : ".");
  return path;
}

/* ---- options ---- */

static cli_opt *find_opt(cli_opt *opts, const char *name, size_t len) {
  for (cli_opt *o = opts; o && o->name; o++)
    if (strlen(o->name) == len && memcmp(o->name, name, len) == 0) return o;
  return NULL;
}

int cli_parse(const char *cmd, const char *usage, cli_opt *opts, int argc,
              char **argv, const char **pos, int npos_min, int npos_max,
              int *npos) {
  HANSE_ASSERT(npos_max <= CLI_POSITIONAL_MAX);
  int n = 0, options_done = 0;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (!options_done && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
      fputs(usage, stdout);
      return CLI_EXIT_OK;
    }
    if (!options_done && strcmp(a, "--") == 0) {
      options_done = 1;
      continue;
    }
    if (!options_done && a[0] == '-' && a[1] != 0) {
      if (a[1] != '-')
        return cli_usage_error(cmd, "unknown option '%s' (options are --long)", a);
      const char *name = a + 2, *eq = strchr(name, '=');
      size_t len = eq ? (size_t)(eq - name) : strlen(name);
      cli_opt *o = find_opt(opts, name, len);
      if (o == NULL) return cli_usage_error(cmd, "unknown option '--%.*s'", (int)len, name);
      if (o->arg == NULL) {
        if (eq) return cli_usage_error(cmd, "option '--%s' takes no value", o->name);
        o->set = 1;
        continue;
      }
      if (eq) {
        o->value = eq + 1;
      } else {
        if (i + 1 >= argc)
          return cli_usage_error(cmd, "option '--%s' needs a value %s", o->name, o->arg);
        o->value = argv[++i];
      }
      o->set = 1;
      continue;
    }
    if (n >= npos_max)
      return cli_usage_error(cmd, "unexpected argument '%s'", a);
    pos[n++] = a;
  }
  if (n < npos_min)
    return cli_usage_error(cmd, "missing argument%s", npos_min - n > 1 ? "s" : "");
  if (npos) *npos = n;
  return CLI_GO;
}

const char *cli_opt_str(const cli_opt *opts, const char *name, const char *fallback) {
  for (const cli_opt *o = opts; o && o->name; o++)
    if (strcmp(o->name, name) == 0) return o->set && o->value ? o->value : fallback;
  HANSE_ASSERT(!"option not declared");
  return fallback;
}

int cli_opt_set(const cli_opt *opts, const char *name) {
  for (const cli_opt *o = opts; o && o->name; o++)
    if (strcmp(o->name, name) == 0) return o->set;
  HANSE_ASSERT(!"option not declared");
  return 0;
}

/* ---- failures and output ---- */

int cli_fail(const hanse_reject *rej) {
  fprintf(stderr, "hanse: %s: %s\n", rej->code[0] ? rej->code : "internal.error",
          rej->message[0] ? rej->message : "failed");
  return CLI_EXIT_FAIL;
}

int cli_failf(const char *code, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "hanse: %s: ", code);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return CLI_EXIT_FAIL;
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "hanse: %s%s", cmd ? cmd : "", cmd ? ": " : "");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, " (see 'hanse %s%s--help')\n", cmd ? cmd : "", cmd ? " " : "");
  return CLI_EXIT_USAGE;
}

void cli_print_json(json_t *doc) {
  json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  fputc('\n', stdout);
  fflush(stdout);
}

/* ---- numbers ---- */

int cli_parse_u64(const char *s, uint64_t max, uint64_t *out) {
  if (s == NULL || *s == 0 || strlen(s) > 20) return 0;
  for (const char *p = s; *p; p++)
    if (*p < '0' || *p > '9') return 0;
  errno = 0;
  unsigned long long v = strtoull(s, NULL, 10);
  if (errno != 0 || v > max) return 0;
  *out = v;
  return 1;
}

void cli_format_amount(char *out, size_t n, uint64_t amount, int decimals) {
  char digits[32];
  int len = snprintf(digits, sizeof digits, "%" PRIu64, amount);
  if (decimals < 0 || decimals > HANSE_ASSET_DECIMALS_MAX) decimals = 0;
  /* Leading zeros so that one digit stands before the point: 5 -> 0.05. */
  char padded[64];
  int p = 0;
  for (; p < decimals + 1 - len; p++) padded[p] = '0';
  memcpy(padded + p, digits, (size_t)len + 1);
  int whole = p + len - decimals;
  /* The whole part in groups of three: 1,234,567. */
  char text[96];
  int t = 0;
  for (int i = 0; i < whole; i++) {
    if (i > 0 && (whole - i) % 3 == 0) text[t++] = ',';
    text[t++] = padded[i];
  }
  if (decimals > 0) {
    text[t++] = '.';
    memcpy(text + t, padded + whole, (size_t)decimals);
    t += decimals;
  }
  text[t] = 0;
  snprintf(out, n, "%s", text);
}

/* ---- files ---- */

int cli_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

int cli_mkdir_p(const char *path, unsigned mode) { return hanse_mkdir_p(path, mode); }

hanse_keypair *cli_key_load(const char *path, hanse_reject *rej) {
  hanse_keypair *kp = sodium_malloc(sizeof *kp);
  if (kp == NULL) {
    hanse_reject_set(rej, HANSE_ERR(NOMEM), "cannot allocate guarded memory for a key");
    return NULL;
  }
  int rc = hanse_keyfile_read(path, kp);
  if (rc == HANSE_OK) return kp;
  sodium_free(kp);
  if (!cli_exists(path))
    hanse_reject_code(rej, "key.missing", 0, "no key file %s (create one with 'hanse keygen')",
                      path);
  else
    hanse_reject_code(rej, "key.bad_file", 0,
                      "%s is not a readable Hanse key file {\"public\",\"seed\"}", path);
  return NULL;
}

void cli_key_free(hanse_keypair *kp) {
  if (kp == NULL) return;
  hanse_keypair_wipe(kp);
  sodium_free(kp);
}

int cli_hash_file(const char *path, hanse_hash *out, hanse_reject *rej) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return hanse_reject_code(rej, "file.unreadable", 0, "cannot open %s: %s", path,
                             strerror(errno));
  hanse_sha256_state st;
  hanse_sha256_init(&st);
  unsigned char chunk[64 * 1024];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) hanse_sha256_update(&st, chunk, n);
  int bad = ferror(f);
  fclose(f);
  if (bad) return hanse_reject_code(rej, "file.unreadable", 0, "cannot read %s", path);
  hanse_sha256_final(&st, out);
  return HANSE_OK;
}

/* ---- talking to a node ---- */

static hanse_keypair *signing_key;

static void signing_key_free(void) {
  cli_key_free(signing_key);
  signing_key = NULL;
}

int cli_client_open(const char *node, const char *chain, const char *key_path,
                    hanse_client **out, hanse_reject *rej) {
  *out = NULL;
  if (signing_key == NULL && key_path != NULL && cli_exists(key_path)) {
    signing_key = cli_key_load(key_path, rej);
    if (signing_key == NULL) return HANSE_ERR(INVALID);
    atexit(signing_key_free);
  }
  int rc = hanse_client_create(node, chain, out, rej);
  if (rc == HANSE_OK && signing_key != NULL) hanse_client_set_signer(*out, signing_key);
  return rc;
}

int cli_send(hanse_client *c, const hanse_keypair *kp, const hanse_client_op *op,
             uint64_t seq, int wait, json_t **result, hanse_reject *rej) {
  *result = NULL;
  int rc = HANSE_OK;
  if (seq == 0) rc = hanse_client_next_seq(c, &kp->pub, &seq, rej);
  if (rc != HANSE_OK) return rc;
  hanse_buf tx;
  hanse_buf_init(&tx);
  rc = hanse_client_tx_build(c, op, seq, kp, &tx, NULL, rej);
  if (rc == HANSE_OK) {
    hanse_client_entry e = {HANSE_TYPE_TX, tx.data, tx.len};
    rc = hanse_client_submit(c, &e, 1, wait ? HANSE_SUBMIT_WAIT : 0, 0, result, rej);
  }
  hanse_buf_free(&tx);
  if (rc == HANSE_OK) rc = hanse_client_result_check(*result, !wait, rej);
  return rc;
}
