/*
 * fault_vfs.c -- the fault-injecting VFS of the unit tests (see
 * fault_vfs.h).
 *
 * Each file opened through it is a fault_file: SQLite allocates szOsFile
 * bytes, this struct followed by the real VFS's file, and every method
 * forwards to the real one except write, truncate and sync, which first
 * ask fault_now whether to fail. Only the VFS object itself is registered
 * with SQLite (sqlite3_vfs_register); the flags are atomics, read on
 * whichever thread SQLite calls from.
 */
#include "fault_vfs.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>

static atomic_int armed;      /* FX_FAULT_* bits */
static atomic_int hits;       /* calls failed since arming */
static fx_fault_hook_fn hook; /* set before `armed`, read after it */
static void *hook_ctx;

/* 1 if a call of kind `what` must fail now (counted, hook called). */
static int fault_now(int what) {
  if ((atomic_load(&armed) & what) == 0) return 0;
  atomic_fetch_add(&hits, 1);
  if (hook) hook(hook_ctx);
  return 1;
}

typedef struct fault_file {
  sqlite3_file base;
  sqlite3_file *real; /* follows this struct in the same allocation */
} fault_file;

static sqlite3_vfs fault_vfs;
static sqlite3_vfs *real_vfs;

#define REAL(f) (((fault_file *)(f))->real)

static int f_close(sqlite3_file *f) { return REAL(f)->pMethods->xClose(REAL(f)); }
static int f_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off) {
  return REAL(f)->pMethods->xRead(REAL(f), p, n, off);
}
static int f_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off) {
  if (fault_now(FX_FAULT_WRITE)) return SQLITE_IOERR_WRITE;
  return REAL(f)->pMethods->xWrite(REAL(f), p, n, off);
}
static int f_truncate(sqlite3_file *f, sqlite3_int64 size) {
  if (fault_now(FX_FAULT_WRITE)) return SQLITE_IOERR_TRUNCATE;
  return REAL(f)->pMethods->xTruncate(REAL(f), size);
}
static int f_sync(sqlite3_file *f, int flags) {
  if (fault_now(FX_FAULT_SYNC)) return SQLITE_IOERR_FSYNC;
  return REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int f_size(sqlite3_file *f, sqlite3_int64 *size) {
  return REAL(f)->pMethods->xFileSize(REAL(f), size);
}
static int f_lock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xLock(REAL(f), l); }
static int f_unlock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xUnlock(REAL(f), l); }
static int f_check(sqlite3_file *f, int *out) {
  return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}
static int f_fcntl(sqlite3_file *f, int op, void *arg) {
  return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}
static int f_sector(sqlite3_file *f) { return REAL(f)->pMethods->xSectorSize(REAL(f)); }
static int f_devchar(sqlite3_file *f) {
  return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int f_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp) {
  return REAL(f)->pMethods->xShmMap(REAL(f), pg, pgsz, extend, pp);
}
static int f_shm_lock(sqlite3_file *f, int off, int n, int flags) {
  return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}
static void f_shm_barrier(sqlite3_file *f) { REAL(f)->pMethods->xShmBarrier(REAL(f)); }
static int f_shm_unmap(sqlite3_file *f, int del) {
  return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}
static int f_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp) {
  return REAL(f)->pMethods->xFetch(REAL(f), off, n, pp);
}
static int f_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p) {
  return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

static const sqlite3_io_methods fault_io = {
    3,       f_close,  f_read,   f_write,   f_truncate,    f_sync,
    f_size,  f_lock,   f_unlock, f_check,   f_fcntl,       f_sector,
    f_devchar, f_shm_map, f_shm_lock, f_shm_barrier, f_shm_unmap, f_fetch,
    f_unfetch,
};

static int v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
                  int *out_flags) {
  (void)vfs;
  fault_file *ff = (fault_file *)file;
  ff->real = (sqlite3_file *)(ff + 1);
  int rc = real_vfs->xOpen(real_vfs, name, ff->real, flags, out_flags);
  /* pMethods stays NULL on failure so SQLite does not call xClose */
  ff->base.pMethods = rc == SQLITE_OK ? &fault_io : NULL;
  return rc;
}
static int v_delete(sqlite3_vfs *v, const char *name, int sync) {
  (void)v;
  return real_vfs->xDelete(real_vfs, name, sync);
}
static int v_access(sqlite3_vfs *v, const char *name, int flags, int *out) {
  (void)v;
  return real_vfs->xAccess(real_vfs, name, flags, out);
}
static int v_fullpath(sqlite3_vfs *v, const char *name, int n, char *out) {
  (void)v;
  return real_vfs->xFullPathname(real_vfs, name, n, out);
}
static void *v_dlopen(sqlite3_vfs *v, const char *name) {
  (void)v;
  return real_vfs->xDlOpen(real_vfs, name);
}
static void v_dlerror(sqlite3_vfs *v, int n, char *msg) {
  (void)v;
  real_vfs->xDlError(real_vfs, n, msg);
}
static void (*v_dlsym(sqlite3_vfs *v, void *h, const char *sym))(void) {
  (void)v;
  return real_vfs->xDlSym(real_vfs, h, sym);
}
static void v_dlclose(sqlite3_vfs *v, void *h) {
  (void)v;
  real_vfs->xDlClose(real_vfs, h);
}
static int v_random(sqlite3_vfs *v, int n, char *out) {
  (void)v;
  return real_vfs->xRandomness(real_vfs, n, out);
}
static int v_sleep(sqlite3_vfs *v, int us) {
  (void)v;
  return real_vfs->xSleep(real_vfs, us);
}
static int v_time(sqlite3_vfs *v, double *out) {
  (void)v;
  return real_vfs->xCurrentTime(real_vfs, out);
}
static int v_lasterr(sqlite3_vfs *v, int n, char *out) {
  (void)v;
  return real_vfs->xGetLastError(real_vfs, n, out);
}
static int v_time64(sqlite3_vfs *v, sqlite3_int64 *out) {
  (void)v;
  return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

void fx_fault_register(void) {
  if (real_vfs != NULL) return;
  real_vfs = sqlite3_vfs_find(NULL);
  assert_non_null(real_vfs);
  assert_true(real_vfs->iVersion >= 2);
  fault_vfs.iVersion = 2;
  fault_vfs.szOsFile = (int)sizeof(fault_file) + real_vfs->szOsFile;
  fault_vfs.mxPathname = real_vfs->mxPathname;
  fault_vfs.zName = FX_FAULT_VFS;
  fault_vfs.xOpen = v_open;
  fault_vfs.xDelete = v_delete;
  fault_vfs.xAccess = v_access;
  fault_vfs.xFullPathname = v_fullpath;
  fault_vfs.xDlOpen = v_dlopen;
  fault_vfs.xDlError = v_dlerror;
  fault_vfs.xDlSym = v_dlsym;
  fault_vfs.xDlClose = v_dlclose;
  fault_vfs.xRandomness = v_random;
  fault_vfs.xSleep = v_sleep;
  fault_vfs.xCurrentTime = v_time;
  fault_vfs.xGetLastError = v_lasterr;
  fault_vfs.xCurrentTimeInt64 = v_time64;
  assert_int_equal(sqlite3_vfs_register(&fault_vfs, 0), SQLITE_OK);
}

void fx_fault_arm(int what, fx_fault_hook_fn fn, void *ctx) {
  atomic_store(&armed, 0);
  hook = fn;
  hook_ctx = ctx;
  atomic_store(&hits, 0);
  atomic_store(&armed, what); /* publishes hook and ctx */
}

void fx_fault_clear(void) { atomic_store(&armed, 0); }

int fx_faults_hit(void) { return atomic_load(&hits); }
