/*
 * test_permissions.c -- members, roles, policy and signed requests against
 * a real node.
 *
 * A consortium chain "perm" with one founding organisation (seed 1, role
 * platform) and a policy written for this test; the founder registers one
 * member per role (seeds 10..21). Then:
 *
 *  1. Submit matrix: every role submits every transaction kind of the
 *     shipped modules (asset, notary, member, seal, xchain -- the receive
 *     carries a real message from the chain "other") in one signed
 *     request; each receipt is policy.denied exactly when the policy's
 *     rule for the kind does not name the role.
 *  2. Read matrix: one notary anchor per data class; every role reads
 *     every one (signed GET /txs/{id}) and gets 200 or 403
 *     policy.read_denied exactly as the policy's read rule says; module
 *     queries likewise by their module's class. Regulator and auditor read
 *     everything and submit nothing.
 *  3. Signatures: unsigned -> 401 auth.missing (public status and proofs
 *     stay open); a replayed, expired, future, malformed, badly signed,
 *     unknown-key, body-digest-mismatched request -> 401 with its code.
 *  4. Key life cycle: a suspended, then revoked key -> 401
 *     auth.key_suspended / auth.key_revoked, for reads and submissions.
 *  5. Governance: a policy change voted by the admins widens a read rule;
 *     reads follow the new policy.
 *  6. Isolation: a second chain in the same node with its own founder;
 *     the first chain's members are unknown there, its transactions absent.
 */
#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "crypto/httpsig.h"
#include "hanse/client.h"
#include "itest.h"

#define CHAIN "perm"
#define NROLES 12
static const char *const roles[NROLES] = {
    "admin",   "ca",        "manufacturer", "platform", "logistics", "warehouse",
    "customs", "regulator", "bank",         "auditor",  "consumer",  "department"};
static const char *const classes[6] = {"production", "transaction", "customs_inspection",
                                       "transport",  "financial",   "personal"};
#define ROLE_SEED(i) ((uint8_t)(10 + (i)))

static it_node node;
static json_t *policy;

static json_t *test_policy(void) {
  return json_pack(
      "{s:{s:[s], s:[s], s:[s,s,s,s,s,s,s], s:[s]},"
      " s:{s:[s,s,s,s,s,s,s], s:[s,s,s,s], s:[s,s,s], s:[s,s,s,s,s], s:[s,s,s], s:[s,s,s,s]},"
      " s:[]}",
      "submit", "member.*", "admin", "asset.*", "bank", "notary.*", "manufacturer", "platform",
      "logistics", "warehouse", "customs", "department", "consumer", "*", "admin",
      "read", "production", "manufacturer", "platform", "logistics", "warehouse", "customs",
      "regulator", "auditor", "transaction", "platform", "bank", "regulator", "auditor",
      "customs_inspection", "customs", "regulator", "auditor", "transport", "logistics",
      "warehouse", "customs", "regulator", "auditor", "financial", "bank", "regulator", "auditor",
      "personal", "ca", "admin", "regulator", "auditor",
      "public");
}

/* The test's own reading of its policy (independent of src/chain). An
 * organisation admin also acts in its organisation's role (platform). */
static int names(json_t *rule, const char *role) {
  size_t i;
  json_t *r;
  json_array_foreach(rule, i, r) {
    const char *n = json_string_value(r);
    if (strcmp(n, role) == 0 || strcmp(n, "*") == 0) return 1;
    if (strcmp(role, "admin") == 0 && strcmp(n, "platform") == 0) return 1;
  }
  return 0;
}
static int may_submit(const char *kind, const char *role) {
  json_t *s = json_object_get(policy, "submit");
  char mod[40];
  snprintf(mod, sizeof mod, "%.*s.*", (int)(strchr(kind, '.') - kind), kind);
  json_t *rule = json_object_get(s, kind);
  if (!rule) rule = json_object_get(s, mod);
  if (!rule) rule = json_object_get(s, "*");
  return names(rule, role);
}
static int may_read(const char *cls, const char *role) {
  return names(json_object_get(json_object_get(policy, "read"), cls), role);
}

static hanse_client *client_for(const char *chain, const hanse_keypair *kp) {
  hanse_client *c = NULL;
  hanse_reject rej;
  IT_CHECK(hanse_client_create(node.url, chain, &c, &rej) == HANSE_OK);
  if (kp) hanse_client_set_signer(c, kp);
  return c;
}

/* Submit ops as one signed request of single transactions with
 * consecutive sequence numbers from the node; wait; return results. */
static json_t *submit(const char *chain, const hanse_keypair *kp, hanse_client_op *ops, int n,
                      hanse_reject *rej) {
  hanse_client *c = client_for(chain, kp);
  uint64_t seq = 0;
  int rc = hanse_client_next_seq(c, &kp->pub, &seq, rej);
  hanse_buf bufs[32];
  hanse_client_entry es[32];
  IT_CHECK(n <= 32);
  for (int i = 0; i < n; i++) hanse_buf_init(&bufs[i]);
  for (int i = 0; rc == HANSE_OK && i < n; i++) {
    rc = hanse_client_tx_build(c, &ops[i], seq + (uint64_t)i, kp, &bufs[i], NULL, rej);
    es[i] = (hanse_client_entry){HANSE_TYPE_TX, bufs[i].data, bufs[i].len};
  }
  json_t *res = NULL;
  if (rc == HANSE_OK) rc = hanse_client_submit(c, es, (size_t)n, HANSE_SUBMIT_WAIT, 0, &res, rej);
  for (int i = 0; i < n; i++) hanse_buf_free(&bufs[i]);
  hanse_client_destroy(c);
  return rc == HANSE_OK ? res : NULL;
}

static void submit_ok(const hanse_keypair *kp, const char *kind, json_t *payload) {
  hanse_client_op op = {kind, payload};
  hanse_reject rej;
  json_t *r = submit(CHAIN, kp, &op, 1, &rej);
  if (r == NULL) fprintf(stderr, "submit %s: %s %s\n", kind, rej.code, rej.message);
  IT_CHECK(r != NULL);
  if (hanse_client_result_check(r, 0, &rej) != HANSE_OK)
    fprintf(stderr, "submit %s: %s %s\n", kind, rej.code, rej.message);
  IT_CHECK(hanse_client_result_check(r, 0, &rej) == HANSE_OK);
  json_decref(r);
  json_decref(payload);
}

/* A signed GET; returns the status, *code the error code (static). */
static long get_as(const char *chain, const hanse_keypair *kp, const char *path,
                   char code[64]) {
  hanse_client *c = client_for(chain, kp);
  json_t *out = NULL;
  hanse_reject rej;
  hanse_reject_clear(&rej);
  int rc = hanse_client_get(c, path, &out, &rej);
  json_decref(out);
  hanse_client_destroy(c);
  snprintf(code, 64, "%s", rc == HANSE_OK ? "" : rej.code);
  return rc == HANSE_OK ? 200 : rej.status;
}

/* ---- raw signed requests, for the failure cases -------------------- */

typedef struct raw_req {
  const char *method, *path;
  const char *body;        /* sent */
  const char *signed_body; /* digested and signed (NULL: body) */
  int64_t created;
  int tamper;              /* flip a signature character */
  const char *input_override;
} raw_req;

static size_t sink(char *p, size_t s, size_t n, void *ud) {
  hanse_buf_put(ud, p, s * n);
  return s * n;
}

static long raw_send(const raw_req *r, const hanse_keypair *kp, char code[64],
                     char sig_input[HANSE_HTTPSIG_INPUT_FIELD_BYTES],
                     char sig[HANSE_HTTPSIG_SIGNATURE_FIELD_BYTES]) {
  const char *sb = r->signed_body ? r->signed_body : r->body;
  size_t sblen = sb ? strlen(sb) : 0;
  char digest[HANSE_HTTPSIG_DIGEST_FIELD_BYTES];
  hanse_httpsig_field f = {"Content-Digest", digest};
  if (sblen) hanse_httpsig_content_digest(digest, sb, sblen);
  const char *q = strchr(r->path, '?');
  char path[256];
  snprintf(path, sizeof path, "%.*s", (int)(q ? q - r->path : (long)strlen(r->path)), r->path);
  hanse_httpsig_request req = {.method = r->method, .path = path, .query = q ? q + 1 : NULL,
                               .fields = &f, .field_count = sblen > 0,
                               .body = (const uint8_t *)sb, .body_len = sblen};
  if (sig_input[0] == 0) {
    char keyid[65];
    hanse_pubkey_hex(keyid, &kp->pub);
    hanse_httpsig_params p;
    hanse_httpsig_headers h;
    IT_CHECK(hanse_httpsig_params_for_request(&p, &req, r->created, keyid) == HANSE_OK);
    IT_CHECK(hanse_httpsig_sign(&req, &p, NULL, kp, &h, NULL) == HANSE_OK);
    snprintf(sig_input, HANSE_HTTPSIG_INPUT_FIELD_BYTES, "%s", h.signature_input);
    snprintf(sig, HANSE_HTTPSIG_SIGNATURE_FIELD_BYTES, "%s", h.signature);
    if (r->tamper) sig[10] = sig[10] == 'A' ? 'B' : 'A';
  }
  char url[300], l1[3000], l2[300], l3[200];
  snprintf(url, sizeof url, "%s%s", node.url, r->path);
  snprintf(l1, sizeof l1, "Signature-Input: %s", r->input_override ? r->input_override : sig_input);
  snprintf(l2, sizeof l2, "Signature: %s", sig);
  snprintf(l3, sizeof l3, "Content-Digest: %s", digest);
  struct curl_slist *hs = curl_slist_append(NULL, l1);
  hs = curl_slist_append(hs, l2);
  if (sblen) hs = curl_slist_append(hs, l3);
  hs = curl_slist_append(hs, "Content-Type: application/json");
  hs = curl_slist_append(hs, "Expect:");
  CURL *k = curl_easy_init();
  hanse_buf out;
  hanse_buf_init(&out);
  curl_easy_setopt(k, CURLOPT_URL, url);
  curl_easy_setopt(k, CURLOPT_HTTPHEADER, hs);
  curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, sink);
  curl_easy_setopt(k, CURLOPT_WRITEDATA, &out);
  if (strcmp(r->method, "POST") == 0) {
    curl_easy_setopt(k, CURLOPT_POSTFIELDS, r->body);
    curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE, (long)strlen(r->body));
  }
  IT_CHECK(curl_easy_perform(k) == CURLE_OK);
  long st = 0;
  curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, &st);
  curl_easy_cleanup(k);
  curl_slist_free_all(hs);
  json_t *j = json_loadb((const char *)out.data, out.len, 0, NULL);
  snprintf(code, 64, "%s",
           j && json_string_value(json_object_get(json_object_get(j, "error"), "code"))
               ? json_string_value(json_object_get(json_object_get(j, "error"), "code"))
               : "");
  json_decref(j);
  hanse_buf_free(&out);
  return st;
}

static long raw(const raw_req *r, const hanse_keypair *kp, char code[64]) {
  char in[HANSE_HTTPSIG_INPUT_FIELD_BYTES] = "", sig[HANSE_HTTPSIG_SIGNATURE_FIELD_BYTES] = "";
  return raw_send(r, kp, code, in, sig);
}

/* ---- the scenario --------------------------------------------------- */

static void init_chain(const char *chain, uint8_t founder_seed, json_t *pol, json_t *peers) {
  char hex[65], gpath[300];
  it_pubhex(hex, founder_seed);
  json_t *g = json_pack("{s:s, s:s, s:[{s:s, s:s, s:s, s:[s]}], s:o}", "chain_id", chain, "type",
                        "consortium", "organisations", "id", "hq", "name", "HQ", "role",
                        "platform", "keys", hex, "policy", pol);
  if (peers) json_object_set_new(g, "peers", peers);
  snprintf(gpath, sizeof gpath, "%s/genesis-%s.json", node.dir, chain);
  IT_CHECK(json_dump_file(g, gpath, 0) == 0);
  json_decref(g);
  const char *argv[] = {node.hanse, "init", "--data", node.dir, "--genesis", gpath, NULL};
  char *out = NULL;
  int rc = it_run(argv, &out);
  if (rc != 0) fprintf(stderr, "init: %s\n", out ? out : "");
  free(out);
  IT_CHECK(rc == 0);
}

static json_t *receive_payload; /* an xchain.receive of a send on "other" */

static json_t *op_payload(const char *kind, const char *role_key_hex, int i) {
  char other[65], other2[65];
  it_pubhex(other, 200);
  it_pubhex(other2, 201);
  if (strcmp(kind, "asset.issue") == 0)
    return json_pack("{s:s, s:s, s:i, s:I}", "asset", i ? "XA" : "XB", "name", "x", "decimals", 0,
                     "supply", (json_int_t)100);
  if (strcmp(kind, "asset.transfer") == 0)
    return json_pack("{s:s, s:s, s:I}", "asset", "NOPE", "to", other, "amount", (json_int_t)1);
  if (strcmp(kind, "notary.anchor") == 0) {
    char h[65];
    snprintf(h, sizeof h, "%064x", 0x1000 + i);
    return json_pack("{s:s, s:s}", "hash", h, "name", "doc");
  }
  if (strcmp(kind, "member.org_propose") == 0)
    return json_pack("{s:{s:s, s:s, s:s, s:[s]}}", "org", "id", "neworg", "name", "N", "role",
                     "bank", "keys", other);
  if (strcmp(kind, "member.org_vote") == 0)
    return json_pack("{s:s, s:b}", "proposal",
                     "00000000000000000000000000000000000000000000000000000000000000aa", "approve",
                     1);
  if (strcmp(kind, "member.policy_propose") == 0) return json_pack("{s:{}}", "policy");
  if (strcmp(kind, "seal.grant") == 0) {
    uint8_t zero[80] = {0};
    char b64[120], tx[65];
    sodium_bin2base64(b64, sizeof b64, zero, sizeof zero, sodium_base64_VARIANT_ORIGINAL);
    snprintf(tx, sizeof tx, "%064x", 0x5ea1 + i);
    return json_pack("{s:s, s:s, s:s, s:s}", "tx", tx, "field", "meta.x", "recipient", other,
                     "sealed", b64);
  }
  if (strcmp(kind, "xchain.send") == 0)
    return json_pack("{s:s, s:s, s:{}}", "to_chain", "other", "kind", "test.msg", "body");
  if (strcmp(kind, "xchain.receive") == 0) return json_deep_copy(receive_payload);
  if (strcmp(kind, "member.register") == 0)
    return json_pack("{s:{s:s, s:s, s:[s], s:{}, s:s}}", "member", "id", "nobody", "kind",
                     "person", "roles", "consumer", "attributes", "key", other);
  if (strcmp(kind, "member.attest") == 0)
    return json_pack("{s:s, s:s}", "key", role_key_hex, "evidence_sha256",
                     "00000000000000000000000000000000000000000000000000000000000000bb");
  if (strcmp(kind, "member.rotate") == 0)
    return json_pack("{s:s, s:s}", "old_key", other, "new_key", other2);
  /* suspend, resume, revoke: of a key nobody holds */
  return json_pack("{s:s}", "key", other);
}

int main(int argc, char **argv) {
  IT_CHECK(argc >= 2);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  IT_CHECK(sodium_init() >= 0);
  uint8_t none[] = {250};
  it_init(&node, argv[1], "scratch", none, 1); /* a data dir; chains added below */
  policy = test_policy();
  /* "perm" accepts messages from "other", whose blocks this node signs. */
  char keypath[300];
  snprintf(keypath, sizeof keypath, "%s/node.key", node.dir);
  json_t *nk = json_load_file(keypath, 0, NULL);
  IT_CHECK(nk && json_string_value(json_object_get(nk, "public")));
  init_chain(CHAIN, 1, json_deep_copy(policy),
             json_pack("{s:[s]}", "other", json_string_value(json_object_get(nk, "public"))));
  json_decref(nk);
  init_chain("other", 2, json_deep_copy(policy), NULL);
  IT_CHECK(it_start(&node, NULL, NULL) == 0);

  hanse_keypair founder, kp[NROLES], stranger;
  it_key(&founder, 1);
  it_key(&stranger, 99);
  for (int i = 0; i < NROLES; i++) it_key(&kp[i], ROLE_SEED(i));

  /* A message from "other" to "perm", for the xchain.receive row of the
   * matrix: sent by other's founder (an admin there). */
  {
    hanse_keypair f2;
    it_key(&f2, 2);
    hanse_client *oc = client_for("other", &f2);
    json_t *send = json_pack("{s:s, s:s, s:{s:i}}", "to_chain", CHAIN, "kind", "test.msg",
                             "body", "n", 1);
    hanse_client_op op = {"xchain.send", send};
    hanse_reject rej;
    uint64_t seq;
    IT_CHECK(hanse_client_next_seq(oc, &f2.pub, &seq, &rej) == HANSE_OK);
    hanse_buf b;
    hanse_buf_init(&b);
    hanse_hash sid;
    IT_CHECK(hanse_client_tx_build(oc, &op, seq, &f2, &b, &sid, &rej) == HANSE_OK);
    hanse_client_entry e = {HANSE_TYPE_TX, b.data, b.len};
    json_t *res = NULL, *doc = NULL;
    IT_CHECK(hanse_client_submit(oc, &e, 1, HANSE_SUBMIT_WAIT, 0, &res, &rej) == HANSE_OK);
    IT_CHECK(hanse_client_result_check(res, 0, &rej) == HANSE_OK);
    IT_CHECK(hanse_client_tx_get(oc, &sid, &doc, &rej) == HANSE_OK);
    IT_CHECK(hanse_client_xchain_payload(oc, doc, &sid, &receive_payload, &rej) == HANSE_OK);
    json_decref(doc);
    json_decref(res);
    json_decref(send);
    hanse_buf_free(&b);
    hanse_client_destroy(oc);
  }

  /* The founder registers one member per role. */
  for (int i = 0; i < NROLES; i++) {
    char hex[65], id[32];
    it_pubhex(hex, ROLE_SEED(i));
    snprintf(id, sizeof id, "m-%s", roles[i]);
    submit_ok(&founder, "member.register",
              json_pack("{s:{s:s, s:s, s:[s], s:{}, s:s}}", "member", "id", id, "kind", "person",
                        "roles", roles[i], "attributes", "key", hex));
  }

  /* 1. Submit matrix. */
  const char *kinds[] = {"asset.issue",    "asset.transfer",  "notary.anchor",
                         "member.org_propose", "member.org_vote", "member.policy_propose",
                         "member.register", "member.attest", "member.rotate",
                         "member.suspend", "member.resume",   "member.revoke",
                         "seal.grant",     "xchain.send",     "xchain.receive"};
  int nkinds = (int)(sizeof kinds / sizeof kinds[0]);
  int checked = 0;
  for (int r = 0; r < NROLES; r++) {
    char hex[65];
    it_pubhex(hex, ROLE_SEED(r));
    hanse_client_op ops[16];
    for (int k = 0; k < nkinds; k++) ops[k] = (hanse_client_op){kinds[k], op_payload(kinds[k], hex, r)};
    hanse_reject rej;
    json_t *res = submit(CHAIN, &kp[r], ops, nkinds, &rej);
    if (res == NULL) fprintf(stderr, "role %s: %s %s\n", roles[r], rej.code, rej.message);
    IT_CHECK(res != NULL);
    for (int k = 0; k < nkinds; k++) {
      json_t *e = json_array_get(json_object_get(res, "results"), (size_t)k);
      const char *code = json_string_value(json_object_get(e, "code"));
      int denied = code && strcmp(code, "policy.denied") == 0;
      if (denied == may_submit(kinds[k], roles[r]))
        fprintf(stderr, "submit %s as %s: code %s\n", kinds[k], roles[r], code ? code : "?");
      if (strcmp(json_string_value(json_object_get(e, "status")), "committed") != 0)
        fprintf(stderr, "submit %s as %s: %s\n", kinds[k], roles[r], json_dumps(e, 0));
      IT_CHECK(strcmp(json_string_value(json_object_get(e, "status")), "committed") == 0);
      IT_CHECK(denied != may_submit(kinds[k], roles[r]));
      json_decref(ops[k].payload);
      checked++;
    }
    json_decref(res);
  }
  IT_CHECK(checked == NROLES * nkinds);

  /* 2. Read matrix: one anchor per class, by the manufacturer member (the
   * policy lets it anchor). */
  char ids[6][65];
  for (int c = 0; c < 6; c++) {
    hanse_client *cl = client_for(CHAIN, &kp[2]);
    uint64_t seq;
    hanse_reject rej;
    IT_CHECK(hanse_client_next_seq(cl, &kp[2].pub, &seq, &rej) == HANSE_OK);
    char h[65];
    snprintf(h, sizeof h, "%064x", 0xc1a55 + c);
    json_t *p = json_pack("{s:s, s:s, s:s}", "hash", h, "name", classes[c], "class", classes[c]);
    hanse_client_op op = {"notary.anchor", p};
    hanse_buf b;
    hanse_buf_init(&b);
    hanse_hash id;
    IT_CHECK(hanse_client_tx_build(cl, &op, seq, &kp[2], &b, &id, &rej) == HANSE_OK);
    hanse_client_entry e = {HANSE_TYPE_TX, b.data, b.len};
    json_t *res = NULL;
    IT_CHECK(hanse_client_submit(cl, &e, 1, HANSE_SUBMIT_WAIT, 0, &res, &rej) == HANSE_OK);
    IT_CHECK(hanse_client_result_check(res, 0, &rej) == HANSE_OK);
    hanse_hash_hex(ids[c], &id);
    json_decref(res);
    json_decref(p);
    hanse_buf_free(&b);
    hanse_client_destroy(cl);
  }
  for (int r = 0; r < NROLES; r++) {
    for (int c = 0; c < 6; c++) {
      char path[600], code[64];
      snprintf(path, sizeof path, "/v1/chains/" CHAIN "/txs/%s", ids[c]);
      long st = get_as(CHAIN, &kp[r], path, code);
      int want = may_read(classes[c], roles[r]);
      if ((st == 200) != want)
        fprintf(stderr, "read %s as %s: %ld %s\n", classes[c], roles[r], st, code);
      IT_CHECK(want ? st == 200 : (st == 403 && strcmp(code, "policy.read_denied") == 0));
    }
    /* Module queries by the module's class. */
    char code[64];
    long st = get_as(CHAIN, &kp[r], "/v1/chains/" CHAIN "/query/asset/assets", code);
    IT_CHECK((st == 200) == may_read("financial", roles[r]));
    st = get_as(CHAIN, &kp[r], "/v1/chains/" CHAIN "/query/member/orgs", code);
    IT_CHECK((st == 200) == may_read("personal", roles[r]));
    /* Block views: every active member. */
    st = get_as(CHAIN, &kp[r], "/v1/chains/" CHAIN "/blocks/1", code);
    IT_CHECK(st == 200);
  }

  /* Self queries: a key may list the grants made to it even where the
   * read policy hides personal data (seal.grant is personal) from it. */
  {
    char bank[65], gpath[600], c2[64];
    it_pubhex(bank, ROLE_SEED(8));
    uint8_t zero[80] = {0};
    char b64[120];
    sodium_bin2base64(b64, sizeof b64, zero, sizeof zero, sodium_base64_VARIANT_ORIGINAL);
    submit_ok(&founder, "seal.grant",
              json_pack("{s:s, s:s, s:s, s:s}", "tx", ids[4], "field", "meta.price",
                        "recipient", bank, "sealed", b64));
    snprintf(gpath, sizeof gpath, "/v1/chains/" CHAIN "/query/seal/grants?tx=%s", ids[4]);
    IT_CHECK(get_as(CHAIN, &kp[8], gpath, c2) == 403);
    snprintf(gpath, sizeof gpath, "/v1/chains/" CHAIN "/query/seal/mine?key=%s&tx=%s", bank, ids[4]);
    hanse_client *cl = client_for(CHAIN, &kp[8]);
    json_t *mine = NULL;
    hanse_reject rej;
    IT_CHECK(hanse_client_get(cl, gpath, &mine, &rej) == HANSE_OK);
    IT_CHECK(json_array_size(json_object_get(mine, "grants")) == 1);
    json_decref(mine);
    hanse_client_destroy(cl);
    IT_CHECK(get_as(CHAIN, &kp[2], gpath, c2) == 403); /* about someone else */
    IT_CHECK(get_as(CHAIN, NULL, gpath, c2) == 401);
  }

  /* 3. Signatures. */
  char code[64], path[600];
  snprintf(path, sizeof path, "/v1/chains/" CHAIN "/txs/%s", ids[0]);
  IT_CHECK(get_as(CHAIN, NULL, path, code) == 401 && strcmp(code, "auth.missing") == 0);
  IT_CHECK(get_as(CHAIN, NULL, "/v1/chains/" CHAIN "/blocks/1", code) == 401);
  IT_CHECK(get_as(CHAIN, NULL, "/v1/chains/" CHAIN "/status", code) == 200);
  snprintf(path, sizeof path, "/v1/chains/" CHAIN "/txs/%s/proof", ids[0]);
  {
    long st;
    json_t *j = it_get_json(&node, path, &st);
    IT_CHECK(st == 200 && json_object_get(j, "proof") && !json_object_get(j, "tx") &&
             !json_object_get(j, "raw"));
    json_decref(j);
  }
  int64_t now = (int64_t)time(NULL);
  raw_req rr = {"GET", "/v1/chains/" CHAIN "/blocks/1", NULL, NULL, now, 0, NULL};
  char in[HANSE_HTTPSIG_INPUT_FIELD_BYTES] = "", sig[HANSE_HTTPSIG_SIGNATURE_FIELD_BYTES] = "";
  IT_CHECK(raw_send(&rr, &founder, code, in, sig) == 200);
  IT_CHECK(raw_send(&rr, &founder, code, in, sig) == 401 && strcmp(code, "auth.replayed") == 0);
  rr.created = now - 1000;
  IT_CHECK(raw(&rr, &founder, code) == 401 && strcmp(code, "auth.expired") == 0);
  rr.created = now + 1000;
  IT_CHECK(raw(&rr, &founder, code) == 401 && strcmp(code, "auth.future") == 0);
  rr.created = now;
  rr.tamper = 1;
  IT_CHECK(raw(&rr, &founder, code) == 401 && strcmp(code, "auth.bad_signature") == 0);
  rr.tamper = 0;
  rr.input_override = "sig1=(\"@method\" \"@path\";created=abc";
  IT_CHECK(raw(&rr, &founder, code) == 401 && strcmp(code, "auth.malformed") == 0);
  rr.input_override = NULL;
  IT_CHECK(raw(&rr, &stranger, code) == 401 && strcmp(code, "auth.unknown_key") == 0);
  raw_req post = {"POST", "/v1/chains/" CHAIN "/txs", "{\"txs\":[]}", "{\"txs\":[\"00\"]}", now,
                  0, NULL};
  IT_CHECK(raw(&post, &founder, code) == 401 && strcmp(code, "auth.digest_mismatch") == 0);
  post.signed_body = NULL;
  IT_CHECK(raw(&post, &founder, code) != 401); /* signed right: judged on its content */
  {
    /* An unsigned submission on a chain with a policy. */
    long st;
    json_t *j = it_post_json(&node, "/v1/chains/" CHAIN "/txs", "{\"txs\":[]}", &st);
    IT_CHECK(st == 401);
    json_decref(j);
  }

  /* 4. Key life cycle: suspend, then revoke the consumer member. */
  char chex[65];
  it_pubhex(chex, ROLE_SEED(10));
  submit_ok(&founder, "member.suspend", json_pack("{s:s}", "key", chex));
  IT_CHECK(get_as(CHAIN, &kp[10], "/v1/chains/" CHAIN "/blocks/1", code) == 401 &&
           strcmp(code, "auth.key_suspended") == 0);
  submit_ok(&founder, "member.revoke", json_pack("{s:s}", "key", chex));
  IT_CHECK(get_as(CHAIN, &kp[10], "/v1/chains/" CHAIN "/blocks/1", code) == 401 &&
           strcmp(code, "auth.key_revoked") == 0);
  {
    hanse_client_op op = {"notary.anchor", op_payload("notary.anchor", chex, 77)};
    hanse_reject rej;
    json_t *res = submit(CHAIN, &kp[10], &op, 1, &rej);
    IT_CHECK(res == NULL && rej.status == 401 && strcmp(rej.code, "auth.key_revoked") == 0);
    json_decref(op.payload);
  }

  /* 5. Governance: the department may not read financial data; a voted
   * policy lets it. */
  snprintf(path, sizeof path, "/v1/chains/" CHAIN "/txs/%s", ids[4]);
  IT_CHECK(get_as(CHAIN, &kp[11], path, code) == 403);
  json_t *wider = json_deep_copy(policy);
  json_array_append_new(json_object_get(json_object_get(wider, "read"), "financial"),
                        json_string("department"));
  {
    hanse_client *cl = client_for(CHAIN, &founder);
    uint64_t seq;
    hanse_reject rej;
    IT_CHECK(hanse_client_next_seq(cl, &founder.pub, &seq, &rej) == HANSE_OK);
    json_t *p = json_pack("{s:O}", "policy", wider);
    hanse_client_op op = {"member.policy_propose", p};
    hanse_buf b;
    hanse_buf_init(&b);
    hanse_hash pid;
    IT_CHECK(hanse_client_tx_build(cl, &op, seq, &founder, &b, &pid, &rej) == HANSE_OK);
    hanse_client_entry e = {HANSE_TYPE_TX, b.data, b.len};
    json_t *res = NULL;
    IT_CHECK(hanse_client_submit(cl, &e, 1, HANSE_SUBMIT_WAIT, 0, &res, &rej) == HANSE_OK);
    IT_CHECK(hanse_client_result_check(res, 0, &rej) == HANSE_OK);
    json_decref(res);
    json_decref(p);
    hanse_buf_free(&b);
    hanse_client_destroy(cl);
    char pidhex[65];
    hanse_hash_hex(pidhex, &pid);
    IT_CHECK(get_as(CHAIN, &kp[11], path, code) == 403); /* proposed, not adopted */
    submit_ok(&founder, "member.org_vote",
              json_pack("{s:s, s:b}", "proposal", pidhex, "approve", 1));
  }
  IT_CHECK(get_as(CHAIN, &kp[11], path, code) == 200);
  json_decref(wider);

  /* 6. Isolation: chain "other" has its own founder (seed 2). */
  IT_CHECK(get_as("other", &founder, "/v1/chains/other/blocks/0", code) == 401 &&
           strcmp(code, "auth.unknown_key") == 0);
  hanse_keypair founder2;
  it_key(&founder2, 2);
  IT_CHECK(get_as("other", &founder2, "/v1/chains/other/blocks/0", code) == 200);
  snprintf(path, sizeof path, "/v1/chains/other/txs/%s", ids[0]);
  IT_CHECK(get_as("other", &founder2, path, code) == 404);
  IT_CHECK(get_as(CHAIN, &founder2, "/v1/chains/" CHAIN "/blocks/0", code) == 401);

  it_stop(&node);
  it_cleanup_all();
  json_decref(policy);
  json_decref(receive_payload);
  printf("permissions: %d submit cases, %d read cases, signatures, life cycle, governance, "
         "isolation: ok\n",
         checked, NROLES * 6);
  return 0;
}
