/*
 * test_ledger_conf.c -- confidential amounts in the ledger
 * (modules/ledger/ledger_conf.c) through blocks, receipts and queries.
 *
 * The chain starts without a policy; a governance vote (alice, acme's
 * admin) makes EUR confidential with carol as its auditor. Then: a
 * confidential transfer from acme to bob (an unknown key, so the owner is
 * the key) commits; the accounts and the totals keep commitment sums and
 * no clear amount, and the totals' debit and credit commitments are
 * equal; a pending one posted whole and another voided, a third expired
 * by block time, leave exactly the commitments of what was posted, which
 * the auditor's openings reproduce (sum of amounts, sum of blindings);
 * partial posting is refused. Refusals: a clear amount in EUR, a
 * confidential one in USD, an opening not sealed to the auditor or to a
 * party, accounts with balance rules (opening one in EUR, or transferring
 * through one opened while EUR was clear). check refuses a commitment that
 * is no point or the identity, a malformed opening and unknown members.
 * A second vote removes EUR from the policy: clear EUR transfers are
 * accepted again and confidential ones refused, while a confidential
 * pending transfer made before still posts. The commitment invariant
 * check itself rejects unbalanced totals. Every chain is re-executed by
 * the audit at the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/hex.h"
#include "chain/exec.h"
#include "crypto/pedersen.h"
#include "fixture.h"
#include "hanse/client.h"
#include "modules/ledger/ledger.h"

enum { ALICE, BOB, CAROL, WHO_N };

typedef struct cx {
  fx_chain f;
  uint64_t seq[WHO_N];
  hanse_receipt last;
  char hex[WHO_N][HANSE_HASH_HEX_BYTES];
} cx;

static const hanse_keypair *key_of(cx *x, int who) {
  return who == ALICE ? &x->f.alice : who == BOB ? &x->f.bob : &x->f.carol;
}

static const char *submit(cx *x, int who, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static const char *submit(cx *x, int who, const char *kind, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fx_propose_vtx(&x->f, key_of(x, who), kind, ++x->seq[who], &x->last, fmt, ap);
  va_end(ap);
  return x->last.code;
}

/* A policy adopted by acme's vote (the only organisation): in force from
 * the next block. */
static void set_policy(cx *x, const char *policy) {
  assert_string_equal(submit(x, ALICE, "member.policy_propose", "{\"policy\":%s}", policy), "ok");
  char prop[HANSE_HASH_HEX_BYTES];
  hanse_hash_hex(prop, &x->last.id);
  assert_string_equal(
      submit(x, ALICE, "member.org_vote", "{\"proposal\":\"%s\",\"approve\":true}", prop), "ok");
}

static void conf_policy(cx *x) {
  char pol[256];
  snprintf(pol, sizeof pol, "{\"confidential\":{\"assets\":[\"EUR\"],\"auditors\":[\"%s\"]}}",
           x->hex[CAROL]);
  set_policy(x, pol);
}

static int setup(void **state) {
  cx *x = calloc(1, sizeof *x);
  if (x == NULL) return -1;
  fx_chain_setup(&x->f, NULL);
  for (int i = 0; i < WHO_N; i++) fx_hex(x->hex[i], &key_of(x, i)->pub);
  *state = x;
  return 0;
}

static int teardown(void **state) {
  cx *x = *state;
  fx_chain_audit(&x->f);
  fx_chain_teardown(&x->f);
  free(x);
  return 0;
}

static json_t *query(cx *x, const char *name, const char *k1, const char *v1) {
  json_t *params = k1 ? json_pack("{s:s}", k1, v1) : json_object();
  json_t *res = NULL;
  hanse_reject rej;
  int rc = fx_query(&x->f, "ledger", name, params, &res, &rej);
  json_decref(params);
  if (rc != HANSE_OK) fail_msg("query %s: %s", name, rej.code);
  return res;
}

/* The transfer object {id, debit, credit, amount: confidential} sealed to
 * the keys of `to` (a mask of 1 << who) as compact JSON text (free). */
static char *conf_xfer(const char *id, const char *debit, const char *credit, uint64_t amount,
                       cx *x, unsigned to, const char *extra) {
  json_t *t = json_pack("{s:s, s:s, s:s, s:I}", "id", id, "debit", debit, "credit", credit,
                        "amount", (json_int_t)amount);
  hanse_pubkey keys[WHO_N];
  size_t n = 0;
  for (int i = 0; i < WHO_N; i++)
    if (to & (1u << i)) keys[n++] = key_of(x, i)->pub;
  hanse_reject rej;
  assert_int_equal(hanse_ledger_conf_seal(FX_CHAIN_ID, t, keys, n, &rej), HANSE_OK);
  if (extra) {
    json_t *e = json_loads(extra, 0, NULL);
    assert_non_null(e);
    json_object_update(t, e);
    json_decref(e);
  }
  char *s = json_dumps(t, JSON_COMPACT);
  json_decref(t);
  return s;
}

#define ALL ((1u << ALICE) | (1u << BOB) | (1u << CAROL))

static const char *send(cx *x, const char *transfer_json) {
  return submit(x, ALICE, "ledger.transfer", "{\"transfers\":[%s]}", transfer_json);
}

/* commitments.<field> of an account or totals record ("" if none). */
static const char *cm(json_t *rec, const char *field) {
  const char *s = json_string_value(json_object_get(json_object_get(rec, "commitments"), field));
  return s ? s : "";
}

#define ZERO "0000000000000000000000000000000000000000000000000000000000000000"

/* The auditor's opening of transfer id, added into sums a and r. */
static void open_into(cx *x, const char *id, hanse_scalar *a, hanse_scalar *r, uint64_t want) {
  json_t *rec = query(x, "transfer", "id", id);
  uint64_t amount;
  hanse_scalar blinding, as;
  hanse_reject rej;
  if (hanse_ledger_conf_open(FX_CHAIN_ID, rec, &x->f.carol, &amount, &blinding, &rej) != HANSE_OK)
    fail_msg("open %s: %s: %s", id, rej.code, rej.message);
  assert_int_equal(amount, want);
  hanse_scalar_from_u64(&as, amount);
  hanse_scalar_add(a, a, &as);
  hanse_scalar_add(r, r, &blinding);
  json_decref(rec);
}

/* ledger.open of an asset account, with a rule when `rule` is not NULL. */
static const char *open_acct(cx *x, int who, const char *id, const char *asset,
                             const char *rule) {
  return submit(x, who, "ledger.open",
                "{\"account\":\"%s\",\"asset\":\"%s\",\"type\":\"asset\"%s%s%s}", id, asset,
                rule ? ",\"rule\":\"" : "", rule ? rule : "", rule ? "\"" : "");
}

static void open_accounts(cx *x) {
  assert_string_equal(open_acct(x, ALICE, "acme:cash", "EUR", NULL), "ok");
  assert_string_equal(open_acct(x, BOB, "bob:cash", "EUR", NULL), "ok");
}

static void test_transfers_and_invariant(void **state) {
  cx *x = *state;
  conf_policy(x);
  open_accounts(x);
  json_t *pol = query(x, "confidential", NULL, NULL);
  assert_string_equal(json_string_value(json_array_get(json_object_get(pol, "assets"), 0)), "EUR");
  assert_string_equal(json_string_value(json_array_get(json_object_get(pol, "auditors"), 0)),
                      x->hex[CAROL]);
  json_decref(pol);

  char *t;
  assert_string_equal(send(x, t = conf_xfer("c1", "acme:cash", "bob:cash", 700, x, ALL, NULL)),
                      "ok");
  /* the same request again changes nothing; the same id otherwise is a
   * conflict */
  assert_string_equal(send(x, t), "ok");
  free(t);
  assert_string_equal(send(x, t = conf_xfer("c1", "acme:cash", "bob:cash", 700, x, ALL, NULL)),
                      "ledger.id_conflict");
  free(t);
  json_t *rec = query(x, "transfer", "id", "c1");
  assert_true(json_is_object(json_object_get(rec, "amount")));
  assert_string_equal(json_string_value(json_object_get(rec, "status")), "posted");
  assert_null(json_object_get(rec, "posted_amount"));
  const char *c1 = json_string_value(json_object_get(json_object_get(rec, "amount"), "commitment"));
  json_t *d = query(x, "account", "account", "acme:cash");
  json_t *c = query(x, "account", "account", "bob:cash");
  json_t *tot = query(x, "totals", "asset", "EUR");
  assert_string_equal(cm(d, "debits_posted"), c1);
  assert_string_equal(cm(c, "credits_posted"), c1);
  assert_string_equal(cm(d, "credits_posted"), ZERO);
  assert_string_equal(json_string_value(json_object_get(d, "debits_posted")), "0");
  assert_string_equal(cm(tot, "debits_posted"), cm(tot, "credits_posted"));
  assert_string_equal(cm(tot, "debits_posted"), c1);
  json_decref(d);
  json_decref(c);
  json_decref(tot);
  json_decref(rec);

  /* two-phase: c2 posted whole, c3 voided, c4 expires; partial refused */
  assert_string_equal(send(x, t = conf_xfer("c2", "acme:cash", "bob:cash", 300, x, ALL,
                                            "{\"pending\":true}")),
                      "ok");
  free(t);
  assert_string_equal(send(x, t = conf_xfer("c3", "acme:cash", "bob:cash", 50, x, ALL,
                                            "{\"pending\":true}")),
                      "ok");
  free(t);
  assert_string_equal(send(x, t = conf_xfer("c4", "acme:cash", "bob:cash", 9, x, ALL,
                                            "{\"pending\":true,\"timeout\":1}")),
                      "ok");
  free(t);
  assert_string_equal(submit(x, ALICE, "ledger.post", "{\"id\":\"c2\",\"amount\":100}"),
                      "ledger.confidential_partial");
  assert_string_equal(submit(x, ALICE, "ledger.post", "{\"id\":\"c2\"}"), "ok");
  assert_string_equal(submit(x, ALICE, "ledger.void", "{\"id\":\"c3\"}"), "ok");
  /* c4 expired at this block's sweep (a second has passed) */
  rec = query(x, "transfer", "id", "c4");
  assert_string_equal(json_string_value(json_object_get(rec, "status")), "expired");
  json_decref(rec);

  /* the auditor reproduces every commitment balance from the openings */
  hanse_scalar a, r, a0, r0;
  hanse_scalar_from_u64(&a, 0);
  hanse_scalar_from_u64(&r, 0);
  a0 = a;
  r0 = r;
  open_into(x, "c1", &a, &r, 700);
  open_into(x, "c2", &a, &r, 300);
  open_into(x, "c3", &a0, &r0, 50); /* opens, counts nowhere */
  hanse_point want;
  char hex[HANSE_POINT_HEX_BYTES];
  hanse_pedersen_commit(&want, &a, &r);
  hanse_point_hex(hex, &want);
  d = query(x, "account", "account", "acme:cash");
  c = query(x, "account", "account", "bob:cash");
  tot = query(x, "totals", "asset", "EUR");
  assert_string_equal(cm(d, "debits_posted"), hex);
  assert_string_equal(cm(c, "credits_posted"), hex);
  assert_string_equal(cm(d, "debits_pending"), ZERO);
  assert_string_equal(cm(c, "credits_pending"), ZERO);
  assert_string_equal(cm(tot, "credits_posted"), hex);
  assert_string_equal(cm(tot, "debits_pending"), ZERO);
  json_decref(d);
  json_decref(c);
  json_decref(tot);
  json_t *l = query(x, "confidential_transfers", "asset", "EUR");
  assert_int_equal(json_array_size(json_object_get(l, "transfers")), 4);
  assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(l, "transfers"), 0), "id")), "c1");
  json_decref(l);
}

static void test_refusals(void **state) {
  cx *x = *state;
  /* an account with a rule in EUR, opened while EUR is clear */
  assert_string_equal(open_acct(x, ALICE, "acme:ruled", "EUR", "credits_must_not_exceed_debits"),
                      "ok");
  conf_policy(x);
  open_accounts(x);
  assert_string_equal(open_acct(x, ALICE, "acme:usd", "USD", NULL), "ok");
  assert_string_equal(open_acct(x, BOB, "bob:usd", "USD", NULL), "ok");
  /* no rule on a new EUR account */
  assert_string_equal(open_acct(x, ALICE, "acme:r2", "EUR", "debits_must_not_exceed_credits"),
                      "ledger.confidential_rule");
  /* clear in a confidential asset, and the reverse */
  assert_string_equal(
      send(x, "{\"id\":\"p1\",\"debit\":\"acme:cash\",\"credit\":\"bob:cash\",\"amount\":5}"),
      "ledger.confidential_required");
  char *t;
  assert_string_equal(send(x, t = conf_xfer("p2", "acme:usd", "bob:usd", 5, x, ALL, NULL)),
                      "ledger.not_confidential");
  free(t);
  assert_string_equal(
      send(x, "{\"id\":\"p3\",\"debit\":\"acme:usd\",\"credit\":\"bob:usd\",\"amount\":5}"), "ok");
  /* the opening must reach the auditor and both parties */
  assert_string_equal(send(x, t = conf_xfer("p4", "acme:cash", "bob:cash", 5, x,
                                            (1u << ALICE) | (1u << BOB), NULL)),
                      "ledger.opening_recipients");
  free(t);
  assert_string_equal(send(x, t = conf_xfer("p5", "acme:cash", "bob:cash", 5, x,
                                            (1u << ALICE) | (1u << CAROL), NULL)),
                      "ledger.opening_recipients");
  free(t);
  assert_string_equal(send(x, t = conf_xfer("p6", "acme:cash", "bob:cash", 5, x,
                                            (1u << BOB) | (1u << CAROL), NULL)),
                      "ledger.opening_recipients");
  free(t);
  /* through a ruled account */
  assert_string_equal(send(x, t = conf_xfer("p7", "bob:cash", "acme:ruled", 5, x, ALL, NULL)),
                      "ledger.not_owner"); /* alice does not own bob:cash */
  free(t);
  assert_string_equal(send(x, t = conf_xfer("p8", "acme:cash", "acme:ruled", 5, x, ALL, NULL)),
                      "ledger.confidential_rule");
  free(t);
  /* nothing of the refused ones stayed */
  json_t *l = query(x, "confidential_transfers", "asset", "EUR");
  assert_int_equal(json_array_size(json_object_get(l, "transfers")), 0);
  json_decref(l);
}

/* check: the shape of a confidential amount, without any key. */
static void test_check(void **state) {
  cx *x = *state;
  char *t = conf_xfer("k1", "a", "b", 5, x, ALL, NULL);
  json_t *good = json_loads(t, 0, NULL);
  free(t);
  json_t *amt = json_object_get(good, "amount");
  char c0[HANSE_POINT_HEX_BYTES];
  snprintf(c0, sizeof c0, "%s", json_string_value(json_object_get(amt, "commitment")));
  const char *even = "02468ace", *odd = "13579bdf";
  struct {
    const char *what, *code;
  } cases[] = {{"good", "ok"},      {"flip", "ledger.bad_commitment"},
               {"zero", "ledger.bad_commitment"}, {"short", "ledger.bad_commitment"},
               {"nonce", "ledger.bad_opening"},    {"noopen", "ledger.bad_opening"},
               {"extra", "ledger.bad_amount"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    json_t *tr = json_deep_copy(good), *a = json_object_get(tr, "amount");
    char c[HANSE_POINT_HEX_BYTES];
    snprintf(c, sizeof c, "%s", c0);
    const char *w = cases[i].what;
    if (strcmp(w, "flip") == 0) {
      c[1] = odd[strchr(even, c[1]) - even]; /* canonical encodings are even */
      json_object_set_new(a, "commitment", json_string(c));
    } else if (strcmp(w, "zero") == 0) {
      json_object_set_new(a, "commitment", json_string(ZERO));
    } else if (strcmp(w, "short") == 0) {
      json_object_set_new(a, "commitment", json_string("abcd"));
    } else if (strcmp(w, "nonce") == 0) {
      json_object_del(json_object_get(a, "opening"), "nonce");
    } else if (strcmp(w, "noopen") == 0) {
      json_object_del(a, "opening");
    } else if (strcmp(w, "extra") == 0) {
      json_object_set_new(a, "amount", json_integer(5));
    }
    json_t *payload = json_pack("{s:[o]}", "transfers", tr);
    char *text = json_dumps(payload, JSON_COMPACT);
    hanse_buf raw;
    hanse_buf_init(&raw);
    fx_tx(&raw, &x->f.alice, FX_CHAIN_ID, "ledger.transfer", 1, 0, "%s", text);
    hanse_tx tx;
    assert_int_equal(hanse_tx_decode(&tx, raw.data, raw.len, 0, NULL), HANSE_OK);
    hanse_reject rej;
    hanse_reject_clear(&rej);
    int rc = hanse_tx_check(&tx, FX_CHAIN_ID, NULL, &rej);
    const char *code = rc == HANSE_OK ? "ok" : rej.code;
    if (strcmp(code, cases[i].code) != 0) fail_msg("%s: got %s, want %s", w, code, cases[i].code);
    hanse_buf_free(&raw);
    free(text);
    json_decref(payload);
  }
  json_decref(good);
}

static void test_policy_switch(void **state) {
  cx *x = *state;
  open_accounts(x);
  assert_string_equal(
      send(x, "{\"id\":\"s1\",\"debit\":\"acme:cash\",\"credit\":\"bob:cash\",\"amount\":40}"),
      "ok");
  char *t;
  assert_string_equal(send(x, t = conf_xfer("s2", "acme:cash", "bob:cash", 5, x, ALL, NULL)),
                      "ledger.not_confidential");
  free(t);
  conf_policy(x);
  assert_string_equal(send(x, t = conf_xfer("s3", "acme:cash", "bob:cash", 5, x, ALL,
                                            "{\"pending\":true}")),
                      "ok");
  free(t);
  json_t *d = query(x, "account", "account", "acme:cash");
  assert_string_equal(json_string_value(json_object_get(d, "debits_posted")), "40"); /* clear part */
  assert_string_not_equal(cm(d, "debits_pending"), ZERO);
  json_decref(d);
  /* EUR clear again: clear accepted, confidential refused */
  set_policy(x, "{\"confidential\":{\"assets\":[]}}");
  assert_string_equal(
      send(x, "{\"id\":\"s4\",\"debit\":\"acme:cash\",\"credit\":\"bob:cash\",\"amount\":2}"),
      "ok");
  assert_string_equal(send(x, t = conf_xfer("s5", "acme:cash", "bob:cash", 5, x, ALL, NULL)),
                      "ledger.not_confidential");
  free(t);
  /* the pending confidential transfer still posts, as it was made */
  assert_string_equal(submit(x, ALICE, "ledger.post", "{\"id\":\"s3\"}"), "ok");
  d = query(x, "account", "account", "acme:cash");
  assert_string_equal(json_string_value(json_object_get(d, "debits_posted")), "42");
  assert_string_equal(cm(d, "debits_pending"), ZERO);
  json_t *rec = query(x, "transfer", "id", "s3");
  assert_string_equal(cm(d, "debits_posted"),
                      json_string_value(json_object_get(json_object_get(rec, "amount"), "commitment")));
  json_decref(rec);
  json_decref(d);
}

static void test_invariant_check(void **state) {
  (void)state;
  ledger_sums t;
  memset(&t, 0, sizeof t);
  assert_true(ledger_conf_balanced("ledger/totals/EUR", &t)); /* no confidential transfer yet */
  t.conf = 1;
  for (int i = 0; i < LEDGER_SUMS; i++) hanse_point_identity(&t.cm[i]);
  assert_true(ledger_conf_balanced("ledger/totals/EUR", &t));
  assert_int_equal(hanse_point_parse(&t.cm[LEDGER_CPO], "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76"),
                   HANSE_OK);
  assert_false(ledger_conf_balanced("ledger/totals/EUR", &t));
  t.cm[LEDGER_DPO] = t.cm[LEDGER_CPO];
  assert_true(ledger_conf_balanced("ledger/totals/EUR", &t));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_transfers_and_invariant, setup, teardown),
      cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
      cmocka_unit_test_setup_teardown(test_check, setup, teardown),
      cmocka_unit_test_setup_teardown(test_policy_switch, setup, teardown),
      cmocka_unit_test(test_invariant_check),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
