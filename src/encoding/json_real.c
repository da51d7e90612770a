/*
 * json_real.c -- real numbers in JSON text, exactly and shortest
 * (json_real.h).
 *
 * Why one precision for a whole tree works: "%.{p}g" of a double rounds
 * its exact binary value to p significant digits and drops trailing
 * zeros. If the double's shortest round-trip text has k <= p digits, the
 * double lies within half an ulp (a relative 1.1e-16) of that text, and
 * for p <= 15 that is less than half a unit in the p-th digit, so the
 * rounding gives the k-digit text back. So p = the largest k in the tree
 * prints every value shortest, as long as it is at most 15; otherwise 17
 * digits, always exact.
 */
#include "encoding/json_real.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int real_digits(double d) {
  char b[40];
  if (!isfinite(d)) return 17;
  for (int p = 1; p <= 17; p++) {
    snprintf(b, sizeof b, "%.*g", p, d);
    if (strtod(b, NULL) == d) return p;
  }
  return 17;
}

char *hanse_json_real_text(double d, char *out, size_t n) {
  if (!isfinite(d)) snprintf(out, n, "%s", isnan(d) ? "nan" : d > 0 ? "inf" : "-inf");
  else snprintf(out, n, "%.*g", real_digits(d), d);
  return out;
}

static int max_digits(json_t *j, int depth) {
  if (depth > 64) return 17;
  if (json_is_real(j)) return real_digits(json_real_value(j));
  int m = 0;
  const char *k;
  json_t *v;
  size_t i;
  if (json_is_object(j)) {
    json_object_foreach(j, k, v) {
      int x = max_digits(v, depth + 1);
      if (x > m) m = x;
    }
  } else if (json_is_array(j)) {
    json_array_foreach(j, i, v) {
      int x = max_digits(v, depth + 1);
      if (x > m) m = x;
    }
  }
  return m;
}

char *hanse_json_dumps_exact(json_t *j, size_t flags) {
  int p = max_digits(j, 0);
  if (p == 0 || p > 15) p = 17;
  return json_dumps(j, flags | JSON_REAL_PRECISION(p));
}

size_t hanse_json_quote(char *out, size_t cap, const char *s, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  size_t len = 0;
#define PUT(c)                      \
  do {                              \
    if (len < cap) out[len] = (c);  \
    len++;                          \
  } while (0)
  PUT('"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\') {
      PUT((char)c);
      continue;
    }
    PUT('\\');
    switch (c) {
      case '"': PUT('"'); break;
      case '\\': PUT('\\'); break;
      case '\b': PUT('b'); break;
      case '\f': PUT('f'); break;
      case '\n': PUT('n'); break;
      case '\r': PUT('r'); break;
      case '\t': PUT('t'); break;
      default:
        PUT('u');
        PUT('0');
        PUT('0');
        PUT(hex[c >> 4]);
        PUT(hex[c & 15]);
    }
  }
  PUT('"');
#undef PUT
  return len;
}
