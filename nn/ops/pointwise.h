/*
** nn/ops/pointwise.h: the machinery behind pointwise ops, private to nn/ops/.
**
** A pointwise op is a formula; these macros make it a row loop per dtype: a dense loop the
** compiler vectorizes, and a strided one. A unary op is one line, DEFINE_UNARY(name, types,
** f(x), f'(x) in terms of x and y = f(x)), and is differentiable in both modes through
** its derivative. Formulas may read attr scalars as arg[0..3].
*/
#ifndef NN_OPS_POINTWISE_H
#define NN_OPS_POINTWISE_H

#include <string.h>
#include <tgmath.h>

#include "nn/iter.h"
#include "nn/ops.h"

/* The generic formulas compare unsigned values with zero (abs, sign, relu on u8). */
#pragma GCC diagnostic ignored "-Wtype-limits"

/* Integer arithmetic wraps on overflow (as PyTorch's) instead of being undefined: i64 values
   take part as uint64_t, whose arithmetic is modular; the others as they are (u8 promotes
   to int, which cannot overflow in one operation). */
#define WRAPPING(x) _Generic((x), int64_t : (uint64_t)(x), default : (x))
/* a^b for integers by squaring, wrapping; b >= 0 (negative powers are refused before) */
static inline int64_t nn_ipow(int64_t a, int64_t b) {
  uint64_t r = 1, x = (uint64_t)a;
  for (; b > 0; b >>= 1, x *= x)
    if (b & 1) r *= x;
  return (int64_t)r;
}
#define POWER(a, b)                                                                                \
  _Generic((a), int64_t                                                                            \
           : nn_ipow((int64_t)(a), (int64_t)(b)), uint8_t                                          \
           : nn_ipow((int64_t)(a), (int64_t)(b)), default                                          \
           : pow(a, b))

/* a - floor(a / b) b, the sign of b's (Lua's %, PyTorch's remainder); integers by wrapping
   arithmetic (a zero divisor is refused before), floats by fmod in double (exact; an f32
   result is the f32 computation's, rounded once) */
static inline int64_t nn_iremainder(int64_t a, int64_t b) {
  if (b == -1) return 0; /* INT64_MIN % -1 overflows */
  int64_t r = a % b;
  return r != 0 && (r < 0) != (b < 0) ? r + b : r;
}
static inline uint8_t nn_uremainder(uint8_t a, uint8_t b) {
  return (uint8_t)(a % b);
}
static inline double nn_fremainder(double a, double b) {
  double r = fmod(a, b);
  return r != 0 && (r < 0) != (b < 0) ? r + b : r;
}
#define REMAINDER(a, b)                                                                            \
  _Generic((a), int64_t                                                                            \
           : nn_iremainder((int64_t)(a), (int64_t)(b)), uint8_t                                    \
           : nn_uremainder((uint8_t)(a), (uint8_t)(b)), default                                    \
           : nn_fremainder(a, b))

/* Element i of operand k, in a dense row (q0.. are the row's base pointers) or a strided one. */
#define DENSE(k, T)   (((T *)q##k)[i])
#define STRIDED(k, T) (*(T *)(q##k + i * s[k]))
#define BASES                                                                                      \
  char *q0 = p[0], *q1 = p[1], *q2 = p[2], *q3 = p[3];                                             \
  (void)q2, (void)q3
/* Runs BODY(DENSE, ...) when the first nop operands are dense, else BODY(STRIDED, ...). */
#define DISPATCH_ROW(nop, size, BODY, ...)                                                         \
  BASES;                                                                                           \
  bool dense = true;                                                                               \
  for (int k = 0; k < nop; k++) dense = dense && s[k] == (int64_t)(size);                          \
  if (dense) {                                                                                     \
    BODY(DENSE, __VA_ARGS__)                                                                       \
  } else {                                                                                         \
    BODY(STRIDED, __VA_ARGS__)                                                                     \
  }

/* dtype lists: M(dtype suffix, C type, ...) for each dtype an op computes in */
#define TYPES_ALL(M, ...)                                                                          \
  M(F32, float, __VA_ARGS__)                                                                       \
  M(F64, double, __VA_ARGS__) M(I64, int64_t, __VA_ARGS__) M(U8, uint8_t, __VA_ARGS__)
#define TYPES_FLOAT(M, ...) M(F32, float, __VA_ARGS__) M(F64, double, __VA_ARGS__)

typedef struct unary_kern {
  nn_rowfn f[NN_NDTYPES];  /* (y, x): y = f(x); NULL where the input must become f32 first */
  nn_rowfn df[NN_NDTYPES]; /* (out, g, x, y): out = g * f'(x) */
} unary_kern;

#define UNARY_F(A, T, fx)                                                                          \
  for (int64_t i = 0; i < n; i++) {                                                                \
    T x = A(1, T);                                                                                 \
    A(0, T) = (T)(fx);                                                                             \
  }
#define UNARY_DF(A, T, dfx)                                                                        \
  for (int64_t i = 0; i < n; i++) {                                                                \
    T g = A(1, T), x = A(2, T), y = A(3, T);                                                       \
    (void)x, (void)y;                                                                              \
    A(0, T) = (T)(g * (dfx));                                                                      \
  }
/* Compute-bound rows (unary math such as exp and tanh, optimizer steps with their divisions
   and square roots): on x86-64 each also gets an AVX2 clone and an AVX-512 one (x86-64-v4:
   still 256-bit vectors by GCC's default, but its compares into mask registers make the
   selects of the fastmath.h formulas cheap: gelu and silu rows in about half the time of the
   AVX2 clone on this machine), the loader picking the best the CPU has. All give the same
   bits: the same operations per element, and no fused multiply-adds (ISO C mode keeps
   contraction off). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(NN_NO_CLONES)
/* (-DNN_NO_CLONES builds the default clone alone: the tests run it on CPUs with AVX2 too) */
#define VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define VECTOR_CLONES
#endif

/* The attr scalars are copied to the stack: read through ctx, they could alias the output,
   and the compiler would reload them for every element instead of vectorizing. */
#define ROW_ARGS                                                                                   \
  double arg[4] = {0, 0, 0, 0};                                                                    \
  if (ctx) memcpy(arg, ctx, sizeof arg);                                                           \
  (void)arg;
#define UNARY_ROWS(D, T, name, fx, dfx)                                                            \
  VECTOR_CLONES static void name##_f_##D(char **p, const int64_t *s, int64_t n, void *ctx){        \
      ROW_ARGS DISPATCH_ROW(2, sizeof(T), UNARY_F, T,                                              \
                            fx)} VECTOR_CLONES static void name##_df_##D(char **p,                 \
                                                                         const int64_t *s,         \
                                                                         int64_t n, void *ctx) {   \
    ROW_ARGS                                                                                       \
    DISPATCH_ROW(4, sizeof(T), UNARY_DF, T, dfx)                                                   \
  }
#define UNARY_SLOTS(D, T, name, ...) .f[NN_##D] = name##_f_##D, .df[NN_##D] = name##_df_##D,

/* shared by every family of unary ops (elementwise.c, activation.c) */
nn_tensor *nn_unary_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                            nn_tensor *out);
int nn_unary_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin);
nn_tensor *nn_unary_jvp(const nn_ctx *c, nn_tensor *const *tin);

#define DEFINE_UNARY(name_, types, fx, dfx) DEFINE_UNARY_RULE(name_, types, fx, dfx, NULL)
/* The same for an op whose backward deliberately applies g * dfx where dfx is not f'(x):
   rule says so in words (nn_op.vjp_rule; no input's gradient is exact); forward mode
   applies the same factor. */
#define DEFINE_UNARY_RULE(name_, types, fx, dfx, rule_)                                            \
  TYPES_##types(UNARY_ROWS, name_, fx,                                                             \
                dfx) static const unary_kern name_##_kern = {TYPES_##types(UNARY_SLOTS, name_)};   \
  const nn_op nn_op_##name_ = {.name = #name_,                                                     \
                               .nin = 1,                                                           \
                               .forward = nn_unary_forward,                                        \
                               .vjp = nn_unary_vjp,                                                \
                               .jvp = nn_unary_jvp,                                                \
                               .kern = &name_##_kern,                                              \
                               .save_out = true,                                                   \
                               .vjp_rule = rule_};

#endif
