/*
 * raft_transport.c -- TCP_NODELAY around libraft's TCP transport (see
 * raft_transport.h).
 *
 * Accepted streams reach us through the accept callback, whose first
 * argument is the transport (our struct begins with it). A connect
 * request's callback receives only the request, whose `data` belongs to
 * raft_uv; but raft_uv passes the same callback function for every
 * connect, so one remembered pointer serves every transport in the
 * process. Setting the option can fail only on a closed socket, which the
 * next read reports anyway, so its result is ignored.
 */
#include "consensus/raft_transport.h"

#include <stdatomic.h>
#include <string.h>

static _Atomic(raft_uv_connect_cb) connect_cb_orig;

static void nodelay(struct uv_stream_s *stream) {
  if (stream != NULL && stream->type == UV_TCP) (void)uv_tcp_nodelay((uv_tcp_t *)stream, 1);
}

static void accept_wrap(struct raft_uv_transport *tcp, raft_id id, const char *address,
                        struct uv_stream_s *stream) {
  hanse_raft_transport *t = (hanse_raft_transport *)tcp;
  nodelay(stream);
  t->accept_cb(tcp, id, address, stream);
}

static int listen_wrap(struct raft_uv_transport *tcp, raft_uv_accept_cb cb) {
  hanse_raft_transport *t = (hanse_raft_transport *)tcp;
  t->accept_cb = cb;
  return t->listen_orig(tcp, accept_wrap);
}

static void connect_done(struct raft_uv_connect *req, struct uv_stream_s *stream, int status) {
  if (status == 0) nodelay(stream);
  raft_uv_connect_cb cb = atomic_load(&connect_cb_orig);
  cb(req, stream, status);
}

static int connect_wrap(struct raft_uv_transport *tcp, struct raft_uv_connect *req, raft_id id,
                        const char *address, raft_uv_connect_cb cb) {
  hanse_raft_transport *t = (hanse_raft_transport *)tcp;
  raft_uv_connect_cb prev = atomic_exchange(&connect_cb_orig, cb);
  (void)prev; /* always raft_uv's one callback (see above) */
  return t->connect_orig(tcp, req, id, address, connect_done);
}

int hanse_raft_transport_init(hanse_raft_transport *t, uv_loop_t *loop) {
  memset(t, 0, sizeof *t);
  t->tcp.version = 1; /* 0.22.1 refuses 0: "Invalid version: 0" */
  int rv = raft_uv_tcp_init(&t->tcp, loop);
  if (rv != 0) return rv;
  t->listen_orig = t->tcp.listen;
  t->connect_orig = t->tcp.connect;
  t->tcp.listen = listen_wrap;
  t->tcp.connect = connect_wrap;
  return 0;
}

void hanse_raft_transport_close(hanse_raft_transport *t) { raft_uv_tcp_close(&t->tcp); }
