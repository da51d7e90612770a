/*
 * trace_query.c -- the EPCIS 2.0 query binding's event filters.
 *
 * GET /v1/chains/{c}/epcis/events (api/res_epcis.c) comes here with the
 * query parameters as the REST binding names them; pipe-delimited lists
 * ("shipping|receiving") are one-of. Supported:
 *
 *   eventType EQ_action EQ_bizStep EQ_disposition EQ_readPoint
 *   EQ_bizLocation EQ_eventID EQ_type_bizTransaction (has a
 *   bizTransaction of one of these types) EQ_bizTransaction_<type>
 *   (a bizTransaction of that type with one of these ids)
 *   GE_eventTime LT_eventTime GE_recordTime LT_recordTime
 *   MATCH_epc (epcList, childEPCs) MATCH_parentID MATCH_inputEPC
 *   MATCH_outputEPC MATCH_anyEPC (all of them and parentID)
 *   EQ_enterprise (Hanse's extension: captured by a signer of one of
 *   these organisations, the record's "org"; with GE/LT_eventTime a
 *   regulator's "all events of one enterprise in a time range")
 *   perPage (1..TRACE_PAGE_MAX, default 30) nextPageToken
 *
 * Any other parameter is 400 trace.bad_query: a filter we would ignore
 * would return more than was asked for. Identifiers match in their
 * Digital Link form (trace_dl.c), so an EPC URN finds Digital Link events
 * and back; an EPC pattern (urn:epc:idpat:sgtin:CP.IR.*) matches every
 * serial of its class. CBV values match in any spelling.
 *
 * Plan: one filter with a single exact value drives an index scan (the
 * first of MATCH_epc, MATCH_parentID, MATCH_inputEPC, MATCH_outputEPC,
 * MATCH_anyEPC, EQ_readPoint, EQ_bizLocation, EQ_bizStep,
 * EQ_disposition, EQ_type_bizTransaction, eventType, EQ_enterprise);
 * otherwise the capture sequence is scanned. Every candidate is loaded and tested
 * against all filters and against the caller's read rights ("readable":
 * the classes the API found the caller may read; events of other classes
 * are left out as if absent). Results come in capture order. A page
 * stops at perPage events or after TRACE_QUERY_SCAN_MAX candidates,
 * whichever is first; nextPageToken (16 hex digits, the capture number
 * to continue after) is present exactly when the scan did not reach the
 * end, so a page may hold fewer than perPage events and still have a
 * next one. Tokens do not expire: the ledger only grows.
 *
 * Text mode ("text": true, set by the API like "readable"): the events
 * come back as one string of their JSON texts, comma-separated
 * ("eventText", with "eventCount"), for the API to splice into its
 * answer. When the driving index is the query's only filter, the index
 * alone decides the match (it holds exactly the events whose field has
 * that value, trace_store.c), so a record is not parsed at all: the
 * store writes it as {"event":{...},"class":...} with the event first,
 * and the event's text is cut out of the stored bytes as they are --
 * the bytes a parse and a dump would give, at a fraction of the cost
 * (a product's history is 50 records; parsing and dumping them was
 * two thirds of the node's time for it, docs/ARCHITECTURE.md). Only the
 * small rest of the record (class, org, prefixes) is parsed. A record
 * in any other form is parsed whole, as in the other cases.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/exec.h"
#include "encoding/json_real.h"
#include "modules/trace/trace.h"

#define TRACE_PAGE_DEFAULT 30
#define TRACE_PAGE_MAX 500
/* Candidates one request may examine: bounds the work of a query whose
 * filters no index serves (each candidate is one or two row reads). */
#define TRACE_QUERY_SCAN_MAX 5000
/* Values in one pipe-delimited parameter. */
#define TRACE_QUERY_VALUES_MAX 64

/* ---- parameters ------------------------------------------------------- */

typedef enum { F_LIST, F_IDS, F_TIME } fkind;

typedef struct filter {
  const char *param;
  fkind kind;
  int vocab;          /* F_LIST: trace_vocab of its values, or -1 */
  const char *ix;     /* index that can drive the scan, or NULL */
  char **values;      /* parsed: canonical forms */
  int *pattern;       /* F_IDS: value is a class pattern */
  size_t n;
  int64_t ms;         /* F_TIME */
  int present;
} filter;

static filter filters_init[] = {
    {"MATCH_epc", F_IDS, -1, TRACE_IX_EPC, NULL, NULL, 0, 0, 0},
    {"MATCH_parentID", F_IDS, -1, TRACE_IX_PARENT, NULL, NULL, 0, 0, 0},
    {"MATCH_inputEPC", F_IDS, -1, TRACE_IX_INPUT, NULL, NULL, 0, 0, 0},
    {"MATCH_outputEPC", F_IDS, -1, TRACE_IX_OUTPUT, NULL, NULL, 0, 0, 0},
    {"MATCH_anyEPC", F_IDS, -1, TRACE_IX_ANY, NULL, NULL, 0, 0, 0},
    {"EQ_readPoint", F_IDS, -1, TRACE_IX_RP, NULL, NULL, 0, 0, 0},
    {"EQ_bizLocation", F_IDS, -1, TRACE_IX_BL, NULL, NULL, 0, 0, 0},
    {"EQ_bizStep", F_LIST, TRACE_VOCAB_BIZSTEP, TRACE_IX_STEP, NULL, NULL, 0, 0, 0},
    {"EQ_disposition", F_LIST, TRACE_VOCAB_DISP, TRACE_IX_DISP, NULL, NULL, 0, 0, 0},
    {"EQ_type_bizTransaction", F_LIST, TRACE_VOCAB_BTT, TRACE_IX_BTT, NULL, NULL, 0, 0, 0},
    {"eventType", F_LIST, -1, TRACE_IX_TYPE, NULL, NULL, 0, 0, 0},
    {"EQ_enterprise", F_LIST, -1, TRACE_IX_ORG, NULL, NULL, 0, 0, 0},
    {"EQ_action", F_LIST, -1, NULL, NULL, NULL, 0, 0, 0},
    {"EQ_eventID", F_LIST, -1, NULL, NULL, NULL, 0, 0, 0},
    {"GE_eventTime", F_TIME, -1, NULL, NULL, NULL, 0, 0, 0},
    {"LT_eventTime", F_TIME, -1, NULL, NULL, NULL, 0, 0, 0},
    {"GE_recordTime", F_TIME, -1, NULL, NULL, NULL, 0, 0, 0},
    {"LT_recordTime", F_TIME, -1, NULL, NULL, NULL, 0, 0, 0},
};
#define NFILTERS (sizeof filters_init / sizeof filters_init[0])

typedef struct query {
  filter f[NFILTERS];
  /* EQ_bizTransaction_<type>: up to 8 types */
  char btt_type[8][64];
  filter btt[8];
  size_t nbtt;
  json_t *readable;
  size_t per_page;
  uint64_t after; /* resume after this capture number, 0: from the start */
} query;

static void filter_free(filter *f) {
  for (size_t i = 0; i < f->n; i++) free(f->values[i]);
  free(f->values);
  free(f->pattern);
}

static void query_free(query *q) {
  for (size_t i = 0; i < NFILTERS; i++) filter_free(&q->f[i]);
  for (size_t i = 0; i < q->nbtt; i++) filter_free(&q->btt[i]);
}

static int is_pattern(const char *v) {
  return strncmp(v, "urn:epc:idpat:", 14) == 0 || (v[0] && v[strlen(v) - 1] == '*');
}

static int parse_filter(filter *f, const char *text, hanse_reject *rej) {
  f->present = 1;
  if (f->kind == F_TIME) {
    if (!trace_time_parse(text, &f->ms))
      return hanse_reject_code(rej, "trace.bad_query", 400,
                               "%s must be a date-time with a zone", f->param);
    return HANSE_OK;
  }
  f->values = calloc(TRACE_QUERY_VALUES_MAX, sizeof *f->values);
  f->pattern = calloc(TRACE_QUERY_VALUES_MAX, sizeof *f->pattern);
  if (f->values == NULL || f->pattern == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  const char *p = text;
  while (1) {
    const char *bar = strchr(p, '|');
    size_t len = bar ? (size_t)(bar - p) : strlen(p);
    if (len == 0 || len >= TRACE_URI_MAX || f->n == TRACE_QUERY_VALUES_MAX)
      return hanse_reject_code(rej, "trace.bad_query", 400,
                               "%s: 1 to %d values of 1 to %d bytes, separated by |", f->param,
                               TRACE_QUERY_VALUES_MAX, TRACE_URI_MAX - 1);
    char raw[TRACE_URI_MAX], c[TRACE_URI_MAX];
    memcpy(raw, p, len);
    raw[len] = 0;
    const char *v = raw;
    if (f->kind == F_IDS) {
      f->pattern[f->n] = is_pattern(raw);
      v = trace_id_canonical(raw, c, sizeof c);
    } else if (f->vocab >= 0) {
      v = trace_vocab_canonical((trace_vocab)f->vocab, raw);
    }
    f->values[f->n] = strdup(v);
    if (f->values[f->n] == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
    f->n++;
    if (bar == NULL) break;
    p = bar + 1;
  }
  return HANSE_OK;
}

static int query_parse(query *q, json_t *params, hanse_reject *rej) {
  memset(q, 0, sizeof *q);
  memcpy(q->f, filters_init, sizeof filters_init);
  q->per_page = TRACE_PAGE_DEFAULT;
  q->readable = json_object_get(params, "readable");
  const char *k;
  json_t *v;
  json_object_foreach(params, k, v) {
    if (strcmp(k, "readable") == 0 || strcmp(k, "text") == 0) continue;
    const char *s = json_string_value(v);
    if (s == NULL)
      return hanse_reject_code(rej, "trace.bad_query", 400, "%.64s must be a string", k);
    if (strcmp(k, "perPage") == 0) {
      char *end;
      unsigned long n = strtoul(s, &end, 10);
      if (*s < '0' || *s > '9' || *end || n == 0 || n > TRACE_PAGE_MAX)
        return hanse_reject_code(rej, "trace.bad_query", 400, "perPage must be 1 to %d",
                                 TRACE_PAGE_MAX);
      q->per_page = n;
      continue;
    }
    if (strcmp(k, "nextPageToken") == 0) {
      char *end;
      if (strlen(s) != 16 || (q->after = strtoull(s, &end, 16), *end != 0))
        return hanse_reject_code(rej, "trace.bad_query", 400, "nextPageToken is not one of ours");
      continue;
    }
    filter *f = NULL;
    for (size_t i = 0; i < NFILTERS; i++)
      if (strcmp(q->f[i].param, k) == 0) f = &q->f[i];
    if (f == NULL && strncmp(k, "EQ_bizTransaction_", 18) == 0 && strlen(k) > 18 &&
        strlen(k + 18) < 64 && q->nbtt < 8) {
      snprintf(q->btt_type[q->nbtt], sizeof q->btt_type[0], "%s",
               trace_vocab_canonical(TRACE_VOCAB_BTT, k + 18));
      f = &q->btt[q->nbtt++];
      *f = (filter){k, F_LIST, -1, NULL, NULL, NULL, 0, 0, 0};
    }
    if (f == NULL)
      return hanse_reject_code(rej, "trace.bad_query", 400,
                               "unsupported query parameter '%.64s'", k);
    int rc = parse_filter(f, s, rej);
    if (rc != HANSE_OK) return rc;
  }
  return HANSE_OK;
}

/* ---- matching ------------------------------------------------------------ */

static int value_in(const filter *f, const char *v) {
  if (v == NULL) return 0;
  for (size_t i = 0; i < f->n; i++) {
    if (strcmp(f->values[i], v) == 0) return 1;
    if (f->pattern && f->pattern[i]) {
      size_t l = strlen(f->values[i]);
      if (f->values[i][l - 1] == '*') l--; /* a raw pattern we could not convert */
      if (strncmp(v, f->values[i], l) == 0 && (v[l] == '/' || v[l] == '.' || v[l] == 0))
        return 1;
    }
  }
  return 0;
}

static int id_in(const filter *f, const char *raw) {
  char c[TRACE_URI_MAX];
  return raw && value_in(f, trace_id_canonical(raw, c, sizeof c));
}

static int list_has(const filter *f, json_t *list) {
  size_t i;
  json_t *e;
  json_array_foreach(list, i, e) if (id_in(f, json_string_value(e))) return 1;
  return 0;
}

/* ev is the record's event, org its "org" (NULL when none). */
static int matches(const query *q, json_t *ev, const char *org) {
  for (size_t i = 0; i < NFILTERS; i++) {
    const filter *f = &q->f[i];
    if (!f->present) continue;
    const char *p = f->param;
    int ok;
    int64_t t = 0;
    if (strcmp(p, "MATCH_epc") == 0)
      ok = list_has(f, json_object_get(ev, "epcList")) ||
           list_has(f, json_object_get(ev, "childEPCs"));
    else if (strcmp(p, "MATCH_parentID") == 0)
      ok = id_in(f, json_string_value(json_object_get(ev, "parentID")));
    else if (strcmp(p, "MATCH_inputEPC") == 0)
      ok = list_has(f, json_object_get(ev, "inputEPCList"));
    else if (strcmp(p, "MATCH_outputEPC") == 0)
      ok = list_has(f, json_object_get(ev, "outputEPCList"));
    else if (strcmp(p, "MATCH_anyEPC") == 0)
      ok = list_has(f, json_object_get(ev, "epcList")) ||
           list_has(f, json_object_get(ev, "childEPCs")) ||
           list_has(f, json_object_get(ev, "inputEPCList")) ||
           list_has(f, json_object_get(ev, "outputEPCList")) ||
           id_in(f, json_string_value(json_object_get(ev, "parentID")));
    else if (strcmp(p, "EQ_readPoint") == 0)
      ok = id_in(f, json_string_value(json_object_get(json_object_get(ev, "readPoint"), "id")));
    else if (strcmp(p, "EQ_bizLocation") == 0)
      ok = id_in(f, json_string_value(json_object_get(json_object_get(ev, "bizLocation"), "id")));
    else if (strcmp(p, "EQ_bizStep") == 0)
      ok = value_in(f, json_string_value(json_object_get(ev, "bizStep")));
    else if (strcmp(p, "EQ_disposition") == 0)
      ok = value_in(f, json_string_value(json_object_get(ev, "disposition")));
    else if (strcmp(p, "eventType") == 0)
      ok = value_in(f, json_string_value(json_object_get(ev, "type")));
    else if (strcmp(p, "EQ_action") == 0)
      ok = value_in(f, json_string_value(json_object_get(ev, "action")));
    else if (strcmp(p, "EQ_eventID") == 0)
      ok = value_in(f, json_string_value(json_object_get(ev, "eventID")));
    else if (strcmp(p, "EQ_enterprise") == 0)
      ok = value_in(f, org);
    else if (strcmp(p, "EQ_type_bizTransaction") == 0) {
      ok = 0;
      size_t j;
      json_t *bt;
      json_array_foreach(json_object_get(ev, "bizTransactionList"), j, bt) if (value_in(
          f, json_string_value(json_object_get(bt, "type")))) ok = 1;
    } else { /* the times */
      const char *field = strstr(p, "eventTime") ? "eventTime" : "recordTime";
      ok = trace_time_parse(json_string_value(json_object_get(ev, field)), &t) &&
           (p[0] == 'G' ? t >= f->ms : t < f->ms);
    }
    if (!ok) return 0;
  }
  for (size_t i = 0; i < q->nbtt; i++) {
    int ok = 0;
    size_t j;
    json_t *bt;
    json_array_foreach(json_object_get(ev, "bizTransactionList"), j, bt) {
      const char *ty = json_string_value(json_object_get(bt, "type"));
      if (ty && strcmp(ty, q->btt_type[i]) == 0 &&
          value_in(&q->btt[i], json_string_value(json_object_get(bt, "bizTransaction"))))
        ok = 1;
    }
    if (!ok) return 0;
  }
  return 1;
}

static int readable(const query *q, const char *cls) {
  size_t i;
  json_t *c;
  if (cls == NULL) return 0;
  json_array_foreach(q->readable, i, c) if (strcmp(json_string_value(c), cls) == 0) return 1;
  return 0;
}

/* ---- the scan ------------------------------------------------------------ */

typedef struct scan {
  hanse_view *v;
  const query *q;
  const char *prefix;
  int via_index;
  int index_decides;  /* the driving index is the only filter */
  json_t *events;     /* the events, or in text mode NULL and ... */
  hanse_buf *text;    /* ... their texts, comma-separated */
  size_t count;       /* events found */
  json_t *prefixes;
  size_t scanned;
  uint64_t last;      /* capture number of the last candidate examined */
  int more;           /* stopped before the end */
  int rc;
} scan;

/* The end of the JSON object or array starting at p (brackets counted
 * outside strings), or NULL when the text ends first. */
static const char *json_value_end(const char *p, const char *end) {
  int depth = 0, in_string = 0;
  for (; p < end; p++) {
    if (in_string) {
      if (*p == '\\') p++;
      else if (*p == '"') in_string = 0;
    } else if (*p == '"') {
      in_string = 1;
    } else if (*p == '{' || *p == '[') {
      depth++;
    } else if ((*p == '}' || *p == ']') && --depth == 0) {
      return p + 1;
    }
  }
  return NULL;
}

/* A stored record cut without parsing it (see the essay): its event's
 * text, borrowed from the record; its class; its prefixes, a new
 * reference or NULL when there are none. */
typedef struct record_cut {
  const char *ev;
  size_t evlen;
  char cls[32];
  json_t *prefixes;
} record_cut;

/* Cut r = {"event":{...},"class":"...",...,"prefixes":{...},
 * "declaration":b}: 1, or 0 when r is not in that form. Only a record
 * with prefixes has the rest after its event parsed. */
static int record_split(const uint8_t *r, size_t n, record_cut *c) {
  static const char head[] = "{\"event\":{", cls[] = ",\"class\":\"";
  static const char *const no_prefixes[] = {",\"prefixes\":{},\"declaration\":false}",
                                            ",\"prefixes\":{},\"declaration\":true}"};
  const char *p = (const char *)r, *end = p + n;
  c->prefixes = NULL;
  if (n < sizeof head || memcmp(p, head, sizeof head - 1) != 0) return 0;
  const char *e = json_value_end(p + sizeof head - 2, end);
  if (e == NULL || (size_t)(end - e) < sizeof cls || memcmp(e, cls, sizeof cls - 1) != 0)
    return 0;
  c->ev = p + sizeof head - 2;
  c->evlen = (size_t)(e - c->ev);
  const char *cs = e + sizeof cls - 1, *ce = memchr(cs, '"', (size_t)(end - cs));
  if (ce == NULL || (size_t)(ce - cs) >= sizeof c->cls || ce + 1 == end || ce[1] != ',') return 0;
  memcpy(c->cls, cs, (size_t)(ce - cs));
  c->cls[ce - cs] = 0;
  for (int i = 0; i < 2; i++) {
    size_t l = strlen(no_prefixes[i]);
    if ((size_t)(end - e) >= l && memcmp(end - l, no_prefixes[i], l) == 0) return 1;
  }
  /* "{" + the members after the event's comma */
  char small[1024];
  size_t tl = (size_t)(end - e);
  if (tl > sizeof small) return 0;
  small[0] = '{';
  memcpy(small + 1, e + 1, tl - 1);
  json_t *rest = json_loadb(small, tl, 0, NULL);
  c->prefixes = json_incref(json_object_get(rest, "prefixes"));
  json_decref(rest);
  return c->prefixes != NULL;
}

static void found_text(scan *s, const char *ev, size_t len, json_t *prefixes) {
  if (s->count) hanse_buf_put(s->text, ",", 1);
  hanse_buf_put(s->text, ev, len);
  s->count++;
  if (prefixes) json_object_update_missing(s->prefixes, prefixes);
}

/* The record at key: tested and added to the page. */
static int visit_record(scan *s, const char *key) {
  hanse_buf b;
  hanse_buf_init(&b);
  int found = 0;
  int rc = hanse_view_get(s->v, key, &b, &found);
  if (rc != HANSE_OK || !found) {
    hanse_buf_free(&b);
    return rc;
  }
  record_cut cut;
  if (s->text && s->index_decides && record_split(b.data, b.len, &cut)) {
    if (readable(s->q, cut.cls)) found_text(s, cut.ev, cut.evlen, cut.prefixes);
    json_decref(cut.prefixes);
    hanse_buf_free(&b);
    return hanse_buf_status(s->text);
  }
  json_t *rec = json_loadb((const char *)b.data, b.len, 0, NULL);
  hanse_buf_free(&b);
  json_t *ev = json_object_get(rec, "event");
  if (ev && readable(s->q, json_string_value(json_object_get(rec, "class"))) &&
      matches(s->q, ev, json_string_value(json_object_get(rec, "org")))) {
    if (s->text) {
      char *t = hanse_json_dumps_exact(ev, JSON_COMPACT);
      if (t == NULL) rc = HANSE_ERR(NOMEM);
      else found_text(s, t, strlen(t), json_object_get(rec, "prefixes"));
      free(t);
      if (rc == HANSE_OK) rc = hanse_buf_status(s->text);
    } else {
      json_array_append(s->events, ev);
      json_object_update_missing(s->prefixes, json_object_get(rec, "prefixes"));
      s->count++;
    }
  }
  json_decref(rec);
  return rc;
}

static int visit(void *ctx, const uint8_t *k, size_t kl, const uint8_t *val, size_t vl) {
  scan *s = ctx;
  if (kl < 16) return 0;
  if (s->count >= s->q->per_page || s->scanned >= TRACE_QUERY_SCAN_MAX) {
    s->more = 1;
    return 1;
  }
  char seq[17], key[200];
  memcpy(seq, k + kl - 16, 16);
  seq[16] = 0;
  s->last = strtoull(seq, NULL, 16);
  s->scanned++;
  if (s->via_index) {
    hanse_buf b;
    hanse_buf_init(&b);
    int found = 0;
    char sk[64];
    snprintf(sk, sizeof sk, "trace/seq/%s", seq);
    s->rc = hanse_view_get(s->v, sk, &b, &found);
    snprintf(key, sizeof key, "%.*s", found ? (int)b.len : 0, (const char *)b.data);
    hanse_buf_free(&b);
    if (s->rc != HANSE_OK) return 1;
  } else {
    snprintf(key, sizeof key, "%.*s", (int)vl, (const char *)val);
  }
  s->rc = visit_record(s, key);
  return s->rc != HANSE_OK;
}

int trace_query_events(hanse_view *v, json_t *params, json_t **result, hanse_reject *rej) {
  *result = NULL;
  query q;
  int rc = query_parse(&q, params, rej);
  if (rc != HANSE_OK) {
    query_free(&q);
    return rc;
  }
  /* the driving index: a single exact value */
  char prefix[200];
  int via_index = 0, filters = (int)q.nbtt;
  for (size_t i = 0; i < NFILTERS; i++) {
    const filter *f = &q.f[i];
    filters += f->present;
    if (!via_index && f->present && f->ix && f->n == 1 && !(f->pattern && f->pattern[0])) {
      trace_ix_key(prefix, sizeof prefix, f->ix, f->values[0], NULL);
      via_index = 1;
    }
  }
  if (!via_index) snprintf(prefix, sizeof prefix, "trace/seq/");
  char after[240];
  if (q.after) snprintf(after, sizeof after, "%s%016" PRIx64, prefix, q.after);
  int text = json_is_true(json_object_get(params, "text"));
  hanse_buf out;
  hanse_buf_init(&out);
  scan s = {v,    &q,          prefix, via_index, via_index && filters == 1,
            NULL, text ? &out : NULL, 0, json_object(), 0, 0, 0, HANSE_OK};
  if (!text) s.events = json_array();
  if ((!text && s.events == NULL) || s.prefixes == NULL) rc = HANSE_ERR(NOMEM);
  else rc = hanse_view_scan(v, prefix, q.after ? after : NULL, TRACE_QUERY_SCAN_MAX + 1, visit, &s);
  if (rc == HANSE_OK) rc = s.rc;
  query_free(&q);
  if (rc != HANSE_OK) {
    json_decref(s.events);
    json_decref(s.prefixes);
    hanse_buf_free(&out);
    return hanse_reject_set(rej, rc, "cannot read the events");
  }
  if (text)
    *result = json_pack("{s:o, s:I, s:o}", "eventText",
                        json_stringn_nocheck(out.len ? (const char *)out.data : "", out.len),
                        "eventCount", (json_int_t)s.count, "prefixes", s.prefixes);
  else
    *result = json_pack("{s:o, s:o}", "eventList", s.events, "prefixes", s.prefixes);
  hanse_buf_free(&out);
  if (*result && s.more) {
    char tok[17];
    snprintf(tok, sizeof tok, "%016" PRIx64, s.last);
    json_object_set_new(*result, "nextPageToken", json_string(tok));
  }
  return *result ? HANSE_OK : hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
}

static int type_visit(void *ctx, const uint8_t *k, size_t kl, const uint8_t *val, size_t vl) {
  (void)val;
  (void)vl;
  size_t pl = strlen("trace/types/");
  if (kl > pl) json_array_append_new(ctx, json_stringn((const char *)k + pl, kl - pl));
  return 0;
}

int trace_query_event_types(hanse_view *v, json_t **result, hanse_reject *rej) {
  json_t *types = json_array();
  if (types == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  int rc = hanse_view_scan(v, "trace/types/", NULL, 100, type_visit, types);
  if (rc != HANSE_OK) {
    json_decref(types);
    return hanse_reject_set(rej, rc, "cannot read the event types");
  }
  *result = json_pack("{s:o}", "eventTypes", types);
  return HANSE_OK;
}
