/*
 * httpsig.c -- RFC 9421 HTTP Message Signatures (Ed25519 only), RFC 9530
 * Content-Digest (sha-256 only), the few RFC 8941 structured fields they
 * need, and a replay cache.
 *
 * Signing and verifying both reduce to one byte string, the signature
 * base: a line `"<component>": <value>` per covered component, in the
 * order the signer listed them, then `"@signature-params": <params>`,
 * where <params> is the RFC 8941 serialization of the covered-component
 * inner list with its parameters -- the very text that travels as the
 * Signature-Input member. The verifier never trusts that text: it parses
 * it into hanse_httpsig_params and serializes it again, so the base it
 * checks is the one its own parser understood. Parameters keep the order
 * in which they were parsed (their order is signed), and a parameter this
 * library does not know is refused rather than dropped, because dropping
 * it would change the base.
 *
 * Injection: a value containing CR or LF could forge a line of the base
 * ("...\n\"@method\": GET"), so such values are refused; component names
 * are restricted to lowercase tokens (with a leading '@' for derived
 * components) and parameter strings to printable ASCII, escaped on output.
 *
 * Structured fields: the parser is a cursor over the received text. The
 * dictionary walker checks the syntax of every member (any item type,
 * inner lists, parameters) and returns where the wanted member's value
 * starts; the caller then parses just that value into typed fields. All
 * header values are first joined (instances with ", ") into a fixed
 * buffer of HANSE_HTTPSIG_FIELD_MAX bytes, so parsing allocates nothing;
 * the signature base, whose size follows the request's path and query, is
 * the one allocation (a hanse_buf).
 *
 * Verification order: cheap syntax and policy checks first (missing,
 * malformed, components, time window, body digest), then the key lookup,
 * then the one Ed25519 verification. Every failure is a rejection with a
 * stable "auth.*" code and status 401; nothing here asserts on input.
 *
 * Replay cache: an open-addressed table of (replay id, live-until) slots.
 * A replay id hashes to a home slot; the PROBE slots from there form its
 * neighbourhood. A check scans the whole neighbourhood (no early stop, so
 * reusing expired slots can never hide a live duplicate further on),
 * rejects a live equal id, and otherwise claims the first slot that is
 * empty or expired. A full neighbourhood fails closed (auth.replay_full,
 * 503): accepting without recording would open a replay hole. One mutex
 * guards the table; the work under it is PROBE comparisons.
 */
#include "crypto/httpsig.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

/* The longest RFC 8941 integer: 15 digits. */
#define SF_INT_MAX 999999999999999LL

_Static_assert(HANSE_HTTPSIG_LABEL_MAX + 3 +
                       HANSE_HTTPSIG_COMPONENTS_MAX *
                           (HANSE_HTTPSIG_NAME_MAX + 3) +
                       2 * (9 + 15) + (8 + 2 * HANSE_HTTPSIG_KEYID_MAX) +
                       (6 + 2 * HANSE_HTTPSIG_ALG_MAX) +
                       (8 + 2 * HANSE_HTTPSIG_NONCE_MAX) +
                       (6 + 2 * HANSE_HTTPSIG_TAG_MAX) + 1 <=
                   HANSE_HTTPSIG_INPUT_FIELD_BYTES,
               "Signature-Input of maximal params fits its buffer");
_Static_assert(HANSE_HTTPSIG_DIGEST_FIELD_BYTES ==
                   9 + sodium_base64_ENCODED_LEN(HANSE_HASH_BYTES,
                                                 sodium_base64_VARIANT_ORIGINAL) +
                       1,
               "sha-256=: + base64 + : + NUL");
_Static_assert(HANSE_HTTPSIG_SIGNATURE_FIELD_BYTES ==
                   HANSE_HTTPSIG_LABEL_MAX + 2 +
                       sodium_base64_ENCODED_LEN(HANSE_SIG_BYTES,
                                                 sodium_base64_VARIANT_ORIGINAL) +
                       1,
               "label=: + base64 + : + NUL");
_Static_assert(HANSE_HTTPSIG_PARAMS_MAX == HANSE_HTTPSIG_P_TAG,
               "one order slot per parameter kind");

/* ---- Character classes ----------------------------------------------- */

static int is_lcalpha(int c) { return c >= 'a' && c <= 'z'; }
static int is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_tchar(int c) {
  return is_alpha(c) || is_digit(c) ||
         (c > 0 && c < 0x80 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}
static int is_b64char(int c) {
  return is_alpha(c) || is_digit(c) || c == '+' || c == '/' || c == '=';
}

/* Printable ASCII, the alphabet of an sf-string. */
static int printable(const char *s, size_t max_len) {
  size_t n = 0;
  for (; s[n]; n++) {
    if (n >= max_len) return 0;
    unsigned char c = (unsigned char)s[n];
    if (c < 0x20 || c > 0x7e) return 0;
  }
  return 1;
}

/* An RFC 8941 key: (lcalpha / "*") *(lcalpha / DIGIT / "_" / "-" / "." / "*") */
static int valid_key(const char *s, size_t max_len) {
  if (!(is_lcalpha((unsigned char)s[0]) || s[0] == '*')) return 0;
  size_t n = 0;
  for (; s[n]; n++) {
    int c = (unsigned char)s[n];
    if (!(is_lcalpha(c) || is_digit(c) || c == '_' || c == '-' || c == '.' ||
          c == '*'))
      return 0;
  }
  return n < max_len;
}

/* A component name: "@" + lowercase token, or a lowercase field name. */
static int valid_component(const char *s) {
  size_t i = s[0] == '@' ? 1 : 0;
  if (s[i] == 0) return 0;
  size_t n = 0;
  for (; s[i + n]; n++) {
    int c = (unsigned char)s[i + n];
    if (!is_tchar(c) || (c >= 'A' && c <= 'Z')) return 0;
  }
  return i + n < HANSE_HTTPSIG_NAME_MAX;
}

/* ---- Parameters ------------------------------------------------------ */

void hanse_httpsig_params_init(hanse_httpsig_params *p) {
  HANSE_ASSERT(p != NULL);
  memset(p, 0, sizeof *p);
}

int hanse_httpsig_params_has(const hanse_httpsig_params *p,
                             hanse_httpsig_param which) {
  for (size_t i = 0; i < p->param_count; i++)
    if (p->order[i] == (uint8_t)which) return 1;
  return 0;
}

static int has_component(const hanse_httpsig_params *p, const char *name) {
  for (size_t i = 0; i < p->component_count; i++)
    if (strcmp(p->components[i], name) == 0) return 1;
  return 0;
}

int hanse_httpsig_params_add_component(hanse_httpsig_params *p,
                                       const char *name) {
  HANSE_ASSERT(p != NULL);
  if (name == NULL || !valid_component(name)) return HANSE_ERR(INVALID);
  if (strcmp(name, "@signature-params") == 0) return HANSE_ERR(INVALID);
  if (p->component_count >= HANSE_HTTPSIG_COMPONENTS_MAX) return HANSE_ERR(INVALID);
  if (has_component(p, name)) return HANSE_ERR(INVALID);
  snprintf(p->components[p->component_count++], HANSE_HTTPSIG_NAME_MAX, "%s", name);
  return HANSE_OK;
}

static void mark(hanse_httpsig_params *p, hanse_httpsig_param which) {
  if (hanse_httpsig_params_has(p, which)) return;
  HANSE_ASSERT(p->param_count < HANSE_HTTPSIG_PARAMS_MAX);
  p->order[p->param_count++] = (uint8_t)which;
}

static int set_int(hanse_httpsig_params *p, hanse_httpsig_param which,
                   int64_t *field, int64_t v) {
  if (v < 0 || v > SF_INT_MAX) return HANSE_ERR(INVALID);
  *field = v;
  mark(p, which);
  return HANSE_OK;
}

static int set_str(hanse_httpsig_params *p, hanse_httpsig_param which,
                   char *field, size_t cap, const char *v) {
  if (v == NULL || !printable(v, cap - 1)) return HANSE_ERR(INVALID);
  snprintf(field, cap, "%s", v);
  mark(p, which);
  return HANSE_OK;
}

int hanse_httpsig_params_set_created(hanse_httpsig_params *p, int64_t t_s) {
  return set_int(p, HANSE_HTTPSIG_P_CREATED, &p->created, t_s);
}
int hanse_httpsig_params_set_expires(hanse_httpsig_params *p, int64_t t_s) {
  return set_int(p, HANSE_HTTPSIG_P_EXPIRES, &p->expires, t_s);
}
int hanse_httpsig_params_set_keyid(hanse_httpsig_params *p, const char *keyid) {
  return set_str(p, HANSE_HTTPSIG_P_KEYID, p->keyid, sizeof p->keyid, keyid);
}
int hanse_httpsig_params_set_alg(hanse_httpsig_params *p, const char *alg) {
  return set_str(p, HANSE_HTTPSIG_P_ALG, p->alg, sizeof p->alg, alg);
}
int hanse_httpsig_params_set_nonce(hanse_httpsig_params *p, const char *nonce) {
  return set_str(p, HANSE_HTTPSIG_P_NONCE, p->nonce, sizeof p->nonce, nonce);
}
int hanse_httpsig_params_set_tag(hanse_httpsig_params *p, const char *tag) {
  return set_str(p, HANSE_HTTPSIG_P_TAG, p->tag, sizeof p->tag, tag);
}

int hanse_httpsig_params_for_request(hanse_httpsig_params *p,
                                     const hanse_httpsig_request *req,
                                     int64_t created_s, const char *keyid) {
  HANSE_ASSERT(p != NULL && req != NULL);
  hanse_httpsig_params_init(p);
  int rc = hanse_httpsig_params_add_component(p, "@method");
  if (rc == HANSE_OK) rc = hanse_httpsig_params_add_component(p, "@path");
  if (rc == HANSE_OK && req->query != NULL)
    rc = hanse_httpsig_params_add_component(p, "@query");
  if (rc == HANSE_OK && req->body_len > 0)
    rc = hanse_httpsig_params_add_component(p, "content-digest");
  if (rc == HANSE_OK) rc = hanse_httpsig_params_set_created(p, created_s);
  if (rc == HANSE_OK) rc = hanse_httpsig_params_set_keyid(p, keyid);
  if (rc == HANSE_OK) rc = hanse_httpsig_params_set_alg(p, "ed25519");
  return rc;
}

static void put_str(hanse_buf *out, const char *s) { hanse_buf_put(out, s, strlen(s)); }

/* An sf-string: quoted, with '"' and '\' escaped. */
static void put_sf_string(hanse_buf *out, const char *s) {
  hanse_buf_u8(out, '"');
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') hanse_buf_u8(out, '\\');
    hanse_buf_u8(out, (uint8_t)*s);
  }
  hanse_buf_u8(out, '"');
}

int hanse_httpsig_params_serialize(const hanse_httpsig_params *p,
                                   hanse_buf *out) {
  HANSE_ASSERT(p != NULL && out != NULL);
  HANSE_ASSERT(p->component_count <= HANSE_HTTPSIG_COMPONENTS_MAX);
  hanse_buf_u8(out, '(');
  for (size_t i = 0; i < p->component_count; i++) {
    if (i > 0) hanse_buf_u8(out, ' ');
    put_sf_string(out, p->components[i]);
  }
  hanse_buf_u8(out, ')');
  char num[32];
  for (size_t i = 0; i < p->param_count; i++) {
    switch ((hanse_httpsig_param)p->order[i]) {
    case HANSE_HTTPSIG_P_CREATED:
      snprintf(num, sizeof num, ";created=%" PRId64, p->created);
      put_str(out, num);
      break;
    case HANSE_HTTPSIG_P_EXPIRES:
      snprintf(num, sizeof num, ";expires=%" PRId64, p->expires);
      put_str(out, num);
      break;
    case HANSE_HTTPSIG_P_KEYID:
      put_str(out, ";keyid=");
      put_sf_string(out, p->keyid);
      break;
    case HANSE_HTTPSIG_P_ALG:
      put_str(out, ";alg=");
      put_sf_string(out, p->alg);
      break;
    case HANSE_HTTPSIG_P_NONCE:
      put_str(out, ";nonce=");
      put_sf_string(out, p->nonce);
      break;
    case HANSE_HTTPSIG_P_TAG:
      put_str(out, ";tag=");
      put_sf_string(out, p->tag);
      break;
    default:
      HANSE_ASSERT(0 && "unknown parameter kind");
    }
  }
  return hanse_buf_status(out);
}

/* ---- Header fields --------------------------------------------------- */

static int name_eq(const char *a, const char *b) { return strcasecmp(a, b) == 0; }

static int has_crlf(const char *s, size_t n) {
  return memchr(s, '\r', n) != NULL || memchr(s, '\n', n) != NULL;
}

/* Trim SP/HTAB on both ends of s; *n is its length on return. */
static const char *trim(const char *s, size_t *n) {
  size_t len = strlen(s);
  while (len > 0 && (s[0] == ' ' || s[0] == '\t')) s++, len--;
  while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t')) len--;
  *n = len;
  return s;
}

/* Join all instances of field `name` (trimmed, ", "-separated) into out
 * (NUL-terminated, cap bytes). 1 found, 0 absent, -1 too long or CR/LF. */
static int field_join(const hanse_httpsig_request *req, const char *name,
                      char *out, size_t cap) {
  size_t len = 0;
  int found = 0;
  for (size_t i = 0; i < req->field_count; i++) {
    const hanse_httpsig_field *f = &req->fields[i];
    if (f->name == NULL || f->value == NULL || !name_eq(f->name, name)) continue;
    size_t n;
    const char *v = trim(f->value, &n);
    if (has_crlf(v, n)) return -1;
    size_t need = n + (found ? 2 : 0);
    if (len + need + 1 > cap) return -1;
    if (found) memcpy(out + len, ", ", 2), len += 2;
    memcpy(out + len, v, n);
    len += n;
    found = 1;
  }
  if (cap > 0) out[len] = 0;
  return found;
}

/* The same, appended to a growable buffer (signature base values). */
static int field_append(const hanse_httpsig_request *req, const char *name,
                        hanse_buf *out) {
  int found = 0;
  for (size_t i = 0; i < req->field_count; i++) {
    const hanse_httpsig_field *f = &req->fields[i];
    if (f->name == NULL || f->value == NULL || !name_eq(f->name, name)) continue;
    size_t n;
    const char *v = trim(f->value, &n);
    if (has_crlf(v, n)) return -1;
    if (found) hanse_buf_put(out, ", ", 2);
    hanse_buf_put(out, v, n);
    found = 1;
  }
  return found;
}

/* ---- Signature base -------------------------------------------------- */

int hanse_httpsig_base(const hanse_httpsig_request *req,
                       const hanse_httpsig_params *p, hanse_buf *out,
                       hanse_reject *rej) {
  HANSE_ASSERT(req != NULL && p != NULL && out != NULL);
  for (size_t i = 0; i < p->component_count; i++) {
    const char *name = p->components[i];
    hanse_buf_u8(out, '"');
    put_str(out, name);
    put_str(out, "\": ");
    const char *v = NULL;
    if (strcmp(name, "@method") == 0) {
      v = req->method;
      if (v == NULL || v[0] == 0)
        return hanse_reject_code(rej, HANSE_AUTH_COMPONENTS, HANSE_HTTPSIG_STATUS,
                                 "request has no method");
    } else if (strcmp(name, "@path") == 0) {
      v = req->path != NULL && req->path[0] ? req->path : "/";
    } else if (strcmp(name, "@query") == 0) {
      hanse_buf_u8(out, '?');
      v = req->query != NULL ? req->query : "";
    } else if (strcmp(name, "@authority") == 0) {
      if (req->authority == NULL || req->authority[0] == 0)
        return hanse_reject_code(rej, HANSE_AUTH_COMPONENTS, HANSE_HTTPSIG_STATUS,
                                 "request has no authority");
      if (has_crlf(req->authority, strlen(req->authority)))
        return hanse_reject_code(rej, HANSE_AUTH_MALFORMED, HANSE_HTTPSIG_STATUS,
                                 "authority contains CR or LF");
      for (const char *a = req->authority; *a; a++) {
        char c = *a;
        hanse_buf_u8(out, (uint8_t)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
      }
      hanse_buf_u8(out, '\n');
      continue;
    } else if (name[0] == '@') {
      return hanse_reject_code(rej, HANSE_AUTH_COMPONENTS, HANSE_HTTPSIG_STATUS,
                               "derived component %s is not supported", name);
    } else {
      int found = field_append(req, name, out);
      if (found < 0)
        return hanse_reject_code(rej, HANSE_AUTH_MALFORMED, HANSE_HTTPSIG_STATUS,
                                 "header %s contains CR or LF", name);
      if (found == 0)
        return hanse_reject_code(rej, HANSE_AUTH_COMPONENTS, HANSE_HTTPSIG_STATUS,
                                 "covered header %s is absent", name);
      hanse_buf_u8(out, '\n');
      continue;
    }
    if (has_crlf(v, strlen(v)))
      return hanse_reject_code(rej, HANSE_AUTH_MALFORMED, HANSE_HTTPSIG_STATUS,
                               "%s contains CR or LF", name);
    put_str(out, v);
    hanse_buf_u8(out, '\n');
  }
  put_str(out, "\"@signature-params\": ");
  return hanse_httpsig_params_serialize(p, out);
}

char *hanse_httpsig_content_digest(char out[HANSE_HTTPSIG_DIGEST_FIELD_BYTES],
                                   const void *body, size_t len) {
  hanse_hash h;
  hanse_sha256(&h, len ? body : "", len);
  memcpy(out, "sha-256=:", 9);
  sodium_bin2base64(out + 9, HANSE_HTTPSIG_DIGEST_FIELD_BYTES - 9, h.b,
                    sizeof h.b, sodium_base64_VARIANT_ORIGINAL);
  size_t n = strlen(out);
  HANSE_ASSERT(n + 2 == HANSE_HTTPSIG_DIGEST_FIELD_BYTES);
  out[n] = ':';
  out[n + 1] = 0;
  return out;
}

/* ---- Signing --------------------------------------------------------- */

int hanse_httpsig_sign(const hanse_httpsig_request *req,
                       const hanse_httpsig_params *p, const char *label,
                       const hanse_keypair *kp, hanse_httpsig_headers *out,
                       hanse_reject *rej) {
  HANSE_ASSERT(req != NULL && p != NULL && kp != NULL && out != NULL);
  if (label == NULL) label = HANSE_HTTPSIG_LABEL;
  if (!valid_key(label, HANSE_HTTPSIG_LABEL_MAX))
    return hanse_reject_set(rej, HANSE_ERR(INVALID), "bad signature label");
  hanse_buf base, input;
  hanse_buf_init(&base);
  hanse_buf_init(&input);
  int rc = hanse_httpsig_base(req, p, &base, rej);
  if (rc != HANSE_OK) goto done;
  rc = hanse_httpsig_params_serialize(p, &input);
  if (rc != HANSE_OK) goto done;
  size_t ll = strlen(label);
  if (ll + 1 + input.len + 1 > sizeof out->signature_input) {
    rc = hanse_reject_set(rej, HANSE_ERR(INVALID), "signature parameters too long");
    goto done;
  }
  memcpy(out->signature_input, label, ll);
  out->signature_input[ll] = '=';
  memcpy(out->signature_input + ll + 1, input.data, input.len);
  out->signature_input[ll + 1 + input.len] = 0;

  hanse_sig sig;
  hanse_sign(&sig, base.data, base.len, kp);
  char b64[sodium_base64_ENCODED_LEN(HANSE_SIG_BYTES, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(b64, sizeof b64, sig.b, sizeof sig.b,
                    sodium_base64_VARIANT_ORIGINAL);
  int n = snprintf(out->signature, sizeof out->signature, "%s=:%s:", label, b64);
  HANSE_ASSERT(n > 0 && (size_t)n < sizeof out->signature);
  rc = HANSE_OK;
done:
  hanse_buf_free(&base);
  hanse_buf_free(&input);
  return rc;
}

/* ---- RFC 8941 structured fields -------------------------------------- */

/* Parser results: SF_OK, SF_BAD (malformed), SF_COMPONENTS (component
 * parameters, which we do not derive). */
enum { SF_OK = 0, SF_BAD = -1, SF_COMPONENTS = -2 };

typedef struct sf_cur {
  const char *p;
  const char *end;
} sf_cur;

typedef enum { SF_INT, SF_DEC, SF_STR, SF_TOKEN, SF_BYTES, SF_BOOL } sf_type;

typedef struct sf_item {
  sf_type type;
  int64_t i;         /* SF_INT, SF_BOOL */
  const char *start; /* where the bare item begins in the field */
  const char *stop;  /* one past its end */
} sf_item;

static int peek(const sf_cur *c) { return c->p < c->end ? (unsigned char)*c->p : -1; }
static void skip_sp(sf_cur *c) {
  while (c->p < c->end && *c->p == ' ') c->p++;
}
static void skip_ows(sf_cur *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t')) c->p++;
}

/* key into out (cap bytes, may be NULL). */
static int sf_key(sf_cur *c, char *out, size_t cap) {
  int ch = peek(c);
  if (!(is_lcalpha(ch) || ch == '*')) return SF_BAD;
  size_t n = 0;
  while (c->p < c->end) {
    ch = (unsigned char)*c->p;
    if (!(is_lcalpha(ch) || is_digit(ch) || ch == '_' || ch == '-' || ch == '.' ||
          ch == '*'))
      break;
    if (out != NULL) {
      if (n + 1 >= cap) return SF_BAD;
      out[n] = (char)ch;
    }
    n++;
    c->p++;
  }
  if (out != NULL) out[n] = 0;
  return SF_OK;
}

/* sf-string into out (cap bytes, may be NULL); too long is malformed. */
static int sf_string(sf_cur *c, char *out, size_t cap) {
  if (peek(c) != '"') return SF_BAD;
  c->p++;
  size_t n = 0;
  for (;;) {
    int ch = peek(c);
    if (ch < 0) return SF_BAD;
    c->p++;
    if (ch == '"') break;
    if (ch == '\\') {
      ch = peek(c);
      if (ch != '"' && ch != '\\') return SF_BAD;
      c->p++;
    } else if (ch < 0x20 || ch > 0x7e) {
      return SF_BAD;
    }
    if (out != NULL) {
      if (n + 1 >= cap) return SF_BAD;
      out[n] = (char)ch;
    }
    n++;
  }
  if (out != NULL) out[n] = 0;
  return SF_OK;
}

static int sf_number(sf_cur *c, sf_item *it) {
  int neg = 0;
  if (peek(c) == '-') neg = 1, c->p++;
  if (!is_digit(peek(c))) return SF_BAD;
  int64_t v = 0;
  int digits = 0;
  while (is_digit(peek(c))) {
    if (++digits > 15) return SF_BAD;
    v = v * 10 + (*c->p - '0');
    c->p++;
  }
  if (peek(c) != '.') {
    it->type = SF_INT;
    it->i = neg ? -v : v;
    return SF_OK;
  }
  if (digits > 12) return SF_BAD;
  c->p++;
  int frac = 0;
  while (is_digit(peek(c))) {
    if (++frac > 3) return SF_BAD;
    c->p++;
  }
  if (frac == 0) return SF_BAD;
  it->type = SF_DEC;
  return SF_OK;
}

static int sf_bare_item(sf_cur *c, sf_item *it) {
  it->start = c->p;
  int ch = peek(c);
  int rc;
  if (ch == '-' || is_digit(ch)) {
    rc = sf_number(c, it);
  } else if (ch == '"') {
    it->type = SF_STR;
    rc = sf_string(c, NULL, 0);
  } else if (ch == ':') {
    it->type = SF_BYTES;
    c->p++;
    while (is_b64char(peek(c))) c->p++;
    if (peek(c) != ':') return SF_BAD;
    c->p++;
    rc = SF_OK;
  } else if (ch == '?') {
    it->type = SF_BOOL;
    c->p++;
    ch = peek(c);
    if (ch != '0' && ch != '1') return SF_BAD;
    it->i = ch == '1';
    c->p++;
    rc = SF_OK;
  } else if (is_alpha(ch) || ch == '*') {
    it->type = SF_TOKEN;
    while (is_tchar(peek(c)) || peek(c) == ':' || peek(c) == '/') c->p++;
    rc = SF_OK;
  } else {
    return SF_BAD;
  }
  it->stop = c->p;
  return rc;
}

/* Decode a byte-sequence item into out; exactly `want` bytes or SF_BAD. */
static int sf_bytes_exact(const sf_item *it, uint8_t *out, size_t want) {
  if (it->type != SF_BYTES) return SF_BAD;
  const char *b64 = it->start + 1;
  size_t n = (size_t)(it->stop - it->start) - 2;
  size_t got = 0;
  const char *end = NULL;
  if (sodium_base642bin(out, want, b64, n, NULL, &got, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0)
    return SF_BAD;
  if (end != b64 + n || got != want) return SF_BAD;
  return SF_OK;
}

typedef int (*sf_param_fn)(void *ctx, const char *key, const sf_item *it);

/* *( ";" *SP key [ "=" bare-item ] ); fn(ctx, key, item) per parameter,
 * or NULL to check syntax only. */
static int sf_params(sf_cur *c, sf_param_fn fn, void *ctx) {
  while (peek(c) == ';') {
    c->p++;
    skip_sp(c);
    char key[HANSE_HTTPSIG_NAME_MAX];
    if (sf_key(c, key, sizeof key) != SF_OK) return SF_BAD;
    sf_item it = {.type = SF_BOOL, .i = 1, .start = c->p, .stop = c->p};
    if (peek(c) == '=') {
      c->p++;
      if (sf_bare_item(c, &it) != SF_OK) return SF_BAD;
    }
    if (fn != NULL) {
      int rc = fn(ctx, key, &it);
      if (rc != SF_OK) return rc;
    }
  }
  return SF_OK;
}

/* Component items of an inner list must be strings without parameters. */
static int no_component_params(void *ctx, const char *key, const sf_item *it) {
  (void)ctx, (void)key, (void)it;
  return SF_COMPONENTS;
}

typedef int (*sf_list_item_fn)(void *ctx, const sf_item *it);

/* "(" *SP [ item *( 1*SP item ) *SP ] ")" parameters */
static int sf_inner_list(sf_cur *c, sf_list_item_fn item_fn,
                         sf_param_fn item_param_fn, sf_param_fn param_fn,
                         void *ctx) {
  if (peek(c) != '(') return SF_BAD;
  c->p++;
  for (;;) {
    skip_sp(c);
    if (peek(c) == ')') {
      c->p++;
      break;
    }
    sf_item it;
    if (sf_bare_item(c, &it) != SF_OK) return SF_BAD;
    int rc = sf_params(c, item_param_fn, ctx);
    if (rc != SF_OK) return rc;
    if (item_fn != NULL && (rc = item_fn(ctx, &it)) != SF_OK) return rc;
    if (peek(c) != ' ' && peek(c) != ')') return SF_BAD;
  }
  return sf_params(c, param_fn, ctx);
}

/* Walk a whole dictionary, checking its syntax; *value gets the start of
 * the value of the last member named `key` (RFC 8941: the last wins).
 * 1 found, 0 absent, SF_BAD. A member without "=" (boolean true) gives
 * *value == NULL. */
static int sf_dict_find(const char *s, size_t n, const char *key,
                        const char **value) {
  sf_cur c = {s, s + n};
  int found = 0;
  skip_sp(&c);
  if (c.p == c.end) return 0;
  for (;;) {
    char k[HANSE_HTTPSIG_LABEL_MAX];
    if (sf_key(&c, k, sizeof k) != SF_OK) return SF_BAD;
    int match = strcmp(k, key) == 0;
    if (peek(&c) == '=') {
      c.p++;
      if (match) *value = c.p, found = 1;
      if (peek(&c) == '(') {
        if (sf_inner_list(&c, NULL, NULL, NULL, NULL) != SF_OK) return SF_BAD;
      } else {
        sf_item it;
        if (sf_bare_item(&c, &it) != SF_OK) return SF_BAD;
        if (sf_params(&c, NULL, NULL) != SF_OK) return SF_BAD;
      }
    } else {
      if (match) *value = NULL, found = 1;
      if (sf_params(&c, NULL, NULL) != SF_OK) return SF_BAD;
    }
    skip_ows(&c);
    if (c.p == c.end) return found;
    if (*c.p != ',') return SF_BAD;
    c.p++;
    skip_ows(&c);
    if (c.p == c.end) return SF_BAD; /* trailing comma */
  }
}

/* ---- Parsing a signature --------------------------------------------- */

typedef struct input_ctx {
  hanse_httpsig_params *p;
  int duplicate;
} input_ctx;

static int input_component(void *ctx, const sf_item *it) {
  input_ctx *ic = ctx;
  if (it->type != SF_STR) return SF_BAD;
  char name[HANSE_HTTPSIG_NAME_MAX];
  sf_cur c = {it->start, it->stop};
  if (sf_string(&c, name, sizeof name) != SF_OK) return SF_BAD;
  if (!valid_component(name) || strcmp(name, "@signature-params") == 0)
    return SF_BAD;
  if (has_component(ic->p, name)) {
    ic->duplicate = 1;
    return SF_BAD;
  }
  return hanse_httpsig_params_add_component(ic->p, name) == HANSE_OK ? SF_OK
                                                                      : SF_BAD;
}

static int input_param(void *ctx, const char *key, const sf_item *it) {
  input_ctx *ic = ctx;
  hanse_httpsig_params *p = ic->p;
  if (strcmp(key, "created") == 0 || strcmp(key, "expires") == 0) {
    if (it->type != SF_INT) return SF_BAD;
    int rc = key[0] == 'c' ? hanse_httpsig_params_set_created(p, it->i)
                           : hanse_httpsig_params_set_expires(p, it->i);
    return rc == HANSE_OK ? SF_OK : SF_BAD;
  }
  char *field;
  size_t cap;
  hanse_httpsig_param which;
  if (strcmp(key, "keyid") == 0) {
    field = p->keyid, cap = sizeof p->keyid, which = HANSE_HTTPSIG_P_KEYID;
  } else if (strcmp(key, "alg") == 0) {
    field = p->alg, cap = sizeof p->alg, which = HANSE_HTTPSIG_P_ALG;
  } else if (strcmp(key, "nonce") == 0) {
    field = p->nonce, cap = sizeof p->nonce, which = HANSE_HTTPSIG_P_NONCE;
  } else if (strcmp(key, "tag") == 0) {
    field = p->tag, cap = sizeof p->tag, which = HANSE_HTTPSIG_P_TAG;
  } else {
    return SF_BAD; /* unknown: we could not re-serialize it */
  }
  if (it->type != SF_STR) return SF_BAD;
  sf_cur c = {it->start, it->stop};
  if (sf_string(&c, field, cap) != SF_OK) return SF_BAD;
  mark(p, which);
  return SF_OK;
}

int hanse_httpsig_parse(const hanse_httpsig_request *req, const char *label,
                        hanse_httpsig_params *p, hanse_sig *sig,
                        hanse_reject *rej) {
  HANSE_ASSERT(req != NULL && p != NULL && sig != NULL);
  if (label == NULL) label = HANSE_HTTPSIG_LABEL;
  hanse_httpsig_params_init(p);
  char input[HANSE_HTTPSIG_FIELD_MAX], sigf[HANSE_HTTPSIG_FIELD_MAX];
  int hi = field_join(req, "signature-input", input, sizeof input);
  int hs = field_join(req, "signature", sigf, sizeof sigf);
  if (hi == 0 || hs == 0)
    return hanse_reject_code(rej, HANSE_AUTH_MISSING, HANSE_HTTPSIG_STATUS,
                             "request has no Signature-Input and Signature headers");
  if (hi < 0 || hs < 0)
    return hanse_reject_code(rej, HANSE_AUTH_MALFORMED, HANSE_HTTPSIG_STATUS,
                             "signature headers too long");

  const char *vi = NULL, *vs = NULL;
  int fi = sf_dict_find(input, strlen(input), label, &vi);
  int fs = sf_dict_find(sigf, strlen(sigf), label, &vs);
  if (fi < 0 || fs < 0)
    return hanse_reject_code(rej, HANSE_AUTH_MALFORMED, HANSE_HTTPSIG_STATUS,
                             "Signature-Input or Signature is not a structured dictionary");
  if (fi == 0 && fs == 0)
    return hanse_reject_code(rej, HANSE_AUTH_MISSING, HANSE_HTTPSIG_STATUS,
                             "no signature labelled %s", label);
  if (fi == 0 || fs == 0 || vi == NULL || vs == NULL)
    return hanse_reject_code(rej, HANSE_AUTH_MALFORMED, HANSE_HTTPSIG_STATUS,
                             "signature %s is not in both Signature-Input and Signature", label);

  /* Signature-Input member: inner list of component strings + params. */
  input_ctx ic = {p, 0};
  sf_cur c = {vi, input + strlen(input)};
  if (peek(&c) != '(')
    return hanse_reject_code(rej, HANSE_AUTH_MALFORMED, HANSE_HTTPSIG_STATUS,
                             "Signature-Input %s is not an inner list", label);
  int rc = sf_inner_list(&c, input_component, no_component_params, input_param, &ic);
  if (rc == SF_COMPONENTS)
    return hanse_reject_code(rej, HANSE_AUTH_COMPONENTS, HANSE_HTTPSIG_STATUS,
                             "component parameters are not supported");
  if (rc != SF_OK)
    return hanse_reject_code(
        rej, HANSE_AUTH_MALFORMED, HANSE_HTTPSIG_STATUS,
        ic.duplicate ? "duplicate covered component" : "bad covered components or parameters");

  /* Signature member: a byte sequence of exactly one Ed25519 signature. */
  sf_cur s = {vs, sigf + strlen(sigf)};
  sf_item it;
  if (sf_bare_item(&s, &it) != SF_OK || sf_bytes_exact(&it, sig->b, HANSE_SIG_BYTES) != SF_OK)
    return hanse_reject_code(rej, HANSE_AUTH_MALFORMED, HANSE_HTTPSIG_STATUS,
                             "Signature %s is not a %d-byte byte sequence", label, HANSE_SIG_BYTES);
  return HANSE_OK;
}

/* ---- Verifying ------------------------------------------------------- */

static int check_digest(const hanse_httpsig_request *req, hanse_reject *rej) {
  char field[HANSE_HTTPSIG_FIELD_MAX];
  int found = field_join(req, "content-digest", field, sizeof field);
  if (found == 0)
    return hanse_reject_code(rej, HANSE_AUTH_COMPONENTS, HANSE_HTTPSIG_STATUS,
                             "Content-Digest header is absent");
  if (found < 0)
    return hanse_reject_code(rej, HANSE_AUTH_MALFORMED, HANSE_HTTPSIG_STATUS,
                             "Content-Digest header too long");
  const char *v = NULL;
  int f = sf_dict_find(field, strlen(field), "sha-256", &v);
  if (f < 0)
    return hanse_reject_code(rej, HANSE_AUTH_MALFORMED, HANSE_HTTPSIG_STATUS,
                             "Content-Digest is not a structured dictionary");
  if (f == 0 || v == NULL)
    return hanse_reject_code(rej, HANSE_AUTH_DIGEST_MISMATCH, HANSE_HTTPSIG_STATUS,
                             "Content-Digest has no sha-256 member");
  sf_cur c = {v, field + strlen(field)};
  sf_item it;
  hanse_hash claimed, actual;
  if (sf_bare_item(&c, &it) != SF_OK ||
      sf_bytes_exact(&it, claimed.b, sizeof claimed.b) != SF_OK)
    return hanse_reject_code(rej, HANSE_AUTH_MALFORMED, HANSE_HTTPSIG_STATUS,
                             "Content-Digest sha-256 is not a 32-byte byte sequence");
  if (req->body_sha256 != NULL)
    actual = *req->body_sha256;
  else
    hanse_sha256(&actual, req->body_len ? (const void *)req->body : "", req->body_len);
  if (sodium_memcmp(claimed.b, actual.b, sizeof actual.b) != 0)
    return hanse_reject_code(rej, HANSE_AUTH_DIGEST_MISMATCH, HANSE_HTTPSIG_STATUS,
                             "Content-Digest does not match the body");
  return HANSE_OK;
}

static void replay_id(hanse_hash *out, const hanse_httpsig_params *p,
                      const hanse_sig *sig) {
  static const char domain[] = "hanse.httpsig.replay.v1";
  hanse_sha256_state s;
  uint8_t t[8];
  hanse_sha256_init(&s);
  hanse_sha256_update(&s, domain, sizeof domain); /* with its NUL */
  hanse_sha256_update(&s, p->keyid, strlen(p->keyid) + 1);
  hanse_put_u64be(t, (uint64_t)p->created);
  hanse_sha256_update(&s, t, sizeof t);
  if (hanse_httpsig_params_has(p, HANSE_HTTPSIG_P_NONCE)) {
    hanse_sha256_update(&s, "n", 1);
    hanse_sha256_update(&s, p->nonce, strlen(p->nonce));
  } else {
    hanse_sha256_update(&s, "s", 1);
    hanse_sha256_update(&s, sig->b, sizeof sig->b);
  }
  hanse_sha256_final(&s, out);
}

int hanse_httpsig_verify(const hanse_httpsig_request *req,
                         const hanse_httpsig_policy *pol,
                         hanse_httpsig_verified *out, hanse_reject *rej) {
  HANSE_ASSERT(req != NULL && pol != NULL && out != NULL);
  HANSE_ASSERT(pol->key_fn != NULL && pol->max_age_s >= 0 && pol->max_skew_s >= 0);
  memset(out, 0, sizeof *out);
  hanse_httpsig_params p;
  hanse_sig sig;
  int rc = hanse_httpsig_parse(req, pol->label, &p, &sig, rej);
  if (rc != HANSE_OK) return rc;

  if (!hanse_httpsig_params_has(&p, HANSE_HTTPSIG_P_CREATED))
    return hanse_reject_code(rej, HANSE_AUTH_MALFORMED, HANSE_HTTPSIG_STATUS,
                             "signature has no created time");
  if (!hanse_httpsig_params_has(&p, HANSE_HTTPSIG_P_KEYID) || p.keyid[0] == 0)
    return hanse_reject_code(rej, HANSE_AUTH_MALFORMED, HANSE_HTTPSIG_STATUS,
                             "signature has no keyid");
  if (hanse_httpsig_params_has(&p, HANSE_HTTPSIG_P_ALG) && strcmp(p.alg, "ed25519") != 0)
    return hanse_reject_code(rej, HANSE_AUTH_MALFORMED, HANSE_HTTPSIG_STATUS,
                             "algorithm %s is not ed25519", p.alg);
  if (pol->require_nonce && !hanse_httpsig_params_has(&p, HANSE_HTTPSIG_P_NONCE))
    return hanse_reject_code(rej, HANSE_AUTH_MALFORMED, HANSE_HTTPSIG_STATUS,
                             "signature has no nonce");

  static const char *const always[] = {"@method", "@path"};
  for (size_t i = 0; i < sizeof always / sizeof always[0]; i++)
    if (!has_component(&p, always[i]))
      return hanse_reject_code(rej, HANSE_AUTH_COMPONENTS, HANSE_HTTPSIG_STATUS,
                               "%s is not covered", always[i]);
  if (req->query != NULL && !has_component(&p, "@query"))
    return hanse_reject_code(rej, HANSE_AUTH_COMPONENTS, HANSE_HTTPSIG_STATUS,
                             "@query is not covered");
  if ((req->body_len > 0 || req->body_sha256 != NULL) && !has_component(&p, "content-digest"))
    return hanse_reject_code(rej, HANSE_AUTH_COMPONENTS, HANSE_HTTPSIG_STATUS,
                             "content-digest is not covered");

  if (p.created > pol->now_s + pol->max_skew_s)
    return hanse_reject_code(rej, HANSE_AUTH_FUTURE, HANSE_HTTPSIG_STATUS,
                             "created %" PRId64 " is ahead of now %" PRId64, p.created, pol->now_s);
  if (p.created < pol->now_s - pol->max_age_s)
    return hanse_reject_code(rej, HANSE_AUTH_EXPIRED, HANSE_HTTPSIG_STATUS,
                             "created %" PRId64 " is older than %" PRId64 " s", p.created,
                             pol->max_age_s);
  if (hanse_httpsig_params_has(&p, HANSE_HTTPSIG_P_EXPIRES) && pol->now_s > p.expires)
    return hanse_reject_code(rej, HANSE_AUTH_EXPIRED, HANSE_HTTPSIG_STATUS,
                             "signature expired at %" PRId64, p.expires);

  if (has_component(&p, "content-digest")) {
    rc = check_digest(req, rej);
    if (rc != HANSE_OK) return rc;
  }

  hanse_pubkey key;
  rc = pol->key_fn(pol->key_ctx, p.keyid, &key);
  if (rc == HANSE_ERR(NOT_FOUND))
    return hanse_reject_code(rej, HANSE_AUTH_UNKNOWN_KEY, HANSE_HTTPSIG_STATUS, "unknown keyid");
  if (rc != HANSE_OK)
    return hanse_reject_set(rej, rc, "key lookup failed");

  hanse_buf base;
  hanse_buf_init(&base);
  rc = hanse_httpsig_base(req, &p, &base, rej);
  if (rc == HANSE_ERR(NOMEM))
    hanse_reject_set(rej, rc, "out of memory building the signature base");
  if (rc == HANSE_OK && !hanse_sign_verify(&sig, base.data, base.len, &key))
    rc = hanse_reject_code(rej, HANSE_AUTH_BAD_SIGNATURE, HANSE_HTTPSIG_STATUS,
                           "signature does not verify");
  hanse_buf_free(&base);
  if (rc != HANSE_OK) return rc;

  snprintf(out->keyid, sizeof out->keyid, "%s", p.keyid);
  out->key = key;
  out->created = p.created;
  out->has_nonce = hanse_httpsig_params_has(&p, HANSE_HTTPSIG_P_NONCE);
  snprintf(out->nonce, sizeof out->nonce, "%s", p.nonce);
  replay_id(&out->replay_id, &p, &sig);
  return HANSE_OK;
}

/* ---- Replay cache ---------------------------------------------------- */

/* Slots scanned from an id's home slot. */
#define REPLAY_PROBE 32
/* Bounds on the table: 2^24 slots are 48 * 16 MiB; more is a mistake. */
#define REPLAY_CAPACITY_MAX ((size_t)1 << 24)

typedef struct replay_slot {
  hanse_hash id;
  int64_t until_s; /* live while now_s <= until_s */
  int used;
} replay_slot;

struct hanse_httpsig_replay {
  pthread_mutex_t mu;
  size_t mask; /* slot count - 1; slot count is a power of two */
  int64_t window_s;
  replay_slot *slots;
};

int hanse_httpsig_replay_create(size_t capacity, int64_t window_s,
                                hanse_httpsig_replay **out) {
  HANSE_ASSERT(out != NULL);
  *out = NULL;
  if (capacity == 0 || capacity > REPLAY_CAPACITY_MAX || window_s < 0 ||
      window_s > SF_INT_MAX)
    return HANSE_ERR(INVALID);
  size_t n = 1;
  while (n < capacity) n <<= 1;
  hanse_httpsig_replay *r = calloc(1, sizeof *r);
  if (r == NULL) return HANSE_ERR(NOMEM);
  r->slots = calloc(n, sizeof *r->slots);
  if (r->slots == NULL || pthread_mutex_init(&r->mu, NULL) != 0) {
    free(r->slots);
    free(r);
    return HANSE_ERR(NOMEM);
  }
  r->mask = n - 1;
  r->window_s = window_s;
  *out = r;
  return HANSE_OK;
}

void hanse_httpsig_replay_destroy(hanse_httpsig_replay *r) {
  if (r == NULL) return;
  pthread_mutex_destroy(&r->mu);
  free(r->slots);
  free(r);
}

int hanse_httpsig_replay_check(hanse_httpsig_replay *r,
                               const hanse_httpsig_verified *v, int64_t now_s,
                               hanse_reject *rej) {
  HANSE_ASSERT(r != NULL && v != NULL);
  size_t probe = r->mask + 1 < REPLAY_PROBE ? r->mask + 1 : REPLAY_PROBE;
  size_t home = (size_t)hanse_get_u64be(v->replay_id.b) & r->mask;
  replay_slot *free_slot = NULL;
  int replayed = 0;
  pthread_mutex_lock(&r->mu);
  for (size_t i = 0; i < probe; i++) {
    replay_slot *s = &r->slots[(home + i) & r->mask];
    int live = s->used && now_s <= s->until_s;
    if (live && memcmp(s->id.b, v->replay_id.b, sizeof s->id.b) == 0) {
      replayed = 1;
      break;
    }
    if (!live && free_slot == NULL) free_slot = s;
  }
  if (!replayed && free_slot != NULL) {
    free_slot->id = v->replay_id;
    free_slot->until_s = v->created + r->window_s;
    free_slot->used = 1;
  }
  pthread_mutex_unlock(&r->mu);
  if (replayed)
    return hanse_reject_code(rej, HANSE_AUTH_REPLAYED, HANSE_HTTPSIG_STATUS,
                             "signature already used (created %" PRId64 ")", v->created);
  if (free_slot == NULL)
    return hanse_reject_code(rej, HANSE_AUTH_REPLAY_FULL,
                             HANSE_HTTPSIG_REPLAY_FULL_STATUS,
                             "replay cache is full; retry later");
  return HANSE_OK;
}

size_t hanse_httpsig_replay_count(hanse_httpsig_replay *r, int64_t now_s) {
  HANSE_ASSERT(r != NULL);
  size_t n = 0;
  pthread_mutex_lock(&r->mu);
  for (size_t i = 0; i <= r->mask; i++)
    if (r->slots[i].used && now_s <= r->slots[i].until_s) n++;
  pthread_mutex_unlock(&r->mu);
  return n;
}
