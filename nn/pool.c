/*
** nn/pool.c: a fixed set of workers (one per core beyond the caller's; RELUA_THREADS sets the
** total) started on first use.
**
** Waking a sleeping thread costs 20-50 us on a virtual machine, as much as the work it is
** woken for, so a job is published with an atomic generation number and both sides wait by
** polling for a short while before they sleep: a worker polls for SPIN_NS after its last
** piece (big ops tend to come in runs), the caller polls until every piece is done. Polling
** yields the core (sched_yield) between looks, so OpenBLAS's threads on the same cores lose
** nothing to it. A job is cut into a few pieces per thread, claimed one at a time: on a
** loaded machine a worker that is not running leaves its pieces to the others.
*/
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "nn/pool.h"

enum { MAX_THREADS = 8, PIECES_PER_THREAD = 4 };
static const int64_t SPIN_NS = 200 * 1000;

/* The job's pieces are claimed one at a time from `claim`: its high 32 bits are the job's
   generation, its low 32 bits the next piece. A piece is claimed by a compare-and-swap that
   expects the value read before the job's fields, so a worker that wakes after its job
   ended claims nothing: every piece of a job is claimed before the caller publishes the
   next one, which it marks PUBLISHING while it writes the fields. The caller works on
   pieces too,
   and waits only for pieces already claimed: a worker that the scheduler keeps off the core (a
   loaded machine) delays nobody. */
static struct {
  pthread_mutex_t lock; /* guards sleeping workers: see wait_for_job */
  pthread_cond_t work;
  int nthreads; /* 0 until started */
  atomic_uint_fast64_t claim;
  atomic_int done; /* pieces finished */
  int64_t n, npieces;
  void (*fn)(int64_t, int64_t, void *);
  void *ctx;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .work = PTHREAD_COND_INITIALIZER};

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* The piece number of a job whose fields the caller is still writing. */
static const int64_t PUBLISHING = 0xffffffff;

static unsigned generation(uint64_t claim) {
  return (unsigned)(claim >> 32);
}

/* Runs pieces of the job of generation gen until none is left. */
static void work_on(unsigned gen) {
  for (;;) {
    uint64_t c = atomic_load(&pool.claim);
    if (generation(c) != gen) return;
    int64_t k = (int64_t)(c & 0xffffffffu), np = pool.npieces, n = pool.n;
    void (*fn)(int64_t, int64_t, void *) = pool.fn;
    void *ctx = pool.ctx;
    if (k == PUBLISHING) { /* the fields are being written */
      sched_yield();
      continue;
    }
    if (k >= np) return;
    if (!atomic_compare_exchange_weak(&pool.claim, &c, c + 1)) continue;
    fn(n * k / np, n * (k + 1) / np, ctx);
    atomic_fetch_add(&pool.done, 1);
  }
}

/* The next generation after seen: polled for SPIN_NS, then slept for. The generation is
   re-read under the lock that the publisher takes to broadcast, so no wake-up is lost. */
static unsigned wait_for_job(unsigned seen) {
  unsigned g;
  for (int64_t deadline = now_ns() + SPIN_NS; now_ns() < deadline; sched_yield())
    if ((g = generation(atomic_load(&pool.claim))) != seen) return g;
  pthread_mutex_lock(&pool.lock);
  while ((g = generation(atomic_load(&pool.claim))) == seen)
    pthread_cond_wait(&pool.work, &pool.lock);
  pthread_mutex_unlock(&pool.lock);
  return g;
}

static void *worker(void *arg) {
  (void)arg;
  for (unsigned seen = 0;;) {
    seen = wait_for_job(seen);
    work_on(seen);
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
    if (pthread_create(&t, NULL, worker, NULL) != 0) break;
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
  int64_t np = n / grain < PIECES_PER_THREAD * threads ? n / grain : PIECES_PER_THREAD * threads;
  unsigned gen = generation(atomic_load(&pool.claim)) + 1;
  atomic_store(&pool.claim, (uint64_t)gen << 32 | (uint64_t)PUBLISHING);
  pool.n = n, pool.npieces = np, pool.fn = fn, pool.ctx = ctx;
  atomic_store(&pool.done, 0);
  pthread_mutex_lock(&pool.lock);
  atomic_store(&pool.claim, (uint64_t)gen << 32);
  pthread_cond_broadcast(&pool.work);
  pthread_mutex_unlock(&pool.lock);
  work_on(gen);
  while (atomic_load(&pool.done) < np) sched_yield();
}
