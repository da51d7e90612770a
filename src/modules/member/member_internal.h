/*
 * member_internal.h -- what the member module's files share.
 *
 * Files: member.c (the function table, dispatch, context-free checks),
 * member_state.c (records, founders, admins, thresholds), member_org.c
 * (org_propose, org_vote), member_key.c (register, attest, rotate,
 * suspend, resume, revoke, hanse_member_key_status), member_query.c.
 *
 * Bounds live here rather than in base/limits.h because nothing outside
 * the module depends on them.
 */
#ifndef HANSE_MODULE_MEMBER_INTERNAL_H
#define HANSE_MODULE_MEMBER_INTERNAL_H

#include <jansson.h>
#include <stdint.h>

#include "base/err.h"
#include "base/limits.h"
#include "chain/exec.h"
#include "modules/member/member.h"

#define MEMBER_ID_MAX 32          /* organisation and member ids, like chain ids */
#define MEMBER_NAME_MAX 128       /* organisation name, bytes */
#define MEMBER_ORG_KEYS_MAX 64    /* admin keys of one organisation */
#define MEMBER_ROLES_MAX 12       /* a member holds at most every role once */
#define MEMBER_ATTRS_MAX 4096     /* member attributes, compact JSON bytes */
#define MEMBER_ATTEST_BLOCK_MAX 64 /* attestations of one key in one block */
#define MEMBER_KEY_MAX 256        /* state key buffer */

_Static_assert(MEMBER_ID_MAX == HANSE_MEMBER_ORG_MAX, "member.h names the id bound");
_Static_assert(MEMBER_ID_MAX == HANSE_CHAIN_ID_MAX,
               "member and organisation ids use the chain id syntax");
_Static_assert(MEMBER_KEY_MAX > sizeof "member/attest/" + 64 + 1 + 20 + 1 + 5,
               "an attestation key fits its buffer");
_Static_assert(MEMBER_KEY_MAX > sizeof "member/id/" + 2 * MEMBER_ID_MAX + 1,
               "an id index key fits its buffer");

/* Founder and admitted-organisation admin records carry a derived member
 * id: "admin-" and the first 16 hex digits of the key. Registered ids may
 * not start with "admin-". */
#define MEMBER_ADMIN_ID_PREFIX "admin-"

/* ---- syntax (member.c) ---- */
int member_id_valid(const char *s);
int member_role_valid(const char *s);
int member_kind_valid(const char *s);
/* Lowercase hex of a 64-hex key string into out; 0 if not a key. */
int member_key_norm(const char *hex, char out[HANSE_HASH_HEX_BYTES]);

/* ---- state (member_state.c) ---- */
/* Read a JSON value; *out is a new reference, NULL when absent. */
int member_get_json(hanse_exec *ex, const char *key, json_t **out);
/* Write canonical JSON (sorted keys, compact). */
int member_put_json(hanse_exec *ex, const char *key, json_t *val);

/* The record of a key: the stored one, or a founder's synthesized one
 * (*stored = 0), or NULL when unknown. New reference. */
int member_record(hanse_exec *ex, const char *keyhex, json_t **rec, int *stored);
/* A synthesized admin record for `keyhex` of organisation `org`. */
json_t *member_admin_record(const char *org, const char *keyhex, uint64_t height);
/* Write a record and its id index "member/id/<org>/<id>" -> {"key":hex}. */
int member_save(hanse_exec *ex, const char *keyhex, json_t *rec, int index);
/* "active", "suspended", "revoked" or "expired" at block time. */
const char *member_effective_status(json_t *rec, uint64_t time_ms);
/* 1 if the JSON array of key strings holds `keyhex` (any case). */
int member_keys_has(json_t *arr, const char *keyhex);
/* 1 if any record or founder names this key. */
int member_key_known(hanse_exec *ex, const char *keyhex, int *known);

/* Is `keyhex` an active admin of an organisation? *org_out receives the
 * organisation record (new reference) when it is, else NULL. */
int member_admin_org(hanse_exec *ex, const char *keyhex, json_t **org_out);
/* Number of organisations, and the admission threshold for that many. */
int member_org_count(hanse_exec *ex, int *n);
int member_threshold(hanse_exec *ex, int n_orgs, int *threshold);
/* Number of validators in force (genesis, then node_propose votes). */
int member_validator_count(hanse_exec *ex, int *n);
/* Number of active admins of `org` other than `except` (may be NULL). */
int member_other_admins(hanse_exec *ex, json_t *org, const char *except, int *n);

/* ---- actions ---- */
int member_org_check(const char *action, json_t *p, hanse_reject *rej);
int member_org_verify(hanse_exec *ex, const hanse_tx *tx, const char *action,
                      json_t *p, hanse_reject *rej);
int member_org_apply(hanse_exec *ex, const hanse_tx *tx, const char *action,
                     json_t *p);
/* Cluster nodes by vote (member_node.c): the proposal's syntax, its
 * canonical form, whether the change still makes sense, and adopting it. */
int member_node_check(json_t *p, hanse_reject *rej);
json_t *member_node_canonical(json_t *node);
int member_node_change_ok(hanse_exec *ex, json_t *node, hanse_reject *rej);
int member_node_adopt(hanse_exec *ex, json_t *node);
int member_key_check(const char *action, json_t *p, hanse_reject *rej);
int member_key_verify(hanse_exec *ex, const hanse_tx *tx, const char *action,
                      json_t *p, hanse_reject *rej);
int member_key_apply(hanse_exec *ex, const hanse_tx *tx, const char *action,
                     json_t *p);
int member_query(hanse_view *v, const char *name, json_t *params,
                 json_t **result, hanse_reject *rej);

#endif
