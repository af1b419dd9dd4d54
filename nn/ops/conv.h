/*
** nn/ops/conv.h: what nn/ops/conv.c shares with its direct path nn/ops/conv_direct.c.
*/
#ifndef NN_OPS_CONV_H
#define NN_OPS_CONV_H

#include <stdbool.h>
#include <stdint.h>

/* a convolution's sizes: conv1d's with h = kh = oh = 1, sh = dh = 1, ph = 0 */
typedef struct geom {
  int64_t n, cin, h, w, cout, kh, kw, oh, ow;
  int64_t sh, sw, ph, pw, dh, dw, groups;
  int64_t cin_g, cout_g, rows_g, ohw; /* per group: channels, im2col rows; output positions */
} geom;

/* The direct path (f32, stride 1, one group, AVX-512): whether it takes g. */
bool conv_direct_takes(const geom *g);

/* y = conv(x, w) + b (b may be NULL); all dense, f32. -1 with a message when out of memory. */
int conv_direct_forward(const geom *g, const float *x, const float *w, const float *b, float *y);

/* From the output gradient gy: dx and dw (each may be NULL) and sums[o] += the bias gradient
   (sums NULL: none). */
int conv_direct_backward(const geom *g, const float *x, const float *w, const float *gy, float *dx,
                         float *dw, double *sums);

#endif
