/*
** nn/ops.h: the core's ops, as C functions. Each runs through nn_call and its op entry.
** Dims are 0-based and already normalized (0 <= d < ndim) by the caller; every other
** value is checked here. NULL (or -1) means failure, with a message in nn_errmsg().
*/
#ifndef NN_OPS_H
#define NN_OPS_H

#include "nn/op.h"
#include "nn/tensor.h"

/* ---- elementwise (ops/elementwise.c) ---- */

/* Unary ops: one line each in UNARY_OPS. The float-only ones (exp, log, ...) turn integer
   inputs into f32 as PyTorch does; the others keep the dtype. */
#define NN_UNARY_OPS(X)                                                                        \
  X(neg) X(exp) X(log) X(log1p) X(sqrt) X(rsqrt) X(abs) X(sign) X(floor) X(ceil) X(sin) X(cos) \
      X(tanh) X(sigmoid) X(relu)
/* Binary ops with broadcasting; div is true division (integers give f32). */
#define NN_BINARY_OPS(X) X(add) X(sub) X(mul) X(div) X(pow) X(maximum) X(minimum)
/* Comparisons: u8 masks. */
#define NN_COMPARE_OPS(X) X(eq) X(ne) X(lt) X(le) X(gt) X(ge)

#define NN_DECLARE_UNARY(name)                                                                 \
  extern const nn_op nn_op_##name;                                                             \
  nn_tensor *nn_##name(nn_tensor *x);
#define NN_DECLARE_BINARY(name)                                                                \
  extern const nn_op nn_op_##name;                                                             \
  nn_tensor *nn_##name(nn_tensor *a, nn_tensor *b);
NN_UNARY_OPS(NN_DECLARE_UNARY)
NN_BINARY_OPS(NN_DECLARE_BINARY)
NN_COMPARE_OPS(NN_DECLARE_BINARY)

extern const nn_op nn_op_clamp, nn_op_where;
nn_tensor *nn_clamp(nn_tensor *x, double lo, double hi); /* -inf/inf for no bound */
nn_tensor *nn_where(nn_tensor *mask, nn_tensor *a, nn_tensor *b);
/* In place (x op= y): nn_call_into(&nn_op_add, x, (nn_tensor *[]){x, y}, NULL). The result
   keeps x's dtype and shape; y must broadcast to it. */

/* ---- reductions (ops/reduce.c): dim < 0 reduces over everything, giving a 0-dim tensor
   (keepdim ignored). Sums of f32 accumulate in f64. ---- */
nn_tensor *nn_sum(nn_tensor *x, int dim, bool keepdim);
nn_tensor *nn_mean(nn_tensor *x, int dim, bool keepdim);
nn_tensor *nn_prod(nn_tensor *x, int dim, bool keepdim);
nn_tensor *nn_var(nn_tensor *x, int dim, bool keepdim, bool unbiased);
nn_tensor *nn_std(nn_tensor *x, int dim, bool keepdim, bool unbiased);
nn_tensor *nn_norm(nn_tensor *x, double p, int dim, bool keepdim);
nn_tensor *nn_logsumexp(nn_tensor *x, int dim, bool keepdim);
/* min/max: values, and when idx is non-NULL the 0-based i64 indices along dim (the first
   of equal values); over everything (dim < 0) the index is into the flattened tensor. */
nn_tensor *nn_max(nn_tensor *x, int dim, bool keepdim, nn_tensor **idx);
nn_tensor *nn_min(nn_tensor *x, int dim, bool keepdim, nn_tensor **idx);
nn_tensor *nn_argmax(nn_tensor *x, int dim, bool keepdim);
nn_tensor *nn_argmin(nn_tensor *x, int dim, bool keepdim);

/* ---- indexing and joining (ops/index.c); indices are 0-based i64 ---- */
nn_tensor *nn_cat(nn_tensor *const *xs, int n, int dim);
nn_tensor *nn_stack(nn_tensor *const *xs, int n, int dim);
nn_tensor *nn_gather(nn_tensor *x, int dim, nn_tensor *idx);
nn_tensor *nn_index_select(nn_tensor *x, int dim, nn_tensor *idx);
int nn_index_add_(nn_tensor *x, int dim, nn_tensor *idx, nn_tensor *src);
nn_tensor *nn_masked_fill(nn_tensor *x, nn_tensor *mask, double v);
nn_tensor *nn_one_hot(nn_tensor *idx, int64_t n); /* i64 result, one more dim of size n */

/* ---- linear algebra (ops/linalg.c), OpenBLAS for f32/f64 ---- */
nn_tensor *nn_matmul(nn_tensor *a, nn_tensor *b); /* 1-D, 2-D, batched with broadcasting */
nn_tensor *nn_mm(nn_tensor *a, nn_tensor *b);     /* exactly 2-D */
nn_tensor *nn_bmm(nn_tensor *a, nn_tensor *b);    /* exactly 3-D, same batch */
nn_tensor *nn_outer(nn_tensor *u, nn_tensor *v);

/* ---- random numbers (rng.c): one global generator, seeded, the same on every machine ---- */
void nn_manual_seed(uint64_t seed);
int nn_rand_(nn_tensor *t);  /* uniform [0,1) */
int nn_randn_(nn_tensor *t); /* standard normal */
int nn_randint_(nn_tensor *t, int64_t lo, int64_t hi); /* inclusive */
nn_tensor *nn_randperm(int64_t n);                      /* 0-based permutation, i64 */
double nn_rand_uniform(void);
double nn_rand_normal(void);

/* ---- creation helpers (ops/create.c) ---- */
nn_tensor *nn_arange(double a, double b, double step, nn_dtype dt); /* a..b inclusive */
nn_tensor *nn_linspace(double a, double b, int64_t n, nn_dtype dt);
nn_tensor *nn_eye(int64_t n, nn_dtype dt);

#endif
