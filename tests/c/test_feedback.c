/*
** tests/c/test_feedback.c: the learning-rule linear ops (ops/feedback.c) compute the backward
** their entries declare: dx = g B (linear_fa), dx = (g B) R and dR = (g B)^T x (linear_pfa),
** no gradient for B, and linear's own dW and db (which test_gradcheck.c checks by finite
** differences); the forward is linear's; bad feedback shapes are errors.
*/
#include <string.h>

#include "nn/autograd.h"
#include "test.h"

static uint64_t lcg = 99;

static nn_tensor *rnd(int64_t r, int64_t c) {
  return test_random_f64(&lcg, 2, (int64_t[]){r, c}, -1, 1);
}

/* max |a - b| over the elements (inf when either is missing or shapes differ) */
static double maxdiff(const nn_tensor *a, const nn_tensor *b) {
  if (!a || !b || nn_numel(a) != nn_numel(b)) return INFINITY;
  double m = 0;
  for (int64_t i = 0; i < nn_numel(a); i++) m = fmax(m, fabs(test_get(a, i) - test_get(b, i)));
  return m;
}

/* The gradients of sum(y * w) for y = op(in), with every input requiring grad. */
static void grads_of(const nn_op *op, int nin, nn_tensor **in, nn_tensor *w, nn_tensor **gx) {
  for (int k = 0; k < nin; k++) in[k]->requires_grad = true;
  nn_tensor *y = nn_calln(op, nin, in, NULL), *yw = y ? nn_mul(y, w) : NULL;
  nn_tensor *s = yw ? nn_sum(yw, -1, false) : NULL;
  nn_grad(1, &s, NULL, nin, in, gx, false);
  nn_release(y), nn_release(yw), nn_release(s);
  for (int k = 0; k < nin; k++) in[k]->requires_grad = false;
}

TEST(feedback_linear_fa_rule) {
  REQUIRE(nn_op_linear_fa.vjp_rule && nn_op_linear_fa.vjp_exact == 0xE);
  nn_tensor *x = rnd(3, 4), *w = rnd(5, 4), *b = rnd(1, 5), *B = rnd(5, 4), *g = rnd(3, 5);
  nn_tensor *bv = nn_reshape(b, 1, (int64_t[]){5});
  nn_tensor *in[4] = {x, w, bv, B}, *gx[4] = {0}, *lin[3] = {0};
  grads_of(&nn_op_linear_fa, 4, in, g, gx);
  grads_of(&nn_op_linear, 3, in, g, lin);
  nn_tensor *gB = nn_mm(g, B), *y = nn_linear_fa(x, w, bv, B), *y0 = nn_linear(x, w, bv);
  CHECK(maxdiff(gx[0], gB) < 1e-12);     /* dx = g B, not g W */
  CHECK(maxdiff(gx[0], lin[0]) > 1e-3);  /* which differs from the derivative */
  CHECK(maxdiff(gx[1], lin[1]) < 1e-12); /* dW = g^T x */
  CHECK(maxdiff(gx[2], lin[2]) < 1e-12); /* db = column sums */
  CHECK(gx[3] == NULL);                  /* B gets no gradient */
  CHECK(maxdiff(y, y0) == 0);            /* the forward is linear's */
  nn_tensor *bad = rnd(4, 5);
  CHECK(nn_linear_fa(x, w, bv, bad) == NULL && strstr(nn_errmsg(), "feedback B has shape {4,5}"));
  nn_release(bad), nn_release(gB), nn_release(y), nn_release(y0);
  for (int k = 0; k < 4; k++) nn_release(gx[k]);
  for (int k = 0; k < 3; k++) nn_release(lin[k]);
  nn_release(x), nn_release(w), nn_release(b), nn_release(bv), nn_release(B), nn_release(g);
}

TEST(feedback_linear_pfa_rule) {
  REQUIRE(nn_op_linear_pfa.vjp_rule && nn_op_linear_pfa_nobias.vjp_exact == 0x6);
  nn_tensor *x = rnd(3, 4), *w = rnd(5, 4), *B = rnd(5, 7), *R = rnd(7, 4), *g = rnd(3, 5);
  nn_tensor *in[4] = {x, w, B, R}, *gx[4] = {0}, *lin[2] = {0};
  grads_of(&nn_op_linear_pfa_nobias, 4, in, g, gx);
  grads_of(&nn_op_linear_nobias, 2, in, g, lin);
  nn_tensor *gb = nn_mm(g, B), *dx = nn_mm(gb, R), *gbt = nn_transpose(gb, 0, 1);
  nn_tensor *dR = nn_mm(gbt, x);
  CHECK(maxdiff(gx[0], dx) < 1e-12); /* dx = (g B) R */
  CHECK(maxdiff(gx[1], lin[1]) < 1e-12);
  CHECK(gx[2] == NULL);
  CHECK(maxdiff(gx[3], dR) < 1e-12); /* dR = (g B)^T x */
  nn_tensor *bad = rnd(6, 4);
  CHECK(nn_linear_pfa(x, w, NULL, B, bad) == NULL &&
        strstr(nn_errmsg(), "feedback R has shape {6,4}"));
  nn_release(bad), nn_release(gb), nn_release(dx), nn_release(gbt), nn_release(dR);
  for (int k = 0; k < 4; k++) nn_release(gx[k]);
  for (int k = 0; k < 2; k++) nn_release(lin[k]);
  nn_release(x), nn_release(w), nn_release(B), nn_release(R), nn_release(g);
}
