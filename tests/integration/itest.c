/*
 * itest.c -- integration test helpers (see itest.h).
 *
 * Processes are started with fork/exec and remembered in a table, so a
 * failing check can stop every node it started (by pid) before exiting.
 * Ports come from binding port 0 on 127.0.0.1 and reading the port back.
 */
#include "itest.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/hex.h"
#include "hanse/client.h"
#include "encoding/tx.h"

#define IT_NODES_MAX 16
static it_node *it_nodes[IT_NODES_MAX];

static void it_register(it_node *n) {
  for (int i = 0; i < IT_NODES_MAX; i++)
    if (it_nodes[i] == n) return;
  for (int i = 0; i < IT_NODES_MAX; i++)
    if (it_nodes[i] == NULL) {
      it_nodes[i] = n;
      return;
    }
}

void it_remove_dir(it_node *n) {
  if (n->dir[0] == 0) return;
  const char *argv[] = {"rm", "-rf", n->dir, NULL};
  it_run(argv, NULL);
  n->dir[0] = 0;
}

void it_cleanup_all(void) {
  for (int i = 0; i < IT_NODES_MAX; i++) {
    it_node *n = it_nodes[i];
    if (n == NULL) continue;
    if (n->pid > 0) it_kill(n);
    if (getenv("HANSE_KEEP_DIRS") == NULL) it_remove_dir(n);
    it_nodes[i] = NULL;
  }
}

void it_key(hanse_keypair *kp, uint8_t seed) {
  uint8_t s[HANSE_SEED_BYTES];
  memset(s, 0, sizeof s);
  s[0] = seed;
  s[31] = 0x5a;
  hanse_keypair_from_seed(kp, s);
}

void it_pubhex(char out[65], uint8_t seed) {
  hanse_keypair kp;
  it_key(&kp, seed);
  hanse_pubkey_hex(out, &kp.pub);
}

/* A port on 127.0.0.1 free at the moment of asking, chosen at random
 * BELOW the kernel's ephemeral range (32768-60999 by default): a port the
 * kernel hands out for bind(0) is also what it hands out as the local
 * port of outgoing connections -- curl's, libraft's, the test proxy's --
 * so a cluster's ports, fixed before its nodes start, could be taken by
 * a connection in the meantime. Ports 20000-32767 are never used that
 * way; two tests picking the same one is left to chance (1 in ~12,000)
 * and to the bind check. */
#define IT_PORT_LOW 20000
#define IT_PORT_HIGH 32767

static int port_bindable(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons((uint16_t)port);
  int ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
  close(fd);
  return ok;
}

static int free_port(void) {
  static unsigned seed;
  if (seed == 0) seed = (unsigned)getpid() * 2654435761u ^ (unsigned)time(NULL);
  for (int attempt = 0; attempt < 1000; attempt++) {
    seed = seed * 1103515245u + 12345u;
    int port = IT_PORT_LOW + (int)((seed >> 8) % (IT_PORT_HIGH - IT_PORT_LOW + 1));
    if (port_bindable(port)) return port;
  }
  return -1;
}

int it_free_port(void) { return free_port(); }

int it_run(const char *const *argv, char **out) {
  int pipefd[2];
  if (pipe(pipefd) != 0) return -1;
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    dup2(pipefd[1], 1);
    dup2(pipefd[1], 2);
    close(pipefd[0]);
    close(pipefd[1]);
    execvp(argv[0], (char *const *)argv);
    _exit(127);
  }
  close(pipefd[1]);
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  ssize_t r;
  while (buf && (r = read(pipefd[0], buf + len, cap - len - 1)) > 0) {
    len += (size_t)r;
    if (cap - len < 1024) {
      cap *= 2;
      char *nb = realloc(buf, cap);
      if (nb == NULL) break;
      buf = nb;
    }
  }
  close(pipefd[0]);
  if (buf) buf[len] = 0;
  int st;
  waitpid(pid, &st, 0);
  if (out) *out = buf;
  else free(buf);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void it_init(it_node *n, const char *hanse, const char *chain_id,
             const uint8_t *seeds, int nseeds) {
  memset(n, 0, sizeof *n);
  n->hanse = hanse;
  const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  snprintf(n->dir, sizeof n->dir, "%s/hanse-it-XXXXXX", tmp);
  IT_CHECK(mkdtemp(n->dir) != NULL);
  it_register(n);
  json_t *orgs = json_array();
  for (int i = 0; i < nseeds; i++) {
    char hex[65], id[32];
    it_pubhex(hex, seeds[i]);
    snprintf(id, sizeof id, "org%d", seeds[i]);
    json_array_append_new(orgs, json_pack("{s:s, s:s, s:s, s:[s]}", "id", id, "name", id,
                                          "role", "manufacturer", "keys", hex));
  }
  it_init_genesis(n, json_pack("{s:s, s:o}", "chain_id", chain_id, "organisations", orgs));
}

int it_cli(it_node *n, char **out, const char *const *args) {
  const char *argv[40];
  int k = 0;
  argv[k++] = n->hanse;
  for (int i = 0; args[i]; i++) {
    IT_CHECK(k < 37);
    argv[k++] = args[i];
  }
  argv[k++] = "--node";
  argv[k++] = n->url;
  argv[k] = NULL;
  char *o = NULL;
  int rc = it_run(argv, &o);
  if (out) *out = o;
  else free(o);
  return rc;
}

int it_cli_chain(it_node *n, const char *chain, char **out, const char *const *args) {
  const char *argv[40];
  int k = 0;
  for (int i = 0; args[i]; i++) {
    IT_CHECK(k < 34);
    argv[k++] = args[i];
  }
  argv[k++] = "--chain";
  argv[k++] = chain;
  argv[k] = NULL;
  return it_cli(n, out, argv);
}

json_t *it_first_json(const char *out) {
  json_error_t err;
  json_t *j = out ? json_loads(out, JSON_DISABLE_EOF_CHECK, &err) : NULL;
  if (j == NULL) fprintf(stderr, "not JSON: %s\n", out ? out : "(none)");
  return j;
}

void it_init_genesis(it_node *n, json_t *genesis) {
  IT_CHECK(genesis != NULL);
  char gpath[300];
  snprintf(gpath, sizeof gpath, "%s/genesis-%s.json", n->dir,
           json_string_value(json_object_get(genesis, "chain_id")));
  IT_CHECK(json_dump_file(genesis, gpath, JSON_INDENT(2)) == 0);
  json_decref(genesis);
  const char *argv[] = {n->hanse, "init", "--data", n->dir, "--genesis", gpath, NULL};
  char *out = NULL;
  int rc = it_run(argv, &out);
  if (rc != 0) fprintf(stderr, "hanse init failed (%d): %s\n", rc, out ? out : "");
  free(out);
  IT_CHECK(rc == 0);
}

static int it_start_once(it_node *n, const char *const *extra, int *exit_status);

/* 1 if the node's log says its port was taken (another test's process
 * bound the free port we picked before our node did). */
static int lost_port_race(const it_node *n) {
  FILE *f = fopen(n->log, "r");
  if (f == NULL) return 0;
  char line[512];
  int lost = 0;
  while (fgets(line, sizeof line, f)) lost |= strstr(line, "port in use") != NULL;
  fclose(f);
  return lost;
}

int it_start(it_node *n, const char *const *extra, int *exit_status) {
  for (int attempt = 0;; attempt++) {
    int st = 0;
    int rc = it_start_once(n, extra, &st);
    if (rc == 0 || n->fixed_port > 0 || attempt == 4 || !lost_port_race(n)) {
      if (exit_status) *exit_status = st;
      return rc;
    }
    if (truncate(n->log, 0) != 0) { /* the next attempt appends: harmless */ }
  }
}

static int it_start_once(it_node *n, const char *const *extra, int *exit_status) {
  it_register(n);
  n->port = n->fixed_port > 0 ? n->fixed_port : free_port();
  IT_CHECK(n->port > 0);
  snprintf(n->url, sizeof n->url, "http://127.0.0.1:%d", n->port);
  snprintf(n->log, sizeof n->log, "%s/node.log", n->dir);
  char port[16];
  snprintf(port, sizeof port, "%d", n->port);
  const char *argv[32] = {n->hanse, "node", "--data", n->dir, "--port", port};
  int k = 6;
  for (int i = 0; extra && extra[i] && k < 30; i++) argv[k++] = extra[i];
  argv[k] = NULL;
  pid_t pid = fork();
  IT_CHECK(pid >= 0);
  if (pid == 0) {
    int fd = open(n->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  n->pid = pid;
  for (int i = 0; i < 300; i++) { /* up to 30 s */
    int st;
    pid_t w = waitpid(pid, &st, WNOHANG);
    if (w == pid) {
      n->pid = 0;
      *exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      return -1;
    }
    long status = 0;
    json_t *j = it_get_json(n, "/v1/health", &status);
    json_decref(j);
    if (status == 200) return 0;
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  fprintf(stderr, "node did not become healthy; log %s\n", n->log);
  it_kill(n);
  return -1;
}

static int it_signal(it_node *n, int sig) {
  if (n->pid <= 0) return 0;
  kill(n->pid, sig);
  int st = 0;
  waitpid(n->pid, &st, 0);
  n->pid = 0;
  return st;
}

/* A clean stop must end with exit status 0: under ASan/LSan a leak or a
 * memory error in the node shows up here. */
void it_stop(it_node *n) {
  int st = it_signal(n, SIGTERM);
  if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
    fprintf(stderr, "node did not stop cleanly (status 0x%x); its log %s:\n", st, n->log);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "tail -40 '%s' >&2", n->log);
    if (system(cmd) != 0) fprintf(stderr, "(no log)\n");
  }
  IT_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

void it_kill(it_node *n) { it_signal(n, SIGKILL); }

typedef struct grow {
  char *p;
  size_t len, cap;
} grow;

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *ud) {
  grow *g = ud;
  size_t n = size * nmemb;
  if (g->len + n + 1 > g->cap) {
    size_t cap = g->cap ? g->cap : 4096;
    while (cap < g->len + n + 1) cap *= 2;
    char *np = realloc(g->p, cap);
    if (np == NULL) return 0;
    g->p = np;
    g->cap = cap;
  }
  memcpy(g->p + g->len, ptr, n);
  g->len += n;
  g->p[g->len] = 0;
  return n;
}

int it_http(const char *method, const char *url, const char *content_type,
            const void *body, size_t len, it_resp *out) {
  memset(out, 0, sizeof *out);
  CURL *c = curl_easy_init();
  if (c == NULL) return -1;
  grow g = {0};
  struct curl_slist *hdrs = NULL;
  char ct[160];
  if (content_type) {
    snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
    hdrs = curl_slist_append(hdrs, ct);
  }
  hdrs = curl_slist_append(hdrs, "Expect:");
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &g);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  if (body) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
  }
  if (strcmp(method, "HEAD") == 0) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    char *t = NULL;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &t);
    if (t) snprintf(out->content_type, sizeof out->content_type, "%s", t);
    struct curl_header *h = NULL;
    if (curl_easy_header(c, "Link", 0, CURLH_HEADER, -1, &h) == CURLHE_OK && h)
      snprintf(out->link, sizeof out->link, "%s", h->value);
    if (curl_easy_header(c, "Cache-Control", 0, CURLH_HEADER, -1, &h) == CURLHE_OK && h)
      snprintf(out->cache_control, sizeof out->cache_control, "%s", h->value);
  }
  out->body = g.p ? g.p : calloc(1, 1);
  out->len = g.len;
  curl_slist_free_all(hdrs);
  curl_easy_cleanup(c);
  return rc == CURLE_OK ? 0 : -1;
}

void it_resp_free(it_resp *r) {
  free(r->body);
  r->body = NULL;
}

json_t *it_get_json(it_node *n, const char *path, long *status) {
  char url[1024];
  snprintf(url, sizeof url, "%s%s", n->url, path);
  it_resp r;
  *status = 0;
  if (it_http("GET", url, NULL, NULL, 0, &r) != 0) {
    it_resp_free(&r);
    return NULL;
  }
  *status = r.status;
  json_t *j = json_loadb(r.body, r.len, 0, NULL);
  it_resp_free(&r);
  return j;
}

json_t *it_post_json(it_node *n, const char *path, const char *json, long *status) {
  char url[1024];
  snprintf(url, sizeof url, "%s%s", n->url, path);
  it_resp r;
  *status = 0;
  if (it_http("POST", url, "application/json", json, strlen(json), &r) != 0) {
    it_resp_free(&r);
    return NULL;
  }
  *status = r.status;
  json_t *j = json_loadb(r.body, r.len, 0, NULL);
  it_resp_free(&r);
  return j;
}

void it_tx_bytes(hanse_buf *out, const char *chain, const char *kind,
                 uint8_t seed, uint64_t seq, const char *payload, int batched) {
  hanse_keypair kp;
  it_key(&kp, seed);
  hanse_tx_fields f = {chain, kind, &kp.pub, seq, 1700000000000ull, payload, strlen(payload)};
  hanse_reject rej;
  IT_CHECK(hanse_tx_encode(out, &f, batched ? NULL : &kp, &rej) == HANSE_OK);
}

char *it_tx_hex(const char *chain, const char *kind, uint8_t seed, uint64_t seq,
                const char *payload, hanse_hash *id) {
  hanse_buf b;
  hanse_buf_init(&b);
  it_tx_bytes(&b, chain, kind, seed, seq, payload, 0);
  if (id) hanse_sha256(id, b.data, b.len);
  char *hex = malloc(2 * b.len + 1);
  hanse_hex_encode(hex, b.data, b.len);
  hanse_buf_free(&b);
  return hex;
}

uint64_t it_height(it_node *n) {
  char path[128];
  snprintf(path, sizeof path, "/v1/status");
  long st;
  json_t *s = it_get_json(n, "/v1/status", &st);
  IT_CHECK(s != NULL && st == 200);
  const char *chain = json_string_value(json_array_get(json_object_get(s, "chains"), 0));
  snprintf(path, sizeof path, "/v1/chains/%s/status", chain);
  json_decref(s);
  json_t *j = it_get_json(n, path, &st);
  IT_CHECK(j != NULL && st == 200);
  uint64_t h = (uint64_t)json_integer_value(json_object_get(j, "height"));
  json_decref(j);
  return h;
}

void it_state_digest(it_node *n, char out[65]) {
  long st;
  json_t *s = it_get_json(n, "/v1/status", &st);
  IT_CHECK(s != NULL && st == 200);
  char path[128];
  snprintf(path, sizeof path, "/v1/chains/%s/status",
           json_string_value(json_array_get(json_object_get(s, "chains"), 0)));
  json_decref(s);
  json_t *j = it_get_json(n, path, &st);
  IT_CHECK(j != NULL && st == 200);
  snprintf(out, 65, "%s", json_string_value(json_object_get(j, "state_digest")));
  json_decref(j);
}

double it_now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void it_sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

void it_cluster_prepare(it_node *nodes, int n, const char *hanse, const char *tag,
                        const char *chain_id, json_t *org, char (*keys)[65], char *peers,
                        size_t peers_size) {
  const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  json_t *validators = json_array();
  IT_CHECK(n >= 1 && n <= 64 && org != NULL && validators != NULL);
  for (int i = 0; i < n; i++) {
    memset(&nodes[i], 0, sizeof nodes[i]);
    nodes[i].hanse = hanse;
    snprintf(nodes[i].dir, sizeof nodes[i].dir, "%s/hanse-%s-XXXXXX", tmp, tag);
    IT_CHECK(mkdtemp(nodes[i].dir) != NULL);
    char kpath[300];
    snprintf(kpath, sizeof kpath, "%s/node.key", nodes[i].dir);
    const char *kg[] = {hanse, "keygen", "--out", kpath, NULL};
    char *out = NULL;
    IT_CHECK(it_run(kg, &out) == 0);
    json_t *j = json_loads(out, 0, NULL);
    free(out);
    const char *pub = json_string_value(json_object_get(j, "public"));
    IT_CHECK(pub != NULL && strlen(pub) == 64);
    if (keys) memcpy(keys[i], pub, 65);
    json_array_append_new(validators, json_string(pub));
    json_decref(j);
    nodes[i].fixed_port = it_free_port();
    nodes[i].raft_port = it_free_port();
  }
  json_t *g = json_pack("{s:s, s:[o], s:o}", "chain_id", chain_id, "organisations", org,
                        "validators", validators);
  IT_CHECK(g != NULL);
  char gpath[300];
  snprintf(gpath, sizeof gpath, "%s/genesis-in.json", nodes[0].dir);
  IT_CHECK(json_dump_file(g, gpath, JSON_INDENT(2)) == 0);
  json_decref(g);
  const char *init[] = {hanse, "init", "--data", nodes[0].dir, "--genesis", gpath, NULL};
  char *out = NULL;
  int rc = it_run(init, &out);
  if (rc != 0) fprintf(stderr, "init: %s\n", out ? out : "");
  free(out);
  IT_CHECK(rc == 0);
  for (int i = 1; i < n; i++) {
    char src[300], dst[300];
    snprintf(src, sizeof src, "%s/chains", nodes[0].dir);
    snprintf(dst, sizeof dst, "%s/", nodes[i].dir);
    const char *cp[] = {"cp", "-r", src, dst, NULL};
    IT_CHECK(it_run(cp, NULL) == 0);
  }
  it_cluster_peers(nodes, n, -1, NULL, peers, peers_size);
}

it_proxy *it_cluster_proxy(const it_node *nodes, int n) {
  int ports[IT_PROXY_NODES_MAX * 2];
  IT_CHECK(n >= 2 && n <= IT_PROXY_NODES_MAX);
  for (int j = 0; j < n; j++) {
    ports[j * 2 + IT_PORT_RAFT] = nodes[j].raft_port;
    ports[j * 2 + IT_PORT_API] = nodes[j].fixed_port;
  }
  return it_proxy_start(n, 2, ports);
}

void it_cluster_peers(const it_node *nodes, int n, int self, const it_proxy *proxy,
                      char *peers, size_t peers_size) {
  size_t pl = 0;
  for (int j = 0; j < n; j++) {
    int direct = proxy == NULL || j == self;
    int raft = direct ? nodes[j].raft_port : it_proxy_port(proxy, self, j, IT_PORT_RAFT);
    int api = direct ? nodes[j].fixed_port : it_proxy_port(proxy, self, j, IT_PORT_API);
    IT_CHECK(raft > 0 && api > 0);
    int w = snprintf(peers + pl, peers_size - pl, "%s%d@127.0.0.1:%d@http://127.0.0.1:%d",
                     j ? "," : "", j + 1, raft, api);
    IT_CHECK(w > 0 && (size_t)w < peers_size - pl);
    pl += (size_t)w;
  }
}

/* ---- Clusters ---- */

json_t *it_chain_status(it_node *n, const char *chain) {
  char path[160];
  snprintf(path, sizeof path, "/v1/chains/%s/status", chain);
  long st = 0;
  json_t *s = it_get_json(n, path, &st);
  if (s && st != 200) {
    json_decref(s);
    s = NULL;
  }
  return s;
}

int it_find_leader(it_node *nodes, int n, const char *chain) {
  for (int i = 0; i < n; i++) {
    if (nodes[i].pid == 0) continue;
    json_t *s = it_chain_status(&nodes[i], chain);
    if (s == NULL) continue;
    json_t *c = json_object_get(s, "cluster");
    const char *role = c ? json_string_value(json_object_get(c, "role")) : NULL;
    int ok = role && strcmp(role, "leader") == 0 && json_is_true(json_object_get(c, "ready"));
    json_decref(s);
    if (ok) return i;
  }
  return -1;
}

int it_wait_leader(it_node *nodes, int n, const char *chain, double timeout_s) {
  double until = it_now_s() + timeout_s;
  while (it_now_s() < until) {
    int l = it_find_leader(nodes, n, chain);
    if (l >= 0) return l;
    it_sleep_ms(50);
  }
  return -1;
}

uint64_t it_wait_converged(it_node *nodes, int n, const char *chain, uint64_t min_height,
                           double timeout_s) {
  double until = it_now_s() + timeout_s;
  while (it_now_s() < until) {
    char hash0[80] = "", dig0[80] = "";
    uint64_t h0 = 0;
    int same = 1, first = 1;
    for (int i = 0; i < n && same; i++) {
      if (nodes[i].pid == 0) continue;
      json_t *s = it_chain_status(&nodes[i], chain);
      if (s == NULL) {
        same = 0;
        break;
      }
      uint64_t h = (uint64_t)json_integer_value(json_object_get(s, "height"));
      const char *hash = json_string_value(json_object_get(s, "last_hash"));
      const char *dig = json_string_value(json_object_get(s, "state_digest"));
      if (hash == NULL || dig == NULL) {
        same = 0;
      } else if (first) {
        h0 = h;
        snprintf(hash0, sizeof hash0, "%s", hash);
        snprintf(dig0, sizeof dig0, "%s", dig);
        first = 0;
      } else if (h != h0 || strcmp(hash, hash0) != 0 || strcmp(dig, dig0) != 0) {
        same = 0;
      }
      json_decref(s);
    }
    if (same && !first && h0 >= min_height) return h0;
    it_sleep_ms(50);
  }
  for (int i = 0; i < n; i++)
    if (nodes[i].pid) fprintf(stderr, "node %d log: %s\n", i + 1, nodes[i].log);
  IT_CHECK(!"the nodes did not converge");
  return 0;
}

void it_check_blocks_identical(it_node *nodes, int n, const char *chain, uint64_t height) {
  for (uint64_t from = 1; from <= height; from += 100) {
    uint64_t to = from + 99 < height ? from + 99 : height;
    char path[192];
    snprintf(path, sizeof path, "/v1/chains/%s/blocks?from=%" PRIu64 "&to=%" PRIu64, chain, from,
             to);
    json_t *want = NULL;
    int want_node = 0;
    for (int i = 0; i < n; i++) {
      if (nodes[i].pid == 0) continue;
      long st = 0;
      json_t *j = it_get_json(&nodes[i], path, &st);
      IT_CHECK(j != NULL && st == 200);
      json_t *blocks = json_object_get(j, "blocks");
      IT_CHECK(json_array_size(blocks) == to - from + 1);
      if (want == NULL) {
        want = j;
        want_node = i;
        continue;
      }
      json_t *wb = json_object_get(want, "blocks");
      for (size_t k = 0; k < json_array_size(blocks); k++) {
        const char *a = json_string_value(json_object_get(json_array_get(wb, k), "hash"));
        const char *b = json_string_value(json_object_get(json_array_get(blocks, k), "hash"));
        if (a == NULL || b == NULL || strcmp(a, b) != 0) {
          fprintf(stderr, "block %" PRIu64 " differs between node %d and node %d\n", from + k,
                  want_node + 1, i + 1);
          IT_CHECK(0);
        }
      }
      json_decref(j);
    }
    json_decref(want);
  }
}

void it_submit_wait(it_node *n, const char *chain, const char *hex, int timeout_ms,
                    it_answer *a) {
  size_t blen = strlen(hex) + 16;
  char *body = malloc(blen);
  IT_CHECK(body != NULL);
  snprintf(body, blen, "{\"txs\":[\"%s\"]}", hex);
  char path[160];
  snprintf(path, sizeof path, "/v1/chains/%s/txs?wait=1&timeout_ms=%d", chain, timeout_ms);
  a->status = 0;
  json_t *r = it_post_json(n, path, body, &a->status);
  free(body);
  const char *what = json_string_value(
      json_object_get(json_array_get(json_object_get(r, "results"), 0), "status"));
  if (what == NULL) what = json_string_value(json_object_get(json_object_get(r, "error"), "code"));
  snprintf(a->what, sizeof a->what, "%s", what ? what : "(none)");
  json_decref(r);
}

int it_committed(const it_answer *a) {
  return a->status == 200 && strcmp(a->what, "committed") == 0;
}

int it_tx_present(it_node *n, const char *chain, const hanse_hash *id) {
  char hex[HANSE_HASH_HEX_BYTES], path[192];
  hanse_hash_hex(hex, id);
  snprintf(path, sizeof path, "/v1/chains/%s/txs/%s", chain, hex);
  long st = 0;
  json_t *j = it_get_json(n, path, &st);
  int ok = j && st == 200 && json_object_get(j, "proof") != NULL;
  json_decref(j);
  return ok;
}

static hanse_client *client_for(it_node *n, const char *chain, const hanse_keypair *kp) {
  hanse_client *c = NULL;
  hanse_reject rej;
  IT_CHECK(hanse_client_create(n->url, chain, &c, &rej) == HANSE_OK);
  if (kp) hanse_client_set_signer(c, kp);
  return c;
}

const char *it_client_submit(it_node *n, const char *chain, const hanse_keypair *kp,
                             const char *kind, json_t *payload) {
  static char code[64];
  hanse_client *c = client_for(n, chain, kp);
  hanse_reject rej;
  hanse_reject_clear(&rej);
  uint64_t seq = 0;
  hanse_buf b;
  hanse_buf_init(&b);
  hanse_client_op op = {kind, payload};
  json_t *res = NULL;
  int rc = hanse_client_next_seq(c, &kp->pub, &seq, &rej);
  if (rc == HANSE_OK) rc = hanse_client_tx_build(c, &op, seq, kp, &b, NULL, &rej);
  hanse_client_entry e = {HANSE_TYPE_TX, b.data, b.len};
  if (rc == HANSE_OK) rc = hanse_client_submit(c, &e, 1, HANSE_SUBMIT_WAIT, 0, &res, &rej);
  if (rc == HANSE_OK) rc = hanse_client_result_check(res, 0, &rej);
  snprintf(code, sizeof code, "%s", rc == HANSE_OK ? "ok" : rej.code);
  json_decref(res);
  hanse_buf_free(&b);
  hanse_client_destroy(c);
  json_decref(payload);
  return code;
}

long it_client_get(it_node *n, const char *chain, const hanse_keypair *kp, const char *path,
                   json_t **out, char code[64]) {
  hanse_client *c = client_for(n, chain, kp);
  hanse_reject rej;
  hanse_reject_clear(&rej);
  json_t *o = NULL;
  int rc = hanse_client_get(c, path, &o, &rej);
  hanse_client_destroy(c);
  snprintf(code, 64, "%s", rc == HANSE_OK ? "" : rej.code);
  if (out) *out = o;
  else json_decref(o);
  return rc == HANSE_OK ? 200 : rej.status;
}

void it_member_register(it_node *n, const char *chain, const hanse_keypair *admin,
                        uint8_t seed, const char *role) {
  char mh[65], id[32];
  it_pubhex(mh, seed);
  snprintf(id, sizeof id, "m-%s", role);
  const char *code = it_client_submit(
      n, chain, admin, "member.register",
      json_pack("{s:{s:s, s:s, s:[s], s:{}, s:s}}", "member", "id", id, "kind", "person",
                "roles", role, "attributes", "key", mh));
  if (strcmp(code, "ok") != 0) fprintf(stderr, "register %s: %s\n", id, code);
  IT_CHECK(strcmp(code, "ok") == 0);
}
