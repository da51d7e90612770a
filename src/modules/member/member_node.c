/*
 * member/member_node.c -- adding and removing a cluster node by vote.
 *
 *   member.node_propose {"node":{"op":"add","raft_id":4,
 *                                "raft_addr":"10.0.0.4:9001",
 *                                "api_url":"https://node4.example:8080",
 *                                "key":"<node public key hex>"}}
 *   member.node_propose {"node":{"op":"remove","raft_id":2,"key":"<hex>"}}
 *
 * decided by member.org_vote like an admission (member_org.c: the same
 * threshold, electorate and one vote per organisation). When adopted:
 *
 *   add      validator/<key> = "1"        the key signs and certifies
 *                                         blocks from the next block on
 *            cluster/node/<raft id, 10 digits>
 *                     {"raft_id","raft_addr","api_url","key",
 *                      "status":"member","height"}
 *   remove   validator/<key> deleted
 *            cluster/node/<raft id> {"raft_id","key","status":"removed",
 *                                    "height"}
 *
 * The chain's validator set follows the validator/ keys (chain.c reloads
 * it after a block that changed them); the Raft group follows
 * cluster/node/ (consensus/raft_cluster.c: the leader adds an added node
 * as a non-voter, lets it catch up, then makes it a voter, and removes a
 * removed one). A proposal is refused when the change no longer makes
 * sense: adding a key that is already a validator or a raft id already
 * recorded, removing a key that is not a validator or the last one. The
 * vote that would adopt it checks again, as an admission does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "modules/member/member_internal.h"

#define NODE_ADDR_MAX 63
#define NODE_URL_MAX 127
#define NODE_RAFT_ID_MAX 1000000

int member_node_check(json_t *p, hanse_reject *rej) {
  json_t *n = json_object_get(p, "node");
  if (!json_is_object(n))
    return hanse_reject_code(rej, "member.bad_node", 400, "\"node\" must be an object");
  const char *op = json_string_value(json_object_get(n, "op"));
  if (op == NULL || (strcmp(op, "add") != 0 && strcmp(op, "remove") != 0))
    return hanse_reject_code(rej, "member.bad_node", 400, "\"node.op\" must be add or remove");
  json_t *id = json_object_get(n, "raft_id");
  if (!json_is_integer(id) || json_integer_value(id) < 1 ||
      json_integer_value(id) > NODE_RAFT_ID_MAX)
    return hanse_reject_code(rej, "member.bad_node", 400,
                             "\"node.raft_id\" must be an integer from 1 to %d",
                             NODE_RAFT_ID_MAX);
  char hex[HANSE_HASH_HEX_BYTES];
  if (!member_key_norm(json_string_value(json_object_get(n, "key")), hex))
    return hanse_reject_code(rej, "member.bad_key", 400,
                             "\"node.key\" must be the node's 64-hex public key");
  if (strcmp(op, "remove") == 0) return HANSE_OK;
  const char *addr = json_string_value(json_object_get(n, "raft_addr"));
  const char *colon = addr ? strrchr(addr, ':') : NULL;
  if (colon == NULL || colon == addr || strlen(addr) > NODE_ADDR_MAX || atoi(colon + 1) <= 0 ||
      atoi(colon + 1) > 65535)
    return hanse_reject_code(rej, "member.bad_node", 400,
                             "\"node.raft_addr\" must be HOST:PORT (at most %d bytes)",
                             NODE_ADDR_MAX);
  const char *url = json_string_value(json_object_get(n, "api_url"));
  if (url == NULL || strlen(url) > NODE_URL_MAX ||
      (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
    return hanse_reject_code(rej, "member.bad_node", 400,
                             "\"node.api_url\" must be an http(s) URL of at most %d bytes",
                             NODE_URL_MAX);
  return HANSE_OK;
}

json_t *member_node_canonical(json_t *n) {
  char hex[HANSE_HASH_HEX_BYTES];
  member_key_norm(json_string_value(json_object_get(n, "key")), hex);
  const char *op = json_string_value(json_object_get(n, "op"));
  if (strcmp(op, "remove") == 0)
    return json_pack("{s:s, s:O, s:s}", "op", op, "raft_id", json_object_get(n, "raft_id"), "key",
                     hex);
  return json_pack("{s:s, s:O, s:O, s:O, s:s}", "op", op, "raft_id",
                   json_object_get(n, "raft_id"), "raft_addr", json_object_get(n, "raft_addr"),
                   "api_url", json_object_get(n, "api_url"), "key", hex);
}

static void node_key(char *out, size_t n, json_int_t raft_id) {
  snprintf(out, n, "cluster/node/%010lld", (long long)raft_id);
}

/* Is `hex` a validator now? */
static int is_validator(hanse_exec *ex, const char *hex, int *yes) {
  char key[128];
  snprintf(key, sizeof key, "validator/%s", hex);
  const uint8_t *v;
  size_t vl;
  return hanse_exec_get(ex, key, &v, &vl, yes);
}

int member_node_change_ok(hanse_exec *ex, json_t *n, hanse_reject *rej) {
  char hex[HANSE_HASH_HEX_BYTES];
  member_key_norm(json_string_value(json_object_get(n, "key")), hex);
  json_int_t id = json_integer_value(json_object_get(n, "raft_id"));
  int validator;
  int rc = is_validator(ex, hex, &validator);
  if (rc != HANSE_OK) return rc;
  char key[64];
  node_key(key, sizeof key, id);
  json_t *rec;
  rc = member_get_json(ex, key, &rec);
  if (rc != HANSE_OK) return rc;
  const char *status = rec ? json_string_value(json_object_get(rec, "status")) : NULL;
  int recorded_member = status && strcmp(status, "member") == 0;
  json_decref(rec);
  if (strcmp(json_string_value(json_object_get(n, "op")), "add") == 0) {
    if (validator)
      return hanse_reject_code(rej, "member.exists", 409,
                               "key %.16s... is already a validator", hex);
    if (recorded_member)
      return hanse_reject_code(rej, "member.exists", 409, "raft id %lld is already a node",
                               (long long)id);
    return HANSE_OK;
  }
  if (!validator)
    return hanse_reject_code(rej, "member.unknown", 404, "key %.16s... is not a validator", hex);
  int count = 0;
  rc = member_validator_count(ex, &count);
  if (rc != HANSE_OK) return rc;
  if (count <= 1)
    return hanse_reject_code(rej, "member.last_validator", 409,
                             "the chain's last validator cannot be removed");
  return HANSE_OK;
}

int member_node_adopt(hanse_exec *ex, json_t *n) {
  char hex[HANSE_HASH_HEX_BYTES];
  member_key_norm(json_string_value(json_object_get(n, "key")), hex);
  json_int_t id = json_integer_value(json_object_get(n, "raft_id"));
  char vkey[128], nkey[64];
  snprintf(vkey, sizeof vkey, "validator/%s", hex);
  node_key(nkey, sizeof nkey, id);
  int add = strcmp(json_string_value(json_object_get(n, "op")), "add") == 0;
  int count;
  int rc = member_validator_count(ex, &count);
  if (rc != HANSE_OK) return rc;
  rc = add ? hanse_exec_put(ex, vkey, "1", 1) : hanse_exec_del(ex, vkey);
  if (rc != HANSE_OK) return rc;
  json_t *cj = json_integer(count + (add ? 1 : -1));
  if (cj == NULL) return HANSE_ERR(NOMEM);
  rc = member_put_json(ex, "cluster/validator_count", cj);
  json_decref(cj);
  if (rc != HANSE_OK) return rc;
  json_t *rec = json_deep_copy(n);
  if (rec == NULL) return HANSE_ERR(NOMEM);
  json_object_del(rec, "op");
  json_object_set_new(rec, "status", json_string(add ? "member" : "removed"));
  json_object_set_new(rec, "height", json_integer((json_int_t)ex->height));
  rc = member_put_json(ex, nkey, rec);
  json_decref(rec);
  HANSE_INFO("governance: node %lld (key %.16s...) %s at block %llu", (long long)id, hex,
             add ? "added" : "removed", (unsigned long long)ex->height);
  return rc;
}
