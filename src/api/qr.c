/*
 * qr.c -- QR codes as SVG and PNG (qr.h).
 *
 * libqrencode computes the symbol; this file only draws it. The symbol is
 * a square of `width` modules, QRcode.data holding one byte per module in
 * row-major order whose bit 0 says dark. Both drawings add the quiet zone
 * around it, so a drawing is n = width + 2 * HANSE_QR_QUIET_MODULES
 * modules a side and the module at (x, y) of the symbol sits at
 * (x + quiet, y + quiet) of the drawing.
 *
 * SVG: one unit per module. Each row's dark modules become one rectangle
 * per run, written as a closed subpath "M<x> <y>h<run>v1h-<run>z" of a
 * single <path>: a few kilobytes for a product link, and a reader can
 * recover every dark module from it (the unit test does).
 *
 * PNG: libpng's simplified writer (png_image_write_to_memory) on an 8-bit
 * greyscale raster of n * scale pixels a side; deflate makes the long
 * runs of equal bytes cheap, so there is no need for 1-bit packing.
 */
#include "api/qr.h"

#include <errno.h>
#include <png.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

/* Encode `text` (checked as qr.h says) into *code; HANSE_OK or a
 * rejection / error. The caller frees *code with QRcode_free. */
static int encode(const char *text, QRcode **code, hanse_reject *rej) {
  *code = NULL;
  size_t n = text ? strlen(text) : 0;
  if (n == 0) return hanse_reject_code(rej, "qr.bad_text", 400, "the QR code's text is empty");
  if (n > HANSE_QR_TEXT_MAX)
    return hanse_reject_code(rej, "qr.bad_text", 400,
                             "the QR code's text is %zu bytes, more than %d", n,
                             HANSE_QR_TEXT_MAX);
  errno = 0;
  *code = QRcode_encodeData((int)n, (const unsigned char *)text, 0, QR_ECLEVEL_M);
  if (*code == NULL) {
    if (errno == ENOMEM) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
    /* ERANGE cannot happen below HANSE_QR_TEXT_MAX (limits.h) */
    return hanse_reject_set(rej, HANSE_ERR(INTERNAL), "libqrencode failed: %s",
                            strerror(errno));
  }
  HANSE_ASSERT((*code)->width >= 21 && (*code)->width <= 177);
  return HANSE_OK;
}

static int dark(const QRcode *q, int x, int y) {
  return q->data[(size_t)y * (size_t)q->width + (size_t)x] & 1;
}

int hanse_qr_svg(const char *text, hanse_buf *out, hanse_reject *rej) {
  QRcode *q;
  int rc = encode(text, &q, rej);
  if (rc != HANSE_OK) return rc;
  const int quiet = HANSE_QR_QUIET_MODULES;
  const int n = q->width + 2 * quiet;
  char part[96];
  int len = snprintf(part, sizeof part,
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                     "shape-rendering=\"crispEdges\">",
                     n, n);
  hanse_buf_put(out, part, (size_t)len);
  len = snprintf(part, sizeof part, "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>", n, n);
  hanse_buf_put(out, part, (size_t)len);
  static const char path_open[] = "<path fill=\"#000\" d=\"";
  hanse_buf_put(out, path_open, sizeof path_open - 1);
  for (int y = 0; y < q->width; y++) {
    int x = 0;
    while (x < q->width) {
      if (!dark(q, x, y)) {
        x++;
        continue;
      }
      int run = 1;
      while (x + run < q->width && dark(q, x + run, y)) run++;
      len = snprintf(part, sizeof part, "M%d %dh%dv1h-%dz", x + quiet, y + quiet, run, run);
      hanse_buf_put(out, part, (size_t)len);
      x += run;
    }
  }
  static const char tail[] = "\"/></svg>\n";
  hanse_buf_put(out, tail, sizeof tail - 1);
  QRcode_free(q);
  if (hanse_buf_status(out) != HANSE_OK) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  return HANSE_OK;
}

int hanse_qr_png(const char *text, int scale_px, hanse_buf *out, hanse_reject *rej) {
  if (scale_px < 1 || scale_px > HANSE_QR_PNG_SCALE_MAX)
    return hanse_reject_code(rej, "qr.bad_scale", 400,
                             "a QR code's scale is 1 to %d pixels per module, not %d",
                             HANSE_QR_PNG_SCALE_MAX, scale_px);
  QRcode *q;
  int rc = encode(text, &q, rej);
  if (rc != HANSE_OK) return rc;
  const size_t quiet = HANSE_QR_QUIET_MODULES;
  const size_t scale = (size_t)scale_px;
  const size_t side = ((size_t)q->width + 2 * quiet) * scale;
  uint8_t *pixels = malloc(side * side);
  if (pixels == NULL) {
    QRcode_free(q);
    return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  }
  memset(pixels, 0xFF, side * side);
  for (size_t y = 0; y < (size_t)q->width; y++) {
    uint8_t *row = pixels + (y + quiet) * scale * side;
    for (size_t x = 0; x < (size_t)q->width; x++)
      if (dark(q, (int)x, (int)y)) memset(row + (x + quiet) * scale, 0x00, scale);
    for (size_t k = 1; k < scale; k++) memcpy(row + k * side, row, side);
  }
  QRcode_free(q);

  png_image img;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  img.width = (png_uint_32)side;
  img.height = (png_uint_32)side;
  img.format = PNG_FORMAT_GRAY;
  /* The worst case (stored blocks) is a little more than the raster, so
   * one scratch allocation holds whatever deflate makes of it; `out`
   * receives only the bytes written. */
  png_alloc_size_t cap = PNG_IMAGE_PNG_SIZE_MAX(img);
  uint8_t *png = malloc(cap);
  if (png == NULL) {
    free(pixels);
    return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  }
  png_alloc_size_t written = cap;
  int ok = png_image_write_to_memory(&img, png, &written, 0, pixels, 0, NULL);
  free(pixels);
  if (!ok || written > cap) {
    rc = hanse_reject_set(rej, HANSE_ERR(INTERNAL), "libpng failed: %s", img.message);
    png_image_free(&img);
    free(png);
    return rc;
  }
  hanse_buf_put(out, png, written);
  free(png);
  if (hanse_buf_status(out) != HANSE_OK) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  return HANSE_OK;
}
