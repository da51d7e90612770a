/*
 * limits.h -- every bound Hanse enforces, with its reason.
 *
 * One place for all sizes so that decoders, the mempool, the HTTP layer and
 * the tests agree. Wire-format sizes are fixed by the format version; the
 * _Static_asserts below keep the bounds consistent with each other.
 */
#ifndef HANSE_LIMITS_H
#define HANSE_LIMITS_H

#include <stdint.h>

/* Fixed sizes of cryptographic objects (libsodium's). */
#define HANSE_HASH_BYTES 32      /* SHA-256 digest */
#define HANSE_PUBKEY_BYTES 32    /* Ed25519 public key */
#define HANSE_SECKEY_BYTES 64    /* Ed25519 secret key (seed || public) */
#define HANSE_SEED_BYTES 32      /* Ed25519 seed */
#define HANSE_SIG_BYTES 64       /* Ed25519 signature */
#define HANSE_HASH_HEX_BYTES (2 * HANSE_HASH_BYTES + 1)

/* Chain ids are short printable names ("demo", "alliance-eu"). */
#define HANSE_CHAIN_ID_MAX 32
/* Transaction kind is "module.action", e.g. "asset.transfer". */
#define HANSE_KIND_MAX 48
#define HANSE_MODULE_NAME_MAX 16
/* A payload is JSON text; 64 KiB keeps a block of 10,000 transactions in
 * memory bounded and documents go off chain (only digests on chain). */
#define HANSE_PAYLOAD_MAX (64 * 1024)

/* Fixed part of an encoded transaction: type, version, flags, chain id
 * length, kind length, public key, sequence, time, payload length. */
#define HANSE_TX_FIXED_BYTES (1 + 1 + 1 + 1 + 1 + HANSE_PUBKEY_BYTES + 8 + 8 + 4)
#define HANSE_TX_MAX                                                         \
  (HANSE_TX_FIXED_BYTES + HANSE_CHAIN_ID_MAX + HANSE_KIND_MAX +              \
   HANSE_PAYLOAD_MAX + HANSE_SIG_BYTES)

/* A batch carries at most this many transactions signed once. */
#define HANSE_BATCH_TX_MAX 10000
/* A batch as a whole: bounded so one request cannot pin unbounded memory. */
#define HANSE_BATCH_MAX_BYTES (16 * 1024 * 1024)

/* Blocks. A block holds at most this many transactions (flattened). */
#define HANSE_BLOCK_TX_MAX 20000
#define HANSE_BLOCK_MAX_BYTES (64 * 1024 * 1024)
#define HANSE_BLOCK_HEADER_MAX                                               \
  (2 + 1 + HANSE_CHAIN_ID_MAX + 8 + 8 + 3 * HANSE_HASH_BYTES +               \
   HANSE_PUBKEY_BYTES + 4 + HANSE_SIG_BYTES)

/* The sequencer fills a block up to this many bytes of entries (whole
 * entries; one oversized entry alone is still taken since an entry is at
 * most a full batch: the decoder's bound leaves room for that). Bytes
 * stand in for the work a block costs. Blocks are executed and stored in
 * a two-stage pipeline (consensus/sequencer.c), which runs best on blocks
 * of like size: without this bound, clients that wait for their commits
 * fall into big and small blocks taking turns (112 transactions of 256
 * transfers, then 4, then 112), and the sequencer, done with a small
 * block, sits idle while the committer stores the big one. 1 MiB is 25
 * such transactions, or about 3,500 small ones (make bench, ledger plain:
 * 22,600 transfers/s at 1 MiB against 16,800 at 4 MiB and 18,200 at
 * 32 MiB, alternating runs). */
#define HANSE_BLOCK_FILL_BYTES (1024 * 1024)

/* Defaults of the sequencer: a block every 100 ms or at 10,000 txs. */
#define HANSE_BLOCK_INTERVAL_MS_DEFAULT 100
#define HANSE_BLOCK_TXS_DEFAULT 10000
/* ... and in cluster mode 1,000: a follower checks and executes each
 * replicated block inside libraft's apply, on the Raft loop thread, and a
 * 10,000-transaction block keeps it there longer than the 400 ms election
 * timeout on a 2-core machine, so the leader loses its majority and steps
 * down (make bench: 222 batched transfers/s at 10,000, 26,872 at 1,000). */
#define HANSE_CLUSTER_BLOCK_TXS_DEFAULT 1000

/* A cluster node catching up from a snapshot (consensus/catchup.c) gives up
 * -- and stops, to retry from the snapshot on restart -- when no peer has
 * delivered a block for this long. */
#define HANSE_CATCHUP_GIVEUP_S 120
/* Raft snapshots (a checkpoint descriptor) every this many entries, with
 * as many kept behind for followers that catch up from the log; a node
 * further behind catches up from a snapshot. `hanse node
 * --snapshot-every N` overrides it (tests use small values). */
#define HANSE_RAFT_SNAPSHOT_EVERY_DEFAULT 512

/* Mempool: pending transactions in all, and how far ahead of the committed
 * sequence one signer may queue. */
#define HANSE_MEMPOOL_MAX 200000
#define HANSE_MEMPOOL_AHEAD_MAX 20000
/* Transactions waiting for a gap in their signer's sequence: a quarter of
 * the pool at most, and each waits at most a minute, so gaps nobody fills
 * cannot occupy the pool for good. */
#define HANSE_MEMPOOL_WAITING_MAX (HANSE_MEMPOOL_MAX / 4)
#define HANSE_MEMPOOL_WAIT_TTL_MS 60000

/* HTTP: the largest request body (one batch plus JSON/hex overhead). */
#define HANSE_HTTP_BODY_MAX (40 * 1024 * 1024)
/* The largest blob, a document kept off chain (storage/blobstore.h). A
 * download is verified before its first byte is served, so a reader holds
 * the whole blob in memory: the bound caps what one request can pin (the
 * same 64 MiB as HANSE_BLOCK_MAX_BYTES). Trade documents -- scanned bills
 * of lading, certificates, invoices as PDF -- are far smaller; anything
 * larger belongs in a system built for media. It exceeds
 * HANSE_HTTP_BODY_MAX: the upload route streams the body to disk as it
 * arrives (api/res_blobs.c) under this bound instead. */
#define HANSE_BLOB_MAX_BYTES ((size_t)64 * 1024 * 1024)

/* Signed API requests (RFC 9421, src/api/auth.c). A signature's
 * `created` may be this old: long enough for a slow link and a retry,
 * short enough that a captured request is soon useless, and the replay
 * cache need only remember this long. */
#define HANSE_AUTH_MAX_AGE_S 120
/* ... and this far in the future: clocks of members' machines drift. */
#define HANSE_AUTH_MAX_SKEW_S 10
/* Signatures the replay cache holds at once, node-wide: about 4x the
 * signed requests expected in one HANSE_AUTH_MAX_AGE_S window at 500
 * requests/s (each request may carry thousands of transactions). */
#define HANSE_AUTH_REPLAY_SLOTS (1 << 18)
/* Header fields of a request that are looked at when verifying: more is
 * refused as malformed rather than hashed. */
#define HANSE_AUTH_FIELDS_MAX 64
/* Transactions in one submit request, counting each transaction of a
 * batch (and so also entries). Bounds the memory one request can pin. */
#define HANSE_SUBMIT_TX_MAX 20000
/* Blocks in one range query. */
#define HANSE_BLOCK_RANGE_MAX 100
/* Longest wait a client may ask for on submit. */
#define HANSE_WAIT_MS_MAX 60000

/* The audit trail (storage/store.h, "history"): a page of one record's
 * changes, like a block range, stays a small answer; the genesis writes,
 * made by no transaction, take the last index of block 0's positions. */
#define HANSE_HISTORY_PAGE_MAX 1000
#define HANSE_HISTORY_PAGE_DEFAULT 100
#define HANSE_HISTORY_GENESIS_INDEX 0xFFFFF
/* A state key asked for by the API; the modules' keys are far shorter
 * (the longest, member/attest/..., is under 120 bytes). */
#define HANSE_HISTORY_KEY_MAX 1024

/* Product links and their QR codes (api/dl_path.c, api/res_qr.c). A
 * GS1 Digital Link path: a primary key and its qualifiers, each value at
 * most 30 characters and each character at most 3 when percent-encoded
 * (01/<gtin>/22/<cpv>/10/<lot>/21/<serial> is about 200). A node's public
 * URL (--public-url) and a request's Host header put before it. The QR
 * code's text stays far below a version-40 symbol's 2,331 bytes at level
 * M in 8-bit mode, so every valid link has a symbol; the PNG's module
 * scale bounds its pixels (a 1 KiB text is about a 137-module symbol). */
#define HANSE_DL_PATH_MAX 256
#define HANSE_PUBLIC_URL_MAX 200
#define HANSE_HTTP_HOST_MAX 255
#define HANSE_QR_TEXT_MAX 1024
#define HANSE_QR_QUIET_MODULES 4
#define HANSE_QR_PNG_SCALE_MAX 16
_Static_assert(HANSE_PUBLIC_URL_MAX + 3 + HANSE_DL_PATH_MAX < HANSE_QR_TEXT_MAX &&
                   7 + HANSE_HTTP_HOST_MAX + 3 + HANSE_DL_PATH_MAX < HANSE_QR_TEXT_MAX,
               "every product link fits a QR code's text");
_Static_assert(HANSE_QR_TEXT_MAX <= 2331, "a version-40 symbol at level M holds the text");

/* Asset module: amounts are integers below 2^63. */
#define HANSE_ASSET_NAME_MAX 32
#define HANSE_ASSET_DECIMALS_MAX 18

_Static_assert(HANSE_BLOCK_TX_MAX < (1 << 20),
               "a transaction's position is height << 20 | index (store.c)");
_Static_assert(HANSE_BLOCK_TX_MAX < HANSE_HISTORY_GENESIS_INDEX &&
                   HANSE_HISTORY_GENESIS_INDEX < (1 << 20),
               "the genesis index is a position no transaction can take");
_Static_assert(HANSE_SUBMIT_TX_MAX >= HANSE_BATCH_TX_MAX,
               "a submit request must hold a full batch");
_Static_assert(HANSE_BLOCK_TX_MAX >= HANSE_BATCH_TX_MAX,
               "a block must hold a full batch");
_Static_assert(HANSE_BLOCK_FILL_BYTES + HANSE_BATCH_MAX_BYTES + 64 <= HANSE_BLOCK_MAX_BYTES,
               "a filled block plus one more full batch still decodes");
_Static_assert(HANSE_BATCH_MAX_BYTES <= HANSE_BLOCK_MAX_BYTES,
               "a block must hold a full batch");
_Static_assert((uint64_t)HANSE_BATCH_TX_MAX * (HANSE_TX_MAX - HANSE_SIG_BYTES) >
                   HANSE_BATCH_MAX_BYTES,
               "batch byte bound is the binding one for large payloads");
_Static_assert(HANSE_HTTP_BODY_MAX >= 2 * HANSE_BATCH_MAX_BYTES,
               "a batch must fit in a request even hex-encoded");
_Static_assert(HANSE_MEMPOOL_WAITING_MAX >= HANSE_MEMPOOL_AHEAD_MAX,
               "one signer may queue as far ahead as allowed");
_Static_assert(HANSE_CLUSTER_BLOCK_TXS_DEFAULT <= HANSE_BLOCK_TXS_DEFAULT,
               "cluster blocks are no larger than single-node ones");
_Static_assert(HANSE_BLOCK_TXS_DEFAULT <= HANSE_BLOCK_TX_MAX,
               "default block size within bound");

#endif
