/*
 * res_certs.c -- commit certificates over HTTP (docs/API.md,
 * "Certificates"):
 *
 *   POST /v1/chains/{c}/certs   another node's signature(s) of block
 *                               hashes: {"height","hash","signer","sig"}
 *                               or {"certs":[...]} of those
 *   GET  /v1/chains/{c}/certs?from=H&to=H
 *                               the signatures stored for a range of
 *                               blocks, each with its block's hash (what
 *                               a node back from a crash fetches)
 *
 * and the "certificate" member that blocks and transaction proofs carry
 * (api_certificate_json). All of it is public, like a transaction's
 * proof: every signature proves itself against the validator set of the
 * genesis, and a peer fetching what it missed must not need a member's
 * key. Only a clustered chain accepts signatures (node/certs.c checks
 * each before anything is queued); a single-node chain has its own
 * signature only, written with each block.
 */
#include <inttypes.h>
#include <string.h>

#include "api/api_internal.h"
#include "base/hex.h"
#include "node/certs.h"

/* Heights per GET /certs answer: the repair window of node/certs.c. */
#define API_CERTS_RANGE_MAX 256
/* Signature messages per POST. */
#define API_CERTS_POST_MAX 1024

typedef struct cert_json_ctx {
  hanse_chain *chain;
  json_t *sigs;
  uint64_t distinct; /* bit per validator */
} cert_json_ctx;

static json_t *sig_json(const hanse_pubkey *signer, const hanse_sig *sig) {
  return json_pack("{s:o, s:o}", "signer", api_hex(signer->b, HANSE_PUBKEY_BYTES), "sig",
                   api_hex(sig->b, HANSE_SIG_BYTES));
}

static int cert_visit(void *ctx, uint64_t height, const hanse_pubkey *signer, const hanse_sig *sig) {
  cert_json_ctx *cc = ctx;
  (void)height;
  int at;
  if (!hanse_chain_is_validator(cc->chain, signer, &at))
    return 0;
  cc->distinct |= UINT64_C(1) << at;
  json_array_append_new(cc->sigs, sig_json(signer, sig));
  return 0;
}

json_t *api_certificate_json(hanse_store *rd, hanse_chain *c, uint64_t height) {
  cert_json_ctx cc = {c, json_array(), 0};
  if (cc.sigs == NULL) return NULL;
  if (height > 0) hanse_store_cert_scan(rd, height, height, cert_visit, &cc);
  int n = hanse_chain_validator_count(c);
  int q = hanse_cert_quorum(n);
  int k = __builtin_popcountll(cc.distinct);
  return json_pack("{s:o, s:i, s:i, s:b}", "signatures", cc.sigs, "validators", n, "quorum", q,
                   "complete", k >= q);
}

typedef struct range_ctx {
  hanse_store *rd;
  json_t *arr;
  uint64_t hash_height;
  hanse_hash hash;
  int hash_ok;
} range_ctx;

static int range_visit(void *ctx, uint64_t height, const hanse_pubkey *signer, const hanse_sig *sig) {
  range_ctx *r = ctx;
  if (r->hash_height != height) {
    hanse_block_row row;
    r->hash_height = height;
    r->hash_ok = hanse_store_block_get(r->rd, height, 0, &row) == HANSE_OK;
    if (r->hash_ok) {
      r->hash = row.hash;
      hanse_block_row_free(&row);
    }
  }
  if (!r->hash_ok) return 0;
  json_t *o = sig_json(signer, sig);
  json_object_set_new(o, "height", json_integer((json_int_t)height));
  json_object_set_new(o, "hash", api_hex(r->hash.b, HANSE_HASH_BYTES));
  json_array_append_new(r->arr, o);
  return 0;
}

static enum MHD_Result get_range(hanse_req *rq, hanse_node_chain *nc) {
  uint64_t from = 0, to = 0;
  int hf = api_param_u64(rq, "from", &from), ht = api_param_u64(rq, "to", &to);
  if (hf <= 0 || ht < 0)
    return api_error(rq, 400, "http.bad_param", "give from (and to): block heights");
  if (ht == 0) to = from + API_CERTS_RANGE_MAX - 1;
  if (from > to || to - from >= API_CERTS_RANGE_MAX)
    return api_error(rq, 400, "http.bad_param", "ask for 1 to %d blocks with from <= to",
                     API_CERTS_RANGE_MAX);
  hanse_store *rd = hanse_chain_reader_acquire(nc->chain);
  if (rd == NULL) return api_error_rc(rq, HANSE_ERR(IO), "cannot open a reader");
  range_ctx r;
  memset(&r, 0, sizeof r);
  r.rd = rd;
  r.arr = json_array();
  r.hash_height = UINT64_MAX;
  int rc = hanse_store_cert_scan(rd, from, to, range_visit, &r);
  hanse_chain_reader_release(nc->chain, rd);
  if (rc != HANSE_OK) {
    json_decref(r.arr);
    return api_error_rc(rq, rc, NULL);
  }
  return api_json(rq, 200, json_pack("{s:o}", "certs", r.arr));
}

static enum MHD_Result post(hanse_req *rq, hanse_node_chain *nc) {
  if (nc->certs == NULL)
    return api_error(rq, 409, "cert.not_clustered",
                     "chain %s is not run in cluster mode here: it takes no signatures",
                     nc->chain->chain_id);
  json_error_t jerr;
  json_t *doc = rq->body.len ? json_loadb((const char *)rq->body.data, rq->body.len, 0, &jerr) : NULL;
  if (!json_is_object(doc)) {
    json_decref(doc);
    return api_error(rq, 400, "http.bad_json", "the body is a JSON object");
  }
  json_t *list = json_object_get(doc, "certs");
  json_t *one = NULL;
  if (list == NULL) {
    one = json_array();
    json_array_append(one, doc);
    list = one;
  }
  if (!json_is_array(list) || json_array_size(list) > API_CERTS_POST_MAX) {
    json_decref(one);
    json_decref(doc);
    return api_error(rq, 400, "cert.malformed", "\"certs\" is an array of at most %d signatures",
                     API_CERTS_POST_MAX);
  }
  size_t accepted = 0, i;
  json_t *e, *rejected = json_array();
  hanse_reject first;
  hanse_reject_clear(&first);
  int any_rejected = 0;
  json_array_foreach(list, i, e) {
    uint64_t height;
    hanse_hash hash;
    hanse_pubkey signer;
    hanse_sig sig;
    hanse_reject rej;
    hanse_reject_clear(&rej);
    int rc = hanse_cert_msg_from_json(e, &height, &hash, &signer, &sig);
    if (rc != HANSE_OK)
      hanse_reject_code(&rej, "cert.malformed", 400,
                        "a signature is {\"height\",\"hash\",\"signer\",\"sig\"} in hex");
    else
      rc = hanse_certs_receive(nc->certs, height, &hash, &signer, &sig, &rej);
    if (rc == HANSE_OK) {
      accepted++;
      continue;
    }
    if (!any_rejected) first = rej;
    any_rejected = 1;
    json_array_append_new(rejected, json_pack("{s:I, s:s, s:s}", "index", (json_int_t)i, "code",
                                              rej.code, "message", rej.message));
  }
  json_decref(one);
  json_decref(doc);
  if (accepted == 0 && any_rejected) {
    json_decref(rejected);
    return api_reject(rq, &first);
  }
  return api_json(rq, 202, json_pack("{s:I, s:o}", "accepted", (json_int_t)accepted, "rejected",
                                     rejected));
}

enum MHD_Result res_certs(hanse_req *rq, hanse_node_chain *nc, const char *rest) {
  if (rest[0] != 0 && strcmp(rest, "/") != 0)
    return api_error(rq, 404, "http.not_found", "no route %s %.200s", rq->method, rq->url);
  if (strcmp(rq->method, "POST") == 0) return post(rq, nc);
  if (strcmp(rq->method, "GET") == 0) return get_range(rq, nc);
  return api_method_not_allowed(rq, "GET, POST");
}
