/*
** nn/ops/index.c: indexing and joining: cat, stack, gather, scatter_add, index_select,
** index_add, masked_fill, one_hot.
**
** Two kernels do the indexed work. Gather copies x[..., idx, ...] into the output; scatter
** adds a source into x[..., idx, ...]. Both walk an index tensor of the output's (or the
** source's) shape with nn_iter, next to a "slot view" of x: x restrided to that shape with
** stride 0 along dim, so that the iterator yields the base of the slot and the row function
** adds idx * stride. index_select and index_add are the same kernels with a 1-D index
** broadcast (stride 0) over the other dims. Element copies move bytes, so only scatter's
** addition is typed.
**
** Every index is checked against its size before any memory is read or written, and
** messages report indices 1-based, as the user wrote them.
**
** Backward: cat's VJP narrows the gradient, stack's selects it, gather's is scatter_add
** into zeros, index_select's is index_add into zeros, scatter_add and index_add pass the
** gradient to x and gather/index_select it for the source, masked_fill's is
** masked_fill(g, mask, 0) summed back to x's shape; all run the kernels above. Every op but
** one_hot is linear in its data, so its JVP is the op run on the tangents. Integer indices
** and masks get no gradient.
*/
#include <string.h>

#include "nn/iter.h"
#include "nn/ops.h"

/* ======== checks ======== */

static int check_dim(const nn_tensor *x, int dim) {
  if (dim < 0 || dim >= x->ndim)
    return nn_errc("dimension %d is out of range for a tensor of %d dimensions", dim + 1, x->ndim);
  return 0;
}

static int check_index_dtype(const nn_tensor *idx) {
  if (idx->dtype != NN_I64)
    return nn_errc("the index must be an i64 tensor, not %s", nn_dtype_name(idx->dtype));
  return 0;
}

typedef struct bad_index {
  int64_t size, value;
  bool found;
} bad_index;

static void find_bad_row(char **p, const int64_t *s, int64_t n, void *ctx) {
  bad_index *b = ctx;
  for (int64_t i = 0; i < n && !b->found; i++) {
    int64_t j = *(const int64_t *)(p[0] + i * s[0]);
    if (j < 0 || j >= b->size) b->found = true, b->value = j;
  }
}

/* The first index (row-major) of idx outside [0, size), if any, in *bad. */
static bool find_bad_index(const nn_tensor *idx, int64_t size, int64_t *bad) {
  bad_index b = {size, 0, false};
  nn_iter it;
  if (nn_iter_init(&it, 1, &idx) == 0) nn_iter_run(&it, find_bad_row, &b);
  *bad = b.value;
  return b.found;
}

static int check_indices(const nn_tensor *idx, int dim, int64_t size) {
  int64_t j;
  if (find_bad_index(idx, size, &j))
    return nn_errc("index %lld is out of range for dimension %d of size %lld", nn_one_based(j),
                   dim + 1, (long long)size);
  return 0;
}

/* ======== views the kernels walk ======== */

/* x seen with like's shape (no larger than x's outside dim) and stride 0 along dim: each
   element is the base of the slot an index along dim picks from. */
static nn_tensor *slot_view(nn_tensor *x, int dim, const nn_tensor *like) {
  nn_tensor *v = nn_alias(x);
  if (!v) return NULL;
  memcpy(v->shape, like->shape, sizeof v->shape);
  v->stride[dim] = 0;
  return v;
}

/* A 0-D or 1-D index laid along dim of like's shape and broadcast over the other dims. */
static nn_tensor *index_view(nn_tensor *idx, int dim, const nn_tensor *like) {
  nn_tensor *v = nn_alias(idx);
  if (!v) return NULL;
  v->ndim = like->ndim;
  memcpy(v->shape, like->shape, sizeof v->shape);
  memset(v->stride, 0, sizeof v->stride);
  v->stride[dim] = idx->ndim ? idx->stride[0] : 0;
  return v;
}

/* src cut down to shape (no larger than src's in any dim), keeping its strides */
static nn_tensor *corner_view(nn_tensor *src, const nn_tensor *like) {
  nn_tensor *v = nn_alias(src);
  if (v) memcpy(v->shape, like->shape, sizeof v->shape);
  return v;
}

/* Releases n temporaries and returns r: the common exit of the forwards below. */
static nn_tensor *release_all(nn_tensor *r, int n, nn_tensor **tmp) {
  for (int k = 0; k < n; k++) nn_release(tmp[k]);
  return r;
}

/* ======== derivatives shared by the ops ======== */

/* g in x's dtype (an input of another float dtype was promoted); consumes g */
static nn_tensor *in_dtype_of(nn_tensor *g, const nn_tensor *x) {
  if (!g || g->dtype == x->dtype) return g;
  nn_tensor *r = nn_to(g, x->dtype);
  nn_release(g);
  return r;
}

/* Every op here but one_hot is linear in its data inputs (all inputs of cat and stack, all
   but input 1, the index or mask, of the others): its tangent is the op itself run on the
   tangents, zeros standing in for inputs without one, and masked_fill filling in 0. */
static nn_tensor *linear_jvp(const nn_ctx *c, nn_tensor *const *tin) {
  bool joins = c->op->nin < 0, ok = true;
  nn_tensor *t[c->nin], *r = NULL;
  for (int k = 0; k < c->nin; k++) {
    nn_tensor *x = c->in[k];
    t[k] = !joins && k == 1 ? nn_retain(x)
           : tin[k]         ? nn_retain(tin[k])
                            : nn_zeros(x->dtype, x->ndim, x->shape);
    ok = ok && t[k];
  }
  nn_attr a = c->attr;
  a.f[0] = 0;
  if (ok) r = nn_calln(c->op, c->nin, t, &a);
  return release_all(r, c->nin, t);
}

/* ======== the gather kernel: out = x[..., idx, ...] ======== */

typedef struct step_ctx {
  size_t esize;  /* bytes per element */
  int64_t dstep; /* bytes between slots along dim */
} step_ctx;

/* operands: out, idx, slot of x */
static void gather_row(char **p, const int64_t *s, int64_t n, void *ctx) {
  const step_ctx *c = ctx;
  size_t es = c->esize;
  if (s[1] == 0 && s[0] == (int64_t)es && s[2] == (int64_t)es) { /* one slot: a block copy */
    memcpy(p[0], p[2] + *(const int64_t *)p[1] * c->dstep, n * es);
    return;
  }
  for (int64_t i = 0; i < n; i++) {
    int64_t j = *(const int64_t *)(p[1] + i * s[1]);
    memcpy(p[0] + i * s[0], p[2] + i * s[2] + j * c->dstep, es);
  }
}

/* out[pos] = x[pos with dim replaced by idx[pos]]; idx has out's shape, indices checked */
static int run_gather(nn_tensor *out, nn_tensor *x, int dim, nn_tensor *idx) {
  step_ctx c = {nn_dtype_size(x->dtype), x->stride[dim] * (int64_t)nn_dtype_size(x->dtype)};
  nn_tensor *slot = slot_view(x, dim, out);
  nn_iter it;
  int rc = slot ? nn_iter_init(&it, 3, (const nn_tensor *[]){out, idx, slot}) : -1;
  if (rc == 0) nn_iter_run(&it, gather_row, &c);
  nn_release(slot);
  return rc;
}

/* x gathered at idx along dim, into a new tensor of idx's shape */
static nn_tensor *gathered(nn_tensor *x, int dim, nn_tensor *idx) {
  nn_tensor *r = nn_empty(x->dtype, idx->ndim, idx->shape);
  if (r && run_gather(r, x, dim, idx) < 0) {
    nn_release(r);
    return NULL;
  }
  return r;
}

/* x's slices idx (0-D or 1-D) along dim, in that order, into a new tensor */
static nn_tensor *selected(nn_tensor *x, int dim, nn_tensor *idx) {
  int64_t shape[NN_MAXDIM];
  memcpy(shape, x->shape, sizeof shape);
  shape[dim] = nn_numel(idx);
  nn_tensor *r = nn_empty(x->dtype, x->ndim, shape);
  nn_tensor *iv = r ? index_view(idx, dim, r) : NULL;
  if (!iv || run_gather(r, x, dim, iv) < 0) {
    nn_release(r);
    r = NULL;
  }
  return release_all(r, 1, &iv);
}

/* ======== the scatter kernel: x[..., idx, ...] += src ======== */

#define TYPES_ALL(M) M(F32, float) M(F64, double) M(I64, int64_t) M(U8, uint8_t)

/* operands: idx, src, slot of x */
#define SCATTER_ROW(D, T)                                                                          \
  static void scatter_add_##D(char **p, const int64_t *s, int64_t n, void *ctx) {                  \
    int64_t dstep = ((const step_ctx *)ctx)->dstep;                                                \
    for (int64_t i = 0; i < n; i++) {                                                              \
      int64_t j = *(const int64_t *)(p[0] + i * s[0]);                                             \
      *(T *)(p[2] + i * s[2] + j * dstep) += *(const T *)(p[1] + i * s[1]);                        \
    }                                                                                              \
  }
TYPES_ALL(SCATTER_ROW)
#define SCATTER_SLOT(D, T) [NN_##D] = scatter_add_##D,
static const nn_rowfn scatter_rows[NN_NDTYPES] = {TYPES_ALL(SCATTER_SLOT)};

/* dest[pos with dim replaced by idx[pos]] += src[pos]; idx and src of one shape, src of
   dest's dtype, indices checked */
static int run_scatter_add(nn_tensor *dest, int dim, nn_tensor *idx, nn_tensor *src) {
  step_ctx c = {0, dest->stride[dim] * (int64_t)nn_dtype_size(dest->dtype)};
  nn_tensor *slot = slot_view(dest, dim, idx);
  nn_iter it;
  int rc = slot ? nn_iter_init(&it, 3, (const nn_tensor *[]){idx, src, slot}) : -1;
  if (rc == 0) nn_iter_run(&it, scatter_rows[dest->dtype], &c);
  nn_release(slot);
  return rc;
}

/* The tensor an accumulating op writes: out itself (in place), or a copy of x. */
static nn_tensor *destination(nn_tensor *x, nn_tensor *out) {
  if (!out) return nn_clone(x);
  if (out->dtype != x->dtype || !nn_same_shape(out, x))
    return nn_err("cannot write a %s %s result into a %s %s tensor", nn_dtype_name(x->dtype),
                  nn_shape_str(x), nn_dtype_name(out->dtype), nn_shape_str(out));
  if (out != x && nn_copy_(out, x) < 0) return NULL;
  return nn_retain(out);
}

/* Adds src (any dtype, cut to idx's shape) into a copy of x or into out. */
static nn_tensor *scatter_into(nn_tensor *x, int dim, nn_tensor *idx, nn_tensor *src,
                               nn_tensor *out) {
  nn_tensor *dest = destination(x, out);
  nn_tensor *srcc = dest ? nn_to(src, dest->dtype) : NULL;
  nn_tensor *corner = srcc ? corner_view(srcc, idx) : NULL;
  if (!corner || run_scatter_add(dest, dim, idx, corner) < 0) {
    nn_release(dest);
    dest = NULL;
  }
  return release_all(dest, 2, (nn_tensor *[]){srcc, corner});
}

/* ======== gather and scatter_add (PyTorch's semantics) ======== */

/* idx has x's dimensions and is no larger than x outside dim (than src everywhere) */
static int check_gather_shapes(const nn_tensor *x, int dim, const nn_tensor *idx,
                               const nn_tensor *src) {
  if (check_dim(x, dim) < 0 || check_index_dtype(idx) < 0) return -1;
  if (src && (idx->ndim != x->ndim || src->ndim != x->ndim))
    return nn_errc("index %s, input %s and source %s differ in their number of dimensions",
                   nn_shape_str(idx), nn_shape_str(x), nn_shape_str(src));
  if (idx->ndim != x->ndim)
    return nn_errc("index %s and input %s differ in their number of dimensions", nn_shape_str(idx),
                   nn_shape_str(x));
  for (int d = 0; d < x->ndim; d++) {
    if (d != dim && idx->shape[d] > x->shape[d])
      return nn_errc("index shape %s is larger than input shape %s in dimension %d (%lld > "
                     "%lld)",
                     nn_shape_str(idx), nn_shape_str(x), d + 1, (long long)idx->shape[d],
                     (long long)x->shape[d]);
    if (src && idx->shape[d] > src->shape[d])
      return nn_errc("index shape %s is larger than source shape %s in dimension %d (%lld > "
                     "%lld)",
                     nn_shape_str(idx), nn_shape_str(src), d + 1, (long long)idx->shape[d],
                     (long long)src->shape[d]);
  }
  return check_indices(idx, dim, x->shape[dim]);
}

static nn_tensor *gather_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                                 nn_tensor *out) {
  (void)op, (void)out;
  nn_tensor *x = in[0], *idx = in[1];
  int dim = (int)a->i[0];
  if (check_gather_shapes(x, dim, idx, NULL) < 0) return NULL;
  return gathered(x, dim, idx);
}

static nn_tensor *scatter_add_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                                      nn_tensor *out) {
  (void)op;
  nn_tensor *x = in[0], *idx = in[1], *src = in[2];
  int dim = (int)a->i[0];
  if (check_gather_shapes(x, dim, idx, src) < 0) return NULL;
  return scatter_into(x, dim, idx, src, out);
}

/* g added back where each element was gathered from: scatter_add into zeros */
static int gather_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  if (!need[0]) return 0;
  nn_tensor *x = c->in[0], *z = nn_zeros(x->dtype, x->ndim, x->shape);
  gin[0] = z ? scatter_into(z, (int)c->attr.i[0], c->in[1], gout, z) : NULL;
  nn_release(z);
  return gin[0] ? 0 : -1;
}

/* x's gradient is g; the source's is g gathered at the index, in the corner of zeros of the
   source's shape that the index covered */
static int scatter_add_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  nn_tensor *idx = c->in[1], *src = c->in[2];
  if (need[0]) gin[0] = nn_retain(gout);
  if (!need[2]) return 0;
  nn_tensor *picked = gathered(gout, (int)c->attr.i[0], idx);
  if (picked && nn_same_shape(idx, src)) {
    gin[2] = in_dtype_of(picked, src);
  } else if (picked) {
    nn_tensor *z = nn_zeros(src->dtype, src->ndim, src->shape);
    nn_tensor *corner = z ? corner_view(z, idx) : NULL;
    gin[2] = corner && nn_copy_(corner, picked) == 0 ? nn_retain(z) : NULL;
    release_all(NULL, 3, (nn_tensor *[]){z, corner, picked});
  }
  return gin[2] ? 0 : -1;
}

const nn_op nn_op_gather = {
    .name = "gather", .nin = 2, .forward = gather_forward, .vjp = gather_vjp, .jvp = linear_jvp};
const nn_op nn_op_scatter_add = {.name = "scatter_add",
                                 .nin = 3,
                                 .forward = scatter_add_forward,
                                 .vjp = scatter_add_vjp,
                                 .jvp = linear_jvp};

nn_tensor *nn_gather(nn_tensor *x, int dim, nn_tensor *idx) {
  nn_attr a = {.i = {dim}, .ni = 1};
  return nn_call(&nn_op_gather, (nn_tensor *[]){x, idx}, &a);
}

nn_tensor *nn_scatter_add(nn_tensor *x, int dim, nn_tensor *idx, nn_tensor *src) {
  nn_attr a = {.i = {dim}, .ni = 1};
  return nn_call(&nn_op_scatter_add, (nn_tensor *[]){x, idx, src}, &a);
}

int nn_scatter_add_(nn_tensor *x, int dim, nn_tensor *idx, nn_tensor *src) {
  nn_attr a = {.i = {dim}, .ni = 1};
  return nn_call_into(&nn_op_scatter_add, x, (nn_tensor *[]){x, idx, src}, &a);
}

/* ======== index_select and index_add ======== */

/* dim and the index's dtype and rank; its values are checked last, by check_indices */
static int check_index_vector(const nn_tensor *x, int dim, const nn_tensor *idx) {
  if (check_dim(x, dim) < 0 || check_index_dtype(idx) < 0) return -1;
  if (idx->ndim > 1)
    return nn_errc("the index must be a 1-D tensor, not of shape %s", nn_shape_str(idx));
  return 0;
}

static nn_tensor *index_select_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                                       nn_tensor *out) {
  (void)op, (void)out;
  nn_tensor *x = in[0], *idx = in[1];
  int dim = (int)a->i[0];
  if (check_index_vector(x, dim, idx) < 0 || check_indices(idx, dim, x->shape[dim]) < 0)
    return NULL;
  return selected(x, dim, idx);
}

/* src has x's shape except along dim, where it has one slice per index */
static int check_index_add_shapes(const nn_tensor *x, int dim, const nn_tensor *idx,
                                  const nn_tensor *src) {
  if (check_index_vector(x, dim, idx) < 0) return -1;
  bool ok = src->ndim == x->ndim;
  for (int d = 0; ok && d < x->ndim; d++)
    ok = d == dim ? src->shape[d] == nn_numel(idx) : src->shape[d] == x->shape[d];
  if (!ok)
    return nn_errc("source shape %s does not fit input shape %s with %lld indices along "
                   "dimension %d",
                   nn_shape_str(src), nn_shape_str(x), (long long)nn_numel(idx), dim + 1);
  return check_indices(idx, dim, x->shape[dim]);
}

static nn_tensor *index_add_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                                    nn_tensor *out) {
  (void)op;
  nn_tensor *x = in[0], *idx = in[1], *src = in[2];
  int dim = (int)a->i[0];
  if (check_index_add_shapes(x, dim, idx, src) < 0) return NULL;
  nn_tensor *iv = index_view(idx, dim, src);
  nn_tensor *r = iv ? scatter_into(x, dim, iv, src, out) : NULL;
  return release_all(r, 1, &iv);
}

/* g added back into the selected slices: index_add into zeros */
static int index_select_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  if (!need[0]) return 0;
  int dim = (int)c->attr.i[0];
  nn_tensor *x = c->in[0], *z = nn_zeros(x->dtype, x->ndim, x->shape);
  nn_tensor *iv = z ? index_view(c->in[1], dim, gout) : NULL;
  gin[0] = iv ? scatter_into(z, dim, iv, gout, z) : NULL;
  release_all(NULL, 2, (nn_tensor *[]){z, iv});
  return gin[0] ? 0 : -1;
}

/* x's gradient is g; the source's is the slices of g it was added to: index_select */
static int index_add_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  int dim = (int)c->attr.i[0];
  nn_tensor *src = c->in[2];
  if (need[0]) gin[0] = nn_retain(gout);
  if (!need[2]) return 0;
  gin[2] = in_dtype_of(selected(gout, dim, c->in[1]), src);
  return gin[2] ? 0 : -1;
}

const nn_op nn_op_index_select = {.name = "index_select",
                                  .nin = 2,
                                  .forward = index_select_forward,
                                  .vjp = index_select_vjp,
                                  .jvp = linear_jvp};
const nn_op nn_op_index_add = {.name = "index_add",
                               .nin = 3,
                               .forward = index_add_forward,
                               .vjp = index_add_vjp,
                               .jvp = linear_jvp};

nn_tensor *nn_index_select(nn_tensor *x, int dim, nn_tensor *idx) {
  nn_attr a = {.i = {dim}, .ni = 1};
  return nn_call(&nn_op_index_select, (nn_tensor *[]){x, idx}, &a);
}

nn_tensor *nn_index_add(nn_tensor *x, int dim, nn_tensor *idx, nn_tensor *src) {
  nn_attr a = {.i = {dim}, .ni = 1};
  return nn_call(&nn_op_index_add, (nn_tensor *[]){x, idx, src}, &a);
}

int nn_index_add_(nn_tensor *x, int dim, nn_tensor *idx, nn_tensor *src) {
  nn_attr a = {.i = {dim}, .ni = 1};
  return nn_call_into(&nn_op_index_add, x, (nn_tensor *[]){x, idx, src}, &a);
}

/* ======== masked_fill ======== */

typedef struct fill_ctx {
  size_t esize;
  char value[8]; /* in the result's dtype */
} fill_ctx;

/* operands: out, x, mask */
static void masked_fill_row(char **p, const int64_t *s, int64_t n, void *ctx) {
  const fill_ctx *c = ctx;
  for (int64_t i = 0; i < n; i++)
    memcpy(p[0] + i * s[0], p[2][i * s[2]] ? c->value : p[1] + i * s[1], c->esize);
}

/* x where mask is 0, v where it is not; x and mask broadcast together, as in PyTorch */
static nn_tensor *masked_fill_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                                      nn_tensor *out) {
  (void)op, (void)out;
  nn_tensor *x = in[0], *mask = in[1];
  if (mask->dtype != NN_U8)
    return nn_err("the mask must be u8 (a comparison's result), not %s",
                  nn_dtype_name(mask->dtype));
  int ndim;
  int64_t shape[NN_MAXDIM];
  if (nn_broadcast_shape(x->ndim, x->shape, mask->ndim, mask->shape, &ndim, shape) < 0) return NULL;
  fill_ctx c = {nn_dtype_size(x->dtype), {0}};
  nn_store(c.value, x->dtype, a->f[0]);
  nn_tensor *r = nn_empty(x->dtype, ndim, shape);
  nn_iter it;
  if (r && nn_iter_init(&it, 3, (const nn_tensor *[]){r, x, mask}) < 0) {
    nn_release(r);
    return NULL;
  }
  if (r) nn_iter_run(&it, masked_fill_row, &c);
  return r;
}

/* g where x was kept, 0 where it was filled, summed back over the dims the mask added */
static int masked_fill_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  if (!need[0]) return 0;
  nn_tensor *kept = nn_masked_fill(gout, c->in[1], 0);
  gin[0] = kept ? nn_sum_to(kept, c->in[0]) : NULL;
  nn_release(kept);
  return gin[0] ? 0 : -1;
}

const nn_op nn_op_masked_fill = {.name = "masked_fill",
                                 .nin = 2,
                                 .forward = masked_fill_forward,
                                 .vjp = masked_fill_vjp,
                                 .jvp = linear_jvp};

nn_tensor *nn_masked_fill(nn_tensor *x, nn_tensor *mask, double v) {
  nn_attr a = {.f = {v}};
  return nn_call(&nn_op_masked_fill, (nn_tensor *[]){x, mask}, &a);
}

/* ======== one_hot ======== */

/* The number of classes when none is given: the largest index plus one. */
static int64_t count_classes(const nn_tensor *idx) {
  int64_t n = nn_numel(idx), top = -1;
  if (n == 0) return nn_errc("cannot infer the number of classes of an empty tensor");
  const int64_t *v = (const int64_t *)nn_data(idx);
  for (int64_t i = 0; i < n; i++) top = v[i] > top ? v[i] : top;
  return top + 1;
}

static nn_tensor *one_hot_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                                  nn_tensor *out) {
  (void)op, (void)out;
  nn_tensor *idx = in[0];
  if (check_index_dtype(idx) < 0) return NULL;
  if (idx->ndim >= NN_MAXDIM)
    return nn_err("one_hot adds a dimension to %s, beyond the %d supported", nn_shape_str(idx),
                  NN_MAXDIM);
  nn_tensor *ic = nn_contiguous(idx), *r = NULL;
  int64_t classes = a->i[0], bad;
  if (ic && classes < 0) classes = count_classes(ic);
  if (!ic || classes < 0) return release_all(NULL, 1, &ic);
  if (find_bad_index(ic, classes, &bad)) {
    nn_err("class %lld is out of range for %lld classes", nn_one_based(bad), (long long)classes);
    return release_all(NULL, 1, &ic);
  }
  int64_t shape[NN_MAXDIM];
  memcpy(shape, idx->shape, idx->ndim * sizeof *shape);
  shape[idx->ndim] = classes;
  r = nn_zeros(NN_I64, idx->ndim + 1, shape);
  if (r) {
    const int64_t *v = (const int64_t *)nn_data(ic);
    int64_t *o = (int64_t *)nn_data(r), n = nn_numel(ic);
    for (int64_t i = 0; i < n; i++) o[i * classes + v[i]] = 1;
  }
  return release_all(r, 1, &ic);
}

const nn_op nn_op_one_hot = {.name = "one_hot", .nin = 1, .forward = one_hot_forward};

nn_tensor *nn_one_hot(nn_tensor *idx, int64_t n) {
  nn_attr a = {.i = {n}, .ni = 1};
  return nn_call(&nn_op_one_hot, &idx, &a);
}

/* ======== cat and stack ======== */

/* PyTorch's legacy rule: a 1-D empty tensor joins anything, and contributes nothing. */
static bool skipped(const nn_tensor *x, int ndim) {
  return x->ndim == 1 && x->shape[0] == 0 && ndim != 1;
}

/* The shape of cat(xs, dim) in shape, or -1 with a message naming the tensors (1-based). */
static int cat_shape(nn_tensor *const *xs, int n, int dim, int *ndim, int64_t *shape) {
  int ref = 0;
  while (ref < n - 1 && xs[ref]->ndim == 1 && xs[ref]->shape[0] == 0) ref++;
  const nn_tensor *r = xs[ref];
  if (r->ndim == 0) return nn_errc("tensor %d is 0-dimensional and cannot be joined", ref + 1);
  if (check_dim(r, dim) < 0) return -1;
  *ndim = r->ndim;
  memcpy(shape, r->shape, sizeof r->shape);
  shape[dim] = 0;
  for (int k = 0; k < n; k++) {
    const nn_tensor *x = xs[k];
    if (skipped(x, r->ndim)) continue;
    if (x->ndim != r->ndim)
      return nn_errc("tensor %d has shape %s and tensor %d has shape %s: dimensions differ",
                     ref + 1, nn_shape_str(r), k + 1, nn_shape_str(x));
    for (int d = 0; d < x->ndim; d++)
      if (d != dim && x->shape[d] != r->shape[d])
        return nn_errc("shapes %s and %s of tensors %d and %d do not match in dimension %d "
                       "(%lld ~= %lld)",
                       nn_shape_str(r), nn_shape_str(x), ref + 1, k + 1, d + 1,
                       (long long)r->shape[d], (long long)x->shape[d]);
    shape[dim] += x->shape[dim];
  }
  return 0;
}

/* The shape of stack(xs, dim): every tensor alike, one new dimension of size n at dim. */
static int stack_shape(nn_tensor *const *xs, int n, int dim, int *ndim, int64_t *shape) {
  const nn_tensor *r = xs[0];
  for (int k = 1; k < n; k++)
    if (!nn_same_shape(xs[k], r))
      return nn_errc("tensors 1 and %d have shapes %s and %s: stack needs equal shapes", k + 1,
                     nn_shape_str(r), nn_shape_str(xs[k]));
  if (r->ndim >= NN_MAXDIM)
    return nn_errc("stacking %s adds a dimension beyond the %d supported", nn_shape_str(r),
                   NN_MAXDIM);
  if (dim < 0 || dim > r->ndim)
    return nn_errc("dimension %d is out of range for stacking tensors of %d dimensions", dim + 1,
                   r->ndim);
  *ndim = r->ndim + 1;
  memcpy(shape, r->shape, dim * sizeof *shape);
  shape[dim] = n;
  memcpy(shape + dim + 1, r->shape + dim, (r->ndim - dim) * sizeof *shape);
  return 0;
}

/* Where tensor k goes in the result: a narrow (cat) or a select (stack) of it. */
static nn_tensor *join_place(nn_tensor *r, int dim, bool stacks, int64_t k, int64_t *offset,
                             const nn_tensor *x) {
  if (stacks) return nn_select(r, dim, k);
  nn_tensor *v = nn_narrow(r, dim, *offset, x->shape[dim]);
  *offset += x->shape[dim];
  return v;
}

/* cat or stack (op->kern says which); the count of inputs is in i[NN_ATTR_NIN] */
static nn_tensor *join_forward(const nn_op *op, nn_tensor *const *xs, const nn_attr *a,
                               nn_tensor *out) {
  (void)out;
  bool stacks = *(const bool *)op->kern;
  int n = (int)a->i[NN_ATTR_NIN], dim = (int)a->i[0], ndim;
  int64_t shape[NN_MAXDIM], offset = 0;
  if (n < 1) return nn_err("expected a non-empty list of tensors");
  if ((stacks ? stack_shape : cat_shape)(xs, n, dim, &ndim, shape) < 0) return NULL;
  nn_dtype dt = xs[0]->dtype;
  for (int k = 1; k < n; k++) dt = nn_promote(dt, xs[k]->dtype);
  nn_tensor *r = nn_empty(dt, ndim, shape);
  for (int k = 0; r && k < n; k++) {
    if (!stacks && skipped(xs[k], ndim)) continue;
    nn_tensor *place = join_place(r, dim, stacks, k, &offset, xs[k]);
    if (!place || nn_copy_(place, xs[k]) < 0) {
      nn_release(r);
      r = NULL;
    }
    nn_release(place);
  }
  return r;
}

/* Each input's part of g: the narrow (cat) or select (stack) where it was copied to (views
   of g, disjoint, so that autograd may keep each as the input's gradient). */
static int join_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  bool stacks = *(const bool *)c->op->kern, alone = nn_grad_alone(gout);
  int dim = (int)c->attr.i[0];
  int64_t offset = 0;
  for (int k = 0; k < c->nin; k++) {
    nn_tensor *x = c->in[k], *place;
    if (!stacks && skipped(x, gout->ndim))
      place = need[k] ? nn_zeros(x->dtype, x->ndim, x->shape) : NULL;
    else
      place = join_place(gout, dim, stacks, k, &offset, x);
    if (!need[k]) {
      nn_release(place);
      continue;
    }
    if (!(gin[k] = nn_grad_unshare(in_dtype_of(place, x), gout, alone))) return -1;
  }
  return 0;
}

static const bool cat_kern = false, stack_kern = true;
const nn_op nn_op_cat = {.name = "cat",
                         .nin = -1,
                         .forward = join_forward,
                         .vjp = join_vjp,
                         .jvp = linear_jvp,
                         .kern = &cat_kern};
const nn_op nn_op_stack = {.name = "stack",
                           .nin = -1,
                           .forward = join_forward,
                           .vjp = join_vjp,
                           .jvp = linear_jvp,
                           .kern = &stack_kern};

nn_tensor *nn_cat(nn_tensor *const *xs, int n, int dim) {
  nn_attr a = {.i = {dim}, .ni = 1};
  return nn_calln(&nn_op_cat, n, xs, &a);
}

nn_tensor *nn_stack(nn_tensor *const *xs, int n, int dim) {
  nn_attr a = {.i = {dim}, .ni = 1};
  return nn_calln(&nn_op_stack, n, xs, &a);
}
