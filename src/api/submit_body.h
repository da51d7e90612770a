/*
 * submit_body.h -- the body of POST /v1/chains/{chain}/txs, decoded into
 * the entry list hanse_node_submit takes (docs/API.md, docs/FORMATS.md):
 *
 *   JSON:   {"txs":[hex,...], "batches":[hex,...], "tx":hex}
 *   binary: entries back to back, each u8 type | u32 length | bytes
 *
 * Only the framing is checked here; each entry's own decoding and checks
 * happen in hanse_node_submit. On success the caller frees with
 * hanse_submit_body_free; on failure nothing is left to free.
 */
#ifndef HANSE_SUBMIT_BODY_H
#define HANSE_SUBMIT_BODY_H

#include "node/node.h"

typedef struct hanse_submit_body {
  hanse_submit_entry *entries;  /* owned array of n */
  size_t n;
  uint8_t **store;              /* JSON form: owned hex-decoded copies the
                                   entries point into; binary: NULL, the
                                   entries point into the request body */
} hanse_submit_body;

int hanse_submit_body_parse(int binary, const uint8_t *body, size_t len,
                            hanse_submit_body *out, hanse_reject *rej);
void hanse_submit_body_free(hanse_submit_body *b);

#endif
