/*
 * client/fx.c -- making a signed exchange-rate quote (hanse/client.h,
 * part 10). No request: a quote is made and signed where the maker's key
 * is, and handed to the payer by any means; the chain checks it when the
 * payer's fx.pay carries it (modules/fx/fx.c).
 */
#include <stdint.h>

#include "client/client_internal.h"
#include "encoding/fx_quote.h"

static int in_range(uint64_t v) { return v >= 1 && v <= INT64_MAX; }

int hanse_client_fx_quote(const hanse_fx_quote_spec *s, const hanse_keypair *kp, json_t **out,
                          hanse_reject *rej) {
  *out = NULL;
  if (!s->id || !s->maker || !s->sell || !s->buy || !s->buy_account || !s->sell_account)
    return client_fail(rej, HANSE_ERR(INVALID), "client.bad_quote",
                       "a quote needs id, maker, sell, buy, buy_account and sell_account");
  if (!in_range(s->num) || !in_range(s->den) || !in_range(s->max) ||
      s->valid_until_ms > INT64_MAX || s->valid_from_ms >= s->valid_until_ms)
    return client_fail(rej, HANSE_ERR(INVALID), "client.bad_quote",
                       "num, den and max must be from 1 to 2^63-1, valid_from before "
                       "valid_until");
  json_t *q = json_pack("{s:s, s:s, s:s, s:s, s:{s:I, s:I}, s:I, s:I, s:I, s:s, s:s}", "id",
                        s->id, "maker", s->maker, "sell", s->sell, "buy", s->buy, "rate", "num",
                        (json_int_t)s->num, "den", (json_int_t)s->den, "valid_from",
                        (json_int_t)s->valid_from_ms, "valid_until",
                        (json_int_t)s->valid_until_ms, "max", (json_int_t)s->max,
                        "buy_account", s->buy_account, "sell_account", s->sell_account);
  int rc = q ? hanse_fx_quote_sign(q, kp) : HANSE_ERR(NOMEM);
  if (rc != HANSE_OK) {
    json_decref(q);
    return hanse_reject_set(rej, rc, "cannot make the quote");
  }
  *out = q;
  return HANSE_OK;
}
