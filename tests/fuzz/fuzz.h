/*
 * fuzz.h -- what the libFuzzer targets share: an assertion that stops the
 * fuzzer (abort() is reported as a crash with the input saved), and
 * one-time initialisation.
 *
 * A target feeds the input to one decoder. Rejection is the common, fine
 * outcome; what must never happen is a sanitizer report, a crash, or a
 * decoder that accepts bytes it cannot reproduce: where re-encoding is
 * cheap, an accepted input must re-encode to exactly the same bytes.
 */
#ifndef HANSE_FUZZ_H
#define HANSE_FUZZ_H

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/log.h"

#define FUZZ_CHECK(cond)                                                    \
  do {                                                                      \
    if (!(cond)) {                                                          \
      fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", #cond, __FILE__,   \
              __LINE__);                                                    \
      abort();                                                              \
    }                                                                       \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The start every target needs: libsodium ready, the node's log quiet
 * (rejections are the common case and would flood the fuzzer's output). */
static inline void fuzz_init(void) {
  if (sodium_init() < 0) abort();
  hanse_log_set_level(HANSE_LOG_ERROR + 1);
}

/* For targets that need nothing more. */
#define FUZZ_DEFAULT_INIT                                                   \
  int LLVMFuzzerInitialize(int *argc, char ***argv) {                       \
    (void)argc;                                                             \
    (void)argv;                                                             \
    fuzz_init();                                                            \
    return 0;                                                               \
  }

#endif
