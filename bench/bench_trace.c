/*
 * bench_trace.c -- `hanse_bench --trace`: the trace module at scale
 * (issue 5, point 9): how fast a node captures EPCIS events, and how fast
 * it answers a product's history once a million events are stored.
 *
 * The workload. Products are serialised items (SGTINs) made and shipped
 * in lots of LOT_ITEMS; each lot goes through the same STEPS-step journey
 * (the table `journey`: commissioning, QA, packing into a case, the
 * factory warehouse, a road leg, export port and customs, a sea leg with
 * temperature readings, import customs inspection, hold and clearance, a
 * distribution centre, a store, the sale), one event per step naming the
 * lot's items (ObjectEvent epcList, or AggregationEvent childEPCs under
 * the case's SSCC), a read point and business location of the site, and
 * where the step has them orders and despatch advices, source and
 * destination parties, a sensor reading or a customs reference. So every
 * product has a history of exactly STEPS events of all four data classes,
 * and every event has a few identifiers. Events are captured step by
 * step across all lots (step 0 of every lot, then step 1, ...), as many
 * sites report at once: one product's events are spread over the whole
 * capture sequence, the worst case for locality. No event carries an
 * eventID: the node computes the standard's hash ID, as it must for most
 * real documents.
 *
 * Capture. The events become EPCIS documents of as many events as fit
 * the payload limit (at most TRACE_EVENTS_MAX), each one trace.capture
 * transaction signed by one of CLIENTS organisations of an alliance
 * chain; CLIENTS threads post DOCS_PER_REQUEST documents per request
 * (wait=1: the answer comes at commit). The events are generated and
 * signed in chunks of CHUNK_EVENTS before the clock starts for each
 * chunk; the rate counts only events whose transaction committed with
 * code "ok", over the time spent sending.
 *
 * History. GET /v1/chains/bench/epcis/epcs/{epc}/events (the binding's
 * MATCH_anyEPC) through the client library, signed by a regulator (the
 * alliance's reads are authenticated), one connection kept open, for
 * random products; every answer must hold exactly STEPS events.
 * Latency is the client's: request, signature check, query, EPCIS query
 * document, transfer and JSON parse.
 *
 * Baseline, in the same run: a central database doing the same work --
 * the same event texts in a plain SQLite table (WAL, synchronous=FULL,
 * 1,000 events per commit) with the identifiers in a second table
 * indexed by identifier, and the same history as one indexed join,
 * in process (no HTTP). Printed: both, and their ratios.
 *
 * Environment: HANSE_BENCH_TRACE_EVENTS (default 1,000,000; rounded down
 * to whole lots), HANSE_BENCH_TRACE_QUERIES (default 2,000),
 * HANSE_BENCH_TRACE_CLIENTS (default 4). The capture of a million events
 * takes about 20 minutes here, so a chain can be kept and measured again:
 * HANSE_KEEP_DIRS=1 keeps the node's directory (itest's convention; the
 * path is printed), HANSE_BENCH_TRACE_DATA=<it> starts the node on it and
 * skips the capture (same HANSE_BENCH_TRACE_EVENTS; the directory is never
 * removed).
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/limits.h"
#include "bench.h"
#include "encoding/block.h"
#include "hanse/client.h"
#include "itest.h"
#include "modules/trace/trace.h"

#define STEPS 50            /* events in one product's history */
#define LOT_ITEMS 3         /* items per lot: the identifiers of one event */
#define CLIENTS_MAX 16
#define DOCS_PER_REQUEST 4
#define CHUNK_EVENTS 100000 /* generated and signed while the clock stops */
#define EVENT_TEXT_MAX 2048
/* Room for the document's envelope and the payload's {"document": }. */
#define DOC_BYTES_MAX (HANSE_PAYLOAD_MAX - 512)
/* History queries before the measured ones (other products). */
#define WARMUP 100
#define SEED_REGULATOR 3
#define SEED_AUTHORITY 2
#define SEED_FIRST_SIGNER 10

/* ---- the workload --------------------------------------------------- */

enum { F, W, T, X, C, D, S }; /* factory, its warehouse, vehicle, export
                                 port, import customs, DC, store */
enum { BT = 1, SD = 2, TEMP = 4, CUSTOMS = 8, ILMD = 16 };

typedef struct step {
  char agg;            /* 'A': AggregationEvent under the lot's case */
  const char *action;
  const char *biz;
  const char *disp;
  int site;
  unsigned extras;
} step;

static const step journey[] = {
    {'O', "ADD", "commissioning", "active", F, ILMD},
    {'O', "OBSERVE", "encoding", "encoded", F, 0},
    {'O', "OBSERVE", "inspecting", "conformant", F, TEMP},
    {'O', "OBSERVE", "sampling", "conformant", F, 0},
    {'A', "ADD", "packing", "container_closed", F, 0},
    {'O', "OBSERVE", "storing", "sellable_not_accessible", W, 0},
    {'O', "OBSERVE", "stock_taking", "sellable_not_accessible", W, 0},
    {'O', "OBSERVE", "picking", "in_progress", W, BT},
    {'O', "OBSERVE", "staging_outbound", "in_progress", W, 0},
    {'O', "OBSERVE", "loading", "in_progress", W, 0},
    {'O', "OBSERVE", "shipping", "in_transit", W, BT | SD},
    {'O', "OBSERVE", "departing", "in_transit", T, 0},
    {'O', "OBSERVE", "transporting", "in_transit", T, TEMP},
    {'O', "OBSERVE", "arriving", "in_transit", X, 0},
    {'O', "OBSERVE", "unloading", "in_progress", X, 0},
    {'O', "OBSERVE", "storing", "in_progress", X, 0},
    {'O', "OBSERVE", "inspecting", "in_progress", X, CUSTOMS},
    {'O', "OBSERVE", "loading", "in_progress", X, BT},
    {'O', "OBSERVE", "departing", "in_transit", X, 0},
    {'O', "OBSERVE", "transporting", "in_transit", T, TEMP},
    {'O', "OBSERVE", "transporting", "in_transit", T, TEMP},
    {'O', "OBSERVE", "transporting", "in_transit", T, TEMP},
    {'O', "OBSERVE", "arriving", "in_transit", C, 0},
    {'O', "OBSERVE", "unloading", "in_progress", C, 0},
    {'O', "OBSERVE", "inspecting", "in_progress", C, CUSTOMS},
    {'O', "OBSERVE", "holding", "non_sellable_other", C, CUSTOMS},
    {'O', "OBSERVE", "accepting", "in_progress", C, CUSTOMS},
    {'O', "OBSERVE", "loading", "in_progress", C, 0},
    {'O', "OBSERVE", "departing", "in_transit", C, BT | SD},
    {'O', "OBSERVE", "transporting", "in_transit", T, TEMP},
    {'O', "OBSERVE", "arriving", "in_transit", D, 0},
    {'O', "OBSERVE", "receiving", "in_progress", D, BT | SD},
    {'O', "OBSERVE", "accepting", "sellable_not_accessible", D, BT},
    {'A', "DELETE", "unpacking", "container_open", D, 0},
    {'O', "OBSERVE", "inspecting", "conformant", D, 0},
    {'O', "OBSERVE", "storing", "sellable_not_accessible", D, 0},
    {'O', "OBSERVE", "cycle_counting", "sellable_not_accessible", D, 0},
    {'O', "OBSERVE", "picking", "in_progress", D, BT},
    {'A', "ADD", "packing", "container_closed", D, 0},
    {'O', "OBSERVE", "shipping", "in_transit", D, BT | SD},
    {'O', "OBSERVE", "transporting", "in_transit", T, TEMP},
    {'O', "OBSERVE", "receiving", "in_progress", S, BT | SD},
    {'A', "DELETE", "unpacking", "container_open", S, 0},
    {'O', "OBSERVE", "stocking", "sellable_accessible", S, 0},
    {'O', "OBSERVE", "stock_taking", "sellable_accessible", S, 0},
    {'O', "OBSERVE", "reserving", "reserved", S, 0},
    {'O', "OBSERVE", "stocking", "sellable_accessible", S, 0},
    {'O', "OBSERVE", "inspecting", "conformant", S, TEMP},
    {'O', "OBSERVE", "stock_taking", "sellable_accessible", S, 0},
    {'O', "OBSERVE", "retail_selling", "retail_sold", S, BT},
};
_Static_assert(sizeof journey / sizeof journey[0] == STEPS, "one journey step per event");

/* The GLN (company prefix, location reference) of a site for lot g:
 * four factories, twenty carriers, two customs offices, three DCs, two
 * hundred stores. */
static void site_gln(int site, uint64_t g, const char **company, unsigned *loc) {
  static const char *const co[] = {"4012345", "4012345", "4098765", "4055555",
                                   "4099999", "4023456", "4023456"};
  static const unsigned base[] = {100, 200, 300, 10, 20, 30, 1000};
  static const unsigned spread[] = {4, 4, 20, 1, 2, 3, 200};
  *company = co[site];
  *loc = base[site] + (unsigned)(g % spread[site]);
}

static void item_epc(char *out, size_t n, uint64_t g, unsigned k) {
  snprintf(out, n, "urn:epc:id:sgtin:4012345.0%05u.%llu", 11100 + (unsigned)(g % 12),
           (unsigned long long)(g * LOT_ITEMS + k));
}

static void time_text(char out[32], uint64_t ms) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  size_t l = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + l, 32 - l, ".%03uZ", (unsigned)(ms % 1000));
}

typedef struct text {
  char *p;
  size_t len, cap;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int w = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
  va_end(ap);
  IT_CHECK(w >= 0 && (size_t)w < t->cap - t->len);
  t->len += (size_t)w;
}

/* Event `i` of a workload of `lots` lots (step i / lots of lot i % lots)
 * as JSON text into out; its length. */
static size_t event_text(uint64_t lots, uint64_t i, char *out, size_t n) {
  uint64_t g = i % lots;
  unsigned s = (unsigned)(i / lots);
  const step *st = &journey[s];
  text t = {out, 0, n};
  char when[32], epc[64];
  uint64_t ms = 1704067200000ull + g * 37000 + (uint64_t)s * 3 * 3600000 + s * s * 60000ull;
  time_text(when, ms);
  put(&t, "{\"type\":\"%s\",\"eventTime\":\"%s\",\"eventTimeZoneOffset\":\"+01:00\",",
      st->agg == 'A' ? "AggregationEvent" : "ObjectEvent", when);
  if (st->agg == 'A')
    put(&t, "\"parentID\":\"urn:epc:id:sscc:4012345.%u%09llu\",\"childEPCs\":[", s > 30 ? 1 : 0,
        (unsigned long long)g);
  else
    put(&t, "\"epcList\":[");
  for (unsigned k = 0; k < LOT_ITEMS; k++) {
    item_epc(epc, sizeof epc, g, k);
    put(&t, "%s\"%s\"", k ? "," : "", epc);
  }
  const char *co;
  unsigned loc;
  site_gln(st->site, g, &co, &loc);
  put(&t, "],\"action\":\"%s\",\"bizStep\":\"%s\",\"disposition\":\"%s\","
          "\"readPoint\":{\"id\":\"urn:epc:id:sgln:%s.%05u.%u\"}",
      st->action, st->biz, st->disp, co, loc, s % 9 + 1);
  if (st->site != T) put(&t, ",\"bizLocation\":{\"id\":\"urn:epc:id:sgln:%s.%05u.0\"}", co, loc);
  if (st->extras & (BT | CUSTOMS)) {
    put(&t, ",\"bizTransactionList\":[");
    if (st->extras & BT)
      put(&t, "{\"type\":\"po\",\"bizTransaction\":\"urn:epcglobal:cbv:bt:4023456000009:PO-%llu\"}",
          (unsigned long long)(g / 20));
    if ((st->extras & BT) && (st->extras & SD))
      put(&t, ",{\"type\":\"desadv\",\"bizTransaction\":\"urn:epcglobal:cbv:bt:%s00009:"
              "DESADV-%llu-%u\"}",
          co, (unsigned long long)g, s);
    if (st->extras & CUSTOMS)
      put(&t, "{\"type\":\"cert\",\"bizTransaction\":\"urn:example:customs:mrn:24DE%012llu%02u\"}",
          (unsigned long long)g, s);
    put(&t, "]");
  }
  if (st->extras & SD)
    put(&t, ",\"sourceList\":[{\"type\":\"owning_party\",\"source\":\"urn:epc:id:pgln:%s.00000\"},"
            "{\"type\":\"location\",\"source\":\"urn:epc:id:sgln:%s.%05u.0\"}],"
            "\"destinationList\":[{\"type\":\"owning_party\","
            "\"destination\":\"urn:epc:id:pgln:4023456.00000\"}]",
        co, co, loc);
  if (st->extras & TEMP)
    put(&t, ",\"sensorElementList\":[{\"sensorMetadata\":{\"time\":\"%s\"},"
            "\"sensorReport\":[{\"type\":\"Temperature\",\"value\":%u.%u,\"uom\":\"CEL\"}]}]",
        when, 2 + (unsigned)((g + s) % 6), (unsigned)((g * 7 + s) % 10));
  if (st->extras & ILMD)
    put(&t, ",\"ilmd\":{\"cbvmda:lotNumber\":\"LOT-%llu\"}", (unsigned long long)g);
  put(&t, "}");
  return t.len;
}

/* ---- capture through the node ----------------------------------------- */

typedef struct doc_req {
  hanse_buf body;   /* binary entries: DOCS_PER_REQUEST transactions */
  uint32_t events;  /* events in them */
  uint32_t txs;
} doc_req;

typedef struct capture_client {
  it_node *node;
  doc_req *reqs;
  size_t nreqs, cap;
  uint64_t seq;     /* next sequence of this client's signer */
  uint64_t committed; /* events whose transaction committed "ok" */
  int errors;
} capture_client;

static size_t count_ok(const char *body) {
  size_t n = 0;
  for (const char *p = body; p && (p = strstr(p, "\"code\":\"ok\"")) != NULL; p++) n++;
  return n;
}

static void *capture_main(void *arg) {
  capture_client *c = arg;
  char url[160];
  snprintf(url, sizeof url, "%s/v1/chains/bench/txs?wait=1&timeout_ms=60000", c->node->url);
  for (size_t i = 0; i < c->nreqs; i++) {
    doc_req *r = &c->reqs[i];
    it_resp resp;
    int rc = it_http("POST", url, "application/octet-stream", r->body.data, r->body.len, &resp);
    size_t ok = rc == 0 && resp.status == 200 ? count_ok(resp.body) : 0;
    if (ok == r->txs)
      c->committed += r->events;
    else if (c->errors++ < 3)
      fprintf(stderr, "bench: capture request: %ld %.300s\n", resp.status,
              resp.body ? resp.body : "");
    it_resp_free(&resp);
  }
  return NULL;
}

/* Events [from, to) as documents, dealt to the clients in turn and packed
 * DOCS_PER_REQUEST to a request; each document signed by its client's
 * key with that key's next sequence number. */
static void capture_build(capture_client *cl, int clients, uint64_t lots, uint64_t from,
                          uint64_t to) {
  static const char head[] =
      "{\"document\":{\"@context\":\"https://ref.gs1.org/standards/epcis/2.0.0/"
      "epcis-context.jsonld\",\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\","
      "\"creationDate\":\"2024-06-01T00:00:00Z\",\"epcisBody\":{\"eventList\":[";
  static const char tail[] = "]}}}";
  char *doc = malloc(HANSE_PAYLOAD_MAX + 1);
  char ev[EVENT_TEXT_MAX];
  IT_CHECK(doc != NULL);
  int next_client = 0;
  uint64_t i = from;
  size_t evlen = 0;
  int have_ev = 0;
  while (i < to || have_ev) {
    size_t len = strlen(head);
    memcpy(doc, head, len);
    uint32_t nev = 0;
    while (nev < TRACE_EVENTS_MAX) {
      if (!have_ev) {
        if (i == to) break;
        evlen = event_text(lots, i++, ev, sizeof ev);
        have_ev = 1;
      }
      if (len + 1 + evlen + sizeof tail > DOC_BYTES_MAX) break;
      if (nev) doc[len++] = ',';
      memcpy(doc + len, ev, evlen);
      len += evlen;
      nev++;
      have_ev = 0;
    }
    memcpy(doc + len, tail, sizeof tail);
    capture_client *c = &cl[next_client];
    next_client = (next_client + 1) % clients;
    if (c->nreqs == 0 || c->reqs[c->nreqs - 1].txs == DOCS_PER_REQUEST) {
      if (c->nreqs == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 64;
        c->reqs = realloc(c->reqs, c->cap * sizeof *c->reqs);
        IT_CHECK(c->reqs != NULL);
      }
      doc_req *r = &c->reqs[c->nreqs++];
      memset(r, 0, sizeof *r);
      hanse_buf_init(&r->body);
    }
    doc_req *r = &c->reqs[c->nreqs - 1];
    hanse_buf tx;
    hanse_buf_init(&tx);
    uint8_t seed = (uint8_t)(SEED_FIRST_SIGNER + (int)(c - cl));
    it_tx_bytes(&tx, "bench", "trace.capture", seed, c->seq++, doc, 0);
    hanse_body_entry_append(&r->body, HANSE_ENTRY_TX, tx.data, tx.len);
    hanse_buf_free(&tx);
    r->events += nev;
    r->txs++;
  }
  free(doc);
}

/* Send what capture_build prepared; the seconds it took. */
static double capture_send(capture_client *cl, int clients) {
  pthread_t t[CLIENTS_MAX];
  double start = it_now_s();
  for (int c = 0; c < clients; c++) pthread_create(&t[c], NULL, capture_main, &cl[c]);
  for (int c = 0; c < clients; c++) pthread_join(t[c], NULL);
  double elapsed = it_now_s() - start;
  for (int c = 0; c < clients; c++) {
    for (size_t r = 0; r < cl[c].nreqs; r++) hanse_buf_free(&cl[c].reqs[r].body);
    cl[c].nreqs = 0;
  }
  return elapsed;
}

/* ---- the chain -------------------------------------------------------- */

/* An alliance chain "bench" (its default policy: members submit, the
 * regulator reads every class): one organisation per client, each its
 * founder key, and an authority whose founder registers a regulator. */
static void chain_start(it_node *n, const char *hanse, int clients) {
  uint8_t none[] = {250};
  it_init(n, hanse, "scratch", none, 1);
  json_t *orgs = json_array();
  static const char *const roles[] = {"manufacturer", "logistics", "warehouse", "platform"};
  for (int c = 0; c < clients; c++) {
    char hex[65], id[16];
    it_pubhex(hex, (uint8_t)(SEED_FIRST_SIGNER + c));
    snprintf(id, sizeof id, "org%d", c);
    json_array_append_new(orgs, json_pack("{s:s, s:s, s:s, s:[s]}", "id", id, "name", id, "role",
                                          roles[c % 4], "keys", hex));
  }
  char auth[65];
  it_pubhex(auth, SEED_AUTHORITY);
  json_array_append_new(orgs, json_pack("{s:s, s:s, s:s, s:[s]}", "id", "authority", "name",
                                        "Authority", "role", "regulator", "keys", auth));
  it_init_genesis(n, json_pack("{s:s, s:s, s:o}", "chain_id", "bench", "type", "alliance",
                               "organisations", orgs));
  IT_CHECK(it_start(n, NULL, NULL) == 0);
  hanse_keypair admin;
  it_key(&admin, SEED_AUTHORITY);
  it_member_register(n, "bench", &admin, SEED_REGULATOR, "regulator");
}

/* ---- latencies -------------------------------------------------------- */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

typedef struct lat {
  double p50_ms, p99_ms;
} lat;

static lat percentiles(double *s, size_t n) {
  qsort(s, n, sizeof *s, cmp_double);
  lat l = {s[n / 2] * 1000, s[(size_t)((double)n * 0.99)] * 1000};
  return l;
}

/* The products asked for: item k of lot g, as (g * LOT_ITEMS + k). */
static uint64_t *pick_products(uint64_t lots, size_t n) {
  uint64_t *p = malloc(n * sizeof *p);
  IT_CHECK(p != NULL);
  uint64_t r = 0x9e3779b97f4a7c15ull;
  for (size_t i = 0; i < n; i++) {
    r ^= r << 13, r ^= r >> 7, r ^= r << 17;
    p[i] = r % (lots * LOT_ITEMS);
  }
  return p;
}

static lat history_node(it_node *n, const uint64_t *products, size_t nq) {
  hanse_keypair reg;
  it_key(&reg, SEED_REGULATOR);
  hanse_client *c = NULL;
  hanse_reject rej;
  IT_CHECK(hanse_client_create(n->url, "bench", &c, &rej) == HANSE_OK);
  hanse_client_set_signer(c, &reg);
  double *s = malloc(nq * sizeof *s);
  IT_CHECK(s != NULL);
  hanse_buf body;
  hanse_buf_init(&body);
  for (size_t i = 0; i < nq + WARMUP; i++) { /* the first WARMUP are not counted */
    uint64_t p = products[i];
    char epc[64], path[200];
    item_epc(epc, sizeof epc, p / LOT_ITEMS, (unsigned)(p % LOT_ITEMS));
    snprintf(path, sizeof path, "/v1/chains/bench/epcis/epcs/%s/events?perPage=100", epc);
    double t0 = it_now_s();
    int rc = hanse_client_get_raw(c, path, &body, 1 << 22, &rej);
    double dt = it_now_s() - t0;
    if (rc != HANSE_OK) fprintf(stderr, "bench: %s: %s %s\n", path, rej.code, rej.message);
    IT_CHECK(rc == HANSE_OK);
    /* checked after the clock stopped: parsing is the client's business */
    json_t *doc = json_loadb((const char *)body.data, body.len, 0, NULL);
    json_t *list = json_object_get(
        json_object_get(json_object_get(json_object_get(doc, "epcisBody"), "queryResults"),
                        "resultsBody"),
        "eventList");
    if (json_array_size(list) != STEPS)
      fprintf(stderr, "bench: %s: %zu events\n", epc, json_array_size(list));
    IT_CHECK(json_array_size(list) == STEPS);
    json_decref(doc);
    if (i >= WARMUP) s[i - WARMUP] = dt;
  }
  hanse_buf_free(&body);
  hanse_client_destroy(c);
  lat l = percentiles(s, nq);
  free(s);
  return l;
}

/* ---- the baseline: SQLite --------------------------------------------- */

typedef struct baseline {
  double insert_rate;
  lat history;
  double bytes;
} baseline;

static double file_bytes(const char *path) {
  struct stat st;
  char wal[320];
  snprintf(wal, sizeof wal, "%s-wal", path);
  double b = stat(path, &st) == 0 ? (double)st.st_size : 0;
  return b + (stat(wal, &st) == 0 ? (double)st.st_size : 0);
}

static baseline bench_sqlite(const char *dir, uint64_t lots, const uint64_t *products, size_t nq) {
  baseline out = {0};
  char path[300];
  snprintf(path, sizeof path, "%s/baseline-trace.db", dir);
  static const char *const sfx[] = {"", "-wal", "-shm"};
  for (int k = 0; k < 3; k++) { /* left by an earlier run in a reused directory */
    char old[320];
    snprintf(old, sizeof old, "%s%s", path, sfx[k]);
    unlink(old);
  }
  sqlite3 *db;
  IT_CHECK(sqlite3_open(path, &db) == SQLITE_OK);
  IT_CHECK(sqlite3_exec(db,
                        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                        "CREATE TABLE event(seq INTEGER PRIMARY KEY, body TEXT NOT NULL);"
                        "CREATE TABLE event_epc(epc TEXT NOT NULL, seq INTEGER NOT NULL,"
                        " PRIMARY KEY(epc, seq)) WITHOUT ROWID;",
                        NULL, NULL, NULL) == SQLITE_OK);
  sqlite3_stmt *ins, *link, *q;
  IT_CHECK(sqlite3_prepare_v2(db, "INSERT INTO event(seq, body) VALUES (?1, ?2)", -1, &ins,
                              NULL) == SQLITE_OK);
  IT_CHECK(sqlite3_prepare_v2(db, "INSERT INTO event_epc(epc, seq) VALUES (?1, ?2)", -1, &link,
                              NULL) == SQLITE_OK);
  enum { PER_COMMIT = 1000 };
  char (*texts)[EVENT_TEXT_MAX] = malloc(PER_COMMIT * sizeof *texts);
  size_t *lens = malloc(PER_COMMIT * sizeof *lens);
  IT_CHECK(texts != NULL && lens != NULL);
  uint64_t total = lots * STEPS;
  double timed = 0;
  for (uint64_t from = 0; from < total; from += PER_COMMIT) {
    uint64_t n = total - from < PER_COMMIT ? total - from : PER_COMMIT;
    for (uint64_t k = 0; k < n; k++) lens[k] = event_text(lots, from + k, texts[k], EVENT_TEXT_MAX);
    double t0 = it_now_s();
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    for (uint64_t k = 0; k < n; k++) {
      uint64_t i = from + k;
      sqlite3_bind_int64(ins, 1, (sqlite3_int64)i);
      sqlite3_bind_text(ins, 2, texts[k], (int)lens[k], SQLITE_STATIC);
      IT_CHECK(sqlite3_step(ins) == SQLITE_DONE);
      sqlite3_reset(ins);
      for (unsigned e = 0; e < LOT_ITEMS; e++) {
        char epc[64];
        item_epc(epc, sizeof epc, i % lots, e);
        sqlite3_bind_text(link, 1, epc, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(link, 2, (sqlite3_int64)i);
        IT_CHECK(sqlite3_step(link) == SQLITE_DONE);
        sqlite3_reset(link);
      }
    }
    IT_CHECK(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
    timed += it_now_s() - t0;
  }
  free(texts);
  free(lens);
  out.insert_rate = (double)total / timed;
  out.bytes = file_bytes(path);
  IT_CHECK(sqlite3_prepare_v2(db,
                              "SELECT e.body FROM event_epc x JOIN event e ON e.seq = x.seq "
                              "WHERE x.epc = ?1 ORDER BY x.seq",
                              -1, &q, NULL) == SQLITE_OK);
  double *s = malloc(nq * sizeof *s);
  IT_CHECK(s != NULL);
  for (size_t i = 0; i < nq + WARMUP; i++) {
    uint64_t p = products[i];
    char epc[64];
    item_epc(epc, sizeof epc, p / LOT_ITEMS, (unsigned)(p % LOT_ITEMS));
    double t0 = it_now_s();
    sqlite3_bind_text(q, 1, epc, -1, SQLITE_TRANSIENT);
    size_t rows = 0, bytes = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
      bytes += (size_t)sqlite3_column_bytes(q, 0);
      rows++;
    }
    sqlite3_reset(q);
    double dt = it_now_s() - t0;
    IT_CHECK(rows == STEPS && bytes > 0);
    if (i >= WARMUP) s[i - WARMUP] = dt;
  }
  out.history = percentiles(s, nq);
  free(s);
  sqlite3_finalize(ins);
  sqlite3_finalize(link);
  sqlite3_finalize(q);
  sqlite3_close(db);
  return out;
}

/* Capture the whole workload through the node, CHUNK_EVENTS at a time;
 * prints the figures and returns the rate. */
static double capture_all(it_node *n, int clients, uint64_t lots, int *errors) {
  uint64_t total = lots * STEPS;
  capture_client cl[CLIENTS_MAX];
  memset(cl, 0, sizeof cl);
  for (int c = 0; c < clients; c++) {
    cl[c].node = n;
    cl[c].seq = 1;
  }
  double sending = 0, last_rate = 0, building = 0;
  uint64_t last_chunk = 0;
  for (uint64_t from = 0; from < total; from += CHUNK_EVENTS) {
    uint64_t to = total - from < CHUNK_EVENTS ? total : from + CHUNK_EVENTS;
    double b0 = it_now_s();
    capture_build(cl, clients, lots, from, to);
    building += it_now_s() - b0;
    uint64_t before = 0, after = 0;
    for (int c = 0; c < clients; c++) before += cl[c].committed;
    double dt = capture_send(cl, clients);
    for (int c = 0; c < clients; c++) after += cl[c].committed;
    sending += dt;
    last_rate = (double)(after - before) / dt;
    last_chunk = to - from;
    fprintf(stderr, "bench: %llu events stored, %.0f events/s in the last %llu\n",
            (unsigned long long)to, last_rate, (unsigned long long)(to - from));
  }
  uint64_t committed = 0;
  for (int c = 0; c < clients; c++) {
    committed += cl[c].committed;
    *errors += cl[c].errors;
    free(cl[c].reqs);
  }
  fprintf(stderr, "bench: generated and signed the documents in %.1f s (not timed)\n", building);
  double capture_rate = (double)committed / sending;
  printf("BENCH trace_capture %.0f events/s (%llu of %llu events committed; documents of up to "
         "%d events, %d per request, %d clients; the last %llu at %.0f events/s)\n",
         capture_rate, (unsigned long long)committed, (unsigned long long)total,
         TRACE_EVENTS_MAX, DOCS_PER_REQUEST, clients, (unsigned long long)last_chunk, last_rate);
  fflush(stdout);
  IT_CHECK(committed == total);
  return capture_rate;
}


/* ---- the mode --------------------------------------------------------- */

static uint64_t env_u64(const char *name, uint64_t dflt) {
  const char *v = getenv(name);
  return v && atoll(v) > 0 ? (uint64_t)atoll(v) : dflt;
}

int bench_trace_main(const char *hanse) {
  uint64_t lots = env_u64("HANSE_BENCH_TRACE_EVENTS", 1000000) / STEPS;
  size_t nq = (size_t)env_u64("HANSE_BENCH_TRACE_QUERIES", 2000);
  int clients = (int)env_u64("HANSE_BENCH_TRACE_CLIENTS", 4);
  if (clients > CLIENTS_MAX) clients = CLIENTS_MAX;
  IT_CHECK(lots > 0);
  uint64_t total = lots * STEPS;

  it_node n;
  double capture_rate = 0;
  int errors = 0;
  const char *reuse = getenv("HANSE_BENCH_TRACE_DATA");
  if (reuse) {
    setenv("HANSE_KEEP_DIRS", "1", 1); /* never remove the caller's directory */
    memset(&n, 0, sizeof n);
    n.hanse = hanse;
    snprintf(n.dir, sizeof n.dir, "%s", reuse);
    IT_CHECK(it_start(&n, NULL, NULL) == 0);
    fprintf(stderr, "bench: reusing the chain in %s, capture skipped\n", reuse);
  } else {
    chain_start(&n, hanse, clients);
    fprintf(stderr, "bench: data directory %s (kept with HANSE_KEEP_DIRS=1)\n", n.dir);
    capture_rate = capture_all(&n, clients, lots, &errors);
  }

  uint64_t *products = pick_products(lots, nq + WARMUP);
  lat h = history_node(&n, products, nq);
  printf("BENCH trace_history_latency_p50 %.2f ms (%d events of one product among %llu events, "
         "%zu random products, signed GET /epcis/epcs/{epc}/events)\n",
         h.p50_ms, STEPS, (unsigned long long)total, nq);
  printf("BENCH trace_history_latency_p99 %.2f ms\n", h.p99_ms);
  fflush(stdout);
  char dbpath[300];
  snprintf(dbpath, sizeof dbpath, "%s/chains/bench/chain.db", n.dir);
  double node_bytes = file_bytes(dbpath);
  it_stop(&n);

  baseline b = bench_sqlite(n.dir, lots, products, nq);
  free(products);
  printf("BENCH baseline_sqlite_trace_insert %.0f events/s (plain SQLite, the same event texts, "
         "an index on the identifier, 1000 per commit, no signatures)\n",
         b.insert_rate);
  printf("BENCH baseline_sqlite_trace_history_p50 %.3f ms (the same products, one indexed join, "
         "in process)\n",
         b.history.p50_ms);
  printf("BENCH baseline_sqlite_trace_history_p99 %.3f ms\n", b.history.p99_ms);
  printf("BENCH trace_bytes_per_event %.0f bytes (node chain.db; SQLite %.0f)\n",
         node_bytes / (double)total, b.bytes / (double)total);
  printf("BENCH ratio_trace_capture_to_sqlite %.2f\n", capture_rate / b.insert_rate);
  printf("BENCH ratio_trace_history_p99_to_sqlite %.1f\n", h.p99_ms / b.history.p99_ms);
  printf("BENCH target_trace_history_p99_5ms %s\n", h.p99_ms <= 5.0 ? "met" : "missed");
  it_cleanup_all();
  return errors ? 1 : 0;
}
