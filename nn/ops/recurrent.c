/*
** nn/ops/recurrent.c: fused whole-sequence recurrent layers (one layer each): tanh and relu
** RNNs, LSTM and GRU with PyTorch's gate layouts (LSTM i, f, g, o; GRU r, z, n) and
** formulas. Inputs x (B, T, F), h0 (B, H), for LSTM c0 (B, H), then W_ih (G H, F),
** W_hh (G H, H), b_ih (G H), b_hh (G H); outputs y (B, T, H), h_n (B, H), for LSTM c_n.
**
** The forward is one C call: the input projection of every step as ONE GEMM, then a loop
** over time with one GEMM (h_{t-1} W_hh^T, read in place from y) and one pass over the gates
** per step (recurrent_cell.h). It saves the activated gates (and LSTM's cell states, GRU's
** W_hn h + b_hn) for the VJP, which is BPTT in one call: the loop back over time with one
** GEMM per step, then one GEMM each for dx, dW_ih and dW_hh over all steps. The JVP is the
** composition of differentiable ops (recurrent_ref.c).
**
** In f32 the per-step GEMMs use W_hh packed once per call (recurrent_gemm.c), and the loops
** over time run on pieces of 8 batch rows on the pool's threads: each row of the batch is
** its own sequence, so a piece runs all T steps without waiting for the others.
*/
#include <string.h>

#include "nn/alloc.h"
#include "nn/ops.h"
#include "nn/ops/blas.h"
#include "nn/ops/fastmath.h"
#include "nn/ops/pointwise.h"
#include "nn/ops/recurrent.h"
#include "nn/ops/recurrent_gemm.h"
#include "nn/pool.h"

typedef struct cell {
  int kind;
  int64_t B, H;
  /* strides are row strides in elements; matrices are B rows of the step t */
  char *xp;
  int64_t sxp;
  const char *hp;
  int64_t shp;
  const char *bih, *bhh, *hprev, *cprev;
  int64_t shprev, scprev;
  char *h, *c, *m; /* h_t (in y), c_t, GRU's W_hn h + b_hn */
  int64_t sh, sc, sm;
  /* backward */
  const char *gy;
  int64_t sgy;
  char *dh, *dc, *dxp, *dhp;
  int64_t sdxp, sdhp;
} cell;

#define REAL float
#define SFX  _f32
#include "nn/ops/recurrent_cell.h"
#undef REAL
#undef SFX
#define REAL double
#define SFX  _f64
#include "nn/ops/recurrent_cell.h"
#undef REAL
#undef SFX

/* the one place the dtype picks the kernels */
typedef struct cell_kernels {
  void (*forward)(const cell *);
  void (*backward)(const cell *);
  void (*column_sums)(const void *, int64_t, int64_t, double *, void *);
} cell_kernels;
static const cell_kernels kernels_of[NN_NDTYPES] = {
    [NN_F32] = {forward_step_f32, backward_step_f32, column_sums_f32},
    [NN_F64] = {forward_step_f64, backward_step_f64, column_sums_f64},
};

const char *const nn_recurrent_names[4] = {"rnn_tanh", "rnn_relu", "lstm", "gru"};
static const int gates_of[4] = {1, 1, 4, 3};

/* ---- the call's layout ---- */

typedef struct seq {
  int kind, G;
  nn_dtype dt;
  int64_t B, T, F, H;
  nn_tensor *x, *h0, *c0, *wih, *whh, *bih, *bhh; /* contiguous (new references) */
} seq;

static int kind_of(const nn_op *op) {
  return *(const int *)op->kern;
}

static int widx(int kind) { /* index of W_ih among the inputs */
  return kind == LSTM ? 3 : 2;
}

static void seq_release(seq *s) {
  nn_tensor *ts[] = {s->x, s->h0, s->c0, s->wih, s->whh, s->bih, s->bhh};
  for (size_t k = 0; k < sizeof ts / sizeof *ts; k++) nn_release(ts[k]);
}

static int check_shape(const char *op, const char *what, const nn_tensor *t, int ndim,
                       const int64_t *want) {
  bool ok = t->ndim == ndim;
  for (int d = 0; ok && d < ndim; d++) ok = t->shape[d] == want[d];
  if (ok) return 0;
  return nn_errc("%s: %s has shape %s, expected %s", op, what, nn_shape_str(t),
                 nn_dims_str(ndim, want));
}

/* Checks the inputs and fills s with contiguous copies (where needed). */
static int seq_begin(seq *s, const nn_op *op, nn_tensor *const *in) {
  memset(s, 0, sizeof *s);
  int kind = s->kind = kind_of(op), w = widx(kind), G = s->G = gates_of[kind];
  nn_tensor *x = in[0], *wih = in[w], *whh = in[w + 1];
  const char *name = op->name;
  int n = w + 4;
  for (int k = 0; k < n; k++)
    if (in[k]->dtype != x->dtype || !nn_dtype_is_float(x->dtype))
      return nn_errc("%s: every input must be f32 or f64 of one dtype (input %s, input %d %s)",
                     name, nn_dtype_name(x->dtype), k + 1, nn_dtype_name(in[k]->dtype));
  if (x->ndim != 3 || x->shape[1] < 1)
    return nn_errc("%s: input must be (batch, time >= 1, features), not shape %s", name,
                   nn_shape_str(x));
  if (whh->ndim != 2 || whh->shape[0] % G || whh->shape[0] != G * whh->shape[1])
    return nn_errc("%s: weight_hh has shape %s, expected {%d*hidden,hidden}", name,
                   nn_shape_str(whh), G);
  s->dt = x->dtype, s->B = x->shape[0], s->T = x->shape[1], s->F = x->shape[2];
  s->H = whh->shape[1];
  int64_t GH = G * s->H, bh[2] = {s->B, s->H}, wi[2] = {GH, s->F};
  if (check_shape(name, "weight_ih", wih, 2, wi) < 0 || check_shape(name, "h0", in[1], 2, bh) < 0 ||
      (kind == LSTM && check_shape(name, "c0", in[2], 2, bh) < 0) ||
      check_shape(name, "bias_ih", in[w + 2], 1, &GH) < 0 ||
      check_shape(name, "bias_hh", in[w + 3], 1, &GH) < 0)
    return -1;
  if (s->B * s->T * (GH > s->F ? GH : s->F) > INT_MAX || GH * s->H > INT_MAX)
    return nn_errc("%s: input %s is too large for BLAS", name, nn_shape_str(x));
  nn_tensor **dst[] = {&s->x, &s->h0, &s->c0, &s->wih, &s->whh, &s->bih, &s->bhh};
  int src[] = {0, 1, kind == LSTM ? 2 : -1, w, w + 1, w + 2, w + 3};
  for (int k = 0; k < 7; k++)
    if (src[k] >= 0 && !(*dst[k] = nn_contiguous(in[src[k]]))) {
      seq_release(s);
      return -1;
    }
  return 0;
}

static size_t esize(const seq *s) {
  return nn_dtype_size(s->dt);
}

/* the element offset of row (b = 0, t) of a (B, T, n) tensor */
static char *at_t(nn_tensor *t, const seq *s, int64_t step, int64_t n) {
  return nn_data(t) + (size_t)(step * n) * esize(s);
}

/* ---- forward ---- */

typedef struct fwd_bufs {
  nn_tensor *xp, *y, *c, *m, *hp;
} fwd_bufs;

typedef struct bwd_bufs {
  nn_tensor *dxp, *dhp, *dh, *dc, *gy;
} bwd_bufs;

static nn_tensor *buf3(const seq *s, int64_t n) {
  return nn_empty(s->dt, 3, (int64_t[]){s->B, s->T, n});
}

/* the previous state (h or c) at step t: the initial one, or the step before in a (B,T,H) */
static const char *prev_of(const seq *s, nn_tensor *init, nn_tensor *all, int64_t t,
                           int64_t *stride) {
  *stride = t == 0 ? s->H : s->T * s->H;
  return t == 0 ? nn_data(init) : at_t(all, s, t - 1, s->H);
}

/* The time loop runs on pieces of ROWS batch rows (one AVX-512 tile): the rows of a batch
   are independent sequences, so the threads never wait for each other within the loop. */
enum { ROWS = 8 };

typedef struct loop {
  const seq *s;
  const cell_kernels *K;
  fwd_bufs *f;
  const nn_ctx *ctx;
  bwd_bufs *b;
  nn_rgemm pk; /* W_hh (backward) or W_hh^T (forward), packed once for every step */
  bool packed; /* f32 on AVX2 or AVX-512; else BLAS each step, one piece */
} loop;

/* p moved on by row b0 of a matrix with rows `stride` elements apart */
static char *row_of(const seq *s, const char *p, int64_t b0, int64_t stride) {
  return p ? (char *)p + (size_t)(b0 * stride) * esize(s) : NULL;
}

/* the rows [lo ROWS, hi ROWS) of the batch, and their count */
static int64_t rows_of(const seq *s, int64_t lo, int64_t hi, int64_t *b0) {
  *b0 = lo * ROWS;
  return (hi * ROWS < s->B ? hi * ROWS : s->B) - *b0;
}

static void forward_rows(int64_t lo, int64_t hi, void *ctx) {
  const loop *L = ctx;
  const seq *s = L->s;
  fwd_bufs *f = L->f;
  int64_t b0, nb = rows_of(s, lo, hi, &b0), T = s->T, H = s->H, GH = s->G * H;
  cell c = {.kind = s->kind,
            .B = nb,
            .H = H,
            .sxp = T * GH,
            .hp = row_of(s, nn_data(f->hp), b0, GH),
            .shp = GH,
            .bih = nn_data(s->bih),
            .bhh = nn_data(s->bhh),
            .sh = T * H,
            .sc = T * H,
            .sm = T * H};
  for (int64_t t = 0; t < T; t++) {
    c.hprev = prev_of(s, s->h0, f->y, t, &c.shprev);
    c.hprev = row_of(s, c.hprev, b0, c.shprev);
    if (s->kind == LSTM) {
      c.cprev = prev_of(s, s->c0, f->c, t, &c.scprev);
      c.cprev = row_of(s, c.cprev, b0, c.scprev);
    }
    if (L->packed)
      nn_rgemm_run(&L->pk, nb, (const float *)c.hprev, c.shprev, false, (float *)c.hp, GH);
    else
      blas_gemm(s->dt, false, true, (int)nb, (int)GH, (int)H, c.hprev, (int)c.shprev,
                nn_data(s->whh), (int)H, 0, (char *)c.hp);
    c.xp = row_of(s, at_t(f->xp, s, t, GH), b0, T * GH);
    c.h = row_of(s, at_t(f->y, s, t, H), b0, T * H);
    if (f->c) c.c = row_of(s, at_t(f->c, s, t, H), b0, T * H);
    if (f->m) c.m = row_of(s, at_t(f->m, s, t, H), b0, T * H);
    L->K->forward(&c);
  }
}

/* the pieces of the time loop over the batch: on the pool's threads when packed */
static void run_rows(loop *L, void (*fn)(int64_t, int64_t, void *)) {
  int64_t blocks = (L->s->B + ROWS - 1) / ROWS;
  if (L->packed)
    nn_parallel(blocks, 1, fn, L);
  else
    fn(0, blocks, L);
  if (L->packed) nn_rgemm_free(&L->pk);
}

static void run_forward(const seq *s, fwd_bufs *f) {
  int64_t H = s->H, GH = s->G * H;
  /* xp = x W_ih^T for every step at once */
  blas_gemm(s->dt, false, true, (int)(s->B * s->T), (int)GH, (int)s->F, nn_data(s->x), (int)s->F,
            nn_data(s->wih), (int)s->F, 0, nn_data(f->xp));
  loop L = {.s = s, .K = &kernels_of[s->dt], .f = f};
  L.packed =
      s->dt == NN_F32 && nn_rgemm_pack(&L.pk, (const float *)nn_data(s->whh), H, true, H, GH);
  run_rows(&L, forward_rows);
}

/* the last step of a (B, T, H) tensor, as a new (B, H) tensor */
static nn_tensor *last_step(const seq *s, nn_tensor *all) {
  nn_tensor *v = nn_select(all, 1, s->T - 1), *r = v ? nn_clone(v) : NULL;
  nn_release(v);
  return r;
}

static int recurrent_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                             nn_tensor **out, nn_tensor **saved, int *nsaved) {
  (void)a;
  seq s;
  if (seq_begin(&s, op, in) < 0) return -1;
  int64_t GH = s.G * s.H;
  fwd_bufs f = {
      .xp = buf3(&s, GH), .y = buf3(&s, s.H), .hp = nn_empty(s.dt, 2, (int64_t[]){s.B, GH})};
  if (s.kind == LSTM) f.c = buf3(&s, s.H);
  if (s.kind == GRU) f.m = buf3(&s, s.H);
  int rc = f.xp && f.y && f.hp && (s.kind != LSTM || f.c) && (s.kind != GRU || f.m) ? 0 : -1;
  if (rc == 0) run_forward(&s, &f);
  int nout = s.kind == LSTM ? 3 : 2;
  if (rc == 0) {
    out[0] = nn_retain(f.y);
    out[1] = last_step(&s, f.y);
    if (s.kind == LSTM) out[2] = last_step(&s, f.c);
    for (int k = 0; k < nout; k++) rc |= out[k] ? 0 : -1;
  }
  if (rc == 0 && saved) { /* gates, y, then c or m */
    saved[0] = nn_retain(f.xp);
    saved[1] = nn_alias(f.y);
    *nsaved = 2;
    if (f.c || f.m) saved[(*nsaved)++] = nn_retain(f.c ? f.c : f.m);
  }
  if (rc < 0)
    for (int k = 0; k < nout; k++) nn_release(out[k]), out[k] = NULL;
  nn_release(f.xp), nn_release(f.y), nn_release(f.c), nn_release(f.m), nn_release(f.hp);
  seq_release(&s);
  return rc;
}

/* ---- backward (BPTT) ---- */

/* a zero (B, H) tensor, plus g when given */
static nn_tensor *state_grad(const seq *s, nn_tensor *g) {
  nn_tensor *d = nn_zeros(s->dt, 2, (int64_t[]){s->B, s->H});
  if (d && g && nn_copy_(d, g) < 0) nn_release(d), d = NULL;
  return d;
}

static void backward_rows(int64_t lo, int64_t hi, void *ctx) {
  const loop *L = ctx;
  const seq *s = L->s;
  bwd_bufs *b = L->b;
  int64_t b0, nb = rows_of(s, lo, hi, &b0), T = s->T, H = s->H, GH = s->G * H;
  nn_tensor *gates = L->ctx->saved[0], *y = L->ctx->saved[1];
  nn_tensor *extra = L->ctx->nsaved > 2 ? L->ctx->saved[2] : NULL;
  cell c = {.kind = s->kind,
            .B = nb,
            .H = H,
            .sxp = T * GH,
            .sh = T * H,
            .sc = T * H,
            .sm = T * H,
            .sgy = T * H,
            .dh = row_of(s, nn_data(b->dh), b0, H),
            .dc = b->dc ? row_of(s, nn_data(b->dc), b0, H) : NULL,
            .sdxp = T * GH,
            .sdhp = T * GH};
  for (int64_t t = T - 1; t >= 0; t--) {
    c.hprev = prev_of(s, s->h0, y, t, &c.shprev);
    c.hprev = row_of(s, c.hprev, b0, c.shprev);
    if (s->kind == LSTM) {
      c.cprev = prev_of(s, s->c0, extra, t, &c.scprev);
      c.cprev = row_of(s, c.cprev, b0, c.scprev);
      c.c = row_of(s, at_t(extra, s, t, H), b0, T * H);
    }
    if (s->kind == GRU) c.m = row_of(s, at_t(extra, s, t, H), b0, T * H);
    c.xp = row_of(s, at_t(gates, s, t, GH), b0, T * GH);
    c.h = row_of(s, at_t(y, s, t, H), b0, T * H);
    c.gy = b->gy ? row_of(s, at_t(b->gy, s, t, H), b0, T * H) : NULL;
    c.dxp = row_of(s, at_t(b->dxp, s, t, GH), b0, T * GH);
    c.dhp = b->dhp ? row_of(s, at_t(b->dhp, s, t, GH), b0, T * GH) : c.dxp;
    L->K->backward(&c);
    /* dh_{t-1} = (GRU's direct part) + dhp_t W_hh */
    if (L->packed)
      nn_rgemm_run(&L->pk, nb, (const float *)c.dhp, T * GH, s->kind == GRU, (float *)c.dh, H);
    else
      blas_gemm(s->dt, false, false, (int)nb, (int)H, (int)GH, c.dhp, (int)(T * GH),
                nn_data(s->whh), (int)H, s->kind == GRU ? 1 : 0, c.dh);
  }
}

static void run_backward(const seq *s, const nn_ctx *ctx, bwd_bufs *b) {
  int64_t H = s->H, GH = s->G * H;
  loop L = {.s = s, .K = &kernels_of[s->dt], .ctx = ctx, .b = b};
  L.packed =
      s->dt == NN_F32 && nn_rgemm_pack(&L.pk, (const float *)nn_data(s->whh), H, false, GH, H);
  run_rows(&L, backward_rows);
}

/* h_{t-1} for every step: (B, T, H), h0 then y shifted by one step */
static nn_tensor *previous_states(const seq *s, nn_tensor *y) {
  nn_tensor *p = buf3(s, s->H);
  if (!p) return NULL;
  size_t row = (size_t)s->H * esize(s);
  for (int64_t b = 0; b < s->B; b++) {
    char *dst = nn_data(p) + (size_t)(b * s->T) * row;
    memcpy(dst, nn_data(s->h0) + (size_t)b * row, row);
    memcpy(dst + row, nn_data(y) + (size_t)(b * s->T) * row, (size_t)(s->T - 1) * row);
  }
  return p;
}

static nn_tensor *column_sums(const seq *s, nn_tensor *g) {
  int64_t rows = s->B * s->T, cols = s->G * s->H;
  nn_tensor *r = nn_empty(s->dt, 1, &cols);
  double *acc = r ? nn_alloc((size_t)cols * sizeof *acc) : NULL;
  if (!acc) {
    nn_release(r);
    return NULL;
  }
  kernels_of[s->dt].column_sums(nn_data(g), rows, cols, acc, nn_data(r));
  nn_free(acc, (size_t)cols * sizeof *acc);
  return r;
}

/* the gradients of x, W_ih, W_hh and the biases from dxp and dhp: one GEMM each */
static int parameter_grads(const seq *s, const nn_ctx *ctx, bwd_bufs *b, const bool *need,
                           nn_tensor **gin) {
  int w = widx(s->kind), BT = (int)(s->B * s->T), GH = (int)(s->G * s->H), F = (int)s->F;
  int H = (int)s->H;
  nn_tensor *dhp = b->dhp ? b->dhp : b->dxp;
  if (need[0] && (gin[0] = buf3(s, s->F)))
    blas_gemm(s->dt, false, false, BT, F, GH, nn_data(b->dxp), GH, nn_data(s->wih), F, 0,
              nn_data(gin[0]));
  if (need[w] && (gin[w] = nn_empty(s->dt, 2, s->wih->shape)))
    blas_gemm(s->dt, true, false, GH, F, BT, nn_data(b->dxp), GH, nn_data(s->x), F, 0,
              nn_data(gin[w]));
  if (need[w + 1]) {
    nn_tensor *p = previous_states(s, ctx->saved[1]);
    if (p && (gin[w + 1] = nn_empty(s->dt, 2, s->whh->shape)))
      blas_gemm(s->dt, true, false, GH, H, BT, nn_data(dhp), GH, nn_data(p), H, 0,
                nn_data(gin[w + 1]));
    nn_release(p);
  }
  if (need[w + 2]) gin[w + 2] = column_sums(s, b->dxp);
  if (need[w + 3]) /* the same sums as b_ih's where dhp is dxp (all but GRU) */
    gin[w + 3] = dhp == b->dxp && gin[w + 2] ? nn_clone(gin[w + 2]) : column_sums(s, dhp);
  if (need[1]) gin[1] = nn_retain(b->dh);
  if (s->kind == LSTM && need[2]) gin[2] = nn_retain(b->dc);
  for (int k = 0; k < w + 4; k++)
    if (need[k] && !gin[k]) return -1;
  return 0;
}

static int recurrent_vjp(const nn_ctx *ctx, nn_tensor *const *gout, const bool *need,
                         nn_tensor **gin) {
  seq s;
  if (seq_begin(&s, ctx->op, ctx->in) < 0) return -1;
  int64_t GH = s.G * s.H;
  bwd_bufs b = {.dxp = buf3(&s, GH), .dh = state_grad(&s, gout[1])};
  if (s.kind == GRU) b.dhp = buf3(&s, GH);
  if (s.kind == LSTM) b.dc = state_grad(&s, gout[2]);
  if (gout[0]) b.gy = nn_contiguous(gout[0]);
  int rc =
      b.dxp && b.dh && (s.kind != GRU || b.dhp) && (s.kind != LSTM || b.dc) && (!gout[0] || b.gy)
          ? 0
          : -1;
  if (rc == 0) {
    run_backward(&s, ctx, &b);
    rc = parameter_grads(&s, ctx, &b, need, gin);
  }
  nn_release(b.dxp), nn_release(b.dhp), nn_release(b.dh), nn_release(b.dc), nn_release(b.gy);
  seq_release(&s);
  return rc;
}

/* ---- the entries ---- */

static const int kinds[4] = {RNN_TANH, RNN_RELU, LSTM, GRU};
#define RECURRENT_ENTRY(name_, k, nin_, nout_)                                                     \
  const nn_op nn_op_##name_ = {.name = #name_,                                                     \
                               .nin = nin_,                                                        \
                               .nout = nout_,                                                      \
                               .kern = &kinds[k],                                                  \
                               .forward_multi = recurrent_forward,                                 \
                               .vjp_multi = recurrent_vjp,                                         \
                               .jvp_multi = nn_recurrent_jvp};
RECURRENT_ENTRY(rnn_tanh, RNN_TANH, 6, 2)
RECURRENT_ENTRY(rnn_relu, RNN_RELU, 6, 2)
RECURRENT_ENTRY(lstm, LSTM, 7, 3)
RECURRENT_ENTRY(gru, GRU, 6, 2)

const nn_op *nn_recurrent_op(int kind) {
  static const nn_op *const ops[4] = {&nn_op_rnn_tanh, &nn_op_rnn_relu, &nn_op_lstm, &nn_op_gru};
  return kind >= 0 && kind < 4 ? ops[kind] : NULL;
}

int nn_recurrent_kind(const nn_op *op) {
  return kind_of(op);
}
