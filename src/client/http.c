/*
 * http.c -- the client's transport: one libcurl easy handle per client,
 * one function that sends a request and turns the answer into either a
 * JSON document or a hanse_reject.
 *
 * Every answer of the API is JSON, errors included
 * ({"error":{"code","message"}}), so a request has exactly three outcomes:
 *
 *   2xx with a JSON body    HANSE_OK and the document
 *   4xx/5xx with an error   the node's code and message, its HTTP status,
 *                           and a return code mapped from the code
 *   anything else           a "client.*" failure, HANSE_ERR(IO), status 0
 *
 * The easy handle is reset before each request (curl_easy_reset keeps the
 * open connection and its caches), so no option leaks from one request to
 * the next. The answer is collected in a hanse_buf bounded by
 * CLIENT_RESPONSE_MAX; the write callback refuses more, which aborts the
 * transfer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <time.h>

#include "base/log.h"
#include "client/client_internal.h"
#include "crypto/httpsig.h"

int client_fail(hanse_reject *rej, int rc, const char *code, const char *fmt,
                ...) {
  va_list ap;
  va_start(ap, fmt);
  hanse_reject_vfill(rej, rc, code, 0, fmt, ap);
  va_end(ap);
  return rc;
}

static size_t on_data(char *p, size_t size, size_t n, void *ctx) {
  hanse_buf *b = ctx;
  size_t len = size * n;
  if (len > CLIENT_RESPONSE_MAX - b->len) return 0; /* aborts the transfer */
  hanse_buf_put(b, p, len);
  return hanse_buf_status(b) == HANSE_OK ? len : 0;
}

/* The node's code string back to a return code: a core code maps to its
 * enum; a module's code ("asset.unknown") by HTTP status class. */
static int rc_of_code(const char *code, long status) {
  for (int i = 1; i < HANSE_E_COUNT; i++)
    if (strcmp(hanse_err_code(-i), code) == 0) return -i;
  if (status == 404) return HANSE_ERR(NOT_FOUND);
  if (status >= 500) return HANSE_ERR(INTERNAL);
  return HANSE_ERR(INVALID);
}

static int transport_failure(hanse_client *c, CURLcode cc, const char *url,
                             hanse_reject *rej) {
  const char *detail = c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc);
  switch (cc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return client_fail(rej, HANSE_ERR(IO), "client.unreachable",
                         "cannot reach the node at %s: %s", c->base, detail);
    case CURLE_OPERATION_TIMEDOUT:
      return client_fail(rej, HANSE_ERR(IO), "client.timeout",
                         "no answer from %s in time: %s", url, detail);
    case CURLE_WRITE_ERROR:
      return client_fail(rej, HANSE_ERR(IO), "client.bad_response",
                         "the answer from %s exceeds %zu bytes", url,
                         (size_t)CLIENT_RESPONSE_MAX);
    default:
      return client_fail(rej, HANSE_ERR(IO), "client.transport",
                         "request to %s failed: %s", url, detail);
  }
}

/* A 4xx/5xx: the API's error body if there is one. */
static int http_failure(json_t *doc, long status, const char *url,
                        hanse_reject *rej) {
  json_t *err = json_object_get(doc, "error");
  const char *code = json_string_value(json_object_get(err, "code"));
  const char *msg = json_string_value(json_object_get(err, "message"));
  if (code == NULL) {
    int rc = client_fail(rej, status >= 500 ? HANSE_ERR(INTERNAL) : HANSE_ERR(INVALID),
                         "client.http", "HTTP %ld from %s", status, url);
    if (rej) rej->status = (int)status;
    return rc;
  }
  int rc = rc_of_code(code, status);
  if (rej) {
    rej->rc = rc;
    rej->status = (int)status;
    snprintf(rej->code, sizeof rej->code, "%s", code);
    snprintf(rej->message, sizeof rej->message, "%s", msg ? msg : "");
  }
  return rc;
}

/* Append the RFC 9421 headers of this request (crypto/httpsig.h): the
 * Content-Digest of the body, then Signature-Input and Signature over
 * method, path, query and that digest, with a random nonce so that two
 * identical requests in the same second are still two signatures. */
int client_sign_request(hanse_client *c, const char *method, const char *url,
                        const void *body, size_t body_len, const char *content_digest,
                        struct curl_slist **headers, hanse_reject *rej) {
  const char *p = strstr(url, "://");
  p = p ? strchr(p + 3, '/') : NULL;
  if (p == NULL) p = "/";
  const char *q = strchr(p, '?');
  char *path = strndup(p, q ? (size_t)(q - p) : strlen(p));
  if (path == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  char digest[HANSE_HTTPSIG_DIGEST_FIELD_BYTES];
  hanse_httpsig_field field = {"Content-Digest", digest};
  if (body_len > 0 && content_digest != NULL)
    snprintf(digest, sizeof digest, "%s", content_digest); /* a streamed body */
  else if (body_len > 0)
    hanse_httpsig_content_digest(digest, body, body_len);
  hanse_httpsig_request req = {.method = method, .path = path, .query = q ? q + 1 : NULL,
                               .fields = &field, .field_count = body_len > 0,
                               .body = body, .body_len = body_len};
  char keyid[HANSE_HASH_HEX_BYTES];
  hanse_pubkey_hex(keyid, &c->signer->pub);
  uint8_t rnd[16];
  char nonce[HANSE_HTTPSIG_NONCE_MAX];
  randombytes_buf(rnd, sizeof rnd);
  sodium_bin2base64(nonce, sizeof nonce, rnd, sizeof rnd, sodium_base64_VARIANT_ORIGINAL);
  hanse_httpsig_params prm;
  hanse_httpsig_headers out;
  int rc = hanse_httpsig_params_for_request(&prm, &req, (int64_t)time(NULL), keyid);
  if (rc == HANSE_OK) rc = hanse_httpsig_params_set_nonce(&prm, nonce);
  if (rc == HANSE_OK) rc = hanse_httpsig_sign(&req, &prm, NULL, c->signer, &out, rej);
  free(path);
  if (rc != HANSE_OK) return client_fail(rej, rc, "client.sign", "cannot sign the request");
  char line[16 + HANSE_HTTPSIG_INPUT_FIELD_BYTES];
  const char *names[] = {"Content-Digest", "Signature-Input", "Signature"};
  const char *values[] = {body_len > 0 ? digest : NULL, out.signature_input, out.signature};
  for (int i = 0; i < 3; i++) {
    if (values[i] == NULL) continue;
    snprintf(line, sizeof line, "%s: %s", names[i], values[i]);
    struct curl_slist *h = curl_slist_append(*headers, line);
    if (h == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
    *headers = h;
  }
  return HANSE_OK;
}

int client_prepare(hanse_client *c, const char *method, const char *url,
                   const char *const *lines, size_t nlines, const void *body, size_t body_len,
                   const char *content_digest, struct curl_slist **headers, hanse_reject *rej) {
  for (size_t i = 0; i < nlines; i++) {
    if (lines[i] == NULL) continue;
    struct curl_slist *h = curl_slist_append(*headers, lines[i]);
    if (h == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
    *headers = h;
  }
  if (c->signer != NULL) {
    int rc = client_sign_request(c, method, url, body, body_len, content_digest, headers, rej);
    if (rc != HANSE_OK) return rc;
  }
  CURL *k = c->curl;
  curl_easy_reset(k);
  c->errbuf[0] = 0;
  curl_easy_setopt(k, CURLOPT_URL, url);
  curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(k, CURLOPT_ERRORBUFFER, c->errbuf);
  curl_easy_setopt(k, CURLOPT_CONNECTTIMEOUT_MS,
                   c->timeout_ms < CLIENT_CONNECT_TIMEOUT_MS ? c->timeout_ms
                                                             : CLIENT_CONNECT_TIMEOUT_MS);
  curl_easy_setopt(k, CURLOPT_USERAGENT, "hanse-client/1");
  curl_easy_setopt(k, CURLOPT_HTTPHEADER, *headers);
  curl_easy_setopt(k, CURLOPT_PROTOCOLS_STR, "http,https");
  return HANSE_OK;
}

int client_request(hanse_client *c, const char *method, const char *path,
                   const char *content_type, const void *body, size_t body_len,
                   long extra_timeout_ms, json_t **out, hanse_reject *rej) {
  HANSE_ASSERT(c != NULL && path != NULL && path[0] == '/');
  *out = NULL;
  size_t url_len = strlen(c->base) + strlen(path) + 1;
  char *url = malloc(url_len);
  if (url == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  snprintf(url, url_len, "%s%s", c->base, path);

  hanse_buf answer;
  hanse_buf_init(&answer);
  int rc = HANSE_OK;
  char ct[96];
  snprintf(ct, sizeof ct, "Content-Type: %s", content_type ? content_type : "");
  /* An empty "Expect:" stops libcurl waiting for "100 Continue" before a
   * large body: the node reads the body anyway, so that is a round trip
   * for nothing. */
  const char *lines[] = {"Accept: application/json", "Expect:", content_type ? ct : NULL};
  struct curl_slist *headers = NULL;
  rc = client_prepare(c, method, url, lines, sizeof lines / sizeof lines[0], body, body_len, NULL,
                      &headers, rej);
  if (rc != HANSE_OK) goto done;
  CURL *k = c->curl;
  long timeout = c->timeout_ms + (extra_timeout_ms > 0 ? extra_timeout_ms : 0);
  curl_easy_setopt(k, CURLOPT_TIMEOUT_MS, timeout);
  curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(k, CURLOPT_WRITEDATA, &answer);
  if (strcmp(method, "POST") == 0) {
    curl_easy_setopt(k, CURLOPT_POST, 1L);
    curl_easy_setopt(k, CURLOPT_POSTFIELDS, body ? body : "");
    curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
  } else {
    HANSE_ASSERT(strcmp(method, "GET") == 0);
    curl_easy_setopt(k, CURLOPT_HTTPGET, 1L);
  }
  CURLcode cc = curl_easy_perform(k);
  if (cc != CURLE_OK) {
    rc = transport_failure(c, cc, url, rej);
    goto done;
  }
  long status = 0;
  curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, &status);
  json_error_t jerr;
  json_t *doc = answer.len ? json_loadb((const char *)answer.data, answer.len,
                                        JSON_DECODE_ANY, &jerr)
                           : NULL;
  if (status >= 400) {
    rc = http_failure(doc, status, url, rej);
    json_decref(doc);
  } else if (status < 200 || status >= 300 || doc == NULL) {
    rc = client_fail(rej, HANSE_ERR(IO), "client.bad_response",
                     "HTTP %ld from %s with %s", status, url,
                     doc ? "an unexpected status" : "a body that is not JSON");
    json_decref(doc);
  } else {
    *out = doc;
  }

done:
  curl_slist_free_all(headers);
  hanse_buf_free(&answer);
  free(url);
  return rc;
}

int client_fail_transport(hanse_client *c, int curl_code, const char *url,
                          hanse_reject *rej) {
  return transport_failure(c, (CURLcode)curl_code, url, rej);
}

int client_fail_status(json_t *doc, long status, const char *url, hanse_reject *rej) {
  return http_failure(doc, status, url, rej);
}
