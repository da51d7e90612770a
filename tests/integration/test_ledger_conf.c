/*
 * test_ledger_conf.c -- confidential ledger amounts through a real node
 * and the CLI (issue 6, point 8).
 *
 * Chain "cbooks": organisations org1 (the payer, seed 1), org2 (the
 * payee, seed 2), org3 (the auditor, seed 3) and org4 (a bystander member,
 * seed 4); its policy makes EUR confidential with org3's key as auditor.
 *  1. org1 pays org2 777123 with `hanse tx ledger transfer --confidential
 *     --to <org2's key>`, and 5000 more as a pending transfer posted
 *     whole; a clear EUR transfer is refused (ledger.confidential_required).
 *  2. The auditor's `hanse ledger audit --asset EUR` passes and shows both
 *     balances (782123); the payee's `hanse ledger balance` shows its own.
 *  3. The bystander, a member who reads everything the policy lets it,
 *     finds no amount in the transfer, the account, the totals or the
 *     transaction itself, and its audit opens nothing.
 *  4. A tampered client commits to 1000 but seals an opening of 10: the
 *     node accepts it (it cannot tell), and the auditor's audit fails,
 *     naming that transfer (ledger.opening_mismatch) and the two accounts
 *     that no longer reconcile.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "hanse/client.h"
#include "itest.h"

#define CHAIN "cbooks"

static it_node n;
static char keyfile[5][300], pub[5][65];
static hanse_keypair kp[5];

/* `hanse ARGS... --chain cbooks`: exit status and output (free). */
static int run(char **out, const char *const *args) { return it_cli_chain(&n, CHAIN, out, args); }

static void open_account(int who, const char *account) {
  const char *code = it_client_submit(&n, CHAIN, &kp[who], "ledger.open",
                                      json_pack("{s:s, s:s, s:s}", "account", account, "asset",
                                                "EUR", "type", "asset"));
  IT_CHECK(strcmp(code, "ok") == 0);
}

/* The audit report of `hanse ledger audit|balance` as `who`; *rc its
 * exit status; the whole output in *text (free). */
static json_t *audit(int who, const char *sub, const char *opt, const char *val, int *rc,
                     char **text) {
  const char *args[] = {"ledger", sub, opt, val, "--key", keyfile[who], NULL};
  *rc = run(text, args);
  json_t *j = it_first_json(*text);
  IT_CHECK(j != NULL);
  return j;
}

/* The audit entry of `account` in a report. */
static json_t *entry(json_t *report, const char *account) {
  size_t i;
  json_t *e;
  json_array_foreach(json_object_get(report, "accounts"), i, e) {
    if (strcmp(json_string_value(json_object_get(e, "account")), account) == 0) return e;
  }
  return NULL;
}

static const char *str(json_t *o, const char *f) { return json_string_value(json_object_get(o, f)); }

/* GET as the bystander; the body must not mention `secret`. */
static void bystander_sees_no(const char *path, const char *secret) {
  json_t *doc = NULL;
  char code[64];
  char full[512];
  snprintf(full, sizeof full, "/v1/chains/" CHAIN "%s", path);
  long st = it_client_get(&n, CHAIN, &kp[4], full, &doc, code);
  if (st != 200) fprintf(stderr, "GET %s: %ld %s\n", full, st, code);
  IT_CHECK(st == 200 && doc != NULL);
  char *text = json_dumps(doc, 0);
  IT_CHECK(text != NULL);
  if (strstr(text, secret)) fprintf(stderr, "GET %s shows %s: %s\n", full, secret, text);
  IT_CHECK(strstr(text, secret) == NULL);
  free(text);
  json_decref(doc);
}

int main(int argc, char **argv) {
  IT_CHECK(argc >= 2);
  IT_CHECK(sodium_init() >= 0);
  uint8_t seeds[] = {1};
  it_init(&n, argv[1], "plain", seeds, 1);
  json_t *orgs = json_array();
  for (int i = 1; i <= 4; i++) {
    char id[16];
    it_key(&kp[i], (uint8_t)i);
    it_pubhex(pub[i], (uint8_t)i);
    snprintf(keyfile[i], sizeof keyfile[i], "%s/key-%d.json", n.dir, i);
    IT_CHECK(hanse_keyfile_write(keyfile[i], &kp[i]) == HANSE_OK);
    snprintf(id, sizeof id, "org%d", i);
    json_array_append_new(orgs, json_pack("{s:s, s:s, s:s, s:[s]}", "id", id, "name", id, "role",
                                          "bank", "keys", pub[i]));
  }
  it_init_genesis(&n, json_pack("{s:s, s:o, s:{s:{s:[s], s:[s]}}}", "chain_id", CHAIN,
                                "organisations", orgs, "policy", "confidential", "assets", "EUR",
                                "auditors", pub[3]));
  IT_CHECK(it_start(&n, NULL, NULL) == 0);

  /* 1. Accounts, two confidential payments, a clear one refused. */
  open_account(1, "org1:cash");
  open_account(2, "org2:cash");
  char *out = NULL;
  const char *pay[] = {"tx", "ledger", "transfer", "--id", "inv-1", "--debit", "org1:cash",
                       "--credit", "org2:cash", "--amount", "777123", "--confidential", "--to",
                       pub[2], "--key", keyfile[1], "--wait", NULL};
  int rc = run(&out, pay);
  if (rc != 0) fprintf(stderr, "pay: %s\n", out ? out : "");
  IT_CHECK(rc == 0);
  free(out);
  const char *hold[] = {"tx", "ledger", "transfer", "--id", "inv-2", "--debit", "org1:cash",
                        "--credit", "org2:cash", "--amount", "5000", "--pending",
                        "--confidential", "--to", pub[2], "--key", keyfile[1], "--wait", NULL};
  IT_CHECK(run(&out, hold) == 0);
  free(out);
  IT_CHECK(strcmp(it_client_submit(&n, CHAIN, &kp[1], "ledger.post",
                                   json_pack("{s:s}", "id", "inv-2")),
                  "ok") == 0);
  const char *clear[] = {"tx", "ledger", "transfer", "--id", "inv-3", "--debit", "org1:cash",
                         "--credit", "org2:cash", "--amount", "5", "--key", keyfile[1], "--wait",
                         NULL};
  IT_CHECK(run(&out, clear) != 0);
  IT_CHECK(strstr(out, "ledger.confidential_required") != NULL);
  free(out);

  /* 2. The auditor's audit and the payee's balance. */
  json_t *r = audit(3, "audit", "--asset", "EUR", &rc, &out);
  if (rc != 0) fprintf(stderr, "audit: %s\n", out);
  IT_CHECK(rc == 0 && json_is_true(json_object_get(r, "ok")));
  IT_CHECK(json_integer_value(json_object_get(r, "transfers")) == 2);
  IT_CHECK(json_integer_value(json_object_get(r, "opened")) == 2);
  IT_CHECK(strcmp(str(entry(r, "org1:cash"), "debits_posted"), "782123") == 0);
  IT_CHECK(strcmp(str(entry(r, "org2:cash"), "credits_posted"), "782123") == 0);
  IT_CHECK(strcmp(str(entry(r, "org2:cash"), "credits_pending"), "0") == 0);
  json_decref(r);
  free(out);
  r = audit(2, "balance", "--account", "org2:cash", &rc, &out);
  IT_CHECK(rc == 0 && json_is_true(json_object_get(r, "ok")));
  IT_CHECK(json_array_size(json_object_get(r, "accounts")) == 1);
  IT_CHECK(strcmp(str(entry(r, "org2:cash"), "credits_posted"), "782123") == 0);
  json_decref(r);
  free(out);

  /* 3. The bystander reads the records, and no amount. */
  bystander_sees_no("/query/ledger/transfer?id=inv-1", "777123");
  bystander_sees_no("/query/ledger/transfer?id=inv-2", "5000");
  bystander_sees_no("/query/ledger/account?account=org2:cash", "782123");
  bystander_sees_no("/query/ledger/account?account=org2:cash", "777123");
  bystander_sees_no("/query/ledger/totals?asset=EUR", "782123");
  json_t *rec = NULL;
  char code[64], path[256];
  IT_CHECK(it_client_get(&n, CHAIN, &kp[4], "/v1/chains/" CHAIN "/query/ledger/transfer?id=inv-1",
                         &rec, code) == 200);
  snprintf(path, sizeof path, "/txs/%s", str(rec, "tx"));
  json_decref(rec);
  bystander_sees_no(path, "777123");
  r = audit(4, "audit", "--asset", "EUR", &rc, &out);
  IT_CHECK(rc != 0 && json_integer_value(json_object_get(r, "opened")) == 0);
  IT_CHECK(strstr(out, "confidential.not_recipient") != NULL && strstr(out, "777123") == NULL);
  json_decref(r);
  free(out);

  /* 4. A tampered client: the commitment of 1000, the opening of 10. */
  hanse_pubkey to[3] = {kp[1].pub, kp[2].pub, kp[3].pub};
  hanse_reject rej;
  json_t *t = json_pack("{s:s, s:s, s:s, s:i}", "id", "inv-4", "debit", "org1:cash", "credit",
                        "org2:cash", "amount", 1000);
  json_t *lie = json_deep_copy(t);
  json_object_set_new(lie, "amount", json_integer(10));
  IT_CHECK(hanse_ledger_conf_seal(CHAIN, t, to, 3, &rej) == HANSE_OK);
  IT_CHECK(hanse_ledger_conf_seal(CHAIN, lie, to, 3, &rej) == HANSE_OK);
  json_object_set(json_object_get(t, "amount"), "opening",
                  json_object_get(json_object_get(lie, "amount"), "opening"));
  json_decref(lie);
  IT_CHECK(strcmp(it_client_submit(&n, CHAIN, &kp[1], "ledger.transfer",
                                   json_pack("{s:[o]}", "transfers", t)),
                  "ok") == 0);
  r = audit(3, "audit", "--asset", "EUR", &rc, &out);
  IT_CHECK(rc != 0 && json_is_false(json_object_get(r, "ok")));
  IT_CHECK(strstr(out, "ledger.audit_failed") != NULL);
  json_t *p;
  size_t i;
  int named = 0, mismatched = 0;
  json_array_foreach(json_object_get(r, "problems"), i, p) {
    if (str(p, "transfer") && strcmp(str(p, "transfer"), "inv-4") == 0 &&
        strcmp(str(p, "code"), "ledger.opening_mismatch") == 0)
      named++;
    if (str(p, "account") && strcmp(str(p, "code"), "ledger.balance_mismatch") == 0) mismatched++;
  }
  IT_CHECK(named == 1 && mismatched == 2);
  IT_CHECK(json_integer_value(json_object_get(r, "opened")) == 2);
  json_decref(r);
  free(out);

  for (int k = 1; k <= 4; k++) hanse_keypair_wipe(&kp[k]);
  it_stop(&n);
  it_cleanup_all();
  printf("test_ledger_conf: ok\n");
  return 0;
}
