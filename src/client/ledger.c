/*
 * ledger.c -- confidential ledger amounts on the client's side (see
 * include/hanse/client.h, part 10, and modules/ledger/ledger_conf.c).
 *
 * Making one: a fresh random blinding r, the commitment C = a*G + r*H
 * (crypto/pedersen.c), and the opening {"amount":a,"blinding":hex r}
 * sealed (crypto/confidential.c) to the payer, the payee and every
 * auditor of the chain's policy, under the associated data
 *
 *   "<chain id>/ledger.transfer/<transfer id>"
 *
 * The transfer's id, unique on its chain, binds the opening to one
 * transfer wherever it sits in a batch; an opening copied to another
 * transfer does not open. (The generic payload opener of confidential.c,
 * which binds fields to their path, therefore reports these openings as
 * tampered: read them here.)
 *
 * Auditing: the node keeps, per account and per asset, the sums of the
 * commitments (pending and posted, debit and credit). Whoever opens every
 * transfer behind a sum knows its opening too -- the sum of the amounts
 * and the sum of the blindings -- and checks it against the node's point.
 * That is the only way a wrong amount comes to light: the node cannot see
 * that an opening does not match its commitment, nor that a committed
 * amount is "negative" (a scalar near the group order). An opening is
 * accepted only if its amount is an integer from 1 to 2^63-1 and it opens
 * its commitment exactly; any other transfer is a problem of the report,
 * and the accounts it touched then fail to reconcile as well.
 *
 * Sums are kept twice: as scalars (exact for the check, whatever their
 * size) and as unsigned 64-bit integers for the report, with overflow
 * noted. Blindings and their sums are secrets: wiped before release.
 */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "base/log.h"
#include "client/client_internal.h"
#include "crypto/confidential.h"

#define CONF_ID_MAX 64 /* a ledger transfer id (ledger.h's LEDGER_ID_MAX) */
#define CONF_KIND "ledger.transfer"
#define AD_MAX (HANSE_CHAIN_ID_MAX + sizeof "/" CONF_KIND "/" + CONF_ID_MAX + 1)
#define PAGE_LIMIT "1000"
#define AFTER_MAX 128 /* an index position or account id */
#define FIELDS 4

/* Balance fields in the order of the node's records; a debit side moves
 * fields 0/1, a credit side 2/3, pending before posted. */
static const char *const fields[FIELDS] = {"debits_pending", "debits_posted", "credits_pending",
                                           "credits_posted"};

static int conf_ad(char ad[AD_MAX], const char *chain, json_t *xfer, hanse_reject *rej) {
  if (chain == NULL || strlen(chain) > HANSE_CHAIN_ID_MAX)
    return client_fail(rej, HANSE_ERR(INVALID), "client.bad_chain", "no valid chain id");
  const char *id = json_string_value(json_object_get(xfer, "id"));
  if (id == NULL || strlen(id) < 1 || strlen(id) > CONF_ID_MAX)
    return hanse_reject_code(rej, "ledger.bad_id", 400, "a transfer id has 1-%d characters",
                             CONF_ID_MAX);
  int n = snprintf(ad, AD_MAX, "%s/" CONF_KIND "/%s", chain, id);
  HANSE_ASSERT(n > 0 && (size_t)n < AD_MAX); /* both parts bounded above */
  return HANSE_OK;
}

/* ---- making ------------------------------------------------------------ */

typedef struct keyset {
  hanse_pubkey k[HANSE_CONFIDENTIAL_RECIPIENTS_MAX];
  size_t n;
} keyset;

static int keyset_add(keyset *s, const hanse_pubkey *k, hanse_reject *rej) {
  for (size_t i = 0; i < s->n; i++)
    if (memcmp(s->k[i].b, k->b, sizeof k->b) == 0) return HANSE_OK;
  if (s->n == HANSE_CONFIDENTIAL_RECIPIENTS_MAX)
    return hanse_reject_code(rej, "confidential.bad_recipient", 400,
                             "more than %d recipients", HANSE_CONFIDENTIAL_RECIPIENTS_MAX);
  s->k[s->n++] = *k;
  return HANSE_OK;
}

/* The owner of `account` when it is a key (open chains). */
static int owner_key(hanse_client *c, const char *account, keyset *s, hanse_reject *rej) {
  const char *params[] = {"account", account ? account : "", NULL};
  json_t *a = NULL;
  int rc = hanse_client_query(c, "ledger", "account", params, &a, rej);
  hanse_pubkey k;
  if (rc == HANSE_OK &&
      hanse_pubkey_parse(&k, json_string_value(json_object_get(a, "owner"))) == HANSE_OK)
    rc = keyset_add(s, &k, rej);
  json_decref(a);
  return rc;
}

int hanse_client_ledger_conf_transfer(hanse_client *c, const hanse_keypair *me, json_t *t,
                                      const hanse_pubkey *extra, size_t n,
                                      hanse_reject *rej) {
  HANSE_ASSERT(c != NULL && me != NULL);
  keyset s = {.n = 0};
  int rc = keyset_add(&s, &me->pub, rej);
  for (size_t i = 0; rc == HANSE_OK && i < n; i++) rc = keyset_add(&s, &extra[i], rej);
  json_t *pol = NULL;
  if (rc == HANSE_OK) rc = hanse_client_query(c, "ledger", "confidential", NULL, &pol, rej);
  size_t i;
  json_t *h;
  json_array_foreach(json_object_get(pol, "auditors"), i, h) {
    hanse_pubkey k;
    if (rc != HANSE_OK) break;
    if (hanse_pubkey_parse(&k, json_string_value(h)) != HANSE_OK)
      rc = client_fail(rej, HANSE_ERR(IO), "client.bad_response", "an auditor is not a key");
    else
      rc = keyset_add(&s, &k, rej);
  }
  json_decref(pol);
  if (rc == HANSE_OK)
    rc = owner_key(c, json_string_value(json_object_get(t, "debit")), &s, rej);
  if (rc == HANSE_OK)
    rc = owner_key(c, json_string_value(json_object_get(t, "credit")), &s, rej);
  return rc == HANSE_OK ? hanse_ledger_conf_seal(c->chain_id, t, s.k, s.n, rej) : rc;
}

int hanse_ledger_conf_seal(const char *chain_id, json_t *t, const hanse_pubkey *recipients,
                           size_t n, hanse_reject *rej) {
  json_t *a = json_object_get(t, "amount");
  if (!json_is_integer(a) || json_integer_value(a) < 1)
    return hanse_reject_code(rej, "ledger.bad_amount", 400,
                             "the transfer needs a clear amount from 1 to 2^63-1 to hide");
  char ad[AD_MAX];
  int rc = conf_ad(ad, chain_id, t, rej);
  if (rc != HANSE_OK) return rc;
  hanse_scalar r, as;
  hanse_point cm;
  char rhex[2 * HANSE_SCALAR_BYTES + 1], chex[HANSE_POINT_HEX_BYTES];
  hanse_scalar_random(&r);
  hanse_scalar_from_u64(&as, (uint64_t)json_integer_value(a));
  hanse_pedersen_commit(&cm, &as, &r);
  hanse_hex_encode(rhex, r.b, sizeof r.b);
  json_t *value = json_pack("{s:O, s:s}", "amount", a, "blinding", rhex);
  json_t *field = NULL;
  rc = value ? hanse_confidential_seal(value, ad, recipients, n, &field, rej)
             : hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  json_decref(value);
  sodium_memzero(&r, sizeof r);
  sodium_memzero(rhex, sizeof rhex);
  if (rc != HANSE_OK) return rc;
  json_t *conf = json_pack("{s:s, s:o}", "commitment", hanse_point_hex(chex, &cm), "opening",
                           field);
  if (conf == NULL || json_object_set_new(t, "amount", conf) != 0)
    return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  return HANSE_OK;
}

/* ---- opening ----------------------------------------------------------- */

int hanse_ledger_conf_open(const char *chain_id, json_t *xfer, const hanse_keypair *me,
                           uint64_t *amount, hanse_scalar *blinding, hanse_reject *rej) {
  json_t *amt = json_object_get(xfer, "amount");
  if (!json_is_object(amt))
    return hanse_reject_code(rej, "ledger.not_confidential", 409,
                             "the transfer's amount is clear");
  char ad[AD_MAX];
  int rc = conf_ad(ad, chain_id, xfer, rej);
  if (rc != HANSE_OK) return rc;
  hanse_point cm;
  if (hanse_point_parse(&cm, json_string_value(json_object_get(amt, "commitment"))) != HANSE_OK)
    return hanse_reject_code(rej, "ledger.bad_commitment", 400,
                             "the commitment is not a ristretto255 point");
  json_t *v = NULL;
  rc = hanse_confidential_open(json_object_get(amt, "opening"), ad, me, &v, rej);
  if (rc != HANSE_OK) return rc;
  json_t *a = json_object_get(v, "amount");
  const char *rhex = json_string_value(json_object_get(v, "blinding"));
  hanse_scalar r;
  if (!json_is_integer(a) || json_object_size(v) != 2 || rhex == NULL ||
      hanse_hex_decode_exact(r.b, sizeof r.b, rhex) != HANSE_OK || !hanse_scalar_canonical(&r)) {
    rc = hanse_reject_code(rej, "ledger.bad_opening", 400,
                           "the opening is not {\"amount\":integer,\"blinding\":64-hex scalar}");
  } else if (json_integer_value(a) < 1) {
    /* 2^63 and above do not parse as JSON integers: the lower bound is
     * the one left to check */
    rc = hanse_reject_code(rej, "ledger.amount_range", 400,
                           "the opened amount %" JSON_INTEGER_FORMAT " is not from 1 to 2^63-1",
                           json_integer_value(a));
  } else if (!hanse_pedersen_verify(&cm, (uint64_t)json_integer_value(a), &r)) {
    rc = hanse_reject_code(rej, "ledger.opening_mismatch", 400,
                           "the opening (amount %" JSON_INTEGER_FORMAT
                           ") does not open the commitment",
                           json_integer_value(a));
  } else {
    *amount = (uint64_t)json_integer_value(a);
    *blinding = r;
  }
  sodium_memzero(&r, sizeof r);
  json_decref(v);
  return rc;
}

/* ---- auditing ---------------------------------------------------------- */

/* The opened sums of one account (or of the asset's totals). */
typedef struct sums {
  char id[CONF_ID_MAX + 1];
  uint64_t sum[FIELDS];
  int overflow[FIELDS];
  hanse_scalar a[FIELDS], r[FIELDS];
  size_t unopened; /* transfers counted here that did not open */
} sums;

typedef struct audit {
  hanse_client *c;
  const hanse_keypair *me;
  json_t *slots; /* account id -> index in accs */
  sums *accs;    /* owned */
  size_t n, cap;
  sums totals;
  json_t *problems, *accounts;
  size_t transfers, opened;
  int rc; /* environmental */
} audit;

static void problem(audit *au, const char *what, const char *id, const char *code,
                    const char *msg) {
  json_t *p = json_pack("{s:s, s:s, s:s}", what, id ? id : "", "code", code, "message", msg);
  if (p == NULL || json_array_append_new(au->problems, p) != 0) au->rc = HANSE_ERR(NOMEM);
}

static sums *slot(audit *au, const char *account) {
  json_t *i = json_object_get(au->slots, account);
  if (i) return &au->accs[json_integer_value(i)];
  if (au->n == au->cap) {
    size_t cap = au->cap ? 2 * au->cap : 16;
    sums *m = realloc(au->accs, cap * sizeof *m);
    if (m == NULL) return NULL;
    au->accs = m;
    au->cap = cap;
  }
  sums *s = &au->accs[au->n];
  memset(s, 0, sizeof *s);
  snprintf(s->id, sizeof s->id, "%s", account);
  if (json_object_set_new(au->slots, account, json_integer((json_int_t)au->n)) != 0) return NULL;
  au->n++;
  return s;
}

static void sums_add(sums *s, int f, uint64_t a, const hanse_scalar *r) {
  hanse_scalar as;
  hanse_scalar_from_u64(&as, a);
  hanse_scalar_add(&s->a[f], &s->a[f], &as);
  hanse_scalar_add(&s->r[f], &s->r[f], r);
  if (s->sum[f] > UINT64_MAX - a) s->overflow[f] = 1;
  s->sum[f] += a;
}

/* One transfer record of the listing. */
static void visit(audit *au, json_t *rec) {
  if (!json_is_object(json_object_get(rec, "amount"))) return; /* a clear one */
  au->transfers++;
  const char *id = json_string_value(json_object_get(rec, "id"));
  const char *status = json_string_value(json_object_get(rec, "status"));
  int f = status && strcmp(status, "pending") == 0  ? 0
          : status && strcmp(status, "posted") == 0 ? 1
                                                    : -1; /* voided, expired */
  uint64_t a = 0;
  hanse_scalar r;
  hanse_reject why;
  hanse_reject_clear(&why);
  int rc = hanse_ledger_conf_open(au->c->chain_id, rec, au->me, &a, &r, &why);
  if (rc == HANSE_ERR(NOMEM)) {
    au->rc = rc;
    return;
  }
  if (rc == HANSE_OK) au->opened++;
  else problem(au, "transfer", id, why.code, why.message);
  const char *side[2] = {json_string_value(json_object_get(rec, "debit")),
                         json_string_value(json_object_get(rec, "credit"))};
  for (int k = 0; f >= 0 && k < 2; k++) {
    sums *s = slot(au, side[k] ? side[k] : "");
    if (s == NULL) {
      au->rc = HANSE_ERR(NOMEM);
      break;
    }
    if (rc == HANSE_OK) {
      sums_add(s, 2 * k + f, a, &r);
      sums_add(&au->totals, 2 * k + f, a, &r);
    } else {
      s->unopened++;
      au->totals.unopened++;
    }
  }
  sodium_memzero(&r, sizeof r);
}

/* Every page of a ledger list query of transfers. */
static int each_transfer(audit *au, const char *name, const char *pkey, const char *pval,
                         hanse_reject *rej) {
  char after[AFTER_MAX] = "";
  for (;;) {
    const char *params[] = {pkey, pval, "limit", PAGE_LIMIT, after[0] ? "after" : NULL, after,
                            NULL};
    json_t *page = NULL;
    int rc = hanse_client_query(au->c, "ledger", name, params, &page, rej);
    if (rc != HANSE_OK) return rc;
    json_t *list = json_object_get(page, "transfers");
    if (!json_is_array(list)) {
      json_decref(page);
      return client_fail(rej, HANSE_ERR(IO), "client.bad_response",
                         "the %s answer has no \"transfers\"", name);
    }
    size_t i;
    json_t *rec;
    json_array_foreach(list, i, rec) {
      if (au->rc == HANSE_OK) visit(au, rec);
    }
    const char *next = json_string_value(json_object_get(page, "next"));
    int more = next && strlen(next) < sizeof after;
    if (more) snprintf(after, sizeof after, "%s", next);
    json_decref(page);
    if (au->rc != HANSE_OK) return hanse_reject_set(rej, au->rc, NULL);
    if (!more) return HANSE_OK;
  }
}

/* Compare the node's record (an account or totals) with the opened sums:
 * 1 if every commitment balance is the commitment of its opened sums. */
static int reconcile(audit *au, const char *what, json_t *rec, const sums *s, json_t *entry) {
  json_t *cs = json_object_get(rec, "commitments");
  int ok = 1;
  for (int f = 0; f < FIELDS; f++) {
    hanse_point have, want;
    const char *h = json_string_value(json_object_get(cs, fields[f]));
    if (h == NULL) hanse_point_identity(&have);
    int parsed = h == NULL || hanse_point_parse(&have, h) == HANSE_OK;
    hanse_pedersen_commit(&want, &s->a[f], &s->r[f]);
    char msg[HANSE_REJECT_MSG_MAX];
    if (!parsed || memcmp(have.b, want.b, sizeof want.b) != 0) {
      snprintf(msg, sizeof msg,
               "%s: the node's commitment balance is not the sum of the opened transfers "
               "(%zu counted here did not open)",
               fields[f], s->unopened);
      problem(au, what, s->id, "ledger.balance_mismatch", msg);
      ok = 0;
    } else if (s->overflow[f]) {
      snprintf(msg, sizeof msg, "%s: the opened amounts sum beyond 2^64-1", fields[f]);
      problem(au, what, s->id, "ledger.sum_overflow", msg);
      ok = 0;
    }
    if (entry == NULL) continue;
    const char *clear = json_string_value(json_object_get(rec, fields[f]));
    uint64_t c = clear ? strtoull(clear, NULL, 10) : 0, total = c + s->sum[f];
    char num[24];
    snprintf(num, sizeof num, "%" PRIu64, total < c ? UINT64_MAX : total);
    json_object_set_new(entry, fields[f], json_string(num));
  }
  return ok;
}

static int check_account(audit *au, const sums *s, hanse_reject *rej) {
  const char *params[] = {"account", s->id, NULL};
  json_t *rec = NULL;
  int rc = hanse_client_query(au->c, "ledger", "account", params, &rec, rej);
  if (rc != HANSE_OK) return rc;
  json_t *entry = json_pack("{s:s, s:O?}", "account", s->id, "owner",
                            json_object_get(rec, "owner"));
  if (entry == NULL || json_array_append_new(au->accounts, entry) != 0) {
    json_decref(rec);
    return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  }
  json_object_set_new(entry, "ok", json_boolean(reconcile(au, "account", rec, s, entry)));
  json_decref(rec);
  return au->rc == HANSE_OK ? HANSE_OK : hanse_reject_set(rej, au->rc, NULL);
}

static int audit_run(audit *au, const char *asset, const char *account, hanse_reject *rej) {
  int rc = asset ? each_transfer(au, "confidential_transfers", "asset", asset, rej)
                 : each_transfer(au, "transfers", "account", account, rej);
  if (rc != HANSE_OK) return rc;
  if (account) {
    sums *s = slot(au, account); /* also when no confidential transfer touched it */
    return s ? check_account(au, s, rej) : hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  }
  for (size_t i = 0; i < au->n && rc == HANSE_OK; i++) rc = check_account(au, &au->accs[i], rej);
  if (rc != HANSE_OK || au->transfers == 0) return rc;
  const char *params[] = {"asset", asset, NULL};
  json_t *t = NULL;
  rc = hanse_client_query(au->c, "ledger", "totals", params, &t, rej);
  snprintf(au->totals.id, sizeof au->totals.id, "%s", asset);
  if (rc == HANSE_OK) reconcile(au, "totals", t, &au->totals, NULL);
  json_decref(t);
  return rc == HANSE_OK && au->rc != HANSE_OK ? hanse_reject_set(rej, au->rc, NULL) : rc;
}

int hanse_client_ledger_audit(hanse_client *c, const char *asset, const char *account,
                              const hanse_keypair *me, json_t **report, hanse_reject *rej) {
  HANSE_ASSERT(c != NULL && me != NULL && report != NULL);
  *report = NULL;
  if ((asset == NULL) == (account == NULL))
    return client_fail(rej, HANSE_ERR(INVALID), "client.bad_op",
                       "an audit is of one asset or of one account");
  audit au;
  memset(&au, 0, sizeof au);
  au.c = c;
  au.me = me;
  au.slots = json_object();
  au.problems = json_array();
  au.accounts = json_array();
  int rc = au.slots && au.problems && au.accounts ? audit_run(&au, asset, account, rej)
                                                  : hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  if (rc == HANSE_OK) {
    *report = json_pack("{s:s, s:I, s:I, s:O, s:O, s:b}", asset ? "asset" : "account",
                        asset ? asset : account, "transfers", (json_int_t)au.transfers,
                        "opened", (json_int_t)au.opened, "accounts", au.accounts, "problems",
                        au.problems, "ok", json_array_size(au.problems) == 0);
    if (*report == NULL) rc = hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  }
  if (au.accs) sodium_memzero(au.accs, au.cap * sizeof *au.accs);
  sodium_memzero(&au.totals, sizeof au.totals);
  free(au.accs);
  json_decref(au.slots);
  json_decref(au.problems);
  json_decref(au.accounts);
  return rc;
}
