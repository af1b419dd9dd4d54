/* tests/c/test_activation.c: the activations whose backward is deliberately not the
   derivative of the forward (nn_op.vjp_rule): each against its declared rule, in reverse and
   forward mode. Every op with a rule must have a test of it: here, or for the feedback ops
   (linear_fa, linear_pfa) in tests/c/test_feedback.c (rule_ops lists both). */
#include <string.h>

#include "nn/autograd.h"
#include "tests/c/gradcheck.h"
#include "test.h"

static const char *const rule_ops[] = {
    "helu",       "regelu2",          "resilu2", "linear_fa", "linear_fa_nobias",
    "linear_pfa", "linear_pfa_nobias"};

TEST(every_rule_op_has_a_rule_test) {
  for (int k = 0; k < nn_nops; k++) {
    if (!nn_ops[k]->vjp_rule) continue;
    bool found = false;
    for (int j = 0; j < LEN(rule_ops); j++) found |= strcmp(rule_ops[j], nn_ops[k]->name) == 0;
    if (!found) fprintf(stderr, "  %s declares a rule but has no rule test\n", nn_ops[k]->name);
    CHECK(found);
  }
}

/* The gradient (g = ones) and the tangent (t = 2) of f at x, in f64. */
static void grad_and_tangent(nn_tensor *(*f)(nn_tensor *), nn_tensor *x, nn_tensor **y,
                             nn_tensor **g, nn_tensor **t) {
  nn_tensor *xa = nn_alias(x);
  xa->requires_grad = true;
  *y = f(xa);
  nn_tensor *ones = nn_full(NN_F64, x->ndim, x->shape, 1);
  *g = NULL;
  if (*y && nn_grad(1, y, &ones, 1, &xa, g, false) < 0) *g = NULL;
  nn_release(ones), nn_release(xa);
  nn_tensor *xt = nn_alias(x);
  xt->tangent = nn_full(NN_F64, x->ndim, x->shape, 2);
  nn_fwd_enter();
  nn_tensor *yt = f(xt);
  nn_fwd_leave();
  *t = yt && yt->tangent ? nn_retain(yt->tangent) : NULL;
  nn_release(yt), nn_release(xt);
}

static nn_tensor *helu05(nn_tensor *x) {
  return nn_helu(x, 0.05);
}

TEST(helu_is_relu_forward_with_a_wider_gradient_window) {
  const double in[] = {-1, -0.06, -0.049, -0.01, 0, 0.3, 2};
  nn_tensor *x = test_tensor(NN_F64, 1, (int64_t[]){LEN(in)}, in), *y, *g, *t;
  grad_and_tangent(helu05, x, &y, &g, &t);
  REQUIRE(y && g && t);
  for (int64_t i = 0; i < LEN(in); i++) {
    CHECK(test_get(y, i) == (in[i] > 0 ? in[i] : 0));
    double rule = in[i] > -0.05 ? 1 : 0;
    CHECK(test_get(g, i) == rule);
    CHECK(test_get(t, i) == 2 * rule);
  }
  CHECK(nn_helu(x, 0) == NULL && strstr(nn_errmsg(), "alpha") && strstr(nn_errmsg(), "0"));
  nn_release(x), nn_release(y), nn_release(g), nn_release(t);
}

/* The 4-level step from the paper's constants, computed here independently. */
static double step(const double *a, const double *c, double x) {
  double d = 0;
  for (int i = 0; i < 3; i++) d += x > c[i] ? a[i] : 0;
  return d;
}

static void check_approx(nn_tensor *(*f)(nn_tensor *), nn_tensor *(*exact)(nn_tensor *),
                         const double *a, const double *c, int *failures) {
  enum { N = 401 };
  double in[N];
  for (int i = 0; i < N; i++) in[i] = -8 + 16.0 * i / (N - 1);
  nn_tensor *x = test_tensor(NN_F64, 1, (int64_t[]){N}, in), *y, *g, *t;
  grad_and_tangent(f, x, &y, &g, &t);
  REQUIRE(y && g && t);
  nn_tensor *e = exact(x);
  REQUIRE(e);
  int levels_seen = 0;
  double seen[4];
  for (int i = 0; i < N; i++) {
    CHECK(test_get(y, i) == test_get(e, i)); /* the exact forward */
    double d = step(a, c, in[i]);
    CHECK_NEAR(test_get(g, i), d, 1e-15);
    CHECK_NEAR(test_get(t, i), 2 * d, 1e-15);
    bool known = false;
    for (int k = 0; k < levels_seen; k++) known |= seen[k] == d;
    if (!known && levels_seen < 4) seen[levels_seen++] = d;
  }
  CHECK(levels_seen == 4);
  /* what the node keeps for backward: a byte per 4 elements */
  nn_tensor *xa = nn_alias(x);
  xa->requires_grad = true;
  nn_tensor *y2 = f(xa), *e2 = exact(xa);
  REQUIRE(y2 && e2);
  CHECK(nn_saved_bytes(y2) == (N + 3) / 4);
  CHECK(nn_saved_bytes(e2) == N * 8); /* gelu/silu keep their output, and their input too */
  nn_release(xa), nn_release(y2), nn_release(e2);
  nn_release(x), nn_release(y), nn_release(g), nn_release(t), nn_release(e);
}

static nn_tensor *silu1(nn_tensor *x) {
  return nn_silu(x, 1);
}

TEST(regelu2_resilu2_exact_forward_step_backward) {
  const double ga[] = {-0.049223, 1.097963, -0.048741}, gc[] = {-3.185881, -0.001179, 3.190833};
  const double sa[] = {-0.040604, 1.080925, -0.040322}, sc[] = {-6.305046, -0.000868, 6.325815};
  check_approx(nn_regelu2, nn_gelu, ga, gc, failures);
  check_approx(nn_resilu2, silu1, sa, sc, failures);
}

/* f32, and enough elements for the pool's threads (whole code blocks and a short one): the
   same step backward, element by element. */
TEST(regelu2_f32_large_step_backward) {
  const double ga[] = {-0.049223, 1.097963, -0.048741}, gc[] = {-3.185881, -0.001179, 3.190833};
  enum { N = 200003 };
  int64_t n = N;
  nn_tensor *x64 = gc_random_tensor(1, &n, -5, 5), *x = nn_to(x64, NN_F32);
  REQUIRE(x);
  nn_tensor *xa = nn_alias(x), *xt = nn_alias(x), *g = NULL;
  xa->requires_grad = true;
  nn_tensor *y = nn_regelu2(xa), *ones = nn_full(NN_F32, 1, &n, 1);
  REQUIRE(y && nn_grad(1, &y, &ones, 1, &xa, &g, false) == 0 && g->dtype == NN_F32);
  xt->tangent = nn_full(NN_F32, 1, &n, 2);
  nn_fwd_enter();
  nn_tensor *yt = nn_regelu2(xt), *t = yt ? nn_retain(yt->tangent) : NULL;
  nn_fwd_leave();
  REQUIRE(t && t->dtype == NN_F32);
  nn_release(ones), nn_release(xa), nn_release(xt), nn_release(yt);
  int bad = 0;
  for (int64_t i = 0; i < N; i++) {
    double d = (float)step(ga, gc, (double)(float)test_get(x, i));
    bad += fabs(test_get(g, i) - d) > 1e-6 || fabs(test_get(t, i) - 2 * d) > 2e-6;
  }
  CHECK(bad == 0);
  nn_release(x64), nn_release(x), nn_release(y), nn_release(g), nn_release(t);
}
