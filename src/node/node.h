/*
 * node.h -- a Hanse node: the chains it serves, their mempools and
 * sequencers, the signature-check pool, metrics and the HTTP API.
 *
 * Data directory:
 *   <data>/node.key               the node's Ed25519 key (signs blocks)
 *   <data>/chains/<chain id>/     one chain each (chain.h)
 *   <data>/chains/<chain id>/blobs/   its documents kept off chain
 *                                 (storage/blobstore.h)
 *
 * Life cycle: hanse_node_open (opens and checks every chain, starts the
 * consensus engines -- the single-node sequencer, or the Raft cluster for
 * the chain named by cfg.cluster -- and the HTTP server) ... hanse_node_close (stops the server,
 * then the sequencers after their block in progress, then closes the
 * stores). hanse_node_run does both around waiting for SIGINT/SIGTERM.
 */
#ifndef HANSE_NODE_H
#define HANSE_NODE_H

#include "base/env.h"
#include "base/pool.h"
#include "chain/chain.h"
#include "consensus/mempool.h"
#include "consensus/consensus.h"
#include "consensus/sequencer.h"
#include "node/metrics.h"
#include "node/waiters.h"
#include "storage/blobstore.h"

#define HANSE_NODE_CHAINS_MAX 16

typedef struct hanse_node_config {
  const char *data_dir;
  const char *host;         /* default 127.0.0.1 */
  int port;                 /* default 8080; 0 picks a free port */
  int block_interval_ms;    /* default 100 */
  int block_max_txs;        /* default 10000 */
  int verify_threads;       /* default: one per core */
  /* Cluster mode (consensus/raft_cluster.c): the chain cluster->chain_id
   * is replicated by Raft with the members listed; NULL: every chain runs
   * the single-node sequencer. Copied by hanse_node_open. */
  const hanse_cluster_config *cluster;
  /* The base of the node's product links (/p/{digital link}, their QR
   * codes): "https://shop.example"; NULL or "": "http://" and each
   * request's Host header. Checked and copied by hanse_node_open. */
  const char *public_url;
} hanse_node_config;

typedef struct hanse_node hanse_node;

typedef struct hanse_node_chain {
  hanse_chain *chain;
  hanse_mempool *mp;
  hanse_consensus *cons;     /* how its blocks are agreed (consensus.h) */
  const hanse_cluster_config *cluster; /* the node's, when this chain is
                                          clustered; else NULL */
  hanse_metrics metrics;
  hanse_waiters waiters;
  hanse_blobstore *blobs;   /* documents anchored by digest (res_blobs.c) */
  struct hanse_certs *certs; /* clustered chains: the certificate exchange
                                (node/certs.h); NULL otherwise */
  hanse_node *node;
} hanse_node_chain;

struct hanse_api;

struct hanse_node {
  hanse_node_config cfg;
  char data_dir[1024];
  char host[64];
  char public_url[HANSE_PUBLIC_URL_MAX + 1];
  const hanse_env *env;
  hanse_keypair key;
  hanse_pool *pool;
  hanse_node_chain chains[HANSE_NODE_CHAINS_MAX];
  int chain_count;
  hanse_metrics metrics;          /* node-wide (HTTP) */
  struct hanse_api *api;
  pthread_t checkpoint_thread;    /* hanse-ckpt: WAL checkpoints */
  int checkpoint_running;
  pthread_mutex_t stop_mu;
  pthread_cond_t stop_cv;
  int stopping;
  int port;                       /* the bound port */
  uint64_t started_ms;
  hanse_cluster_config cluster;   /* cfg.cluster's copy (cfg.cluster points here) */
};

int hanse_node_open(const hanse_node_config *cfg, hanse_node **out,
                    hanse_reject *rej);
void hanse_node_close(hanse_node *n);
/* Open, print the explorer address, wait for SIGINT/SIGTERM, close. */
int hanse_node_run(const hanse_node_config *cfg, hanse_reject *rej);
/* Block SIGINT/SIGTERM in the calling thread (call before creating any
 * thread) and wait for one of them. */
void hanse_node_block_signals(void);
int hanse_node_wait_signal(void);

hanse_node_chain *hanse_node_find_chain(hanse_node *n, const char *id,
                                        size_t len);

/* Submission (node/submit.c). */
typedef struct hanse_submit_entry {
  uint8_t type;               /* HANSE_ENTRY_TX or HANSE_ENTRY_BATCH */
  const uint8_t *raw;         /* borrowed */
  size_t len;
} hanse_submit_entry;

enum { HANSE_SUBMIT_PENDING, HANSE_SUBMIT_COMMITTED, HANSE_SUBMIT_REJECTED };

typedef struct hanse_submit_result {
  int has_id;
  hanse_hash id;
  int status;                 /* HANSE_SUBMIT_* */
  hanse_receipt receipt;      /* when COMMITTED */
  hanse_reject rej;           /* when REJECTED */
} hanse_submit_result;

/* Check and pool every entry; with wait_ms > 0 wait for the accepted ones
 * to commit. *results (caller frees) has one result per transaction, or
 * one per entry that did not decode. */
int hanse_node_submit(hanse_node_chain *nc, const hanse_submit_entry *entries,
                      size_t n, int wait_ms, hanse_submit_result **results,
                      size_t *nresults);

#endif
