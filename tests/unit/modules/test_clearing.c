/*
 * test_clearing.c -- clearing and settlement (modules/clearing) through
 * blocks, receipts and queries.
 *
 * Five banks b1..b5 (organisations of the genesis, one key each) and the
 * operator acme (alice), named in genesis "clearing":{"operator":"acme"}.
 * Each bank has a capital account, three customer accounts (limited:
 * they cannot go below zero) and joins USD clearing with a clearing and a
 * funded settlement account; acme joins with the house's two accounts.
 *
 * The randomized workload (fixed seeds, one settlement cycle each) makes
 * payments between customers of different banks, several per block, and
 * keeps the pairwise sums sums[from][to]: the brute-force computation.
 * Before settling, the open cycle's report must agree with it -- gross,
 * each bank's sent, received and net (received - sent), the total net
 * (the sum of the positive nets) -- and after settling, each bank's
 * settlement account moved by exactly its net position, every clearing
 * account and both house accounts are back at zero, and every customer
 * holds what the payments say. Settling a cycle twice is refused, and
 * only the operator settles. A debtor short of settlement funds refuses
 * the whole settlement and nothing moves. Books: a payment books a
 * clearing entry in both banks' books, a settlement one entry per bank
 * with a net position (debtor or creditor, the operator named); after
 * each settlement every bank's books balance, its assets:clearing is
 * zero, its assets:settlement and liabilities:deposits agree with its
 * ledger accounts; refused and repeated actions book nothing. Every
 * chain is audited at the end.
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
#include "fixture.h"

#define BANKS 5
#define CUSTOMERS 3
#define OPERATOR BANKS /* who: 0..4 the banks, 5 the operator (alice) */
#define CUSTOMER_FUNDS 1000000
#define SETTLEMENT_FUNDS 10000000

typedef struct ct {
  fx_chain f;
  hanse_keypair bank[BANKS];
  uint64_t seq[BANKS + 1];
  fx_body body; /* the block being gathered */
  int in_body;
} ct;

static const hanse_keypair *key_of(ct *x, int who) {
  return who == OPERATOR ? &x->f.alice : &x->bank[who];
}

/* One transaction in a block of its own; its receipt code. */
#define submit(x, who, kind, ...) fx_submit(&(x)->f, key_of(x, who), &(x)->seq[who], kind, __VA_ARGS__)

/* Gather transactions into one block; flush proposes it and requires
 * every receipt to be "ok". */
static void add(ct *x, int who, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add(ct *x, int who, const char *kind, const char *fmt, ...) {
  char payload[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(payload, sizeof payload, fmt, ap);
  va_end(ap);
  if (!x->in_body) {
    fx_body_init(&x->body);
    x->in_body = 1;
  }
  fx_body_tx(&x->body, key_of(x, who), kind, ++x->seq[who], "%s", payload);
}

static void flush(ct *x) {
  if (!x->in_body) return;
  fx_propose_ok(&x->f, &x->body);
  fx_body_free(&x->body);
  x->in_body = 0;
}

static void join(ct *x, int who, const char *prefix) {
  add(x, who, "clearing.join",
      "{\"asset\":\"USD\",\"clearing_account\":\"%s:clr\",\"settlement_account\":\"%s:stl\"}",
      prefix, prefix);
}

static void setup_chain(ct *x, int with_operator) {
  char hex[BANKS + 1][HANSE_HASH_HEX_BYTES];
  for (int i = 0; i < BANKS; i++) {
    fx_key(&x->bank[i], (uint8_t)(0x11 + i));
    fx_hex(hex[i], &x->bank[i].pub);
  }
  json_t *orgs = json_array();
  for (int i = 0; i < BANKS; i++) {
    char id[8];
    snprintf(id, sizeof id, "b%d", i + 1);
    json_array_append_new(orgs, json_pack("{s:s, s:s, s:s, s:[s]}", "id", id, "name", id, "role",
                                          "bank", "keys", hex[i]));
  }
  /* acme keeps alice, as in the test genesis */
  fx_key(&x->f.alice, 0xa1);
  fx_hex(hex[BANKS], &x->f.alice.pub);
  json_array_append_new(orgs, json_pack("{s:s, s:s, s:s, s:[s]}", "id", "acme", "name", "ACME",
                                        "role", "bank", "keys", hex[BANKS]));
  json_t *extra = json_pack("{s:o}", "organisations", orgs);
  if (with_operator) json_object_set_new(extra, "clearing", json_pack("{s:s}", "operator", "acme"));
  fx_chain_setup_with(&x->f, NULL, extra);
  json_decref(extra);
}

static int setup(void **state) {
  ct *x = calloc(1, sizeof *x);
  if (x == NULL) return -1;
  setup_chain(x, 1);
  for (int b = 0; b < BANKS; b++) {
    add(x, b, "ledger.open", "{\"account\":\"b%d:cap\",\"asset\":\"USD\",\"type\":\"equity\"}",
        b + 1);
    for (int c = 0; c < CUSTOMERS; c++)
      add(x, b, "ledger.open",
          "{\"account\":\"b%d:c%d\",\"asset\":\"USD\",\"type\":\"liability\",\"rule\":"
          "\"debits_must_not_exceed_credits\"}",
          b + 1, c);
    char prefix[8];
    snprintf(prefix, sizeof prefix, "b%d", b + 1);
    join(x, b, prefix);
  }
  join(x, OPERATOR, "house");
  flush(x);
  for (int b = 0; b < BANKS; b++) {
    for (int c = 0; c < CUSTOMERS; c++)
      add(x, b, "ledger.transfer",
          "{\"transfers\":[{\"id\":\"f%d.%d\",\"debit\":\"b%d:cap\",\"credit\":\"b%d:c%d\","
          "\"amount\":%d}]}",
          b + 1, c, b + 1, b + 1, c, CUSTOMER_FUNDS);
    add(x, b, "ledger.transfer",
        "{\"transfers\":[{\"id\":\"f%d.s\",\"debit\":\"b%d:cap\",\"credit\":\"b%d:stl\","
        "\"amount\":%d}]}",
        b + 1, b + 1, b + 1, SETTLEMENT_FUNDS);
  }
  flush(x);
  *state = x;
  return 0;
}

static int teardown(void **state) {
  ct *x = *state;
  if (x->in_body) fx_body_free(&x->body);
  fx_chain_audit(&x->f);
  fx_chain_teardown(&x->f);
  for (int i = 0; i < BANKS; i++) hanse_keypair_wipe(&x->bank[i]);
  free(x);
  return 0;
}

static json_t *query(ct *x, const char *name, const char *k1, const char *v1, const char *k2,
                     const char *v2, const char **code) {
  json_t *params = json_pack("{s:s}", k1, v1);
  if (k2) json_object_set_new(params, k2, json_string(v2));
  return fx_query_code(&x->f, "clearing", name, params, code);
}

static uint64_t u64_of(json_t *o, const char *f) {
  const char *s = json_string_value(json_object_get(o, f));
  if (s == NULL) fail_msg("no decimal %s", f);
  return strtoull(s, NULL, 10);
}

/* The balance of bank n's account "b<n>:<what>". */
static int64_t bal(ct *x, int n, const char *what) {
  char id[32];
  snprintf(id, sizeof id, "b%d:%s", n, what);
  return fx_ledger_balance(&x->f, id);
}

static const char *pay_payload(char *out, size_t n, const char *id, int from, int fc, int to,
                               int tc, uint64_t amount) {
  snprintf(out, n,
           "{\"id\":\"%s\",\"asset\":\"USD\",\"amount\":%" PRIu64 ",\"from_bank\":\"b%d\","
           "\"from_account\":\"b%d:c%d\",\"to_bank\":\"b%d\",\"to_account\":\"b%d:c%d\"}",
           id, amount, from + 1, from + 1, fc, to + 1, to + 1, tc);
  return out;
}

static uint64_t rnd(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

/* The entries of the last submit's transaction (books query "tx"): n. */
static json_t *booked(ct *x, size_t n) {
  json_t *es = fx_books_tx(&x->f, &fx_submitted()->id);
  assert_int_equal(json_array_size(es), n);
  return es;
}

/* Bank n's books (1-based) balance; their assets:clearing is zero, as
 * after every settlement; *settlement and *deposits receive the balances
 * of assets:settlement and liabilities:deposits. */
static void books_squared(ct *x, int n, int64_t *settlement, int64_t *deposits) {
  char id[8];
  snprintf(id, sizeof id, "b%d", n);
  json_t *tb = fx_books_trial(&x->f, id);
  assert_int_equal(fx_books_balance(tb, "assets:clearing", "USD"), 0);
  *settlement = fx_books_balance(tb, "assets:settlement", "USD");
  *deposits = fx_books_balance(tb, "liabilities:deposits", "USD");
  json_decref(tb);
}

/* The report's row of bank b (1-based id). */
static json_t *row_of(json_t *report, int b) {
  char id[8];
  size_t i;
  json_t *row;
  snprintf(id, sizeof id, "b%d", b);
  json_array_foreach(json_object_get(report, "banks"), i, row) {
    if (strcmp(json_string_value(json_object_get(row, "bank")), id) == 0) return row;
  }
  return NULL;
}

/* The report against the brute-force sums. */
static void check_report(json_t *r, uint64_t sums[BANKS][BANKS], size_t count) {
  uint64_t gross = 0, net = 0;
  for (int i = 0; i < BANKS; i++)
    for (int j = 0; j < BANKS; j++) gross += sums[i][j];
  assert_int_equal(json_integer_value(json_object_get(r, "obligations")), count);
  for (int b = 0; b < BANKS; b++) {
    uint64_t sent = 0, received = 0;
    for (int j = 0; j < BANKS; j++) {
      sent += sums[b][j];
      received += sums[j][b];
    }
    int64_t pos = (int64_t)received - (int64_t)sent;
    if (pos > 0) net += (uint64_t)pos;
    json_t *row = row_of(r, b + 1);
    if (sent == 0 && received == 0) {
      assert_null(row);
      continue;
    }
    assert_non_null(row);
    assert_int_equal(u64_of(row, "sent"), sent);
    assert_int_equal(u64_of(row, "received"), received);
    assert_int_equal(u64_of(row, "net"), pos < 0 ? -pos : pos);
    assert_string_equal(json_string_value(json_object_get(row, "side")),
                        pos > 0 ? "creditor" : pos < 0 ? "debtor" : "flat");
  }
  assert_int_equal(u64_of(r, "gross"), gross);
  assert_int_equal(u64_of(r, "net"), net);
  assert_int_equal(u64_of(r, "saving"), gross - net);
  assert_true(net < gross); /* netting saves something on these workloads */
}

static void test_netting(void **state) {
  ct *x = *state;
  int64_t cust[BANKS][CUSTOMERS];
  for (int b = 0; b < BANKS; b++)
    for (int c = 0; c < CUSTOMERS; c++) cust[b][c] = CUSTOMER_FUNDS;
  const uint64_t seeds[] = {1, 0x5eed, 20240601};
  for (size_t cycle = 1; cycle <= sizeof seeds / sizeof seeds[0]; cycle++) {
    uint64_t s = seeds[cycle - 1], sums[BANKS][BANKS] = {{0}};
    const size_t n = 40;
    for (size_t k = 0; k < n; k++) {
      int from = (int)(rnd(&s) % BANKS), to = (int)(rnd(&s) % (BANKS - 1));
      if (to >= from) to++;
      int fc = (int)(rnd(&s) % CUSTOMERS), tc = (int)(rnd(&s) % CUSTOMERS);
      uint64_t amount = 1 + rnd(&s) % 5000;
      char id[32], payload[512];
      snprintf(id, sizeof id, "p%zu.%zu", cycle, k);
      add(x, from, "clearing.pay", "%s",
          pay_payload(payload, sizeof payload, id, from, fc, to, tc, amount));
      if (k % 4 == 3) flush(x); /* four payments a block */
      sums[from][to] += amount;
      cust[from][fc] -= (int64_t)amount;
      cust[to][tc] += (int64_t)amount;
    }
    flush(x);
    char cy[8];
    snprintf(cy, sizeof cy, "%zu", cycle);
    json_t *r = query(x, "positions", "asset", "USD", NULL, NULL, NULL);
    assert_non_null(r);
    assert_int_equal(json_integer_value(json_object_get(r, "cycle")), cycle);
    assert_string_equal(json_string_value(json_object_get(r, "status")), "open");
    check_report(r, sums, n);
    json_decref(r);

    int64_t stl_before[BANKS];
    for (int b = 0; b < BANKS; b++) stl_before[b] = bal(x, b + 1, "stl");
    assert_string_equal(submit(x, 0, "clearing.settle", "{\"asset\":\"USD\",\"cycle\":%zu}", cycle),
                        "clearing.not_operator");
    assert_string_equal(
        submit(x, OPERATOR, "clearing.settle", "{\"asset\":\"USD\",\"cycle\":%zu}", cycle), "ok");
    /* the settlement legs moved exactly each bank's net position, and
     * each bank booked it: a debtor pays (Dr assets:clearing, Cr
     * assets:settlement), a creditor is paid, the operator named */
    json_t *es = fx_books_tx(&x->f, &fx_submitted()->id);
    size_t moved = 0;
    for (int b = 0; b < BANKS; b++) {
      int64_t net = 0;
      for (int j = 0; j < BANKS; j++) net += (int64_t)sums[j][b] - (int64_t)sums[b][j];
      assert_int_equal(bal(x, b + 1, "stl") - stl_before[b], net);
      assert_int_equal(bal(x, b + 1, "clr"), 0);
      char bank[8];
      snprintf(bank, sizeof bank, "b%d", b + 1);
      json_t *e = fx_books_find(es, bank, "settlement", net < 0 ? "payer" : "payee", "USD");
      if (net == 0) {
        assert_null(fx_books_find(es, bank, "settlement", NULL, NULL));
      } else {
        moved++;
        if (net < 0) fx_books_expect(e, "assets:clearing", "assets:settlement", "USD", (uint64_t)-net);
        else fx_books_expect(e, "assets:settlement", "assets:clearing", "USD", (uint64_t)net);
        assert_string_equal(json_string_value(json_object_get(e, "counterparty")), "acme");
      }
      /* the books: clearing squared, settlement and deposits as the ledger */
      int64_t settlement, deposits, held = 0;
      books_squared(x, b + 1, &settlement, &deposits);
      assert_int_equal(settlement, bal(x, b + 1, "stl") - SETTLEMENT_FUNDS);
      for (int c = 0; c < CUSTOMERS; c++) held += cust[b][c] - CUSTOMER_FUNDS;
      assert_int_equal(deposits, -held);
      for (int c = 0; c < CUSTOMERS; c++) {
        char id[16];
        snprintf(id, sizeof id, "b%d:c%d", b + 1, c);
        assert_int_equal(fx_ledger_balance(&x->f, id), cust[b][c]);
      }
    }
    assert_int_equal(json_array_size(es), moved);
    json_decref(es);
    assert_int_equal(fx_ledger_balance(&x->f, "house:clr"), 0);
    assert_int_equal(fx_ledger_balance(&x->f, "house:stl"), 0);
    /* the kept report, and the next cycle open and empty */
    r = query(x, "cycle", "asset", "USD", "cycle", cy, NULL);
    assert_string_equal(json_string_value(json_object_get(r, "status")), "settled");
    check_report(r, sums, n);
    json_decref(r);
    r = query(x, "positions", "asset", "USD", NULL, NULL, NULL);
    assert_int_equal(json_integer_value(json_object_get(r, "cycle")), cycle + 1);
    assert_int_equal(json_integer_value(json_object_get(r, "obligations")), 0);
    json_decref(r);
    assert_string_equal(
        submit(x, OPERATOR, "clearing.settle", "{\"asset\":\"USD\",\"cycle\":%zu}", cycle),
        "clearing.cycle_closed");
  }
  const char *code;
  assert_null(query(x, "cycle", "asset", "USD", "cycle", "9", &code));
  assert_string_equal(code, "clearing.no_cycle");
  assert_null(query(x, "cycle", "asset", "USD", "cycle", "0", &code));
  assert_string_equal(code, "clearing.bad_cycle");
}

static void test_pay_rules(void **state) {
  ct *x = *state;
  char p[512];
  /* b2 may not pay out of b1's customer's account */
  assert_string_equal(submit(x, 1, "clearing.pay", "%s", pay_payload(p, sizeof p, "x", 0, 0, 1, 0, 5)),
                      "clearing.not_bank");
  /* the payee's account must be held at the payee's bank */
  snprintf(p, sizeof p,
           "{\"id\":\"x\",\"asset\":\"USD\",\"amount\":5,\"from_bank\":\"b1\",\"from_account\":"
           "\"b1:c0\",\"to_bank\":\"b2\",\"to_account\":\"b3:c0\"}");
  assert_string_equal(submit(x, 0, "clearing.pay", "%s", p), "clearing.not_bank_account");
  assert_string_equal(submit(x, 0, "clearing.pay", "%s", pay_payload(p, sizeof p, "x", 0, 0, 0, 1, 5)),
                      "clearing.same_bank");
  /* acme is the house, not a bank */
  snprintf(p, sizeof p,
           "{\"id\":\"x\",\"asset\":\"USD\",\"amount\":5,\"from_bank\":\"b1\",\"from_account\":"
           "\"b1:c0\",\"to_bank\":\"acme\",\"to_account\":\"house:clr\"}");
  assert_string_equal(submit(x, 0, "clearing.pay", "%s", p), "clearing.not_joined");
  /* a customer cannot pay more than it has */
  assert_string_equal(submit(x, 0, "clearing.pay", "%s",
                             pay_payload(p, sizeof p, "x", 0, 0, 1, 0, CUSTOMER_FUNDS + 1)),
                      "ledger.exceeds_credits");
  /* a clearing account moves only by the module */
  assert_string_equal(submit(x, 0, "ledger.transfer",
                             "{\"transfers\":[{\"id\":\"t\",\"debit\":\"b1:stl\",\"credit\":"
                             "\"b1:cap\",\"amount\":1}]}"),
                      "ledger.controlled");
  assert_string_equal(submit(x, 0, "clearing.join",
                             "{\"asset\":\"USD\",\"clearing_account\":\"y1\",\"settlement_account\""
                             ":\"y2\"}"),
                      "clearing.joined");

  json_decref(booked(x, 0)); /* refused: nothing booked */

  /* the same payment twice moves money once; another under its id is refused */
  assert_string_equal(submit(x, 0, "clearing.pay", "%s", pay_payload(p, sizeof p, "x", 0, 0, 1, 0, 500)),
                      "ok");
  /* both banks book it: b1 owes its customer less and the clearing more */
  json_t *es = booked(x, 2);
  json_t *e = fx_books_find(es, "b1", "clearing", "payer", "USD");
  fx_books_expect(e, "liabilities:deposits", "assets:clearing", "USD", 500);
  assert_string_equal(json_string_value(json_object_get(e, "counterparty")), "b2");
  assert_string_equal(json_string_value(json_object_get(e, "ref")), "x");
  e = fx_books_find(es, "b2", "clearing", "payee", "USD");
  fx_books_expect(e, "assets:clearing", "liabilities:deposits", "USD", 500);
  assert_string_equal(json_string_value(json_object_get(e, "counterparty")), "b1");
  json_decref(es);
  assert_string_equal(submit(x, 0, "clearing.pay", "%s", pay_payload(p, sizeof p, "x", 0, 0, 1, 0, 500)),
                      "ok");
  json_decref(booked(x, 0));
  assert_int_equal(bal(x, 1, "c0"), CUSTOMER_FUNDS - 500);
  assert_int_equal(bal(x, 2, "c0"), CUSTOMER_FUNDS + 500);
  assert_string_equal(submit(x, 0, "clearing.pay", "%s", pay_payload(p, sizeof p, "x", 0, 0, 1, 0, 501)),
                      "clearing.id_conflict");
  json_t *r = query(x, "positions", "asset", "USD", NULL, NULL, NULL);
  assert_int_equal(json_integer_value(json_object_get(r, "obligations")), 1);
  assert_int_equal(u64_of(r, "gross"), 500);
  json_decref(r);
  r = query(x, "payment", "id", "x", NULL, NULL, NULL);
  assert_int_equal(json_integer_value(json_object_get(r, "cycle")), 1);
  json_decref(r);

  assert_string_equal(submit(x, OPERATOR, "clearing.settle", "{\"asset\":\"USD\",\"cycle\":2}"),
                      "clearing.no_cycle");
}

/* A debtor short of settlement funds: the whole settlement is refused. */
static void test_settle_short(void **state) {
  ct *x = *state;
  char p[512];
  /* b1's customer c0 gets 3 x the settlement funds and sends b2's c0 2 x:
   * b1 owes twice what its settlement account holds */
  add(x, 0, "ledger.transfer",
      "{\"transfers\":[{\"id\":\"rich\",\"debit\":\"b1:cap\",\"credit\":\"b1:c0\","
      "\"amount\":%d}]}",
      3 * SETTLEMENT_FUNDS);
  add(x, 0, "clearing.pay", "%s", pay_payload(p, sizeof p, "big", 0, 0, 1, 0, 2 * SETTLEMENT_FUNDS));
  add(x, 2, "clearing.pay", "%s", pay_payload(p, sizeof p, "small", 2, 0, 1, 1, 7));
  flush(x);
  json_t *r = query(x, "positions", "asset", "USD", NULL, NULL, NULL);
  assert_int_equal(u64_of(row_of(r, 1), "net"), 2 * SETTLEMENT_FUNDS);
  assert_string_equal(json_string_value(json_object_get(row_of(r, 1), "side")), "debtor");
  json_decref(r);

  char before[6][512];
  const char *keys[] = {"ledger/bal/b1:stl", "ledger/bal/b2:stl",    "ledger/bal/b3:stl",
                        "ledger/bal/b1:clr", "ledger/bal/house:stl", "clearing/cycle/USD"};
  /* a balance row is absent until a transfer moves the account */
  int had[6];
  for (int i = 0; i < 6; i++) had[i] = fx_state(&x->f, keys[i], before[i], sizeof before[i]);
  assert_string_equal(submit(x, OPERATOR, "clearing.settle", "{\"asset\":\"USD\",\"cycle\":1}"),
                      "ledger.exceeds_credits");
  json_decref(booked(x, 0));
  for (int i = 0; i < 6; i++) {
    char now[512];
    assert_int_equal(fx_state(&x->f, keys[i], now, sizeof now), had[i]);
    if (had[i]) assert_string_equal(now, before[i]);
  }
  char v[512];
  assert_false(fx_state(&x->f, "clearing/settled/USD/00000000000000000001", v, sizeof v));
  /* b1 tops up its settlement account -- anyone may credit it -- and the
   * cycle settles */
  assert_string_equal(submit(x, 0, "ledger.transfer",
                             "{\"transfers\":[{\"id\":\"top\",\"debit\":\"b1:cap\",\"credit\":"
                             "\"b1:stl\",\"amount\":%d}]}",
                             SETTLEMENT_FUNDS),
                      "ok");
  assert_string_equal(submit(x, OPERATOR, "clearing.settle", "{\"asset\":\"USD\",\"cycle\":1}"),
                      "ok");
  assert_int_equal(bal(x, 1, "stl"), 0);
  assert_int_equal(bal(x, 2, "stl"), SETTLEMENT_FUNDS + 2 * SETTLEMENT_FUNDS + 7);
  assert_int_equal(bal(x, 3, "stl"), SETTLEMENT_FUNDS - 7);
  json_decref(booked(x, 3));
  /* the top-up moved money inside b1 and booked nothing: the books show
   * the net positions settled */
  const int64_t settled[] = {-2 * SETTLEMENT_FUNDS, 2 * SETTLEMENT_FUNDS + 7, -7};
  for (int b = 1; b <= 3; b++) {
    int64_t settlement, deposits;
    assert_int_equal(bal(x, b, "clr"), 0);
    books_squared(x, b, &settlement, &deposits);
    assert_int_equal(settlement, settled[b - 1]);
  }
}

/* Without an operator in the genesis nobody clears. */
static void test_not_configured(void **state) {
  (void)state;
  ct *x = calloc(1, sizeof *x);
  assert_non_null(x);
  setup_chain(x, 0);
  join(x, 0, "b1");
  fx_body_finish(&x->body);
  hanse_receipt r[1];
  hanse_reject rej;
  assert_int_equal(fx_propose(&x->f, &x->body, r, 1, &rej), HANSE_OK);
  assert_string_equal(r[0].code, "clearing.not_configured");
  fx_body_free(&x->body);
  x->in_body = 0;
  void *st = x;
  teardown(&st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_netting, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pay_rules, setup, teardown),
      cmocka_unit_test_setup_teardown(test_settle_short, setup, teardown),
      cmocka_unit_test(test_not_configured),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
