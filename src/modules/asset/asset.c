/*
 * asset/asset.c -- named digital assets: issue and transfer.
 *
 * State (text keys, decimal values so anyone can read the state):
 *   asset/def/<symbol>                 -> {"symbol","decimals","supply",
 *                                          "issuer","height","name"}
 *   asset/bal/<symbol>/<owner hex>     -> balance, decimal integer
 *
 * Invariant: for every asset, the balances sum to its supply (issue credits
 * the whole supply to the issuer; a transfer debits and credits the same
 * amount). Amounts are integers in the asset's smallest unit, 1 to 2^63-1;
 * `decimals` only tells clients where to put the point. No floating point
 * anywhere.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "chain/exec.h"
#include "chain/module.h"

static const char *const asset_actions[] = {"issue", "transfer", NULL};
static const char *const asset_queries[] = {"asset", "assets", "balance", "holders", NULL};

static int symbol_valid(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n < 1 || n > HANSE_ASSET_NAME_MAX) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
          c == '_' || c == '-' || c == '.'))
      return 0;
  }
  return 1;
}

static int amount_of(json_t *j, uint64_t *out) {
  if (!json_is_integer(j)) return 0;
  json_int_t v = json_integer_value(j);
  if (v < 1) return 0;
  *out = (uint64_t)v;
  return 1;
}

static void bal_key(char *key, size_t n, const char *sym, const hanse_pubkey *owner) {
  char hex[HANSE_HASH_HEX_BYTES];
  snprintf(key, n, "asset/bal/%s/%s", sym, hanse_pubkey_hex(hex, owner));
}

static int read_u64(hanse_exec *ex, const char *key, uint64_t *v) {
  const uint8_t *p;
  size_t n;
  int found;
  int rc = hanse_exec_get(ex, key, &p, &n, &found);
  *v = 0;
  if (rc != HANSE_OK || !found) return rc;
  char num[24];
  if (n >= sizeof num) return HANSE_ERR(INTERNAL);
  memcpy(num, p, n);
  num[n] = 0;
  *v = strtoull(num, NULL, 10);
  return HANSE_OK;
}

static int write_u64(hanse_exec *ex, const char *key, uint64_t v) {
  char num[24];
  int n = snprintf(num, sizeof num, "%" PRIu64, v);
  return hanse_exec_put(ex, key, num, (size_t)n);
}

static int asset_check(const hanse_tx *tx, const char *action, json_t *p,
                       hanse_reject *rej) {
  (void)tx;
  const char *sym = json_string_value(json_object_get(p, "asset"));
  if (!symbol_valid(sym))
    return hanse_reject_code(rej, "asset.bad_symbol", 400,
                             "\"asset\" must be 1-%d of [A-Za-z0-9._-]", HANSE_ASSET_NAME_MAX);
  if (strcmp(action, "issue") == 0) {
    json_t *d = json_object_get(p, "decimals");
    if (!json_is_integer(d) || json_integer_value(d) < 0 ||
        json_integer_value(d) > HANSE_ASSET_DECIMALS_MAX)
      return hanse_reject_code(rej, "asset.bad_decimals", 400,
                               "\"decimals\" must be an integer 0-%d", HANSE_ASSET_DECIMALS_MAX);
    uint64_t supply;
    if (!amount_of(json_object_get(p, "supply"), &supply))
      return hanse_reject_code(rej, "asset.bad_amount", 400,
                               "\"supply\" must be an integer from 1 to 2^63-1");
    json_t *name = json_object_get(p, "name");
    if (name && (!json_is_string(name) || json_string_length(name) > 128))
      return hanse_reject_code(rej, "asset.bad_name", 400, "\"name\" must be a string of at most 128 bytes");
    return HANSE_OK;
  }
  /* transfer */
  uint64_t amount;
  if (!amount_of(json_object_get(p, "amount"), &amount))
    return hanse_reject_code(rej, "asset.bad_amount", 400,
                             "\"amount\" must be an integer from 1 to 2^63-1");
  hanse_pubkey to;
  if (hanse_pubkey_parse(&to, json_string_value(json_object_get(p, "to"))) != HANSE_OK)
    return hanse_reject_code(rej, "asset.bad_recipient", 400,
                             "\"to\" must be a 64-hex public key");
  json_t *memo = json_object_get(p, "memo");
  if (memo && (!json_is_string(memo) || json_string_length(memo) > 256))
    return hanse_reject_code(rej, "asset.bad_memo", 400, "\"memo\" must be a string of at most 256 bytes");
  return HANSE_OK;
}

static int asset_verify(hanse_exec *ex, const hanse_tx *tx, const char *action,
                        json_t *p, hanse_reject *rej) {
  const char *sym = json_string_value(json_object_get(p, "asset"));
  char key[128];
  snprintf(key, sizeof key, "asset/def/%s", sym);
  const uint8_t *v;
  size_t n;
  int found;
  int rc = hanse_exec_get(ex, key, &v, &n, &found);
  if (rc != HANSE_OK) return rc;
  if (strcmp(action, "issue") == 0) {
    if (found)
      return hanse_reject_code(rej, "asset.exists", 409, "asset '%s' already exists", sym);
    return HANSE_OK;
  }
  if (!found)
    return hanse_reject_code(rej, "asset.unknown", 404, "no asset '%s'", sym);
  uint64_t amount = (uint64_t)json_integer_value(json_object_get(p, "amount"));
  hanse_pubkey to;
  hanse_pubkey_parse(&to, json_string_value(json_object_get(p, "to")));
  if (memcmp(to.b, tx->signer.b, HANSE_PUBKEY_BYTES) == 0)
    return hanse_reject_code(rej, "asset.self_transfer", 400, "sender and recipient are the same");
  uint64_t bal;
  bal_key(key, sizeof key, sym, &tx->signer);
  rc = read_u64(ex, key, &bal);
  if (rc != HANSE_OK) return rc;
  if (bal < amount)
    return hanse_reject_code(rej, "asset.insufficient_balance", 409,
                             "balance %" PRIu64 " of '%s' is below %" PRIu64, bal, sym, amount);
  return HANSE_OK;
}

static int asset_apply(hanse_exec *ex, const hanse_tx *tx, const char *action,
                       json_t *p) {
  const char *sym = json_string_value(json_object_get(p, "asset"));
  char key[128];
  int rc;
  if (strcmp(action, "issue") == 0) {
    char hex[HANSE_HASH_HEX_BYTES];
    json_t *def = json_pack("{s:s, s:I, s:I, s:s, s:I}", "symbol", sym, "decimals",
                            json_integer_value(json_object_get(p, "decimals")), "supply",
                            json_integer_value(json_object_get(p, "supply")), "issuer",
                            hanse_pubkey_hex(hex, &tx->signer), "height",
                            (json_int_t)ex->height);
    if (def == NULL) return HANSE_ERR(NOMEM);
    json_t *name = json_object_get(p, "name");
    if (name) json_object_set(def, "name", name);
    char *text = json_dumps(def, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(def);
    if (text == NULL) return HANSE_ERR(NOMEM);
    snprintf(key, sizeof key, "asset/def/%s", sym);
    rc = hanse_exec_put(ex, key, text, strlen(text));
    free(text);
    if (rc != HANSE_OK) return rc;
    bal_key(key, sizeof key, sym, &tx->signer);
    return write_u64(ex, key, (uint64_t)json_integer_value(json_object_get(p, "supply")));
  }
  uint64_t amount = (uint64_t)json_integer_value(json_object_get(p, "amount"));
  hanse_pubkey to;
  hanse_pubkey_parse(&to, json_string_value(json_object_get(p, "to")));
  uint64_t from_bal, to_bal;
  bal_key(key, sizeof key, sym, &tx->signer);
  rc = read_u64(ex, key, &from_bal);
  if (rc != HANSE_OK) return rc;
  if (from_bal < amount) return HANSE_ERR(INTERNAL); /* verify said otherwise */
  rc = write_u64(ex, key, from_bal - amount);
  if (rc != HANSE_OK) return rc;
  bal_key(key, sizeof key, sym, &to);
  rc = read_u64(ex, key, &to_bal);
  if (rc != HANSE_OK) return rc;
  /* Balances sum to the supply, which is below 2^63: no overflow. */
  if (to_bal + amount < to_bal) return HANSE_ERR(INTERNAL);
  return write_u64(ex, key, to_bal + amount);
}

/* Queries. */
typedef struct list_ctx {
  json_t *arr;
  size_t prefix_len;
  int as_json;
  char last[256];
} list_ctx;

static int list_visit(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v,
                      size_t vl) {
  list_ctx *lc = ctx;
  if (lc->as_json) {
    json_t *j = json_loadb((const char *)v, vl, 0, NULL);
    if (j) json_array_append_new(lc->arr, j);
  } else {
    char num[24] = "0";
    if (vl < sizeof num) {
      memcpy(num, v, vl);
      num[vl] = 0;
    }
    json_array_append_new(lc->arr,
                          json_pack("{s:s#, s:I}", "owner", (const char *)k + lc->prefix_len,
                                    (int)(kl - lc->prefix_len), "balance",
                                    (json_int_t)strtoll(num, NULL, 10)));
  }
  size_t n = kl < sizeof lc->last - 1 ? kl : sizeof lc->last - 1;
  memcpy(lc->last, k, n);
  lc->last[n] = 0;
  return 0;
}


static int asset_query(hanse_view *v, const char *name, json_t *params,
                       json_t **result, hanse_reject *rej) {
  const char *sym = json_string_value(json_object_get(params, "asset"));
  char key[256];
  hanse_buf val;
  hanse_buf_init(&val);
  int found = 0, rc;
  if (strcmp(name, "assets") == 0 || strcmp(name, "holders") == 0) {
    int holders = strcmp(name, "holders") == 0;
    if (holders && !symbol_valid(sym)) return hanse_reject_code(rej, "asset.bad_symbol", 400, "bad asset symbol");
    if (holders) snprintf(key, sizeof key, "asset/bal/%s/", sym);
    else snprintf(key, sizeof key, "asset/def/");
    const char *after = json_string_value(json_object_get(params, "after"));
    char afterkey[256];
    if (after) snprintf(afterkey, sizeof afterkey, "%s%s", key, after);
    list_ctx lc = {json_array(), strlen(key), !holders, ""};
    rc = hanse_view_scan(v, key, after ? afterkey : NULL, hanse_view_limit(params), list_visit, &lc);
    if (rc != HANSE_OK) {
      json_decref(lc.arr);
      return hanse_reject_set(rej, rc, NULL);
    }
    *result = json_pack("{s:o}", holders ? "holders" : "assets", lc.arr);
    return HANSE_OK;
  }
  if (!symbol_valid(sym))
    return hanse_reject_code(rej, "asset.bad_symbol", 400, "bad or missing asset symbol");
  snprintf(key, sizeof key, "asset/def/%s", sym);
  rc = hanse_view_get(v, key, &val, &found);
  if (rc != HANSE_OK || !found) {
    hanse_buf_free(&val);
    return rc != HANSE_OK ? hanse_reject_set(rej, rc, NULL)
                          : hanse_reject_code(rej, "asset.unknown", 404, "no asset '%s'", sym);
  }
  json_t *def = json_loadb((const char *)val.data, val.len, 0, NULL);
  if (strcmp(name, "asset") == 0) {
    hanse_buf_free(&val);
    *result = def;
    return def ? HANSE_OK : hanse_reject_set(rej, HANSE_ERR(INTERNAL), NULL);
  }
  /* balance */
  hanse_pubkey owner;
  if (hanse_pubkey_parse(&owner, json_string_value(json_object_get(params, "owner"))) != HANSE_OK) {
    json_decref(def);
    hanse_buf_free(&val);
    return hanse_reject_code(rej, "asset.bad_owner", 400, "owner must be a 64-hex public key");
  }
  bal_key(key, sizeof key, sym, &owner);
  rc = hanse_view_get(v, key, &val, &found);
  char num[24] = "0";
  if (rc == HANSE_OK && found && val.len < sizeof num) {
    memcpy(num, val.data, val.len);
    num[val.len] = 0;
  }
  hanse_buf_free(&val);
  if (rc != HANSE_OK) {
    json_decref(def);
    return hanse_reject_set(rej, rc, NULL);
  }
  char hex[HANSE_HASH_HEX_BYTES];
  *result = json_pack("{s:s, s:s, s:I, s:O}", "asset", sym, "owner",
                      hanse_pubkey_hex(hex, &owner), "balance",
                      (json_int_t)strtoll(num, NULL, 10), "decimals",
                      json_object_get(def, "decimals"));
  json_decref(def);
  return HANSE_OK;
}

const hanse_module hanse_module_asset = {
    .name = "asset",
    .actions = asset_actions,
    .queries = asset_queries,
    .check = asset_check,
    .verify = asset_verify,
    .apply = asset_apply,
    .query = asset_query,
    .data_class = "financial",
};
