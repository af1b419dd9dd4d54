/*
** nn/pool.h: the core's worker threads, for large pointwise work. OpenBLAS has threads of
** its own on the same cores, so waiting workers poll only briefly, yielding the core, and
** then sleep; small work stays on the calling thread.
*/
#ifndef NN_POOL_H
#define NN_POOL_H

#include <stdint.h>

/* Calls fn(lo, hi, ctx) over [0, n) in contiguous pieces (a few per thread, of at least
   `grain` each, claimed by whichever thread is free), when n is at least
   `grain` per thread; otherwise fn(0, n, ctx) on the calling thread. Returns when all is
   done. */
void nn_parallel(int64_t n, int64_t grain, void (*fn)(int64_t lo, int64_t hi, void *ctx),
                 void *ctx);
int nn_pool_threads(void); /* threads that share the work, the caller included */

/* The grain for items of `cost` units each, so that a piece does at least `min` units. */
static inline int64_t nn_grain(int64_t cost, int64_t min) {
  return cost >= min ? 1 : min / (cost > 0 ? cost : 1);
}

/* How many pieces, 1 to `most` and no more than `items`, share `work` units with at least
   `min` in each: for work whose pieces each need scratch of their own, allocated by the
   caller (nn_alloc is the calling thread's), and run as nn_parallel(pieces, 1, ...). */
static inline int64_t nn_pieces(int64_t work, int64_t min, int64_t most, int64_t items) {
  int64_t p = work / min;
  p = p < 1 ? 1 : p < most ? p : most;
  return p < items ? p : items > 0 ? items : 1;
}

#endif
