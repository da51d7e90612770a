/*
 * ledger/ledger_xfer.c -- the transfer record's stored forms.
 *
 * A transfer record (ledger/xfer/<id>) was canonical JSON, and its sorted
 * dump was the largest single item of the sequencer's time per created
 * transfer; a two-phase post parsed it and dumped it again. A plain
 * transfer's record is now a fixed-layout row, printed and parsed here
 * without jansson, in the manner of the account and balance rows
 * (ledger_balance.c): seventeen words, one space apart,
 *
 *   <id> <debit> <credit> <amount> <asset> <status> <flags> <code>
 *   <timeout> <expires_at> <business> <ref> <controller> <tx> <height>
 *   <posted_amount> <resolved_at>
 *
 * numbers as decimal u64s without leading zeros, "-" for an absent
 * field, <flags> one of "-", "p" (pending), "l" (linked), "pl", <tx> the
 * creating transaction's id as 64 lowercase hex, <status> pending,
 * posted, voided or expired. A row starts with the id, which is never
 * "{", so the first byte tells a row from a JSON record: a record the
 * row cannot hold -- a confidential transfer (its amount an object), or
 * a field "-" would make ambiguous (a ref that is "-") -- stays JSON, and
 * the readers (ledger_xfer_decode) take either.
 *
 * The parser is strict (exactly the words, canonical numbers within the
 * JSON record's ranges, known status and flags), so every accepted row
 * prints back to the same bytes, and the conversions to and from the
 * record's JSON are exact: a record becomes a row only when every member
 * has a place in it (ledger_xfer_from_json), and the row answers as the
 * same object, members in sorted order (ledger_xfer_json).
 *
 * The ledger computes on the row's struct, not on JSON: a new transfer's
 * record is made from the request's members (ledger_xfer_from_request,
 * the same members the JSON record would keep, taken the same way) and
 * put into the book as its row's text (ledger_xfer_put); a post, void or
 * expiry parses the row, changes the struct and puts it back
 * (ledger_xfer_load). Only the records the row cannot hold are built and
 * changed as JSON objects; ledger_get still answers any record as JSON,
 * for the modules that read transfers (escrow) and for idempotent
 * repeats.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/fmt.h"
#include "base/log.h"
#include "modules/ledger/ledger.h"

static const char *const statuses[] = {"pending", "posted", "voided", "expired", NULL};

static const char *status_of(const char *s) {
  for (size_t i = 0; statuses[i]; i++)
    if (strcmp(s, statuses[i]) == 0) return statuses[i];
  return NULL;
}


/* A word of an optional field: absent (""), or a row word that is not "-". */
static int opt_word_ok(const char *s) {
  if (s[0] == 0) return 1;
  if (strcmp(s, "-") == 0) return 0;
  for (const char *p = s; *p; p++)
    if (!ledger_row_char(*p)) return 0;
  return 1;
}

static int hex64_ok(const char *s) {
  return strlen(s) == HANSE_HASH_HEX_BYTES - 1 &&
         strspn(s, "0123456789abcdef") == HANSE_HASH_HEX_BYTES - 1;
}

/* The ranges the JSON record's values have, checked alike on both ways in,
 * so a record that converts prints a row that parses. */
int ledger_xfer_valid(const ledger_xfer *x) {
  const uint64_t jmax = (uint64_t)INT64_MAX; /* a JSON integer */
  if (!ledger_id_valid(x->id) || !ledger_id_valid(x->debit) || !ledger_id_valid(x->credit))
    return 0;
  if (x->asset[0] == 0 || !opt_word_ok(x->asset) || !opt_word_ok(x->business) ||
      !opt_word_ok(x->controller) || (x->ref[0] && !ledger_id_valid(x->ref)) ||
      !opt_word_ok(x->ref) || !hex64_ok(x->tx) || x->status == NULL)
    return 0;
  if (x->amount < 1 || x->amount > LEDGER_AMOUNT_MAX || x->height > jmax) return 0;
  if ((x->has & LEDGER_XFER_CODE) && (x->code < 1 || x->code > LEDGER_CODE_MAX)) return 0;
  if ((x->has & LEDGER_XFER_TIMEOUT) && (x->timeout < 1 || x->timeout > LEDGER_TIMEOUT_MAX)) return 0;
  if ((x->has & LEDGER_XFER_EXPIRES) && x->expires_at > jmax) return 0;
  if ((x->has & LEDGER_XFER_RESOLVED) && x->resolved_at > jmax) return 0;
  return (x->pending == 0 || x->pending == 1) && (x->linked == 0 || x->linked == 1);
}

/* ---- the row ---- */

static void put_word(char *out, size_t *n, const char *s, int first) {
  size_t len = strlen(s);
  if (!first) out[(*n)++] = ' ';
  if (len == 0) {
    out[(*n)++] = '-';
    return;
  }
  memcpy(out + *n, s, len);
  *n += len;
}

static void put_num(char *out, size_t *n, int has, uint64_t v) {
  out[(*n)++] = ' ';
  if (has)
    *n += hanse_fmt_u64(out + *n, v);
  else
    out[(*n)++] = '-';
}

size_t ledger_xfer_format(char out[LEDGER_XFER_TEXT_MAX], const ledger_xfer *x) {
  HANSE_ASSERT(ledger_xfer_valid(x));
  size_t n = 0;
  put_word(out, &n, x->id, 1);
  put_word(out, &n, x->debit, 0);
  put_word(out, &n, x->credit, 0);
  put_num(out, &n, 1, x->amount);
  put_word(out, &n, x->asset, 0);
  put_word(out, &n, x->status, 0);
  put_word(out, &n, x->pending ? (x->linked ? "pl" : "p") : x->linked ? "l" : "", 0);
  put_num(out, &n, x->has & LEDGER_XFER_CODE, x->code);
  put_num(out, &n, x->has & LEDGER_XFER_TIMEOUT, x->timeout);
  put_num(out, &n, x->has & LEDGER_XFER_EXPIRES, x->expires_at);
  put_word(out, &n, x->business, 0);
  put_word(out, &n, x->ref, 0);
  put_word(out, &n, x->controller, 0);
  put_word(out, &n, x->tx, 0);
  put_num(out, &n, 1, x->height);
  put_num(out, &n, x->has & LEDGER_XFER_POSTED, x->posted_amount);
  put_num(out, &n, x->has & LEDGER_XFER_RESOLVED, x->resolved_at);
  HANSE_ASSERT(n < LEDGER_XFER_TEXT_MAX);
  out[n] = 0;
  return n;
}

/* The next word as an optional word: "-" is absent (""). */
static int get_word(const char *text, size_t n, size_t *at, char *out, size_t cap) {
  if (!ledger_row_word(text, n, at, out, cap, 0)) return 0;
  if (strcmp(out, "-") == 0) out[0] = 0;
  return 1;
}

/* The next word as a number; `bit` of *has set when present, and "-"
 * only allowed when bit is not 0. */
static int get_num(const char *text, size_t n, size_t *at, int last, unsigned bit, unsigned *has,
                   uint64_t *v) {
  char w[24];
  *v = 0;
  if (!ledger_row_word(text, n, at, w, sizeof w, last)) return 0;
  if (bit && strcmp(w, "-") == 0) return 1;
  *has |= bit;
  return ledger_u64_parse(w, v);
}

int ledger_xfer_parse(ledger_xfer *x, const char *text, size_t n) {
  memset(x, 0, sizeof *x);
  char status[LEDGER_WORD_MAX + 1], flags[4];
  size_t at = 0;
  if (!ledger_row_word(text, n, &at, x->id, sizeof x->id, 0) ||
      !ledger_row_word(text, n, &at, x->debit, sizeof x->debit, 0) ||
      !ledger_row_word(text, n, &at, x->credit, sizeof x->credit, 0) ||
      !get_num(text, n, &at, 0, 0, &x->has, &x->amount) ||
      !ledger_row_word(text, n, &at, x->asset, sizeof x->asset, 0) ||
      !ledger_row_word(text, n, &at, status, sizeof status, 0) ||
      !ledger_row_word(text, n, &at, flags, sizeof flags, 0) ||
      !get_num(text, n, &at, 0, LEDGER_XFER_CODE, &x->has, &x->code) ||
      !get_num(text, n, &at, 0, LEDGER_XFER_TIMEOUT, &x->has, &x->timeout) ||
      !get_num(text, n, &at, 0, LEDGER_XFER_EXPIRES, &x->has, &x->expires_at) ||
      !get_word(text, n, &at, x->business, sizeof x->business) ||
      !get_word(text, n, &at, x->ref, sizeof x->ref) ||
      !get_word(text, n, &at, x->controller, sizeof x->controller) ||
      !ledger_row_word(text, n, &at, x->tx, sizeof x->tx, 0) ||
      !get_num(text, n, &at, 0, 0, &x->has, &x->height) ||
      !get_num(text, n, &at, 0, LEDGER_XFER_POSTED, &x->has, &x->posted_amount) ||
      !get_num(text, n, &at, 1, LEDGER_XFER_RESOLVED, &x->has, &x->resolved_at))
    return 0;
  x->status = status_of(status);
  if (strcmp(flags, "-") != 0) {
    x->pending = flags[0] == 'p';
    x->linked = flags[x->pending] == 'l';
    if (flags[x->pending + x->linked] != 0 || (!x->pending && !x->linked)) return 0;
  }
  return ledger_xfer_valid(x);
}

/* ---- the record's JSON ---- */

typedef enum member {
  M_AMOUNT, M_ASSET, M_BUSINESS, M_CODE, M_CONTROLLER, M_CREDIT, M_DEBIT, M_EXPIRES,
  M_HEIGHT, M_ID, M_LINKED, M_PENDING, M_POSTED, M_REF, M_RESOLVED, M_STATUS, M_TIMEOUT,
  M_TX, M_COUNT
} member;

/* In sorted order, the order ledger_xfer_json adds them (the order a
 * sorted dump had them in). */
static const char *const member_names[M_COUNT] = {
    "amount", "asset",  "business",      "code", "controller",  "credit",
    "debit",  "expires_at", "height",    "id",   "linked",      "pending",
    "posted_amount", "ref", "resolved_at", "status", "timeout", "tx"};

static int member_of(const char *k) {
  for (int i = 0; i < M_COUNT; i++)
    if (strcmp(k, member_names[i]) == 0) return i;
  return -1;
}

/* A string member into out[cap]; 0 if it is no string that fits (or
 * holds a NUL). */
static int str_into(json_t *v, char *out, size_t cap) {
  const char *s = json_string_value(v);
  size_t len = json_string_length(v);
  if (s == NULL || len == 0 || len >= cap || strlen(s) != len) return 0;
  memcpy(out, s, len + 1);
  return 1;
}

static int int_into(json_t *v, uint64_t *out) {
  if (!json_is_integer(v) || json_integer_value(v) < 0) return 0;
  *out = (uint64_t)json_integer_value(v);
  return 1;
}

/* Member m of a record, value v, into *x (a status into status[]); 0 if
 * the row has no place for it. */
static int member_into(ledger_xfer *x, int m, json_t *v, char status[LEDGER_WORD_MAX + 1]) {
  switch (m) {
    case M_AMOUNT: return int_into(v, &x->amount);
    case M_ASSET: return str_into(v, x->asset, sizeof x->asset);
    case M_BUSINESS: return str_into(v, x->business, sizeof x->business);
    case M_CODE: x->has |= LEDGER_XFER_CODE; return int_into(v, &x->code);
    case M_CONTROLLER: return str_into(v, x->controller, sizeof x->controller);
    case M_CREDIT: return str_into(v, x->credit, sizeof x->credit);
    case M_DEBIT: return str_into(v, x->debit, sizeof x->debit);
    case M_EXPIRES: x->has |= LEDGER_XFER_EXPIRES; return int_into(v, &x->expires_at);
    case M_HEIGHT: return int_into(v, &x->height);
    case M_ID: return str_into(v, x->id, sizeof x->id);
    case M_LINKED: return x->linked = json_is_true(v);
    case M_PENDING: return x->pending = json_is_true(v);
    case M_POSTED:
      x->has |= LEDGER_XFER_POSTED;
      return ledger_u64_parse(json_string_value(v), &x->posted_amount);
    case M_REF: return str_into(v, x->ref, sizeof x->ref);
    case M_RESOLVED: x->has |= LEDGER_XFER_RESOLVED; return int_into(v, &x->resolved_at);
    case M_STATUS: return str_into(v, status, LEDGER_WORD_MAX + 1);
    case M_TIMEOUT: x->has |= LEDGER_XFER_TIMEOUT; return int_into(v, &x->timeout);
    case M_TX: return str_into(v, x->tx, sizeof x->tx);
    default: return 0; /* a member the row has no place for */
  }
}

int ledger_xfer_from_json(ledger_xfer *x, json_t *rec) {
  memset(x, 0, sizeof *x);
  if (!json_is_object(rec)) return 0;
  const char *k;
  json_t *v;
  unsigned seen = 0;
  char status[LEDGER_WORD_MAX + 1] = "";
  json_object_foreach(rec, k, v) {
    int m = member_of(k);
    if (m < 0 || !member_into(x, m, v, status)) return 0;
    seen |= 1u << m;
  }
  static const unsigned required = 1u << M_ID | 1u << M_DEBIT | 1u << M_CREDIT |
                                   1u << M_AMOUNT | 1u << M_ASSET | 1u << M_STATUS |
                                   1u << M_TX | 1u << M_HEIGHT;
  if ((seen & required) != required) return 0;
  x->status = status_of(status);
  return ledger_xfer_valid(x);
}

int ledger_xfer_from_request(ledger_xfer *x, json_t *t, const char *const *fields) {
  memset(x, 0, sizeof *x);
  char status[LEDGER_WORD_MAX + 1];
  for (size_t i = 0; fields[i]; i++) {
    json_t *v = json_object_get(t, fields[i]);
    if (v == NULL || json_is_false(v)) continue; /* a record leaves false flags out */
    int m = member_of(fields[i]);
    if (m < 0 || m == M_STATUS || !member_into(x, m, v, status)) return 0;
  }
  return 1;
}

json_t *ledger_xfer_json(const ledger_xfer *x) {
  json_t *o = json_object();
  int bad = o == NULL;
  char num[24];
  for (int m = 0; m < M_COUNT && !bad; m++) {
    json_t *v = NULL;
    switch ((member)m) {
      case M_AMOUNT: v = json_integer((json_int_t)x->amount); break;
      case M_ASSET: v = json_string(x->asset); break;
      case M_BUSINESS: v = x->business[0] ? json_string(x->business) : NULL; break;
      case M_CODE: v = x->has & LEDGER_XFER_CODE ? json_integer((json_int_t)x->code) : NULL; break;
      case M_CONTROLLER: v = x->controller[0] ? json_string(x->controller) : NULL; break;
      case M_CREDIT: v = json_string(x->credit); break;
      case M_DEBIT: v = json_string(x->debit); break;
      case M_EXPIRES:
        v = x->has & LEDGER_XFER_EXPIRES ? json_integer((json_int_t)x->expires_at) : NULL;
        break;
      case M_HEIGHT: v = json_integer((json_int_t)x->height); break;
      case M_ID: v = json_string(x->id); break;
      case M_LINKED: v = x->linked ? json_true() : NULL; break;
      case M_PENDING: v = x->pending ? json_true() : NULL; break;
      case M_POSTED:
        if (x->has & LEDGER_XFER_POSTED) {
          num[hanse_fmt_u64(num, x->posted_amount)] = 0;
          v = json_string(num);
        }
        break;
      case M_REF: v = x->ref[0] ? json_string(x->ref) : NULL; break;
      case M_RESOLVED:
        v = x->has & LEDGER_XFER_RESOLVED ? json_integer((json_int_t)x->resolved_at) : NULL;
        break;
      case M_STATUS: v = json_string(x->status); break;
      case M_TIMEOUT:
        v = x->has & LEDGER_XFER_TIMEOUT ? json_integer((json_int_t)x->timeout) : NULL;
        break;
      case M_TX: v = json_string(x->tx); break;
      case M_COUNT: break;
    }
    int present = m == M_AMOUNT || m == M_ASSET || m == M_CREDIT || m == M_DEBIT ||
                  m == M_HEIGHT || m == M_ID || m == M_STATUS || m == M_TX;
    if (v) bad = json_object_set_new(o, member_names[m], v) != 0;
    else bad = present; /* a required member not made: no memory */
  }
  if (!bad) return o;
  json_decref(o);
  return NULL;
}

/* ---- the stored value ---- */

int ledger_xfer_encode(json_t *rec, char out[LEDGER_XFER_TEXT_MAX], size_t *n) {
  ledger_xfer x;
  if (!ledger_xfer_from_json(&x, rec)) return 0;
  *n = ledger_xfer_format(out, &x);
  return 1;
}

json_t *ledger_xfer_decode(const char *text, size_t n) {
  if (n > 0 && text[0] == '{') return json_loadb(text, n, 0, NULL);
  ledger_xfer x;
  return ledger_xfer_parse(&x, text, n) ? ledger_xfer_json(&x) : NULL;
}

int ledger_key_is_xfer(const char *key) {
  return strncmp(key, LEDGER_XFER_PREFIX, sizeof LEDGER_XFER_PREFIX - 1) == 0;
}

int ledger_xfer_view(hanse_view *v, const char *key, json_t **out) {
  hanse_buf val;
  int found;
  *out = NULL;
  hanse_buf_init(&val);
  int rc = hanse_view_get(v, key, &val, &found);
  if (rc == HANSE_OK && found) {
    *out = ledger_xfer_decode((const char *)val.data, val.len);
    if (*out == NULL) {
      HANSE_ERROR("ledger: %s is not a transfer record", key);
      rc = HANSE_ERR(INTERNAL);
    }
  }
  hanse_buf_free(&val);
  return rc;
}
