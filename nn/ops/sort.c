/*
** nn/ops/sort.c: sort and topk, two outputs each: the values and their 0-based i64 indices
** along the dim.
**
** Each lane is sorted by a stable bottom-up merge sort of its positions, keyed by the
** values read as doubles; NaN counts as larger than every number (last ascending, first
** descending), as in PyTorch. topk is the first k of the stable sort, largest or smallest
** first. Attributes: i[0] dim, i[1] descending, i[2] k (-1: the whole dim).
**
** The values are the input gathered at the indices, so the VJP scatters the values'
** gradient back to the positions it came from and the JVP gathers the tangent; the indices
** are constants. The forward saves an alias of the indices for both.
*/
#include <string.h>

#include "nn/alloc.h"
#include "nn/ops.h"
#include "nn/ops/along.h"

/* a lane's element: its value, read as a double, and its position */
typedef struct keyed {
  double v;
  int64_t at;
} keyed;

/* a strictly before b (values that are not nan): ties keep their order, so the sort is stable */
static inline bool before(const keyed *a, const keyed *b, bool desc) {
  return desc ? a->v > b->v : a->v < b->v;
}

/* e[0..n) sorted stably: insertion sort of runs of RUN, then bottom-up merges into tmp and back */
enum { RUN = 16 };
static void merge_sort(keyed *e, keyed *tmp, int64_t n, bool desc) {
  for (int64_t lo = 0; lo < n; lo += RUN) {
    int64_t hi = lo + RUN < n ? lo + RUN : n;
    for (int64_t i = lo + 1; i < hi; i++) {
      keyed k = e[i];
      int64_t j = i;
      for (; j > lo && before(&k, &e[j - 1], desc); j--) e[j] = e[j - 1];
      e[j] = k;
    }
  }
  keyed *src = e, *dst = tmp;
  for (int64_t w = RUN; w < n; w *= 2) {
    for (int64_t lo = 0; lo < n; lo += 2 * w) {
      int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
      int64_t i = lo, j = mid, o = lo;
      while (i < mid && j < hi) dst[o++] = before(&src[j], &src[i], desc) ? src[j++] : src[i++];
      while (i < mid) dst[o++] = src[i++];
      while (j < hi) dst[o++] = src[j++];
    }
    keyed *t = src;
    src = dst, dst = t;
  }
  if (src != e) memcpy(e, src, (size_t)n * sizeof *e);
}

/* the first k of e[0..n) in order, for k much smaller than n: a sorted window of k kept by
   insertion (a later equal value never displaces an earlier one: stable). Returns k. */
static int64_t select_first(keyed *e, int64_t n, int64_t k, bool desc) {
  int64_t m = 0; /* e[0..m) is the window */
  for (int64_t i = 0; i < n; i++) {
    keyed x = e[i];
    if (m == k && !before(&x, &e[m - 1], desc)) continue;
    int64_t j = m < k ? m++ : m - 1;
    for (; j > 0 && before(&x, &e[j - 1], desc); j--) e[j] = e[j - 1];
    e[j] = x;
  }
  return m;
}

/* Orders one lane of n values (in e, positions 0..n-1) and leaves the first k in e: nan is
   the largest, so the nans go last ascending and first descending, in their order. */
static void order_lane(keyed *e, keyed *tmp, int64_t n, int64_t k, bool desc) {
  int64_t m = 0, nn = 0;
  for (int64_t i = 0; i < n; i++) /* numbers to the front, nans to tmp, both in order */
    if (e[i].v == e[i].v)
      e[m++] = e[i];
    else
      tmp[nn++] = e[i];
  if (desc && nn) { /* nans first: shift the numbers behind them */
    memmove(e + nn, e, (size_t)m * sizeof *e);
    memcpy(e, tmp, (size_t)nn * sizeof *e);
    if (k <= nn) return;
    e += nn, k -= nn;
  } else if (nn) {
    memcpy(e + m, tmp, (size_t)nn * sizeof *e);
  }
  if (k > 0 && k * 16 < m && k <= 64)
    select_first(e, m, k, desc);
  else
    merge_sort(e, tmp, m, desc);
}

static int check_sort(const nn_op *op, const nn_tensor *x, const nn_attr *a) {
  if (along_check_dim(x, a->i[0]) < 0) return -1;
  int64_t n = x->ndim ? x->shape[a->i[0]] : 1, k = a->i[2];
  if (k > n || k < -1)
    return nn_errc("k %lld is out of range for dimension %lld of size %lld (shape %s)",
                   (long long)k, (long long)a->i[0] + 1, (long long)n, nn_shape_str(x));
  (void)op;
  return 0;
}

/* the k first of each sorted lane of xc (contiguous) into values and indices */
static int sort_lanes(const nn_tensor *xc, along l, int64_t k, bool desc, nn_tensor *vals,
                      nn_tensor *idx) {
  size_t es = nn_dtype_size(xc->dtype), nb = 2 * (size_t)(l.n ? l.n : 1) * sizeof(keyed);
  keyed *e = nn_alloc(nb);
  if (!e) return nn_errc("out of memory in sort");
  const char *x = nn_data(xc);
  char *v = nn_data(vals);
  int64_t *ix = (int64_t *)nn_data(idx);
  for (int64_t o = 0; o < l.outer; o++)
    for (int64_t i = 0; i < l.inner; i++) {
      for (int64_t j = 0; j < l.n; j++)
        e[j] = (keyed){nn_load(x + ((o * l.n + j) * l.inner + i) * es, xc->dtype), j};
      order_lane(e, e + l.n, l.n, k, desc);
      for (int64_t r = 0; r < k; r++) {
        int64_t at = (o * k + r) * l.inner + i;
        memcpy(v + at * es, x + ((o * l.n + e[r].at) * l.inner + i) * es, es);
        ix[at] = e[r].at;
      }
    }
  nn_free(e, nb);
  return 0;
}

static int sort_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a, nn_tensor **out,
                        nn_tensor **saved, int *nsaved) {
  nn_tensor *x = in[0];
  if (check_sort(op, x, a) < 0) return -1;
  int d = (int)a->i[0];
  along l = along_dim(x, d);
  int64_t k = a->i[2] < 0 ? l.n : a->i[2], shape[NN_MAXDIM];
  memcpy(shape, x->shape, sizeof shape);
  if (x->ndim) shape[d] = k;
  nn_tensor *xc = nn_contiguous(x);
  out[0] = xc ? nn_empty(x->dtype, x->ndim, shape) : NULL;
  out[1] = out[0] ? nn_empty(NN_I64, x->ndim, shape) : NULL;
  if (!out[1] || sort_lanes(xc, l, k, a->i[1] != 0, out[0], out[1]) < 0) {
    nn_release(xc), nn_release(out[0]), nn_release(out[1]);
    out[0] = out[1] = NULL;
    return -1;
  }
  nn_release(xc);
  if (saved) saved[0] = nn_alias(out[1]), *nsaved = 1;
  return 0;
}

/* the values' gradient scattered back to where each value came from */
static int sort_vjp(const nn_ctx *c, nn_tensor *const *g, const bool *need, nn_tensor **gin) {
  if (!need[0]) return 0;
  nn_tensor *x = c->in[0];
  nn_tensor *z = nn_zeros(x->dtype, x->ndim, x->shape);
  if (!z || !g[0] || x->ndim == 0) {
    gin[0] = z && g[0] ? nn_to(g[0], x->dtype) : z;
    if (z && g[0]) nn_release(z);
    return gin[0] ? 0 : -1;
  }
  nn_tensor *gc = nn_to(g[0], x->dtype);
  gin[0] = gc ? nn_scatter_add(z, (int)c->attr.i[0], c->saved[0], gc) : NULL;
  nn_release(gc), nn_release(z);
  return gin[0] ? 0 : -1;
}

static int sort_jvp(const nn_ctx *c, nn_tensor *const *tin, nn_tensor **tout) {
  if (!tin[0]) return 0;
  tout[0] =
      c->in[0]->ndim == 0 ? nn_clone(tin[0]) : nn_gather(tin[0], (int)c->attr.i[0], c->saved[0]);
  return tout[0] ? 0 : -1;
}

const nn_op nn_op_sort = {.name = "sort",
                          .nin = 1,
                          .nout = 2,
                          .forward_multi = sort_forward,
                          .vjp_multi = sort_vjp,
                          .jvp_multi = sort_jvp};
const nn_op nn_op_topk = {.name = "topk",
                          .nin = 1,
                          .nout = 2,
                          .forward_multi = sort_forward,
                          .vjp_multi = sort_vjp,
                          .jvp_multi = sort_jvp};

static nn_tensor *sorted(const nn_op *op, nn_tensor *x, int64_t k, int dim, bool desc,
                         nn_tensor **idx) {
  nn_attr a = {.i = {dim, desc, k}, .ni = 3};
  nn_tensor *out[2];
  if (nn_call_multi(op, 1, &x, &a, 2, out) < 0) {
    if (idx) *idx = NULL;
    return NULL;
  }
  if (idx)
    *idx = out[1];
  else
    nn_release(out[1]);
  return out[0];
}

nn_tensor *nn_sort(nn_tensor *x, int dim, bool descending, nn_tensor **idx) {
  return sorted(&nn_op_sort, x, -1, dim, descending, idx);
}

nn_tensor *nn_topk(nn_tensor *x, int64_t k, int dim, bool largest, nn_tensor **idx) {
  if (k < 0) {
    if (idx) *idx = NULL;
    return nn_err("k must not be negative (got %lld)", (long long)k);
  }
  return sorted(&nn_op_topk, x, k, dim, largest, idx);
}
