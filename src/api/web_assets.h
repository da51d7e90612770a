/*
 * web_assets.h -- the explorer's files, compiled in (build/web_assets.c is
 * generated from web/ by cmake/embed_web.cmake).
 */
#ifndef HANSE_WEB_ASSETS_H
#define HANSE_WEB_ASSETS_H

#include <stddef.h>

typedef struct hanse_web_asset {
  const char *path;          /* "/index.html" */
  const char *content_type;
  const unsigned char *data;
  size_t len;
} hanse_web_asset;

/* Terminated by an entry with path == NULL. */
extern const hanse_web_asset hanse_web_assets[];

#endif
