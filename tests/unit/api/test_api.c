/*
 * test_api.c -- the HTTP API (docs/API.md) served by an in-process node.
 *
 * Each test builds a data directory the way `hanse init` leaves it (the
 * node key written with hanse_keyfile_write at <dir>/node.key, the chain
 * created with hanse_chain_create at <dir>/chains/test), opens a node on
 * 127.0.0.1 with port 0 and talks to it with libcurl; the node is closed
 * and the directory removed afterwards, so the run is clean under ASan.
 *
 * What is checked, route by route: the error contract (every error is
 * JSON {"error":{"code","message"}} with its status: 404 for unknown
 * routes, chains, transactions and blocks, 405 with the Allow header, 413
 * for a body announced too large, 415 for other media types, 400 for bad
 * JSON, parameters and truncated entries); submission in both body forms
 * with wait=1 (200, one committed result per transaction, a resubmission
 * answered without a new block, a stale sequence 409, a bad signature
 * rejected and counted); GET of a transaction with a proof the client
 * library verifies; block ranges (latest, from/to, cut at the tip, empty
 * past it, 400 beyond 100) and single blocks by height and hash; search
 * by height, block hash, transaction id and of a pending transaction;
 * account sequence numbers that count pending transactions; the genesis;
 * the metrics text with exact counters; the explorer's files with their
 * content types.
 *
 * The pending tests run a node with a one-minute block interval: its
 * sequencer cuts the first block at once and then holds what follows.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "base/hex.h"
#include "fixture.h"
#include "hanse/client.h"
#include "node/node.h"

#define CHAIN FX_CHAIN_ID

typedef struct api_env {
  char dir[256];
  hanse_keypair node, alice, bob, carol;
  hanse_node *n;
  char base[64];
  CURL *curl;
  hanse_client *client;
} api_env;

static const char *pkhex(const hanse_pubkey *pk) {
  static char buf[4][HANSE_HASH_HEX_BYTES];
  static int i;
  i = (i + 1) % 4;
  return fx_hex(buf[i], pk);
}

static const char *idhex(const hanse_hash *h) {
  static char buf[4][HANSE_HASH_HEX_BYTES];
  static int i;
  i = (i + 1) % 4;
  return hanse_hash_hex(buf[i], h);
}

/* ---- the node ------------------------------------------------------------ */

static void env_open(api_env *e, int interval_ms) {
  memset(e, 0, sizeof *e);
  const char *tmp = getenv("TMPDIR");
  snprintf(e->dir, sizeof e->dir, "%s/hanse-api-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp(e->dir) == NULL) fail_msg("mkdtemp %s failed", e->dir);
  fx_key(&e->node, 0x01);
  fx_key(&e->alice, 0xa1);
  fx_key(&e->bob, 0xb0);
  fx_key(&e->carol, 0xc0);
  char path[400];
  snprintf(path, sizeof path, "%s/node.key", e->dir);
  assert_int_equal(hanse_keyfile_write(path, &e->node), HANSE_OK);
  json_t *g = json_pack("{s:s, s:[{s:s, s:s, s:s, s:[s]}], s:[s]}", "chain_id", CHAIN,
                        "organisations", "id", "acme", "name", "ACME Ltd", "role",
                        "manufacturer", "keys", pkhex(&e->alice.pub), "validators",
                        pkhex(&e->node.pub));
  assert_non_null(g);
  snprintf(path, sizeof path, "%s/chains/%s", e->dir, CHAIN);
  hanse_reject rej;
  int rc = hanse_chain_create(path, g, &e->node, FX_T0_MS, &rej);
  json_decref(g);
  if (rc != HANSE_OK) fail_msg("hanse_chain_create: %s: %s", rej.code, rej.message);
  hanse_node_config cfg = {.data_dir = e->dir,
                           .host = "127.0.0.1",
                           .port = 0,
                           .block_interval_ms = interval_ms,
                           .block_max_txs = 0,
                           .verify_threads = 2};
  rc = hanse_node_open(&cfg, &e->n, &rej);
  if (rc != HANSE_OK) fail_msg("hanse_node_open: %s: %s", rej.code, rej.message);
  assert_true(e->n->port > 0);
  snprintf(e->base, sizeof e->base, "http://127.0.0.1:%d", e->n->port);
  e->curl = curl_easy_init();
  assert_non_null(e->curl);
  rc = hanse_client_create(e->base, CHAIN, &e->client, &rej);
  assert_int_equal(rc, HANSE_OK);
}

static void env_close(api_env *e) {
  hanse_client_destroy(e->client);
  if (e->curl) curl_easy_cleanup(e->curl);
  hanse_node_close(e->n);
  if (e->dir[0]) fx_rmrf(e->dir);
  hanse_keypair_wipe(&e->node);
  hanse_keypair_wipe(&e->alice);
  hanse_keypair_wipe(&e->bob);
  hanse_keypair_wipe(&e->carol);
}

static int setup_node(void **state) {
  api_env *e = calloc(1, sizeof *e);
  if (e == NULL) return -1;
  env_open(e, 10);
  *state = e;
  return 0;
}

static int setup_slow_node(void **state) {
  api_env *e = calloc(1, sizeof *e);
  if (e == NULL) return -1;
  env_open(e, 60000);
  *state = e;
  return 0;
}

static int teardown_node(void **state) {
  api_env *e = *state;
  env_close(e);
  free(e);
  return 0;
}

/* ---- HTTP ------------------------------------------------------------------ */

typedef struct resp {
  long status;
  char ctype[128];
  char allow[64];
  char cache[64];
  hanse_buf body;
  json_t *json;
} resp;

static void resp_free(resp *r) {
  hanse_buf_free(&r->body);
  json_decref(r->json);
  memset(r, 0, sizeof *r);
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx) {
  hanse_buf_put(ctx, p, size * n);
  return size * n;
}

static void header_value(const char *line, size_t len, const char *name, char *out, size_t cap) {
  size_t nl = strlen(name);
  if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':') return;
  const char *v = line + nl + 1;
  size_t vl = len - nl - 1;
  while (vl && (*v == ' ')) v++, vl--;
  while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' ')) vl--;
  if (vl >= cap) vl = cap - 1;
  memcpy(out, v, vl);
  out[vl] = 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx) {
  resp *r = ctx;
  size_t len = size * n;
  header_value(p, len, "Content-Type", r->ctype, sizeof r->ctype);
  header_value(p, len, "Allow", r->allow, sizeof r->allow);
  header_value(p, len, "Cache-Control", r->cache, sizeof r->cache);
  return len;
}

static void http(api_env *e, const char *method, const char *path, const char *ctype,
                 const void *body, size_t len, resp *r) {
  memset(r, 0, sizeof *r);
  hanse_buf_init(&r->body);
  char url[1024];
  snprintf(url, sizeof url, "%s%s", e->base, path);
  CURL *k = e->curl;
  curl_easy_reset(k);
  curl_easy_setopt(k, CURLOPT_URL, url);
  curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(k, CURLOPT_TIMEOUT_MS, 20000L);
  curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(k, CURLOPT_WRITEDATA, &r->body);
  curl_easy_setopt(k, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(k, CURLOPT_HEADERDATA, r);
  struct curl_slist *hs = NULL;
  char ct[160];
  snprintf(ct, sizeof ct, "Content-Type: %s", ctype ? ctype : "");
  hs = curl_slist_append(hs, "Expect:");
  if (ctype) hs = curl_slist_append(hs, ct);
  curl_easy_setopt(k, CURLOPT_HTTPHEADER, hs);
  if (strcmp(method, "GET") == 0) {
    curl_easy_setopt(k, CURLOPT_HTTPGET, 1L);
  } else if (strcmp(method, "HEAD") == 0) {
    curl_easy_setopt(k, CURLOPT_NOBODY, 1L);
  } else if (strcmp(method, "POST") == 0) {
    curl_easy_setopt(k, CURLOPT_POST, 1L);
    curl_easy_setopt(k, CURLOPT_POSTFIELDS, body ? body : "");
    curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
  } else {
    curl_easy_setopt(k, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
      curl_easy_setopt(k, CURLOPT_POSTFIELDS, body);
      curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
  }
  CURLcode cc = curl_easy_perform(k);
  curl_slist_free_all(hs);
  if (cc != CURLE_OK) fail_msg("%s %s: %s", method, path, curl_easy_strerror(cc));
  curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, &r->status);
  assert_int_equal(hanse_buf_status(&r->body), HANSE_OK);
  if (r->body.len)
    r->json = json_loadb((const char *)r->body.data, r->body.len, JSON_DECODE_ANY, NULL);
}

static void get(api_env *e, const char *path, resp *r) { http(e, "GET", path, NULL, NULL, 0, r); }

/* GET and require 200 JSON; returns a new reference. */
static json_t *get_ok(api_env *e, const char *path) {
  resp r;
  get(e, path, &r);
  if (r.status != 200 || r.json == NULL)
    fail_msg("GET %s: %ld %.*s", path, r.status, (int)r.body.len, (const char *)r.body.data);
  assert_string_equal(r.ctype, "application/json");
  json_t *j = json_incref(r.json);
  resp_free(&r);
  return j;
}

static void check_error(const resp *r, long status, const char *code, int line) {
  const char *got = json_string_value(
      json_object_get(json_object_get(r->json, "error"), "code"));
  if (r->status != status || got == NULL || strcmp(got, code) != 0)
    fail_msg("line %d: want %ld %s, got %ld %.*s", line, status, code, r->status,
             (int)r->body.len, (const char *)r->body.data);
  assert_string_equal(r->ctype, "application/json");
  const char *msg = json_string_value(
      json_object_get(json_object_get(r->json, "error"), "message"));
  assert_non_null(msg);
  assert_true(strlen(msg) > 0);
  assert_int_equal(json_object_size(json_object_get(r->json, "error")), 2);
}
#define CHECK_ERROR(r, status, code) check_error(r, status, code, __LINE__)

static void expect_error(api_env *e, const char *method, const char *path, const char *ctype,
                         const char *body, long status, const char *code, const char *allow,
                         int line) {
  resp r;
  http(e, method, path, ctype, body, body ? strlen(body) : 0, &r);
  check_error(&r, status, code, line);
  if (allow) {
    if (strcmp(r.allow, allow) != 0)
      fail_msg("line %d: %s %s: Allow '%s', want '%s'", line, method, path, r.allow, allow);
  }
  resp_free(&r);
}
#define EXPECT_ERROR(e, m, p, ct, b, st, code, allow) \
  expect_error(e, m, p, ct, b, st, code, allow, __LINE__)

/* ---- transactions ---------------------------------------------------------- */

/* Append a binary stream entry. */
static void put_entry(hanse_buf *stream, uint8_t type, const uint8_t *p, size_t n) {
  hanse_buf_u8(stream, type);
  hanse_buf_u32(stream, (uint32_t)n);
  hanse_buf_put(stream, p, n);
}

/* A signed transaction of `kp` (kind, seq, printf payload) appended to a
 * stream; its id in *id. */
static void put_tx(hanse_buf *stream, const hanse_keypair *kp, const char *kind, uint64_t seq,
                   hanse_hash *id, const char *payload) {
  hanse_buf tx;
  hanse_buf_init(&tx);
  fx_tx(&tx, kp, CHAIN, kind, seq, 0, "%s", payload);
  if (id) hanse_sha256(id, tx.data, tx.len);
  put_entry(stream, HANSE_TYPE_TX, tx.data, tx.len);
  hanse_buf_free(&tx);
}

static char *tx_hex(const hanse_keypair *kp, const char *kind, uint64_t seq, hanse_hash *id,
                    const char *payload) {
  hanse_buf tx;
  hanse_buf_init(&tx);
  fx_tx(&tx, kp, CHAIN, kind, seq, 0, "%s", payload);
  if (id) hanse_sha256(id, tx.data, tx.len);
  char *hex = malloc(2 * tx.len + 1);
  assert_non_null(hex);
  hanse_hex_encode(hex, tx.data, tx.len);
  hanse_buf_free(&tx);
  return hex;
}

static void post_stream(api_env *e, const char *query, const hanse_buf *stream, resp *r) {
  char path[200];
  snprintf(path, sizeof path, "/v1/chains/%s/txs%s", CHAIN, query ? query : "");
  http(e, "POST", path, "application/octet-stream", stream->data, stream->len, r);
}

static json_t *result_at(const resp *r, size_t i) {
  return json_array_get(json_object_get(r->json, "results"), i);
}

static const char *rfield(const resp *r, size_t i, const char *f) {
  return json_string_value(json_object_get(result_at(r, i), f));
}

static uint64_t chain_height(api_env *e) {
  json_t *s = get_ok(e, "/v1/chains/" CHAIN "/status");
  uint64_t h = (uint64_t)json_integer_value(json_object_get(s, "height"));
  json_decref(s);
  return h;
}

/* One anchor by `kp` at `seq`, waiting for its block. */
static void anchor_wait(api_env *e, const hanse_keypair *kp, uint64_t seq, hanse_hash *id) {
  hanse_buf s;
  hanse_buf_init(&s);
  char payload[100];
  snprintf(payload, sizeof payload, "{\"hash\":\"%064llu\"}", (unsigned long long)seq);
  put_tx(&s, kp, "notary.anchor", seq, id, payload);
  resp r;
  post_stream(e, "?wait=1", &s, &r);
  if (r.status != 200) fail_msg("anchor: %ld %.*s", r.status, (int)r.body.len, (const char *)r.body.data);
  assert_string_equal(rfield(&r, 0, "status"), "committed");
  assert_string_equal(rfield(&r, 0, "code"), "ok");
  resp_free(&r);
  hanse_buf_free(&s);
}

/* ---- tests: routes and errors ---------------------------------------------- */

static void test_health_and_status(void **state) {
  api_env *e = *state;
  resp r;
  get(e, "/v1/health", &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(r.ctype, "application/json");
  assert_string_equal(r.cache, "no-store");
  assert_true(json_is_true(json_object_get(r.json, "ok")));
  resp_free(&r);

  json_t *s = get_ok(e, "/v1/status");
  assert_string_equal(json_string_value(json_object_get(s, "node_key")), pkhex(&e->node.pub));
  json_t *chains = json_object_get(s, "chains");
  assert_int_equal(json_array_size(chains), 1);
  assert_string_equal(json_string_value(json_array_get(chains, 0)), CHAIN);
  assert_true(json_is_string(json_object_get(s, "version")));
  assert_true(json_integer_value(json_object_get(s, "uptime_ms")) >= 0);
  json_decref(s);

  json_t *a = get_ok(e, "/v1/chains/" CHAIN "/status");
  json_t *b = get_ok(e, "/v1/chains/" CHAIN);
  json_t *c = get_ok(e, "/v1/chains/" CHAIN "/");
  assert_true(json_equal(a, b));
  assert_true(json_equal(a, c));
  assert_string_equal(json_string_value(json_object_get(a, "chain_id")), CHAIN);
  assert_int_equal(json_integer_value(json_object_get(a, "height")), 0);
  assert_int_equal(json_integer_value(json_object_get(a, "tx_count")), 0);
  assert_int_equal(json_integer_value(json_object_get(a, "mempool_depth")), 0);
  assert_int_equal(json_integer_value(json_object_get(a, "block_interval_ms")), 10);
  assert_int_equal(json_integer_value(json_object_get(a, "block_max_txs")), HANSE_BLOCK_TXS_DEFAULT);
  assert_true(json_is_false(json_object_get(a, "store_failed")));
  json_decref(a);
  json_decref(b);
  json_decref(c);
}

static void test_not_found_and_methods(void **state) {
  api_env *e = *state;
  char zeros[65];
  memset(zeros, '0', 64);
  zeros[64] = 0;
  char p[300];

  EXPECT_ERROR(e, "GET", "/v1/nope", NULL, NULL, 404, "http.not_found", NULL);
  EXPECT_ERROR(e, "GET", "/v1", NULL, NULL, 404, "http.not_found", NULL);
  EXPECT_ERROR(e, "GET", "/v1/chains/nochain/status", NULL, NULL, 404, "chain.unknown", NULL);
  EXPECT_ERROR(e, "GET", "/v1/chains/nochain", NULL, NULL, 404, "chain.unknown", NULL);
  EXPECT_ERROR(e, "GET", "/v1/chains/" CHAIN "/nothing", NULL, NULL, 404, "http.not_found", NULL);
  EXPECT_ERROR(e, "GET", "/v1/chains/" CHAIN "/status/x", NULL, NULL, 404, "http.not_found", NULL);
  EXPECT_ERROR(e, "GET", "/v1/chains/" CHAIN "/genesis/x", NULL, NULL, 404, "http.not_found", NULL);
  EXPECT_ERROR(e, "GET", "/v1/chains/" CHAIN "/search/x", NULL, NULL, 404, "http.not_found", NULL);
  snprintf(p, sizeof p, "/v1/chains/%s/txs/%s/x", CHAIN, zeros);
  EXPECT_ERROR(e, "GET", p, NULL, NULL, 404, "http.not_found", NULL);
  snprintf(p, sizeof p, "/v1/chains/%s/txs/%s", CHAIN, zeros);
  EXPECT_ERROR(e, "GET", p, NULL, NULL, 404, "tx.not_found", NULL);
  EXPECT_ERROR(e, "GET", "/v1/chains/" CHAIN "/blocks/7", NULL, NULL, 404, "block.not_found", NULL);
  snprintf(p, sizeof p, "/v1/chains/%s/blocks/hash/%s", CHAIN, zeros);
  EXPECT_ERROR(e, "GET", p, NULL, NULL, 404, "block.not_found", NULL);
  EXPECT_ERROR(e, "GET", "/v1/chains/" CHAIN "/query/asset", NULL, NULL, 404, "http.not_found", NULL);
  EXPECT_ERROR(e, "GET", "/v1/chains/" CHAIN "/query/asset/", NULL, NULL, 404, "http.not_found", NULL);
  EXPECT_ERROR(e, "GET", "/v1/chains/" CHAIN "/query/asset/nope", NULL, NULL, 404, "query.unknown",
               NULL);
  EXPECT_ERROR(e, "GET", "/v1/chains/" CHAIN "/query/nomod/assets", NULL, NULL, 404,
               "query.unknown", NULL);
  EXPECT_ERROR(e, "GET", "/nope.html", NULL, NULL, 404, "http.not_found", NULL);

  /* 405 names what is allowed */
  EXPECT_ERROR(e, "POST", "/v1/health", "application/json", "{}", 405, "http.method_not_allowed",
               "GET");
  EXPECT_ERROR(e, "POST", "/v1/status", "application/json", "{}", 405, "http.method_not_allowed",
               "GET");
  EXPECT_ERROR(e, "POST", "/metrics", "application/json", "{}", 405, "http.method_not_allowed",
               "GET");
  EXPECT_ERROR(e, "DELETE", "/", NULL, NULL, 405, "http.method_not_allowed", "GET");
  EXPECT_ERROR(e, "PUT", "/app.js", "text/plain", "x", 405, "http.method_not_allowed", "GET");
  EXPECT_ERROR(e, "GET", "/v1/chains/" CHAIN "/txs", NULL, NULL, 405, "http.method_not_allowed",
               "POST");
  EXPECT_ERROR(e, "PUT", "/v1/chains/" CHAIN "/txs/", "application/json", "{}", 405,
               "http.method_not_allowed", "POST");
  snprintf(p, sizeof p, "/v1/chains/%s/txs/%s", CHAIN, zeros);
  EXPECT_ERROR(e, "POST", p, "application/json", "{}", 405, "http.method_not_allowed", "GET");
  EXPECT_ERROR(e, "POST", "/v1/chains/" CHAIN "/blocks", "application/json", "{}", 405,
               "http.method_not_allowed", "GET");
  EXPECT_ERROR(e, "DELETE", "/v1/chains/" CHAIN "/blocks/1", NULL, NULL, 405,
               "http.method_not_allowed", "GET");
  EXPECT_ERROR(e, "POST", "/v1/chains/" CHAIN "/status", "application/json", "{}", 405,
               "http.method_not_allowed", "GET");
  EXPECT_ERROR(e, "POST", "/v1/chains/" CHAIN, "application/json", "{}", 405,
               "http.method_not_allowed", "GET");
  EXPECT_ERROR(e, "POST", "/v1/chains/" CHAIN "/search?q=1", "application/json", "{}", 405,
               "http.method_not_allowed", "GET");
  EXPECT_ERROR(e, "POST", "/v1/chains/" CHAIN "/genesis", "application/json", "{}", 405,
               "http.method_not_allowed", "GET");
  EXPECT_ERROR(e, "POST", "/v1/chains/" CHAIN "/accounts/x", "application/json", "{}", 405,
               "http.method_not_allowed", "GET");
  EXPECT_ERROR(e, "POST", "/v1/chains/" CHAIN "/query/asset/assets", "application/json", "{}", 405,
               "http.method_not_allowed", "GET");
}

static void test_bad_requests(void **state) {
  api_env *e = *state;
  const char *txs = "/v1/chains/" CHAIN "/txs";
  /* 415: other media types, also near misses */
  EXPECT_ERROR(e, "POST", txs, "text/plain", "{}", 415, "http.unsupported_media_type", NULL);
  EXPECT_ERROR(e, "POST", txs, "application/jsonx", "{}", 415, "http.unsupported_media_type", NULL);
  EXPECT_ERROR(e, "POST", txs, "application/x-www-form-urlencoded", "a=b", 415,
               "http.unsupported_media_type", NULL);
  /* parameters after the media type are fine: then the JSON is judged */
  EXPECT_ERROR(e, "POST", txs, "application/json; charset=utf-8", "{", 400, "http.bad_json", NULL);
  EXPECT_ERROR(e, "POST", txs, "application/json", "{\"txs\":[1],\"txs\":[2]}", 400,
               "http.bad_json", NULL);
  static const char *bad_bodies[] = {
      "{}", "[]", "{\"txs\":\"ab\"}", "{\"txs\":[]}", "{\"batches\":{}}", "{\"tx\":5}",
      "{\"txs\":[\"zz\"]}", "{\"txs\":[\"abc\"]}", "{\"txs\":[7]}", "{\"batches\":[null]}", NULL};
  for (int i = 0; bad_bodies[i]; i++)
    EXPECT_ERROR(e, "POST", txs, "application/json", bad_bodies[i], 400, "http.bad_param", NULL);
  /* binary: an entry cut short; no entry at all */
  resp r;
  static const uint8_t cut[] = {1, 0, 0, 0, 9, 'a', 'b'};
  http(e, "POST", txs, "application/octet-stream", cut, sizeof cut, &r);
  CHECK_ERROR(&r, 400, "decode.truncated");
  resp_free(&r);
  static const uint8_t head_only[] = {1, 0, 0};
  http(e, "POST", txs, "application/octet-stream", head_only, sizeof head_only, &r);
  CHECK_ERROR(&r, 400, "decode.truncated");
  resp_free(&r);
  http(e, "POST", txs, "application/octet-stream", "", 0, &r);
  CHECK_ERROR(&r, 400, "http.bad_param");
  resp_free(&r);
  /* an entry that is not a transaction: one rejected result */
  static const uint8_t junk[] = {1, 0, 0, 0, 3, 'a', 'b', 'c'};
  http(e, "POST", txs, "application/octet-stream", junk, sizeof junk, &r);
  assert_int_equal(r.status, 400);
  assert_int_equal(json_integer_value(json_object_get(r.json, "accepted")), 0);
  assert_int_equal(json_integer_value(json_object_get(r.json, "rejected")), 1);
  assert_string_equal(rfield(&r, 0, "status"), "rejected");
  assert_true(json_is_null(json_object_get(result_at(&r, 0), "id")));
  assert_true(json_is_string(json_object_get(json_object_get(r.json, "error"), "code")));
  resp_free(&r);
  /* wait and timeout_ms */
  EXPECT_ERROR(e, "POST", "/v1/chains/" CHAIN "/txs?wait=2", "application/json", "{\"txs\":[]}",
               400, "http.bad_param", NULL);
  EXPECT_ERROR(e, "POST", "/v1/chains/" CHAIN "/txs?wait=yes", "application/json", "{}", 400,
               "http.bad_param", NULL);
  EXPECT_ERROR(e, "POST", "/v1/chains/" CHAIN "/txs?wait=1&timeout_ms=60001", "application/json",
               "{}", 400, "http.bad_param", NULL);
  EXPECT_ERROR(e, "POST", "/v1/chains/" CHAIN "/txs?timeout_ms=-1", "application/json", "{}", 400,
               "http.bad_param", NULL);
  /* ids, heights, hashes, keys, search terms */
  EXPECT_ERROR(e, "GET", "/v1/chains/" CHAIN "/txs/xyz", NULL, NULL, 400, "http.bad_param", NULL);
  EXPECT_ERROR(e, "GET", "/v1/chains/" CHAIN "/blocks/abc", NULL, NULL, 400, "http.bad_param", NULL);
  EXPECT_ERROR(e, "GET", "/v1/chains/" CHAIN "/blocks/-1", NULL, NULL, 400, "http.bad_param", NULL);
  EXPECT_ERROR(e, "GET", "/v1/chains/" CHAIN "/blocks/12345678901234567890", NULL, NULL, 400,
               "http.bad_param", NULL);
  EXPECT_ERROR(e, "GET", "/v1/chains/" CHAIN "/blocks/hash/abc", NULL, NULL, 400, "http.bad_param",
               NULL);
  EXPECT_ERROR(e, "GET", "/v1/chains/" CHAIN "/accounts/abc", NULL, NULL, 400, "http.bad_param",
               NULL);
  EXPECT_ERROR(e, "GET", "/v1/chains/" CHAIN "/accounts", NULL, NULL, 400, "http.bad_param", NULL);
  EXPECT_ERROR(e, "GET", "/v1/chains/" CHAIN "/search", NULL, NULL, 400, "http.bad_param", NULL);
  EXPECT_ERROR(e, "GET", "/v1/chains/" CHAIN "/search?q=", NULL, NULL, 400, "http.bad_param", NULL);
  EXPECT_ERROR(e, "GET", "/v1/chains/" CHAIN "/search?q=xyz", NULL, NULL, 400, "http.bad_param",
               NULL);
  /* nothing of this changed the chain */
  assert_true(chain_height(e) == 0);
}

/* A body announced larger than the bound is refused before it is sent:
 * spoken over a raw socket, since no client library would announce 50 MB
 * and then send nothing. */
static void test_body_too_large(void **state) {
  api_env *e = *state;
  int s = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(s >= 0);
  struct timeval tv = {10, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)e->n->port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(s, (struct sockaddr *)&sa, sizeof sa), 0);
  char req[300];
  int n = snprintf(req, sizeof req,
                   "POST /v1/chains/%s/txs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n",
                   CHAIN, HANSE_HTTP_BODY_MAX + 1);
  assert_int_equal(send(s, req, (size_t)n, MSG_NOSIGNAL), n);
  char buf[4096];
  size_t got = 0;
  char *body = NULL;
  for (;;) {
    ssize_t k = recv(s, buf + got, sizeof buf - 1 - got, 0);
    if (k <= 0) break;
    got += (size_t)k;
    buf[got] = 0;
    body = strstr(buf, "\r\n\r\n");
    if (body) {
      const char *cl = strcasestr(buf, "Content-Length:");
      if (cl && got - (size_t)(body + 4 - buf) >= strtoul(cl + 15, NULL, 10)) break;
    }
    if (got == sizeof buf - 1) break;
  }
  close(s);
  buf[got] = 0;
  if (strncmp(buf, "HTTP/1.1 413", 12) != 0) fail_msg("want 413, got: %.200s", buf);
  assert_non_null(body);
  assert_non_null(strcasestr(buf, "Content-Type: application/json"));
  json_t *j = json_loads(body + 4, 0, NULL);
  assert_non_null(j);
  assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "code")),
                      "http.body_too_large");
  json_decref(j);
  /* the node is unharmed */
  json_t *h = get_ok(e, "/v1/health");
  json_decref(h);
}

/* ---- tests: submission and transactions ------------------------------------ */

static void test_submit_wait_and_get_tx(void **state) {
  api_env *e = *state;
  char payload[300];
  /* alice: an issue alone, then a batch of two (transfer, anchor) */
  hanse_buf s;
  hanse_buf_init(&s);
  hanse_hash ids[3];
  put_tx(&s, &e->alice, "asset.issue", 1, &ids[0],
         "{\"asset\":\"EUR\",\"decimals\":2,\"supply\":1000,\"name\":\"Euro\"}");
  json_t *p1 = json_pack("{s:s, s:i, s:s}", "asset", "EUR", "amount", 300, "to", pkhex(&e->bob.pub));
  json_t *p2 = json_pack("{s:s}", "hash",
                         "00000000000000000000000000000000000000000000000000000000000000cd");
  hanse_client_op ops[2] = {{"asset.transfer", p1}, {"notary.anchor", p2}};
  hanse_buf batch;
  hanse_buf_init(&batch);
  hanse_reject rej;
  assert_int_equal(hanse_client_batch_build(e->client, ops, 2, 2, &e->alice, &batch, &ids[1], &rej),
                   HANSE_OK);
  put_entry(&s, HANSE_TYPE_BATCH, batch.data, batch.len);
  json_decref(p1);
  json_decref(p2);

  resp r;
  post_stream(e, "?wait=1", &s, &r);
  if (r.status != 200) fail_msg("submit: %ld %.*s", r.status, (int)r.body.len, (const char *)r.body.data);
  assert_string_equal(r.ctype, "application/json");
  assert_int_equal(json_integer_value(json_object_get(r.json, "accepted")), 3);
  assert_int_equal(json_integer_value(json_object_get(r.json, "rejected")), 0);
  assert_null(json_object_get(r.json, "error"));
  assert_int_equal(json_array_size(json_object_get(r.json, "results")), 3);
  json_int_t heights[3];
  for (size_t i = 0; i < 3; i++) {
    assert_string_equal(rfield(&r, i, "id"), idhex(&ids[i]));
    assert_string_equal(rfield(&r, i, "status"), "committed");
    assert_string_equal(rfield(&r, i, "code"), "ok");
    heights[i] = json_integer_value(json_object_get(result_at(&r, i), "height"));
    assert_true(heights[i] >= 1);
    assert_true(json_is_integer(json_object_get(result_at(&r, i), "index")));
  }
  assert_true(heights[1] == heights[2]); /* a batch is never split */
  resp_free(&r);
  uint64_t height = chain_height(e);
  assert_true(height == (uint64_t)heights[2]);

  /* GET each: receipt, decoded tx, raw, a proof the client accepts */
  for (int i = 0; i < 3; i++) {
    char path[200];
    snprintf(path, sizeof path, "/v1/chains/%s/txs/%s", CHAIN, idhex(&ids[i]));
    json_t *doc = get_ok(e, path);
    assert_string_equal(json_string_value(json_object_get(doc, "id")), idhex(&ids[i]));
    assert_string_equal(json_string_value(json_object_get(doc, "status")), "committed");
    json_t *rc = json_object_get(doc, "receipt");
    assert_int_equal(json_integer_value(json_object_get(rc, "height")), heights[i]);
    assert_string_equal(json_string_value(json_object_get(rc, "code")), "ok");
    json_t *tx = json_object_get(doc, "tx");
    assert_string_equal(json_string_value(json_object_get(tx, "chain_id")), CHAIN);
    assert_string_equal(json_string_value(json_object_get(tx, "signer")), pkhex(&e->alice.pub));
    assert_int_equal(json_integer_value(json_object_get(tx, "seq")), i + 1);
    assert_string_equal(json_string_value(json_object_get(tx, "kind")),
                        i == 0 ? "asset.issue" : ops[i - 1].kind);
    assert_true(json_is_object(json_object_get(tx, "payload")));
    int batched = json_is_true(json_object_get(tx, "batched"));
    assert_int_equal(batched, i > 0);
    if (batched) {
      const char *braw = json_string_value(json_object_get(doc, "batch_raw"));
      assert_non_null(braw);
      uint8_t *bb;
      size_t bn;
      assert_int_equal(hanse_hex_decode_alloc(braw, strlen(braw), &bb, &bn), HANSE_OK);
      assert_int_equal(bn, batch.len);
      assert_memory_equal(bb, batch.data, bn);
      hanse_hash bid;
      hanse_sha256(&bid, bb, bn);
      assert_string_equal(json_string_value(json_object_get(tx, "batch_id")), idhex(&bid));
      free(bb);
    } else {
      assert_null(json_object_get(doc, "batch_raw"));
      assert_true(json_is_null(json_object_get(tx, "batch_id")));
    }
    json_t *proof = json_object_get(doc, "proof");
    assert_int_equal(json_integer_value(json_object_get(proof, "index")),
                     json_integer_value(json_object_get(rc, "index")));
    assert_int_equal(hanse_client_proof_verify(e->client, doc, &ids[i], &rej), HANSE_OK);
    /* the client library reads the same document */
    json_t *viac = NULL;
    assert_int_equal(hanse_client_tx_get(e->client, &ids[i], &viac, &rej), HANSE_OK);
    assert_true(json_equal(doc, viac));
    json_decref(viac);
    json_decref(doc);
  }

  /* a resubmission is answered from the store: 200, no new block */
  post_stream(e, NULL, &s, &r);
  assert_int_equal(r.status, 200);
  assert_int_equal(json_integer_value(json_object_get(r.json, "accepted")), 3);
  for (size_t i = 0; i < 3; i++) {
    assert_string_equal(rfield(&r, i, "status"), "committed");
    assert_int_equal(json_integer_value(json_object_get(result_at(&r, i), "height")), heights[i]);
  }
  resp_free(&r);
  assert_true(chain_height(e) == height);

  /* the JSON form, one transaction; a transfer that fails in execution
   * is committed with its code and message */
  snprintf(payload, sizeof payload, "{\"asset\":\"EUR\",\"amount\":5000,\"to\":\"%s\"}",
           pkhex(&e->carol.pub));
  hanse_hash fid;
  char *hex = tx_hex(&e->bob, "asset.transfer", 1, &fid, payload);
  char *body = malloc(strlen(hex) + 16);
  assert_non_null(body);
  sprintf(body, "{\"tx\":\"%s\"}", hex);
  http(e, "POST", "/v1/chains/" CHAIN "/txs?wait=1&timeout_ms=5000", "application/json", body,
       strlen(body), &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(rfield(&r, 0, "id"), idhex(&fid));
  assert_string_equal(rfield(&r, 0, "status"), "committed");
  assert_string_equal(rfield(&r, 0, "code"), "asset.insufficient_balance");
  assert_non_null(rfield(&r, 0, "message"));
  resp_free(&r);
  free(body);
  free(hex);

  /* alice's sequence 2 again with other content: stale, 409, nothing kept */
  hanse_buf s2;
  hanse_buf_init(&s2);
  put_tx(&s2, &e->alice, "notary.anchor", 2, NULL,
         "{\"hash\":\"00000000000000000000000000000000000000000000000000000000000000ee\"}");
  post_stream(e, "?wait=1", &s2, &r);
  CHECK_ERROR(&r, 409, "tx.stale_sequence");
  assert_string_equal(rfield(&r, 0, "status"), "rejected");
  assert_string_equal(rfield(&r, 0, "code"), "tx.stale_sequence");
  resp_free(&r);
  hanse_buf_free(&s2);

  /* a bad signature next to a good one: 200, one each */
  hanse_buf tx;
  hanse_buf_init(&tx);
  fx_tx(&tx, &e->alice, CHAIN, "notary.anchor", 4, 0,
        "{\"hash\":\"00000000000000000000000000000000000000000000000000000000000000ef\"}");
  tx.data[tx.len - 1] ^= 1;
  hanse_buf_init(&s2);
  put_tx(&s2, &e->carol, "notary.anchor", 1, NULL,
         "{\"hash\":\"00000000000000000000000000000000000000000000000000000000000000ab\"}");
  put_entry(&s2, HANSE_TYPE_TX, tx.data, tx.len);
  post_stream(e, "?wait=1", &s2, &r);
  assert_int_equal(r.status, 200);
  assert_int_equal(json_integer_value(json_object_get(r.json, "accepted")), 1);
  assert_int_equal(json_integer_value(json_object_get(r.json, "rejected")), 1);
  assert_string_equal(rfield(&r, 0, "status"), "committed");
  assert_string_equal(rfield(&r, 1, "status"), "rejected");
  assert_string_equal(rfield(&r, 1, "code"), "tx.bad_signature");
  resp_free(&r);
  /* alone it is 400 with the error */
  hanse_buf_reset(&s2);
  put_entry(&s2, HANSE_TYPE_TX, tx.data, tx.len);
  post_stream(e, NULL, &s2, &r);
  CHECK_ERROR(&r, 400, "tx.bad_signature");
  resp_free(&r);
  hanse_buf_free(&s2);
  hanse_buf_free(&tx);

  hanse_buf_free(&s);
  hanse_buf_free(&batch);
}

/* ---- tests: blocks, search, accounts, genesis ------------------------------ */

static json_t *blocks(api_env *e, const char *query) {
  char path[200];
  snprintf(path, sizeof path, "/v1/chains/%s/blocks%s", CHAIN, query);
  json_t *j = get_ok(e, path);
  json_t *arr = json_incref(json_object_get(j, "blocks"));
  assert_true(json_is_array(arr));
  json_decref(j);
  return arr;
}

/* The heights of a range answer must be exactly `want` (n of them). */
static void expect_heights(api_env *e, const char *query, const int *want, size_t n) {
  json_t *arr = blocks(e, query);
  if (json_array_size(arr) != n)
    fail_msg("blocks%s: %zu blocks, want %zu", query, json_array_size(arr), n);
  for (size_t i = 0; i < n; i++) {
    json_t *b = json_array_get(arr, i);
    if (json_integer_value(json_object_get(b, "height")) != want[i])
      fail_msg("blocks%s: [%zu] is height %lld, want %d", query, i,
               (long long)json_integer_value(json_object_get(b, "height")), want[i]);
    assert_null(json_object_get(b, "txs"));
  }
  json_decref(arr);
}
#define HEIGHTS(e, q, ...)                                              \
  do {                                                                  \
    static const int w_[] = {__VA_ARGS__};                              \
    expect_heights(e, q, w_, sizeof w_ / sizeof w_[0]);                 \
  } while (0)

static void test_blocks(void **state) {
  api_env *e = *state;
  hanse_hash ids[5];
  for (int i = 0; i < 5; i++) anchor_wait(e, &e->alice, (uint64_t)i + 1, &ids[i]);
  assert_true(chain_height(e) == 5);

  /* no parameters: the newest 20, newest first, linked by hash */
  json_t *all = blocks(e, "");
  assert_int_equal(json_array_size(all), 6);
  for (size_t i = 0; i < 6; i++) {
    json_t *b = json_array_get(all, i);
    assert_int_equal(json_integer_value(json_object_get(b, "height")), 5 - (json_int_t)i);
    assert_int_equal(json_integer_value(json_object_get(b, "tx_count")), i == 5 ? 0 : 1);
    assert_string_equal(json_string_value(json_object_get(b, "proposer")), pkhex(&e->node.pub));
    if (i < 5)
      assert_string_equal(json_string_value(json_object_get(b, "prev_hash")),
                          json_string_value(json_object_get(json_array_get(all, i + 1), "hash")));
  }
  HEIGHTS(e, "?latest=2", 5, 4);
  HEIGHTS(e, "?latest=1", 5);
  HEIGHTS(e, "?latest=100", 5, 4, 3, 2, 1, 0);
  HEIGHTS(e, "?from=1&to=3", 1, 2, 3);
  HEIGHTS(e, "?from=4", 4, 5);
  HEIGHTS(e, "?from=2&to=50", 2, 3, 4, 5);
  HEIGHTS(e, "?from=0&to=99", 0, 1, 2, 3, 4, 5);
  HEIGHTS(e, "?to=2", 0, 1, 2);
  HEIGHTS(e, "?from=3&to=3", 3);
  HEIGHTS(e, "?from=0&to=3&latest=1", 5); /* latest wins */
  json_t *empty = blocks(e, "?from=6");
  assert_int_equal(json_array_size(empty), 0);
  json_decref(empty);
  empty = blocks(e, "?from=50&to=149");
  assert_int_equal(json_array_size(empty), 0);
  json_decref(empty);
  EXPECT_ERROR(e, "GET", "/v1/chains/" CHAIN "/blocks?from=0&to=100", NULL, NULL, 400,
               "http.bad_param", NULL);
  EXPECT_ERROR(e, "GET", "/v1/chains/" CHAIN "/blocks?from=3&to=2", NULL, NULL, 400,
               "http.bad_param", NULL);
  EXPECT_ERROR(e, "GET", "/v1/chains/" CHAIN "/blocks?latest=101", NULL, NULL, 400,
               "http.bad_param", NULL);
  EXPECT_ERROR(e, "GET", "/v1/chains/" CHAIN "/blocks?latest=0", NULL, NULL, 400,
               "http.bad_param", NULL);
  EXPECT_ERROR(e, "GET", "/v1/chains/" CHAIN "/blocks?from=x", NULL, NULL, 400, "http.bad_param",
               NULL);
  EXPECT_ERROR(e, "GET", "/v1/chains/" CHAIN "/blocks?to=-1", NULL, NULL, 400, "http.bad_param",
               NULL);

  /* one block by height and by hash: the same document, with its txs */
  json_t *b3 = get_ok(e, "/v1/chains/" CHAIN "/blocks/3");
  assert_int_equal(json_integer_value(json_object_get(b3, "height")), 3);
  json_t *txs = json_object_get(b3, "txs");
  assert_int_equal(json_array_size(txs), 1);
  json_t *t0 = json_array_get(txs, 0);
  assert_string_equal(json_string_value(json_object_get(t0, "id")), idhex(&ids[2]));
  assert_string_equal(json_string_value(json_object_get(t0, "kind")), "notary.anchor");
  assert_string_equal(json_string_value(json_object_get(t0, "signer")), pkhex(&e->alice.pub));
  assert_string_equal(json_string_value(json_object_get(t0, "code")), "ok");
  assert_int_equal(json_integer_value(json_object_get(t0, "seq")), 3);
  assert_int_equal(json_integer_value(json_object_get(t0, "index")), 0);
  const char *h3 = json_string_value(json_object_get(b3, "hash"));
  /* the range's header fields are the block's */
  json_t *r3 = json_array_get(all, 2);
  json_t *b3_no_txs = json_deep_copy(b3);
  json_object_del(b3_no_txs, "txs");
  json_object_del(b3_no_txs, "certificate"); /* one block's only */
  assert_true(json_equal(b3_no_txs, r3));
  /* A single-node chain certifies each block with the node's signature:
   * 1 of 1. */
  json_t *cert = json_object_get(b3, "certificate");
  assert_int_equal(json_array_size(json_object_get(cert, "signatures")), 1);
  assert_int_equal(json_integer_value(json_object_get(cert, "validators")), 1);
  assert_int_equal(json_integer_value(json_object_get(cert, "quorum")), 1);
  assert_true(json_is_true(json_object_get(cert, "complete")));
  json_decref(b3_no_txs);
  char path[200];
  snprintf(path, sizeof path, "/v1/chains/%s/blocks/hash/%s", CHAIN, h3);
  json_t *b3h = get_ok(e, path);
  assert_true(json_equal(b3, b3h));
  json_decref(b3h);
  json_t *g = get_ok(e, "/v1/chains/" CHAIN "/blocks/0");
  assert_int_equal(json_integer_value(json_object_get(g, "tx_count")), 0);
  assert_int_equal(json_array_size(json_object_get(g, "txs")), 0);
  assert_string_equal(json_string_value(json_object_get(g, "prev_hash")),
                      "0000000000000000000000000000000000000000000000000000000000000000");
  json_decref(g);
  EXPECT_ERROR(e, "GET", "/v1/chains/" CHAIN "/blocks/6", NULL, NULL, 404, "block.not_found", NULL);

  /* search */
  json_t *s = get_ok(e, "/v1/chains/" CHAIN "/search?q=3");
  assert_string_equal(json_string_value(json_object_get(s, "type")), "block");
  assert_int_equal(json_integer_value(json_object_get(s, "height")), 3);
  json_decref(s);
  s = get_ok(e, "/v1/chains/" CHAIN "/search?q=0");
  assert_int_equal(json_integer_value(json_object_get(s, "height")), 0);
  json_decref(s);
  snprintf(path, sizeof path, "/v1/chains/%s/search?q=%s", CHAIN, h3);
  s = get_ok(e, path);
  assert_string_equal(json_string_value(json_object_get(s, "type")), "block");
  assert_int_equal(json_integer_value(json_object_get(s, "height")), 3);
  assert_string_equal(json_string_value(json_object_get(s, "hash")), h3);
  json_decref(s);
  snprintf(path, sizeof path, "/v1/chains/%s/search?q=%s", CHAIN, idhex(&ids[3]));
  s = get_ok(e, path);
  assert_string_equal(json_string_value(json_object_get(s, "type")), "tx");
  assert_string_equal(json_string_value(json_object_get(s, "id")), idhex(&ids[3]));
  assert_int_equal(json_integer_value(json_object_get(s, "height")), 4);
  assert_null(json_object_get(s, "status"));
  json_decref(s);
  EXPECT_ERROR(e, "GET", "/v1/chains/" CHAIN "/search?q=6", NULL, NULL, 404, "search.not_found",
               NULL);
  EXPECT_ERROR(e, "GET",
               "/v1/chains/" CHAIN
               "/search?q=1111111111111111111111111111111111111111111111111111111111111111",
               NULL, NULL, 404, "search.not_found", NULL);
  json_decref(b3);
  json_decref(all);

  /* accounts: the committed sequence and the next */
  snprintf(path, sizeof path, "/v1/chains/%s/accounts/%s", CHAIN, pkhex(&e->alice.pub));
  json_t *a = get_ok(e, path);
  assert_string_equal(json_string_value(json_object_get(a, "pubkey")), pkhex(&e->alice.pub));
  assert_int_equal(json_integer_value(json_object_get(a, "seq")), 5);
  assert_int_equal(json_integer_value(json_object_get(a, "next_seq")), 6);
  json_decref(a);
  snprintf(path, sizeof path, "/v1/chains/%s/accounts/%s", CHAIN, pkhex(&e->carol.pub));
  a = get_ok(e, path);
  assert_int_equal(json_integer_value(json_object_get(a, "seq")), 0);
  assert_int_equal(json_integer_value(json_object_get(a, "next_seq")), 1);
  json_decref(a);
  uint64_t next = 0;
  hanse_reject rej;
  assert_int_equal(hanse_client_next_seq(e->client, &e->alice.pub, &next, &rej), HANSE_OK);
  assert_true(next == 6);
}

static void test_genesis(void **state) {
  api_env *e = *state;
  json_t *g = get_ok(e, "/v1/chains/" CHAIN "/genesis");
  assert_string_equal(json_string_value(json_object_get(g, "chain_id")), CHAIN);
  json_t *v = json_object_get(g, "validators");
  assert_int_equal(json_array_size(v), 1);
  assert_string_equal(json_string_value(json_array_get(v, 0)), pkhex(&e->node.pub));
  json_t *org = json_array_get(json_object_get(g, "organisations"), 0);
  assert_string_equal(json_string_value(json_object_get(org, "id")), "acme");
  assert_string_equal(json_string_value(json_array_get(json_object_get(org, "keys"), 0)),
                      pkhex(&e->alice.pub));
  json_decref(g);
}

static void test_query(void **state) {
  api_env *e = *state;
  hanse_buf s;
  hanse_buf_init(&s);
  put_tx(&s, &e->alice, "asset.issue", 1, NULL,
         "{\"asset\":\"EUR\",\"decimals\":2,\"supply\":1000,\"name\":\"Euro\"}");
  resp r;
  post_stream(e, "?wait=1", &s, &r);
  assert_int_equal(r.status, 200);
  resp_free(&r);
  hanse_buf_free(&s);
  char path[300];
  snprintf(path, sizeof path, "/v1/chains/%s/query/asset/balance?asset=EUR&owner=%s", CHAIN,
           pkhex(&e->alice.pub));
  json_t *b = get_ok(e, path);
  assert_int_equal(json_integer_value(json_object_get(b, "balance")), 1000);
  assert_int_equal(json_integer_value(json_object_get(b, "decimals")), 2);
  json_decref(b);
  EXPECT_ERROR(e, "GET", "/v1/chains/" CHAIN "/query/asset/asset?asset=NOPE", NULL, NULL, 404,
               "asset.unknown", NULL);

  /* the client library maps the node's errors: a module's code by status,
   * a core code to its enum */
  const char *params[] = {"asset", "NOPE", NULL};
  json_t *out = (json_t *)1;
  hanse_reject rej;
  assert_int_equal(hanse_client_query(e->client, "asset", "asset", params, &out, &rej),
                   HANSE_ERR(NOT_FOUND));
  assert_null(out);
  assert_string_equal(rej.code, "asset.unknown");
  assert_int_equal(rej.status, 404);
  assert_int_equal(hanse_client_query(e->client, "asset", "nope", NULL, &out, &rej),
                   HANSE_ERR(NOT_FOUND));
  assert_string_equal(rej.code, "query.unknown");
  hanse_hash none;
  memset(none.b, 0x77, sizeof none.b);
  assert_int_equal(hanse_client_tx_get(e->client, &none, &out, &rej), HANSE_ERR(TX_NOT_FOUND));
  assert_string_equal(rej.code, "tx.not_found");
  assert_int_equal(rej.status, 404);
  assert_int_equal(hanse_client_block_get(e->client, 99, &out, &rej), HANSE_ERR(NOT_FOUND));
  assert_string_equal(rej.code, "block.not_found");
  hanse_client *other = NULL;
  assert_int_equal(hanse_client_create(e->base, "other", &other, &rej), HANSE_OK);
  assert_int_equal(hanse_client_status(other, &out, &rej), HANSE_ERR(CHAIN_UNKNOWN));
  assert_string_equal(rej.code, "chain.unknown");
  hanse_client_destroy(other);
  /* and the happy path through it */
  assert_int_equal(hanse_client_query(e->client, "asset", "balance",
                                      (const char *const[]){"asset", "EUR", "owner",
                                                            pkhex(&e->alice.pub), NULL},
                                      &out, &rej),
                   HANSE_OK);
  assert_int_equal(json_integer_value(json_object_get(out, "balance")), 1000);
  json_decref(out);
}

/* ---- tests: pending transactions -------------------------------------------- */

static uint64_t mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec;
}

static void test_pending(void **state) {
  api_env *e = *state;
  /* The sequencer cuts its first block at once only when a whole interval
   * has passed since the clock's zero. */
  if (mono_s() < 62) skip();
  hanse_hash ids[6];
  anchor_wait(e, &e->alice, 1, &ids[0]);
  assert_true(chain_height(e) == 1);

  /* seq 2 and 3 wait a minute for their block */
  hanse_buf s;
  hanse_buf_init(&s);
  put_tx(&s, &e->alice, "notary.anchor", 2, &ids[1],
         "{\"hash\":\"0000000000000000000000000000000000000000000000000000000000000002\"}");
  put_tx(&s, &e->alice, "notary.anchor", 3, &ids[2],
         "{\"hash\":\"0000000000000000000000000000000000000000000000000000000000000003\"}");
  resp r;
  post_stream(e, NULL, &s, &r);
  assert_int_equal(r.status, 202);
  assert_int_equal(json_integer_value(json_object_get(r.json, "accepted")), 2);
  assert_string_equal(rfield(&r, 0, "status"), "pending");
  assert_string_equal(rfield(&r, 1, "status"), "pending");
  assert_string_equal(rfield(&r, 1, "id"), idhex(&ids[2]));
  assert_null(json_object_get(result_at(&r, 0), "code"));
  resp_free(&r);
  /* the same again: still pending, not a duplicate error */
  post_stream(e, NULL, &s, &r);
  assert_int_equal(r.status, 202);
  assert_string_equal(rfield(&r, 0, "status"), "pending");
  resp_free(&r);
  /* with wait and a short limit: answered pending after the limit */
  post_stream(e, "?wait=1&timeout_ms=50", &s, &r);
  assert_int_equal(r.status, 202);
  assert_string_equal(rfield(&r, 1, "status"), "pending");
  resp_free(&r);
  hanse_buf_free(&s);

  char path[200];
  snprintf(path, sizeof path, "/v1/chains/%s/txs/%s", CHAIN, idhex(&ids[1]));
  json_t *doc = get_ok(e, path);
  assert_string_equal(json_string_value(json_object_get(doc, "status")), "pending");
  assert_string_equal(json_string_value(json_object_get(doc, "id")), idhex(&ids[1]));
  assert_int_equal(json_object_size(doc), 2);
  hanse_reject rej;
  assert_int_equal(hanse_client_proof_verify(e->client, doc, &ids[1], &rej), HANSE_ERR(NOT_FOUND));
  assert_string_equal(rej.code, "proof.pending");
  json_decref(doc);

  snprintf(path, sizeof path, "/v1/chains/%s/search?q=%s", CHAIN, idhex(&ids[2]));
  json_t *sr = get_ok(e, path);
  assert_string_equal(json_string_value(json_object_get(sr, "type")), "tx");
  assert_string_equal(json_string_value(json_object_get(sr, "status")), "pending");
  assert_null(json_object_get(sr, "height"));
  json_decref(sr);

  /* next_seq counts what is pending; the committed seq does not */
  snprintf(path, sizeof path, "/v1/chains/%s/accounts/%s", CHAIN, pkhex(&e->alice.pub));
  json_t *a = get_ok(e, path);
  assert_int_equal(json_integer_value(json_object_get(a, "seq")), 1);
  assert_int_equal(json_integer_value(json_object_get(a, "next_seq")), 4);
  json_decref(a);
  uint64_t next = 0;
  assert_int_equal(hanse_client_next_seq(e->client, &e->alice.pub, &next, &rej), HANSE_OK);
  assert_true(next == 4);

  json_t *st = get_ok(e, "/v1/chains/" CHAIN "/status");
  assert_int_equal(json_integer_value(json_object_get(st, "mempool_depth")), 2);
  assert_int_equal(json_integer_value(json_object_get(st, "height")), 1);
  json_decref(st);
  resp m;
  get(e, "/metrics", &m);
  hanse_buf_u8(&m.body, 0);
  assert_non_null(strstr((const char *)m.body.data, "hanse_mempool_depth{chain=\"" CHAIN "\"} 2\n"));
  resp_free(&m);
}

/* ---- tests: metrics and explorer ---------------------------------------------- */

static void expect_line(const char *text, const char *line) {
  char want[300];
  snprintf(want, sizeof want, "\n%s\n", line);
  if (strstr(text, want) == NULL) fail_msg("metrics lack '%s':\n%s", line, text);
}

static void test_metrics(void **state) {
  api_env *e = *state;
  char payload[200];
  snprintf(payload, sizeof payload, "{\"asset\":\"EUR\",\"amount\":5000,\"to\":\"%s\"}",
           pkhex(&e->bob.pub));
  hanse_buf s;
  hanse_buf_init(&s);
  put_tx(&s, &e->alice, "asset.issue", 1, NULL,
         "{\"asset\":\"EUR\",\"decimals\":2,\"supply\":1000,\"name\":\"Euro\"}");
  put_tx(&s, &e->alice, "asset.transfer", 2, NULL, payload);
  resp r;
  post_stream(e, "?wait=1", &s, &r); /* 2xx */
  assert_int_equal(r.status, 200);
  assert_string_equal(rfield(&r, 1, "code"), "asset.insufficient_balance");
  resp_free(&r);
  hanse_buf_reset(&s);
  hanse_buf tx;
  hanse_buf_init(&tx);
  fx_tx(&tx, &e->bob, CHAIN, "notary.anchor", 1, 0,
        "{\"hash\":\"00000000000000000000000000000000000000000000000000000000000000ef\"}");
  tx.data[tx.len - 1] ^= 1;
  put_entry(&s, HANSE_TYPE_TX, tx.data, tx.len);
  post_stream(e, NULL, &s, &r); /* 4xx */
  assert_int_equal(r.status, 400);
  resp_free(&r);
  get(e, "/v1/nope", &r); /* 4xx */
  resp_free(&r);
  hanse_buf_free(&tx);
  hanse_buf_free(&s);

  get(e, "/metrics", &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(r.ctype, "text/plain; version=0.0.4; charset=utf-8");
  hanse_buf_u8(&r.body, 0);
  char *text = malloc(r.body.len + 2);
  assert_non_null(text);
  text[0] = '\n';
  memcpy(text + 1, r.body.data, r.body.len);
  resp_free(&r);
  uint64_t height = chain_height(e); /* one more 2xx, after the render */
  assert_true(height >= 1);
  char line[200];
  snprintf(line, sizeof line, "hanse_blocks_total{chain=\"%s\"} %llu", CHAIN,
           (unsigned long long)height);
  expect_line(text, line);
  snprintf(line, sizeof line, "hanse_chain_height{chain=\"%s\"} %llu", CHAIN,
           (unsigned long long)height);
  expect_line(text, line);
  expect_line(text, "hanse_txs_committed_total{chain=\"" CHAIN "\"} 2");
  expect_line(text, "hanse_txs_submitted_total{chain=\"" CHAIN "\"} 2");
  expect_line(text, "hanse_mempool_depth{chain=\"" CHAIN "\"} 0");
  expect_line(text, "hanse_store_failed{chain=\"" CHAIN "\"} 0");
  expect_line(text, "hanse_txs_rejected_total{chain=\"" CHAIN
                    "\",stage=\"submit\",code=\"tx.bad_signature\"} 1");
  expect_line(text, "hanse_txs_rejected_total{chain=\"" CHAIN
                    "\",stage=\"execute\",code=\"asset.insufficient_balance\"} 1");
  expect_line(text, "hanse_commit_latency_seconds_count{chain=\"" CHAIN "\"} 2");
  expect_line(text, "hanse_commit_latency_seconds_bucket{chain=\"" CHAIN "\",le=\"+Inf\"} 2");
  expect_line(text, "# TYPE hanse_commit_latency_seconds histogram");
  expect_line(text, "hanse_http_requests_total{status=\"2xx\"} 1");
  expect_line(text, "hanse_http_requests_total{status=\"4xx\"} 2");
  expect_line(text, "hanse_http_requests_total{status=\"5xx\"} 0");
  free(text);

  /* the render and the status call are counted by the next render */
  get(e, "/metrics", &r);
  hanse_buf_u8(&r.body, 0);
  assert_non_null(strstr((const char *)r.body.data, "hanse_http_requests_total{status=\"2xx\"} 3\n"));
  resp_free(&r);
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) fail_msg("cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)n + 1);
  assert_non_null(b);
  assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *len = (size_t)n;
  return b;
}

static void test_explorer(void **state) {
  api_env *e = *state;
  static const struct {
    const char *path, *file, *ctype;
  } files[] = {
      {"/", "index.html", "text/html; charset=utf-8"},
      {"/index.html", "index.html", "text/html; charset=utf-8"},
      {"/app.js", "app.js", "text/javascript; charset=utf-8"},
      {"/style.css", "style.css", "text/css; charset=utf-8"},
  };
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    resp r;
    get(e, files[i].path, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.ctype, files[i].ctype);
    assert_string_equal(r.cache, "no-store");
    char fp[512];
    snprintf(fp, sizeof fp, "%s/../../web/%s", HANSE_VECTORS_DIR, files[i].file);
    size_t n;
    char *want = read_file(fp, &n);
    assert_int_equal(r.body.len, n);
    assert_memory_equal(r.body.data, want, n);
    free(want);
    resp_free(&r);
  }
  resp r;
  http(e, "HEAD", "/", NULL, NULL, 0, &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(r.ctype, "text/html; charset=utf-8");
  assert_int_equal(r.body.len, 0);
  resp_free(&r);
  EXPECT_ERROR(e, "GET", "/style.css/", NULL, NULL, 404, "http.not_found", NULL);
  EXPECT_ERROR(e, "GET", "/../CMakeLists.txt", NULL, NULL, 404, "http.not_found", NULL);
}

int main(void) {
  if (sodium_init() < 0) return 1;
  signal(SIGPIPE, SIG_IGN);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  hanse_modules_register_all();
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_node, teardown_node)
  const struct CMUnitTest tests[] = {
      T(test_health_and_status),
      T(test_not_found_and_methods),
      T(test_bad_requests),
      T(test_body_too_large),
      T(test_submit_wait_and_get_tx),
      T(test_blocks),
      T(test_genesis),
      T(test_query),
      cmocka_unit_test_setup_teardown(test_pending, setup_slow_node, teardown_node),
      T(test_metrics),
      T(test_explorer),
  };
#undef T
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  curl_global_cleanup();
  return rc;
}
