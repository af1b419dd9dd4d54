/*
** nn/clip.h: gradient clipping over a list of gradients (nn.utils.clip_grad_norm_ and
** clip_grad_value_), fused: one pass to measure, one to scale or clamp, in place. Plain
** functions, not graph ops. Gradients must be f32 or f64; the norm accumulates in double.
*/
#ifndef NN_CLIP_H
#define NN_CLIP_H

#include "nn/tensor.h"

/* the p-norm of all n gradients together (p = inf: the largest |g|) into *norm; 0 or -1 */
int nn_grads_norm(int n, nn_tensor *const *g, double p, double *norm);
/* every element times scale, in place */
int nn_grads_scale_(int n, nn_tensor *const *g, double scale);
/* every element clamped to [-v, v], in place */
int nn_grads_clamp_(int n, nn_tensor *const *g, double v);

#endif
