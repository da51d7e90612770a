/*
 * clearing/clearing.h -- what the clearing module's files share
 * (clearing.c: the module, join, pay, settle; clearing_query.c: its
 * queries and the cycle report both use). The design, the payloads and
 * the state keys are described in clearing.c.
 */
#ifndef HANSE_MODULE_CLEARING_H
#define HANSE_MODULE_CLEARING_H

#include "modules/ledger/ledger.h"

/* A payment id: its legs are the ledger transfers "clr:<id>:out" and
 * "clr:<id>:in". */
#define CLEARING_ID_MAX (LEDGER_ID_MAX - 8)
_Static_assert(sizeof "clr::out" - 1 + CLEARING_ID_MAX <= LEDGER_ID_MAX,
               "a leg's id is a ledger id");
/* Banks in one cycle: every organisation of a chain may take part. */
#define CLEARING_BANKS_MAX 256
/* A settlement leg's transfer id: "clr:<16 hex of the settle's tx id>:
 * <bank index>:<s|c>" -- nobody can take it beforehand, since nobody
 * knows the operator's transaction id before it is signed. */
#define CLEARING_LEG_TX_HEX 16
_Static_assert(sizeof "clr:::s" - 1 + CLEARING_LEG_TX_HEX + 3 <= LEDGER_ID_MAX,
               "a settlement leg's id is a ledger id");
_Static_assert(CLEARING_BANKS_MAX <= 999, "a bank index fits 3 digits");

/* The report of one cycle from its positions record (clearing/pos/...):
 * {"asset","cycle","obligations","gross","net","saving","banks":[{"bank",
 * "sent","received","net","side"}]} with banks in id order. *out a new
 * reference; HANSE_ERR(NOMEM) or HANSE_ERR(INTERNAL) for a malformed
 * record. `pos` may be NULL: an empty cycle (asset, cycle given). */
int clearing_report(json_t *pos, const char *asset, uint64_t cycle, json_t **out);

/* The module's queries: cycle {asset, cycle}, positions {asset},
 * payment {id}. */
int clearing_query(hanse_view *v, const char *name, json_t *params, json_t **result,
                   hanse_reject *rej);

#endif
