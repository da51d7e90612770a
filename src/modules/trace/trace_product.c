/*
 * trace_product.c -- reading published records (trace_publish.c).
 *
 * Three queries, none listed in the module's table: the API reaches them
 * through its own routes, which decide who may ask (api/res_epcis.c,
 * api/res_products.c).
 *
 *   epcis.publication  on the alliance: the entries a publication of the
 *       identifiers in "epc" (pipe-delimited: the item first, then any
 *       lineage items the publisher adds) would carry -- every captured
 *       event naming one of them (index "any"), of a class the caller may
 *       read ("readable", set by the API) and the publication policy
 *       allows, not declared erroneous -- exactly as send_verify will
 *       recompute them; and "skipped": [{"eventID","reason"}] for the
 *       events left out.
 *   trace.product      on the open chain: everything published about one
 *       product -- entries in event-time order, the publications, the
 *       responsible enterprises, complaints with their answers.
 *   trace.purchases    on the open chain: the products whose publications
 *       name the buyer "buyer" (hex SHA-256 of a public key); the API
 *       asks it only for the key that signed the request.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/exec.h"
#include "crypto/hash.h"
#include "modules/trace/trace.h"

/* Events one draft may hold: a product with its whole lineage. */
#define TRACE_DRAFT_MAX 1000
/* Identifiers one draft may name. */
#define TRACE_DRAFT_IDS_MAX 64

static int view_text(hanse_view *v, const char *key, char *out, size_t n, int *found) {
  hanse_buf b;
  hanse_buf_init(&b);
  *found = 0;
  int rc = hanse_view_get(v, key, &b, found);
  if (rc == HANSE_OK && *found) snprintf(out, n, "%.*s", (int)b.len, (const char *)b.data);
  hanse_buf_free(&b);
  return rc;
}

/* ---- the draft (alliance) ------------------------------------------------ */

typedef struct draft {
  hanse_view *v;
  json_t *readable, *policy;
  json_t *entries, *skipped;
  json_t *seen;   /* eventID -> true */
  json_t *names;  /* org -> name */
  int rc;
} draft;

static int readable(json_t *r, const char *cls) {
  size_t i;
  json_t *c;
  json_array_foreach(r, i, c) if (cls && strcmp(json_string_value(c), cls) == 0) return 1;
  return 0;
}

static json_t *org_name(draft *d, json_t *org) {
  const char *id = json_string_value(org);
  if (id == NULL) return NULL;
  json_t *name = json_object_get(d->names, id);
  if (name) return name;
  char key[96];
  snprintf(key, sizeof key, "org/%.64s", id);
  json_t *o = NULL;
  d->rc = hanse_view_get_json(d->v, key, &o);
  name = json_object_get(o, "name");
  json_object_set(d->names, id, name ? name : json_null());
  json_decref(o);
  return json_object_get(d->names, id);
}

static void skip(draft *d, const char *id, const char *reason) {
  json_array_append_new(d->skipped, json_pack("{s:s, s:s}", "eventID", id, "reason", reason));
}

static int draft_visit(void *ctx, const uint8_t *k, size_t kl, const uint8_t *val, size_t vl) {
  (void)val;
  (void)vl;
  draft *d = ctx;
  if (kl < 16) return 0;
  if (json_array_size(d->entries) + json_array_size(d->skipped) >= TRACE_DRAFT_MAX) return 1;
  char sk[64], key[TRACE_KEY_MAX + 8];
  snprintf(sk, sizeof sk, "trace/seq/%.16s", (const char *)k + kl - 16);
  int found;
  if ((d->rc = view_text(d->v, sk, key, sizeof key, &found)) != HANSE_OK) return 1;
  size_t n = strlen(key);
  if (!found || (n > 4 && strcmp(key + n - 4, "/err") == 0)) return 0; /* declarations: below */
  json_t *rec = NULL;
  if ((d->rc = hanse_view_get_json(d->v, key, &rec)) != HANSE_OK) return 1;
  json_t *ev = json_object_get(rec, "event");
  const char *id = json_string_value(json_object_get(ev, "eventID"));
  const char *cls = json_string_value(json_object_get(rec, "class"));
  if (id == NULL || json_object_get(d->seen, id)) {
    json_decref(rec);
    return 0;
  }
  json_object_set(d->seen, id, json_true());
  char err[TRACE_KEY_MAX + 12]; /* key (at most TRACE_KEY_MAX + 7) and "/err" */
  snprintf(err, sizeof err, "%s/err", key);
  hanse_buf b;
  hanse_buf_init(&b);
  int declared = 0;
  d->rc = hanse_view_get(d->v, err, &b, &declared);
  hanse_buf_free(&b);
  if (d->rc != HANSE_OK) {
    json_decref(rec);
    return 1;
  }
  if (!readable(d->readable, cls)) {
    /* not even named: the caller may not know it exists */
  } else if (declared || json_is_true(json_object_get(rec, "declaration"))) {
    skip(d, id, "declared erroneous");
  } else {
    json_t *entry = NULL;
    hanse_reject rej;
    hanse_reject_clear(&rej);
    json_t *name = org_name(d, json_object_get(rec, "org"));
    int rc = d->rc == HANSE_OK ? trace_publication_entry(rec, d->policy, name, &entry, &rej)
                               : d->rc;
    if (rc == HANSE_OK) json_array_append_new(d->entries, entry);
    else if (rc == HANSE_ERR(INVALID)) skip(d, id, rej.code[0] ? rej.code : "not publishable");
    else d->rc = rc;
  }
  json_decref(rec);
  return d->rc != HANSE_OK;
}

int trace_query_publication(hanse_view *v, json_t *params, json_t **result, hanse_reject *rej) {
  *result = NULL;
  const char *epcs = json_string_value(json_object_get(params, "epc"));
  if (epcs == NULL || epcs[0] == 0)
    return hanse_reject_code(rej, "trace.bad_query", 400,
                             "epc is required: the item's identifier, then any lineage items, "
                             "'|'-delimited");
  json_t *g = NULL;
  int rc = hanse_view_get_json(v, "genesis", &g);
  if (rc != HANSE_OK) return hanse_reject_set(rej, rc, "cannot read the genesis");
  draft d = {v,           json_object_get(params, "readable"), trace_publication_policy(g),
             json_array(), json_array(), json_object(), json_object(), HANSE_OK};
  json_decref(g);
  char product[TRACE_URI_MAX] = "";
  size_t count = 0;
  const char *p = epcs;
  while (rc == HANSE_OK && d.rc == HANSE_OK && *p) {
    const char *bar = strchr(p, '|');
    size_t n = bar ? (size_t)(bar - p) : strlen(p);
    char raw[TRACE_URI_MAX], c[TRACE_URI_MAX], prefix[200];
    if (n == 0 || n >= sizeof raw || ++count > TRACE_DRAFT_IDS_MAX) {
      rc = hanse_reject_code(rej, "trace.bad_query", 400,
                             "epc: 1 to %d identifiers of at most %d bytes",
                             TRACE_DRAFT_IDS_MAX, TRACE_URI_MAX - 1);
      break;
    }
    memcpy(raw, p, n);
    raw[n] = 0;
    trace_id_canonical(raw, c, sizeof c);
    if (product[0] == 0) snprintf(product, sizeof product, "%s", c);
    trace_ix_key(prefix, sizeof prefix, TRACE_IX_ANY, c, NULL);
    rc = hanse_view_scan(v, prefix, NULL, TRACE_DRAFT_MAX, draft_visit, &d);
    p += n + (bar ? 1 : 0);
  }
  if (rc == HANSE_OK) rc = d.rc;
  json_decref(d.policy);
  json_decref(d.seen);
  json_decref(d.names);
  if (rc != HANSE_OK) {
    json_decref(d.entries);
    json_decref(d.skipped);
    return rc == HANSE_ERR(INVALID) ? rc : hanse_reject_set(rej, rc, "cannot read the events");
  }
  *result = json_pack("{s:s, s:o, s:o}", "product", product, "events", d.entries, "skipped",
                      d.skipped);
  return *result ? HANSE_OK : hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
}

/* ---- the open chain -------------------------------------------------------- */

static int collect(void *ctx, const uint8_t *k, size_t kl, const uint8_t *val, size_t vl) {
  (void)k;
  (void)kl;
  json_t *j = json_loadb((const char *)val, vl, 0, NULL);
  if (j) json_array_append_new(ctx, j);
  return 0;
}

static int64_t entry_ms(json_t *e) {
  int64_t ms = 0;
  if (!trace_time_parse(json_string_value(json_object_get(e, "eventTime")), &ms)) ms = 0;
  return ms;
}

static int by_time(const void *a, const void *b) {
  json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
  int64_t mx = entry_ms(x), my = entry_ms(y);
  if (mx != my) return mx < my ? -1 : 1;
  return strcmp(json_string_value(json_object_get(x, "eventID")),
                json_string_value(json_object_get(y, "eventID")));
}

static json_t *sorted_by_time(json_t *arr) {
  size_t n = json_array_size(arr);
  json_t **v = calloc(n ? n : 1, sizeof *v);
  json_t *out = json_array();
  if (v == NULL || out == NULL) {
    free(v);
    json_decref(out);
    return NULL;
  }
  for (size_t i = 0; i < n; i++) v[i] = json_array_get(arr, i);
  qsort(v, n, sizeof *v, by_time);
  for (size_t i = 0; i < n; i++) json_array_append(out, v[i]);
  free(v);
  return out;
}

int trace_query_product(hanse_view *v, json_t *params, json_t **result, hanse_reject *rej) {
  *result = NULL;
  const char *id = json_string_value(json_object_get(params, "id"));
  if (id == NULL || id[0] == 0 || strlen(id) >= TRACE_URI_MAX)
    return hanse_reject_code(rej, "trace.bad_query", 400, "id: the product's identifier");
  char c[TRACE_URI_MAX], vh[33], key[TRACE_KEY_MAX];
  trace_id_canonical(id, c, sizeof c);
  trace_value_hash(vh, c);
  snprintf(key, sizeof key, "trace/products/%s", vh);
  char stored[TRACE_URI_MAX];
  int found;
  int rc = view_text(v, key, stored, sizeof stored, &found);
  if (rc != HANSE_OK) return hanse_reject_set(rej, rc, "cannot read the products");
  if (!found)
    return hanse_reject_code(rej, "trace.unknown_product", 404,
                             "no record of %.200s is published on this chain", c);
  json_t *entries = json_array(), *pubs = json_array(), *complaints = json_array();
  json_t *out = NULL;
  snprintf(key, sizeof key, "trace/pubev/%s/", vh);
  rc = hanse_view_scan(v, key, NULL, TRACE_DRAFT_MAX, collect, entries);
  snprintf(key, sizeof key, "trace/pub/%s/", vh);
  if (rc == HANSE_OK) rc = hanse_view_scan(v, key, NULL, 1000, collect, pubs);
  snprintf(key, sizeof key, "trace/complaint/%s/", vh);
  if (rc == HANSE_OK) rc = hanse_view_scan(v, key, NULL, 1000, collect, complaints);
  size_t i;
  json_t *cm;
  json_array_foreach(complaints, i, cm) {
    if (rc != HANSE_OK) break;
    json_t *answers = json_array();
    char ak[TRACE_KEY_MAX];
    snprintf(ak, sizeof ak, "trace/answer/%s/", json_string_value(json_object_get(cm, "tx")));
    rc = hanse_view_scan(v, ak, NULL, 100, collect, answers);
    json_object_set_new(cm, "answers", answers);
  }
  json_t *events = rc == HANSE_OK ? sorted_by_time(entries) : NULL;
  json_t *enterprises = json_object();
  json_t *e;
  json_array_foreach(events, i, e) {
    const char *org = json_string_value(json_object_get(e, "org"));
    if (org && enterprises && json_object_get(enterprises, org) == NULL)
      json_object_set(enterprises, org, json_object_get(e, "org_name"));
  }
  /* the shipment status from the published events themselves, as the
   * alliance computes it from the whole ones (trace_status.c) */
  json_t *parsed = json_array();
  json_array_foreach(events, i, e) {
    json_t *ev = json_loads(json_string_value(json_object_get(e, "event")), 0, NULL);
    if (ev && parsed) json_array_append_new(parsed, ev);
    else json_decref(ev);
  }
  json_t *status = parsed ? trace_shipment_status(parsed) : NULL;
  json_decref(parsed);
  if (events && enterprises && status) {
    out = json_pack("{s:s, s:o, s:O, s:O, s:O, s:o}", "product", c, "events", events,
                    "enterprises", enterprises, "publications", pubs, "complaints", complaints,
                    "status", status);
  } else {
    json_decref(events);
    json_decref(status);
  }
  json_decref(enterprises);
  json_decref(entries);
  json_decref(pubs);
  json_decref(complaints);
  if (rc != HANSE_OK) return hanse_reject_set(rej, rc, "cannot read the product's record");
  if (out == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  *result = out;
  return HANSE_OK;
}

static int product_visit(void *ctx, const uint8_t *k, size_t kl, const uint8_t *val, size_t vl) {
  (void)k;
  (void)kl;
  json_array_append_new(ctx, json_stringn((const char *)val, vl));
  return 0;
}

int trace_query_purchases(hanse_view *v, json_t *params, json_t **result, hanse_reject *rej) {
  *result = NULL;
  const char *buyer = json_string_value(json_object_get(params, "buyer"));
  if (buyer == NULL || strlen(buyer) != 64)
    return hanse_reject_code(rej, "trace.bad_query", 400, "buyer: 64 hex");
  char key[TRACE_KEY_MAX];
  snprintf(key, sizeof key, "trace/buyer/%s/", buyer);
  json_t *list = json_array();
  int rc = list ? hanse_view_scan(v, key, NULL, 1000, product_visit, list) : HANSE_ERR(NOMEM);
  if (rc != HANSE_OK) {
    json_decref(list);
    return hanse_reject_set(rej, rc, "cannot read the purchases");
  }
  *result = json_pack("{s:o}", "products", list);
  return *result ? HANSE_OK : hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
}
