/*
** tests/c/test_grad_views.c: what the generic gradcheck does not reach: the differentiable
** views' public functions (sharing, errors, dtypes), gradients across dtypes for joins and
** products, and chains of views in both modes of autograd.
*/
#include <string.h>

#include "nn/autograd.h"
#include "test.h"

/* -1, -0.5, 0, 0.5, ... */
static nn_tensor *seq(nn_dtype dt, int ndim, const int64_t *shape) {
  return test_seq(dt, ndim, shape, -1, 0.5);
}

/* d sum(y * w) / dx by backward, w = 1, 2, 3, ... over y's elements */
static nn_tensor *grad_of_weighted(nn_tensor *x, nn_tensor *y) {
  nn_tensor *w = nn_empty(NN_F64, y->ndim, y->shape);
  for (int64_t i = 0; i < nn_numel(w); i++) ((double *)nn_data(w))[i] = (double)i + 1;
  nn_tensor *yw = nn_mul(y, w), *s = nn_sum(yw, -1, false);
  int rc = s ? nn_backward(s, NULL, false) : -1;
  nn_release(w), nn_release(yw), nn_release(s);
  nn_tensor *g = rc == 0 ? x->grad : NULL;
  x->grad = NULL;
  return g;
}

TEST(grad_views_share_storage_and_record) {
  nn_tensor *x = seq(NN_F64, 2, (int64_t[]){3, 4});
  x->requires_grad = true;
  nn_tensor *t = nn_t_transpose(x, 0, 1), *v = nn_t_view(x, 1, (int64_t[]){12});
  REQUIRE(t && v);
  CHECK(t->storage == x->storage && v->storage == x->storage);
  CHECK(t->grad_fn && strcmp(nn_node_name(t->grad_fn), "transpose") == 0);
  CHECK(t->shape[0] == 4 && t->shape[1] == 3 && !x->grad_fn);
  /* nothing to do: the input itself, as the raw functions */
  nn_tensor *c = nn_t_contiguous(x), *same = nn_t_to(x, NN_F64);
  CHECK(c == x && same == x);
  nn_release(c), nn_release(same);
  /* a contiguous copy of a transpose records the op */
  nn_tensor *tc = nn_t_contiguous(t);
  CHECK(tc && tc != t && nn_is_contiguous(tc) && tc->grad_fn);
  nn_tensor *g = tc ? grad_of_weighted(x, tc) : NULL;
  REQUIRE(g);
  /* tc[j][i] = x[i][j] has weight 3j + i + 1 */
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 4; j++) CHECK(test_get(g, 4 * i + j) == 3 * j + i + 1);
  nn_release(g), nn_release(tc), nn_release(t), nn_release(v), nn_release(x);
}

TEST(grad_views_bad_arguments) {
  nn_tensor *x = seq(NN_F32, 2, (int64_t[]){2, 3});
  CHECK(!nn_t_transpose(x, 0, 2) && strstr(nn_errmsg(), "dimension 3"));
  CHECK(!nn_t_permute(x, (int[]){0, 0}) && strstr(nn_errmsg(), "permutation"));
  CHECK(!nn_t_narrow(x, 1, 2, 2) && strstr(nn_errmsg(), "out of bounds"));
  CHECK(!nn_t_narrow(x, 5, 0, 1));
  CHECK(!nn_t_select(x, 0, 2) && strstr(nn_errmsg(), "out of range"));
  CHECK(!nn_t_unsqueeze(x, 3) && strstr(nn_errmsg(), "position 4"));
  CHECK(!nn_t_squeeze(x, 2));
  CHECK(!nn_t_flatten(x, 1, 0) && strstr(nn_errmsg(), "comes after"));
  CHECK(!nn_t_view(x, 1, (int64_t[]){5}) && strstr(nn_errmsg(), "invalid"));
  CHECK(!nn_t_view(x, NN_MAXDIM + 1, (int64_t[NN_MAXDIM + 1]){1}));
  CHECK(!nn_t_expand(x, 2, (int64_t[]){4, 3}) && strstr(nn_errmsg(), "expand"));
  CHECK(!nn_t_to(x, (nn_dtype)7) && strstr(nn_errmsg(), "dtype"));
  nn_tensor *t = nn_t_transpose(x, 0, 1);
  CHECK(t && !nn_t_view(t, 1, (int64_t[]){6}) && strstr(nn_errmsg(), "reshape"));
  nn_tensor *r = t ? nn_t_reshape(t, 1, (int64_t[]){6}) : NULL; /* copies */
  CHECK(r && r->storage != x->storage && test_get(r, 1) == test_get(x, 3));
  nn_tensor *f = nn_t_flatten(x, 0, 1), *s0 = nn_t_select(f, 0, 5), *fl = nn_t_flatten(s0, 0, 0);
  CHECK(f && f->ndim == 1 && s0 && s0->ndim == 0 && fl && fl->ndim == 1 && fl->shape[0] == 1);
  nn_release(t), nn_release(r), nn_release(f), nn_release(s0), nn_release(fl), nn_release(x);
}

TEST(grad_to_converts_back) {
  nn_tensor *x = seq(NN_F32, 1, (int64_t[]){3});
  x->requires_grad = true;
  nn_tensor *y = nn_t_to(x, NN_F64), *sq = y ? nn_mul(y, y) : NULL;
  REQUIRE(y && y->dtype == NN_F64 && y->grad_fn && sq);
  nn_tensor *g = grad_of_weighted(x, sq);
  REQUIRE(g);
  CHECK(g->dtype == NN_F32);
  for (int i = 0; i < 3; i++) CHECK_NEAR(test_get(g, i), 2 * test_get(x, i) * (i + 1), 1e-6);
  /* to an integer dtype the graph stops */
  nn_tensor *n = nn_t_to(x, NN_I64);
  CHECK(n && !n->requires_grad && !n->grad_fn);
  nn_release(n), nn_release(g), nn_release(sq), nn_release(y), nn_release(x);
}

/* cat and stack promote; each input's gradient comes back in its own dtype and shape */
TEST(grad_joins_keep_input_dtypes) {
  nn_tensor *a = seq(NN_F32, 2, (int64_t[]){2, 3}), *b = seq(NN_F64, 2, (int64_t[]){1, 3});
  nn_tensor *empty = nn_empty(NN_F64, 1, (int64_t[]){0});
  a->requires_grad = b->requires_grad = empty->requires_grad = true;
  nn_tensor *c = nn_cat((nn_tensor *[]){a, empty, b}, 3, 0);
  REQUIRE(c && c->dtype == NN_F64 && c->shape[0] == 3);
  nn_tensor *w = seq(NN_F64, 2, c->shape), *cw = nn_mul(c, w), *s = nn_sum(cw, -1, false);
  REQUIRE(s && nn_backward(s, NULL, false) == 0);
  REQUIRE(a->grad && b->grad && empty->grad);
  CHECK(a->grad->dtype == NN_F32 && b->grad->dtype == NN_F64);
  CHECK(nn_same_shape(empty->grad, empty));
  for (int i = 0; i < 6; i++) CHECK(test_get(a->grad, i) == test_get(w, i));
  for (int i = 0; i < 3; i++) CHECK(test_get(b->grad, i) == test_get(w, 6 + i));
  nn_release(c), nn_release(w), nn_release(cw), nn_release(s);
  nn_release(a), nn_release(b), nn_release(empty);
}

/* products of f32 operands with an f64 one: gradients keep their operand's dtype */
TEST(grad_products_keep_input_dtypes) {
  nn_tensor *a = seq(NN_F32, 3, (int64_t[]){2, 3, 4}), *b = seq(NN_F64, 2, (int64_t[]){4, 5});
  a->requires_grad = b->requires_grad = true;
  nn_tensor *c = nn_matmul(a, b);
  REQUIRE(c && c->dtype == NN_F64);
  nn_tensor *s = nn_sum(c, -1, false);
  REQUIRE(s && nn_backward(s, NULL, false) == 0);
  REQUIRE(a->grad && b->grad);
  CHECK(a->grad->dtype == NN_F32 && nn_same_shape(a->grad, a));
  CHECK(b->grad->dtype == NN_F64 && nn_same_shape(b->grad, b));
  /* d sum(A B) / dA[i][j] = the sum of B's row j; / dB[j][k] = the sum of A's column j */
  for (int j = 0; j < 4; j++) {
    double row = 0, col = 0;
    for (int k = 0; k < 5; k++) row += test_get(b, 5 * j + k);
    for (int i = 0; i < 6; i++) col += test_get(a, 4 * i + j);
    CHECK_NEAR(test_get(a->grad, j), row, 1e-5);
    CHECK_NEAR(test_get(b->grad, 5 * j), col, 1e-9);
  }
  nn_release(c), nn_release(s), nn_release(a), nn_release(b);
}

/* x -> view -> transpose -> narrow -> expand -> matmul: gradients and tangents of the chain
   against finite differences */
static nn_tensor *chain(nn_tensor *x, nn_tensor *m) {
  nn_tensor *v = nn_t_view(x, 2, (int64_t[]){3, 4}), *t = v ? nn_t_transpose(v, 0, 1) : NULL;
  nn_tensor *n = t ? nn_t_narrow(t, 0, 1, 2) : NULL, *u = n ? nn_t_unsqueeze(n, 0) : NULL;
  nn_tensor *e = u ? nn_t_expand(u, 3, (int64_t[]){2, 2, 3}) : NULL;
  nn_tensor *p = e ? nn_matmul(e, m) : NULL;
  nn_release(v), nn_release(t), nn_release(n), nn_release(u), nn_release(e);
  return p;
}

static double chain_value(nn_tensor *x, nn_tensor *m) {
  nn_tensor *p = chain(x, m), *s = p ? nn_sum(p, -1, false) : NULL;
  double v = s ? test_get(s, 0) : NAN;
  nn_release(p), nn_release(s);
  return v;
}

TEST(grad_chain_of_views_both_modes) {
  nn_tensor *x = seq(NN_F64, 1, (int64_t[]){12}), *m = seq(NN_F64, 2, (int64_t[]){3, 2});
  x->requires_grad = true;
  nn_tensor *p = chain(x, m), *s = p ? nn_sum(p, -1, false) : NULL;
  REQUIRE(s && nn_backward(s, NULL, false) == 0 && x->grad);
  nn_tensor *g = x->grad;
  x->grad = NULL, x->requires_grad = false;
  double *xv = (double *)nn_data(x), eps = 1e-6, dot = 0;
  for (int i = 0; i < 12; i++) {
    double keep = xv[i];
    xv[i] = keep + eps;
    double up = chain_value(x, m);
    xv[i] = keep - eps;
    double numeric = (up - chain_value(x, m)) / (2 * eps);
    xv[i] = keep;
    CHECK_NEAR(test_get(g, i), numeric, 1e-6);
    dot += numeric * (i % 3 - 1);
  }
  /* forward mode along a direction given as a strided tangent */
  nn_tensor *dir = nn_empty(NN_F64, 2, (int64_t[]){12, 2});
  for (int i = 0; i < 12; i++) ((double *)nn_data(dir))[2 * i] = i % 3 - 1;
  x->tangent = nn_select(dir, 1, 0); /* stride 2 */
  nn_fwd_enter();
  nn_tensor *pt = chain(x, m), *st = pt ? nn_sum(pt, -1, false) : NULL;
  nn_fwd_leave();
  CHECK(st && st->tangent);
  if (st && st->tangent) CHECK_NEAR(test_get(st->tangent, 0), dot, 1e-6);
  nn_release(pt), nn_release(st), nn_release(dir);
  nn_release(g), nn_release(p), nn_release(s), nn_release(x), nn_release(m);
}

/* An intermediate's gradient captured by nn_grad must not change when a gradient made of
   views of it (view, cat) is later added to; both orders of the two paths. */
TEST(grad_capture_of_a_view_is_not_overwritten) {
  int64_t n = 4;
  for (int k = 0; k < 4; k++) {
    bool cat = k & 1;
    nn_tensor *x = nn_full(NN_F64, 1, &n, 1), *w2 = nn_full(NN_F64, 1, &n, 5);
    x->requires_grad = true;
    nn_tensor *u = nn_mul(x, w2);
    nn_tensor *y = cat ? nn_cat((nn_tensor *[]){u, u}, 2, 0) : nn_t_view(u, 2, (int64_t[]){2, 2});
    nn_tensor *w1 = nn_full(NN_F64, y->ndim, y->shape, 3);
    nn_tensor *a = nn_mul(y, w1), *b = nn_mul(u, w2);
    nn_tensor *sa = nn_sum(a, -1, false), *sb = nn_sum(b, -1, false);
    nn_tensor *s = k & 2 ? nn_add(sa, sb) : nn_add(sb, sa), *grads[2];
    REQUIRE(nn_grad(1, &s, NULL, 2, (nn_tensor *[]){y, x}, grads, false) == 0);
    CHECK(test_get(grads[0], 0) == 3 && test_get(grads[1], 0) == (cat ? 55 : 40));
    nn_tensor *tmp[] = {x, w1, w2, u, y, a, b, sa, sb, s, grads[0], grads[1]};
    for (size_t j = 0; j < sizeof tmp / sizeof *tmp; j++) nn_release(tmp[j]);
  }
}

/* The composite reductions are made of recorded ops (views included): their tangents in
   forward mode match finite differences along a direction. */
static nn_tensor *max_all(nn_tensor *x) {
  return nn_max(x, -1, false, NULL);
}
static nn_tensor *min_rows(nn_tensor *x) {
  return nn_min(x, 1, false, NULL);
}
static nn_tensor *lse_cols(nn_tensor *x) {
  return nn_logsumexp(x, 0, false);
}
static nn_tensor *norm_all(nn_tensor *x) {
  return nn_norm(x, 3, -1, false);
}
static nn_tensor *std_rows(nn_tensor *x) {
  return nn_std(x, 1, true, true);
}

static double summed(nn_tensor *(*f)(nn_tensor *), nn_tensor *x, double *tangent) {
  nn_tensor *y = f(x), *s = y ? nn_sum(y, -1, false) : NULL;
  double v = s ? test_get(s, 0) : NAN;
  if (tangent) *tangent = s && s->tangent ? test_get(s->tangent, 0) : NAN;
  nn_release(y), nn_release(s);
  return v;
}

TEST(grad_composite_reductions_forward_mode) {
  nn_tensor *(*fns[])(nn_tensor *) = {max_all, min_rows, lse_cols, norm_all, std_rows};
  nn_tensor *x = seq(NN_F64, 2, (int64_t[]){3, 4}), *v = seq(NN_F64, 2, (int64_t[]){3, 4});
  double *xv = (double *)nn_data(x), *vv = (double *)nn_data(v), eps = 1e-6;
  for (int i = 0; i < 12; i++) xv[i] = (i * 7 % 12) * 0.25 - 1, vv[i] = (i % 5) * 0.5 - 1;
  for (size_t k = 0; k < sizeof fns / sizeof *fns; k++) {
    double jvp;
    x->tangent = nn_retain(v);
    nn_fwd_enter();
    summed(fns[k], x, &jvp);
    nn_fwd_leave();
    nn_release(x->tangent);
    x->tangent = NULL;
    for (int i = 0; i < 12; i++) xv[i] += eps * vv[i];
    double up = summed(fns[k], x, NULL);
    for (int i = 0; i < 12; i++) xv[i] -= 2 * eps * vv[i];
    double down = summed(fns[k], x, NULL);
    for (int i = 0; i < 12; i++) xv[i] += eps * vv[i];
    if (fabs(jvp - (up - down) / (2 * eps)) > 1e-6)
      fprintf(stderr, "  composite %zu: jvp %g, finite differences %g\n", k + 1, jvp,
              (up - down) / (2 * eps));
    CHECK_NEAR(jvp, (up - down) / (2 * eps), 1e-6);
  }
  nn_release(x), nn_release(v);
}
