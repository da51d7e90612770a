/*
 * fs.c -- file-system helpers: see fs.h.
 */
#include "base/fs.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

int hanse_mkdir_p(const char *path, unsigned mode) {
  char tmp[4096];
  int n = snprintf(tmp, sizeof tmp, "%s", path);
  if (n < 0 || (size_t)n >= sizeof tmp) {
    errno = ENAMETOOLONG;
    return -1;
  }
  for (char *p = tmp + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(tmp, (mode_t)mode) != 0 && errno != EEXIST) return -1;
    *p = '/';
  }
  if (mkdir(tmp, (mode_t)mode) != 0 && errno != EEXIST) return -1;
  return 0;
}
