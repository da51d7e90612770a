/*
 * trace_time.c -- EPCIS timestamps.
 *
 * EPCIS JSON carries xsd:dateTime values with a zone: "2005-04-03T20:33:
 * 31.116000-06:00", "2005-07-11T11:30:47.0Z", "2020-01-14T00:00:00+01:00".
 * We need each as an instant: to compare and index (UTC milliseconds) and
 * for the event hash, whose algorithm writes every time in UTC at
 * millisecond precision, "2005-04-04T02:33:31.116Z", rounding the
 * microseconds to milliseconds half to even (the reference generator
 * rounds with Python's round(us, -3)). Digits past the sixth are ignored,
 * as the reference's parser does.
 *
 * Civil dates to days and back use Howard Hinnant's algorithms
 * (proleptic Gregorian, any year 0000-9999): integer arithmetic only, so
 * the result does not depend on the host's time zone or libc.
 */
#include <stdio.h>
#include <string.h>

#include "modules/trace/trace.h"

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = (unsigned)(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = (unsigned)(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* n digits at s as a number; -1 if any is not a digit. */
static int digits(const char *s, int n) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

static int days_in_month(int y, int m) {
  static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return dm[m - 1];
}

int trace_offset_valid(const char *s) {
  if (s == NULL || strlen(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':') return 0;
  int h = digits(s + 1, 2), m = digits(s + 4, 2);
  if (h < 0 || m < 0 || m > 59) return 0;
  return h < 14 || (h == 14 && m == 0);
}

int trace_time_parse(const char *s, int64_t *ms) {
  if (s == NULL || strlen(s) < 20) return 0;
  int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
  int h = digits(s + 11, 2), mi = digits(s + 14, 2), se = digits(s + 17, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 ||
      se > 60 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':')
    return 0;
  if (d > days_in_month(y, mo)) return 0;
  const char *p = s + 19;
  int64_t us = 0;
  if (*p == '.') {
    p++;
    int n = 0;
    while (*p >= '0' && *p <= '9') {
      if (n < 6) us = us * 10 + (*p - '0');
      n++;
      p++;
    }
    if (n == 0) return 0;
    for (int i = n; i < 6; i++) us *= 10;
  }
  int64_t off_s = 0;
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    char off[7];
    if (strlen(p) < 6) return 0;
    memcpy(off, p, 6);
    off[6] = 0;
    if (!trace_offset_valid(off)) return 0;
    off_s = (int64_t)(digits(p + 1, 2) * 3600 + digits(p + 4, 2) * 60);
    if (*p == '-') off_s = -off_s;
    p += 6;
  } else {
    return 0; /* a time without a zone is not an instant */
  }
  if (*p != 0) return 0;
  int64_t msec = us / 1000, rem = us % 1000;
  if (rem > 500 || (rem == 500 && (msec & 1))) msec++;
  int64_t secs = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 +
                 (se == 60 ? 59 : se) - off_s;
  *ms = secs * 1000 + msec;
  return 1;
}

void trace_time_format(int64_t ms, char out[25]) {
  int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  int msec = (int)(ms - secs * 1000);
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int sod = (int)(secs - days * 86400);
  int64_t y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  /* every field is in range (sod < 86400, msec < 1000, years kept to
   * four digits); unsigned casts tell the compiler so */
  snprintf(out, 25, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", (unsigned)(y % 10000) % 10000u,
           m % 100u, d % 100u, (unsigned)sod / 3600u % 24u, (unsigned)sod / 60u % 60u,
           (unsigned)sod % 60u, (unsigned)msec % 1000u);
}
