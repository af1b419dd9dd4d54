/*
** nn/ops/act_param.c: activations with learnable parameters, one line each in the table
** below: y = f(x, a, b) and its three partial derivatives, with a and b the parameters (b
** unused by the one-parameter ones). A parameter is one value shared by every element, or
** one per channel: dim 2 of an input of 2 dims or more (dim 1 of a 1-D input, which has one
** channel per element). The kernels read the parameters where they are (no broadcast
** copies) and reduce the parameters' gradients over the batch and spatial dims themselves,
** in fixed pieces of the input summed in a fixed order (the same bits on any number of
** threads), accumulating in f64.
*/
#include <stdlib.h>

#include "nn/ops/fastmath.h"
#include "nn/ops/pointwise.h"
#include "nn/pool.h"

/* A run of elements that share a parameter (vec false) or that are consecutive channels (vec
   true: parameter i for element i). p[0] the result, p[1] x, p[2] and p[3] the parameters
   (from the run's channel on), then the gradient (backward) or the tangents (forward mode);
   acc[k] parameter k's gradient sums, from the run's channel on. */
typedef struct param_run {
  int64_t n;
  bool vec;
  void *p[7];
  double *acc[2];
} param_run;
typedef void (*param_row)(const param_run *r);
typedef struct param_kern {
  int np;                     /* parameters: 1 or 2 */
  param_row f[2], b[2], j[2]; /* [0] f32, [1] f64 */
} param_kern;

static nn_tensor *param_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                                nn_tensor *out);
static int param_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin);
static nn_tensor *param_jvp(const nn_ctx *c, nn_tensor *const *tin);

static const double INV_SQRT_2PI = 0.39894228040143267794;

/* sigmoid(z) and sigmoid'(z) = e / (1 + e)^2 from one e = e^-|z| and one 1 / (1 + e) (the
   compiler computes each once per element; 1 - sigmoid(z) would lose its bits for large z) */
#define SIGE(z) NN_EXP(-fabs(z))
#define SIGR(z) (1 / (1 + SIGE(z)))
#define SIG(z)  ((z) >= 0 ? SIGR(z) : SIGE(z) * SIGR(z))
#define SIGD(z) (SIGE(z) * SIGR(z) * SIGR(z))
/* the standard normal density; in f32 from the e^(-z^2/2) that Phi computes too */
#define NORMPDF(z)                                                                                 \
  _Generic((z), float                                                                              \
           : (float)INV_SQRT_2PI *nn_exp_halfsqf(fabsf((float)(z))), default                       \
           : INV_SQRT_2PI *exp(-0.5 * (double)(z) * (double)(z)))
/* snake's sin(a x) and cos(a x) */
#define SIN_AX NN_SIN(a *x)
#define COS_AX NN_COS(a *x)

/* name, parameters, y = f(x, a, b), dy/dx, dy/da, dy/db; T is the type of x (f32 or f64) */
#define PARAM_TABLE(X)                                                                             \
  X(prelu, 1, x > 0 ? x : a * x, x > 0 ? 1 : a, x > 0 ? 0 : x, 0)                                  \
  X(swish_beta, 1, x *SIG(a *x), SIG(a *x) + a * x * SIGD(a * x), x * x * SIGD(a * x), 0)          \
  X(snake_a, 1, x + SIN_AX * SIN_AX / a, 1 + 2 * SIN_AX * COS_AX,                                  \
    (2 * x * COS_AX - SIN_AX / a) * SIN_AX / a, 0)                                                 \
  X(sau, 2, a *x + (1 - a) * (x * NN_NORMCDF(x / b) + b * NORMPDF(x / b)),                         \
    a + (1 - a) * NN_NORMCDF(x / b), x - (x * NN_NORMCDF(x / b) + b * NORMPDF(x / b)),             \
    (1 - a) * NORMPDF(x / b))

/* ---- the rows, generated per float type from the table ---- */

enum { BLOCK = 256, LANES = 16 };

/* lanes[j mod 16] += t[j]: a sum the compiler vectorizes (the lanes are added up at the end,
   in a fixed order) */
#define FOLD(T)                                                                                    \
  static inline void fold_##T(double *lanes, const T *t, int64_t m) {                              \
    int64_t j = 0;                                                                                 \
    for (; j + LANES <= m; j += LANES)                                                             \
      for (int l = 0; l < LANES; l++) lanes[l] += (double)t[j + l];                                \
    for (int l = 0; j < m; j++, l++) lanes[l] += (double)t[j];                                     \
  }
FOLD(float)
FOLD(double)

/* one element: x, its parameters a and b from PA(i), PB(i) */
#define ELEMENT(T, PA, PB)                                                                         \
  T x = px[i], a = PA, b = PB;                                                                     \
  (void)a, (void)b

/* A run of n elements: the parameters per element (vec, channels in a row) or one for all. */
#define RUN(T, BODY, ...)                                                                          \
  if (r->vec) {                                                                                    \
    BODY(T, pa[i], pb[i], 1, __VA_ARGS__)                                                          \
  } else {                                                                                         \
    const T a0 = pa[0], b0 = pb[0];                                                                \
    BODY(T, a0, b0, 0, __VA_ARGS__)                                                                \
  }

#define F_BODY(T, PA, PB, V, fx, ...)                                                              \
  for (int64_t i = 0; i < r->n; i++) {                                                             \
    ELEMENT(T, PA, PB);                                                                            \
    py[i] = (T)(fx);                                                                               \
  }
/* The gradients: x's per element; the parameters' added to acc per channel (vec), or summed
   over the run a block at a time and added to acc[0] */
#define B_BODY(T, PA, PB, V, dx, da, db)                                                           \
  if (V) {                                                                                         \
    for (int64_t i = 0; i < r->n; i++) {                                                           \
      ELEMENT(T, PA, PB);                                                                          \
      T g = pg[i];                                                                                 \
      pgx[i] = (T)(g * (dx));                                                                      \
      acc_a[i] += (double)(g * (da));                                                              \
      acc_b[i] += (double)(g * (db));                                                              \
    }                                                                                              \
  } else {                                                                                         \
    double la[LANES] = {0}, lb[LANES] = {0};                                                       \
    for (int64_t s0 = 0; s0 < r->n; s0 += BLOCK) {                                                 \
      int64_t m = r->n - s0 < BLOCK ? r->n - s0 : BLOCK;                                           \
      T ta[BLOCK], tb[BLOCK];                                                                      \
      for (int64_t j = 0; j < m; j++) {                                                            \
        int64_t i = s0 + j;                                                                        \
        ELEMENT(T, PA, PB);                                                                        \
        T g = pg[i];                                                                               \
        pgx[i] = (T)(g * (dx));                                                                    \
        ta[j] = (T)(g * (da));                                                                     \
        tb[j] = (T)(g * (db));                                                                     \
      }                                                                                            \
      fold_##T(la, ta, m);                                                                         \
      fold_##T(lb, tb, m);                                                                         \
    }                                                                                              \
    for (int l = 0; l < LANES; l++) acc_a[0] += la[l], acc_b[0] += lb[l];                          \
  }
/* forward mode: the tangents of x and of the parameters (per channel, or one for all) */
#define J_BODY(T, PA, PB, V, dx, da, db)                                                           \
  {                                                                                                \
    const T ta0 = pta[0], tb0 = ptb[0];                                                            \
    for (int64_t i = 0; i < r->n; i++) {                                                           \
      ELEMENT(T, PA, PB);                                                                          \
      T ta = V ? pta[i] : ta0, tb = V ? ptb[i] : tb0;                                              \
      pt[i] = (T)(ptx[i] * (dx) + ta * (da) + tb * (db));                                          \
    }                                                                                              \
  }

#define PARAM_ROWS(name, T, fx, dx, da, db)                                                        \
  VECTOR_CLONES static void name##_f_##T(const param_run *r) {                                     \
    T *py = r->p[0];                                                                               \
    const T *px = r->p[1], *pa = r->p[2], *pb = r->p[3];                                           \
    RUN(T, F_BODY, fx)                                                                             \
  }                                                                                                \
  VECTOR_CLONES static void name##_b_##T(const param_run *r) {                                     \
    T *pgx = r->p[0];                                                                              \
    const T *px = r->p[1], *pa = r->p[2], *pb = r->p[3], *pg = r->p[4];                            \
    double *acc_a = r->acc[0], *acc_b = r->acc[1];                                                 \
    RUN(T, B_BODY, dx, da, db)                                                                     \
  }                                                                                                \
  VECTOR_CLONES static void name##_j_##T(const param_run *r) {                                     \
    T *pt = r->p[0];                                                                               \
    const T *px = r->p[1], *pa = r->p[2], *pb = r->p[3], *ptx = r->p[4], *pta = r->p[5],           \
            *ptb = r->p[6];                                                                        \
    RUN(T, J_BODY, dx, da, db)                                                                     \
  }

#define DEFINE_PARAM(name_, np_, fx, dx, da, db)                                                   \
  PARAM_ROWS(name_, float, fx, dx, da, db)                                                         \
  PARAM_ROWS(name_, double, fx, dx, da, db)                                                        \
  static const param_kern name_##_kern = {np_,                                                     \
                                          {name_##_f_float, name_##_f_double},                     \
                                          {name_##_b_float, name_##_b_double},                     \
                                          {name_##_j_float, name_##_j_double}};                    \
  const nn_op nn_op_##name_ = {.name = #name_,                                                     \
                               .nin = 1 + np_,                                                     \
                               .forward = param_forward,                                           \
                               .vjp = param_vjp,                                                   \
                               .jvp = param_jvp,                                                   \
                               .kern = &name_##_kern};

PARAM_TABLE(DEFINE_PARAM)

/* ---- the driver: layout, pieces, runs ---- */

/* Elements p of x (contiguous, n of them) have channel (p / S) mod C; C = 1 for shared
   parameters. Pieces of the elements, a fixed number for a given n, each have their own
   gradient sums (acc, pieces x 2 x C), added up in order at the end. */
typedef struct param_job {
  const param_kern *k;
  int kind; /* 0 forward, 1 backward, 2 forward mode */
  int f64;
  size_t es;
  int64_t n, C, S, npieces;
  char *elem[4]; /* per element: result, x, then g or the tangent of x */
  char *chan[4]; /* per channel: the parameters, then their tangents */
  double *acc;
} param_job;

static void run_one(const param_job *j, int64_t p, int64_t len, int64_t c, bool vec,
                    int64_t piece) {
  param_run r = {.n = len, .vec = vec};
  size_t es = j->es;
  r.p[0] = j->elem[0] + p * es, r.p[1] = j->elem[1] + p * es;
  r.p[2] = j->chan[0] + c * es, r.p[3] = j->chan[1] + c * es;
  if (j->kind == 1) r.p[4] = j->elem[2] + p * es;
  if (j->kind == 2) {
    r.p[4] = j->elem[2] + p * es;
    r.p[5] = j->chan[2] + c * es, r.p[6] = j->chan[3] + c * es;
  }
  if (j->acc)
    for (int k = 0; k < 2; k++) r.acc[k] = j->acc + (piece * 2 + k) * j->C + c;
  param_row row = j->kind == 0 ? j->k->f[j->f64] : j->kind == 1 ? j->k->b[j->f64] : j->k->j[j->f64];
  row(&r);
}

static void run_pieces(int64_t lo, int64_t hi, void *arg) {
  const param_job *j = arg;
  for (int64_t piece = lo; piece < hi; piece++) {
    int64_t p = j->n * piece / j->npieces, end = j->n * (piece + 1) / j->npieces;
    while (p < end) {
      int64_t c, len;
      bool vec = j->S == 1 && j->C > 1;
      if (vec) {
        c = p % j->C;
        len = end - p < j->C - c ? end - p : j->C - c;
      } else {
        c = (p / j->S) % j->C;
        int64_t stop = (p / j->S + 1) * j->S;
        len = (end < stop ? end : stop) - p;
      }
      run_one(j, p, len, c, vec, piece);
      p += len;
    }
  }
}

static void run_job(param_job *j) {
  if (j->npieces > 1)
    nn_parallel(j->npieces, 1, run_pieces, j);
  else
    run_pieces(0, 1, j);
}

enum { PIECES = 8, PIECE_MIN = 1 << 15 };

/* The layout of x against its parameters: 0, or -1 with a message naming the op. */
static int layout(const nn_op *op, nn_tensor *const *in, param_job *j) {
  const param_kern *k = op->kern;
  nn_tensor *x = in[0];
  int64_t n = nn_numel(x), np = nn_numel(in[1]);
  for (int q = 0; q < k->np; q++) {
    if (!nn_dtype_is_float(in[1 + q]->dtype) && in[1 + q]->dtype != NN_I64)
      return nn_errc("parameter %d must be a float tensor, not %s", q + 1,
                     nn_dtype_name(in[1 + q]->dtype));
    if (nn_numel(in[1 + q]) != np)
      return nn_errc("its parameters have %lld and %lld values; give them the same count",
                     (long long)np, (long long)nn_numel(in[1 + q]));
  }
  int cd = x->ndim >= 2 ? 1 : 0;
  int64_t C = x->ndim ? x->shape[cd] : 1, S = 1;
  for (int d = cd + 1; d < x->ndim; d++) S *= x->shape[d];
  if (np == 1)
    C = 1, S = n > 0 ? n : 1;
  else if (np != C)
    return nn_errc("%lld parameters for %lld channels (dim %d of the input, shape %s)",
                   (long long)np, (long long)C, cd + 1, nn_shape_str(x));
  *j = (param_job){.k = k, .n = n, .C = C, .S = S};
  j->f64 = x->dtype == NN_F64;
  j->es = j->f64 ? sizeof(double) : sizeof(float);
  j->npieces = n >= PIECE_MIN ? PIECES : 1;
  return 0;
}

static nn_dtype job_dtype(const param_job *j) {
  return j->f64 ? NN_F64 : NN_F32;
}

/* t in the job's dtype, contiguous (a new reference), or zeros of shape like when t is NULL */
static nn_tensor *prepared(const param_job *j, nn_tensor *t, const nn_tensor *like) {
  if (!t) return nn_zeros(job_dtype(j), like->ndim, like->shape);
  nn_tensor *c = nn_to(t, job_dtype(j)), *r = c ? nn_contiguous(c) : NULL;
  nn_release(c);
  return r;
}

/* Prepares tensors into held[] (released by the caller) and points the job at them. */
static int prepare(param_job *j, int nt, nn_tensor *const *t, const nn_tensor *const *like,
                   char **dst, nn_tensor **held) {
  for (int q = 0; q < nt; q++) {
    held[q] = prepared(j, t[q], like[q]);
    if (!held[q]) return -1;
    dst[q] = nn_data(held[q]);
  }
  return 0;
}

static void release_all(int n, nn_tensor **t) {
  for (int q = 0; q < n; q++) nn_release(t[q]);
}

static nn_tensor *param_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                                nn_tensor *out) {
  (void)a, (void)out;
  param_job j;
  if (layout(op, in, &j) < 0) return NULL;
  nn_tensor *held[3] = {0}, *x = in[0];
  const nn_tensor *like[3] = {x, in[1], in[op->nin - 1]};
  nn_tensor *src[3] = {x, in[1], in[op->nin - 1]};
  nn_tensor *y = NULL;
  if (prepare(&j, 1, src, like, &j.elem[1], held) == 0 &&
      prepare(&j, 2, src + 1, like + 1, j.chan, held + 1) == 0 &&
      (y = nn_empty(job_dtype(&j), x->ndim, x->shape))) {
    j.elem[0] = nn_data(y);
    run_job(&j);
  }
  release_all(3, held);
  return y;
}

/* parameter q's gradient: the pieces' sums added in order, in the parameter's shape */
static nn_tensor *param_grad(const param_job *j, int q, const nn_tensor *p) {
  nn_tensor *g = nn_empty(job_dtype(j), p->ndim, p->shape);
  if (!g) return NULL;
  for (int64_t c = 0; c < j->C; c++) {
    double s = 0;
    for (int64_t piece = 0; piece < j->npieces; piece++) s += j->acc[(piece * 2 + q) * j->C + c];
    nn_store(nn_data(g) + c * j->es, job_dtype(j), s);
  }
  if (!nn_dtype_is_float(p->dtype) || p->dtype == g->dtype) return g;
  nn_tensor *r = nn_to(g, p->dtype);
  nn_release(g);
  return r;
}

static int param_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  const nn_op *op = c->op;
  param_job j;
  if (layout(op, c->in, &j) < 0) return -1;
  nn_tensor *held[4] = {0}, *x = c->in[0], *gx = NULL;
  nn_tensor *src[4] = {x, gout, c->in[1], c->in[op->nin - 1]};
  const nn_tensor *like[4] = {x, x, c->in[1], c->in[op->nin - 1]};
  char *e[2];
  j.acc = calloc((size_t)(j.npieces * 2 * j.C), sizeof *j.acc);
  int rc = -1;
  if (j.acc && prepare(&j, 2, src, like, e, held) == 0 &&
      prepare(&j, 2, src + 2, like + 2, j.chan, held + 2) == 0 &&
      (gx = nn_empty(job_dtype(&j), x->ndim, x->shape))) {
    j.kind = 1;
    j.elem[0] = nn_data(gx), j.elem[1] = e[0], j.elem[2] = e[1];
    run_job(&j);
    rc = 0;
    for (int q = 0; q < j.k->np && rc == 0; q++)
      if (need[1 + q] && !(gin[1 + q] = param_grad(&j, q, c->in[1 + q]))) rc = -1;
    if (rc == 0 && need[0]) gin[0] = nn_retain(gx);
  }
  if (!j.acc) nn_err("out of memory");
  free(j.acc);
  nn_release(gx);
  release_all(4, held);
  return rc;
}

static nn_tensor *param_jvp(const nn_ctx *c, nn_tensor *const *tin) {
  const nn_op *op = c->op;
  param_job j;
  if (layout(op, c->in, &j) < 0) return NULL;
  int last = op->nin - 1;
  nn_tensor *held[6] = {0}, *x = c->in[0], *t = NULL;
  nn_tensor *src[6] = {x, tin[0], c->in[1], c->in[last], tin[1], tin[last]};
  if (op->nin == 2) src[5] = NULL; /* the unused second parameter's tangent: zeros */
  const nn_tensor *like[6] = {x, x, c->in[1], c->in[last], c->in[1], c->in[last]};
  char *e[2];
  if (prepare(&j, 2, src, like, e, held) == 0 &&
      prepare(&j, 4, src + 2, like + 2, j.chan, held + 2) == 0 &&
      (t = nn_empty(job_dtype(&j), x->ndim, x->shape))) {
    j.kind = 2;
    j.elem[0] = nn_data(t), j.elem[1] = e[0], j.elem[2] = e[1];
    run_job(&j);
  }
  release_all(6, held);
  return t;
}

/* ---- the C functions (the Lua functions check the parameters' values) ---- */

nn_tensor *nn_prelu(nn_tensor *x, nn_tensor *a) {
  return nn_call(&nn_op_prelu, (nn_tensor *[]){x, a}, NULL);
}
nn_tensor *nn_swish_beta(nn_tensor *x, nn_tensor *beta) {
  return nn_call(&nn_op_swish_beta, (nn_tensor *[]){x, beta}, NULL);
}
nn_tensor *nn_snake_a(nn_tensor *x, nn_tensor *a) {
  return nn_call(&nn_op_snake_a, (nn_tensor *[]){x, a}, NULL);
}
nn_tensor *nn_sau(nn_tensor *x, nn_tensor *alpha, nn_tensor *sigma) {
  return nn_call(&nn_op_sau, (nn_tensor *[]){x, alpha, sigma}, NULL);
}
