/*
 * fs.h -- file-system helpers shared by the layers above.
 */
#ifndef HANSE_FS_H
#define HANSE_FS_H

/* Create `path` and its missing parents with `mode` (like `mkdir -p`).
 * Existing directories are fine. Returns 0, or -1 with errno set
 * (ENAMETOOLONG for a path of 4096 bytes or more). */
int hanse_mkdir_p(const char *path, unsigned mode);

#endif
