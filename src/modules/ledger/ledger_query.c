/*
 * ledger/ledger_query.c -- reading the ledger for the API.
 *
 *   account   {account}                 the account: its static record with
 *                                        its balances merged in
 *   accounts  {owner, after?, limit?}   {"owner","accounts":[record...],
 *                                        "next"?} in account id order
 *   transfer  {id}                      the transfer record
 *   transfers {account, after?, limit?} {"account","transfers":[record...],
 *                                        "next"?} oldest first
 *   totals    {asset?}                  one asset's totals, or
 *                                        {"totals":[...]} for every asset
 *   results   {tx}                      {"results":[{"id","code"}]} of a
 *                                        transfer transaction that partly
 *                                        failed
 *   confidential {}                     {"assets","auditors"}: the policy's
 *                                        confidential assets (ledger_conf.c)
 *   confidential_transfers {asset, after?, limit?}
 *                                       {"asset","transfers":[record...],
 *                                        "next"?}: the asset's confidential
 *                                        transfers, oldest first
 *
 * Parameters are strings (they come from a URL). A list answers at most
 * `limit` (hanse_view_limit) items; when it is full, "next" is the value
 * of "after" that continues it. Queries read the last committed block:
 * a pending transfer due to expire is shown pending until the next ledger
 * transaction sweeps it (ledger_transfer.c). Rejections: ledger.bad_*
 * (400) and ledger.no_* (404).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "modules/ledger/ledger.h"

/* One record, or ledger.<missing> (404). */
static int one(hanse_view *v, const char *key, const char *missing, const char *what,
               json_t **result, hanse_reject *rej) {
  int rc = ledger_key_is_xfer(key) ? ledger_xfer_view(v, key, result)
                                   : hanse_view_get_json(v, key, result);
  if (rc != HANSE_OK) return hanse_reject_set(rej, rc, NULL);
  if (*result == NULL) return hanse_reject_code(rej, missing, 404, "no %s", what);
  return HANSE_OK;
}

/* How a listed row becomes an item. */
typedef enum list_kind {
  LIST_JSON,    /* the value is the item */
  LIST_INDEX,   /* the value names a record at record_prefix + id */
  LIST_ACCOUNT, /* the value names an account (ledger_account_view) */
  LIST_TOTALS   /* a totals row of the asset the key ends with */
} list_kind;

typedef struct list_ctx {
  hanse_view *v;
  json_t *arr;
  size_t prefix_len;
  list_kind kind;
  const char *record_prefix;
  char last[LEDGER_KEY_MAX];
  int rc;
} list_ctx;

static int list_visit(void *ctx, const uint8_t *k, size_t kl, const uint8_t *val, size_t vl) {
  list_ctx *lc = ctx;
  if (kl >= sizeof lc->last) {
    lc->rc = HANSE_ERR(INTERNAL);
    return 1;
  }
  memcpy(lc->last, k, kl);
  lc->last[kl] = 0;
  json_t *j = NULL;
  if (lc->kind == LIST_TOTALS) {
    ledger_sums sums;
    j = json_pack("{s:s}", "asset", lc->last + lc->prefix_len);
    if (j == NULL || !ledger_sums_parse(&sums, (const char *)val, vl) ||
        ledger_sums_json(j, &sums) != HANSE_OK)
      lc->rc = HANSE_ERR(INTERNAL);
  } else {
    j = json_loadb((const char *)val, vl, JSON_DECODE_ANY, NULL);
    if (j == NULL) lc->rc = HANSE_ERR(INTERNAL);
  }
  if (lc->rc == HANSE_OK && lc->kind != LIST_JSON && lc->kind != LIST_TOTALS) {
    char key[LEDGER_KEY_MAX];
    const char *id = json_string_value(j) ? json_string_value(j) : "";
    json_t *rec = NULL;
    if (lc->kind == LIST_ACCOUNT) {
      lc->rc = ledger_account_view(lc->v, id, &rec);
    } else {
      snprintf(key, sizeof key, "%s%s", lc->record_prefix, id);
      lc->rc = ledger_key_is_xfer(key) ? ledger_xfer_view(lc->v, key, &rec)
                                       : hanse_view_get_json(lc->v, key, &rec);
    }
    json_decref(j);
    j = rec;
  }
  if (lc->rc == HANSE_OK && j == NULL) lc->rc = HANSE_ERR(INTERNAL);
  if (lc->rc != HANSE_OK) {
    json_decref(j);
    return 1;
  }
  json_array_append_new(lc->arr, j);
  return 0;
}

static int list_of(hanse_view *v, const char *prefix, json_t *params, list_kind kind,
                   const char *record_prefix, const char *member, json_t *result,
                   hanse_reject *rej) {
  const char *a = json_string_value(json_object_get(params, "after"));
  char after[2 * LEDGER_KEY_MAX];
  if (a) snprintf(after, sizeof after, "%s%s", prefix, a);
  int limit = hanse_view_limit(params);
  list_ctx lc = {v, json_array(), strlen(prefix), kind, record_prefix, "", HANSE_OK};
  if (lc.arr == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  int rc = ledger_key_indexed(prefix)
               ? hanse_view_index_scan(v, prefix, a ? after : NULL, limit, list_visit, &lc)
               : hanse_view_scan(v, prefix, a ? after : NULL, limit, list_visit, &lc);
  if (rc == HANSE_OK) rc = lc.rc;
  if (rc != HANSE_OK) {
    json_decref(lc.arr);
    return hanse_reject_set(rej, rc, NULL);
  }
  if (json_array_size(lc.arr) == (size_t)limit)
    json_object_set_new(result, "next", json_string(lc.last + lc.prefix_len));
  json_object_set_new(result, member, lc.arr);
  return HANSE_OK;
}

int ledger_list(hanse_view *v, const char *prefix, json_t *params, int via_index,
                const char *record_prefix, const char *member, json_t *result,
                hanse_reject *rej) {
  list_kind kind = !via_index                                   ? LIST_JSON
                   : strcmp(record_prefix, "ledger/acct/") == 0 ? LIST_ACCOUNT
                                                                : LIST_INDEX;
  return list_of(v, prefix, params, kind, record_prefix, member, result, rej);
}

static int param_id(json_t *params, const char *name, const char **out, hanse_reject *rej) {
  *out = json_string_value(json_object_get(params, name));
  if (ledger_id_valid(*out)) return HANSE_OK;
  return hanse_reject_code(rej, "ledger.bad_id", 400, "\"%s\" must be 1-%d of [A-Za-z0-9._:-]",
                           name, LEDGER_ID_MAX);
}

int ledger_owner_valid(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n < 1 || n > LEDGER_OWNER_MAX) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
      return 0;
  }
  return 1;
}

int ledger_query(hanse_view *v, const char *name, json_t *params, json_t **result,
                 hanse_reject *rej) {
  char key[LEDGER_KEY_MAX];
  const char *id;
  *result = NULL;
  if (strcmp(name, "account") == 0 || strcmp(name, "transfer") == 0) {
    int acct = name[0] == 'a';
    if (param_id(params, acct ? "account" : "id", &id, rej) != HANSE_OK) return HANSE_ERR(INVALID);
    if (acct) {
      int rc = ledger_account_view(v, id, result);
      if (rc != HANSE_OK) return hanse_reject_set(rej, rc, NULL);
      if (*result == NULL)
        return hanse_reject_code(rej, "ledger.no_account", 404, "no such account");
      return HANSE_OK;
    }
    ledger_key_xfer(key, id);
    return one(v, key, "ledger.no_transfer", "such transfer", result, rej);
  }
  if (strcmp(name, "results") == 0) {
    hanse_hash h;
    const char *tx = json_string_value(json_object_get(params, "tx"));
    if (tx == NULL || hanse_hex_decode_exact(h.b, HANSE_HASH_BYTES, tx) != HANSE_OK)
      return hanse_reject_code(rej, "ledger.bad_tx", 400, "\"tx\" must be a 64-hex transaction id");
    char hex[HANSE_HASH_HEX_BYTES];
    hanse_hex_encode(hex, h.b, HANSE_HASH_BYTES);
    snprintf(key, sizeof key, "ledger/result/%s", hex);
    return one(v, key, "ledger.no_results", "partly failed transfer transaction with that id",
               result, rej);
  }
  if (strcmp(name, "totals") == 0) {
    const char *asset = json_string_value(json_object_get(params, "asset"));
    if (asset) {
      if (!ledger_id_valid(asset))
        return hanse_reject_code(rej, "ledger.bad_asset", 400, "\"asset\" must be an asset code");
      int rc = ledger_totals_view(v, asset, result);
      if (rc != HANSE_OK) return hanse_reject_set(rej, rc, NULL);
      if (*result == NULL)
        return hanse_reject_code(rej, "ledger.no_totals", 404, "no transfers in that asset");
      return HANSE_OK;
    }
    json_t *out = json_object();
    if (out == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
    if (list_of(v, "ledger/totals/", params, LIST_TOTALS, NULL, "totals", out, rej) != HANSE_OK) {
      json_decref(out);
      return HANSE_ERR(INVALID);
    }
    *result = out;
    return HANSE_OK;
  }
  if (strcmp(name, "confidential") == 0) return ledger_conf_query_policy(v, result, rej);
  /* accounts, transfers, confidential_transfers */
  int accounts = strcmp(name, "accounts") == 0, conf = strcmp(name, "confidential_transfers") == 0;
  if (conf) {
    id = json_string_value(json_object_get(params, "asset"));
    if (!ledger_id_valid(id))
      return hanse_reject_code(rej, "ledger.bad_asset", 400, "\"asset\" must be an asset code");
    snprintf(key, sizeof key, "ledger/cx/%s/", id);
  } else if (accounts) {
    id = json_string_value(json_object_get(params, "owner"));
    if (!ledger_owner_valid(id))
      return hanse_reject_code(rej, "ledger.bad_owner", 400,
                               "\"owner\" must be an organisation id or a key's lowercase hex");
    snprintf(key, sizeof key, "ledger/own/%s/", id);
  } else {
    if (param_id(params, "account", &id, rej) != HANSE_OK) return HANSE_ERR(INVALID);
    snprintf(key, sizeof key, "ledger/acx/%s/", id);
  }
  json_t *out = json_pack("{s:s}", accounts ? "owner" : conf ? "asset" : "account", id);
  if (out == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  if (ledger_list(v, key, params, 1, accounts ? "ledger/acct/" : "ledger/xfer/",
           accounts ? "accounts" : "transfers", out, rej) != HANSE_OK) {
    json_decref(out);
    return HANSE_ERR(INVALID);
  }
  *result = out;
  return HANSE_OK;
}
