/*
 * ledger/ledger_transfer.c -- transfers, linked chains, two-phase
 * transfers and their expiry, all on a book (ledger_book.c).
 *
 * A transfer of amount A from debit account D to credit account C:
 *
 *   single-phase      D.debits_posted  += A   C.credits_posted  += A
 *   pending           D.debits_pending += A   C.credits_pending += A
 *
 * and the asset's totals change the same two fields by A. A pending
 * transfer then leaves the pending state exactly once:
 *
 *                 post (amount P <= A, default A)
 *   pending  ---------------------------------------->  posted
 *     |   \          D.debits_pending  -= A, D.debits_posted  += P,
 *     |    \         C.credits_pending -= A, C.credits_posted += P
 *     |     \  void
 *     |      '----------------------------------------> voided
 *     |  block time >= expires_at   (both: pending -= A, nothing posted)
 *     '-----------------------------------------------> expired
 *
 * Every step changes a debit field and a credit field by the same amount,
 * which is why the totals stay balanced.
 *
 * Idempotency: a transfer's id is its identity. Its record keeps the
 * request's fields (id, debit, credit, amount, code, pending, timeout,
 * linked; false flags are left out), so a request with the same id is
 * compared field by field: the same is "ledger.exists" -- a success that
 * changes nothing, whatever became of the transfer since -- and anything
 * else "ledger.id_conflict". A failed transfer leaves no record: its id
 * stays free for a corrected request.
 *
 * Checks, first failure wins: id (exists / id_conflict), accounts exist
 * (no_account), same asset (asset_mismatch), the signer's enterprise owns
 * the debit account (not_owner), the amount's form suits the asset
 * (ledger_conf_admit: clear, or a commitment where the policy says so),
 * no balance or total overflows 2^64-1 (overflow), the balance rules
 * (exceeds_credits, exceeds_debits). All
 * are made before the transfer writes anything, so a lone failing
 * transfer needs no undo; a linked chain restores a snapshot of the book.
 *
 * Expiry is deterministic and needs no timer: a pending transfer with a
 * timeout gets expires_at = block time + timeout and an index key
 * ledger/exp/<expires_at, 20 digits>/<id>. The first ledger transaction
 * of each block -- before anything else it does -- scans that index in
 * time order, as the block found it, and expires every transfer due at
 * the block's time (ledger_sweep); ledger/sweep then holds the height,
 * so the block's later ledger transactions skip it. A block's time is one
 * instant and a timeout is at least a second, so nothing falls due later
 * in the same block. Until some ledger transaction runs, queries still
 * show a due transfer as pending; no transaction can observe it so.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "base/log.h"
#include "modules/books/books.h"
#include "modules/ledger/ledger.h"

#define LEDGER_EXP_PREFIX "ledger/exp/"
#define LEDGER_SWEEP_KEY "ledger/sweep"

static const char *const request_fields[] = {"id",      "debit",   "credit",   "amount",
                                             "code",    "pending", "timeout",  "linked",
                                             "business", "ref",    NULL};

/* The request's fields as a transfer record keeps them: false flags left
 * out, so {"pending":false} and no "pending" are the same request. */
static json_t *request_normal(json_t *t) {
  json_t *n = json_object();
  for (size_t i = 0; n && request_fields[i]; i++) {
    json_t *v = json_object_get(t, request_fields[i]);
    if (v == NULL || json_is_false(v)) continue;
    json_object_set(n, request_fields[i], v);
  }
  return n;
}

static int same_request(json_t *norm, json_t *rec) {
  for (size_t i = 0; request_fields[i]; i++) {
    json_t *a = json_object_get(norm, request_fields[i]);
    json_t *b = json_object_get(rec, request_fields[i]);
    if ((a == NULL) != (b == NULL) || (a && !json_equal(a, b))) return 0;
  }
  return 1;
}

/* The debit account, credit account and totals of one transfer, as
 * copies to change; stored together by sides_store. */
typedef struct sides {
  json_t *d, *c, *t;
  char kd[LEDGER_KEY_MAX], kc[LEDGER_KEY_MAX], kt[LEDGER_KEY_MAX];
} sides;

static void sides_free(sides *s) {
  json_decref(s->d);
  json_decref(s->c);
  json_decref(s->t);
}

/* Copy `stored` (a new reference, consumed) into *out for changing. */
static int copy_of(ledger_book *b, json_t *stored, json_t **out) {
  *out = json_deep_copy(stored);
  json_decref(stored);
  if (*out == NULL) {
    b->ex->env_error = 1;
    return HANSE_ERR(NOMEM);
  }
  return HANSE_OK;
}

/* Load both accounts (NULL when absent) and the asset's totals (zeros when
 * the asset has none yet). */
static int sides_load(ledger_book *b, const char *debit, const char *credit, sides *s) {
  memset(s, 0, sizeof *s);
  json_t *d = NULL, *c = NULL, *t = NULL;
  ledger_key_acct(s->kd, debit);
  ledger_key_acct(s->kc, credit);
  int rc = ledger_get(b, s->kd, &d);
  if (rc == HANSE_OK) rc = ledger_get(b, s->kc, &c);
  if (rc != HANSE_OK || d == NULL || c == NULL) {
    s->d = d;
    s->c = c;
    return rc;
  }
  const char *asset = json_string_value(json_object_get(d, "asset"));
  ledger_key_totals(s->kt, asset);
  rc = ledger_get(b, s->kt, &t);
  if (rc == HANSE_OK && t == NULL) t = json_pack("{s:s}", "asset", asset);
  if (rc == HANSE_OK) rc = copy_of(b, d, &s->d);
  else json_decref(d);
  if (rc == HANSE_OK) rc = copy_of(b, c, &s->c);
  else json_decref(c);
  if (rc == HANSE_OK) rc = copy_of(b, t, &s->t);
  else json_decref(t);
  return rc;
}

static int sides_store(ledger_book *b, sides *s) {
  int rc = ledger_put(b, s->kd, s->d);
  s->d = NULL;
  if (rc == HANSE_OK) rc = ledger_put(b, s->kc, s->c);
  s->c = NULL;
  if (rc == HANSE_OK) rc = ledger_put(b, s->kt, s->t);
  s->t = NULL;
  return rc;
}

/* field := field - sub + add. 1 on overflow (nothing changed); a result
 * below zero is a bug (the module only takes back what it put). */
static int field_move(json_t *o, const char *field, uint64_t sub, uint64_t add, int *overflow) {
  uint64_t v;
  int rc = ledger_u64_get(o, field, &v);
  if (rc != HANSE_OK) return rc;
  if (v < sub) {
    HANSE_ERROR("ledger: %s would go below zero", field);
    return HANSE_ERR(INTERNAL);
  }
  v -= sub;
  if (v > UINT64_MAX - add) {
    *overflow = 1;
    return HANSE_OK;
  }
  return ledger_u64_set(o, field, v + add);
}

/* Move the four fields a transfer step touches: debits `df` on D and T,
 * credits `cf` on C and T, each by -sub +add. */
static int sides_move(sides *s, const char *df, const char *cf, uint64_t sub, uint64_t add,
                      int *overflow) {
  int rc = field_move(s->d, df, sub, add, overflow);
  if (rc == HANSE_OK && !*overflow) rc = field_move(s->c, cf, sub, add, overflow);
  if (rc == HANSE_OK && !*overflow) rc = field_move(s->t, df, sub, add, overflow);
  if (rc == HANSE_OK && !*overflow) rc = field_move(s->t, cf, sub, add, overflow);
  return rc;
}

/* a + b + c <= limit, without overflowing. */
static int within(uint64_t a, uint64_t b, uint64_t c, uint64_t limit) {
  return a <= limit && b <= limit - a && c <= limit - a - b;
}

/* One balance rule of one account: when acct has `rule`, its `side`
 * (pending + posted + amount) must stay within the other side's posted
 * sum. */
static int rule_one(json_t *acct, const char *rule, const char *pending_f, const char *posted_f,
                    const char *limit_f, uint64_t amount, const char *code, hanse_reject *rej) {
  const char *have = json_string_value(json_object_get(acct, "rule"));
  if (have == NULL || strcmp(have, rule) != 0) return HANSE_OK;
  uint64_t pending, posted, limit;
  if (ledger_u64_get(acct, pending_f, &pending) != HANSE_OK ||
      ledger_u64_get(acct, posted_f, &posted) != HANSE_OK ||
      ledger_u64_get(acct, limit_f, &limit) != HANSE_OK)
    return HANSE_ERR(INTERNAL);
  if (within(pending, posted, amount, limit)) return HANSE_OK;
  return hanse_reject_code(rej, code, 409, "%" PRIu64 " more would break '%s': %s",
                           amount, json_string_value(json_object_get(acct, "id")), rule);
}

static int rule_check(sides *s, uint64_t amount, hanse_reject *rej) {
  int rc = rule_one(s->d, "debits_must_not_exceed_credits", LEDGER_DEBITS_PENDING,
                    LEDGER_DEBITS_POSTED, LEDGER_CREDITS_POSTED, amount,
                    "ledger.exceeds_credits", rej);
  if (rc != HANSE_OK) return rc;
  return rule_one(s->c, "credits_must_not_exceed_debits", LEDGER_CREDITS_PENDING,
                  LEDGER_CREDITS_POSTED, LEDGER_DEBITS_POSTED, amount, "ledger.exceeds_debits",
                  rej);
}

static int owner_check(ledger_book *b, json_t *acct, hanse_reject *rej) {
  const char *owner = json_string_value(json_object_get(acct, "owner"));
  if (owner && strcmp(owner, b->owner) == 0) return HANSE_OK;
  return hanse_reject_code(rej, "ledger.not_owner", 403,
                           "account '%s' belongs to '%s', not to the signer's '%s'",
                           json_string_value(json_object_get(acct, "id")), owner ? owner : "",
                           b->owner);
}

/* May this transfer debit account `acct`? The signer's enterprise must own
 * it when o->signer_owns (otherwise the calling module vouches), and an
 * account a module controls is debited only by that module. */
static int debit_check(ledger_book *b, json_t *acct, const ledger_xfer_opts *o,
                       hanse_reject *rej) {
  const char *ctl = json_string_value(json_object_get(acct, "controller"));
  if (ctl && (o->controller == NULL || strcmp(ctl, o->controller) != 0))
    return hanse_reject_code(rej, "ledger.controlled", 403,
                             "account '%s' is moved only by the %s module",
                             json_string_value(json_object_get(acct, "id")), ctl);
  return o->signer_owns ? owner_check(b, acct, rej) : HANSE_OK;
}

/* Book a posted amount in both parties' books (books.h), unless a module
 * controls the transfer: that module books what it means. */
static int book_posted(ledger_book *b, json_t *rec, json_t *d, json_t *c, uint64_t amount) {
  if (json_object_get(rec, "controller") || amount == 0) return HANSE_OK;
  const char *business = json_string_value(json_object_get(rec, "business"));
  const char *ref = json_string_value(json_object_get(rec, "ref"));
  books_event ev = {business ? business : BOOKS_PAYMENT,
                    json_string_value(json_object_get(d, "owner")),
                    json_string_value(json_object_get(c, "owner")),
                    json_string_value(json_object_get(rec, "asset")),
                    amount,
                    ref ? ref : json_string_value(json_object_get(rec, "id")),
                    NULL};
  return books_post(b, &ev);
}

static int put_index(ledger_book *b, const char *account, const char *pos, const char *id) {
  char key[LEDGER_KEY_MAX];
  snprintf(key, sizeof key, "ledger/acx/%s/%s", account, pos);
  return ledger_put(b, key, json_string(id));
}

static void exp_key(char key[LEDGER_KEY_MAX], uint64_t at_ms, const char *id) {
  snprintf(key, LEDGER_KEY_MAX, LEDGER_EXP_PREFIX "%020" PRIu64 "/%s", at_ms, id);
}

int ledger_transfer_make(ledger_book *b, json_t *t, size_t place, const ledger_xfer_opts *o,
                         int *exists, hanse_reject *rej) {
  const char *id = json_string_value(json_object_get(t, "id"));
  char key[LEDGER_KEY_MAX];
  *exists = 0;
  json_t *norm = request_normal(t), *old = NULL;
  if (norm == NULL) {
    b->ex->env_error = 1;
    return HANSE_ERR(NOMEM);
  }
  ledger_key_xfer(key, id);
  int rc = ledger_get(b, key, &old);
  if (rc != HANSE_OK || old) {
    if (rc == HANSE_OK && same_request(norm, old))
      *exists = 1;
    else if (rc == HANSE_OK)
      rc = hanse_reject_code(rej, "ledger.id_conflict", 409,
                             "transfer '%s' exists with other fields", id);
    json_decref(old);
    json_decref(norm);
    return rc;
  }
  const char *debit = json_string_value(json_object_get(t, "debit"));
  const char *credit = json_string_value(json_object_get(t, "credit"));
  uint64_t amount = (uint64_t)json_integer_value(json_object_get(t, "amount"));
  int pending = json_is_true(json_object_get(t, "pending"));
  sides s;
  int overflow = 0;
  rc = sides_load(b, debit, credit, &s);
  if (rc != HANSE_OK) goto out;
  if (s.d == NULL || s.c == NULL) {
    rc = hanse_reject_code(rej, "ledger.no_account", 404, "no account '%s'",
                           s.d == NULL ? debit : credit);
    goto out;
  }
  const char *asset = json_string_value(json_object_get(s.d, "asset"));
  if (!json_equal(json_object_get(s.d, "asset"), json_object_get(s.c, "asset"))) {
    rc = hanse_reject_code(rej, "ledger.asset_mismatch", 409,
                           "'%s' holds %s and '%s' holds %s", debit, asset, credit,
                           json_string_value(json_object_get(s.c, "asset")));
    goto out;
  }
  if ((rc = debit_check(b, s.d, o, rej)) != HANSE_OK) goto out;
  int conf; /* a commitment instead of an amount (ledger_conf.c) */
  if ((rc = ledger_conf_admit(b, t, s.d, s.c, &conf, rej)) != HANSE_OK) goto out;
  if ((rc = rule_check(&s, amount, rej)) != HANSE_OK) goto out;
  const char *df = pending ? LEDGER_DEBITS_PENDING : LEDGER_DEBITS_POSTED;
  const char *cf = pending ? LEDGER_CREDITS_PENDING : LEDGER_CREDITS_POSTED;
  rc = conf ? ledger_conf_move(s.d, s.c, s.t, df, cf, json_object_get(t, "amount"), 1)
            : sides_move(&s, df, cf, 0, amount, &overflow);
  if (rc != HANSE_OK) goto out;
  if (overflow) {
    rc = hanse_reject_code(rej, "ledger.overflow", 409,
                           "%" PRIu64 " more would overflow a balance or total of %s", amount,
                           asset);
    goto out;
  }
  /* Every check passed: write. */
  hanse_exec *ex = b->ex;
  char txhex[HANSE_HASH_HEX_BYTES], pos[40];
  hanse_hex_encode(txhex, ex->tx->id.b, HANSE_HASH_BYTES);
  json_t *rec = norm;
  norm = NULL;
  json_object_set_new(rec, "asset", json_string(asset));
  json_object_set_new(rec, "status", json_string(pending ? "pending" : "posted"));
  json_object_set_new(rec, "tx", json_string(txhex));
  json_object_set_new(rec, "height", json_integer((json_int_t)ex->height));
  if (o->controller) json_object_set_new(rec, "controller", json_string(o->controller));
  json_t *timeout = json_object_get(t, "timeout");
  uint64_t expires_at = 0;
  if (timeout) {
    expires_at = ex->time_ms + (uint64_t)json_integer_value(timeout) * 1000u;
    json_object_set_new(rec, "expires_at", json_integer((json_int_t)expires_at));
  }
  /* a confidential amount is booked by the parties' clients */
  if (!pending && !conf) rc = book_posted(b, rec, s.d, s.c, amount);
  if (rc == HANSE_OK) rc = sides_store(b, &s);
  if (rc == HANSE_OK) rc = ledger_put(b, key, rec);
  else json_decref(rec);
  snprintf(pos, sizeof pos, "%020" PRIu64 "%07" PRIu32 "%04zu", ex->height, ex->tx_index, place);
  if (rc == HANSE_OK) rc = put_index(b, debit, pos, id);
  if (rc == HANSE_OK) rc = put_index(b, credit, pos, id);
  if (rc == HANSE_OK && conf) rc = ledger_conf_index(b, asset, pos, id);
  if (rc == HANSE_OK && timeout) {
    exp_key(key, expires_at, id);
    rc = ledger_put(b, key, json_string(id));
  }
out:
  sides_free(&s);
  json_decref(norm);
  return rc;
}

int ledger_transfer_controlled(ledger_book *b, const char *tid, const char *debit,
                               const char *credit, uint64_t amount, const char *ref,
                               size_t place, int signer_owns, const char *controller,
                               hanse_reject *rej) {
  HANSE_ASSERT(controller != NULL && amount >= 1 && amount <= LEDGER_AMOUNT_MAX);
  json_t *t = json_pack("{s:s, s:s, s:s, s:I, s:s}", "id", tid, "debit", debit, "credit", credit,
                        "amount", (json_int_t)amount, "ref", ref);
  if (t == NULL) {
    b->ex->env_error = 1;
    return HANSE_ERR(NOMEM);
  }
  ledger_xfer_opts o = {signer_owns, controller};
  int exists = 0;
  int rc = ledger_transfer_make(b, t, place, &o, &exists, rej);
  json_decref(t);
  if (rc == HANSE_OK && exists) {
    char code[HANSE_REJECT_CODE_MAX];
    snprintf(code, sizeof code, "%s.id_conflict", controller);
    rc = hanse_reject_code(rej, code, 409, "ledger transfer '%s' exists", tid);
  }
  return rc;
}

/* A success: "ok", or "ledger.exists" for a transfer made before. */
static void result_ok(hanse_reject *r, int exists) {
  r->rc = HANSE_OK;
  r->status = 200;
  snprintf(r->code, sizeof r->code, "%s", exists ? "ledger.exists" : "ok");
  snprintf(r->message, sizeof r->message, "%s",
           exists ? "the transfer exists with these fields; nothing changed" : "");
}

int ledger_transfers_run(ledger_book *b, json_t *list, hanse_reject *res, size_t *done) {
  size_t n = json_array_size(list);
  *done = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i; /* the chain is i..j */
    while (j + 1 < n && json_is_true(json_object_get(json_array_get(list, j), "linked"))) j++;
    json_t *snap = NULL;
    if (j > i && (snap = ledger_book_snapshot(b)) == NULL) {
      b->ex->env_error = 1;
      return HANSE_ERR(NOMEM);
    }
    size_t failed = n;
    for (size_t k = i; k <= j; k++) {
      int exists;
      hanse_reject_clear(&res[k]);
      static const ledger_xfer_opts own = {1, NULL};
      int rc = ledger_transfer_make(b, json_array_get(list, k), k, &own, &exists, &res[k]);
      if (rc == HANSE_ERR(INVALID) && !b->ex->env_error) {
        failed = k;
        break;
      }
      if (rc != HANSE_OK) {
        json_decref(snap);
        return rc;
      }
      result_ok(&res[k], exists);
    }
    if (failed == n) {
      json_decref(snap);
      *done += j - i + 1;
    } else {
      if (snap) ledger_book_restore(b, snap);
      for (size_t k = i; k <= j; k++) {
        if (k == failed) continue;
        hanse_reject_code(&res[k], "ledger.linked_event_failed", 409,
                          "transfers[%zu] of its linked chain failed: %s", failed,
                          res[failed].code);
      }
    }
    i = j + 1;
  }
  return HANSE_OK;
}

/* Take a pending transfer out of the pending state: release its amount on
 * both sides and post `post_amount` of it (0 for void and expiry). `rec`
 * is the transfer's record (borrowed); status is the new state. */
static int settle(ledger_book *b, json_t *rec, const char *status, uint64_t post_amount,
                  const char *controller, hanse_reject *rej) {
  const char *id = json_string_value(json_object_get(rec, "id"));
  uint64_t amount = (uint64_t)json_integer_value(json_object_get(rec, "amount"));
  sides s;
  int overflow = 0;
  int rc = sides_load(b, json_string_value(json_object_get(rec, "debit")),
                      json_string_value(json_object_get(rec, "credit")), &s);
  if (rc == HANSE_OK && (s.d == NULL || s.c == NULL)) {
    HANSE_ERROR("ledger: pending transfer %s names a missing account", id);
    rc = HANSE_ERR(INTERNAL);
  }
  if (rc == HANSE_OK && rej && controller == NULL) rc = owner_check(b, s.d, rej);
  if (rc == HANSE_OK && post_amount) rc = book_posted(b, rec, s.d, s.c, post_amount);
  if (rc == HANSE_OK && ledger_conf_is(rec))
    rc = ledger_conf_settle(s.d, s.c, s.t, rec, strcmp(status, "posted") == 0);
  else if (rc == HANSE_OK)
    rc = sides_move(&s, LEDGER_DEBITS_PENDING, LEDGER_CREDITS_PENDING, amount, 0, &overflow);
  if (rc == HANSE_OK && post_amount)
    rc = sides_move(&s, LEDGER_DEBITS_POSTED, LEDGER_CREDITS_POSTED, 0, post_amount, &overflow);
  if (rc == HANSE_OK && overflow)
    rc = hanse_reject_code(rej, "ledger.overflow", 409,
                           "posting %" PRIu64 " would overflow a balance or total", post_amount);
  json_t *nrec = NULL;
  if (rc == HANSE_OK) rc = copy_of(b, json_incref(rec), &nrec);
  if (rc == HANSE_OK) rc = sides_store(b, &s);
  sides_free(&s);
  if (rc != HANSE_OK) {
    json_decref(nrec);
    return rc;
  }
  json_object_set_new(nrec, "status", json_string(status));
  json_object_set_new(nrec, "resolved_at", json_integer((json_int_t)b->ex->height));
  if (post_amount) ledger_u64_set(nrec, "posted_amount", post_amount);
  json_t *exp = json_object_get(rec, "expires_at");
  char key[LEDGER_KEY_MAX];
  if (exp) {
    exp_key(key, (uint64_t)json_integer_value(exp), id);
    rc = ledger_del(b, key);
  }
  ledger_key_xfer(key, id);
  if (rc == HANSE_OK) rc = ledger_put(b, key, nrec);
  else json_decref(nrec);
  return rc;
}

int ledger_resolve(ledger_book *b, const char *id, int post, uint64_t amount,
                   const char *controller, hanse_reject *rej) {
  char key[LEDGER_KEY_MAX];
  json_t *rec = NULL;
  ledger_key_xfer(key, id);
  int rc = ledger_get(b, key, &rec);
  if (rc != HANSE_OK) return rc;
  if (rec == NULL) return hanse_reject_code(rej, "ledger.no_transfer", 404, "no transfer '%s'", id);
  const char *status = json_string_value(json_object_get(rec, "status"));
  uint64_t whole = (uint64_t)json_integer_value(json_object_get(rec, "amount"));
  const char *ctl = json_string_value(json_object_get(rec, "controller"));
  if ((ctl != NULL) != (controller != NULL) || (ctl && strcmp(ctl, controller) != 0)) {
    rc = hanse_reject_code(rej, "ledger.controlled", 403,
                           "transfer '%s' is posted or voided only by the %s module", id,
                           ctl ? ctl : "ledger");
  } else if (status == NULL || strcmp(status, "pending") != 0) {
    int two_phase = json_is_true(json_object_get(rec, "pending"));
    char code[HANSE_REJECT_CODE_MAX];
    snprintf(code, sizeof code, "ledger.%s", !two_phase ? "not_pending"
                                             : strcmp(status ? status : "", "posted") == 0 ? "already_posted"
                                             : strcmp(status ? status : "", "voided") == 0 ? "already_voided"
                                                                                            : "expired");
    rc = hanse_reject_code(rej, code, 409, "transfer '%s' is %s, not pending", id,
                           two_phase ? status : "single-phase");
  } else if (post && amount && ledger_conf_is(rec)) {
    rc = hanse_reject_code(rej, "ledger.confidential_partial", 409,
                           "transfer '%s' is confidential: it posts whole or not at all", id);
  } else if (post && amount > whole) {
    rc = hanse_reject_code(rej, "ledger.exceeds_pending", 409,
                           "posting %" PRIu64 " of a pending %" PRIu64, amount, whole);
  } else {
    rc = settle(b, rec, post ? "posted" : "voided", post ? (amount ? amount : whole) : 0,
                controller, rej);
  }
  json_decref(rec);
  return rc;
}

/* ---- expiry ---- */

typedef struct sweep_page {
  uint64_t now_ms;
  char (*keys)[LEDGER_KEY_MAX];
  size_t n;
} sweep_page;

static int sweep_visit(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  (void)v;
  (void)vl;
  sweep_page *p = ctx;
  const size_t plen = sizeof LEDGER_EXP_PREFIX - 1;
  char at[21];
  if (kl < plen + 21 || kl >= LEDGER_KEY_MAX) return 1; /* not ours: stop */
  memcpy(at, k + plen, 20);
  at[20] = 0;
  uint64_t ms = strtoull(at, NULL, 10);
  if (ms > p->now_ms) return 1; /* in time order: the rest is later */
  memcpy(p->keys[p->n], k, kl);
  p->keys[p->n][kl] = 0;
  p->n++;
  return 0;
}

int ledger_sweep(ledger_book *b) {
  hanse_exec *ex = b->ex;
  json_t *mark = NULL;
  int rc = ledger_get(b, LEDGER_SWEEP_KEY, &mark);
  if (rc != HANSE_OK) return rc;
  int done = json_is_integer(mark) && (uint64_t)json_integer_value(mark) >= ex->height;
  json_decref(mark);
  if (done) return HANSE_OK;
  sweep_page page = {ex->time_ms, malloc(LEDGER_SWEEP_PAGE * sizeof *page.keys), 0};
  if (page.keys == NULL) {
    ex->env_error = 1;
    return HANSE_ERR(NOMEM);
  }
  char after[LEDGER_KEY_MAX] = "";
  for (;;) {
    page.n = 0;
    rc = hanse_exec_scan_stored(ex, LEDGER_EXP_PREFIX, after[0] ? after : NULL,
                                LEDGER_SWEEP_PAGE, sweep_visit, &page);
    if (rc != HANSE_OK) break;
    for (size_t i = 0; i < page.n && rc == HANSE_OK; i++) {
      const char *id = strchr(page.keys[i] + sizeof LEDGER_EXP_PREFIX - 1, '/') + 1;
      char key[LEDGER_KEY_MAX];
      json_t *rec = NULL;
      ledger_key_xfer(key, id);
      rc = ledger_get(b, key, &rec);
      if (rc == HANSE_OK && !json_is_object(rec)) {
        HANSE_ERROR("ledger: expiry entry %s without its transfer", page.keys[i]);
        ex->env_error = 1;
        rc = HANSE_ERR(INTERNAL);
      }
      if (rc == HANSE_OK) rc = settle(b, rec, "expired", 0, NULL, NULL);
      json_decref(rec);
    }
    if (rc != HANSE_OK || page.n < LEDGER_SWEEP_PAGE) break;
    snprintf(after, sizeof after, "%s", page.keys[page.n - 1]);
  }
  free(page.keys);
  if (rc != HANSE_OK) return rc;
  return ledger_put(b, LEDGER_SWEEP_KEY, json_integer((json_int_t)ex->height));
}
