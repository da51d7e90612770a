/*
 * fx/fx.h -- what the fx module's files share (fx.c: the module, pay;
 * hanse_fx_query.c: its queries). The design, the payload and the state keys
 * are described in fx.c.
 */
#ifndef HANSE_MODULE_FX_H
#define HANSE_MODULE_FX_H

#include "modules/ledger/ledger.h"

/* A payment id: its legs are the ledger transfers "fx:<id>:in" and
 * "fx:<id>:out", which must stay ledger ids. */
#define HANSE_FX_ID_MAX (LEDGER_ID_MAX - 8)
_Static_assert(sizeof "fx::out" - 1 + HANSE_FX_ID_MAX <= LEDGER_ID_MAX, "a leg's id is a ledger id");

/* 1 if s is a payment id. */
int hanse_fx_pay_id_valid(const char *s);

/* out = floor(amount * num / den), taken in 128 bits (den >= 1). 0 with
 * *out set, or 1 when the result exceeds LEDGER_AMOUNT_MAX. */
int hanse_fx_convert(uint64_t amount, uint64_t num, uint64_t den, uint64_t *out);

/* The module's queries: payment {id}, quote_use {quote}. */
int hanse_fx_query(hanse_view *v, const char *name, json_t *params, json_t **result,
             hanse_reject *rej);

#endif
