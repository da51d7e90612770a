/*
 * hanse/client.h -- the C client of a Hanse node's HTTP API (docs/API.md).
 *
 * A program that wants to put transactions on a Hanse chain, or read one,
 * uses this header and nothing else of the node. It is what the `hanse`
 * command line is built on.
 *
 * A session, in the order a caller goes through it:
 *
 *   hanse_client_create          one client per node URL and chain id
 *   hanse_client_next_seq        the signer's next sequence number
 *   hanse_client_tx_build        encode and sign one transaction, or
 *   hanse_client_batch_build     encode several and sign them once
 *   hanse_client_submit          send them (optionally wait for commit)
 *   hanse_client_result_check    did every one of them commit with "ok"?
 *   hanse_client_tx_get          status, receipt and inclusion proof ...
 *   hanse_client_proof_verify    ... checked here, without trusting the node
 *   hanse_client_block_get*, _status, _query, _get   other reads
 *   hanse_client_destroy
 *
 * Conventions, stated once:
 *
 *  - Every function that can fail returns HANSE_OK (0) or a negative
 *    hanse_err (base/err.h) and fills the `hanse_reject *rej` it is given
 *    (rej may be NULL). A rejection by the node carries the node's own
 *    stable code and message from its {"error":{"code","message"}} body and
 *    the HTTP status; the return code is the matching core code when the
 *    node's code is one (HANSE_ERR(TX_BAD_SEQUENCE) for "tx.bad_sequence"),
 *    else HANSE_ERR(NOT_FOUND) for a 404, HANSE_ERR(INTERNAL) for a 5xx and
 *    HANSE_ERR(INVALID) for any other 4xx. Other failures carry a client
 *    code:
 *
 *      client.unreachable   no connection (node down, wrong host or port)
 *      client.timeout       no answer in time
 *      client.transport     any other transfer failure
 *      client.bad_response  an answer that is not the JSON the API promises
 *                           (these four: HANSE_ERR(IO), status 0)
 *      client.http          an HTTP error status without the API's error
 *                           body (a proxy's page, say): its status, and
 *                           HANSE_ERR(INTERNAL) or HANSE_ERR(INVALID)
 *      client.bad_url, client.bad_chain, client.bad_op, client.bad_batch,
 *      client.bad_entry, client.empty, client.bad_path
 *                           the caller's arguments: HANSE_ERR(INVALID)
 *
 *  - `const` pointers are borrowed for the duration of the call. A
 *    `json_t **out` receives a new reference the caller must json_decref;
 *    it is set to NULL on failure. Output parameters come last.
 *  - A client is not thread-safe: use one per thread. It keeps its
 *    connection to the node open between requests.
 *  - Secret keys stay with the caller: the client signs with a
 *    hanse_keypair it borrows and never copies, logs or sends it.
 */
#ifndef HANSE_CLIENT_H
#define HANSE_CLIENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "crypto/sign.h"
#include "encoding/tx.h"

typedef struct hanse_client hanse_client;

/* ---- 1. Create and destroy ------------------------------------------- */

/* A client for the node at `base_url` ("http://127.0.0.1:8080", a trailing
 * slash is allowed) and the chain `chain_id` (1-32 of [a-z0-9._-]). The
 * strings are copied. *out is owned by the caller: hanse_client_destroy.
 * HANSE_OK, HANSE_ERR(INVALID) for a bad URL or chain id, HANSE_ERR(NOMEM). */
int hanse_client_create(const char *base_url, const char *chain_id,
                        hanse_client **out, hanse_reject *rej);

/* Time limit of one request (connect, send, answer), default 30,000 ms.
 * A submit with wait=1 adds its wait time to this limit. */
void hanse_client_set_timeout_ms(hanse_client *c, long timeout_ms);

/* The chain id the client was created for (borrowed from the client). */
const char *hanse_client_chain(const hanse_client *c);

/* NULL is allowed. Closes the connection. */
void hanse_client_destroy(hanse_client *c);

/* ---- 2. Sequence numbers ---------------------------------------------- */

/* A signer's transactions carry sequence numbers 1, 2, 3, ... and the
 * chain executes each one only as its signer's next. This asks the node
 * (GET /v1/chains/{chain}/accounts/{pubkey}) for the next unused number.
 * Transactions built from it must be submitted in sequence order. */
int hanse_client_next_seq(hanse_client *c, const hanse_pubkey *signer,
                          uint64_t *next_seq, hanse_reject *rej);

/* ---- 3. Build transactions -------------------------------------------- */

/* One intended action: a kind ("asset.transfer") and its JSON payload
 * object (borrowed; encoded compactly with sorted keys). */
typedef struct hanse_client_op {
  const char *kind;
  json_t *payload;
} hanse_client_op;

/* Encode `op` for the client's chain with sequence `seq` and the current
 * time, sign it with kp and append it to `out` (caller-owned, initialised).
 * If id is not NULL it receives the transaction id (SHA-256 of the bytes).
 * On failure `out` is left as it was. Rejections are those of
 * hanse_tx_encode (a payload over 64 KiB, a bad kind). */
int hanse_client_tx_build(hanse_client *c, const hanse_client_op *op,
                          uint64_t seq, const hanse_keypair *kp, hanse_buf *out,
                          hanse_hash *id, hanse_reject *rej);

/* Encode `count` ops (1..HANSE_BATCH_TX_MAX) as one batch signed once by
 * kp; op i gets sequence first_seq + i. Appends the batch to `out`. If
 * ids is not NULL it has room for `count` hashes and receives the inner
 * transactions' ids, which are what the node reports and indexes. */
int hanse_client_batch_build(hanse_client *c, const hanse_client_op *ops,
                             uint32_t count, uint64_t first_seq,
                             const hanse_keypair *kp, hanse_buf *out,
                             hanse_hash *ids, hanse_reject *rej);

/* ---- 4. Submit -------------------------------------------------------- */

/* One encoded object to submit: HANSE_TYPE_TX or HANSE_TYPE_BATCH, and its
 * bytes (borrowed) as produced above. */
typedef struct hanse_client_entry {
  uint8_t type;
  const uint8_t *data;
  size_t len;
} hanse_client_entry;

enum {
  /* Answer only when every accepted transaction is committed, or after
   * wait_timeout_ms (0: the node's default, 5,000 ms). */
  HANSE_SUBMIT_WAIT = 1,
  /* Send a JSON body of hex strings instead of the binary stream of
   * entries. The binary form is smaller and keeps the order of transactions
   * and batches; the JSON form is what a browser would send. */
  HANSE_SUBMIT_JSON = 2,
};

/* POST /v1/chains/{chain}/txs. On HANSE_OK (HTTP 200 or 202) *result is
 * the node's answer {"accepted","rejected","results":[...]}: some entries
 * may still have been rejected or committed with a failing code; see
 * hanse_client_result_check. When the node accepted nothing the call fails
 * with the first rejection. */
int hanse_client_submit(hanse_client *c, const hanse_client_entry *entries,
                        size_t count, int flags, long wait_timeout_ms,
                        json_t **result, hanse_reject *rej);

/* Look through a submit answer: HANSE_OK if every result is "committed"
 * with code "ok" or (allow_pending != 0) still "pending"; otherwise rej
 * receives the first failing result's code and message ("client.pending"
 * for one still pending), prefixed with the transaction id, and the
 * return is HANSE_ERR(INVALID). */
int hanse_client_result_check(json_t *result, int allow_pending,
                              hanse_reject *rej);

/* ---- 5. Read ---------------------------------------------------------- */

/* GET /v1/chains/{chain}/txs/{id}: status, receipt, decoded transaction,
 * raw bytes and inclusion proof (API.md, "Transactions"). */
int hanse_client_tx_get(hanse_client *c, const hanse_hash *id, json_t **out,
                        hanse_reject *rej);

/* Check the inclusion proof in a tx_get answer locally, trusting nothing
 * the node said: the id is recomputed from "raw" (and must equal
 * `expect_id` when that is not NULL), the raw transaction decodes for the
 * chain and, unless batched, its signature verifies; the header decodes,
 * hashes to "block_hash", carries the proposer's valid signature and the
 * receipt's height; the Merkle path leads from the id at "index" to the
 * header's tx_root. HANSE_OK if all hold. A pending transaction has no
 * proof: HANSE_ERR(NOT_FOUND), code "proof.pending". Any failed check:
 * HANSE_ERR(INVALID) with code "proof.invalid" and a message saying
 * which. */
int hanse_client_proof_verify(const hanse_client *c, json_t *tx_doc,
                              const hanse_hash *expect_id, hanse_reject *rej);

/* GET /v1/chains/{chain}/blocks/{height} and .../blocks/hash/{hash}. */
int hanse_client_block_get(hanse_client *c, uint64_t height, json_t **out,
                           hanse_reject *rej);
int hanse_client_block_get_by_hash(hanse_client *c, const hanse_hash *hash,
                                   json_t **out, hanse_reject *rej);

/* GET /v1/chains/{chain}/status: height, last hash, state digest, ... */
int hanse_client_status(hanse_client *c, json_t **out, hanse_reject *rej);

/* GET /v1/chains/{chain}/query/{module}/{name}?k=v&...; `params` is a
 * NULL-terminated list of alternating names and values (may be NULL).
 * Values are URL-escaped here. */
int hanse_client_query(hanse_client *c, const char *module, const char *name,
                       const char *const *params, json_t **out,
                       hanse_reject *rej);

/* Any other GET: `path` starts with "/" and is appended to the base URL
 * as given (the caller escapes it): "/v1/status", "/v1/health". */
int hanse_client_get(hanse_client *c, const char *path, json_t **out,
                     hanse_reject *rej);

#endif
