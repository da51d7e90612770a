/*
 * cli_seal.c -- confidential fields on the command line (see cli.h).
 *
 *   hanse tx ... --seal meta.price[,meta.buyer] --to KEY[,KEY...]
 *       seals those payload fields to those public keys before signing
 *       (hanse_client_seal_field); the node and the chain see only
 *       ciphertext and the recipient list.
 *   hanse get tx ID --decrypt
 *       opens what the --key can open, as a listed recipient or through a
 *       grant, and prints the payload with the plaintext in place; a field
 *       it cannot open reads "[sealed: not a recipient]" (or names why it
 *       did not open, "[sealed: confidential.tampered]").
 *
 * Recipients are public keys for now: 64 hex each, comma-separated. The
 * command line never prints a secret; decrypted values go to stdout only,
 * where the user asked for them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int cli_keys_parse(const char *cmd, const char *opt, const char *list,
                   hanse_pubkey keys[HANSE_CONFIDENTIAL_RECIPIENTS_MAX], size_t *n) {
  const char *k = list;
  *n = 0;
  while (1) {
    const char *end = strchr(k, ',');
    size_t len = end ? (size_t)(end - k) : strlen(k);
    char hex[2 * HANSE_PUBKEY_BYTES + 1];
    if (len != 2 * HANSE_PUBKEY_BYTES)
      return cli_usage_error(cmd, "--%s: '%.*s' is not a 64-hex public key", opt,
                             (int)(len > 80 ? 80 : len), k);
    if (*n >= HANSE_CONFIDENTIAL_RECIPIENTS_MAX)
      return cli_usage_error(cmd, "--%s: at most %d keys", opt, HANSE_CONFIDENTIAL_RECIPIENTS_MAX);
    memcpy(hex, k, len);
    hex[len] = 0;
    if (hanse_pubkey_parse(&keys[*n], hex) != HANSE_OK)
      return cli_usage_error(cmd, "--%s: '%s' is not a 64-hex public key", opt, hex);
    (*n)++;
    if (end == NULL) break;
    k = end + 1;
  }
  return CLI_GO;
}

int cli_seal_parse(const char *cmd, const char *paths, const char *to, cli_seal *out) {
  memset(out, 0, sizeof *out);
  if (paths == NULL && to == NULL) return CLI_GO;
  if (paths == NULL || to == NULL)
    return cli_usage_error(cmd, "--seal and --to go together");
  /* every path valid */
  char buf[1024];
  if (strlen(paths) >= sizeof buf) return cli_usage_error(cmd, "--seal is too long");
  snprintf(buf, sizeof buf, "%s", paths);
  char *save = NULL;
  for (char *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save))
    if (!hanse_confidential_path_valid(p))
      return cli_usage_error(cmd, "--seal: '%s' is not a field path like meta.price", p);
  if (paths[0] == 0 || paths[strlen(paths) - 1] == ',' || strstr(paths, ",,"))
    return cli_usage_error(cmd, "--seal: an empty field path");
  int rc = cli_keys_parse(cmd, "to", to, out->to, &out->n);
  if (rc != CLI_GO) return rc;
  out->paths = paths;
  return CLI_GO;
}

int cli_seal_apply(const cli_seal *s, hanse_client *c, const char *kind, json_t *payload,
                   hanse_reject *rej) {
  if (s == NULL || s->paths == NULL) return HANSE_OK;
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", s->paths); /* cli_seal_parse bounded it */
  char *save = NULL;
  for (char *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
    int rc = hanse_client_seal_field(c, kind, payload, p, s->to, s->n, rej);
    if (rc != HANSE_OK) return rc;
  }
  return HANSE_OK;
}

/* The value at `path` in root, set to the string `mark` (paths come from
 * hanse_client_tx_open, which found a field there). */
static void mark_field(json_t *root, const char *path, const char *mark) {
  char buf[2 * HANSE_CONFIDENTIAL_PATH_MAX + 1];
  snprintf(buf, sizeof buf, "%s", path);
  char *save = NULL, *seg = strtok_r(buf, ".", &save);
  json_t *cur = root;
  while (seg && cur) {
    char *next = strtok_r(NULL, ".", &save);
    int in_array = json_is_array(cur);
    size_t idx = in_array ? strtoul(seg, NULL, 10) : 0;
    if (next == NULL) {
      if (in_array) json_array_set_new(cur, idx, json_string(mark));
      else if (json_is_object(cur)) json_object_set_new(cur, seg, json_string(mark));
      return;
    }
    cur = in_array ? json_array_get(cur, idx) : json_object_get(cur, seg);
    seg = next;
  }
}

int cli_decrypt_doc(hanse_client *c, const hanse_keypair *kp, json_t *doc, hanse_reject *rej) {
  json_t *txj = json_object_get(doc, "tx");
  if (!json_is_object(txj) || json_object_get(doc, "raw") == NULL) return HANSE_OK; /* pending */
  hanse_hash id;
  if (hanse_hash_parse(&id, json_string_value(json_object_get(doc, "id"))) != HANSE_OK)
    return hanse_reject_code(rej, "client.bad_response", 0, "the answer has no transaction id");
  /* Grants help only keys not listed in a field. A node without the seal
   * module (404 query.unknown) or a read policy that hides grants from
   * this key (401/403) leaves the listed recipients' view intact: go on
   * without them, and say so. */
  json_t *grants = NULL;
  char grants_note[HANSE_REJECT_CODE_MAX + 32] = "";
  int rc = hanse_client_grants_get(c, &id, &grants, rej);
  if (rc != HANSE_OK && (strcmp(rej->code, "query.unknown") == 0 || rej->status == 401 ||
                         rej->status == 403)) {
    snprintf(grants_note, sizeof grants_note, "unavailable: %s", rej->code);
    rc = HANSE_OK;
  }
  if (rc != HANSE_OK) return rc;
  json_t *payload = NULL, *unopened = NULL;
  rc = hanse_client_tx_open(c, doc, grants, kp, &payload, &unopened, rej);
  json_decref(grants);
  if (rc != HANSE_OK) return rc;
  size_t i;
  json_t *u;
  json_array_foreach(unopened, i, u) {
    const char *code = json_string_value(json_object_get(u, "code"));
    char mark[HANSE_REJECT_CODE_MAX + 16];
    if (code && strcmp(code, "confidential.not_recipient") == 0)
      snprintf(mark, sizeof mark, "[sealed: not a recipient]");
    else
      snprintf(mark, sizeof mark, "[sealed: %s]", code ? code : "unopened");
    mark_field(payload, json_string_value(json_object_get(u, "field")), mark);
  }
  json_object_set_new(txj, "payload", payload);
  json_t *d = json_pack("{s:o}", "unopened", unopened);
  if (d && grants_note[0]) json_object_set_new(d, "grants", json_string(grants_note));
  json_object_set_new(doc, "decrypted", d);
  return HANSE_OK;
}
