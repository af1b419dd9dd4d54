/*
** nn/ops/loss.c: losses. cross_entropy and nll_loss are one fused op (log-softmax and the
** picked log-probability in a single pass per row; the backward writes softmax - target in
** one pass too, nothing else materialized). bce_with_logits is an elementwise op in its
** stable form, reduced by mean or sum; mse_loss and l1_loss are compositions of public ops.
*/
#include "nn/alloc.h"
#include "nn/ops/pointwise.h"

int nn_reduction_parse(const char *name) {
  static const char *const names[] = {"none", "mean", "sum"};
  for (int k = 0; k < 3; k++)
    if (strcmp(name, names[k]) == 0) return k;
  return -1;
}

/* loss (0-dim or not) reduced as asked: a new reference; loss itself for none */
static nn_tensor *reduce(nn_tensor *loss, nn_reduction r) {
  if (!loss) return NULL;
  nn_tensor *out = r == NN_REDUCE_MEAN  ? nn_mean(loss, -1, false)
                   : r == NN_REDUCE_SUM ? nn_sum(loss, -1, false)
                                        : nn_retain(loss);
  nn_release(loss);
  return out;
}

static int check_reduction(nn_reduction r) {
  if (r == NN_REDUCE_NONE || r == NN_REDUCE_MEAN || r == NN_REDUCE_SUM) return 0;
  return nn_errc("reduction %d is not one of none, mean, sum", (int)r);
}

/* ======== cross_entropy and nll_loss ======== */

/* Row i with target t (0-based, never ignore_index), eps the label smoothing, class weights
   w (all 1 without them, W their sum) over C classes: with log-probabilities lp = x - lse
   (cross_entropy) or lp = x (nll_loss),
     loss_i = -(1 - eps) w[t] lp[t] - (eps / C) sum_c w[c] lp[c]
     d loss_i / d x[c] = p[c] ((1 - eps) w[t] + (eps / C) W) - (1 - eps) w[t] [c == t]
                         - (eps / C) w[c]
   where p is the softmax of x (cross_entropy) or 0 (nll_loss). The mean divides by the sum
   of w[t] over the rows that are not ignored (their count without weights), as PyTorch's.
   The class weights are constants: they get no gradient (as in PyTorch). */
typedef struct pick_job {
  bool softmax;
  int64_t rows, classes, ignore;
  double smoothing, wsum;
  const int64_t *target; /* rows of them, checked */
  const void *x;         /* rows x classes, dense */
  const double *cw;      /* class weights, or NULL for all 1 */
} pick_job;

typedef enum { PICK_LOSS, PICK_GRAD, PICK_TANGENT } pick_mode;

/* PICK_LOSS: res[i] = loss_i. PICK_GRAD: out row i = w[i] d loss_i / dx. PICK_TANGENT:
   res[i] = the derivative of loss_i along the tangent rows t. Ignored rows give zeros. */
#define PICK_ROWS(D, T, name)                                                                      \
  static void name##_##D(const pick_job *j, pick_mode mode, const double *w, const void *tp,       \
                         double *res, void *outp) {                                                \
    int64_t nc = j->classes;                                                                       \
    double off = j->smoothing / (double)nc, on = 1 - j->smoothing;                                 \
    for (int64_t i = 0; i < j->rows; i++) {                                                        \
      const T *x = (const T *)j->x + i * nc;                                                       \
      int64_t t = j->target[i];                                                                    \
      if (t == j->ignore) {                                                                        \
        if (mode == PICK_GRAD)                                                                     \
          memset((T *)outp + i * nc, 0, (size_t)nc * sizeof(T));                                   \
        else                                                                                       \
          res[i] = 0;                                                                              \
        continue;                                                                                  \
      }                                                                                            \
      double lse = 0;                                                                              \
      if (j->softmax) {                                                                            \
        T top = -INFINITY;                                                                         \
        for (int64_t c = 0; c < nc; c++) top = x[c] > top ? x[c] : top;                            \
        double sum = 0;                                                                            \
        for (int64_t c = 0; c < nc; c++) sum += exp(x[c] - top);                                   \
        lse = top + log(sum);                                                                      \
      }                                                                                            \
      const double *cw = j->cw, wt = cw ? cw[t] : 1;                                               \
      if (mode == PICK_LOSS) {                                                                     \
        double all = 0; /* the weighted sum of log-probabilities, for smoothing */                 \
        for (int64_t c = 0; off != 0 && c < nc; c++) all += (cw ? cw[c] : 1) * (x[c] - lse);       \
        res[i] = -on * wt * (x[t] - lse) - off * all;                                              \
        continue;                                                                                  \
      }                                                                                            \
      double pscale = j->softmax ? on * wt + off * j->wsum : 0, dot = 0;                           \
      T *out = mode == PICK_GRAD ? (T *)outp + i * nc : NULL;                                      \
      const T *tx = mode == PICK_TANGENT ? (const T *)tp + i * nc : NULL;                          \
      for (int64_t c = 0; c < nc; c++) {                                                           \
        double d = (pscale != 0 ? exp(x[c] - lse) * pscale : 0) - off * (cw ? cw[c] : 1) -         \
                   (c == t ? on * wt : 0);                                                         \
        if (mode == PICK_GRAD)                                                                     \
          out[c] = (T)(w[i] * d);                                                                  \
        else                                                                                       \
          dot += d * tx[c];                                                                        \
      }                                                                                            \
      if (mode == PICK_TANGENT) res[i] = dot;                                                      \
    }                                                                                              \
  }
#define PICK_SLOT(D, T, name) [NN_##D] = name##_##D,
TYPES_FLOAT(PICK_ROWS, pick_rows)
typedef void pick_fn(const pick_job *, pick_mode, const double *, const void *, double *, void *);
static pick_fn *const pick_rows[NN_NDTYPES] = {TYPES_FLOAT(PICK_SLOT, pick_rows)};

/* What a call of cross_entropy or nll_loss works on: its inputs checked and made dense. */
typedef struct pick_call {
  pick_job job;
  nn_reduction reduction;
  double counted;     /* the mean's divisor: the weight (count) of the rows not ignored */
  nn_tensor *xc, *tc; /* dense logits, i64 targets (owned) */
  double *buf;        /* rows doubles, then the class weights */
  size_t bufsize;
} pick_call;

/* what each entry computes: log-softmax first (cross_entropy) or not (nll_loss) */
static const bool LOG_SOFTMAX = true, LOG_PROBS = false;

static void pick_done(pick_call *p) {
  nn_release(p->xc), nn_release(p->tc);
  if (p->buf) nn_free(p->buf, p->bufsize);
}

/* The optional third input: a float vector of one weight per class, copied to doubles. */
static int class_weights(pick_call *p, int nin, nn_tensor *const *in) {
  pick_job *j = &p->job;
  j->wsum = (double)j->classes;
  if (nin < 3) return 0;
  const nn_tensor *cw = in[2];
  if (!nn_dtype_is_float(cw->dtype) || cw->ndim != 1 || cw->shape[0] != j->classes)
    return nn_errc("weight must be a float vector of one weight per class (%lld), not %s %s",
                   (long long)j->classes, nn_dtype_name(cw->dtype), nn_shape_str(cw));
  double *w = p->buf + j->rows + 1;
  j->wsum = 0;
  for (int64_t c = 0; c < j->classes; c++) {
    int64_t at[1] = {c};
    w[c] = nn_load(nn_at(cw, at), cw->dtype);
    j->wsum += w[c];
  }
  j->cw = w;
  return 0;
}

static int check_pick(const nn_tensor *x, const nn_tensor *t, int nin, const nn_attr *a) {
  if (nin != 2 && nin != 3)
    return nn_errc("expected input, target [, weight], got %d tensors", nin);
  if (!nn_dtype_is_float(x->dtype))
    return nn_errc("input must be f32 or f64, not %s", nn_dtype_name(x->dtype));
  if (t->dtype != NN_I64 && t->dtype != NN_U8)
    return nn_errc("target must hold class indices (i64), not %s", nn_dtype_name(t->dtype));
  if (x->ndim != 1 && x->ndim != 2)
    return nn_errc("input must be (batch, classes) or (classes), not of shape %s", nn_shape_str(x));
  if (t->ndim != x->ndim - 1 || (x->ndim == 2 && t->shape[0] != x->shape[0]))
    return nn_errc("target of shape %s does not match input %s (one class per row)",
                   nn_shape_str(t), nn_shape_str(x));
  if (check_reduction((nn_reduction)a->i[0]) < 0) return -1;
  if (!(a->f[0] >= 0 && a->f[0] <= 1))
    return nn_errc("label_smoothing must be in [0, 1], not %g", a->f[0]);
  return 0;
}

/* Checks every target before any row is read; weighs (counts) the rows not ignored. */
static int check_targets(pick_call *p) {
  const pick_job *j = &p->job;
  p->counted = 0;
  for (int64_t i = 0; i < j->rows; i++) {
    int64_t t = j->target[i];
    if (t == j->ignore) continue;
    if (t < 0 || t >= j->classes)
      return nn_errc("target %lld is out of range for %lld classes", nn_one_based(t),
                     (long long)j->classes);
    p->counted += j->cw ? j->cw[t] : 1;
  }
  return 0;
}

static int pick_begin(pick_call *p, const nn_op *op, int nin, nn_tensor *const *in,
                      const nn_attr *a) {
  memset(p, 0, sizeof *p);
  nn_tensor *x = in[0], *t = in[1];
  if (check_pick(x, t, nin, a) < 0) return -1;
  pick_job *j = &p->job;
  j->softmax = *(const bool *)op->kern;
  j->classes = x->shape[x->ndim - 1];
  j->rows = x->ndim == 2 ? x->shape[0] : 1;
  j->ignore = a->i[1];
  j->smoothing = a->f[0];
  p->reduction = (nn_reduction)a->i[0];
  nn_tensor *ti = nn_to(t, NN_I64);
  p->tc = ti ? nn_contiguous(ti) : NULL;
  nn_release(ti);
  p->xc = p->tc ? nn_contiguous(x) : NULL;
  p->bufsize = (size_t)(j->rows + 1 + (nin > 2 ? j->classes : 0)) * sizeof(double);
  p->buf = p->xc ? nn_alloc(p->bufsize) : NULL;
  if (!p->buf || class_weights(p, nin, in) < 0) return -1;
  j->target = (const int64_t *)nn_data(p->tc);
  j->x = nn_data(p->xc);
  return check_targets(p);
}

/* per-row values reduced as the call asks, as a tensor of the input's dtype */
static nn_tensor *pick_result(const pick_call *p, const nn_tensor *x) {
  const double *v = p->buf;
  nn_dtype dt = x->dtype;
  if (p->reduction == NN_REDUCE_NONE) {
    nn_tensor *r = nn_empty(dt, x->ndim - 1, x->shape);
    for (int64_t i = 0; r && i < p->job.rows; i++)
      nn_store(nn_data(r) + i * (int64_t)nn_dtype_size(dt), dt, v[i]);
    return r;
  }
  double sum = 0;
  for (int64_t i = 0; i < p->job.rows; i++) sum += v[i];
  return nn_scalar(dt, p->reduction == NN_REDUCE_MEAN ? sum / p->counted : sum);
}

static nn_tensor *pick_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                               nn_tensor *out) {
  (void)out;
  pick_call p;
  nn_tensor *r = NULL;
  if (pick_begin(&p, op, (int)a->i[NN_ATTR_NIN], in, a) == 0) {
    pick_rows[in[0]->dtype](&p.job, PICK_LOSS, NULL, NULL, p.buf, NULL);
    r = pick_result(&p, in[0]);
  }
  pick_done(&p);
  return r;
}

/* the weight of each row's gradient: g (per row or shared), over the count for mean */
static void row_weights(const pick_call *p, const nn_tensor *g, double *w) {
  double scale = p->reduction == NN_REDUCE_MEAN ? 1 / p->counted : 1;
  for (int64_t i = 0; i < p->job.rows; i++) {
    int64_t at[1] = {i};
    double gi = p->reduction == NN_REDUCE_NONE && g->ndim == 1 ? nn_load(nn_at(g, at), g->dtype)
                                                               : nn_load(nn_data(g), g->dtype);
    w[i] = gi * scale;
  }
}

static int pick_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  if (c->nin > 2 && need[2])
    return nn_errc("%s: the class weights get no gradient (detach them)", c->op->name);
  if (!need[0]) return 0;
  pick_call p;
  nn_tensor *x = c->in[0];
  if (pick_begin(&p, c->op, c->nin, c->in, &c->attr) == 0 && (gin[0] = nn_empty_like(x))) {
    row_weights(&p, gout, p.buf);
    pick_rows[x->dtype](&p.job, PICK_GRAD, p.buf, NULL, NULL, nn_data(gin[0]));
  }
  pick_done(&p);
  return gin[0] ? 0 : -1;
}

static nn_tensor *pick_jvp(const nn_ctx *c, nn_tensor *const *t) {
  if (!t[0]) return NULL;
  pick_call p;
  nn_tensor *x = c->in[0], *r = NULL, *ti = nn_to(t[0], x->dtype);
  nn_tensor *tc = ti ? nn_contiguous(ti) : NULL;
  if (tc && pick_begin(&p, c->op, c->nin, c->in, &c->attr) == 0) {
    pick_rows[x->dtype](&p.job, PICK_TANGENT, NULL, nn_data(tc), p.buf, NULL);
    r = pick_result(&p, x);
  }
  if (tc) pick_done(&p);
  nn_release(ti), nn_release(tc);
  return r;
}

/* inputs: x, target and, optionally, the class weights (nin -1: two or three) */
const nn_op nn_op_cross_entropy = {.name = "cross_entropy",
                                   .nin = -1,
                                   .forward = pick_forward,
                                   .vjp = pick_vjp,
                                   .jvp = pick_jvp,
                                   .kern = &LOG_SOFTMAX};
const nn_op nn_op_nll_loss = {.name = "nll_loss",
                              .nin = -1,
                              .forward = pick_forward,
                              .vjp = pick_vjp,
                              .jvp = pick_jvp,
                              .kern = &LOG_PROBS};

nn_tensor *nn_cross_entropy(nn_tensor *logits, nn_tensor *target, nn_tensor *weight, nn_reduction r,
                            double label_smoothing, int64_t ignore_index) {
  nn_attr a = {.i = {r, ignore_index}, .f = {label_smoothing}};
  return nn_calln(&nn_op_cross_entropy, weight ? 3 : 2, (nn_tensor *[]){logits, target, weight},
                  &a);
}

nn_tensor *nn_nll_loss(nn_tensor *logp, nn_tensor *target, nn_tensor *weight, nn_reduction r,
                       int64_t ignore_index) {
  nn_attr a = {.i = {r, ignore_index}};
  return nn_calln(&nn_op_nll_loss, weight ? 3 : 2, (nn_tensor *[]){logp, target, weight}, &a);
}

/* ======== bce_with_logits: elementwise, then reduced ======== */

#define BCE_F(A, T)                                                                                \
  for (int64_t i = 0; i < n; i++) {                                                                \
    T x = A(1, T), y = A(2, T);                                                                    \
    A(0, T) = (x > 0 ? x : 0) - x * y + log1p(exp(-fabs(x)));                                      \
  }
#define BCE_ROW(D, T, ...)                                                                         \
  static void bce_##D(char **p, const int64_t *s, int64_t n, void *ctx) {                          \
    (void)ctx;                                                                                     \
    DISPATCH_ROW(3, sizeof(T), BCE_F, T)                                                           \
  }
TYPES_FLOAT(BCE_ROW, )
#define BCE_SLOT(D, T, ...) [NN_##D] = bce_##D,
static const nn_rowfn bce_rows[NN_NDTYPES] = {TYPES_FLOAT(BCE_SLOT, )};

static nn_tensor *bce_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                              nn_tensor *out) {
  (void)op, (void)a, (void)out;
  nn_tensor *x = in[0], *y = in[1];
  if (!nn_dtype_is_float(x->dtype))
    return nn_err("input must be f32 or f64, not %s", nn_dtype_name(x->dtype));
  if (y->dtype != x->dtype)
    return nn_err("target is %s but the input is %s", nn_dtype_name(y->dtype),
                  nn_dtype_name(x->dtype));
  if (!nn_same_shape(x, y))
    return nn_err("target of shape %s does not match input %s", nn_shape_str(y), nn_shape_str(x));
  nn_tensor *r = nn_empty_like(x);
  nn_iter it;
  if (r && nn_iter_init(&it, 3, (const nn_tensor *[]){r, x, y}) == 0)
    nn_iter_run(&it, bce_rows[x->dtype], NULL);
  return r;
}

/* d/dx = sigmoid(x) - y, d/dy = -x */
static nn_tensor *bce_partial(const nn_ctx *c, int k, nn_tensor *g) {
  nn_tensor *x = c->in[0], *y = c->in[1];
  if (k == 1) {
    nn_tensor *gx = nn_mul(g, x), *r = gx ? nn_neg(gx) : NULL;
    nn_release(gx);
    return r;
  }
  nn_tensor *s = nn_sigmoid(x), *d = s ? nn_sub(s, y) : NULL, *r = d ? nn_mul(g, d) : NULL;
  nn_release(s), nn_release(d);
  return r;
}

static int bce_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  for (int k = 0; k < 2; k++)
    if (need[k] && !(gin[k] = bce_partial(c, k, gout))) return -1;
  return 0;
}

static nn_tensor *bce_jvp(const nn_ctx *c, nn_tensor *const *t) {
  nn_tensor *r = NULL;
  for (int k = 0; k < 2; k++) {
    if (t[k] && !(r = nn_add_term(r, bce_partial(c, k, t[k])))) return NULL;
  }
  return r;
}

const nn_op nn_op_bce_with_logits = {
    .name = "bce_with_logits", .nin = 2, .forward = bce_forward, .vjp = bce_vjp, .jvp = bce_jvp};

nn_tensor *nn_bce_with_logits(nn_tensor *x, nn_tensor *y, nn_reduction r) {
  if (check_reduction(r) < 0) return NULL;
  return reduce(nn_call(&nn_op_bce_with_logits, (nn_tensor *[]){x, y}, NULL), r);
}

/* ======== mse_loss and l1_loss: compositions ======== */

static nn_tensor *difference(nn_tensor *x, nn_tensor *y, nn_reduction r) {
  if (check_reduction(r) < 0) return NULL;
  if (!nn_dtype_is_float(x->dtype))
    return nn_err("input must be f32 or f64, not %s", nn_dtype_name(x->dtype));
  if (!nn_same_shape(x, y))
    return nn_err("target of shape %s does not match input %s", nn_shape_str(y), nn_shape_str(x));
  return nn_sub(x, y);
}

nn_tensor *nn_mse_loss(nn_tensor *x, nn_tensor *y, nn_reduction r) {
  nn_tensor *d = difference(x, y, r), *sq = d ? nn_mul(d, d) : NULL;
  nn_release(d);
  return reduce(sq, r);
}

nn_tensor *nn_l1_loss(nn_tensor *x, nn_tensor *y, nn_reduction r) {
  nn_tensor *d = difference(x, y, r), *a = d ? nn_abs(d) : NULL;
  nn_release(d);
  return reduce(a, r);
}
