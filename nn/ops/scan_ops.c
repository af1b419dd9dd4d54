/*
** nn/ops/scan_ops.c: cumulative sums and products along a dim (cumsum, cumprod).
**
** Floats keep their dtype and accumulate in double; integers give i64, wrapping on
** overflow as PyTorch's do. Attributes: i[0] dim, i[1] reverse (from the end of each lane:
** cumsum's VJP, which is the reversed cumulative sum of the gradient).
**
** cumprod's derivatives use no division, so they are right where the input has zeros: with
** P_k the product of the lane's elements before k, the VJP is dx_k = P_k S_k where
** S_k = g_k + x_{k+1} S_{k+1} (S_n = g_n), and the JVP is the recurrence
** ty_k = ty_{k-1} x_k + y_{k-1} t_k.
*/
#include <string.h>

#include "nn/alloc.h"
#include "nn/ops.h"
#include "nn/ops/along.h"
#include "nn/pool.h"

/* y = the running fold of x along each lane, from the start or (rev) from the end; x and y
   contiguous, of type T, the arithmetic in U. Lanes of one element stride are swept four at
   a time, whose chains of dependent steps interleave (in registers); the lanes of one outer
   index are swept together, a row of inner accumulators at a time, so that memory is read
   in order. */
#define SCAN_STEP(T, U, fab, acc_, at_)                                                            \
  {                                                                                                \
    U a = acc_, b = (U)x[at_];                                                                     \
    y[at_] = (T)(acc_ = (fab));                                                                    \
  }
#define SCAN(T, U, name, init, fab)                                                                \
  static void name(const void *xp, void *yp, along l, bool rev, void *accp) {                      \
    const T *x = xp;                                                                               \
    T *y = yp;                                                                                     \
    U *acc = accp;                                                                                 \
    int64_t o = 0, n = l.n;                                                                        \
    for (; l.inner == 1 && o + 4 <= l.outer; o += 4) {                                             \
      U p0 = (U)(init), p1 = p0, p2 = p0, p3 = p0;                                                 \
      for (int64_t jj = 0; jj < n; jj++) {                                                         \
        int64_t at = o * n + (rev ? n - 1 - jj : jj);                                              \
        SCAN_STEP(T, U, fab, p0, at)                                                               \
        SCAN_STEP(T, U, fab, p1, at + n)                                                           \
        SCAN_STEP(T, U, fab, p2, at + 2 * n)                                                       \
        SCAN_STEP(T, U, fab, p3, at + 3 * n)                                                       \
      }                                                                                            \
    }                                                                                              \
    for (; l.inner == 1 && o < l.outer; o++) {                                                     \
      U p = (U)(init);                                                                             \
      for (int64_t jj = 0; jj < n; jj++) {                                                         \
        int64_t at = o * n + (rev ? n - 1 - jj : jj);                                              \
        SCAN_STEP(T, U, fab, p, at)                                                                \
      }                                                                                            \
    }                                                                                              \
    for (o = 0; l.inner > 1 && o < l.outer; o++) {                                                 \
      for (int64_t i = 0; i < l.inner; i++) acc[i] = (U)(init);                                    \
      for (int64_t jj = 0; jj < l.n; jj++) {                                                       \
        int64_t at = (o * l.n + (rev ? l.n - 1 - jj : jj)) * l.inner;                              \
        for (int64_t i = 0; i < l.inner; i++) {                                                    \
          U a = acc[i], b = (U)x[at + i];                                                          \
          acc[i] = a = (fab);                                                                      \
          y[at + i] = (T)a;                                                                        \
        }                                                                                          \
      }                                                                                            \
    }                                                                                              \
  }
#define SCANS(name, init, fab)                                                                     \
  SCAN(float, double, name##_f32, init, fab)                                                       \
  SCAN(double, double, name##_f64, init, fab)                                                      \
  SCAN(int64_t, uint64_t, name##_i64, init, fab)                                                   \
  static scan_fn *const name##_kern[NN_NDTYPES] = {                                                \
      [NN_F32] = name##_f32, [NN_F64] = name##_f64, [NN_I64] = name##_i64};
typedef void scan_fn(const void *, void *, along, bool, void *);
SCANS(cumsum, 0, a + b)
SCANS(cumprod, 1, a *b)

/* t converted to dt and contiguous: a new reference */
static nn_tensor *dense(nn_tensor *t, nn_dtype dt) {
  nn_tensor *c = nn_to(t, dt), *r = c ? nn_contiguous(c) : NULL;
  nn_release(c);
  return r;
}

/* The outer blocks go to the threads in up to PIECES pieces of at least PIECE_MIN elements,
   each with its inner accumulators (allocated here: the allocator is the calling thread's);
   no split changes a bit. */
enum { PIECES = 8, PIECE_MIN = 1 << 15 };
typedef struct scan_job {
  scan_fn *f;
  const char *x;
  char *y;
  size_t es;
  along l;
  bool rev;
  int64_t npieces;
  char *acc; /* inner accumulators of 8 bytes per piece */
} scan_job;

static void scan_pieces(int64_t lo, int64_t hi, void *arg) {
  const scan_job *j = arg;
  for (int64_t p = lo; p < hi; p++) {
    int64_t o = j->l.outer * p / j->npieces, end = j->l.outer * (p + 1) / j->npieces;
    size_t off = (size_t)(o * j->l.n * j->l.inner) * j->es;
    along part = {end - o, j->l.n, j->l.inner};
    j->f(j->x + off, j->y + off, part, j->rev, j->acc + (size_t)p * (size_t)j->l.inner * 8);
  }
}

static nn_tensor *scan_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                               nn_tensor *out) {
  scan_fn *const *k = op->kern;
  nn_tensor *x = in[0];
  if (out) return nn_err("%s cannot write into an existing tensor", op->name);
  if (along_check_dim(x, a->i[0]) < 0) return NULL;
  nn_dtype dt = nn_dtype_is_float(x->dtype) ? x->dtype : NN_I64;
  along l = along_dim(x, (int)a->i[0]);
  scan_job j = {.f = k[dt], .es = nn_dtype_size(dt), .l = l, .rev = a->i[1] != 0};
  j.npieces = nn_pieces(nn_numel(x), PIECE_MIN, PIECES, l.outer);
  size_t nb = (size_t)j.npieces * (size_t)(l.inner ? l.inner : 1) * 8;
  j.acc = nn_alloc(nb);
  nn_tensor *xc = j.acc ? dense(x, dt) : NULL, *y = xc ? nn_empty(dt, x->ndim, x->shape) : NULL;
  if (y) {
    j.x = nn_data(xc), j.y = nn_data(y);
    nn_parallel(j.npieces, 1, scan_pieces, &j);
  }
  if (!j.acc) nn_err("out of memory in %s", op->name);
  nn_free(j.acc, nb);
  nn_release(xc);
  return y;
}

static int cumsum_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  if (!need[0]) return 0;
  nn_attr a = c->attr;
  a.i[1] = !a.i[1];
  nn_tensor *g = nn_call(c->op, &gout, &a);
  gin[0] = g ? nn_to(g, c->in[0]->dtype) : NULL;
  nn_release(g);
  return gin[0] ? 0 : -1;
}

static nn_tensor *cumsum_jvp(const nn_ctx *c, nn_tensor *const *tin) {
  return tin[0] ? nn_call(c->op, tin, &c->attr) : NULL;
}

/* cumprod's derivatives lane by lane, in double: u is g (VJP) or t (JVP), r the result */
static void cumprod_vjp_lanes(const double *x, const double *g, double *r, along l) {
  for (int64_t o = 0; o < l.outer; o++)
    for (int64_t i = 0; i < l.inner; i++) {
      const int64_t base = o * l.n * l.inner + i, s = l.inner;
      double acc = 0; /* S_k, from the end */
      for (int64_t j = l.n - 1; j >= 0; j--) {
        acc = g[base + j * s] + (j + 1 < l.n ? x[base + (j + 1) * s] * acc : 0);
        r[base + j * s] = acc;
      }
      double before = 1; /* P_k */
      for (int64_t j = 0; j < l.n; j++) r[base + j * s] *= before, before *= x[base + j * s];
    }
}

static void cumprod_jvp_lanes(const double *x, const double *t, double *r, along l) {
  for (int64_t o = 0; o < l.outer; o++)
    for (int64_t i = 0; i < l.inner; i++) {
      const int64_t base = o * l.n * l.inner + i, s = l.inner;
      double y = 1, ty = 0;
      for (int64_t j = 0; j < l.n; j++) {
        ty = ty * x[base + j * s] + y * t[base + j * s];
        y *= x[base + j * s];
        r[base + j * s] = ty;
      }
    }
}

typedef void lanes_fn(const double *, const double *, double *, along);

/* f over x and u (broadcast to x's shape), in double; the result in x's dtype */
static nn_tensor *cumprod_derivative(const nn_ctx *c, nn_tensor *u, lanes_fn *f) {
  nn_tensor *x = c->in[0], *xd = dense(x, NN_F64), *ud = NULL, *r = NULL;
  nn_tensor *ue = xd ? nn_expand(u, x->ndim, x->shape) : NULL;
  if (ue) ud = dense(ue, NN_F64);
  if (ud) r = nn_empty(NN_F64, x->ndim, x->shape);
  if (r)
    f((const double *)nn_data(xd), (const double *)nn_data(ud), (double *)nn_data(r),
      along_dim(x, (int)c->attr.i[0]));
  nn_tensor *rt = r ? nn_to(r, x->dtype) : NULL;
  nn_release(xd), nn_release(ue), nn_release(ud), nn_release(r);
  return rt;
}

static int cumprod_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  if (!need[0]) return 0;
  gin[0] = cumprod_derivative(c, gout, cumprod_vjp_lanes);
  return gin[0] ? 0 : -1;
}

static nn_tensor *cumprod_jvp(const nn_ctx *c, nn_tensor *const *tin) {
  return tin[0] ? cumprod_derivative(c, tin[0], cumprod_jvp_lanes) : NULL;
}

const nn_op nn_op_cumsum = {.name = "cumsum",
                            .nin = 1,
                            .forward = scan_forward,
                            .vjp = cumsum_vjp,
                            .jvp = cumsum_jvp,
                            .kern = cumsum_kern};
const nn_op nn_op_cumprod = {.name = "cumprod",
                             .nin = 1,
                             .forward = scan_forward,
                             .vjp = cumprod_vjp,
                             .jvp = cumprod_jvp,
                             .kern = cumprod_kern};

nn_tensor *nn_cumsum(nn_tensor *x, int dim) {
  nn_attr a = {.i = {dim, 0}, .ni = 2};
  return nn_call(&nn_op_cumsum, &x, &a);
}

nn_tensor *nn_cumprod(nn_tensor *x, int dim) {
  nn_attr a = {.i = {dim, 0}, .ni = 2};
  return nn_call(&nn_op_cumprod, &x, &a);
}
