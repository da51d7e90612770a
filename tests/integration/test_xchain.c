/*
 * test_xchain.c -- a message from one chain to another, through the CLI,
 * on one real node serving both.
 *
 * Chain "a" is initialised first; its node key becomes its validator.
 * Chain "b" is initialised in the same data directory with a genesis
 * that declares "a" a peer with that key. Then:
 *
 *   1. `hanse tx xchain send --chain a --to-chain b` commits a message on
 *      a; a's outbox lists it;
 *   2. `hanse xchain relay --from a --to b --tx ID` carries it (signed by
 *      a relayer who is a member of neither chain: these chains have no
 *      policy) and b's inbox holds it, with the body, the author, the
 *      relayer and a's block hash;
 *   3. the same relay again is refused: xchain.duplicate (exit 1);
 *   4. a receive with a tampered proof (one Merkle path hash, then the
 *      source transaction's bytes) is refused at submission with
 *      xchain.bad_path / xchain.bad_signature and nothing is recorded;
 *   5. a send addressed elsewhere is refused by b (wrong destination),
 *      and a relay to a chain that names no peers fails (unknown peer);
 *   6. `hanse verify` re-executes both chains from genesis and agrees.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/hex.h"
#include "itest.h"

static const char *hanse;
static it_node n;
static char key_alice[300], key_relay[300];

/* Run `hanse ARGS... --node URL`; exit status, and the output (stdout
 * then stderr; free()) in *out when out is not NULL. */
static int run(char **out, const char *const *args) { return it_cli(&n, out, args); }

/* `hanse init --data DIR --genesis FILE` with this genesis (stolen). */
static void init_chain(json_t *g) { it_init_genesis(&n, g); }

/* Send a message on a with the CLI; its id into id[65]. */
static void send_msg(const char *to, const char *body, char id[65]) {
  const char *args[] = {"tx",   "xchain", "send",  "--to-chain", to,  "--kind", "order.notice",
                        "--body", body,   "--key", key_alice,    "--chain", "a", "--wait", NULL};
  char *out = NULL;
  int rc = run(&out, args);
  if (rc != 0) fprintf(stderr, "send: %s\n", out ? out : "");
  IT_CHECK(rc == 0);
  json_t *j = it_first_json(out);
  json_t *r = json_array_get(json_object_get(j, "results"), 0);
  IT_CHECK(strcmp(json_string_value(json_object_get(r, "status")), "committed") == 0);
  IT_CHECK(strcmp(json_string_value(json_object_get(r, "code")), "ok") == 0);
  snprintf(id, 65, "%s", json_string_value(json_object_get(r, "id")));
  json_decref(j);
  free(out);
}

/* `hanse xchain relay --from a --to TO --tx ID --wait`; exit status and
 * output. */
static int relay(const char *to, const char *id, char **out) {
  const char *args[] = {"xchain", "relay", "--from", "a",       "--to", to, "--tx",
                        id,       "--key", key_relay, "--wait", NULL};
  return run(out, args);
}

static size_t inbox_size(void) {
  long st;
  json_t *j = it_get_json(&n, "/v1/chains/b/query/xchain/inbox?from_chain=a", &st);
  IT_CHECK(st == 200 && j != NULL);
  size_t k = json_array_size(json_object_get(j, "messages"));
  json_decref(j);
  return k;
}

/* POST one receive with this payload (not stolen) to b, signed by the
 * relayer's key (seed 2) at `seq`: the submission's result code. */
static void submit_receive(json_t *payload, uint64_t seq, char code[64]) {
  char *text = json_dumps(payload, JSON_SORT_KEYS | JSON_COMPACT);
  hanse_hash id;
  char *hex = it_tx_hex("b", "xchain.receive", 2, seq, text, &id);
  free(text);
  char *body = malloc(strlen(hex) + 32);
  IT_CHECK(hex && body);
  sprintf(body, "{\"txs\":[\"%s\"]}", hex);
  long st;
  json_t *j = it_post_json(&n, "/v1/chains/b/txs?wait=1", body, &st);
  json_t *r = json_array_get(json_object_get(j, "results"), 0);
  const char *c = json_string_value(json_object_get(r, "code"));
  if (c == NULL) c = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
  snprintf(code, 64, "%s", c ? c : "(none)");
  json_decref(j);
  free(body);
  free(hex);
}

/* The receive payload for message `id` of a, built from GET /txs/{id}. */
static json_t *payload_for(const char *id) {
  char path[200];
  snprintf(path, sizeof path, "/v1/chains/a/txs/%s", id);
  long st;
  json_t *doc = it_get_json(&n, path, &st);
  IT_CHECK(st == 200 && doc != NULL);
  json_t *proof = json_object_get(doc, "proof");
  json_t *p = json_pack("{s:s, s:O, s:O, s:O, s:O, s:O}", "from_chain", "a", "tx",
                        json_object_get(doc, "raw"), "header", json_object_get(proof, "header"),
                        "index", json_object_get(proof, "index"), "tx_count",
                        json_object_get(proof, "tx_count"), "path", json_object_get(proof, "path"));
  json_decref(doc);
  IT_CHECK(p != NULL);
  return p;
}

/* Replace the hex string obj[key] by one with byte i XORed with x. */
static void flip_hex(json_t *obj, const char *key, size_t i, uint8_t x) {
  const char *s = json_string_value(json_object_get(obj, key));
  uint8_t *b;
  size_t len;
  IT_CHECK(hanse_hex_decode_alloc(s, strlen(s), &b, &len) == HANSE_OK && i < len);
  b[i] ^= x;
  char *h = malloc(2 * len + 1);
  IT_CHECK(h != NULL);
  hanse_hex_encode(h, b, len);
  json_object_set_new(obj, key, json_string(h));
  free(h);
  free(b);
}

int main(int argc, char **argv) {
  IT_CHECK(argc >= 2);
  hanse = argv[1];
  uint8_t seeds[] = {1};
  it_init(&n, hanse, "a", seeds, 1);

  /* b trusts a's validator: the node key, which a's stored genesis names */
  char gpath[400];
  snprintf(gpath, sizeof gpath, "%s/chains/a/genesis.json", n.dir);
  json_t *ga = json_load_file(gpath, 0, NULL);
  IT_CHECK(ga != NULL);
  const char *validator = json_string_value(json_array_get(json_object_get(ga, "validators"), 0));
  IT_CHECK(validator != NULL && strlen(validator) == 64);
  char alice[65];
  it_pubhex(alice, 1);
  init_chain(json_pack("{s:s, s:[{s:s, s:s, s:[s]}], s:{s:[s]}}", "chain_id", "b",
                       "organisations", "id", "org1", "name", "org1", "keys", alice, "peers",
                       "a", validator));
  /* c declares no peers */
  init_chain(json_pack("{s:s, s:[{s:s, s:s, s:[s]}]}", "chain_id", "c", "organisations", "id",
                       "org1", "name", "org1", "keys", alice));
  json_decref(ga);
  IT_CHECK(it_start(&n, NULL, NULL) == 0);

  hanse_keypair kp;
  it_key(&kp, 1);
  snprintf(key_alice, sizeof key_alice, "%s/alice.json", n.dir);
  IT_CHECK(hanse_keyfile_write(key_alice, &kp) == HANSE_OK);
  it_key(&kp, 2);
  snprintf(key_relay, sizeof key_relay, "%s/relay.json", n.dir);
  IT_CHECK(hanse_keyfile_write(key_relay, &kp) == HANSE_OK);
  hanse_keypair_wipe(&kp);
  char relayer[65];
  it_pubhex(relayer, 2);

  /* 1. send on a; a's outbox */
  char id[65];
  send_msg("b", "{\"lot\":\"L-1\",\"qty\":5}", id);
  const char *outbox[] = {"xchain", "outbox", "--to", "b", "--chain", "a", "--key", key_alice, NULL};
  char *out = NULL;
  IT_CHECK(run(&out, outbox) == 0);
  IT_CHECK(out && strstr(out, id) != NULL);
  free(out);

  /* 4 first: tampered proofs change nothing on b */
  IT_CHECK(inbox_size() == 0);
  json_t *good = payload_for(id);
  json_t *bad = json_deep_copy(good);
  json_t *path = json_object_get(bad, "path");
  char code[64];
  json_t *zero = json_string("0000000000000000000000000000000000000000000000000000000000000000");
  if (json_array_size(path) > 0) json_array_set_new(path, 0, zero);
  else json_array_append_new(path, zero); /* alone in its block: the path is empty */
  submit_receive(bad, 1, code);
  IT_CHECK(strcmp(code, "xchain.bad_path") == 0);
  json_decref(bad);
  bad = json_deep_copy(good);
  flip_hex(bad, "tx", 60, 0x01); /* inside the signed bytes */
  submit_receive(bad, 1, code);
  if (strcmp(code, "xchain.bad_signature") != 0) fprintf(stderr, "tampered tx: %s\n", code);
  IT_CHECK(strcmp(code, "xchain.bad_signature") == 0);
  json_decref(bad);
  bad = json_deep_copy(good);
  flip_hex(bad, "header", 40, 0x01);
  submit_receive(bad, 1, code);
  if (strcmp(code, "xchain.bad_header_signature") != 0) fprintf(stderr, "tampered header: %s\n", code);
  IT_CHECK(strcmp(code, "xchain.bad_header_signature") == 0);
  json_decref(bad);
  json_decref(good);
  IT_CHECK(inbox_size() == 0);

  /* 2. relay with the CLI; b's inbox */
  int rc = relay("b", id, &out);
  if (rc != 0) fprintf(stderr, "relay: %s\n", out ? out : "");
  IT_CHECK(rc == 0 && strstr(out, "\"committed\"") && strstr(out, "\"ok\""));
  free(out);
  IT_CHECK(inbox_size() == 1);
  char qpath[300];
  snprintf(qpath, sizeof qpath, "/v1/chains/b/query/xchain/message?chain=a&tx=%s", id);
  long st;
  json_t *m = it_get_json(&n, qpath, &st);
  IT_CHECK(st == 200 && m != NULL);
  IT_CHECK(strcmp(json_string_value(json_object_get(m, "source_tx")), id) == 0);
  IT_CHECK(strcmp(json_string_value(json_object_get(m, "signer")), alice) == 0);
  IT_CHECK(strcmp(json_string_value(json_object_get(m, "relayed_by")), relayer) == 0);
  IT_CHECK(strcmp(json_string_value(json_object_get(m, "kind")), "order.notice") == 0);
  IT_CHECK(json_integer_value(json_object_get(json_object_get(m, "body"), "qty")) == 5);
  char bpath[200];
  snprintf(bpath, sizeof bpath, "/v1/chains/a/txs/%s", id);
  json_t *doc = it_get_json(&n, bpath, &st);
  IT_CHECK(st == 200 && doc != NULL);
  IT_CHECK(strcmp(json_string_value(json_object_get(m, "source_block")),
                  json_string_value(json_object_get(json_object_get(doc, "proof"), "block_hash"))) == 0);
  json_decref(doc);
  json_decref(m);
  const char *inbox[] = {"xchain", "inbox", "--from", "a", "--chain", "b", "--key", key_relay, NULL};
  IT_CHECK(run(&out, inbox) == 0);
  IT_CHECK(out && strstr(out, id) != NULL);
  free(out);

  /* 3. again: a duplicate, still one message */
  rc = relay("b", id, &out);
  IT_CHECK(rc == 1 && out && strstr(out, "xchain.duplicate") != NULL);
  free(out);
  IT_CHECK(inbox_size() == 1);

  /* 5. a message for another chain; a chain without peers */
  char id2[65];
  send_msg("c", "{\"n\":1}", id2);
  rc = relay("b", id2, &out);
  IT_CHECK(rc == 1 && out && strstr(out, "xchain.wrong_destination") != NULL);
  free(out);
  rc = relay("c", id2, &out);
  IT_CHECK(rc == 1 && out && strstr(out, "xchain.unknown_peer") != NULL);
  free(out);
  const char *bad_use[] = {"xchain", "relay", "--from", "a", "--to", "a", "--tx", id, NULL};
  IT_CHECK(run(NULL, bad_use) == 2);
  IT_CHECK(inbox_size() == 1);

  /* 6. both chains re-execute from genesis */
  it_stop(&n);
  const char *chains[] = {"a", "b", "c"};
  for (int i = 0; i < 3; i++) {
    const char *verify[] = {hanse, "verify", "--data", n.dir, "--chain", chains[i], NULL};
    rc = it_run(verify, &out);
    if (rc != 0) fprintf(stderr, "verify %s: %s\n", chains[i], out ? out : "");
    free(out);
    IT_CHECK(rc == 0);
  }
  it_cleanup_all();
  printf("test_xchain: ok\n");
  return 0;
}
