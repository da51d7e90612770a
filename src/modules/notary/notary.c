/*
 * notary/notary.c -- evidence certification: anchor a document's SHA-256.
 *
 * The document stays with its owner; the chain keeps its digest, a name
 * and metadata, the owner (signer), the block height and time. Anyone
 * holding the file can later check that its SHA-256 was anchored, by whom
 * and when.
 *
 * State:
 *   notary/doc/<sha256 hex>                  -> anchor record (JSON)
 *   notary/own/<owner hex>/<sha256 hex>      -> "" (index: anchors by owner)
 *
 * A digest is anchored once; a second anchor of the same digest is rejected
 * (notary.exists), so "first anchored at" is unambiguous.
 *
 * A payload may name the document's data class ("class": one of
 * HANSE_DATA_CLASSES, else notary.bad_class); the record keeps it and the
 * read policy goes by it (default: the module's, "production"). A
 * document whose bytes the node keeps in its blob store (api/res_blobs.c)
 * says so in its meta: {"blob":true, "size":N, "media_type":"type/sub"}
 * (else notary.bad_blob); downloads are served for anchored digests only.
 *
 * Metadata is opaque to the notary, so any of its values may be a
 * confidential field (crypto/confidential.h): an object with an "enc"
 * member must be a well-formed envelope ("confidential.malformed"
 * otherwise) and is stored as it came. Whether its ciphertext opens is
 * never asked: validity cannot depend on a key the chain does not hold.
 * The NOTARY_META_MAX bound applies to the plaintext part of the
 * metadata; sealed fields, which grow with their recipients (about 190
 * bytes each), are bounded by the payload (HANSE_PAYLOAD_MAX).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "chain/exec.h"
#include "chain/module.h"
#include "crypto/confidential.h"

#define NOTARY_NAME_MAX 256
#define NOTARY_META_MAX 4096
/* RFC 6838 bounds a type and a subtype name to 127 characters each. */
#define NOTARY_MEDIA_TYPE_MAX 255

static const char *const notary_actions[] = {"anchor", NULL};
static const char *const notary_queries[] = {"anchor", "by_owner", NULL};

/* A media type "type/subtype" of RFC 9110 token characters, no
 * parameters: safe to send back as a Content-Type header as it is. */
static int media_type_valid(const char *m) {
  static const char tchar[] = "!#$%&'*+-.^_`|~";
  size_t n = m ? strlen(m) : 0, slashes = 0;
  if (n < 3 || n > NOTARY_MEDIA_TYPE_MAX || m[0] == '/' || m[n - 1] == '/') return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)m[i];
    if (c == '/') slashes++;
    else if (!isalnum(c) && strchr(tchar, c) == NULL) return 0;
  }
  return slashes == 1;
}

/* The meta of a document kept in the node's blob store (api/res_blobs.c):
 * "blob" is true; "size" and "media_type", when present, are a possible
 * blob size and a media type (or a sealed field, already checked, which
 * the node cannot read: it serves such a blob as octet-stream). */
static int blob_meta_valid(json_t *meta) {
  json_t *size = json_object_get(meta, "size");
  json_t *type = json_object_get(meta, "media_type");
  if (!json_is_true(json_object_get(meta, "blob"))) return 0;
  if (size && (!json_is_integer(size) || json_integer_value(size) < 0 ||
               (uint64_t)json_integer_value(size) > HANSE_BLOB_MAX_BYTES))
    return 0;
  return type == NULL || json_is_object(type) || media_type_valid(json_string_value(type));
}

static int notary_check(const hanse_tx *tx, const char *action, json_t *p,
                        hanse_reject *rej) {
  (void)tx;
  (void)action;
  hanse_hash h;
  if (hanse_hash_parse(&h, json_string_value(json_object_get(p, "hash"))) != HANSE_OK)
    return hanse_reject_code(rej, "notary.bad_hash", 400,
                             "\"hash\" must be a SHA-256 digest in 64 hex characters");
  json_t *name = json_object_get(p, "name");
  if (name && (!json_is_string(name) || json_string_length(name) > NOTARY_NAME_MAX))
    return hanse_reject_code(rej, "notary.bad_name", 400,
                             "\"name\" must be a string of at most %d bytes", NOTARY_NAME_MAX);
  json_t *meta = json_object_get(p, "meta");
  if (meta) {
    if (!json_is_object(meta))
      return hanse_reject_code(rej, "notary.bad_meta", 400, "\"meta\" must be an object");
    size_t plain;
    int rc = hanse_confidential_plain_size(meta, &plain, rej);
    if (rc != HANSE_OK) {
      hanse_reject_prefix(rej, "meta");
      return rc;
    }
    if (plain > NOTARY_META_MAX)
      return hanse_reject_code(rej, "notary.bad_meta", 400,
                               "\"meta\" exceeds %d bytes besides its sealed fields",
                               NOTARY_META_MAX);
  }
  if (meta && json_object_get(meta, "blob") && !blob_meta_valid(meta))
    return hanse_reject_code(rej, "notary.bad_blob", 400,
                             "a blob's meta is {\"blob\":true, \"size\": 0 to %zu, "
                             "\"media_type\": \"type/subtype\"}",
                             (size_t)HANSE_BLOB_MAX_BYTES);
  json_t *cls = json_object_get(p, "class");
  if (cls && !hanse_data_class_valid(json_string_value(cls)))
    return hanse_reject_code(rej, "notary.bad_class", 400,
                             "\"class\" must be one of production, transaction, "
                             "customs_inspection, transport, financial, personal");
  return HANSE_OK;
}

static void doc_key(char *key, size_t n, const char *hash_hex) {
  char lower[HANSE_HASH_HEX_BYTES];
  for (int i = 0; i < 64; i++)
    lower[i] = (char)(hash_hex[i] >= 'A' && hash_hex[i] <= 'F' ? hash_hex[i] + 32 : hash_hex[i]);
  lower[64] = 0;
  snprintf(key, n, "notary/doc/%s", lower);
}

static int notary_verify(hanse_exec *ex, const hanse_tx *tx, const char *action,
                         json_t *p, hanse_reject *rej) {
  (void)tx;
  (void)action;
  char key[128];
  doc_key(key, sizeof key, json_string_value(json_object_get(p, "hash")));
  const uint8_t *v;
  size_t n;
  int found;
  int rc = hanse_exec_get(ex, key, &v, &n, &found);
  if (rc != HANSE_OK) return rc;
  if (found)
    return hanse_reject_code(rej, "notary.exists", 409, "this digest is already anchored");
  return HANSE_OK;
}

static int notary_apply(hanse_exec *ex, const hanse_tx *tx, const char *action,
                        json_t *p) {
  (void)action;
  char key[256], owner[HANSE_HASH_HEX_BYTES], txid[HANSE_HASH_HEX_BYTES];
  const char *hash = json_string_value(json_object_get(p, "hash"));
  doc_key(key, sizeof key, hash);
  const char *lower = key + strlen("notary/doc/");
  hanse_pubkey_hex(owner, &tx->signer);
  hanse_hash_hex(txid, &tx->id);
  json_t *rec = json_pack("{s:s, s:s, s:I, s:I, s:s}", "hash", lower, "owner", owner,
                          "height", (json_int_t)ex->height, "time_ms",
                          (json_int_t)ex->time_ms, "tx", txid);
  if (rec == NULL) return HANSE_ERR(NOMEM);
  json_t *name = json_object_get(p, "name");
  json_t *meta = json_object_get(p, "meta");
  json_t *cls = json_object_get(p, "class");
  if (name) json_object_set(rec, "name", name);
  if (meta) json_object_set(rec, "meta", meta);
  if (cls) json_object_set(rec, "class", cls); /* the read policy's class */
  char *text = json_dumps(rec, JSON_SORT_KEYS | JSON_COMPACT);
  json_decref(rec);
  if (text == NULL) return HANSE_ERR(NOMEM);
  int rc = hanse_exec_put(ex, key, text, strlen(text));
  free(text);
  if (rc != HANSE_OK) return rc;
  char idx[512];
  snprintf(idx, sizeof idx, "notary/own/%s/%s", owner, lower);
  return hanse_exec_put(ex, idx, "", 0);
}

typedef struct owner_ctx {
  hanse_view *v;
  json_t *arr;
  size_t prefix_len;
} owner_ctx;

static int owner_visit(void *ctx, const uint8_t *k, size_t kl, const uint8_t *val,
                       size_t vl) {
  (void)val;
  (void)vl;
  owner_ctx *oc = ctx;
  char key[128];
  snprintf(key, sizeof key, "notary/doc/%.*s", (int)(kl - oc->prefix_len),
           (const char *)k + oc->prefix_len);
  hanse_buf b;
  hanse_buf_init(&b);
  int found = 0;
  if (hanse_view_get(oc->v, key, &b, &found) == HANSE_OK && found) {
    json_t *j = json_loadb((const char *)b.data, b.len, 0, NULL);
    if (j) json_array_append_new(oc->arr, j);
  }
  hanse_buf_free(&b);
  return 0;
}

static int notary_query(hanse_view *v, const char *name, json_t *params,
                        json_t **result, hanse_reject *rej) {
  if (strcmp(name, "anchor") == 0) {
    const char *hash = json_string_value(json_object_get(params, "hash"));
    hanse_hash h;
    if (hanse_hash_parse(&h, hash) != HANSE_OK)
      return hanse_reject_code(rej, "notary.bad_hash", 400, "hash must be 64 hex characters");
    char key[128];
    doc_key(key, sizeof key, hash);
    hanse_buf b;
    hanse_buf_init(&b);
    int found = 0;
    int rc = hanse_view_get(v, key, &b, &found);
    if (rc == HANSE_OK && found) *result = json_loadb((const char *)b.data, b.len, 0, NULL);
    hanse_buf_free(&b);
    if (rc != HANSE_OK) return hanse_reject_set(rej, rc, NULL);
    if (!found) return hanse_reject_code(rej, "notary.not_anchored", 404, "this digest is not anchored");
    return *result ? HANSE_OK : hanse_reject_set(rej, HANSE_ERR(INTERNAL), NULL);
  }
  /* by_owner */
  hanse_pubkey owner;
  if (hanse_pubkey_parse(&owner, json_string_value(json_object_get(params, "owner"))) != HANSE_OK)
    return hanse_reject_code(rej, "notary.bad_owner", 400, "owner must be a 64-hex public key");
  char prefix[160], hex[HANSE_HASH_HEX_BYTES], after[256];
  snprintf(prefix, sizeof prefix, "notary/own/%s/", hanse_pubkey_hex(hex, &owner));
  const char *a = json_string_value(json_object_get(params, "after"));
  if (a) snprintf(after, sizeof after, "%s%s", prefix, a);
  int limit = hanse_view_limit(params);
  owner_ctx oc = {v, json_array(), strlen(prefix)};
  int rc = hanse_view_scan(v, prefix, a ? after : NULL, limit, owner_visit, &oc);
  if (rc != HANSE_OK) {
    json_decref(oc.arr);
    return hanse_reject_set(rej, rc, NULL);
  }
  *result = json_pack("{s:s, s:o}", "owner", hex, "anchors", oc.arr);
  return HANSE_OK;
}

const hanse_module hanse_module_notary = {
    .name = "notary",
    .actions = notary_actions,
    .queries = notary_queries,
    .check = notary_check,
    .verify = notary_verify,
    .apply = notary_apply,
    .query = notary_query,
    .data_class = "production",
};
