/*
** nn/pool.c: a fixed set of workers (one per core beyond the caller's; RELUA_THREADS sets the
** total) started on first use.
**
** Waking a sleeping thread costs 20-50 us on a virtual machine, as much as the work it is
** woken for, so a job is published with an atomic generation number and both sides wait by
** polling for a short while before they sleep: a worker polls for SPIN_NS after its last
** piece (big ops tend to come in runs), the caller polls until every piece is done. Polling
** yields the core (sched_yield) between looks, so OpenBLAS's threads on the same cores lose
** nothing to it.
*/
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "nn/pool.h"

enum { MAX_THREADS = 8 };
static const int64_t SPIN_NS = 200 * 1000;

static struct {
  pthread_mutex_t lock; /* guards sleeping workers: see wait_for_job */
  pthread_cond_t work;
  int nthreads; /* 0 until started */
  atomic_uint generation;
  atomic_int pending; /* pieces not finished yet */
  int64_t n;
  void (*fn)(int64_t, int64_t, void *);
  void *ctx;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .work = PTHREAD_COND_INITIALIZER};

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void piece(int k, int64_t *lo, int64_t *hi) {
  *lo = pool.n * k / pool.nthreads;
  *hi = pool.n * (k + 1) / pool.nthreads;
}

/* The next generation after seen: polled for SPIN_NS, then slept for. The generation is
   re-read under the lock that the publisher takes to broadcast, so no wake-up is lost. */
static unsigned wait_for_job(unsigned seen) {
  unsigned g;
  for (int64_t deadline = now_ns() + SPIN_NS; now_ns() < deadline; sched_yield())
    if ((g = atomic_load_explicit(&pool.generation, memory_order_acquire)) != seen) return g;
  pthread_mutex_lock(&pool.lock);
  while ((g = atomic_load_explicit(&pool.generation, memory_order_acquire)) == seen)
    pthread_cond_wait(&pool.work, &pool.lock);
  pthread_mutex_unlock(&pool.lock);
  return g;
}

static void *worker(void *arg) {
  int k = (int)(intptr_t)arg;
  for (unsigned seen = 0;;) {
    seen = wait_for_job(seen);
    int64_t lo, hi;
    piece(k, &lo, &hi);
    pool.fn(lo, hi, pool.ctx);
    atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_release);
  }
  return NULL;
}

static int wanted_threads(void) {
  const char *env = getenv("RELUA_THREADS");
  long n = env ? atol(env) : sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
}

/* Starts the workers once; with no threads to be had, the caller works alone. */
static void start(void) {
  int want = wanted_threads();
  pool.nthreads = 1;
  for (int k = 1; k < want; k++) {
    pthread_t t;
    if (pthread_create(&t, NULL, worker, (void *)(intptr_t)k) != 0) break;
    pthread_detach(t);
    pool.nthreads++;
  }
}

int nn_pool_threads(void) {
  if (!pool.nthreads) start();
  return pool.nthreads;
}

void nn_parallel(int64_t n, int64_t grain, void (*fn)(int64_t, int64_t, void *), void *ctx) {
  int threads = nn_pool_threads();
  if (threads == 1 || n < grain * threads) {
    fn(0, n, ctx);
    return;
  }
  pool.n = n, pool.fn = fn, pool.ctx = ctx;
  atomic_store_explicit(&pool.pending, threads - 1, memory_order_relaxed);
  pthread_mutex_lock(&pool.lock);
  atomic_fetch_add_explicit(&pool.generation, 1, memory_order_release);
  pthread_cond_broadcast(&pool.work);
  pthread_mutex_unlock(&pool.lock);
  int64_t lo, hi;
  piece(0, &lo, &hi);
  fn(lo, hi, ctx);
  while (atomic_load_explicit(&pool.pending, memory_order_acquire) > 0) sched_yield();
}
