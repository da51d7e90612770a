/*
 * res_products.c -- published product records on an open chain
 * (modules/trace/trace_publish.c), for consumers.
 *
 *   GET /v1/chains/{c}/products/{id}     a product's record, with proofs
 *   GET /v1/chains/{c}/products?mine=1   the signer's purchases (signed)
 *
 * {id} is the product's identifier: a GS1 Digital Link path
 * ("01/09521234543213/21/12345", read as https://id.gs1.org/<path>, which
 * is what a QR code of the consumer page /p/<path> carries), or a whole
 * URI, percent-encoded (an EPC URN, a Digital Link on another domain).
 *
 * The record is the trace module's "trace.product" answer -- entries in
 * event-time order, publications, enterprises, complaints with answers --
 * read under the chain's policy for class production (an open chain: by
 * anyone, without a signature), plus what a reader needs to check it
 * without trusting this node:
 *
 *   publications[i].proof   the xchain.receive payload that brought it:
 *                           the alliance's send transaction (hex), its block
 *                           header and Merkle path (encoding/inclusion.h)
 *   trusted                 {"<alliance>": [validator keys]}: whose block
 *                           signatures this chain's genesis accepts
 *   status                  the shipment status computed from the entries
 *
 * `hanse trace verify` and the consumer page check every entry against a
 * publication body whose transaction the path puts in a block that one of
 * `trusted` signed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "chain/exec.h"
#include "chain/module.h"
#include "crypto/hash.h"
#include "encoding/tx.h"

/* A product identifier from the path: 600 bytes is more than any
 * identifier the trace module indexes (TRACE_URI_MAX). */
#define PRODUCT_ID_MAX 600

/* The payload of the receive transaction `txhex` of this chain: its proof
 * material. NULL when it cannot be read (the record then says so). */
static json_t *receive_payload(hanse_store *rd, const char *txhex) {
  hanse_hash id;
  if (txhex == NULL || hanse_hash_parse(&id, txhex) != HANSE_OK) return NULL;
  hanse_tx_proof p;
  hanse_reject rej;
  hanse_reject_clear(&rej);
  if (hanse_chain_tx_proof(rd, &id, &p, &rej) != HANSE_OK) return NULL;
  hanse_tx tx;
  json_t *payload = NULL;
  if (hanse_tx_decode(&tx, p.raw, p.raw_len, p.batched, &rej) == HANSE_OK)
    payload = json_loadb((const char *)tx.payload, tx.payload_len, 0, NULL);
  hanse_tx_proof_free(&p);
  return payload;
}

/* Proofs and the trusted validators, added to the module's record. */
static int add_proofs(hanse_node_chain *nc, json_t *rec) {
  hanse_store *rd = hanse_chain_reader_acquire(nc->chain);
  if (rd == NULL) return HANSE_ERR(IO);
  json_t *trusted = json_object();
  hanse_view v = {rd, nc->chain->chain_id};
  hanse_buf g;
  hanse_buf_init(&g);
  int found = 0;
  int rc = hanse_view_get(&v, "genesis", &g, &found);
  json_t *genesis = rc == HANSE_OK && found ? json_loadb((const char *)g.data, g.len, 0, NULL)
                                            : NULL;
  hanse_buf_free(&g);
  size_t i;
  json_t *pub;
  json_array_foreach(json_object_get(rec, "publications"), i, pub) {
    json_t *payload = receive_payload(rd, json_string_value(json_object_get(pub, "tx")));
    json_object_set_new(pub, "proof", payload ? payload : json_null());
    const char *from = json_string_value(json_object_get(pub, "from_chain"));
    json_t *keys = json_object_get(json_object_get(genesis, "peers"), from);
    if (from && keys && trusted) json_object_set(trusted, from, keys);
  }
  json_decref(genesis);
  hanse_chain_reader_release(nc->chain, rd);
  json_object_set_new(rec, "trusted", trusted ? trusted : json_object());
  return rc;
}

/* The identifier a path names (see the header comment), into out. */
static int product_id(const char *path, char *out, size_t n) {
  if (path[0] == 0 || strlen(path) >= n - 32) return 0;
  if (strncmp(path, "urn:", 4) == 0 || strstr(path, "://") != NULL)
    snprintf(out, n, "%s", path);
  else
    snprintf(out, n, "https://id.gs1.org/%s", path);
  return 1;
}

static enum MHD_Result product(hanse_req *rq, hanse_node_chain *nc, const char *path) {
  enum MHD_Result r;
  if (!api_read_allowed(rq, nc, "production", &r)) return r;
  char id[PRODUCT_ID_MAX + 32];
  if (!product_id(path, id, sizeof id))
    return api_error(rq, 400, "trace.bad_query", "the product identifier is empty or too long");
  json_t *rec;
  r = api_trace_query(rq, nc, "trace.product", json_pack("{s:s}", "id", id), &rec);
  if (rec == NULL) return r;
  if (add_proofs(nc, rec) != HANSE_OK) {
    json_decref(rec);
    return api_error_rc(rq, HANSE_ERR(IO), "cannot read the record's proofs");
  }
  return api_json(rq, 200, rec);
}

static enum MHD_Result purchases(hanse_req *rq, hanse_node_chain *nc) {
  enum MHD_Result r;
  if (!api_signed(rq, nc, "list your purchases", &r)) return r;
  hanse_hash h;
  hanse_sha256(&h, rq->signer.b, sizeof rq->signer.b);
  char buyer[HANSE_HASH_HEX_BYTES];
  hanse_hash_hex(buyer, &h);
  json_t *res;
  r = api_trace_query(rq, nc, "trace.purchases", json_pack("{s:s}", "buyer", buyer), &res);
  if (res == NULL) return r;
  json_object_set_new(res, "buyer", json_string(buyer));
  return api_json(rq, 200, res);
}

enum MHD_Result res_products(hanse_req *rq, hanse_node_chain *nc, const char *rest) {
  if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0)
    return api_method_not_allowed(rq, "GET");
  if (rest[0] == 0 || strcmp(rest, "/") == 0) {
    json_t *params = api_params_json(rq);
    const char *mine = json_string_value(json_object_get(params, "mine"));
    int ok = mine && strcmp(mine, "1") == 0 && json_object_size(params) == 1;
    json_decref(params);
    if (!ok)
      return api_error(rq, 400, "trace.bad_query",
                       "list your purchases with ?mine=1 (signed); read one product at "
                       "/products/{id}");
    return purchases(rq, nc);
  }
  return product(rq, nc, rest + 1);
}
