/*
** nn/ops/fastmath.h: exp, log, sigmoid, tanh, log1p, expm1, erf, the normal CDF, sin and cos in f32
*as
** straight-line code, private to nn/ops/.
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

/* ln 2 in two parts (its first 9 bits, then the rest), log2(e), and 1.5 2^23 (adding it rounds
   an f32 below 2^22 to an integer): the reductions of exp, expm1 and log */
#define NN_LN2_HI  0.693359375f
#define NN_LN2_LO  ((float)(0.69314718055994531 - 0.693359375))
#define NN_LOG2E   1.44269504088896341f
#define NN_ROUND_F 12582912.0f
/* nn_expf_hilo's q (below) */
#define NN_EXPF_Q0 4.999999343e-01f
#define NN_EXPF_Q1 1.666652039e-01f
#define NN_EXPF_Q2 4.166839065e-02f
#define NN_EXPF_Q3 8.368745506e-03f
#define NN_EXPF_Q4 1.381454844e-03f

/* e^x = 2^k e^r, k = round(x / ln 2), r = x - k ln 2 with |r| <= ln(2) / 2. ln 2 is split in
   two (its first 9 bits, then the rest) so that k ln2_hi is exact and r keeps its low bits.
   e^r = 1 + r + r^2 q(r), q of degree 4 fitted to (e^r - 1 - r) / r^2 on that interval by
   weighted least squares (relative error 0.05 ulp). 2^k is made in two factors, each a
   normal float, so that results in the subnormal range and overflow to infinity come out
   right. Beyond [-104, 89] e^x is 0 or infinity in f32. nn_expf_hilo is e^(hi + lo) for a
   sum given in two parts (lo small), which keeps the bits of lo that hi + lo would round
   away. */
static inline float nn_expf_hilo(float hi, float lo) {
  float xc = hi > -104.0f ? hi : -104.0f; /* also turns a NaN into a number, for k */
  xc = xc < 89.0f ? xc : 89.0f;
  lo = lo == lo ? lo : 0.0f; /* (a NaN lo comes with a NaN hi, which is returned) */
  float kf = ((xc + lo) * NN_LOG2E + NN_ROUND_F) - NN_ROUND_F;
  float r = ((xc - kf * NN_LN2_HI) - kf * NN_LN2_LO) + lo;
  float q = NN_EXPF_Q4;
  q = q * r + NN_EXPF_Q3;
  q = q * r + NN_EXPF_Q2;
  q = q * r + NN_EXPF_Q1;
  q = q * r + NN_EXPF_Q0;
  float p = 1.0f + (r + r * r * q);
  int32_t k = (int32_t)kf, k1 = k >> 1, k2 = k - k1; /* >> of a negative int: GCC's is arithmetic */
  float y =
      p * nn_bits_float((uint32_t)(k1 + 127) << 23) * nn_bits_float((uint32_t)(k2 + 127) << 23);
  return hi == hi ? y : hi;
}

static inline float nn_expf(float x) {
  return nn_expf_hilo(x, -0.0f); /* x + -0 is x, and the compiler drops it */
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
  float y = (ef * NN_LN2_LO + lm) + ef * NN_LN2_HI;
  y = x == 0 ? -INFINITY : y;
  y = x < 0 ? NAN : y;
  return x == INFINITY || x != x ? x : y;
}

/* log(1 + x): u = 1 + x rounds, and log u is then corrected by the first-order term of what
   the rounding lost, ((u - 1) - x) / u. Where u is 0 or infinite, log u itself. */
static inline float nn_log1pf(float x) {
  float u = 1.0f + x;
  float y = nn_logf(u) - ((u - 1.0f) - x) / u;
  return u == 0 || u == INFINITY ? nn_logf(u) : y;
}

/* e^x - 1 = 2^k (e^r - 1) + (2^k - 1), with k and r as in nn_expf: e^r - 1 from its Taylor
   series to r^8 (the remainder below 0.01 ulp), free of the cancellation of e^x - 1 near 0.
   Beyond k = 24 the - 1 no longer shows and e^x is the answer; below x = -17.4, -1. */
/* 2^k (e^r - 1) + (2^k - 1) for xc in [-18, 18] */
static inline float nn_expm1f_core(float xc) {
  float kf = (xc * NN_LOG2E + NN_ROUND_F) - NN_ROUND_F;
  float r = (xc - kf * NN_LN2_HI) - kf * NN_LN2_LO;
  float p = 1.0f / 40320;
  p = p * r + 1.0f / 5040;
  p = p * r + 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r * r + r; /* e^r - 1 */
  float two_k = nn_bits_float((uint32_t)((int32_t)kf + 127) << 23);
  return p * two_k + (two_k - 1.0f);
}
/* the signed zeros, the far negative side and NaN, for x up to hi */
static inline float nn_expm1f_clamped(float x, float hi) {
  float xc = x > -18.0f ? x : -18.0f;
  float y = nn_expm1f_core(xc < hi ? xc : hi);
  y = x < -17.4f ? -1.0f : y;
  y = x == 0 ? x : y; /* -0 stays -0 */
  return x == x ? y : x;
}
static inline float nn_expm1f(float x) {
  return x > 17.0f ? nn_expf(x) : nn_expm1f_clamped(x, 18.0f);
}
/* the same for x <= 0 (elu's negative side), without the e^x of large x: half the work */
static inline float nn_expm1f_nonpos(float x) {
  return nn_expm1f_clamped(x, 0.0f);
}

/* The standard normal tail Phi(-a) for a >= 0, given e = e^(-a^2 / 2): e t P(t) with
   t = 1 / (1 + 0.3 a) and P of degree 9 fitted to Phi(-a) e^(a^2 / 2) / t on [0, 14.5] by
   weighted least squares (relative error 3.5e-9 in exact arithmetic, 5 ulps in f32). */
static inline float nn_normtailf(float a, float e) {
  float t = 1.0f / (1.0f + 0.3f * a);
  float p = -2.062353948e-02f;
  p = p * t + 1.124359909e-01f;
  p = p * t - 2.282144734e-01f;
  p = p * t + 1.917856741e-01f;
  p = p * t - 7.942441185e-02f;
  p = p * t + 9.615730856e-02f;
  p = p * t + 7.838949276e-02f;
  p = p * t + 1.102354563e-01f;
  p = p * t + 1.195718104e-01f;
  p = p * t + 1.196866900e-01f;
  return e * (t * p);
}

/* e^(-x^2 / 2) for x >= 0 (0 past 15), with x^2 / 2 in two exact parts: x = h + l, h its first 12
   bits, so h^2 / 2 is exact and l (x + h) / 2 the small rest. */
static inline float nn_exp_halfsqf(float x) {
  int32_t bits = nn_float_bits(x), most = 0x41700000; /* 15: x >= 0 orders as its bits */
  bits = bits < most ? bits : most;
  x = nn_bits_float(bits);
  float h = nn_bits_float(bits & (int32_t)0xfffff000), l = x - h;
  return nn_expf_hilo(-0.5f * h * h, -0.5f * l * (x + h));
}

/* The standard normal CDF: Phi(-|x|) from the tail, and 1 - that for x > 0 (no cancellation:
   the tail is at most 1/2). */
static inline float nn_normcdff(float x) {
  float a = x < 0 ? -x : x;
  float q = nn_normtailf(a, nn_exp_halfsqf(a)); /* NaN for a NaN x, through t */
  return x < 0 ? q : 1.0f - q;
}

/* erf x: its Taylor series 2/sqrt(pi) (x - x^3/3 + x^5/10 - ...) to x^15 for |x| < 1/2, else
   1 - 2 Phi(-sqrt(2) |x|) with the sign of x. */
static inline float nn_erff(float x) {
  float a = x < 0 ? -x : x, x2 = x * x;
  float p = -1.0f / 75600;
  p = p * x2 + 1.0f / 9360;
  p = p * x2 - 1.0f / 1320;
  p = p * x2 + 1.0f / 216;
  p = p * x2 - 1.0f / 42;
  p = p * x2 + 1.0f / 10;
  p = p * x2 - 1.0f / 3;
  float small = 1.1283791670955126f * (x + x * x2 * p);
  float s = 1.41421356237309505f * (a < 6.0f ? a : 6.0f);
  float big = 1.0f - 2.0f * nn_normtailf(s, nn_exp_halfsqf(s));
  float y = a < 0.5f ? small : copysignf(big, x);
  return x == x ? y : x;
}

/* sin x and cos x together. x = k pi/2 + r, |r| <= pi/4, the reduction in f64 (x and k are
   exact there, and pi/2 in two parts keeps r's bits for |x| up to 2^20 and beyond); then
   r + r^3 S(r^2) and 1 - r^2/2 + r^4 C(r^2), each of degree 3 in r^2 (Cephes' coefficients for
   sinf/cosf: below 0.6 ulp on [-pi/4, pi/4]), and the quadrant k mod 4 chooses and signs
   them. Within 2 ulps for |x| < 2^20 (1.56 measured; test_fastmath.c sweeps it); a NaN or
   infinite x gives NaN. */
static inline void nn_sincosf(float x, float *sp, float *cp) {
  const double two_over_pi = 0.63661977236758134308, pio2_hi = 1.5707963267341256;
  const double pio2_lo = 6.0771005065061922e-11, round_magic = 6755399441055744.0; /* 1.5 2^52 */
  double xd = x, kd = (xd * two_over_pi + round_magic) - round_magic;
  float r = (float)((xd - kd * pio2_hi) - kd * pio2_lo), r2 = r * r;
  float s = -1.9515295891e-4f;
  s = s * r2 + 8.3321608736e-3f;
  s = s * r2 - 1.6666654611e-1f;
  s = r + r * r2 * s;
  float c = 2.443315711809948e-5f;
  c = c * r2 - 1.388731625493765e-3f;
  c = c * r2 + 4.166664568298827e-2f;
  c = (1.0f - 0.5f * r2) + r2 * r2 * c;
  double kq = kd - 4.0 * floor(kd * 0.25); /* k mod 4, in range for the conversion */
  int32_t q = (int32_t)(float)(kq == kq ? kq : 0.0);
  float sv = q & 1 ? c : s, cv = q & 1 ? s : c;
  sv = q & 2 ? -sv : sv;
  cv = (q + 1) & 2 ? -cv : cv;
  float bad = x - x; /* NaN for an infinite or NaN x, else 0 */
  *sp = sv + bad;
  *cp = cv + bad;
}
static inline float nn_sinf(float x) {
  float s, c;
  nn_sincosf(x, &s, &c);
  return x == 0 ? x : s; /* -0 stays -0 */
}
static inline float nn_cosf(float x) {
  float s, c;
  nn_sincosf(x, &s, &c);
  return c;
}

/* The unary table's formulas, by the type of x: f32 here, f64 from libm. */
static inline double nn_sigmoid_f64(double x) {
  return 1 / (1 + exp(-x));
}
static inline double nn_normcdf_f64(double x) {
  return 0.5 * erfc(-x * 0.70710678118654752440);
}
#define NN_EXP(x)          _Generic((x), float : nn_expf, default : exp)(x)
#define NN_LOG(x)          _Generic((x), float : nn_logf, default : log)(x)
#define NN_SIGMOID(x)      _Generic((x), float : nn_sigmoidf, default : nn_sigmoid_f64)(x)
#define NN_TANH(x)         _Generic((x), float : nn_tanhf, default : tanh)(x)
#define NN_LOG1P(x)        _Generic((x), float : nn_log1pf, default : log1p)(x)
#define NN_EXPM1(x)        _Generic((x), float : nn_expm1f, default : expm1)(x)
#define NN_EXPM1_NONPOS(x) _Generic((x), float : nn_expm1f_nonpos, default : expm1)(x)
#define NN_ERF(x)          _Generic((x), float : nn_erff, default : erf)(x)
#define NN_NORMCDF(x)      _Generic((x), float : nn_normcdff, default : nn_normcdf_f64)(x)
#define NN_SIN(x)          _Generic((x), float : nn_sinf, default : sin)(x)
#define NN_COS(x)          _Generic((x), float : nn_cosf, default : cos)(x)

#endif
