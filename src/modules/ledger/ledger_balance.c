/*
 * ledger/ledger_balance.c -- balances as numbers: the balance row, and the
 * book's typed cache of accounts and totals.
 *
 * An account used to be one JSON record holding its static fields and
 * its four balances, so every transfer parsed both accounts and the
 * asset's totals, deep-copied them, printed the changed sums into new
 * strings and dumped the records again. Now the two halves live apart:
 *
 *   ledger/acct/<id>     the static record, "<owner> <asset> <type>
 *                        <opened_at> <rule> <controller>" ("-": none),
 *                        written by ledger_account_open and never again;
 *   ledger/bal/<id>      the balance row, "dp dpo cp cpo", four decimal
 *                        u64s separated by one space (no leading zeros),
 *                        then " c1 c2 c3 c4" (64 hex each) once a
 *                        confidential transfer touched the account: the
 *                        same four as sums of commitments. Absent: zeros.
 *   ledger/totals/<asset> the asset's sums, in the same layout.
 *
 * Both are fixed layouts, not JSON: every field is a word without
 * spaces, so they are printed and parsed here without jansson (a
 * transfer touches two accounts whose records would otherwise be parsed
 * into JSON objects every time), and parsed strictly (exactly the
 * fields, canonical numbers, known words, valid points), so a row that is
 * not one is a bug, never a second spelling of the same state.
 *
 * The cache. A book loads an account on first use -- its static record
 * and its balance row from the state -- and keeps it for the rest of the
 * book: later transfers of the same action change the cached sums in
 * place, and the commit writes the row of every account whose sums
 * changed (dirty), once. An account opened by the book is made in the
 * cache (ledger_acct_new) and its static row written by the commit. None
 * of these rows passes through the JSON overlay.
 * A load made while a mark is set is undone by a rollback (the account
 * may have been opened by the rolled-back part), and every change to the
 * sums is preceded by ledger_book_save, so a failed linked chain restores
 * them (ledger_book.c).
 *
 * The queries merge the halves (ledger_account_view, ledger_totals_view),
 * so an account still answers as one object with the four balances as
 * decimal strings and "commitments" when kept.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "base/log.h"
#include "modules/ledger/ledger.h"

const char *const ledger_sum_names[LEDGER_SUMS] = {LEDGER_DEBITS_PENDING, LEDGER_DEBITS_POSTED,
                                                   LEDGER_CREDITS_PENDING,
                                                   LEDGER_CREDITS_POSTED};

void ledger_key_bal(char key[LEDGER_KEY_MAX], const char *account) {
  hanse_cat(key, LEDGER_KEY_MAX, "ledger/bal/", account, NULL);
}

/* ---- the row ---- */

size_t ledger_sums_format(char out[LEDGER_SUMS_TEXT_MAX], const ledger_sums *s) {
  size_t n = 0;
  for (int i = 0; i < LEDGER_SUMS; i++) {
    if (i) out[n++] = ' ';
    n += hanse_fmt_u64(out + n, s->v[i]);
  }
  for (int i = 0; s->conf && i < LEDGER_SUMS; i++) {
    out[n++] = ' ';
    hanse_point_hex(out + n, &s->cm[i]);
    n += HANSE_POINT_HEX_BYTES - 1;
  }
  HANSE_ASSERT(n < LEDGER_SUMS_TEXT_MAX);
  out[n] = 0;
  return n;
}

int ledger_sums_parse(ledger_sums *s, const char *text, size_t n) {
  memset(s, 0, sizeof *s);
  size_t at = 0;
  for (int i = 0; i < 2 * LEDGER_SUMS; i++) {
    if (i == LEDGER_SUMS && at == n) return 1; /* no commitments */
    if (i && (at >= n || text[at++] != ' ')) return 0;
    size_t end = at;
    while (end < n && text[end] >= '0' && text[end] <= 'f') end++;
    char field[HANSE_POINT_HEX_BYTES];
    if (end - at >= sizeof field || (end < n && text[end] != ' ')) return 0;
    memcpy(field, text + at, end - at);
    field[end - at] = 0;
    if (i < LEDGER_SUMS && !ledger_u64_parse(field, &s->v[i])) return 0;
    if (i >= LEDGER_SUMS && (strspn(field, "0123456789abcdef") != end - at ||
                             hanse_point_parse(&s->cm[i - LEDGER_SUMS], field) != HANSE_OK))
      return 0; /* lowercase only: one spelling */
    at = end;
  }
  s->conf = 1;
  return at == n;
}

int ledger_sums_json(json_t *o, const ledger_sums *s) {
  json_t *cs = s->conf ? json_object() : NULL;
  int bad = s->conf && cs == NULL;
  for (int i = 0; i < LEDGER_SUMS && !bad; i++) {
    char num[24], hex[HANSE_POINT_HEX_BYTES];
    num[hanse_fmt_u64(num, s->v[i])] = 0;
    bad = json_object_set_new(o, ledger_sum_names[i], json_string(num)) != 0 ||
          (cs && json_object_set_new(cs, ledger_sum_names[i],
                                     json_string(hanse_point_hex(hex, &s->cm[i]))) != 0);
  }
  if (cs && !bad)
    return json_object_set_new(o, "commitments", cs) == 0 ? HANSE_OK : HANSE_ERR(NOMEM);
  json_decref(cs);
  return bad ? HANSE_ERR(NOMEM) : HANSE_OK;
}

/* ---- the static record ---- */

static const char *const rule_names[] = {NULL, "debits_must_not_exceed_credits",
                                         "credits_must_not_exceed_debits"};

size_t ledger_acct_format(char out[LEDGER_ACCT_TEXT_MAX], const ledger_acct *a) {
  int n = snprintf(out, LEDGER_ACCT_TEXT_MAX, "%s %s %s %" PRIu64 " %s %s", a->owner, a->asset,
                   a->type, a->opened_at, a->rule_name ? a->rule_name : "-",
                   a->controller ? a->controller : "-");
  HANSE_ASSERT(n > 0 && n < LEDGER_ACCT_TEXT_MAX);
  return (size_t)n;
}

/* A word of a row: printable ASCII without a space. The writer asserts it
 * and the parser requires it, so whatever is written parses, and a
 * record's JSON (ledger_acct_json) is valid UTF-8. */
int ledger_row_char(char c) { return c > ' ' && c <= '~'; }

int ledger_row_word(const char *text, size_t n, size_t *at, char *out, size_t cap, int last) {
  size_t end = *at;
  while (end < n && ledger_row_char(text[end])) end++;
  if (end == *at || end - *at >= cap || (end < n && text[end] != ' ')) return 0;
  memcpy(out, text + *at, end - *at);
  out[end - *at] = 0;
  if (last ? end != n : end == n) return 0;
  *at = last ? end : end + 1;
  return 1;
}

int ledger_acct_parse(ledger_acct *a, const char *id, const char *text, size_t n) {
  memset(a, 0, sizeof *a);
  char opened[24], rule[LEDGER_WORD_MAX + 1];
  size_t at = 0, idn = strlen(id);
  if (idn >= sizeof a->id) return 0;
  memcpy(a->id, id, idn + 1);
  if (!ledger_row_word(text, n, &at, a->owner, sizeof a->owner, 0) ||
      !ledger_row_word(text, n, &at, a->asset, sizeof a->asset, 0) ||
      !ledger_row_word(text, n, &at, a->type, sizeof a->type, 0) ||
      !ledger_row_word(text, n, &at, opened, sizeof opened, 0) ||
      !ledger_row_word(text, n, &at, rule, sizeof rule, 0) ||
      !ledger_row_word(text, n, &at, a->controller_buf, sizeof a->controller_buf, 1) ||
      !ledger_u64_parse(opened, &a->opened_at))
    return 0;
  if (strcmp(rule, "-") != 0) {
    for (int r = LEDGER_RULE_DEBITS; r <= LEDGER_RULE_CREDITS && a->rule_name == NULL; r++)
      if (strcmp(rule, rule_names[r]) == 0) {
        a->rule = (ledger_rule)r;
        a->rule_name = rule_names[r];
      }
    if (a->rule_name == NULL) return 0;
  }
  a->controller = strcmp(a->controller_buf, "-") == 0 ? NULL : a->controller_buf;
  return 1;
}

json_t *ledger_acct_json(const ledger_acct *a) {
  json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I}", "id", a->id, "owner", a->owner, "asset",
                        a->asset, "type", a->type, "opened_at", (json_int_t)a->opened_at);
  if (o && ((a->rule_name && json_object_set_new(o, "rule", json_string(a->rule_name)) != 0) ||
            (a->controller &&
             json_object_set_new(o, "controller", json_string(a->controller)) != 0))) {
    json_decref(o);
    o = NULL;
  }
  return o;
}

/* ---- the cache ---- */

static int cache_bug(ledger_book *b, const char *what, const char *key) {
  HANSE_ERROR("ledger: %s: %s", key, what);
  b->ex->env_error = 1;
  return HANSE_ERR(INTERNAL);
}

/* The balance row at key into *s (zeros when absent). */
static int row_load(ledger_book *b, const char *key, ledger_sums *s) {
  const uint8_t *v;
  size_t n;
  int found;
  memset(s, 0, sizeof *s);
  int rc = hanse_exec_get(b->ex, key, &v, &n, &found);
  if (rc != HANSE_OK) {
    b->ex->env_error = 1;
    return rc;
  }
  if (found && !ledger_sums_parse(s, (const char *)v, n))
    return cache_bug(b, "not a balance row", key);
  return HANSE_OK;
}

static void acct_free(ledger_acct *a) { free(a); }

static void totals_free(ledger_totals *t) {
  json_decref(t->asset_json);
  free(t);
}

/* A rollback past a load forgets the entry: the rolled-back part may have
 * made what it loaded (an account opened in a failed chain). */
static void acct_unload(ledger_book *b, void *p) {
  ledger_acct *a = p;
  void *was = hanse_hmap_del(&b->accts, a->id, strlen(a->id));
  HANSE_ASSERT(was == a);
  acct_free(a);
}

static void totals_unload(ledger_book *b, void *p) {
  ledger_totals *t = p;
  void *was = hanse_hmap_del(&b->totals, t->asset, strlen(t->asset));
  HANSE_ASSERT(was == t);
  totals_free(t);
}

void ledger_cache_free(ledger_book *b) {
  size_t pos = 0;
  const uint8_t *k;
  size_t kl;
  void *v;
  while (hanse_hmap_next(&b->accts, &pos, &k, &kl, &v)) acct_free(v);
  pos = 0;
  while (hanse_hmap_next(&b->totals, &pos, &k, &kl, &v)) totals_free(v);
  hanse_hmap_free(&b->accts);
  hanse_hmap_free(&b->totals);
}

/* Put a into the cache (taking it) and note it for a rollback. */
static int acct_cache(ledger_book *b, ledger_acct *a) {
  if (hanse_hmap_put(&b->accts, a->id, strlen(a->id), a, NULL) != HANSE_OK) {
    acct_free(a);
    b->ex->env_error = 1;
    return HANSE_ERR(NOMEM);
  }
  return ledger_book_on_rollback(b, acct_unload, a);
}

/* ---- the accounts shared across transactions ----
 *
 * A book's cache lives for one transaction; the next one would read and
 * parse the same hot accounts again from the state. So, when the block
 * runs in the pipeline, the module keeps a second cache beside the warm
 * cache (exec.h, hanse_exec_module_cache): id -> the account as the state
 * holds it after the last committed transaction. A book copies an
 * account out of it instead of reading two rows, and its commit, having
 * written the rows, copies every account it holds back (changed or not:
 * a committed book's accounts are the state's). A book that does not
 * commit leaves it alone, and the pipeline forgets it when a block fails.
 * Only the commit writes ledger/acct/ and ledger/bal/ rows, so nothing
 * else can make it stale. Bounded: past SHARED_MAX accounts it starts
 * over. */
#define SHARED_MAX 100000
static const char shared_tag = 0;

static void *shared_make(void) {
  hanse_hmap *m = malloc(sizeof *m);
  if (m && hanse_hmap_init(m, 1024) != HANSE_OK) {
    free(m);
    m = NULL;
  }
  return m;
}

static void shared_clear(hanse_hmap *m) {
  size_t pos = 0;
  void *v;
  while (hanse_hmap_next(m, &pos, NULL, NULL, &v)) free(v);
  hanse_hmap_clear(m);
}

static void shared_free(void *p) {
  hanse_hmap *m = p;
  shared_clear(m);
  hanse_hmap_free(m);
  free(m);
}

static hanse_hmap *shared_of(ledger_book *b) {
  return hanse_exec_module_cache(b->ex, &shared_tag, shared_make, shared_free);
}

/* *dst = *src, its controller pointing into its own buffer, clean. */
static void acct_copy(ledger_acct *dst, const ledger_acct *src) {
  memcpy(dst, src, sizeof *dst);
  dst->controller = src->controller ? dst->controller_buf : NULL;
  dst->dirty = dst->opened = 0;
  dst->shared = NULL;
}

void ledger_cache_share(ledger_book *b) {
  hanse_hmap *sh = shared_of(b);
  if (sh == NULL) return;
  int cleared = sh->count + b->accts.count > SHARED_MAX;
  if (cleared) shared_clear(sh); /* the books' shared pointers die with it */
  size_t pos = 0;
  const uint8_t *k;
  size_t kl;
  void *v;
  while (hanse_hmap_next(&b->accts, &pos, &k, &kl, &v)) {
    ledger_acct *a = v;
    if (a->shared && !cleared) { /* copied from it this transaction: still there */
      if (a->dirty) acct_copy(a->shared, a);
      continue;
    }
    ledger_acct *have = hanse_hmap_get(sh, k, kl);
    if (have == NULL) {
      have = malloc(sizeof *have);
      if (have == NULL || hanse_hmap_put(sh, k, kl, have, NULL) != HANSE_OK) {
        free(have);
        shared_clear(sh); /* cannot keep it whole: none of it */
        return;
      }
    }
    acct_copy(have, v);
  }
}

int ledger_acct_load(ledger_book *b, const char *id, ledger_acct **out) {
  *out = hanse_hmap_get(&b->accts, id, strlen(id));
  if (*out) return HANSE_OK;
  hanse_hmap *sh = shared_of(b);
  const ledger_acct *shared = sh ? hanse_hmap_get(sh, id, strlen(id)) : NULL;
  if (shared) {
    ledger_acct *a = malloc(sizeof *a);
    if (a == NULL) {
      b->ex->env_error = 1;
      return HANSE_ERR(NOMEM);
    }
    acct_copy(a, shared);
    a->shared = (ledger_acct *)shared; /* stays until this book's commit (the only clear) */
    int rc = acct_cache(b, a);
    if (rc == HANSE_OK) *out = a;
    return rc;
  }
  char key[LEDGER_KEY_MAX];
  const uint8_t *v;
  size_t n;
  int found;
  ledger_key_acct(key, id);
  int rc = hanse_exec_get(b->ex, key, &v, &n, &found);
  if (rc != HANSE_OK) {
    b->ex->env_error = 1;
    return rc;
  }
  if (!found) return HANSE_OK;
  ledger_acct *a = malloc(sizeof *a);
  if (a == NULL) {
    b->ex->env_error = 1;
    return HANSE_ERR(NOMEM);
  }
  if (!ledger_acct_parse(a, id, (const char *)v, n)) {
    free(a);
    return cache_bug(b, "not an account record", key);
  }
  ledger_key_bal(key, id);
  rc = row_load(b, key, &a->sums);
  if (rc != HANSE_OK) {
    free(a);
    return rc;
  }
  if ((rc = acct_cache(b, a)) == HANSE_OK) *out = a;
  return rc;
}

int ledger_acct_new(ledger_book *b, const char *id, const char *owner, const char *asset,
                    const char *type, const char *rule, const char *controller) {
  ledger_acct *a = calloc(1, sizeof *a);
  if (a == NULL) {
    b->ex->env_error = 1;
    return HANSE_ERR(NOMEM);
  }
  /* the callers checked every word; a space or an overlong one is a bug */
  const char *words[] = {id, owner, asset, type, controller ? controller : "-"};
  char *dst[] = {a->id, a->owner, a->asset, a->type, a->controller_buf};
  size_t cap[] = {sizeof a->id, sizeof a->owner, sizeof a->asset, sizeof a->type,
                  sizeof a->controller_buf};
  for (size_t i = 0; i < 5; i++) {
    size_t len = strlen(words[i]);
    HANSE_ASSERT(len >= 1 && len < cap[i]);
    for (size_t j = 0; j < len; j++) HANSE_ASSERT(ledger_row_char(words[i][j]));
    memcpy(dst[i], words[i], len + 1);
  }
  a->controller = controller ? a->controller_buf : NULL;
  for (int r = LEDGER_RULE_DEBITS; rule && r <= LEDGER_RULE_CREDITS; r++)
    if (strcmp(rule, rule_names[r]) == 0) {
      a->rule = (ledger_rule)r;
      a->rule_name = rule_names[r];
    }
  HANSE_ASSERT((rule == NULL) == (a->rule_name == NULL));
  a->opened_at = b->ex->height;
  a->opened = 1;
  return acct_cache(b, a);
}

int ledger_totals_load(ledger_book *b, const char *asset, ledger_totals **out) {
  size_t len = strlen(asset);
  *out = hanse_hmap_get(&b->totals, asset, len);
  if (*out) return HANSE_OK;
  HANSE_ASSERT(len <= LEDGER_ID_MAX); /* an account's asset is a checked code */
  ledger_totals *t = calloc(1, sizeof *t);
  if (t == NULL) {
    b->ex->env_error = 1;
    return HANSE_ERR(NOMEM);
  }
  memcpy(t->asset, asset, len + 1);
  char key[LEDGER_KEY_MAX];
  ledger_key_totals(key, asset);
  int rc = row_load(b, key, &t->sums);
  if (rc == HANSE_OK && ((t->asset_json = json_string(asset)) == NULL ||
                         hanse_hmap_put(&b->totals, asset, len, t, NULL) != HANSE_OK)) {
    b->ex->env_error = 1;
    rc = HANSE_ERR(NOMEM);
  }
  if (rc != HANSE_OK) {
    totals_free(t);
    return rc;
  }
  *out = t;
  return ledger_book_on_rollback(b, totals_unload, t);
}

/* ---- the queries' view ---- */

/* The balance row at key read into val; *found its presence. */
static int view_row(hanse_view *v, const char *key, hanse_buf *val, int *found) {
  hanse_buf_init(val);
  return hanse_view_get(v, key, val, found);
}

/* A read row (zeros when absent) merged into o. */
static int row_merge(const char *key, const hanse_buf *val, int found, json_t *o) {
  ledger_sums s;
  memset(&s, 0, sizeof s);
  if (found && !ledger_sums_parse(&s, (const char *)val->data, val->len)) {
    HANSE_ERROR("ledger: %s is not a balance row", key);
    return HANSE_ERR(INTERNAL);
  }
  return ledger_sums_json(o, &s);
}

int ledger_account_view(hanse_view *v, const char *id, json_t **out) {
  char key[LEDGER_KEY_MAX];
  hanse_buf val;
  int found;
  ledger_acct a;
  *out = NULL;
  ledger_key_acct(key, id);
  int rc = view_row(v, key, &val, &found);
  if (rc == HANSE_OK && found && !ledger_acct_parse(&a, id, (const char *)val.data, val.len)) {
    HANSE_ERROR("ledger: %s is not an account record", key);
    rc = HANSE_ERR(INTERNAL);
  }
  hanse_buf_free(&val);
  if (rc != HANSE_OK || !found) return rc;
  if ((*out = ledger_acct_json(&a)) == NULL) return HANSE_ERR(NOMEM);
  ledger_key_bal(key, id);
  rc = view_row(v, key, &val, &found);
  if (rc == HANSE_OK) rc = row_merge(key, &val, found, *out);
  hanse_buf_free(&val);
  if (rc != HANSE_OK) {
    json_decref(*out);
    *out = NULL;
  }
  return rc;
}

int ledger_totals_view(hanse_view *v, const char *asset, json_t **out) {
  char key[LEDGER_KEY_MAX];
  hanse_buf val;
  int found;
  *out = NULL;
  ledger_key_totals(key, asset);
  int rc = view_row(v, key, &val, &found); /* absent: no totals, not zeros */
  if (rc == HANSE_OK && found) {
    *out = json_pack("{s:s}", "asset", asset);
    rc = *out ? row_merge(key, &val, found, *out) : HANSE_ERR(NOMEM);
  }
  hanse_buf_free(&val);
  if (rc != HANSE_OK) {
    json_decref(*out);
    *out = NULL;
  }
  return rc;
}
