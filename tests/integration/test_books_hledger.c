/*
 * test_books_hledger.c -- the books' export checked by hledger, against a
 * real node (issue 6, point 3).
 *
 * A chain with three enterprises, org1..org3 (seeds 1..3), each with a
 * ledger account in EUR (2 decimals) and one in JPY (0 decimals):
 *  1. a seeded set of ledger transfers between them, of every business
 *     type a plain transfer may carry (payment, fee, duty, refund), and
 *     one amount beyond 2^61 minor units: each books both parties'
 *     entries automatically;
 *  2. reconciliation of org1 with org2: every entry matched, no
 *     difference; then org1 reverses one of them (books.reverse) and the
 *     reconciliation lists exactly that one, "reversed_one_side";
 *  3. every enterprise's journal exported with `hanse books export`:
 *     `hledger -f FILE check --strict` exits 0, and `hledger bal` gives
 *     every account in every commodity the balance of Hanse's own trial
 *     balance (books/trial_balance), converted to minor units with the
 *     commodity's decimals -- no account missing on either side; and
 *     the balance sheet says balanced.
 * Needs hledger on PATH (scripts/deps.sh test).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "itest.h"

#define CHAIN "hb"
#define ORGS 3
#define TRANSFERS 24
#define BIG_AMOUNT 4000000000000000000ll /* > 2^61: exact only without doubles */

static it_node node;
static hanse_keypair kp[ORGS + 1];

static const char *str(json_t *o, const char *f) { return json_string_value(json_object_get(o, f)); }

static json_t *query(const char *name_and_params) {
  char path[512];
  long st;
  snprintf(path, sizeof path, "/v1/chains/" CHAIN "/query/books/%s", name_and_params);
  json_t *j = it_get_json(&node, path, &st);
  if (st != 200) fprintf(stderr, "GET %s: %ld\n", path, st);
  IT_CHECK(st == 200 && j != NULL);
  return j;
}

static void submit_ok(int org, const char *kind, json_t *payload) {
  const char *code = it_client_submit(&node, CHAIN, &kp[org], kind, payload);
  if (strcmp(code, "ok") != 0) fprintf(stderr, "%s by org%d: %s\n", kind, org, code);
  IT_CHECK(strcmp(code, "ok") == 0);
}

static void transfer(int payer, int payee, const char *cur, json_int_t amount,
                     const char *business, int n) {
  char id[32], debit[32], credit[32];
  snprintf(id, sizeof id, "x-%d", n);
  snprintf(debit, sizeof debit, "org%d:%s", payer, cur);
  snprintf(credit, sizeof credit, "org%d:%s", payee, cur);
  submit_ok(payer, "ledger.transfer",
            json_pack("{s:[{s:s, s:s, s:s, s:I, s:s}]}", "transfers", "id", id, "debit", debit,
                      "credit", credit, "amount", amount, "business", business));
}

/* "-1234.50" with `decimals` 2 -> "-123450"; the fraction must have
 * exactly `decimals` digits (hledger prints the declared precision). */
static void minor_units(const char *s, int decimals, char *out, size_t n) {
  const char *p = s;
  int neg = *p == '-';
  if (neg) p++;
  const char *dot = strchr(p, '.');
  IT_CHECK(dot ? (int)strlen(dot + 1) == decimals : decimals == 0);
  char digits[64];
  size_t k = 0;
  for (; *p && k + 1 < sizeof digits; p++)
    if (*p != '.') {
      IT_CHECK(*p >= '0' && *p <= '9');
      digits[k++] = *p;
    }
  digits[k] = 0;
  const char *d = digits;
  while (d[0] == '0' && d[1]) d++;
  snprintf(out, n, "%s%s", neg && strcmp(d, "0") != 0 ? "-" : "", d);
}

/* Export org's journal with the CLI, check it with hledger, and compare
 * hledger's balances with the trial balance. */
static void check_org(int org, const char *keyfile) {
  char owner[16], file[300];
  snprintf(owner, sizeof owner, "org%d", org);
  snprintf(file, sizeof file, "%s/%s.journal", node.dir, owner);
  const char *args[] = {"books", "export", "--chain", CHAIN, "--owner", owner,
                        "--key", keyfile, "--out", file, NULL};
  char *out = NULL;
  int rc = it_cli(&node, &out, args);
  if (rc != 0) fprintf(stderr, "books export %s: %d %s\n", owner, rc, out ? out : "");
  IT_CHECK(rc == 0);
  free(out);

  const char *check[] = {"hledger", "-f", file, "check", "--strict", NULL};
  rc = it_run(check, &out);
  if (rc != 0) fprintf(stderr, "hledger check --strict %s: %d\n%s\n", file, rc, out ? out : "");
  IT_CHECK(rc == 0);
  free(out);

  const char *bal[] = {"hledger", "-f",  file, "bal", "-O", "csv", "--flat", "--layout=bare",
                       "-E",      "--no-total", NULL};
  rc = it_run(bal, &out);
  IT_CHECK(rc == 0 && out != NULL);
  /* hledger's rows: "account","commodity","balance" -> minor units */
  json_t *hl = json_object();
  int rows = 0;
  for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
    char account[200], commodity[64], amount[80], key[300], units[80];
    if (sscanf(line, "\"%199[^\"]\",\"%63[^\"]\",\"%79[^\"]\"", account, commodity, amount) != 3)
      continue;
    if (strcmp(account, "account") == 0) continue; /* the header */
    IT_CHECK(strcmp(commodity, "EUR") == 0 || strcmp(commodity, "JPY") == 0);
    minor_units(amount, strcmp(commodity, "JPY") == 0 ? 0 : 2, units, sizeof units);
    snprintf(key, sizeof key, "%s %s", account, commodity);
    json_object_set_new(hl, key, json_string(units));
    rows++;
  }
  free(out);
  IT_CHECK(rows > 0);

  char path[64];
  snprintf(path, sizeof path, "trial_balance?owner=%s", owner);
  json_t *tb = query(path);
  IT_CHECK(json_is_true(json_object_get(tb, "balanced")));
  size_t i;
  json_t *a;
  int compared = 0;
  json_array_foreach(json_object_get(tb, "accounts"), i, a) {
    char key[300];
    snprintf(key, sizeof key, "%s %s", str(a, "account"), str(a, "asset"));
    const char *h = json_string_value(json_object_get(hl, key));
    if (h == NULL || strcmp(h, str(a, "balance")) != 0)
      fprintf(stderr, "%s %s: hanse %s, hledger %s\n", owner, key, str(a, "balance"),
              h ? h : "(none)");
    IT_CHECK(h != NULL && strcmp(h, str(a, "balance")) == 0);
    json_object_del(hl, key);
    compared++;
  }
  /* nothing hledger knows that the trial balance does not (but zeros of
   * accounts declared without postings) */
  const char *key;
  json_t *v;
  json_object_foreach(hl, key, v) {
    if (strcmp(json_string_value(v), "0") != 0) fprintf(stderr, "%s: only hledger has %s\n", owner, key);
    IT_CHECK(strcmp(json_string_value(v), "0") == 0);
  }
  json_decref(hl);
  json_decref(tb);

  snprintf(path, sizeof path, "balance_sheet?owner=%s", owner);
  json_t *bs = query(path);
  IT_CHECK(json_is_true(json_object_get(bs, "balanced")));
  json_decref(bs);
  printf("%s: hledger agrees on %d account balances\n", owner, compared);
}

int main(int argc, char **argv) {
  IT_CHECK(argc >= 2);
  IT_CHECK(sodium_init() >= 0);
  uint8_t seeds[ORGS] = {1, 2, 3};
  it_init(&node, argv[1], CHAIN, seeds, ORGS);
  IT_CHECK(it_start(&node, NULL, NULL) == 0);
  char keyfile[ORGS + 1][300];
  for (int o = 1; o <= ORGS; o++) {
    it_key(&kp[o], (uint8_t)o);
    snprintf(keyfile[o], sizeof keyfile[o], "%s/org%d.key", node.dir, o);
    IT_CHECK(hanse_keyfile_write(keyfile[o], &kp[o]) == HANSE_OK);
    static const char *const curs[] = {"eur", "jpy"};
    for (int c = 0; c < 2; c++) {
      char account[32];
      snprintf(account, sizeof account, "org%d:%s", o, curs[c]);
      submit_ok(o, "ledger.open", json_pack("{s:s, s:s, s:s}", "account", account, "asset",
                                            c ? "JPY" : "EUR", "type", "asset"));
    }
  }

  /* 1. Seeded transfers: every business type, both currencies, all pairs. */
  static const char *const business[] = {"payment", "fee", "duty", "refund"};
  uint64_t rnd = 6; /* fixed seed */
  for (int n = 0; n < TRANSFERS; n++) {
    rnd = rnd * 6364136223846793005ull + 1442695040888963407ull;
    int payer = 1 + (int)((rnd >> 33) % ORGS);
    int payee = 1 + (payer + (int)((rnd >> 40) % (ORGS - 1))) % ORGS;
    int jpy = (int)((rnd >> 20) & 1);
    json_int_t amount = 1 + (json_int_t)((rnd >> 24) % (jpy ? 200000 : 5000000));
    transfer(payer, payee, jpy ? "jpy" : "eur", amount, business[n % 4], n);
  }
  transfer(3, 1, "eur", BIG_AMOUNT, "payment", TRANSFERS);
  transfer(1, 2, "eur", 5, "payment", TRANSFERS + 1); /* 0.05 EUR */

  /* 2. Reconciliation of org1 and org2, before and after a reversal. */
  json_t *r = query("reconcile?a=org1&b=org2");
  size_t matched = json_array_size(json_object_get(r, "matched"));
  IT_CHECK(matched >= 1);
  IT_CHECK(json_array_size(json_object_get(r, "differences")) == 0);
  IT_CHECK(json_is_true(json_object_get(r, "agree")));
  json_t *first = json_object_get(json_array_get(json_object_get(r, "matched"), 0), "a");
  json_int_t seq = json_integer_value(json_object_get(first, "seq"));
  IT_CHECK(seq >= 1);
  json_decref(r);
  submit_ok(1, "books.reverse", json_pack("{s:I, s:s}", "seq", seq, "memo", "booked twice"));
  r = query("reconcile?a=org1&b=org2");
  IT_CHECK(json_array_size(json_object_get(r, "matched")) == matched);
  json_t *diffs = json_object_get(r, "differences");
  IT_CHECK(json_array_size(diffs) == 1);
  json_t *d = json_array_get(diffs, 0);
  IT_CHECK(strcmp(str(d, "kind"), "reversed_one_side") == 0);
  IT_CHECK(json_integer_value(json_object_get(json_object_get(d, "a"), "seq")) == seq);
  IT_CHECK(json_is_true(json_object_get(json_object_get(d, "a"), "reversed")));
  IT_CHECK(json_is_false(json_object_get(json_object_get(d, "b"), "reversed")));
  IT_CHECK(json_is_false(json_object_get(r, "agree")));
  json_decref(r);

  /* 3. Every enterprise's journal through hledger. */
  for (int o = 1; o <= ORGS; o++) check_org(o, keyfile[o]);
  /* the journal holds every business type and the reversal */
  char file[300];
  snprintf(file, sizeof file, "%s/org1.journal", node.dir);
  FILE *f = fopen(file, "r");
  IT_CHECK(f != NULL);
  static char text[1 << 20];
  size_t len = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[len] = 0;
  IT_CHECK(strstr(text, "| reversal ") != NULL && strstr(text, ", reverses:") != NULL);
  IT_CHECK(strstr(text, "40000000000000000.00 EUR") != NULL);
  IT_CHECK(strstr(text, "commodity 1000. JPY\n") != NULL);
  for (int b = 0; b < 4; b++) {
    char needle[32];
    snprintf(needle, sizeof needle, "| %s ", business[b]);
    int found = 0;
    for (int o = 1; o <= ORGS && !found; o++) {
      snprintf(file, sizeof file, "%s/org%d.journal", node.dir, o);
      char *all = NULL;
      const char *cat[] = {"cat", file, NULL};
      IT_CHECK(it_run(cat, &all) == 0);
      found = all && strstr(all, needle) != NULL;
      free(all);
    }
    IT_CHECK(found);
  }

  it_stop(&node);
  it_cleanup_all();
  printf("test_books_hledger: ok\n");
  return 0;
}
