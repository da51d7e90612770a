/*
 * genesis.c -- the genesis file: validation and its state writes.
 *
 * A genesis file is the consortium's founding document (optional fields:
 * "type" -- consortium, private (one organisation, its departments as
 * members), alliance or open -- "policy", see policy.c, and "peers", the
 * other chains whose messages it accepts with their validators' keys,
 * see modules/xchain/xchain.c):
 *
 *   { "chain_id": "demo",
 *     "organisations": [ { "id": "acme", "name": "ACME Ltd",
 *                          "role": "manufacturer", "keys": ["<hex>"] } ],
 *     "validators": ["<node public key hex>"] }
 *
 * Genesis writes, in this order: "genesis" -> the canonical JSON text
 * (sorted keys, compact), then "org/<id>" -> the organisation's canonical
 * JSON for each organisation in file order, then "validator/<hex>" -> "1".
 * Canonical text makes the genesis digest independent of formatting.
 */
#include <string.h>

#include "chain/chain_internal.h"
#include "encoding/tx.h"

static int key_list_valid(json_t *arr, const char *what, int min,
                          hanse_reject *rej) {
  if (!json_is_array(arr) || (int)json_array_size(arr) < min ||
      json_array_size(arr) > HANSE_VALIDATORS_MAX)
    return hanse_reject_set(rej, HANSE_ERR(INVALID),
                            "genesis: %s must be an array of %d to %d keys", what,
                            min, HANSE_VALIDATORS_MAX);
  size_t i;
  json_t *k;
  json_array_foreach(arr, i, k) {
    hanse_pubkey pk;
    if (hanse_pubkey_parse(&pk, json_string_value(k)) != HANSE_OK)
      return hanse_reject_set(rej, HANSE_ERR(INVALID),
                              "genesis: %s[%zu] is not a 64-hex public key", what, i);
  }
  return HANSE_OK;
}

/* "peers": {"<chain id>": [validator keys]}: the other chains whose
 * messages this one accepts (modules/xchain), each with the keys trusted
 * to sign its blocks. Optional; never this chain itself. */
static int peers_valid(json_t *peers, const char *self, hanse_reject *rej) {
  if (peers == NULL) return HANSE_OK;
  if (!json_is_object(peers) || json_object_size(peers) > HANSE_PEERS_MAX)
    return hanse_reject_set(rej, HANSE_ERR(INVALID),
                            "genesis: peers must be an object of at most %d chains",
                            HANSE_PEERS_MAX);
  const char *id;
  json_t *keys;
  json_object_foreach(peers, id, keys) {
    if (!hanse_chain_id_valid(id, strlen(id)) || strcmp(id, self) == 0)
      return hanse_reject_set(rej, HANSE_ERR(INVALID),
                              "genesis: peers names '%.40s': a chain id other than this one", id);
    int rc = key_list_valid(keys, "peer validators", 1, rej);
    if (rc != HANSE_OK) return rc;
  }
  return HANSE_OK;
}

/* "publication": {"classes": [data classes], "fields": [event fields]}:
 * what of an alliance's events may be published to an open chain (the
 * trace module reads it: modules/trace/trace_publish.c). */
static int publication_valid(json_t *p, hanse_reject *rej) {
  if (p == NULL) return HANSE_OK;
  const char *k;
  json_t *v;
  int ok = json_is_object(p);
  json_object_foreach(p, k, v) {
    if (!ok) break;
    int classes = strcmp(k, "classes") == 0;
    ok = (classes || strcmp(k, "fields") == 0) && json_is_array(v) && json_array_size(v) <= 64;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
      const char *s = json_string_value(e);
      if (!ok) break;
      ok = s && s[0] && strlen(s) <= 64 && (!classes || hanse_data_class_valid(s));
    }
  }
  if (!ok)
    return hanse_reject_set(rej, HANSE_ERR(INVALID),
                            "genesis: publication must be {\"classes\": [data classes], "
                            "\"fields\": [event field names]}, each at most 64");
  return HANSE_OK;
}

int hanse_genesis_validate(json_t *g, hanse_reject *rej) {
  if (!json_is_object(g))
    return hanse_reject_set(rej, HANSE_ERR(INVALID), "genesis must be a JSON object");
  const char *cid = json_string_value(json_object_get(g, "chain_id"));
  if (cid == NULL || !hanse_chain_id_valid(cid, strlen(cid)))
    return hanse_reject_set(rej, HANSE_ERR(INVALID),
                            "genesis: chain_id must be 1-32 of [a-z0-9._-]");
  json_t *orgs = json_object_get(g, "organisations");
  if (!json_is_array(orgs) || json_array_size(orgs) < 1 || json_array_size(orgs) > 256)
    return hanse_reject_set(rej, HANSE_ERR(INVALID),
                            "genesis: organisations must be an array of 1 to 256");
  size_t i;
  json_t *o;
  json_array_foreach(orgs, i, o) {
    const char *id = json_string_value(json_object_get(o, "id"));
    if (id == NULL || !hanse_chain_id_valid(id, strlen(id)))
      return hanse_reject_set(rej, HANSE_ERR(INVALID),
                              "genesis: organisations[%zu].id must be 1-32 of [a-z0-9._-]", i);
    if (!json_is_string(json_object_get(o, "name")))
      return hanse_reject_set(rej, HANSE_ERR(INVALID),
                              "genesis: organisations[%zu].name is required", i);
    int rc = key_list_valid(json_object_get(o, "keys"), "organisation keys", 1, rej);
    if (rc != HANSE_OK) return rc;
    for (size_t j = 0; j < i; j++) {
      const char *other = json_string_value(json_object_get(json_array_get(orgs, j), "id"));
      if (strcmp(other, id) == 0)
        return hanse_reject_set(rej, HANSE_ERR(INVALID),
                                "genesis: organisation id '%s' appears twice", id);
    }
  }
  json_t *vals = json_object_get(g, "validators");
  if (vals != NULL) {
    int rc = key_list_valid(vals, "validators", 1, rej);
    if (rc != HANSE_OK) return rc;
  }
  json_t *type = json_object_get(g, "type");
  if (type != NULL) {
    const char *t = json_string_value(type);
    if (t == NULL || hanse_chain_type_valid(t) == 0)
      return hanse_reject_set(rej, HANSE_ERR(INVALID),
                              "genesis: type must be consortium, private, alliance or open");
    if (strcmp(t, "private") == 0 && json_array_size(orgs) != 1)
      return hanse_reject_set(rej, HANSE_ERR(INVALID),
                              "genesis: a private chain belongs to one organisation (its "
                              "departments are members)");
  }
  int rc = peers_valid(json_object_get(g, "peers"), cid, rej);
  if (rc != HANSE_OK) return rc;
  rc = publication_valid(json_object_get(g, "publication"), rej);
  if (rc != HANSE_OK) return rc;
  rc = hanse_policy_validate(json_object_get(g, "policy"), rej);
  if (rc != HANSE_OK) hanse_reject_prefix(rej, "genesis");
  return rc;
}

int hanse_chain_type_valid(const char *t) {
  static const char *const types[] = {"consortium", "private", "alliance", "open"};
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    if (strcmp(t, types[i]) == 0) return 1;
  return 0;
}

json_t *hanse_chain_type_policy(const char *t) {
  /* An open chain takes transactions from any key and shows everything
   * to anyone; the others take transactions only from members (the member
   * registry only from organisation admins) and show each data class to
   * the roles that work with it, regulators and auditors reading all. */
  if (strcmp(t, "open") == 0) return NULL;
  json_t *read;
  if (strcmp(t, "private") == 0) {
    /* One enterprise: its departments read its business data; personal
     * records stay with the admins, CAs and auditors. */
    read = json_pack("{s:[s], s:[s], s:[s], s:[s], s:[s], s:[s,s,s,s]}", "production", "*",
                     "transaction", "*", "customs_inspection", "*", "transport", "*",
                     "financial", "*", "personal", "admin", "ca", "auditor", "regulator");
  } else {
    read = json_pack(
        "{s:[s,s,s,s,s,s,s,s], s:[s,s,s,s,s,s,s], s:[s,s,s,s], s:[s,s,s,s,s,s,s],"
        " s:[s,s,s,s], s:[s,s,s,s]}",
        "production", "manufacturer", "platform", "logistics", "warehouse", "customs",
        "regulator", "auditor", "department",
        "transaction", "manufacturer", "platform", "bank", "logistics", "regulator", "auditor",
        "department",
        "customs_inspection", "customs", "logistics", "regulator", "auditor",
        "transport", "logistics", "warehouse", "customs", "platform", "manufacturer",
        "regulator", "auditor",
        "financial", "bank", "regulator", "auditor", "department",
        "personal", "admin", "ca", "regulator", "auditor");
  }
  json_t *pub = strcmp(t, "alliance") == 0 ? json_pack("[s]", "blocks") : json_array();
  return json_pack("{s:{s:[s], s:[s]}, s:o, s:o}", "submit", "member.*", "admin", "*", "*",
                   "read", read, "public", pub);
}

int chain_genesis_apply(hanse_exec *ex, json_t *g) {
  char *text = json_dumps(g, JSON_SORT_KEYS | JSON_COMPACT);
  if (text == NULL) return HANSE_ERR(NOMEM);
  int rc = hanse_exec_put(ex, "genesis", text, strlen(text));
  free(text);
  size_t i;
  json_t *o;
  json_array_foreach(json_object_get(g, "organisations"), i, o) {
    if (rc != HANSE_OK) return rc;
    char key[64];
    snprintf(key, sizeof key, "org/%s", json_string_value(json_object_get(o, "id")));
    char *ot = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
    if (ot == NULL) return HANSE_ERR(NOMEM);
    rc = hanse_exec_put(ex, key, ot, strlen(ot));
    free(ot);
  }
  json_t *k;
  json_array_foreach(json_object_get(g, "validators"), i, k) {
    if (rc != HANSE_OK) return rc;
    char key[128];
    snprintf(key, sizeof key, "validator/%s", json_string_value(k));
    rc = hanse_exec_put(ex, key, "1", 1);
  }
  return rc;
}

int chain_genesis_validators(json_t *g, hanse_pubkey *out, int *count) {
  *count = 0;
  size_t i;
  json_t *k;
  json_array_foreach(json_object_get(g, "validators"), i, k) {
    if (*count >= HANSE_VALIDATORS_MAX) return HANSE_ERR(INVALID);
    if (hanse_pubkey_parse(&out[*count], json_string_value(k)) != HANSE_OK)
      return HANSE_ERR(INVALID);
    (*count)++;
  }
  return *count > 0 ? HANSE_OK : HANSE_ERR(INVALID);
}

typedef struct validators_ctx {
  hanse_pubkey *out;
  int n;
  int bad;
} validators_ctx;

static int validator_visit(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  validators_ctx *vc = ctx;
  (void)v;
  (void)vl;
  char hex[HANSE_HASH_HEX_BYTES];
  size_t pl = strlen("validator/");
  if (kl != pl + 2 * HANSE_PUBKEY_BYTES || vc->n >= HANSE_VALIDATORS_MAX) {
    vc->bad = 1;
    return 1;
  }
  memcpy(hex, k + pl, 2 * HANSE_PUBKEY_BYTES);
  hex[2 * HANSE_PUBKEY_BYTES] = 0;
  if (hanse_pubkey_parse(&vc->out[vc->n], hex) != HANSE_OK) {
    vc->bad = 1;
    return 1;
  }
  vc->n++;
  return 0;
}

int chain_state_validators(hanse_store *s, hanse_pubkey *out, int *count) {
  validators_ctx vc = {out, 0, 0};
  *count = 0;
  int rc = hanse_store_state_scan(s, "validator/", strlen("validator/"), NULL, 0,
                                  HANSE_VALIDATORS_MAX + 1, validator_visit, &vc);
  if (rc != HANSE_OK) return rc;
  if (vc.bad || vc.n == 0) return HANSE_ERR(INVALID);
  *count = vc.n;
  return HANSE_OK;
}
