/*
 * fx/fx.c -- cross-currency payments through a market maker's signed
 * quote (issue 6, point 5).
 *
 *   fx.pay {"id","quote":{...signed quote...},"debit","credit","amount"}
 *
 * A bank or market maker quotes off chain: it will sell `sell` for `buy`
 * at rate num/den (units of sell per unit of buy), between valid_from
 * and valid_until (block time, ms), for at most `max` of buy in all, and
 * signs the quote (encoding/fx_quote.h). A payer who holds the quote pays
 * `amount` of buy from its account `debit`; the payee's account `credit`
 * receives out = floor(amount * num / den) of sell. The money moves
 * through the maker's two accounts, as two ledger transfers on one book:
 *
 *   leg 1  debit (payer, buy)        -> buy_account (maker, buy)   amount
 *   leg 2  sell_account (maker, sell) -> credit (payee, sell)      out
 *
 * Leg 1 needs the signer's enterprise to own `debit`; leg 2 is vouched
 * for by the maker's signature over the quote (the module checks that
 * both of the quote's accounts belong to the maker). Both transfers are
 * controlled by "fx" (ledger.h: the ledger does not book them). All or
 * nothing: the action is one book, and any rejection -- a leg's own
 * ledger code among them, e.g. ledger.exceeds_credits when the maker's
 * sell_account lacks the money -- discards all of it.
 *
 * Books: the payer books a payment (payer side) in buy, the payee a
 * payment (payee side) in sell, each with the other as counterparty;
 * the maker books a conversion: the buy it received (payee side) and the
 * sell it paid (payer side), one entry per currency through
 * equity:conversion, so each entry balances in its own asset.
 *
 * The quote is accepted when its signature holds (check: fx.bad_signature),
 * its key is an active key of the maker's organisation at the block
 * (fx.bad_maker_key), the block time is in [valid_from, valid_until)
 * (fx.quote_not_yet, fx.quote_expired), and its cumulative use stays
 * within max (fx.quote_exhausted). A quote id names one quote: another
 * quote with the same id is fx.quote_conflict. No floating point: the
 * product is taken in 128 bits; out must be from 1 (fx.too_small) to
 * 2^63-1 (fx.overflow).
 *
 * Idempotency: the payment's id is its identity. The same payload again
 * is accepted and changes nothing ("fx.exists" in spirit: the receipt is
 * "ok"); another payload with the same id is fx.id_conflict.
 *
 * State:
 *   fx/pay/<id>         {"id","request","payer","payee","maker","quote",
 *                        "rate":{"num","den"},"paid":{"asset","amount"},
 *                        "received":{"asset","amount"},"legs":[id,id],
 *                        "tx","height","time"}  amounts decimal strings
 *   fx/used/<quote id>  {"quote","maker","digest","used","max",
 *                        "valid_until"}  digest: SHA-256 hex of the
 *                        quote's signed bytes
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/hex.h"
#include "base/log.h"
#include "encoding/fx_quote.h"
#include "modules/books/books.h"
#include "modules/fx/fx.h"

static const char *const fx_actions[] = {"pay", NULL};
static const char *const fx_queries[] = {"payment", "quote_use", NULL};

int hanse_fx_pay_id_valid(const char *s) { return ledger_id_valid(s) && strlen(s) <= HANSE_FX_ID_MAX; }

static int int_at_least(json_t *j, json_int_t min) {
  return json_is_integer(j) && json_integer_value(j) >= min;
}

static int quote_check(json_t *q, hanse_reject *rej) {
  static const char *const fields[] = {"id",         "maker",       "key",         "sell",
                                       "buy",        "rate",        "valid_from",  "valid_until",
                                       "max",        "buy_account", "sell_account", "sig",
                                       NULL};
  if (!json_is_object(q))
    return hanse_reject_code(rej, "fx.bad_quote", 400, "\"quote\" must be an object");
  if (ledger_only_members(q, fields, "fx", "quote", rej) != HANSE_OK)
    return HANSE_ERR(INVALID);
  const char *maker = json_string_value(json_object_get(q, "maker"));
  const char *sell = json_string_value(json_object_get(q, "sell"));
  const char *buy = json_string_value(json_object_get(q, "buy"));
  const char *ba = json_string_value(json_object_get(q, "buy_account"));
  const char *sa = json_string_value(json_object_get(q, "sell_account"));
  json_t *rate = json_object_get(q, "rate");
  static const char *const rate_fields[] = {"num", "den", NULL};
  if (!ledger_id_valid(json_string_value(json_object_get(q, "id"))))
    return hanse_reject_code(rej, "fx.bad_quote", 400, "quote.id must be 1-%d of [A-Za-z0-9._:-]",
                             LEDGER_ID_MAX);
  if (maker == NULL || !hanse_chain_id_valid(maker, strlen(maker)))
    return hanse_reject_code(rej, "fx.bad_quote", 400, "quote.maker must be an organisation id");
  if (!ledger_asset_code_valid(sell) || !ledger_asset_code_valid(buy) || strcmp(sell, buy) == 0)
    return hanse_reject_code(rej, "fx.bad_quote", 400,
                             "quote.sell and quote.buy must be two different asset codes");
  if (!json_is_object(rate) ||
      ledger_only_members(rate, rate_fields, "fx", "quote.rate", rej) != HANSE_OK ||
      !int_at_least(json_object_get(rate, "num"), 1) ||
      !int_at_least(json_object_get(rate, "den"), 1))
    return hanse_reject_code(rej, "fx.bad_quote", 400,
                             "quote.rate must be {\"num\",\"den\"}, integers from 1 to 2^63-1");
  json_t *from = json_object_get(q, "valid_from"), *until = json_object_get(q, "valid_until");
  if (!int_at_least(from, 0) || !int_at_least(until, 0) ||
      json_integer_value(from) >= json_integer_value(until))
    return hanse_reject_code(rej, "fx.bad_quote", 400,
                             "quote.valid_from and .valid_until must be times in ms, from < until");
  if (!int_at_least(json_object_get(q, "max"), 1))
    return hanse_reject_code(rej, "fx.bad_quote", 400,
                             "quote.max must be an integer from 1 to 2^63-1");
  if (!ledger_id_valid(ba) || !ledger_id_valid(sa) || strcmp(ba, sa) == 0)
    return hanse_reject_code(rej, "fx.bad_quote", 400,
                             "quote.buy_account and .sell_account must be two account ids");
  if (!hanse_fx_quote_verify(q))
    return hanse_reject_code(rej, "fx.bad_signature", 400,
                             "the quote's sig is not its key's signature over it");
  return HANSE_OK;
}

static int fx_check(const hanse_tx *tx, const char *action, json_t *p, hanse_reject *rej) {
  (void)tx;
  (void)action; /* "pay", the only one */
  static const char *const fields[] = {"id", "quote", "debit", "credit", "amount", NULL};
  if (ledger_only_members(p, fields, "fx", "fx.pay", rej) != HANSE_OK)
    return HANSE_ERR(INVALID);
  if (!hanse_fx_pay_id_valid(json_string_value(json_object_get(p, "id"))))
    return hanse_reject_code(rej, "fx.bad_id", 400, "\"id\" must be 1-%d of [A-Za-z0-9._:-]",
                             HANSE_FX_ID_MAX);
  const char *debit = json_string_value(json_object_get(p, "debit"));
  const char *credit = json_string_value(json_object_get(p, "credit"));
  if (!ledger_id_valid(debit) || !ledger_id_valid(credit))
    return hanse_reject_code(rej, "fx.bad_account", 400, "\"debit\" and \"credit\" must be account ids");
  if (!int_at_least(json_object_get(p, "amount"), 1))
    return hanse_reject_code(rej, "fx.bad_amount", 400,
                             "\"amount\" must be an integer from 1 to 2^63-1");
  return quote_check(json_object_get(p, "quote"), rej);
}

int hanse_fx_convert(uint64_t amount, uint64_t num, uint64_t den, uint64_t *out) {
  HANSE_ASSERT(den >= 1);
  unsigned __int128 x = (unsigned __int128)amount * num / den;
  if (x > LEDGER_AMOUNT_MAX) return 1;
  *out = (uint64_t)x;
  return 0;
}

/* ---- pay ---- */

/* One of the four accounts: present, of `asset`, and when `owner` is not
 * NULL belonging to it. *out borrowed from the book. */
static int account_of(ledger_book *b, const char *id, const char *asset, const char *owner,
                      const char *what, ledger_acct **out, hanse_reject *rej) {
  int rc = ledger_acct_load(b, id, out);
  if (rc != HANSE_OK) return rc;
  if (*out == NULL) return hanse_reject_code(rej, "fx.no_account", 404, "no %s '%s'", what, id);
  if (strcmp((*out)->asset, asset) != 0)
    return hanse_reject_code(rej, "fx.asset_mismatch", 409, "%s '%s' holds %s, the quote says %s",
                             what, id, (*out)->asset, asset);
  if (owner && strcmp((*out)->owner, owner) != 0)
    return hanse_reject_code(rej, "fx.not_maker_account", 403,
                             "%s '%s' belongs to '%s', not to the maker '%s'", what, id,
                             (*out)->owner, owner);
  return HANSE_OK;
}

/* The quote's key must be an active key of the maker's organisation now. */
static int maker_key_check(ledger_book *b, json_t *q, hanse_reject *rej) {
  hanse_pubkey pk;
  const char *status;
  char org[HANSE_MEMBER_ORG_MAX + 1];
  const char *maker = json_string_value(json_object_get(q, "maker"));
  if (hanse_pubkey_parse(&pk, json_string_value(json_object_get(q, "key"))) != HANSE_OK)
    return hanse_reject_code(rej, "fx.bad_quote", 400, "quote.key is not a public key");
  int rc = hanse_member_key_org(b->ex, &pk, &status, org);
  if (rc != HANSE_OK) {
    b->ex->env_error = 1;
    return rc;
  }
  if (strcmp(status, HANSE_MEMBER_ACTIVE) != 0 || strcmp(org, maker) != 0)
    return hanse_reject_code(rej, "fx.bad_maker_key", 403,
                             "the quote's key is %s%s%s, not an active key of '%s'", status,
                             org[0] ? " in " : "", org, maker);
  return HANSE_OK;
}

/* fx/used/<quote id>: this quote's use so far, plus amount, within max.
 * *rec_out: the new record to write (new reference). */
static int quote_use(ledger_book *b, json_t *q, uint64_t amount, json_t **rec_out,
                     hanse_reject *rej) {
  const char *qid = json_string_value(json_object_get(q, "id"));
  char key[LEDGER_KEY_MAX], digest_hex[HANSE_HASH_HEX_BYTES];
  hanse_buf msg;
  hanse_hash digest;
  *rec_out = NULL;
  hanse_buf_init(&msg);
  int rc = hanse_fx_quote_message(q, &msg);
  if (rc == HANSE_OK) hanse_sha256(&digest, msg.data, msg.len);
  hanse_buf_free(&msg);
  if (rc != HANSE_OK) {
    b->ex->env_error = 1;
    return rc;
  }
  hanse_hash_hex(digest_hex, &digest);
  snprintf(key, sizeof key, "fx/used/%s", qid);
  json_t *old = NULL;
  if ((rc = ledger_get(b, key, &old)) != HANSE_OK) return rc;
  uint64_t used = 0, max = (uint64_t)json_integer_value(json_object_get(q, "max"));
  if (old) {
    const char *d = json_string_value(json_object_get(old, "digest"));
    if (d == NULL || strcmp(d, digest_hex) != 0) rc = hanse_reject_code(
        rej, "fx.quote_conflict", 409, "quote id '%s' names another quote", qid);
    else rc = ledger_u64_get(old, "used", &used);
    json_decref(old);
    if (rc != HANSE_OK) return rc;
  }
  if (used > max || amount > max - used)
    return hanse_reject_code(rej, "fx.quote_exhausted", 409,
                             "quote '%s': %" PRIu64 " of %" PRIu64 " used, %" PRIu64 " more asked",
                             qid, used, max, amount);
  json_t *rec = json_pack("{s:s, s:O, s:s, s:O}", "quote", qid, "maker",
                          json_object_get(q, "maker"), "digest", digest_hex, "valid_until",
                          json_object_get(q, "valid_until"));
  if (rec == NULL || ledger_u64_set(rec, "used", used + amount) != HANSE_OK ||
      ledger_u64_set(rec, "max", max) != HANSE_OK) {
    json_decref(rec);
    b->ex->env_error = 1;
    return HANSE_ERR(NOMEM);
  }
  *rec_out = rec;
  return HANSE_OK;
}

/* One transfer controlled by "fx" (ledger_transfer_controlled). */
static int leg(ledger_book *b, const char *tid, const char *debit, const char *credit,
               uint64_t amount, const char *ref, size_t place, int signer_owns,
               hanse_reject *rej) {
  return ledger_transfer_controlled(b, tid, debit, credit, amount, ref, place, signer_owns,
                                    "fx", rej);
}

static int book_three(ledger_book *b, const char *payer, const char *payee, const char *maker,
                      const char *buy, uint64_t amount, const char *sell, uint64_t out,
                      const char *ref) {
  int rc = books_post_side(b, payer, BOOKS_PAYER, BOOKS_PAYMENT, payee, buy, amount, ref, NULL);
  if (rc == HANSE_OK)
    rc = books_post_side(b, payee, BOOKS_PAYEE, BOOKS_PAYMENT, payer, sell, out, ref, NULL);
  if (rc == HANSE_OK)
    rc = books_post_side(b, maker, BOOKS_PAYEE, BOOKS_CONVERSION, payer, buy, amount, ref, NULL);
  if (rc == HANSE_OK)
    rc = books_post_side(b, maker, BOOKS_PAYER, BOOKS_CONVERSION, payee, sell, out, ref, NULL);
  return rc;
}

static int pay(ledger_book *b, json_t *p, hanse_reject *rej) {
  const char *id = json_string_value(json_object_get(p, "id"));
  json_t *q = json_object_get(p, "quote");
  char key[LEDGER_KEY_MAX];
  json_t *old = NULL;
  snprintf(key, sizeof key, "fx/pay/%s", id);
  int rc = ledger_get(b, key, &old);
  if (rc != HANSE_OK) return rc;
  if (old) {
    int same = json_equal(json_object_get(old, "request"), p);
    json_decref(old);
    return same ? HANSE_OK /* the same payment again: nothing changes */
                : hanse_reject_code(rej, "fx.id_conflict", 409,
                                    "payment '%s' exists with other fields", id);
  }
  if ((rc = maker_key_check(b, q, rej)) != HANSE_OK) return rc;
  uint64_t now = b->ex->time_ms;
  if (now < (uint64_t)json_integer_value(json_object_get(q, "valid_from")))
    return hanse_reject_code(rej, "fx.quote_not_yet", 409, "the quote is valid from %" JSON_INTEGER_FORMAT,
                             json_integer_value(json_object_get(q, "valid_from")));
  if (now >= (uint64_t)json_integer_value(json_object_get(q, "valid_until")))
    return hanse_reject_code(rej, "fx.quote_expired", 409, "the quote was valid until %" JSON_INTEGER_FORMAT,
                             json_integer_value(json_object_get(q, "valid_until")));
  uint64_t amount = (uint64_t)json_integer_value(json_object_get(p, "amount"));
  json_t *rate = json_object_get(q, "rate");
  uint64_t num = (uint64_t)json_integer_value(json_object_get(rate, "num"));
  uint64_t den = (uint64_t)json_integer_value(json_object_get(rate, "den"));
  uint64_t out = 0;
  if (hanse_fx_convert(amount, num, den, &out))
    return hanse_reject_code(rej, "fx.overflow", 409, "%" PRIu64 " at %" PRIu64 "/%" PRIu64
                             " is more than 2^63-1", amount, num, den);
  if (out < 1)
    return hanse_reject_code(rej, "fx.too_small", 409,
                             "%" PRIu64 " at %" PRIu64 "/%" PRIu64 " converts to nothing", amount,
                             num, den);
  json_t *used = NULL;
  if ((rc = quote_use(b, q, amount, &used, rej)) != HANSE_OK) return rc;

  const char *maker = json_string_value(json_object_get(q, "maker"));
  const char *buy = json_string_value(json_object_get(q, "buy"));
  const char *sell = json_string_value(json_object_get(q, "sell"));
  const char *debit = json_string_value(json_object_get(p, "debit"));
  const char *credit = json_string_value(json_object_get(p, "credit"));
  const char *ba = json_string_value(json_object_get(q, "buy_account"));
  const char *sa = json_string_value(json_object_get(q, "sell_account"));
  ledger_acct *acct[4] = {NULL, NULL, NULL, NULL};
  json_t *rec = NULL;
  rc = account_of(b, debit, buy, NULL, "debit account", &acct[0], rej);
  if (rc == HANSE_OK) rc = account_of(b, credit, sell, NULL, "credit account", &acct[1], rej);
  if (rc == HANSE_OK) rc = account_of(b, ba, buy, maker, "buy_account", &acct[2], rej);
  if (rc == HANSE_OK) rc = account_of(b, sa, sell, maker, "sell_account", &acct[3], rej);
  char in_id[LEDGER_ID_MAX + 1], out_id[LEDGER_ID_MAX + 1];
  snprintf(in_id, sizeof in_id, "fx:%s:in", id);
  snprintf(out_id, sizeof out_id, "fx:%s:out", id);
  if (rc == HANSE_OK) rc = leg(b, in_id, debit, ba, amount, id, 0, 1, rej);
  if (rc == HANSE_OK) rc = leg(b, out_id, sa, credit, out, id, 1, 0, rej);
  const char *payee = acct[1] ? acct[1]->owner : NULL;
  if (rc == HANSE_OK) rc = book_three(b, b->owner, payee, maker, buy, amount, sell, out, id);
  if (rc == HANSE_OK) {
    char txhex[HANSE_HASH_HEX_BYTES];
    hanse_hex_encode(txhex, b->ex->tx->id.b, HANSE_HASH_BYTES);
    rec = json_pack("{s:s, s:O, s:s, s:s, s:s, s:O, s:O, s:{s:s}, s:{s:s}, s:[s,s], s:s, s:I, "
                    "s:I}",
                    "id", id, "request", p, "payer", b->owner, "payee", payee, "maker", maker,
                    "quote", json_object_get(q, "id"), "rate", rate, "paid", "asset", buy,
                    "received", "asset", sell, "legs", in_id, out_id, "tx", txhex, "height",
                    (json_int_t)b->ex->height, "time", (json_int_t)b->ex->time_ms);
    if (rec == NULL ||
        ledger_u64_set(json_object_get(rec, "paid"), "amount", amount) != HANSE_OK ||
        ledger_u64_set(json_object_get(rec, "received"), "amount", out) != HANSE_OK) {
      b->ex->env_error = 1;
      rc = HANSE_ERR(NOMEM);
    }
  }
  if (rc == HANSE_OK) {
    rc = ledger_put(b, key, rec);
    rec = NULL;
  }
  if (rc == HANSE_OK) {
    snprintf(key, sizeof key, "fx/used/%s", json_string_value(json_object_get(q, "id")));
    rc = ledger_put(b, key, used);
    used = NULL;
  }
  json_decref(rec);
  json_decref(used);
  return rc;
}

static int fx_run(ledger_book *b, const hanse_tx *tx, const char *action, json_t *p, int commit,
                  hanse_reject *rej) {
  (void)tx;
  (void)action;
  (void)commit; /* an inactive key: fx.key_inactive, by the book runner */
  return pay(b, p, rej);
}

LEDGER_BOOK_STEPS(fx, "fx", fx_run)

const hanse_module hanse_module_fx = {
    .name = "fx",
    .actions = fx_actions,
    .queries = fx_queries,
    .check = fx_check,
    .verify = fx_verify,
    .apply = fx_apply,
    .query = hanse_fx_query,
    .data_class = "financial",
};
