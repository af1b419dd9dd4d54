/*
** nn/ops/vector.c: dot products and norms (op entries, with derivatives), and the tests
** that give masks or booleans: all, any, isnan, isinf, allclose.
**
** dot(u, v) = sum(u v) for two 1-D tensors of one dtype; its VJP is (g v, g u), its JVP
** dot(tu, v) + dot(u, tv). norm's value is reduce.c's composition (nn_norm_value); its
** derivative is the subgradient PyTorch uses: x / |x| for p = 2 (0 where the norm is 0),
** sign(x) for p = 1, sign(x) |x|^(p-1) / |x|_p^(p-1) otherwise, for p = +-inf the sign at
** the extreme elements shared evenly among ties, and 0 for p = 0. Attributes: f[0] = p,
** i[0] = dim (-1: everything), i[1] = keepdim.
*/
#include <math.h>

#include "nn/ops.h"

/* f(a, b), consuming both (NULL passes through) */
static nn_tensor *both(nn_tensor *(*f)(nn_tensor *, nn_tensor *), nn_tensor *a, nn_tensor *b) {
  nn_tensor *r = a && b ? f(a, b) : NULL;
  nn_release(a), nn_release(b);
  return r;
}

static nn_tensor *scalar_like(const nn_tensor *t, double v) {
  return nn_scalar(t->dtype, v);
}

/* ======== dot ======== */

static nn_tensor *dot_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                              nn_tensor *out) {
  (void)a;
  nn_tensor *u = in[0], *v = in[1];
  if (out) return nn_err("%s cannot write into an existing tensor", op->name);
  if (u->ndim != 1 || v->ndim != 1)
    return nn_err("needs two 1-D tensors, got shapes %s and %s", nn_shape_str(u), nn_shape_str(v));
  if (u->shape[0] != v->shape[0])
    return nn_err("the vectors have %lld and %lld elements (shapes %s and %s)",
                  (long long)u->shape[0], (long long)v->shape[0], nn_shape_str(u), nn_shape_str(v));
  if (u->dtype != v->dtype)
    return nn_err("the vectors are %s and %s (convert one with :to)", nn_dtype_name(u->dtype),
                  nn_dtype_name(v->dtype));
  nn_tensor *ua = nn_alias(u), *va = nn_alias(v); /* outside the graph */
  nn_tensor *p = both(nn_mul, ua, va);
  nn_tensor *s = p ? nn_sum(p, -1, false) : NULL;
  nn_release(p);
  return s;
}

static int dot_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  for (int k = 0; k < 2; k++)
    if (need[k] && !(gin[k] = nn_mul(gout, c->in[1 - k]))) return -1;
  return 0;
}

static nn_tensor *dot_jvp(const nn_ctx *c, nn_tensor *const *t) {
  nn_tensor *r = NULL;
  if (t[0] && !(r = nn_dot(t[0], c->in[1]))) return NULL;
  if (t[1]) r = nn_add_term(r, nn_dot(c->in[0], t[1]));
  return r;
}

const nn_op nn_op_dot = {
    .name = "dot", .nin = 2, .forward = dot_forward, .vjp = dot_vjp, .jvp = dot_jvp};

nn_tensor *nn_dot(nn_tensor *u, nn_tensor *v) {
  return nn_call(&nn_op_dot, (nn_tensor *[]){u, v}, NULL);
}

/* ======== norm ======== */

static nn_tensor *norm_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                               nn_tensor *out) {
  if (out) return nn_err("%s cannot write into an existing tensor", op->name);
  nn_tensor *x = nn_alias(in[0]);
  nn_tensor *r = x ? nn_norm_value(x, a->f[0], (int)a->i[0], a->i[1]) : NULL;
  nn_release(x);
  return r;
}

/* t (shaped as the result) with the reduced dims put back as size 1 */
static nn_tensor *kept(nn_tensor *t, const nn_tensor *x, int d) {
  int64_t shape[NN_MAXDIM];
  for (int k = 0; k < x->ndim; k++) shape[k] = d < 0 || k == d ? 1 : x->shape[k];
  return nn_reshape(t, x->ndim, shape);
}

/* v with 0 where the norm n (kept shape) is 0, consuming v */
static nn_tensor *zero_where_null(nn_tensor *v, nn_tensor *n) {
  nn_tensor *z = v ? scalar_like(n, 0) : NULL, *m = z ? nn_eq(n, z) : NULL;
  nn_tensor *r = m ? nn_masked_fill(v, m, 0) : NULL;
  nn_release(v), nn_release(z), nn_release(m);
  return r;
}

/* d norm / dx for p = +-inf: sign(x) at the extremes of |x|, shared among ties */
static nn_tensor *extreme_share(nn_tensor *x, nn_tensor *ax, nn_tensor *n, int d) {
  nn_tensor *hit = nn_eq(ax, n), *hf = hit ? nn_to(hit, x->dtype) : NULL;
  nn_tensor *cnt = hf ? nn_sum(hf, d, true) : NULL; /* 0-dim over everything */
  nn_tensor *share = cnt ? nn_div(hf, cnt) : NULL;
  nn_tensor *r = share ? both(nn_mul, share, nn_sign(x)) : NULL;
  nn_release(hit), nn_release(hf), nn_release(cnt);
  return r;
}

/* the derivative of the norm (kept-shape n) with respect to each element of x */
static nn_tensor *norm_factor(nn_tensor *x, nn_tensor *n, double p, int d) {
  if (p == 0) return nn_zeros(x->dtype, x->ndim, x->shape);
  if (p == 1) return nn_sign(x);
  if (p == 2) return zero_where_null(nn_div(x, n), n);
  nn_tensor *ax = nn_abs(x);
  if (isinf(p)) {
    nn_tensor *r = ax ? extreme_share(x, ax, n, d) : NULL;
    nn_release(ax);
    return r;
  }
  nn_tensor *e = scalar_like(x, p - 1);
  nn_tensor *num = ax && e ? nn_pow(ax, e) : NULL, *den = e ? nn_pow(n, e) : NULL;
  nn_tensor *q = zero_where_null(both(nn_div, num, den), n);
  nn_release(ax), nn_release(e);
  return both(nn_mul, q, nn_sign(x));
}

/* the factor from the saved output, which the VJP and JVP share */
static nn_tensor *factor_of(const nn_ctx *c) {
  nn_tensor *x = c->in[0];
  int d = (int)c->attr.i[0];
  nn_tensor *n = kept(c->out, x, d);
  nn_tensor *f = n ? norm_factor(x, n, c->attr.f[0], d) : NULL;
  nn_release(n);
  return f;
}

static int norm_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  if (!need[0]) return 0;
  nn_tensor *f = factor_of(c), *g = f ? kept(gout, c->in[0], (int)c->attr.i[0]) : NULL;
  gin[0] = both(nn_mul, g, f);
  return gin[0] ? 0 : -1;
}

static nn_tensor *norm_jvp(const nn_ctx *c, nn_tensor *const *tin) {
  if (!tin[0]) return NULL;
  nn_tensor *tf = both(nn_mul, factor_of(c), nn_retain(tin[0]));
  nn_tensor *r = tf ? nn_sum(tf, (int)c->attr.i[0], c->attr.i[1]) : NULL;
  nn_release(tf);
  return r;
}

const nn_op nn_op_norm = {.name = "norm",
                          .nin = 1,
                          .forward = norm_forward,
                          .vjp = norm_vjp,
                          .jvp = norm_jvp,
                          .save_out = true};

nn_tensor *nn_norm(nn_tensor *x, double p, int dim, bool keepdim) {
  nn_attr a = {.i = {dim < 0 ? -1 : dim, keepdim}, .f = {p}, .ni = 2};
  return nn_call(&nn_op_norm, &x, &a);
}

/* ======== masks and booleans ======== */

/* cmp(x, 0) counted over dim, then that count compared with 0 by test: a u8 mask */
static nn_tensor *count_test(nn_tensor *x, int dim, bool keepdim,
                             nn_tensor *(*cmp)(nn_tensor *, nn_tensor *),
                             nn_tensor *(*test)(nn_tensor *, nn_tensor *)) {
  nn_tensor *xa = nn_alias(x), *z = scalar_like(x, 0), *zi = nn_scalar(NN_I64, 0);
  nn_tensor *m = xa && z ? cmp(xa, z) : NULL, *s = m ? nn_sum(m, dim, keepdim) : NULL;
  nn_tensor *r = s && zi ? test(s, zi) : NULL;
  nn_release(xa), nn_release(z), nn_release(zi), nn_release(m), nn_release(s);
  return r;
}

nn_tensor *nn_all(nn_tensor *x, int dim, bool keepdim) {
  return count_test(x, dim, keepdim, nn_eq, nn_eq); /* no zeros */
}

nn_tensor *nn_any(nn_tensor *x, int dim, bool keepdim) {
  return count_test(x, dim, keepdim, nn_ne, nn_gt); /* some non-zero */
}

nn_tensor *nn_isnan(nn_tensor *x) {
  nn_tensor *xa = nn_alias(x), *r = xa ? nn_ne(xa, xa) : NULL;
  nn_release(xa);
  return r;
}

nn_tensor *nn_isinf(nn_tensor *x) {
  if (!nn_dtype_is_float(x->dtype)) return nn_zeros(NN_U8, x->ndim, x->shape);
  nn_tensor *xa = nn_alias(x), *inf = scalar_like(x, INFINITY);
  nn_tensor *r = both(nn_eq, xa ? nn_abs(xa) : NULL, inf);
  nn_release(xa);
  return r;
}

/* |a - b| <= atol + rtol |b| everywhere (equal infinities are close; nan never is) */
int nn_allclose(nn_tensor *a, nn_tensor *b, double rtol, double atol, bool *close) {
  nn_tensor *ad = nn_to(a, NN_F64), *bd = nn_to(b, NN_F64);
  nn_tensor *aa = ad ? nn_alias(ad) : NULL, *ba = bd ? nn_alias(bd) : NULL;
  nn_release(ad), nn_release(bd);
  nn_tensor *sub = aa && ba ? nn_sub(aa, ba) : NULL, *diff = sub ? nn_abs(sub) : NULL;
  nn_release(sub);
  nn_tensor *tol = diff ? both(nn_mul, nn_abs(ba), nn_scalar(NN_F64, rtol)) : NULL;
  tol = both(nn_add, tol, nn_scalar(NN_F64, atol));
  nn_tensor *ok = both(nn_maximum, both(nn_le, diff, tol), aa && ba ? nn_eq(aa, ba) : NULL);
  nn_tensor *all = ok ? nn_all(ok, -1, false) : NULL;
  if (all) *close = *(uint8_t *)nn_data(all) != 0;
  nn_release(aa), nn_release(ba), nn_release(ok), nn_release(all);
  return all ? 0 : -1;
}
