/*
** nn/rules_body.h: the element loops of nn/rules.c, written once and compiled once per float
** dtype: rules.c includes this file with T (the C type) and NAME(x) (x suffixed by the dtype)
** defined, and gathers the functions in a table per dtype (rules_vt). Sums run in double.
*/

/* y = x / (rms(x) + 1e-6), row by row (a zero row stays zero) */
static void NAME(rms_rows)(const void *xp, void *yp, int64_t m, int64_t n) {
  const T *x = xp;
  T *y = yp;
  for (int64_t i = 0; i < m; i++, x += n, y += n) {
    double s = 0;
    for (int64_t j = 0; j < n; j++) s += (double)x[j] * x[j];
    T r = (T)(1 / (sqrt(s / (double)n) + 1e-6));
    for (int64_t j = 0; j < n; j++) y[j] = x[j] * r;
  }
}

static inline T NAME(act)(T x, int act) {
  if (act == NN_ACT_RELU) return x > 0 ? x : 0;
  if (act == NN_ACT_TANH) return (T)tanh(x);
  return x;
}

/* f'(h) from y = f(h) */
static inline T NAME(dact)(T h, T y, int act) {
  if (act == NN_ACT_RELU) return h > 0 ? 1 : 0;
  if (act == NN_ACT_TANH) return 1 - y * y;
  return 1;
}

/* y = f(y + b) in place (b may be NULL), f = act */
static void NAME(bias_act)(void *yp, const void *bp, int64_t m, int64_t n, int act) {
  T *y = yp;
  const T *b = bp;
  for (int64_t i = 0; i < m; i++, y += n)
    for (int64_t j = 0; j < n; j++) y[j] = NAME(act)(b ? y[j] + b[j] : y[j], act);
}

/* y = f(x), elementwise */
static void NAME(apply)(const void *xp, void *yp, int64_t cnt, int act) {
  const T *x = xp;
  T *y = yp;
  for (int64_t i = 0; i < cnt; i++) y[i] = NAME(act)(x[i], act);
}

/* The forward-forward loss of the rows of y (see nn_ff_layer): writes the goodness g and,
   when dp is not NULL, d = dloss/d(pre-activation) (y is relu's output, so zero where y is);
   returns the mean loss */
static double NAME(ff_loss)(const void *yp, void *gp, const void *offp, void *dp, int64_t m,
                            int64_t n, const nn_ff_opts *o) {
  const T *y = yp, *off = offp;
  T *g = gp, *d = dp;
  double total = 0, scale = o->mean ? 1 / (double)n : 1;
  for (int64_t i = 0; i < m; i++, y += n) {
    double s = 0;
    for (int64_t j = 0; j < n; j++) s += (double)y[j] * y[j];
    s *= scale;
    g[i] = (T)s;
    double sign = i < o->npos ? 1 : -1, t = -sign * (s + (off ? off[i] : 0) - o->theta);
    total += t > 0 ? t + log1p(exp(-t)) : log1p(exp(t)); /* softplus(t) */
    if (!d) continue;
    /* dloss_i/dg_i = -sign sigmoid(t) / m; dg/dy = 2 y scale */
    T c = (T)(-sign / (1 + exp(-t)) / (double)m * 2 * scale);
    for (int64_t j = 0; j < n; j++) d[i * n + j] = c * y[j];
  }
  return total / (double)m;
}

/* b = scale * (the sum of the rows of d) */
static void NAME(col_sum)(const void *dp, void *bp, int64_t m, int64_t n, double scale) {
  const T *d = dp;
  T *b = bp;
  for (int64_t j = 0; j < n; j++) b[j] = 0;
  for (int64_t i = 0; i < m; i++, d += n)
    for (int64_t j = 0; j < n; j++) b[j] += d[j];
  for (int64_t j = 0; j < n; j++) b[j] = (T)(b[j] * scale);
}

/* x *= s */
static void NAME(scale)(void *xp, int64_t cnt, double s) {
  T *x = xp;
  const T k = (T)s;
  for (int64_t i = 0; i < cnt; i++) x[i] *= k;
}

/* e = h - mu */
static void NAME(sub)(void *ep, const void *hp, const void *mp, int64_t cnt) {
  T *e = ep;
  const T *h = hp, *mu = mp;
  for (int64_t i = 0; i < cnt; i++) e[i] = h[i] - mu[i];
}

/* The top layer of predictive coding: u = -dloss/dmu per sample; returns the mean loss.
   tp: i64 classes 1..n (cross-entropy) or T targets (m x n, MSE). */
static double NAME(pc_top)(const void *mp, const void *tp, void *up, int64_t m, int64_t n,
                           int loss) {
  const T *mu = mp;
  T *u = up;
  double total = 0;
  for (int64_t i = 0; i < m; i++, mu += n, u += n) {
    if (loss == NN_PC_MSE) {
      const T *y = (const T *)tp + i * n;
      for (int64_t j = 0; j < n; j++) {
        double diff = (double)mu[j] - y[j];
        total += diff * diff / (double)n;
        u[j] = (T)(-2 * diff / (double)n);
      }
      continue;
    }
    int64_t c = ((const int64_t *)tp)[i] - 1;
    double mx = mu[0], s = 0;
    for (int64_t j = 1; j < n; j++) mx = mu[j] > mx ? mu[j] : mx;
    for (int64_t j = 0; j < n; j++) s += exp(mu[j] - mx);
    total += mx + log(s) - mu[c];
    for (int64_t j = 0; j < n; j++) u[j] = (T)((j == c) - exp(mu[j] - mx) / s);
  }
  return total / (double)m;
}

/* One inference step on a hidden layer: h -= gamma (e - f'(h) bk); fh = f(h) */
static void NAME(pc_update)(void *hp, void *fhp, const void *ep, const void *bkp, int64_t cnt,
                            double gamma, int act) {
  T *h = hp, *fh = fhp;
  const T *e = ep, *bk = bkp;
  const T gm = (T)gamma;
  for (int64_t i = 0; i < cnt; i++) {
    T hi = h[i] - gm * (e[i] - NAME(dact)(h[i], fh[i], act) * bk[i]);
    h[i] = hi;
    fh[i] = NAME(act)(hi, act);
  }
}

/* sigma_max of w (m x n) by power iterations from u (n); v (m) is scratch */
static double NAME(power)(const void *wp, int64_t m, int64_t n, double *u, double *v, int iters) {
  const T *w = wp;
  double sigma = 0;
  for (int it = 0; it < iters; it++) {
    double nv = 0, nu = 0;
    for (int64_t i = 0; i < m; i++) {
      double s = 0;
      for (int64_t j = 0; j < n; j++) s += w[i * n + j] * u[j];
      v[i] = s, nv += s * s;
    }
    nv = sqrt(nv);
    if (nv == 0) return 0;
    for (int64_t j = 0; j < n; j++) u[j] = 0;
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < n; j++) u[j] += w[i * n + j] * (v[i] / nv);
    for (int64_t j = 0; j < n; j++) nu += u[j] * u[j];
    sigma = sqrt(nu);
    if (sigma == 0) return 0;
    for (int64_t j = 0; j < n; j++) u[j] /= sigma;
  }
  return sigma;
}

static const rules_vt NAME(vt) = {
    .rms_rows = NAME(rms_rows),
    .bias_act = NAME(bias_act),
    .apply = NAME(apply),
    .ff_loss = NAME(ff_loss),
    .col_sum = NAME(col_sum),
    .sub = NAME(sub),
    .pc_top = NAME(pc_top),
    .pc_update = NAME(pc_update),
    .scale = NAME(scale),
    .power = NAME(power),
};
