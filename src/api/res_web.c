/*
 * res_web.c -- the explorer's static files, compiled into the binary.
 */
#include <string.h>

#include "api/api_internal.h"
#include "api/web_assets.h"

enum MHD_Result res_web(hanse_req *rq, const char *path) {
  if (strcmp(path, "/") == 0) path = "/index.html";
  /* The consumer page /p/{digital link path} (issue 5) goes here: check
   * the path from rq->uri with api_dl_path_check, as res_qr.c does. Its
   * QR images /p/.../qr.svg|qr.png never reach this function. */
  for (const hanse_web_asset *a = hanse_web_assets; a->path; a++)
    if (strcmp(a->path, path) == 0) return api_bytes(rq, 200, a->content_type, a->data, a->len, 0);
  return api_error(rq, 404, "http.not_found", "no page %.200s", path);
}
