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
/* clang-format off */
#define NN_UNARY_OPS(X)                                                                            \
  X(neg) X(exp) X(log) X(log1p) X(sqrt) X(rsqrt) X(abs) X(sign) X(floor) X(ceil) X(sin) X(cos)    \
  X(tanh) X(sigmoid) X(relu)
/* clang-format on */
/* Binary ops with broadcasting; div is true division (integers give f32); remainder has the
   sign of the divisor (Lua's %). */
#define NN_BINARY_OPS(X) X(add) X(sub) X(mul) X(div) X(pow) X(remainder) X(maximum) X(minimum)
/* Comparisons: u8 masks. */
#define NN_COMPARE_OPS(X) X(eq) X(ne) X(lt) X(le) X(gt) X(ge)

#define NN_DECLARE_UNARY(name)                                                                     \
  extern const nn_op nn_op_##name;                                                                 \
  nn_tensor *nn_##name(nn_tensor *x);
#define NN_DECLARE_BINARY(name)                                                                    \
  extern const nn_op nn_op_##name;                                                                 \
  nn_tensor *nn_##name(nn_tensor *a, nn_tensor *b);
NN_UNARY_OPS(NN_DECLARE_UNARY)
NN_BINARY_OPS(NN_DECLARE_BINARY)
NN_COMPARE_OPS(NN_DECLARE_BINARY)

extern const nn_op nn_op_clamp, nn_op_where;
nn_tensor *nn_clamp(nn_tensor *x, double lo, double hi); /* -inf/inf for no bound */
nn_attr nn_clamp_bounds(nn_dtype dt, double lo, double hi);
nn_tensor *nn_where(nn_tensor *mask, nn_tensor *a, nn_tensor *b);
/* In place (x op= y): nn_call_into(&nn_op_add, x, (nn_tensor *[]){x, y}, NULL). The result
   keeps x's dtype and shape; y must broadcast to it. */
/* For VJPs: g (the gradient of a broadcast result) summed back to the shape of x. */
nn_tensor *nn_sum_to(nn_tensor *g, const nn_tensor *x);
/* For JVPs that add up a term per input: sum + term, consuming both; the first term (sum
   NULL) is kept as it is. NULL when term is NULL (an error). */
nn_tensor *nn_add_term(nn_tensor *sum, nn_tensor *term);

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
/* the p-norm: an op entry (ops/vector.c) whose value is nn_norm_value, composed here */
nn_tensor *nn_norm(nn_tensor *x, double p, int dim, bool keepdim);
nn_tensor *nn_norm_value(nn_tensor *x, double p, int dim, bool keepdim);
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
extern const nn_op nn_op_cat, nn_op_stack, nn_op_gather, nn_op_scatter_add, nn_op_index_select,
    nn_op_index_add, nn_op_masked_fill, nn_op_one_hot;
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

/* ---- linear algebra (ops/linalg.c), OpenBLAS for f32/f64, a loop for integers; mixed
   dtypes promote. Strided operands are read in place when a matrix dim has unit stride. ---- */
extern const nn_op nn_op_matmul, nn_op_mm, nn_op_bmm, nn_op_outer;
/* PyTorch's rules: 1-D . 1-D is a 0-dim dot product; a 1-D operand is a row (left) or a
   column (right) whose dim is dropped from the result; batch dims broadcast. */
nn_tensor *nn_matmul(nn_tensor *a, nn_tensor *b);
nn_tensor *nn_mm(nn_tensor *a, nn_tensor *b);  /* exactly 2-D */
nn_tensor *nn_bmm(nn_tensor *a, nn_tensor *b); /* exactly 3-D, same batch */
nn_tensor *nn_outer(nn_tensor *u, nn_tensor *v);

/* ---- differentiable views and conversions (ops/shape.c). tensor.c's nn_view, nn_reshape,
   ... are raw: they record nothing, for kernels' internal use. These are the same views as
   ops, so that gradients flow through them (the result still shares the input's storage).
   Dims are 0-based; each is checked. ---- */
extern const nn_op nn_op_view, nn_op_reshape, nn_op_flatten, nn_op_squeeze, nn_op_unsqueeze,
    nn_op_transpose, nn_op_permute, nn_op_narrow, nn_op_select, nn_op_expand, nn_op_contiguous,
    nn_op_to, nn_op_clone;
nn_tensor *nn_t_view(nn_tensor *x, int ndim, const int64_t *shape);    /* error if impossible */
nn_tensor *nn_t_reshape(nn_tensor *x, int ndim, const int64_t *shape); /* copies if needed */
nn_tensor *nn_t_flatten(nn_tensor *x, int start, int end); /* dims start..end into one */
nn_tensor *nn_t_squeeze(nn_tensor *x, int d);              /* d < 0: every size-1 dim */
nn_tensor *nn_t_unsqueeze(nn_tensor *x, int d);            /* 0 <= d <= ndim */
nn_tensor *nn_t_transpose(nn_tensor *x, int d1, int d2);
nn_tensor *nn_t_permute(nn_tensor *x, const int *perm); /* x->ndim dims */
nn_tensor *nn_t_narrow(nn_tensor *x, int d, int64_t start, int64_t len);
nn_tensor *nn_t_select(nn_tensor *x, int d, int64_t i);
nn_tensor *nn_t_expand(nn_tensor *x, int ndim, const int64_t *shape); /* -1 keeps a size */
/* x itself (retained) when already contiguous / of dtype dt, as the raw ones; nn_t_to carries
   gradients between float dtypes only (to or from an integer dtype it is nn_to) */
nn_tensor *nn_t_contiguous(nn_tensor *x);
nn_tensor *nn_t_to(nn_tensor *x, nn_dtype dt);
nn_tensor *nn_t_clone(nn_tensor *x);
/* For VJPs that return views of their output gradient g (reshaped, narrowed...): autograd
   adds later gradients in place into one it keeps, so such a view may stand only if nothing
   else holds g's memory. Call nn_grad_alone(g) before making views; nn_grad_unshare then
   returns v, or a copy of it when v shares memory with a g that was not alone (consumes v). */
bool nn_grad_alone(const nn_tensor *g);
nn_tensor *nn_grad_unshare(nn_tensor *v, const nn_tensor *g, bool alone);

/* ---- random numbers (rng.c): one global xoshiro256** generator, seeded through splitmix64,
   the same numbers on every machine (the algorithm is documented in rng.c). Fills draw in
   row-major logical order, so a strided view gets what a contiguous tensor would. ---- */
#define NN_DEFAULT_SEED UINT64_C(67280421310721) /* the seed of a fresh process, as PyTorch's */
void nn_manual_seed(uint64_t seed);
int nn_rand_(nn_tensor *t);                            /* uniform [0,1); f32 or f64 */
int nn_randn_(nn_tensor *t);                           /* standard normal; f32 or f64 */
int nn_randint_(nn_tensor *t, int64_t lo, int64_t hi); /* inclusive, unbiased; any dtype */
nn_tensor *nn_randperm(int64_t n);                     /* 0-based permutation, i64 */
double nn_rand_uniform(void);                          /* [0,1), 53 bits */
double nn_rand_normal(void);
/* The generator's state, for checkpoints; set_state refuses all zeros. */
void nn_rng_state(uint64_t s[4]);
int nn_rng_set_state(const uint64_t s[4]);

/* ---- creation helpers (ops/create.c) ---- */
nn_tensor *nn_arange(double a, double b, double step, nn_dtype dt); /* a..b inclusive */
nn_tensor *nn_linspace(double a, double b, int64_t n, nn_dtype dt);
nn_tensor *nn_eye(int64_t n, nn_dtype dt);

/* ---- activations (ops/activation.c): pointwise, floats only (integers become f32), each
   differentiable through its derivative formula. Parameters as in PyTorch. ---- */
/* clang-format off */
#define NN_ACTIVATION_OPS(X)                                                                       \
  X(leaky_relu) X(elu) X(gelu) X(gelu_tanh) X(silu) X(mish) X(softplus) X(hardtanh) X(relu2)      \
  X(smelu) X(snake) X(shifted_relu) X(fatrelu) X(helu) X(regelu2) X(resilu2) X(prelu)        \
  X(swish_beta) X(snake_a) X(sau) X(rational) X(gated) X(relu_scaled)
/* clang-format on */
#define NN_DECLARE_OP(name) extern const nn_op nn_op_##name;
NN_ACTIVATION_OPS(NN_DECLARE_OP)
nn_tensor *nn_leaky_relu(nn_tensor *x, double slope);                /* x, or slope * x below 0 */
nn_tensor *nn_elu(nn_tensor *x, double alpha);                       /* alpha (e^x - 1) below 0 */
nn_tensor *nn_gelu(nn_tensor *x);                                    /* x Phi(x), with erf */
nn_tensor *nn_gelu_tanh(nn_tensor *x);                               /* the tanh approximation */
nn_tensor *nn_silu(nn_tensor *x, double beta);                       /* swish: x sigmoid(beta x) */
nn_tensor *nn_mish(nn_tensor *x);                                    /* x tanh(softplus(x)) */
nn_tensor *nn_softplus(nn_tensor *x, double beta, double threshold); /* x past threshold */
nn_tensor *nn_hardtanh(nn_tensor *x, double lo, double hi);
nn_tensor *nn_relu2(nn_tensor *x);                     /* max(x, 0)^2 */
nn_tensor *nn_smelu(nn_tensor *x, double beta);        /* (x + beta)^2 / (4 beta) on |x| <= beta */
nn_tensor *nn_snake(nn_tensor *x, double a);           /* x + sin^2(a x) / a */
nn_tensor *nn_shifted_relu(nn_tensor *x, double b);    /* max(0, x - b) */
nn_tensor *nn_fatrelu(nn_tensor *x, double threshold); /* x where x >= threshold, else 0 */
nn_tensor *nn_helu(nn_tensor *x, double alpha);        /* relu; backward g * 1[x > -alpha] */
nn_tensor *nn_relu_scaled(nn_tensor *x, double s);     /* max(x, 0) s, s > 0 */
/* exact GELU / SiLU forward; backward a 4-level step derivative read from a 2-bit code per
   element (4 a byte), the only thing kept for it (Approx-BP) */
nn_tensor *nn_regelu2(nn_tensor *x);
nn_tensor *nn_resilu2(nn_tensor *x);
/* Learnable parameters (ops/act_param.c): one value, or one per channel (dim 2 of x, dim 1 of a
   1-D x); their gradients are reduced over the other dims by the op. */
nn_tensor *nn_prelu(nn_tensor *x, nn_tensor *a);         /* x, or a x below 0 */
nn_tensor *nn_swish_beta(nn_tensor *x, nn_tensor *beta); /* x sigmoid(beta x) */
nn_tensor *nn_snake_a(nn_tensor *x, nn_tensor *a);       /* x + sin^2(a x) / a */
/* alpha x + (1 - alpha) (x Phi(x / sigma) + sigma phi(x / sigma)) */
nn_tensor *nn_sau(nn_tensor *x, nn_tensor *alpha, nn_tensor *sigma);
/* P(x) / (1 + |Q(x)|), P = a_0 + a_1 x + ... (a: m + 1 values), Q = b_1 x + b_2 x^2 + ...
   (b: n values), a and b shared by every element (ops/act_rational.c) */
nn_tensor *nn_rational(nn_tensor *x, nn_tensor *a, nn_tensor *b);
/* Gated units (ops/act_gated.c): x splits along dim d into halves u, v; the result is
   u * gate(v) (glu) or gate(u) * v (the others). */
typedef enum nn_gate { NN_GLU, NN_REGLU, NN_GEGLU, NN_SWIGLU, NN_BILINEAR, NN_NGATES } nn_gate;
nn_tensor *nn_gated(nn_tensor *x, int d, nn_gate gate);
/* bytes an op's node saved for its backward beyond its inputs (ctx->saved, and the output
   when the op keeps it); -1 for a tensor without a node */
int64_t nn_saved_bytes(const nn_tensor *y);

/* ---- learning-rule linear ops (ops/feedback.c): the forward is nn_linear's, the backward
   sends the error through fixed matrices instead of W (the rule is in each op's entry).
   Bias b may be NULL. ---- */
extern const nn_op nn_op_linear_fa, nn_op_linear_fa_nobias, nn_op_linear_pfa,
    nn_op_linear_pfa_nobias;
/* feedback alignment: dx = g B for B of W's shape (out, in); dW, db as linear's; B none */
nn_tensor *nn_linear_fa(nn_tensor *x, nn_tensor *w, nn_tensor *b, nn_tensor *B);
/* product feedback alignment: dx = (g B) R for B (out, r) and R (r, in); dR = (g B)^T x */
nn_tensor *nn_linear_pfa(nn_tensor *x, nn_tensor *w, nn_tensor *b, nn_tensor *B, nn_tensor *R);
/* ---- linear scans (ops/scan.c): h_t = a_t h_{t-1} + b_t along time, f32/f64 of one dtype.
   Real: a, b (batch, time, features), h0 (batch, features). Complex: planar tensors with a
   leading dim of 2 (real parts, imaginary parts): a, b (2, batch, time, features), h0 (2,
   batch, features). h0 NULL means zeros. The result is every state h_1..h_T, shaped as a. ---- */
extern const nn_op nn_op_linear_scan, nn_op_linear_scan_complex;
nn_tensor *nn_linear_scan(nn_tensor *a, nn_tensor *b, nn_tensor *h0);
nn_tensor *nn_linear_scan_complex(nn_tensor *a, nn_tensor *b, nn_tensor *h0);
/* minGRU's scan with its gates fused: p (batch, time, 2 hidden) holds the gate pre-activations
   k then the candidates c; z = sigmoid(k), h_t = (1 - z) h_{t-1} + z c; h0 (batch, hidden) */
extern const nn_op nn_op_mingru_scan;
nn_tensor *nn_mingru_scan(nn_tensor *p, nn_tensor *h0);

/* ---- neural-net functions (ops/nnfunc.c), f32/f64 with one dtype for all operands ---- */
extern const nn_op nn_op_linear, nn_op_linear_nobias, nn_op_softmax, nn_op_log_softmax,
    nn_op_layer_norm, nn_op_batch_norm, nn_op_embedding;
/* y = x W^T + b: x (..., in), W (out, in), b (out) or NULL; one GEMM onto the broadcast bias */
nn_tensor *nn_linear(nn_tensor *x, nn_tensor *w, nn_tensor *b);
nn_tensor *nn_softmax(nn_tensor *x, int dim);
nn_tensor *nn_log_softmax(nn_tensor *x, int dim);
/* over the last dim, of size d; weight and bias (d) may be NULL */
nn_tensor *nn_layer_norm(nn_tensor *x, int64_t d, nn_tensor *weight, nn_tensor *bias, double eps);
/* x (N, C). Training normalizes by the batch's statistics and, when running_mean/var are
   given, moves them by momentum (the variance unbiased), as PyTorch; evaluation uses them.
   weight, bias, running_mean and running_var (C) may each be NULL. */
nn_tensor *nn_batch_norm(nn_tensor *x, nn_tensor *weight, nn_tensor *bias, nn_tensor *running_mean,
                         nn_tensor *running_var, bool training, double momentum, double eps);
/* ---- batch normalization of (N, C, *) (ops/bnorm.c): as nn_batch_norm, each channel over
   its N x S elements; nn_batch_norm calls it for inputs of more than 2 dims ---- */
extern const nn_op nn_op_batch_norm_nc;
nn_tensor *nn_batch_norm_nc(nn_tensor *x, nn_tensor *weight, nn_tensor *bias,
                            nn_tensor *running_mean, nn_tensor *running_var, bool training,
                            double momentum, double eps);
/* ---- 2-D pooling over the last two dims of (N, C, H, W) or (C, H, W) (ops/pool2d.c):
   kernel k, stride s, padding p (at most k/2) as {rows, cols}; ceil_mode and
   count_include_pad as PyTorch's; the adaptive average pools to oh x ow ---- */
extern const nn_op nn_op_max_pool2d, nn_op_avg_pool2d, nn_op_adaptive_avg_pool2d;
nn_tensor *nn_max_pool2d(nn_tensor *x, const int64_t k[2], const int64_t s[2], const int64_t p[2],
                         bool ceil_mode);
nn_tensor *nn_avg_pool2d(nn_tensor *x, const int64_t k[2], const int64_t s[2], const int64_t p[2],
                         bool ceil_mode, bool count_include_pad);
nn_tensor *nn_adaptive_avg_pool2d(nn_tensor *x, int64_t oh, int64_t ow);
/* x times a fresh mask of 0 and 1/(1-p) (x itself when not training or p = 0) */
nn_tensor *nn_dropout(nn_tensor *x, double p, bool training);
/* the rows idx (integer dtype, any shape, 0-based) of w (n, d): shape idx.shape + {d} */
/* padding: the 0-based index whose row gets no gradient, or -1 */
nn_tensor *nn_embedding(nn_tensor *idx, nn_tensor *w, int64_t padding);

/* ---- convolutions (ops/conv.c): PyTorch's conv2d on x (N, C, H, W) with w (out,
   C/groups, kh, kw) and conv1d on x (N, C, L) with w (out, C/groups, k), bias (out) or NULL;
   f32/f64 of one dtype. conv1d reads the first of each pair. ---- */
extern const nn_op nn_op_conv2d, nn_op_conv2d_nobias, nn_op_conv1d, nn_op_conv1d_nobias;
typedef struct nn_conv_opts {
  int64_t stride[2], padding[2], dilation[2], groups;
} nn_conv_opts;
#define NN_CONV_DEFAULTS                                                                           \
  { .stride = {1, 1}, .padding = {0, 0}, .dilation = {1, 1}, .groups = 1 }
/* o NULL: the defaults */
nn_tensor *nn_conv2d(nn_tensor *x, nn_tensor *w, nn_tensor *b, const nn_conv_opts *o);
nn_tensor *nn_conv1d(nn_tensor *x, nn_tensor *w, nn_tensor *b, const nn_conv_opts *o);

/* ---- losses (ops/loss.c). Targets are 0-based classes of an integer dtype (i64 or u8);
   messages give them 1-based. cross_entropy and nll_loss: attr i[0] reduction, i[1]
   ignore_index, f[0] label smoothing. ---- */
typedef enum nn_reduction { NN_REDUCE_NONE, NN_REDUCE_MEAN, NN_REDUCE_SUM } nn_reduction;
int nn_reduction_parse(const char *name); /* "none", "mean", "sum"; -1 when unknown */
extern const nn_op nn_op_cross_entropy, nn_op_nll_loss, nn_op_bce_with_logits;
/* logits (N, C) or (C), target (N) or (): log-softmax and NLL fused, one pass per row. Rows
   whose target is ignore_index count for nothing (mean divides by the others). weight: NULL
   or one weight per class (C), as PyTorch's (the mean divides by the targets' weights). */
nn_tensor *nn_cross_entropy(nn_tensor *logits, nn_tensor *target, nn_tensor *weight, nn_reduction r,
                            double label_smoothing, int64_t ignore_index);
nn_tensor *nn_nll_loss(nn_tensor *logp, nn_tensor *target, nn_tensor *weight, nn_reduction r,
                       int64_t ignore_index);
nn_tensor *nn_mse_loss(nn_tensor *x, nn_tensor *y, nn_reduction r); /* same shapes */
nn_tensor *nn_l1_loss(nn_tensor *x, nn_tensor *y, nn_reduction r);
/* max(x,0) - x y + log1p(e^-|x|): the stable binary cross-entropy of logits x */
nn_tensor *nn_bce_with_logits(nn_tensor *x, nn_tensor *y, nn_reduction r);

/* ---- the first-hour ops (ops/sort.c, scan_ops.c, rearrange.c, vector.c). Dims 0-based and
   checked; indices come back 0-based i64. ---- */
extern const nn_op nn_op_sort, nn_op_topk, nn_op_cumsum, nn_op_cumprod, nn_op_tril, nn_op_triu,
    nn_op_flip, nn_op_roll, nn_op_repeat_interleave, nn_op_dot, nn_op_norm;
/* stable; NaN sorts as the largest; *idx (may be NULL) gets the positions along dim */
nn_tensor *nn_sort(nn_tensor *x, int dim, bool descending, nn_tensor **idx);
/* the k largest (or smallest) along dim, in order; 0 <= k <= size */
nn_tensor *nn_topk(nn_tensor *x, int64_t k, int dim, bool largest, nn_tensor **idx);
nn_tensor *nn_cumsum(nn_tensor *x, int dim);  /* floats keep their dtype, integers give i64 */
nn_tensor *nn_cumprod(nn_tensor *x, int dim); /* its gradient is right with zeros in x */
nn_tensor *nn_tril(nn_tensor *x, int64_t k);  /* the last two dims: keep col - row <= k */
nn_tensor *nn_triu(nn_tensor *x, int64_t k);  /* keep col - row >= k */
nn_tensor *nn_flip(nn_tensor *x, int dim);
nn_tensor *nn_roll(nn_tensor *x, int64_t shift, int dim); /* out[j] = x[(j - shift) mod n] */
/* each slice along dim repeated: repeats is 0-dim (all alike) or one count per slice */
nn_tensor *nn_repeat_interleave(nn_tensor *x, nn_tensor *repeats, int dim);
nn_tensor *nn_dot(nn_tensor *u, nn_tensor *v); /* 1-D, same length and dtype: 0-dim */
/* u8 masks: all / any non-zero over dim (dim < 0: everything, 0-dim), nan, +-inf */
nn_tensor *nn_all(nn_tensor *x, int dim, bool keepdim);
nn_tensor *nn_any(nn_tensor *x, int dim, bool keepdim);
nn_tensor *nn_isnan(nn_tensor *x);
nn_tensor *nn_isinf(nn_tensor *x);
/* whether |a - b| <= atol + rtol |b| for every element (a and b broadcast); 0 or -1 */
int nn_allclose(nn_tensor *a, nn_tensor *b, double rtol, double atol, bool *close);
/* ---- fused recurrent layers (ops/recurrent.c), one layer over a whole sequence, PyTorch's
   gate layouts and formulas: x (B, T, I) batch first, h0 and c0 (B, H), W_ih (G H, I),
   W_hh (G H, H), b_ih and b_hh (G H) with G = 1 (RNN), 4 (LSTM: i, f, g, o), 3 (GRU: r, z,
   n). Outputs y (B, T, H), h_n (B, H) and for LSTM c_n (B, H). ---- */
extern const nn_op nn_op_rnn_tanh, nn_op_rnn_relu, nn_op_lstm, nn_op_gru;
/* h0, c0 (LSTM only, else ignored) and the biases may be NULL (zeros); out gets the op's
   outputs (new references). 0, or -1 with a message. */
int nn_recurrent(const nn_op *op, nn_tensor *x, nn_tensor *h0, nn_tensor *c0, nn_tensor *w_ih,
                 nn_tensor *w_hh, nn_tensor *b_ih, nn_tensor *b_hh, nn_tensor **out);

#endif
