/*
 * test_blobstore.c -- the content-addressed blob store.
 *
 * Round trips (empty, small with known SHA-256 answers, a few MiB), the
 * on-disk layout, idempotent puts (the file is not rewritten: same inode),
 * the streaming put against the buffer put (from a file and from a pipe
 * fed by a thread), and every way a stored file can go bad -- a flipped
 * byte, truncation, an appended byte, another blob's bytes, an oversized
 * file, a symbolic link -- each of which must be "blob.corrupt" with no
 * data handed out, and which a re-put repairs. Then the bounds (exactly
 * HANSE_BLOB_MAX_BYTES is stored, one more byte is "blob.too_large" from a
 * buffer and from a stream), no temporary file left behind by any put,
 * sticky failure after a write error, the blob writer (pieces, commit or
 * drop, too large, a store failing under an open writer), and threads
 * putting the same content while readers read it: one intact file, never
 * a partial read.
 *
 * Each test works in its own directory under $TMPDIR and removes it.
 * Threads never call cmocka's asserts (they longjmp): they record results
 * that the main thread checks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "fixture.h"
#include "storage/blobstore.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

typedef struct tmpblobs {
  char root[256]; /* mkdtemp directory, removed at the end */
  char dir[300];  /* the store: root/chains/test/blobs (made by open) */
  hanse_blobstore *bs;
} tmpblobs;

static void tb_open(tmpblobs *t) {
  const char *tmp = getenv("TMPDIR");
  snprintf(t->root, sizeof t->root, "%s/hanse-blobs-XXXXXX",
           tmp && *tmp ? tmp : "/tmp");
  assert_non_null(mkdtemp(t->root));
  snprintf(t->dir, sizeof t->dir, "%s/chains/test/blobs", t->root);
  hanse_reject rej;
  assert_int_equal(hanse_blobstore_open(t->dir, &t->bs, &rej), HANSE_OK);
  assert_non_null(t->bs);
}

static void tb_close(tmpblobs *t) {
  hanse_blobstore_close(t->bs);
  t->bs = NULL;
  fx_rmrf(t->root);
}

static void blob_path(const tmpblobs *t, const hanse_hash *d, char *out,
                      size_t n) {
  char hex[HANSE_HASH_HEX_BYTES];
  hanse_hash_hex(hex, d);
  snprintf(out, n, "%s/%.2s/%s", t->dir, hex, hex);
}

/* Deterministic bytes that differ at every offset and per seed. */
static uint8_t *pattern(size_t n, uint32_t seed) {
  uint8_t *p = malloc(n ? n : 1);
  assert_non_null(p);
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    p[i] = (uint8_t)x;
  }
  return p;
}

static void write_file(const char *path, const void *p, size_t n) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, p, n), (ssize_t)n);
  assert_int_equal(close(fd), 0);
}

/* Files whose name starts with ".tmp-" anywhere in the store. */
static int count_temps(const tmpblobs *t) {
  int count = 0;
  DIR *d = opendir(t->dir);
  assert_non_null(d);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strncmp(e->d_name, ".tmp-", 5) == 0) count++;
    if (e->d_name[0] == '.' || strlen(e->d_name) != 2) continue;
    char sub[400];
    snprintf(sub, sizeof sub, "%s/%.2s", t->dir, e->d_name);
    DIR *s = opendir(sub);
    if (s == NULL) continue;
    struct dirent *f;
    while ((f = readdir(s)) != NULL)
      if (strncmp(f->d_name, ".tmp-", 5) == 0) count++;
    closedir(s);
  }
  closedir(d);
  return count;
}

/* Entries other than . and .. in the fan-out directory of `d`. */
static int count_fan_entries(const tmpblobs *t, const hanse_hash *d) {
  char hex[HANSE_HASH_HEX_BYTES], sub[400];
  hanse_hash_hex(hex, d);
  snprintf(sub, sizeof sub, "%s/%.2s", t->dir, hex);
  DIR *dir = opendir(sub);
  assert_non_null(dir);
  int count = 0;
  struct dirent *e;
  while ((e = readdir(dir)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) count++;
  closedir(dir);
  return count;
}

static void assert_get_ok(hanse_blobstore *bs, const hanse_hash *d,
                          const void *want, size_t n) {
  hanse_buf out;
  hanse_buf_init(&out);
  hanse_reject rej;
  assert_int_equal(hanse_blobstore_get(bs, d, &out, &rej), HANSE_OK);
  assert_int_equal(out.len, n);
  if (n > 0) assert_memory_equal(out.data, want, n);
  hanse_buf_free(&out);
}

/* get must be blob.corrupt (500), with nothing in the buffer, which held
 * something before the call. When the whole (bad) file of `wiped` bytes
 * was read in, those bytes must have been zeroed, not just hidden behind
 * len. */
static void assert_get_corrupt_wiped(hanse_blobstore *bs, const hanse_hash *d,
                                     size_t wiped) {
  hanse_buf out;
  hanse_buf_init(&out);
  hanse_buf_put(&out, "stale", 5);
  hanse_reject rej;
  assert_int_equal(hanse_blobstore_get(bs, d, &out, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "blob.corrupt");
  assert_int_equal(rej.status, 500);
  assert_int_equal(out.len, 0);
  assert_true(out.cap >= wiped);
  for (size_t i = 0; i < wiped; i++)
    if (out.data[i] != 0) fail_msg("byte %zu of a corrupt blob left in the buffer", i);
  hanse_buf_free(&out);
}

static void assert_get_corrupt(hanse_blobstore *bs, const hanse_hash *d) {
  assert_get_corrupt_wiped(bs, d, 0);
}

static void hash_of_hex(hanse_hash *h, const char *hex) {
  assert_int_equal(hanse_hash_parse(h, hex), HANSE_OK);
}

/* ------------------------------------------------------------------ */
/* Open                                                                */

static void test_open(void **state) {
  (void)state;
  tmpblobs t;
  tb_open(&t);
  /* every fan-out directory exists */
  for (int i = 0; i < 256; i++) {
    char p[400];
    struct stat sb;
    snprintf(p, sizeof p, "%s/%02x", t.dir, i);
    assert_int_equal(stat(p, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
  }
  /* a second handle on the same directory opens (idempotent creation) */
  hanse_blobstore *again = NULL;
  hanse_reject rej;
  assert_int_equal(hanse_blobstore_open(t.dir, &again, &rej), HANSE_OK);
  hanse_blobstore_close(again);
  hanse_blobstore_close(NULL);

  /* a path below a regular file cannot be a store */
  char file[400], under[450];
  snprintf(file, sizeof file, "%s/plain", t.root);
  write_file(file, "x", 1);
  snprintf(under, sizeof under, "%s/blobs", file);
  hanse_blobstore *bad = (hanse_blobstore *)1;
  assert_int_equal(hanse_blobstore_open(under, &bad, &rej), HANSE_ERR(IO));
  assert_null(bad);
  assert_string_equal(rej.code, "internal.io");
  tb_close(&t);
}

/* ------------------------------------------------------------------ */
/* Round trips                                                         */

static void test_round_trip(void **state) {
  (void)state;
  tmpblobs t;
  tb_open(&t);
  hanse_reject rej;
  hanse_hash d, want;

  /* empty blob: SHA-256 of nothing */
  assert_int_equal(hanse_blobstore_put(t.bs, NULL, 0, &d, &rej), HANSE_OK);
  hash_of_hex(&want,
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert_true(hanse_hash_eq(&d, &want));
  assert_get_ok(t.bs, &d, "", 0);

  /* "abc" (FIPS 180-2 example) */
  assert_int_equal(hanse_blobstore_put(t.bs, "abc", 3, &d, &rej), HANSE_OK);
  hash_of_hex(&want,
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert_true(hanse_hash_eq(&d, &want));
  assert_get_ok(t.bs, &d, "abc", 3);
  /* layout: <dir>/ba/ba7816bf..., a regular file of 3 bytes */
  char p[400];
  struct stat sb;
  snprintf(p, sizeof p, "%s/ba/%s", t.dir,
           "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert_int_equal(stat(p, &sb), 0);
  assert_true(S_ISREG(sb.st_mode));
  assert_int_equal(sb.st_size, 3);
  int found = 0;
  assert_int_equal(hanse_blobstore_exists(t.bs, &d, &found, &rej), HANSE_OK);
  assert_int_equal(found, 1);

  /* a few MiB, not a power of two */
  size_t n = 3 * 1024 * 1024 + 12345;
  uint8_t *big = pattern(n, 1);
  assert_int_equal(hanse_blobstore_put(t.bs, big, n, &d, &rej), HANSE_OK);
  hanse_sha256(&want, big, n);
  assert_true(hanse_hash_eq(&d, &want));
  assert_get_ok(t.bs, &d, big, n);

  /* get resets a buffer that already held bytes */
  hanse_buf out;
  hanse_buf_init(&out);
  hanse_buf_put(&out, "old", 3);
  assert_int_equal(hanse_blobstore_get(t.bs, &d, &out, &rej), HANSE_OK);
  assert_int_equal(out.len, n);
  assert_memory_equal(out.data, big, n);
  hanse_buf_free(&out);

  /* a new handle reads what the first wrote */
  hanse_blobstore_close(t.bs);
  assert_int_equal(hanse_blobstore_open(t.dir, &t.bs, &rej), HANSE_OK);
  assert_get_ok(t.bs, &d, big, n);
  free(big);
  assert_int_equal(count_temps(&t), 0);
  tb_close(&t);
}

static void test_idempotent_put(void **state) {
  (void)state;
  tmpblobs t;
  tb_open(&t);
  hanse_reject rej;
  hanse_hash d1, d2;
  uint8_t *data = pattern(100000, 2);
  assert_int_equal(hanse_blobstore_put(t.bs, data, 100000, &d1, &rej), HANSE_OK);
  char p[400];
  blob_path(&t, &d1, p, sizeof p);
  struct stat before, after;
  assert_int_equal(stat(p, &before), 0);

  /* again from a buffer and from a stream: same digest, same file (a
   * rewrite would rename a new inode into place) */
  assert_int_equal(hanse_blobstore_put(t.bs, data, 100000, &d2, &rej), HANSE_OK);
  assert_true(hanse_hash_eq(&d1, &d2));
  char src[400];
  snprintf(src, sizeof src, "%s/src", t.root);
  write_file(src, data, 100000);
  int fd = open(src, O_RDONLY);
  assert_true(fd >= 0);
  uint64_t size = 0;
  assert_int_equal(hanse_blobstore_put_fd(t.bs, fd, &d2, &size, &rej), HANSE_OK);
  close(fd);
  assert_true(hanse_hash_eq(&d1, &d2));
  assert_int_equal(size, 100000);

  assert_int_equal(stat(p, &after), 0);
  assert_int_equal(before.st_ino, after.st_ino);
  assert_int_equal(count_fan_entries(&t, &d1), 1);
  assert_int_equal(count_temps(&t), 0);
  assert_get_ok(t.bs, &d1, data, 100000);
  free(data);
  tb_close(&t);
}

/* ------------------------------------------------------------------ */
/* Streaming put                                                       */

typedef struct feeder {
  int fd;
  const uint8_t *p;
  size_t n;
  int ok;
} feeder;

/* Writes the bytes into a pipe in uneven pieces, then closes it. */
static void *feed(void *arg) {
  feeder *f = arg;
  size_t off = 0, step = 1;
  f->ok = 1;
  while (off < f->n) {
    size_t k = step < f->n - off ? step : f->n - off;
    ssize_t w = write(f->fd, f->p + off, k);
    if (w < 0) {
      if (errno == EINTR) continue;
      f->ok = 0;
      break;
    }
    off += (size_t)w;
    step = step * 3 + 7; /* 1, 10, 37, ... up to large pieces */
    if (step > 200000) step = 4097;
  }
  close(f->fd);
  return NULL;
}

static void test_stream_equals_buffer(void **state) {
  (void)state;
  tmpblobs t;
  tb_open(&t);
  hanse_reject rej;
  size_t n = 2 * 1024 * 1024 + 777;
  uint8_t *data = pattern(n, 3);
  hanse_hash want;
  hanse_sha256(&want, data, n);

  /* from a file, into a fresh store: the digest of what was stored */
  char src[400];
  snprintf(src, sizeof src, "%s/src", t.root);
  write_file(src, data, n);
  int fd = open(src, O_RDONLY);
  assert_true(fd >= 0);
  hanse_hash d;
  uint64_t size = 0;
  assert_int_equal(hanse_blobstore_put_fd(t.bs, fd, &d, &size, &rej), HANSE_OK);
  close(fd);
  assert_true(hanse_hash_eq(&d, &want));
  assert_int_equal(size, n);
  assert_get_ok(t.bs, &d, data, n);

  /* the buffer put of the same bytes names the same blob */
  hanse_hash d2;
  assert_int_equal(hanse_blobstore_put(t.bs, data, n, &d2, &rej), HANSE_OK);
  assert_true(hanse_hash_eq(&d, &d2));

  /* from a pipe with short reads, different content */
  uint8_t *other = pattern(n, 4);
  int pfd[2];
  assert_int_equal(pipe(pfd), 0);
  feeder f = {pfd[1], other, n, 0};
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, feed, &f), 0);
  assert_int_equal(hanse_blobstore_put_fd(t.bs, pfd[0], &d, &size, &rej), HANSE_OK);
  pthread_join(th, NULL);
  close(pfd[0]);
  assert_true(f.ok);
  hanse_sha256(&want, other, n);
  assert_true(hanse_hash_eq(&d, &want));
  assert_int_equal(size, n);
  assert_get_ok(t.bs, &d, other, n);

  /* from its current position, not the start */
  fd = open(src, O_RDONLY);
  assert_true(fd >= 0);
  assert_int_equal(lseek(fd, 1000, SEEK_SET), 1000);
  assert_int_equal(hanse_blobstore_put_fd(t.bs, fd, &d, &size, &rej), HANSE_OK);
  close(fd);
  hanse_sha256(&want, data + 1000, n - 1000);
  assert_true(hanse_hash_eq(&d, &want));
  assert_int_equal(size, n - 1000);

  /* an empty stream is the empty blob; size may be NULL */
  write_file(src, "", 0);
  fd = open(src, O_RDONLY);
  assert_true(fd >= 0);
  assert_int_equal(hanse_blobstore_put_fd(t.bs, fd, &d, NULL, &rej), HANSE_OK);
  close(fd);
  hanse_sha256(&want, "", 0);
  assert_true(hanse_hash_eq(&d, &want));
  assert_get_ok(t.bs, &d, "", 0);

  /* a source that cannot be read: I/O error, not the store's fault */
  fd = open(src, O_WRONLY);
  assert_true(fd >= 0);
  assert_int_equal(hanse_blobstore_put_fd(t.bs, fd, &d, &size, &rej), HANSE_ERR(IO));
  close(fd);
  assert_string_equal(rej.code, "internal.io");
  assert_int_equal(hanse_blobstore_failed(t.bs), 0);

  assert_int_equal(count_temps(&t), 0);
  free(data);
  free(other);
  tb_close(&t);
}

/* ------------------------------------------------------------------ */
/* Corruption                                                          */

static void flip_byte(const char *path, off_t off) {
  int fd = open(path, O_RDWR);
  assert_true(fd >= 0);
  uint8_t b;
  assert_int_equal(pread(fd, &b, 1, off), 1);
  b ^= 0x01;
  assert_int_equal(pwrite(fd, &b, 1, off), 1);
  close(fd);
}

static void test_corrupt_flipped_byte(void **state) {
  (void)state;
  tmpblobs t;
  tb_open(&t);
  hanse_reject rej;
  size_t n = 1024 * 1024;
  uint8_t *data = pattern(n, 5);
  hanse_hash d;
  assert_int_equal(hanse_blobstore_put(t.bs, data, n, &d, &rej), HANSE_OK);
  char p[400];
  blob_path(&t, &d, p, sizeof p);

  flip_byte(p, (off_t)(n / 2));
  assert_get_corrupt_wiped(t.bs, &d, n);
  /* presence is not integrity */
  int found = 0;
  assert_int_equal(hanse_blobstore_exists(t.bs, &d, &found, &rej), HANSE_OK);
  assert_int_equal(found, 1);

  /* putting the document again repairs it */
  hanse_hash d2;
  assert_int_equal(hanse_blobstore_put(t.bs, data, n, &d2, &rej), HANSE_OK);
  assert_true(hanse_hash_eq(&d, &d2));
  assert_get_ok(t.bs, &d, data, n);

  /* and so does a streaming put */
  flip_byte(p, 0);
  assert_get_corrupt(t.bs, &d);
  char src[400];
  snprintf(src, sizeof src, "%s/src", t.root);
  write_file(src, data, n);
  int fd = open(src, O_RDONLY);
  assert_true(fd >= 0);
  assert_int_equal(hanse_blobstore_put_fd(t.bs, fd, &d2, NULL, &rej), HANSE_OK);
  close(fd);
  assert_get_ok(t.bs, &d, data, n);
  assert_int_equal(count_fan_entries(&t, &d), 1);
  assert_int_equal(count_temps(&t), 0);
  free(data);
  tb_close(&t);
}

static void test_corrupt_other_damage(void **state) {
  (void)state;
  tmpblobs t;
  tb_open(&t);
  hanse_reject rej;
  size_t n = 300000;
  uint8_t *data = pattern(n, 6);
  hanse_hash d, e;
  assert_int_equal(hanse_blobstore_put(t.bs, data, n, &d, &rej), HANSE_OK);
  assert_int_equal(hanse_blobstore_put(t.bs, "other", 5, &e, &rej), HANSE_OK);
  char p[400], q[400];
  blob_path(&t, &d, p, sizeof p);
  blob_path(&t, &e, q, sizeof q);

  /* truncated by half, then to nothing */
  assert_int_equal(truncate(p, (off_t)(n / 2)), 0);
  assert_get_corrupt(t.bs, &d);
  assert_int_equal(truncate(p, 0), 0);
  assert_get_corrupt(t.bs, &d);

  /* the right bytes plus one more */
  write_file(p, data, n);
  assert_get_ok(t.bs, &d, data, n);
  int fd = open(p, O_WRONLY | O_APPEND);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "x", 1), 1);
  close(fd);
  assert_get_corrupt(t.bs, &d);

  /* another blob's bytes under this name */
  write_file(p, "other", 5);
  assert_get_corrupt(t.bs, &d);
  assert_get_ok(t.bs, &e, "other", 5);

  /* larger than any blob can be: refused without reading it */
  assert_int_equal(truncate(p, (off_t)HANSE_BLOB_MAX_BYTES + 1), 0);
  assert_get_corrupt(t.bs, &d);

  /* a symbolic link to a good copy is not a blob file */
  char good[400];
  snprintf(good, sizeof good, "%s/good", t.root);
  write_file(good, data, n);
  assert_int_equal(unlink(p), 0);
  assert_int_equal(symlink(good, p), 0);
  assert_get_corrupt(t.bs, &d);
  /* a re-put replaces the link by the blob (the link's target untouched) */
  assert_int_equal(hanse_blobstore_put(t.bs, data, n, &d, &rej), HANSE_OK);
  struct stat sb;
  assert_int_equal(lstat(p, &sb), 0);
  assert_true(S_ISREG(sb.st_mode));
  assert_get_ok(t.bs, &d, data, n);
  /* a directory in its place is not a blob either; a put cannot replace it
   * and fails, but that is no disk failure: the store stays writable */
  assert_int_equal(unlink(p), 0);
  assert_int_equal(mkdir(p, 0700), 0);
  assert_get_corrupt(t.bs, &d);
  assert_int_equal(hanse_blobstore_put(t.bs, data, n, &d, &rej), HANSE_ERR(IO));
  assert_int_equal(hanse_blobstore_failed(t.bs), 0);
  assert_int_equal(rmdir(p), 0);

  /* a re-put after all that stores it whole */
  assert_int_equal(hanse_blobstore_put(t.bs, data, n, &d, &rej), HANSE_OK);
  assert_get_ok(t.bs, &d, data, n);
  assert_int_equal(count_temps(&t), 0);
  free(data);
  tb_close(&t);
}

static void test_not_found(void **state) {
  (void)state;
  tmpblobs t;
  tb_open(&t);
  hanse_reject rej;
  hanse_hash d;
  memset(&d, 0xab, sizeof d);
  hanse_buf out;
  hanse_buf_init(&out);
  hanse_buf_put(&out, "stale", 5);
  assert_int_equal(hanse_blobstore_get(t.bs, &d, &out, &rej), HANSE_ERR(NOT_FOUND));
  assert_string_equal(rej.code, "blob.not_found");
  assert_int_equal(rej.status, 404);
  assert_int_equal(out.len, 0);
  hanse_buf_free(&out);
  int found = 1;
  assert_int_equal(hanse_blobstore_exists(t.bs, &d, &found, &rej), HANSE_OK);
  assert_int_equal(found, 0);
  /* rej may be NULL */
  hanse_buf_init(&out);
  assert_int_equal(hanse_blobstore_get(t.bs, &d, &out, NULL), HANSE_ERR(NOT_FOUND));
  hanse_buf_free(&out);
  tb_close(&t);
}

/* ------------------------------------------------------------------ */
/* Bounds                                                              */

static void test_too_large(void **state) {
  (void)state;
  tmpblobs t;
  tb_open(&t);
  hanse_reject rej;
  hanse_hash d;

  /* a buffer one byte over: refused before anything is written */
  uint8_t *big = calloc(1, HANSE_BLOB_MAX_BYTES + 1);
  assert_non_null(big);
  assert_int_equal(hanse_blobstore_put(t.bs, big, HANSE_BLOB_MAX_BYTES + 1, &d, &rej),
                   HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "blob.too_large");
  assert_int_equal(rej.status, 413);

  /* a stream one byte over: refused, its temporary file removed */
  char src[400];
  snprintf(src, sizeof src, "%s/src", t.root);
  write_file(src, "", 0);
  assert_int_equal(truncate(src, (off_t)HANSE_BLOB_MAX_BYTES + 1), 0); /* zeros */
  int fd = open(src, O_RDONLY);
  assert_true(fd >= 0);
  uint64_t size = 99;
  assert_int_equal(hanse_blobstore_put_fd(t.bs, fd, &d, &size, &rej), HANSE_ERR(INVALID));
  close(fd);
  assert_string_equal(rej.code, "blob.too_large");
  assert_int_equal(rej.status, 413);
  assert_int_equal(size, 0);
  assert_int_equal(count_temps(&t), 0);
  hanse_hash zeros;
  hanse_sha256(&zeros, big, HANSE_BLOB_MAX_BYTES);
  int found = 1;
  assert_int_equal(hanse_blobstore_exists(t.bs, &zeros, &found, &rej), HANSE_OK);
  assert_int_equal(found, 0); /* its first MAX bytes were not stored either */
  assert_int_equal(hanse_blobstore_failed(t.bs), 0);

  /* exactly the bound is a blob */
  assert_int_equal(truncate(src, (off_t)HANSE_BLOB_MAX_BYTES), 0);
  fd = open(src, O_RDONLY);
  assert_true(fd >= 0);
  assert_int_equal(hanse_blobstore_put_fd(t.bs, fd, &d, &size, &rej), HANSE_OK);
  close(fd);
  assert_int_equal(size, HANSE_BLOB_MAX_BYTES);
  assert_true(hanse_hash_eq(&d, &zeros));
  assert_get_ok(t.bs, &d, big, HANSE_BLOB_MAX_BYTES);
  assert_int_equal(count_temps(&t), 0);
  free(big);
  tb_close(&t);
}

/* ------------------------------------------------------------------ */
/* Sticky failure                                                      */

static void test_sticky_after_write_error(void **state) {
  (void)state;
  tmpblobs t;
  tb_open(&t);
  hanse_reject rej;
  hanse_hash good, d;
  assert_int_equal(hanse_blobstore_put(t.bs, "abc", 3, &good, &rej), HANSE_OK);

  /* "Fill the disk": a file size limit makes write() fail with EFBIG
   * (as root too, unlike a chmod). */
  size_t n = 10000;
  uint8_t *data = pattern(n, 8);
  struct rlimit old, lim;
  assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
  lim = old;
  lim.rlim_cur = 4096;
  void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
  int rc = hanse_blobstore_put(t.bs, data, n, &d, &rej);
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
  signal(SIGXFSZ, old_handler);
  assert_int_equal(rc, HANSE_ERR(IO));
  assert_string_equal(rej.code, "internal.io");
  assert_int_equal(hanse_blobstore_failed(t.bs), 1);
  assert_int_equal(count_temps(&t), 0); /* the partial copy was removed */
  int found = 1;
  assert_int_equal(hanse_blobstore_exists(t.bs, &d, &found, &rej), HANSE_OK);
  assert_int_equal(found, 0);

  /* the disk "recovers"; the store still refuses writes, of any blob */
  assert_int_equal(hanse_blobstore_put(t.bs, data, n, &d, &rej),
                   HANSE_ERR(STORE_FAILED));
  assert_string_equal(rej.code, "store.failed");
  assert_int_equal(rej.status, 503);
  int fd = open("/dev/null", O_RDONLY);
  assert_true(fd >= 0);
  assert_int_equal(hanse_blobstore_put_fd(t.bs, fd, &d, NULL, &rej),
                   HANSE_ERR(STORE_FAILED));
  close(fd);
  /* reads keep working */
  assert_get_ok(t.bs, &good, "abc", 3);

  /* reopened, it writes again */
  hanse_blobstore_close(t.bs);
  assert_int_equal(hanse_blobstore_open(t.dir, &t.bs, &rej), HANSE_OK);
  assert_int_equal(hanse_blobstore_failed(t.bs), 0);
  assert_int_equal(hanse_blobstore_put(t.bs, data, n, &d, &rej), HANSE_OK);
  assert_get_ok(t.bs, &d, data, n);
  assert_int_equal(count_temps(&t), 0);
  free(data);
  tb_close(&t);
}

/* ------------------------------------------------------------------ */
/* The blob writer                                                     */

static void test_blob_writer(void **state) {
  (void)state;
  tmpblobs t;
  tb_open(&t);
  hanse_reject rej;
  size_t n = 300 * 1024 + 7;
  uint8_t *data = pattern(n, 11);
  hanse_hash want, d;
  hanse_sha256(&want, data, n);

  /* pieces of odd sizes: the same digest and bytes as one buffer; nothing
   * under the digest's name before commit */
  hanse_blob_writer *w;
  assert_int_equal(hanse_blob_writer_open(t.bs, &w, &rej), HANSE_OK);
  assert_int_equal(hanse_blob_writer_write(w, NULL, 0, &rej), HANSE_OK);
  for (size_t off = 0, step = 1; off < n; off += step, step = step * 3 + 1) {
    if (step > n - off) step = n - off;
    assert_int_equal(hanse_blob_writer_write(w, data + off, step, &rej), HANSE_OK);
  }
  uint64_t size = 0;
  assert_int_equal(hanse_blob_writer_finish(w, &d, &size, &rej), HANSE_OK);
  assert_true(hanse_hash_eq(&d, &want));
  assert_int_equal(size, n);
  int found = 1;
  assert_int_equal(hanse_blobstore_exists(t.bs, &d, &found, &rej), HANSE_OK);
  assert_int_equal(found, 0);
  assert_int_equal(count_temps(&t), 1);
  int created = 0;
  assert_int_equal(hanse_blob_writer_commit(w, &created, &rej), HANSE_OK);
  assert_int_equal(created, 1);
  hanse_blob_writer_close(w);
  assert_get_ok(t.bs, &d, data, n);
  assert_int_equal(count_temps(&t), 0);

  /* the same bytes again: kept as they are, created == 0 */
  assert_int_equal(hanse_blob_writer_open(t.bs, &w, &rej), HANSE_OK);
  assert_int_equal(hanse_blob_writer_write(w, data, n, &rej), HANSE_OK);
  assert_int_equal(hanse_blob_writer_finish(w, &d, NULL, &rej), HANSE_OK);
  created = 1;
  assert_int_equal(hanse_blob_writer_commit(w, &created, &rej), HANSE_OK);
  assert_int_equal(created, 0);
  hanse_blob_writer_close(w);
  assert_int_equal(count_temps(&t), 0);
  assert_int_equal(count_fan_entries(&t, &d), 1);

  /* finished but not committed (a digest the caller did not expect):
   * closing leaves nothing */
  assert_int_equal(hanse_blob_writer_open(t.bs, &w, &rej), HANSE_OK);
  assert_int_equal(hanse_blob_writer_write(w, "other", 5, &rej), HANSE_OK);
  assert_int_equal(hanse_blob_writer_finish(w, &d, &size, &rej), HANSE_OK);
  assert_int_equal(size, 5);
  hanse_blob_writer_close(w);
  assert_int_equal(hanse_blobstore_exists(t.bs, &d, &found, &rej), HANSE_OK);
  assert_int_equal(found, 0);
  assert_int_equal(count_temps(&t), 0);

  /* closed while writing: nothing left either */
  assert_int_equal(hanse_blob_writer_open(t.bs, &w, &rej), HANSE_OK);
  assert_int_equal(hanse_blob_writer_write(w, data, 100, &rej), HANSE_OK);
  hanse_blob_writer_close(w);
  assert_int_equal(count_temps(&t), 0);

  /* past the bound, in pieces: too_large at the piece that crosses it,
   * the temporary file removed, every later call the same answer */
  uint8_t *zeros = calloc(1, 1024 * 1024);
  assert_non_null(zeros);
  assert_int_equal(hanse_blob_writer_open(t.bs, &w, &rej), HANSE_OK);
  for (size_t i = 0; i < HANSE_BLOB_MAX_BYTES / (1024 * 1024); i++)
    assert_int_equal(hanse_blob_writer_write(w, zeros, 1024 * 1024, &rej), HANSE_OK);
  assert_int_equal(hanse_blob_writer_write(w, zeros, 1, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "blob.too_large");
  assert_int_equal(rej.status, 413);
  assert_int_equal(count_temps(&t), 0);
  hanse_reject_clear(&rej);
  assert_int_equal(hanse_blob_writer_write(w, zeros, 1, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "blob.too_large");
  assert_int_equal(hanse_blob_writer_finish(w, &d, NULL, &rej), HANSE_ERR(INVALID));
  assert_string_equal(rej.code, "blob.too_large");
  assert_int_equal(hanse_blob_writer_commit(w, NULL, &rej), HANSE_ERR(INVALID));
  hanse_blob_writer_close(w);
  assert_int_equal(hanse_blobstore_failed(t.bs), 0);
  free(zeros);

  /* a store that failed while a writer was open refuses its commit */
  assert_int_equal(hanse_blob_writer_open(t.bs, &w, &rej), HANSE_OK);
  assert_int_equal(hanse_blob_writer_write(w, "late", 4, &rej), HANSE_OK);
  assert_int_equal(hanse_blob_writer_finish(w, &d, NULL, &rej), HANSE_OK);
  struct rlimit old, lim;
  assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
  lim = old;
  lim.rlim_cur = 4096;
  void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
  hanse_hash d2;
  uint8_t *fresh = pattern(n, 12); /* not stored yet: the put must write */
  int rc = hanse_blobstore_put(t.bs, fresh, n, &d2, &rej);
  free(fresh);
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
  signal(SIGXFSZ, old_handler);
  assert_int_equal(rc, HANSE_ERR(IO));
  assert_int_equal(hanse_blob_writer_commit(w, NULL, &rej), HANSE_ERR(STORE_FAILED));
  hanse_blob_writer_close(w);
  assert_int_equal(hanse_blobstore_exists(t.bs, &d, &found, &rej), HANSE_OK);
  assert_int_equal(found, 0);
  assert_int_equal(count_temps(&t), 0);
  assert_int_equal(hanse_blob_writer_open(t.bs, &w, &rej), HANSE_ERR(STORE_FAILED));
  assert_null(w);
  free(data);
  tb_close(&t);
}

/* ------------------------------------------------------------------ */
/* Concurrency                                                         */

#define WRITERS 8
#define READERS 4
#define SAME_BYTES (1024 * 1024 + 3)

typedef struct shared {
  hanse_blobstore *bs;
  pthread_barrier_t start;
  const uint8_t *data; /* the same content for every writer */
  const char *src;     /* a file holding it, for streaming writers */
  hanse_hash want;
  volatile int writers_done;
  pthread_mutex_t mu;
} shared;

typedef struct worker {
  shared *s;
  int index;
  int rc;            /* writer: put's result */
  hanse_hash digest; /* writer: put's digest */
  int distinct_rc;   /* writer: put of its own content */
  int ok_reads, missing_reads, bad_reads; /* reader */
} worker;

static void *writer(void *arg) {
  worker *w = arg;
  shared *s = w->s;
  hanse_reject rej;
  pthread_barrier_wait(&s->start);
  if (w->index % 2 == 0) {
    w->rc = hanse_blobstore_put(s->bs, s->data, SAME_BYTES, &w->digest, &rej);
  } else {
    int fd = open(s->src, O_RDONLY);
    w->rc = fd < 0 ? -1000
                   : hanse_blobstore_put_fd(s->bs, fd, &w->digest, NULL, &rej);
    if (fd >= 0) close(fd);
  }
  /* and something of its own, at the same time as the others */
  char own[64];
  int n = snprintf(own, sizeof own, "writer %d's own document", w->index);
  hanse_hash d;
  w->distinct_rc = hanse_blobstore_put(s->bs, own, (size_t)n, &d, &rej);
  pthread_mutex_lock(&s->mu);
  s->writers_done++;
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

/* Reads the shared blob until every writer is done: each read is either
 * "not there yet" or the whole, right content. */
static void *reader(void *arg) {
  worker *w = arg;
  shared *s = w->s;
  hanse_buf out;
  hanse_buf_init(&out);
  pthread_barrier_wait(&s->start);
  for (;;) {
    pthread_mutex_lock(&s->mu);
    int done = s->writers_done == WRITERS;
    pthread_mutex_unlock(&s->mu);
    hanse_reject rej;
    int rc = hanse_blobstore_get(s->bs, &s->want, &out, &rej);
    if (rc == HANSE_OK && out.len == SAME_BYTES &&
        memcmp(out.data, s->data, SAME_BYTES) == 0)
      w->ok_reads++;
    else if (rc == HANSE_ERR(NOT_FOUND) && out.len == 0)
      w->missing_reads++;
    else
      w->bad_reads++;
    if (done) break;
  }
  hanse_buf_free(&out);
  return NULL;
}

static void test_concurrent_puts_and_reads(void **state) {
  (void)state;
  tmpblobs t;
  tb_open(&t);
  uint8_t *data = pattern(SAME_BYTES, 7);
  char src[400];
  snprintf(src, sizeof src, "%s/src", t.root);
  write_file(src, data, SAME_BYTES);

  for (int round = 0; round < 3; round++) {
    shared s;
    memset(&s, 0, sizeof s);
    s.bs = t.bs;
    s.data = data;
    s.src = src;
    hanse_sha256(&s.want, data, SAME_BYTES);
    pthread_mutex_init(&s.mu, NULL);
    pthread_barrier_init(&s.start, NULL, WRITERS + READERS);
    worker w[WRITERS + READERS];
    pthread_t th[WRITERS + READERS];
    memset(w, 0, sizeof w);
    for (int i = 0; i < WRITERS + READERS; i++) {
      w[i].s = &s;
      w[i].index = i;
      assert_int_equal(
          pthread_create(&th[i], NULL, i < WRITERS ? writer : reader, &w[i]), 0);
    }
    for (int i = 0; i < WRITERS + READERS; i++) pthread_join(th[i], NULL);
    pthread_barrier_destroy(&s.start);
    pthread_mutex_destroy(&s.mu);

    for (int i = 0; i < WRITERS; i++) {
      assert_int_equal(w[i].rc, HANSE_OK);
      assert_true(hanse_hash_eq(&w[i].digest, &s.want));
      assert_int_equal(w[i].distinct_rc, HANSE_OK);
    }
    for (int i = WRITERS; i < WRITERS + READERS; i++) {
      assert_int_equal(w[i].bad_reads, 0);
      assert_true(w[i].ok_reads >= 1); /* the last read follows all puts */
    }
    /* one file under the digest, no temporary file anywhere */
    assert_int_equal(count_temps(&t), 0);
    char hex[HANSE_HASH_HEX_BYTES], p[400];
    hanse_hash_hex(hex, &s.want);
    snprintf(p, sizeof p, "%s/%.2s", t.dir, hex);
    DIR *dir = opendir(p);
    assert_non_null(dir);
    int named = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL)
      if (strcmp(e->d_name, hex) == 0) named++;
    closedir(dir);
    assert_int_equal(named, 1);
    assert_get_ok(t.bs, &s.want, data, SAME_BYTES);
    for (int i = 0; i < WRITERS; i++) {
      char own[64];
      int n = snprintf(own, sizeof own, "writer %d's own document", i);
      hanse_hash d;
      hanse_sha256(&d, own, (size_t)n);
      assert_get_ok(t.bs, &d, own, (size_t)n);
    }
    /* start the next round from an empty store, so writers race again */
    hanse_blobstore_close(t.bs);
    t.bs = NULL;
    fx_rmrf(t.dir);
    hanse_reject rej;
    assert_int_equal(hanse_blobstore_open(t.dir, &t.bs, &rej), HANSE_OK);
  }
  free(data);
  tb_close(&t);
}

int main(void) {
  if (sodium_init() < 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_open),
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_idempotent_put),
      cmocka_unit_test(test_stream_equals_buffer),
      cmocka_unit_test(test_corrupt_flipped_byte),
      cmocka_unit_test(test_corrupt_other_damage),
      cmocka_unit_test(test_not_found),
      cmocka_unit_test(test_too_large),
      cmocka_unit_test(test_sticky_after_write_error),
      cmocka_unit_test(test_blob_writer),
      cmocka_unit_test(test_concurrent_puts_and_reads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
