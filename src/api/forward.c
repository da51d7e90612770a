/*
 * forward.c -- a cluster follower hands submissions to its leader.
 *
 * In cluster mode only the leader pools transactions (consensus.h). A
 * follower that receives POST /v1/chains/{c}/txs sends the request on to
 * the leader's API URL (from the member list) with libcurl, unchanged: the
 * same target (path and query, so wait=1 and timeout_ms travel with it),
 * the same body and the headers a signed request depends on
 * (Content-Type, Content-Digest, Signature, Signature-Input, and Host, so
 * a signature covering @authority still verifies). The leader's status
 * and body are relayed as they are. Reads are never forwarded: every node
 * serves them from its own copy -- except GET .../accounts/{key}, whose
 * next_seq counts the transactions pending in the leader's pool, which
 * only the leader knows (a follower's answer would lag the leader's by a
 * heartbeat and make a client reuse a sequence number).
 *
 * A forwarded request carries X-Hanse-Forwarded; a node that receives one
 * and is not the ready leader answers 503 cluster.no_leader instead of
 * forwarding again, so a request never travels in a circle while a
 * leadership changes hands. With no leader known (an election, or this
 * node cut off), or the leader unreachable, the answer is the same 503:
 * the client retries (a resubmission commits once).
 *
 * The request thread blocks for the round trip; a waiting submission
 * (wait=1) holds it up to its timeout_ms, as it would on the leader.
 */
#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"

#define FORWARD_CONNECT_TIMEOUT_MS 1000L
#define FORWARD_SLACK_MS 10000L          /* beyond the request's own wait */
#define FORWARD_RESPONSE_MAX (64u << 20) /* the leader's answer: results of 20,000 txs fit */

typedef struct fwd_out {
  hanse_buf body;
  char content_type[128];
} fwd_out;

static size_t fwd_write(char *p, size_t size, size_t n, void *ctx) {
  fwd_out *o = ctx;
  size_t len = size * n;
  if (o->body.len + len > FORWARD_RESPONSE_MAX) return 0;
  hanse_buf_put(&o->body, p, len);
  return hanse_buf_status(&o->body) == HANSE_OK ? len : 0;
}

int api_cluster_node_lookup(hanse_node_chain *nc, uint64_t raft_id, hanse_cluster_member *out) {
  char key[64];
  snprintf(key, sizeof key, "cluster/node/%010" PRIu64, raft_id);
  hanse_store *rd = hanse_chain_reader_acquire(nc->chain);
  if (rd == NULL) return 0;
  hanse_buf v;
  hanse_buf_init(&v);
  int found = 0;
  int rc = hanse_store_state_get(rd, key, strlen(key), &v, &found);
  hanse_chain_reader_release(nc->chain, rd);
  json_t *j = rc == HANSE_OK && found ? json_loadb((const char *)v.data, v.len, 0, NULL) : NULL;
  hanse_buf_free(&v);
  const char *st = j ? json_string_value(json_object_get(j, "status")) : NULL;
  const char *url = j ? json_string_value(json_object_get(j, "api_url")) : NULL;
  const char *addr = j ? json_string_value(json_object_get(j, "raft_addr")) : NULL;
  int ok = st && strcmp(st, "member") == 0 && url && addr;
  if (ok) {
    memset(out, 0, sizeof *out);
    out->id = raft_id;
    snprintf(out->raft_addr, sizeof out->raft_addr, "%s", addr);
    snprintf(out->api_url, sizeof out->api_url, "%s", url);
  }
  json_decref(j);
  return ok;
}

int api_forward_to_leader(hanse_req *rq, hanse_node_chain *nc, enum MHD_Result *resp) {
  if (nc->cluster == NULL || hanse_consensus_is_leader(nc->cons)) return 0;
  hanse_consensus_role role;
  hanse_consensus_role_get(nc->cons, &role);
  if (role.diverged) {
    *resp = api_error(rq, 503, "cluster.diverged",
                      "this node's copy of the chain diverged from the cluster; use another node");
    return 1;
  }
  if (MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "X-Hanse-Forwarded") != NULL) {
    *resp = api_error(rq, 503, "cluster.no_leader",
                      "raft id %" PRIu64 " is not the leader (a forwarded request is not "
                      "forwarded again); retry", role.self_id);
    return 1;
  }
  const hanse_cluster_member *m =
      role.leader_id && role.leader_id != role.self_id
          ? hanse_cluster_member_find(nc->cluster, role.leader_id)
          : NULL;
  hanse_cluster_member voted; /* a node added by governance, not in --peers */
  if (m == NULL && role.leader_id && role.leader_id != role.self_id &&
      api_cluster_node_lookup(nc, role.leader_id, &voted))
    m = &voted;
  if (m == NULL) {
    *resp = api_error(rq, 503, "cluster.no_leader", "no leader known to raft id %" PRIu64 " (%s); retry",
                      role.self_id,
                      role.leader_id == role.self_id ? "it is becoming the leader" : "an election");
    return 1;
  }
  uint64_t timeout_ms = 0, wait = 0;
  if (api_param_u64(rq, "wait", &wait) > 0 && wait == 1) {
    timeout_ms = 5000;
    (void)api_param_u64(rq, "timeout_ms", &timeout_ms);
    if (timeout_ms > HANSE_WAIT_MS_MAX) timeout_ms = HANSE_WAIT_MS_MAX;
  }
  const char *target = rq->uri ? rq->uri : rq->url;
  size_t ulen = strlen(m->api_url) + strlen(target) + 1;
  char *url = malloc(ulen);
  CURL *h = curl_easy_init();
  struct curl_slist *hdrs = NULL;
  fwd_out out;
  memset(&out, 0, sizeof out);
  hanse_buf_init(&out.body);
  if (url == NULL || h == NULL) {
    *resp = api_error_rc(rq, HANSE_ERR(NOMEM), NULL);
    goto done;
  }
  snprintf(url, ulen, "%s%s", m->api_url, target);
  static const char *const pass[] = {"Content-Type", "Content-Digest", "Signature",
                                     "Signature-Input", "Host"};
  for (size_t i = 0; i < sizeof pass / sizeof pass[0]; i++) {
    const char *v = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, pass[i]);
    if (v == NULL) continue;
    size_t ll = strlen(pass[i]) + strlen(v) + 3;
    char *line = malloc(ll);
    if (line == NULL) continue;
    memcpy(line, pass[i], strlen(pass[i]));
    memcpy(line + strlen(pass[i]), ": ", 2);
    memcpy(line + strlen(pass[i]) + 2, v, strlen(v) + 1);
    hdrs = curl_slist_append(hdrs, line);
    free(line);
  }
  char fwd[64];
  snprintf(fwd, sizeof fwd, "X-Hanse-Forwarded: %" PRIu64, role.self_id);
  hdrs = curl_slist_append(hdrs, fwd);
  hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip */
  curl_easy_setopt(h, CURLOPT_URL, url);
  if (strcmp(rq->method, "POST") == 0) {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body.data ? (const char *)rq->body.data : "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body.len);
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, FORWARD_CONNECT_TIMEOUT_MS);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms + FORWARD_SLACK_MS);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fwd_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
  CURLcode cc = curl_easy_perform(h);
  long status = 0;
  if (cc == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (cc != CURLE_OK || status < 100) {
    *resp = api_error(rq, 503, "cluster.no_leader",
                      "the leader (raft id %" PRIu64 ") did not answer: %s; retry", m->id,
                      curl_easy_strerror(cc));
    goto done;
  }
  const char *ct = NULL;
  curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
  snprintf(out.content_type, sizeof out.content_type, "%s", ct ? ct : "application/json");
  size_t olen;
  uint8_t *odata = hanse_buf_steal(&out.body, &olen);
  *resp = api_bytes_take(rq, (int)status, out.content_type, odata, olen);
done:
  hanse_buf_free(&out.body);
  curl_slist_free_all(hdrs);
  if (h) curl_easy_cleanup(h);
  free(url);
  return 1;
}
