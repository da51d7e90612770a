/*
 * fuzz_genesis.c -- hanse_genesis_validate on arbitrary JSON (the genesis
 * file is read from disk and from the store at every start).
 *
 * A document it accepts must carry a valid chain id and at least one
 * organisation, and validating it twice gives the same answer.
 */
#include <string.h>

#include "chain/chain.h"
#include "encoding/tx.h"
#include "fuzz.h"

FUZZ_DEFAULT_INIT

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_error_t jerr;
  json_t *g = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
  if (g == NULL) return 0;
  hanse_reject rej;
  int rc = hanse_genesis_validate(g, &rej);
  FUZZ_CHECK(hanse_genesis_validate(g, NULL) == rc);
  if (rc == HANSE_OK) {
    const char *cid = json_string_value(json_object_get(g, "chain_id"));
    FUZZ_CHECK(cid != NULL && hanse_chain_id_valid(cid, strlen(cid)));
    FUZZ_CHECK(json_array_size(json_object_get(g, "organisations")) >= 1);
  }
  json_decref(g);
  return 0;
}
