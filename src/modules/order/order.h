/*
 * order/order.h -- orders between a buyer and a seller, paid in ledger
 * assets (currencies, issued assets, tokens) and held in escrow until
 * the goods are delivered.
 *
 * Files: order.c (the function table, check, dispatch), order_escrow.c
 * (placing an order: its escrow legs and the loyalty discount; releasing,
 * cancelling, the status an order shows), order_delivery.c (release by a
 * delivery event the trace module records), order_query.c.
 *
 * An order's payment is one to three pending ledger transfers, its legs,
 * made in one action so that all exist or none does, all with the same
 * timeout (the order's delivery deadline), so the ledger's expiry sweep
 * releases them together:
 *
 *   order:<id>           buyer_account -> seller_account, amount - discount
 *                        (omitted when the discount pays it all)
 *   order:<id>:tokens    the buyer's loyalty tokens -> the token's
 *                        issuance account (with a discount only)
 *   order:<id>:discount  the issuer's discount_account -> seller_account,
 *                        the discount (with a discount only)
 *
 * The first two are controlled by this module ("order"); the third debits
 * an account the token module controls, so it is made and posted with
 * controller "token". Whoever resolves a leg passes the controller its
 * ledger record names.
 *
 * State (readable text keys; values canonical JSON; amounts decimal
 * strings of u64 in the asset's smallest unit):
 *
 *   order/o/<id>              {"id","buyer","seller","asset","amount",
 *                              "buyer_account","seller_account",
 *                              "discount"?:{"token","account","tokens",
 *                                           "amount","issuer"},
 *                              "legs":[transfer ids],"placed_at" (height),
 *                              "expires_at" (ms),"tx","status",
 *                              "resolved_at"?,"released_by"?}
 *   order/by/<party>/<id>     "buyer" | "seller": orders of an enterprise
 *
 * Stored status: pending, delivered (released to the seller), cancelled.
 * An order stored pending whose legs the ledger expired shows "expired"
 * (order_status): the sweep never writes here.
 *
 * Conventions as in ledger.h: const pointers borrowed, outputs last;
 * HANSE_OK, HANSE_ERR(INVALID) with the rejection filled, or another
 * negative code for an environmental error (ex->env_error set).
 */
#ifndef HANSE_MODULE_ORDER_H
#define HANSE_MODULE_ORDER_H

#include <jansson.h>

#include "chain/exec.h"
#include "modules/ledger/ledger.h"

#define ORDER_MODULE "order" /* the controller of its legs */

/* An order id: its legs' ids ("order:<id>:discount") must be ledger ids. */
#define ORDER_ID_MAX 48
#define ORDER_KEY_MAX 192
#define ORDER_LEGS_MAX 3

_Static_assert(sizeof "order::discount" - 1 + ORDER_ID_MAX <= LEDGER_ID_MAX,
               "a leg's id is a ledger transfer id");
_Static_assert(ORDER_KEY_MAX > sizeof "order/by//" + LEDGER_OWNER_MAX + ORDER_ID_MAX,
               "a party index key fits its buffer");

/* ---- for the trace module ----
 *
 * Called by the trace module's apply for every event it stores (the
 * normalised event, borrowed). When the event is a delivery
 * (trace_event_is_delivery) captured by a buyer's key and one of its
 * bizTransactionList values ends with the id of that buyer's pending order
 * (the last ':'- or '/'-separated segment), the order's legs are posted
 * to the seller and both parties' books get their entries, exactly as
 * order.deliver does. Anything else -- no order, someone else's order, an
 * order no longer pending -- is skipped (logged at debug). Returns
 * HANSE_OK, or an environmental error (the block is abandoned). */
int order_on_delivery(hanse_exec *ex, json_t *event);

/* ---- inside the module ---- */

/* 1 if s is 1-ORDER_ID_MAX of [A-Za-z0-9._-]. */
int order_id_valid(const char *s);
void order_key(char key[ORDER_KEY_MAX], const char *id);

/* order.place's payload, checked: the order, its legs, its indexes. */
int order_place(ledger_book *b, json_t *p, hanse_reject *rej);
/* Release a pending order to its seller (post every leg, book the sale,
 * the payment and the discount) or void it (cancel); rec is the order
 * (borrowed); `by` names what released it (stored as released_by).
 * order.not_pending when it is no longer pending (expired included). */
int order_release(ledger_book *b, json_t *rec, const char *by, hanse_reject *rej);
int order_cancel(ledger_book *b, json_t *rec, hanse_reject *rej);
/* Load order `id` (new reference) or order.no_order (404). */
int order_load(ledger_book *b, const char *id, json_t **rec, hanse_reject *rej);

/* The status an order shows: "expired" when it is stored pending and its
 * first leg's ledger status (may be NULL) is expired, else the stored
 * one. Static storage or rec's. */
const char *order_status(json_t *rec, const char *leg_status);

int order_query(hanse_view *v, const char *name, json_t *params, json_t **result,
                hanse_reject *rej);

#endif
