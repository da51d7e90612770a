/*
 * cli.h -- what the `hanse` commands share: option parsing, global
 * settings, error printing, key files, file hashing, JSON output.
 *
 * Every command is `int cmd_<name>(int argc, char **argv)` where argv[0]
 * is the command word; it returns the process exit status:
 *
 *   CLI_EXIT_OK     0   done
 *   CLI_EXIT_FAIL   1   failed: one line "hanse: <code>: <message>" on stderr
 *   CLI_EXIT_USAGE  2   bad command line: one line saying what is wrong
 *
 * Output: results go to stdout as JSON (one document), progress and errors
 * to stderr. Secrets are never printed.
 */
#ifndef HANSE_CLI_H
#define HANSE_CLI_H

#include <jansson.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/confidential.h"
#include "crypto/sign.h"
#include "hanse/client.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2
/* cli_parse's "carry on" (any exit status is >= 0). */
#define CLI_GO (-1)

#define CLI_NODE_DEFAULT "http://127.0.0.1:8080"
#define CLI_CHAIN_DEFAULT "open"
#define CLI_POSITIONAL_MAX 8

/* Settings that every command talking to a node shares. Resolved in this
 * order: the command's own option, an option before the command
 * (`hanse --node URL get status`), the environment (HANSE_NODE,
 * HANSE_CHAIN, HANSE_KEY), the default. */
typedef struct cli_globals {
  const char *node;
  const char *chain;
  const char *key;
  int chain_set; /* chain came from the environment or an option */
} cli_globals;
extern cli_globals cli_g;

/* Fill cli_g from the environment and the defaults (main, once). */
void cli_globals_init(void);

/* One option of a command, `--name VALUE` or `--name=VALUE`, or a flag
 * `--name` when `arg` is NULL. cli_parse fills `value`/`set`. */
typedef struct cli_opt {
  const char *name;  /* without the dashes */
  const char *arg;   /* value placeholder for messages ("URL"), NULL: flag */
  const char *value; /* out: borrowed from argv */
  int set;           /* out */
} cli_opt;

/* Parse argv[0..argc) -- the words after the command words named by
 * `cmd` ("tx asset issue") -- against opts (terminated by a NULL name).
 * Positional words go to pos[] (room for CLI_POSITIONAL_MAX); there must
 * be npos_min to npos_max of them. "--" ends the options; "-h"/"--help"
 * prints `usage` to stdout. Returns CLI_GO to carry on, else the exit
 * status (0 after help, 2 after a usage error, which it has printed). */
int cli_parse(const char *cmd, const char *usage, cli_opt *opts, int argc,
              char **argv, const char **pos, int npos_min, int npos_max,
              int *npos);

/* The option's value, or `fallback` if not given. */
const char *cli_opt_str(const cli_opt *opts, const char *name, const char *fallback);
int cli_opt_set(const cli_opt *opts, const char *name);

/* Printing failures; each returns the exit status to return. */
int cli_fail(const hanse_reject *rej);
int cli_failf(const char *code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Pretty JSON on stdout, one document, newline-terminated. */
void cli_print_json(json_t *doc);

/* Numbers from the command line: all digits, no sign, in range. */
int cli_parse_u64(const char *s, uint64_t max, uint64_t *out);
/* An amount with the asset's decimals for people: 123456, 2 -> "1,234.56". */
void cli_format_amount(char *out, size_t n, uint64_t amount, int decimals);

/* The default key file: $HOME/.hanse/key.json (static storage). */
const char *cli_default_key_path(void);
/* mkdir -p with `mode` for directories it creates. 0 or -1 (errno). */
int cli_mkdir_p(const char *path, unsigned mode);
/* 1 if path exists. */
int cli_exists(const char *path);

/* A key pair read from a key file into sodium_malloc'd memory (guarded,
 * not swapped). NULL on failure with rej filled. Free with cli_key_free. */
hanse_keypair *cli_key_load(const char *path, hanse_reject *rej);
void cli_key_free(hanse_keypair *kp);

/* SHA-256 of a file, read in chunks (any size). */
int cli_hash_file(const char *path, hanse_hash *out, hanse_reject *rej);

/* A client for `node` and `chain` whose requests are signed (RFC 9421)
 * with the key in `key_path` when that file exists -- chains with a policy
 * refuse unsigned reads -- and unsigned otherwise (public views). A key
 * file that exists but cannot be read is an error. The key is loaded once
 * per process into guarded memory and wiped at exit. */
int cli_client_open(const char *node, const char *chain, const char *key_path,
                    hanse_client **out, hanse_reject *rej);

/* Sign and submit one op as kp: sequence `seq`, or the node's next_seq if
 * seq is 0. With wait, the answer comes once it is committed. On HANSE_OK
 * *result is the node's answer (new reference) and every transaction in
 * it committed with "ok" (or, without wait, is at least pending). On
 * failure *result is the node's answer if there was one (the transaction
 * was rejected in execution, say), else NULL; json_decref it either way. */
int cli_send(hanse_client *c, const hanse_keypair *kp, const hanse_client_op *op,
             uint64_t seq, int wait, json_t **result, hanse_reject *rej);

/* A comma-separated list of public keys (64 hex each, at most 64), the
 * value of option --`opt` of command `cmd`, into keys[0..*n): CLI_GO, or
 * the usage error's exit status (printed). */
int cli_keys_parse(const char *cmd, const char *opt, const char *list,
                   hanse_pubkey keys[HANSE_CONFIDENTIAL_RECIPIENTS_MAX], size_t *n);

/* Confidential fields (cli_seal.c). --seal PATH[,PATH...] and --to
 * PUBKEY[,PUBKEY...]: payload fields to seal and the recipients' public
 * keys (64 hex each, 1..64 of them). */
typedef struct cli_seal {
  const char *paths; /* the --seal list, borrowed; NULL: nothing to seal */
  const char *kind;  /* the transaction's kind (the caller sets it) */
  hanse_pubkey to[HANSE_CONFIDENTIAL_RECIPIENTS_MAX];
  size_t n;
} cli_seal;
/* Check the two options (NULL when not given) of command `cmd` into out:
 * CLI_GO, or the usage error's exit status (printed). */
int cli_seal_parse(const char *cmd, const char *paths, const char *to, cli_seal *out);
/* Seal each listed field of `payload` (a transaction of `kind`) in place;
 * nothing when s is NULL or names no field. */
int cli_seal_apply(const cli_seal *s, hanse_client *c, const char *kind, json_t *payload,
                   hanse_reject *rej);
/* `get tx --decrypt`: replace doc's tx.payload by the payload with every
 * field kp can open in plaintext (grants fetched from the node) and the
 * others marked "[sealed: not a recipient]" or "[sealed: <code>]", and add
 * "decrypted":{"unopened":[{"field","code","message"}]} (and "grants":
 * "unavailable: <code>" when the node would not list grants: no seal
 * module, or a read policy hiding them). A pending answer is left as it
 * is. */
int cli_decrypt_doc(hanse_client *c, const hanse_keypair *kp, json_t *doc, hanse_reject *rej);

/* The creation step of `hanse init` (and `hanse demo`): the node key
 * <data_dir>/node.key (read, or created if missing) and the chain
 * <data_dir>/chains/<chain_id>/ from `genesis` (borrowed). On HANSE_OK
 * *summary is {"chain_id","genesis_hash","node_key","data_dir"}. */
int cli_init_chain(const char *data_dir, json_t *genesis, json_t **summary,
                   hanse_reject *rej);

/* `hanse init --type TYPE` (and `hanse demo`): record "type" in `genesis`
 * (modified in place) and, unless it has a "policy" already, add the
 * type's default one (hanse_chain_type_policy; an open chain gets none).
 * HANSE_ERR(INVALID) when TYPE is not consortium, private, alliance or
 * open, or the genesis names another type. */
int cli_genesis_set_type(json_t *genesis, const char *type, hanse_reject *rej);

/* Commands (one file each). */
int cmd_keygen(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_node(int argc, char **argv);
int cmd_tx(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_blob(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_xchain(int argc, char **argv);
int cmd_ledger(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_fx(int argc, char **argv);
/* cmd_trace_capture.c: capture; -1 for another subcommand. */
int cmd_trace_capture(int argc, char **argv);
/* cmd_trace_pub.c: publish, product, verify; -1 for another subcommand. */
int cmd_trace_pub(int argc, char **argv);
extern const char cmd_trace_pub_usage[];
/* cmd_books.c: books export. */
int cmd_books(int argc, char **argv);
extern const char cmd_books_usage[];

extern const char cmd_keygen_usage[];
extern const char cmd_init_usage[];
extern const char cmd_node_usage[];
extern const char cmd_tx_usage[];
extern const char cmd_get_usage[];
extern const char cmd_verify_usage[];
extern const char cmd_blob_usage[];
extern const char cmd_demo_usage[];
extern const char cmd_xchain_usage[];
extern const char cmd_fx_usage[];
extern const char cmd_ledger_usage[];

#endif
