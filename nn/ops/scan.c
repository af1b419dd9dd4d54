/*
** nn/ops/scan.c: the linear scan h_t = a_t * h_{t-1} + b_t along time, real and complex.
**
** The real scan takes a and b of shape (batch, time, features) and h0 (batch, features); the
** complex one takes planar complex tensors, the real parts then the imaginary ones along a
** leading dim of 2: a and b (2, batch, time, features), h0 (2, batch, features), and gives
** h (2, batch, time, features). Both return the whole sequence of states (the final state is
** its last step).
**
** Forward: a sequential loop over time, vectorized over features and split over (batch,
** feature chunk) pieces across the pool's threads; with no reassociation it gives the bits of
** a plain loop. Backward: the reverse scan, lam_t = g_t + a_{t+1} lam_{t+1} (conj(a) for the
** complex scan), db_t = lam_t, da_t = lam_t h_{t-1} (times conj(h_{t-1})), dh0 = a_1 lam_1.
** JVP: the tangent is the scan of a over tb + ta h_{t-1}, with th0 as its initial state.
** Operands may be strided views (an expanded a costs no copy) as long as features are unit
** stride; anything else is made contiguous first.
*/
#include "nn/ops/fastmath.h"
#include "nn/ops/pointwise.h"
#include "nn/pool.h"

/* An operand as (plane, batch, time) strides over unit-stride features, in elements. */
typedef struct operand {
  const char *p;
  int64_t sp, sb, st;
} operand;

typedef struct scan_job {
  int planes; /* 1 real, 2 complex */
  int64_t nb, nt, nf, chunk;
  operand a, b, h0, g, h; /* backward reads a, g, h and h0 */
  char *out;              /* forward: h; backward: lam (= db); jvp rhs: the rhs */
  char *da, *dh0;         /* backward, either may be NULL */
  const operand *ta, *tb; /* jvp rhs, either may be NULL */
  void (*kern)(const struct scan_job *j, int64_t b, int64_t f0, int64_t f1);
} scan_job;

/* element (p, b, t, f) of an operand, and of a dense (P, B, T, F) buffer */
#define AT(T, o, p_, b_, t_) ((const T *)(o).p + (p_) * (o).sp + (b_) * (o).sb + (t_) * (o).st)
#define DENSE_AT(T, base, j, p_, b_, t_)                                                           \
  ((T *)(base) + (((p_) * (j)->nb + (b_)) * (j)->nt + (t_)) * (j)->nf)

/* h_t = a_t h_{t-1} + b_t, complex when planes == 2 */
#define SCAN_FWD(D, T, name)                                                                       \
  static void name##_##D(const scan_job *j, int64_t b, int64_t f0, int64_t f1) {                   \
    const T *pr = AT(T, j->h0, 0, b, 0), *pi = AT(T, j->h0, 1, b, 0);                              \
    for (int64_t t = 0; t < j->nt; t++) {                                                          \
      const T *ar = AT(T, j->a, 0, b, t), *br = AT(T, j->b, 0, b, t);                              \
      T *hr = DENSE_AT(T, j->out, j, 0, b, t);                                                     \
      if (j->planes == 1) {                                                                        \
        for (int64_t f = f0; f < f1; f++) hr[f] = ar[f] * pr[f] + br[f];                           \
      } else {                                                                                     \
        const T *ai = AT(T, j->a, 1, b, t), *bi = AT(T, j->b, 1, b, t);                            \
        T *hi = DENSE_AT(T, j->out, j, 1, b, t);                                                   \
        for (int64_t f = f0; f < f1; f++) {                                                        \
          T r = ar[f] * pr[f] - ai[f] * pi[f] + br[f], i = ar[f] * pi[f] + ai[f] * pr[f] + bi[f];  \
          hr[f] = r, hi[f] = i;                                                                    \
        }                                                                                          \
        pi = hi;                                                                                   \
      }                                                                                            \
      pr = hr;                                                                                     \
    }                                                                                              \
  }
TYPES_FLOAT(SCAN_FWD, scan_fwd)

/* the state before step t: h_{t-1}, or h0 at t = 0 */
#define PREV(T, j, p_, b, t) ((t) > 0 ? AT(T, (j)->h, p_, b, (t)-1) : AT(T, (j)->h0, p_, b, 0))

/* the reverse scan: lam into out (it is db), then da and dh0 */
#define SCAN_BWD(D, T, name)                                                                       \
  static void name##_##D(const scan_job *j, int64_t b, int64_t f0, int64_t f1) {                   \
    bool cx = j->planes == 2;                                                                      \
    for (int64_t t = j->nt - 1; t >= 0; t--) {                                                     \
      const T *gr = AT(T, j->g, 0, b, t), *gi = AT(T, j->g, cx, b, t);                             \
      T *lr = DENSE_AT(T, j->out, j, 0, b, t), *li = DENSE_AT(T, j->out, j, cx, b, t);             \
      if (t == j->nt - 1) {                                                                        \
        for (int64_t f = f0; f < f1; f++) lr[f] = gr[f], li[f] = gi[f];                            \
      } else if (!cx) {                                                                            \
        const T *an = AT(T, j->a, 0, b, t + 1), *ln = lr + j->nf;                                  \
        for (int64_t f = f0; f < f1; f++) lr[f] = gr[f] + an[f] * ln[f];                           \
      } else {                                                                                     \
        const T *anr = AT(T, j->a, 0, b, t + 1), *ani = AT(T, j->a, 1, b, t + 1);                  \
        const T *lnr = lr + j->nf, *lni = li + j->nf;                                              \
        for (int64_t f = f0; f < f1; f++) {                                                        \
          T r = gr[f] + anr[f] * lnr[f] + ani[f] * lni[f];                                         \
          T i = gi[f] - ani[f] * lnr[f] + anr[f] * lni[f];                                         \
          lr[f] = r, li[f] = i;                                                                    \
        }                                                                                          \
      }                                                                                            \
      if (j->da) {                                                                                 \
        const T *pr = PREV(T, j, 0, b, t), *pi = PREV(T, j, cx, b, t);                             \
        T *dr = DENSE_AT(T, j->da, j, 0, b, t), *di = DENSE_AT(T, j->da, j, cx, b, t);             \
        if (!cx)                                                                                   \
          for (int64_t f = f0; f < f1; f++) dr[f] = lr[f] * pr[f];                                 \
        else                                                                                       \
          for (int64_t f = f0; f < f1; f++) {                                                      \
            T r = pr[f] * lr[f] + pi[f] * li[f], i = pr[f] * li[f] - pi[f] * lr[f];                \
            dr[f] = r, di[f] = i;                                                                  \
          }                                                                                        \
      }                                                                                            \
    }                                                                                              \
    if (!j->dh0) return;                                                                           \
    const T *ar = AT(T, j->a, 0, b, 0), *ai = AT(T, j->a, cx, b, 0);                               \
    const T *lr = DENSE_AT(T, j->out, j, 0, b, 0), *li = DENSE_AT(T, j->out, j, cx, b, 0);         \
    T *dr = (T *)j->dh0 + b * j->nf, *di = (T *)j->dh0 + (cx * j->nb + b) * j->nf;                 \
    for (int64_t f = f0; f < f1; f++) {                                                            \
      T r = cx ? ar[f] * lr[f] + ai[f] * li[f] : ar[f] * lr[f];                                    \
      T i = cx ? ar[f] * li[f] - ai[f] * lr[f] : 0;                                                \
      dr[f] = r;                                                                                   \
      if (cx) di[f] = i;                                                                           \
    }                                                                                              \
  }
TYPES_FLOAT(SCAN_BWD, scan_bwd)

/* the JVP's right-hand side: tb_t + ta_t h_{t-1} (complex product when planes == 2) */
#define SCAN_RHS(D, T, name)                                                                       \
  static void name##_##D(const scan_job *j, int64_t b, int64_t f0, int64_t f1) {                   \
    bool cx = j->planes == 2;                                                                      \
    for (int64_t t = 0; t < j->nt; t++) {                                                          \
      T *rr = DENSE_AT(T, j->out, j, 0, b, t), *ri = DENSE_AT(T, j->out, j, cx, b, t);             \
      for (int64_t f = f0; f < f1; f++) rr[f] = ri[f] = 0;                                         \
      if (j->tb) {                                                                                 \
        const T *br = AT(T, *j->tb, 0, b, t), *bi = AT(T, *j->tb, cx, b, t);                       \
        for (int64_t f = f0; f < f1; f++) rr[f] = br[f], ri[f] = cx ? bi[f] : br[f];               \
      }                                                                                            \
      if (!j->ta) continue;                                                                        \
      const T *ar = AT(T, *j->ta, 0, b, t), *ai = AT(T, *j->ta, cx, b, t);                         \
      const T *pr = PREV(T, j, 0, b, t), *pi = PREV(T, j, cx, b, t);                               \
      for (int64_t f = f0; f < f1; f++) {                                                          \
        T r = cx ? ar[f] * pr[f] - ai[f] * pi[f] : ar[f] * pr[f];                                  \
        T i = cx ? ar[f] * pi[f] + ai[f] * pr[f] : r;                                              \
        rr[f] += r;                                                                                \
        if (cx) ri[f] += i;                                                                        \
      }                                                                                            \
    }                                                                                              \
  }
TYPES_FLOAT(SCAN_RHS, scan_rhs)

typedef void scan_kern(const scan_job *j, int64_t b, int64_t f0, int64_t f1);
#define KERN_SLOT(D, T, name) [NN_##D] = name##_##D,
static scan_kern *const fwd_kern[NN_NDTYPES] = {TYPES_FLOAT(KERN_SLOT, scan_fwd)};
static scan_kern *const bwd_kern[NN_NDTYPES] = {TYPES_FLOAT(KERN_SLOT, scan_bwd)};
static scan_kern *const rhs_kern[NN_NDTYPES] = {TYPES_FLOAT(KERN_SLOT, scan_rhs)};

static void run_pieces(int64_t lo, int64_t hi, void *ctx) {
  const scan_job *j = ctx;
  int64_t nchunks = (j->nf + j->chunk - 1) / j->chunk;
  for (int64_t u = lo; u < hi; u++) {
    int64_t b = u / nchunks, f0 = (u % nchunks) * j->chunk;
    j->kern(j, b, f0, f0 + j->chunk < j->nf ? f0 + j->chunk : j->nf);
  }
}

/* Runs kern over every (batch, feature chunk) piece, on the pool when the work is large. */
static void run(scan_job *j, scan_kern *kern) {
  j->kern = kern;
  j->chunk = j->nf < 256 ? (j->nf > 0 ? j->nf : 1) : 256;
  int64_t nchunks = (j->nf + j->chunk - 1) / j->chunk, per = j->nt * j->chunk * j->planes;
  int64_t grain = per >= 32768 ? 1 : 32768 / (per > 0 ? per : 1);
  nn_parallel(j->nb * nchunks, grain, run_pieces, j);
}

/* ======== shapes and operands ======== */

/* planes: 1 for the real scan (a (B,T,F), h0 (B,F)), 2 for the complex one (a leading 2) */
static int check_inputs(int planes, nn_tensor *a, nn_tensor *b, nn_tensor *h0) {
  int nd = planes == 1 ? 3 : 4;
  const char *layout = planes == 1 ? "(batch, time, features)" : "(2, batch, time, features)";
  if (!nn_dtype_is_float(a->dtype))
    return nn_errc("a must be f32 or f64, not %s", nn_dtype_name(a->dtype));
  if (a->ndim != nd || (planes == 2 && a->shape[0] != 2))
    return nn_errc("a must be %s, not of shape %s", layout, nn_shape_str(a));
  if (!nn_same_shape(a, b))
    return nn_errc("a and b differ in shape (a %s, b %s)", nn_shape_str(a), nn_shape_str(b));
  if (b->dtype != a->dtype || h0->dtype != a->dtype)
    return nn_errc("a, b and h0 must have one dtype (a %s, b %s, h0 %s)", nn_dtype_name(a->dtype),
                   nn_dtype_name(b->dtype), nn_dtype_name(h0->dtype));
  const int64_t *s = a->shape + nd - 3;
  if (s[1] == 0) return nn_errc("the sequence has length 0 (a %s)", nn_shape_str(a));
  bool h0ok = h0->ndim == nd - 1 && h0->shape[nd - 3] == s[0] && h0->shape[nd - 2] == s[2] &&
              (planes == 1 || h0->shape[0] == 2);
  if (!h0ok)
    return nn_errc("h0 has shape %s but a %s needs %s", nn_shape_str(h0), nn_shape_str(a),
                   planes == 1 ? nn_dims_str(2, (int64_t[]){s[0], s[2]})
                               : nn_dims_str(3, (int64_t[]){2, s[0], s[2]}));
  return 0;
}

/* t itself, or a contiguous copy when its features are not unit stride (a new reference) */
static nn_tensor *unit_stride(nn_tensor *t) {
  if (t->shape[t->ndim - 1] <= 1 || t->stride[t->ndim - 1] == 1) return nn_retain(t);
  return nn_contiguous(t);
}

/* the operand of t (planes x (B, T, F) or planes x (B, F) when it has no time dim) */
static operand operand_of(const nn_tensor *t, int planes, bool timed) {
  int d = planes == 2; /* the batch dim */
  operand o = {nn_data(t), planes == 2 ? t->stride[0] : 0, t->stride[d], 0};
  if (timed) o.st = t->stride[d + 1];
  return o;
}

static scan_job job_of(int planes, const nn_tensor *a, const nn_tensor *h0) {
  const int64_t *s = a->shape + (planes == 2);
  return (scan_job){.planes = planes,
                    .nb = s[0],
                    .nt = s[1],
                    .nf = s[2],
                    .a = operand_of(a, planes, true),
                    .h0 = operand_of(h0, planes, false)};
}

static int planes_of(const nn_op *op);

/* the scan of a over b from h0, into a new dense tensor */
static nn_tensor *scan(int planes, nn_tensor *a0, nn_tensor *b0, nn_tensor *h00) {
  if (check_inputs(planes, a0, b0, h00) < 0) return NULL;
  nn_tensor *a = unit_stride(a0), *b = unit_stride(b0), *h0 = unit_stride(h00), *h = NULL;
  if (a && b && h0 && (h = nn_empty(a->dtype, a->ndim, a->shape))) {
    scan_job j = job_of(planes, a, h0);
    j.b = operand_of(b, planes, true), j.out = nn_data(h);
    run(&j, fwd_kern[a->dtype]);
  }
  nn_release(a), nn_release(b), nn_release(h0);
  return h;
}

static nn_tensor *scan_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                               nn_tensor *out) {
  (void)a, (void)out;
  return scan(planes_of(op), in[0], in[1], in[2]);
}

/* ======== derivatives ======== */

static int scan_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  int planes = planes_of(c->op);
  nn_tensor *a = unit_stride(c->in[0]), *h0 = unit_stride(c->in[2]), *h = c->out;
  nn_tensor *g = nn_to(gout, h->dtype), *gc = g ? nn_contiguous(g) : NULL;
  nn_tensor *lam = gc ? nn_empty(h->dtype, h->ndim, h->shape) : NULL, *da = NULL, *dh0 = NULL;
  bool ok = a && h0 && lam;
  if (ok && need[0]) ok = (da = nn_empty(h->dtype, h->ndim, h->shape)) != NULL;
  if (ok && need[2]) ok = (dh0 = nn_empty(h->dtype, h0->ndim, h0->shape)) != NULL;
  if (ok) {
    scan_job j = job_of(planes, a, h0);
    j.g = operand_of(gc, planes, true), j.h = operand_of(h, planes, true);
    j.out = nn_data(lam), j.da = da ? nn_data(da) : NULL, j.dh0 = dh0 ? nn_data(dh0) : NULL;
    run(&j, bwd_kern[h->dtype]);
    gin[0] = da, gin[2] = dh0;
    if (need[1]) gin[1] = nn_retain(lam);
  } else {
    nn_release(da), nn_release(dh0);
  }
  nn_release(a), nn_release(h0), nn_release(g), nn_release(gc), nn_release(lam);
  return ok ? 0 : -1;
}

/* the tangent: the scan of a over tb + ta h_{t-1}, from th0 (zeros without one) */
static nn_tensor *scan_jvp(const nn_ctx *c, nn_tensor *const *t) {
  int planes = planes_of(c->op);
  nn_tensor *h = c->out, *a = c->in[0];
  nn_tensor *ta = t[0] ? unit_stride(t[0]) : NULL, *tb = t[1] ? unit_stride(t[1]) : NULL;
  nn_tensor *h0 = unit_stride(c->in[2]), *rhs = nn_empty(h->dtype, h->ndim, h->shape);
  nn_tensor *th0 = t[2] ? nn_retain(t[2]) : nn_zeros(h->dtype, h0 ? h0->ndim : 0, c->in[2]->shape);
  nn_tensor *r = NULL;
  if (h0 && rhs && th0 && (!t[0] || ta) && (!t[1] || tb)) {
    scan_job j = job_of(planes, a, h0);
    operand ota = ta ? operand_of(ta, planes, true) : (operand){0};
    operand otb = tb ? operand_of(tb, planes, true) : (operand){0};
    j.h = operand_of(h, planes, true), j.out = nn_data(rhs);
    j.ta = ta ? &ota : NULL, j.tb = tb ? &otb : NULL;
    run(&j, rhs_kern[h->dtype]);
    r = scan(planes, a, rhs, th0);
  }
  nn_release(ta), nn_release(tb), nn_release(h0), nn_release(rhs), nn_release(th0);
  return r;
}

const nn_op nn_op_linear_scan = {.name = "linear_scan",
                                 .nin = 3,
                                 .forward = scan_forward,
                                 .vjp = scan_vjp,
                                 .jvp = scan_jvp,
                                 .save_out = true};
const nn_op nn_op_linear_scan_complex = {.name = "linear_scan_complex",
                                         .nin = 3,
                                         .forward = scan_forward,
                                         .vjp = scan_vjp,
                                         .jvp = scan_jvp,
                                         .save_out = true};

static int planes_of(const nn_op *op) {
  return op == &nn_op_linear_scan_complex ? 2 : 1;
}

/* h0 NULL: zeros of the right shape (a's dtype), made here so that the op always has three */
static nn_tensor *scan_call(const nn_op *op, nn_tensor *a, nn_tensor *b, nn_tensor *h0) {
  nn_tensor *zero = NULL;
  if (!h0) {
    int planes = planes_of(op), nd = planes == 1 ? 3 : 4;
    if (a->ndim != nd) { /* check_inputs names what is wrong */
      check_inputs(planes, a, b, a);
      return NULL;
    }
    int64_t shape[3] = {a->shape[0], a->shape[1], a->shape[2]};
    if (planes == 1)
      shape[1] = a->shape[2];
    else
      shape[2] = a->shape[3];
    h0 = zero = nn_zeros(nn_dtype_is_float(a->dtype) ? a->dtype : NN_F32, nd - 1, shape);
    if (!zero) return NULL;
  }
  nn_tensor *h = nn_call(op, (nn_tensor *[]){a, b, h0}, NULL);
  nn_release(zero);
  return h;
}

nn_tensor *nn_linear_scan(nn_tensor *a, nn_tensor *b, nn_tensor *h0) {
  return scan_call(&nn_op_linear_scan, a, b, h0);
}

nn_tensor *nn_linear_scan_complex(nn_tensor *a, nn_tensor *b, nn_tensor *h0) {
  return scan_call(&nn_op_linear_scan_complex, a, b, h0);
}

/* ======== minGRU: the scan with its gates fused in ========

   p (batch, time, 2 hidden) holds the gate pre-activations k (first half) and the candidates c
   (second half) of every step: z = sigmoid(k), h_t = (1 - z) h_{t-1} + z c, the ops of
   nn.MinGRU's step, in the same order. The backward recomputes z on its way back: lam_t =
   g_t + (1 - z_{t+1}) lam_{t+1}, dc = lam z, dk = lam (c - h_{t-1}) z (1 - z), dh0 = (1 - z_1)
   lam_1; the JVP is th_t = (1 - z) th_{t-1} + z (1 - z) tk (c - h_{t-1}) + z tc. In the job,
   a is k, b is c (the same strides, hidden elements on), out is h (forward), dp (backward),
   th (JVP); ta and tb are tk and tc, g the initial tangent th0. */

#define MINGRU_FWD(D, T, name)                                                                     \
  static void name##_##D(const scan_job *j, int64_t b, int64_t f0, int64_t f1) {                   \
    const T *hp = AT(T, j->h0, 0, b, 0);                                                           \
    for (int64_t t = 0; t < j->nt; t++) {                                                          \
      const T *k = AT(T, j->a, 0, b, t), *c = AT(T, j->b, 0, b, t);                                \
      T *h = DENSE_AT(T, j->out, j, 0, b, t);                                                      \
      for (int64_t f = f0; f < f1; f++) {                                                          \
        T z = NN_SIGMOID(k[f]);                                                                    \
        h[f] = (1 - z) * hp[f] + z * c[f];                                                         \
      }                                                                                            \
      hp = h;                                                                                      \
    }                                                                                              \
  }
TYPES_FLOAT(MINGRU_FWD, mingru_fwd)

enum { MAX_CHUNK = 256 };

/* dp (batch, time, 2 hidden, dense) and dh0; lam and 1 - z of the next step in lam[], an[] */
#define MINGRU_BWD(D, T, name)                                                                     \
  static void name##_##D(const scan_job *j, int64_t b, int64_t f0, int64_t f1) {                   \
    T lam[MAX_CHUNK], an[MAX_CHUNK];                                                               \
    int64_t n = f1 - f0, H = j->nf;                                                                \
    for (int64_t f = 0; f < n; f++) lam[f] = 0, an[f] = 0;                                         \
    for (int64_t t = j->nt - 1; t >= 0; t--) {                                                     \
      const T *k = AT(T, j->a, 0, b, t) + f0, *c = AT(T, j->b, 0, b, t) + f0;                      \
      const T *g = AT(T, j->g, 0, b, t) + f0, *hp = PREV(T, j, 0, b, t) + f0;                      \
      T *dk = (T *)j->out + (b * j->nt + t) * 2 * H + f0, *dc = dk + H;                            \
      for (int64_t f = 0; f < n; f++) {                                                            \
        T z = NN_SIGMOID(k[f]), l = g[f] + an[f] * lam[f];                                         \
        dc[f] = l * z;                                                                             \
        dk[f] = l * (c[f] - hp[f]) * z * (1 - z);                                                  \
        lam[f] = l, an[f] = 1 - z;                                                                 \
      }                                                                                            \
    }                                                                                              \
    if (!j->dh0) return;                                                                           \
    T *d = (T *)j->dh0 + b * H + f0;                                                               \
    for (int64_t f = 0; f < n; f++) d[f] = an[f] * lam[f];                                         \
  }
TYPES_FLOAT(MINGRU_BWD, mingru_bwd)

#define MINGRU_JVP(D, T, name)                                                                     \
  static void name##_##D(const scan_job *j, int64_t b, int64_t f0, int64_t f1) {                   \
    const T *thp = AT(T, j->g, 0, b, 0);                                                           \
    for (int64_t t = 0; t < j->nt; t++) {                                                          \
      const T *k = AT(T, j->a, 0, b, t), *c = AT(T, j->b, 0, b, t), *hp = PREV(T, j, 0, b, t);     \
      const T *tk = AT(T, *j->ta, 0, b, t), *tc = AT(T, *j->tb, 0, b, t);                          \
      T *th = DENSE_AT(T, j->out, j, 0, b, t);                                                     \
      for (int64_t f = f0; f < f1; f++) {                                                          \
        T z = NN_SIGMOID(k[f]);                                                                    \
        th[f] = (1 - z) * thp[f] + z * (1 - z) * tk[f] * (c[f] - hp[f]) + z * tc[f];               \
      }                                                                                            \
      thp = th;                                                                                    \
    }                                                                                              \
  }
TYPES_FLOAT(MINGRU_JVP, mingru_jvp)

static scan_kern *const mingru_fwd_kern[NN_NDTYPES] = {TYPES_FLOAT(KERN_SLOT, mingru_fwd)};
static scan_kern *const mingru_bwd_kern[NN_NDTYPES] = {TYPES_FLOAT(KERN_SLOT, mingru_bwd)};
static scan_kern *const mingru_jvp_kern[NN_NDTYPES] = {TYPES_FLOAT(KERN_SLOT, mingru_jvp)};

/* h0 NULL: p alone */
static int check_mingru(const nn_tensor *p, const nn_tensor *h0) {
  if (!nn_dtype_is_float(p->dtype))
    return nn_errc("p must be f32 or f64, not %s", nn_dtype_name(p->dtype));
  if (p->ndim != 3 || p->shape[2] % 2 != 0)
    return nn_errc("p must be (batch, time, 2 hidden), not of shape %s", nn_shape_str(p));
  if (p->shape[1] == 0) return nn_errc("the sequence has length 0 (p %s)", nn_shape_str(p));
  int64_t want[2] = {p->shape[0], p->shape[2] / 2};
  if (h0 && (h0->dtype != p->dtype || h0->ndim != 2 || h0->shape[0] != want[0] ||
             h0->shape[1] != want[1]))
    return nn_errc("h0 is %s %s but p %s needs %s %s", nn_dtype_name(h0->dtype), nn_shape_str(h0),
                   nn_shape_str(p), nn_dtype_name(p->dtype), nn_dims_str(2, want));
  return 0;
}

/* the job over p's halves (k in a, c in b) and h0; p and h0 already unit stride */
static scan_job mingru_job(const nn_tensor *p, const nn_tensor *h0) {
  int64_t H = p->shape[2] / 2;
  scan_job j = {.planes = 1,
                .nb = p->shape[0],
                .nt = p->shape[1],
                .nf = H,
                .a = operand_of(p, 1, true),
                .h0 = operand_of(h0, 1, false)};
  j.b = j.a;
  j.b.p += H * (int64_t)nn_dtype_size(p->dtype);
  return j;
}

static nn_tensor *mingru_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                                 nn_tensor *out) {
  (void)op, (void)a, (void)out;
  if (check_mingru(in[0], in[1]) < 0) return NULL;
  nn_tensor *p = unit_stride(in[0]), *h0 = unit_stride(in[1]), *h = NULL;
  int64_t shape[3] = {in[0]->shape[0], in[0]->shape[1], in[0]->shape[2] / 2};
  if (p && h0 && (h = nn_empty(p->dtype, 3, shape))) {
    scan_job j = mingru_job(p, h0);
    j.out = nn_data(h);
    run(&j, mingru_fwd_kern[p->dtype]);
  }
  nn_release(p), nn_release(h0);
  return h;
}

static int mingru_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  nn_tensor *p = unit_stride(c->in[0]), *h0 = unit_stride(c->in[1]), *h = c->out;
  nn_tensor *g = nn_to(gout, h->dtype), *gc = g ? nn_contiguous(g) : NULL, *dh0 = NULL;
  nn_tensor *dp = p && h0 && gc ? nn_empty(p->dtype, 3, p->shape) : NULL;
  bool ok = dp && (!need[1] || (dh0 = nn_empty(h->dtype, 2, h0->shape)));
  if (ok) {
    scan_job j = mingru_job(p, h0);
    j.g = operand_of(gc, 1, true), j.h = operand_of(h, 1, true);
    j.out = nn_data(dp), j.dh0 = dh0 ? nn_data(dh0) : NULL;
    run(&j, mingru_bwd_kern[p->dtype]);
    if (need[0]) gin[0] = nn_retain(dp);
    gin[1] = dh0;
  } else {
    nn_release(dh0);
  }
  nn_release(p), nn_release(h0), nn_release(g), nn_release(gc), nn_release(dp);
  return ok ? 0 : -1;
}

static nn_tensor *mingru_jvp(const nn_ctx *c, nn_tensor *const *t) {
  nn_tensor *h = c->out, *p = unit_stride(c->in[0]), *h0 = unit_stride(c->in[1]);
  nn_tensor *tp = t[0] ? unit_stride(t[0]) : nn_zeros(h->dtype, 3, c->in[0]->shape);
  nn_tensor *th0 = t[1] ? unit_stride(t[1]) : nn_zeros(h->dtype, 2, c->in[1]->shape);
  nn_tensor *th = p && h0 && tp && th0 ? nn_empty(h->dtype, 3, h->shape) : NULL;
  if (th) {
    scan_job j = mingru_job(p, h0), tj = mingru_job(tp, th0);
    j.h = operand_of(h, 1, true), j.g = tj.h0, j.out = nn_data(th);
    j.ta = &tj.a, j.tb = &tj.b;
    run(&j, mingru_jvp_kern[h->dtype]);
  }
  nn_release(p), nn_release(h0), nn_release(tp), nn_release(th0);
  return th;
}

const nn_op nn_op_mingru_scan = {.name = "mingru_scan",
                                 .nin = 2,
                                 .forward = mingru_forward,
                                 .vjp = mingru_vjp,
                                 .jvp = mingru_jvp,
                                 .save_out = true};

nn_tensor *nn_mingru_scan(nn_tensor *p, nn_tensor *h0) {
  nn_tensor *zero = NULL;
  if (!h0) {
    if (check_mingru(p, NULL) < 0) return NULL;
    int64_t shape[2] = {p->shape[0], p->shape[2] / 2};
    if (!(h0 = zero = nn_zeros(p->dtype, 2, shape))) return NULL;
  }
  nn_tensor *h = nn_call(&nn_op_mingru_scan, (nn_tensor *[]){p, h0}, NULL);
  nn_release(zero);
  return h;
}
