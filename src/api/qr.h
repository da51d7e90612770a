/*
 * qr.h -- QR codes of a text (a product link), drawn as SVG or PNG.
 *
 * The symbol is libqrencode's: error correction level M (15% of the
 * symbol may be lost), the whole text in 8-bit mode, the smallest version
 * that holds it, and a quiet zone of HANSE_QR_QUIET_MODULES light modules
 * on every side, as ISO/IEC 18004 asks for a scanner to find the symbol.
 *
 * Both functions follow one contract:
 *   - `text` is borrowed, NUL-terminated, 1 to HANSE_QR_TEXT_MAX bytes;
 *   - `out` is a hanse_buf the caller initialised; the image is appended
 *     to it and the caller frees it (hanse_buf_free, or hanse_buf_steal);
 *   - the return is HANSE_OK; or HANSE_ERR(INVALID) with `rej` (may be
 *     NULL) filled as "qr.bad_text" (400) for an empty or too long text;
 *     or HANSE_ERR(NOMEM) / HANSE_ERR(INTERNAL) when memory or the
 *     libraries fail. On an error `out` holds what it held before or
 *     more; the caller frees it either way.
 */
#ifndef HANSE_QR_H
#define HANSE_QR_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"

/* An SVG document: a white square of (width + 2 * quiet) modules and one
 * <path> of the dark modules, one unit per module (viewBox "0 0 n n", no
 * width or height, so it fills whatever box the page gives it), with
 * shape-rendering="crispEdges" so edges stay sharp at any size. Each row
 * of the path is a run of "M<x> <y>h<run>v1h-<run>z" rectangles, one per
 * horizontal run of dark modules. */
int hanse_qr_svg(const char *text, hanse_buf *out, hanse_reject *rej);

/* A PNG (libpng): 8-bit greyscale, `scale_px` pixels per module (1 to
 * HANSE_QR_PNG_SCALE_MAX; anything else is "qr.bad_scale"), black
 * modules on white, the quiet zone included. */
int hanse_qr_png(const char *text, int scale_px, hanse_buf *out, hanse_reject *rej);

/* The PNG scale the API serves (about 300 to 1,100 pixels a side for
 * product links). */
#define HANSE_QR_PNG_SCALE_DEFAULT 8

#endif
