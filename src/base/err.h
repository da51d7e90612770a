/*
 * err.h -- the one error enum of Hanse, and the rejection record.
 *
 * Three kinds of failure are kept apart (STYLE.md):
 *  - invalid input: a rejection with a stable reason code such as
 *    "tx.bad_signature", never an assertion;
 *  - an environmental failure (I/O, memory): an error code, and the store
 *    turns sticky-failed;
 *  - a bug: an assertion (kept in release builds).
 *
 * Every function that can fail returns `int`: HANSE_OK (0) or a negative
 * hanse_err. Functions that can reject input also take a `hanse_reject *`
 * that receives the stable code string, an HTTP status and a message with
 * context. Modules may use their own code strings ("asset.unknown") without
 * adding to the enum: the enum is for the core.
 */
#ifndef HANSE_ERR_H
#define HANSE_ERR_H

#include <stdarg.h>

/* X(name, stable code, HTTP status, default message) */
#define HANSE_ERRORS(X)                                                       \
  X(OK, "ok", 200, "success")                                                 \
  X(NOMEM, "internal.nomem", 500, "out of memory")                            \
  X(IO, "internal.io", 500, "I/O error")                                      \
  X(INTERNAL, "internal.error", 500, "internal error")                        \
  X(STORE_FAILED, "store.failed", 503,                                        \
    "the store refuses writes after an I/O error; restart the node")          \
  X(NOT_FOUND, "not_found", 404, "not found")                                 \
  X(INVALID, "invalid", 400, "invalid input")                                 \
  X(DECODE_TRUNCATED, "decode.truncated", 400, "input ends early")            \
  X(DECODE_TRAILING, "decode.trailing", 400,                                  \
    "trailing bytes after the encoded object")                                \
  X(DECODE_OVERSIZED, "decode.oversized", 400, "a field exceeds its bound")   \
  X(DECODE_BAD_TYPE, "decode.bad_type", 400, "unknown object type byte")      \
  X(DECODE_BAD_VERSION, "decode.bad_version", 400,                            \
    "unsupported format version")                                             \
  X(DECODE_BAD_FIELD, "decode.bad_field", 400, "a field has a bad value")     \
  X(TX_BAD_SIGNATURE, "tx.bad_signature", 400, "signature does not verify")  \
  X(TX_WRONG_CHAIN, "tx.wrong_chain", 400,                                    \
    "transaction is for another chain")                                       \
  X(TX_UNKNOWN_KIND, "tx.unknown_kind", 400,                                  \
    "no module handles this transaction kind")                                \
  X(TX_BAD_PAYLOAD, "tx.bad_payload", 400, "payload is not valid")            \
  X(TX_STALE_SEQUENCE, "tx.stale_sequence", 409,                              \
    "sequence number already used by this signer")                            \
  X(TX_SEQUENCE_CONFLICT, "tx.sequence_conflict", 409,                        \
    "another transaction with this signer and sequence is pending")           \
  X(TX_SEQUENCE_TOO_FAR, "tx.sequence_too_far", 409,                          \
    "sequence number too far ahead of the signer's committed sequence")       \
  X(TX_BAD_SEQUENCE, "tx.bad_sequence", 409,                                  \
    "sequence number is not the signer's next")                               \
  X(BATCH_BAD_SIGNER, "batch.bad_signer", 400,                                \
    "a transaction in the batch names another signer")                        \
  X(BATCH_BAD_SEQUENCE, "batch.bad_sequence", 400,                          \
    "sequence numbers in a batch must be consecutive")                        \
  X(BATCH_REJECTED, "batch.rejected", 400,                                    \
    "another transaction of the same batch was rejected")                     \
  X(CHAIN_UNKNOWN, "chain.unknown", 404, "this node serves no such chain")    \
  X(TX_NOT_FOUND, "tx.not_found", 404, "no such transaction")                 \
  X(MEMPOOL_FULL, "mempool.full", 503, "mempool is full; retry later")        \
  X(SUBMIT_TOO_MANY, "submit.too_many", 413,                                  \
    "too many transactions in one request")                                   \
  X(CHAIN_BROKEN, "chain.broken", 500, "stored chain fails verification")     \
  X(HTTP_NOT_FOUND, "http.not_found", 404, "no such route")                   \
  X(HTTP_METHOD, "http.method_not_allowed", 405, "method not allowed")        \
  X(HTTP_TOO_LARGE, "http.body_too_large", 413, "request body too large")     \
  X(HTTP_BAD_JSON, "http.bad_json", 400, "request body is not valid JSON")    \
  X(HTTP_BAD_PARAM, "http.bad_param", 400, "bad request parameter")           \
  X(HTTP_BAD_MEDIA, "http.unsupported_media_type", 415,                       \
    "unsupported content type")                                               \
  X(CANCELLED, "internal.cancelled", 503, "stopped: the node is shutting down") \
  X(UNREACHABLE, "cluster.unreachable", 503, "no peer could be reached")

typedef enum {
#define HANSE_X_ENUM(name, code, status, msg) HANSE_E_##name,
  HANSE_ERRORS(HANSE_X_ENUM)
#undef HANSE_X_ENUM
      HANSE_E_COUNT
} hanse_err_index;

/* Return codes are the negated index; HANSE_OK is 0. */
#define HANSE_OK 0
#define HANSE_ERR(name) (-(int)HANSE_E_##name)

/* Stable code string, HTTP status and default message of a return code. */
const char *hanse_err_code(int rc);
int hanse_err_status(int rc);
const char *hanse_err_message(int rc);

#define HANSE_REJECT_CODE_MAX 48
#define HANSE_REJECT_MSG_MAX 256

/* A rejection: stable code, HTTP status and a message with context. */
typedef struct hanse_reject {
  int rc;                                /* HANSE_ERR(...) or HANSE_ERR(INVALID) */
  int status;                            /* HTTP status */
  char code[HANSE_REJECT_CODE_MAX];      /* "tx.bad_signature" */
  char message[HANSE_REJECT_MSG_MAX];    /* human text with context */
} hanse_reject;

/* Fill `rej` (may be NULL) from a core code; fmt may be NULL for the default
 * message. Returns rc, so `return hanse_reject_set(rej, rc, ...)` works. */
int hanse_reject_set(hanse_reject *rej, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Fill `rej` with a module's own code string (e.g. "asset.unknown") and
 * status. Returns HANSE_ERR(INVALID). */
int hanse_reject_code(hanse_reject *rej, const char *code, int status,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The general form: any rc, code string and status (0: none). */
int hanse_reject_vfill(hanse_reject *rej, int rc, const char *code, int status,
                       const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
/* Prefix context to an existing message: "batch tx 7: <old message>". */
void hanse_reject_prefix(hanse_reject *rej, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void hanse_reject_clear(hanse_reject *rej);

#endif
