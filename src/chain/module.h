/*
 * module.h -- the module registry: how the chain reaches business logic.
 *
 * The chain names no module. At start-up the program registers each
 * module's function table (modules/modules.c fills the registry); the
 * executor looks up the module by the first half of a transaction's kind
 * ("asset" of "asset.transfer") and calls its entry points:
 *
 *   check   context-free: payload shape, sizes, formats. Runs when a
 *           transaction is submitted and again when a block is executed.
 *   verify  against state, read-only: permissions, balances, existence.
 *           A failure becomes the transaction's rejection receipt.
 *   apply   the writes, through hanse_exec_put/del only. Deterministic: no
 *           wall clock, randomness or floating point; block time and
 *           height come from the exec context. Returns HANSE_OK for any
 *           transaction verify accepted; an error here is environmental
 *           and aborts the block.
 *   query   reads for the API: a named query with JSON parameters.
 *
 * Payloads arrive parsed (jansson, duplicate keys rejected, reals rejected
 * before check runs), borrowed for the duration of the call.
 */
#ifndef HANSE_MODULE_H
#define HANSE_MODULE_H

#include <jansson.h>

#include "base/err.h"
#include "encoding/tx.h"

typedef struct hanse_exec hanse_exec;
typedef struct hanse_view hanse_view;

/* What a module says about the cross-chain messages (module xchain) whose
 * kind it owns: a message of kind "<module>.<name>" ("trace.publish") is
 * checked by that module as well as by xchain. A kind whose first half
 * names no module, or one without hooks, is free-form, as before. Every
 * hook may be NULL. */
typedef struct hanse_message_hooks {
  /* Context-free: the body of a message of `kind`. Runs in the send's
   * check on the sending chain and in the receive's verify on the
   * receiving chain (which cannot trust that the sender's replicas
   * accepted it: FORMATS.md, "Receipts hash"). */
  int (*check)(const char *kind, json_t *body, hanse_reject *rej);
  /* On the sending chain, against its state: may `tx` send this? */
  int (*send_verify)(hanse_exec *ex, const hanse_tx *tx, const char *kind, json_t *body,
                     hanse_reject *rej);
  /* On the receiving chain, after xchain recorded the message: `rec` is
   * its inbox record (xchain.c: body, from_chain, source_tx, ...). An
   * error aborts the block, as any apply error. */
  int (*receive_apply)(hanse_exec *ex, const char *kind, json_t *rec);
} hanse_message_hooks;

typedef struct hanse_module {
  const char *name;              /* "asset" */
  const char *const *actions;    /* NULL-terminated: {"issue","transfer",NULL} */
  const char *const *queries;    /* NULL-terminated query names */
  int (*check)(const hanse_tx *tx, const char *action, json_t *payload,
               hanse_reject *rej);
  int (*verify)(hanse_exec *ex, const hanse_tx *tx, const char *action,
                json_t *payload, hanse_reject *rej);
  int (*apply)(hanse_exec *ex, const hanse_tx *tx, const char *action,
               json_t *payload);
  /* *result is a new reference owned by the caller. Rejections (unknown
   * asset, bad parameter) carry HTTP status 400/404. */
  int (*query)(hanse_view *v, const char *name, json_t *params,
               json_t **result, hanse_reject *rej);
  /* The data class of the module's transactions and records, for the
   * chain's read policy: one of HANSE_DATA_CLASSES. A payload may name
   * another with a top-level "class" member when the module allows it
   * (notary: a document of any class). */
  const char *data_class;
  /* NULL-terminated, may be NULL: queries about one key, named by the
   * query's "key" parameter, that the holder of that key may always make
   * about itself whatever the read policy says (seal: "mine", the grants
   * made to a recipient). Others still need the module's class. */
  const char *const *self_queries;
  /* NULL-terminated, may be NULL: queries about one enterprise, named by
   * the query's "owner" parameter (an organisation id, or a key's hex on
   * chains whose keys belong to no organisation), that the enterprise's
   * own active members may always make (books: its journal and reports;
   * ledger: its accounts). Others still need the module's class. */
  const char *const *owner_queries;
  /* May be NULL: the data class of one transaction when it depends on
   * more than a top-level "class" (trace: the classes of the events a
   * document carries). Returns one of HANSE_DATA_CLASSES, static storage,
   * or NULL to fall back to the rule of hanse_tx_data_class. */
  const char *(*payload_class)(json_t *payload);
  /* 1: the module's payloads may hold real numbers (trace: EPCIS
   * quantities and sensor values are decimals by standard). The module
   * then owns their determinism: it must store and compare them in a
   * form that does not depend on the platform (trace prints each at its
   * shortest exact precision). 0 for every module that counts money. */
  int payload_reals;
  /* May be NULL: the hooks for cross-chain messages of this module's
   * kinds (above). */
  const hanse_message_hooks *messages;
} hanse_module;

/* The data classes a chain's read policy speaks of. */
#define HANSE_DATA_CLASSES                                                  \
  "production", "transaction", "customs_inspection", "transport",           \
  "financial", "personal"
/* 1 if `c` is one of HANSE_DATA_CLASSES. */
int hanse_data_class_valid(const char *c);
/* The data class of a transaction of `kind` with parsed `payload` (may be
 * NULL): the payload's "class" when valid, else the module's; "personal"
 * for an unknown module (the most restricted default). Static storage. */
const char *hanse_tx_data_class(const char *kind, json_t *payload);

#define HANSE_MODULES_MAX 32

/* Register a module (start-up only, before any chain opens). Duplicate
 * names are a bug. */
void hanse_registry_add(const hanse_module *m);
/* Lookup by module name; NULL if none. */
const hanse_module *hanse_registry_find(const char *name, size_t len);
/* Iterate: returns NULL past the end. */
const hanse_module *hanse_registry_at(int i);
/* 1 if the module owns this action. */
int hanse_module_has_action(const hanse_module *m, const char *action);

/* The identity provider: the status and roles of a signing key. One
 * module (member) registers it; the executor asks it when a chain's policy
 * restricts who may submit what. *status is static storage ("active",
 * "suspended", "revoked", "expired", "unknown"); *roles is a new JSON
 * array of role strings, or NULL for an unknown key. An error return is
 * environmental (the block is abandoned). */
typedef struct hanse_identity {
  int (*key_info)(hanse_exec *ex, const hanse_pubkey *key, const char **status,
                  json_t **roles);
  /* The organisation id of `key` (its record's, or its founding
   * organisation's) into org[n], "" when the key is unknown; may be NULL
   * (no organisations). Same errors as key_info. */
  int (*key_org)(hanse_exec *ex, const hanse_pubkey *key, char *org, size_t n);
} hanse_identity;
void hanse_registry_set_identity(const hanse_identity *id);
const hanse_identity *hanse_registry_identity(void);

/* Fill the registry with every module that ships (modules/modules.c).
 * Idempotent. */
void hanse_modules_register_all(void);

/* Parse a payload: a JSON object, no duplicate keys, no real numbers,
 * nesting and size bounded. *out is a new reference. */
int hanse_payload_parse(const uint8_t *p, size_t n, json_t **out,
                        hanse_reject *rej);
/* The same for module m: real numbers allowed when m->payload_reals. */
int hanse_payload_parse_for(const hanse_module *m, const uint8_t *p, size_t n,
                            json_t **out, hanse_reject *rej);

/* Full context-free check of a decoded transaction for `chain_id`:
 * chain, kind -> module/action, payload parse, module check. Does not check
 * signatures (the caller does, possibly batched). If payload_out is not
 * NULL it receives the parsed payload (new reference). */
int hanse_tx_check(const hanse_tx *tx, const char *chain_id,
                   json_t **payload_out, hanse_reject *rej);

#endif
