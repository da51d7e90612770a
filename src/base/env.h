/*
 * env.h -- the node's view of the outside world: clock and randomness,
 * reached through a small function table so tests and a simulator can drive
 * the node deterministically (raft's raft_io idea). Execution (apply) never
 * touches this table: it sees only block time.
 */
#ifndef HANSE_ENV_H
#define HANSE_ENV_H

#include <stddef.h>
#include <stdint.h>

typedef struct hanse_env {
  void *ctx;
  uint64_t (*now_ms)(void *ctx);       /* wall clock, ms since epoch */
  uint64_t (*mono_us)(void *ctx);      /* monotonic clock, microseconds */
  void (*random)(void *ctx, void *out, size_t n);
} hanse_env;

/* The real clock and libsodium's CSPRNG. */
const hanse_env *hanse_env_system(void);

static inline uint64_t hanse_now_ms(const hanse_env *e) {
  return e->now_ms(e->ctx);
}
static inline uint64_t hanse_mono_us(const hanse_env *e) {
  return e->mono_us(e->ctx);
}

#endif
