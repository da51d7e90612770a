/*
 * fuzz_payload.c -- hanse_payload_parse and the modules' context-free
 * checks (hanse_tx_check), after hanse_modules_register_all.
 *
 * Input: one selector byte, then the payload text. The payload alone goes
 * to hanse_payload_parse; an accepted payload is an object, and its
 * canonical dump parses back to an equal value. Then the payload is
 * wrapped in a transaction whose kind the selector picks among every
 * registered action (and one unknown kind), and hanse_tx_check runs the
 * module's check. If the whole input happens to decode as a transaction,
 * it is checked too.
 */
#include <jansson.h>
#include <string.h>

#include "base/log.h"
#include "chain/module.h"
#include "encoding/tx.h"
#include "fuzz.h"

#define KINDS_MAX 128 /* every registered action and one more: issue 6 adds many */
static char kinds[KINDS_MAX][HANSE_KIND_MAX + 1];
static int kind_count;
static hanse_pubkey signer;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  fuzz_init();
  hanse_modules_register_all();
  const hanse_module *m;
  for (int i = 0; (m = hanse_registry_at(i)) != NULL; i++)
    for (const char *const *a = m->actions; *a && kind_count < KINDS_MAX - 1; a++)
      snprintf(kinds[kind_count++], sizeof kinds[0], "%s.%s", m->name, *a);
  snprintf(kinds[kind_count++], sizeof kinds[0], "nosuch.action");
  memset(signer.b, 0x5a, sizeof signer.b);
  return 0;
}

static void check_tx(const hanse_tx *tx) {
  json_t *payload = NULL;
  hanse_reject rej;
  hanse_reject_clear(&rej);
  int rc = hanse_tx_check(tx, tx->chain_id, &payload, &rej);
  if (rc == HANSE_OK) {
    FUZZ_CHECK(json_is_object(payload));
    json_decref(payload);
  } else {
    FUZZ_CHECK(payload == NULL);
    FUZZ_CHECK(rej.code[0] != 0 && strcmp(rej.code, "ok") != 0);
    FUZZ_CHECK(rej.status >= 400 && rej.status < 600);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const uint8_t *p = data + 1;
  size_t n = size - 1;

  json_t *j = NULL;
  hanse_reject rej;
  if (hanse_payload_parse(p, n, &j, &rej) == HANSE_OK) {
    FUZZ_CHECK(json_is_object(j));
    char *text = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
    FUZZ_CHECK(text != NULL);
    json_t *again = NULL;
    /* numbers that jansson printed in exponent form would come back as
     * reals; everything else must round-trip */
    if (hanse_payload_parse((const uint8_t *)text, strlen(text), &again, &rej) == HANSE_OK) {
      FUZZ_CHECK(json_equal(j, again));
      json_decref(again);
    }
    free(text);
    json_decref(j);
  } else {
    FUZZ_CHECK(j == NULL);
  }

  if (n <= HANSE_PAYLOAD_MAX) {
    hanse_buf raw;
    hanse_buf_init(&raw);
    hanse_tx_fields f = {"fuzz", kinds[data[0] % kind_count], &signer, 1, 0,
                         (const char *)p, n};
    FUZZ_CHECK(hanse_tx_encode(&raw, &f, NULL, &rej) == HANSE_OK);
    hanse_tx tx;
    FUZZ_CHECK(hanse_tx_decode(&tx, raw.data, raw.len, 1, &rej) == HANSE_OK);
    check_tx(&tx);
    hanse_buf_free(&raw);
  }

  hanse_tx tx;
  for (int batched = 0; batched <= 1; batched++)
    if (hanse_tx_decode(&tx, data, size, batched, NULL) == HANSE_OK) check_tx(&tx);
  return 0;
}
