/*
 * books/books_post.c -- writing the books: the chart, entries, and the
 * entries of a business transaction (books.h).
 *
 * Everything here writes through the ledger_book overlay of the action
 * that runs (ledger_get / ledger_put), so an entry is written together
 * with the ledger transfer or module action it books, or not at all: a
 * failing linked chain restores the overlay, verify throws it away.
 *
 * An entry is cheap to book: books_entry_stage numbers it and appends one
 * line of text to the staged lines (below); the chart is not touched per
 * entry. books_flush, when the book is committed, writes each owner's
 * staged entries as one chunk row with one books/tx row, one books/cp
 * row per counterparty, and opens each account they name once -- so a
 * batch of transfers writes rows per owner, not per transfer (books.h,
 * "Why chunks").
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
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/fmt.h"
#include "base/hex.h"
#include "base/log.h"
#include "encoding/json_real.h"
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
  hanse_cat(key, sizeof key, "books/acct/", owner, "/", account, NULL);
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

/* ---- staging ----
 *
 * The staged entries live in the book (ledger_book's stage, stage_at and
 * seqs), not in the overlay: each is one line "<owner>\t<seq>\t<entry
 * line>\n" appended to b->stage, and each owner's counter is a number in
 * memory, written to books/seq/<owner> once, when the book is flushed.
 * Both are changed only through ledger_book_save, so a linked chain's
 * rollback (ledger_book_rollback) brings back the counters and the live
 * length of its mark, and the next append first cuts the buffer to it --
 * the lines staged after the mark are gone, exactly as the overlay's
 * values are. Entry lines hold no control character (field_clean), so a
 * newline ends each. */

/* An owner's entry counter while the book stages: the last number given
 * and the one stored (books/seq/<owner>, 0: none). */
typedef struct books_seq {
  uint64_t last, stored;
} books_seq;

/* 1 if s (may be NULL) has no control character: a field of a line. */
static int field_clean(const char *s) {
  for (; s && *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f) return 0;
  return 1;
}

/* The owner's next entry number, counted in books/seq/<owner>. */
static int next_seq(ledger_book *b, const char *owner, uint64_t *seq) {
  size_t olen = strlen(owner);
  if (b->seqs.slots == NULL && hanse_hmap_init(&b->seqs, 8) != HANSE_OK) {
    b->ex->env_error = 1;
    return HANSE_ERR(NOMEM);
  }
  books_seq *c = hanse_hmap_get(&b->seqs, owner, olen);
  if (c == NULL) {
    char key[BOOKS_KEY_MAX];
    json_t *last = NULL;
    snprintf(key, sizeof key, "books/seq/%s", owner);
    int rc = ledger_get(b, key, &last);
    if (rc != HANSE_OK) return rc;
    if (last && (!json_is_integer(last) || json_integer_value(last) < 1 ||
                 (uint64_t)json_integer_value(last) >= BOOKS_SEQ_MAX)) {
      json_decref(last);
      return books_bug(b, "the entry counter is not a number below its bound", key);
    }
    c = malloc(sizeof *c);
    if (c) c->last = c->stored = last ? (uint64_t)json_integer_value(last) : 0;
    json_decref(last);
    if (c == NULL || hanse_hmap_put(&b->seqs, owner, olen, c, NULL) != HANSE_OK) {
      free(c);
      b->ex->env_error = 1;
      return HANSE_ERR(NOMEM);
    }
  }
  if (c->last + 1 >= BOOKS_SEQ_MAX) return books_bug(b, "the entry counter is at its bound", owner);
  int rc = ledger_book_save(b, &c->last, sizeof c->last);
  if (rc != HANSE_OK) return rc;
  *seq = ++c->last;
  return HANSE_OK;
}

/* Append the n bytes of line and its newline to the live staged lines. */
static int stage_append(ledger_book *b, const char *line, size_t n) {
  int rc = ledger_book_save(b, &b->stage_at, sizeof b->stage_at);
  if (rc != HANSE_OK) return rc;
  HANSE_ASSERT(b->stage.len >= b->stage_at.len);
  b->stage.len = b->stage_at.len; /* after a rollback */
  hanse_buf_put(&b->stage, line, n);
  hanse_buf_u8(&b->stage, '\n');
  if (hanse_buf_status(&b->stage) != HANSE_OK) {
    b->ex->env_error = 1;
    return HANSE_ERR(NOMEM);
  }
  b->stage_at.len = b->stage.len;
  b->stage_at.n++;
  return HANSE_OK;
}

static void put_str(char **p, const char *s) {
  size_t n = s ? strlen(s) : 0;
  memcpy(*p, s ? s : "", n);
  *p += n;
}

int books_entry_stage(ledger_book *b, const books_entry *e, uint64_t *seq_out) {
  if (e->owner == NULL || e->type == NULL || e->lines == NULL || e->n < 2 ||
      e->n > BOOKS_LINES_MAX)
    return books_bug(b, "an entry without owner, type or lines", e->owner);
  char rev[24] = "";
  if (e->reverses) snprintf(rev, sizeof rev, "%" PRIu64, e->reverses);
  const char *head[] = {e->owner, e->type, e->role, e->counterparty, e->ref, rev, e->memo};
  size_t need = 24 + sizeof head / sizeof head[0];
  for (size_t i = 0; i < sizeof head / sizeof head[0]; i++) {
    if (!field_clean(head[i])) return books_bug(b, "an entry field with a control character", head[i]);
    need += head[i] ? strlen(head[i]) : 0;
  }
  for (size_t i = 0; i < e->n; i++) {
    const books_line *l = &e->lines[i];
    if (l->account == NULL || l->asset == NULL || l->amount == 0 || !field_clean(l->account) ||
        !field_clean(l->asset))
      return books_bug(b, "an entry line without account, asset or amount", e->owner);
    need += strlen(l->account) + strlen(l->asset) + 24 + 3;
  }
  uint64_t seq;
  int rc = next_seq(b, e->owner, &seq);
  if (rc != HANSE_OK) return rc;
  /* "<owner>\t<seq>\t" then the entry line; fits the stack but for a
   * long manual entry */
  char stack[1024], *text = need <= sizeof stack ? stack : malloc(need), *p = text;
  if (text == NULL) {
    b->ex->env_error = 1;
    return HANSE_ERR(NOMEM);
  }
  put_str(&p, e->owner);
  *p++ = '\t';
  p += hanse_fmt_u64(p, seq);
  for (size_t i = 1; i < sizeof head / sizeof head[0]; i++) {
    *p++ = '\t';
    put_str(&p, head[i]);
  }
  for (size_t i = 0; i < e->n; i++) {
    const books_line *l = &e->lines[i];
    *p++ = '\t';
    put_str(&p, l->account);
    *p++ = '\t';
    put_str(&p, l->asset);
    *p++ = '\t';
    *p++ = l->credit ? 'c' : 'd';
    p += hanse_fmt_u64(p, l->amount);
  }
  HANSE_ASSERT((size_t)(p - text) < need);
  rc = stage_append(b, text, (size_t)(p - text));
  if (text != stack) free(text);
  if (rc == HANSE_OK && e->reverses) {
    char key[BOOKS_KEY_MAX];
    snprintf(key, sizeof key, "books/rev/%s/%0*" PRIu64, e->owner, BOOKS_SEQ_DIGITS, e->reverses);
    rc = ledger_put(b, key, json_integer((json_int_t)seq));
  }
  if (rc == HANSE_OK && seq_out) *seq_out = seq;
  return rc;
}

/* ---- flushing: the staged lines into chunks ---- */

typedef struct staged {
  books_text owner, line;
  uint64_t seq;
  size_t at; /* place in the staging order */
} staged;

static int text_cmp(const books_text *x, const books_text *y) {
  int c = memcmp(x->p, y->p, x->len < y->len ? x->len : y->len);
  return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int staged_cmp(const void *p, const void *q) {
  const staged *x = p, *y = q;
  int c = text_cmp(&x->owner, &y->owner);
  return c ? c : (x->at > y->at) - (x->at < y->at);
}

static int text_sort_cmp(const void *p, const void *q) { return text_cmp(p, q); }

/* Sort names and drop repeats: the new count. */
static size_t text_unique(books_text *t, size_t n) {
  if (n == 0) return 0;
  qsort(t, n, sizeof *t, text_sort_cmp);
  size_t k = 1;
  for (size_t i = 1; i < n; i++)
    if (text_cmp(&t[i], &t[k - 1]) != 0) t[k++] = t[i];
  return k;
}

void books_chunk_json(hanse_buf *out, const char *by, const char *entries, size_t n,
                      uint64_t height, uint64_t time_ms, const char *txhex) {
  size_t qn = hanse_json_quote(NULL, 0, entries, n);
  static const char head[] = "{\"by\":\"", mid[] = "\",\"entries\":";
  hanse_buf_put(out, head, sizeof head - 1);
  hanse_buf_put(out, by, strlen(by));
  hanse_buf_put(out, mid, sizeof mid - 1);
  if (hanse_buf_reserve(out, qn) == HANSE_OK) /* a failure sticks: the caller checks */
    out->len += hanse_json_quote((char *)out->data + out->len, qn, entries, n);
  char tail[96];
  int tn = snprintf(tail, sizeof tail, ",\"height\":%" PRIu64 ",\"time\":%" PRIu64 ",\"tx\":\"",
                    height, time_ms);
  hanse_buf_put(out, tail, (size_t)tn);
  hanse_buf_put(out, txhex, strlen(txhex));
  hanse_buf_put(out, "\"}", 2);
}

/* One owner's staged lines s[0..n) (in staging order, so seq order) as
 * its chunk, index rows and chart accounts. */
static int flush_owner(ledger_book *b, const staged *s, size_t n, const char *txhex,
                       const char *by) {
  char owner[LEDGER_OWNER_MAX + 1], key[BOOKS_KEY_MAX], name[BOOKS_ACCOUNT_MAX + 1];
  if (s[0].owner.len > LEDGER_OWNER_MAX) return books_bug(b, "a staged owner too long", NULL);
  memcpy(owner, s[0].owner.p, s[0].owner.len);
  owner[s[0].owner.len] = 0;
  uint64_t last = s[0].seq + n - 1;
  size_t ncp = 0, nacct = 0, cap = 2 * n; /* automatic entries have two lines */
  books_text *cps = malloc(n * sizeof *cps), *accts = malloc(cap * sizeof *accts);
  books_text f[BOOKS_F_MAX];
  hanse_buf text;
  hanse_buf_init(&text);
  int rc = cps && accts ? HANSE_OK : HANSE_ERR(NOMEM);
  for (size_t i = 0; i < n && rc == HANSE_OK; i++) {
    size_t nf = books_fields_split(s[i].line.p, s[i].line.len, f, BOOKS_F_MAX);
    if (s[i].seq != s[0].seq + i || nf < BOOKS_F_LINES + 6 || (nf - BOOKS_F_LINES) % 3 != 0) {
      rc = books_bug(b, "staged entries out of order or malformed", owner);
      break;
    }
    if (f[BOOKS_F_COUNTERPARTY].len) cps[ncp++] = f[BOOKS_F_COUNTERPARTY];
    if (nacct + (nf - BOOKS_F_LINES) / 3 > cap) {
      cap = 2 * cap + BOOKS_LINES_MAX;
      books_text *more = realloc(accts, cap * sizeof *accts);
      if (more == NULL) {
        rc = HANSE_ERR(NOMEM);
        break;
      }
      accts = more;
    }
    for (size_t k = BOOKS_F_LINES; k < nf; k += 3) accts[nacct++] = f[k];
    if (i) hanse_buf_u8(&text, '\n');
    hanse_buf_put(&text, s[i].line.p, s[i].line.len);
  }
  if (rc == HANSE_OK) rc = hanse_buf_status(&text);
  if (rc == HANSE_OK) {
    hanse_buf row;
    hanse_buf_init(&row);
    books_chunk_json(&row, by, (const char *)text.data, text.len, b->ex->height,
                     b->ex->time_ms, txhex);
    rc = hanse_buf_status(&row);
    snprintf(key, sizeof key, "books/je/%s/%0*" PRIu64, owner, BOOKS_SEQ_DIGITS, last);
    if (rc == HANSE_OK) rc = ledger_put_text(b, key, (const char *)row.data, row.len);
    hanse_buf_free(&row);
  }
  if (rc == HANSE_OK) {
    snprintf(key, sizeof key, "books/tx/%s/%s/%0*" PRIu64, txhex, owner, BOOKS_SEQ_DIGITS, last);
    rc = ledger_put(b, key, json_string(""));
  }
  ncp = rc == HANSE_OK ? text_unique(cps, ncp) : 0;
  for (size_t i = 0; i < ncp && rc == HANSE_OK; i++) {
    snprintf(key, sizeof key, "books/cp/%s/%.*s/%0*" PRIu64, owner, (int)cps[i].len, cps[i].p,
             BOOKS_SEQ_DIGITS, last);
    rc = ledger_put(b, key, json_string(""));
  }
  nacct = rc == HANSE_OK ? text_unique(accts, nacct) : 0;
  for (size_t i = 0; i < nacct && rc == HANSE_OK; i++) {
    if (accts[i].len > BOOKS_ACCOUNT_MAX) {
      rc = books_bug(b, "an account name too long", owner);
      break;
    }
    memcpy(name, accts[i].p, accts[i].len);
    name[accts[i].len] = 0;
    rc = books_chart_open(b, owner, name, NULL);
  }
  if (rc == HANSE_ERR(NOMEM)) b->ex->env_error = 1;
  hanse_buf_free(&text);
  free(cps);
  free(accts);
  return rc;
}

/* The counters the book moved, into books/seq/<owner>. */
static int seqs_store(ledger_book *b) {
  size_t pos = 0;
  const uint8_t *k;
  size_t kl;
  void *v;
  int rc = HANSE_OK;
  while (rc == HANSE_OK && b->seqs.slots && hanse_hmap_next(&b->seqs, &pos, &k, &kl, &v)) {
    books_seq *c = v;
    if (c->last == c->stored) continue;
    char key[BOOKS_KEY_MAX];
    snprintf(key, sizeof key, "books/seq/%.*s", (int)kl, (const char *)k);
    rc = ledger_put(b, key, json_integer((json_int_t)c->last));
    c->stored = c->last;
  }
  return rc;
}

int books_flush(ledger_book *b) {
  HANSE_ASSERT(b->marks == 0);
  size_t count = b->stage_at.n;
  int rc = seqs_store(b);
  if (rc != HANSE_OK || count == 0) return rc; /* nothing staged */
  staged *s = malloc(count * sizeof *s);
  if (s == NULL) {
    b->ex->env_error = 1;
    return HANSE_ERR(NOMEM);
  }
  const char *p = (const char *)b->stage.data, *all = p + b->stage_at.len;
  for (size_t i = 0; i < count && rc == HANSE_OK; i++) {
    const char *end = p < all ? memchr(p, '\n', (size_t)(all - p)) : NULL;
    const char *t1 = end ? memchr(p, '\t', (size_t)(end - p)) : NULL;
    const char *t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(end - t1 - 1)) : NULL;
    char num[24];
    if (t2 == NULL || (size_t)(t2 - t1 - 1) >= sizeof num) {
      rc = books_bug(b, "a malformed staged line", NULL);
      break;
    }
    memcpy(num, t1 + 1, (size_t)(t2 - t1 - 1));
    num[t2 - t1 - 1] = 0;
    s[i] = (staged){{p, (size_t)(t1 - p)}, {t2 + 1, (size_t)(end - t2 - 1)}, 0, i};
    if (!ledger_u64_parse(num, &s[i].seq)) rc = books_bug(b, "a malformed staged line", num);
    p = end + 1;
  }
  if (rc == HANSE_OK && p != all) rc = books_bug(b, "more staged lines than counted", NULL);
  if (rc == HANSE_OK) qsort(s, count, sizeof *s, staged_cmp);
  char txhex[HANSE_HASH_HEX_BYTES], by[HANSE_HASH_HEX_BYTES];
  hanse_hex_encode(txhex, b->ex->tx->id.b, HANSE_HASH_BYTES);
  hanse_pubkey_hex(by, &b->ex->tx->signer);
  for (size_t i = 0, k; i < count && rc == HANSE_OK; i = k) {
    for (k = i + 1; k < count && text_cmp(&s[k].owner, &s[i].owner) == 0; k++) {
    }
    rc = flush_owner(b, s + i, k - i, txhex, by);
  }
  free(s);
  b->stage_at.len = b->stage_at.n = 0; /* written */
  b->stage.len = 0;
  return rc;
}

int books_post_side(ledger_book *b, const char *owner, books_role role, const char *type,
                    const char *counterparty, const char *asset, uint64_t amount,
                    const char *ref, const char *memo) {
  if (owner == NULL || type == NULL || asset == NULL || amount == 0)
    return books_bug(b, "a business transaction without owner, type, asset or amount", type);
  char key[BOOKS_KEY_MAX];
  json_t *own = NULL;
  const char *debit, *credit;
  hanse_cat(key, sizeof key, "books/rule/", owner, "/", type, "/", books_role_name(role), NULL);
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
  books_line lines[2] = {{debit, asset, 0, amount}, {credit, asset, 1, amount}};
  books_entry e = {owner, type, books_role_name(role), counterparty, ref, memo, 0, lines, 2};
  rc = books_entry_stage(b, &e, NULL);
  json_decref(own); /* debit and credit were its */
  return rc;
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
