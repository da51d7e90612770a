/*
 * cmd_blob.c -- `hanse blob put|get`: documents kept in the node's blob
 * store, with only their digest and metadata on the chain.
 *
 *   blob put FILE   hashes the file, streams it to the node
 *                   (PUT /v1/chains/{chain}/blobs/{sha256}), then anchors
 *                   the digest with a notary.anchor marked as a blob (name,
 *                   media type, size, data class) and waits for its commit.
 *                   A digest already anchored is not anchored again (the
 *                   notary refuses that): the upload alone then restores the
 *                   node's copy, and the existing anchor is reported.
 *   blob get HASH   downloads the document. The client library already
 *                   refuses bytes that do not hash to HASH; this command
 *                   hashes them once more itself before it writes a byte,
 *                   and writes a file (-o) under a temporary name renamed
 *                   into place only when complete, so a mismatching or
 *                   partial document never lands under the name asked for.
 *
 * The node serves a download only for an anchored digest and under the
 * chain's read policy for the anchor's data class; with a key file the
 * requests are signed (cli_client_open).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "chain/module.h"
#include "cli/cli.h"

#define BLOB_COMMON_USAGE                                                     \
  "\n"                                                                        \
  "common options:\n"                                                         \
  "  --key FILE    your key: signs the requests and, for put, the anchor\n"   \
  "                (env HANSE_KEY, default ~/.hanse/key.json)\n"              \
  "  --node URL    node (env HANSE_NODE, default " CLI_NODE_DEFAULT ")\n"     \
  "  --chain ID    chain (env HANSE_CHAIN, default " CLI_CHAIN_DEFAULT ")\n"

static const char put_usage[] =
    "usage: hanse blob put FILE [--class C] [--name N] [--type MEDIA] [common options]\n"
    "\n"
    "Store FILE (up to 64 MiB) in the node's blob store and anchor its SHA-256\n"
    "on the chain; waits for the commit. Prints the digest and the anchor's\n"
    "transaction id.\n"
    "  --class C      data class, for the read policy: production, transaction,\n"
    "                 customs_inspection, transport, financial, personal\n"
    "                 (default: the notary's, production)\n"
    "  --name N       the document's name (default: the file's base name)\n"
    "  --type MEDIA   media type served on download, e.g. application/pdf\n"
    "                 (default: from the file's extension, else\n"
    "                 application/octet-stream)\n" BLOB_COMMON_USAGE;

static const char get_usage[] =
    "usage: hanse blob get SHA256 [-o FILE] [common options]\n"
    "\n"
    "Download an anchored document and check its SHA-256 here; a mismatch is\n"
    "an error and nothing is written.\n"
    "  -o, --output FILE   write the document to FILE (replaced only once the\n"
    "                      whole document arrived and checked) and print\n"
    "                      {\"sha256\",\"size\",\"media_type\",\"file\"};\n"
    "                      without it the document goes to stdout\n" BLOB_COMMON_USAGE;

const char cmd_blob_usage[] =
    "usage: hanse blob <put|get> [options]\n"
    "\n"
    "Documents kept off chain: the node stores the bytes, the chain their\n"
    "digest and metadata. Every download is checked against the digest.\n"
    "\n"
    "  hanse blob put FILE [--class C] [--name N] [--type MEDIA]\n"
    "  hanse blob get SHA256 [-o FILE]\n"
    "\n"
    "'hanse blob put --help', 'hanse blob get --help' for details.\n" BLOB_COMMON_USAGE;

#define BLOB_COMMON_OPTS \
  {"key", "FILE", NULL, 0}, {"node", "URL", NULL, 0}, {"chain", "ID", NULL, 0}

/* A media type for a file name, by its extension; NULL if unknown. */
static const char *media_type_of(const char *name) {
  static const struct {
    const char *ext, *type;
  } types[] = {
      {"pdf", "application/pdf"}, {"json", "application/json"}, {"xml", "application/xml"},
      {"zip", "application/zip"}, {"txt", "text/plain"},        {"csv", "text/csv"},
      {"png", "image/png"},       {"jpg", "image/jpeg"},         {"jpeg", "image/jpeg"},
      {"tif", "image/tiff"},      {"tiff", "image/tiff"},
  };
  const char *dot = strrchr(name, '.');
  if (dot == NULL || strchr(dot, '/') != NULL) return NULL;
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    if (strcasecmp(dot + 1, types[i].ext) == 0) return types[i].type;
  return NULL;
}

/* "type/subtype" of visible ASCII without separators: what the notary
 * accepts (it has the final word). */
static int media_type_plausible(const char *m) {
  size_t n = strlen(m), slashes = 0;
  if (n < 3 || n > 255 || m[0] == '/' || m[n - 1] == '/') return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)m[i];
    if (c == '/') slashes++;
    else if (c <= 0x20 || c >= 0x7f || strchr("\"(),:;<=>?@[\\]{}", c)) return 0;
  }
  return slashes == 1;
}

/* The anchor of `hex` if there is one: 1 (*rec new reference), 0 if not
 * anchored, -1 on failure (rej). */
static int find_anchor(hanse_client *c, const char *hex, json_t **rec, hanse_reject *rej) {
  const char *params[] = {"hash", hex, NULL};
  int rc = hanse_client_query(c, "notary", "anchor", params, rec, rej);
  if (rc == HANSE_OK) return 1;
  if (strcmp(rej->code, "notary.not_anchored") == 0) return 0;
  return -1;
}

static int blob_put(int argc, char **argv) {
  cli_opt opts[] = {{"class", "C", NULL, 0}, {"name", "N", NULL, 0}, {"type", "MEDIA", NULL, 0},
                    BLOB_COMMON_OPTS, {NULL, NULL, NULL, 0}};
  const char *pos[CLI_POSITIONAL_MAX];
  const char *cmd = "blob put";
  int rc = cli_parse(cmd, put_usage, opts, argc, argv, pos, 1, 1, NULL);
  if (rc != CLI_GO) return rc;
  const char *cls = cli_opt_str(opts, "class", NULL);
  if (cls && !hanse_data_class_valid(cls))
    return cli_usage_error(cmd, "--class must be one of production, transaction, "
                                "customs_inspection, transport, financial, personal");
  const char *base = strrchr(pos[0], '/');
  base = base ? base + 1 : pos[0];
  const char *name = cli_opt_str(opts, "name", base);
  const char *type = cli_opt_str(opts, "type", NULL);
  if (type && !media_type_plausible(type))
    return cli_usage_error(cmd, "--type must be a media type such as application/pdf");
  if (type == NULL) type = media_type_of(pos[0]);
  if (type == NULL) type = "application/octet-stream";

  hanse_modules_register_all(); /* the notary's default class, for the answer */
  hanse_reject rej;
  hanse_reject_clear(&rej);
  const char *key_path = cli_opt_str(opts, "key", cli_g.key);
  hanse_keypair *kp = cli_key_load(key_path, &rej);
  if (kp == NULL) return cli_fail(&rej);
  hanse_client *c = NULL;
  json_t *result = NULL, *rec = NULL, *payload = NULL, *out = NULL;
  rc = cli_client_open(cli_opt_str(opts, "node", cli_g.node),
                       cli_opt_str(opts, "chain", cli_g.chain), key_path, &c, &rej);
  hanse_hash digest;
  uint64_t size = 0;
  int created = 0;
  if (rc == HANSE_OK) rc = hanse_client_blob_put_file(c, pos[0], &digest, &size, &created, &rej);
  char hex[HANSE_HASH_HEX_BYTES];
  int anchored = 0;
  if (rc == HANSE_OK) {
    hanse_hash_hex(hex, &digest);
    anchored = find_anchor(c, hex, &rec, &rej);
    if (anchored < 0) rc = HANSE_ERR(INVALID);
  }
  if (rc == HANSE_OK && !anchored) {
    payload = hanse_client_blob_anchor_payload(&digest, size, name, type, cls);
    if (payload == NULL) {
      rc = hanse_reject_code(&rej, "internal.nomem", 0, "--name must be UTF-8 text");
    } else {
      hanse_client_op op = {"notary.anchor", payload};
      rc = cli_send(c, kp, &op, 0, 1, &result, &rej);
    }
  }
  if (rc == HANSE_OK) {
    json_t *r0 = json_array_get(json_object_get(result, "results"), 0);
    json_t *anchor =
        anchored ? json_pack("{s:s, s:O, s:O}", "status", "already anchored", "tx",
                             json_object_get(rec, "tx"), "height", json_object_get(rec, "height"))
                 : json_pack("{s:s, s:O, s:O}", "status", "committed", "tx",
                             json_object_get(r0, "id"), "height", json_object_get(r0, "height"));
    const char *stored_cls = anchored ? hanse_tx_data_class("notary.anchor", rec)
                                      : (cls ? cls : hanse_tx_data_class("notary.anchor", NULL));
    out = json_pack("{s:s, s:I, s:s, s:s, s:s, s:o}", "sha256", hex, "size", (json_int_t)size,
                    "stored", created ? "created" : "already present", "class", stored_cls,
                    "media_type", type, "anchor", anchor ? anchor : json_null());
    if (out) cli_print_json(out);
  } else if (result) {
    cli_print_json(result);
  }
  json_decref(out);
  json_decref(result);
  json_decref(rec);
  json_decref(payload);
  hanse_client_destroy(c);
  cli_key_free(kp);
  return rc == HANSE_OK ? CLI_EXIT_OK : cli_fail(&rej);
}

/* Write `n` bytes to `path` whole or not at all: a temporary file beside
 * it, synced, renamed over it. */
static int write_whole(const char *path, const uint8_t *p, size_t n, hanse_reject *rej) {
  char tmp[4096];
  if (snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path) >= (int)sizeof tmp)
    return hanse_reject_code(rej, "file.unwritable", 0, "%s: name too long", path);
  int fd = mkstemp(tmp);
  if (fd < 0)
    return hanse_reject_code(rej, "file.unwritable", 0, "cannot create a file beside %s: %s",
                             path, strerror(errno));
  size_t done = 0;
  while (done < n) {
    ssize_t w = write(fd, p + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    done += (size_t)w;
  }
  int err = done == n ? 0 : errno;
  if (err == 0 && fsync(fd) != 0) err = errno;
  if (close(fd) != 0 && err == 0) err = errno;
  if (err == 0 && rename(tmp, path) != 0) err = errno;
  if (err != 0) {
    unlink(tmp);
    return hanse_reject_code(rej, "file.unwritable", 0, "cannot write %s: %s", path,
                             strerror(err));
  }
  return HANSE_OK;
}

static int blob_get(int argc, char **argv) {
  cli_opt opts[] = {{"output", "FILE", NULL, 0}, BLOB_COMMON_OPTS, {NULL, NULL, NULL, 0}};
  const char *pos[CLI_POSITIONAL_MAX];
  const char *cmd = "blob get";
  /* -o is --output: the one short option, as in curl. */
  char **args = calloc((size_t)argc + 1, sizeof *args);
  if (args == NULL) return cli_failf("internal.nomem", "out of memory");
  int options_done = 0;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) options_done = 1;
    args[i] = !options_done && strcmp(argv[i], "-o") == 0 ? (char *)"--output" : argv[i];
  }
  int rc = cli_parse(cmd, get_usage, opts, argc, args, pos, 1, 1, NULL);
  free(args);
  if (rc != CLI_GO) return rc;
  hanse_hash digest;
  if (hanse_hash_parse(&digest, pos[0]) != HANSE_OK)
    return cli_usage_error(cmd, "'%s' is not a 64-hex SHA-256 digest", pos[0]);
  const char *output = cli_opt_str(opts, "output", NULL);
  hanse_reject rej;
  hanse_reject_clear(&rej);
  hanse_client *c = NULL;
  rc = cli_client_open(cli_opt_str(opts, "node", cli_g.node),
                       cli_opt_str(opts, "chain", cli_g.chain),
                       cli_opt_str(opts, "key", cli_g.key), &c, &rej);
  hanse_buf doc;
  hanse_buf_init(&doc);
  char media[256] = "";
  if (rc == HANSE_OK) rc = hanse_client_blob_get(c, &digest, &doc, media, sizeof media, &rej);
  hanse_client_destroy(c);
  char hex[HANSE_HASH_HEX_BYTES];
  hanse_hash_hex(hex, &digest);
  if (rc == HANSE_OK) {
    /* Checked by the library already; checked again where it is written. */
    hanse_hash got;
    hanse_sha256(&got, doc.len ? (const void *)doc.data : "", doc.len);
    if (!hanse_hash_eq(&got, &digest))
      rc = hanse_reject_code(&rej, "blob.digest_mismatch", 0,
                             "the %zu bytes received do not hash to %s; nothing written",
                             doc.len, hex);
  }
  if (rc == HANSE_OK && output) {
    rc = write_whole(output, doc.data, doc.len, &rej);
    if (rc == HANSE_OK) {
      json_t *o = json_pack("{s:s, s:I, s:s, s:s}", "sha256", hex, "size", (json_int_t)doc.len,
                            "media_type", media, "file", output);
      if (o) cli_print_json(o);
      json_decref(o);
    }
  } else if (rc == HANSE_OK) {
    if (doc.len && fwrite(doc.data, 1, doc.len, stdout) != doc.len)
      rc = hanse_reject_code(&rej, "internal.io", 0, "cannot write the document to stdout");
  }
  hanse_buf_free(&doc);
  return rc == HANSE_OK ? CLI_EXIT_OK : cli_fail(&rej);
}

int cmd_blob(int argc, char **argv) {
  if (argc < 2) return cli_usage_error("blob", "missing put or get");
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(cmd_blob_usage, stdout);
    return CLI_EXIT_OK;
  }
  if (strcmp(argv[1], "put") == 0) return blob_put(argc - 2, argv + 2);
  if (strcmp(argv[1], "get") == 0) return blob_get(argc - 2, argv + 2);
  return cli_usage_error("blob", "unknown action '%s' (put or get)", argv[1]);
}
