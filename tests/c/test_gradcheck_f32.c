/*
** tests/c/test_gradcheck_f32.c: the f32 derivative code of every op in the gradient-check
** table, and the rule that an op with attributes is checked on two sets of them.
*/
#include <string.h>

#include "nn/autograd.h"
#include "tests/c/gradcheck.h"
#include "test.h"

/* Each case again with its float inputs in f32: the f32 VJP and JVP against central finite
   differences of the f64 op on the same values (the f32 inputs widened), within a tolerance
   for f32 rounding. */

static bool close_f32(double analytic, double numeric, double scale) {
  return fabs(analytic - numeric) <= 2e-3 * (scale + fabs(numeric));
}

/* The largest |value| of a tensor: the scale of f32 rounding in sums over it. */
static double max_abs(nn_tensor *t) {
  double m = 0;
  for (int64_t i = 0; i < nn_numel(t); i++) m = fmax(m, fabs(test_get(t, i)));
  return m;
}

static bool is_float_input(const grad_case *c, int k, nn_tensor *t) {
  (void)c, (void)k;
  return t->dtype == NN_F64;
}

static void check_op_f32(const nn_op *op, const grad_case *c, int *failures) {
  nn_tensor *in[8] = {0}, *in32[8] = {0}, *y0[NN_MAXOUT] = {0}, *w[NN_MAXOUT] = {0};
  nn_tensor *w32[NN_MAXOUT] = {0};
  int nout = nn_op_nout(op);
  for (int k = 0; k < c->nin; k++) {
    nn_tensor *t = gc_make_input(c, k);
    if (is_float_input(c, k, t)) { /* the f32 values, and the same values in f64 */
      in32[k] = nn_to(t, NN_F32);
      in[k] = nn_to(in32[k], NN_F64);
      nn_release(t);
    } else {
      in[k] = t, in32[k] = nn_retain(t);
    }
  }
  REQUIRE(gc_call(op, c, in32, y0) == 0);
  for (int k = 0; k < nout; k++) {
    nn_tensor *r = gc_random_tensor(y0[k]->ndim, y0[k]->shape, -1, 1);
    w32[k] = nn_to(r, y0[k]->dtype == NN_F64 ? NN_F64 : NN_F32);
    w[k] = nn_to(w32[k], NN_F64);
    nn_release(r);
  }
  const double eps = 1e-6;
  for (int k = 0; k < c->nin; k++) {
    if (in32[k]->dtype != NN_F32 || (c->differentiable && c->differentiable[k] == 'c')) continue;
    bool exact = !op->vjp_rule || (op->vjp_exact >> k & 1u);
    in32[k]->requires_grad = true;
    nn_tensor *y[NN_MAXOUT] = {0}, *yt[NN_MAXOUT] = {0};
    REQUIRE(gc_call(op, c, in32, y) == 0);
    nn_tensor *s = gc_projection(op, y, w32);
    CHECK(nn_backward(s, NULL, false) == 0);
    nn_release(s);
    test_release_all(nout, y);
    nn_tensor *g = in32[k]->grad;
    in32[k]->requires_grad = false, in32[k]->grad = NULL;
    CHECK(!g || g->dtype == NN_F32);
    nn_tensor *v64 = gc_random_tensor(in32[k]->ndim, in32[k]->shape, -1, 1);
    nn_tensor *v = nn_to(v64, NN_F32);
    nn_release(v64);
    in32[k]->tangent = nn_retain(v);
    nn_fwd_enter();
    CHECK(gc_call(op, c, in32, yt) == 0);
    nn_fwd_leave();
    nn_release(in32[k]->tangent);
    in32[k]->tangent = NULL;
    double jvp = gc_tangent_dot(op, yt, w32), dot = 0, gscale = g ? max_abs(g) : 0, dscale = 0;
    for (int64_t i = 0; i < nn_numel(in[k]); i++) {
      double *x = (double *)nn_data(in[k]) + i, keep = *x;
      *x = keep + eps;
      double up = gc_weighted(op, c, in, w);
      *x = keep - eps;
      double down = gc_weighted(op, c, in, w);
      *x = keep;
      double numeric = (up - down) / (2 * eps), analytic = g ? test_get(g, i) : 0;
      dot += numeric * test_get(v, i);
      dscale += fabs(numeric * test_get(v, i));
      if (exact && !close_f32(analytic, numeric, gscale)) {
        fprintf(stderr, "  f32 %s: input %d %s element %lld: backward %g, finite differences %g\n",
                op->name, k + 1, nn_shape_str(in[k]), (long long)i + 1, analytic, numeric);
        ++*failures;
        break;
      }
    }
    if (!close_f32(jvp, dot, dscale)) {
      fprintf(stderr, "  f32 %s: input %d %s: jvp %g, finite differences %g\n", op->name, k + 1,
              nn_shape_str(in[k]), jvp, dot);
      ++*failures;
    }
    nn_release(g), nn_release(v);
    test_release_all(nout, yt);
  }
  test_release_all(nout, y0), test_release_all(nout, w), test_release_all(nout, w32);
  for (int k = 0; k < c->nin; k++) nn_release(in[k]), nn_release(in32[k]);
}

TEST(gradcheck_every_op_f32) {
  for (int k = 0; k < nn_nops; k++) {
    const nn_op *op = nn_ops[k];
    if (!nn_op_differentiable(op) || (op->vjp_rule && !op->vjp_exact)) continue;
    for (size_t j = 0; j < gc_ncases; j++)
      if (strcmp(gc_cases[j].op, op->name) == 0) check_op_f32(op, &gc_cases[j], failures);
  }
}

/* An op that takes attributes is checked with two different sets of them at least. */
static bool has_attr(const nn_attr *a) {
  if (a->ni) return true;
  for (int i = 0; i < NN_ATTR_INTS; i++)
    if (a->i[i]) return true;
  for (int i = 0; i < 4; i++)
    if (a->f[i] != 0) return true;
  return false;
}

TEST(gradcheck_two_attribute_sets) {
  for (size_t j = 0; j < gc_ncases; j++) {
    /* to's attribute is the dtype: its other value is the f32 run's input */
    if (!has_attr(&gc_cases[j].attr) || strcmp(gc_cases[j].op, "to") == 0) continue;
    bool first = true, other = false;
    for (size_t k = 0; k < gc_ncases; k++) {
      if (strcmp(gc_cases[k].op, gc_cases[j].op) != 0) continue;
      if (k < j) first = false;
      if (memcmp(&gc_cases[k].attr, &gc_cases[j].attr, sizeof gc_cases[j].attr) != 0) other = true;
    }
    if (first && !other) {
      fprintf(stderr, "  %s has attributes but one set of them in the gradient checks\n",
              gc_cases[j].op);
      ++*failures;
    }
  }
}
