/*
 * token/token_query.c -- reading tokens for the API and for auditors.
 *
 *   def     {symbol}                   the definition (token/def/<symbol>)
 *   tokens  {issuer?, after?, limit?}  {"tokens":[def...],"next"?} in
 *                                       symbol order, all or one issuer's
 *   backing {symbol, before?, limit?}  what is out against what backs it:
 *       {"symbol","kind","issuer","issued","redeemed","outstanding",
 *        currency: "backing","reserve","covered","attestations":[...],
 *                  "next"?       attestations latest first; "next" is
 *                                the "before" (a seq) that continues
 *        loyalty:  "value","discount_account","discount_funds"}
 *       issued: the issuance account's posted debits; redeemed: its posted
 *       credits (tokens come back by redeem, or spent back to the
 *       issuer); outstanding: their difference; covered: reserve >=
 *       outstanding; discount_funds: what the discount account can still
 *       pay (credits posted less debits posted and pending). Amounts are
 *       decimal strings.
 *   history {symbol, after?, limit?}   {"symbol","history":[row...],"next"?}
 *       issues, redeems and withdrawals, oldest first
 *
 * Parameters are strings (they come from a URL). Rejections:
 * token.bad_* (400), token.unknown (404).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/token/token.h"

static int param_symbol(json_t *params, const char **symbol, hanse_reject *rej) {
  *symbol = json_string_value(json_object_get(params, "symbol"));
  if (token_symbol_valid(*symbol)) return HANSE_OK;
  return hanse_reject_code(rej, "token.bad_symbol", 400, "\"symbol\" must be a token symbol");
}

static int def_get(hanse_view *v, const char *symbol, json_t **def, hanse_reject *rej) {
  char key[LEDGER_KEY_MAX];
  token_key_def(key, symbol);
  int rc = hanse_view_get_json(v, key, def);
  if (rc != HANSE_OK) return hanse_reject_set(rej, rc, NULL);
  if (*def == NULL) return hanse_reject_code(rej, "token.unknown", 404, "no token '%s'", symbol);
  return HANSE_OK;
}

/* An account's record; a token's own account is opened with its def, so
 * a missing one is a broken state. */
static int account_get(hanse_view *v, json_t *def, const char *field, json_t **acct,
                       hanse_reject *rej) {
  int rc = ledger_account_view(v, json_string_value(json_object_get(def, field)), acct);
  if (rc == HANSE_OK && *acct == NULL) rc = HANSE_ERR(INTERNAL);
  return rc == HANSE_OK ? HANSE_OK : hanse_reject_set(rej, rc, NULL);
}

static int set_amount(json_t *o, const char *field, uint64_t v, hanse_reject *rej) {
  return ledger_u64_set(o, field, v) == HANSE_OK ? HANSE_OK
                                                 : hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
}

/* The attestations latest first, from seq `from` down, at most `limit`. */
static int attestations(hanse_view *v, const char *symbol, int64_t from, json_t *params,
                        json_t *out, hanse_reject *rej) {
  int limit = hanse_view_limit(params);
  json_t *arr = json_array();
  if (arr == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  int64_t seq = from;
  for (; seq >= 1 && json_array_size(arr) < (size_t)limit; seq--) {
    char key[LEDGER_KEY_MAX];
    json_t *rec = NULL;
    snprintf(key, sizeof key, "token/reserve/%s/%0*" PRId64, symbol, TOKEN_SEQ_DIGITS, seq);
    int rc = hanse_view_get_json(v, key, &rec);
    if (rc == HANSE_OK && rec == NULL) rc = HANSE_ERR(INTERNAL); /* seqs have no gaps */
    if (rc != HANSE_OK) {
      json_decref(arr);
      return hanse_reject_set(rej, rc, NULL);
    }
    json_array_append_new(arr, rec);
  }
  if (seq >= 1) {
    char next[24];
    snprintf(next, sizeof next, "%" PRId64, seq + 1);
    json_object_set_new(out, "next", json_string(next));
  }
  json_object_set_new(out, "attestations", arr);
  return HANSE_OK;
}

static int currency_backing(hanse_view *v, const char *symbol, json_t *def, uint64_t out_amt,
                            json_t *params, json_t *out, hanse_reject *rej) {
  char key[LEDGER_KEY_MAX];
  json_t *last = NULL;
  uint64_t reserve = 0;
  token_key_backing(key, symbol);
  int rc = hanse_view_get_json(v, key, &last);
  if (rc == HANSE_OK && last) rc = ledger_u64_get(last, "reserve", &reserve);
  int64_t seq = json_integer_value(json_object_get(last, "seq"));
  json_decref(last);
  if (rc != HANSE_OK) return hanse_reject_set(rej, rc, NULL);
  const char *before = json_string_value(json_object_get(params, "before"));
  if (before) {
    uint64_t b;
    if (!ledger_u64_parse(before, &b) || b < 1)
      return hanse_reject_code(rej, "token.bad_before", 400,
                               "\"before\" must be an attestation's seq");
    if ((int64_t)b - 1 < seq) seq = (int64_t)b - 1;
  }
  json_object_set(out, "backing", json_object_get(def, "backing"));
  json_object_set_new(out, "covered", json_boolean(reserve >= out_amt));
  rc = set_amount(out, "reserve", reserve, rej);
  if (rc != HANSE_OK) return rc;
  return attestations(v, symbol, seq, params, out, rej);
}

static int loyalty_backing(hanse_view *v, json_t *def, json_t *out, hanse_reject *rej) {
  json_t *acct = NULL;
  uint64_t cpo = 0, dpo = 0, dp = 0;
  int rc = account_get(v, def, "discount_account", &acct, rej);
  if (rc != HANSE_OK) return rc;
  rc = ledger_u64_get(acct, LEDGER_CREDITS_POSTED, &cpo);
  if (rc == HANSE_OK) rc = ledger_u64_get(acct, LEDGER_DEBITS_POSTED, &dpo);
  if (rc == HANSE_OK) rc = ledger_u64_get(acct, LEDGER_DEBITS_PENDING, &dp);
  json_decref(acct);
  if (rc != HANSE_OK) return hanse_reject_set(rej, rc, NULL);
  json_object_set(out, "value", json_object_get(def, "value"));
  json_object_set(out, "discount_account", json_object_get(def, "discount_account"));
  /* the account's rule keeps dpo + dp <= cpo */
  return set_amount(out, "discount_funds", cpo >= dpo + dp ? cpo - dpo - dp : 0, rej);
}

static int backing(hanse_view *v, const char *symbol, json_t *params, json_t **result,
                   hanse_reject *rej) {
  json_t *def = NULL, *acct = NULL;
  int rc = def_get(v, symbol, &def, rej);
  if (rc != HANSE_OK) return rc;
  uint64_t issued = 0, back = 0;
  rc = account_get(v, def, "issuance_account", &acct, rej);
  if (rc == HANSE_OK &&
      (ledger_u64_get(acct, LEDGER_DEBITS_POSTED, &issued) != HANSE_OK ||
       ledger_u64_get(acct, LEDGER_CREDITS_POSTED, &back) != HANSE_OK))
    rc = hanse_reject_set(rej, HANSE_ERR(INTERNAL), NULL);
  json_decref(acct);
  uint64_t outstanding = issued > back ? issued - back : 0;
  json_t *out = json_pack("{s:s, s:O, s:O}", "symbol", symbol, "kind",
                          json_object_get(def, "kind"), "issuer", json_object_get(def, "issuer"));
  if (rc == HANSE_OK && out == NULL) rc = hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  if (rc == HANSE_OK) rc = set_amount(out, "issued", issued, rej);
  if (rc == HANSE_OK) rc = set_amount(out, "redeemed", back, rej);
  if (rc == HANSE_OK) rc = set_amount(out, "outstanding", outstanding, rej);
  if (rc == HANSE_OK) {
    if (strcmp(json_string_value(json_object_get(def, "kind")), TOKEN_CURRENCY) == 0)
      rc = currency_backing(v, symbol, def, outstanding, params, out, rej);
    else
      rc = loyalty_backing(v, def, out, rej);
  }
  json_decref(def);
  if (rc != HANSE_OK) {
    json_decref(out);
    return rc;
  }
  *result = out;
  return HANSE_OK;
}

int token_query(hanse_view *v, const char *name, json_t *params, json_t **result,
                hanse_reject *rej) {
  const char *symbol;
  char prefix[LEDGER_KEY_MAX];
  *result = NULL;
  if (strcmp(name, "tokens") == 0) {
    const char *issuer = json_string_value(json_object_get(params, "issuer"));
    if (issuer && !ledger_owner_valid(issuer))
      return hanse_reject_code(rej, "token.bad_issuer", 400,
                               "\"issuer\" must be an organisation id or a key's lowercase hex");
    if (issuer) snprintf(prefix, sizeof prefix, "token/issuer/%s/", issuer);
    json_t *out = json_object();
    if (out == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
    int rc = ledger_list(v, issuer ? prefix : "token/def/", params, issuer != NULL, "token/def/",
                         "tokens", out, rej);
    if (rc != HANSE_OK) {
      json_decref(out);
      return rc;
    }
    *result = out;
    return HANSE_OK;
  }
  if (param_symbol(params, &symbol, rej) != HANSE_OK) return HANSE_ERR(INVALID);
  if (strcmp(name, "def") == 0) return def_get(v, symbol, result, rej);
  if (strcmp(name, "backing") == 0) return backing(v, symbol, params, result, rej);
  /* history */
  json_t *def = NULL;
  int rc = def_get(v, symbol, &def, rej);
  json_decref(def);
  if (rc != HANSE_OK) return rc;
  snprintf(prefix, sizeof prefix, "token/hist/%s/", symbol);
  json_t *out = json_pack("{s:s}", "symbol", symbol);
  if (out == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  rc = ledger_list(v, prefix, params, 0, NULL, "history", out, rej);
  if (rc != HANSE_OK) {
    json_decref(out);
    return rc;
  }
  *result = out;
  return HANSE_OK;
}
