/*
 * token/token_move.c -- the actions that move tokens: issue, redeem, and
 * withdraw (unspent discount funds back to a loyalty token's issuer).
 *
 * Each is one ledger transfer that the module makes with controller
 * "token" on the action's book (token.h), then the books, then a history
 * row -- all on the book, so they are committed together or not at all:
 *
 *   issue     issuance account -> holder's account     by the issuer
 *   redeem    holder's account -> issuance account     by the holder
 *   withdraw  discount account -> issuer's own account by the issuer
 *
 * A currency token's issue must leave no more outstanding (issued minus
 * come back, the issuance account's posted debits minus credits) than the
 * reserve last attested: token.unbacked. The ledger checks everything
 * else on the transfer (the account exists and holds the token, a redeem
 * debits the signer's own account and not beyond its balance, a
 * controlled account is not touched) and its rejections become the
 * token's ("ledger.exceeds_credits" is "token.exceeds_credits").
 *
 * Books: a currency token's issue is BOOKS_ISSUE and its redeem
 * BOOKS_REDEEM, both parties' entries in the token's commodity (the
 * issuer is the payer of an issue and the payee of a redeem). A loyalty
 * token books only in its issuer's books (BOOKS_LOYALTY: an expense and a
 * liability while the points are out); the holder books nothing. Moves
 * within one enterprise book nothing.
 *
 * The same request again (same op, token, account and ref) names the
 * same transfer: it succeeds and changes nothing -- no second entry, no
 * second history row.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/hex.h"
#include "base/log.h"
#include "crypto/hash.h"
#include "modules/books/books.h"
#include "modules/token/token.h"

/* One move: what the payload says, and what it became. */
typedef struct move {
  const char *op, *symbol, *account, *ref;
  uint64_t amount;
  json_t *def;    /* owned */
  ledger_acct *acct; /* the account the payload names, borrowed from the book */
  const char *issuer, *holder; /* borrowed from def and acct */
  char xfer[LEDGER_ID_MAX + 1];
  int exists;     /* the transfer was made before: nothing to do */
} move;

static void move_free(move *m) {
  json_decref(m->def);
}

/* Load the token and the named account; the account must not be one of
 * the token's own. */
static int move_load(ledger_book *b, const char *op, json_t *p, move *m, hanse_reject *rej) {
  memset(m, 0, sizeof *m);
  m->op = op;
  m->symbol = json_string_value(json_object_get(p, "symbol"));
  m->account = json_string_value(json_object_get(p, "account"));
  m->ref = json_string_value(json_object_get(p, "ref"));
  m->amount = (uint64_t)json_integer_value(json_object_get(p, "amount"));
  int rc = token_def_load(b, m->symbol, &m->def, rej);
  if (rc != HANSE_OK) return rc;
  m->issuer = json_string_value(json_object_get(m->def, "issuer"));
  const char *own[] = {json_string_value(json_object_get(m->def, "issuance_account")),
                       json_string_value(json_object_get(m->def, "discount_account"))};
  for (size_t i = 0; i < 2; i++)
    if (own[i] && strcmp(own[i], m->account) == 0)
      return hanse_reject_code(rej, "token.own_account", 409,
                               "'%s' is the token's own account, not a holder's", m->account);
  rc = ledger_acct_load(b, m->account, &m->acct);
  if (rc == HANSE_OK && m->acct == NULL)
    rc = hanse_reject_code(rej, "token.no_account", 404, "no account '%s'", m->account);
  if (rc == HANSE_OK) m->holder = m->acct->owner;
  return rc;
}

static int issuer_only(ledger_book *b, const move *m, hanse_reject *rej) {
  if (strcmp(m->issuer, b->owner) == 0) return HANSE_OK;
  return hanse_reject_code(rej, "token.not_issuer", 403,
                           "only '%s', the issuer of %s, may %s it; the signer is '%s'",
                           m->issuer, m->symbol, m->op, b->owner);
}

/* The ledger transfer of a move: its id from (op, token, account, ref). */
static int move_transfer(ledger_book *b, move *m, const char *debit, const char *credit,
                         int signer_owns, hanse_reject *rej) {
  char text[3 * LEDGER_ID_MAX + 16], hex[HANSE_HASH_HEX_BYTES];
  int n = snprintf(text, sizeof text, "%s\n%s\n%s\n%s", m->op, m->symbol, m->account, m->ref);
  HANSE_ASSERT(n > 0 && (size_t)n < sizeof text);
  hanse_hash h;
  hanse_sha256(&h, text, (size_t)n);
  hanse_hex_encode(hex, h.b, HANSE_HASH_BYTES);
  snprintf(m->xfer, sizeof m->xfer, "token:%.*s", TOKEN_XFER_HEX, hex);
  json_t *t = json_pack("{s:s, s:s, s:s, s:I, s:s}", "id", m->xfer, "debit", debit, "credit",
                        credit, "amount", (json_int_t)m->amount, "ref", m->ref);
  if (t == NULL) {
    b->ex->env_error = 1;
    return HANSE_ERR(NOMEM);
  }
  const ledger_xfer_opts o = {signer_owns, TOKEN_MODULE};
  int rc = ledger_transfer_make(b, t, 0, &o, &m->exists, rej);
  json_decref(t);
  if (rc == HANSE_ERR(INVALID) && !b->ex->env_error) return token_reject_from_ledger(rej);
  return rc;
}

/* The history row of a move that happened. */
static int move_record(ledger_book *b, const move *m) {
  hanse_exec *ex = b->ex;
  char key[LEDGER_KEY_MAX], txhex[HANSE_HASH_HEX_BYTES];
  hanse_hex_encode(txhex, ex->tx->id.b, HANSE_HASH_BYTES);
  json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "op", m->op, "account",
                          m->account, "owner", m->holder, "ref", m->ref, "transfer", m->xfer,
                          "tx", txhex, "height", (json_int_t)ex->height, "time",
                          (json_int_t)ex->time_ms);
  if (rec == NULL || ledger_u64_set(rec, "amount", m->amount) != HANSE_OK) {
    json_decref(rec);
    ex->env_error = 1;
    return HANSE_ERR(NOMEM);
  }
  snprintf(key, sizeof key, "token/hist/%s/%020" PRIu64 "%07" PRIu32, m->symbol, ex->height,
           ex->tx_index);
  return ledger_put(b, key, rec);
}

/* Book a move between the issuer and the holder: `type` for a currency
 * token, the issuer's loyalty entry for a loyalty token. issuer_pays: the
 * issuer gives the tokens (issue). */
static int move_book(ledger_book *b, const move *m, const char *type, int issuer_pays) {
  if (strcmp(m->issuer, m->holder) == 0) return HANSE_OK;
  if (strcmp(json_string_value(json_object_get(m->def, "kind")), TOKEN_LOYALTY) == 0)
    return books_post_side(b, m->issuer, issuer_pays ? BOOKS_PAYER : BOOKS_PAYEE, BOOKS_LOYALTY,
                           m->holder, m->symbol, m->amount, m->ref, NULL);
  books_event ev = {type,     issuer_pays ? m->issuer : m->holder,
                    issuer_pays ? m->holder : m->issuer,
                    m->symbol, m->amount, m->ref, NULL};
  return books_post(b, &ev);
}

/* A currency token may not have more outstanding than its reserve. */
static int backed(ledger_book *b, const move *m, hanse_reject *rej) {
  if (strcmp(json_string_value(json_object_get(m->def, "kind")), TOKEN_CURRENCY) != 0)
    return HANSE_OK;
  uint64_t issued, back, reserve = 0;
  int rc = token_circulation(b, m->def, &issued, &back);
  char key[LEDGER_KEY_MAX];
  json_t *last = NULL;
  token_key_backing(key, m->symbol);
  if (rc == HANSE_OK) rc = ledger_get(b, key, &last);
  if (rc == HANSE_OK && last) rc = ledger_u64_get(last, "reserve", &reserve);
  json_decref(last);
  if (rc != HANSE_OK) return rc;
  uint64_t outstanding = issued > back ? issued - back : 0;
  if (outstanding <= reserve) return HANSE_OK;
  return hanse_reject_code(rej, "token.unbacked", 409,
                           "%" PRIu64 " %s would be outstanding against an attested reserve of "
                           "%" PRIu64,
                           outstanding, m->symbol, reserve);
}

int token_issue(ledger_book *b, json_t *p, hanse_reject *rej) {
  move m;
  int rc = move_load(b, "issue", p, &m, rej);
  if (rc == HANSE_OK) rc = issuer_only(b, &m, rej);
  if (rc == HANSE_OK)
    rc = move_transfer(b, &m, json_string_value(json_object_get(m.def, "issuance_account")),
                       m.account, 0, rej);
  if (rc == HANSE_OK && !m.exists) rc = backed(b, &m, rej);
  if (rc == HANSE_OK && !m.exists) rc = move_book(b, &m, BOOKS_ISSUE, 1);
  if (rc == HANSE_OK && !m.exists) rc = move_record(b, &m);
  move_free(&m);
  return rc;
}

int token_redeem(ledger_book *b, json_t *p, hanse_reject *rej) {
  move m;
  int rc = move_load(b, "redeem", p, &m, rej);
  /* signer_owns: the signer's enterprise must hold the account */
  if (rc == HANSE_OK)
    rc = move_transfer(b, &m, m.account,
                       json_string_value(json_object_get(m.def, "issuance_account")), 1, rej);
  if (rc == HANSE_OK && !m.exists) rc = move_book(b, &m, BOOKS_REDEEM, 0);
  if (rc == HANSE_OK && !m.exists) rc = move_record(b, &m);
  move_free(&m);
  return rc;
}

int token_withdraw(ledger_book *b, json_t *p, hanse_reject *rej) {
  move m;
  int rc = move_load(b, "withdraw", p, &m, rej);
  if (rc == HANSE_OK) rc = issuer_only(b, &m, rej);
  const char *discounts = json_string_value(json_object_get(m.def, "discount_account"));
  if (rc == HANSE_OK && discounts == NULL)
    rc = hanse_reject_code(rej, "token.not_loyalty", 409,
                           "'%s' is a currency token: it has no discount account", m.symbol);
  if (rc == HANSE_OK && strcmp(m.holder, m.issuer) != 0)
    rc = hanse_reject_code(rej, "token.not_owner", 403,
                           "discount funds go back only to an account of '%s'", m.issuer);
  if (rc == HANSE_OK) rc = move_transfer(b, &m, discounts, m.account, 0, rej);
  if (rc == HANSE_OK && !m.exists) rc = move_record(b, &m);
  move_free(&m);
  return rc;
}
