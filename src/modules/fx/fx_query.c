/*
 * fx/hanse_fx_query.c -- reading the fx module's records.
 *
 *   payment   {id}     the payment's record (fx/pay/<id>)
 *   quote_use {quote}  how much of a quote is used (fx/used/<quote id>)
 *
 * Rejections: fx.bad_id (400), fx.no_payment and fx.no_quote_use (404).
 */
#include <stdio.h>
#include <string.h>

#include "modules/fx/fx.h"

int hanse_fx_query(hanse_view *v, const char *name, json_t *params, json_t **result,
             hanse_reject *rej) {
  int payment = strcmp(name, "payment") == 0;
  const char *id = json_string_value(json_object_get(params, payment ? "id" : "quote"));
  char key[LEDGER_KEY_MAX];
  *result = NULL;
  if (payment ? !hanse_fx_pay_id_valid(id) : !ledger_id_valid(id))
    return hanse_reject_code(rej, "fx.bad_id", 400, "\"%s\" must be 1-%d of [A-Za-z0-9._:-]",
                             payment ? "id" : "quote", payment ? HANSE_FX_ID_MAX : LEDGER_ID_MAX);
  snprintf(key, sizeof key, payment ? "fx/pay/%s" : "fx/used/%s", id);
  int rc = hanse_view_get_json(v, key, result);
  if (rc != HANSE_OK) return hanse_reject_set(rej, rc, NULL);
  if (*result == NULL)
    return hanse_reject_code(rej, payment ? "fx.no_payment" : "fx.no_quote_use", 404,
                             payment ? "no payment '%s'" : "quote '%s' was never used", id);
  return HANSE_OK;
}
