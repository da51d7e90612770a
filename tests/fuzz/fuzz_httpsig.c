/*
 * fuzz_httpsig.c -- hanse_httpsig_parse and hanse_httpsig_verify: the
 * RFC 8941 structured fields of a request's Signature-Input, Signature
 * and Content-Digest headers, which every signed API request brings.
 *
 * Input: three lines -- the Signature-Input value, the Signature value,
 * the Content-Digest value -- then the body. Any input must be parsed or
 * refused with an auth.* code and status 401 (never a crash, never a
 * read outside the input); an accepted Signature-Input must serialize
 * back to a value that parses to the same parameters.
 */
#include <string.h>

#include "base/err.h"
#include "crypto/httpsig.h"
#include "fuzz.h"

FUZZ_DEFAULT_INIT

static int any_key(void *ctx, const char *keyid, hanse_pubkey *out) {
  (void)ctx;
  (void)keyid;
  memset(out, 0x5a, sizeof *out);
  return HANSE_OK;
}

/* The next line of [*p, end) as a new NUL-terminated string. */
static char *line(const uint8_t **p, const uint8_t *end) {
  const uint8_t *s = *p;
  const uint8_t *nl = memchr(s, '\n', (size_t)(end - s));
  size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
  char *out = malloc(n + 1);
  FUZZ_CHECK(out != NULL);
  memcpy(out, s, n);
  out[n] = 0;
  *p = nl ? nl + 1 : end;
  return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *p = data, *end = data + size;
  char *input = line(&p, end), *sig = line(&p, end), *digest = line(&p, end);
  hanse_httpsig_field fields[3] = {
      {"Signature-Input", input}, {"Signature", sig}, {"Content-Digest", digest}};
  hanse_httpsig_request req = {.method = "POST", .path = "/v1/chains/c/txs", .query = "wait=1",
                               .authority = "127.0.0.1:8080", .fields = fields,
                               .field_count = 3, .body = p, .body_len = (size_t)(end - p)};
  hanse_httpsig_params prm;
  hanse_sig s;
  hanse_reject rej;
  hanse_reject_clear(&rej);
  int rc = hanse_httpsig_parse(&req, NULL, &prm, &s, &rej);
  if (rc != HANSE_OK) {
    FUZZ_CHECK(strncmp(rej.code, "auth.", 5) == 0 && rej.status == 401);
  } else {
    /* Round trip: serialize, parse again, same parameters. */
    hanse_buf b;
    hanse_buf_init(&b);
    FUZZ_CHECK(hanse_httpsig_params_serialize(&prm, &b) == HANSE_OK);
    char *again = malloc(b.len + 6);
    FUZZ_CHECK(again != NULL);
    memcpy(again, "sig1=", 5);
    memcpy(again + 5, b.data, b.len);
    again[b.len + 5] = 0;
    hanse_httpsig_field f2[2] = {{"Signature-Input", again}, {"Signature", sig}};
    hanse_httpsig_request r2 = req;
    r2.fields = f2;
    r2.field_count = 2;
    hanse_httpsig_params prm2;
    FUZZ_CHECK(hanse_httpsig_parse(&r2, NULL, &prm2, &s, NULL) == HANSE_OK);
    FUZZ_CHECK(prm2.component_count == prm.component_count && prm2.created == prm.created &&
               strcmp(prm2.keyid, prm.keyid) == 0 && strcmp(prm2.nonce, prm.nonce) == 0);
    free(again);
    hanse_buf_free(&b);
  }
  hanse_httpsig_policy pol = {.now_s = 1700000000, .max_age_s = 120, .max_skew_s = 10,
                              .key_fn = any_key};
  hanse_httpsig_verified v;
  hanse_reject_clear(&rej);
  rc = hanse_httpsig_verify(&req, &pol, &v, &rej);
  if (rc != HANSE_OK) FUZZ_CHECK(strncmp(rej.code, "auth.", 5) == 0 && rej.status == 401);
  free(input);
  free(sig);
  free(digest);
  return 0;
}
