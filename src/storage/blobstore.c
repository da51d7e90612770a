/*
 * blobstore.c -- the content-addressed blob store (see blobstore.h).
 *
 * Layout. The store holds a descriptor of its directory and names every
 * file relative to it (openat, renameat), so the paths stay short and the
 * store does not depend on the working directory. The 256 fan-out
 * directories "00".."ff" are made once, at open, and the store directory
 * synced then: a put never creates a directory, so making a blob durable
 * takes syncing only the blob and its fan-out directory.
 *
 * Writing a blob, in order (a crash between any two steps leaves at most a
 * stray ".tmp-" file, never a partial blob under a digest's name):
 *
 *   1. open "<fan>/.tmp-<16 random hex>" with O_CREAT|O_EXCL (mode 0600);
 *      a streaming put (the blob writer, which hanse_blobstore_put_fd
 *      drives), which learns the digest only at the end, uses ".tmp-..."
 *      in the store directory instead: same file system, so the rename
 *      below is still atomic;
 *   2. write every byte, hashing as it goes for the streaming put;
 *   3. fsync and close the temporary file (a failing close is an error:
 *      some file systems report write errors only there);
 *   4. if a file with the digest's name exists and hashes to the digest,
 *      drop the temporary file and stop (idempotent put);
 *   5. renameat the temporary file over "<fan>/<hex>" (this also replaces
 *      a corrupt copy found in step 4);
 *   6. fsync the fan-out directory, which makes the rename durable.
 *
 * The blob writer stops between steps 3 and 4 (finish) until its caller
 * commits: a server checks there that the digest is the one the client
 * announced, and that the client may upload, before any blob appears.
 *
 * The buffer put runs step 4 first, before writing anything, since it
 * knows the digest up front; an intact blob then costs one read and no
 * write.
 *
 * Reading a blob opens the file, refuses anything that is not a regular
 * file or is larger than HANSE_BLOB_MAX_BYTES, reads it to the end into the
 * caller's buffer while hashing, and compares the hash with the digest
 * asked for. On a mismatch the bytes read are wiped from the buffer and
 * the rejection is "blob.corrupt". No byte leaves this file unverified.
 *
 * Concurrency. The handle is immutable after open but for `failed`, an
 * atomic flag. Temporary names are random and created with O_EXCL, so
 * writers never share a temporary file; rename is atomic, so a reader sees
 * either no file or a whole one, and two writers of one digest install
 * identical bytes.
 *
 * Stray temporary files (a crash mid-put) are not swept: their names
 * start with ".tmp-", which no blob name (64 hex digits) does, so an
 * offline tool can remove them safely; the store ignores them.
 */
#include "storage/blobstore.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/hex.h"
#include "base/log.h"

/* Bytes moved per read/write call when copying or verifying. On the stack:
 * small enough for any thread's stack, large enough that system calls do
 * not dominate. */
#define BLOB_CHUNK_BYTES (16 * 1024)
/* Random bytes in a temporary name (printed as hex). */
#define BLOB_TMP_RANDOM_BYTES 8
/* O_EXCL collisions tolerated before giving up (each is a 2^-64 event). */
#define BLOB_TMP_TRIES 8
#define BLOB_TMP_PREFIX ".tmp-"
/* "ab/" + 64 hex digits + NUL, and the longest temporary name. */
#define BLOB_REL_MAX (3 + HANSE_HASH_HEX_BYTES)
#define BLOB_TMP_REL_MAX (3 + sizeof BLOB_TMP_PREFIX + 2 * BLOB_TMP_RANDOM_BYTES)

_Static_assert(HANSE_BLOB_MAX_BYTES < SIZE_MAX / 2, "buffer can hold a blob");
_Static_assert(BLOB_TMP_REL_MAX < BLOB_REL_MAX, "one name buffer size fits all");

struct hanse_blobstore {
  int dirfd;        /* the store directory, O_DIRECTORY */
  atomic_int failed; /* sticky: a write failed; puts refused until reopen */
  char dir[];       /* its path, for messages */
};

/* ------------------------------------------------------------------ */
/* System call helpers: retry on EINTR, loop over short transfers.     */

static ssize_t read_some(int fd, void *p, size_t n) {
  for (;;) {
    ssize_t r = read(fd, p, n);
    if (r >= 0 || errno != EINTR) return r;
  }
}

/* 0, or -1 with errno set. */
static int write_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    HANSE_ASSERT(w > 0 && (size_t)w <= n);
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* fsync a directory named relative to the store (NULL: the store itself).
 * 0, or -1 with errno set. */
static int sync_dir(const hanse_blobstore *bs, const char *rel) {
  if (rel == NULL) return fsync(bs->dirfd);
  int fd = openat(bs->dirfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = fsync(fd);
  int saved = errno;
  close(fd);
  errno = saved;
  return rc;
}

/* ------------------------------------------------------------------ */
/* Names                                                               */

/* fan = "ab", rel = "ab/ab54...". */
static void blob_names(const hanse_hash *digest, char fan[3],
                       char rel[BLOB_REL_MAX], char hex[HANSE_HASH_HEX_BYTES]) {
  hanse_hash_hex(hex, digest);
  fan[0] = hex[0];
  fan[1] = hex[1];
  fan[2] = 0;
  int n = snprintf(rel, BLOB_REL_MAX, "%s/%s", fan, hex);
  HANSE_ASSERT(n == BLOB_REL_MAX - 1);
}

/* Create and open a fresh temporary file in fan-out directory `fan` (NULL:
 * the store directory); its name goes to rel. fd or -1 with errno set. */
static int temp_open(const hanse_blobstore *bs, const char *fan,
                     char rel[BLOB_REL_MAX]) {
  for (int i = 0; i < BLOB_TMP_TRIES; i++) {
    uint8_t rnd[BLOB_TMP_RANDOM_BYTES];
    char rhex[2 * BLOB_TMP_RANDOM_BYTES + 1];
    randombytes_buf(rnd, sizeof rnd);
    hanse_hex_encode(rhex, rnd, sizeof rnd);
    snprintf(rel, BLOB_REL_MAX, "%s%s%s%s", fan ? fan : "", fan ? "/" : "",
             BLOB_TMP_PREFIX, rhex);
    int fd = openat(bs->dirfd, rel,
                    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0 || errno != EEXIST) return fd;
  }
  errno = EEXIST;
  return -1;
}

/* ------------------------------------------------------------------ */
/* Rejections                                                          */

static int reject_not_found(hanse_reject *rej, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int reject_not_found(hanse_reject *rej, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = hanse_reject_vfill(rej, HANSE_ERR(NOT_FOUND), HANSE_BLOB_NOT_FOUND,
                              404, fmt, ap);
  va_end(ap);
  return rc;
}

static int reject_too_large(hanse_reject *rej) {
  return hanse_reject_code(rej, HANSE_BLOB_TOO_LARGE, 413,
                           "a blob holds at most %zu bytes",
                           (size_t)HANSE_BLOB_MAX_BYTES);
}

/* An I/O error writing into the store: remove the temporary file (rel may
 * be NULL), turn the store sticky-failed and say what failed. */
static int write_failed(hanse_blobstore *bs, const char *tmp_rel,
                        const char *what, int err, hanse_reject *rej) {
  if (tmp_rel != NULL) unlinkat(bs->dirfd, tmp_rel, 0);
  atomic_store(&bs->failed, 1);
  HANSE_ERROR("blob store %s: %s: %s; refusing writes until reopened", bs->dir,
              what, strerror(err));
  return hanse_reject_set(rej, HANSE_ERR(IO), "blob store %s: %s: %s", bs->dir,
                          what, strerror(err));
}

/* ------------------------------------------------------------------ */
/* Reading and verifying                                               */

enum { RV_MATCH = 0, RV_MISMATCH = 1, RV_IO = -1, RV_NOMEM = -2 };

/* Read fd to its end, hashing; append the bytes to `out` when not NULL
 * (its spare capacity is filled in place). RV_MISMATCH also when more than
 * HANSE_BLOB_MAX_BYTES are there. RV_IO leaves errno set. *nread: bytes
 * read. */
static int read_verify(int fd, const hanse_hash *want, hanse_buf *out,
                       uint64_t *nread) {
  hanse_sha256_state st;
  uint8_t chunk[BLOB_CHUNK_BYTES];
  uint64_t total = 0;
  hanse_sha256_init(&st);
  for (;;) {
    uint8_t *dst = chunk;
    size_t room = sizeof chunk;
    if (out != NULL && out->cap > out->len) {
      dst = out->data + out->len;
      room = out->cap - out->len;
    }
    ssize_t n = read_some(fd, dst, room);
    if (n < 0) return RV_IO;
    if (n == 0) break;
    total += (uint64_t)n;
    *nread = total;
    if (total > HANSE_BLOB_MAX_BYTES) return RV_MISMATCH;
    hanse_sha256_update(&st, dst, (size_t)n);
    if (out != NULL) {
      if (dst == chunk) {
        hanse_buf_put(out, chunk, (size_t)n);
        if (hanse_buf_status(out) != HANSE_OK) return RV_NOMEM;
      } else {
        out->len += (size_t)n;
      }
    }
  }
  *nread = total;
  hanse_hash got;
  hanse_sha256_final(&st, &got);
  return hanse_hash_eq(&got, want) ? RV_MATCH : RV_MISMATCH;
}

/* Is the blob `rel` present and does it hash to `digest`? *intact = 1/0.
 * HANSE_OK or HANSE_ERR(IO). A corrupt copy is logged here: the put that
 * called will replace it. */
static int check_existing(hanse_blobstore *bs, const char *rel,
                          const hanse_hash *digest, int *intact,
                          hanse_reject *rej) {
  *intact = 0;
  int fd = openat(bs->dirfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return HANSE_OK;
    if (errno == ELOOP) { /* a symbolic link: the rename replaces it */
      HANSE_WARN("blob store %s: %s is a symbolic link; replacing it", bs->dir,
                 rel);
      return HANSE_OK;
    }
    return hanse_reject_set(rej, HANSE_ERR(IO), "blob store %s: open %s: %s",
                            bs->dir, rel, strerror(errno));
  }
  struct stat sb;
  int stat_rc = fstat(fd, &sb);
  int err = errno;
  if (stat_rc != 0 || !S_ISREG(sb.st_mode)) {
    /* A directory (or a device) under a blob's name: nothing a rename can
     * replace, and no fault of the disk's, so not sticky. */
    close(fd);
    return hanse_reject_set(rej, HANSE_ERR(IO), "blob store %s: %s: %s",
                            bs->dir, rel,
                            stat_rc != 0 ? strerror(err) : "not a regular file");
  }
  uint64_t n = 0;
  int rv = read_verify(fd, digest, NULL, &n);
  err = errno;
  close(fd);
  if (rv == RV_IO)
    return hanse_reject_set(rej, HANSE_ERR(IO), "blob store %s: read %s: %s",
                            bs->dir, rel, strerror(err));
  HANSE_ASSERT(rv == RV_MATCH || rv == RV_MISMATCH);
  if (rv == RV_MISMATCH)
    HANSE_WARN("blob store %s: %s is corrupt (%llu bytes); replacing it",
               bs->dir, rel, (unsigned long long)n);
  *intact = rv == RV_MATCH;
  return HANSE_OK;
}

/* ------------------------------------------------------------------ */
/* Open and close                                                      */

int hanse_blobstore_open(const char *dir, hanse_blobstore **out,
                         hanse_reject *rej) {
  HANSE_ASSERT(dir != NULL && out != NULL);
  *out = NULL;
  size_t dlen = strlen(dir);
  hanse_blobstore *bs = malloc(sizeof *bs + dlen + 1);
  if (bs == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  memcpy(bs->dir, dir, dlen + 1);
  atomic_init(&bs->failed, 0);
  bs->dirfd = -1;
  const char *what = "create";
  if (hanse_mkdir_p(dir, 0700) != 0) goto fail;
  what = "open";
  bs->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (bs->dirfd < 0) goto fail;
  what = "create fan-out directories in";
  for (int i = 0; i < 256; i++) {
    char fan[3];
    uint8_t b = (uint8_t)i;
    hanse_hex_encode(fan, &b, 1);
    if (mkdirat(bs->dirfd, fan, 0700) != 0 && errno != EEXIST) goto fail;
  }
  /* The fan-out entries, and the store directory in its parent. */
  what = "sync";
  if (fsync(bs->dirfd) != 0) goto fail;
  char parent[4096];
  int pn = snprintf(parent, sizeof parent, "%s/..", dir);
  if (pn > 0 && (size_t)pn < sizeof parent) {
    int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pfd < 0 || fsync(pfd) != 0) {
      int err = errno;
      if (pfd >= 0) close(pfd);
      errno = err;
      goto fail;
    }
    close(pfd);
  }
  *out = bs;
  return HANSE_OK;
fail:;
  int err = errno;
  if (bs->dirfd >= 0) close(bs->dirfd);
  free(bs);
  return hanse_reject_set(rej, HANSE_ERR(IO), "blob store: %s %s: %s", what,
                          dir, strerror(err));
}

void hanse_blobstore_close(hanse_blobstore *bs) {
  if (bs == NULL) return;
  HANSE_ASSERT(bs->dirfd >= 0);
  close(bs->dirfd);
  free(bs);
}

int hanse_blobstore_failed(const hanse_blobstore *bs) {
  HANSE_ASSERT(bs != NULL);
  return atomic_load(&((hanse_blobstore *)bs)->failed) != 0;
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */

/* Steps 5 and 6: rename the synced temporary file into place and sync the
 * fan-out directory. */
static int install(hanse_blobstore *bs, const char *tmp_rel, const char *rel,
                   const char *fan, hanse_reject *rej) {
  if (renameat(bs->dirfd, tmp_rel, bs->dirfd, rel) != 0)
    return write_failed(bs, tmp_rel, "rename", errno, rej);
  /* The blob is in place but perhaps not durable: the put fails, so the
   * caller does not record the digest, and the store turns sticky. */
  if (sync_dir(bs, fan) != 0)
    return write_failed(bs, NULL, "sync directory", errno, rej);
  return HANSE_OK;
}

static int refuse_if_failed(const hanse_blobstore *bs, hanse_reject *rej) {
  if (!hanse_blobstore_failed(bs)) return HANSE_OK;
  return hanse_reject_set(rej, HANSE_ERR(STORE_FAILED),
                          "blob store %s refuses writes after an I/O error; "
                          "restart the node",
                          bs->dir);
}

int hanse_blobstore_put(hanse_blobstore *bs, const void *data, size_t len,
                        hanse_hash *digest, hanse_reject *rej) {
  HANSE_ASSERT(bs != NULL && digest != NULL);
  HANSE_ASSERT(data != NULL || len == 0);
  if (len > HANSE_BLOB_MAX_BYTES) return reject_too_large(rej);
  int rc = refuse_if_failed(bs, rej);
  if (rc != HANSE_OK) return rc;
  if (data == NULL) data = ""; /* len == 0: a valid pointer all the same */
  hanse_sha256(digest, data, len);

  char fan[3], rel[BLOB_REL_MAX], hex[HANSE_HASH_HEX_BYTES];
  blob_names(digest, fan, rel, hex);
  int intact = 0;
  rc = check_existing(bs, rel, digest, &intact, rej);
  if (rc != HANSE_OK || intact) return rc;

  char tmp_rel[BLOB_REL_MAX];
  int fd = temp_open(bs, fan, tmp_rel);
  if (fd < 0) return write_failed(bs, NULL, "create temporary file", errno, rej);
  if (write_all(fd, data, len) != 0 || fsync(fd) != 0) {
    int err = errno;
    close(fd);
    return write_failed(bs, tmp_rel, "write blob", err, rej);
  }
  if (close(fd) != 0) return write_failed(bs, tmp_rel, "close blob", errno, rej);
  return install(bs, tmp_rel, rel, fan, rej);
}

/* ------------------------------------------------------------------ */
/* The blob writer, and the streaming put built on it                  */

enum { W_WRITING, W_FINISHED, W_COMMITTED, W_FAILED };

struct hanse_blob_writer {
  hanse_blobstore *bs;
  int fd;                       /* the temporary file; -1 after finish */
  int state;                    /* W_* */
  char tmp_rel[BLOB_REL_MAX];   /* its name; "" once removed or installed */
  hanse_sha256_state st;        /* of the bytes written so far */
  uint64_t size_bytes;
  hanse_hash digest;            /* after finish */
  hanse_reject fail;            /* the first failure, replayed (W_FAILED) */
};

/* Make the writer's failure final: remove the temporary file (unless the
 * failing step did), remember the rejection so that later calls repeat
 * it. Returns rc. */
static int writer_fail(hanse_blob_writer *w, int rc, const hanse_reject *r,
                       hanse_reject *rej) {
  HANSE_ASSERT(rc != HANSE_OK && w->state != W_FAILED);
  if (w->fd >= 0) close(w->fd);
  w->fd = -1;
  if (w->tmp_rel[0]) unlinkat(w->bs->dirfd, w->tmp_rel, 0);
  w->tmp_rel[0] = 0;
  w->state = W_FAILED;
  w->fail = *r;
  w->fail.rc = rc;
  if (rej) *rej = w->fail;
  return rc;
}

/* A write into the store failed: sticky for the store (write_failed),
 * final for the writer. */
static int writer_io(hanse_blob_writer *w, const char *what, int err,
                     hanse_reject *rej) {
  hanse_reject r;
  int rc = write_failed(w->bs, w->tmp_rel[0] ? w->tmp_rel : NULL, what, err, &r);
  w->tmp_rel[0] = 0; /* write_failed removed it */
  return writer_fail(w, rc, &r, rej);
}

/* A call on a writer that already failed: the same answer again. */
static int writer_replay(const hanse_blob_writer *w, hanse_reject *rej) {
  HANSE_ASSERT(w->state == W_FAILED && w->fail.rc != HANSE_OK);
  if (rej) *rej = w->fail;
  return w->fail.rc;
}

int hanse_blob_writer_open(hanse_blobstore *bs, hanse_blob_writer **out,
                           hanse_reject *rej) {
  HANSE_ASSERT(bs != NULL && out != NULL);
  *out = NULL;
  int rc = refuse_if_failed(bs, rej);
  if (rc != HANSE_OK) return rc;
  hanse_blob_writer *w = calloc(1, sizeof *w);
  if (w == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  w->bs = bs;
  w->fd = temp_open(bs, NULL, w->tmp_rel);
  if (w->fd < 0) {
    int err = errno;
    free(w);
    return write_failed(bs, NULL, "create temporary file", err, rej);
  }
  w->state = W_WRITING;
  hanse_sha256_init(&w->st);
  *out = w;
  return HANSE_OK;
}

int hanse_blob_writer_write(hanse_blob_writer *w, const void *data,
                            size_t len, hanse_reject *rej) {
  HANSE_ASSERT(w != NULL && (data != NULL || len == 0));
  if (w->state == W_FAILED) return writer_replay(w, rej);
  HANSE_ASSERT(w->state == W_WRITING && w->fd >= 0);
  if (len == 0) return HANSE_OK;
  if (len > HANSE_BLOB_MAX_BYTES - w->size_bytes) {
    hanse_reject r;
    int rc = reject_too_large(&r);
    return writer_fail(w, rc, &r, rej);
  }
  hanse_sha256_update(&w->st, data, len);
  if (write_all(w->fd, data, len) != 0) return writer_io(w, "write blob", errno, rej);
  w->size_bytes += len;
  HANSE_ASSERT(w->size_bytes <= HANSE_BLOB_MAX_BYTES);
  return HANSE_OK;
}

int hanse_blob_writer_finish(hanse_blob_writer *w, hanse_hash *digest,
                             uint64_t *size_bytes, hanse_reject *rej) {
  HANSE_ASSERT(w != NULL && digest != NULL);
  if (w->state == W_FAILED) return writer_replay(w, rej);
  HANSE_ASSERT(w->state == W_WRITING && w->fd >= 0);
  if (fsync(w->fd) != 0) return writer_io(w, "sync blob", errno, rej);
  int rc = close(w->fd);
  w->fd = -1;
  if (rc != 0) return writer_io(w, "close blob", errno, rej);
  hanse_sha256_final(&w->st, &w->digest);
  w->state = W_FINISHED;
  *digest = w->digest;
  if (size_bytes != NULL) *size_bytes = w->size_bytes;
  return HANSE_OK;
}

int hanse_blob_writer_commit(hanse_blob_writer *w, int *created,
                             hanse_reject *rej) {
  HANSE_ASSERT(w != NULL);
  if (created != NULL) *created = 0;
  if (w->state == W_FAILED) return writer_replay(w, rej);
  HANSE_ASSERT(w->state == W_FINISHED && w->fd < 0 && w->tmp_rel[0]);
  hanse_reject r;
  int rc = refuse_if_failed(w->bs, &r);
  if (rc != HANSE_OK) return writer_fail(w, rc, &r, rej);

  char fan[3], rel[BLOB_REL_MAX], hex[HANSE_HASH_HEX_BYTES];
  blob_names(&w->digest, fan, rel, hex);
  int intact = 0;
  rc = check_existing(w->bs, rel, &w->digest, &intact, &r);
  /* Unreadable (not sticky): the copy is dropped with the writer. */
  if (rc != HANSE_OK) return writer_fail(w, rc, &r, rej);
  if (intact) {
    /* Already stored: the copy is not needed. A failed unlink leaves only
     * a stray temporary file, which the store ignores. */
    if (unlinkat(w->bs->dirfd, w->tmp_rel, 0) != 0)
      HANSE_WARN("blob store %s: cannot remove %s: %s", w->bs->dir, w->tmp_rel,
                 strerror(errno));
    w->tmp_rel[0] = 0;
    w->state = W_COMMITTED;
    return HANSE_OK;
  }
  rc = install(w->bs, w->tmp_rel, rel, fan, &r);
  if (rc != HANSE_OK) {
    /* install removed the temporary file, or renamed it into place and
     * failed the directory sync; either way nothing is left to remove. */
    w->tmp_rel[0] = 0;
    return writer_fail(w, rc, &r, rej);
  }
  w->tmp_rel[0] = 0;
  w->state = W_COMMITTED;
  if (created != NULL) *created = 1;
  return HANSE_OK;
}

void hanse_blob_writer_close(hanse_blob_writer *w) {
  if (w == NULL) return;
  if (w->fd >= 0) close(w->fd);
  if (w->tmp_rel[0] && unlinkat(w->bs->dirfd, w->tmp_rel, 0) != 0)
    HANSE_WARN("blob store %s: cannot remove %s: %s", w->bs->dir, w->tmp_rel,
               strerror(errno));
  free(w);
}

int hanse_blobstore_put_fd(hanse_blobstore *bs, int fd, hanse_hash *digest,
                           uint64_t *size_bytes, hanse_reject *rej) {
  HANSE_ASSERT(bs != NULL && digest != NULL && fd >= 0);
  if (size_bytes != NULL) *size_bytes = 0;
  hanse_blob_writer *w;
  int rc = hanse_blob_writer_open(bs, &w, rej);
  if (rc != HANSE_OK) return rc;
  uint8_t chunk[BLOB_CHUNK_BYTES];
  for (;;) {
    ssize_t n = read_some(fd, chunk, sizeof chunk);
    if (n < 0) {
      /* The source failed, not the store: not sticky. */
      rc = hanse_reject_set(rej, HANSE_ERR(IO), "reading the blob source: %s",
                            strerror(errno));
      goto done;
    }
    if (n == 0) break;
    rc = hanse_blob_writer_write(w, chunk, (size_t)n, rej);
    if (rc != HANSE_OK) goto done; /* too large: the rest is left unread */
  }
  uint64_t total = 0;
  rc = hanse_blob_writer_finish(w, digest, &total, rej);
  if (rc == HANSE_OK) rc = hanse_blob_writer_commit(w, NULL, rej);
  if (rc == HANSE_OK && size_bytes != NULL) *size_bytes = total;
done:
  hanse_blob_writer_close(w);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */

/* Wipe what was read and report the blob corrupt. */
static int corrupt(hanse_blobstore *bs, hanse_buf *out, const char *hex,
                   const char *why, hanse_reject *rej) {
  if (out->data != NULL) memset(out->data, 0, out->len);
  hanse_buf_reset(out);
  HANSE_ERROR("blob store %s: blob %s is corrupt: %s", bs->dir, hex, why);
  return hanse_reject_code(rej, HANSE_BLOB_CORRUPT, 500,
                           "stored blob %s is corrupt: %s", hex, why);
}

int hanse_blobstore_get(hanse_blobstore *bs, const hanse_hash *digest,
                        hanse_buf *out, hanse_reject *rej) {
  HANSE_ASSERT(bs != NULL && digest != NULL && out != NULL);
  hanse_buf_reset(out);
  char fan[3], rel[BLOB_REL_MAX], hex[HANSE_HASH_HEX_BYTES];
  blob_names(digest, fan, rel, hex);

  int fd = openat(bs->dirfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return reject_not_found(rej, "no blob %s", hex);
    if (errno == ELOOP) return corrupt(bs, out, hex, "not a regular file", rej);
    return hanse_reject_set(rej, HANSE_ERR(IO), "blob store %s: open %s: %s",
                            bs->dir, rel, strerror(errno));
  }
  struct stat sb;
  if (fstat(fd, &sb) != 0) {
    int err = errno;
    close(fd);
    return hanse_reject_set(rej, HANSE_ERR(IO), "blob store %s: stat %s: %s",
                            bs->dir, rel, strerror(err));
  }
  if (!S_ISREG(sb.st_mode)) {
    close(fd);
    return corrupt(bs, out, hex, "not a regular file", rej);
  }
  if ((uint64_t)sb.st_size > HANSE_BLOB_MAX_BYTES) {
    close(fd);
    return corrupt(bs, out, hex, "larger than any blob", rej);
  }
  /* One allocation of the expected size; the read fills it in place. */
  int rc = hanse_buf_reserve(out, (size_t)sb.st_size);
  if (rc != HANSE_OK) {
    close(fd);
    return hanse_reject_set(rej, rc, NULL);
  }
  uint64_t n = 0;
  int rv = read_verify(fd, digest, out, &n);
  int err = errno;
  close(fd);
  switch (rv) {
  case RV_MATCH:
    HANSE_ASSERT(out->len == n);
    return HANSE_OK;
  case RV_MISMATCH:
    return corrupt(bs, out, hex, "its bytes do not hash to its digest", rej);
  case RV_NOMEM:
    if (out->data != NULL) memset(out->data, 0, out->len);
    hanse_buf_reset(out);
    return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  default:
    HANSE_ASSERT(rv == RV_IO);
    if (out->data != NULL) memset(out->data, 0, out->len);
    hanse_buf_reset(out);
    return hanse_reject_set(rej, HANSE_ERR(IO), "blob store %s: read %s: %s",
                            bs->dir, rel, strerror(err));
  }
}

int hanse_blobstore_exists(hanse_blobstore *bs, const hanse_hash *digest,
                           int *found, hanse_reject *rej) {
  HANSE_ASSERT(bs != NULL && digest != NULL && found != NULL);
  char fan[3], rel[BLOB_REL_MAX], hex[HANSE_HASH_HEX_BYTES];
  blob_names(digest, fan, rel, hex);
  struct stat sb;
  *found = 0;
  if (fstatat(bs->dirfd, rel, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return HANSE_OK;
    return hanse_reject_set(rej, HANSE_ERR(IO), "blob store %s: stat %s: %s",
                            bs->dir, rel, strerror(errno));
  }
  *found = S_ISREG(sb.st_mode);
  return HANSE_OK;
}
