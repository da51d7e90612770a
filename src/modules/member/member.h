/*
 * member.h -- the member registry, as the rest of the node may use it.
 *
 * The member module (member.c and its sibling files) keeps who belongs to
 * the consortium: organisations (founded in genesis or admitted by a vote
 * of the existing ones), their members (people, departments, nodes,
 * devices), each bound to one Ed25519 public key with roles from a fixed
 * list, real-name attestations by certificate authorities, and each key's
 * life cycle. The chain reaches the module only through the registry
 * (modules.c); this header is the one extra door, for the executor of a
 * later issue that will refuse transactions from keys that are not active.
 *
 * Key states (stored in "member/key/<hex>" as "status", except expired,
 * which is computed from "expires_ms" and the block time):
 *
 *              register / admission
 *                     |
 *                     v        suspend
 *   rotate  <----  active  ------------>  suspended
 *  (old key         |   ^ <------------       |
 *   revoked,        |        resume           |
 *   new active)     | revoke                  | revoke
 *                   v                         v
 *                revoked  <-------------------'
 *
 *   expired: active or suspended, and block time >= expires_ms.
 *
 * A founder key (listed under an organisation in genesis) has no stored
 * record until a life-cycle action touches it; until then it is an active
 * admin of its organisation.
 *
 * Conventions as everywhere: const pointers are borrowed, outputs last,
 * functions return HANSE_OK or a negative hanse_err.
 */
#ifndef HANSE_MODULE_MEMBER_H
#define HANSE_MODULE_MEMBER_H

#include "chain/exec.h"
#include "crypto/sign.h"

/* The status strings hanse_member_key_status reports (static storage). */
#define HANSE_MEMBER_ACTIVE "active"
#define HANSE_MEMBER_SUSPENDED "suspended"
#define HANSE_MEMBER_REVOKED "revoked"
#define HANSE_MEMBER_EXPIRED "expired"
#define HANSE_MEMBER_UNKNOWN "unknown"

/* Status of `key` at the executing block (ex->time_ms decides expiry):
 * one of the five strings above, in *status_out (static storage, never
 * freed). Read-only: usable from a module's verify as well as apply. A
 * key the registry has never seen is "unknown" (not an error). Returns
 * HANSE_OK, or an environmental error from the store (then *status_out is
 * HANSE_MEMBER_UNKNOWN and the block must be abandoned). */
int hanse_member_key_status(hanse_exec *ex, const hanse_pubkey *key,
                            const char **status_out);

/* The longest organisation id (the chain id syntax). */
#define HANSE_MEMBER_ORG_MAX 32

/* The organisation of `key` with its status, for modules whose records
 * belong to an enterprise (ledger accounts): *status_out as above, and
 * org_out the organisation's id, or "" for an unknown key. Read-only.
 * Returns HANSE_OK, or an environmental error from the store. */
int hanse_member_key_org(hanse_exec *ex, const hanse_pubkey *key,
                         const char **status_out,
                         char org_out[HANSE_MEMBER_ORG_MAX + 1]);

#endif
