/*
 * test_qr.c -- the QR codes of product links against a real node
 * (api/res_qr.c): GET /p/{digital link path}/qr.png and /qr.svg.
 *
 *  1. Without --public-url the link's base is http:// and the Host header:
 *     the PNG of /p/01/09521234543213/21/12345 (image/png, Cache-Control
 *     public) reads back with zbarimg as the node's own /p/ URL; with
 *     another Host header sent, as that host's; a path with an escaped
 *     "/" in its lot keeps its spelling. The SVG is image/svg+xml and
 *     scalable (viewBox, crispEdges, one path).
 *  2. Bad ids are 400 with a JSON error "qr.bad_id" (wrong check digit,
 *     unknown key, a qualifier out of order, an escaped "/qr.png", a path
 *     past the bound); a bad Host is 400 "qr.bad_host"; POST is 405; the
 *     other /p/ paths are not the QR route's (the consumer page's).
 *  3. With --public-url https://trace.example.com/shop/ the PNG reads
 *     back as https://trace.example.com/shop/p/..., whatever the Host; a
 *     --public-url with a query is refused at start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "itest.h"

#define ID "01/09521234543213/21/12345"

static it_node node;

/* zbarimg's reading of a PNG (trailing newline removed), in out. */
static void zbar(const it_resp *r, char *out, size_t cap) {
  char path[300];
  snprintf(path, sizeof path, "%s/qr.png", node.dir);
  FILE *f = fopen(path, "wb");
  IT_CHECK(f != NULL);
  IT_CHECK(fwrite(r->body, 1, r->len, f) == r->len);
  fclose(f);
  const char *argv[] = {"zbarimg", "--nodbus", "--raw", "-q", path, NULL};
  char *text = NULL;
  int st = it_run(argv, &text);
  if (st != 0) fprintf(stderr, "zbarimg (zbar-tools, scripts/deps.sh test): %s\n", text);
  IT_CHECK(st == 0 && text != NULL);
  size_t n = strlen(text);
  while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r')) text[--n] = 0;
  snprintf(out, cap, "%s", text);
  free(text);
  unlink(path);
}

static void get(const char *method, const char *path, it_resp *r) {
  char url[1024];
  snprintf(url, sizeof url, "%s%s", node.url, path);
  IT_CHECK(it_http(method, url, NULL, NULL, 0, r) == 0);
}

/* The PNG of `id` read back. */
static void png_text(const char *id, char *out, size_t cap) {
  char path[512];
  snprintf(path, sizeof path, "/p/%s/qr.png", id);
  it_resp r;
  get("GET", path, &r);
  IT_CHECK(r.status == 200);
  IT_CHECK(strcmp(r.content_type, "image/png") == 0);
  IT_CHECK(strncmp(r.cache_control, "public", 6) == 0);
  IT_CHECK(r.len > 8 && memcmp(r.body, "\x89PNG", 4) == 0);
  zbar(&r, out, cap);
  it_resp_free(&r);
}

/* A 400 JSON error with `code` for GET path. */
static void rejected(const char *path, const char *code) {
  it_resp r;
  get("GET", path, &r);
  json_t *j = json_loadb(r.body, r.len, 0, NULL);
  const char *got = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
  if (r.status != 400 || got == NULL || strcmp(got, code) != 0)
    fprintf(stderr, "GET %s: %ld %s\n", path, r.status, r.body);
  IT_CHECK(r.status == 400 && got != NULL && strcmp(got, code) == 0);
  IT_CHECK(strcmp(r.content_type, "application/json") == 0);
  IT_CHECK(strcmp(r.cache_control, "no-store") == 0);
  json_decref(j);
  it_resp_free(&r);
}

/* The PNG of ID fetched by curl(1) with a Host header of our choosing. */
static void png_text_host(const char *host_header, char *out, size_t cap) {
  char url[512], file[300], hdr[300];
  snprintf(url, sizeof url, "%s/p/%s/qr.png", node.url, ID);
  snprintf(file, sizeof file, "%s/host.png", node.dir);
  snprintf(hdr, sizeof hdr, "Host: %s", host_header);
  const char *argv[] = {"curl", "-sf", "-H", hdr, "-o", file, url, NULL};
  IT_CHECK(it_run(argv, NULL) == 0);
  FILE *f = fopen(file, "rb");
  IT_CHECK(f != NULL);
  it_resp r = {0};
  r.body = malloc(1 << 20);
  IT_CHECK(r.body != NULL);
  r.len = fread(r.body, 1, 1 << 20, f);
  fclose(f);
  zbar(&r, out, cap);
  it_resp_free(&r);
}

int main(int argc, char **argv) {
  IT_CHECK(argc >= 2);
  uint8_t seeds[] = {1};
  it_init(&node, argv[1], "open", seeds, 1);
  IT_CHECK(it_start(&node, NULL, NULL) == 0);
  char text[2048], want[1024];

  /* 1. Host-derived links */
  png_text(ID, text, sizeof text);
  snprintf(want, sizeof want, "%s/p/%s", node.url, ID);
  IT_CHECK(strcmp(text, want) == 0);
  png_text_host("shop.example:8443", text, sizeof text);
  IT_CHECK(strcmp(text, "http://shop.example:8443/p/" ID) == 0);
  png_text("01/09521234543213/10/LOT%2F7/21/A-1", text, sizeof text);
  snprintf(want, sizeof want, "%s/p/01/09521234543213/10/LOT%%2F7/21/A-1", node.url);
  IT_CHECK(strcmp(text, want) == 0);
  png_text("00/106141412345678908", text, sizeof text);
  snprintf(want, sizeof want, "%s/p/00/106141412345678908", node.url);
  IT_CHECK(strcmp(text, want) == 0);

  it_resp r;
  get("GET", "/p/" ID "/qr.svg", &r);
  IT_CHECK(r.status == 200);
  IT_CHECK(strcmp(r.content_type, "image/svg+xml") == 0);
  IT_CHECK(strncmp(r.cache_control, "public", 6) == 0);
  IT_CHECK(strncmp(r.body, "<svg ", 5) == 0 && strstr(r.body, "viewBox=\"0 0 ") != NULL);
  IT_CHECK(strstr(r.body, "crispEdges") != NULL && strstr(r.body, "<path ") != NULL);
  IT_CHECK(strstr(strstr(r.body, "<path ") + 1, "<path ") == NULL);
  it_resp_free(&r);
  get("HEAD", "/p/" ID "/qr.png", &r);
  IT_CHECK(r.status == 200 && strcmp(r.content_type, "image/png") == 0);
  it_resp_free(&r);

  /* 2. bad ids, bad Host, methods, other /p/ paths */
  rejected("/p/01/09521234543214/qr.png", "qr.bad_id");
  rejected("/p/99/09521234543213/qr.svg", "qr.bad_id");
  rejected("/p/gtin/09521234543213/qr.svg", "qr.bad_id");
  rejected("/p/01/09521234543213/21/1/10/2/qr.png", "qr.bad_id");
  rejected("/p/01/09521234543213%2Fqr.png", "qr.bad_id");
  rejected("/p//qr.png", "qr.bad_id");
  char longp[600];
  int k = snprintf(longp, sizeof longp, "/p/8004/9");
  while (k < 400) longp[k++] = 'A';
  snprintf(longp + k, sizeof longp - (size_t)k, "/qr.png");
  rejected(longp, "qr.bad_id");
  {
    char url[512], file[300];
    snprintf(url, sizeof url, "%s/p/%s/qr.svg", node.url, ID);
    snprintf(file, sizeof file, "%s/bad-host.json", node.dir);
    const char *cv[] = {"curl", "-s", "-o", file, "-w", "%{http_code}", "-H", "Host: a,b",
                        url, NULL};
    char *out = NULL;
    IT_CHECK(it_run(cv, &out) == 0 && out != NULL);
    IT_CHECK(strcmp(out, "400") == 0);
    free(out);
    json_error_t je;
    json_t *j = json_load_file(file, 0, &je);
    IT_CHECK(j != NULL);
    const char *code = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
    IT_CHECK(code != NULL && strcmp(code, "qr.bad_host") == 0);
    json_decref(j);
  }
  get("POST", "/p/" ID "/qr.png", &r);
  IT_CHECK(r.status == 405);
  it_resp_free(&r);
  get("GET", "/p/" ID, &r); /* the consumer page's path, not a QR code */
  IT_CHECK(strcmp(r.content_type, "image/png") != 0);
  it_resp_free(&r);
  it_stop(&node);

  /* 3. --public-url */
  const char *pub[] = {"--public-url", "https://trace.example.com/shop/", NULL};
  IT_CHECK(it_start(&node, pub, NULL) == 0);
  png_text(ID, text, sizeof text);
  IT_CHECK(strcmp(text, "https://trace.example.com/shop/p/" ID) == 0);
  png_text_host("elsewhere.example", text, sizeof text);
  IT_CHECK(strcmp(text, "https://trace.example.com/shop/p/" ID) == 0);
  it_stop(&node);
  const char *bad[] = {"--public-url", "https://trace.example.com/?x=1", NULL};
  int st = 0;
  IT_CHECK(it_start(&node, bad, &st) == -1 && st != 0);

  it_cleanup_all();
  printf("test_qr: ok\n");
  return 0;
}
