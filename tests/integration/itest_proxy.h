/*
 * itest_proxy.h -- a fault-injecting TCP proxy for cluster tests.
 *
 * n nodes each listen on nports TCP ports of 127.0.0.1 (a cluster node: its
 * Raft port and its API port). The proxy listens on one port of its own
 * per directed pair of nodes and target port: node `from` is told to reach
 * port k of node `to` at it_proxy_port(p, from, to, k), and whatever it
 * sends there reaches the real port, byte for byte, and the answers come
 * back the same way. Cutting the pair (from, to) closes every connection
 * the proxy holds for it at once and closes each new one right after
 * accepting it, until the cut is lifted: `from` can no longer reach `to`.
 * A partition is the cut of every pair across it, both directions.
 *
 * The proxy is one thread polling non-blocking sockets, with a bounded
 * buffer per connection and direction; nothing else of the test process
 * is touched. Functions are listed in the order a test calls them; none
 * may be called from two threads at once, except it_proxy_bytes.
 */
#ifndef HANSE_ITEST_PROXY_H
#define HANSE_ITEST_PROXY_H

#include <stdint.h>

#define IT_PROXY_NODES_MAX 16
#define IT_PROXY_PORTS_MAX 4

typedef struct it_proxy it_proxy;

/* Start a proxy for n nodes (2..IT_PROXY_NODES_MAX) with nports target
 * ports each (1..IT_PROXY_PORTS_MAX): ports[to * nports + k] is port k of
 * node `to` on 127.0.0.1. Binds every listening port before it returns.
 * Returns NULL (and says why on stderr) if a socket or the thread cannot
 * be created. The caller owns the proxy: it_proxy_stop frees it. */
it_proxy *it_proxy_start(int n, int nports, const int *ports);

/* The port on 127.0.0.1 where node `from` reaches port k of node `to`
 * (from != to). */
int it_proxy_port(const it_proxy *p, int from, int to, int k);

/* on = 1: cut the pair (from, to), every port k; when this returns, no
 * connection of that pair is open and none will be forwarded. on = 0:
 * forward new connections again. */
void it_proxy_cut(it_proxy *p, int from, int to, int on);

/* Bytes forwarded so far on the pair (from, to), both directions, every
 * port k. Any thread may ask. */
uint64_t it_proxy_bytes(it_proxy *p, int from, int to);

/* Close every connection and listening socket, join the thread, free p.
 * NULL is ignored. */
void it_proxy_stop(it_proxy *p);

#endif
