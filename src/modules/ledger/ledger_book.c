/*
 * ledger/ledger_book.c -- the overlay every ledger action computes on.
 *
 * verify may not write and apply may not fail, yet a batch of transfers
 * must see its own earlier transfers (a second transfer from the same
 * account sees the first one's debit) and a failed linked chain must
 * vanish. So an action runs on a book: a JSON object mapping state keys
 * to the values the action would leave (JSON null: deleted), read before
 * the state. verify runs the action and hands the book to apply, which
 * commits it: exec_tx runs apply right after verify with nothing written
 * in between (hanse_exec_carry), so running the action again would give
 * the same book. (Without a kept book, apply runs the action itself.)
 * Values in the overlay are never changed in place (a changed record is a
 * new object), so a snapshot is a shallow copy and restoring it is cheap.
 *
 * The commit writes in key order (the state digest hashes writes in
 * execution order, so the order must not depend on a hash table), as
 * canonical JSON: sorted keys, compact. Before it writes, it checks the
 * per-asset invariant on every total the action changed: debits equal
 * credits, pending and posted apart, in amounts and in the sums of
 * confidential commitments (ledger_conf.c). A failure there is a bug in this
 * module, never bad input; it is logged and returned as an internal
 * error, which abandons the block on every node alike.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "base/log.h"
#include "modules/books/books.h"
#include "modules/ledger/ledger.h"

void ledger_key_acct(char key[LEDGER_KEY_MAX], const char *account) {
  snprintf(key, LEDGER_KEY_MAX, "ledger/acct/%s", account);
}

void ledger_key_xfer(char key[LEDGER_KEY_MAX], const char *id) {
  snprintf(key, LEDGER_KEY_MAX, "ledger/xfer/%s", id);
}

void ledger_key_totals(char key[LEDGER_KEY_MAX], const char *asset) {
  snprintf(key, LEDGER_KEY_MAX, "ledger/totals/%s", asset);
}

int ledger_u64_parse(const char *s, uint64_t *v) {
  size_t n = s ? strlen(s) : 0;
  if (n < 1 || n > 20 || (n > 1 && s[0] == '0')) return 0;
  uint64_t x = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    unsigned d = (unsigned)(s[i] - '0');
    if (x > (UINT64_MAX - d) / 10) return 0;
    x = x * 10 + d;
  }
  *v = x;
  return 1;
}

int ledger_u64_get(json_t *o, const char *field, uint64_t *v) {
  json_t *f = json_object_get(o, field);
  *v = 0;
  if (f == NULL) return HANSE_OK;
  if (!ledger_u64_parse(json_string_value(f), v)) {
    HANSE_ERROR("ledger: field %s is not a decimal u64", field);
    return HANSE_ERR(INTERNAL);
  }
  return HANSE_OK;
}

int ledger_u64_set(json_t *o, const char *field, uint64_t v) {
  char num[24];
  snprintf(num, sizeof num, "%" PRIu64, v);
  return json_object_set_new(o, field, json_string(num)) == 0 ? HANSE_OK : HANSE_ERR(NOMEM);
}

int ledger_book_open(ledger_book *b, hanse_exec *ex) {
  HANSE_ASSERT(ex != NULL && ex->tx != NULL);
  memset(b, 0, sizeof *b);
  b->ex = ex;
  b->w = json_object();
  if (b->w == NULL) {
    ex->env_error = 1;
    return HANSE_ERR(NOMEM);
  }
  char org[HANSE_MEMBER_ORG_MAX + 1];
  int rc = hanse_member_key_org(ex, &ex->tx->signer, &b->owner_status, org);
  if (rc != HANSE_OK) {
    ex->env_error = 1;
    return rc;
  }
  if (org[0])
    snprintf(b->owner, sizeof b->owner, "%s", org);
  else
    hanse_pubkey_hex(b->owner, &ex->tx->signer);
  return ledger_sweep(b);
}

void ledger_book_close(ledger_book *b) {
  json_decref(b->w);
  b->w = NULL;
}

int ledger_get(ledger_book *b, const char *key, json_t **out) {
  *out = NULL;
  json_t *o = json_object_get(b->w, key);
  if (o) {
    if (!json_is_null(o)) *out = json_incref(o);
    return HANSE_OK;
  }
  const uint8_t *v;
  size_t n;
  int found;
  int rc = hanse_exec_get(b->ex, key, &v, &n, &found);
  if (rc != HANSE_OK || !found) return rc;
  *out = json_loadb((const char *)v, n, JSON_DECODE_ANY, NULL);
  if (*out == NULL) {
    HANSE_ERROR("ledger: state %s is not JSON", key);
    b->ex->env_error = 1;
    return HANSE_ERR(INTERNAL);
  }
  return HANSE_OK;
}

int ledger_put(ledger_book *b, const char *key, json_t *val) {
  if (val == NULL || json_object_set_new(b->w, key, val) != 0) {
    b->ex->env_error = 1;
    return HANSE_ERR(NOMEM);
  }
  return HANSE_OK;
}

int ledger_del(ledger_book *b, const char *key) { return ledger_put(b, key, json_null()); }

json_t *ledger_book_snapshot(ledger_book *b) { return json_copy(b->w); }

void ledger_book_restore(ledger_book *b, json_t *snap) {
  json_decref(b->w);
  b->w = snap;
}

/* The signer's enterprise may act: an active member, or a key the
 * registry does not know (an open chain). */
int ledger_book_acting(const ledger_book *b, const char *module, hanse_reject *rej) {
  if (b->owner_status == NULL || strcmp(b->owner_status, HANSE_MEMBER_ACTIVE) == 0 ||
      strcmp(b->owner_status, HANSE_MEMBER_UNKNOWN) == 0)
    return HANSE_OK;
  char code[HANSE_REJECT_CODE_MAX];
  snprintf(code, sizeof code, "%s.key_inactive", module);
  return hanse_reject_code(rej, code, 403, "the signing key is %s: it acts for no enterprise",
                           b->owner_status);
}

int ledger_book_verify(hanse_exec *ex, const hanse_tx *tx, const char *action, json_t *p,
                       const char *module, ledger_book_fn run, hanse_reject *rej) {
  ledger_book b;
  int rc = ledger_book_open(&b, ex);
  if (rc == HANSE_OK) rc = ledger_book_acting(&b, module, rej);
  /* the whole action, as apply would run it: the book is kept for apply
   * (ledger_book_keep), so the action runs once per transaction */
  if (rc == HANSE_OK) rc = run(&b, tx, action, p, 1, rej);
  if (rc == HANSE_OK)
    ledger_book_keep(&b);
  else
    ledger_book_close(&b);
  if (rc != HANSE_OK && rc != HANSE_ERR(INVALID)) ex->env_error = 1; /* a bug or the store */
  return rc;
}

int ledger_book_apply(hanse_exec *ex, const hanse_tx *tx, const char *action, json_t *p,
                      const char *module, ledger_book_fn run) {
  ledger_book b;
  hanse_reject rej;
  hanse_reject_clear(&rej);
  if (ledger_book_take(&b, ex)) { /* verify's book, on the same state */
    int rc = ledger_book_commit(&b);
    ledger_book_close(&b);
    return rc;
  }
  int rc = ledger_book_open(&b, ex);
  if (rc == HANSE_OK) rc = ledger_book_acting(&b, module, &rej);
  if (rc == HANSE_OK) rc = run(&b, tx, action, p, 1, &rej);
  if (rc == HANSE_ERR(INVALID) && !ex->env_error) {
    /* verify accepted this transaction on the same state */
    HANSE_ERROR("%s: %s rejected in apply at height %llu: %s", module, tx->kind,
                (unsigned long long)ex->height, rej.message);
    rc = HANSE_ERR(INTERNAL);
  }
  if (rc == HANSE_OK) rc = ledger_book_commit(&b);
  ledger_book_close(&b);
  return rc;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Debits equal credits in one asset's totals. */
static int totals_balanced(const char *key, json_t *t) {
  uint64_t dp, dpo, cp, cpo;
  if (ledger_u64_get(t, LEDGER_DEBITS_PENDING, &dp) != HANSE_OK ||
      ledger_u64_get(t, LEDGER_DEBITS_POSTED, &dpo) != HANSE_OK ||
      ledger_u64_get(t, LEDGER_CREDITS_PENDING, &cp) != HANSE_OK ||
      ledger_u64_get(t, LEDGER_CREDITS_POSTED, &cpo) != HANSE_OK)
    return 0;
  if (dp == cp && dpo == cpo) return ledger_conf_balanced(key, t);
  HANSE_ERROR("ledger: invariant broken at %s: debits %" PRIu64 "/%" PRIu64
              " pending/posted, credits %" PRIu64 "/%" PRIu64,
              key, dp, dpo, cp, cpo);
  return 0;
}

int ledger_book_commit(ledger_book *b) {
  int rc = books_flush(b); /* the books' staged entries into their rows */
  if (rc != HANSE_OK) return rc;
  size_t n = json_object_size(b->w), i = 0;
  const char **keys = malloc((n ? n : 1) * sizeof *keys);
  if (keys == NULL) {
    b->ex->env_error = 1;
    return HANSE_ERR(NOMEM);
  }
  const char *k;
  json_t *v;
  json_object_foreach(b->w, k, v) keys[i++] = k;
  HANSE_ASSERT(i == n);
  qsort(keys, n, sizeof *keys, cmp_str);
  for (i = 0; i < n && rc == HANSE_OK; i++) {
    v = json_object_get(b->w, keys[i]);
    if (strncmp(keys[i], "ledger/totals/", 14) == 0 && !totals_balanced(keys[i], v))
      rc = HANSE_ERR(INTERNAL);
  }
  for (i = 0; i < n && rc == HANSE_OK; i++) {
    v = json_object_get(b->w, keys[i]);
    if (json_is_null(v)) { /* a key made and dropped by this action was never there */
      const uint8_t *old;
      size_t ol;
      int found;
      rc = hanse_exec_get(b->ex, keys[i], &old, &ol, &found);
      if (rc == HANSE_OK && found) rc = hanse_exec_del(b->ex, keys[i]);
      continue;
    }
    char *text = json_dumps(v, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
    if (text == NULL) {
      b->ex->env_error = 1;
      rc = HANSE_ERR(NOMEM);
      break;
    }
    rc = hanse_exec_put(b->ex, keys[i], text, strlen(text));
    free(text);
  }
  free(keys);
  return rc;
}

/* ---- verify's book, carried to apply (hanse_exec_carry) ---- */

static void book_free(void *p) {
  ledger_book_close(p);
  free(p);
}

void ledger_book_keep(ledger_book *b) {
  ledger_book *k = malloc(sizeof *k);
  if (k == NULL) { /* apply computes it again */
    ledger_book_close(b);
    return;
  }
  *k = *b;
  b->w = NULL;
  hanse_exec_carry_set(b->ex, k, book_free);
}

int ledger_book_take(ledger_book *b, hanse_exec *ex) {
  ledger_book *k = hanse_exec_carry_take(ex);
  if (k == NULL) return 0;
  HANSE_ASSERT(k->ex == ex && k->w != NULL);
  *b = *k;
  free(k);
  return 1;
}
