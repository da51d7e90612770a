/*
 * member/member.c -- the member registry: organisations, members, keys.
 *
 * Who may do what on a permissioned chain starts with who is in it. This
 * module keeps that record on the chain itself, so every node agrees on it
 * and every change is a signed transaction anyone can audit:
 *
 *   - Organisations. The founders come from genesis ("org/<id>", written
 *     by chain/genesis.c); every key listed there is an admin of its
 *     organisation. A new organisation is admitted by vote: an admin
 *     proposes it (org_propose), admins vote, one vote per organisation
 *     (org_vote); when approvals reach the threshold fixed at proposal time
 *     the organisation is written like a founder. The threshold is the
 *     genesis's "governance":{"org_admission_threshold":N} (capped at the
 *     number of organisations), else a strict majority, n/2+1.
 *   - Members. An admin registers a member of its own organisation: an
 *     id, a kind (person, department, node, device), roles from a fixed
 *     list, attributes, one key and an optional expiry. A member with
 *     role "admin" joins its organisation's admin keys.
 *   - Real-name verification. A member with role "ca" attests a key
 *     against the SHA-256 of its evidence; the chain keeps the digest,
 *     never the evidence.
 *   - Key life cycle: rotate, suspend, resume, revoke, expiry (member.h
 *     draws the states).
 *
 * State (readable text keys, canonical JSON values with sorted keys):
 *   org/<id>                       {"id","name","role","keys":[hex]}
 *   member/key/<hex>               {"org","id","kind","roles","attributes",
 *                                   "status","registered_height",
 *                                   "expires_ms" (int or null), and after
 *                                   changes "changed_height",
 *                                   "replaced_by"/"rotated_from"}
 *   member/id/<org>/<id>           {"key":hex} (the member's current key)
 *   policy                         the chain's policy once a vote changed
 *                                   it (chain/policy.c)
 *   validator/<hex>                "1": a validator (genesis; then node
 *                                   votes, member_node.c)
 *   cluster/node/<raft id>         a node added or removed by vote
 *   cluster/validator_count        validators in force, once a vote
 *                                   changed them
 *   member/prop/<tx id hex>        proposal: {"id","org", "policy" or
 *                                   "node","proposer",
 *                                   "proposer_org","height","threshold",
 *                                   "approvals":[org],"rejections":[org],
 *                                   "status":"open"|"admitted"|"adopted"|"rejected"}
 *   member/attest/<hex>/<height 20 digits>-<index 5 digits>
 *                                  {"by","height","time_ms","evidence"}
 *   member/org_count               number of organisations admitted by
 *                                   vote (absent: none)
 *
 * Invariants: a key belongs to at most one member; org/<id>.keys holds
 * only keys whose records (stored or founder) name that organisation; an
 * organisation keeps at least one active admin (member.last_admin); a
 * proposal is decided once. Execution reads only state, the transaction
 * and the block's height and time.
 *
 * This file holds the function table, the syntax shared by the actions
 * and the dispatch to member_org.c and member_key.c.
 */
#include <string.h>

#include "base/log.h"
#include "chain/module.h"
#include "encoding/tx.h"
#include "modules/member/member_internal.h"

static const char *const member_actions[] = {
    "org_propose", "org_vote", "policy_propose", "node_propose", "register",
    "attest",      "rotate",   "suspend",        "resume",       "revoke",   NULL};
static const char *const member_queries[] = {
    "org", "orgs", "member", "members", "proposal", "attestations", NULL};

static const char *const member_roles[] = {
    "admin",     "ca",      "manufacturer", "platform", "logistics", "warehouse",
    "customs",   "regulator", "bank",       "auditor",  "consumer",  "department",
    NULL};
_Static_assert(sizeof member_roles / sizeof member_roles[0] - 1 == MEMBER_ROLES_MAX,
               "MEMBER_ROLES_MAX is the number of roles");

static const char *const member_kinds[] = {"person", "department", "node", "device", NULL};

static int in_list(const char *const *list, const char *s) {
  if (s == NULL) return 0;
  for (int i = 0; list[i]; i++)
    if (strcmp(list[i], s) == 0) return 1;
  return 0;
}

int member_id_valid(const char *s) { return s && hanse_chain_id_valid(s, strlen(s)); }
int member_role_valid(const char *s) { return in_list(member_roles, s); }
int member_kind_valid(const char *s) { return in_list(member_kinds, s); }

int member_key_norm(const char *hex, char out[HANSE_HASH_HEX_BYTES]) {
  hanse_pubkey pk;
  if (hex == NULL || strlen(hex) != 2 * HANSE_PUBKEY_BYTES ||
      hanse_pubkey_parse(&pk, hex) != HANSE_OK)
    return 0;
  hanse_pubkey_hex(out, &pk);
  return 1;
}

/* Votes: admissions, policy changes and cluster nodes (member_org.c,
 * member_node.c). */
static int is_org_action(const char *action) {
  return strncmp(action, "org_", 4) == 0 || strcmp(action, "policy_propose") == 0 ||
         strcmp(action, "node_propose") == 0;
}

static int member_check(const hanse_tx *tx, const char *action, json_t *p,
                        hanse_reject *rej) {
  (void)tx;
  return is_org_action(action) ? member_org_check(action, p, rej)
                               : member_key_check(action, p, rej);
}

static int member_verify(hanse_exec *ex, const hanse_tx *tx, const char *action,
                         json_t *p, hanse_reject *rej) {
  HANSE_ASSERT(ex != NULL && tx != NULL);
  return is_org_action(action) ? member_org_verify(ex, tx, action, p, rej)
                               : member_key_verify(ex, tx, action, p, rej);
}

static int member_apply(hanse_exec *ex, const hanse_tx *tx, const char *action,
                        json_t *p) {
  HANSE_ASSERT(ex != NULL && tx != NULL);
  return is_org_action(action) ? member_org_apply(ex, tx, action, p)
                               : member_key_apply(ex, tx, action, p);
}

const hanse_module hanse_module_member = {
    .name = "member",
    .actions = member_actions,
    .queries = member_queries,
    .check = member_check,
    .verify = member_verify,
    .apply = member_apply,
    .query = member_query,
    .data_class = "personal",
};
