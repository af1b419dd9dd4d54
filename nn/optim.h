/*
** nn/optim.h: optimizer steps, fused: one call updates one parameter tensor in place from
** its gradient and its state, in a single pass over memory. The formulas are torch.optim's
** (its single-tensor path), term by term and in the parameter's precision, so that a model
** trained here follows the same trajectory as in PyTorch. These are plain functions, not
** graph ops: autograd never sees them. Every tensor must be contiguous, of the parameter's
** shape and float dtype. step counts from 1 (the first step is 1).
*/
#ifndef NN_OPTIM_H
#define NN_OPTIM_H

#include "nn/tensor.h"

typedef struct nn_sgd_opts {
  double lr, momentum, dampening, weight_decay;
  bool nesterov, maximize;
} nn_sgd_opts;
/* buf: the momentum buffer (NULL when momentum is 0); on step 1 it takes the gradient */
int nn_sgd_step(nn_tensor *p, const nn_tensor *g, nn_tensor *buf, const nn_sgd_opts *o,
                int64_t step);

typedef struct nn_adam_opts {
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled; /* AdamW: p *= 1 - lr wd, instead of g += wd p */
  bool maximize;
} nn_adam_opts;
/* m, v: the first and second moments (zeros before step 1); vmax: NULL, or for AMSGrad the
   running maximum of v (zeros before step 1) */
int nn_adam_step(nn_tensor *p, const nn_tensor *g, nn_tensor *m, nn_tensor *v, nn_tensor *vmax,
                 const nn_adam_opts *o, int64_t step);

typedef struct nn_rmsprop_opts {
  double lr, alpha, eps, weight_decay, momentum;
  bool centered, maximize;
} nn_rmsprop_opts;
/* square_avg always; grad_avg when centered, buf when momentum > 0 (else NULL); all zeros
   before the first step */
int nn_rmsprop_step(nn_tensor *p, const nn_tensor *g, nn_tensor *square_avg, nn_tensor *grad_avg,
                    nn_tensor *buf, const nn_rmsprop_opts *o);

#endif
