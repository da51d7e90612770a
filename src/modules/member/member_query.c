/*
 * member/member_query.c -- reading the registry for the API.
 *
 *   org          {id}                      the organisation record
 *   orgs         {after?, limit?}          {"orgs":[record...]} in id order
 *   member       {key}                     the key's record plus "key"
 *   members      {org, after?, limit?}     {"org","members":[...]}: the
 *                                          registered members in id order
 *                                          (after: a member id); on the first
 *                                          page also the founder keys that
 *                                          have no stored record yet
 *   proposal     {id}                      the proposal record
 *   attestations {key, after?, limit?}     {"key","attestations":[...]} in
 *                                          block order (after: the
 *                                          "<height>-<index>" suffix)
 *
 * Parameters are strings (they come from a URL). A query sees the state of
 * the last committed block but not its time, so "status" is the stored one;
 * expiry is in "expires_ms" (hanse_member_key_status applies it during
 * execution). Rejections: member.bad_* (400), member.unknown (404).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "modules/member/member_internal.h"

/* A key's record, stored or founder's; NULL when unknown. */
static int view_record(hanse_view *v, const char *hex, json_t **rec) {
  char key[MEMBER_KEY_MAX];
  snprintf(key, sizeof key, "member/key/%s", hex);
  int rc = hanse_view_get_json(v, key, rec);
  if (rc != HANSE_OK || *rec) return rc;
  json_t *g;
  rc = hanse_view_get_json(v, "genesis", &g);
  if (rc != HANSE_OK) return rc;
  size_t i;
  json_t *o;
  json_array_foreach(json_object_get(g, "organisations"), i, o) {
    if (member_keys_has(json_object_get(o, "keys"), hex)) {
      *rec = member_admin_record(json_string_value(json_object_get(o, "id")), hex, 0);
      break;
    }
  }
  json_decref(g);
  return HANSE_OK;
}


typedef struct scan_ctx {
  hanse_view *v;
  json_t *arr;
  int rc;
  int via_index; /* values are {"key":hex}: list the records they name */
} scan_ctx;

static int scan_visit(void *ctx, const uint8_t *k, size_t kl, const uint8_t *val, size_t vl) {
  (void)k;
  (void)kl;
  scan_ctx *sc = ctx;
  json_t *j = json_loadb((const char *)val, vl, 0, NULL);
  if (j == NULL) {
    sc->rc = HANSE_ERR(INTERNAL);
    return 1;
  }
  if (sc->via_index) {
    char hex[HANSE_HASH_HEX_BYTES];
    json_t *rec = NULL;
    if (member_key_norm(json_string_value(json_object_get(j, "key")), hex))
      sc->rc = view_record(sc->v, hex, &rec);
    json_decref(j);
    if (sc->rc != HANSE_OK || rec == NULL) {
      if (sc->rc == HANSE_OK) sc->rc = HANSE_ERR(INTERNAL);
      return 1;
    }
    json_object_set_new(rec, "key", json_string(hex));
    j = rec;
  }
  json_array_append_new(sc->arr, j);
  return 0;
}

/* List `prefix` from `after` (a suffix, may be NULL) into a new array. */
static int scan_list(hanse_view *v, const char *prefix, json_t *params, int via_index,
                     json_t **arr) {
  const char *a = json_string_value(json_object_get(params, "after"));
  char after[MEMBER_KEY_MAX * 2];
  if (a) snprintf(after, sizeof after, "%s%s", prefix, a);
  scan_ctx sc = {v, json_array(), HANSE_OK, via_index};
  if (sc.arr == NULL) return HANSE_ERR(NOMEM);
  int rc = hanse_view_scan(v, prefix, a ? after : NULL, hanse_view_limit(params), scan_visit, &sc);
  if (rc == HANSE_OK) rc = sc.rc;
  if (rc != HANSE_OK) {
    json_decref(sc.arr);
    return rc;
  }
  *arr = sc.arr;
  return HANSE_OK;
}

static int one(hanse_view *v, const char *key, const char *what, json_t **result,
               hanse_reject *rej) {
  int rc = hanse_view_get_json(v, key, result);
  if (rc != HANSE_OK) return hanse_reject_set(rej, rc, NULL);
  if (*result == NULL) return hanse_reject_code(rej, "member.unknown", 404, "no such %s", what);
  return HANSE_OK;
}

static int query_members(hanse_view *v, json_t *params, json_t **result, hanse_reject *rej) {
  const char *id = json_string_value(json_object_get(params, "org"));
  if (!member_id_valid(id)) return hanse_reject_code(rej, "member.bad_id", 400, "bad or missing org id");
  char key[MEMBER_KEY_MAX];
  snprintf(key, sizeof key, "org/%s", id);
  json_t *org, *list = NULL;
  int rc = one(v, key, "organisation", &org, rej);
  if (rc != HANSE_OK) return rc;
  snprintf(key, sizeof key, "member/id/%s/", id);
  rc = scan_list(v, key, params, 1, &list);
  if (rc == HANSE_OK && json_object_get(params, "after") == NULL) {
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(org, "keys"), i, k) {
      char hex[HANSE_HASH_HEX_BYTES];
      json_t *stored;
      if (!member_key_norm(json_string_value(k), hex)) continue;
      snprintf(key, sizeof key, "member/key/%s", hex);
      rc = hanse_view_get_json(v, key, &stored);
      if (rc != HANSE_OK) break;
      if (stored) {
        json_decref(stored);
        continue;
      }
      json_t *rec = member_admin_record(id, hex, 0);
      if (rec == NULL) {
        rc = HANSE_ERR(NOMEM);
        break;
      }
      json_object_set_new(rec, "key", json_string(hex));
      json_array_append_new(list, rec);
    }
  }
  json_decref(org);
  if (rc != HANSE_OK) {
    if (list) json_decref(list);
    return hanse_reject_set(rej, rc, NULL);
  }
  *result = json_pack("{s:s, s:o}", "org", id, "members", list);
  return HANSE_OK;
}

int member_query(hanse_view *v, const char *name, json_t *params, json_t **result,
                 hanse_reject *rej) {
  char key[MEMBER_KEY_MAX], hex[HANSE_HASH_HEX_BYTES];
  json_t *list;
  int rc;
  if (strcmp(name, "org") == 0) {
    const char *id = json_string_value(json_object_get(params, "id"));
    if (!member_id_valid(id)) return hanse_reject_code(rej, "member.bad_id", 400, "bad or missing org id");
    snprintf(key, sizeof key, "org/%s", id);
    return one(v, key, "organisation", result, rej);
  }
  if (strcmp(name, "orgs") == 0) {
    rc = scan_list(v, "org/", params, 0, &list);
    if (rc != HANSE_OK) return hanse_reject_set(rej, rc, NULL);
    *result = json_pack("{s:o}", "orgs", list);
    return HANSE_OK;
  }
  if (strcmp(name, "members") == 0) return query_members(v, params, result, rej);
  if (strcmp(name, "proposal") == 0) {
    hanse_hash h;
    if (hanse_hash_parse(&h, json_string_value(json_object_get(params, "id"))) != HANSE_OK)
      return hanse_reject_code(rej, "member.bad_proposal", 400, "id must be 64 hex characters");
    snprintf(key, sizeof key, "member/prop/%s", hanse_hash_hex(hex, &h));
    return one(v, key, "proposal", result, rej);
  }
  /* member, attestations: by key */
  if (!member_key_norm(json_string_value(json_object_get(params, "key")), hex))
    return hanse_reject_code(rej, "member.bad_key", 400, "key must be a 64-hex public key");
  if (strcmp(name, "member") == 0) {
    rc = view_record(v, hex, result);
    if (rc != HANSE_OK) return hanse_reject_set(rej, rc, NULL);
    if (*result == NULL) return hanse_reject_code(rej, "member.unknown", 404, "no member holds this key");
    json_object_set_new(*result, "key", json_string(hex));
    return HANSE_OK;
  }
  snprintf(key, sizeof key, "member/attest/%s/", hex);
  rc = scan_list(v, key, params, 0, &list);
  if (rc != HANSE_OK) return hanse_reject_set(rej, rc, NULL);
  *result = json_pack("{s:s, s:o}", "key", hex, "attestations", list);
  return HANSE_OK;
}
