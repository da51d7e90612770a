/*
 * metrics.h -- counters and a latency histogram, rendered in Prometheus
 * text format by /metrics.
 *
 * Counters are atomics (lock-free increments on hot paths); the table of
 * rejection codes and the histogram take a mutex because they are updated
 * once per rejection or once per block, not per request.
 */
#ifndef HANSE_METRICS_H
#define HANSE_METRICS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "base/buf.h"

#define HANSE_METRICS_CODES_MAX 64
#define HANSE_LATENCY_BUCKETS 12

typedef struct hanse_metrics {
  atomic_uint_fast64_t blocks_total;
  atomic_uint_fast64_t txs_committed_total;
  atomic_uint_fast64_t txs_submitted_total;
  atomic_uint_fast64_t http_requests[6]; /* by status class: 1xx..5xx, [0] other */
  pthread_mutex_t mu;
  struct {
    char code[48];
    char stage[12];
    uint64_t count;
  } rejected[HANSE_METRICS_CODES_MAX];
  int rejected_count;
  uint64_t latency_buckets[HANSE_LATENCY_BUCKETS]; /* cumulative at render */
  uint64_t latency_count;
  double latency_sum_s;
} hanse_metrics;

void hanse_metrics_init(hanse_metrics *m);
void hanse_metrics_destroy(hanse_metrics *m);
/* stage: "submit" (refused before the mempool) or "execute" (receipt). */
void hanse_metrics_reject(hanse_metrics *m, const char *stage, const char *code,
                          uint64_t n);
/* Record n latencies (µs). */
void hanse_metrics_latency(hanse_metrics *m, const uint64_t *lat_us, uint32_t n);
void hanse_metrics_http(hanse_metrics *m, int status);
/* Render with a chain label; gauges passed in. Appends to out. chain_id
 * NULL renders only the HTTP counters (with_http). */
void hanse_metrics_render(hanse_metrics *m, const char *chain_id,
                          uint64_t height, uint64_t mempool_depth,
                          int store_failed, int with_http, hanse_buf *out);

#endif
