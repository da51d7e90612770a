/*
 * res_status.c -- health, node and chain status, search, accounts.
 *
 * A chain's status is public and answers any origin (CORS "*"): in a
 * cluster, each node's explorer reads its peers' status from their own
 * API URLs (listed in "cluster.nodes") to show every member's role and
 * height.
 */
#include <inttypes.h>
#include <string.h>

#include "api/api_internal.h"
#include "chain/chain.h"

#define HANSE_VERSION "0.1.0"

enum MHD_Result res_health(hanse_req *rq) {
  return api_json(rq, 200, json_pack("{s:b}", "ok", 1));
}

enum MHD_Result res_node_status(hanse_req *rq) {
  hanse_node *n = rq->node;
  json_t *chains = json_array();
  for (int i = 0; i < n->chain_count; i++)
    json_array_append_new(chains, json_string(n->chains[i].chain->chain_id));
  return api_json(rq, 200,
                  json_pack("{s:s, s:o, s:o, s:I}", "version", HANSE_VERSION, "node_key",
                            api_hex(n->key.pub.b, HANSE_PUBKEY_BYTES), "chains", chains,
                            "uptime_ms", (json_int_t)(hanse_now_ms(n->env) - n->started_ms)));
}

/* "cluster" of a clustered chain's status: this node's role and the
 * members (their API URLs are where followers forward submissions). */
static json_t *cluster_json(hanse_node_chain *nc) {
  static const char *const roles[] = {"single", "follower", "candidate", "leader", "unavailable"};
  hanse_consensus_role r;
  hanse_consensus_role_get(nc->cons, &r);
  json_t *nodes = json_array();
  for (int i = 0; i < nc->cluster->member_count; i++) {
    const hanse_cluster_member *m = &nc->cluster->members[i];
    json_array_append_new(nodes, json_pack("{s:I, s:s, s:s}", "raft_id", (json_int_t)m->id,
                                           "raft_addr", m->raft_addr, "api_url", m->api_url));
  }
  json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:b, s:b, s:o}", "role",
                        r.role >= 0 && r.role <= HANSE_ROLE_UNAVAILABLE ? roles[r.role] : "unknown",
                        "raft_id", (json_int_t)r.self_id, "leader_id", (json_int_t)r.leader_id,
                        "term", (json_int_t)r.term, "ready", hanse_consensus_is_leader(nc->cons),
                        "diverged", r.diverged, "nodes", nodes);
  if (j == NULL) return NULL;
  json_object_set_new(j, "catchup", api_catchup_json(&r));
  /* The Raft configuration as this node sees it; members added by vote
   * that are not in --peers are listed in "nodes" too. */
  static const char *const conf_roles[] = {"", "voter", "standby", "spare"};
  json_t *conf = json_array();
  for (int i = 0; i < r.conf_count; i++) {
    json_array_append_new(conf, json_pack("{s:I, s:s}", "raft_id", (json_int_t)r.conf[i].id,
                                          "role", conf_roles[r.conf[i].role]));
    hanse_cluster_member m;
    if (hanse_cluster_member_find(nc->cluster, r.conf[i].id) == NULL &&
        api_cluster_node_lookup(nc, r.conf[i].id, &m))
      json_array_append_new(nodes, json_pack("{s:I, s:s, s:s}", "raft_id", (json_int_t)m.id,
                                             "raft_addr", m.raft_addr, "api_url", m.api_url));
  }
  json_object_set_new(j, "raft_config", conf);
  return j;
}

/* "diverged": null while this node's copy agrees with the cluster; else
 * the block at which it stopped, its hash here ("ours") and the hash the
 * cluster certified or proposed ("certified"), null where not known, and
 * why. */
static json_t *diverged_json(hanse_chain *c) {
  hanse_divergence d;
  if (!hanse_chain_divergence(c, &d)) return json_null();
  return json_pack("{s:I, s:o, s:o, s:s}", "height", (json_int_t)d.height, "ours",
                   d.has_ours ? api_hex(d.ours.b, HANSE_HASH_BYTES) : json_null(), "certified",
                   d.has_certified ? api_hex(d.certified.b, HANSE_HASH_BYTES) : json_null(),
                   "reason", d.reason);
}

enum MHD_Result res_chain_status(hanse_req *rq, hanse_node_chain *nc) {
  if (strcmp(rq->method, "GET") != 0) return api_method_not_allowed(rq, "GET");
  hanse_tip tip;
  hanse_chain_tip(nc->chain, &tip);
  int failed = hanse_consensus_failed(nc->cons) || hanse_store_failed(nc->chain->writer);
  json_t *j = json_pack("{s:s, s:I, s:o, s:o, s:I, s:I, s:I, s:b, s:I, s:I}", "chain_id",
                nc->chain->chain_id, "height", (json_int_t)tip.height, "last_hash",
                api_hex(tip.hash.b, HANSE_HASH_BYTES), "state_digest",
                api_hex(tip.state_digest.b, HANSE_HASH_BYTES), "time_ms", (json_int_t)tip.time_ms,
                "tx_count", (json_int_t)tip.tx_count, "mempool_depth",
                (json_int_t)hanse_mempool_depth(nc->mp), "store_failed", failed,
                "block_interval_ms", (json_int_t)rq->node->cfg.block_interval_ms,
                "block_max_txs", (json_int_t)rq->node->cfg.block_max_txs);
  if (j && nc->cluster) json_object_set_new(j, "cluster", cluster_json(nc));
  if (j) json_object_set_new(j, "diverged", diverged_json(nc->chain));
  /* Public figures that every caller may read (no credentials travel with
   * a cross-origin fetch under "*"): the explorer served by one member of
   * a cluster fetches the others' status to show their roles and heights. */
  rq->any_origin = 1;
  return api_json(rq, 200, j);
}

enum MHD_Result res_search(hanse_req *rq, hanse_node_chain *nc) {
  enum MHD_Result denied;
  if (!api_read_allowed(rq, nc, NULL, &denied)) return denied;
  const char *q = api_param(rq, "q");
  if (q == NULL || *q == 0)
    return api_error(rq, 400, "http.bad_param", "give q: a height, a block hash or a transaction id");
  size_t n = strlen(q);
  hanse_tip tip;
  hanse_chain_tip(nc->chain, &tip);
  if (n <= 19 && strspn(q, "0123456789") == n) {
    uint64_t h = strtoull(q, NULL, 10);
    if (h <= tip.height) return api_json(rq, 200, json_pack("{s:s, s:I}", "type", "block", "height", (json_int_t)h));
    return api_error(rq, 404, "search.not_found", "no block at height %" PRIu64, h);
  }
  hanse_hash hash;
  if (hanse_hash_parse(&hash, q) != HANSE_OK)
    return api_error(rq, 400, "http.bad_param", "q must be a height or 64 hex characters");
  char hex[HANSE_HASH_HEX_BYTES];
  hanse_hash_hex(hex, &hash);
  if (hanse_mempool_contains(nc->mp, &hash))
    return api_json(rq, 200, json_pack("{s:s, s:s, s:s}", "type", "tx", "id", hex, "status", "pending"));
  hanse_store *rd = hanse_chain_reader_acquire(nc->chain);
  if (rd == NULL) return api_error_rc(rq, HANSE_ERR(IO), "cannot open a reader");
  uint64_t height;
  hanse_receipt r;
  json_t *j = NULL;
  if (hanse_store_block_by_hash(rd, &hash, &height) == HANSE_OK)
    j = json_pack("{s:s, s:I, s:s}", "type", "block", "height", (json_int_t)height, "hash", hex);
  else if (hanse_store_tx_get(rd, &hash, &r) == HANSE_OK)
    j = json_pack("{s:s, s:s, s:I}", "type", "tx", "id", hex, "height", (json_int_t)r.height);
  hanse_chain_reader_release(nc->chain, rd);
  if (j == NULL) return api_error(rq, 404, "search.not_found", "no block or transaction %s", hex);
  return api_json(rq, 200, j);
}

enum MHD_Result res_accounts(hanse_req *rq, hanse_node_chain *nc, const char *rest) {
  if (strcmp(rq->method, "GET") != 0) return api_method_not_allowed(rq, "GET");
  hanse_pubkey pk;
  if (rest[0] != '/' || hanse_pubkey_parse(&pk, rest + 1) != HANSE_OK)
    return api_error(rq, 400, "http.bad_param", "an account is a 64-hex public key");
  enum MHD_Result denied;
  if (api_forward_to_leader(rq, nc, &denied)) return denied; /* its pool has next_seq */
  if (!api_read_allowed(rq, nc, NULL, &denied)) return denied;
  uint64_t next, committed;
  int rc = hanse_mempool_next_seq(nc->mp, &pk, &next, &committed);
  if (rc != HANSE_OK) return api_error_rc(rq, rc, NULL);
  return api_json(rq, 200,
                  json_pack("{s:o, s:I, s:I}", "pubkey", api_hex(pk.b, HANSE_PUBKEY_BYTES), "seq",
                            (json_int_t)committed, "next_seq", (json_int_t)next));
}

enum MHD_Result res_genesis(hanse_req *rq, hanse_node_chain *nc) {
  enum MHD_Result denied;
  if (!api_read_allowed(rq, nc, NULL, &denied)) return denied;
  hanse_store *rd = hanse_chain_reader_acquire(nc->chain);
  if (rd == NULL) return api_error_rc(rq, HANSE_ERR(IO), "cannot open a reader");
  hanse_buf b;
  hanse_buf_init(&b);
  int rc = hanse_store_meta_get(rd, "genesis", &b);
  hanse_chain_reader_release(nc->chain, rd);
  json_t *g = rc == HANSE_OK ? json_loadb((const char *)b.data, b.len, 0, NULL) : NULL;
  hanse_buf_free(&b);
  if (g == NULL) return api_error_rc(rq, HANSE_ERR(CHAIN_BROKEN), "the stored genesis is unreadable");
  return api_json(rq, 200, g);
}
