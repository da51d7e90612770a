/*
 * waiters.h -- submissions that wait for their transactions to commit.
 *
 * A waiting request registers the ids of its transactions before they
 * enter the mempool; after each durable commit the sequencer's callback
 * delivers the block's receipts to whoever registered those ids, so a
 * waiting request learns its receipts without touching the store.
 *
 * All fields of a hanse_waiter except `got`/`receipts`/`delivered` belong
 * to the request's thread; those three are written under the registry's
 * mutex by the delivering thread.
 */
#ifndef HANSE_WAITERS_H
#define HANSE_WAITERS_H

#include <pthread.h>

#include "base/hmap.h"
#include "storage/store.h"

typedef struct hanse_waiter {
  size_t n;
  const hanse_hash *ids;     /* borrowed, n of them (slots without an id
                                are not registered: has_id[i] == 0) */
  const int *has_id;
  uint8_t *got;              /* n flags */
  hanse_receipt *receipts;   /* n */
  size_t delivered;
} hanse_waiter;

typedef struct hanse_waiters {
  pthread_mutex_t mu;
  pthread_cond_t cv;         /* broadcast after each delivery */
  hanse_hmap map;            /* id -> struct wait_node list */
} hanse_waiters;

int hanse_waiters_init(hanse_waiters *ws);
void hanse_waiters_destroy(hanse_waiters *ws);
/* Register every slot with an id. */
int hanse_waiters_register(hanse_waiters *ws, hanse_waiter *w);
void hanse_waiters_unregister(hanse_waiters *ws, hanse_waiter *w);
/* Deliver a committed block's receipts. */
void hanse_waiters_deliver(hanse_waiters *ws, const hanse_receipt *rs, uint32_t n);
/* Wait until every slot i with want[i] set has got[i], or the deadline
 * (monotonic µs) passes. Returns 1 if all arrived. */
int hanse_waiters_wait(hanse_waiters *ws, hanse_waiter *w, const uint8_t *want,
                       uint64_t deadline_us);

#endif
