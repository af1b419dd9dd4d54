/*
** tests/c/test_multi.c: the engine's handling of ops with several outputs and saved state,
** on a small op defined here: tri(x, y) = (x * y, x + y, exp(x)), whose forward saves exp(x)
** for its VJP and JVP.
*/
#include <string.h>

#include "nn/autograd.h"
#include "test.h"

static int tri_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a, nn_tensor **out,
                       nn_tensor **saved, int *nsaved) {
  (void)op, (void)a;
  nn_tensor *x = nn_alias(in[0]), *y = nn_alias(in[1]); /* computed outside the graph */
  out[0] = nn_mul(x, y);
  out[1] = nn_add(x, y);
  out[2] = nn_exp(x);
  if (saved) saved[0] = nn_alias(out[2]), *nsaved = 1;
  nn_release(x), nn_release(y);
  return 0;
}

/* g0 * y + g1 + g2 * exp(x) for x; g0 * x + g1 for y (each term only where it flowed) */
static nn_tensor *sum_terms(nn_tensor *acc, nn_tensor *term) {
  if (!term) return acc;
  if (!acc) return term;
  nn_tensor *s = nn_add(acc, term);
  nn_release(acc), nn_release(term);
  return s;
}

static int tri_vjp(const nn_ctx *c, nn_tensor *const *g, const bool *need, nn_tensor **gin) {
  if (c->nsaved != 1 || c->nout != 3) return nn_errc("tri: lost its saved state");
  nn_tensor *x = c->in[0], *y = c->in[1], *e = c->saved[0];
  for (int k = 0; k < 2; k++) {
    if (!need[k]) continue;
    nn_tensor *acc = NULL;
    if (g[0]) acc = sum_terms(acc, nn_mul(g[0], k == 0 ? y : x));
    if (g[1]) acc = sum_terms(acc, nn_clone(g[1]));
    if (g[2] && k == 0) acc = sum_terms(acc, nn_mul(g[2], e));
    gin[k] = acc ? acc : nn_zeros(x->dtype, x->ndim, x->shape);
  }
  return 0;
}

static nn_tensor *or_zeros(nn_tensor *t, const nn_tensor *like) {
  return t ? nn_retain(t) : nn_zeros(like->dtype, like->ndim, like->shape);
}

static int tri_jvp(const nn_ctx *c, nn_tensor *const *tin, nn_tensor **tout) {
  nn_tensor *x = c->in[0], *y = c->in[1];
  nn_tensor *tx = or_zeros(tin[0], x), *ty = or_zeros(tin[1], y);
  tout[0] = sum_terms(nn_mul(tx, y), nn_mul(x, ty));
  tout[1] = nn_add(tx, ty);
  tout[2] = nn_mul(tx, c->saved[0]);
  nn_release(tx), nn_release(ty);
  return 0;
}

static const nn_op tri_op = {.name = "tri",
                             .nin = 2,
                             .nout = 3,
                             .forward_multi = tri_forward,
                             .vjp_multi = tri_vjp,
                             .jvp_multi = tri_jvp};

static uint64_t seed = 99;

static nn_tensor *leaf(void) {
  nn_tensor *t = test_random_f64(&seed, 1, (int64_t[]){4}, -1, 1);
  t->requires_grad = true;
  return t;
}

static double sum_of(nn_tensor *t) {
  nn_tensor *s = nn_sum(t, -1, false);
  double v = test_get(s, 0);
  nn_release(s);
  return v;
}

TEST(multi_output_gradient_to_one_output) {
  int64_t live = nn_live_tensors();
  nn_tensor *x = leaf(), *y = leaf(), *o[3];
  REQUIRE(nn_call_multi(&tri_op, 2, (nn_tensor *[]){x, y}, NULL, 3, o) == 0);
  CHECK(o[0]->grad_fn == o[2]->grad_fn && o[2]->out_index == 2 && o[0]->out_index == 0);
  nn_tensor *s = nn_sum(o[2], -1, false);
  REQUIRE(nn_backward(s, NULL, false) == 0);
  for (int i = 0; i < 4; i++) {
    CHECK_NEAR(test_get(x->grad, i), exp(test_get(x, i)), 1e-12);
    CHECK_NEAR(test_get(y->grad, i), 0, 1e-12);
  }
  RELEASE(s, o[0], o[1], o[2], x, y);
  CHECK(nn_live_tensors() == live);
}

TEST(multi_output_both_outputs_and_retain_graph) {
  int64_t live = nn_live_tensors();
  nn_tensor *x = leaf(), *y = leaf(), *o[3];
  REQUIRE(nn_call_multi(&tri_op, 2, (nn_tensor *[]){x, y}, NULL, 3, o) == 0);
  nn_tensor *three = nn_scalar(NN_F64, 3), *o1 = nn_mul(o[1], three);
  nn_tensor *s0 = nn_sum(o[0], -1, false), *s1 = nn_sum(o1, -1, false), *s = nn_add(s0, s1);
  REQUIRE(nn_backward(s, NULL, true) == 0);
  REQUIRE(nn_backward(s, NULL, false) == 0); /* twice: gradients doubled */
  for (int i = 0; i < 4; i++) {
    CHECK_NEAR(test_get(x->grad, i), 2 * (test_get(y, i) + 3), 1e-12);
    CHECK_NEAR(test_get(y->grad, i), 2 * (test_get(x, i) + 3), 1e-12);
  }
  CHECK(nn_backward(s, NULL, false) < 0 && strstr(nn_errmsg(), "freed"));
  RELEASE(s, s0, s1, o1, three, o[0], o[1], o[2], x, y);
  CHECK(nn_live_tensors() == live);
}

/* capture mode: two outputs of one node are two targets, told apart by their index */
TEST(multi_output_capture_targets_by_index) {
  int64_t live = nn_live_tensors();
  nn_tensor *x = leaf(), *y = leaf(), *o[3];
  REQUIRE(nn_call_multi(&tri_op, 2, (nn_tensor *[]){x, y}, NULL, 3, o) == 0);
  nn_tensor *five = nn_scalar(NN_F64, 5), *a = nn_mul(o[0], five), *sa = nn_sum(a, -1, false);
  nn_tensor *sb = nn_sum(o[1], -1, false), *s = nn_add(sa, sb), *g[3];
  REQUIRE(nn_grad(1, &s, NULL, 3, (nn_tensor *[]){o[0], o[1], o[2]}, g, false) == 0);
  CHECK(g[0] && g[1] && !g[2]);
  if (g[0] && g[1]) CHECK(sum_of(g[0]) == 20 && sum_of(g[1]) == 4);
  CHECK(!x->grad && !y->grad);
  RELEASE(g[0], g[1], s, sa, sb, a, five, o[0], o[1], o[2], x, y);
  CHECK(nn_live_tensors() == live);
}

/* an output dropped early keeps the node alive for the others; no grad: nothing is saved */
TEST(multi_output_lifetimes_and_tangents) {
  int64_t live = nn_live_tensors();
  nn_tensor *x = leaf(), *y = leaf(), *o[3];
  REQUIRE(nn_call_multi(&tri_op, 2, (nn_tensor *[]){x, y}, NULL, 3, o) == 0);
  nn_release(o[0]), nn_release(o[1]);
  nn_tensor *s = nn_sum(o[2], -1, false);
  CHECK(nn_backward(s, NULL, false) == 0 && x->grad);
  RELEASE(s, o[2]);
  bool was = nn_set_grad_enabled(false);
  REQUIRE(nn_call_multi(&tri_op, 2, (nn_tensor *[]){x, y}, NULL, 3, o) == 0);
  CHECK(!o[0]->grad_fn && !o[1]->requires_grad);
  RELEASE(o[0], o[1], o[2]);
  nn_set_grad_enabled(was);
  CHECK(nn_call_multi(&tri_op, 2, (nn_tensor *[]){x, y}, NULL, 2, o) < 0);
  /* forward mode: a tangent per output */
  nn_tensor *v = test_random_f64(&seed, 1, (int64_t[]){4}, -1, 1);
  x->tangent = nn_retain(v);
  nn_fwd_enter();
  int rc = nn_call_multi(&tri_op, 2, (nn_tensor *[]){x, y}, NULL, 3, o);
  nn_fwd_leave();
  REQUIRE(rc == 0 && o[0]->tangent && o[1]->tangent && o[2]->tangent);
  for (int i = 0; i < 4; i++) {
    double vi = test_get(v, i);
    CHECK_NEAR(test_get(o[0]->tangent, i), vi * test_get(y, i), 1e-12);
    CHECK_NEAR(test_get(o[1]->tangent, i), vi, 1e-12);
    CHECK_NEAR(test_get(o[2]->tangent, i), vi * exp(test_get(x, i)), 1e-12);
  }
  nn_release(x->tangent), x->tangent = NULL;
  RELEASE(o[0], o[1], o[2], v, x, y);
  CHECK(nn_live_tensors() == live);
}
