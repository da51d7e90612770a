/*
 * http.h -- the node's HTTP server (libmicrohttpd): routing, bodies,
 * JSON responses and errors. The resources live one per file (res_*.c).
 */
#ifndef HANSE_HTTP_H
#define HANSE_HTTP_H

#include "base/err.h"

struct hanse_node;
typedef struct hanse_api hanse_api;

/* Start serving on host:port (port 0: a free port; *bound_port receives
 * the port). */
int hanse_api_start(struct hanse_node *node, const char *host, int port,
                    hanse_api **out, int *bound_port, hanse_reject *rej);
/* Stop accepting, finish requests in flight, free. NULL is a no-op. */
void hanse_api_stop(hanse_api *api);

/* A node's public URL (hanse_node_config.public_url, the base of its
 * product links): http:// or https://, a host, an optional path, no query
 * or fragment, at most HANSE_PUBLIC_URL_MAX bytes. HANSE_OK, or a
 * "node.bad_public_url" rejection. */
int hanse_api_public_url_check(const char *url, hanse_reject *rej);

#endif
