/*
 * res_metrics.c -- GET /metrics in Prometheus text format.
 */
#include "api/api_internal.h"

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
  }
  hanse_metrics_render(&n->metrics, NULL, 0, 0, 0, 1, &out);
  enum MHD_Result r =
      api_bytes(rq, 200, "text/plain; version=0.0.4; charset=utf-8", out.data, out.len, 1);
  hanse_buf_free(&out);
  return r;
}
