/*
 * fault_vfs.h -- a fault-injecting SQLite VFS for the unit tests.
 *
 * It wraps the default VFS under the name FX_FAULT_VFS (pass it to
 * hanse_store_open or hanse_chain_open) and, while armed, fails every
 * xWrite/xTruncate (FX_FAULT_WRITE) or xSync (FX_FAULT_SYNC) of a file
 * opened through it with SQLITE_IOERR_*: a disk that fails from some point
 * on. Connections opened without it (a chain's readers) are untouched.
 *
 * Arming and clearing may happen on one thread while the store works on
 * another (the sequencer's committer): the flags are atomic, and the hook
 * given to fx_fault_arm runs on the failing thread, inside SQLite's call,
 * just before each injected error -- a test may wait there to hold a
 * commit at the moment it fails.
 */
#ifndef HANSE_TEST_FAULT_VFS_H
#define HANSE_TEST_FAULT_VFS_H

#define FX_FAULT_VFS "hanse_fault"

enum { FX_FAULT_WRITE = 1, FX_FAULT_SYNC = 2 };

/* Called before each injected error, with the ctx given to fx_fault_arm. */
typedef void (*fx_fault_hook_fn)(void *ctx);

/* Register FX_FAULT_VFS (once; later calls do nothing). Not the default. */
void fx_fault_register(void);
/* Fail the calls named by `what` (FX_FAULT_WRITE | FX_FAULT_SYNC) from now
 * on, calling hook(ctx) first when hook is not NULL; resets the count of
 * failed calls. */
void fx_fault_arm(int what, fx_fault_hook_fn hook, void *ctx);
/* The disk works again. */
void fx_fault_clear(void);
/* Calls failed since the last fx_fault_arm. */
int fx_faults_hit(void);

#endif
