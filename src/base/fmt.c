/*
 * fmt.c -- see fmt.h.
 */
#include "base/fmt.h"

#include <stdarg.h>
#include <string.h>

size_t hanse_fmt_u64(char *p, uint64_t v) {
  char tmp[20];
  size_t n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  for (size_t i = 0; i < n; i++) p[i] = tmp[n - 1 - i];
  return n;
}

size_t hanse_fmt_u64_pad(char *p, uint64_t v, int width) {
  char tmp[20];
  size_t n = hanse_fmt_u64(tmp, v), w = width > 0 ? (size_t)width : 0;
  size_t pad = w > n ? w - n : 0;
  memset(p, '0', pad);
  memcpy(p + pad, tmp, n);
  return pad + n;
}

size_t hanse_cat(char *out, size_t cap, ...) {
  va_list ap;
  va_start(ap, cap);
  size_t len = 0;
  for (const char *s = va_arg(ap, const char *); s; s = va_arg(ap, const char *)) {
    size_t n = strlen(s);
    if (len + 1 < cap) {
      size_t room = cap - 1 - len;
      memcpy(out + len, s, n < room ? n : room);
    }
    len += n;
  }
  va_end(ap);
  out[len < cap ? len : cap - 1] = '\0';
  return len;
}
