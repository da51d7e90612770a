/*
 * confidential.c -- sealing payload fields before they are signed, and
 * opening them after they are read (see include/hanse/client.h, part 6).
 *
 * The cryptography is crypto/confidential.c's; this file knows where
 * fields sit in a transaction. A field is found by its path in the
 * payload, "meta.price": member names, or decimal indices inside arrays,
 * joined by '.'. The associated data of a field is always
 *
 *   "<chain id>/<kind>/<path>"
 *
 * taken from the transaction itself -- when opening, from the raw bytes
 * the node returned, never from its decoded copy -- so a ciphertext moved
 * to another field, kind or chain fails to open.
 *
 * Opening walks the whole payload: every object with an "enc" member is a
 * field (the rule the modules' checks apply). Each is opened with my entry
 * in its recipient list or, failing that, with a grant (modules/seal) made
 * to my key for this transaction and path. A field that opens is replaced
 * by its value in a copy of the payload; one that does not stays sealed
 * and is listed with the reason, so a caller can say "not a recipient"
 * rather than fail. Nothing here decides validity: a chain accepts fields
 * it cannot open, and so does this reader.
 *
 * Secrets: the caller's key pair is borrowed and never copied; field keys
 * live and die inside crypto/confidential.c. Opened values are ordinary
 * jansson values owned by the caller.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/hex.h"
#include "base/log.h"
#include "client/client_internal.h"
#include "crypto/confidential.h"

/* "<chain>/<kind>/<path>" and its NUL. */
#define AD_MAX (HANSE_CHAIN_ID_MAX + 1 + HANSE_KIND_MAX + 1 + HANSE_CONFIDENTIAL_PATH_MAX + 1)
/* A path met while walking a payload may be longer than a valid one (it is
 * opened all the same if it fits here; a sealer using this client never
 * makes one). */
#define WALK_PATH_MAX (2 * HANSE_CONFIDENTIAL_PATH_MAX)
/* Payloads nest at most 16 deep on chain; a guard for anything else. */
#define WALK_DEPTH_MAX 32
/* The page size asked of the grants query (its maximum). */
#define GRANTS_PAGE 1000

static void make_ad(char ad[AD_MAX], const char *chain, const char *kind, const char *path) {
  int n = snprintf(ad, AD_MAX, "%s/%s/%s", chain, kind, path);
  HANSE_ASSERT(n > 0 && n < AD_MAX); /* callers bound all three parts */
}

/* ---- paths ----------------------------------------------------------- */

/* The value at `path` in root (borrowed), its container in *parent and
 * the last segment in last[] (room for the path); NULL if there is none. */
static json_t *path_resolve(json_t *root, const char *path, json_t **parent,
                            char last[HANSE_CONFIDENTIAL_PATH_MAX + 1]) {
  char buf[HANSE_CONFIDENTIAL_PATH_MAX + 1];
  snprintf(buf, sizeof buf, "%s", path);
  json_t *cur = root, *up = NULL;
  char *save = NULL;
  for (char *seg = strtok_r(buf, ".", &save); seg; seg = strtok_r(NULL, ".", &save)) {
    up = cur;
    snprintf(last, HANSE_CONFIDENTIAL_PATH_MAX + 1, "%s", seg);
    if (json_is_object(cur)) {
      cur = json_object_get(cur, seg);
    } else if (json_is_array(cur) && strspn(seg, "0123456789") == strlen(seg)) {
      cur = strlen(seg) > 9 ? NULL : json_array_get(cur, strtoul(seg, NULL, 10));
    } else {
      cur = NULL;
    }
    if (cur == NULL) return NULL;
  }
  *parent = up;
  return cur;
}

/* Put `v` (stolen) in place of the value named `seg` in `parent`. */
static int path_replace(json_t *parent, const char *seg, json_t *v) {
  if (json_is_object(parent)) return json_object_set_new(parent, seg, v) == 0 ? 0 : -1;
  return json_array_set_new(parent, strtoul(seg, NULL, 10), v) == 0 ? 0 : -1;
}

/* ---- sealing --------------------------------------------------------- */

int hanse_client_seal_field(const hanse_client *c, const char *kind,
                            json_t *payload, const char *path,
                            const hanse_pubkey *recipients, size_t n,
                            hanse_reject *rej) {
  HANSE_ASSERT(c != NULL);
  if (kind == NULL || !hanse_kind_valid(kind, strlen(kind)) || !json_is_object(payload))
    return client_fail(rej, HANSE_ERR(INVALID), "client.bad_op",
                       "sealing needs a kind (module.action) and a JSON object payload");
  if (!hanse_confidential_path_valid(path))
    return client_fail(rej, HANSE_ERR(INVALID), "client.bad_path",
                       "a field path is segments of [A-Za-z0-9_-] joined by '.', at most %d "
                       "bytes, e.g. meta.price",
                       HANSE_CONFIDENTIAL_PATH_MAX);
  json_t *parent = NULL;
  char last[HANSE_CONFIDENTIAL_PATH_MAX + 1];
  json_t *value = path_resolve(payload, path, &parent, last);
  if (value == NULL)
    return client_fail(rej, HANSE_ERR(INVALID), "client.bad_path",
                       "the payload has no value at %s", path);
  if (hanse_confidential_is_field(value))
    return client_fail(rej, HANSE_ERR(INVALID), "client.bad_path",
                       "the value at %s is already sealed", path);
  char ad[AD_MAX];
  make_ad(ad, c->chain_id, kind, path);
  json_t *field = NULL;
  int rc = hanse_confidential_seal(value, ad, recipients, n, &field, rej);
  if (rc != HANSE_OK) {
    hanse_reject_prefix(rej, "%s", path);
    return rc;
  }
  if (path_replace(parent, last, field) != 0)
    return hanse_reject_set(rej, HANSE_ERR(NOMEM), "cannot replace %s", path);
  return HANSE_OK;
}

/* ---- grants ---------------------------------------------------------- */

/* The grants made to the client's own key on transaction `hex` (the
 * seal module's self query "mine"), every page. */
static int grants_mine(hanse_client *c, const char *hex, json_t **grants, hanse_reject *rej) {
  char me[HANSE_HASH_HEX_BYTES], limit[16];
  char after[HANSE_HASH_HEX_BYTES + 1 + HANSE_CONFIDENTIAL_PATH_MAX + 1] = "";
  hanse_pubkey_hex(me, &c->signer->pub);
  snprintf(limit, sizeof limit, "%d", GRANTS_PAGE);
  json_t *all = json_array();
  if (all == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  for (;;) {
    const char *params[] = {"key", me, "tx", hex, "limit", limit,
                            after[0] ? "after" : NULL, after, NULL};
    json_t *page = NULL;
    int rc = hanse_client_query(c, "seal", "mine", params, &page, rej);
    if (rc != HANSE_OK) {
      json_decref(all);
      return rc;
    }
    json_t *list = json_object_get(page, "grants");
    size_t n = json_array_size(list);
    json_t *lastg = json_array_get(list, n ? n - 1 : 0);
    const char *f = json_string_value(json_object_get(lastg, "field"));
    int more = n == GRANTS_PAGE && f;
    if (more) snprintf(after, sizeof after, "%s/%s", hex, f);
    rc = json_is_array(list) && json_array_extend(all, list) == 0 ? HANSE_OK : HANSE_ERR(IO);
    json_decref(page);
    if (rc != HANSE_OK) {
      json_decref(all);
      return client_fail(rej, rc, "client.bad_response", "grants answer from %s is not a list",
                         c->base);
    }
    if (!more) break;
  }
  *grants = all;
  return HANSE_OK;
}

int hanse_client_grants_get(hanse_client *c, const hanse_hash *tx_id,
                            json_t **grants, hanse_reject *rej) {
  *grants = NULL;
  char hex[HANSE_HASH_HEX_BYTES], limit[16];
  char after[HANSE_CONFIDENTIAL_PATH_MAX + 1 + HANSE_HASH_HEX_BYTES] = "";
  hanse_hash_hex(hex, tx_id);
  snprintf(limit, sizeof limit, "%d", GRANTS_PAGE);
  json_t *all = json_array();
  if (all == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  for (;;) {
    const char *params[] = {"tx", hex, "limit", limit, after[0] ? "after" : NULL, after, NULL};
    json_t *page = NULL;
    int rc = hanse_client_query(c, "seal", "grants", params, &page, rej);
    if (rc != HANSE_OK && rej && (rej->status == 401 || rej->status == 403) &&
        c->signer != NULL) {
      /* The read policy hides the grants of others: ask for ours. */
      json_decref(all);
      return grants_mine(c, hex, grants, rej);
    }
    if (rc != HANSE_OK) {
      json_decref(all);
      return rc;
    }
    json_t *list = json_object_get(page, "grants");
    if (!json_is_array(list)) {
      json_decref(page);
      json_decref(all);
      return client_fail(rej, HANSE_ERR(IO), "client.bad_response",
                         "grants answer from %s has no \"grants\" array", c->base);
    }
    size_t n = json_array_size(list);
    json_t *lastg = json_array_get(list, n ? n - 1 : 0);
    const char *f = json_string_value(json_object_get(lastg, "field"));
    const char *r = json_string_value(json_object_get(lastg, "recipient"));
    int more = n == GRANTS_PAGE && f && r;
    if (more) snprintf(after, sizeof after, "%s/%s", f, r);
    rc = json_array_extend(all, list) == 0 ? HANSE_OK : HANSE_ERR(NOMEM);
    json_decref(page);
    if (rc != HANSE_OK) {
      json_decref(all);
      return hanse_reject_set(rej, rc, NULL);
    }
    if (!more) break;
  }
  *grants = all;
  return HANSE_OK;
}

/* The "sealed" string of the grant in `grants` for (tx, path, key), or
 * NULL. Records are written in lowercase hex; compare without case all
 * the same, the list came over the network. */
static json_t *grant_for(json_t *grants, const char *tx, const char *path, const char *key) {
  size_t i;
  json_t *g;
  json_array_foreach(grants, i, g) {
    const char *gt = json_string_value(json_object_get(g, "tx"));
    const char *gf = json_string_value(json_object_get(g, "field"));
    const char *gr = json_string_value(json_object_get(g, "recipient"));
    if (gt && gf && gr && strcasecmp(gt, tx) == 0 && strcmp(gf, path) == 0 &&
        strcasecmp(gr, key) == 0)
      return json_object_get(g, "sealed");
  }
  return NULL;
}

/* ---- the transaction in an answer ------------------------------------ */

typedef struct doc_tx {
  uint8_t *raw; /* owned */
  size_t raw_len;
  hanse_tx tx;  /* borrows raw */
  char id[HANSE_HASH_HEX_BYTES];
  json_t *payload; /* owned */
} doc_tx;

static void doc_tx_free(doc_tx *d) {
  free(d->raw);
  json_decref(d->payload);
  memset(d, 0, sizeof *d);
}

/* Decode the raw transaction of a tx_get answer. */
static int doc_tx_load(const hanse_client *c, json_t *doc, doc_tx *d, hanse_reject *rej) {
  memset(d, 0, sizeof *d);
  const char *hex = json_string_value(json_object_get(doc, "raw"));
  const char *status = json_string_value(json_object_get(doc, "status"));
  if (hex == NULL && status && strcmp(status, "pending") == 0)
    return client_fail(rej, HANSE_ERR(INVALID), "client.pending",
                       "the transaction is not committed yet: its payload is not served");
  if (hex == NULL || hanse_hex_decode_alloc(hex, strlen(hex), &d->raw, &d->raw_len) != HANSE_OK)
    return client_fail(rej, HANSE_ERR(IO), "client.bad_response",
                       "the transaction answer has no \"raw\" hex");
  int batched = json_is_true(json_object_get(json_object_get(doc, "tx"), "batched"));
  hanse_reject why;
  hanse_reject_clear(&why);
  if (hanse_tx_decode(&d->tx, d->raw, d->raw_len, batched, &why) != HANSE_OK) {
    doc_tx_free(d);
    return client_fail(rej, HANSE_ERR(IO), "client.bad_response",
                       "the raw transaction does not decode: %s", why.message);
  }
  if (strcmp(d->tx.chain_id, c->chain_id) != 0) {
    int rc = client_fail(rej, HANSE_ERR(IO), "client.bad_response",
                         "the transaction is for chain '%s', not '%s'", d->tx.chain_id,
                         c->chain_id);
    doc_tx_free(d);
    return rc;
  }
  hanse_hash_hex(d->id, &d->tx.id);
  json_error_t err;
  d->payload = json_loadb((const char *)d->tx.payload, d->tx.payload_len,
                          JSON_REJECT_DUPLICATES, &err);
  if (!json_is_object(d->payload)) {
    doc_tx_free(d);
    return client_fail(rej, HANSE_ERR(IO), "client.bad_response",
                       "the transaction's payload is not a JSON object");
  }
  return HANSE_OK;
}

/* ---- opening --------------------------------------------------------- */

typedef struct open_ctx {
  const doc_tx *d;
  json_t *grants;
  const hanse_keypair *me;
  char me_hex[HANSE_HASH_HEX_BYTES];
  json_t *unopened;
  char path[WALK_PATH_MAX + 1];
  int overflow; /* the path did not fit */
  int rc;       /* an environmental failure (memory) */
} open_ctx;

/* Note a field left sealed. */
static void note_unopened(open_ctx *o, const hanse_reject *r) {
  json_t *e = json_pack("{s:s, s:s, s:s}", "field", o->path, "code", r->code, "message",
                        r->message);
  if (e == NULL || json_array_append_new(o->unopened, e) != 0) o->rc = HANSE_ERR(NOMEM);
}

/* Open one field: its value (new reference), or NULL with the reason
 * noted. */
static json_t *open_one(open_ctx *o, json_t *field) {
  hanse_reject r, rg;
  hanse_reject_clear(&r);
  hanse_reject_clear(&rg);
  if (o->overflow || strlen(o->path) > HANSE_CONFIDENTIAL_PATH_MAX) {
    client_fail(&r, HANSE_ERR(INVALID), "client.bad_path", "the field's path is too long");
    note_unopened(o, &r);
    return NULL;
  }
  char ad[AD_MAX];
  make_ad(ad, o->d->tx.chain_id, o->d->tx.kind, o->path);
  json_t *v = NULL;
  int rc = hanse_confidential_open(field, ad, o->me, &v, &r);
  if (rc == HANSE_OK) return v;
  if (rc == HANSE_ERR(NOMEM)) {
    o->rc = rc;
    return NULL;
  }
  json_t *sealed = grant_for(o->grants, o->d->id, o->path, o->me_hex);
  if (sealed != NULL) {
    rc = hanse_confidential_open_sealed(field, ad, o->me, sealed, &v, &rg);
    if (rc == HANSE_OK) return v;
    if (rc == HANSE_ERR(NOMEM)) {
      o->rc = rc;
      return NULL;
    }
    /* Not listed: the grant's failure is the news. */
    if (strcmp(r.code, "confidential.not_recipient") == 0) r = rg;
  }
  note_unopened(o, &r);
  return NULL;
}

static void open_walk(open_ctx *o, json_t *node, int depth);

/* Visit the child `v` named `seg` of `node`: open it if it is a field
 * (replacing it in node), else descend. */
static void open_child(open_ctx *o, json_t *node, const char *seg, json_t *v, int depth) {
  size_t old = strlen(o->path);
  int n = snprintf(o->path + old, sizeof o->path - old, "%s%s", old ? "." : "", seg);
  int overflowed = o->overflow;
  if (n < 0 || (size_t)n >= sizeof o->path - old) o->overflow = 1;
  if (hanse_confidential_is_field(v)) {
    json_t *value = open_one(o, v);
    if (value != NULL && path_replace(node, seg, value) != 0) o->rc = HANSE_ERR(NOMEM);
  } else {
    open_walk(o, v, depth + 1);
  }
  o->path[old] = 0;
  o->overflow = overflowed;
}

static void open_walk(open_ctx *o, json_t *node, int depth) {
  if (depth > WALK_DEPTH_MAX || o->rc != HANSE_OK) return;
  if (json_is_object(node)) {
    const char *k;
    json_t *v;
    /* Replacing a member's value keeps the object's keys and order. */
    json_object_foreach(node, k, v) {
      open_child(o, node, k, v, depth);
      if (o->rc != HANSE_OK) return;
    }
  } else if (json_is_array(node)) {
    for (size_t i = 0; i < json_array_size(node); i++) {
      char seg[24];
      snprintf(seg, sizeof seg, "%zu", i);
      open_child(o, node, seg, json_array_get(node, i), depth);
      if (o->rc != HANSE_OK) return;
    }
  }
}

int hanse_client_tx_open(const hanse_client *c, json_t *tx_doc, json_t *grants,
                         const hanse_keypair *me, json_t **payload_out,
                         json_t **unopened_out, hanse_reject *rej) {
  HANSE_ASSERT(c != NULL && me != NULL && payload_out != NULL && unopened_out != NULL);
  *payload_out = NULL;
  *unopened_out = NULL;
  doc_tx d;
  int rc = doc_tx_load(c, tx_doc, &d, rej);
  if (rc != HANSE_OK) return rc;
  open_ctx o;
  memset(&o, 0, sizeof o);
  o.d = &d;
  o.grants = grants;
  o.me = me;
  hanse_pubkey_hex(o.me_hex, &me->pub);
  o.unopened = json_array();
  if (o.unopened == NULL) {
    doc_tx_free(&d);
    return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  }
  open_walk(&o, d.payload, 0);
  if (o.rc != HANSE_OK) {
    json_decref(o.unopened);
    doc_tx_free(&d);
    return hanse_reject_set(rej, o.rc, "out of memory opening the payload");
  }
  *payload_out = json_incref(d.payload);
  *unopened_out = o.unopened;
  doc_tx_free(&d);
  return HANSE_OK;
}

/* ---- granting -------------------------------------------------------- */

int hanse_client_grant_build(const hanse_client *c, json_t *tx_doc,
                             json_t *grants, const char *path,
                             const hanse_keypair *me,
                             const hanse_pubkey *recipient,
                             json_t **payload_out, hanse_reject *rej) {
  HANSE_ASSERT(c != NULL && me != NULL && recipient != NULL && payload_out != NULL);
  *payload_out = NULL;
  if (!hanse_confidential_path_valid(path))
    return client_fail(rej, HANSE_ERR(INVALID), "client.bad_path",
                       "a field path is segments of [A-Za-z0-9_-] joined by '.', e.g. "
                       "meta.price");
  doc_tx d;
  int rc = doc_tx_load(c, tx_doc, &d, rej);
  if (rc != HANSE_OK) return rc;
  char to_hex[HANSE_HASH_HEX_BYTES], me_hex[HANSE_HASH_HEX_BYTES];
  hanse_pubkey_hex(to_hex, recipient);
  hanse_pubkey_hex(me_hex, &me->pub);
  json_t *parent = NULL, *sealed = NULL;
  char last[HANSE_CONFIDENTIAL_PATH_MAX + 1], ad[AD_MAX];
  json_t *field = path_resolve(d.payload, path, &parent, last);
  if (!hanse_confidential_is_field(field)) {
    rc = client_fail(rej, HANSE_ERR(INVALID), "client.bad_path",
                     "transaction %.16s has no sealed field at %s", d.id, path);
    goto out;
  }
  if (grant_for(grants, d.id, path, to_hex) != NULL) {
    rc = hanse_reject_code(rej, "seal.exists", 409,
                           "this recipient already holds a grant for %s", path);
    goto out;
  }
  make_ad(ad, d.tx.chain_id, d.tx.kind, path);
  hanse_reject r;
  hanse_reject_clear(&r);
  rc = hanse_confidential_reseal(field, ad, me, NULL, recipient, &sealed, &r);
  json_t *mine = grant_for(grants, d.id, path, me_hex);
  if (rc == HANSE_ERR(INVALID) && strcmp(r.code, "confidential.not_recipient") == 0 && mine)
    rc = hanse_confidential_reseal(field, ad, me, mine, recipient, &sealed, &r);
  if (rc != HANSE_OK) {
    if (rej) *rej = r;
    hanse_reject_prefix(rej, "%s", path);
    goto out;
  }
  *payload_out = json_pack("{s:s, s:s, s:s, s:o}", "tx", d.id, "field", path, "recipient",
                           to_hex, "sealed", sealed);
  sealed = NULL; /* json_pack's "o" took it, even on failure */
  json_t *cls = json_object_get(d.payload, "class");
  if (*payload_out && json_is_string(cls) &&
      json_object_set(*payload_out, "class", cls) != 0) {
    json_decref(*payload_out);
    *payload_out = NULL;
  }
  if (*payload_out == NULL) rc = hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
out:
  json_decref(sealed);
  doc_tx_free(&d);
  return rc;
}
