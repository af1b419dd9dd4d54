/* tests/c/test_linalg.c: matmul, mm, bmm, outer. Results are checked against a naive loop
   over test_get (any strides, any dtype), and a few against numbers from PyTorch. */
#include <string.h>

#include "test.h"

/* The element at a multi-index of t, reading a batch index of 0 where t has size 1 (or lacks
   the dim): broadcasting done by hand. idx has n dims, t's trailing dims align with it. */
static double at_broadcast(const nn_tensor *t, int n, const int64_t *idx) {
  int64_t ti[NN_MAXDIM];
  for (int d = 0; d < t->ndim; d++) {
    int64_t i = idx[n - t->ndim + d];
    ti[d] = t->shape[d] == 1 ? 0 : i;
  }
  return nn_load(nn_at(t, ti), t->dtype);
}

/* c == a @ b for a, b of at least 2 dims (batch dims broadcast), within tol */
static bool matches_naive(const nn_tensor *a, const nn_tensor *b, const nn_tensor *c, double tol) {
  int n = c->ndim;
  int64_t k = a->shape[a->ndim - 1], idx[NN_MAXDIM + 1];
  for (int64_t flat = 0; flat < nn_numel(c); flat++) {
    int64_t rest = flat;
    for (int d = n - 1; d >= 0; d--) idx[d] = rest % c->shape[d], rest /= c->shape[d];
    int64_t i = idx[n - 2], j = idx[n - 1];
    double sum = 0;
    for (int64_t p = 0; p < k; p++) {
      idx[n - 2] = i, idx[n - 1] = p;
      double x = at_broadcast(a, n, idx);
      idx[n - 2] = p, idx[n - 1] = j;
      sum += x * at_broadcast(b, n, idx);
    }
    if (fabs(sum - test_get(c, flat)) > tol * (1 + fabs(sum))) return false;
  }
  return true;
}

static bool has_shape(const nn_tensor *t, int ndim, const int64_t *shape) {
  return t && t->ndim == ndim && memcmp(t->shape, shape, ndim * sizeof *shape) == 0;
}

TEST(mm_matches_pytorch) {
  nn_tensor *a = test_seq(NN_F32, 2, (int64_t[]){2, 3}, 0, 1);
  nn_tensor *b = test_seq(NN_F32, 2, (int64_t[]){3, 2}, 1, 1);
  nn_tensor *c = nn_mm(a, b);
  REQUIRE(c);
  CHECK(has_shape(c, 2, (int64_t[]){2, 2}) && c->dtype == NN_F32);
  CHECK(test_get(c, 0) == 13 && test_get(c, 1) == 16 && test_get(c, 2) == 40 &&
        test_get(c, 3) == 52); /* PyTorch */
  nn_tensor *d = nn_to(a, NN_F64), *e = nn_to(b, NN_F64), *f = nn_mm(d, e);
  CHECK(f && f->dtype == NN_F64 && test_get(f, 3) == 52);
  RELEASE(a, b, c, d, e, f);
}

TEST(mm_strided_operands) {
  /* every layout: as stored, transposed (read by BLAS in place), neither (copied), expanded */
  nn_tensor *a = test_seq(NN_F32, 2, (int64_t[]){5, 4}, -1, 0.125);
  nn_tensor *at = test_seq(NN_F32, 2, (int64_t[]){4, 5}, 0.5, -0.0625),
            *att = nn_transpose(at, 0, 1);
  nn_tensor *b = test_seq(NN_F32, 2, (int64_t[]){4, 3}, 0.25, 0.5);
  nn_tensor *bt = test_seq(NN_F32, 2, (int64_t[]){3, 4}, -2, 0.3), *btt = nn_transpose(bt, 0, 1);
  nn_tensor *wide = test_seq(NN_F32, 3, (int64_t[]){4, 3, 2}, 1, -0.2), *bs = nn_select(wide, 2, 1);
  nn_tensor *row = test_seq(NN_F32, 2, (int64_t[]){1, 3}, 1, 1);
  nn_tensor *bx = nn_expand(row, 2, (int64_t[]){4, 3});
  nn_tensor *as[] = {a, att}, *bs_[] = {b, btt, bs, bx};
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 4; j++) {
      nn_tensor *c = nn_mm(as[i], bs_[j]);
      CHECK(c && has_shape(c, 2, (int64_t[]){5, 3}) && matches_naive(as[i], bs_[j], c, 1e-5));
      nn_release(c);
    }
  CHECK(!nn_is_contiguous(att) && !nn_is_contiguous(bs)); /* the cases are what they claim */
  RELEASE(a, at, att, b, bt, btt, wide, bs, row, bx);
}

TEST(matmul_vectors) {
  nn_tensor *u = test_seq(NN_F32, 1, (int64_t[]){4}, 0, 1),
            *v = test_seq(NN_F32, 1, (int64_t[]){4}, 0, 1);
  nn_tensor *dot = nn_matmul(u, v);
  REQUIRE(dot);
  CHECK(dot->ndim == 0 && test_get(dot, 0) == 14); /* PyTorch */
  nn_tensor *m = test_seq(NN_F32, 2, (int64_t[]){4, 3}, 1, 1), *mt = nn_transpose(m, 0, 1);
  nn_tensor *um = nn_matmul(u, m), *mu = nn_matmul(mt, u);
  CHECK(has_shape(um, 1, (int64_t[]){3}) && has_shape(mu, 1, (int64_t[]){3}));
  CHECK(test_get(um, 0) == 48 && test_get(um, 2) == 60 && test_get(mu, 1) == 54);
  nn_tensor *wide = test_seq(NN_F32, 2, (int64_t[]){4, 2}, 0, 1), *col = nn_select(wide, 1, 1);
  nn_tensor *d2 = nn_matmul(col, u); /* a strided vector */
  CHECK(d2 && test_get(d2, 0) == 1 * 3 + 2 * 5 + 3 * 7);
  RELEASE(u, v, dot, m, mt, um, mu, wide, col, d2);
}

TEST(outer_product) {
  nn_tensor *u = test_seq(NN_F32, 1, (int64_t[]){3}, 1, 1),
            *v = test_seq(NN_I64, 1, (int64_t[]){2}, 1, -2);
  nn_tensor *o = nn_outer(u, v);
  REQUIRE(o);
  CHECK(has_shape(o, 2, (int64_t[]){3, 2}) && o->dtype == NN_F32);
  double want[] = {1, -1, 2, -2, 3, -3}; /* PyTorch */
  for (int i = 0; i < 6; i++) CHECK(test_get(o, i) == want[i]);
  CHECK(nn_outer(o, v) == NULL && strstr(nn_errmsg(), "1-D vectors"));
  RELEASE(u, v, o);
}

TEST(matmul_batched_broadcast) {
  nn_tensor *a = test_seq(NN_F32, 4, (int64_t[]){2, 1, 3, 4}, -1, 0.05);
  nn_tensor *b = test_seq(NN_F32, 3, (int64_t[]){5, 4, 2}, 0.5, -0.03);
  nn_tensor *c = nn_matmul(a, b);
  REQUIRE(c);
  CHECK(has_shape(c, 4, (int64_t[]){2, 5, 3, 2}) && matches_naive(a, b, c, 1e-5));
  nn_tensor *bt = nn_transpose(b, 1, 2), *btt = nn_transpose(bt, 1, 2); /* strides only */
  nn_tensor *bc = nn_contiguous(bt), *bct = nn_transpose(bc, 1, 2);     /* transposed layout */
  nn_tensor *c2 = nn_matmul(a, bct);
  CHECK(has_shape(c2, 4, (int64_t[]){2, 5, 3, 2}) && matches_naive(a, bct, c2, 1e-5));
  nn_tensor *v = test_seq(NN_F32, 1, (int64_t[]){4}, 1, 1);
  nn_tensor *av = nn_matmul(a, v), *vb = nn_matmul(v, b);
  CHECK(has_shape(av, 3, (int64_t[]){2, 1, 3}) && has_shape(vb, 2, (int64_t[]){5, 2}));
  CHECK_NEAR(test_get(av, 4), 1 * -0.2 + 2 * -0.15 + 3 * -0.1 + 4 * -0.05, 1e-5);
  nn_tensor *a3 = nn_select(a, 1, 0), *c3 = nn_bmm(a3, b);
  CHECK(c3 == NULL && strstr(nn_errmsg(), "batch 2 ~= 5"));
  RELEASE(a, b, c, bt, btt, bc, bct, c2, v, av, vb, a3);
}

TEST(matmul_folds_batch_into_rows) {
  /* (batch, time, features) @ (features, out): one GEMM; and a batch whose rows fold only
     transposed, and one that cannot fold at all */
  nn_tensor *x = test_seq(NN_F32, 3, (int64_t[]){2, 3, 4}, -1, 2.0 / 23); /* linspace(-1, 1, 24) */
  nn_tensor *w = test_seq(NN_F32, 2, (int64_t[]){4, 5}, 0.5, -2.5 / 19);  /* linspace(.5, -2, 20) */
  nn_tensor *y = nn_matmul(x, w);
  REQUIRE(y);
  CHECK(has_shape(y, 3, (int64_t[]){2, 3, 5}) && matches_naive(x, w, y, 1e-5));
  double want[] = {-1.979405164718628, -2.4370710849761963, -2.8947370052337646, -3.352402687072754,
                   -3.8100688457489014}; /* PyTorch: (x @ w)[1, 2] */
  for (int j = 0; j < 5; j++) CHECK_NEAR(test_get(y, 25 + j), want[j], 1e-5);
  nn_tensor *xs = test_seq(NN_F32, 3, (int64_t[]){4, 2, 3}, 0, 0.1),
            *xp = nn_permute(xs, (int[]){1, 2, 0});
  nn_tensor *yp = nn_matmul(xp, w); /* rows fold with stride 1: BLAS reads it transposed */
  CHECK(has_shape(yp, 3, (int64_t[]){2, 3, 5}) && matches_naive(xp, w, yp, 1e-5));
  nn_tensor *xt = nn_transpose(x, 0, 1), *yt = nn_matmul(xt, w); /* no fold: batch loop */
  CHECK(has_shape(yt, 3, (int64_t[]){3, 2, 5}) && matches_naive(xt, w, yt, 1e-5));
  nn_tensor *col = test_seq(NN_F32, 3, (int64_t[]){2, 3, 1}, 1, 0.2), *xT = nn_transpose(x, 1, 2);
  nn_tensor *xc = nn_bmm(xT, col);
  REQUIRE(xc);
  double wantc[] = {-2.208695650100708, -1.8956520557403564, -1.582608699798584,
                    -1.269565224647522, 2.252173900604248,   2.7217390537261963,
                    3.1913042068481445, 3.660869598388672}; /* PyTorch */
  CHECK(has_shape(xc, 3, (int64_t[]){2, 4, 1}));
  for (int i = 0; i < 8; i++) CHECK_NEAR(test_get(xc, i), wantc[i], 1e-5);
  RELEASE(x, w, y, xs, xp, yp, xt, yt, col, xT, xc);
}

TEST(matmul_integers_and_promotion) {
  nn_tensor *a = test_seq(NN_I64, 2, (int64_t[]){2, 3}, -2, 1), *at = nn_transpose(a, 0, 1);
  nn_tensor *c = nn_matmul(a, at);
  REQUIRE(c);
  CHECK(c->dtype == NN_I64 && matches_naive(a, at, c, 0));
  nn_tensor *big = nn_full(NN_U8, 2, (int64_t[]){1, 1}, 200),
            *two = nn_full(NN_U8, 2, (int64_t[]){1, 1}, 2);
  nn_tensor *w = nn_mm(big, two);
  CHECK(w && w->dtype == NN_U8 && test_get(w, 0) == 144); /* PyTorch: wraps */
  nn_tensor *f = test_seq(NN_F32, 2, (int64_t[]){3, 2}, 0.5, 1), *m = nn_matmul(a, f);
  CHECK(m && m->dtype == NN_F32 && matches_naive(a, f, m, 1e-6));
  nn_tensor *d = test_seq(NN_F64, 1, (int64_t[]){2}, 1.0 / 3, 1e-9), *fd = nn_matmul(f, d);
  CHECK(fd && fd->dtype == NN_F64 &&
        fabs(test_get(fd, 0) - (0.5 / 3 + 1.5 * (1.0 / 3 + 1e-9))) < 1e-15);
  RELEASE(a, at, c, big, two, w, f, m, d, fd);
}

TEST(matmul_shape_errors) {
  nn_tensor *a = nn_zeros(NN_F32, 2, (int64_t[]){2, 3}),
            *b = nn_zeros(NN_F32, 2, (int64_t[]){4, 5});
  CHECK(nn_matmul(a, b) == NULL);
  CHECK(strcmp(nn_errmsg(), "shapes {2,3} and {4,5} do not match (3 ~= 4)") == 0);
  CHECK(nn_mm(a, b) == NULL &&
        strcmp(nn_errmsg(), "shapes {2,3} and {4,5} do not match (3 ~= 4)") == 0);
  nn_tensor *u = nn_zeros(NN_F32, 1, (int64_t[]){3}), *v = nn_zeros(NN_F32, 1, (int64_t[]){4});
  CHECK(nn_matmul(u, v) == NULL &&
        strcmp(nn_errmsg(), "shapes {3} and {4} do not match (3 ~= 4)") == 0);
  CHECK(nn_matmul(v, a) == NULL && strstr(nn_errmsg(), "(4 ~= 2)"));
  nn_tensor *s = nn_scalar(NN_F32, 1);
  CHECK(nn_matmul(s, u) == NULL && strstr(nn_errmsg(), "at least 1 dimension"));
  nn_tensor *x3 = nn_zeros(NN_F32, 3, (int64_t[]){2, 2, 3}),
            *y3 = nn_zeros(NN_F32, 3, (int64_t[]){3, 3, 2});
  CHECK(nn_mm(x3, a) == NULL && strstr(nn_errmsg(), "expected 2-D matrices, got shapes {2,2,3}"));
  CHECK(nn_bmm(a, a) == NULL && strstr(nn_errmsg(), "3-D"));
  CHECK(nn_matmul(x3, y3) == NULL &&
        strstr(nn_errmsg(), "batch dimensions do not broadcast (2 ~= 3)"));
  RELEASE(a, b, u, v, s, x3, y3);
}

TEST(matmul_empty) {
  nn_tensor *a = nn_zeros(NN_F32, 2, (int64_t[]){0, 3}),
            *b = test_seq(NN_F32, 2, (int64_t[]){3, 2}, 0, 1);
  nn_tensor *c = nn_mm(a, b);
  CHECK(c && has_shape(c, 2, (int64_t[]){0, 2}));
  nn_tensor *p = nn_zeros(NN_F64, 2, (int64_t[]){2, 0}),
            *q = nn_full(NN_F64, 2, (int64_t[]){0, 3}, 1);
  nn_tensor *z = nn_mm(p, q); /* a sum of nothing is zero */
  CHECK(z && has_shape(z, 2, (int64_t[]){2, 3}) && test_get(z, 0) == 0 && test_get(z, 5) == 0);
  nn_tensor *bz = nn_zeros(NN_F32, 3, (int64_t[]){0, 2, 3}), *bb = nn_matmul(bz, b);
  CHECK(bb && has_shape(bb, 3, (int64_t[]){0, 2, 2}));
  nn_tensor *iz = nn_zeros(NN_I64, 2, (int64_t[]){2, 0}),
            *iq = nn_zeros(NN_I64, 2, (int64_t[]){0, 2});
  nn_tensor *ii = nn_mm(iz, iq);
  CHECK(ii && test_get(ii, 3) == 0);
  RELEASE(a, b, c, p, q, z, bz, bb, iz, iq, ii);
}
