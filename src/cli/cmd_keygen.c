/*
 * cmd_keygen.c -- `hanse keygen`: a fresh Ed25519 key pair in a key file.
 *
 * The file ({"public","seed"}, mode 0600, written with O_EXCL by
 * hanse_keyfile_write) is the only place the secret goes: it is never
 * printed, and an existing file is never overwritten -- losing a key that
 * holds assets is not undoable. The directory ~/.hanse is created 0700 when
 * the default path is used.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

const char cmd_keygen_usage[] =
    "usage: hanse keygen [--out FILE]\n"
    "\n"
    "Create a new signing key pair and write it to FILE (default\n"
    "$HANSE_KEY or ~/.hanse/key.json, mode 0600). Refuses to overwrite.\n"
    "Prints {\"public\":\"<hex>\"}; the secret never leaves the file.\n"
    "\n"
    "options:\n"
    "  --out FILE    where to write the key file\n";

int cmd_keygen(int argc, char **argv) {
  cli_opt opts[] = {{"out", "FILE", NULL, 0}, {"key", "FILE", NULL, 0}, {NULL, NULL, NULL, 0}};
  const char *pos[CLI_POSITIONAL_MAX];
  int rc = cli_parse("keygen", cmd_keygen_usage, opts, argc - 1, argv + 1, pos, 0, 0, NULL);
  if (rc != CLI_GO) return rc;
  const char *path = cli_opt_str(opts, "out", cli_opt_str(opts, "key", cli_g.key));

  if (cli_exists(path))
    return cli_failf("key.exists", "%s already exists; refusing to overwrite a key", path);
  /* Create the parent directory (private: it holds secrets). */
  const char *slash = strrchr(path, '/');
  if (slash && slash != path) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    if (cli_mkdir_p(dir, 0700) != 0)
      return cli_failf("internal.io", "cannot create %s: %s", dir, strerror(errno));
  }

  hanse_keypair *kp = sodium_malloc(sizeof *kp);
  if (kp == NULL) return cli_failf("internal.nomem", "cannot allocate guarded memory");
  hanse_keypair_generate(kp);
  rc = hanse_keyfile_write(path, kp);
  int err = errno;
  char hex[HANSE_HASH_HEX_BYTES];
  hanse_pubkey_hex(hex, &kp->pub);
  cli_key_free(kp);
  if (rc == HANSE_ERR(INVALID))
    return cli_failf("key.exists", "%s already exists; refusing to overwrite a key", path);
  if (rc != HANSE_OK)
    return cli_failf("internal.io", "cannot write %s: %s", path, strerror(err));
  json_t *out = json_pack("{s:s}", "public", hex);
  cli_print_json(out);
  json_decref(out);
  return CLI_EXIT_OK;
}
