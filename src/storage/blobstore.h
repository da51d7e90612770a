/*
 * blobstore.h -- a content-addressed store of documents (blobs) on disk,
 * beside a chain: the chain records only a blob's SHA-256 digest and its
 * metadata, the bytes live here.
 *
 * A blob store is one directory (the node uses <data>/chains/<id>/blobs/).
 * A blob is a file named by the lowercase hex of its SHA-256 under a
 * fan-out directory of the first two hex digits:
 *
 *   <dir>/ab/ab54...e1        the blob whose digest is ab54...e1
 *   <dir>/ab/.tmp-<random>    a buffer put in progress (never a blob name)
 *   <dir>/.tmp-<random>       a streaming put in progress
 *
 * Guarantees:
 *  - A blob appears whole or not at all: it is written to a temporary file
 *    (O_EXCL), synced, renamed into place, and its directory synced before
 *    a put returns HANSE_OK. After HANSE_OK the blob survives a crash.
 *  - A blob's name is the digest of exactly the bytes that were written:
 *    the buffer put hashes the buffer it writes, the streaming put hashes
 *    the bytes as it copies them.
 *  - Every read is verified: hanse_blobstore_get hashes what it read and
 *    hands out nothing unless it matches the digest asked for. A bit flip,
 *    a truncated or a swapped file is the rejection "blob.corrupt", never
 *    data.
 *  - Blobs are never deleted (the chain's history refers to them), so no
 *    delete is offered. A put of a blob already present and intact does
 *    not rewrite it; a put of a blob present but corrupt replaces it with
 *    the good bytes (re-uploading a document repairs it).
 *
 * Threads: one hanse_blobstore may be used by any number of threads at
 * once, readers and writers alike. The handle is immutable after open
 * (a directory descriptor and the path) except for one atomic flag, the
 * sticky failure below; everything else is the file system. Two puts of
 * the same content may race: each writes its own temporary file and each
 * rename installs the same bytes atomically, so the result is one intact
 * file and readers never see a partial one.
 *
 * Sticky failure (as the SQLite store, STYLE.md): an I/O error while
 * writing into the store (disk full, EIO, a failed fsync) fails that put
 * with HANSE_ERR(IO) and makes every later put return
 * HANSE_ERR(STORE_FAILED) until the store is closed and reopened: after a
 * failed fsync the kernel may have dropped the dirty pages, so nothing
 * written later can be trusted to be durable. Reads keep working. Errors
 * reading the *source* of a streaming put are not the store's and are
 * not sticky, nor is a put that finds something it cannot replace (a
 * directory) under the blob's name.
 *
 * Return codes (all functions): HANSE_OK; HANSE_ERR(NOT_FOUND) with
 * rejection code "blob.not_found" (404); HANSE_ERR(INVALID) with
 * "blob.corrupt" (500: the node's own copy is bad, not the caller's
 * fault) or "blob.too_large" (413); HANSE_ERR(IO), HANSE_ERR(NOMEM),
 * HANSE_ERR(STORE_FAILED). `rej` may be NULL everywhere. Match on
 * rej->code, not only on the return code.
 *
 * Conventions: `const` arguments are borrowed; outputs come last and are
 * meaningful only when HANSE_OK is returned.
 */
#ifndef HANSE_BLOBSTORE_H
#define HANSE_BLOBSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "crypto/hash.h"

/* The largest blob is HANSE_BLOB_MAX_BYTES (base/limits.h, 64 MiB, with
 * its reason): a reader holds a whole blob in memory, since a download is
 * verified before its first byte is served. It exceeds HANSE_HTTP_BODY_MAX
 * (40 MiB): an upload route must stream the body (a blob writer, or
 * hanse_blobstore_put_fd) or carry its own limit. */

/* Rejection codes, part of the API (clients match on them). */
#define HANSE_BLOB_NOT_FOUND "blob.not_found"
#define HANSE_BLOB_CORRUPT "blob.corrupt"
#define HANSE_BLOB_TOO_LARGE "blob.too_large"

typedef struct hanse_blobstore hanse_blobstore;

/* Open the blob store in `dir`, creating it (and its parents, mode 0700)
 * and its 256 fan-out directories if missing, and syncing them. *out is
 * owned by the caller (hanse_blobstore_close); NULL on failure.
 * HANSE_OK, HANSE_ERR(IO), HANSE_ERR(NOMEM). */
int hanse_blobstore_open(const char *dir, hanse_blobstore **out,
                         hanse_reject *rej);
/* Close the store (NULL is a no-op). No call may be running on it. */
void hanse_blobstore_close(hanse_blobstore *bs);

/* Store `len` bytes at `data` (borrowed; may be NULL when len == 0) and
 * write their SHA-256 to *digest. More than HANSE_BLOB_MAX_BYTES is
 * "blob.too_large". Idempotent: a blob already present and intact is left
 * as it is and HANSE_OK returned. */
int hanse_blobstore_put(hanse_blobstore *bs, const void *data, size_t len,
                        hanse_hash *digest, hanse_reject *rej);

/* Store everything read from `fd` until end of file (a file, pipe or
 * socket; borrowed, not closed, read from its current position), hashing
 * while copying; *digest is the SHA-256 of exactly the bytes stored and
 * *size_bytes (may be NULL) their number. At most HANSE_BLOB_MAX_BYTES
 * are read: one more byte makes it "blob.too_large" and nothing is
 * stored (the rest of the source is left unread). A read error on `fd` is
 * HANSE_ERR(IO) and not sticky. Idempotent like hanse_blobstore_put. */
int hanse_blobstore_put_fd(hanse_blobstore *bs, int fd, hanse_hash *digest,
                           uint64_t *size_bytes, hanse_reject *rej);

/* A blob writer: a streaming put for a source that pushes its bytes in
 * pieces (an HTTP body arriving chunk by chunk) and for a caller that must
 * decide, once it knows the digest, whether the blob may be kept at all.
 * No blob appears under any name before commit; close without commit
 * leaves nothing behind.
 *
 *   hanse_blob_writer *w;
 *   hanse_blob_writer_open(bs, &w, rej);
 *   for each piece: hanse_blob_writer_write(w, p, n, rej);
 *   hanse_blob_writer_finish(w, &digest, &size_bytes, rej);
 *   ... compare the digest with the one expected, authorise ...
 *   hanse_blob_writer_commit(w, &created, rej);    or skip it to drop
 *   hanse_blob_writer_close(w);                    always
 *
 * The bytes go to a temporary file (".tmp-" in the store directory),
 * hashed as they arrive; finish syncs and closes it; commit installs it
 * under its digest exactly as hanse_blobstore_put_fd does (idempotent; a
 * corrupt copy is replaced). A writer is used by one thread at a time.
 * Its first failure is final: the temporary file is removed and every
 * later write, finish or commit returns the same code and rejection
 * again. Write errors into the store are sticky for the store as above;
 * "blob.too_large" is not. */
typedef struct hanse_blob_writer hanse_blob_writer;

/* Start a blob: *out is owned by the caller (hanse_blob_writer_close),
 * NULL on failure. HANSE_OK, HANSE_ERR(STORE_FAILED), HANSE_ERR(IO),
 * HANSE_ERR(NOMEM). */
int hanse_blob_writer_open(hanse_blobstore *bs, hanse_blob_writer **out,
                           hanse_reject *rej);
/* Append `len` bytes at `data` (borrowed; may be NULL when len == 0).
 * More than HANSE_BLOB_MAX_BYTES in all is "blob.too_large" (413) and
 * nothing is kept. Only before finish. */
int hanse_blob_writer_write(hanse_blob_writer *w, const void *data,
                            size_t len, hanse_reject *rej);
/* End of the bytes: sync them and give their SHA-256 and number
 * (size_bytes may be NULL). Nothing is installed yet. Only once. */
int hanse_blob_writer_finish(hanse_blob_writer *w, hanse_hash *digest,
                             uint64_t *size_bytes, hanse_reject *rej);
/* Install the finished blob under its digest. *created (may be NULL) is 1
 * when this commit stored it, 0 when an intact copy was already there.
 * A store that failed since the writer opened refuses: STORE_FAILED.
 * Only after a successful finish, once. */
int hanse_blob_writer_commit(hanse_blob_writer *w, int *created,
                             hanse_reject *rej);
/* Free the writer, removing its temporary file unless committed. NULL is
 * a no-op. */
void hanse_blob_writer_close(hanse_blob_writer *w);

/* Read the blob named `digest` into `out` (reset first; the caller owns it
 * and frees it with hanse_buf_free), verifying that its SHA-256 equals
 * `digest`. "blob.not_found" if absent; "blob.corrupt" if the bytes on
 * disk do not hash to `digest` or exceed HANSE_BLOB_MAX_BYTES. On any
 * failure out->len is 0 and no byte of the file remains in `out`. */
int hanse_blobstore_get(hanse_blobstore *bs, const hanse_hash *digest,
                        hanse_buf *out, hanse_reject *rej);

/* *found = 1 if a blob file named `digest` is present, else 0. Presence
 * only: it reads nothing, so it does not tell an intact blob from a
 * corrupt one (hanse_blobstore_get does). HANSE_OK or HANSE_ERR(IO). */
int hanse_blobstore_exists(hanse_blobstore *bs, const hanse_hash *digest,
                           int *found, hanse_reject *rej);

/* 1 once a write failed on this handle (see sticky failure above). */
int hanse_blobstore_failed(const hanse_blobstore *bs);

#endif
