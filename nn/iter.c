/* nn/iter.c: broadcast, merge dims, then call the row function over the innermost dim. */
#include <string.h>

#include "nn/iter.h"

int nn_iter_init(nn_iter *it, int nop, const nn_tensor *const *t) {
  const nn_tensor *out = t[0];
  it->nop = nop;
  for (int k = 0; k < nop; k++) {
    const nn_tensor *x = t[k];
    int lead = out->ndim - x->ndim;
    if (lead < 0) goto mismatch;
    it->base[k] = nn_data(x);
    int64_t size = (int64_t)nn_dtype_size(x->dtype);
    for (int d = 0; d < out->ndim; d++) {
      int64_t n = d < lead ? 1 : x->shape[d - lead];
      if (n != out->shape[d] && n != 1) goto mismatch;
      it->step[k][d] = n == 1 ? 0 : x->stride[d - lead] * size;
    }
    continue;
  mismatch:
    return nn_errc("shape %s cannot be broadcast to %s", nn_shape_str(x), nn_shape_str(out));
  }
  /* Drop size-1 dims, then merge d into d+1 wherever every operand allows it. */
  int n = 0;
  for (int d = 0; d < out->ndim; d++) {
    if (out->shape[d] == 1) continue;
    if (n > 0) {
      bool merge = true;
      for (int k = 0; k < nop; k++)
        merge = merge && it->step[k][n - 1] == it->step[k][d] * out->shape[d];
      if (merge) {
        it->shape[n - 1] *= out->shape[d];
        for (int k = 0; k < nop; k++) it->step[k][n - 1] = it->step[k][d];
        continue;
      }
    }
    it->shape[n] = out->shape[d];
    for (int k = 0; k < nop; k++) it->step[k][n] = it->step[k][d];
    n++;
  }
  it->ndim = n;
  return 0;
}

/* Rows longer than this run in pieces, between which Ctrl-C is polled: an expanded view may
   hold 2^60 elements in one row. Row functions do not depend on where rows start. */
enum { POLL_CHUNK = 1 << 20 };

static void run_row(nn_rowfn row, int nop, char **p, const int64_t *step, int64_t n, void *ctx) {
  if (n <= POLL_CHUNK) {
    row(p, step, n, ctx);
    return;
  }
  char *q[NN_ITER_MAXOP];
  memcpy(q, p, sizeof q);
  for (int64_t done = 0; done < n && !nn_interrupted(); done += POLL_CHUNK) {
    row(q, step, n - done < POLL_CHUNK ? n - done : POLL_CHUNK, ctx);
    for (int k = 0; k < nop; k++) q[k] += POLL_CHUNK * step[k];
  }
}

void nn_iter_run(const nn_iter *it, nn_rowfn row, void *ctx) {
  int nop = it->nop, inner = it->ndim - 1;
  int64_t rowstep[NN_ITER_MAXOP];
  char *p[NN_ITER_MAXOP];
  memcpy(p, it->base, sizeof p);
  if (it->ndim == 0) { /* a scalar, or everything merged away */
    for (int k = 0; k < nop; k++) rowstep[k] = 0;
    row(p, rowstep, 1, ctx);
    return;
  }
  for (int d = 0; d < it->ndim; d++)
    if (it->shape[d] == 0) return;
  for (int k = 0; k < nop; k++) rowstep[k] = it->step[k][inner];
  int64_t idx[NN_MAXDIM] = {0};
  for (;;) {
    run_row(row, nop, p, rowstep, it->shape[inner], ctx);
    if (nn_interrupted()) return; /* the op that ran this fails (nn_call) */
    int d = inner - 1;
    for (; d >= 0; d--) { /* odometer over the outer dims */
      for (int k = 0; k < nop; k++) p[k] += it->step[k][d];
      if (++idx[d] < it->shape[d]) break;
      for (int k = 0; k < nop; k++) p[k] -= it->step[k][d] * it->shape[d];
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}
