/*
 * books/books_rules.c -- the default posting rules: what an enterprise
 * that set no rule of its own books for each business type and role.
 *
 * Each row is (type, role) -> (debit account, credit account). The payer
 * of a sale owes (a payable), its payee is owed (a receivable); a payment
 * settles them in cash. Fees, duties and refunds are paid in cash at
 * once. Conversions run through equity:conversion, one entry per
 * currency, so that every entry balances in each asset on its own (the
 * way hledger books a currency exchange with conversion postings).
 */
#include <string.h>

#include "modules/books/books.h"

typedef struct default_rule {
  const char *type;
  books_role role;
  const char *debit, *credit;
} default_rule;

static const default_rule defaults[] = {
    {BOOKS_SALE, BOOKS_PAYER, "expenses:purchases", "liabilities:payables"},
    {BOOKS_SALE, BOOKS_PAYEE, "assets:receivables", "revenue:sales"},
    {BOOKS_PAYMENT, BOOKS_PAYER, "liabilities:payables", "assets:cash"},
    {BOOKS_PAYMENT, BOOKS_PAYEE, "assets:cash", "assets:receivables"},
    {BOOKS_FEE, BOOKS_PAYER, "expenses:fees", "assets:cash"},
    {BOOKS_FEE, BOOKS_PAYEE, "assets:cash", "revenue:fees"},
    {BOOKS_DUTY, BOOKS_PAYER, "expenses:duties", "assets:cash"},
    {BOOKS_DUTY, BOOKS_PAYEE, "assets:cash", "revenue:duties"},
    {BOOKS_REFUND, BOOKS_PAYER, "revenue:refunds", "assets:cash"},
    {BOOKS_REFUND, BOOKS_PAYEE, "assets:cash", "expenses:purchases"},
    /* the bank (payer) gives tokens for money paid in off chain */
    {BOOKS_ISSUE, BOOKS_PAYER, "assets:reserves", "liabilities:tokens-issued"},
    {BOOKS_ISSUE, BOOKS_PAYEE, "assets:cash", "assets:bank-deposits"},
    /* the holder (payer) hands tokens back; the bank (payee) pays out */
    {BOOKS_REDEEM, BOOKS_PAYER, "assets:bank-deposits", "assets:cash"},
    {BOOKS_REDEEM, BOOKS_PAYEE, "liabilities:tokens-issued", "assets:reserves"},
    {BOOKS_CONVERSION, BOOKS_PAYER, "equity:conversion", "assets:cash"},
    {BOOKS_CONVERSION, BOOKS_PAYEE, "assets:cash", "equity:conversion"},
    /* clearing (modules/clearing): the payer's bank owes its customer
     * less and the clearing more; the payee's bank the reverse. A bank's
     * assets:clearing is its position in the open cycle (a credit
     * balance: it owes); settlement squares it against the money it
     * holds at the settlement agent, so it is zero after every cycle. */
    {BOOKS_CLEARING, BOOKS_PAYER, "liabilities:deposits", "assets:clearing"},
    {BOOKS_CLEARING, BOOKS_PAYEE, "assets:clearing", "liabilities:deposits"},
    {BOOKS_SETTLEMENT, BOOKS_PAYER, "assets:clearing", "assets:settlement"},
    {BOOKS_SETTLEMENT, BOOKS_PAYEE, "assets:settlement", "assets:clearing"},
    /* the platform funds the discount its loyalty tokens bought */
    {BOOKS_DISCOUNT, BOOKS_PAYER, "expenses:discounts", "assets:cash"},
    {BOOKS_DISCOUNT, BOOKS_PAYEE, "assets:cash", "assets:receivables"},
    /* the platform's loyalty tokens in the token's own commodity: an
     * expense and a liability while they are out, released when they come
     * back (their money cost is the discount above, when they are spent);
     * the holder books nothing: points are no asset of its own */
    {BOOKS_LOYALTY, BOOKS_PAYER, "expenses:loyalty", "liabilities:loyalty-tokens"},
    {BOOKS_LOYALTY, BOOKS_PAYEE, "liabilities:loyalty-tokens", "expenses:loyalty"},
};

int books_default_rule(const char *type, books_role role, const char **debit,
                       const char **credit) {
  for (size_t i = 0; type && i < sizeof defaults / sizeof defaults[0]; i++) {
    if (defaults[i].role != role || strcmp(defaults[i].type, type) != 0) continue;
    *debit = defaults[i].debit;
    *credit = defaults[i].credit;
    return HANSE_OK;
  }
  return HANSE_ERR(NOT_FOUND);
}

int books_default_rule_at(size_t i, const char **type, books_role *role, const char **debit,
                          const char **credit) {
  if (i >= sizeof defaults / sizeof defaults[0]) return HANSE_ERR(NOT_FOUND);
  *type = defaults[i].type;
  *role = defaults[i].role;
  *debit = defaults[i].debit;
  *credit = defaults[i].credit;
  return HANSE_OK;
}
