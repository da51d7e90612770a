/*
 * client_internal.h -- what the client's files share: the client struct
 * and the one function that performs an HTTP request.
 */
#ifndef HANSE_CLIENT_INTERNAL_H
#define HANSE_CLIENT_INTERNAL_H

#include <curl/curl.h>

#include "hanse/client.h"

/* The largest answer the client accepts. The biggest the API sends is a
 * block of HANSE_BLOCK_TX_MAX transactions at a few hundred bytes of JSON
 * each (about 10 MiB); four times the request bound leaves ample room and
 * still stops a misbehaving server from exhausting memory. */
#define CLIENT_RESPONSE_MAX (4 * (size_t)HANSE_HTTP_BODY_MAX)
/* A connection that is not up after this long will not come up. */
#define CLIENT_CONNECT_TIMEOUT_MS 5000L
#define CLIENT_TIMEOUT_MS_DEFAULT 30000L
/* The node's default wait on submit (API.md). */
#define CLIENT_WAIT_MS_DEFAULT 5000L
/* A chain's validator set (chain.h's HANSE_VALIDATORS_MAX; the client
 * does not depend on chain/): the keys certificates are checked against. */
#define CLIENT_VALIDATORS_MAX 64
/* Base URLs are short; a bound keeps paths in fixed buffers. */
#define CLIENT_URL_MAX 512

struct hanse_client {
  char base[CLIENT_URL_MAX];              /* no trailing slash */
  char chain_id[HANSE_CHAIN_ID_MAX + 1];
  CURL *curl;                             /* owned; keeps the connection */
  long timeout_ms;
  char errbuf[CURL_ERROR_SIZE];
  const hanse_keypair *signer;            /* borrowed; NULL: unsigned */
  hanse_pubkey validators[CLIENT_VALIDATORS_MAX]; /* certificates are */
  int validator_count;                    /* checked against these; 0: not */
};

/* Perform one request. `path` (with its query string) is appended to the
 * base URL. body may be NULL for GET. `extra_timeout_ms` is added to the
 * client's limit (a submit's wait). On HANSE_OK *out is the parsed JSON
 * answer of a 2xx (new reference). */
int client_request(hanse_client *c, const char *method, const char *path,
                   const char *content_type, const void *body, size_t body_len,
                   long extra_timeout_ms, json_t **out, hanse_reject *rej);

/* For requests client_request cannot make (blob.c: a body streamed from a
 * file, an answer that is not JSON). client_sign_request appends the RFC
 * 9421 headers for the client's signer (c->signer != NULL) to *headers:
 * Content-Digest (content_digest when given -- a streamed body's, with
 * body NULL and body_len its size -- else computed from body), then
 * Signature-Input and Signature. client_fail_transport turns a failed
 * curl_easy_perform into a "client.*" rejection; client_fail_status a 4xx
 * or 5xx answer (doc: its parsed body, may be NULL) into the node's
 * rejection. Each returns the error code it filled `rej` with. */
int client_sign_request(hanse_client *c, const char *method, const char *url,
                        const void *body, size_t body_len, const char *content_digest,
                        struct curl_slist **headers, hanse_reject *rej);
/* Start a request on the client's curl handle: the header lines (NULL
 * entries skipped) and, when the client signs, the RFC 9421 headers
 * (client_sign_request's body/content_digest rules) into *headers (the
 * caller frees it); then reset the handle and set what every request
 * shares: URL, no signals, error buffer, connect timeout, user agent,
 * headers, http(s) only. The caller sets the method, body, answer sink
 * and time limits. */
int client_prepare(hanse_client *c, const char *method, const char *url,
                   const char *const *lines, size_t nlines, const void *body, size_t body_len,
                   const char *content_digest, struct curl_slist **headers, hanse_reject *rej);
int client_fail_transport(hanse_client *c, int curl_code, const char *url,
                          hanse_reject *rej);
int client_fail_status(json_t *doc, long status, const char *url, hanse_reject *rej);

/* A client-side failure: status 0, code "client.<what>". Returns rc. */
int client_fail(hanse_reject *rej, int rc, const char *code, const char *fmt,
                ...) __attribute__((format(printf, 4, 5)));

#endif
