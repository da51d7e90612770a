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
 * the balance rules (exceeds_credits, exceeds_debits), no balance or
 * total overflows 2^64-1 (overflow). All are made before the transfer
 * changes anything, so a lone failing transfer needs no undo; a linked
 * chain sets a mark on the book and rolls back to it when a member fails
 * (ledger_book.c). The balances are the book's cached accounts and totals
 * (ledger_balance.c), changed in place; the overflow check is the last
 * check and comes with the first change (sides_move: all four sums or
 * none).
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

#include "base/fmt.h"
#include "base/hex.h"
#include "base/log.h"
#include "modules/books/books.h"
#include "modules/ledger/ledger.h"

#define LEDGER_EXP_PREFIX "ledger/exp/"
#define LEDGER_SWEEP_KEY "ledger/sweep"

static const char *const request_fields[] = {"id",      "debit",   "credit",   "amount",
                                             "code",    "pending", "timeout",  "linked",
                                             "business", "ref",    NULL};

/* t's value of request field f as a transfer record keeps it: false
 * flags are left out, so {"pending":false} and no "pending" are the same
 * request. Borrowed. */
static json_t *request_field(json_t *t, const char *f) {
  json_t *v = json_object_get(t, f);
  return v && json_is_false(v) ? NULL : v;
}

static int same_request(json_t *t, json_t *rec) {
  for (size_t i = 0; request_fields[i]; i++) {
    json_t *a = request_field(t, request_fields[i]);
    json_t *b = json_object_get(rec, request_fields[i]);
    if ((a == NULL) != (b == NULL) || (a && !json_equal(a, b))) return 0;
  }
  return 1;
}

/* The debit account, credit account and totals of one transfer: the
 * book's cached entries, changed in place (sides_move). */
typedef struct sides {
  ledger_acct *d, *c;
  ledger_totals *t;
} sides;

/* Load both accounts (NULL when absent) and, when both exist, the debit
 * account's asset's totals. */
static int sides_load(ledger_book *b, const char *debit, const char *credit, sides *s) {
  memset(s, 0, sizeof *s);
  int rc = ledger_acct_load(b, debit, &s->d);
  if (rc == HANSE_OK) rc = ledger_acct_load(b, credit, &s->c);
  if (rc == HANSE_OK && s->d && s->c) rc = ledger_totals_load(b, s->d->asset, &s->t);
  return rc;
}

/* Before changing the three in place: note them for a rollback, and
 * mark them for the commit. */
static int sides_touch(ledger_book *b, sides *s) {
  int rc = ledger_book_save(b, s->d, sizeof *s->d);
  if (rc == HANSE_OK) rc = ledger_book_save(b, s->c, sizeof *s->c);
  if (rc == HANSE_OK) rc = ledger_book_save(b, s->t, sizeof *s->t);
  s->d->dirty = s->c->dirty = s->t->dirty = 1;
  return rc;
}

/* Move the four sums a transfer step touches -- debits `df` on D and T,
 * credits `cf` on C and T -- each by -sub +add, all or nothing: *overflow
 * and nothing changed when one would pass 2^64-1. A sum below zero is a
 * bug (the module only takes back what it put). df is a debit field and
 * cf a credit field, so the four are distinct even when D is C. */
static int sides_move(ledger_book *b, sides *s, int df, int cf, uint64_t sub, uint64_t add,
                      int *overflow) {
  uint64_t *f[4] = {&s->d->sums.v[df], &s->c->sums.v[cf], &s->t->sums.v[df], &s->t->sums.v[cf]};
  HANSE_ASSERT((df == LEDGER_DP || df == LEDGER_DPO) && (cf == LEDGER_CP || cf == LEDGER_CPO));
  for (int i = 0; i < 4; i++) {
    if (*f[i] < sub) {
      HANSE_ERROR("ledger: %s would go below zero", ledger_sum_names[i % 2 ? cf : df]);
      b->ex->env_error = 1;
      return HANSE_ERR(INTERNAL);
    }
    if (*f[i] - sub > UINT64_MAX - add) {
      *overflow = 1;
      return HANSE_OK;
    }
  }
  int rc = sides_touch(b, s);
  for (int i = 0; i < 4 && rc == HANSE_OK; i++) *f[i] = *f[i] - sub + add;
  return rc;
}

/* a + b + c <= limit, without overflowing. */
static int within(uint64_t a, uint64_t b, uint64_t c, uint64_t limit) {
  return a <= limit && b <= limit - a && c <= limit - a - b;
}

/* One balance rule of one account: when acct has `rule`, its side
 * (pending + posted + amount) must stay within the other side's posted
 * sum. */
static int rule_one(const ledger_acct *acct, ledger_rule rule, int pending_f, int posted_f,
                    int limit_f, uint64_t amount, const char *code, hanse_reject *rej) {
  if (acct->rule != rule) return HANSE_OK;
  const uint64_t *v = acct->sums.v;
  if (within(v[pending_f], v[posted_f], amount, v[limit_f])) return HANSE_OK;
  return hanse_reject_code(rej, code, 409, "%" PRIu64 " more would break '%s': %s", amount,
                           acct->id, acct->rule_name);
}

static int rule_check(const sides *s, uint64_t amount, hanse_reject *rej) {
  int rc = rule_one(s->d, LEDGER_RULE_DEBITS, LEDGER_DP, LEDGER_DPO, LEDGER_CPO, amount,
                    "ledger.exceeds_credits", rej);
  if (rc != HANSE_OK) return rc;
  return rule_one(s->c, LEDGER_RULE_CREDITS, LEDGER_CP, LEDGER_CPO, LEDGER_DPO, amount,
                  "ledger.exceeds_debits", rej);
}

static int owner_check(ledger_book *b, const ledger_acct *acct, hanse_reject *rej) {
  if (strcmp(acct->owner, b->owner) == 0) return HANSE_OK;
  return hanse_reject_code(rej, "ledger.not_owner", 403,
                           "account '%s' belongs to '%s', not to the signer's '%s'", acct->id,
                           acct->owner, b->owner);
}

/* May this transfer debit account `acct`? The signer's enterprise must own
 * it when o->signer_owns (otherwise the calling module vouches), and an
 * account a module controls is debited only by that module. */
static int debit_check(ledger_book *b, const ledger_acct *acct, const ledger_xfer_opts *o,
                       hanse_reject *rej) {
  const char *ctl = acct->controller;
  if (ctl && (o->controller == NULL || strcmp(ctl, o->controller) != 0))
    return hanse_reject_code(rej, "ledger.controlled", 403,
                             "account '%s' is moved only by the %s module", acct->id, ctl);
  return o->signer_owns ? owner_check(b, acct, rej) : HANSE_OK;
}

/* Book a posted amount in both parties' books (books.h), unless a module
 * controls the transfer (`controlled`): that module books what it means.
 * business and ref may be NULL (a payment; the transfer's id). */
static int book_event(ledger_book *b, int controlled, const char *business, const char *ref,
                      const char *id, const char *asset, const ledger_acct *d,
                      const ledger_acct *c, uint64_t amount) {
  if (controlled || amount == 0) return HANSE_OK;
  books_event ev = {business ? business : BOOKS_PAYMENT, d->owner, c->owner, asset, amount,
                    ref ? ref : id, NULL};
  return books_post(b, &ev);
}

static int book_posted(ledger_book *b, json_t *rec, const ledger_acct *d, const ledger_acct *c,
                       uint64_t amount) {
  return book_event(b, json_object_get(rec, "controller") != NULL,
                    json_string_value(json_object_get(rec, "business")),
                    json_string_value(json_object_get(rec, "ref")),
                    json_string_value(json_object_get(rec, "id")),
                    json_string_value(json_object_get(rec, "asset")), d, c, amount);
}

static int book_posted_row(ledger_book *b, const ledger_xfer *x, const ledger_acct *d,
                           const ledger_acct *c, uint64_t amount) {
  return book_event(b, x->controller[0] != 0, x->business[0] ? x->business : NULL,
                    x->ref[0] ? x->ref : NULL, x->id, x->asset, d, c, amount);
}

/* ledger/acx/<account>/<pos> = id (the request's own id value, shared). */
static int put_index(ledger_book *b, const char *account, const char *pos, json_t *id) {
  char key[LEDGER_KEY_MAX];
  hanse_cat(key, sizeof key, "ledger/acx/", account, "/", pos, NULL);
  return ledger_put(b, key, json_incref(id));
}

static void exp_key(char key[LEDGER_KEY_MAX], uint64_t at_ms, const char *id) {
  snprintf(key, LEDGER_KEY_MAX, LEDGER_EXP_PREFIX "%020" PRIu64 "/%s", at_ms, id);
}

/* The record of a new transfer t: the request's fields (shared with the
 * payload, which outlives the book), then what the ledger adds. NULL on
 * no memory. */
static json_t *record_new(ledger_book *b, json_t *t, const ledger_totals *tot, int pending,
                          const char *controller, json_t *timeout, uint64_t expires_at) {
  json_t *rec = json_object();
  int bad = rec == NULL;
  for (size_t i = 0; !bad && request_fields[i]; i++) {
    json_t *v = request_field(t, request_fields[i]);
    bad = v && json_object_set(rec, request_fields[i], v) != 0;
  }
  bad = bad || json_object_set(rec, "asset", tot->asset_json) != 0 ||
        json_object_set_new(rec, "status", json_string(pending ? "pending" : "posted")) != 0 ||
        json_object_set(rec, "tx", b->tx_json) != 0 ||
        json_object_set(rec, "height", b->height_json) != 0 ||
        (controller && json_object_set_new(rec, "controller", json_string(controller)) != 0) ||
        (timeout &&
         json_object_set_new(rec, "expires_at", json_integer((json_int_t)expires_at)) != 0);
  if (!bad) return rec;
  json_decref(rec);
  return NULL;
}

/* s into a row's field out[cap] as str_into takes a JSON string: 0 if it
 * is empty or does not fit. */
static int word_into(const char *s, char *out, size_t cap) {
  size_t n = strlen(s);
  if (n == 0 || n >= cap) return 0;
  memcpy(out, s, n + 1);
  return 1;
}

/* The record of a new transfer t as a row, the same record record_new
 * makes (without building it); 0 if the row cannot hold it (record_new
 * then makes the JSON record). */
static int row_new(ledger_book *b, json_t *t, const ledger_totals *tot, int pending,
                   const char *controller, json_t *timeout, uint64_t expires_at, ledger_xfer *x) {
  const char *asset = json_string_value(tot->asset_json);
  if (!ledger_xfer_from_request(x, t, request_fields) || asset == NULL ||
      !word_into(asset, x->asset, sizeof x->asset) ||
      (controller && !word_into(controller, x->controller, sizeof x->controller)))
    return 0;
  x->status = pending ? "pending" : "posted";
  memcpy(x->tx, b->tx_hex, sizeof x->tx);
  x->height = b->ex->height;
  if (timeout) {
    x->expires_at = expires_at;
    x->has |= LEDGER_XFER_EXPIRES;
  }
  return ledger_xfer_valid(x);
}

int ledger_transfer_make(ledger_book *b, json_t *t, size_t place, const ledger_xfer_opts *o,
                         int *exists, hanse_reject *rej) {
  json_t *id_json = json_object_get(t, "id");
  const char *id = json_string_value(id_json);
  char key[LEDGER_KEY_MAX];
  *exists = 0;
  json_t *old = NULL;
  ledger_key_xfer(key, id);
  int rc = ledger_get(b, key, &old);
  if (rc != HANSE_OK || old) {
    if (rc == HANSE_OK && same_request(t, old))
      *exists = 1;
    else if (rc == HANSE_OK)
      rc = hanse_reject_code(rej, "ledger.id_conflict", 409,
                             "transfer '%s' exists with other fields", id);
    json_decref(old);
    return rc;
  }
  const char *debit = json_string_value(json_object_get(t, "debit"));
  const char *credit = json_string_value(json_object_get(t, "credit"));
  uint64_t amount = (uint64_t)json_integer_value(json_object_get(t, "amount"));
  int pending = json_is_true(json_object_get(t, "pending"));
  sides s;
  int overflow = 0;
  if ((rc = sides_load(b, debit, credit, &s)) != HANSE_OK) return rc;
  if (s.d == NULL || s.c == NULL)
    return hanse_reject_code(rej, "ledger.no_account", 404, "no account '%s'",
                             s.d == NULL ? debit : credit);
  const char *asset = s.d->asset;
  if (strcmp(asset, s.c->asset) != 0)
    return hanse_reject_code(rej, "ledger.asset_mismatch", 409, "'%s' holds %s and '%s' holds %s",
                             debit, asset, credit, s.c->asset);
  if ((rc = debit_check(b, s.d, o, rej)) != HANSE_OK) return rc;
  int conf; /* a commitment instead of an amount (ledger_conf.c) */
  if ((rc = ledger_conf_admit(b, t, s.d, s.c, &conf, rej)) != HANSE_OK) return rc;
  if ((rc = rule_check(&s, amount, rej)) != HANSE_OK) return rc;
  int df = pending ? LEDGER_DP : LEDGER_DPO, cf = pending ? LEDGER_CP : LEDGER_CPO;
  /* the last check (overflow) and the first change, all or nothing */
  if (conf) {
    rc = sides_touch(b, &s);
    if (rc == HANSE_OK)
      rc = ledger_conf_move(&s.d->sums, &s.c->sums, &s.t->sums, df, cf,
                            json_object_get(t, "amount"), 1);
  } else {
    rc = sides_move(b, &s, df, cf, 0, amount, &overflow);
  }
  if (rc != HANSE_OK) return rc;
  if (overflow)
    return hanse_reject_code(rej, "ledger.overflow", 409,
                             "%" PRIu64 " more would overflow a balance or total of %s", amount,
                             asset);
  /* Every check passed: write. */
  hanse_exec *ex = b->ex;
  json_t *timeout = json_object_get(t, "timeout");
  uint64_t expires_at = timeout ? ex->time_ms + (uint64_t)json_integer_value(timeout) * 1000u : 0;
  ledger_xfer x;
  if (!conf && row_new(b, t, s.t, pending, o->controller, timeout, expires_at, &x)) {
    if (!pending) rc = book_posted_row(b, &x, s.d, s.c, amount);
    if (rc == HANSE_OK) rc = ledger_xfer_put(b, &x);
  } else {
    json_t *rec = record_new(b, t, s.t, pending, o->controller, timeout, expires_at);
    if (rec == NULL) {
      ex->env_error = 1;
      return HANSE_ERR(NOMEM);
    }
    /* a confidential amount is booked by the parties' clients */
    if (!pending && !conf) rc = book_posted(b, rec, s.d, s.c, amount);
    if (rc == HANSE_OK) rc = ledger_put(b, key, rec);
    else json_decref(rec);
  }
  char pos[40];
  size_t pn = hanse_fmt_u64_pad(pos, ex->height, 20);
  pn += hanse_fmt_u64_pad(pos + pn, ex->tx_index, 7);
  pn += hanse_fmt_u64_pad(pos + pn, place, 4);
  pos[pn] = '\0';
  if (rc == HANSE_OK) rc = put_index(b, debit, pos, id_json);
  if (rc == HANSE_OK) rc = put_index(b, credit, pos, id_json);
  if (rc == HANSE_OK && conf) rc = ledger_conf_index(b, asset, pos, id);
  if (rc == HANSE_OK && timeout) {
    exp_key(key, expires_at, id);
    rc = ledger_put(b, key, json_incref(id_json));
  }
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

void ledger_result_ok(hanse_reject *r, int exists) {
  r->rc = HANSE_OK;
  r->status = 200;
  hanse_cat(r->code, sizeof r->code, exists ? "ledger.exists" : "ok", NULL);
  hanse_cat(r->message, sizeof r->message,
            exists ? "the transfer exists with these fields; nothing changed" : "", NULL);
}

int ledger_transfers_run(ledger_book *b, json_t *list, hanse_reject *res, size_t *done) {
  size_t n = json_array_size(list);
  *done = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i; /* the chain is i..j */
    while (j + 1 < n && json_is_true(json_object_get(json_array_get(list, j), "linked"))) j++;
    size_t mark = j > i ? ledger_book_mark(b) : 0;
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
        if (j > i) ledger_book_release(b, mark);
        return rc;
      }
      ledger_result_ok(&res[k], exists);
    }
    if (failed == n) {
      if (j > i) ledger_book_release(b, mark);
      *done += j - i + 1;
    } else {
      if (j > i) ledger_book_rollback(b, mark);
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
 * both sides and post `post_amount` of it (0 for void and expiry). The
 * transfer's record is its row *x (changed here), or, when rec is not
 * NULL, its JSON object (borrowed); status is the new state. Every check
 * comes before the first change. */
static int settle(ledger_book *b, ledger_xfer *x, json_t *rec, const char *status,
                  uint64_t post_amount, const char *controller, hanse_reject *rej) {
  const char *id = rec ? json_string_value(json_object_get(rec, "id")) : x->id;
  uint64_t amount = rec ? (uint64_t)json_integer_value(json_object_get(rec, "amount")) : x->amount;
  sides s;
  int overflow = 0;
  int rc = sides_load(b, rec ? json_string_value(json_object_get(rec, "debit")) : x->debit,
                      rec ? json_string_value(json_object_get(rec, "credit")) : x->credit, &s);
  if (rc == HANSE_OK && (s.d == NULL || s.c == NULL)) {
    HANSE_ERROR("ledger: pending transfer %s names a missing account", id);
    b->ex->env_error = 1;
    rc = HANSE_ERR(INTERNAL);
  }
  if (rc == HANSE_OK && rej && controller == NULL) rc = owner_check(b, s.d, rej);
  /* posting is the one step that can overflow: first, all or nothing */
  if (rc == HANSE_OK && post_amount)
    rc = sides_move(b, &s, LEDGER_DPO, LEDGER_CPO, 0, post_amount, &overflow);
  if (rc == HANSE_OK && overflow)
    return hanse_reject_code(rej, "ledger.overflow", 409,
                             "posting %" PRIu64 " would overflow a balance or total", post_amount);
  if (rc == HANSE_OK && rec && ledger_conf_is(rec)) {
    rc = sides_touch(b, &s);
    if (rc == HANSE_OK)
      rc = ledger_conf_settle(&s.d->sums, &s.c->sums, &s.t->sums, rec,
                              strcmp(status, "posted") == 0);
  } else if (rc == HANSE_OK) {
    rc = sides_move(b, &s, LEDGER_DP, LEDGER_CP, amount, 0, &overflow);
  }
  if (rc == HANSE_OK && post_amount)
    rc = rec ? book_posted(b, rec, s.d, s.c, post_amount)
             : book_posted_row(b, x, s.d, s.c, post_amount);
  if (rc != HANSE_OK) return rc;
  char key[LEDGER_KEY_MAX];
  if (rec == NULL) { /* the row, resolved */
    x->status = status;
    x->resolved_at = b->ex->height;
    x->has |= LEDGER_XFER_RESOLVED;
    if (post_amount) {
      x->posted_amount = post_amount;
      x->has |= LEDGER_XFER_POSTED;
    }
    if (x->has & LEDGER_XFER_EXPIRES) {
      exp_key(key, x->expires_at, id);
      rc = ledger_del(b, key);
    }
    return rc == HANSE_OK ? ledger_xfer_put(b, x) : rc;
  }
  /* the new record: the old one's members (shared, never changed in
   * place) and the resolution */
  json_t *nrec = json_copy(rec);
  if (nrec == NULL || json_object_set_new(nrec, "status", json_string(status)) != 0 ||
      json_object_set(nrec, "resolved_at", b->height_json) != 0 ||
      (post_amount && ledger_u64_set(nrec, "posted_amount", post_amount) != HANSE_OK)) {
    json_decref(nrec);
    b->ex->env_error = 1;
    return HANSE_ERR(NOMEM);
  }
  json_t *exp = json_object_get(rec, "expires_at");
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
  ledger_xfer x;
  json_t *rec = NULL;
  int found;
  int rc = ledger_xfer_load(b, id, &x, &rec, &found);
  if (rc != HANSE_OK) return rc;
  if (!found) return hanse_reject_code(rej, "ledger.no_transfer", 404, "no transfer '%s'", id);
  const char *status = rec ? json_string_value(json_object_get(rec, "status")) : x.status;
  uint64_t whole = rec ? (uint64_t)json_integer_value(json_object_get(rec, "amount")) : x.amount;
  const char *ctl = rec ? json_string_value(json_object_get(rec, "controller"))
                        : x.controller[0] ? x.controller : NULL;
  int two_phase = rec ? json_is_true(json_object_get(rec, "pending")) : x.pending;
  if ((ctl != NULL) != (controller != NULL) || (ctl && strcmp(ctl, controller) != 0)) {
    rc = hanse_reject_code(rej, "ledger.controlled", 403,
                           "transfer '%s' is posted or voided only by the %s module", id,
                           ctl ? ctl : "ledger");
  } else if (status == NULL || strcmp(status, "pending") != 0) {
    char code[HANSE_REJECT_CODE_MAX];
    snprintf(code, sizeof code, "ledger.%s", !two_phase ? "not_pending"
                                             : strcmp(status ? status : "", "posted") == 0 ? "already_posted"
                                             : strcmp(status ? status : "", "voided") == 0 ? "already_voided"
                                                                                            : "expired");
    rc = hanse_reject_code(rej, code, 409, "transfer '%s' is %s, not pending", id,
                           two_phase ? status : "single-phase");
  } else if (post && amount && rec && ledger_conf_is(rec)) {
    rc = hanse_reject_code(rej, "ledger.confidential_partial", 409,
                           "transfer '%s' is confidential: it posts whole or not at all", id);
  } else if (post && amount > whole) {
    rc = hanse_reject_code(rej, "ledger.exceeds_pending", 409,
                           "posting %" PRIu64 " of a pending %" PRIu64, amount, whole);
  } else {
    rc = settle(b, &x, rec, post ? "posted" : "voided", post ? (amount ? amount : whole) : 0,
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
      ledger_xfer x;
      json_t *rec = NULL;
      int found = 0;
      rc = ledger_xfer_load(b, id, &x, &rec, &found);
      if (rc == HANSE_OK && !found) {
        HANSE_ERROR("ledger: expiry entry %s without its transfer", page.keys[i]);
        ex->env_error = 1;
        rc = HANSE_ERR(INTERNAL);
      }
      if (rc == HANSE_OK) rc = settle(b, &x, rec, "expired", 0, NULL, NULL);
      json_decref(rec);
    }
    if (rc != HANSE_OK || page.n < LEDGER_SWEEP_PAGE) break;
    snprintf(after, sizeof after, "%s", page.keys[page.n - 1]);
  }
  free(page.keys);
  if (rc != HANSE_OK) return rc;
  return ledger_put(b, LEDGER_SWEEP_KEY, json_integer((json_int_t)ex->height));
}
