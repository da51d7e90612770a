/*
 * test_confidential.c -- confidential fields end to end, through the CLI
 * against a real node.
 *
 * A anchors a document whose metadata "price" is sealed to A and B
 * (`hanse tx notary anchor --seal meta.price --to A,B`). B and A read it
 * back in plaintext with `hanse get tx ID --decrypt`; C sees
 * "[sealed: not a recipient]". The transaction's raw bytes on the chain,
 * and the notary's stored record, do not contain the plaintext. A grants
 * C the field (`hanse tx seal grant`), after which C decrypts it too; a
 * second grant to C is refused (seal.exists). `hanse tx submit --seal`
 * seals as well. A well-formed envelope whose ciphertext and sealed key
 * are random bytes commits (validity never depends on decrypting) and
 * reads "[sealed: confidential.bad_key]" for the key it names; a
 * malformed one is refused at submission (confidential.malformed). At
 * the end `hanse verify` re-executes the chain from genesis and agrees.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/hex.h"
#include "crypto/confidential.h"
#include "itest.h"

#define CHAIN "conf"
#define SECRET "tariff-secret-98765" /* '-' is not base64: cannot appear by chance */

static const char *hanse;
static it_node n;
static char key_a[300], key_b[300], key_c[300];
static char pub_a[65], pub_b[65], pub_c[65];

/* Run `hanse ARGS... --node URL --chain conf`; returns the exit status
 * and the output (stdout and stderr; free()). */
static int run(char **out, const char *const *args) { return it_cli_chain(&n, CHAIN, out, args); }

/* The id of the single transaction in a submit answer, into id[65]. */
static void result_id(const char *out, char id[65]) {
  json_t *j = it_first_json(out);
  IT_CHECK(j != NULL);
  json_t *r = json_array_get(json_object_get(j, "results"), 0);
  IT_CHECK(strcmp(json_string_value(json_object_get(r, "status")), "committed") == 0);
  IT_CHECK(strcmp(json_string_value(json_object_get(r, "code")), "ok") == 0);
  snprintf(id, 65, "%s", json_string_value(json_object_get(r, "id")));
  json_decref(j);
}

/* `get tx ID --decrypt --key KEY`: the decrypted payload's meta (new
 * reference, via *doc_out to free) and the whole output. */
static json_t *decrypt_meta(const char *id, const char *key, char **out_text, json_t **doc_out) {
  const char *args[] = {"get", "tx", id, "--decrypt", "--key", key, NULL};
  char *out = NULL;
  int rc = run(&out, args);
  if (rc != 0) fprintf(stderr, "get tx --decrypt failed (%d): %s\n", rc, out ? out : "");
  IT_CHECK(rc == 0 && strstr(out, "proof: valid"));
  json_t *doc = it_first_json(out);
  IT_CHECK(doc != NULL);
  *out_text = out;
  *doc_out = doc;
  return json_object_get(json_object_get(json_object_get(doc, "tx"), "payload"), "meta");
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  IT_CHECK(f != NULL);
  fputs(text, f);
  fclose(f);
}

/* Base64 of n random bytes (free()). */
static char *random_b64(size_t len) {
  unsigned char b[256];
  IT_CHECK(len <= sizeof b);
  randombytes_buf(b, len);
  size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
  char *t = malloc(cap);
  IT_CHECK(t != NULL);
  sodium_bin2base64(t, cap, b, len, sodium_base64_VARIANT_ORIGINAL);
  return t;
}

int main(int argc, char **argv) {
  IT_CHECK(argc >= 2);
  IT_CHECK(sodium_init() >= 0);
  hanse = argv[1];
  uint8_t seeds[] = {1};
  it_init(&n, hanse, CHAIN, seeds, 1);
  IT_CHECK(it_start(&n, NULL, NULL) == 0);
  /* A (the founder), B and C */
  hanse_keypair kp;
  const uint8_t tags[3] = {1, 2, 3};
  char *paths[3] = {key_a, key_b, key_c}, *pubs[3] = {pub_a, pub_b, pub_c};
  const char *names[3] = {"a", "b", "c"};
  for (int i = 0; i < 3; i++) {
    it_key(&kp, tags[i]);
    snprintf(paths[i], 300, "%s/key-%s.json", n.dir, names[i]);
    IT_CHECK(hanse_keyfile_write(paths[i], &kp) == HANSE_OK);
    it_pubhex(pubs[i], tags[i]);
    hanse_keypair_wipe(&kp);
  }

  /* A anchors a document with meta.price sealed to A and B */
  char doc_path[300], meta[200], to[200], id[65];
  snprintf(doc_path, sizeof doc_path, "%s/contract.txt", n.dir);
  write_file(doc_path, "supply contract, 2025\n");
  snprintf(meta, sizeof meta, "{\"price\":\"%s\",\"note\":\"public-note\"}", SECRET);
  snprintf(to, sizeof to, "%s,%s", pub_a, pub_b);
  const char *anchor[] = {"tx", "notary", "anchor", doc_path, "--meta", meta, "--seal",
                          "meta.price", "--to", to, "--key", key_a, "--wait", NULL};
  char *out = NULL;
  int rc = run(&out, anchor);
  if (rc != 0) fprintf(stderr, "anchor: %s\n", out ? out : "");
  IT_CHECK(rc == 0);
  result_id(out, id);
  free(out);

  /* B and A read it; C cannot */
  json_t *doc = NULL, *m;
  m = decrypt_meta(id, key_b, &out, &doc);
  IT_CHECK(strcmp(json_string_value(json_object_get(m, "price")), SECRET) == 0);
  IT_CHECK(strcmp(json_string_value(json_object_get(m, "note")), "public-note") == 0);
  free(out);
  json_decref(doc);
  m = decrypt_meta(id, key_a, &out, &doc);
  IT_CHECK(strcmp(json_string_value(json_object_get(m, "price")), SECRET) == 0);
  free(out);
  json_decref(doc);
  m = decrypt_meta(id, key_c, &out, &doc);
  IT_CHECK(strcmp(json_string_value(json_object_get(m, "price")), "[sealed: not a recipient]") == 0);
  IT_CHECK(strstr(out, SECRET) == NULL);
  free(out);
  json_decref(doc);
  /* without --decrypt the payload shows the envelope */
  const char *plain_get[] = {"get", "tx", id, NULL};
  IT_CHECK(run(&out, plain_get) == 0);
  IT_CHECK(strstr(out, HANSE_CONFIDENTIAL_ENC) != NULL && strstr(out, SECRET) == NULL);
  free(out);

  /* the chain's raw bytes and the notary's record hold no plaintext */
  char path[256];
  long st;
  snprintf(path, sizeof path, "/v1/chains/" CHAIN "/txs/%s", id);
  json_t *j = it_get_json(&n, path, &st);
  IT_CHECK(st == 200 && j != NULL);
  const char *raw_hex = json_string_value(json_object_get(j, "raw"));
  IT_CHECK(raw_hex != NULL);
  uint8_t *raw = NULL;
  size_t raw_len = 0;
  IT_CHECK(hanse_hex_decode_alloc(raw_hex, strlen(raw_hex), &raw, &raw_len) == HANSE_OK);
  IT_CHECK(memmem(raw, raw_len, SECRET, strlen(SECRET)) == NULL);
  IT_CHECK(memmem(raw, raw_len, "public-note", 11) != NULL); /* the search works */
  IT_CHECK(memmem(raw, raw_len, pub_b, 64) != NULL);         /* the recipient list is there */
  free(raw);
  json_t *hash = json_object_get(json_object_get(json_object_get(j, "tx"), "payload"), "hash");
  snprintf(path, sizeof path, "/v1/chains/" CHAIN "/query/notary/anchor?hash=%s",
           json_string_value(hash));
  json_decref(j);
  it_resp resp;
  char url[400];
  snprintf(url, sizeof url, "%s%s", n.url, path);
  IT_CHECK(it_http("GET", url, NULL, NULL, 0, &resp) == 0 && resp.status == 200);
  IT_CHECK(strstr(resp.body, SECRET) == NULL && strstr(resp.body, "public-note") != NULL);
  it_resp_free(&resp);

  /* A grants C; C decrypts; a second grant is refused */
  const char *grant[] = {"tx", "seal", "grant", "--tx", id, "--field", "meta.price", "--to",
                         pub_c, "--key", key_a, "--wait", NULL};
  rc = run(&out, grant);
  if (rc != 0) fprintf(stderr, "grant: %s\n", out ? out : "");
  IT_CHECK(rc == 0);
  free(out);
  m = decrypt_meta(id, key_c, &out, &doc);
  IT_CHECK(strcmp(json_string_value(json_object_get(m, "price")), SECRET) == 0);
  free(out);
  json_decref(doc);
  const char *grant_b[] = {"tx", "seal", "grant", "--tx", id, "--field", "meta.price", "--to",
                           pub_c, "--key", key_b, "--wait", NULL};
  IT_CHECK(run(&out, grant_b) == 1 && strstr(out, "seal.exists"));
  free(out);
  snprintf(path, sizeof path, "/v1/chains/" CHAIN "/query/seal/grants?tx=%s", id);
  j = it_get_json(&n, path, &st);
  IT_CHECK(st == 200 && json_array_size(json_object_get(j, "grants")) == 1);
  json_t *g0 = json_array_get(json_object_get(j, "grants"), 0);
  IT_CHECK(strcmp(json_string_value(json_object_get(g0, "recipient")), pub_c) == 0);
  IT_CHECK(strcmp(json_string_value(json_object_get(g0, "by")), pub_a) == 0);
  json_decref(j);
  /* meta.note is not sealed: nothing to grant */
  const char *grant_bad[] = {"tx", "seal", "grant", "--tx", id, "--field", "meta.note", "--to",
                             pub_b, "--key", key_a, NULL};
  IT_CHECK(run(&out, grant_bad) == 1 && strstr(out, "client.bad_path"));
  free(out);

  /* tx submit --seal: any kind's payload */
  char payload[1024], id2[65];
  snprintf(payload, sizeof payload,
           "{\"hash\":\"%064d\",\"meta\":{\"buyer\":\"globex-secret-buyer\"}}", 42);
  const char *submit[] = {"tx", "submit", "notary.anchor", "--payload", payload, "--seal",
                          "meta.buyer", "--to", pub_b, "--key", key_a, "--wait", NULL};
  rc = run(&out, submit);
  if (rc != 0) fprintf(stderr, "submit --seal: %s\n", out ? out : "");
  IT_CHECK(rc == 0);
  result_id(out, id2);
  free(out);
  m = decrypt_meta(id2, key_b, &out, &doc);
  IT_CHECK(strcmp(json_string_value(json_object_get(m, "buyer")), "globex-secret-buyer") == 0);
  free(out);
  json_decref(doc);
  m = decrypt_meta(id2, key_a, &out, &doc); /* A sealed it but did not list itself */
  IT_CHECK(strcmp(json_string_value(json_object_get(m, "buyer")), "[sealed: not a recipient]") == 0);
  free(out);
  json_decref(doc);
  /* bad --seal/--to: usage errors */
  const char *bad_to[] = {"tx", "submit", "notary.anchor", "--payload", payload, "--seal",
                          "meta.buyer", "--to", "abc", "--key", key_a, NULL};
  IT_CHECK(run(NULL, bad_to) == 2);
  const char *bad_path[] = {"tx", "submit", "notary.anchor", "--payload", payload, "--seal",
                            "meta..buyer", "--to", pub_b, "--key", key_a, NULL};
  IT_CHECK(run(NULL, bad_path) == 2);
  const char *no_to[] = {"tx", "submit", "notary.anchor", "--payload", payload, "--seal",
                         "meta.buyer", "--key", key_a, NULL};
  IT_CHECK(run(NULL, no_to) == 2);

  /* garbage ciphertext, well formed: committed; it does not open */
  char *nonce = random_b64(HANSE_CONFIDENTIAL_NONCE_BYTES);
  char *ct = random_b64(48);
  char *sealed = random_b64(HANSE_CONFIDENTIAL_SEALED_BYTES);
  char env[700], id3[65];
  snprintf(env, sizeof env,
           "{\"enc\":\"%s\",\"nonce\":\"%s\",\"ct\":\"%s\",\"recipients\":[{\"key\":\"%s\","
           "\"sealed\":\"%s\"}]}",
           HANSE_CONFIDENTIAL_ENC, nonce, ct, pub_a, sealed);
  snprintf(payload, sizeof payload, "{\"hash\":\"%064d\",\"meta\":{\"x\":%s}}", 43, env);
  const char *garbage[] = {"tx", "submit", "notary.anchor", "--payload", payload, "--key",
                           key_b, "--wait", NULL};
  rc = run(&out, garbage);
  if (rc != 0) fprintf(stderr, "garbage envelope: %s\n", out ? out : "");
  IT_CHECK(rc == 0);
  result_id(out, id3);
  free(out);
  m = decrypt_meta(id3, key_a, &out, &doc);
  IT_CHECK(strcmp(json_string_value(json_object_get(m, "x")), "[sealed: confidential.bad_key]") == 0);
  free(out);
  json_decref(doc);
  /* malformed: refused at submission */
  snprintf(env, sizeof env, "{\"enc\":\"%s\",\"nonce\":\"%s\",\"ct\":\"%s\"}",
           HANSE_CONFIDENTIAL_ENC, nonce, ct);
  snprintf(payload, sizeof payload, "{\"hash\":\"%064d\",\"meta\":{\"x\":%s}}", 44, env);
  const char *malformed[] = {"tx", "submit", "notary.anchor", "--payload", payload, "--key",
                             key_b, "--wait", NULL};
  IT_CHECK(run(&out, malformed) == 1 && strstr(out, "confidential.malformed"));
  free(out);
  free(nonce);
  free(ct);
  free(sealed);

  /* the whole chain re-executes from genesis to the same state */
  it_stop(&n);
  const char *verify[] = {hanse, "verify", "--data", n.dir, "--chain", CHAIN, NULL};
  rc = it_run(verify, &out);
  if (rc != 0) fprintf(stderr, "verify: %s\n", out ? out : "");
  IT_CHECK(rc == 0);
  free(out);
  it_cleanup_all();
  printf("test_confidential: ok\n");
  return 0;
}
