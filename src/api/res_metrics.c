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
  }
  hanse_metrics_render(&n->metrics, NULL, 0, 0, 0, 1, &out);
  enum MHD_Result r =
      api_bytes(rq, 200, "text/plain; version=0.0.4; charset=utf-8", out.data, out.len, 1);
  hanse_buf_free(&out);
  return r;
}
