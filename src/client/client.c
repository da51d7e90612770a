/*
 * client.c -- the client's life cycle and its requests: sequence numbers,
 * submission, reads (see include/hanse/client.h for the manual).
 *
 * A client is a base URL, a chain id and one libcurl handle. Everything it
 * sends is derived from those and from the caller's arguments: chain ids,
 * hashes and keys are validated or produced as lowercase hex before they go
 * into a path, and free-form values (module and query names, parameters)
 * are URL-escaped, so no argument can change the route a request takes.
 *
 * Submission bodies, in the two forms docs/API.md accepts:
 *
 *   application/octet-stream   for each entry: u8 type | u32 len (BE) | bytes
 *   application/json           {"txs":["<hex>",...],"batches":["<hex>",...]}
 *
 * The binary stream keeps the caller's order of transactions and batches
 * (a signer's batch after its single transaction, say); the JSON form
 * groups them by type, so the client uses it only when asked.
 */
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "base/log.h"
#include "client/client_internal.h"

static pthread_once_t client_once = PTHREAD_ONCE_INIT;
static int client_global_rc;

/* libcurl's global state must be set up once, before any handle and not
 * concurrently; libsodium's likewise (signing needs its CPU dispatch). */
static void client_global_init(void) {
  if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    client_global_rc = HANSE_ERR(INTERNAL);
}

int hanse_client_create(const char *base_url, const char *chain_id,
                        hanse_client **out, hanse_reject *rej) {
  *out = NULL;
  pthread_once(&client_once, client_global_init);
  if (client_global_rc != HANSE_OK)
    return hanse_reject_set(rej, client_global_rc, "cannot initialise libcurl or libsodium");
  size_t n = base_url ? strlen(base_url) : 0;
  while (n > 0 && base_url[n - 1] == '/') n--;
  if (n == 0 || n >= CLIENT_URL_MAX ||
      (strncmp(base_url, "http://", 7) != 0 && strncmp(base_url, "https://", 8) != 0))
    return client_fail(rej, HANSE_ERR(INVALID), "client.bad_url",
                       "node URL must start with http:// or https:// and be under %d bytes",
                       CLIENT_URL_MAX);
  if (chain_id == NULL || !hanse_chain_id_valid(chain_id, strlen(chain_id)))
    return client_fail(rej, HANSE_ERR(INVALID), "client.bad_chain",
                       "chain id must be 1-%d of [a-z0-9._-]", HANSE_CHAIN_ID_MAX);
  hanse_client *c = calloc(1, sizeof *c);
  if (c == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  c->curl = curl_easy_init();
  if (c->curl == NULL) {
    free(c);
    return hanse_reject_set(rej, HANSE_ERR(NOMEM), "cannot create a libcurl handle");
  }
  memcpy(c->base, base_url, n);
  c->base[n] = 0;
  snprintf(c->chain_id, sizeof c->chain_id, "%s", chain_id);
  c->timeout_ms = CLIENT_TIMEOUT_MS_DEFAULT;
  *out = c;
  return HANSE_OK;
}

void hanse_client_set_timeout_ms(hanse_client *c, long timeout_ms) {
  HANSE_ASSERT(c != NULL);
  c->timeout_ms = timeout_ms > 0 ? timeout_ms : CLIENT_TIMEOUT_MS_DEFAULT;
}

void hanse_client_set_signer(hanse_client *c, const hanse_keypair *kp) {
  HANSE_ASSERT(c != NULL);
  c->signer = kp;
}

const char *hanse_client_chain(const hanse_client *c) { return c->chain_id; }

void hanse_client_destroy(hanse_client *c) {
  if (c == NULL) return;
  curl_easy_cleanup(c->curl);
  free(c);
}

/* ---- sequence numbers ---- */

int hanse_client_next_seq(hanse_client *c, const hanse_pubkey *signer,
                          uint64_t *next_seq, hanse_reject *rej) {
  char hex[HANSE_HASH_HEX_BYTES], path[256];
  snprintf(path, sizeof path, "/v1/chains/%s/accounts/%s", c->chain_id,
           hanse_pubkey_hex(hex, signer));
  json_t *doc;
  int rc = client_request(c, "GET", path, NULL, NULL, 0, 0, &doc, rej);
  if (rc != HANSE_OK) return rc;
  json_t *n = json_object_get(doc, "next_seq");
  if (!json_is_integer(n) || json_integer_value(n) < 1) {
    json_decref(doc);
    return client_fail(rej, HANSE_ERR(IO), "client.bad_response",
                       "account answer from %s has no positive \"next_seq\"", c->base);
  }
  *next_seq = (uint64_t)json_integer_value(n);
  json_decref(doc);
  return HANSE_OK;
}

/* ---- submit ---- */

static int body_binary(const hanse_client_entry *e, size_t count, hanse_buf *b) {
  for (size_t i = 0; i < count; i++) {
    hanse_buf_u8(b, e[i].type);
    hanse_buf_u32(b, (uint32_t)e[i].len);
    hanse_buf_put(b, e[i].data, e[i].len);
  }
  return hanse_buf_status(b);
}

static int body_json(const hanse_client_entry *e, size_t count, hanse_buf *b) {
  json_t *txs = json_array(), *batches = json_array();
  json_t *doc = json_pack("{s:o, s:o}", "txs", txs, "batches", batches);
  if (doc == NULL) return HANSE_ERR(NOMEM);
  int rc = HANSE_OK;
  for (size_t i = 0; i < count && rc == HANSE_OK; i++) {
    char *hex = malloc(2 * e[i].len + 1);
    if (hex == NULL) {
      rc = HANSE_ERR(NOMEM);
      break;
    }
    hanse_hex_encode(hex, e[i].data, e[i].len);
    if (json_array_append_new(e[i].type == HANSE_TYPE_BATCH ? batches : txs,
                              json_string_nocheck(hex)) != 0)
      rc = HANSE_ERR(NOMEM);
    free(hex);
  }
  char *text = rc == HANSE_OK ? json_dumps(doc, JSON_COMPACT) : NULL;
  json_decref(doc);
  if (text == NULL) return HANSE_ERR(NOMEM);
  hanse_buf_put(b, text, strlen(text));
  free(text);
  return hanse_buf_status(b);
}

int hanse_client_submit(hanse_client *c, const hanse_client_entry *entries,
                        size_t count, int flags, long wait_timeout_ms,
                        json_t **result, hanse_reject *rej) {
  *result = NULL;
  if (count == 0)
    return client_fail(rej, HANSE_ERR(INVALID), "client.empty", "nothing to submit");
  for (size_t i = 0; i < count; i++)
    if ((entries[i].type != HANSE_TYPE_TX && entries[i].type != HANSE_TYPE_BATCH) ||
        entries[i].len == 0 || entries[i].len > UINT32_MAX)
      return client_fail(rej, HANSE_ERR(INVALID), "client.bad_entry",
                         "entry %zu is not an encoded transaction or batch", i);
  hanse_buf body;
  hanse_buf_init(&body);
  int json = (flags & HANSE_SUBMIT_JSON) != 0;
  int rc = json ? body_json(entries, count, &body) : body_binary(entries, count, &body);
  if (rc != HANSE_OK) {
    hanse_buf_free(&body);
    return hanse_reject_set(rej, rc, "cannot build the request body");
  }
  char path[128];
  long extra = 0;
  if (flags & HANSE_SUBMIT_WAIT) {
    extra = wait_timeout_ms > 0 ? wait_timeout_ms : CLIENT_WAIT_MS_DEFAULT;
    if (wait_timeout_ms > 0)
      snprintf(path, sizeof path, "/v1/chains/%s/txs?wait=1&timeout_ms=%ld",
               c->chain_id, wait_timeout_ms);
    else
      snprintf(path, sizeof path, "/v1/chains/%s/txs?wait=1", c->chain_id);
  } else {
    snprintf(path, sizeof path, "/v1/chains/%s/txs", c->chain_id);
  }
  rc = client_request(c, "POST", path,
                      json ? "application/json" : "application/octet-stream",
                      body.data, body.len, extra, result, rej);
  hanse_buf_free(&body);
  if (rc == HANSE_OK && !json_is_array(json_object_get(*result, "results"))) {
    json_decref(*result);
    *result = NULL;
    rc = client_fail(rej, HANSE_ERR(IO), "client.bad_response",
                     "submit answer from %s has no \"results\"", c->base);
  }
  return rc;
}

int hanse_client_result_check(json_t *result, int allow_pending,
                              hanse_reject *rej) {
  json_t *results = json_object_get(result, "results");
  if (!json_is_array(results))
    return client_fail(rej, HANSE_ERR(INVALID), "client.bad_response",
                       "submit answer has no \"results\"");
  size_t i;
  json_t *r;
  json_array_foreach(results, i, r) {
    const char *status = json_string_value(json_object_get(r, "status"));
    const char *code = json_string_value(json_object_get(r, "code"));
    const char *msg = json_string_value(json_object_get(r, "message"));
    const char *id = json_string_value(json_object_get(r, "id"));
    if (status == NULL) status = "";
    if (strcmp(status, "committed") == 0 && code && strcmp(code, "ok") == 0) continue;
    if (strcmp(status, "pending") == 0 && allow_pending) continue;
    if (strcmp(status, "pending") == 0)
      return client_fail(rej, HANSE_ERR(INVALID), "client.pending",
                         "tx %.16s: not committed within the wait time", id ? id : "?");
    if (code == NULL || strcmp(code, "ok") == 0)
      return client_fail(rej, HANSE_ERR(INVALID), "client.bad_response",
                         "tx %.16s: status \"%s\" without a failing code", id ? id : "?",
                         status);
    hanse_reject_code(rej, code, strcmp(status, "rejected") == 0 ? 400 : 409,
                      "tx %.16s %s: %s", id ? id : "?", status, msg ? msg : "");
    return HANSE_ERR(INVALID);
  }
  return HANSE_OK;
}

/* ---- reads ---- */

int hanse_client_tx_get(hanse_client *c, const hanse_hash *id, json_t **out,
                        hanse_reject *rej) {
  char hex[HANSE_HASH_HEX_BYTES], path[256];
  snprintf(path, sizeof path, "/v1/chains/%s/txs/%s", c->chain_id, hanse_hash_hex(hex, id));
  return client_request(c, "GET", path, NULL, NULL, 0, 0, out, rej);
}

int hanse_client_block_get(hanse_client *c, uint64_t height, json_t **out,
                           hanse_reject *rej) {
  char path[128];
  snprintf(path, sizeof path, "/v1/chains/%s/blocks/%" PRIu64, c->chain_id, height);
  return client_request(c, "GET", path, NULL, NULL, 0, 0, out, rej);
}

int hanse_client_block_get_by_hash(hanse_client *c, const hanse_hash *hash,
                                   json_t **out, hanse_reject *rej) {
  char hex[HANSE_HASH_HEX_BYTES], path[256];
  snprintf(path, sizeof path, "/v1/chains/%s/blocks/hash/%s", c->chain_id,
           hanse_hash_hex(hex, hash));
  return client_request(c, "GET", path, NULL, NULL, 0, 0, out, rej);
}

int hanse_client_status(hanse_client *c, json_t **out, hanse_reject *rej) {
  char path[128];
  snprintf(path, sizeof path, "/v1/chains/%s/status", c->chain_id);
  return client_request(c, "GET", path, NULL, NULL, 0, 0, out, rej);
}

/* Append curl-escaped `s` to b. */
static void put_escaped(hanse_client *c, hanse_buf *b, const char *s) {
  char *e = curl_easy_escape(c->curl, s, 0);
  if (e == NULL) {
    b->failed = 1;
    return;
  }
  hanse_buf_put(b, e, strlen(e));
  curl_free(e);
}

int hanse_client_query(hanse_client *c, const char *module, const char *name,
                       const char *const *params, json_t **out,
                       hanse_reject *rej) {
  *out = NULL;
  hanse_buf p;
  hanse_buf_init(&p);
  hanse_buf_put(&p, "/v1/chains/", 11);
  hanse_buf_put(&p, c->chain_id, strlen(c->chain_id));
  hanse_buf_put(&p, "/query/", 7);
  put_escaped(c, &p, module);
  hanse_buf_u8(&p, '/');
  put_escaped(c, &p, name);
  for (size_t i = 0; params && params[i]; i += 2) {
    HANSE_ASSERT(params[i + 1] != NULL); /* names and values alternate */
    hanse_buf_u8(&p, i == 0 ? '?' : '&');
    put_escaped(c, &p, params[i]);
    hanse_buf_u8(&p, '=');
    put_escaped(c, &p, params[i + 1]);
  }
  hanse_buf_u8(&p, 0);
  int rc = hanse_buf_status(&p);
  if (rc == HANSE_OK)
    rc = client_request(c, "GET", (const char *)p.data, NULL, NULL, 0, 0, out, rej);
  else
    hanse_reject_set(rej, rc, NULL);
  hanse_buf_free(&p);
  return rc;
}

int hanse_client_get(hanse_client *c, const char *path, json_t **out,
                     hanse_reject *rej) {
  if (path == NULL || path[0] != '/')
    return client_fail(rej, HANSE_ERR(INVALID), "client.bad_path",
                       "a request path starts with '/'");
  return client_request(c, "GET", path, NULL, NULL, 0, 0, out, rej);
}

int hanse_client_history(hanse_client *c, const char *key, uint32_t limit,
                         uint64_t before, json_t **out, hanse_reject *rej) {
  *out = NULL;
  if (key == NULL || key[0] == 0)
    return client_fail(rej, HANSE_ERR(INVALID), "client.bad_path",
                       "a history is asked for by a state key");
  hanse_buf p;
  hanse_buf_init(&p);
  hanse_buf_put(&p, "/v1/chains/", 11);
  hanse_buf_put(&p, c->chain_id, strlen(c->chain_id));
  hanse_buf_put(&p, "/history?key=", 13);
  put_escaped(c, &p, key);
  char num[64];
  if (limit > 0) {
    snprintf(num, sizeof num, "&limit=%" PRIu32, limit);
    hanse_buf_put(&p, num, strlen(num));
  }
  if (before > 0) {
    snprintf(num, sizeof num, "&before=%" PRIu64, before);
    hanse_buf_put(&p, num, strlen(num));
  }
  hanse_buf_u8(&p, 0);
  int rc = hanse_buf_status(&p);
  if (rc == HANSE_OK)
    rc = client_request(c, "GET", (const char *)p.data, NULL, NULL, 0, 0, out, rej);
  else
    hanse_reject_set(rej, rc, NULL);
  hanse_buf_free(&p);
  if (rc == HANSE_OK && !json_is_array(json_object_get(*out, "changes"))) {
    json_decref(*out);
    *out = NULL;
    rc = client_fail(rej, HANSE_ERR(IO), "client.bad_response",
                     "history answer from %s has no \"changes\"", c->base);
  }
  return rc;
}
