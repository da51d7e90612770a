/*
 * test_epcis.c -- EPCIS capture and the query binding against a real node.
 *
 * An alliance chain "trace" whose policy lets manufacturers, logistics
 * and customs capture, and reads: production to manufacturers (and to
 * anyone: "public", so the paging part can use unsigned requests),
 * transport to logistics, customs_inspection to customs, transaction to
 * banks; the regulator reads everything; consumers nothing of these.
 *
 *  1. Every JSON example of tests/vectors/epcis/examples is captured, one
 *     trace.capture each, in name order. The examples reuse eventIDs
 *     across files (README: "treat each file as its own scenario"), so a
 *     file whose eventID an earlier file already captured is rejected
 *     trace.duplicate -- exactly those, and every other file commits.
 *  2. Each event of the committed files comes back by EQ_eventID equal to
 *     the original (recordTime is the block's; a missing eventID is the
 *     hash ID; CBV values in bare words), read by the regulator.
 *  3. Query parameters: eventType, GE/LT_eventTime, GE_recordTime,
 *     EQ_bizStep, EQ_disposition, MATCH_epc, MATCH_anyEPC,
 *     MATCH_parentID, MATCH_inputEPC, MATCH_outputEPC, EQ_readPoint,
 *     EQ_bizLocation, EQ_type_bizTransaction, /epcs/{epc}/events,
 *     /eventTypes; unknown parameters are 400.
 *  4. Permissions by class: logistics sees transport events (and the
 *     public production ones), customs its customs inspection, the
 *     regulator everything, a consumer and unsigned requests the public
 *     production events only; a transaction-class event stays hidden
 *     from logistics.
 *  5. Paging: perPage and the Link header's nextPageToken walk every
 *     public event once.
 */
#include <curl/curl.h>
#include <dirent.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "hanse/client.h"
#include "itest.h"

#define CHAIN "trace"
#define FOUNDER 1
#define MANUFACTURER 10
#define LOGISTICS 11
#define CUSTOMS 12
#define REGULATOR 13
#define CONSUMER 14

static it_node node;

/* Submit one transaction signed by kp and wait; the code of its receipt
 * ("ok", "trace.duplicate", ...). Static storage. */
static const char *submit(const hanse_keypair *kp, const char *kind, json_t *payload) {
  return it_client_submit(&node, CHAIN, kp, kind, payload);
}

/* A signed GET of /v1/chains/trace/epcis<path>; the status, *out the body
 * (JSON, may be NULL), code the error code. */
static long get_as(const hanse_keypair *kp, const char *path, json_t **out, char code[64]) {
  char full[4096];
  snprintf(full, sizeof full, "/v1/chains/%s/epcis%s", CHAIN, path);
  return it_client_get(&node, CHAIN, kp, full, out, code);
}

static json_t *event_list(json_t *doc) {
  json_t *body = json_object_get(doc, "epcisBody");
  json_t *l = json_object_get(body, "eventList");
  if (l == NULL)
    l = json_object_get(json_object_get(json_object_get(body, "queryResults"), "resultsBody"),
                        "eventList");
  return l;
}

/* Events a reader gets for a query string ("" for all). */
static json_t *query(const hanse_keypair *kp, const char *qs) {
  char path[2048], code[64];
  snprintf(path, sizeof path, "/events?perPage=500%s%s", qs[0] ? "&" : "", qs);
  json_t *doc = NULL;
  long st = get_as(kp, path, &doc, code);
  if (st != 200) fprintf(stderr, "GET %s: %ld %s\n", path, st, code);
  IT_CHECK(st == 200);
  IT_CHECK(strcmp(json_string_value(json_object_get(doc, "type")), "EPCISQueryDocument") == 0);
  json_t *l = json_incref(event_list(doc));
  json_decref(doc);
  IT_CHECK(l != NULL);
  return l;
}

static size_t n_events(const hanse_keypair *kp, const char *qs) {
  json_t *l = query(kp, qs);
  size_t n = json_array_size(l);
  json_decref(l);
  return n;
}

static char *esc(const char *s) {
  char *e = curl_easy_escape(NULL, s, 0);
  IT_CHECK(e != NULL);
  return e;
}

/* The original event, as the node should give it back: without the
 * recordTime it did not set, CBV values in bare words. */
static int same_event(json_t *orig, json_t *got) {
  json_t *a = json_deep_copy(orig), *b = json_deep_copy(got);
  json_object_del(a, "recordTime");
  json_object_del(b, "recordTime");
  if (json_object_get(a, "eventID") == NULL) json_object_del(b, "eventID");
  int eq = json_equal(a, b);
  if (!eq) {
    char *ta = json_dumps(a, JSON_SORT_KEYS | JSON_COMPACT), *tb = json_dumps(b, JSON_SORT_KEYS | JSON_COMPACT);
    fprintf(stderr, "differs:\n  sent %s\n  got  %s\n", ta, tb);
    free(ta);
    free(tb);
  }
  json_decref(a);
  json_decref(b);
  return eq;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
  IT_CHECK(argc >= 2);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  IT_CHECK(sodium_init() >= 0);
  uint8_t none[] = {250};
  it_init(&node, argv[1], "scratch", none, 1);
  char hex[65];
  it_pubhex(hex, FOUNDER);
  json_t *policy = json_pack(
      "{s:{s:[s], s:[s,s,s]}, s:{s:[s,s,s], s:[s,s], s:[s,s], s:[s,s], s:[s,s,s,s]}, "
      "s:[s]}",
      "submit", "member.*", "admin", "trace.*", "manufacturer", "logistics", "customs", "read",
      "production", "manufacturer", "regulator", "public", "transport", "logistics", "regulator",
      "customs_inspection", "customs", "regulator", "transaction", "bank", "regulator",
      "personal", "admin", "ca", "regulator", "auditor", "public", "blocks");
  json_t *g = json_pack("{s:s, s:s, s:[{s:s, s:s, s:s, s:[s]}], s:o}", "chain_id", CHAIN, "type",
                        "alliance", "organisations", "id", "hq", "name", "HQ", "role",
                        "platform", "keys", hex, "policy", policy);
  it_init_genesis(&node, g);
  IT_CHECK(it_start(&node, NULL, NULL) == 0);

  hanse_keypair founder, man, log, cus, reg, con;
  it_key(&founder, FOUNDER);
  it_key(&man, MANUFACTURER);
  it_key(&log, LOGISTICS);
  it_key(&cus, CUSTOMS);
  it_key(&reg, REGULATOR);
  it_key(&con, CONSUMER);
  static const struct {
    uint8_t seed;
    const char *role;
  } members[] = {{MANUFACTURER, "manufacturer"}, {LOGISTICS, "logistics"},
                 {CUSTOMS, "customs"},           {REGULATOR, "regulator"},
                 {CONSUMER, "consumer"}};
  for (size_t i = 0; i < sizeof members / sizeof members[0]; i++)
    it_member_register(&node, CHAIN, &founder, members[i].seed, members[i].role);

  /* 1. Every example, in name order. */
  char dirpath[600];
  snprintf(dirpath, sizeof dirpath, "%s/epcis/examples", HANSE_VECTORS_DIR);
  DIR *dir = opendir(dirpath);
  IT_CHECK(dir != NULL);
  char *names[64];
  size_t nn = 0;
  struct dirent *de;
  while ((de = readdir(dir)) != NULL && nn < 64)
    if (de->d_name[0] != '.') names[nn++] = strdup(de->d_name);
  closedir(dir);
  IT_CHECK(nn == 29);
  qsort(names, nn, sizeof names[0], cmp_names);
  json_t *seen = json_object();    /* eventID -> 1 (captured) */
  json_t *accepted = json_array(); /* the documents that committed */
  size_t dups = 0;
  for (size_t i = 0; i < nn; i++) {
    char path[900];
    snprintf(path, sizeof path, "%s/%s", dirpath, names[i]);
    json_t *doc = json_load_file(path, 0, NULL);
    IT_CHECK(doc != NULL);
    int expect_dup = 0;
    size_t k;
    json_t *ev;
    json_array_foreach(event_list(doc), k, ev) {
      const char *id = json_string_value(json_object_get(ev, "eventID"));
      if (id && json_object_get(seen, id)) expect_dup = 1;
    }
    const char *code = submit(&man, "trace.capture", json_pack("{s:O}", "document", doc));
    if (strcmp(code, expect_dup ? "trace.duplicate" : "ok") != 0)
      fprintf(stderr, "%s: %s (expected %s)\n", names[i], code, expect_dup ? "dup" : "ok");
    IT_CHECK(strcmp(code, expect_dup ? "trace.duplicate" : "ok") == 0);
    if (expect_dup) {
      dups++;
    } else {
      json_array_foreach(event_list(doc), k, ev) {
        const char *id = json_string_value(json_object_get(ev, "eventID"));
        if (id) json_object_set_new(seen, id, json_true());
      }
      json_array_append(accepted, doc);
    }
    json_decref(doc);
  }
  IT_CHECK(dups == 3); /* 9.6.1 after the query document, Example-Type after -f,
                          all-possible-fields after the error declaration */
  /* capturing a committed document again is a duplicate */
  IT_CHECK(strcmp(submit(&man, "trace.capture",
                         json_pack("{s:O}", "document", json_array_get(accepted, 0))),
                  "trace.duplicate") == 0);

  /* 2. Every event of every committed document, back by its eventID. */
  size_t i;
  json_t *doc;
  size_t checked = 0;
  json_array_foreach(accepted, i, doc) {
    size_t k;
    json_t *ev;
    json_array_foreach(event_list(doc), k, ev) {
      const char *id = json_string_value(json_object_get(ev, "eventID"));
      if (id == NULL) continue; /* computed: checked by MATCH below */
      char *e = esc(id), qs[1024];
      snprintf(qs, sizeof qs, "EQ_eventID=%s", e);
      curl_free(e);
      json_t *l = query(&reg, qs);
      /* the declaration and the event share their id: compare with the one
       * that carries errorDeclaration exactly when the original does */
      json_t *got = NULL;
      size_t j;
      json_t *x;
      json_array_foreach(l, j, x) if ((json_object_get(x, "errorDeclaration") != NULL) ==
                                      (json_object_get(ev, "errorDeclaration") != NULL)) got = x;
      IT_CHECK(got != NULL);
      char *text = json_dumps(ev, 0);
      IT_CHECK(text != NULL);
      int bare_words = strstr(text, "urn:epcglobal:cbv:") == NULL;
      free(text);
      if (bare_words) IT_CHECK(same_event(ev, got));
      json_decref(l);
      checked++;
    }
  }
  IT_CHECK(checked >= 25);

  /* 3. Parameters (regulator reads everything). */
  size_t all = n_events(&reg, "");
  IT_CHECK(all >= 30);
  IT_CHECK(n_events(&reg, "eventType=AggregationEvent") == 2);
  IT_CHECK(n_events(&reg, "eventType=AssociationEvent%7CAggregationEvent") == 7);
  IT_CHECK(n_events(&reg, "eventType=TransformationEvent") == 4);
  IT_CHECK(n_events(&reg, "EQ_bizStep=assembling") >= 1);
  IT_CHECK(n_events(&reg, "EQ_bizStep=https%3A%2F%2Fref.gs1.org%2Fcbv%2FBizStep-assembling") ==
           n_events(&reg, "EQ_bizStep=assembling"));
  IT_CHECK(n_events(&reg, "EQ_disposition=needs_replacement") >= 1);
  IT_CHECK(n_events(&reg, "MATCH_epc=urn:epc:id:sgtin:0614141.107346.2017") >= 2);
  IT_CHECK(n_events(&reg, "MATCH_parentID=urn:epc:id:grai:4012345.55555.987") >= 2);
  IT_CHECK(n_events(&reg, "MATCH_anyEPC=urn:epc:id:grai:4012345.55555.987") >=
           n_events(&reg, "MATCH_parentID=urn:epc:id:grai:4012345.55555.987"));
  IT_CHECK(n_events(&reg, "MATCH_inputEPC=urn:epc:id:sgtin:4012345.011122.25") >= 1);
  IT_CHECK(n_events(&reg, "MATCH_outputEPC=urn:epc:id:sgtin:4012345.077889.25") >= 1);
  IT_CHECK(n_events(&reg, "EQ_readPoint=urn:epc:id:sgln:0614141.07346.1234") >= 2);
  IT_CHECK(n_events(&reg, "EQ_bizLocation=urn:epc:id:sgln:0012345.11111.0") >= 1);
  IT_CHECK(n_events(&reg, "EQ_type_bizTransaction=po") >= 2);
  IT_CHECK(n_events(&reg, "GE_eventTime=2019-01-01T00:00:00Z&LT_eventTime=2020-01-01T00:00:00Z") >=
           4); /* the association examples of November 2019 */
  IT_CHECK(n_events(&reg, "GE_recordTime=2000-01-01T00:00:00Z") == all);
  IT_CHECK(n_events(&reg, "GE_recordTime=2099-01-01T00:00:00Z") == 0);
  {
    char code[64];
    json_t *d = NULL;
    IT_CHECK(get_as(&reg, "/epcs/urn:epc:id:sgtin:0614141.107346.2018/events", &d, code) == 200);
    IT_CHECK(json_array_size(event_list(d)) >= 3);
    json_decref(d);
    IT_CHECK(get_as(&reg, "/events?EQ_colour=red", NULL, code) == 400);
    IT_CHECK(strcmp(code, "trace.bad_query") == 0);
    IT_CHECK(get_as(&reg, "/eventTypes", &d, code) == 200);
    IT_CHECK(json_array_size(json_object_get(d, "member")) == 5);
    json_decref(d);
  }

  /* 4. Classes. A customs inspection, captured by customs. */
  json_t *insp = json_loads(
      "{\"@context\":\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\","
      "\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\",\"creationDate\":"
      "\"2024-05-01T10:00:00Z\",\"epcisBody\":{\"eventList\":[{\"type\":\"ObjectEvent\","
      "\"eventTime\":\"2024-05-01T09:00:00Z\",\"eventTimeZoneOffset\":\"+00:00\","
      "\"epcList\":[\"urn:epc:id:sscc:4012345.0000000077\"],\"action\":\"OBSERVE\","
      "\"bizStep\":\"inspecting\",\"disposition\":\"conformant\",\"bizTransactionList\":"
      "[{\"type\":\"https://customs.example/customs_declaration\",\"bizTransaction\":"
      "\"https://customs.example/decl/77\"}],\"sensorElementList\":[{\"sensorReport\":"
      "[{\"type\":\"Temperature\",\"value\":4.5,\"uom\":\"CEL\"}]}]}]}}",
      0, NULL);
  IT_CHECK(insp != NULL);
  IT_CHECK(strcmp(submit(&cus, "trace.capture", json_pack("{s:o}", "document", insp)), "ok") == 0);
  const char *sscc = "MATCH_epc=urn:epc:id:sscc:4012345.0000000077";
  IT_CHECK(n_events(&cus, sscc) == 1);
  IT_CHECK(n_events(&reg, sscc) == 1);
  IT_CHECK(n_events(&log, sscc) == 0);
  IT_CHECK(n_events(&man, sscc) == 0);
  /* production is public in this policy: everyone reads it; logistics
   * reads transport besides, nothing else */
  json_t *pub = query(&con, "");
  size_t production = json_array_size(pub);
  IT_CHECK(production > 0);
  json_t *pub_ids = json_object();
  json_array_foreach(pub, i, doc)
      json_object_set_new(pub_ids, json_string_value(json_object_get(doc, "eventID")), json_true());
  json_decref(pub);
  IT_CHECK(n_events(&man, "") == production);
  json_t *l = query(&log, "");
  size_t transport = 0;
  json_array_foreach(l, i, doc) {
    if (json_object_get(pub_ids, json_string_value(json_object_get(doc, "eventID")))) continue;
    transport++;
    const char *step = json_string_value(json_object_get(doc, "bizStep"));
    IT_CHECK(step != NULL);
    static const char *const transport_steps[] = {
        "shipping", "receiving", "departing", "arriving", "transporting", "loading",
        "unloading", "storing", "staging_outbound", "picking", "stocking", "stock_taking",
        "cycle_counting", "consigning", "collecting", "entering_exiting", "void_shipping", NULL};
    int ok = 0;
    for (int k = 0; transport_steps[k]; k++) ok |= strcmp(step, transport_steps[k]) == 0;
    if (!ok) fprintf(stderr, "logistics read a %s event\n", step);
    IT_CHECK(ok);
  }
  json_decref(l);
  json_decref(pub_ids);
  IT_CHECK(transport > 0 && production + transport < all + 1);
  /* a transaction-class event: the regulator reads it, logistics does not */
  const char *hc = "EQ_bizStep=http%3A%2F%2Fepcis.example.org%2Fhc%2Fbizstep%2Fsummarising_discharge";
  IT_CHECK(n_events(&reg, hc) == 1);
  IT_CHECK(n_events(&log, hc) == 0);
  IT_CHECK(n_events(&con, sscc) == 0);
  /* 5. Paging, unsigned: the public (production) events, 4 a page. */
  {
    char url[4096];
    snprintf(url, sizeof url, "%s/v1/chains/%s/epcis/events?perPage=4", node.url, CHAIN);
    size_t total = 0, pages = 0;
    while (1) {
      it_resp r;
      IT_CHECK(it_http("GET", url, NULL, NULL, 0, &r) == 0);
      if (r.status != 200) fprintf(stderr, "paging: %ld %s\n", r.status, r.body);
      IT_CHECK(r.status == 200);
      json_t *d = json_loads(r.body, 0, NULL);
      IT_CHECK(d != NULL);
      size_t n = json_array_size(event_list(d));
      IT_CHECK(n <= 4);
      total += n;
      pages++;
      json_decref(d);
      char *lt = strchr(r.link, '<'), *gt = lt ? strchr(lt, '>') : NULL;
      if (gt == NULL) {
        it_resp_free(&r);
        break;
      }
      IT_CHECK(strstr(r.link, "rel=\"next\"") != NULL);
      snprintf(url, sizeof url, "%s%.*s", node.url, (int)(gt - lt - 1), lt + 1);
      it_resp_free(&r);
      IT_CHECK(pages < 100);
    }
    IT_CHECK(total == production);
    IT_CHECK(pages >= 2);
  }

  json_decref(seen);
  json_decref(accepted);
  for (size_t k = 0; k < nn; k++) free(names[k]);
  it_stop(&node);
  it_cleanup_all();
  printf("test_epcis: ok (%zu events, %zu production, %zu transport)\n", all, production,
         transport);
  return 0;
}
