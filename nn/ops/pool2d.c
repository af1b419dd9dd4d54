/*
** nn/ops/pool2d.c: 2-D pooling over the last two dims of (N, C, H, W) or (C, H, W):
** max_pool2d, avg_pool2d and adaptive_avg_pool2d.
**
** All three are one geometry: each output row oh reads the input rows [hlo, hhi) and each
** output column ow the columns [wlo, whi), clipped to the input, with a divisor count per
** row and column (the average divides by hcnt[oh] wcnt[ow]). A pool's kern is the function
** that fills those tables: kernel/stride/padding windows (with PyTorch's ceil_mode and
** count_include_pad rules) or the adaptive windows floor(o H / OH) .. ceil((o + 1) H / OH).
**
** Max pooling saves, per output, where the maximum was: its offset in the clipped window, one
** byte when the window has at most 255 elements (i64 otherwise). Its VJP adds the gradient
** there, its JVP reads the tangent there. Averages are linear: the JVP is the forward of the
** tangent, the VJP spreads each gradient over its window. Work is split by planes (n, c)
** across the core's threads.
*/
#include <limits.h>
#include <math.h>

#include "nn/alloc.h"
#include "nn/ops.h"
#include "nn/ops/pointwise.h"
#include "nn/pool.h"

/* attrs of max_pool2d and avg_pool2d: i = {kh, kw, sh, sw, ph, pw, ceil_mode,
   count_include_pad}; of adaptive_avg_pool2d: i = {OH, OW} */
enum { A_KH, A_KW, A_SH, A_SW, A_PH, A_PW, A_CEIL, A_INCLUDE_PAD };

typedef struct geom {
  int64_t planes, H, W, OH, OW;
  int64_t *hlo, *hhi, *hcnt, *wlo, *whi, *wcnt; /* one allocation of 3 (OH + OW) */
  bool tile2; /* max pooling by whole 2 x 2 windows at stride 2 (the MAX2 kernels) */
  bool tiles; /* and those windows cover the plane */
  size_t bytes;
} geom;

typedef int axis_fn(const nn_attr *a, int axis, int64_t in, int64_t *out, int64_t *lo, int64_t *hi,
                    int64_t *cnt);

/* out = floor((in + 2p - k) / s) + 1 (or ceil with ceil_mode, the last window starting inside
   the input or its left padding); lo, hi, cnt NULL: the size only */
static int window_axis(const nn_attr *a, int axis, int64_t in, int64_t *out, int64_t *lo,
                       int64_t *hi, int64_t *cnt) {
  int64_t k = a->i[A_KH + axis], s = a->i[A_SH + axis], p = a->i[A_PH + axis];
  bool ceil_mode = a->i[A_CEIL] != 0, include_pad = a->i[A_INCLUDE_PAD] != 0;
  if (!lo) {
    int64_t span = in + 2 * p - k;
    if (span < 0) return -1;
    int64_t o = (span + (ceil_mode ? s - 1 : 0)) / s + 1;
    if (ceil_mode && (o - 1) * s >= in + p) o--;
    *out = o;
    return 0;
  }
  for (int64_t o = 0; o < *out; o++) {
    int64_t start = o * s - p, end = start + k < in + p ? start + k : in + p;
    lo[o] = start > 0 ? start : 0, hi[o] = end < in ? end : in;
    cnt[o] = include_pad ? end - start : hi[o] - lo[o];
  }
  return 0;
}

static int adaptive_axis(const nn_attr *a, int axis, int64_t in, int64_t *out, int64_t *lo,
                         int64_t *hi, int64_t *cnt) {
  if (!lo) {
    *out = a->i[axis];
    return 0;
  }
  for (int64_t o = 0; o < *out; o++) {
    lo[o] = o * in / *out, hi[o] = ((o + 1) * in + *out - 1) / *out;
    cnt[o] = hi[o] - lo[o];
  }
  return 0;
}

static int check_attrs(const nn_op *op, const nn_attr *a) {
  if (op->kern == (const void *)adaptive_axis) {
    if (a->i[0] < 1 || a->i[1] < 1)
      return nn_errc("output size must be positive, not {%lld,%lld}", (long long)a->i[0],
                     (long long)a->i[1]);
    return 0;
  }
  for (int ax = 0; ax < 2; ax++) {
    int64_t k = a->i[A_KH + ax], s = a->i[A_SH + ax], p = a->i[A_PH + ax];
    if (k < 1 || s < 1 || p < 0)
      return nn_errc("kernel and stride must be positive and padding >= 0, not kernel "
                     "{%lld,%lld}, stride {%lld,%lld}, padding {%lld,%lld}",
                     (long long)a->i[A_KH], (long long)a->i[A_KW], (long long)a->i[A_SH],
                     (long long)a->i[A_SW], (long long)a->i[A_PH], (long long)a->i[A_PW]);
    if (2 * p > k)
      return nn_errc("padding must be at most half the kernel, not padding {%lld,%lld} for "
                     "kernel {%lld,%lld}",
                     (long long)a->i[A_PH], (long long)a->i[A_PW], (long long)a->i[A_KH],
                     (long long)a->i[A_KW]);
  }
  return 0;
}

static void geom_free(geom *g) {
  if (g->hlo) nn_free(g->hlo, g->bytes);
  g->hlo = NULL;
}

/* the geometry of op on x; -1 with a message for bad input */
static int geom_of(geom *g, const nn_op *op, const nn_tensor *x, const nn_attr *a) {
  *g = (geom){0};
  if (!nn_dtype_is_float(x->dtype))
    return nn_errc("input must be f32 or f64, not %s", nn_dtype_name(x->dtype));
  if (x->ndim != 3 && x->ndim != 4)
    return nn_errc("input must be 4-D (N, C, H, W) or 3-D (C, H, W), not of shape %s",
                   nn_shape_str(x));
  if (check_attrs(op, a) < 0) return -1;
  axis_fn *axis = (axis_fn *)op->kern;
  int64_t H = x->shape[x->ndim - 2], W = x->shape[x->ndim - 1];
  if (axis(a, 0, H, &g->OH, NULL, NULL, NULL) < 0 || axis(a, 1, W, &g->OW, NULL, NULL, NULL) < 0)
    return nn_errc("kernel {%lld,%lld} is larger than the padded input (%lld x %lld with "
                   "padding {%lld,%lld}) of input %s",
                   (long long)a->i[A_KH], (long long)a->i[A_KW], (long long)(H + 2 * a->i[A_PH]),
                   (long long)(W + 2 * a->i[A_PW]), (long long)a->i[A_PH], (long long)a->i[A_PW],
                   nn_shape_str(x));
  if (H == 0 || W == 0)
    return nn_errc("input %s has an empty plane: nothing to pool", nn_shape_str(x));
  g->H = H, g->W = W, g->planes = nn_numel(x) / (H * W);
  g->bytes = (size_t)(3 * (g->OH + g->OW)) * sizeof(int64_t);
  if (!(g->hlo = nn_alloc(g->bytes)))
    return nn_errc("output size {%lld,%lld} is too large", (long long)g->OH, (long long)g->OW);
  g->hhi = g->hlo + g->OH, g->hcnt = g->hhi + g->OH;
  g->wlo = g->hcnt + g->OH, g->whi = g->wlo + g->OW, g->wcnt = g->whi + g->OW;
  axis(a, 0, H, &g->OH, g->hlo, g->hhi, g->hcnt);
  axis(a, 1, W, &g->OW, g->wlo, g->whi, g->wcnt);
  g->tile2 = op == &nn_op_max_pool2d && a->i[A_KH] == 2 && a->i[A_KW] == 2 && a->i[A_SH] == 2 &&
             a->i[A_SW] == 2 && a->i[A_PH] == 0 && a->i[A_PW] == 0 && 2 * g->OH <= H &&
             2 * g->OW <= W;
  g->tiles = g->tile2 && 2 * g->OH == H && 2 * g->OW == W;
  return 0;
}

static nn_tensor *pooled_like(const nn_tensor *x, const geom *g) {
  int64_t shape[4];
  for (int d = 0; d < x->ndim - 2; d++) shape[d] = x->shape[d];
  shape[x->ndim - 2] = g->OH, shape[x->ndim - 1] = g->OW;
  return nn_empty(x->dtype, x->ndim, shape);
}

/* ---- the kernels: one plane-range job, dispatched by dtype (and index type for max) ---- */

typedef struct job {
  const geom *g;
  const char *x; /* the input plane data (or the tangent, the gradient) */
  char *y;       /* the output (or the input's gradient) */
  char *code;    /* max: where each maximum is */
  void (*run)(const struct job *, int64_t plane);
} job;

static void run_planes(int64_t lo, int64_t hi, void *ctx) {
  const job *j = ctx;
  for (int64_t p = lo; p < hi; p++) j->run(j, p);
}

static void run_job(job *j) {
  int64_t plane = j->g->H * j->g->W + j->g->OH * j->g->OW;
  int64_t grain = (1 << 15) / (plane > 0 ? plane : 1);
  nn_parallel(j->g->planes, grain > 0 ? grain : 1, run_planes, j);
}

#define PLANE_PTRS(T, I)                                                                           \
  const geom *g = j->g;                                                                            \
  int64_t in_plane = g->H * g->W, out_plane = g->OH * g->OW;                                       \
  (void)in_plane, (void)out_plane

/* the max kernels' codes of plane p */
#define CODES(I) I *code = (I *)j->code + p * out_plane

/* y = the window's maximum (NaN wins, as PyTorch's), code = its offset in the window */
#define MAX_FORWARD(T, I)                                                                          \
  PLANE_PTRS(T, I);                                                                                \
  CODES(I);                                                                                        \
  const T *x = (const T *)j->x + p * in_plane;                                                     \
  T *y = (T *)j->y + p * out_plane;                                                                \
  for (int64_t oh = 0; oh < g->OH; oh++)                                                           \
    for (int64_t ow = 0; ow < g->OW; ow++) {                                                       \
      int64_t wl = g->wlo[ow], wn = g->whi[ow] - wl, best = 0, r = 0;                              \
      T m = -INFINITY;                                                                             \
      for (int64_t ih = g->hlo[oh]; ih < g->hhi[oh]; ih++)                                         \
        for (int64_t iw = 0; iw < wn; iw++, r++) {                                                 \
          T v = x[ih * g->W + wl + iw];                                                            \
          bool take = v > m || v != v;                                                             \
          m = take ? v : m, best = take ? r : best;                                                \
        }                                                                                          \
      y[oh * g->OW + ow] = m, code[oh * g->OW + ow] = (I)best;                                     \
    }

/* the input position of output (oh, ow)'s maximum, from its code */
#define MAX_AT(oh, ow)                                                                             \
  ((g->hlo[oh] + (int64_t)code[(oh)*g->OW + (ow)] / (g->whi[ow] - g->wlo[ow])) * g->W +            \
   g->wlo[ow] + (int64_t)code[(oh)*g->OW + (ow)] % (g->whi[ow] - g->wlo[ow]))

/* the input's gradient (zeroed): each output's gradient added at its maximum */
#define MAX_VJP(T, I)                                                                              \
  PLANE_PTRS(T, I);                                                                                \
  CODES(I);                                                                                        \
  const T *gy = (const T *)j->x + p * out_plane;                                                   \
  T *gx = (T *)j->y + p * in_plane;                                                                \
  for (int64_t oh = 0; oh < g->OH; oh++)                                                           \
    for (int64_t ow = 0; ow < g->OW; ow++) gx[MAX_AT(oh, ow)] += gy[oh * g->OW + ow];

/* the output's tangent: the input's tangent at each maximum */
#define MAX_JVP(T, I)                                                                              \
  PLANE_PTRS(T, I);                                                                                \
  CODES(I);                                                                                        \
  const T *tx = (const T *)j->x + p * in_plane;                                                    \
  T *ty = (T *)j->y + p * out_plane;                                                               \
  for (int64_t oh = 0; oh < g->OH; oh++)                                                           \
    for (int64_t ow = 0; ow < g->OW; ow++) ty[oh * g->OW + ow] = tx[MAX_AT(oh, ow)];

/* y = the window's sum / (hcnt wcnt), summed in double */
#define AVG_FORWARD(T, I)                                                                          \
  PLANE_PTRS(T, I);                                                                                \
  const T *x = (const T *)j->x + p * in_plane;                                                     \
  T *y = (T *)j->y + p * out_plane;                                                                \
  for (int64_t oh = 0; oh < g->OH; oh++)                                                           \
    for (int64_t ow = 0; ow < g->OW; ow++) {                                                       \
      double s = 0;                                                                                \
      for (int64_t ih = g->hlo[oh]; ih < g->hhi[oh]; ih++)                                         \
        for (int64_t iw = g->wlo[ow]; iw < g->whi[ow]; iw++) s += x[ih * g->W + iw];               \
      y[oh * g->OW + ow] = (T)(s / (double)(g->hcnt[oh] * g->wcnt[ow]));                           \
    }

/* the input's gradient (zeroed): each output's gradient / (hcnt wcnt) over its window */
#define AVG_VJP(T, I)                                                                              \
  PLANE_PTRS(T, I);                                                                                \
  const T *gy = (const T *)j->x + p * out_plane;                                                   \
  T *gx = (T *)j->y + p * in_plane;                                                                \
  for (int64_t oh = 0; oh < g->OH; oh++)                                                           \
    for (int64_t ow = 0; ow < g->OW; ow++) {                                                       \
      T v = (T)(gy[oh * g->OW + ow] / (double)(g->hcnt[oh] * g->wcnt[ow]));                        \
      for (int64_t ih = g->hlo[oh]; ih < g->hhi[oh]; ih++)                                         \
        for (int64_t iw = g->wlo[ow]; iw < g->whi[ow]; iw++) gx[ih * g->W + iw] += v;              \
    }

/* The common 2 x 2 window at stride 2 without padding, every window whole: the four values
   picked without branches (codes 0 1 / 2 3), the gradient written to every input element
   (zero off the maxima) so that the VJP needs no zeroed tensor when the windows tile the
   plane. */
/* a row of 2 x 2 windows holding a NaN, as MAX_FORWARD picks: the last NaN wins */
#define MAX2_NAN(D, T, unused)                                                                     \
  static void max2_nan_##T(const T *r0, const T *r1, T *yo, uint8_t *co, int64_t OW) {             \
    for (int64_t ow = 0; ow < OW; ow++) {                                                          \
      T m = -INFINITY;                                                                             \
      uint8_t c = 0;                                                                               \
      for (int r = 0; r < 4; r++) {                                                                \
        T v = (r < 2 ? r0 : r1)[2 * ow + r % 2];                                                   \
        bool take = v > m || v != v;                                                               \
        m = take ? v : m, c = take ? (uint8_t)r : c;                                               \
      }                                                                                            \
      yo[ow] = m, co[ow] = c;                                                                      \
    }                                                                                              \
  }
TYPES_FLOAT(MAX2_NAN, 0)

/* The 2 x 2 kernels work on chunks of up to CHUNK outputs of a row, their codes widened to
   int32 in a stack buffer: with codes and values of one width the compiler vectorizes the
   selects at 4 or 8 lanes, which rows of 7 or 14 outputs can use (u8 codes would ask for 16).
   The forward picks the max of the four by selects; a chunk that holds a NaN is done again
   as MAX_FORWARD does it (the NaN wins). */
enum { CHUNK = 64 };
#define MAX2_PICK(v, k) c = v > m ? k : c, m = v > m ? v : m
#define MAX2_FORWARD(T, I)                                                                         \
  PLANE_PTRS(T, I);                                                                                \
  CODES(I);                                                                                        \
  const T *x = (const T *)j->x + p * in_plane;                                                     \
  T *y = (T *)j->y + p * out_plane;                                                                \
  int32_t cb[CHUNK];                                                                               \
  for (int64_t oh = 0; oh < g->OH; oh++)                                                           \
    for (int64_t o0 = 0; o0 < g->OW; o0 += CHUNK) {                                                \
      const T *restrict r0 = x + 2 * oh * g->W + 2 * o0, *restrict r1 = r0 + g->W;                 \
      T *restrict yo = y + oh * g->OW + o0;                                                        \
      int n = g->OW - o0 < CHUNK ? (int)(g->OW - o0) : CHUNK, nan = 0;                             \
      for (int ow = 0; ow < n; ow++) {                                                             \
        T a = r0[2 * ow], b = r0[2 * ow + 1], d = r1[2 * ow], e = r1[2 * ow + 1], m = a;           \
        int32_t c = 0;                                                                             \
        MAX2_PICK(b, 1);                                                                           \
        MAX2_PICK(d, 2);                                                                           \
        MAX2_PICK(e, 3);                                                                           \
        yo[ow] = m, cb[ow] = c;                                                                    \
        nan |= (a != a) | (b != b) | (d != d) | (e != e);                                          \
      }                                                                                            \
      I *co = code + oh * g->OW + o0;                                                              \
      for (int ow = 0; ow < n; ow++) co[ow] = (I)cb[ow];                                           \
      if (nan) max2_nan_##T(r0, r1, yo, co, n);                                                    \
    }

/* every input element written: the gradient at the maximum, zero at the other three */
#define MAX2_VJP(T, I)                                                                             \
  PLANE_PTRS(T, I);                                                                                \
  CODES(I);                                                                                        \
  const T *gy = (const T *)j->x + p * out_plane;                                                   \
  T *gx = (T *)j->y + p * in_plane;                                                                \
  T cb[CHUNK]; /* the codes as values: selects of one type */                                      \
  for (int64_t oh = 0; oh < g->OH; oh++)                                                           \
    for (int64_t o0 = 0; o0 < g->OW; o0 += CHUNK) {                                                \
      T *restrict r0 = gx + 2 * oh * g->W + 2 * o0, *restrict r1 = r0 + g->W;                      \
      const T *restrict go = gy + oh * g->OW + o0;                                                 \
      const I *co = code + oh * g->OW + o0;                                                        \
      int n = g->OW - o0 < CHUNK ? (int)(g->OW - o0) : CHUNK;                                      \
      for (int ow = 0; ow < n; ow++) cb[ow] = (T)co[ow];                                           \
      for (int ow = 0; ow < n; ow++) {                                                             \
        T v = go[ow], z = 0;                                                                       \
        T c = cb[ow];                                                                              \
        r0[2 * ow] = c == 0 ? v : z, r0[2 * ow + 1] = c == 1 ? v : z;                              \
        r1[2 * ow] = c == 2 ? v : z, r1[2 * ow + 1] = c == 3 ? v : z;                              \
      }                                                                                            \
    }

#define MAX2_JVP(T, I)                                                                             \
  PLANE_PTRS(T, I);                                                                                \
  CODES(I);                                                                                        \
  const T *tx = (const T *)j->x + p * in_plane;                                                    \
  T *ty = (T *)j->y + p * out_plane;                                                               \
  for (int64_t oh = 0; oh < g->OH; oh++)                                                           \
    for (int64_t ow = 0; ow < g->OW; ow++) {                                                       \
      int64_t c = code[oh * g->OW + ow];                                                           \
      ty[oh * g->OW + ow] = tx[(2 * oh + c / 2) * g->W + 2 * ow + c % 2];                          \
    }

#define PLANE_FN(D, T, I, KIND, IN)                                                                \
  static void KIND##_##D##_##IN(const job *j, int64_t p) {                                         \
    KIND(T, I)                                                                                     \
  }
/* max kernels for each float dtype and code type (u8 or i64); averages need no code */
#define MAX_FNS(D, T, KIND) PLANE_FN(D, T, uint8_t, KIND, U8) PLANE_FN(D, T, int64_t, KIND, I64)
#define U8_FNS(D, T, KIND)  PLANE_FN(D, T, uint8_t, KIND, U8)
TYPES_FLOAT(MAX_FNS, MAX_FORWARD)
TYPES_FLOAT(MAX_FNS, MAX_VJP)
TYPES_FLOAT(MAX_FNS, MAX_JVP)
TYPES_FLOAT(U8_FNS, MAX2_FORWARD)
TYPES_FLOAT(U8_FNS, MAX2_VJP)
TYPES_FLOAT(U8_FNS, MAX2_JVP)
TYPES_FLOAT(U8_FNS, AVG_FORWARD)
TYPES_FLOAT(U8_FNS, AVG_VJP)

typedef void plane_fn(const job *, int64_t);
enum { MAX_F, MAX_B, MAX_T, AVG_F, AVG_B, NKINDS };
enum { CODE_U8, CODE_I64, TILE2 }; /* the kernel variants */
/* [kind][dtype == f64][variant] */
static plane_fn *const plane_fns[NKINDS][2][3] = {
    [MAX_F] = {{MAX_FORWARD_F32_U8, MAX_FORWARD_F32_I64, MAX2_FORWARD_F32_U8},
               {MAX_FORWARD_F64_U8, MAX_FORWARD_F64_I64, MAX2_FORWARD_F64_U8}},
    [MAX_B] = {{MAX_VJP_F32_U8, MAX_VJP_F32_I64, MAX2_VJP_F32_U8},
               {MAX_VJP_F64_U8, MAX_VJP_F64_I64, MAX2_VJP_F64_U8}},
    [MAX_T] = {{MAX_JVP_F32_U8, MAX_JVP_F32_I64, MAX2_JVP_F32_U8},
               {MAX_JVP_F64_U8, MAX_JVP_F64_I64, MAX2_JVP_F64_U8}},
    [AVG_F] = {{AVG_FORWARD_F32_U8}, {AVG_FORWARD_F64_U8}},
    [AVG_B] = {{AVG_VJP_F32_U8}, {AVG_VJP_F64_U8}},
};

/* runs kind over the planes of src into dst (both contiguous, of one float dtype) */
static void run_kind(int kind, const geom *g, const nn_tensor *src, nn_tensor *dst,
                     nn_tensor *code) {
  job j = {g, nn_data(src), nn_data(dst), code ? nn_data(code) : NULL, NULL};
  int variant = g->tile2 ? TILE2 : code && code->dtype == NN_I64 ? CODE_I64 : CODE_U8;
  j.run = plane_fns[kind][src->dtype == NN_F64][variant];
  run_job(&j);
}

/* src as a contiguous tensor of dtype dt (a new reference) */
static nn_tensor *dense_as(nn_tensor *src, nn_dtype dt) {
  nn_tensor *c = nn_to(src, dt), *r = c ? nn_contiguous(c) : NULL;
  nn_release(c);
  return r;
}

/* ---- max_pool2d ---- */

static int max_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a, nn_tensor **out,
                       nn_tensor **saved, int *nsaved) {
  geom g;
  if (geom_of(&g, op, in[0], a) < 0) return -1;
  nn_tensor *x = nn_contiguous(in[0]), *y = x ? pooled_like(x, &g) : NULL, *code = NULL;
  if (y) code = nn_empty(a->i[A_KH] * a->i[A_KW] <= UCHAR_MAX ? NN_U8 : NN_I64, y->ndim, y->shape);
  if (code) run_kind(MAX_F, &g, x, y, code);
  geom_free(&g);
  nn_release(x);
  if (!code) {
    nn_release(y);
    return -1;
  }
  out[0] = y;
  if (saved)
    saved[0] = code, *nsaved = 1;
  else
    nn_release(code);
  return 0;
}

static int max_vjp(const nn_ctx *c, nn_tensor *const *gout, const bool *need, nn_tensor **gin) {
  if (!need[0]) return 0;
  geom g;
  if (geom_of(&g, c->op, c->in[0], &c->attr) < 0) return -1;
  nn_tensor *gy = dense_as(gout[0], c->in[0]->dtype);
  nn_tensor *x = c->in[0]; /* the 2 x 2 kernel writes every element of tiled planes */
  gin[0] = !gy ? NULL : g.tiles ? nn_empty_like(x) : nn_zeros(x->dtype, x->ndim, x->shape);
  if (gin[0]) run_kind(MAX_B, &g, gy, gin[0], c->saved[0]);
  geom_free(&g);
  nn_release(gy);
  return gin[0] ? 0 : -1;
}

static int max_jvp(const nn_ctx *c, nn_tensor *const *tin, nn_tensor **tout) {
  geom g;
  if (geom_of(&g, c->op, c->in[0], &c->attr) < 0) return -1;
  nn_tensor *x = c->in[0];
  nn_tensor *tx = tin[0] ? dense_as(tin[0], x->dtype) : nn_zeros(x->dtype, x->ndim, x->shape);
  tout[0] = tx ? pooled_like(x, &g) : NULL;
  if (tout[0]) run_kind(MAX_T, &g, tx, tout[0], c->saved[0]);
  geom_free(&g);
  nn_release(tx);
  return tout[0] ? 0 : -1;
}

const nn_op nn_op_max_pool2d = {.name = "max_pool2d",
                                .nin = 1,
                                .kern = (const void *)window_axis,
                                .nout = 1,
                                .forward_multi = max_forward,
                                .vjp_multi = max_vjp,
                                .jvp_multi = max_jvp};

/* ---- avg_pool2d and adaptive_avg_pool2d: linear maps ---- */

static nn_tensor *avg_apply(const nn_op *op, nn_tensor *src, nn_tensor *shape_of,
                            const nn_attr *a) {
  geom g;
  if (geom_of(&g, op, shape_of, a) < 0) return NULL;
  nn_tensor *x = dense_as(src, shape_of->dtype), *y = x ? pooled_like(shape_of, &g) : NULL;
  if (y) run_kind(AVG_F, &g, x, y, NULL);
  geom_free(&g);
  nn_release(x);
  return y;
}

static nn_tensor *avg_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                              nn_tensor *out) {
  (void)out;
  return avg_apply(op, in[0], in[0], a);
}

static int avg_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  if (!need[0]) return 0;
  nn_tensor *x = c->in[0];
  geom g;
  if (geom_of(&g, c->op, x, &c->attr) < 0) return -1;
  nn_tensor *gy = dense_as(gout, x->dtype);
  gin[0] = gy ? nn_zeros(x->dtype, x->ndim, x->shape) : NULL;
  if (gin[0]) run_kind(AVG_B, &g, gy, gin[0], NULL);
  geom_free(&g);
  nn_release(gy);
  return gin[0] ? 0 : -1;
}

static nn_tensor *avg_jvp(const nn_ctx *c, nn_tensor *const *t) {
  return avg_apply(c->op, t[0], c->in[0], &c->attr);
}

const nn_op nn_op_avg_pool2d = {.name = "avg_pool2d",
                                .nin = 1,
                                .forward = avg_forward,
                                .vjp = avg_vjp,
                                .jvp = avg_jvp,
                                .kern = (const void *)window_axis};
const nn_op nn_op_adaptive_avg_pool2d = {.name = "adaptive_avg_pool2d",
                                         .nin = 1,
                                         .forward = avg_forward,
                                         .vjp = avg_vjp,
                                         .jvp = avg_jvp,
                                         .kern = (const void *)adaptive_axis};

/* ---- the C API ---- */

static nn_attr window_attr(const int64_t k[2], const int64_t s[2], const int64_t p[2],
                           bool ceil_mode, bool include_pad) {
  nn_attr a = {.i = {k[0], k[1], s[0], s[1], p[0], p[1], ceil_mode, include_pad}, .ni = 8};
  return a;
}

nn_tensor *nn_max_pool2d(nn_tensor *x, const int64_t k[2], const int64_t s[2], const int64_t p[2],
                         bool ceil_mode) {
  nn_attr a = window_attr(k, s, p, ceil_mode, false);
  return nn_call(&nn_op_max_pool2d, &x, &a);
}

nn_tensor *nn_avg_pool2d(nn_tensor *x, const int64_t k[2], const int64_t s[2], const int64_t p[2],
                         bool ceil_mode, bool count_include_pad) {
  nn_attr a = window_attr(k, s, p, ceil_mode, count_include_pad);
  return nn_call(&nn_op_avg_pool2d, &x, &a);
}

nn_tensor *nn_adaptive_avg_pool2d(nn_tensor *x, int64_t oh, int64_t ow) {
  nn_attr a = {.i = {oh, ow}, .ni = 2};
  return nn_call(&nn_op_adaptive_avg_pool2d, &x, &a);
}
