/*
** nn/rules.h: the hot parts of the local learning rules (stdlib/nn/rules/), fused: one call
** does a whole layer's (forward-forward) or a whole batch's (predictive coding) local update
** into gradient tensors, which the rule's optimizer then applies. Plain functions, not graph
** ops: autograd never sees them. Every tensor must be contiguous and of one float dtype (f32
** or f64); matrices are row-major, a batch is one row per sample.
*/
#ifndef NN_RULES_H
#define NN_RULES_H

#include "nn/tensor.h"

/* ---- forward-forward: one layer ----
   xn = x / rms(x) row by row (unit RMS, so only the direction passes on), y = relu(xn W^T + b),
   goodness g = sum(y^2) (mean(y^2) when mean), logit z = g + off - theta (off: the other
   layers' goodness in collaborative FF, else 0); the rows before npos are positive data, the
   rest negative, and the loss is the mean over rows of softplus(-z) (positive) or
   softplus(z) (negative). Writes y (m x out) and g (m); with dw (and db when b is given)
   writes the loss's gradient in W and b, overwriting them. Returns the loss in *loss. */
typedef struct nn_ff_opts {
  double theta;
  int64_t npos; /* rows 0..npos-1 are positive */
  bool mean;    /* goodness as the mean of squares instead of the sum */
} nn_ff_opts;
int nn_ff_layer(const nn_tensor *x, const nn_tensor *w, const nn_tensor *b, const nn_tensor *off,
                const nn_ff_opts *o, nn_tensor *y, nn_tensor *g, nn_tensor *dw, nn_tensor *db,
                double *loss);

/* ---- predictive coding (inference learning): a whole batch ----
   Layers l = 1..L with mu_l = W_l f(h_{l-1}) + b_l, h_0 = x (f is the identity on x), and the
   energy  E = sum_{l<L} |h_l - mu_l|^2 / 2 + loss(mu_L, target)  per sample. The hidden h_l
   start at the feedforward values; iters steps of h_l -= gamma[l] dE/dh_l (all layers at
   once) follow; then dw[l] = -(1/N) u_l^T f(h_{l-1}) and db[l] = -(1/N) sum u_l, where
   u_l = h_l - mu_l for hidden layers and u_L = -dloss/dmu_L. *loss is the loss of the
   feedforward prediction (before inference). */
enum { NN_ACT_IDENTITY, NN_ACT_RELU, NN_ACT_TANH };
enum { NN_PC_CROSS_ENTROPY, NN_PC_MSE };
typedef struct nn_pc_opts {
  int nlayers, iters, act, loss;
  const double *gamma; /* nlayers - 1 steps, one per hidden layer */
} nn_pc_opts;
/* target: i64 class indices 1..n_L (cross-entropy) or a float (N x n_L) tensor (MSE, whose
   per-sample loss is mean((mu - y)^2), so that the mean over the batch is nn.mse_loss) */
int nn_pc_step(nn_tensor *const *w, nn_tensor *const *b, const nn_tensor *x,
               const nn_tensor *target, const nn_pc_opts *o, nn_tensor *const *dw,
               nn_tensor *const *db, double *loss);

/* ---- the largest singular value of W (m x n) by power iterations ----
   u (f64, n) is the starting right singular vector (random or from the last call), updated
   in place; returns sigma_max estimated after iters iterations, or -1 on error. */
double nn_spectral_norm(const nn_tensor *w, nn_tensor *u, int iters);

#endif
