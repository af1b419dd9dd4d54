/*
** nn/ops/recurrent_ref.c: the recurrences of recurrent.c written step by step with ordinary
** ops, carrying a tangent beside each value (dual numbers: the derivative rules of linear,
** sigmoid, tanh, relu, + and *). The fused ops' JVP, and the reference the C tests compare
** the fused forward with. Slow (a few ops per step), exact.
**
** nn_recurrent, the C entry point of the fused ops, is here too.
*/
#include <stdlib.h>
#include <string.h>

#include "nn/ops.h"
#include "nn/ops/recurrent.h"

/* Every tensor made is kept in the arena and released at the end. */
typedef struct arena {
  nn_tensor **t;
  size_t n, cap;
  bool failed;
} arena;

static nn_tensor *keep(arena *A, nn_tensor *t) {
  if (!t) {
    A->failed = true;
    return NULL;
  }
  if (A->n == A->cap) {
    size_t cap = A->cap ? 2 * A->cap : 256;
    nn_tensor **grown = realloc(A->t, cap * sizeof *grown);
    if (!grown) {
      nn_release(t);
      A->failed = true;
      nn_errc("out of memory");
      return NULL;
    }
    A->t = grown, A->cap = cap;
  }
  return A->t[A->n++] = t;
}

/* a value and its tangent (NULL: zero) */
typedef struct dual {
  nn_tensor *v, *d;
} dual;

/* a + b where NULL is zero */
static nn_tensor *sum0(arena *A, nn_tensor *a, nn_tensor *b) {
  if (!a || !b) return a ? a : b;
  return keep(A, nn_add(a, b));
}

static dual lin(arena *A, dual x, dual w, dual b) {
  if (A->failed) return (dual){0};
  dual r = {keep(A, nn_linear(x.v, w.v, b.v)), NULL};
  if (x.d) r.d = keep(A, nn_linear(x.d, w.v, NULL));
  if (w.d && !A->failed) r.d = sum0(A, r.d, keep(A, nn_linear(x.v, w.d, NULL)));
  if (!A->failed) r.d = sum0(A, r.d, b.d);
  return r;
}

static dual add(arena *A, dual a, dual b) {
  if (A->failed) return (dual){0};
  return (dual){keep(A, nn_add(a.v, b.v)), sum0(A, a.d, b.d)};
}

static dual sub(arena *A, dual a, dual b) {
  if (A->failed) return (dual){0};
  dual r = {keep(A, nn_sub(a.v, b.v)), a.d};
  if (b.d) r.d = keep(A, a.d ? nn_sub(a.d, b.d) : nn_neg(b.d));
  return r;
}

static dual mul(arena *A, dual a, dual b) {
  if (A->failed) return (dual){0};
  dual r = {keep(A, nn_mul(a.v, b.v)), NULL};
  if (a.d) r.d = keep(A, nn_mul(a.d, b.v));
  if (b.d && !A->failed) r.d = sum0(A, r.d, keep(A, nn_mul(a.v, b.d)));
  return r;
}

/* f(a) with tangent a.d * f'(a), f' given by the result y */
typedef enum { SIGMOID, TANH, RELU } unary;

static dual apply(arena *A, unary f, dual a) {
  if (A->failed) return (dual){0};
  nn_tensor *y = keep(A, f == SIGMOID ? nn_sigmoid(a.v) : f == TANH ? nn_tanh(a.v) : nn_relu(a.v));
  dual r = {y, NULL};
  if (!a.d || A->failed) return r;
  nn_tensor *yy = keep(A, nn_mul(y, y)), *df = NULL;
  if (A->failed) return r;
  if (f == SIGMOID) df = keep(A, nn_sub(y, yy)); /* y (1 - y) */
  if (f == TANH) {                               /* 1 - y^2 */
    nn_tensor *one = keep(A, nn_scalar(y->dtype, 1));
    df = one ? keep(A, nn_sub(one, yy)) : NULL;
  }
  if (f == RELU) df = keep(A, nn_sign(y)); /* 1 where y > 0 */
  if (!A->failed) r.d = keep(A, nn_mul(a.d, df));
  return r;
}

/* columns [start, start + len) of the last dim */
static dual cols(arena *A, dual a, int64_t start, int64_t len) {
  if (A->failed) return (dual){0};
  dual r = {keep(A, nn_t_narrow(a.v, a.v->ndim - 1, start, len)), NULL};
  if (a.d) r.d = keep(A, nn_t_narrow(a.d, a.d->ndim - 1, start, len));
  return r;
}

static dual step_of(arena *A, dual a, int64_t t) {
  if (A->failed) return (dual){0};
  dual r = {keep(A, nn_t_select(a.v, 1, t)), a.d};
  if (a.d && a.d->ndim == a.v->ndim) /* else a bias's tangent, the same at every step */
    r.d = keep(A, nn_t_select(a.d, 1, t));
  return r;
}

/* one step: h (and c) from the step's input projection xt */
static void cell_step(arena *A, int kind, dual xt, dual hp, int64_t H, dual *h, dual *c) {
  switch (kind) {
  case RNN_TANH: *h = apply(A, TANH, add(A, xt, hp)); break;
  case RNN_RELU: *h = apply(A, RELU, add(A, xt, hp)); break;
  case LSTM: {
    dual a = add(A, xt, hp);
    dual i = apply(A, SIGMOID, cols(A, a, 0, H)), f = apply(A, SIGMOID, cols(A, a, H, H));
    dual g = apply(A, TANH, cols(A, a, 2 * H, H)), o = apply(A, SIGMOID, cols(A, a, 3 * H, H));
    *c = add(A, mul(A, f, *c), mul(A, i, g));
    *h = mul(A, o, apply(A, TANH, *c));
    break;
  }
  case GRU: {
    dual r = apply(A, SIGMOID, add(A, cols(A, xt, 0, H), cols(A, hp, 0, H)));
    dual z = apply(A, SIGMOID, add(A, cols(A, xt, H, H), cols(A, hp, H, H)));
    dual n = apply(A, TANH, add(A, cols(A, xt, 2 * H, H), mul(A, r, cols(A, hp, 2 * H, H))));
    *h = add(A, n, mul(A, z, sub(A, *h, n)));
    break;
  }
  }
}

/* t (NULL: zero) as a new tensor of shape like's */
static nn_tensor *full_tangent(nn_tensor *t, const nn_tensor *like) {
  nn_tensor *z = nn_zeros(like->dtype, like->ndim, like->shape);
  if (z && t && nn_copy_(z, t) < 0) nn_release(z), z = NULL;
  return z;
}

/* stacks the steps' values (or tangents) along dim 1 */
static nn_tensor *stack_steps(arena *A, const dual *hs, int64_t T, bool tangents) {
  nn_tensor **ts = malloc((size_t)T * sizeof *ts);
  if (!ts) return nn_err("out of memory");
  for (int64_t t = 0; t < T && !A->failed; t++)
    ts[t] = tangents ? keep(A, full_tangent(hs[t].d, hs[t].v)) : hs[t].v;
  nn_tensor *r = A->failed ? NULL : nn_stack(ts, (int)T, 1);
  free(ts);
  return r;
}

static int run_composed(arena *A, int kind, const dual *in, int64_t T, dual *hs, dual *h, dual *c) {
  int w = kind == LSTM ? 3 : 2;
  int64_t H = in[w + 1].v->shape[1];
  dual xp = lin(A, in[0], in[w], in[w + 2]);
  *h = in[1];
  if (kind == LSTM) *c = in[2];
  for (int64_t t = 0; t < T && !A->failed; t++) {
    dual hp = lin(A, *h, in[w + 1], in[w + 3]);
    cell_step(A, kind, step_of(A, xp, t), hp, H, h, c);
    hs[t] = *h;
  }
  return A->failed ? -1 : 0;
}

int nn_recurrent_composed(const nn_op *op, nn_tensor *const *in, nn_tensor *const *tin,
                          nn_tensor **out, nn_tensor **tout) {
  int kind = nn_recurrent_kind(op), nout = nn_op_nout(op);
  int64_t T = in[0]->ndim == 3 ? in[0]->shape[1] : 0;
  if (T < 1) return nn_errc("%s: input must be (batch, time >= 1, features)", op->name);
  arena A = {0};
  dual d[8], h = {0}, c = {0}, *hs = calloc((size_t)T, sizeof *hs);
  for (int k = 0; k < op->nin; k++) d[k] = (dual){in[k], tin ? tin[k] : NULL};
  int rc = hs ? run_composed(&A, kind, d, T, hs, &h, &c) : -1;
  for (int k = 0; k < nout; k++) out[k] = NULL;
  if (rc == 0) {
    out[0] = stack_steps(&A, hs, T, false);
    out[1] = nn_t_clone(h.v);
    if (kind == LSTM) out[2] = nn_t_clone(c.v);
  }
  if (rc == 0 && tout) {
    tout[0] = stack_steps(&A, hs, T, true);
    tout[1] = full_tangent(h.d, h.v);
    if (kind == LSTM) tout[2] = full_tangent(c.d, c.v);
  }
  for (int k = 0; k < nout; k++)
    if (!out[k] || (tout && !tout[k])) rc = -1;
  if (rc < 0)
    for (int k = 0; k < nout; k++) {
      nn_release(out[k]), out[k] = NULL;
      if (tout) nn_release(tout[k]), tout[k] = NULL;
    }
  while (A.n > 0) nn_release(A.t[--A.n]);
  free(A.t), free(hs);
  return rc;
}

int nn_recurrent_jvp(const nn_ctx *c, nn_tensor *const *tin, nn_tensor **tout) {
  nn_tensor *out[NN_MAXOUT] = {0};
  int rc = nn_recurrent_composed(c->op, c->in, tin, out, tout);
  for (int k = 0; k < nn_op_nout(c->op); k++) nn_release(out[k]);
  return rc;
}

/* ---- the C entry point ---- */

int nn_recurrent(const nn_op *op, nn_tensor *x, nn_tensor *h0, nn_tensor *c0, nn_tensor *w_ih,
                 nn_tensor *w_hh, nn_tensor *b_ih, nn_tensor *b_hh, nn_tensor **out) {
  int kind = nn_recurrent_kind(op), w = kind == LSTM ? 3 : 2, nin = op->nin;
  if (x->ndim != 3 || w_hh->ndim != 2)
    return nn_errc("%s: input must be (batch, time, features) and weight_hh 2-D, not %s and %s",
                   op->name, nn_shape_str(x), nn_shape_str(w_hh));
  int64_t bh[2] = {x->shape[0], w_hh->shape[1]}, gh = w_hh->shape[0];
  nn_tensor *given[8] = {x, h0, c0}, *made[8] = {0};
  given[w] = w_ih, given[w + 1] = w_hh, given[w + 2] = b_ih, given[w + 3] = b_hh;
  for (int k = 0; k < nin; k++) /* the missing states and biases are zeros */
    if (!given[k]) {
      bool bias = k >= w + 2;
      given[k] = made[k] = nn_zeros(x->dtype, bias ? 1 : 2, bias ? &gh : bh);
      if (!made[k]) return -1;
    }
  int rc = nn_call_multi(op, nin, given, NULL, nn_op_nout(op), out);
  for (int k = 0; k < nin; k++) nn_release(made[k]);
  return rc;
}
