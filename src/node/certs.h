/*
 * certs.h -- the exchange of commit certificates for a clustered chain.
 *
 * Every node signs the hash of each block it commits (chain.c, in the
 * block's own transaction; encoding/cert.h has the signed bytes). This
 * object gets those signatures to the other members and theirs into this
 * node's store, so that every node can serve each block's certificate,
 * and it watches for the one thing a certificate can reveal about this
 * node: that a majority of the validators signed ANOTHER block at a
 * height than the one stored here (then the chain diverged here:
 * hanse_chain_diverge).
 *
 * Life cycle, per clustered chain (node.c):
 *
 *   hanse_certs_start       before the consensus engine starts
 *   hanse_certs_committed   from the engine's on_commit: never blocks on
 *                           the network or the disk (a mutex and a signal)
 *   hanse_certs_receive     from the API (POST /certs): checks the
 *                           signature on the caller's thread, queues it
 *   hanse_certs_stop        after the engine stopped
 *
 * Conventions: chain, cluster and key are borrowed until stop.
 */
#ifndef HANSE_CERTS_H
#define HANSE_CERTS_H

#include "chain/chain.h"
#include "consensus/consensus.h"
#include "encoding/cert.h"

typedef struct hanse_certs hanse_certs;

/* Start the exchange thread ("hanse-certs") of `chain` among the members
 * of `cl`; `key` is this node's (it must be a validator of the chain).
 * *out owned by the caller: hanse_certs_stop frees it. */
int hanse_certs_start(hanse_chain *chain, const hanse_cluster_config *cl,
                      const hanse_keypair *key, hanse_certs **out, hanse_reject *rej);
void hanse_certs_stop(hanse_certs *cs); /* NULL-safe */

/* Blocks up to tip->height are durable here: their signatures go out. */
void hanse_certs_committed(hanse_certs *cs, const hanse_tip *tip);

/* Another node's signature of block `hash` at `height`. Checked here: the
 * signer must be a validator of the chain (cert.not_validator, 403) and
 * the signature must verify for (chain, height, hash) (cert.bad_signature,
 * 400); height 0 is refused (cert.bad_height, 400: the genesis block is
 * not certified). A good one is queued and HANSE_OK returned: the
 * exchange thread stores it if this node holds the same block at that
 * height, holds it in memory while this node has not reached the height
 * yet (a bounded number; beyond that it is dropped, and fetched again by
 * the repair below), and counts it towards another block otherwise. */
int hanse_certs_receive(hanse_certs *cs, uint64_t height, const hanse_hash *hash,
                        const hanse_pubkey *signer, const hanse_sig *sig, hanse_reject *rej);

/* One signature message as JSON, {"height","hash","signer","sig"} (hex;
 * docs/API.md): HANSE_OK and the fields, or HANSE_ERR(INVALID) if one is
 * missing or malformed. Nothing is verified. */
int hanse_cert_msg_from_json(json_t *o, uint64_t *height, hanse_hash *hash,
                             hanse_pubkey *signer, hanse_sig *sig);

#endif
