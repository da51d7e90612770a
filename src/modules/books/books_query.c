/*
 * books/books_query.c -- reading the books for the API.
 *
 *   chart         {owner, after?, limit?}  {"owner","accounts":[{"account",
 *                                          "type","name"?,"opened_at"}],
 *                                          "next"?} in name order
 *   rules         {owner}                  {"owner","rules":[{"type","role",
 *                                          "debit","credit","source":"own"|
 *                                          "default","default"?:{"debit",
 *                                          "credit"}}]}: the rule in force
 *                                          for every (type, role) with a
 *                                          default; an own rule shows the
 *                                          default it overrides
 *   journal       {owner, after?, limit?}  {"owner","entries":[entry],
 *                                          "next"?} in seq order; after and
 *                                          next are entry numbers
 *   entry         {owner, seq}             the entry, with "reversed_by":
 *                                          seq when it was reversed
 *   tx            {tx}                     {"tx","entries":[entry]}: every
 *                                          entry of one chain transaction,
 *                                          any owner, in (owner, seq) order
 *   trial_balance {owner, from?, to?}      {"owner","from"?,"to"?,"entries",
 *                                          "accounts":[{"account","type",
 *                                          "asset","debit","credit",
 *                                          "balance"}],"totals":[{"asset",
 *                                          "debit","credit","balanced"}],
 *                                          "balanced"}
 *
 * and the reports ("ledger", "income", "balance_sheet", "reconcile",
 * "export"), which books_report.c answers. Parameters are strings (they
 * come from a URL); from/to as books_time_param reads them, a period
 * being from <= time < to.
 *
 * The trial balance is computed, not assumed: every line of every entry
 * in the period is summed per (account, asset); the totals per asset are
 * the sums of those rows, and "balanced" says whether each asset's debits
 * equal its credits -- which they must, every entry balancing on its own.
 * A balance is debits minus credits, a decimal string with a leading '-'
 * when the credits are more. A sum beyond 2^64-1 is refused
 * (books.overflow, 422) rather than wrapped.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "modules/books/books.h"
#include "modules/trace/trace.h"

#define BOOKS_SCAN_PAGE 256 /* rows read per store scan */

/* ---- scanning ---- */

/* fn gets each row's key after the prefix and its value (borrowed):
 * 0 go on, 1 stop, < 0 an error. */
typedef int (*row_fn)(void *ctx, hanse_view *v, const char *suffix, json_t *val);

typedef struct scan_ctx {
  hanse_view *v;
  row_fn fn;
  void *ctx;
  size_t plen, n;
  int rc, stop;
  char last[BOOKS_KEY_MAX];
} scan_ctx;

static int scan_visit(void *c, const uint8_t *k, size_t kl, const uint8_t *val, size_t vl) {
  scan_ctx *sc = c;
  json_t *j = json_loadb((const char *)val, vl, JSON_DECODE_ANY, NULL);
  if (j == NULL || kl >= sizeof sc->last || kl < sc->plen) {
    json_decref(j);
    sc->rc = HANSE_ERR(INTERNAL);
    return 1;
  }
  memcpy(sc->last, k, kl);
  sc->last[kl] = 0;
  sc->n++;
  int r = sc->fn(sc->ctx, sc->v, sc->last + sc->plen, j);
  json_decref(j);
  if (r < 0) sc->rc = r;
  if (r > 0) sc->stop = 1;
  return r != 0;
}

/* Every row under prefix after prefix+after (after may be NULL), page by
 * page, until fn stops. */
static int scan_rows(hanse_view *v, const char *prefix, const char *after, row_fn fn, void *ctx) {
  scan_ctx sc = {v, fn, ctx, strlen(prefix), 0, HANSE_OK, 0, ""};
  char from[2 * BOOKS_KEY_MAX];
  if (after) snprintf(from, sizeof from, "%s%s", prefix, after);
  for (;;) {
    sc.n = 0;
    int rc = hanse_view_scan(v, prefix, after ? from : NULL, BOOKS_SCAN_PAGE, scan_visit, &sc);
    if (rc != HANSE_OK) return rc;
    if (sc.rc != HANSE_OK || sc.stop || sc.n < BOOKS_SCAN_PAGE) return sc.rc;
    snprintf(from, sizeof from, "%s", sc.last);
    after = "";
  }
}

typedef struct entry_scan {
  const char *owner;
  uint64_t from; /* the first seq wanted */
  books_entry_fn fn;
  void *ctx;
} entry_scan;

/* A chunk row books/je/<owner>/<last>: its entries from es->from on. */
static int chunk_row(void *c, hanse_view *v, const char *suffix, json_t *val) {
  (void)v;
  entry_scan *es = c;
  uint64_t last;
  if (!books_seq_key_parse(suffix, strlen(suffix), &last)) return HANSE_ERR(INTERNAL);
  return books_chunk_each(es->owner, last, val, es->from, NULL, es->fn, es->ctx);
}

int books_entries_scan(hanse_view *v, const char *owner, uint64_t after, books_entry_fn fn,
                       void *ctx) {
  char prefix[BOOKS_KEY_MAX], from[32];
  snprintf(prefix, sizeof prefix, "books/je/%s/", owner);
  /* the chunk holding entry after+1 is the first whose number is above after */
  snprintf(from, sizeof from, "%0*" PRIu64, BOOKS_SEQ_DIGITS, after);
  entry_scan es = {owner, after + 1, fn, ctx};
  return scan_rows(v, prefix, after ? from : NULL, chunk_row, &es);
}

/* ---- parameters ---- */

int books_owner_param(json_t *params, const char **owner, hanse_reject *rej) {
  *owner = json_string_value(json_object_get(params, "owner"));
  if (ledger_owner_valid(*owner)) return HANSE_OK;
  return hanse_reject_code(rej, "books.bad_owner", 400,
                           "\"owner\" must be an organisation id or a key's lowercase hex");
}

int books_time_param(json_t *params, const char *name, uint64_t dflt, uint64_t *ms,
                     hanse_reject *rej) {
  const char *s = json_string_value(json_object_get(params, name));
  *ms = dflt;
  if (s == NULL) return HANSE_OK;
  char full[40];
  int64_t t = -1;
  if (ledger_u64_parse(s, ms)) return HANSE_OK;
  if (strlen(s) == 10) { /* a date: its first instant in UTC */
    snprintf(full, sizeof full, "%sT00:00:00Z", s);
    s = full;
  }
  if (trace_time_parse(s, &t) && t >= 0) {
    *ms = (uint64_t)t;
    return HANSE_OK;
  }
  return hanse_reject_code(rej, "books.bad_time", 400,
                           "\"%s\" must be block time in ms, a date (2025-03-01) or an "
                           "RFC 3339 date-time",
                           name);
}

static int seq_param(json_t *params, const char *name, int required, uint64_t *seq,
                     hanse_reject *rej) {
  const char *s = json_string_value(json_object_get(params, name));
  *seq = 0;
  if (s == NULL && !required) return HANSE_OK;
  if (ledger_u64_parse(s, seq) && *seq <= BOOKS_SEQ_MAX && (*seq >= 1 || !required))
    return HANSE_OK;
  return hanse_reject_code(rej, "books.bad_seq", 400, "\"%s\" must be an entry number", name);
}

static int nomem(hanse_reject *rej) { return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL); }

/* ---- lists ---- */

typedef struct collect {
  json_t *arr;
  size_t limit; /* 0: all */
} collect;

static int collect_row(void *c, hanse_view *v, const char *suffix, json_t *val) {
  (void)v;
  (void)suffix;
  collect *cl = c;
  if (json_array_append(cl->arr, val) != 0) return HANSE_ERR(NOMEM);
  return cl->limit && json_array_size(cl->arr) >= cl->limit;
}

static int entry_collect(void *c, json_t *entry) { return collect_row(c, NULL, NULL, entry); }

/* A row books/tx/<tx>/<owner>/<last>: every entry of chunk <last>. */
static int tx_row(void *c, hanse_view *v, const char *suffix, json_t *val) {
  (void)val;
  const char *slash = strrchr(suffix, '/');
  char owner[LEDGER_OWNER_MAX + 1];
  uint64_t last;
  size_t olen = slash ? (size_t)(slash - suffix) : 0;
  if (olen == 0 || olen > LEDGER_OWNER_MAX || !books_seq_key_parse(slash + 1, strlen(slash + 1), &last))
    return HANSE_ERR(INTERNAL);
  memcpy(owner, suffix, olen);
  owner[olen] = 0;
  return books_chunk_read(v, owner, last, NULL, entry_collect, c);
}

/* chart and journal: one page of records into out["accounts"] or
 * out["entries"], with "next" (the last account, the last entry's seq)
 * when the page is full. */
static int page(hanse_view *v, json_t *params, const char *owner, int journal, json_t *out,
                hanse_reject *rej) {
  collect cl = {json_array(), (size_t)hanse_view_limit(params)};
  if (cl.arr == NULL) return nomem(rej);
  int rc;
  if (journal) {
    uint64_t after;
    if (seq_param(params, "after", 0, &after, rej) != HANSE_OK) {
      json_decref(cl.arr);
      return HANSE_ERR(INVALID);
    }
    rc = books_entries_scan(v, owner, after, entry_collect, &cl);
  } else {
    const char *after = json_string_value(json_object_get(params, "after"));
    if (after && books_account_type(after) == NULL) {
      json_decref(cl.arr);
      return hanse_reject_code(rej, "books.bad_account", 400, "\"after\" must be an account name");
    }
    char prefix[BOOKS_KEY_MAX];
    snprintf(prefix, sizeof prefix, "books/acct/%s/", owner);
    rc = scan_rows(v, prefix, after, collect_row, &cl);
  }
  if (rc != HANSE_OK) {
    json_decref(cl.arr);
    return hanse_reject_set(rej, rc, NULL);
  }
  size_t n = json_array_size(cl.arr);
  if (n == cl.limit) {
    json_t *last = json_array_get(cl.arr, n - 1);
    char next[32];
    snprintf(next, sizeof next, "%" PRIu64, (uint64_t)json_integer_value(json_object_get(last, "seq")));
    json_object_set_new(out, "next",
                        journal ? json_string(next) : json_incref(json_object_get(last, "account")));
  }
  json_object_set_new(out, journal ? "entries" : "accounts", cl.arr);
  return HANSE_OK;
}

static int rules_query(hanse_view *v, const char *owner, json_t *out, hanse_reject *rej) {
  json_t *arr = json_array();
  const char *type, *debit, *credit;
  books_role role;
  for (size_t i = 0; arr && books_default_rule_at(i, &type, &role, &debit, &credit) == HANSE_OK;
       i++) {
    char key[BOOKS_KEY_MAX];
    json_t *own = NULL;
    snprintf(key, sizeof key, "books/rule/%s/%s/%s", owner, type, books_role_name(role));
    int rc = hanse_view_get_json(v, key, &own);
    if (rc != HANSE_OK) {
      json_decref(arr);
      return hanse_reject_set(rej, rc, NULL);
    }
    json_t *r = json_pack("{s:s, s:s}", "type", type, "role", books_role_name(role));
    if (r && own) {
      json_object_update(r, own);
      json_object_set_new(r, "source", json_string("own"));
      json_object_set_new(r, "default", json_pack("{s:s, s:s}", "debit", debit, "credit", credit));
    } else if (r) {
      json_object_set_new(r, "debit", json_string(debit));
      json_object_set_new(r, "credit", json_string(credit));
      json_object_set_new(r, "source", json_string("default"));
    }
    json_decref(own);
    if (r == NULL || json_array_append_new(arr, r) != 0) {
      json_decref(arr);
      arr = NULL;
    }
  }
  if (arr == NULL) return nomem(rej);
  json_object_set_new(out, "rules", arr);
  return HANSE_OK;
}

/* ---- the trial balance ---- */

typedef struct tb_row {
  const char *account, *asset; /* borrowed from the index's keys' owner: `names` */
  uint64_t debit, credit;
} tb_row;

typedef struct tb {
  uint64_t from, to;
  json_t *index; /* "account asset" -> row number */
  json_t *names; /* row number's [account, asset], keeping the strings */
  tb_row *rows;
  size_t n, cap;
  uint64_t entries;
  int overflow;
} tb;

static int add_u64(uint64_t *sum, uint64_t v, int *overflow) {
  if (*sum > UINT64_MAX - v) *overflow = 1;
  else *sum += v;
  return *overflow ? 1 : 0;
}

static int tb_line(tb *t, json_t *line) {
  const char *account = json_string_value(json_object_get(line, "account"));
  const char *asset = json_string_value(json_object_get(line, "asset"));
  json_t *d = json_object_get(line, "debit"), *c = json_object_get(line, "credit");
  uint64_t amount;
  if (account == NULL || asset == NULL || !ledger_u64_parse(json_string_value(d ? d : c), &amount))
    return HANSE_ERR(INTERNAL);
  char key[BOOKS_ACCOUNT_MAX + HANSE_ASSET_NAME_MAX + 2];
  snprintf(key, sizeof key, "%s %s", account, asset);
  json_t *at = json_object_get(t->index, key);
  size_t i;
  if (at) {
    i = (size_t)json_integer_value(at);
  } else {
    if (t->n == t->cap) {
      size_t cap = t->cap ? 2 * t->cap : 64;
      tb_row *rows = realloc(t->rows, cap * sizeof *rows);
      if (rows == NULL) return HANSE_ERR(NOMEM);
      t->rows = rows;
      t->cap = cap;
    }
    json_t *pair = json_pack("[s, s]", account, asset);
    if (pair == NULL || json_array_append_new(t->names, pair) != 0 ||
        json_object_set_new(t->index, key, json_integer((json_int_t)t->n)) != 0)
      return HANSE_ERR(NOMEM);
    i = t->n++;
    t->rows[i] = (tb_row){json_string_value(json_array_get(pair, 0)),
                          json_string_value(json_array_get(pair, 1)), 0, 0};
  }
  add_u64(d ? &t->rows[i].debit : &t->rows[i].credit, amount, &t->overflow);
  return HANSE_OK;
}

static int tb_entry(void *c, json_t *entry) {
  tb *t = c;
  uint64_t time = (uint64_t)json_integer_value(json_object_get(entry, "time"));
  if (time < t->from || time >= t->to) return 0;
  t->entries++;
  json_t *lines = json_object_get(entry, "lines");
  for (size_t i = 0; i < json_array_size(lines); i++) {
    int rc = tb_line(t, json_array_get(lines, i));
    if (rc != HANSE_OK) return rc;
  }
  return t->overflow ? 1 : 0;
}

static int row_cmp(const void *a, const void *b) {
  const tb_row *x = a, *y = b;
  int c = strcmp(x->account, y->account);
  return c ? c : strcmp(x->asset, y->asset);
}

static int str_cmp(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static json_t *u64_str(uint64_t v) {
  char s[24];
  snprintf(s, sizeof s, "%" PRIu64, v);
  return json_string(s);
}

static json_t *balance_str(uint64_t debit, uint64_t credit) {
  char s[24];
  if (debit >= credit) snprintf(s, sizeof s, "%" PRIu64, debit - credit);
  else snprintf(s, sizeof s, "-%" PRIu64, credit - debit);
  return json_string(s);
}

/* Rows sorted into "accounts", and per asset the totals of those rows. */
static int tb_result(tb *t, json_t *out) {
  if (t->n) qsort(t->rows, t->n, sizeof *t->rows, row_cmp);
  json_t *accounts = json_array(), *totals = json_object();
  int balanced = 1;
  if (accounts == NULL || totals == NULL) goto fail;
  for (size_t i = 0; i < t->n; i++) {
    tb_row *r = &t->rows[i];
    json_t *row = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "account", r->account, "type",
                            books_account_type(r->account), "asset", r->asset, "debit",
                            u64_str(r->debit), "credit", u64_str(r->credit), "balance",
                            balance_str(r->debit, r->credit));
    if (row == NULL || json_array_append_new(accounts, row) != 0) goto fail;
    json_t *tot = json_object_get(totals, r->asset);
    uint64_t dsum = 0, csum = 0;
    if (tot == NULL) {
      tot = json_object();
      if (tot == NULL || json_object_set_new(totals, r->asset, tot) != 0) goto fail;
    } else if (ledger_u64_get(tot, "debit", &dsum) != HANSE_OK ||
               ledger_u64_get(tot, "credit", &csum) != HANSE_OK) {
      goto fail;
    }
    add_u64(&dsum, r->debit, &t->overflow);
    add_u64(&csum, r->credit, &t->overflow);
    ledger_u64_set(tot, "debit", dsum);
    ledger_u64_set(tot, "credit", csum);
  }
  /* the totals in asset order */
  size_t na = json_object_size(totals), k = 0;
  const char **assets = malloc((na ? na : 1) * sizeof *assets);
  json_t *list = json_array(), *tot;
  const char *asset;
  if (assets == NULL || list == NULL) {
    free(assets);
    json_decref(list);
    goto fail;
  }
  json_object_foreach(totals, asset, tot) assets[k++] = asset;
  qsort(assets, na, sizeof *assets, str_cmp);
  for (k = 0; k < na; k++) {
    uint64_t d = 0, c = 0;
    tot = json_object_get(totals, assets[k]);
    ledger_u64_get(tot, "debit", &d);
    ledger_u64_get(tot, "credit", &c);
    balanced &= d == c;
    json_object_set_new(tot, "asset", json_string(assets[k]));
    json_object_set_new(tot, "balanced", json_boolean(d == c));
    json_array_append(list, tot);
  }
  free(assets);
  json_decref(totals);
  json_object_set_new(out, "entries", json_integer((json_int_t)t->entries));
  json_object_set_new(out, "accounts", accounts);
  json_object_set_new(out, "totals", list);
  json_object_set_new(out, "balanced", json_boolean(balanced));
  return HANSE_OK;
fail:
  json_decref(accounts);
  json_decref(totals);
  return HANSE_ERR(NOMEM);
}

static int trial_balance(hanse_view *v, const char *owner, json_t *params, json_t *out,
                         hanse_reject *rej) {
  tb t;
  memset(&t, 0, sizeof t);
  if (books_time_param(params, "from", 0, &t.from, rej) != HANSE_OK ||
      books_time_param(params, "to", UINT64_MAX, &t.to, rej) != HANSE_OK)
    return HANSE_ERR(INVALID);
  if (json_object_get(params, "from")) json_object_set_new(out, "from", json_integer((json_int_t)t.from));
  if (json_object_get(params, "to")) json_object_set_new(out, "to", json_integer((json_int_t)t.to));
  t.index = json_object();
  t.names = json_array();
  int rc = t.index && t.names ? books_entries_scan(v, owner, 0, tb_entry, &t) : HANSE_ERR(NOMEM);
  if (rc == HANSE_OK && !t.overflow) rc = tb_result(&t, out);
  free(t.rows);
  json_decref(t.index);
  json_decref(t.names);
  if (rc != HANSE_OK) return hanse_reject_set(rej, rc, NULL);
  if (t.overflow)
    return hanse_reject_code(rej, "books.overflow", 422,
                             "a sum of '%s' books exceeds 2^64-1 in this period", owner);
  return HANSE_OK;
}

/* ---- dispatch ---- */

int books_query(hanse_view *v, const char *name, json_t *params, json_t **result,
                hanse_reject *rej) {
  *result = NULL;
  if (strcmp(name, "chart") != 0 && strcmp(name, "rules") != 0 && strcmp(name, "journal") != 0 &&
      strcmp(name, "entry") != 0 && strcmp(name, "tx") != 0 &&
      strcmp(name, "trial_balance") != 0)
    return books_report_query(v, name, params, result, rej);
  char key[BOOKS_KEY_MAX];
  json_t *out = NULL;
  int rc;
  if (strcmp(name, "tx") == 0) {
    hanse_hash h;
    const char *tx = json_string_value(json_object_get(params, "tx"));
    if (tx == NULL || hanse_hex_decode_exact(h.b, HANSE_HASH_BYTES, tx) != HANSE_OK)
      return hanse_reject_code(rej, "books.bad_tx", 400, "\"tx\" must be a 64-hex transaction id");
    char hex[HANSE_HASH_HEX_BYTES];
    hanse_hex_encode(hex, h.b, HANSE_HASH_BYTES);
    snprintf(key, sizeof key, "books/tx/%s/", hex);
    collect cl = {json_array(), 0};
    out = json_pack("{s:s, s:o}", "tx", hex, "entries", cl.arr);
    if (out == NULL) return nomem(rej);
    rc = scan_rows(v, key, NULL, tx_row, &cl);
    if (rc != HANSE_OK) {
      json_decref(out);
      return hanse_reject_set(rej, rc, NULL);
    }
    *result = out;
    return HANSE_OK;
  }
  const char *owner;
  if (books_owner_param(params, &owner, rej) != HANSE_OK) return HANSE_ERR(INVALID);
  if (strcmp(name, "entry") == 0) {
    uint64_t seq;
    json_t *by = NULL;
    if (seq_param(params, "seq", 1, &seq, rej) != HANSE_OK) return HANSE_ERR(INVALID);
    rc = books_entry_find(v, owner, seq, &out);
    if (rc == HANSE_OK && out == NULL)
      return hanse_reject_code(rej, "books.no_entry", 404, "'%s' has no entry %" PRIu64, owner, seq);
    snprintf(key, sizeof key, "books/rev/%s/%0*" PRIu64, owner, BOOKS_SEQ_DIGITS, seq);
    if (rc == HANSE_OK) rc = hanse_view_get_json(v, key, &by);
    if (rc != HANSE_OK) {
      json_decref(out);
      return hanse_reject_set(rej, rc, NULL);
    }
    if (by) json_object_set_new(out, "reversed_by", by);
    *result = out;
    return HANSE_OK;
  }
  out = json_pack("{s:s}", "owner", owner);
  if (out == NULL) return nomem(rej);
  if (strcmp(name, "chart") == 0 || strcmp(name, "journal") == 0)
    rc = page(v, params, owner, name[0] == 'j', out, rej);
  else if (strcmp(name, "rules") == 0)
    rc = rules_query(v, owner, out, rej);
  else
    rc = trial_balance(v, owner, params, out, rej);
  if (rc != HANSE_OK) {
    json_decref(out);
    return rc;
  }
  *result = out;
  return HANSE_OK;
}
