/*
 * json_real.h -- real numbers in JSON text, exactly and shortest; and
 * strings quoted as jansson quotes them.
 *
 * jansson prints a real with 17 significant digits, so 0.1 comes out as
 * 0.10000000000000001: exact, but not what anyone wrote. Modules whose
 * payloads carry decimals by standard (trace: EPCIS quantities and sensor
 * values; module.h, payload_reals) store and serve them through these
 * instead: each value printed with the fewest digits that read back as
 * the same double. The result depends only on the double's value (glibc's
 * printf and strtod are correctly rounded), so every node writes the same
 * bytes.
 */
#ifndef HANSE_JSON_REAL_H
#define HANSE_JSON_REAL_H

#include <jansson.h>
#include <stddef.h>

/* The shortest "%.*g" text of d that reads back as d, into out (n >= 32);
 * "nan", "inf", "-inf" for the values JSON cannot carry. Returns out. */
char *hanse_json_real_text(double d, char *out, size_t n);

/* json_dumps(j, flags) with every real at its shortest exact text (the
 * precision is chosen for the whole tree: at most 15 digits prints each
 * value shortest, beyond that 17 are exact). malloc'd, NULL on failure.
 * `flags` must not hold JSON_REAL_PRECISION. */
char *hanse_json_dumps_exact(json_t *j, size_t flags);

/* s (n bytes of valid UTF-8) as a JSON string literal, quotes included,
 * escaped as jansson's json_dumps escapes a string (without
 * JSON_ENSURE_ASCII or JSON_ESCAPE_SLASH): \" \\ \b \f \n \r \t, other
 * control characters as \u00XX in uppercase hex, every other byte as it
 * is -- so canonical JSON can be printed without building the value.
 * Written to out when it fits in cap bytes (no NUL added); returns its
 * length either way (at most 6n + 2). */
size_t hanse_json_quote(char *out, size_t cap, const char *s, size_t n);

#endif
