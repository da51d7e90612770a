/*
 * clearing/clearing.c -- payments between customers of different banks,
 * netted per settlement cycle (issue 6, point 7).
 *
 *   clearing.join   {"asset","clearing_account","settlement_account"}
 *   clearing.pay    {"id","asset","amount","from_bank","from_account",
 *                    "to_bank","to_account"}
 *   clearing.settle {"asset","cycle"}
 *
 * Banks hold their customers' deposits as ledger accounts the bank owns.
 * The clearing house is the organisation the genesis names:
 * "clearing":{"operator":"<org>"}; without one the module does nothing
 * (clearing.not_configured).
 *
 * join: an organisation takes part in clearing one asset. The module
 * opens two accounts under the ids it is given, owned by the signer's
 * organisation and controlled by "clearing" (only this module debits
 * them): the clearing account, through which its payments pass, and the
 * settlement account (limited: debits must not exceed credits), which the
 * bank funds with ordinary ledger transfers -- anyone may credit an
 * account -- and from which it settles. The operator joins the same way;
 * its two accounts are the house's, through which settlement passes.
 *
 * pay (signed by a member of from_bank, which owns from_account): the
 * customer is debited and the payee at to_bank credited at once -- the
 * customers see the money -- through the banks' clearing accounts:
 *
 *   from_account -> clearing(from_bank)      clearing(to_bank) -> to_account
 *
 * and the banks now owe each other: the obligation from_bank -> to_bank
 * joins the asset's open cycle. A bank's clearing account thus holds,
 * credits minus debits, what it sent minus what it received this cycle.
 *
 * settle (signed by the operator, for the open cycle): multilateral
 * netting. Each bank's net position is received - sent over the cycle's
 * obligations. Each net debtor pays its net from its settlement account
 * into the house's, the house pays each net creditor its net; then every
 * bank's clearing account is squared against the house's clearing
 * account. Per bank, two legs:
 *
 *   debtor D (net n):   settlement(D) -> settlement(house)   n
 *                       clearing(D)   -> clearing(house)     n
 *   creditor C (net m): settlement(house) -> settlement(C)   m
 *                       clearing(house)   -> clearing(C)     m
 *
 * Debtors go first, so the house's accounts never stay negative past the
 * action; both end where they began, since the nets sum to zero. All
 * legs are one book: a debtor short of funds (ledger.exceeds_credits)
 * refuses the whole settlement, nothing moves and the cycle stays open.
 * The cycle then closes: its report is kept, and new payments go to the
 * next one. Settling a closed cycle again is clearing.cycle_closed.
 *
 * The positions of the open cycle are kept in one record per cycle,
 * updated by every payment, rather than gathered from the obligations at
 * settlement: a scan sees the state as the block found it (exec.h), not
 * the payments made earlier in the same block.
 *
 * Books (modules/books/): a payment books a clearing entry in both
 * banks' books (the payer bank: Dr liabilities:deposits, Cr
 * assets:clearing; the payee bank: Dr assets:clearing, Cr
 * liabilities:deposits) and a settlement squares assets:clearing against
 * assets:settlement (a debtor: Dr assets:clearing, Cr assets:settlement;
 * a creditor the reverse), the operator as counterparty. So each bank's
 * assets:clearing is zero after every settlement, like its ledger
 * clearing account.
 *
 * State:
 *   clearing/house/<asset>          {"operator","asset","clearing",
 *                                    "settlement","joined_at"}
 *   clearing/bank/<asset>/<bank>    {"bank","asset","clearing",
 *                                    "settlement","joined_at"}
 *   clearing/cycle/<asset>          {"asset","cycle","seq"}  the open
 *                                    cycle (absent: cycle 1, nothing yet)
 *   clearing/ob/<asset>/<cycle>/<seq>  {"id","from_bank","to_bank",
 *                                    "amount","tx","height"}  cycle and
 *                                    seq 20 digits
 *   clearing/pos/<asset>/<cycle>    {"asset","cycle","count","gross",
 *                                    "banks":{"<bank>":{"sent",
 *                                    "received"}}}
 *   clearing/settled/<asset>/<cycle>  the cycle's report (clearing_report)
 *                                    with "tx","height","time"
 *   clearing/pay/<id>               {"id","request","cycle","seq","tx",
 *                                    "height"}
 * Amounts are decimal strings of u64.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "base/log.h"
#include "modules/books/books.h"
#include "modules/clearing/clearing.h"

static const char *const clearing_actions[] = {"join", "pay", "settle", NULL};
static const char *const clearing_queries[] = {"cycle", "positions", "payment", NULL};

#define CYCLE_FMT "%020" PRIu64

static int org_valid(const char *s) { return s && hanse_chain_id_valid(s, strlen(s)); }

static int clearing_check(const hanse_tx *tx, const char *action, json_t *p, hanse_reject *rej) {
  (void)tx;
  static const char *const join_f[] = {"asset", "clearing_account", "settlement_account", NULL};
  static const char *const pay_f[] = {"id",      "asset",        "amount",     "from_bank",
                                      "from_account", "to_bank", "to_account", NULL};
  static const char *const settle_f[] = {"asset", "cycle", NULL};
  int join = strcmp(action, "join") == 0, pay = strcmp(action, "pay") == 0;
  char where[32];
  snprintf(where, sizeof where, "clearing.%s", action);
  if (ledger_only_members(p, join ? join_f : pay ? pay_f : settle_f, "clearing", where,
                          rej) != HANSE_OK)
    return HANSE_ERR(INVALID);
  if (!ledger_asset_code_valid(json_string_value(json_object_get(p, "asset"))))
    return hanse_reject_code(rej, "clearing.bad_asset", 400, "\"asset\" must be an asset code");
  if (join) {
    const char *c = json_string_value(json_object_get(p, "clearing_account"));
    const char *s = json_string_value(json_object_get(p, "settlement_account"));
    if (!ledger_id_valid(c) || !ledger_id_valid(s) || strcmp(c, s) == 0)
      return hanse_reject_code(rej, "clearing.bad_account", 400,
                               "\"clearing_account\" and \"settlement_account\" must be two "
                               "account ids");
    return HANSE_OK;
  }
  if (!pay) {
    json_t *cy = json_object_get(p, "cycle");
    if (!json_is_integer(cy) || json_integer_value(cy) < 1)
      return hanse_reject_code(rej, "clearing.bad_cycle", 400,
                               "\"cycle\" must be an integer from 1");
    return HANSE_OK;
  }
  const char *id = json_string_value(json_object_get(p, "id"));
  if (!ledger_id_valid(id) || strlen(id) > CLEARING_ID_MAX)
    return hanse_reject_code(rej, "clearing.bad_id", 400,
                             "\"id\" must be 1-%d of [A-Za-z0-9._:-]", CLEARING_ID_MAX);
  json_t *amount = json_object_get(p, "amount");
  if (!json_is_integer(amount) || json_integer_value(amount) < 1)
    return hanse_reject_code(rej, "clearing.bad_amount", 400,
                             "\"amount\" must be an integer from 1 to 2^63-1");
  const char *fb = json_string_value(json_object_get(p, "from_bank"));
  const char *tb = json_string_value(json_object_get(p, "to_bank"));
  if (!org_valid(fb) || !org_valid(tb))
    return hanse_reject_code(rej, "clearing.bad_bank", 400,
                             "\"from_bank\" and \"to_bank\" must be organisation ids");
  if (strcmp(fb, tb) == 0)
    return hanse_reject_code(rej, "clearing.same_bank", 400,
                             "a payment within one bank is not cleared");
  if (!ledger_id_valid(json_string_value(json_object_get(p, "from_account"))) ||
      !ledger_id_valid(json_string_value(json_object_get(p, "to_account"))))
    return hanse_reject_code(rej, "clearing.bad_account", 400,
                             "\"from_account\" and \"to_account\" must be account ids");
  return HANSE_OK;
}

/* ---- helpers ---- */

/* The operator the genesis names, or "" when it names none. */
static int operator_of(ledger_book *b, char op[HANSE_MEMBER_ORG_MAX + 1]) {
  const uint8_t *v;
  size_t n;
  int found;
  op[0] = 0;
  int rc = hanse_exec_get(b->ex, "genesis", &v, &n, &found);
  if (rc != HANSE_OK || !found) return rc;
  json_t *g = json_loadb((const char *)v, n, 0, NULL);
  const char *o = json_string_value(json_object_get(json_object_get(g, "clearing"), "operator"));
  if (org_valid(o) && strlen(o) <= HANSE_MEMBER_ORG_MAX) snprintf(op, HANSE_MEMBER_ORG_MAX + 1, "%s", o);
  json_decref(g);
  return HANSE_OK;
}

static int nomem(ledger_book *b) {
  b->ex->env_error = 1;
  return HANSE_ERR(NOMEM);
}

/* The signer must act for an organisation (not a bare key). */
static int need_org(ledger_book *b, hanse_reject *rej) {
  if (b->owner_status && strcmp(b->owner_status, HANSE_MEMBER_ACTIVE) == 0) return HANSE_OK;
  return hanse_reject_code(rej, "clearing.not_member", 403,
                           "only an organisation's active key takes part in clearing");
}

/* A participant's record: clearing/house/<asset> (bank NULL) or
 * clearing/bank/<asset>/<bank>. *out a new reference, NULL if absent. */
static int member_get(ledger_book *b, const char *asset, const char *bank, json_t **out) {
  char key[LEDGER_KEY_MAX];
  if (bank) snprintf(key, sizeof key, "clearing/bank/%s/%s", asset, bank);
  else snprintf(key, sizeof key, "clearing/house/%s", asset);
  return ledger_get(b, key, out);
}

/* One transfer controlled by "clearing" (ledger_transfer_controlled). */
static int leg(ledger_book *b, const char *tid, const char *debit, const char *credit,
               uint64_t amount, const char *ref, size_t place, int signer_owns,
               hanse_reject *rej) {
  return ledger_transfer_controlled(b, tid, debit, credit, amount, ref, place, signer_owns,
                                    "clearing", rej);
}

/* ---- join ---- */

static int join(ledger_book *b, json_t *p, hanse_reject *rej) {
  const char *asset = json_string_value(json_object_get(p, "asset"));
  const char *ca = json_string_value(json_object_get(p, "clearing_account"));
  const char *sa = json_string_value(json_object_get(p, "settlement_account"));
  char op[HANSE_MEMBER_ORG_MAX + 1];
  int rc = need_org(b, rej);
  if (rc == HANSE_OK) rc = operator_of(b, op);
  if (rc != HANSE_OK) return rc;
  if (op[0] == 0)
    return hanse_reject_code(rej, "clearing.not_configured", 409,
                             "the genesis names no clearing operator (\"clearing\":{\"operator\"})");
  int house = strcmp(op, b->owner) == 0;
  json_t *have = NULL;
  if ((rc = member_get(b, asset, house ? NULL : b->owner, &have)) != HANSE_OK) return rc;
  if (have) {
    json_decref(have);
    return hanse_reject_code(rej, "clearing.joined", 409, "'%s' clears %s already", b->owner,
                             asset);
  }
  rc = ledger_account_open(b, ca, b->owner, asset, "asset", NULL, "clearing", rej);
  if (rc == HANSE_OK)
    rc = ledger_account_open(b, sa, b->owner, asset, "asset",
                             house ? NULL : "debits_must_not_exceed_credits", "clearing", rej);
  if (rc != HANSE_OK) return rc;
  char key[LEDGER_KEY_MAX];
  if (house) snprintf(key, sizeof key, "clearing/house/%s", asset);
  else snprintf(key, sizeof key, "clearing/bank/%s/%s", asset, b->owner);
  json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:I}", house ? "operator" : "bank", b->owner,
                          "asset", asset, "clearing", ca, "settlement", sa, "joined_at",
                          (json_int_t)b->ex->height);
  return rec ? ledger_put(b, key, rec) : nomem(b);
}

/* ---- pay ---- */

/* A customer's account at `bank`: present, of `asset`, the bank's. */
static int customer_account(ledger_book *b, const char *id, const char *asset, const char *bank,
                            hanse_reject *rej) {
  ledger_acct *a = NULL;
  int rc = ledger_acct_load(b, id, &a);
  if (rc != HANSE_OK) return rc;
  if (a == NULL) return hanse_reject_code(rej, "clearing.no_account", 404, "no account '%s'", id);
  if (strcmp(a->asset, asset) != 0)
    return hanse_reject_code(rej, "clearing.asset_mismatch", 409, "'%s' holds %s, not %s", id,
                             a->asset, asset);
  if (strcmp(a->owner, bank) != 0)
    return hanse_reject_code(rej, "clearing.not_bank_account", 403,
                             "account '%s' is not held at '%s'", id, bank);
  return HANSE_OK;
}

/* Add amount to a decimal field; 1 in *overflow when it would pass
 * 2^64-1. */
static int add_to(json_t *o, const char *field, uint64_t amount, int *overflow) {
  uint64_t v;
  int rc = ledger_u64_get(o, field, &v);
  if (rc != HANSE_OK) return rc;
  if (v > UINT64_MAX - amount) {
    *overflow = 1;
    return HANSE_OK;
  }
  return ledger_u64_set(o, field, v + amount);
}

/* The open cycle's positions with one more obligation. *pos_out: the new
 * record (new reference). */
static int positions_add(ledger_book *b, const char *asset, uint64_t cycle, const char *from,
                         const char *to, uint64_t amount, json_t **pos_out, hanse_reject *rej) {
  char key[LEDGER_KEY_MAX];
  json_t *old = NULL, *pos;
  snprintf(key, sizeof key, "clearing/pos/%s/" CYCLE_FMT, asset, cycle);
  int rc = ledger_get(b, key, &old);
  if (rc != HANSE_OK) return rc;
  pos = old ? json_deep_copy(old) : json_pack("{s:s, s:I, s:I, s:s, s:{}}", "asset", asset,
                                              "cycle", (json_int_t)cycle, "count", (json_int_t)0,
                                              "gross", "0", "banks");
  json_decref(old);
  if (pos == NULL) return nomem(b);
  json_t *banks = json_object_get(pos, "banks");
  int overflow = 0;
  rc = add_to(pos, "gross", amount, &overflow);
  for (int i = 0; i < 2 && rc == HANSE_OK && !overflow; i++) {
    const char *bank = i == 0 ? from : to;
    json_t *e = json_object_get(banks, bank);
    if (e == NULL) {
      if (json_object_size(banks) >= CLEARING_BANKS_MAX) {
        rc = hanse_reject_code(rej, "clearing.too_many_banks", 409,
                               "a cycle clears at most %d banks", CLEARING_BANKS_MAX);
        break;
      }
      e = json_pack("{s:s, s:s}", "sent", "0", "received", "0");
      if (e == NULL || json_object_set_new(banks, bank, e) != 0) {
        rc = nomem(b);
        break;
      }
    }
    rc = add_to(e, i == 0 ? "sent" : "received", amount, &overflow);
  }
  if (rc == HANSE_OK && overflow)
    rc = hanse_reject_code(rej, "clearing.overflow", 409, "the cycle's sums would pass 2^64-1");
  if (rc == HANSE_OK)
    json_object_set_new(pos, "count",
                        json_integer(json_integer_value(json_object_get(pos, "count")) + 1));
  if (rc != HANSE_OK) {
    json_decref(pos);
    return rc;
  }
  *pos_out = pos;
  return HANSE_OK;
}

/* The asset's open cycle: *cycle, *seq (the last obligation's), and the
 * record as stored (new reference, NULL when absent). */
static int cycle_open(ledger_book *b, const char *asset, uint64_t *cycle, uint64_t *seq) {
  char key[LEDGER_KEY_MAX];
  json_t *c = NULL;
  snprintf(key, sizeof key, "clearing/cycle/%s", asset);
  int rc = ledger_get(b, key, &c);
  *cycle = c ? (uint64_t)json_integer_value(json_object_get(c, "cycle")) : 1;
  *seq = c ? (uint64_t)json_integer_value(json_object_get(c, "seq")) : 0;
  json_decref(c);
  return rc;
}

static int cycle_put(ledger_book *b, const char *asset, uint64_t cycle, uint64_t seq) {
  char key[LEDGER_KEY_MAX];
  snprintf(key, sizeof key, "clearing/cycle/%s", asset);
  json_t *c = json_pack("{s:s, s:I, s:I}", "asset", asset, "cycle", (json_int_t)cycle, "seq",
                        (json_int_t)seq);
  return c ? ledger_put(b, key, c) : nomem(b);
}

static int pay(ledger_book *b, json_t *p, hanse_reject *rej) {
  const char *id = json_string_value(json_object_get(p, "id"));
  const char *asset = json_string_value(json_object_get(p, "asset"));
  const char *fb = json_string_value(json_object_get(p, "from_bank"));
  const char *tb = json_string_value(json_object_get(p, "to_bank"));
  const char *fa = json_string_value(json_object_get(p, "from_account"));
  const char *ta = json_string_value(json_object_get(p, "to_account"));
  uint64_t amount = (uint64_t)json_integer_value(json_object_get(p, "amount"));
  char key[LEDGER_KEY_MAX], tid[LEDGER_ID_MAX + 1], txhex[HANSE_HASH_HEX_BYTES];
  json_t *old = NULL, *from = NULL, *to = NULL, *pos = NULL;
  snprintf(key, sizeof key, "clearing/pay/%s", id);
  int rc = ledger_get(b, key, &old);
  if (rc != HANSE_OK) return rc;
  if (old) {
    int same = json_equal(json_object_get(old, "request"), p);
    json_decref(old);
    return same ? HANSE_OK /* the same payment again: nothing changes */
                : hanse_reject_code(rej, "clearing.id_conflict", 409,
                                    "payment '%s' exists with other fields", id);
  }
  if ((rc = need_org(b, rej)) != HANSE_OK) return rc;
  if (strcmp(b->owner, fb) != 0)
    return hanse_reject_code(rej, "clearing.not_bank", 403,
                             "the signer acts for '%s', not for the paying bank '%s'", b->owner,
                             fb);
  if ((rc = member_get(b, asset, fb, &from)) != HANSE_OK) goto out;
  if ((rc = member_get(b, asset, tb, &to)) != HANSE_OK) goto out;
  if (from == NULL || to == NULL) {
    rc = hanse_reject_code(rej, "clearing.not_joined", 404, "'%s' does not clear %s",
                           from == NULL ? fb : tb, asset);
    goto out;
  }
  if ((rc = customer_account(b, fa, asset, fb, rej)) != HANSE_OK) goto out;
  if ((rc = customer_account(b, ta, asset, tb, rej)) != HANSE_OK) goto out;
  uint64_t cycle, seq;
  if ((rc = cycle_open(b, asset, &cycle, &seq)) != HANSE_OK) goto out;
  if ((rc = positions_add(b, asset, cycle, fb, tb, amount, &pos, rej)) != HANSE_OK) goto out;
  snprintf(tid, sizeof tid, "clr:%s:out", id);
  rc = leg(b, tid, fa, json_string_value(json_object_get(from, "clearing")), amount, id, 0, 1, rej);
  snprintf(tid, sizeof tid, "clr:%s:in", id);
  if (rc == HANSE_OK)
    rc = leg(b, tid, json_string_value(json_object_get(to, "clearing")), ta, amount, id, 1, 0, rej);
  if (rc != HANSE_OK) goto out;
  books_event ev = {BOOKS_CLEARING, fb, tb, asset, amount, id, NULL};
  if ((rc = books_post(b, &ev)) != HANSE_OK) goto out;
  seq++;
  hanse_hex_encode(txhex, b->ex->tx->id.b, HANSE_HASH_BYTES);
  json_t *ob = json_pack("{s:s, s:s, s:s, s:s, s:I}", "id", id, "from_bank", fb, "to_bank", tb,
                         "tx", txhex, "height", (json_int_t)b->ex->height);
  json_t *rec = json_pack("{s:s, s:O, s:I, s:I, s:s, s:I}", "id", id, "request", p, "cycle",
                          (json_int_t)cycle, "seq", (json_int_t)seq, "tx", txhex, "height",
                          (json_int_t)b->ex->height);
  if (ob == NULL || rec == NULL || ledger_u64_set(ob, "amount", amount) != HANSE_OK) {
    json_decref(ob);
    json_decref(rec);
    rc = nomem(b);
    goto out;
  }
  rc = ledger_put(b, key, rec);
  snprintf(key, sizeof key, "clearing/ob/%s/" CYCLE_FMT "/" CYCLE_FMT, asset, cycle, seq);
  if (rc == HANSE_OK) rc = ledger_put(b, key, ob);
  else json_decref(ob);
  snprintf(key, sizeof key, "clearing/pos/%s/" CYCLE_FMT, asset, cycle);
  if (rc == HANSE_OK) rc = ledger_put(b, key, pos);
  else json_decref(pos);
  pos = NULL;
  if (rc == HANSE_OK) rc = cycle_put(b, asset, cycle, seq);
out:
  json_decref(from);
  json_decref(to);
  json_decref(pos);
  return rc;
}

/* ---- settle ---- */

/* The settlement legs of one bank: its net position moves between its
 * accounts and the house's. */
static int settle_bank(ledger_book *b, json_t *row, json_t *acct, json_t *house, size_t i,
                       const char *op, const char *asset, const char *ref, hanse_reject *rej) {
  const char *side = json_string_value(json_object_get(row, "side"));
  uint64_t net;
  int rc = ledger_u64_get(row, "net", &net);
  if (rc != HANSE_OK || net == 0) return rc;
  int debtor = strcmp(side, "debtor") == 0;
  char tid[LEDGER_ID_MAX + 1];
  const char *bank_s = json_string_value(json_object_get(acct, "settlement"));
  const char *bank_c = json_string_value(json_object_get(acct, "clearing"));
  const char *house_s = json_string_value(json_object_get(house, "settlement"));
  const char *house_c = json_string_value(json_object_get(house, "clearing"));
  snprintf(tid, sizeof tid, "clr:%.*s:%zu:s", CLEARING_LEG_TX_HEX, ref, i);
  rc = leg(b, tid, debtor ? bank_s : house_s, debtor ? house_s : bank_s, net, ref, 2 * i, 0, rej);
  snprintf(tid, sizeof tid, "clr:%.*s:%zu:c", CLEARING_LEG_TX_HEX, ref, i);
  if (rc == HANSE_OK)
    rc = leg(b, tid, debtor ? bank_c : house_c, debtor ? house_c : bank_c, net, ref, 2 * i + 1,
             0, rej);
  if (rc == HANSE_OK)
    rc = books_post_side(b, json_string_value(json_object_get(row, "bank")),
                         debtor ? BOOKS_PAYER : BOOKS_PAYEE, BOOKS_SETTLEMENT, op, asset, net,
                         ref, NULL);
  return rc;
}

static int settle(ledger_book *b, json_t *p, hanse_reject *rej) {
  const char *asset = json_string_value(json_object_get(p, "asset"));
  uint64_t want = (uint64_t)json_integer_value(json_object_get(p, "cycle"));
  char op[HANSE_MEMBER_ORG_MAX + 1], key[LEDGER_KEY_MAX], txhex[HANSE_HASH_HEX_BYTES];
  int rc = need_org(b, rej);
  if (rc == HANSE_OK) rc = operator_of(b, op);
  if (rc != HANSE_OK) return rc;
  if (op[0] == 0 || strcmp(op, b->owner) != 0)
    return hanse_reject_code(rej, "clearing.not_operator", 403,
                             "only the clearing operator%s%s settles", op[0] ? " " : "", op);
  uint64_t cycle, seq;
  if ((rc = cycle_open(b, asset, &cycle, &seq)) != HANSE_OK) return rc;
  if (want < cycle)
    return hanse_reject_code(rej, "clearing.cycle_closed", 409,
                             "cycle %" PRIu64 " of %s is settled; %" PRIu64 " is open", want,
                             asset, cycle);
  if (want > cycle)
    return hanse_reject_code(rej, "clearing.no_cycle", 404,
                             "cycle %" PRIu64 " of %s is not open yet; %" PRIu64 " is", want,
                             asset, cycle);
  json_t *house = NULL, *pos = NULL, *report = NULL, *acct = NULL;
  if ((rc = member_get(b, asset, NULL, &house)) != HANSE_OK) return rc;
  if (house == NULL)
    return hanse_reject_code(rej, "clearing.not_joined", 404,
                             "the operator has not joined %s: no house accounts", asset);
  snprintf(key, sizeof key, "clearing/pos/%s/" CYCLE_FMT, asset, cycle);
  if ((rc = ledger_get(b, key, &pos)) == HANSE_OK) rc = clearing_report(pos, asset, cycle, &report);
  if (rc != HANSE_OK) {
    b->ex->env_error = 1;
    goto out;
  }
  hanse_hex_encode(txhex, b->ex->tx->id.b, HANSE_HASH_BYTES);
  json_t *banks = json_object_get(report, "banks");
  /* debtors first: the house pays creditors from what debtors paid in */
  for (int pass = 0; pass < 2 && rc == HANSE_OK; pass++) {
    size_t i;
    json_t *row;
    json_array_foreach(banks, i, row) {
      int debtor = strcmp(json_string_value(json_object_get(row, "side")), "debtor") == 0;
      if (debtor != (pass == 0)) continue;
      rc = member_get(b, asset, json_string_value(json_object_get(row, "bank")), &acct);
      if (rc == HANSE_OK && acct == NULL) {
        HANSE_ERROR("clearing: bank %s in cycle %" PRIu64 " of %s has not joined",
                    json_string_value(json_object_get(row, "bank")), cycle, asset);
        b->ex->env_error = 1;
        rc = HANSE_ERR(INTERNAL);
      }
      if (rc == HANSE_OK) rc = settle_bank(b, row, acct, house, i, op, asset, txhex, rej);
      json_decref(acct);
      acct = NULL;
      if (rc != HANSE_OK) break;
    }
  }
  if (rc != HANSE_OK) goto out;
  json_object_set_new(report, "status", json_string("settled"));
  json_object_set_new(report, "tx", json_string(txhex));
  json_object_set_new(report, "height", json_integer((json_int_t)b->ex->height));
  json_object_set_new(report, "time", json_integer((json_int_t)b->ex->time_ms));
  snprintf(key, sizeof key, "clearing/settled/%s/" CYCLE_FMT, asset, cycle);
  rc = ledger_put(b, key, report);
  report = NULL;
  if (rc == HANSE_OK) rc = cycle_put(b, asset, cycle + 1, 0);
out:
  json_decref(house);
  json_decref(pos);
  json_decref(report);
  return rc;
}

static int clearing_run(ledger_book *b, const hanse_tx *tx, const char *action, json_t *p,
                        int commit, hanse_reject *rej) {
  (void)tx;
  (void)commit;
  if (strcmp(action, "join") == 0) return join(b, p, rej);
  if (strcmp(action, "pay") == 0) return pay(b, p, rej);
  return settle(b, p, rej);
}

LEDGER_BOOK_STEPS(clearing, "clearing", clearing_run)

const hanse_module hanse_module_clearing = {
    .name = "clearing",
    .actions = clearing_actions,
    .queries = clearing_queries,
    .check = clearing_check,
    .verify = clearing_verify,
    .apply = clearing_apply,
    .query = clearing_query,
    .data_class = "financial",
};
