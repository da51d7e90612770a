/*
 * res_web.c -- the explorer's static files, compiled into the binary.
 */
#include <string.h>

#include "api/api_internal.h"
#include "api/web_assets.h"

enum MHD_Result res_web(hanse_req *rq, const char *path) {
  if (strcmp(path, "/") == 0) path = "/index.html";
  /* The consumer page: one page for every product, /p/{Digital Link
   * path}, checked as its QR codes are (dl_path.c; the images
   * /p/.../qr.svg|qr.png never reach this function). The page itself
   * reads the record and says when none is published. */
  if (strncmp(path, "/p/", 3) == 0) {
    const char *target = rq->uri ? rq->uri : path;
    size_t n = strcspn(target, "?");
    hanse_reject rej;
    hanse_reject_clear(&rej);
    if (n < 3 || strncmp(target, "/p/", 3) != 0 ||
        api_dl_path_check(target + 3, n - 3, "trace.bad_product_path", &rej) != HANSE_OK)
      return api_reject(rq, &rej);
    path = "/product.html";
  }
  for (const hanse_web_asset *a = hanse_web_assets; a->path; a++)
    if (strcmp(a->path, path) == 0) return api_bytes(rq, 200, a->content_type, a->data, a->len, 0);
  return api_error(rq, 404, "http.not_found", "no page %.200s", path);
}
