/*
 * node.c -- opening, running and closing a node (see node.h).
 *
 * Start-up order matters: the chains are opened and checked first (a broken
 * chain stops the node before it serves anything), then the sequencers
 * start, then the HTTP server. Shutdown is the reverse: no new requests,
 * then the sequencers finish their block in progress, then the stores
 * close. Signals are blocked in every thread and taken by sigwait in the
 * main thread, so no handler runs in the middle of a commit.
 */
#include "node/node.h"

#include <curl/curl.h>
#include <dirent.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http.h"
#include "base/log.h"
#include "hanse/client.h"
#include "node/certs.h"

hanse_node_chain *hanse_node_find_chain(hanse_node *n, const char *id, size_t len) {
  for (int i = 0; i < n->chain_count; i++) {
    const char *cid = n->chains[i].chain->chain_id;
    if (strlen(cid) == len && memcmp(cid, id, len) == 0) return &n->chains[i];
  }
  return NULL;
}

/* The mempool asks for a signer's committed sequence on first sight. */
static int node_seq_lookup(void *ctx, const hanse_pubkey *signer, uint64_t *last) {
  hanse_node_chain *nc = ctx;
  return hanse_chain_last_seq(nc->chain, signer, last);
}

static void node_on_commit(void *ctx, int ok, const hanse_tip *tip,
                           const hanse_receipt *rs, uint32_t n,
                           const uint64_t *latency_us) {
  hanse_node_chain *nc = ctx;
  if (ok) {
    atomic_fetch_add(&nc->metrics.blocks_total, 1);
    atomic_fetch_add(&nc->metrics.txs_committed_total, n);
    if (latency_us) hanse_metrics_latency(&nc->metrics, latency_us, n);
    for (uint32_t i = 0; i < n; i++)
      if (strcmp(rs[i].code, "ok") != 0) hanse_metrics_reject(&nc->metrics, "execute", rs[i].code, 1);
    (void)tip;
  }
  if (ok) hanse_waiters_deliver(&nc->waiters, rs, n);
  if (ok) hanse_certs_committed(nc->certs, tip); /* its signature goes out */
}

/* Checkpoint every chain's WAL a few times a second, so commits on the
 * sequencer thread never pay for copying pages into the database file. */
#define CHECKPOINT_INTERVAL_MS 250

static void *checkpoint_main(void *arg) {
  hanse_node *n = arg;
  pthread_setname_np(pthread_self(), "hanse-ckpt");
  pthread_mutex_lock(&n->stop_mu);
  while (!n->stopping) {
    uint64_t until = hanse_mono_us(n->env) + CHECKPOINT_INTERVAL_MS * 1000u;
    struct timespec ts = {(time_t)(until / 1000000), (long)(until % 1000000) * 1000};
    pthread_cond_timedwait(&n->stop_cv, &n->stop_mu, &ts);
    if (n->stopping) break;
    pthread_mutex_unlock(&n->stop_mu);
    for (int i = 0; i < n->chain_count; i++) hanse_chain_checkpoint(n->chains[i].chain);
    pthread_mutex_lock(&n->stop_mu);
  }
  pthread_mutex_unlock(&n->stop_mu);
  return NULL;
}

static int load_node_key(hanse_node *n, hanse_reject *rej) {
  char path[1100];
  snprintf(path, sizeof path, "%s/node.key", n->data_dir);
  int rc = hanse_keyfile_read(path, &n->key);
  if (rc != HANSE_OK)
    return hanse_reject_set(rej, rc, "cannot read the node key %s (run `hanse init`)", path);
  return HANSE_OK;
}

static int open_chains(hanse_node *n, hanse_reject *rej) {
  char dir[1100];
  snprintf(dir, sizeof dir, "%s/chains", n->data_dir);
  DIR *d = opendir(dir);
  if (d == NULL)
    return hanse_reject_set(rej, HANSE_ERR(NOT_FOUND), "no chains in %s (run `hanse init`)",
                            n->data_dir);
  /* Sorted order keeps the chain list stable across restarts. */
  char names[HANSE_NODE_CHAINS_MAX][HANSE_CHAIN_ID_MAX + 1];
  int count = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.') continue;
    if (!hanse_chain_id_valid(de->d_name, strlen(de->d_name))) continue;
    if (count == HANSE_NODE_CHAINS_MAX) {
      closedir(d);
      return hanse_reject_set(rej, HANSE_ERR(INVALID), "%s holds more than %d chains", dir,
                              HANSE_NODE_CHAINS_MAX);
    }
    size_t nl = strlen(de->d_name); /* <= HANSE_CHAIN_ID_MAX: checked above */
    memcpy(names[count], de->d_name, nl + 1);
    count++;
  }
  closedir(d);
  qsort(names, (size_t)count, sizeof names[0], (int (*)(const void *, const void *))strcmp);
  if (count == 0)
    return hanse_reject_set(rej, HANSE_ERR(NOT_FOUND), "no chains in %s (run `hanse init`)",
                            n->data_dir);
  for (int i = 0; i < count; i++) {
    hanse_node_chain *nc = &n->chains[n->chain_count];
    char cdir[sizeof dir + HANSE_CHAIN_ID_MAX + 2];
    snprintf(cdir, sizeof cdir, "%s/%.32s", dir, names[i]);
    int rc = hanse_chain_open(cdir, &n->key, NULL, &nc->chain, rej);
    if (rc != HANSE_OK) {
      hanse_reject_prefix(rej, "chain '%s'", names[i]);
      return rc;
    }
    if (strcmp(nc->chain->chain_id, names[i]) != 0) {
      hanse_reject_set(rej, HANSE_ERR(CHAIN_BROKEN),
                       "directory chains/%s holds chain '%s': names must agree", names[i],
                       nc->chain->chain_id);
      hanse_chain_close(nc->chain);
      nc->chain = NULL;
      return HANSE_ERR(CHAIN_BROKEN);
    }
    nc->node = n;
    char bdir[sizeof cdir + 8];
    snprintf(bdir, sizeof bdir, "%s/blobs", cdir);
    rc = hanse_blobstore_open(bdir, &nc->blobs, rej);
    if (rc != HANSE_OK) {
      hanse_reject_prefix(rej, "chain '%s'", names[i]);
      hanse_chain_close(nc->chain);
      nc->chain = NULL;
      return rc;
    }
    hanse_metrics_init(&nc->metrics);
    if (hanse_waiters_init(&nc->waiters) != HANSE_OK) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
    nc->mp = hanse_mempool_create(HANSE_MEMPOOL_MAX, node_seq_lookup, nc);
    n->chain_count++;
    if (nc->mp == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
    hanse_tip tip;
    hanse_chain_tip(nc->chain, &tip);
    HANSE_INFO("chain %s: height %" PRIu64 ", %" PRIu64 " transactions, checked",
               nc->chain->chain_id, tip.height, tip.tx_count);
  }
  return HANSE_OK;
}

/* consensus/catchup.h's fetch, for a clustered chain behind a snapshot:
 * GET /blocks/raw from a peer, signed with this node's key (only the
 * chain's validators may read raw blocks). A client per range: catch-ups
 * are rare and a range is up to 256 blocks. */
#define NODE_FETCH_TIMEOUT_MS 60000L
#define NODE_FETCH_MAX_BYTES (64u << 20)

static int node_fetch_blocks(void *ctx, const char *api_url, uint64_t from, uint32_t count,
                             hanse_buf *out, hanse_reject *rej) {
  hanse_node_chain *nc = ctx;
  hanse_client *cl;
  int rc = hanse_client_create(api_url, nc->chain->chain_id, &cl, rej);
  if (rc != HANSE_OK) return rc;
  hanse_client_set_signer(cl, &nc->node->key);
  hanse_client_set_timeout_ms(cl, NODE_FETCH_TIMEOUT_MS);
  char path[160];
  snprintf(path, sizeof path, "/v1/chains/%s/blocks/raw?from=%" PRIu64 "&count=%u",
           nc->chain->chain_id, from, count);
  rc = hanse_client_get_raw(cl, path, out, NODE_FETCH_MAX_BYTES, rej);
  hanse_client_destroy(cl);
  return rc;
}

/* Cluster mode: the clustered chain must be served here, and this node's
 * key must be one of its genesis validators, or its blocks would be
 * refused by every other node (the proposer check on apply). */
static int cluster_prepare(hanse_node *n, hanse_reject *rej) {
  hanse_cluster_config *cl = &n->cluster;
  hanse_node_chain *nc = hanse_node_find_chain(n, cl->chain_id, strlen(cl->chain_id));
  if (nc == NULL)
    return hanse_reject_set(rej, HANSE_ERR(NOT_FOUND), "--cluster %s: no such chain in %s",
                            cl->chain_id, n->data_dir);
  /* The validator set in force (genesis, then node votes). A node that
   * joins by vote (--join) holds only the genesis until it has caught up,
   * so its key is not in its own copy yet: the others check its blocks. */
  if (!cl->join && !hanse_chain_is_validator(nc->chain, &n->key.pub, NULL)) {
    char hex[HANSE_HASH_HEX_BYTES];
    return hanse_reject_set(rej, HANSE_ERR(INVALID),
                            "--cluster %s: this node's key %s is not a validator of the chain; "
                            "list every member's node key in the genesis's \"validators\", or "
                            "add the node by vote (member.node_propose) and start it with --join",
                            cl->chain_id, hanse_pubkey_hex(hex, &n->key.pub));
  }
  snprintf(cl->raft_dir, sizeof cl->raft_dir, "%.900s/chains/%s/raft", n->data_dir,
           cl->chain_id);
  if (cl->raft_addr[0] == 0) {
    const hanse_cluster_member *self = hanse_cluster_member_find(cl, cl->self_id);
    if (self == NULL)
      return hanse_reject_set(rej, HANSE_ERR(INVALID), "--raft-id %llu is not in --peers",
                              (unsigned long long)cl->self_id);
    snprintf(cl->raft_addr, sizeof cl->raft_addr, "%s", self->raft_addr);
  }
  nc->cluster = cl;
  /* Followers forward submissions with libcurl (api/forward.c). */
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return hanse_reject_set(rej, HANSE_ERR(INTERNAL), "cannot initialise libcurl");
  return HANSE_OK;
}

int hanse_node_open(const hanse_node_config *cfg, hanse_node **out,
                    hanse_reject *rej) {
  *out = NULL;
  hanse_modules_register_all();
  if (cfg->public_url && cfg->public_url[0]) {
    int urc = hanse_api_public_url_check(cfg->public_url, rej);
    if (urc != HANSE_OK) return urc;
  }
  hanse_node *n = calloc(1, sizeof *n);
  if (n == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  n->cfg = *cfg;
  snprintf(n->data_dir, sizeof n->data_dir, "%s", cfg->data_dir ? cfg->data_dir : "data");
  snprintf(n->host, sizeof n->host, "%s", cfg->host ? cfg->host : "127.0.0.1");
  n->cfg.data_dir = n->data_dir;
  n->cfg.host = n->host;
  snprintf(n->public_url, sizeof n->public_url, "%s", cfg->public_url ? cfg->public_url : "");
  n->cfg.public_url = n->public_url;
  if (cfg->cluster) {
    n->cluster = *cfg->cluster;
    n->cfg.cluster = &n->cluster;
  }
  if (n->cfg.block_interval_ms <= 0) n->cfg.block_interval_ms = HANSE_BLOCK_INTERVAL_MS_DEFAULT;
  if (n->cfg.block_max_txs <= 0) n->cfg.block_max_txs = HANSE_BLOCK_TXS_DEFAULT;
  n->env = hanse_env_system();
  n->started_ms = hanse_now_ms(n->env);
  hanse_metrics_init(&n->metrics);
  pthread_mutex_init(&n->stop_mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&n->stop_cv, &ca);
  pthread_condattr_destroy(&ca);
  int rc = load_node_key(n, rej);
  if (rc == HANSE_OK) rc = open_chains(n, rej);
  if (rc != HANSE_OK) goto fail;
  n->pool = hanse_pool_create(cfg->verify_threads);
  if (n->pool == NULL) {
    rc = hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
    goto fail;
  }
  if (n->cfg.cluster) {
    rc = cluster_prepare(n, rej);
    if (rc != HANSE_OK) goto fail;
  }
  for (int i = 0; i < n->chain_count; i++) {
    hanse_node_chain *nc = &n->chains[i];
    if (nc->cluster) {
      rc = hanse_certs_start(nc->chain, nc->cluster, &n->key, &nc->certs, rej);
      if (rc != HANSE_OK) goto fail;
    }
    hanse_consensus_config cc = {nc->chain,         nc->mp,         n->cfg.block_interval_ms,
                                 n->cfg.block_max_txs, n->env,       node_on_commit,
                                 nc,                nc->cluster,    node_fetch_blocks,
                                 nc};
    rc = hanse_consensus_start(nc->cluster ? &hanse_consensus_raft : &hanse_consensus_single,
                               &cc, &nc->cons, rej);
    if (rc != HANSE_OK) goto fail;
  }
  if (pthread_create(&n->checkpoint_thread, NULL, checkpoint_main, n) == 0)
    n->checkpoint_running = 1;
  rc = hanse_api_start(n, n->host, n->cfg.port, &n->api, &n->port, rej);
  if (rc != HANSE_OK) goto fail;
  *out = n;
  return HANSE_OK;
fail:
  hanse_node_close(n);
  return rc;
}

void hanse_node_close(hanse_node *n) {
  if (n == NULL) return;
  hanse_api_stop(n->api);
  for (int i = 0; i < n->chain_count; i++) hanse_consensus_stop(n->chains[i].cons);
  for (int i = 0; i < n->chain_count; i++) hanse_certs_stop(n->chains[i].certs);
  if (n->checkpoint_running) {
    pthread_mutex_lock(&n->stop_mu);
    n->stopping = 1;
    pthread_cond_broadcast(&n->stop_cv);
    pthread_mutex_unlock(&n->stop_mu);
    pthread_join(n->checkpoint_thread, NULL);
  }
  for (int i = 0; i < n->chain_count; i++) {
    hanse_mempool_destroy(n->chains[i].mp);
    hanse_chain_close(n->chains[i].chain);
    hanse_blobstore_close(n->chains[i].blobs);
    hanse_metrics_destroy(&n->chains[i].metrics);
    hanse_waiters_destroy(&n->chains[i].waiters);
  }
  hanse_pool_destroy(n->pool);
  hanse_metrics_destroy(&n->metrics);
  pthread_mutex_destroy(&n->stop_mu);
  pthread_cond_destroy(&n->stop_cv);
  hanse_keypair_wipe(&n->key);
  free(n);
}

void hanse_node_block_signals(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);
}

int hanse_node_wait_signal(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

int hanse_node_run(const hanse_node_config *cfg, hanse_reject *rej) {
  hanse_node_block_signals();
  hanse_node *n;
  int rc = hanse_node_open(cfg, &n, rej);
  if (rc != HANSE_OK) return rc;
  HANSE_INFO("node listening on http://%s:%d/ (%d chain%s)", n->host, n->port, n->chain_count,
             n->chain_count == 1 ? "" : "s");
  printf("Explorer: http://%s:%d/\n", n->host, n->port);
  fflush(stdout);
  int sig = hanse_node_wait_signal();
  HANSE_INFO("signal %d: stopping", sig);
  hanse_node_close(n);
  return HANSE_OK;
}
