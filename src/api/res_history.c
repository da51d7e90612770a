/*
 * res_history.c -- GET /v1/chains/{c}/history?key=K[&limit=N][&before=POS]:
 * the audit trail of one state record, newest first.
 *
 * Every change is a history row of the store (one per key and transaction
 * that changed it, written with the block in that block's serialized
 * rows; storage/store.h) joined with its transaction's id and signer.
 * The store finds the key's blocks in its index and the key's rows in
 * each. This file adds what a reader wants to see beside it: the block
 * time from the block's header, and who the signer is -- the member
 * record at "member/key/<hex>" (its org and id), else a founder key
 * listed under an organisation in genesis (id "founder"). A genesis
 * write has no transaction: who is "genesis".
 *
 * Pages are cut by position (height << 20 | index): `next` is the
 * position of the last change of a full page, to be passed back as
 * `before`; null when there is no more. A position is stable, so a page
 * never repeats or skips a change while new blocks arrive.
 *
 * A record's history tells what its values were (their hashes) and who
 * changed them, so it is read under the record's own data class: the class
 * of the module that owns the key (its first path segment, "asset" of
 * "asset/bal/..."). Keys of the chain itself (seq/, genesis, org/,
 * validator/) belong to no module and need only a member (class NULL).
 * The authorization is asked after the parameters are checked and before
 * anything is read.
 */
#include <inttypes.h>
#include <string.h>

#include "api/api_internal.h"
#include "chain/chain.h"
#include "chain/module.h"

typedef struct history_ctx {
  hanse_node_chain *nc;
  hanse_store *rd;
  json_t *changes;        /* the page, newest first */
  json_t *who_cache;      /* signer hex -> {"org","id"} or null */
  int want;               /* rows to return; one more is fetched */
  int seen;
  uint64_t last_pos;      /* position of the last row returned */
  int more;               /* a row beyond the page exists */
  uint64_t time_height;   /* block whose time is cached */
  uint64_t time_ms;
  int time_valid;
  int rc;                 /* first environmental error */
} history_ctx;

/* The data class of the module owning `key`, or NULL for the chain's own
 * keys. */
static const char *key_data_class(const char *key) {
  const char *slash = strchr(key, '/');
  if (slash == NULL) return NULL;
  const hanse_module *m = hanse_registry_find(key, (size_t)(slash - key));
  return m ? m->data_class : NULL;
}

/* {"org","id"} of a signer (new reference), or NULL when unknown. */
static json_t *member_of(history_ctx *hc, const char *hex) {
  json_t *cached = json_object_get(hc->who_cache, hex);
  if (cached) return json_is_null(cached) ? NULL : json_incref(cached);
  json_t *who = NULL;
  char key[sizeof "member/key/" + 2 * HANSE_PUBKEY_BYTES];
  snprintf(key, sizeof key, "member/key/%s", hex);
  hanse_buf b;
  hanse_buf_init(&b);
  int found = 0;
  if (hanse_store_state_get(hc->rd, key, strlen(key), &b, &found) == HANSE_OK && found) {
    json_t *rec = json_loadb((const char *)b.data, b.len, 0, NULL);
    const char *org = json_string_value(json_object_get(rec, "org"));
    const char *id = json_string_value(json_object_get(rec, "id"));
    if (org && id) who = json_pack("{s:s, s:s}", "org", org, "id", id);
    json_decref(rec);
  }
  hanse_buf_free(&b);
  if (who == NULL) {
    /* A founder key, listed under its organisation in genesis. The genesis
     * document is read-only once the chain is open. */
    size_t i, j;
    json_t *o, *k;
    json_array_foreach(json_object_get(hc->nc->chain->genesis, "organisations"), i, o) {
      json_array_foreach(json_object_get(o, "keys"), j, k) {
        const char *kh = json_string_value(k);
        if (who == NULL && kh && strcmp(kh, hex) == 0)
          who = json_pack("{s:s, s:s}", "org", json_string_value(json_object_get(o, "id")),
                          "id", "founder");
      }
    }
  }
  json_object_set(hc->who_cache, hex, who ? who : json_null());
  return who;
}

/* Time of block `height` from its header (cached for runs of one block). */
static int block_time(history_ctx *hc, uint64_t height, uint64_t *time_ms) {
  if (hc->time_valid && hc->time_height == height) {
    *time_ms = hc->time_ms;
    return HANSE_OK;
  }
  hanse_block_row row;
  int rc = hanse_store_block_get(hc->rd, height, 0, &row);
  if (rc != HANSE_OK) return rc;
  hanse_header h;
  rc = hanse_header_decode(&h, row.header, row.header_len, NULL) == HANSE_OK
           ? HANSE_OK
           : HANSE_ERR(CHAIN_BROKEN);
  hanse_block_row_free(&row);
  if (rc != HANSE_OK) return rc;
  hc->time_valid = 1;
  hc->time_height = height;
  hc->time_ms = h.time_ms;
  *time_ms = h.time_ms;
  return HANSE_OK;
}

static int change_visit(void *ctx, const hanse_history_change *c) {
  history_ctx *hc = ctx;
  if (hc->seen == hc->want) {
    hc->more = 1;
    return 1;
  }
  hc->seen++;
  hc->last_pos = c->row.pos;
  uint64_t height = HANSE_POS_HEIGHT(c->row.pos);
  uint32_t index = HANSE_POS_INDEX(c->row.pos);
  uint64_t time_ms = 0;
  int rc = block_time(hc, height, &time_ms);
  if (rc != HANSE_OK) {
    hc->rc = rc;
    return 1;
  }
  const char *op = c->row.op == HANSE_HISTORY_PUT   ? "put"
                   : c->row.op == HANSE_HISTORY_DEL ? "del"
                                                    : "unknown";
  json_t *o = json_pack("{s:I, s:I, s:s}", "height", (json_int_t)height, "time_ms",
                        (json_int_t)time_ms, "op", op);
  if (o == NULL) {
    hc->rc = HANSE_ERR(NOMEM);
    return 1;
  }
  int genesis = index == HANSE_HISTORY_GENESIS_INDEX && !c->has_tx;
  if (genesis) {
    json_object_set_new(o, "who", json_string("genesis"));
  } else {
    json_object_set_new(o, "index", json_integer((json_int_t)index));
    if (c->has_tx) {
      char hex[HANSE_HASH_HEX_BYTES];
      hanse_pubkey_hex(hex, &c->signer);
      json_object_set_new(o, "tx", api_hex(c->tx_id.b, HANSE_HASH_BYTES));
      json_object_set_new(o, "signer", json_string(hex));
      json_t *member = member_of(hc, hex);
      if (member) {
        char who[160];
        snprintf(who, sizeof who, "%s/%s", json_string_value(json_object_get(member, "org")),
                 json_string_value(json_object_get(member, "id")));
        json_object_set_new(o, "who", json_string(who));
        json_object_set_new(o, "member", member);
      } else {
        json_object_set_new(o, "who", json_string(hex));
      }
    } else {
      json_object_set_new(o, "who", json_string("unknown")); /* no txs row */
    }
  }
  if (c->row.has_vhash)
    json_object_set_new(o, "value_sha256", api_hex(c->row.vhash.b, HANSE_HASH_BYTES));
  if (json_array_append_new(hc->changes, o) != 0) {
    hc->rc = HANSE_ERR(NOMEM);
    return 1;
  }
  return 0;
}

static int exists_visit(void *ctx, const hanse_history_change *c) {
  (void)c;
  *(int *)ctx = 1;
  return 1;
}

enum MHD_Result res_history(hanse_req *rq, hanse_node_chain *nc, const char *rest) {
  if (strcmp(rq->method, "GET") != 0) return api_method_not_allowed(rq, "GET");
  if (rest[0] != 0 && strcmp(rest, "/") != 0)
    return api_error(rq, 404, "http.not_found", "use /history?key=<state key>");
  const char *key = api_param(rq, "key");
  size_t klen = key ? strlen(key) : 0;
  if (klen == 0 || klen > HANSE_HISTORY_KEY_MAX)
    return api_error(rq, 400, "http.bad_param", "key must be a state key of 1 to %d bytes",
                     HANSE_HISTORY_KEY_MAX);
  json_t *key_json = json_stringn(key, klen); /* NULL unless UTF-8 text */
  if (key_json == NULL)
    return api_error(rq, 400, "http.bad_param", "key must be UTF-8 text");
  json_decref(key_json);
  uint64_t limit = HANSE_HISTORY_PAGE_DEFAULT, before = UINT64_MAX;
  int hl = api_param_u64(rq, "limit", &limit);
  if (hl < 0 || limit < 1 || limit > HANSE_HISTORY_PAGE_MAX)
    return api_error(rq, 400, "http.bad_param", "limit must be 1 to %d",
                     HANSE_HISTORY_PAGE_MAX);
  int hb = api_param_u64(rq, "before", &before);
  if (hb < 0)
    return api_error(rq, 400, "http.bad_param",
                     "before must be a position (an unsigned integer, a page's \"next\")");
  enum MHD_Result resp;
  if (!api_read_allowed(rq, nc, key_data_class(key), &resp)) return resp;

  history_ctx hc;
  memset(&hc, 0, sizeof hc);
  hc.nc = nc;
  hc.want = (int)limit;
  hc.changes = json_array();
  hc.who_cache = json_object();
  hc.rd = hanse_chain_reader_acquire(nc->chain);
  if (hc.rd == NULL || hc.changes == NULL || hc.who_cache == NULL) {
    hanse_chain_reader_release(nc->chain, hc.rd);
    json_decref(hc.changes);
    json_decref(hc.who_cache);
    return api_error_rc(rq, hc.rd ? HANSE_ERR(NOMEM) : HANSE_ERR(IO), "cannot read the history");
  }
  int rc = hanse_store_history_scan(hc.rd, key, klen, before, hc.want + 1, change_visit, &hc);
  if (rc == HANSE_OK) rc = hc.rc;
  int any = hc.seen > 0;
  if (rc == HANSE_OK && !any && hb > 0)
    rc = hanse_store_history_scan(hc.rd, key, klen, UINT64_MAX, 1, exists_visit, &any);
  hanse_chain_reader_release(nc->chain, hc.rd);
  json_decref(hc.who_cache);
  if (rc != HANSE_OK) {
    json_decref(hc.changes);
    return api_error_rc(rq, rc, "cannot read the history");
  }
  if (!any) {
    json_decref(hc.changes);
    return api_error(rq, 404, "history.not_found", "no change of '%.200s' is recorded", key);
  }
  json_t *next = hc.more ? json_integer((json_int_t)hc.last_pos) : json_null();
  return api_json(rq, 200,
                  json_pack("{s:s%, s:o, s:o}", "key", key, klen, "changes", hc.changes, "next",
                            next));
}
