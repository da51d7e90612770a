/*
 * test_blobs.c -- the blob resource (api/res_blobs.c) in an in-process
 * node, and its helpers.
 *
 * Helpers: the Content-Digest field of a digest (RFC 9530 known answers)
 * and the media type a blob is served with (the anchor's when it is a
 * plain "type/subtype", application/octet-stream otherwise -- never a
 * header built from anything else).
 *
 * The node (an open chain, no policy): a PUT whose body arrives in many
 * small chunks and does not hash to its name is 400 blob.digest_mismatch
 * and leaves neither a blob nor a temporary file; a chunked body past 64
 * MiB is 413 blob.too_large at its end; a download is refused until the
 * digest is anchored (404 blob.not_anchored), then served with the
 * anchor's media type, Content-Digest and ETag; a flipped byte on disk is
 * 500 blob.corrupt and a removed file 404 blob.missing, with a JSON error
 * and none of the bytes (the client library reports the node's code). The
 * client's anchor payload for a blob passes the notary's check. Uploads
 * that succeed need a signed request and are covered by
 * tests/integration/test_blobs.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <dirent.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api_internal.h"
#include "fixture.h"
#include "hanse/client.h"
#include "node/node.h"

#define CHAIN FX_CHAIN_ID

typedef struct env {
  char dir[256];
  hanse_keypair node, alice;
  hanse_node *n;
  char base[64];
} env;

static int setup(void **state) {
  env *e = calloc(1, sizeof *e);
  if (e == NULL) return -1;
  const char *tmp = getenv("TMPDIR");
  snprintf(e->dir, sizeof e->dir, "%s/hanse-blobs-api-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp(e->dir) == NULL) return -1;
  fx_key(&e->node, 0x01);
  fx_key(&e->alice, 0xa1);
  char path[400], node_hex[HANSE_HASH_HEX_BYTES], alice_hex[HANSE_HASH_HEX_BYTES];
  snprintf(path, sizeof path, "%s/node.key", e->dir);
  assert_int_equal(hanse_keyfile_write(path, &e->node), HANSE_OK);
  json_t *g = json_pack("{s:s, s:[{s:s, s:s, s:s, s:[s]}], s:[s]}", "chain_id", CHAIN,
                        "organisations", "id", "acme", "name", "ACME Ltd", "role",
                        "manufacturer", "keys", fx_hex(alice_hex, &e->alice.pub), "validators",
                        fx_hex(node_hex, &e->node.pub));
  assert_non_null(g);
  snprintf(path, sizeof path, "%s/chains/%s", e->dir, CHAIN);
  hanse_reject rej;
  int rc = hanse_chain_create(path, g, &e->node, FX_T0_MS, &rej);
  json_decref(g);
  if (rc != HANSE_OK) fail_msg("hanse_chain_create: %s: %s", rej.code, rej.message);
  hanse_node_config cfg = {.data_dir = e->dir, .host = "127.0.0.1", .port = 0,
                           .block_interval_ms = 10, .verify_threads = 2};
  rc = hanse_node_open(&cfg, &e->n, &rej);
  if (rc != HANSE_OK) fail_msg("hanse_node_open: %s: %s", rej.code, rej.message);
  snprintf(e->base, sizeof e->base, "http://127.0.0.1:%d", e->n->port);
  *state = e;
  return 0;
}

static int teardown(void **state) {
  env *e = *state;
  hanse_node_close(e->n);
  fx_rmrf(e->dir);
  hanse_keypair_wipe(&e->node);
  hanse_keypair_wipe(&e->alice);
  free(e);
  return 0;
}

/* ---- HTTP ------------------------------------------------------------------ */

typedef struct resp {
  long status;
  char ctype[128], digest[128], etag[80];
  hanse_buf body;
  json_t *json;
} resp;

static void resp_free(resp *r) {
  hanse_buf_free(&r->body);
  json_decref(r->json);
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx) {
  hanse_buf_put(ctx, p, size * n);
  return size * n;
}

static void header_copy(const char *line, size_t len, const char *name, char *out, size_t cap) {
  size_t nl = strlen(name);
  if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':') return;
  const char *v = line + nl + 1;
  size_t vl = len - nl - 1;
  while (vl && *v == ' ') v++, vl--;
  while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n')) vl--;
  if (vl >= cap) vl = cap - 1;
  memcpy(out, v, vl);
  out[vl] = 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx) {
  resp *r = ctx;
  header_copy(p, size * n, "Content-Type", r->ctype, sizeof r->ctype);
  header_copy(p, size * n, "Content-Digest", r->digest, sizeof r->digest);
  header_copy(p, size * n, "ETag", r->etag, sizeof r->etag);
  return size * n;
}

/* A body handed to curl `piece` bytes per read, `total` bytes in all:
 * from `data` (repeated) when not NULL, else 'z's. Sent chunked. */
typedef struct src {
  const uint8_t *data;
  size_t data_len, off, piece;
  uint64_t left;
} src;

static size_t on_read(char *p, size_t size, size_t n, void *ctx) {
  src *s = ctx;
  size_t len = size * n;
  if (len > s->piece) len = s->piece;
  if (len > s->left) len = (size_t)s->left;
  for (size_t i = 0; i < len; i++)
    p[i] = s->data ? (char)s->data[(s->off + i) % s->data_len] : 'z';
  s->off += len;
  s->left -= len;
  return len;
}

static void http(env *e, const char *method, const char *path, src *body, resp *r) {
  memset(r, 0, sizeof *r);
  hanse_buf_init(&r->body);
  char url[512];
  snprintf(url, sizeof url, "%s%s", e->base, path);
  CURL *k = curl_easy_init();
  assert_non_null(k);
  struct curl_slist *hs = curl_slist_append(NULL, "Expect:");
  curl_easy_setopt(k, CURLOPT_URL, url);
  curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(k, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(k, CURLOPT_WRITEDATA, &r->body);
  curl_easy_setopt(k, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(k, CURLOPT_HEADERDATA, r);
  if (body) {
    hs = curl_slist_append(hs, "Transfer-Encoding: chunked");
    curl_easy_setopt(k, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(k, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(k, CURLOPT_READDATA, body);
  } else {
    curl_easy_setopt(k, CURLOPT_CUSTOMREQUEST, method);
  }
  curl_easy_setopt(k, CURLOPT_HTTPHEADER, hs);
  CURLcode cc = curl_easy_perform(k);
  if (cc != CURLE_OK) fail_msg("%s %s: %s", method, path, curl_easy_strerror(cc));
  curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, &r->status);
  curl_slist_free_all(hs);
  curl_easy_cleanup(k);
  if (r->body.len && strncmp(r->ctype, "application/json", 16) == 0)
    r->json = json_loadb((const char *)r->body.data, r->body.len, 0, NULL);
}

static void check_error(const resp *r, long status, const char *code, int line) {
  const char *got =
      json_string_value(json_object_get(json_object_get(r->json, "error"), "code"));
  if (r->status != status || got == NULL || strcmp(got, code) != 0)
    fail_msg("line %d: want %ld %s, got %ld %.*s", line, status, code, r->status,
             (int)(r->body.len > 300 ? 300 : r->body.len), (const char *)r->body.data);
}
#define CHECK_ERROR(r, st, code) check_error(r, st, code, __LINE__)

static void blob_file(env *e, const hanse_hash *d, char *out, size_t cap) {
  char hex[HANSE_HASH_HEX_BYTES];
  hanse_hash_hex(hex, d);
  snprintf(out, cap, "%s/chains/%s/blobs/%.2s/%s", e->dir, CHAIN, hex, hex);
}

static int temp_files(env *e) {
  char dir[400];
  snprintf(dir, sizeof dir, "%s/chains/%s/blobs", e->dir, CHAIN);
  DIR *d = opendir(dir);
  assert_non_null(d);
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) n += strncmp(de->d_name, ".tmp-", 5) == 0;
  closedir(d);
  return n;
}

/* Anchor `d` as alice (sequence seq) with `meta_json`, wait for commit. */
static void anchor(env *e, const hanse_hash *d, uint64_t seq, const char *meta_json) {
  char hex[HANSE_HASH_HEX_BYTES], payload[512];
  hanse_hash_hex(hex, d);
  snprintf(payload, sizeof payload, "{\"hash\":\"%s\",\"meta\":%s}", hex, meta_json);
  hanse_buf tx, stream;
  hanse_buf_init(&tx);
  hanse_buf_init(&stream);
  fx_tx(&tx, &e->alice, CHAIN, "notary.anchor", seq, 0, "%s", payload);
  hanse_buf_u8(&stream, HANSE_TYPE_TX);
  hanse_buf_u32(&stream, (uint32_t)tx.len);
  hanse_buf_put(&stream, tx.data, tx.len);
  char url[256];
  snprintf(url, sizeof url, "%s/v1/chains/%s/txs?wait=1", e->base, CHAIN);
  CURL *k = curl_easy_init();
  struct curl_slist *hs = curl_slist_append(NULL, "Content-Type: application/octet-stream");
  hanse_buf answer;
  hanse_buf_init(&answer);
  curl_easy_setopt(k, CURLOPT_URL, url);
  curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(k, CURLOPT_HTTPHEADER, hs);
  curl_easy_setopt(k, CURLOPT_POSTFIELDS, stream.data);
  curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)stream.len);
  curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(k, CURLOPT_WRITEDATA, &answer);
  assert_int_equal(curl_easy_perform(k), CURLE_OK);
  long status = 0;
  curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, &status);
  hanse_buf_u8(&answer, 0);
  if (status != 200 || strstr((const char *)answer.data, "\"committed\"") == NULL ||
      strstr((const char *)answer.data, "\"ok\"") == NULL)
    fail_msg("anchor: %ld %s", status, (const char *)answer.data);
  curl_slist_free_all(hs);
  curl_easy_cleanup(k);
  hanse_buf_free(&answer);
  hanse_buf_free(&tx);
  hanse_buf_free(&stream);
}

/* ---- tests ------------------------------------------------------------------- */

static void test_digest_field(void **state) {
  (void)state;
  char f[API_BLOB_DIGEST_FIELD_BYTES];
  hanse_hash d;
  hanse_sha256(&d, "", 0); /* RFC 9530's examples use these two */
  assert_string_equal(api_blob_digest_field(f, &d),
                      "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:");
  hanse_sha256(&d, "{\"hello\": \"world\"}", 18);
  assert_string_equal(api_blob_digest_field(f, &d),
                      "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:");
}

static void test_media_type(void **state) {
  (void)state;
  static const struct {
    const char *meta, *want;
  } cases[] = {
      {"{\"media_type\":\"application/pdf\"}", "application/pdf"},
      {"{\"media_type\":\"application/vnd.ms-excel\"}", "application/vnd.ms-excel"},
      {"{\"media_type\":\"image/svg+xml\"}", "image/svg+xml"},
      {"{}", "application/octet-stream"},
      {"{\"media_type\":7}", "application/octet-stream"},
      {"{\"media_type\":{\"enc\":\"sealed\"}}", "application/octet-stream"},
      {"{\"media_type\":\"pdf\"}", "application/octet-stream"},
      {"{\"media_type\":\"a/b/c\"}", "application/octet-stream"},
      {"{\"media_type\":\"/pdf\"}", "application/octet-stream"},
      {"{\"media_type\":\"text/\"}", "application/octet-stream"},
      {"{\"media_type\":\"text/html; charset=utf-8\"}", "application/octet-stream"},
      {"{\"media_type\":\"text/plain\\r\\nSet-Cookie: x=1\"}", "application/octet-stream"},
      {"{\"media_type\":\"text/pl\\u00e4in\"}", "application/octet-stream"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    json_t *meta = json_loads(cases[i].meta, 0, NULL);
    assert_non_null(meta);
    json_t *rec = json_pack("{s:o}", "meta", meta);
    assert_string_equal(api_blob_media_type(rec), cases[i].want);
    json_decref(rec);
  }
  assert_string_equal(api_blob_media_type(NULL), "application/octet-stream");
}

static void test_upload_refused(void **state) {
  env *e = *state;
  static const char doc[] = "the bill of lading, as it was signed";
  hanse_hash named, sent;
  hanse_sha256(&named, "another document", 17);
  hanse_sha256(&sent, doc, sizeof doc - 1);
  char hex[HANSE_HASH_HEX_BYTES], path[256], file[512];
  snprintf(path, sizeof path, "/v1/chains/%s/blobs/%s", CHAIN, hanse_hash_hex(hex, &named));
  /* 200 KiB in 7-byte pieces: many calls of the upload hook */
  src body = {(const uint8_t *)doc, sizeof doc - 1, 0, 7, 200 * 1024};
  resp r;
  http(e, "PUT", path, &body, &r);
  CHECK_ERROR(&r, 400, "blob.digest_mismatch");
  resp_free(&r);
  blob_file(e, &named, file, sizeof file);
  assert_int_not_equal(access(file, F_OK), 0);
  assert_int_equal(temp_files(e), 0);
  /* a chunked body that grows past the bound: 413 once it ends */
  src big = {NULL, 0, 0, 1 << 20, (uint64_t)HANSE_BLOB_MAX_BYTES + 1};
  http(e, "PUT", path, &big, &r);
  CHECK_ERROR(&r, 413, "blob.too_large");
  resp_free(&r);
  assert_int_equal(temp_files(e), 0);
  /* nothing to list, nothing to delete */
  snprintf(path, sizeof path, "/v1/chains/%s/blobs", CHAIN);
  http(e, "GET", path, NULL, &r);
  CHECK_ERROR(&r, 405, "http.method_not_allowed");
  resp_free(&r);
  snprintf(path, sizeof path, "/v1/chains/%s/blobs/%s", CHAIN, hex);
  http(e, "DELETE", path, NULL, &r);
  CHECK_ERROR(&r, 405, "http.method_not_allowed");
  resp_free(&r);
  snprintf(path, sizeof path, "/v1/chains/%s/blobs/%.63s", CHAIN, hex);
  http(e, "GET", path, NULL, &r);
  CHECK_ERROR(&r, 400, "http.bad_param");
  resp_free(&r);
}

static void test_download(void **state) {
  env *e = *state;
  size_t n = 300 * 1000 + 1;
  uint8_t *doc = malloc(n);
  assert_non_null(doc);
  randombytes_buf(doc, n);
  hanse_hash d;
  hanse_reject rej;
  /* into the store directly: uploads need a signed request */
  hanse_node_chain *nc = hanse_node_find_chain(e->n, CHAIN, strlen(CHAIN));
  assert_non_null(nc);
  assert_int_equal(hanse_blobstore_put(nc->blobs, doc, n, &d, &rej), HANSE_OK);
  char hex[HANSE_HASH_HEX_BYTES], path[256], file[512];
  snprintf(path, sizeof path, "/v1/chains/%s/blobs/%s", CHAIN, hanse_hash_hex(hex, &d));
  resp r;
  http(e, "GET", path, NULL, &r);
  CHECK_ERROR(&r, 404, "blob.not_anchored");
  resp_free(&r);

  anchor(e, &d, 1, "{\"blob\":true,\"size\":300001,\"media_type\":\"image/tiff\"}");
  http(e, "GET", path, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_int_equal(r.body.len, n);
  assert_memory_equal(r.body.data, doc, n);
  assert_string_equal(r.ctype, "image/tiff");
  char field[API_BLOB_DIGEST_FIELD_BYTES], etag[80];
  assert_string_equal(r.digest, api_blob_digest_field(field, &d));
  snprintf(etag, sizeof etag, "\"%s\"", hex);
  assert_string_equal(r.etag, etag);
  resp_free(&r);

  /* the client library checks it too, and reports the media type */
  hanse_client *c = NULL;
  assert_int_equal(hanse_client_create(e->base, CHAIN, &c, &rej), HANSE_OK);
  hanse_buf got;
  hanse_buf_init(&got);
  char media[64];
  assert_int_equal(hanse_client_blob_get(c, &d, &got, media, sizeof media, &rej), HANSE_OK);
  assert_int_equal(got.len, n);
  assert_memory_equal(got.data, doc, n);
  assert_string_equal(media, "image/tiff");

  /* one flipped bit: an error, none of the bytes */
  blob_file(e, &d, file, sizeof file);
  int fd = open(file, O_RDWR);
  assert_true(fd >= 0);
  uint8_t b;
  assert_int_equal(pread(fd, &b, 1, 4242), 1);
  b ^= 0x80;
  assert_int_equal(pwrite(fd, &b, 1, 4242), 1);
  close(fd);
  http(e, "GET", path, NULL, &r);
  CHECK_ERROR(&r, 500, "blob.corrupt");
  assert_true(r.body.len < 1024);
  resp_free(&r);
  assert_int_equal(hanse_client_blob_get(c, &d, &got, media, sizeof media, &rej),
                   HANSE_ERR(INTERNAL));
  assert_string_equal(rej.code, "blob.corrupt");
  assert_int_equal(rej.status, 500);
  assert_int_equal(got.len, 0);
  hanse_buf_free(&got);
  hanse_client_destroy(c);
  /* gone */
  assert_int_equal(unlink(file), 0);
  http(e, "GET", path, NULL, &r);
  CHECK_ERROR(&r, 404, "blob.missing");
  resp_free(&r);

  /* an empty document, anchored without a media type */
  hanse_hash empty;
  assert_int_equal(hanse_blobstore_put(nc->blobs, NULL, 0, &empty, &rej), HANSE_OK);
  anchor(e, &empty, 2, "{\"blob\":true}");
  snprintf(path, sizeof path, "/v1/chains/%s/blobs/%s", CHAIN, hanse_hash_hex(hex, &empty));
  http(e, "GET", path, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_int_equal(r.body.len, 0);
  assert_string_equal(r.ctype, "application/octet-stream");
  resp_free(&r);
  free(doc);
}

/* The client's anchor payload for a blob passes the notary's check, with
 * and without the optional parts. */
static void test_anchor_payload(void **state) {
  (void)state;
  hanse_modules_register_all();
  hanse_keypair kp;
  fx_key(&kp, 0xa1);
  hanse_hash d;
  hanse_sha256(&d, "doc", 3);
  json_t *full = hanse_client_blob_anchor_payload(&d, 3, "doc.pdf", "application/pdf",
                                                  "customs_inspection");
  json_t *bare = hanse_client_blob_anchor_payload(&d, 0, NULL, NULL, NULL);
  json_t *bad = hanse_client_blob_anchor_payload(&d, 3, NULL, "application/pdf", "secret");
  json_t *payloads[] = {full, bare, bad};
  const char *want[] = {"ok", "ok", "notary.bad_class"};
  for (int i = 0; i < 3; i++) {
    assert_non_null(payloads[i]);
    assert_true(json_is_true(json_object_get(json_object_get(payloads[i], "meta"), "blob")));
    char *text = json_dumps(payloads[i], JSON_COMPACT | JSON_SORT_KEYS);
    hanse_buf raw;
    hanse_buf_init(&raw);
    fx_tx(&raw, &kp, CHAIN, "notary.anchor", 1, 0, "%s", text);
    free(text);
    hanse_tx tx;
    assert_int_equal(hanse_tx_decode(&tx, raw.data, raw.len, 0, NULL), HANSE_OK);
    hanse_reject rej;
    hanse_reject_clear(&rej);
    int rc = hanse_tx_check(&tx, CHAIN, NULL, &rej);
    assert_string_equal(rc == HANSE_OK ? "ok" : rej.code, want[i]);
    hanse_buf_free(&raw);
    json_decref(payloads[i]);
  }
  assert_null(hanse_client_blob_anchor_payload(&d, 3, "\xff", NULL, NULL));
  hanse_keypair_wipe(&kp);
}

int main(void) {
  if (sodium_init() < 0) return 1;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_digest_field),
      cmocka_unit_test(test_media_type),
      cmocka_unit_test(test_anchor_payload),
      cmocka_unit_test_setup_teardown(test_upload_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_download, setup, teardown),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  curl_global_cleanup();
  return rc;
}
