/*
** nn/pool.c: a fixed set of workers (one per core beyond the caller's; RELUA_THREADS sets the
** total) started on first use. A job is published under a mutex with a generation number;
** each worker takes its piece, and the caller, after doing piece 0, waits until all are done.
*/
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "nn/pool.h"

enum { MAX_THREADS = 8 };

static struct {
  pthread_mutex_t lock;
  pthread_cond_t work, done;
  int nthreads; /* 0 until started */
  unsigned generation;
  int pending; /* pieces not finished yet */
  int64_t n;
  void (*fn)(int64_t, int64_t, void *);
  void *ctx;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER,
          .work = PTHREAD_COND_INITIALIZER,
          .done = PTHREAD_COND_INITIALIZER};

static void piece(int k, int64_t *lo, int64_t *hi) {
  *lo = pool.n * k / pool.nthreads;
  *hi = pool.n * (k + 1) / pool.nthreads;
}

static void *worker(void *arg) {
  int k = (int)(intptr_t)arg;
  unsigned seen = 0;
  pthread_mutex_lock(&pool.lock);
  for (;;) {
    while (pool.generation == seen) pthread_cond_wait(&pool.work, &pool.lock);
    seen = pool.generation;
    int64_t lo, hi;
    piece(k, &lo, &hi);
    pthread_mutex_unlock(&pool.lock);
    pool.fn(lo, hi, pool.ctx);
    pthread_mutex_lock(&pool.lock);
    if (--pool.pending == 0) pthread_cond_signal(&pool.done);
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
  pthread_mutex_lock(&pool.lock);
  pool.n = n, pool.fn = fn, pool.ctx = ctx;
  pool.pending = threads - 1;
  pool.generation++;
  pthread_cond_broadcast(&pool.work);
  int64_t lo, hi;
  piece(0, &lo, &hi);
  pthread_mutex_unlock(&pool.lock);
  fn(lo, hi, ctx);
  pthread_mutex_lock(&pool.lock);
  while (pool.pending > 0) pthread_cond_wait(&pool.done, &pool.lock);
  pthread_mutex_unlock(&pool.lock);
}
