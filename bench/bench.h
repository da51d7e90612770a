/*
 * bench.h -- the modes of `hanse_bench` that live in their own files.
 * bench_node.c holds main and the transfer benches; it dispatches here.
 */
#ifndef HANSE_BENCH_H
#define HANSE_BENCH_H

/* Monotonic seconds; qsort's comparison of doubles (bench_node.c). */
double bench_now_s(void);
int bench_cmp_double(const void *a, const void *b);

/* `hanse_bench --trace` (bench_trace.c): EPCIS capture rate and product
 * history latency against a plain SQLite baseline. `hanse` is the node
 * binary. Returns the process exit status. */
int bench_trace_main(const char *hanse);

/* `hanse_bench --ledger` (bench_ledger.c): ledger transfers per second
 * (plain, two-phase, linked; batch-signed) against PostgreSQL running the
 * same double-entry transfer under pgbench. */
int bench_ledger_main(const char *hanse);

#endif
