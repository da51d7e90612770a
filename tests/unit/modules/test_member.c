/*
 * test_member.c -- the member registry through a real chain.
 *
 * The chain's genesis names three organisations, acme (key A), beta (B)
 * and gamma (C); a second genesis also fixes the admission threshold at 3.
 * Every transaction is proposed in a block of its own (so block time moves
 * on by one second each), and its receipt code is compared.
 *
 * check: every context-free rejection code. Admission: a proposal by an
 * admin, votes one per organisation, admitted exactly when approvals reach
 * the threshold (default majority, or the genesis's), refused or closed
 * otherwise, rejected when it can no longer pass. Members: registration by
 * an admin only, uniqueness of keys and ids, attestation by a "ca" only,
 * rotate / suspend / resume / revoke / expiry as seen by
 * hanse_member_key_status, the last-admin guard. Every query and its
 * errors. Each test ends with hanse_chain_audit re-executing the chain.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "chain/exec.h"
#include "fixture.h"
#include "modules/member/member.h"

enum { A, B, C, D, E, F, G, H, I, J, NKEYS };

typedef struct mx {
  fx_chain f;
  hanse_keypair k[NKEYS];
  uint64_t seq[NKEYS];
  char hex[NKEYS][HANSE_HASH_HEX_BYTES];
  char last_id[HANSE_HASH_HEX_BYTES]; /* id of the last transaction proposed */
} mx;

static int setup_with(void **state, int threshold) {
  mx *m = calloc(1, sizeof *m);
  if (m == NULL) return -1;
  fx_chain *f = &m->f;
  hanse_modules_register_all();
  const char *tmp = getenv("TMPDIR");
  snprintf(f->dir, sizeof f->dir, "%s/hanse-unit-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp(f->dir) == NULL) return -1;
  fx_key(&f->node, 0x01);
  for (int i = 0; i < NKEYS; i++) {
    fx_key(&m->k[i], (uint8_t)(0x40 + i));
    fx_hex(m->hex[i], &m->k[i].pub);
  }
  char node[HANSE_HASH_HEX_BYTES];
  json_t *g = json_pack("{s:s, s:[{s:s, s:s, s:s, s:[s]}, {s:s, s:s, s:s, s:[s]},"
                        " {s:s, s:s, s:s, s:[s]}], s:[s]}",
                        "chain_id", FX_CHAIN_ID, "organisations", "id", "acme", "name",
                        "ACME Ltd", "role", "manufacturer", "keys", m->hex[A], "id", "beta",
                        "name", "Beta Bank", "role", "bank", "keys", m->hex[B], "id", "gamma",
                        "name", "Gamma Customs", "role", "customs", "keys", m->hex[C],
                        "validators", fx_hex(node, &f->node.pub));
  if (g == NULL) return -1;
  if (threshold)
    json_object_set_new(g, "governance",
                        json_pack("{s:i}", "org_admission_threshold", threshold));
  hanse_reject rej;
  int rc = hanse_chain_create(f->dir, g, &f->node, FX_T0_MS, &rej);
  json_decref(g);
  if (rc != HANSE_OK) return -1;
  if (hanse_chain_open(f->dir, &f->node, NULL, &f->chain, &rej) != HANSE_OK) return -1;
  f->time_ms = FX_T0_MS + 1000;
  *state = m;
  return 0;
}

static int setup_default(void **state) { return setup_with(state, 0); }
static int setup_three(void **state) { return setup_with(state, 3); }

static int teardown(void **state) {
  mx *m = *state;
  fx_chain_teardown(&m->f);
  for (int i = 0; i < NKEYS; i++) hanse_keypair_wipe(&m->k[i]);
  free(m);
  return 0;
}

/* Propose one transaction by key `who` in a block of its own; returns its
 * receipt code ("ok" or the rejection). */
static const char *run(mx *m, int who, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static const char *run(mx *m, int who, const char *kind, const char *fmt, ...) {
  static hanse_receipt r;
  char payload[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(payload, sizeof payload, fmt, ap);
  va_end(ap);
  fx_body b;
  fx_body_init(&b);
  fx_body_tx(&b, &m->k[who], kind, ++m->seq[who], "%s", payload);
  hanse_reject rej;
  memset(&r, 0, sizeof r);
  int rc = fx_propose(&m->f, &b, &r, 1, &rej);
  fx_body_free(&b);
  if (rc != HANSE_OK) fail_msg("propose: %s", rej.message);
  hanse_hash_hex(m->last_id, &r.id);
  return r.code;
}

/* The registry's view of a key at block time `time_ms` (0: the next
 * block's time), through a read-only execution context. */
static const char *status_at(mx *m, int who, uint64_t time_ms) {
  hanse_store *r = hanse_chain_reader_acquire(m->f.chain);
  assert_non_null(r);
  hanse_exec ex;
  hanse_hash zero = {{0}};
  assert_int_equal(hanse_exec_begin(&ex, r, 99, time_ms ? time_ms : m->f.time_ms, &zero, &zero),
                   HANSE_OK);
  const char *st = NULL;
  assert_int_equal(hanse_member_key_status(&ex, &m->k[who].pub, &st), HANSE_OK);
  hanse_exec_free(&ex);
  hanse_chain_reader_release(m->f.chain, r);
  assert_non_null(st);
  return st;
}

static const char *status(mx *m, int who) { return status_at(m, who, 0); }

/* Run a query with string parameters (name, value pairs, NULL-ended);
 * returns the result (owned) or NULL with rej filled. */
static json_t *q(mx *m, const char *name, hanse_reject *rej, ...) {
  json_t *params = json_object();
  va_list ap;
  va_start(ap, rej);
  const char *k;
  while ((k = va_arg(ap, const char *)) != NULL)
    json_object_set_new(params, k, json_string(va_arg(ap, const char *)));
  va_end(ap);
  json_t *res = NULL;
  hanse_reject_clear(rej);
  int rc = fx_query(&m->f, "member", name, params, &res, rej);
  json_decref(params);
  if (rc != HANSE_OK) assert_null(res);
  return res;
}

static void expect_query_error(mx *m, const char *name, const char *code, int status_code,
                               const char *k, const char *v) {
  hanse_reject rej;
  json_t *res = q(m, name, &rej, k, v, NULL);
  assert_null(res);
  assert_string_equal(rej.code, code);
  assert_int_equal(rej.status, status_code);
}

static void audit_ok(mx *m) {
  uint64_t blocks = 0, txs = 0;
  int64_t bad_h = 0, bad_tx = 0;
  hanse_reject rej;
  if (hanse_chain_audit(m->f.dir, &blocks, &txs, &bad_h, &bad_tx, NULL, NULL, &rej) != HANSE_OK)
    fail_msg("audit: %s: %s", rej.code, rej.message);
  assert_true(bad_h == -1);
  assert_true(txs > 0);
}

/* A member payload for key `who`. */
static const char *member_json(mx *m, const char *id, const char *roles, int who) {
  static char buf[1024];
  snprintf(buf, sizeof buf,
           "{\"member\":{\"id\":\"%s\",\"kind\":\"person\",\"roles\":%s,"
           "\"attributes\":{\"dept\":\"qa\"},\"key\":\"%s\"}}",
           id, roles, m->hex[who]);
  return buf;
}

/* ---- check ---- */

static const char *check(mx *m, const char *kind, const char *payload) {
  static hanse_reject rej;
  hanse_buf raw;
  hanse_buf_init(&raw);
  fx_tx(&raw, &m->k[A], FX_CHAIN_ID, kind, 1, 0, "%s", payload);
  hanse_tx tx;
  assert_int_equal(hanse_tx_decode(&tx, raw.data, raw.len, 0, NULL), HANSE_OK);
  hanse_reject_clear(&rej);
  json_t *p = NULL;
  int rc = hanse_tx_check(&tx, FX_CHAIN_ID, &p, &rej);
  json_decref(p);
  hanse_buf_free(&raw);
  if (rc != HANSE_OK) assert_int_equal(rej.status, 400);
  return rc == HANSE_OK ? "ok" : rej.code;
}

static void test_check(void **state) {
  mx *m = *state;
  char p[8192];
  const char *k = m->hex[D], *k2 = m->hex[E];
  const char *h64 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
  /* org_propose */
  snprintf(p, sizeof p, "{\"org\":{\"id\":\"delta\",\"name\":\"D\",\"role\":\"logistics\",\"keys\":[\"%s\"]}}", k);
  assert_string_equal(check(m, "member.org_propose", p), "ok");
  assert_string_equal(check(m, "member.org_propose", "{}"), "member.bad_org");
  snprintf(p, sizeof p, "{\"org\":{\"id\":\"De\",\"name\":\"D\",\"role\":\"bank\",\"keys\":[\"%s\"]}}", k);
  assert_string_equal(check(m, "member.org_propose", p), "member.bad_org");
  snprintf(p, sizeof p, "{\"org\":{\"id\":\"d\",\"name\":\"\",\"role\":\"bank\",\"keys\":[\"%s\"]}}", k);
  assert_string_equal(check(m, "member.org_propose", p), "member.bad_org");
  snprintf(p, sizeof p, "{\"org\":{\"id\":\"d\",\"name\":\"D\",\"role\":\"pirate\",\"keys\":[\"%s\"]}}", k);
  assert_string_equal(check(m, "member.org_propose", p), "member.bad_role");
  assert_string_equal(check(m, "member.org_propose",
                            "{\"org\":{\"id\":\"d\",\"name\":\"D\",\"role\":\"bank\",\"keys\":[]}}"),
                      "member.bad_org");
  assert_string_equal(check(m, "member.org_propose",
                            "{\"org\":{\"id\":\"d\",\"name\":\"D\",\"role\":\"bank\",\"keys\":[\"xyz\"]}}"),
                      "member.bad_key");
  snprintf(p, sizeof p, "{\"org\":{\"id\":\"d\",\"name\":\"D\",\"role\":\"bank\",\"keys\":[\"%s\",\"%s\"]}}", k, k);
  assert_string_equal(check(m, "member.org_propose", p), "member.bad_org");
  /* org_vote */
  snprintf(p, sizeof p, "{\"proposal\":\"%s\",\"approve\":true}", h64);
  assert_string_equal(check(m, "member.org_vote", p), "ok");
  assert_string_equal(check(m, "member.org_vote", "{\"proposal\":\"12\",\"approve\":true}"),
                      "member.bad_proposal");
  snprintf(p, sizeof p, "{\"proposal\":\"%s\",\"approve\":1}", h64);
  assert_string_equal(check(m, "member.org_vote", p), "member.bad_vote");
  snprintf(p, sizeof p, "{\"proposal\":\"%s\"}", h64);
  assert_string_equal(check(m, "member.org_vote", p), "member.bad_vote");
  /* register */
  assert_string_equal(check(m, "member.register", member_json(m, "dora", "[\"ca\",\"bank\"]", D)), "ok");
  assert_string_equal(check(m, "member.register", member_json(m, "dora", "[]", D)), "ok");
  assert_string_equal(check(m, "member.register", "{\"member\":5}"), "member.bad_member");
  assert_string_equal(check(m, "member.register", member_json(m, "Dora", "[]", D)), "member.bad_id");
  assert_string_equal(check(m, "member.register", member_json(m, "admin-1", "[]", D)), "member.bad_id");
  assert_string_equal(check(m, "member.register", member_json(m, "d", "[\"pirate\"]", D)), "member.bad_role");
  assert_string_equal(check(m, "member.register", member_json(m, "d", "[\"ca\",\"ca\"]", D)), "member.bad_role");
  assert_string_equal(check(m, "member.register", member_json(m, "d", "\"ca\"", D)), "member.bad_role");
  snprintf(p, sizeof p, "{\"member\":{\"id\":\"d\",\"kind\":\"robot\",\"roles\":[],\"key\":\"%s\"}}", k);
  assert_string_equal(check(m, "member.register", p), "member.bad_kind");
  snprintf(p, sizeof p, "{\"member\":{\"id\":\"d\",\"kind\":\"node\",\"roles\":[],\"key\":\"%s\",\"attributes\":[]}}", k);
  assert_string_equal(check(m, "member.register", p), "member.bad_attributes");
  char big[5000];
  memset(big, 'x', 4200);
  big[4200] = 0;
  snprintf(p, sizeof p, "{\"member\":{\"id\":\"d\",\"kind\":\"node\",\"roles\":[],\"key\":\"%s\",\"attributes\":{\"a\":\"%s\"}}}", k, big);
  assert_string_equal(check(m, "member.register", p), "member.bad_attributes");
  assert_string_equal(check(m, "member.register",
                            "{\"member\":{\"id\":\"d\",\"kind\":\"node\",\"roles\":[],\"key\":\"abc\"}}"),
                      "member.bad_key");
  snprintf(p, sizeof p, "{\"member\":{\"id\":\"d\",\"kind\":\"device\",\"roles\":[],\"key\":\"%s\",\"expires_ms\":0}}", k);
  assert_string_equal(check(m, "member.register", p), "member.bad_expiry");
  snprintf(p, sizeof p, "{\"member\":{\"id\":\"d\",\"kind\":\"device\",\"roles\":[],\"key\":\"%s\",\"expires_ms\":\"1\"}}", k);
  assert_string_equal(check(m, "member.register", p), "member.bad_expiry");
  /* attest, rotate, suspend/resume/revoke */
  snprintf(p, sizeof p, "{\"key\":\"%s\",\"evidence_sha256\":\"%s\"}", k, h64);
  assert_string_equal(check(m, "member.attest", p), "ok");
  snprintf(p, sizeof p, "{\"key\":\"%s\",\"evidence_sha256\":\"abc\"}", k);
  assert_string_equal(check(m, "member.attest", p), "member.bad_evidence");
  snprintf(p, sizeof p, "{\"old_key\":\"%s\",\"new_key\":\"%s\"}", k, k2);
  assert_string_equal(check(m, "member.rotate", p), "ok");
  snprintf(p, sizeof p, "{\"old_key\":\"%s\",\"new_key\":\"%s\"}", k, k);
  assert_string_equal(check(m, "member.rotate", p), "member.bad_key");
  snprintf(p, sizeof p, "{\"old_key\":\"%s\"}", k);
  assert_string_equal(check(m, "member.rotate", p), "member.bad_key");
  const char *acts[] = {"member.suspend", "member.resume", "member.revoke"};
  for (int i = 0; i < 3; i++) {
    snprintf(p, sizeof p, "{\"key\":\"%s\"}", k);
    assert_string_equal(check(m, acts[i], p), "ok");
    assert_string_equal(check(m, acts[i], "{\"key\":7}"), "member.bad_key");
  }
  assert_string_equal(check(m, "member.expel", "{}"), "tx.unknown_kind");
}

/* ---- admission ---- */

static void propose_org(mx *m, int who, const char *id, int key, const char *want, char *prop_id) {
  const char *code = run(m, who, "member.org_propose",
                         "{\"org\":{\"id\":\"%s\",\"name\":\"Org %s\",\"role\":\"logistics\","
                         "\"keys\":[\"%s\"]}}", id, id, m->hex[key]);
  if (strcmp(code, want) != 0) fail_msg("propose %s: got %s, want %s", id, code, want);
  if (prop_id) snprintf(prop_id, HANSE_HASH_HEX_BYTES, "%s", m->last_id);
}

static const char *vote(mx *m, int who, const char *prop, int approve) {
  return run(m, who, "member.org_vote", "{\"proposal\":\"%s\",\"approve\":%s}", prop,
             approve ? "true" : "false");
}

static const char *prop_status(mx *m, const char *prop) {
  static char st[32];
  hanse_reject rej;
  json_t *res = q(m, "proposal", &rej, "id", prop, NULL);
  assert_non_null(res);
  snprintf(st, sizeof st, "%s", json_string_value(json_object_get(res, "status")));
  json_decref(res);
  return st;
}

static void test_admission_majority(void **state) {
  mx *m = *state;
  char prop[HANSE_HASH_HEX_BYTES], prop2[HANSE_HASH_HEX_BYTES];
  hanse_reject rej;
  /* only an admin may propose */
  propose_org(m, D, "delta", D, "member.not_admin", NULL);
  propose_org(m, A, "acme", D, "member.exists", NULL);   /* the id is taken */
  propose_org(m, A, "delta", B, "member.exists", NULL);  /* the key is a founder's */
  propose_org(m, A, "delta", D, "ok", prop);
  json_t *p = q(m, "proposal", &rej, "id", prop, NULL);
  assert_non_null(p);
  assert_string_equal(json_string_value(json_object_get(p, "status")), "open");
  assert_int_equal(json_integer_value(json_object_get(p, "threshold")), 2); /* 3 orgs: > half */
  assert_int_equal(json_integer_value(json_object_get(p, "electorate")), 3);
  assert_string_equal(json_string_value(json_object_get(p, "proposer")), m->hex[A]);
  assert_string_equal(json_string_value(json_object_get(p, "proposer_org")), "acme");
  assert_string_equal(json_string_value(json_object_get(p, "id")), prop);
  json_decref(p);

  assert_string_equal(vote(m, D, prop, 1), "member.not_admin");
  assert_string_equal(vote(m, A, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 1),
                      "member.unknown");
  assert_string_equal(vote(m, A, prop, 1), "ok");
  /* one approval of two: not yet */
  assert_string_equal(prop_status(m, prop), "open");
  expect_query_error(m, "org", "member.unknown", 404, "id", "delta");
  assert_string_equal(status(m, D), HANSE_MEMBER_UNKNOWN);
  assert_string_equal(vote(m, A, prop, 1), "member.already_voted");
  assert_string_equal(vote(m, A, prop, 0), "member.already_voted");
  assert_string_equal(vote(m, B, prop, 1), "ok");
  /* admitted */
  assert_string_equal(prop_status(m, prop), "admitted");
  json_t *org = q(m, "org", &rej, "id", "delta", NULL);
  assert_non_null(org);
  assert_string_equal(json_string_value(json_object_get(org, "role")), "logistics");
  assert_string_equal(json_string_value(json_array_get(json_object_get(org, "keys"), 0)), m->hex[D]);
  json_decref(org);
  assert_string_equal(status(m, D), HANSE_MEMBER_ACTIVE);
  json_t *rec = q(m, "member", &rej, "key", m->hex[D], NULL);
  assert_non_null(rec);
  assert_string_equal(json_string_value(json_object_get(rec, "org")), "delta");
  assert_string_equal(json_string_value(json_array_get(json_object_get(rec, "roles"), 0)), "admin");
  json_decref(rec);
  assert_string_equal(vote(m, C, prop, 1), "member.closed");
  /* the new organisation's admin acts at once: registers and proposes */
  assert_string_equal(run(m, D, "member.register", "%s", member_json(m, "dan", "[\"logistics\"]", E)), "ok");
  propose_org(m, D, "delta", F, "member.exists", NULL);

  /* four organisations now: threshold 3; two rejections make it fail */
  propose_org(m, D, "eps", F, "ok", prop2);
  p = q(m, "proposal", &rej, "id", prop2, NULL);
  assert_int_equal(json_integer_value(json_object_get(p, "threshold")), 3);
  json_decref(p);
  assert_string_equal(vote(m, B, prop2, 0), "ok");
  assert_string_equal(prop_status(m, prop2), "open");
  assert_string_equal(vote(m, C, prop2, 0), "ok");
  assert_string_equal(prop_status(m, prop2), "rejected");
  assert_string_equal(vote(m, A, prop2, 1), "member.closed");
  expect_query_error(m, "org", "member.unknown", 404, "id", "eps");
  assert_string_equal(status(m, F), HANSE_MEMBER_UNKNOWN);
  audit_ok(m);
}

/* ---- cluster nodes by vote (member_node.c) ---- */

static const char *propose_node(mx *m, int who, const char *node_json) {
  return run(m, who, "member.node_propose", "{\"node\":%s}", node_json);
}

static void test_node_votes(void **state) {
  mx *m = *state;
  char node_hex[HANSE_HASH_HEX_BYTES], json[512], prop[HANSE_HASH_HEX_BYTES], val[256];
  fx_hex(node_hex, &m->f.node.pub);
  /* syntax */
  assert_string_equal(propose_node(m, A, "{\"op\":\"swap\",\"raft_id\":2,\"key\":\"00\"}"),
                      "member.bad_node");
  snprintf(json, sizeof json, "{\"op\":\"add\",\"raft_id\":0,\"raft_addr\":\"h:1\","
           "\"api_url\":\"http://h\",\"key\":\"%s\"}", m->hex[H]);
  assert_string_equal(propose_node(m, A, json), "member.bad_node");
  snprintf(json, sizeof json, "{\"op\":\"add\",\"raft_id\":2,\"raft_addr\":\"nohost\","
           "\"api_url\":\"http://h\",\"key\":\"%s\"}", m->hex[H]);
  assert_string_equal(propose_node(m, A, json), "member.bad_node");
  snprintf(json, sizeof json, "{\"op\":\"add\",\"raft_id\":2,\"raft_addr\":\"h:1\","
           "\"api_url\":\"ftp://h\",\"key\":\"%s\"}", m->hex[H]);
  assert_string_equal(propose_node(m, A, json), "member.bad_node");
  assert_string_equal(propose_node(m, A, "{\"op\":\"remove\",\"raft_id\":2,\"key\":\"xyz\"}"),
                      "member.bad_key");
  /* state checks: not an admin; the last validator; an existing one */
  snprintf(json, sizeof json, "{\"op\":\"remove\",\"raft_id\":1,\"key\":\"%s\"}", node_hex);
  assert_string_equal(propose_node(m, D, json), "member.not_admin");
  assert_string_equal(propose_node(m, A, json), "member.last_validator");
  snprintf(json, sizeof json, "{\"op\":\"add\",\"raft_id\":2,\"raft_addr\":\"10.0.0.2:9001\","
           "\"api_url\":\"https://n2.example\",\"key\":\"%s\"}", node_hex);
  assert_string_equal(propose_node(m, A, json), "member.exists");
  /* add H as node 2: two of three organisations */
  snprintf(json, sizeof json, "{\"op\":\"add\",\"raft_id\":2,\"raft_addr\":\"10.0.0.2:9001\","
           "\"api_url\":\"https://n2.example\",\"key\":\"%s\"}", m->hex[H]);
  assert_string_equal(propose_node(m, A, json), "ok");
  snprintf(prop, sizeof prop, "%s", m->last_id);
  assert_string_equal(vote(m, A, prop, 1), "ok");
  assert_string_equal(prop_status(m, prop), "open");
  assert_int_equal(hanse_chain_validator_count(m->f.chain), 1);
  assert_string_equal(vote(m, B, prop, 1), "ok");
  assert_string_equal(prop_status(m, prop), "adopted");
  char vkey[128];
  snprintf(vkey, sizeof vkey, "validator/%s", m->hex[H]);
  assert_true(fx_state(&m->f, vkey, val, sizeof val));
  assert_string_equal(val, "1");
  assert_true(fx_state(&m->f, "cluster/node/0000000002", val, sizeof val));
  assert_non_null(strstr(val, "\"status\":\"member\""));
  assert_non_null(strstr(val, "10.0.0.2:9001"));
  /* the chain follows the set from the next block on */
  assert_int_equal(hanse_chain_validator_count(m->f.chain), 2);
  assert_true(hanse_chain_is_validator(m->f.chain, &m->k[H].pub, NULL));
  /* once only */
  assert_string_equal(propose_node(m, A, json), "member.exists");
  /* and out again */
  snprintf(json, sizeof json, "{\"op\":\"remove\",\"raft_id\":2,\"key\":\"%s\"}", m->hex[H]);
  assert_string_equal(propose_node(m, B, json), "ok");
  snprintf(prop, sizeof prop, "%s", m->last_id);
  assert_string_equal(vote(m, B, prop, 1), "ok");
  assert_string_equal(vote(m, C, prop, 1), "ok");
  assert_string_equal(prop_status(m, prop), "adopted");
  assert_false(fx_state(&m->f, vkey, val, sizeof val));
  assert_true(fx_state(&m->f, "cluster/node/0000000002", val, sizeof val));
  assert_non_null(strstr(val, "\"status\":\"removed\""));
  assert_int_equal(hanse_chain_validator_count(m->f.chain), 1);
  assert_false(hanse_chain_is_validator(m->f.chain, &m->k[H].pub, NULL));
  /* the validator set survives a restart (read from the state) */
  hanse_reject rej;
  assert_int_equal(fx_chain_reopen(&m->f, NULL, &rej), HANSE_OK);
  assert_int_equal(hanse_chain_validator_count(m->f.chain), 1);
  audit_ok(m); /* hanse verify follows the set block by block */
}

static void test_admission_threshold(void **state) {
  mx *m = *state;
  char prop[HANSE_HASH_HEX_BYTES], prop2[HANSE_HASH_HEX_BYTES];
  hanse_reject rej;
  propose_org(m, B, "delta", D, "ok", prop);
  propose_org(m, C, "delta", D, "ok", prop2); /* a competing proposal */
  json_t *p = q(m, "proposal", &rej, "id", prop, NULL);
  assert_int_equal(json_integer_value(json_object_get(p, "threshold")), 3); /* from genesis */
  json_decref(p);
  assert_string_equal(vote(m, A, prop, 1), "ok");
  assert_string_equal(vote(m, B, prop, 1), "ok");
  assert_string_equal(prop_status(m, prop), "open"); /* two of three: not enough */
  assert_string_equal(status(m, D), HANSE_MEMBER_UNKNOWN);
  assert_string_equal(vote(m, C, prop, 1), "ok");
  assert_string_equal(prop_status(m, prop), "admitted");
  assert_string_equal(status(m, D), HANSE_MEMBER_ACTIVE);
  /* the competing proposal cannot admit the same organisation again */
  assert_string_equal(vote(m, A, prop2, 1), "ok");
  assert_string_equal(vote(m, B, prop2, 1), "ok");
  assert_string_equal(vote(m, C, prop2, 1), "member.exists");
  assert_string_equal(prop_status(m, prop2), "open");
  audit_ok(m);
}

/* ---- members and attestations ---- */

static void test_register_and_attest(void **state) {
  mx *m = *state;
  char p[1024], key[512], val[512];
  const char *ev = "AABBCCDDEEFF00112233445566778899AABBCCDDEEFF00112233445566778899";
  /* registration by an admin only */
  assert_string_equal(run(m, F, "member.register", "%s", member_json(m, "erin", "[\"ca\"]", E)),
                      "member.not_admin");
  assert_string_equal(run(m, A, "member.register", "%s", member_json(m, "erin", "[\"ca\"]", E)), "ok");
  assert_string_equal(status(m, E), HANSE_MEMBER_ACTIVE);
  assert_true(fx_state(&m->f, "member/id/acme/erin", val, sizeof val));
  snprintf(p, sizeof p, "{\"key\":\"%s\"}", m->hex[E]);
  assert_string_equal(val, p);
  /* a member that is not an admin may not register */
  assert_string_equal(run(m, E, "member.register", "%s", member_json(m, "fred", "[]", F)),
                      "member.not_admin");
  /* keys and ids are unique */
  assert_string_equal(run(m, A, "member.register", "%s", member_json(m, "erin2", "[]", E)), "member.exists");
  assert_string_equal(run(m, A, "member.register", "%s", member_json(m, "erin", "[]", F)), "member.exists");
  assert_string_equal(run(m, A, "member.register", "%s", member_json(m, "bob", "[]", B)), "member.exists");
  /* the same id in another organisation is fine */
  assert_string_equal(run(m, B, "member.register", "%s", member_json(m, "erin", "[\"bank\"]", G)), "ok");
  /* expiry must lie ahead of the block */
  assert_string_equal(run(m, A, "member.register",
                          "{\"member\":{\"id\":\"old\",\"kind\":\"device\",\"roles\":[],"
                          "\"key\":\"%s\",\"expires_ms\":%llu}}",
                          m->hex[F], (unsigned long long)m->f.time_ms),
                      "member.bad_expiry");

  /* attestation by a ca only */
  snprintf(p, sizeof p, "{\"key\":\"%s\",\"evidence_sha256\":\"%s\"}", m->hex[F], ev);
  assert_string_equal(run(m, E, "member.attest", "%s", p), "member.unknown");
  assert_string_equal(run(m, A, "member.register", "%s", member_json(m, "fred", "[\"consumer\"]", F)), "ok");
  assert_string_equal(run(m, A, "member.attest", "%s", p), "member.not_ca"); /* admin, not ca */
  assert_string_equal(run(m, G, "member.attest", "%s", p), "member.not_ca"); /* bank */
  assert_string_equal(run(m, H, "member.attest", "%s", p), "member.not_ca"); /* nobody */
  /* two attestations of one key in one block: indexes 0 and 1 */
  uint64_t height;
  {
    hanse_tip tip;
    hanse_chain_tip(m->f.chain, &tip);
    height = tip.height + 1;
    fx_body b;
    fx_body_init(&b);
    fx_body_tx(&b, &m->k[E], "member.attest", ++m->seq[E], "%s", p);
    fx_body_tx(&b, &m->k[E], "member.attest", ++m->seq[E],
               "{\"key\":\"%s\",\"evidence_sha256\":\"%064d\"}", m->hex[F], 7);
    fx_propose_ok(&m->f, &b);
    fx_body_free(&b);
  }
  snprintf(key, sizeof key, "member/attest/%s/%020llu-00000", m->hex[F], (unsigned long long)height);
  assert_true(fx_state(&m->f, key, val, sizeof val));
  snprintf(p, sizeof p,
           "{\"by\":\"%s\",\"evidence\":\"%s\",\"height\":%llu,\"time_ms\":%llu}", m->hex[E],
           "aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899",
           (unsigned long long)height, (unsigned long long)(m->f.time_ms - 1000));
  assert_string_equal(val, p);
  snprintf(key, sizeof key, "member/attest/%s/%020llu-00001", m->hex[F], (unsigned long long)height);
  assert_true(fx_state(&m->f, key, val, sizeof val));
  /* a founder can be attested too */
  snprintf(p, sizeof p, "{\"key\":\"%s\",\"evidence_sha256\":\"%s\"}", m->hex[B], ev);
  assert_string_equal(run(m, E, "member.attest", "%s", p), "ok");

  /* role admin joins the organisation's admin keys */
  assert_string_equal(run(m, A, "member.register", "%s", member_json(m, "hank", "[\"admin\"]", H)), "ok");
  assert_true(fx_state(&m->f, "org/acme", val, sizeof val));
  assert_non_null(strstr(val, m->hex[H]));
  assert_string_equal(run(m, H, "member.register", "%s", member_json(m, "ivy", "[]", I)), "ok");
  audit_ok(m);
}

/* ---- key life cycle ---- */

static void test_lifecycle(void **state) {
  mx *m = *state;
  char val[1024], p[512];
  assert_string_equal(run(m, A, "member.register", "%s", member_json(m, "fred", "[\"ca\"]", F)), "ok");
  snprintf(p, sizeof p, "{\"key\":\"%s\"}", m->hex[F]);
  /* suspend: the key's own organisation's admin only */
  assert_string_equal(run(m, B, "member.suspend", "%s", p), "member.not_admin");
  assert_string_equal(run(m, F, "member.suspend", "%s", p), "member.not_admin");
  assert_string_equal(run(m, A, "member.resume", "%s", p), "member.not_suspended");
  assert_string_equal(run(m, A, "member.suspend", "%s", p), "ok");
  assert_string_equal(status(m, F), HANSE_MEMBER_SUSPENDED);
  assert_string_equal(run(m, A, "member.suspend", "%s", p), "member.suspended");
  /* a suspended ca attests nothing, and cannot rotate itself */
  assert_string_equal(run(m, F, "member.attest", "{\"key\":\"%s\",\"evidence_sha256\":\"%064d\"}",
                          m->hex[A], 1),
                      "member.not_ca");
  assert_string_equal(run(m, F, "member.rotate", "{\"old_key\":\"%s\",\"new_key\":\"%s\"}",
                          m->hex[F], m->hex[G]),
                      "member.suspended");
  assert_string_equal(run(m, A, "member.resume", "%s", p), "ok");
  assert_string_equal(status(m, F), HANSE_MEMBER_ACTIVE);

  /* rotate by the member itself: old revoked, new active, index follows */
  assert_string_equal(run(m, F, "member.rotate", "{\"old_key\":\"%s\",\"new_key\":\"%s\"}",
                          m->hex[F], m->hex[A]),
                      "member.exists");
  assert_string_equal(run(m, B, "member.rotate", "{\"old_key\":\"%s\",\"new_key\":\"%s\"}",
                          m->hex[F], m->hex[G]),
                      "member.not_admin");
  assert_string_equal(run(m, F, "member.rotate", "{\"old_key\":\"%s\",\"new_key\":\"%s\"}",
                          m->hex[F], m->hex[G]),
                      "ok");
  assert_string_equal(status(m, F), HANSE_MEMBER_REVOKED);
  assert_string_equal(status(m, G), HANSE_MEMBER_ACTIVE);
  assert_true(fx_state(&m->f, "member/id/acme/fred", val, sizeof val));
  assert_non_null(strstr(val, m->hex[G]));
  hanse_reject rej;
  json_t *rec = q(m, "member", &rej, "key", m->hex[F], NULL);
  assert_string_equal(json_string_value(json_object_get(rec, "replaced_by")), m->hex[G]);
  json_decref(rec);
  rec = q(m, "member", &rej, "key", m->hex[G], NULL);
  assert_string_equal(json_string_value(json_object_get(rec, "rotated_from")), m->hex[F]);
  assert_string_equal(json_string_value(json_object_get(rec, "id")), "fred");
  json_decref(rec);
  /* the revoked key is dead for every action */
  assert_string_equal(run(m, A, "member.suspend", "%s", p), "member.revoked");
  assert_string_equal(run(m, A, "member.resume", "%s", p), "member.revoked");
  assert_string_equal(run(m, A, "member.revoke", "%s", p), "member.revoked");
  assert_string_equal(run(m, A, "member.rotate", "{\"old_key\":\"%s\",\"new_key\":\"%s\"}",
                          m->hex[F], m->hex[H]),
                      "member.revoked");
  assert_string_equal(run(m, G, "member.attest", "{\"key\":\"%s\",\"evidence_sha256\":\"%064d\"}",
                          m->hex[F], 1),
                      "member.revoked");
  /* an admin rotates for a member; then revokes */
  assert_string_equal(run(m, A, "member.rotate", "{\"old_key\":\"%s\",\"new_key\":\"%s\"}",
                          m->hex[G], m->hex[H]),
                      "ok");
  snprintf(p, sizeof p, "{\"key\":\"%s\"}", m->hex[H]);
  assert_string_equal(run(m, A, "member.revoke", "%s", p), "ok");
  assert_string_equal(status(m, H), HANSE_MEMBER_REVOKED);
  assert_string_equal(run(m, A, "member.suspend", "{\"key\":\"%s\"}", m->hex[J]), "member.unknown");
  assert_string_equal(run(m, A, "member.rotate", "{\"old_key\":\"%s\",\"new_key\":\"%s\"}",
                          m->hex[J], m->hex[I]),
                      "member.unknown");

  /* the last active admin of an organisation stays */
  snprintf(p, sizeof p, "{\"key\":\"%s\"}", m->hex[A]);
  assert_string_equal(run(m, A, "member.suspend", "%s", p), "member.last_admin");
  assert_string_equal(run(m, A, "member.revoke", "%s", p), "member.last_admin");
  assert_string_equal(run(m, A, "member.register", "%s", member_json(m, "ivy", "[\"admin\"]", I)), "ok");
  assert_string_equal(run(m, I, "member.revoke", "%s", p), "ok"); /* the founder key */
  assert_string_equal(status(m, A), HANSE_MEMBER_REVOKED);
  assert_true(fx_state(&m->f, "org/acme", val, sizeof val));
  assert_null(strstr(val, m->hex[A]));
  assert_string_equal(run(m, A, "member.register", "%s", member_json(m, "x", "[]", J)), "member.not_admin");

  /* a founder rotates its own key: the organisation's key list follows */
  assert_string_equal(run(m, C, "member.rotate", "{\"old_key\":\"%s\",\"new_key\":\"%s\"}",
                          m->hex[C], m->hex[D]),
                      "ok");
  assert_true(fx_state(&m->f, "org/gamma", val, sizeof val));
  assert_non_null(strstr(val, m->hex[D]));
  assert_null(strstr(val, m->hex[C]));
  assert_string_equal(status(m, C), HANSE_MEMBER_REVOKED);
  assert_string_equal(run(m, D, "member.register", "%s", member_json(m, "gus", "[]", E)), "ok");

  /* expiry: by block time, without a transaction */
  uint64_t exp = m->f.time_ms + 1500;
  assert_string_equal(run(m, I, "member.register",
                          "{\"member\":{\"id\":\"temp\",\"kind\":\"device\",\"roles\":[\"ca\"],"
                          "\"key\":\"%s\",\"expires_ms\":%llu}}",
                          m->hex[J], (unsigned long long)exp),
                      "ok");
  assert_string_equal(status_at(m, J, exp - 1), HANSE_MEMBER_ACTIVE);
  assert_string_equal(status_at(m, J, exp), HANSE_MEMBER_EXPIRED);
  /* the next block (exp - 500) still sees it active, the one after not */
  assert_string_equal(run(m, J, "member.attest", "{\"key\":\"%s\",\"evidence_sha256\":\"%064d\"}",
                          m->hex[I], 2),
                      "ok");
  assert_string_equal(run(m, J, "member.attest", "{\"key\":\"%s\",\"evidence_sha256\":\"%064d\"}",
                          m->hex[I], 3),
                      "member.not_ca");
  assert_string_equal(run(m, J, "member.rotate", "{\"old_key\":\"%s\",\"new_key\":\"%s\"}",
                          m->hex[J], m->hex[F]),
                      "member.expired");
  /* suspended and expired: expired wins; revoked beats both */
  snprintf(p, sizeof p, "{\"key\":\"%s\"}", m->hex[J]);
  assert_string_equal(run(m, I, "member.suspend", "%s", p), "ok");
  assert_string_equal(status(m, J), HANSE_MEMBER_EXPIRED);
  assert_string_equal(run(m, I, "member.revoke", "%s", p), "ok");
  assert_string_equal(status(m, J), HANSE_MEMBER_REVOKED);
  audit_ok(m);
}

/* ---- queries ---- */

static void test_queries(void **state) {
  mx *m = *state;
  hanse_reject rej;
  assert_string_equal(run(m, A, "member.register", "%s", member_json(m, "erin", "[\"ca\"]", E)), "ok");
  assert_string_equal(run(m, A, "member.register", "%s", member_json(m, "fred", "[]", F)), "ok");
  assert_string_equal(run(m, E, "member.attest", "{\"key\":\"%s\",\"evidence_sha256\":\"%064d\"}",
                          m->hex[F], 5),
                      "ok");
  assert_string_equal(run(m, E, "member.attest", "{\"key\":\"%s\",\"evidence_sha256\":\"%064d\"}",
                          m->hex[F], 6),
                      "ok");
  char prop[HANSE_HASH_HEX_BYTES];
  propose_org(m, A, "delta", D, "ok", prop);

  /* org, orgs */
  json_t *r = q(m, "org", &rej, "id", "beta", NULL);
  assert_non_null(r);
  assert_string_equal(json_string_value(json_object_get(r, "name")), "Beta Bank");
  json_decref(r);
  r = q(m, "orgs", &rej, NULL);
  json_t *list = json_object_get(r, "orgs");
  assert_int_equal(json_array_size(list), 3);
  assert_string_equal(json_string_value(json_object_get(json_array_get(list, 2), "id")), "gamma");
  json_decref(r);
  r = q(m, "orgs", &rej, "after", "acme", "limit", "1", NULL);
  list = json_object_get(r, "orgs");
  assert_int_equal(json_array_size(list), 1);
  assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "id")), "beta");
  json_decref(r);
  /* member: registered and founder */
  r = q(m, "member", &rej, "key", m->hex[E], NULL);
  assert_string_equal(json_string_value(json_object_get(r, "id")), "erin");
  assert_string_equal(json_string_value(json_object_get(r, "kind")), "person");
  assert_string_equal(json_string_value(json_object_get(r, "status")), "active");
  assert_string_equal(json_string_value(json_object_get(json_object_get(r, "attributes"), "dept")), "qa");
  assert_true(json_is_null(json_object_get(r, "expires_ms")));
  assert_string_equal(json_string_value(json_object_get(r, "key")), m->hex[E]);
  json_decref(r);
  r = q(m, "member", &rej, "key", m->hex[B], NULL);
  assert_string_equal(json_string_value(json_object_get(r, "org")), "beta");
  assert_int_equal(json_integer_value(json_object_get(r, "registered_height")), 0);
  json_decref(r);
  /* members: by id, then the founder keys without a record */
  r = q(m, "members", &rej, "org", "acme", NULL);
  list = json_object_get(r, "members");
  assert_int_equal(json_array_size(list), 3);
  assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "id")), "erin");
  assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "id")), "fred");
  assert_string_equal(json_string_value(json_object_get(json_array_get(list, 2), "key")), m->hex[A]);
  json_decref(r);
  r = q(m, "members", &rej, "org", "acme", "after", "erin", NULL);
  list = json_object_get(r, "members");
  assert_int_equal(json_array_size(list), 1);
  assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "id")), "fred");
  json_decref(r);
  /* proposal */
  r = q(m, "proposal", &rej, "id", prop, NULL);
  assert_string_equal(json_string_value(json_object_get(json_object_get(r, "org"), "id")), "delta");
  assert_int_equal(json_array_size(json_object_get(r, "approvals")), 0);
  json_decref(r);
  /* attestations, in block order, digests only */
  r = q(m, "attestations", &rej, "key", m->hex[F], NULL);
  list = json_object_get(r, "attestations");
  assert_int_equal(json_array_size(list), 2);
  json_t *a0 = json_array_get(list, 0), *a1 = json_array_get(list, 1);
  assert_string_equal(json_string_value(json_object_get(a0, "by")), m->hex[E]);
  assert_true(json_integer_value(json_object_get(a0, "height")) <
              json_integer_value(json_object_get(a1, "height")));
  assert_int_equal(strlen(json_string_value(json_object_get(a1, "evidence"))), 64);
  assert_int_equal(json_object_size(a0), 4);
  json_decref(r);
  r = q(m, "attestations", &rej, "key", m->hex[G], NULL);
  assert_int_equal(json_array_size(json_object_get(r, "attestations")), 0);
  json_decref(r);

  /* errors */
  expect_query_error(m, "org", "member.bad_id", 400, "id", "No/Such");
  expect_query_error(m, "org", "member.unknown", 404, "id", "nosuch");
  expect_query_error(m, "members", "member.bad_id", 400, "org", "");
  expect_query_error(m, "members", "member.unknown", 404, "org", "nosuch");
  expect_query_error(m, "member", "member.bad_key", 400, "key", "abc");
  expect_query_error(m, "member", "member.unknown", 404, "key", m->hex[J]);
  expect_query_error(m, "attestations", "member.bad_key", 400, "key", "zz");
  expect_query_error(m, "proposal", "member.bad_proposal", 400, "id", "12");
  expect_query_error(m, "proposal", "member.unknown", 404, "id", m->hex[J]);
  audit_ok(m);
}

int main(void) {
  if (sodium_init() < 0) return 1;
  hanse_modules_register_all();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_check, setup_default, teardown),
      cmocka_unit_test_setup_teardown(test_admission_majority, setup_default, teardown),
      cmocka_unit_test_setup_teardown(test_admission_threshold, setup_three, teardown),
      cmocka_unit_test_setup_teardown(test_node_votes, setup_default, teardown),
      cmocka_unit_test_setup_teardown(test_register_and_attest, setup_default, teardown),
      cmocka_unit_test_setup_teardown(test_lifecycle, setup_default, teardown),
      cmocka_unit_test_setup_teardown(test_queries, setup_default, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
