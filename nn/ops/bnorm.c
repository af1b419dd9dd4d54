/*
** nn/ops/bnorm.c: batch normalization of (N, C, *) inputs (BatchNorm1d's (N, C, L),
** BatchNorm2d's (N, C, H, W), ...): each channel c is normalized over its N x S elements
** (S the product of the trailing dims), then scaled by weight[c] and shifted by bias[c].
**
** One fused op, batch_norm_nc, whose kernels run per channel (the channels split across the
** core's threads): statistics in one pass in double (moments about an element of the
** channel), the forward as one multiply-add per element, the VJP as one pass for the
** two sums and one for dx, the JVP likewise. The forward saves each channel's mean and
** 1/sqrt(var + eps) (2 C doubles) for its derivatives. Evaluation with running statistics
** is an affine map per channel, made of broadcast elementwise ops.
*/
#include <math.h>

#include "nn/alloc.h"
#include "nn/ops.h"
#include "nn/ops/pointwise.h"
#include "nn/pool.h"

typedef struct bn_job {
  int64_t N, C, S;
  const char *x, *g, *w, *b, *tw, *tb; /* g: the gradient or the input's tangent */
  char *y;                             /* the output, dx or the output's tangent */
  double *mean, *rstd;                 /* per channel (rstd holds the variance for STATS) */
  double *dw, *db;                     /* per channel sums of the VJP */
  double eps;
  void (*run)(const struct bn_job *, int64_t c);
} bn_job;

/* Sums over a run of n elements in 8 independent double lanes: the compiler vectorizes
   them without reordering any one sum (a single accumulator would wait on every add).
   With g: the sums of g and of g (x - m); without: of x - m and (x - m)^2, the moments
   about m, from which the statistics come in one pass (m, an element of the channel, keeps
   the difference of squares exact enough: it is within a few deviations of the mean). */
enum { LANES = 8 };
#define RUN_SUMS(D, T, unused)                                                                     \
  static void run_sums_##D(const T *x, const T *g, int64_t n, double m, double *s1, double *s2) {  \
    double a[LANES] = {0}, b[LANES] = {0};                                                         \
    int64_t i = 0;                                                                                 \
    if (g)                                                                                         \
      for (; i + LANES <= n; i += LANES)                                                           \
        for (int k = 0; k < LANES; k++)                                                            \
          a[k] += g[i + k], b[k] += g[i + k] * ((double)x[i + k] - m);                             \
    else                                                                                           \
      for (; i + LANES <= n; i += LANES)                                                           \
        for (int k = 0; k < LANES; k++) {                                                          \
          double d = (double)x[i + k] - m;                                                         \
          a[k] += d, b[k] += d * d;                                                                \
        }                                                                                          \
    for (; i < n; i++) {                                                                           \
      double d = (double)x[i] - m;                                                                 \
      a[0] += g ? g[i] : d, b[0] += g ? g[i] * d : d * d;                                          \
    }                                                                                              \
    for (int k = 0; k < LANES; k++) *s1 += a[k], *s2 += b[k];                                      \
  }
TYPES_FLOAT(RUN_SUMS, 0)

/* Element e of channel c: run n of S elements at n C S + c S. */
#define CHANNEL_LOOP(BODY)                                                                         \
  for (int64_t n = 0; n < j->N; n++) {                                                             \
    int64_t base = (n * j->C + c) * j->S;                                                          \
    for (int64_t s = base; s < base + j->S; s++) BODY                                              \
  }

/* the channel's mean and biased variance */
#define CHANNEL_RUNS(BODY)                                                                         \
  for (int64_t n = 0; n < j->N; n++) {                                                             \
    int64_t base = (n * j->C + c) * j->S;                                                          \
    BODY;                                                                                          \
  }
#define BN_STATS(D, T)                                                                             \
  const T *x = (const T *)j->x;                                                                    \
  double s1 = 0, s2 = 0, M = (double)(j->N * j->S), m = x[c * j->S];                               \
  CHANNEL_RUNS(run_sums_##D(x + base, NULL, j->S, m, &s1, &s2))                                    \
  double var = s2 / M - (s1 / M) * (s1 / M);                                                       \
  j->mean[c] = m + s1 / M, j->rstd[c] = var > 0 ? var : 0;

/* y = (x - mean) rstd w + b, in double: x - mean cancels, in f32 it would lose digits */
#define BN_FORWARD(D, T)                                                                           \
  const T *x = (const T *)j->x;                                                                    \
  T *y = (T *)j->y;                                                                                \
  double sc = j->rstd[c] * ((const T *)j->w)[c], sh = ((const T *)j->b)[c], m = j->mean[c];        \
  CHANNEL_LOOP({ y[s] = (T)(((double)x[s] - m) * sc + sh); })

/* xhat = (x - mean) rstd; dw = sum g xhat, db = sum g, dx = rstd w (g - db/M - xhat dw/M) */
#define BN_VJP(D, T)                                                                               \
  const T *x = (const T *)j->x, *g = (const T *)j->g;                                              \
  double mean = j->mean[c], rstd = j->rstd[c], sg = 0, sgx = 0, M = (double)(j->N * j->S);         \
  CHANNEL_RUNS(run_sums_##D(x + base, g + base, j->S, mean, &sg, &sgx))                            \
  sgx *= rstd;                                                                                     \
  j->dw[c] = sgx, j->db[c] = sg;                                                                   \
  if (j->y) {                                                                                      \
    double k = rstd * ((const T *)j->w)[c];                                                        \
    double b = -k * sg / M, d = -k * sgx * rstd / M;                                               \
    T *dx = (T *)j->y;                                                                             \
    CHANNEL_LOOP({ dx[s] = (T)(k * g[s] + b + d * ((double)x[s] - mean)); })                       \
  }

/* ty = w rstd (tx - mean(tx) - xhat mean(xhat tx)) + xhat tw + tb; tx, tw, tb may be NULL */
#define BN_JVP(D, T)                                                                               \
  const T *x = (const T *)j->x, *tx = (const T *)j->g;                                             \
  double mean = j->mean[c], rstd = j->rstd[c], mt = 0, mxt = 0, M = (double)(j->N * j->S);         \
  if (tx)                                                                                          \
    CHANNEL_LOOP({                                                                                 \
      mt += tx[s];                                                                                 \
      mxt += (x[s] - mean) * tx[s];                                                                \
    })                                                                                             \
  mt /= M, mxt *= rstd / M;                                                                        \
  double w = ((const T *)j->w)[c], tw = j->tw ? ((const T *)j->tw)[c] : 0;                         \
  double tb = j->tb ? ((const T *)j->tb)[c] : 0;                                                   \
  T *ty = (T *)j->y;                                                                               \
  CHANNEL_LOOP({                                                                                   \
    double xhat = (x[s] - mean) * rstd;                                                            \
    double v = xhat * tw + tb;                                                                     \
    if (tx) v += w * rstd * (tx[s] - mt - xhat * mxt);                                             \
    ty[s] = (T)v;                                                                                  \
  })

#define CHANNEL_FN(D, T, KIND)                                                                     \
  static void KIND##_##D(const bn_job *j, int64_t c) {                                             \
    KIND(D, T)                                                                                     \
  }
TYPES_FLOAT(CHANNEL_FN, BN_STATS)
TYPES_FLOAT(CHANNEL_FN, BN_FORWARD)
TYPES_FLOAT(CHANNEL_FN, BN_VJP)
TYPES_FLOAT(CHANNEL_FN, BN_JVP)

typedef void channel_fn(const bn_job *, int64_t);
enum { STATS, FORWARD, VJP, JVP };
static channel_fn *const channel_fns[4][2] = {{BN_STATS_F32, BN_STATS_F64},
                                              {BN_FORWARD_F32, BN_FORWARD_F64},
                                              {BN_VJP_F32, BN_VJP_F64},
                                              {BN_JVP_F32, BN_JVP_F64}};

static void run_channels(int64_t lo, int64_t hi, void *ctx) {
  const bn_job *j = ctx;
  for (int64_t c = lo; c < hi; c++) j->run(j, c);
}

static void run_bn(bn_job *j, int kind, nn_dtype dt) {
  j->run = channel_fns[kind][dt == NN_F64];
  int64_t per = j->N * j->S, grain = (1 << 16) / (per > 0 ? per : 1);
  nn_parallel(j->C, grain > 0 ? grain : 1, run_channels, j);
}

static int check_vector(const char *what, const nn_tensor *t, const nn_tensor *x) {
  if (!t) return 0;
  if (t->ndim != 1 || t->shape[0] != x->shape[1])
    return nn_errc("%s has shape %s but input %s has %lld channels", what, nn_shape_str(t),
                   nn_shape_str(x), (long long)x->shape[1]);
  if (!nn_dtype_is_float(t->dtype))
    return nn_errc("%s must be f32 or f64, not %s", what, nn_dtype_name(t->dtype));
  return 0;
}

static int check_input(const nn_tensor *x) {
  if (!nn_dtype_is_float(x->dtype))
    return nn_errc("input must be f32 or f64, not %s", nn_dtype_name(x->dtype));
  if (x->ndim < 2) return nn_errc("input must be (N, C, ...), not of shape %s", nn_shape_str(x));
  return 0;
}

/* the job over x (N, C, S...): its sizes, x's data; the tensors in held (contiguous copies
   in x's dtype, released by the caller) */
static bn_job job_of(nn_tensor *x, double eps) {
  int64_t S = 1;
  for (int d = 2; d < x->ndim; d++) S *= x->shape[d];
  return (bn_job){.N = x->shape[0], .C = x->shape[1], .S = S, .x = nn_data(x), .eps = eps};
}

/* contiguous, in dtype dt (NULL stays NULL, and so does a failure: *ok says which) */
static nn_tensor *dense_opt(nn_tensor *t, nn_dtype dt, bool *ok) {
  if (!t) return NULL;
  nn_tensor *c = nn_to(t, dt), *r = c ? nn_contiguous(c) : NULL;
  nn_release(c);
  if (!r) *ok = false;
  return r;
}

/* mean and rstd (2 C doubles) of x, contiguous; with rstd = false the variance instead */
static nn_tensor *channel_stats(nn_tensor *x, double eps, bool rstd) {
  bn_job j = job_of(x, eps);
  nn_tensor *st = nn_empty(NN_F64, 2, (int64_t[]){2, j.C});
  if (!st) return NULL;
  j.mean = (double *)nn_data(st), j.rstd = j.mean + j.C;
  run_bn(&j, STATS, x->dtype);
  for (int64_t c = 0; rstd && c < j.C; c++) j.rstd[c] = 1 / sqrt(j.rstd[c] + eps);
  return st;
}

static int bn_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a, nn_tensor **out,
                      nn_tensor **saved, int *nsaved) {
  (void)op;
  nn_tensor *x0 = in[0];
  if (check_input(x0) < 0 || check_vector("weight", in[1], x0) < 0 ||
      check_vector("bias", in[2], x0) < 0)
    return -1;
  bool ok = true;
  nn_tensor *x = dense_opt(x0, x0->dtype, &ok), *w = dense_opt(in[1], x0->dtype, &ok);
  nn_tensor *b = dense_opt(in[2], x0->dtype, &ok), *st = NULL, *y = NULL;
  if (ok && (st = channel_stats(x, a->f[0], true)) && (y = nn_empty_like(x))) {
    bn_job j = job_of(x, a->f[0]);
    j.w = nn_data(w), j.b = nn_data(b), j.y = nn_data(y);
    j.mean = (double *)nn_data(st), j.rstd = j.mean + j.C;
    run_bn(&j, FORWARD, x->dtype);
  }
  nn_release(x), nn_release(w), nn_release(b);
  if (!y) {
    nn_release(st);
    return -1;
  }
  out[0] = y;
  if (saved)
    saved[0] = st, *nsaved = 1;
  else
    nn_release(st);
  return 0;
}

static int bn_vjp(const nn_ctx *ctx, nn_tensor *const *gout, const bool *need, nn_tensor **gin) {
  nn_tensor *x0 = ctx->in[0];
  nn_dtype dt = x0->dtype;
  bool ok = true;
  nn_tensor *x = dense_opt(x0, dt, &ok), *w = dense_opt(ctx->in[1], dt, &ok);
  nn_tensor *g = dense_opt(gout[0], dt, &ok);
  bn_job j = ok ? job_of(x, ctx->attr.f[0]) : (bn_job){0};
  size_t bytes = (size_t)(2 * j.C + 1) * sizeof(double);
  double *acc = ok ? nn_alloc(bytes) : NULL;
  if (acc && need[0] && !(gin[0] = nn_empty_like(x))) ok = false;
  if (acc && ok) {
    j.w = nn_data(w), j.g = nn_data(g), j.y = gin[0] ? nn_data(gin[0]) : NULL;
    j.mean = (double *)nn_data(ctx->saved[0]), j.rstd = j.mean + j.C;
    j.dw = acc, j.db = acc + j.C;
    run_bn(&j, VJP, dt);
    int64_t C = j.C;
    if (need[1] && !(gin[1] = nn_empty(ctx->in[1]->dtype, 1, &C))) ok = false;
    if (need[2] && !(gin[2] = nn_empty(ctx->in[2]->dtype, 1, &C))) ok = false;
    for (int64_t c = 0; ok && c < C; c++) {
      if (gin[1])
        nn_store(nn_data(gin[1]) + c * (int64_t)nn_dtype_size(gin[1]->dtype), gin[1]->dtype,
                 j.dw[c]);
      if (gin[2])
        nn_store(nn_data(gin[2]) + c * (int64_t)nn_dtype_size(gin[2]->dtype), gin[2]->dtype,
                 j.db[c]);
    }
  }
  if (acc) nn_free(acc, bytes);
  nn_release(x), nn_release(w), nn_release(g);
  return acc && ok ? 0 : -1;
}

static int bn_jvp(const nn_ctx *ctx, nn_tensor *const *tin, nn_tensor **tout) {
  nn_tensor *x0 = ctx->in[0];
  nn_dtype dt = x0->dtype;
  bool ok = true;
  nn_tensor *x = dense_opt(x0, dt, &ok), *w = dense_opt(ctx->in[1], dt, &ok);
  nn_tensor *tx = dense_opt(tin[0], dt, &ok), *tw = dense_opt(tin[1], dt, &ok);
  nn_tensor *tb = dense_opt(tin[2], dt, &ok);
  if (ok && (tout[0] = nn_empty_like(x))) {
    bn_job j = job_of(x, ctx->attr.f[0]);
    j.w = nn_data(w), j.g = tx ? nn_data(tx) : NULL, j.y = nn_data(tout[0]);
    j.tw = tw ? nn_data(tw) : NULL, j.tb = tb ? nn_data(tb) : NULL;
    j.mean = (double *)nn_data(ctx->saved[0]), j.rstd = j.mean + j.C;
    run_bn(&j, JVP, dt);
  }
  nn_tensor *tmp[] = {x, w, tx, tw, tb};
  for (int k = 0; k < 5; k++) nn_release(tmp[k]);
  return tout[0] ? 0 : -1;
}

const nn_op nn_op_batch_norm_nc = {.name = "batch_norm_nc",
                                   .nin = 3,
                                   .nout = 1,
                                   .forward_multi = bn_forward,
                                   .vjp_multi = bn_vjp,
                                   .jvp_multi = bn_jvp};

/* ---- the C API: training (batch statistics, running ones moved) or evaluation ---- */

/* running = (1 - momentum) running + momentum batch (the variance unbiased), in place */
static int move_running(nn_tensor *x, nn_tensor *rmean, nn_tensor *rvar, double momentum) {
  nn_tensor *xc = nn_contiguous(x), *st = xc ? channel_stats(xc, 0, false) : NULL;
  nn_release(xc);
  if (!st) return -1;
  const double *mean = (const double *)nn_data(st), *var = mean + x->shape[1];
  double M = (double)(nn_numel(x) / x->shape[1]);
  nn_tensor *r[2] = {rmean, rvar};
  for (int k = 0; k < 2; k++)
    for (int64_t c = 0; r[k] && c < x->shape[1]; c++) {
      char *p = nn_data(r[k]) + c * r[k]->stride[0] * (int64_t)nn_dtype_size(r[k]->dtype);
      double batch = k == 0 ? mean[c] : var[c] * M / (M - 1);
      nn_store(p, r[k]->dtype, (1 - momentum) * nn_load(p, r[k]->dtype) + momentum * batch);
    }
  nn_release(st);
  return 0;
}

/* t (C) viewed as (C, 1, ..., 1) to broadcast against x (N, C, ...) */
static nn_tensor *per_channel(nn_tensor *t, const nn_tensor *x) {
  int64_t shape[NN_MAXDIM];
  shape[0] = x->shape[1];
  for (int d = 1; d < x->ndim - 1; d++) shape[d] = 1;
  return t ? nn_reshape(t, x->ndim - 1, shape) : NULL;
}

/* (x - running_mean) scale + b, scale = w / sqrt(running_var + eps): differentiable in x, w
   and b by the elementwise ops; x - running_mean first, so a large mean cancels exactly */
static nn_tensor *bn_eval(nn_tensor *x, nn_tensor *w, nn_tensor *b, nn_tensor *rmean,
                          nn_tensor *rvar, double eps) {
  nn_tensor *e = nn_scalar(x->dtype, eps), *ve = e ? nn_add(rvar, e) : NULL;
  nn_tensor *rs = ve ? nn_rsqrt(ve) : NULL, *scale = rs && w ? nn_mul(w, rs)
                                                     : rs    ? nn_retain(rs)
                                                             : NULL;
  nn_tensor *mc = per_channel(rmean, x), *sc = scale ? per_channel(scale, x) : NULL;
  nn_tensor *bc = b ? per_channel(b, x) : NULL;
  nn_tensor *xm = mc && sc ? nn_sub(x, mc) : NULL, *xs = xm ? nn_mul(xm, sc) : NULL;
  nn_tensor *y = !xs ? NULL : bc ? nn_add(xs, bc) : nn_retain(xs);
  nn_tensor *tmp[] = {e, ve, rs, scale, mc, sc, bc, xm, xs};
  for (size_t k = 0; k < sizeof tmp / sizeof *tmp; k++) nn_release(tmp[k]);
  return y;
}

nn_tensor *nn_batch_norm_nc(nn_tensor *x, nn_tensor *weight, nn_tensor *bias,
                            nn_tensor *running_mean, nn_tensor *running_var, bool training,
                            double momentum, double eps) {
  if (check_input(x) < 0) return NULL;
  const char *names[] = {"weight", "bias", "running_mean", "running_var"};
  nn_tensor *vecs[] = {weight, bias, running_mean, running_var};
  for (int k = 0; k < 4; k++)
    if (check_vector(names[k], vecs[k], x) < 0) return NULL;
  if (!(eps >= 0)) return nn_err("eps must be >= 0, not %g", eps);
  if (!training && running_mean && running_var)
    return bn_eval(x, weight, bias, running_mean, running_var, eps);
  int64_t per = nn_numel(x) / (x->shape[1] ? x->shape[1] : 1);
  if (training && per < 2)
    return nn_err("expected more than 1 value per channel when training, got input %s",
                  nn_shape_str(x));
  int64_t C = x->shape[1];
  nn_tensor *w = weight ? nn_retain(weight) : nn_full(x->dtype, 1, &C, 1);
  nn_tensor *b = bias ? nn_retain(bias) : nn_zeros(x->dtype, 1, &C), *y = NULL;
  nn_attr a = {.f = {eps}};
  if (w && b) y = nn_call(&nn_op_batch_norm_nc, (nn_tensor *[]){x, w, b}, &a);
  nn_release(w), nn_release(b);
  if (y && training && (running_mean || running_var) &&
      move_running(x, running_mean, running_var, momentum) < 0) {
    nn_release(y);
    return NULL;
  }
  return y;
}
