/*
 * test_epcis_xml.c -- EPCIS XML capture through a real node and the CLI.
 *
 *  1. Every XML example of tests/vectors/epcis/xml is captured with
 *     `hanse trace capture FILE` (payload {"xml": <the file's text>}), in
 *     name order; the command prints the committed receipt, the eventIDs
 *     and that it read every event back.
 *  2. Each event comes back by EQ_eventID equal to the original: the XML
 *     converted and prepared here as every node does (trace_xml.c,
 *     trace_doc.c), recordTime aside; the transaction keeps the XML text
 *     as signed.
 *  3. The JSON twin of event_with_identical_hash_id_1.xml is the same
 *     event (same hash ID): its capture is a duplicate, by `trace
 *     capture` and by the generic `tx submit`.
 *  4. The node itself refuses broken XML (trace.bad_xml with a line),
 *     sent with `tx submit` past the local check of `trace capture`.
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
#include "modules/trace/trace.h"

#define CHAIN "xtrace"
#define XML_DIR HANSE_VECTORS_DIR "/epcis/xml"

static it_node node;
static char keyfile[300];

static char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  IT_CHECK(f != NULL);
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)len + 1);
  IT_CHECK(b != NULL && fread(b, 1, (size_t)len, f) == (size_t)len);
  b[len] = 0;
  fclose(f);
  *n = (size_t)len;
  return b;
}

/* `hanse trace capture FILE`: its exit status; *out its output. */
static int cli_capture(const char *file, char **out) {
  const char *args[] = {node.hanse, "trace", "capture", file,  "--chain", CHAIN,
                        "--key",    keyfile, "--node",  node.url, NULL};
  return it_run(args, out);
}

/* The events a GET .../epcis/events?EQ_eventID=<id> answers, read by kp. */
static json_t *by_event_id(const hanse_keypair *kp, const char *id) {
  char *e = curl_easy_escape(NULL, id, 0);
  char path[1024], code[64];
  snprintf(path, sizeof path, "/v1/chains/%s/epcis/events?EQ_eventID=%s", CHAIN, e);
  curl_free(e);
  json_t *doc = NULL;
  IT_CHECK(it_client_get(&node, CHAIN, kp, path, &doc, code) == 200);
  json_t *l = json_object_get(
      json_object_get(json_object_get(json_object_get(doc, "epcisBody"), "queryResults"),
                      "resultsBody"),
      "eventList");
  IT_CHECK(l != NULL);
  json_incref(l);
  json_decref(doc);
  return l;
}

/* `hanse tx submit trace.capture --payload P --wait`: the generic
 * command, which sends the payload as it is, unlike `trace capture`.
 * Its exit status; *out its output. */
static int cli_submit(json_t *payload, char **out) {
  char *p = json_dumps(payload, JSON_COMPACT);
  json_decref(payload);
  IT_CHECK(p != NULL);
  const char *args[] = {node.hanse, "tx",    "submit",   "trace.capture", "--payload", p,
                        "--chain",  CHAIN,   "--key",    keyfile,         "--node",    node.url,
                        "--wait",   NULL};
  int rc = it_run(args, out);
  free(p);
  return rc;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
  IT_CHECK(argc >= 2);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  IT_CHECK(sodium_init() >= 0);
  uint8_t seeds[] = {1};
  it_init(&node, argv[1], CHAIN, seeds, 1);
  IT_CHECK(it_start(&node, NULL, NULL) == 0);
  hanse_keypair founder;
  it_key(&founder, 1);
  snprintf(keyfile, sizeof keyfile, "%s/founder.json", node.dir);
  IT_CHECK(hanse_keyfile_write(keyfile, &founder) == HANSE_OK);
  hanse_client *c = NULL;
  hanse_reject rej;
  IT_CHECK(hanse_client_create(node.url, CHAIN, &c, &rej) == HANSE_OK);
  hanse_client_set_signer(c, &founder);

  /* 1 and 2. Every XML example, in name order, by the CLI. */
  DIR *dir = opendir(XML_DIR);
  IT_CHECK(dir != NULL);
  char *names[16];
  size_t nn = 0;
  struct dirent *de;
  while ((de = readdir(dir)) != NULL && nn < 16)
    if (de->d_name[0] != '.') names[nn++] = strdup(de->d_name);
  closedir(dir);
  IT_CHECK(nn == 3);
  qsort(names, nn, sizeof names[0], cmp_names);
  size_t events = 0;
  for (size_t i = 0; i < nn; i++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", XML_DIR, names[i]);
    char *out = NULL;
    int rc = cli_capture(path, &out);
    if (rc != 0) fprintf(stderr, "%s: exit %d: %s\n", names[i], rc, out ? out : "");
    IT_CHECK(rc == 0);
    json_t *res = json_loads(out, 0, NULL);
    free(out);
    IT_CHECK(res != NULL);
    json_t *r0 = json_array_get(json_object_get(json_object_get(res, "result"), "results"), 0);
    IT_CHECK(strcmp(json_string_value(json_object_get(r0, "status")), "committed") == 0);
    IT_CHECK(strcmp(json_string_value(json_object_get(r0, "code")), "ok") == 0);
    json_t *ids = json_object_get(res, "eventIDs");
    IT_CHECK(json_integer_value(json_object_get(json_object_get(res, "readBack"), "found")) ==
             (json_int_t)json_array_size(ids));

    /* the originals, as every node prepares them */
    size_t len;
    char *xml = slurp(path, &len);
    trace_doc d;
    json_t *payload = json_pack("{s:s%}", "xml", xml, len);
    IT_CHECK(trace_doc_prepare(payload, &d, &rej) == HANSE_OK);
    json_decref(payload);
    IT_CHECK(d.count == json_array_size(ids));
    for (size_t k = 0; k < d.count; k++) {
      IT_CHECK(strcmp(json_string_value(json_array_get(ids, k)), d.events[k].id) == 0);
      json_t *l = by_event_id(&founder, d.events[k].id);
      IT_CHECK(json_array_size(l) == 1);
      json_t *got = json_deep_copy(json_array_get(l, 0));
      IT_CHECK(json_object_get(got, "recordTime") != NULL);
      json_object_del(got, "recordTime");
      if (!json_equal(got, d.events[k].event)) {
        char *a = json_dumps(d.events[k].event, JSON_SORT_KEYS | JSON_COMPACT);
        char *b = json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT);
        fprintf(stderr, "%s event %zu differs:\n  sent %s\n  got  %s\n", names[i], k, a, b);
        free(a);
        free(b);
      }
      IT_CHECK(json_equal(got, d.events[k].event));
      json_decref(got);
      json_decref(l);
      events++;
    }
    /* the transaction keeps the XML as signed */
    hanse_hash txid;
    IT_CHECK(hanse_hash_parse(&txid, json_string_value(json_object_get(r0, "id"))) == HANSE_OK);
    json_t *tx = NULL;
    IT_CHECK(hanse_client_tx_get(c, &txid, &tx, &rej) == HANSE_OK);
    const char *kept = json_string_value(
        json_object_get(json_object_get(json_object_get(tx, "tx"), "payload"), "xml"));
    IT_CHECK(kept != NULL && strlen(kept) == len && memcmp(kept, xml, len) == 0);
    json_decref(tx);
    trace_doc_free(&d);
    free(xml);
    json_decref(res);
  }
  IT_CHECK(events == 5);

  /* 3. The hash-ID twin in JSON is the same event. */
  char *out = NULL;
  const char *twin = HANSE_VECTORS_DIR "/epcis/examples/event_with_identical_hash_id_7.json";
  IT_CHECK(cli_capture(twin, &out) == 1);
  IT_CHECK(out && strstr(out, "hanse: trace.duplicate:") != NULL);
  free(out);
  json_t *twin_doc = json_load_file(twin, 0, NULL);
  IT_CHECK(twin_doc != NULL);
  IT_CHECK(cli_submit(json_pack("{s:o}", "document", twin_doc), &out) == 1);
  IT_CHECK(out && strstr(out, "hanse: trace.duplicate:") != NULL);
  free(out);

  /* 4. Broken XML reaches the node only past `trace capture`: refused
   * with its line. */
  IT_CHECK(cli_submit(json_pack("{s:s}", "xml",
                                "<epcis:EPCISDocument xmlns:epcis=\"urn:epcglobal:epcis:xsd:2\">"
                                "\n<EPCISBody>\n</EPCISBod>"),
                      &out) == 1);
  if (strstr(out, "hanse: trace.bad_xml: line 3:") == NULL) fprintf(stderr, "%s\n", out);
  IT_CHECK(strstr(out, "hanse: trace.bad_xml: line 3:") != NULL);
  free(out);
  IT_CHECK(cli_submit(json_pack("{s:s, s:{}}", "xml", "<x/>", "document"), &out) == 1);
  IT_CHECK(strstr(out, "hanse: trace.bad_document:") != NULL);
  free(out);

  hanse_client_destroy(c);
  for (size_t k = 0; k < nn; k++) free(names[k]);
  it_stop(&node);
  it_cleanup_all();
  printf("test_epcis_xml: ok (%zu files, %zu events)\n", nn, events);
  return 0;
}
