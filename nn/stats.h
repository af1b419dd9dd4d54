/*
** nn/stats.h: the analyses of ReLU networks, as plain kernels (no autograd, no Lua).
**
** The inputs are activations: a tensor h of any dtype whose first dim counts samples and
** whose other dims, flattened, are the units (a 1-D tensor is one sample, a 0-dim tensor
** one sample of one unit). A unit is *active* on a sample when its value is > 0: the same
** test works on pre-activations and on the outputs of rectifiers (ReLU, leaky ReLU, ELU,
** GELU are > 0 exactly where their input is). Sparsity counts exact zeros instead.
**
** Layers are counted from 1 in messages, as the user sees them. Functions return a new
** reference, a count, or -1 / NULL with a message in nn_errmsg().
*/
#ifndef NN_STATS_H
#define NN_STATS_H

#include "nn/tensor.h"

/* The number of elements that are exactly zero (any dtype, any strides; NaN is not 0). */
int64_t nn_stats_count_zeros(const nn_tensor *t);

/* The samples and units of an activation tensor, as described above. */
int64_t nn_stats_samples(const nn_tensor *h);
int64_t nn_stats_units(const nn_tensor *h);

/* The units that can be active or dead: nn_stats_units(h), except for the feature maps of
   convolutions, (N, C, H, W) and more dims, whose units are the C channels (filters): a
   channel is active on a sample where any of its positions is > 0. */
int64_t nn_stats_active_units(const nn_tensor *h);
/* active[j] |= (h[i][j] > 0 for some sample i): accumulates "ever active" over batches.
   active is a contiguous u8 tensor of nn_stats_active_units(h) elements. */
int nn_stats_active_(nn_tensor *active, const nn_tensor *h);
/* The u8 mask (units) of units active on at least one sample of h. */
nn_tensor *nn_stats_active(const nn_tensor *h);
/* The number of units of h active on no sample (dead on this batch); -1 on error. */
int64_t nn_stats_dead_count(const nn_tensor *h);

/* Activation-pattern ids: hs[0..n-1] are the activations of n layers on the same N
   samples; sample i's id (an i64 tensor of N) is a 64-bit hash of its full sign pattern
   (unit by unit, layer by layer). Equal patterns give equal ids; different patterns collide
   with probability about 2^-64 per pair. */
nn_tensor *nn_stats_pattern_ids(nn_tensor *const *hs, int n);

/* The number of distinct values of a 1-D integer tensor. When labels is not NULL it gets
   an i64 tensor of the same size: each element's 0-based rank in order of first
   appearance (a compact region index, for coloring). */
int64_t nn_stats_distinct(const nn_tensor *ids, nn_tensor **labels);

/* How many consecutive elements of a 1-D integer tensor differ (the pattern changes along
   a sampled path); a closed path also compares the last element with the first. */
int64_t nn_stats_changes(const nn_tensor *ids, bool closed);

/* The number of unit sign changes between consecutive samples of the layers hs (as for
   nn_stats_pattern_ids; closed also compares the last sample with the first). Along a
   finely sampled path it counts the boundaries between linear pieces crossed: generically
   one unit changes sign at each, so two boundaries between the same two samples still
   count two, where the pattern changes would count one. -1 on error. */
int64_t nn_stats_flips(nn_tensor *const *hs, int n, bool closed);

/* The length of the polyline through the N points of pts (N, d...) (closed: back to the
   first point), accumulated in f64; -1 on error. */
double nn_stats_path_length(const nn_tensor *pts, bool closed);

#endif
