/*
 * res_blobs.c -- documents kept off chain: PUT and GET
 * /v1/chains/{chain}/blobs/{sha256 hex}.
 *
 * The chain holds a document's digest and metadata (a notary anchor); the
 * bytes live in the chain's content-addressed blob store
 * (storage/blobstore.h, <data>/chains/<id>/blobs/). A blob and its anchor
 * are made in two steps, upload then anchor, and this file enforces what
 * joins them:
 *
 *   - An upload is named by its digest and kept only if the bytes hash to
 *     it: a client cannot store bytes under a name that is not theirs.
 *   - A download is served only for a digest anchored on the chain
 *     ("blob.not_anchored" otherwise): an uploaded but never anchored
 *     document is never handed out, so the store cannot be used as an
 *     anonymous file drop. The anchor's data class ("class", default the
 *     notary's) goes to the read policy (api_read_allowed) like any other
 *     record of that class.
 *   - Every download is verified against the digest before its first byte
 *     leaves (hanse_blobstore_get): a corrupt copy is 500 "blob.corrupt",
 *     an anchored digest with no bytes here 404 "blob.missing"; never
 *     data.
 *
 * Upload, as a state diagram of one PUT. A blob may be larger than the
 * HTTP body bound (HANSE_BLOB_MAX_BYTES > HANSE_HTTP_BODY_MAX), so its body
 * is never collected in rq->body: http.c hands each piece here as it
 * arrives, and it goes straight into a blob writer (a temporary file,
 * hashed as it is written).
 *
 *   headers   api_blob_upload_begin: a PUT to .../blobs/<digest> of a
 *             known chain, announcing at most HANSE_BLOB_MAX_BYTES (else
 *             413 at once). Opens the writer.
 *   body      api_blob_upload_piece, per piece: write. A body that grows
 *             past the bound (sent without Content-Length) or a failing
 *             disk ends the writing; the rest of the body is read and
 *             dropped, since libmicrohttpd takes no answer mid-body, and
 *             the 413 (or 500/503) is the answer at the end.
 *   end       res_blobs (routed as usual): finish (sync, digest), compare
 *             with the URL's digest (400 "blob.digest_mismatch"), ask
 *             api_upload_allowed, and only then commit: the blob appears
 *             under its digest (201, or 200 if it was already there).
 *   always    api_blob_upload_free (the request's end, whatever happened):
 *             an uncommitted temporary file is removed.
 *
 * A download holds the whole blob in memory (the store verifies before it
 * hands anything out), bounded by HANSE_BLOB_MAX_BYTES per request; the
 * buffer is handed to libmicrohttpd without a copy.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "base/log.h"
#include "chain/exec.h"
#include "chain/module.h"

#define BLOB_DEFAULT_MEDIA_TYPE "application/octet-stream"
/* A failed upload's body is drained so that its answer can be sent (see
 * api_blob_upload_piece), but at most as much as any request may send
 * beyond the blob bound; past that the connection is closed unanswered. */
#define DRAIN_LIMIT_BYTES ((uint64_t)HANSE_BLOB_MAX_BYTES + HANSE_HTTP_BODY_MAX)
/* The longest media type sent back; the notary allows no longer. */
#define BLOB_MEDIA_TYPE_MAX 255

struct api_blob_upload {
  hanse_node_chain *nc;
  hanse_hash want;       /* the digest named in the URL */
  hanse_blob_writer *w;  /* owned; NULL once failed or ended */
  uint64_t received;     /* body bytes so far, kept or dropped */
  int failed;            /* a piece failed: the rest is dropped */
  hanse_reject fail;     /* ... and this is the answer at the end */
};

/* "/v1/chains/{chain}/blobs{rest}": 1 and the parts if url has that form
 * (rest is "" or starts with '/'), else 0. */
static int blob_target(const char *url, const char **chain, size_t *chain_len,
                       const char **rest) {
  static const char prefix[] = "/v1/chains/";
  if (strncmp(url, prefix, sizeof prefix - 1) != 0) return 0;
  const char *c = url + sizeof prefix - 1;
  const char *slash = strchr(c, '/');
  if (slash == NULL || slash == c || strncmp(slash, "/blobs", 6) != 0) return 0;
  if (slash[6] != 0 && slash[6] != '/') return 0;
  *chain = c;
  *chain_len = (size_t)(slash - c);
  *rest = slash + 6;
  return 1;
}

/* "/<64 hex>" exactly: 1 and the digest. */
static int blob_name(const char *rest, hanse_hash *out) {
  if (rest[0] != '/' || strlen(rest + 1) != 2 * HANSE_HASH_BYTES) return 0;
  return hanse_hash_parse(out, rest + 1) == HANSE_OK;
}

static enum MHD_Result bad_name(hanse_req *rq) {
  return api_error(rq, 400, "http.bad_param",
                   "a blob is named by its SHA-256: /blobs/<64 hex characters>");
}

char *api_blob_digest_field(char out[API_BLOB_DIGEST_FIELD_BYTES], const hanse_hash *d) {
  static const char head[] = "sha-256=:";
  memcpy(out, head, sizeof head - 1);
  sodium_bin2base64(out + sizeof head - 1, API_BLOB_DIGEST_FIELD_BYTES - (sizeof head - 1),
                    d->b, sizeof d->b, sodium_base64_VARIANT_ORIGINAL);
  size_t n = strlen(out);
  HANSE_ASSERT(n + 2 == API_BLOB_DIGEST_FIELD_BYTES);
  out[n] = ':';
  out[n + 1] = 0;
  return out;
}

const char *api_blob_media_type(json_t *anchor) {
  const char *m = json_string_value(json_object_get(json_object_get(anchor, "meta"), "media_type"));
  size_t n = m ? strlen(m) : 0;
  if (n < 3 || n > BLOB_MEDIA_TYPE_MAX) return BLOB_DEFAULT_MEDIA_TYPE;
  /* The notary checked it when it was anchored; a header is still only
   * ever built from "type/subtype" in visible ASCII without separators. */
  int slashes = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)m[i];
    if (c == '/') slashes++;
    else if (c <= 0x20 || c >= 0x7f || strchr("\"(),:;<=>?@[\\]{}", c)) return BLOB_DEFAULT_MEDIA_TYPE;
  }
  return slashes == 1 && m[0] != '/' && m[n - 1] != '/' ? m : BLOB_DEFAULT_MEDIA_TYPE;
}

/* ---- upload ----------------------------------------------------------------- */

int api_blob_upload_begin(hanse_req *rq, enum MHD_Result *resp) {
  const char *chain, *rest;
  size_t clen;
  if (strcmp(rq->method, "PUT") != 0 || !blob_target(rq->url, &chain, &clen, &rest)) return 0;
  if (rest[0] == 0 || strcmp(rest, "/") == 0) return 0; /* routed as usual: 405 */
  HANSE_ASSERT(rq->upload == NULL);
  hanse_node_chain *nc = hanse_node_find_chain(rq->node, chain, clen);
  hanse_hash want;
  if (nc == NULL) {
    *resp = api_error(rq, 404, "chain.unknown", "this node serves no chain '%.*s'",
                      (int)(clen > 64 ? 64 : clen), chain);
    return 1;
  }
  if (!blob_name(rest, &want)) {
    *resp = bad_name(rq);
    return 1;
  }
  const char *cl = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Content-Length");
  if (cl && strtoull(cl, NULL, 10) > HANSE_BLOB_MAX_BYTES) {
    rq->too_large = 1;
    *resp = api_error(rq, 413, HANSE_BLOB_TOO_LARGE, "a blob holds at most %zu bytes",
                      (size_t)HANSE_BLOB_MAX_BYTES);
    return 1;
  }
  struct api_blob_upload *u = calloc(1, sizeof *u);
  if (u == NULL) {
    *resp = api_error_rc(rq, HANSE_ERR(NOMEM), NULL);
    return 1;
  }
  hanse_reject rej;
  hanse_reject_clear(&rej);
  if (hanse_blob_writer_open(nc->blobs, &u->w, &rej) != HANSE_OK) {
    free(u);
    *resp = api_reject(rq, &rej);
    return 1;
  }
  u->nc = nc;
  u->want = want;
  rq->upload = u;
  *resp = MHD_YES;
  return 1;
}

enum MHD_Result api_blob_upload_piece(hanse_req *rq, const char *data, size_t len) {
  struct api_blob_upload *u = rq->upload;
  HANSE_ASSERT(u != NULL && (u->w != NULL || u->failed));
  u->received += len;
  if (u->failed) {
    /* Draining: past the bound, stop listening instead. */
    return u->received - len > DRAIN_LIMIT_BYTES ? MHD_NO : MHD_YES;
  }
  if (hanse_blob_writer_write(u->w, data, len, &u->fail) == HANSE_OK) return MHD_YES;
  /* Too large (a body sent without Content-Length), or the disk failed.
   * libmicrohttpd takes no answer in the middle of a body, so the rest is
   * read and dropped and the answer given at its end; the writer has
   * removed its file already. */
  if (strcmp(u->fail.code, HANSE_BLOB_TOO_LARGE) == 0) rq->too_large = 1;
  u->failed = 1;
  hanse_blob_writer_close(u->w);
  u->w = NULL;
  return MHD_YES;
}

void api_blob_upload_free(hanse_req *rq) {
  struct api_blob_upload *u = rq->upload;
  if (u == NULL) return;
  hanse_blob_writer_close(u->w);
  free(u);
  rq->upload = NULL;
}

/* The end of a PUT whose body went to the writer. */
static enum MHD_Result upload_end(hanse_req *rq, hanse_node_chain *nc) {
  struct api_blob_upload *u = rq->upload;
  HANSE_ASSERT(u != NULL && u->nc == nc);
  hanse_reject rej;
  hanse_reject_clear(&rej);
  hanse_hash got;
  uint64_t size = 0;
  char want_hex[HANSE_HASH_HEX_BYTES], got_hex[HANSE_HASH_HEX_BYTES];
  enum MHD_Result r;
  if (u->failed) {
    r = api_reject(rq, &u->fail);
    goto done;
  }
  if (hanse_blob_writer_finish(u->w, &got, &size, &rej) != HANSE_OK) {
    r = api_reject(rq, &rej);
    goto done;
  }
  hanse_hash_hex(want_hex, &u->want);
  hanse_hash_hex(got_hex, &got);
  if (!hanse_hash_eq(&got, &u->want)) {
    r = api_error(rq, 400, "blob.digest_mismatch",
                  "the body's SHA-256 is %s, not %s as named; nothing was stored", got_hex,
                  want_hex);
    goto done;
  }
  hanse_pubkey signer;
  if (!api_upload_allowed(rq, nc, &got, &signer, &r)) goto done;
  int created = 0;
  if (hanse_blob_writer_commit(u->w, &created, &rej) != HANSE_OK) {
    r = api_reject(rq, &rej);
    goto done;
  }
  char signer_hex[HANSE_HASH_HEX_BYTES];
  HANSE_INFO("chain %s: blob %s, %llu bytes, %s (signer %.16s)", nc->chain->chain_id, got_hex,
             (unsigned long long)size, created ? "stored" : "already present",
             hanse_pubkey_hex(signer_hex, &signer));
  r = api_json(rq, created ? 201 : 200,
               json_pack("{s:s, s:I, s:b}", "sha256", got_hex, "size", (json_int_t)size,
                         "created", created));
done:
  api_blob_upload_free(rq); /* an uncommitted file goes now, not at the request's end */
  return r;
}

/* ---- download --------------------------------------------------------------- */

/* The anchor record of `hex` through the notary's own query. 1 and *rec
 * (new reference); 0 with the response queued in *resp. */
static int find_anchor(hanse_req *rq, hanse_node_chain *nc, const char *hex, json_t **rec,
                       enum MHD_Result *resp) {
  *rec = NULL;
  const hanse_module *m = hanse_registry_find("notary", 6);
  if (m == NULL || m->query == NULL) {
    *resp = api_error(rq, 404, "blob.not_anchored", "this node has no notary module");
    return 0;
  }
  hanse_store *rd = hanse_chain_reader_acquire(nc->chain);
  if (rd == NULL) {
    *resp = api_error_rc(rq, HANSE_ERR(IO), "cannot open a reader");
    return 0;
  }
  hanse_view v = {rd, nc->chain->chain_id};
  json_t *params = json_pack("{s:s}", "hash", hex);
  hanse_reject rej;
  hanse_reject_clear(&rej);
  int rc = params ? m->query(&v, "anchor", params, rec, &rej)
                  : hanse_reject_set(&rej, HANSE_ERR(NOMEM), NULL);
  json_decref(params);
  hanse_chain_reader_release(nc->chain, rd);
  if (rc == HANSE_OK) return 1;
  if (rej.status == 404)
    *resp = api_error(rq, 404, "blob.not_anchored",
                      "no anchor of %s on chain %s: only anchored documents are served", hex,
                      nc->chain->chain_id);
  else
    *resp = api_reject(rq, &rej);
  return 0;
}

static enum MHD_Result download(hanse_req *rq, hanse_node_chain *nc, const hanse_hash *d) {
  char hex[HANSE_HASH_HEX_BYTES];
  hanse_hash_hex(hex, d);
  json_t *rec;
  enum MHD_Result r;
  if (!find_anchor(rq, nc, hex, &rec, &r)) return r;
  /* The anchor's own class, else the notary's. */
  const char *cls = hanse_tx_data_class("notary.anchor", rec);
  if (!api_read_allowed(rq, nc, cls, &r)) {
    json_decref(rec);
    return r;
  }
  char media[BLOB_MEDIA_TYPE_MAX + 1];
  snprintf(media, sizeof media, "%s", api_blob_media_type(rec));
  json_decref(rec);

  hanse_buf b;
  hanse_buf_init(&b);
  hanse_reject rej;
  hanse_reject_clear(&rej);
  int rc = hanse_blobstore_get(nc->blobs, d, &b, &rej);
  if (rc != HANSE_OK) {
    hanse_buf_free(&b);
    if (strcmp(rej.code, HANSE_BLOB_NOT_FOUND) == 0)
      return api_error(rq, 404, "blob.missing",
                       "%s is anchored, but this node does not hold its bytes (upload them "
                       "again with PUT)", hex);
    /* "blob.corrupt" (500) and I/O errors: the store's own rejection. */
    return api_reject(rq, &rej);
  }
  size_t len = 0;
  uint8_t *data = hanse_buf_steal(&b, &len);
  struct MHD_Response *resp =
      len > 0 ? MHD_create_response_from_buffer_with_free_callback(len, data, free)
              : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
  if (resp == NULL) {
    free(data);
    return MHD_NO;
  }
  if (len == 0) free(data);
  char field[API_BLOB_DIGEST_FIELD_BYTES], etag[HANSE_HASH_HEX_BYTES + 2];
  api_blob_digest_field(field, d);
  snprintf(etag, sizeof etag, "\"%s\"", hex);
  MHD_add_response_header(resp, "Content-Type", media);
  MHD_add_response_header(resp, "Content-Digest", field);
  /* RFC 3230's older form, "sha-256=<base64>", for clients that know only it. */
  field[strlen(field) - 1] = 0;
  memmove(field + 8, field + 9, strlen(field + 9) + 1);
  MHD_add_response_header(resp, "Digest", field);
  MHD_add_response_header(resp, "ETag", etag);
  return api_respond(rq, 200, resp);
}

/* ---- the resource -------------------------------------------------------------- */

enum MHD_Result res_blobs(hanse_req *rq, hanse_node_chain *nc, const char *rest) {
  if (rest[0] == 0 || strcmp(rest, "/") == 0)
    return api_method_not_allowed(rq, "GET, PUT"); /* no listing */
  if (strcmp(rq->method, "PUT") == 0) {
    /* api_blob_upload_begin took every PUT to a blob's name: a PUT here
     * without its upload was answered already, or is a bad name. */
    if (rq->upload == NULL) return bad_name(rq);
    return upload_end(rq, nc);
  }
  if (strcmp(rq->method, "GET") != 0) return api_method_not_allowed(rq, "GET, PUT");
  hanse_hash d;
  if (!blob_name(rest, &d)) return bad_name(rq);
  return download(rq, nc, &d);
}
