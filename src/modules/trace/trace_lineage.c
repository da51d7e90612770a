/*
 * trace_lineage.c -- where an item came from, and where it went.
 *
 * EPCIS links items two ways, and a lineage walk follows both:
 *
 *   aggregation     an AggregationEvent with action ADD or OBSERVE puts
 *                   its childEPCs and the classes of its childQuantityList
 *                   into parentID (a case into a pallet); a TransactionEvent
 *                   with a parentID does the same for its epcList and
 *                   quantityList. DELETE (unpacking) adds no link: the
 *                   item was packed there, and history keeps it.
 *   transformation  a TransformationEvent made its outputs (outputEPCList,
 *                   outputQuantityList classes) from its inputs
 *                   (inputEPCList, inputQuantityList classes); events
 *                   sharing a transformationID are one transformation,
 *                   inputs in one and outputs in another.
 *
 * Trace back from X: the parents X was packed into and the inputs of the
 * transformations that output X, and so on from each of those -- where
 * every ingredient came from. Trace forward from X: the outputs of the
 * transformations X went into, the parents X was packed into, the
 * children packed into X (so that from a parent the walk reaches the
 * other items packed with X), and so on -- the recall list.
 *
 * The walk is breadth-first, so each item is listed once, at its least
 * depth, with the event and the item it was first reached by ("from").
 * Identifiers are compared in their canonical form (trace_id_canonical:
 * the Digital Link URI, lots and other classes included; other URIs as
 * they are), and the events naming X are found through the "any" index
 * (every EPC field and parentID) and the "anycls" index (every quantity
 * list's epcClass), one scan each; a transformationID through "xform".
 * A cycle (a pallet listed as its own grandchild by a faulty capture)
 * ends where an item is met again.
 *
 * Which events count: those the caller may read ("readable", as for the
 * events query: another class is as if absent), and none that is an
 * error declaration or has one -- a corrected link is no link. The walk
 * is bounded: depth (max_depth), items (TRACE_LINEAGE_ITEMS_MAX), event
 * records loaded (TRACE_LINEAGE_EVENTS_MAX), events per identifier
 * (TRACE_LINEAGE_ITEM_EVENTS_MAX); hitting any bound sets "truncated".
 * A link past max_depth sets it too, so "truncated": false means the
 * answer is the whole lineage the caller may see.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "chain/exec.h"
#include "modules/trace/trace.h"

typedef struct lineage {
  hanse_view *v;
  json_t *readable;  /* borrowed */
  int forward;
  int max_depth;
  json_t *visited;   /* canonical id -> true */
  json_t *items;     /* the answer's items, also the walk's queue */
  json_t *events;    /* seq hex -> event: the events involved */
  json_t *prefixes;
  json_t *cache;     /* seq hex -> record, or null when it does not count */
  size_t loaded;
  int truncated;
  int rc;
} lineage;

/* ---- events ------------------------------------------------------------- */

typedef struct seq_list {
  char (*seq)[17];
  size_t n, cap;
  int more; /* an entry did not fit */
} seq_list;

static int seq_visit(void *ctx, const uint8_t *k, size_t kl, const uint8_t *val, size_t vl) {
  (void)val;
  (void)vl;
  seq_list *l = ctx;
  if (kl < 16) return 0;
  if (l->n == l->cap) {
    l->more = 1;
    return 1;
  }
  memcpy(l->seq[l->n], k + kl - 16, 16);
  l->seq[l->n][16] = 0;
  l->n++;
  return 0;
}

/* The capture numbers in index `ix` under `value`, appended to l; sets
 * truncated when there are more than the list holds. */
static void index_seqs(lineage *w, const char *ix, const char *value, seq_list *l) {
  char prefix[200];
  trace_ix_key(prefix, sizeof prefix, ix, value, NULL);
  l->more = 0;
  int rc = hanse_view_scan(w->v, prefix, NULL, (int)(l->cap - l->n) + 1, seq_visit, l);
  if (rc != HANSE_OK) w->rc = rc;
  if (l->more) w->truncated = 1;
}

static int view_string(hanse_view *v, const char *key, char *out, size_t n, int *found) {
  hanse_buf b;
  hanse_buf_init(&b);
  int rc = hanse_view_get(v, key, &b, found);
  if (rc == HANSE_OK && *found)
    snprintf(out, n, "%.*s", (int)(b.len < n ? b.len : n - 1), (const char *)b.data);
  hanse_buf_free(&b);
  return rc;
}

static int class_readable(json_t *readable, const char *cls) {
  size_t i;
  json_t *c;
  json_array_foreach(readable, i, c) if (cls && strcmp(json_string_value(c), cls) == 0) return 1;
  return 0;
}

/* The record with capture number `seq` when it counts for the walk
 * (readable, no declaration), else NULL. Borrowed from the cache. */
static json_t *record_at(lineage *w, const char *seq) {
  json_t *cached = json_object_get(w->cache, seq);
  if (cached) return json_is_null(cached) ? NULL : cached;
  if (w->loaded >= TRACE_LINEAGE_EVENTS_MAX) {
    w->truncated = 1;
    return NULL;
  }
  w->loaded++;
  char sk[64], key[200], err[220];
  int found = 0;
  snprintf(sk, sizeof sk, "trace/seq/%s", seq);
  int rc = view_string(w->v, sk, key, sizeof key, &found);
  json_t *rec = NULL;
  if (rc == HANSE_OK && found) {
    hanse_buf b;
    hanse_buf_init(&b);
    rc = hanse_view_get(w->v, key, &b, &found);
    if (rc == HANSE_OK && found) rec = json_loadb((const char *)b.data, b.len, 0, NULL);
    hanse_buf_free(&b);
  }
  json_t *ev = json_object_get(rec, "event");
  int counts = rc == HANSE_OK && ev != NULL &&
               class_readable(w->readable, json_string_value(json_object_get(rec, "class"))) &&
               !json_is_true(json_object_get(rec, "declaration")) &&
               json_object_get(ev, "errorDeclaration") == NULL;
  if (counts) { /* an event with a declaration beside it was declared erroneous */
    snprintf(err, sizeof err, "%s/err", key);
    hanse_buf b;
    hanse_buf_init(&b);
    rc = hanse_view_get(w->v, err, &b, &found);
    hanse_buf_free(&b);
    counts = rc == HANSE_OK && !found;
  }
  if (rc != HANSE_OK) w->rc = rc;
  if (!counts) {
    json_decref(rec);
    rec = json_null();
  }
  json_object_set_new(w->cache, seq, rec);
  return counts ? rec : NULL;
}

/* ---- links -------------------------------------------------------------- */

/* An identifier list of an event: the EPC list `ids` and the epcClass of
 * each entry of the quantity list `qty`. */
typedef struct id_lists {
  json_t *ids, *qty;
} id_lists;

static const char *entry_id(const id_lists *l, size_t i, char *c, size_t n) {
  size_t ni = json_array_size(l->ids);
  const char *raw = i < ni ? json_string_value(json_array_get(l->ids, i))
                           : json_string_value(json_object_get(json_array_get(l->qty, i - ni),
                                                               "epcClass"));
  return raw ? trace_id_canonical(raw, c, n) : NULL;
}

static size_t lists_size(const id_lists *l) {
  return json_array_size(l->ids) + json_array_size(l->qty);
}

static int lists_have(const id_lists *l, const char *x) {
  char c[TRACE_URI_MAX];
  for (size_t i = 0; i < lists_size(l); i++) {
    const char *id = entry_id(l, i, c, sizeof c);
    if (id && strcmp(id, x) == 0) return 1;
  }
  return 0;
}

/* The event at `seq` is one of the answer's. */
static void involve(lineage *w, const char *seq, json_t *rec) {
  json_object_set(w->events, seq, json_object_get(rec, "event"));
  json_object_update_missing(w->prefixes, json_object_get(rec, "prefixes"));
}

/* Record the link from -> to through the event at `seq`: 1 when it is
 * in the answer (a new item, or one already there), 0 when it is no link
 * (to itself) or a bound cut it. */
static int add(lineage *w, const char *to, const char *from, int depth, const char *via,
               const char *seq, json_t *rec) {
  if (to == NULL || strcmp(to, from) == 0) return 0;
  if (!json_object_get(w->visited, to)) {
    if (depth > w->max_depth || json_array_size(w->items) >= TRACE_LINEAGE_ITEMS_MAX) {
      w->truncated = 1;
      return 0;
    }
    json_object_set_new(w->visited, to, json_true());
    json_array_append_new(w->items, json_pack("{s:s, s:i, s:s, s:s, s:O}", "epc", to, "depth",
                                              depth, "via", via, "from", from, "eventID",
                                              json_object_get(json_object_get(rec, "event"),
                                                              "eventID")));
  }
  involve(w, seq, rec);
  return 1;
}

static int add_all(lineage *w, const id_lists *l, const char *from, int depth, const char *via,
                   const char *seq, json_t *rec) {
  char c[TRACE_URI_MAX];
  int linked = 0;
  for (size_t i = 0; i < lists_size(l); i++)
    linked |= add(w, entry_id(l, i, c, sizeof c), from, depth, via, seq, rec);
  return linked;
}

/* The inputs (forward 0) or outputs (forward 1) of a transformation. */
static id_lists xform_side(json_t *ev, int outputs) {
  id_lists l = {json_object_get(ev, outputs ? "outputEPCList" : "inputEPCList"),
                json_object_get(ev, outputs ? "outputQuantityList" : "inputQuantityList")};
  return l;
}

static void transformation(lineage *w, json_t *rec, const char *x, int depth, const char *seq) {
  json_t *ev = json_object_get(rec, "event");
  id_lists near = xform_side(ev, !w->forward);
  if (!lists_have(&near, x)) return;
  id_lists far = xform_side(ev, w->forward);
  add_all(w, &far, x, depth, "transformation", seq, rec);
  /* the other events of the same transformation */
  const char *tid = json_string_value(json_object_get(ev, "transformationID"));
  if (tid == NULL) return;
  char (*buf)[17] = malloc(TRACE_LINEAGE_ITEM_EVENTS_MAX * sizeof *buf);
  if (buf == NULL) {
    w->rc = HANSE_ERR(NOMEM);
    return;
  }
  seq_list sl = {buf, 0, TRACE_LINEAGE_ITEM_EVENTS_MAX, 0};
  index_seqs(w, TRACE_IX_XFORM, tid, &sl);
  for (size_t i = 0; i < sl.n && w->rc == HANSE_OK; i++) {
    json_t *other = record_at(w, sl.seq[i]);
    if (other == NULL || strcmp(sl.seq[i], seq) == 0) continue;
    json_t *oev = json_object_get(other, "event");
    const char *otid = json_string_value(json_object_get(oev, "transformationID"));
    if (otid == NULL || strcmp(otid, tid) != 0) continue; /* an index hash collision */
    far = xform_side(oev, w->forward);
    /* the event naming x is involved too, though the link is the other's */
    if (add_all(w, &far, x, depth, "transformation", sl.seq[i], other)) involve(w, seq, rec);
  }
  free(buf);
}

static void aggregation(lineage *w, json_t *rec, const char *x, int depth, const char *seq) {
  json_t *ev = json_object_get(rec, "event");
  const char *type = json_string_value(json_object_get(ev, "type"));
  const char *action = json_string_value(json_object_get(ev, "action"));
  const char *parent = json_string_value(json_object_get(ev, "parentID"));
  if (type == NULL || action == NULL || parent == NULL || strcmp(action, "DELETE") == 0) return;
  id_lists children;
  if (strcmp(type, "AggregationEvent") == 0)
    children = (id_lists){json_object_get(ev, "childEPCs"), json_object_get(ev, "childQuantityList")};
  else if (strcmp(type, "TransactionEvent") == 0)
    children = (id_lists){json_object_get(ev, "epcList"), json_object_get(ev, "quantityList")};
  else
    return;
  char p[TRACE_URI_MAX];
  trace_id_canonical(parent, p, sizeof p);
  if (lists_have(&children, x)) add(w, p, x, depth, "aggregation", seq, rec);
  if (w->forward && strcmp(p, x) == 0) add_all(w, &children, x, depth, "aggregation", seq, rec);
}

/* Follow every link of item x (at depth - 1) to depth. */
static void expand(lineage *w, const char *x, int depth) {
  char (*buf)[17] = malloc(2 * TRACE_LINEAGE_ITEM_EVENTS_MAX * sizeof *buf);
  if (buf == NULL) {
    w->rc = HANSE_ERR(NOMEM);
    return;
  }
  seq_list sl = {buf, 0, TRACE_LINEAGE_ITEM_EVENTS_MAX, 0};
  index_seqs(w, TRACE_IX_ANY, x, &sl);
  sl.cap += TRACE_LINEAGE_ITEM_EVENTS_MAX;
  index_seqs(w, TRACE_IX_ANY_CLASS, x, &sl);
  for (size_t i = 0; i < sl.n && w->rc == HANSE_OK; i++) {
    json_t *rec = record_at(w, sl.seq[i]);
    if (rec == NULL) continue;
    aggregation(w, rec, x, depth, sl.seq[i]);
    transformation(w, rec, x, depth, sl.seq[i]);
  }
  free(buf);
}

/* ---- the walk ----------------------------------------------------------- */

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The involved events as an array in capture order (seq hex sorts). */
static json_t *events_in_order(json_t *by_seq) {
  size_t n = json_object_size(by_seq), i = 0;
  const char **keys = calloc(n ? n : 1, sizeof *keys);
  json_t *out = json_array();
  if (keys == NULL || out == NULL) {
    free(keys);
    json_decref(out);
    return NULL;
  }
  const char *k;
  json_t *v;
  json_object_foreach(by_seq, k, v) keys[i++] = k;
  qsort(keys, n, sizeof *keys, cmp_str);
  for (i = 0; i < n; i++) json_array_append(out, json_object_get(by_seq, keys[i]));
  free(keys);
  return out;
}

int trace_lineage(hanse_view *v, const char *epc, int forward, json_t *readable, int max_depth,
                  json_t **result, hanse_reject *rej) {
  *result = NULL;
  if (epc == NULL || epc[0] == 0 || strlen(epc) >= TRACE_URI_MAX)
    return hanse_reject_code(rej, "trace.bad_query", 400, "epc must be 1 to %d bytes",
                             TRACE_URI_MAX - 1);
  if (max_depth < 1 || max_depth > TRACE_LINEAGE_DEPTH_MAX)
    return hanse_reject_code(rej, "trace.bad_query", 400, "maxDepth must be 1 to %d",
                             TRACE_LINEAGE_DEPTH_MAX);
  char start[TRACE_URI_MAX];
  trace_id_canonical(epc, start, sizeof start);
  lineage w = {v,           readable,     forward,      max_depth, json_object(), json_array(),
               json_object(), json_object(), json_object(), 0,         0,             HANSE_OK};
  if (!w.visited || !w.items || !w.events || !w.prefixes || !w.cache) w.rc = HANSE_ERR(NOMEM);
  else json_object_set_new(w.visited, start, json_true());
  /* breadth first: the start, then each item in the order it was found */
  for (size_t next = 0; w.rc == HANSE_OK; next++) {
    const char *x = start;
    int depth = 0;
    if (next > 0) {
      json_t *it = json_array_get(w.items, next - 1);
      if (it == NULL) break;
      x = json_string_value(json_object_get(it, "epc"));
      depth = (int)json_integer_value(json_object_get(it, "depth"));
    }
    HANSE_ASSERT(x != NULL && depth <= w.max_depth);
    expand(&w, x, depth + 1);
  }
  json_t *events = w.rc == HANSE_OK ? events_in_order(w.events) : NULL;
  if (w.rc == HANSE_OK && events == NULL) w.rc = HANSE_ERR(NOMEM);
  if (w.rc == HANSE_OK) {
    *result = json_pack("{s:s, s:s, s:O, s:o, s:O, s:b}", "epc", start, "direction",
                        forward ? "forward" : "back", "items", w.items, "events", events,
                        "prefixes", w.prefixes, "truncated", w.truncated);
    if (*result == NULL) w.rc = HANSE_ERR(NOMEM);
  } else {
    json_decref(events);
  }
  json_decref(w.visited);
  json_decref(w.items);
  json_decref(w.events);
  json_decref(w.prefixes);
  json_decref(w.cache);
  return w.rc == HANSE_OK ? HANSE_OK : hanse_reject_set(rej, w.rc, "cannot read the lineage");
}

int trace_query_lineage(hanse_view *v, json_t *params, json_t **result, hanse_reject *rej) {
  *result = NULL;
  const char *k;
  json_t *val;
  json_object_foreach(params, k, val) {
    if (strcmp(k, "readable") == 0) continue;
    if (strcmp(k, "epc") != 0 && strcmp(k, "direction") != 0 && strcmp(k, "maxDepth") != 0)
      return hanse_reject_code(rej, "trace.bad_query", 400,
                               "unsupported lineage parameter '%.64s' (direction, maxDepth)", k);
    if (!json_is_string(val))
      return hanse_reject_code(rej, "trace.bad_query", 400, "%s must be a string", k);
  }
  const char *dir = json_string_value(json_object_get(params, "direction"));
  if (dir == NULL || (strcmp(dir, "back") != 0 && strcmp(dir, "forward") != 0))
    return hanse_reject_code(rej, "trace.bad_query", 400, "direction must be back or forward");
  int depth = TRACE_LINEAGE_DEPTH_DEFAULT;
  const char *md = json_string_value(json_object_get(params, "maxDepth"));
  if (md) {
    char *end;
    long d = strtol(md, &end, 10);
    if (*md < '0' || *md > '9' || *end || d < 1 || d > TRACE_LINEAGE_DEPTH_MAX)
      return hanse_reject_code(rej, "trace.bad_query", 400, "maxDepth must be 1 to %d",
                               TRACE_LINEAGE_DEPTH_MAX);
    depth = (int)d;
  }
  return trace_lineage(v, json_string_value(json_object_get(params, "epc")),
                       strcmp(dir, "forward") == 0, json_object_get(params, "readable"), depth,
                       result, rej);
}
