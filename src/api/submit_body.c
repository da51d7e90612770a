/*
 * submit_body.c -- framing of submission bodies (see submit_body.h).
 *
 * Every bound is checked before memory is committed to it: the number of
 * entries (HANSE_SUBMIT_TX_MAX), each hex string's length (even, hex
 * digits only), each binary entry's length against the bytes left. This
 * decoder sees raw network input and has its own fuzz target
 * (tests/fuzz/fuzz_submit.c).
 */
#include "api/submit_body.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "encoding/block.h"

/* Parse the JSON form. Entries point into `store` (hex-decoded copies). */
static int parse_json_body(const uint8_t *body, size_t len, hanse_submit_entry **out, size_t *n,
                           uint8_t ***store, hanse_reject *rej) {
  json_error_t jerr;
  size_t k = 0;
  json_t *doc = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
  if (doc == NULL)
    return hanse_reject_set(rej, HANSE_ERR(HTTP_BAD_JSON), "body is not valid JSON: %s (line %d)",
                            jerr.text, jerr.line);
  int rc = HANSE_OK;
  json_t *txs = json_object_get(doc, "txs");
  json_t *batches = json_object_get(doc, "batches");
  json_t *one = json_object_get(doc, "tx");
  if (!json_is_object(doc) || (txs && !json_is_array(txs)) || (batches && !json_is_array(batches)) ||
      (one && !json_is_string(one)) || (!txs && !batches && !one)) {
    rc = hanse_reject_set(rej, HANSE_ERR(HTTP_BAD_PARAM),
                          "body must be {\"txs\":[hex,...]} and/or {\"batches\":[hex,...]} or {\"tx\":hex}");
    goto done;
  }
  size_t count = (txs ? json_array_size(txs) : 0) + (batches ? json_array_size(batches) : 0) + (one ? 1 : 0);
  if (count == 0 || count > HANSE_SUBMIT_TX_MAX) {
    rc = hanse_reject_set(rej, HANSE_ERR(HTTP_BAD_PARAM), "submit 1 to %d entries", HANSE_SUBMIT_TX_MAX);
    goto done;
  }
  *out = calloc(count, sizeof **out);
  *store = calloc(count, sizeof **store);
  if (*out == NULL || *store == NULL) {
    rc = hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
    goto done;
  }
  for (int pass = 0; pass < 3; pass++) {
    json_t *arr = pass == 0 ? txs : pass == 1 ? batches : NULL;
    size_t m = pass == 2 ? (one ? 1 : 0) : arr ? json_array_size(arr) : 0;
    for (size_t i = 0; i < m; i++) {
      json_t *s = pass == 2 ? one : json_array_get(arr, i);
      if (!json_is_string(s)) {
        rc = hanse_reject_set(rej, HANSE_ERR(HTTP_BAD_PARAM), "%s[%zu] is not a hex string",
                              pass == 1 ? "batches" : "txs", i);
        goto done;
      }
      size_t blen;
      rc = hanse_hex_decode_alloc(json_string_value(s), json_string_length(s), &(*store)[k], &blen);
      if (rc != HANSE_OK) {
        rc = hanse_reject_set(rej, HANSE_ERR(HTTP_BAD_PARAM), "%s[%zu] is not valid hex",
                              pass == 1 ? "batches" : "txs", i);
        goto done;
      }
      (*out)[k].type = pass == 1 ? HANSE_ENTRY_BATCH : HANSE_ENTRY_TX;
      (*out)[k].raw = (*store)[k];
      (*out)[k].len = blen;
      k++;
    }
  }
done:
  *n = k; /* on failure too: the caller frees the k decoded buffers */
  json_decref(doc);
  return rc;
}

static int parse_binary_body(const uint8_t *body, size_t len, hanse_submit_entry **out, size_t *n,
                             hanse_reject *rej) {
  hanse_rd r;
  hanse_rd_init(&r, body, len);
  size_t cap = 64, k = 0;
  *out = malloc(cap * sizeof **out);
  if (*out == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  while (hanse_rd_left(&r) > 0) {
    uint8_t type;
    uint32_t elen;
    const uint8_t *p;
    if (hanse_rd_u8(&r, &type) != HANSE_OK || hanse_rd_u32(&r, &elen) != HANSE_OK ||
        hanse_rd_view(&r, &p, elen) != HANSE_OK)
      return hanse_reject_set(rej, HANSE_ERR(DECODE_TRUNCATED), "body ends inside entry %zu", k);
    if (k == HANSE_SUBMIT_TX_MAX)
      return hanse_reject_set(rej, HANSE_ERR(HTTP_BAD_PARAM), "more than %d entries", HANSE_SUBMIT_TX_MAX);
    if (k == cap) {
      cap *= 2;
      hanse_submit_entry *ne = realloc(*out, cap * sizeof **out);
      if (ne == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
      *out = ne;
    }
    (*out)[k].type = type;
    (*out)[k].raw = p;
    (*out)[k].len = elen;
    k++;
  }
  if (k == 0) return hanse_reject_set(rej, HANSE_ERR(HTTP_BAD_PARAM), "empty body");
  *n = k;
  return HANSE_OK;
}

void hanse_submit_body_free(hanse_submit_body *b) {
  if (b->store)
    for (size_t i = 0; i < b->n; i++) free(b->store[i]);
  free(b->store);
  free(b->entries);
  memset(b, 0, sizeof *b);
}

int hanse_submit_body_parse(int binary, const uint8_t *body, size_t len,
                            hanse_submit_body *out, hanse_reject *rej) {
  memset(out, 0, sizeof *out);
  int rc = binary ? parse_binary_body(body, len, &out->entries, &out->n, rej)
                  : parse_json_body(body, len, &out->entries, &out->n, &out->store, rej);
  if (rc != HANSE_OK) {
    /* The parsers leave n at the number of decoded copies, so this frees
     * exactly what they made. */
    hanse_submit_body_free(out);
  }
  return rc;
}
