/*
** nn/ops/linalg.c: matrix products: matmul (PyTorch's rules), mm, bmm and outer.
**
** All four are one forward: turn the operands into stacks of matrices (a 1-D operand
** becomes a 1-row or 1-column matrix, as a view), broadcast the batch dims (stride 0, no
** copy), and run one GEMM per batch into a dense result. f32 and f64 go to OpenBLAS, which
** reads a strided matrix in place when either of its dims has unit stride (as stored, or
** transposed); only other layouts are copied, once for the whole operand, never per batch.
** When the right operand is a single matrix and the left one's batch folds into its rows
** (a Linear layer on (batch, time, features)), the whole product is one GEMM. Integers
** multiply in a plain loop, wrapping as PyTorch's do; mixed dtypes promote.
**
** Backward: for C = A B, dA = dC B^T and dB = A^T dC, matmuls of transposed views on the
** operands seen as matrix stacks, summed over the batch dims each operand was broadcast
** along (a weight shared by a batch gets one GEMM over the folded batch); outer's are
** matrix-vector products. Forward mode: dC = dA B + A dB.
*/
#include <string.h>

#include "nn/ops.h"
#include "nn/ops/blas.h"

/* ======== one product C = A B: A is m x k, B is k x n, both strided; C is dense ======== */

typedef struct gemm {
  nn_dtype dt;
  int64_t m, n, k;
  int64_t ars, acs, brs, bcs; /* element strides of A's and B's rows and columns */
  const char *a, *b;
  char *c;
} gemm;

/* f32 and f64; the operands' layouts were made BLAS-readable by the forward */
static void gemm_blas(const gemm *g) {
  bool ta, tb;
  int lda, ldb;
  blas_layout(g->m, g->k, g->ars, g->acs, &ta, &lda);
  blas_layout(g->k, g->n, g->brs, g->bcs, &tb, &ldb);
  blas_gemm(g->dt, ta, tb, (int)g->m, (int)g->n, (int)g->k, g->a, lda, g->b, ldb, 0, g->c);
}

/* Integers: unsigned arithmetic wraps (as PyTorch's integer products do) without the
   undefined behaviour of signed overflow; the conversion back keeps the low bits. */
#define INT_GEMM(D, T)                                                                             \
  static void gemm_##D(const gemm *g) {                                                            \
    const T *a = (const T *)g->a, *b = (const T *)g->b;                                            \
    T *c = (T *)g->c;                                                                              \
    for (int64_t i = 0; i < g->m; i++)                                                             \
      for (int64_t j = 0; j < g->n; j++) {                                                         \
        uint64_t sum = 0;                                                                          \
        for (int64_t p = 0; p < g->k; p++)                                                         \
          sum += (uint64_t)a[i * g->ars + p * g->acs] * (uint64_t)b[p * g->brs + j * g->bcs];      \
        c[i * g->n + j] = (T)sum;                                                                  \
      }                                                                                            \
  }
INT_GEMM(I64, int64_t)
INT_GEMM(U8, uint8_t)

static void (*const gemm_kernels[NN_NDTYPES])(const gemm *) = {
    [NN_F32] = gemm_blas, [NN_F64] = gemm_blas, [NN_I64] = gemm_I64, [NN_U8] = gemm_U8};

/* out[i] = a[i] b[i] for each of the batch indices i of bshape (nb dims, row-major). a and b
   are expanded to that batch (stride 0 where broadcast), so no batch allocates anything. */
static void gemm_batches(nn_tensor *out, const nn_tensor *a, const nn_tensor *b, int nb,
                         const int64_t *bshape) {
  int64_t es = (int64_t)nn_dtype_size(out->dtype), count = 1;
  for (int d = 0; d < nb; d++) count *= bshape[d];
  gemm g = {.dt = out->dtype,
            .m = a->shape[nb],
            .n = b->shape[nb + 1],
            .k = a->shape[nb + 1],
            .ars = a->stride[nb],
            .acs = a->stride[nb + 1],
            .brs = b->stride[nb],
            .bcs = b->stride[nb + 1]};
  int64_t csize = g.m * g.n;
  if (count == 0 || csize == 0) return;
  if (g.k == 0) { /* a sum of nothing: zeros (BLAS would reject the leading dims) */
    memset(nn_data(out), 0, (size_t)(count * csize * es));
    return;
  }
  for (int64_t i = 0; i < count; i++) {
    int64_t rest = i, oa = 0, ob = 0;
    for (int d = nb - 1; d >= 0; d--) {
      int64_t j = rest % bshape[d];
      rest /= bshape[d];
      oa += j * a->stride[d], ob += j * b->stride[d];
    }
    g.a = nn_data(a) + oa * es, g.b = nn_data(b) + ob * es;
    g.c = nn_data(out) + i * csize * es;
    gemm_kernels[g.dt](&g);
  }
}

/* ======== the forward: ranks, shapes, layouts ======== */

/* What each entry requires of its operands' ranks: matmul takes any (>= 1). */
typedef enum product { MATMUL, OUTER, MM, BMM } product;

static int check_ranks(product kind, const nn_tensor *a, const nn_tensor *b) {
  static const char *const need[] = {"tensors of at least 1 dimension", "1-D vectors",
                                     "2-D matrices", "3-D batches of matrices"};
  bool ok =
      kind == MATMUL ? a->ndim >= 1 && b->ndim >= 1 : a->ndim == (int)kind && b->ndim == (int)kind;
  if (!ok)
    return nn_errc("expected %s, got shapes %s and %s", need[kind], nn_shape_str(a),
                   nn_shape_str(b));
  if (kind == BMM && a->shape[0] != b->shape[0])
    return nn_errc("shapes %s and %s do not match (batch %lld ~= %lld)", nn_shape_str(a),
                   nn_shape_str(b), (long long)a->shape[0], (long long)b->shape[0]);
  return 0;
}

/* The operands as stacks of matrices (views): a 1-D a is a row, a 1-D b a column; outer
   multiplies a column by a row. */
static int as_matrices(product kind, nn_tensor *a, nn_tensor *b, nn_tensor **am, nn_tensor **bm) {
  *am = kind == OUTER ? nn_unsqueeze(a, 1) : a->ndim == 1 ? nn_unsqueeze(a, 0) : nn_retain(a);
  *bm = kind == OUTER ? nn_unsqueeze(b, 0) : b->ndim == 1 ? nn_unsqueeze(b, 1) : nn_retain(b);
  if (!*am || !*bm) return -1;
  int64_t ka = (*am)->shape[(*am)->ndim - 1], kb = (*bm)->shape[(*bm)->ndim - 2];
  if (ka != kb)
    return nn_errc("shapes %s and %s do not match (%lld ~= %lld)", nn_shape_str(a), nn_shape_str(b),
                   (long long)ka, (long long)kb);
  return 0;
}

/* The broadcast batch dims of am and bm (all but their last two) into bshape. */
static int batch_shape(const nn_tensor *a, const nn_tensor *b, const nn_tensor *am,
                       const nn_tensor *bm, int *nb, int64_t *bshape) {
  int na = am->ndim - 2, nbb = bm->ndim - 2;
  *nb = na > nbb ? na : nbb;
  for (int d = 0; d < *nb; d++) {
    int64_t x = d < *nb - na ? 1 : am->shape[d - (*nb - na)];
    int64_t y = d < *nb - nbb ? 1 : bm->shape[d - (*nb - nbb)];
    if (x != y && x != 1 && y != 1)
      return nn_errc("shapes %s and %s: batch dimensions do not broadcast (%lld ~= %lld)",
                     nn_shape_str(a), nn_shape_str(b), (long long)x, (long long)y);
    bshape[d] = x == 1 ? y : x;
  }
  return 0;
}

/* *t replaced by its conversion to dt and, for BLAS, by a copy (once, whole) if its
   matrices are unreadable in place. */
static int prepare(nn_tensor **t, nn_dtype dt) {
  nn_tensor *c = nn_to(*t, dt);
  nn_release(*t);
  *t = c;
  if (!c) return -1;
  int nd = c->ndim;
  bool tr;
  int ld;
  if (!nn_dtype_is_float(dt) || blas_layout(c->shape[nd - 2], c->shape[nd - 1], c->stride[nd - 2],
                                            c->stride[nd - 1], &tr, &ld))
    return 0;
  *t = nn_clone(c);
  nn_release(c);
  return *t ? 0 : -1;
}

/* The left operand's batch and rows as one tall matrix (a view), when its strides allow it
   and BLAS can still read it; NULL otherwise (the caller then loops over the batch). */
static nn_tensor *fold_rows(nn_tensor *am) {
  int nd = am->ndim;
  int64_t k = am->shape[nd - 1], rows = k ? nn_numel(am) / k : 0;
  bool tr;
  int ld;
  if (k == 0 || rows > INT_MAX) return NULL;
  nn_tensor *v = nn_view(am, 2, (int64_t[]){rows, k}); /* NULL: no fold, no error */
  if (v && nn_dtype_is_float(v->dtype) &&
      !blas_layout(rows, k, v->stride[0], v->stride[1], &tr, &ld)) {
    nn_release(v);
    return NULL;
  }
  return v;
}

/* BLAS counts in int: refuse matrices it cannot address rather than truncate. */
static int check_blas_sizes(nn_dtype dt, const nn_tensor *a, const nn_tensor *b, int64_t m,
                            int64_t n, int64_t k) {
  if (nn_dtype_is_float(dt) && (m > INT_MAX || n > INT_MAX || k > INT_MAX))
    return nn_errc("shapes %s and %s are too large for BLAS (sizes above %d)", nn_shape_str(a),
                   nn_shape_str(b), INT_MAX);
  return 0;
}

/* The result's shape: the batch, then the rows and columns that were not vectors. */
static int result_shape(product kind, const nn_tensor *a, const nn_tensor *b, int nb,
                        const int64_t *bshape, int64_t m, int64_t n, int64_t *shape) {
  int nd = nb;
  memcpy(shape, bshape, nb * sizeof *shape);
  if (kind == OUTER || a->ndim > 1) shape[nd++] = m;
  if (kind == OUTER || b->ndim > 1) shape[nd++] = n;
  return nd;
}

/* r = am bm over the batch bshape (nb dims): one GEMM when the left batch folds into rows
   and the right operand is one matrix, else one GEMM per batch of the broadcast views. */
static int multiply(nn_tensor *r, nn_tensor *am, nn_tensor *bm, int nb, const int64_t *bshape) {
  nn_tensor *tall = bm->ndim == 2 && am->ndim > 2 ? fold_rows(am) : NULL;
  if (tall) {
    gemm_batches(r, tall, bm, 0, NULL);
    nn_release(tall);
    return 0;
  }
  int64_t ashape[NN_MAXDIM], bfull[NN_MAXDIM];
  memcpy(ashape, bshape, nb * sizeof *bshape);
  memcpy(bfull, bshape, nb * sizeof *bshape);
  memcpy(ashape + nb, am->shape + am->ndim - 2, 2 * sizeof *ashape);
  memcpy(bfull + nb, bm->shape + bm->ndim - 2, 2 * sizeof *bfull);
  nn_tensor *ae = nn_expand(am, nb + 2, ashape), *be = nn_expand(bm, nb + 2, bfull);
  if (ae && be) gemm_batches(r, ae, be, nb, bshape);
  int rc = ae && be ? 0 : -1;
  nn_release(ae), nn_release(be);
  return rc;
}

static nn_tensor *product_forward(const nn_op *op, nn_tensor *const *in, const nn_attr *attr,
                                  nn_tensor *out) {
  (void)attr, (void)out;
  product kind = *(const product *)op->kern;
  nn_tensor *a = in[0], *b = in[1], *am = NULL, *bm = NULL, *r = NULL;
  int nb;
  int64_t bshape[NN_MAXDIM], shape[NN_MAXDIM];
  nn_dtype dt = nn_promote(a->dtype, b->dtype);
  if (check_ranks(kind, a, b) < 0 || as_matrices(kind, a, b, &am, &bm) < 0 ||
      batch_shape(a, b, am, bm, &nb, bshape) < 0 || prepare(&am, dt) < 0 || prepare(&bm, dt) < 0) {
    nn_release(am), nn_release(bm);
    return NULL;
  }
  int64_t m = am->shape[am->ndim - 2], k = am->shape[am->ndim - 1], n = bm->shape[bm->ndim - 1];
  if (check_blas_sizes(dt, a, b, m, n, k) == 0)
    r = nn_empty(dt, result_shape(kind, a, b, nb, bshape, m, n, shape), shape);
  if (r && multiply(r, am, bm, nb, bshape) < 0) {
    nn_release(r);
    r = NULL;
  }
  nn_release(am), nn_release(bm);
  return r;
}

/* ======== derivatives ======== */

/* A stack of matrices with its last two dims swapped (a view). */
static nn_tensor *transposed(nn_tensor *m) {
  return nn_transpose(m, m->ndim - 2, m->ndim - 1);
}

/* dA = dC B^T, for the matrix stacks A, B and dC; batch dims broadcast as in the forward */
static nn_tensor *grad_left(nn_tensor *gm, nn_tensor *bm) {
  nn_tensor *bt = transposed(bm), *r = bt ? nn_matmul(gm, bt) : NULL;
  nn_release(bt);
  return r;
}

/* dB = A^T dC. When B is one matrix and A a stack (a Linear layer's weight), the batch
   folds into the rows: one GEMM instead of one per batch and a sum over them. */
static nn_tensor *grad_right(nn_tensor *am, const nn_tensor *bm, nn_tensor *gm) {
  int nd = am->ndim;
  nn_tensor *a2 = NULL, *g2 = NULL, *at = NULL, *r = NULL;
  if (nd > 2 && bm->ndim == 2) { /* every batch dim of dC is A's */
    int64_t rows = 1;
    for (int d = 0; d < nd - 1; d++) rows *= am->shape[d];
    a2 = nn_reshape(am, 2, (int64_t[]){rows, am->shape[nd - 1]});
    g2 = a2 ? nn_reshape(gm, 2, (int64_t[]){rows, gm->shape[nd - 1]}) : NULL;
  } else {
    a2 = nn_retain(am), g2 = nn_retain(gm);
  }
  if ((at = g2 ? transposed(a2) : NULL)) r = nn_matmul(at, g2);
  nn_release(a2), nn_release(g2), nn_release(at);
  return r;
}

/* g (the gradient of the matrix stack m) summed over the batch dims m was broadcast along,
   then shaped and typed as the operand x that m was made from; consumes g */
static nn_tensor *to_operand(nn_tensor *g, const nn_tensor *m, const nn_tensor *x) {
  nn_tensor *s = g ? nn_sum_to(g, m) : NULL, *r = s ? nn_reshape(s, x->ndim, x->shape) : NULL;
  nn_tensor *typed = r ? nn_to(r, x->dtype) : NULL;
  nn_release(g), nn_release(s), nn_release(r);
  return typed;
}

/* For C = A B: dA = dC B^T and dB = A^T dC, on the operands seen as matrix stacks (1-D ones
   as a row or a column, as the forward does), with dC reshaped to match. */
static int product_vjp(const nn_ctx *c, nn_tensor *gout, const bool *need, nn_tensor **gin) {
  product kind = *(const product *)c->op->kern;
  nn_tensor *a = c->in[0], *b = c->in[1], *am = NULL, *bm = NULL, *gm = NULL;
  int nb;
  int64_t shape[NN_MAXDIM + 2];
  int rc = as_matrices(kind, a, b, &am, &bm);
  if (rc == 0) rc = batch_shape(a, b, am, bm, &nb, shape);
  if (rc == 0) {
    shape[nb] = am->shape[am->ndim - 2], shape[nb + 1] = bm->shape[bm->ndim - 1];
    rc = (gm = nn_reshape(gout, nb + 2, shape)) ? 0 : -1;
  }
  if (rc == 0 && need[0]) rc = (gin[0] = to_operand(grad_left(gm, bm), am, a)) ? 0 : -1;
  if (rc == 0 && need[1]) rc = (gin[1] = to_operand(grad_right(am, bm, gm), bm, b)) ? 0 : -1;
  nn_release(am), nn_release(bm), nn_release(gm);
  return rc;
}

/* dC = dA B + A dB: the product itself, once per operand with a tangent */
static nn_tensor *product_jvp(const nn_ctx *c, nn_tensor *const *tin) {
  nn_tensor *r = NULL;
  for (int k = 0; k < 2; k++) {
    if (!tin[k]) continue;
    nn_tensor *args[2] = {c->in[0], c->in[1]};
    args[k] = tin[k];
    if (!(r = nn_add_term(r, nn_call(c->op, args, NULL)))) return NULL;
  }
  return r;
}

static const product matmul_kind = MATMUL, mm_kind = MM, bmm_kind = BMM, outer_kind = OUTER;
#define PRODUCT_ENTRY(name_)                                                                       \
  const nn_op nn_op_##name_ = {.name = #name_,                                                     \
                               .nin = 2,                                                           \
                               .forward = product_forward,                                         \
                               .vjp = product_vjp,                                                 \
                               .jvp = product_jvp,                                                 \
                               .kern = &name_##_kind};
PRODUCT_ENTRY(matmul)
PRODUCT_ENTRY(mm)
PRODUCT_ENTRY(bmm)
PRODUCT_ENTRY(outer)

nn_tensor *nn_matmul(nn_tensor *a, nn_tensor *b) {
  return nn_call(&nn_op_matmul, (nn_tensor *[]){a, b}, NULL);
}
nn_tensor *nn_mm(nn_tensor *a, nn_tensor *b) {
  return nn_call(&nn_op_mm, (nn_tensor *[]){a, b}, NULL);
}
nn_tensor *nn_bmm(nn_tensor *a, nn_tensor *b) {
  return nn_call(&nn_op_bmm, (nn_tensor *[]){a, b}, NULL);
}
nn_tensor *nn_outer(nn_tensor *u, nn_tensor *v) {
  return nn_call(&nn_op_outer, (nn_tensor *[]){u, v}, NULL);
}
