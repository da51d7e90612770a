/*
 * cluster_config.c -- the member list of a cluster, as given on the
 * command line (`hanse node --peers`), parsed into hanse_cluster_config
 * (consensus.h).
 *
 * One syntax, "ID@HOST:PORT@URL" per member, comma-separated: the Raft id,
 * the address of its Raft transport (an IPv4 address and port: libraft's
 * TCP transport takes nothing else) and the base URL of its HTTP API,
 * where followers forward submissions. The list is the initial Raft
 * configuration (raft_bootstrap on each new node), so every node must be
 * given the same members with the same ids. The addresses are this node's
 * own business: it listens on its own entry's Raft address and dials and
 * calls the others at the addresses in its list, so these may differ from
 * node to node as long as they reach the same member (the partition test
 * routes each directed pair through a proxy of its own); the one
 * exception is a snapshot installed from the leader, which carries the
 * leader's list, addresses included. Normally every node is given the
 * identical list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consensus/consensus.h"

static int parse_member(const char *s, size_t n, hanse_cluster_member *m, hanse_reject *rej) {
  char item[HANSE_CLUSTER_ADDR_MAX + HANSE_CLUSTER_URL_MAX + 32];
  if (n == 0 || n >= sizeof item)
    return hanse_reject_set(rej, HANSE_ERR(INVALID), "cluster member '%.*s': bad length",
                            (int)(n > 64 ? 64 : n), s);
  memcpy(item, s, n);
  item[n] = 0;
  char *at1 = strchr(item, '@');
  char *at2 = at1 ? strchr(at1 + 1, '@') : NULL;
  if (at1 == NULL || at2 == NULL)
    return hanse_reject_set(rej, HANSE_ERR(INVALID),
                            "cluster member '%s': want ID@HOST:PORT@URL", item);
  *at1 = 0;
  *at2 = 0;
  char *end;
  unsigned long long id = strtoull(item, &end, 10);
  if (*item == 0 || *end != 0 || id == 0 || id > 1000000)
    return hanse_reject_set(rej, HANSE_ERR(INVALID),
                            "cluster member '%s': the id must be an integer from 1", item);
  const char *addr = at1 + 1, *url = at2 + 1;
  const char *colon = strrchr(addr, ':');
  if (colon == NULL || colon == addr || atoi(colon + 1) <= 0 || atoi(colon + 1) > 65535 ||
      strlen(addr) >= HANSE_CLUSTER_ADDR_MAX)
    return hanse_reject_set(rej, HANSE_ERR(INVALID),
                            "cluster member %llu: Raft address '%s' is not HOST:PORT", id, addr);
  if ((strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) ||
      strlen(url) >= HANSE_CLUSTER_URL_MAX)
    return hanse_reject_set(rej, HANSE_ERR(INVALID),
                            "cluster member %llu: API URL '%s' is not http(s)://...", id, url);
  m->id = id;
  snprintf(m->raft_addr, sizeof m->raft_addr, "%s", addr);
  snprintf(m->api_url, sizeof m->api_url, "%s", url);
  size_t ul = strlen(m->api_url);
  while (ul > 0 && m->api_url[ul - 1] == '/') m->api_url[--ul] = 0;
  return HANSE_OK;
}

int hanse_cluster_parse_members(const char *text, hanse_cluster_config *out,
                                hanse_reject *rej) {
  out->member_count = 0;
  const char *p = text;
  while (p && *p) {
    const char *comma = strchr(p, ',');
    size_t n = comma ? (size_t)(comma - p) : strlen(p);
    if (out->member_count == HANSE_CLUSTER_NODES_MAX)
      return hanse_reject_set(rej, HANSE_ERR(INVALID), "more than %d cluster members",
                              HANSE_CLUSTER_NODES_MAX);
    hanse_cluster_member *m = &out->members[out->member_count];
    int rc = parse_member(p, n, m, rej);
    if (rc != HANSE_OK) return rc;
    for (int i = 0; i < out->member_count; i++)
      if (out->members[i].id == m->id)
        return hanse_reject_set(rej, HANSE_ERR(INVALID), "cluster member id %llu given twice",
                                (unsigned long long)m->id);
    out->member_count++;
    p = comma ? comma + 1 : NULL;
  }
  if (out->member_count == 0)
    return hanse_reject_set(rej, HANSE_ERR(INVALID), "the cluster member list is empty");
  return HANSE_OK;
}

const hanse_cluster_member *hanse_cluster_member_find(const hanse_cluster_config *c,
                                                      uint64_t id) {
  for (int i = 0; i < c->member_count; i++)
    if (c->members[i].id == id) return &c->members[i];
  return NULL;
}
