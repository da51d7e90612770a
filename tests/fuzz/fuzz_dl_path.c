/*
 * fuzz_dl_path.c -- api_dl_path_check: the GS1 Digital Link path of a
 * product link, straight from a request target (/p/{path}/qr.png).
 *
 * The input is the path's bytes, not NUL-terminated (the check reads
 * exactly `size` of them). An accepted path is 1 to HANSE_DL_PATH_MAX
 * bytes, starts with a digit (a numeric key), has no empty segment, and
 * holds only characters a URI path may carry as they are (no space,
 * control, quote, "<", ">", "?", "#", non-ASCII); its product link then
 * has an SVG QR code. A rejection always carries the caller's code.
 */
#include <string.h>

#include "api/api_internal.h"
#include "api/qr.h"
#include "fuzz.h"

FUZZ_DEFAULT_INIT

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = (const char *)data;
  hanse_reject rej;
  hanse_reject_clear(&rej);
  int rc = api_dl_path_check(path, size, "qr.bad_id", &rej);
  if (rc != HANSE_OK) {
    FUZZ_CHECK(rc == HANSE_ERR(INVALID) && strcmp(rej.code, "qr.bad_id") == 0 &&
               rej.status == 400);
    return 0;
  }
  FUZZ_CHECK(size >= 1 && size <= HANSE_DL_PATH_MAX);
  FUZZ_CHECK(data[0] >= '0' && data[0] <= '9' && data[size - 1] != '/');
  for (size_t i = 0; i < size; i++) {
    FUZZ_CHECK(data[i] > ' ' && data[i] < 0x7f && strchr("\"<>?#", data[i]) == NULL);
    FUZZ_CHECK(!(data[i] == '/' && i + 1 < size && data[i + 1] == '/'));
  }
  char link[HANSE_QR_TEXT_MAX + 1];
  snprintf(link, sizeof link, "https://shop.example/p/%.*s", (int)size, path);
  hanse_buf svg;
  hanse_buf_init(&svg);
  FUZZ_CHECK(hanse_qr_svg(link, &svg, NULL) == HANSE_OK);
  FUZZ_CHECK(svg.len > 10 && memcmp(svg.data + svg.len - 7, "</svg>\n", 7) == 0);
  hanse_buf_free(&svg);
  return 0;
}
