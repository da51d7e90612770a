/*
 * env.c -- the system environment: CLOCK_REALTIME, CLOCK_MONOTONIC and
 * libsodium's randombytes.
 */
#include "base/env.h"

#include <sodium.h>
#include <time.h>

static uint64_t sys_now_ms(void *ctx) {
  (void)ctx;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t sys_mono_us(void *ctx) {
  (void)ctx;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void sys_random(void *ctx, void *out, size_t n) {
  (void)ctx;
  randombytes_buf(out, n);
}

static const hanse_env system_env = {NULL, sys_now_ms, sys_mono_us, sys_random};

const hanse_env *hanse_env_system(void) { return &system_env; }
