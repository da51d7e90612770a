/*
 * demo_books.c -- the demo's story of books and payments on the alliance
 * (issue 6), told after the e-bike's traceability story:
 *
 *   1. Hansa Bank defines EURB, a euro token backed one to one, attests
 *      the euros it holds and issues EURB to the platform, which buys
 *      stock from ACME.
 *   2. The platform orders e-bikes from ACME; the payment waits in escrow
 *      (a pending ledger transfer) until the platform, receiving the
 *      goods, captures an EPCIS "accepting" event naming the order --
 *      which releases it to ACME and books the sale and the payment in
 *      both books.
 *   3. ACME pays customs a duty and the platform its fee (ledger
 *      transfers with a business type, booked in both books), and pays
 *      Swift Logistics' freight in US dollars through the bank's signed
 *      exchange-rate quote (booked in all three books).
 *   4. ACME reads its own trial balance (an owner query: the alliance
 *      lets only banks, regulators and auditors read financial data);
 *      the regulator reconciles ACME's books with the platform's and
 *      checks the token's backing.
 *
 * The chains outlive a run, so accounts and the token are made once
 * (looked up first) and everything else carries the run's time in its
 * id. Amounts are in cents.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/demo.h"

#define TOKEN "EURB"
#define ORDER_CENTS 180000  /* 1,800.00 EURB: ten e-bikes at cost */
#define DUTY_CENTS 7200     /* import duty */
#define FEE_CENTS 5400      /* the platform's fee, 3 % */
#define FREIGHT_CENTS 25000 /* paid in EURB, arrives in USD */

/* Query `module/name` on the alliance as actor a; *out a new reference.
 * NOT_FOUND when the query answered 404. */
static int ask(demo *d, int a, const char *module, const char *name, const char *const *params,
               json_t **out, hanse_reject *rej) {
  return hanse_client_query(demo_as(d, ALLIANCE, a), module, name, params, out, rej);
}

/* Open ledger account `id` of actor a unless it exists (a rerun). */
static int account(demo *d, int a, const char *id, const char *asset, const char *type,
                   hanse_reject *rej) {
  char what[96];
  snprintf(what, sizeof what, "opens %s account %s", asset, id);
  int rc = demo_step(d, ALLIANCE, a, "ledger.open",
                     json_pack("{s:s, s:s, s:s}", "account", id, "asset", asset, "type", type),
                     what, NULL, rej);
  if (rc != HANSE_OK && strstr(rej->code, "ledger.account_exists") != NULL) {
    hanse_reject_clear(rej);
    return HANSE_OK;
  }
  return rc;
}

/* One ledger transfer of `business` from actor a's account. */
static int pay(demo *d, int a, const char *id, const char *debit, const char *credit,
               uint64_t cents, const char *business, const char *what, hanse_reject *rej) {
  return demo_step(d, ALLIANCE, a, "ledger.transfer",
                   json_pack("{s:[{s:s, s:s, s:s, s:I, s:s, s:s}]}", "transfers", "id", id,
                             "debit", debit, "credit", credit, "amount", (json_int_t)cents,
                             "business", business, "ref", id),
                   what, NULL, rej);
}

/* The token, its reserve and the platform's EURB. */
static int story_token(demo *d, const char *run, hanse_reject *rej) {
  const char *params[] = {"symbol", TOKEN, NULL};
  json_t *b = NULL;
  int rc = ask(d, BANK, "token", "backing", params, &b, rej);
  if (rc == HANSE_ERR(NOT_FOUND)) {
    hanse_reject_clear(rej);
    rc = demo_step(d, ALLIANCE, BANK, "token.define",
                   json_pack("{s:s, s:s, s:i, s:s}", "symbol", TOKEN, "kind", "currency",
                             "decimals", 2, "backing", "EUR"),
                   "defines EURB, a euro token backed 1:1", NULL, rej);
    if (rc == HANSE_OK) rc = ask(d, BANK, "token", "backing", params, &b, rej);
  }
  uint64_t outstanding = 0;
  if (rc == HANSE_OK &&
      cli_parse_u64(json_string_value(json_object_get(b, "outstanding")), UINT64_MAX / 2,
                    &outstanding) != 1)
    rc = hanse_reject_code(rej, "demo.bad_answer", 0, "token backing without outstanding");
  json_decref(b);
  if (rc == HANSE_OK) rc = account(d, PLATFORM, "shopeasy:eurb", TOKEN, "asset", rej);
  if (rc == HANSE_OK) rc = account(d, MANUFACTURER, "acme:eurb", TOKEN, "asset", rej);
  if (rc == HANSE_OK) rc = account(d, CUSTOMS, "customs:eurb", TOKEN, "asset", rej);
  if (rc == HANSE_OK) rc = account(d, BANK, "hansa:eurb", TOKEN, "asset", rej);
  if (rc == HANSE_OK) rc = account(d, BANK, "hansa:usd", "USD", "liability", rej);
  if (rc == HANSE_OK) rc = account(d, LOGISTICS, "swift:usd", "USD", "asset", rej);
  uint64_t issue = ORDER_CENTS + 20000, issue_acme = DUTY_CENTS + FEE_CENTS + FREIGHT_CENTS;
  if (rc == HANSE_OK) {
    char evidence[HANSE_HASH_HEX_BYTES], statement[96];
    hanse_hash h;
    snprintf(statement, sizeof statement, "Hansa Bank reserve statement, run %s", run);
    hanse_sha256(&h, statement, strlen(statement));
    hanse_hash_hex(evidence, &h);
    rc = demo_step(d, ALLIANCE, BANK, "token.reserve",
                   json_pack("{s:s, s:I, s:s}", "symbol", TOKEN, "amount",
                             (json_int_t)(outstanding + issue + issue_acme), "evidence",
                             evidence),
                   "attests the euros it holds for EURB (statement's SHA-256)", NULL, rej);
  }
  if (rc == HANSE_OK) {
    char ref[64];
    snprintf(ref, sizeof ref, "wire-%s", run);
    rc = demo_step(d, ALLIANCE, BANK, "token.issue",
                   json_pack("{s:s, s:s, s:I, s:s}", "symbol", TOKEN, "account", "shopeasy:eurb",
                             "amount", (json_int_t)issue, "ref", ref),
                   "issues 2,000.00 EURB to the platform for its wire", NULL, rej);
  }
  if (rc == HANSE_OK) { /* ACME's duty, fee and freight come from its sales */
    rc = demo_step(d, ALLIANCE, BANK, "token.issue",
                   json_pack("{s:s, s:s, s:I, s:s}", "symbol", TOKEN, "account", "acme:eurb",
                             "amount", (json_int_t)issue_acme, "ref", run),
                   "issues EURB to ACME for its wire", NULL, rej);
  }
  return rc;
}

/* The order in escrow, released by the platform's accepting event. */
static int story_order(demo *d, const char *run, hanse_reject *rej) {
  char id[48], po[96], item[96];
  snprintf(id, sizeof id, "PO-%s", run);
  snprintf(po, sizeof po, "urn:epcglobal:cbv:bt:4012345000009:%s", id);
  snprintf(item, sizeof item, "urn:epc:id:sgtin:4012345.011111.%s", run);
  int rc = demo_step(d, ALLIANCE, PLATFORM, "order.place",
                     json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:i}", "id", id, "seller",
                               actors[MANUFACTURER].org, "asset", TOKEN, "amount",
                               (json_int_t)ORDER_CENTS, "buyer_account", "shopeasy:eurb",
                               "seller_account", "acme:eurb", "timeout", 14 * 24 * 3600),
                     "orders e-bikes from ACME: 1,800.00 EURB held in escrow", NULL, rej);
  if (rc != HANSE_OK) return rc;
  json_t *e = demo_obj_event(d, 0, item, "OBSERVE", "accepting", "in_progress",
                             "urn:epc:id:sgln:4098765.00001.0");
  json_object_set_new(e, "bizTransactionList",
                      json_pack("[{s:s, s:s}]", "type", "po", "bizTransaction", po));
  rc = demo_capture(d, PLATFORM, e, "accepts the delivery (EPCIS): escrow released", rej);
  const char *params[] = {"id", id, NULL};
  json_t *o = NULL;
  if (rc == HANSE_OK) rc = ask(d, REGULATOR, "order", "order", params, &o, rej);
  if (rc == HANSE_OK) {
    const char *status = json_string_value(json_object_get(o, "status"));
    printf("  %-12s sees order %s %s\n", actors[REGULATOR].name, id, status ? status : "?");
    if (status == NULL || strcmp(status, "delivered") != 0)
      rc = hanse_reject_code(rej, "demo.not_released", 0, "order %s is %s, not delivered", id,
                             status ? status : "unknown");
  }
  json_decref(o);
  return rc;
}

/* Duty, fee, and freight converted to dollars at the bank's quote. */
static int story_payments(demo *d, const char *run, hanse_reject *rej) {
  char id[64];
  snprintf(id, sizeof id, "duty-%s", run);
  int rc = pay(d, MANUFACTURER, id, "acme:eurb", "customs:eurb", DUTY_CENTS, "duty",
               "pays customs 72.00 EURB import duty", rej);
  snprintf(id, sizeof id, "fee-%s", run);
  if (rc == HANSE_OK)
    rc = pay(d, MANUFACTURER, id, "acme:eurb", "shopeasy:eurb", FEE_CENTS, "fee",
             "pays the platform its 54.00 EURB fee", rej);
  if (rc != HANSE_OK) return rc;
  /* The bank sells USD for EURB at 1.0850 for the next hour. */
  char qid[64];
  snprintf(qid, sizeof qid, "q-%s", run);
  hanse_fx_quote_spec spec = {qid, actors[BANK].org, "USD", TOKEN, "hansa:eurb", "hansa:usd",
                              10850, 10000, d->run_ms - 60000, d->run_ms + 3600000, 1000000};
  json_t *quote = NULL;
  rc = hanse_client_fx_quote(&spec, d->keys[BANK], &quote, rej);
  if (rc != HANSE_OK) return rc;
  printf("  %-12s signs a quote off chain: USD for EURB at 1.0850, valid one hour\n",
         actors[BANK].name);
  snprintf(id, sizeof id, "freight-%s", run);
  return demo_step(d, ALLIANCE, MANUFACTURER, "fx.pay",
                   json_pack("{s:s, s:o, s:s, s:s, s:I}", "id", id, "quote", quote, "debit",
                             "acme:eurb", "credit", "swift:usd", "amount",
                             (json_int_t)FREIGHT_CENTS),
                   "pays 250.00 EURB freight; Swift gets 271.25 USD", NULL, rej);
}

/* What the books say. */
static int story_reports(demo *d, hanse_reject *rej) {
  const char *mine[] = {"owner", actors[MANUFACTURER].org, NULL};
  json_t *tb = NULL;
  int rc = ask(d, MANUFACTURER, "books", "trial_balance", mine, &tb, rej);
  if (rc != HANSE_OK) return rc;
  printf("  %-12s reads its own trial balance: %" JSON_INTEGER_FORMAT " entries, %s\n",
         actors[MANUFACTURER].name, json_integer_value(json_object_get(tb, "entries")),
         json_is_true(json_object_get(tb, "balanced")) ? "debits equal credits" : "UNBALANCED");
  size_t i;
  json_t *row;
  json_array_foreach(json_object_get(tb, "accounts"), i, row) {
    printf("               %-28s %-5s %14s\n", json_string_value(json_object_get(row, "account")),
           json_string_value(json_object_get(row, "asset")),
           json_string_value(json_object_get(row, "balance")));
  }
  json_decref(tb);
  const char *pair[] = {"a", actors[MANUFACTURER].org, "b", actors[PLATFORM].org, NULL};
  json_t *rec = NULL;
  rc = ask(d, REGULATOR, "books", "reconcile", pair, &rec, rej);
  if (rc != HANSE_OK) return rc;
  printf("  %-12s reconciles ACME's books with the platform's: %zu matched, %zu differences\n",
         actors[REGULATOR].name, json_array_size(json_object_get(rec, "matched")),
         json_array_size(json_object_get(rec, "differences")));
  json_decref(rec);
  const char *sym[] = {"symbol", TOKEN, NULL};
  json_t *b = NULL;
  rc = ask(d, REGULATOR, "token", "backing", sym, &b, rej);
  if (rc != HANSE_OK) return rc;
  printf("  %-12s checks EURB: %s outstanding, %s in reserve, %s\n", actors[REGULATOR].name,
         json_string_value(json_object_get(b, "outstanding")),
         json_string_value(json_object_get(b, "reserve")),
         json_is_true(json_object_get(b, "covered")) ? "covered" : "NOT COVERED");
  json_decref(b);
  printf("  export ACME's books for hledger: hanse books export --chain alliance --owner %s "
         "--key %s/keys/manufacturer.json\n",
         actors[MANUFACTURER].org, d->data);
  return HANSE_OK;
}

int demo_workload_books(demo *d, hanse_reject *rej) {
  char run[24];
  snprintf(run, sizeof run, "%" PRIu64, d->run_ms);
  printf("\ndemo: books and payments on \"alliance\" (a euro token, an order in escrow, "
         "duty, fee, freight in dollars)\n");
  int rc = story_token(d, run, rej);
  if (rc == HANSE_OK) rc = story_order(d, run, rej);
  if (rc == HANSE_OK) rc = story_payments(d, run, rej);
  if (rc == HANSE_OK) rc = story_reports(d, rej);
  fflush(stdout);
  return rc;
}
