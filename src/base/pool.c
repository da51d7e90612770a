/*
 * pool.c -- worker pool (see pool.h).
 *
 * A job is (fn, ctx, n) with a shared cursor: whoever runs the job claims
 * the next chunk of indexes with an atomic add, so the work divides itself
 * among however many threads happen to help. Jobs wait in a FIFO; workers
 * take the head; the submitting thread works on its own job and then waits
 * for the chunks others claimed to finish.
 */
#include "base/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/log.h"

void hanse_thread_lower_priority(void) {
  static __thread int lowered;
  if (lowered) return;
  lowered = 1;
  /* Linux applies a nice value per thread when given a thread id. */
  if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), HANSE_ADMISSION_NICE) != 0) {
    /* Not fatal: without it admission competes evenly with commits. */
  }
}

#define POOL_CHUNK 16
#define POOL_THREADS_MAX 64

typedef struct pool_job {
  hanse_pool_fn fn;
  void *ctx;
  size_t n;
  atomic_size_t next;    /* next index to claim */
  atomic_size_t done;    /* indexes completed */
  struct pool_job *qnext;
  int queued;
  int active;            /* workers inside job_work (guarded by mu) */
} pool_job;

struct hanse_pool {
  pthread_mutex_t mu;
  pthread_cond_t work;   /* a job was queued, or stop */
  pthread_cond_t finished;
  pool_job *head, *tail;
  int stop;
  int threads;
  pthread_t tid[POOL_THREADS_MAX];
};

/* Claim and run chunks until the job has no more; returns indexes run. */
static void job_work(pool_job *j) {
  for (;;) {
    size_t i = atomic_fetch_add(&j->next, POOL_CHUNK);
    if (i >= j->n) return;
    size_t end = i + POOL_CHUNK < j->n ? i + POOL_CHUNK : j->n;
    for (size_t k = i; k < end; k++) j->fn(j->ctx, k);
    atomic_fetch_add(&j->done, end - i);
  }
}

static void *pool_main(void *arg) {
  hanse_pool *p = arg;
  pthread_setname_np(pthread_self(), "hanse-pool");
  hanse_thread_lower_priority();
  pthread_mutex_lock(&p->mu);
  for (;;) {
    while (!p->stop && p->head == NULL) pthread_cond_wait(&p->work, &p->mu);
    if (p->stop) break;
    pool_job *j = p->head;
    /* Leave the job queued while it has unclaimed chunks so other workers
     * join in; unlink it once exhausted. */
    if (atomic_load(&j->next) >= j->n) {
      p->head = j->qnext;
      if (p->head == NULL) p->tail = NULL;
      j->queued = 0;
      continue;
    }
    j->active++;
    pthread_mutex_unlock(&p->mu);
    job_work(j);
    pthread_mutex_lock(&p->mu);
    /* The job lives on its submitter's stack: touch it only under mu and
     * while active > 0 keeps the submitter waiting. */
    j->active--;
    if (j->active == 0) pthread_cond_broadcast(&p->finished);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

hanse_pool *hanse_pool_create(int threads) {
  if (threads <= 0) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    threads = n > 0 ? (int)n : 1;
  }
  if (threads > POOL_THREADS_MAX) threads = POOL_THREADS_MAX;
  hanse_pool *p = calloc(1, sizeof *p);
  if (p == NULL) return NULL;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->work, NULL);
  pthread_cond_init(&p->finished, NULL);
  for (int i = 0; i < threads; i++) {
    if (pthread_create(&p->tid[i], NULL, pool_main, p) != 0) break;
    p->threads++;
  }
  return p;
}

void hanse_pool_destroy(hanse_pool *p) {
  if (p == NULL) return;
  pthread_mutex_lock(&p->mu);
  p->stop = 1;
  pthread_cond_broadcast(&p->work);
  pthread_mutex_unlock(&p->mu);
  for (int i = 0; i < p->threads; i++) pthread_join(p->tid[i], NULL);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->work);
  pthread_cond_destroy(&p->finished);
  free(p);
}

int hanse_pool_threads(const hanse_pool *p) { return p->threads; }

void hanse_pool_run(hanse_pool *p, size_t n, hanse_pool_fn fn, void *ctx) {
  if (n == 0) return;
  pool_job j = {.fn = fn, .ctx = ctx, .n = n};
  atomic_init(&j.next, 0);
  atomic_init(&j.done, 0);
  if (p == NULL || p->threads == 0 || n <= POOL_CHUNK) {
    job_work(&j);
    return;
  }
  pthread_mutex_lock(&p->mu);
  j.queued = 1;
  if (p->tail) p->tail->qnext = &j;
  else p->head = &j;
  p->tail = &j;
  pthread_cond_broadcast(&p->work);
  pthread_mutex_unlock(&p->mu);
  job_work(&j);
  pthread_mutex_lock(&p->mu);
  while (atomic_load(&j.done) < n || j.active > 0)
    pthread_cond_wait(&p->finished, &p->mu);
  /* Unlink if a worker has not yet done so: the job lives on our stack. */
  if (j.queued) {
    pool_job **pp = &p->head, *prev = NULL;
    while (*pp && *pp != &j) { prev = *pp; pp = &(*pp)->qnext; }
    HANSE_ASSERT(*pp == &j);
    *pp = j.qnext;
    if (p->tail == &j) p->tail = prev;
  }
  pthread_mutex_unlock(&p->mu);
}
