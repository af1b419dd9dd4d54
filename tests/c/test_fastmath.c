/* tests/c/test_fastmath.c: f32 exp, log, sigmoid and tanh (straight-line code, nn/ops/fastmath.h)
   against libm's f64 functions, over a sweep of every float's bit pattern in steps. */
#include <stdint.h>
#include <string.h>

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
