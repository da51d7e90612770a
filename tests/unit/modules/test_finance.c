/*
 * test_finance.c -- the financial modules together on one chain, under a
 * randomized workload with fixed seeds (issue 6, points 2 and 9).
 *
 * Six enterprises: acme (alice; the clearing operator and the platform
 * that issues the loyalty token PNTS), bank1 (issues the currency token
 * EURB, clears USD), bank2 (the market maker that quotes USD for EUR,
 * clears USD), bank3 (clears USD), and bob and carol (keys the member
 * registry does not know: enterprises of their own). Each trades through
 * a EUR, a limited EUR and a USD account; the holders keep EURB and PNTS
 * accounts; the banks keep two customers' USD accounts each.
 *
 * The workload mixes, in blocks of several transactions: ledger transfers
 * between enterprises of every business type a transfer may name
 * (payment, fee, duty, refund), single-phase and pending, linked chains
 * that may fail, posts and voids; token issues, redeems and payments
 * between holders; converted payments through the maker's quote;
 * clearing payments, with a settlement every few blocks and at the end;
 * and books.reverse of random entries. Refusals are allowed (overdrafts,
 * a mismatched asset in a chain, an entry reversed twice), malformed
 * payloads are not. Afterwards:
 *
 *   (a) every enterprise's trial balance has debits == credits per asset,
 *       and so does every entry of its journal on its own, numbered
 *       without gaps;
 *   (b) every asset's ledger totals balance (posted and pending) and each
 *       of the four is the sum of that field over the asset's accounts;
 *   (c) every chain transaction that booked entries for two enterprises
 *       has both sides: an entry of one naming the other as counterparty
 *       has a partner in the other's books -- the same transaction and
 *       business reference, the opposite role, and the same amount where
 *       both book the same asset (a converted payment's payer and payee
 *       book different currencies; the maker's two conversion entries are
 *       each the partner of one of them). The books query "tx" finds
 *       exactly the entries the journals hold;
 *   (d) the chain audits (hanse verify's re-execution, in teardown).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/hex.h"
#include "fixture.h"
#include "hanse/client.h"

enum { ACME, BANK1, BANK2, BANK3, BOB, CAROL, WHO_N };

#define BANKS 3              /* bank1..bank3: who 1..3 */
#define FUNDS 100000         /* a limited trading account's start */
#define CUSTOMER_FUNDS 1000000
#define HOUSE_FUNDS 10000000 /* settlement accounts, the maker's USD */
#define R_BLOCKS 28
#define R_TXS 12
#define R_SETTLE_EVERY 9     /* blocks between settlements */
#define R_PENDING_MAX 256    /* pending transfers remembered for post/void */

static const char *const assets[] = {"EUR", "USD", "EURB", "PNTS"};
#define ASSETS_N (sizeof assets / sizeof assets[0])

/* What a transaction of the workload does, to count its outcomes. */
enum { K_TRANSFER, K_RESOLVE, K_ISSUE, K_REDEEM, K_HOLDERS, K_FX, K_CLEARING, K_REVERSE, K_N };
static const char *const kind_names[] = {"transfer", "post/void", "issue",     "redeem",
                                         "holders",  "fx",        "clearing",  "reverse"};

typedef struct fin {
  fx_chain f;
  hanse_keypair bank[BANKS];
  uint64_t seq[WHO_N];
  char owner[WHO_N][HANSE_HASH_HEX_BYTES];
  char *quote; /* bank2's signed quote, JSON text */
  fx_body body;
  int in_body;
  uint64_t cycle; /* the open clearing cycle */
} fin;

static const hanse_keypair *key_of(fin *x, int who) {
  if (who == ACME) return &x->f.alice;
  if (who == BOB) return &x->f.bob;
  if (who == CAROL) return &x->f.carol;
  return &x->bank[who - BANK1];
}

static int is_bank(int who) { return who >= BANK1 && who <= BANK3; }

/* Append a transaction of who to the block being gathered. */
static void add(fin *x, int who, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add(fin *x, int who, const char *kind, const char *fmt, ...) {
  char payload[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(payload, sizeof payload, fmt, ap);
  va_end(ap);
  assert_true(n > 0 && (size_t)n < sizeof payload);
  if (!x->in_body) {
    fx_body_init(&x->body);
    x->in_body = 1;
  }
  fx_body_tx(&x->body, key_of(x, who), kind, ++x->seq[who], "%s", payload);
}

/* Propose the gathered block; every receipt must be "ok". */
static void flush_ok(fin *x) {
  fx_propose_ok(&x->f, &x->body);
  fx_body_free(&x->body);
  x->in_body = 0;
}

static int setup(void **state) {
  fin *x = calloc(1, sizeof *x);
  if (x == NULL) return -1;
  hanse_keypair alice;
  char hex[HANSE_HASH_HEX_BYTES];
  fx_key(&alice, 0xa1);
  json_t *orgs = json_array();
  json_array_append_new(orgs, json_pack("{s:s, s:s, s:s, s:[s]}", "id", "acme", "name", "ACME",
                                        "role", "platform", "keys", fx_hex(hex, &alice.pub)));
  hanse_keypair_wipe(&alice);
  for (int i = 0; i < BANKS; i++) {
    char id[8];
    snprintf(id, sizeof id, "bank%d", i + 1);
    fx_key(&x->bank[i], (uint8_t)(0x21 + i));
    json_array_append_new(orgs, json_pack("{s:s, s:s, s:s, s:[s]}", "id", id, "name", id, "role",
                                          "bank", "keys", fx_hex(hex, &x->bank[i].pub)));
  }
  json_t *extra = json_pack("{s:o, s:{s:s}}", "organisations", orgs, "clearing", "operator",
                            "acme");
  fx_chain_setup_with(&x->f, NULL, extra);
  json_decref(extra);
  for (int w = 0; w < WHO_N; w++) {
    if (w == BOB || w == CAROL) fx_hex(x->owner[w], &key_of(x, w)->pub);
    else if (w == ACME) snprintf(x->owner[w], sizeof x->owner[w], "acme");
    else snprintf(x->owner[w], sizeof x->owner[w], "bank%d", w);
  }
  x->cycle = 1;

  /* the maker's quote: USD for EUR at 1.0850, valid through the run */
  hanse_fx_quote_spec q = {"q1",   "bank2",  "USD",    "EUR",     "mk:eur",
                           "mk:usd", 10850, 10000, FX_T0_MS, FX_T0_MS + 86400000ull,
                           1000000000000ull};
  json_t *doc = NULL;
  hanse_reject rej;
  if (hanse_client_fx_quote(&q, &x->bank[1], &doc, &rej) != HANSE_OK)
    fail_msg("quote: %s", rej.message);
  x->quote = json_dumps(doc, JSON_COMPACT);
  json_decref(doc);

  /* the tokens, the clearing's members, every account */
  add(x, ACME, "token.define",
      "{\"symbol\":\"PNTS\",\"kind\":\"loyalty\",\"decimals\":0,"
      "\"value\":{\"asset\":\"EUR\",\"num\":1,\"den\":100}}");
  add(x, BANK1, "token.define",
      "{\"symbol\":\"EURB\",\"kind\":\"currency\",\"decimals\":2,\"backing\":\"EUR\"}");
  add(x, BANK1, "token.reserve",
      "{\"symbol\":\"EURB\",\"amount\":1000000000,\"evidence\":"
      "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"}");
  add(x, ACME, "clearing.join",
      "{\"asset\":\"USD\",\"clearing_account\":\"house:clr\",\"settlement_account\":\"house:stl\"}");
  for (int w = 0; w < WHO_N; w++) {
    add(x, w, "ledger.open", "{\"account\":\"t%de\",\"asset\":\"EUR\",\"type\":\"asset\"}", w);
    add(x, w, "ledger.open", "{\"account\":\"t%du\",\"asset\":\"USD\",\"type\":\"asset\"}", w);
    add(x, w, "ledger.open",
        "{\"account\":\"t%dl\",\"asset\":\"EUR\",\"type\":\"asset\",\"rule\":"
        "\"debits_must_not_exceed_credits\"}",
        w);
    if (!is_bank(w)) continue;
    add(x, w, "clearing.join",
        "{\"asset\":\"USD\",\"clearing_account\":\"c%d:clr\",\"settlement_account\":\"c%d:stl\"}",
        w, w);
    for (int k = 0; k < 2; k++)
      add(x, w, "ledger.open",
          "{\"account\":\"c%d:k%d\",\"asset\":\"USD\",\"type\":\"liability\",\"rule\":"
          "\"debits_must_not_exceed_credits\"}",
          w, k);
  }
  add(x, BANK2, "ledger.open", "{\"account\":\"mk:eur\",\"asset\":\"EUR\",\"type\":\"asset\"}");
  add(x, BANK2, "ledger.open",
      "{\"account\":\"mk:usd\",\"asset\":\"USD\",\"type\":\"asset\",\"rule\":"
      "\"debits_must_not_exceed_credits\"}");
  flush_ok(x);
  /* holders: everyone but the issuer holds EURB; acme's PNTS go to others */
  for (int w = 0; w < WHO_N; w++) {
    if (w != BANK1) add(x, w, "ledger.open", "{\"account\":\"h%db\",\"asset\":\"EURB\",\"type\":\"asset\"}", w);
    if (w != ACME) add(x, w, "ledger.open", "{\"account\":\"h%dp\",\"asset\":\"PNTS\",\"type\":\"asset\"}", w);
  }
  flush_ok(x);
  /* funding inside each enterprise: nothing is booked */
  for (int w = 0; w < WHO_N; w++) {
    add(x, w, "ledger.transfer",
        "{\"transfers\":[{\"id\":\"fund%d\",\"debit\":\"t%de\",\"credit\":\"t%dl\",\"amount\":%d}]}",
        w, w, w, FUNDS);
    if (!is_bank(w)) continue;
    add(x, w, "ledger.transfer",
        "{\"transfers\":[{\"id\":\"stl%d\",\"debit\":\"t%du\",\"credit\":\"c%d:stl\",\"amount\":%d},"
        "{\"id\":\"k%d.0\",\"debit\":\"t%du\",\"credit\":\"c%d:k0\",\"amount\":%d},"
        "{\"id\":\"k%d.1\",\"debit\":\"t%du\",\"credit\":\"c%d:k1\",\"amount\":%d}]}",
        w, w, w, HOUSE_FUNDS, w, w, w, CUSTOMER_FUNDS, w, w, w, CUSTOMER_FUNDS);
  }
  add(x, BANK2, "ledger.transfer",
      "{\"transfers\":[{\"id\":\"mk\",\"debit\":\"t2u\",\"credit\":\"mk:usd\",\"amount\":%d}]}",
      HOUSE_FUNDS);
  flush_ok(x);
  *state = x;
  return 0;
}

static int teardown(void **state) {
  fin *x = *state;
  if (x->in_body) fx_body_free(&x->body);
  fx_chain_audit(&x->f); /* (d) */
  fx_chain_teardown(&x->f);
  for (int i = 0; i < BANKS; i++) hanse_keypair_wipe(&x->bank[i]);
  free(x->quote);
  free(x);
  return 0;
}

static const char *str(json_t *o, const char *f) { return json_string_value(json_object_get(o, f)); }

static uint64_t u64_or_0(json_t *o, const char *field) {
  const char *s = str(o, field);
  return s ? strtoull(s, NULL, 10) : 0;
}

/* A query that must answer; params consumed. */
static json_t *mquery(fin *x, const char *module, const char *name, json_t *params) {
  hanse_reject rej;
  json_t *res = NULL;
  if (fx_query(&x->f, module, name, params, &res, &rej) != HANSE_OK)
    fail_msg("%s.%s: %s: %s", module, name, rej.code, rej.message);
  json_decref(params);
  return res;
}

/* The number of entries in who's books (books/seq). */
static unsigned entries_of(fin *x, int who) {
  char key[128], v[32];
  snprintf(key, sizeof key, "books/seq/%s", x->owner[who]);
  return fx_state(&x->f, key, v, sizeof v) ? (unsigned)strtoul(v, NULL, 10) : 0;
}

/* Another enterprise than w. */
static int other(fx_rnd *r, int w) {
  int v = (int)fx_rbelow(r, WHO_N - 1);
  return v >= w ? v + 1 : v;
}

/* ---- the workload ----------------------------------------------------------- */

typedef struct wl {
  fx_rnd r;
  uint64_t seed;
  unsigned n; /* ids made */
  char pending[R_PENDING_MAX][24];
  int pending_owner[R_PENDING_MAX];
  unsigned npending;
  unsigned ok[K_N], refused[K_N];
} wl;

/* One ledger.transfer of 1..3 transfers from w's trading accounts,
 * mostly to another enterprise's account of the same asset. */
static void gen_transfer(fin *x, wl *s, int w) {
  static const char *const business[] = {NULL, "payment", "fee", "duty", "refund"};
  char p[2048];
  unsigned n = 1 + fx_rbelow(&s->r, 3);
  size_t o = (size_t)snprintf(p, sizeof p, "{\"transfers\":[");
  for (unsigned k = 0; k < n; k++) {
    static const char from_kind[] = {'e', 'l', 'u'};
    char fk = from_kind[fx_rbelow(&s->r, 3)], tk;
    int v = fx_rbelow(&s->r, 8) ? other(&s->r, w) : w; /* sometimes within w */
    if (fx_rbelow(&s->r, 12) == 0) tk = fk == 'u' ? 'e' : 'u'; /* a mismatch: refused */
    else tk = fk == 'u' ? 'u' : "el"[fx_rbelow(&s->r, 2)];
    if (v == w && tk == fk) { /* within w: between two of its accounts */
      if (fk == 'u') v = other(&s->r, w);
      else tk = fk == 'e' ? 'l' : 'e';
    }
    int pend = fx_rbelow(&s->r, 4) == 0;
    const char *bus = business[fx_rbelow(&s->r, 5)];
    char id[24], extra[96] = "";
    snprintf(id, sizeof id, "x%" PRIx64 ".%u", s->seed & 0xff, s->n++);
    if (bus) snprintf(extra, sizeof extra, ",\"business\":\"%s\"", bus);
    if (pend) {
      snprintf(extra + strlen(extra), sizeof extra - strlen(extra), ",\"pending\":true%s",
               fx_rbelow(&s->r, 2) ? ",\"timeout\":3" : "");
      if (s->npending < R_PENDING_MAX) {
        snprintf(s->pending[s->npending], sizeof s->pending[0], "%s", id);
        s->pending_owner[s->npending++] = w;
      }
    }
    if (k + 1 < n && fx_rbelow(&s->r, 3) == 0)
      snprintf(extra + strlen(extra), sizeof extra - strlen(extra), ",\"linked\":true");
    o += (size_t)snprintf(p + o, sizeof p - o,
                          "%s{\"id\":\"%s\",\"debit\":\"t%d%c\",\"credit\":\"t%d%c\",\"amount\":%u%s}",
                          k ? "," : "", id, w, fk, v, tk, 1 + fx_rbelow(&s->r, 500), extra);
  }
  snprintf(p + o, sizeof p - o, "]}");
  add(x, w, "ledger.transfer", "%s", p);
}

/* One transaction of the workload; its kind. */
static int gen_one(fin *x, wl *s, const unsigned booked[WHO_N]) {
  unsigned roll = fx_rbelow(&s->r, 100);
  int w = (int)fx_rbelow(&s->r, WHO_N), v;
  if (roll < 28) {
    gen_transfer(x, s, w);
    return K_TRANSFER;
  }
  if (roll < 36 && s->npending) {
    unsigned i = s->npending - 1 - fx_rbelow(&s->r, s->npending < 32 ? s->npending : 32);
    w = s->pending_owner[i];
    unsigned what = fx_rbelow(&s->r, 3);
    if (what == 0) add(x, w, "ledger.void", "{\"id\":\"%s\"}", s->pending[i]);
    else if (what == 1)
      add(x, w, "ledger.post", "{\"id\":\"%s\",\"amount\":%u}", s->pending[i],
          1 + fx_rbelow(&s->r, 300));
    else add(x, w, "ledger.post", "{\"id\":\"%s\"}", s->pending[i]);
    return K_RESOLVE;
  }
  if (roll < 48) { /* EURB by bank1 or PNTS by acme, to a holder */
    int eurb = fx_rbelow(&s->r, 2);
    do v = (int)fx_rbelow(&s->r, WHO_N);
    while (v == (eurb ? BANK1 : ACME));
    add(x, eurb ? BANK1 : ACME, "token.issue",
        "{\"symbol\":\"%s\",\"account\":\"h%d%c\",\"amount\":%u,\"ref\":\"i%u\"}",
        eurb ? "EURB" : "PNTS", v, eurb ? 'b' : 'p', 1 + fx_rbelow(&s->r, 400), s->n++);
    return K_ISSUE;
  }
  if (roll < 55) { /* may exceed the holder's balance: refused */
    int eurb = fx_rbelow(&s->r, 2);
    if (w == (eurb ? BANK1 : ACME)) w = BOB;
    add(x, w, "token.redeem",
        "{\"symbol\":\"%s\",\"account\":\"h%d%c\",\"amount\":%u,\"ref\":\"r%u\"}",
        eurb ? "EURB" : "PNTS", w, eurb ? 'b' : 'p', 1 + fx_rbelow(&s->r, 150), s->n++);
    return K_REDEEM;
  }
  if (roll < 63) { /* holders pay each other in EURB */
    if (w == BANK1) w = CAROL;
    do v = other(&s->r, w);
    while (v == BANK1);
    add(x, w, "ledger.transfer",
        "{\"transfers\":[{\"id\":\"h%u\",\"debit\":\"h%db\",\"credit\":\"h%db\",\"amount\":%u}]}",
        s->n++, w, v, 1 + fx_rbelow(&s->r, 100));
    return K_HOLDERS;
  }
  if (roll < 76) { /* EUR from w, USD to v, through bank2 */
    if (w == BANK2) w = ACME;
    v = other(&s->r, w);
    add(x, w, "fx.pay", "{\"id\":\"fx%u\",\"quote\":%s,\"debit\":\"t%de\",\"credit\":\"t%du\",\"amount\":%u}",
        s->n++, x->quote, w, v, 1 + fx_rbelow(&s->r, 1000));
    return K_FX;
  }
  if (roll < 88) { /* a customer of bank w pays one of bank v */
    w = 1 + (int)fx_rbelow(&s->r, BANKS);
    v = 1 + (w - 1 + 1 + (int)fx_rbelow(&s->r, BANKS - 1)) % BANKS;
    add(x, w, "clearing.pay",
        "{\"id\":\"c%u\",\"asset\":\"USD\",\"amount\":%u,\"from_bank\":\"bank%d\","
        "\"from_account\":\"c%d:k%u\",\"to_bank\":\"bank%d\",\"to_account\":\"c%d:k%u\"}",
        s->n++, 1 + fx_rbelow(&s->r, 5000), w, w, fx_rbelow(&s->r, 2), v, v, fx_rbelow(&s->r, 2));
    return K_CLEARING;
  }
  /* a correction: one of w's entries, which may be reversed already */
  add(x, w, "books.reverse", "{\"seq\":%u,\"memo\":\"correction\"}",
      1 + fx_rbelow(&s->r, booked[w] ? booked[w] : 1));
  return K_REVERSE;
}

static void settle(fin *x) {
  const char *code = fx_submit(&x->f, &x->f.alice, &x->seq[ACME], "clearing.settle",
                               "{\"asset\":\"USD\",\"cycle\":%" PRIu64 "}", x->cycle);
  if (strcmp(code, "ok") != 0) fail_msg("settle cycle %" PRIu64 ": %s", x->cycle, code);
  x->cycle++;
}

static void run_workload(fin *x, wl *s) {
  for (int blk = 0; blk < R_BLOCKS; blk++) {
    unsigned booked[WHO_N];
    int kinds[R_TXS];
    for (int w = 0; w < WHO_N; w++) booked[w] = entries_of(x, w);
    for (int t = 0; t < R_TXS; t++) kinds[t] = gen_one(x, s, booked);
    hanse_receipt rs[R_TXS];
    hanse_reject rej;
    if (fx_propose(&x->f, &x->body, rs, R_TXS, &rej) != HANSE_OK)
      fail_msg("seed %" PRIu64 " block %d: %s: %s", s->seed, blk, rej.code, rej.message);
    fx_body_free(&x->body);
    x->in_body = 0;
    for (int t = 0; t < R_TXS; t++) {
      if (strcmp(rs[t].code, "ok") == 0) {
        s->ok[kinds[t]]++;
        continue;
      }
      /* refusals of what the state does not allow; never a malformed payload */
      if (strstr(rs[t].code, ".bad_") || strstr(rs[t].code, "id_conflict") ||
          strncmp(rs[t].code, "tx.", 3) == 0)
        fail_msg("seed %" PRIu64 " block %d tx %d (%s): %s: %s", s->seed, blk, t,
                 kind_names[kinds[t]], rs[t].code, rs[t].message);
      s->refused[kinds[t]]++;
    }
    x->f.time_ms += 1000ull * fx_rbelow(&s->r, 3);
    if (blk % R_SETTLE_EVERY == R_SETTLE_EVERY - 1) settle(x);
  }
  /* past every timeout; a ledger transaction sweeps; the last cycle settles */
  x->f.time_ms += 3600 * 1000;
  const char *code = fx_submit(&x->f, &x->f.alice, &x->seq[ACME], "ledger.open",
                               "{\"account\":\"sweeper\",\"asset\":\"EUR\",\"type\":\"asset\"}");
  assert_string_equal(code, "ok");
  settle(x);
}

/* ---- the checks --------------------------------------------------------------- */

/* Every item of a paged list query of `owner` ("entries" of books
 * journal, "accounts" of ledger accounts), page after page: a new array. */
static json_t *all_pages(fin *x, const char *module, const char *name, const char *field,
                         const char *owner) {
  json_t *all = json_array(), *next = NULL;
  for (;;) {
    json_t *p = json_pack("{s:s, s:s}", "owner", owner, "limit", "100");
    if (next) json_object_set_new(p, "after", next);
    json_t *r = mquery(x, module, name, p);
    json_array_extend(all, json_object_get(r, field));
    next = json_incref(json_object_get(r, "next"));
    json_decref(r);
    if (next == NULL) return all;
  }
}

/* (a) The trial balance, and every entry of the journal balanced on its
 * own, numbered 1..n. Appends who's entries to `all`. */
static void check_books(fin *x, int who, json_t *all) {
  json_decref(fx_books_trial(&x->f, x->owner[who]));
  json_t *journal = all_pages(x, "books", "journal", "entries", x->owner[who]);
  json_int_t seq = 0;
  size_t i;
  json_t *e;
  json_array_foreach(journal, i, e) {
    assert_int_equal(json_integer_value(json_object_get(e, "seq")), ++seq);
    json_t *sums = json_object(); /* asset -> debits - credits */
    size_t l;
    json_t *line;
    json_array_foreach(json_object_get(e, "lines"), l, line) {
      const char *a = str(line, "asset");
      json_int_t have = json_integer_value(json_object_get(sums, a));
      json_int_t d = (json_int_t)u64_or_0(line, "debit"), c = (json_int_t)u64_or_0(line, "credit");
      json_object_set_new(sums, a, json_integer(have + d - c));
    }
    const char *a;
    json_t *sum;
    json_object_foreach(sums, a, sum) {
      if (json_integer_value(sum) != 0)
        fail_msg("entry %s/%" JSON_INTEGER_FORMAT " does not balance in %s", x->owner[who], seq, a);
    }
    json_decref(sums);
  }
  assert_int_equal(seq, entries_of(x, who));
  json_array_extend(all, journal);
  json_decref(journal);
}

/* (b) Per asset: the totals balance, and are the sums over the accounts. */
static void check_ledger(fin *x) {
  uint64_t sum[ASSETS_N][4];
  static const char *const fields[4] = {"debits_posted", "credits_posted", "debits_pending",
                                        "credits_pending"};
  memset(sum, 0, sizeof sum);
  size_t accounts = 0;
  for (int w = 0; w < WHO_N; w++) {
    json_t *list = all_pages(x, "ledger", "accounts", "accounts", x->owner[w]);
    size_t i;
    json_t *a;
    json_array_foreach(list, i, a) {
      size_t k = 0;
      while (k < ASSETS_N && strcmp(assets[k], str(a, "asset")) != 0) k++;
      if (k == ASSETS_N) fail_msg("account %s in %s", str(a, "id"), str(a, "asset"));
      for (int f = 0; f < 4; f++) sum[k][f] += u64_or_0(a, fields[f]);
      accounts++;
    }
    json_decref(list);
  }
  for (size_t k = 0; k < ASSETS_N; k++) {
    json_t *t = mquery(x, "ledger", "totals", json_pack("{s:s}", "asset", assets[k]));
    for (int f = 0; f < 4; f++) assert_int_equal(u64_or_0(t, fields[f]), sum[k][f]);
    assert_int_equal(u64_or_0(t, "debits_posted"), u64_or_0(t, "credits_posted"));
    assert_int_equal(u64_or_0(t, "debits_pending"), u64_or_0(t, "credits_pending"));
    assert_true(sum[k][0] > 0);
    json_decref(t);
  }
  assert_true(accounts > 40);
}

static uint64_t amount_of(json_t *e) {
  return u64_or_0(json_array_get(json_object_get(e, "lines"), 0), "debit");
}

static const char *asset_of(json_t *e) {
  return str(json_array_get(json_object_get(e, "lines"), 0), "asset");
}

/* (c) Every transaction's entries, and both sides of every pair. *pairs
 * counts the entries whose partner was found. */
static void check_tx(fin *x, const char *tx, size_t *pairs, size_t *count) {
  hanse_hash h;
  assert_int_equal(hanse_hex_decode_exact(h.b, HANSE_HASH_BYTES, tx), HANSE_OK);
  json_t *es = fx_books_tx(&x->f, &h);
  *count += json_array_size(es);
  size_t i, j;
  json_t *e, *f;
  json_array_foreach(es, i, e) {
    const char *cp = str(e, "counterparty"), *role = str(e, "role");
    if (cp == NULL || role == NULL) continue; /* a reversal: one party's own correction */
    int booked = 0, partner = 0, same_asset = 0, same_amount = 0;
    json_array_foreach(es, j, f) {
      if (strcmp(str(f, "owner"), cp) != 0) continue;
      booked = 1;
      const char *frole = str(f, "role"), *fref = str(f, "ref"), *ref = str(e, "ref");
      if (frole == NULL || strcmp(frole, role) == 0 || (ref == NULL) != (fref == NULL) ||
          (ref && strcmp(ref, fref) != 0))
        continue;
      partner = 1;
      if (strcmp(asset_of(f), asset_of(e)) == 0) {
        same_asset = 1;
        same_amount |= amount_of(f) == amount_of(e);
      }
    }
    if (!booked) continue; /* the counterparty booked nothing here */
    if (!partner || (same_asset && !same_amount))
      fail_msg("tx %s: %s's %s entry %" JSON_INTEGER_FORMAT " about %s has no partner in its books",
               tx, str(e, "owner"), str(e, "type"), json_integer_value(json_object_get(e, "seq")),
               cp);
    (*pairs)++;
  }
  json_decref(es);
}

static void run(fin *x, uint64_t seed) {
  wl *s = calloc(1, sizeof *s);
  assert_non_null(s);
  s->r.s = seed;
  s->seed = seed;
  run_workload(x, s);
  for (int k = 0; k < K_N; k++) {
    print_message("seed %" PRIu64 ": %-9s %3u ok %3u refused\n", seed, kind_names[k], s->ok[k],
                  s->refused[k]);
    assert_true(s->ok[k] > 0); /* every kind happened */
  }
  assert_true(s->refused[K_TRANSFER] + s->refused[K_REDEEM] + s->refused[K_REVERSE] > 0);

  json_t *all = json_array();
  for (int w = 0; w < WHO_N; w++) check_books(x, w, all);
  check_ledger(x);
  /* every transaction that booked anything, once */
  json_t *txs = json_object();
  size_t i;
  json_t *e;
  json_array_foreach(all, i, e) json_object_set_new(txs, str(e, "tx"), json_true());
  size_t pairs = 0, count = 0;
  const char *tx;
  json_t *unused;
  json_object_foreach(txs, tx, unused) check_tx(x, tx, &pairs, &count);
  assert_int_equal(count, json_array_size(all));
  print_message("seed %" PRIu64 ": %zu entries in %zu transactions, %zu with their partner\n", seed,
                count, json_object_size(txs), pairs);
  assert_true(pairs > 200);
  /* after the last settlement every bank's clearing is squared in its
   * books -- the money's view, before the corrections: the reversals left
   * out, assets:clearing sums to zero */
  for (int w = BANK1; w <= BANK3; w++) {
    int64_t clearing = 0;
    size_t n = 0;
    json_array_foreach(all, i, e) {
      if (strcmp(str(e, "owner"), x->owner[w]) != 0 || json_object_get(e, "reverses")) continue;
      size_t l;
      json_t *line;
      json_array_foreach(json_object_get(e, "lines"), l, line) {
        if (strcmp(str(line, "account"), "assets:clearing") != 0) continue;
        clearing += (int64_t)u64_or_0(line, "debit") - (int64_t)u64_or_0(line, "credit");
        n++;
      }
    }
    assert_true(n > 0);
    assert_int_equal(clearing, 0);
  }
  json_decref(txs);
  json_decref(all);
  free(s);
}

static void test_seed1(void **state) { run(*state, 1); }
static void test_seed2(void **state) { run(*state, 0xf1a4ce); }

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_seed1, setup, teardown),
      cmocka_unit_test_setup_teardown(test_seed2, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
