/*
 * trace_dl.c -- one spelling for every GS1 identifier.
 *
 * An EPCIS event names objects, places and parties by GS1 keys, written
 * either as EPC URNs ("urn:epc:id:sgtin:0614141.107346.2017") or as GS1
 * Digital Link URIs ("https://id.gs1.org/01/10614141073464/21/2017", on
 * any host). The event hash ID (CBV 2.0 section 8.9) hashes the canonical
 * Digital Link form, and we index and match identifiers under it too, so
 * that a query by either spelling finds events written in the other.
 *
 * EPC URN to Digital Link (TDS 2.0, the GS1 key layouts):
 *   sgtin CP.IR.serial   /01/<IR[0] CP IR[1..] check>/21/<serial>
 *   lgtin CP.IR.lot      /01/<gtin>/10/<lot>      (class)
 *   idpat:sgtin CP.IR.*  /01/<gtin>               (pattern)
 *   sscc  CP.SR          /00/<SR[0] CP SR[1..] check>
 *   sgln  CP.LR.ext      /414/<CP LR check>[/254/<ext> unless ext is 0]
 *   pgln  CP.PR          /417/<CP PR check>
 *   grai  CP.AT.serial   /8003/0<CP AT check><serial>
 *   giai  CP.IAR         /8004/<CP IAR>
 *   gsrn  CP.SR          /8018/<CP SR check>   gsrnp: /8017/
 *   gdti  CP.DT.serial   /253/<CP DT check><serial>
 *   sgcn  CP.CR.serial   /255/<CP CR check><serial>
 * where CP is the company prefix (6 to 12 digits) and the fixed total
 * length of CP plus the reference tells where the reference ends. The
 * characters ! ( ) * + , : of a serial are percent-encoded, as Digital
 * Link requires.
 *
 * A Digital Link URI is constrained: any host becomes id.gs1.org, the
 * query and fragment go, the short names (gtin, sscc, ...) become the
 * numeric application identifiers, a GTIN is padded to 14 digits, and only
 * the finest level is kept (a serial drops the lot and the CPV before it).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "modules/trace/trace.h"

char trace_gs1_check_digit(const char *k, size_t n) {
  int sum = 0;
  for (size_t i = 0; i < n; i++) {
    int dgt = k[n - 1 - i] - '0';
    sum += (i % 2 == 0) ? 3 * dgt : dgt;
  }
  return (char)('0' + (10 - sum % 10) % 10);
}

static int all_digits(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isdigit((unsigned char)s[i])) return 0;
  return 1;
}

/* Append s[0..n) to out (at *o, bounded by cap), percent-encoding the
 * characters Digital Link reserves. 0 if it does not fit. */
static int put_enc(char *out, size_t cap, size_t *o, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (strchr("!()*+,:", c) != NULL) {
      if (*o + 4 > cap) return 0;
      snprintf(out + *o, 4, "%%%02X", (unsigned char)c);
      *o += 3;
    } else {
      if (*o + 2 > cap) return 0;
      out[(*o)++] = c;
    }
  }
  out[*o] = 0;
  return 1;
}

static int put(char *out, size_t cap, size_t *o, const char *s, size_t n) {
  if (*o + n + 1 > cap) return 0;
  memcpy(out + *o, s, n);
  *o += n;
  out[*o] = 0;
  return 1;
}

/* Serial characters allowed by the EPC URN grammar (and %XX escapes). */
static int serial_ok(const char *s, size_t n) {
  if (n == 0) return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!isalnum(c) && strchr("!')(*+,.:;=_-%", c) == NULL) return 0;
  }
  return 1;
}

/* Split "CP.REF[.rest]" with len(CP)+len(REF) == total (ref_digits: REF
 * must be digits). Returns 1 and the parts. */
static int split_key(const char *body, size_t total, int ref_digits, const char **cp,
                     size_t *cpn, const char **ref, size_t *refn, const char **rest) {
  const char *dot = strchr(body, '.');
  if (dot == NULL) return 0;
  *cp = body;
  *cpn = (size_t)(dot - body);
  if (*cpn < 6 || *cpn > 12 || !all_digits(body, *cpn) || *cpn > total) return 0;
  *ref = dot + 1;
  const char *end = strchr(*ref, '.');
  *refn = end ? (size_t)(end - *ref) : strlen(*ref);
  if (*cpn + *refn != total) return 0;
  if (ref_digits && !all_digits(*ref, *refn)) return 0;
  *rest = end ? end + 1 : NULL;
  return 1;
}

/* Indicator/extension digit first, then the company prefix, then the rest
 * of the reference (GTIN, SSCC). */
static size_t key_moved(char *k, const char *cp, size_t cpn, const char *ref, size_t refn) {
  k[0] = ref[0];
  memcpy(k + 1, cp, cpn);
  memcpy(k + 1 + cpn, ref + 1, refn - 1);
  k[cpn + refn] = trace_gs1_check_digit(k, cpn + refn);
  return cpn + refn + 1;
}

static size_t key_plain(char *k, const char *lead, const char *cp, size_t cpn, const char *ref,
                        size_t refn) {
  size_t l = strlen(lead);
  memcpy(k, lead, l);
  memcpy(k + l, cp, cpn);
  memcpy(k + l + cpn, ref, refn);
  k[l + cpn + refn] = trace_gs1_check_digit(k, l + cpn + refn);
  return l + cpn + refn + 1;
}

static int from_urn(const char *uri, char *out, size_t cap) {
  static const char base[] = "https://id.gs1.org/";
  const char *cp, *ref, *rest;
  size_t cpn, refn, o = 0;
  char k[40];
  size_t kn;
  put(out, cap, &o, base, sizeof base - 1);
#define IS(p) (strncmp(uri, p, sizeof(p) - 1) == 0 && (body = uri + sizeof(p) - 1))
  const char *body = NULL;
  if (IS("urn:epc:id:sgtin:") || IS("urn:epc:class:lgtin:")) {
    int lot = uri[8] == 'c';
    if (!split_key(body, 13, 1, &cp, &cpn, &ref, &refn, &rest) || rest == NULL ||
        !serial_ok(rest, strlen(rest)))
      return 0;
    kn = key_moved(k, cp, cpn, ref, refn);
    return put(out, cap, &o, "01/", 3) && put(out, cap, &o, k, kn) &&
           put(out, cap, &o, lot ? "/10/" : "/21/", 4) && put_enc(out, cap, &o, rest, strlen(rest));
  }
  if (IS("urn:epc:idpat:sgtin:")) {
    if (!split_key(body, 13, 1, &cp, &cpn, &ref, &refn, &rest) || rest == NULL ||
        strcmp(rest, "*") != 0)
      return 0;
    kn = key_moved(k, cp, cpn, ref, refn);
    return put(out, cap, &o, "01/", 3) && put(out, cap, &o, k, kn);
  }
  if (IS("urn:epc:id:sscc:")) {
    if (!split_key(body, 17, 1, &cp, &cpn, &ref, &refn, &rest) || rest != NULL) return 0;
    kn = key_moved(k, cp, cpn, ref, refn);
    return put(out, cap, &o, "00/", 3) && put(out, cap, &o, k, kn);
  }
  if (IS("urn:epc:id:sgln:")) {
    if (!split_key(body, 12, 1, &cp, &cpn, &ref, &refn, &rest) || rest == NULL ||
        !serial_ok(rest, strlen(rest)))
      return 0;
    kn = key_plain(k, "", cp, cpn, ref, refn);
    if (!put(out, cap, &o, "414/", 4) || !put(out, cap, &o, k, kn)) return 0;
    if (strcmp(rest, "0") == 0) return 1;
    return put(out, cap, &o, "/254/", 5) && put_enc(out, cap, &o, rest, strlen(rest));
  }
  if (IS("urn:epc:id:pgln:")) {
    if (!split_key(body, 12, 1, &cp, &cpn, &ref, &refn, &rest) || rest != NULL) return 0;
    kn = key_plain(k, "", cp, cpn, ref, refn);
    return put(out, cap, &o, "417/", 4) && put(out, cap, &o, k, kn);
  }
  if (IS("urn:epc:id:grai:")) {
    if (!split_key(body, 12, 1, &cp, &cpn, &ref, &refn, &rest) || rest == NULL ||
        !serial_ok(rest, strlen(rest)))
      return 0;
    kn = key_plain(k, "0", cp, cpn, ref, refn);
    return put(out, cap, &o, "8003/", 5) && put(out, cap, &o, k, kn) &&
           put_enc(out, cap, &o, rest, strlen(rest));
  }
  if (IS("urn:epc:id:gdti:") || IS("urn:epc:id:sgcn:")) {
    int sgcn = uri[11] == 's';
    if (!split_key(body, 12, 1, &cp, &cpn, &ref, &refn, &rest) || rest == NULL ||
        !serial_ok(rest, strlen(rest)))
      return 0;
    kn = key_plain(k, "", cp, cpn, ref, refn);
    return put(out, cap, &o, sgcn ? "255/" : "253/", 4) && put(out, cap, &o, k, kn) &&
           put_enc(out, cap, &o, rest, strlen(rest));
  }
  if (IS("urn:epc:id:gsrnp:") || IS("urn:epc:id:gsrn:")) {
    int p = uri[15] == 'p';
    if (!split_key(body, 17, 1, &cp, &cpn, &ref, &refn, &rest) || rest != NULL) return 0;
    kn = key_plain(k, "", cp, cpn, ref, refn);
    return put(out, cap, &o, p ? "8017/" : "8018/", 5) && put(out, cap, &o, k, kn);
  }
  if (IS("urn:epc:id:upui:") || IS("urn:epc:idpat:upui:")) {
    int pat = uri[8] == 'i' && uri[9] == 'd' && uri[10] == 'p';
    if (!split_key(body, 13, 1, &cp, &cpn, &ref, &refn, &rest) || rest == NULL) return 0;
    kn = key_moved(k, cp, cpn, ref, refn);
    if (!put(out, cap, &o, "01/", 3) || !put(out, cap, &o, k, kn)) return 0;
    if (pat) return strcmp(rest, "*") == 0;
    return serial_ok(rest, strlen(rest)) && put(out, cap, &o, "/235/", 5) &&
           put_enc(out, cap, &o, rest, strlen(rest));
  }
  if (IS("urn:epc:id:itip:") || IS("urn:epc:idpat:itip:")) {
    int pat = uri[10] == 'p';
    /* CP.IR.PP.TT.serial: piece and total, two digits each */
    if (!split_key(body, 13, 1, &cp, &cpn, &ref, &refn, &rest) || rest == NULL ||
        strlen(rest) < 7 || !all_digits(rest, 2) || rest[2] != '.' || !all_digits(rest + 3, 2) ||
        rest[5] != '.')
      return 0;
    kn = key_moved(k, cp, cpn, ref, refn);
    if (!put(out, cap, &o, "8006/", 5) || !put(out, cap, &o, k, kn) ||
        !put(out, cap, &o, rest, 2) || !put(out, cap, &o, rest + 3, 2))
      return 0;
    if (pat) return strcmp(rest + 6, "*") == 0;
    return serial_ok(rest + 6, strlen(rest + 6)) && put(out, cap, &o, "/21/", 4) &&
           put_enc(out, cap, &o, rest + 6, strlen(rest + 6));
  }
  if (IS("urn:epc:idpat:grai:") || IS("urn:epc:idpat:gdti:") || IS("urn:epc:idpat:sgcn:")) {
    const char *kind = uri + 14;
    if (!split_key(body, 12, 1, &cp, &cpn, &ref, &refn, &rest) || rest == NULL ||
        strcmp(rest, "*") != 0)
      return 0;
    int grai = kind[0] == 'g' && kind[1] == 'r';
    kn = key_plain(k, grai ? "0" : "", cp, cpn, ref, refn);
    return put(out, cap, &o, grai ? "8003/" : kind[0] == 'g' ? "253/" : "255/",
               grai ? 5 : 4) &&
           put(out, cap, &o, k, kn);
  }
  if (IS("urn:epc:id:gsin:")) {
    if (!split_key(body, 16, 1, &cp, &cpn, &ref, &refn, &rest) || rest != NULL) return 0;
    kn = key_plain(k, "", cp, cpn, ref, refn);
    return put(out, cap, &o, "402/", 4) && put(out, cap, &o, k, kn);
  }
  if (IS("urn:epc:id:cpi:") || IS("urn:epc:idpat:cpi:")) {
    /* CP.ref.serial: the reference may hold dots, the serial is last */
    const char *dot = strchr(body, '.');
    const char *last = strrchr(body, '.');
    if (dot == NULL || last == dot) return 0;
    size_t n = (size_t)(dot - body);
    if (n < 6 || n > 12 || !all_digits(body, n)) return 0;
    if (!put(out, cap, &o, "8010/", 5) || !put_enc(out, cap, &o, body, n) ||
        !put_enc(out, cap, &o, dot + 1, (size_t)(last - dot - 1)))
      return 0;
    if (uri[8] == 'i' && uri[10] == 'p') return strcmp(last + 1, "*") == 0;
    return all_digits(last + 1, strlen(last + 1)) && strlen(last + 1) > 0 &&
           put(out, cap, &o, "/8011/", 6) && put(out, cap, &o, last + 1, strlen(last + 1));
  }
  if (IS("urn:epc:id:ginc:")) {
    const char *dot = strchr(body, '.');
    if (dot == NULL) return 0;
    size_t n = (size_t)(dot - body);
    if (n < 6 || n > 12 || !all_digits(body, n) || !serial_ok(dot + 1, strlen(dot + 1)))
      return 0;
    return put(out, cap, &o, "401/", 4) && put(out, cap, &o, body, n) &&
           put_enc(out, cap, &o, dot + 1, strlen(dot + 1));
  }
  if (IS("urn:epc:id:giai:")) {
    const char *dot = strchr(body, '.');
    if (dot == NULL) return 0;
    size_t n = (size_t)(dot - body);
    if (n < 6 || n > 12 || !all_digits(body, n) || !serial_ok(dot + 1, strlen(dot + 1)))
      return 0;
    return put(out, cap, &o, "8004/", 5) && put(out, cap, &o, body, n) &&
           put_enc(out, cap, &o, dot + 1, strlen(dot + 1));
  }
#undef IS
  return 0;
}

/* The numeric application identifiers of the primary keys, and the short
 * names Digital Link also allows. */
static const struct {
  const char *name, *ai;
} ai_names[] = {{"01", "01"},     {"gtin", "01"},   {"00", "00"},     {"sscc", "00"},
                {"414", "414"},   {"gln", "414"},   {"417", "417"},   {"party", "417"},
                {"8003", "8003"}, {"grai", "8003"}, {"8004", "8004"}, {"giai", "8004"},
                {"8018", "8018"}, {"gsrn", "8018"}, {"8017", "8017"}, {"gsrnp", "8017"},
                {"253", "253"},   {"gdti", "253"},  {"255", "255"},   {"gcn", "255"},
                {"401", "401"},   {"ginc", "401"},  {"402", "402"},   {"gsin", "402"},
                {"8006", "8006"}, {"itip", "8006"}, {"8010", "8010"}, {"cpid", "8010"}};

static const char *qualifier_ai(const char *s, size_t n) {
  static const struct {
    const char *name, *ai;
  } q[] = {{"21", "21"}, {"ser", "21"}, {"10", "10"}, {"lot", "10"}, {"22", "22"},
           {"cpv", "22"}, {"254", "254"}, {"235", "235"}, {"8011", "8011"}};
  for (size_t i = 0; i < sizeof q / sizeof q[0]; i++)
    if (strlen(q[i].name) == n && memcmp(q[i].name, s, n) == 0) return q[i].ai;
  return NULL;
}

static int from_dl(const char *uri, char *out, size_t cap) {
  const char *p;
  if (strncmp(uri, "https://", 8) == 0) p = uri + 8;
  else if (strncmp(uri, "http://", 7) == 0) p = uri + 7;
  else return 0;
  size_t ulen = strcspn(uri, "?#");
  const char *end = uri + ulen;
  /* segments after the host: find the first that names a primary key and
   * is followed by a value starting with 4 digits */
  const char *seg = strchr(p, '/');
  while (seg && seg < end) {
    const char *s = seg + 1;
    const char *e = memchr(s, '/', (size_t)(end - s));
    if (e == NULL) return 0;
    size_t sn = (size_t)(e - s);
    const char *ai = NULL;
    for (size_t i = 0; i < sizeof ai_names / sizeof ai_names[0]; i++)
      if (strlen(ai_names[i].name) == sn && memcmp(ai_names[i].name, s, sn) == 0)
        ai = ai_names[i].ai;
    const char *v = e + 1;
    const char *ve = memchr(v, '/', (size_t)(end - v));
    if (ve == NULL) ve = end;
    if (ai && ve - v >= 4 && all_digits(v, 4)) {
      size_t o = 0;
      char key[64];
      size_t vn = (size_t)(ve - v);
      if (vn >= sizeof key) return 0;
      memcpy(key, v, vn);
      key[vn] = 0;
      if (strcmp(ai, "01") == 0) { /* GTIN-8/12/13 padded to 14 */
        if (!all_digits(key, vn) || (vn != 8 && vn != 12 && vn != 13 && vn != 14)) return 0;
        memmove(key + (14 - vn), key, vn + 1);
        memset(key, '0', 14 - vn);
        vn = 14;
      }
      if (!put(out, cap, &o, "https://id.gs1.org/", 19) || !put(out, cap, &o, ai, strlen(ai)) ||
          !put(out, cap, &o, "/", 1) || !put(out, cap, &o, key, vn))
        return 0;
      /* qualifiers: keep the finest (a serial drops lot and CPV) */
      const char *q = ve;
      const char *keep_ai = NULL, *keep_v = NULL;
      size_t keep_n = 0;
      while (q < end && *q == '/') {
        const char *qs = q + 1;
        const char *qe = memchr(qs, '/', (size_t)(end - qs));
        if (qe == NULL) break;
        const char *qai = qualifier_ai(qs, (size_t)(qe - qs));
        const char *qv = qe + 1;
        const char *qve = memchr(qv, '/', (size_t)(end - qv));
        if (qve == NULL) qve = end;
        if (qai && strcmp(qai, "22") != 0) {
          /* 21, 235, 254, 8011 are the finest; 10 only without them */
          if (keep_ai == NULL || strcmp(keep_ai, "10") == 0) {
            keep_ai = qai;
            keep_v = qv;
            keep_n = (size_t)(qve - qv);
          }
        }
        q = qve;
      }
      if (keep_ai && (!put(out, cap, &o, "/", 1) || !put(out, cap, &o, keep_ai, strlen(keep_ai)) ||
                      !put(out, cap, &o, "/", 1) || !put(out, cap, &o, keep_v, keep_n)))
        return 0;
      return 1;
    }
    seg = e;
  }
  return 0;
}

int trace_dl_normalise(const char *uri, char *out, size_t n) {
  if (uri == NULL || n < 32) return 0;
  char tmp[TRACE_URI_MAX];
  int ok = strncmp(uri, "urn:epc:", 8) == 0 ? from_urn(uri, tmp, sizeof tmp)
                                            : from_dl(uri, tmp, sizeof tmp);
  if (!ok || strlen(tmp) >= n) return 0;
  memcpy(out, tmp, strlen(tmp) + 1);
  return 1;
}

const char *trace_id_canonical(const char *uri, char *out, size_t n) {
  if (!trace_dl_normalise(uri, out, n)) snprintf(out, n, "%s", uri ? uri : "");
  return out;
}
