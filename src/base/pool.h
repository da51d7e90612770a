/*
 * pool.h -- a fixed pool of worker threads for data-parallel work
 * (signature checks spread over all cores).
 *
 * hanse_pool_run(pool, n, fn, ctx) calls fn(ctx, i) for every i in [0, n),
 * split into chunks shared between the workers and the calling thread, and
 * returns when all are done. Many threads may call it at once; their chunks
 * interleave in one queue. fn must be thread-safe for distinct i.
 */
#ifndef HANSE_POOL_H
#define HANSE_POOL_H

#include <stddef.h>

typedef struct hanse_pool hanse_pool;
typedef void (*hanse_pool_fn)(void *ctx, size_t i);

/* threads = 0: one per online core. NULL on failure. */
hanse_pool *hanse_pool_create(int threads);
void hanse_pool_destroy(hanse_pool *p);
void hanse_pool_run(hanse_pool *p, size_t n, hanse_pool_fn fn, void *ctx);
int hanse_pool_threads(const hanse_pool *p);

/* Admission work (decoding, signature checks of new submissions) runs at a
 * lower CPU priority than the sequencer, so committing what was admitted
 * always wins over admitting more: blocks stay fast under load and clients
 * feel back-pressure instead of the node queueing without bound. Call from
 * a thread that does admission work; idempotent per thread. */
#define HANSE_ADMISSION_NICE 5
void hanse_thread_lower_priority(void);

#endif
