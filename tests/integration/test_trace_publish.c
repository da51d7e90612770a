/*
 * test_trace_publish.c -- a sold item's record from the alliance chain to
 * the open chain, on one real node serving both; complaints there.
 *
 * Chain "alliance" (type alliance) has four organisations: acme
 * (manufacturer), shipco (logistics), customs (customs) and shop
 * (platform); the node key is its validator. Chain "open" (type open)
 * names that key as the alliance's validator ("peers"). Then:
 *
 *  1. acme, shipco and customs capture the item's story: commissioning
 *     with a purchase order and a decimal sensor reading, packing into a
 *     case, shipping of the case (with source and destination), a customs
 *     inspection, the sale (class transaction), and an event declared
 *     erroneous afterwards.
 *  2. The draft (GET /epcis/publication) as shop: the publishable events,
 *     screened (no bizTransactionList, sourceList, destinationList), with
 *     the responsible organisation; the sale and the declared event are
 *     skipped with their reasons. As shipco (who reads transport data
 *     only) the customs inspection is neither offered nor named.
 *  3. Forged publications are refused by the alliance: an entry with a
 *     field the policy screens out (trace.not_screened), a wrong
 *     organisation (trace.not_screened), an unknown event
 *     (trace.unknown_event), the declared one (trace.declared), the sale
 *     (trace.not_publishable), a malformed body (trace.bad_publication).
 *  4. `hanse trace publish` publishes (relayed to open); the record at
 *     GET /v1/chains/open/products/<Digital Link path> is public: entries
 *     in event-time order, the decimal reading exact, the enterprises,
 *     the proofs; publishing again adds publications, not entries.
 *  5. `hanse trace verify` accepts the saved record, and refuses it with
 *     one entry's text changed, a proof byte changed, or an untrusted
 *     validator list (exit 1, trace.unverified).
 *  6. Purchases: ?mine=1 signed by the buyer lists the product, signed by
 *     another key lists nothing, unsigned is 401.
 *  7. Complaints: a consumer complains about acme; unknown product,
 *     enterprise or event are refused; acme's capturing key answers,
 *     shipco's may not (trace.not_responsible); the record shows both.
 *  8. `hanse verify` re-executes both chains from genesis and agrees.
 */
#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/hex.h"
#include "crypto/hash.h"
#include "hanse/client.h"
#include "crypto/sign.h"
#include "itest.h"

#define ACME 10
#define SHIPCO 11
#define CUSTOMS 12
#define SHOP 13
#define CONSUMER 20
#define OTHER 21

#define ITEM_URN "urn:epc:id:sgtin:4012345.011111.987"
#define ITEM_DL "https://id.gs1.org/01/04012345111118/21/987"
#define ITEM_PATH "01/04012345111118/21/987"
#define CASE_URN "urn:epc:id:sscc:4012345.0000000111"

static it_node node;
static char validator[65];

static hanse_client *client_on(const char *chain, const hanse_keypair *kp) {
  hanse_client *c = NULL;
  hanse_reject rej;
  hanse_reject_clear(&rej);
  IT_CHECK(hanse_client_create(node.url, chain, &c, &rej) == HANSE_OK);
  if (kp) hanse_client_set_signer(c, kp);
  return c;
}

/* Submit one transaction and wait: the receipt's code (static). */
static const char *submit(const char *chain, const hanse_keypair *kp, const char *kind,
                          json_t *payload) {
  return it_client_submit(&node, chain, kp, kind, payload);
}

/* A signed GET; status, body in *out, code of an error. */
static long get_as(const char *chain, const hanse_keypair *kp, const char *path, json_t **out,
                   char code[64]) {
  return it_client_get(&node, chain, kp, path, out, code);
}

static json_t *doc_of(json_t *events) {
  return json_pack("{s:s, s:s, s:s, s:s, s:{s:o}}", "@context",
                   "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", "type",
                   "EPCISDocument", "schemaVersion", "2.0", "creationDate",
                   "2026-11-20T08:00:00Z", "epcisBody", "eventList", events);
}

static void capture(const hanse_keypair *kp, json_t *event) {
  const char *code = submit("alliance", kp, "trace.capture",
                            json_pack("{s:o}", "document", doc_of(json_pack("[o]", event))));
  if (strcmp(code, "ok") != 0) fprintf(stderr, "capture: %s\n", code);
  IT_CHECK(strcmp(code, "ok") == 0);
}

static json_t *object_event(const char *id, const char *time, const char *epc, const char *step,
                            const char *disp) {
  return json_pack("{s:s, s:s, s:s, s:s, s:[s], s:s, s:s, s:s, s:{s:s}}", "type", "ObjectEvent",
                   "eventID", id, "eventTime", time, "eventTimeZoneOffset", "+01:00", "epcList",
                   epc, "action", "OBSERVE", "bizStep", step, "disposition", disp, "readPoint",
                   "id", "urn:epc:id:sgln:4012345.00001.0");
}

/* The draft for the item and its case, read by kp. */
static json_t *draft_as(const hanse_keypair *kp) {
  char path[1024], code[64];
  char *e = curl_easy_escape(NULL, ITEM_URN "|" CASE_URN, 0);
  snprintf(path, sizeof path, "/v1/chains/alliance/epcis/publication?epc=%s", e);
  curl_free(e);
  json_t *d = NULL;
  long st = get_as("alliance", kp, path, &d, code);
  if (st != 200) fprintf(stderr, "draft: %ld %s\n", st, code);
  IT_CHECK(st == 200 && d != NULL);
  return d;
}

static json_t *entry_of(json_t *draft, const char *id) {
  size_t i;
  json_t *e;
  json_array_foreach(json_object_get(draft, "events"), i, e) if (
      strcmp(json_string_value(json_object_get(e, "eventID")), id) == 0) return e;
  return NULL;
}

static int has_reason(json_t *draft, const char *id, const char *reason) {
  size_t i;
  json_t *s;
  json_array_foreach(json_object_get(draft, "skipped"), i, s) if (
      strcmp(json_string_value(json_object_get(s, "eventID")), id) == 0 &&
      strcmp(json_string_value(json_object_get(s, "reason")), reason) == 0) return 1;
  return 0;
}

/* An xchain.send of this body from shop on the alliance: the code. */
static const char *send_body(json_t *body) {
  const hanse_keypair *kp = NULL;
  static hanse_keypair shop;
  it_key(&shop, SHOP);
  kp = &shop;
  return submit("alliance", kp, "xchain.send",
                json_pack("{s:s, s:s, s:o}", "to_chain", "open", "kind", "trace.publish", "body",
                          body));
}

static json_t *body_with(json_t *entry) {
  return json_pack("{s:s, s:[O]}", "product", ITEM_DL, "events", entry);
}

static int run_cli(char **out, const char *const *args) { return it_cli(&node, out, args); }

/* `hanse trace verify FILE [--trusted T]`: exit status; output in *out. */
static int verify_file(const char *path, const char *trusted, char **out) {
  const char *argv[] = {node.hanse, "trace", "verify", path,
                        trusted ? "--trusted" : NULL, trusted, NULL};
  return it_run(argv, out);
}

static json_t *record(void) {
  long st;
  json_t *r = it_get_json(&node, "/v1/chains/open/products/" ITEM_PATH, &st);
  IT_CHECK(st == 200 && r != NULL);
  return r;
}

int main(int argc, char **argv) {
  IT_CHECK(argc >= 2);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  IT_CHECK(sodium_init() >= 0);
  uint8_t none[] = {250};
  it_init(&node, argv[1], "scratch", none, 1);
  char acme[65], shipco[65], customs[65], shop[65], gpath[400];
  it_pubhex(acme, ACME);
  it_pubhex(shipco, SHIPCO);
  it_pubhex(customs, CUSTOMS);
  it_pubhex(shop, SHOP);
  json_t *policy = json_pack(
      "{s:{s:[s], s:[s,s,s], s:[s]}, s:{s:[s,s,s], s:[s,s,s], s:[s,s,s], s:[s,s], s:[s]},"
      " s:[s]}",
      "submit", "member.*", "admin", "trace.*", "manufacturer", "logistics", "customs",
      "xchain.*", "platform", "read", "production", "manufacturer", "platform", "regulator",
      "transport", "logistics", "platform", "regulator", "customs_inspection", "customs",
      "platform", "regulator", "transaction", "platform", "regulator", "personal", "regulator",
      "public", "blocks");
  json_t *g = json_pack(
      "{s:s, s:s, s:[{s:s, s:s, s:s, s:[s]}, {s:s, s:s, s:s, s:[s]}, {s:s, s:s, s:s, s:[s]},"
      " {s:s, s:s, s:s, s:[s]}], s:o}",
      "chain_id", "alliance", "type", "alliance", "organisations", "id", "acme", "name",
      "ACME Foods", "role", "manufacturer", "keys", acme, "id", "shipco", "name", "Ship Co",
      "role", "logistics", "keys", shipco, "id", "customs", "name", "Customs Office", "role",
      "customs", "keys", customs, "id", "shop", "name", "The Shop", "role", "platform", "keys",
      shop, "policy", policy);
  it_init_genesis(&node, g);
  /* the open chain trusts the alliance's validator: the node key */
  snprintf(gpath, sizeof gpath, "%s/chains/alliance/genesis.json", node.dir);
  json_t *ga = json_load_file(gpath, 0, NULL);
  IT_CHECK(ga != NULL);
  snprintf(validator, sizeof validator, "%s",
           json_string_value(json_array_get(json_object_get(ga, "validators"), 0)));
  json_decref(ga);
  IT_CHECK(strlen(validator) == 64);
  g = json_pack("{s:s, s:s, s:[{s:s, s:s, s:[s]}], s:{s:[s]}}", "chain_id", "open", "type", "open",
                "organisations", "id", "shop", "name", "The Shop", "keys", shop, "peers",
                "alliance", validator);
  it_init_genesis(&node, g);
  IT_CHECK(it_start(&node, NULL, NULL) == 0);

  hanse_keypair kacme, kship, kcus, kshop, kcon, kother;
  it_key(&kacme, ACME);
  it_key(&kship, SHIPCO);
  it_key(&kcus, CUSTOMS);
  it_key(&kshop, SHOP);
  it_key(&kcon, CONSUMER);
  it_key(&kother, OTHER);

  /* 1. The item's story. */
  json_t *e1 = object_event("urn:uuid:00000000-0000-4000-8000-000000000001",
                            "2026-11-01T08:00:00.000+01:00", ITEM_URN, "commissioning", "active");
  json_object_set_new(e1, "action", json_string("ADD"));
  json_object_set_new(e1, "bizTransactionList",
                      json_pack("[{s:s, s:s}]", "type", "po", "bizTransaction",
                                "urn:epcglobal:cbv:bt:4012345000009:PO-4711"));
  json_object_set_new(
      e1, "sensorElementList",
      json_pack("[{s:{s:s}, s:[{s:s, s:f, s:s}]}]", "sensorMetadata", "time",
                "2026-11-01T07:59:00.000+01:00", "sensorReport", "type", "Temperature", "value",
                4.5, "uom", "CEL"));
  capture(&kacme, e1);
  capture(&kacme, json_pack("{s:s, s:s, s:s, s:s, s:s, s:[s], s:s, s:s}", "type",
                            "AggregationEvent", "eventID",
                            "urn:uuid:00000000-0000-4000-8000-000000000002", "eventTime",
                            "2026-11-01T09:00:00.000+01:00", "eventTimeZoneOffset", "+01:00",
                            "parentID", CASE_URN, "childEPCs", ITEM_URN, "action", "ADD",
                            "bizStep", "packing"));
  json_t *e3 = object_event("urn:uuid:00000000-0000-4000-8000-000000000003",
                            "2026-11-02T10:00:00.000+01:00", CASE_URN, "shipping", "in_transit");
  json_object_set_new(e3, "sourceList",
                      json_pack("[{s:s, s:s}]", "type", "owning_party", "source",
                                "urn:epc:id:pgln:4012345.00000"));
  json_object_set_new(e3, "destinationList",
                      json_pack("[{s:s, s:s}]", "type", "location", "destination",
                                "urn:epc:id:sgln:4098765.00001.0"));
  capture(&kship, e3);
  json_t *e4 = object_event("urn:uuid:00000000-0000-4000-8000-000000000004",
                            "2026-11-03T11:00:00.000+01:00", ITEM_URN, "inspecting",
                            "conformant");
  json_object_set_new(e4, "bizTransactionList",
                      json_pack("[{s:s, s:s}]", "type", "customs_declaration", "bizTransaction",
                                "urn:example:customs:decl:77"));
  capture(&kcus, e4);
  json_t *e5 = object_event("urn:uuid:00000000-0000-4000-8000-000000000005",
                            "2026-11-05T15:00:00.000+01:00", ITEM_URN, "retail_selling",
                            "retail_sold");
  capture(&kacme, e5); /* shop may not capture; acme sells direct here */
  json_t *e6 = object_event("urn:uuid:00000000-0000-4000-8000-000000000006",
                            "2026-11-04T12:00:00.000+01:00", ITEM_URN, "storing",
                            "sellable_accessible");
  capture(&kship, json_deep_copy(e6));
  json_object_set_new(e6, "errorDeclaration",
                      json_pack("{s:s, s:s}", "declarationTime", "2026-11-04T13:00:00.000+01:00",
                                "reason", "incorrect_data"));
  capture(&kship, e6);

  /* 2. The draft. */
  json_t *draft = draft_as(&kshop);
  IT_CHECK(strcmp(json_string_value(json_object_get(draft, "product")), ITEM_DL) == 0);
  IT_CHECK(json_array_size(json_object_get(draft, "events")) == 4);
  json_t *d1 = entry_of(draft, "urn:uuid:00000000-0000-4000-8000-000000000001");
  json_t *d3 = entry_of(draft, "urn:uuid:00000000-0000-4000-8000-000000000003");
  json_t *d4 = entry_of(draft, "urn:uuid:00000000-0000-4000-8000-000000000004");
  IT_CHECK(d1 && d3 && d4 && entry_of(draft, "urn:uuid:00000000-0000-4000-8000-000000000002"));
  const char *t1 = json_string_value(json_object_get(d1, "event"));
  IT_CHECK(strstr(t1, "bizTransactionList") == NULL && strstr(t1, "PO-4711") == NULL);
  IT_CHECK(strstr(t1, "\"value\":4.5") != NULL); /* exact decimal */
  const char *t3 = json_string_value(json_object_get(d3, "event"));
  IT_CHECK(strstr(t3, "sourceList") == NULL && strstr(t3, "destinationList") == NULL);
  IT_CHECK(strstr(t3, "\"bizStep\":\"shipping\"") != NULL);
  IT_CHECK(strcmp(json_string_value(json_object_get(d1, "org")), "acme") == 0);
  IT_CHECK(strcmp(json_string_value(json_object_get(d1, "org_name")), "ACME Foods") == 0);
  IT_CHECK(strcmp(json_string_value(json_object_get(d1, "signer")), acme) == 0);
  IT_CHECK(strcmp(json_string_value(json_object_get(d3, "org")), "shipco") == 0);
  IT_CHECK(strcmp(json_string_value(json_object_get(d4, "class")), "customs_inspection") == 0);
  IT_CHECK(has_reason(draft, "urn:uuid:00000000-0000-4000-8000-000000000005",
                      "trace.not_publishable"));
  IT_CHECK(has_reason(draft, "urn:uuid:00000000-0000-4000-8000-000000000006",
                      "declared erroneous"));
  json_t *dship = draft_as(&kship); /* logistics reads transport only */
  IT_CHECK(entry_of(dship, "urn:uuid:00000000-0000-4000-8000-000000000004") == NULL);
  IT_CHECK(!has_reason(dship, "urn:uuid:00000000-0000-4000-8000-000000000004",
                       "trace.not_publishable"));
  IT_CHECK(json_array_size(json_object_get(dship, "events")) == 1); /* the shipping */
  json_decref(dship);
  char code[64];
  IT_CHECK(get_as("alliance", NULL, "/v1/chains/alliance/epcis/publication?epc=x", NULL, code) ==
           401);
  IT_CHECK(get_as("alliance", &kshop, "/v1/chains/alliance/epcis/publication?epc=x&y=1", NULL,
                  code) == 400 &&
           strcmp(code, "trace.bad_query") == 0);

  /* 3. Forgeries. */
  json_t *f = json_deep_copy(d1);
  json_t *fe = json_loads(json_string_value(json_object_get(d1, "event")), 0, NULL);
  json_object_set_new(fe, "bizTransactionList", json_loads("[{\"type\":\"po\",\"bizTransaction\":\"x\"}]", 0, NULL));
  char *ft = json_dumps(fe, JSON_COMPACT);
  json_object_set_new(f, "event", json_string(ft));
  free(ft);
  json_decref(fe);
  IT_CHECK(strcmp(send_body(body_with(f)), "trace.not_screened") == 0);
  json_decref(f);
  f = json_deep_copy(d3);
  json_object_set_new(f, "org", json_string("acme"));
  IT_CHECK(strcmp(send_body(body_with(f)), "trace.not_screened") == 0);
  json_object_set_new(f, "org", json_string("shipco"));
  json_object_set_new(f, "eventID", json_string("urn:uuid:00000000-0000-4000-8000-0000000000ff"));
  IT_CHECK(strcmp(send_body(body_with(f)), "trace.bad_publication") == 0); /* text says otherwise */
  json_decref(f);
  f = json_deep_copy(d3);
  fe = json_loads(json_string_value(json_object_get(d3, "event")), 0, NULL);
  json_object_set_new(fe, "eventID", json_string("urn:uuid:00000000-0000-4000-8000-0000000000ff"));
  ft = json_dumps(fe, JSON_COMPACT);
  json_object_set_new(f, "event", json_string(ft));
  json_object_set_new(f, "eventID", json_string("urn:uuid:00000000-0000-4000-8000-0000000000ff"));
  free(ft);
  json_decref(fe);
  IT_CHECK(strcmp(send_body(body_with(f)), "trace.unknown_event") == 0);
  json_object_set_new(f, "eventID", json_string("urn:uuid:00000000-0000-4000-8000-000000000006"));
  fe = json_loads(json_string_value(json_object_get(d3, "event")), 0, NULL);
  json_object_set_new(fe, "eventID", json_string("urn:uuid:00000000-0000-4000-8000-000000000006"));
  ft = json_dumps(fe, JSON_COMPACT);
  json_object_set_new(f, "event", json_string(ft));
  free(ft);
  json_decref(fe);
  IT_CHECK(strcmp(send_body(body_with(f)), "trace.declared") == 0);
  json_object_set_new(f, "eventID", json_string("urn:uuid:00000000-0000-4000-8000-000000000005"));
  fe = json_loads(json_string_value(json_object_get(d3, "event")), 0, NULL);
  json_object_set_new(fe, "eventID", json_string("urn:uuid:00000000-0000-4000-8000-000000000005"));
  ft = json_dumps(fe, JSON_COMPACT);
  json_object_set_new(f, "event", json_string(ft));
  free(ft);
  json_decref(fe);
  IT_CHECK(strcmp(send_body(body_with(f)), "trace.not_publishable") == 0);
  json_decref(f);
  IT_CHECK(strcmp(send_body(json_pack("{s:s, s:[]}", "product", ITEM_DL, "events")),
                  "trace.bad_publication") == 0);
  IT_CHECK(strcmp(send_body(json_pack("{s:s, s:[O]}", "product", ITEM_URN, "events", d1)),
                  "trace.bad_publication") == 0); /* not the canonical form */
  json_decref(draft);

  /* 4. Publish with the CLI. */
  char kpath[400], buyer[65];
  snprintf(kpath, sizeof kpath, "%s/shop.json", node.dir);
  IT_CHECK(hanse_keyfile_write(kpath, &kshop) == HANSE_OK);
  it_pubhex(buyer, CONSUMER);
  const char *pub[] = {"trace",   "publish", "--from",  "alliance", "--to",  "open",
                       "--product", ITEM_URN, "--with", CASE_URN,   "--buyer", buyer,
                       "--key",   kpath,     NULL};
  char *out = NULL;
  int rc = run_cli(&out, pub);
  if (rc != 0) fprintf(stderr, "publish: %s\n", out ? out : "");
  IT_CHECK(rc == 0);
  json_t *rep = json_loads(out, JSON_DISABLE_EOF_CHECK, NULL);
  free(out);
  IT_CHECK(json_integer_value(json_object_get(rep, "events")) == 4);
  IT_CHECK(json_array_size(json_object_get(rep, "publications")) == 1);
  json_decref(rep);
  json_t *rec = record();
  json_t *evs = json_object_get(rec, "events");
  IT_CHECK(json_array_size(evs) == 4);
  const char *order[] = {"1", "2", "3", "4"};
  for (size_t i = 0; i < 4; i++) {
    const char *id = json_string_value(json_object_get(json_array_get(evs, i), "eventID"));
    IT_CHECK(id[strlen(id) - 1] == order[i][0]); /* event-time order */
  }
  IT_CHECK(strstr(json_string_value(json_object_get(json_array_get(evs, 0), "event")),
                  "\"value\":4.5") != NULL);
  IT_CHECK(strcmp(json_string_value(json_object_get(json_object_get(rec, "enterprises"), "acme")),
                  "ACME Foods") == 0);
  json_t *pubs = json_object_get(rec, "publications");
  IT_CHECK(json_array_size(pubs) == 1);
  IT_CHECK(json_is_object(json_object_get(json_array_get(pubs, 0), "proof")));
  IT_CHECK(strcmp(json_string_value(json_array_get(
                      json_object_get(json_object_get(rec, "trusted"), "alliance"), 0)),
                  validator) == 0);
  /* a URN in the path finds the same record */
  long st;
  char *eu = curl_easy_escape(NULL, ITEM_URN, 0);
  char upath[512];
  snprintf(upath, sizeof upath, "/v1/chains/open/products/%s", eu);
  curl_free(eu);
  json_t *rec2 = it_get_json(&node, upath, &st);
  IT_CHECK(st == 200 && json_equal(json_object_get(rec2, "events"), evs));
  json_decref(rec2);
  json_decref(it_get_json(&node, "/v1/chains/open/products/01/04012345111118/21/999", &st));
  IT_CHECK(st == 404);
  /* again: a second publication, the same entries */
  rc = run_cli(NULL, pub);
  IT_CHECK(rc == 0);
  json_decref(rec);
  rec = record();
  IT_CHECK(json_array_size(json_object_get(rec, "events")) == 4);
  IT_CHECK(json_array_size(json_object_get(rec, "publications")) == 2);

  /* 5. Offline verification. */
  char rpath[400], bad[400];
  snprintf(rpath, sizeof rpath, "%s/record.json", node.dir);
  IT_CHECK(json_dump_file(rec, rpath, 0) == 0);
  out = NULL;
  rc = verify_file(rpath, NULL, &out);
  if (rc != 0) fprintf(stderr, "verify: %s\n", out ? out : "");
  IT_CHECK(rc == 0 && strstr(out, "\"ok\": true") != NULL);
  free(out);
  char trusted[120];
  snprintf(trusted, sizeof trusted, "alliance=%s", validator);
  IT_CHECK(verify_file(rpath, trusted, NULL) == 0);
  snprintf(trusted, sizeof trusted, "alliance=%s", acme);
  IT_CHECK(verify_file(rpath, trusted, NULL) == 1);
  json_t *t = json_deep_copy(rec);
  json_t *te = json_array_get(json_object_get(t, "events"), 1);
  const char *txt = json_string_value(json_object_get(te, "event"));
  char *changed = strdup(txt);
  char *p = strstr(changed, "packing");
  IT_CHECK(p != NULL);
  memcpy(p, "packinh", 7);
  json_object_set_new(te, "event", json_string(changed));
  free(changed);
  snprintf(bad, sizeof bad, "%s/bad1.json", node.dir);
  IT_CHECK(json_dump_file(t, bad, 0) == 0);
  out = NULL;
  IT_CHECK(verify_file(bad, NULL, &out) == 1);
  IT_CHECK(strstr(out, "trace.unverified") != NULL);
  free(out);
  json_decref(t);
  t = json_deep_copy(rec);
  json_t *proof = json_object_get(json_array_get(json_object_get(t, "publications"), 0), "proof");
  char *hx = strdup(json_string_value(json_object_get(proof, "tx")));
  size_t hl = strlen(hx);
  hx[hl - 10] = hx[hl - 10] == '0' ? '1' : '0';
  json_object_set_new(proof, "tx", json_string(hx));
  free(hx);
  snprintf(bad, sizeof bad, "%s/bad2.json", node.dir);
  IT_CHECK(json_dump_file(t, bad, 0) == 0);
  /* the other publication still carries every entry, so only drop it too */
  json_array_remove(json_object_get(t, "publications"), 1);
  IT_CHECK(json_dump_file(t, bad, 0) == 0);
  IT_CHECK(verify_file(bad, NULL, NULL) == 1);
  json_decref(t);

  /* 6. Purchases. */
  json_t *mine = NULL;
  IT_CHECK(get_as("open", &kcon, "/v1/chains/open/products?mine=1", &mine, code) == 200);
  IT_CHECK(json_array_size(json_object_get(mine, "products")) >= 1);
  IT_CHECK(strcmp(json_string_value(json_array_get(json_object_get(mine, "products"), 0)),
                  ITEM_DL) == 0);
  json_decref(mine);
  IT_CHECK(get_as("open", &kother, "/v1/chains/open/products?mine=1", &mine, code) == 200);
  IT_CHECK(json_array_size(json_object_get(mine, "products")) == 0);
  json_decref(mine);
  IT_CHECK(get_as("open", NULL, "/v1/chains/open/products?mine=1", NULL, code) == 401);

  /* 7. Complaints. */
  IT_CHECK(strcmp(submit("open", &kcon, "trace.complain",
                         json_pack("{s:s, s:s, s:s, s:s}", "product", ITEM_DL, "kind",
                                   "complaint", "enterprise", "nobody", "text", "x")),
                  "trace.unknown_enterprise") == 0);
  IT_CHECK(strcmp(submit("open", &kcon, "trace.complain",
                         json_pack("{s:s, s:s, s:s, s:s}", "product",
                                   "https://id.gs1.org/01/04012345111118/21/999", "kind",
                                   "complaint", "enterprise", "acme", "text", "x")),
                  "trace.unknown_product") == 0);
  IT_CHECK(strcmp(submit("open", &kcon, "trace.complain",
                         json_pack("{s:s, s:s, s:s, s:s, s:s}", "product", ITEM_DL, "kind",
                                   "complaint", "enterprise", "acme", "text", "x", "event",
                                   "urn:uuid:00000000-0000-4000-8000-000000000003")),
                  "trace.unknown_event") == 0); /* shipco's event, not acme's */
  IT_CHECK(strcmp(submit("open", &kcon, "trace.complain",
                         json_pack("{s:s, s:s, s:s, s:s}", "product", ITEM_DL, "kind",
                                   "refund", "enterprise", "acme", "text", "x")),
                  "trace.bad_complaint") == 0);
  hanse_hash cid;
  {
    hanse_client *c = client_on("open", &kcon);
    hanse_reject rej;
    hanse_reject_clear(&rej);
    uint64_t seq = 0;
    hanse_buf b;
    hanse_buf_init(&b);
    json_t *pl = json_pack("{s:s, s:s, s:s, s:s, s:s}", "product", ITEM_DL, "kind",
                           "rectification", "enterprise", "acme", "text",
                           "The label says 4.5 C but it arrived warm.", "event",
                           "urn:uuid:00000000-0000-4000-8000-000000000001");
    hanse_client_op op = {"trace.complain", pl};
    json_t *res = NULL;
    IT_CHECK(hanse_client_next_seq(c, &kcon.pub, &seq, &rej) == HANSE_OK);
    IT_CHECK(hanse_client_tx_build(c, &op, seq, &kcon, &b, &cid, &rej) == HANSE_OK);
    hanse_client_entry e = {HANSE_TYPE_TX, b.data, b.len};
    IT_CHECK(hanse_client_submit(c, &e, 1, HANSE_SUBMIT_WAIT, 0, &res, &rej) == HANSE_OK);
    IT_CHECK(hanse_client_result_check(res, 0, &rej) == HANSE_OK);
    json_decref(res);
    json_decref(pl);
    hanse_buf_free(&b);
    hanse_client_destroy(c);
  }
  char cidhex[65];
  hanse_hash_hex(cidhex, &cid);
  IT_CHECK(strcmp(submit("open", &kship, "trace.answer",
                         json_pack("{s:s, s:s}", "complaint", cidhex, "text", "not us")),
                  "trace.not_responsible") == 0);
  IT_CHECK(strcmp(submit("open", &kacme, "trace.answer",
                         json_pack("{s:s, s:s}", "complaint",
                                   "0000000000000000000000000000000000000000000000000000000000000000",
                                   "text", "?")),
                  "trace.unknown_complaint") == 0);
  IT_CHECK(strcmp(submit("open", &kacme, "trace.answer",
                         json_pack("{s:s, s:s, s:s}", "complaint", cidhex, "text",
                                   "We replace it; the cold chain broke at the depot.", "status",
                                   "rectified")),
                  "ok") == 0);
  json_decref(rec);
  rec = record();
  json_t *cm = json_array_get(json_object_get(rec, "complaints"), 0);
  IT_CHECK(cm && strcmp(json_string_value(json_object_get(cm, "enterprise")), "acme") == 0);
  IT_CHECK(strcmp(json_string_value(json_object_get(cm, "kind")), "rectification") == 0);
  IT_CHECK(strcmp(json_string_value(json_object_get(cm, "by")), "") != 0);
  json_t *ans = json_array_get(json_object_get(cm, "answers"), 0);
  IT_CHECK(ans && strcmp(json_string_value(json_object_get(ans, "status")), "rectified") == 0);
  IT_CHECK(strcmp(json_string_value(json_object_get(ans, "by")), acme) == 0);
  json_decref(rec);

  /* 8. Replay both chains. */
  it_stop(&node);
  for (int k = 0; k < 2; k++) {
    const char *va[] = {node.hanse, "verify", "--data",  node.dir,
                        "--chain",  k ? "open" : "alliance", NULL};
    out = NULL;
    rc = it_run(va, &out);
    if (rc != 0) fprintf(stderr, "verify: %s\n", out ? out : "");
    free(out);
    IT_CHECK(rc == 0);
  }
  it_cleanup_all();
  printf("test_trace_publish: ok\n");
  return 0;
}
