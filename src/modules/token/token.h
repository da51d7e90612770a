/*
 * token/token.h -- what the token module's files share, and its state
 * format, which other modules (orders) read.
 *
 * A token is a ledger asset (modules/ledger/) that one enterprise, its
 * issuer, defines and alone puts into circulation:
 *
 *   currency  a bank's token backed one to one by money it holds off
 *             chain: one token unit is one minor unit of "backing" (EUR
 *             cents). The bank attests its reserve (token.reserve, with
 *             the hash of the bank statement or audit report as evidence)
 *             and may never have more outstanding than its last attested
 *             reserve (token.unbacked).
 *   loyalty   a platform's points, awarded to buyers and spent for a
 *             discount: one token unit is worth value.num/value.den minor
 *             units of value.asset, paid from the platform's discount
 *             account, which the platform funds.
 *
 * Files: token.c (the function table, check, define, reserve, dispatch),
 * token_move.c (issue, redeem, withdraw: transfers, books, history),
 * token_query.c.
 *
 * Money moves only through the ledger, on the action's book (ledger.h
 * "for other modules"), with controller "token":
 *
 *   issuance account  token:<symbol>:issued, owned by the issuer, type
 *                     liability, asset the token, controller "token". An
 *                     issue debits it and credits the holder's account; a
 *                     redeem debits the holder's account and credits it.
 *                     Its debits_posted are the tokens issued, its
 *                     credits_posted those that came back (redeemed, or
 *                     spent back to the issuer), their difference the
 *                     tokens outstanding.
 *   discount account  token:<symbol>:discounts (loyalty only), owned by the
 *                     issuer, type asset, asset value.asset, rule
 *                     debits_must_not_exceed_credits, controller "token".
 *                     The issuer funds it with an ordinary ledger.transfer
 *                     from its own account (anyone may credit); only code
 *                     that passes controller "token" debits it: the order
 *                     module paying a discount, token.withdraw returning
 *                     unspent funds to the issuer. It can pay out no more
 *                     than was paid in.
 *
 * Holders' accounts are ordinary ledger accounts in the token, which the
 * ledger opens with the rule debits_must_not_exceed_credits: holders pay
 * each other (orders "paid in these assets") with ledger.transfer, and no
 * holder can spend a token that was not issued.
 *
 * State (readable text keys; values canonical JSON; amounts decimal
 * strings of u64 in the token's smallest unit, except as noted):
 *
 *   token/def/<symbol>      {"symbol","kind","issuer","decimals",
 *                            "issuance_account","backing"  (currency)
 *                            | "value":{"asset","num","den"},
 *                              "discount_account"           (loyalty),
 *                            "height"}     decimals, num, den, height:
 *                            JSON integers. Written once.
 *   token/issuer/<issuer>/<symbol>  "<symbol>"   tokens by issuer
 *   token/backing/<symbol>  the latest attestation (as below): the
 *                            reserve in force
 *   token/reserve/<symbol>/<seq, 12 digits>
 *                           {"symbol","seq","reserve","evidence","as_of"?,
 *                            "by","tx","height","time"}   every attestation;
 *                            seq from 1; by: the signing key (hex); time:
 *                            block time (ms)
 *   token/hist/<symbol>/<height, 20 digits><tx index, 7 digits>
 *                           {"op":"issue"|"redeem"|"withdraw","account",
 *                            "owner","amount","ref","transfer","tx",
 *                            "height","time"}   transfer: the ledger
 *                            transfer's id
 *
 * Transfer ids: "token:" and the first TOKEN_XFER_HEX hex digits of
 * SHA-256("<op>\n<symbol>\n<account>\n<ref>"), so the same request again
 * (same op, token, account and ref) is the same transfer: it changes
 * nothing and succeeds; the same ref with another amount is
 * token.id_conflict.
 */
#ifndef HANSE_MODULE_TOKEN_H
#define HANSE_MODULE_TOKEN_H

#include <jansson.h>
#include <stdint.h>

#include "modules/ledger/ledger.h"

#define TOKEN_MODULE "token"        /* the controller of its accounts */
#define TOKEN_SYMBOL_MAX 16         /* a token's symbol, bytes */
#define TOKEN_RATIO_MAX 1000000     /* value.num and value.den: 1..this */
#define TOKEN_EVIDENCE_HEX 64       /* a SHA-256, lowercase hex */
#define TOKEN_AS_OF_MAX 32          /* an attestation's as_of, bytes */
#define TOKEN_XFER_HEX 56           /* hex digits of a transfer id's hash */
#define TOKEN_SEQ_DIGITS 12         /* digits of an attestation's seq */

_Static_assert(sizeof "token::discounts" - 1 + TOKEN_SYMBOL_MAX <= LEDGER_ID_MAX,
               "a token's own account ids are ledger ids");
_Static_assert(sizeof "token:" - 1 + TOKEN_XFER_HEX <= LEDGER_ID_MAX,
               "a token transfer id is a ledger id");
_Static_assert(TOKEN_XFER_HEX <= 2 * HANSE_HASH_BYTES, "a transfer id's hash fits SHA-256");
_Static_assert(TOKEN_SYMBOL_MAX <= HANSE_ASSET_NAME_MAX, "a token symbol is an asset code");

#define TOKEN_CURRENCY "currency"
#define TOKEN_LOYALTY "loyalty"

/* Key builders: key[LEDGER_KEY_MAX]. */
void token_key_def(char *key, const char *symbol);
void token_key_backing(char *key, const char *symbol);
/* The ids of a token's own accounts: id[LEDGER_ID_MAX + 1]. */
void token_account_id(char *id, const char *symbol, const char *which);

/* 1 if s is a token symbol: 1-TOKEN_SYMBOL_MAX of [A-Za-z0-9._-], not a
 * currency code's shape. */
int token_symbol_valid(const char *s);

/* The token's definition on book b: *def a new reference; a missing token
 * is token.unknown (404). */
int token_def_load(ledger_book *b, const char *symbol, json_t **def, hanse_reject *rej);
/* The issuance account's posted sums: issued (debits) and back (credits). */
int token_circulation(ledger_book *b, json_t *def, uint64_t *issued, uint64_t *back);
/* A rejection from the ledger as the token's own: "ledger.x" becomes
 * "token.x", status and message kept. Returns HANSE_ERR(INVALID). */
int token_reject_from_ledger(hanse_reject *rej);

/* ---- token_move.c: the actions that move tokens (b->owner signs) ---- */
int token_issue(ledger_book *b, json_t *p, hanse_reject *rej);
int token_redeem(ledger_book *b, json_t *p, hanse_reject *rej);
int token_withdraw(ledger_book *b, json_t *p, hanse_reject *rej);

/* ---- token_query.c ---- */
int token_query(hanse_view *v, const char *name, json_t *params, json_t **result,
                hanse_reject *rej);

#endif
