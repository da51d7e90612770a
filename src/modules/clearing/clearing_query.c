/*
 * clearing/clearing_query.c -- the cycle report and the module's queries.
 *
 *   cycle     {asset, cycle}  a settled cycle's report as kept, or the
 *                             open cycle's so far ("status":"open")
 *   positions {asset}         the open cycle's report
 *   payment   {id}            a payment's record (clearing/pay/<id>)
 *
 * The report: "obligations" (how many payments), "gross" (their sum),
 * "net" (the sum of the positive net positions: what settlement moves
 * from debtors to creditors), "saving" (gross - net), and per bank in id
 * order its "sent", "received", "net" (|received - sent|) and "side"
 * (creditor: received more, debtor: sent more, flat).
 *
 * Rejections: clearing.bad_asset, clearing.bad_cycle, clearing.bad_id
 * (400), clearing.no_cycle, clearing.no_payment (404).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/clearing/clearing.h"

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int clearing_report(json_t *pos, const char *asset, uint64_t cycle, json_t **out) {
  json_t *banks = json_object_get(pos, "banks");
  size_t n = json_object_size(banks), i = 0;
  const char **names = malloc((n ? n : 1) * sizeof *names);
  json_t *rows = json_array();
  *out = NULL;
  if (names == NULL || rows == NULL) {
    free(names);
    json_decref(rows);
    return HANSE_ERR(NOMEM);
  }
  const char *k;
  json_t *v;
  json_object_foreach(banks, k, v) names[i++] = k;
  qsort(names, n, sizeof *names, cmp_str); /* not the object's order: that of its making */
  uint64_t gross = 0, net_total = 0;
  int rc = pos ? ledger_u64_get(pos, "gross", &gross) : HANSE_OK;
  for (i = 0; i < n && rc == HANSE_OK; i++) {
    json_t *e = json_object_get(banks, names[i]);
    uint64_t sent, received;
    rc = ledger_u64_get(e, "sent", &sent);
    if (rc == HANSE_OK) rc = ledger_u64_get(e, "received", &received);
    if (rc != HANSE_OK) break;
    uint64_t net = received >= sent ? received - sent : sent - received;
    if (received > sent) net_total += net; /* <= gross: no overflow */
    json_t *row = json_pack("{s:s, s:O, s:O, s:s}", "bank", names[i], "sent",
                            json_object_get(e, "sent"), "received",
                            json_object_get(e, "received"), "side",
                            received > sent ? "creditor" : received < sent ? "debtor" : "flat");
    if (row == NULL || ledger_u64_set(row, "net", net) != HANSE_OK ||
        json_array_append_new(rows, row) != 0)
      rc = HANSE_ERR(NOMEM);
  }
  free(names);
  json_t *r = rc == HANSE_OK ? json_pack("{s:s, s:I, s:I, s:s, s:O}", "asset", asset, "cycle",
                                         (json_int_t)cycle, "obligations",
                                         json_integer_value(json_object_get(pos, "count")),
                                         "status", "open", "banks", rows)
                             : NULL;
  json_decref(rows);
  if (r == NULL) return rc == HANSE_OK ? HANSE_ERR(NOMEM) : rc;
  if (ledger_u64_set(r, "gross", gross) != HANSE_OK ||
      ledger_u64_set(r, "net", net_total) != HANSE_OK ||
      ledger_u64_set(r, "saving", gross - net_total) != HANSE_OK) {
    json_decref(r);
    return HANSE_ERR(NOMEM);
  }
  *out = r;
  return HANSE_OK;
}

/* The open cycle of `asset` (1 when nothing happened yet). */
static int open_cycle(hanse_view *v, const char *asset, uint64_t *cycle) {
  char key[LEDGER_KEY_MAX];
  json_t *c = NULL;
  snprintf(key, sizeof key, "clearing/cycle/%s", asset);
  int rc = hanse_view_get_json(v, key, &c);
  *cycle = c ? (uint64_t)json_integer_value(json_object_get(c, "cycle")) : 1;
  json_decref(c);
  return rc;
}

static int cycle_report(hanse_view *v, const char *asset, uint64_t cycle, json_t **result,
                        hanse_reject *rej) {
  char key[LEDGER_KEY_MAX];
  uint64_t open;
  int rc = open_cycle(v, asset, &open);
  if (rc != HANSE_OK) return hanse_reject_set(rej, rc, NULL);
  if (cycle == 0) cycle = open;
  if (cycle > open)
    return hanse_reject_code(rej, "clearing.no_cycle", 404,
                             "cycle %" PRIu64 " of %s is not open yet", cycle, asset);
  if (cycle < open) {
    snprintf(key, sizeof key, "clearing/settled/%s/%020" PRIu64, asset, cycle);
    rc = hanse_view_get_json(v, key, result);
    if (rc == HANSE_OK && *result == NULL) rc = HANSE_ERR(INTERNAL);
    return rc == HANSE_OK ? HANSE_OK : hanse_reject_set(rej, rc, NULL);
  }
  json_t *pos = NULL;
  snprintf(key, sizeof key, "clearing/pos/%s/%020" PRIu64, asset, cycle);
  rc = hanse_view_get_json(v, key, &pos);
  if (rc == HANSE_OK) rc = clearing_report(pos, asset, cycle, result);
  json_decref(pos);
  return rc == HANSE_OK ? HANSE_OK : hanse_reject_set(rej, rc, NULL);
}

int clearing_query(hanse_view *v, const char *name, json_t *params, json_t **result,
                   hanse_reject *rej) {
  *result = NULL;
  if (strcmp(name, "payment") == 0) {
    const char *id = json_string_value(json_object_get(params, "id"));
    char key[LEDGER_KEY_MAX];
    if (!ledger_id_valid(id))
      return hanse_reject_code(rej, "clearing.bad_id", 400, "\"id\" must be a payment id");
    snprintf(key, sizeof key, "clearing/pay/%s", id);
    int rc = hanse_view_get_json(v, key, result);
    if (rc != HANSE_OK) return hanse_reject_set(rej, rc, NULL);
    if (*result == NULL)
      return hanse_reject_code(rej, "clearing.no_payment", 404, "no payment '%s'", id);
    return HANSE_OK;
  }
  const char *asset = json_string_value(json_object_get(params, "asset"));
  if (!ledger_asset_code_valid(asset))
    return hanse_reject_code(rej, "clearing.bad_asset", 400, "\"asset\" must be an asset code");
  uint64_t cycle = 0;
  if (strcmp(name, "cycle") == 0 &&
      (!ledger_u64_parse(json_string_value(json_object_get(params, "cycle")), &cycle) ||
       cycle == 0))
    return hanse_reject_code(rej, "clearing.bad_cycle", 400, "\"cycle\" must be a number from 1");
  return cycle_report(v, asset, cycle, result, rej);
}
