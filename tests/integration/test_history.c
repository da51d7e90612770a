/*
 * test_history.c -- the audit trail of a real node: a founder registers a
 * member, issues an asset and pays the member, who pays on; each in its own
 * block. The history of the member's balance names both signers (the
 * member by its record, the founder as its organisation's founder), the
 * heights and block times, the ops and the hashes of the values, newest
 * first; pages follow `next`; genesis writes are "genesis"; bad parameters
 * get 400 with stable codes, an unknown key 404 history.not_found; the
 * `hanse get history` command prints the same as a table or as JSON.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "itest.h"

static const char *chain = "hist";

/* Submit one transaction and wait for its commit; returns its height. */
static uint64_t commit(it_node *n, const char *kind, uint8_t seed, uint64_t seq,
                       const char *payload, char txid[65]) {
  hanse_hash id;
  char *hex = it_tx_hex(chain, kind, seed, seq, payload, &id);
  char *body = malloc(strlen(hex) + 32);
  IT_CHECK(hex && body);
  sprintf(body, "{\"txs\":[\"%s\"]}", hex);
  long st;
  json_t *j = it_post_json(n, "/v1/chains/hist/txs?wait=1", body, &st);
  json_t *r = json_array_get(json_object_get(j, "results"), 0);
  if (st != 200 || strcmp(json_string_value(json_object_get(r, "code")), "ok") != 0) {
    char *d = json_dumps(j, 0);
    fprintf(stderr, "%s: %ld %s\n", kind, st, d ? d : "");
    free(d);
  }
  IT_CHECK(st == 200 && strcmp(json_string_value(json_object_get(r, "status")), "committed") == 0);
  IT_CHECK(strcmp(json_string_value(json_object_get(r, "code")), "ok") == 0);
  uint64_t height = (uint64_t)json_integer_value(json_object_get(r, "height"));
  if (txid) hanse_hash_hex(txid, &id);
  json_decref(j);
  free(body);
  free(hex);
  return height;
}

static uint64_t block_time(it_node *n, uint64_t height) {
  char path[128];
  snprintf(path, sizeof path, "/v1/chains/hist/blocks/%" PRIu64, height);
  long st;
  json_t *j = it_get_json(n, path, &st);
  IT_CHECK(st == 200);
  uint64_t t = (uint64_t)json_integer_value(json_object_get(j, "time_ms"));
  json_decref(j);
  return t;
}

static const char *sha_hex(char out[65], const char *value) {
  hanse_hash h;
  hanse_sha256(&h, value, strlen(value));
  return hanse_hash_hex(out, &h);
}

static json_t *history(it_node *n, const char *query, long *st) {
  char path[512];
  snprintf(path, sizeof path, "/v1/chains/hist/history?%s", query);
  return it_get_json(n, path, st);
}

static const char *str(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

static void expect_error(it_node *n, const char *query, long status, const char *code) {
  long st;
  json_t *j = history(n, query, &st);
  const char *got = str(json_object_get(j, "error"), "code");
  if (st != status || got == NULL || strcmp(got, code) != 0)
    fprintf(stderr, "history?%s: %ld %s (want %ld %s)\n", query, st, got ? got : "-", status,
            code);
  IT_CHECK(st == status && got && strcmp(got, code) == 0);
  json_decref(j);
}

int main(int argc, char **argv) {
  IT_CHECK(argc >= 2);
  uint8_t seeds[] = {1, 2};
  it_node n;
  it_init(&n, argv[1], chain, seeds, 2);
  IT_CHECK(it_start(&n, NULL, NULL) == 0);
  char founder[65], desk[65], other[65], payload[512];
  it_pubhex(founder, 1);
  it_pubhex(desk, 9);
  it_pubhex(other, 2);

  /* The founder registers "desk" (seed 9), issues, pays desk; desk pays
   * seed 2. Every step waits for its block. */
  snprintf(payload, sizeof payload,
           "{\"member\":{\"id\":\"desk\",\"kind\":\"department\",\"roles\":[\"platform\"],"
           "\"attributes\":{},\"key\":\"%s\"}}",
           desk);
  uint64_t h0 = commit(&n, "member.register", 1, 1, payload, NULL);
  uint64_t h1 = commit(&n, "asset.issue", 1, 2, "{\"asset\":\"EURT\",\"decimals\":2,\"supply\":100000}",
                       NULL);
  char tx2[65], tx3[65];
  snprintf(payload, sizeof payload, "{\"asset\":\"EURT\",\"to\":\"%s\",\"amount\":2500}", desk);
  uint64_t h2 = commit(&n, "asset.transfer", 1, 3, payload, tx2);
  snprintf(payload, sizeof payload, "{\"asset\":\"EURT\",\"to\":\"%s\",\"amount\":1000}", other);
  uint64_t h3 = commit(&n, "asset.transfer", 9, 1, payload, tx3);
  IT_CHECK(h0 < h1 && h1 < h2 && h2 < h3);

  /* The history of desk's balance: desk's own payment, then the
   * founder's, newest first. */
  char query[256], sha[65];
  snprintf(query, sizeof query, "key=asset/bal/EURT/%s", desk);
  long st;
  json_t *j = history(&n, query, &st);
  IT_CHECK(st == 200);
  char key[128];
  snprintf(key, sizeof key, "asset/bal/EURT/%s", desk);
  IT_CHECK(strcmp(str(j, "key"), key) == 0);
  IT_CHECK(json_is_null(json_object_get(j, "next")));
  json_t *ch = json_object_get(j, "changes");
  IT_CHECK(json_array_size(ch) == 2);
  json_t *c0 = json_array_get(ch, 0), *c1 = json_array_get(ch, 1);
  IT_CHECK((uint64_t)json_integer_value(json_object_get(c0, "height")) == h3);
  IT_CHECK(json_integer_value(json_object_get(c0, "index")) == 0);
  IT_CHECK(strcmp(str(c0, "tx"), tx3) == 0);
  IT_CHECK(strcmp(str(c0, "signer"), desk) == 0);
  IT_CHECK(strcmp(str(json_object_get(c0, "member"), "org"), "org1") == 0);
  IT_CHECK(strcmp(str(json_object_get(c0, "member"), "id"), "desk") == 0);
  IT_CHECK(strcmp(str(c0, "who"), "org1/desk") == 0);
  IT_CHECK(strcmp(str(c0, "op"), "put") == 0);
  IT_CHECK(strcmp(str(c0, "value_sha256"), sha_hex(sha, "1500")) == 0);
  IT_CHECK((uint64_t)json_integer_value(json_object_get(c0, "time_ms")) == block_time(&n, h3));
  IT_CHECK((uint64_t)json_integer_value(json_object_get(c1, "height")) == h2);
  IT_CHECK(strcmp(str(c1, "tx"), tx2) == 0);
  IT_CHECK(strcmp(str(c1, "signer"), founder) == 0);
  IT_CHECK(strcmp(str(json_object_get(c1, "member"), "org"), "org1") == 0);
  IT_CHECK(strcmp(str(json_object_get(c1, "member"), "id"), "founder") == 0);
  IT_CHECK(strcmp(str(c1, "who"), "org1/founder") == 0);
  IT_CHECK(strcmp(str(c1, "value_sha256"), sha_hex(sha, "2500")) == 0);
  IT_CHECK((uint64_t)json_integer_value(json_object_get(c1, "time_ms")) == block_time(&n, h2));
  json_decref(j);

  /* Pages: the founder's sequence key changed three times. */
  snprintf(query, sizeof query, "key=seq/%s&limit=2", founder);
  j = history(&n, query, &st);
  IT_CHECK(st == 200 && json_array_size(json_object_get(j, "changes")) == 2);
  IT_CHECK((uint64_t)json_integer_value(json_object_get(json_array_get(json_object_get(j, "changes"), 0), "height")) == h2);
  json_t *next = json_object_get(j, "next");
  IT_CHECK(json_is_integer(next));
  uint64_t before = (uint64_t)json_integer_value(next);
  IT_CHECK(before == (h1 << 20));
  json_decref(j);
  snprintf(query, sizeof query, "key=seq/%s&limit=2&before=%" PRIu64, founder, before);
  j = history(&n, query, &st);
  IT_CHECK(st == 200 && json_array_size(json_object_get(j, "changes")) == 1);
  IT_CHECK((uint64_t)json_integer_value(json_object_get(json_array_get(json_object_get(j, "changes"), 0), "height")) == h0);
  IT_CHECK(json_is_null(json_object_get(j, "next")));
  json_decref(j);
  /* past the oldest: an empty page, not a 404 */
  snprintf(query, sizeof query, "key=seq/%s&before=%" PRIu64, founder, h0 << 20);
  j = history(&n, query, &st);
  IT_CHECK(st == 200 && json_array_size(json_object_get(j, "changes")) == 0);
  json_decref(j);

  /* Genesis writes: who "genesis", no transaction. */
  j = history(&n, "key=org/org2", &st);
  IT_CHECK(st == 200 && json_array_size(json_object_get(j, "changes")) == 1);
  c0 = json_array_get(json_object_get(j, "changes"), 0);
  IT_CHECK(json_integer_value(json_object_get(c0, "height")) == 0);
  IT_CHECK(strcmp(str(c0, "who"), "genesis") == 0);
  IT_CHECK(json_object_get(c0, "tx") == NULL && json_object_get(c0, "signer") == NULL);
  IT_CHECK(json_object_get(c0, "index") == NULL);
  json_decref(j);

  /* Errors. */
  expect_error(&n, "key=asset/bal/EURT/nobody", 404, "history.not_found");
  expect_error(&n, "limit=5", 400, "http.bad_param");
  expect_error(&n, "key=", 400, "http.bad_param");
  expect_error(&n, "key=genesis&limit=0", 400, "http.bad_param");
  expect_error(&n, "key=genesis&limit=1001", 400, "http.bad_param");
  expect_error(&n, "key=genesis&limit=ten", 400, "http.bad_param");
  expect_error(&n, "key=genesis&before=-1", 400, "http.bad_param");
  expect_error(&n, "key=%FF%FE", 400, "http.bad_param");
  char url[256];
  snprintf(url, sizeof url, "%s/v1/chains/hist/history?key=genesis", n.url);
  it_resp resp;
  IT_CHECK(it_http("POST", url, "application/json", "{}", 2, &resp) == 0);
  IT_CHECK(resp.status == 405);
  it_resp_free(&resp);

  /* The command line: a table, JSON, a page with a pointer to the next. */
  const char *table_argv[] = {argv[1], "get", "history", key, "--node", n.url, "--chain", chain,
                              NULL};
  char *out = NULL;
  int rc = it_run(table_argv, &out);
  if (rc != 0 || out == NULL || strstr(out, "org1/desk") == NULL) fprintf(stderr, "%s\n", out ? out : "(no output)");
  IT_CHECK(rc == 0 && out);
  IT_CHECK(strstr(out, "HEIGHT") && strstr(out, "TIME (UTC)") && strstr(out, "org1/desk"));
  IT_CHECK(strstr(out, "org1/founder") && strstr(out, sha_hex(sha, "1500")));
  IT_CHECK(strstr(out, " put ") && strstr(out, "more:") == NULL);
  char row[64];
  snprintf(row, sizeof row, "%8" PRIu64 "  ", h3);
  IT_CHECK(strstr(out, row) && strstr(out, row) < strstr(out, "org1/founder")); /* newest first */
  free(out);
  const char *json_argv[] = {argv[1], "get", "history", key, "--json", "--limit", "1",
                             "--node", n.url, "--chain", chain, NULL};
  rc = it_run(json_argv, &out);
  IT_CHECK(rc == 0 && out && strstr(out, "\"changes\"") && strstr(out, tx3) &&
           strstr(out, tx2) == NULL);
  free(out);
  const char *page_argv[] = {argv[1], "get", "history", key, "--limit", "1", "--node", n.url,
                             "--chain", chain, NULL};
  rc = it_run(page_argv, &out);
  IT_CHECK(rc == 0 && out && strstr(out, "more: --before"));
  free(out);
  const char *missing_argv[] = {argv[1], "get", "history", "nope/nothing", "--node", n.url,
                                "--chain", chain, NULL};
  rc = it_run(missing_argv, &out);
  IT_CHECK(rc == 1 && out && strstr(out, "history.not_found"));
  free(out);
  const char *bad_argv[] = {argv[1], "get", "history", key, "--limit", "0", "--node", n.url, NULL};
  IT_CHECK(it_run(bad_argv, NULL) == 2);
  const char *help_argv[] = {argv[1], "get", "--help", NULL};
  rc = it_run(help_argv, &out);
  IT_CHECK(rc == 0 && out && strstr(out, "hanse get history KEY"));
  free(out);

  /* The audit of the data directory still holds (history included). */
  it_stop(&n);
  const char *verify_argv[] = {argv[1], "verify", "--data", n.dir, NULL};
  rc = it_run(verify_argv, &out);
  if (rc != 0) fprintf(stderr, "hanse verify: %s\n", out ? out : "");
  IT_CHECK(rc == 0);
  free(out);
  it_cleanup_all();
  printf("test_history: ok\n");
  return 0;
}
