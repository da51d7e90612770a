/*
 * books/books_chunk.c -- reading entries out of the journal's chunks.
 *
 * The journal is stored in chunks (books.h, "State"): the row
 * books/je/<owner>/<last> holds every entry one chain transaction booked
 * for the owner, numbered last-n+1 .. last, the transaction's fields
 * once and each entry as one line of tab-separated fields. Chunks are
 * written once (books_flush) and never changed, and an owner's chunks
 * cover 1 .. books/seq/<owner> without gaps or overlaps, so:
 *
 *   - the chunk holding entry s is the first row at or after s in key
 *     order: a scan from <s - 1> with a limit of one;
 *   - during a block, a scan of the store does not see the chunks written
 *     earlier in the same block (hanse_exec_scan_stored). If the stored
 *     scan finds none at or after s, entry s -- if it exists -- is in one
 *     of those: books_entry_lookup walks back from the owner's last chunk
 *     (its key is books/seq/<owner>), each chunk's first seq minus one
 *     being the previous chunk's key, reading through the overlay and the
 *     block's writes. The walk is as long as the owner's chunks of this
 *     block, and only books.reverse does it.
 *
 * Every reader gets entries as the JSON objects the queries have always
 * answered with (books.h lists the members, in the order built here), so
 * no query, report or export knows about chunks. A chunk or line not of
 * the documented shape is a bug in the books: HANSE_ERR(INTERNAL).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/books/books.h"

size_t books_fields_split(const char *s, size_t len, books_text *f, size_t max) {
  size_t n = 0;
  const char *end = s + len;
  for (;;) {
    const char *tab = memchr(s, '\t', (size_t)(end - s));
    const char *stop = tab ? tab : end;
    if (n == max) return 0;
    f[n++] = (books_text){s, (size_t)(stop - s)};
    if (tab == NULL) return n;
    s = tab + 1;
  }
}

int books_seq_key_parse(const char *s, size_t n, uint64_t *seq) {
  uint64_t v = 0;
  if (n != BOOKS_SEQ_DIGITS) return 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  *seq = v;
  return v >= 1;
}

static int text_is(const books_text *t, const char *s) {
  return strlen(s) == t->len && memcmp(t->p, s, t->len) == 0;
}

/* A decimal u64 field (no leading zero): 1 and *v, or 0. */
static int text_u64(const books_text *t, uint64_t *v) {
  char num[24];
  if (t->len == 0 || t->len >= sizeof num) return 0;
  memcpy(num, t->p, t->len);
  num[t->len] = 0;
  return ledger_u64_parse(num, v);
}

/* Set o[name] to the field as a string, unless it is empty. */
static int set_text(json_t *o, const char *name, const books_text *t) {
  if (t->len == 0) return 0;
  return json_object_set_new(o, name, json_stringn(t->p, t->len));
}

/* The lines array of the entry's fields f[BOOKS_F_LINES..nf). */
static json_t *lines_json(const books_text *f, size_t nf) {
  json_t *lines = json_array();
  for (size_t k = BOOKS_F_LINES; lines && k + 2 < nf; k += 3) {
    const books_text *side = &f[k + 2];
    books_text amount = {side->p + 1, side->len ? side->len - 1 : 0};
    uint64_t v;
    json_t *l = NULL;
    if (side->len >= 2 && (side->p[0] == 'd' || side->p[0] == 'c') && text_u64(&amount, &v) &&
        f[k].len && f[k + 1].len)
      l = json_pack("{s:s%, s:s%, s:s%}", "account", f[k].p, f[k].len, "asset", f[k + 1].p,
                    f[k + 1].len, side->p[0] == 'd' ? "debit" : "credit", amount.p, amount.len);
    if (l == NULL || json_array_append_new(lines, l) != 0) {
      json_decref(lines);
      return NULL;
    }
  }
  return lines;
}

/* The number of entries in a chunk's text (lines), 0 when it has none. */
static uint64_t chunk_count(const char *text, size_t len) {
  uint64_t n = len ? 1 : 0;
  for (const char *p = text; len && (p = memchr(p, '\n', len - (size_t)(p - text))); p++) n++;
  return n;
}

/* The chunk's shared members, read once. */
typedef struct chunk_head {
  json_t *tx, *by, *height, *time;
  const char *text;
  size_t len;
} chunk_head;

/* Entry `seq` of owner from its line's fields: a new object, NULL when
 * malformed (or out of memory). */
static json_t *entry_json(const char *owner, uint64_t seq, const chunk_head *h,
                          const books_text *f, size_t nf) {
  uint64_t reverses = 0;
  if (nf < BOOKS_F_LINES + 3 || (nf - BOOKS_F_LINES) % 3 != 0 || f[BOOKS_F_TYPE].len == 0 ||
      (f[BOOKS_F_REVERSES].len && !text_u64(&f[BOOKS_F_REVERSES], &reverses)))
    return NULL;
  json_t *lines = lines_json(f, nf), *e = json_object();
  int bad = lines == NULL || e == NULL;
  bad |= json_object_set(e, "by", h->by) != 0;
  bad |= set_text(e, "counterparty", &f[BOOKS_F_COUNTERPARTY]) != 0;
  bad |= json_object_set(e, "height", h->height) != 0;
  bad |= json_object_set(e, "lines", lines) != 0;
  bad |= set_text(e, "memo", &f[BOOKS_F_MEMO]) != 0;
  bad |= json_object_set_new(e, "owner", json_string(owner)) != 0;
  bad |= set_text(e, "ref", &f[BOOKS_F_REF]) != 0;
  if (reverses) bad |= json_object_set_new(e, "reverses", json_integer((json_int_t)reverses)) != 0;
  bad |= set_text(e, "role", &f[BOOKS_F_ROLE]) != 0;
  bad |= json_object_set_new(e, "seq", json_integer((json_int_t)seq)) != 0;
  bad |= json_object_set(e, "time", h->time) != 0;
  bad |= json_object_set(e, "tx", h->tx) != 0;
  bad |= json_object_set_new(e, "type", json_stringn(f[BOOKS_F_TYPE].p, f[BOOKS_F_TYPE].len)) != 0;
  json_decref(lines);
  if (bad) {
    json_decref(e);
    return NULL;
  }
  return e;
}

int books_chunk_each(const char *owner, uint64_t last, json_t *chunk, uint64_t from,
                     const char *counterparty, books_entry_fn fn, void *ctx) {
  chunk_head h = {json_object_get(chunk, "tx"), json_object_get(chunk, "by"),
                  json_object_get(chunk, "height"), json_object_get(chunk, "time"), NULL, 0};
  json_t *entries = json_object_get(chunk, "entries");
  if (!json_is_string(h.tx) || !json_is_string(h.by) || !json_is_integer(h.height) ||
      !json_is_integer(h.time) || !json_is_string(entries) || json_string_length(entries) == 0)
    return HANSE_ERR(INTERNAL);
  h.text = json_string_value(entries);
  h.len = json_string_length(entries);
  uint64_t n = chunk_count(h.text, h.len);
  if (n > last) return HANSE_ERR(INTERNAL);
  uint64_t seq = last - n + 1;
  const char *p = h.text, *end = h.text + h.len;
  books_text f[BOOKS_F_MAX];
  for (; p <= end; seq++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *eol = nl ? nl : end;
    if (seq >= from) {
      size_t nf = books_fields_split(p, (size_t)(eol - p), f, BOOKS_F_MAX);
      if (nf < BOOKS_F_LINES) return HANSE_ERR(INTERNAL);
      if (counterparty == NULL || text_is(&f[BOOKS_F_COUNTERPARTY], counterparty)) {
        json_t *e = entry_json(owner, seq, &h, f, nf);
        if (e == NULL) return HANSE_ERR(INTERNAL);
        int r = fn(ctx, e);
        json_decref(e);
        if (r != 0) return r < 0 ? r : 1;
      }
    }
    if (nl == NULL) break;
    p = nl + 1;
  }
  return 0;
}

int books_chunk_read(hanse_view *v, const char *owner, uint64_t last, const char *counterparty,
                     books_entry_fn fn, void *ctx) {
  char key[BOOKS_KEY_MAX];
  json_t *chunk = NULL;
  snprintf(key, sizeof key, "books/je/%s/%0*" PRIu64, owner, BOOKS_SEQ_DIGITS, last);
  int rc = hanse_view_get_json(v, key, &chunk);
  if (rc == HANSE_OK && chunk == NULL) rc = HANSE_ERR(INTERNAL); /* an index without chunk */
  if (rc != HANSE_OK) return rc;
  rc = books_chunk_each(owner, last, chunk, 1, counterparty, fn, ctx);
  json_decref(chunk);
  return rc;
}

/* ---- one entry ---- */

typedef struct pick_ctx {
  uint64_t seq;
  json_t *entry; /* the entry numbered seq, once found */
} pick_ctx;

static int pick(void *ctx, json_t *entry) {
  pick_ctx *pc = ctx;
  if ((uint64_t)json_integer_value(json_object_get(entry, "seq")) == pc->seq)
    pc->entry = json_incref(entry);
  return 1; /* the first entry at or after seq is it, or there is none */
}

/* Entry pc->seq from chunk <last>, if there. */
static int pick_from(const char *owner, uint64_t last, json_t *chunk, pick_ctx *pc) {
  int r = books_chunk_each(owner, last, chunk, pc->seq, NULL, pick, pc);
  return r < 0 ? r : HANSE_OK;
}

/* The first chunk row a scan visits: its number and value. */
typedef struct first_row {
  size_t plen;
  uint64_t last;
  json_t *chunk;
  int bad;
} first_row;

static int first_visit(void *ctx, const uint8_t *k, size_t kl, const uint8_t *val, size_t vl) {
  first_row *fr = ctx;
  if (kl < fr->plen || !books_seq_key_parse((const char *)k + fr->plen, kl - fr->plen, &fr->last) ||
      (fr->chunk = json_loadb((const char *)val, vl, 0, NULL)) == NULL)
    fr->bad = 1;
  return 1;
}

static void chunk_prefix(char prefix[BOOKS_KEY_MAX], char after[BOOKS_KEY_MAX], const char *owner,
                         uint64_t seq) {
  snprintf(prefix, BOOKS_KEY_MAX, "books/je/%s/", owner);
  snprintf(after, BOOKS_KEY_MAX, "books/je/%s/%0*" PRIu64, owner, BOOKS_SEQ_DIGITS, seq - 1);
}

int books_entry_find(hanse_view *v, const char *owner, uint64_t seq, json_t **entry) {
  char prefix[BOOKS_KEY_MAX], after[BOOKS_KEY_MAX];
  *entry = NULL;
  if (seq == 0) return HANSE_OK;
  chunk_prefix(prefix, after, owner, seq);
  first_row fr = {strlen(prefix), 0, NULL, 0};
  int rc = hanse_view_scan(v, prefix, after, 1, first_visit, &fr);
  if (rc == HANSE_OK && fr.bad) rc = HANSE_ERR(INTERNAL);
  pick_ctx pc = {seq, NULL};
  if (rc == HANSE_OK && fr.chunk) rc = pick_from(owner, fr.last, fr.chunk, &pc);
  json_decref(fr.chunk);
  if (rc == HANSE_OK) *entry = pc.entry;
  else json_decref(pc.entry);
  return rc;
}

int books_entry_lookup(ledger_book *b, const char *owner, uint64_t seq, json_t **entry) {
  char prefix[BOOKS_KEY_MAX], after[BOOKS_KEY_MAX], key[BOOKS_KEY_MAX];
  json_t *top = NULL;
  *entry = NULL;
  if (seq == 0) return HANSE_OK;
  snprintf(key, sizeof key, "books/seq/%s", owner);
  int rc = ledger_get(b, key, &top);
  uint64_t last = json_is_integer(top) ? (uint64_t)json_integer_value(top) : 0;
  json_decref(top);
  if (rc != HANSE_OK || seq > last) return rc; /* no such entry */
  /* a chunk of an earlier block */
  chunk_prefix(prefix, after, owner, seq);
  first_row fr = {strlen(prefix), 0, NULL, 0};
  rc = hanse_exec_scan_stored(b->ex, prefix, after, 1, first_visit, &fr);
  if (rc == HANSE_OK && fr.bad) rc = HANSE_ERR(INTERNAL);
  pick_ctx pc = {seq, NULL};
  if (rc == HANSE_OK && fr.chunk) rc = pick_from(owner, fr.last, fr.chunk, &pc);
  json_decref(fr.chunk);
  /* none stored at or after seq: a chunk of this block, walking back */
  while (rc == HANSE_OK && fr.chunk == NULL && pc.entry == NULL && last >= seq) {
    json_t *chunk = NULL;
    snprintf(key, sizeof key, "books/je/%s/%0*" PRIu64, owner, BOOKS_SEQ_DIGITS, last);
    if ((rc = ledger_get(b, key, &chunk)) != HANSE_OK || chunk == NULL) break;
    json_t *text = json_object_get(chunk, "entries");
    uint64_t n = chunk_count(json_string_value(text), json_string_length(text));
    if (n == 0 || n > last) rc = HANSE_ERR(INTERNAL);
    else if (last - n + 1 <= seq) rc = pick_from(owner, last, chunk, &pc);
    last -= n; /* the previous chunk's key */
    json_decref(chunk);
  }
  if (rc != HANSE_OK) {
    json_decref(pc.entry);
    b->ex->env_error = 1;
    return rc;
  }
  *entry = pc.entry;
  return HANSE_OK;
}
