/*
 * raft_cluster.c -- the Raft engine of the consensus interface
 * (consensus.h, hanse_consensus_raft): the nodes of one chain form a Raft
 * group on libraft 0.22 (libuv, TCP), and the log holds whole blocks.
 *
 * One thread per clustered chain ("hanse-raft") runs a libuv loop that
 * owns libraft and every write to the chain's database, so a clustered
 * chain has exactly one writer thread, as a single-node chain has.
 *
 * What a node does with the log -- the leader's proposals, fsm apply,
 * divergence, the barrier before a new leader is ready, snapshots -- is
 * raft_fsm.c, which knows nothing of this loop (the unit tests drive it
 * on libraft's in-memory fixture). This file owns the loop, the thread,
 * the TCP transport and raft_uv's log directory, starts and stops them,
 * and publishes the role, leader and term to other threads.
 *
 * Leadership. libraft has no state-change callback: tick() polls
 * raft_state() after every loop iteration (uv_prepare) and every 5 ms (a
 * timer, which also cuts blocks), and calls raft_fsm's steps in order:
 * observe the state, hand leadership over if diverged, else the role
 * transitions (pool clearing, barrier) and a proposal.
 *
 * Stopping: stop() asks the loop (uv_async) to stop proposing, waits up to
 * 3 s for a proposal in flight to resolve, then raft_close, raft_uv_close,
 * raft_uv_tcp_close, and closes its own handles; the thread ends with the
 * loop.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <errno.h>
#include <unistd.h>

#include <jansson.h>
#include <raft.h>
#include <raft/uv.h>
#include <uv.h>

#include "base/fs.h"
#include "base/limits.h"
#include "base/log.h"
#include "consensus/consensus.h"
#include "consensus/raft_fsm.h"
#include "consensus/raft_transport.h"

/* Timing (libraft notes: pre-vote on, election 300-500 ms, heartbeat at
 * most a third of it). */
#define RAFT_ELECTION_TIMEOUT_MS 400
#define RAFT_HEARTBEAT_TIMEOUT_MS 100
#define RAFT_CONNECT_RETRY_MS 200
/* Segments of 32 MiB or more make 0.22.1 refuse every write (NOSPACE). */
#define RAFT_SEGMENT_BYTES (16u * 1024 * 1024)
/* Entries libraft may send ahead of acknowledgements (default 32). */
#define RAFT_INFLIGHT_ENTRIES 256
/* libraft keeps every entry since its last snapshot in memory: a
 * snapshot every HANSE_RAFT_SNAPSHOT_EVERY_DEFAULT blocks (limits.h), as
 * many kept behind it for followers catching up from the log; a follower
 * further behind gets the snapshot and fetches the blocks (catchup.h). */
#define CLUSTER_TICK_MS 5
#define CLUSTER_STOP_WAIT_US (3u * 1000 * 1000)

typedef struct raft_cluster {
  hanse_consensus base; /* first: the table */
  hanse_consensus_config cfg;
  hanse_cluster_config cl;
  pthread_t thread;
  uv_loop_t loop;
  uv_async_t wake;
  uv_timer_t timer;
  uv_prepare_t prepare;
  hanse_raft_transport transport;
  struct raft_io io;
  struct raft_fsm fsm;
  struct raft raft;
  int handles_live, transport_live, io_live, raft_live;

  /* Start-up handshake with the starting thread. */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int start_done;
  int start_rc;
  char start_msg[HANSE_REJECT_MSG_MAX];

  /* Published to other threads (ready, failed, diverged: sm's). */
  atomic_int role;            /* HANSE_ROLE_* */
  atomic_uint_least64_t leader_id;
  atomic_uint_least64_t term;
  atomic_int stop_requested;

  /* Loop thread only. */
  hanse_raft_fsm sm;          /* state machine, proposer, leadership */
  int closing, close_started;
  uint64_t close_deadline_us;

  /* Membership by governance (membership_tick): one change at a time. */
  struct raft_change change_req;
  int change_inflight;
  uint64_t membership_next_us;
  uint64_t membership_seen_height;
  /* The Raft configuration as last seen, for role() (under conf_mu). */
  pthread_mutex_t conf_mu;
  int conf_count;
  uint64_t conf_ids[HANSE_CLUSTER_NODES_MAX];
  int conf_roles[HANSE_CLUSTER_NODES_MAX];
  raft_index conf_seen_index;
} raft_cluster;

/* ---- Membership (member.node_propose votes; member_node.c) ---- */

#define CLUSTER_MEMBERSHIP_EVERY_US (200u * 1000)

typedef struct node_rec {
  uint64_t id;
  char raft_addr[HANSE_CLUSTER_ADDR_MAX];
  int removed;
} node_rec;

typedef struct node_scan {
  node_rec recs[HANSE_CLUSTER_NODES_MAX];
  int n;
} node_scan;

static int node_visit(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl) {
  node_scan *ns = ctx;
  (void)k;
  (void)kl;
  if (ns->n == HANSE_CLUSTER_NODES_MAX) return 1;
  json_t *j = json_loadb((const char *)v, vl, 0, NULL);
  if (j == NULL) return 0;
  node_rec *r = &ns->recs[ns->n];
  r->id = (uint64_t)json_integer_value(json_object_get(j, "raft_id"));
  const char *addr = json_string_value(json_object_get(j, "raft_addr"));
  snprintf(r->raft_addr, sizeof r->raft_addr, "%s", addr ? addr : "");
  const char *st = json_string_value(json_object_get(j, "status"));
  r->removed = st == NULL || strcmp(st, "member") != 0;
  json_decref(j);
  if (r->id > 0) ns->n++;
  return 0;
}

static void on_changed(struct raft_change *req, int status) {
  raft_cluster *c = req->data;
  c->change_inflight = 0;
  if (status != 0)
    HANSE_WARN("chain %s: a Raft membership change failed: %s; retrying", c->cl.chain_id,
               raft_strerror(status));
  c->membership_seen_height = 0; /* look again */
}

static const struct raft_server *conf_find(raft_cluster *c, uint64_t id) {
  for (unsigned i = 0; i < c->raft.configuration.n; i++)
    if (c->raft.configuration.servers[i].id == id) return &c->raft.configuration.servers[i];
  return NULL;
}

/* Publish the configuration for role() when it changed. */
static void conf_publish(raft_cluster *c) {
  raft_index at = c->raft.configuration_uncommitted_index ? c->raft.configuration_uncommitted_index
                                                           : c->raft.configuration_committed_index;
  if (at == c->conf_seen_index && c->conf_count > 0) return;
  c->conf_seen_index = at;
  pthread_mutex_lock(&c->conf_mu);
  c->conf_count = 0;
  for (unsigned i = 0; i < c->raft.configuration.n && c->conf_count < HANSE_CLUSTER_NODES_MAX;
       i++) {
    c->conf_ids[c->conf_count] = c->raft.configuration.servers[i].id;
    c->conf_roles[c->conf_count] = c->raft.configuration.servers[i].role;
    c->conf_count++;
  }
  pthread_mutex_unlock(&c->conf_mu);
}

/* On the ready leader: bring the Raft group in line with the nodes the
 * chain's governance added or removed (state keys cluster/node/). One
 * step at a time, each a Raft configuration change: an added node joins
 * as a spare, becomes a standby (it receives the log -- and a snapshot
 * if it is far behind -- but does not vote), then a voter (libraft first
 * catches it up); a removed node is removed, and a removed leader hands
 * leadership over first. Looked at after each new block and each change. */
static void membership_tick(raft_cluster *c) {
  if (c->change_inflight || c->raft.configuration_uncommitted_index != 0) return;
  uint64_t now = hanse_mono_us(c->cfg.env);
  if (now < c->membership_next_us) return;
  hanse_tip tip;
  hanse_chain_tip(c->cfg.chain, &tip);
  if (tip.height == c->membership_seen_height) return;
  c->membership_next_us = now + CLUSTER_MEMBERSHIP_EVERY_US;
  node_scan ns;
  memset(&ns, 0, sizeof ns);
  hanse_store *rd = hanse_chain_reader_acquire(c->cfg.chain);
  if (rd == NULL) return;
  int rc = hanse_store_state_scan(rd, "cluster/node/", strlen("cluster/node/"), NULL, 0,
                                  HANSE_CLUSTER_NODES_MAX, node_visit, &ns);
  hanse_chain_reader_release(c->cfg.chain, rd);
  if (rc != HANSE_OK) return;
  c->change_req.data = c;
  for (int i = 0; i < ns.n; i++) {
    const node_rec *r = &ns.recs[i];
    const struct raft_server *s = conf_find(c, r->id);
    int rv = 0;
    const char *what = NULL;
    if (r->removed) {
      if (s == NULL) continue;
      if (r->id == c->cl.self_id) {
        /* A leader does not remove itself: another voter takes over
         * and removes this node. */
        hanse_raft_fsm_hand_over(&c->sm, &c->raft);
        return;
      }
      what = "removing";
      rv = raft_remove(&c->raft, &c->change_req, r->id, on_changed);
    } else if (s == NULL) {
      if (r->raft_addr[0] == 0) continue;
      what = "adding (as a spare)";
      rv = raft_add(&c->raft, &c->change_req, r->id, r->raft_addr, on_changed);
    } else if (s->role == RAFT_SPARE) {
      what = "making a standby (receives the log, does not vote)";
      rv = raft_assign(&c->raft, &c->change_req, r->id, RAFT_STANDBY, on_changed);
    } else if (s->role == RAFT_STANDBY) {
      what = "catching up and promoting to voter";
      rv = raft_assign(&c->raft, &c->change_req, r->id, RAFT_VOTER, on_changed);
    } else {
      continue;
    }
    if (rv == 0) {
      c->change_inflight = 1;
      HANSE_INFO("chain %s: governance: %s node %" PRIu64, c->cl.chain_id, what, r->id);
    } else {
      HANSE_WARN("chain %s: governance: %s node %" PRIu64 " refused: %s (%s)", c->cl.chain_id,
                 what, r->id, raft_strerror(rv), raft_errmsg(&c->raft));
    }
    return; /* one change at a time */
  }
  c->membership_seen_height = tip.height; /* nothing left to do at this height */
}

/* ---- Roles ---- */

static int role_of(int state) {
  switch (state) {
    case RAFT_LEADER: return HANSE_ROLE_LEADER;
    case RAFT_FOLLOWER: return HANSE_ROLE_FOLLOWER;
    case RAFT_CANDIDATE: return HANSE_ROLE_CANDIDATE;
    default: return HANSE_ROLE_UNAVAILABLE;
  }
}

static void close_all(raft_cluster *c);

static void tick(raft_cluster *c) {
  if (c->closing) {
    if (!c->close_started &&
        (!c->sm.apply_inflight || hanse_mono_us(c->cfg.env) > c->close_deadline_us))
      close_all(c);
    return;
  }
  int st = raft_state(&c->raft);
  raft_term term = c->raft.current_term;
  /* A change of state or of a leader's term: not ready, barrier needed. */
  hanse_raft_fsm_observe(&c->sm, &c->raft);
  raft_id lid = 0;
  const char *laddr = NULL;
  raft_leader(&c->raft, &lid, &laddr);
  atomic_store(&c->role, role_of(st));
  atomic_store(&c->leader_id, (uint64_t)lid);
  atomic_store(&c->term, (uint64_t)term);
  if (hanse_raft_fsm_diverged(&c->sm)) {
    /* A diverged leader proposes nothing and hands leadership over. */
    hanse_raft_fsm_hand_over(&c->sm, &c->raft);
    return;
  }
  /* Once idle: a former leader drops its pool, a new one its barrier. */
  hanse_raft_fsm_transition(&c->sm, &c->raft);
  conf_publish(c);
  if (st == RAFT_LEADER && c->sm.leader_ready && !atomic_load(&c->stop_requested))
    membership_tick(c); /* nodes added or removed by vote */
  if (!atomic_load(&c->stop_requested))
    hanse_raft_fsm_propose(&c->sm, &c->raft); /* a ready leader, none pending */
}

static void on_timer(uv_timer_t *t) { tick(t->data); }
static void on_prepare(uv_prepare_t *p) { tick(p->data); }

/* ---- Closing ---- */

static void on_handle_closed(uv_handle_t *h) { (void)h; }

static void close_handles(raft_cluster *c) {
  if (!c->handles_live) return;
  c->handles_live = 0;
  uv_close((uv_handle_t *)&c->timer, on_handle_closed);
  uv_close((uv_handle_t *)&c->prepare, on_handle_closed);
  uv_close((uv_handle_t *)&c->wake, on_handle_closed);
}

static void on_raft_closed(struct raft *r) {
  raft_cluster *c = r->data;
  c->raft_live = 0;
  /* Anything still pending was failed by raft_close (on_applied). */
  hanse_raft_fsm_abandon(&c->sm, "shutting down");
  raft_uv_close(&c->io);
  c->io_live = 0;
  hanse_raft_transport_close(&c->transport);
  c->transport_live = 0;
  close_handles(c);
}

static void close_all(raft_cluster *c) {
  c->close_started = 1;
  atomic_store(&c->sm.ready, 0);
  atomic_store(&c->role, HANSE_ROLE_UNAVAILABLE);
  if (c->raft_live) {
    raft_close(&c->raft, on_raft_closed);
    return;
  }
  if (c->io_live) raft_uv_close(&c->io);
  c->io_live = 0;
  if (c->transport_live) hanse_raft_transport_close(&c->transport);
  c->transport_live = 0;
  close_handles(c);
}

static void on_wake(uv_async_t *a) {
  raft_cluster *c = a->data;
  if (atomic_load(&c->stop_requested) && !c->closing) {
    c->closing = 1;
    c->close_deadline_us = hanse_mono_us(c->cfg.env) + CLUSTER_STOP_WAIT_US;
    atomic_store(&c->sm.ready, 0);
    tick(c);
  }
}

/* ---- Start-up (on the loop thread) ---- */

static int setup(raft_cluster *c) {
  char *msg = c->start_msg;
  size_t cap = sizeof c->start_msg;
  int rv = uv_loop_init(&c->loop);
  if (rv != 0) {
    snprintf(msg, cap, "uv_loop_init: %s", uv_strerror(rv));
    return -1;
  }
  uv_async_init(&c->loop, &c->wake, on_wake);
  uv_timer_init(&c->loop, &c->timer);
  uv_prepare_init(&c->loop, &c->prepare);
  c->wake.data = c->timer.data = c->prepare.data = c;
  c->handles_live = 1;
  if (hanse_mkdir_p(c->cl.raft_dir, 0700) != 0) {
    snprintf(msg, cap, "cannot create %.160s: %s", c->cl.raft_dir, strerror(errno));
    return -1;
  }
  rv = hanse_raft_transport_init(&c->transport, &c->loop);
  if (rv != 0) {
    snprintf(msg, cap, "raft transport: %s", raft_strerror(rv));
    return -1;
  }
  c->transport_live = 1;
  rv = raft_uv_init(&c->io, &c->loop, c->cl.raft_dir, &c->transport.tcp);
  if (rv != 0) {
    snprintf(msg, cap, "raft_uv_init %.100s: %.100s", c->cl.raft_dir, c->io.errmsg);
    return -1;
  }
  c->io_live = 1;
  raft_uv_set_segment_size(&c->io, RAFT_SEGMENT_BYTES);
  raft_uv_set_connect_retry_delay(&c->io, RAFT_CONNECT_RETRY_MS);
  hanse_raft_fsm_bind(&c->sm, &c->fsm);
  rv = raft_init(&c->raft, &c->io, &c->fsm, c->cl.self_id, c->cl.raft_addr);
  if (rv != 0) {
    snprintf(msg, cap, "raft_init: %s", raft_errmsg(&c->raft));
    return -1;
  }
  c->raft_live = 1;
  c->raft.data = c;
  raft_set_election_timeout(&c->raft, RAFT_ELECTION_TIMEOUT_MS);
  raft_set_heartbeat_timeout(&c->raft, RAFT_HEARTBEAT_TIMEOUT_MS);
  raft_set_pre_vote(&c->raft, true);
  raft_set_max_inflight_entries(&c->raft, RAFT_INFLIGHT_ENTRIES);
  unsigned every = c->cl.snapshot_every ? c->cl.snapshot_every : HANSE_RAFT_SNAPSHOT_EVERY_DEFAULT;
  raft_set_snapshot_threshold(&c->raft, every);
  raft_set_snapshot_trailing(&c->raft, every);
  uint32_t seed;
  c->cfg.env->random(c->cfg.env->ctx, &seed, sizeof seed);
  raft_seed(&c->raft, seed ^ (uint32_t)c->cl.self_id);
  /* Every node of the initial configuration bootstraps with the same
   * list; a raft directory that is not new refuses (CANTBOOTSTRAP), which
   * is the normal restart. */
  struct raft_configuration conf;
  raft_configuration_init(&conf);
  for (int i = 0; i < c->cl.member_count && rv == 0; i++)
    rv = raft_configuration_add(&conf, c->cl.members[i].id, c->cl.members[i].raft_addr,
                                RAFT_VOTER);
  /* A node joining an existing cluster (--join) does not bootstrap: it
   * waits with an empty configuration until the leader adds it. */
  if (rv == 0 && !c->cl.join) rv = raft_bootstrap(&c->raft, &conf);
  raft_configuration_close(&conf);
  if (rv != 0 && rv != RAFT_CANTBOOTSTRAP) {
    snprintf(msg, cap, "raft_bootstrap: %s", raft_errmsg(&c->raft));
    return -1;
  }
  rv = raft_start(&c->raft);
  if (rv != 0) {
    snprintf(msg, cap, "raft_start: %s", raft_errmsg(&c->raft));
    return -1;
  }
  uv_timer_start(&c->timer, on_timer, CLUSTER_TICK_MS, CLUSTER_TICK_MS);
  uv_prepare_start(&c->prepare, on_prepare);
  return 0;
}

static void *cluster_main(void *arg) {
  raft_cluster *c = arg;
  pthread_setname_np(pthread_self(), "hanse-raft");
  int rc = setup(c);
  pthread_mutex_lock(&c->mu);
  c->start_done = 1;
  c->start_rc = rc;
  pthread_cond_broadcast(&c->cv);
  pthread_mutex_unlock(&c->mu);
  if (rc != 0) close_all(c);
  uv_run(&c->loop, UV_RUN_DEFAULT);
  uv_loop_close(&c->loop);
  return NULL;
}

/* ---- The table ---- */

static void cluster_free(raft_cluster *c) {
  hanse_raft_fsm_close(&c->sm);
  pthread_mutex_destroy(&c->mu);
  pthread_mutex_destroy(&c->conf_mu);
  pthread_cond_destroy(&c->cv);
  free(c);
}

static int cluster_start(const hanse_consensus_config *cfg, hanse_consensus **out,
                         hanse_reject *rej) {
  HANSE_ASSERT(cfg->cluster != NULL);
  const hanse_cluster_config *cl = cfg->cluster;
  if (hanse_cluster_member_find(cl, cl->self_id) == NULL)
    return hanse_reject_set(rej, HANSE_ERR(INVALID), "raft id %" PRIu64 " is not in the member list",
                            cl->self_id);
  raft_cluster *c = calloc(1, sizeof *c);
  if (c == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  c->base.engine = &hanse_consensus_raft;
  c->cfg = *cfg;
  c->cl = *cl;
  c->cfg.cluster = &c->cl;
  if (c->cfg.env == NULL) c->cfg.env = hanse_env_system();
  if (c->cfg.block_interval_ms < 1) c->cfg.block_interval_ms = HANSE_BLOCK_INTERVAL_MS_DEFAULT;
  if (c->cfg.block_max_txs < 1 || c->cfg.block_max_txs > HANSE_BLOCK_TX_MAX - HANSE_BATCH_TX_MAX)
    c->cfg.block_max_txs = HANSE_BLOCK_TXS_DEFAULT;
  if (hanse_raft_fsm_init(&c->sm, &c->cfg) != HANSE_OK) {
    free(c);
    return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  }
  c->sm.stop = &c->stop_requested; /* a catch-up gives up when stopping */
  pthread_mutex_init(&c->mu, NULL);
  pthread_mutex_init(&c->conf_mu, NULL);
  pthread_cond_init(&c->cv, NULL);
  atomic_store(&c->role, HANSE_ROLE_UNAVAILABLE);
  if (pthread_create(&c->thread, NULL, cluster_main, c) != 0) {
    cluster_free(c);
    return hanse_reject_set(rej, HANSE_ERR(INTERNAL), "cannot start the Raft thread");
  }
  pthread_mutex_lock(&c->mu);
  while (!c->start_done) pthread_cond_wait(&c->cv, &c->mu);
  int rc = c->start_rc;
  pthread_mutex_unlock(&c->mu);
  if (rc != 0) {
    pthread_join(c->thread, NULL);
    hanse_reject_set(rej, HANSE_ERR(INTERNAL), "chain %s: cluster: %s", cl->chain_id,
                     c->start_msg);
    cluster_free(c);
    return HANSE_ERR(INTERNAL);
  }
  HANSE_INFO("chain %s: cluster member %" PRIu64 " of %d, raft on %s, log in %s", cl->chain_id,
             cl->self_id, cl->member_count, cl->raft_addr, cl->raft_dir);
  *out = &c->base;
  return HANSE_OK;
}

static void cluster_stop(hanse_consensus *cs) {
  raft_cluster *c = (raft_cluster *)cs;
  atomic_store(&c->stop_requested, 1);
  atomic_store(&c->sm.ready, 0);
  uv_async_send(&c->wake);
  pthread_join(c->thread, NULL);
  cluster_free(c);
}

/* The chain's own record counts at once, before the loop thread next
 * looks: a divergence found by the certificate exchange stops submissions
 * here from that moment. */
static int chain_record_diverged(raft_cluster *c) {
  hanse_divergence d;
  return hanse_chain_divergence(c->cfg.chain, &d);
}

static int cluster_failed(hanse_consensus *cs) {
  raft_cluster *c = (raft_cluster *)cs;
  return atomic_load(&c->sm.failed) || chain_record_diverged(c);
}

static int cluster_is_leader(hanse_consensus *cs) {
  raft_cluster *c = (raft_cluster *)cs;
  return atomic_load(&c->sm.ready) && !cluster_failed(cs);
}

static void cluster_role(hanse_consensus *cs, hanse_consensus_role *out) {
  raft_cluster *c = (raft_cluster *)cs;
  memset(out, 0, sizeof *out);
  out->role = atomic_load(&c->role);
  out->self_id = c->cl.self_id;
  out->leader_id = atomic_load(&c->leader_id);
  out->term = atomic_load(&c->term);
  out->diverged = atomic_load(&c->sm.diverged) || chain_record_diverged(c);
  out->catchup_active = atomic_load(&c->sm.catchup.active);
  out->catchup_runs = atomic_load(&c->sm.catchup.runs);
  out->catchup_from = atomic_load(&c->sm.catchup.from);
  out->catchup_target = atomic_load(&c->sm.catchup.target);
  out->catchup_height = atomic_load(&c->sm.catchup.height);
  out->catchup_elapsed_ms = atomic_load(&c->sm.catchup.elapsed_ms);
  out->catchup_peer = atomic_load(&c->sm.catchup.peer);
  pthread_mutex_lock(&c->conf_mu);
  out->conf_count = c->conf_count;
  for (int i = 0; i < c->conf_count; i++) {
    out->conf[i].id = c->conf_ids[i];
    out->conf[i].role = c->conf_roles[i] == RAFT_VOTER     ? HANSE_RAFT_VOTER
                        : c->conf_roles[i] == RAFT_STANDBY ? HANSE_RAFT_STANDBY
                                                           : HANSE_RAFT_SPARE;
  }
  pthread_mutex_unlock(&c->conf_mu);
}

const hanse_consensus_engine hanse_consensus_raft = {
    "raft", cluster_start, cluster_stop, cluster_failed, cluster_is_leader, cluster_role};
