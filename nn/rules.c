/*
** nn/rules.c: fused local updates of the learning rules (see rules.h). The matrix products
** go to BLAS; the element loops are in rules_body.h, compiled once per float dtype.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/error.h"
#include "nn/ops/blas.h"
#include "nn/rules.h"

typedef struct rules_vt {
  void (*rms_rows)(const void *x, void *y, int64_t m, int64_t n);
  void (*bias_act)(void *y, const void *b, int64_t m, int64_t n, int act);
  void (*apply)(const void *x, void *y, int64_t cnt, int act);
  double (*ff_loss)(const void *y, void *g, const void *off, void *d, int64_t m, int64_t n,
                    const nn_ff_opts *o);
  void (*col_sum)(const void *d, void *b, int64_t m, int64_t n, double scale);
  void (*sub)(void *e, const void *h, const void *mu, int64_t cnt);
  double (*pc_top)(const void *mu, const void *target, void *u, int64_t m, int64_t n, int loss);
  void (*pc_update)(void *h, void *fh, const void *e, const void *bk, int64_t cnt, double gamma,
                    int act);
  void (*scale)(void *x, int64_t cnt, double s);
  double (*power)(const void *w, int64_t m, int64_t n, double *u, double *v, int iters);
} rules_vt;

#define T       float
#define NAME(x) x##_f32
#include "nn/rules_body.h"
#undef T
#undef NAME
#define T       double
#define NAME(x) x##_f64
#include "nn/rules_body.h"
#undef T
#undef NAME

static const rules_vt *vt_of(nn_dtype dt) {
  return dt == NN_F32 ? &vt_f32 : &vt_f64;
}

/* ---- checks ---- */

/* t is a contiguous tensor of dtype dt with the given dims (-1: any size) */
static int check(const char *what, const nn_tensor *t, nn_dtype dt, int ndim, int64_t d0,
                 int64_t d1) {
  if (!t) return nn_errc("%s is missing", what);
  if (!nn_is_contiguous(t)) return nn_errc("%s must be contiguous", what);
  if (t->dtype != dt)
    return nn_errc("%s is %s, expected %s", what, nn_dtype_name(t->dtype), nn_dtype_name(dt));
  int64_t want[2] = {d0, d1};
  bool ok = t->ndim == ndim;
  for (int k = 0; ok && k < ndim; k++) ok = want[k] < 0 || t->shape[k] == want[k];
  if (!ok) {
    char buf[64];
    snprintf(buf, sizeof buf, ndim == 1 ? "{%lld}" : "{%lld,%lld}", (long long)d0, (long long)d1);
    return nn_errc("%s has shape %s, expected %s", what, nn_shape_str(t), buf);
  }
  return 0;
}

static int check_float(const char *what, const nn_tensor *t) {
  if (!t) return nn_errc("%s is missing", what);
  if (!nn_dtype_is_float(t->dtype))
    return nn_errc("%s must be f32 or f64, not %s", what, nn_dtype_name(t->dtype));
  return 0;
}

/* y (m x n) = x (m x k) w^T, w (n x k) */
static void gemm_xwt(nn_dtype dt, const void *x, const void *w, void *y, int64_t m, int64_t n,
                     int64_t k) {
  blas_gemm(dt, false, true, (int)m, (int)n, (int)k, x, (int)k, w, (int)k, 0, y);
}

/* ---- forward-forward ---- */

static int ff_check(const nn_tensor *x, const nn_tensor *w, const nn_tensor *b,
                    const nn_tensor *off, const nn_tensor *y, const nn_tensor *g,
                    const nn_tensor *dw, const nn_tensor *db) {
  if (check_float("weight", w) < 0) return -1;
  if (w->ndim != 2) return nn_errc("weight must be 2-D, not %s", nn_shape_str(w));
  int64_t out = w->shape[0], in = w->shape[1];
  nn_dtype dt = w->dtype;
  if (check("weight", w, dt, 2, -1, -1) < 0 || check("x", x, dt, 2, -1, in) < 0) return -1;
  int64_t m = x->shape[0];
  if (b && check("bias", b, dt, 1, out, 0) < 0) return -1;
  if (off && check("offset", off, dt, 1, m, 0) < 0) return -1;
  if (check("y", y, dt, 2, m, out) < 0 || check("goodness", g, dt, 1, m, 0) < 0) return -1;
  if (dw && check("weight gradient", dw, dt, 2, out, in) < 0) return -1;
  if (dw && b && check("bias gradient", db, dt, 1, out, 0) < 0) return -1;
  if (m < 1 || in < 1 || out < 1)
    return nn_errc("empty input %s or weight %s", nn_shape_str(x), nn_shape_str(w));
  return 0;
}

int nn_ff_layer(const nn_tensor *x, const nn_tensor *w, const nn_tensor *b, const nn_tensor *off,
                const nn_ff_opts *o, nn_tensor *y, nn_tensor *g, nn_tensor *dw, nn_tensor *db,
                double *loss) {
  if (ff_check(x, w, b, off, y, g, dw, db) < 0) return -1;
  int64_t m = x->shape[0], in = w->shape[1], out = w->shape[0];
  nn_dtype dt = w->dtype;
  const rules_vt *vt = vt_of(dt);
  size_t es = nn_dtype_size(dt);
  void *xn = malloc((size_t)(m * in) * es), *d = dw ? malloc((size_t)(m * out) * es) : NULL;
  if (!xn || (dw && !d)) {
    free(xn), free(d);
    return nn_errc("out of memory");
  }
  vt->rms_rows(nn_data(x), xn, m, in);
  gemm_xwt(dt, xn, nn_data(w), nn_data(y), m, out, in);
  vt->bias_act(nn_data(y), b ? nn_data(b) : NULL, m, out, NN_ACT_RELU);
  *loss = vt->ff_loss(nn_data(y), nn_data(g), off ? nn_data(off) : NULL, d, m, out, o);
  if (dw) {
    blas_gemm(dt, true, false, (int)out, (int)in, (int)m, d, (int)out, xn, (int)in, 0, nn_data(dw));
    if (b) vt->col_sum(d, nn_data(db), m, out, 1);
  }
  free(xn), free(d);
  return 0;
}

/* ---- predictive coding ---- */

enum { PC_MAX_LAYERS = 64 };

/* The batch's state: per layer l (0-based) of width s[l], its prediction mu, its error u and,
   for hidden layers, its value h, f(h) and the error sent back from above, bk. */
typedef struct pc_state {
  const rules_vt *vt;
  nn_dtype dt;
  int nl, act;
  int64_t m, n0, s[PC_MAX_LAYERS];
  const void *x, *w[PC_MAX_LAYERS], *b[PC_MAX_LAYERS];
  void *mu[PC_MAX_LAYERS], *u[PC_MAX_LAYERS], *h[PC_MAX_LAYERS], *fh[PC_MAX_LAYERS];
  void *bk[PC_MAX_LAYERS];
} pc_state;

static const void *pc_in(const pc_state *st, int l) {
  return l == 0 ? st->x : st->fh[l - 1];
}
static int64_t pc_nin(const pc_state *st, int l) {
  return l == 0 ? st->n0 : st->s[l - 1];
}

static void pc_predict(pc_state *st, int l) {
  gemm_xwt(st->dt, pc_in(st, l), st->w[l], st->mu[l], st->m, st->s[l], pc_nin(st, l));
  st->vt->bias_act(st->mu[l], st->b[l], st->m, st->s[l], NN_ACT_IDENTITY);
}

static double pc_errors(pc_state *st, const void *target, int loss) {
  int top = st->nl - 1;
  for (int l = 0; l < top; l++) st->vt->sub(st->u[l], st->h[l], st->mu[l], st->m * st->s[l]);
  return st->vt->pc_top(st->mu[top], target, st->u[top], st->m, st->s[top], loss);
}

/* bk[l] (m x s[l]) = u[l+1] (m x s[l+1]) W[l+1] (s[l+1] x s[l]) */
static void pc_back(pc_state *st, int l) {
  blas_gemm(st->dt, false, false, (int)st->m, (int)st->s[l], (int)st->s[l + 1], st->u[l + 1],
            (int)st->s[l + 1], st->w[l + 1], (int)st->s[l], 0, st->bk[l]);
}

static int pc_check(nn_tensor *const *w, nn_tensor *const *b, const nn_tensor *x,
                    const nn_tensor *target, const nn_pc_opts *o, nn_tensor *const *dw,
                    nn_tensor *const *db) {
  if (o->nlayers < 1 || o->nlayers > PC_MAX_LAYERS)
    return nn_errc("%d layers (1 to %d)", o->nlayers, PC_MAX_LAYERS);
  if (o->iters < 0) return nn_errc("iters must be >= 0, not %d", o->iters);
  if (check_float("x", x) < 0 || check("x", x, x->dtype, 2, -1, -1) < 0) return -1;
  nn_dtype dt = x->dtype;
  int64_t m = x->shape[0], nin = x->shape[1];
  char what[48];
  for (int l = 0; l < o->nlayers; l++) {
    snprintf(what, sizeof what, "weight %d", l + 1);
    if (check(what, w[l], dt, 2, -1, nin) < 0) return -1;
    int64_t nout = w[l]->shape[0];
    snprintf(what, sizeof what, "weight gradient %d", l + 1);
    if (check(what, dw[l], dt, 2, nout, nin) < 0) return -1;
    snprintf(what, sizeof what, "bias %d", l + 1);
    if (b[l] && check(what, b[l], dt, 1, nout, 0) < 0) return -1;
    snprintf(what, sizeof what, "bias gradient %d", l + 1);
    if (b[l] && check(what, db[l], dt, 1, nout, 0) < 0) return -1;
    if (l < o->nlayers - 1 && !(o->gamma[l] >= 0))
      return nn_errc("inference step %d must be >= 0, not %g", l + 1, o->gamma[l]);
    nin = nout;
  }
  if (m < 1 || nin < 1) return nn_errc("empty batch %s", nn_shape_str(x));
  if (o->loss == NN_PC_MSE) return check("target", target, dt, 2, m, nin);
  if (check("target", target, NN_I64, 1, m, 0) < 0) return -1;
  const int64_t *c = (const int64_t *)nn_data(target);
  for (int64_t i = 0; i < m; i++)
    if (c[i] < 1 || c[i] > nin)
      return nn_errc("target %lld is out of range 1..%lld (row %lld)", (long long)c[i],
                     (long long)nin, (long long)i + 1);
  return 0;
}

/* Allocates the buffers (one block); NULL when out of memory */
static void *pc_alloc(pc_state *st) {
  size_t es = nn_dtype_size(st->dt), total = 0;
  for (int l = 0; l < st->nl; l++) total += (size_t)(st->m * st->s[l]) * (l < st->nl - 1 ? 5 : 2);
  char *block = malloc(total * es), *p = block;
  if (!block) return NULL;
  for (int l = 0; l < st->nl; l++) {
    size_t sz = (size_t)(st->m * st->s[l]) * es;
    st->mu[l] = p, p += sz;
    st->u[l] = p, p += sz;
    if (l == st->nl - 1) break;
    st->h[l] = p, p += sz;
    st->fh[l] = p, p += sz;
    st->bk[l] = p, p += sz;
  }
  return block;
}

int nn_pc_step(nn_tensor *const *w, nn_tensor *const *b, const nn_tensor *x,
               const nn_tensor *target, const nn_pc_opts *o, nn_tensor *const *dw,
               nn_tensor *const *db, double *loss) {
  if (pc_check(w, b, x, target, o, dw, db) < 0) return -1;
  pc_state st = {.vt = vt_of(x->dtype),
                 .dt = x->dtype,
                 .nl = o->nlayers,
                 .act = o->act,
                 .m = x->shape[0],
                 .n0 = x->shape[1],
                 .x = nn_data(x)};
  for (int l = 0; l < st.nl; l++) {
    st.s[l] = w[l]->shape[0], st.w[l] = nn_data(w[l]);
    st.b[l] = b[l] ? nn_data(b[l]) : NULL;
  }
  void *block = pc_alloc(&st);
  if (!block) return nn_errc("out of memory");
  const void *tg = nn_data(target);
  int top = st.nl - 1;
  for (int l = 0; l < st.nl; l++) { /* the feedforward pass */
    pc_predict(&st, l);
    if (l == top) break;
    memcpy(st.h[l], st.mu[l], (size_t)(st.m * st.s[l]) * nn_dtype_size(st.dt));
    st.vt->apply(st.h[l], st.fh[l], st.m * st.s[l], st.act);
  }
  *loss = pc_errors(&st, tg, o->loss);
  for (int it = 0; it < o->iters; it++) {
    for (int l = 0; l < top; l++) pc_back(&st, l);
    for (int l = 0; l < top; l++)
      st.vt->pc_update(st.h[l], st.fh[l], st.u[l], st.bk[l], st.m * st.s[l], o->gamma[l], st.act);
    for (int l = 1; l < st.nl; l++) pc_predict(&st, l);
    pc_errors(&st, tg, o->loss);
  }
  for (int l = 0; l < st.nl; l++) { /* dW = -(1/m) u^T f(h_in), db = -(1/m) sum u */
    st.vt->scale(st.u[l], st.m * st.s[l], -1 / (double)st.m);
    blas_gemm(st.dt, true, false, (int)st.s[l], (int)pc_nin(&st, l), (int)st.m, st.u[l],
              (int)st.s[l], pc_in(&st, l), (int)pc_nin(&st, l), 0, nn_data(dw[l]));
    if (b[l]) st.vt->col_sum(st.u[l], nn_data(db[l]), st.m, st.s[l], 1);
  }
  free(block);
  return 0;
}

/* ---- spectral norm ---- */

double nn_spectral_norm(const nn_tensor *w, nn_tensor *u, int iters) {
  if (check_float("weight", w) < 0 || check("weight", w, w->dtype, 2, -1, -1) < 0) return -1;
  if (check("u", u, NN_F64, 1, w->shape[1], 0) < 0) return -1;
  if (iters < 1) return nn_errc("iters must be >= 1, not %d", iters);
  double *v = malloc((size_t)(w->shape[0] > 0 ? w->shape[0] : 1) * sizeof *v);
  if (!v) return nn_errc("out of memory");
  double s =
      vt_of(w->dtype)->power(nn_data(w), w->shape[0], w->shape[1], (double *)nn_data(u), v, iters);
  free(v);
  return s;
}
