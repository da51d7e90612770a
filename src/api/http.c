/*
 * http.c -- libmicrohttpd glue: request bodies, routing, responses.
 *
 * One thread per connection (MHD_USE_THREAD_PER_CONNECTION): a submission
 * that waits for its commit blocks only its own connection. Bodies are
 * collected up to HANSE_HTTP_BODY_MAX; a larger Content-Length, or a body
 * that grows past the bound, is answered 413 at once and the connection
 * closed, so an oversized upload is never buffered.
 *
 * Routes (docs/API.md):
 *   GET  /                       explorer (and /app.js, /style.css, ...)
 *   GET  /metrics                Prometheus text
 *   GET  /v1/health | /v1/status
 *   *    /v1/chains/{chain}/{txs|blocks|status|search|query|accounts|history}[/...]
 *   GET|PUT /v1/chains/{chain}/blobs/{sha256}   a PUT's body is streamed to
 *                                the blob store (res_blobs.c), not collected
 *   GET  /p/{digital link}/qr.svg | qr.png   a product link's QR code (res_qr.c)
 *
 * Responses are Cache-Control: no-store unless the resource set its own.
 */
#include "api/http.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "base/hex.h"
#include "base/log.h"
#include "base/pool.h"

struct hanse_api {
  struct MHD_Daemon *daemon;
  hanse_node *node;
  hanse_httpsig_replay *replay; /* signatures seen (auth.c) */
};

static enum MHD_Result queue(hanse_req *rq, int status, struct MHD_Response *resp) {
  if (resp == NULL) return MHD_NO;
  if (MHD_get_response_header(resp, "Cache-Control") == NULL)
    MHD_add_response_header(resp, "Cache-Control", "no-store");
  MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
  if (rq->any_origin) MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
  enum MHD_Result r = MHD_queue_response(rq->conn, (unsigned)status, resp);
  MHD_destroy_response(resp);
  rq->responded = 1;
  hanse_metrics_http(&rq->node->metrics, status);
  return r;
}

enum MHD_Result api_bytes(hanse_req *rq, int status, const char *content_type,
                          const void *data, size_t len, int copy) {
  struct MHD_Response *resp = MHD_create_response_from_buffer(
      len, (void *)data, copy ? MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_PERSISTENT);
  if (resp == NULL) return MHD_NO;
  MHD_add_response_header(resp, "Content-Type", content_type);
  return queue(rq, status, resp);
}

enum MHD_Result api_bytes_take(hanse_req *rq, int status, const char *content_type,
                               void *data, size_t len) {
  struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback(len, data, free);
  if (resp == NULL) {
    free(data);
    return MHD_NO;
  }
  MHD_add_response_header(resp, "Content-Type", content_type);
  return queue(rq, status, resp);
}

enum MHD_Result api_json(hanse_req *rq, int status, json_t *j) {
  char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
  json_decref(j);
  if (text == NULL) {
    static const char oom[] =
        "{\"error\":{\"code\":\"internal.nomem\",\"message\":\"out of memory\"}}";
    return api_bytes(rq, 500, "application/json", oom, sizeof oom - 1, 0);
  }
  size_t n = strlen(text);
  struct MHD_Response *resp =
      MHD_create_response_from_buffer_with_free_callback(n, text, free);
  if (resp == NULL) {
    free(text);
    return MHD_NO;
  }
  MHD_add_response_header(resp, "Content-Type", "application/json");
  return queue(rq, status, resp);
}

__attribute__((format(printf, 4, 0)))
static enum MHD_Result api_verror(hanse_req *rq, int status, const char *code,
                                  const char *fmt, va_list ap) {
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  return api_json(rq, status, json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg));
}

enum MHD_Result api_error(hanse_req *rq, int status, const char *code,
                          const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  enum MHD_Result r = api_verror(rq, status, code, fmt, ap);
  va_end(ap);
  return r;
}

enum MHD_Result api_error_rc(hanse_req *rq, int rc, const char *fmt, ...) {
  if (fmt == NULL)
    return api_error(rq, hanse_err_status(rc), hanse_err_code(rc), "%s", hanse_err_message(rc));
  va_list ap;
  va_start(ap, fmt);
  enum MHD_Result r = api_verror(rq, hanse_err_status(rc), hanse_err_code(rc), fmt, ap);
  va_end(ap);
  return r;
}

enum MHD_Result api_reject(hanse_req *rq, const hanse_reject *rej) {
  int status = rej->status >= 400 && rej->status < 600 ? rej->status : 400;
  return api_error(rq, status, rej->code, "%s", rej->message);
}

enum MHD_Result api_respond(hanse_req *rq, int status, struct MHD_Response *resp) {
  return queue(rq, status, resp);
}

enum MHD_Result api_method_not_allowed(hanse_req *rq, const char *allow) {
  char msg[128];
  snprintf(msg, sizeof msg, "%s is not allowed here (allowed: %s)", rq->method, allow);
  json_t *j = json_pack("{s:{s:s, s:s}}", "error", "code", "http.method_not_allowed",
                        "message", msg);
  char *text = json_dumps(j, JSON_COMPACT);
  json_decref(j);
  if (text == NULL) return MHD_NO;
  struct MHD_Response *resp =
      MHD_create_response_from_buffer_with_free_callback(strlen(text), text, free);
  if (resp == NULL) {
    free(text);
    return MHD_NO;
  }
  MHD_add_response_header(resp, "Content-Type", "application/json");
  MHD_add_response_header(resp, "Allow", allow);
  return queue(rq, 405, resp);
}

const char *api_param(hanse_req *rq, const char *name) {
  return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

int api_param_u64(hanse_req *rq, const char *name, uint64_t *out) {
  const char *v = api_param(rq, name);
  if (v == NULL) return 0;
  if (*v < '0' || *v > '9' || strlen(v) > 19) return -1;
  char *end;
  unsigned long long x = strtoull(v, &end, 10);
  if (*end != 0) return -1;
  *out = x;
  return 1;
}

static enum MHD_Result params_iter(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value) {
  (void)kind;
  if (key && value && json_object_size(cls) < 32) json_object_set_new(cls, key, json_string(value));
  return MHD_YES;
}

json_t *api_params_json(hanse_req *rq) {
  json_t *o = json_object();
  MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, params_iter, o);
  return o;
}

json_t *api_hex(const void *p, size_t n) {
  char *h = malloc(2 * n + 1);
  if (h == NULL) return NULL;
  hanse_hex_encode(h, p, n);
  json_t *j = json_stringn_nocheck(h, 2 * n);
  free(h);
  return j;
}

/* Split "/v1/chains/{chain}/{res}{rest}". */
static enum MHD_Result route_chain(hanse_req *rq, const char *p) {
  const char *slash = strchr(p, '/');
  size_t clen = slash ? (size_t)(slash - p) : strlen(p);
  hanse_node_chain *nc = hanse_node_find_chain(rq->node, p, clen);
  if (nc == NULL)
    return api_error(rq, 404, "chain.unknown", "this node serves no chain '%.*s'",
                     (int)(clen > 64 ? 64 : clen), p);
  if (slash == NULL || slash[1] == 0)
    return res_chain_status(rq, nc);
  const char *res = slash + 1;
  const char *rs = strchr(res, '/');
  size_t rlen = rs ? (size_t)(rs - res) : strlen(res);
  const char *rest = rs ? rs : "";
#define IS(name) (rlen == sizeof(name) - 1 && memcmp(res, name, rlen) == 0)
  if (IS("txs")) return res_txs(rq, nc, rest);
  if (IS("blocks")) return res_blocks(rq, nc, rest);
  if (IS("status")) {
    if (*rest) goto notfound;
    if (strcmp(rq->method, "GET") != 0) return api_method_not_allowed(rq, "GET");
    return res_chain_status(rq, nc);
  }
  if (IS("search")) {
    if (*rest) goto notfound;
    if (strcmp(rq->method, "GET") != 0) return api_method_not_allowed(rq, "GET");
    return res_search(rq, nc);
  }
  if (IS("query")) return res_query(rq, nc, rest);
  if (IS("blobs")) return res_blobs(rq, nc, rest);
  if (IS("history")) return res_history(rq, nc, rest);
  if (IS("epcis")) return res_epcis(rq, nc, rest);
  if (IS("products")) return res_products(rq, nc, rest);
  if (IS("certs")) return res_certs(rq, nc, rest);
  if (IS("accounts")) return res_accounts(rq, nc, rest);
  if (IS("genesis")) {
    if (*rest) goto notfound;
    if (strcmp(rq->method, "GET") != 0) return api_method_not_allowed(rq, "GET");
    return res_genesis(rq, nc);
  }
#undef IS
notfound:
  return api_error(rq, 404, "http.not_found", "no route %s %s", rq->method, rq->url);
}

static enum MHD_Result route(hanse_req *rq) {
  const char *u = rq->url;
  if (strncmp(u, "/v1/chains/", 11) == 0) return route_chain(rq, u + 11);
  int get = strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0;
  if (strcmp(u, "/v1/health") == 0)
    return get ? res_health(rq) : api_method_not_allowed(rq, "GET");
  if (strcmp(u, "/v1/status") == 0)
    return get ? res_node_status(rq) : api_method_not_allowed(rq, "GET");
  if (strcmp(u, "/metrics") == 0)
    return get ? res_metrics(rq) : api_method_not_allowed(rq, "GET");
  /* /p/{digital link}/qr.svg|qr.png; every other /p/ path is the
   * consumer page, which res_web serves. */
  if (api_qr_path(u)) return get ? res_qr(rq) : api_method_not_allowed(rq, "GET");
  if (strncmp(u, "/v1/", 4) != 0 && strcmp(u, "/v1") != 0) {
    if (!get) return api_method_not_allowed(rq, "GET");
    return res_web(rq, u);
  }
  return api_error(rq, 404, "http.not_found", "no route %s %.200s", rq->method, u);
}

/* MHD's first sight of a request: the target exactly as sent (path and
 * query undecoded), which signatures cover (auth.c). What this returns
 * becomes the request's *con_cls. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn) {
  hanse_api *api = cls;
  hanse_req *rq = calloc(1, sizeof *rq);
  if (rq == NULL) return NULL;
  rq->uri = strdup(uri ? uri : "");
  if (rq->uri == NULL) {
    free(rq);
    return NULL;
  }
  rq->conn = conn;
  rq->node = api->node;
  rq->replay = api->replay;
  hanse_buf_init(&rq->body);
  return rq;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version,
                               const char *upload_data, size_t *upload_size,
                               void **con_cls) {
  (void)version;
  (void)cls;
  (void)conn;
  hanse_req *rq = *con_cls;
  hanse_thread_lower_priority(); /* connection threads do admission work */
  if (rq == NULL) return MHD_NO; /* on_uri could not allocate: close */
  if (!rq->started) {
    rq->started = 1;
    rq->method = method;
    rq->url = url;
    enum MHD_Result br;
    if (api_blob_upload_begin(rq, &br)) return br; /* PUT .../blobs/{sha256}: streamed */
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    if (cl && strtoull(cl, NULL, 10) > HANSE_HTTP_BODY_MAX) {
      rq->too_large = 1;
      return api_error(rq, 413, "http.body_too_large", "request body exceeds %d bytes",
                       HANSE_HTTP_BODY_MAX);
    }
    return MHD_YES;
  }
  if (rq->responded) {
    *upload_size = 0; /* discard the rest; MHD closes the connection */
    return MHD_YES;
  }
  if (*upload_size > 0 && rq->upload != NULL) { /* a blob's body goes to disk */
    enum MHD_Result br = api_blob_upload_piece(rq, upload_data, *upload_size);
    *upload_size = 0;
    return br;
  }
  if (*upload_size > 0) {
    if (rq->body.len + *upload_size > HANSE_HTTP_BODY_MAX) {
      *upload_size = 0;
      rq->too_large = 1;
      return api_error(rq, 413, "http.body_too_large", "request body exceeds %d bytes",
                       HANSE_HTTP_BODY_MAX);
    }
    hanse_buf_put(&rq->body, upload_data, *upload_size);
    *upload_size = 0;
    if (hanse_buf_status(&rq->body) != HANSE_OK)
      return api_error(rq, 503, "internal.nomem", "out of memory for the request body");
    return MHD_YES;
  }
  rq->content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
  return route(rq);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe) {
  (void)cls;
  (void)conn;
  (void)toe;
  hanse_req *rq = *con_cls;
  if (rq == NULL) return;
  hanse_buf_free(&rq->body);
  api_blob_upload_free(rq);
  free(rq->uri);
  free(rq);
  *con_cls = NULL;
}

__attribute__((format(printf, 2, 0)))
static void mhd_log(void *cls, const char *fmt, va_list ap) {
  (void)cls;
  char line[512];
  vsnprintf(line, sizeof line, fmt, ap);
  size_t n = strlen(line);
  while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
  HANSE_DEBUG("http: %s", line);
}

int hanse_api_start(hanse_node *node, const char *host, int port,
                    hanse_api **out, int *bound_port, hanse_reject *rej) {
  *out = NULL;
  hanse_api *api = calloc(1, sizeof *api);
  if (api == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  api->node = node;
  if (hanse_httpsig_replay_create(HANSE_AUTH_REPLAY_SLOTS, HANSE_AUTH_MAX_AGE_S + HANSE_AUTH_MAX_SKEW_S,
                                  &api->replay) != HANSE_OK) {
    free(api);
    return hanse_reject_set(rej, HANSE_ERR(NOMEM), "cannot allocate the replay cache");
  }
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
    hanse_httpsig_replay_destroy(api->replay);
    free(api);
    return hanse_reject_set(rej, HANSE_ERR(INVALID), "host '%s' is not an IPv4 address", host);
  }
  api->daemon = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG,
      (uint16_t)port, NULL, NULL, handler, api,
      MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
      MHD_OPTION_NOTIFY_COMPLETED, completed, api,
      MHD_OPTION_URI_LOG_CALLBACK, on_uri, api,
      MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
      MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
      MHD_OPTION_END);
  if (api->daemon == NULL) {
    hanse_httpsig_replay_destroy(api->replay);
    free(api);
    return hanse_reject_set(rej, HANSE_ERR(IO), "cannot listen on %s:%d (port in use?)", host, port);
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(api->daemon, MHD_DAEMON_INFO_BIND_PORT);
  *bound_port = info ? info->port : port;
  *out = api;
  return HANSE_OK;
}

void hanse_api_stop(hanse_api *api) {
  if (api == NULL) return;
  MHD_stop_daemon(api->daemon);
  hanse_httpsig_replay_destroy(api->replay);
  free(api);
}
