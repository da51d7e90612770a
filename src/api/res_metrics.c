/*
 * res_metrics.c -- GET /metrics in Prometheus text format.
 *
 * Besides node/metrics.c's counters, per chain: whether this node's copy
 * diverged from the cluster (hanse_chain_diverged 0|1) and at which block
 * (hanse_chain_diverged_height, 0 while it did not), read from the chain's
 * divergence record.
 */
#include <inttypes.h>
#include <stdio.h>

#include "api/api_internal.h"

static void diverged_render(hanse_chain *c, hanse_buf *out) {
  hanse_divergence d;
  int dv = hanse_chain_divergence(c, &d);
  char line[512];
  int n = snprintf(line, sizeof line,
                   "# HELP hanse_chain_diverged 1 when this node's copy of the chain differs from "
                   "the cluster's and it stopped applying blocks.\n"
                   "# TYPE hanse_chain_diverged gauge\nhanse_chain_diverged{chain=\"%s\"} %d\n"
                   "# HELP hanse_chain_diverged_height The block at which it diverged (0: none).\n"
                   "# TYPE hanse_chain_diverged_height gauge\n"
                   "hanse_chain_diverged_height{chain=\"%s\"} %" PRIu64 "\n",
                   c->chain_id, dv, c->chain_id, dv ? d.height : 0);
  if (n > 0 && (size_t)n < sizeof line) hanse_buf_put(out, line, (size_t)n);
}

double api_catchup_rate(const hanse_consensus_role *r) {
  uint64_t done = r->catchup_height - r->catchup_from;
  return r->catchup_elapsed_ms ? (double)done * 1000.0 / (double)r->catchup_elapsed_ms : 0.0;
}

json_t *api_catchup_json(const hanse_consensus_role *r) {
  if (r->catchup_runs == 0) return json_null();
  return json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "active", r->catchup_active,
                   "runs", (json_int_t)r->catchup_runs, "from", (json_int_t)r->catchup_from,
                   "target", (json_int_t)r->catchup_target, "height",
                   (json_int_t)r->catchup_height, "peer", (json_int_t)r->catchup_peer,
                   "elapsed_ms", (json_int_t)r->catchup_elapsed_ms, "blocks_per_s",
                   api_catchup_rate(r));
}

static void cluster_render(hanse_node_chain *nc, hanse_buf *out) {
  hanse_consensus_role r;
  hanse_consensus_role_get(nc->cons, &r);
  const char *c = nc->chain->chain_id;
  char text[1536];
  int n = snprintf(
      text, sizeof text,
      "# HELP hanse_cluster_role This node's Raft role: 1 follower, 2 candidate, 3 leader, "
      "4 unavailable.\n# TYPE hanse_cluster_role gauge\nhanse_cluster_role{chain=\"%s\"} %d\n"
      "# HELP hanse_cluster_term The Raft term this node is in.\n"
      "# TYPE hanse_cluster_term gauge\nhanse_cluster_term{chain=\"%s\"} %" PRIu64 "\n"
      "# HELP hanse_catchup_active 1 while this node fetches blocks to reach a snapshot.\n"
      "# TYPE hanse_catchup_active gauge\nhanse_catchup_active{chain=\"%s\"} %d\n"
      "# HELP hanse_catchup_target_height The snapshot height of the last catch-up.\n"
      "# TYPE hanse_catchup_target_height gauge\n"
      "hanse_catchup_target_height{chain=\"%s\"} %" PRIu64 "\n"
      "# HELP hanse_catchup_height The height the last catch-up reached.\n"
      "# TYPE hanse_catchup_height gauge\nhanse_catchup_height{chain=\"%s\"} %" PRIu64 "\n"
      "# HELP hanse_catchup_blocks_per_second The rate of the last catch-up.\n"
      "# TYPE hanse_catchup_blocks_per_second gauge\n"
      "hanse_catchup_blocks_per_second{chain=\"%s\"} %.1f\n",
      c, r.role, c, r.term, c, r.catchup_active, c, r.catchup_target, c, r.catchup_height, c,
      api_catchup_rate(&r));
  if (n > 0 && (size_t)n < sizeof text) hanse_buf_put(out, text, (size_t)n);
}

enum MHD_Result res_metrics(hanse_req *rq) {
  hanse_node *n = rq->node;
  hanse_buf out;
  hanse_buf_init(&out);
  for (int i = 0; i < n->chain_count; i++) {
    hanse_node_chain *nc = &n->chains[i];
    hanse_tip tip;
    hanse_chain_tip(nc->chain, &tip);
    hanse_metrics_render(&nc->metrics, nc->chain->chain_id, tip.height,
                         hanse_mempool_depth(nc->mp), hanse_consensus_failed(nc->cons), 0, &out);
    diverged_render(nc->chain, &out);
    if (nc->cluster) cluster_render(nc, &out);
  }
  hanse_metrics_render(&n->metrics, NULL, 0, 0, 0, 1, &out);
  enum MHD_Result r =
      api_bytes(rq, 200, "text/plain; version=0.0.4; charset=utf-8", out.data, out.len, 1);
  hanse_buf_free(&out);
  return r;
}
