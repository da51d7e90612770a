/*
 * registry.c -- the table of modules, and the context-free transaction
 * check shared by the submission path and the executor.
 *
 * The registry is written once at start-up (hanse_modules_register_all)
 * and only read afterwards, so it needs no lock.
 */
#include <string.h>

#include "base/log.h"
#include "chain/module.h"

static const hanse_module *registry[HANSE_MODULES_MAX];
static int registry_count;
static const hanse_identity *identity;

void hanse_registry_set_identity(const hanse_identity *id) {
  HANSE_ASSERT(id != NULL && id->key_info != NULL);
  HANSE_ASSERT(identity == NULL || identity == id);
  identity = id;
}

const hanse_identity *hanse_registry_identity(void) { return identity; }

void hanse_registry_add(const hanse_module *m) {
  HANSE_ASSERT(m && m->name && m->actions && m->check && m->verify && m->apply);
  HANSE_ASSERT(strlen(m->name) <= HANSE_MODULE_NAME_MAX);
  HANSE_ASSERT(hanse_data_class_valid(m->data_class));
  HANSE_ASSERT(hanse_registry_find(m->name, strlen(m->name)) == NULL);
  HANSE_ASSERT(registry_count < HANSE_MODULES_MAX);
  registry[registry_count++] = m;
}

const hanse_module *hanse_registry_find(const char *name, size_t len) {
  for (int i = 0; i < registry_count; i++)
    if (strlen(registry[i]->name) == len && memcmp(registry[i]->name, name, len) == 0)
      return registry[i];
  return NULL;
}

const hanse_module *hanse_registry_at(int i) {
  return i >= 0 && i < registry_count ? registry[i] : NULL;
}

int hanse_module_has_action(const hanse_module *m, const char *action) {
  for (const char *const *a = m->actions; *a; a++)
    if (strcmp(*a, action) == 0) return 1;
  return 0;
}

int hanse_data_class_valid(const char *c) {
  static const char *const classes[] = {HANSE_DATA_CLASSES};
  for (size_t i = 0; c && i < sizeof classes / sizeof classes[0]; i++)
    if (strcmp(c, classes[i]) == 0) return 1;
  return 0;
}

const char *hanse_tx_data_class(const char *kind, json_t *payload) {
  static const char *const classes[] = {HANSE_DATA_CLASSES};
  const char *named = json_string_value(json_object_get(payload, "class"));
  for (size_t i = 0; named && i < sizeof classes / sizeof classes[0]; i++)
    if (strcmp(named, classes[i]) == 0) return classes[i];
  const char *dot = strchr(kind, '.');
  const hanse_module *m = hanse_registry_find(kind, dot ? (size_t)(dot - kind) : strlen(kind));
  const char *own = m && m->payload_class && payload ? m->payload_class(payload) : NULL;
  if (own && hanse_data_class_valid(own)) return own;
  if (m && m->data_class) return m->data_class;
  return "personal";
}

#define PAYLOAD_DEPTH_MAX 16

/* Reals are refused: amounts are integers, and a double's text round trip
 * is not a determinism guarantee we want to depend on -- unless the module
 * says its data are decimals by standard and owns their form
 * (hanse_module.payload_reals). */
static int payload_walk(json_t *j, int depth, int reals) {
  if (depth > PAYLOAD_DEPTH_MAX) return 0;
  if (json_is_real(j) && !reals) return 0;
  if (json_is_object(j)) {
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v) if (!payload_walk(v, depth + 1, reals)) return 0;
  } else if (json_is_array(j)) {
    size_t i;
    json_t *v;
    json_array_foreach(j, i, v) if (!payload_walk(v, depth + 1, reals)) return 0;
  }
  return 1;
}

static int payload_parse(const uint8_t *p, size_t n, int reals, json_t **out,
                         hanse_reject *rej);

int hanse_payload_parse(const uint8_t *p, size_t n, json_t **out,
                        hanse_reject *rej) {
  return payload_parse(p, n, 0, out, rej);
}

int hanse_payload_parse_for(const hanse_module *m, const uint8_t *p, size_t n,
                            json_t **out, hanse_reject *rej) {
  return payload_parse(p, n, m != NULL && m->payload_reals, out, rej);
}

static int payload_parse(const uint8_t *p, size_t n, int reals, json_t **out,
                         hanse_reject *rej) {
  *out = NULL;
  if (n > HANSE_PAYLOAD_MAX)
    return hanse_reject_set(rej, HANSE_ERR(TX_BAD_PAYLOAD), "payload too large");
  json_error_t jerr;
  json_t *j = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, &jerr);
  if (j == NULL)
    return hanse_reject_set(rej, HANSE_ERR(TX_BAD_PAYLOAD),
                            "payload is not JSON: %s", jerr.text);
  if (!json_is_object(j)) {
    json_decref(j);
    return hanse_reject_set(rej, HANSE_ERR(TX_BAD_PAYLOAD),
                            "payload must be a JSON object");
  }
  if (!payload_walk(j, 0, reals)) {
    json_decref(j);
    return hanse_reject_set(rej, HANSE_ERR(TX_BAD_PAYLOAD),
                            reals ? "payload nests deeper than %d"
                                  : "payload nests deeper than %d or holds a real number",
                            PAYLOAD_DEPTH_MAX);
  }
  *out = j;
  return HANSE_OK;
}

int hanse_tx_check(const hanse_tx *tx, const char *chain_id,
                   json_t **payload_out, hanse_reject *rej) {
  if (payload_out) *payload_out = NULL;
  if (strcmp(tx->chain_id, chain_id) != 0)
    return hanse_reject_set(rej, HANSE_ERR(TX_WRONG_CHAIN),
                            "transaction is for chain '%s', this is '%s'",
                            tx->chain_id, chain_id);
  char module[HANSE_KIND_MAX + 1], action[HANSE_KIND_MAX + 1];
  hanse_kind_split(tx->kind, module, action);
  const hanse_module *m = hanse_registry_find(module, strlen(module));
  if (m == NULL || !hanse_module_has_action(m, action))
    return hanse_reject_set(rej, HANSE_ERR(TX_UNKNOWN_KIND),
                            "no module handles '%s'", tx->kind);
  json_t *payload;
  int rc = hanse_payload_parse_for(m, tx->payload, tx->payload_len, &payload, rej);
  if (rc != HANSE_OK) return rc;
  rc = m->check(tx, action, payload, rej);
  if (rc != HANSE_OK || payload_out == NULL)
    json_decref(payload);
  else
    *payload_out = payload;
  return rc;
}
