/*
** nn/ops/rearrange.c: ops that move or mask elements: tril and triu (a triangle of the last
** two dims kept, the rest zero), and flip, roll and repeat_interleave along one dim.
**
** All are linear. tril and triu are their own adjoints: the VJP and JVP are the same op on
** the gradient or the tangent. flip, roll and repeat_interleave each pick slices of the
** input along a dim by an index map (output slice j is input slice map[j]), built from the
** attributes: the forward selects by it, the VJP adds the gradient's slices back into
** zeros at the map (repeat_interleave thus sums each group of copies), the JVP is the same
** op on the tangent. Attributes: tril/triu i[0] = k, the diagonal (0 the main one, > 0
** above it); flip i[0] = dim; roll i[0] = dim, i[1] = shift; repeat_interleave i[0] = dim,
** with the counts as a second input (i64, 0-dim or one per slice).
*/
#include <string.h>

#include "nn/ops.h"
#include "nn/ops/along.h"
#include "nn/pool.h"

/* ======== tril and triu ======== */

static nn_tensor *triangle_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                                   nn_tensor *out) {
  nn_tensor *x = in[0];
  bool upper = op->kern != NULL;
  if (out) return nn_err("%s cannot write into an existing tensor", op->name);
  if (x->ndim < 2)
    return nn_err("needs a tensor of at least 2 dimensions, got shape %s", nn_shape_str(x));
  nn_tensor *y = nn_empty(x->dtype, x->ndim, x->shape);
  if (!y || nn_copy_(y, x) < 0) {
    nn_release(y);
    return NULL;
  }
  int64_t rows = x->shape[x->ndim - 2], cols = x->shape[x->ndim - 1], k = a->i[0];
  int64_t mats = rows > 0 && cols > 0 ? nn_numel(x) / (rows * cols) : 0;
  size_t es = nn_dtype_size(x->dtype);
  char *p = nn_data(y);
  for (int64_t m = 0; m < mats; m++)
    for (int64_t r = 0; r < rows; r++) { /* zeros: cols [lo, hi) of the row */
      int64_t lo = upper ? 0 : r + k + 1, hi = upper ? r + k : cols;
      lo = lo < 0 ? 0 : lo > cols ? cols : lo, hi = hi < lo ? lo : hi > cols ? cols : hi;
      memset(p + ((m * rows + r) * cols + lo) * es, 0, (size_t)(hi - lo) * es);
    }
  return y;
}

static int triangle_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  if (!need[0]) return 0;
  gin[0] = nn_call(c->op, &gout, &c->attr);
  return gin[0] ? 0 : -1;
}

static nn_tensor *triangle_jvp(const nn_ctx *c, nn_tensor *const *tin) {
  return tin[0] ? nn_call(c->op, tin, &c->attr) : NULL;
}

static const int upper_mark = 1;
const nn_op nn_op_tril = {.name = "tril",
                          .nin = 1,
                          .forward = triangle_forward,
                          .vjp = triangle_vjp,
                          .jvp = triangle_jvp};
const nn_op nn_op_triu = {.name = "triu",
                          .nin = 1,
                          .forward = triangle_forward,
                          .vjp = triangle_vjp,
                          .jvp = triangle_jvp,
                          .kern = &upper_mark};

nn_tensor *nn_tril(nn_tensor *x, int64_t k) {
  nn_attr a = {.i = {k}, .ni = 1};
  return nn_call(&nn_op_tril, &x, &a);
}

nn_tensor *nn_triu(nn_tensor *x, int64_t k) {
  nn_attr a = {.i = {k}, .ni = 1};
  return nn_call(&nn_op_triu, &x, &a);
}

/* ======== flip, roll, repeat_interleave: slices picked by an index map ======== */

/* the map for input slices of size n (at least 1 dim): fills m (1-D i64, a new reference) */
typedef nn_tensor *(*map_fn)(int64_t n, nn_tensor *const *in, const nn_attr *a);

static nn_tensor *flip_map(int64_t n, nn_tensor *const *in, const nn_attr *a) {
  (void)in, (void)a;
  nn_tensor *m = nn_empty(NN_I64, 1, &n);
  for (int64_t j = 0; m && j < n; j++) ((int64_t *)nn_data(m))[j] = n - 1 - j;
  return m;
}

static nn_tensor *roll_map(int64_t n, nn_tensor *const *in, const nn_attr *a) {
  (void)in;
  nn_tensor *m = nn_empty(NN_I64, 1, &n);
  int64_t s = n ? a->i[1] % n : 0;
  for (int64_t j = 0; m && j < n; j++) ((int64_t *)nn_data(m))[j] = ((j - s) % n + n) % n;
  return m;
}

/* slice j repeated counts[j] times (counts: 0-dim, the same for all, or n of them) */
static nn_tensor *repeat_map(int64_t n, nn_tensor *const *in, const nn_attr *a) {
  (void)a;
  nn_tensor *r = in[1];
  if (r->dtype != NN_I64 && r->dtype != NN_U8)
    return nn_err("repeats must be integers (i64), not %s", nn_dtype_name(r->dtype));
  if (r->ndim > 1 || (r->ndim == 1 && r->shape[0] != n && r->shape[0] != 1))
    return nn_err("repeats has shape %s but the dimension has %lld slices", nn_shape_str(r),
                  (long long)n);
  nn_tensor *rc = nn_contiguous(r);
  if (!rc) return NULL;
  bool each = r->ndim == 1 && r->shape[0] == n;
  size_t es = nn_dtype_size(r->dtype);
  int64_t total = 0;
  for (int64_t j = 0; j < n; j++) {
    int64_t c = nn_load_i64(nn_data(rc) + (each ? j : 0) * es, r->dtype);
    if (c < 0) {
      nn_release(rc);
      return nn_err("repeats must not be negative (got %lld for slice %lld)", (long long)c,
                    (long long)j + 1);
    }
    if (__builtin_add_overflow(total, c, &total)) {
      nn_release(rc);
      return nn_err("repeats add up to more than 2^63");
    }
  }
  nn_tensor *m = nn_empty(NN_I64, 1, &total);
  int64_t *p = m ? (int64_t *)nn_data(m) : NULL;
  for (int64_t j = 0, o = 0; p && j < n; j++)
    for (int64_t c = nn_load_i64(nn_data(rc) + (each ? j : 0) * es, r->dtype); c > 0; c--)
      p[o++] = j;
  nn_release(rc);
  return m;
}

static nn_tensor *map_of(const nn_op *op, nn_tensor *const *in, const nn_attr *a) {
  nn_tensor *x = in[0];
  if (x->ndim == 0) return nn_err("needs a tensor of at least 1 dimension, got shape {}");
  if (along_check_dim(x, a->i[0]) < 0) return NULL;
  return ((const map_fn *)op->kern)[0](x->shape[a->i[0]], in, a);
}

/* y's slice j along the dim = x's slice map[j], for contiguous x and y: a block copy per
   slice, or an element copy (by size, so any dtype) when the slices are single elements, in
   a loop without the map when it is a reversal (flip: vector code). The outer blocks
   [lo, hi) go to the threads (at least PICK_GRAIN bytes of y each). */
enum { PICK_GRAIN = 1 << 17 };
typedef struct pick_job {
  const char *x;
  char *y;
  along l;
  int64_t m;
  const int64_t *map;
  size_t es;
  bool reversed; /* map[j] = m - 1 - j */
} pick_job;

#define COPY_ELEMENTS(T)                                                                           \
  for (int64_t o = lo; o < hi; o++)                                                                \
    for (int64_t j = 0; j < m; j++) ((T *)y)[o * m + j] = ((const T *)x)[o * l.n + map[j]];
#define REVERSE_ELEMENTS(T)                                                                        \
  for (int64_t o = lo; o < hi; o++) {                                                              \
    const T *src = (const T *)x + o * l.n + l.n - 1;                                               \
    T *dst = (T *)y + o * m;                                                                       \
    for (int64_t j = 0; j < m; j++) dst[j] = src[-j];                                              \
  }
static void pick_slices(int64_t lo, int64_t hi, void *arg) {
  const pick_job *pj = arg;
  const char *x = pj->x;
  char *y = pj->y;
  along l = pj->l;
  int64_t m = pj->m;
  const int64_t *map = pj->map;
  if (l.inner == 1 && pj->reversed && pj->es == 8) {
    REVERSE_ELEMENTS(uint64_t)
  } else if (l.inner == 1 && pj->reversed && pj->es == 4) {
    REVERSE_ELEMENTS(uint32_t)
  } else if (l.inner == 1 && pj->reversed && pj->es == 1) {
    REVERSE_ELEMENTS(uint8_t)
  } else if (l.inner == 1 && pj->es == 8) {
    COPY_ELEMENTS(uint64_t)
  } else if (l.inner == 1 && pj->es == 4) {
    COPY_ELEMENTS(uint32_t)
  } else if (l.inner == 1 && pj->es == 1) {
    COPY_ELEMENTS(uint8_t)
  } else {
    size_t row = (size_t)l.inner * pj->es;
    for (int64_t o = lo; o < hi; o++)
      for (int64_t j = 0; j < m; j++)
        memcpy(y + ((size_t)(o * m + j)) * row, x + ((size_t)(o * l.n + map[j])) * row, row);
  }
}

static void pick_all(pick_job *j) {
  j->reversed = j->m == j->l.n;
  for (int64_t k = 0; j->reversed && k < j->m; k++) j->reversed = j->map[k] == j->m - 1 - k;
  nn_parallel(j->l.outer, nn_grain(j->m * j->l.inner * (int64_t)j->es, PICK_GRAIN), pick_slices, j);
}

static nn_tensor *reindex_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *a,
                                  nn_tensor *out) {
  if (out) return nn_err("%s cannot write into an existing tensor", op->name);
  nn_tensor *x = in[0], *m = map_of(op, in, a), *xc = m ? nn_contiguous(x) : NULL, *y = NULL;
  int d = (int)a->i[0];
  int64_t shape[NN_MAXDIM];
  memcpy(shape, x->shape, sizeof shape);
  if (xc) shape[d] = m->shape[0];
  if (xc && (y = nn_empty(x->dtype, x->ndim, shape)))
    pick_all(&(pick_job){.x = nn_data(xc),
                         .y = nn_data(y),
                         .l = along_dim(x, d),
                         .m = m->shape[0],
                         .map = (const int64_t *)nn_data(m),
                         .es = nn_dtype_size(x->dtype)});
  nn_release(m), nn_release(xc);
  return y;
}

static int reindex_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  if (!need[0]) return 0;
  nn_tensor *x = c->in[0], *m = map_of(c->op, c->in, &c->attr);
  nn_tensor *z = m ? nn_zeros(x->dtype, x->ndim, x->shape) : NULL;
  gin[0] = z ? nn_index_add(z, (int)c->attr.i[0], m, gout) : NULL;
  nn_release(m), nn_release(z);
  return gin[0] ? 0 : -1;
}

static nn_tensor *reindex_jvp(const nn_ctx *c, nn_tensor *const *tin) {
  if (!tin[0]) return NULL;
  nn_tensor *in[2] = {tin[0], c->nin > 1 ? c->in[1] : NULL};
  return nn_calln(c->op, c->nin, in, &c->attr);
}

#define REINDEX_OP(name_, nin_, map)                                                               \
  static const map_fn name_##_kern = map;                                                          \
  const nn_op nn_op_##name_ = {.name = #name_,                                                     \
                               .nin = nin_,                                                        \
                               .forward = reindex_forward,                                         \
                               .vjp = reindex_vjp,                                                 \
                               .jvp = reindex_jvp,                                                 \
                               .kern = &name_##_kern};
REINDEX_OP(flip, 1, flip_map)
REINDEX_OP(roll, 1, roll_map)
REINDEX_OP(repeat_interleave, 2, repeat_map)

nn_tensor *nn_flip(nn_tensor *x, int dim) {
  nn_attr a = {.i = {dim}, .ni = 1};
  return nn_call(&nn_op_flip, &x, &a);
}

nn_tensor *nn_roll(nn_tensor *x, int64_t shift, int dim) {
  nn_attr a = {.i = {dim, shift}, .ni = 2};
  return nn_call(&nn_op_roll, &x, &a);
}

nn_tensor *nn_repeat_interleave(nn_tensor *x, nn_tensor *repeats, int dim) {
  nn_attr a = {.i = {dim}, .ni = 1};
  return nn_call(&nn_op_repeat_interleave, (nn_tensor *[]){x, repeats}, &a);
}
