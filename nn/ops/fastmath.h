/*
** nn/ops/fastmath.h: exp, log, sigmoid and tanh in f32 as straight-line code, private to
** nn/ops/.
**
** libm's expf and tanhf are calls, one element at a time; these are a few multiplies and
** adds with selects instead of branches, which the compiler turns into vector code for a
** whole row. Accuracy: within 3 units in the last place of the exact value
** (tests/c/test_fastmath.c sweeps every 997th bit pattern against libm's f64 functions).
** f64 keeps libm.
*/
#ifndef NN_OPS_FASTMATH_H
#define NN_OPS_FASTMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float nn_bits_float(int32_t i) {
  float f;
  memcpy(&f, &i, sizeof f);
  return f;
}

/* e^x = 2^k e^r, k = round(x / ln 2), r = x - k ln 2 with |r| <= ln(2) / 2. ln 2 is split in
   two (its first 9 bits, then the rest) so that k ln2_hi is exact and r keeps its low bits.
   e^r: its Taylor series to r^7, whose remainder is below 0.05 ulp on that interval. 2^k is
   made in two factors, each a normal float, so that results in the subnormal range and
   overflow to infinity come out right. Beyond [-104, 89] e^x is 0 or infinity in f32. */
static inline float nn_expf(float x) {
  const float log2e = 1.44269504088896341f, ln2_hi = 0.693359375f;
  const float ln2_lo = (float)(0.69314718055994531 - 0.693359375);
  const float round_magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
  float xc = x > -104.0f ? x : -104.0f;  /* also turns a NaN into a number, for k */
  xc = xc < 89.0f ? xc : 89.0f;
  float kf = (xc * log2e + round_magic) - round_magic;
  float r = (xc - kf * ln2_hi) - kf * ln2_lo;
  float p = 1.0f / 5040;
  p = p * r + 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  int32_t k = (int32_t)kf, k1 = k / 2, k2 = k - k1;
  float y = p * nn_bits_float((k1 + 127) << 23) * nn_bits_float((k2 + 127) << 23);
  return x == x ? y : x;
}

/* 1 / (1 + e^-x), written e^x / (1 + e^x) for x < 0: e^-|x| never overflows, so that far
   negative x gives e^x (subnormal, at the end) and not 0. */
static inline float nn_sigmoidf(float x) {
  float e = nn_expf(x < 0 ? x : -x);
  return (x < 0 ? e : 1.0f) / (1.0f + e);
}

/* tanh |x| = 1 - 2 / (e^(2|x|) + 1), which loses its low bits to cancellation for small |x|;
   there, below 0.3, its Taylor series x - x^3/3 + 2x^5/15 - ... (to x^13: the remainder is
   below 0.1 ulp). */
static inline float nn_tanhf(float x) {
  float a = x < 0 ? -x : x;
  float big = 1.0f - 2.0f / (nn_expf(2.0f * a) + 1.0f);
  float a2 = a * a;
  float p = 21844.0f / 6081075;
  p = p * a2 - 1382.0f / 155925;
  p = p * a2 + 62.0f / 2835;
  p = p * a2 - 17.0f / 315;
  p = p * a2 + 2.0f / 15;
  p = p * a2 - 1.0f / 3;
  float small = a + a * a2 * p;
  float t = a < 0.3f ? small : big;
  return x == x ? copysignf(t, x) : x;
}

static inline int32_t nn_float_bits(float f) {
  int32_t i;
  memcpy(&i, &f, sizeof i);
  return i;
}

/* log x = e ln 2 + log m, x = m 2^e with m in [sqrt(1/2), sqrt(2)); log m = 2 atanh s with
   s = (m - 1) / (m + 1), |s| <= 0.172: its series 2 (s + s^3/3 + s^5/5 + ...) to s^11 leaves
   a remainder below 0.01 ulp. Subnormal x is scaled by 2^23 first; x <= 0, infinity and NaN
   take IEEE's answers from a select at the end. */
static inline float nn_logf(float x) {
  const float ln2_hi = 0.693359375f, ln2_lo = (float)(0.69314718055994531 - 0.693359375);
  const float sqrt_half = 0.70710678118654752f;
  int sub = x < 1.17549435e-38f;
  float xs = sub ? x * 8388608.0f : x; /* 2^23 */
  int32_t bits = nn_float_bits(xs);
  int32_t e = ((bits >> 23) & 0xff) - 127 - (sub ? 23 : 0);
  float m = nn_bits_float((bits & 0x007fffff) | 0x3f800000); /* in [1, 2) */
  int big = m > 2 * sqrt_half;
  m = big ? 0.5f * m : m;
  e = big ? e + 1 : e;
  float s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
  float p = 1.0f / 11;
  p = p * s2 + 1.0f / 9;
  p = p * s2 + 1.0f / 7;
  p = p * s2 + 1.0f / 5;
  p = p * s2 + 1.0f / 3;
  float lm = 2.0f * s + 2.0f * s * s2 * p;
  float ef = (float)e;
  float y = (ef * ln2_lo + lm) + ef * ln2_hi;
  y = x == 0 ? -INFINITY : y;
  y = x < 0 ? NAN : y;
  return x == INFINITY || x != x ? x : y;
}

/* The unary table's formulas, by the type of x: f32 here, f64 from libm. */
static inline double nn_sigmoid_f64(double x) {
  return 1 / (1 + exp(-x));
}
#define NN_EXP(x)     _Generic((x), float : nn_expf, default : exp)(x)
#define NN_LOG(x)     _Generic((x), float : nn_logf, default : log)(x)
#define NN_SIGMOID(x) _Generic((x), float : nn_sigmoidf, default : nn_sigmoid_f64)(x)
#define NN_TANH(x)    _Generic((x), float : nn_tanhf, default : tanh)(x)

#endif
