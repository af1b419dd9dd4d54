/*
** nn/tensor.c: storage, creation, views and copies.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn/alloc.h"
#include "nn/iter.h"
#include "nn/tensor.h"

/* The largest buffer we agree to allocate: beyond it a request is surely a mistake, and
   the user gets an error instead of the kernel's OOM killer. */
static const int64_t MAX_BYTES = (int64_t)1 << 40;

static const char *const dtype_names[NN_NDTYPES] = {
    [NN_F32] = "f32", [NN_F64] = "f64", [NN_I64] = "i64", [NN_U8] = "u8"};

const char *nn_dtype_name(nn_dtype dt) {
  return dtype_names[dt];
}

int nn_dtype_parse(const char *name) {
  for (int d = 0; d < NN_NDTYPES; d++)
    if (strcmp(name, dtype_names[d]) == 0) return d;
  return -1;
}

/* f64 beats f32 beats i64 beats u8: floats win over integers, wider over narrower. */
nn_dtype nn_promote(nn_dtype a, nn_dtype b) {
  static const int rank[NN_NDTYPES] = {[NN_U8] = 0, [NN_I64] = 1, [NN_F32] = 2, [NN_F64] = 3};
  return rank[a] >= rank[b] ? a : b;
}

/* ---- lifetime ---- */

/* A tensor made by nn_empty is one allocation: its header, its storage and, when small, its
   data. A small op then costs one allocation instead of three, and the three sit in the
   same cache lines. Views of it hold the storage, so the block lives until both the tensor
   and the storage are released: the tensor releases its storage like any other, and the
   storage frees the block when its last reference goes. */
enum { INLINE_DATA_MAX = 256, DATA_ALIGN = 16 }; /* 16: what malloc gives small blocks */

typedef struct tensor_block {
  nn_tensor t;
  nn_storage s;
  _Alignas(DATA_ALIGN) char data[]; /* when nbytes <= INLINE_DATA_MAX */
} tensor_block;

static size_t block_size(size_t nbytes) {
  return sizeof(tensor_block) + (nbytes <= INLINE_DATA_MAX ? nbytes : 0);
}

static tensor_block *block_of(nn_storage *s) {
  return (tensor_block *)((char *)s - offsetof(tensor_block, s));
}

static void storage_release(nn_storage *s) {
  if (--s->refs > 0) return;
  if (s->nbytes > INLINE_DATA_MAX) nn_free(s->data, s->nbytes);
  nn_small_free(block_of(s), block_size(s->nbytes));
}

static int64_t live_tensors; /* headers made and not yet released */

int64_t nn_live_tensors(void) {
  return live_tensors;
}

static void header_init(nn_tensor *t, nn_storage *s, nn_dtype dt, int64_t offset) {
  live_tensors++;
  memset(t, 0, sizeof *t);
  s->refs++;
  t->storage = s;
  t->dtype = dt;
  t->offset = offset;
  t->refs = 1;
}

/* A tensor with its own storage of nbytes, shape unset. */
static nn_tensor *tensor_new(nn_dtype dt, size_t nbytes) {
  tensor_block *b = nn_small_alloc(block_size(nbytes));
  if (!b) return NULL;
  b->s.nbytes = nbytes;
  b->s.refs = 0;
  b->s.version = 0;
  b->s.data = nbytes <= INLINE_DATA_MAX ? b->data : nn_alloc(nbytes);
  if (!b->s.data) {
    nn_small_free(b, block_size(nbytes));
    return NULL;
  }
  header_init(&b->t, &b->s, dt, 0);
  return &b->t;
}

/* A second header over storage s (which it takes a reference to), with no shape yet. */
static nn_tensor *header(nn_storage *s, nn_dtype dt, int64_t offset) {
  nn_tensor *t = nn_small_alloc(sizeof *t);
  if (!t) return nn_err("out of memory");
  header_init(t, s, dt, offset);
  return t;
}

nn_tensor *nn_retain(nn_tensor *t) {
  t->refs++;
  return t;
}

/* Freeing the autograd state lives in autograd.c; a weak hook keeps the floors apart. */
void nn_release_grad_state(nn_tensor *t) __attribute__((weak));
void nn_release_grad_state(nn_tensor *t) {
  nn_release(t->grad);
  nn_release(t->tangent);
}

void nn_release(nn_tensor *t) {
  if (!t || --t->refs > 0) return;
  if (t->grad || t->grad_fn || t->tangent || t->hooks) nn_release_grad_state(t);
  live_tensors--;
  nn_storage *s = t->storage;
  bool home = t == &block_of(s)->t; /* the header is part of the storage's block */
  storage_release(s);
  if (!home) nn_small_free(t, sizeof *t);
}

/* ---- shapes ---- */

static void set_contiguous_strides(nn_tensor *t) {
  int64_t s = 1;
  for (int d = t->ndim - 1; d >= 0; d--) {
    t->stride[d] = s;
    s *= t->shape[d];
  }
}

const char *nn_dims_str(int ndim, const int64_t *shape) {
  static _Thread_local char ring[4][NN_MAXDIM * 21 + 3];
  static _Thread_local int next;
  char *buf = ring[next++ % 4], *p = buf;
  *p++ = '{';
  for (int d = 0; d < ndim; d++) p += sprintf(p, d ? ",%lld" : "%lld", (long long)shape[d]);
  *p++ = '}';
  *p = 0;
  return buf;
}

const char *nn_shape_str(const nn_tensor *t) {
  return nn_dims_str(t->ndim, t->shape);
}

/* Checks sizes and returns the element count, or -1 with a message. */
static int64_t checked_numel(nn_dtype dt, int ndim, const int64_t *shape) {
  if (ndim < 0 || ndim > NN_MAXDIM)
    return nn_errc("%d dimensions (at most %d are supported)", ndim, NN_MAXDIM);
  /* no divisions: this runs for every tensor made */
  int64_t n = 1, nbytes;
  bool too_large = false;
  for (int d = 0; d < ndim; d++) {
    if (shape[d] < 0) return nn_errc("negative size %lld in shape", (long long)shape[d]);
    too_large = too_large || __builtin_mul_overflow(n, shape[d], &n) || n > MAX_BYTES;
  }
  if (too_large || __builtin_mul_overflow(n, (int64_t)nn_dtype_size(dt), &nbytes) ||
      nbytes > MAX_BYTES)
    return nn_errc("shape %s is too large (more than %lld bytes)", nn_dims_str(ndim, shape),
                   (long long)MAX_BYTES);
  return n;
}

nn_tensor *nn_empty(nn_dtype dt, int ndim, const int64_t *shape) {
  int64_t n = checked_numel(dt, ndim, shape);
  if (n < 0) return NULL;
  nn_tensor *t = tensor_new(dt, (size_t)n * nn_dtype_size(dt));
  if (!t)
    return nn_err("out of memory allocating %s of %s", nn_dims_str(ndim, shape), nn_dtype_name(dt));
  t->ndim = ndim;
  for (int d = 0; d < ndim; d++) t->shape[d] = shape[d];
  set_contiguous_strides(t);
  return t;
}

nn_tensor *nn_zeros(nn_dtype dt, int ndim, const int64_t *shape) {
  nn_tensor *t = nn_empty(dt, ndim, shape);
  if (t) memset(t->storage->data, 0, t->storage->nbytes);
  return t;
}

nn_tensor *nn_full(nn_dtype dt, int ndim, const int64_t *shape, double v) {
  nn_tensor *t = nn_empty(dt, ndim, shape);
  if (t) nn_fill_(t, v);
  return t;
}

nn_tensor *nn_scalar(nn_dtype dt, double v) {
  return nn_full(dt, 0, NULL, v);
}

nn_tensor *nn_empty_like(const nn_tensor *t) {
  return nn_empty(t->dtype, t->ndim, t->shape);
}

/* A second header over the same view: what ops return for "no change" views. */
nn_tensor *nn_alias(nn_tensor *t) {
  nn_tensor *v = header(t->storage, t->dtype, t->offset);
  if (!v) return NULL;
  v->ndim = t->ndim;
  memcpy(v->shape, t->shape, sizeof t->shape);
  memcpy(v->stride, t->stride, sizeof t->stride);
  return v;
}

/* ---- elements ---- */

double nn_load(const void *p, nn_dtype dt) {
  switch (dt) {
  case NN_F32: return *(const float *)p;
  case NN_F64: return *(const double *)p;
  case NN_I64: return (double)*(const int64_t *)p;
  default: return *(const uint8_t *)p;
  }
}

int64_t nn_load_i64(const void *p, nn_dtype dt) {
  return dt == NN_I64 ? *(const int64_t *)p : (int64_t)nn_load(p, dt);
}

/* Float to integer conversions truncate toward zero, as C and PyTorch do; values out of
   range saturate instead of being undefined behaviour. */
static int64_t to_i64(double v) {
  if (v != v) return 0;
  if (v >= 9223372036854775807.0) return INT64_MAX;
  if (v <= -9223372036854775808.0) return INT64_MIN;
  return (int64_t)v;
}

void nn_store(void *p, nn_dtype dt, double v) {
  switch (dt) {
  case NN_F32: *(float *)p = (float)v; break;
  case NN_F64: *(double *)p = v; break;
  case NN_I64: *(int64_t *)p = to_i64(v); break;
  default: *(uint8_t *)p = (uint8_t)to_i64(v); break;
  }
}

int nn_check_fits(nn_dtype dt, double v) {
  bool fits = nn_dtype_is_float(dt) ||
              (dt == NN_I64 ? v >= -9223372036854775808.0 && v < 9223372036854775808.0
                            : v >= 0 && v <= 255);
  return fits ? 0
              : nn_errc("value %.17g cannot be converted to %s without overflow", v,
                        nn_dtype_name(dt));
}

void *nn_at(const nn_tensor *t, const int64_t *idx) {
  int64_t off = 0;
  for (int d = 0; d < t->ndim; d++) off += idx[d] * t->stride[d];
  return nn_data(t) + off * (int64_t)nn_dtype_size(t->dtype);
}

/* ---- views ---- */

/* Strides for viewing t as shape, without copying, or false when impossible. Walks the
   old dims in chunks that are contiguous among themselves (as PyTorch's computeStride). */
static bool view_strides(const nn_tensor *t, int ndim, const int64_t *shape, int64_t *stride) {
  int64_t numel = nn_numel(t);
  if (numel == 0) {
    int64_t s = 1;
    for (int d = ndim - 1; d >= 0; d--) stride[d] = s, s *= shape[d] ? shape[d] : 1;
    return true;
  }
  int view_d = ndim - 1;
  int64_t chunk = 1, base_stride = t->ndim ? t->stride[t->ndim - 1] : 1;
  for (int d = t->ndim - 1; d >= 0; d--) {
    chunk *= t->shape[d];
    if (d == 0 || (t->shape[d - 1] != 1 && t->stride[d - 1] != t->stride[d] * t->shape[d])) {
      int64_t size = 1;
      while (view_d >= 0 && (size < chunk || shape[view_d] == 1)) {
        stride[view_d] = base_stride * size;
        size *= shape[view_d];
        view_d--;
      }
      if (size != chunk) return false;
      if (d > 0) {
        chunk = 1;
        base_stride = t->stride[d - 1];
      }
    }
  }
  while (view_d >= 0) stride[view_d--] = 1; /* trailing size-1 dims */
  return true;
}

nn_tensor *nn_view(nn_tensor *t, int ndim, const int64_t *shape) {
  int64_t n = checked_numel(t->dtype, ndim, shape);
  if (n < 0) return NULL;
  if (n != nn_numel(t))
    return nn_err("shape %s is invalid for %lld elements", nn_dims_str(ndim, shape),
                  (long long)nn_numel(t));
  int64_t stride[NN_MAXDIM];
  if (!view_strides(t, ndim, shape, stride))
    return nn_err("cannot view %s with strides as %s without a copy (use reshape)", nn_shape_str(t),
                  nn_dims_str(ndim, shape));
  nn_tensor *v = nn_alias(t);
  if (!v) return NULL;
  v->ndim = ndim;
  if (ndim) memcpy(v->shape, shape, ndim * sizeof *shape);
  if (ndim) memcpy(v->stride, stride, ndim * sizeof *stride);
  return v;
}

nn_tensor *nn_reshape(nn_tensor *t, int ndim, const int64_t *shape) {
  int64_t stride[NN_MAXDIM];
  int64_t n = checked_numel(t->dtype, ndim, shape);
  if (n < 0) return NULL;
  if (n == nn_numel(t) && !view_strides(t, ndim, shape, stride)) {
    nn_tensor *c = nn_clone(t);
    if (!c) return NULL;
    nn_tensor *v = nn_view(c, ndim, shape);
    nn_release(c);
    return v;
  }
  return nn_view(t, ndim, shape);
}

nn_tensor *nn_transpose(nn_tensor *t, int d1, int d2) {
  nn_tensor *v = nn_alias(t);
  if (!v) return NULL;
  int64_t s = v->shape[d1], st = v->stride[d1];
  v->shape[d1] = v->shape[d2], v->stride[d1] = v->stride[d2];
  v->shape[d2] = s, v->stride[d2] = st;
  return v;
}

nn_tensor *nn_permute(nn_tensor *t, const int *perm) {
  nn_tensor *v = nn_alias(t);
  if (!v) return NULL;
  for (int d = 0; d < t->ndim; d++) {
    v->shape[d] = t->shape[perm[d]];
    v->stride[d] = t->stride[perm[d]];
  }
  return v;
}

nn_tensor *nn_narrow(nn_tensor *t, int d, int64_t start, int64_t len) {
  /* no start + len: it overflows for len near 2^63 and would let the view through */
  if (start < 0 || len < 0 || start > t->shape[d] || len > t->shape[d] - start)
    return nn_err("start %lld and length %lld are out of bounds for dimension %d of size %lld",
                  (long long)start + 1, (long long)len, d + 1, (long long)t->shape[d]);
  nn_tensor *v = nn_alias(t);
  if (!v) return NULL;
  v->offset += start * t->stride[d];
  v->shape[d] = len;
  return v;
}

nn_tensor *nn_select(nn_tensor *t, int d, int64_t i) {
  if (i < 0 || i >= t->shape[d])
    return nn_err("index %lld is out of range for dimension %d of size %lld", (long long)i + 1,
                  d + 1, (long long)t->shape[d]);
  nn_tensor *v = nn_alias(t);
  if (!v) return NULL;
  v->offset += i * t->stride[d];
  memmove(v->shape + d, v->shape + d + 1, (v->ndim - d - 1) * sizeof *v->shape);
  memmove(v->stride + d, v->stride + d + 1, (v->ndim - d - 1) * sizeof *v->stride);
  v->ndim--;
  return v;
}

nn_tensor *nn_squeeze(nn_tensor *t, int d) {
  nn_tensor *v = nn_alias(t);
  if (!v) return NULL;
  int n = 0;
  for (int k = 0; k < t->ndim; k++) {
    if (t->shape[k] == 1 && (d < 0 || d == k)) continue;
    v->shape[n] = t->shape[k];
    v->stride[n++] = t->stride[k];
  }
  v->ndim = n;
  return v;
}

nn_tensor *nn_unsqueeze(nn_tensor *t, int d) {
  if (t->ndim >= NN_MAXDIM) return nn_err("at most %d dimensions are supported", NN_MAXDIM);
  nn_tensor *v = nn_alias(t);
  if (!v) return NULL;
  memmove(v->shape + d + 1, v->shape + d, (t->ndim - d) * sizeof *v->shape);
  memmove(v->stride + d + 1, v->stride + d, (t->ndim - d) * sizeof *v->stride);
  v->shape[d] = 1;
  v->stride[d] = d < t->ndim ? t->shape[d] * t->stride[d] : 1;
  v->ndim++;
  return v;
}

nn_tensor *nn_expand(nn_tensor *t, int ndim, const int64_t *shape) {
  if (ndim < t->ndim || ndim > NN_MAXDIM)
    return nn_err("cannot expand %s to %s", nn_shape_str(t), nn_dims_str(ndim, shape));
  nn_tensor *v = nn_alias(t);
  if (!v) return NULL;
  int lead = ndim - t->ndim;
  for (int d = ndim - 1; d >= 0; d--) {
    int64_t size = d >= lead ? t->shape[d - lead] : 1, st = d >= lead ? t->stride[d - lead] : 0;
    int64_t want = shape[d] == -1 && d >= lead ? size : shape[d];
    if (size != want) {
      if (size != 1 || want < 0) {
        nn_release(v);
        return nn_err("cannot expand %s to %s (dimension %d: %lld vs %lld)", nn_shape_str(t),
                      nn_dims_str(ndim, shape), d + 1, (long long)size, (long long)want);
      }
      st = 0;
    }
    v->shape[d] = want;
    v->stride[d] = st;
  }
  v->ndim = ndim;
  /* a view may hold more elements than memory does, but their count must fit in 64 bits */
  int64_t n = 1;
  for (int d = 0; d < ndim; d++)
    if (__builtin_mul_overflow(n, v->shape[d], &n)) {
      nn_release(v);
      return nn_err("cannot expand %s to %s: more than 2^63 elements", nn_shape_str(t),
                    nn_dims_str(ndim, shape));
    }
  return v;
}

nn_tensor *nn_contiguous(nn_tensor *t) {
  return nn_is_contiguous(t) ? nn_retain(t) : nn_clone(t);
}

/* ---- in-place writes ---- */

int nn_check_writable(const nn_tensor *t) {
  for (int d = 0; d < t->ndim; d++)
    if (t->shape[d] == 0) return 0; /* nothing is written */
  for (int d = 0; d < t->ndim; d++)
    if (t->stride[d] == 0 && t->shape[d] > 1)
      return nn_errc("more than one element of the written-to tensor (an expanded view of "
                     "shape %s) refers to the same memory: clone() it first",
                     nn_shape_str(t));
  return 0;
}

/* The first and one past the last element a view touches, in its storage (bytes). */
static void extent(const nn_tensor *t, int64_t *lo, int64_t *hi) {
  int64_t a = t->offset, b = t->offset;
  for (int d = 0; d < t->ndim; d++) {
    int64_t span = (t->shape[d] - 1) * t->stride[d];
    if (span < 0)
      a += span;
    else
      b += span;
  }
  int64_t size = (int64_t)nn_dtype_size(t->dtype);
  *lo = a * size, *hi = (b + 1) * size;
}

static bool same_view(const nn_tensor *a, const nn_tensor *b) {
  if (a->offset != b->offset || a->dtype != b->dtype || !nn_same_shape(a, b)) return false;
  for (int d = 0; d < a->ndim; d++)
    if (a->shape[d] > 1 && a->stride[d] != b->stride[d]) return false;
  return true;
}

bool nn_partial_overlap(const nn_tensor *a, const nn_tensor *b) {
  if (a == b || a->storage != b->storage || nn_numel(a) == 0 || nn_numel(b) == 0 || same_view(a, b))
    return false;
  int64_t alo, ahi, blo, bhi;
  extent(a, &alo, &ahi);
  extent(b, &blo, &bhi);
  return alo < bhi && blo < ahi;
}

/* ---- copies ---- */

/* A new contiguous tensor of dtype dt holding t's values. */
static nn_tensor *copy_as(const nn_tensor *t, nn_dtype dt) {
  nn_tensor *c = nn_empty(dt, t->ndim, t->shape);
  if (c && nn_copy_(c, t) < 0) {
    nn_release(c);
    return NULL;
  }
  return c;
}

nn_tensor *nn_clone(const nn_tensor *t) {
  return copy_as(t, t->dtype);
}

nn_tensor *nn_to(nn_tensor *t, nn_dtype dt) {
  return t->dtype == dt ? nn_retain(t) : copy_as(t, dt);
}

/* Conversions that C does exactly and safely get a typed loop (dense: vectorized); float to
   integer goes through nn_store, which saturates instead of being undefined. */
#define CONVERT_ROW(TD, TS)                                                                        \
  static void convert_##TD##_##TS(char **p, const int64_t *step, int64_t n, void *ctx) {           \
    (void)ctx;                                                                                     \
    char *d = p[0], *s = p[1];                                                                     \
    if (step[0] == sizeof(TD) && step[1] == sizeof(TS))                                            \
      for (int64_t i = 0; i < n; i++) ((TD *)d)[i] = (TD)((TS *)s)[i];                             \
    else                                                                                           \
      for (int64_t i = 0; i < n; i++) *(TD *)(d + i * step[0]) = (TD) * (TS *)(s + i * step[1]);   \
  }
CONVERT_ROW(float, double)
CONVERT_ROW(double, float)
CONVERT_ROW(float, int64_t)
CONVERT_ROW(double, int64_t)
CONVERT_ROW(float, uint8_t)
CONVERT_ROW(double, uint8_t)
CONVERT_ROW(int64_t, uint8_t)

typedef struct copy_ctx {
  nn_dtype dst, src;
} copy_ctx;

static void copy_via_double(char **p, const int64_t *step, int64_t n, void *ctx) {
  const copy_ctx *c = ctx;
  for (int64_t i = 0; i < n; i++)
    nn_store(p[0] + i * step[0], c->dst, nn_load(p[1] + i * step[1], c->src));
}

static void copy_bytes(char **p, const int64_t *step, int64_t n, void *ctx) {
  int64_t size = (int64_t)nn_dtype_size(((const copy_ctx *)ctx)->dst);
  if (step[0] == size && step[1] == size)
    memcpy(p[0], p[1], n * size);
  else
    for (int64_t i = 0; i < n; i++) memcpy(p[0] + i * step[0], p[1] + i * step[1], size);
}

static nn_rowfn copy_rowfn(nn_dtype dst, nn_dtype src) {
  static const nn_rowfn convert[NN_NDTYPES][NN_NDTYPES] = {
      [NN_F32] = {[NN_F64] = convert_float_double,
                  [NN_I64] = convert_float_int64_t,
                  [NN_U8] = convert_float_uint8_t},
      [NN_F64] = {[NN_F32] = convert_double_float,
                  [NN_I64] = convert_double_int64_t,
                  [NN_U8] = convert_double_uint8_t},
      [NN_I64] = {[NN_U8] = convert_int64_t_uint8_t},
  };
  if (dst == src) return copy_bytes;
  return convert[dst][src] ? convert[dst][src] : copy_via_double;
}

int nn_copy_(nn_tensor *dst, const nn_tensor *src) {
  if (nn_check_writable(dst) < 0) return -1;
  if (nn_partial_overlap(dst, src)) { /* the source would be overwritten while read */
    nn_tensor *tmp = nn_clone(src);
    int rc = tmp ? nn_copy_(dst, tmp) : -1;
    nn_release(tmp);
    return rc;
  }
  copy_ctx c = {dst->dtype, src->dtype};
  nn_iter it;
  if (nn_iter_init(&it, 2, (const nn_tensor *[]){dst, src}) < 0) return -1;
  nn_bump_version(dst);
  nn_iter_run(&it, copy_rowfn(c.dst, c.src), &c);
  return 0;
}

typedef struct {
  size_t size;
  union {
    uint8_t u8;
    uint32_t u32;
    uint64_t u64;
    char bytes[8];
  } v; /* the value, stored once in the tensor's dtype */
} fill_value;

#define FILL_LOOP(T, field)                                                                        \
  if (step[0] == sizeof(T))                                                                        \
    for (int64_t i = 0; i < n; i++) ((T *)p[0])[i] = f->v.field;                                   \
  else                                                                                             \
    for (int64_t i = 0; i < n; i++) *(T *)(p[0] + i * step[0]) = f->v.field;

static void fill_row(char **p, const int64_t *step, int64_t n, void *ctx) {
  const fill_value *f = ctx;
  switch (f->size) {
  case 1: FILL_LOOP(uint8_t, u8) break;
  case 4: FILL_LOOP(uint32_t, u32) break;
  default: FILL_LOOP(uint64_t, u64) break;
  }
}

void nn_fill_(nn_tensor *t, double v) {
  fill_value f = {nn_dtype_size(t->dtype), {0}};
  nn_store(f.v.bytes, t->dtype, v);
  nn_iter it;
  if (nn_iter_init(&it, 1, (const nn_tensor *[]){t}) < 0) return;
  nn_bump_version(t);
  nn_iter_run(&it, fill_row, &f);
}

/* ---- broadcasting ---- */

int nn_broadcast_shape(int na, const int64_t *a, int nb, const int64_t *b, int *nout,
                       int64_t *out) {
  int n = na > nb ? na : nb;
  for (int d = 0; d < n; d++) {
    int64_t x = d < n - na ? 1 : a[d - (n - na)], y = d < n - nb ? 1 : b[d - (n - nb)];
    if (x != y && x != 1 && y != 1)
      return nn_errc("shapes %s and %s cannot be broadcast (dimension %d: %lld vs %lld)",
                     nn_dims_str(na, a), nn_dims_str(nb, b), d + 1, (long long)x, (long long)y);
    out[d] = x == 1 ? y : x;
  }
  *nout = n;
  return 0;
}
