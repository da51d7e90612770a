/*
 * certs.c -- exchanging commit certificates among the nodes of a cluster
 * (see certs.h; the signed bytes are in encoding/cert.h, the table in
 * storage/store.h, the wire messages in docs/API.md, "Certificates").
 *
 * One thread per clustered chain ("hanse-certs") does all the work that
 * touches the network or writes signatures, so that neither the Raft loop
 * (which only calls hanse_certs_committed: a mutex and a signal) nor an
 * HTTP thread (which only verifies a signature and queues it) ever waits
 * for a peer or for the disk on its behalf. The thread wakes when a block
 * commits or a signature arrives, and at least once a second:
 *
 *   1. inbox     signatures received from peers, already verified against
 *                the hash they name. Same hash as the block stored here at
 *                that height: stored (certs table, on the thread's own
 *                connection, synchronous=NORMAL: a signature lost in a
 *                power cut is fetched again by the repair). Height above
 *                our tip: held in memory until the block is here (at most
 *                CERTS_HELD_MAX; more are dropped and fetched later).
 *                Another hash: counted, per (height, hash), in a bitmask
 *                over the validator set; once a majority of the
 *                validators signed a hash that is not ours, this node's
 *                copy diverged at that height (hanse_chain_diverge: it
 *                applies and proposes nothing more, status and metrics
 *                say so). It never forks silently.
 *   2. push      this node's own signatures of blocks committed since the
 *                last push (written with the block by chain.c), POSTed in
 *                one {"certs":[...]} message to every other member's API;
 *                a member that does not answer is skipped for a second.
 *                A push is sent once: the repair is what makes the
 *                exchange robust to nodes that were down.
 *   3. repair    once a second: if a block of the last CERTS_REPAIR_WINDOW
 *                lacks the signature of some member, GET /certs of that
 *                range from every other member and treat the answers as
 *                received signatures (each verified). A node back from a
 *                crash so collects the signatures it missed, and its
 *                peers collect the ones it made but never pushed.
 *
 * Invariants: only signatures that verify for this chain's block at their
 * height, by one of the genesis validators, are ever stored; the mutex is
 * never held across network or disk I/O.
 */
#include "node/certs.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/hex.h"
#include "base/log.h"

/* Signatures received and not yet looked at by the thread. A block
 * brings one per member (at most HANSE_CLUSTER_NODES_MAX); the bound
 * covers a few hundred blocks' worth, well beyond what a second brings. */
#define CERTS_INBOX_MAX 4096
/* Signatures of blocks this node does not hold yet. */
#define CERTS_HELD_MAX 4096
/* Heights at which a majority might sign another block than ours: one is
 * enough to stop, a few cover equivocating minorities. */
#define CERTS_CONFLICTS_MAX 64
/* Recent blocks whose certificates the repair completes. */
#define CERTS_REPAIR_WINDOW 256
#define CERTS_REPAIR_INTERVAL_US (1000u * 1000)
/* Own signatures per push message (a window's worth). */
#define CERTS_PUSH_MAX CERTS_REPAIR_WINDOW
/* A member that did not answer is not pushed to for this long. */
#define CERTS_PEER_BACKOFF_US (1000u * 1000)
#define CERTS_CONNECT_TIMEOUT_MS 500L
#define CERTS_TIMEOUT_MS 3000L
#define CERTS_RESPONSE_MAX (4u << 20)

typedef struct cert_msg {
  uint64_t height;
  hanse_hash hash;
  hanse_pubkey signer;
  hanse_sig sig;
} cert_msg;

typedef struct conflict {
  uint64_t height;
  hanse_hash hash;
  uint64_t signers; /* bit i: validator i signed it */
} conflict;

struct hanse_certs {
  hanse_chain *chain;                /* borrowed */
  const hanse_cluster_config *cl;    /* borrowed */
  const hanse_keypair *key;          /* borrowed */
  pthread_t thread;
  int running;

  pthread_mutex_t mu;                /* guards the fields down to `stop` */
  pthread_cond_t cv;
  cert_msg *inbox;
  size_t inbox_len;
  uint64_t committed;                /* highest height committed here */
  int stop;

  /* The thread's own. */
  hanse_store *wr;                   /* own connection for others' signatures */
  cert_msg *work;                    /* the inbox taken */
  cert_msg *held;
  size_t held_len;
  conflict conflicts[CERTS_CONFLICTS_MAX];
  int conflict_count;
  uint64_t pushed;                   /* own signatures pushed up to here */
  uint64_t next_repair_us;
  uint64_t peer_down_until[HANSE_CLUSTER_NODES_MAX];
  CURL *curl;
  hanse_buf resp;
};

static uint64_t mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- Receiving ---- */

int hanse_cert_msg_from_json(json_t *o, uint64_t *height, hanse_hash *hash,
                             hanse_pubkey *signer, hanse_sig *sig) {
  json_t *jh = json_object_get(o, "height");
  const char *hh = json_string_value(json_object_get(o, "hash"));
  const char *sh = json_string_value(json_object_get(o, "signer"));
  const char *gh = json_string_value(json_object_get(o, "sig"));
  if (!json_is_integer(jh) || json_integer_value(jh) < 0 || hh == NULL || sh == NULL ||
      gh == NULL || hanse_hash_parse(hash, hh) != HANSE_OK ||
      hanse_pubkey_parse(signer, sh) != HANSE_OK ||
      hanse_hex_decode_exact(sig->b, HANSE_SIG_BYTES, gh) != HANSE_OK)
    return HANSE_ERR(INVALID);
  *height = (uint64_t)json_integer_value(jh);
  return HANSE_OK;
}

int hanse_certs_receive(hanse_certs *cs, uint64_t height, const hanse_hash *hash,
                        const hanse_pubkey *signer, const hanse_sig *sig, hanse_reject *rej) {
  hanse_chain *c = cs->chain;
  char hex[HANSE_HASH_HEX_BYTES];
  if (height == 0 || height > (uint64_t)INT64_MAX)
    return hanse_reject_code(rej, "cert.bad_height", 400,
                             "block %" PRIu64 " has no certificate (heights 1 and up do)", height);
  if (!hanse_chain_is_validator(c, signer, NULL))
    return hanse_reject_code(rej, "cert.not_validator", 403,
                             "%s is not a validator of chain %s", hanse_pubkey_hex(hex, signer),
                             c->chain_id);
  if (!hanse_cert_sig_verify(signer, c->chain_id, height, hash, sig))
    return hanse_reject_code(rej, "cert.bad_signature", 400,
                             "the signature of %s does not verify for block %" PRIu64 " %s",
                             hanse_pubkey_hex(hex, signer), height,
                             hanse_hash_hex(hex, hash));
  pthread_mutex_lock(&cs->mu);
  if (cs->inbox_len < CERTS_INBOX_MAX) {
    cert_msg *m = &cs->inbox[cs->inbox_len++];
    m->height = height;
    m->hash = *hash;
    m->signer = *signer;
    m->sig = *sig;
    pthread_cond_signal(&cs->cv);
  } /* else dropped: the repair fetches it again */
  pthread_mutex_unlock(&cs->mu);
  return HANSE_OK;
}

void hanse_certs_committed(hanse_certs *cs, const hanse_tip *tip) {
  if (cs == NULL) return;
  pthread_mutex_lock(&cs->mu);
  if (tip->height > cs->committed) cs->committed = tip->height;
  pthread_cond_signal(&cs->cv);
  pthread_mutex_unlock(&cs->mu);
}

/* ---- Step 1: what arrived ---- */

/* Our hash of block `height`: 1 found, 0 not here, -1 store error. */
static int our_hash(hanse_certs *cs, uint64_t height, hanse_hash *out) {
  hanse_block_row row;
  int rc = hanse_store_block_get(cs->wr, height, 0, &row);
  if (rc == HANSE_ERR(NOT_FOUND)) return 0;
  if (rc != HANSE_OK) return -1;
  *out = row.hash;
  hanse_block_row_free(&row);
  return 1;
}

static void count_conflict(hanse_certs *cs, const cert_msg *m, const hanse_hash *ours) {
  hanse_chain *c = cs->chain;
  int at;
  if (!hanse_chain_is_validator(c, &m->signer, &at)) return;
  conflict *k = NULL;
  for (int i = 0; i < cs->conflict_count && k == NULL; i++)
    if (cs->conflicts[i].height == m->height && hanse_hash_eq(&cs->conflicts[i].hash, &m->hash))
      k = &cs->conflicts[i];
  if (k == NULL) {
    if (cs->conflict_count == CERTS_CONFLICTS_MAX) return;
    k = &cs->conflicts[cs->conflict_count++];
    memset(k, 0, sizeof *k);
    k->height = m->height;
    k->hash = m->hash;
    char a[HANSE_HASH_HEX_BYTES], b[HANSE_HASH_HEX_BYTES];
    HANSE_WARN("chain %s: validator %.16s... signed block %" PRIu64 " as %s; this node holds %s",
               c->chain_id, hanse_pubkey_hex(a, &m->signer), m->height,
               hanse_hash_hex(b, &m->hash), hanse_hash_hex(a, ours));
  }
  k->signers |= UINT64_C(1) << at;
  int signed_by = __builtin_popcountll(k->signers);
  int q = hanse_cert_quorum(hanse_chain_validator_count(c));
  if (signed_by < q) return;
  hanse_divergence d;
  memset(&d, 0, sizeof d);
  d.diverged = 1;
  d.height = m->height;
  d.has_ours = 1;
  d.ours = *ours;
  d.has_certified = 1;
  d.certified = m->hash;
  snprintf(d.reason, sizeof d.reason,
           "%d of %d validators (quorum %d) signed another block at this height than the one "
           "stored here",
           signed_by, hanse_chain_validator_count(c), q);
  hanse_chain_diverge(c, &d);
}

/* One verified signature whose height we hold. */
static void settle(hanse_certs *cs, const cert_msg *m) {
  hanse_hash ours;
  int have = our_hash(cs, m->height, &ours);
  if (have <= 0) return; /* store error: the repair brings it again */
  if (hanse_hash_eq(&ours, &m->hash)) {
    int rc = hanse_store_cert_put(cs->wr, m->height, &m->signer, &m->sig);
    if (rc != HANSE_OK)
      HANSE_WARN("chain %s: cannot store a certificate signature of block %" PRIu64 ": %s",
                 cs->chain->chain_id, m->height, hanse_err_message(rc));
    return;
  }
  count_conflict(cs, m, &ours);
}

static void take_in(hanse_certs *cs, const cert_msg *msgs, size_t n, uint64_t tip) {
  for (size_t i = 0; i < n; i++) {
    if (msgs[i].height <= tip) {
      settle(cs, &msgs[i]);
    } else if (cs->held_len < CERTS_HELD_MAX) {
      cs->held[cs->held_len++] = msgs[i];
    }
  }
}

static void release_held(hanse_certs *cs, uint64_t tip) {
  size_t keep = 0;
  for (size_t i = 0; i < cs->held_len; i++) {
    if (cs->held[i].height <= tip)
      settle(cs, &cs->held[i]);
    else
      cs->held[keep++] = cs->held[i];
  }
  cs->held_len = keep;
}

/* ---- HTTP (libcurl, this thread's one handle) ---- */

static size_t on_body(char *p, size_t size, size_t n, void *ctx) {
  hanse_buf *b = ctx;
  size_t len = size * n;
  if (b->len + len > CERTS_RESPONSE_MAX) return 0;
  hanse_buf_put(b, p, len);
  return hanse_buf_status(b) == HANSE_OK ? len : 0;
}

/* method "POST" with body, or "GET". 0 and the answer in cs->resp when
 * the member answered 2xx, else -1. */
static int http(hanse_certs *cs, const hanse_cluster_member *m, const char *method,
                const char *path, const char *body) {
  char url[HANSE_CLUSTER_URL_MAX + 256];
  snprintf(url, sizeof url, "%s%s", m->api_url, path);
  hanse_buf_reset(&cs->resp);
  CURL *h = cs->curl;
  curl_easy_reset(h);
  curl_easy_setopt(h, CURLOPT_URL, url);
  struct curl_slist *hdrs = NULL;
  if (strcmp(method, "POST") == 0) {
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  }
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CERTS_CONNECT_TIMEOUT_MS);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, CERTS_TIMEOUT_MS);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &cs->resp);
  CURLcode cc = curl_easy_perform(h);
  long status = 0;
  if (cc == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(hdrs);
  return cc == CURLE_OK && status >= 200 && status < 300 ? 0 : -1;
}

/* ---- Step 2: push our own signatures ---- */

typedef struct own_ctx {
  hanse_certs *cs;
  json_t *arr;
  uint64_t last;
} own_ctx;

static int own_visit(void *ctx, uint64_t height, const hanse_pubkey *signer, const hanse_sig *sig) {
  own_ctx *o = ctx;
  if (memcmp(signer->b, o->cs->key->pub.b, HANSE_PUBKEY_BYTES) != 0) return 0;
  hanse_hash hash;
  if (our_hash(o->cs, height, &hash) != 1) return 0;
  char hh[HANSE_HASH_HEX_BYTES], sh[HANSE_HASH_HEX_BYTES], gh[2 * HANSE_SIG_BYTES + 1];
  hanse_hex_encode(gh, sig->b, HANSE_SIG_BYTES);
  json_array_append_new(o->arr, json_pack("{s:I, s:s, s:s, s:s}", "height", (json_int_t)height,
                                          "hash", hanse_hash_hex(hh, &hash), "signer",
                                          hanse_pubkey_hex(sh, signer), "sig", gh));
  o->last = height;
  return 0;
}

static void push(hanse_certs *cs, uint64_t tip) {
  if (tip <= cs->pushed) return;
  uint64_t from = cs->pushed + 1;
  if (tip - from >= CERTS_PUSH_MAX) from = tip - CERTS_PUSH_MAX + 1;
  own_ctx o = {cs, json_array(), 0};
  if (o.arr == NULL) return;
  hanse_store_cert_scan(cs->wr, from, tip, own_visit, &o);
  cs->pushed = tip;
  json_t *msg = json_array_size(o.arr) ? json_pack("{s:o}", "certs", o.arr) : NULL;
  if (msg == NULL) json_decref(o.arr); /* json_pack took it otherwise */
  char *body = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
  json_decref(msg);
  if (body == NULL) return;
  char path[HANSE_CHAIN_ID_MAX + 32];
  snprintf(path, sizeof path, "/v1/chains/%s/certs", cs->chain->chain_id);
  uint64_t now = mono_us();
  for (int i = 0; i < cs->cl->member_count; i++) {
    const hanse_cluster_member *m = &cs->cl->members[i];
    if (m->id == cs->cl->self_id || now < cs->peer_down_until[i]) continue;
    if (http(cs, m, "POST", path, body) != 0) cs->peer_down_until[i] = mono_us() + CERTS_PEER_BACKOFF_US;
  }
  free(body);
}

/* ---- Step 3: repair ---- */

typedef struct have_ctx {
  uint64_t from;
  uint64_t n_signers[CERTS_REPAIR_WINDOW]; /* signatures per height, from `from` */
} have_ctx;

static int have_visit(void *ctx, uint64_t height, const hanse_pubkey *signer, const hanse_sig *sig) {
  have_ctx *h = ctx;
  (void)signer;
  (void)sig;
  if (height >= h->from && height - h->from < CERTS_REPAIR_WINDOW) h->n_signers[height - h->from]++;
  return 0;
}

/* The answer of GET /certs: {"certs":[{"height","hash","signer","sig"}]}
 * -- each verified and settled like a received one. */
static void take_answer(hanse_certs *cs, uint64_t tip) {
  json_t *doc = json_loadb((const char *)cs->resp.data, cs->resp.len, 0, NULL);
  json_t *arr = json_object_get(doc, "certs");
  size_t i;
  json_t *e;
  json_array_foreach(arr, i, e) {
    cert_msg m;
    if (hanse_cert_msg_from_json(e, &m.height, &m.hash, &m.signer, &m.sig) != HANSE_OK) continue;
    if (m.height == 0 || m.height > tip) continue;
    if (memcmp(m.signer.b, cs->key->pub.b, HANSE_PUBKEY_BYTES) == 0) continue;
    if (!hanse_chain_is_validator(cs->chain, &m.signer, NULL) ||
        !hanse_cert_sig_verify(&m.signer, cs->chain->chain_id, m.height, &m.hash, &m.sig))
      continue;
    settle(cs, &m);
  }
  json_decref(doc);
}

static void repair(hanse_certs *cs, uint64_t tip) {
  if (tip == 0) return;
  have_ctx *h = calloc(1, sizeof *h);
  if (h == NULL) return;
  h->from = tip >= CERTS_REPAIR_WINDOW ? tip - CERTS_REPAIR_WINDOW + 1 : 1;
  int nv = hanse_chain_validator_count(cs->chain);
  int want = nv < cs->cl->member_count ? nv : cs->cl->member_count;
  hanse_store_cert_scan(cs->wr, h->from, tip, have_visit, h);
  uint64_t lack = 0;
  for (uint64_t x = h->from; x <= tip && lack == 0; x++)
    if (h->n_signers[x - h->from] < (uint64_t)want) lack = x;
  free(h);
  if (lack == 0) return;
  char path[HANSE_CHAIN_ID_MAX + 96];
  snprintf(path, sizeof path, "/v1/chains/%s/certs?from=%" PRIu64 "&to=%" PRIu64,
           cs->chain->chain_id, lack, tip);
  for (int i = 0; i < cs->cl->member_count; i++) {
    const hanse_cluster_member *m = &cs->cl->members[i];
    if (m->id == cs->cl->self_id) continue;
    if (http(cs, m, "GET", path, NULL) == 0) take_answer(cs, tip);
  }
}

/* ---- The thread ---- */

static void *certs_main(void *arg) {
  hanse_certs *cs = arg;
  pthread_setname_np(pthread_self(), "hanse-certs");
  pthread_mutex_lock(&cs->mu);
  while (!cs->stop) {
    if (cs->inbox_len == 0 && cs->committed <= cs->pushed) {
      uint64_t now = mono_us();
      uint64_t until = cs->next_repair_us > now ? cs->next_repair_us : now;
      struct timespec ts = {(time_t)(until / 1000000), (long)(until % 1000000) * 1000};
      pthread_cond_timedwait(&cs->cv, &cs->mu, &ts);
      if (cs->stop) break;
    }
    cert_msg *swap = cs->work;
    cs->work = cs->inbox;
    cs->inbox = swap;
    size_t n = cs->inbox_len;
    cs->inbox_len = 0;
    uint64_t committed = cs->committed;
    pthread_mutex_unlock(&cs->mu);

    hanse_tip tip;
    hanse_chain_tip(cs->chain, &tip);
    if (committed > tip.height) committed = tip.height;
    take_in(cs, cs->work, n, tip.height);
    release_held(cs, tip.height);
    hanse_divergence d;
    int diverged = hanse_chain_divergence(cs->chain, &d);
    if (!diverged) push(cs, committed);
    if (mono_us() >= cs->next_repair_us) {
      if (!diverged) repair(cs, tip.height);
      cs->next_repair_us = mono_us() + CERTS_REPAIR_INTERVAL_US;
    }
    pthread_mutex_lock(&cs->mu);
  }
  pthread_mutex_unlock(&cs->mu);
  return NULL;
}

static void certs_free(hanse_certs *cs) {
  if (cs->curl) curl_easy_cleanup(cs->curl);
  hanse_buf_free(&cs->resp);
  hanse_store_close(cs->wr);
  free(cs->inbox);
  free(cs->work);
  free(cs->held);
  pthread_mutex_destroy(&cs->mu);
  pthread_cond_destroy(&cs->cv);
  free(cs);
}

int hanse_certs_start(hanse_chain *chain, const hanse_cluster_config *cl,
                      const hanse_keypair *key, hanse_certs **out, hanse_reject *rej) {
  *out = NULL;
  HANSE_ASSERT(chain != NULL && cl != NULL && key != NULL);
  hanse_certs *cs = calloc(1, sizeof *cs);
  if (cs == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  cs->chain = chain;
  cs->cl = cl;
  cs->key = key;
  pthread_mutex_init(&cs->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&cs->cv, &ca);
  pthread_condattr_destroy(&ca);
  hanse_buf_init(&cs->resp);
  cs->inbox = calloc(CERTS_INBOX_MAX, sizeof *cs->inbox);
  cs->work = calloc(CERTS_INBOX_MAX, sizeof *cs->work);
  cs->held = calloc(CERTS_HELD_MAX, sizeof *cs->held);
  cs->curl = curl_easy_init();
  if (cs->inbox == NULL || cs->work == NULL || cs->held == NULL || cs->curl == NULL) {
    certs_free(cs);
    return hanse_reject_set(rej, HANSE_ERR(NOMEM), NULL);
  }
  int rc = hanse_store_open(chain->db_path, 0, NULL, &cs->wr, rej);
  if (rc != HANSE_OK) {
    certs_free(cs);
    return rc;
  }
  /* Others' signatures can be fetched again: no sync per insert. */
  sqlite3_exec(hanse_store_db(cs->wr), "PRAGMA synchronous=NORMAL;", NULL, NULL, NULL);
  hanse_tip tip;
  hanse_chain_tip(chain, &tip);
  cs->committed = cs->pushed = tip.height;
  cs->next_repair_us = mono_us() + CERTS_REPAIR_INTERVAL_US;
  if (pthread_create(&cs->thread, NULL, certs_main, cs) != 0) {
    certs_free(cs);
    return hanse_reject_set(rej, HANSE_ERR(INTERNAL), "cannot start the certificate thread");
  }
  cs->running = 1;
  *out = cs;
  return HANSE_OK;
}

void hanse_certs_stop(hanse_certs *cs) {
  if (cs == NULL) return;
  pthread_mutex_lock(&cs->mu);
  cs->stop = 1;
  pthread_cond_signal(&cs->cv);
  pthread_mutex_unlock(&cs->mu);
  if (cs->running) pthread_join(cs->thread, NULL);
  certs_free(cs);
}
