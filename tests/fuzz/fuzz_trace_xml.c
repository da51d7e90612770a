/*
 * fuzz_trace_xml.c -- trace_xml_to_json, the EPCIS XML decoder of the
 * trace module (its input comes in signed payloads from anyone who may
 * capture), and trace_doc_prepare on the {"xml": ...} payload.
 *
 * A document it accepts is an EPCISDocument or EPCISQueryDocument object
 * with an @context, its text is valid JSON that parses back equal, and
 * converting the same bytes again gives an equal document (every node
 * must reach the same result). A refusal is trace.bad_xml (400) with a
 * "line N: " message. When the bytes are UTF-8, the payload form goes
 * through the whole preparation (rules, hash IDs), which must accept or
 * refuse without crashing, and refuse at least what the converter
 * refused.
 */
#include <jansson.h>
#include <string.h>

#include "modules/trace/trace.h"
#include "fuzz.h"

FUZZ_DEFAULT_INIT

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *xml = (const char *)data;
  json_t *doc = NULL;
  hanse_reject rej;
  hanse_reject_clear(&rej);
  int rc = trace_xml_to_json(xml, size, &doc, &rej);
  if (rc == HANSE_OK) {
    FUZZ_CHECK(json_is_object(doc));
    const char *type = json_string_value(json_object_get(doc, "type"));
    FUZZ_CHECK(type && (strcmp(type, "EPCISDocument") == 0 ||
                        strcmp(type, "EPCISQueryDocument") == 0));
    FUZZ_CHECK(json_object_get(doc, "@context") != NULL);
    char *text = json_dumps(doc, JSON_COMPACT);
    FUZZ_CHECK(text != NULL);
    json_t *back = json_loads(text, 0, NULL);
    FUZZ_CHECK(back != NULL && json_equal(back, doc)); /* reals print at 17 digits */
    free(text);
    json_decref(back);
    json_t *again = NULL;
    FUZZ_CHECK(trace_xml_to_json(xml, size, &again, NULL) == HANSE_OK);
    FUZZ_CHECK(json_equal(doc, again));
    json_decref(again);
  } else {
    FUZZ_CHECK(doc == NULL);
    FUZZ_CHECK(strcmp(rej.code, "trace.bad_xml") == 0 || rej.rc == HANSE_ERR(NOMEM));
    FUZZ_CHECK(rej.rc == HANSE_ERR(NOMEM) || strncmp(rej.message, "line ", 5) == 0);
    FUZZ_CHECK(rej.status == 400 || rej.rc == HANSE_ERR(NOMEM));
  }
  json_t *p = json_pack("{s:s%}", "xml", xml, size); /* NULL: not UTF-8 */
  if (p) {
    trace_doc d;
    hanse_reject prej;
    hanse_reject_clear(&prej);
    int prc = trace_doc_prepare(p, &d, &prej);
    if (prc == HANSE_OK) {
      FUZZ_CHECK(rc == HANSE_OK);
      FUZZ_CHECK(d.count >= 1 && d.count <= TRACE_EVENTS_MAX);
      trace_doc_free(&d);
    } else {
      FUZZ_CHECK(prej.status >= 400 && prej.status < 600);
    }
    json_decref(p);
  }
  json_decref(doc);
  return 0;
}
