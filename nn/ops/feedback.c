/*
** nn/ops/feedback.c: linear ops for learning rules without weight transport, whose backward
** is deliberately not the derivative of the forward.
**
** The forward is linear's (y = x W^T + b). The backward computes W's and b's gradients as
** linear does (dW = g^T x, db = the column sums of g), but sends the error to the input
** through fixed matrices given as inputs without gradient instead of through W:
**   linear_fa  (x, W, b, B):    dx = g B, B of W's shape (feedback alignment);
**   linear_pfa (x, W, b, B, R): dx = (g B) R, B (out, r) fixed and R (r, in) learned, whose
**                               gradient is the same local outer product as W's:
**                               dR = (g B)^T x (product feedback alignment).
** Each entry declares its rule (vjp_rule) and which inputs still get their true gradient
** (vjp_exact), so that the gradient check tests those and a test of its own the rest. The
** JVP is the forward's derivative: forward mode is unchanged by a feedback rule.
*/
#include <stdio.h>

#include "nn/autograd.h"
#include "nn/ops.h"

/* The layout of the inputs: nlin of them (x, W [, b]) are linear's, then B [, R]. */
static int nlin(const nn_op *op) {
  return op == &nn_op_linear_fa || op == &nn_op_linear_pfa ? 3 : 2;
}

static const nn_op *linear_of(const nn_op *op) {
  return nlin(op) == 3 ? &nn_op_linear : &nn_op_linear_nobias;
}

static bool is_pfa(const nn_op *op) {
  return op == &nn_op_linear_pfa || op == &nn_op_linear_pfa_nobias;
}

/* m is 2-D with rows rows and cols columns (any number when cols < 0), of w's dtype */
static int check_matrix(const char *what, const nn_tensor *m, int64_t rows, int64_t cols,
                        const nn_tensor *w) {
  if (m->dtype != w->dtype)
    return nn_errc("%s is %s but the weight is %s", what, nn_dtype_name(m->dtype),
                   nn_dtype_name(w->dtype));
  if (m->ndim != 2 || m->shape[0] != rows || (cols >= 0 && m->shape[1] != cols)) {
    char cs[24] = "any number of";
    if (cols >= 0) snprintf(cs, sizeof cs, "%lld", (long long)cols);
    return nn_errc("%s has shape %s but must be 2-D with %lld rows and %s columns (weight %s)",
                   what, nn_shape_str(m), (long long)rows, cs, nn_shape_str(w));
  }
  return 0;
}

static int check_feedback(const nn_op *op, nn_tensor *const *in) {
  const nn_tensor *w = in[1], *B = in[nlin(op)];
  if (w->ndim != 2) return 0; /* linear's check names it */
  int64_t out = w->shape[0], nin = w->shape[1];
  if (!is_pfa(op)) return check_matrix("feedback B", B, out, nin, w);
  if (check_matrix("feedback B", B, out, -1, w) < 0) return -1;
  return check_matrix("feedback R", in[nlin(op) + 1], B->shape[1], nin, w);
}

static nn_tensor *fb_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                             nn_tensor *out) {
  if (check_feedback(op, in) < 0) return NULL;
  const nn_op *lin = linear_of(op);
  return lin->forward(lin, in, a, out);
}

/* t (..., n) as a (rows, n) matrix: a new reference */
static nn_tensor *rows_of(nn_tensor *t) {
  int64_t n = t->shape[t->ndim - 1], shape[2] = {n ? nn_numel(t) / n : 0, n};
  return nn_reshape(t, 2, shape);
}

/* gin[0] = g B R (pfa) and gin[R] = (g B)^T x, for the inputs that need them */
static int pfa_grads(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  int k = nlin(c->op);
  nn_tensor *x = c->in[0], *B = c->in[k], *R = c->in[k + 1];
  nn_tensor *g = nn_to(gout, B->dtype), *gm = g ? rows_of(g) : NULL;
  nn_tensor *gb = gm ? nn_mm(gm, B) : NULL; /* rows x r */
  int rc = gb ? 0 : -1;
  if (rc == 0 && need[0]) {
    nn_tensor *dx = nn_mm(gb, R);
    gin[0] = dx ? nn_reshape(dx, x->ndim, x->shape) : NULL;
    rc = gin[0] ? 0 : -1;
    nn_release(dx);
  }
  if (rc == 0 && need[k + 1]) {
    nn_tensor *xm = rows_of(x), *gbt = nn_transpose(gb, 0, 1);
    gin[k + 1] = xm && gbt ? nn_mm(gbt, xm) : NULL;
    rc = gin[k + 1] ? 0 : -1;
    nn_release(xm), nn_release(gbt);
  }
  nn_release(g), nn_release(gm), nn_release(gb);
  return rc;
}

/* dW and db by linear's VJP; dx by linear's VJP with B in W's place (fa) or by pfa_grads */
static int fb_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  const nn_op *lin = linear_of(c->op);
  int n = nlin(c->op);
  nn_tensor *in[3] = {c->in[0], c->in[1], n == 3 ? c->in[2] : NULL};
  nn_ctx lc = {.op = lin, .nin = n, .in = in, .out = c->out, .attr = c->attr};
  bool lneed[3] = {false, need[1], n == 3 && need[2]};
  int rc = lin->vjp(&lc, gout, lneed, gin);
  if (rc == 0 && is_pfa(c->op)) return pfa_grads(c, gout, need, gin);
  if (rc < 0 || !need[0]) return rc;
  nn_tensor *via_b[3] = {c->in[0], c->in[n], n == 3 ? c->in[2] : NULL}, *gx[3] = {0};
  lc.in = via_b;
  rc = lin->vjp(&lc, gout, (bool[]){true, false, false}, gx);
  gin[0] = gx[0];
  return rc;
}

/* the forward's derivative: linear's, the feedback matrices having no part in it */
static nn_tensor *fb_jvp(const nn_ctx *c, nn_tensor *const *t) {
  const nn_op *lin = linear_of(c->op);
  int n = nlin(c->op);
  nn_tensor *in[3] = {c->in[0], c->in[1], n == 3 ? c->in[2] : NULL};
  nn_tensor *tin[3] = {t[0], t[1], n == 3 ? t[2] : NULL};
  nn_ctx lc = {.op = lin, .nin = n, .in = in, .out = c->out, .attr = c->attr};
  if (!tin[0] && !tin[1] && !tin[2]) return nn_zeros(c->out->dtype, c->out->ndim, c->out->shape);
  return lin->jvp(&lc, tin);
}

#define FA_RULE "dx = g B (B fixed, no gradient); dW = g^T x, db = sum of g over rows"
#define PFA_RULE                                                                                   \
  "dx = (g B) R (B fixed, no gradient); dR = (g B)^T x; dW = g^T x, db = sum of g over rows"

const nn_op nn_op_linear_fa = {.name = "linear_fa",
                               .nin = 4,
                               .forward = fb_forward,
                               .vjp = fb_vjp,
                               .jvp = fb_jvp,
                               .save_out = false,
                               .vjp_rule = FA_RULE,
                               .vjp_exact = 0xE};
const nn_op nn_op_linear_fa_nobias = {.name = "linear_fa_nobias",
                                      .nin = 3,
                                      .forward = fb_forward,
                                      .vjp = fb_vjp,
                                      .jvp = fb_jvp,
                                      .save_out = false,
                                      .vjp_rule = FA_RULE,
                                      .vjp_exact = 0x6};
const nn_op nn_op_linear_pfa = {.name = "linear_pfa",
                                .nin = 5,
                                .forward = fb_forward,
                                .vjp = fb_vjp,
                                .jvp = fb_jvp,
                                .save_out = false,
                                .vjp_rule = PFA_RULE,
                                .vjp_exact = 0xE};
const nn_op nn_op_linear_pfa_nobias = {.name = "linear_pfa_nobias",
                                       .nin = 4,
                                       .forward = fb_forward,
                                       .vjp = fb_vjp,
                                       .jvp = fb_jvp,
                                       .save_out = false,
                                       .vjp_rule = PFA_RULE,
                                       .vjp_exact = 0x6};

nn_tensor *nn_linear_fa(nn_tensor *x, nn_tensor *w, nn_tensor *b, nn_tensor *B) {
  if (b) return nn_call(&nn_op_linear_fa, (nn_tensor *[]){x, w, b, B}, NULL);
  return nn_call(&nn_op_linear_fa_nobias, (nn_tensor *[]){x, w, B}, NULL);
}

nn_tensor *nn_linear_pfa(nn_tensor *x, nn_tensor *w, nn_tensor *b, nn_tensor *B, nn_tensor *R) {
  if (b) return nn_call(&nn_op_linear_pfa, (nn_tensor *[]){x, w, b, B, R}, NULL);
  return nn_call(&nn_op_linear_pfa_nobias, (nn_tensor *[]){x, w, B, R}, NULL);
}
