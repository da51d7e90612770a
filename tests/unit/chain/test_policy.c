/*
 * test_policy.c -- a chain's genesis policy decides who may submit what.
 *
 * Genesis: acme (manufacturer, key A) and beta (bank, key B) found the
 * chain; the policy lets banks issue assets, any member transfer them,
 * manufacturers anchor documents, admins run the member registry. The
 * executor asks the identity provider (the member module) for the
 * signer's status and roles: outsiders, wrong roles, suspended and
 * revoked keys get their rejection receipts, and re-execution by the
 * audit reaches the same receipts. A chain without a policy stays open
 * (every other test in the tree runs on one).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

enum { A, B, M, X, NKEYS };

typedef struct px {
  fx_chain f;
  hanse_keypair k[NKEYS];
  char hex[NKEYS][HANSE_HASH_HEX_BYTES];
  uint64_t seq[NKEYS];
} px;

static int setup_policy(void **state, const char *policy_json) {
  px *p = calloc(1, sizeof *p);
  if (p == NULL) return -1;
  fx_chain *f = &p->f;
  hanse_modules_register_all();
  const char *tmp = getenv("TMPDIR");
  snprintf(f->dir, sizeof f->dir, "%s/hanse-unit-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp(f->dir) == NULL) return -1;
  fx_key(&f->node, 0x01);
  for (int i = 0; i < NKEYS; i++) {
    fx_key(&p->k[i], (uint8_t)(0x60 + i));
    fx_hex(p->hex[i], &p->k[i].pub);
  }
  char node[HANSE_HASH_HEX_BYTES];
  json_t *g = json_pack("{s:s, s:[{s:s, s:s, s:s, s:[s]}, {s:s, s:s, s:s, s:[s]}], s:[s]}",
                        "chain_id", FX_CHAIN_ID, "organisations", "id", "acme", "name",
                        "ACME Ltd", "role", "manufacturer", "keys", p->hex[A], "id", "beta",
                        "name", "Beta Bank", "role", "bank", "keys", p->hex[B], "validators",
                        fx_hex(node, &f->node.pub));
  json_t *pol = json_loads(policy_json, 0, NULL);
  if (g == NULL || pol == NULL) return -1;
  json_object_set_new(g, "policy", pol);
  hanse_reject rej;
  int rc = hanse_chain_create(f->dir, g, &f->node, FX_T0_MS, &rej);
  json_decref(g);
  if (rc != HANSE_OK) return -1;
  if (hanse_chain_open(f->dir, &f->node, NULL, &f->chain, &rej) != HANSE_OK) return -1;
  f->time_ms = FX_T0_MS + 1000;
  *state = p;
  return 0;
}

static const char full_policy[] =
    "{\"submit\":{\"asset.issue\":[\"bank\"],\"asset.*\":[\"*\"],"
    "\"notary.anchor\":[\"manufacturer\"],\"member.*\":[\"admin\"]}}";

static int setup_full(void **state) { return setup_policy(state, full_policy); }
static int setup_narrow(void **state) {
  return setup_policy(state, "{\"submit\":{\"asset.issue\":[\"bank\"]}}");
}

static int teardown(void **state) {
  px *p = *state;
  fx_chain_teardown(&p->f);
  free(p);
  return 0;
}

/* One transaction in a block of its own; its receipt code. */
static const char *run(px *p, int who, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static const char *run(px *p, int who, const char *kind, const char *fmt, ...) {
  static hanse_receipt r;
  char payload[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(payload, sizeof payload, fmt, ap);
  va_end(ap);
  fx_body b;
  fx_body_init(&b);
  fx_body_tx(&b, &p->k[who], kind, ++p->seq[who], "%s", payload);
  hanse_reject rej;
  memset(&r, 0, sizeof r);
  int rc = fx_propose(&p->f, &b, &r, 1, &rej);
  fx_body_free(&b);
  if (rc != HANSE_OK) fail_msg("propose: %s", rej.message);
  return r.code;
}

#define DIGEST(c) #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c \
                  #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c \
                  #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c \
                  #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c #c

static void test_roles_and_key_states(void **state) {
  px *p = *state;
  /* Banks issue; a manufacturer may not. */
  assert_string_equal(run(p, B, "asset.issue", "{\"asset\":\"EURT\",\"decimals\":2,\"supply\":1000}"), "ok");
  assert_string_equal(run(p, A, "asset.issue", "{\"asset\":\"ACM\",\"decimals\":0,\"supply\":5}"),
                      "policy.denied");
  /* Outsiders may do nothing, even what "*" allows. */
  assert_string_equal(run(p, X, "asset.transfer", "{\"asset\":\"EURT\",\"to\":\"%s\",\"amount\":1}", p->hex[A]),
                      "policy.unknown_signer");
  assert_string_equal(run(p, X, "notary.anchor", "{\"hash\":\"%s\"}", DIGEST(1)), "policy.unknown_signer");
  /* Manufacturers anchor; the bank's admin key may not. */
  assert_string_equal(run(p, A, "notary.anchor", "{\"hash\":\"%s\"}", DIGEST(2)), "ok");
  assert_string_equal(run(p, B, "notary.anchor", "{\"hash\":\"%s\"}", DIGEST(3)), "policy.denied");
  /* Any member transfers. */
  assert_string_equal(run(p, B, "asset.transfer", "{\"asset\":\"EURT\",\"to\":\"%s\",\"amount\":100}", p->hex[A]), "ok");
  /* An admin registers a consumer: it may transfer, not anchor. */
  assert_string_equal(run(p, A, "member.register",
                          "{\"member\":{\"id\":\"mia\",\"kind\":\"person\",\"roles\":[\"consumer\"],"
                          "\"attributes\":{},\"key\":\"%s\"}}", p->hex[M]), "ok");
  assert_string_equal(run(p, B, "asset.transfer", "{\"asset\":\"EURT\",\"to\":\"%s\",\"amount\":10}", p->hex[M]), "ok");
  assert_string_equal(run(p, M, "asset.transfer", "{\"asset\":\"EURT\",\"to\":\"%s\",\"amount\":1}", p->hex[A]), "ok");
  assert_string_equal(run(p, M, "notary.anchor", "{\"hash\":\"%s\"}", DIGEST(4)), "policy.denied");
  /* A consumer may not run the registry. */
  assert_string_equal(run(p, M, "member.suspend", "{\"key\":\"%s\"}", p->hex[M]), "policy.denied");
  /* Suspended, then revoked: refused with the key's state. */
  assert_string_equal(run(p, A, "member.suspend", "{\"key\":\"%s\"}", p->hex[M]), "ok");
  assert_string_equal(run(p, M, "asset.transfer", "{\"asset\":\"EURT\",\"to\":\"%s\",\"amount\":1}", p->hex[A]),
                      "member.key_suspended");
  assert_string_equal(run(p, A, "member.revoke", "{\"key\":\"%s\"}", p->hex[M]), "ok");
  assert_string_equal(run(p, M, "asset.transfer", "{\"asset\":\"EURT\",\"to\":\"%s\",\"amount\":1}", p->hex[A]),
                      "member.key_revoked");
  /* Balances moved only where allowed. */
  assert_int_equal(fx_balance(&p->f, "EURT", &p->k[M].pub), 9);
  assert_int_equal(fx_balance(&p->f, "EURT", &p->k[A].pub), 101);
  /* The audit re-executes under the same policy and agrees. */
  uint64_t blocks, txs;
  int64_t bad_h, bad_t;
  hanse_reject rej;
  assert_int_equal(hanse_chain_audit(p->f.dir, &blocks, &txs, &bad_h, &bad_t, NULL, NULL, &rej), HANSE_OK);
}

static void test_no_rule_means_no_one(void **state) {
  px *p = *state;
  assert_string_equal(run(p, B, "asset.issue", "{\"asset\":\"EURT\",\"decimals\":2,\"supply\":1000}"), "ok");
  assert_string_equal(run(p, B, "asset.transfer", "{\"asset\":\"EURT\",\"to\":\"%s\",\"amount\":1}", p->hex[A]),
                      "policy.denied");
  assert_string_equal(run(p, A, "notary.anchor", "{\"hash\":\"%s\"}", DIGEST(5)), "policy.denied");
}

static void test_policy_shape_checked(void **state) {
  (void)state;
  hanse_reject rej;
  const char *bad[] = {"{\"submit\":[]}", "{\"submit\":{\"asset.issue\":\"bank\"}}",
                       "{\"submit\":{\"Asset!\":[\"bank\"]}}", "{\"submit\":{\"asset.issue\":[5]}}", "[]"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    json_t *g = json_pack("{s:s, s:[{s:s, s:s, s:[s]}], s:o}", "chain_id", "x", "organisations",
                          "id", "a", "name", "A", "keys",
                          "0000000000000000000000000000000000000000000000000000000000000001",
                          "policy", json_loads(bad[i], 0, NULL));
    assert_non_null(g);
    assert_int_not_equal(hanse_genesis_validate(g, &rej), HANSE_OK);
    json_decref(g);
  }
}

/* The confidential section: assets and auditors, each named once. */
static void test_policy_confidential_shape(void **state) {
  (void)state;
  hanse_reject rej;
  const char *k = "\"0000000000000000000000000000000000000000000000000000000000000001\"";
  char good[256], bad[6][256];
  snprintf(good, sizeof good, "{\"confidential\":{\"assets\":[\"EUR\",\"EURB\"],\"auditors\":[%s]}}", k);
  snprintf(bad[0], sizeof bad[0], "{\"confidential\":{\"assets\":[\"EUR\",\"EUR\"]}}");
  snprintf(bad[1], sizeof bad[1], "{\"confidential\":{\"assets\":[\"E R\"]}}");
  snprintf(bad[2], sizeof bad[2], "{\"confidential\":{\"auditors\":[%s,%s]}}", k, k);
  snprintf(bad[3], sizeof bad[3], "{\"confidential\":{\"auditors\":[\"ABCD\"]}}");
  snprintf(bad[4], sizeof bad[4], "{\"confidential\":{\"assets\":[],\"readers\":[]}}");
  snprintf(bad[5], sizeof bad[5], "{\"confidential\":[\"EUR\"]}");
  json_t *p = json_loads(good, 0, NULL);
  assert_int_equal(hanse_policy_validate(p, &rej), HANSE_OK);
  assert_true(hanse_policy_confidential(p, "EURB"));
  assert_false(hanse_policy_confidential(p, "USD"));
  assert_false(hanse_policy_confidential(NULL, "EUR"));
  assert_int_equal(json_array_size(hanse_policy_auditors(p)), 1);
  json_decref(p);
  for (size_t i = 0; i < 6; i++) {
    p = json_loads(bad[i], 0, NULL);
    assert_non_null(p);
    assert_int_equal(hanse_policy_validate(p, &rej), HANSE_ERR(INVALID));
    assert_string_equal(rej.code, "policy.malformed");
    json_decref(p);
  }
}

static void test_chain_types(void **state) {
  (void)state;
  hanse_reject rej;
  const char *key1 = "0000000000000000000000000000000000000000000000000000000000000001";
  const char *key2 = "0000000000000000000000000000000000000000000000000000000000000002";
  const char *types[] = {"consortium", "private", "alliance", "open"};
  for (size_t i = 0; i < 4; i++) {
    assert_true(hanse_chain_type_valid(types[i]));
    json_t *g = json_pack("{s:s, s:s, s:[{s:s, s:s, s:[s]}]}", "chain_id", "x", "type", types[i],
                          "organisations", "id", "a", "name", "A", "keys", key1);
    json_t *pol = hanse_chain_type_policy(types[i]);
    if (strcmp(types[i], "open") == 0) {
      assert_null(pol);
    } else {
      assert_non_null(json_object_get(json_object_get(pol, "submit"), "member.*"));
      json_object_set_new(g, "policy", pol);
    }
    assert_int_equal(hanse_genesis_validate(g, &rej), HANSE_OK);
    json_decref(g);
  }
  assert_false(hanse_chain_type_valid("public"));
  json_t *g = json_pack("{s:s, s:s, s:[{s:s, s:s, s:[s]}]}", "chain_id", "x", "type", "public",
                        "organisations", "id", "a", "name", "A", "keys", key1);
  assert_int_not_equal(hanse_genesis_validate(g, &rej), HANSE_OK);
  json_decref(g);
  /* A private chain belongs to exactly one organisation. */
  g = json_pack("{s:s, s:s, s:[{s:s, s:s, s:[s]}, {s:s, s:s, s:[s]}]}", "chain_id", "x", "type",
                "private", "organisations", "id", "a", "name", "A", "keys", key1, "id", "b",
                "name", "B", "keys", key2);
  assert_int_not_equal(hanse_genesis_validate(g, &rej), HANSE_OK);
  json_decref(g);
}

/* A policy change decided by vote is in force from the next block, and
 * re-execution by the audit sees the same. */
static void test_policy_changed_by_vote(void **state) {
  px *p = *state;
  assert_string_equal(run(p, A, "asset.issue", "{\"asset\":\"ACM\",\"decimals\":0,\"supply\":5}"),
                      "policy.denied");
  /* A malformed or unknown-role policy is refused on check. */
  assert_string_equal(run(p, A, "member.policy_propose", "{\"policy\":{\"submit\":[]}}"),
                      "policy.malformed");
  assert_string_equal(run(p, A, "member.policy_propose",
                          "{\"policy\":{\"submit\":{\"*\":[\"wizard\"]}}}"),
                      "member.bad_role");
  /* Only admins may propose (the submit rule for member.* says so). */
  assert_string_equal(run(p, M, "member.policy_propose", "{\"policy\":{}}"), "policy.unknown_signer");
  hanse_hash prop_id;
  {
    fx_body b;
    fx_body_init(&b);
    fx_body_tx(&b, &p->k[A], "member.policy_propose", ++p->seq[A], "%s",
               "{\"policy\":{\"submit\":{\"asset.*\":[\"manufacturer\",\"bank\"],"
               "\"member.*\":[\"admin\"]}}}");
    hanse_receipt r;
    hanse_reject rej;
    assert_int_equal(fx_propose(&p->f, &b, &r, 1, &rej), HANSE_OK);
    assert_string_equal(r.code, "ok");
    prop_id = r.id;
    fx_body_free(&b);
  }
  char pid[HANSE_HASH_HEX_BYTES];
  hanse_hash_hex(pid, &prop_id);
  /* Two organisations: both must approve. */
  assert_string_equal(run(p, A, "member.org_vote", "{\"proposal\":\"%s\",\"approve\":true}", pid), "ok");
  assert_string_equal(run(p, A, "asset.issue", "{\"asset\":\"ACM\",\"decimals\":0,\"supply\":5}"),
                      "policy.denied");
  assert_string_equal(run(p, B, "member.org_vote", "{\"proposal\":\"%s\",\"approve\":true}", pid), "ok");
  assert_string_equal(run(p, A, "asset.issue", "{\"asset\":\"ACM\",\"decimals\":0,\"supply\":5}"), "ok");
  /* Notary anchors had a rule before; the new policy has none. */
  assert_string_equal(run(p, A, "notary.anchor", "{\"hash\":\"%s\"}", DIGEST(7)), "policy.denied");
  assert_string_equal(run(p, B, "member.org_vote", "{\"proposal\":\"%s\",\"approve\":true}", pid),
                      "member.closed");
  uint64_t blocks, txs;
  int64_t bad_h, bad_t;
  hanse_reject rej;
  assert_int_equal(hanse_chain_audit(p->f.dir, &blocks, &txs, &bad_h, &bad_t, NULL, NULL, &rej), HANSE_OK);
}

/* Read rules: public classes, roles, "*", absent rules. */
static void test_read_rules(void **state) {
  (void)state;
  json_t *pol = json_loads("{\"read\":{\"production\":[\"public\"],\"financial\":[\"bank\"],"
                           "\"transport\":[\"*\"]},\"public\":[\"blocks\"]}", 0, NULL);
  hanse_reject rej;
  assert_int_equal(hanse_policy_validate(pol, &rej), HANSE_OK);
  json_t *bank = json_pack("[s]", "bank"), *cons = json_pack("[s]", "consumer");
  assert_true(hanse_policy_read_public(pol, "production"));
  assert_false(hanse_policy_read_public(pol, "financial"));
  assert_true(hanse_policy_read_public(pol, NULL));
  assert_true(hanse_policy_read_allows(pol, "financial", bank));
  assert_false(hanse_policy_read_allows(pol, "financial", cons));
  assert_true(hanse_policy_read_allows(pol, "transport", cons));
  assert_false(hanse_policy_read_allows(pol, "personal", bank)); /* not listed: nobody */
  assert_true(hanse_policy_read_allows(pol, NULL, cons));        /* block views: members */
  json_decref(pol);
  /* No read rules: every member reads everything, nothing is public. */
  pol = json_loads("{\"submit\":{}}", 0, NULL);
  assert_true(hanse_policy_read_allows(pol, "personal", cons));
  assert_false(hanse_policy_read_public(pol, "production"));
  assert_false(hanse_policy_read_public(pol, NULL));
  json_decref(pol);
  /* No policy: public. */
  assert_true(hanse_policy_read_public(NULL, "personal"));
  const char *bad[] = {"{\"read\":[]}", "{\"read\":{\"secret\":[\"bank\"]}}",
                       "{\"read\":{\"financial\":\"bank\"}}", "{\"public\":[\"txs\"]}",
                       "{\"public\":\"blocks\"}", "{\"extra\":{}}"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    pol = json_loads(bad[i], 0, NULL);
    assert_non_null(pol);
    assert_int_not_equal(hanse_policy_validate(pol, &rej), HANSE_OK);
    assert_string_equal(rej.code, "policy.malformed");
    json_decref(pol);
  }
  json_decref(bank);
  json_decref(cons);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_roles_and_key_states, setup_full, teardown),
      cmocka_unit_test_setup_teardown(test_no_rule_means_no_one, setup_narrow, teardown),
      cmocka_unit_test(test_policy_shape_checked),
      cmocka_unit_test(test_policy_confidential_shape),
      cmocka_unit_test(test_chain_types),
      cmocka_unit_test_setup_teardown(test_policy_changed_by_vote, setup_full, teardown),
      cmocka_unit_test(test_read_rules),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
