/*
 * fx_quote.h -- exchange-rate quotes, signed off chain (modules/fx/).
 *
 * A bank or market maker quotes a rate to whoever asks, off chain, and
 * signs the quote; the payer carries the signed quote in an fx.pay
 * transaction, where the chain checks it. The format:
 *
 *   {"id","maker":"<org>","key":"<maker's signing key hex>",
 *    "sell":"USD","buy":"EUR","rate":{"num":n,"den":d},
 *    "valid_from":ms,"valid_until":ms,"max":<buy-currency amount>,
 *    "buy_account":"<maker's account in buy>",
 *    "sell_account":"<maker's account in sell>","sig":"<128 hex>"}
 *
 * The signature (Ed25519, by "key") covers the domain string
 * HANSE_FX_QUOTE_DOMAIN, one NUL byte, then the quote without "sig" as
 * canonical JSON: keys sorted, no whitespace, jansson's encoding (the
 * form the chain stores records in). The domain keeps a quote's
 * signature from ever being taken for a transaction's or a request's.
 *
 * Here only the bytes and the signature; what the fields must hold and
 * who may quote is the fx module's business.
 */
#ifndef HANSE_FX_QUOTE_H
#define HANSE_FX_QUOTE_H

#include <jansson.h>

#include "base/buf.h"
#include "crypto/sign.h"

#define HANSE_FX_QUOTE_DOMAIN "hanse.fx.quote.v1"

/* Append the signed bytes of `quote` (borrowed; any "sig" left out) to
 * out. HANSE_OK or HANSE_ERR(NOMEM). */
int hanse_fx_quote_message(json_t *quote, hanse_buf *out);
/* Set quote's "key" to kp's public key and "sig" to its signature over
 * the rest. HANSE_OK or HANSE_ERR(NOMEM). */
int hanse_fx_quote_sign(json_t *quote, const hanse_keypair *kp);
/* 1 when quote's "sig" is a valid signature by its "key", 0 otherwise
 * (no key, no sig, malformed hex, wrong signature). */
int hanse_fx_quote_verify(json_t *quote);

#endif
