/*
 * test_qr.c -- QR codes of product links (api/qr.c).
 *
 * The oracle is libqrencode itself, called here with the parameters qr.h
 * promises (level M, the whole text in 8-bit mode, the smallest version):
 * both drawings must show exactly that symbol, module for module, inside
 * a 4-module quiet zone. The SVG's path is parsed back into modules; the
 * PNG is read back with libpng and sampled at every module's pixels. And
 * an independent decoder, zbarimg (zbar-tools, scripts/deps.sh test),
 * must read the PNG back to exactly the text, for short and long links
 * (lot, serial, percent-escapes) up to the longest text allowed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <png.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/qr.h"

static const char *const texts[] = {
    "HANSE",
    "http://127.0.0.1:8080/p/01/09521234543213/21/12345",
    "https://trace.shop.example/p/01/09521234543213/22/CPV-7/10/LOT%2F2026-ABC/"
    "21/SER%21X-0123456789AB",
    "https://id.gs1.org/8003/0952123454321ASSET-42",
};

static QRcode *oracle(const char *text) {
  QRcode *q = QRcode_encodeData((int)strlen(text), (const unsigned char *)text, 0, QR_ECLEVEL_M);
  assert_non_null(q);
  return q;
}

/* zbarimg's reading of a PNG, trailing newline removed; malloc'd. */
static char *zbar_read(const uint8_t *png, size_t len) {
  const char *tmp = getenv("TMPDIR");
  char path[512];
  snprintf(path, sizeof path, "%s/hanse-qr-XXXXXX.png", tmp && *tmp ? tmp : "/tmp");
  int fd = mkstemps(path, 4);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, png, len), (ssize_t)len);
  close(fd);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "zbarimg --nodbus --raw -q '%s' 2>&1", path);
  FILE *f = popen(cmd, "r");
  assert_non_null(f);
  char *out = calloc(1, 8192);
  assert_non_null(out);
  size_t n = fread(out, 1, 8191, f);
  int st = pclose(f);
  unlink(path);
  if (st != 0)
    fail_msg("zbarimg failed (status %d; is zbar-tools installed? scripts/deps.sh test): %s", st,
             out);
  while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r')) out[--n] = 0;
  return out;
}

/* The SVG's dark modules as an n x n grid (n from its viewBox). */
static uint8_t *svg_modules(const char *svg, int *n_out) {
  const char *vb = strstr(svg, "viewBox=\"0 0 ");
  assert_non_null(vb);
  int n = 0, n2 = 0;
  assert_int_equal(sscanf(vb, "viewBox=\"0 0 %d %d\"", &n, &n2), 2);
  assert_int_equal(n, n2);
  uint8_t *grid = calloc((size_t)n * (size_t)n, 1);
  assert_non_null(grid);
  const char *d = strstr(svg, " d=\"");
  assert_non_null(d);
  assert_null(strstr(d + 1, " d=\"")); /* one path */
  d += 4;
  while (*d != '"') {
    int x, y, run, run2, used = 0;
    assert_int_equal(sscanf(d, "M%d %dh%dv1h-%dz%n", &x, &y, &run, &run2, &used), 4);
    assert_true(used > 0);
    assert_int_equal(run, run2);
    assert_true(x >= 0 && y >= 0 && run >= 1 && x + run <= n && y < n);
    for (int i = 0; i < run; i++) {
      assert_int_equal(grid[y * n + x + i], 0); /* no module drawn twice */
      grid[y * n + x + i] = 1;
    }
    d += used;
  }
  *n_out = n;
  return grid;
}

static void test_svg_matches_symbol(void **state) {
  (void)state;
  for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
    hanse_buf b;
    hanse_buf_init(&b);
    assert_int_equal(hanse_qr_svg(texts[t], &b, NULL), HANSE_OK);
    hanse_buf_put(&b, "", 1);
    const char *svg = (const char *)b.data;
    assert_non_null(strstr(svg, "shape-rendering=\"crispEdges\""));
    /* no fixed size on the <svg> element: it scales to its box */
    const char *tag_end = strchr(svg, '>');
    assert_non_null(tag_end);
    const char *wattr = strstr(svg, "width=");
    assert_true(wattr == NULL || wattr > tag_end);
    int n;
    uint8_t *grid = svg_modules(svg, &n);
    QRcode *q = oracle(texts[t]);
    const int quiet = HANSE_QR_QUIET_MODULES;
    assert_int_equal(quiet, 4);
    assert_int_equal(n, q->width + 2 * quiet);
    for (int y = 0; y < n; y++)
      for (int x = 0; x < n; x++) {
        int sx = x - quiet, sy = y - quiet;
        int want = sx >= 0 && sy >= 0 && sx < q->width && sy < q->width
                       ? q->data[sy * q->width + sx] & 1
                       : 0; /* quiet zone */
        if (grid[y * n + x] != want) fail_msg("text %zu: module (%d,%d) differs", t, x, y);
      }
    QRcode_free(q);
    free(grid);
    hanse_buf_free(&b);
  }
}

/* Read a PNG back (libpng) as 8-bit grey; malloc'd pixels. */
static uint8_t *png_pixels(const uint8_t *png, size_t len, png_uint_32 *w, png_uint_32 *h) {
  png_image img;
  memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  assert_true(png_image_begin_read_from_memory(&img, png, len));
  img.format = PNG_FORMAT_GRAY;
  uint8_t *px = malloc(PNG_IMAGE_SIZE(img));
  assert_non_null(px);
  assert_true(png_image_finish_read(&img, NULL, px, 0, NULL));
  *w = img.width;
  *h = img.height;
  return px;
}

static void test_png_matches_symbol(void **state) {
  (void)state;
  static const int scales[] = {1, 3, HANSE_QR_PNG_SCALE_DEFAULT};
  for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++)
    for (size_t s = 0; s < sizeof scales / sizeof scales[0]; s++) {
      hanse_buf b;
      hanse_buf_init(&b);
      assert_int_equal(hanse_qr_png(texts[t], scales[s], &b, NULL), HANSE_OK);
      assert_memory_equal(b.data, "\x89PNG\r\n\x1a\n", 8);
      png_uint_32 w, h;
      uint8_t *px = png_pixels(b.data, b.len, &w, &h);
      QRcode *q = oracle(texts[t]);
      const int quiet = HANSE_QR_QUIET_MODULES, sc = scales[s];
      const int n = q->width + 2 * quiet;
      assert_int_equal(w, (png_uint_32)(n * sc));
      assert_int_equal(h, w);
      /* every pixel of every module */
      for (png_uint_32 y = 0; y < h; y++)
        for (png_uint_32 x = 0; x < w; x++) {
          int mx = (int)x / sc - quiet, my = (int)y / sc - quiet;
          int on = mx >= 0 && my >= 0 && mx < q->width && my < q->width &&
                   (q->data[my * q->width + mx] & 1);
          if (px[y * w + x] != (on ? 0x00 : 0xFF))
            fail_msg("text %zu scale %d: pixel (%u,%u) is %u", t, sc, x, y, px[y * w + x]);
        }
      QRcode_free(q);
      free(px);
      hanse_buf_free(&b);
    }
}

static void test_png_decodes(void **state) {
  (void)state;
  for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
    hanse_buf b;
    hanse_buf_init(&b);
    assert_int_equal(hanse_qr_png(texts[t], HANSE_QR_PNG_SCALE_DEFAULT, &b, NULL), HANSE_OK);
    char *got = zbar_read(b.data, b.len);
    assert_string_equal(got, texts[t]);
    free(got);
    hanse_buf_free(&b);
  }
  /* the longest text allowed, at scale 2 */
  char *longest = malloc(HANSE_QR_TEXT_MAX + 1);
  assert_non_null(longest);
  static const char head[] = "https://trace.shop.example/p/01/09521234543213/21/";
  memcpy(longest, head, sizeof head - 1);
  for (size_t i = sizeof head - 1; i < HANSE_QR_TEXT_MAX; i++)
    longest[i] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-abc"[i % 40];
  longest[HANSE_QR_TEXT_MAX] = 0;
  hanse_buf b;
  hanse_buf_init(&b);
  assert_int_equal(hanse_qr_png(longest, 2, &b, NULL), HANSE_OK);
  char *got = zbar_read(b.data, b.len);
  assert_string_equal(got, longest);
  free(got);
  hanse_buf_free(&b);
  free(longest);
}

static void test_bad_input(void **state) {
  (void)state;
  hanse_buf b;
  hanse_buf_init(&b);
  hanse_reject rej;
  assert_int_equal(hanse_qr_svg(NULL, &b, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "qr.bad_text");
  assert_int_equal(rej.status, 400);
  assert_int_equal(hanse_qr_png("", 4, &b, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "qr.bad_text");
  char *big = malloc(HANSE_QR_TEXT_MAX + 2);
  assert_non_null(big);
  memset(big, 'a', HANSE_QR_TEXT_MAX + 1);
  big[HANSE_QR_TEXT_MAX + 1] = 0;
  assert_int_equal(hanse_qr_svg(big, &b, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "qr.bad_text");
  assert_int_equal(hanse_qr_png(big, 4, &b, &rej), HANSE_ERR(INVALID));
  free(big);
  assert_int_equal(hanse_qr_png("HANSE", 0, &b, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "qr.bad_scale");
  assert_int_equal(hanse_qr_png("HANSE", HANSE_QR_PNG_SCALE_MAX + 1, &b, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "qr.bad_scale");
  assert_int_equal(b.len, 0); /* nothing written on a rejection */
  assert_int_equal(hanse_qr_png("HANSE", HANSE_QR_PNG_SCALE_MAX, &b, &rej), HANSE_OK);
  assert_true(b.len > 8);
  hanse_buf_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_svg_matches_symbol),
      cmocka_unit_test(test_png_matches_symbol),
      cmocka_unit_test(test_png_decodes),
      cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
