/*
 * res_blocks.c -- GET /v1/chains/{c}/blocks[/{height}|/hash/{hash}]
 * and the block JSON shared with search; GET .../blocks/raw, the stored
 * bytes of a range of blocks for the chain's own nodes (catch-up).
 */
#include <inttypes.h>
#include <string.h>

#include "api/api_internal.h"
#include "chain/chain.h"
#include "consensus/raft_entry.h"

typedef struct txs_ctx {
  json_t *arr;
  hanse_body *body;
} txs_ctx;

static int receipt_visit(void *ctx, const hanse_receipt *r) {
  txs_ctx *tc = ctx;
  json_t *o = json_pack("{s:o, s:I, s:s}", "id", api_hex(r->id.b, HANSE_HASH_BYTES), "index",
                        (json_int_t)r->index, "code", r->code);
  if (r->index < tc->body->tx_count) {
    const hanse_tx *tx = tc->body->txs[r->index];
    json_object_set_new(o, "kind", json_string(tx->kind));
    json_object_set_new(o, "signer", api_hex(tx->signer.b, HANSE_PUBKEY_BYTES));
    json_object_set_new(o, "seq", json_integer((json_int_t)tx->seq));
  }
  json_array_append_new(tc->arr, o);
  return 0;
}

json_t *api_block_json(hanse_store *rd, uint64_t height, int with_txs, int *rc) {
  hanse_block_row row;
  *rc = hanse_store_block_get(rd, height, with_txs, &row);
  if (*rc != HANSE_OK) return NULL;
  hanse_header h;
  if (hanse_header_decode(&h, row.header, row.header_len, NULL) != HANSE_OK) {
    hanse_block_row_free(&row);
    *rc = HANSE_ERR(CHAIN_BROKEN);
    return NULL;
  }
  json_t *j = json_pack("{s:I, s:o, s:o, s:I, s:o, s:o, s:o, s:o, s:I}", "height",
                        (json_int_t)h.height, "hash", api_hex(row.hash.b, HANSE_HASH_BYTES),
                        "prev_hash", api_hex(h.prev_hash.b, HANSE_HASH_BYTES), "time_ms",
                        (json_int_t)h.time_ms, "tx_root", api_hex(h.tx_root.b, HANSE_HASH_BYTES),
                        "state_digest", api_hex(h.state_digest.b, HANSE_HASH_BYTES), "proposer",
                        api_hex(h.proposer.b, HANSE_PUBKEY_BYTES), "signature",
                        api_hex(h.sig.b, HANSE_SIG_BYTES), "tx_count", (json_int_t)h.tx_count);
  if (j && with_txs) {
    hanse_body body;
    txs_ctx tc = {json_array(), &body};
    if (hanse_body_decode(&body, row.body, row.body_len, NULL) == HANSE_OK) {
      hanse_store_tx_scan_block(rd, height, receipt_visit, &tc);
      hanse_body_free(&body);
    }
    json_object_set_new(j, "txs", tc.arr);
  }
  hanse_block_row_free(&row);
  if (j == NULL) *rc = HANSE_ERR(NOMEM);
  return j;
}

static enum MHD_Result one_block(hanse_req *rq, hanse_node_chain *nc, uint64_t height) {
  hanse_store *rd = hanse_chain_reader_acquire(nc->chain);
  if (rd == NULL) return api_error_rc(rq, HANSE_ERR(IO), "cannot open a reader");
  int rc;
  json_t *j = api_block_json(rd, height, 1, &rc);
  if (j) json_object_set_new(j, "certificate", api_certificate_json(rd, nc->chain, height));
  hanse_chain_reader_release(nc->chain, rd);
  if (rc == HANSE_ERR(NOT_FOUND))
    return api_error(rq, 404, "block.not_found", "no block at height %" PRIu64, height);
  if (j == NULL) return api_error_rc(rq, rc, NULL);
  return api_json(rq, 200, j);
}

static enum MHD_Result range(hanse_req *rq, hanse_node_chain *nc) {
  hanse_tip tip;
  hanse_chain_tip(nc->chain, &tip);
  uint64_t from = 0, to = tip.height, latest = 0;
  int hf = api_param_u64(rq, "from", &from), ht = api_param_u64(rq, "to", &to),
      hl = api_param_u64(rq, "latest", &latest);
  if (hf < 0 || ht < 0 || hl < 0)
    return api_error(rq, 400, "http.bad_param", "from, to and latest are unsigned integers");
  int desc = 0;
  if (hl > 0 || (hf == 0 && ht == 0)) {
    if (hl == 0) latest = 20;
    if (latest < 1 || latest > HANSE_BLOCK_RANGE_MAX)
      return api_error(rq, 400, "http.bad_param", "latest must be 1 to %d", HANSE_BLOCK_RANGE_MAX);
    to = tip.height;
    from = tip.height + 1 >= latest ? tip.height + 1 - latest : 0;
    desc = 1;
  } else {
    if (ht == 0) to = from + HANSE_BLOCK_RANGE_MAX - 1;
    if (from > to || to - from >= HANSE_BLOCK_RANGE_MAX)
      return api_error(rq, 400, "http.bad_param", "ask for 1 to %d blocks with from <= to",
                       HANSE_BLOCK_RANGE_MAX);
    if (from > tip.height) return api_json(rq, 200, json_pack("{s:[]}", "blocks"));
    if (to > tip.height) to = tip.height;
  }
  hanse_store *rd = hanse_chain_reader_acquire(nc->chain);
  if (rd == NULL) return api_error_rc(rq, HANSE_ERR(IO), "cannot open a reader");
  json_t *arr = json_array();
  for (uint64_t i = 0; i <= to - from; i++) {
    uint64_t h = desc ? to - i : from + i;
    int rc;
    json_t *b = api_block_json(rd, h, 0, &rc);
    if (b) json_array_append_new(arr, b);
  }
  hanse_chain_reader_release(nc->chain, rd);
  return api_json(rq, 200, json_pack("{s:o}", "blocks", arr));
}

/* GET /blocks/raw?from=H&count=N: blocks H.. as a block stream
 * (consensus/raft_entry.h), the stored header and body bytes as they are,
 * for a node of the cluster catching up from a snapshot. Whole blocks
 * hold every data class, so only the chain's validators (its nodes) may
 * read them. At most API_RAW_BLOCKS_MAX blocks and about
 * API_RAW_BYTES_MAX bytes (always at least one block); fewer at the tip. */
#define API_RAW_BLOCKS_MAX 256
#define API_RAW_BYTES_MAX (16u << 20)

static enum MHD_Result raw(hanse_req *rq, hanse_node_chain *nc) {
  enum MHD_Result denied;
  if (!api_signed_by_validator(rq, nc, &denied)) return denied;
  uint64_t from = 0, count = API_RAW_BLOCKS_MAX;
  int hf = api_param_u64(rq, "from", &from), hc = api_param_u64(rq, "count", &count);
  if (hf <= 0 || hc < 0 || from == 0 || count == 0 || count > API_RAW_BLOCKS_MAX)
    return api_error(rq, 400, "http.bad_param",
                     "from (a height from 1) is required; count is 1 to %d", API_RAW_BLOCKS_MAX);
  hanse_tip tip;
  hanse_chain_tip(nc->chain, &tip);
  if (from > tip.height)
    return api_error(rq, 404, "block.not_found", "this node's chain ends at %" PRIu64,
                     tip.height);
  hanse_store *rd = hanse_chain_reader_acquire(nc->chain);
  if (rd == NULL) return api_error_rc(rq, HANSE_ERR(IO), "cannot open a reader");
  hanse_buf out;
  hanse_buf_init(&out);
  int rc = HANSE_OK;
  for (uint64_t h = from; h <= tip.height && h - from < count && rc == HANSE_OK; h++) {
    if (out.len >= API_RAW_BYTES_MAX) break;
    hanse_block_row row;
    rc = hanse_store_block_get(rd, h, 1, &row);
    if (rc != HANSE_OK) break;
    rc = hanse_raft_block_stream_put(&out, h, row.header, row.header_len, row.body,
                                     row.body_len);
    hanse_block_row_free(&row);
  }
  hanse_chain_reader_release(nc->chain, rd);
  if (rc != HANSE_OK) {
    hanse_buf_free(&out);
    return api_error_rc(rq, rc, "cannot read blocks from %" PRIu64, from);
  }
  size_t len;
  uint8_t *data = hanse_buf_steal(&out, &len);
  return api_bytes_take(rq, 200, "application/octet-stream", data, len);
}

enum MHD_Result res_blocks(hanse_req *rq, hanse_node_chain *nc, const char *rest) {
  if (strcmp(rq->method, "GET") != 0) return api_method_not_allowed(rq, "GET");
  if (strcmp(rest, "/raw") == 0) return raw(rq, nc);
  enum MHD_Result denied;
  if (!api_read_allowed(rq, nc, NULL, &denied)) return denied;
  if (rest[0] == 0 || strcmp(rest, "/") == 0) return range(rq, nc);
  if (strncmp(rest, "/hash/", 6) == 0) {
    hanse_hash hash;
    if (hanse_hash_parse(&hash, rest + 6) != HANSE_OK)
      return api_error(rq, 400, "http.bad_param", "a block hash is 64 hex characters");
    hanse_store *rd = hanse_chain_reader_acquire(nc->chain);
    if (rd == NULL) return api_error_rc(rq, HANSE_ERR(IO), "cannot open a reader");
    uint64_t height;
    int rc = hanse_store_block_by_hash(rd, &hash, &height);
    hanse_chain_reader_release(nc->chain, rd);
    if (rc != HANSE_OK) return api_error(rq, 404, "block.not_found", "no block with this hash");
    return one_block(rq, nc, height);
  }
  const char *h = rest + 1;
  if (*h < '0' || *h > '9' || strlen(h) > 19 || strspn(h, "0123456789") != strlen(h))
    return api_error(rq, 400, "http.bad_param", "a block height is a decimal integer");
  return one_block(rq, nc, strtoull(h, NULL, 10));
}
