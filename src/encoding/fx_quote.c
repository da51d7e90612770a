/*
 * fx_quote.c -- the signed bytes of an exchange-rate quote (fx_quote.h).
 *
 * The quote is copied without "sig" and dumped with sorted keys and no
 * whitespace, so the order in which the maker's program wrote the
 * members, or the payer's program forwarded them, does not matter; the
 * payload parser rejects duplicate members and real numbers before a
 * quote reaches the chain, so each quote has exactly one canonical text.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/hex.h"
#include "encoding/fx_quote.h"

int hanse_fx_quote_message(json_t *quote, hanse_buf *out) {
  json_t *copy = json_copy(quote);
  if (copy == NULL) return HANSE_ERR(NOMEM);
  json_object_del(copy, "sig");
  char *text = json_dumps(copy, JSON_SORT_KEYS | JSON_COMPACT);
  json_decref(copy);
  if (text == NULL) return HANSE_ERR(NOMEM);
  hanse_buf_put(out, HANSE_FX_QUOTE_DOMAIN, sizeof HANSE_FX_QUOTE_DOMAIN); /* with its NUL */
  hanse_buf_put(out, text, strlen(text));
  free(text);
  return hanse_buf_status(out);
}

int hanse_fx_quote_sign(json_t *quote, const hanse_keypair *kp) {
  char hex[2 * HANSE_SIG_BYTES + 1];
  if (json_object_set_new(quote, "key", json_string(hanse_pubkey_hex(hex, &kp->pub))) != 0)
    return HANSE_ERR(NOMEM);
  hanse_buf msg;
  hanse_buf_init(&msg);
  int rc = hanse_fx_quote_message(quote, &msg);
  if (rc == HANSE_OK) {
    hanse_sig sig;
    hanse_sign(&sig, msg.data, msg.len, kp);
    hanse_hex_encode(hex, sig.b, HANSE_SIG_BYTES);
    if (json_object_set_new(quote, "sig", json_string(hex)) != 0) rc = HANSE_ERR(NOMEM);
  }
  hanse_buf_free(&msg);
  return rc;
}

int hanse_fx_quote_verify(json_t *quote) {
  hanse_pubkey pk;
  hanse_sig sig;
  const char *sighex = json_string_value(json_object_get(quote, "sig"));
  if (hanse_pubkey_parse(&pk, json_string_value(json_object_get(quote, "key"))) != HANSE_OK ||
      sighex == NULL || strlen(sighex) != 2 * HANSE_SIG_BYTES ||
      hanse_hex_decode_exact(sig.b, HANSE_SIG_BYTES, sighex) != HANSE_OK)
    return 0;
  hanse_buf msg;
  hanse_buf_init(&msg);
  int ok = hanse_fx_quote_message(quote, &msg) == HANSE_OK &&
           hanse_sign_verify(&sig, msg.data, msg.len, &pk);
  hanse_buf_free(&msg);
  return ok;
}
