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
/* For VJPs: g (the gradient of a broadcast result) summed back to the shape of x. */
nn_tensor *nn_sum_to(nn_tensor *g, const nn_tensor *x);
/* In place (x op= y): nn_call_into(&nn_op_add, x, (nn_tensor *[]){x, y}, NULL). The result
   keeps x's dtype and shape; y must broadcast to it. */

/* ---- reductions (ops/reduce.c): dim < 0 reduces over everything, giving a 0-dim tensor
   (keepdim ignored). Sums of f32 accumulate in f64; integer sums and products are i64. Only
   sum, prod, argmax and argmin have op entries (attr i[0] = dim or -1, i[1] = keepdim); the
   others are composed of public ops. mean, var, std and norm need float input. ---- */
extern const nn_op nn_op_sum, nn_op_prod, nn_op_argmax, nn_op_argmin;
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

/* ---- indexing and joining (ops/index.c); indices are 0-based i64, each checked before
   any memory is touched; messages give them 1-based. Attr i[0] = dim (one_hot: n); cat and
   stack take any number of inputs (nn_calln). PyTorch's semantics throughout. ---- */
extern const nn_op nn_op_cat, nn_op_stack, nn_op_gather, nn_op_scatter_add,
    nn_op_index_select, nn_op_index_add, nn_op_masked_fill, nn_op_one_hot;
/* cat: same ndim, same sizes outside dim (a 1-D empty tensor is skipped, as in PyTorch);
   stack: equal shapes, a new dim (0 <= dim <= ndim). Both promote dtypes. */
nn_tensor *nn_cat(nn_tensor *const *xs, int n, int dim);
nn_tensor *nn_stack(nn_tensor *const *xs, int n, int dim);
/* out[i][j] = x[idx[i][j]][j] (dim 0): idx has x's ndim, no larger outside dim */
nn_tensor *nn_gather(nn_tensor *x, int dim, nn_tensor *idx);
/* a copy of x with x[idx[i][j]][j] += src[i][j] (dim 0); gather's backward. The in-place
   form adds into x. src is converted to x's dtype. */
nn_tensor *nn_scatter_add(nn_tensor *x, int dim, nn_tensor *idx, nn_tensor *src);
int nn_scatter_add_(nn_tensor *x, int dim, nn_tensor *idx, nn_tensor *src);
/* the slices idx (0-D or 1-D) of x along dim */
nn_tensor *nn_index_select(nn_tensor *x, int dim, nn_tensor *idx);
/* x's slice idx[k] along dim += src's slice k (index_select's backward); in place or a copy */
int nn_index_add_(nn_tensor *x, int dim, nn_tensor *idx, nn_tensor *src);
nn_tensor *nn_index_add(nn_tensor *x, int dim, nn_tensor *idx, nn_tensor *src);
/* v where the u8 mask is non-zero; x and mask broadcast together; x's dtype */
nn_tensor *nn_masked_fill(nn_tensor *x, nn_tensor *mask, double v);
/* i64 result, one more dim of size n (n < 0: the largest index + 1) */
nn_tensor *nn_one_hot(nn_tensor *idx, int64_t n);

/* ---- linear algebra (ops/linalg.c), OpenBLAS for f32/f64 ---- */
nn_tensor *nn_matmul(nn_tensor *a, nn_tensor *b); /* 1-D, 2-D, batched with broadcasting */
nn_tensor *nn_mm(nn_tensor *a, nn_tensor *b);     /* exactly 2-D */
nn_tensor *nn_bmm(nn_tensor *a, nn_tensor *b);    /* exactly 3-D, same batch */
nn_tensor *nn_outer(nn_tensor *u, nn_tensor *v);

/* ---- random numbers (rng.c): one global xoshiro256** generator, seeded through splitmix64,
   the same numbers on every machine (the algorithm is documented in rng.c). Fills draw in
   row-major logical order, so a strided view gets what a contiguous tensor would. ---- */
#define NN_DEFAULT_SEED UINT64_C(67280421310721)/* the seed of a fresh process, as PyTorch's */
void nn_manual_seed(uint64_t seed);
int nn_rand_(nn_tensor *t);  /* uniform [0,1); f32 or f64 */
int nn_randn_(nn_tensor *t); /* standard normal; f32 or f64 */
int nn_randint_(nn_tensor *t, int64_t lo, int64_t hi); /* inclusive, unbiased; any dtype */
nn_tensor *nn_randperm(int64_t n);                      /* 0-based permutation, i64 */
double nn_rand_uniform(void);                           /* [0,1), 53 bits */
double nn_rand_normal(void);
/* The generator's state, for checkpoints; set_state refuses all zeros. */
void nn_rng_state(uint64_t s[4]);
int nn_rng_set_state(const uint64_t s[4]);

/* ---- creation helpers (ops/create.c) ---- */
nn_tensor *nn_arange(double a, double b, double step, nn_dtype dt); /* a..b inclusive */
nn_tensor *nn_linspace(double a, double b, int64_t n, nn_dtype dt);
nn_tensor *nn_eye(int64_t n, nn_dtype dt);

#endif
