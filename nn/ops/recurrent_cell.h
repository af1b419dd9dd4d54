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
#define CAT_(a, b) a##b
#define CAT(a, b)  CAT_(a, b)

VECTOR_CLONES static void CAT(forward_step, SFX)(const cell *s) {
  const int64_t H = s->H;
  const REAL *bih = (const REAL *)s->bih, *bhh = (const REAL *)s->bhh;
  for (int64_t b = 0; b < s->B; b++) {
    REAL *xp = (REAL *)s->xp + b * s->sxp, *h = (REAL *)s->h + b * s->sh;
    const REAL *hp = (const REAL *)s->hp + b * s->shp;
    const REAL *hprev = (const REAL *)s->hprev + b * s->shprev;
    switch (s->kind) {
    case RNN_TANH:
      for (int64_t j = 0; j < H; j++) h[j] = xp[j] = NN_TANH(xp[j] + bih[j] + hp[j] + bhh[j]);
      break;
    case RNN_RELU:
      for (int64_t j = 0; j < H; j++) {
        REAL a = xp[j] + bih[j] + hp[j] + bhh[j];
        h[j] = xp[j] = a > 0 ? a : 0;
      }
      break;
    case LSTM: {
      REAL *c = (REAL *)s->c + b * s->sc;
      const REAL *cprev = (const REAL *)s->cprev + b * s->scprev;
      for (int64_t k = 0; k < 4 * H; k++) xp[k] += bih[k] + hp[k] + bhh[k];
      for (int64_t j = 0; j < H; j++) {
        REAL i = NN_SIGMOID(xp[j]), f = NN_SIGMOID(xp[H + j]);
        REAL g = NN_TANH(xp[2 * H + j]), o = NN_SIGMOID(xp[3 * H + j]);
        xp[j] = i, xp[H + j] = f, xp[2 * H + j] = g, xp[3 * H + j] = o;
        c[j] = f * cprev[j] + i * g;
        h[j] = o * NN_TANH(c[j]);
      }
      break;
    }
    case GRU: {
      REAL *m = (REAL *)s->m + b * s->sm;
      for (int64_t j = 0; j < H; j++) {
        REAL r = NN_SIGMOID(xp[j] + bih[j] + hp[j] + bhh[j]);
        REAL z = NN_SIGMOID(xp[H + j] + bih[H + j] + hp[H + j] + bhh[H + j]);
        m[j] = hp[2 * H + j] + bhh[2 * H + j];
        REAL n = NN_TANH(xp[2 * H + j] + bih[2 * H + j] + r * m[j]);
        xp[j] = r, xp[H + j] = z, xp[2 * H + j] = n;
        h[j] = n + z * (hprev[j] - n);
      }
      break;
    }
    }
  }
}

VECTOR_CLONES static void CAT(backward_step, SFX)(const cell *s) {
  const int64_t H = s->H;
  for (int64_t b = 0; b < s->B; b++) {
    const REAL *xp = (const REAL *)s->xp + b * s->sxp, *h = (const REAL *)s->h + b * s->sh;
    const REAL *gy = s->gy ? (const REAL *)s->gy + b * s->sgy : NULL;
    REAL *dh = (REAL *)s->dh + b * H, *dxp = (REAL *)s->dxp + b * s->sdxp;
    if (gy)
      for (int64_t j = 0; j < H; j++) dh[j] += gy[j];
    switch (s->kind) {
    case RNN_TANH:
      for (int64_t j = 0; j < H; j++) dxp[j] = dh[j] * (1 - h[j] * h[j]);
      break;
    case RNN_RELU:
      for (int64_t j = 0; j < H; j++) dxp[j] = h[j] > 0 ? dh[j] : 0;
      break;
    case LSTM: {
      const REAL *c = (const REAL *)s->c + b * s->sc;
      const REAL *cprev = (const REAL *)s->cprev + b * s->scprev;
      REAL *dc = (REAL *)s->dc + b * H;
      for (int64_t j = 0; j < H; j++) {
        REAL i = xp[j], f = xp[H + j], g = xp[2 * H + j], o = xp[3 * H + j];
        REAL tc = NN_TANH(c[j]), dcc = dc[j] + dh[j] * o * (1 - tc * tc);
        dxp[j] = dcc * g * i * (1 - i);
        dxp[H + j] = dcc * cprev[j] * f * (1 - f);
        dxp[2 * H + j] = dcc * i * (1 - g * g);
        dxp[3 * H + j] = dh[j] * tc * o * (1 - o);
        dc[j] = dcc * f;
      }
      break;
    }
    case GRU: {
      const REAL *m = (const REAL *)s->m + b * s->sm;
      const REAL *hprev = (const REAL *)s->hprev + b * s->shprev;
      REAL *dhp = (REAL *)s->dhp + b * s->sdhp;
      for (int64_t j = 0; j < H; j++) {
        REAL r = xp[j], z = xp[H + j], n = xp[2 * H + j];
        REAL dan = dh[j] * (1 - z) * (1 - n * n);
        dhp[j] = dxp[j] = dan * m[j] * r * (1 - r);
        dhp[H + j] = dxp[H + j] = dh[j] * (hprev[j] - n) * z * (1 - z);
        dxp[2 * H + j] = dan;
        dhp[2 * H + j] = dan * r;
        dh[j] *= z;
      }
      break;
    }
    }
  }
}

/* s[j] = the sum of column j of the rows x cols dense matrix g, accumulated in double */
static void CAT(column_sums, SFX)(const void *gp, int64_t rows, int64_t cols, double *acc,
                                  void *sp) {
  const REAL *g = gp;
  REAL *out = sp;
  for (int64_t j = 0; j < cols; j++) acc[j] = 0;
  for (int64_t i = 0; i < rows; i++)
    for (int64_t j = 0; j < cols; j++) acc[j] += g[i * cols + j];
  for (int64_t j = 0; j < cols; j++) out[j] = (REAL)acc[j];
}

#undef CAT
#undef CAT_
