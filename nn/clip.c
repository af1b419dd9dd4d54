/*
** nn/clip.c: gradient clipping over a list of gradients, fused (see clip.h). Each kernel is
** written once and instantiated for f32 and f64; a strided gradient is worked on through a
** contiguous copy that is written back.
*/
#include <math.h>

#include "nn/clip.h"

typedef struct clip_arg {
  double p, v; /* the norm's order; the scale or the bound */
  double acc;  /* the sum of |g|^p, or the largest |g| */
} clip_arg;

#define CLIP_KERNELS(T, S)                                                                         \
  static void measure_##S(void *xp, int64_t n, clip_arg *a) {                                      \
    const T *x = xp;                                                                               \
    double acc = 0, p = a->p;                                                                      \
    if (p == 2)                                                                                    \
      for (int64_t i = 0; i < n; i++) acc += (double)x[i] * (double)x[i];                          \
    else if (p == 1)                                                                               \
      for (int64_t i = 0; i < n; i++) acc += fabs((double)x[i]);                                   \
    else if (isinf(p))                                                                             \
      for (int64_t i = 0; i < n; i++) acc = fmax(acc, fabs((double)x[i]));                         \
    else                                                                                           \
      for (int64_t i = 0; i < n; i++) acc += pow(fabs((double)x[i]), p);                           \
    a->acc = isinf(p) ? fmax(a->acc, acc) : a->acc + acc;                                          \
  }                                                                                                \
  static void scale_##S(void *xp, int64_t n, clip_arg *a) {                                        \
    T *x = xp, s = (T)a->v;                                                                        \
    for (int64_t i = 0; i < n; i++) x[i] *= s;                                                     \
  }                                                                                                \
  static void clamp_##S(void *xp, int64_t n, clip_arg *a) {                                        \
    T *x = xp, hi = (T)a->v, lo = -hi;                                                             \
    for (int64_t i = 0; i < n; i++) x[i] = x[i] < lo ? lo : x[i] > hi ? hi : x[i];                 \
  }
CLIP_KERNELS(float, f32)
CLIP_KERNELS(double, f64)

typedef void kernel_fn(void *, int64_t, clip_arg *);
typedef struct kernel_pair {
  kernel_fn *f32, *f64;
} kernel_pair;

/* runs k over every gradient; writes strided ones back when write */
static int each(int n, nn_tensor *const *g, kernel_pair k, clip_arg *a, bool write) {
  for (int j = 0; j < n; j++)
    if (!nn_dtype_is_float(g[j]->dtype))
      return nn_errc("gradient %d is %s, expected f32 or f64", j + 1, nn_dtype_name(g[j]->dtype));
  for (int j = 0; j < n; j++) {
    nn_tensor *c = nn_contiguous(g[j]);
    if (!c) return -1;
    (g[j]->dtype == NN_F32 ? k.f32 : k.f64)(nn_data(c), nn_numel(c), a);
    int rc = write && c != g[j] ? nn_copy_(g[j], c) : 0;
    nn_release(c);
    if (rc < 0) return -1;
  }
  return 0;
}

int nn_grads_norm(int n, nn_tensor *const *g, double p, double *norm) {
  if (p != p || p <= 0) return nn_errc("the norm type must be positive, got %g", p);
  clip_arg a = {.p = p};
  if (each(n, g, (kernel_pair){measure_f32, measure_f64}, &a, false) < 0) return -1;
  *norm = isinf(p) ? a.acc : p == 2 ? sqrt(a.acc) : p == 1 ? a.acc : pow(a.acc, 1 / p);
  return 0;
}

int nn_grads_scale_(int n, nn_tensor *const *g, double scale) {
  clip_arg a = {.v = scale};
  return each(n, g, (kernel_pair){scale_f32, scale_f64}, &a, true);
}

int nn_grads_clamp_(int n, nn_tensor *const *g, double v) {
  if (v != v || v < 0) return nn_errc("the clip value must not be negative, got %g", v);
  clip_arg a = {.v = v};
  return each(n, g, (kernel_pair){clamp_f32, clamp_f64}, &a, true);
}
