/*
 * res_txs.c -- POST /v1/chains/{c}/txs (submit) and GET .../txs/{id}.
 *
 * A submission body (submit_body.c) becomes an entry list for
 * hanse_node_submit. A body that cannot be parsed at all is 400 and
 * changes nothing; entries that fail their checks are reported per
 * transaction in "results". In cluster mode a follower forwards the
 * submission to the leader (forward.c) before looking at it.
 */
#include <string.h>

#include "api/api_internal.h"
#include "api/submit_body.h"
#include "base/hex.h"
#include "chain/chain.h"
#include "encoding/block.h"

static enum MHD_Result submit(hanse_req *rq, hanse_node_chain *nc) {
  enum MHD_Result denied;
  if (api_forward_to_leader(rq, nc, &denied)) return denied; /* cluster follower */
  if (!api_submit_allowed(rq, nc, &denied)) return denied;
  const char *ct = rq->content_type ? rq->content_type : "";
  /* A media type matches exactly, parameters (";charset=...") allowed. */
  int binary = strncmp(ct, "application/octet-stream", 24) == 0 && (ct[24] == 0 || ct[24] == ';');
  int is_json = (strncmp(ct, "application/json", 16) == 0 && (ct[16] == 0 || ct[16] == ';')) ||
                ct[0] == 0;
  if (!binary && !is_json)
    return api_error(rq, 415, "http.unsupported_media_type",
                     "use application/json or application/octet-stream, not '%.64s'", ct);
  uint64_t wait = 0, timeout_ms = 5000;
  if (api_param_u64(rq, "wait", &wait) < 0 || wait > 1 ||
      api_param_u64(rq, "timeout_ms", &timeout_ms) < 0 || timeout_ms > HANSE_WAIT_MS_MAX)
    return api_error(rq, 400, "http.bad_param", "wait must be 0 or 1; timeout_ms 0 to %d",
                     HANSE_WAIT_MS_MAX);
  hanse_submit_body sb;
  hanse_reject rej;
  hanse_reject_clear(&rej);
  int rc = hanse_submit_body_parse(binary, rq->body.data, rq->body.len, &sb, &rej);
  enum MHD_Result mr;
  if (rc != HANSE_OK) {
    mr = api_reject(rq, &rej);
    goto done;
  }
  hanse_submit_result *rs = NULL;
  size_t nr = 0;
  rc = hanse_node_submit(nc, sb.entries, sb.n, wait ? (int)timeout_ms : 0, &rs, &nr);
  if (rc != HANSE_OK) {
    mr = api_error_rc(rq, rc, NULL);
    goto done;
  }
  /* The results array is written by hand: a request may carry 20,000
   * transactions and one jansson object each costs more than the rest of
   * the response path. Codes and ids are plain ASCII; messages are
   * escaped through jansson. */
  hanse_buf out;
  hanse_buf_init(&out);
  size_t accepted = 0, rejected = 0, committed = 0;
  const hanse_reject *first_rej = NULL;
  for (size_t i = 0; i < nr; i++) {
    hanse_submit_result *r = &rs[i];
    if (r->status == HANSE_SUBMIT_REJECTED) {
      rejected++;
      if (first_rej == NULL) first_rej = &r->rej;
    } else {
      accepted++;
      if (r->status == HANSE_SUBMIT_COMMITTED) committed++;
    }
  }
  char line[256];
  int len = snprintf(line, sizeof line, "{\"accepted\":%zu,\"rejected\":%zu,", accepted, rejected);
  hanse_buf_put(&out, line, (size_t)len);
  int status = committed == accepted ? 200 : 202;
  if (accepted == 0 && first_rej) {
    status = first_rej->status >= 400 ? first_rej->status : 400;
    json_t *e = json_pack("{s:s, s:s}", "code", first_rej->code, "message", first_rej->message);
    char *et = json_dumps(e, JSON_COMPACT);
    json_decref(e);
    hanse_buf_put(&out, "\"error\":", 8);
    if (et) hanse_buf_put(&out, et, strlen(et));
    free(et);
    hanse_buf_put(&out, ",", 1);
  }
  hanse_buf_put(&out, "\"results\":[", 11);
  for (size_t i = 0; i < nr; i++) {
    hanse_submit_result *r = &rs[i];
    char id[HANSE_HASH_HEX_BYTES + 2] = "null";
    if (r->has_id) {
      id[0] = '"';
      hanse_hash_hex(id + 1, &r->id);
      id[65] = '"';
      id[66] = 0;
    }
    const char *msg = NULL;
    if (r->status == HANSE_SUBMIT_COMMITTED) {
      len = snprintf(line, sizeof line,
                     "%s{\"id\":%s,\"status\":\"committed\",\"height\":%llu,\"index\":%u,\"code\":\"%s\"",
                     i ? "," : "", id, (unsigned long long)r->receipt.height, r->receipt.index,
                     r->receipt.code);
      if (r->receipt.message[0]) msg = r->receipt.message;
    } else if (r->status == HANSE_SUBMIT_REJECTED) {
      len = snprintf(line, sizeof line, "%s{\"id\":%s,\"status\":\"rejected\",\"code\":\"%s\"",
                     i ? "," : "", id, r->rej.code);
      msg = r->rej.message;
    } else {
      len = snprintf(line, sizeof line, "%s{\"id\":%s,\"status\":\"pending\"", i ? "," : "", id);
    }
    hanse_buf_put(&out, line, (size_t)len < sizeof line ? (size_t)len : sizeof line - 1);
    if (msg) {
      json_t *m = json_string(msg);
      char *mt = m ? json_dumps(m, JSON_ENCODE_ANY) : NULL;
      json_decref(m);
      hanse_buf_put(&out, ",\"message\":", 11);
      if (mt) hanse_buf_put(&out, mt, strlen(mt));
      else hanse_buf_put(&out, "\"\"", 2);
      free(mt);
    }
    hanse_buf_put(&out, "}", 1);
  }
  hanse_buf_put(&out, "]}", 2);
  free(rs);
  if (hanse_buf_status(&out) != HANSE_OK) {
    hanse_buf_free(&out);
    mr = api_error_rc(rq, HANSE_ERR(NOMEM), NULL);
    goto done;
  }
  size_t olen;
  uint8_t *odata = hanse_buf_steal(&out, &olen);
  mr = api_bytes_take(rq, status, "application/json", odata, olen);

done:
  hanse_submit_body_free(&sb);
  return mr;
}

static json_t *proof_json(const hanse_tx_proof *p) {
  json_t *path = json_array();
  for (size_t i = 0; i < p->path_len; i++)
    json_array_append_new(path, api_hex(p->path[i].b, HANSE_HASH_BYTES));
  hanse_buf hb;
  hanse_buf_init(&hb);
  hanse_header_encode(&hb, &p->header);
  json_t *hdr = api_hex(hb.data, hb.len);
  hanse_buf_free(&hb);
  return json_pack("{s:o, s:o, s:I, s:I, s:o, s:o}", "block_hash",
                   api_hex(p->block_hash.b, HANSE_HASH_BYTES), "tx_root",
                   api_hex(p->header.tx_root.b, HANSE_HASH_BYTES), "index",
                   (json_int_t)p->receipt.index, "tx_count", (json_int_t)p->header.tx_count,
                   "path", path, "header", hdr);
}

json_t *api_tx_json(const hanse_tx_proof *p, const char *hex) {
  hanse_tx tx;
  json_t *txj = NULL;
  if (hanse_tx_decode(&tx, p->raw, p->raw_len, p->batched, NULL) == HANSE_OK) {
    json_t *payload = json_loadb((const char *)tx.payload, tx.payload_len, 0, NULL);
    txj = json_pack("{s:s, s:s, s:o, s:I, s:I, s:o, s:b, s:o}", "chain_id", tx.chain_id, "kind",
                    tx.kind, "signer", api_hex(tx.signer.b, HANSE_PUBKEY_BYTES), "seq",
                    (json_int_t)tx.seq, "time_ms", (json_int_t)tx.time_ms, "payload",
                    payload ? payload : json_null(), "batched", p->batched, "batch_id",
                    p->batched ? api_hex(p->batch_id.b, HANSE_HASH_BYTES) : json_null());
  }
  json_t *j = json_pack("{s:s, s:s, s:{s:I, s:I, s:s, s:s}, s:o, s:o, s:o}", "id", hex, "status",
                        "committed", "receipt", "height", (json_int_t)p->receipt.height, "index",
                        (json_int_t)p->receipt.index, "code", p->receipt.code, "message",
                        p->receipt.message, "tx", txj ? txj : json_null(), "raw",
                        api_hex(p->raw, p->raw_len), "proof", proof_json(p));
  if (j && p->batched) json_object_set_new(j, "batch_raw", api_hex(p->batch_raw, p->batch_raw_len));
  return j;
}

/* The data class of a committed transaction (module.h), for the read
 * policy: its kind's module, or the class its payload names. */
static const char *tx_class(const hanse_tx_proof *p) {
  hanse_tx tx;
  if (hanse_tx_decode(&tx, p->raw, p->raw_len, p->batched, NULL) != HANSE_OK)
    return hanse_tx_data_class(p->kind, NULL);
  json_t *payload = json_loadb((const char *)tx.payload, tx.payload_len, 0, NULL);
  const char *c = hanse_tx_data_class(p->kind, payload);
  json_decref(payload);
  return c;
}

/* GET /txs/{id}: the whole document, for readers of its data class.
 * GET /txs/{id}/proof: public -- receipt, header and Merkle path, without
 * the transaction, so anyone holding an id can check it was committed. */
static enum MHD_Result get_tx(hanse_req *rq, hanse_node_chain *nc, const char *idhex,
                              int proof_only) {
  hanse_hash id;
  if (hanse_hash_parse(&id, idhex) != HANSE_OK)
    return api_error(rq, 400, "http.bad_param", "a transaction id is 64 hex characters");
  char hex[HANSE_HASH_HEX_BYTES];
  hanse_hash_hex(hex, &id);
  enum MHD_Result denied;
  if (hanse_mempool_contains(nc->mp, &id)) {
    if (!proof_only && !api_read_allowed(rq, nc, NULL, &denied)) return denied;
    return api_json(rq, 200, json_pack("{s:s, s:s}", "id", hex, "status", "pending"));
  }
  hanse_store *rd = hanse_chain_reader_acquire(nc->chain);
  if (rd == NULL) return api_error_rc(rq, HANSE_ERR(IO), "cannot open a reader");
  hanse_tx_proof p;
  hanse_reject rej;
  hanse_reject_clear(&rej);
  int rc = hanse_chain_tx_proof(rd, &id, &p, &rej);
  /* The block's commit certificate goes next to the proof: the proof
   * shows the transaction is in a block, the certificate that a majority
   * of the validators stands behind that block. */
  json_t *cert = rc == HANSE_OK ? api_certificate_json(rd, nc->chain, p.receipt.height) : NULL;
  hanse_chain_reader_release(nc->chain, rd);
  if (rc == HANSE_ERR(NOT_FOUND))
    return api_error(rq, 404, "tx.not_found", "no transaction %s on chain %s", hex,
                     nc->chain->chain_id);
  if (rc != HANSE_OK) return api_reject(rq, &rej);
  if (!proof_only && !api_read_allowed(rq, nc, tx_class(&p), &denied)) {
    hanse_tx_proof_free(&p);
    json_decref(cert);
    return denied;
  }
  json_t *j = api_tx_json(&p, hex);
  hanse_tx_proof_free(&p);
  if (j && cert) json_object_set(j, "certificate", cert);
  json_decref(cert);
  if (proof_only && j) {
    json_object_del(j, "tx");
    json_object_del(j, "raw");
    json_object_del(j, "batch_raw");
  }
  return api_json(rq, 200, j);
}

enum MHD_Result res_txs(hanse_req *rq, hanse_node_chain *nc, const char *rest) {
  if (rest[0] == 0 || strcmp(rest, "/") == 0) {
    if (strcmp(rq->method, "POST") != 0) return api_method_not_allowed(rq, "POST");
    return submit(rq, nc);
  }
  const char *slash = strchr(rest + 1, '/');
  int proof_only = slash != NULL && strcmp(slash, "/proof") == 0;
  if (slash != NULL && !proof_only)
    return api_error(rq, 404, "http.not_found", "no route %s %.200s", rq->method, rq->url);
  if (strcmp(rq->method, "GET") != 0) return api_method_not_allowed(rq, "GET");
  char idhex[2 * HANSE_HASH_BYTES + 1];
  size_t n = slash ? (size_t)(slash - (rest + 1)) : strlen(rest + 1);
  snprintf(idhex, sizeof idhex, "%.*s", (int)(n < sizeof idhex - 1 ? n : sizeof idhex - 1), rest + 1);
  if (n != 2 * HANSE_HASH_BYTES)
    return api_error(rq, 400, "http.bad_param", "a transaction id is 64 hex characters");
  return get_tx(rq, nc, idhex, proof_only);
}
