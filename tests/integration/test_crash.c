/*
 * test_crash.c -- SIGKILL the node 20 times at random moments under load.
 * After each kill: `hanse verify` passes on the data directory, the node
 * restarts, and every transaction it acknowledged as committed is there.
 *
 * Two client threads submit individually signed transfers (16 per request,
 * wait=1) for two signers; an id counts as acknowledged only when a
 * response said "committed".
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"

#define ROUNDS 20
#define ACK_MAX 400000

static hanse_hash acked[ACK_MAX];
static atomic_size_t acked_n;
static atomic_int stop_load;

typedef struct loader {
  it_node *n;
  uint8_t seed;
  uint64_t next_seq;
} loader;

static uint64_t next_seq_of(it_node *n, uint8_t seed) {
  char hex[65], path[200];
  it_pubhex(hex, seed);
  snprintf(path, sizeof path, "/v1/chains/crash/accounts/%s", hex);
  long st;
  json_t *j = it_get_json(n, path, &st);
  IT_CHECK(st == 200 && j);
  uint64_t next = (uint64_t)json_integer_value(json_object_get(j, "next_seq"));
  json_decref(j);
  return next;
}

static void *load_main(void *arg) {
  loader *l = arg;
  char to[65];
  it_pubhex(to, (uint8_t)(l->seed == 1 ? 2 : 1));
  char url[128];
  snprintf(url, sizeof url, "%s/v1/chains/crash/txs?wait=1&timeout_ms=10000", l->n->url);
  while (!atomic_load(&stop_load)) {
    hanse_buf body;
    hanse_buf_init(&body);
    hanse_buf_put(&body, "{\"txs\":[", 8);
    for (int i = 0; i < 16; i++) {
      char payload[200];
      snprintf(payload, sizeof payload, "{\"asset\":\"C\",\"to\":\"%s\",\"amount\":1}", to);
      char *hex = it_tx_hex("crash", "asset.transfer", l->seed, l->next_seq + (uint64_t)i, payload, NULL);
      if (i) hanse_buf_put(&body, ",", 1);
      hanse_buf_put(&body, "\"", 1);
      hanse_buf_put(&body, hex, strlen(hex));
      hanse_buf_put(&body, "\"", 1);
      free(hex);
    }
    hanse_buf_put(&body, "]}", 2);
    it_resp r;
    int rc = it_http("POST", url, "application/json", body.data, body.len, &r);
    hanse_buf_free(&body);
    if (rc != 0) { /* the node died under us */
      it_resp_free(&r);
      break;
    }
    json_t *j = json_loadb(r.body, r.len, 0, NULL);
    it_resp_free(&r);
    json_t *res = json_object_get(j, "results");
    size_t committed = 0;
    for (size_t i = 0; i < json_array_size(res); i++) {
      json_t *o = json_array_get(res, i);
      if (strcmp(json_string_value(json_object_get(o, "status")) ?: "", "committed") != 0) continue;
      size_t k = atomic_fetch_add(&acked_n, 1);
      IT_CHECK(k < ACK_MAX);
      IT_CHECK(hanse_hash_parse(&acked[k], json_string_value(json_object_get(o, "id"))) == 0);
      committed++;
    }
    json_decref(j);
    if (committed == 16) l->next_seq += 16;
    else break; /* timeouts or a dying node: resynchronise after restart */
  }
  return NULL;
}

int main(int argc, char **argv) {
  IT_CHECK(argc >= 2);
  uint8_t seeds[] = {1, 2};
  it_node n;
  it_init(&n, argv[1], "crash", seeds, 2);
  IT_CHECK(it_start(&n, NULL, NULL) == 0);
  /* Both signers get coins. */
  char to[65], payload[200], body[2048];
  it_pubhex(to, 2);
  char *a = it_tx_hex("crash", "asset.issue", 1, 1, "{\"asset\":\"C\",\"decimals\":0,\"supply\":1000000000}", NULL);
  snprintf(payload, sizeof payload, "{\"asset\":\"C\",\"to\":\"%s\",\"amount\":500000000}", to);
  char *b = it_tx_hex("crash", "asset.transfer", 1, 2, payload, NULL);
  snprintf(body, sizeof body, "{\"txs\":[\"%s\",\"%s\"]}", a, b);
  free(a);
  free(b);
  long st;
  json_t *j = it_post_json(&n, "/v1/chains/crash/txs?wait=1", body, &st);
  IT_CHECK(st == 200);
  json_decref(j);

  unsigned seed = (unsigned)time(NULL);
  if (getenv("HANSE_TEST_SEED")) seed = (unsigned)atoi(getenv("HANSE_TEST_SEED"));
  srand(seed);
  printf("test_crash: seed %u\n", seed);
  for (int round = 0; round < ROUNDS; round++) {
    loader l1 = {&n, 1, next_seq_of(&n, 1)}, l2 = {&n, 2, next_seq_of(&n, 2)};
    atomic_store(&stop_load, 0);
    pthread_t t1, t2;
    pthread_create(&t1, NULL, load_main, &l1);
    pthread_create(&t2, NULL, load_main, &l2);
    usleep(100000 + (useconds_t)(rand() % 500000));
    it_kill(&n);
    atomic_store(&stop_load, 1);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);

    const char *vargv[] = {argv[1], "verify", "--data", n.dir, "--chain", "crash", NULL};
    char *out = NULL;
    int vrc = it_run(vargv, &out);
    if (vrc != 0) fprintf(stderr, "round %d: verify failed: %s\n", round, out ? out : "");
    free(out);
    IT_CHECK(vrc == 0);

    IT_CHECK(it_start(&n, NULL, NULL) == 0);
    size_t total = atomic_load(&acked_n);
    for (size_t i = 0; i < total; i++) {
      char idhex[65], path[200];
      hanse_hash_hex(idhex, &acked[i]);
      snprintf(path, sizeof path, "/v1/chains/crash/search?q=%s", idhex);
      j = it_get_json(&n, path, &st);
      if (st != 200) fprintf(stderr, "round %d: acknowledged tx %s lost\n", round, idhex);
      IT_CHECK(st == 200);
      json_decref(j);
    }
    printf("round %2d: %zu acknowledged transactions all present, height %llu\n", round, total,
           (unsigned long long)it_height(&n));
    fflush(stdout);
  }
  IT_CHECK(atomic_load(&acked_n) > 0);
  it_stop(&n);
  it_cleanup_all();
  printf("test_crash: ok\n");
  return 0;
}
