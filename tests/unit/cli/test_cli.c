/*
 * test_cli.c -- the helpers of the `hanse` command line (src/cli/cli.h)
 * that need no node.
 *
 * The option parser: long options with a value given as `--name VALUE` or
 * `--name=VALUE`, flags, "--" ending the options, positional counts, help,
 * and a usage error (exit status 2, one line on stderr naming the problem)
 * for every malformed line, with no abbreviations. Numbers: digits only,
 * bounded. Amounts for people: decimals and thousands separators. Settings
 * resolved from the environment and the defaults. Files: mkdir -p, the
 * default key path, key files that load (and the errors for a missing or
 * broken one), file hashing in chunks. And the creation step of
 * `hanse init` (cli_init_chain): a node key and a chain that opens, a
 * second chain beside it reusing the key, refusals for an existing chain,
 * a bad genesis and a broken key file; `hanse keygen --out` end to end.
 *
 * stdout and stderr are captured into temporary files where the test
 * reads what a command printed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chain/chain.h"
#include "cli/cli.h"
#include "fixture.h"

/* ---- a temporary directory and captured output ------------------------ */

typedef struct cli_env {
  char dir[256];
} cli_env;

static int setup_dir(void **state) {
  cli_env *e = calloc(1, sizeof *e);
  if (e == NULL) return -1;
  const char *tmp = getenv("TMPDIR");
  snprintf(e->dir, sizeof e->dir, "%s/hanse-cli-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp(e->dir) == NULL) {
    free(e);
    return -1;
  }
  *state = e;
  return 0;
}

static int teardown_dir(void **state) {
  cli_env *e = *state;
  fx_rmrf(e->dir);
  free(e);
  return 0;
}

typedef struct capture {
  int fd;     /* 1 or 2 */
  int saved;
  FILE *file;
  char *text; /* after capture_end, malloc'd */
} capture;

static void capture_begin(capture *c, int fd) {
  fflush(fd == 1 ? stdout : stderr);
  c->fd = fd;
  c->file = tmpfile();
  assert_non_null(c->file);
  c->saved = dup(fd);
  assert_true(c->saved >= 0);
  assert_true(dup2(fileno(c->file), fd) >= 0);
  c->text = NULL;
}

static const char *capture_end(capture *c) {
  fflush(c->fd == 1 ? stdout : stderr);
  assert_true(dup2(c->saved, c->fd) >= 0);
  close(c->saved);
  long n = ftell(c->file);
  assert_true(n >= 0);
  c->text = calloc(1, (size_t)n + 1);
  assert_non_null(c->text);
  rewind(c->file);
  assert_int_equal(fread(c->text, 1, (size_t)n, c->file), (size_t)n);
  fclose(c->file);
  return c->text;
}

static void capture_free(capture *c) {
  free(c->text);
  c->text = NULL;
}

/* ---- options ---------------------------------------------------------------- */

/* The options of a made-up command; OPTS_DECL declares them, OPTS_RESET
 * clears what a parse filled in. */
#define OPTS_DECL                                                                  \
  cli_opt opts[] = {{"node", "URL", NULL, 0}, {"wait", NULL, NULL, 0},             \
                    {"seq", "N", NULL, 0}, {NULL, NULL, NULL, 0}}
#define OPTS_RESET                                                                 \
  for (cli_opt *o_ = opts; o_->name; o_++) o_->value = NULL, o_->set = 0

static void test_parse_options(void **state) {
  (void)state;
  OPTS_DECL;
  char *argv[] = {"a", "--node", "http://x:1", "--wait", "b", "--seq=7", "--", "--c", "-", NULL};
  const char *pos[CLI_POSITIONAL_MAX];
  int npos = -1;
  assert_int_equal(cli_parse("t", "usage\n", opts, 9, argv, pos, 1, 4, &npos), CLI_GO);
  assert_int_equal(npos, 4);
  assert_string_equal(pos[0], "a");
  assert_string_equal(pos[1], "b");
  assert_string_equal(pos[2], "--c"); /* after "--": a word, not an option */
  assert_string_equal(pos[3], "-");   /* a lone dash is a word */
  assert_string_equal(cli_opt_str(opts, "node", "dflt"), "http://x:1");
  assert_string_equal(cli_opt_str(opts, "seq", "dflt"), "7");
  assert_int_equal(cli_opt_set(opts, "wait"), 1);
  assert_int_equal(cli_opt_set(opts, "seq"), 1);
  /* values are borrowed from argv */
  assert_ptr_equal(cli_opt_str(opts, "node", NULL), argv[2]);

  OPTS_RESET;
  char *none[] = {NULL};
  assert_int_equal(cli_parse("t", "usage\n", opts, 0, none, pos, 0, 0, NULL), CLI_GO);
  assert_string_equal(cli_opt_str(opts, "node", "dflt"), "dflt");
  assert_null(cli_opt_str(opts, "seq", NULL));
  assert_int_equal(cli_opt_set(opts, "wait"), 0);

  /* an empty value is a value; "--seq=" too */
  OPTS_RESET;
  char *empty[] = {"--node", "", "--seq=", NULL};
  assert_int_equal(cli_parse("t", "u", opts, 3, empty, pos, 0, 0, &npos), CLI_GO);
  assert_string_equal(cli_opt_str(opts, "node", "dflt"), "");
  assert_string_equal(cli_opt_str(opts, "seq", "dflt"), "");
  assert_int_equal(npos, 0);

  /* a value that looks like an option is taken as the value */
  OPTS_RESET;
  char *dashval[] = {"--node", "--wait", NULL};
  assert_int_equal(cli_parse("t", "u", opts, 2, dashval, pos, 0, 0, NULL), CLI_GO);
  assert_string_equal(cli_opt_str(opts, "node", NULL), "--wait");
  assert_int_equal(cli_opt_set(opts, "wait"), 0);
}

static void test_parse_help(void **state) {
  (void)state;
  const char *pos[CLI_POSITIONAL_MAX];
  static const char *helps[] = {"--help", "-h", NULL};
  for (int i = 0; helps[i]; i++) {
    OPTS_DECL;
    char *argv[] = {"x", (char *)helps[i], "--unknown", NULL};
    capture out;
    capture_begin(&out, 1);
    int rc = cli_parse("t", "usage: hanse t X\n", opts, 3, argv, pos, 2, 2, NULL);
    const char *text = capture_end(&out);
    assert_int_equal(rc, CLI_EXIT_OK);
    assert_string_equal(text, "usage: hanse t X\n");
    capture_free(&out);
  }
  /* after "--" it is a word */
  OPTS_DECL;
  char *argv[] = {"--", "--help", NULL};
  int npos;
  assert_int_equal(cli_parse("t", "u", opts, 2, argv, pos, 1, 1, &npos), CLI_GO);
  assert_string_equal(pos[0], "--help");
}

static void test_parse_usage_errors(void **state) {
  (void)state;
  static const struct {
    int argc;
    const char *argv[4];
    int min, max;
    const char *msg;
  } cases[] = {
      {1, {"--nope"}, 0, 2, "unknown option '--nope'"},
      {1, {"--nod"}, 0, 2, "unknown option '--nod'"}, /* no abbreviations */
      {1, {"--node-x=1"}, 0, 2, "unknown option '--node-x'"},
      {1, {"-n"}, 0, 2, "unknown option '-n' (options are --long)"},
      {1, {"--node"}, 0, 2, "option '--node' needs a value URL"},
      {1, {"--wait=1"}, 0, 2, "option '--wait' takes no value"},
      {3, {"a", "b", "c"}, 0, 2, "unexpected argument 'c'"},
      {1, {"a"}, 0, 0, "unexpected argument 'a'"},
      {0, {NULL}, 1, 2, "missing argument"},
      {1, {"a"}, 3, 3, "missing arguments"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    OPTS_DECL;
    const char *pos[CLI_POSITIONAL_MAX];
    capture err;
    capture_begin(&err, 2);
    int rc = cli_parse("tx asset", "usage\n", opts, cases[i].argc, (char **)cases[i].argv, pos,
                       cases[i].min, cases[i].max, NULL);
    const char *text = capture_end(&err);
    assert_int_equal(rc, CLI_EXIT_USAGE);
    if (strstr(text, cases[i].msg) == NULL) fail_msg("case %zu: '%s' lacks '%s'", i, text, cases[i].msg);
    /* one line: "hanse: <cmd>: <what> (see 'hanse <cmd> --help')" */
    assert_true(strncmp(text, "hanse: tx asset: ", 17) == 0);
    assert_non_null(strstr(text, "(see 'hanse tx asset --help')\n"));
    assert_ptr_equal(strchr(text, '\n'), text + strlen(text) - 1);
    capture_free(&err);
  }
}

static void test_fail_messages(void **state) {
  (void)state;
  capture err;
  hanse_reject rej;
  hanse_reject_code(&rej, "asset.unknown", 404, "no asset %s", "EUR");
  capture_begin(&err, 2);
  int rc = cli_fail(&rej);
  assert_int_equal(rc, CLI_EXIT_FAIL);
  assert_string_equal(capture_end(&err), "hanse: asset.unknown: no asset EUR\n");
  capture_free(&err);
  memset(&rej, 0, sizeof rej);
  capture_begin(&err, 2);
  cli_fail(&rej);
  assert_string_equal(capture_end(&err), "hanse: internal.error: failed\n");
  capture_free(&err);
  capture_begin(&err, 2);
  assert_int_equal(cli_failf("key.missing", "no %d", 5), CLI_EXIT_FAIL);
  assert_string_equal(capture_end(&err), "hanse: key.missing: no 5\n");
  capture_free(&err);
  capture_begin(&err, 2);
  assert_int_equal(cli_usage_error(NULL, "what %s", "now"), CLI_EXIT_USAGE);
  assert_string_equal(capture_end(&err), "hanse: what now (see 'hanse --help')\n");
  capture_free(&err);

  capture out;
  json_t *j = json_pack("{s:i, s:s}", "b", 1, "a", "x");
  capture_begin(&out, 1);
  cli_print_json(j);
  const char *text = capture_end(&out);
  json_decref(j);
  /* pretty, keys in insertion order, one trailing newline */
  assert_string_equal(text, "{\n  \"b\": 1,\n  \"a\": \"x\"\n}\n");
  capture_free(&out);
}

/* ---- numbers ---------------------------------------------------------------- */

static void test_parse_u64(void **state) {
  (void)state;
  uint64_t v = 0;
  assert_int_equal(cli_parse_u64("0", 10, &v), 1);
  assert_true(v == 0);
  assert_int_equal(cli_parse_u64("10", 10, &v), 1);
  assert_true(v == 10);
  assert_int_equal(cli_parse_u64("007", 10, &v), 1);
  assert_true(v == 7);
  assert_int_equal(cli_parse_u64("18446744073709551615", UINT64_MAX, &v), 1);
  assert_true(v == UINT64_MAX);
  static const char *bad[] = {"", "11", "-1", "+1", " 1", "1 ", "1.0", "0x1", "1e3", "abc",
                              "18446744073709551616", NULL};
  for (int i = 0; bad[i]; i++) {
    v = 42;
    uint64_t max = strcmp(bad[i], "11") == 0 ? 10 : UINT64_MAX;
    if (cli_parse_u64(bad[i], max, &v) != 0) fail_msg("'%s' was accepted", bad[i]);
    assert_true(v == 42);
  }
  assert_int_equal(cli_parse_u64(NULL, 10, &v), 0);
}

static void test_format_amount(void **state) {
  (void)state;
  static const struct {
    uint64_t amount;
    int decimals;
    const char *want;
  } cases[] = {
      {123456, 2, "1,234.56"},
      {0, 0, "0"},
      {0, 2, "0.00"},
      {5, 2, "0.05"},
      {50, 2, "0.50"},
      {100, 2, "1.00"},
      {999, 0, "999"},
      {1000, 0, "1,000"},
      {1234567, 0, "1,234,567"},
      {123456789, 3, "123,456.789"},
      {1, 18, "0.000000000000000001"},
      {UINT64_MAX, 0, "18,446,744,073,709,551,615"},
      {UINT64_MAX, 18, "18.446744073709551615"},
      {UINT64_MAX, 2, "184,467,440,737,095,516.15"},
      {1234, -1, "1,234"}, /* out of range decimals: none */
      {1234, 19, "1,234"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char out[64];
    cli_format_amount(out, sizeof out, cases[i].amount, cases[i].decimals);
    if (strcmp(out, cases[i].want) != 0)
      fail_msg("%llu with %d decimals: '%s', want '%s'", (unsigned long long)cases[i].amount,
               cases[i].decimals, out, cases[i].want);
  }
  /* a small buffer is cut, never overrun */
  char small[6];
  memset(small, 'z', sizeof small);
  cli_format_amount(small, sizeof small, 123456, 2);
  assert_string_equal(small, "1,234");
}

/* ---- settings and files ---------------------------------------------------- */

static void test_globals_and_key_path(void **state) {
  cli_env *e = *state;
  char *home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
  setenv("HOME", e->dir, 1);
  char want[400];
  snprintf(want, sizeof want, "%s/.hanse/key.json", e->dir);
  assert_string_equal(cli_default_key_path(), want);

  unsetenv("HANSE_NODE");
  unsetenv("HANSE_CHAIN");
  unsetenv("HANSE_KEY");
  cli_globals_init();
  assert_string_equal(cli_g.node, CLI_NODE_DEFAULT);
  assert_string_equal(cli_g.chain, CLI_CHAIN_DEFAULT);
  assert_int_equal(cli_g.chain_set, 0);
  assert_string_equal(cli_g.key, want);

  setenv("HANSE_NODE", "http://10.0.0.1:9", 1);
  setenv("HANSE_CHAIN", "trade", 1);
  setenv("HANSE_KEY", "/k.json", 1);
  cli_globals_init();
  assert_string_equal(cli_g.node, "http://10.0.0.1:9");
  assert_string_equal(cli_g.chain, "trade");
  assert_int_equal(cli_g.chain_set, 1);
  assert_string_equal(cli_g.key, "/k.json");

  /* empty variables count as unset */
  setenv("HANSE_NODE", "", 1);
  setenv("HANSE_CHAIN", "", 1);
  setenv("HANSE_KEY", "", 1);
  cli_globals_init();
  assert_string_equal(cli_g.node, CLI_NODE_DEFAULT);
  assert_int_equal(cli_g.chain_set, 0);
  assert_string_equal(cli_g.key, want);
  unsetenv("HANSE_NODE");
  unsetenv("HANSE_CHAIN");
  unsetenv("HANSE_KEY");

  unsetenv("HOME");
  assert_string_equal(cli_default_key_path(), "./.hanse/key.json");
  if (home) {
    setenv("HOME", home, 1);
    free(home);
  }
}

static void test_mkdir_and_exists(void **state) {
  cli_env *e = *state;
  char p[400];
  snprintf(p, sizeof p, "%s/a/b/c", e->dir);
  assert_int_equal(cli_exists(p), 0);
  assert_int_equal(cli_mkdir_p(p, 0700), 0);
  assert_int_equal(cli_exists(p), 1);
  struct stat st;
  assert_int_equal(stat(p, &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  assert_int_equal(st.st_mode & 0777, 0700);
  assert_int_equal(cli_mkdir_p(p, 0700), 0); /* already there */
  snprintf(p, sizeof p, "%s/a/b/c/", e->dir);
  assert_int_equal(cli_mkdir_p(p, 0700), 0); /* trailing slash */
  /* through a regular file */
  snprintf(p, sizeof p, "%s/file", e->dir);
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  fclose(f);
  assert_int_equal(cli_exists(p), 1);
  snprintf(p, sizeof p, "%s/file/sub", e->dir);
  errno = 0;
  assert_int_equal(cli_mkdir_p(p, 0700), -1);
  assert_int_equal(errno, ENOTDIR);
  /* too long for its buffer */
  char longp[1500];
  memset(longp, 'x', sizeof longp - 1);
  longp[0] = '/';
  longp[sizeof longp - 1] = 0;
  errno = 0;
  assert_int_equal(cli_mkdir_p(longp, 0700), -1);
  assert_int_equal(errno, ENAMETOOLONG);
}

static void test_key_files(void **state) {
  cli_env *e = *state;
  char path[400];
  hanse_reject rej;
  snprintf(path, sizeof path, "%s/none.json", e->dir);
  assert_null(cli_key_load(path, &rej));
  assert_string_equal(rej.code, "key.missing");
  assert_non_null(strstr(rej.message, path));

  hanse_keypair kp;
  fx_key(&kp, 0x33);
  snprintf(path, sizeof path, "%s/key.json", e->dir);
  assert_int_equal(hanse_keyfile_write(path, &kp), HANSE_OK);
  hanse_keypair *got = cli_key_load(path, &rej);
  assert_non_null(got);
  assert_memory_equal(got->pub.b, kp.pub.b, HANSE_PUBKEY_BYTES);
  assert_memory_equal(got->sk, kp.sk, HANSE_SECKEY_BYTES);
  /* what was loaded signs like the original */
  hanse_sig sig;
  hanse_sign(&sig, "m", 1, got);
  assert_int_equal(hanse_sign_verify(&sig, "m", 1, &kp.pub), 1);
  cli_key_free(got);
  cli_key_free(NULL);

  /* a file that is not a key file; one whose public key is not the seed's */
  static const char *bad[] = {
      "not json",
      "{\"public\":\"00\",\"seed\":\"11\"}",
      "{\"public\":\"0000000000000000000000000000000000000000000000000000000000000000\","
      "\"seed\":\"3333333333333333333333333333333333333333333333333333333333333333\"}",
      NULL};
  for (int i = 0; bad[i]; i++) {
    snprintf(path, sizeof path, "%s/bad%d.json", e->dir, i);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(bad[i], f);
    fclose(f);
    assert_null(cli_key_load(path, &rej));
    assert_string_equal(rej.code, "key.bad_file");
  }
  hanse_keypair_wipe(&kp);
}

static void test_hash_file(void **state) {
  cli_env *e = *state;
  char path[400];
  hanse_hash h, want;
  hanse_reject rej;
  snprintf(path, sizeof path, "%s/abc.txt", e->dir);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fputs("abc", f);
  fclose(f);
  assert_int_equal(cli_hash_file(path, &h, &rej), HANSE_OK);
  char hex[HANSE_HASH_HEX_BYTES];
  assert_string_equal(hanse_hash_hex(hex, &h),
                      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  /* empty, and larger than one read chunk */
  snprintf(path, sizeof path, "%s/empty", e->dir);
  f = fopen(path, "wb");
  assert_non_null(f);
  fclose(f);
  assert_int_equal(cli_hash_file(path, &h, &rej), HANSE_OK);
  assert_string_equal(hanse_hash_hex(hex, &h),
                      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  size_t n = 3 * 64 * 1024 + 17;
  uint8_t *data = malloc(n);
  assert_non_null(data);
  for (size_t i = 0; i < n; i++) data[i] = (uint8_t)(i * 131 + 7);
  snprintf(path, sizeof path, "%s/big", e->dir);
  f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, n, f), n);
  fclose(f);
  hanse_sha256(&want, data, n);
  free(data);
  assert_int_equal(cli_hash_file(path, &h, &rej), HANSE_OK);
  assert_memory_equal(h.b, want.b, HANSE_HASH_BYTES);
  /* missing: a rejection naming the file */
  snprintf(path, sizeof path, "%s/missing", e->dir);
  assert_int_not_equal(cli_hash_file(path, &h, &rej), HANSE_OK);
  assert_string_equal(rej.code, "file.unreadable");
  assert_non_null(strstr(rej.message, path));
  /* a directory opens but does not read */
  assert_int_not_equal(cli_hash_file(e->dir, &h, &rej), HANSE_OK);
  assert_string_equal(rej.code, "file.unreadable");
}

/* ---- init and keygen ------------------------------------------------------- */

static json_t *genesis(const char *chain_id, const hanse_pubkey *member) {
  char hex[HANSE_HASH_HEX_BYTES];
  json_t *g = json_pack("{s:s, s:[{s:s, s:s, s:[s]}]}", "chain_id", chain_id, "organisations",
                        "id", "acme", "name", "ACME", "keys", fx_hex(hex, member));
  assert_non_null(g);
  return g;
}

static void test_init_chain(void **state) {
  cli_env *e = *state;
  hanse_keypair alice;
  fx_key(&alice, 0xa1);
  char data[400], path[600];
  snprintf(data, sizeof data, "%s/data/node1", e->dir); /* created */
  json_t *g = genesis("trade", &alice.pub);
  json_t *sum = NULL;
  hanse_reject rej;
  if (cli_init_chain(data, g, &sum, &rej) != HANSE_OK)
    fail_msg("cli_init_chain: %s: %s", rej.code, rej.message);
  assert_string_equal(json_string_value(json_object_get(sum, "chain_id")), "trade");
  assert_string_equal(json_string_value(json_object_get(sum, "data_dir")), data);

  /* the node key file: private, and the summary's key */
  snprintf(path, sizeof path, "%s/node.key", data);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0077, 0);
  hanse_keypair *nk = cli_key_load(path, &rej);
  assert_non_null(nk);
  char hex[HANSE_HASH_HEX_BYTES];
  assert_string_equal(json_string_value(json_object_get(sum, "node_key")), fx_hex(hex, &nk->pub));

  /* the chain opens with that key; its genesis block is the summary's,
   * and the node became its validator */
  snprintf(path, sizeof path, "%s/chains/trade", data);
  hanse_chain *c = NULL;
  assert_int_equal(hanse_chain_open(path, nk, NULL, &c, &rej), HANSE_OK);
  hanse_tip tip;
  hanse_chain_tip(c, &tip);
  assert_true(tip.height == 0);
  assert_string_equal(json_string_value(json_object_get(sum, "genesis_hash")),
                      hanse_hash_hex(hex, &tip.hash));
  assert_int_equal(c->validator_count, 1);
  assert_memory_equal(c->validators[0].b, nk->pub.b, HANSE_PUBKEY_BYTES);
  hanse_chain_close(c);
  json_decref(sum);

  /* a second time: refused, nothing changed */
  sum = (json_t *)1;
  assert_int_not_equal(cli_init_chain(data, g, &sum, &rej), HANSE_OK);
  assert_null(sum);
  assert_string_equal(rej.code, "chain.exists");
  assert_int_equal(rej.status, 409);

  /* another chain beside it reuses the node key */
  json_t *g2 = genesis("second", &alice.pub);
  assert_int_equal(cli_init_chain(data, g2, &sum, &rej), HANSE_OK);
  assert_string_equal(json_string_value(json_object_get(sum, "node_key")), fx_hex(hex, &nk->pub));
  assert_string_not_equal(json_string_value(json_object_get(sum, "chain_id")), "trade");
  json_decref(sum);
  json_decref(g2);
  cli_key_free(nk);

  /* a genesis that does not validate */
  json_t *bad = json_pack("{s:s}", "chain_id", "Bad Id");
  assert_int_not_equal(cli_init_chain(data, bad, &sum, &rej), HANSE_OK);
  assert_string_equal(rej.code, "genesis.invalid");
  assert_null(sum);
  json_decref(bad);

  /* a broken node key stops the creation before any chain is made */
  char data2[400];
  snprintf(data2, sizeof data2, "%s/data/node2", e->dir);
  assert_int_equal(cli_mkdir_p(data2, 0700), 0);
  snprintf(path, sizeof path, "%s/node.key", data2);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("{}", f);
  fclose(f);
  assert_int_not_equal(cli_init_chain(data2, g, &sum, &rej), HANSE_OK);
  assert_string_equal(rej.code, "key.bad_file");
  snprintf(path, sizeof path, "%s/chains/trade/chain.db", data2);
  assert_int_equal(cli_exists(path), 0);

  json_decref(g);
  hanse_keypair_wipe(&alice);
}

static void test_keygen(void **state) {
  cli_env *e = *state;
  char path[400];
  snprintf(path, sizeof path, "%s/keys/sub/me.json", e->dir);
  char *argv[] = {"keygen", "--out", path, NULL};
  capture out;
  capture_begin(&out, 1);
  int rc = cmd_keygen(3, argv);
  const char *text = capture_end(&out);
  assert_int_equal(rc, CLI_EXIT_OK);
  json_t *j = json_loads(text, 0, NULL);
  assert_non_null(j);
  assert_int_equal(json_object_size(j), 1); /* the public key only */
  const char *pub = json_string_value(json_object_get(j, "public"));
  assert_non_null(pub);
  hanse_reject rej;
  hanse_keypair *kp = cli_key_load(path, &rej);
  assert_non_null(kp);
  char hex[HANSE_HASH_HEX_BYTES];
  assert_string_equal(pub, fx_hex(hex, &kp->pub));
  cli_key_free(kp);
  json_decref(j);
  capture_free(&out);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0077, 0);

  /* never overwrites */
  capture err;
  capture_begin(&err, 2);
  rc = cmd_keygen(3, argv);
  text = capture_end(&err);
  assert_int_equal(rc, CLI_EXIT_FAIL);
  assert_true(strncmp(text, "hanse: key.exists: ", 19) == 0);
  capture_free(&err);

  /* a stray argument is a usage error */
  char *extra[] = {"keygen", "--out", path, "more", NULL};
  capture_begin(&err, 2);
  rc = cmd_keygen(4, extra);
  capture_end(&err);
  capture_free(&err);
  assert_int_equal(rc, CLI_EXIT_USAGE);
}

int main(void) {
  if (sodium_init() < 0) return 1;
  hanse_modules_register_all();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_options),
      cmocka_unit_test(test_parse_help),
      cmocka_unit_test(test_parse_usage_errors),
      cmocka_unit_test(test_fail_messages),
      cmocka_unit_test(test_parse_u64),
      cmocka_unit_test(test_format_amount),
      cmocka_unit_test_setup_teardown(test_globals_and_key_path, setup_dir, teardown_dir),
      cmocka_unit_test_setup_teardown(test_mkdir_and_exists, setup_dir, teardown_dir),
      cmocka_unit_test_setup_teardown(test_key_files, setup_dir, teardown_dir),
      cmocka_unit_test_setup_teardown(test_hash_file, setup_dir, teardown_dir),
      cmocka_unit_test_setup_teardown(test_init_chain, setup_dir, teardown_dir),
      cmocka_unit_test_setup_teardown(test_keygen, setup_dir, teardown_dir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
