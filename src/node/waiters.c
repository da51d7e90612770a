/*
 * waiters.c -- the registry of waiting submissions (see waiters.h).
 *
 * Each registered id maps to a short list of (waiter, slot) nodes: the
 * same transaction may be awaited by several requests at once (a client
 * that resubmits while the first is pending).
 */
#include "node/waiters.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"

typedef struct wait_node {
  hanse_waiter *w;
  size_t slot;
  struct wait_node *next;
} wait_node;

int hanse_waiters_init(hanse_waiters *ws) {
  pthread_mutex_init(&ws->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&ws->cv, &ca);
  pthread_condattr_destroy(&ca);
  return hanse_hmap_init(&ws->map, 1024);
}

void hanse_waiters_destroy(hanse_waiters *ws) {
  size_t pos = 0;
  void *v;
  while (hanse_hmap_next(&ws->map, &pos, NULL, NULL, &v)) {
    wait_node *n = v;
    while (n) {
      wait_node *next = n->next;
      free(n);
      n = next;
    }
  }
  hanse_hmap_free(&ws->map);
  pthread_mutex_destroy(&ws->mu);
  pthread_cond_destroy(&ws->cv);
}

int hanse_waiters_register(hanse_waiters *ws, hanse_waiter *w) {
  int rc = HANSE_OK;
  pthread_mutex_lock(&ws->mu);
  for (size_t i = 0; i < w->n && rc == HANSE_OK; i++) {
    if (!w->has_id[i]) continue;
    wait_node *n = malloc(sizeof *n);
    if (n == NULL) {
      rc = HANSE_ERR(NOMEM);
      break;
    }
    n->w = w;
    n->slot = i;
    n->next = hanse_hmap_get(&ws->map, w->ids[i].b, HANSE_HASH_BYTES);
    rc = hanse_hmap_put(&ws->map, w->ids[i].b, HANSE_HASH_BYTES, n, NULL);
    if (rc != HANSE_OK) free(n);
  }
  pthread_mutex_unlock(&ws->mu);
  if (rc != HANSE_OK) hanse_waiters_unregister(ws, w);
  return rc;
}

void hanse_waiters_unregister(hanse_waiters *ws, hanse_waiter *w) {
  pthread_mutex_lock(&ws->mu);
  for (size_t i = 0; i < w->n; i++) {
    if (!w->has_id[i]) continue;
    wait_node *head = hanse_hmap_get(&ws->map, w->ids[i].b, HANSE_HASH_BYTES);
    wait_node **pp = &head;
    while (*pp) {
      if ((*pp)->w == w && (*pp)->slot == i) {
        wait_node *dead = *pp;
        *pp = dead->next;
        free(dead);
        break;
      }
      pp = &(*pp)->next;
    }
    if (head)
      hanse_hmap_put(&ws->map, w->ids[i].b, HANSE_HASH_BYTES, head, NULL);
    else
      hanse_hmap_del(&ws->map, w->ids[i].b, HANSE_HASH_BYTES);
  }
  pthread_mutex_unlock(&ws->mu);
}

void hanse_waiters_deliver(hanse_waiters *ws, const hanse_receipt *rs, uint32_t n) {
  pthread_mutex_lock(&ws->mu);
  if (ws->map.count > 0) {
    for (uint32_t i = 0; i < n; i++) {
      for (wait_node *wn = hanse_hmap_get(&ws->map, rs[i].id.b, HANSE_HASH_BYTES); wn; wn = wn->next) {
        hanse_waiter *w = wn->w;
        if (w->got[wn->slot]) continue;
        w->got[wn->slot] = 1;
        w->receipts[wn->slot] = rs[i];
        w->delivered++;
      }
    }
  }
  pthread_cond_broadcast(&ws->cv);
  pthread_mutex_unlock(&ws->mu);
}

int hanse_waiters_wait(hanse_waiters *ws, hanse_waiter *w, const uint8_t *want,
                       uint64_t deadline_us) {
  struct timespec ts = {(time_t)(deadline_us / 1000000), (long)(deadline_us % 1000000) * 1000};
  pthread_mutex_lock(&ws->mu);
  size_t first = 0;
  int all = 0;
  for (;;) {
    while (first < w->n && (!want[first] || w->got[first])) first++;
    if (first == w->n) {
      all = 1;
      break;
    }
    if (pthread_cond_timedwait(&ws->cv, &ws->mu, &ts) != 0) break;
  }
  pthread_mutex_unlock(&ws->mu);
  return all;
}
