/*
 * blob.c -- documents off chain: upload a file to the node's blob store,
 * build the anchor that puts its digest on the chain, download a document
 * and check it (see include/hanse/client.h, section 7).
 *
 * client_request speaks JSON both ways and holds bodies in memory; a blob
 * is up to HANSE_BLOB_MAX_BYTES each way, so this file drives libcurl
 * itself, through the same handle, signing and error mapping:
 *
 *   upload    the file is read twice: once to hash it (the digest names
 *             the blob and is signed as its Content-Digest before a byte
 *             is sent), then by libcurl as it sends, in pieces. Exactly the
 *             size measured while hashing is sent; a file that changed in
 *             between arrives with another digest and the node refuses it
 *             ("blob.digest_mismatch"), so a change cannot slip through.
 *   download  collected raw, bounded by HANSE_BLOB_MAX_BYTES, and hashed
 *             before the caller sees it: bytes that do not match the digest
 *             asked for are wiped and the call fails, whatever the node
 *             said.
 *
 * A transfer has no overall time limit (64 MiB over a slow link may take
 * minutes); it fails instead when fewer than BLOB_LOW_SPEED_BYTES a second
 * move for the client's timeout.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "client/client_internal.h"

/* Below this rate, for the client's whole timeout, a transfer is dead. */
#define BLOB_LOW_SPEED_BYTES 1024L
/* "sha-256=:" + base64 of 32 bytes (44) + ":" + NUL (RFC 9530). */
#define BLOB_DIGEST_FIELD_BYTES (9 + 44 + 1 + 1)

static void digest_field(char out[BLOB_DIGEST_FIELD_BYTES], const hanse_hash *d) {
  memcpy(out, "sha-256=:", 9);
  sodium_bin2base64(out + 9, BLOB_DIGEST_FIELD_BYTES - 9, d->b, sizeof d->b,
                    sodium_base64_VARIANT_ORIGINAL);
  size_t n = strlen(out);
  HANSE_ASSERT(n + 2 == BLOB_DIGEST_FIELD_BYTES);
  out[n] = ':';
  out[n + 1] = 0;
}

/* The body of an upload: the next `left` bytes of f. */
typedef struct upload_src {
  FILE *f;
  uint64_t left;
} upload_src;

static size_t on_read(char *p, size_t size, size_t n, void *ctx) {
  upload_src *u = ctx;
  size_t want = size * n;
  if (want > u->left) want = (size_t)u->left;
  if (want == 0) return 0;
  size_t got = fread(p, 1, want, u->f);
  if (got == 0) return CURL_READFUNC_ABORT; /* shrunk or unreadable: stop */
  u->left -= got;
  return got;
}

typedef struct sink {
  hanse_buf *b;
  size_t max;
} sink;

static size_t on_write(char *p, size_t size, size_t n, void *ctx) {
  sink *s = ctx;
  size_t len = size * n;
  if (len > s->max - s->b->len) return 0; /* aborts the transfer */
  hanse_buf_put(s->b, p, len);
  return hanse_buf_status(s->b) == HANSE_OK ? len : 0;
}

/* One blob request: a PUT of `src` (src_len bytes whose Content-Digest is
 * `cd`), or a GET (src NULL). The answer's body goes to `answer` (at most
 * answer_max bytes); *status and, when ctype is not NULL, the Content-Type
 * are filled. A 4xx/5xx is turned into the node's rejection here (the
 * answer is then freed by the caller as usual). */
static int transfer(hanse_client *c, const char *path, upload_src *src, uint64_t src_len,
                    const char *cd, hanse_buf *answer, size_t answer_max, long *status,
                    char *ctype, size_t ctype_cap, hanse_reject *rej) {
  *status = 0;
  const char *method = src ? "PUT" : "GET";
  size_t url_len = strlen(c->base) + strlen(path) + 1;
  char *url = malloc(url_len);
  if (url == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  snprintf(url, url_len, "%s%s", c->base, path);
  int rc = HANSE_OK;
  struct curl_slist *headers = NULL;
  char cd_line[32 + BLOB_DIGEST_FIELD_BYTES];
  snprintf(cd_line, sizeof cd_line, "Content-Digest: %s", cd ? cd : "");
  /* Signed requests carry Content-Digest among the signed headers. */
  const char *lines[] = {"Expect:", src ? "Content-Type: application/octet-stream" : "Accept: */*",
                         src && c->signer == NULL ? cd_line : NULL};
  rc = client_prepare(c, method, url, lines, sizeof lines / sizeof lines[0], NULL,
                      src ? (size_t)src_len : 0, cd, &headers, rej);
  if (rc != HANSE_OK) goto done;
  CURL *k = c->curl;
  sink sk = {answer, answer_max};
  long low_speed_s = c->timeout_ms / 1000 > 0 ? c->timeout_ms / 1000 : 1;
  curl_easy_setopt(k, CURLOPT_LOW_SPEED_LIMIT, BLOB_LOW_SPEED_BYTES);
  curl_easy_setopt(k, CURLOPT_LOW_SPEED_TIME, low_speed_s);
  curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(k, CURLOPT_WRITEDATA, &sk);
  if (src) {
    curl_easy_setopt(k, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(k, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(k, CURLOPT_READDATA, src);
    curl_easy_setopt(k, CURLOPT_INFILESIZE_LARGE, (curl_off_t)src_len);
  } else {
    curl_easy_setopt(k, CURLOPT_HTTPGET, 1L);
  }
  CURLcode cc = curl_easy_perform(k);
  if (cc == CURLE_ABORTED_BY_CALLBACK || cc == CURLE_READ_ERROR) {
    rc = hanse_reject_code(rej, "file.unreadable", 0,
                           "the file could not be read to its end while it was sent");
    goto done;
  }
  if (cc != CURLE_OK) {
    rc = client_fail_transport(c, (int)cc, url, rej);
    goto done;
  }
  curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, status);
  if (ctype != NULL && ctype_cap > 0) {
    char *t = NULL;
    curl_easy_getinfo(k, CURLINFO_CONTENT_TYPE, &t);
    snprintf(ctype, ctype_cap, "%s", t ? t : "");
  }
  if (*status >= 400) {
    json_t *doc = answer->len ? json_loadb((const char *)answer->data, answer->len, 0, NULL)
                              : NULL;
    rc = client_fail_status(doc, *status, url, rej);
    json_decref(doc);
  } else if (*status < 200 || *status >= 300) {
    rc = client_fail(rej, HANSE_ERR(IO), "client.bad_response", "HTTP %ld from %s", *status, url);
  }
done:
  curl_slist_free_all(headers);
  free(url);
  return rc;
}

static void blob_path(const hanse_client *c, const hanse_hash *d, char *out, size_t cap) {
  char hex[HANSE_HASH_HEX_BYTES];
  snprintf(out, cap, "/v1/chains/%s/blobs/%s", c->chain_id, hanse_hash_hex(hex, d));
}

/* Hash f from its start; count its bytes. Leaves f at its start. */
static int hash_stream(FILE *f, const char *path, hanse_hash *d, uint64_t *size,
                       hanse_reject *rej) {
  hanse_sha256_state st;
  hanse_sha256_init(&st);
  unsigned char chunk[64 * 1024];
  uint64_t total = 0;
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
    hanse_sha256_update(&st, chunk, n);
    total += n;
    if (total > HANSE_BLOB_MAX_BYTES)
      return hanse_reject_code(rej, "blob.too_large", 413, "%s is larger than %zu bytes", path,
                               (size_t)HANSE_BLOB_MAX_BYTES);
  }
  if (ferror(f) || fseeko(f, 0, SEEK_SET) != 0)
    return hanse_reject_code(rej, "file.unreadable", 0, "cannot read %s", path);
  hanse_sha256_final(&st, d);
  *size = total;
  return HANSE_OK;
}

int hanse_client_blob_put_file(hanse_client *c, const char *path,
                               hanse_hash *digest, uint64_t *size_bytes,
                               int *created, hanse_reject *rej) {
  HANSE_ASSERT(c != NULL && digest != NULL);
  if (size_bytes) *size_bytes = 0;
  if (created) *created = 0;
  FILE *f = path ? fopen(path, "rb") : NULL;
  if (f == NULL)
    return hanse_reject_code(rej, "file.unreadable", 0, "cannot open %s: %s",
                             path ? path : "(null)", strerror(errno));
  uint64_t size = 0;
  int rc = hash_stream(f, path, digest, &size, rej);
  if (rc != HANSE_OK) {
    fclose(f);
    return rc;
  }
  char cd[BLOB_DIGEST_FIELD_BYTES], upath[256];
  digest_field(cd, digest);
  blob_path(c, digest, upath, sizeof upath);
  upload_src src = {f, size};
  hanse_buf answer;
  hanse_buf_init(&answer);
  long status = 0;
  rc = transfer(c, upath, &src, size, cd, &answer, CLIENT_RESPONSE_MAX, &status, NULL, 0, rej);
  fclose(f);
  if (rc == HANSE_OK) {
    /* The node names what it stored: it must be this file. */
    json_t *doc = json_loadb((const char *)answer.data, answer.len, 0, NULL);
    hanse_hash got;
    if (hanse_hash_parse(&got, json_string_value(json_object_get(doc, "sha256"))) != HANSE_OK ||
        !hanse_hash_eq(&got, digest))
      rc = client_fail(rej, HANSE_ERR(IO), "client.bad_response",
                       "the node's answer to the upload does not name its digest");
    json_decref(doc);
  }
  hanse_buf_free(&answer);
  if (rc != HANSE_OK) return rc;
  if (size_bytes) *size_bytes = size;
  if (created) *created = status == 201;
  return HANSE_OK;
}

json_t *hanse_client_blob_anchor_payload(const hanse_hash *digest,
                                         uint64_t size_bytes, const char *name,
                                         const char *media_type,
                                         const char *data_class) {
  HANSE_ASSERT(digest != NULL);
  char hex[HANSE_HASH_HEX_BYTES];
  json_t *meta = json_pack("{s:b, s:I}", "blob", 1, "size", (json_int_t)size_bytes);
  json_t *p = json_pack("{s:s, s:o}", "hash", hanse_hash_hex(hex, digest), "meta", meta);
  if (p == NULL) return NULL;
  int bad = 0;
  if (media_type) bad |= json_object_set_new(meta, "media_type", json_string(media_type));
  if (name) bad |= json_object_set_new(p, "name", json_string(name));
  if (data_class) bad |= json_object_set_new(p, "class", json_string(data_class));
  if (bad) {
    json_decref(p);
    return NULL;
  }
  return p;
}

int hanse_client_blob_get(hanse_client *c, const hanse_hash *digest,
                          hanse_buf *out, char *media_type,
                          size_t media_type_cap, hanse_reject *rej) {
  HANSE_ASSERT(c != NULL && digest != NULL && out != NULL);
  hanse_buf_reset(out);
  if (media_type && media_type_cap) media_type[0] = 0;
  char path[256];
  blob_path(c, digest, path, sizeof path);
  long status = 0;
  /* An error answer is a small JSON document, within the bound too. */
  int rc = transfer(c, path, NULL, 0, NULL, out, HANSE_BLOB_MAX_BYTES, &status, media_type,
                    media_type_cap, rej);
  if (rc == HANSE_OK) {
    hanse_hash got;
    hanse_sha256(&got, out->len ? (const void *)out->data : "", out->len);
    if (!hanse_hash_eq(&got, digest)) {
      char hex[HANSE_HASH_HEX_BYTES];
      rc = client_fail(rej, HANSE_ERR(INVALID), "client.digest_mismatch",
                       "the node sent %zu bytes that do not hash to %s", out->len,
                       hanse_hash_hex(hex, digest));
    }
  }
  if (rc != HANSE_OK) {
    if (out->data) sodium_memzero(out->data, out->len);
    hanse_buf_reset(out);
    if (media_type && media_type_cap) media_type[0] = 0;
  }
  return rc;
}

int hanse_client_get_raw(hanse_client *c, const char *path, hanse_buf *out, size_t max,
                         hanse_reject *rej) {
  HANSE_ASSERT(c != NULL && path != NULL && path[0] == '/' && out != NULL);
  hanse_buf_reset(out);
  long status = 0;
  int rc = transfer(c, path, NULL, 0, NULL, out, max, &status, NULL, 0, rej);
  if (rc != HANSE_OK) hanse_buf_reset(out);
  return rc;
}
