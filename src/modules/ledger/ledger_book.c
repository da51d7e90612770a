/*
 * ledger/ledger_book.c -- the overlay every ledger action computes on.
 *
 * verify may not write and apply may not fail, yet a batch of transfers
 * must see its own earlier transfers (a second transfer from the same
 * account sees the first one's debit) and a failed linked chain must
 * vanish. So an action runs on a book: a JSON object mapping state keys
 * to the values the action would leave (JSON null: deleted), read before
 * the state, plus a typed cache of the accounts (static record and
 * balances) and the assets' totals (ledger_balance.c), changed in place. verify runs the action and
 * hands the book to apply, which commits it: exec_tx runs apply right
 * after verify with nothing written in between (hanse_exec_carry), so
 * running the action again would give the same book. (Without a kept
 * book, apply runs the action itself.) Values in the overlay are never
 * changed in place (a changed record is a new object).
 *
 * Marks. A linked chain must leave nothing behind when a member fails, so
 * it sets a mark first. While a mark is set, the book keeps an undo log:
 * every ledger_put/ledger_del notes the key and the value it replaced,
 * every in-place change to cached memory notes the bytes it is about to
 * change (ledger_book_save), and every cache load notes how to forget the
 * entry (ledger_book_on_rollback). A rollback walks the log backwards and
 * puts everything back; a release drops the log. Outside a mark nothing
 * is logged, so a plain transfer pays nothing for it, and a chain of four
 * pays for what it changed -- not for a copy of the whole book.
 *
 * The commit writes in key order (the state digest hashes writes in
 * execution order, so the order must not depend on a hash table): the
 * overlay's keys and the cache's rows (opened accounts, dirty balances
 * and totals) sorted together, the overlay's values as canonical JSON
 * (sorted keys, compact) -- but a plain transfer's record as its row
 * (ledger_xfer.c), which ledger_get reads back into the same object --
 * the cache's rows in their fixed layouts. A record put as its row
 * (ledger_xfer_put) sits in the overlay as a JSON string of the row's
 * text and is written as it is; an index row's short value (a transfer
 * id) is printed without jansson (dump_short). Before it writes, it checks
 * the per-asset invariant on every total the action changed: debits equal
 * credits, pending and posted apart, in amounts and in the sums of
 * confidential commitments (ledger_conf.c). A failure there is a bug in
 * this module, never bad input; it is logged and returned as an internal
 * error, which abandons the block on every node alike.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "base/hex.h"
#include "base/log.h"
#include "encoding/json_real.h"
#include "modules/books/books.h"
#include "modules/ledger/ledger.h"

void ledger_key_acct(char key[LEDGER_KEY_MAX], const char *account) {
  hanse_cat(key, LEDGER_KEY_MAX, "ledger/acct/", account, NULL);
}

void ledger_key_xfer(char key[LEDGER_KEY_MAX], const char *id) {
  hanse_cat(key, LEDGER_KEY_MAX, "ledger/xfer/", id, NULL);
}

void ledger_key_totals(char key[LEDGER_KEY_MAX], const char *asset) {
  hanse_cat(key, LEDGER_KEY_MAX, "ledger/totals/", asset, NULL);
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

/* ---- the undo log ---- */

typedef enum undo_kind { UNDO_PUT, UNDO_BYTES, UNDO_CALL } undo_kind;

struct ledger_undo {
  undo_kind kind;
  size_t off;         /* PUT: the key, BYTES: the saved bytes, in undo_bytes */
  size_t n;           /* BYTES: how many */
  void *at;           /* BYTES: where they go back; CALL: the argument */
  json_t *old;        /* PUT: the value it replaced (owned), NULL: none */
  ledger_undo_fn fn;  /* CALL */
};

static struct ledger_undo *undo_push(ledger_book *b, undo_kind kind, const void *bytes,
                                     size_t n) {
  if (b->undo_n == b->undo_cap) {
    size_t cap = b->undo_cap ? 2 * b->undo_cap : 64;
    struct ledger_undo *u = realloc(b->undo, cap * sizeof *u);
    if (u == NULL) return NULL;
    b->undo = u;
    b->undo_cap = cap;
  }
  size_t off = b->undo_bytes.len;
  hanse_buf_put(&b->undo_bytes, bytes, n);
  if (hanse_buf_status(&b->undo_bytes) != HANSE_OK) return NULL;
  struct ledger_undo *u = &b->undo[b->undo_n++];
  memset(u, 0, sizeof *u);
  u->kind = kind;
  u->off = off;
  u->n = n;
  return u;
}

static int undo_nomem(ledger_book *b) {
  b->ex->env_error = 1;
  return HANSE_ERR(NOMEM);
}

int ledger_book_save(ledger_book *b, void *at, size_t n) {
  if (b->marks == 0) return HANSE_OK;
  struct ledger_undo *u = undo_push(b, UNDO_BYTES, at, n);
  if (u == NULL) return undo_nomem(b);
  u->at = at;
  return HANSE_OK;
}

int ledger_book_on_rollback(ledger_book *b, ledger_undo_fn undo, void *arg) {
  if (b->marks == 0) return HANSE_OK;
  struct ledger_undo *u = undo_push(b, UNDO_CALL, NULL, 0);
  if (u == NULL) return undo_nomem(b);
  u->fn = undo;
  u->at = arg;
  return HANSE_OK;
}

size_t ledger_book_mark(ledger_book *b) {
  b->marks++;
  return b->undo_n;
}

/* The log's entries from `from` on are dropped (their changes kept). */
static void undo_drop(ledger_book *b, size_t from) {
  for (size_t i = from; i < b->undo_n; i++) json_decref(b->undo[i].old);
  b->undo_n = from;
  if (from == 0) hanse_buf_reset(&b->undo_bytes);
}

void ledger_book_rollback(ledger_book *b, size_t mark) {
  HANSE_ASSERT(b->marks > 0 && mark <= b->undo_n);
  for (size_t i = b->undo_n; i-- > mark;) {
    struct ledger_undo *u = &b->undo[i];
    const uint8_t *saved = b->undo_bytes.data + u->off;
    switch (u->kind) {
      case UNDO_PUT:
        if (u->old) {
          /* the key was in the overlay, so this needs no new memory */
          int rc = json_object_set_new(b->w, (const char *)saved, u->old);
          HANSE_ASSERT(rc == 0);
        } else {
          json_object_del(b->w, (const char *)saved);
        }
        u->old = NULL;
        break;
      case UNDO_BYTES:
        memcpy(u->at, saved, u->n);
        break;
      case UNDO_CALL:
        u->fn(b, u->at);
        break;
    }
  }
  b->undo_n = mark;
  if (--b->marks == 0) undo_drop(b, 0);
}

void ledger_book_release(ledger_book *b, size_t mark) {
  HANSE_ASSERT(b->marks > 0 && mark <= b->undo_n);
  if (--b->marks == 0) undo_drop(b, 0);
}

/* ---- the book ---- */

int ledger_book_open(ledger_book *b, hanse_exec *ex) {
  HANSE_ASSERT(ex != NULL && ex->tx != NULL);
  memset(b, 0, sizeof *b);
  b->ex = ex;
  hanse_buf_init(&b->undo_bytes);
  hanse_buf_init(&b->stage);
  hanse_buf_init(&b->text_rows);
  hanse_hex_encode(b->tx_hex, ex->tx->id.b, HANSE_HASH_BYTES);
  b->w = json_object();
  b->tx_json = json_string(b->tx_hex);
  b->height_json = json_integer((json_int_t)ex->height);
  if (b->w == NULL || b->tx_json == NULL || b->height_json == NULL ||
      hanse_hmap_init(&b->accts, 64) != HANSE_OK || hanse_hmap_init(&b->totals, 4) != HANSE_OK) {
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
  if (b->marks) undo_drop(b, 0);
  free(b->undo);
  b->undo = NULL;
  b->undo_n = b->undo_cap = 0;
  b->marks = 0;
  hanse_buf_free(&b->undo_bytes);
  hanse_buf_free(&b->stage);
  hanse_buf_free(&b->text_rows);
  if (b->seqs.slots) {
    size_t pos = 0;
    const uint8_t *k;
    size_t kl;
    void *v;
    while (hanse_hmap_next(&b->seqs, &pos, &k, &kl, &v)) free(v);
    hanse_hmap_free(&b->seqs);
  }
  ledger_cache_free(b);
  json_decref(b->w);
  json_decref(b->tx_json);
  json_decref(b->height_json);
  b->w = b->tx_json = b->height_json = NULL;
}

/* Accounts, balance rows and totals are the cache's (ledger_balance.c),
 * read and written by it alone: they are not JSON. */
static int cache_key(const char *key) {
  return strncmp(key, "ledger/acct/", 12) == 0 || strncmp(key, "ledger/bal/", 11) == 0 ||
         strncmp(key, "ledger/totals/", 14) == 0;
}

int ledger_get(ledger_book *b, const char *key, json_t **out) {
  HANSE_ASSERT(!cache_key(key));
  *out = NULL;
  json_t *o = json_object_get(b->w, key);
  if (o && json_is_string(o) && ledger_key_is_xfer(key)) { /* a row (ledger_xfer_put) */
    *out = ledger_xfer_decode(json_string_value(o), json_string_length(o));
    if (*out == NULL) b->ex->env_error = 1;
    return *out ? HANSE_OK : HANSE_ERR(NOMEM);
  }
  if (o) {
    if (!json_is_null(o)) *out = json_incref(o);
    return HANSE_OK;
  }
  const uint8_t *v;
  size_t n;
  int found;
  int rc = hanse_exec_get(b->ex, key, &v, &n, &found);
  if (rc != HANSE_OK || !found) return rc;
  *out = ledger_key_is_xfer(key) ? ledger_xfer_decode((const char *)v, n)
                                 : json_loadb((const char *)v, n, JSON_DECODE_ANY, NULL);
  if (*out == NULL) {
    HANSE_ERROR("ledger: state %s is not JSON", key);
    b->ex->env_error = 1;
    return HANSE_ERR(INTERNAL);
  }
  return HANSE_OK;
}

int ledger_put(ledger_book *b, const char *key, json_t *val) {
  HANSE_ASSERT(!cache_key(key));
  if (val == NULL) return undo_nomem(b);
  if (b->marks) {
    struct ledger_undo *u = undo_push(b, UNDO_PUT, key, strlen(key) + 1);
    if (u == NULL) {
      json_decref(val);
      return undo_nomem(b);
    }
    u->old = json_incref(json_object_get(b->w, key));
  }
  if (json_object_set_new(b->w, key, val) != 0) return undo_nomem(b);
  return HANSE_OK;
}

int ledger_del(ledger_book *b, const char *key) { return ledger_put(b, key, json_null()); }

int ledger_put_text(ledger_book *b, const char *key, const char *text, size_t n) {
  HANSE_ASSERT(b->marks == 0 && !cache_key(key) && json_object_get(b->w, key) == NULL);
  hanse_buf_put(&b->text_rows, key, strlen(key) + 1);
  hanse_buf_put(&b->text_rows, &n, sizeof n);
  hanse_buf_put(&b->text_rows, text, n);
  if (hanse_buf_status(&b->text_rows) != HANSE_OK) return undo_nomem(b);
  b->text_n++;
  return HANSE_OK;
}

int ledger_xfer_load(ledger_book *b, const char *id, ledger_xfer *x, json_t **rec, int *found) {
  char key[LEDGER_KEY_MAX];
  ledger_key_xfer(key, id);
  *rec = NULL;
  *found = 0;
  const char *text = NULL;
  size_t n = 0;
  json_t *o = json_object_get(b->w, key);
  if (o && json_is_null(o)) return HANSE_OK;
  if (o && !json_is_string(o)) { /* a JSON record made in this book */
    *rec = json_incref(o);
    *found = 1;
    return HANSE_OK;
  }
  if (o) {
    text = json_string_value(o);
    n = json_string_length(o);
  } else {
    const uint8_t *v;
    int rc = hanse_exec_get(b->ex, key, &v, &n, found);
    if (rc != HANSE_OK || !*found) return rc;
    text = (const char *)v;
  }
  *found = 1;
  if (n > 0 && text[0] == '{') { /* a record the row cannot hold */
    *rec = json_loadb(text, n, 0, NULL);
    if (*rec) return HANSE_OK;
  } else if (ledger_xfer_parse(x, text, n)) {
    return HANSE_OK;
  }
  HANSE_ERROR("ledger: %s is not a transfer record", key);
  b->ex->env_error = 1;
  return HANSE_ERR(INTERNAL);
}

int ledger_xfer_put(ledger_book *b, const ledger_xfer *x) {
  char key[LEDGER_KEY_MAX], row[LEDGER_XFER_TEXT_MAX];
  size_t n = ledger_xfer_format(row, x);
  ledger_key_xfer(key, x->id);
  return ledger_put(b, key, json_stringn_nocheck(row, n));
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

/* One row the commit writes: an overlay value (v; JSON null: delete), a
 * balance row (sums) or an opened account's static row (acct); the key of
 * the latter two in the commit's key arena until sorted. */
typedef struct wrow {
  const char *key;
  size_t key_off;
  json_t *v;
  const ledger_sums *sums;
  const ledger_acct *acct;
  const char *text; /* a row put as text (ledger_put_text) */
  size_t text_n;
} wrow;

static int wrow_cmp(const void *a, const void *b) {
  return strcmp(((const wrow *)a)->key, ((const wrow *)b)->key);
}

/* Debits equal credits in one asset's totals. */
static int totals_balanced(const char *key, const ledger_sums *t) {
  if (t->v[LEDGER_DP] == t->v[LEDGER_CP] && t->v[LEDGER_DPO] == t->v[LEDGER_CPO])
    return ledger_conf_balanced(key, t);
  HANSE_ERROR("ledger: invariant broken at %s: debits %" PRIu64 "/%" PRIu64
              " pending/posted, credits %" PRIu64 "/%" PRIu64,
              key, t->v[LEDGER_DP], t->v[LEDGER_DPO], t->v[LEDGER_CP], t->v[LEDGER_CPO]);
  return 0;
}

static void row_add(wrow *rows, size_t *n, hanse_buf *arena, const char *prefix, const uint8_t *k,
                    size_t kl, const ledger_sums *sums, const ledger_acct *acct) {
  size_t pl = strlen(prefix);
  HANSE_ASSERT(pl + kl < LEDGER_KEY_MAX);
  rows[(*n)++] = (wrow){NULL, arena->len, NULL, sums, acct, NULL, 0};
  hanse_buf_put(arena, prefix, pl);
  hanse_buf_put(arena, k, kl);
  hanse_buf_put(arena, "", 1);
}

/* The rows of the cache's changed entries onto rows[*n..]: an opened
 * account's static row, a dirty account's or total's balance row. */
static void cache_rows(ledger_book *b, wrow *rows, size_t *n, hanse_buf *arena) {
  size_t pos = 0;
  const uint8_t *k;
  size_t kl;
  void *v;
  while (hanse_hmap_next(&b->accts, &pos, &k, &kl, &v)) {
    const ledger_acct *a = v;
    if (a->opened) row_add(rows, n, arena, "ledger/acct/", k, kl, NULL, a);
    if (a->dirty) row_add(rows, n, arena, "ledger/bal/", k, kl, &a->sums, NULL);
  }
  pos = 0;
  while (hanse_hmap_next(&b->totals, &pos, &k, &kl, &v)) {
    const ledger_totals *t = v;
    if (t->dirty) row_add(rows, n, arena, "ledger/totals/", k, kl, &t->sums, NULL);
  }
}

int ledger_key_indexed(const char *key) {
  return strncmp(key, "ledger/acx/", 11) == 0 || strncmp(key, "ledger/cx/", 10) == 0;
}

/* v's canonical JSON (sorted keys, compact), as json_dumps prints it: a
 * string or an integer that fits buf[cap] -- an index row's transfer id, a
 * height -- printed there without jansson's allocations
 * (hanse_json_quote), anything else by json_dumps (free it when it is not
 * buf). NULL on no memory. */
static char *dump_short(json_t *v, char *buf, size_t cap, size_t *n) {
  if (json_is_string(v)) {
    *n = hanse_json_quote(buf, cap, json_string_value(v), json_string_length(v));
    if (*n < cap) return buf;
  } else if (json_is_integer(v) && cap >= 24) {
    *n = (size_t)snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    return buf;
  }
  char *text = json_dumps(v, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
  if (text) *n = strlen(text);
  return text;
}

static int write_row(ledger_book *b, const wrow *r) {
  if (r->text) return hanse_exec_put(b->ex, r->key, r->text, r->text_n);
  if (r->acct) {
    char text[LEDGER_ACCT_TEXT_MAX];
    size_t n = ledger_acct_format(text, r->acct);
    return hanse_exec_put(b->ex, r->key, text, n);
  }
  if (r->sums) {
    char text[LEDGER_SUMS_TEXT_MAX];
    size_t n = ledger_sums_format(text, r->sums);
    return hanse_exec_put(b->ex, r->key, text, n);
  }
  if (json_is_null(r->v)) { /* a key made and dropped by this action was never there */
    const uint8_t *old;
    size_t ol;
    int found;
    int rc = hanse_exec_get(b->ex, r->key, &old, &ol, &found);
    return rc == HANSE_OK && found ? hanse_exec_del(b->ex, r->key) : rc;
  }
  char row[LEDGER_XFER_TEXT_MAX];
  size_t row_n;
  if (ledger_key_is_xfer(r->key)) { /* a plain transfer's row */
    if (json_is_string(r->v)) /* made as one (ledger_xfer_put) */
      return hanse_exec_put(b->ex, r->key, json_string_value(r->v), json_string_length(r->v));
    if (ledger_xfer_encode(r->v, row, &row_n)) return hanse_exec_put(b->ex, r->key, row, row_n);
  }
  size_t n;
  char *text = dump_short(r->v, row, sizeof row, &n);
  if (text == NULL) return undo_nomem(b);
  int rc = ledger_key_indexed(r->key) ? hanse_exec_index_put(b->ex, r->key, text, n)
                                     : hanse_exec_put(b->ex, r->key, text, n);
  if (text != row) free(text);
  return rc;
}

int ledger_book_commit(ledger_book *b) {
  HANSE_ASSERT(b->marks == 0); /* every chain ended */
  int rc = books_flush(b);      /* the books' staged entries into their rows */
  if (rc != HANSE_OK) return rc;
  size_t n = 0,
         cap = json_object_size(b->w) + b->text_n + 2 * b->accts.count + b->totals.count;
  wrow *rows = malloc((cap ? cap : 1) * sizeof *rows);
  hanse_buf arena;
  hanse_buf_init(&arena);
  if (rows == NULL) return undo_nomem(b);
  const char *k;
  json_t *v;
  json_object_foreach(b->w, k, v) rows[n++] = (wrow){k, 0, v, NULL, NULL, NULL, 0};
  for (size_t i = 0, at = 0; i < b->text_n; i++) {
    const char *key = (const char *)b->text_rows.data + at;
    size_t tn;
    at += strlen(key) + 1;
    memcpy(&tn, b->text_rows.data + at, sizeof tn);
    at += sizeof tn;
    rows[n++] = (wrow){key, 0, NULL, NULL, NULL, (const char *)b->text_rows.data + at, tn};
    at += tn;
  }
  size_t typed = n;
  cache_rows(b, rows, &n, &arena);
  if (hanse_buf_status(&arena) != HANSE_OK) rc = undo_nomem(b);
  for (size_t i = typed; i < n && rc == HANSE_OK; i++)
    rows[i].key = (const char *)arena.data + rows[i].key_off;
  for (size_t i = typed; i < n && rc == HANSE_OK; i++)
    if (strncmp(rows[i].key, "ledger/totals/", 14) == 0 &&
        !totals_balanced(rows[i].key, rows[i].sums))
      rc = HANSE_ERR(INTERNAL);
  if (rc == HANSE_OK) qsort(rows, n, sizeof *rows, wrow_cmp);
  for (size_t i = 0; i < n && rc == HANSE_OK; i++) rc = write_row(b, &rows[i]);
  if (rc == HANSE_OK) ledger_cache_share(b);
  if (rc != HANSE_OK) b->ex->env_error = 1;
  hanse_buf_free(&arena);
  free(rows);
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
  HANSE_ASSERT(b->marks == 0);
  *k = *b;
  memset(b, 0, sizeof *b); /* moved: the kept book owns it all */
  hanse_exec_carry_set(k->ex, k, book_free);
}

int ledger_book_take(ledger_book *b, hanse_exec *ex) {
  ledger_book *k = hanse_exec_carry_take(ex);
  if (k == NULL) return 0;
  HANSE_ASSERT(k->ex == ex && k->w != NULL);
  *b = *k;
  free(k);
  return 1;
}
