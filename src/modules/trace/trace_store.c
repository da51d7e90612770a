/*
 * trace_store.c -- captured events in the world state.
 *
 * Every event gets the next number of the chain's capture sequence (its
 * position in capture order, which is also record-time order: block time
 * never goes back) and these keys, all under "trace/":
 *
 *   trace/next                      next sequence number (decimal)
 *   trace/ev/<id>                   the event's record (JSON, below)
 *   trace/ev/<id>/err               the record of its error declaration
 *   trace/seq/<seq>                 the key of the record with that number
 *   trace/ix/<name>/<vh>/<seq>      "" -- one per indexed value
 *   trace/types/<eventType>         "" -- the event types seen
 *
 * <id> is the hex SHA-256 of the eventID (given, or the computed hash
 * ID), so any eventID -- a hash ID, a urn:uuid -- makes a fixed-size key.
 * <seq> is 16 lowercase hex digits, so keys sort in capture order. <vh>
 * is the first 32 hex digits of the SHA-256 of the indexed value: values
 * are URIs full of '/', and a raw value could be a prefix of another
 * ("…/21/1" of "…/21/12") and so of its keys; hashed, every value is a
 * separate range. The indexes (trace.h, TRACE_IX_*): epc (epcList and
 * childEPCs), parent, input, output, any (all of these), step, disp, rp
 * (readPoint), bl (bizLocation), type, btt (bizTransaction types), org
 * (the capturing signer's organisation, when it has one), anycls (the
 * epcClass of every quantity list) and xform (transformationID): the
 * last two for lineage (trace_lineage.c).
 * Identifiers are indexed in their Digital Link form when they have one
 * (trace_dl.c), so a query by EPC URN finds an event written with a
 * Digital Link URI and the other way round; CBV values as bare words.
 *
 * A record is {"event": <the normalised event, eventID and recordTime
 * filled in>, "class": <data class>, "seq": n, "tx": <capturing tx id>,
 * "signer": <hex public key of its signer>, "org": <the signer's
 * organisation id, or null>, "height": h, "prefixes": {<@context
 * prefixes>}, "declaration": bool}, compact, in this order: the query
 * binding cuts the event's text out of the stored bytes (trace_query.c),
 * so "event" stays first. recordTime is the block's time. The
 * organisation is the one the chain's identity provider (the member
 * module, through the registry, as the policy check asks it) gives the
 * signer at the capturing block: null on a chain without organisations
 * or for a key no organisation holds. It is what a regulator's
 * "all events of one enterprise" query (EQ_enterprise, trace_query.c)
 * finds through the org index, and which enterprise answers for a step.
 *
 * Nothing is edited or deleted. An eventID is captured once
 * (trace.duplicate, 409); the only way to correct an event is its error
 * declaration -- the event restated with an errorDeclaration, which keeps
 * its eventID (the hash ignores errorDeclaration) -- stored beside it at
 * .../err, once. A declaration of an event this chain never captured is
 * stored as the event's record itself (declaration: true); the event can
 * then no longer be captured, it was declared erroneous.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "base/limits.h"
#include "base/log.h"
#include "chain/exec.h"
#include "chain/module.h"
#include "crypto/sign.h"
#include "crypto/hash.h"
#include "encoding/json_real.h"
#include "modules/trace/trace.h"

void trace_ix_key(char *out, size_t n, const char *name, const char *value, const char *seq) {
  char vh[33];
  trace_value_hash(vh, value);
  snprintf(out, n, "trace/ix/%s/%s/%s", name, vh, seq ? seq : "");
}

static int exists(hanse_exec *ex, const char *key, int *found) {
  const uint8_t *v;
  size_t n;
  return hanse_exec_get(ex, key, &v, &n, found);
}

/* 1 if the record at key is a declaration (a declared, never captured
 * event). */
static int record_is_declaration(hanse_exec *ex, const char *key, int *decl) {
  const uint8_t *v;
  size_t n;
  int found;
  int rc = hanse_exec_get(ex, key, &v, &n, &found);
  *decl = 0;
  if (rc != HANSE_OK || !found) return rc;
  json_t *j = json_loadb((const char *)v, n, 0, NULL);
  *decl = json_is_true(json_object_get(j, "declaration"));
  json_decref(j);
  return HANSE_OK;
}

int trace_store_verify(hanse_exec *ex, const trace_doc *d, hanse_reject *rej) {
  for (size_t i = 0; i < d->count; i++) {
    const trace_event *te = &d->events[i];
    char key[128], err[140];
    snprintf(key, sizeof key, "trace/ev/%s", te->key);
    snprintf(err, sizeof err, "%s/err", key);
    /* an earlier event of this document with the same id can only be
     * its original (trace_doc_prepare lets nothing else through); apply
     * then stores this declaration beside it */
    int found = 0, declared = 0, decl_rec = 0, rc;
    if ((rc = exists(ex, key, &found)) != HANSE_OK) return rc;
    if ((rc = exists(ex, err, &declared)) != HANSE_OK) return rc;
    if (found && (rc = record_is_declaration(ex, key, &decl_rec)) != HANSE_OK) return rc;
    if (!te->declaration && found)
      return hanse_reject_code(rej, "trace.duplicate", 409,
                               "event %zu: eventID %.120s is already captured%s", i, te->id,
                               decl_rec ? " (as declared erroneous)" : "");
    if (te->declaration && (declared || decl_rec))
      return hanse_reject_code(rej, "trace.duplicate", 409,
                               "event %zu: eventID %.120s already has an error declaration", i,
                               te->id);
  }
  return HANSE_OK;
}

typedef struct ix_writer {
  hanse_exec *ex;
  const char *seq;
  int rc;
} ix_writer;

static void ix_put(ix_writer *w, const char *name, const char *value) {
  if (w->rc != HANSE_OK || value == NULL || value[0] == 0) return;
  char key[256];
  trace_ix_key(key, sizeof key, name, value, w->seq);
  w->rc = hanse_exec_put(w->ex, key, "", 0);
}

static void ix_ids(ix_writer *w, json_t *list, const char *name) {
  size_t i;
  json_t *e;
  json_array_foreach(list, i, e) {
    char c[TRACE_URI_MAX];
    trace_id_canonical(json_string_value(e), c, sizeof c);
    ix_put(w, name, c);
    ix_put(w, TRACE_IX_ANY, c);
  }
}

/* The epcClass of each entry of a quantity list, into index "anycls". */
static void ix_classes(ix_writer *w, json_t *list) {
  size_t i;
  json_t *q;
  json_array_foreach(list, i, q) {
    const char *cls = json_string_value(json_object_get(q, "epcClass"));
    char c[TRACE_URI_MAX];
    if (cls) ix_put(w, TRACE_IX_ANY_CLASS, trace_id_canonical(cls, c, sizeof c));
  }
}

static int write_indexes(hanse_exec *ex, const char *seq, json_t *ev, const char *org) {
  ix_writer w = {ex, seq, HANSE_OK};
  ix_put(&w, TRACE_IX_ORG, org);
  ix_classes(&w, json_object_get(ev, "quantityList"));
  ix_classes(&w, json_object_get(ev, "childQuantityList"));
  ix_classes(&w, json_object_get(ev, "inputQuantityList"));
  ix_classes(&w, json_object_get(ev, "outputQuantityList"));
  ix_put(&w, TRACE_IX_XFORM, json_string_value(json_object_get(ev, "transformationID")));
  char c[TRACE_URI_MAX];
  ix_ids(&w, json_object_get(ev, "epcList"), TRACE_IX_EPC);
  ix_ids(&w, json_object_get(ev, "childEPCs"), TRACE_IX_EPC);
  ix_ids(&w, json_object_get(ev, "inputEPCList"), TRACE_IX_INPUT);
  ix_ids(&w, json_object_get(ev, "outputEPCList"), TRACE_IX_OUTPUT);
  const char *parent = json_string_value(json_object_get(ev, "parentID"));
  if (parent) {
    trace_id_canonical(parent, c, sizeof c);
    ix_put(&w, TRACE_IX_PARENT, c);
    ix_put(&w, TRACE_IX_ANY, c);
  }
  ix_put(&w, TRACE_IX_STEP, json_string_value(json_object_get(ev, "bizStep")));
  ix_put(&w, TRACE_IX_DISP, json_string_value(json_object_get(ev, "disposition")));
  const char *rp = json_string_value(json_object_get(json_object_get(ev, "readPoint"), "id"));
  if (rp) ix_put(&w, TRACE_IX_RP, trace_id_canonical(rp, c, sizeof c));
  const char *bl = json_string_value(json_object_get(json_object_get(ev, "bizLocation"), "id"));
  if (bl) ix_put(&w, TRACE_IX_BL, trace_id_canonical(bl, c, sizeof c));
  ix_put(&w, TRACE_IX_TYPE, json_string_value(json_object_get(ev, "type")));
  size_t i;
  json_t *bt;
  json_array_foreach(json_object_get(ev, "bizTransactionList"), i, bt)
      ix_put(&w, TRACE_IX_BTT, json_string_value(json_object_get(bt, "type")));
  return w.rc;
}

/* The signer's organisation id into org[n] ("" when none). */
static int signer_org(hanse_exec *ex, const hanse_pubkey *signer, char *org, size_t n) {
  org[0] = 0;
  const hanse_identity *id = hanse_registry_identity();
  if (id == NULL || id->key_org == NULL) return HANSE_OK;
  return id->key_org(ex, signer, org, n);
}

int trace_store_apply(hanse_exec *ex, const char *txid_hex, const trace_doc *d) {
  HANSE_ASSERT(ex->tx != NULL);
  const uint8_t *v;
  size_t n;
  int found;
  char signer[HANSE_HASH_HEX_BYTES], org[HANSE_CHAIN_ID_MAX + 1];
  hanse_pubkey_hex(signer, &ex->tx->signer);
  int rc = signer_org(ex, &ex->tx->signer, org, sizeof org);
  if (rc == HANSE_OK) rc = hanse_exec_get(ex, "trace/next", &v, &n, &found);
  if (rc != HANSE_OK) return rc;
  uint64_t next = 1;
  if (found) {
    char num[24];
    snprintf(num, sizeof num, "%.*s", (int)(n < 23 ? n : 23), (const char *)v);
    next = strtoull(num, NULL, 10);
  }
  char rt[25];
  trace_time_format((int64_t)ex->time_ms, rt);
  for (size_t i = 0; i < d->count && rc == HANSE_OK; i++) {
    const trace_event *te = &d->events[i];
    uint64_t seq = next++;
    char seqhex[17], key[140];
    snprintf(seqhex, sizeof seqhex, "%016" PRIx64, seq);
    snprintf(key, sizeof key, "trace/ev/%s", te->key);
    int have = 0;
    if ((rc = exists(ex, key, &have)) != HANSE_OK) break;
    int decl_only = te->declaration && !have;
    if (te->declaration && have) strcat(key, "/err");
    json_t *ev = json_deep_copy(te->event);
    if (ev == NULL) return HANSE_ERR(NOMEM);
    json_object_set_new(ev, "recordTime", json_string(rt));
    json_t *rec = json_pack("{s:o, s:s, s:I, s:s, s:s, s:o, s:I, s:O, s:b}", "event", ev,
                            "class", te->cls, "seq", (json_int_t)seq, "tx", txid_hex,
                            "signer", signer, "org", org[0] ? json_string(org) : json_null(),
                            "height", (json_int_t)ex->height, "prefixes", d->prefixes,
                            "declaration", decl_only);
    char *text = rec ? hanse_json_dumps_exact(rec, JSON_COMPACT) : NULL;
    json_decref(rec);
    if (text == NULL) return HANSE_ERR(NOMEM);
    rc = hanse_exec_put(ex, key, text, strlen(text));
    free(text);
    char sk[64];
    snprintf(sk, sizeof sk, "trace/seq/%s", seqhex);
    if (rc == HANSE_OK) rc = hanse_exec_put(ex, sk, key, strlen(key));
    if (rc == HANSE_OK) rc = write_indexes(ex, seqhex, te->event, org);
    char tk[96];
    snprintf(tk, sizeof tk, "trace/types/%s",
             json_string_value(json_object_get(te->event, "type")));
    if (rc == HANSE_OK) rc = hanse_exec_put(ex, tk, "", 0);
  }
  if (rc != HANSE_OK) return rc;
  char num[24];
  snprintf(num, sizeof num, "%" PRIu64, next);
  return hanse_exec_put(ex, "trace/next", num, strlen(num));
}
