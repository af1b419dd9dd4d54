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

#endif
