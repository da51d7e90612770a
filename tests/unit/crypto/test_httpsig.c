/*
 * test_httpsig.c -- HTTP Message Signatures (RFC 9421, Ed25519),
 * Content-Digest (RFC 9530) and the replay cache.
 *
 * Known answers (tests/vectors/rfc9421_httpsig.txt): RFC 9421 B.2.6 and
 * B.4 with the RFC's test-key-ed25519 -- the key derived from the JWK
 * seed gives the JWK public key; the Signature-Input parses to the listed
 * components and created time; our signature base equals the RFC's byte
 * for byte; the published signature verifies; signing reproduces both
 * header values exactly (Ed25519 is deterministic). RFC 9530's sha-256
 * Content-Digest of {"hello": "world"}+LF and of empty content.
 *
 * Policy: a round trip for each request shape; every rejection code;
 * tampering with each covered component (method, path, query, body,
 * digest header, created, keyid, nonce, the signature itself); the time
 * window at its exact edges; the replay cache (duplicates, expiry, reuse
 * of expired slots, a full neighbourhood, concurrent checks).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/hex.h"
#include "crypto/httpsig.h"
#include "fixture.h"

#define T0 1700000000 /* "now" of the policy tests */
#define MAX_AGE 300
#define SKEW 30

/* ---- A mutable request ------------------------------------------------ */

#define REQ_FIELDS_MAX 16

typedef struct treq {
  hanse_httpsig_request r;
  hanse_httpsig_field fields[REQ_FIELDS_MAX];
  char values[REQ_FIELDS_MAX][HANSE_HTTPSIG_INPUT_FIELD_BYTES];
  char names[REQ_FIELDS_MAX][64];
} treq;

static void treq_init(treq *t, const char *method, const char *path,
                      const char *query, const char *body) {
  memset(t, 0, sizeof *t);
  t->r.method = method;
  t->r.path = path;
  t->r.query = query;
  t->r.authority = "node.example";
  t->r.fields = t->fields;
  t->r.body = (const uint8_t *)body;
  t->r.body_len = body ? strlen(body) : 0;
}

/* Set (replace or append) header `name`. */
static void treq_set(treq *t, const char *name, const char *value) {
  size_t i = 0;
  for (; i < t->r.field_count; i++)
    if (strcasecmp(t->names[i], name) == 0) break;
  if (i == t->r.field_count) {
    assert_true(i < REQ_FIELDS_MAX);
    t->r.field_count++;
  }
  snprintf(t->names[i], sizeof t->names[i], "%s", name);
  snprintf(t->values[i], sizeof t->values[i], "%s", value);
  t->fields[i].name = t->names[i];
  t->fields[i].value = t->values[i];
}

/* Append another instance of `name`. */
static void treq_add(treq *t, const char *name, const char *value) {
  size_t i = t->r.field_count++;
  assert_true(i < REQ_FIELDS_MAX);
  snprintf(t->names[i], sizeof t->names[i], "%s", name);
  snprintf(t->values[i], sizeof t->values[i], "%s", value);
  t->fields[i].name = t->names[i];
  t->fields[i].value = t->values[i];
}

static void treq_del(treq *t, const char *name) {
  for (size_t i = 0; i < t->r.field_count; i++) {
    if (strcasecmp(t->names[i], name) != 0) continue;
    for (size_t j = i + 1; j < t->r.field_count; j++) {
      memcpy(t->names[j - 1], t->names[j], sizeof t->names[j]);
      memcpy(t->values[j - 1], t->values[j], sizeof t->values[j]);
    }
    t->r.field_count--;
    for (size_t j = 0; j < t->r.field_count; j++) {
      t->fields[j].name = t->names[j];
      t->fields[j].value = t->values[j];
    }
    i--;
  }
}

/* Struct copy, then point the copy's field table at its own strings. */
static void treq_copy(treq *dst, const treq *src) {
  memcpy(dst, src, sizeof *dst);
  dst->r.fields = dst->fields;
  for (size_t i = 0; i < dst->r.field_count; i++) {
    dst->fields[i].name = dst->names[i];
    dst->fields[i].value = dst->values[i];
  }
}

static const char *treq_get(treq *t, const char *name) {
  for (size_t i = 0; i < t->r.field_count; i++)
    if (strcasecmp(t->names[i], name) == 0) return t->values[i];
  return NULL;
}

/* ---- Keys ----------------------------------------------------------------- */

typedef struct keyring {
  const char *ids[4];
  hanse_pubkey keys[4];
  int n;
  int fail; /* 1: the lookup fails with an I/O error */
} keyring;

static int key_lookup(void *ctx, const char *keyid, hanse_pubkey *out) {
  keyring *k = ctx;
  if (k->fail) return HANSE_ERR(IO);
  for (int i = 0; i < k->n; i++)
    if (strcmp(k->ids[i], keyid) == 0) {
      *out = k->keys[i];
      return HANSE_OK;
    }
  return HANSE_ERR(NOT_FOUND);
}

static hanse_keypair alice, bob;
static keyring ring;

static int setup(void **state) {
  (void)state;
  fx_key(&alice, 0xa1);
  fx_key(&bob, 0xb0);
  memset(&ring, 0, sizeof ring);
  ring.ids[0] = "alice";
  ring.keys[0] = alice.pub;
  ring.ids[1] = "bob";
  ring.keys[1] = bob.pub;
  ring.n = 2;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  hanse_keypair_wipe(&alice);
  hanse_keypair_wipe(&bob);
  return 0;
}

static hanse_httpsig_policy policy(void) {
  hanse_httpsig_policy p = {.now_s = T0, .max_age_s = MAX_AGE,
                            .max_skew_s = SKEW, .key_fn = key_lookup,
                            .key_ctx = &ring};
  return p;
}

/* Add Content-Digest (if there is a body), sign with the profile plus a
 * nonce, and set the two headers. */
static void sign_req(treq *t, const hanse_keypair *kp, const char *keyid,
                     int64_t created, const char *nonce) {
  if (t->r.body_len > 0) {
    char d[HANSE_HTTPSIG_DIGEST_FIELD_BYTES];
    treq_set(t, "Content-Digest",
             hanse_httpsig_content_digest(d, t->r.body, t->r.body_len));
  }
  hanse_httpsig_params p;
  assert_int_equal(hanse_httpsig_params_for_request(&p, &t->r, created, keyid),
                   HANSE_OK);
  if (nonce) assert_int_equal(hanse_httpsig_params_set_nonce(&p, nonce), HANSE_OK);
  hanse_httpsig_headers h;
  hanse_reject rej;
  assert_int_equal(hanse_httpsig_sign(&t->r, &p, NULL, kp, &h, &rej), HANSE_OK);
  treq_set(t, "Signature-Input", h.signature_input);
  treq_set(t, "Signature", h.signature);
}

static void expect_ok(treq *t, hanse_httpsig_verified *v) {
  hanse_httpsig_policy pol = policy();
  hanse_reject rej;
  memset(&rej, 0, sizeof rej);
  int rc = hanse_httpsig_verify(&t->r, &pol, v, &rej);
  if (rc != HANSE_OK) fail_msg("verify: %s: %s", rej.code, rej.message);
}

static void expect_code_pol(treq *t, const hanse_httpsig_policy *pol,
                            const char *code) {
  hanse_httpsig_verified v;
  hanse_reject rej;
  memset(&rej, 0, sizeof rej);
  int rc = hanse_httpsig_verify(&t->r, pol, &v, &rej);
  if (rc == HANSE_OK) fail_msg("expected %s, verify accepted", code);
  assert_int_equal(rc, HANSE_ERR(INVALID));
  if (strcmp(rej.code, code) != 0)
    fail_msg("expected %s, got %s (%s)", code, rej.code, rej.message);
  assert_int_equal(rej.status, 401);
}

static void expect_code(treq *t, const char *code) {
  hanse_httpsig_policy pol = policy();
  expect_code_pol(t, &pol, code);
}

/* ---- Known answers ---------------------------------------------------------- */

typedef struct vec {
  char name[32];
  char keyid[64], d[64], x[64];
  char method[16], path[64], query[64], authority[64];
  char header_names[8][32], header_values[8][160];
  int header_count;
  char body[64];
  int has_body_hex;
  uint8_t body_bytes[64];
  size_t body_len;
  char label[32];
  int64_t created;
  char components[160];
  char sig_input[256], signature[256], content_digest[128];
  char base[1024];
} vec;

#define VEC_MAX 6

static void b64url_decode32(uint8_t out[32], const char *s) {
  size_t got = 0;
  assert_int_equal(sodium_base642bin(out, 32, s, strlen(s), NULL, &got, NULL,
                                     sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                   0);
  assert_int_equal(got, 32);
}

static int load_vectors(vec *v, int max) {
  const char *path = HANSE_VECTORS_DIR "/rfc9421_httpsig.txt";
  FILE *f = fopen(path, "r");
  if (f == NULL) fail_msg("cannot open %s", path);
  char line[512];
  int n = -1, in_base = 0;
#define COPY(field)                                                            \
  do {                                                                         \
    assert_true(strlen(val) < sizeof v[n].field);                              \
    strcpy(v[n].field, val);                                                   \
  } while (0)
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = 0;
    if (in_base) {
      if (strcmp(line, "end") == 0) {
        in_base = 0;
        continue;
      }
      size_t bl = strlen(v[n].base);
      assert_true(bl + strlen(line) + 2 < sizeof v[n].base);
      if (bl) strcat(v[n].base, "\n");
      strcat(v[n].base, line);
      continue;
    }
    if (line[0] == '#' || line[0] == 0) continue;
    char *colon = strchr(line, ':');
    assert_non_null(colon);
    *colon = 0;
    const char *key = line;
    const char *val = colon[1] == ' ' ? colon + 2 : colon + 1;
    if (strcmp(key, "test") == 0) {
      n++;
      assert_true(n < max);
      memset(&v[n], 0, sizeof v[n]);
      COPY(name);
    } else if (strcmp(key, "keyid") == 0) COPY(keyid);
    else if (strcmp(key, "d") == 0) COPY(d);
    else if (strcmp(key, "x") == 0) COPY(x);
    else if (strcmp(key, "method") == 0) COPY(method);
    else if (strcmp(key, "path") == 0) COPY(path);
    else if (strcmp(key, "query") == 0) COPY(query);
    else if (strcmp(key, "authority") == 0) COPY(authority);
    else if (strcmp(key, "body") == 0) {
      COPY(body);
      v[n].body_len = strlen(val);
      memcpy(v[n].body_bytes, val, v[n].body_len);
    } else if (strcmp(key, "body-hex") == 0) {
      v[n].has_body_hex = 1;
      assert_true(strlen(val) / 2 <= sizeof v[n].body_bytes);
      if (val[0]) {
        uint8_t *b = NULL;
        assert_int_equal(hanse_hex_decode_alloc(val, strlen(val), &b, &v[n].body_len),
                         HANSE_OK);
        memcpy(v[n].body_bytes, b, v[n].body_len);
        free(b);
      }
    } else if (strcmp(key, "label") == 0) COPY(label);
    else if (strcmp(key, "created") == 0) v[n].created = strtoll(val, NULL, 10);
    else if (strcmp(key, "components") == 0) COPY(components);
    else if (strcmp(key, "signature-input") == 0) COPY(sig_input);
    else if (strcmp(key, "signature") == 0) COPY(signature);
    else if (strcmp(key, "content-digest") == 0) COPY(content_digest);
    else if (strcmp(key, "header") == 0) {
      int h = v[n].header_count++;
      assert_true(h < 8);
      char *c2 = strchr(val, ':');
      assert_non_null(c2);
      snprintf(v[n].header_names[h], sizeof v[n].header_names[h], "%.*s",
               (int)(c2 - val), val);
      snprintf(v[n].header_values[h], sizeof v[n].header_values[h], "%s", c2 + 2);
    } else if (strcmp(key, "base") == 0) {
      in_base = 1;
    } else {
      fail_msg("unknown key %s", key);
    }
  }
#undef COPY
  fclose(f);
  assert_false(in_base);
  return n + 1;
}

static void vec_request(const vec *v, treq *t) {
  treq_init(t, v->method, v->path, v->query[0] ? v->query : NULL, NULL);
  t->r.authority = v->authority;
  t->r.body = v->body_bytes;
  t->r.body_len = v->body_len;
  for (int h = 0; h < v->header_count; h++)
    treq_add(t, v->header_names[h], v->header_values[h]);
}

static void test_rfc9421_vectors(void **state) {
  (void)state;
  vec *v = calloc(VEC_MAX, sizeof *v);
  assert_non_null(v);
  int n = load_vectors(v, VEC_MAX);
  assert_int_equal(n, 4);
  int checked = 0;
  for (int i = 0; i < n; i++) {
    if (v[i].sig_input[0] == 0) continue;
    checked++;
    /* the key */
    uint8_t seed[32];
    hanse_pubkey x;
    b64url_decode32(seed, v[i].d);
    b64url_decode32(x.b, v[i].x);
    hanse_keypair kp;
    hanse_keypair_from_seed(&kp, seed);
    assert_memory_equal(kp.pub.b, x.b, 32);

    treq t;
    vec_request(&v[i], &t);
    treq_add(&t, "Signature-Input", v[i].sig_input);
    treq_add(&t, "Signature", v[i].signature);

    /* parse */
    hanse_httpsig_params p;
    hanse_sig sig;
    hanse_reject rej;
    assert_int_equal(hanse_httpsig_parse(&t.r, v[i].label, &p, &sig, &rej), HANSE_OK);
    assert_int_equal(p.created, v[i].created);
    assert_string_equal(p.keyid, v[i].keyid);
    char comps[160] = "";
    for (size_t c = 0; c < p.component_count; c++) {
      if (c) strcat(comps, " ");
      strcat(comps, p.components[c]);
    }
    assert_string_equal(comps, v[i].components);

    /* the signature base, byte for byte */
    hanse_buf base;
    hanse_buf_init(&base);
    assert_int_equal(hanse_httpsig_base(&t.r, &p, &base, &rej), HANSE_OK);
    assert_int_equal(base.len, strlen(v[i].base));
    assert_memory_equal(base.data, v[i].base, base.len);
    /* the published signature verifies over it */
    assert_int_equal(hanse_sign_verify(&sig, base.data, base.len, &x), 1);
    base.data[0] ^= 1;
    assert_int_equal(hanse_sign_verify(&sig, base.data, base.len, &x), 0);
    hanse_buf_free(&base);

    /* the same parameters built by hand serialize to the same text */
    hanse_httpsig_params q;
    hanse_httpsig_params_init(&q);
    char list[160];
    snprintf(list, sizeof list, "%s", v[i].components);
    for (char *tok = strtok(list, " "); tok; tok = strtok(NULL, " "))
      assert_int_equal(hanse_httpsig_params_add_component(&q, tok), HANSE_OK);
    assert_int_equal(hanse_httpsig_params_set_created(&q, v[i].created), HANSE_OK);
    assert_int_equal(hanse_httpsig_params_set_keyid(&q, v[i].keyid), HANSE_OK);

    /* signing reproduces both header values (Ed25519 is deterministic) */
    hanse_httpsig_headers h;
    assert_int_equal(hanse_httpsig_sign(&t.r, &q, v[i].label, &kp, &h, &rej), HANSE_OK);
    assert_string_equal(h.signature_input, v[i].sig_input);
    assert_string_equal(h.signature, v[i].signature);

    /* The RFC's requests have a query and do not cover it (nor, in B.2.6,
     * the body): our profile refuses them, for that reason only. */
    ring.ids[2] = "test-key-ed25519";
    ring.keys[2] = x;
    ring.n = 3;
    hanse_httpsig_policy pol = policy();
    pol.now_s = v[i].created;
    pol.label = v[i].label;
    expect_code_pol(&t, &pol, HANSE_AUTH_COMPONENTS);
    ring.n = 2;
    hanse_keypair_wipe(&kp);
  }
  assert_int_equal(checked, 2);

  /* RFC 9530 digests */
  int digests = 0;
  for (int i = 0; i < n; i++) {
    if (!v[i].has_body_hex) continue;
    digests++;
    char d[HANSE_HTTPSIG_DIGEST_FIELD_BYTES];
    hanse_httpsig_content_digest(d, v[i].body_bytes, v[i].body_len);
    assert_string_equal(d, v[i].content_digest);
  }
  assert_int_equal(digests, 2);
  free(v);
}

/* ---- Round trips -------------------------------------------------------------- */

static void test_round_trips(void **state) {
  (void)state;
  hanse_httpsig_verified v;
  treq t;

  /* GET, no query, no body: @method @path only */
  treq_init(&t, "GET", "/v1/chains/demo/status", NULL, NULL);
  sign_req(&t, &alice, "alice", T0, NULL);
  assert_string_equal(treq_get(&t, "Signature-Input"),
                       "sig1=(\"@method\" \"@path\");created=1700000000;"
                       "keyid=\"alice\";alg=\"ed25519\"");
  assert_null(treq_get(&t, "Content-Digest"));
  expect_ok(&t, &v);
  assert_string_equal(v.keyid, "alice");
  assert_memory_equal(v.key.b, alice.pub.b, 32);
  assert_int_equal(v.created, T0);
  assert_int_equal(v.has_nonce, 0);

  /* GET with a query and a nonce */
  treq_init(&t, "GET", "/v1/chains/demo/query/asset/balance", "owner=ab%20cd&x=1", NULL);
  sign_req(&t, &bob, "bob", T0 - 10, "n-1");
  assert_non_null(strstr(treq_get(&t, "Signature-Input"), "\"@query\""));
  expect_ok(&t, &v);
  assert_string_equal(v.keyid, "bob");
  assert_int_equal(v.has_nonce, 1);
  assert_string_equal(v.nonce, "n-1");

  /* POST with a body: content-digest covered and checked */
  treq_init(&t, "POST", "/v1/chains/demo/txs", NULL, "{\"hello\": \"world\"}");
  sign_req(&t, &alice, "alice", T0, "n-2");
  assert_string_equal(treq_get(&t, "Content-Digest"),
                      "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:");
  assert_non_null(strstr(treq_get(&t, "Signature-Input"), "\"content-digest\""));
  expect_ok(&t, &v);

  /* header names are case-insensitive; extra uncovered headers are fine;
   * other signatures beside ours are ignored */
  treq t2;
  treq_copy(&t2, &t);
  for (size_t i = 0; i < t2.r.field_count; i++)
    for (char *c = t2.names[i]; *c; c++)
      if (*c >= 'a' && *c <= 'z') *c = (char)(*c - 32);
  treq_add(&t2, "X-Extra", "whatever");
  treq_add(&t2, "Signature-Input", "proxy=(\"@method\");created=1");
  treq_add(&t2, "Signature", "proxy=:AAAA:");
  expect_ok(&t2, &v);

  /* an empty query ("?" alone) is still a query and must be covered */
  treq_init(&t, "GET", "/x", "", NULL);
  sign_req(&t, &alice, "alice", T0, NULL);
  expect_ok(&t, &v);
  t.r.query = NULL; /* "@query" is then "?" too: same base */
  expect_ok(&t, &v);
}

/* ---- Rejections ----------------------------------------------------------------- */

static void test_missing_and_malformed(void **state) {
  (void)state;
  treq t, good;
  treq_init(&good, "POST", "/p", "a=1", "body");
  sign_req(&good, &alice, "alice", T0, "n");
  const char *sig = treq_get(&good, "Signature");

  /* no headers at all, or one of them */
  treq_init(&t, "GET", "/p", NULL, NULL);
  expect_code(&t, HANSE_AUTH_MISSING);
  treq_copy(&t, &good);
  treq_del(&t, "Signature");
  expect_code(&t, HANSE_AUTH_MISSING);
  treq_copy(&t, &good);
  treq_del(&t, "Signature-Input");
  expect_code(&t, HANSE_AUTH_MISSING);
  /* a signature under another label only */
  hanse_httpsig_policy pol = policy();
  pol.label = "sig2";
  expect_code_pol(&good, &pol, HANSE_AUTH_MISSING);

  struct {
    const char *input; /* NULL: keep */
    const char *signature;
  } bad[] = {
      {"sig1", NULL},                                     /* boolean, not a list */
      {"sig1=\"@method\"", NULL},                         /* string, not a list */
      {"sig1=(\"@method\" \"@path\"", NULL},              /* unterminated */
      {"sig1=(\"@method\"\"@path\");created=1", NULL},    /* no SP between items */
      {"sig1=(\"@method\" \"@path\");created=1,", NULL},  /* trailing comma */
      {"Sig1=(\"@method\");created=1", NULL},             /* key not lowercase */
      {"sig1=(\"@method\" @path);created=1", NULL},       /* token component */
      {"sig1=(\"@Method\" \"@path\");created=1", NULL},   /* uppercase name */
      {"sig1=(\"@method\" \"@method\" \"@path\");created=1;keyid=\"alice\"", NULL},
      {"sig1=(\"@method\" \"@path\");created=\"1\";keyid=\"alice\"", NULL},
      {"sig1=(\"@method\" \"@path\");created=-1;keyid=\"alice\"", NULL},
      {"sig1=(\"@method\" \"@path\");created=1.5;keyid=\"alice\"", NULL},
      {"sig1=(\"@method\" \"@path\");created=1;keyid=alice", NULL},
      {"sig1=(\"@method\" \"@path\");created=1;keyid=\"alice\";foo=1", NULL},
      {"sig1=(\"@method\" \"@path\");created=1;keyid=\"a\\lice\"", NULL},
      {"sig1=(\"@method\" \"@signature-params\");created=1;keyid=\"a\"", NULL},
      {NULL, "sig1"},
      {NULL, "sig1=:AAAA:"},                              /* 3 bytes */
      {NULL, "sig1=\"not bytes\""},
      {NULL, "sig1=:not base64!:"},
      {NULL, "sig1=:AAAA"},
      {NULL, "sig2=:AAAA:"},                              /* label in one only */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    treq_copy(&t, &good);
    if (bad[i].input) treq_set(&t, "Signature-Input", bad[i].input);
    if (bad[i].signature) treq_set(&t, "Signature", bad[i].signature);
    hanse_httpsig_verified v;
    hanse_reject rej;
    memset(&rej, 0, sizeof rej);
    assert_int_equal(hanse_httpsig_verify(&t.r, &(hanse_httpsig_policy){
                         .now_s = T0, .max_age_s = MAX_AGE, .max_skew_s = SKEW,
                         .key_fn = key_lookup, .key_ctx = &ring}, &v, &rej),
                     HANSE_ERR(INVALID));
    if (strcmp(rej.code, HANSE_AUTH_MALFORMED) != 0)
      fail_msg("case %zu: expected auth.malformed, got %s (%s)", i, rej.code,
               rej.message);
  }

  /* parameters the profile needs */
  const char *params[] = {
      "sig1=(\"@method\" \"@path\" \"@query\" \"content-digest\");keyid=\"alice\"",
      "sig1=(\"@method\" \"@path\" \"@query\" \"content-digest\");created=1700000000",
      "sig1=(\"@method\" \"@path\" \"@query\" \"content-digest\");created=1700000000;keyid=\"\"",
      ("sig1=(\"@method\" \"@path\" \"@query\" \"content-digest\");created=1700000000;"
       "keyid=\"alice\";alg=\"rsa-pss-sha512\""),
  };
  for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
    treq_copy(&t, &good);
    treq_set(&t, "Signature-Input", params[i]);
    expect_code(&t, HANSE_AUTH_MALFORMED);
  }
  /* a nonce, when the policy requires one */
  treq_init(&t, "GET", "/p", NULL, NULL);
  sign_req(&t, &alice, "alice", T0, NULL);
  pol = policy();
  pol.require_nonce = 1;
  expect_code_pol(&t, &pol, HANSE_AUTH_MALFORMED);
  sign_req(&t, &alice, "alice", T0, "fresh");
  hanse_httpsig_verified v;
  assert_int_equal(hanse_httpsig_verify(&t.r, &pol, &v, NULL), HANSE_OK);

  /* a header value with CR/LF cannot forge lines of the base */
  treq_init(&t, "GET", "/p", NULL, NULL);
  treq_set(&t, "X-A", "ok");
  hanse_httpsig_params p;
  assert_int_equal(hanse_httpsig_params_for_request(&p, &t.r, T0, "alice"), HANSE_OK);
  assert_int_equal(hanse_httpsig_params_add_component(&p, "x-a"), HANSE_OK);
  hanse_httpsig_headers h;
  assert_int_equal(hanse_httpsig_sign(&t.r, &p, NULL, &alice, &h, NULL), HANSE_OK);
  treq_set(&t, "Signature-Input", h.signature_input);
  treq_set(&t, "Signature", h.signature);
  expect_ok(&t, &v);
  treq_set(&t, "X-A", "ok\n\"@method\": GET");
  expect_code(&t, HANSE_AUTH_MALFORMED);
  treq_set(&t, "X-A", "ok");
  t.r.path = "/p\r\n";
  expect_code(&t, HANSE_AUTH_MALFORMED);

  /* oversized headers */
  treq_copy(&t, &good);
  char big[HANSE_HTTPSIG_FIELD_MAX + 8];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = 0;
  treq_set(&t, "Signature", big);
  expect_code(&t, HANSE_AUTH_MALFORMED);
  (void)sig;
}

static void test_components(void **state) {
  (void)state;
  treq t;
  hanse_httpsig_params p;
  hanse_httpsig_headers h;
  hanse_reject rej;
  struct {
    const char *query, *body;
    const char *components[4];
  } cases[] = {
      {NULL, NULL, {"@path"}},                        /* no @method */
      {NULL, NULL, {"@method"}},                      /* no @path */
      {"a=1", NULL, {"@method", "@path"}},            /* no @query */
      {NULL, "b", {"@method", "@path"}},              /* no content-digest */
      {"a=1", "b", {"@method", "@path", "@query"}},   /* no content-digest */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    treq_init(&t, "POST", "/p", cases[i].query, cases[i].body);
    char d[HANSE_HTTPSIG_DIGEST_FIELD_BYTES];
    if (cases[i].body)
      treq_set(&t, "Content-Digest", hanse_httpsig_content_digest(d, "b", 1));
    hanse_httpsig_params_init(&p);
    for (int c = 0; c < 4 && cases[i].components[c]; c++)
      assert_int_equal(hanse_httpsig_params_add_component(&p, cases[i].components[c]),
                       HANSE_OK);
    hanse_httpsig_params_set_created(&p, T0);
    hanse_httpsig_params_set_keyid(&p, "alice");
    assert_int_equal(hanse_httpsig_sign(&t.r, &p, NULL, &alice, &h, NULL), HANSE_OK);
    treq_set(&t, "Signature-Input", h.signature_input);
    treq_set(&t, "Signature", h.signature);
    expect_code(&t, HANSE_AUTH_COMPONENTS);
  }

  /* a covered header that the request lacks */
  treq_init(&t, "POST", "/p", NULL, "b");
  sign_req(&t, &alice, "alice", T0, NULL);
  treq_del(&t, "Content-Digest");
  expect_code(&t, HANSE_AUTH_COMPONENTS);
  /* signing such a request fails the same way */
  assert_int_equal(hanse_httpsig_params_for_request(&p, &t.r, T0, "alice"), HANSE_OK);
  assert_int_equal(hanse_httpsig_sign(&t.r, &p, NULL, &alice, &h, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, HANSE_AUTH_COMPONENTS);

  /* derived components we do not implement, and component parameters */
  treq_init(&t, "GET", "/p", NULL, NULL);
  sign_req(&t, &alice, "alice", T0, NULL);
  treq_set(&t, "Signature-Input",
           "sig1=(\"@method\" \"@path\" \"@target-uri\");created=1700000000;keyid=\"alice\"");
  expect_code(&t, HANSE_AUTH_COMPONENTS);
  treq_set(&t, "Signature-Input",
           "sig1=(\"@method\" \"@path\" \"@query-param\";name=\"a\");created=1700000000;"
           "keyid=\"alice\"");
  expect_code(&t, HANSE_AUTH_COMPONENTS);
  /* @authority needs an authority */
  t.r.authority = NULL;
  hanse_httpsig_params_init(&p);
  hanse_httpsig_params_add_component(&p, "@authority");
  hanse_buf b;
  hanse_buf_init(&b);
  assert_int_equal(hanse_httpsig_base(&t.r, &p, &b, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, HANSE_AUTH_COMPONENTS);
  hanse_buf_free(&b);
}

static void test_window(void **state) {
  (void)state;
  treq t;
  hanse_httpsig_verified v;
  struct {
    int64_t created;
    const char *code; /* NULL: accepted */
  } cases[] = {
      {T0, NULL},
      {T0 - MAX_AGE, NULL},
      {T0 - MAX_AGE - 1, HANSE_AUTH_EXPIRED},
      {T0 - 100000, HANSE_AUTH_EXPIRED},
      {0, HANSE_AUTH_EXPIRED},
      {T0 + SKEW, NULL},
      {T0 + SKEW + 1, HANSE_AUTH_FUTURE},
      {T0 + 100000, HANSE_AUTH_FUTURE},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    treq_init(&t, "GET", "/p", NULL, NULL);
    sign_req(&t, &alice, "alice", cases[i].created, NULL);
    if (cases[i].code)
      expect_code(&t, cases[i].code);
    else
      expect_ok(&t, &v);
  }
  /* expires: accepted up to and including it, expired after */
  for (int64_t exp = T0 + 1; exp >= T0 - 1; exp--) {
    treq_init(&t, "GET", "/p", NULL, NULL);
    hanse_httpsig_params p;
    hanse_httpsig_params_for_request(&p, &t.r, T0 - 5, "alice");
    assert_int_equal(hanse_httpsig_params_set_expires(&p, exp), HANSE_OK);
    hanse_httpsig_headers h;
    assert_int_equal(hanse_httpsig_sign(&t.r, &p, NULL, &alice, &h, NULL), HANSE_OK);
    treq_set(&t, "Signature-Input", h.signature_input);
    treq_set(&t, "Signature", h.signature);
    if (exp >= T0)
      expect_ok(&t, &v);
    else
      expect_code(&t, HANSE_AUTH_EXPIRED);
  }
}

static void test_keys_and_signatures(void **state) {
  (void)state;
  treq t;
  hanse_httpsig_verified v;
  treq_init(&t, "GET", "/p", NULL, NULL);
  sign_req(&t, &alice, "mallory", T0, NULL);
  expect_code(&t, HANSE_AUTH_UNKNOWN_KEY);
  /* signed by bob, claiming alice's key */
  sign_req(&t, &bob, "alice", T0, NULL);
  expect_code(&t, HANSE_AUTH_BAD_SIGNATURE);
  /* the key store failing is an environmental error, not a rejection */
  sign_req(&t, &alice, "alice", T0, NULL);
  expect_ok(&t, &v);
  ring.fail = 1;
  hanse_httpsig_policy pol = policy();
  hanse_reject rej;
  assert_int_equal(hanse_httpsig_verify(&t.r, &pol, &v, &rej), HANSE_ERR(IO));
  assert_int_equal(rej.status, 500);
  ring.fail = 0;

  /* every bit of the signature */
  char orig[HANSE_HTTPSIG_SIGNATURE_FIELD_BYTES];
  snprintf(orig, sizeof orig, "%s", treq_get(&t, "Signature"));
  hanse_httpsig_params p;
  hanse_sig sig;
  assert_int_equal(hanse_httpsig_parse(&t.r, NULL, &p, &sig, NULL), HANSE_OK);
  for (int bit = 0; bit < 8 * HANSE_SIG_BYTES; bit++) {
    hanse_sig s = sig;
    s.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    char b64[sodium_base64_ENCODED_LEN(HANSE_SIG_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, s.b, sizeof s.b, sodium_base64_VARIANT_ORIGINAL);
    char field[160];
    snprintf(field, sizeof field, "sig1=:%s:", b64);
    treq_set(&t, "Signature", field);
    expect_code(&t, HANSE_AUTH_BAD_SIGNATURE);
  }
  treq_set(&t, "Signature", orig);
  expect_ok(&t, &v);
}

/* Change one covered thing after signing: the signature must fail. */
static void test_tampering(void **state) {
  (void)state;
  treq good, t;
  hanse_httpsig_verified v;
  treq_init(&good, "POST", "/v1/chains/demo/txs", "wait=1", "{\"a\":1}");
  sign_req(&good, &alice, "alice", T0, "nonce-1");
  expect_ok(&good, &v);

  treq_copy(&t, &good);
  t.r.method = "PUT";
  expect_code(&t, HANSE_AUTH_BAD_SIGNATURE);
  treq_copy(&t, &good);
  t.r.method = "post"; /* the method is case-sensitive */
  expect_code(&t, HANSE_AUTH_BAD_SIGNATURE);
  treq_copy(&t, &good);
  t.r.path = "/v1/chains/other/txs";
  expect_code(&t, HANSE_AUTH_BAD_SIGNATURE);
  treq_copy(&t, &good);
  t.r.path = "/v1/chains/demo/txs/";
  expect_code(&t, HANSE_AUTH_BAD_SIGNATURE);
  treq_copy(&t, &good);
  t.r.query = "wait=0";
  expect_code(&t, HANSE_AUTH_BAD_SIGNATURE);
  treq_copy(&t, &good);
  t.r.query = "wait=1&x=2";
  expect_code(&t, HANSE_AUTH_BAD_SIGNATURE);
  treq_copy(&t, &good);
  t.r.query = NULL; /* query dropped: "@query" becomes "?" */
  expect_code(&t, HANSE_AUTH_BAD_SIGNATURE);

  /* body changed: the digest no longer matches */
  treq_copy(&t, &good);
  t.r.body = (const uint8_t *)"{\"a\":2}";
  expect_code(&t, HANSE_AUTH_DIGEST_MISMATCH);
  /* ... and a recomputed digest breaks the signature instead */
  char d[HANSE_HTTPSIG_DIGEST_FIELD_BYTES];
  treq_set(&t, "Content-Digest", hanse_httpsig_content_digest(d, "{\"a\":2}", 7));
  expect_code(&t, HANSE_AUTH_BAD_SIGNATURE);
  /* body removed while the digest is still covered */
  treq_copy(&t, &good);
  t.r.body = NULL;
  t.r.body_len = 0;
  expect_code(&t, HANSE_AUTH_DIGEST_MISMATCH);
  /* a digest without sha-256, a malformed one */
  treq_copy(&t, &good);
  treq_set(&t, "Content-Digest",
           "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:");
  expect_code(&t, HANSE_AUTH_DIGEST_MISMATCH);
  treq_set(&t, "Content-Digest", "sha-256=:AAAA:");
  expect_code(&t, HANSE_AUTH_MALFORMED);
  treq_set(&t, "Content-Digest", "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=");
  expect_code(&t, HANSE_AUTH_MALFORMED);
  /* the digest header itself is covered: adding a member breaks the
   * signature even though its sha-256 still matches ... */
  treq_copy(&t, &good);
  char both[200];
  snprintf(both, sizeof both, "sha-512=:AAAA:, %s", treq_get(&good, "Content-Digest"));
  treq_set(&t, "Content-Digest", both);
  expect_code(&t, HANSE_AUTH_BAD_SIGNATURE);
  /* ... while a signer that sends two algorithms is accepted */
  hanse_httpsig_params p;
  assert_int_equal(hanse_httpsig_params_for_request(&p, &t.r, T0, "alice"), HANSE_OK);
  hanse_httpsig_headers h;
  assert_int_equal(hanse_httpsig_sign(&t.r, &p, NULL, &alice, &h, NULL), HANSE_OK);
  treq_set(&t, "Signature-Input", h.signature_input);
  treq_set(&t, "Signature", h.signature);
  expect_ok(&t, &v);

  /* the signature parameters are signed too */
  const char *inputs[] = {
      ("sig1=(\"@method\" \"@path\" \"@query\" \"content-digest\");created=1700000001;"
       "keyid=\"alice\";alg=\"ed25519\";nonce=\"nonce-1\""),
      ("sig1=(\"@method\" \"@path\" \"@query\" \"content-digest\");created=1700000000;"
       "keyid=\"alice\";alg=\"ed25519\";nonce=\"nonce-2\""),
      ("sig1=(\"@method\" \"@path\" \"@query\" \"content-digest\");created=1700000000;"
       "keyid=\"bob\";alg=\"ed25519\";nonce=\"nonce-1\""),
      ("sig1=(\"@method\" \"@path\" \"@query\" \"content-digest\");created=1700000000;"
       "keyid=\"alice\";alg=\"ed25519\""),
      ("sig1=(\"@path\" \"@method\" \"@query\" \"content-digest\");created=1700000000;"
       "keyid=\"alice\";alg=\"ed25519\";nonce=\"nonce-1\""),
      ("sig1=(\"@method\" \"@path\" \"@query\" \"content-digest\");keyid=\"alice\";"
       "created=1700000000;alg=\"ed25519\";nonce=\"nonce-1\""),
  };
  for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
    treq_copy(&t, &good);
    treq_set(&t, "Signature-Input", inputs[i]);
    expect_code(&t, HANSE_AUTH_BAD_SIGNATURE);
  }
  /* unchanged text with different spacing parses to the same parameters */
  treq_copy(&t, &good);
  treq_set(&t, "Signature-Input",
           "  sig1=( \"@method\"  \"@path\" \"@query\" \"content-digest\" );created=1700000000;"
           "keyid=\"alice\";alg=\"ed25519\";nonce=\"nonce-1\"  ");
  expect_ok(&t, &v);
  /* RFC 8941: a repeated label -- the last one wins */
  treq_copy(&t, &good);
  char two[600];
  snprintf(two, sizeof two, "sig1=(\"@method\");created=1, %s",
           treq_get(&good, "Signature-Input"));
  treq_set(&t, "Signature-Input", two);
  expect_ok(&t, &v);
  /* Signature-Input split over two header instances */
  treq_copy(&t, &good);
  treq_del(&t, "Signature-Input");
  treq_add(&t, "Signature-Input", "other=(\"@method\");created=1");
  treq_add(&t, "Signature-Input", treq_get(&good, "Signature-Input"));
  expect_ok(&t, &v);
}

static void test_params_api(void **state) {
  (void)state;
  hanse_httpsig_params p;
  hanse_httpsig_params_init(&p);
  assert_int_equal(hanse_httpsig_params_add_component(&p, "@method"), HANSE_OK);
  assert_int_equal(hanse_httpsig_params_add_component(&p, "@method"), HANSE_ERR(INVALID));
  assert_int_equal(hanse_httpsig_params_add_component(&p, "Content-Type"), HANSE_ERR(INVALID));
  assert_int_equal(hanse_httpsig_params_add_component(&p, "a\"b"), HANSE_ERR(INVALID));
  assert_int_equal(hanse_httpsig_params_add_component(&p, ""), HANSE_ERR(INVALID));
  assert_int_equal(hanse_httpsig_params_add_component(&p, "@"), HANSE_ERR(INVALID));
  assert_int_equal(hanse_httpsig_params_add_component(&p, "@signature-params"),
                   HANSE_ERR(INVALID));
  assert_int_equal(hanse_httpsig_params_add_component(&p, NULL), HANSE_ERR(INVALID));
  char longname[HANSE_HTTPSIG_NAME_MAX + 1];
  memset(longname, 'a', sizeof longname - 1);
  longname[sizeof longname - 1] = 0;
  assert_int_equal(hanse_httpsig_params_add_component(&p, longname), HANSE_ERR(INVALID));
  for (int i = 1; i < HANSE_HTTPSIG_COMPONENTS_MAX; i++) {
    char n[16];
    snprintf(n, sizeof n, "h%d", i);
    assert_int_equal(hanse_httpsig_params_add_component(&p, n), HANSE_OK);
  }
  assert_int_equal(hanse_httpsig_params_add_component(&p, "one-more"), HANSE_ERR(INVALID));

  assert_int_equal(hanse_httpsig_params_set_created(&p, -1), HANSE_ERR(INVALID));
  assert_int_equal(hanse_httpsig_params_set_created(&p, 1000000000000000LL),
                   HANSE_ERR(INVALID));
  assert_int_equal(hanse_httpsig_params_set_keyid(&p, "tab\there"), HANSE_ERR(INVALID));
  assert_int_equal(hanse_httpsig_params_has(&p, HANSE_HTTPSIG_P_CREATED), 0);

  /* escaping round trip: a keyid with '"' and '\' */
  treq t;
  treq_init(&t, "GET", "/p", NULL, NULL);
  assert_int_equal(hanse_httpsig_params_for_request(&p, &t.r, T0, "we\"ird\\id"), HANSE_OK);
  assert_int_equal(hanse_httpsig_params_set_tag(&p, "hanse"), HANSE_OK);
  assert_int_equal(hanse_httpsig_params_set_created(&p, T0 + 1), HANSE_OK); /* in place */
  hanse_buf b;
  hanse_buf_init(&b);
  assert_int_equal(hanse_httpsig_params_serialize(&p, &b), HANSE_OK);
  const char *want = "(\"@method\" \"@path\");created=1700000001;keyid=\"we\\\"ird\\\\id\";"
                     "alg=\"ed25519\";tag=\"hanse\"";
  assert_int_equal(b.len, strlen(want));
  assert_memory_equal(b.data, want, b.len);
  hanse_buf_free(&b);
  hanse_httpsig_headers h;
  assert_int_equal(hanse_httpsig_sign(&t.r, &p, "my-sig", &alice, &h, NULL), HANSE_OK);
  treq_set(&t, "Signature-Input", h.signature_input);
  treq_set(&t, "Signature", h.signature);
  hanse_httpsig_params q;
  hanse_sig sig;
  assert_int_equal(hanse_httpsig_parse(&t.r, "my-sig", &q, &sig, NULL), HANSE_OK);
  assert_string_equal(q.keyid, "we\"ird\\id");
  assert_string_equal(q.tag, "hanse");
  assert_int_equal(q.created, T0 + 1);
  assert_int_equal(memcmp(q.order, p.order, sizeof p.order), 0);
  /* bad labels */
  hanse_reject rej;
  assert_int_equal(hanse_httpsig_sign(&t.r, &p, "Sig", &alice, &h, &rej), HANSE_ERR(INVALID));
  assert_int_equal(hanse_httpsig_sign(&t.r, &p, "", &alice, &h, &rej), HANSE_ERR(INVALID));
}

/* ---- Replay cache ---------------------------------------------------------------- */

static void verified_for(hanse_httpsig_verified *v, const char *keyid,
                         int64_t created, const char *nonce) {
  treq t;
  treq_init(&t, "GET", "/p", NULL, NULL);
  sign_req(&t, strcmp(keyid, "alice") == 0 ? &alice : &bob, keyid, created, nonce);
  hanse_httpsig_policy pol = policy();
  pol.now_s = created;
  assert_int_equal(hanse_httpsig_verify(&t.r, &pol, v, NULL), HANSE_OK);
}

static void test_replay_cache(void **state) {
  (void)state;
  hanse_httpsig_replay *r;
  assert_int_equal(hanse_httpsig_replay_create(0, 60, &r), HANSE_ERR(INVALID));
  assert_int_equal(hanse_httpsig_replay_create(16, -1, &r), HANSE_ERR(INVALID));
  assert_int_equal(hanse_httpsig_replay_create(100, MAX_AGE, &r), HANSE_OK);

  hanse_httpsig_verified a, a2, b, c;
  verified_for(&a, "alice", T0, "n1");
  verified_for(&a2, "alice", T0, "n1"); /* the same request again */
  verified_for(&b, "alice", T0, "n2");  /* another nonce */
  verified_for(&c, "bob", T0, "n1");    /* another key, same nonce */
  assert_memory_equal(a.replay_id.b, a2.replay_id.b, HANSE_HASH_BYTES);

  hanse_reject rej;
  assert_int_equal(hanse_httpsig_replay_check(r, &a, T0, &rej), HANSE_OK);
  assert_int_equal(hanse_httpsig_replay_check(r, &a2, T0 + 1, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, HANSE_AUTH_REPLAYED);
  assert_int_equal(rej.status, 401);
  assert_int_equal(hanse_httpsig_replay_check(r, &b, T0, NULL), HANSE_OK);
  assert_int_equal(hanse_httpsig_replay_check(r, &c, T0, NULL), HANSE_OK);
  assert_int_equal(hanse_httpsig_replay_count(r, T0), 3);
  /* still remembered at the last second the signature is acceptable */
  assert_int_equal(hanse_httpsig_replay_check(r, &a, T0 + MAX_AGE, NULL), HANSE_ERR(INVALID));
  /* forgotten after the window (the verifier rejects it as expired anyway) */
  assert_int_equal(hanse_httpsig_replay_count(r, T0 + MAX_AGE + 1), 0);
  assert_int_equal(hanse_httpsig_replay_check(r, &a, T0 + MAX_AGE + 1, NULL), HANSE_OK);

  /* without a nonce the signature is the identity: distinct requests in
   * the same second pass, the very same one does not */
  hanse_httpsig_verified x, y;
  treq t;
  treq_init(&t, "GET", "/p1", NULL, NULL);
  sign_req(&t, &alice, "alice", T0, NULL);
  expect_ok(&t, &x);
  treq_init(&t, "GET", "/p2", NULL, NULL);
  sign_req(&t, &alice, "alice", T0, NULL);
  expect_ok(&t, &y);
  assert_int_equal(hanse_httpsig_replay_check(r, &x, T0, NULL), HANSE_OK);
  assert_int_equal(hanse_httpsig_replay_check(r, &y, T0, NULL), HANSE_OK);
  assert_int_equal(hanse_httpsig_replay_check(r, &y, T0, NULL), HANSE_ERR(INVALID));
  hanse_httpsig_replay_destroy(r);

  /* a full table fails closed with 503, and expired slots are reused */
  assert_int_equal(hanse_httpsig_replay_create(1, 10, &r), HANSE_OK);
  assert_int_equal(hanse_httpsig_replay_check(r, &a, T0, NULL), HANSE_OK);
  assert_int_equal(hanse_httpsig_replay_check(r, &b, T0, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, HANSE_AUTH_REPLAY_FULL);
  assert_int_equal(rej.status, 503);
  hanse_httpsig_verified late = b;
  late.created = T0 + 11; /* accepted at T0 + 11, so live until T0 + 21 */
  assert_int_equal(hanse_httpsig_replay_check(r, &late, T0 + 11, NULL), HANSE_OK);
  assert_int_equal(hanse_httpsig_replay_check(r, &late, T0 + 21, NULL), HANSE_ERR(INVALID));
  assert_int_equal(hanse_httpsig_replay_check(r, &late, T0 + 22, NULL), HANSE_OK);
  hanse_httpsig_replay_destroy(r);
  hanse_httpsig_replay_destroy(NULL);

  /* many distinct ids in a table 4x their number: all accepted once */
  assert_int_equal(hanse_httpsig_replay_create(4096, 60, &r), HANSE_OK);
  hanse_httpsig_verified many;
  memset(&many, 0, sizeof many);
  many.created = T0;
  for (uint32_t i = 0; i < 1024; i++) {
    hanse_sha256(&many.replay_id, &i, sizeof i);
    assert_int_equal(hanse_httpsig_replay_check(r, &many, T0, NULL), HANSE_OK);
  }
  for (uint32_t i = 0; i < 1024; i++) {
    hanse_sha256(&many.replay_id, &i, sizeof i);
    assert_int_equal(hanse_httpsig_replay_check(r, &many, T0, NULL), HANSE_ERR(INVALID));
  }
  assert_int_equal(hanse_httpsig_replay_count(r, T0), 1024);
  hanse_httpsig_replay_destroy(r);
}

#define THREADS 4
#define IDS 500

typedef struct race {
  hanse_httpsig_replay *r;
  int accepted;
} race;

static void *race_main(void *arg) {
  race *rc = arg;
  hanse_httpsig_verified v;
  memset(&v, 0, sizeof v);
  v.created = T0;
  for (uint32_t i = 0; i < IDS; i++) {
    hanse_sha256(&v.replay_id, &i, sizeof i);
    if (hanse_httpsig_replay_check(rc->r, &v, T0, NULL) == HANSE_OK) rc->accepted++;
  }
  return NULL;
}

static void test_replay_threads(void **state) {
  (void)state;
  hanse_httpsig_replay *r;
  assert_int_equal(hanse_httpsig_replay_create(4 * IDS, 60, &r), HANSE_OK);
  pthread_t th[THREADS];
  race rc[THREADS];
  for (int i = 0; i < THREADS; i++) {
    rc[i].r = r;
    rc[i].accepted = 0;
    assert_int_equal(pthread_create(&th[i], NULL, race_main, &rc[i]), 0);
  }
  int total = 0;
  for (int i = 0; i < THREADS; i++) {
    pthread_join(th[i], NULL);
    total += rc[i].accepted;
  }
  assert_int_equal(total, IDS); /* each id accepted exactly once */
  hanse_httpsig_replay_destroy(r);
}

int main(void) {
  if (sodium_init() < 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rfc9421_vectors),
      cmocka_unit_test(test_round_trips),
      cmocka_unit_test(test_missing_and_malformed),
      cmocka_unit_test(test_components),
      cmocka_unit_test(test_window),
      cmocka_unit_test(test_keys_and_signatures),
      cmocka_unit_test(test_tampering),
      cmocka_unit_test(test_params_api),
      cmocka_unit_test(test_replay_cache),
      cmocka_unit_test(test_replay_threads),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
