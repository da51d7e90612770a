/*
 * ledger/ledger_conf.c -- confidential amounts: transfers in an asset the
 * chain's policy names confidential ("confidential":{"assets",
 * "auditors"}, chain/policy.c) carry no clear amount.
 *
 * Such a transfer's "amount" is an object
 *
 *   {"commitment": "<64 hex: C = a*G + r*H on ristretto255>",
 *    "opening":    <a confidential field (crypto/confidential.h) holding
 *                   {"amount":a,"blinding":"<64 hex r>"}>}
 *
 * (crypto/pedersen.h defines G, H and the encoding). The opening is
 * sealed by the client to the debit account's owner, the credit
 * account's owner and every auditor the policy lists, under the
 * associated data "<chain id>/ledger.transfer/<transfer id>"; the node
 * never holds a key and never sees a.
 *
 * What the node keeps. Each account and the asset's totals keep, beside
 * the four clear balances, the same four fields as sums of commitments
 * (ristretto255 points, the identity -- 64 zeros in hex -- until
 * touched): in the book, ledger_sums.cm; in the balance row, four more
 * 64-hex fields (ledger_balance.c); in the queries, "commitments".
 * A transfer adds C to one debit field and one credit field, exactly as
 * the clear path adds a; post moves C from pending to posted on both
 * sides, void and expiry take it out of pending. So the per-asset
 * invariant holds for commitments as for amounts: in the totals, the
 * debit sums equal the credit sums, pending and posted apart, compared as
 * canonical encodings (ledger_conf_balanced, checked at commit). An
 * account's balance is its clear fields plus the amounts its commitment
 * sums open to; whoever can open every transfer of the account (its
 * owner, an auditor) recomputes them and checks them (client/ledger.c).
 *
 * What the node checks: in `check`, the commitment is a valid point other
 * than the identity and the opening a well-formed field; in `verify`, the
 * transfer's form matches the policy in force (confidential_required,
 * not_confidential), the opening is sealed to a key of each party and to
 * every auditor (opening_recipients), and no account it touches has a
 * balance rule (confidential_rule). What it cannot check: that the
 * opening matches the commitment, and that a is positive and in range --
 * that needs range proofs, which no Debian package provides. A payer who
 * commits to a "negative" amount moves money the wrong way unseen by the
 * node; the auditors' opening of every transfer is what finds it. For the
 * same reason rules cannot be enforced, two-phase transfers post whole
 * (confidential_partial), and the books get no automatic entries for
 * confidential transfers: the parties' clients book what they opened.
 *
 * Index: ledger/cx/<asset>/<pos> = "<id>" for every confidential transfer
 * (pos as in ledger/acx/), so an auditor lists an asset's transfers
 * (query confidential_transfers).
 */
#include <stdio.h>
#include <string.h>

#include "base/hex.h"
#include "base/log.h"
#include "chain/chain.h"
#include "crypto/confidential.h"
#include "crypto/pedersen.h"
#include "modules/ledger/ledger.h"

int ledger_conf_is(json_t *t) { return json_is_object(json_object_get(t, "amount")); }

int ledger_conf_amount_check(json_t *amount, const char *where, hanse_reject *rej) {
  const char *k;
  json_t *v;
  json_object_foreach(amount, k, v) {
    if (strcmp(k, "commitment") != 0 && strcmp(k, "opening") != 0)
      return hanse_reject_code(rej, "ledger.bad_amount", 400,
                               "%s.amount: a confidential amount is {commitment, opening}; "
                               "unknown member \"%.32s\"",
                               where, k);
  }
  hanse_point c;
  if (hanse_point_parse(&c, json_string_value(json_object_get(amount, "commitment"))) !=
          HANSE_OK ||
      hanse_point_is_identity(&c))
    return hanse_reject_code(rej, "ledger.bad_commitment", 400,
                             "%s.amount.commitment must be the 64-hex encoding of a "
                             "ristretto255 point other than the identity",
                             where);
  json_t *opening = json_object_get(amount, "opening");
  hanse_reject why;
  hanse_reject_clear(&why);
  if (opening == NULL || hanse_confidential_check(opening, &why) != HANSE_OK)
    return hanse_reject_code(rej, "ledger.bad_opening", 400,
                             "%s.amount.opening must be a confidential field%s%s", where,
                             opening ? ": " : "", why.message);
  return HANSE_OK;
}

int ledger_conf_open_check(ledger_book *b, const char *asset, const char *rule,
                           hanse_reject *rej) {
  if (rule == NULL || !hanse_policy_confidential(b->ex->policy, asset)) return HANSE_OK;
  return hanse_reject_code(rej, "ledger.confidential_rule", 409,
                           "%s is confidential on this chain: its amounts cannot be compared "
                           "with a limit, so its accounts take no balance rule",
                           asset);
}

/* Does one of the opening's recipients speak for `owner` (an
 * organisation, through an active key of it, or the key itself)? */
static int owner_sealed(const char *owner, char (*holders)[LEDGER_OWNER_MAX + 1], size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(holders[i], owner) == 0) return 1;
  return 0;
}

static int recipients_check(ledger_book *b, json_t *opening, const ledger_acct *d,
                            const ledger_acct *c, hanse_reject *rej) {
  json_t *list = json_object_get(opening, "recipients");
  size_t n = json_array_size(list);
  char holders[HANSE_CONFIDENTIAL_RECIPIENTS_MAX][LEDGER_OWNER_MAX + 1];
  char hex[HANSE_CONFIDENTIAL_RECIPIENTS_MAX][HANSE_HASH_HEX_BYTES];
  HANSE_ASSERT(n <= HANSE_CONFIDENTIAL_RECIPIENTS_MAX); /* check's bound */
  for (size_t i = 0; i < n; i++) {
    hanse_pubkey pk;
    const char *status;
    char org[HANSE_MEMBER_ORG_MAX + 1];
    const char *k = json_string_value(json_object_get(json_array_get(list, i), "key"));
    if (hanse_pubkey_parse(&pk, k) != HANSE_OK)
      return hanse_reject_code(rej, "ledger.bad_opening", 400, "a recipient key is not 64 hex");
    hanse_pubkey_hex(hex[i], &pk);
    int rc = hanse_member_key_org(b->ex, &pk, &status, org);
    if (rc != HANSE_OK) {
      b->ex->env_error = 1;
      return rc;
    }
    int speaks = strcmp(status, HANSE_MEMBER_ACTIVE) == 0 ||
                 strcmp(status, HANSE_MEMBER_UNKNOWN) == 0;
    snprintf(holders[i], sizeof holders[i], "%.*s", (int)(sizeof holders[i] - 1),
             !speaks ? "" : org[0] ? org : hex[i]);
  }
  const ledger_acct *sides[2] = {d, c};
  for (int s = 0; s < 2; s++) {
    const char *owner = sides[s]->owner;
    if (!owner_sealed(owner, holders, n))
      return hanse_reject_code(rej, "ledger.opening_recipients", 403,
                               "the opening is sealed to no active key of '%s', the owner of "
                               "the %s account",
                               owner, s == 0 ? "debit" : "credit");
  }
  size_t i;
  json_t *a;
  json_array_foreach(hanse_policy_auditors(b->ex->policy), i, a) {
    size_t j = 0;
    while (j < n && strcmp(hex[j], json_string_value(a)) != 0) j++;
    if (j == n)
      return hanse_reject_code(rej, "ledger.opening_recipients", 403,
                               "the opening is not sealed to auditor %.16s..., whom the "
                               "chain's policy names",
                               json_string_value(a));
  }
  return HANSE_OK;
}

int ledger_conf_admit(ledger_book *b, json_t *t, const ledger_acct *d, const ledger_acct *c,
                      int *conf, hanse_reject *rej) {
  json_t *amount = json_object_get(t, "amount");
  int want = hanse_policy_confidential(b->ex->policy, d->asset);
  *conf = json_is_object(amount);
  if (want && !*conf)
    return hanse_reject_code(rej, "ledger.confidential_required", 409,
                             "%s is confidential on this chain: the amount must be "
                             "{commitment, opening}",
                             d->asset);
  if (!want && *conf)
    return hanse_reject_code(rej, "ledger.not_confidential", 409,
                             "%s is not confidential on this chain: the amount must be an "
                             "integer",
                             d->asset);
  if (!*conf) return HANSE_OK;
  if (d->rule_name || c->rule_name)
    return hanse_reject_code(rej, "ledger.confidential_rule", 409,
                             "'%s' has a balance rule: a confidential amount cannot be "
                             "checked against it",
                             d->rule_name ? d->id : c->id);
  return recipients_check(b, json_object_get(amount, "opening"), d, c, rej);
}

/* field (a sum of commitments in s) := field + C or field - C; the sums
 * start at the identity when s had none. */
static void conf_field_move(ledger_sums *s, int field, const hanse_point *cm, int add) {
  if (!s->conf) {
    for (int i = 0; i < LEDGER_SUMS; i++) hanse_point_identity(&s->cm[i]);
    s->conf = 1;
  }
  hanse_point now;
  int rc = add ? hanse_point_add(&now, &s->cm[field], cm)
               : hanse_point_sub(&now, &s->cm[field], cm);
  HANSE_ASSERT(rc == HANSE_OK); /* both valid points: parsed, or sums of such */
  s->cm[field] = now;
}

int ledger_conf_move(ledger_sums *d, ledger_sums *c, ledger_sums *t, int df, int cf,
                     json_t *amount, int add) {
  hanse_point cm;
  if (hanse_point_parse(&cm, json_string_value(json_object_get(amount, "commitment"))) !=
      HANSE_OK) {
    HANSE_ERROR("ledger: a stored confidential amount has no valid commitment");
    return HANSE_ERR(INTERNAL);
  }
  conf_field_move(d, df, &cm, add);
  conf_field_move(c, cf, &cm, add);
  conf_field_move(t, df, &cm, add);
  conf_field_move(t, cf, &cm, add);
  return HANSE_OK;
}

int ledger_conf_settle(ledger_sums *d, ledger_sums *c, ledger_sums *t, json_t *rec, int post) {
  json_t *amount = json_object_get(rec, "amount");
  int rc = ledger_conf_move(d, c, t, LEDGER_DP, LEDGER_CP, amount, 0);
  if (rc == HANSE_OK && post) rc = ledger_conf_move(d, c, t, LEDGER_DPO, LEDGER_CPO, amount, 1);
  return rc;
}

int ledger_conf_index(ledger_book *b, const char *asset, const char *pos, const char *id) {
  char key[LEDGER_KEY_MAX];
  snprintf(key, sizeof key, "ledger/cx/%s/%s", asset, pos);
  return ledger_put(b, key, json_string(id));
}

_Static_assert(LEDGER_CP == LEDGER_DP + 2 && LEDGER_CPO == LEDGER_DPO + 2,
               "a credit sum sits two after its debit sum");

int ledger_conf_balanced(const char *key, const ledger_sums *totals) {
  if (!totals->conf) return 1;
  for (int i = 0; i < 2; i++) {
    /* LEDGER_DP, LEDGER_DPO against LEDGER_CP, LEDGER_CPO; encodings are
     * canonical, so equal points have equal bytes */
    if (memcmp(totals->cm[i].b, totals->cm[i + 2].b, HANSE_POINT_BYTES) != 0) {
      HANSE_ERROR("ledger: invariant broken at %s: the commitments of %s differ from %s", key,
                  ledger_sum_names[i], ledger_sum_names[i + 2]);
      return 0;
    }
  }
  return 1;
}

int ledger_conf_query_policy(hanse_view *v, json_t **result, hanse_reject *rej) {
  json_t *pol = NULL, *gen = NULL;
  int rc = hanse_view_get_json(v, "policy", &pol);
  if (rc == HANSE_OK && pol == NULL) rc = hanse_view_get_json(v, "genesis", &gen);
  if (rc != HANSE_OK) return hanse_reject_set(rej, rc, NULL);
  json_t *src = pol ? pol : json_object_get(gen, "policy");
  json_t *conf = json_object_get(src, "confidential");
  json_t *assets = json_object_get(conf, "assets"), *auditors = json_object_get(conf, "auditors");
  *result = json_pack("{s:o, s:o}", "assets", assets ? json_incref(assets) : json_array(),
                      "auditors", auditors ? json_incref(auditors) : json_array());
  json_decref(pol);
  json_decref(gen);
  return *result ? HANSE_OK : hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
}
