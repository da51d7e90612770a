/*
 * api_internal.h -- what the resource files share: the request record and
 * the response helpers. Not a public API.
 *
 * Every handler ends by queueing exactly one response through api_json,
 * api_error, api_reject or api_bytes and returning what they return.
 */
#ifndef HANSE_API_INTERNAL_H
#define HANSE_API_INTERNAL_H

#include <jansson.h>
#include <microhttpd.h>

#include "base/buf.h"
#include "crypto/httpsig.h"
#include "node/node.h"

typedef struct hanse_req {
  struct MHD_Connection *conn;
  hanse_node *node;
  const char *method;
  const char *url;          /* path, percent-decoded by MHD */
  char *uri;                /* owned: the request target as received */
  const char *content_type;
  hanse_buf body;
  int too_large;
  int responded;
  int started;              /* the handler has seen the request */
  hanse_httpsig_replay *replay; /* the server's replay cache, borrowed */
  /* auth.c: the request's signature, verified at most once. */
  int auth_state;           /* 0 not yet, 1 valid, 2 absent, -1 invalid */
  hanse_pubkey signer;      /* valid: the key that signed */
  hanse_reject auth_rej;    /* invalid: why */
  /* res_blobs.c: a blob's body streaming to disk (PUT .../blobs/{sha256}),
   * owned; freed by api_blob_upload_free. */
  struct api_blob_upload *upload;
  /* res_chain_status: the answer carries Access-Control-Allow-Origin: *,
   * so that one node's explorer can read its cluster peers' status. */
  int any_origin;
} hanse_req;

/* Responses. api_json takes ownership of j (decref'd). */
enum MHD_Result api_json(hanse_req *rq, int status, json_t *j);
enum MHD_Result api_error(hanse_req *rq, int status, const char *code,
                          const char *fmt, ...) __attribute__((format(printf, 4, 5)));
enum MHD_Result api_error_rc(hanse_req *rq, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
enum MHD_Result api_reject(hanse_req *rq, const hanse_reject *rej);
enum MHD_Result api_bytes(hanse_req *rq, int status, const char *content_type,
                          const void *data, size_t len, int copy);
/* Like api_bytes, taking ownership of malloc'd data (freed after send). */
enum MHD_Result api_bytes_take(hanse_req *rq, int status, const char *content_type,
                               void *data, size_t len);
enum MHD_Result api_method_not_allowed(hanse_req *rq, const char *allow);

/* Read authorization (auth.c): may the request's signer read data of
 * `data_class` (one of HANSE_DATA_CLASSES) on this chain? NULL asks only
 * for an authenticated active member (block lists, search, accounts).
 * Returns 1 when allowed; otherwise it has queued the 401/403 error
 * response, stored its result in *resp, and returns 0:
 *
 *   enum MHD_Result r;
 *   if (!api_read_allowed(rq, nc, "financial", &r)) return r;
 */
int api_read_allowed(hanse_req *rq, hanse_node_chain *nc, const char *data_class,
                     enum MHD_Result *resp);

/* 1 if the request is validly signed by `keyhex` and that key is an
 * active member of the chain (any key on a chain without a policy); 0
 * otherwise, with no response queued (the caller falls back to the read
 * policy). For a module's self queries (module.h). */
int api_signed_by(hanse_req *rq, hanse_node_chain *nc, const char *keyhex);
/* 1 if the request is validly signed by an active member of enterprise
 * `owner` -- a key whose organisation is `owner`, or the key whose hex
 * `owner` is -- on this chain (a module's owner queries). 0 otherwise,
 * without queuing a response. */
int api_signed_for_owner(hanse_req *rq, hanse_node_chain *nc, const char *owner);

/* 1 if the request is validly signed, by any key (rq->signer is then
 * that key); otherwise 401 queued in *resp and 0. `what` completes "...
 * requires a signed request to". For reads about the signer itself
 * (a consumer's purchases). */
int api_signed(hanse_req *rq, hanse_node_chain *nc, const char *what, enum MHD_Result *resp);

/* 1 if the request is validly signed by one of the chain's genesis
 * validators (a node of its cluster); otherwise 401 (no or a bad
 * signature) or 403 "auth.not_validator" queued in *resp and 0. For what
 * only the chain's nodes read whole: raw blocks (catch-up). */
int api_signed_by_validator(hanse_req *rq, hanse_node_chain *nc, enum MHD_Result *resp);

/* The data classes the request may read on this chain, as a bit mask
 * over HANSE_DATA_CLASSES in their order (bit 0 production, ...): the
 * public ones, and those the signer's roles may read when the request is
 * validly signed by an active member. Queues no response: for resources
 * that filter item by item (EPCIS events, each of its own class). A
 * caller that finds no bit it needs asks api_read_allowed for the error
 * to send (401 without a signature, 403 without the role). */
unsigned api_read_classes(hanse_req *rq, hanse_node_chain *nc);

/* Submission authorization (auth.c): on a chain with a policy, a POST of
 * transactions must be signed (RFC 9421) by an active member (any role;
 * each transaction's own signer is checked against policy.submit when it
 * executes). Same contract as api_read_allowed. */
int api_submit_allowed(hanse_req *rq, hanse_node_chain *nc, enum MHD_Result *resp);

/* Upload authorization (auth.c), for bodies streamed to disk rather than
 * buffered (blobs): the request must be signed by an active member of the
 * chain, and its Content-Digest must equal `body_sha256` (the SHA-256 of
 * the bytes received). Call once the whole body has arrived. Returns 1 and
 * fills *signer when allowed; otherwise queues 401/403 and returns 0. */
int api_upload_allowed(hanse_req *rq, hanse_node_chain *nc, const hanse_hash *body_sha256,
                       hanse_pubkey *signer, enum MHD_Result *resp);

/* Queue a response the caller built (to add its own headers); takes
 * ownership of resp. */
enum MHD_Result api_respond(hanse_req *rq, int status, struct MHD_Response *resp);

/* Blob uploads (res_blobs.c), streamed instead of collected in rq->body.
 * http.c calls, in order: api_blob_upload_begin on the request's first
 * call -- 0 if it is not a PUT to a blob's name, else 1 with the answer
 * for libmicrohttpd in *resp (an error may already be queued); then
 * api_blob_upload_piece for each piece of the body while rq->upload is
 * set; the end is routed to res_blobs as usual; api_blob_upload_free when
 * the request completes (NULL-safe, idempotent). */
int api_blob_upload_begin(hanse_req *rq, enum MHD_Result *resp);
enum MHD_Result api_blob_upload_piece(hanse_req *rq, const char *data, size_t len);
void api_blob_upload_free(hanse_req *rq);
/* A digest as a Content-Digest field value (RFC 9530): "sha-256=:<base64>:".
 * Returns out. */
#define API_BLOB_DIGEST_FIELD_BYTES (9 + 44 + 1 + 1)
char *api_blob_digest_field(char out[API_BLOB_DIGEST_FIELD_BYTES], const hanse_hash *d);
/* The Content-Type to serve a blob with: its anchor's meta.media_type when
 * that is a plain "type/subtype", else application/octet-stream. Borrowed
 * from `anchor` or static. */
const char *api_blob_media_type(json_t *anchor);

/* Cluster mode (forward.c): a submission (or an account's next sequence)
 * asked of a node that is not the ready leader is forwarded to the leader
 * and its answer relayed. Returns 1 with the response queued in *resp, or
 * 0 when this node handles the request itself (no cluster, or it is the
 * leader). */
int api_forward_to_leader(hanse_req *rq, hanse_node_chain *nc, enum MHD_Result *resp);
/* A cluster node the chain's governance added (state cluster/node/<id>,
 * status "member"): 1 and *out filled, else 0. For members that are not
 * in this node's --peers list (forward.c, res_status.c). */
int api_cluster_node_lookup(hanse_node_chain *nc, uint64_t raft_id, hanse_cluster_member *out);

/* Query parameters. NULL if absent. */
const char *api_param(hanse_req *rq, const char *name);
/* Parse an unsigned decimal parameter; 1 ok, 0 absent, -1 malformed. */
int api_param_u64(hanse_req *rq, const char *name, uint64_t *out);
/* All query parameters as a JSON object of strings (new reference). */
json_t *api_params_json(hanse_req *rq);

/* Hex helper: a new JSON string of hex. */
json_t *api_hex(const void *p, size_t n);

/* Resources. `rest` is the path after /v1/chains/{chain}/<resource>. */
enum MHD_Result res_txs(hanse_req *rq, hanse_node_chain *nc, const char *rest);
enum MHD_Result res_blocks(hanse_req *rq, hanse_node_chain *nc, const char *rest);
enum MHD_Result res_chain_status(hanse_req *rq, hanse_node_chain *nc);
enum MHD_Result res_search(hanse_req *rq, hanse_node_chain *nc);
enum MHD_Result res_accounts(hanse_req *rq, hanse_node_chain *nc, const char *rest);
enum MHD_Result res_genesis(hanse_req *rq, hanse_node_chain *nc);
enum MHD_Result res_query(hanse_req *rq, hanse_node_chain *nc, const char *rest);
enum MHD_Result res_blobs(hanse_req *rq, hanse_node_chain *nc, const char *rest);
enum MHD_Result res_history(hanse_req *rq, hanse_node_chain *nc, const char *rest);
enum MHD_Result res_epcis(hanse_req *rq, hanse_node_chain *nc, const char *rest);
enum MHD_Result res_products(hanse_req *rq, hanse_node_chain *nc, const char *rest);
/* Run the trace module's query `name` with `params` (stolen) on a reader
 * (res_epcis.c): MHD_YES with *result (new reference) to answer, or the
 * queued error with *result NULL. For the routes that decide themselves
 * who may ask (res_epcis.c, res_products.c). */
enum MHD_Result api_trace_query(hanse_req *rq, hanse_node_chain *nc, const char *name,
                                json_t *params, json_t **result);
enum MHD_Result res_certs(hanse_req *rq, hanse_node_chain *nc, const char *rest);
enum MHD_Result res_node_status(hanse_req *rq);
enum MHD_Result res_health(hanse_req *rq);
enum MHD_Result res_metrics(hanse_req *rq);
/* Static explorer files; returns MHD_NO-free 404 via api_error if none. */
enum MHD_Result res_web(hanse_req *rq, const char *path);

/* Product links (issue 5): the consumer page /p/{path}, where {path} is a
 * GS1 Digital Link path, and its QR codes /p/{path}/qr.svg|qr.png.
 * api_qr_path: 1 if `url` (decoded path) names a QR image; res_qr answers
 * it (res_qr.c). api_dl_path_check (dl_path.c): HANSE_OK if path[0..len)
 * -- as sent, percent-escapes kept, no leading "/" -- is a Digital Link
 * primary key with its qualifiers ("01/09521234543213/21/12345"); else a
 * 400 rejection with the stable `code` the caller names ("qr.bad_id") and
 * a message saying what is wrong. */
int api_qr_path(const char *url);
enum MHD_Result res_qr(hanse_req *rq);
int api_dl_path_check(const char *path, size_t len, const char *code, hanse_reject *rej);

/* The GET /txs/{id} document of a committed transaction: receipt, decoded
 * transaction, raw bytes, proof (and batch_raw when batched). New
 * reference, NULL on allocation failure. `id_hex` is the id's hex. */
json_t *api_tx_json(const hanse_tx_proof *p, const char *id_hex);

/* The "certificate" of block `height` (res_certs.c): {"signatures":
 * [{"signer","sig"}], "validators", "quorum", "complete"} from the
 * signatures stored on reader `rd`. New reference, NULL on allocation
 * failure. */
/* "catchup" of a clustered chain's status (res_status.c): null before
 * any catch-up from a snapshot since the node started, else {"active",
 * "runs", "from", "target", "height", "peer", "elapsed_ms",
 * "blocks_per_s"} of the current or last one. */
json_t *api_catchup_json(const hanse_consensus_role *r);
/* Blocks per second of a catch-up (0 before a second's worth). */
double api_catchup_rate(const hanse_consensus_role *r);

json_t *api_certificate_json(hanse_store *rd, hanse_chain *c, uint64_t height);

/* Block JSON (res_blocks.c), shared with search. NULL + rc on error. */
json_t *api_block_json(hanse_store *rd, uint64_t height, int with_txs, int *rc);

#endif
