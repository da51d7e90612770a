/*
 * token/token.c -- the token module's function table: context-free
 * checks, defining a token, attesting a reserve, and dispatch.
 *
 *   token.define  {"symbol","kind":"currency","decimals","backing"}
 *                 {"symbol","kind":"loyalty","decimals",
 *                  "value":{"asset","num","den"}}
 *   token.reserve {"symbol","amount","evidence","as_of"?}
 *   token.issue   {"symbol","account","amount","ref"}   (token_move.c)
 *   token.redeem  {"symbol","account","amount","ref"}
 *   token.withdraw {"symbol","account","amount","ref"}
 *
 * The issuer is the signer's enterprise (its organisation, or its key
 * where the chain's members do not know it: ledger_book's owner), as for
 * ledger accounts. Defining writes the definition first and then opens
 * the token's own accounts through the ledger (ledger_account_open reads
 * the book, so it sees the new token as an asset); all of it is one book,
 * committed together or not at all. Who may define tokens at all is the
 * chain's policy (a genesis "submit" rule such as "token.*": ["bank",
 * "platform"]), enforced before the module runs.
 *
 * A reserve attestation is a statement of fact by the issuer about money
 * it holds off chain, kept with its evidence (the SHA-256 of the bank
 * statement or audit report, whose document stays off chain) and never
 * refused for being lower than what is outstanding: auditors then see the
 * token uncovered (the backing query), and no further issue is possible
 * until the reserve is attested again.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/hex.h"
#include "modules/token/token.h"

static const char *const token_actions[] = {"define", "reserve", "issue", "redeem", "withdraw",
                                            NULL};
static const char *const token_queries[] = {"def", "tokens", "backing", "history", NULL};
static const char *const token_kinds[] = {TOKEN_CURRENCY, TOKEN_LOYALTY, NULL};

void token_key_def(char *key, const char *symbol) {
  snprintf(key, LEDGER_KEY_MAX, "token/def/%s", symbol);
}

void token_key_backing(char *key, const char *symbol) {
  snprintf(key, LEDGER_KEY_MAX, "token/backing/%s", symbol);
}

void token_account_id(char *id, const char *symbol, const char *which) {
  snprintf(id, LEDGER_ID_MAX + 1, "token:%s:%s", symbol, which);
}

int token_symbol_valid(const char *s) {
  return ledger_asset_code_valid(s) && strlen(s) <= TOKEN_SYMBOL_MAX && !ledger_currency_code(s);
}

int token_reject_from_ledger(hanse_reject *rej) {
  /* "token." is shorter than "ledger.": the reason always fits */
  if (strncmp(rej->code, "ledger.", 7) == 0) {
    memmove(rej->code + 6, rej->code + 7, strlen(rej->code + 7) + 1);
    memcpy(rej->code, "token.", 6);
  }
  return HANSE_ERR(INVALID);
}

/* ---- check ---- */

static int amount_valid(json_t *j, json_int_t min) {
  return json_is_integer(j) && json_integer_value(j) >= min;
}

static int ratio_valid(json_t *j) {
  return json_is_integer(j) && json_integer_value(j) >= 1 &&
         json_integer_value(j) <= TOKEN_RATIO_MAX;
}

static int hex_lower(const char *s, size_t n) {
  if (s == NULL || strlen(s) != n) return 0;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
  return 1;
}

/* A date or date-time as the statement gives it: ISO 8601's characters. */
static int as_of_valid(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n < 4 || n > TOKEN_AS_OF_MAX) return 0;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || strchr("-:.+TZ", s[i]))) return 0;
  return 1;
}

static int check_define(json_t *p, hanse_reject *rej) {
  static const char *const fields[] = {"symbol", "kind", "decimals", "backing", "value", NULL};
  static const char *const value_fields[] = {"asset", "num", "den", NULL};
  if (ledger_only_members(p, fields, TOKEN_MODULE, "token.define", rej) != HANSE_OK)
    return HANSE_ERR(INVALID);
  const char *symbol = json_string_value(json_object_get(p, "symbol"));
  const char *kind = json_string_value(json_object_get(p, "kind"));
  if (!ledger_word_in(kind, token_kinds))
    return hanse_reject_code(rej, "token.bad_kind", 400, "\"kind\" must be currency or loyalty");
  json_t *d = json_object_get(p, "decimals");
  if (!json_is_integer(d) || json_integer_value(d) < 0 ||
      json_integer_value(d) > HANSE_ASSET_DECIMALS_MAX)
    return hanse_reject_code(rej, "token.bad_decimals", 400, "\"decimals\" must be 0-%d",
                             HANSE_ASSET_DECIMALS_MAX);
  json_t *backing = json_object_get(p, "backing"), *value = json_object_get(p, "value");
  if (strcmp(kind, TOKEN_CURRENCY) == 0) {
    if (value || !ledger_currency_code(json_string_value(backing)))
      return hanse_reject_code(rej, "token.bad_backing", 400,
                               "a currency token names its \"backing\", a currency code such "
                               "as \"EUR\", and no \"value\"");
    return HANSE_OK;
  }
  if (backing || !json_is_object(value))
    return hanse_reject_code(rej, "token.bad_value", 400,
                             "a loyalty token names its \"value\":{\"asset\",\"num\",\"den\"} "
                             "and no \"backing\"");
  if (ledger_only_members(value, value_fields, TOKEN_MODULE, "token.define value", rej) !=
      HANSE_OK)
    return HANSE_ERR(INVALID);
  const char *asset = json_string_value(json_object_get(value, "asset"));
  if (!ledger_asset_code_valid(asset) || strcmp(asset, symbol) == 0 ||
      !ratio_valid(json_object_get(value, "num")) || !ratio_valid(json_object_get(value, "den")))
    return hanse_reject_code(rej, "token.bad_value", 400,
                             "\"value\": an asset code other than the token's, and num and den "
                             "integers from 1 to %d",
                             TOKEN_RATIO_MAX);
  return HANSE_OK;
}

static int token_check(const hanse_tx *tx, const char *action, json_t *p, hanse_reject *rej) {
  (void)tx;
  if (!token_symbol_valid(json_string_value(json_object_get(p, "symbol"))))
    return hanse_reject_code(rej, "token.bad_symbol", 400,
                             "\"symbol\" must be 1-%d of [A-Za-z0-9._-] and not a currency "
                             "code",
                             TOKEN_SYMBOL_MAX);
  if (strcmp(action, "define") == 0) return check_define(p, rej);
  if (strcmp(action, "reserve") == 0) {
    static const char *const fields[] = {"symbol", "amount", "evidence", "as_of", NULL};
    if (ledger_only_members(p, fields, TOKEN_MODULE, "token.reserve", rej) != HANSE_OK)
      return HANSE_ERR(INVALID);
    if (!amount_valid(json_object_get(p, "amount"), 0))
      return hanse_reject_code(rej, "token.bad_amount", 400,
                               "\"amount\" must be an integer from 0 to 2^63-1");
    if (!hex_lower(json_string_value(json_object_get(p, "evidence")), TOKEN_EVIDENCE_HEX))
      return hanse_reject_code(rej, "token.bad_evidence", 400,
                               "\"evidence\" must be the SHA-256 (64 lowercase hex) of the "
                               "statement or report");
    json_t *as_of = json_object_get(p, "as_of");
    if (as_of && !as_of_valid(json_string_value(as_of)))
      return hanse_reject_code(rej, "token.bad_as_of", 400,
                               "\"as_of\" must be an ISO 8601 date or date-time of at most %d "
                               "bytes",
                               TOKEN_AS_OF_MAX);
    return HANSE_OK;
  }
  /* issue, redeem, withdraw */
  static const char *const fields[] = {"symbol", "account", "amount", "ref", NULL};
  char where[32];
  snprintf(where, sizeof where, "token.%s", action);
  if (ledger_only_members(p, fields, TOKEN_MODULE, where, rej) != HANSE_OK)
    return HANSE_ERR(INVALID);
  if (!ledger_id_valid(json_string_value(json_object_get(p, "account"))))
    return hanse_reject_code(rej, "token.bad_account", 400, "\"account\" must be an account id");
  if (!amount_valid(json_object_get(p, "amount"), 1))
    return hanse_reject_code(rej, "token.bad_amount", 400,
                             "\"amount\" must be an integer from 1 to 2^63-1");
  if (!ledger_id_valid(json_string_value(json_object_get(p, "ref"))))
    return hanse_reject_code(rej, "token.bad_ref", 400,
                             "\"ref\" must be 1-%d of [A-Za-z0-9._:-]", LEDGER_ID_MAX);
  return HANSE_OK;
}

/* ---- shared ---- */

int token_def_load(ledger_book *b, const char *symbol, json_t **def, hanse_reject *rej) {
  char key[LEDGER_KEY_MAX];
  token_key_def(key, symbol);
  int rc = ledger_get(b, key, def);
  if (rc == HANSE_OK && *def == NULL)
    rc = hanse_reject_code(rej, "token.unknown", 404, "no token '%s'", symbol);
  return rc;
}

int token_circulation(ledger_book *b, json_t *def, uint64_t *issued, uint64_t *back) {
  ledger_acct *acct = NULL;
  int rc = ledger_acct_load(
      b, json_string_value(json_object_get(def, "issuance_account")), &acct);
  if (rc == HANSE_OK && acct == NULL) rc = HANSE_ERR(INTERNAL); /* opened with the def */
  if (rc != HANSE_OK) return rc;
  *issued = acct->sums.v[LEDGER_DPO];
  *back = acct->sums.v[LEDGER_CPO];
  return HANSE_OK;
}

/* ---- define ---- */

static int token_define(ledger_book *b, json_t *p, hanse_reject *rej) {
  const char *symbol = json_string_value(json_object_get(p, "symbol"));
  const char *kind = json_string_value(json_object_get(p, "kind"));
  char key[LEDGER_KEY_MAX], issued[LEDGER_ID_MAX + 1], discounts[LEDGER_ID_MAX + 1];
  json_t *have = NULL;
  static const char *const taken[] = {"token/def/", "asset/def/"};
  for (size_t i = 0; i < 2; i++) {
    snprintf(key, sizeof key, "%s%s", taken[i], symbol);
    int rc = ledger_get(b, key, &have);
    json_decref(have);
    if (rc != HANSE_OK) return rc;
    if (have)
      return hanse_reject_code(rej, "token.exists", 409, "'%s' is already %s", symbol,
                               i == 0 ? "a token" : "an asset");
  }
  token_account_id(issued, symbol, "issued");
  json_t *def = json_pack("{s:s, s:s, s:s, s:O, s:s, s:I}", "symbol", symbol, "kind", kind,
                          "issuer", b->owner, "decimals", json_object_get(p, "decimals"),
                          "issuance_account", issued, "height", (json_int_t)b->ex->height);
  if (def == NULL) return HANSE_ERR(NOMEM);
  int loyalty = strcmp(kind, TOKEN_LOYALTY) == 0;
  json_t *value = json_object_get(p, "value");
  if (loyalty) {
    token_account_id(discounts, symbol, "discounts");
    json_object_set(def, "value", value);
    json_object_set_new(def, "discount_account", json_string(discounts));
  } else {
    json_object_set(def, "backing", json_object_get(p, "backing"));
  }
  token_key_def(key, symbol);
  int rc = ledger_put(b, key, def);
  if (rc != HANSE_OK) return rc;
  snprintf(key, sizeof key, "token/issuer/%s/%s", b->owner, symbol);
  rc = ledger_put(b, key, json_string(symbol));
  if (rc != HANSE_OK) return rc;
  rc = ledger_account_open(b, issued, b->owner, symbol, "liability", NULL, TOKEN_MODULE, rej);
  if (rc == HANSE_OK && loyalty)
    rc = ledger_account_open(b, discounts, b->owner,
                             json_string_value(json_object_get(value, "asset")), "asset",
                             "debits_must_not_exceed_credits", TOKEN_MODULE, rej);
  if (rc == HANSE_ERR(INVALID) && !b->ex->env_error) return token_reject_from_ledger(rej);
  return rc;
}

/* ---- reserve ---- */

static int token_reserve(ledger_book *b, json_t *p, hanse_reject *rej) {
  const char *symbol = json_string_value(json_object_get(p, "symbol"));
  json_t *def = NULL, *last = NULL;
  int rc = token_def_load(b, symbol, &def, rej);
  if (rc != HANSE_OK) return rc;
  const char *issuer = json_string_value(json_object_get(def, "issuer"));
  if (strcmp(issuer, b->owner) != 0)
    rc = hanse_reject_code(rej, "token.not_issuer", 403, "'%s' is issued by '%s', not by '%s'",
                           symbol, issuer, b->owner);
  else if (strcmp(json_string_value(json_object_get(def, "kind")), TOKEN_CURRENCY) != 0)
    rc = hanse_reject_code(rej, "token.not_currency", 409,
                           "'%s' is a loyalty token: it has no reserve", symbol);
  json_decref(def);
  if (rc != HANSE_OK) return rc;
  char key[LEDGER_KEY_MAX], txhex[HANSE_HASH_HEX_BYTES], by[HANSE_HASH_HEX_BYTES];
  token_key_backing(key, symbol);
  if ((rc = ledger_get(b, key, &last)) != HANSE_OK) return rc;
  json_int_t seq = json_integer_value(json_object_get(last, "seq")) + 1;
  json_decref(last);
  hanse_exec *ex = b->ex;
  hanse_hex_encode(txhex, ex->tx->id.b, HANSE_HASH_BYTES);
  json_t *rec = json_pack("{s:s, s:I, s:O, s:s, s:s, s:I, s:I}", "symbol", symbol, "seq", seq,
                          "evidence", json_object_get(p, "evidence"), "by",
                          hanse_pubkey_hex(by, &ex->tx->signer), "tx", txhex, "height",
                          (json_int_t)ex->height, "time", (json_int_t)ex->time_ms);
  if (rec == NULL) return HANSE_ERR(NOMEM);
  json_t *as_of = json_object_get(p, "as_of");
  if (as_of) json_object_set(rec, "as_of", as_of);
  rc = ledger_u64_set(rec, "reserve", (uint64_t)json_integer_value(json_object_get(p, "amount")));
  if (rc == HANSE_OK) rc = ledger_put(b, key, json_incref(rec));
  snprintf(key, sizeof key, "token/reserve/%s/%0*" PRId64, symbol, TOKEN_SEQ_DIGITS, (int64_t)seq);
  if (rc == HANSE_OK) return ledger_put(b, key, rec);
  json_decref(rec);
  return rc;
}

/* ---- dispatch ---- */

static int token_run(ledger_book *b, const hanse_tx *tx, const char *action, json_t *p,
                     int commit, hanse_reject *rej) {
  (void)tx;
  (void)commit; /* an inactive key: token.key_inactive, by the book runner */
  if (strcmp(action, "define") == 0) return token_define(b, p, rej);
  if (strcmp(action, "reserve") == 0) return token_reserve(b, p, rej);
  if (strcmp(action, "issue") == 0) return token_issue(b, p, rej);
  if (strcmp(action, "redeem") == 0) return token_redeem(b, p, rej);
  return token_withdraw(b, p, rej);
}

LEDGER_BOOK_STEPS(token, "token", token_run)

const hanse_module hanse_module_token = {
    .name = "token",
    .actions = token_actions,
    .queries = token_queries,
    .check = token_check,
    .verify = token_verify,
    .apply = token_apply,
    .query = token_query,
    .data_class = "financial",
};
