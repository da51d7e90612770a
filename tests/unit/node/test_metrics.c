/*
 * test_metrics.c -- the Prometheus rendering: counters, rejections by
 * stage and code, cumulative histogram buckets, HTTP classes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "node/metrics.h"

static void test_render(void **state) {
  (void)state;
  hanse_metrics m;
  hanse_metrics_init(&m);
  atomic_fetch_add(&m.blocks_total, 3);
  atomic_fetch_add(&m.txs_committed_total, 12);
  hanse_metrics_reject(&m, "submit", "tx.bad_signature", 2);
  hanse_metrics_reject(&m, "submit", "tx.bad_signature", 1);
  hanse_metrics_reject(&m, "execute", "asset.unknown", 1);
  uint64_t lat[] = {1000, 30000, 200000, 20000000};
  hanse_metrics_latency(&m, lat, 4);
  hanse_metrics_http(&m, 200);
  hanse_metrics_http(&m, 404);
  hanse_metrics_http(&m, 404);
  hanse_buf out;
  hanse_buf_init(&out);
  hanse_metrics_render(&m, "demo", 3, 5, 0, 1, &out);
  hanse_buf_u8(&out, 0);
  const char *t = (const char *)out.data;
  assert_non_null(strstr(t, "hanse_blocks_total{chain=\"demo\"} 3\n"));
  assert_non_null(strstr(t, "hanse_txs_committed_total{chain=\"demo\"} 12\n"));
  assert_non_null(strstr(t, "hanse_mempool_depth{chain=\"demo\"} 5\n"));
  assert_non_null(strstr(t, "stage=\"submit\",code=\"tx.bad_signature\"} 3\n"));
  assert_non_null(strstr(t, "stage=\"execute\",code=\"asset.unknown\"} 1\n"));
  assert_non_null(strstr(t, "le=\"0.005\"} 1\n"));
  assert_non_null(strstr(t, "le=\"0.05\"} 2\n"));
  assert_non_null(strstr(t, "le=\"0.25\"} 3\n"));
  assert_non_null(strstr(t, "le=\"10\"} 3\n"));
  assert_non_null(strstr(t, "le=\"+Inf\"} 4\n"));
  assert_non_null(strstr(t, "hanse_commit_latency_seconds_count{chain=\"demo\"} 4\n"));
  assert_non_null(strstr(t, "hanse_http_requests_total{status=\"4xx\"} 2\n"));
  hanse_buf_reset(&out);
  hanse_metrics_render(&m, NULL, 0, 0, 0, 1, &out);
  hanse_buf_u8(&out, 0);
  assert_null(strstr((const char *)out.data, "hanse_blocks_total"));
  assert_non_null(strstr((const char *)out.data, "hanse_http_requests_total{status=\"2xx\"} 1\n"));
  hanse_buf_free(&out);
  hanse_metrics_destroy(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_render)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
