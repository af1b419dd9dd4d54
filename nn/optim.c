/*
** nn/optim.c: fused optimizer steps (see optim.h). Each step is one loop over the elements
** doing every update of torch.optim's single-tensor path in its order, with the scalars
** rounded to the parameter's dtype as PyTorch's kernels do, e.g. for Adam:
**   g += wd p;  m = m b1 + (1 - b1) g;  v = v b2 + (1 - b2) g g;
**   p += -(lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps)
** The loops are written once per dtype by macros.
*/
#include <math.h>

#include "nn/optim.h"
#include "nn/ops/pointwise.h"

static int check_state(const char *what, const nn_tensor *t, const nn_tensor *p) {
  if (!t) return nn_errc("%s is missing", what);
  if (!nn_is_contiguous(t)) return nn_errc("%s must be contiguous", what);
  if (t->dtype != p->dtype)
    return nn_errc("%s is %s but the parameter is %s", what, nn_dtype_name(t->dtype),
                   nn_dtype_name(p->dtype));
  if (!nn_same_shape(t, p))
    return nn_errc("%s has shape %s but the parameter has shape %s", what, nn_shape_str(t),
                   nn_shape_str(p));
  return 0;
}

static int check_param(const nn_tensor *p, const nn_tensor *g) {
  if (!nn_dtype_is_float(p->dtype))
    return nn_errc("parameter must be f32 or f64, not %s", nn_dtype_name(p->dtype));
  if (!nn_is_contiguous(p)) return nn_errc("parameter must be contiguous");
  return check_state("gradient", g, p);
}

static int check_rate(double lr) {
  return lr >= 0 ? 0 : nn_errc("learning rate must be >= 0, not %g", lr);
}

#define SLOT(D, T, name) [NN_##D] = name##_##D,

/* ---- SGD ---- */

typedef struct sgd_k {
  double lr, momentum, dampening, wd;
  bool nesterov, maximize, first;
} sgd_k;

/* Without momentum there is no buffer; with it, the first step copies the gradient in. */
#define SGD_LOOP(D, T, name)                                                                       \
  VECTOR_CLONES static void name##_##D(void *pp, const void *gp, void *bp, int64_t n,              \
                                       const sgd_k *k) {                                           \
    T *restrict p = pp, *restrict buf = bp;                                                        \
    const T *restrict g = gp;                                                                      \
    const T neg_lr = (T)-k->lr, mom = (T)k->momentum, damp = (T)(1 - k->dampening);                \
    const T wd = (T)k->wd, sign = k->maximize ? -1 : 1;                                            \
    const bool first = k->first, nesterov = k->nesterov;                                           \
    if (!buf) {                                                                                    \
      for (int64_t i = 0; i < n; i++) p[i] = p[i] + neg_lr * (sign * g[i] + wd * p[i]);            \
      return;                                                                                      \
    }                                                                                              \
    for (int64_t i = 0; i < n; i++) {                                                              \
      T d = sign * g[i] + wd * p[i];                                                               \
      T b = first ? d : buf[i] * mom + damp * d;                                                   \
      buf[i] = b;                                                                                  \
      p[i] = p[i] + neg_lr * (nesterov ? d + mom * b : b);                                         \
    }                                                                                              \
  }
TYPES_FLOAT(SGD_LOOP, sgd)
typedef void sgd_fn(void *, const void *, void *, int64_t, const sgd_k *);
static sgd_fn *const sgd[NN_NDTYPES] = {TYPES_FLOAT(SLOT, sgd)};

int nn_sgd_step(nn_tensor *p, const nn_tensor *g, nn_tensor *buf, const nn_sgd_opts *o,
                int64_t step) {
  if (check_param(p, g) < 0 || check_rate(o->lr) < 0) return -1;
  if (!(o->momentum >= 0)) return nn_errc("momentum must be >= 0, not %g", o->momentum);
  if (o->momentum != 0 && check_state("momentum buffer", buf, p) < 0) return -1;
  if (o->nesterov && (o->momentum <= 0 || o->dampening != 0))
    return nn_errc("nesterov momentum requires a momentum and zero dampening");
  if (step < 1) return nn_errc("step must be >= 1, not %lld", (long long)step);
  sgd_k k = {o->lr,       o->momentum, o->dampening, o->weight_decay,
             o->nesterov, o->maximize, step == 1};
  nn_bump_version(p); /* in place: a graph that saved p must not use it */
  sgd[p->dtype](nn_data(p), nn_data(g), o->momentum != 0 ? nn_data(buf) : NULL, nn_numel(p), &k);
  return 0;
}

/* ---- Adam and AdamW ---- */

typedef struct adam_k {
  double lr, beta1, beta2, eps, wd;
  bool decoupled, maximize;
  double step_size, bc2_sqrt;
} adam_k;

/* Branch-free, so that the loop vectorizes: the flags become factors that are exactly 1 or
   0 when unused (g * 1, p * 1 and g + 0 p change nothing). AMSGrad (AMS = 1) divides by the
   running maximum of the second moment, kept in w; the plain loop never touches w. */
#define ADAM_LOOP(D, T, name, AMS)                                                                 \
  VECTOR_CLONES static void name##_##D(void *pp, const void *gp, void *mp, void *vp, void *wp,     \
                                       int64_t n, const adam_k *k) {                               \
    T *restrict p = pp, *restrict m = mp, *restrict v = vp, *restrict w = wp;                      \
    const T *restrict g = gp;                                                                      \
    const T b1 = (T)k->beta1, b2 = (T)k->beta2, c1 = (T)(1 - k->beta1), c2 = (T)(1 - k->beta2);    \
    const T sign = k->maximize ? -1 : 1, eps = (T)k->eps;                                          \
    const T decay = k->decoupled ? (T)(1 - k->lr * k->wd) : 1, wd = k->decoupled ? 0 : (T)k->wd;   \
    const T neg_step = (T)-k->step_size, bc2 = (T)k->bc2_sqrt;                                     \
    (void)w;                                                                                       \
    for (int64_t i = 0; i < n; i++) {                                                              \
      T q = p[i] * decay, d = sign * g[i] + wd * q;                                                \
      T mi = m[i] * b1 + c1 * d, vi = v[i] * b2 + c2 * d * d;                                      \
      m[i] = mi, v[i] = vi;                                                                        \
      if (AMS) w[i] = vi = w[i] > vi ? w[i] : vi;                                                  \
      p[i] = q + neg_step * mi / (sqrt(vi) / bc2 + eps);                                           \
    }                                                                                              \
  }
#define ADAM_PLAIN(D, T, name) ADAM_LOOP(D, T, name, 0)
#define ADAM_AMS(D, T, name)   ADAM_LOOP(D, T, name, 1)
TYPES_FLOAT(ADAM_PLAIN, adam)
TYPES_FLOAT(ADAM_AMS, amsgrad)
typedef void adam_fn(void *, const void *, void *, void *, void *, int64_t, const adam_k *);
static adam_fn *const adam[2][NN_NDTYPES] = {{TYPES_FLOAT(SLOT, adam)},
                                             {TYPES_FLOAT(SLOT, amsgrad)}};

int nn_adam_step(nn_tensor *p, const nn_tensor *g, nn_tensor *m, nn_tensor *v, nn_tensor *vmax,
                 const nn_adam_opts *o, int64_t step) {
  if (check_param(p, g) < 0 || check_state("first moment", m, p) < 0 ||
      check_state("second moment", v, p) < 0 || check_rate(o->lr) < 0 ||
      (vmax && check_state("maximum second moment", vmax, p) < 0))
    return -1;
  if (!(o->eps >= 0)) return nn_errc("eps must be >= 0, not %g", o->eps);
  if (step < 1) return nn_errc("step must be >= 1, not %lld", (long long)step);
  if (!(o->beta1 >= 0 && o->beta1 < 1 && o->beta2 >= 0 && o->beta2 < 1))
    return nn_errc("betas must be in [0, 1), not (%g, %g)", o->beta1, o->beta2);
  adam_k k = {o->lr, o->beta1, o->beta2, o->eps, o->weight_decay, o->decoupled, o->maximize, 0, 0};
  /* as PyTorch, in double: bias corrections of the moments' zero start */
  k.step_size = o->lr / (1 - pow(o->beta1, (double)step));
  k.bc2_sqrt = sqrt(1 - pow(o->beta2, (double)step));
  nn_bump_version(p); /* in place: a graph that saved p must not use it */
  adam[vmax != NULL][p->dtype](nn_data(p), nn_data(g), nn_data(m), nn_data(v),
                               vmax ? nn_data(vmax) : NULL, nn_numel(p), &k);
  return 0;
}

/* ---- RMSprop ---- */

typedef struct rmsprop_k {
  double lr, alpha, eps, wd, momentum;
  bool centered, maximize;
} rmsprop_k;

#define RMSPROP_LOOP(D, T, name)                                                                   \
  VECTOR_CLONES static void name##_##D(void *pp, const void *gp, void *sp, void *ap, void *bp,     \
                                       int64_t n, const rmsprop_k *k) {                            \
    T *restrict p = pp, *restrict sq = sp, *restrict ga = ap, *restrict buf = bp;                  \
    const T *restrict g = gp;                                                                      \
    const T alpha = (T)k->alpha, c = (T)(1 - k->alpha), wd = (T)k->wd, eps = (T)k->eps;            \
    const T mom = (T)k->momentum, neg_lr = (T)-k->lr, sign = k->maximize ? -1 : 1;                 \
    for (int64_t i = 0; i < n; i++) {                                                              \
      T d = sign * g[i] + wd * p[i], s = sq[i] * alpha + c * d * d, avg;                           \
      sq[i] = s;                                                                                   \
      if (ga) {                                                                                    \
        T a = ga[i] * alpha + c * d;                                                               \
        ga[i] = a;                                                                                 \
        avg = sqrt(s + -1 * a * a) + eps;                                                          \
      } else {                                                                                     \
        avg = sqrt(s) + eps;                                                                       \
      }                                                                                            \
      if (buf) {                                                                                   \
        T b = buf[i] * mom + d / avg;                                                              \
        buf[i] = b;                                                                                \
        p[i] = p[i] + neg_lr * b;                                                                  \
      } else {                                                                                     \
        p[i] = p[i] + neg_lr * d / avg;                                                            \
      }                                                                                            \
    }                                                                                              \
  }
TYPES_FLOAT(RMSPROP_LOOP, rmsprop)
typedef void rmsprop_fn(void *, const void *, void *, void *, void *, int64_t, const rmsprop_k *);
static rmsprop_fn *const rmsprop[NN_NDTYPES] = {TYPES_FLOAT(SLOT, rmsprop)};

int nn_rmsprop_step(nn_tensor *p, const nn_tensor *g, nn_tensor *square_avg, nn_tensor *grad_avg,
                    nn_tensor *buf, const nn_rmsprop_opts *o) {
  if (check_param(p, g) < 0 || check_state("square average", square_avg, p) < 0 ||
      check_rate(o->lr) < 0)
    return -1;
  if (!(o->alpha >= 0 && o->momentum >= 0 && o->eps >= 0))
    return nn_errc("alpha, momentum and eps must be >= 0, not %g, %g, %g", o->alpha, o->momentum,
                   o->eps);
  if (o->centered && check_state("gradient average", grad_avg, p) < 0) return -1;
  if (o->momentum > 0 && check_state("momentum buffer", buf, p) < 0) return -1;
  rmsprop_k k = {o->lr, o->alpha, o->eps, o->weight_decay, o->momentum, o->centered, o->maximize};
  nn_bump_version(p); /* in place: a graph that saved p must not use it */
  rmsprop[p->dtype](nn_data(p), nn_data(g), nn_data(square_avg),
                    o->centered ? nn_data(grad_avg) : NULL, o->momentum > 0 ? nn_data(buf) : NULL,
                    nn_numel(p), &k);
  return 0;
}
