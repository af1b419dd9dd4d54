/*
** nn/ops/nnfunc.c: the functions behind neural-net layers: linear, softmax and log_softmax,
** layer and batch normalization, dropout and embedding.
**
** These are the hot ops of training, so each is one op with a fused kernel rather than a
** chain of elementwise ops: linear is one GEMM accumulating onto the broadcast bias, and its
** backward is two GEMMs and a column sum; softmax, the normalizations and their derivatives
** are a pass or two over each row, with sums in double. Backward passes recompute what they
** need (row maxima, means, deviations) from the saved inputs instead of storing it.
** Operands are f32 or f64, all of one dtype; kernels are written once per dtype by macros.
*/
#include <limits.h>

#include "nn/alloc.h"
#include "nn/ops/blas.h"
#include "nn/ops/fastmath.h"
#include "nn/ops/pointwise.h"
#include "nn/pool.h"

/* Instantiates a kernel macro K(D, T, name) for f32 and f64, and its table by dtype. */
#define KERNEL_SLOT(D, T, name) [NN_##D] = name##_##D,
#define KERNELS(type, name, K)                                                                     \
  TYPES_FLOAT(K, name)                                                                             \
  static type *const name[NN_NDTYPES] = {TYPES_FLOAT(KERNEL_SLOT, name)};

static int check_float(const char *what, const nn_tensor *t) {
  if (nn_dtype_is_float(t->dtype)) return 0;
  return nn_errc("%s must be f32 or f64, not %s", what, nn_dtype_name(t->dtype));
}

static int check_dtype(const char *what, const nn_tensor *t, const nn_tensor *x) {
  if (t->dtype == x->dtype) return 0;
  return nn_errc("%s is %s but the input is %s", what, nn_dtype_name(t->dtype),
                 nn_dtype_name(x->dtype));
}

static int check_vector(const char *what, const nn_tensor *t, int64_t n, const nn_tensor *x) {
  if (t->ndim != 1 || t->shape[0] != n)
    return nn_errc("%s has shape %s but %lld values are needed (one per feature of input %s)", what,
                   nn_shape_str(t), (long long)n, nn_shape_str(x));
  return check_dtype(what, t, x);
}

/* t, contiguous and of dtype dt (t itself when it already is): a new reference */
static nn_tensor *dense(nn_tensor *t, nn_dtype dt) {
  nn_tensor *c = nn_to(t, dt), *r = c ? nn_contiguous(c) : NULL;
  nn_release(c);
  return r;
}

static int64_t prod(const int64_t *shape, int from, int to) {
  int64_t n = 1;
  for (int d = from; d < to; d++) n *= shape[d];
  return n;
}

/* ======== BLAS ======== */

/* How BLAS reads the 2-D m in place (blas_layout); false when it must be copied. */
static bool matrix_layout(const nn_tensor *m, bool *trans, int *ld) {
  return blas_layout(m->shape[0], m->shape[1], m->stride[0], m->stride[1], trans, ld);
}

/* t's elements as a rows x cols matrix that BLAS can read: a view when possible, else a
   copy. A new reference. */
static nn_tensor *matrix_of(nn_tensor *t, int64_t rows, int64_t cols) {
  int64_t shape[2] = {rows, cols};
  bool trans;
  int ld;
  nn_tensor *v = nn_view(t, 2, shape);
  if (v && matrix_layout(v, &trans, &ld)) return v;
  nn_release(v);
  nn_tensor *c = nn_clone(t);
  v = c ? nn_view(c, 2, shape) : NULL;
  nn_release(c);
  return v;
}

/* c (m x n, dense) = op(a) op(b) + beta c, where op(a) is a^T when ta: one sgemm/dgemm */
static void gemm(const nn_tensor *a, bool ta, const nn_tensor *b, bool tb, double beta, void *c) {
  bool sa, sb;
  int lda, ldb;
  matrix_layout(a, &sa, &lda);
  matrix_layout(b, &sb, &ldb);
  int m = (int)a->shape[ta ? 1 : 0], k = (int)a->shape[ta ? 0 : 1], n = (int)b->shape[tb ? 0 : 1];
  if (m == 0 || n == 0) return;
  size_t es = nn_dtype_size(a->dtype);
  if (k == 0) { /* a sum of nothing (BLAS rejects the leading dims) */
    if (beta == 0) memset(c, 0, (size_t)m * (size_t)n * es);
    return;
  }
  blas_gemm(a->dtype, ta != sa, tb != sb, m, n, k, nn_data(a), lda, nn_data(b), ldb, beta, c);
}

/* ======== linear: y = x W^T + b ======== */

/* Two entries, with and without bias, share one implementation: the bias is input 2. */
static nn_tensor *bias_of(int nin, nn_tensor *const *in) {
  return nin == 3 ? in[2] : NULL;
}

static int check_linear(const nn_tensor *x, const nn_tensor *w, const nn_tensor *b) {
  if (check_float("weight", w) < 0 || check_dtype("weight", w, x) < 0) return -1;
  if (w->ndim != 2)
    return nn_errc("weight must be 2-D (out, in), not of shape %s", nn_shape_str(w));
  if (x->ndim < 1) return nn_errc("input must have a dim of features, not shape {}");
  int64_t in = w->shape[1], out = w->shape[0], rows = prod(x->shape, 0, x->ndim - 1);
  if (x->shape[x->ndim - 1] != in)
    return nn_errc("input has %lld features but weight expects %lld (input %s, weight %s)",
                   (long long)x->shape[x->ndim - 1], (long long)in, nn_shape_str(x),
                   nn_shape_str(w));
  if (b && (b->ndim != 1 || b->shape[0] != out))
    return nn_errc("bias has shape %s but weight has %lld outputs (shape %s)", nn_shape_str(b),
                   (long long)out, nn_shape_str(w));
  if (b && check_dtype("bias", b, x) < 0) return -1;
  if (in > INT_MAX || out > INT_MAX || rows > INT_MAX)
    return nn_errc("linear of %s by %s is too large for BLAS", nn_shape_str(x), nn_shape_str(w));
  return 0;
}

/* every row of y (rows x n, dense) = b */
static int fill_rows(nn_tensor *y, nn_tensor *b, int64_t rows, int64_t n) {
  nn_tensor *bc = nn_contiguous(b);
  if (!bc) return -1;
  size_t bytes = (size_t)n * nn_dtype_size(y->dtype);
  for (int64_t i = 0; i < rows; i++) memcpy(nn_data(y) + i * bytes, nn_data(bc), bytes);
  nn_release(bc);
  return 0;
}

static nn_tensor *linear_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                                 nn_tensor *out) {
  (void)a, (void)out;
  nn_tensor *x = in[0], *w = in[1], *b = bias_of(op->nin, in);
  if (check_linear(x, w, b) < 0) return NULL;
  int64_t nin = w->shape[1], nout = w->shape[0], rows = prod(x->shape, 0, x->ndim - 1);
  int64_t shape[NN_MAXDIM];
  memcpy(shape, x->shape, sizeof shape);
  shape[x->ndim - 1] = nout;
  nn_tensor *y = nn_empty(w->dtype, x->ndim, shape), *xm = NULL, *wm = NULL;
  bool ok = y && (!b || fill_rows(y, b, rows, nout) == 0) && (xm = matrix_of(x, rows, nin)) &&
            (wm = matrix_of(w, nout, nin));
  if (ok) gemm(xm, false, wm, true, b ? 1 : 0, nn_data(y)); /* y = x W^T (+ the bias in y) */
  nn_release(xm), nn_release(wm);
  if (ok) return y;
  nn_release(y);
  return NULL;
}

/* s[j] = the sum of column j of g (rows x cols, dense), accumulated in double */
#define COLSUM(D, T, name)                                                                         \
  static void name##_##D(const void *gp, int64_t rows, int64_t cols, double *acc, void *sp) {      \
    const T *g = gp;                                                                               \
    T *s = sp;                                                                                     \
    memset(acc, 0, (size_t)cols * sizeof *acc);                                                    \
    for (int64_t i = 0; i < rows; i++)                                                             \
      for (int64_t j = 0; j < cols; j++) acc[j] += g[i * cols + j];                                \
    for (int64_t j = 0; j < cols; j++) s[j] = (T)acc[j];                                           \
  }
typedef void colsum_fn(const void *, int64_t, int64_t, double *, void *);
KERNELS(colsum_fn, colsum, COLSUM)

static nn_tensor *column_sums(nn_tensor *g, int64_t rows, int64_t cols) {
  nn_tensor *s = nn_empty(g->dtype, 1, &cols), *gc = s ? nn_contiguous(g) : NULL;
  double *acc = gc ? nn_alloc((size_t)(cols ? cols : 1) * sizeof *acc) : NULL;
  if (acc)
    colsum[g->dtype](nn_data(gc), rows, cols, acc, nn_data(s));
  else
    nn_release(s), s = NULL;
  if (acc) nn_free(acc, (size_t)(cols ? cols : 1) * sizeof *acc);
  nn_release(gc);
  return s;
}

/* dx = g W, dW = g^T x, db = the column sums of g: two GEMMs and one pass */
static int linear_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  nn_tensor *x = c->in[0], *w = c->in[1];
  int64_t nin = w->shape[1], nout = w->shape[0], rows = prod(x->shape, 0, x->ndim - 1);
  nn_tensor *g = nn_to(gout, w->dtype), *gm = g ? matrix_of(g, rows, nout) : NULL;
  int rc = gm ? 0 : -1;
  if (rc == 0 && need[0]) {
    nn_tensor *wm = matrix_of(w, nout, nin);
    if (wm && (gin[0] = nn_empty(x->dtype, x->ndim, x->shape)))
      gemm(gm, false, wm, false, 0, nn_data(gin[0]));
    rc = gin[0] ? 0 : -1;
    nn_release(wm);
  }
  if (rc == 0 && need[1]) {
    nn_tensor *xm = matrix_of(x, rows, nin);
    if (xm && (gin[1] = nn_empty(w->dtype, 2, w->shape)))
      gemm(gm, true, xm, false, 0, nn_data(gin[1]));
    rc = gin[1] ? 0 : -1;
    nn_release(xm);
  }
  if (rc == 0 && c->nin == 3 && need[2]) rc = (gin[2] = column_sums(gm, rows, nout)) ? 0 : -1;
  nn_release(g), nn_release(gm);
  return rc;
}

/* tx W^T + x tW^T + tb, each term where its tangent exists */
static nn_tensor *linear_jvp(const nn_ctx *c, nn_tensor *const *t) {
  nn_tensor *x = c->in[0], *w = c->in[1], *tb = c->nin == 3 ? t[2] : NULL, *r = NULL;
  if (t[0]) {
    r = nn_linear(t[0], w, tb);
    tb = NULL;
    if (!r) return NULL;
  }
  if (t[1]) {
    r = nn_add_term(r, nn_linear(x, t[1], tb));
    tb = NULL;
  }
  if (tb) { /* only the bias moves */
    nn_tensor *e = nn_expand(tb, c->out->ndim, c->out->shape);
    r = e ? nn_contiguous(e) : NULL;
    nn_release(e);
  }
  return r;
}

const nn_op nn_op_linear = {
    .name = "linear", .nin = 3, .forward = linear_forward, .vjp = linear_vjp, .jvp = linear_jvp};
const nn_op nn_op_linear_nobias = {.name = "linear_nobias",
                                   .nin = 2,
                                   .forward = linear_forward,
                                   .vjp = linear_vjp,
                                   .jvp = linear_jvp};

nn_tensor *nn_linear(nn_tensor *x, nn_tensor *w, nn_tensor *b) {
  if (b) return nn_call(&nn_op_linear, (nn_tensor *[]){x, w, b}, NULL);
  return nn_call(&nn_op_linear_nobias, (nn_tensor *[]){x, w}, NULL);
}

/* ======== softmax and log_softmax along one dim ======== */

/* The tensor as (outer, n, inner) around dim: element (o, k, i) at (o n + k) inner + i. */
typedef struct lanes {
  int64_t outer, n, inner;
} lanes;

static lanes lanes_of(const nn_tensor *x, int dim) {
  if (x->ndim == 0) return (lanes){1, 1, 1};
  return (lanes){prod(x->shape, 0, dim), x->shape[dim], prod(x->shape, dim + 1, x->ndim)};
}

/* One lane of n elements s apart: y = exp(x - max) / sum, or x - max - log(sum). The
   exponentials go to y first, in a loop of their own that vectorizes (f32:
   nn/ops/fastmath.h); the maximum and the f64 sum run in 8 parts, since one chain of
   dependent steps would wait on each. Inlined twice, for s = 1 and any s, so that the
   contiguous lanes of a last-dim softmax get vector code. */
enum { PARTS = 8 };
#define SOFTMAX_LANE(D, T, name)                                                                   \
  static inline __attribute__((always_inline)) void name##_##D(const T *x, T *y, int64_t n,        \
                                                               int64_t s, bool log_form) {         \
    T top[PARTS], max = -INFINITY;                                                                 \
    double part[PARTS] = {0}, sum = 0;                                                             \
    for (int j = 0; j < PARTS; j++) top[j] = -INFINITY;                                            \
    int64_t k = 0;                                                                                 \
    for (; k + PARTS <= n; k += PARTS)                                                             \
      for (int j = 0; j < PARTS; j++) top[j] = x[(k + j) * s] > top[j] ? x[(k + j) * s] : top[j];  \
    for (; k < n; k++) max = x[k * s] > max ? x[k * s] : max;                                      \
    for (int j = 0; j < PARTS; j++) max = top[j] > max ? top[j] : max;                             \
    for (k = 0; k < n; k++) y[k * s] = NN_EXP(x[k * s] - max);                                     \
    for (k = 0; k + PARTS <= n; k += PARTS)                                                        \
      for (int j = 0; j < PARTS; j++) part[j] += y[(k + j) * s];                                   \
    for (; k < n; k++) sum += y[k * s];                                                            \
    for (int j = 0; j < PARTS; j++) sum += part[j];                                                \
    if (log_form) {                                                                                \
      T shift = max + (T)log(sum);                                                                 \
      for (k = 0; k < n; k++) y[k * s] = x[k * s] - shift;                                         \
    } else {                                                                                       \
      T inv = (T)(1 / sum);                                                                        \
      for (k = 0; k < n; k++) y[k * s] *= inv;                                                     \
    }                                                                                              \
  }
TYPES_FLOAT(SOFTMAX_LANE, softmax_lane)

#define SOFTMAX(D, T, name)                                                                        \
  VECTOR_CLONES static void name##_##D(const void *xp, void *yp, lanes l, bool log_form) {         \
    for (int64_t o = 0; o < l.outer; o++)                                                          \
      for (int64_t i = 0; i < l.inner; i++) {                                                      \
        const T *x = (const T *)xp + o * l.n * l.inner + i;                                        \
        T *y = (T *)yp + o * l.n * l.inner + i;                                                    \
        if (l.inner == 1)                                                                          \
          softmax_lane_##D(x, y, l.n, 1, log_form);                                                \
        else                                                                                       \
          softmax_lane_##D(x, y, l.n, l.inner, log_form);                                          \
      }                                                                                            \
  }
typedef void softmax_fn(const void *, void *, lanes, bool);
KERNELS(softmax_fn, softmax_rows, SOFTMAX)

/* The derivatives, per lane, from the output y and an incoming g (gradient or tangent):
   softmax (both modes): y (g - sum(g y)); log_softmax, reverse: g - exp(y) sum(g);
   log_softmax, forward: g - sum(exp(y) g). As in the forward, each loop does one thing (the
   terms of the sum go to r first), so that the contiguous lanes get vector code, and the f64
   sum runs in PARTS parts. */
typedef enum { SOFTMAX_BOTH, LOG_SOFTMAX_VJP, LOG_SOFTMAX_JVP } softmax_mode;
#define SOFTMAX_BACK_LANE(D, T, name)                                                              \
  static inline __attribute__((always_inline)) void name##_##D(                                    \
      const T *y, const T *g, T *r, int64_t n, int64_t s, softmax_mode mode) {                     \
    const T *term = r;                                                                             \
    if (mode == SOFTMAX_BOTH)                                                                      \
      for (int64_t k = 0; k < n; k++) r[k * s] = g[k * s] * y[k * s];                              \
    else if (mode == LOG_SOFTMAX_JVP)                                                              \
      for (int64_t k = 0; k < n; k++) r[k * s] = NN_EXP(y[k * s]) * g[k * s];                      \
    else                                                                                           \
      term = g;                                                                                    \
    double part[PARTS] = {0}, sum = 0;                                                             \
    int64_t k = 0;                                                                                 \
    for (; k + PARTS <= n; k += PARTS)                                                             \
      for (int j = 0; j < PARTS; j++) part[j] += term[(k + j) * s];                                \
    for (; k < n; k++) sum += term[k * s];                                                         \
    for (int j = 0; j < PARTS; j++) sum += part[j];                                                \
    T t = (T)sum;                                                                                  \
    if (mode == SOFTMAX_BOTH)                                                                      \
      for (k = 0; k < n; k++) r[k * s] = y[k * s] * (g[k * s] - t);                                \
    else if (mode == LOG_SOFTMAX_JVP)                                                              \
      for (k = 0; k < n; k++) r[k * s] = g[k * s] - t;                                             \
    else {                                                                                         \
      for (k = 0; k < n; k++) r[k * s] = NN_EXP(y[k * s]);                                         \
      for (k = 0; k < n; k++) r[k * s] = g[k * s] - r[k * s] * t;                                  \
    }                                                                                              \
  }
TYPES_FLOAT(SOFTMAX_BACK_LANE, softmax_back_lane)

#define SOFTMAX_BACK(D, T, name)                                                                   \
  VECTOR_CLONES static void name##_##D(const void *yp, const void *gp, void *rp, lanes l,          \
                                       softmax_mode mode) {                                        \
    for (int64_t o = 0; o < l.outer; o++)                                                          \
      for (int64_t i = 0; i < l.inner; i++) {                                                      \
        int64_t base = o * l.n * l.inner + i;                                                      \
        const T *y = (const T *)yp + base, *g = (const T *)gp + base;                              \
        T *r = (T *)rp + base;                                                                     \
        if (l.inner == 1)                                                                          \
          softmax_back_lane_##D(y, g, r, l.n, 1, mode);                                            \
        else                                                                                       \
          softmax_back_lane_##D(y, g, r, l.n, l.inner, mode);                                      \
      }                                                                                            \
  }
typedef void softmax_back_fn(const void *, const void *, void *, lanes, softmax_mode);
KERNELS(softmax_back_fn, softmax_back, SOFTMAX_BACK)

/* The lanes of one outer index are independent of the others': blocks of them go to the
   threads (one at least 2^15 elements), and no split changes a bit. */
enum { LANE_GRAIN = 1 << 15 };
typedef struct lane_job {
  softmax_fn *fwd; /* the forward, or NULL and back */
  softmax_back_fn *back;
  const char *x, *g; /* forward: x; backward: y and g */
  char *r;
  size_t esize;
  lanes l;
  bool log_form;
  softmax_mode mode;
} lane_job;

static void lane_blocks(int64_t lo, int64_t hi, void *arg) {
  const lane_job *j = arg;
  size_t off = (size_t)(lo * j->l.n * j->l.inner) * j->esize;
  lanes part = {hi - lo, j->l.n, j->l.inner};
  if (j->fwd)
    j->fwd(j->x + off, j->r + off, part, j->log_form);
  else
    j->back(j->x + off, j->g + off, j->r + off, part, j->mode);
}

static void run_lanes(lane_job *j) {
  nn_parallel(j->l.outer, nn_grain(j->l.n * j->l.inner, LANE_GRAIN), lane_blocks, j);
}

static bool is_log(const nn_op *op) {
  return *(const bool *)op->kern;
}

static nn_tensor *softmax_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                                  nn_tensor *out) {
  (void)out;
  nn_tensor *x = in[0];
  int dim = a ? (int)a->i[0] : 0;
  if (check_float("input", x) < 0) return NULL;
  if (dim < 0 || dim >= (x->ndim ? x->ndim : 1))
    return nn_err("dim %d is out of range for shape %s", dim + 1, nn_shape_str(x));
  nn_tensor *xc = nn_contiguous(x), *y = xc ? nn_empty_like(x) : NULL;
  if (y)
    run_lanes(&(lane_job){.fwd = softmax_rows[x->dtype],
                          .x = nn_data(xc),
                          .r = nn_data(y),
                          .esize = nn_dtype_size(x->dtype),
                          .l = lanes_of(x, dim),
                          .log_form = is_log(op)});
  nn_release(xc);
  return y;
}

static nn_tensor *softmax_derivative(const nn_ctx *c, nn_tensor *g, softmax_mode mode) {
  nn_tensor *y = c->out, *gc = dense(g, y->dtype), *yc = gc ? nn_contiguous(y) : NULL;
  nn_tensor *r = yc ? nn_empty_like(y) : NULL;
  if (r)
    run_lanes(&(lane_job){.back = softmax_back[y->dtype],
                          .x = nn_data(yc),
                          .g = nn_data(gc),
                          .r = nn_data(r),
                          .esize = nn_dtype_size(y->dtype),
                          .l = lanes_of(y, (int)c->attr.i[0]),
                          .mode = mode});
  nn_release(gc), nn_release(yc);
  return r;
}

static int softmax_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  if (!need[0]) return 0;
  gin[0] = softmax_derivative(c, gout, is_log(c->op) ? LOG_SOFTMAX_VJP : SOFTMAX_BOTH);
  return gin[0] ? 0 : -1;
}

static nn_tensor *softmax_jvp(const nn_ctx *c, nn_tensor *const *t) {
  return t[0] ? softmax_derivative(c, t[0], is_log(c->op) ? LOG_SOFTMAX_JVP : SOFTMAX_BOTH) : NULL;
}

static const bool form_linear = false, form_log = true; /* kern: the log form or not */
const nn_op nn_op_softmax = {.name = "softmax",
                             .nin = 1,
                             .kern = &form_linear,
                             .forward = softmax_forward,
                             .vjp = softmax_vjp,
                             .jvp = softmax_jvp,
                             .save_out = true};
const nn_op nn_op_log_softmax = {.name = "log_softmax",
                                 .nin = 1,
                                 .kern = &form_log,
                                 .forward = softmax_forward,
                                 .vjp = softmax_vjp,
                                 .jvp = softmax_jvp,
                                 .save_out = true};

nn_tensor *nn_softmax(nn_tensor *x, int dim) {
  nn_attr a = {.i = {dim}};
  return nn_call(&nn_op_softmax, &x, &a);
}

nn_tensor *nn_log_softmax(nn_tensor *x, int dim) {
  nn_attr a = {.i = {dim}};
  return nn_call(&nn_op_log_softmax, &x, &a);
}

/* ======== layer and batch normalization ======== */

/* Both normalize groups of n elements to mean 0 and variance 1, then scale and shift each
   element by weight[k] and bias[k]. They differ in layout only: layer norm's groups are the
   rows of (rows, d) and k is the element's column; batch norm's groups are the columns of
   (N, C) and k is the group. */
typedef struct norm_layout {
  int64_t groups, n; /* groups normalized independently, of n elements each */
  int64_t gs, es;    /* element strides from one group to the next, within one group */
  int64_t wg, we;    /* element e of group g uses weight[g wg + e we] */
  int64_t nparams;   /* the size of weight and bias */
  double eps;
} norm_layout;

static norm_layout norm_layout_of(const nn_op *op, const nn_tensor *x, double eps) {
  int64_t d = x->shape[x->ndim - 1], rows = prod(x->shape, 0, x->ndim - 1);
  if (op == &nn_op_batch_norm) return (norm_layout){d, rows, 1, d, 1, 0, d, eps};
  return (norm_layout){rows, d, d, 1, 0, 1, d, eps};
}

/* The group's mean and 1/sqrt(variance + eps), variance biased; two passes, in double.
   The kernels below are written once, for both dtypes. */
#define GROUP_STATS(T)                                                                             \
  double mean = 0, var = 0;                                                                        \
  for (int64_t e = 0; e < L->n; e++) mean += x[e * L->es];                                         \
  mean = L->n ? mean / (double)L->n : 0;                                                           \
  for (int64_t e = 0; e < L->n; e++) var += (x[e * L->es] - mean) * (x[e * L->es] - mean);         \
  var = L->n ? var / (double)L->n : 0;                                                             \
  double rstd = 1 / sqrt(var + L->eps);                                                            \
  (void)rstd

#define NORM_STATS(D, T, name)                                                                     \
  static void name##_##D(const norm_layout *L, const void *xp, double *means, double *vars) {      \
    for (int64_t grp = 0; grp < L->groups; grp++) {                                                \
      const T *x = (const T *)xp + grp * L->gs;                                                    \
      GROUP_STATS(T);                                                                              \
      means[grp] = mean, vars[grp] = var;                                                          \
    }                                                                                              \
  }
typedef void norm_stats_fn(const norm_layout *, const void *, double *, double *);
KERNELS(norm_stats_fn, norm_stats, NORM_STATS)

/* y = (x - mean) rstd w + b */
#define NORM_FORWARD(D, T, name)                                                                   \
  static void name##_##D(const norm_layout *L, const void *xp, const void *wp, const void *bp,     \
                         void *yp) {                                                               \
    const T *w = wp, *b = bp;                                                                      \
    for (int64_t grp = 0; grp < L->groups; grp++) {                                                \
      const T *x = (const T *)xp + grp * L->gs;                                                    \
      T *y = (T *)yp + grp * L->gs;                                                                \
      GROUP_STATS(T);                                                                              \
      for (int64_t e = 0; e < L->n; e++) {                                                         \
        int64_t k = grp * L->wg + e * L->we;                                                       \
        y[e * L->es] = (T)((x[e * L->es] - mean) * rstd * w[k] + b[k]);                            \
      }                                                                                            \
    }                                                                                              \
  }
typedef void norm_forward_fn(const norm_layout *, const void *, const void *, const void *, void *);
KERNELS(norm_forward_fn, norm_forward_rows, NORM_FORWARD)

/* With xhat = (x - mean) rstd and h = w g: dx = rstd (h - mean(h) - xhat mean(h xhat));
   dw[k] += g xhat and db[k] += g, accumulated in double (gw, gb: nparams each, zeroed). */
#define NORM_VJP(D, T, name)                                                                       \
  static void name##_##D(const norm_layout *L, const void *xp, const void *wp, const void *gp,     \
                         void *dxp, double *gw, double *gb) {                                      \
    const T *w = wp;                                                                               \
    for (int64_t grp = 0; grp < L->groups; grp++) {                                                \
      const T *x = (const T *)xp + grp * L->gs, *g = (const T *)gp + grp * L->gs;                  \
      GROUP_STATS(T);                                                                              \
      double mh = 0, mhx = 0;                                                                      \
      for (int64_t e = 0; e < L->n; e++) {                                                         \
        int64_t k = grp * L->wg + e * L->we;                                                       \
        double xhat = (x[e * L->es] - mean) * rstd, ge = g[e * L->es];                             \
        mh += w[k] * ge, mhx += w[k] * ge * xhat;                                                  \
        gw[k] += ge * xhat, gb[k] += ge;                                                           \
      }                                                                                            \
      if (!dxp) continue;                                                                          \
      mh /= (double)L->n, mhx /= (double)L->n;                                                     \
      T *dx = (T *)dxp + grp * L->gs;                                                              \
      for (int64_t e = 0; e < L->n; e++) {                                                         \
        int64_t k = grp * L->wg + e * L->we;                                                       \
        double xhat = (x[e * L->es] - mean) * rstd;                                                \
        dx[e * L->es] = (T)(rstd * (w[k] * g[e * L->es] - mh - xhat * mhx));                       \
      }                                                                                            \
    }                                                                                              \
  }
typedef void norm_vjp_fn(const norm_layout *, const void *, const void *, const void *, void *,
                         double *, double *);
KERNELS(norm_vjp_fn, norm_vjp_rows, NORM_VJP)

/* The tangent: txhat w + xhat tw + tb, txhat = rstd (tx - mean(tx) - xhat mean(xhat tx));
   tx, tw and tb may each be NULL (no tangent). */
#define NORM_JVP(D, T, name)                                                                       \
  static void name##_##D(const norm_layout *L, const void *xp, const void *wp, const void *txp,    \
                         const void *twp, const void *tbp, void *rp) {                             \
    const T *w = wp, *tw = twp, *tb = tbp;                                                         \
    for (int64_t grp = 0; grp < L->groups; grp++) {                                                \
      const T *x = (const T *)xp + grp * L->gs, *tx = txp ? (const T *)txp + grp * L->gs : NULL;   \
      T *r = (T *)rp + grp * L->gs;                                                                \
      GROUP_STATS(T);                                                                              \
      double mt = 0, mxt = 0;                                                                      \
      for (int64_t e = 0; tx && e < L->n; e++) {                                                   \
        mt += tx[e * L->es];                                                                       \
        mxt += (x[e * L->es] - mean) * rstd * tx[e * L->es];                                       \
      }                                                                                            \
      mt /= (double)(L->n ? L->n : 1), mxt /= (double)(L->n ? L->n : 1);                           \
      for (int64_t e = 0; e < L->n; e++) {                                                         \
        int64_t k = grp * L->wg + e * L->we;                                                       \
        double xhat = (x[e * L->es] - mean) * rstd, v = 0;                                         \
        if (tx) v += rstd * (tx[e * L->es] - mt - xhat * mxt) * w[k];                              \
        if (tw) v += xhat * tw[k];                                                                 \
        if (tb) v += tb[k];                                                                        \
        r[e * L->es] = (T)v;                                                                       \
      }                                                                                            \
    }                                                                                              \
  }
typedef void norm_jvp_fn(const norm_layout *, const void *, const void *, const void *,
                         const void *, const void *, void *);
KERNELS(norm_jvp_fn, norm_jvp_rows, NORM_JVP)

/* layer norm: x (..., d); batch norm: x (N, C). weight and bias are vectors of the last dim. */
static int check_norm(const nn_op *op, const nn_tensor *x, const nn_tensor *w, const nn_tensor *b) {
  if (check_float("input", x) < 0) return -1;
  if (op == &nn_op_batch_norm && x->ndim != 2)
    return nn_errc("input must be 2-D (batch, channels), not of shape %s", nn_shape_str(x));
  if (x->ndim < 1) return nn_errc("input must have at least 1 dim, not shape {}");
  int64_t d = x->shape[x->ndim - 1];
  if (check_vector("weight", w, d, x) < 0 || check_vector("bias", b, d, x) < 0) return -1;
  return 0;
}

static nn_tensor *norm_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                               nn_tensor *out) {
  (void)out;
  nn_tensor *x = in[0];
  if (check_norm(op, x, in[1], in[2]) < 0) return NULL;
  norm_layout L = norm_layout_of(op, x, a ? a->f[0] : 0);
  nn_tensor *xc = nn_contiguous(x), *wc = nn_contiguous(in[1]), *bc = nn_contiguous(in[2]);
  nn_tensor *y = xc && wc && bc ? nn_empty_like(x) : NULL;
  if (y) norm_forward_rows[x->dtype](&L, nn_data(xc), nn_data(wc), nn_data(bc), nn_data(y));
  nn_release(xc), nn_release(wc), nn_release(bc);
  return y;
}

/* a double accumulator as a tensor of dtype dt */
static nn_tensor *from_doubles(const double *v, int64_t n, nn_dtype dt) {
  nn_tensor *t = nn_empty(dt, 1, &n);
  for (int64_t i = 0; t && i < n; i++)
    nn_store(nn_data(t) + i * (int64_t)nn_dtype_size(dt), dt, v[i]);
  return t;
}

static int norm_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  nn_tensor *x = c->in[0];
  norm_layout L = norm_layout_of(c->op, x, c->attr.f[0]);
  size_t bytes = (size_t)(2 * L.nparams + 1) * sizeof(double);
  double *acc = nn_alloc(bytes);
  nn_tensor *xc = nn_contiguous(x), *wc = nn_contiguous(c->in[1]), *g = dense(gout, x->dtype);
  int rc = acc && xc && wc && g ? 0 : -1;
  if (rc == 0 && need[0]) rc = (gin[0] = nn_empty_like(x)) ? 0 : -1;
  if (rc == 0) {
    memset(acc, 0, bytes);
    norm_vjp_rows[x->dtype](&L, nn_data(xc), nn_data(wc), nn_data(g),
                            gin[0] ? nn_data(gin[0]) : NULL, acc, acc + L.nparams);
    if (need[1] && !(gin[1] = from_doubles(acc, L.nparams, x->dtype))) rc = -1;
    if (need[2] && !(gin[2] = from_doubles(acc + L.nparams, L.nparams, x->dtype))) rc = -1;
  }
  if (acc) nn_free(acc, bytes);
  nn_release(xc), nn_release(wc), nn_release(g);
  return rc;
}

static nn_tensor *norm_jvp(const nn_ctx *c, nn_tensor *const *t) {
  nn_tensor *x = c->in[0], *dt[3] = {NULL, NULL, NULL}, *r = NULL;
  nn_tensor *xc = nn_contiguous(x), *wc = nn_contiguous(c->in[1]);
  bool ok = xc && wc;
  for (int k = 0; k < 3; k++)
    if (t[k] && !(dt[k] = dense(t[k], x->dtype))) ok = false;
  if (ok && (r = nn_empty_like(x))) {
    norm_layout L = norm_layout_of(c->op, x, c->attr.f[0]);
    const void *p[3];
    for (int k = 0; k < 3; k++) p[k] = dt[k] ? nn_data(dt[k]) : NULL;
    norm_jvp_rows[x->dtype](&L, nn_data(xc), nn_data(wc), p[0], p[1], p[2], nn_data(r));
  }
  nn_release(xc), nn_release(wc);
  for (int k = 0; k < 3; k++) nn_release(dt[k]);
  return r;
}

const nn_op nn_op_layer_norm = {
    .name = "layer_norm", .nin = 3, .forward = norm_forward, .vjp = norm_vjp, .jvp = norm_jvp};
const nn_op nn_op_batch_norm = {
    .name = "batch_norm", .nin = 3, .forward = norm_forward, .vjp = norm_vjp, .jvp = norm_jvp};

/* weight and bias default to ones and zeros: constants, so their gradients are skipped */
static nn_tensor *param_or(nn_tensor *p, const nn_tensor *x, double v) {
  if (p) return nn_retain(p);
  int64_t d = x->ndim ? x->shape[x->ndim - 1] : 1;
  return nn_full(nn_dtype_is_float(x->dtype) ? x->dtype : NN_F32, 1, &d, v);
}

static nn_tensor *call_norm(const nn_op *op, nn_tensor *x, nn_tensor *weight, nn_tensor *bias,
                            double eps) {
  nn_tensor *w = param_or(weight, x, 1), *b = param_or(bias, x, 0), *y = NULL;
  nn_attr a = {.f = {eps}};
  if (w && b) y = nn_call(op, (nn_tensor *[]){x, w, b}, &a);
  nn_release(w), nn_release(b);
  return y;
}

nn_tensor *nn_layer_norm(nn_tensor *x, int64_t d, nn_tensor *weight, nn_tensor *bias, double eps) {
  if (x->ndim < 1 || x->shape[x->ndim - 1] != d)
    return nn_err("normalized size %lld does not match the last dim of input %s", (long long)d,
                  nn_shape_str(x));
  if (!(eps >= 0)) return nn_err("eps must be >= 0, not %g", eps);
  return call_norm(&nn_op_layer_norm, x, weight, bias, eps);
}

static int check_running(const char *what, const nn_tensor *r, const nn_tensor *x) {
  if (!r) return 0;
  if (check_float(what, r) < 0) return -1;
  if (r->ndim != 1 || r->shape[0] != x->shape[1])
    return nn_errc("%s has shape %s but input %s has %lld channels", what, nn_shape_str(r),
                   nn_shape_str(x), (long long)x->shape[1]);
  return 0;
}

/* running = (1 - momentum) running + momentum batch, in place */
static void move_running(nn_tensor *r, const double *batch, double momentum) {
  size_t es = nn_dtype_size(r->dtype);
  for (int64_t i = 0; i < r->shape[0]; i++) {
    char *p = nn_data(r) + i * r->stride[0] * (int64_t)es;
    nn_store(p, r->dtype, (1 - momentum) * nn_load(p, r->dtype) + momentum * batch[i]);
  }
}

static int update_running(nn_tensor *x, nn_tensor *rmean, nn_tensor *rvar, double momentum) {
  int64_t n = x->shape[0], ch = x->shape[1];
  size_t bytes = (size_t)(2 * ch + 1) * sizeof(double);
  double *stats = nn_alloc(bytes);
  nn_tensor *xc = stats ? nn_contiguous(x) : NULL;
  if (!xc) {
    if (stats) nn_free(stats, bytes);
    return -1;
  }
  norm_layout L = norm_layout_of(&nn_op_batch_norm, x, 0);
  norm_stats[x->dtype](&L, nn_data(xc), stats, stats + ch);
  for (int64_t c = 0; c < ch; c++) stats[ch + c] *= (double)n / (double)(n - 1); /* unbiased */
  if (rmean) move_running(rmean, stats, momentum);
  if (rvar) move_running(rvar, stats + ch, momentum);
  nn_free(stats, bytes);
  nn_release(xc);
  return 0;
}

/* evaluation: an affine map per channel, x scale + shift, from the running statistics */
static nn_tensor *batch_norm_eval(nn_tensor *x, nn_tensor *w, nn_tensor *b, nn_tensor *rmean,
                                  nn_tensor *rvar, double eps) {
  nn_tensor *e = nn_scalar(x->dtype, eps), *ve = e ? nn_add(rvar, e) : NULL;
  nn_tensor *rs = ve ? nn_rsqrt(ve) : NULL, *scale = rs ? nn_mul(w, rs) : NULL;
  nn_tensor *ms = scale ? nn_mul(rmean, scale) : NULL, *shift = ms ? nn_sub(b, ms) : NULL;
  nn_tensor *xs = shift ? nn_mul(x, scale) : NULL, *y = xs ? nn_add(xs, shift) : NULL;
  nn_tensor *tmp[] = {e, ve, rs, scale, ms, shift, xs};
  for (size_t k = 0; k < sizeof tmp / sizeof *tmp; k++) nn_release(tmp[k]);
  return y;
}

nn_tensor *nn_batch_norm(nn_tensor *x, nn_tensor *weight, nn_tensor *bias, nn_tensor *running_mean,
                         nn_tensor *running_var, bool training, double momentum, double eps) {
  if (check_float("input", x) < 0) return NULL;
  if (x->ndim > 2) /* (N, C, *): every channel over N and the trailing dims */
    return nn_batch_norm_nc(x, weight, bias, running_mean, running_var, training, momentum, eps);
  if (x->ndim != 2)
    return nn_err("input must be 2-D (batch, channels), not of shape %s", nn_shape_str(x));
  if (check_running("running_mean", running_mean, x) < 0 ||
      check_running("running_var", running_var, x) < 0)
    return NULL;
  if (!(eps >= 0)) return nn_err("eps must be >= 0, not %g", eps);
  bool batch_stats = training || !running_mean || !running_var;
  if (!batch_stats) {
    nn_tensor *w = param_or(weight, x, 1), *b = param_or(bias, x, 0), *y = NULL;
    if (w && b && check_vector("weight", w, x->shape[1], x) == 0 &&
        check_vector("bias", b, x->shape[1], x) == 0)
      y = batch_norm_eval(x, w, b, running_mean, running_var, eps);
    nn_release(w), nn_release(b);
    return y;
  }
  if (training && x->shape[0] < 2)
    return nn_err("expected more than 1 value per channel when training, got input %s",
                  nn_shape_str(x));
  nn_tensor *y = call_norm(&nn_op_batch_norm, x, weight, bias, eps);
  if (y && training && (running_mean || running_var) &&
      update_running(x, running_mean, running_var, momentum) < 0) {
    nn_release(y);
    return NULL;
  }
  return y;
}

/* ======== dropout: x times a mask of 0 and 1/(1-p), made by the core's generator ======== */

#define DROPOUT_MASK(D, T, name)                                                                   \
  static void name##_##D(void *mp, int64_t n, double p, double scale) {                            \
    T *m = mp; /* uniform [0, 1) draws, kept with probability 1 - p */                             \
    for (int64_t i = 0; i < n; i++) m[i] = m[i] >= (T)p ? (T)scale : 0;                            \
  }
typedef void dropout_mask_fn(void *, int64_t, double, double);
KERNELS(dropout_mask_fn, dropout_mask, DROPOUT_MASK)

nn_tensor *nn_dropout(nn_tensor *x, double p, bool training) {
  if (!(p >= 0 && p <= 1)) return nn_err("dropout probability must be in [0, 1], not %g", p);
  if (check_float("input", x) < 0) return NULL;
  if (!training || p == 0) return nn_retain(x);
  nn_tensor *mask = nn_empty_like(x), *y = NULL;
  if (mask && nn_rand_(mask) == 0) {
    dropout_mask[x->dtype](nn_data(mask), nn_numel(mask), p, p < 1 ? 1 / (1 - p) : 0);
    y = nn_mul(x, mask); /* the mask is an input of mul: its VJP needs nothing else */
  }
  nn_release(mask);
  return y;
}

/* ======== embedding: rows of a table by index ======== */

static int64_t index_at(const nn_tensor *idx, int64_t i) {
  return idx->dtype == NN_I64 ? ((const int64_t *)nn_data(idx))[i]
                              : ((const uint8_t *)nn_data(idx))[i];
}

static int check_embedding(const nn_tensor *idx, const nn_tensor *w) {
  if (idx->dtype != NN_I64 && idx->dtype != NN_U8)
    return nn_errc("indices must be integers (i64), not %s", nn_dtype_name(idx->dtype));
  if (check_float("weight", w) < 0) return -1;
  if (w->ndim != 2)
    return nn_errc("weight must be 2-D (count, dim), not of shape %s", nn_shape_str(w));
  if (idx->ndim >= NN_MAXDIM)
    return nn_errc("indices of shape %s have too many dims", nn_shape_str(idx));
  return 0;
}

/* idx contiguous, every index checked (messages 1-based); a new reference */
static nn_tensor *checked_indices(nn_tensor *idx, int64_t count) {
  nn_tensor *ic = nn_contiguous(idx);
  for (int64_t i = 0; ic && i < nn_numel(ic); i++) {
    int64_t k = index_at(ic, i);
    if (k < 0 || k >= count) {
      nn_release(ic);
      return nn_err("index %lld is out of range for %lld embeddings", nn_one_based(k),
                    (long long)count);
    }
  }
  return ic;
}

static nn_tensor *embedding_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                                    nn_tensor *out) {
  (void)op, (void)a, (void)out;
  nn_tensor *idx = in[0], *w = in[1];
  if (check_embedding(idx, w) < 0) return NULL;
  int64_t dim = w->shape[1], shape[NN_MAXDIM];
  memcpy(shape, idx->shape, sizeof shape);
  shape[idx->ndim] = dim;
  nn_tensor *ic = checked_indices(idx, w->shape[0]), *wc = ic ? nn_contiguous(w) : NULL;
  nn_tensor *y = wc ? nn_empty(w->dtype, idx->ndim + 1, shape) : NULL;
  size_t row = (size_t)dim * nn_dtype_size(w->dtype);
  for (int64_t i = 0; y && i < nn_numel(ic); i++)
    memcpy(nn_data(y) + i * row, nn_data(wc) + index_at(ic, i) * row, row);
  nn_release(ic), nn_release(wc);
  return y;
}

/* gw[idx[i]] += g[i], row by row, except for the padding index pad (-1: none), whose row
   gets no gradient (PyTorch's padding_idx: the rule this entry declares for it) */
#define EMBEDDING_ADD(D, T, name)                                                                  \
  static void name##_##D(void *gwp, const void *gp, const nn_tensor *idx, int64_t dim,             \
                         int64_t pad) {                                                            \
    T *gw = gwp;                                                                                   \
    const T *g = gp;                                                                               \
    for (int64_t i = 0; i < nn_numel(idx); i++) {                                                  \
      if (index_at(idx, i) == pad) continue;                                                       \
      T *r = gw + index_at(idx, i) * dim;                                                          \
      for (int64_t j = 0; j < dim; j++) r[j] += g[i * dim + j];                                    \
    }                                                                                              \
  }
typedef void embedding_add_fn(void *, const void *, const nn_tensor *, int64_t, int64_t);
KERNELS(embedding_add_fn, embedding_add, EMBEDDING_ADD)

/* the padding index of a call: attribute i[0] holds it plus one (0: no padding) */
static int64_t padding_of(const nn_attr *a) {
  return a && a->i[0] > 0 ? a->i[0] - 1 : -1;
}

static int embedding_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  if (!need[1]) return 0;
  nn_tensor *idx = c->in[0], *w = c->in[1];
  nn_tensor *ic = nn_contiguous(idx), *g = ic ? dense(gout, w->dtype) : NULL;
  if (g && (gin[1] = nn_zeros(w->dtype, 2, w->shape)))
    embedding_add[w->dtype](nn_data(gin[1]), nn_data(g), ic, w->shape[1], padding_of(&c->attr));
  nn_release(ic), nn_release(g);
  return gin[1] ? 0 : -1;
}

/* the same rule forward: no tangent flows from the padding row */
static nn_tensor *embedding_jvp(const nn_ctx *c, nn_tensor *const *t) {
  if (!t[1]) return NULL;
  int64_t pad = padding_of(&c->attr);
  nn_tensor *r = nn_embedding(c->in[0], t[1], -1), *ic = r ? nn_contiguous(c->in[0]) : NULL;
  size_t row = (size_t)t[1]->shape[1] * nn_dtype_size(r ? r->dtype : NN_F32);
  for (int64_t i = 0; ic && pad >= 0 && i < nn_numel(ic); i++)
    if (index_at(ic, i) == pad) memset(nn_data(r) + i * row, 0, row);
  nn_release(ic);
  return r;
}

const nn_op nn_op_embedding = {.name = "embedding",
                               .nin = 2,
                               .forward = embedding_forward,
                               .vjp = embedding_vjp,
                               .jvp = embedding_jvp};

nn_tensor *nn_embedding(nn_tensor *idx, nn_tensor *w, int64_t padding) {
  nn_attr a = {.i = {padding >= 0 ? padding + 1 : 0}, .ni = 1};
  return nn_call(&nn_op_embedding, (nn_tensor *[]){idx, w}, &a);
}
