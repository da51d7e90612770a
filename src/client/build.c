/*
 * build.c -- turning a caller's intent into signed bytes.
 *
 * A transaction's payload is JSON text chosen by the caller; the client
 * writes it compactly with sorted keys so that the same intent gives the
 * same bytes (and the node's duplicate-key and real-number rules are met
 * by construction when the caller built the object with integers).
 *
 * A batch is encoded in two steps: each op as a "batched" transaction
 * (no signature of its own, same signer), then hanse_batch_encode wraps
 * them and signs the whole once. The inner transactions' ids are what the
 * node indexes and reports, so the builder returns those.
 */
#include <stdlib.h>
#include <string.h>

#include "base/env.h"
#include "base/log.h"
#include "client/client_internal.h"
#include "encoding/json_real.h"

static int payload_text(const hanse_client_op *op, char **text,
                        hanse_reject *rej) {
  *text = NULL;
  if (op == NULL || op->kind == NULL || !json_is_object(op->payload))
    return client_fail(rej, HANSE_ERR(INVALID), "client.bad_op",
                       "an op needs a kind and a JSON object payload");
  /* reals (trace payloads) at their shortest exact text, not 17 digits */
  *text = hanse_json_dumps_exact(op->payload, JSON_COMPACT | JSON_SORT_KEYS);
  if (*text == NULL)
    return hanse_reject_set(rej, HANSE_ERR(NOMEM), "cannot encode the payload");
  return HANSE_OK;
}

/* Encode one op into `out` (signed when kp_sign is not NULL). */
static int encode_op(const hanse_client *c, const hanse_client_op *op,
                     uint64_t seq, const hanse_pubkey *signer,
                     const hanse_keypair *kp_sign, uint64_t time_ms,
                     hanse_buf *out, hanse_hash *id, hanse_reject *rej) {
  char *text;
  int rc = payload_text(op, &text, rej);
  if (rc != HANSE_OK) return rc;
  hanse_tx_fields f = {
      .chain_id = c->chain_id,
      .kind = op->kind,
      .signer = signer,
      .seq = seq,
      .time_ms = time_ms,
      .payload = text,
      .payload_len = strlen(text),
  };
  size_t start = out->len;
  rc = hanse_tx_encode(out, &f, kp_sign, rej);
  free(text);
  if (rc != HANSE_OK) {
    out->len = start;
    hanse_reject_prefix(rej, "%s seq %llu", op->kind, (unsigned long long)seq);
    return rc;
  }
  if (id) hanse_sha256(id, out->data + start, out->len - start);
  return HANSE_OK;
}

int hanse_client_tx_build(hanse_client *c, const hanse_client_op *op,
                          uint64_t seq, const hanse_keypair *kp, hanse_buf *out,
                          hanse_hash *id, hanse_reject *rej) {
  HANSE_ASSERT(c != NULL && kp != NULL && out != NULL);
  uint64_t now = hanse_now_ms(hanse_env_system());
  return encode_op(c, op, seq, &kp->pub, kp, now, out, id, rej);
}

int hanse_client_batch_build(hanse_client *c, const hanse_client_op *ops,
                             uint32_t count, uint64_t first_seq,
                             const hanse_keypair *kp, hanse_buf *out,
                             hanse_hash *ids, hanse_reject *rej) {
  HANSE_ASSERT(c != NULL && kp != NULL && out != NULL);
  if (count < 1 || count > HANSE_BATCH_TX_MAX)
    return client_fail(rej, HANSE_ERR(INVALID), "client.bad_batch",
                       "a batch holds 1 to %d transactions", HANSE_BATCH_TX_MAX);
  uint64_t now = hanse_now_ms(hanse_env_system());
  hanse_buf inner;
  hanse_buf_init(&inner);
  size_t *offs = malloc(((size_t)count + 1) * sizeof *offs);
  size_t *lens = malloc((size_t)count * sizeof *lens);
  const uint8_t **ptrs = malloc((size_t)count * sizeof *ptrs);
  int rc = HANSE_OK;
  if (offs == NULL || lens == NULL || ptrs == NULL) {
    rc = hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
    goto done;
  }
  for (uint32_t i = 0; i < count; i++) {
    offs[i] = inner.len;
    rc = encode_op(c, &ops[i], first_seq + i, &kp->pub, NULL, now, &inner,
                   ids ? &ids[i] : NULL, rej);
    if (rc != HANSE_OK) {
      hanse_reject_prefix(rej, "batch op %u", i);
      goto done;
    }
  }
  offs[count] = inner.len;
  /* Pointers only now: the buffer may have moved while it grew. */
  for (uint32_t i = 0; i < count; i++) {
    ptrs[i] = inner.data + offs[i];
    lens[i] = offs[i + 1] - offs[i];
  }
  size_t start = out->len;
  rc = hanse_batch_encode(out, c->chain_id, ptrs, lens, count, kp, rej);
  if (rc != HANSE_OK) out->len = start;
done:
  free(offs);
  free(lens);
  free(ptrs);
  hanse_buf_free(&inner);
  return rc;
}
