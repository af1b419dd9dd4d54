/*
** nn/ops/activation.c: activation functions, one line each in the table below: the name,
** y = f(x), and dy/dx in terms of x, y and the parameters arg[0..1] (the attr scalars).
** pointwise.h makes each line a row loop per float dtype and a differentiable op (VJP and
** JVP are both g * f'(x)). Integer inputs become f32, as for exp and log. The formulas and
** parameter conventions are PyTorch's (softplus's threshold, hardtanh's open interval).
*/
#include "nn/ops/fastmath.h"
#include "nn/ops/pointwise.h"

/* Derivatives too long for one line; double precision, for f32 as for f64. */
static const double SQRT_2_OVER_PI = 0.79788456080286535588, GELU_TANH_C = 0.044715;
static const double INV_SQRT_2PI = 0.39894228040143267794;

static inline double gelu_df(double x) {
  return 0.5 * (1 + erf(x * M_SQRT1_2)) + x * INV_SQRT_2PI * exp(-0.5 * x * x);
}
static inline double gelu_tanh_u(double x) {
  return SQRT_2_OVER_PI * (x + GELU_TANH_C * x * x * x);
}
static inline double gelu_tanh_df(double x) {
  double t = tanh(gelu_tanh_u(x));
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * GELU_TANH_C * x * x);
}
static inline double silu_df(double x, double beta) {
  double s = nn_sigmoid_f64(beta * x);
  return s + beta * x * s * (1 - s);
}
static inline double mish_df(double x) {
  double t = tanh(log1p(exp(x)));
  return t + x * (1 - t * t) * nn_sigmoid_f64(x);
}

/* name, dtypes, y = f(x), dy/dx */
#define ACTIVATION_TABLE(X)                                                                        \
  X(leaky_relu, FLOAT, x > 0 ? x : arg[0] * x, x > 0 ? 1 : arg[0])                                 \
  X(elu, FLOAT, x > 0 ? x : arg[0] * expm1(x), x > 0 ? 1 : y + arg[0])                             \
  X(gelu, FLOAT, 0.5 * x * (1 + erf(x * M_SQRT1_2)), gelu_df(x))                                   \
  X(gelu_tanh, FLOAT, 0.5 * x * (1 + tanh(gelu_tanh_u(x))), gelu_tanh_df(x))                       \
  X(silu, FLOAT, nn_sigmoid_f64(arg[0] * x) * x, silu_df(x, arg[0]))                               \
  X(mish, FLOAT, tanh(log1p(exp(x))) * x, mish_df(x))                                              \
  X(softplus, FLOAT, arg[0] * x > arg[1] ? x : log1p(exp(arg[0] * x)) / arg[0],                    \
    arg[0] * x > arg[1] ? 1 : nn_sigmoid_f64(arg[0] * x))                                          \
  X(hardtanh, FLOAT, x > arg[1] ? arg[1] : (x < arg[0] ? arg[0] : x), (x > arg[0]) * (x < arg[1])) \
  X(relu2, FLOAT, x > 0 ? x * x : 0, x > 0 ? 2 * x : 0)                                            \
  X(smelu, FLOAT,                                                                                  \
    x <= -arg[0] ? 0 : (x >= arg[0] ? x : (x + arg[0]) * (x + arg[0]) / (4 * arg[0])),             \
    x <= -arg[0] ? 0 : (x >= arg[0] ? 1 : (x + arg[0]) / (2 * arg[0])))                            \
  X(snake, FLOAT, x + sin(arg[0] * x) * sin(arg[0] * x) / arg[0], 1 + sin(2 * arg[0] * x))

ACTIVATION_TABLE(DEFINE_UNARY)

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
