/*
 * seal/seal.c -- grants: a confidential field opened to a later recipient.
 *
 * A confidential field (crypto/confidential.h) names its recipients when
 * it is sealed, and a value on chain never changes. To let someone read it
 * later, a recipient re-seals the field key to the newcomer's X25519 key
 * and puts that one sealed key on chain in a grant; the ciphertext already
 * in history is not touched, and nobody re-encrypts anything.
 *
 *   seal.grant {"tx":"<64 hex>", "field":"<path>", "recipient":"<64 hex>",
 *               "sealed":"<base64 of 80 bytes>", "class"?:"<data class>"}
 *
 * "tx" is the transaction whose payload holds the field, "field" its path
 * in that payload ("meta.price"), "recipient" the new reader's Ed25519
 * key, "sealed" the field key sealed to it. "class" optionally labels the
 * grant transaction with the data class of the transaction it opens, for
 * the read policy; without it the grant is "personal" (who may read what
 * is itself about persons). The grants query is gated by the module's
 * class, "personal": where a read policy hides personal data from a
 * recipient, that recipient cannot list the grants made to it (the CLI
 * then opens what it can without them). Letting each key read its own
 * grants needs a per-record read rule the API does not have yet.
 *
 * State:
 *   seal/<tx hex>/<field>/<recipient hex>  -> {"by","class"?,"field",
 *                                              "height","recipient",
 *                                              "sealed","tx"}
 *   seal/to/<recipient hex>/<tx hex>/<field> -> the same record (the
 *                                              recipient's index)
 * (canonical JSON: sorted keys, compact; hex lowercase). A field path
 * holds no '/' (hanse_confidential_path_valid), so the key splits one way
 * and "seal/<tx>/" lists every grant on one transaction in order.
 *
 * What the chain can and cannot check. `check` validates shapes only: an
 * id, a path, a key, 80 bytes of base64. `verify` refuses a second grant
 * to the same recipient for the same field ("seal.exists"), so a reader
 * has one answer to look up. It cannot check more: the chain holds no key,
 * so a re-sealed key that is wrong -- or sealed by someone who never could
 * open the field -- is accepted, and simply fails to open for its
 * recipient ("confidential.tampered" or "confidential.bad_key" in the
 * client). It does not even check that "tx" exists or holds a field at
 * "field": the transaction index is not part of the world state that
 * execution reads (hanse verify re-executes on state alone), and a grant
 * for nothing opens nothing. The client re-seals only a key it has proven
 * to open the ciphertext (hanse_confidential_reseal), so honest grants
 * always work; on a chain with a submit policy only members can grant.
 * Because grants are first-come, a bogus grant would block a genuine one
 * for that recipient: the remedy is to seal the value anew.
 *
 * Queries:
 *   grants {tx, after?, limit?}  {"tx","grants":[record...]} in field,
 *                                then recipient order (after: the
 *                                "<field>/<recipient>" of the last seen)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "chain/exec.h"
#include "chain/module.h"
#include "crypto/confidential.h"

#define SEAL_PREFIX "seal/"
/* "seal/" tx "/" path "/" key, with room to spare. */
#define SEAL_KEY_MAX 320
_Static_assert(SEAL_KEY_MAX > sizeof SEAL_PREFIX + 64 + 1 + HANSE_CONFIDENTIAL_PATH_MAX +
                                  1 + 64,
               "a grant's state key fits its buffer");

static const char *const seal_actions[] = {"grant", NULL};
static const char *const seal_queries[] = {"grants", "mine", NULL};
static const char *const seal_self_queries[] = {"mine", NULL};

/* Lowercase hex of 32 bytes given as 64 hex digits (either case); 0 if
 * the text is not that. */
static int hex32_norm(const char *hex, char out[HANSE_HASH_HEX_BYTES]) {
  hanse_hash h;
  if (hanse_hash_parse(&h, hex) != HANSE_OK) return 0;
  hanse_hash_hex(out, &h);
  return 1;
}

/* The state key of a grant; the payload has passed check. */
static void grant_key(char key[SEAL_KEY_MAX], json_t *p) {
  char tx[HANSE_HASH_HEX_BYTES], to[HANSE_HASH_HEX_BYTES];
  int ok = hex32_norm(json_string_value(json_object_get(p, "tx")), tx) &&
           hex32_norm(json_string_value(json_object_get(p, "recipient")), to);
  HANSE_ASSERT(ok);
  int n = snprintf(key, SEAL_KEY_MAX, SEAL_PREFIX "%s/%s/%s", tx,
                   json_string_value(json_object_get(p, "field")), to);
  HANSE_ASSERT(n > 0 && n < SEAL_KEY_MAX);
}

static int seal_check(const hanse_tx *tx, const char *action, json_t *p,
                      hanse_reject *rej) {
  (void)tx;
  HANSE_ASSERT(strcmp(action, "grant") == 0); /* the executor knows our actions */
  char hex[HANSE_HASH_HEX_BYTES];
  const char *k;
  json_t *v;
  json_object_foreach(p, k, v) {
    if (strcmp(k, "tx") != 0 && strcmp(k, "field") != 0 && strcmp(k, "recipient") != 0 &&
        strcmp(k, "sealed") != 0 && strcmp(k, "class") != 0)
      return hanse_reject_code(rej, "seal.bad_grant", 400,
                               "a grant has \"tx\", \"field\", \"recipient\", \"sealed\" "
                               "and optionally \"class\", not \"%.32s\"", k);
  }
  if (!hex32_norm(json_string_value(json_object_get(p, "tx")), hex))
    return hanse_reject_code(rej, "seal.bad_tx", 400,
                             "\"tx\" must be a transaction id in 64 hex characters");
  if (!hanse_confidential_path_valid(json_string_value(json_object_get(p, "field"))))
    return hanse_reject_code(rej, "seal.bad_field", 400,
                             "\"field\" must be a path like meta.price: segments of "
                             "[A-Za-z0-9_-] joined by '.', at most %d bytes",
                             HANSE_CONFIDENTIAL_PATH_MAX);
  if (!hex32_norm(json_string_value(json_object_get(p, "recipient")), hex))
    return hanse_reject_code(rej, "seal.bad_recipient", 400,
                             "\"recipient\" must be a 64-hex public key");
  int rc = hanse_confidential_sealed_check(json_object_get(p, "sealed"), rej);
  if (rc != HANSE_OK) {
    hanse_reject_prefix(rej, "\"sealed\"");
    return rc;
  }
  json_t *cls = json_object_get(p, "class");
  if (cls && !hanse_data_class_valid(json_string_value(cls)))
    return hanse_reject_code(rej, "seal.bad_class", 400,
                             "\"class\" must be one of the chain's data classes");
  return HANSE_OK;
}

static int seal_verify(hanse_exec *ex, const hanse_tx *tx, const char *action,
                       json_t *p, hanse_reject *rej) {
  (void)tx;
  (void)action;
  HANSE_ASSERT(ex != NULL);
  char key[SEAL_KEY_MAX];
  grant_key(key, p);
  const uint8_t *v;
  size_t n;
  int found = 0;
  int rc = hanse_exec_get(ex, key, &v, &n, &found);
  if (rc != HANSE_OK) return rc;
  if (found)
    return hanse_reject_code(rej, "seal.exists", 409,
                             "this recipient already holds a grant for this field");
  return HANSE_OK;
}

static int seal_apply(hanse_exec *ex, const hanse_tx *tx, const char *action,
                      json_t *p) {
  (void)action;
  HANSE_ASSERT(ex != NULL && tx != NULL);
  char key[SEAL_KEY_MAX], by[HANSE_HASH_HEX_BYTES], txh[HANSE_HASH_HEX_BYTES],
      to[HANSE_HASH_HEX_BYTES];
  grant_key(key, p);
  hex32_norm(json_string_value(json_object_get(p, "tx")), txh);
  hex32_norm(json_string_value(json_object_get(p, "recipient")), to);
  json_t *rec = json_pack("{s:s, s:s, s:I, s:s, s:O, s:s}", "by",
                          hanse_pubkey_hex(by, &tx->signer), "field",
                          json_string_value(json_object_get(p, "field")), "height",
                          (json_int_t)ex->height, "recipient", to, "sealed",
                          json_object_get(p, "sealed"), "tx", txh);
  if (rec == NULL) return HANSE_ERR(NOMEM);
  json_t *cls = json_object_get(p, "class");
  if (cls && json_object_set(rec, "class", cls) != 0) {
    json_decref(rec);
    return HANSE_ERR(NOMEM);
  }
  char *text = json_dumps(rec, JSON_SORT_KEYS | JSON_COMPACT);
  json_decref(rec);
  if (text == NULL) return HANSE_ERR(NOMEM);
  int rc = hanse_exec_put(ex, key, text, strlen(text));
  if (rc == HANSE_OK) {
    char ix[SEAL_KEY_MAX];
    int n = snprintf(ix, sizeof ix, SEAL_PREFIX "to/%s/%s/%s", to, txh,
                     json_string_value(json_object_get(p, "field")));
    HANSE_ASSERT(n > 0 && n < (int)sizeof ix);
    rc = hanse_exec_put(ex, ix, text, strlen(text));
  }
  free(text);
  return rc;
}

typedef struct grants_ctx {
  json_t *arr;
  int rc;
} grants_ctx;

static int grants_visit(void *ctx, const uint8_t *k, size_t kl, const uint8_t *val,
                        size_t vl) {
  (void)k;
  (void)kl;
  grants_ctx *gc = ctx;
  json_t *j = json_loadb((const char *)val, vl, 0, NULL);
  if (j == NULL || json_array_append_new(gc->arr, j) != 0) {
    gc->rc = HANSE_ERR(INTERNAL); /* apply writes JSON: a bad row is a bug or tampering */
    return 1;
  }
  return 0;
}

/* One page of grant records under `prefix` after `after` (NULL: from the
 * start) as {"<name>": value, "grants": [...]}. */
static int grants_page(hanse_view *v, const char *prefix, const char *after, json_t *params,
                       const char *name, const char *value, json_t **result,
                       hanse_reject *rej) {
  grants_ctx gc = {json_array(), HANSE_OK};
  if (gc.arr == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  int rc = hanse_view_scan(v, prefix, after, hanse_view_limit(params), grants_visit, &gc);
  if (rc == HANSE_OK) rc = gc.rc;
  if (rc != HANSE_OK) {
    json_decref(gc.arr);
    return hanse_reject_set(rej, rc, NULL);
  }
  *result = json_pack("{s:s, s:o}", name, value, "grants", gc.arr);
  return *result ? HANSE_OK : hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
}

/* mine?key=<recipient>[&tx=<id>][&after=<tx>/<field>]: the grants made to
 * one recipient, from its index. */
static int query_mine(hanse_view *v, json_t *params, json_t **result, hanse_reject *rej) {
  char to[HANSE_HASH_HEX_BYTES], tx[HANSE_HASH_HEX_BYTES], prefix[SEAL_KEY_MAX],
      after[SEAL_KEY_MAX];
  if (!hex32_norm(json_string_value(json_object_get(params, "key")), to))
    return hanse_reject_code(rej, "seal.bad_key", 400, "key must be a 64-hex public key");
  const char *t = json_string_value(json_object_get(params, "tx"));
  if (t && !hex32_norm(t, tx))
    return hanse_reject_code(rej, "seal.bad_tx", 400, "tx must be a 64-hex transaction id");
  if (t)
    snprintf(prefix, sizeof prefix, SEAL_PREFIX "to/%s/%s/", to, tx);
  else
    snprintf(prefix, sizeof prefix, SEAL_PREFIX "to/%s/", to);
  const char *a = json_string_value(json_object_get(params, "after"));
  if (a && strlen(a) > HANSE_CONFIDENTIAL_PATH_MAX + 1 + 64)
    return hanse_reject_code(rej, "seal.bad_after", 400, "after is a \"<tx>/<field>\" of a grant");
  if (a)
    snprintf(after, sizeof after, SEAL_PREFIX "to/%.64s/%.*s", to,
             HANSE_CONFIDENTIAL_PATH_MAX + 65, a);
  return grants_page(v, prefix, a ? after : NULL, params, "key", to, result, rej);
}

static int seal_query(hanse_view *v, const char *name, json_t *params,
                      json_t **result, hanse_reject *rej) {
  if (strcmp(name, "mine") == 0) return query_mine(v, params, result, rej);
  HANSE_ASSERT(strcmp(name, "grants") == 0); /* the API knows our queries */
  char tx[HANSE_HASH_HEX_BYTES], prefix[SEAL_KEY_MAX], after[SEAL_KEY_MAX];
  if (!hex32_norm(json_string_value(json_object_get(params, "tx")), tx))
    return hanse_reject_code(rej, "seal.bad_tx", 400, "tx must be a 64-hex transaction id");
  snprintf(prefix, sizeof prefix, SEAL_PREFIX "%s/", tx);
  const char *a = json_string_value(json_object_get(params, "after"));
  if (a && strlen(a) > HANSE_CONFIDENTIAL_PATH_MAX + 1 + 64)
    return hanse_reject_code(rej, "seal.bad_after", 400,
                             "after is the \"<field>/<recipient>\" of a grant");
  if (a) snprintf(after, sizeof after, "%.*s%.*s", 80, prefix, HANSE_CONFIDENTIAL_PATH_MAX + 65, a);
  return grants_page(v, prefix, a ? after : NULL, params, "tx", tx, result, rej);
}

const hanse_module hanse_module_seal = {
    .name = "seal",
    .actions = seal_actions,
    .queries = seal_queries,
    .check = seal_check,
    .verify = seal_verify,
    .apply = seal_apply,
    .query = seal_query,
    .data_class = "personal",
    .self_queries = seal_self_queries,
};
