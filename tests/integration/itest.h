/*
 * itest.h -- helpers for integration tests: real `hanse` processes on
 * 127.0.0.1, a free port each, a temporary data directory each, every
 * process stopped by its own pid.
 *
 * A test gets the path of the `hanse` binary as argv[1].
 */
#ifndef HANSE_ITEST_H
#define HANSE_ITEST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/buf.h"
#include "crypto/sign.h"
#include "itest_proxy.h"

#define IT_CHECK(cond)                                                        \
  do {                                                                        \
    if (!(cond)) {                                                            \
      fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);         \
      it_cleanup_all();                                                       \
      exit(1);                                                                \
    }                                                                         \
  } while (0)

typedef struct it_node {
  const char *hanse;    /* binary */
  char dir[200];        /* data directory */
  int port;
  pid_t pid;
  char url[64];
  char log[300];
  int fixed_port;       /* > 0: it_start listens here (a cluster's URLs are
                           known before its nodes start) */
  int raft_port;        /* a cluster member's Raft port (it_cluster_prepare) */
} it_node;

/* A TCP port on 127.0.0.1 free at the moment of asking. */
int it_free_port(void);

/* Monotonic seconds; a sleep in milliseconds. */
double it_now_s(void);
void it_sleep_ms(int ms);

/* The data directories of an n-node cluster, nothing started: each node
 * a fresh temporary directory ("<tmp>/hanse-<tag>-XXXXXX") with its own
 * node key (`hanse keygen`, public key into keys[i] when keys is not
 * NULL), a fixed API port and a Raft port (raft_port); one chain
 * `chain_id` whose genesis has `org` (a JSON organisation object, stolen)
 * as its only organisation and the n node keys as validators, created in
 * the first directory with `hanse init` and copied to the others (a
 * cluster shares one genesis block); `peers` receives the --peers list
 * ("1@127.0.0.1:RAFT@URL,...") that every node may be given. */
void it_cluster_prepare(it_node *nodes, int n, const char *hanse, const char *tag,
                        const char *chain_id, json_t *org, char (*keys)[65], char *peers,
                        size_t peers_size);

/* A fault-injecting proxy (itest_proxy.h) between the n prepared members:
 * port IT_PORT_RAFT of a node is its Raft port, IT_PORT_API its API port.
 * NULL on failure. */
#define IT_PORT_RAFT 0
#define IT_PORT_API 1
it_proxy *it_cluster_proxy(const it_node *nodes, int n);

/* The --peers list of the n prepared members as node `self` is to see
 * them: with proxy NULL every member's real ports (the list that
 * it_cluster_prepare returns, the same for every node); otherwise its own
 * entry with its real ports (it listens there) and every other member's
 * Raft address and API URL at the proxy's port for the pair (self, j). */
void it_cluster_peers(const it_node *nodes, int n, int self, const it_proxy *proxy,
                      char *peers, size_t peers_size);

/* Keys derived from a one-byte seed, so tests and the genesis agree. */
void it_key(hanse_keypair *kp, uint8_t seed);
void it_pubhex(char out[65], uint8_t seed);

/* Fresh data dir with a chain `chain_id` whose genesis has one
 * organisation per seed in seeds[] (n of them). Uses `hanse init`. */
void it_init(it_node *n, const char *hanse, const char *chain_id,
             const uint8_t *seeds, int nseeds);
/* `hanse init` one more chain in n's data dir (it_init first) from
 * `genesis` (stolen; its "chain_id" names the file). */
void it_init_genesis(it_node *n, json_t *genesis);
/* Start `hanse node` on a free port (extra args may be NULL-terminated
 * list), wait for /v1/health. Returns 0 on success, -1 if the process
 * exited (e.g. refused a broken chain); then *exit_status is set. */
int it_start(it_node *n, const char *const *extra, int *exit_status);
void it_stop(it_node *n);   /* SIGTERM, wait */
void it_kill(it_node *n);   /* SIGKILL, wait */
void it_cleanup_all(void);  /* kill every node still running, remove dirs */
void it_remove_dir(it_node *n);

/* HTTP. Body returned as a NUL-terminated malloc'd string (free). */
typedef struct it_resp {
  long status;
  char *body;
  size_t len;
  char content_type[128];
  char link[1024];      /* the Link header, if any (EPCIS paging) */
  char cache_control[128]; /* the Cache-Control header, if any */
} it_resp;
int it_http(const char *method, const char *url, const char *content_type,
            const void *body, size_t len, it_resp *out);
void it_resp_free(it_resp *r);
/* GET url and parse JSON; NULL on failure. *status receives the status. */
json_t *it_get_json(it_node *n, const char *path, long *status);
/* POST JSON text; returns parsed JSON (NULL if not JSON). */
json_t *it_post_json(it_node *n, const char *path, const char *json, long *status);

/* Build a signed transaction; returns malloc'd hex (free) and the id. */
char *it_tx_hex(const char *chain, const char *kind, uint8_t seed, uint64_t seq,
                const char *payload, hanse_hash *id);
/* Encoded transaction bytes (hanse_buf owned by caller). */
void it_tx_bytes(hanse_buf *out, const char *chain, const char *kind,
                 uint8_t seed, uint64_t seq, const char *payload, int batched);

/* Run a command (argv NULL-terminated), capture stdout+stderr into out
 * (malloc'd, may be NULL); return exit status (or -1). */
int it_run(const char *const *argv, char **out);
/* `hanse ARGS... --node URL` against n (args NULL-terminated, at most 36):
 * it_run's exit status and output. */
int it_cli(it_node *n, char **out, const char *const *args);
/* it_cli with "--chain CHAIN" appended to args. */
int it_cli_chain(it_node *n, const char *chain, char **out, const char *const *args);
/* The first JSON document of a command's output (new reference), or NULL
 * (the output is then printed to stderr). */
json_t *it_first_json(const char *out);

/* ---- Clusters: several nodes of one chain (nodes with pid 0 are
 * stopped and skipped) ---- */

/* GET /v1/chains/{chain}/status: the document on 200, else NULL. */
json_t *it_chain_status(it_node *n, const char *chain);
/* Index of the ready leader (role "leader", "ready": true), or -1. */
int it_find_leader(it_node *nodes, int n, const char *chain);
/* The same, polled until timeout_s; -1 if none. */
int it_wait_leader(it_node *nodes, int n, const char *chain, double timeout_s);
/* Wait until the running nodes agree on height (at least min_height), tip
 * hash and state digest; returns the height. Fails the test at timeout. */
uint64_t it_wait_converged(it_node *nodes, int n, const char *chain, uint64_t min_height,
                           double timeout_s);
/* Every block 1..height has the same hash on every running node (read in
 * ranges of 100); fails the test naming the first that differs. */
void it_check_blocks_identical(it_node *nodes, int n, const char *chain, uint64_t height);

/* Submit one transaction (hex) with wait=1 and timeout_ms; the answer's
 * HTTP status (0: none) and results[0].status ("committed", "pending",
 * ...) or else the error code. it_committed: acknowledged as committed. */
typedef struct it_answer {
  long status;
  char what[64];
} it_answer;
void it_submit_wait(it_node *n, const char *chain, const char *hex, int timeout_ms,
                    it_answer *a);
int it_committed(const it_answer *a);
/* 1 if GET /txs/{id} on n answers 200 with an inclusion proof. */
int it_tx_present(it_node *n, const char *chain, const hanse_hash *id);

/* ---- Signed calls through the client library (hanse/client.h) ---- */

/* Submit one transaction of `kind` with `payload` (stolen) signed by kp
 * to `chain` on n, with the signer's next sequence, and wait for its
 * block: the receipt's code ("ok", "trace.duplicate", ...) or the
 * rejection's. Static storage, overwritten by the next call. */
const char *it_client_submit(it_node *n, const char *chain, const hanse_keypair *kp,
                             const char *kind, json_t *payload);
/* Register the key of `seed` as member "m-<role>" (a person) with the one
 * role `role`, signed by the organisation admin `admin`; fails the test
 * unless the receipt is "ok". */
void it_member_register(it_node *n, const char *chain, const hanse_keypair *admin,
                        uint8_t seed, const char *role);
/* GET `path` (from "/v1/...") signed by kp (NULL: unsigned) through the
 * client: 200 or the error's HTTP status; *out the JSON body or NULL
 * (out may be NULL), code[64] the error code ("" on success). */
long it_client_get(it_node *n, const char *chain, const hanse_keypair *kp, const char *path,
                   json_t **out, char code[64]);

/* Chain status fields. */
uint64_t it_height(it_node *n);
void it_state_digest(it_node *n, char out[65]);

#endif
