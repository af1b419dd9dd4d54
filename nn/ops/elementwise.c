/*
** nn/ops/elementwise.c: unary, binary and comparison ops, and where.
**
** Each op is one line of a table below: its name, the dtypes it computes in, its formula
** and, for unary ops, its derivative. Macros turn a formula into a row loop per dtype (a
** dense loop the compiler vectorizes, and a strided one), and one forward function per
** kind of op dispatches on dtype. Unary ops are differentiable through their derivative
** formula: the VJP and the JVP are both g * f'(x), one kernel.
*/
#include "nn/ops/fastmath.h"
#include "nn/ops/pointwise.h"
#include "nn/pool.h"
#include "nn/stream.h"

/* ======== unary ops: name, dtypes, y = f(x), dy/dx from x and y (arg: attr scalars) ======== */
#define UNARY_TABLE(X)                                                                             \
  X(neg, ALL, -WRAPPING(x), -1)                                                                    \
  X(exp, FLOAT, NN_EXP(x), y)                                                                      \
  X(log, FLOAT, NN_LOG(x), 1 / x)                                                                  \
  X(log1p, FLOAT, NN_LOG1P(x), 1 / (1 + x))                                                        \
  X(sqrt, FLOAT, sqrt(x), 0.5f / y)                                                                \
  X(rsqrt, FLOAT, 1 / sqrt(x), -0.5f * y * y * y)                                                  \
  X(abs, ALL, x < 0 ? -WRAPPING(x) : WRAPPING(x), (x > 0) - (x < 0))                               \
  X(sign, ALL, (x > 0) - (x < 0), 0)                                                               \
  X(floor, ALL, floor(x), 0)                                                                       \
  X(ceil, ALL, ceil(x), 0)                                                                         \
  X(sin, FLOAT, sin(x), cos(x))                                                                    \
  X(cos, FLOAT, cos(x), -sin(x))                                                                   \
  X(tanh, FLOAT, NN_TANH(x), 1 - y * y)                                                            \
  X(sigmoid, FLOAT, NN_SIGMOID(x), (1 - y) * y)                                                    \
  X(relu, ALL, x <= 0 ? 0 : x, x > 0)                                                              \
  X(clamp, ALL, x < arg[0] ? arg[0] : (x > arg[1] ? arg[1] : x), x >= arg[0] && x <= arg[1])

UNARY_TABLE(DEFINE_UNARY)

/* A dense row split among the pool's threads: pointwise elements are independent. */
typedef struct dense_job {
  nn_rowfn row;
  int nop;
  char *p[NN_ITER_MAXOP];
  int64_t step[NN_ITER_MAXOP];
  void *ctx;
  bool stream; /* the output is too large to stay in the caches */
} dense_job;

/* A piece of a dense job whose output streams past the caches: computed a block at a time
   into a buffer that stays in L1, then stored with non-temporal writes. */
static void streamed_piece(const dense_job *j, char **p, int64_t n) {
  _Alignas(64) char buf[8 << 10];
  int64_t block = (int64_t)sizeof buf / j->step[0];
  char *out = p[0];
  for (int64_t done = 0; done < n; done += block) {
    int64_t m = n - done < block ? n - done : block;
    p[0] = buf;
    j->row(p, j->step, m, j->ctx);
    nn_stream_copy(out, buf, (size_t)(m * j->step[0]));
    out += m * j->step[0];
    for (int k = 1; k < j->nop; k++) p[k] += m * j->step[k];
  }
  nn_stream_fence();
}

static void dense_piece(int64_t lo, int64_t hi, void *arg) {
  const dense_job *j = arg;
  char *p[NN_ITER_MAXOP];
  for (int k = 0; k < j->nop; k++) p[k] = j->p[k] + lo * j->step[k];
  if (j->stream)
    streamed_piece(j, p, hi - lo);
  else
    j->row(p, j->step, hi - lo, j->ctx);
}

/* Below this many elements per thread, waking a worker costs more than it saves. */
enum { PARALLEL_GRAIN = 1 << 17 };

static int run_rows(nn_rowfn row, int nop, nn_tensor *const *t, const nn_attr *a) {
  void *ctx = a ? (void *)a->f : NULL;
  /* the common case, contiguous operands of one shape (or single numbers, as in x * 2), is
     a single dense row */
  bool dense = true;
  char *p[NN_ITER_MAXOP];
  int64_t step[NN_ITER_MAXOP];
  for (int k = 0; k < nop && dense; k++) {
    bool number = k > 0 && nn_numel(t[k]) == 1;
    dense = number || (nn_is_contiguous(t[k]) && nn_same_shape(t[k], t[0]));
    p[k] = nn_data(t[k]), step[k] = number ? 0 : (int64_t)nn_dtype_size(t[k]->dtype);
  }
  if (dense) {
    int64_t n = nn_numel(t[0]);
    if (n < 2 * PARALLEL_GRAIN) {
      row(p, step, n, ctx);
      return 0;
    }
    /* an output that is also an input is in the caches already: no use streaming it */
    bool fresh = true;
    for (int k = 1; k < nop; k++) fresh = fresh && p[k] != p[0];
    dense_job job = {row, nop, {0}, {0}, ctx, fresh && nn_stream_worth((size_t)(n * step[0]))};
    for (int k = 0; k < nop; k++) job.p[k] = p[k], job.step[k] = step[k];
    nn_parallel(n, PARALLEL_GRAIN, dense_piece, &job);
    return 0;
  }
  nn_iter it;
  if (nn_iter_init(&it, nop, (const nn_tensor *const *)t) < 0) return -1;
  nn_iter_run(&it, row, ctx);
  return 0;
}

/* The result's dtype, or an error for in-place ops whose result would not fit out. */
static int check_out(const nn_op *op, nn_tensor *out, nn_dtype dt, int ndim, const int64_t *shape) {
  if (out->dtype != dt)
    return nn_errc("%s of %s gives %s, which cannot be stored in place in a %s tensor", op->name,
                   nn_dtype_name(out->dtype), nn_dtype_name(dt), nn_dtype_name(out->dtype));
  if (out->ndim != ndim || memcmp(out->shape, shape, ndim * sizeof *shape) != 0)
    return nn_errc("result of shape %s cannot be stored in place in a tensor of shape %s",
                   nn_dims_str(ndim, shape), nn_shape_str(out));
  return 0;
}

nn_tensor *nn_unary_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                            nn_tensor *out) {
  const unary_kern *k = op->kern;
  nn_tensor *x = in[0];
  nn_dtype dt = k->f[x->dtype] ? x->dtype : NN_F32;
  if (out && check_out(op, out, dt, x->ndim, x->shape) < 0) return NULL;
  nn_tensor *xc = nn_to(x, dt);
  nn_tensor *y = out ? nn_retain(out) : xc ? nn_empty(dt, x->ndim, x->shape) : NULL;
  if (!xc || !y || run_rows(k->f[dt], 2, (nn_tensor *[]){y, xc}, a) < 0) {
    nn_release(y);
    y = NULL;
  }
  nn_release(xc);
  return y;
}

/* g * f'(x): the VJP and the JVP alike */
static nn_tensor *unary_scale(const nn_ctx *c, nn_tensor *g) {
  const unary_kern *k = c->op->kern;
  nn_tensor *x = c->in[0], *y = c->out;
  nn_dtype dt = y->dtype;
  if (!k->df[dt]) return nn_err("%s: no derivative for %s", c->op->name, nn_dtype_name(dt));
  nn_tensor *xc = nn_to(x, dt), *gc = nn_to(g, dt);
  nn_tensor *r = xc && gc ? nn_empty(dt, y->ndim, y->shape) : NULL;
  if (r && run_rows(k->df[dt], 4, (nn_tensor *[]){r, gc, xc, y}, &c->attr) < 0) {
    nn_release(r);
    r = NULL;
  }
  nn_release(xc);
  nn_release(gc);
  return r;
}

int nn_unary_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  if (!need[0]) return 0;
  gin[0] = unary_scale(c, gout);
  return gin[0] ? 0 : -1;
}

nn_tensor *nn_unary_jvp(const nn_ctx *c, nn_tensor *const *tin) {
  return tin[0] ? unary_scale(c, tin[0]) : NULL;
}

#define UNARY_FN(name, ...)                                                                        \
  nn_tensor *nn_##name(nn_tensor *x) {                                                             \
    return nn_call(&nn_op_##name, &x, NULL);                                                       \
  }
NN_UNARY_OPS(UNARY_FN)

/* clamp's attributes; on integer tensors the bounds saturate to the dtype's range, so that no
   result is cast out of it */
nn_attr nn_clamp_bounds(nn_dtype dt, double lo, double hi) {
  if (dt == NN_U8 || dt == NN_I64) {
    double tmin = dt == NN_U8 ? 0 : -0x1p63, tmax = dt == NN_U8 ? 255 : 0x1p63 - 1024;
    lo = lo < tmin ? tmin : (lo > tmax ? tmax : lo);
    hi = hi < tmin ? tmin : (hi > tmax ? tmax : hi);
  }
  return (nn_attr){.f = {lo, hi}};
}

nn_tensor *nn_clamp(nn_tensor *x, double lo, double hi) {
  if (lo > hi) return nn_err("clamp: lower bound %g is above upper bound %g", lo, hi);
  nn_attr a = nn_clamp_bounds(x->dtype, lo, hi);
  return nn_call(&nn_op_clamp, &x, &a);
}

/* ======== binary ops and comparisons: name, dtypes, formula in a and b ======== */
#define BINARY_TABLE(X)                                                                            \
  X(add, ALL, WRAPPING(a) + WRAPPING(b))                                                           \
  X(sub, ALL, WRAPPING(a) - WRAPPING(b))                                                           \
  X(mul, ALL, WRAPPING(a) * WRAPPING(b))                                                           \
  X(div, FLOAT, a / b)                                                                             \
  X(pow, ALL, POWER(a, b))                                                                         \
  X(remainder, ALL, REMAINDER(a, b))                                                               \
  X(maximum, ALL, (a > b || a != a) ? a : b)                                                       \
  X(minimum, ALL, (a < b || a != a) ? a : b)
#define COMPARE_TABLE(X)                                                                           \
  X(eq, ALL, a == b)                                                                               \
  X(ne, ALL, a != b)                                                                               \
  X(lt, ALL, a < b)                                                                                \
  X(le, ALL, a <= b)                                                                               \
  X(gt, ALL, a > b)                                                                                \
  X(ge, ALL, a >= b)

/* g * d(out)/d(input k), before any broadcasting is summed away: the VJP sums it to the
   input's shape, the JVP adds up the terms for every input's tangent. */
typedef nn_tensor *(*partial_fn)(const nn_ctx *c, int k, nn_tensor *g);

typedef struct binary_kern {
  nn_rowfn f[NN_NDTYPES];           /* (out, a, b) with a, b of that dtype */
  partial_fn partial;               /* NULL: not differentiable (comparisons) */
  int (*check)(const nn_tensor *b); /* refuses a second operand, or NULL */
} binary_kern;

#define BINARY_F(A, T, TOUT, fab)                                                                  \
  for (int64_t i = 0; i < n; i++) {                                                                \
    T a = A(1, T), b = A(2, T);                                                                    \
    A(0, TOUT) = (TOUT)(fab);                                                                      \
  }
/* A row of a op b; the dense case also covers a scalar b (x + 1), the commonest broadcast. */
#define BINARY_ROW(D, T, name, TOUT, fab)                                                          \
  static void name##_f_##D(char **p, const int64_t *s, int64_t n, void *ctx) {                     \
    (void)ctx;                                                                                     \
    if (s[0] == sizeof(TOUT) && s[1] == sizeof(T) && s[2] == 0) {                                  \
      BASES;                                                                                       \
      const T b = *(T *)q2;                                                                        \
      for (int64_t i = 0; i < n; i++) {                                                            \
        T a = ((T *)q1)[i];                                                                        \
        ((TOUT *)q0)[i] = (TOUT)(fab);                                                             \
      }                                                                                            \
      return;                                                                                      \
    }                                                                                              \
    BASES;                                                                                         \
    if (s[0] == sizeof(TOUT) && s[1] == sizeof(T) && s[2] == sizeof(T)) {                          \
      BINARY_F(DENSE, T, TOUT, fab)                                                                \
    } else {                                                                                       \
      BINARY_F(STRIDED, T, TOUT, fab)                                                              \
    }                                                                                              \
  }
#define ARITH_ROW(D, T, name, fab)   BINARY_ROW(D, T, name, T, fab)
#define COMPARE_ROW(D, T, name, fab) BINARY_ROW(D, T, name, uint8_t, fab)
#define BINARY_SLOT(D, T, name, ...) [NN_##D] = name##_f_##D,

static nn_tensor *binary_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                                 nn_tensor *out);
static nn_tensor *where_partial(const nn_ctx *c, int k, nn_tensor *g);
static int partial_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin);
static nn_tensor *partial_jvp(const nn_ctx *c, nn_tensor *const *tin);

/* The partial derivatives, by op; a, b are the inputs, y the output. */
static nn_tensor *add_partial(const nn_ctx *c, int k, nn_tensor *g) {
  (void)c, (void)k;
  return nn_retain(g);
}
static nn_tensor *sub_partial(const nn_ctx *c, int k, nn_tensor *g) {
  (void)c;
  return k == 0 ? nn_retain(g) : nn_neg(g);
}
static nn_tensor *mul_partial(const nn_ctx *c, int k, nn_tensor *g) {
  return nn_mul(g, c->in[1 - k]);
}
static nn_tensor *div_partial(const nn_ctx *c, int k, nn_tensor *g) {
  if (k == 0) return nn_div(g, c->in[1]);
  nn_tensor *gy = nn_mul(g, c->out), *q = gy ? nn_div(gy, c->in[1]) : NULL;
  nn_tensor *r = q ? nn_neg(q) : NULL;
  nn_release(gy), nn_release(q);
  return r;
}
static nn_tensor *pow_partial(const nn_ctx *c, int k, nn_tensor *g) {
  nn_tensor *a = c->in[0], *b = c->in[1], *t1 = NULL, *t2 = NULL, *r = NULL;
  if (k == 0) { /* g * b * a^(b-1) = g * b * y / a, written without dividing by a */
    nn_tensor *one = nn_scalar(b->dtype, 1);
    t1 = one ? nn_sub(b, one) : NULL;
    t2 = t1 ? nn_pow(a, t1) : NULL;
    nn_release(one);
    nn_tensor *gb = t2 ? nn_mul(g, b) : NULL;
    r = gb ? nn_mul(gb, t2) : NULL;
    nn_release(gb);
  } else { /* g * y * log(a) */
    t1 = nn_log(a);
    t2 = t1 ? nn_mul(g, c->out) : NULL;
    r = t2 ? nn_mul(t2, t1) : NULL;
  }
  nn_release(t1), nn_release(t2);
  return r;
}
/* a - floor(a / b) b: 1 for a, -floor(a / b) for b */
static nn_tensor *remainder_partial(const nn_ctx *c, int k, nn_tensor *g) {
  if (k == 0) return nn_retain(g);
  nn_tensor *q = nn_div(c->in[0], c->in[1]), *f = q ? nn_floor(q) : NULL;
  nn_tensor *gf = f ? nn_mul(g, f) : NULL, *r = gf ? nn_neg(gf) : NULL;
  nn_release(q), nn_release(f), nn_release(gf);
  return r;
}
/* max/min send the gradient to the winner, half to each on a tie (as PyTorch). */
static nn_tensor *extremum_partial(const nn_ctx *c, int k, nn_tensor *g, const nn_op *wins) {
  nn_tensor *a = c->in[k], *b = c->in[1 - k];
  nn_tensor *w = nn_call(wins, (nn_tensor *[]){a, b}, NULL), *tie = nn_eq(a, b);
  nn_tensor *wf = w ? nn_to(w, g->dtype) : NULL, *tf = tie ? nn_to(tie, g->dtype) : NULL;
  nn_tensor *half = nn_scalar(g->dtype, 0.5), *th = tf && half ? nn_mul(tf, half) : NULL;
  nn_tensor *weight = wf && th ? nn_add(wf, th) : NULL;
  nn_tensor *r = weight ? nn_mul(g, weight) : NULL;
  nn_tensor *tmp[] = {w, tie, wf, tf, half, th, weight};
  for (size_t i = 0; i < sizeof tmp / sizeof *tmp; i++) nn_release(tmp[i]);
  return r;
}
static nn_tensor *maximum_partial(const nn_ctx *c, int k, nn_tensor *g) {
  return extremum_partial(c, k, g, &nn_op_gt);
}
static nn_tensor *minimum_partial(const nn_ctx *c, int k, nn_tensor *g) {
  return extremum_partial(c, k, g, &nn_op_lt);
}

/* Whether an integer operand b holds an element that `is` says yes to. */
typedef struct int_search {
  nn_dtype dt;
  bool (*is)(int64_t v);
  bool found;
} int_search;
static void search_row(char **p, const int64_t *s, int64_t n, void *ctx) {
  int_search *q = ctx;
  for (int64_t i = 0; i < n && !q->found; i++)
    q->found = q->is(nn_load_i64(p[0] + i * s[0], q->dt));
}
static bool int_has(const nn_tensor *b, bool (*is)(int64_t v)) {
  int_search q = {b->dtype, is, false};
  nn_iter it;
  if ((b->dtype != NN_I64 && b->dtype != NN_U8) || nn_iter_init(&it, 1, &b) < 0) return false;
  nn_iter_run(&it, search_row, &q);
  return q.found;
}
static bool negative(int64_t v) {
  return v < 0;
}
static bool zero(int64_t v) {
  return v == 0;
}

/* The second operand's checks, by op, once it has the op's dtype: an integer power of an
   integer is refused when an exponent is negative, an integer remainder when a divisor is
   zero (as in PyTorch). */
static int check_integer_power(const nn_tensor *b) {
  return int_has(b, negative) ? nn_errc("integers to negative integer powers are not allowed "
                                        "(convert to a float dtype first)")
                              : 0;
}
static int check_integer_divisor(const nn_tensor *b) {
  return int_has(b, zero) ? nn_errc("integer remainder by zero") : 0;
}
#define CHECK_add       NULL
#define CHECK_sub       NULL
#define CHECK_mul       NULL
#define CHECK_div       NULL
#define CHECK_pow       check_integer_power
#define CHECK_remainder check_integer_divisor
#define CHECK_maximum   NULL
#define CHECK_minimum   NULL

#define DEFINE_BINARY(name_, types, fab, ROW, partial, check, vjp_, jvp_, save)                    \
  TYPES_##types(ROW, name_, fab) static const binary_kern name_##_kern = {                         \
      {TYPES_##types(BINARY_SLOT, name_)}, partial, check};                                        \
  const nn_op nn_op_##name_ = {.name = #name_,                                                     \
                               .nin = 2,                                                           \
                               .forward = binary_forward,                                          \
                               .vjp = vjp_,                                                        \
                               .jvp = jvp_,                                                        \
                               .kern = &name_##_kern,                                              \
                               .save_out = save};
#define DEFINE_ARITH(name, types, fab)                                                             \
  DEFINE_BINARY(name, types, fab, ARITH_ROW, name##_partial, CHECK_##name, partial_vjp,            \
                partial_jvp, SAVES_OUT_##name)
#define DEFINE_COMPARE(name, types, fab)                                                           \
  DEFINE_BINARY(name, types, fab, COMPARE_ROW, NULL, NULL, NULL, NULL, false)
/* the ops whose partials read the output */
#define SAVES_OUT_add       false
#define SAVES_OUT_sub       false
#define SAVES_OUT_mul       false
#define SAVES_OUT_div       true
#define SAVES_OUT_pow       true
#define SAVES_OUT_remainder false
#define SAVES_OUT_maximum   false
#define SAVES_OUT_minimum   false
BINARY_TABLE(DEFINE_ARITH)
COMPARE_TABLE(DEFINE_COMPARE)

static nn_tensor *binary_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *attr,
                                 nn_tensor *out) {
  (void)attr;
  const binary_kern *k = op->kern;
  bool compare = !k->partial;
  nn_tensor *a = in[0], *b = in[1];
  nn_dtype dt = out && !compare ? out->dtype : nn_promote(a->dtype, b->dtype);
  if (!k->f[dt]) dt = NN_F32; /* true division of integers */
  nn_dtype out_dt = compare ? NN_U8 : dt;
  int ndim;
  int64_t shape[NN_MAXDIM];
  if (nn_broadcast_shape(a->ndim, a->shape, b->ndim, b->shape, &ndim, shape) < 0) return NULL;
  if (out && check_out(op, out, out_dt, ndim, shape) < 0) return NULL;
  nn_tensor *ac = nn_to(a, dt), *bc = nn_to(b, dt), *r = NULL;
  if (k->check && bc && k->check(bc) < 0) nn_release(bc), bc = NULL;
  if (ac && bc) r = out ? nn_retain(out) : nn_empty(out_dt, ndim, shape);
  if (r && run_rows(k->f[dt], 3, (nn_tensor *[]){r, ac, bc}, NULL) < 0) {
    nn_release(r);
    r = NULL;
  }
  nn_release(ac);
  nn_release(bc);
  return r;
}

/* The gradient of a broadcast result, summed back to the shape of input x. */
nn_tensor *nn_sum_to(nn_tensor *g, const nn_tensor *x) {
  if (nn_same_shape(g, x)) return nn_retain(g);
  int lead = g->ndim - x->ndim;
  nn_tensor *r = nn_retain(g);
  for (int d = 0; d < g->ndim && r; d++) {
    if (d >= lead && (x->shape[d - lead] != 1 || g->shape[d] == 1)) continue;
    nn_tensor *s = nn_sum(r, d, true);
    nn_release(r);
    r = s;
  }
  if (!r) return NULL;
  nn_tensor *v = nn_reshape(r, x->ndim, x->shape);
  nn_release(r);
  return v;
}

nn_tensor *nn_add_term(nn_tensor *sum, nn_tensor *term) {
  if (!sum) return term;
  nn_tensor *r = term ? nn_add(sum, term) : NULL;
  nn_release(sum), nn_release(term);
  return r;
}

static partial_fn partial_of(const nn_op *op) {
  return op == &nn_op_where ? where_partial : ((const binary_kern *)op->kern)->partial;
}

/* The first input that is differentiable: where's mask (input 0) is not. */
static int first_operand(const nn_op *op) {
  return op == &nn_op_where ? 1 : 0;
}

static int partial_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  partial_fn partial = partial_of(c->op);
  for (int k = first_operand(c->op); k < c->nin; k++) {
    if (!need[k]) continue;
    nn_tensor *g = partial(c, k - first_operand(c->op), gout);
    nn_tensor *s = g ? nn_sum_to(g, c->in[k]) : NULL;
    gin[k] = s ? nn_to(s, c->in[k]->dtype) : NULL; /* f32 input, f64 partner: f32 grad */
    nn_release(g), nn_release(s);
    if (!gin[k]) return -1;
  }
  return 0;
}

/* Tangent of the output: the sum over inputs of partial(tangent), at the output's shape. */
static nn_tensor *partial_jvp(const nn_ctx *c, nn_tensor *const *tin) {
  partial_fn partial = partial_of(c->op);
  nn_tensor *sum = NULL;
  for (int k = first_operand(c->op); k < c->nin; k++) {
    if (tin[k] && !(sum = nn_add_term(sum, partial(c, k - first_operand(c->op), tin[k]))))
      return NULL;
  }
  if (!sum || nn_same_shape(sum, c->out)) return sum;
  nn_tensor *e = nn_expand(sum, c->out->ndim, c->out->shape), *r = e ? nn_contiguous(e) : NULL;
  nn_release(e), nn_release(sum);
  return r;
}

#define BINARY_FN(name, ...)                                                                       \
  nn_tensor *nn_##name(nn_tensor *a, nn_tensor *b) {                                               \
    return nn_call(&nn_op_##name, (nn_tensor *[]){a, b}, NULL);                                    \
  }
NN_BINARY_OPS(BINARY_FN)
NN_COMPARE_OPS(BINARY_FN)

/* ======== where(mask, a, b) ======== */
#define WHERE_F(A, T)                                                                              \
  for (int64_t i = 0; i < n; i++) A(0, T) = A(1, uint8_t) ? A(2, T) : A(3, T);
#define WHERE_ROW(D, T, ...)                                                                       \
  static void where_##D(char **p, const int64_t *s, int64_t n, void *ctx) {                        \
    (void)ctx;                                                                                     \
    BASES;                                                                                         \
    if (s[0] == sizeof(T) && s[1] == 1 && s[2] == sizeof(T) && s[3] == sizeof(T)) {                \
      WHERE_F(DENSE, T)                                                                            \
    } else {                                                                                       \
      WHERE_F(STRIDED, T)                                                                          \
    }                                                                                              \
  }
TYPES_ALL(WHERE_ROW, )
#define WHERE_SLOT(D, T, ...) [NN_##D] = where_##D,
static const nn_rowfn where_rows[NN_NDTYPES] = {TYPES_ALL(WHERE_SLOT, )};

static nn_tensor *where_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *attr,
                                nn_tensor *out) {
  (void)op, (void)attr, (void)out;
  nn_tensor *m = in[0], *a = in[1], *b = in[2];
  if (m->dtype != NN_U8)
    return nn_err("where: the mask must be u8 (a comparison's result), not %s",
                  nn_dtype_name(m->dtype));
  nn_dtype dt = nn_promote(a->dtype, b->dtype);
  int n1, n2;
  int64_t s1[NN_MAXDIM], s2[NN_MAXDIM];
  if (nn_broadcast_shape(a->ndim, a->shape, b->ndim, b->shape, &n1, s1) < 0 ||
      nn_broadcast_shape(m->ndim, m->shape, n1, s1, &n2, s2) < 0)
    return NULL;
  nn_tensor *ac = nn_to(a, dt), *bc = nn_to(b, dt), *r = NULL;
  if (ac && bc) r = nn_empty(dt, n2, s2);
  if (r && run_rows(where_rows[dt], 4, (nn_tensor *[]){r, m, ac, bc}, NULL) < 0) {
    nn_release(r);
    r = NULL;
  }
  nn_release(ac);
  nn_release(bc);
  return r;
}

const nn_op nn_op_where = {.name = "where",
                           .nin = 3,
                           .forward = where_forward,
                           .vjp = partial_vjp,
                           .jvp = partial_jvp,
                           .save_out = true};

/* where(m, a, b): the gradient goes to a where m holds, to b elsewhere. */
static nn_tensor *where_partial(const nn_ctx *c, int k, nn_tensor *g) {
  nn_tensor *zero = nn_scalar(g->dtype, 0);
  nn_tensor *r = zero ? nn_where(c->in[0], k == 0 ? g : zero, k == 0 ? zero : g) : NULL;
  nn_release(zero);
  return r;
}

nn_tensor *nn_where(nn_tensor *mask, nn_tensor *a, nn_tensor *b) {
  return nn_call(&nn_op_where, (nn_tensor *[]){mask, a, b}, NULL);
}
