/*
** nn/tensor.h: the one tensor type of relua's core.
**
** A tensor is a view (shape, strides, offset, dtype) of a refcounted storage. Views share
** storage; nothing is copied unless an op needs contiguous memory. Dimensions and indices
** are 0-based here; the Lua binding converts from the user's 1-based, negative-from-the-end
** indices. Functions that make a tensor return a new reference (release it with
** nn_release) or NULL with a message in nn_errmsg(). The core never includes lua.h.
*/
#ifndef NN_TENSOR_H
#define NN_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nn/error.h"

enum { NN_MAXDIM = 8 };

typedef enum nn_dtype { NN_F32, NN_F64, NN_I64, NN_U8, NN_NDTYPES } nn_dtype;

typedef struct nn_storage {
  void *data;
  size_t nbytes;
  int refs;
  uint32_t version; /* bumped by every in-place write: backward checks what it saved */
} nn_storage;

typedef struct nn_node nn_node; /* an autograd graph node (nn/autograd.c) */

typedef struct nn_tensor {
  nn_storage *storage;
  int64_t offset; /* in elements */
  int64_t shape[NN_MAXDIM];
  int64_t stride[NN_MAXDIM]; /* in elements; 0 for expanded dims */
  int ndim;
  nn_dtype dtype;
  int refs;
  /* autograd */
  bool requires_grad;
  struct nn_tensor *grad;    /* accumulated by backward (leaves) */
  nn_node *grad_fn;          /* the node that made this tensor (non-leaves) */
  struct nn_tensor *tangent; /* forward-mode AD: the tangent carried along (nn.jvp) */
  int hooks;                 /* the binding's handle for gradient hooks (0: none) */
  int out_index;             /* which output of grad_fn this tensor is (0 for most ops) */
} nn_tensor;

/* dtypes */
static inline size_t nn_dtype_size(nn_dtype dt) {
  return dt == NN_U8 ? 1 : dt == NN_F32 ? 4 : 8;
}
static inline bool nn_dtype_is_float(nn_dtype dt) {
  return dt == NN_F32 || dt == NN_F64;
}
const char *nn_dtype_name(nn_dtype dt); /* "f32", "f64", "i64", "u8" */
int nn_dtype_parse(const char *name);   /* -1 when unknown */
nn_dtype nn_promote(nn_dtype a, nn_dtype b);

/* lifetime */
nn_tensor *nn_retain(nn_tensor *t);
void nn_release(nn_tensor *t); /* NULL is fine */
int64_t nn_live_tensors(void); /* tensors made and not yet released (views included) */

/* creation: shape is ndim sizes, each >= 0 */
nn_tensor *nn_empty(nn_dtype dt, int ndim, const int64_t *shape);
nn_tensor *nn_zeros(nn_dtype dt, int ndim, const int64_t *shape);
nn_tensor *nn_full(nn_dtype dt, int ndim, const int64_t *shape, double v);
nn_tensor *nn_scalar(nn_dtype dt, double v); /* 0-dim */
nn_tensor *nn_empty_like(const nn_tensor *t);
nn_tensor *nn_alias(nn_tensor *t); /* a new view of the same memory, no autograd state */

/* facts (inline: every op asks them of every operand) */
static inline int64_t nn_numel(const nn_tensor *t) {
  int64_t n = 1;
  for (int d = 0; d < t->ndim; d++) n *= t->shape[d];
  return n;
}
static inline bool nn_is_contiguous(const nn_tensor *t) {
  int64_t s = 1;
  for (int d = t->ndim - 1; d >= 0; d--) {
    if (t->shape[d] != 1 && t->stride[d] != s) return false;
    s *= t->shape[d];
  }
  return true;
}
static inline bool nn_same_shape(const nn_tensor *a, const nn_tensor *b) {
  if (a->ndim != b->ndim) return false;
  for (int d = 0; d < a->ndim; d++)
    if (a->shape[d] != b->shape[d]) return false;
  return true;
}
static inline char *nn_data(const nn_tensor *t) {
  return (char *)t->storage->data + t->offset * (int64_t)nn_dtype_size(t->dtype);
}
/* "{2,3}" for messages; a ring of buffers, valid for a few calls */
const char *nn_shape_str(const nn_tensor *t);
const char *nn_dims_str(int ndim, const int64_t *shape);

/* whether v can be stored in dtype dt without overflow (NaN and infinities only in floats):
   -1 with a message when not, as PyTorch refuses torch.full((2,), 300, dtype=uint8) */
int nn_check_fits(nn_dtype dt, double v);

/* element access by pointer (any dtype) */
double nn_load(const void *p, nn_dtype dt);
int64_t nn_load_i64(const void *p, nn_dtype dt);
void nn_store(void *p, nn_dtype dt, double v);
/* the element at a 0-based multi-index */
void *nn_at(const nn_tensor *t, const int64_t *idx);

/* views: share storage (dims are 0-based, already checked by callers or here) */
nn_tensor *nn_view(nn_tensor *t, int ndim, const int64_t *shape);    /* error if impossible */
nn_tensor *nn_reshape(nn_tensor *t, int ndim, const int64_t *shape); /* copies if needed */
nn_tensor *nn_transpose(nn_tensor *t, int d1, int d2);
nn_tensor *nn_permute(nn_tensor *t, const int *perm);
nn_tensor *nn_narrow(nn_tensor *t, int d, int64_t start, int64_t len);
nn_tensor *nn_select(nn_tensor *t, int d, int64_t i);
nn_tensor *nn_squeeze(nn_tensor *t, int d); /* d < 0: every size-1 dim */
nn_tensor *nn_unsqueeze(nn_tensor *t, int d);
nn_tensor *nn_expand(nn_tensor *t, int ndim, const int64_t *shape);
nn_tensor *nn_contiguous(nn_tensor *t); /* t itself (retained) when already contiguous */

/* in-place writes: nn_check_writable refuses a destination whose elements share memory
   (an expanded view), -1 with a message; nn_partial_overlap tells whether a and b share some
   memory without being the same view (a copy between them must go through a temporary);
   nn_bump_version marks a write, for the backward's check of saved tensors */
int nn_check_writable(const nn_tensor *t);
bool nn_partial_overlap(const nn_tensor *a, const nn_tensor *b);
static inline void nn_bump_version(nn_tensor *t) {
  t->storage->version++;
}

/* copies and conversions */
nn_tensor *nn_clone(const nn_tensor *t);
nn_tensor *nn_to(nn_tensor *t, nn_dtype dt);        /* t itself (retained) when already dt */
int nn_copy_(nn_tensor *dst, const nn_tensor *src); /* src broadcast to dst; -1 on error */
void nn_fill_(nn_tensor *t, double v);

/* shapes: broadcast two shapes (NumPy rules) into out; -1 on mismatch */
int nn_broadcast_shape(int na, const int64_t *a, int nb, const int64_t *b, int *nout, int64_t *out);

#endif
