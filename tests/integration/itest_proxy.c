/*
 * itest_proxy.c -- the fault-injecting TCP proxy of itest_proxy.h.
 *
 * Routes. One listening socket per (from, to, k) with from != to, bound to
 * 127.0.0.1 port 0 at start (so no other process can take the port between
 * choosing and binding it); route index (from * n + to) * nports + k, the
 * slots with from == to unused.
 *
 * Connections. An accepted socket (side 0, the dialing node) is paired
 * with a socket connecting, non-blocking, to the route's real port (side
 * 1, the target). Each direction d (side d -> side 1-d) has its own buffer
 * of PX_BUF_BYTES: bytes are read from side d only while the buffer has
 * room, and written to side 1-d while it holds any, so a slow reader
 * slows its writer instead of growing memory. End of stream is passed on:
 * once side d has said EOF and its buffer is empty, side 1-d is shut down
 * for writing; a connection whose two directions are both shut, or with
 * an error on either side, is closed, both sockets at once. The buffers
 * are allocated when a connection is accepted and freed when it closes;
 * at most PX_CONNS_MAX are open, more are accepted and closed.
 *
 * Cuts. The test thread sets cut[from][to] under the mutex, bumps
 * `requested`, writes a byte to a pipe that the proxy thread polls, and
 * waits until `applied` catches up. At the top of every loop the proxy
 * thread takes a copy of the cut flags, closes every connection of a cut
 * pair and sets `applied`; accepts later in the same turn use the copy. So
 * when it_proxy_cut(on) returns, nothing of that pair is open, and any
 * connection accepted afterwards is closed before a byte is forwarded.
 *
 * The thread never exits the process and never asserts: an error on a
 * socket closes that connection; a failed poll is retried (EINTR) or
 * reported once and the thread waits for stop.
 */
#include "itest_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PX_BUF_BYTES (64 * 1024) /* per connection and direction */
#define PX_CONNS_MAX 256         /* a 5-node cluster holds some 20 Raft and a few HTTP */
#define PX_POLL_MS 1000          /* a wake-up comes through the pipe anyway */

typedef struct px_dir {
  uint8_t *buf;
  size_t off, len; /* pending bytes: buf[off .. off + len) */
  int eof;         /* the source side said end of stream */
  int shut;        /* the destination side was shut down for writing */
} px_dir;

typedef struct px_conn {
  int live;
  int pair;       /* from * n + to */
  int fd[2];      /* 0: accepted from the dialing node, 1: to the target */
  int connecting; /* fd[1]'s connect() still in progress */
  int pi[2];      /* index of fd[s] in this turn's pollfd array, or -1 */
  px_dir dir[2];  /* dir[d]: bytes from fd[d] to fd[1 - d] */
} px_conn;

typedef struct px_route {
  int listen_fd; /* -1 for from == to */
  int port;      /* where the dialing node connects */
  int target;    /* the real port */
  int pi;
} px_route;

struct it_proxy {
  int n, nports, nroutes;
  px_route *routes;
  px_conn conns[PX_CONNS_MAX];
  struct pollfd *pfd;
  int wake[2]; /* pipe: [0] polled by the thread, [1] written by callers */
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int cut[IT_PROXY_NODES_MAX][IT_PROXY_NODES_MAX]; /* under mu */
  uint64_t requested, applied;                     /* under mu */
  int stop;                                        /* under mu */
  _Atomic uint64_t bytes[IT_PROXY_NODES_MAX * IT_PROXY_NODES_MAX];
};

static void px_close(px_conn *c) {
  if (!c->live) return;
  for (int s = 0; s < 2; s++) {
    if (c->fd[s] >= 0) close(c->fd[s]);
    free(c->dir[s].buf);
  }
  memset(c, 0, sizeof *c);
  c->fd[0] = c->fd[1] = -1;
}

/* A socket connecting to 127.0.0.1:port, non-blocking; -1 on failure.
 * *connecting is 1 while the connect is still in progress. */
static int px_dial(int port, int *connecting) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons((uint16_t)port);
  int rc;
  do rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
  while (rc != 0 && errno == EINTR);
  if (rc == 0) {
    *connecting = 0;
    return fd;
  }
  if (errno == EINPROGRESS) {
    *connecting = 1;
    return fd;
  }
  close(fd);
  return -1;
}

/* Accept everything pending on route r; pair the new connections with a
 * dial to the target unless the pair is cut or the table is full. */
static void px_accept(it_proxy *p, int r, int cut_now) {
  int pair = r / p->nports;
  for (;;) {
    int fd = accept4(p->routes[r].listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return; /* EAGAIN, or out of descriptors: try again next turn */
    }
    px_conn *c = NULL;
    for (int i = 0; i < PX_CONNS_MAX && c == NULL && !cut_now; i++)
      if (!p->conns[i].live) c = &p->conns[i];
    if (c == NULL) {
      close(fd);
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    memset(c, 0, sizeof *c);
    c->live = 1;
    c->pair = pair;
    c->fd[0] = fd;
    c->fd[1] = px_dial(p->routes[r].target, &c->connecting);
    c->dir[0].buf = malloc(PX_BUF_BYTES);
    c->dir[1].buf = malloc(PX_BUF_BYTES);
    if (c->fd[1] < 0 || c->dir[0].buf == NULL || c->dir[1].buf == NULL) px_close(c);
  }
}

/* Move bytes for direction d of c as far as the sockets allow; returns -1
 * if the connection must close. */
static int px_pump(it_proxy *p, px_conn *c, int d) {
  px_dir *x = &c->dir[d];
  int src = c->fd[d], dst = c->fd[1 - d];
  short rev_src = c->pi[d] >= 0 ? p->pfd[c->pi[d]].revents : 0;
  short rev_dst = c->pi[1 - d] >= 0 ? p->pfd[c->pi[1 - d]].revents : 0;
  if (!x->eof && (rev_src & (POLLIN | POLLHUP | POLLERR))) {
    if (x->off > 0) {
      memmove(x->buf, x->buf + x->off, x->len);
      x->off = 0;
    }
    if (x->len < PX_BUF_BYTES) {
      ssize_t got = read(src, x->buf + x->len, PX_BUF_BYTES - x->len);
      if (got > 0) x->len += (size_t)got;
      else if (got == 0) x->eof = 1;
      else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return -1;
    }
  } else if (x->eof && (rev_src & (POLLHUP | POLLERR))) {
    return -1; /* the source is gone both ways: nothing more will come or go */
  }
  if (x->len > 0 && (rev_dst & (POLLOUT | POLLERR | POLLHUP))) {
    ssize_t put = send(dst, x->buf + x->off, x->len, MSG_NOSIGNAL);
    if (put > 0) {
      x->off += (size_t)put;
      x->len -= (size_t)put;
      atomic_fetch_add(&p->bytes[c->pair], (uint64_t)put);
    } else if (put < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      return -1;
    }
  }
  if (x->len == 0) x->off = 0;
  if (x->eof && x->len == 0 && !x->shut) {
    shutdown(dst, SHUT_WR);
    x->shut = 1;
  }
  return 0;
}

/* One connection after poll: finish the connect, then pump both ways. */
static void px_serve(it_proxy *p, px_conn *c) {
  if (c->connecting) {
    short rev = c->pi[1] >= 0 ? p->pfd[c->pi[1]].revents : 0;
    short rev0 = c->pi[0] >= 0 ? p->pfd[c->pi[0]].revents : 0;
    if (rev0 & (POLLHUP | POLLERR)) {
      px_close(c);
      return;
    }
    if (!(rev & (POLLOUT | POLLERR | POLLHUP))) return;
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      px_close(c); /* the target is down: the dialing node sees its connection close */
      return;
    }
    c->connecting = 0;
    return; /* poll again with the real interest */
  }
  if (px_pump(p, c, 0) != 0 || px_pump(p, c, 1) != 0 || (c->dir[0].shut && c->dir[1].shut))
    px_close(c);
}

static short px_events(const px_conn *c, int s) {
  if (c->connecting) return s == 1 ? POLLOUT : 0;
  short ev = 0;
  const px_dir *in = &c->dir[s], *out = &c->dir[1 - s];
  if (!in->eof && in->len < PX_BUF_BYTES) ev |= POLLIN;
  if (out->len > 0) ev |= POLLOUT;
  return ev;
}

static void *px_main(void *arg) {
  it_proxy *p = arg;
  int cut[IT_PROXY_NODES_MAX][IT_PROXY_NODES_MAX];
  int poll_failed = 0;
  for (;;) {
    pthread_mutex_lock(&p->mu);
    int stop = p->stop;
    memcpy(cut, p->cut, sizeof cut);
    for (int i = 0; i < PX_CONNS_MAX; i++) {
      px_conn *c = &p->conns[i];
      if (c->live && (stop || cut[c->pair / p->n][c->pair % p->n])) px_close(c);
    }
    p->applied = p->requested;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    if (stop) break;

    int np = 0;
    p->pfd[np++] = (struct pollfd){p->wake[0], POLLIN, 0};
    for (int r = 0; r < p->nroutes; r++) {
      p->routes[r].pi = -1;
      if (p->routes[r].listen_fd < 0 || poll_failed) continue;
      p->routes[r].pi = np;
      p->pfd[np++] = (struct pollfd){p->routes[r].listen_fd, POLLIN, 0};
    }
    for (int i = 0; i < PX_CONNS_MAX; i++) {
      px_conn *c = &p->conns[i];
      c->pi[0] = c->pi[1] = -1;
      if (!c->live || poll_failed) continue;
      for (int s = 0; s < 2; s++) {
        c->pi[s] = np;
        p->pfd[np++] = (struct pollfd){c->fd[s], px_events(c, s), 0};
      }
    }
    int rc = poll(p->pfd, (nfds_t)np, PX_POLL_MS);
    if (rc < 0) {
      if (errno == EINTR) continue;
      if (!poll_failed)
        fprintf(stderr, "itest_proxy: poll: %s; forwarding stops\n", strerror(errno));
      poll_failed = 1; /* then only the pipe is polled, until stop */
      continue;
    }
    if (p->pfd[0].revents & POLLIN) {
      char drain[64];
      while (read(p->wake[0], drain, sizeof drain) > 0) {}
    }
    for (int i = 0; i < PX_CONNS_MAX; i++)
      if (p->conns[i].live && p->conns[i].pi[0] >= 0) px_serve(p, &p->conns[i]);
    for (int r = 0; r < p->nroutes; r++) {
      px_route *rt = &p->routes[r];
      if (rt->pi >= 0 && (p->pfd[rt->pi].revents & POLLIN)) {
        int pair = r / p->nports;
        px_accept(p, r, cut[pair / p->n][pair % p->n]);
      }
    }
  }
  return NULL;
}

static int px_listen(int *port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 64) != 0 ||
      getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
    close(fd);
    return -1;
  }
  *port = ntohs(sa.sin_port);
  return fd;
}

static void px_free(it_proxy *p) {
  for (int r = 0; p->routes && r < p->nroutes; r++)
    if (p->routes[r].listen_fd >= 0) close(p->routes[r].listen_fd);
  for (int s = 0; s < 2; s++)
    if (p->wake[s] >= 0) close(p->wake[s]);
  free(p->routes);
  free(p->pfd);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
  free(p);
}

it_proxy *it_proxy_start(int n, int nports, const int *ports) {
  if (n < 2 || n > IT_PROXY_NODES_MAX || nports < 1 || nports > IT_PROXY_PORTS_MAX) {
    fprintf(stderr, "itest_proxy: %d nodes of %d ports: out of range\n", n, nports);
    return NULL;
  }
  it_proxy *p = calloc(1, sizeof *p);
  if (p == NULL) return NULL;
  p->n = n;
  p->nports = nports;
  p->nroutes = n * n * nports;
  p->wake[0] = p->wake[1] = -1;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  for (int i = 0; i < PX_CONNS_MAX; i++) p->conns[i].fd[0] = p->conns[i].fd[1] = -1;
  p->routes = calloc((size_t)p->nroutes, sizeof *p->routes);
  p->pfd = calloc((size_t)(1 + p->nroutes + 2 * PX_CONNS_MAX), sizeof *p->pfd);
  if (p->routes == NULL || p->pfd == NULL || pipe2(p->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
    fprintf(stderr, "itest_proxy: out of memory or descriptors\n");
    px_free(p);
    return NULL;
  }
  for (int r = 0; r < p->nroutes; r++) p->routes[r].listen_fd = -1;
  for (int from = 0; from < n; from++)
    for (int to = 0; to < n; to++)
      for (int k = 0; k < nports && from != to; k++) {
        px_route *rt = &p->routes[(from * n + to) * nports + k];
        rt->target = ports[to * nports + k];
        rt->listen_fd = px_listen(&rt->port);
        if (rt->listen_fd < 0) {
          fprintf(stderr, "itest_proxy: cannot listen on 127.0.0.1: %s\n", strerror(errno));
          px_free(p);
          return NULL;
        }
      }
  if (pthread_create(&p->thread, NULL, px_main, p) != 0) {
    fprintf(stderr, "itest_proxy: cannot start its thread\n");
    px_free(p);
    return NULL;
  }
  return p;
}

int it_proxy_port(const it_proxy *p, int from, int to, int k) {
  if (from < 0 || to < 0 || from >= p->n || to >= p->n || from == to || k < 0 || k >= p->nports)
    return -1;
  return p->routes[(from * p->n + to) * p->nports + k].port;
}

/* Ask the thread to look at the flags again and wait until it has. */
static void px_apply(it_proxy *p) {
  uint64_t want = ++p->requested;
  char one = 1;
  ssize_t w;
  do w = write(p->wake[1], &one, 1);
  while (w < 0 && errno == EINTR); /* EAGAIN: the pipe is full, a wake-up is pending */
  while (p->applied < want) pthread_cond_wait(&p->cv, &p->mu);
}

void it_proxy_cut(it_proxy *p, int from, int to, int on) {
  if (from < 0 || to < 0 || from >= p->n || to >= p->n || from == to) return;
  pthread_mutex_lock(&p->mu);
  p->cut[from][to] = on != 0;
  px_apply(p);
  pthread_mutex_unlock(&p->mu);
}

uint64_t it_proxy_bytes(it_proxy *p, int from, int to) {
  if (from < 0 || to < 0 || from >= p->n || to >= p->n) return 0;
  return atomic_load(&p->bytes[from * p->n + to]);
}

void it_proxy_stop(it_proxy *p) {
  if (p == NULL) return;
  pthread_mutex_lock(&p->mu);
  p->stop = 1;
  px_apply(p);
  pthread_mutex_unlock(&p->mu);
  pthread_join(p->thread, NULL);
  px_free(p);
}
