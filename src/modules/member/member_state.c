/*
 * member/member_state.c -- reading and writing the registry's records.
 *
 * Every question the actions ask of the state goes through here: the
 * record of a key, whether a key is an active admin and of which
 * organisation, how many organisations there are and what the admission
 * threshold is.
 *
 * Founders. Genesis lists each organisation's admin keys but writes no
 * member records (chain/genesis.c stays ignorant of modules). A key found
 * in the genesis organisations and without a stored record is therefore
 * given a synthesized admin record (member_admin_record, height 0); the
 * first life-cycle action on it stores that record, which from then on
 * takes precedence. The genesis text is read from the "genesis" state key,
 * so the answer depends on state alone and replays identically.
 *
 * Values are canonical JSON (sorted keys, compact) so equal records are
 * equal bytes, which the state digest requires.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "modules/member/member_internal.h"

int member_get_json(hanse_exec *ex, const char *key, json_t **out) {
  const uint8_t *v;
  size_t n;
  int found;
  *out = NULL;
  int rc = hanse_exec_get(ex, key, &v, &n, &found);
  if (rc != HANSE_OK || !found) return rc;
  /* Our own writes: unparseable means the state was corrupted under us. */
  *out = json_loadb((const char *)v, n, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
  return *out ? HANSE_OK : HANSE_ERR(INTERNAL);
}

int member_put_json(hanse_exec *ex, const char *key, json_t *val) {
  HANSE_ASSERT(val != NULL);
  char *text = json_dumps(val, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
  if (text == NULL) return HANSE_ERR(NOMEM);
  int rc = hanse_exec_put(ex, key, text, strlen(text));
  free(text);
  return rc;
}

/* Keys in genesis may be written in either case: compare without it. */
int member_keys_has(json_t *arr, const char *keyhex) {
  size_t i;
  json_t *e;
  json_array_foreach(arr, i, e) {
    const char *t = json_string_value(e);
    if (t && strcasecmp(t, keyhex) == 0) return 1;
  }
  return 0;
}

json_t *member_admin_record(const char *org, const char *keyhex, uint64_t height) {
  char id[sizeof MEMBER_ADMIN_ID_PREFIX + 16];
  snprintf(id, sizeof id, "%s%.16s", MEMBER_ADMIN_ID_PREFIX, keyhex);
  return json_pack("{s:s, s:s, s:s, s:[s], s:{}, s:s, s:I, s:n}", "org", org, "id", id,
                   "kind", "person", "roles", "admin", "attributes", "status",
                   HANSE_MEMBER_ACTIVE, "registered_height", (json_int_t)height,
                   "expires_ms");
}

/* The genesis document, parsed once: every policy check on a chain asks
 * whether the signer is a founder, and parsing the genesis for each
 * transaction would cost more than the rest of the check. The cache is
 * keyed by the exact bytes of the "genesis" state value (a node may serve
 * several chains), so a stale answer is impossible; a mutex guards it
 * (sequencers of several chains, API threads), and the parsed document is
 * only read once shared (jansson's reference counts are atomic). *out is
 * a new reference. */
#define GENESIS_CACHE 16 /* one per chain a node may serve (HANSE_NODE_CHAINS_MAX) */
static pthread_mutex_t genesis_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
  uint8_t *text;
  size_t len;
  json_t *parsed;
} genesis_cache[GENESIS_CACHE];
static unsigned genesis_next; /* round-robin replacement */

static int genesis_parsed(hanse_exec *ex, json_t **out) {
  const uint8_t *v;
  size_t n;
  int found;
  *out = NULL;
  int rc = hanse_exec_get(ex, "genesis", &v, &n, &found);
  if (rc != HANSE_OK || !found) return rc;
  pthread_mutex_lock(&genesis_mu);
  for (int i = 0; i < GENESIS_CACHE; i++) {
    if (genesis_cache[i].parsed && genesis_cache[i].len == n &&
        memcmp(genesis_cache[i].text, v, n) == 0) {
      *out = json_incref(genesis_cache[i].parsed);
      pthread_mutex_unlock(&genesis_mu);
      return HANSE_OK;
    }
  }
  json_t *g = json_loadb((const char *)v, n, JSON_REJECT_DUPLICATES, NULL);
  uint8_t *copy = g ? malloc(n ? n : 1) : NULL;
  if (copy == NULL) {
    rc = g == NULL ? HANSE_ERR(INTERNAL) : HANSE_ERR(NOMEM);
    json_decref(g);
    pthread_mutex_unlock(&genesis_mu);
    return rc;
  }
  memcpy(copy, v, n);
  unsigned slot = genesis_next++ % GENESIS_CACHE;
  free(genesis_cache[slot].text);
  json_decref(genesis_cache[slot].parsed);
  genesis_cache[slot].text = copy;
  genesis_cache[slot].len = n;
  genesis_cache[slot].parsed = g;
  *out = json_incref(g);
  pthread_mutex_unlock(&genesis_mu);
  return HANSE_OK;
}

/* The founding organisation of `keyhex` in genesis, or NULL. */
static int founder_org(hanse_exec *ex, const char *keyhex, char org[MEMBER_ID_MAX + 1]) {
  json_t *g;
  org[0] = 0;
  int rc = genesis_parsed(ex, &g);
  if (rc != HANSE_OK || g == NULL) return rc;
  size_t i;
  json_t *o;
  json_array_foreach(json_object_get(g, "organisations"), i, o) {
    if (member_keys_has(json_object_get(o, "keys"), keyhex)) {
      snprintf(org, MEMBER_ID_MAX + 1, "%s", json_string_value(json_object_get(o, "id")));
      break;
    }
  }
  json_decref(g);
  return HANSE_OK;
}

int member_record(hanse_exec *ex, const char *keyhex, json_t **rec, int *stored) {
  char key[MEMBER_KEY_MAX];
  snprintf(key, sizeof key, "member/key/%s", keyhex);
  *stored = 0;
  int rc = member_get_json(ex, key, rec);
  if (rc != HANSE_OK) return rc;
  if (*rec) {
    *stored = 1;
    return HANSE_OK;
  }
  char org[MEMBER_ID_MAX + 1];
  rc = founder_org(ex, keyhex, org);
  if (rc != HANSE_OK || org[0] == 0) return rc;
  *rec = member_admin_record(org, keyhex, 0);
  return *rec ? HANSE_OK : HANSE_ERR(NOMEM);
}

int member_key_known(hanse_exec *ex, const char *keyhex, int *known) {
  json_t *rec;
  int stored;
  int rc = member_record(ex, keyhex, &rec, &stored);
  *known = rec != NULL;
  json_decref(rec);
  return rc;
}

int member_save(hanse_exec *ex, const char *keyhex, json_t *rec, int index) {
  char key[MEMBER_KEY_MAX];
  snprintf(key, sizeof key, "member/key/%s", keyhex);
  int rc = member_put_json(ex, key, rec);
  if (rc != HANSE_OK || !index) return rc;
  snprintf(key, sizeof key, "member/id/%s/%s", json_string_value(json_object_get(rec, "org")),
           json_string_value(json_object_get(rec, "id")));
  json_t *ix = json_pack("{s:s}", "key", keyhex);
  if (ix == NULL) return HANSE_ERR(NOMEM);
  rc = member_put_json(ex, key, ix);
  json_decref(ix);
  return rc;
}

const char *member_effective_status(json_t *rec, uint64_t time_ms) {
  const char *s = json_string_value(json_object_get(rec, "status"));
  if (s == NULL) return HANSE_MEMBER_UNKNOWN;
  if (strcmp(s, HANSE_MEMBER_REVOKED) == 0) return HANSE_MEMBER_REVOKED;
  json_t *exp = json_object_get(rec, "expires_ms");
  if (json_is_integer(exp) && time_ms >= (uint64_t)json_integer_value(exp))
    return HANSE_MEMBER_EXPIRED;
  if (strcmp(s, HANSE_MEMBER_SUSPENDED) == 0) return HANSE_MEMBER_SUSPENDED;
  return HANSE_MEMBER_ACTIVE;
}

int member_admin_org(hanse_exec *ex, const char *keyhex, json_t **org_out) {
  json_t *rec;
  int stored;
  *org_out = NULL;
  int rc = member_record(ex, keyhex, &rec, &stored);
  if (rc != HANSE_OK || rec == NULL) return rc;
  if (strcmp(member_effective_status(rec, ex->time_ms), HANSE_MEMBER_ACTIVE) == 0) {
    char key[MEMBER_KEY_MAX];
    snprintf(key, sizeof key, "org/%s", json_string_value(json_object_get(rec, "org")));
    json_t *org;
    rc = member_get_json(ex, key, &org);
    if (rc == HANSE_OK && org && member_keys_has(json_object_get(org, "keys"), keyhex))
      *org_out = org;
    else
      json_decref(org);
  }
  json_decref(rec);
  return rc;
}

int member_org_count(hanse_exec *ex, int *n) {
  json_t *g, *c;
  *n = 0;
  int rc = member_get_json(ex, "genesis", &g);
  if (rc != HANSE_OK) return rc;
  *n = (int)json_array_size(json_object_get(g, "organisations"));
  json_decref(g);
  rc = member_get_json(ex, "member/org_count", &c);
  if (rc != HANSE_OK) return rc;
  if (c) *n += (int)json_integer_value(c);
  json_decref(c);
  return HANSE_OK;
}

int member_threshold(hanse_exec *ex, int n_orgs, int *threshold) {
  json_t *g;
  HANSE_ASSERT(n_orgs >= 1);
  *threshold = n_orgs / 2 + 1;
  int rc = member_get_json(ex, "genesis", &g);
  if (rc != HANSE_OK) return rc;
  json_t *t = json_object_get(json_object_get(g, "governance"), "org_admission_threshold");
  if (json_is_integer(t) && json_integer_value(t) >= 1)
    *threshold = json_integer_value(t) < n_orgs ? (int)json_integer_value(t) : n_orgs;
  json_decref(g);
  return HANSE_OK;
}

int member_other_admins(hanse_exec *ex, json_t *org, const char *except, int *n) {
  size_t i;
  json_t *k;
  *n = 0;
  json_array_foreach(json_object_get(org, "keys"), i, k) {
    char hex[HANSE_HASH_HEX_BYTES];
    if (!member_key_norm(json_string_value(k), hex) || (except && strcmp(hex, except) == 0))
      continue;
    json_t *rec;
    int stored;
    int rc = member_record(ex, hex, &rec, &stored);
    if (rc != HANSE_OK) return rc;
    if (rec && strcmp(member_effective_status(rec, ex->time_ms), HANSE_MEMBER_ACTIVE) == 0)
      (*n)++;
    json_decref(rec);
  }
  return HANSE_OK;
}

/* The number of validators: the state key "cluster/validator_count" once
 * a node was added or removed by vote (member_node.c keeps it), else the
 * genesis's "validators". */
int member_validator_count(hanse_exec *ex, int *n) {
  *n = 0;
  json_t *c;
  int rc = member_get_json(ex, "cluster/validator_count", &c);
  if (rc != HANSE_OK) return rc;
  if (c != NULL) {
    *n = (int)json_integer_value(c);
    json_decref(c);
    return HANSE_OK;
  }
  json_t *g;
  rc = genesis_parsed(ex, &g);
  if (rc != HANSE_OK || g == NULL) return rc;
  *n = (int)json_array_size(json_object_get(g, "validators"));
  json_decref(g);
  return HANSE_OK;
}
