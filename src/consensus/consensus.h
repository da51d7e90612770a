/*
 * consensus.h -- how a chain's blocks come to be agreed: a small function
 * table with two engines behind it.
 *
 *   hanse_consensus_single  the single-node sequencer (sequencer.c): one
 *                           thread cuts blocks from the mempool and
 *                           commits them; the default of `hanse node`
 *   hanse_consensus_raft    the Raft cluster (raft_cluster.c, libraft
 *                           0.22 over TCP): the leader cuts and executes
 *                           a block and proposes it whole; every node
 *                           checks, executes and commits it in log order
 *
 * The node (node.c) and the API use only this table, so an engine can be
 * swapped without touching them. Use:
 *
 *   hanse_consensus *cs;
 *   hanse_consensus_start(&hanse_consensus_raft, &cfg, &cs, &rej);
 *   ... hanse_consensus_is_leader(cs), hanse_consensus_role(cs, &r) ...
 *   hanse_consensus_stop(cs);       // after the block in progress
 *
 * Conventions: `cfg` and everything it points to is borrowed for the
 * engine's lifetime (the node keeps it); on_commit runs on the engine's
 * own thread after every durable block, on every node of a cluster.
 */
#ifndef HANSE_CONSENSUS_H
#define HANSE_CONSENSUS_H

#include <stdint.h>

#include "base/env.h"
#include "chain/chain.h"
#include "consensus/catchup.h"
#include "consensus/mempool.h"

/* Members of a cluster (each a voter of the initial configuration). */
#define HANSE_CLUSTER_NODES_MAX 16
#define HANSE_CLUSTER_ADDR_MAX 64   /* "host:port" of the Raft transport */
#define HANSE_CLUSTER_URL_MAX 128   /* "http://host:port" of the node's API */

typedef struct hanse_cluster_member {
  uint64_t id;                       /* Raft server id, >= 1 */
  char raft_addr[HANSE_CLUSTER_ADDR_MAX];
  char api_url[HANSE_CLUSTER_URL_MAX];
} hanse_cluster_member;

typedef struct hanse_cluster_config {
  char chain_id[HANSE_CHAIN_ID_MAX + 1]; /* the clustered chain */
  uint64_t self_id;                  /* this node's Raft id */
  char raft_addr[HANSE_CLUSTER_ADDR_MAX]; /* where this node listens */
  char raft_dir[1024];               /* <data>/chains/<id>/raft (filled by the node) */
  hanse_cluster_member members[HANSE_CLUSTER_NODES_MAX];
  int member_count;
  uint32_t snapshot_every;           /* 0: HANSE_RAFT_SNAPSHOT_EVERY_DEFAULT */
  int join;                          /* 1: a node added by governance
                                        (member.node_propose): no bootstrap,
                                        it waits for the leader to add it */
} hanse_cluster_config;

/* Parse a member list "ID@HOST:PORT@URL,ID@HOST:PORT@URL,...", e.g.
 * "1@127.0.0.1:9001@http://127.0.0.1:8081,2@...". Ids distinct and >= 1;
 * 1 to HANSE_CLUSTER_NODES_MAX members. HANSE_OK or an INVALID rejection
 * naming the bad member. */
int hanse_cluster_parse_members(const char *text, hanse_cluster_config *out,
                                hanse_reject *rej);
/* The member with this id, or NULL. */
const hanse_cluster_member *hanse_cluster_member_find(const hanse_cluster_config *c,
                                                      uint64_t id);

/* Called on the engine's thread after each durable commit (ok = 1), once
 * the block's transactions have left the mempool, or after a failed commit
 * (ok = 0, receipts NULL). latency_us[i] is the time from arrival to
 * commit of receipts[i]'s transaction; NULL for blocks this node did not
 * propose (it does not know their arrival). */
typedef void (*hanse_commit_fn)(void *ctx, int ok, const hanse_tip *tip,
                                const hanse_receipt *receipts, uint32_t n,
                                const uint64_t *latency_us);

typedef struct hanse_consensus_config {
  hanse_chain *chain;               /* borrowed */
  hanse_mempool *mp;                /* borrowed */
  int block_interval_ms;
  int block_max_txs;
  const hanse_env *env;
  hanse_commit_fn on_commit;
  void *ctx;
  const hanse_cluster_config *cluster; /* the Raft engine only; borrowed */
  /* The Raft engine only: how a node behind a snapshot fetches blocks
   * from a peer (catchup.h). */
  hanse_fetch_blocks_fn fetch_blocks;
  void *fetch_ctx;
} hanse_consensus_config;

enum {
  HANSE_ROLE_SINGLE = 0,  /* the single-node sequencer: always the proposer */
  HANSE_ROLE_FOLLOWER,
  HANSE_ROLE_CANDIDATE,
  HANSE_ROLE_LEADER,
  HANSE_ROLE_UNAVAILABLE  /* starting, stopping, or out of the cluster */
};

typedef struct hanse_consensus_role {
  int role;                         /* HANSE_ROLE_* */
  uint64_t self_id;                 /* 0 for single */
  uint64_t leader_id;               /* 0: no leader known */
  uint64_t term;
  int diverged;                     /* stopped applying: see raft_fsm.c */
  /* Catch-up from a snapshot (catchup.h): the last one, or the current
   * one while catchup_active. catchup_runs 0: none since start. */
  int catchup_active;
  uint64_t catchup_runs, catchup_from, catchup_target, catchup_height, catchup_elapsed_ms;
  uint64_t catchup_peer;
  /* The Raft configuration this node last saw: members and their roles. */
  int conf_count;
  struct {
    uint64_t id;
    int role; /* HANSE_RAFT_VOTER, _STANDBY, _SPARE */
  } conf[HANSE_CLUSTER_NODES_MAX];
} hanse_consensus_role;

enum { HANSE_RAFT_VOTER = 1, HANSE_RAFT_STANDBY, HANSE_RAFT_SPARE };

typedef struct hanse_consensus hanse_consensus;

typedef struct hanse_consensus_engine {
  const char *name;
  /* Start on cfg (borrowed until stop). *out owned by the engine; free it
   * with stop. */
  int (*start)(const hanse_consensus_config *cfg, hanse_consensus **out, hanse_reject *rej);
  /* Stop after the block in progress; frees the engine. NULL-safe. */
  void (*stop)(hanse_consensus *cs);
  /* 1 once the store failed or the chain diverged: nothing commits here. */
  int (*failed)(hanse_consensus *cs);
  /* 1 if submissions may be pooled here (single node, or a cluster leader
   * ready to propose); otherwise the API forwards them to the leader. */
  int (*is_leader)(hanse_consensus *cs);
  void (*role)(hanse_consensus *cs, hanse_consensus_role *out);
} hanse_consensus_engine;

/* Every engine's object starts with its table. */
struct hanse_consensus {
  const hanse_consensus_engine *engine;
};

extern const hanse_consensus_engine hanse_consensus_single;
extern const hanse_consensus_engine hanse_consensus_raft;

static inline int hanse_consensus_start(const hanse_consensus_engine *e,
                                        const hanse_consensus_config *cfg,
                                        hanse_consensus **out, hanse_reject *rej) {
  return e->start(cfg, out, rej);
}
static inline void hanse_consensus_stop(hanse_consensus *cs) {
  if (cs) cs->engine->stop(cs);
}
static inline int hanse_consensus_failed(hanse_consensus *cs) {
  return cs ? cs->engine->failed(cs) : 0;
}
static inline int hanse_consensus_is_leader(hanse_consensus *cs) {
  return cs ? cs->engine->is_leader(cs) : 1;
}
static inline void hanse_consensus_role_get(hanse_consensus *cs, hanse_consensus_role *out) {
  cs->engine->role(cs, out);
}

#endif
