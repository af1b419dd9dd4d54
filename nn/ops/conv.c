/*
** nn/ops/conv.c: convolutions (PyTorch's cross-correlation), conv2d on NCHW and conv1d on
** NCL as a conv2d of height 1, f32/f64, with stride, padding, dilation and groups.
**
** The batch goes in chunks of images whose im2col matrix fits one buffer, reused chunk
** after chunk (no allocation per image): its rows are (input channel, kernel tap), its
** columns (image, output position), so that one GEMM per group covers the whole chunk.
**   forward:  O = W col (cout x chunk positions), moved into NCHW with the bias added;
**   backward: G = the output gradient gathered to the same (cout x chunk positions) layout,
**             its row sums the bias gradient (in the same pass), dW += G col^T (col
**             recomputed, not saved), dcol = W^T G, added back into dx by col2im.
** The moves (im2col, col2im, gathers) share the pool's threads; the GEMMs are OpenBLAS's.
** Attributes: conv2d i[] = {stride h, w, padding h, w, dilation h, w, groups}; conv1d
** i[] = {stride, padding, dilation, groups}. Missing ones are 1, 0, 1, 1.
*/
#include <limits.h>
#include <stdatomic.h>

#include "nn/alloc.h"
#include "nn/ops.h"
#include "nn/ops/blas.h"
#include "nn/ops/conv_kern.h"

/* the kern of an entry: spatial dims (1 or 2) and the entries with and without bias */
typedef struct conv_kern {
  int spatial;
  const nn_op *with_bias, *without_bias;
} conv_kern;

/* ======== geometry and checks ======== */

static int64_t attr_or(const nn_attr *a, int k, int64_t def) {
  return a && a->ni > k ? a->i[k] : def;
}

static void read_attr(const nn_attr *a, int spatial, geom *g) {
  if (spatial == 2) {
    g->sh = attr_or(a, 0, 1), g->sw = attr_or(a, 1, 1), g->ph = attr_or(a, 2, 0);
    g->pw = attr_or(a, 3, 0), g->dh = attr_or(a, 4, 1), g->dw = attr_or(a, 5, 1);
    g->groups = attr_or(a, 6, 1);
  } else {
    g->sh = 1, g->ph = 0, g->dh = 1;
    g->sw = attr_or(a, 0, 1), g->pw = attr_or(a, 1, 0), g->dw = attr_or(a, 2, 1);
    g->groups = attr_or(a, 3, 1);
  }
}

/* "{2,1}" for conv2d, "2" for conv1d */
static const char *pair(char *buf, int spatial, int64_t a, int64_t b) {
  if (spatial == 2)
    snprintf(buf, 48, "{%lld,%lld}", (long long)a, (long long)b);
  else
    snprintf(buf, 48, "%lld", (long long)b);
  return buf;
}

static int check_attr(const geom *g, int spatial) {
  char b[48];
  if (g->sh < 1 || g->sw < 1)
    return nn_errc("stride must be positive, not %s", pair(b, spatial, g->sh, g->sw));
  if (g->ph < 0 || g->pw < 0)
    return nn_errc("padding must be non-negative, not %s", pair(b, spatial, g->ph, g->pw));
  if (g->dh < 1 || g->dw < 1)
    return nn_errc("dilation must be positive, not %s", pair(b, spatial, g->dh, g->dw));
  if (g->groups < 1) return nn_errc("groups must be positive, not %lld", (long long)g->groups);
  return 0;
}

static int check_tensors(const nn_tensor *x, const nn_tensor *w, const nn_tensor *b, int spatial) {
  int nd = spatial + 2;
  const char *layout = spatial == 2 ? "(N, C, H, W)" : "(N, C, L)";
  const char *wlayout = spatial == 2 ? "(out, in/groups, kh, kw)" : "(out, in/groups, k)";
  if (x->ndim != nd)
    return nn_errc("input must be %d-D %s, not of shape %s", nd, layout, nn_shape_str(x));
  if (w->ndim != nd)
    return nn_errc("weight must be %d-D %s, not of shape %s", nd, wlayout, nn_shape_str(w));
  if (!nn_dtype_is_float(x->dtype))
    return nn_errc("input must be f32 or f64, not %s", nn_dtype_name(x->dtype));
  if (w->dtype != x->dtype || (b && b->dtype != x->dtype))
    return nn_errc("input, weight and bias must have one dtype, not %s, %s%s%s",
                   nn_dtype_name(x->dtype), nn_dtype_name(w->dtype), b ? " and " : "",
                   b ? nn_dtype_name(b->dtype) : "");
  if (b && (b->ndim != 1 || b->shape[0] != w->shape[0]))
    return nn_errc("bias has shape %s but weight %s has %lld output channels", nn_shape_str(b),
                   nn_shape_str(w), (long long)w->shape[0]);
  return 0;
}

static int check_sizes(const geom *g, const nn_tensor *x, const nn_tensor *w, int spatial) {
  char b1[48], b2[48], b3[48];
  if (g->cout < 1 || g->cin_g < 1) return nn_errc("weight %s has no channels", nn_shape_str(w));
  if (g->cout % g->groups)
    return nn_errc("groups %lld does not divide the weight's %lld output channels (weight %s)",
                   (long long)g->groups, (long long)g->cout, nn_shape_str(w));
  if (g->cin != g->cin_g * g->groups) {
    if (g->cin % g->groups)
      return nn_errc("groups %lld does not divide the input's %lld channels (input %s)",
                     (long long)g->groups, (long long)g->cin, nn_shape_str(x));
    return nn_errc("input has %lld channels but weight %s expects %lld (%lld per group, groups "
                   "%lld; input %s)",
                   (long long)g->cin, nn_shape_str(w), (long long)(g->cin_g * g->groups),
                   (long long)g->cin_g, (long long)g->groups, nn_shape_str(x));
  }
  int64_t eh = (g->kh - 1) * g->dh + 1, ew = (g->kw - 1) * g->dw + 1;
  if (eh > g->h + 2 * g->ph || ew > g->w + 2 * g->pw) {
    char dil[64] = "";
    if (eh != g->kh || ew != g->kw)
      snprintf(dil, sizeof dil, " (dilated %s)", pair(b2, spatial, eh, ew));
    return nn_errc("kernel %s%s is larger than the padded input %s (input %s, padding %s)",
                   pair(b1, spatial, g->kh, g->kw), dil,
                   pair(b3, spatial, g->h + 2 * g->ph, g->w + 2 * g->pw), nn_shape_str(x),
                   pair(b2, spatial, g->ph, g->pw));
  }
  return 0;
}

/* Reads the shapes (conv1d's as height 1) and checks everything. */
static int geom_of(const conv_kern *k, const nn_tensor *x, const nn_tensor *w, const nn_tensor *b,
                   const nn_attr *a, geom *g) {
  int sp = k->spatial;
  if (check_tensors(x, w, b, sp) < 0) return -1;
  read_attr(a, sp, g);
  if (check_attr(g, sp) < 0) return -1;
  g->n = x->shape[0], g->cin = x->shape[1], g->cout = w->shape[0], g->cin_g = w->shape[1];
  g->h = sp == 2 ? x->shape[2] : 1, g->w = x->shape[sp + 1];
  g->kh = sp == 2 ? w->shape[2] : 1, g->kw = w->shape[sp + 1];
  g->rows_g = g->cin_g * g->kh * g->kw, g->cout_g = g->cout / g->groups;
  if (check_sizes(g, x, w, sp) < 0) return -1;
  g->oh = (g->h + 2 * g->ph - (g->kh - 1) * g->dh - 1) / g->sh + 1;
  g->ow = (g->w + 2 * g->pw - (g->kw - 1) * g->dw - 1) / g->sw + 1;
  g->ohw = g->oh * g->ow;
  if (g->rows_g * g->groups > INT_MAX || g->ohw > INT_MAX || g->cout > INT_MAX)
    return nn_errc("conv of %s by %s is too large for BLAS", nn_shape_str(x), nn_shape_str(w));
  return 0;
}

/* ======== the chunks and their buffers ======== */

/* The im2col buffer of a chunk stays within CHUNK_BYTES, so that the GEMMs find it in the
   core's L2 cache just after im2col wrote it (measured: 2 MB chunks cost 15% more than one
   image at a time on the 32->64, 14x14 layer). Images of at least DIRECT_MIN output
   positions take the image layout: a GEMM per image is then as fast as one per chunk, and
   the outputs need no move; smaller images go in chunks of at least MIN_COLUMNS columns. */
enum { CHUNK_BYTES = 256 << 10, DIRECT_MIN = 128, MIN_COLUMNS = 512 };

typedef struct scratch {
  geom g;
  nn_dtype dt;
  size_t es, bytes[2];
  int64_t nb, rows; /* images per chunk; im2col rows (all groups) */
  bool direct;      /* the image layout */
  bool serial;      /* one thread's part of a team */
  int team;         /* threads that take whole images each (1: none) */
  char *buf[2];     /* im2col matrices (one per team thread); the chunk layout's outputs or
                       the team's extra weight gradients */
} scratch;

enum { MAX_TEAM = 8 };

/* A team when the images are big and many: each thread takes whole images, its own im2col
   buffer and single-threaded GEMMs, instead of every GEMM being split between threads (the
   moves between them would run on one thread). */
static int team_size(const geom *g, bool direct) {
  int t = nn_pool_threads();
  return direct && t > 1 && g->n >= t ? (t < MAX_TEAM ? t : MAX_TEAM) : 1;
}

static int scratch_open(scratch *s, const geom *g, nn_dtype dt) {
  s->g = *g, s->dt = dt, s->es = nn_dtype_size(dt), s->rows = g->rows_g * g->groups;
  s->direct = g->ohw >= DIRECT_MIN, s->serial = false, s->team = team_size(g, s->direct);
  int64_t per = s->rows * g->ohw * (int64_t)s->es;
  s->nb = per > 0 ? CHUNK_BYTES / per : g->n;
  if (!s->direct && s->nb * g->ohw < MIN_COLUMNS) s->nb = (MIN_COLUMNS + g->ohw - 1) / g->ohw;
  if (s->nb < 1) s->nb = 1;
  if (s->nb > g->n) s->nb = g->n;
  if (s->nb * g->ohw > INT_MAX) s->nb = INT_MAX / g->ohw;
  s->bytes[0] = (size_t)(s->team * s->rows * s->nb * g->ohw) * s->es;
  s->bytes[1] = s->direct ? (size_t)((s->team - 1) * g->cout * g->rows_g) * s->es
                          : (size_t)(g->cout * s->nb * g->ohw) * s->es;
  for (int k = 0; k < 2; k++) s->bytes[k] = s->bytes[k] ? s->bytes[k] : 1;
  s->buf[0] = nn_alloc(s->bytes[0]);
  s->buf[1] = s->buf[0] ? nn_alloc(s->bytes[1]) : NULL;
  if (s->buf[1]) return 0;
  if (s->buf[0]) nn_free(s->buf[0], s->bytes[0]);
  return nn_errc("out of memory for the conv's buffers (%zu bytes)", s->bytes[0] + s->bytes[1]);
}

static void scratch_close(scratch *s) {
  for (int k = 0; k < 2; k++) nn_free(s->buf[k], s->bytes[k]);
}

/* the chunk of images from i0 (at most s->nb, none from end on) */
static chunk chunk_at(const scratch *s, int64_t i0, int64_t end) {
  int64_t nb = end - i0 < s->nb ? end - i0 : s->nb, ohw = s->g.ohw;
  return (chunk){.g = &s->g,
                 .i0 = i0,
                 .nb = nb,
                 .rs = s->direct ? ohw : nb * ohw,
                 .is = s->direct ? s->rows * ohw : ohw,
                 .serial = s->serial};
}

/* Per group: c = op(a) op(b) + beta c, a, b and c advancing by sa, sb, sc bytes a group. */
typedef struct gemm_arg {
  bool ta, tb;
  int m, n, k; /* per group */
  const char *a, *b;
  int lda, ldb;
  int64_t sa, sb, sc;
  double beta;
  char *c;
} gemm_arg;

static void gemm_groups(const scratch *s, gemm_arg q) {
  for (int64_t grp = 0; grp < s->g.groups; grp++)
    blas_gemm(s->dt, q.ta, q.tb, q.m, q.n, q.k, q.a + grp * q.sa, q.lda, q.b + grp * q.sb, q.ldb,
              q.beta, q.c + grp * q.sc);
}

/* t, contiguous: a new reference */
static nn_tensor *dense(nn_tensor *t) {
  return t ? nn_contiguous(t) : NULL;
}

/* the chunk's image i: its planes in an NCHW tensor of c channels, its im2col matrix */
static char *plane(const scratch *s, const nn_tensor *t, const chunk *k, int64_t i, int64_t c) {
  return nn_data(t) + (size_t)((k->i0 + i) * c * s->g.ohw) * s->es;
}
static char *image_col(const scratch *s, const chunk *k, int64_t i) {
  return s->buf[0] + (size_t)(i * k->is) * s->es;
}

/* ======== forward ======== */

/* y = W col (+ b): one GEMM per group for the chunk (moved into y), or per image (into y) */
static void forward_chunk(scratch *s, chunk *k, const nn_tensor *w, const nn_tensor *b,
                          nn_tensor *y) {
  const geom *g = &s->g;
  int rows = (int)g->rows_g, cout = (int)g->cout_g, es = (int)s->es;
  gemm_arg q = {.m = cout, .k = rows, .a = nn_data(w), .lda = rows, .sa = cout * rows * es};
  k->bias = b ? nn_data(b) : NULL, k->y = nn_data(y);
  if (!s->direct) {
    q.n = q.ldb = (int)k->rs, q.b = s->buf[0], q.c = s->buf[1];
    q.sb = rows * k->rs * es, q.sc = cout * k->rs * es;
    gemm_groups(s, q);
    k->col = s->buf[1];
    run(scatter_out[s->dt], g->cout, k->nb * g->ohw, k);
    return;
  }
  if (b) { /* y = b, then the GEMMs add into it */
    k->col = NULL;
    run(scatter_out[s->dt], g->cout, k->nb * g->ohw, k);
  }
  q.n = q.ldb = (int)g->ohw, q.beta = b ? 1 : 0;
  q.sb = rows * g->ohw * es, q.sc = cout * g->ohw * es;
  for (int64_t i = 0; i < k->nb; i++) {
    q.b = image_col(s, k, i), q.c = plane(s, y, k, i, g->cout);
    gemm_groups(s, q);
  }
}

/* The work of images lo..hi; a team's thread does its part with its own buffers. */
typedef struct work {
  const nn_tensor *x, *w, *b;
  nn_tensor *y;
  struct grads *r; /* backward, or NULL */
} work;

static void forward_range(scratch *s, int64_t lo, int64_t hi, const work *wk) {
  for (int64_t i0 = lo; i0 < hi; i0 += s->nb) {
    chunk k = chunk_at(s, i0, hi);
    k.x = nn_data(wk->x), k.col = s->buf[0];
    run(im2col[s->dt], s->g.cin, k.nb * s->g.ohw * s->g.kh * s->g.kw, &k);
    forward_chunk(s, &k, wk->w, wk->b, wk->y);
  }
}

static void backward_range(scratch *s, int64_t lo, int64_t hi, struct grads *r);

typedef struct team {
  const scratch *s;
  const work *wk;
  atomic_int next;        /* the next thread's slot */
  atomic_llong image;     /* the next image not taken */
  bool started[MAX_TEAM]; /* whether thread k's weight gradient got anything */
} team;

static void team_piece(int64_t lo, int64_t hi, void *ctx);

/* Runs images 0..n on the team (OpenBLAS single-threaded meanwhile), or on this thread
   with the GEMMs and moves split among threads. */
static void run_images(scratch *s, const work *wk, team *t) {
  if (s->team == 1) {
    if (wk->r)
      backward_range(s, 0, s->g.n, wk->r);
    else
      forward_range(s, 0, s->g.n, wk);
    return;
  }
  *t = (team){.s = s, .wk = wk};
  int blas = openblas_get_num_threads();
  openblas_set_num_threads(1);
  nn_parallel(s->team, 1, team_piece, t);
  openblas_set_num_threads(blas);
}

static nn_tensor *conv_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                               nn_tensor *out) {
  (void)out;
  const conv_kern *kern = op->kern;
  nn_tensor *b = op->nin == 3 ? in[2] : NULL;
  geom g;
  if (geom_of(kern, in[0], in[1], b, a, &g) < 0) return NULL;
  int64_t shape[4] = {g.n, g.cout, g.oh, g.ow};
  if (kern->spatial == 1) shape[2] = g.ow;
  nn_tensor *y = nn_empty(in[0]->dtype, kern->spatial + 2, shape);
  if (!y || nn_numel(y) == 0) return y;
  nn_tensor *x = dense(in[0]), *w = x ? dense(in[1]) : NULL, *bc = w ? dense(b) : NULL;
  scratch s;
  bool ok = w && (!b || bc), direct = ok && y->dtype == NN_F32 && conv_direct_takes(&g);
  if (direct)
    ok = conv_direct_forward(&g, (const float *)nn_data(x), (const float *)nn_data(w),
                             bc ? (const float *)nn_data(bc) : NULL, (float *)nn_data(y)) == 0;
  else if (ok && (ok = scratch_open(&s, &g, y->dtype) == 0)) {
    team t;
    run_images(&s, &(work){.x = x, .w = w, .b = bc, .y = y}, &t);
    scratch_close(&s);
  }
  nn_release(x), nn_release(w), nn_release(bc);
  if (ok) return y;
  nn_release(y);
  return NULL;
}

/* ======== backward ======== */

typedef struct grads {
  nn_tensor *x, *w, *gy; /* dense */
  nn_tensor *dx, *dw;    /* NULL when not needed */
  double *sums;          /* the bias gradient, or NULL */
  char *dwp;             /* where this thread accumulates dW (dw's data, or a team buffer) */
  bool started;          /* dwp holds a sum already */
} grads;

/* The chunk's G (the output gradient): gathered into buf[1] (chunk layout), or read in
   place, one image at a time (image layout). dW += G col^T; dcol = W^T G into buf[0]. */
static void backward_gemms(scratch *s, chunk *k, grads *r, bool weight) {
  const geom *g = &s->g;
  int rows = (int)g->rows_g, cout = (int)g->cout_g, es = (int)s->es;
  int64_t n = s->direct ? k->nb : 1, ld = s->direct ? g->ohw : k->rs;
  for (int64_t i = 0; i < n; i++) {
    const char *gi = s->direct ? plane(s, r->gy, k, i, g->cout) : s->buf[1];
    char *ci = s->direct ? image_col(s, k, i) : s->buf[0];
    if (weight) {
      gemm_groups(s, (gemm_arg){.tb = true,
                                .m = cout,
                                .n = rows,
                                .k = (int)ld,
                                .a = gi,
                                .lda = (int)ld,
                                .b = ci,
                                .ldb = (int)ld,
                                .c = r->dwp,
                                .beta = r->started,
                                .sa = cout * ld * es,
                                .sb = rows * ld * es,
                                .sc = cout * rows * es});
      r->started = true;
    } else
      gemm_groups(s, (gemm_arg){.ta = true,
                                .m = rows,
                                .n = (int)ld,
                                .k = cout,
                                .a = nn_data(r->w),
                                .lda = rows,
                                .b = gi,
                                .ldb = (int)ld,
                                .c = ci,
                                .sa = cout * rows * es,
                                .sb = cout * ld * es,
                                .sc = rows * ld * es});
  }
}

static void backward_range(scratch *s, int64_t lo, int64_t hi, grads *r) {
  const geom *g = &s->g;
  for (int64_t i0 = lo; i0 < hi; i0 += s->nb) {
    chunk k = chunk_at(s, i0, hi);
    int64_t work = k.nb * g->ohw;
    k.y = nn_data(r->gy), k.col = s->direct ? NULL : s->buf[1], k.sums = r->sums;
    if (k.col || k.sums) run(gather_out[s->dt], g->cout, work, &k);
    if (r->dw) {
      k.x = nn_data(r->x), k.col = s->buf[0];
      run(im2col[s->dt], g->cin, work * g->kh * g->kw, &k);
      backward_gemms(s, &k, r, true);
    }
    if (r->dx) {
      backward_gemms(s, &k, r, false);
      k.col = s->buf[0], k.y = nn_data(r->dx);
      run(col2im[s->dt], g->cin, work * g->kh * g->kw, &k);
    }
  }
}

/* Thread k of a team, with im2col buffer k and weight gradient k: takes the next chunk of
   images while there is one (not a fixed share: on a busy machine, a thread that gets less
   of a core takes fewer). */
static void team_piece(int64_t lo, int64_t hi, void *ctx) {
  (void)lo, (void)hi;
  team *t = ctx;
  int k = atomic_fetch_add(&t->next, 1);
  scratch s = *t->s;
  size_t dw_bytes = (size_t)(s.g.cout * s.g.rows_g) * s.es;
  s.serial = true, s.buf[0] += (size_t)k * (s.bytes[0] / (size_t)s.team);
  grads r = t->wk->r ? *t->wk->r : (grads){0};
  r.sums = NULL, r.started = false;
  if (r.dw && k > 0) r.dwp = s.buf[1] + (size_t)(k - 1) * dw_bytes;
  for (int64_t i0; (i0 = atomic_fetch_add(&t->image, s.nb)) < s.g.n;) {
    int64_t i1 = i0 + s.nb < s.g.n ? i0 + s.nb : s.g.n;
    if (t->wk->r)
      backward_range(&s, i0, i1, &r);
    else
      forward_range(&s, i0, i1, t->wk);
  }
  t->started[k] = r.started;
}

/* After a team: the bias sums over every image, and dW = the sum of the threads' parts. */
static void backward_team(scratch *s, grads *r, team *t) {
  chunk all = chunk_at(s, 0, s->g.n);
  all.nb = s->g.n, all.y = nn_data(r->gy), all.sums = r->sums;
  if (r->sums) run(gather_out[s->dt], s->g.cout, all.nb * s->g.ohw, &all);
  if (!r->dw || s->team == 1) return;
  int n = (int)(s->g.cout * s->g.rows_g);
  if (!t->started[0]) memset(r->dwp, 0, (size_t)n * s->es);
  for (int k = 1; k < s->team; k++) {
    if (!t->started[k]) continue;
    const char *part = s->buf[1] + (size_t)(k - 1) * (size_t)n * s->es;
    if (s->dt == NN_F32)
      cblas_saxpy(n, 1, (const float *)part, 1, (float *)r->dwp, 1);
    else
      cblas_daxpy(n, 1, (const double *)part, 1, (double *)r->dwp, 1);
  }
}

/* the bias gradient, from the sums in double */
static nn_tensor *bias_grad(const double *sums, int64_t n, nn_dtype dt) {
  nn_tensor *s = nn_empty(NN_F64, 1, &n);
  if (!s) return NULL;
  memcpy(nn_data(s), sums, (size_t)n * sizeof *sums);
  nn_tensor *r = nn_to(s, dt);
  nn_release(s);
  return r;
}

static float *f32_or_null(nn_tensor *t) {
  return t ? (float *)nn_data(t) : NULL;
}

static int direct_backward(const geom *g, grads *r) {
  return conv_direct_backward(g, f32_or_null(r->x), f32_or_null(r->w), f32_or_null(r->gy),
                              f32_or_null(r->dx), f32_or_null(r->dw), r->sums);
}

static int conv_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  const conv_kern *kern = c->op->kern;
  geom g;
  if (geom_of(kern, c->in[0], c->in[1], NULL, &c->attr, &g) < 0) return -1;
  bool nb = c->nin == 3 && need[2], empty = g.n == 0 || g.ohw == 0;
  nn_tensor *gt = nn_to(gout, c->in[0]->dtype), *x = c->in[0], *w = c->in[1];
  grads r = {.gy = dense(gt), .x = dense(x), .w = dense(w)};
  nn_release(gt);
  bool ok = r.gy && r.x && r.w;
  if (ok && need[0])
    ok = (r.dx = empty ? nn_zeros(x->dtype, x->ndim, x->shape)
                       : nn_empty(x->dtype, x->ndim, x->shape));
  if (ok && need[1])
    ok = (r.dw = empty ? nn_zeros(w->dtype, w->ndim, w->shape)
                       : nn_empty(w->dtype, w->ndim, w->shape));
  size_t sb = (size_t)g.cout * sizeof(double);
  double *sums = NULL;
  if (ok && nb && (ok = (r.sums = sums = nn_alloc(sb)))) memset(sums, 0, sb);
  scratch s;
  if (ok && !empty && r.gy->dtype == NN_F32 && conv_direct_takes(&g))
    ok = direct_backward(&g, &r) == 0;
  else if (ok && !empty && (ok = scratch_open(&s, &g, r.gy->dtype) == 0)) {
    team t;
    r.dwp = r.dw ? nn_data(r.dw) : NULL;
    if (s.team > 1) r.sums = NULL; /* summed after, over all images at once */
    run_images(&s, &(work){.r = &r}, &t);
    r.sums = nb ? sums : NULL;
    if (s.team > 1) backward_team(&s, &r, &t);
    scratch_close(&s);
  }
  if (ok && nb) ok = (gin[2] = bias_grad(sums, g.cout, r.gy->dtype));
  if (sums) nn_free(sums, sb);
  nn_release(r.gy), nn_release(r.x), nn_release(r.w);
  if (ok) {
    gin[0] = r.dx, gin[1] = r.dw;
    return 0;
  }
  nn_release(r.dx), nn_release(r.dw);
  return -1;
}

/* ======== forward mode: bilinear in (x, w), plus the bias ======== */

static nn_tensor *conv_jvp(const nn_ctx *c, nn_tensor *const *t) {
  const conv_kern *k = c->op->kern;
  nn_tensor *x = c->in[0], *w = c->in[1], *tb = c->nin == 3 ? t[2] : NULL, *r = NULL;
  if (t[0]) {
    r = nn_call(tb ? k->with_bias : k->without_bias, (nn_tensor *[]){t[0], w, tb}, &c->attr);
    tb = NULL;
    if (!r) return NULL;
  }
  if (t[1]) {
    r = nn_add_term(
        r, nn_call(tb ? k->with_bias : k->without_bias, (nn_tensor *[]){x, t[1], tb}, &c->attr));
    tb = NULL;
  }
  if (tb) { /* only the bias moves */
    int64_t shape[4] = {1, tb->shape[0], 1, 1};
    nn_tensor *v = nn_view(tb, k->spatial + 2, shape);
    nn_tensor *e = v ? nn_expand(v, c->out->ndim, c->out->shape) : NULL;
    r = e ? nn_contiguous(e) : NULL;
    nn_release(v), nn_release(e);
  }
  return r;
}

/* ======== the entries ======== */

static const conv_kern conv2d_kern = {2, &nn_op_conv2d, &nn_op_conv2d_nobias};
static const conv_kern conv1d_kern = {1, &nn_op_conv1d, &nn_op_conv1d_nobias};

#define CONV_ENTRY(cname, n, kernel)                                                               \
  const nn_op nn_op_##cname = {.name = #cname,                                                     \
                               .nin = n,                                                           \
                               .forward = conv_forward,                                            \
                               .vjp = conv_vjp,                                                    \
                               .jvp = conv_jvp,                                                    \
                               .kern = &kernel};
CONV_ENTRY(conv2d, 3, conv2d_kern)
CONV_ENTRY(conv2d_nobias, 2, conv2d_kern)
CONV_ENTRY(conv1d, 3, conv1d_kern)
CONV_ENTRY(conv1d_nobias, 2, conv1d_kern)

static nn_tensor *conv_call(const nn_op *with, const nn_op *without, nn_tensor *x, nn_tensor *w,
                            nn_tensor *b, const nn_attr *a) {
  if (b) return nn_call(with, (nn_tensor *[]){x, w, b}, a);
  return nn_call(without, (nn_tensor *[]){x, w}, a);
}

nn_tensor *nn_conv2d(nn_tensor *x, nn_tensor *w, nn_tensor *b, const nn_conv_opts *o) {
  nn_conv_opts d = NN_CONV_DEFAULTS;
  if (!o) o = &d;
  nn_attr a = {.ni = 7,
               .i = {o->stride[0], o->stride[1], o->padding[0], o->padding[1], o->dilation[0],
                     o->dilation[1], o->groups}};
  return conv_call(&nn_op_conv2d, &nn_op_conv2d_nobias, x, w, b, &a);
}

nn_tensor *nn_conv1d(nn_tensor *x, nn_tensor *w, nn_tensor *b, const nn_conv_opts *o) {
  nn_conv_opts d = NN_CONV_DEFAULTS;
  if (!o) o = &d;
  nn_attr a = {.ni = 4, .i = {o->stride[0], o->padding[0], o->dilation[0], o->groups}};
  return conv_call(&nn_op_conv1d, &nn_op_conv1d_nobias, x, w, b, &a);
}
