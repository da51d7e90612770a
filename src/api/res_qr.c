/*
 * res_qr.c -- GET /p/{digital link path}/qr.svg and /qr.png: the QR code
 * of a product link.
 *
 * A product's consumer page is /p/{path} on the node's own domain, where
 * {path} is a GS1 Digital Link path (dl_path.c), so the page's address is
 * itself a Digital Link URI that any GS1 resolver or scanner app
 * understands. These two routes draw that address as a QR code (qr.c)
 * for the page to show and for labels to print:
 *
 *   /p/01/09521234543213/21/12345/qr.png
 *     -> PNG of "https://shop.example/p/01/09521234543213/21/12345"
 *
 * The link's base is the node's --public-url when it has one (a node
 * behind a proxy or on a domain of its own), else "http://" and the
 * request's Host header: the address the client reached the node at.
 *
 * The path is read from the request target as sent (rq->uri), not from
 * the percent-decoded rq->url, so an escaped "/" in a serial stays in its
 * segment and the link keeps the client's spelling. The answer depends on
 * the URL (and Host) alone, never on the chains: a QR code may be printed
 * before the product's record is published, and it is cacheable by
 * anyone (Cache-Control public). Rejections are 400 "qr.bad_id" (not a
 * Digital Link path) and "qr.bad_host" (no usable Host header).
 */
#include <stdio.h>
#include <string.h>

#include "api/api_internal.h"
#include "base/log.h"
#include "api/qr.h"

#define QR_PREFIX "/p/"
#define QR_CACHE_CONTROL "public, max-age=86400"

/* The image a path ends with: 1 SVG, 2 PNG, 0 none. */
static int qr_suffix(const char *path, size_t n) {
  static const char svg[] = "/qr.svg", png[] = "/qr.png";
  size_t s = sizeof svg - 1;
  if (n < sizeof QR_PREFIX - 1 + s) return 0;
  if (memcmp(path + n - s, svg, s) == 0) return 1;
  if (memcmp(path + n - s, png, s) == 0) return 2;
  return 0;
}

int api_qr_path(const char *url) {
  return strncmp(url, QR_PREFIX, sizeof QR_PREFIX - 1) == 0 && qr_suffix(url, strlen(url)) != 0;
}

/* Characters of a host name, an IPv4 address or a bracketed IPv6 one,
 * and the ":port" after it. */
static int host_ok(const char *h, size_t n) {
  if (n == 0 || n > HANSE_HTTP_HOST_MAX) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = h[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '.' || c == '-' || c == ':' || c == '[' || c == ']'))
      return 0;
  }
  return 1;
}

int hanse_api_public_url_check(const char *url, hanse_reject *rej) {
  size_t n = strlen(url);
  size_t scheme = strncmp(url, "https://", 8) == 0 ? 8 : strncmp(url, "http://", 7) == 0 ? 7 : 0;
  if (scheme == 0 || n > HANSE_PUBLIC_URL_MAX)
    return hanse_reject_code(rej, "node.bad_public_url", 400,
                             "the public URL must be http:// or https:// and at most %d "
                             "bytes: '%.64s'",
                             HANSE_PUBLIC_URL_MAX, url);
  size_t host = strcspn(url + scheme, "/");
  if (!host_ok(url + scheme, host))
    return hanse_reject_code(rej, "node.bad_public_url", 400,
                             "the public URL '%.64s' has no valid host", url);
  for (const char *p = url + scheme + host; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          strchr("-._~/%!$&'()*+,;=:@", *p) != NULL))
      return hanse_reject_code(rej, "node.bad_public_url", 400,
                               "the public URL '%.64s' may hold a path but no query, "
                               "fragment or space",
                               url);
  return HANSE_OK;
}

/* The product link of `path` into out (cap bytes): the base, "/p/", the
 * path. HANSE_OK, or a rejection. */
static int product_link(hanse_req *rq, const char *path, size_t n, char *out, size_t cap,
                        hanse_reject *rej) {
  const char *base = rq->node->cfg.public_url;
  int len;
  if (base && base[0]) {
    size_t bn = strlen(base);
    while (bn > 0 && base[bn - 1] == '/') bn--; /* "https://x/" and "https://x" alike */
    len = snprintf(out, cap, "%.*s/p/%.*s", (int)bn, base, (int)n, path);
  } else {
    const char *host = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Host");
    if (host == NULL || !host_ok(host, strlen(host)))
      return hanse_reject_code(rej, "qr.bad_host", 400,
                               "the node has no --public-url and the request no valid Host "
                               "header to build the product link from");
    len = snprintf(out, cap, "http://%s/p/%.*s", host, (int)n, path);
  }
  HANSE_ASSERT(len > 0 && (size_t)len < cap); /* limits.h: the bounds add up */
  return HANSE_OK;
}

enum MHD_Result res_qr(hanse_req *rq) {
  /* The target as sent, without its query. */
  size_t n = strcspn(rq->uri, "?");
  int kind = qr_suffix(rq->uri, n);
  if (strncmp(rq->uri, QR_PREFIX, sizeof QR_PREFIX - 1) != 0 || kind == 0)
    return api_error(rq, 400, "qr.bad_id",
                     "a QR code's address is /p/{digital link path}/qr.svg or qr.png, "
                     "unescaped");
  const char *path = rq->uri + sizeof QR_PREFIX - 1;
  size_t pn = n - (sizeof QR_PREFIX - 1) - (sizeof "/qr.svg" - 1);
  hanse_reject rej;
  hanse_reject_clear(&rej);
  if (api_dl_path_check(path, pn, "qr.bad_id", &rej) != HANSE_OK) return api_reject(rq, &rej);
  char link[HANSE_QR_TEXT_MAX + 1];
  if (product_link(rq, path, pn, link, sizeof link, &rej) != HANSE_OK)
    return api_reject(rq, &rej);

  hanse_buf img;
  hanse_buf_init(&img);
  int rc = kind == 1 ? hanse_qr_svg(link, &img, &rej)
                     : hanse_qr_png(link, HANSE_QR_PNG_SCALE_DEFAULT, &img, &rej);
  if (rc != HANSE_OK) {
    hanse_buf_free(&img);
    return api_reject(rq, &rej);
  }
  size_t len;
  uint8_t *bytes = hanse_buf_steal(&img, &len);
  struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback(len, bytes, free);
  if (resp == NULL) {
    free(bytes);
    return MHD_NO;
  }
  MHD_add_response_header(resp, "Content-Type", kind == 1 ? "image/svg+xml" : "image/png");
  MHD_add_response_header(resp, "Cache-Control", QR_CACHE_CONTROL);
  return api_respond(rq, 200, resp);
}
