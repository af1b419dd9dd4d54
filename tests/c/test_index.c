/* tests/c/test_index.c: cat, stack, gather, scatter_add, index_select, index_add, masked_fill,
   one_hot. Expected numbers marked "PyTorch" were computed by torch 2.x. */
#include <string.h>

#include "test.h"

static nn_tensor *ivec(int n, const int64_t *v) {
  nn_tensor *t = nn_empty(NN_I64, 1, (int64_t[]){n});
  if (n) memcpy(nn_data(t), v, n * sizeof *v);
  return t;
}

static nn_tensor *imat(int rows, int cols, const int64_t *v) {
  nn_tensor *t = nn_empty(NN_I64, 2, (int64_t[]){rows, cols});
  memcpy(nn_data(t), v, rows * cols * sizeof *v);
  return t;
}

/* t holds exactly the n values want, row-major */
static bool equals(const nn_tensor *t, int n, const double *want) {
  if (!t || nn_numel(t) != n) return false;
  for (int i = 0; i < n; i++)
    if (test_get(t, i) != want[i]) return false;
  return true;
}

TEST(cat_dims_strides_and_promotion) {
  nn_tensor *a = test_seq(NN_F32, 2, (int64_t[]){2, 3}, 0, 1);
  nn_tensor *b = test_seq(NN_I64, 2, (int64_t[]){3, 2}, 10, 1), *bt = nn_transpose(b, 0, 1);
  nn_tensor *r0 = nn_cat((nn_tensor *[]){a, bt}, 2, 0);
  REQUIRE(r0);
  CHECK(r0->dtype == NN_F32 && r0->ndim == 2 && r0->shape[0] == 4 && r0->shape[1] == 3);
  CHECK(equals(r0, 12, (double[]){0, 1, 2, 3, 4, 5, 10, 12, 14, 11, 13, 15}));
  nn_tensor *r1 = nn_cat((nn_tensor *[]){a, bt, a}, 3, 1);
  REQUIRE(r1);
  CHECK(r1->shape[0] == 2 && r1->shape[1] == 9);
  CHECK(equals(r1, 18, (double[]){0, 1, 2, 10, 12, 14, 0, 1, 2, 3, 4, 5, 11, 13, 15, 3, 4, 5}));
  nn_tensor *d = test_seq(NN_F64, 2, (int64_t[]){1, 3}, -1, 0);
  nn_tensor *r2 = nn_cat((nn_tensor *[]){a, d}, 2, 0);
  CHECK(r2 && r2->dtype == NN_F64 && r2->shape[0] == 3 && test_get(r2, 8) == -1);
  RELEASE(a, b, bt, r0, r1, d, r2);
}

TEST(cat_empty_and_errors) {
  nn_tensor *a = test_seq(NN_F32, 2, (int64_t[]){2, 3}, 0, 1);
  nn_tensor *none = nn_empty(NN_F32, 1, (int64_t[]){0});
  nn_tensor *rows0 = nn_empty(NN_F32, 2, (int64_t[]){0, 3});
  nn_tensor *r = nn_cat((nn_tensor *[]){none, a, rows0, none}, 4, 0); /* PyTorch's legacy rule */
  CHECK(r && r->shape[0] == 2 && r->shape[1] == 3 && test_get(r, 5) == 5);
  nn_tensor *e = nn_cat((nn_tensor *[]){none, none}, 2, 0);
  CHECK(e && e->ndim == 1 && e->shape[0] == 0);
  nn_tensor *b = test_seq(NN_F32, 2, (int64_t[]){2, 4}, 0, 1);
  CHECK(nn_cat((nn_tensor *[]){a, b}, 2, 0) == NULL);
  CHECK(strcmp(nn_errmsg(), "shapes {2,3} and {2,4} of tensors 1 and 2 do not match in "
                            "dimension 2 (3 ~= 4)") == 0);
  nn_tensor *v = test_seq(NN_F32, 1, (int64_t[]){3}, 0, 1), *s = nn_scalar(NN_F32, 1);
  CHECK(nn_cat((nn_tensor *[]){a, v}, 2, 0) == NULL && strstr(nn_errmsg(), "dimensions differ"));
  CHECK(nn_cat((nn_tensor *[]){s, s}, 2, 0) == NULL && strstr(nn_errmsg(), "0-dimensional"));
  CHECK(nn_cat((nn_tensor *[]){a}, 1, 2) == NULL && strstr(nn_errmsg(), "dimension 3"));
  CHECK(nn_cat(NULL, 0, 0) == NULL && strstr(nn_errmsg(), "non-empty"));
  RELEASE(a, none, rows0, r, e, b, v, s);
}

TEST(stack_dims) {
  nn_tensor *a = test_seq(NN_F32, 2, (int64_t[]){2, 3}, 0, 1);
  nn_tensor *b = test_seq(NN_I64, 2, (int64_t[]){2, 3}, 10, 1);
  nn_tensor *s0 = nn_stack((nn_tensor *[]){a, b}, 2, 0);
  nn_tensor *s2 = nn_stack((nn_tensor *[]){a, b}, 2, 2);
  REQUIRE(s0 && s2);
  CHECK(s0->ndim == 3 && s0->shape[0] == 2 && s0->dtype == NN_F32 && test_get(s0, 7) == 11);
  CHECK(s2->shape[0] == 2 && s2->shape[1] == 3 && s2->shape[2] == 2);
  CHECK(equals(s2, 12, (double[]){0, 10, 1, 11, 2, 12, 3, 13, 4, 14, 5, 15}));
  nn_tensor *x = nn_scalar(NN_F64, 2), *y = nn_scalar(NN_F64, 3);
  nn_tensor *v = nn_stack((nn_tensor *[]){x, y}, 2, 0);
  CHECK(v && v->ndim == 1 && equals(v, 2, (double[]){2, 3}));
  nn_tensor *c = test_seq(NN_F32, 2, (int64_t[]){3, 2}, 0, 1);
  CHECK(nn_stack((nn_tensor *[]){a, c}, 2, 0) == NULL && strstr(nn_errmsg(), "equal shapes"));
  CHECK(nn_stack((nn_tensor *[]){a}, 1, 3) == NULL && strstr(nn_errmsg(), "out of range"));
  RELEASE(a, b, s0, s2, x, y, v, c);
}

TEST(gather_matches_pytorch) {
  nn_tensor *x = test_seq(NN_F32, 2, (int64_t[]){3, 4}, 0, 1);
  nn_tensor *i0 = imat(2, 4, (int64_t[]){2, 0, 1, 2, 0, 0, 0, 1});
  nn_tensor *g0 = nn_gather(x, 0, i0);
  REQUIRE(g0);
  CHECK(g0->shape[0] == 2 && g0->shape[1] == 4);
  CHECK(equals(g0, 8, (double[]){8, 1, 6, 11, 0, 1, 2, 7})); /* PyTorch */
  nn_tensor *xt = nn_transpose(x, 0, 1);                     /* strided input */
  nn_tensor *i1 = imat(4, 2, (int64_t[]){2, 0, 1, 1, 0, 2, 2, 2});
  nn_tensor *g1 = nn_gather(xt, 1, i1);
  CHECK(equals(g1, 8, (double[]){8, 0, 5, 5, 2, 10, 11, 11})); /* PyTorch */
  nn_tensor *i1t = nn_transpose(i1, 0, 1), *small = nn_narrow(i1t, 1, 1, 2);
  nn_tensor *g2 = nn_gather(x, 0, small);       /* strided index, smaller than x */
  CHECK(equals(g2, 4, (double[]){4, 1, 4, 9})); /* PyTorch */
  RELEASE(x, i0, g0, xt, i1, g1, i1t, small, g2);
}

TEST(gather_checks_indices) {
  nn_tensor *x = test_seq(NN_F64, 2, (int64_t[]){2, 5}, 0, 1);
  nn_tensor *bad = imat(1, 3, (int64_t[]){0, 6, 4});
  CHECK(nn_gather(x, 1, bad) == NULL);
  CHECK(strcmp(nn_errmsg(), "index 7 is out of range for dimension 2 of size 5") == 0);
  nn_tensor *neg = imat(1, 2, (int64_t[]){0, -1});
  CHECK(nn_gather(x, 1, neg) == NULL && strstr(nn_errmsg(), "index 0 is out of range"));
  nn_tensor *f = nn_zeros(NN_F32, 2, (int64_t[]){1, 1});
  CHECK(nn_gather(x, 1, f) == NULL && strstr(nn_errmsg(), "must be an i64"));
  nn_tensor *v = ivec(2, (int64_t[]){0, 1});
  CHECK(nn_gather(x, 1, v) == NULL && strstr(nn_errmsg(), "number of dimensions"));
  nn_tensor *big = nn_zeros(NN_I64, 2, (int64_t[]){3, 1});
  CHECK(nn_gather(x, 1, big) == NULL && strstr(nn_errmsg(), "larger than input shape"));
  CHECK(nn_gather(x, 2, v) == NULL && strstr(nn_errmsg(), "dimension 3 is out of range"));
  nn_tensor *empty = nn_zeros(NN_I64, 2, (int64_t[]){2, 0});
  nn_tensor *g = nn_gather(x, 0, empty);
  CHECK(g && g->shape[0] == 2 && g->shape[1] == 0);
  RELEASE(x, bad, neg, f, v, big, empty, g);
}

TEST(scatter_add_matches_pytorch) {
  nn_tensor *z = nn_zeros(NN_F32, 2, (int64_t[]){3, 4});
  nn_tensor *i = imat(2, 4, (int64_t[]){2, 0, 1, 2, 0, 0, 0, 1});
  nn_tensor *src = test_seq(NN_F64, 2, (int64_t[]){2, 5}, 1, 1); /* wider than i; converted */
  nn_tensor *src4 = nn_narrow(src, 1, 0, 4);
  nn_tensor *r = nn_scatter_add(z, 0, i, src);
  REQUIRE(r);
  CHECK(r->dtype == NN_F32 && test_get(z, 0) == 0); /* z untouched */
  /* PyTorch (src is wider than the index: its 5th column is never read) */
  CHECK(equals(r, 12, (double[]){6, 9, 8, 0, 0, 0, 3, 9, 1, 0, 0, 4}));
  CHECK(nn_scatter_add_(z, 0, i, src4) == 0 &&
        equals(z, 12, (double[]){6, 9, 8, 0, 0, 0, 3, 9, 1, 0, 0, 4}));
  nn_tensor *bad = imat(1, 1, (int64_t[]){3});
  CHECK(nn_scatter_add_(z, 0, bad, src) < 0 && test_get(z, 0) == 6);
  CHECK(strcmp(nn_errmsg(), "index 4 is out of range for dimension 1 of size 3") == 0);
  nn_tensor *tall = nn_zeros(NN_I64, 2, (int64_t[]){3, 1});
  CHECK(nn_scatter_add(z, 1, tall, src) == NULL && strstr(nn_errmsg(), "source shape"));
  RELEASE(z, i, src, src4, r, bad, tall);
}

TEST(gather_scatter_are_adjoint) {
  /* <gather(x, idx), g> == <x, scatter_add(0, idx, g)>: what gather's backward relies on */
  nn_tensor *x = test_seq(NN_F64, 3, (int64_t[]){2, 3, 4}, 0.5, 0.25);
  nn_tensor *idx = nn_empty(NN_I64, 3, (int64_t[]){2, 5, 4});
  for (int64_t k = 0; k < 40; k++) ((int64_t *)nn_data(idx))[k] = (k * 7) % 3;
  nn_tensor *g = test_seq(NN_F64, 3, (int64_t[]){2, 5, 4}, -1, 0.125),
            *z = nn_zeros(NN_F64, 3, x->shape);
  nn_tensor *y = nn_gather(x, 1, idx), *s = nn_scatter_add(z, 1, idx, g);
  REQUIRE(y && s);
  double lhs = 0, rhs = 0;
  for (int64_t k = 0; k < 40; k++) lhs += test_get(y, k) * test_get(g, k);
  for (int64_t k = 0; k < 24; k++) rhs += test_get(x, k) * test_get(s, k);
  CHECK_NEAR(lhs, rhs, 1e-9);
  RELEASE(x, idx, g, z, y, s);
}

TEST(index_select_dims) {
  nn_tensor *x = test_seq(NN_F32, 2, (int64_t[]){3, 4}, 0, 1);
  nn_tensor *i = ivec(3, (int64_t[]){3, 0, 3});
  nn_tensor *r1 = nn_index_select(x, 1, i);
  REQUIRE(r1);
  CHECK(r1->shape[0] == 3 && r1->shape[1] == 3);
  CHECK(equals(r1, 9, (double[]){3, 0, 3, 7, 4, 7, 11, 8, 11})); /* PyTorch */
  nn_tensor *rows = ivec(4, (int64_t[]){2, 2, 0, 1});
  nn_tensor *r0 = nn_index_select(x, 0, rows); /* an embedding lookup */
  CHECK(r0 && r0->shape[0] == 4 && test_get(r0, 4) == 8 && test_get(r0, 9) == 1);
  nn_tensor *xt = nn_transpose(x, 0, 1), *rt = nn_index_select(xt, 0, i);
  CHECK(rt && equals(rt, 9, (double[]){3, 7, 11, 0, 4, 8, 3, 7, 11}));
  nn_tensor *one = nn_full(NN_I64, 0, NULL, 1), *r = nn_index_select(x, 0, one);
  CHECK(r && r->ndim == 2 && r->shape[0] == 1 && test_get(r, 3) == 7);
  nn_tensor *none = ivec(0, NULL), *e = nn_index_select(x, 1, none);
  CHECK(e && e->shape[0] == 3 && e->shape[1] == 0);
  nn_tensor *bad = ivec(2, (int64_t[]){1, 3});
  CHECK(nn_index_select(x, 0, bad) == NULL);
  CHECK(strcmp(nn_errmsg(), "index 4 is out of range for dimension 1 of size 3") == 0);
  nn_tensor *m = imat(1, 1, (int64_t[]){0});
  CHECK(nn_index_select(x, 0, m) == NULL && strstr(nn_errmsg(), "1-D"));
  RELEASE(x, i, r1, rows, r0, xt, rt, one, r, none, e, bad, m);
}

TEST(index_add_in_place) {
  nn_tensor *x = test_seq(NN_F32, 2, (int64_t[]){3, 4}, 0, 1);
  nn_tensor *i = ivec(3, (int64_t[]){0, 2, 0});
  nn_tensor *src = test_seq(NN_I64, 2, (int64_t[]){3, 4}, 0, 10); /* converted to f32 */
  nn_tensor *copy = nn_index_add(x, 0, i, src);
  REQUIRE(copy);
  CHECK(test_get(x, 0) == 0);
  REQUIRE(nn_index_add_(x, 0, i, src) == 0);
  double want[] = {80, 101, 122, 143, 4, 5, 6, 7, 48, 59, 70, 81}; /* PyTorch */
  CHECK(equals(x, 12, want) && equals(copy, 12, want));
  nn_tensor *xt = nn_transpose(x, 0, 1), *srct = nn_zeros(NN_F32, 2, (int64_t[]){4, 2});
  nn_fill_(srct, 1);
  nn_tensor *cols = ivec(2, (int64_t[]){1, 1});
  CHECK(nn_index_add_(xt, 1, cols, srct) == 0 && test_get(x, 4) == 6 && test_get(x, 11) == 81);
  nn_tensor *bad = ivec(3, (int64_t[]){0, 1, 5});
  CHECK(nn_index_add_(x, 0, bad, src) < 0 && test_get(x, 0) == 80); /* nothing written */
  CHECK(strcmp(nn_errmsg(), "index 6 is out of range for dimension 1 of size 3") == 0);
  nn_tensor *two = ivec(2, (int64_t[]){0, 1});
  CHECK(nn_index_add_(x, 0, two, src) < 0 && strstr(nn_errmsg(), "does not fit"));
  RELEASE(x, i, src, copy, xt, srct, cols, bad, two);
}

TEST(masked_fill_broadcasts) {
  nn_tensor *x = test_seq(NN_I64, 2, (int64_t[]){2, 3}, 1, 1);
  nn_tensor *row = nn_zeros(NN_U8, 1, (int64_t[]){3});
  ((uint8_t *)nn_data(row))[1] = 1;
  nn_tensor *r = nn_masked_fill(x, row, -7);
  REQUIRE(r);
  CHECK(r->dtype == NN_I64 && equals(r, 6, (double[]){1, -7, 3, 4, -7, 6}));
  CHECK(test_get(x, 1) == 2);
  nn_tensor *v = test_seq(NN_F32, 1, (int64_t[]){3}, 0, 1);
  nn_tensor *col = nn_zeros(NN_U8, 2, (int64_t[]){2, 1});
  ((uint8_t *)nn_data(col))[1] = 3;
  nn_tensor *b = nn_masked_fill(v, col, 0.5); /* both broadcast, as in PyTorch */
  CHECK(b && b->ndim == 2 && b->shape[0] == 2 && b->dtype == NN_F32);
  CHECK(equals(b, 6, (double[]){0, 1, 2, 0.5, 0.5, 0.5}));
  nn_tensor *fm = nn_zeros(NN_F32, 1, (int64_t[]){3});
  CHECK(nn_masked_fill(x, fm, 0) == NULL && strstr(nn_errmsg(), "must be u8"));
  nn_tensor *m4 = nn_zeros(NN_U8, 1, (int64_t[]){4});
  CHECK(nn_masked_fill(x, m4, 0) == NULL && strstr(nn_errmsg(), "cannot be broadcast"));
  RELEASE(x, row, r, v, col, b, fm, m4);
}

TEST(one_hot_classes) {
  nn_tensor *i = ivec(3, (int64_t[]){2, 0, 1});
  nn_tensor *h = nn_one_hot(i, 4);
  REQUIRE(h);
  CHECK(h->dtype == NN_I64 && h->ndim == 2 && h->shape[1] == 4);
  CHECK(equals(h, 12, (double[]){0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0})); /* PyTorch */
  nn_tensor *m = imat(2, 2, (int64_t[]){1, 0, 0, 2}), *mt = nn_transpose(m, 0, 1);
  nn_tensor *hm = nn_one_hot(mt, -1); /* inferred: 3 classes */
  CHECK(hm && hm->ndim == 3 && hm->shape[2] == 3);
  CHECK(equals(hm, 12, (double[]){0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1}));
  CHECK(nn_one_hot(i, 2) == NULL);
  CHECK(strcmp(nn_errmsg(), "class 3 is out of range for 2 classes") == 0);
  nn_tensor *none = ivec(0, NULL), *e = nn_one_hot(none, 5);
  CHECK(e && e->shape[0] == 0 && e->shape[1] == 5);
  CHECK(nn_one_hot(none, -1) == NULL && strstr(nn_errmsg(), "cannot infer"));
  nn_tensor *f = nn_zeros(NN_F32, 1, (int64_t[]){2});
  CHECK(nn_one_hot(f, 3) == NULL && strstr(nn_errmsg(), "i64"));
  RELEASE(i, h, m, mt, hm, none, e, f);
}
