/*
 * cli/demo.h -- what the parts of `hanse demo` share: the actors, the
 * chains, the run's state, and the steps a story is told with.
 * cmd_demo.c creates the chains and runs the node and the stories;
 * demo_books.c is the story of books and payments on the alliance.
 */
#ifndef HANSE_CLI_DEMO_H
#define HANSE_CLI_DEMO_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/err.h"
#include "crypto/sign.h"
#include "hanse/client.h"

#define DEMO_ASSET "EURT"
#define DEMO_DECIMALS 2
#define DEMO_BATCH_TXS 20
#define DEMO_PATH_MAX 1100
#define DEMO_DOCS_MAX 8
/* Cluster mode: members, where Raft listens relative to the API port, how
 * long to wait for a leader and for a child to stop. */
#define DEMO_NODES_MAX 3
#define DEMO_RAFT_PORT_OFFSET 1000
#define DEMO_LEADER_WAIT_MS 20000
#define DEMO_STOP_WAIT_MS 10000

/* Everyone with a key file <data>/keys/<name>.json. An organisation
 * founds chains with its admin key (org != NULL); the consumer is a key
 * of no organisation; the departments are members of ACME's private
 * chain. */
enum {
  MANUFACTURER,
  PLATFORM,
  LOGISTICS,
  CUSTOMS,
  BANK,
  REGULATOR,
  CONSUMER,
  PRODUCTION,
  QUALITY,
  FINANCE,
  ACTOR_COUNT
};

typedef struct demo_actor {
  const char *name;  /* key file, label, member id of a department */
  const char *org;   /* organisation id in genesis; NULL: none */
  const char *title; /* the organisation, person or department */
  const char *role;  /* business role (organisation) or member role */
} demo_actor;
extern const demo_actor actors[ACTOR_COUNT];


enum { ALLIANCE, OPEN, PRIVATE, CHAIN_COUNT };

#define FOUNDERS_MAX 6
typedef struct demo_chain {
  const char *id, *type;
  int founders[FOUNDERS_MAX + 1]; /* actors, ended by -1 */
  const char *about;              /* what the explorer shows */
} demo_chain;
extern const demo_chain chains[CHAIN_COUNT];

/* A document anchored by this run, listed at the end. */
typedef struct demo_doc {
  int chain, actor;
  char file[96];
} demo_doc;

typedef struct demo {
  const char *data;
  int nodes;                        /* 1: one node in this process; 3: a cluster */
  char chain_dir[DEMO_PATH_MAX];    /* where chains are created: data or data/node1 */
  hanse_keypair *node_keys[DEMO_NODES_MAX]; /* cluster mode; sodium_malloc'd */
  hanse_keypair *keys[ACTOR_COUNT]; /* sodium_malloc'd */
  hanse_client *client[CHAIN_COUNT];
  uint64_t run_ms; /* makes this run's documents unique */
  demo_doc docs[DEMO_DOCS_MAX];
  int ndocs;
  char urls[DEMO_NODES_MAX][160]; /* cluster mode: each node's API */
  pid_t pids[DEMO_NODES_MAX];      /* cluster mode: running children, 0 when reaped */
  char product_path[160];           /* the consumer page's /p/<path>, once published */
  hanse_hash customs_tx, invoice_tx; /* for "who can read what" */
  int have_customs_tx, have_invoice_tx;
} demo;

/* The key's hex of actor a, into out. */
const char *demo_pub_hex(const demo *d, int a, char out[HANSE_HASH_HEX_BYTES]);
/* Make actor a (or nobody, a < 0) the signer of chain c's requests. */
hanse_client *demo_as(demo *d, int c, int a);
/* One transaction on chain c as actor a, waited for; prints a line saying
 * what it did. Takes `payload`. If id is not NULL it receives the
 * transaction's id. A rejection receipt is an error ("demo.stopped" when
 * a signal asked to stop). */
int demo_step(demo *d, int c, int a, const char *kind, json_t *payload, const char *what,
              hanse_hash *id, hanse_reject *rej);
/* Capture one EPCIS event (taken) on the alliance as actor a. */
int demo_capture(demo *d, int a, json_t *event, const char *what, hanse_reject *rej);
/* "YYYY-MM-DDThh:mm:ss.000Z" of the run's time plus `hours`. */
const char *demo_at_hours(const demo *d, int hours, char out[32]);
/* An ObjectEvent of one EPC at `where`, `hours` from the run's time. */
json_t *demo_obj_event(const demo *d, int hours, const char *epc, const char *action,
                       const char *step, const char *disp, const char *where);

/* The story of books and payments on the alliance (demo_books.c). */
int demo_workload_books(demo *d, hanse_reject *rej);

#endif
