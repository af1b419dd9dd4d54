/*
** nn/ops/shape.c: the differentiable views and conversions: view, reshape, flatten, squeeze,
** unsqueeze, transpose, permute, narrow, select, expand, contiguous, to and clone.
**
** tensor.c's view functions stay raw: kernels call them on their own scratch tensors, where
** nothing must be recorded. These entries wrap them so that autograd sees the views a user
** (or a composite op such as max) takes. Each op is one function that applies it to any
** tensor and one that undoes it on a gradient:
**   - the forward applies it to the input; the result shares the input's storage (the node
**     keeps the input alive) but is always a header of its own, even where the raw function
**     hands back the input itself (contiguous, to), since the output will own a node;
**   - the JVP applies it to the tangent, and makes the result contiguous;
**   - the VJP undoes it: shape changes reshape the gradient back, transpose and permute apply
**     the inverse permutation, narrow and select copy it into zeros of the input's shape,
**     expand sums it over the repeated dims, to converts it back to the input's dtype.
**     A gradient that is a view of g is copied unless g's memory is the node's alone
**     (nn_grad_unshare): autograd adds later gradients into the one it keeps, in place.
** Attributes: sizes in i[0..ni) (view, reshape, expand), the permutation in i[0..ni), and
** otherwise dims and numbers in i[0], i[1], i[2] as the public functions below say.
*/
#include <string.h>

#include "nn/ops.h"

typedef nn_tensor *(*apply_fn)(nn_tensor *t, const nn_attr *a);
/* the gradient of input x from the gradient g of the output */
typedef nn_tensor *(*undo_fn)(nn_tensor *g, const nn_tensor *x, const nn_attr *a);

typedef struct shape_kern {
  apply_fn apply;
  undo_fn undo;
} shape_kern;

/* ======== checks ======== */

static int check_dim(const nn_tensor *t, int64_t d) {
  if (d >= 0 && d < t->ndim) return 0;
  return nn_errc("dimension %lld is out of range for a tensor of shape %s", (long long)d + 1,
                 nn_shape_str(t));
}

static int check_ndim(int ndim) {
  if (ndim >= 0 && ndim <= NN_MAXDIM) return 0;
  return nn_errc("%d dimensions (at most %d are supported)", ndim, NN_MAXDIM);
}

/* ======== applying each op to a tensor ======== */

static nn_tensor *apply_view(nn_tensor *t, const nn_attr *a) {
  return check_ndim(a->ni) < 0 ? NULL : nn_view(t, a->ni, a->i);
}

static nn_tensor *apply_reshape(nn_tensor *t, const nn_attr *a) {
  return check_ndim(a->ni) < 0 ? NULL : nn_reshape(t, a->ni, a->i);
}

/* dims start..end merged into one; a 0-dim tensor becomes {1}, as in PyTorch */
static nn_tensor *apply_flatten(nn_tensor *t, const nn_attr *a) {
  if (t->ndim == 0) return nn_reshape(t, 1, (int64_t[]){1});
  int64_t start = a->i[0], end = a->i[1], shape[NN_MAXDIM];
  if (check_dim(t, start) < 0 || check_dim(t, end) < 0) return NULL;
  if (start > end)
    return nn_err("start dim %lld comes after end dim %lld", (long long)start + 1,
                  (long long)end + 1);
  int n = 0;
  for (int d = 0; d < t->ndim; d++) {
    if (d <= start || d > end)
      shape[n++] = t->shape[d];
    else
      shape[n - 1] *= t->shape[d];
  }
  return nn_reshape(t, n, shape);
}

/* i[0] < 0: every size-1 dim */
static nn_tensor *apply_squeeze(nn_tensor *t, const nn_attr *a) {
  if (a->i[0] >= 0 && check_dim(t, a->i[0]) < 0) return NULL;
  return nn_squeeze(t, (int)a->i[0]);
}

static nn_tensor *apply_unsqueeze(nn_tensor *t, const nn_attr *a) {
  if (a->i[0] < 0 || a->i[0] > t->ndim)
    return nn_err("position %lld is out of range for a new dimension of a tensor of shape %s",
                  (long long)a->i[0] + 1, nn_shape_str(t));
  return nn_unsqueeze(t, (int)a->i[0]);
}

static nn_tensor *apply_transpose(nn_tensor *t, const nn_attr *a) {
  if (check_dim(t, a->i[0]) < 0 || check_dim(t, a->i[1]) < 0) return NULL;
  return nn_transpose(t, (int)a->i[0], (int)a->i[1]);
}

/* The permutation of a's ints in perm, checked: each of t's dims exactly once. */
static int permutation(const nn_tensor *t, const nn_attr *a, int *perm) {
  bool seen[NN_MAXDIM] = {false};
  bool ok = a->ni == t->ndim;
  for (int d = 0; ok && d < t->ndim; d++) {
    int64_t k = a->i[d];
    ok = k >= 0 && k < t->ndim && !seen[k];
    if (ok) seen[k] = true, perm[d] = (int)k;
  }
  if (ok) return 0;
  return nn_errc("%s is not a permutation of the %d dims of a tensor of shape %s",
                 nn_dims_str(a->ni < 0 ? 0 : a->ni, a->i), t->ndim, nn_shape_str(t));
}

static nn_tensor *apply_permute(nn_tensor *t, const nn_attr *a) {
  int perm[NN_MAXDIM];
  return permutation(t, a, perm) < 0 ? NULL : nn_permute(t, perm);
}

static nn_tensor *apply_narrow(nn_tensor *t, const nn_attr *a) {
  return check_dim(t, a->i[0]) < 0 ? NULL : nn_narrow(t, (int)a->i[0], a->i[1], a->i[2]);
}

static nn_tensor *apply_select(nn_tensor *t, const nn_attr *a) {
  return check_dim(t, a->i[0]) < 0 ? NULL : nn_select(t, (int)a->i[0], a->i[1]);
}

static nn_tensor *apply_expand(nn_tensor *t, const nn_attr *a) {
  return check_ndim(a->ni) < 0 ? NULL : nn_expand(t, a->ni, a->i);
}

static nn_tensor *apply_contiguous(nn_tensor *t, const nn_attr *a) {
  (void)a;
  return nn_contiguous(t);
}

static nn_tensor *apply_to(nn_tensor *t, const nn_attr *a) {
  if (a->i[0] < 0 || a->i[0] >= NN_NDTYPES)
    return nn_err("unknown dtype number %lld", (long long)a->i[0]);
  return nn_to(t, (nn_dtype)a->i[0]);
}

static nn_tensor *apply_clone(nn_tensor *t, const nn_attr *a) {
  (void)a;
  return nn_clone(t);
}

/* ======== undoing each op on a gradient ======== */

/* view, reshape, flatten, squeeze, unsqueeze: only the shape changed */
static nn_tensor *undo_reshape(nn_tensor *g, const nn_tensor *x, const nn_attr *a) {
  (void)a;
  return nn_reshape(g, x->ndim, x->shape);
}

static nn_tensor *undo_transpose(nn_tensor *g, const nn_tensor *x, const nn_attr *a) {
  (void)x;
  return nn_transpose(g, (int)a->i[0], (int)a->i[1]);
}

static nn_tensor *undo_permute(nn_tensor *g, const nn_tensor *x, const nn_attr *a) {
  int inverse[NN_MAXDIM];
  for (int d = 0; d < x->ndim; d++) inverse[a->i[d]] = d;
  return nn_permute(g, inverse);
}

/* zeros of x's shape with g copied into the part that apply (narrow, select) took */
static nn_tensor *scatter_back(nn_tensor *g, const nn_tensor *x, const nn_attr *a, apply_fn apply) {
  nn_tensor *z = nn_zeros(x->dtype, x->ndim, x->shape), *part = z ? apply(z, a) : NULL;
  if (!part || nn_copy_(part, g) < 0) {
    nn_release(z);
    z = NULL;
  }
  nn_release(part);
  return z;
}

static nn_tensor *undo_narrow(nn_tensor *g, const nn_tensor *x, const nn_attr *a) {
  return scatter_back(g, x, a, apply_narrow);
}

static nn_tensor *undo_select(nn_tensor *g, const nn_tensor *x, const nn_attr *a) {
  return scatter_back(g, x, a, apply_select);
}

static nn_tensor *undo_expand(nn_tensor *g, const nn_tensor *x, const nn_attr *a) {
  (void)a;
  return nn_sum_to(g, x);
}

/* contiguous and clone: the values are x's */
static nn_tensor *undo_identity(nn_tensor *g, const nn_tensor *x, const nn_attr *a) {
  (void)x, (void)a;
  return nn_retain(g);
}

static nn_tensor *undo_to(nn_tensor *g, const nn_tensor *x, const nn_attr *a) {
  (void)a;
  return nn_to(g, x->dtype);
}

/* ======== gradients that are views ======== */

bool nn_grad_alone(const nn_tensor *g) {
  return g->refs == 1 && g->storage->refs == 1;
}

nn_tensor *nn_grad_unshare(nn_tensor *v, const nn_tensor *g, bool alone) {
  if (!v || alone || v->storage != g->storage) return v;
  nn_tensor *c = nn_clone(v);
  nn_release(v);
  return c;
}

/* ======== the entries ======== */

static nn_tensor *shape_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                                nn_tensor *out) {
  (void)out;
  static const nn_attr none;
  nn_tensor *x = in[0], *r = ((const shape_kern *)op->kern)->apply(x, a ? a : &none);
  if (r != x) return r;
  nn_release(r); /* x itself: a header of its own for the node to hang on */
  return nn_alias(x);
}

static int shape_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  if (!need[0]) return 0;
  bool alone = nn_grad_alone(gout);
  gin[0] = ((const shape_kern *)c->op->kern)->undo(gout, c->in[0], &c->attr);
  gin[0] = nn_grad_unshare(gin[0], gout, alone);
  return gin[0] ? 0 : -1;
}

static nn_tensor *shape_jvp(const nn_ctx *c, nn_tensor *const *tin) {
  nn_tensor *t = nn_contiguous(tin[0]); /* so that view applies to any tangent */
  nn_tensor *v = t ? ((const shape_kern *)c->op->kern)->apply(t, &c->attr) : NULL;
  nn_tensor *r = v ? nn_contiguous(v) : NULL;
  nn_release(t), nn_release(v);
  return r;
}

#define SHAPE_OPS(X)                                                                               \
  X(view, undo_reshape)                                                                            \
  X(reshape, undo_reshape)                                                                         \
  X(flatten, undo_reshape)                                                                         \
  X(squeeze, undo_reshape)                                                                         \
  X(unsqueeze, undo_reshape)                                                                       \
  X(transpose, undo_transpose)                                                                     \
  X(permute, undo_permute)                                                                         \
  X(narrow, undo_narrow)                                                                           \
  X(select, undo_select)                                                                           \
  X(expand, undo_expand)                                                                           \
  X(contiguous, undo_identity)                                                                     \
  X(to, undo_to)                                                                                   \
  X(clone, undo_identity)

#define DEFINE_SHAPE(name_, undo)                                                                  \
  static const shape_kern name_##_kern = {apply_##name_, undo};                                    \
  const nn_op nn_op_##name_ = {.name = #name_,                                                     \
                               .nin = 1,                                                           \
                               .forward = shape_forward,                                           \
                               .vjp = shape_vjp,                                                   \
                               .jvp = shape_jvp,                                                   \
                               .kern = &name_##_kern};
SHAPE_OPS(DEFINE_SHAPE)

/* ======== the public functions ======== */

static nn_tensor *call1(const nn_op *op, nn_tensor *x, const nn_attr *a) {
  return nn_call(op, &x, a);
}

/* an op whose attributes are ndim sizes (or dims) */
static nn_tensor *call_sizes(const nn_op *op, nn_tensor *x, int ndim, const int64_t *sizes) {
  if (check_ndim(ndim) < 0) return NULL;
  nn_attr a = {.ni = ndim};
  if (ndim) memcpy(a.i, sizes, ndim * sizeof *sizes);
  return call1(op, x, &a);
}

nn_tensor *nn_t_view(nn_tensor *x, int ndim, const int64_t *shape) {
  return call_sizes(&nn_op_view, x, ndim, shape);
}

nn_tensor *nn_t_reshape(nn_tensor *x, int ndim, const int64_t *shape) {
  return call_sizes(&nn_op_reshape, x, ndim, shape);
}

nn_tensor *nn_t_flatten(nn_tensor *x, int start, int end) {
  return call1(&nn_op_flatten, x, &(nn_attr){.i = {start, end}, .ni = 2});
}

nn_tensor *nn_t_squeeze(nn_tensor *x, int d) {
  return call1(&nn_op_squeeze, x, &(nn_attr){.i = {d < 0 ? -1 : d}, .ni = 1});
}

nn_tensor *nn_t_unsqueeze(nn_tensor *x, int d) {
  return call1(&nn_op_unsqueeze, x, &(nn_attr){.i = {d}, .ni = 1});
}

nn_tensor *nn_t_transpose(nn_tensor *x, int d1, int d2) {
  return call1(&nn_op_transpose, x, &(nn_attr){.i = {d1, d2}, .ni = 2});
}

nn_tensor *nn_t_permute(nn_tensor *x, const int *perm) {
  int64_t dims[NN_MAXDIM];
  for (int d = 0; d < x->ndim; d++) dims[d] = perm[d];
  return call_sizes(&nn_op_permute, x, x->ndim, dims);
}

nn_tensor *nn_t_narrow(nn_tensor *x, int d, int64_t start, int64_t len) {
  return call1(&nn_op_narrow, x, &(nn_attr){.i = {d, start, len}, .ni = 3});
}

nn_tensor *nn_t_select(nn_tensor *x, int d, int64_t i) {
  return call1(&nn_op_select, x, &(nn_attr){.i = {d, i}, .ni = 2});
}

nn_tensor *nn_t_expand(nn_tensor *x, int ndim, const int64_t *shape) {
  return call_sizes(&nn_op_expand, x, ndim, shape);
}

nn_tensor *nn_t_contiguous(nn_tensor *x) {
  return nn_is_contiguous(x) ? nn_retain(x) : call1(&nn_op_contiguous, x, NULL);
}

/* Only float to float conversions carry gradients: to or from an integer dtype the result
   is a plain tensor (PyTorch's integer tensors cannot require grad). */
nn_tensor *nn_t_to(nn_tensor *x, nn_dtype dt) {
  if ((int)dt < 0 || dt >= NN_NDTYPES) return nn_err("unknown dtype number %d", (int)dt);
  if (x->dtype == dt) return nn_retain(x);
  if (!nn_dtype_is_float(x->dtype) || !nn_dtype_is_float(dt)) return nn_to(x, dt);
  return call1(&nn_op_to, x, &(nn_attr){.i = {dt}, .ni = 1});
}

nn_tensor *nn_t_clone(nn_tensor *x) {
  return call1(&nn_op_clone, x, NULL);
}
