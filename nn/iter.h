/*
** nn/iter.h: walking several strided tensors of one shape together.
**
** Operand 0 gives the shape; the others are broadcast to it (stride 0 where they have size
** 1 or lack the dim). Dims that are contiguous for every operand are merged, so a
** contiguous case is a single call of the row function over all elements, where the
** compiler's vectorized loop runs; only truly strided tensors pay for the outer loops.
*/
#ifndef NN_ITER_H
#define NN_ITER_H

#include "nn/tensor.h"

enum { NN_ITER_MAXOP = 4 };

/* One row: p[k] points at operand k's first element, step[k] its byte stride, n elements. */
typedef void (*nn_rowfn)(char **p, const int64_t *step, int64_t n, void *ctx);

typedef struct nn_iter {
  int nop, ndim;
  int64_t shape[NN_MAXDIM];
  int64_t step[NN_ITER_MAXOP][NN_MAXDIM]; /* bytes */
  char *base[NN_ITER_MAXOP];
} nn_iter;

int nn_iter_init(nn_iter *it, int nop, const nn_tensor *const *t); /* -1 if not broadcastable */
void nn_iter_run(const nn_iter *it, nn_rowfn row, void *ctx);

#endif
