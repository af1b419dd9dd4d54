/* tests/c/test_reduce.c: reductions (ops/reduce.c) and creation helpers (ops/create.c).
   Hard-coded expected values were computed with PyTorch 2 (float64 unless noted). */
#include <string.h>

#include "nn/alloc.h"
#include "nn/autograd.h"
#include "test.h"

/* x = ((i*37) mod 23) - 11 as a {2,3,4} tensor: integers, so every dtype holds them exactly
   (u8 gets them shifted by +11 to stay non-negative) */
static double xval(int64_t i) {
  return (double)((i * 37) % 23) - 11;
}
static nn_tensor *x234(nn_dtype dt) {
  double v[24];
  for (int i = 0; i < 24; i++) v[i] = xval(i) + (dt == NN_U8 ? 11 : 0);
  return test_tensor(dt, 3, (int64_t[]){2, 3, 4}, v);
}

/* t has the given shape and dtype, and values within tol of want */
static bool same(const nn_tensor *t, nn_dtype dt, int ndim, const int64_t *shape,
                 const double *want, double tol) {
  if (!t || t->dtype != dt || t->ndim != ndim) return false;
  if (ndim > 0 && memcmp(t->shape, shape, ndim * sizeof *shape) != 0) return false;
  for (int64_t i = 0; i < nn_numel(t); i++) {
    double v = test_get(t, i);
    if (isnan(want[i]) ? !isnan(v) : v != want[i] && !(fabs(v - want[i]) <= tol)) {
      fprintf(stderr, "  element %lld: got %.17g, want %.17g\n", (long long)i, v, want[i]);
      return false;
    }
  }
  return true;
}

/* ---- a slow, obviously right reference: every output element walks its slice ---- */
enum kind { SUM, PROD, ARGMAX, ARGMIN };

static double naive(const nn_tensor *x, int d, enum kind k, const int64_t *outidx) {
  int64_t idx[NN_MAXDIM], n = x->shape[d];
  for (int j = 0, o = 0; j < x->ndim; j++) idx[j] = j == d ? 0 : outidx[o++];
  double acc = k == PROD ? 1 : 0, best = 0;
  int64_t at = 0;
  for (int64_t i = 0; i < n; i++) {
    idx[d] = i;
    double v = nn_load(nn_at(x, idx), x->dtype);
    if (k == SUM) acc += v;
    if (k == PROD) acc *= v;
    if (i == 0 || (k == ARGMAX && v > best) || (k == ARGMIN && v < best)) best = v, at = i;
  }
  return k == SUM || k == PROD ? acc : (double)at;
}

static nn_tensor *run(enum kind k, nn_tensor *x, int d, bool keepdim) {
  switch (k) {
  case SUM: return nn_sum(x, d, keepdim);
  case PROD: return nn_prod(x, d, keepdim);
  case ARGMAX: return nn_argmax(x, d, keepdim);
  default: return nn_argmin(x, d, keepdim);
  }
}

/* op k of x over dim d (with and without keepdim) agrees with the reference */
static bool agrees(enum kind k, nn_tensor *x, int d) {
  for (int keep = 0; keep < 2; keep++) {
    nn_tensor *r = run(k, x, d, keep);
    if (!r) return false;
    nn_dtype want_dt = k >= ARGMAX ? NN_I64 : nn_dtype_is_float(x->dtype) ? x->dtype : NN_I64;
    bool ok = r->dtype == want_dt && r->ndim == x->ndim - !keep;
    int64_t out[NN_MAXDIM];
    for (int j = 0, o = 0; j < x->ndim; j++)
      if (j != d) out[o++] = x->shape[j];
    for (int j = 0; ok && j < r->ndim; j++)
      ok = r->shape[j] == (keep ? (j == d ? 1 : x->shape[j]) : out[j]);
    for (int64_t i = 0; ok && i < nn_numel(r); i++) {
      int64_t idx[NN_MAXDIM], rest = i; /* i as a multi-index over the dims kept */
      for (int j = x->ndim - 2; j >= 0; j--) idx[j] = rest % out[j], rest /= out[j];
      double want = naive(x, d, k, idx);
      ok = fabs(test_get(r, i) - want) <= 1e-9 * (1 + fabs(want));
      if (!ok)
        fprintf(stderr, "  dim %d element %lld: got %g want %g\n", d, (long long)i, test_get(r, i),
                want);
    }
    nn_release(r);
    if (!ok) return false;
  }
  return true;
}

TEST(reduce_every_dim_dtype_and_layout) {
  for (nn_dtype dt = 0; dt < NN_NDTYPES; dt++) {
    nn_tensor *x = x234(dt);
    REQUIRE(x);
    /* the same values seen through strides: transposed, permuted, a narrowed slice */
    nn_tensor *t = nn_transpose(x, 0, 2);
    nn_tensor *p = nn_permute(x, (int[]){1, 2, 0});
    nn_tensor *n = nn_narrow(x, 2, 1, 2);
    nn_tensor *views[] = {x, t, p, n};
    for (int v = 0; v < 4; v++)
      for (enum kind k = SUM; k <= ARGMIN; k++)
        for (int d = 0; d < 3; d++) {
          bool ok = agrees(k, views[v], d);
          if (!ok)
            fprintf(stderr, "  dtype %s view %d kind %d dim %d\n", nn_dtype_name(dt), v, k, d);
          CHECK(ok);
        }
    for (int v = 0; v < 4; v++) nn_release(views[v]);
  }
}

/* A larger tensor with many ties: long rows (the unrolled loops and their tails), and more
   outputs than one block of side-by-side argmax slices. */
TEST(reduce_large_with_ties) {
  enum { A = 5, B = 70, C = 33 };
  static double v[A * B * C];
  for (int i = 0; i < A * B * C; i++) v[i] = (double)((i * 7919) % 101) - 50;
  for (nn_dtype dt = 0; dt < NN_NDTYPES; dt++) {
    if (dt == NN_U8) continue; /* negative values */
    nn_tensor *x = test_tensor(dt, 3, (int64_t[]){A, B, C}, v);
    REQUIRE(x);
    nn_tensor *t = nn_transpose(x, 0, 2);
    for (enum kind k = SUM; k <= ARGMIN; k++)
      for (int d = 0; d < 3 && k != PROD; d++) CHECK(agrees(k, x, d) && agrees(k, t, d));
    nn_release(x), nn_release(t);
  }
}

TEST(reduce_sum_prod_values) {
  nn_tensor *x = x234(NN_F64), *xt = nn_transpose(x, 1, 2);
  REQUIRE(x && xt);
  nn_tensor *s = nn_sum(x, -1, false), *s1 = nn_sum(x, 1, false), *s1k = nn_sum(x, 1, true);
  CHECK(same(s, NN_F64, 0, NULL, (double[]){-11}, 0));
  double want1[] = {-3, -7, -11, 8, -5, 14, 10, -17};
  CHECK(same(s1, NN_F64, 2, (int64_t[]){2, 4}, want1, 0));
  CHECK(same(s1k, NN_F64, 3, (int64_t[]){2, 1, 4}, want1, 0));
  nn_tensor *st = nn_sum(xt, 2, false); /* = sum over dim 1 of x */
  CHECK(same(st, NN_F64, 2, (int64_t[]){2, 4}, want1, 0));
  nn_tensor *p2 = nn_prod(x, 2, false);
  CHECK(same(p2, NN_F64, 2, (int64_t[]){2, 3}, (double[]){1584, -200, 0, 320, -396, -1078}, 0));
  nn_tensor *all[] = {x, xt, s, s1, s1k, st, p2};
  for (int k = 0; k < LEN(all); k++) nn_release(all[k]);
}

TEST(reduce_integer_dtypes) {
  nn_tensor *u = test_tensor(NN_U8, 1, (int64_t[]){2}, (double[]){200, 100});
  nn_tensor *su = nn_sum(u, -1, false), *pu = nn_prod(u, 0, false);
  CHECK(same(su, NN_I64, 0, NULL, (double[]){300}, 0)); /* u8 sums give i64, no overflow */
  CHECK(same(pu, NN_I64, 0, NULL, (double[]){20000}, 0));
  /* i64 overflow wraps as in PyTorch (2^62 * 4 -> 0, 2^62 + 2^62 -> -2^63), no UB */
  nn_tensor *big = nn_empty(NN_I64, 1, (int64_t[]){2});
  ((int64_t *)nn_data(big))[0] = INT64_C(1) << 62;
  ((int64_t *)nn_data(big))[1] = INT64_C(1) << 62;
  nn_tensor *sb = nn_sum(big, -1, false);
  CHECK(sb && *(int64_t *)nn_data(sb) == INT64_MIN);
  ((int64_t *)nn_data(big))[1] = 4;
  nn_tensor *pb = nn_prod(big, -1, false);
  CHECK(pb && *(int64_t *)nn_data(pb) == 0);
  /* long rows go through the unrolled loop: 1..1000 */
  nn_tensor *r = nn_arange(1, 1000, 1, NN_I64), *sr = nn_sum(r, 0, false);
  CHECK(same(sr, NN_I64, 0, NULL, (double[]){500500}, 0));
  nn_tensor *all[] = {u, su, pu, big, sb, pb, r, sr};
  for (int k = 0; k < LEN(all); k++) nn_release(all[k]);
}

TEST(reduce_f32_sum_accumulates_in_double) {
  /* a million 0.1f (0.100000001490116) add up to 100000.0015, which rounds to 100000 in f32;
     a running f32 sum gives 100958.34 (PyTorch's cascade: 100000.0078125, one ulp off) */
  nn_tensor *x = nn_full(NN_F32, 1, (int64_t[]){1000000}, 0.1);
  nn_tensor *s = nn_sum(x, -1, false);
  CHECK(same(s, NN_F32, 0, NULL, (double[]){100000}, 0));
  nn_tensor *x2 = nn_view(x, 2, (int64_t[]){1000, 1000});
  nn_tensor *c = nn_sum(x2, 0, false); /* accumulate rows */
  CHECK(c && fabs(test_get(c, 999) - 100.0) < 1e-4);
  nn_tensor *e = nn_expand(s, 2, (int64_t[]){3, 5}); /* stride 0 everywhere */
  nn_tensor *se = nn_sum(e, -1, false);
  CHECK(se && fabs(test_get(se, 0) - 1500000) < 0.2);
  nn_tensor *all[] = {x, s, x2, c, e, se};
  for (int k = 0; k < LEN(all); k++) nn_release(all[k]);
}

TEST(reduce_mean_var_std) {
  nn_tensor *x = x234(NN_F64);
  REQUIRE(x);
  nn_tensor *m = nn_mean(x, -1, false), *m0 = nn_mean(x, 0, true);
  CHECK(same(m, NN_F64, 0, NULL, (double[]){-0.4583333333333333}, 1e-15));
  double want_m0[] = {-7.5, 6.5, -2.5, 0, 2.5, -6.5, 7.5, -1.5, 1, 3.5, -5.5, -3};
  CHECK(same(m0, NN_F64, 3, (int64_t[]){1, 3, 4}, want_m0, 1e-15));
  nn_tensor *v = nn_var(x, -1, false, true), *v2 = nn_var(x, 2, false, true);
  nn_tensor *v2b = nn_var(x, 2, true, false), *s1 = nn_std(x, 1, false, true);
  CHECK(same(v, NN_F64, 0, NULL, (double[]){49.0416666667}, 1e-9));
  double want_v2[] = {73.6666666667, 35.3333333333, 60.25, 60.25, 35.3333333333, 60.25};
  CHECK(same(v2, NN_F64, 2, (int64_t[]){2, 3}, want_v2, 1e-9));
  double want_v2b[] = {55.25, 26.5, 45.1875, 45.1875, 26.5, 45.1875};
  CHECK(same(v2b, NN_F64, 3, (int64_t[]){2, 3, 1}, want_v2b, 1e-12));
  double r = 6.8068592856;
  CHECK(same(s1, NN_F64, 2, (int64_t[]){2, 4}, (double[]){10, r, r, r, r, r, r, r}, 1e-9));
  /* one element: the unbiased variance has no degree of freedom left -> nan */
  nn_tensor *one = nn_full(NN_F32, 1, (int64_t[]){1}, 3), *v1 = nn_var(one, 0, false, true);
  CHECK(same(v1, NN_F32, 0, NULL, (double[]){NAN}, 0));
  /* f32 stays f32 */
  nn_tensor *xf = x234(NN_F32), *mf = nn_mean(xf, 2, false);
  CHECK(mf && mf->dtype == NN_F32 && test_get(mf, 0) == -1.5);
  nn_tensor *all[] = {x, m, m0, v, v2, v2b, s1, one, v1, xf, mf};
  for (int k = 0; k < LEN(all); k++) nn_release(all[k]);
}

TEST(reduce_norm) {
  nn_tensor *x = x234(NN_F64);
  REQUIRE(x);
  struct {
    double p, want;
  } cases[] = {{2, 33.6600653594}, {1, 143},       {3, 21.5751829746},
               {INFINITY, 11},     {-INFINITY, 0}, {0, 23}};
  for (int k = 0; k < LEN(cases); k++) {
    nn_tensor *n = nn_norm(x, cases[k].p, -1, false);
    CHECK(same(n, NN_F64, 0, NULL, &cases[k].want, 1e-9));
    nn_release(n);
  }
  nn_tensor *n2 = nn_norm(x, 2, 2, true);
  double want[] = {15.1657508881, 11.9163752878, 13.6747943312,
                   13.4536240471, 13.0384048104, 14.9331845231};
  CHECK(same(n2, NN_F64, 3, (int64_t[]){2, 3, 1}, want, 1e-9));
  CHECK(nn_norm(x, NAN, -1, false) == NULL && strstr(nn_errmsg(), "nan"));
  nn_release(n2);
  nn_release(x);
}

TEST(reduce_logsumexp_stable) {
  nn_tensor *x = x234(NN_F64);
  REQUIRE(x);
  nn_tensor *l1 = nn_logsumexp(x, 1, false), *l = nn_logsumexp(x, -1, false);
  double want[] = {9.0000454010, 3.0485895047,  4.0000476591,  8.0485895047,
                   6.0000476591, 10.0485895047, 11.0000476591, 2.0000476591};
  CHECK(same(l1, NN_F64, 2, (int64_t[]){2, 4}, want, 1e-9));
  CHECK(same(l, NN_F64, 0, NULL, (double[]){11.4586751455}, 1e-9));
  /* large values: exp(1000) overflows, the shifted form does not (PyTorch: 1000.8619995) */
  nn_tensor *big = test_tensor(NN_F32, 2, (int64_t[]){1, 3}, (double[]){1000, 1000, 999});
  nn_tensor *lb = nn_logsumexp(big, 1, true);
  CHECK(same(lb, NN_F32, 2, (int64_t[]){1, 1}, (double[]){1000.8619995117}, 1e-4));
  /* a slice of -inf gives -inf, not nan; an empty one too */
  nn_tensor *ninf = nn_full(NN_F64, 1, (int64_t[]){2}, -INFINITY);
  nn_tensor *ln = nn_logsumexp(ninf, 0, false);
  CHECK(ln && test_get(ln, 0) == -INFINITY);
  nn_tensor *empty = nn_empty(NN_F32, 2, (int64_t[]){2, 0}), *le = nn_logsumexp(empty, 1, true);
  CHECK(same(le, NN_F32, 2, (int64_t[]){2, 1}, (double[]){-INFINITY, -INFINITY}, 0));
  nn_tensor *all[] = {x, l1, l, big, lb, ninf, ln, empty, le};
  for (int k = 0; k < LEN(all); k++) nn_release(all[k]);
}

TEST(reduce_max_min_and_ties) {
  nn_tensor *x = x234(NN_F64);
  REQUIRE(x);
  nn_tensor *i, *v = nn_max(x, 0, false, &i);
  double want_v[] = {-4, 10, 1, 8, 6, -3, 11, 2, 9, 7, -2, 5};
  double want_i[] = {1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 0};
  CHECK(same(v, NN_F64, 2, (int64_t[]){3, 4}, want_v, 0));
  CHECK(same(i, NN_I64, 2, (int64_t[]){3, 4}, want_i, 0));
  nn_tensor *ia = nn_argmax(x, -1, false), *ib = nn_argmin(x, 2, true);
  CHECK(same(ia, NN_I64, 0, NULL, (double[]){18}, 0));
  CHECK(same(ib, NN_I64, 3, (int64_t[]){2, 3, 1}, (double[]){0, 1, 2, 3, 1, 3}, 0));
  nn_tensor *ai, *all_min = nn_min(x, -1, true, &ai); /* keepdim is ignored over everything */
  CHECK(same(all_min, NN_F64, 0, NULL, (double[]){-11}, 0));
  CHECK(same(ai, NN_I64, 0, NULL, (double[]){0}, 0)); /* -11 at 0 and 23: the first */
  /* ties: the first wins; NaN is the most extreme for both max and min */
  nn_tensor *t = test_tensor(NN_F32, 1, (int64_t[]){5}, (double[]){1, 3, 3, 0, 0});
  nn_tensor *tmax = nn_argmax(t, 0, false), *tmin = nn_argmin(t, 0, false);
  CHECK(same(tmax, NN_I64, 0, NULL, (double[]){1}, 0));
  CHECK(same(tmin, NN_I64, 0, NULL, (double[]){3}, 0));
  nn_tensor *nan = test_tensor(NN_F32, 1, (int64_t[]){4}, (double[]){1, NAN, 5, NAN});
  nn_tensor *nmax = nn_argmax(nan, 0, false), *nmin = nn_argmin(nan, 0, false);
  nn_tensor *nv = nn_max(nan, -1, false, NULL);
  CHECK(same(nmax, NN_I64, 0, NULL, (double[]){1}, 0));
  CHECK(same(nmin, NN_I64, 0, NULL, (double[]){1}, 0));
  CHECK(same(nv, NN_F32, 0, NULL, (double[]){NAN}, 0));
  /* the same over an outer dim (slices swept side by side), and over the inner one */
  nn_tensor *cols = test_tensor(NN_F32, 2, (int64_t[]){4, 3},
                                (double[]){1, NAN, 5, 3, 2, 1, 3, NAN, NAN, 0, 7, 9});
  nn_tensor *rows = nn_transpose(cols, 0, 1);
  nn_tensor *cmax = nn_argmax(cols, 0, false), *cmin = nn_argmin(cols, 0, false);
  nn_tensor *rmax = nn_argmax(rows, 1, false), *cv = nn_max(cols, 0, false, NULL);
  CHECK(same(cmax, NN_I64, 1, (int64_t[]){3}, (double[]){1, 0, 2}, 0));
  CHECK(same(cmin, NN_I64, 1, (int64_t[]){3}, (double[]){3, 0, 2}, 0));
  CHECK(same(rmax, NN_I64, 1, (int64_t[]){3}, (double[]){1, 0, 2}, 0));
  CHECK(same(cv, NN_F32, 1, (int64_t[]){3}, (double[]){3, NAN, NAN}, 0));
  nn_tensor *all[] = {x,   v,    i,    ia, ib,   ai,   all_min, t,    tmax, tmin,
                      nan, nmax, nmin, nv, cols, rows, cmax,    cmin, rmax, cv};
  for (int k = 0; k < LEN(all); k++) nn_release(all[k]);
}

TEST(reduce_empty_tensors) {
  nn_tensor *e = nn_empty(NN_F32, 2, (int64_t[]){0, 3});
  nn_tensor *s = nn_sum(e, -1, false), *s0 = nn_sum(e, 0, false), *s1 = nn_sum(e, 1, false);
  CHECK(same(s, NN_F32, 0, NULL, (double[]){0}, 0));
  CHECK(same(s0, NN_F32, 1, (int64_t[]){3}, (double[]){0, 0, 0}, 0));
  CHECK(same(s1, NN_F32, 1, (int64_t[]){0}, NULL, 0));
  nn_tensor *p = nn_prod(e, -1, false), *m = nn_mean(e, -1, false);
  CHECK(same(p, NN_F32, 0, NULL, (double[]){1}, 0));
  CHECK(same(m, NN_F32, 0, NULL, (double[]){NAN}, 0));
  nn_tensor *a1 = nn_argmax(e, 1, false); /* nothing to pick, and no slice to pick from */
  CHECK(same(a1, NN_I64, 1, (int64_t[]){0}, NULL, 0));
  nn_tensor *n = nn_norm(e, INFINITY, -1, false); /* PyTorch: 0 */
  CHECK(same(n, NN_F32, 0, NULL, (double[]){0}, 0));
  CHECK(nn_argmax(e, 0, false) == NULL && strstr(nn_errmsg(), "size 0") &&
        strstr(nn_errmsg(), "{0,3}"));
  CHECK(nn_max(e, -1, false, NULL) == NULL && strstr(nn_errmsg(), "empty tensor") &&
        strstr(nn_errmsg(), "{0,3}"));
  nn_tensor *i = (nn_tensor *)1;
  CHECK(nn_min(e, 0, false, &i) == NULL && i == NULL);
  nn_tensor *all[] = {e, s, s0, s1, p, m, a1, n};
  for (int k = 0; k < LEN(all); k++) nn_release(all[k]);
}

TEST(reduce_zero_dim_and_bad_args) {
  nn_tensor *z = nn_scalar(NN_F64, 4);
  nn_tensor *s = nn_sum(z, 0, false), *a = nn_argmax(z, -1, false);
  CHECK(same(s, NN_F64, 0, NULL, (double[]){4}, 0));
  CHECK(same(a, NN_I64, 0, NULL, (double[]){0}, 0));
  nn_tensor *x = x234(NN_F32), *xi = x234(NN_I64);
  CHECK(nn_sum(x, 3, false) == NULL && strstr(nn_errmsg(), "dimension 4 is out of range") &&
        strstr(nn_errmsg(), "{2,3,4}"));
  CHECK(nn_argmin(x, 7, false) == NULL && strstr(nn_errmsg(), "out of range"));
  CHECK(nn_mean(xi, -1, false) == NULL && strstr(nn_errmsg(), "float") &&
        strstr(nn_errmsg(), "i64"));
  CHECK(nn_var(xi, 0, false, true) == NULL && strstr(nn_errmsg(), "i64"));
  CHECK(nn_norm(xi, 2, 0, false) == NULL && strstr(nn_errmsg(), "i64"));
  /* logsumexp of integers computes in f32, as PyTorch: log(e+e^2+e^3) = 3.4076059644 */
  nn_tensor *ints = test_tensor(NN_I64, 1, (int64_t[]){3}, (double[]){1, 2, 3});
  nn_tensor *l = nn_logsumexp(ints, 0, false);
  CHECK(same(l, NN_F32, 0, NULL, (double[]){3.4076059644}, 1e-6));
  /* the op entries are in the table and check their attributes too */
  const nn_op *op = nn_op_find("sum");
  CHECK(op == &nn_op_sum && nn_op_find("argmin") == &nn_op_argmin);
  nn_attr bad = {.i = {5, 0}, .ni = 2};
  CHECK(nn_call(&nn_op_prod, &x, &bad) == NULL && strstr(nn_errmsg(), "out of range"));
  nn_tensor *all[] = {z, s, a, x, xi, ints, l};
  for (int k = 0; k < LEN(all); k++) nn_release(all[k]);
}

/* ---- creation helpers ---- */

TEST(create_arange) {
  nn_tensor *r = nn_arange(1, 5, 1, NN_I64);
  CHECK(same(r, NN_I64, 1, (int64_t[]){5}, (double[]){1, 2, 3, 4, 5}, 0));
  nn_tensor *f = nn_arange(0, 1, 0.1, NN_F64); /* 11 elements despite rounding */
  CHECK(f && f->shape[0] == 11 && fabs(test_get(f, 10) - 1) < 1e-12);
  nn_tensor *down = nn_arange(5, 1, -2, NN_F32);
  CHECK(same(down, NN_F32, 1, (int64_t[]){3}, (double[]){5, 3, 1}, 0));
  nn_tensor *wrong = nn_arange(1, 5, -1, NN_F32); /* wrong-sign step: empty, like a for loop */
  CHECK(same(wrong, NN_F32, 1, (int64_t[]){0}, NULL, 0));
  nn_tensor *one = nn_arange(3, 3, 1, NN_F32);
  CHECK(same(one, NN_F32, 1, (int64_t[]){1}, (double[]){3}, 0));
  nn_tensor *part = nn_arange(0, 1, 0.3, NN_F64); /* stops below b */
  CHECK(same(part, NN_F64, 1, (int64_t[]){4}, (double[]){0, 0.3, 0.6, 0.9}, 1e-12));
  CHECK(nn_arange(1, 5, 0, NN_F32) == NULL && strstr(nn_errmsg(), "zero"));
  CHECK(nn_arange(1, INFINITY, 1, NN_F32) == NULL && strstr(nn_errmsg(), "finite"));
  CHECK(nn_arange(0, 1e300, 1, NN_F32) == NULL && strstr(nn_errmsg(), "too many"));
  nn_tensor *all[] = {r, f, down, wrong, one, part};
  for (int k = 0; k < LEN(all); k++) nn_release(all[k]);
}

TEST(create_linspace_eye) {
  nn_tensor *l = nn_linspace(0, 1, 7, NN_F32); /* i/6, the ends exact */
  double want[] = {0, 1 / 6.0, 2 / 6.0, 0.5, 4 / 6.0, 5 / 6.0, 1};
  CHECK(same(l, NN_F32, 1, (int64_t[]){7}, want, 1e-7));
  CHECK(l && test_get(l, 6) == 1);
  nn_tensor *l1 = nn_linspace(2, 9, 1, NN_F64), *l0 = nn_linspace(2, 9, 0, NN_F64);
  CHECK(same(l1, NN_F64, 1, (int64_t[]){1}, (double[]){2}, 0));
  CHECK(same(l0, NN_F64, 1, (int64_t[]){0}, NULL, 0));
  nn_tensor *ld = nn_linspace(3, -3, 4, NN_F64);
  CHECK(same(ld, NN_F64, 1, (int64_t[]){4}, (double[]){3, 1, -1, -3}, 0));
  CHECK(nn_linspace(0, 1, -1, NN_F32) == NULL && strstr(nn_errmsg(), "-1"));
  nn_tensor *e = nn_eye(3, NN_U8), *e0 = nn_eye(0, NN_F32);
  CHECK(same(e, NN_U8, 2, (int64_t[]){3, 3}, (double[]){1, 0, 0, 0, 1, 0, 0, 0, 1}, 0));
  CHECK(same(e0, NN_F32, 2, (int64_t[]){0, 0}, NULL, 0));
  CHECK(nn_eye(-2, NN_F32) == NULL && strstr(nn_errmsg(), "-2"));
  nn_tensor *all[] = {l, l1, l0, ld, e, e0};
  for (int k = 0; k < LEN(all); k++) nn_release(all[k]);
}

/* Every path, the failing ones included, gives back all it allocates. */
TEST(reduce_no_leaks) {
  nn_tensor *x = x234(NN_F32), *t = nn_transpose(x, 0, 2), *e = nn_empty(NN_F32, 1, (int64_t[]){0});
  REQUIRE(x && t && e);
  size_t before = nn_alloc_live();
  for (int d = -1; d < 4; d++) {
    nn_tensor *i = NULL, *j = NULL;
    nn_tensor *r[] = {
        nn_sum(t, d, true),         nn_prod(t, d, false),      nn_argmax(t, d, false),
        nn_argmin(x, d, true),      nn_mean(t, d, false),      nn_var(t, d, true, true),
        nn_std(x, d, false, false), nn_norm(t, 3, d, false),   nn_norm(t, INFINITY, d, true),
        nn_norm(t, 0, d, false),    nn_logsumexp(t, d, false), nn_max(t, d, false, &i),
        nn_min(x, d, true, &j),     nn_max(e, d, false, NULL), nn_sum(e, d, false),
        nn_logsumexp(e, d, true)};
    for (int k = 0; k < LEN(r); k++) nn_release(r[k]);
    nn_release(i);
    nn_release(j);
  }
  CHECK(nn_alloc_live() == before);
  nn_release(x), nn_release(t), nn_release(e);
}

/* ---- derivatives: backward and forward mode against central differences (f64) ---- */

typedef nn_tensor *(*reduce_fn)(nn_tensor *x, int dim, bool keepdim);
static nn_tensor *max_values(nn_tensor *x, int dim, bool keepdim) {
  return nn_max(x, dim, keepdim, NULL);
}
static nn_tensor *var_unbiased(nn_tensor *x, int dim, bool keepdim) {
  return nn_var(x, dim, keepdim, true);
}
static nn_tensor *std_biased(nn_tensor *x, int dim, bool keepdim) {
  return nn_std(x, dim, keepdim, false);
}
static nn_tensor *norm3(nn_tensor *x, int dim, bool keepdim) {
  return nn_norm(x, 3, dim, keepdim);
}
static nn_tensor *norm2(nn_tensor *x, int dim, bool keepdim) {
  return nn_norm(x, 2, dim, keepdim);
}

/* <f(x), w> for fixed weights w, as a number */
static double weighted_sum(reduce_fn f, nn_tensor *x, int d, bool keep, const nn_tensor *w) {
  nn_tensor *y = f(x, d, keep);
  double s = y ? test_dot(y, w) : 0;
  nn_release(y);
  return s;
}

static bool gradcheck(const char *name, reduce_fn f, nn_tensor *x, int d, bool keep) {
  nn_tensor *y = f(x, d, keep);
  if (!y) return false;
  nn_tensor *w = nn_empty_like(y), *v = nn_empty_like(x);
  for (int64_t i = 0; i < nn_numel(w); i++) ((double *)nn_data(w))[i] = 0.3 + 0.1 * (i % 7);
  for (int64_t i = 0; i < nn_numel(v); i++) ((double *)nn_data(v))[i] = 0.5 - 0.2 * (i % 5);
  nn_release(y);
  /* reverse mode */
  x->requires_grad = true;
  y = f(x, d, keep);
  nn_tensor *yw = nn_mul(y, w), *s = nn_sum(yw, -1, false);
  bool ok = s && nn_backward(s, NULL, false) == 0 && x->grad;
  nn_release(y), nn_release(yw), nn_release(s);
  nn_tensor *g = x->grad;
  x->requires_grad = false, x->grad = NULL;
  /* forward mode along v */
  x->tangent = nn_retain(v);
  nn_fwd_enter();
  nn_tensor *yt = f(x, d, keep);
  nn_fwd_leave();
  nn_release(x->tangent);
  x->tangent = NULL;
  double jvp = 0, dot = 0, eps = 1e-6;
  if (!ok || !yt || !yt->tangent)
    fprintf(stderr, "  %s dim %d: %s failed (%s)\n", name, d, ok ? "jvp" : "backward", nn_errmsg());
  ok = ok && yt && yt->tangent;
  if (ok) jvp = test_dot(yt->tangent, w);
  for (int64_t i = 0; ok && i < nn_numel(x); i++) {
    double *xi = (double *)nn_data(x) + i, keep_x = *xi;
    *xi = keep_x + eps;
    double up = weighted_sum(f, x, d, keep, w);
    *xi = keep_x - eps;
    double down = weighted_sum(f, x, d, keep, w);
    *xi = keep_x;
    double numeric = (up - down) / (2 * eps);
    dot += numeric * test_get(v, i);
    ok = test_grad_close(test_get(g, i), numeric);
    if (!ok)
      fprintf(stderr, "  %s dim %d: element %lld backward %g, differences %g\n", name, d,
              (long long)i, test_get(g, i), numeric);
  }
  if (ok && !test_grad_close(jvp, dot)) {
    fprintf(stderr, "  %s dim %d: jvp %g, differences %g\n", name, d, jvp, dot);
    ok = false;
  }
  nn_release(g), nn_release(w), nn_release(v), nn_release(yt);
  return ok;
}

TEST(reduce_gradients) {
  struct {
    const char *name;
    reduce_fn f;
  } fns[] = {{"sum", nn_sum},       {"prod", nn_prod},          {"mean", nn_mean},
             {"var", var_unbiased}, {"std", std_biased},        {"norm3", norm3},
             {"norm2", norm2},      {"logsumexp", nn_logsumexp}};
  /* distinct values away from 0 (no ties, no kinks), one slice with a zero for prod */
  double vals[24];
  for (int i = 0; i < 24; i++) vals[i] = 0.1 * xval(i) + 0.013 * i + (xval(i) == 0 ? 0.5 : 0);
  nn_tensor *x = test_tensor(NN_F64, 3, (int64_t[]){2, 3, 4}, vals);
  REQUIRE(x);
  for (int k = 0; k < LEN(fns); k++)
    for (int d = -1; d < 3; d++) CHECK(gradcheck(fns[k].name, fns[k].f, x, d, d == 1));
  /* prod with zeros: the gradient is the product of the others, not prod / x */
  nn_tensor *z = test_tensor(NN_F64, 1, (int64_t[]){4}, (double[]){2, 0, 3, 0.5});
  CHECK(gradcheck("prod with a zero", nn_prod, z, 0, false));
  nn_release(x), nn_release(z);
}

/* max/min values are gathered at the arg indices: this needs gather's VJP (ops/index.c) and
   differentiable reshape/squeeze views */
static nn_tensor *min_values(nn_tensor *x, int dim, bool keepdim) {
  return nn_min(x, dim, keepdim, NULL);
}
TEST(reduce_max_min_gradients) {
  double vals[24];
  for (int i = 0; i < 24; i++) vals[i] = 0.1 * xval(i) + 0.013 * i;
  nn_tensor *x = test_tensor(NN_F64, 3, (int64_t[]){2, 3, 4}, vals);
  REQUIRE(x);
  for (int d = -1; d < 3; d++) {
    CHECK(gradcheck("max", max_values, x, d, d == 2));
    CHECK(gradcheck("min", min_values, x, d, d == 0));
  }
  nn_release(x);
}
