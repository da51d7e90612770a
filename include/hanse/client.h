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
 *   hanse_client_validators_fetch  the validator set, once (or _set)
 *   hanse_client_tx_get          status, receipt, inclusion proof and
 *                                commit certificate ...
 *   hanse_client_proof_verify    ... checked here, without trusting the node
 *   hanse_client_block_get*, _status, _query, _get   other reads
 *   hanse_client_history         who changed a state record, and when
 *   hanse_client_blob_put_file   upload a document, then anchor it with
 *   hanse_client_blob_anchor_payload; hanse_client_blob_get reads it back
 *   hanse_client_xchain_relay    carry an xchain.send of one chain to another
 *   hanse_client_seal_field      seal a payload field before building ...
 *   hanse_client_grants_get      ... and, reading, the grants of a tx,
 *   hanse_client_tx_open         open the fields my key can open,
 *   hanse_client_grant_build     re-seal one to a later recipient
 *   hanse_client_fx_quote        make and sign an exchange-rate quote
 *   hanse_client_ledger_conf_transfer  hide a ledger transfer's amount ...
 *   hanse_ledger_conf_open             ... open one, and
 *   hanse_client_ledger_audit          check an asset's or account's sums
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
#include "crypto/pedersen.h"
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

/* Sign every request from now on with `kp` (RFC 9421 HTTP Message
 * Signatures: method, path, query, Content-Digest of the body, creation
 * time and a random nonce; keyid = the public key in hex). Chains with a
 * policy require it for everything but their public views. `kp` is
 * borrowed and must outlive its use; the client never copies the secret.
 * NULL stops signing. */
void hanse_client_set_signer(hanse_client *c, const hanse_keypair *kp);

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

/* The chain's validator keys, against which proofs' commit certificates
 * are checked (hanse_client_proof_verify): set them from a source the
 * caller trusts (n of them, 1..64, copied), or fetch them from the node's
 * GET /v1/chains/{chain}/genesis -- which trusts that node for the
 * genesis, once, and no longer for each block. Until one of these is
 * called, certificates are not checked. */
int hanse_client_validators_set(hanse_client *c, const hanse_pubkey *keys, size_t n,
                                hanse_reject *rej);
int hanse_client_validators_fetch(hanse_client *c, hanse_reject *rej);

/* Check a block's commit certificate -- the "certificate" member of a
 * block or tx_get answer, {"signatures":[{"signer","sig"}], ...} -- for
 * the block `block_hash` at `height`, against the client's validators:
 * every signature by a validator and valid (encoding/cert.h), and a
 * quorum (floor(n/2)+1) of distinct validators. *signed_by and
 * *validators (either may be NULL) get k and n. HANSE_OK; without a
 * validator set HANSE_ERR(INVALID), code "cert.no_validators"; otherwise
 * HANSE_ERR(INVALID) with "cert.malformed", "cert.not_validator",
 * "cert.bad_signature" or "cert.short". The members the node adds
 * ("validators", "quorum", "complete") are its word and are ignored. */
int hanse_client_cert_verify(const hanse_client *c, json_t *cert, uint64_t height,
                             const hanse_hash *block_hash, int *signed_by, int *validators,
                             hanse_reject *rej);

/* Check the inclusion proof in a tx_get answer locally, trusting nothing
 * the node said: the id is recomputed from "raw" (and must equal
 * `expect_id` when that is not NULL), the raw transaction decodes for the
 * chain and its signature verifies (a batched one's: its batch's, given in
 * "batch_raw", which must hold it); the header decodes,
 * hashes to "block_hash", carries the proposer's valid signature and the
 * receipt's height; the Merkle path leads from the id at "index" to the
 * header's tx_root. With a validator set (hanse_client_validators_set or
 * _fetch) also: the proposer is a validator, and the answer carries the
 * block's "certificate", which passes hanse_client_cert_verify -- a
 * quorum of the validators, not one node, stands behind the block.
 * HANSE_OK if all hold. A pending transaction has no
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

/* GET /v1/chains/{chain}/history?key=...: the audit trail of the state
 * record `key` ("asset/bal/EURT/<owner hex>"), newest first:
 * {"key","changes":[{"height","index","tx","signer","member","who",
 * "time_ms","op","value_sha256"}...],"next"} (docs/API.md, "History").
 * `limit` 0 takes the node's page size (100), else 1..1000; `before` 0
 * starts at the newest change, else it is the "next" of the page before.
 * A key without history: HANSE_ERR(NOT_FOUND), code "history.not_found".
 * An empty key: "client.bad_path". */
int hanse_client_history(hanse_client *c, const char *key, uint32_t limit,
                         uint64_t before, json_t **out, hanse_reject *rej);

/* ---- 6. Confidential fields ------------------------------------------- */

/* A payload field can be sealed to a set of recipients: the chain stores
 * only the ciphertext and the recipient list (crypto/confidential.h has
 * the format), and validity never depends on decrypting. A field is named
 * by its path in the payload, "meta.price" (hanse_confidential_path_valid:
 * segments of [A-Za-z0-9_-], array elements by index), and bound to its
 * place by the associated data "<chain id>/<kind>/<path>": a ciphertext
 * copied elsewhere does not open. A recipient added later receives the
 * field key re-sealed in a seal.grant transaction (modules/seal); history
 * is not re-encrypted. Rejections of these functions carry the
 * confidential.* codes of crypto/confidential.h, or a client code. */

/* Replace the value at `path` of `payload` (a JSON object, modified in
 * place) by a confidential field sealed to the n recipients (1..64
 * distinct Ed25519 public keys; list your own key to read it back) for a
 * transaction of `kind` on the client's chain. Do this before
 * hanse_client_tx_build. Rejections: "client.bad_path" (no valid path, no
 * value there, or a value already sealed), "client.bad_op" (a bad kind),
 * and those of hanse_confidential_seal. */
int hanse_client_seal_field(const hanse_client *c, const char *kind,
                            json_t *payload, const char *path,
                            const hanse_pubkey *recipients, size_t n,
                            hanse_reject *rej);

/* GET /v1/chains/{chain}/query/seal/grants?tx=<id>, every page: *grants
 * is an array of grant records {"tx","field","recipient","sealed","by",
 * "height"} (docs/API.md). A node without the seal module answers 404
 * "query.unknown". */
int hanse_client_grants_get(hanse_client *c, const hanse_hash *tx_id,
                            json_t **grants, hanse_reject *rej);

/* Open every confidential field in the payload of `tx_doc` (an answer of
 * hanse_client_tx_get) that `me` can open: as a listed recipient, or
 * through one of `grants` (from hanse_client_grants_get; may be NULL)
 * made to my key for that transaction and field. Chain, kind, id and
 * payload are taken from the raw bytes in the answer, not from the node's
 * decoded copy. On HANSE_OK, *payload_out is a copy of the payload with
 * each opened field replaced by its value, and *unopened_out an array of
 * {"field","code","message"} for each field left sealed (code
 * "confidential.not_recipient" when my key has no way in; the other
 * confidential.* codes when a key failed to open it). Both are new
 * references. Fails only with "client.pending" (the answer has no
 * committed transaction yet), "client.bad_response" (its raw bytes are
 * not a transaction of this chain) or NOMEM. The opened values are
 * secrets: keep them short-lived (jansson does not wipe what it frees). */
int hanse_client_tx_open(const hanse_client *c, json_t *tx_doc,
                         json_t *grants, const hanse_keypair *me,
                         json_t **payload_out, json_t **unopened_out,
                         hanse_reject *rej);

/* The payload of a seal.grant giving `recipient` the field at `path` of
 * the transaction in `tx_doc`, which `me` must be able to open (listed,
 * or through one of `grants`, may be NULL): the field key is unsealed,
 * proven to open the ciphertext, and sealed to `recipient`. The payload is
 * {"tx","field","recipient","sealed"} (and the transaction's "class", if
 * its payload names one); build it as kind "seal.grant". Rejections:
 * "client.bad_path" (no field there), "seal.exists" (409: `grants`
 * already holds one for that recipient), the codes of
 * hanse_confidential_reseal, and those of hanse_client_tx_open. */
int hanse_client_grant_build(const hanse_client *c, json_t *tx_doc,
                             json_t *grants, const char *path,
                             const hanse_keypair *me,
                             const hanse_pubkey *recipient,
                             json_t **payload_out, hanse_reject *rej);

/* ---- 7. Documents off chain (blobs) ----------------------------------- */

/* A document can be kept in the node's blob store with only its digest
 * and metadata on the chain (docs/API.md, "Blobs"), in two steps:
 * hanse_client_blob_put_file uploads the bytes, then a notary.anchor
 * built by hanse_client_blob_anchor_payload puts the digest on the chain.
 * Until that anchor commits the node serves the document to nobody. A
 * download is verified twice: by the node against its copy, and here
 * against the digest asked for. */

/* PUT /v1/chains/{chain}/blobs/{sha256} with the file at `path` as the
 * body (at most HANSE_BLOB_MAX_BYTES, 64 MiB): the file is hashed, then
 * streamed from disk, never held in memory; its Content-Digest is signed
 * with the other headers when the client has a signer (chains with a
 * policy require one). The node keeps it only if the bytes it received
 * hash to the name. On HANSE_OK: *digest, *size_bytes (may be NULL) of
 * what was sent, *created (may be NULL) 1 if the node stored it now, 0 if
 * it had it already. Rejections: "file.unreadable", "blob.too_large"
 * (413, locally or from the node), the node's "blob.digest_mismatch" (the
 * file changed while it was sent) and auth.* codes. */
int hanse_client_blob_put_file(hanse_client *c, const char *path,
                               hanse_hash *digest, uint64_t *size_bytes,
                               int *created, hanse_reject *rej);

/* The notary.anchor payload that puts an uploaded blob on the chain:
 * {"hash", "name", "class", "meta":{"blob":true, "size", "media_type"}};
 * name, media_type and data_class may be NULL (omitted; the node then
 * serves application/octet-stream under the notary's class). New
 * reference, NULL if a string is not UTF-8 or memory ran out. */
json_t *hanse_client_blob_anchor_payload(const hanse_hash *digest,
                                         uint64_t size_bytes, const char *name,
                                         const char *media_type,
                                         const char *data_class);

/* GET /v1/chains/{chain}/blobs/{sha256}: the document into `out` (reset
 * first; the caller's), checked here: bytes that do not hash to `digest`
 * are "client.digest_mismatch" and are wiped from `out`. media_type (may
 * be NULL) receives the served Content-Type, cut to media_type_cap bytes.
 * The node's rejections: "blob.not_anchored" and "blob.missing" (404),
 * "blob.corrupt" (500: the node's copy is damaged), the read policy's
 * 401/403. */
/* GET `path` (with its query; signed when the client has a signer) and
 * the answer's bytes, whatever its type, into `out` (reset first; at most
 * `max` bytes, else "client.transport"). For binary answers such as
 * GET /v1/chains/{c}/blocks/raw. A 4xx/5xx is the node's rejection. */
int hanse_client_get_raw(hanse_client *c, const char *path, hanse_buf *out, size_t max,
                         hanse_reject *rej);

int hanse_client_blob_get(hanse_client *c, const hanse_hash *digest,
                          hanse_buf *out, char *media_type,
                          size_t media_type_cap, hanse_reject *rej);

/* ---- 8. Messages between chains --------------------------------------- */

/* A message from chain A to chain B is an xchain.send committed on A,
 * carried to B in an xchain.receive with A's transaction, block header
 * and Merkle path; B checks them against the validators its genesis
 * names for A ("peers") and records the message once (docs/API.md,
 * "Messages between chains"). Anyone B's policy lets submit may relay. */

/* The xchain.receive payload for `tx_doc`, an answer of
 * hanse_client_tx_get from `src` (A's client) for the transaction `id`
 * (may be NULL): the proof is verified first (hanse_client_proof_verify's
 * rejections), then *payload (new reference) is {"from_chain","tx",
 * "header","index","tx_count","path"} with "batch" for a batched send and
 * the send's "class" if it names one. Rejections besides the proof's:
 * "xchain.source_rejected" (A's receipt is not "ok": headers do not commit
 * to receipts, so B could not tell, and an honest relayer does not carry
 * it) and "xchain.not_a_send". */
int hanse_client_xchain_payload(const hanse_client *src, json_t *tx_doc,
                                const hanse_hash *id, json_t **payload,
                                hanse_reject *rej);

/* Relay A's transaction `id`: read it from `src` (A's client), build the
 * payload above, sign an xchain.receive with kp at kp's next sequence on
 * `dst` (B's client) and submit it with `flags` and `wait_timeout_ms` as
 * hanse_client_submit. On HANSE_OK *result is B's answer and the receive
 * committed "ok" (or, without HANSE_SUBMIT_WAIT, is at least pending). On
 * failure *result is B's answer if there was one, else NULL; json_decref
 * it either way. B's rejections include xchain.duplicate (409: received
 * before), xchain.unknown_peer and xchain.unknown_validator (403). */
int hanse_client_xchain_relay(hanse_client *src, hanse_client *dst,
                              const hanse_hash *id, const hanse_keypair *kp,
                              int flags, long wait_timeout_ms, json_t **result,
                              hanse_reject *rej);

/* ---- 9. Traceability: published product records ------------------------ */

/* Publish the screened record of a product from the alliance chain of
 * `src` to the open chain of `dst` (modules/trace/trace_publish.c): read
 * the entries the alliance will accept for `epcs` (the item's identifier,
 * then any lineage items, '|'-delimited) as kp may read them, send them
 * in as many trace.publish messages as they need (each waited for), and
 * relay each to `dst`, signed by kp. `buyer` (may be NULL): hex SHA-256 of
 * the buyer's public key, so the buyer finds the product among their
 * purchases. *report (new reference): {"product","events","skipped",
 * "publications":[{"alliance_tx","open_tx","events"}]}. Rejections: the
 * alliance's and the open chain's, and "trace.nothing_to_publish". */
int hanse_client_trace_publish(hanse_client *src, hanse_client *dst, const hanse_keypair *kp,
                               const char *epcs, const char *buyer, json_t **report,
                               hanse_reject *rej);

/* Check a product record (GET /v1/chains/{open}/products/{id}) offline:
 * each publication's proof holds and its block was signed by a key of
 * `trusted` ({"<alliance chain>": [validator keys hex]}; NULL: the
 * record's own "trusted", as the open chain's genesis names them); and
 * every entry is, byte for byte, one of its publication's. *report (new
 * reference, also on failure): {"product","ok","trusted","publications":
 * [{"source_tx","from_chain","ok","why"?}],"events":[{"eventID","ok",
 * "why"?}]}. HANSE_OK when everything holds; otherwise
 * "trace.unverified" (or "trace.bad_record" for a document that is not a
 * record). */
int hanse_trace_record_verify(json_t *record, json_t *trusted, json_t **report,
                              hanse_reject *rej);

/* ---- 10. Exchange-rate quotes (modules/fx) ------------------------------ */

/* What a market maker quotes: it sells `sell` for `buy` at num/den units
 * of sell per unit of buy, from valid_from_ms until (not including)
 * valid_until_ms in block time, for at most `max` of buy in all, through
 * its accounts buy_account (receives buy) and sell_account (pays sell). */
typedef struct hanse_fx_quote_spec {
  const char *id, *maker, *sell, *buy, *buy_account, *sell_account;
  uint64_t num, den, valid_from_ms, valid_until_ms, max;
} hanse_fx_quote_spec;

/* The quote as JSON, signed by kp (the maker's key; encoding/fx_quote.h
 * says what the signature covers), in *out (new reference). Made off
 * chain: the payer carries it in an fx.pay. client.bad_quote when a
 * number is out of range (num, den, max from 1 to 2^63-1, valid_from_ms
 * < valid_until_ms <= 2^63-1) or a string is missing; the chain checks
 * the rest. */
int hanse_client_fx_quote(const hanse_fx_quote_spec *s, const hanse_keypair *kp, json_t **out,
                          hanse_reject *rej);
/* ---- 11. Confidential ledger amounts ---------------------------------- */

/* Where the chain's policy makes an asset confidential, a ledger transfer
 * carries {"commitment","opening"} instead of its amount: a Pedersen
 * commitment C = a*G + r*H (crypto/pedersen.h) and the opening
 * {"amount":a,"blinding":"<64 hex r>"} sealed as a confidential field
 * under the associated data "<chain id>/ledger.transfer/<transfer id>"
 * (docs/FORMATS.md, ledger module). The node adds commitments; only the
 * recipients of the openings know the amounts. */

/* Replace the clear "amount" of transfer object `t` (a member of
 * ledger.transfer's "transfers", modified in place) by a confidential
 * one sealed to: `me`'s key, the n `extra` keys (may be 0; for an
 * organisation, one of its members' keys), each account owner that is a
 * key (open chains), and every auditor the chain's policy names (query
 * ledger/confidential), then hanse_ledger_conf_seal. Rejections: the
 * node's (reading the policy and accounts), and those of
 * hanse_ledger_conf_seal. */
int hanse_client_ledger_conf_transfer(hanse_client *c, const hanse_keypair *me, json_t *t,
                                      const hanse_pubkey *extra, size_t n,
                                      hanse_reject *rej);

/* The same without a node: seal t's amount for a transfer on chain
 * `chain_id` to exactly the n recipients given (1..64 distinct keys).
 * The blinding is fresh randomness. Rejections: "ledger.bad_amount" (t
 * has no integer amount 1..2^63-1), "ledger.bad_id", those of
 * hanse_confidential_seal. */
int hanse_ledger_conf_seal(const char *chain_id, json_t *t, const hanse_pubkey *recipients,
                           size_t n, hanse_reject *rej);

/* Open the confidential amount of `xfer` (a transfer record or request
 * on chain `chain_id`: {"id","amount":{"commitment","opening"}};
 * borrowed) with my key and
 * check it: *amount is 1..2^63-1 and C == amount*G + blinding*H. Codes:
 * "ledger.not_confidential" (a clear amount), the confidential.* codes
 * (my key does not open it), "ledger.bad_opening" (the plaintext is not
 * {"amount","blinding"} with a canonical scalar), "ledger.amount_range",
 * "ledger.opening_mismatch" (it does not open the commitment). The
 * blinding is a secret: wipe it (sodium_memzero) when done. */
int hanse_ledger_conf_open(const char *chain_id, json_t *xfer, const hanse_keypair *me,
                           uint64_t *amount, hanse_scalar *blinding, hanse_reject *rej);

/* Audit confidential amounts with my key: every confidential transfer of
 * `asset` (an auditor), or of `account` (a party reading its own
 * balance; exactly one of the two is not NULL). Each transfer is opened
 * and checked (hanse_ledger_conf_open); the opened amounts and
 * blindings are summed per account and balance field by the transfer's
 * status (pending, posted; voided and expired count nowhere); and each
 * sum's commitment is compared with the node's commitment balance of the
 * account (and, for an asset, of its totals). *report (new reference,
 * also when the audit finds problems): {"asset"|"account","transfers":n,
 * "opened":k,"accounts":[{"account","owner","ok","debits_pending",
 * "debits_posted","credits_pending","credits_posted"}] (clear balances
 * plus opened amounts, decimal strings),"problems":[{"transfer"|"account"
 * |"totals","code","message"}],"ok"}. HANSE_OK when the audit ran (look at
 * "ok"); a rejection only when the node could not be read. */
int hanse_client_ledger_audit(hanse_client *c, const char *asset, const char *account,
                              const hanse_keypair *me, json_t **report, hanse_reject *rej);

#endif
