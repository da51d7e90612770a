/*
 * log.h -- leveled logging to stderr. Never pass a secret key to a log
 * call: keys are printed nowhere (see SECURITY in docs/ARCHITECTURE.md).
 */
#ifndef HANSE_LOG_H
#define HANSE_LOG_H

enum { HANSE_LOG_DEBUG, HANSE_LOG_INFO, HANSE_LOG_WARN, HANSE_LOG_ERROR };

void hanse_log_set_level(int level);
void hanse_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define HANSE_INFO(...) hanse_log(HANSE_LOG_INFO, __VA_ARGS__)
#define HANSE_WARN(...) hanse_log(HANSE_LOG_WARN, __VA_ARGS__)
#define HANSE_ERROR(...) hanse_log(HANSE_LOG_ERROR, __VA_ARGS__)
#define HANSE_DEBUG(...) hanse_log(HANSE_LOG_DEBUG, __VA_ARGS__)

/* Assertions stay on in release builds (TigerBeetle style): a failed
 * invariant is a bug and the process must stop before it writes more. */
#define HANSE_ASSERT(cond)                                                   \
  do {                                                                       \
    if (!(cond)) hanse_assert_fail(#cond, __FILE__, __LINE__);               \
  } while (0)
_Noreturn void hanse_assert_fail(const char *cond, const char *file, int line);

#endif
