/*
 * books/books_post.c -- writing the books: the chart, entries, and the
 * entries of a business transaction (books.h).
 *
 * Everything here writes through the ledger_book overlay of the action
 * that runs (ledger_get / ledger_put), so an entry is written together
 * with the ledger transfer or module action it books, or not at all: a
 * failing linked chain restores the overlay, verify throws it away.
 *
 * An entry's number is the owner's next (books/seq/<owner>), so each
 * enterprise's journal is a gap-free sequence in the order the chain
 * executed its business. Every entry balances per asset on its own: an
 * automatic one has two lines of one amount, a manual one is checked
 * (books.c), a reversal swaps a balanced entry's sides. That is why the
 * books always balance; the trial balance (books_query.c) computes it
 * rather than trusting it.
 *
 * A business type with neither an own rule nor a default is a bug in the
 * module that booked it (books.rules accepts only types with a default),
 * not bad input: HANSE_ERR(INTERNAL), the block is abandoned.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/hex.h"
#include "base/log.h"
#include "modules/books/books.h"

static int books_bug(ledger_book *b, const char *what, const char *detail) {
  HANSE_ERROR("books: %s: %s", what, detail ? detail : "");
  b->ex->env_error = 1;
  return HANSE_ERR(INTERNAL);
}

int books_chart_open(ledger_book *b, const char *owner, const char *account, const char *name) {
  const char *type = books_account_type(account);
  if (type == NULL || owner == NULL) return books_bug(b, "not an account name", account);
  char key[BOOKS_KEY_MAX];
  json_t *have = NULL;
  snprintf(key, sizeof key, "books/acct/%s/%s", owner, account);
  int rc = ledger_get(b, key, &have);
  if (rc != HANSE_OK) return rc;
  if (have) {
    const char *old = json_string_value(json_object_get(have, "name"));
    if (name == NULL || (old && strcmp(old, name) == 0)) { /* nothing changes */
      json_decref(have);
      return HANSE_OK;
    }
    json_t *rec = json_deep_copy(have);
    json_decref(have);
    if (rec) json_object_set_new(rec, "name", json_string(name));
    return ledger_put(b, key, rec);
  }
  json_t *rec = json_pack("{s:s, s:s, s:I}", "account", account, "type", type, "opened_at",
                          (json_int_t)b->ex->height);
  if (rec && name) json_object_set_new(rec, "name", json_string(name));
  return ledger_put(b, key, rec);
}

static int index_put(ledger_book *b, const char *key, json_t *val) {
  return ledger_put(b, key, val ? val : json_string(""));
}

int books_entry_write(ledger_book *b, json_t *e, uint64_t *seq_out) {
  hanse_exec *ex = b->ex;
  const char *owner = json_string_value(json_object_get(e, "owner"));
  json_t *lines = json_object_get(e, "lines");
  char key[BOOKS_KEY_MAX], txhex[HANSE_HASH_HEX_BYTES], by[HANSE_HASH_HEX_BYTES];
  json_t *last = NULL;
  int rc;
  if (owner == NULL || json_array_size(lines) < 2) {
    rc = books_bug(b, "an entry without owner or lines", owner);
    goto out;
  }
  snprintf(key, sizeof key, "books/seq/%s", owner);
  if ((rc = ledger_get(b, key, &last)) != HANSE_OK) goto out;
  if (last && (!json_is_integer(last) || json_integer_value(last) < 1 ||
               (uint64_t)json_integer_value(last) >= BOOKS_SEQ_MAX)) {
    json_decref(last);
    rc = books_bug(b, "the entry counter is not a number below its bound", key);
    goto out;
  }
  uint64_t seq = last ? (uint64_t)json_integer_value(last) + 1 : 1;
  json_decref(last);
  if ((rc = ledger_put(b, key, json_integer((json_int_t)seq))) != HANSE_OK) goto out;
  hanse_hex_encode(txhex, ex->tx->id.b, HANSE_HASH_BYTES);
  hanse_pubkey_hex(by, &ex->tx->signer);
  json_object_set_new(e, "seq", json_integer((json_int_t)seq));
  json_object_set_new(e, "tx", json_string(txhex));
  json_object_set_new(e, "height", json_integer((json_int_t)ex->height));
  json_object_set_new(e, "time", json_integer((json_int_t)ex->time_ms));
  json_object_set_new(e, "by", json_string(by));
  for (size_t i = 0; i < json_array_size(lines) && rc == HANSE_OK; i++)
    rc = books_chart_open(
        b, owner, json_string_value(json_object_get(json_array_get(lines, i), "account")), NULL);
  const char *cp = json_string_value(json_object_get(e, "counterparty"));
  json_t *reverses = json_object_get(e, "reverses");
  snprintf(key, sizeof key, "books/tx/%s/%s/%0*" PRIu64, txhex, owner, BOOKS_SEQ_DIGITS, seq);
  if (rc == HANSE_OK) rc = index_put(b, key, NULL);
  snprintf(key, sizeof key, "books/cp/%s/%s/%0*" PRIu64, owner, cp ? cp : "", BOOKS_SEQ_DIGITS,
           seq);
  if (rc == HANSE_OK && cp) rc = index_put(b, key, NULL);
  snprintf(key, sizeof key, "books/rev/%s/%0*" PRIu64, owner, BOOKS_SEQ_DIGITS,
           (uint64_t)json_integer_value(reverses));
  if (rc == HANSE_OK && reverses) rc = index_put(b, key, json_integer((json_int_t)seq));
  snprintf(key, sizeof key, "books/je/%s/%0*" PRIu64, owner, BOOKS_SEQ_DIGITS, seq);
  if (rc == HANSE_OK) {
    rc = ledger_put(b, key, e);
    e = NULL;
  }
  if (rc == HANSE_OK && seq_out) *seq_out = seq;
out:
  json_decref(e);
  return rc;
}

int books_post_side(ledger_book *b, const char *owner, books_role role, const char *type,
                    const char *counterparty, const char *asset, uint64_t amount,
                    const char *ref, const char *memo) {
  if (owner == NULL || type == NULL || asset == NULL || amount == 0)
    return books_bug(b, "a business transaction without owner, type, asset or amount", type);
  char key[BOOKS_KEY_MAX], num[24];
  json_t *own = NULL;
  const char *debit, *credit;
  snprintf(key, sizeof key, "books/rule/%s/%s/%s", owner, type, books_role_name(role));
  int rc = ledger_get(b, key, &own);
  if (rc != HANSE_OK) return rc;
  if (own) {
    debit = json_string_value(json_object_get(own, "debit"));
    credit = json_string_value(json_object_get(own, "credit"));
    if (debit == NULL || credit == NULL) {
      json_decref(own);
      return books_bug(b, "a rule without accounts", key);
    }
  } else if (books_default_rule(type, role, &debit, &credit) != HANSE_OK) {
    return books_bug(b, "no posting rule for the business type", type);
  }
  snprintf(num, sizeof num, "%" PRIu64, amount);
  json_t *e = json_pack("{s:s, s:s, s:s, s:[{s:s, s:s, s:s}, {s:s, s:s, s:s}]}", "owner", owner,
                        "type", type, "role", books_role_name(role), "lines", "account", debit,
                        "asset", asset, "debit", num, "account", credit, "asset", asset,
                        "credit", num);
  json_decref(own);
  if (e == NULL) {
    b->ex->env_error = 1;
    return HANSE_ERR(NOMEM);
  }
  if (counterparty) json_object_set_new(e, "counterparty", json_string(counterparty));
  if (ref) json_object_set_new(e, "ref", json_string(ref));
  if (memo) json_object_set_new(e, "memo", json_string(memo));
  return books_entry_write(b, e, NULL);
}

int books_post(ledger_book *b, const books_event *ev) {
  if (ev->payer == NULL || ev->payee == NULL)
    return books_bug(b, "a business transaction without both parties", ev->type);
  if (strcmp(ev->payer, ev->payee) == 0) return HANSE_OK; /* within one enterprise */
  int rc = books_post_side(b, ev->payer, BOOKS_PAYER, ev->type, ev->payee, ev->asset, ev->amount,
                           ev->ref, ev->memo);
  if (rc != HANSE_OK) return rc;
  return books_post_side(b, ev->payee, BOOKS_PAYEE, ev->type, ev->payer, ev->asset, ev->amount,
                         ev->ref, ev->memo);
}
