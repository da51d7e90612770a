/*
 * fuzz_trace_record.c -- what the trace module and the client read of a
 * published product record (modules/trace/trace_publish.c,
 * client/trace.c): a publication body (trace_publication_check, at every
 * xchain send and receive of kind trace.publish), a complaint or an answer
 * (trace_complaint_check), and a whole record as `hanse trace verify`
 * reads it from a file or a node (hanse_trace_record_verify: hex proofs,
 * transactions, headers, Merkle paths, entries).
 *
 * Any input is accepted or refused without a crash or a leak; a refusal
 * is a rejection with a code, never a crash; a record that verifies has
 * a report saying so, and one that does not has a report saying not.
 */
#include <jansson.h>
#include <string.h>

#include "base/err.h"
#include "fuzz.h"
#include "hanse/client.h"
#include "modules/trace/trace.h"

FUZZ_DEFAULT_INIT

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
  if (j == NULL) return 0;
  hanse_reject rej;
  hanse_reject_clear(&rej);
  int rc = trace_publication_check(j, &rej);
  FUZZ_CHECK(rc == HANSE_OK || (rc == HANSE_ERR(INVALID) && strcmp(rej.code, "trace.bad_publication") == 0));
  if (json_is_object(j)) {
    hanse_reject_clear(&rej);
    rc = trace_complaint_check("complain", j, &rej);
    FUZZ_CHECK(rc == HANSE_OK || strcmp(rej.code, "trace.bad_complaint") == 0);
    hanse_reject_clear(&rej);
    rc = trace_complaint_check("answer", j, &rej);
    FUZZ_CHECK(rc == HANSE_OK || strcmp(rej.code, "trace.bad_answer") == 0);
  }
  json_t *report = NULL;
  hanse_reject_clear(&rej);
  rc = hanse_trace_record_verify(j, NULL, &report, &rej);
  if (rc == HANSE_OK) {
    FUZZ_CHECK(json_is_true(json_object_get(report, "ok")));
  } else {
    FUZZ_CHECK(rc == HANSE_ERR(INVALID) || rc == HANSE_ERR(NOMEM));
    FUZZ_CHECK(report == NULL || json_is_false(json_object_get(report, "ok")));
  }
  json_decref(report);
  json_decref(j);
  return 0;
}
