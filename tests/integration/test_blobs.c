/*
 * test_blobs.c -- documents off chain against a real node: the blob store
 * behind PUT/GET /v1/chains/{chain}/blobs/{sha256} and `hanse blob`.
 *
 *  1. A 41 MiB document -- more than the HTTP body bound, so the upload
 *     must stream -- is stored and anchored with `hanse blob put`, read
 *     back with `hanse blob get -o` and over HTTP (content type from the
 *     anchor, Content-Digest header) and compared byte for byte. A second
 *     put is idempotent and anchors nothing new.
 *  2. An uploaded but unanchored document is never served (404
 *     blob.not_anchored), through the API or the CLI.
 *  3. An upload whose bytes do not hash to its name is 400
 *     blob.digest_mismatch and leaves nothing in the store.
 *  4. A byte flipped in the stored file is found on download: 500
 *     blob.corrupt with a JSON error, never the bytes, and the CLI writes
 *     nothing; putting the document again repairs it. A deleted file is
 *     404 blob.missing.
 *  5. Too large: a Content-Length over 64 MiB is 413 at once; a chunked
 *     body that grows past it is 413 too, and leaves no temporary file.
 *  6. Malformed names, unknown chains, wrong methods, bad --class.
 */
#include <curl/curl.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "hanse/client.h"
#include "itest.h"

#define CHAIN "docs"
#define BIG_BYTES ((size_t)41 * 1024 * 1024)

static it_node node;
static char keyfile[300];

/* ---- helpers ------------------------------------------------------------ */

static uint8_t *pattern(size_t n, uint32_t seed) {
  uint8_t *p = malloc(n);
  IT_CHECK(p != NULL);
  uint64_t x = 0x9e3779b97f4a7c15ull * (seed + 1);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    memcpy(p + i, &x, 8);
  }
  for (; i < n; i++) p[i] = (uint8_t)(i * 31 + seed);
  return p;
}

static void write_file(const char *path, const void *p, size_t n) {
  FILE *f = fopen(path, "wb");
  IT_CHECK(f != NULL);
  IT_CHECK(fwrite(p, 1, n, f) == n);
  IT_CHECK(fclose(f) == 0);
}

static uint8_t *read_file(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *p = malloc(len > 0 ? (size_t)len : 1);
  IT_CHECK(p != NULL);
  IT_CHECK(fread(p, 1, (size_t)len, f) == (size_t)len);
  fclose(f);
  *n = (size_t)len;
  return p;
}

static void blob_file(const char *hex, char *out, size_t cap) {
  snprintf(out, cap, "%s/chains/%s/blobs/%.2s/%s", node.dir, CHAIN, hex, hex);
}

static int exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* ".tmp-" files in the store's directory (streaming puts in progress). */
static int temp_files(void) {
  char dir[400];
  snprintf(dir, sizeof dir, "%s/chains/%s/blobs", node.dir, CHAIN);
  DIR *d = opendir(dir);
  IT_CHECK(d != NULL);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) n += strncmp(e->d_name, ".tmp-", 5) == 0;
  closedir(d);
  return n;
}

/* A request with the response headers this test looks at. The body comes
 * from `body` (len bytes), or -- when gen_len is not 0 -- is generated,
 * gen_len bytes, sent chunked if `chunked`, else with that Content-Length. */
typedef struct hresp {
  long status;
  char ctype[128];
  char digest[128];
  hanse_buf body;
  CURLcode cc;
} hresp;

typedef struct gen {
  uint64_t left;
} gen;

static size_t gen_read(char *p, size_t size, size_t n, void *ctx) {
  gen *g = ctx;
  size_t len = size * n;
  if (len > g->left) len = (size_t)g->left;
  memset(p, 'z', len);
  g->left -= len;
  return len;
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
  hresp *r = ctx;
  header_copy(p, size * n, "Content-Type", r->ctype, sizeof r->ctype);
  header_copy(p, size * n, "Content-Digest", r->digest, sizeof r->digest);
  return size * n;
}

static void request(const char *method, const char *path, const void *body, size_t len,
                    uint64_t gen_len, int chunked, hresp *r) {
  memset(r, 0, sizeof *r);
  hanse_buf_init(&r->body);
  char url[512];
  snprintf(url, sizeof url, "%s%s", node.url, path);
  CURL *k = curl_easy_init();
  IT_CHECK(k != NULL);
  struct curl_slist *hs = curl_slist_append(NULL, "Expect:");
  if (chunked) hs = curl_slist_append(hs, "Transfer-Encoding: chunked");
  gen g = {gen_len};
  curl_easy_setopt(k, CURLOPT_URL, url);
  curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(k, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(k, CURLOPT_HTTPHEADER, hs);
  curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(k, CURLOPT_WRITEDATA, &r->body);
  curl_easy_setopt(k, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(k, CURLOPT_HEADERDATA, r);
  if (gen_len) {
    curl_easy_setopt(k, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(k, CURLOPT_READFUNCTION, gen_read);
    curl_easy_setopt(k, CURLOPT_READDATA, &g);
    if (!chunked) curl_easy_setopt(k, CURLOPT_INFILESIZE_LARGE, (curl_off_t)gen_len);
  } else {
    curl_easy_setopt(k, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
      curl_easy_setopt(k, CURLOPT_POSTFIELDS, body);
      curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
  }
  r->cc = curl_easy_perform(k);
  curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, &r->status);
  curl_slist_free_all(hs);
  curl_easy_cleanup(k);
}

static void hresp_free(hresp *r) { hanse_buf_free(&r->body); }

/* The response is a JSON error with this status and code. */
static void expect_error(const hresp *r, long status, const char *code, int line) {
  json_t *j = json_loadb((const char *)r->body.data, r->body.len, 0, NULL);
  const char *got = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
  if (r->status != status || got == NULL || strcmp(got, code) != 0 ||
      strncmp(r->ctype, "application/json", 16) != 0) {
    fprintf(stderr, "line %d: want %ld %s, got %ld (%s) %.300s\n", line, status, code,
            r->status, r->ctype, r->body.len ? (const char *)r->body.data : "");
    json_decref(j);
    it_cleanup_all();
    exit(1);
  }
  json_decref(j);
}
#define EXPECT_ERROR(r, st, code) expect_error(r, st, code, __LINE__)

/* Run `hanse <args...> --key K --node URL --chain CHAIN`; stdout+stderr in
 * *out (may be NULL). */
static int hanse(char **out, const char *a0, const char *a1, const char *a2, const char *a3,
                 const char *a4, const char *a5, const char *a6, const char *a7) {
  const char *argv[24] = {node.hanse};
  int k = 1;
  const char *args[] = {a0, a1, a2, a3, a4, a5, a6, a7};
  for (size_t i = 0; i < 8 && args[i]; i++) argv[k++] = args[i];
  argv[k++] = "--key";
  argv[k++] = keyfile;
  argv[k++] = "--node";
  argv[k++] = node.url;
  argv[k++] = "--chain";
  argv[k++] = CHAIN;
  argv[k] = NULL;
  return it_run(argv, out);
}

/* The JSON document in a command's output (after any log lines). */
static json_t *json_in(const char *out) {
  const char *brace = out ? strchr(out, '{') : NULL;
  return brace ? json_loads(brace, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
}

int main(int argc, char **argv) {
  IT_CHECK(argc >= 2);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  uint8_t seeds[] = {1};
  it_init(&node, argv[1], CHAIN, seeds, 1);
  IT_CHECK(it_start(&node, NULL, NULL) == 0);
  hanse_keypair alice;
  it_key(&alice, 1);
  snprintf(keyfile, sizeof keyfile, "%s/alice.json", node.dir);
  IT_CHECK(hanse_keyfile_write(keyfile, &alice) == HANSE_OK);
  char path[512], file[400], got_file[400];
  char *out = NULL;

  /* 1. A document larger than any HTTP body: put, anchor, get. */
  uint8_t *big = pattern(BIG_BYTES, 1);
  hanse_hash big_d;
  hanse_sha256(&big_d, big, BIG_BYTES);
  char big_hex[HANSE_HASH_HEX_BYTES];
  hanse_hash_hex(big_hex, &big_d);
  snprintf(file, sizeof file, "%s/bill-of-lading.pdf", node.dir);
  write_file(file, big, BIG_BYTES);
  int rc = hanse(&out, "blob", "put", file, "--class", "financial", NULL, NULL, NULL);
  if (rc != 0) fprintf(stderr, "blob put: %s\n", out ? out : "");
  IT_CHECK(rc == 0);
  json_t *j = json_in(out);
  IT_CHECK(j != NULL);
  IT_CHECK(strcmp(json_string_value(json_object_get(j, "sha256")), big_hex) == 0);
  IT_CHECK((size_t)json_integer_value(json_object_get(j, "size")) == BIG_BYTES);
  IT_CHECK(strcmp(json_string_value(json_object_get(j, "stored")), "created") == 0);
  IT_CHECK(strcmp(json_string_value(json_object_get(j, "class")), "financial") == 0);
  json_t *anchor = json_object_get(j, "anchor");
  IT_CHECK(strcmp(json_string_value(json_object_get(anchor, "status")), "committed") == 0);
  char tx_id[HANSE_HASH_HEX_BYTES];
  snprintf(tx_id, sizeof tx_id, "%s", json_string_value(json_object_get(anchor, "tx")));
  IT_CHECK(strlen(tx_id) == 64);
  json_decref(j);
  free(out);
  /* on chain: the digest with its metadata, marked as a blob */
  long st;
  snprintf(path, sizeof path, "/v1/chains/%s/query/notary/anchor?hash=%s", CHAIN, big_hex);
  j = it_get_json(&node, path, &st);
  IT_CHECK(st == 200 && j != NULL);
  IT_CHECK(strcmp(json_string_value(json_object_get(j, "tx")), tx_id) == 0);
  IT_CHECK(strcmp(json_string_value(json_object_get(j, "class")), "financial") == 0);
  IT_CHECK(strcmp(json_string_value(json_object_get(j, "name")), "bill-of-lading.pdf") == 0);
  json_t *meta = json_object_get(j, "meta");
  IT_CHECK(json_is_true(json_object_get(meta, "blob")));
  IT_CHECK((size_t)json_integer_value(json_object_get(meta, "size")) == BIG_BYTES);
  IT_CHECK(strcmp(json_string_value(json_object_get(meta, "media_type")), "application/pdf") == 0);
  json_decref(j);
  /* back through the CLI, written whole */
  snprintf(got_file, sizeof got_file, "%s/fetched.pdf", node.dir);
  rc = hanse(&out, "blob", "get", big_hex, "-o", got_file, NULL, NULL, NULL);
  if (rc != 0) fprintf(stderr, "blob get: %s\n", out ? out : "");
  IT_CHECK(rc == 0);
  j = json_in(out);
  IT_CHECK(j && strcmp(json_string_value(json_object_get(j, "media_type")), "application/pdf") == 0);
  json_decref(j);
  free(out);
  size_t got_len = 0;
  uint8_t *got = read_file(got_file, &got_len);
  IT_CHECK(got != NULL && got_len == BIG_BYTES && memcmp(got, big, BIG_BYTES) == 0);
  free(got);
  /* and over HTTP, with its content type and digest */
  snprintf(path, sizeof path, "/v1/chains/%s/blobs/%s", CHAIN, big_hex);
  hresp r;
  request("GET", path, NULL, 0, 0, 0, &r);
  IT_CHECK(r.cc == CURLE_OK && r.status == 200);
  IT_CHECK(strcmp(r.ctype, "application/pdf") == 0);
  IT_CHECK(strncmp(r.digest, "sha-256=:", 9) == 0);
  IT_CHECK(r.body.len == BIG_BYTES && memcmp(r.body.data, big, BIG_BYTES) == 0);
  hresp_free(&r);
  /* a second put: nothing new stored, nothing new anchored */
  uint64_t height = it_height(&node);
  rc = hanse(&out, "blob", "put", file, NULL, NULL, NULL, NULL, NULL);
  IT_CHECK(rc == 0);
  j = json_in(out);
  IT_CHECK(j && strcmp(json_string_value(json_object_get(j, "stored")), "already present") == 0);
  anchor = json_object_get(j, "anchor");
  IT_CHECK(strcmp(json_string_value(json_object_get(anchor, "status")), "already anchored") == 0);
  IT_CHECK(strcmp(json_string_value(json_object_get(anchor, "tx")), tx_id) == 0);
  json_decref(j);
  free(out);
  IT_CHECK(it_height(&node) == height);

  /* 2. Uploaded, not anchored: never served. */
  hanse_client *c = NULL;
  hanse_reject rej;
  IT_CHECK(hanse_client_create(node.url, CHAIN, &c, &rej) == HANSE_OK);
  hanse_client_set_signer(c, &alice);
  uint8_t *small = pattern(5000, 2);
  snprintf(file, sizeof file, "%s/draft.txt", node.dir);
  write_file(file, small, 5000);
  hanse_hash small_d;
  uint64_t size = 0;
  int created = 0;
  rc = hanse_client_blob_put_file(c, file, &small_d, &size, &created, &rej);
  if (rc != HANSE_OK) fprintf(stderr, "put: %s: %s\n", rej.code, rej.message);
  IT_CHECK(rc == HANSE_OK && size == 5000 && created == 1);
  char small_hex[HANSE_HASH_HEX_BYTES];
  hanse_hash_hex(small_hex, &small_d);
  blob_file(small_hex, path, sizeof path);
  IT_CHECK(exists(path)); /* stored ... */
  snprintf(path, sizeof path, "/v1/chains/%s/blobs/%s", CHAIN, small_hex);
  request("GET", path, NULL, 0, 0, 0, &r);
  EXPECT_ERROR(&r, 404, "blob.not_anchored"); /* ... but not served */
  hresp_free(&r);
  hanse_buf doc;
  hanse_buf_init(&doc);
  IT_CHECK(hanse_client_blob_get(c, &small_d, &doc, NULL, 0, &rej) == HANSE_ERR(NOT_FOUND));
  IT_CHECK(strcmp(rej.code, "blob.not_anchored") == 0 && doc.len == 0);
  snprintf(got_file, sizeof got_file, "%s/draft-fetched.txt", node.dir);
  IT_CHECK(hanse(NULL, "blob", "get", small_hex, "-o", got_file, NULL, NULL, NULL) == 1);
  IT_CHECK(!exists(got_file));
  /* anchored through the library's payload, it is served */
  json_t *payload = hanse_client_blob_anchor_payload(&small_d, 5000, "draft.txt", "text/plain",
                                                     NULL);
  IT_CHECK(payload != NULL);
  uint64_t seq = 0;
  IT_CHECK(hanse_client_next_seq(c, &alice.pub, &seq, &rej) == HANSE_OK);
  hanse_buf txb;
  hanse_buf_init(&txb);
  hanse_client_op op = {"notary.anchor", payload};
  IT_CHECK(hanse_client_tx_build(c, &op, seq, &alice, &txb, NULL, &rej) == HANSE_OK);
  json_decref(payload);
  hanse_client_entry e = {HANSE_TYPE_TX, txb.data, txb.len};
  json_t *res = NULL;
  IT_CHECK(hanse_client_submit(c, &e, 1, HANSE_SUBMIT_WAIT, 0, &res, &rej) == HANSE_OK);
  IT_CHECK(hanse_client_result_check(res, 0, &rej) == HANSE_OK);
  json_decref(res);
  hanse_buf_free(&txb);
  char media[64];
  IT_CHECK(hanse_client_blob_get(c, &small_d, &doc, media, sizeof media, &rej) == HANSE_OK);
  IT_CHECK(doc.len == 5000 && memcmp(doc.data, small, 5000) == 0);
  IT_CHECK(strcmp(media, "text/plain") == 0);

  /* 3. Bytes that do not hash to the name: refused, nothing kept. */
  hanse_hash other;
  hanse_sha256(&other, "the document as announced", 25);
  char other_hex[HANSE_HASH_HEX_BYTES];
  hanse_hash_hex(other_hex, &other);
  snprintf(path, sizeof path, "/v1/chains/%s/blobs/%s", CHAIN, other_hex);
  request("PUT", path, "a different document", 20, 0, 0, &r);
  EXPECT_ERROR(&r, 400, "blob.digest_mismatch");
  hresp_free(&r);
  blob_file(other_hex, path, sizeof path);
  IT_CHECK(!exists(path));
  hanse_hash sent;
  hanse_sha256(&sent, "a different document", 20);
  char sent_hex[HANSE_HASH_HEX_BYTES];
  blob_file(hanse_hash_hex(sent_hex, &sent), path, sizeof path);
  IT_CHECK(!exists(path));
  IT_CHECK(temp_files() == 0);

  /* 4. Damage on disk: detected, never served; a re-put repairs it. */
  blob_file(big_hex, path, sizeof path);
  int fd = open(path, O_RDWR);
  IT_CHECK(fd >= 0);
  uint8_t b;
  IT_CHECK(pread(fd, &b, 1, 12345678) == 1);
  b ^= 0x01;
  IT_CHECK(pwrite(fd, &b, 1, 12345678) == 1);
  close(fd);
  snprintf(file, sizeof file, "/v1/chains/%s/blobs/%s", CHAIN, big_hex);
  request("GET", file, NULL, 0, 0, 0, &r);
  EXPECT_ERROR(&r, 500, "blob.corrupt");
  IT_CHECK(r.body.len < 1000); /* an error document, not the blob */
  hresp_free(&r);
  snprintf(got_file, sizeof got_file, "%s/corrupt.pdf", node.dir);
  rc = hanse(&out, "blob", "get", big_hex, "-o", got_file, NULL, NULL, NULL);
  IT_CHECK(rc == 1 && out && strstr(out, "blob.corrupt"));
  free(out);
  IT_CHECK(!exists(got_file));
  snprintf(file, sizeof file, "%s/bill-of-lading.pdf", node.dir);
  rc = hanse(&out, "blob", "put", file, NULL, NULL, NULL, NULL, NULL);
  IT_CHECK(rc == 0);
  j = json_in(out);
  IT_CHECK(j && strcmp(json_string_value(json_object_get(j, "stored")), "created") == 0);
  json_decref(j);
  free(out);
  IT_CHECK(hanse_client_blob_get(c, &big_d, &doc, NULL, 0, &rej) == HANSE_OK);
  IT_CHECK(doc.len == BIG_BYTES && memcmp(doc.data, big, BIG_BYTES) == 0);
  /* anchored but gone from the store */
  blob_file(small_hex, path, sizeof path);
  IT_CHECK(unlink(path) == 0);
  snprintf(path, sizeof path, "/v1/chains/%s/blobs/%s", CHAIN, small_hex);
  request("GET", path, NULL, 0, 0, 0, &r);
  EXPECT_ERROR(&r, 404, "blob.missing");
  hresp_free(&r);
  hanse_buf_free(&doc);

  /* 5. Too large: announced, and grown past the bound while chunked. */
  snprintf(path, sizeof path, "/v1/chains/%s/blobs/%s", CHAIN, other_hex);
  request("PUT", path, NULL, 0, (uint64_t)64 * 1024 * 1024 + 1, 0, &r);
  EXPECT_ERROR(&r, 413, "blob.too_large");
  hresp_free(&r);
  request("PUT", path, NULL, 0, (uint64_t)64 * 1024 * 1024 + 4096, 1, &r);
  EXPECT_ERROR(&r, 413, "blob.too_large");
  hresp_free(&r);
  IT_CHECK(temp_files() == 0);

  /* 6. Bad names, chains, methods and options. */
  static const struct {
    const char *method, *path;
    long status;
    const char *code;
  } bad[] = {
      {"GET", "/v1/chains/docs/blobs/xyz", 400, "http.bad_param"},
      {"GET", "/v1/chains/docs/blobs/0123", 400, "http.bad_param"},
      {"PUT", "/v1/chains/docs/blobs/0123", 400, "http.bad_param"},
      {"GET", "/v1/chains/docs/blobs", 405, "http.method_not_allowed"},
      {"DELETE", "/v1/chains/docs/blobs/"
                 "0000000000000000000000000000000000000000000000000000000000000000",
       405, "http.method_not_allowed"},
      {"GET", "/v1/chains/docs/blobs/"
              "0000000000000000000000000000000000000000000000000000000000000000",
       404, "blob.not_anchored"},
      {"PUT", "/v1/chains/nochain/blobs/"
              "0000000000000000000000000000000000000000000000000000000000000000",
       404, "chain.unknown"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    request(bad[i].method, bad[i].path, strcmp(bad[i].method, "PUT") == 0 ? "x" : NULL, 1, 0, 0,
            &r);
    expect_error(&r, bad[i].status, bad[i].code, (int)(1000 + i));
    hresp_free(&r);
  }
  snprintf(file, sizeof file, "%s/draft.txt", node.dir);
  IT_CHECK(hanse(NULL, "blob", "put", file, "--class", "secret", NULL, NULL, NULL) == 2);
  IT_CHECK(hanse(NULL, "blob", "put", file, "--type", "pdf", NULL, NULL, NULL) == 2);
  IT_CHECK(hanse(NULL, "blob", "get", "nothex", NULL, NULL, NULL, NULL, NULL) == 2);
  IT_CHECK(hanse(NULL, "blob", "frob", NULL, NULL, NULL, NULL, NULL, NULL) == 2);

  hanse_client_destroy(c);
  free(small);
  free(big);
  it_stop(&node);
  it_cleanup_all();
  curl_global_cleanup();
  printf("test_blobs: ok\n");
  return 0;
}
