/*
** nn/ops/conv_kern.h: the moves of nn/ops/conv.c, per dtype: im2col and its transpose
** col2im, and the output (gradient) moved between NCHW and the chunk layout. Private to
** conv.c, which includes it once.
*/
#ifndef NN_OPS_CONV_KERN_H
#define NN_OPS_CONV_KERN_H

#include <string.h>

#include "nn/ops/conv.h"
#include "nn/ops/pointwise.h"
#include "nn/pool.h"

/* What a parallel piece works on: images i0..i0+nb of the batch and the chunk's matrix,
   whose element (row r, image i, position p) is at col[r rs + i is + p]. The chunk layout
   (rs = nb ohw, is = ohw) makes the whole chunk one GEMM per group; the image layout
   (rs = ohw, is = rows ohw) gives each image a matrix of its own, multiplied with the NCHW
   tensors in place. */
typedef struct chunk {
  const geom *g;
  int64_t i0, nb, rs, is;
  const void *x, *bias; /* input (dense NCHW), bias or NULL */
  void *col, *y;        /* the chunk's matrix, the NCHW tensor it moves to or from */
  double *sums;         /* per output channel (gather_out), or NULL */
  bool serial;          /* run on the calling thread only (a piece of a team's work) */
} chunk;

/* Output columns ox whose input column ox * s + x0 lies in [0, w): [*lo, *hi). */
static void valid_span(int64_t x0, int64_t s, int64_t w, int64_t ow, int64_t *lo, int64_t *hi) {
  *lo = x0 >= 0 ? 0 : (-x0 + s - 1) / s;
  *hi = w - 1 - x0 < 0 ? 0 : (w - 1 - x0) / s + 1;
  if (*hi > ow) *hi = ow;
  if (*lo > *hi) *lo = *hi;
}

/* Stride 1 with as many output columns as input columns (a "same" width): a kernel tap's
   row of im2col is the input plane shifted by off, so it is one contiguous copy (and
   col2im one contiguous add) over the output rows y0..y1 that read inside the input, from
   column lo of the first to hi of the last, with the columns outside lo..hi (which read the
   padding) zeroed after. Rows of the plane: oy reads iy = oy - ph + ki dh. */
typedef struct flat_row {
  int64_t y0, y1, start, end, off; /* output rows; d[start..end) <-> src[start+off..end+off) */
} flat_row;

static bool flat_row_of(const geom *g, int64_t ki, int64_t x0, int64_t lo, int64_t hi,
                        flat_row *f) {
  if (g->sh != 1 || g->sw != 1 || g->ow != g->w || hi <= lo) return false;
  f->y0 = g->ph - ki * g->dh > 0 ? g->ph - ki * g->dh : 0;
  f->y1 = g->h + g->ph - ki * g->dh < g->oh ? g->h + g->ph - ki * g->dh : g->oh;
  if (f->y1 < f->y0) f->y1 = f->y0;
  f->start = f->y0 * g->ow + lo, f->end = f->y1 > f->y0 ? (f->y1 - 1) * g->ow + hi : f->start;
  f->off = (ki * g->dh - g->ph) * g->w + x0;
  return true;
}

#define FLAT(D, T, name)                                                                           \
  /* zero the columns outside lo..hi of the rows y0..y1 */                                         \
  /* (usually one element each side: written out, not left to GCC, which calls memset) */          \
  static void border_##D(const geom *g, const flat_row *f, T *d, int64_t lo, int64_t hi) {         \
    if (lo == 0 && hi == g->ow) return;                                                            \
    for (int64_t oy = f->y0; oy < f->y1; oy++) {                                                   \
      T *row = d + oy * g->ow;                                                                     \
      if (lo == 1)                                                                                 \
        row[0] = 0;                                                                                \
      else if (lo > 1)                                                                             \
        memset(row, 0, (size_t)lo * sizeof(T));                                                    \
      if (hi == g->ow - 1)                                                                         \
        row[hi] = 0;                                                                               \
      else if (hi < g->ow)                                                                         \
        memset(row + hi, 0, (size_t)(g->ow - hi) * sizeof(T));                                     \
    }                                                                                              \
  }                                                                                                \
  static void name##_im2col_##D(const geom *g, const flat_row *f, const T *restrict src,           \
                                T *restrict d, int64_t lo, int64_t hi) {                           \
    memset(d, 0, (size_t)f->start * sizeof(T));                                                    \
    memcpy(d + f->start, src + f->start + f->off, (size_t)(f->end - f->start) * sizeof(T));        \
    memset(d + f->end, 0, (size_t)(g->ohw - f->end) * sizeof(T));                                  \
    border_##D(g, f, d, lo, hi);                                                                   \
  }                                                                                                \
  static void name##_col2im_##D(const geom *g, const flat_row *f, T *restrict s, T *restrict dst,  \
                                int64_t lo, int64_t hi) {                                          \
    border_##D(g, f, s, lo, hi);                                                                   \
    for (int64_t j = f->start; j < f->end; j++) dst[j + f->off] += s[j];                           \
  }
TYPES_FLOAT(FLAT, flat)

/* Channels c0..c1 of the chunk's images into the im2col matrix: row (c, ki, kj), column
   (image, oy, ox); zero where the kernel reads the padding. */
#define IM2COL(D, T, name)                                                                         \
  static void name##_##D(int64_t c0, int64_t c1, void *ctx) {                                      \
    const chunk *k = ctx;                                                                          \
    const geom *g = k->g;                                                                          \
    for (int64_t c = c0; c < c1; c++)                                                              \
      for (int64_t i = 0; i < k->nb; i++) {                                                        \
        const T *src = (const T *)k->x + ((k->i0 + i) * g->cin + c) * g->h * g->w;                 \
        for (int64_t r = c * g->kh * g->kw; r < (c + 1) * g->kh * g->kw; r++) {                    \
          int64_t ki = r % (g->kh * g->kw) / g->kw, x0 = r % g->kw * g->dw - g->pw, lo, hi;        \
          valid_span(x0, g->sw, g->w, g->ow, &lo, &hi);                                            \
          T *restrict d = (T *)k->col + r * k->rs + i * k->is;                                     \
          flat_row f;                                                                              \
          if (flat_row_of(g, ki, x0, lo, hi, &f)) {                                                \
            flat_im2col_##D(g, &f, src, d, lo, hi);                                                \
            continue;                                                                              \
          }                                                                                        \
          for (int64_t oy = 0; oy < g->oh; oy++, d += g->ow) {                                     \
            int64_t iy = oy * g->sh - g->ph + ki * g->dh, ox = 0;                                  \
            bool in = iy >= 0 && iy < g->h;                                                        \
            int64_t a = in ? lo : g->ow, b = in ? hi : g->ow;                                      \
            const T *restrict s = src + (in ? iy * g->w + x0 : 0);                                 \
            for (; ox < a; ox++) d[ox] = 0;                                                        \
            if (g->sw == 1)                                                                        \
              for (; ox < b; ox++) d[ox] = s[ox];                                                  \
            else                                                                                   \
              for (; ox < b; ox++) d[ox] = s[ox * g->sw];                                          \
            for (; ox < g->ow; ox++) d[ox] = 0;                                                    \
          }                                                                                        \
        }                                                                                          \
      }                                                                                            \
  }

/* Channels c0..c1 of dx (the chunk's images) = the column gradient added back, the
   transpose of im2col; each channel's rows go to that channel only, so pieces never
   collide, and each plane is zeroed just before (while it is in cache). */
#define COL2IM(D, T, name)                                                                         \
  static void name##_##D(int64_t c0, int64_t c1, void *ctx) {                                      \
    const chunk *k = ctx;                                                                          \
    const geom *g = k->g;                                                                          \
    for (int64_t c = c0; c < c1; c++)                                                              \
      for (int64_t i = 0; i < k->nb; i++) {                                                        \
        T *dst = (T *)k->y + ((k->i0 + i) * g->cin + c) * g->h * g->w;                             \
        memset(dst, 0, (size_t)(g->h * g->w) * sizeof(T));                                         \
        for (int64_t r = c * g->kh * g->kw; r < (c + 1) * g->kh * g->kw; r++) {                    \
          int64_t ki = r % (g->kh * g->kw) / g->kw, x0 = r % g->kw * g->dw - g->pw, lo, hi;        \
          valid_span(x0, g->sw, g->w, g->ow, &lo, &hi);                                            \
          T *restrict s = (T *)k->col + r * k->rs + i * k->is;                                     \
          flat_row f;                                                                              \
          if (flat_row_of(g, ki, x0, lo, hi, &f)) {                                                \
            flat_col2im_##D(g, &f, s, dst, lo, hi);                                                \
            continue;                                                                              \
          }                                                                                        \
          for (int64_t oy = 0; oy < g->oh; oy++, s += g->ow) {                                     \
            int64_t iy = oy * g->sh - g->ph + ki * g->dh;                                          \
            if (iy < 0 || iy >= g->h) continue;                                                    \
            T *restrict d = dst + iy * g->w + x0;                                                  \
            if (g->sw == 1)                                                                        \
              for (int64_t ox = lo; ox < hi; ox++) d[ox] += s[ox];                                 \
            else                                                                                   \
              for (int64_t ox = lo; ox < hi; ox++) d[ox * g->sw] += s[ox];                         \
          }                                                                                        \
        }                                                                                          \
      }                                                                                            \
  }

/* Output channels o0..o1 of the chunk's images: y (NCHW) = the product in col (chunk
   layout) + the bias; with col NULL, y = the bias (for GEMMs that then add into y). */
#define SCATTER_OUT(D, T, name)                                                                    \
  static void name##_##D(int64_t o0, int64_t o1, void *ctx) {                                      \
    const chunk *k = ctx;                                                                          \
    const geom *g = k->g;                                                                          \
    for (int64_t o = o0; o < o1; o++) {                                                            \
      T b = k->bias ? ((const T *)k->bias)[o] : 0;                                                 \
      for (int64_t i = 0; i < k->nb; i++) {                                                        \
        T *d = (T *)k->y + ((k->i0 + i) * g->cout + o) * g->ohw;                                   \
        if (!k->col) {                                                                             \
          for (int64_t p = 0; p < g->ohw; p++) d[p] = b;                                           \
          continue;                                                                                \
        }                                                                                          \
        const T *s = (const T *)k->col + o * k->rs + i * k->is;                                    \
        for (int64_t p = 0; p < g->ohw; p++) d[p] = s[p] + b;                                      \
      }                                                                                            \
    }                                                                                              \
  }

/* Output channels o0..o1: col (chunk layout) = the output gradient (NCHW, in y), and
   sums[o] += its sums (the bias gradient) when sums is set; with col NULL, the sums only. */
#define GATHER_OUT(D, T, name)                                                                     \
  static void name##_##D(int64_t o0, int64_t o1, void *ctx) {                                      \
    const chunk *k = ctx;                                                                          \
    const geom *g = k->g;                                                                          \
    for (int64_t o = o0; o < o1; o++) {                                                            \
      double sum = 0;                                                                              \
      for (int64_t i = 0; i < k->nb; i++) {                                                        \
        const T *s = (const T *)k->y + ((k->i0 + i) * g->cout + o) * g->ohw;                       \
        if (k->col) memcpy((T *)k->col + o * k->rs + i * k->is, s, (size_t)g->ohw * sizeof(T));    \
        if (!k->sums) continue;                                                                    \
        double part[8] = {0}; /* 8 sums side by side: one chain would wait on each add */          \
        int64_t p = 0;                                                                             \
        for (; p + 8 <= g->ohw; p += 8)                                                            \
          for (int j = 0; j < 8; j++) part[j] += s[p + j];                                         \
        for (; p < g->ohw; p++) sum += s[p];                                                       \
        for (int j = 0; j < 8; j++) sum += part[j];                                                \
      }                                                                                            \
      if (k->sums) k->sums[o] += sum;                                                              \
    }                                                                                              \
  }

typedef void piece_fn(int64_t, int64_t, void *);
#define SLOT(D, T, name) [NN_##D] = name##_##D,
#define KERNELS(name, K)                                                                           \
  TYPES_FLOAT(K, name)                                                                             \
  static piece_fn *const name[NN_NDTYPES] = {TYPES_FLOAT(SLOT, name)};
KERNELS(im2col, IM2COL)
KERNELS(col2im, COL2IM)
KERNELS(scatter_out, SCATTER_OUT)
KERNELS(gather_out, GATHER_OUT)

/* Runs a kernel over n pieces (rows or channels), each of `work` elements, on the pool's
   threads when there is enough work. */
static void run(piece_fn *f, int64_t n, int64_t work, chunk *k) {
  if (k->serial) {
    f(0, n, k);
    return;
  }
  int64_t grain = (1 << 15) / (work > 0 ? work : 1);
  nn_parallel(n, grain > 0 ? grain : 1, f, k);
}

#endif
