/*
** nn/format.h: a tensor as text, for print(x) and tostring(x).
**
**    1.0000  2.5000 -3.0000
**    4.0000  5.0000  6.0000
**   [f32 tensor of shape {2,3}]
**
** Rows per line in aligned columns, one number format per tensor (fixed, fixed with a
** common scale line such as "1e-03 *", or scientific when magnitudes spread widely),
** 3-D and up as 2-D slices under headers like "(1,.,.) =" (1-based), columns wrapped at the
** line width under "Columns 1 to 8", large tensors summarized with "…" (only the shown
** elements are ever read or formatted, so a huge tensor prints as fast as a small one).
*/
#ifndef NN_FORMAT_H
#define NN_FORMAT_H

#include "nn/tensor.h"

typedef struct nn_format_opts {
  int64_t threshold;  /* summarize when there are more elements than this (default 1000) */
  int edgeitems;      /* shown at each end of a summarized dim (default 3) */
  int linewidth;      /* characters per line before columns wrap (default 80) */
  int precision;      /* digits after the point (default 4) */
  const char *suffix; /* when non-NULL, added as ", suffix" inside the last line's brackets */
} nn_format_opts;

/* A malloc'd string (the caller frees it) without a final newline, or NULL when out of
   memory. o may be NULL; fields <= 0 take their defaults. */
char *nn_format(const nn_tensor *t, const nn_format_opts *o);

#endif
