/*
 * ledger/ledger.c -- the ledger module's function table: context-free
 * checks, opening accounts, and dispatch to the transfer code.
 *
 *   ledger.open     {"account", "asset", "type", "rule"?}
 *   ledger.transfer {"transfers":[{"id","debit","credit","amount",
 *                                  "code"?,"pending"?,"timeout"?,
 *                                  "linked"?,"business"?,"ref"?}, ...]}
 *   ledger.post     {"id", "amount"?}     a pending transfer, whole or less
 *                   {"ids":[id | {"id","amount"?}, ...]}   up to
 *                                         LEDGER_IDS_MAX of them
 *   ledger.void     {"id"}  or  {"ids":[id | {"id"}, ...]}
 *
 * An account belongs to the signer's enterprise: its organisation in the
 * member registry, or, for a key the registry does not know (an open
 * chain), the key itself (its hex). A key the registry knows but that is
 * not active owns nothing and debits nothing (ledger.key_inactive). Any
 * active member of the owning organisation may open its accounts, debit
 * them, and post or void transfers that debit them; anyone may credit.
 *
 * The asset of an account is an asset the asset module issued
 * (asset/def/<symbol> exists when the account opens), a token the token
 * module defined (token/def/<symbol>), or a currency: three capital
 * letters, the shape of an ISO 4217 code ("EUR"). The ledger moves
 * bookkeeping amounts between its own accounts; it does not move asset
 * module balances. An enterprise's account in a token always has the rule
 * debits_must_not_exceed_credits (token_rule below), so tokens exist only
 * as the token module issued them.
 *
 * Types: asset, liability, equity, revenue, expense. The type does not
 * change what a transfer does (a debit always adds to debits); reports
 * read the balance per type. The optional rule limits an account:
 *   debits_must_not_exceed_credits  debits_pending + debits_posted +
 *                                   amount <= credits_posted
 *   credits_must_not_exceed_debits  credits_pending + credits_posted +
 *                                   amount <= debits_posted
 * Pending amounts on the limited side count against the limit; pending
 * amounts on the other side do not back it, so posting or voiding never
 * breaks a rule.
 *
 * In an asset the chain's policy makes confidential, a transfer's amount
 * is a commitment and an opening sealed to the parties and the auditors
 * (ledger_conf.c); such accounts take no balance rule.
 *
 * A transfer between two enterprises is a business transaction: when it
 * posts, both parties' books get their entries (modules/books/), by its
 * "business" (payment, fee, duty or refund; default payment) and "ref"
 * (default the transfer's id). Accounts and transfers another module
 * controls (ledger.h) are moved only by that module: ledger.controlled.
 *
 * A transaction of transfers is accepted when at least one transfer
 * succeeds (or already existed with the same fields); the others then
 * fail alone or with their linked chain and their codes are kept under
 * ledger/result/<tx>. When none succeeds the transaction is rejected with
 * the first failing transfer's own code (not "ledger.linked_event_failed")
 * and status, and writes nothing. A post or void of many ids ("ids") is
 * the same: each id is posted or voided on its own (there are no chains),
 * the transaction is accepted when one succeeds, and the codes of a mixed
 * outcome are kept under ledger/result/<tx>. The single form ("id") keeps
 * its own code and message as its rejection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "base/log.h"
#include "modules/books/books.h"
#include "modules/ledger/ledger.h"

static const char *const ledger_actions[] = {"open", "transfer", "post", "void", NULL};
static const char *const ledger_queries[] = {"account", "accounts", "transfer", "transfers",
                                             "totals",  "results",  "confidential",
                                             "confidential_transfers", NULL};
/* An enterprise's members list its own accounts whatever the read policy
 * says (module.h, owner_queries). */
static const char *const ledger_owner_queries[] = {"accounts", NULL};
static const char *const ledger_types[] = {"asset", "liability", "equity", "revenue",
                                           "expense", NULL};
static const char *const ledger_rules[] = {"debits_must_not_exceed_credits",
                                           "credits_must_not_exceed_debits", NULL};

int ledger_name_valid(const char *s, size_t max, const char *also) {
  size_t n = s ? strlen(s) : 0;
  if (n < 1 || n > max) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
          strchr(also, c) != NULL))
      return 0;
  }
  return 1;
}

int ledger_id_valid(const char *s) { return ledger_name_valid(s, LEDGER_ID_MAX, "_-.:"); }

int ledger_word_in(const char *s, const char *const *list) {
  for (size_t i = 0; s && list[i]; i++)
    if (strcmp(s, list[i]) == 0) return 1;
  return 0;
}

int ledger_asset_code_valid(const char *s) {
  return ledger_name_valid(s, HANSE_ASSET_NAME_MAX, "_-.");
}

int ledger_currency_code(const char *s) {
  return s && strlen(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' &&
         s[2] >= 'A' && s[2] <= 'Z';
}

/* Members other than `allowed` make the payload malformed: a typo in an
 * optional field ("pendng") must not silently change what happens. */
int ledger_only_members(json_t *o, const char *const *allowed, const char *module,
                        const char *where, hanse_reject *rej) {
  const char *k;
  json_t *v;
  json_object_foreach(o, k, v) {
    if (!ledger_word_in(k, allowed)) {
      char code[HANSE_REJECT_CODE_MAX];
      snprintf(code, sizeof code, "%s.bad_field", module);
      return hanse_reject_code(rej, code, 400, "%s: unknown member \"%s\"", where, k);
    }
  }
  return HANSE_OK;
}

static int only_members(json_t *o, const char *const *allowed, const char *where,
                        hanse_reject *rej) {
  return ledger_only_members(o, allowed, "ledger", where, rej);
}

static int amount_valid(json_t *j) {
  return json_is_integer(j) && json_integer_value(j) >= 1;
}

/* The business types a plain transfer may name (books.h); the others are
 * booked by the module that makes them. */
static const char *const transfer_business[] = {BOOKS_PAYMENT, BOOKS_FEE, BOOKS_DUTY,
                                                BOOKS_REFUND, NULL};

int ledger_transfer_check(json_t *t, size_t i, size_t n, hanse_reject *rej) {
  static const char *const fields[] = {"id",      "debit",   "credit",   "amount", "code",
                                       "pending", "timeout", "linked",   "business",
                                       "ref",     NULL};
  char where[32];
  snprintf(where, sizeof where, "transfers[%zu]", i);
  if (!json_is_object(t))
    return hanse_reject_code(rej, "ledger.bad_transfer", 400, "%s must be an object", where);
  if (only_members(t, fields, where, rej) != HANSE_OK) return HANSE_ERR(INVALID);
  if (!ledger_id_valid(json_string_value(json_object_get(t, "id"))))
    return hanse_reject_code(rej, "ledger.bad_id", 400,
                             "%s.id must be 1-%d of [A-Za-z0-9._:-]", where, LEDGER_ID_MAX);
  const char *debit = json_string_value(json_object_get(t, "debit"));
  const char *credit = json_string_value(json_object_get(t, "credit"));
  if (!ledger_id_valid(debit) || !ledger_id_valid(credit))
    return hanse_reject_code(rej, "ledger.bad_account", 400,
                             "%s.debit and .credit must be account ids", where);
  if (strcmp(debit, credit) == 0)
    return hanse_reject_code(rej, "ledger.same_account", 400,
                             "%s debits and credits the same account", where);
  json_t *amount = json_object_get(t, "amount");
  if (json_is_object(amount)) {
    if (ledger_conf_amount_check(amount, where, rej) != HANSE_OK) return HANSE_ERR(INVALID);
  } else if (!amount_valid(amount))
    return hanse_reject_code(rej, "ledger.bad_amount", 400,
                             "%s.amount must be an integer from 1 to 2^63-1, or a "
                             "confidential {commitment, opening}", where);
  json_t *code = json_object_get(t, "code");
  if (code && (!json_is_integer(code) || json_integer_value(code) < 1 ||
               json_integer_value(code) > LEDGER_CODE_MAX))
    return hanse_reject_code(rej, "ledger.bad_code", 400,
                             "%s.code must be an integer from 1 to %d", where, LEDGER_CODE_MAX);
  json_t *pending = json_object_get(t, "pending"), *linked = json_object_get(t, "linked");
  if ((pending && !json_is_boolean(pending)) || (linked && !json_is_boolean(linked)))
    return hanse_reject_code(rej, "ledger.bad_flag", 400,
                             "%s.pending and .linked must be booleans", where);
  json_t *timeout = json_object_get(t, "timeout");
  if (timeout) {
    if (!json_is_integer(timeout) || json_integer_value(timeout) < 1 ||
        (uint64_t)json_integer_value(timeout) > LEDGER_TIMEOUT_MAX)
      return hanse_reject_code(rej, "ledger.bad_timeout", 400,
                               "%s.timeout must be an integer of seconds from 1 to %llu", where,
                               (unsigned long long)LEDGER_TIMEOUT_MAX);
    if (!json_is_true(pending))
      return hanse_reject_code(rej, "ledger.bad_timeout", 400,
                               "%s.timeout needs \"pending\":true", where);
  }
  json_t *business = json_object_get(t, "business");
  if (business && !ledger_word_in(json_string_value(business), transfer_business))
    return hanse_reject_code(rej, "ledger.bad_business", 400,
                             "%s.business must be payment, fee, duty or refund", where);
  json_t *ref = json_object_get(t, "ref");
  if (ref && !ledger_id_valid(json_string_value(ref)))
    return hanse_reject_code(rej, "ledger.bad_ref", 400,
                             "%s.ref must be 1-%d of [A-Za-z0-9._:-]", where, LEDGER_ID_MAX);
  if (i + 1 == n && json_is_true(linked))
    return hanse_reject_code(rej, "ledger.linked_chain_open", 400,
                             "the last transfer may not be linked: its chain would stay open");
  return HANSE_OK;
}

/* One post or void: "id" valid, "amount" (post) absent or valid. `where`
 * prefixes the messages ("" for the single form, "ids[i]: "). */
static int resolve_item_check(json_t *o, int post, const char *where, hanse_reject *rej) {
  if (!ledger_id_valid(json_string_value(json_object_get(o, "id"))))
    return hanse_reject_code(rej, "ledger.bad_id", 400,
                             "%s\"id\" must be a transfer id, 1-%d of [A-Za-z0-9._:-]", where,
                             LEDGER_ID_MAX);
  json_t *amount = json_object_get(o, "amount");
  if (post && amount && !amount_valid(amount))
    return hanse_reject_code(rej, "ledger.bad_amount", 400,
                             "%s\"amount\" must be an integer from 1 to 2^63-1", where);
  return HANSE_OK;
}

/* ledger.post and ledger.void: one "id" (and "amount"), or "ids". */
static int resolve_check(const char *action, json_t *p, hanse_reject *rej) {
  static const char *const post_fields[] = {"id", "amount", "ids", NULL};
  static const char *const void_fields[] = {"id", "ids", NULL};
  int post = strcmp(action, "post") == 0;
  const char *kind = post ? "ledger.post" : "ledger.void";
  if (only_members(p, post ? post_fields : void_fields, kind, rej) != HANSE_OK)
    return HANSE_ERR(INVALID);
  json_t *ids = json_object_get(p, "ids");
  if (ids == NULL) return resolve_item_check(p, post, "", rej);
  size_t n = json_array_size(ids);
  if (json_object_get(p, "id") || json_object_get(p, "amount") || !json_is_array(ids) || n < 1 ||
      n > LEDGER_IDS_MAX)
    return hanse_reject_code(rej, "ledger.bad_ids", 400,
                             "\"ids\" must be an array of 1 to %d transfer ids%s, instead of "
                             "\"id\"%s",
                             LEDGER_IDS_MAX, post ? " or {id, amount?}" : " or {id}",
                             post ? " and \"amount\"" : "");
  for (size_t i = 0; i < n; i++) {
    static const char *const post_item[] = {"id", "amount", NULL};
    static const char *const void_item[] = {"id", NULL};
    json_t *item = json_array_get(ids, i);
    char name[32], where[40];
    snprintf(name, sizeof name, "ids[%zu]", i);
    snprintf(where, sizeof where, "%s: ", name);
    if (json_is_string(item)) {
      if (!ledger_id_valid(json_string_value(item)))
        return hanse_reject_code(rej, "ledger.bad_id", 400,
                                 "%sa transfer id is 1-%d of [A-Za-z0-9._:-]", where,
                                 LEDGER_ID_MAX);
      continue;
    }
    if (!json_is_object(item))
      return hanse_reject_code(rej, "ledger.bad_ids", 400, "%sneither a transfer id nor an object",
                               where);
    if (only_members(item, post ? post_item : void_item, name, rej) != HANSE_OK ||
        resolve_item_check(item, post, where, rej) != HANSE_OK)
      return HANSE_ERR(INVALID);
  }
  return HANSE_OK;
}

static int ledger_check(const hanse_tx *tx, const char *action, json_t *p, hanse_reject *rej) {
  (void)tx;
  if (strcmp(action, "open") == 0) {
    static const char *const fields[] = {"account", "asset", "type", "rule", NULL};
    if (only_members(p, fields, "ledger.open", rej) != HANSE_OK) return HANSE_ERR(INVALID);
    if (!ledger_id_valid(json_string_value(json_object_get(p, "account"))))
      return hanse_reject_code(rej, "ledger.bad_account", 400,
                               "\"account\" must be 1-%d of [A-Za-z0-9._:-]", LEDGER_ID_MAX);
    if (!ledger_asset_code_valid(json_string_value(json_object_get(p, "asset"))))
      return hanse_reject_code(rej, "ledger.bad_asset", 400,
                               "\"asset\" must be an asset symbol or a currency code");
    if (!ledger_word_in(json_string_value(json_object_get(p, "type")), ledger_types))
      return hanse_reject_code(rej, "ledger.bad_type", 400,
                               "\"type\" must be asset, liability, equity, revenue or expense");
    json_t *rule = json_object_get(p, "rule");
    if (rule && !ledger_word_in(json_string_value(rule), ledger_rules))
      return hanse_reject_code(rej, "ledger.bad_rule", 400,
                               "\"rule\" must be debits_must_not_exceed_credits or "
                               "credits_must_not_exceed_debits");
    return HANSE_OK;
  }
  if (strcmp(action, "transfer") == 0) {
    static const char *const fields[] = {"transfers", NULL};
    if (only_members(p, fields, "ledger.transfer", rej) != HANSE_OK) return HANSE_ERR(INVALID);
    json_t *list = json_object_get(p, "transfers");
    size_t n = json_array_size(list);
    if (!json_is_array(list) || n < 1 || n > LEDGER_TRANSFERS_MAX)
      return hanse_reject_code(rej, "ledger.bad_transfers", 400,
                               "\"transfers\" must be an array of 1 to %d transfers",
                               LEDGER_TRANSFERS_MAX);
    for (size_t i = 0; i < n; i++)
      if (ledger_transfer_check(json_array_get(list, i), i, n, rej) != HANSE_OK)
        return HANSE_ERR(INVALID);
    return HANSE_OK;
  }
  return resolve_check(action, p, rej);
}

/* ---- open ---- */

int ledger_account_open(ledger_book *b, const char *account, const char *owner,
                        const char *asset, const char *type, const char *rule,
                        const char *controller, hanse_reject *rej) {
  char key[LEDGER_KEY_MAX];
  json_t *have = NULL;
  ledger_acct *exists = NULL;
  int rc = ledger_acct_load(b, account, &exists);
  if (rc != HANSE_OK) return rc;
  if (exists)
    return hanse_reject_code(rej, "ledger.account_exists", 409, "account '%s' exists", account);
  /* an asset module asset, a token (modules/token/), or a currency */
  static const char *const defs[] = {"asset/def/", "token/def/"};
  int found = 0;
  for (size_t i = 0; i < 2 && !found; i++) {
    snprintf(key, sizeof key, "%s%s", defs[i], asset);
    rc = ledger_get(b, key, &have); /* the book: a token defined by this action */
    found = have != NULL;
    json_decref(have);
    if (rc != HANSE_OK) return rc;
  }
  if (!found && !ledger_currency_code(asset))
    return hanse_reject_code(rej, "ledger.unknown_asset", 404,
                             "'%s' is neither an issued asset, a token nor a currency code",
                             asset);
  if ((rc = ledger_conf_open_check(b, asset, rule, rej)) != HANSE_OK) return rc;
  /* the static record, written by the commit; its balances are zeros
   * until a transfer writes ledger/bal/<account> (ledger_balance.c) */
  rc = ledger_acct_new(b, account, owner, asset, type, rule, controller);
  if (rc != HANSE_OK) return rc;
  snprintf(key, sizeof key, "ledger/own/%s/%s", owner, account);
  return ledger_put(b, key, json_string(account));
}

/* An enterprise's account in a token (modules/token/) never goes below
 * zero: its rule is debits_must_not_exceed_credits (set when the request
 * names none; another is ledger.token_rule). So every token in a holder's
 * account was issued, the holders' balances sum to what is outstanding,
 * and nobody pays with tokens the issuer never backed. Accounts the token
 * or another module opens for itself (ledger_account_open) are moved only
 * by that module and are not affected. */
static int token_rule(ledger_book *b, const char *asset, const char **rule, hanse_reject *rej) {
  static const char *const limit = "debits_must_not_exceed_credits";
  char key[LEDGER_KEY_MAX];
  json_t *def = NULL;
  snprintf(key, sizeof key, "token/def/%s", asset);
  int rc = ledger_get(b, key, &def);
  int found = def != NULL;
  json_decref(def);
  if (rc != HANSE_OK || !found) return rc;
  if (*rule == NULL) *rule = limit;
  if (strcmp(*rule, limit) == 0) return HANSE_OK;
  return hanse_reject_code(rej, "ledger.token_rule", 409,
                           "an account in token '%s' must have the rule %s", asset, limit);
}

/* ---- dispatch ---- */

/* An item's id: a transfer {"id",...}, or an entry of "ids" (an id, or
 * {"id","amount"?}). */
static const char *item_id(json_t *item) {
  return json_is_string(item) ? json_string_value(item)
                              : json_string_value(json_object_get(item, "id"));
}

/* The outcome of a transaction of n items (`what`: "transfers" or "ids")
 * whose results are res[], done of them ok: when none succeeded, the
 * rejection of the first that failed on its own (not for its chain);
 * when some failed, every item's code under ledger/result/<tx> for the
 * results query. */
static int items_outcome(ledger_book *b, const hanse_tx *tx, const char *what, json_t *items,
                         const hanse_reject *res, size_t n, size_t done, hanse_reject *rej) {
  if (done == n) return HANSE_OK;
  if (done == 0) {
    size_t first = 0;
    for (size_t i = 0; i < n; i++)
      if (strcmp(res[i].code, "ledger.linked_event_failed") != 0) {
        first = i;
        break;
      }
    return hanse_reject_code(rej, res[first].code, res[first].status, "%s[%zu] '%s': %s", what,
                             first, item_id(json_array_get(items, first)), res[first].message);
  }
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < n; i++)
    if (json_array_append_new(arr, json_pack("{s:s, s:s}", "id", item_id(json_array_get(items, i)),
                                             "code", res[i].code)) != 0) {
      json_decref(arr);
      arr = NULL;
    }
  char key[LEDGER_KEY_MAX], hex[HANSE_HASH_HEX_BYTES];
  hanse_hex_encode(hex, tx->id.b, HANSE_HASH_BYTES);
  snprintf(key, sizeof key, "ledger/result/%s", hex);
  return ledger_put(b, key, arr ? json_pack("{s:o}", "results", arr) : NULL);
}

/* Post or void every entry of "ids", each on its own: res[i] its outcome,
 * *done the number that succeeded. Environmental errors only in the
 * return. */
static int resolve_many(ledger_book *b, json_t *ids, int post, hanse_reject *res, size_t *done) {
  *done = 0;
  for (size_t i = 0; i < json_array_size(ids); i++) {
    json_t *item = json_array_get(ids, i);
    json_t *amount = json_object_get(item, "amount");
    hanse_reject_clear(&res[i]);
    int rc = ledger_resolve(b, item_id(item), post,
                            amount ? (uint64_t)json_integer_value(amount) : 0, NULL, &res[i]);
    if (rc == HANSE_ERR(INVALID) && !b->ex->env_error) continue;
    if (rc != HANSE_OK) return rc;
    ledger_result_ok(&res[i], 0);
    (*done)++;
  }
  return HANSE_OK;
}

/* Run an action on book b: everything it writes, a partly failed
 * batch's results included (verify's book is what apply commits). */
static int ledger_run(ledger_book *b, const hanse_tx *tx, const char *action, json_t *p,
                      int commit, hanse_reject *rej) {
  (void)commit;
  if (strcmp(action, "open") == 0) {
    const char *asset = json_string_value(json_object_get(p, "asset"));
    const char *rule = json_string_value(json_object_get(p, "rule"));
    int rc = token_rule(b, asset, &rule, rej);
    if (rc != HANSE_OK) return rc;
    return ledger_account_open(b, json_string_value(json_object_get(p, "account")), b->owner,
                               asset, json_string_value(json_object_get(p, "type")), rule, NULL,
                               rej);
  }
  int post = strcmp(action, "post") == 0;
  json_t *items = post || strcmp(action, "void") == 0 ? json_object_get(p, "ids")
                                                      : json_object_get(p, "transfers");
  if (items == NULL) { /* the single form of post and void */
    json_t *amount = json_object_get(p, "amount");
    return ledger_resolve(b, json_string_value(json_object_get(p, "id")), post,
                          amount ? (uint64_t)json_integer_value(amount) : 0, NULL, rej);
  }
  int transfers = strcmp(action, "transfer") == 0;
  size_t n = json_array_size(items), done = 0;
  hanse_reject *res = calloc(n, sizeof *res);
  if (res == NULL) {
    b->ex->env_error = 1;
    return HANSE_ERR(NOMEM);
  }
  int rc = transfers ? ledger_transfers_run(b, items, res, &done)
                     : resolve_many(b, items, post, res, &done);
  if (rc == HANSE_OK)
    rc = items_outcome(b, tx, transfers ? "transfers" : "ids", items, res, n, done, rej);
  free(res);
  return rc;
}

LEDGER_BOOK_STEPS(ledger, "ledger", ledger_run)

const hanse_module hanse_module_ledger = {
    .name = "ledger",
    .actions = ledger_actions,
    .queries = ledger_queries,
    .owner_queries = ledger_owner_queries,
    .check = ledger_check,
    .verify = ledger_verify,
    .apply = ledger_apply,
    .query = ledger_query,
    .data_class = "financial",
};
