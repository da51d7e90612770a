/*
 * books/books_reconcile.c -- reconciling two enterprises' books: a's
 * entries about b against b's entries about a (books_report.h states the
 * result).
 *
 * Every business transaction between two enterprises is booked in both
 * books by the same chain transaction, so the chain itself is the
 * matching key: two entries belong together when they carry the same tx,
 * the same business reference and type, and opposite roles (one paid,
 * the other was paid). What can go wrong, and is listed:
 *
 *   only_a / only_b     an entry has no partner on the other side (a
 *                       manual entry, or a booking the other party lacks)
 *   amounts_differ      the partners book different amounts of an asset
 *   reversed_one_side   one party reversed its entry, the other did not
 *
 * Two partners whose amounts are in different assets are a converted
 * payment (modules/fx: the payer books what it paid, the payee what it
 * received, the market maker the conversion): they match with
 * "converted":true and are not a difference -- the rate is the maker's
 * signed quote, which the chain checked. And some entries are one-sided
 * by design, booked only in one party's books although they name the
 * other (a maker's conversion entries, an issuer's loyalty entries): an
 * unmatched one is listed under "one_sided", not as a difference.
 *
 * A reversing entry is not matched itself: it is a correction of one
 * party's own books, made by that party in a transaction of its own; its
 * effect shows as its original being reversed. Matching sorts b's
 * entries by key once and finds each of a's by binary search, so it is
 * O(n log n) in the number of entries.
 */
#include <stdlib.h>
#include <string.h>

#include "modules/books/books_report.h"

/* An entry's matching key and what the result shows of it. */
typedef struct side_entry {
  json_t *entry; /* borrowed */
  const char *tx, *ref, *type, *role;
  int reversed;
  int matched;
} side_entry;

typedef struct side {
  side_entry *e; /* owned */
  size_t n;
} side;

static const char *str_or_empty(json_t *o, const char *name) {
  const char *s = json_string_value(json_object_get(o, name));
  return s ? s : "";
}

static int key_cmp(const side_entry *x, const side_entry *y) {
  int c = strcmp(x->tx, y->tx);
  if (c == 0) c = strcmp(x->ref, y->ref);
  if (c == 0) c = strcmp(x->type, y->type);
  return c;
}

/* Sorting pointers into one array: by key, then by place (seq order). */
static int sort_cmp(const void *p, const void *q) {
  const side_entry *x = *(side_entry *const *)p, *y = *(side_entry *const *)q;
  int c = key_cmp(x, y);
  return c ? c : (x < y ? -1 : x > y);
}

/* The entries of one side that are not reversals, each marked reversed
 * when it carries "reversed_by" or an entry of the list reverses it. */
static int side_load(side *s, json_t *entries, hanse_reject *rej) {
  size_t n = json_array_size(entries), i;
  json_t *e;
  s->n = 0;
  s->e = calloc(n ? n : 1, sizeof *s->e);
  if (s->e == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  json_array_foreach(entries, i, e) {
    uint64_t t, seq;
    if (books_entry_check(e, &t, &seq, rej) != HANSE_OK) return HANSE_ERR(INTERNAL);
    if (json_object_get(e, "reverses")) continue;
    s->e[s->n++] = (side_entry){e,
                                str_or_empty(e, "tx"),
                                str_or_empty(e, "ref"),
                                str_or_empty(e, "type"),
                                json_string_value(json_object_get(e, "role")),
                                json_object_get(e, "reversed_by") != NULL,
                                0};
  }
  /* reversals in the list mark their originals */
  json_array_foreach(entries, i, e) {
    json_t *r = json_object_get(e, "reverses");
    if (r == NULL) continue;
    for (size_t k = 0; k < s->n; k++) {
      json_t *seq = json_object_get(s->e[k].entry, "seq");
      if (json_equal(seq, r)) s->e[k].reversed = 1;
    }
  }
  return HANSE_OK;
}

/* {"seq","role","amounts":{asset:"n"},"reversed"}: amounts are the
 * entry's debits per asset. */
static json_t *side_json(const side_entry *se) {
  books_tally t;
  books_tally_init(&t);
  json_t *amounts = json_object();
  if (books_tally_entry(&t, se->entry) == HANSE_OK)
    for (size_t i = 0; i < t.n; i++) {
      books_sum d = 0;
      size_t k = i;
      while (k < t.n && strcmp(t.rows[k].asset, t.rows[i].asset) == 0) d += t.rows[k++].debits;
      json_object_set_new(amounts, t.rows[i].asset, books_sum_json(d));
      i = k - 1;
    }
  books_tally_free(&t);
  json_t *o = json_pack("{s:O, s:o, s:b}", "seq", json_object_get(se->entry, "seq"), "amounts",
                        amounts, "reversed", se->reversed);
  if (se->role) json_object_set_new(o, "role", json_string(se->role));
  return o;
}

/* Business types booked only in one party's books (books.h). */
static int one_sided_type(const char *type) {
  return strcmp(type, BOOKS_CONVERSION) == 0 || strcmp(type, BOOKS_LOYALTY) == 0;
}

/* 1 if two amounts objects ({asset: "n"}) share no asset. */
static int disjoint_assets(json_t *x, json_t *y) {
  const char *k;
  json_t *v;
  json_object_foreach(x, k, v) {
    if (json_object_get(y, k)) return 0;
  }
  return json_object_size(x) > 0 && json_object_size(y) > 0;
}

/* A row of "matched" or "differences": the key, then the sides. */
static json_t *row(const side_entry *key, const char *kind, json_t *a, json_t *b) {
  json_t *o = json_pack("{s:s, s:s}", "tx", key->tx, "type", key->type);
  if (key->ref[0]) json_object_set_new(o, "ref", json_string(key->ref));
  if (kind) json_object_set_new(o, "kind", json_string(kind));
  if (a) json_object_set(o, "a", a);
  if (b) json_object_set(o, "b", b);
  return o;
}

/* The first unmatched entry of b (n of them, sorted by key) with x's key
 * and the opposite role, or NULL. */
static side_entry *partner(side_entry **b, size_t n, const side_entry *x) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (key_cmp(b[mid], x) < 0) lo = mid + 1;
    else hi = mid;
  }
  for (size_t k = lo; k < n && key_cmp(b[k], x) == 0; k++) {
    side_entry *y = b[k];
    if (!y->matched && x->role && y->role && strcmp(x->role, y->role) != 0) return y;
  }
  return NULL;
}

int books_report_reconcile(json_t *a_entries, json_t *b_entries, const char *a, const char *b,
                           json_t **out, hanse_reject *rej) {
  side sa = {0}, sb = {0};
  int rc = side_load(&sa, a_entries, rej);
  if (rc == HANSE_OK) rc = side_load(&sb, b_entries, rej);
  if (rc != HANSE_OK) {
    free(sa.e);
    free(sb.e);
    return rc;
  }
  /* b by key, for the search; only_b is listed in b's own order */
  side_entry **sorted = malloc((sb.n ? sb.n : 1) * sizeof *sorted);
  if (sorted == NULL) {
    free(sa.e);
    free(sb.e);
    return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  }
  for (size_t i = 0; i < sb.n; i++) sorted[i] = &sb.e[i];
  qsort(sorted, sb.n, sizeof *sorted, sort_cmp);

  json_t *matched = json_array(), *diffs = json_array(), *one_sided = json_array();
  for (size_t i = 0; i < sa.n; i++) {
    side_entry *x = &sa.e[i];
    side_entry *y = partner(sorted, sb.n, x);
    json_t *ja = side_json(x);
    if (y == NULL) {
      json_array_append_new(one_sided_type(x->type) ? one_sided : diffs,
                            row(x, "only_a", ja, NULL));
      json_decref(ja);
      continue;
    }
    y->matched = x->matched = 1;
    json_t *jb = side_json(y);
    int converted =
        disjoint_assets(json_object_get(ja, "amounts"), json_object_get(jb, "amounts"));
    int same_amounts =
        converted || json_equal(json_object_get(ja, "amounts"), json_object_get(jb, "amounts"));
    int agree = same_amounts && x->reversed == y->reversed;
    json_t *m = row(x, NULL, ja, jb);
    json_object_set_new(m, "agree", json_boolean(agree));
    if (converted) json_object_set_new(m, "converted", json_true());
    json_array_append_new(matched, m);
    if (!same_amounts) json_array_append_new(diffs, row(x, "amounts_differ", ja, jb));
    if (x->reversed != y->reversed)
      json_array_append_new(diffs, row(x, "reversed_one_side", ja, jb));
    json_decref(ja);
    json_decref(jb);
  }
  for (size_t i = 0; i < sb.n; i++) {
    if (sb.e[i].matched) continue;
    json_t *jb = side_json(&sb.e[i]);
    json_array_append_new(one_sided_type(sb.e[i].type) ? one_sided : diffs,
                          row(&sb.e[i], "only_b", NULL, jb));
    json_decref(jb);
  }
  free(sa.e);
  free(sb.e);
  free(sorted);
  *out = json_pack("{s:s, s:s, s:b, s:o, s:o, s:o}", "a", a, "b", b, "agree",
                   json_array_size(diffs) == 0, "matched", matched, "differences", diffs,
                   "one_sided", one_sided);
  return *out ? HANSE_OK : hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
}
