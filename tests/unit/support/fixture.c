/*
 * fixture.c -- the shared unit-test helpers (see fixture.h).
 *
 * The test chain's genesis names one organisation ("acme", holding alice's
 * key) and the node key as the only validator. Keys are derived from fixed
 * seeds so every run builds byte-identical blocks; only the temporary
 * directory differs.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "fixture.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/hex.h"
#include "chain/exec.h"
#include "modules/ledger/ledger.h"

void fx_key(hanse_keypair *kp, uint8_t tag) {
  uint8_t seed[HANSE_SEED_BYTES];
  memset(seed, tag, sizeof seed);
  hanse_keypair_from_seed(kp, seed);
}

const char *fx_hex(char out[HANSE_HASH_HEX_BYTES], const hanse_pubkey *pk) {
  return hanse_pubkey_hex(out, pk);
}

const char *fx_hexkey(const hanse_pubkey *pk) {
  static char buf[4][HANSE_HASH_HEX_BYTES];
  static int i;
  i = (i + 1) % 4;
  return fx_hex(buf[i], pk);
}

static void tx_v(hanse_buf *out, const hanse_keypair *kp, const char *chain_id,
                 const char *kind, uint64_t seq, int batched, const char *fmt,
                 va_list ap) __attribute__((format(printf, 7, 0)));
static void tx_v(hanse_buf *out, const hanse_keypair *kp, const char *chain_id,
                 const char *kind, uint64_t seq, int batched, const char *fmt,
                 va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  assert_true(n >= 0);
  char *payload = malloc((size_t)n + 1);
  assert_non_null(payload);
  vsnprintf(payload, (size_t)n + 1, fmt, ap);
  hanse_tx_fields f = {chain_id, kind, &kp->pub, seq, FX_T0_MS + seq,
                       payload, (size_t)n};
  hanse_reject rej;
  int rc = hanse_tx_encode(out, &f, batched ? NULL : kp, &rej);
  free(payload);
  if (rc != HANSE_OK) fail_msg("hanse_tx_encode: %s: %s", rej.code, rej.message);
}

void fx_tx(hanse_buf *out, const hanse_keypair *kp, const char *chain_id,
           const char *kind, uint64_t seq, int batched, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  tx_v(out, kp, chain_id, kind, seq, batched, fmt, ap);
  va_end(ap);
}

void fx_body_init(fx_body *b) {
  hanse_buf_init(&b->entries);
  hanse_buf_init(&b->out);
  b->count = 0;
}

void fx_body_free(fx_body *b) {
  hanse_buf_free(&b->entries);
  hanse_buf_free(&b->out);
  b->count = 0;
}

void fx_body_tx(fx_body *b, const hanse_keypair *kp, const char *kind,
                uint64_t seq, const char *fmt, ...) {
  hanse_buf tx;
  hanse_buf_init(&tx);
  va_list ap;
  va_start(ap, fmt);
  tx_v(&tx, kp, FX_CHAIN_ID, kind, seq, 0, fmt, ap);
  va_end(ap);
  hanse_body_entry_append(&b->entries, HANSE_ENTRY_TX, tx.data, tx.len);
  hanse_buf_free(&tx);
  b->count++;
}

void fx_body_batch(fx_body *b, const hanse_keypair *kp, uint64_t seq0,
                   uint32_t n, const char *const *kinds,
                   const char *const *payloads) {
  hanse_buf *txs = calloc(n, sizeof *txs);
  const uint8_t **ptrs = calloc(n, sizeof *ptrs);
  size_t *lens = calloc(n, sizeof *lens);
  assert_non_null(txs);
  assert_non_null(ptrs);
  assert_non_null(lens);
  for (uint32_t i = 0; i < n; i++) {
    hanse_buf_init(&txs[i]);
    fx_tx(&txs[i], kp, FX_CHAIN_ID, kinds[i], seq0 + i, 1, "%s", payloads[i]);
    ptrs[i] = txs[i].data;
    lens[i] = txs[i].len;
  }
  hanse_buf batch;
  hanse_buf_init(&batch);
  hanse_reject rej;
  int rc = hanse_batch_encode(&batch, FX_CHAIN_ID, ptrs, lens, n, kp, &rej);
  for (uint32_t i = 0; i < n; i++) hanse_buf_free(&txs[i]);
  free(txs);
  free(ptrs);
  free(lens);
  if (rc != HANSE_OK) {
    hanse_buf_free(&batch);
    fail_msg("hanse_batch_encode: %s: %s", rej.code, rej.message);
  }
  hanse_body_entry_append(&b->entries, HANSE_ENTRY_BATCH, batch.data, batch.len);
  hanse_buf_free(&batch);
  b->count++;
}

const hanse_buf *fx_body_finish(fx_body *b) {
  hanse_buf_reset(&b->out);
  hanse_buf_u32(&b->out, b->count);
  hanse_buf_put(&b->out, b->entries.data, b->entries.len);
  assert_int_equal(hanse_buf_status(&b->out), HANSE_OK);
  assert_int_equal(hanse_buf_status(&b->entries), HANSE_OK);
  return &b->out;
}

static json_t *test_genesis(const fx_chain *f) {
  char alice[HANSE_HASH_HEX_BYTES], node[HANSE_HASH_HEX_BYTES];
  json_t *g = json_pack("{s:s, s:[{s:s, s:s, s:s, s:[s]}], s:[s]}", "chain_id",
                        FX_CHAIN_ID, "organisations", "id", "acme", "name",
                        "ACME Ltd", "role", "manufacturer", "keys",
                        fx_hex(alice, &f->alice.pub), "validators",
                        fx_hex(node, &f->node.pub));
  assert_non_null(g);
  return g;
}

void fx_chain_setup(fx_chain *f, const char *vfs) { fx_chain_setup_with(f, vfs, NULL); }

void fx_chain_setup_with(fx_chain *f, const char *vfs, json_t *extra) {
  memset(f, 0, sizeof *f);
  hanse_modules_register_all();
  const char *tmp = getenv("TMPDIR");
  snprintf(f->dir, sizeof f->dir, "%s/hanse-unit-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp(f->dir) == NULL) fail_msg("mkdtemp %s failed", f->dir);
  fx_key(&f->node, 0x01);
  fx_key(&f->alice, 0xa1);
  fx_key(&f->bob, 0xb0);
  fx_key(&f->carol, 0xc0);
  json_t *g = test_genesis(f);
  if (extra) assert_int_equal(json_object_update(g, extra), 0);
  hanse_reject rej;
  int rc = hanse_chain_create(f->dir, g, &f->node, FX_T0_MS, &rej);
  json_decref(g);
  if (rc != HANSE_OK) fail_msg("hanse_chain_create: %s: %s", rej.code, rej.message);
  rc = hanse_chain_open(f->dir, &f->node, vfs, &f->chain, &rej);
  if (rc != HANSE_OK) fail_msg("hanse_chain_open: %s: %s", rej.code, rej.message);
  f->time_ms = FX_T0_MS + 1000;
}

int fx_setup_chain(void **state) {
  fx_chain *f = calloc(1, sizeof *f);
  if (f == NULL) return -1;
  fx_chain_setup(f, NULL);
  *state = f;
  return 0;
}

int fx_teardown_chain(void **state) {
  fx_chain_teardown(*state);
  free(*state);
  return 0;
}

void fx_chain_audit(fx_chain *f) {
  hanse_chain_close(f->chain);
  f->chain = NULL;
  uint64_t blocks, txs;
  int64_t bad_h, bad_tx;
  hanse_reject rej;
  if (hanse_chain_audit(f->dir, &blocks, &txs, &bad_h, &bad_tx, NULL, NULL, &rej) != HANSE_OK)
    fail_msg("audit: %s: %s", rej.code, rej.message);
}

int fx_chain_reopen(fx_chain *f, const char *vfs, hanse_reject *rej) {
  hanse_chain_close(f->chain);
  f->chain = NULL;
  return hanse_chain_open(f->dir, &f->node, vfs, &f->chain, rej);
}

const char *fx_check(const fx_chain *f, const char *kind, const char *payload) {
  static hanse_reject rej;
  hanse_buf raw;
  hanse_buf_init(&raw);
  fx_tx(&raw, &f->alice, FX_CHAIN_ID, kind, 1, 0, "%s", payload);
  hanse_tx tx;
  assert_int_equal(hanse_tx_decode(&tx, raw.data, raw.len, 0, NULL), HANSE_OK);
  hanse_reject_clear(&rej);
  int rc = hanse_tx_check(&tx, FX_CHAIN_ID, NULL, &rej);
  hanse_buf_free(&raw);
  if (rc != HANSE_OK) assert_true(rej.status == 400 && rej.message[0] != 0);
  return rc == HANSE_OK ? "ok" : rej.code;
}

void fx_check_cases(const fx_chain *f, const fx_check_case *cases, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const char *code = fx_check(f, cases[i].kind, cases[i].payload);
    if (strcmp(code, cases[i].code) != 0)
      fail_msg("case %zu %s %s: got %s, want %s", i, cases[i].kind, cases[i].payload, code,
               cases[i].code);
  }
}

void fx_chain_teardown(fx_chain *f) {
  hanse_chain_close(f->chain);
  f->chain = NULL;
  if (f->dir[0]) fx_rmrf(f->dir);
  hanse_keypair_wipe(&f->node);
  hanse_keypair_wipe(&f->alice);
  hanse_keypair_wipe(&f->bob);
  hanse_keypair_wipe(&f->carol);
}

int fx_propose(fx_chain *f, fx_body *b, hanse_receipt *receipts, uint32_t cap,
               hanse_reject *rej) {
  const hanse_buf *body = fx_body_finish(b);
  int rc = hanse_chain_propose(f->chain, body->data, body->len, f->time_ms,
                               receipts, cap, NULL, rej);
  f->time_ms += 1000;
  return rc;
}

const char *fx_propose_tx(fx_chain *f, const hanse_keypair *kp, const char *kind,
                          uint64_t seq, hanse_receipt *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const char *code = fx_propose_vtx(f, kp, kind, seq, r, fmt, ap);
  va_end(ap);
  return code;
}

const char *fx_propose_vtx(fx_chain *f, const hanse_keypair *kp, const char *kind,
                           uint64_t seq, hanse_receipt *r, const char *fmt, va_list ap) {
  char *payload = malloc(HANSE_PAYLOAD_MAX + 1);
  assert_non_null(payload);
  vsnprintf(payload, HANSE_PAYLOAD_MAX + 1, fmt, ap);
  fx_body b;
  fx_body_init(&b);
  fx_body_tx(&b, kp, kind, seq, "%s", payload);
  free(payload);
  hanse_reject rej;
  memset(r, 0, sizeof *r);
  int rc = fx_propose(f, &b, r, 1, &rej);
  fx_body_free(&b);
  if (rc != HANSE_OK) fail_msg("propose %s: %s: %s", kind, rej.code, rej.message);
  return r->code;
}

void fx_propose_ok(fx_chain *f, fx_body *b) {
  hanse_body decoded;
  const hanse_buf *body = fx_body_finish(b);
  assert_int_equal(hanse_body_decode(&decoded, body->data, body->len, NULL), HANSE_OK);
  uint32_t n = decoded.tx_count;
  hanse_body_free(&decoded);
  hanse_receipt *rs = calloc(n ? n : 1, sizeof *rs);
  assert_non_null(rs);
  hanse_reject rej;
  int rc = fx_propose(f, b, rs, n, &rej);
  if (rc != HANSE_OK) {
    free(rs);
    fail_msg("hanse_chain_propose: %s: %s", rej.code, rej.message);
  }
  for (uint32_t i = 0; i < n; i++) {
    if (strcmp(rs[i].code, "ok") != 0) {
      char code[HANSE_REJECT_CODE_MAX], msg[HANSE_REJECT_MSG_MAX];
      snprintf(code, sizeof code, "%s", rs[i].code);
      snprintf(msg, sizeof msg, "%s", rs[i].message);
      free(rs);
      fail_msg("tx %u rejected: %s: %s", i, code, msg);
    }
  }
  free(rs);
}

int fx_state(fx_chain *f, const char *key, char *out, size_t n) {
  hanse_store *r = hanse_chain_reader_acquire(f->chain);
  assert_non_null(r);
  hanse_view v = {r, f->chain->chain_id};
  hanse_buf val;
  hanse_buf_init(&val);
  int found = 0;
  int rc = hanse_view_get(&v, key, &val, &found);
  hanse_chain_reader_release(f->chain, r);
  assert_int_equal(rc, HANSE_OK);
  if (n) out[0] = 0;
  if (found && n) {
    size_t m = val.len < n - 1 ? val.len : n - 1;
    if (m) memcpy(out, val.data, m);
    out[m] = 0;
  }
  hanse_buf_free(&val);
  return found;
}

int fx_query(fx_chain *f, const char *module, const char *name,
             json_t *params, json_t **result, hanse_reject *rej) {
  const hanse_module *m = hanse_registry_find(module, strlen(module));
  assert_non_null(m);
  hanse_store *r = hanse_chain_reader_acquire(f->chain);
  assert_non_null(r);
  hanse_view v = {r, f->chain->chain_id};
  *result = NULL;
  int rc = m->query(&v, name, params, result, rej);
  hanse_chain_reader_release(f->chain, r);
  return rc;
}

json_t *fx_query_code(fx_chain *f, const char *module, const char *name, json_t *params,
                      const char **code) {
  static hanse_reject rej;
  json_t *res = NULL;
  hanse_reject_clear(&rej);
  int rc = fx_query(f, module, name, params, &res, &rej);
  json_decref(params);
  if (code) *code = rc == HANSE_OK ? "ok" : rej.code;
  return res;
}

int64_t fx_balance(fx_chain *f, const char *asset, const hanse_pubkey *owner) {
  char hex[HANSE_HASH_HEX_BYTES];
  json_t *params = json_pack("{s:s, s:s}", "asset", asset, "owner", fx_hex(hex, owner));
  json_t *res = NULL;
  hanse_reject rej;
  int rc = fx_query(f, "asset", "balance", params, &res, &rej);
  json_decref(params);
  if (rc != HANSE_OK) fail_msg("balance query: %s: %s", rej.code, rej.message);
  json_t *bal = json_object_get(res, "balance");
  assert_true(json_is_integer(bal));
  int64_t v = (int64_t)json_integer_value(bal);
  json_decref(res);
  return v;
}

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

void fx_rmrf(const char *path) {
  nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *fx_file_read(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = n >= 0 ? malloc((size_t)n + 1) : NULL;
  assert_non_null(b);
  assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
  b[n] = 0;
  fclose(f);
  if (len) *len = (size_t)n;
  return b;
}

void fx_path(const fx_chain *f, const char *name, char *out, size_t n) {
  snprintf(out, n, "%s/%s", f->dir, name);
}

int64_t fx_ledger_balance(fx_chain *f, const char *account) {
  json_t *params = json_pack("{s:s}", "account", account), *a = NULL;
  hanse_reject rej;
  if (fx_query(f, "ledger", "account", params, &a, &rej) != HANSE_OK)
    fail_msg("ledger account %s: %s", account, rej.code);
  json_decref(params);
  const char *d = json_string_value(json_object_get(a, "debits_posted"));
  const char *c = json_string_value(json_object_get(a, "credits_posted"));
  if (d == NULL || c == NULL) fail_msg("ledger account %s without balances", account);
  int64_t bal = (int64_t)strtoull(c, NULL, 10) - (int64_t)strtoull(d, NULL, 10);
  json_decref(a);
  return bal;
}

static hanse_receipt submitted;

const char *fx_submit(fx_chain *f, const hanse_keypair *kp, uint64_t *seq, const char *kind,
                      const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fx_propose_vtx(f, kp, kind, ++*seq, &submitted, fmt, ap);
  va_end(ap);
  return submitted.code;
}

const hanse_receipt *fx_submitted(void) { return &submitted; }

/* ---- the books ---- */

static const char *books_str(json_t *o, const char *field) {
  return json_string_value(json_object_get(o, field));
}

static uint64_t books_u64(json_t *o, const char *field) {
  uint64_t v;
  if (!ledger_u64_parse(books_str(o, field), &v)) fail_msg("no decimal field %s", field);
  return v;
}

json_t *fx_books_tx(fx_chain *f, const hanse_hash *tx) {
  char hex[HANSE_HASH_HEX_BYTES];
  hanse_hex_encode(hex, tx->b, HANSE_HASH_BYTES);
  json_t *params = json_pack("{s:s}", "tx", hex), *r = NULL;
  hanse_reject rej;
  if (fx_query(f, "books", "tx", params, &r, &rej) != HANSE_OK)
    fail_msg("books tx %s: %s: %s", hex, rej.code, rej.message);
  json_decref(params);
  assert_string_equal(books_str(r, "tx"), hex);
  json_t *entries = json_incref(json_object_get(r, "entries"));
  json_decref(r);
  assert_true(json_is_array(entries));
  for (size_t i = 0; i < json_array_size(entries); i++)
    assert_string_equal(books_str(json_array_get(entries, i), "tx"), hex);
  return entries;
}

json_t *fx_books_find(json_t *entries, const char *owner, const char *type, const char *role,
                      const char *asset) {
  size_t i;
  json_t *e;
  json_array_foreach(entries, i, e) {
    const char *r = books_str(e, "role");
    const char *a = books_str(json_array_get(json_object_get(e, "lines"), 0), "asset");
    if (strcmp(books_str(e, "owner"), owner) == 0 && strcmp(books_str(e, "type"), type) == 0 &&
        (role == NULL || (r && strcmp(r, role) == 0)) &&
        (asset == NULL || (a && strcmp(a, asset) == 0)))
      return e;
  }
  return NULL;
}

void fx_books_expect(json_t *entry, const char *debit, const char *credit, const char *asset,
                     uint64_t amount) {
  if (entry == NULL) fail_msg("no entry for %s/%s in %s", debit, credit, asset);
  json_t *lines = json_object_get(entry, "lines");
  assert_int_equal(json_array_size(lines), 2);
  for (size_t i = 0; i < 2; i++) {
    json_t *l = json_array_get(lines, i);
    const char *side = i == 0 ? "debit" : "credit";
    assert_string_equal(books_str(l, "account"), i == 0 ? debit : credit);
    assert_string_equal(books_str(l, "asset"), asset);
    assert_int_equal(books_u64(l, side), amount);
    assert_null(json_object_get(l, i == 0 ? "credit" : "debit"));
  }
}

json_t *fx_books_trial(fx_chain *f, const char *owner) {
  json_t *params = json_pack("{s:s}", "owner", owner), *tb = NULL;
  hanse_reject rej;
  if (fx_query(f, "books", "trial_balance", params, &tb, &rej) != HANSE_OK)
    fail_msg("trial balance of %s: %s: %s", owner, rej.code, rej.message);
  json_decref(params);
  if (!json_is_true(json_object_get(tb, "balanced"))) fail_msg("the books of %s do not balance", owner);
  json_t *sums = json_object(); /* asset -> [debits, credits] of the rows */
  size_t i;
  json_t *row, *tot;
  json_array_foreach(json_object_get(tb, "accounts"), i, row) {
    json_t *s = json_object_get(sums, books_str(row, "asset"));
    uint64_t d = books_u64(row, "debit"), c = books_u64(row, "credit");
    if (s) {
      d += (uint64_t)json_integer_value(json_array_get(s, 0));
      c += (uint64_t)json_integer_value(json_array_get(s, 1));
    }
    json_object_set_new(sums, books_str(row, "asset"), json_pack("[I, I]", (json_int_t)d, (json_int_t)c));
  }
  json_array_foreach(json_object_get(tb, "totals"), i, tot) {
    json_t *s = json_object_get(sums, books_str(tot, "asset"));
    assert_non_null(s);
    assert_int_equal(books_u64(tot, "debit"), json_integer_value(json_array_get(s, 0)));
    assert_int_equal(books_u64(tot, "credit"), json_integer_value(json_array_get(s, 1)));
    if (books_u64(tot, "debit") != books_u64(tot, "credit"))
      fail_msg("the books of %s do not balance in %s", owner, books_str(tot, "asset"));
  }
  assert_int_equal(json_array_size(json_object_get(tb, "totals")), json_object_size(sums));
  json_decref(sums);
  return tb;
}

int64_t fx_books_balance(json_t *tb, const char *account, const char *asset) {
  size_t i;
  json_t *row;
  json_array_foreach(json_object_get(tb, "accounts"), i, row) {
    if (strcmp(books_str(row, "account"), account) == 0 && strcmp(books_str(row, "asset"), asset) == 0)
      return (int64_t)books_u64(row, "debit") - (int64_t)books_u64(row, "credit");
  }
  return 0;
}
uint64_t fx_rnext(fx_rnd *r) {
  uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

unsigned fx_rbelow(fx_rnd *r, unsigned n) { return (unsigned)(fx_rnext(r) % n); }
