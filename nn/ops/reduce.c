/*
** nn/ops/reduce.c: reductions.
**
** Four ops have kernels: sum and prod (folds) and argmax and argmin (picks). Everything
** else (mean, var, std, norm, logsumexp, max, min) is composed of public ops, so that
** autograd differentiates it through its parts and no second kernel has to be kept right.
**
** A fold runs the input x and an accumulator (x's shape with size 1 on the reduced dims,
** in f64 for floats and i64 for integers) through nn_iter: where the accumulator's step is
** 0 the row is folded into one value, elsewhere the row is added elementwise into a row of
** accumulators. Reducing a middle dim of a contiguous tensor thus becomes a sweep of dense
** accumulate rows, and reducing the last dim (or everything) dense fold rows; both are
** loops the compiler vectorizes. Dims are visited in x's memory order, so a transposed
** input is read as densely as its original.
**
** A pick scans, for each output element, the reduced dim from its first element; the
** first extreme wins ties and NaN counts as the most extreme value, as in PyTorch.
**
** sum and prod carry their derivatives (VJP and JVP); argmax and argmin are constants.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/iter.h"
#include "nn/ops.h"

/* ======== shapes ======== */

/* The reduced dim of x (-1: everything) from the caller's dim, or BAD_DIM with a message.
   A 0-dim tensor has one element, so dim 0 of it means everything, as in PyTorch. */
enum { BAD_DIM = -2 };
static int reduced_dim(const nn_tensor *x, int64_t dim) {
  if (dim < 0 || (x->ndim == 0 && dim == 0)) return -1;
  if (dim < x->ndim) return (int)dim;
  nn_err("dimension %lld is out of range for a tensor of shape %s", (long long)dim + 1,
         nn_shape_str(x));
  return BAD_DIM;
}

/* How many elements each output element gathers. */
static int64_t reduced_count(const nn_tensor *x, int d) {
  return d < 0 ? nn_numel(x) : x->shape[d];
}

/* x's shape with size 1 on the reduced dims (every dim when d < 0). */
static void kept_shape(const nn_tensor *x, int d, int64_t *shape) {
  for (int k = 0; k < x->ndim; k++) shape[k] = d < 0 || k == d ? 1 : x->shape[k];
}

/* The result's shape: kept_shape with keepdim, else without d; {} when d < 0. */
static int result_shape(const nn_tensor *x, int d, bool keepdim, int64_t *shape) {
  if (d < 0) return 0;
  int n = 0;
  for (int k = 0; k < x->ndim; k++)
    if (k != d)
      shape[n++] = x->shape[k];
    else if (keepdim)
      shape[n++] = 1;
  return n;
}

/* The reduced dim from an op's attributes (BAD_DIM on error); sets keepdim. */
static int attr_dim(const nn_op *op, const nn_tensor *x, const nn_attr *a, nn_tensor *out,
                    bool *keepdim) {
  *keepdim = a && a->ni > 1 && a->i[1];
  if (!out) return reduced_dim(x, a && a->ni > 0 ? a->i[0] : -1);
  nn_err("%s cannot write into an existing tensor", op->name);
  return BAD_DIM;
}

/* ======== folds: sum and prod ======== */

/* dtype lists: M(dtype suffix, C type, accumulator type, arithmetic type, ...). Integer
   arithmetic runs in uint64_t so that overflow wraps (as PyTorch's does) instead of being
   undefined; floats accumulate in double. */
#define FOLD_TYPES(M, ...)                                                                         \
  M(F32, float, double, double, __VA_ARGS__)                                                       \
  M(F64, double, double, double, __VA_ARGS__)                                                      \
  M(I64, int64_t, int64_t, uint64_t, __VA_ARGS__)                                                  \
  M(U8, uint8_t, int64_t, uint64_t, __VA_ARGS__)

/* name, identity, how an accumulator a takes in a value b */
#define FOLD_TABLE(X)                                                                              \
  X(sum, 0, a + b)                                                                                 \
  X(prod, 1, (a) * (b))

typedef struct fold_kern {
  nn_rowfn row[NN_NDTYPES]; /* (x, acc) */
  double init;
} fold_kern;

/* Independent accumulators let a dense fold run several operations at once (in SIMD)
   without reassociating one floating-point sum, which the compiler may not do. Dense rows
   go in blocks of LANES, a loop of known length that GCC unrolls and vectorizes even at
   -O2 (which leaves loops of unknown length scalar); restrict: x and acc never overlap. */
enum { LANES = 16 };
#define UNROLLED _Pragma("GCC unroll 16")
/* *acc = fold(*acc, x[0..n)); a long dense row in LANES interleaved accumulators, which
   are then folded together as a tree (a short dependency chain) */
#define FOLD_INTO_ONE(T, A, U, init, fab)                                                          \
  U a = (U) * (A *)p[1];                                                                           \
  int64_t i = 0;                                                                                   \
  if (s[0] == (int64_t)sizeof(T) && n >= LANES) {                                                  \
    const T *restrict x = (const T *)p[0];                                                         \
    U lane[LANES];                                                                                 \
    for (int j = 0; j < LANES; j++) lane[j] = (U)(init);                                           \
    for (; i + LANES <= n; i += LANES) {                                                           \
      UNROLLED for (int j = 0; j < LANES; j++) {                                                   \
        U a = lane[j], b = (U)x[i + j];                                                            \
        lane[j] = (fab);                                                                           \
      }                                                                                            \
    }                                                                                              \
    for (int w = LANES / 2; w > 0; w /= 2)                                                         \
      for (int j = 0; j < w; j++) {                                                                \
        U a = lane[j], b = lane[j + w];                                                            \
        lane[j] = (fab);                                                                           \
      }                                                                                            \
    U b = lane[0];                                                                                 \
    a = (fab);                                                                                     \
  }                                                                                                \
  for (; i < n; i++) {                                                                             \
    U b = (U) * (const T *)(p[0] + i * s[0]);                                                      \
    a = (fab);                                                                                     \
  }                                                                                                \
  *(A *)p[1] = (A)a;

/* acc[i] = fold(acc[i], x[i]) for a dense row of accumulators */
#define FOLD_EACH_DENSE(T, A, U, fab)                                                              \
  const T *restrict x = (const T *)p[0];                                                           \
  A *restrict acc = (A *)p[1];                                                                     \
  int64_t i = 0;                                                                                   \
  for (; i + LANES <= n; i += LANES) {                                                             \
    UNROLLED for (int j = 0; j < LANES; j++) {                                                     \
      U a = (U)acc[i + j], b = (U)x[i + j];                                                        \
      acc[i + j] = (A)(fab);                                                                       \
    }                                                                                              \
  }                                                                                                \
  for (; i < n; i++) {                                                                             \
    U a = (U)acc[i], b = (U)x[i];                                                                  \
    acc[i] = (A)(fab);                                                                             \
  }

/* the same, strided */
#define FOLD_EACH_STRIDED(T, A, U, fab)                                                            \
  for (int64_t i = 0; i < n; i++) {                                                                \
    A *acc = (A *)(p[1] + i * s[1]);                                                               \
    U a = (U)*acc, b = (U) * (const T *)(p[0] + i * s[0]);                                         \
    *acc = (A)(fab);                                                                               \
  }

#define FOLD_ROW(D, T, A, U, name, init, fab)                                                      \
  static void name##_##D(char **p, const int64_t *s, int64_t n, void *ctx) {                       \
    (void)ctx;                                                                                     \
    if (s[1] == 0) {                                                                               \
      FOLD_INTO_ONE(T, A, U, init, fab)                                                            \
    } else if (s[0] == (int64_t)sizeof(T) && s[1] == (int64_t)sizeof(A)) {                         \
      FOLD_EACH_DENSE(T, A, U, fab)                                                                \
    } else {                                                                                       \
      FOLD_EACH_STRIDED(T, A, U, fab)                                                              \
    }                                                                                              \
  }
#define FOLD_SLOT(D, T, A, U, name, ...) [NN_##D] = name##_##D,

static nn_tensor *fold_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                               nn_tensor *out);
static int sum_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin);
static nn_tensor *sum_jvp(const nn_ctx *c, nn_tensor *const *tin);
static int prod_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin);
static nn_tensor *prod_jvp(const nn_ctx *c, nn_tensor *const *tin);

#define DEFINE_FOLD(name_, init, fab)                                                              \
  FOLD_TYPES(FOLD_ROW, name_, init, fab)                                                           \
  static const fold_kern name_##_kern = {{FOLD_TYPES(FOLD_SLOT, name_)}, init};                    \
  const nn_op nn_op_##name_ = {.name = #name_,                                                     \
                               .nin = 1,                                                           \
                               .forward = fold_forward,                                            \
                               .vjp = name_##_vjp,                                                 \
                               .jvp = name_##_jvp,                                                 \
                               .kern = &name_##_kern};
FOLD_TABLE(DEFINE_FOLD)

/* Runs row over (x, acc...) with the dims reordered by x's strides, largest first, so the
   innermost loop walks x's densest dim. The operands are reordered in stack copies of
   their headers: nn_iter reads only shapes, strides and data. */
static int run_in_memory_order(nn_rowfn row, int nop, nn_tensor *const *t, void *ctx) {
  const nn_tensor *x = t[0];
  int perm[NN_MAXDIM];
  for (int k = 0; k < x->ndim; k++) { /* insertion sort: stable, so contiguous stays put */
    int j = k;
    int64_t sk = x->shape[k] == 1 ? INT64_MAX : llabs(x->stride[k]);
    for (; j > 0; j--) {
      int q = perm[j - 1];
      int64_t sq = x->shape[q] == 1 ? INT64_MAX : llabs(x->stride[q]);
      if (sq >= sk) break;
      perm[j] = q;
    }
    perm[j] = k;
  }
  nn_tensor v[NN_ITER_MAXOP];
  const nn_tensor *vp[NN_ITER_MAXOP];
  for (int k = 0; k < nop; k++) {
    v[k] = *t[k];
    for (int j = 0; j < x->ndim; j++) {
      v[k].shape[j] = t[k]->shape[perm[j]];
      v[k].stride[j] = t[k]->stride[perm[j]];
    }
    vp[k] = &v[k];
  }
  nn_iter it;
  if (nn_iter_init(&it, nop, vp) < 0) return -1;
  nn_iter_run(&it, row, ctx);
  return 0;
}

static nn_tensor *fold_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                               nn_tensor *out) {
  const fold_kern *k = op->kern;
  nn_tensor *x = in[0];
  bool keepdim;
  int d = attr_dim(op, x, a, out, &keepdim);
  if (d == BAD_DIM) return NULL;
  bool is_float = nn_dtype_is_float(x->dtype);
  int64_t kept[NN_MAXDIM], shape[NN_MAXDIM];
  kept_shape(x, d, kept);
  int ndim = result_shape(x, d, keepdim, shape);
  nn_tensor *acc = nn_full(is_float ? NN_F64 : NN_I64, x->ndim, kept, k->init);
  if (!acc || run_in_memory_order(k->row[x->dtype], 2, (nn_tensor *[]){x, acc}, NULL) < 0) {
    nn_release(acc);
    return NULL;
  }
  nn_tensor *r = nn_to(acc, is_float ? x->dtype : NN_I64); /* f32 sums end in f32 */
  nn_release(acc);
  nn_tensor *v = r ? nn_view(r, ndim, shape) : NULL;
  nn_release(r);
  return v;
}

/* ---- derivatives of the folds ---- */

/* g, shaped as the result of reducing x with attributes a, with the reduced dims put back
   as size 1, so that it broadcasts against x */
static nn_tensor *unreduce(nn_tensor *g, const nn_tensor *x, const nn_attr *a) {
  bool keepdim;
  int d = attr_dim(NULL, x, a, NULL, &keepdim);
  int64_t kept[NN_MAXDIM];
  kept_shape(x, d, kept);
  return nn_reshape(g, x->ndim, kept);
}

/* d sum / dx_i = 1: the output gradient spread over each slice */
static int sum_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  if (!need[0]) return 0;
  nn_tensor *x = c->in[0], *gk = unreduce(gout, x, &c->attr);
  nn_tensor *g = gk ? nn_empty(x->dtype, x->ndim, x->shape) : NULL;
  if (g && nn_copy_(g, gk) < 0) {
    nn_release(g);
    g = NULL;
  }
  nn_release(gk);
  gin[0] = g;
  return g ? 0 : -1;
}

static nn_tensor *sum_jvp(const nn_ctx *c, nn_tensor *const *tin) {
  return tin[0] ? nn_call(c->op, tin, &c->attr) : NULL;
}

/* e_i = the product of the other elements of i's slice: prefix times suffix products, right
   where x has zeros (unlike prod / x_i). Computed in f64, returned in x's dtype. */
static nn_tensor *exclusive_products(nn_tensor *x, const nn_attr *a) {
  bool keepdim;
  int d = attr_dim(NULL, x, a, NULL, &keepdim);
  nn_tensor *xd = nn_empty(NN_F64, x->ndim, x->shape), *e = nn_empty_like(xd ? xd : x);
  if (!xd || !e || nn_copy_(xd, x) < 0) {
    nn_release(xd);
    nn_release(e);
    return NULL;
  }
  int64_t n = reduced_count(x, d), inner = 1;
  for (int k = d + 1; d >= 0 && k < x->ndim; k++) inner *= x->shape[k];
  int64_t outer = n > 0 && inner > 0 ? nn_numel(x) / (n * inner) : 0;
  const double *xv = (const double *)nn_data(xd);
  double *ev = (double *)nn_data(e);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < inner; j++) {
      int64_t base = o * n * inner + j;
      double before = 1, after = 1;
      for (int64_t k = 0; k < n; k++) ev[base + k * inner] = before, before *= xv[base + k * inner];
      for (int64_t k = n - 1; k >= 0; k--)
        ev[base + k * inner] *= after, after *= xv[base + k * inner];
    }
  nn_tensor *r = nn_to(e, x->dtype);
  nn_release(xd);
  nn_release(e);
  return r;
}

static int prod_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  if (!need[0]) return 0;
  nn_tensor *e = exclusive_products(c->in[0], &c->attr);
  nn_tensor *gk = e ? unreduce(gout, c->in[0], &c->attr) : NULL;
  gin[0] = gk ? nn_mul(gk, e) : NULL;
  nn_release(e);
  nn_release(gk);
  return gin[0] ? 0 : -1;
}

/* the tangent: sum over each slice of t_i * e_i */
static nn_tensor *prod_jvp(const nn_ctx *c, nn_tensor *const *tin) {
  if (!tin[0]) return NULL;
  nn_tensor *e = exclusive_products(c->in[0], &c->attr);
  nn_tensor *te = e ? nn_mul(tin[0], e) : NULL;
  nn_tensor *r = te ? nn_call(&nn_op_sum, &te, &c->attr) : NULL;
  nn_release(e);
  nn_release(te);
  return r;
}

/* ======== picks: argmax and argmin ======== */

typedef struct pick_ctx {
  int64_t n;    /* the reduced dim's size (> 0) */
  int64_t step; /* its stride in bytes */
} pick_ctx;

#define PICK_TABLE(X)                                                                              \
  X(argmax, >)                                                                                     \
  X(argmin, <)

/* For each output element i (p[0]: indices, p[1]: the first element of its slice of x),
   the position of the first extreme value; a NaN, once met, stays the extreme. When
   neighbouring outputs are neighbours in x (a reduction over an outer dim), a block of
   slices is swept together, row by row of x, instead of one strided slice at a time. */
enum { PICK_BLOCK = 64 };
#define PICK_BETTER(v, best, CMP) ((v)CMP(best) || ((v) != (v) && (best) == (best)))
#define PICK_ROW(D, T, name, CMP)                                                                  \
  static void name##_##D(char **p, const int64_t *s, int64_t n, void *ctx) {                       \
    const pick_ctx *c = ctx;                                                                       \
    if (s[1] == (int64_t)sizeof(T) && c->n > 1) {                                                  \
      for (int64_t i0 = 0; i0 < n; i0 += PICK_BLOCK) {                                             \
        int nb = n - i0 < PICK_BLOCK ? (int)(n - i0) : PICK_BLOCK;                                 \
        const char *first = p[1] + i0 * s[1];                                                      \
        T best[PICK_BLOCK];                                                                        \
        int64_t at[PICK_BLOCK];                                                                    \
        for (int b = 0; b < nb; b++) best[b] = ((const T *)first)[b], at[b] = 0;                   \
        for (int64_t k = 1; k < c->n; k++) {                                                       \
          const T *row = (const T *)(first + k * c->step);                                         \
          for (int b = 0; b < nb; b++)                                                             \
            if (PICK_BETTER(row[b], best[b], CMP)) best[b] = row[b], at[b] = k;                    \
        }                                                                                          \
        for (int b = 0; b < nb; b++) *(int64_t *)(p[0] + (i0 + b) * s[0]) = at[b];                 \
      }                                                                                            \
      return;                                                                                      \
    }                                                                                              \
    for (int64_t i = 0; i < n; i++) {                                                              \
      const char *x = p[1] + i * s[1];                                                             \
      T best = *(const T *)x;                                                                      \
      int64_t at = 0;                                                                              \
      for (int64_t k = 1; k < c->n && best == best; k++) {                                         \
        T v = *(const T *)(x + k * c->step);                                                       \
        if (PICK_BETTER(v, best, CMP)) best = v, at = k;                                           \
      }                                                                                            \
      *(int64_t *)(p[0] + i * s[0]) = at;                                                          \
    }                                                                                              \
  }
#define TYPES_ALL(M, ...)                                                                          \
  M(F32, float, __VA_ARGS__)                                                                       \
  M(F64, double, __VA_ARGS__) M(I64, int64_t, __VA_ARGS__) M(U8, uint8_t, __VA_ARGS__)
#define PICK_SLOT(D, T, name, ...) [NN_##D] = name##_##D,

static nn_tensor *pick_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                               nn_tensor *out);

/* Integer types compare equal to themselves; the NaN tests are for floats. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wtautological-compare"
#define DEFINE_PICK(name_, CMP)                                                                    \
  TYPES_ALL(PICK_ROW, name_, CMP)                                                                  \
  static const nn_rowfn name_##_rows[NN_NDTYPES] = {TYPES_ALL(PICK_SLOT, name_)};                  \
  const nn_op nn_op_##name_ = {                                                                    \
      .name = #name_, .nin = 1, .forward = pick_forward, .kern = name_##_rows};
PICK_TABLE(DEFINE_PICK)
#pragma GCC diagnostic pop

/* An error unless every output element has something to pick from. */
static int check_nonempty(const char *what, const nn_tensor *x, int d) {
  if (reduced_count(x, d) > 0) return 0;
  if (d < 0)
    return nn_errc("cannot take the %s of an empty tensor (shape %s); give a dimension", what,
                   nn_shape_str(x));
  return nn_errc("cannot take the %s over dimension %d of size 0 (shape %s)", what, d + 1,
                 nn_shape_str(x));
}

static nn_tensor *pick_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                               nn_tensor *out) {
  const nn_rowfn *rows = op->kern;
  nn_tensor *x = in[0];
  bool keepdim;
  int d = attr_dim(op, x, a, out, &keepdim);
  if (d == BAD_DIM || check_nonempty(op->name, x, d) < 0) return NULL;
  int64_t shape[NN_MAXDIM];
  int ndim = result_shape(x, d, keepdim, shape);
  /* Everything: the flattened tensor's only dim (a copy when x's memory is not in order). */
  int64_t numel = nn_numel(x);
  nn_tensor *flat = d < 0 ? nn_reshape(x, 1, &numel) : nn_retain(x);
  int fd = d < 0 ? 0 : d;
  /* first: each slice's first element, laid out as the result without the reduced dim */
  nn_tensor *first = flat ? nn_select(flat, fd, 0) : NULL;
  nn_tensor *idx = first ? nn_empty(NN_I64, first->ndim, first->shape) : NULL;
  pick_ctx c = {flat ? flat->shape[fd] : 0,
                flat ? flat->stride[fd] * (int64_t)nn_dtype_size(x->dtype) : 0};
  nn_iter it;
  nn_tensor *r = NULL;
  if (idx && nn_iter_init(&it, 2, (const nn_tensor *[]){idx, first}) == 0) {
    nn_iter_run(&it, rows[x->dtype], &c);
    r = nn_view(idx, ndim, shape);
  }
  nn_release(idx);
  nn_release(first);
  nn_release(flat);
  return r;
}

/* ======== the public functions of the kernel ops ======== */

static nn_tensor *call_reduce(const nn_op *op, nn_tensor *x, int dim, bool keepdim) {
  nn_attr a = {.i = {dim < 0 ? -1 : dim, keepdim}, .ni = 2};
  return nn_call(op, &x, &a);
}

#define KERNEL_FN(name, ...)                                                                       \
  nn_tensor *nn_##name(nn_tensor *x, int dim, bool keepdim) {                                      \
    return call_reduce(&nn_op_##name, x, dim, keepdim);                                            \
  }
FOLD_TABLE(KERNEL_FN)
PICK_TABLE(KERNEL_FN)

/* ======== composite reductions ======== */

/* t op c for a number c, in t's dtype; consumes t (NULL passes through). */
static nn_tensor *with_scalar(nn_tensor *(*op)(nn_tensor *, nn_tensor *), nn_tensor *t, double c) {
  if (!t) return NULL;
  nn_tensor *s = nn_scalar(t->dtype, c);
  nn_tensor *r = s ? op(t, s) : NULL;
  nn_release(s);
  nn_release(t);
  return r;
}

/* f(t), consuming t */
static nn_tensor *then(nn_tensor *(*f)(nn_tensor *), nn_tensor *t) {
  nn_tensor *r = t ? f(t) : NULL;
  nn_release(t);
  return r;
}

static int check_float(const char *what, const nn_tensor *x) {
  if (nn_dtype_is_float(x->dtype)) return 0;
  return nn_errc("%s needs a float tensor, got %s (convert it with :float())", what,
                 nn_dtype_name(x->dtype));
}

nn_tensor *nn_mean(nn_tensor *x, int dim, bool keepdim) {
  int d = reduced_dim(x, dim);
  if (check_float("mean", x) < 0 || d == BAD_DIM) return NULL;
  return with_scalar(nn_div, nn_sum(x, d, keepdim), (double)reduced_count(x, d));
}

/* sum((x - mean)^2) / (n - 1 when unbiased); no elements to spare give nan, as in PyTorch */
nn_tensor *nn_var(nn_tensor *x, int dim, bool keepdim, bool unbiased) {
  int d = reduced_dim(x, dim);
  if (check_float("var", x) < 0 || d == BAD_DIM) return NULL;
  nn_tensor *mu = nn_mean(x, d, true);
  nn_tensor *dx = mu ? nn_sub(x, mu) : NULL;
  nn_tensor *sq = dx ? nn_mul(dx, dx) : NULL;
  nn_tensor *ss = sq ? nn_sum(sq, d, keepdim) : NULL;
  nn_release(mu);
  nn_release(dx);
  nn_release(sq);
  int64_t n = reduced_count(x, d) - (unbiased ? 1 : 0);
  return with_scalar(nn_div, ss, (double)(n > 0 ? n : 0));
}

nn_tensor *nn_std(nn_tensor *x, int dim, bool keepdim, bool unbiased) {
  if (check_float("std", x) < 0) return NULL;
  return then(nn_sqrt, nn_var(x, dim, keepdim, unbiased));
}

/* max/min: the values are gathered at the arg indices, so their gradient flows to them. */
static nn_tensor *extreme(nn_tensor *(*arg)(nn_tensor *, int, bool), const char *what, nn_tensor *x,
                          int dim, bool keepdim, nn_tensor **idx) {
  if (idx) *idx = NULL;
  int d = reduced_dim(x, dim);
  if (d == BAD_DIM || check_nonempty(what, x, d) < 0) return NULL;
  int64_t numel = nn_numel(x), shape[NN_MAXDIM];
  int ndim = result_shape(x, d, keepdim, shape);
  nn_tensor *src = d < 0 ? nn_t_reshape(x, 1, &numel) : nn_retain(x);
  int sd = d < 0 ? 0 : d;
  nn_tensor *i = src ? arg(src, sd, true) : NULL;
  nn_tensor *v = i ? nn_gather(src, sd, i) : NULL;
  /* gather keeps the reduced dim; drop it unless asked to keep it */
  bool same_shape = d >= 0 && keepdim;
  nn_tensor *vr = !v ? NULL : same_shape ? nn_retain(v) : nn_t_reshape(v, ndim, shape);
  nn_tensor *ir = !vr || !idx ? NULL : same_shape ? nn_retain(i) : nn_reshape(i, ndim, shape);
  nn_release(src);
  nn_release(i);
  nn_release(v);
  if (idx && !ir) {
    nn_release(vr);
    return NULL;
  }
  if (idx) *idx = ir;
  return vr;
}

nn_tensor *nn_max(nn_tensor *x, int dim, bool keepdim, nn_tensor **idx) {
  return extreme(nn_argmax, "max", x, dim, keepdim, idx);
}

nn_tensor *nn_min(nn_tensor *x, int dim, bool keepdim, nn_tensor **idx) {
  return extreme(nn_argmin, "min", x, dim, keepdim, idx);
}

/* sum(t), consuming t */
static nn_tensor *sum_of(nn_tensor *t, int d, bool keepdim) {
  nn_tensor *r = t ? nn_sum(t, d, keepdim) : NULL;
  nn_release(t);
  return r;
}

static nn_tensor *pow_of(nn_tensor *t, double p) {
  return with_scalar(nn_pow, t, p);
}

/* p = 2: sqrt(sum(x^2)); 1: sum|x|; inf, -inf: max|x|, min|x| (0 when empty); 0: how many
   are not zero; otherwise sum(|x|^p)^(1/p). */
nn_tensor *nn_norm_value(nn_tensor *x, double p, int dim, bool keepdim) {
  int d = reduced_dim(x, dim);
  if (check_float("norm", x) < 0 || d == BAD_DIM) return NULL;
  if (p != p) return nn_err("the order p of a norm cannot be nan");
  if (p == 2) return then(nn_sqrt, sum_of(nn_mul(x, x), d, keepdim));
  if (p == 0) {
    nn_tensor *nonzero = with_scalar(nn_ne, nn_retain(x), 0);
    nn_tensor *count = sum_of(nonzero, d, keepdim);
    nn_tensor *r = count ? nn_to(count, x->dtype) : NULL;
    nn_release(count);
    return r;
  }
  nn_tensor *ax = nn_abs(x);
  if (p == 1 || (isinf(p) && reduced_count(x, d) == 0)) return sum_of(ax, d, keepdim);
  if (isinf(p)) {
    nn_tensor *r = ax ? (p > 0 ? nn_max : nn_min)(ax, d, keepdim, NULL) : NULL;
    nn_release(ax);
    return r;
  }
  return pow_of(sum_of(pow_of(ax, p), d, keepdim), 1 / p);
}

/* Sets the infinities of a float tensor to 0 (the shift of an all -inf slice). */
static void zero_infinities_(nn_tensor *t) {
  int64_t n = nn_numel(t);
  size_t size = nn_dtype_size(t->dtype);
  char *data = nn_data(t);
  for (int64_t i = 0; i < n; i++)
    if (isinf(nn_load(data + i * size, t->dtype))) nn_store(data + i * size, t->dtype, 0);
}

/* The max of x over d, with infinities replaced by 0; keeps d. 0 when there are no
   elements. Taken from an alias of x, so it is a constant to autograd (no gradient flows
   through the shift) and nothing is recorded for it. */
static nn_tensor *logsumexp_shift(nn_tensor *x, int d) {
  if (reduced_count(x, d) == 0) return nn_scalar(x->dtype, 0);
  nn_tensor *detached = nn_alias(x);
  nn_tensor *m = detached ? nn_max(detached, d, true, NULL) : NULL;
  nn_tensor *shift = m ? nn_contiguous(m) : NULL;
  nn_release(detached);
  nn_release(m);
  if (shift) zero_infinities_(shift);
  return shift;
}

/* log(sum(exp(x))) as m + log(sum(exp(x - m))) with m the max: finite for large x. Integer
   inputs compute in f32, as PyTorch. */
nn_tensor *nn_logsumexp(nn_tensor *x, int dim, bool keepdim) {
  int d = reduced_dim(x, dim);
  if (d == BAD_DIM) return NULL;
  nn_tensor *xf = nn_dtype_is_float(x->dtype) ? nn_retain(x) : nn_to(x, NN_F32);
  nn_tensor *m = xf ? logsumexp_shift(xf, d) : NULL;
  nn_tensor *centered = m ? nn_sub(xf, m) : NULL;
  nn_tensor *lse = then(nn_log, sum_of(then(nn_exp, centered), d, keepdim));
  nn_tensor *mk = m && d >= 0 && !keepdim && m->ndim > 0 ? nn_squeeze(m, d) : m;
  nn_tensor *r = lse && mk ? nn_add(lse, mk) : NULL;
  if (mk != m) nn_release(mk);
  nn_release(m);
  nn_release(lse);
  nn_release(xf);
  return r;
}
