/*
 * cmd_trace_capture.c -- `hanse trace capture FILE`: capture an EPCIS 2.0
 * document on a chain's trace module (`hanse trace` dispatches here and to
 * cmd_trace_pub.c).
 *
 * FILE is an EPCISDocument (or EPCISQueryDocument) in JSON/JSON-LD
 * (.json, .jsonld) or XML (.xml; other names: the first character
 * decides, '<' for XML). The payload is {"document": <the JSON>} or
 * {"xml": "<the file's text>"} -- XML is signed as written and every node
 * converts it (modules/trace/trace_xml.c). Before anything is sent the
 * document is prepared here exactly as the nodes will (rules, hash IDs),
 * so a broken file fails at once with the module's own code and line,
 * and the event IDs -- given, or the hash IDs the chain will compute --
 * are known. Then the transaction is signed, submitted, and waited for;
 * each event is read back through the EPCIS query binding
 * (EQ_eventID) to show it is there.
 *
 * Output: {"result": <the node's answer: id, status, height, index,
 * code>, "eventIDs": [...], "readBack": {"found": n} or {"refused":
 * "<code>"} when the key may not read the events' classes}.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "cli/cli.h"
#include "modules/trace/trace.h"

static const char capture_usage[] =
    "usage: hanse trace capture FILE [--chain C] [--key FILE] [--node URL]\n"
    "\n"
    "Capture the EPCIS 2.0 document in FILE (JSON/JSON-LD, or XML) as one\n"
    "trace.capture transaction, wait for its commit, and read its events\n"
    "back. FILE is checked here first as the chain will check it. Prints the\n"
    "node's answer and the eventIDs (hash IDs for events without one).\n"
    "  --chain C     chain (env HANSE_CHAIN, default " CLI_CHAIN_DEFAULT ")\n"
    "  --key FILE    signing key (env HANSE_KEY, default ~/.hanse/key.json)\n"
    "  --node URL    node (env HANSE_NODE, default " CLI_NODE_DEFAULT ")\n";

/* The file's bytes (at most HANSE_PAYLOAD_MAX), malloc'd and
 * NUL-terminated, or NULL after printing why (*status the exit code). */
static char *read_document(const char *path, size_t *len, int *status) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    *status = cli_usage_error("trace capture", "cannot open %s", path);
    return NULL;
  }
  char *b = malloc(HANSE_PAYLOAD_MAX + 2);
  size_t n = b ? fread(b, 1, HANSE_PAYLOAD_MAX + 1, f) : 0;
  int err = ferror(f);
  fclose(f);
  if (b == NULL || err) {
    free(b);
    *status = cli_failf("internal.io", "cannot read %s", path);
    return NULL;
  }
  if (n > HANSE_PAYLOAD_MAX) {
    free(b);
    *status = cli_failf("trace.too_large", "%s is larger than a payload (%d bytes)", path,
                        HANSE_PAYLOAD_MAX);
    return NULL;
  }
  b[n] = 0;
  *len = n;
  return b;
}

static int has_suffix(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* 1 if FILE is XML: by its name, else by its first character. */
static int is_xml(const char *path, const char *text) {
  if (has_suffix(path, ".xml")) return 1;
  if (has_suffix(path, ".json") || has_suffix(path, ".jsonld")) return 0;
  const char *p = text;
  if (strncmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;
  while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
  return *p == '<';
}

/* Read each event back by EQ_eventID into out's "readBack". */
static void read_back(hanse_client *c, const char *chain, const trace_doc *d, json_t *out) {
  json_int_t found = 0;
  for (size_t i = 0; i < d->count; i++) {
    char *e = curl_easy_escape(NULL, d->events[i].id, 0);
    char path[1024];
    snprintf(path, sizeof path, "/v1/chains/%s/epcis/events?EQ_eventID=%s", chain, e ? e : "");
    curl_free(e);
    json_t *doc = NULL;
    hanse_reject rej;
    hanse_reject_clear(&rej);
    if (hanse_client_get(c, path, &doc, &rej) != HANSE_OK) {
      json_object_set_new(out, "readBack", json_pack("{s:s}", "refused", rej.code));
      return;
    }
    json_t *list = json_object_get(
        json_object_get(json_object_get(json_object_get(doc, "epcisBody"), "queryResults"),
                        "resultsBody"),
        "eventList");
    found += json_array_size(list) > 0;
    json_decref(doc);
  }
  json_object_set_new(out, "readBack", json_pack("{s:I}", "found", found));
}

static int capture(int argc, char **argv) {
  cli_opt opts[] = {{"chain", "C", NULL, 0},
                    {"key", "FILE", NULL, 0},
                    {"node", "URL", NULL, 0},
                    {NULL, NULL, NULL, 0}};
  const char *pos[CLI_POSITIONAL_MAX];
  const char *cmd = "trace capture";
  int rc = cli_parse(cmd, capture_usage, opts, argc, argv, pos, 1, 1, NULL);
  if (rc != CLI_GO) return rc;
  size_t len = 0;
  int status = CLI_EXIT_OK;
  char *text = read_document(pos[0], &len, &status);
  if (text == NULL) return status;
  json_t *payload;
  if (is_xml(pos[0], text)) {
    payload = json_pack("{s:s%}", "xml", text, len);
    if (payload == NULL) {
      free(text);
      return cli_usage_error(cmd, "%s is not UTF-8 text", pos[0]);
    }
  } else {
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(doc)) {
      json_decref(doc);
      free(text);
      return cli_usage_error(cmd, "%s is not a JSON object: %s (line %d)", pos[0], jerr.text,
                             jerr.line);
    }
    payload = json_pack("{s:o}", "document", doc);
  }
  free(text);
  hanse_reject rej;
  hanse_reject_clear(&rej);
  trace_doc d;
  if (payload == NULL) return cli_failf("internal.nomem", "out of memory");
  if (trace_doc_prepare(payload, &d, &rej) != HANSE_OK) {
    json_decref(payload);
    return cli_fail(&rej);
  }
  const char *chain = cli_opt_str(opts, "chain", cli_g.chain);
  const char *key = cli_opt_str(opts, "key", cli_g.key);
  hanse_keypair *kp = cli_key_load(key, &rej);
  hanse_client *c = NULL;
  json_t *result = NULL;
  rc = kp ? HANSE_OK : HANSE_ERR(INVALID);
  if (rc == HANSE_OK)
    rc = cli_client_open(cli_opt_str(opts, "node", cli_g.node), chain, key, &c, &rej);
  if (rc == HANSE_OK) {
    hanse_client_op op = {"trace.capture", payload};
    rc = cli_send(c, kp, &op, 0, 1, &result, &rej);
  }
  json_t *out = json_object();
  json_t *ids = json_array();
  for (size_t i = 0; i < d.count; i++) json_array_append_new(ids, json_string(d.events[i].id));
  json_object_set_new(out, "result", result ? result : json_null());
  json_object_set_new(out, "eventIDs", ids);
  if (rc == HANSE_OK) read_back(c, chain, &d, out);
  if (result || rc == HANSE_OK) cli_print_json(out);
  json_decref(out);
  trace_doc_free(&d);
  json_decref(payload);
  hanse_client_destroy(c);
  cli_key_free(kp);
  return rc == HANSE_OK ? CLI_EXIT_OK : cli_fail(&rej);
}

int cmd_trace_capture(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "capture") != 0) return -1;
  return capture(argc - 2, argv + 2);
}
