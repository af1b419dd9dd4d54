/*
** nn/ops/activation.c: activation functions, one line each in the table below: the name,
** y = f(x), and dy/dx in terms of x, y and the parameters arg[0..1] (the attr scalars).
** pointwise.h makes each line a row loop per float dtype and a differentiable op (VJP and
** JVP are both g * f'(x)). Integer inputs become f32, as for exp and log. The formulas and
** parameter conventions are PyTorch's (softplus's threshold, hardtanh's open interval).
*/
#include "nn/ops/fastmath.h"
#include "nn/ops/pointwise.h"

/* A constant or parameter in the type of x: f32 rows compute in f32 throughout (a double
   would turn the whole formula into double arithmetic, and exp into libm's). */
#define AS_X(c) _Generic((x), float : (float)(c), default : (double)(c))

/* Formulas too long for one line, written once for T = float and T = double: NN_EXP and
   the like call fastmath.h's straight-line f32 code or libm's f64 functions, by the type. */
#define TWIN(name, body)                                                                           \
  static inline float name##_f32(float x, float b) {                                               \
    typedef float T;                                                                               \
    (void)sizeof(T);                                                                               \
    (void)b;                                                                                       \
    body                                                                                           \
  }                                                                                                \
  static inline double name##_f64(double x, double b) {                                            \
    typedef double T;                                                                              \
    (void)sizeof(T);                                                                               \
    (void)b;                                                                                       \
    body                                                                                           \
  }
#define CALL(name, x, b) _Generic((x), float : name##_f32, default : name##_f64)(x, AS_X(b))

static const double SQRT_2_OVER_PI = 0.79788456080286535588, GELU_TANH_C = 0.044715;
static const double INV_SQRT_2PI = 0.39894228040143267794;

/* gelu = x Phi(x) and gelu' = Phi(x) + x phi(x). f32 takes Phi(-a), a = |x|, as e t P(t):
   e = e^(-a^2 / 2), t = 1 / (1 + 0.3 a) and P of degree 7 in s = 1 - t = 0.3 a t (so that
   P(0) = Phi(0) = 1/2 exactly) fitted to Phi(-a) e^(a^2 / 2) / t on [0, 14.5], its relative error
   weighted by 1 / max(1, gelu's condition number at -a) (about a^2 in the tail: there half an ulp
   of error in x itself moves gelu by that many ulps, and test_fastmath.c divides by it): 0.4 ulps
   weighted in exact arithmetic, where nn_normtailf needs degree 9 for 5 ulps unweighted. e takes
   a^2 / 2 rounded once (its relative error is again up to a^2 / 2 ulps) and e^r = 1 + r + r^2 q(r)
   with nn_expf's reduction and q; a <= 15 keeps 2^k within two normal factors, and a NaN a goes
   through t. Every step is a fused multiply-add (fmaf: one instruction in the AVX2 and AVX-512
   clones, libm's exact fused operation in the default one, so every clone gives the same bits):
   half the operations of the separate multiplies and adds. */
static inline float gelu_e_f32(float a) {
  a = a < 15.0f ? a : 15.0f;
  float h = -0.5f * a * a;
  float kf = fmaf(h, NN_LOG2E, NN_ROUND_F) - NN_ROUND_F;
  float r = fmaf(-kf, NN_LN2_LO, fmaf(-kf, NN_LN2_HI, h));
  float q = fmaf(fmaf(fmaf(fmaf(NN_EXPF_Q4, r, NN_EXPF_Q3), r, NN_EXPF_Q2), r, NN_EXPF_Q1), r,
                 NN_EXPF_Q0);
  int32_t k = (int32_t)kf, k1 = k >> 1, k2 = k - k1;
  float p = fmaf(r * r, q, r) + 1.0f;
  return p * nn_bits_float((k1 + 127) << 23) * nn_bits_float((k2 + 127) << 23);
}
static inline float gelu_tail_f32(float a, float e) {
  float t = 1.0f / fmaf(0.3f, a, 1.0f), s = 0.3f * a * t;
  float p = fmaf(-3.543937951e-02f, s, 9.267820418e-02f);
  p = fmaf(p, s, -1.340333372e-02f);
  p = fmaf(p, s, -1.302191019e-01f);
  p = fmaf(p, s, -8.239378035e-02f);
  p = fmaf(p, s, 6.182446480e-01f);
  p = fmaf(p, s, -8.298099637e-01f);
  p = fmaf(p, s, 5.000000000e-01f);
  return e * (t * p);
}
static inline float gelu_f32(float x) {
  float a = x < 0 ? -x : x, q = gelu_tail_f32(a, gelu_e_f32(a));
  return x * (x < 0 ? q : 1.0f - q);
}
static inline double gelu_f64(double x) {
  return x * nn_normcdf_f64(x);
}
static inline float gelu_df_f32(float x) {
  float a = x < 0 ? -x : x;
  float e = gelu_e_f32(a), q = gelu_tail_f32(a, e);
  return (x < 0 ? q : 1.0f - q) + x * (float)INV_SQRT_2PI * e;
}
static inline double gelu_df_f64(double x) {
  return nn_normcdf_f64(x) + x * INV_SQRT_2PI * exp(-0.5 * x * x);
}
#define GELU(x)    _Generic((x), float : gelu_f32, default : gelu_f64)(x)
#define GELU_DF(x) _Generic((x), float : gelu_df_f32, default : gelu_df_f64)(x)

/* gelu_tanh: 0.5 x (1 + tanh u) = x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3) */
TWIN(gelu_tanh_2u, return (T)(2 * SQRT_2_OVER_PI) * (x + (T)GELU_TANH_C * x * x * x);)
/* sigmoid(z) + c z sigmoid'(z) from one e = e^-|z|: sigmoid(z) is 1 / (1 + e) or e / (1 + e),
   and sigmoid'(z) = sigmoid(z) (1 - sigmoid(z)) = e / (1 + e)^2 (1 - sigmoid(z) by itself
   loses its bits for large z). */
TWIN(sigmoid_plus_d, T e = NN_EXP(x < 0 ? x : -x); T r = 1 / (1 + e);
     return (x >= 0 ? r : e * r) + b * e * r * r;)
/* gelu_tanh' = sigmoid(2u) + x sigmoid'(2u) 2u'(x) */
TWIN(gelu_tanh_df, T z = CALL(gelu_tanh_2u, x, 0);
     T c = x * (T)(2 * SQRT_2_OVER_PI) * (1 + (T)(3 * GELU_TANH_C) * x * x);
     return CALL(sigmoid_plus_d, z, c == c && c - c == 0 ? c : 0);) /* c overflows with x^3 */
/* silu' with beta = b: sigmoid(bx) + bx sigmoid'(bx) */
TWIN(silu_df, return CALL(sigmoid_plus_d, b *x, b *x);)
/* mish: tanh(softplus x) = n / (n + 2) with n = e^x (e^x + 2), and
   mish' = tanh(sp x) + x sech^2(sp x) sigmoid(x) = n / (n + 2) + 4 x e^x (1 + e^x) / (n + 2)^2.
   Past x = 20, tanh(sp x) is 1 in f64 too. */
TWIN(mish_t, T e = NN_EXP(x < 20 ? x : 20); T n = e * (e + 2); return n / (n + 2);)
TWIN(mish_df, T e = NN_EXP(x < 20 ? x : 20); T n = e * (e + 2); T r = 1 / (n + 2);
     return n * r + x * (4 * e * r) * ((1 + e) * r);)
/* softplus of z = beta x without overflow: max(z, 0) + log(1 + e^-|z|) */
TWIN(softplus_z, return (x > 0 ? x : 0) + NN_LOG1P(NN_EXP(x > 0 ? -x : x));)

/* name, dtypes, y = f(x), dy/dx */
#define ACTIVATION_TABLE(X)                                                                        \
  X(leaky_relu, FLOAT, x > 0 ? x : AS_X(arg[0]) * x, x > 0 ? 1 : AS_X(arg[0]))                     \
  X(elu, FLOAT, x > 0 ? x : AS_X(arg[0]) * NN_EXPM1_NONPOS(x), x > 0 ? 1 : y + AS_X(arg[0]))       \
  X(gelu, FLOAT, GELU(x), GELU_DF(x))                                                              \
  X(gelu_tanh, FLOAT, x *NN_SIGMOID(CALL(gelu_tanh_2u, x, 0)), CALL(gelu_tanh_df, x, 0))           \
  X(silu, FLOAT, NN_SIGMOID(AS_X(arg[0]) * x) * x, CALL(silu_df, x, arg[0]))                       \
  X(mish, FLOAT, x *CALL(mish_t, x, 0), CALL(mish_df, x, 0))                                       \
  X(softplus, FLOAT,                                                                               \
    AS_X(arg[0]) * x > AS_X(arg[1]) ? x : CALL(softplus_z, AS_X(arg[0]) * x, 0) / AS_X(arg[0]),    \
    AS_X(arg[0]) * x > AS_X(arg[1]) ? 1 : NN_SIGMOID(AS_X(arg[0]) * x))                            \
  X(hardtanh, FLOAT, x > AS_X(arg[1]) ? AS_X(arg[1]) : (x < AS_X(arg[0]) ? AS_X(arg[0]) : x),      \
    (x > AS_X(arg[0])) * (x < AS_X(arg[1])))                                                       \
  X(relu2, FLOAT, x <= 0 ? 0 : x * x, x > 0 ? 2 * x : 0)                                           \
  X(smelu, FLOAT,                                                                                  \
    x <= -AS_X(arg[0])                                                                             \
        ? 0                                                                                        \
        : (x >= AS_X(arg[0]) ? x : (x + AS_X(arg[0])) * (x + AS_X(arg[0])) / (4 * AS_X(arg[0]))),  \
    x <= -AS_X(arg[0]) ? 0 : (x >= AS_X(arg[0]) ? 1 : (x + AS_X(arg[0])) / (2 * AS_X(arg[0]))))    \
  X(snake, FLOAT, x + NN_SIN(AS_X(arg[0]) * x) * NN_SIN(AS_X(arg[0]) * x) / AS_X(arg[0]),          \
    1 + 2 * NN_SIN(AS_X(arg[0]) * x) * NN_COS(AS_X(arg[0]) * x))

/* shifted ReLU max(0, x - b), FATReLU (x where x >= T, else 0), relu(x) s (ReLU attention's
   relu(scores) / L in one pass) */
#define THRESHOLD_TABLE(X)                                                                         \
  X(shifted_relu, FLOAT, x <= AS_X(arg[0]) ? 0 : x - AS_X(arg[0]), x > AS_X(arg[0]))               \
  X(fatrelu, FLOAT, x < AS_X(arg[0]) ? 0 : x, x >= AS_X(arg[0]))                                   \
  X(relu_scaled, FLOAT, x <= 0 ? 0 : x * AS_X(arg[0]), x > 0 ? AS_X(arg[0]) : 0)

ACTIVATION_TABLE(DEFINE_UNARY)
THRESHOLD_TABLE(DEFINE_UNARY)

/* Ops whose backward is deliberately not the derivative of the forward: name, dtypes,
   y = f(x), the factor the backward (and forward mode) applies to g, and the rule. */
#define MODIFIED_TABLE(X)                                                                          \
  X(helu, FLOAT, x <= 0 ? 0 : x, x > -AS_X(arg[0]),                                                \
    "g * 1[x > -alpha]: ReLU forward, its gradient window widened to -alpha (HeLU)")

MODIFIED_TABLE(DEFINE_UNARY_RULE)

static nn_tensor *activate(const nn_op *op, nn_tensor *x, double a0, double a1) {
  nn_attr a = {.f = {a0, a1}};
  return nn_call(op, &x, &a);
}

nn_tensor *nn_leaky_relu(nn_tensor *x, double slope) {
  return activate(&nn_op_leaky_relu, x, slope, 0);
}
nn_tensor *nn_elu(nn_tensor *x, double alpha) {
  return activate(&nn_op_elu, x, alpha, 0);
}
nn_tensor *nn_gelu(nn_tensor *x) {
  return activate(&nn_op_gelu, x, 0, 0);
}
nn_tensor *nn_gelu_tanh(nn_tensor *x) {
  return activate(&nn_op_gelu_tanh, x, 0, 0);
}
nn_tensor *nn_silu(nn_tensor *x, double beta) {
  return activate(&nn_op_silu, x, beta, 0);
}
nn_tensor *nn_mish(nn_tensor *x) {
  return activate(&nn_op_mish, x, 0, 0);
}
nn_tensor *nn_softplus(nn_tensor *x, double beta, double threshold) {
  if (beta == 0) return nn_err("beta must not be 0");
  return activate(&nn_op_softplus, x, beta, threshold);
}
nn_tensor *nn_hardtanh(nn_tensor *x, double lo, double hi) {
  if (lo > hi) return nn_err("lower bound %g is above upper bound %g", lo, hi);
  return activate(&nn_op_hardtanh, x, lo, hi);
}
nn_tensor *nn_relu2(nn_tensor *x) {
  return activate(&nn_op_relu2, x, 0, 0);
}
nn_tensor *nn_smelu(nn_tensor *x, double beta) {
  if (!(beta > 0)) return nn_err("beta must be positive, not %g", beta);
  return activate(&nn_op_smelu, x, beta, 0);
}
nn_tensor *nn_snake(nn_tensor *x, double a) {
  if (a == 0 || a != a) return nn_err("the frequency a must be non-zero, not %g", a);
  return activate(&nn_op_snake, x, a, 0);
}

nn_tensor *nn_shifted_relu(nn_tensor *x, double b) {
  if (b != b) return nn_err("the shift must be a number, not %g", b);
  return activate(&nn_op_shifted_relu, x, b, 0);
}
nn_tensor *nn_fatrelu(nn_tensor *x, double threshold) {
  if (!(threshold > 0)) return nn_err("the threshold must be positive, not %g", threshold);
  return activate(&nn_op_fatrelu, x, threshold, 0);
}
nn_tensor *nn_helu(nn_tensor *x, double alpha) {
  if (!(alpha > 0)) return nn_err("alpha must be positive, not %g", alpha);
  return activate(&nn_op_helu, x, alpha, 0);
}
nn_tensor *nn_relu_scaled(nn_tensor *x, double s) {
  if (!(s > 0)) return nn_err("the scale must be positive, not %g", s);
  return activate(&nn_op_relu_scaled, x, s, 0);
}
