/*
 * chain_internal.h -- helpers shared by the chain's files; not an API.
 */
#ifndef HANSE_CHAIN_INTERNAL_H
#define HANSE_CHAIN_INTERNAL_H

#include <stdio.h>
#include <stdlib.h>

#include "chain/chain.h"

/* Genesis state writes (genesis.c). */
int chain_genesis_apply(hanse_exec *ex, json_t *g);
int chain_genesis_validators(json_t *g, hanse_pubkey *out, int *count);
/* The validator set in force in a store's state: the keys under
 * "validator/" (written by genesis, changed by member.node_propose votes),
 * in key order. HANSE_ERR(INVALID) if none or malformed. */
int chain_state_validators(hanse_store *s, hanse_pubkey *out, int *count);

/* Load the genesis document stored in meta "genesis". *out new ref. */
int chain_load_genesis(hanse_store *s, json_t **out, hanse_reject *rej);

/* Execute all transactions of a decoded body on top of `prev` into `ex`
 * (already begun); receipts[] gets body->tx_count receipts. */
int chain_execute_body(hanse_exec *ex, const hanse_body *body,
                       const char *chain_id, json_t *const *admitted,
                       hanse_receipt *receipts);

/* Structural check of one stored block against its predecessor: header
 * decodes and hashes to the stored hash, height/chain/prev link, body
 * decodes, tx count and Merkle root match. With check_sigs also the header
 * and every transaction signature. On success *header and *body are filled
 * (body owned by the caller). */
int chain_check_block(const hanse_block_row *row, const char *chain_id,
                      const hanse_hash *prev_hash, const hanse_pubkey *validators,
                      int validator_count, int check_sigs, hanse_header *header,
                      hanse_body *body, int64_t *bad_tx, hanse_reject *rej);

/* Receipts hash of a block: SHA-256 over the tag "hanse.receipts.v1" and,
 * for each receipt in order, the transaction id, u8 code length and code. Stored beside the block so
 * the start-up check notices an altered receipt without re-executing. */
void chain_receipts_hash_init(hanse_sha256_state *s);
void chain_receipts_hash_add(hanse_sha256_state *s, const hanse_receipt *r);

/* Sum over every stored state row. */
int chain_state_sum(hanse_store *s, hanse_hash *sum);

#endif
