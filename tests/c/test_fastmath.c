/* tests/c/test_fastmath.c: f32 exp, log, sigmoid, tanh, log1p, expm1, erf and the normal CDF
   (straight-line code, nn/ops/fastmath.h) against libm's f64 functions, and the activations
   built on them (f32 against the same op in f64, forward and derivative), over a sweep of
   every float's bit pattern in steps. */
#include <stdint.h>
#include <string.h>

#include "nn/autograd.h"
#include "nn/ops/fastmath.h"
#include "test.h"

/* The error of got in units in the last place of want rounded to f32 (subnormals count in
   the smallest subnormal). */
static double ulps(float got, double want) {
  if (isnan(want)) return isnan(got) ? 0 : INFINITY;
  float w = (float)want;
  if (isinf(w)) return got == w ? 0 : INFINITY;
  if (isnan(got) || isinf(got)) return INFINITY;
  if (got == 0 && w == 0 && signbit(got) != signbit(w)) return INFINITY;
  double ulp = fabs(want) < 0x1p-126 ? 0x1p-149 : nextafterf(fabsf(w), INFINITY) - fabsf(w);
  return fabs((double)got - want) / ulp;
}

static double sigmoid(double x) {
  return 1 / (1 + exp(-x));
}

/* Every STEP-th bit pattern (NaNs and infinities included), as one f32 tensor. */
enum { STEP = 997 };

static nn_tensor *sweep(void) {
  int64_t n = (int64_t)((1ull << 32) / STEP) + 1;
  nn_tensor *x = nn_empty(NN_F32, 1, &n);
  if (!x) return NULL;
  float *p = (float *)nn_data(x);
  for (int64_t i = 0; i < n; i++) {
    uint32_t bits = (uint32_t)(i * STEP);
    memcpy(&p[i], &bits, sizeof bits);
  }
  return x;
}

TEST(fastmath_within_3_ulps) {
  nn_tensor *x = sweep();
  REQUIRE(x);
  nn_tensor *(*ops[])(nn_tensor *) = {nn_exp, nn_log, nn_sigmoid, nn_tanh};
  double (*exact[])(double) = {exp, log, sigmoid, tanh};
  const char *names[] = {"exp", "log", "sigmoid", "tanh"};
  for (int k = 0; k < 4; k++) {
    nn_tensor *y = ops[k](x);
    REQUIRE(y);
    const float *px = (const float *)nn_data(x), *py = (const float *)nn_data(y);
    double worst = 0;
    for (int64_t i = 0; i < nn_numel(x); i++) {
      double e = ulps(py[i], exact[k]((double)px[i]));
      if (e > worst) worst = e;
    }
    if (worst > 3) fprintf(stderr, "  f32 %s: %.2f ulps\n", names[k], worst);
    CHECK(worst <= 3);
    nn_release(y);
  }
  nn_release(x);
}

/* The edges one by one: signed zeros, infinities, NaN, overflow and the subnormal range. */
TEST(fastmath_edges) {
  const double in[] = {0.0,    -0.0,  INFINITY, -INFINITY, NAN,  88.72, 88.73, -87.4, -103.9,
                       -104.5, 1e-30, -1e-30,   0.3,       -0.3, 20,    -20,   -88.8, 1e-40};
  nn_tensor *x = test_tensor(NN_F32, 1, (int64_t[]){LEN(in)}, in);
  REQUIRE(x);
  nn_tensor *e = nn_exp(x), *l = nn_log(x), *s = nn_sigmoid(x), *t = nn_tanh(x);
  REQUIRE(e && l && s && t);
  for (int64_t i = 0; i < LEN(in); i++) {
    double v = (double)(float)in[i];
    CHECK(ulps((float)test_get(e, i), exp(v)) <= 3);
    CHECK(ulps((float)test_get(l, i), log(v)) <= 3);
    CHECK(ulps((float)test_get(s, i), sigmoid(v)) <= 3);
    CHECK(ulps((float)test_get(t, i), tanh(v)) <= 3);
  }
  nn_release(x), nn_release(e), nn_release(l), nn_release(s), nn_release(t);
}

static double normcdf(double x) {
  return 0.5 * erfc(-x * M_SQRT1_2);
}

/* The scalar functions themselves: worst error over the sweep, in ulps. */
TEST(fastmath_log1p_expm1_erf_normcdf) {
  float (*fast[])(float) = {nn_log1pf, nn_expm1f, nn_erff, nn_normcdff};
  double (*exact[])(double) = {log1p, expm1, erf, normcdf};
  const char *names[] = {"log1p", "expm1", "erf", "normcdf"};
  const double bound[] = {3, 3, 3.5, 6};
  for (int k = 0; k < 4; k++) {
    double worst = 0;
    for (uint64_t b = 0; b < (1ull << 32); b += STEP) {
      uint32_t u = (uint32_t)b;
      float x;
      memcpy(&x, &u, sizeof x);
      double e = ulps(fast[k](x), exact[k]((double)x));
      worst = e > worst ? e : worst;
    }
    if (worst > bound[k]) fprintf(stderr, "  f32 %s: %.2f ulps\n", names[k], worst);
    CHECK(worst <= bound[k]);
  }
}

/* The error of a derivative: in ulps of the exact value, or of 1 where that is smaller
   (derivatives cross 0, where the terms that cancel are of order 1). */
static double dulps(float got, double want) {
  if (isnan(want) || isinf(want) || fabs(want) >= 1) return ulps(got, want);
  if (isnan(got) || isinf(got)) return INFINITY;
  return fabs((double)got - want) / 0x1p-23;
}

/* Each activation in f32 against the same op on the input converted to f64 (libm), and its
   derivative (the VJP with a gradient of ones) likewise: worst errors in ulps, divided by the
   condition number where it is above 1. */
TEST(fastmath_activations_f32_against_f64) {
  nn_tensor *x = sweep();
  REQUIRE(x);
  const char *ops[] = {"gelu", "gelu_tanh", "silu", "mish", "softplus", "elu", "log1p"};
  const nn_attr attrs[] = {{.ni = 0},      {.ni = 0},  {.f = {1}}, {.ni = 0},
                           {.f = {1, 20}}, {.f = {1}}, {.ni = 0}};
  const double fbound[] = {8, 6, 6, 6, 4, 3, 3}, dbound[] = {8, 8, 6, 8, 4, 3, 3};
  nn_tensor *x64 = nn_to(x, NN_F64);
  REQUIRE(x64);
  for (int k = 0; k < LEN(ops); k++) {
    const nn_op *op = nn_op_find(ops[k]);
    REQUIRE(op);
    nn_tensor *in[2] = {x, x64}, *y[2] = {NULL, NULL}, *d[2] = {NULL, NULL};
    for (int j = 0; j < 2; j++) {
      nn_tensor *xa = nn_alias(in[j]);
      REQUIRE(xa);
      xa->requires_grad = true;
      y[j] = nn_call(op, &xa, &attrs[k]);
      REQUIRE(y[j]);
      nn_tensor *ones = nn_full(in[j]->dtype, y[j]->ndim, y[j]->shape, 1);
      REQUIRE(ones && nn_grad(1, &y[j], &ones, 1, &xa, &d[j], false) == 0);
      nn_release(ones), nn_release(xa);
    }
    const float *px = (const float *)nn_data(x), *fy = (const float *)nn_data(y[0]);
    const float *fd = (const float *)nn_data(d[0]);
    const double *wy = (const double *)nn_data(y[1]), *wd = (const double *)nn_data(d[1]);
    double worst = 0, dworst = 0;
    float at = 0, dat = 0;
    for (int64_t i = 0; i < nn_numel(x); i++) {
      /* the errors are scaled down by the condition number |x f'(x) / f(x)| where it is
         above 1: there an error of half an ulp in x itself (in the tails of e^x, where
         x is large) moves the exact value by that many ulps */
      double cond = wy[i] != 0 ? fabs((double)px[i] * wd[i] / wy[i]) : 1;
      cond = cond > 1 && !isnan(cond) ? cond : 1;
      double e = ulps(fy[i], wy[i]) / cond, de = dulps(fd[i], wd[i]) / cond;
      if (e > worst) worst = e, at = px[i];
      if (de > dworst) dworst = de, dat = px[i];
    }
    if (worst > fbound[k] || dworst > dbound[k])
      fprintf(stderr, "  f32 %s: %.2f ulps at %g, derivative %.2f at %g\n", ops[k], worst, at,
              dworst, dat);
    CHECK(worst <= fbound[k]);
    CHECK(dworst <= dbound[k]);
    for (int j = 0; j < 2; j++) nn_release(y[j]), nn_release(d[j]);
  }
  nn_release(x64);
  nn_release(x);
}

/* sin and cos (snake's): every STEP-th bit pattern of magnitude below 2^20, and the
   non-finite ones (NaN out). */
TEST(fastmath_sin_cos_within_2_ulps) {
  double worst[2] = {0, 0};
  float at[2] = {0, 0};
  for (uint64_t b = 0; b < (1ull << 32); b += STEP) {
    uint32_t u = (uint32_t)b;
    float x, s, c;
    memcpy(&x, &u, sizeof x);
    if (!(fabsf(x) < 0x1p20f) && !isnan(x) && !isinf(x)) continue;
    double e[2] = {ulps(nn_sinf(x), sin((double)x)), ulps(nn_cosf(x), cos((double)x))};
    nn_sincosf(x, &s, &c);
    CHECK(isnan(x) || isinf(x) ? isnan(s) && isnan(c) : s == nn_sinf(x) || x == 0);
    for (int k = 0; k < 2; k++)
      if (e[k] > worst[k]) worst[k] = e[k], at[k] = x;
  }
  if (worst[0] > 2 || worst[1] > 2)
    fprintf(stderr, "  f32 sin: %.2f ulps at %g, cos: %.2f ulps at %g\n", worst[0], at[0], worst[1],
            at[1]);
  CHECK(worst[0] <= 2);
  CHECK(worst[1] <= 2);
}
