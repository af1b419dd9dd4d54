/*
** nn/ops/along.h: a tensor seen as lanes along one dim, private to nn/ops/.
**
** A contiguous tensor is (outer, n, inner) around dim d: element k of lane (o, i) is at
** (o n + k) inner + i. Ops that work lane by lane (sort, cumsum, flip...) walk it so.
*/
#ifndef NN_OPS_ALONG_H
#define NN_OPS_ALONG_H

#include "nn/tensor.h"

typedef struct along {
  int64_t outer, n, inner;
} along;

/* a 0-dim tensor is one lane of one element */
static inline along along_dim(const nn_tensor *x, int d) {
  along l = {1, 1, 1};
  if (x->ndim == 0) return l;
  l.n = x->shape[d];
  for (int k = 0; k < d; k++) l.outer *= x->shape[k];
  for (int k = d + 1; k < x->ndim; k++) l.inner *= x->shape[k];
  return l;
}

/* an error unless 0 <= d < ndim (0-dim tensors take dim 0) */
static inline int along_check_dim(const nn_tensor *x, int64_t d) {
  if (d >= 0 && (d < x->ndim || (x->ndim == 0 && d == 0))) return 0;
  return nn_errc("dimension %lld is out of range for a tensor of shape %s", (long long)d + 1,
                 nn_shape_str(x));
}

#endif
