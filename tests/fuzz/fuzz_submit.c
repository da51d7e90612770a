/*
 * fuzz_submit.c -- hanse_submit_body_parse, both forms (the first input
 * byte picks JSON or binary, the rest is the body).
 *
 * Accepted input yields 1..HANSE_SUBMIT_TX_MAX entries; binary entries lie
 * inside the body and tile it exactly (5 header bytes each); JSON entries
 * point into the decoded copies. Rejection leaves nothing allocated (the
 * fuzzer's leak check sees it).
 */
#include <string.h>

#include "api/submit_body.h"
#include "fuzz.h"

FUZZ_DEFAULT_INIT

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  int binary = data[0] & 1;
  const uint8_t *body = data + 1;
  size_t len = size - 1;
  hanse_submit_body sb;
  hanse_reject rej;
  int rc = hanse_submit_body_parse(binary, body, len, &sb, &rej);
  if (rc != HANSE_OK) {
    FUZZ_CHECK(sb.entries == NULL && sb.store == NULL && sb.n == 0);
    FUZZ_CHECK(rej.code[0] != 0);
    return 0;
  }
  FUZZ_CHECK(sb.n >= 1 && sb.n <= HANSE_SUBMIT_TX_MAX);
  size_t covered = 0;
  for (size_t i = 0; i < sb.n; i++) {
    const hanse_submit_entry *e = &sb.entries[i];
    if (binary) {
      FUZZ_CHECK(e->raw >= body && e->raw + e->len <= body + len);
      covered += 5 + e->len;
    } else {
      FUZZ_CHECK(e->raw == sb.store[i]);
      FUZZ_CHECK(e->type == 0x01 || e->type == 0x02);
    }
  }
  if (binary) FUZZ_CHECK(covered == len);
  hanse_submit_body_free(&sb);
  return 0;
}
