/*
 * cmd_init.c -- `hanse init`: a data directory with a node key and a chain.
 *
 *   <data>/node.key               the node's Ed25519 key; it signs blocks.
 *                                 Created if missing, reused if present (one
 *                                 node can hold several chains).
 *   <data>/chains/<chain id>/     chain.db and genesis.json
 *                                 (hanse_chain_create)
 *
 * The genesis is a file the consortium agreed on (format in
 * src/chain/genesis.c) or, for a quick start, a minimal one: one
 * organisation, "operator", whose key is the node key. With no
 * "validators" the node key becomes the only validator either way.
 *
 * --type records the chain's type in the genesis and, unless the genesis
 * has a policy, adds the type's default one (cli_genesis_set_type, which
 * `hanse demo` uses too, so its chains are what `hanse init --type` makes).
 *
 * Creating a chain is the one step that cannot be repeated: an existing
 * chain is never overwritten.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "base/env.h"
#include "chain/chain.h"
#include "chain/module.h"
#include "cli/cli.h"
#include "storage/store.h"

const char cmd_init_usage[] =
    "usage: hanse init --data DIR [--genesis FILE | --chain ID] [--type TYPE]\n"
    "\n"
    "Create a chain in the data directory DIR: the node key DIR/node.key\n"
    "(created if missing) and the chain in DIR/chains/<chain id>/.\n"
    "With --genesis, the chain is founded on that genesis file:\n"
    "  {\"chain_id\":\"demo\",\n"
    "   \"organisations\":[{\"id\":\"acme\",\"name\":\"ACME Ltd\",\"role\":\"manufacturer\",\n"
    "                      \"keys\":[\"<public key hex>\"]}],\n"
    "   \"validators\":[\"<node public key hex>\"]}      (validators optional)\n"
    "Otherwise a minimal genesis with one organisation (the node's own key)\n"
    "for chain ID (default $HANSE_CHAIN or \"" CLI_CHAIN_DEFAULT "\").\n"
    "Prints {\"chain_id\",\"genesis_hash\",\"node_key\",\"data_dir\"}.\n"
    "\n"
    "options:\n"
    "  --data DIR       data directory (created if missing)\n"
    "  --genesis FILE   genesis JSON file\n"
    "  --chain ID       chain id of the minimal genesis\n"
    "  --type TYPE      consortium | private | alliance | open: recorded in the\n"
    "                   genesis; unless the genesis has a policy, the type's\n"
    "                   default one is added (members only may submit, admins\n"
    "                   run the member registry; an open chain takes any key).\n"
    "                   A private chain has exactly one organisation.\n";

/* Read DIR/node.key, or create it. *kp is sodium_malloc'd. */
static int node_key(const char *data_dir, hanse_keypair **kp, int *created,
                    hanse_reject *rej) {
  char path[1100];
  snprintf(path, sizeof path, "%s/node.key", data_dir);
  *created = 0;
  if (cli_exists(path)) {
    *kp = cli_key_load(path, rej);
    return *kp ? HANSE_OK : HANSE_ERR(INVALID);
  }
  *kp = sodium_malloc(sizeof **kp);
  if (*kp == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  hanse_keypair_generate(*kp);
  int rc = hanse_keyfile_write(path, *kp);
  if (rc != HANSE_OK) {
    int err = errno;
    cli_key_free(*kp);
    *kp = NULL;
    return hanse_reject_set(rej, rc, "cannot write %s: %s", path, strerror(err));
  }
  *created = 1;
  return HANSE_OK;
}

static int genesis_hash(const char *chain_dir, hanse_hash *out, hanse_reject *rej) {
  char path[1200];
  snprintf(path, sizeof path, "%s/chain.db", chain_dir);
  hanse_store *s = NULL;
  int rc = hanse_store_open(path, HANSE_STORE_READONLY, NULL, &s, rej);
  if (rc != HANSE_OK) return rc;
  hanse_block_row row;
  memset(&row, 0, sizeof row);
  rc = hanse_store_block_get(s, 0, 0, &row);
  if (rc == HANSE_OK) *out = row.hash;
  else hanse_reject_set(rej, rc, "cannot read the genesis block of %s", chain_dir);
  hanse_block_row_free(&row);
  hanse_store_close(s);
  return rc;
}

int cli_init_chain(const char *data_dir, json_t *genesis, json_t **summary,
                   hanse_reject *rej) {
  *summary = NULL;
  hanse_modules_register_all();
  int rc = hanse_genesis_validate(genesis, rej);
  if (rc != HANSE_OK) {
    /* The core says "invalid"; say what was. */
    if (rej) snprintf(rej->code, sizeof rej->code, "genesis.invalid");
    return rc;
  }
  const char *chain_id = json_string_value(json_object_get(genesis, "chain_id"));
  char chain_dir[1100];
  if (snprintf(chain_dir, sizeof chain_dir, "%s/chains/%s", data_dir, chain_id) >=
      (int)sizeof chain_dir)
    return hanse_reject_set(rej, HANSE_ERR(INVALID), "data directory path too long");
  char db[1200];
  snprintf(db, sizeof db, "%s/chain.db", chain_dir);
  if (cli_exists(db))
    return hanse_reject_code(rej, "chain.exists", 409,
                             "%s already holds chain '%s'; refusing to overwrite", data_dir,
                             chain_id);
  if (cli_mkdir_p(data_dir, 0700) != 0)
    return hanse_reject_set(rej, HANSE_ERR(IO), "cannot create %s: %s", data_dir,
                            strerror(errno));
  hanse_keypair *kp = NULL;
  int created = 0;
  rc = node_key(data_dir, &kp, &created, rej);
  if (rc != HANSE_OK) return rc;
  rc = hanse_chain_create(chain_dir, genesis, kp, hanse_now_ms(hanse_env_system()), rej);
  hanse_hash gh;
  if (rc == HANSE_OK) rc = genesis_hash(chain_dir, &gh, rej);
  if (rc == HANSE_OK) {
    char gh_hex[HANSE_HASH_HEX_BYTES], key_hex[HANSE_HASH_HEX_BYTES];
    *summary = json_pack("{s:s, s:s, s:s, s:s}", "chain_id", chain_id, "genesis_hash",
                         hanse_hash_hex(gh_hex, &gh), "node_key",
                         hanse_pubkey_hex(key_hex, &kp->pub), "data_dir", data_dir);
    if (*summary == NULL) rc = hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  }
  cli_key_free(kp);
  return rc;
}

int cli_genesis_set_type(json_t *genesis, const char *type, hanse_reject *rej) {
  const char *have = json_string_value(json_object_get(genesis, "type"));
  if (!hanse_chain_type_valid(type))
    return hanse_reject_set(rej, HANSE_ERR(INVALID),
                            "chain type '%s' is not consortium, private, alliance or open", type);
  if (have && strcmp(have, type) != 0)
    return hanse_reject_set(rej, HANSE_ERR(INVALID), "the genesis's type is '%s', not '%s'",
                            have, type);
  if (json_object_set_new(genesis, "type", json_string(type)) != 0)
    return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  /* NULL for an open chain: no policy, anyone may submit and read. */
  json_t *pol = hanse_chain_type_policy(type);
  int rc = HANSE_OK;
  if (pol && json_object_get(genesis, "policy") == NULL &&
      json_object_set(genesis, "policy", pol) != 0)
    rc = hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  json_decref(pol);
  return rc;
}

/* The quick-start genesis: one organisation holding the node's key. */
static json_t *minimal_genesis(const char *data_dir, const char *chain_id,
                               hanse_reject *rej) {
  if (!hanse_chain_id_valid(chain_id, strlen(chain_id))) {
    hanse_reject_set(rej, HANSE_ERR(INVALID), "chain id '%s' is not 1-%d of [a-z0-9._-]",
                     chain_id, HANSE_CHAIN_ID_MAX);
    return NULL;
  }
  if (cli_mkdir_p(data_dir, 0700) != 0) {
    hanse_reject_set(rej, HANSE_ERR(IO), "cannot create %s: %s", data_dir, strerror(errno));
    return NULL;
  }
  hanse_keypair *kp = NULL;
  int created;
  if (node_key(data_dir, &kp, &created, rej) != HANSE_OK) return NULL;
  char hex[HANSE_HASH_HEX_BYTES];
  hanse_pubkey_hex(hex, &kp->pub);
  cli_key_free(kp);
  json_t *g = json_pack("{s:s, s:[{s:s, s:s, s:s, s:[s]}]}", "chain_id", chain_id,
                        "organisations", "id", "operator", "name", "Node operator", "role",
                        "operator", "keys", hex);
  if (g == NULL) hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  return g;
}

int cmd_init(int argc, char **argv) {
  cli_opt opts[] = {{"data", "DIR", NULL, 0},
                    {"genesis", "FILE", NULL, 0},
                    {"chain", "ID", NULL, 0},
                    {"type", "TYPE", NULL, 0},
                    {NULL, NULL, NULL, 0}};
  const char *pos[CLI_POSITIONAL_MAX];
  int rc = cli_parse("init", cmd_init_usage, opts, argc - 1, argv + 1, pos, 0, 0, NULL);
  if (rc != CLI_GO) return rc;
  const char *data = cli_opt_str(opts, "data", NULL);
  const char *gfile = cli_opt_str(opts, "genesis", NULL);
  if (data == NULL) return cli_usage_error("init", "--data DIR is required");
  if (gfile && cli_opt_set(opts, "chain"))
    return cli_usage_error("init", "give --genesis or --chain, not both");

  hanse_reject rej;
  hanse_reject_clear(&rej);
  json_t *genesis = NULL;
  if (gfile) {
    json_error_t jerr;
    genesis = json_load_file(gfile, JSON_REJECT_DUPLICATES, &jerr);
    if (genesis == NULL)
      return cli_failf("genesis.bad_file", "%s:%d: %s", gfile, jerr.line, jerr.text);
  } else {
    genesis = minimal_genesis(data, cli_opt_str(opts, "chain", cli_g.chain), &rej);
    if (genesis == NULL) return cli_fail(&rej);
  }
  const char *type = cli_opt_str(opts, "type", NULL);
  if (type) {
    const char *have = json_string_value(json_object_get(genesis, "type"));
    int bad = have && strcmp(have, type) != 0;
    if (cli_genesis_set_type(genesis, type, &rej) != HANSE_OK) {
      json_decref(genesis);
      return cli_usage_error("init", "--type must be consortium, private, alliance or open%s",
                             bad ? " and agree with the genesis file's type" : "");
    }
  }
  json_t *summary = NULL;
  rc = cli_init_chain(data, genesis, &summary, &rej);
  json_decref(genesis);
  if (rc != HANSE_OK) return cli_fail(&rej);
  cli_print_json(summary);
  json_decref(summary);
  return CLI_EXIT_OK;
}
