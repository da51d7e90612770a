/*
 * metrics.c -- Prometheus text exposition (format 0.0.4).
 *
 * Latency buckets are upper bounds in seconds; the histogram counts each
 * transaction from its arrival at the node to the durable commit of its
 * block.
 */
#include "node/metrics.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const double latency_le[HANSE_LATENCY_BUCKETS] = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10};

void hanse_metrics_init(hanse_metrics *m) {
  memset(m, 0, sizeof *m);
  pthread_mutex_init(&m->mu, NULL);
}

void hanse_metrics_destroy(hanse_metrics *m) { pthread_mutex_destroy(&m->mu); }

void hanse_metrics_reject(hanse_metrics *m, const char *stage, const char *code,
                          uint64_t n) {
  pthread_mutex_lock(&m->mu);
  int i;
  for (i = 0; i < m->rejected_count; i++)
    if (strcmp(m->rejected[i].code, code) == 0 && strcmp(m->rejected[i].stage, stage) == 0)
      break;
  if (i == m->rejected_count && i < HANSE_METRICS_CODES_MAX) {
    snprintf(m->rejected[i].code, sizeof m->rejected[i].code, "%s", code);
    snprintf(m->rejected[i].stage, sizeof m->rejected[i].stage, "%s", stage);
    m->rejected_count++;
  }
  if (i < HANSE_METRICS_CODES_MAX) m->rejected[i].count += n;
  pthread_mutex_unlock(&m->mu);
}

void hanse_metrics_latency(hanse_metrics *m, const uint64_t *lat_us, uint32_t n) {
  pthread_mutex_lock(&m->mu);
  for (uint32_t i = 0; i < n; i++) {
    double s = (double)lat_us[i] / 1e6;
    for (int b = 0; b < HANSE_LATENCY_BUCKETS; b++)
      if (s <= latency_le[b]) {
        m->latency_buckets[b]++;
        break;
      }
    m->latency_count++;
    m->latency_sum_s += s;
  }
  pthread_mutex_unlock(&m->mu);
}

void hanse_metrics_http(hanse_metrics *m, int status) {
  int cls = status / 100;
  if (cls < 1 || cls > 5) cls = 0;
  atomic_fetch_add(&m->http_requests[cls], 1);
}

static void appendf(hanse_buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void appendf(hanse_buf *out, const char *fmt, ...) {
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n > 0) hanse_buf_put(out, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

void hanse_metrics_render(hanse_metrics *m, const char *c, uint64_t height,
                          uint64_t depth, int store_failed, int with_http,
                          hanse_buf *out) {
  if (c != NULL) {
  appendf(out, "# HELP hanse_blocks_total Blocks committed by this node since start.\n"
               "# TYPE hanse_blocks_total counter\nhanse_blocks_total{chain=\"%s\"} %" PRIuFAST64 "\n",
          c, atomic_load(&m->blocks_total));
  appendf(out, "# HELP hanse_txs_committed_total Transactions committed (any receipt code) since start.\n"
               "# TYPE hanse_txs_committed_total counter\nhanse_txs_committed_total{chain=\"%s\"} %" PRIuFAST64 "\n",
          c, atomic_load(&m->txs_committed_total));
  appendf(out, "# HELP hanse_txs_submitted_total Transactions accepted into the mempool since start.\n"
               "# TYPE hanse_txs_submitted_total counter\nhanse_txs_submitted_total{chain=\"%s\"} %" PRIuFAST64 "\n",
          c, atomic_load(&m->txs_submitted_total));
  appendf(out, "# HELP hanse_chain_height Height of the last committed block.\n"
               "# TYPE hanse_chain_height gauge\nhanse_chain_height{chain=\"%s\"} %" PRIu64 "\n",
          c, height);
  appendf(out, "# HELP hanse_mempool_depth Transactions waiting in the mempool.\n"
               "# TYPE hanse_mempool_depth gauge\nhanse_mempool_depth{chain=\"%s\"} %" PRIu64 "\n",
          c, depth);
  appendf(out, "# HELP hanse_store_failed 1 when the store refuses writes after an I/O error.\n"
               "# TYPE hanse_store_failed gauge\nhanse_store_failed{chain=\"%s\"} %d\n",
          c, store_failed);
  pthread_mutex_lock(&m->mu);
  appendf(out, "# HELP hanse_txs_rejected_total Rejected transactions by stage and reason code.\n"
               "# TYPE hanse_txs_rejected_total counter\n");
  for (int i = 0; i < m->rejected_count; i++)
    appendf(out, "hanse_txs_rejected_total{chain=\"%s\",stage=\"%s\",code=\"%s\"} %" PRIu64 "\n", c,
            m->rejected[i].stage, m->rejected[i].code, m->rejected[i].count);
  appendf(out, "# HELP hanse_commit_latency_seconds From arrival at the node to durable commit.\n"
               "# TYPE hanse_commit_latency_seconds histogram\n");
  uint64_t cum = 0;
  for (int b = 0; b < HANSE_LATENCY_BUCKETS; b++) {
    cum += m->latency_buckets[b];
    appendf(out, "hanse_commit_latency_seconds_bucket{chain=\"%s\",le=\"%g\"} %" PRIu64 "\n", c,
            latency_le[b], cum);
  }
  appendf(out, "hanse_commit_latency_seconds_bucket{chain=\"%s\",le=\"+Inf\"} %" PRIu64 "\n", c,
          m->latency_count);
  appendf(out, "hanse_commit_latency_seconds_sum{chain=\"%s\"} %.6f\n", c, m->latency_sum_s);
  appendf(out, "hanse_commit_latency_seconds_count{chain=\"%s\"} %" PRIu64 "\n", c, m->latency_count);
  pthread_mutex_unlock(&m->mu);
  }
  if (!with_http) return;
  static const char *cls[] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
  appendf(out, "# HELP hanse_http_requests_total HTTP responses by status class.\n"
               "# TYPE hanse_http_requests_total counter\n");
  for (int i = 0; i < 6; i++)
    appendf(out, "hanse_http_requests_total{status=\"%s\"} %" PRIuFAST64 "\n", cls[i],
            atomic_load(&m->http_requests[i]));
}
