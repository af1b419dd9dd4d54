/*
** nn/ops/recurrent_cell.h: one time step of the fused recurrent ops (recurrent.c), forward
** and backward, for every row of a batch. Included once per float type with REAL (the C
** type) and SFX (the name suffix) defined: the same code for f32 and f64.
**
** Forward, per row: a = xp + b_ih + hp + b_hh, with xp = W_ih x_t (one GEMM for all steps,
** done before) and hp = W_hh h_{t-1} (one GEMM per step, done before this call). The
** activated gates overwrite xp (the backward reads them there).
**   RNN   h = tanh(a) or relu(a)
**   LSTM  i, f, g, o = sigma, sigma, tanh, sigma of a's four blocks; c = f c' + i g;
**         h = o tanh(c)
**   GRU   r, z = sigma of the first two blocks; m = hp_n + b_hn (saved);
**         n = tanh(xp_n + b_in + r m); h = (1 - z) n + z h'
** Backward, per row, from dh (the gradient reaching h_t through the recurrence) plus gy (the
** gradient of the output at t): the gradients of the gates' pre-activations, dxp (input
** side) and dhp (hidden side; the same as dxp except for GRU's n block, times r), and the
** part of dh_{t-1} that skips W_hh (GRU's z h'), left in dh; dc flows back in place.
*/
#ifndef CELL_CLONES /* the gate passes: AVX-512 and AVX2 clones too (see VECTOR_CLONES) */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(NN_NO_CLONES)
#define CELL_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CELL_CLONES
#endif
#endif
#ifndef ROW_INLINE /* rows are inlined into each clone of the step, vectorized for its CPU */
#define ROW_INLINE static inline __attribute__((always_inline))
#endif
#define CAT_(a, b) a##b
#define CAT(a, b)  CAT_(a, b)

/* One row of each kind; restrict lets the compiler vectorize the gate math. */
ROW_INLINE void CAT(rnn_row, SFX)(int64_t H, bool relu, REAL *restrict xp, const REAL *restrict hp,
                                  const REAL *restrict bih, const REAL *restrict bhh,
                                  REAL *restrict h) {
  for (int64_t j = 0; j < H; j++) {
    REAL a = xp[j] + bih[j] + hp[j] + bhh[j];
    h[j] = relu ? (a > 0 ? a : 0) : NN_TANH(a);
  }
}

ROW_INLINE void CAT(lstm_row, SFX)(int64_t H, REAL *restrict xp, const REAL *restrict hp,
                                   const REAL *restrict bih, const REAL *restrict bhh,
                                   const REAL *restrict cprev, REAL *restrict c, REAL *restrict h) {
  for (int64_t k = 0; k < 4 * H; k++) xp[k] += bih[k] + hp[k] + bhh[k];
  for (int64_t k = 0; k < 2 * H; k++) xp[k] = NN_SIGMOID(xp[k]);
  for (int64_t k = 2 * H; k < 3 * H; k++) xp[k] = NN_TANH(xp[k]);
  for (int64_t k = 3 * H; k < 4 * H; k++) xp[k] = NN_SIGMOID(xp[k]);
  for (int64_t j = 0; j < H; j++) c[j] = xp[H + j] * cprev[j] + xp[j] * xp[2 * H + j];
  for (int64_t j = 0; j < H; j++) h[j] = xp[3 * H + j] * NN_TANH(c[j]);
}

ROW_INLINE void CAT(gru_row, SFX)(int64_t H, REAL *restrict xp, const REAL *restrict hp,
                                  const REAL *restrict bih, const REAL *restrict bhh,
                                  const REAL *restrict hprev, REAL *restrict m, REAL *restrict h) {
  for (int64_t k = 0; k < 2 * H; k++) xp[k] = NN_SIGMOID(xp[k] + bih[k] + hp[k] + bhh[k]);
  for (int64_t j = 0; j < H; j++) m[j] = hp[2 * H + j] + bhh[2 * H + j];
  for (int64_t j = 0; j < H; j++) {
    REAL n = NN_TANH(xp[2 * H + j] + bih[2 * H + j] + xp[j] * m[j]);
    xp[2 * H + j] = n;
    h[j] = n + xp[H + j] * (hprev[j] - n);
  }
}

CELL_CLONES static void CAT(forward_step, SFX)(const cell *s) {
  const int64_t H = s->H;
  const REAL *bih = (const REAL *)s->bih, *bhh = (const REAL *)s->bhh;
  for (int64_t b = 0; b < s->B; b++) {
    REAL *xp = (REAL *)s->xp + b * s->sxp, *h = (REAL *)s->h + b * s->sh;
    const REAL *hp = (const REAL *)s->hp + b * s->shp;
    switch (s->kind) {
    case RNN_TANH:
    case RNN_RELU: CAT(rnn_row, SFX)(H, s->kind == RNN_RELU, xp, hp, bih, bhh, h); break;
    case LSTM:
      CAT(lstm_row, SFX)
      (H, xp, hp, bih, bhh, (const REAL *)s->cprev + b * s->scprev, (REAL *)s->c + b * s->sc, h);
      break;
    case GRU:
      CAT(gru_row, SFX)
      (H, xp, hp, bih, bhh, (const REAL *)s->hprev + b * s->shprev, (REAL *)s->m + b * s->sm, h);
      break;
    }
  }
}

ROW_INLINE void CAT(lstm_back_row, SFX)(int64_t H, const REAL *restrict xp, const REAL *restrict c,
                                        const REAL *restrict cprev, const REAL *restrict dh,
                                        REAL *restrict dc, REAL *restrict dxp) {
  for (int64_t j = 0; j < H; j++) {
    REAL i = xp[j], f = xp[H + j], g = xp[2 * H + j], o = xp[3 * H + j];
    REAL tc = NN_TANH(c[j]), dcc = dc[j] + dh[j] * o * (1 - tc * tc);
    dxp[j] = dcc * g * i * (1 - i);
    dxp[H + j] = dcc * cprev[j] * f * (1 - f);
    dxp[2 * H + j] = dcc * i * (1 - g * g);
    dxp[3 * H + j] = dh[j] * tc * o * (1 - o);
    dc[j] = dcc * f;
  }
}

ROW_INLINE void CAT(gru_back_row, SFX)(int64_t H, const REAL *restrict xp, const REAL *restrict m,
                                       const REAL *restrict hprev, REAL *restrict dh,
                                       REAL *restrict dxp, REAL *restrict dhp) {
  for (int64_t j = 0; j < H; j++) {
    REAL r = xp[j], z = xp[H + j], n = xp[2 * H + j];
    REAL dan = dh[j] * (1 - z) * (1 - n * n), dar = dan * m[j] * r * (1 - r);
    REAL daz = dh[j] * (hprev[j] - n) * z * (1 - z);
    dhp[j] = dxp[j] = dar;
    dhp[H + j] = dxp[H + j] = daz;
    dxp[2 * H + j] = dan;
    dhp[2 * H + j] = dan * r;
    dh[j] *= z;
  }
}

CELL_CLONES static void CAT(backward_step, SFX)(const cell *s) {
  const int64_t H = s->H;
  for (int64_t b = 0; b < s->B; b++) {
    const REAL *xp = (const REAL *)s->xp + b * s->sxp, *h = (const REAL *)s->h + b * s->sh;
    REAL *dh = (REAL *)s->dh + b * H, *dxp = (REAL *)s->dxp + b * s->sdxp;
    if (s->gy) {
      const REAL *gy = (const REAL *)s->gy + b * s->sgy;
      for (int64_t j = 0; j < H; j++) dh[j] += gy[j];
    }
    switch (s->kind) {
    case RNN_TANH:
      for (int64_t j = 0; j < H; j++) dxp[j] = dh[j] * (1 - h[j] * h[j]);
      break;
    case RNN_RELU:
      for (int64_t j = 0; j < H; j++) dxp[j] = h[j] > 0 ? dh[j] : 0;
      break;
    case LSTM:
      CAT(lstm_back_row, SFX)
      (H, xp, (const REAL *)s->c + b * s->sc, (const REAL *)s->cprev + b * s->scprev, dh,
       (REAL *)s->dc + b * H, dxp);
      break;
    case GRU:
      CAT(gru_back_row, SFX)
      (H, xp, (const REAL *)s->m + b * s->sm, (const REAL *)s->hprev + b * s->shprev, dh, dxp,
       (REAL *)s->dhp + b * s->sdhp);
      break;
    }
  }
}

/* s[j] = the sum of column j of the rows x cols dense matrix g, accumulated in double */
CELL_CLONES static void CAT(column_sums, SFX)(const void *gp, int64_t rows, int64_t cols,
                                              double *acc, void *sp) {
  const REAL *g = gp;
  REAL *out = sp;
  for (int64_t j = 0; j < cols; j++) acc[j] = 0;
  for (int64_t i = 0; i < rows; i++)
    for (int64_t j = 0; j < cols; j++) acc[j] += g[i * cols + j];
  for (int64_t j = 0; j < cols; j++) out[j] = (REAL)acc[j];
}

#undef CAT
#undef CAT_
