/*
 * dl_path.c -- is this the path of a GS1 Digital Link URI?
 *
 * The consumer page of a product is /p/{path} on the node's own domain,
 * where {path} is what follows the host in a GS1 Digital Link URI
 * (Digital Link 1.2, the URI syntax's primary keys and key qualifiers):
 *
 *   01/<gtin 14>[/22/<cpv>][/10/<lot>][/21/<serial> | /235/<tpx>]
 *   00/<sscc 18>          414/<gln 13>[/254/<ext>]       417/<gln 13>
 *   8003/<0 + grai 13 + serial ..16>   8004/<giai ..30>  8006/<itip 18>[...]
 *   8010/<cpid ..30>[/8011/<n..12>]    8017|8018/<gsrn 18>[/8019/<n..10>]
 *   253/<gdti 13 + serial ..17>   255/<gcn 13 + n..12>   401/<ginc ..30>
 *   402/<gsin 17>
 *
 * Only the numeric application identifiers, as the canonical form writes
 * them (a QR code and the page name one spelling of each product). Keys
 * of fixed length carry a GS1 check digit, and it must be right: a typo
 * in a link is caught before a QR code of it is printed. Qualifiers come
 * in the standard's order, each at most once (21 and 235 exclude each
 * other). Values are checked decoded: digits, or GS1's character set 82
 * (set 39 for a CPID), where the path may percent-encode any character
 * and must encode those a path segment cannot hold as they are
 * ("%", "/", "?", quote, "<", ">"). The path is checked as sent, so the
 * product link keeps the client's spelling; nothing is decoded in place.
 */
#include <ctype.h>
#include <string.h>

#include "api/api_internal.h"
#include "base/log.h"
#include "modules/trace/trace.h"

enum { CS_NUM, CS_82, CS_39 };

typedef struct dl_value {
  int prefix_digits; /* leading characters that must be digits */
  int check;         /* 1: the last of those is a GS1 check digit */
  int charset;       /* CS_* of the characters after the prefix */
  int min, max;      /* decoded length, prefix included */
} dl_value;

typedef struct dl_qualifier {
  const char *ai;
  int order;         /* a qualifier's order must exceed the previous one's */
  dl_value v;
} dl_qualifier;

static const dl_qualifier qualifiers[] = {
    {"22", 1, {0, 0, CS_82, 1, 20}},   {"10", 2, {0, 0, CS_82, 1, 20}},
    {"21", 3, {0, 0, CS_82, 1, 20}},   {"235", 3, {0, 0, CS_82, 1, 28}},
    {"254", 1, {0, 0, CS_82, 1, 20}},  {"8011", 1, {0, 0, CS_NUM, 1, 12}},
    {"8019", 1, {0, 0, CS_NUM, 1, 10}},
};

typedef struct dl_key {
  const char *ai;
  dl_value v;
  const char *quals; /* the qualifier AIs allowed, space-separated */
} dl_key;

static const dl_key keys[] = {
    {"01", {14, 1, CS_NUM, 14, 14}, "22 10 21 235"},
    {"00", {18, 1, CS_NUM, 18, 18}, ""},
    {"414", {13, 1, CS_NUM, 13, 13}, "254"},
    {"417", {13, 1, CS_NUM, 13, 13}, ""},
    {"8003", {14, 1, CS_82, 14, 30}, ""},
    {"8004", {1, 0, CS_82, 1, 30}, ""},
    {"8006", {18, 0, CS_NUM, 18, 18}, "22 10 21"},
    {"8010", {1, 0, CS_39, 1, 30}, "8011"},
    {"8017", {18, 1, CS_NUM, 18, 18}, "8019"},
    {"8018", {18, 1, CS_NUM, 18, 18}, "8019"},
    {"253", {13, 1, CS_82, 13, 30}, ""},
    {"255", {13, 1, CS_NUM, 13, 25}, ""},
    {"401", {1, 0, CS_82, 1, 30}, ""},
    {"402", {17, 1, CS_NUM, 17, 17}, ""},
};

static int in_charset(int cs, unsigned char c) {
  switch (cs) {
  case CS_NUM:
    return isdigit(c);
  case CS_39:
    return isdigit(c) || (c >= 'A' && c <= 'Z') || c == '#' || c == '-' || c == '/';
  default:
    return isalnum(c) || (c != 0 && strchr("!\"%&'()*+,-./:;<=>?_", c) != NULL);
  }
}

static int hexval(unsigned char c) {
  if (isdigit(c)) return c - '0';
  c = (unsigned char)tolower(c);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int same(const char *s, size_t n, const char *word) {
  return strlen(word) == n && memcmp(s, word, n) == 0;
}

/* Check one value segment s[0..n) against v; NULL if it is good, else
 * what is wrong with it. */
static const char *value_check(const char *s, size_t n, const dl_value *v) {
  char dec[HANSE_DL_PATH_MAX];
  size_t d = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '%') {
      int hi = i + 2 < n ? hexval((unsigned char)s[i + 1]) : -1;
      int lo = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
      if (hi < 0 || lo < 0) return "has a '%' that is not a percent-escape";
      c = (unsigned char)(hi * 16 + lo);
      i += 2;
    } else if (c == '"' || c == '<' || c == '>' || c == '?' || !in_charset(CS_82, c)) {
      return "has a character a Digital Link must not hold unescaped";
    }
    HANSE_ASSERT(d < sizeof dec);
    dec[d++] = (char)c;
  }
  if (d < (size_t)v->min || d > (size_t)v->max) return "has the wrong length";
  for (size_t i = 0; i < d; i++) {
    int cs = i < (size_t)v->prefix_digits ? CS_NUM : v->charset;
    if (!in_charset(cs, (unsigned char)dec[i])) return "has a character its key does not allow";
  }
  if (v->check) {
    size_t k = (size_t)v->prefix_digits;
    if (trace_gs1_check_digit(dec, k - 1) != dec[k - 1]) return "has a wrong check digit";
  }
  return NULL;
}

/* Cut the next segment off *p (bounded by end); 0 at the end. The
 * caller has ruled out empty segments. */
static int segment(const char **p, const char *end, const char **s, size_t *n) {
  if (*p >= end) return 0;
  const char *slash = memchr(*p, '/', (size_t)(end - *p));
  const char *e = slash ? slash : end;
  *s = *p;
  *n = (size_t)(e - *p);
  *p = slash ? slash + 1 : end;
  return 1;
}

int api_dl_path_check(const char *path, size_t len, const char *code, hanse_reject *rej) {
  if (len == 0 || len > HANSE_DL_PATH_MAX)
    return hanse_reject_code(rej, code, 400,
                             "a product link is a GS1 Digital Link path of 1 to %d bytes",
                             HANSE_DL_PATH_MAX);
  if (path[0] == '/' || path[len - 1] == '/' || memmem(path, len, "//", 2) != NULL)
    return hanse_reject_code(rej, code, 400, "the product link has an empty segment");
  const char *p = path, *end = path + len;
  const char *s = path, *v = NULL;
  size_t n = 0, vn = 0;
  segment(&p, end, &s, &n); /* len > 0: there is a first segment */
  const dl_key *key = NULL;
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    if (same(s, n, keys[i].ai)) key = &keys[i];
  if (key == NULL)
    return hanse_reject_code(rej, code, 400,
                             "'%.*s' is not a GS1 Digital Link primary key (01, 00, 414, ...)",
                             (int)(n > 16 ? 16 : n), s);
  if (!segment(&p, end, &v, &vn))
    return hanse_reject_code(rej, code, 400, "the key %s has no value", key->ai);
  const char *why = value_check(v, vn, &key->v);
  if (why) return hanse_reject_code(rej, code, 400, "the value of key %s %s", key->ai, why);
  int last_order = 0;
  while (segment(&p, end, &s, &n)) {
    const dl_qualifier *q = NULL;
    for (size_t i = 0; i < sizeof qualifiers / sizeof qualifiers[0]; i++)
      if (same(s, n, qualifiers[i].ai)) q = &qualifiers[i];
    /* allowed after this key: a whole word of key->quals */
    const char *at = q ? strstr(key->quals, q->ai) : NULL;
    size_t qn = q ? strlen(q->ai) : 0;
    if (at == NULL || (at > key->quals && at[-1] != ' ') || (at[qn] != 0 && at[qn] != ' '))
      return hanse_reject_code(rej, code, 400, "'%.*s' is not a qualifier of key %s",
                               (int)(n > 16 ? 16 : n), s, key->ai);
    if (q->order <= last_order)
      return hanse_reject_code(rej, code, 400,
                               "qualifier %s of key %s is out of order or repeated", q->ai,
                               key->ai);
    last_order = q->order;
    if (!segment(&p, end, &v, &vn))
      return hanse_reject_code(rej, code, 400, "the qualifier %s has no value", q->ai);
    why = value_check(v, vn, &q->v);
    if (why)
      return hanse_reject_code(rej, code, 400, "the value of qualifier %s %s", q->ai, why);
  }
  return HANSE_OK;
}
