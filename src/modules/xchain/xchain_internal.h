/*
 * xchain_internal.h -- what the xchain module's files share.
 *
 * Files: xchain.c (the function table, send and receive), xchain_msg.c
 * (opening a relayed message: the receive payload, its inclusion proof
 * and the source transaction), xchain_query.c (outbox, inbox, message).
 *
 * Bounds live here rather than in base/limits.h because nothing outside
 * the module depends on them.
 */
#ifndef HANSE_MODULE_XCHAIN_INTERNAL_H
#define HANSE_MODULE_XCHAIN_INTERNAL_H

#include <jansson.h>

#include "base/err.h"
#include "base/limits.h"
#include "chain/exec.h"
#include "crypto/merkle.h"
#include "encoding/inclusion.h"

/* A message's label ("trace.publish"): like a kind, short and plain. */
#define XCHAIN_LABEL_MAX HANSE_KIND_MAX
/* A send's whole payload, encoded. A message must fit, hex-encoded with
 * its header and Merkle path, in the payload of one xchain.receive on the
 * other chain (HANSE_PAYLOAD_MAX): 16 KiB leaves room for that and for a
 * few batch companions. */
#define XCHAIN_SEND_PAYLOAD_MAX (16 * 1024)
/* JSON names, quotes, commas and the small fields of a receive payload. */
#define XCHAIN_RECEIVE_OVERHEAD 1024
/* State key buffers: "xchain/in/" chain "/" 64 hex, with room to spare. */
#define XCHAIN_KEY_MAX 160

#define XCHAIN_SEND_TX_MAX                                                    \
  (HANSE_TX_FIXED_BYTES + HANSE_CHAIN_ID_MAX + HANSE_KIND_MAX +               \
   XCHAIN_SEND_PAYLOAD_MAX + HANSE_SIG_BYTES)
_Static_assert(2 * XCHAIN_SEND_TX_MAX + 2 * HANSE_BLOCK_HEADER_MAX +
                       HANSE_MERKLE_PATH_MAX * (2 * HANSE_HASH_BYTES + 3) +
                       XCHAIN_RECEIVE_OVERHEAD <=
                   HANSE_PAYLOAD_MAX,
               "any unbatched send fits, relayed, in one receive payload");
_Static_assert(XCHAIN_KEY_MAX > sizeof "xchain/in/" + HANSE_CHAIN_ID_MAX + 1 + 64,
               "a message's state key fits its buffer");

/* ---- xchain.c ---- */
/* The context-free check of a send's payload `p` by `tx` (also applied to
 * the source transaction of every receive). */
int xchain_send_check(const hanse_tx *tx, json_t *p, hanse_reject *rej);
/* The state keys. */
void xchain_out_key(char key[XCHAIN_KEY_MAX], const char *tx_hex);
void xchain_in_key(char key[XCHAIN_KEY_MAX], const char *from_chain, const char *tx_hex);

/* ---- xchain_msg.c ---- */
/* A relayed message, opened: the proof's bytes (owned), what the proof
 * established about them (borrowing those bytes), and the source
 * transaction's parsed payload (owned). */
typedef struct xchain_msg {
  uint8_t *tx_raw, *header_raw, *batch_raw;
  hanse_included inc;
  json_t *payload;
  const char *from_chain; /* borrowed from the receive payload */
} xchain_msg;

/* Open the receive payload `p` of `rtx` (a transaction of this chain):
 * shapes, the inclusion proof (hanse_inclusion_verify with `flags`), the
 * source chain, the source transaction being an xchain.send to this
 * chain, the class. Everything that needs no state. HANSE_OK with *m
 * filled (xchain_msg_free it), or a rejection with an xchain.* code (*m
 * then holds nothing). */
int xchain_msg_open(const hanse_tx *rtx, json_t *p, int flags, xchain_msg *m,
                    hanse_reject *rej);
void xchain_msg_free(xchain_msg *m);

/* ---- xchain_query.c ---- */
extern const char *const xchain_queries[];
int xchain_query(hanse_view *v, const char *name, json_t *params, json_t **result,
                 hanse_reject *rej);

#endif
