/*
** nn/ops/act_rational.c: the rational activation ("Padé Activation Units"; "Adaptive
** Rational Activations"), safe form: y = P(x) / (1 + |Q(x)|), P(x) = a_0 + a_1 x + ... +
** a_m x^m, Q(x) = b_1 x + ... + b_n x^n, the coefficients shared by every element.
**
** The polynomials are evaluated a block of elements at a time, coefficient by coefficient
** (Horner's rule down the block), so that every loop runs over elements and vectorizes. The
** coefficients' gradients, dy/da_j = x^j / D and dy/db_k = -P sign(Q) x^k / D^2 with D =
** 1 + |Q|, are summed in f64 lanes per fixed piece of the input (the same bits on any number
** of threads). dy/dx = P' / D - P sign(Q) Q' / D^2.
*/
#include <stdlib.h>

#include "nn/ops/pointwise.h"
#include "nn/pool.h"

enum { MAXCOEF = 32, BLOCK = 256, LANES = 16, PIECES = 8, PIECE_MIN = 1 << 15 };

typedef struct rat_job {
  int kind; /* 0 forward, 1 backward, 2 forward mode */
  bool f64;
  int64_t n, npieces;
  int na, nb; /* coefficient counts: m + 1 and n */
  double a[MAXCOEF], b[MAXCOEF], ta[MAXCOEF], tb[MAXCOEF];
  char *y, *x, *g; /* result; x; gradient or tangent of x */
  double *acc;     /* pieces x (na + nb) x LANES */
} rat_job;

/* p[i] = sum_j c[j] x[i]^j by Horner's rule (c[0..nc-1]; nc may be 0) and, when dp is not
   NULL, dp[i] = its derivative. With shift, the sum starts at x^1 (c[0] multiplies x). */
#define HORNER(T)                                                                                  \
  static inline __attribute__((always_inline)) void horner_##T(                                    \
      T *p, T *dp, const T *x, int64_t m, const double *c, int nc, bool shift) {                   \
    for (int64_t i = 0; i < m; i++) p[i] = nc ? (T)c[nc - 1] : 0;                                  \
    if (dp)                                                                                        \
      for (int64_t i = 0; i < m; i++) dp[i] = 0;                                                   \
    for (int j = nc - 2; j >= 0; j--) {                                                            \
      const T cj = (T)c[j];                                                                        \
      if (dp)                                                                                      \
        for (int64_t i = 0; i < m; i++) dp[i] = dp[i] * x[i] + p[i];                               \
      for (int64_t i = 0; i < m; i++) p[i] = p[i] * x[i] + cj;                                     \
    }                                                                                              \
    if (!shift) return;                                                                            \
    if (dp)                                                                                        \
      for (int64_t i = 0; i < m; i++) dp[i] = dp[i] * x[i] + p[i];                                 \
    for (int64_t i = 0; i < m; i++) p[i] *= x[i];                                                  \
  }

/* lanes[k][i mod LANES] += w[i] x[i]^(k + first) for k < nc */
#define POWER_SUMS(T)                                                                              \
  static inline __attribute__((always_inline)) void power_sums_##T(                                \
      double *lanes, const T *w, const T *x, int64_t m, int nc, bool first) {                      \
    T pw[BLOCK];                                                                                   \
    for (int64_t i = 0; i < m; i++) pw[i] = first ? x[i] : 1;                                      \
    for (int k = 0; k < nc; k++, lanes += LANES) {                                                 \
      int64_t i = 0;                                                                               \
      for (; i + LANES <= m; i += LANES)                                                           \
        for (int l = 0; l < LANES; l++) lanes[l] += (double)(w[i + l] * pw[i + l]);                \
      for (int l = 0; i < m; i++, l++) lanes[l] += (double)(w[i] * pw[i]);                         \
      for (i = 0; i < m; i++) pw[i] *= x[i];                                                       \
    }                                                                                              \
  }

/* One block of m elements: the result (forward), x's gradient and the coefficient sums
   (backward), or the tangent (forward mode). */
#define RAT_BLOCK(T)                                                                               \
  VECTOR_CLONES static void rat_block_##T(const rat_job *j, int64_t at, int64_t m,                 \
                                          double *lanes) {                                         \
    const T *x = (const T *)j->x + at, *g = j->g ? (const T *)j->g + at : NULL;                    \
    T *y = (T *)j->y + at, p[BLOCK], dp[BLOCK], q[BLOCK], dq[BLOCK];                               \
    bool d = j->kind != 0;                                                                         \
    horner_##T(p, d ? dp : NULL, x, m, j->a, j->na, false);                                        \
    horner_##T(q, d ? dq : NULL, x, m, j->b, j->nb, true);                                         \
    if (!d) {                                                                                      \
      for (int64_t i = 0; i < m; i++) y[i] = p[i] / (1 + fabs(q[i]));                              \
      return;                                                                                      \
    }                                                                                              \
    for (int64_t i = 0; i < m; i++) { /* q becomes -P sign(Q) / D^2, p 1 / D */                    \
      T r = 1 / (1 + fabs(q[i])), s = (T)((q[i] > 0) - (q[i] < 0));                                \
      T c = -p[i] * s * r * r;                                                                     \
      y[i] = dp[i] * r + c * dq[i];                                                                \
      p[i] = r, q[i] = c;                                                                          \
    }                                                                                              \
    if (j->kind == 1) {                                                                            \
      T w[BLOCK] = {0}; /* (GCC cannot see that the loop below sets it) */                         \
      for (int64_t i = 0; i < m; i++) y[i] *= g[i], w[i] = g[i] * p[i];                            \
      power_sums_##T(lanes, w, x, m, j->na, false);                                                \
      for (int64_t i = 0; i < m; i++) w[i] = g[i] * q[i];                                          \
      power_sums_##T(lanes + LANES * j->na, w, x, m, j->nb, true);                                 \
      return;                                                                                      \
    }                                                                                              \
    horner_##T(dp, NULL, x, m, j->ta, j->na, false);                                               \
    horner_##T(dq, NULL, x, m, j->tb, j->nb, true);                                                \
    for (int64_t i = 0; i < m; i++) y[i] = g[i] * y[i] + dp[i] * p[i] + dq[i] * q[i];              \
  }

HORNER(float)
HORNER(double)
POWER_SUMS(float)
POWER_SUMS(double)
RAT_BLOCK(float)
RAT_BLOCK(double)

static void rat_pieces(int64_t lo, int64_t hi, void *arg) {
  const rat_job *j = arg;
  for (int64_t piece = lo; piece < hi; piece++) {
    int64_t p = j->n * piece / j->npieces, end = j->n * (piece + 1) / j->npieces;
    double *lanes = j->acc ? j->acc + piece * (j->na + j->nb) * LANES : NULL;
    for (; p < end; p += BLOCK) {
      int64_t m = end - p < BLOCK ? end - p : BLOCK;
      if (j->f64)
        rat_block_double(j, p, m, lanes);
      else
        rat_block_float(j, p, m, lanes);
    }
  }
}

/* The job for x and the coefficients a, b: 0, or -1 with a message. */
static int rat_setup(rat_job *j, nn_tensor *const *in) {
  nn_tensor *x = in[0];
  *j = (rat_job){.n = nn_numel(x), .f64 = x->dtype == NN_F64};
  j->npieces = j->n >= PIECE_MIN ? PIECES : 1;
  int n[2] = {(int)nn_numel(in[1]), (int)nn_numel(in[2])};
  for (int q = 0; q < 2; q++) {
    nn_tensor *c = in[1 + q];
    if (c->ndim > 1 || nn_numel(c) > MAXCOEF || (q == 0 && nn_numel(c) < 1))
      return nn_errc("the %s coefficients must be a 1-D tensor of %s%d values at most, not "
                     "shape %s",
                     q ? "denominator" : "numerator", q ? "" : "1 to ", MAXCOEF, nn_shape_str(c));
    double *dst = q ? j->b : j->a;
    for (int k = 0; k < n[q]; k++) {
      int64_t idx = k;
      dst[k] = nn_load(nn_at(c, c->ndim ? &idx : NULL), c->dtype);
    }
  }
  j->na = n[0], j->nb = n[1];
  return 0;
}

/* x (or g) in x's float dtype, contiguous: a new reference */
static nn_tensor *rat_prepared(const rat_job *j, nn_tensor *t) {
  nn_tensor *c = nn_to(t, j->f64 ? NN_F64 : NN_F32), *r = c ? nn_contiguous(c) : NULL;
  nn_release(c);
  return r;
}

/* runs the job on x and g (g NULL in the forward), into a new tensor */
static nn_tensor *rat_run(rat_job *j, nn_tensor *x, nn_tensor *g) {
  nn_tensor *xc = rat_prepared(j, x), *gc = g ? rat_prepared(j, g) : NULL, *y = NULL;
  if (xc && (gc || !g) && (y = nn_empty(xc->dtype, x->ndim, x->shape))) {
    j->x = nn_data(xc), j->y = nn_data(y), j->g = gc ? nn_data(gc) : NULL;
    if (j->npieces > 1)
      nn_parallel(j->npieces, 1, rat_pieces, j);
    else
      rat_pieces(0, 1, j);
  }
  nn_release(xc), nn_release(gc);
  return y;
}

static nn_tensor *rat_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                              nn_tensor *out) {
  (void)op, (void)a, (void)out;
  rat_job j;
  return rat_setup(&j, in) < 0 ? NULL : rat_run(&j, in[0], NULL);
}

/* coefficient gradient q (0 numerator, 1 denominator) from the pieces' lanes, in order */
static nn_tensor *coef_grad(const rat_job *j, int q, const nn_tensor *c) {
  nn_tensor *g = nn_empty(nn_dtype_is_float(c->dtype) ? c->dtype : NN_F32, c->ndim, c->shape);
  int nc = q ? j->nb : j->na, first = q ? j->na : 0;
  for (int k = 0; g && k < nc; k++) {
    double s = 0;
    for (int64_t piece = 0; piece < j->npieces; piece++)
      for (int l = 0; l < LANES; l++)
        s += j->acc[(piece * (j->na + j->nb) + first + k) * LANES + l];
    nn_store(nn_data(g) + k * nn_dtype_size(g->dtype), g->dtype, s);
  }
  return g;
}

static int rat_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  rat_job j;
  if (rat_setup(&j, c->in) < 0) return -1;
  j.kind = 1;
  j.acc = calloc((size_t)(j.npieces * (j.na + j.nb) * LANES), sizeof *j.acc);
  if (!j.acc) return nn_errc("out of memory");
  nn_tensor *gx = rat_run(&j, c->in[0], gout);
  int rc = gx ? 0 : -1;
  for (int q = 0; q < 2 && rc == 0; q++)
    if (need[1 + q] && !(gin[1 + q] = coef_grad(&j, q, c->in[1 + q]))) rc = -1;
  if (rc == 0 && need[0]) gin[0] = nn_retain(gx);
  nn_release(gx);
  free(j.acc);
  return rc;
}

static nn_tensor *rat_jvp(const nn_ctx *c, nn_tensor *const *tin) {
  rat_job j;
  if (rat_setup(&j, c->in) < 0) return NULL;
  j.kind = 2;
  for (int q = 0; q < 2; q++) {
    nn_tensor *t = tin[1 + q];
    double *dst = q ? j.tb : j.ta;
    for (int k = 0; k < (q ? j.nb : j.na); k++) {
      int64_t idx = k;
      dst[k] = t ? nn_load(nn_at(t, t->ndim ? &idx : NULL), t->dtype) : 0;
    }
  }
  nn_tensor *tx = tin[0] ? nn_retain(tin[0]) : nn_zeros(NN_F64, c->in[0]->ndim, c->in[0]->shape);
  nn_tensor *t = tx ? rat_run(&j, c->in[0], tx) : NULL;
  nn_release(tx);
  return t;
}

const nn_op nn_op_rational = {
    .name = "rational", .nin = 3, .forward = rat_forward, .vjp = rat_vjp, .jvp = rat_jvp};

nn_tensor *nn_rational(nn_tensor *x, nn_tensor *a, nn_tensor *b) {
  return nn_call(&nn_op_rational, (nn_tensor *[]){x, a, b}, NULL);
}
