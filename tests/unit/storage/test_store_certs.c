/*
 * test_store_certs.c -- the certs table (commit certificates): put, the
 * first signature of a (height, signer) kept, scans by height range in
 * (height, signer) order, early stop, writes inside a block's transaction
 * rolled back with it, and a chain that commits a block stores its own
 * signature of the block's hash with it (chain.c), verifiable with
 * encoding/cert.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "encoding/cert.h"
#include "fixture.h"
#include "storage/store.h"

typedef struct seen {
  int n;
  uint64_t height[16];
  hanse_pubkey signer[16];
  hanse_sig sig[16];
  int stop_after;
} seen;

static int visit(void *ctx, uint64_t height, const hanse_pubkey *signer, const hanse_sig *sig) {
  seen *s = ctx;
  if (s->n < 16) {
    s->height[s->n] = height;
    s->signer[s->n] = *signer;
    s->sig[s->n] = *sig;
  }
  s->n++;
  return s->stop_after && s->n >= s->stop_after;
}

static void key_sig(uint8_t tag, hanse_pubkey *pk, hanse_sig *sig) {
  memset(pk->b, tag, sizeof pk->b);
  memset(sig->b, (uint8_t)(tag + 0x40), sizeof sig->b);
}

static void test_put_scan(void **state) {
  (void)state;
  hanse_store *m = NULL;
  hanse_reject rej;
  assert_int_equal(hanse_store_open(NULL, HANSE_STORE_MEMORY, NULL, &m, &rej), HANSE_OK);
  hanse_pubkey a, b;
  hanse_sig sa, sb, other;
  key_sig(0x0b, &b, &sb);
  key_sig(0x0a, &a, &sa);
  memset(other.b, 0x77, sizeof other.b);
  /* Out of order, autocommit. */
  assert_int_equal(hanse_store_cert_put(m, 2, &b, &sb), HANSE_OK);
  assert_int_equal(hanse_store_cert_put(m, 1, &b, &sb), HANSE_OK);
  assert_int_equal(hanse_store_cert_put(m, 2, &a, &sa), HANSE_OK);
  assert_int_equal(hanse_store_cert_put(m, 5, &a, &sa), HANSE_OK);
  /* The first signature of (2, a) stays. */
  assert_int_equal(hanse_store_cert_put(m, 2, &a, &other), HANSE_OK);

  seen s;
  memset(&s, 0, sizeof s);
  assert_int_equal(hanse_store_cert_scan(m, 1, 4, visit, &s), HANSE_OK);
  assert_int_equal(s.n, 3);
  assert_int_equal(s.height[0], 1);
  assert_int_equal(s.height[1], 2);
  assert_memory_equal(s.signer[1].b, a.b, HANSE_PUBKEY_BYTES); /* (height, signer) order */
  assert_memory_equal(s.sig[1].b, sa.b, HANSE_SIG_BYTES);
  assert_int_equal(s.height[2], 2);
  assert_memory_equal(s.signer[2].b, b.b, HANSE_PUBKEY_BYTES);

  memset(&s, 0, sizeof s);
  assert_int_equal(hanse_store_cert_scan(m, 5, 5, visit, &s), HANSE_OK);
  assert_int_equal(s.n, 1);
  memset(&s, 0, sizeof s);
  assert_int_equal(hanse_store_cert_scan(m, 6, 100, visit, &s), HANSE_OK);
  assert_int_equal(s.n, 0);
  memset(&s, 0, sizeof s);
  assert_int_equal(hanse_store_cert_scan(m, 4, 3, visit, &s), HANSE_OK); /* from > to */
  assert_int_equal(s.n, 0);
  memset(&s, 0, sizeof s);
  assert_int_equal(hanse_store_cert_scan(m, 0, UINT64_MAX, visit, &s), HANSE_OK);
  assert_int_equal(s.n, 4);
  memset(&s, 0, sizeof s);
  s.stop_after = 2;
  assert_int_equal(hanse_store_cert_scan(m, 0, UINT64_MAX, visit, &s), HANSE_OK);
  assert_int_equal(s.n, 2);

  /* Inside a transaction that rolls back: gone with it. */
  assert_int_equal(hanse_store_begin(m), HANSE_OK);
  assert_int_equal(hanse_store_cert_put(m, 9, &a, &sa), HANSE_OK);
  hanse_store_rollback(m);
  memset(&s, 0, sizeof s);
  assert_int_equal(hanse_store_cert_scan(m, 9, 9, visit, &s), HANSE_OK);
  assert_int_equal(s.n, 0);
  hanse_store_close(m);
}

/* A committed block carries the node's signature of its hash. */
static void test_chain_signs_blocks(void **state) {
  (void)state;
  fx_chain f;
  fx_chain_setup(&f, NULL);
  assert_true(f.chain->signs_certs);
  fx_body b;
  fx_body_init(&b);
  fx_body_tx(&b, &f.alice, "notary.anchor", 1,
             "{\"hash\":\"00000000000000000000000000000000000000000000000000000000000000aa\"}");
  fx_propose_ok(&f, &b);
  fx_body_free(&b);
  hanse_tip tip;
  hanse_chain_tip(f.chain, &tip);
  assert_int_equal(tip.height, 1);
  hanse_store *rd = hanse_chain_reader_acquire(f.chain);
  seen s;
  memset(&s, 0, sizeof s);
  assert_int_equal(hanse_store_cert_scan(rd, 0, 10, visit, &s), HANSE_OK);
  hanse_chain_reader_release(f.chain, rd);
  assert_int_equal(s.n, 1); /* block 1 only: the genesis block is not certified */
  assert_int_equal(s.height[0], 1);
  assert_memory_equal(s.signer[0].b, f.node.pub.b, HANSE_PUBKEY_BYTES);
  assert_true(hanse_cert_sig_verify(&f.node.pub, f.chain->chain_id, 1, &tip.hash, &s.sig[0]));
  hanse_cert_sig one = {s.signer[0], s.sig[0]};
  int k = 0;
  assert_int_equal(hanse_cert_check(f.chain->chain_id, 1, &tip.hash, f.chain->validators,
                                    f.chain->validator_count, &one, 1, &k, NULL),
                   HANSE_OK);
  assert_int_equal(k, 1);
  fx_chain_teardown(&f);
}

int main(void) {
  if (sodium_init() < 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_put_scan),
      cmocka_unit_test(test_chain_signs_blocks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
